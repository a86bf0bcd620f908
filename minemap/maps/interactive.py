"""Interactive HTML maps of contamination and land release (folium is imported only here).

:func:`hazard_map` turns minemap's layers into a :class:`folium.Map` with switchable
layers, a legend whose hectares are minemap's exact figures, tooltips, a scale bar and a
view that fits the data; :func:`save_map` writes it as one HTML file, optionally fully
offline. The same inputs always give byte-identical HTML.

Figures never come from display geometry: hectares are measured on the full-resolution
data in the equal-area frame, exactly as :func:`minemap.land_release_summary` does; the
geometry drawn is simplified in metres and rounded to about a metre. See ``docs/maps.md``
for the size budget.
"""

from __future__ import annotations

import math
import os
import weakref
from dataclasses import dataclass
from typing import Any, cast

import folium
import geopandas as gpd
import numpy as np
import pyproj
import shapely
from branca.element import Figure, MacroElement
from jinja2 import Template

from minemap import _progress
from minemap import crs as _crs
from minemap import io as _io
from minemap._errors import GeometryTypeError, SchemaError
from minemap._workers import using_workers
from minemap.maps import _data as _map_data
from minemap.maps import _geometry as _geo
from minemap.maps import _grid, _html, _page
from minemap.maps import _points as _pts
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
    Figures,
    ha_text,
    value_text,
    zone_areas_m2,
)
from minemap.settings import (
    HAZARD_HA,
    HAZARD_ID,
    METHOD,
    METHOD_COLOURS,
    METHOD_HA,
    RELEASE_DATE,
    RELEASE_ID,
    RELEASE_METHODS,
    RELEASED_OUTSIDE_HA,
    REMAINING_HA,
    THREAT_COLOURS,
    THREAT_LEVEL,
    THREAT_LEVELS,
    TOTAL,
)
from minemap.stats import (
    _as_hazards,
    _as_releases,
)

__all__ = ["hazard_map", "map_html", "save_map", "DEFAULT_TOLERANCE_M", "FEATURE_BUDGET"]

#: Default display simplification tolerance in metres (figures never use display geometry).
DEFAULT_TOLERANCE_M = 5.0
#: Features per layer drawn one by one (with their own tooltip); above it a layer is drawn
#: merged per class, simplified more coarsely, with one tooltip per class.
FEATURE_BUDGET = 10_000
#: Display tolerance (metres) of layers merged because they exceed the feature budget.
MERGED_TOLERANCE_M = 20.0

_LEAFLET_JS = "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js"
_LEAFLET_CSS = "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css"
_WGS84 = pyproj.CRS.from_epsg(4326)
_M2_PER_HA = _crs.M2_PER_HA
_EXTRA_COLUMNS = 6


# Leaflet path styles; high threat is the most prominent (most opaque fill, heaviest edge).
_THREAT_STYLE = {
    "high": {"weight": 1.6, "fillOpacity": 0.75, "opacity": 1.0},
    "medium": {"weight": 1.0, "fillOpacity": 0.55, "opacity": 0.9},
    "low": {"weight": 0.8, "fillOpacity": 0.5, "opacity": 0.9},
}
_THREAT_EDGE = {"high": "#8F3E00", "medium": "#9A6A00", "low": "#8C8420"}


def _threat_style(level: str) -> dict:
    return {
        "color": _THREAT_EDGE[level],
        "fillColor": THREAT_COLOURS[level],
        **_THREAT_STYLE[level],
    }


def _method_style(method: str) -> dict:
    # nearly opaque with a white edge: released land reads as its own colour over hazard
    # fills and residential areas, never as a mix of them
    return {
        "color": "#FFFFFF",
        "fillColor": METHOD_COLOURS[method],
        "weight": 1.2,
        "fillOpacity": 0.85,
        "opacity": 1.0,
    }


_REMAINING_STYLE = {
    "color": REMAINING_COLOUR,
    "weight": 1.2,
    "fill": False,
    "opacity": 0.85,
    "dashArray": "4 3",
}
# a heavy dark edge over a faint fill: zones stand out over every threat fill, and the
# threat colour under them stays readable (a stronger pink over yellow reads as orange)
_PRIORITY_STYLE = {
    "color": PRIORITY_EDGE,
    "fillColor": PRIORITY_COLOUR,
    "weight": 3.0,
    "fillOpacity": 0.12,
    "opacity": 1.0,
}
_ROAD_STYLE = {"color": ROAD_COLOUR, "weight": 1.6, "opacity": 0.9}
_INFRA_STYLE = {
    "color": "#FFFFFF",
    "fillColor": INFRASTRUCTURE_COLOUR,
    "weight": 0.8,
    "fillOpacity": 0.9,
    "radius": 3.0,
    "opacity": 1.0,
}
_RESIDENTIAL_STYLE = {
    "color": "#5A5A5A",
    "fillColor": RESIDENTIAL_COLOUR,
    "weight": 1.0,
    "fillOpacity": 0.3,
    "opacity": 1.0,
}
# dash-dot, wider and lighter than the remaining hazard's fine black dashes
_DISTRICT_STYLE = {
    "color": DISTRICT_COLOUR,
    "weight": 2.5,
    "fill": False,
    "opacity": 0.9,
    "dashArray": "12 4 2 4",
}


def _ha(value: float) -> str:
    return ha_text(value)


def _extra_rows(gdf: gpd.GeoDataFrame, skip: set[str]) -> list[list[tuple[str, str]]]:
    columns = [c for c in gdf.columns if c != gdf.geometry.name and c not in skip]
    columns = columns[:_EXTRA_COLUMNS]
    if not columns:
        return [[] for _ in range(len(gdf))]
    values = [[value_text(v) for v in gdf[c].tolist()] for c in columns]
    return [[(str(c), values[k][i]) for k, c in enumerate(columns)] for i in range(len(gdf))]


