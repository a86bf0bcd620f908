"""Data-quality checks on hazard and release layers: one row per finding, by feature id.

:func:`check_layers` looks at layers *as they are stored* (read with
:func:`minemap.io.read_layer`, which repairs nothing, or any GeoDataFrame) and lists what a
GIS officer should fix before the figures are trusted: invalid, empty or non-polygon
geometries, duplicate ids and geometries, hazards of different threat levels overlapping,
release recorded outside every hazard, implausible areas and unknown threat levels. It is
the file (and table) counterpart of the SQL views GICHD's geocheck publishes for IMSMA
databases. It never repairs anything: where a check needs a usable polygon (areas,
overlaps), an invalid one is measured as GEOS makes it valid (:func:`shapely.make_valid`),
and it is reported as ``invalid`` too.

Areas are true ellipsoidal square metres (:func:`minemap.crs.area_m2`); pairs of
overlapping features are found with an STRtree, never by comparing every pair.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from minemap import crs as _crs
from minemap._errors import CRSError, SchemaError, option_hint
from minemap._overlay import intersecting_pairs, polygonal_parts, robust, subtract_pairs, valid
from minemap.settings import HAZARD_ID, RELEASE_ID, THREAT_LEVEL, THREAT_LEVELS
from minemap.vocabulary import THREAT_ALIASES, canonical_word, resolve_aliases

__all__ = [
    "CHECKS",
    "FINDING_COLUMNS",
    "MAX_AREA_M2",
    "MIN_AREA_M2",
    "OUTSIDE_TOLERANCE_M2",
    "OVERLAP_TOLERANCE_M2",
    "QualityReport",
    "check_layers",
]

#: Every check and its severity. An ``error`` makes the layer unusable as it is (minemap's
#: readers would refuse or repair it); a ``warning`` flags data to look at.
CHECKS: dict[str, str] = {
    "empty": "error",
    "not_polygon": "error",
    "invalid": "error",
    "duplicate_id": "error",
    "missing_id": "warning",
    "duplicate_geometry": "warning",
    "unknown_level": "warning",
    "implausible_area": "warning",
    "overlap_different_level": "warning",
    "released_outside": "warning",
}

#: Columns of :attr:`QualityReport.findings`.
FINDING_COLUMNS: tuple[str, ...] = (
    "layer",
    "row",
    "id",
    "check",
    "severity",
    "detail",
    "other_id",
    "area_m2",
)

#: A polygon smaller than this (m²) is reported as ``implausible_area``: a digitising slip.
MIN_AREA_M2 = 1.0
#: A polygon larger than this (m², 100 km²) is reported as ``implausible_area``.
MAX_AREA_M2 = 100e6
#: Hazards of different levels sharing at most this much area (m²) are not reported.
OVERLAP_TOLERANCE_M2 = 1.0
#: A release with at most this much area (m²) outside every hazard is not reported.
OUTSIDE_TOLERANCE_M2 = 1.0

_GEOS_REASON = re.compile(r"^(?P<what>.*?)\s*\[(?P<x>\S+)\s+(?P<y>\S+)\]\s*$")
_TYPE_NAMES = {
    0: "a Point",
    1: "a LineString",
    2: "a LinearRing",
    4: "a MultiPoint",
    5: "a MultiLineString",
    7: "a GeometryCollection",
}


@dataclass(frozen=True)
class QualityReport:
    """What :func:`check_layers` found.

    Attributes
    ----------
    findings : pandas.DataFrame
        One row per finding, columns :data:`FINDING_COLUMNS`: ``layer`` (``hazards`` or
        ``releases``), ``row`` (1-based position in the layer), ``id`` (the feature id as
        text; ``row N`` when the feature has none), ``check`` (a key of :data:`CHECKS`),
        ``severity`` (``error`` or ``warning``), ``detail`` (what is wrong, in words),
        ``other_id`` (the other feature of a pair, else None) and ``area_m2`` (the area the
        finding is about: overlap, area outside, polygon area; NaN for the others).
    features : dict
        Number of features checked per layer.
    notes : tuple of str
        What could not be checked, or how features are named (e.g. no id column).

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> layer = gpd.GeoDataFrame(
    ...     {"hazard_id": ["H1", "H1"], "threat_level": ["high", "low"]},
    ...     geometry=[shapely.box(46.0, 39.0, 46.01, 39.01), shapely.box(46.1, 39.0, 46.11, 39.01)],
    ...     crs=4326,
    ... )
    >>> report = check_layers(layer)
    >>> report.errors, report.counts()
    (2, {'duplicate_id': 2})
    """

    findings: pd.DataFrame
    features: dict[str, int] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def errors(self) -> int:
        """Number of findings at ``error`` severity."""
        return int((self.findings["severity"] == "error").sum())

    @property
    def warnings(self) -> int:
        """Number of findings at ``warning`` severity."""
        return int((self.findings["severity"] == "warning").sum())

    def counts(self) -> dict[str, int]:
        """Findings per check, in the order of :data:`CHECKS` (checks with none left out)."""
        found = self.findings["check"].value_counts()
        return {name: int(found[name]) for name in CHECKS if name in found.index}

    def summary(self) -> str:
        """One line: how many findings of each severity and per check.

        Examples
        --------
        >>> import geopandas as gpd, shapely
        >>> layer = gpd.GeoDataFrame(
        ...     {"hazard_id": ["H1"], "threat_level": ["high"]},
        ...     geometry=[shapely.box(46.0, 39.0, 46.01, 39.01)], crs=4326,
        ... )
        >>> check_layers(layer).summary()
        'no findings in 1 hazard'
        """
        checked = " and ".join(
            f"{n:,} {layer[:-1] if n == 1 else layer}" for layer, n in self.features.items()
        )
        if self.findings.empty:
            return f"no findings in {checked}"
        per_check = ", ".join(f"{name} {n:,}" for name, n in self.counts().items())
        n = len(self.findings)
        return (
            f"{n:,} finding{'s' if n != 1 else ''} in {checked} ({self.errors:,} "
            f"error{'s' if self.errors != 1 else ''}, {self.warnings:,} "
            f"warning{'s' if self.warnings != 1 else ''}): {per_check}"
        )


def _id_text(value: object) -> str | None:
    """A feature id as text (None when missing or blank)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if value.is_integer():
            return str(int(value))
    text = str(value)
    return text if text.strip() else None


