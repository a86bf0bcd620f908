"""A project: a programme's layers opened once, with every figure one call away.

A planner should not wire six readers by hand. :func:`open_project` opens a GeoPackage that
holds the usual layers (``hazards``, ``releases``, ``roads``, ``infrastructure``,
``residential``, ``districts``) or a folder of files named after them (``hazards.geojson``,
``releases.shp``, ``population.tif``, ``capacity.toml``, ...), with a mapping for other
names. The :class:`Project` then offers the summary, progress, priorities, ranking, plan, map
and report, each one call to the public function of the same job, and shows itself (and its
tables) in Jupyter with hectares formatted.

>>> import minemap
>>> project = minemap.open_project(minemap.sample_data())
>>> project
<minemap.Project 'sample_data-...': hazards (220), releases (139), roads (30), ...>
>>> project.sources["hazards"].crs
'EPSG:4326'
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import html
import os
import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import geopandas as gpd
import pandas as pd

from minemap import io as _io
from minemap._display import HectareTable, hectare_table, table_html
from minemap._errors import InputFileError, MinemapError, SchemaError
from minemap.settings import FIND_DATE, INCIDENT_DATE, RELEASE_DATE, THREAT_LEVEL

if TYPE_CHECKING:
    import folium
    from matplotlib.figure import Figure

    from minemap.planning import Capacity, HistoricRate, Plan

__all__ = ["LAYER_KINDS", "Project", "Source", "open_project"]

#: Vector layers a project knows, in the order they are read and listed.
LAYER_KINDS: tuple[str, ...] = (
    "hazards",
    "releases",
    "roads",
    "infrastructure",
    "residential",
    "districts",
    "incidents",
    "finds",
    "records",
    "settlements",
)
#: Field-evidence layers and their readers.
_EVIDENCE_READERS: dict[str, Callable[..., gpd.GeoDataFrame]] = {
    "incidents": _io.read_incidents,
    "finds": _io.read_finds,
    "records": _io.read_records,
    "settlements": _io.read_settlements,
}
#: File suffixes a folder's layers are looked for under, in order of preference.
_VECTOR_SUFFIXES = (
    ".gpkg",
    ".geojson",
    ".json",
    ".fgb",
    ".parquet",
    ".shp",
    ".zip",
    ".csv",
    ".geoparquet",
)
_RASTER_SUFFIXES = (".tif", ".tiff")
_SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")
#: Bytes read at a time when hashing an input.
_CHUNK = 1 << 20


_P = ParamSpec("_P")
_R = TypeVar("_R")


def _warns_at_caller(function: Callable[_P, _R]) -> Callable[_P, _R]:
    """Issue the warnings of a project's computation at the line that asked for it (a
    notebook cell, a script), not at a line of this module: what a planner sees under a
    cell is their own call."""

    @functools.wraps(function)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        records: list[warnings.WarningMessage] = []
        try:
            with warnings.catch_warnings(record=True) as records:
                warnings.simplefilter("always")
                return function(*args, **kwargs)
        finally:
            for record in records:
                warnings.warn(record.message, record.category, stacklevel=2)

    return wrapper


@dataclass(frozen=True)
class Source:
    """Where one layer of a project came from, to trace every figure to its data.

    Attributes
    ----------
    kind : str
        ``hazards``, ``releases``, ..., ``population`` or ``capacity``.
    path : str
        The file (or ``"(in memory)"`` for a GeoDataFrame given directly).
    layer : str or None
        The layer inside a multi-layer file.
    features : int or None
        Features read (None for a raster or a capacity file).
    crs : str
        The layer's coordinate reference system as read.
    sha256 : dict
        SHA-256 of every file the layer was read from (a Shapefile is several files), or of
        the content (``"content"``: geometry as WKB and attributes) when in memory.

    Examples
    --------
    >>> import minemap
    >>> source = minemap.open_project(minemap.sample_data()).sources["roads"]
    >>> source.kind, source.features, source.crs, list(source.sha256)
    ('roads', 30, 'EPSG:4326', ['roads.geojson'])
    """

    kind: str
    path: str
    layer: str | None = None
    features: int | None = None
    crs: str = ""
    sha256: Mapping[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        """The source as plain values (for JSON and tables)."""
        return {
            "kind": self.kind,
            "path": self.path,
            "layer": self.layer,
            "features": self.features,
            "crs": self.crs,
            "sha256": dict(self.sha256),
        }


def file_sha256(path: str | os.PathLike) -> str:
    """The SHA-256 of a file's bytes, read in chunks.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.txt"
    >>> _ = p.write_bytes(b"abc")
    >>> file_sha256(p)[:16]
    'ba7816bf8f01cfea'
    """
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def content_sha256(frame: gpd.GeoDataFrame) -> str:
    """A SHA-256 of a layer's content: its geometry as WKB and its attributes as CSV."""
    digest = hashlib.sha256()
    for wkb in frame.geometry.to_wkb():
        digest.update(wkb if wkb is not None else b"")
    attributes = frame.drop(columns=frame.geometry.name)
    digest.update(attributes.to_csv(index=False).encode("utf-8"))
    return digest.hexdigest()