#: Tooltip labels whose values are identifiers (shown unwrapped, whatever their length).
_ID_LABELS = frozenset({"Hazard", "Release", "Remaining hazard of", HAZARD_ID, RELEASE_ID})


def _is_id(label: str) -> bool:
    lower = label.lower()
    return label in _ID_LABELS or lower == "id" or lower.endswith(("_id", " id"))


def _tip(rows: list | None) -> list[list] | None:
    """Tooltip rows as sent to the page: ``[label, value]``, ``[label, value, 1]`` for ids."""
    if rows is None:
        return None
    return [[row[0], row[1], 1] if _is_id(row[0]) else [row[0], row[1]] for row in rows]


# --------------------------------------------------------------------------- folium pieces
class _Runtime(MacroElement):
    """The map's CSS and JavaScript, the legend's placement and the scale bar; with
    ``points``, the clustering of point layers and, with ``dates``, their date filter."""

    _template = Template("""
{% macro header(this, kwargs) %}<style>{{ this.css }}</style>{% endmacro %}
{% macro script(this, kwargs) %}{{ this.js }}
minemap.setup({{ this._parent.get_name() }}, {{ this.legend_id|tojson }});
{% if this.dates %}minemap.setupDates({{ this.legend_id|tojson }});
{% endif %}{% endmacro %}""")

    def __init__(self, legend_id: str, *, points: bool = False, dates: bool = False) -> None:
        super().__init__()
        self._name = "MinemapRuntime"
        self.css = _html.RUNTIME_CSS + (_pts.POINTS_CSS if points else "")
        self.js = _html.RUNTIME_JS + _html.CANVAS_JS + (_pts.POINTS_JS if points else "")
        self.legend_id = legend_id
        self.dates = points and dates


class _Finish(MacroElement):
    """Fits the view to ``bounds`` (``[[south, west], [north, east]]``) once all is drawn."""

    _template = Template("""
{% macro script(this, kwargs) %}minemap.finish({{ this._parent.get_name() }}, {{ this.view }});
{% endmacro %}""")

    def __init__(self, bounds: list[list[float]]) -> None:
        super().__init__()
        self._name = "MinemapFinish"
        self.view = _html.script_json({"bounds": bounds})


class _DataLayer(MacroElement):
    """One block of display data drawn into its parent FeatureGroup by the runtime."""

    _template = Template("""
{% macro script(this, kwargs) %}minemap.addLayer({{ this._parent._parent.get_name() }}, {{
this._parent.get_name() }}, {{ this.data }});
{% endmacro %}""")

    def __init__(self, data: dict) -> None:
        super().__init__()
        self._name = "MinemapData"
        self.data = _html.script_json(data)
        self.features = len(data["f"])


class _LayerControl(folium.LayerControl):
    """folium's layer control, listing overlays in a given order (not drawing order)."""

    def __init__(self, order: list[str]) -> None:
        super().__init__(position="topright", collapsed=False)
        self.order = order

    # branca's stubs say Element.render returns the HTML, but MacroElement.render (which
    # this calls, as folium's LayerControl.render does) puts it in the figure and returns None
    def render(self, **kwargs: Any) -> None:  # type: ignore[override]
        self.reset()
        found = {}
        assert self._parent is not None, "a layer control renders inside its map"
        for item in self._parent._children.values():
            if isinstance(item, folium.map.Layer) and item.control:
                if item.overlay:
                    found[item.layer_name] = item.get_name()
                else:
                    self.base_layers[item.layer_name] = item.get_name()
        rank = {name: k for k, name in enumerate(self.order)}
        for name in sorted(found, key=lambda n: rank.get(n, len(rank))):
            self.overlays[name] = found[name]
        super(folium.LayerControl, self).render(**kwargs)


_CONTROL_ORDER = LEGEND_ORDER


def _control_rank(layer: _Layer) -> int:
    return _CONTROL_ORDER.index(layer.key) if layer.key in _CONTROL_ORDER else 99


class _Legend(MacroElement):
    _template = Template("""
{% macro html(this, kwargs) %}{{ this.body }}{% endmacro %}""")

    def __init__(self, body: str) -> None:
        super().__init__()
        self._name = "MinemapLegend"
        self.body = body


# ------------------------------------------------------------------------------ display data
@dataclass
class _Layer:
    """A switchable layer: its name, legend entry and data blocks."""

    key: str
    name: str
    blocks: list[dict]
    legend: tuple[str, str, str, str] | None  # (kind, colour, label, value text)
    section: str
    show: bool = True
    merged: bool = False
    symbol: dict | None = None  # the Leaflet style its legend and control symbols show


def _geoms(gdf: gpd.GeoDataFrame) -> np.ndarray:
    return np.asarray(gdf.geometry.array, dtype=object)


def _polygon_block(
    name: str,
    geoms: np.ndarray,
    crs: pyproj.CRS,
    tolerance: float,
    style: dict,
    rows: list[list[tuple[str, str]]] | None,
) -> dict:
    """One shape and one tooltip per geometry (``geoms`` in ``crs``)."""
    shown = _geo.display_lonlat(geoms, crs, tolerance)
    encoded = _geo.encode_polygons(shown)
    tips = [_tip(r) for r in rows] if rows is not None else [None] * len(encoded)
    return {
        "n": name,
        "t": "polygon",
        "s": style,
        "f": [[g, t] for g, t in zip(encoded, tips, strict=True) if g],
    }


def _merged_rings(geoms: np.ndarray, crs: pyproj.CRS) -> _geo.Rings:
    """Display rings (``geoms`` in ``crs``) at the settings of merged layers.

    Rings are thinned by Douglas-Peucker right where they are drawn, in longitude/latitude
    (projected data is projected first), and rounded to 1e-4 degrees: merged layers are
    drawn, never overlaid or measured.
    """
    shown = _geo.to_lonlat(geoms, crs)
    return _geo.polygon_rings(shown, _geo.MERGED_DECIMALS, tolerance=_MERGED_TOLERANCE_DEG)


