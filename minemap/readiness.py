"""Settlement return readiness and communities at risk.

Displaced people return to a settlement when the land around it is safe enough to live on.
:func:`settlement_readiness` measures, per settlement, how much **remaining** hazard area
(hazard not yet released) lies within given distances of it, how much of the hazard area
there is released, how far the nearest remaining hazard is and how many explosive incidents
happened nearby, and turns these into a status (``ready``, ``conditional`` or ``blocked``)
by a rule the caller can change (:class:`ReadinessRule`). :func:`communities_at_risk` lists
the settlements near remaining hazards or recent incidents, most people first, for
planning mine risk education.

How the figures are made:

* The remaining hazard area is the one of :func:`minemap.priority_zones`: hazards flattened
  so a place counts once, under its highest threat level (the pieces of
  :func:`minemap.land_release_summary`), minus the land released (by any method, the
  records as drawn) on or before ``as_of``. The hazard area within a radius counts
  overlapping hazards once as well, and release counts only inside hazards.
* Each settlement is buffered by each radius in true metres, where it is
  (:func:`minemap.priority._true_buffers`; right across UTM zones and round the globe). A
  point's buffer is a polygon of ``4 × BUFFER_QUAD_SEGS`` sides whose **area equals the
  true circle's** (:data:`DISC_SCALE`: its vertices lie 0.08 % beyond the radius, the
  middles of its sides 0.04 % inside), so that hectares within a radius are true to a few
  hundredths of a percent however the circle is cut; a polygon's buffer has exact straight
  sides and rounded corners drawn inside their arcs (by at most 0.12 % of the radius). The
  hazard pieces within each buffer are measured in the hazards' working CRS: a piece wholly
  inside keeps its measured area, a piece crossing the buffer's edge is cut by it and
  measured in true hectares as :func:`minemap.crs.area_m2` measures a small feature (its
  planar area times the ellipsoid's area per unit at its centroid).
* Whether a hazard or an incident lies within a distance is decided on the **geodesic**
  distance itself, never on the buffer's outline: ``nearest_hazard_m`` is the geodesic
  length on the WGS 84 ellipsoid between the settlement's and the hazard's nearest points
  (:class:`minemap.nearest.FeatureIndex`), and an incident counts when its geodesic
  distance to the settlement is within the radius. A hazard beyond a radius therefore has
  no hectares within it, even where the buffer's polygon reaches a few decimetres past the
  circle.

How it is made fast (20,000 settlements, 5,000 incidents and the 100,000-hazard scenario
with 51,849 releases: about 5-6 s on a shared two-core machine after the densities, 10 s
of processor time; ``benchmarks/bench_evidence.py``):

* The hazard pieces are the land-release summary's, computed once for the figures of the
  same layers (:func:`minemap.evidence._shared_summary`): after :func:`minemap.device_density`
  nothing is flattened again, and the pieces before release (for the percentages) are the
  summary's own. What each call measured is kept for the next call on the same layers
  (:func:`communities_at_risk` after :func:`settlement_readiness` measures only its
  incidents), while the layers live and hold what they held.
* An STRtree pairs each settlement's largest disc with the pieces whose box meets it.
  Discs round points are regular polygons in a local affine frame, hence convex: most
  pieces are found wholly inside or outside from their box alone (the disc, scaled by its
  extents, holds the circle of its nearest edge line and lies within that of its farthest
  vertex), and the others are cut by the disc's edges whose segments meet their box (the
  only ones that can cut them), every ring of every pair at once in arrays
  (Sutherland-Hodgman) instead of one GEOS overlay per pair, whose fixed cost was most of
  the time. A polygon settlement's buffer is its convex hull less the pockets the hull
  holds beyond it; GEOS overlays only the pieces meeting a pocket. Smaller radii only look
  at the pairs the larger one found area in.
* The hazard area before release is measured again only for the pieces a release cut or
  removed: the others are the remaining pieces themselves.
* The nearest-hazard search indexes only the pieces nearest some settlement in the
  equal-area frame, not all of them.
* Work that does not wait for the remaining area (discs, incident counts) runs beside it,
  and the distance search and the whole pieces' areas beside the remaining areas: each
  stage runs on all cores, and overlapping them fills the time either spends on one.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from minemap import _validate
from minemap import crs as _crs
from minemap._errors import SchemaError, option_hint
from minemap._overlay import gc_paused, parallel, polygonal_parts, robust
from minemap._workers import SidePool
from minemap.evidence import _forget_shared as _forget_evidence
from minemap.evidence import _Shared, _shared_summary
from minemap.io.evidence import evidence_layer
from minemap.nearest import FeatureIndex, regional_distances_m
from minemap.priority import (
    AFFINE_TOLERANCE,
    BUFFER_QUAD_SEGS,
    SLIVER_M2,
    _affine_frames,
    _reproject,
    _subtract,
    _true_buffers,
)
from minemap.ranking import _in_shared_frame
from minemap.settings import (
    INCIDENT_DATE,
    MAX_DISTANCE_M,
    POPULATION,
    SETTLEMENT_ID,
    SETTLEMENT_NAME,
)
from minemap.stats import (
    RESIDUE_HA,
    _as_hazards,
    _as_releases,
    _as_timestamp,
    _release_work_pieces,
)

if TYPE_CHECKING:  # population rasters need the 'population' extra, imported when given
    import rasterio

    Raster: TypeAlias = str | os.PathLike[str] | rasterio.io.DatasetReader
else:
    Raster = object

__all__ = [
    "DEFAULT_RADII_M",
    "STATUSES",
    "ReadinessRule",
    "communities_at_risk",
    "incidents_column",
    "percent_released_column",
    "remaining_ha_column",
    "settlement_readiness",
]

#: Readiness statuses, best first.
STATUSES: tuple[str, ...] = ("ready", "conditional", "blocked")
#: Default radii around a settlement, in true metres.
DEFAULT_RADII_M: tuple[float, ...] = (500.0, 1000.0, 2000.0)

# output columns (those with a radius are named by the functions below)
NEAREST_HAZARD_M = "nearest_hazard_m"
STATUS = "status"
REASON = "reason"
RANK = "rank"
POPULATION_SOURCE = "population_source"
REMAINING_HA_WITHIN = "remaining_ha_within"
INCIDENTS_WITHIN = "incidents_within"

#: A polygon of ``4 × BUFFER_QUAD_SEGS`` sides drawn round a point at this many times the
#: radius has the area of the true circle: sqrt(θ / sin θ) for the angle θ each side spans
#: (its vertices lie 0.08 % beyond the circle, the middles of its sides 0.04 % inside).
_SIDE_ANGLE = 2.0 * math.pi / (4 * BUFFER_QUAD_SEGS)
DISC_SCALE = math.sqrt(_SIDE_ANGLE / math.sin(_SIDE_ANGLE))
#: Incidents are looked for within a buffer this much wider than the radius (relative, and
#: metres), then counted by their geodesic distance: buffers are true within 0.25 %.
_SEARCH_MARGIN = 0.01
_SEARCH_MARGIN_M = 1.0

_WGS84 = pyproj.CRS.from_epsg(4326)
_GEOD = pyproj.Geod(ellps="WGS84")
_M2_PER_HA = _crs.M2_PER_HA


def remaining_ha_column(radius_m: float) -> str:
    """Name of the column of remaining hectares within ``radius_m``.

    Examples
    --------
    >>> remaining_ha_column(500), remaining_ha_column(1500.5)
    ('remaining_ha_500m', 'remaining_ha_1500.5m')
    """
    return f"remaining_ha_{_metres(radius_m)}m"


def percent_released_column(radius_m: float) -> str:
    """Name of the column of the percentage of hazard area released within ``radius_m``.

    Examples
    --------
    >>> percent_released_column(2000)
    'percent_released_2000m'
    """
    return f"percent_released_{_metres(radius_m)}m"


def incidents_column(radius_m: float) -> str:
    """Name of the column counting incidents within ``radius_m``.

    Examples
    --------
    >>> incidents_column(1000.0)
    'incidents_1000m'
    """
    return f"incidents_{_metres(radius_m)}m"


def _metres(value: float) -> str:
    return np.format_float_positional(float(value), trim="-")


# ------------------------------------------------------------------------------------------
# options
# ------------------------------------------------------------------------------------------


def _distance(value: object, name: str) -> float:
    """A distance in metres > 0, or a SchemaError naming the option."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        number = math.nan
    if isinstance(value, bool) or not math.isfinite(number) or number <= 0:
        raise SchemaError(
            f"{option_hint(name, repr(value))} is not a distance; give metres as a "
            "number > 0, e.g. 500."
        )
    if number > MAX_DISTANCE_M:
        raise SchemaError(
            f"{option_hint(name, repr(value))} m is farther than minemap measures in true "
            f"metres ({MAX_DISTANCE_M:,.0f} m); give a shorter distance, e.g. 5000."
        )
    return number


def _radii(radii_m: object) -> tuple[float, ...]:
    if isinstance(radii_m, (int, float)) and not isinstance(radii_m, bool):
        radii_m = (radii_m,)
    if isinstance(radii_m, str) or not isinstance(radii_m, Sequence) or len(radii_m) == 0:
        raise SchemaError(
            f"{option_hint('radii_m', repr(radii_m))} must list one or more distances in "
            "metres, e.g. (500, 1000, 2000)."
        )
    return tuple(sorted({_distance(r, "radii_m") for r in radii_m}))


def _day(value: object, name: str) -> pd.Timestamp | None:
    """The calendar day an ISO date names (``None`` stays ``None``)."""
    if value is None:
        return None
    day = _validate.day_of(value) if not isinstance(value, bool) else None
    if day is None:
        raise SchemaError(
            f"{option_hint(name, repr(value))} is not an ISO date; write it as YYYY-MM-DD "
            "(e.g. 2023-01-01)."
        )
    return day


