"""Field evidence: devices found per hectare released, devices remaining, record accuracy.

Three questions a mine action centre asks of its device finds:

* **How many devices did release find per hectare?** (:func:`device_density`) Devices found
  on released land, per threat level and release method, over exactly the released hectares
  of :func:`minemap.land_release_summary` (the same area rules: a place counts once, under
  its highest threat level and its strongest method, and only inside hazards).
* **How many devices are left?** (:func:`estimate_remaining_devices`) The remaining
  hectares of each threat level times the density found on cleared land of that level.
* **Were the handed-over minefield records right?** (:func:`record_accuracy`) Each record's
  perimeter (plus a tolerance in true metres) checked against the finds and the released
  ground.

Which find counts where
-----------------------
A find lies in one *released piece*: the land of one release record (once overlaps between
records are resolved, strongest method first) inside hazards of one threat level (and
group). Pieces are closed: a find on the edge between released and unreleased land counts
as found on the released land, and a find on the edge between two released pieces goes to
the piece of the higher threat level, then the stronger method, then the group that sorts
first. Every find therefore counts exactly once: in one released piece, in hazard land not
(yet) released (``finds_in_unreleased``), or outside every hazard (``finds_outside``, with a
:class:`~minemap.DataWarning`).

Consecutive calls
-----------------
A report asks for the densities, then the devices remaining, of the same layers (and the
readiness figures take the same hazard pieces). The land-release summary and the places of
the finds are computed once and kept for the next call on the same layers, while the
layers live and hold what they held: a layer changed in place is measured again.

Intervals
---------
The default interval of a density is the exact (Garwood) Poisson interval of the device
count, divided by the hectares. It assumes devices lie independently of each other; mines
are laid in rows and clusters, which makes the true interval wider. ``interval="bootstrap"``
resamples the release records instead (seeded), which keeps each record's devices together.
"""

from __future__ import annotations

import math
import threading
import warnings
import weakref
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from scipy import stats as _stats

from minemap import _validate
from minemap import crs as _crs
from minemap._errors import DataWarning, SchemaError, option_hint
from minemap._overlay import gc_paused, intersecting_pairs, polygonal_parts, robust
from minemap.io.evidence import evidence_layer
from minemap.nearest import FeatureIndex, regional_distances_m
from minemap.priority import AFFINE_TOLERANCE, _affine_frames, _true_buffers
from minemap.ranking import _in_shared_frame
from minemap.settings import (
    DEVICE_COUNT,
    DEVICE_TYPE,
    DEVICE_TYPES,
    DEVICES_PER_HA,
    FIND_DATE,
    FIND_ID,
    MAX_TOLERANCE_M,
    METHOD,
    METHOD_HA,
    RECORD_ID,
    RECORDED_DEVICES,
    RELEASE_DATE,
    RELEASE_ID,
    RELEASE_METHODS,
    RELEASED_HA,
    RELEASED_OUTSIDE_HA,
    REMAINING_HA,
    THREAT_LEVEL,
    THREAT_LEVELS,
    TOTAL,
)
from minemap.stats import (
    RESIDUE_HA,
    RESIDUE_RELATIVE,
    _as_releases,
    _as_timestamp,
    _method_index,
    _release_work_pieces,
    _summary_and_pieces,
    _SummaryParts,
)

__all__ = [
    "RecordAccuracy",
    "device_density",
    "estimate_remaining_devices",
    "record_accuracy",
]

# output columns (unit in the name)
#: Devices found (the sum of ``device_count``).
DEVICES = "devices"
#: Find records (rows of the finds layer).
FINDS = "finds"
DEVICES_PER_HA_LOW = "devices_per_ha_low"
DEVICES_PER_HA_HIGH = "devices_per_ha_high"
#: Released hectares of the release records that found nothing there.
NO_FIND_HA = "no_find_ha"
PERCENT_NO_FIND = "percent_no_find"
#: Devices and hectares a density was taken from.
DENSITY_DEVICES = "density_devices"
DENSITY_HA = "density_ha"
DEVICES_ESTIMATE = "devices_estimate"
DEVICES_LOW = "devices_low"
DEVICES_HIGH = "devices_high"
#: Why an estimate is missing (empty where there is one).
REASON = "reason"
STATUS = "status"
FINDS_WITHIN = "finds_within"
DEVICES_WITHIN = "devices_within"
FOUND_DEVICE_TYPE = "found_device_type"
FOUND_TO_RECORDED = "found_to_recorded"
TYPE_AGREES = "type_agrees"
NEAREST_FIND_M = "nearest_find_m"
RELEASED_SHARE = "released_share"

#: Columns of :func:`device_density` after the group columns, ``threat_level`` and ``method``.
DENSITY_COLUMNS: tuple[str, ...] = (
    RELEASED_HA,
    DEVICES,
    FINDS,
    DEVICES_PER_HA,
    DEVICES_PER_HA_LOW,
    DEVICES_PER_HA_HIGH,
    NO_FIND_HA,
    PERCENT_NO_FIND,
)
#: Record statuses of :func:`record_accuracy`.
STATUSES: tuple[str, ...] = ("confirmed", "inaccurate", "unverified")
#: Interval methods of :func:`device_density`.
INTERVALS: tuple[str, ...] = ("poisson", "bootstrap")
#: A record is verifiable when at least this share of its perimeter plus tolerance is released.
MIN_RELEASED_SHARE = 0.5
#: Default tolerance around a record's perimeter, in metres.
TOLERANCE_M = 50.0
#: Fewest bootstrap draws accepted: fewer give an interval that moves from seed to seed.
MIN_DRAWS = 100
#: Largest number of bootstrap draws accepted.
MAX_DRAWS = 100_000
#: Candidate finds are looked for in buffers this much wider (relative) than the tolerance,
#: then measured exactly: a buffer's 64-gon falls inside its circle by up to 0.12 %.
_SEARCH_MARGIN = 0.01
#: ... plus this many metres (a tolerance of 0 still finds a find on the record).
_SEARCH_MARGIN_M = 0.05

_M2_PER_HA = _crs.M2_PER_HA
_GEOD = pyproj.Geod(ellps="WGS84")
_WGS84 = pyproj.CRS.from_epsg(4326)
_N_LEVELS = len(THREAT_LEVELS)
_N_METHODS = len(RELEASE_METHODS)

_POISSON_NOTE = (
    "exact (Garwood) Poisson interval of the device count, divided by the hectares; it "
    "assumes devices lie independently of each other (Poisson): mines laid in rows or "
    "clusters make the true interval wider (interval='bootstrap' keeps each release "
    "record's devices together)"
)
_BOOTSTRAP_NOTE = (
    "percentile bootstrap over release records (each record's land of one threat level and "
    "group is resampled with its devices, so clusters stay together); with few records, or "
    "none with a find, it is too narrow (0 to 0 when nothing was found): read it beside the "
    "Poisson interval"
)


# ------------------------------------------------------------------------------------------
# inputs
# ------------------------------------------------------------------------------------------


def _as_evidence(layer: gpd.GeoDataFrame, kind: str) -> gpd.GeoDataFrame:
    """The layer as its reader returns it (validated once; a read layer passes as it is)."""
    return evidence_layer(layer, kind)


def _number(value: object, name: str, ok: Callable[[float], bool], what: str, fix: str) -> float:
    """``value`` as a float if ``ok`` accepts it; otherwise a SchemaError naming the option."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        number = math.nan
    if isinstance(value, bool) or not (math.isfinite(number) and ok(number)):
        raise SchemaError(f"{option_hint(name, repr(value))} is not {what}; {fix}")
    return number


def _check_confidence(confidence: object) -> float:
    return _number(
        confidence,
        "confidence",
        lambda v: 0.0 < v < 1.0,
        "a confidence level",
        "give a number between 0 and 1, e.g. 0.95.",
    )


# ------------------------------------------------------------------------------------------
# work shared between calls on the same layers
# ------------------------------------------------------------------------------------------


class _Snapshot:
    """What a layer held when something was computed from it.

    A layer holds the same as before when it is the same object, with the same geometry
    objects in the same rows (shapely geometries are immutable) and equal attribute columns,
    index, CRS and ``attrs``: a layer changed in place after the computation does not hold
    the same. Checking costs a few milliseconds per 100,000 rows, not a new computation.
    """

    def __init__(self, layer: gpd.GeoDataFrame, forget: Callable[[Any], None]) -> None:
        self.ref = weakref.ref(layer, forget)
        # copies: the layer's own arrays can be written to in place
        self.geoms = np.array(layer.geometry.array, dtype=object, copy=True)
        self.ids = _ids(self.geoms)
        self.columns = {c: _column(layer[c]) for c in layer.columns if c != layer.geometry.name}
        self.index = layer.index.copy()
        self.crs = layer.crs
        self.attrs = repr(layer.attrs)

    def holds(self, layer: gpd.GeoDataFrame) -> bool:
        if id(self.ref()) != id(layer) or len(layer) != len(self.geoms):
            return False
        names = [c for c in layer.columns if c != layer.geometry.name]
        return (
            np.array_equal(_ids(np.asarray(layer.geometry.array, dtype=object)), self.ids)
            and names == list(self.columns)
            and all(_same_column(layer[c], self.columns[c]) for c in names)
            and layer.index.equals(self.index)
            and layer.crs == self.crs
            and repr(layer.attrs) == self.attrs
        )


def _ids(values: np.ndarray) -> np.ndarray:
    """The identity of each object (a snapshot keeps the objects, so no id is reused)."""
    return np.fromiter(map(id, values), dtype=np.int64, count=len(values))


def _column(column: pd.Series) -> tuple[object, np.ndarray | None]:
    """A copy of a column's values, and for object columns the identity of each value."""
    if column.dtype == object:
        values = column.to_numpy(copy=True)
        return values, _ids(values)
    if isinstance(column.dtype, np.dtype):
        return column.to_numpy(copy=True), None
    return column.array.copy(), None  # an extension array (nullable integers, ...)