class _Layer:
    """One layer prepared for the checks: ids, geometry families, usable polygons."""

    def __init__(self, gdf: gpd.GeoDataFrame, name: str, id_column: str | None) -> None:
        self.name = name
        self.crs = pyproj.CRS(gdf.crs)
        self.n = len(gdf)
        self.rows = np.arange(1, self.n + 1)
        if id_column is None:
            raw: list[str | None] = [None] * self.n
        else:
            raw = [_id_text(v) for v in gdf[id_column].astype(object)]
        self.has_id = np.array([v is not None for v in raw], dtype=bool)
        self.ids = np.array(
            [v if v is not None else f"row {r}" for v, r in zip(raw, self.rows, strict=True)],
            dtype=object,
        )
        geoms = np.asarray(gdf.geometry.array, dtype=object)
        self.geoms = geoms
        self.missing = shapely.is_missing(geoms)
        self.empty = ~self.missing & shapely.is_empty(geoms)
        present = ~self.missing & ~self.empty
        self.type_ids = shapely.get_type_id(geoms)
        self.polygonal = present & np.isin(self.type_ids, (3, 6))
        coords, index = shapely.get_coordinates(geoms, return_index=True)
        finite = np.ones(self.n, dtype=bool)
        finite[index[~np.isfinite(coords).all(axis=1)]] = False
        self.valid = np.zeros(self.n, dtype=bool)
        self.valid[self.polygonal] = valid(geoms[self.polygonal])
        # polygons the area and pair checks can use: 2-D, finite, valid or made valid
        self.usable = self.polygonal & finite
        work = np.full(self.n, None, dtype=object)
        flat = shapely.force_2d(geoms[self.usable])
        broken = ~valid(flat)
        if broken.any():
            flat[broken] = polygonal_parts(shapely.make_valid(flat[broken]))
        work[self.usable] = flat
        if self.crs.is_geographic:
            work[self.usable] = _crs.canonical_lonlat(work[self.usable], self.crs)
        self.usable &= ~shapely.is_empty(work) & ~shapely.is_missing(work)
        self.work = work

    def in_crs(self, crs: pyproj.CRS) -> np.ndarray:
        """The usable polygons in ``crs`` (densified before projecting), None elsewhere."""
        if self.crs.equals(crs):
            return self.work
        out = np.full(self.n, None, dtype=object)
        series = gpd.GeoSeries(self.work[self.usable], crs=self.crs)
        out[self.usable] = _crs.to_crs_dense(series, crs)
        return out

    def finding(
        self,
        k: int | np.integer,
        check: str,
        detail: str,
        *,
        other_id: str | None = None,
        area_m2: float = math.nan,
    ) -> dict[str, object]:
        return {
            "layer": self.name,
            "row": int(self.rows[k]),
            "id": str(self.ids[k]),
            "check": check,
            "severity": CHECKS[check],
            "detail": detail,
            "other_id": other_id,
            "area_m2": float(area_m2),
        }