def _source_files(path: Path) -> list[Path]:
    if path.is_dir():  # a partitioned GeoParquet layer: every part file
        from minemap.io.parquet import _layer_files

        return _layer_files(path)
    if path.suffix.lower() == ".shp":
        return [p for p in (path.with_suffix(s) for s in _SHAPEFILE_PARTS) if p.is_file()]
    return [path]


def _crs_text(frame: gpd.GeoDataFrame) -> str:
    if frame.crs is None:
        return ""
    epsg = frame.crs.to_epsg()
    if epsg:
        return f"EPSG:{epsg}"
    name = str(frame.crs.name)
    return name if name and name != "unknown" else str(frame.crs.to_string())


def describe_source(
    kind: str, frame: gpd.GeoDataFrame, path: Path | None, layer: str | None = None
) -> Source:
    """Where a layer came from: its file (and every file a Shapefile is made of) with their
    SHA-256, or the content's SHA-256 when ``path`` is None (a GeoDataFrame in memory)."""
    if path is None:
        return Source(
            kind,
            "(in memory)",
            None,
            len(frame),
            _crs_text(frame),
            {"content": content_sha256(frame)},
        )
    hashes = {p.name: file_sha256(p) for p in _source_files(path)}
    return Source(kind, str(path), layer, len(frame), _crs_text(frame), hashes)