_MERGED_TOLERANCE_DEG = MERGED_TOLERANCE_M / _geo.METRES_PER_DEGREE


def _merged_block(name: str, rings: _geo.Rings, style: dict, rows: list[tuple[str, str]]) -> dict:
    """All rings of a class, drawn by the page's canvas renderer with one tooltip.

    ``"g"`` holds the rings in the compact encoding of :func:`_geo.encode_rings` (with
    coarser levels of detail for the page to choose by zoom); ``"f"`` the one tooltip.
    """
    merged_style = {**style, "weight": min(style.get("weight", 1.0), 0.6)}
    return {
        "n": name,
        "t": "merged",
        "s": merged_style,
        "q": 10**rings.decimals,
        "g": _geo.encode_rings(rings, _MERGED_TOLERANCE_DEG),
        "f": [[None, rows]] if rings.counts.size else [],
    }


_FAMILIES = {"polygon": (3, 6), "line": (1, 2, 5), "point": (0, 4)}


def _feature_blocks(
    name: str,
    gdf: gpd.GeoDataFrame,
    frame: pyproj.CRS,
    tolerance: float,
    style: dict,
    rows: list[list[tuple[str, str]]],
    budget: int,
) -> tuple[list[dict], bool]:
    """Blocks for a reference layer (one per geometry family present)."""
    geoms, crs = _geoms(gdf), gdf.crs
    types = shapely.get_type_id(geoms)
    merged = len(gdf) > budget
    blocks = []
    for kind, ids in _FAMILIES.items():
        sel = np.flatnonzero(np.isin(types, ids))
        if sel.size == 0:
            continue
        picked = None if merged else [rows[k] for k in sel]
        tips = None if picked is None else [_tip(r) for r in picked]
        if kind == "polygon":
            shown_style = {**style, "fill": True} if "fillColor" in style else style
            if merged:
                summary = [
                    ("Layer", name),
                    ("Features", f"{sel.size:,}"),
                    ("Shown", f"merged (more than {budget:,} features)"),
                ]
                blocks.append(
                    _merged_block(name, _merged_rings(geoms[sel], crs), shown_style, summary)
                )
            else:
                blocks.append(_polygon_block(name, geoms[sel], crs, tolerance, shown_style, picked))
            continue
        if kind == "line":
            decimals = _geo.MERGED_DECIMALS if merged else _geo.DECIMALS
            shown = _geo.display_lonlat(
                geoms[sel], crs, MERGED_TOLERANCE_M if merged else tolerance
            )
            encoded = _geo.encode_lines(shown, decimals)
            line_style = {k: v for k, v in style.items() if k != "radius"}
            if "fillColor" in line_style:
                line_style = {"color": line_style["fillColor"], "weight": 1.6, "opacity": 0.9}
            items: list[list[Any]] = [
                [g, t] for g, t in zip(encoded, tips or [None] * len(encoded), strict=True) if g
            ]
            if merged and items:
                items = [[",".join(g for g, _ in items), None]]
            blocks.append({"n": name, "t": "line", "s": line_style, "q": 10**decimals, "f": items})
        else:
            points = _geo.point_lists(_geo.to_lonlat(geoms[sel], crs))
            point_style = {"radius": 3.5, **style}
            blocks.append(
                {
                    "n": name,
                    "t": "point",
                    "s": point_style,
                    "f": [
                        [p, t]
                        for p, t in zip(points, tips or [None] * len(points), strict=True)
                        if p
                    ],
                }
            )
    return blocks, merged


def _as_layer(source: object, kind: str) -> gpd.GeoDataFrame | None:
    if source is None:
        return None
    if isinstance(source, gpd.GeoDataFrame) and source.attrs.get("minemap") == kind:
        return source
    return _io.read_features(source, kind=kind)  # type: ignore[arg-type]


def _as_priority(source: object) -> gpd.GeoDataFrame | None:
    if source is None:
        return None
    gdf = (
        _as_layer(source, "any")
        if not (isinstance(source, gpd.GeoDataFrame) and source.attrs.get("minemap") == "priority")
        else source
    )
    assert gdf is not None
    types = shapely.get_type_id(np.asarray(gdf.geometry.array, dtype=object))
    if not np.isin(types, (3, 6)).all():
        label = gdf.attrs.get("source", "priority zones")
        raise GeometryTypeError(
            f"{label}: priority zones must be polygons (the output of "
            "minemap's priority zones); point priority= at that layer."
        )
    return gdf


def _hazard_layers(
    hazards: gpd.GeoDataFrame, figures: Figures, tolerance: float, budget: int
) -> list[_Layer]:
    table = figures.table.set_index(THREAT_LEVEL)
    merged = len(hazards) > budget
    each = (  # per record: area (ha), geometry, extra tooltip rows; none when merged
        None
        if merged
        else (
            _crs.area_ha(hazards.geometry, figures.frame),
            _geoms(hazards),
            _extra_rows(hazards, {HAZARD_ID, THREAT_LEVEL}),
        )
    )
    layers = []
    for level in reversed(THREAT_LEVELS):  # low first: high is drawn on top
        name = f"hazard-{level}"
        style = _threat_style(level)
        hazard_ha = float(table.loc[level, HAZARD_HA])
        if each is None:
            sel = figures.piece_level == level
            rows = [
                ("Threat level", level),
                ("Hazard area", _ha(hazard_ha)),
                ("Hazard areas", f"{int((hazards[THREAT_LEVEL] == level).sum()):,}"),
                ("Shown", f"merged (more than {budget:,} hazards)"),
            ]
            block = _merged_block(name, _piece_rings(figures).select(sel), style, rows)
        else:
            record_ha, geoms, extra = each
            sel = (hazards[THREAT_LEVEL] == level).to_numpy()
            idx = np.flatnonzero(sel)
            rows_each = [
                [
                    ("Hazard", value_text(hazards[HAZARD_ID].iloc[k])),
                    ("Threat level", level),
                    ("Area", _ha(float(record_ha[k]))),
                    *extra[k],
                ]
                for k in idx
            ]
            block = _polygon_block(name, geoms[idx], hazards.crs, tolerance, style, rows_each)
        layers.append(
            _Layer(
                name,
                _swatch_name(
                    "fill", THREAT_COLOURS[level], f"Hazard: {THREAT_LABELS[level].lower()}", style
                ),
                [block],
                ("fill", THREAT_COLOURS[level], THREAT_LABELS[level], _ha(hazard_ha)),
                "Hazard areas by threat level",
                merged=merged,
                symbol=style,
            )
        )
    return layers