def _where(x: str, y: str, crs: pyproj.CRS) -> str:
    try:
        fx, fy = float(x), float(y)
    except ValueError:
        return f"at {x} {y}"
    if crs.is_geographic:
        return f"at longitude {fx:.7g}, latitude {fy:.7g}"
    return f"at x {fx:.10g}, y {fy:.10g} ({crs.name})"


def _geometry_findings(layer: _Layer) -> list[dict[str, object]]:
    """``empty``, ``not_polygon`` and ``invalid`` (with the GEOS reason and location)."""
    out: list[dict[str, object]] = []
    for k in np.flatnonzero(layer.missing):
        out.append(layer.finding(k, "empty", "no geometry: delete the row or draw its polygon"))
    for k in np.flatnonzero(layer.empty):
        out.append(layer.finding(k, "empty", "empty geometry: delete the row or draw its polygon"))
    present = ~layer.missing & ~layer.empty
    for k in np.flatnonzero(present & ~layer.polygonal):
        kind = _TYPE_NAMES.get(int(layer.type_ids[k]), "not a polygon")
        out.append(
            layer.finding(
                k,
                "not_polygon",
                f"{kind}, not a Polygon or MultiPolygon: {layer.name} are areas; draw the "
                "polygon, or point minemap at the right layer",
            )
        )
    invalid = np.flatnonzero(layer.polygonal & ~layer.valid)
    reasons = shapely.is_valid_reason(layer.geoms[invalid]) if invalid.size else []
    for k, reason in zip(invalid, reasons, strict=True):
        match = _GEOS_REASON.match(str(reason))
        if match:
            text = f"{match['what']} {_where(match['x'], match['y'], layer.crs)}"
        else:
            text = str(reason)
        if str(reason).startswith("Invalid Coordinate"):
            fix = "a vertex is NaN or infinite: fix or delete that vertex in a GIS"
        else:
            fix = (
                "fix the ring in a GIS (e.g. QGIS Fix geometries) or let minemap repair it on read"
            )
        out.append(layer.finding(k, "invalid", f"invalid geometry (GEOS: {text}); {fix}"))
    return out


def _id_findings(layer: _Layer, id_column: str | None) -> list[dict[str, object]]:
    """``duplicate_id`` on every row sharing an id; ``missing_id`` on rows with none."""
    out: list[dict[str, object]] = []
    if id_column is None:
        return out
    for k in np.flatnonzero(~layer.has_id):
        out.append(
            layer.finding(
                k,
                "missing_id",
                f"no {id_column}: give the feature its id (it is called "
                f"'row {layer.rows[k]}' meanwhile)",
            )
        )
    ids = pd.Series(layer.ids[layer.has_id], index=np.flatnonzero(layer.has_id))
    repeated = ids[ids.duplicated(keep=False)]
    for _, group in repeated.groupby(repeated, sort=False):
        rows = ", ".join(str(int(layer.rows[k])) for k in group.index)
        for k in group.index:
            out.append(
                layer.finding(
                    k,
                    "duplicate_id",
                    f"{id_column} {group.iloc[0]!r} is on {len(group)} rows ({rows}); give "
                    "each feature its own id",
                )
            )
    return out