@dataclass(frozen=True)
class ReadinessRule:
    """When a settlement is ``ready``, ``conditional`` or ``blocked`` for return.

    A settlement is **blocked** when remaining hazard lies within ``blocked_within_m`` of
    it, or when at least ``blocking_incidents`` incidents were counted near it (within the
    incident radius of :func:`settlement_readiness`, since its ``incident_since``);
    otherwise **conditional** when remaining hazard lies within ``conditional_within_m``;
    otherwise **ready**. Distances are geodesic metres from the settlement's point, or the
    edge of its polygon, to the nearest remaining hazard.

    Why these defaults: the smallest radius (500 m unless told otherwise, the residential
    distance of :func:`minemap.priority_zones`) holds the houses, gardens and water points
    people use every day, so any remaining hazard or any incident there blocks return; the
    largest (2000 m) holds the fields, pastures and woods a village lives from, where people
    can return while clearance goes on, with marking, fencing and risk education.

    Parameters
    ----------
    blocked_within_m : float, optional
        Remaining hazard within this many metres blocks return; default the smallest
        radius given to :func:`settlement_readiness`.
    conditional_within_m : float, optional
        Remaining hazard within this many metres makes return conditional; default the
        largest radius. At least ``blocked_within_m``.
    blocking_incidents : int, default 1
        This many incidents block return; 0: incidents never do.

    Raises
    ------
    SchemaError
        A distance that is not a number > 0, ``conditional_within_m`` below
        ``blocked_within_m``, or a negative or fractional ``blocking_incidents``.

    Examples
    --------
    >>> print(ReadinessRule().describe())  # doctest: +NORMALIZE_WHITESPACE
    blocked: remaining hazard within the smallest radius, or 1 or more incidents within the
    incident radius; conditional: remaining hazard within the largest radius; ready: otherwise
    >>> rule = ReadinessRule(blocked_within_m=1000, blocking_incidents=0)
    >>> print(rule.resolved((500, 2000)).describe())  # doctest: +NORMALIZE_WHITESPACE
    blocked: remaining hazard within 1000 m; conditional: remaining hazard within 2000 m;
    ready: otherwise
    """

    blocked_within_m: float | None = None
    conditional_within_m: float | None = None
    blocking_incidents: int = 1

    def __post_init__(self) -> None:
        for name in ("blocked_within_m", "conditional_within_m"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, _distance(value, name))
        count = self.blocking_incidents
        if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 0:
            raise SchemaError(
                f"ReadinessRule: blocking_incidents={count!r} must be a whole number ≥ 0 "
                "(0: incidents never block return)."
            )
        object.__setattr__(self, "blocking_incidents", int(count))
        low, high = self.blocked_within_m, self.conditional_within_m
        if low is not None and high is not None and high < low:
            raise SchemaError(
                f"ReadinessRule: conditional_within_m={high:g} is less than "
                f"blocked_within_m={low:g}; give conditional_within_m ≥ blocked_within_m "
                "(a hazard near enough to block return is near enough to make it "
                "conditional)."
            )

    def resolved(self, radii_m: Sequence[float]) -> ReadinessRule:
        """The rule with its default distances taken from ``radii_m``.

        Parameters
        ----------
        radii_m : sequence of float
            The radii of :func:`settlement_readiness`, in metres: the smallest blocks
            return, the largest makes it conditional, unless the rule says otherwise.

        Returns
        -------
        ReadinessRule
            A rule with both distances set.

        Raises
        ------
        SchemaError
            A radius that is not a number > 0, or a default that would put the conditional
            distance below the blocking one.

        Examples
        --------
        >>> ReadinessRule().resolved((500, 1000, 2000))
        ReadinessRule(blocked_within_m=500.0, conditional_within_m=2000.0, blocking_incidents=1)
        """
        radii = _radii(radii_m)
        low = self.blocked_within_m if self.blocked_within_m is not None else radii[0]
        high = self.conditional_within_m if self.conditional_within_m is not None else radii[-1]
        return ReadinessRule(low, high, self.blocking_incidents)

    def describe(
        self, *, incident_radius_m: float | None = None, incident_since: object | None = None
    ) -> str:
        """The rule in one line of plain words.

        Parameters
        ----------
        incident_radius_m : float, optional
            The distance incidents are counted within, to name it.
        incident_since : date-like, optional
            The first day incidents are counted from, to name it.

        Returns
        -------
        str

        Examples
        --------
        >>> rule = ReadinessRule(500, 2000)
        >>> print(rule.describe(incident_radius_m=500, incident_since="2023-01-01"))
        ... # doctest: +NORMALIZE_WHITESPACE
        blocked: remaining hazard within 500 m, or 1 or more incidents within 500 m since
        2023-01-01; conditional: remaining hazard within 2000 m; ready: otherwise
        """
        low = _distance_words(self.blocked_within_m, "the smallest radius")
        high = _distance_words(self.conditional_within_m, "the largest radius")
        blocked = f"remaining hazard within {low}"
        if self.blocking_incidents > 0:
            where = _distance_words(incident_radius_m, "the incident radius")
            since = _day(incident_since, "incident_since")
            when = "" if since is None else f" since {since.date().isoformat()}"
            blocked += f", or {self.blocking_incidents} or more incidents within {where}{when}"
        return f"blocked: {blocked}; conditional: remaining hazard within {high}; ready: otherwise"

    def _distances(self) -> tuple[float, float]:
        """The blocking and conditional distances of a resolved rule."""
        if self.blocked_within_m is None or self.conditional_within_m is None:
            raise SchemaError(  # pragma: no cover - only resolved rules are applied
                "ReadinessRule: resolve the rule against the radii first (rule.resolved())."
            )
        return self.blocked_within_m, self.conditional_within_m


def _distance_words(value: float | None, otherwise: str) -> str:
    return otherwise if value is None else f"{_metres(value)} m"


# ------------------------------------------------------------------------------------------
# layers
# ------------------------------------------------------------------------------------------


