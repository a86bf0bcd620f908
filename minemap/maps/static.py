"""Static maps for PDF reports: the HTML map's palette, legend, scale bar and north arrow.

The map is drawn in the equal-area frame the figures are measured in, so the scale bar is
true to the data; legend hectares are the same exact figures as in the HTML map. Data spread
round the globe, which that frame cannot draw, is drawn in the Equal Earth projection
centred on it, with a graticule instead of the scale bar and north arrow
(:mod:`minemap.maps._world`).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, TypeAlias

import geopandas as gpd
import numpy as np
import pyproj
import shapely

from minemap import _progress
from minemap import io as _io
from minemap._extras import require
from minemap.maps import _data as _map_data
from minemap.maps import _geometry as _geo
from minemap.maps import _points as _pts
from minemap.maps import _world
from minemap.maps._data import (
    DISTRICT_COLOUR,
    INFRASTRUCTURE_COLOUR,
    LEGEND_ORDER,
    METHOD_LABELS,
    PRIORITY_COLOUR,
    PRIORITY_EDGE,
    REMAINING_COLOUR,
    RESIDENTIAL_COLOUR,
    ROAD_COLOUR,
    THREAT_LABELS,
    ha_text,
)
from minemap.settings import (
    HAZARD_HA,
    METHOD,
    METHOD_COLOURS,
    METHOD_HA,
    RELEASE_METHODS,
    REMAINING_HA,
    THREAT_COLOURS,
    THREAT_LEVEL,
    THREAT_LEVELS,
    TOTAL,
)
from minemap.stats import _as_hazards, _as_releases

if TYPE_CHECKING:
    from matplotlib.artist import Artist
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure, SubFigure

    from minemap.io import FeatureKind

Layer: TypeAlias = gpd.GeoDataFrame | str | os.PathLike
_WGS84 = pyproj.CRS.from_epsg(4326)


def _nice_length(span: float) -> float:
    """A round scale-bar length near a fifth of ``span`` metres."""
    target = span / 5.0
    power = 10 ** np.floor(np.log10(target))
    for step in (5, 2, 1):
        if step * power <= target:
            return float(step * power)
    return float(power)


def _draw(ax: Axes, geoms: np.ndarray, **style: Any) -> None:
    geoms = geoms[~shapely.is_empty(geoms)]
    if geoms.size:
        gpd.GeoSeries(geoms).plot(ax=ax, **style)


#: Dash-dot of district boundaries (the fine dashes are the remaining hazard's).
_DISTRICT_DASH = (0, (6, 2, 1, 2))


def _rgba(colour: str, alpha: float) -> tuple[float, float, float, float]:
    from matplotlib.colors import to_rgba

    return to_rgba(colour, alpha)


def _legend(ax: Axes, handles: list[Artist]) -> None:
    """The legend, kept inside the figure.

    On a figure with a layout engine (every figure :func:`plot_map` makes is
    ``constrained``), it goes beside the map on a landscape figure and below it on a
    portrait one, and the engine makes room for it. On axes of a figure without one, room
    outside the axes is not guaranteed, so it goes inside them, in a framed box.
    """
    from matplotlib.figure import SubFigure

    fig = ax.figure
    options = {
        "handles": handles,
        "fontsize": "small",
        "title": "Hectares (true area)",
        "title_fontsize": "small",
    }
    if fig.get_layout_engine() is None:
        ax.legend(loc="lower right", frameon=True, framealpha=0.9, **options)
        return
    if isinstance(fig, SubFigure):  # no size of its own: that of its box, in inches
        width, height = fig.bbox.width / fig.dpi, fig.bbox.height / fig.dpi
    else:
        width, height = fig.get_size_inches()
    if width >= 1.15 * height:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, **options)
    else:
        ax.legend(
            loc="upper center",
            bbox_to_anchor=(0.5, -0.02),
            ncols=2 if width >= 7 else 1,
            frameon=False,
            **options,
        )


def plot_map(
    hazards: Layer,
    releases: Layer | None = None,
    *,
    priority: Layer | None = None,
    roads: Layer | None = None,
    infrastructure: Layer | None = None,
    residential: Layer | None = None,
    districts: Layer | None = None,
    incidents: Layer | None = None,
    finds: Layer | None = None,
    title: str | None = None,
    figsize: tuple[float, float] = (10.0, 8.0),
    ax: Axes | None = None,
) -> Figure | SubFigure:
    """Draw a static map of hazards, release and priorities for a report.

    Parameters
    ----------
    hazards, releases, priority, roads, infrastructure, residential, districts
        As for :func:`minemap.maps.hazard_map`.
    incidents, finds : geopandas.GeoDataFrame or path, optional
        Incidents (small squares) and device finds (small dots), as for
        :func:`minemap.maps.hazard_map`; the legend gives their totals. Every point is
        drawn (a static map has no clusters and no date filter).
    title : str, optional
        Figure title.
    figsize : (float, float), default (10, 8)
        Figure size in inches when a new figure is made.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on.

    Returns
    -------
    matplotlib.figure.Figure
        Save it with ``fig.savefig("map.pdf")``.

    Examples
    --------
    >>> from minemap.synthetic import make_scenario
    >>> s = make_scenario(seed=1, high_ha=100, medium_ha=200, low_ha=100)
    >>> fig = plot_map(s.hazards, s.releases, roads=s.roads)
    >>> fig.axes[0].get_legend() is not None
    True
    """
    require("matplotlib", extra="maps", purpose="static maps")
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    from minemap._figures import new_figure

    given = (districts, residential, releases, priority, roads, infrastructure, incidents, finds)
    total = 4 + sum(layer is not None for layer in given)  # inputs, figures, hazards, frame
    with _progress.task("Static map", total, unit="stage") as bar:
        hz = _as_hazards(
            hazards if isinstance(hazards, gpd.GeoDataFrame) else _io.read_hazards(hazards)
        )
        if releases is not None and not isinstance(releases, gpd.GeoDataFrame):
            releases = _io.read_releases(releases)
        rl = _as_releases(releases)
        bar.update()
        bar.set_description("Static map (hectares and remaining land)")
        figs = _map_data.figures(hz, rl)
        bar.update()
        bar.set_description("Static map (layers)")
        shown_in = _world.view(figs)
        table = figs.table.set_index(THREAT_LEVEL)

        fig: Figure | SubFigure
        if ax is None:
            fig = new_figure(figsize=figsize, layout="constrained")
            ax = fig.add_subplot()
        else:
            fig = ax.figure
        pieces = shown_in.pieces
        live = ~shapely.is_empty(pieces)
        xmin, ymin, xmax, ymax = shapely.total_bounds(pieces[live])
        span = max(xmax - xmin, ymax - ymin, 1.0)
        tolerance = span / 3000.0  # well below a printed line width

        def shown_geoms(layer: gpd.GeoDataFrame) -> np.ndarray:
            geoms = shown_in.project(np.asarray(layer.geometry.array, dtype=object), layer.crs)
            return _geo.simplify(geoms, tolerance)

        handles: dict[str, Artist] = {}  # legend entries by layer key, ordered as in the HTML map

        def context(source: Layer | None, kind: FeatureKind) -> gpd.GeoDataFrame | None:
            if source is None:
                return None
            if isinstance(source, gpd.GeoDataFrame) and source.attrs.get("minemap") == kind:
                return source
            return _io.read_features(source, kind=kind)

        dist = context(districts, "districts")
        if dist is not None:
            _draw(
                ax,
                shown_geoms(dist),
                facecolor="none",
                edgecolor=DISTRICT_COLOUR,
                linewidth=1.4,
                linestyle=_DISTRICT_DASH,
                zorder=1,
            )
            handles["districts"] = Line2D(
                [],
                [],
                color=DISTRICT_COLOUR,
                linewidth=1.4,
                linestyle=_DISTRICT_DASH,
                label="District boundaries",
            )
            bar.update()
        res = context(residential, "residential")
        if res is not None:
            geoms = shown_geoms(res)
            poly = np.isin(shapely.get_type_id(geoms), (3, 6))
            _draw(
                ax,
                geoms[poly],
                facecolor=RESIDENTIAL_COLOUR,
                edgecolor="#5A5A5A",
                alpha=0.4,
                linewidth=0.5,
                zorder=2,
            )
            _draw(ax, geoms[~poly], color=RESIDENTIAL_COLOUR, markersize=6, zorder=2)
            handles["residential"] = Patch(
                facecolor=RESIDENTIAL_COLOUR,
                edgecolor="#5A5A5A",
                alpha=0.4,
                label="Residential areas",
            )
            bar.update()
        for z, level in enumerate(reversed(THREAT_LEVELS)):
            sel = figs.piece_level == level
            _draw(
                ax,
                _geo.simplify(pieces[sel], tolerance),
                facecolor=THREAT_COLOURS[level],
                edgecolor=THREAT_COLOURS[level],
                linewidth=0.3 if level != "high" else 0.6,
                alpha=0.9,
                zorder=3 + z,
            )
        for level in THREAT_LEVELS:
            handles[f"hazard-{level}"] = Patch(
                facecolor=THREAT_COLOURS[level],
                edgecolor="#333333",
                label=f"{THREAT_LABELS[level]}: {ha_text(float(table.loc[level, HAZARD_HA]))}",
            )
        bar.update()
        if rl is not None:
            for k, method in reversed(list(enumerate(RELEASE_METHODS))):
                sel = figs.release_method == k
                _draw(
                    ax,
                    _geo.simplify(shown_in.releases[sel], tolerance),
                    facecolor=METHOD_COLOURS[method],
                    edgecolor="white",
                    linewidth=0.4,
                    alpha=0.9,
                    zorder=7,
                )
            for method in RELEASE_METHODS:
                if (rl[METHOD] == method).any():
                    handles[f"released-{method}"] = Patch(
                        facecolor=METHOD_COLOURS[method],
                        edgecolor="white",
                        alpha=0.9,
                        label=f"{METHOD_LABELS[method]}: "
                        f"{ha_text(float(table.loc[TOTAL, METHOD_HA[method]]))}",
                    )
            _draw(
                ax,
                _geo.simplify(shown_in.remaining, tolerance),
                facecolor="none",
                edgecolor=REMAINING_COLOUR,
                linewidth=0.5,
                linestyle=(0, (3, 2)),
                zorder=8,
            )
            handles["remaining"] = Patch(
                facecolor="none",
                edgecolor=REMAINING_COLOUR,
                linestyle=(0, (3, 2)),
                label=f"Remaining hazard: {ha_text(float(table.loc[TOTAL, REMAINING_HA]))}",
            )
            bar.update()
        if priority is not None:
            from minemap.maps.interactive import _as_priority  # noqa: PLC0415 - shares the validation only

            zones = _as_priority(priority)
            shown = shown_geoms(zones)
            _draw(ax, shown, facecolor=PRIORITY_COLOUR, edgecolor="none", alpha=0.15, zorder=9)
            _draw(ax, shown, facecolor="none", edgecolor=PRIORITY_EDGE, linewidth=1.6, zorder=9)
            handles["priority"] = Patch(
                facecolor=_rgba(PRIORITY_COLOUR, 0.15),
                edgecolor=PRIORITY_EDGE,
                linewidth=1.6,
                label="Priority zones",
            )
            bar.update()
        rd = context(roads, "roads")
        if rd is not None:
            _draw(ax, shown_geoms(rd), color=ROAD_COLOUR, linewidth=0.8, zorder=10)
            handles["roads"] = Line2D([], [], color=ROAD_COLOUR, label="Roads")
            bar.update()
        infra = context(infrastructure, "infrastructure")
        if infra is not None:
            geoms = shown_geoms(infra)
            _draw(
                ax,
                shapely.point_on_surface(geoms),
                color=INFRASTRUCTURE_COLOUR,
                markersize=6,
                zorder=11,
            )
            handles["infrastructure"] = Line2D(
                [],
                [],
                color=INFRASTRUCTURE_COLOUR,
                marker="o",
                linestyle="",
                markersize=4,
                label="Infrastructure",
            )
            bar.update()
        evidence_xy = []
        for kind, source in (("incidents", incidents), ("finds", finds)):
            gdf = _pts.as_evidence(source, kind)
            if gdf is None:
                continue
            item = _pts.point_layer(gdf, kind)
            xy = shapely.get_coordinates(shown_in.project(item.lonlat, _WGS84))
            marker = "s" if item.shape == "square" else "o"
            ax.scatter(
                xy[:, 0],
                xy[:, 1],
                s=22,
                marker=marker,
                color=item.colour,
                edgecolors="white",
                linewidths=0.5,
                zorder=12,
            )
            handles[kind] = Line2D(
                [],
                [],
                color=item.colour,
                marker=marker,
                markeredgecolor="white",
                linestyle="",
                markersize=5,
                label=f"{item.label} ({item.value})",
            )
            evidence_xy.append(xy)
            bar.update()

        bar.set_description("Static map (frame and legend)")
        if evidence_xy:  # the view holds every incident and find too
            every = np.concatenate(evidence_xy)
            xmin, ymin = min(xmin, every[:, 0].min()), min(ymin, every[:, 1].min())
            xmax, ymax = max(xmax, every[:, 0].max()), max(ymax, every[:, 1].max())
        bounds: tuple[float, ...] = (xmin, ymin, xmax, ymax)
        if shown_in.world:
            bounds = _world_frame(ax, shown_in, bounds, pieces)
        pad = 0.04 * max(bounds[2] - bounds[0], bounds[3] - bounds[1], 1.0)
        ax.set_xlim(bounds[0] - pad, bounds[2] + pad)
        ax.set_ylim(bounds[1] - pad, bounds[3] + pad)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlabel("")
        ax.set_ylabel("")
        ax.set_facecolor("#F4F3EF")
        _legend(ax, [handles[k] for k in sorted(handles, key=LEGEND_ORDER.index)])
        if not shown_in.world:
            _scale_bar_and_north_arrow(ax, bounds, pad)
        ax.set_title(title or "Hazard areas and land release")
        setattr(ax, "minemap", {"summary": figs.table, "crs": shown_in.crs})  # noqa: B010 - not an Axes attribute
        return fig


def _scale_bar_and_north_arrow(ax: Axes, bounds: tuple[float, ...], pad: float) -> None:
    """A scale bar below the map (metres in the equal-area frame, true at its centre) and a
    north arrow beside it (north is up along the frame's central meridian)."""
    from matplotlib.patches import FancyArrow, Rectangle

    xmin, ymin, xmax, ymax = bounds
    length = _nice_length(xmax - xmin)
    x0, y0 = xmin, ymin - pad * 0.6
    ax.add_patch(Rectangle((x0, y0), length, pad * 0.15, facecolor="black", zorder=20))
    ax.add_patch(
        Rectangle(
            (x0 + length / 2, y0),
            length / 2,
            pad * 0.15,
            facecolor="white",
            edgecolor="black",
            linewidth=0.6,
            zorder=21,
        )
    )
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    ax.text(x0 + length, y0 + pad * 0.25, label, ha="center", va="bottom", fontsize=8, zorder=22)
    ax.text(x0, y0 + pad * 0.25, "0", ha="center", va="bottom", fontsize=8, zorder=22)
    ax.add_patch(
        FancyArrow(
            xmax + pad * 0.5,
            ymax - pad * 1.6,
            0,
            pad * 1.2,
            width=pad * 0.12,
            head_width=pad * 0.45,
            head_length=pad * 0.5,
            color="black",
            zorder=20,
            length_includes_head=True,
        )
    )
    ax.text(
        xmax + pad * 0.5,
        ymax - pad * 0.2,
        "N",
        ha="center",
        va="bottom",
        fontsize=11,
        fontweight="bold",
        zorder=22,
    )


#: On a world map, the view is at least this high for its width (Equal Earth's whole
#: world is about 1 : 2.05), so data along one parallel is not drawn in a sliver.
_WORLD_MIN_HEIGHT = 0.4


def _meridian(lon: float) -> str:
    """A meridian as text: 0°, 180°, 90°E, 179.75°W."""
    lon = round(180.0 - (180.0 - lon) % 360.0, 2)  # in (-180, 180]
    if lon in (0.0, 180.0):
        return f"{lon:g}°"
    return f"{abs(lon):g}°{'E' if lon > 0 else 'W'}"


def _world_frame(
    ax: Axes, shown_in: _world.View, bounds: tuple[float, ...], pieces: np.ndarray
) -> tuple[float, ...]:
    """The graticule, a marker on every hazard piece (at world scale most are far smaller
    than a line's width) and a note naming the projection; returns the view's bounds."""
    _draw(ax, shown_in.graticule(), color="#BDBDBD", linewidth=0.4, zorder=0.5)
    for z, level in enumerate(reversed(THREAT_LEVELS)):
        sel = (shown_in.figures.piece_level == level) & ~shapely.is_empty(pieces)
        _draw(
            ax,
            shapely.point_on_surface(pieces[sel]),
            color=THREAT_COLOURS[level],
            markersize=9,
            edgecolor="#333333",
            linewidth=0.4,
            zorder=3 + z,
        )
    ax.text(
        0.01,
        0.01,
        f"Equal Earth projection (equal-area), central meridian {_meridian(shown_in.lon_0)}; "
        f"graticule every {_world.GRATICULE_DEGREES:g}°",
        transform=ax.transAxes,
        fontsize=7,
        ha="left",
        va="bottom",
        zorder=22,
    )
    xmin, ymin, xmax, ymax = bounds
    low = _WORLD_MIN_HEIGHT * (xmax - xmin)
    if ymax - ymin < low:
        middle = (ymin + ymax) / 2.0
        ymin, ymax = middle - low / 2.0, middle + low / 2.0
    return xmin, ymin, xmax, ymax