def _duplicate_geometry_findings(layer: _Layer) -> list[dict[str, object]]:
    """``duplicate_geometry``: the same geometry (vertex for vertex, once normalised: ring
    start and direction do not matter) on several rows; each repeat names the first."""
    out: list[dict[str, object]] = []
    present = np.flatnonzero(~layer.missing & ~layer.empty)
    if present.size < 2:
        return out
    keys = pd.Series(
        shapely.to_wkb(shapely.normalize(layer.geoms[present]), output_dimension=3),
        index=present,
    )
    repeated = keys[keys.duplicated(keep=False)]
    for _, group in repeated.groupby(repeated, sort=False):
        first = group.index[0]
        for k in group.index[1:]:
            out.append(
                layer.finding(
                    k,
                    "duplicate_geometry",
                    f"the same geometry as row {layer.rows[first]} "
                    f"(id {layer.ids[first]!r}): delete the copy or merge the records",
                    other_id=str(layer.ids[first]),
                )
            )
    return out


def _area_findings(
    layer: _Layer, area: np.ndarray, min_area_m2: float, max_area_m2: float
) -> list[dict[str, object]]:
    """``implausible_area``: a polygon smaller than ``min_area_m2`` or larger than
    ``max_area_m2``."""
    out: list[dict[str, object]] = []
    usable = np.flatnonzero(layer.usable)
    for k in usable[area[usable] < min_area_m2]:
        out.append(
            layer.finding(
                k,
                "implausible_area",
                f"{area[k]:,.2f} m², smaller than {min_area_m2:,.6g} m²: a digitising slip, "
                "or coordinates in the wrong unit or CRS",
                area_m2=area[k],
            )
        )
    for k in usable[area[usable] > max_area_m2]:
        out.append(
            layer.finding(
                k,
                "implausible_area",
                f"{area[k] / 1e6:,.2f} km², larger than {max_area_m2 / 1e6:,.6g} km²: check "
                "the polygon and the layer's CRS",
                area_m2=area[k],
            )
        )
    return out


def _levels(
    gdf: gpd.GeoDataFrame, layer: _Layer, column: str, level_map: Mapping[str, str] | None
) -> tuple[np.ndarray, list[dict[str, object]]]:
    """Each hazard's threat level (None if unknown) and the ``unknown_level`` findings."""
    lookup = resolve_aliases(
        level_map, allowed=THREAT_LEVELS, builtin=THREAT_ALIASES, option="level_map"
    )
    values = gdf[column].astype(object).to_numpy()
    texts = [_id_text(v) for v in values]
    # each distinct word is looked up once
    known = {t: lookup.get(canonical_word(t)) for t in set(texts) if t is not None}
    levels = np.array([None if t is None else known[t] for t in texts], dtype=object)
    out: list[dict[str, object]] = []
    for k in np.flatnonzero([level is None for level in levels]):
        text = texts[k]
        said = "no threat level" if text is None else f"threat level {text!r} is unknown"
        out.append(
            layer.finding(
                k,
                "unknown_level",
                f"{said} in {column!r}: write high, medium or low (or an IMAS term such as "
                "CHA/SHA), or map your word with level_map= (CLI: --vocabulary)",
            )
        )
    return levels, out