def _as_settlements(layer: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return evidence_layer(layer, "settlements")


def _as_incidents(layer: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    return None if layer is None else evidence_layer(layer, "incidents")


# ------------------------------------------------------------------------------------------
# the measurements
# ------------------------------------------------------------------------------------------


@dataclass
class _Measured:
    """What is measured around each settlement."""

    radii: tuple[float, ...]  # ascending
    remaining_ha: np.ndarray  # (n, radii)
    hazard_ha: np.ndarray  # (n, radii): hazard area, released or not (remaining area
    # when measured without with_hazard)
    nearest_m: np.ndarray  # NaN: no remaining hazard anywhere
    incidents: np.ndarray | None  # count per settlement, None without incidents
    frame: pyproj.CRS


def _settlement_geoms(settlements: gpd.GeoDataFrame) -> np.ndarray:
    return np.asarray(settlements.geometry.array, dtype=object)


def _discs(
    geoms: np.ndarray, crs: pyproj.CRS, radius_m: float, target: pyproj.CRS, frame: pyproj.CRS
) -> np.ndarray:
    """Everything within ``radius_m`` true metres of each settlement, in ``target``.

    Points get a polygon of ``4 × BUFFER_QUAD_SEGS`` sides with the true circle's area
    (:data:`DISC_SCALE`); polygons a buffer whose straight sides are exact and whose rounded
    corners are drawn inside their arcs (by at most 0.12 % of the radius).
    """
    points = np.isin(shapely.get_type_id(geoms), (0, 4))
    distance = np.where(points, radius_m * DISC_SCALE, radius_m)
    return _true_buffers(geoms, crs, distance, target, frame=frame)


# ------------------------------------------------------------------------------------------
# the hazard land
# ------------------------------------------------------------------------------------------


@dataclass
class _Ground:
    """The hazard area in disjoint pieces (overlaps counted once), and what remains of each
    piece once the land released on or before ``as_of`` is taken out, in the hazards'
    working CRS.

    The pieces are those of :func:`minemap.land_release_summary` (shared with it, see
    :func:`minemap.evidence._shared_summary`); pieces and remains under
    :data:`minemap.priority.SLIVER_M2` (1 cm²) are overlay residue, not land, as in
    :func:`minemap.priority_zones`: they count as none.
    """

    whole: np.ndarray
    whole_m2: np.ndarray
    remaining: np.ndarray
    remaining_m2: np.ndarray
    untouched: np.ndarray  # no release cut the piece: what remains is the whole piece
    work_crs: pyproj.CRS
    frame: pyproj.CRS

    @functools.cached_property
    def remaining_in_frame(self) -> np.ndarray:
        """The remaining pieces in the equal-area frame (empty where nothing remains)."""
        out = np.full(len(self.remaining), shapely.Polygon(), dtype=object)
        live = np.flatnonzero(self.remaining_m2 > 0)
        if live.size:
            out[live] = _reproject(self.remaining[live], self.work_crs, self.frame)
        return out


def _ground(
    hazards: gpd.GeoDataFrame, releases: gpd.GeoDataFrame | None, as_of: pd.Timestamp | None
) -> _Ground:
    _, parts = _shared_summary(hazards, releases, as_of=as_of)
    pieces = parts.pieces
    whole, work_crs, frame = pieces.work, pieces.work_crs, pieces.frame
    remaining, changed = whole, np.empty(0, dtype=np.intp)
    if releases is not None:
        # released land only has to go: the records as drawn, whichever method (the
        # summary's disjoint pieces of overlapping records have computed edges, and cutting
        # along them can leave other floating-point residue than cutting by the records)
        drawn, _ = _release_work_pieces(releases, work_crs, as_of, disjoint=False)
        remaining, changed = _subtract(whole, drawn)
    untouched = np.ones(len(whole), dtype=bool)
    untouched[changed] = False
    whole_m2 = np.where(pieces.area_m2 < SLIVER_M2, 0.0, pieces.area_m2)
    remaining_m2 = whole_m2.copy()
    remaining_m2[changed] = _crs.area_m2(remaining[changed], work_crs, frame)
    remaining_m2[remaining_m2 < SLIVER_M2] = 0.0
    return _Ground(whole, whole_m2, remaining, remaining_m2, untouched, work_crs, frame)


# ------------------------------------------------------------------------------------------
# areas within discs
# ------------------------------------------------------------------------------------------

_TAU = 2.0 * math.pi
#: Candidate edges of a disc are looked for over a box's angular range widened by this many
#: edges on each side (rounding at the ends of the range never leaves one out).
_EDGE_MARGIN = 1
#: Relative margin of the quick inside and outside tests (the rest is measured exactly).
_QUICK_MARGIN = 1e-9
#: Pairs of pieces and discs are classified this many at a time (bounds the memory).
_CHUNK = 65_536


def _ranges(start: np.ndarray, count: np.ndarray) -> np.ndarray:
    """``start[i], start[i] + 1, ..., start[i] + count[i] - 1`` for each i, concatenated."""
    count = np.asarray(count, dtype=np.intp)
    first = np.cumsum(count) - count
    return np.repeat(np.asarray(start, dtype=np.intp) - first, count) + np.arange(count.sum())


def _ring_ends(index: np.ndarray) -> np.ndarray:
    """Where each run of equal ``index`` values (a ring's coordinates) ends."""
    out = np.ones(len(index), dtype=bool)
    out[:-1] = index[1:] != index[:-1]
    return out


def _cyclic_next(start: np.ndarray, count: np.ndarray, total: int) -> np.ndarray:
    """Index of the next vertex of each ring's vertex, round each ring
    (``start``, ``count``: the rings' vertices in one array of ``total``)."""
    out = np.arange(1, total + 1)
    has = count > 0
    out[(start + count - 1)[has]] = start[has]
    return out


def _shoelace(
    x: np.ndarray, y: np.ndarray, ring: np.ndarray, count: np.ndarray, origin: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Signed area and first moments of rings (vertices by ring, not closed), summed about
    each ring's ``origin`` so that no precision is lost to large coordinates."""
    n = len(count)
    start = np.cumsum(count) - count
    after = _cyclic_next(start, count, len(x))
    rx, ry = x - origin[ring, 0], y - origin[ring, 1]
    cross = rx * ry[after] - rx[after] * ry
    area = np.bincount(ring, cross, n) / 2.0
    mx = np.bincount(ring, (rx + rx[after]) * cross, n) / 6.0 + origin[:, 0] * area
    my = np.bincount(ring, (ry + ry[after]) * cross, n) / 6.0 + origin[:, 1] * area
    return area, mx, my


@dataclass
class _Rings:
    """The rings of polygonal geometries as vertex arrays (not closed), for cutting many at
    once: ring ``r`` holds ``x, y[start[r] : start[r] + count[r]]``, geometry ``g`` rings
    ``first[g] : first[g] + rings[g]``; ``sign`` is +1 for an outer ring drawn
    counter-clockwise or a hole drawn clockwise (their area counts), -1 otherwise."""

    x: np.ndarray
    y: np.ndarray
    start: np.ndarray
    count: np.ndarray
    origin: np.ndarray  # (rings, 2): each ring's first vertex
    sign: np.ndarray
    first: np.ndarray
    rings: np.ndarray

    @classmethod
    def of(cls, geoms: np.ndarray) -> _Rings:
        types = shapely.get_type_id(geoms)
        several = np.flatnonzero(types == 6)  # multipolygons: their parts, in order
        parts, part_of = geoms, np.arange(len(geoms))
        if several.size:
            sub, sub_of = shapely.get_parts(geoms[several], return_index=True)
            one = np.flatnonzero(types != 6)
            part_of = np.concatenate([one, several[sub_of]])
            order = np.argsort(part_of, kind="stable")
            parts, part_of = np.concatenate([geoms[one], sub])[order], part_of[order]
        rings, ring_part = shapely.get_rings(parts, return_index=True)
        outer = np.ones(len(rings), dtype=bool)
        outer[1:] = ring_part[1:] != ring_part[:-1]
        coords, index = shapely.get_coordinates(rings, return_index=True)
        last = _ring_ends(index)
        x, y, ring = coords[~last, 0], coords[~last, 1], index[~last]
        count = np.bincount(ring, minlength=len(rings))
        start = np.cumsum(count) - count
        origin = coords[np.flatnonzero(last) - count]  # first vertex of each ring
        sign = np.where(outer == shapely.is_ccw(rings), 1.0, -1.0)
        per = np.bincount(part_of[ring_part], minlength=len(geoms))
        return cls(x, y, start, count, origin, sign, np.cumsum(per) - per, per)


@dataclass
class _RingShapes:
    """Convex rings of one vertex count (``(n, m, 2)`` vertices, counter-clockwise, not
    closed), with what :class:`_ConvexDiscs` asks of them: edges, centre (the vertices'
    mean), half extents, the scaled distances from the centre to the nearest edge line
    (``inner``) and to the farthest vertex (``outer``), each vertex's angle about the centre
    from the first vertex's (``turned``) and the first vertex's angle (``angle0``)."""

    vertex: np.ndarray
    edge: np.ndarray
    centre: np.ndarray
    half: np.ndarray
    inner: np.ndarray
    outer: np.ndarray
    turned: np.ndarray
    angle0: np.ndarray

    @classmethod
    def of(cls, vertex: np.ndarray) -> tuple[np.ndarray, _RingShapes]:
        """Which of the rings ``vertex`` are convex, and their shapes."""
        x, y = vertex[..., 0] - vertex[:, :1, 0], vertex[..., 1] - vertex[:, :1, 1]
        x1, y1 = np.roll(x, -1, axis=1), np.roll(y, -1, axis=1)
        twice = (x * y1 - x1 * y).sum(axis=1)
        ex, ey = x1 - x, y1 - y
        turn = ex * np.roll(ey, -1, axis=1) - ey * np.roll(ex, -1, axis=1)
        ok = np.flatnonzero((twice != 0) & (turn * np.sign(twice)[:, None] >= 0).all(axis=1))
        vertex = vertex[ok]
        backwards = twice[ok] < 0  # clockwise rings are read backwards
        vertex[backwards] = vertex[backwards, ::-1]
        x, y = np.ascontiguousarray(vertex[..., 0]), np.ascontiguousarray(vertex[..., 1])
        ex, ey = np.roll(x, -1, axis=1) - x, np.roll(y, -1, axis=1) - y
        cx, cy = x.mean(axis=1), y.mean(axis=1)
        hx, hy = (x.max(axis=1) - x.min(axis=1)) / 2.0, (y.max(axis=1) - y.min(axis=1)) / 2.0
        sx, sy = (x - cx[:, None]) / hx[:, None], (y - cy[:, None]) / hy[:, None]
        tx, ty = ex / hx[:, None], ey / hy[:, None]
        reach = (ty * sx - tx * sy) / np.hypot(tx, ty)
        angle = np.arctan2(y - cy[:, None], x - cx[:, None])
        turned = np.mod(angle - angle[:, :1], _TAU)
        turned[:, 0] = 0.0
        return ok, cls(
            vertex,
            np.stack([ex, ey], axis=2),
            np.column_stack([cx, cy]),
            np.column_stack([hx, hy]),
            reach.min(axis=1),
            np.sqrt((sx * sx + sy * sy).max(axis=1)),
            turned,
            angle[:, 0],
        )

    def scaled(self, origin: np.ndarray, factor: float) -> _RingShapes:
        """The rings scaled by ``factor`` about the origin and moved to ``origin``
        (``(n, 2)``): only their size and place change."""
        return _RingShapes(
            origin[:, None, :] + factor * self.vertex,
            factor * self.edge,
            origin + factor * self.centre,
            factor * self.half,
            self.inner,
            self.outer,
            self.turned,
            self.angle0,
        )


@dataclass
class _ConvexDiscs:
    """The discs that are one convex ring, as arrays of their edges (counter-clockwise).

    A piece's bounding box tells most of how it meets such a disc. Scaled by the disc's
    half extents about its centre, the disc holds the circle of its nearest edge line and
    lies within the circle of its farthest vertex: a box inside the first lies inside the
    disc, one outside the second outside it. For the others, the disc's edges whose segment
    meets the box (found among the edges facing the box as seen from the centre) are the
    only ones that can cut the piece, and the piece cut by their half-planes is the piece
    within the disc (:func:`_clip_moments`). Discs round points are convex (regular
    polygons mapped by a local affine frame); polygon settlements' buffers and discs cut
    at ±180° usually are not, and are overlaid by GEOS.
    """

    slot: np.ndarray  # per disc: its row below, -1 when it is not one convex ring
    start: np.ndarray  # per convex disc: its first vertex
    count: np.ndarray  # ... and its number of vertices (= edges)
    vertex: np.ndarray  # (m, 2): vertices, counter-clockwise
    edge: np.ndarray  # (m, 2): from each vertex to the next
    centre: np.ndarray  # (c, 2): the mean of each disc's vertices (inside it)
    half: np.ndarray  # (c, 2): half the extent of each disc's bounding box
    inner: np.ndarray  # scaled distance from the centre to the nearest edge line
    outer: np.ndarray  # ... and to the farthest vertex
    angle0: np.ndarray  # angle of each disc's first vertex about its centre
    key: np.ndarray  # disc row * 16 + angle of each vertex from the disc's first (sorted)

    @classmethod
    def of(cls, n: int, groups: Sequence[tuple[np.ndarray, _RingShapes]]) -> _ConvexDiscs:
        """``n`` discs, of which the convex ones are given as groups ``(rows, shapes)`` of
        one vertex count each."""
        slot = np.full(n, -1, dtype=np.intp)
        convex = np.concatenate([g[0] for g in groups]) if groups else np.empty(0, np.intp)
        slot[convex] = np.arange(convex.size)
        if convex.size == 0:
            nothing, pairs = np.empty(0), np.empty((0, 2))
            none = np.empty(0, dtype=np.intp)
            return cls(slot, none, none, pairs, pairs, pairs, pairs, nothing, nothing,
                       nothing, nothing)  # fmt: skip
        shapes = [g[1] for g in groups]
        count = np.concatenate([np.full(len(g.vertex), g.vertex.shape[1]) for g in shapes])
        start = np.cumsum(count) - count
        vertex = np.concatenate([g.vertex.reshape(-1, 2) for g in shapes])
        edge = np.concatenate([g.edge.reshape(-1, 2) for g in shapes])
        turned = np.concatenate([g.turned.ravel() for g in shapes])
        centre, half, inner, outer, angle0 = (
            np.concatenate([getattr(g, name) for g in shapes])
            for name in ("centre", "half", "inner", "outer", "angle0")
        )
        key = np.repeat(np.arange(convex.size) * 16.0, count) + turned
        return cls(slot, start, count, vertex, edge, centre, half, inner, outer, angle0, key)

    def _candidates(self, s: np.ndarray, box: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(pair, edge) of the edges of disc row ``s[pair]`` facing ``box[pair]`` from the
        disc's centre: the only ones whose segment can meet the box."""
        c, n = self.centre[s], self.count[s]
        x0, y0, x1, y1 = box.T
        around = (x0 <= c[:, 0]) & (c[:, 0] <= x1) & (y0 <= c[:, 1]) & (c[:, 1] <= y1)
        corner = np.arctan2(
            np.column_stack([y0, y0, y1, y1]) - c[:, 1:],
            np.column_stack([x0, x1, x0, x1]) - c[:, :1],
        )
        middle = np.arctan2((y0 + y1) / 2.0 - c[:, 1], (x0 + x1) / 2.0 - c[:, 0])
        spread = np.mod(corner - middle[:, None] + math.pi, _TAU) - math.pi
        least = np.minimum(
            np.minimum(spread[:, 0], spread[:, 1]), np.minimum(spread[:, 2], spread[:, 3])
        )
        most = np.maximum(
            np.maximum(spread[:, 0], spread[:, 1]), np.maximum(spread[:, 2], spread[:, 3])
        )
        low = np.mod(middle + least - self.angle0[s], _TAU)
        span = most - least
        high = low + span
        over = high >= _TAU  # the range runs past the first vertex
        first = np.searchsorted(self.key, s * 16.0 + low, side="right") - 1 - self.start[s]
        last = np.searchsorted(self.key, s * 16.0 + high - _TAU * over, side="right") - 1
        last += n * over - self.start[s]
        take = last - first + 1 + 2 * _EDGE_MARGIN
        every = around | (span >= math.pi) | (take >= n)
        first = np.where(every, 0, first - _EDGE_MARGIN)
        take = np.where(every, n, take)
        pair = np.repeat(np.arange(s.size), take)
        step = _ranges(np.zeros(s.size, dtype=np.intp), take)
        return pair, self.start[s][pair] + (np.repeat(first, take) + step) % n[pair]

    def split(
        self, s: np.ndarray, box: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """How each piece (its bounding box ``box``) meets disc row ``s``.

        Returns ``(inside, outside, pair, edge)``: which pieces lie wholly inside their
        disc, which wholly outside, and for the others (pair, edge) of the disc's edges
        whose segment meets the piece's box, by pair.
        """
        c, h = self.centre[s], self.half[s]
        u = (box[:, [0, 2]] - c[:, :1]) / h[:, :1]
        v = (box[:, [1, 3]] - c[:, 1:]) / h[:, 1:]
        near = np.clip(0.0, u[:, 0], u[:, 1]) ** 2 + np.clip(0.0, v[:, 0], v[:, 1]) ** 2
        far = np.maximum(u[:, 0] ** 2, u[:, 1] ** 2) + np.maximum(v[:, 0] ** 2, v[:, 1] ** 2)
        inside = far < (self.inner[s] * (1.0 - _QUICK_MARGIN)) ** 2
        outside = near > (self.outer[s] * (1.0 + _QUICK_MARGIN)) ** 2
        rest = np.flatnonzero(~inside & ~outside)
        pairs, edges = [np.empty(0, dtype=np.intp)], [np.empty(0, dtype=np.intp)]
        for lo in range(0, rest.size, _CHUNK):
            some = rest[lo : lo + _CHUNK]
            pair, edge = self._candidates(s[some], box[some])
            b = box[some][pair]
            a, d = self.vertex[edge], self.edge[edge]
            dx, dy = d[:, 0], d[:, 1]
            # the box's corners farthest right (outside) and farthest left of the edge
            lowest = dx * (np.where(dx >= 0, b[:, 1], b[:, 3]) - a[:, 1]) - dy * (
                np.where(dy >= 0, b[:, 2], b[:, 0]) - a[:, 0]
            )
            highest = dx * (np.where(dx >= 0, b[:, 3], b[:, 1]) - a[:, 1]) - dy * (
                np.where(dy >= 0, b[:, 0], b[:, 2]) - a[:, 0]
            )
            cuts = lowest < 0
            # the edge's segment meets the box: its line crosses the box, and their boxes
            # meet (widened by a billionth: rounding never drops an edge, and an edge too
            # many changes nothing)
            pad = 1e-9 * np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1])
            meets = (
                cuts
                & (highest >= 0)
                & (np.minimum(a[:, 0], a[:, 0] + dx) <= b[:, 2] + pad)
                & (np.maximum(a[:, 0], a[:, 0] + dx) >= b[:, 0] - pad)
                & (np.minimum(a[:, 1], a[:, 1] + dy) <= b[:, 3] + pad)
                & (np.maximum(a[:, 1], a[:, 1] + dy) >= b[:, 1] - pad)
            )
            some_out = np.bincount(pair, cuts, some.size) > 0
            some_meet = np.bincount(pair, meets, some.size) > 0
            # no edge leaves a corner of the box out: the box lies in the disc; a corner
            # out and no edge in the box: the box lies outside it
            inside[some[~some_out]] = True
            outside[some[some_out & ~some_meet]] = True
            pairs.append(some[pair[meets]])
            edges.append(edge[meets])
        return inside, outside, np.concatenate(pairs), np.concatenate(edges)

    def polygons(self, rows: np.ndarray) -> np.ndarray:
        """The discs of ``rows`` as GEOS polygons."""
        at = _ranges(self.start[rows], self.count[rows])
        ring = shapely.linearrings(
            self.vertex[at], indices=np.repeat(np.arange(rows.size), self.count[rows])
        )
        return np.asarray(shapely.polygons(ring), dtype=object)


def _clip_moments(
    rings: _Rings, piece: np.ndarray, pair: np.ndarray, edge: np.ndarray, discs: _ConvexDiscs
) -> np.ndarray:
    """Planar area and first moments (``(3, n)``) of each pair's piece cut by its edges.

    ``piece[p]`` is pair p's geometry in ``rings``, and ``(pair, edge)`` list the
    half-planes (left of ``discs.edge``) that cut it, by pair. Every ring is cut by one
    half-plane after another, all rings at once (Sutherland-Hodgman: a ring cut by a convex
    region keeps its orientation, and where it leaves the region twice its parts are joined
    along the edge by a path of no area); area and moments are the rings' shoelace sums,
    holes subtracted.
    """
    n = len(piece)
    out = np.zeros((3, n))
    per_pair = np.bincount(pair, minlength=n)
    order = np.flatnonzero(per_pair)
    if order.size == 0:
        return out
    order = order[np.argsort(-per_pair[order], kind="stable")]  # most edges first
    edge_start = np.cumsum(per_pair) - per_pair
    rings_of = rings.rings[piece[order]]
    job = _ranges(rings.first[piece[order]], rings_of)  # one job per ring, in ``order``
    job_pair = np.repeat(np.arange(order.size), rings_of)
    count = rings.count[job]
    at = _ranges(rings.start[job], count)
    x, y = rings.x[at], rings.y[at]
    owner = np.repeat(np.arange(job.size), count)
    jobs_before = np.cumsum(rings_of)
    edges_of = per_pair[order]
    first_edge = edge_start[order][job_pair]
    done = []
    for m in range(int(edges_of[0])):
        active = int(np.count_nonzero(edges_of > m))  # pairs with an (m + 1)-th edge
        jobs = int(jobs_before[active - 1])
        size = int(count[:jobs].sum())
        if size < len(x):  # the rings of pairs with no more edges are done
            done.append((x[size:], y[size:], owner[size:]))
            x, y, owner = x[:size], y[:size], owner[:size]
        if size == 0:
            break
        e = edge[first_edge[:jobs] + m]  # each ring's half-plane this round
        ax, ay, dx, dy = discs.vertex[e, 0], discs.vertex[e, 1], discs.edge[e, 0], discs.edge[e, 1]
        side = dx[owner] * (y - ay[owner]) - dy[owner] * (x - ax[owner])
        start = np.cumsum(count[:jobs]) - count[:jobs]
        after = _cyclic_next(start, count[:jobs], size)
        keep = side >= 0
        cross = np.flatnonzero(keep != keep[after])
        b = after[cross]
        t = side[cross] / (side[cross] - side[b])
        # each vertex gives itself if kept, then where its edge crosses the line if it does
        emit = np.zeros((size, 2), dtype=bool)
        emit[:, 0] = keep
        emit[cross, 1] = True
        both = np.empty((size, 2))
        both[:, 0] = x
        both[cross, 1] = x[cross] + t * (x[b] - x[cross])
        x = both[emit]
        both[:, 0] = y
        both[cross, 1] = y[cross] + t * (y[b] - y[cross])
        y = both[emit]
        emitted = keep.astype(np.intp)
        emitted[cross] += 1
        owner = np.repeat(owner, emitted)
        count = count.copy()
        count[:jobs] = np.bincount(owner, minlength=jobs)
    done.append((x, y, owner))
    x, y, owner = (np.concatenate([part[k] for part in done[::-1]]) for k in range(3))
    moments = _shoelace(x, y, owner, count, rings.origin[job])
    for k in range(3):
        out[k, order] = np.bincount(job_pair, rings.sign[job] * moments[k], order.size)
    return out


def _true_m2(moments: np.ndarray, crs: pyproj.CRS) -> np.ndarray:
    """True m² of small polygons from their planar area and first moments in ``crs``: the
    planar area times the ellipsoid's area per unit² at the centroid, as
    :func:`minemap.crs.area_m2` measures features under its local-scale size."""
    planar = moments[0]
    out = np.zeros(planar.size)
    some = np.flatnonzero(planar > 0)
    if some.size:
        cx, cy = moments[1, some] / planar[some], moments[2, some] / planar[some]
        metric = _crs.local_metric(cx, cy, crs)
        out[some] = planar[some] * np.abs(
            metric[:, 0, 0] * metric[:, 1, 1] - metric[:, 0, 1] * metric[:, 1, 0]
        )
    return out


def _local_size(crs: pyproj.CRS) -> float:
    """Largest bounding-box side (CRS units) of a feature :func:`minemap.crs.area_m2`
    measures by local scale."""
    if crs.is_geographic:
        return _crs.LOCAL_MAX_DEGREES / _crs.degrees_per_unit(crs)
    return _crs.LOCAL_MAX_METRES / _crs.metres_per_unit(crs)


#: Vertices of the polygon GEOS draws round a point (``4 × BUFFER_QUAD_SEGS`` sides, the
#: first at angle 0, counter-clockwise), on the unit circle.
_UNIT_CIRCLE = np.column_stack(
    [
        np.cos(np.arange(4 * BUFFER_QUAD_SEGS) * (math.pi / (2 * BUFFER_QUAD_SEGS))),
        np.sin(np.arange(4 * BUFFER_QUAD_SEGS) * (math.pi / (2 * BUFFER_QUAD_SEGS))),
    ]
)


@dataclass
class _Discs:
    """Each settlement's discs, one per radius (largest first): their bounding boxes, as
    convex rings in arrays (:class:`_ConvexDiscs`) and, where that is not the disc itself,
    as GEOS polygons.

    A point's disc is the polygon :func:`_discs` draws (a regular polygon round the point
    in its local affine frame of true metres, :func:`minemap.priority._affine_frames`),
    drawn here for every radius at once from one frame. Polygon settlements, and points
    whose disc crosses ±180° or is drawn in another CRS, are buffered by :func:`_discs`;
    such a buffer is held as its convex hull and the *pockets* the hull holds beyond it
    (for a piece, the disc's share is the hull's less the pockets').
    """

    bounds: list[np.ndarray]  # per radius: (n, 4)
    convex: list[_ConvexDiscs]  # the disc, or its hull
    geoms: list[np.ndarray]  # per radius: GEOS polygons (None where the disc is convex)
    pockets: list[np.ndarray]  # per radius: hull less disc (None where there is none)

    @classmethod
    def make(
        cls,
        geoms: np.ndarray,
        crs: pyproj.CRS,
        radii: Sequence[float],
        target: pyproj.CRS,
        frame: pyproj.CRS,
    ) -> _Discs:
        """Discs of ``radii`` (largest first) around settlements ``geoms`` given in ``crs``,
        drawn in ``target``."""
        n = len(geoms)
        point = np.flatnonzero((shapely.get_type_id(geoms) == 0) & ~shapely.is_empty(geoms))
        if not pyproj.CRS(crs).equals(target):
            point = point[:0]  # drawn in their own CRS and projected: by _discs
        centre, metric, error = _affine_frames(geoms[point], crs)
        unit = np.einsum("nij,kj->nki", np.linalg.inv(metric), _UNIT_CIRCLE)  # (n, m, 2)
        fits = np.isfinite(unit).all(axis=(1, 2)) & (error <= AFFINE_TOLERANCE)
        if target.is_geographic and radii:  # discs reaching past ±180° are cut there: by _discs
            half = 180.0 / _crs.degrees_per_unit(target)
            reach = max(radii) * DISC_SCALE * np.abs(unit[..., 0]).max(axis=1, initial=0.0)
            fits &= np.abs(centre[:, 0]) + reach < half
        ok, shapes = _RingShapes.of(unit[fits])  # the disc of radius 1 m / DISC_SCALE
        point, centre = point[fits][ok], centre[fits][ok]
        low, high = shapes.vertex.min(axis=1), shapes.vertex.max(axis=1)
        drawn = np.zeros(n, dtype=bool)
        drawn[point] = True
        out = cls([], [], [], [])
        rest = np.flatnonzero(~drawn)
        for r in radii:
            groups = []
            bounds = np.full((n, 4), np.nan)
            polygons = np.full(n, None, dtype=object)
            pockets = np.full(n, None, dtype=object)
            if point.size:
                size = r * DISC_SCALE
                bounds[point] = np.column_stack([centre + size * low, centre + size * high])
                groups.append((point, shapes.scaled(centre, size)))
            if rest.size:
                polygons[rest] = _discs(geoms[rest], crs, r, target, frame)
                bounds[rest] = shapely.bounds(polygons[rest])
                # one polygon each (a disc cut at ±180° is not): its hull, and the pockets
                single = rest[shapely.get_type_id(polygons[rest]) == 3]
                hull = shapely.convex_hull(polygons[single])
                pockets[single] = polygonal_parts(
                    robust(shapely.difference, hull, polygons[single])
                )
                groups += _vertex_groups(hull, single)
            convex = _ConvexDiscs.of(n, groups)
            pockets[convex.slot < 0] = None
            pockets[~shapely.is_missing(pockets)] = _nonempty(pockets[~shapely.is_missing(pockets)])
            # the others are not prepared: GEOS builds a prepared geometry's indexes on first
            # use, and two threads may measure one disc
            polygons[(convex.slot >= 0) & shapely.is_missing(pockets)] = None
            out.bounds.append(bounds)
            out.convex.append(convex)
            out.geoms.append(polygons)
            out.pockets.append(pockets)
        return out

    def area_within(
        self, pieces: np.ndarray, piece_m2: np.ndarray, crs: pyproj.CRS, frame: pyproj.CRS
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Pairs ``(s, k)`` of a settlement's largest disc and a piece whose bounding box
        meets it (an STRtree finds them), and the m² of piece ``k`` within each disc of
        settlement ``s``, shape ``(pairs, radii)``.

        Each disc lies inside the one before, so a piece with no area within one has none
        within the next. A piece lying wholly inside a disc keeps its measured area
        (``piece_m2``), one outside it has none; the others are cut by the disc: a convex
        disc by its edges, in arrays (:class:`_ConvexDiscs`, :func:`_clip_moments`), the
        others by GEOS overlays (whose fixed cost per pair would be most of the time).
        """
        if len(pieces) == 0 or len(self.bounds[0]) == 0:
            empty = np.empty(0, dtype=np.intp)
            return empty, empty, np.zeros((0, len(self.bounds)))
        drawn = np.flatnonzero(np.isfinite(self.bounds[0]).all(axis=1))
        found, k = shapely.STRtree(pieces).query(shapely.box(*self.bounds[0][drawn].T))
        s = drawn[found]
        bounds = shapely.bounds(pieces)
        small = np.maximum(bounds[:, 2] - bounds[:, 0], bounds[:, 3] - bounds[:, 1]) <= _local_size(
            crs
        )
        box = bounds[k]
        rings: _Rings | None = None
        m2 = np.zeros((s.size, len(self.bounds)))
        todo = np.arange(s.size)
        for r, convex in enumerate(self.convex):
            if r > 0:  # boxes first
                a, b = box[todo], self.bounds[r][s[todo]]
                meets = (a[:, 0] <= b[:, 2]) & (a[:, 2] >= b[:, 0]) & (a[:, 1] <= b[:, 3])
                todo = todo[meets & (a[:, 3] >= b[:, 1])]
            rows = convex.slot[s[todo]]
            fast = (rows >= 0) & small[k[todo]]
            quick, slow = todo[fast], todo[~fast]
            inside, _, pair, edge = convex.split(rows[fast], box[quick])
            m2[quick[inside], r] = piece_m2[k[quick[inside]]]
            if pair.size:
                if rings is None:
                    rings = _Rings.of(pieces)
                cut, pair = np.unique(pair, return_inverse=True)
                moments = _clip_moments(rings, k[quick[cut]], pair, edge, convex)
                m2[quick[cut], r] = np.minimum(_true_m2(moments, crs), piece_m2[k[quick[cut]]])
            if quick.size:  # a hull's share, less its pockets'
                self._less_pockets(r, s, k, quick, pieces, box, m2, crs, frame)
            if slow.size:
                discs = self.geoms[r][s[slow]]
                bare = np.flatnonzero(shapely.is_missing(discs))  # convex: drawn from its edges
                discs[bare] = convex.polygons(convex.slot[s[slow[bare]]])
                m2[slow, r] = _overlay_m2(discs, pieces[k[slow]], piece_m2[k[slow]], crs, frame)
            todo = todo[m2[todo, r] > 0]
        return s, k, m2

    def _less_pockets(
        self,
        r: int,
        s: np.ndarray,
        k: np.ndarray,
        some: np.ndarray,
        pieces: np.ndarray,
        box: np.ndarray,
        m2: np.ndarray,
        crs: pyproj.CRS,
        frame: pyproj.CRS,
    ) -> None:
        """Take from pairs ``some`` (measured within the hull) their pieces' m² in the
        disc's pockets (GEOS overlays, for the pieces whose box meets a pocket)."""
        pocket = self.pockets[r][s[some]]
        some = some[~shapely.is_missing(pocket) & (m2[some, r] > 0)]
        if some.size == 0:
            return
        a, b = box[some], shapely.bounds(self.pockets[r][s[some]])
        meets = (a[:, 0] <= b[:, 2]) & (a[:, 2] >= b[:, 0]) & (a[:, 1] <= b[:, 3])
        some = some[meets & (a[:, 3] >= b[:, 1])]
        pocket, piece = self.pockets[r][s[some]], pieces[k[some]]
        some = some[parallel(shapely.intersects, pocket, piece)]
        pocket, piece = self.pockets[r][s[some]], pieces[k[some]]
        within = _crs.area_m2(
            polygonal_parts(robust(shapely.intersection, piece, pocket)), crs, frame
        )
        m2[some, r] = np.maximum(m2[some, r] - within, 0.0)


def _nonempty(geoms: np.ndarray) -> np.ndarray:
    """``geoms`` with empty ones as None."""
    out = np.asarray(geoms, dtype=object).copy()
    out[shapely.is_empty(out)] = None
    return out


def _vertex_groups(polygons: np.ndarray, rows: np.ndarray) -> list[tuple[np.ndarray, _RingShapes]]:
    """The convex ones of polygons without holes, as groups ``(rows, shapes)`` of one
    vertex count each; others are left out."""
    simple = (shapely.get_type_id(polygons) == 3) & (shapely.get_num_interior_rings(polygons) == 0)
    size = np.where(simple, shapely.get_num_coordinates(polygons) - 1, 0)
    groups = []
    for m in np.unique(size[size >= 3]):
        which = np.flatnonzero(size == m)
        ring = shapely.get_coordinates(shapely.get_exterior_ring(polygons[which]))
        ok, shapes = _RingShapes.of(ring.reshape(which.size, m + 1, 2)[:, :m])
        groups.append((rows[which[ok]], shapes))
    return groups


def _overlay_m2(
    discs: np.ndarray,
    pieces: np.ndarray,
    piece_m2: np.ndarray,
    crs: pyproj.CRS,
    frame: pyproj.CRS,
) -> np.ndarray:
    """m² of each piece within its disc, by GEOS: a piece wholly inside keeps its measured
    area, one not meeting the disc has none, others are overlaid."""
    out = np.zeros(len(pieces))
    meet = np.flatnonzero(parallel(shapely.intersects, discs, pieces))
    inside = parallel(shapely.contains_properly, discs[meet], pieces[meet])
    out[meet[inside]] = piece_m2[meet[inside]]
    cut = meet[~inside]
    clipped = robust(shapely.intersection, pieces[cut], discs[cut])
    out[cut] = np.minimum(_crs.area_m2(polygonal_parts(clipped), crs, frame), piece_m2[cut])
    return out


def _per_settlement(s: np.ndarray, m2: np.ndarray, n: int) -> np.ndarray:
    """Sum pair figures (m²) per settlement, in hectares; residue below RESIDUE_HA is 0."""
    out = np.zeros((n, m2.shape[1]))
    for r in range(m2.shape[1]):
        out[:, r] = np.bincount(s, weights=m2[:, r], minlength=n) / _M2_PER_HA
    out[out < RESIDUE_HA] = 0.0
    return out


def _nearest_m(geoms: np.ndarray, crs: pyproj.CRS, ground: _Ground) -> np.ndarray:
    """Geodesic metres from each settlement to the nearest remaining hazard (NaN: none).

    In one region, the pieces nearest each settlement in the equal-area frame are found
    with an STRtree, and :class:`~minemap.nearest.FeatureIndex` measures the distance to
    them; these are the pieces the index would find among all of them, so the result is
    the same, with far fewer pieces to index. Data spread round the globe is searched by
    region (:func:`~minemap.nearest.regional_distances_m`).
    """
    out = np.full(len(geoms), np.nan)
    live = np.flatnonzero(ground.remaining_m2 > 0)
    if len(geoms) == 0 or live.size == 0:
        return out
    work, work_crs, frame = ground.remaining[live], ground.work_crs, ground.frame
    if not (_in_shared_frame(geoms, crs, frame) and _in_shared_frame(work, work_crs, frame)):
        return regional_distances_m(geoms, crs, work, work_crs)
    targets = _crs.project_dense(geoms, crs, frame)
    pieces = ground.remaining_in_frame[live]
    present = ~(shapely.is_missing(targets) | shapely.is_empty(targets))
    _, near = shapely.STRtree(pieces).query_nearest(targets[present], all_matches=True)
    near = np.unique(near)
    index = FeatureIndex.build(work[near], work_crs, frame)
    return index.distances_m(targets)


def _incident_gaps_m(geoms: np.ndarray, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Geodesic metres from each lon/lat point to the lon/lat geometry paired with it.

    Each geometry is mapped into a frame of true metres at its point (the local metric of
    the ellipsoid there, longitudes taken the short way round), where the nearest point
    of the geometry is found; the distance is the geodesic length between the two points.
    A point inside a polygon is at 0 m.
    """
    if len(geoms) == 0:
        return np.empty(0)
    metric = _crs.local_metric(lon, lat, _WGS84)
    coords, index = shapely.get_coordinates(geoms, return_index=True)
    offset = coords - np.column_stack([lon, lat])[index]
    offset[:, 0] = (offset[:, 0] + 180.0) % 360.0 - 180.0
    local = shapely.set_coordinates(
        np.asarray(geoms, dtype=object).copy(), np.einsum("nij,nj->ni", metric[index], offset)
    )
    ends = shapely.get_coordinates(
        shapely.shortest_line(local, shapely.points(np.zeros((len(geoms), 2))))
    ).reshape(-1, 2, 2)[:, 0]
    back = np.einsum("nij,nj->ni", np.linalg.inv(metric), ends)
    return np.asarray(_GEOD.inv(lon + back[:, 0], lat + back[:, 1], lon, lat)[2])


def _incident_counts(
    geoms: np.ndarray,
    crs: pyproj.CRS,
    incidents: gpd.GeoDataFrame,
    radius_m: float,
    frame: pyproj.CRS,
) -> np.ndarray:
    """Incidents within ``radius_m`` geodesic metres of each settlement."""
    counts = np.zeros(len(geoms), dtype=np.int64)
    if len(geoms) == 0 or len(incidents) == 0:
        return counts
    points = _crs.to_crs_dense(incidents.geometry, _WGS84)
    lon, lat = shapely.get_x(points), shapely.get_y(points)
    reach = radius_m * (1.0 + _SEARCH_MARGIN) + _SEARCH_MARGIN_M
    search = _true_buffers(geoms, crs, np.full(len(geoms), reach), _WGS84, frame=frame)
    s, i = shapely.STRtree(points).query(search, predicate="intersects")
    if s.size == 0:
        return counts
    lonlat = _crs.to_crs_dense(gpd.GeoSeries(geoms, crs=crs), _WGS84)
    gap = _incident_gaps_m(lonlat[s], lon[i], lat[i])
    return np.bincount(s[gap <= radius_m], minlength=len(geoms)).astype(np.int64)


def _dated(
    incidents: gpd.GeoDataFrame, since: pd.Timestamp | None, as_of: pd.Timestamp | None
) -> gpd.GeoDataFrame:
    keep = np.ones(len(incidents), dtype=bool)
    dates = incidents[INCIDENT_DATE]
    if since is not None:
        keep &= (dates >= since).to_numpy()
    if as_of is not None:
        keep &= (dates <= as_of).to_numpy()
    return incidents.loc[keep]


def _whole_within(ground: _Ground, discs: _Discs) -> tuple[np.ndarray, np.ndarray]:
    """Pairs ``(settlement, m² within each disc)`` of the hazard pieces a release cut or
    removed, measured whole (see :func:`_hazard_within`)."""
    pieces = np.flatnonzero((ground.whole_m2 > 0) & ~ground.untouched)
    s, _, m2 = discs.area_within(
        ground.whole[pieces], ground.whole_m2[pieces], ground.work_crs, ground.frame
    )
    return s, m2


def _hazard_within(
    ground: _Ground,
    live: np.ndarray,
    s: np.ndarray,
    k: np.ndarray,
    rem_m2: np.ndarray,
    whole: tuple[np.ndarray, np.ndarray],
    n: int,
) -> np.ndarray:
    """Hazard hectares (released or not) within each disc of each settlement.

    A piece no release cut holds the same area within a disc as what remains of it,
    already measured (pairs ``s``, ``k`` over the ``live`` remaining pieces, ``rem_m2``);
    the pieces a release cut or removed were measured again, whole (``whole``, from
    :func:`_whole_within`).
    """
    same = ground.untouched[live[k]]
    total = _per_settlement(
        np.concatenate([s[same], whole[0]]), np.concatenate([rem_m2[same], whole[1]]), n
    )
    return np.fmax(total, _per_settlement(s, rem_m2, n))


@dataclass
class _Kept:
    """Hectares within each radius and nearest distances measured for some settlements,
    hazards and releases, kept for the next call on the same layers (see
    :class:`minemap.evidence._Shared`): a report asks for readiness, then for the
    communities at risk within one of the same radii."""

    remaining_ha: dict[float, np.ndarray] = field(default_factory=dict)  # before masking
    hazard_ha: dict[float, np.ndarray] = field(default_factory=dict)
    nearest_m: np.ndarray | None = None


#: What the last readiness measurement kept.
_MEASURED = _Shared()


def _forget_shared() -> None:
    """Drop every result kept for later calls (for benchmarks and tests)."""
    _MEASURED.clear()
    _forget_evidence()


@gc_paused()
def _measure(
    settlements: gpd.GeoDataFrame,
    hazards: gpd.GeoDataFrame,
    releases: gpd.GeoDataFrame | None,
    radii: tuple[float, ...],
    incidents: gpd.GeoDataFrame | None,
    incident_radius_m: float,
    since: pd.Timestamp | None,
    as_of: pd.Timestamp | None,
    *,
    with_hazard: bool,
) -> _Measured:
    geoms = _settlement_geoms(settlements)
    crs = pyproj.CRS(settlements.crs)
    n = len(geoms)
    frame = _crs.area_frame(hazards, releases)  # the summary's (see _ground)
    work = _crs.work_crs(hazards, releases, frame=frame)
    layers, key = (settlements, hazards, releases), str(as_of)
    kept = _MEASURED.get(layers, key)
    fresh = kept is None
    if kept is None:
        kept = _Kept()
    hazard_too = with_hazard and releases is not None
    missing = tuple(
        r
        for r in sorted(radii, reverse=True)
        if r not in kept.remaining_ha or (hazard_too and r not in kept.hazard_ha)
    )
    with SidePool(2) as side:  # with one worker, each stage runs in turn in this thread
        # what does not need the remaining area is done while it is computed, and the
        # nearest hazards and the whole pieces' areas while the remaining areas are: each
        # stage runs on all cores, and overlapping them fills the time either spends on one
        ahead = side.submit(_Discs.make, geoms, crs, missing, work, frame) if missing else None
        counted = (
            side.submit(
                _incident_counts,
                geoms,
                crs,
                _dated(incidents, since, as_of),
                incident_radius_m,
                frame,
            )
            if incidents is not None
            else None
        )
        if missing or kept.nearest_m is None:
            ground = _ground(hazards, releases, as_of)
            near = side.submit(_nearest_m, geoms, crs, ground) if kept.nearest_m is None else None
        if ahead is not None:
            discs = ahead.result()
            if not ground.work_crs.equals(work):  # pragma: no cover - one rule decides both
                discs = _Discs.make(geoms, crs, missing, ground.work_crs, ground.frame)
            whole = side.submit(_whole_within, ground, discs) if hazard_too else None
            live = np.flatnonzero(ground.remaining_m2 > 0)
            s, k, rem_m2 = discs.area_within(
                ground.remaining[live], ground.remaining_m2[live], ground.work_crs, ground.frame
            )
            remaining_ha = _per_settlement(s, rem_m2, n)
            hazard_ha = (
                _hazard_within(ground, live, s, k, rem_m2, whole.result(), n)
                if whole is not None
                else None
            )
            for at, r in enumerate(missing):
                kept.remaining_ha[r] = remaining_ha[:, at]
                if hazard_ha is not None:
                    kept.hazard_ha[r] = hazard_ha[:, at]
        if kept.nearest_m is None:
            assert near is not None
            kept.nearest_m = near.result()
        counts = counted.result() if counted is not None else None
    if fresh:
        _MEASURED.put(layers, key, kept)

    nearest = kept.nearest_m
    remaining_ha = np.column_stack([kept.remaining_ha[r] for r in radii]).reshape(n, len(radii))
    hazard_ha = np.column_stack(
        [(kept.hazard_ha if hazard_too else kept.remaining_ha)[r] for r in radii]
    ).reshape(n, len(radii))
    # a hazard beyond a radius has nothing within it: what the buffer's outline holds past
    # the circle (decimetres) is no figure, and counts as neither hazard nor remaining
    beyond = ~(nearest[:, None] <= np.asarray(radii)[None, :])
    hazard_ha = np.where(beyond, hazard_ha - remaining_ha, hazard_ha)
    hazard_ha[hazard_ha < RESIDUE_HA] = 0.0
    remaining_ha = np.where(beyond, 0.0, remaining_ha)
    return _Measured(radii, remaining_ha, hazard_ha, nearest, counts, frame)


# ------------------------------------------------------------------------------------------
# words
# ------------------------------------------------------------------------------------------


def _ha_text(value: float) -> str:
    if value >= 0.05:
        return f"{value:,.1f}"
    if value >= 0.005:
        return f"{value:.2f}"
    return "< 0.01"


def _m_text(value: float) -> str:
    return f"{value:,.0f} m"


def _hazard_words(ha: float, radius: float, nearest: float) -> str:
    return f"{_ha_text(ha)} ha remaining within {_metres(radius)} m (nearest {_m_text(nearest)})"


def _incident_words(count: int, radius: float, since: pd.Timestamp | None) -> str:
    noun = "incident" if count == 1 else "incidents"
    when = "" if since is None else f" since {since.date().isoformat()}"
    return f"{count} {noun} within {_metres(radius)} m{when}"


def _within(measured: _Measured, radius: float) -> np.ndarray:
    """Remaining hectares within one of the measured radii."""
    return measured.remaining_ha[:, measured.radii.index(radius)]


# ------------------------------------------------------------------------------------------
# settlement readiness
# ------------------------------------------------------------------------------------------


def settlement_readiness(
    settlements: gpd.GeoDataFrame,
    hazards: gpd.GeoDataFrame,
    releases: gpd.GeoDataFrame | None = None,
    *,
    radii_m: Sequence[float] = DEFAULT_RADII_M,
    incidents: gpd.GeoDataFrame | None = None,
    incident_radius_m: float | None = None,
    incident_since: object | None = None,
    rule: ReadinessRule | None = None,
    as_of: object | None = None,
) -> gpd.GeoDataFrame:
    """How ready each settlement is for return: remaining hazard, releases and incidents near it.

    Parameters
    ----------
    settlements : geopandas.GeoDataFrame
        Settlements (``minemap.io.evidence.read_settlements``; a raw GeoDataFrame is
        validated first): ``settlement_id``, ``name``, ``population``, points or polygons.
    hazards : geopandas.GeoDataFrame
        Hazard areas (:func:`minemap.read_hazards`).
    releases : geopandas.GeoDataFrame, optional
        Land-release records (:func:`minemap.read_releases`).
    radii_m : sequence of float, default (500, 1000, 2000)
        Distances from the settlement (its point, or the edge of its polygon) to measure
        within, in true metres.
    incidents : geopandas.GeoDataFrame, optional
        Explosive incidents (``minemap.io.evidence.read_incidents``).
    incident_radius_m : float, optional
        Incidents are counted within this many true metres; default the rule's blocking
        distance (the smallest radius unless the rule says otherwise).
    incident_since : date-like, optional
        Count only incidents on or after this day (ISO date), e.g. the day of the last
        survey, so that old incidents in land since released do not block return.
    rule : ReadinessRule, optional
        When a settlement is blocked, conditional or ready (default :class:`ReadinessRule`).
    as_of : date-like, optional
        The situation on this day: only releases and incidents dated on or before it.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per settlement, in input order and with its index and geometry:
        ``settlement_id``, ``name``, ``population``; for each radius r (ascending)
        ``remaining_ha_<r>m`` (true hectares of remaining hazard within r, overlaps counted
        once) and ``percent_released_<r>m`` (released hectares ÷ hazard hectares within r,
        × 100, in [0, 100]; **100 where no hazard lies within r**: nothing there is left
        to release); ``nearest_hazard_m`` (geodesic metres to the nearest remaining hazard,
        0 when the settlement touches one, **NaN when no hazard remains anywhere**);
        ``incidents_<R>m`` (incidents within the incident radius R since
        ``incident_since``; only when ``incidents`` is given); ``status`` (``ready``,
        ``conditional`` or ``blocked``) and ``reason`` (why, in words). ``attrs["rule"]``
        states the rule in words; ``attrs`` also holds ``radii_m``,
        ``incident_radius_m``, ``incident_since``, ``as_of`` and ``area_frame``.

    Raises
    ------
    SchemaError
        A radius that is not a distance > 0, a date that is not an ISO date, or a layer
        that is not what it should be.

    Examples
    --------
    A village at the origin of a local UTM grid and a 1 km square hazard whose near edge
    is 700 m east of it:

    >>> import geopandas as gpd
    >>> from shapely import Point, box
    >>> village = gpd.GeoDataFrame(
    ...     {"settlement_id": ["S1"], "name": ["Alpha"], "population": [1200.0]},
    ...     geometry=[Point(500_000, 4_400_000)], crs=32638)
    >>> village.attrs["minemap"] = "settlements"  # as the settlement reader marks it
    >>> hz = gpd.GeoDataFrame({"hazard_id": ["H1"], "threat_level": ["high"]},
    ...     geometry=[box(500_700, 4_399_500, 501_700, 4_400_500)], crs=32638)
    >>> out = settlement_readiness(village, hz)
    >>> out.filter(like="remaining_ha").round(1).values.tolist()
    [[0.0, 25.6, 100.1]]
    >>> round(float(out.nearest_hazard_m[0]), 1)  # UTM's grid metres are 0.9996 true ones
    700.3
    >>> out.status[0], out.reason[0]
    ('conditional', '100.1 ha remaining within 2000 m (nearest 700 m)')
    """
    settlements = _as_settlements(settlements)
    hazards = _as_hazards(hazards)
    releases = _as_releases(releases)
    incidents = _as_incidents(incidents)
    radii = _radii(radii_m)
    chosen = (rule if rule is not None else ReadinessRule()).resolved(radii)
    low, high = chosen._distances()
    incident_radius = (
        low if incident_radius_m is None else _distance(incident_radius_m, "incident_radius_m")
    )
    since = _day(incident_since, "incident_since")
    stamp = _as_timestamp(as_of)
    # the rule's distances are measured too, so that the reasons can quote their hectares
    measured_radii = tuple(sorted({*radii, low, high}))
    measured = _measure(
        settlements,
        hazards,
        releases,
        measured_radii,
        incidents,
        incident_radius,
        since,
        stamp,
        with_hazard=True,
    )
    table = pd.DataFrame(
        {
            SETTLEMENT_ID: settlements[SETTLEMENT_ID].to_numpy(),
            SETTLEMENT_NAME: settlements[SETTLEMENT_NAME].to_numpy(),
            POPULATION: settlements[POPULATION].to_numpy(dtype=float),
        },
        index=settlements.index,
    )
    for radius in radii:
        at = measured.radii.index(radius)
        remaining = measured.remaining_ha[:, at]
        hazard = measured.hazard_ha[:, at]
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(hazard > 0, 100.0 * (1.0 - remaining / hazard), 100.0)
        table[remaining_ha_column(radius)] = remaining
        table[percent_released_column(radius)] = np.clip(share, 0.0, 100.0) + 0.0
    table[NEAREST_HAZARD_M] = measured.nearest_m
    if measured.incidents is not None:
        table[incidents_column(incident_radius)] = measured.incidents
    else:  # without incidents, the rule has none to count
        chosen = replace(chosen, blocking_incidents=0)
    table[STATUS], table[REASON] = _status(measured, chosen, incident_radius, since)
    out = gpd.GeoDataFrame(table, geometry=settlements.geometry.to_numpy(), crs=settlements.crs)
    out.attrs.update(
        rule=chosen.describe(incident_radius_m=incident_radius, incident_since=since),
        radii_m=list(radii),
        incident_radius_m=incident_radius if incidents is not None else None,
        incident_since=None if since is None else since.date().isoformat(),
        as_of=None if stamp is None else stamp.date().isoformat(),
        area_frame=_crs.describe_frame(measured.frame),
        minemap="readiness",
    )
    return out


def _status(
    measured: _Measured, rule: ReadinessRule, incident_radius: float, since: pd.Timestamp | None
) -> tuple[np.ndarray, list[str]]:
    """Status and reason of each settlement under a resolved rule."""
    low, high = rule._distances()
    nearest = measured.nearest_m
    near = nearest <= low
    around = nearest <= high
    counts = (
        measured.incidents
        if measured.incidents is not None
        else np.zeros(len(nearest), dtype=np.int64)
    )
    struck = (counts >= rule.blocking_incidents) & (rule.blocking_incidents > 0)
    blocked = near | struck
    status = np.where(blocked, "blocked", np.where(around, "conditional", "ready")).astype(object)
    ha_low, ha_high = _within(measured, low), _within(measured, high)
    reasons = []
    for k in range(len(nearest)):
        parts = []
        if near[k]:
            parts.append(_hazard_words(ha_low[k], low, nearest[k]))
        if struck[k]:
            parts.append(_incident_words(int(counts[k]), incident_radius, since))
        if not blocked[k]:
            if around[k]:
                parts.append(_hazard_words(ha_high[k], high, nearest[k]))
            elif np.isnan(nearest[k]):
                parts.append("no remaining hazard")
            else:
                parts.append(
                    f"no remaining hazard within {_metres(high)} m (nearest {_m_text(nearest[k])})"
                )
        reasons.append("; ".join(parts))
    return status, reasons


# ------------------------------------------------------------------------------------------
# communities at risk
# ------------------------------------------------------------------------------------------


def communities_at_risk(
    settlements: gpd.GeoDataFrame,
    hazards: gpd.GeoDataFrame,
    releases: gpd.GeoDataFrame | None = None,
    *,
    within_m: float = 1_000.0,
    incidents: gpd.GeoDataFrame | None = None,
    incident_within_m: float | None = None,
    since: object | None = None,
    population: Raster | None = None,
    population_radius_m: float = 1_000.0,
    as_of: object | None = None,
) -> gpd.GeoDataFrame:
    """Settlements near remaining hazards or recent incidents, most people first.

    For planning mine risk education: the communities living closest to explosive
    ordnance, ranked by how many people they hold.

    Parameters
    ----------
    settlements : geopandas.GeoDataFrame
        Settlements (``minemap.io.evidence.read_settlements``; a raw GeoDataFrame is
        validated first): ``settlement_id``, ``name``, ``population``, points or polygons.
    hazards, releases : geopandas.GeoDataFrame
        Hazard areas and land-release records, as for :func:`settlement_readiness`.
    within_m : float, default 1000
        A settlement is at risk when remaining hazard lies within this many true metres
        of it (geodesic, from its point or the edge of its polygon).
    incidents : geopandas.GeoDataFrame, optional
        Explosive incidents (``minemap.io.evidence.read_incidents``); a settlement with
        one within ``incident_within_m`` is at risk too.
    incident_within_m : float, optional
        Distance for incidents, in true metres; default ``within_m``.
    since : date-like, optional
        Count only incidents on or after this day (ISO date).
    population : path or rasterio dataset, optional
        GeoTIFF of people per cell (needs the ``population`` extra): each settlement's
        population is then the people within ``population_radius_m`` of it, partial
        cells weighted by coverage (:func:`minemap.population.population_sum`), instead
        of the settlement layer's ``population``.
    population_radius_m : float, default 1000
        Radius for counting people in the raster, in true metres.
    as_of : date-like, optional
        The situation on this day: only releases and incidents dated on or before it.

    Returns
    -------
    geopandas.GeoDataFrame
        The settlements at risk, best-populated first: ``rank`` (1 = most people; equal
        populations by nearest hazard, then most incidents, then ``settlement_id``;
        unknown populations last), ``settlement_id``, ``name``, ``population``,
        ``population_source`` (``settlements``, ``unknown`` where the layer has no
        figure, or the raster's file name and radius), ``nearest_hazard_m`` (geodesic
        metres; NaN when no hazard remains), ``remaining_ha_within`` (true hectares of
        remaining hazard within ``within_m``), ``incidents_within`` (only when
        ``incidents`` is given), ``reason`` and the settlement geometry. ``attrs`` holds
        ``within_m``, ``incident_within_m``, ``since``, ``as_of`` and ``area_frame``.

    Examples
    --------
    Two villages, one 700 m from a hazard and one 5 km away:

    >>> import geopandas as gpd
    >>> from shapely import Point, box
    >>> villages = gpd.GeoDataFrame(
    ...     {"settlement_id": ["S1", "S2"], "name": ["Alpha", "Beta"],
    ...      "population": [1200.0, 5000.0]},
    ...     geometry=[Point(500_000, 4_400_000), Point(495_000, 4_400_000)], crs=32638)
    >>> villages.attrs["minemap"] = "settlements"  # as the settlement reader marks it
    >>> hz = gpd.GeoDataFrame({"hazard_id": ["H1"], "threat_level": ["high"]},
    ...     geometry=[box(500_700, 4_399_500, 501_700, 4_400_500)], crs=32638)
    >>> risk = communities_at_risk(villages, hz, within_m=1000)
    >>> risk[["rank", "settlement_id", "population_source"]].values.tolist()
    [[1, 'S1', 'settlements']]
    >>> risk.reason[0]
    '25.6 ha remaining within 1000 m (nearest 700 m)'
    """
    settlements = _as_settlements(settlements)
    hazards = _as_hazards(hazards)
    releases = _as_releases(releases)
    incidents = _as_incidents(incidents)
    within = _distance(within_m, "within_m")
    incident_within = (
        within if incident_within_m is None else _distance(incident_within_m, "incident_within_m")
    )
    people_radius = _distance(population_radius_m, "population_radius_m")
    day = _day(since, "since")
    stamp = _as_timestamp(as_of)
    measured = _measure(
        settlements,
        hazards,
        releases,
        (within,),
        incidents,
        incident_within,
        day,
        stamp,
        with_hazard=False,
    )
    nearest = measured.nearest_m
    counts = measured.incidents
    near = nearest <= within
    struck = counts > 0 if counts is not None else np.zeros(len(nearest), dtype=bool)
    risk = np.flatnonzero(near | struck)
    chosen = settlements.iloc[risk]
    if population is None:
        people = chosen[POPULATION].to_numpy(dtype=float)
        source = np.where(np.isnan(people), "unknown", "settlements").astype(object)
    else:
        people = _raster_people(chosen, population, people_radius, measured.frame)
        source = np.full(
            len(risk), f"{_raster_name(population)} within {_metres(people_radius)} m", dtype=object
        )
    table = pd.DataFrame(
        {
            SETTLEMENT_ID: chosen[SETTLEMENT_ID].to_numpy(),
            SETTLEMENT_NAME: chosen[SETTLEMENT_NAME].to_numpy(),
            POPULATION: people,
            POPULATION_SOURCE: source,
            NEAREST_HAZARD_M: nearest[risk],
            REMAINING_HA_WITHIN: measured.remaining_ha[risk, 0],
        }
    )
    if counts is not None:
        table[INCIDENTS_WITHIN] = counts[risk]
    table[REASON] = [
        "; ".join(
            ([_hazard_words(ha, within, d)] if d <= within else [])
            + ([_incident_words(int(c), incident_within, day)] if c > 0 else [])
        )
        for ha, d, c in zip(
            measured.remaining_ha[risk, 0],
            nearest[risk],
            counts[risk] if counts is not None else np.zeros(len(risk), dtype=np.int64),
            strict=True,
        )
    ]
    order = (
        pd.DataFrame(
            {
                "unknown": np.isnan(people),
                "people": -np.nan_to_num(people),
                "nearest": np.nan_to_num(nearest[risk], nan=np.inf),
                "incidents": -(counts[risk] if counts is not None else np.zeros(len(risk))),
                "id": chosen[SETTLEMENT_ID].astype(str).to_numpy(),
            }
        )
        .sort_values(["unknown", "people", "nearest", "incidents", "id"], kind="stable")
        .index
    )
    table = table.loc[order].reset_index(drop=True)
    table.insert(0, RANK, np.arange(1, len(table) + 1, dtype=np.int64))
    out = gpd.GeoDataFrame(
        table, geometry=chosen.geometry.to_numpy()[order.to_numpy()], crs=settlements.crs
    )
    out.attrs.update(
        within_m=within,
        incident_within_m=incident_within if incidents is not None else None,
        since=None if day is None else day.date().isoformat(),
        as_of=None if stamp is None else stamp.date().isoformat(),
        area_frame=_crs.describe_frame(measured.frame),
        minemap="communities_at_risk",
    )
    return out


def _raster_name(raster: Raster) -> str:
    name = getattr(raster, "name", raster)
    return Path(str(name)).name


def _raster_people(
    settlements: gpd.GeoDataFrame, raster: Raster, radius_m: float, frame: pyproj.CRS
) -> np.ndarray:
    """People within ``radius_m`` true metres of each settlement, from a raster."""
    from minemap.population import population_sum

    if len(settlements) == 0:
        return np.zeros(0)
    crs = pyproj.CRS(settlements.crs)
    geoms = _settlement_geoms(settlements)
    around = _discs(geoms, crs, radius_m, crs, frame)
    return population_sum(gpd.GeoSeries(around, crs=crs), raster)