_PIECE_RINGS: weakref.WeakKeyDictionary[Figures, _geo.Rings] = weakref.WeakKeyDictionary()


def _piece_rings(figures: Figures) -> _geo.Rings:
    """Merged-layer display rings of every hazard piece, computed once per figures."""
    if figures not in _PIECE_RINGS:
        _PIECE_RINGS[figures] = _merged_rings(figures.work, figures.work_crs)
    return _PIECE_RINGS[figures]


def _remaining_layer(figures: Figures, tolerance: float, budget: int) -> _Layer:
    total = float(figures.table.set_index(THREAT_LEVEL).loc[TOTAL, REMAINING_HA])
    remaining = figures.remaining_work  # exact: each piece minus its releases, work CRS
    live = np.flatnonzero(~shapely.is_empty(remaining))
    merged = live.size > budget
    if merged:
        rows = [
            ("Remaining hazard", _ha(total)),
            ("Shown", f"merged (more than {budget:,} pieces)"),
        ]
        rings = _piece_rings(figures)
        touched = np.flatnonzero(figures.touched)
        if touched.size:
            rings = rings.replace(touched, _merged_rings(remaining[touched], figures.work_crs))
        shown = np.zeros(remaining.size, dtype=bool)
        shown[live] = True
        block = _merged_block("remaining", rings.select(shown), _REMAINING_STYLE, rows)
    else:
        area = figures.remaining_m2(live) / _M2_PER_HA
        rows_each = [
            [
                ("Remaining hazard of", value_text(figures.piece_id[k])),
                ("Threat level", str(figures.piece_level[k])),
                ("Remaining", _ha(float(a))),
            ]
            for k, a in zip(live, area, strict=True)
        ]
        block = _polygon_block(
            "remaining", remaining[live], figures.work_crs, tolerance, _REMAINING_STYLE, rows_each
        )
    return _Layer(
        "remaining",
        _swatch_name("outline", REMAINING_COLOUR, "Remaining hazard", _REMAINING_STYLE),
        [block],
        ("outline", REMAINING_COLOUR, "Remaining hazard", _ha(total)),
        "Remaining and released",
        merged=merged,
        symbol=_REMAINING_STYLE,
    )


def _release_layers(
    releases: gpd.GeoDataFrame, figures: Figures, tolerance: float, budget: int
) -> list[_Layer]:
    totals = figures.table.set_index(THREAT_LEVEL).loc[TOTAL]
    merged = len(releases) > budget
    each = (  # per record: area (ha), geometry, extra tooltip rows; none when merged
        None
        if merged
        else (
            _crs.area_ha(releases.geometry, figures.frame),
            _geoms(releases),
            _extra_rows(releases, {RELEASE_ID, METHOD, RELEASE_DATE}),
        )
    )
    layers = []
    for k_method, method in reversed(list(enumerate(RELEASE_METHODS))):  # cleared on top
        name = f"released-{method}"
        style = _method_style(method)
        method_ha = float(totals[METHOD_HA[method]])
        if each is None:
            sel = figures.release_method == k_method
            rows = [
                ("Method", method),
                ("Released inside hazard areas", _ha(method_ha)),
                ("Records", f"{int((releases[METHOD] == method).sum()):,}"),
                ("Shown", f"merged (more than {budget:,} records)"),
            ]
            block = _merged_block(
                name, _merged_rings(figures.release_work[sel], figures.work_crs), style, rows
            )
        else:
            record_ha, geoms, extra = each
            idx = np.flatnonzero((releases[METHOD] == method).to_numpy())
            rows_each = [
                [
                    ("Release", value_text(releases[RELEASE_ID].iloc[k])),
                    ("Method", method),
                    ("Date", value_text(releases[RELEASE_DATE].iloc[k])),
                    ("Area", _ha(float(record_ha[k]))),
                    *extra[k],
                ]
                for k in idx
            ]
            block = _polygon_block(name, geoms[idx], releases.crs, tolerance, style, rows_each)
        layers.append(
            _Layer(
                name,
                _swatch_name("fill", METHOD_COLOURS[method], f"Released: {method}", style),
                [block],
                ("fill", METHOD_COLOURS[method], METHOD_LABELS[method], _ha(method_ha)),
                "Remaining and released",
                merged=merged,
                symbol=style,
            )
        )
    return layers