def _same_column(column: pd.Series, kept: tuple[object, np.ndarray | None]) -> bool:
    """Whether a column holds what :func:`_column` kept: the same objects (immutable
    strings and numbers; an equal value in a new object counts as a change), or equal
    values (NaN equal to NaN)."""
    values, ids = kept
    if ids is not None:
        return column.dtype == object and np.array_equal(_ids(column.to_numpy()), ids)
    if isinstance(values, np.ndarray):
        if column.dtype != values.dtype:
            return False
        return bool(np.array_equal(column.to_numpy(), values, equal_nan=values.dtype.kind in "fc"))
    return bool(column.dtype == values.dtype and column.array.equals(values))  # type: ignore[attr-defined]


#: A layer :meth:`_Shared.find` accepts whatever it is.
_ANY = object()


class _Shared:
    """The last result of one computation, kept for a call on the same layers.

    A report asks for several figures of the same layers one after another (densities, then
    remaining devices; readiness, then communities at risk), and each would otherwise redo
    the overlays the one before it made. The result is kept while its layers live and hold
    what they held (:class:`_Snapshot`), for the same options (``key``); it is dropped as
    soon as one of its layers is garbage-collected, so no memory outlives the layers.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entry: tuple[list[_Snapshot | None], Hashable, object] | None = None

    def get(self, layers: Sequence[gpd.GeoDataFrame | None], key: Hashable) -> Any:
        """The kept result for these layers and options, or None."""
        return self.find(layers, lambda kept: kept == key)

    def find(self, layers: Sequence[object], fits: Callable[[Any], bool]) -> Any:
        """The kept result for these layers (:data:`_ANY` for any) whose options ``fits``
        accepts, or None."""
        with self._lock:
            entry = self._entry
        if entry is None or not fits(entry[1]) or len(entry[0]) != len(layers):
            return None
        for snapshot, layer in zip(entry[0], layers, strict=True):
            if layer is _ANY:
                continue
            if (snapshot is None) != (layer is None):
                return None
            if snapshot is not None and not snapshot.holds(layer):
                return None
        return entry[2]

    def put(self, layers: Sequence[gpd.GeoDataFrame | None], key: Hashable, value: object) -> None:
        snapshots = [None if layer is None else _Snapshot(layer, self._forget) for layer in layers]
        with self._lock:
            self._entry = (snapshots, key, value)

    def _forget(self, _: object = None) -> None:
        with self._lock:
            self._entry = None

    def clear(self) -> None:
        """Drop the kept result."""
        self._forget()


#: The last summary pass (hazard pieces and release pieces), shared by the density, the
#: remaining devices, the record accuracy (its release pieces) and the readiness figures
#: (its hazard pieces).
_SUMMARY = _Shared()


#: The last density pass (finds located in the released pieces), shared by the density
#: and the remaining devices.
_PASSES = _Shared()


def _forget_shared() -> None:
    """Drop every result kept for later calls (for benchmarks and tests)."""
    _SUMMARY.clear()
    _PASSES.clear()


def _shared_summary(
    hazards: gpd.GeoDataFrame,
    releases: gpd.GeoDataFrame | None,
    *,
    by: str | Sequence[str] | gpd.GeoDataFrame | None = None,
    as_of: object | None = None,
    district_column: str | None = None,
    edges: str | None = None,
) -> tuple[pd.DataFrame, _SummaryParts]:
    """:func:`minemap.stats._summary_and_pieces` for these layers and options, computed
    once for consecutive calls on the same layers (see :class:`_Shared`).

    The table is a copy; the parts are shared and must not be changed.
    """
    districts = by if isinstance(by, gpd.GeoDataFrame) else None
    grouping = (
        None
        if districts is not None or by is None
        else ((by,) if isinstance(by, str) else tuple(by))
    )
    key = (grouping, str(_as_timestamp(as_of)), district_column, edges)
    layers = (hazards, releases, districts)
    found = _SUMMARY.get(layers, key)
    if found is None:
        found = _summary_and_pieces(
            hazards,
            releases,
            by=by,
            as_of=as_of,
            district_column=district_column,
            edges=edges,
        )
        _SUMMARY.put(layers, key, found)
    summary, parts = found
    return summary.copy(), parts


def _shared_release_pieces(
    releases: gpd.GeoDataFrame, crs: pyproj.CRS
) -> tuple[np.ndarray, np.ndarray] | None:
    """The disjoint release pieces (and their method index) of the last summary of these
    releases, when it took them all (no ``as_of``) into ``crs``; else None."""
    found = _SUMMARY.find((_ANY, releases, _ANY), lambda key: key[1] == "None")
    if found is None or not found[1].pieces.work_crs.equals(crs):
        return None
    return found[1].release_work, found[1].release_method


def _finds_as_of(finds: gpd.GeoDataFrame, stamp: pd.Timestamp | None) -> gpd.GeoDataFrame:
    """Finds dated on or before ``stamp`` (undated finds are kept)."""
    if stamp is None:
        return finds
    return finds.loc[~(finds[FIND_DATE] > stamp).to_numpy()]


# ------------------------------------------------------------------------------------------
# intervals
# ------------------------------------------------------------------------------------------


def _garwood(count: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Garwood) Poisson interval of the mean of each count.

    ``low = ½ χ²(α/2; 2x)`` (0 when x = 0) and ``high = ½ χ²(1 − α/2; 2x + 2)``.
    """
    count = np.asarray(count, dtype=float)
    alpha = 1.0 - confidence
    low = np.zeros(count.shape)
    some = count > 0
    low[some] = _stats.chi2.ppf(alpha / 2.0, 2.0 * count[some]) / 2.0
    high = _stats.chi2.ppf(1.0 - alpha / 2.0, 2.0 * count + 2.0) / 2.0
    return low, high


def _weighted_poisson(
    counts: np.ndarray, weights: np.ndarray, confidence: float
) -> tuple[float, float]:
    """Interval of ``Σ w·x`` for independent Poisson counts ``x`` (Fay & Feuer 1997).

    The gamma interval for directly standardised rates: with ``y = Σ w x``,
    ``v = Σ w² x`` and ``w_M = max w``, the bounds are gamma quantiles of mean ``y`` and
    variance ``v`` (low) and of mean ``y + w_M`` and variance ``v + w_M²`` (high). With one
    count it is the Garwood interval scaled by its weight; it errs on the wide side.
    """
    alpha = 1.0 - confidence
    counts = np.asarray(counts, dtype=float)
    weights = np.asarray(weights, dtype=float)
    keep = weights > 0
    counts, weights = counts[keep], weights[keep]
    if weights.size == 0:
        return 0.0, 0.0
    y = float((weights * counts).sum())
    v = float((weights**2 * counts).sum())
    w_max = float(weights.max())
    low = 0.0 if y == 0 else float(_stats.gamma.ppf(alpha / 2.0, y * y / v, scale=v / y))
    shape = (y + w_max) ** 2 / (v + w_max**2)
    high = float(_stats.gamma.ppf(1.0 - alpha / 2.0, shape, scale=(v + w_max**2) / (y + w_max)))
    return low, high


# ------------------------------------------------------------------------------------------
# which released piece holds each find
# ------------------------------------------------------------------------------------------


def _best(keys: np.ndarray, owner: np.ndarray, n: int) -> np.ndarray:
    """Position (into ``keys``) of the smallest key of each owner; -1 for owners without."""
    out = np.full(n, -1, dtype=np.intp)
    if keys.size == 0:
        return out
    order = np.lexsort((keys, owner))
    first = np.r_[True, owner[order][1:] != owner[order][:-1]]
    out[owner[order][first]] = order[first]
    return out