def _overlap_findings(
    layer: _Layer, levels: np.ndarray, tolerance_m2: float
) -> list[dict[str, object]]:
    """``overlap_different_level``: pairs of hazards of different threat levels sharing
    more than ``tolerance_m2`` (true area)."""
    known = np.array([level is not None for level in levels], dtype=bool)
    live = np.flatnonzero(layer.usable & known)
    geoms = layer.work[live]
    i, j = intersecting_pairs(geoms, geoms, same=True)
    keep = (i < j) & (levels[live[i]] != levels[live[j]])
    i, j = i[keep], j[keep]
    if i.size == 0:
        return []
    shared = polygonal_parts(robust(shapely.intersection, geoms[i], geoms[j]))
    area = _crs.area_m2(shared, layer.crs)
    order = {level: rank for rank, level in enumerate(THREAT_LEVELS)}
    out: list[dict[str, object]] = []
    for a, b, m2 in zip(live[i], live[j], area, strict=True):
        if not m2 > tolerance_m2:
            continue
        top = levels[a] if order[levels[a]] < order[levels[b]] else levels[b]
        out.append(
            layer.finding(
                a,
                "overlap_different_level",
                f"{levels[a]} hazard overlaps {levels[b]} hazard {layer.ids[b]!r} "
                f"(row {layer.rows[b]}) over {m2:,.2f} m²; minemap counts that place once, "
                f"under {top}: cut one polygon if the levels were meant to differ there",
                other_id=str(layer.ids[b]),
                area_m2=m2,
            )
        )
    return out


def _outside_findings(
    releases: _Layer, hazards: _Layer, release_area: np.ndarray, tolerance_m2: float
) -> list[dict[str, object]]:
    """``released_outside``: release area lying outside every hazard."""
    live = np.flatnonzero(releases.usable)
    if live.size == 0:
        return []
    rel = releases.in_crs(hazards.crs)[live]
    haz = hazards.work[hazards.usable]
    i, j = intersecting_pairs(rel, haz)
    rest = subtract_pairs(rel, i, haz[j])
    outside = _crs.area_m2(polygonal_parts(rest), hazards.crs)
    out: list[dict[str, object]] = []
    for k, m2 in zip(live, outside, strict=True):
        if not m2 > tolerance_m2:
            continue
        whole = release_area[k]
        share = 100.0 * m2 / whole if whole > 0 else 100.0
        share = min(share, 100.0)
        where = "the whole release" if share > 99.995 else f"{share:.2f}% of the release"
        out.append(
            releases.finding(
                k,
                "released_outside",
                f"{m2:,.2f} m² ({where}) lie outside every hazard area: not counted as "
                "released; check the release polygon, or record the missing hazard",
                area_m2=m2,
            )
        )
    return out


def _check_limits(**limits: float) -> None:
    for name, value in limits.items():
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
            raise SchemaError(
                f"{option_hint(name, repr(value))}: give a number of square metres, 0 or more."
            )
    if limits["max_area_m2"] <= limits["min_area_m2"]:
        raise SchemaError(
            f"{option_hint('max_area_m2', repr(limits['max_area_m2']))} is not larger than "
            f"{option_hint('min_area_m2', repr(limits['min_area_m2']))}; give a smaller "
            "minimum or a larger maximum."
        )


def _label(gdf: gpd.GeoDataFrame, name: str) -> str:
    """How messages name a layer: its source (``attrs['source']``, set by the readers and
    the CLI), else ``hazards`` or ``releases``."""
    source = gdf.attrs.get("source") if isinstance(gdf, gpd.GeoDataFrame) else None
    return str(source) if source else name


def _column(
    gdf: gpd.GeoDataFrame, given: str | None, default: str, option: str, name: str
) -> str | None:
    """The column to use: the one given (which must exist), else ``default`` if present."""
    if given is not None:
        if given not in gdf.columns:
            columns = [c for c in gdf.columns if c != gdf.geometry.name]
            raise SchemaError(
                f"{_label(gdf, name)}: no column {given!r} in the {name} layer (it has "
                f"{columns}); name another with {option_hint(option)}."
            )
        return given
    return default if default in gdf.columns else None


def _require_layer(gdf: object, name: str) -> None:
    """Refuse anything but a GeoDataFrame with a CRS."""
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise TypeError(f"{name}: expected a GeoDataFrame, got {type(gdf).__name__}")
    if gdf.crs is None:
        raise CRSError(
            f"{_label(gdf, name)}: the {name} layer has no CRS; read it with "
            "minemap.io.read_layer(..., crs=...) or set one with GeoDataFrame.set_crs."
        )