def _priority_layer(
    priority: gpd.GeoDataFrame, frame: pyproj.CRS, tolerance: float, budget: int
) -> _Layer:
    area_m2, total_m2 = zone_areas_m2(priority.geometry, frame)
    total = total_m2 / _M2_PER_HA
    merged = len(priority) > budget
    if merged:
        rows = [
            ("Priority zones", _ha(total)),
            ("Zones", f"{len(priority):,}"),
            ("Shown", f"merged (more than {budget:,} zones)"),
        ]
        block = _merged_block(
            "priority", _merged_rings(_geoms(priority), priority.crs), _PRIORITY_STYLE, rows
        )
    else:
        area = area_m2 / _M2_PER_HA
        extra = _extra_rows(priority, set())
        rows_each = [[*extra[k], ("Area", _ha(float(area[k])))] for k in range(len(priority))]
        block = _polygon_block(
            "priority", _geoms(priority), priority.crs, tolerance, _PRIORITY_STYLE, rows_each
        )
    return _Layer(
        "priority",
        _swatch_name("fill", PRIORITY_COLOUR, "Priority zones", _PRIORITY_STYLE),
        [block],
        ("fill", PRIORITY_COLOUR, "Priority zones", _ha(total)),
        "Priorities and context",
        merged=merged,
        symbol=_PRIORITY_STYLE,
    )


_REFERENCE = {
    "roads": ("Roads", "line", ROAD_COLOUR, _ROAD_STYLE),
    "infrastructure": ("Infrastructure", "point", INFRASTRUCTURE_COLOUR, _INFRA_STYLE),
    "residential": ("Residential areas", "fill", RESIDENTIAL_COLOUR, _RESIDENTIAL_STYLE),
    "districts": ("District boundaries", "line", DISTRICT_COLOUR, _DISTRICT_STYLE),
}


def _reference_layer(
    kind: str, gdf: gpd.GeoDataFrame, frame: pyproj.CRS, tolerance: float, budget: int
) -> _Layer:
    label, swatch, colour, style = _REFERENCE[kind]
    rows = _extra_rows(gdf, set())
    blocks, merged = _feature_blocks(kind, gdf, frame, tolerance, style, rows, budget)
    types = shapely.get_type_id(np.asarray(gdf.geometry.array, dtype=object))
    polygons = np.isin(types, (3, 6))
    if kind in ("residential",) and polygons.any():
        value = _ha(float(_crs.area_ha(gdf.geometry[polygons], frame).sum()))
    else:
        value = f"{len(gdf):,} features"
    return _Layer(
        kind,
        _swatch_name(swatch, colour, label, style),
        blocks,
        (swatch, colour, label, value),
        "Priorities and context",
        merged=merged,
        symbol=style,
    )


_EVIDENCE_SECTION = "Field evidence"


def _point_layer(item: _pts.PointLayer) -> _Layer:
    """The switchable layer of incidents or device finds (clustered by the page)."""
    kind = "square" if item.shape == "square" else "point"
    symbol = {"fillColor": item.colour}
    return _Layer(
        item.key,
        _swatch_name(kind, item.colour, item.label, symbol),
        [item.block],
        (kind, item.colour, item.label, item.value),
        _EVIDENCE_SECTION,
        symbol=symbol,
    )


def _public_layers(
    figures: Figures, cell_m: float, tolerance_m: float
) -> tuple[list[_Layer], _grid.Grid, np.ndarray]:
    """Contamination aggregated on a square grid (:mod:`minemap.maps._grid`): no original
    vertex leaves the frame. Returns the layers, the grid and its cells as drawn (lon/lat)."""
    grid = _grid.public_grid(figures, cell_m)
    shown = grid.display(tolerance_m)
    per_cell = grid.level_m2
    remaining = grid.remaining_m2
    hazard = per_cell.sum(axis=1)
    top = np.argmax(per_cell > 0, axis=1)  # first (highest) level present
    table = figures.table.set_index(THREAT_LEVEL)
    layers = []
    for k in reversed(range(len(THREAT_LEVELS))):
        level = THREAT_LEVELS[k]
        sel = np.flatnonzero(top == k)
        rows = [
            [
                *[
                    (THREAT_LABELS[lvl], _ha(per_cell[c, m] / _M2_PER_HA))
                    for m, lvl in enumerate(THREAT_LEVELS)
                ],
                ("Remaining", _ha(remaining[c] / _M2_PER_HA)),
                ("Released", _ha(max(hazard[c] - remaining[c], 0.0) / _M2_PER_HA)),
                ("Cell", f"{cell_m:,.0f} m grid"),
            ]
            for c in sel
        ]
        style = {**_threat_style(level), "weight": 0.5}
        block = _polygon_block(f"grid-{level}", shown[sel], _WGS84, 0.0, style, rows)
        layers.append(
            _Layer(
                f"grid-{level}",
                _swatch_name(
                    "fill",
                    THREAT_COLOURS[level],
                    f"Grid cells: {THREAT_LABELS[level].lower()}",
                    style,
                ),
                [block],
                (
                    "fill",
                    THREAT_COLOURS[level],
                    THREAT_LABELS[level],
                    _ha(float(table.loc[level, HAZARD_HA])),
                ),
                "Hazard area by threat level",
                symbol=style,
            )
        )
    return layers, grid, shown


def _swatch(kind: str, colour: str, style: dict | None = None) -> str:
    """A small legend symbol drawn as the layer is drawn: box, outline, line or dot.

    An inline SVG (no namespace URL needed in HTML) with the layer's colours, opacity,
    line width and dash pattern, so two layers with different styles never share a symbol.
    """
    style = style or {}
    edge = style.get("color", colour)
    width = min(float(style.get("weight", 1.0)), 3.0)
    dash = style.get("dashArray")
    stroke = (
        f'stroke="{edge}" stroke-width="{width:g}" stroke-opacity='
        f'"{float(style.get("opacity", 1.0)):g}"' + (f' stroke-dasharray="{dash}"' if dash else "")
    )
    if kind == "fill":
        shape = (
            f'<rect x="2" y="2" width="18" height="10" fill="{style.get("fillColor", colour)}"'
            f' fill-opacity="{float(style.get("fillOpacity", 1.0)):g}" {stroke}/>'
        )
    elif kind == "outline":
        shape = f'<rect x="2" y="2" width="18" height="10" fill="none" {stroke}/>'
    elif kind == "line":
        shape = f'<line x1="1" y1="7" x2="21" y2="7" {stroke}/>'
    elif kind == "square":
        shape = (
            f'<rect x="6.5" y="2.5" width="9" height="9" rx="1" fill="{colour}" '
            f'stroke="#FFFFFF" stroke-width="1"/>'
        )
    else:
        shape = (
            f'<circle cx="11" cy="7" r="4" fill="{style.get("fillColor", colour)}" '
            f'stroke="#FFFFFF" stroke-width="1"/>'
        )
    return (
        f'<svg class="minemap-swatch {kind}" width="22" height="14" viewBox="0 0 22 14" '
        f'aria-hidden="true">{shape}</svg>'
    )