@gc_paused()
def _locate_finds(
    points: np.ndarray,
    hazard_work: np.ndarray,
    level: np.ndarray,
    group: np.ndarray,
    release_work: np.ndarray,
    release_method: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The hazard piece and release piece of the released piece holding each find.

    ``level`` and ``group`` rank the hazard pieces (threat level index and group number).
    Returns ``(hazard, release)`` per point: ``(-1, -1)`` outside every hazard, ``(h, -1)``
    in hazard land that no release holds. Pieces are closed sets; a point on a shared edge
    goes to a released piece first, then to the highest threat level, the strongest method
    and the first group. Points inside one hazard piece and one release piece (nearly all)
    need no overlay; only points on an edge have their candidate pieces intersected.
    """
    n = len(points)
    hazard = np.full(n, -1, dtype=np.intp)
    release = np.full(n, -1, dtype=np.intp)
    if n == 0 or len(hazard_work) == 0:
        return hazard, release
    htree = shapely.STRtree(hazard_work)
    hf, hp = htree.query(points, predicate="intersects")
    h_inside = np.bincount(htree.query(points, predicate="within")[0], minlength=n)
    if len(release_work):
        rtree = shapely.STRtree(release_work)
        rf, rp = rtree.query(points, predicate="intersects")
        r_inside = np.bincount(rtree.query(points, predicate="within")[0], minlength=n)
    else:
        rf = rp = np.empty(0, dtype=np.intp)
        r_inside = np.zeros(n, dtype=np.intp)
    h_count = np.bincount(hf, minlength=n)
    r_count = np.bincount(rf, minlength=n)
    n_groups = int(group.max()) + 1
    # best hazard piece of each point (used where no released piece holds it)
    best_h = _best(level[hp].astype(np.int64) * n_groups + group[hp], hf, n)
    in_hazard = best_h >= 0
    hazard[in_hazard] = hp[best_h[in_hazard]]
    simple = (h_count == 1) & (h_inside == 1) & (r_count == 1) & (r_inside == 1)
    first_r = np.full(n, -1, dtype=np.intp)
    first_r[rf[::-1]] = rp[::-1]
    release[simple] = first_r[simple]
    edge = np.flatnonzero(in_hazard & (r_count > 0) & ~simple)
    if edge.size:
        hits_h = pd.DataFrame({"f": hf, "h": hp})
        hits_r = pd.DataFrame({"f": rf, "r": rp})
        pairs = hits_h[hits_h["f"].isin(edge)].merge(hits_r, on="f")
        f = pairs["f"].to_numpy()
        h = pairs["h"].to_numpy()
        r = pairs["r"].to_numpy()
        shared = polygonal_parts(robust(shapely.intersection, hazard_work[h], release_work[r]))
        holds = shapely.intersects(shared, points[f])
        f, h, r = f[holds], h[holds], r[holds]
        key = (level[h].astype(np.int64) * _N_METHODS + release_method[r]) * n_groups + group[h]
        pick = _best(key, f, n)
        got = np.flatnonzero(pick >= 0)
        hazard[got] = h[pick[got]]
        release[got] = r[pick[got]]
    return hazard, release


# ------------------------------------------------------------------------------------------
# release records as units (what a record found on the land of one level and group)
# ------------------------------------------------------------------------------------------


def _release_records(
    release_work: np.ndarray,
    release_method: np.ndarray,
    releases: gpd.GeoDataFrame,
    work_crs: pyproj.CRS,
) -> np.ndarray:
    """Row (in ``releases``) of the record holding each disjoint release piece.

    A place released by several records belongs to the first record of the strongest
    method (as :func:`minemap._overlay.flatten` gives it); it is looked up at a point inside
    each piece. A piece no record is found for (a sliver) is a unit of its own.
    """
    n = len(release_work)
    out = np.arange(len(releases), len(releases) + n, dtype=np.intp)
    if n == 0 or len(releases) == 0:
        return out
    geoms = _crs.to_crs_dense(releases.geometry, work_crs)
    inside = shapely.point_on_surface(release_work)
    f, k = shapely.STRtree(geoms).query(inside, predicate="intersects")
    same = _method_index(releases)[k] == release_method[f]
    f, k = f[same], k[same]
    pick = _best(k, f, n)
    got = np.flatnonzero(pick >= 0)
    out[got] = k[pick[got]]
    return out


@dataclass
class _Units:
    """Released land of each (release record, group, threat level), and its finds."""

    cell: np.ndarray  # group * 3 + level of each unit
    method: np.ndarray
    area_ha: np.ndarray
    devices: np.ndarray


@gc_paused()
def _unit_areas(
    parts: _SummaryParts,
    cell: np.ndarray,
    n_cells: int,
    record: np.ndarray,
    find_units: np.ndarray,
    *,
    every: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """Released m² per (unit, method) pair set: the overlay of hazard and release pieces.

    Returns ``(unit, method, m2, found)`` per measured pair, where ``found`` says whether the
    pairs measured are those of units holding a find (else those without one). Only the
    smaller of the two sets is measured, unless ``every``.
    """
    pieces = parts.pieces
    i, j = intersecting_pairs(pieces.work, parts.release_work)
    unit = record[j].astype(np.int64) * n_cells + cell[i]
    with_find = np.isin(unit, find_units)
    measured_found = every or with_find.sum() <= (~with_find).sum()
    sel = np.ones(i.size, dtype=bool) if every else (with_find if measured_found else ~with_find)
    i, j, unit = i[sel], j[sel], unit[sel]
    a, b = pieces.work[i], parts.release_work[j]
    shared = a.copy()
    same = shapely.equals_exact(a, b, tolerance=0.0)
    if (~same).any():
        shared[~same] = polygonal_parts(robust(shapely.intersection, a[~same], b[~same]))
    m2 = _crs.area_m2(shared, pieces.work_crs, pieces.frame)
    return unit, parts.release_method[j], m2, measured_found


# ------------------------------------------------------------------------------------------
# device density
# ------------------------------------------------------------------------------------------


@dataclass
class _Pass:
    """One pass over hazards, releases and finds: what the density and estimate tables need."""

    summary: pd.DataFrame
    group_columns: list[str]
    n_groups: int
    devices: np.ndarray  # (groups, levels, methods)
    finds: np.ndarray
    area_m2: np.ndarray  # measured pairs' released m² per cell and method
    area_is_found: bool  # area_m2 is of units with a find (else of units without)
    units: _Units | None
    counts: dict[str, int] = field(default_factory=dict)
    outside_ids: list[object] = field(default_factory=list)


def _group_codes(attrs: pd.DataFrame, group_columns: Sequence[str]) -> tuple[np.ndarray, int]:
    """Group number of each hazard piece, in the sorted order of the summary's groups."""
    if not group_columns:
        return np.zeros(len(attrs), dtype=np.intp), 1
    grouped = attrs.groupby(list(group_columns), sort=True, dropna=False)
    return grouped.ngroup().to_numpy().astype(np.intp), int(grouped.ngroups)


@gc_paused()
def _density_pass(
    hazards: gpd.GeoDataFrame,
    releases: gpd.GeoDataFrame | None,
    finds: gpd.GeoDataFrame,
    *,
    by: str | Sequence[str] | gpd.GeoDataFrame | None,
    as_of: object | None,
    district_column: str | None,
    edges: str | None,
    units: str,
) -> _Pass:
    """Summary, finds located in released pieces and (``units``: 'none', 'split' or 'all')
    the released area of release records with and without a find.

    Computed once for consecutive calls on the same layers and options (see
    :class:`_Shared`); a pass with units serves a call that needs none.
    """
    districts = by if isinstance(by, gpd.GeoDataFrame) else None
    grouping = (
        None
        if districts is not None or by is None
        else ((by,) if isinstance(by, str) else tuple(by))
    )
    layers = (hazards, releases, finds, districts)
    key = (grouping, str(_as_timestamp(as_of)), district_column, edges)
    kept: dict[str, _Pass] = _PASSES.get(layers, key) or {}
    run = kept.get(units) or (next(iter(kept.values())) if units == "none" and kept else None)
    if run is None:
        run = _new_pass(
            hazards,
            releases,
            finds,
            by=by,
            as_of=as_of,
            district_column=district_column,
            edges=edges,
            units=units,
        )
        kept = {**kept, units: run}
        _PASSES.put(layers, key, kept)
    return replace(run, summary=run.summary.copy())


@gc_paused()
def _new_pass(
    hazards: gpd.GeoDataFrame,
    releases: gpd.GeoDataFrame | None,
    finds: gpd.GeoDataFrame,
    *,
    by: str | Sequence[str] | gpd.GeoDataFrame | None,
    as_of: object | None,
    district_column: str | None,
    edges: str | None,
    units: str,
) -> _Pass:
    """The pass of :func:`_density_pass`, computed."""
    if releases is None:
        raise SchemaError(
            "device densities need release records (releases=): devices are counted per "
            "hectare of released land."
        )
    finds = _as_evidence(finds, "finds")
    releases = _as_releases(releases)
    stamp = _as_timestamp(as_of)
    summary, parts = _shared_summary(
        hazards, releases, by=by, as_of=as_of, district_column=district_column, edges=edges
    )
    group_columns = list(summary.columns[: summary.columns.get_loc(THREAT_LEVEL)])
    pieces = parts.pieces
    group, n_groups = _group_codes(pieces.attrs, group_columns)
    level = pieces.attrs[THREAT_LEVEL].map({v: k for k, v in enumerate(THREAT_LEVELS)})
    level = level.to_numpy().astype(np.intp)
    cell = group * _N_LEVELS + level

    considered = _finds_as_of(finds, stamp)
    points = _crs.to_crs_dense(considered.geometry, pieces.work_crs)
    devices = considered[DEVICE_COUNT].to_numpy(dtype=np.int64)
    h, r = _locate_finds(
        points, pieces.work, level, group, parts.release_work, parts.release_method
    )
    released = r >= 0
    outside = h < 0
    unreleased = (h >= 0) & ~released
    counts = {
        "finds_total": int(len(considered)),
        "devices_total": int(devices.sum()),
        "finds_outside": int(outside.sum()),
        "devices_outside": int(devices[outside].sum()),
        "finds_in_unreleased": int(unreleased.sum()),
        "devices_in_unreleased": int(devices[unreleased].sum()),
        "finds_after_as_of": int(len(finds) - len(considered)),
    }
    outside_ids = considered[FIND_ID].to_numpy()[outside].tolist()
    shape = (n_groups, _N_LEVELS, _N_METHODS)
    flat = cell[h[released]] * _N_METHODS + parts.release_method[r[released]]
    size = n_groups * _N_LEVELS * _N_METHODS
    found_devices = np.bincount(flat, weights=devices[released], minlength=size)
    found_rows = np.bincount(flat, minlength=size)

    area_m2: np.ndarray = np.zeros(size)
    area_is_found = True
    unit_table = None
    if units != "none" and len(parts.release_work) and releases is not None:
        dated = releases if stamp is None else releases.loc[releases[RELEASE_DATE] <= stamp]
        record = _release_records(parts.release_work, parts.release_method, dated, pieces.work_crs)
        n_cells = n_groups * _N_LEVELS
        find_units = record[r[released]].astype(np.int64) * n_cells + cell[h[released]]
        unit, method, m2, area_is_found = _unit_areas(
            parts, cell, n_cells, record, np.unique(find_units), every=units == "all"
        )
        # with every unit measured (for the bootstrap), only those with a find are found land
        keep = np.isin(unit, find_units) if units == "all" else np.ones(unit.size, dtype=bool)
        area_m2 = np.bincount(
            (unit[keep] % n_cells) * _N_METHODS + method[keep], weights=m2[keep], minlength=size
        )
        if units == "all":
            unit_table = _unit_table(
                unit, method, m2, find_units, devices[released], dated, n_cells
            )
    return _Pass(
        summary=summary,
        group_columns=group_columns,
        n_groups=n_groups,
        devices=found_devices.reshape(shape),
        finds=found_rows.reshape(shape),
        area_m2=area_m2.reshape(shape),
        area_is_found=area_is_found,
        units=unit_table,
        counts=counts,
        outside_ids=outside_ids,
    )


def _unit_table(
    unit: np.ndarray,
    method: np.ndarray,
    m2: np.ndarray,
    find_units: np.ndarray,
    find_devices: np.ndarray,
    releases: gpd.GeoDataFrame,
    n_cells: int,
) -> _Units:
    """One row per unit: its cell, method, released hectares and devices found, ordered by
    release id (so that resampling does not depend on the row order of the releases)."""
    ids, where = np.unique(unit, return_inverse=True)
    area = np.bincount(where, weights=m2, minlength=ids.size) / _M2_PER_HA
    unit_method = np.zeros(ids.size, dtype=np.intp)
    unit_method[where] = method
    slot = np.searchsorted(ids, find_units)
    known = (slot < ids.size) & (ids[np.minimum(slot, ids.size - 1)] == find_units)
    devices = np.bincount(slot[known], weights=find_devices[known], minlength=ids.size)
    record = ids // n_cells
    names = releases[RELEASE_ID].astype(str).to_numpy()
    label = np.where(record < len(names), names[np.minimum(record, len(names) - 1)], "")
    order = np.lexsort((ids % n_cells, label))
    keep = order[area[order] > 0]
    return _Units(
        cell=(ids % n_cells)[keep],
        method=unit_method[keep],
        area_ha=area[keep],
        devices=devices[keep],
    )


def _block_released(summary: pd.DataFrame, n_groups: int, grouped: bool) -> np.ndarray:
    """Released hectares per (group, level + total, method + total) from the summary."""
    columns = [METHOD_HA[m] for m in RELEASE_METHODS] + [RELEASED_HA]
    values = summary[columns].to_numpy(dtype=float)
    rows = n_groups * (_N_LEVELS + 1)
    if len(values) != rows + (1 if grouped else 0):
        raise AssertionError("summary rows do not match the hazard groups")  # pragma: no cover
    return values[:rows].reshape(n_groups, _N_LEVELS + 1, _N_METHODS + 1)


def _snap(value: float, released: float) -> float:
    """No-find hectares within floating-point residue of 0 or of the released hectares."""
    residue = max(RESIDUE_HA, RESIDUE_RELATIVE * abs(released))
    value = min(max(value, 0.0), released)
    if value < residue:
        return 0.0
    if released - value < residue:
        return released
    return value


def _density_table(
    run: _Pass,
    *,
    confidence: float,
    interval: str,
    draws: int,
    seed: int,
) -> pd.DataFrame:
    grouped = bool(run.group_columns)
    released = _block_released(run.summary, run.n_groups, grouped)
    # (group selector, released hectares)
    blocks: list[tuple[int | slice, np.ndarray]] = [(g, released[g]) for g in range(run.n_groups)]
    if grouped:
        everything = released.sum(axis=0)
        last = run.summary.iloc[-1]
        everything[_N_LEVELS] = [
            *(float(last[METHOD_HA[m]]) for m in RELEASE_METHODS),
            float(last[RELEASED_HA]),
        ]
        blocks.append((slice(None), everything))
    records = []
    for b, (g, ha) in enumerate(blocks):
        key = None if isinstance(g, slice) else run.summary.iloc[(_N_LEVELS + 1) * b]
        for lk, level in enumerate([*THREAT_LEVELS, TOTAL]):
            for mk, method in enumerate([*RELEASE_METHODS, TOTAL]):
                sel = (
                    g,
                    slice(None) if level == TOTAL else lk,
                    slice(None) if method == TOTAL else mk,
                )
                area_ha = float(run.area_m2[sel].sum()) / _M2_PER_HA
                row: dict[str, object] = {
                    c: ("all" if key is None else key[c]) for c in run.group_columns
                }
                released_ha = float(ha[lk, mk])
                no_find = released_ha - area_ha if run.area_is_found else area_ha
                row.update(
                    {
                        THREAT_LEVEL: level,
                        METHOD: method,
                        RELEASED_HA: released_ha,
                        DEVICES: int(run.devices[sel].sum()),
                        FINDS: int(run.finds[sel].sum()),
                        NO_FIND_HA: _snap(no_find, released_ha),
                        "_sel": sel,
                    }
                )
                records.append(row)
    table = pd.DataFrame(records)
    hectares = table[RELEASED_HA].to_numpy()
    count = table[DEVICES].to_numpy(dtype=float)
    positive = hectares > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        table[DEVICES_PER_HA] = np.where(positive, count / hectares, np.nan)
        table[PERCENT_NO_FIND] = np.where(
            positive, 100.0 * table[NO_FIND_HA].to_numpy() / hectares, np.nan
        )
    if interval == "poisson":
        low, high = _garwood(count, confidence)
        with np.errstate(divide="ignore", invalid="ignore"):
            table[DEVICES_PER_HA_LOW] = np.where(positive, low / hectares, np.nan)
            table[DEVICES_PER_HA_HIGH] = np.where(positive, high / hectares, np.nan)
    else:
        assert run.units is not None
        bounds = [
            _bootstrap(run.units, sel, confidence, draws, [seed, k])
            for k, sel in enumerate(table["_sel"])
        ]
        table[DEVICES_PER_HA_LOW] = [b[0] for b in bounds]
        table[DEVICES_PER_HA_HIGH] = [b[1] for b in bounds]
        table.loc[~positive, [DEVICES_PER_HA_LOW, DEVICES_PER_HA_HIGH]] = np.nan
    return table[[*run.group_columns, THREAT_LEVEL, METHOD, *DENSITY_COLUMNS]]


def _bootstrap(
    units: _Units,
    sel: tuple[object, object, object],
    confidence: float,
    draws: int,
    seed: list[int],
) -> tuple[float, float]:
    """Percentile bootstrap interval of devices per hectare over the units of one row."""
    g, level, method = sel
    group_of = units.cell // _N_LEVELS
    level_of = units.cell % _N_LEVELS
    mask = np.ones(units.cell.size, dtype=bool)
    if not isinstance(g, slice):
        mask &= group_of == g
    if not isinstance(level, slice):
        mask &= level_of == level
    if not isinstance(method, slice):
        mask &= units.method == method
    area, devices = units.area_ha[mask], units.devices[mask]
    if area.size == 0:
        return math.nan, math.nan
    rng = np.random.default_rng(seed)
    estimates = np.empty(draws)
    chunk = max(1, 2_000_000 // area.size)
    for start in range(0, draws, chunk):
        stop = min(draws, start + chunk)
        pick = rng.integers(0, area.size, size=(stop - start, area.size))
        estimates[start:stop] = devices[pick].sum(axis=1) / area[pick].sum(axis=1)
    alpha = 1.0 - confidence
    low, high = np.quantile(estimates, [alpha / 2.0, 1.0 - alpha / 2.0])
    return float(low), float(high)


def _warn_outside(run: _Pass, finds: gpd.GeoDataFrame, stacklevel: int) -> None:
    counts = run.counts
    if counts["finds_outside"]:
        warnings.warn(
            f"{finds.attrs.get('source', 'finds')}: {counts['finds_outside']:,} find(s) "
            f"({counts['devices_outside']:,} devices) lie outside every hazard area (ids "
            f"{_validate.list_ids(run.outside_ids)}); they are in no density and are counted "
            "apart, as finds_outside; check their coordinates and CRS, or the hazard layer.",
            DataWarning,
            stacklevel=stacklevel,
        )


def device_density(
    hazards: gpd.GeoDataFrame,
    releases: gpd.GeoDataFrame,
    finds: gpd.GeoDataFrame,
    *,
    by: str | Sequence[str] | gpd.GeoDataFrame | None = None,
    confidence: float = 0.95,
    as_of: object | None = None,
    interval: str = "poisson",
    draws: int = 1_000,
    seed: int = 0,
    district_column: str | None = None,
    edges: str | None = None,
) -> pd.DataFrame:
    """Devices found per hectare of released land, per threat level and release method.

    Parameters
    ----------
    hazards, releases : geopandas.GeoDataFrame
        As for :func:`minemap.land_release_summary` (raw layers are validated first).
    finds : geopandas.GeoDataFrame
        Device finds, as :func:`minemap.io.evidence.read_finds` returns them (points with
        ``device_count``).
    by : str, list of str or geopandas.GeoDataFrame, optional
        Hazard column(s) to group by, or a layer of district polygons, as for
        :func:`minemap.land_release_summary`.
    confidence : float, default 0.95
        Confidence level of the interval.
    as_of : date-like, optional
        Count only releases and finds dated on or before this day (undated finds count).
    interval : {'poisson', 'bootstrap'}, default 'poisson'
        ``'poisson'``: the exact (Garwood) interval of the device count over the hectares,
        which assumes devices lie independently (clustering makes the true interval wider).
        ``'bootstrap'``: a percentile bootstrap over release records, which keeps each
        record's devices together (it needs a second overlay of hazards and releases).
    draws : int, default 1000
        Bootstrap draws.
    seed : int, default 0
        Seed of the bootstrap draws.
    district_column : str, optional
        Name column of a district layer given as ``by``.
    edges : {'planar', 'geodesic'}, optional
        As for :func:`minemap.land_release_summary`.

    Returns
    -------
    pandas.DataFrame
        For each group (then ``"all"`` groups when ``by`` is given) and each threat level
        (then ``total``), one row per release method (then ``total``). Columns: the group
        columns, ``threat_level``, ``method``, ``released_ha`` (exactly the released hectares
        of :func:`minemap.land_release_summary`), ``devices`` (sum of ``device_count``),
        ``finds`` (find records), ``devices_per_ha``, ``devices_per_ha_low``,
        ``devices_per_ha_high``, ``no_find_ha`` and ``percent_no_find``. Densities and
        percentages are NaN where nothing was released. ``attrs`` holds ``interval`` (the
        method and its assumption), ``confidence``, ``finds_total``, ``devices_total``,
        ``finds_outside`` and ``devices_outside`` (outside every hazard),
        ``finds_in_unreleased`` and ``devices_in_unreleased`` (in hazard land no release
        holds), ``finds_after_as_of``, ``released_outside_hazards_ha``, ``as_of`` and
        ``area_frame``.

    Warns
    -----
    DataWarning
        When finds lie outside every hazard area (they are counted in ``attrs``).

    Notes
    -----
    Each find counts once, in the released piece holding it: the land of one release record
    (overlaps resolved, strongest method first) inside hazards of one threat level and
    group. Pieces are closed: a find on the edge of released land counts on it, and one on
    the edge between two released pieces goes to the higher threat level, then the stronger
    method, then the first group. Devices + ``devices_outside`` + ``devices_in_unreleased``
    add up to ``devices_total``.

    ``no_find_ha`` is the released land of the release records that found nothing there:
    each record's released land in hazards of one threat level (and group) holding no find.
    ``percent_no_find = 100 × no_find_ha / released_ha``.

    Examples
    --------
    Ten hectares cleared (a square in an equal-area CRS), 25 devices found in it:

    >>> import geopandas as gpd
    >>> from shapely import Point, box
    >>> laea = "+proj=laea +lat_0=40 +lon_0=47 +ellps=WGS84 +units=m"
    >>> side = 100_000 ** 0.5
    >>> hz = gpd.GeoDataFrame({"hazard_id": ["H1"], "threat_level": ["high"]},
    ...     geometry=[box(0, 0, side, side)], crs=laea)
    >>> rl = gpd.GeoDataFrame({"release_id": ["R1"], "method": ["cleared"],
    ...     "release_date": ["2023-05-01"]}, geometry=[box(0, 0, side, side)], crs=laea)
    >>> finds = gpd.GeoDataFrame({"find_id": ["F1"], "find_date": pd.to_datetime(["2023-04-01"]),
    ...     "device_type": ["ap_mine"], "device_count": [25], "release_id": ["R1"]},
    ...     geometry=[Point(100, 100)], crs=laea)
    >>> finds.attrs["minemap"] = "finds"
    >>> table = device_density(hz, rl, finds)
    >>> row = table.query("threat_level == 'high' and method == 'cleared'").iloc[0]
    >>> round(float(row.released_ha), 6), int(row.devices), round(float(row.devices_per_ha), 6)
    (10.0, 25, 2.5)
    >>> round(float(row.devices_per_ha_low), 3), round(float(row.devices_per_ha_high), 3)
    (1.618, 3.69)
    """
    confidence = _check_confidence(confidence)
    if interval not in INTERVALS:
        raise SchemaError(
            f"{option_hint('interval', repr(interval))} is not an interval method; use one of "
            f"{list(INTERVALS)}."
        )
    if (
        isinstance(draws, bool)
        or not isinstance(draws, (int, np.integer))
        or not MIN_DRAWS <= draws <= MAX_DRAWS
    ):
        raise SchemaError(
            f"{option_hint('draws', repr(draws))} is not a number of draws; give a whole "
            f"number from {MIN_DRAWS} to {MAX_DRAWS:,}, e.g. 1000."
        )
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise SchemaError(
            f"{option_hint('seed', repr(seed))} is not a seed; give a whole number ≥ 0."
        )
    run = _density_pass(
        hazards,
        releases,
        finds,
        by=by,
        as_of=as_of,
        district_column=district_column,
        edges=edges,
        units="all" if interval == "bootstrap" else "split",
    )
    table = _density_table(
        run, confidence=confidence, interval=interval, draws=int(draws), seed=seed
    )
    _warn_outside(run, finds, stacklevel=3)
    _describe(table, run, confidence)
    table.attrs["interval"] = (
        f"{interval}: {_POISSON_NOTE if interval == 'poisson' else _BOOTSTRAP_NOTE}"
    )
    return table


def _describe(table: pd.DataFrame, run: _Pass, confidence: float) -> None:
    table.attrs.clear()
    table.attrs["confidence"] = confidence
    table.attrs.update(run.counts)
    for key in (RELEASED_OUTSIDE_HA, "as_of", "area_frame", "edges"):
        table.attrs[key] = run.summary.attrs.get(key)


# ------------------------------------------------------------------------------------------
# devices remaining
# ------------------------------------------------------------------------------------------

_ESTIMATE_METHODS: tuple[str, ...] = (*RELEASE_METHODS, "released")


def _density_sources(
    run: _Pass | None,
    density: pd.DataFrame | Mapping[str, float] | None,
    group_columns: Sequence[str],
    method: str,
) -> dict[tuple[object, ...], tuple[float, float, str]]:
    """(devices, hectares, basis) of the density for each (group key..., level).

    Keys are ``(group values..., level)``; a density table without group columns gives keys
    ``(level,)`` that serve every group.
    """
    wanted = TOTAL if method == "released" else method
    if isinstance(density, pd.DataFrame):
        missing = {THREAT_LEVEL, METHOD, DEVICES, RELEASED_HA} - set(density.columns)
        if missing:
            raise SchemaError(
                f"density=: the table has no column(s) {sorted(missing)}; give the table "
                "device_density returns, or a mapping of threat level to devices per hectare."
            )
        columns = list(density.columns[: density.columns.get_loc(THREAT_LEVEL)])
        if columns and columns != list(group_columns):
            raise SchemaError(
                f"density=: the table is grouped by {columns} but the estimate by "
                f"{list(group_columns)}; compute it with the same by=, or without by= to use "
                "one density per threat level everywhere."
            )
        rows = density[density[METHOD] == wanted]
        rows = rows[rows[THREAT_LEVEL].isin(THREAT_LEVELS)]
        if columns:
            rows = rows[~(rows[columns] == "all").all(axis=1)]
        out = {}
        for _, row in rows.iterrows():
            key = (*(row[c] for c in columns), row[THREAT_LEVEL])
            out[key] = (float(row[DEVICES]), float(row[RELEASED_HA]), method)
        return out
    if density is not None:
        out = {}
        for level, value in dict(density).items():
            if level not in THREAT_LEVELS:
                raise SchemaError(
                    f"density=: unknown threat level {level!r}; use {list(THREAT_LEVELS)}."
                )
            try:
                number = float(value)
            except (TypeError, ValueError):
                number = math.nan
            if not (math.isfinite(number) and number >= 0):
                raise SchemaError(
                    f"density=: {value!r} for {level!r} is not a density; give devices per "
                    "hectare as a number ≥ 0."
                )
            out[(level,)] = (number, math.nan, "given")
        return out
    assert run is not None
    table = _density_table(run, confidence=0.95, interval="poisson", draws=1, seed=0)
    return _density_sources(None, table, group_columns, method)


def _estimate_rows(
    summary: pd.DataFrame,
    group_columns: Sequence[str],
    sources: Mapping[tuple[object, ...], tuple[float, float, str]],
    confidence: float,
) -> pd.DataFrame:
    rows = summary[summary[THREAT_LEVEL].isin(THREAT_LEVELS)]
    records = []
    for _, row in rows.iterrows():
        group = tuple(row[c] for c in group_columns)
        level = row[THREAT_LEVEL]
        key = (*group, level)
        source_key = key if key in sources else (level,)
        devices, hectares, basis = sources.get(source_key, (0.0, 0.0, "none"))
        remaining = float(row[REMAINING_HA])
        record: dict[str, object] = {c: row[c] for c in group_columns}
        record.update(
            {
                THREAT_LEVEL: level,
                REMAINING_HA: remaining,
                DENSITY_DEVICES: devices if basis != "given" else math.nan,
                DENSITY_HA: hectares,
                DEVICES_PER_HA: math.nan,
                DEVICES_ESTIMATE: math.nan,
                DEVICES_LOW: math.nan,
                DEVICES_HIGH: math.nan,
                REASON: "",
                "_source": source_key,
                "_weight": math.nan,
            }
        )
        if basis == "given":
            record[DEVICES_PER_HA] = devices
            record[DEVICES_ESTIMATE] = devices * remaining
            record[REASON] = "" if remaining == 0 else "density given: no interval"
        elif hectares > 0:
            weight = remaining / hectares
            low, high = _garwood(np.array([devices]), confidence)
            record.update(
                {
                    DEVICES_PER_HA: devices / hectares,
                    DEVICES_ESTIMATE: weight * devices,
                    DEVICES_LOW: weight * float(low[0]),
                    DEVICES_HIGH: weight * float(high[0]),
                    "_weight": weight,
                }
            )
        elif remaining == 0:
            record.update({DEVICES_ESTIMATE: 0.0, DEVICES_LOW: 0.0, DEVICES_HIGH: 0.0})
            record["_weight"] = 0.0
        else:
            record[REASON] = (
                f"no {basis} land of this level" if basis != "none" else "no density given"
            )
        records.append(record)
    return pd.DataFrame(records)


def _total_row(
    part: pd.DataFrame,
    summary_row: pd.Series,
    group_columns: Sequence[str],
    confidence: float,
    sources: Mapping[tuple[object, ...], tuple[float, float, str]],
) -> dict[str, object]:
    """The total of some estimate rows (its summary row gives the group and the remaining
    hectares): the sum of estimates, with the interval of a weighted sum of the Poisson
    counts they come from (rows sharing a density add their weights)."""
    row: dict[str, object] = {c: summary_row[c] for c in group_columns}
    row.update(
        {
            THREAT_LEVEL: TOTAL,
            REMAINING_HA: float(summary_row[REMAINING_HA]),
            DENSITY_DEVICES: math.nan,
            DENSITY_HA: math.nan,
            DEVICES_PER_HA: math.nan,
            DEVICES_ESTIMATE: math.nan,
            DEVICES_LOW: math.nan,
            DEVICES_HIGH: math.nan,
            REASON: "",
        }
    )
    missing = part[part[DEVICES_ESTIMATE].isna()]
    if len(missing):
        levels = sorted(set(missing[THREAT_LEVEL]), key=THREAT_LEVELS.index)
        row[REASON] = f"no estimate for {', '.join(levels)}"
        return row
    row[DEVICES_ESTIMATE] = float(part[DEVICES_ESTIMATE].sum())
    if part["_weight"].isna().any():
        row[REASON] = "density given: no interval"
        return row
    weights: dict[tuple[object, ...], float] = {}
    for source, weight in zip(part["_source"], part["_weight"], strict=True):
        weights[source] = weights.get(source, 0.0) + float(weight)
    keys = list(weights)
    counts = np.array([sources[k][0] if k in sources else 0.0 for k in keys])
    low, high = _weighted_poisson(counts, np.array([weights[k] for k in keys]), confidence)
    row[DEVICES_LOW], row[DEVICES_HIGH] = low, high
    return row


def estimate_remaining_devices(
    hazards: gpd.GeoDataFrame,
    releases: gpd.GeoDataFrame,
    finds: gpd.GeoDataFrame | None,
    *,
    by: str | Sequence[str] | gpd.GeoDataFrame | None = None,
    density: pd.DataFrame | Mapping[str, float] | None = None,
    confidence: float = 0.95,
    method: str = "cleared",
    as_of: object | None = None,
    district_column: str | None = None,
    edges: str | None = None,
) -> pd.DataFrame:
    """Devices likely left in the remaining hazard area, per threat level (and group).

    Parameters
    ----------
    hazards, releases : geopandas.GeoDataFrame
        As for :func:`minemap.land_release_summary`.
    finds : geopandas.GeoDataFrame or None
        Device finds (as for :func:`device_density`); may be None when ``density`` is given.
    by : str, list of str or geopandas.GeoDataFrame, optional
        Groups, as for :func:`minemap.land_release_summary`.
    density : pandas.DataFrame or mapping, optional
        Where the densities come from. By default the devices found per hectare of land
        released by ``method`` in the same threat level (and group). A table returned by
        :func:`device_density` is used as it is (one without groups gives every group its
        level's density). A mapping ``{threat_level: devices per ha}`` is taken as exact:
        the estimate then has no interval.
    confidence : float, default 0.95
        Confidence level of the intervals.
    method : {'cleared', 'reduced', 'cancelled', 'released'}, default 'cleared'
        Release method whose land gives the density (``'released'``: all released land).
    as_of : date-like, optional
        Count only releases and finds dated on or before this day.
    district_column : str, optional
        Name column of a district layer given as ``by``.
    edges : {'planar', 'geodesic'}, optional
        As for :func:`minemap.land_release_summary`.

    Returns
    -------
    pandas.DataFrame
        For each group and threat level (then ``total``; with ``by``, a grand ``total``
        row whose group columns read ``"all"``): the group columns, ``threat_level``,
        ``remaining_ha`` (as :func:`minemap.land_release_summary`), ``density_devices`` and
        ``density_ha`` (the devices and hectares the density comes from),
        ``devices_per_ha`` (the density used), ``devices_estimate``, ``devices_low``,
        ``devices_high`` and ``reason`` (why an estimate is missing; empty otherwise).

    Notes
    -----
    Cleared land is the default basis because clearance searches all of it: technical survey
    and non-technical survey release land without looking for every device, so their finds
    understate the density. The estimate assumes the remaining land of a level holds devices
    as densely as the cleared land of that level: land is often cleared where it is most
    contaminated first, which makes the estimate high, or where it is needed first, which
    can make it either.

    The interval is that of the *expected* number of devices: the Garwood interval of the
    device count, scaled by ``remaining_ha / density_ha``. A total is the sum of estimates;
    its interval is not the sum of bounds (too wide) but the Fay–Feuer (1997) gamma interval
    of a weighted sum of independent Poisson counts, which is the Garwood interval again
    when one level contributes. Where a level has remaining land but no land to take a
    density from, the estimate is NaN with its reason, and so is any total including it.

    Examples
    --------
    Of a 20 ha high-threat hazard, 10 ha cleared with 25 devices found: about 25 more.

    >>> import geopandas as gpd
    >>> from shapely import Point, box
    >>> laea = "+proj=laea +lat_0=40 +lon_0=47 +ellps=WGS84 +units=m"
    >>> side = 100_000 ** 0.5
    >>> hz = gpd.GeoDataFrame({"hazard_id": ["H1"], "threat_level": ["high"]},
    ...     geometry=[box(0, 0, 2 * side, side)], crs=laea)
    >>> rl = gpd.GeoDataFrame({"release_id": ["R1"], "method": ["cleared"],
    ...     "release_date": ["2023-05-01"]}, geometry=[box(0, 0, side, side)], crs=laea)
    >>> finds = gpd.GeoDataFrame({"find_id": ["F1"], "find_date": pd.to_datetime(["2023-04-01"]),
    ...     "device_type": ["ap_mine"], "device_count": [25], "release_id": ["R1"]},
    ...     geometry=[Point(100, 100)], crs=laea)
    >>> finds.attrs["minemap"] = "finds"
    >>> table = estimate_remaining_devices(hz, rl, finds).set_index("threat_level")
    >>> high, total = table.loc["high"], table.loc["total"]
    >>> round(float(high.devices_estimate), 3), table.loc["medium", "reason"]
    (25.0, '')
    >>> round(float(total.devices_low), 2), round(float(total.devices_high), 2)
    (16.18, 36.9)
    """
    confidence = _check_confidence(confidence)
    if method not in _ESTIMATE_METHODS:
        raise SchemaError(
            f"{option_hint('method', repr(method))} is not a release method; use one of "
            f"{list(_ESTIMATE_METHODS)}."
        )
    run = None
    if density is None:
        if finds is None:
            raise SchemaError(
                "estimate_remaining_devices needs finds (finds=) to take densities from, or "
                "densities (density=)."
            )
        run = _density_pass(
            hazards,
            releases,
            finds,
            by=by,
            as_of=as_of,
            district_column=district_column,
            edges=edges,
            units="none",
        )
        summary = run.summary
        _warn_outside(run, finds, stacklevel=3)
    else:
        summary, _ = _shared_summary(
            hazards, releases, by=by, as_of=as_of, district_column=district_column, edges=edges
        )
    group_columns = list(summary.columns[: summary.columns.get_loc(THREAT_LEVEL)])
    sources = _density_sources(run, density, group_columns, method)
    rows = _estimate_rows(summary, group_columns, sources, confidence)
    # the summary's blocks: each group's levels and total, then (grouped) the grand total
    blocks = []
    for b in range(len(rows) // _N_LEVELS):
        part = rows.iloc[_N_LEVELS * b : _N_LEVELS * (b + 1)]
        total = summary.iloc[(_N_LEVELS + 1) * b + _N_LEVELS]
        blocks += [
            part,
            pd.DataFrame([_total_row(part, total, group_columns, confidence, sources)]),
        ]
    if group_columns:
        grand = _total_row(rows, summary.iloc[-1], group_columns, confidence, sources)
        blocks.append(pd.DataFrame([grand]))
    table = pd.concat(blocks, ignore_index=True).drop(columns=["_source", "_weight"])
    table.attrs.clear()
    table.attrs["confidence"] = confidence
    table.attrs["density"] = (
        "given" if density is not None else f"devices per hectare of {method} land, per level"
    )
    table.attrs["interval"] = (
        "Garwood interval of the density's device count, scaled to the remaining hectares; "
        "totals: Fay-Feuer gamma interval of the weighted sum of Poisson counts. Intervals "
        "are of the expected number of devices and assume devices lie independently."
    )
    for key in ("as_of", "area_frame", "edges"):
        table.attrs[key] = summary.attrs.get(key)
    if run is not None:
        table.attrs.update(run.counts)
    return table


# ------------------------------------------------------------------------------------------
# record accuracy
# ------------------------------------------------------------------------------------------

#: Records a notebook shows of a :class:`RecordAccuracy` (all are in ``.records``).
_HTML_RECORDS = 20
#: What each status and figure of :func:`record_accuracy` means.
DEFINITIONS: dict[str, str] = {
    "record": (
        "A handed-over minefield record. The Technical Annex of Amended Protocol II (CCW) "
        "asks a record to give the location of the mined area, its perimeter and extent, "
        "and the type and number of mines laid; these are what is checked."
    ),
    "tolerance_m": (
        "Distance in true (geodesic) metres around the recorded perimeter, or around the "
        "recorded location of a point record, within which a find counts for the record."
    ),
    "released_share": (
        "Share of the record's perimeter plus tolerance lying on released ground (cleared, "
        "reduced by technical survey or cancelled by non-technical survey, as methods= "
        "says), in true hectares; released land counts once however often it was released."
    ),
    "confirmed": "At least one device find lies within the perimeter plus tolerance.",
    "inaccurate": (
        "No find within the perimeter plus tolerance, although at least min_released_share "
        "of it (default 50 %) has been released: the devices were looked for and not there."
    ),
    "unverified": (
        "No find, and less than min_released_share of the perimeter plus tolerance released: "
        "not enough ground searched to judge. Never counted as inaccurate."
    ),
    "found_to_recorded": (
        "Devices found within the perimeter plus tolerance divided by the devices the "
        "record gives; for confirmed and inaccurate records with a recorded count above 0."
    ),
    "type_agrees": (
        "Whether the recorded device type is the type found most often there (by devices; "
        "finds of unknown type left out); empty when the record or the finds give no type."
    ),
    "nearest_find_m": "Geodesic metres from the record to the nearest find (0 inside it).",
    "percent_confirmed": "Confirmed records as a share of verifiable (confirmed + inaccurate).",
    "percent_finds_in_records": (
        "Finds lying within the perimeter plus tolerance of at least one record, as a share "
        "of all finds."
    ),
}


@dataclass(frozen=True, eq=False)
class RecordAccuracy:
    """How well minefield records matched what was found: per record, overall, and what
    each figure means.

    Attributes
    ----------
    records : geopandas.GeoDataFrame
        One row per record, in input order: ``record_id``, ``device_type``,
        ``recorded_devices``, ``status`` (``confirmed``, ``inaccurate`` or ``unverified``),
        ``released_share``, ``finds_within``, ``devices_within``, ``found_device_type``,
        ``type_agrees``, ``found_to_recorded``, ``nearest_find_m`` and the record geometry.
    summary : pandas.DataFrame
        One row: counts per status, ``percent_confirmed`` (of verifiable records), finds and
        devices within some record and their percentages, ``found_to_recorded`` over
        confirmed records, and device-type agreement.
    definitions : dict
        The definition of each status and figure, in words.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> records = gpd.GeoDataFrame({"record_id": ["MF-1"], "recorded_devices": [3],
    ...     "device_type": ["ap_mine"]}, geometry=[Point(46.0, 40.0)], crs=4326)
    >>> finds = gpd.GeoDataFrame({"find_id": ["F1"], "find_date": pd.to_datetime(["2024-01-01"]),
    ...     "device_type": ["ap_mine"], "device_count": [3], "release_id": [None]},
    ...     geometry=[Point(46.0003, 40.0)], crs=4326)
    >>> records.attrs["minemap"], finds.attrs["minemap"] = "records", "finds"
    >>> result = record_accuracy(records, finds, None, tolerance_m=50)
    >>> result.records[["status", "devices_within", "type_agrees"]].values.tolist()
    [['confirmed', 3, True]]
    """

    records: gpd.GeoDataFrame
    summary: pd.DataFrame
    definitions: dict[str, str]

    def _repr_html_(self) -> str:
        import html

        from minemap._display import table_html

        terms = "".join(
            f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>"
            for k, v in self.definitions.items()
        )
        shown = self.records.head(_HTML_RECORDS)
        caption = f"Records ({len(shown)} of {len(self.records):,} shown)"
        return (
            f"<div>{table_html(self.summary, caption='Record accuracy')}"
            f"{table_html(shown, caption=caption)}<dl>{terms}</dl></div>"
        )


def _check_methods(methods: Sequence[str]) -> tuple[str, ...]:
    chosen = (methods,) if isinstance(methods, str) else tuple(methods)
    unknown = [m for m in chosen if m not in RELEASE_METHODS]
    if unknown or not chosen:
        raise SchemaError(
            f"{option_hint('methods', repr(list(chosen)))} must name release methods from "
            f"{list(RELEASE_METHODS)} (at least one)."
        )
    return chosen


def _geodesic_m(start: np.ndarray, end: np.ndarray, crs: object) -> np.ndarray:
    """Geodesic metres between points given (``(n, 2)`` arrays) in ``crs``."""
    move = _crs.transformer(crs, _WGS84)
    lon0, lat0 = move.transform(start[:, 0], start[:, 1])
    lon1, lat1 = move.transform(end[:, 0], end[:, 1])
    return np.asarray(_GEOD.inv(lon0, lat0, lon1, lat1)[2], dtype=float)


def _offsets(xy: np.ndarray, centre: np.ndarray, crs: pyproj.CRS) -> np.ndarray:
    """``xy − centre``, the shorter way round the globe for longitudes."""
    d = xy - centre
    if crs.is_geographic:
        period = 360.0 / _crs.degrees_per_unit(crs)
        d[:, 0] = (d[:, 0] + period / 2.0) % period - period / 2.0
    return d


def _pair_distances_m(
    geoms: np.ndarray,
    points: np.ndarray,
    k: np.ndarray,
    f: np.ndarray,
    crs: pyproj.CRS,
    frame: pyproj.CRS,
) -> np.ndarray:
    """Geodesic metres between record ``geoms[k]`` and find ``points[f]``, pair by pair.

    The nearest point of the record is found in the record's local affine frame of true
    metres (:func:`minemap.priority._affine_frames`), where the record's straight edges stay
    straight; a record too large for one such frame is searched in the equal-area frame. The
    distance is the geodesic from that point to the find.
    """
    out = np.full(k.size, np.nan)
    if k.size == 0:
        return out
    xy = np.column_stack([shapely.get_x(points[f]), shapely.get_y(points[f])])
    own, where = np.unique(k, return_inverse=True)
    centre, metric, error = _affine_frames(geoms[own], crs)
    fits = (error <= AFFINE_TOLERANCE)[where]
    a = np.flatnonzero(fits)
    if a.size:
        flat = shapely.force_2d(geoms[own])
        coords, index = shapely.get_coordinates(flat, return_index=True)
        local = np.einsum("nij,nj->ni", metric[index], _offsets(coords, centre[index], crs))
        local_geoms = shapely.set_coordinates(flat.copy(), local)
        u = where[a]
        finds_local = np.einsum("nij,nj->ni", metric[u], _offsets(xy[a], centre[u], crs))
        lines = shapely.shortest_line(local_geoms[u], shapely.points(finds_local))
        ends = shapely.get_coordinates(lines).reshape(-1, 2, 2)[:, 0]
        nearest = np.einsum("nij,nj->ni", np.linalg.inv(metric)[u], ends) + centre[u]
        out[a] = _geodesic_m(nearest, xy[a], crs)
    b = np.flatnonzero(~fits)
    if b.size:
        in_frame = _crs.project_dense(geoms[k[b]], crs, frame)
        lines = shapely.shortest_line(in_frame, _crs.project_dense(points[f[b]], crs, frame))
        ends = shapely.get_coordinates(lines).reshape(-1, 2, 2)
        out[b] = _geodesic_m(ends[:, 0], ends[:, 1], frame)
    return out


def _released_share(
    geoms: np.ndarray,
    crs: pyproj.CRS,
    frame: pyproj.CRS,
    releases: gpd.GeoDataFrame | None,
    methods: Sequence[str],
    tolerance: float,
) -> np.ndarray:
    """Share of each record's perimeter plus tolerance (true metres) on released ground."""
    n = len(geoms)
    share = np.zeros(n)
    if releases is None or n == 0:
        return share
    every = set(methods) >= set(RELEASE_METHODS)
    kept = _shared_release_pieces(releases, crs) if every else None
    if kept is not None:  # the summary's: all releases, in this CRS
        ground = kept[0]
    else:
        chosen = releases.loc[releases[METHOD].isin(methods).to_numpy()]
        ground, _ = _release_work_pieces(chosen, crs, None)  # disjoint: a place counts once
    if ground.size == 0:
        return share
    buffers = _true_buffers(geoms, crs, np.full(n, tolerance), crs, frame=frame)
    buffer_m2 = _crs.area_m2(buffers, crs, frame)
    i, j = intersecting_pairs(buffers, ground)
    shared = polygonal_parts(robust(shapely.intersection, buffers[i], ground[j]))
    released_m2 = np.bincount(i, weights=_crs.area_m2(shared, crs, frame), minlength=n)
    area = buffer_m2 > 0
    share[area] = np.clip(released_m2[area] / buffer_m2[area], 0.0, 1.0)
    if (~area).any():  # a point record with no tolerance: released if it lies on the ground
        flat = np.flatnonzero(~area)
        hit = shapely.STRtree(ground).query(geoms[flat], predicate="intersects")[0]
        share[flat[np.unique(hit)]] = 1.0
    return share


def _nearest_find_m(
    geoms: np.ndarray, crs: pyproj.CRS, finds: gpd.GeoDataFrame, frame: pyproj.CRS
) -> np.ndarray:
    """Geodesic metres from each record to the nearest find (see :mod:`minemap.nearest`)."""
    if len(finds) == 0 or len(geoms) == 0:
        return np.full(len(geoms), np.nan)
    found = np.asarray(finds.geometry.array, dtype=object)
    if _in_shared_frame(geoms, crs, frame) and _in_shared_frame(found, finds.crs, frame):
        index = FeatureIndex.build(found, finds.crs, frame)
        return index.distances_m(_crs.project_dense(geoms, crs, frame))
    return regional_distances_m(geoms, crs, found, finds.crs)


def _found_types(k: np.ndarray, types: np.ndarray, devices: np.ndarray, n: int) -> np.ndarray:
    """The device type found most often (by devices, then finds) within each record; None
    where no find of a known type is."""
    out = np.full(n, None, dtype=object)
    known = types != "unknown"
    if not known.any():
        return out
    table = pd.DataFrame({"k": k[known], "type": types[known], "devices": devices[known]})
    sums = table.groupby(["k", "type"], sort=False).agg(
        devices=("devices", "sum"), finds=("devices", "size")
    )
    sums = sums.reset_index()
    sums["order"] = sums["type"].map({t: i for i, t in enumerate(DEVICE_TYPES)})
    sums = sums.sort_values(
        ["k", "devices", "finds", "order"], ascending=[True, False, False, True]
    )
    first = sums.drop_duplicates("k")
    out[first["k"].to_numpy()] = first["type"].to_numpy()
    return out


@gc_paused()
def record_accuracy(
    records: gpd.GeoDataFrame,
    finds: gpd.GeoDataFrame,
    releases: gpd.GeoDataFrame | None,
    *,
    tolerance_m: float = TOLERANCE_M,
    min_released_share: float = MIN_RELEASED_SHARE,
    methods: Sequence[str] = RELEASE_METHODS,
) -> RecordAccuracy:
    """Check handed-over minefield records against device finds and released ground.

    Parameters
    ----------
    records : geopandas.GeoDataFrame
        Minefield records, as :func:`minemap.io.evidence.read_records` returns them:
        recorded perimeters (polygons) or locations (points).
    finds : geopandas.GeoDataFrame
        Device finds, as :func:`minemap.io.evidence.read_finds` returns them.
    releases : geopandas.GeoDataFrame or None
        Land-release records (:func:`minemap.read_releases`): the ground searched. Without
        them no record can be found inaccurate.
    tolerance_m : float, default 50
        True metres around each record within which a find counts for it.
    min_released_share : float, default 0.5
        Share of a record's perimeter plus tolerance that must be released for the record
        to be judged (``inaccurate`` when nothing was found there); below it the record is
        ``unverified``.
    methods : sequence of str, default all release methods
        Release methods whose land counts as searched ground.

    Returns
    -------
    RecordAccuracy
        ``.records`` (one row per record, in input order), ``.summary`` (one row) and
        ``.definitions`` (each status and figure in words; see :data:`DEFINITIONS`).

    Notes
    -----
    A find counts for a record when its geodesic distance to the record (0 inside a
    perimeter) is at most ``tolerance_m``: candidates are looked for in buffers of true
    metres (made as for priority zones) a little wider than the tolerance, then measured
    exactly. Any find counts, dated or not: finds come from clearance and survey. Released
    shares are measured in true hectares, released land counted once. No figure depends on
    the order of the records.

    Examples
    --------
    A recorded point 40 m from a find is confirmed; one 60 m from it is not, and with its
    surroundings uncleared it stays unverified:

    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> utm = 32638
    >>> records = gpd.GeoDataFrame({"record_id": ["near", "far"], "recorded_devices": [2, 2],
    ...     "device_type": ["ap_mine", "unknown"]},
    ...     geometry=[Point(500_040, 4_400_000), Point(500_060, 4_400_000)], crs=utm)
    >>> finds = gpd.GeoDataFrame({"find_id": ["F1"], "find_date": pd.to_datetime(["2024-01-01"]),
    ...     "device_type": ["ap_mine"], "device_count": [2], "release_id": [None]},
    ...     geometry=[Point(500_000, 4_400_000)], crs=utm)
    >>> records.attrs["minemap"], finds.attrs["minemap"] = "records", "finds"
    >>> result = record_accuracy(records, finds, None)
    >>> result.records["status"].tolist()
    ['confirmed', 'unverified']
    >>> [round(float(d), 1) for d in result.records["nearest_find_m"]]
    [40.0, 60.0]
    """
    tolerance = _number(
        tolerance_m,
        "tolerance_m",
        lambda v: 0 <= v <= MAX_TOLERANCE_M,
        "a tolerance",
        f"give metres from 0 to {MAX_TOLERANCE_M:,.0f}, e.g. 50.",
    )
    share_needed = _number(
        min_released_share,
        "min_released_share",
        lambda v: 0.0 < v <= 1.0,
        "a share",
        "give a number above 0 and at most 1, e.g. 0.5.",
    )
    chosen = _check_methods(methods)
    records = _as_evidence(records, "records")
    finds = _as_evidence(finds, "finds")
    releases = _as_releases(releases)
    crs = pyproj.CRS(records.crs)
    frame = _crs.area_frame(records, finds, releases)
    geoms = _crs.to_crs_dense(records.geometry, crs)
    points = _crs.to_crs_dense(finds.geometry, crs)
    n = len(geoms)

    share = _released_share(geoms, crs, frame, releases, chosen, tolerance)
    if n and len(points):
        reach = tolerance * (1.0 + _SEARCH_MARGIN) + _SEARCH_MARGIN_M
        search = _true_buffers(geoms, crs, np.full(n, reach), crs, frame=frame)
        k, f = shapely.STRtree(points).query(search, predicate="intersects")
    else:
        k = f = np.empty(0, dtype=np.intp)
    distance = _pair_distances_m(geoms, points, k, f, crs, frame)
    nearest = _nearest_find_m(geoms, crs, finds, frame)
    closest = np.full(n, np.inf)
    np.minimum.at(closest, k, distance)
    nearest = np.where(np.isfinite(closest), closest, nearest)

    within = distance <= tolerance
    k, f = k[within], f[within]
    find_devices = finds[DEVICE_COUNT].to_numpy(dtype=np.int64)
    find_types = finds[DEVICE_TYPE].astype(str).to_numpy()
    finds_within = np.bincount(k, minlength=n)
    devices_within = np.bincount(k, weights=find_devices[f], minlength=n).astype(np.int64)
    status = np.where(
        finds_within > 0, "confirmed", np.where(share >= share_needed, "inaccurate", "unverified")
    )
    recorded = records[RECORDED_DEVICES].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    judged = status != "unverified"
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(judged & (recorded > 0), devices_within / recorded, np.nan)
    found_type = _found_types(k, find_types[f], find_devices[f], n)
    recorded_type = records[DEVICE_TYPE].astype(str).to_numpy()
    comparable = (recorded_type != "unknown") & pd.notna(found_type)
    agrees = pd.array([pd.NA] * n, dtype="boolean")
    agrees[comparable] = recorded_type[comparable] == found_type[comparable]

    table = gpd.GeoDataFrame(
        {
            RECORD_ID: records[RECORD_ID].to_numpy(),
            DEVICE_TYPE: recorded_type,
            RECORDED_DEVICES: records[RECORDED_DEVICES].to_numpy(),
            STATUS: status,
            RELEASED_SHARE: share,
            FINDS_WITHIN: finds_within,
            DEVICES_WITHIN: devices_within,
            FOUND_DEVICE_TYPE: found_type,
            TYPE_AGREES: agrees,
            FOUND_TO_RECORDED: ratio,
            NEAREST_FIND_M: nearest,
        },
        geometry=records.geometry.to_numpy(),
        crs=records.crs,
    )
    table[RECORDED_DEVICES] = table[RECORDED_DEVICES].astype("Int64")
    inside = np.unique(f)
    summary = _accuracy_summary(table, len(finds), inside.size, find_devices, inside)
    summary.attrs["tolerance_m"] = tolerance
    summary.attrs["min_released_share"] = share_needed
    summary.attrs["methods"] = list(chosen)
    return RecordAccuracy(records=table, summary=summary, definitions=dict(DEFINITIONS))


def _percent(part: float, whole: float) -> float:
    return 100.0 * part / whole if whole > 0 else math.nan


def _accuracy_summary(
    table: pd.DataFrame,
    n_finds: int,
    n_inside: int,
    find_devices: np.ndarray,
    inside: np.ndarray,
) -> pd.DataFrame:
    status = table[STATUS]
    confirmed = int((status == "confirmed").sum())
    inaccurate = int((status == "inaccurate").sum())
    recorded = table[RECORDED_DEVICES].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    counted = (status == "confirmed").to_numpy() & (recorded >= 0)
    found = int(table[DEVICES_WITHIN].to_numpy()[counted].sum())
    recorded_sum = float(recorded[counted].sum())
    agrees = table[TYPE_AGREES]
    compared = int(agrees.notna().sum())
    agreeing = int(agrees.fillna(False).sum())
    devices = int(find_devices.sum())
    devices_inside = int(find_devices[inside].sum())
    row = {
        "records": len(table),
        "confirmed": confirmed,
        "inaccurate": inaccurate,
        "unverified": int((status == "unverified").sum()),
        "percent_confirmed": _percent(confirmed, confirmed + inaccurate),
        FINDS: n_finds,
        "finds_in_records": n_inside,
        "percent_finds_in_records": _percent(n_inside, n_finds),
        DEVICES: devices,
        "devices_in_records": devices_inside,
        "percent_devices_in_records": _percent(devices_inside, devices),
        "confirmed_found_devices": found,
        "confirmed_recorded_devices": int(recorded_sum),
        FOUND_TO_RECORDED: found / recorded_sum if recorded_sum > 0 else math.nan,
        "type_compared": compared,
        "type_agreeing": agreeing,
        "percent_type_agrees": _percent(agreeing, compared),
    }
    return pd.DataFrame([row])