def check_layers(
    hazards: gpd.GeoDataFrame,
    releases: gpd.GeoDataFrame | None = None,
    *,
    id_column: str | None = None,
    threat_column: str | None = None,
    release_id_column: str | None = None,
    level_map: Mapping[str, str] | None = None,
    min_area_m2: float = MIN_AREA_M2,
    max_area_m2: float = MAX_AREA_M2,
    overlap_tolerance_m2: float = OVERLAP_TOLERANCE_M2,
    outside_tolerance_m2: float = OUTSIDE_TOLERANCE_M2,
) -> QualityReport:
    """Check hazard (and release) layers as they are stored; list every problem by id.

    Nothing is repaired and nothing is refused but an unusable call: a layer minemap's
    readers would reject is exactly what this reports on. Checks (severity in
    :data:`CHECKS`):

    * ``empty``: no geometry, or an empty one; ``not_polygon``: a point or line;
    * ``invalid``: a polygon GEOS finds invalid, with its reason and location;
    * ``duplicate_id``: one id on several rows (every such row); ``missing_id``: a row
      without an id (named ``row N``, 1-based, in the findings);
    * ``duplicate_geometry``: the same geometry on several rows (each repeat names the
      first);
    * ``unknown_level``: a threat level that is not high, medium, low or an IMAS term;
    * ``implausible_area``: a polygon under ``min_area_m2`` or over ``max_area_m2``;
    * ``overlap_different_level``: two hazards of different threat levels sharing more
      than ``overlap_tolerance_m2`` (one row per pair);
    * ``released_outside``: a release with more than ``outside_tolerance_m2`` outside every
      hazard.

    Parameters
    ----------
    hazards : geopandas.GeoDataFrame
        Hazard polygons with a CRS, as :func:`minemap.io.read_layer` returns them (raw);
        not modified.
    releases : geopandas.GeoDataFrame, optional
        Release polygons with a CRS, likewise; without them ``released_outside`` is not
        checked.
    id_column : str, optional
        Hazard id column; by default ``hazard_id`` when the layer has it, else features are
        named by row (``row N``, 1-based file order; :attr:`QualityReport.notes` says so).
        A column named here must exist.
    threat_column : str, optional
        Threat level column; by default ``threat_level`` when the layer has it, else
        ``unknown_level`` and ``overlap_different_level`` are not checked.
    release_id_column : str, optional
        Release id column; by default ``release_id`` when the layer has it.
    level_map : mapping, optional
        Your words for threat levels, e.g. ``{"Zone rouge": "high"}`` (see
        :mod:`minemap.vocabulary`).
    min_area_m2, max_area_m2 : float, default 1 and 100,000,000 (100 km²)
        Plausible polygon areas, true m².
    overlap_tolerance_m2 : float, default 1
        Overlaps between levels up to this area (m²) are not reported.
    outside_tolerance_m2 : float, default 1
        Release area outside hazards up to this (m², per release) is not reported.

    Returns
    -------
    QualityReport
        The findings (columns :data:`FINDING_COLUMNS`), sorted by layer, check and row.

    Raises
    ------
    SchemaError
        A column named does not exist, a limit is negative or not a number, or
        ``level_map`` maps onto an unknown level.
    CRSError
        A layer has no CRS.

    Examples
    --------
    Two hazards of different levels sharing a strip, and a self-crossing ("bowtie") one:

    >>> import geopandas as gpd, shapely
    >>> hazards = gpd.GeoDataFrame(
    ...     {"hazard_id": ["H1", "H2", "H3"], "threat_level": ["high", "low", "medium"]},
    ...     geometry=[
    ...         shapely.box(46.0, 39.0, 46.01, 39.01),
    ...         shapely.box(46.009, 39.0, 46.02, 39.01),
    ...         shapely.Polygon([(46.1, 39.0), (46.11, 39.01), (46.11, 39.0), (46.1, 39.01)]),
    ...     ],
    ...     crs=4326,
    ... )
    >>> findings = check_layers(hazards).findings
    >>> findings[["id", "check", "severity", "other_id"]].to_numpy().tolist()
    [['H3', 'invalid', 'error', None], ['H1', 'overlap_different_level', 'warning', 'H2']]
    >>> round(float(findings["area_m2"].iloc[1]), -2)  # the 0.001° strip, in true m²
    96200.0
    """
    with warnings.catch_warnings(), np.errstate(invalid="ignore"):
        # NaN coordinates make shapely warn; they are reported as invalid geometry
        warnings.filterwarnings("ignore", "invalid value encountered", RuntimeWarning)
        return _check(
            hazards,
            releases,
            id_column=id_column,
            threat_column=threat_column,
            release_id_column=release_id_column,
            level_map=level_map,
            min_area_m2=min_area_m2,
            max_area_m2=max_area_m2,
            overlap_tolerance_m2=overlap_tolerance_m2,
            outside_tolerance_m2=outside_tolerance_m2,
        )