def _swatch_name(kind: str, colour: str, label: str, style: dict | None = None) -> str:
    """A layer-control label: Leaflet inserts it as HTML, so it holds constants only."""
    return f"{_swatch(kind, colour, style)} {_html.text(label)}"


# ---------------------------------------------------------------------------------- legend
def _legend_html(
    legend_id: str,
    title: str | None,
    layers: list[_Layer],
    notes: list[str],
    dates: tuple[str, str] | None = None,
) -> str:
    """The legend: sections of classes in the layer control's order, and a hide button.

    The button (a real ``<button>``, so it works from the keyboard) hides everything but
    the title; the runtime wires it up and starts the legend hidden on a small screen.
    ``dates`` (first and last, ISO) adds the date filter of the point layers under their
    section.
    """
    parts = [
        f'<div id="{legend_id}" class="minemap-legend leaflet-control" role="region" '
        'aria-label="Legend"><div class="minemap-legend-head">',
        f"<h2>{_html.text(title or 'Legend')}</h2>",
        f'<button type="button" class="minemap-legend-toggle" aria-expanded="true" '
        f'aria-controls="{legend_id}-body">Hide legend</button></div>',
        f'<div id="{legend_id}-body" class="minemap-legend-body">',
    ]
    sections: dict[str, list[_Layer]] = {}
    for layer in sorted(layers, key=_control_rank):
        if layer.legend is not None:
            sections.setdefault(layer.section, []).append(layer)
    for section, entries in sections.items():
        parts.append(f"<h3>{_html.text(section)}</h3><table>")
        for layer in entries:
            kind, colour, label, value = layer.legend  # type: ignore[misc]
            parts.append(
                f'<tr class="minemap-legend-entry" data-layer="{_html.text(layer.key)}" '
                f'data-colour="{colour}"><td>{_swatch(kind, colour, layer.symbol)}</td>'
                f'<td>{_html.text(label)}</td><td class="ha">{_html.text(value)}</td></tr>'
            )
        parts.append("</table>")
        if section == _EVIDENCE_SECTION and dates is not None:
            parts.append(_pts.dates_html(legend_id, *dates))
    for note in notes:
        parts.append(f'<p class="note">{_html.text(note)}</p>')
    parts.append("</div></div>")
    return "".join(parts)