@dataclass
class Project:
    """A programme's layers, read and validated once, and the figures made from them.

    Make one with :func:`open_project` (files) or directly from GeoDataFrames; every method
    is one call to the public function of the same job (:func:`minemap.land_release_summary`,
    :func:`minemap.progress_over_time`, :func:`minemap.priority_zones`,
    :func:`minemap.rank_hazards`, :func:`minemap.planning.plan_clearance`,
    :func:`minemap.hazard_map`), so a project never computes a figure differently.

    Attributes
    ----------
    hazards : geopandas.GeoDataFrame
        Hazard areas, as :func:`minemap.read_hazards` returns them.
    releases, roads, infrastructure, residential, districts : geopandas.GeoDataFrame or None
        The other layers, when the project has them.
    incidents, finds, records, settlements : geopandas.GeoDataFrame or None
        Field evidence (:mod:`minemap.io.evidence`): casualty incidents, device finds,
        handed-over minefield records and settlements, when the project has them.
    population : path-like or None
        A population raster (GeoTIFF), for the ranking's population criterion.
    capacity : minemap.planning.Capacity or None
        The clearance capacity, for :meth:`plan`.
    sources : dict
        Where each layer came from (:class:`Source`: file, layer, features, CRS, SHA-256).
    name : str
        The project's name (the file or folder name), used as a title.

    Examples
    --------
    >>> import minemap
    >>> from minemap.synthetic import make_scenario
    >>> s = make_scenario(seed=1, high_ha=100, medium_ha=200, low_ha=100)
    >>> project = minemap.Project(s.hazards, roads=s.roads, name="demo")
    >>> project.summary()[["threat_level", "hazard_ha"]].round(1)
      threat_level  hazard_ha
    0         high      100.0
    1       medium      200.0
    2          low      100.0
    3        total      400.0
    """

    hazards: gpd.GeoDataFrame
    releases: gpd.GeoDataFrame | None = None
    roads: gpd.GeoDataFrame | None = None
    infrastructure: gpd.GeoDataFrame | None = None
    residential: gpd.GeoDataFrame | None = None
    districts: gpd.GeoDataFrame | None = None
    incidents: gpd.GeoDataFrame | None = None
    finds: gpd.GeoDataFrame | None = None
    records: gpd.GeoDataFrame | None = None
    settlements: gpd.GeoDataFrame | None = None
    population: str | os.PathLike | None = None
    capacity: Capacity | None = None
    sources: dict[str, Source] = field(default_factory=dict)
    name: str = "minemap project"

    def __post_init__(self) -> None:
        for kind in LAYER_KINDS:
            frame = getattr(self, kind)
            if frame is not None and kind not in self.sources:
                self.sources[kind] = describe_source(kind, frame, None, None)
        if self.population is not None and "population" not in self.sources:
            path = Path(self.population)
            if not path.is_file():
                what = "is a folder" if path.is_dir() else "no such file"
                raise InputFileError(
                    f"population {path}: {what}; give the population raster (a GeoTIFF of "
                    "people per cell)."
                )
            self.sources["population"] = Source(
                "population", str(path), sha256={path.name: file_sha256(path)}
            )
        if self.capacity is not None and "capacity" not in self.sources:
            self.sources["capacity"] = _capacity_source(self.capacity)

    # -- layers ------------------------------------------------------------------------------

    def as_of(self, date: object) -> Project:
        """The project as it stood on ``date``: the same layers, with only the release records,
        incidents and device finds dated on or before it (an ISO date, or a bare year for
        31 December).

        Every figure of the returned project (summary, progress, priorities, ranking, plan,
        map, report) then counts the land released by that day.

        Examples
        --------
        >>> import minemap
        >>> from minemap.synthetic import make_scenario
        >>> s = make_scenario(seed=1, high_ha=100, medium_ha=200, low_ha=100)
        >>> project = minemap.Project(s.hazards, s.releases)
        >>> len(project.as_of(2022).releases) < len(project.releases)
        True
        """
        from dataclasses import replace

        from minemap.stats import _as_timestamp

        day = _as_timestamp(date)
        if day is None:
            return self
        dated = {}
        for kind, column in (
            ("releases", RELEASE_DATE),
            ("incidents", INCIDENT_DATE),
            ("finds", FIND_DATE),
        ):
            layer = getattr(self, kind)
            if layer is not None:
                kept = layer.loc[(pd.to_datetime(layer[column]) <= day).to_numpy()]
                kept.attrs = dict(layer.attrs)
                dated[kind] = kept
        return replace(self, **dated, sources=dict(self.sources))

    @property
    def _evidence_points(self) -> dict[str, gpd.GeoDataFrame]:
        """The incidents and finds layers the project has (for the ranking and the map)."""
        return {
            kind: getattr(self, kind)
            for kind in ("incidents", "finds")
            if getattr(self, kind) is not None
        }

    @property
    def features(self) -> dict[str, gpd.GeoDataFrame]:
        """The priority feature layers the project has, by kind."""
        return {
            kind: frame
            for kind in ("roads", "infrastructure", "residential")
            if (frame := getattr(self, kind)) is not None
        }

    def layers(self) -> HectareTable:
        """One row per input: kind, file, layer, features, CRS and SHA-256."""
        rows = []
        for source in self.sources.values():
            row = source.as_dict()
            row["sha256"] = "; ".join(f"{k} {v}" for k, v in source.sha256.items())
            rows.append(row)
        return hectare_table(pd.DataFrame(rows), caption="Inputs")

    # -- figures -----------------------------------------------------------------------------

    def _by(self, by: object) -> object:
        """``by="district"`` means the districts layer when the hazards have no such column."""
        if isinstance(by, str) and by == "district" and self.districts is not None:
            return self.districts
        return by

    @_warns_at_caller
    def summary(
        self,
        *,
        by: str | Sequence[str] | None = None,
        as_of: object | None = None,
        workers: int | None = None,
    ) -> HectareTable:
        """Hectares and percentages per threat level (and ``by``), as of a date.

        ``by="district"`` splits the area by the districts layer's polygons when the project
        has one (exact even where a hazard crosses a boundary), else by the hazards'
        ``district`` column. See
        :func:`minemap.land_release_summary` for the columns, the area rules and
        ``workers`` (threads to use; the other methods pass it on in their options too).
        """
        from minemap.stats import land_release_summary

        table = land_release_summary(
            self.hazards, self.releases, by=self._by(by), as_of=as_of, workers=workers
        )
        when = f" as of {table.attrs['as_of']}" if table.attrs.get("as_of") else ""
        return hectare_table(table, caption=f"Land release{when} (hectares)")

    def _need_releases(self, what: str) -> gpd.GeoDataFrame:
        if self.releases is None:
            raise SchemaError(
                f"{self.name}: {what} needs land-release records; the project has no "
                "releases layer (add releases.* to the folder, a 'releases' layer to the "
                "GeoPackage, or layers={'releases': ...})."
            )
        return self.releases

    @_warns_at_caller
    def progress(self, *, freq: str = "QE") -> HectareTable:
        """Cumulative figures at the end of every period (default quarterly); see
        :func:`minemap.progress_over_time`."""
        from minemap.stats import progress_over_time

        table = progress_over_time(self.hazards, self._need_releases("progress"), freq=freq)
        return hectare_table(table, caption="Progress over time (hectares)")

    @_warns_at_caller
    def progress_chart(self, *, freq: str = "QE", title: str | None = None) -> Figure:
        """The progress chart (:func:`minemap.plot_progress`)."""
        from minemap.plots import plot_progress

        return plot_progress(self.progress(freq=freq), title=title)

    @_warns_at_caller
    def historic_rate(self, *, window_years: int = 2) -> HistoricRate:
        """Hectares released per year over the last years of records
        (:func:`minemap.planning.historic_rate`)."""
        from minemap.planning import historic_rate

        return historic_rate(
            self._need_releases("a historic rate"), self.hazards, window_years=window_years
        )

    @_warns_at_caller
    def priorities(self, **options: Any) -> gpd.GeoDataFrame:
        """Remaining hazard area near residential areas, infrastructure and roads
        (:func:`minemap.priority_zones`; ``options`` go to it)."""
        from minemap.priority import priority_zones

        if not self.features:
            raise SchemaError(
                f"{self.name}: priority zones need roads, infrastructure or residential "
                "areas; the project has none of these layers."
            )
        return priority_zones(self.hazards, self.releases, **self.features, **options)

    @_warns_at_caller
    def priority_hectares(self, **options: Any) -> HectareTable:
        """Remaining hectares per priority category and threat level (a pivot of
        :meth:`priorities`), with a total row and column."""
        zones = self.priorities(**options)
        return hectare_table(priority_table(zones), caption="Remaining hectares by priority")

    @_warns_at_caller
    def ranking(self, *, weights: object | None = None, **options: Any) -> gpd.GeoDataFrame:
        """The clearance ranking (:func:`minemap.rank_hazards`), with the project's feature
        layers and population raster."""
        from minemap.ranking import rank_hazards

        return rank_hazards(
            self.hazards,
            self.releases,
            **self.features,
            population=self.population,
            weights=weights,  # type: ignore[arg-type]
            **{**self._evidence_points, **options},
        )

    @_warns_at_caller
    def plan(
        self,
        capacity: Capacity | str | os.PathLike | None = None,
        *,
        start: object | None = None,
        ranking: pd.DataFrame | None = None,
        draws: int = 0,
        seed: int | None = None,
        **options: Any,
    ) -> Plan:
        """When clearance will be done with ``capacity`` (default: the project's), in the
        order of the ranking when the project has feature layers, else by threat level
        (:func:`minemap.planning.plan_clearance`). ``start`` defaults to today."""
        from minemap.planning import Capacity, plan_clearance

        chosen = capacity if capacity is not None else self.capacity
        if chosen is None:
            raise SchemaError(
                f"{self.name}: a plan needs a capacity; pass one (a Capacity or a TOML "
                "file; 'minemap capacity-template' writes a starting point) or add "
                "capacity.toml to the project folder."
            )
        if not isinstance(chosen, Capacity):
            chosen = Capacity.from_toml(chosen)
        if ranking is None and self.features:
            ranking = self.ranking()
        queue = ranking if ranking is not None else self.hazards
        return plan_clearance(
            queue,
            chosen,
            start=start if start is not None else dt.date.today(),
            releases=self.releases,
            draws=draws,
            seed=seed,
            **options,
        )

    @_warns_at_caller
    def compare(
        self,
        scenarios: Mapping[str, Capacity | str | os.PathLike],
        *,
        start: object | None = None,
        ranking: pd.DataFrame | None = None,
        draws: int = 0,
        seed: int | None = None,
        **options: Any,
    ) -> tuple[pd.DataFrame, dict[str, Plan]]:
        """Plans for several capacities side by side (:func:`minemap.compare_plans`), in the
        order :meth:`plan` uses; ``scenarios`` maps a name to a Capacity or a TOML file.

        Returns the comparison table (one row per scenario) and the plans by name.
        """
        from minemap.planning import Capacity, compare_plans

        capacities = {
            name: value if isinstance(value, Capacity) else Capacity.from_toml(value)
            for name, value in scenarios.items()
        }
        if not capacities:
            raise SchemaError(f"{self.name}: compare needs at least one scenario.")
        if ranking is None and self.features:
            ranking = self.ranking()
        table, plans = compare_plans(
            capacities,
            ranking if ranking is not None else self.hazards,
            start=start if start is not None else dt.date.today(),
            releases=self.releases,
            draws=draws,
            seed=seed,
            **options,
        )
        return hectare_table(table, caption="Capacity scenarios"), plans

    @_warns_at_caller
    def map(
        self, *, public: bool = False, public_grid_m: float = 1000.0, **options: Any
    ) -> folium.Map:
        """The interactive map (:func:`minemap.hazard_map`) with every layer of the project.

        ``public=True`` draws the generalised grid (``public_grid_m`` cells) and no hazard
        geometry. In a notebook it draws with no network (see
        :data:`minemap.maps.settings.notebook`).
        """
        from minemap.maps import hazard_map

        options.setdefault("title", self.name)
        if public:
            options["public_grid_m"] = public_grid_m
        return hazard_map(
            self.hazards,
            self.releases,
            districts=self.districts,
            **self.features,
            **{**self._evidence_points, **options},
        )

    @_warns_at_caller
    def report(
        self,
        path: str | os.PathLike,
        *,
        pdf: str | os.PathLike | None = None,
        **options: Any,
    ) -> Path:
        """Write the one-file HTML report (and a PDF) of the project; see
        :func:`minemap.report.write_report` for the options."""
        from minemap.report import write_report

        return write_report(self, path, pdf=pdf, **options)

    # -- display -----------------------------------------------------------------------------

    def _repr_html_(self) -> str:
        rows = self.layers()
        rows = rows.drop(columns=["sha256"])
        levels = self.hazards[THREAT_LEVEL].value_counts().reindex(["high", "medium", "low"])
        counts = ", ".join(f"{int(n):,} {lvl}" for lvl, n in levels.fillna(0).items())
        return (
            f"<div class='minemap-project'><strong>{html.escape(self.name)}</strong>: "
            f"{len(self.hazards):,} hazards ({html.escape(counts)})"
            f"{table_html(rows)}<p>Figures: <code>.summary()</code>, "
            "<code>.progress()</code>, <code>.priority_hectares()</code>, "
            "<code>.ranking()</code>, <code>.plan()</code>, <code>.compare()</code>, "
            "<code>.map()</code>, "
            "<code>.report(path)</code>.</p></div>"
        )

    def __repr__(self) -> str:
        layers = ", ".join(
            f"{s.kind} ({s.features:,})" if s.features is not None else s.kind
            for s in self.sources.values()
        )
        return f"<minemap.Project {self.name!r}: {layers}>"