def _check(
    hazards: gpd.GeoDataFrame,
    releases: gpd.GeoDataFrame | None,
    *,
    id_column: str | None,
    threat_column: str | None,
    release_id_column: str | None,
    level_map: Mapping[str, str] | None,
    min_area_m2: float,
    max_area_m2: float,
    overlap_tolerance_m2: float,
    outside_tolerance_m2: float,
) -> QualityReport:
    _check_limits(
        min_area_m2=min_area_m2,
        max_area_m2=max_area_m2,
        overlap_tolerance_m2=overlap_tolerance_m2,
        outside_tolerance_m2=outside_tolerance_m2,
    )
    _require_layer(hazards, "hazards")
    if releases is not None:
        _require_layer(releases, "releases")
    notes: list[str] = []
    id_col = _column(hazards, id_column, HAZARD_ID, "id_column", "hazards")
    level_col = _column(hazards, threat_column, THREAT_LEVEL, "threat_column", "hazards")
    haz = _Layer(hazards, "hazards", id_col)
    if id_col is None:
        notes.append(
            f"hazards: no {HAZARD_ID!r} column; features are named 'row N' (1-based file "
            f"order); name the id column with {option_hint('id_column')}"
        )
    found = _geometry_findings(haz) + _id_findings(haz, id_col)
    found += _duplicate_geometry_findings(haz)
    hazard_area = np.zeros(haz.n)
    hazard_area[haz.usable] = _crs.area_m2(haz.work[haz.usable], haz.crs)
    found += _area_findings(haz, hazard_area, min_area_m2, max_area_m2)
    if level_col is None:
        notes.append(
            f"hazards: no {THREAT_LEVEL!r} column; threat levels and overlaps between levels "
            f"were not checked (name the column with {option_hint('threat_column')})"
        )
    else:
        levels, unknown = _levels(hazards, haz, level_col, level_map)
        found += unknown + _overlap_findings(haz, levels, overlap_tolerance_m2)
    features = {"hazards": haz.n}
    if releases is not None:
        rid_col = _column(releases, release_id_column, RELEASE_ID, "release_id_column", "releases")
        rel = _Layer(releases, "releases", rid_col)
        features["releases"] = rel.n
        if rid_col is None:
            notes.append(
                f"releases: no {RELEASE_ID!r} column; features are named 'row N' (1-based "
                f"file order); name the id column with {option_hint('release_id_column')}"
            )
        found += _geometry_findings(rel) + _id_findings(rel, rid_col)
        found += _duplicate_geometry_findings(rel)
        release_area = np.zeros(rel.n)
        release_area[rel.usable] = _crs.area_m2(rel.work[rel.usable], rel.crs)
        found += _area_findings(rel, release_area, min_area_m2, max_area_m2)
        found += _outside_findings(rel, haz, release_area, outside_tolerance_m2)
    return QualityReport(_table(found), features, tuple(notes))


def _table(found: list[dict[str, object]]) -> pd.DataFrame:
    table = pd.DataFrame(found, columns=list(FINDING_COLUMNS))
    table["row"] = table["row"].astype("int64")
    table["area_m2"] = table["area_m2"].astype(float)
    others = table["other_id"].astype(object)
    table["other_id"] = others.where(others.notna(), None)
    layer_rank = table["layer"].map({"hazards": 0, "releases": 1})
    check_rank = table["check"].map({name: k for k, name in enumerate(CHECKS)})
    order = np.lexsort((table["row"].to_numpy(), check_rank.to_numpy(), layer_rank.to_numpy()))
    return table.iloc[order].reset_index(drop=True)