# ---------------------------------------------------------------------------------- public
def hazard_map(
    hazards: gpd.GeoDataFrame | str | os.PathLike,
    releases: gpd.GeoDataFrame | str | os.PathLike | None = None,
    *,
    priority: gpd.GeoDataFrame | str | os.PathLike | None = None,
    roads: gpd.GeoDataFrame | str | os.PathLike | None = None,
    infrastructure: gpd.GeoDataFrame | str | os.PathLike | None = None,
    residential: gpd.GeoDataFrame | str | os.PathLike | None = None,
    districts: gpd.GeoDataFrame | str | os.PathLike | None = None,
    incidents: gpd.GeoDataFrame | str | os.PathLike | None = None,
    finds: gpd.GeoDataFrame | str | os.PathLike | None = None,
    title: str | None = None,
    tiles: str | None = "OpenStreetMap",
    attribution: str | None = None,
    tolerance_m: float = DEFAULT_TOLERANCE_M,
    feature_budget: int = FEATURE_BUDGET,
    public_grid_m: float | None = None,
    workers: int | None = None,
) -> folium.Map:
    """Build an interactive map of hazard areas, land release and priorities.

    Parameters
    ----------
    hazards : geopandas.GeoDataFrame or path
        Hazard areas (as from :func:`minemap.read_hazards`; other input is read with it).
    releases : geopandas.GeoDataFrame or path, optional
        Land-release records (as from :func:`minemap.read_releases`).
    priority : geopandas.GeoDataFrame or path, optional
        Priority zones (polygons); every attribute column is shown in its tooltip.
    roads, infrastructure, residential, districts : geopandas.GeoDataFrame or path, optional
        Context layers (as from :func:`minemap.read_features`).
    incidents, finds : geopandas.GeoDataFrame or path, optional
        Incidents and device finds (as from ``minemap.io.evidence.read_incidents`` and
        ``read_finds``; other input is read with them). Each is a switchable layer of
        markers, clustered on the page at every zoom level (a cluster shows how many
        incidents, or how many devices found, it holds; a single marker's tooltip shows
        its id, date, device type, figures and activity or release), with its totals in
        the legend. A date filter in the legend shows only the points dated within the
        chosen range (all dates at first); clusters and legend totals follow it. A public
        map (``public_grid_m``) leaves both out: the exact position of a victim or a
        device is what a public map must not give, and a count in a grid cell can still
        point at one household's field.
    title : str, optional
        Shown at the top of the legend and as the page title.
    tiles : str or None, default "OpenStreetMap"
        Basemap: a folium tile name, a URL template, a local tile folder template such as
        ``"tiles/{z}/{x}/{y}.png"``, or ``None`` for no basemap. Web tiles are dropped when
        the map is saved with ``offline=True``.
    attribution : str, optional
        Attribution of a custom ``tiles`` template (shown as given, so pass plain text).
    tolerance_m : float, default 5
        Display simplification tolerance in metres (topology-preserving). Figures never
        use display geometry.
    feature_budget : int, default 10,000
        Layers with more features are drawn merged per class (one shape and one tooltip
        per class, simplified to 20 m) so that very large data stays fast and small.
    public_grid_m : float, optional
        Generalised public map: contamination is shown only as hectares per square grid
        cell of this size (metres); no hazard, release or priority boundary, and no hazard
        vertex, goes into the map.
    workers : int, optional
        Threads to use (default: every core this process may use); results are identical
        whatever the number.

    Returns
    -------
    folium.Map
        Save it with :func:`save_map`. In a notebook it displays itself with Leaflet
        inlined, so it draws without a network; set its ``notebook`` attribute (or
        :data:`minemap.maps.settings.notebook` for every map) to ``"offline"`` for no
        network request at all, or ``"cdn"`` to load Leaflet from the web. However often
        it is shown, saved or rendered, it gives the same page.

    Examples
    --------
    >>> from minemap.synthetic import make_scenario
    >>> s = make_scenario(seed=1, high_ha=100, medium_ha=200, low_ha=100)
    >>> m = hazard_map(s.hazards, s.releases, roads=s.roads, tiles=None)
    >>> type(m).__name__
    'Map'
    """
    given = (roads, infrastructure, residential, districts, priority)
    drawn = 1 if public_grid_m is not None else 2 + (releases is not None)
    if public_grid_m is None:  # a public map leaves incidents and finds out
        drawn += (incidents is not None) + (finds is not None)
    total = 3 + drawn + sum(layer is not None for layer in given)
    with using_workers(workers), _progress.task("Map", total, unit="stage") as bar:
        hazards = _as_hazards(
            hazards if isinstance(hazards, gpd.GeoDataFrame) else _io.read_hazards(hazards)
        )
        if releases is not None and not isinstance(releases, gpd.GeoDataFrame):
            releases = _io.read_releases(releases)
        releases = _as_releases(releases)
        if releases is not None and len(releases) == 0:
            releases = None
        if not (tolerance_m >= 0 and math.isfinite(tolerance_m)):
            raise SchemaError(
                f"tolerance_m={tolerance_m!r}: give a display tolerance in metres (0 or more), "
                "e.g. 5."
            )
        if feature_budget < 1:
            raise SchemaError(
                f"feature_budget={feature_budget!r}: give a positive number of features, "
                "e.g. 10000."
            )
        context = {
            kind: _as_layer(src, kind)
            for kind, src in (
                ("roads", roads),
                ("infrastructure", infrastructure),
                ("residential", residential),
                ("districts", districts),
            )
        }
        zones = _as_priority(priority)
        evidence = {
            kind: _pts.as_evidence(src, kind)
            for kind, src in (("incidents", incidents), ("finds", finds))
            if src is not None and public_grid_m is None
        }
        bar.update()
        bar.set_description("Map (hectares and remaining land)")
        figs = _map_data.figures(hazards, releases)
        bar.update()
        bar.set_description("Map (layers)")

        # one central longitude for every layer: data across 180° is drawn on one side of it
        extents = [_geo.project(figs.work, figs.work_crs, _WGS84)]
        for layer in (releases, zones, *evidence.values()):
            if layer is not None:
                extents.append(_geo.project(_geoms(layer), layer.crs, _WGS84))
        extent = np.concatenate(extents)
        centre = _geo.central_longitude(extent)
        with _geo.centred_on(centre):
            layers, notes, public = _layers(
                figs,
                releases,
                zones,
                context,
                hazards,
                tolerance_m,
                feature_budget,
                public_grid_m,
                bar,
            )
            points = [_pts.point_layer(gdf, kind) for kind, gdf in evidence.items()]
            for item in points:
                layers.append(_point_layer(item))
                bar.update()
            bounds = (
                _geo.to_lonlat(public[1], _WGS84)
                if public is not None
                else _geo.wrap_longitudes(extent, centre)
            )
        merged = any(layer.merged for layer in layers)
        notes.insert(
            0,
            "Hectares: true (ellipsoidal) area from the full-resolution data; "
            "released land counts only inside hazard areas.",
        )
        if figs.outside_ha > 0.005 and public_grid_m is None:
            notes.append(f"Released outside hazard areas (not counted): {figs.outside_ha:,.2f} ha.")
        if merged:
            notes.append(
                f"Layers with more than {feature_budget:,} features are drawn merged "
                "per class; hover shows class totals."
            )
        undated = _pts.undated_note(points)
        if undated:
            notes.append(undated)
        if public_grid_m is not None and (incidents is not None or finds is not None):
            notes.append(
                "Incidents and device finds are left out of a public map: their exact "
                "positions are withheld."
            )

        bar.set_description("Map (page)")
        fmap = _build_map(
            layers,
            bounds,
            title=title,
            tiles=tiles,
            attribution=attribution,
            canvas=merged
            or sum(len(b["f"]) for lyr in layers for b in lyr.blocks if b["t"] != "points")
            > feature_budget,
            notes=notes,
            dates=_pts.date_range(points),
        )
        info: dict[str, Any] = {"summary": figs.table, RELEASED_OUTSIDE_HA: figs.outside_ha}
        if public is not None:
            info["grid"] = public[0].table
        setattr(fmap, "minemap", info)  # noqa: B010 - folium.Map declares no such attribute
        return fmap