def priority_table(zones: gpd.GeoDataFrame) -> pd.DataFrame:
    """Remaining hectares per priority category (rows) and threat level (columns), with
    totals; a place counts once, in its first category (as :func:`minemap.priority_zones`
    assigns it)."""
    from minemap.settings import THREAT_LEVELS

    order = list(zones.attrs.get("order") or zones["category"].drop_duplicates())
    pivot = zones.pivot_table(
        index="category", columns=THREAT_LEVEL, values="zone_ha", aggfunc="sum", fill_value=0.0
    )
    pivot = pivot.reindex(index=order, columns=list(THREAT_LEVELS), fill_value=0.0)
    pivot.columns = [f"{level}_ha" for level in pivot.columns]
    pivot["total_ha"] = pivot.sum(axis=1)
    total = pivot.sum(axis=0).to_frame().T
    total.index = ["total"]
    table = pd.concat([pivot, total])
    table.index.name = "category"
    return table.reset_index()


def _capacity_source(capacity: Capacity) -> Source:
    source = getattr(capacity, "source", "") or "(in memory)"
    path = Path(source)
    hashes = {path.name: file_sha256(path)} if path.is_file() else {}
    return Source("capacity", str(source), sha256=hashes)


def _is_layer(path: Path, suffixes: Sequence[str]) -> bool:
    """A file, or (for a vector layer) a partitioned GeoParquet folder."""
    if path.is_file():
        return True
    if suffixes is not _VECTOR_SUFFIXES or not path.is_dir():
        return False
    from minemap.io.parquet import is_partitioned

    return is_partitioned(path)