def _layers(
    figs: Figures,
    releases: gpd.GeoDataFrame | None,
    zones: gpd.GeoDataFrame | None,
    context: dict[str, gpd.GeoDataFrame | None],
    hazards: gpd.GeoDataFrame,
    tolerance_m: float,
    feature_budget: int,
    public_grid_m: float | None,
    bar: _progress.Bar = _progress.NO_BAR,
) -> tuple[list[_Layer], list[str], tuple[_grid.Grid, np.ndarray] | None]:
    """Every layer in drawing order, the legend notes, and the public grid with its cells
    as drawn (lon/lat); ``bar`` moves once per kind of layer."""
    frame = figs.frame
    layers: list[_Layer] = []
    for kind in ("districts", "residential"):
        if context[kind] is not None:
            layers.append(_reference_layer(kind, context[kind], frame, tolerance_m, feature_budget))
            bar.update()
    notes = []
    public = None
    if public_grid_m is not None:
        grid_layers, grid, cells = _public_layers(figs, float(public_grid_m), tolerance_m)
        layers.extend(grid_layers)
        bar.update()
        public = (grid, cells)
        notes.append(
            f"Public generalised map: contamination is shown as hectares per "
            f"{float(public_grid_m):,.0f} m grid cell; exact boundaries are withheld."
        )
    else:
        layers.extend(_hazard_layers(hazards, figs, tolerance_m, feature_budget))
        bar.update()
        if releases is not None:
            layers.extend(_release_layers(releases, figs, tolerance_m, feature_budget))
            bar.update()
        layers.append(_remaining_layer(figs, tolerance_m, feature_budget))
        bar.update()
        if zones is not None:
            layers.append(_priority_layer(zones, frame, tolerance_m, feature_budget))
            bar.update()
    for kind in ("roads", "infrastructure"):
        if context[kind] is not None:
            layers.append(_reference_layer(kind, context[kind], frame, tolerance_m, feature_budget))
            bar.update()
    return layers, notes, public


def _build_map(
    layers: list[_Layer],
    bounds: np.ndarray,
    *,
    title: str | None,
    tiles: str | None,
    attribution: str | None,
    canvas: bool,
    notes: list[str],
    dates: tuple[str, str] | None = None,
) -> folium.Map:
    xmin, ymin, xmax, ymax = (round(float(v), 5) for v in shapely.total_bounds(bounds))
    fmap = folium.Map(
        location=[round((ymin + ymax) / 2, 5), round((xmin + xmax) / 2, 5)],
        zoom_start=10,
        tiles=None,
        prefer_canvas=canvas,
        control_scale=False,
        zoom_snap=0.25,
    )
    page = _page.Page()  # renders the same every time (see minemap.maps._page)
    page.add_child(fmap)
    fmap.default_js = [("leaflet", _LEAFLET_JS)]
    fmap.default_css = [("leaflet_css", _LEAFLET_CSS)]
    if title:
        page.title = _html.text(title)
    if tiles is not None:
        folium.TileLayer(
            tiles, attr=attribution, name="Basemap", control=False, max_zoom=19
        ).add_to(fmap)
    legend_id = "minemap-legend"
    points = any(b["t"] == "points" for layer in layers for b in layer.blocks)
    _Runtime(legend_id, points=points, dates=dates is not None).add_to(fmap)
    for layer in layers:
        group = folium.FeatureGroup(name=layer.name, show=layer.show)
        for block in layer.blocks:
            group.add_child(_DataLayer(block))
        group.add_to(fmap)
    _LayerControl([layer.name for layer in sorted(layers, key=_control_rank)]).add_to(fmap)
    _Legend(_legend_html(legend_id, title, layers, notes, dates)).add_to(fmap)
    _Finish([[ymin, xmin], [ymax, xmax]]).add_to(fmap)
    _html.stabilise_ids(fmap.get_root())
    return fmap


def map_html(fmap: folium.Map, *, offline: bool = False) -> str:
    """The map as one HTML page (what :func:`save_map` writes).

    Parameters
    ----------
    fmap : folium.Map
        A map from :func:`hazard_map` (or any folium map).
    offline : bool, default False
        Inline Leaflet and drop every web reference (see :func:`save_map`).

    Returns
    -------
    str
        The page; the same map always gives the same text, however often it has been
        rendered, saved or shown in a notebook before.

    Examples
    --------
    >>> from minemap.synthetic import make_scenario
    >>> s = make_scenario(seed=1, high_ha=100, medium_ha=200, low_ha=100)
    >>> m = hazard_map(s.hazards, s.releases, tiles=None)
    >>> page = map_html(m, offline=True)
    >>> page.startswith("<!DOCTYPE html>"), "https://" in page, page == map_html(m, offline=True)
    (True, False, True)
    """
    # a folium Map is made inside a Figure and renders only inside one
    return _page.page_html(cast(Figure, fmap.get_root()), offline=offline)


def save_map(fmap: folium.Map, path: str | os.PathLike, *, offline: bool = False) -> str:
    """Write a map as one HTML file, whole or not at all.

    Parameters
    ----------
    fmap : folium.Map
        A map from :func:`hazard_map`.
    path : path-like
        Output ``.html`` file.
    offline : bool, default False
        Write a self-contained page that makes no network request: Leaflet (from the
        installed ``xstatic-leaflet`` package) and minemap's CSS/JS are inlined, web tile
        layers are dropped (a local tile template such as ``tiles/{z}/{x}/{y}.png`` is
        kept), and nothing else is loaded. Raises :class:`~minemap.OutputError` if anything
        added to the map would still reach the network.

    Returns
    -------
    str
        The path written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from minemap.synthetic import make_scenario
    >>> s = make_scenario(seed=1, high_ha=100, medium_ha=200, low_ha=100)
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "map.html"
    >>> _ = save_map(hazard_map(s.hazards, s.releases), out, offline=True)
    >>> "https://" in out.read_text(encoding="utf-8")
    False
    """
    with _progress.task(f"Writing {os.path.basename(path)}", 2, unit="stage") as bar:
        page = map_html(fmap, offline=offline)
        bar.update()
        return str(_io.write_text(path, page))