def _find_in_folder(folder: Path, name: str, suffixes: Sequence[str]) -> Path | None:
    for suffix in suffixes:
        candidate = folder / f"{name}{suffix}"
        if _is_layer(candidate, suffixes):
            return candidate
    return None


def _resolve(
    base: Path, kind: str, mapped: str | os.PathLike | None, suffixes: Sequence[str]
) -> tuple[Path | None, str | None]:
    """The file and layer of one kind: ``(path, layer)``, or ``(None, None)`` if absent."""
    if base.is_dir():
        if mapped is not None:
            given = Path(mapped)
            path = given if given.is_absolute() else base / given
            if _is_layer(path, suffixes):
                return path, None
            found = _find_in_folder(base, str(mapped), suffixes)
            if found is None:
                example = f"'{mapped}'" if given.suffix else f"'{mapped}{suffixes[1]}'"
                raise InputFileError(
                    f"{base}: layers={{'{kind}': '{mapped}'}} names no file there; give the "
                    f"name of a file in that folder (such as {example}) or a path."
                )
            return found, None
        found = _find_in_folder(base, kind, suffixes)
        packages = sorted(base.glob("*.gpkg"))
        if found is None and suffixes is _VECTOR_SUFFIXES and len(packages) == 1:
            return _resolve(packages[0], kind, None, suffixes)  # a folder with one GeoPackage
        return found, None
    # one multi-layer file (a GeoPackage)
    if mapped is not None and Path(mapped).suffix and _is_layer(Path(mapped), suffixes):
        return Path(mapped), None
    layers = _io.list_layers(base)
    layer = str(mapped) if mapped is not None else kind
    if layer in layers:
        return base, layer
    if mapped is not None:
        raise InputFileError(
            f"{base}: layers={{'{kind}': '{mapped}'}}: no such layer; the file has "
            f"{', '.join(repr(n) for n in layers)}."
        )
    return None, None


@_warns_at_caller
def open_project(
    source: str | os.PathLike,
    *,
    layers: Mapping[str, str | os.PathLike] | None = None,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    crs: object | None = None,
    capacity: Capacity | str | os.PathLike | None = None,
    name: str | None = None,
) -> Project:
    """Open a project: a GeoPackage with the usual layers, or a folder of files.

    Parameters
    ----------
    source : path-like
        A GeoPackage holding layers named ``hazards``, ``releases``, ``roads``,
        ``infrastructure``, ``residential``, ``districts`` and the field evidence
        (``incidents``, ``finds``, ``records``, ``settlements``; only ``hazards`` is required),
        or a folder holding files with those names (any format minemap reads, e.g.
        ``hazards.geojson``, ``releases.shp``, or a partitioned GeoParquet folder such as
        ``hazards.parquet/``), a ``population.tif`` and a ``capacity.toml``.
    layers : mapping, optional
        Other names, by kind: ``{"hazards": "SHA_polygons", "releases": "tasks.shp"}``
        (layer names in a GeoPackage; file names or paths in a folder; a path to a file also
        works for a GeoPackage project). Kinds: the ten layers, ``population`` and
        ``capacity``.
    options : mapping, optional
        Reader options by kind, for columns and vocabularies that differ, e.g.
        ``{"hazards": {"threat_column": "risk", "level_map": {"CHA": "high"}}}`` (see
        :func:`minemap.read_hazards`, :func:`minemap.read_releases`,
        :func:`minemap.read_features`, :func:`minemap.read_incidents`, ...).
    crs : optional
        CRS for layers that carry none (a Shapefile without ``.prj``, a CSV).
    capacity : Capacity or path-like, optional
        The clearance capacity (default: ``capacity.toml`` in a folder, if there).
        A GeoPackage project looks for no file beside it: give a population raster or a
        capacity file next to a GeoPackage with ``layers={"population": "population.tif",
        "capacity": "capacity.toml"}`` (or open the folder that holds them all).
    name : str, optional
        The project's title (default: the file or folder name).

    Returns
    -------
    Project

    Raises
    ------
    InputFileError
        ``source`` does not exist, has no hazards layer, or ``layers`` names something
        that is not there (the message lists what is).

    Examples
    --------
    >>> import minemap
    >>> project = minemap.open_project(minemap.sample_data() / "scenario.gpkg")
    >>> sorted(project.features)
    ['infrastructure', 'residential', 'roads']
    >>> project.name
    'scenario'
    """
    if _io.is_database_url(source):
        raise InputFileError(
            f"{_io.display_url(str(source))}: a project opens a GeoPackage or a folder; read "
            "a database's tables with minemap.read_hazards(url, table=...) and the other "
            "readers, and pass the layers to Project(...)."
        )
    base = Path(source)
    if not base.exists():
        raise InputFileError(f"{base}: no such file or folder.")
    mapping = _kinds("layers", layers, {*LAYER_KINDS, "population", "capacity"})
    reader_options = {
        kind: _reader_options(kind, given)
        for kind, given in _kinds("options", options, set(LAYER_KINDS)).items()
    }
    frames: dict[str, gpd.GeoDataFrame | None] = {}
    sources: dict[str, Source] = {}
    for kind in LAYER_KINDS:
        path, layer = _resolve(base, kind, mapping.get(kind), _VECTOR_SUFFIXES)
        if path is None:
            if kind == "hazards":
                where = "a file named hazards.*" if base.is_dir() else "a layer named 'hazards'"
                raise InputFileError(
                    f"{base}: no hazards found; the project needs {where}, or "
                    "layers={'hazards': ...} naming it."
                )
            frames[kind] = None
            continue
        frame = _read_layer(kind, path, layer, crs, reader_options.get(kind, {}))
        frames[kind] = frame
        sources[kind] = describe_source(kind, frame, path, layer)
    population = None
    raster_dir = base if base.is_dir() else base.parent
    mapped_raster = mapping.get("population")
    if mapped_raster is not None or base.is_dir():
        raster, _ = (
            _resolve(raster_dir, "population", mapped_raster, _RASTER_SUFFIXES)
            if raster_dir.is_dir()
            else (None, None)
        )
        if raster is not None:
            population = raster
    chosen_capacity = capacity
    mapped_capacity = mapping.get("capacity")
    if chosen_capacity is None and (mapped_capacity is not None or base.is_dir()):
        found, _ = _resolve(raster_dir, "capacity", mapped_capacity, (".toml",))
        chosen_capacity = found
    if chosen_capacity is not None and not _is_capacity(chosen_capacity):
        from minemap.planning import Capacity

        chosen_capacity = Capacity.from_toml(chosen_capacity)  # type: ignore[arg-type]
    return Project(
        hazards=frames["hazards"],
        releases=frames["releases"],
        roads=frames["roads"],
        infrastructure=frames["infrastructure"],
        residential=frames["residential"],
        districts=frames["districts"],
        incidents=frames["incidents"],
        finds=frames["finds"],
        records=frames["records"],
        settlements=frames["settlements"],
        population=population,
        capacity=chosen_capacity,  # type: ignore[arg-type]
        sources=sources,
        name=name or (base.stem if base.is_file() else base.resolve().name),
    )


def _kinds(name: str, given: object, allowed: set[str]) -> dict[str, Any]:
    """``layers=`` or ``options=`` as a dict by kind, refusing anything else in one line."""
    if given is None:
        return {}
    order = [k for k in (*LAYER_KINDS, "population", "capacity") if k in allowed]
    if not isinstance(given, Mapping):
        raise SchemaError(
            f"{name}= takes a dict by kind, e.g. {name}={{'hazards': ...}}, not "
            f"{type(given).__name__} {given!r:.60}; kinds: {', '.join(order)}."
        )
    unknown = sorted(str(k) for k in set(given) - allowed)
    if unknown:
        raise SchemaError(f"{name}=: unknown kind {unknown[0]!r}; use one of {', '.join(order)}.")
    return dict(given)


def _reader_options(kind: str, given: object) -> dict[str, Any]:
    """One layer's reader options, checked against what its reader takes."""
    import inspect

    readers: dict[str, Callable[..., Any]] = {
        "hazards": _io.read_hazards,
        "releases": _io.read_releases,
    }
    reader = readers.get(kind) or _EVIDENCE_READERS.get(kind, _io.read_features)
    accepted = [
        p.name
        for p in inspect.signature(reader).parameters.values()
        if p.kind is inspect.Parameter.KEYWORD_ONLY and p.name != "kind"
    ]
    if not isinstance(given, Mapping):
        raise SchemaError(
            f"options={{'{kind}': ...}} takes a dict of reader options, e.g. "
            f"{{'{kind}': {{'{accepted[1]}': ...}}}}, not {type(given).__name__}."
        )
    unknown = sorted(str(k) for k in set(given) - set(accepted))
    if unknown:
        raise SchemaError(
            f"options={{'{kind}': ...}}: {unknown[0]!r} is not an option of "
            f"{reader.__name__}; it takes {', '.join(accepted)}."
        )
    return dict(given)


def _is_capacity(value: object) -> bool:
    from minemap.planning import Capacity

    return isinstance(value, Capacity)


#: A reader option named in a message (``threat_column=``, ``crs='EPSG:4326'``).
_OPTION_IN_MESSAGE = re.compile(r"\b[a-z_]+=")


def _read_layer(
    kind: str, path: Path, layer: str | None, crs: object | None, options: dict[str, Any]
) -> gpd.GeoDataFrame:
    """Read one layer; an error whose fix is a reader option also says where that option
    goes in :func:`open_project` (``options={'hazards': {...}}``), since open_project takes
    no ``threat_column=`` of its own."""
    try:
        return _read(kind, path, layer, crs, options)
    except MinemapError as exc:
        message = str(exc)
        if isinstance(exc, InputFileError) or not _OPTION_IN_MESSAGE.search(message):
            raise
        raise type(exc)(
            f"{message} With open_project, give such options for this layer as "
            f"options={{{kind!r}: {{...}}}}."
        ) from None


def _read(
    kind: str, path: Path, layer: str | None, crs: object | None, options: dict[str, Any]
) -> gpd.GeoDataFrame:
    options.setdefault("crs", crs)
    if layer is not None:
        options.setdefault("layer", layer)
    if kind == "hazards":
        return _io.read_hazards(path, **options)
    if kind == "releases":
        return _io.read_releases(path, **options)
    if kind in _EVIDENCE_READERS:
        return _EVIDENCE_READERS[kind](path, **options)
    feature_kind = kind if kind != "districts" else "any"
    options.setdefault("kind", feature_kind)
    return _io.read_features(path, **options)
