"""Priority zones: the remaining hazard area near roads, infrastructure and settlements.

National practice clears access roads, essential infrastructure and residential areas first,
so that displaced people can return. A *priority zone* is the part of a **remaining** hazard
(hazard area not yet released) that lies within a given distance of a feature of one of
those categories.

How the figures are made (see ``docs/concepts.md`` for the area rules):

* Hazards are flattened so a place counts once, under its highest threat level (ties between
  hazards of the same level go to the lowest ``hazard_id``, so row order never matters), and
  released land is removed.
* Each feature (lines cut into short pieces) is buffered in a local affine frame of true
  metres around it (:func:`minemap.crs.local_metric`), where distances are true within
  :data:`AFFINE_TOLERANCE` across the feature, and mapped back exactly into the hazards'
  working CRS (see :func:`minemap.stats._hazard_pieces`). Features too large for one such
  frame are buffered in the equal-area frame of :func:`minemap.crs.area_frame` when they lie
  within :data:`FRAME_BUFFER_RADIUS_M` of its centre (scale within 0.05 % of true), else in
  an azimuthal equidistant frame centred on their region, then densified and projected.
  Features near the equal-area frame's antipode (data spread round the globe) never enter
  it: they are buffered in an azimuthal equidistant frame centred on their
  :data:`GLOBE_CELL_DEGREES` cell and projected straight into the working CRS. Buffers in
  longitude/latitude reaching past ±180° are cut there and moved into [-180°, 180°], where
  the hazards are. Distances are therefore true metres (within 0.25 %: the affine
  tolerance plus the 0.12 % by which a :data:`BUFFER_QUAD_SEGS`-segment circle's edges
  fall inside it) wherever the data lie, also across several UTM zones. The buffers are
  made while the remaining area is computed.
* Releases are subtracted, and buffers clipped, in the working CRS, where edges drawn along
  each other coincide; remaining and zone areas are measured there with
  :func:`minemap.crs.area_m2`.
* Buffers are never unioned with everything: an STRtree pairs each remaining hazard with
  the buffers that touch it, the buffers are clipped to the hazard and unioned per hazard.
* Where categories overlap, a place belongs to the first category of ``order``, so no
  hectare is counted twice.
* Remaining pieces and zones under :data:`SLIVER_M2` (1 cm²) are floating-point residue of
  the overlays (a hazard released in parts that meet exactly), not land: they count as none.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from minemap import _engine, _progress
from minemap import crs as _crs
from minemap import io as _io
from minemap._errors import SchemaError
from minemap._overlay import (
    gc_paused,
    intersecting_pairs,
    parallel,
    polygonal_parts,
    robust,
    run_positions,
    same_polygon,
    subtract_pairs,
    valid,
)
from minemap._validate import list_ids
from minemap._workers import SidePool, using_workers
from minemap.settings import HAZARD_ID, MAX_DISTANCE_M, THREAT_LEVEL, THREAT_LEVELS
from minemap.stats import (
    _as_hazards,
    _as_releases,
    _as_timestamp,
    _hazard_pieces,
    _release_work_pieces,
)

__all__ = [
    "CATEGORIES",
    "DEFAULT_DISTANCES_M",
    "parse_distances",
    "priority_zones",
    "zone_summary",
]

#: Priority categories, in the default order of precedence.
CATEGORIES: tuple[str, ...] = ("residential", "infrastructure", "roads")
#: Default distance of each category, in metres.
DEFAULT_DISTANCES_M: dict[str, float] = {
    "residential": 500.0,
    "infrastructure": 250.0,
    "roads": 100.0,
}
#: Feature column that overrides the category distance for one feature, in metres.
BUFFER_COLUMN = "buffer_m"
#: Segments per quarter circle of a buffer: edges stay within 0.12 % of the distance.
BUFFER_QUAD_SEGS = 16
#: Features are buffered in one AEQD frame per square cell of this size (metres, in the
#: equal-area frame); AEQD scale error across a cell is below 0.03 %.
GROUP_CELL_M = 400_000.0
#: Features lying wholly within this distance (metres) of the equal-area frame's centre are
#: buffered in that frame directly: its distance scale there is within 0.05 % of true
#: (LAEA scale errs by about (r / R)² / 8 at distance r).
FRAME_BUFFER_RADIUS_M = 360_000.0
#: Remaining pieces and zones smaller than this (m², one square centimetre) are overlay
#: noise, not land: a hazard released exactly along its edges can keep a sliver of
#: ~1e-7 m² where floating-point edges do not quite meet. They count as nothing, so such a
#: hazard is fully released (and not ranked).
SLIVER_M2 = 1e-4
#: Lines are buffered in pieces of at most this many segments.
LINE_CHUNK_SEGMENTS = 16
#: Largest relative distance error allowed for buffering a feature in one local affine
#: frame (see :func:`_affine_frames`); longer lines are cut further, other larger features
#: are buffered in a projected frame. 0.1 %: 0.1 m on a 100 m road buffer.
AFFINE_TOLERANCE = 1e-3
#: Features near the equal-area frame's antipode (data spread round the globe) are buffered
#: in one AEQD frame per cell of this many degrees of longitude and latitude: at most
#: ~160 km from its centre, where AEQD distances err by under 0.01 %.
GLOBE_CELL_DEGREES = 2.0

# output columns
CATEGORY = "category"
ZONE_HA = "zone_ha"
ZONE_COLUMNS: tuple[str, ...] = (CATEGORY, THREAT_LEVEL, HAZARD_ID, ZONE_HA)

_M2_PER_HA = _crs.M2_PER_HA
_WGS84 = pyproj.CRS.from_epsg(4326)

# ------------------------------------------------------------------------------------------
# options
# ------------------------------------------------------------------------------------------


def _check_category(name: object, what: str) -> str:
    if name not in CATEGORIES:
        raise SchemaError(
            f"unknown priority category {name!r} in {what}; use one of {list(CATEGORIES)}."
        )
    return str(name)


def _check_distance(value: object, what: str) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise SchemaError(
            f"{what}: {value!r} is not a distance; give metres as a number ≥ 0, e.g. 500."
        ) from None
    if not math.isfinite(number) or number < 0:
        raise SchemaError(
            f"{what}: {value!r} is not a distance; give metres as a number ≥ 0, e.g. 500."
        )
    if number > MAX_DISTANCE_M:
        raise SchemaError(
            f"{what}: {value!r} m is farther than minemap measures in true metres "
            f"({MAX_DISTANCE_M:,.0f} m); give a shorter distance, e.g. 5000."
        )
    return number


def _distances(distances_m: Mapping[str, float] | None) -> dict[str, float]:
    out = dict(DEFAULT_DISTANCES_M)
    for name, value in (distances_m or {}).items():
        name = _check_category(name, "distances_m")
        out[name] = _check_distance(value, f"distances_m[{name!r}]")
    return out


def _order(order: Sequence[str], present: Sequence[str]) -> tuple[str, ...]:
    if isinstance(order, str):
        order = [order]
    order = tuple(_check_category(name, "order") for name in order)
    if len(set(order)) != len(order):
        raise SchemaError(f"order={list(order)} names a category twice; list each once.")
    missing = [name for name in present if name not in order]
    if missing:
        raise SchemaError(
            f"order={list(order)} leaves out {missing}, which you gave features "
            f"for; list every category, e.g. {list(CATEGORIES)}."
        )
    return order


def parse_distances(text: str) -> dict[str, float]:
    """Parse ``"residential=500,roads=100"`` into ``{"residential": 500.0, "roads": 100.0}``.

    Parameters
    ----------
    text : str
        Comma-separated ``category=metres`` pairs.

    Returns
    -------
    dict
        Distances in metres by category.

    Raises
    ------
    SchemaError
        For an unknown category, a missing ``=``, or a negative or non-numeric distance.

    Examples
    --------
    >>> parse_distances("residential=500, roads=50")
    {'residential': 500.0, 'roads': 50.0}
    """
    out: dict[str, float] = {}
    for item in (part.strip() for part in str(text).split(",")):
        if not item:
            continue
        name, sep, value = item.partition("=")
        if not sep:
            raise SchemaError(
                f"--distances: {item!r} has no '='; write category=metres, e.g. "
                "residential=500,roads=100."
            )
        name = _check_category(name.strip(), "--distances")
        out[name] = _check_distance(value.strip(), f"--distances {name}")
    return out


# ------------------------------------------------------------------------------------------
# features
# ------------------------------------------------------------------------------------------


def _as_features(layer: gpd.GeoDataFrame | None, kind: str) -> gpd.GeoDataFrame | None:
    if layer is None or layer.attrs.get("minemap") == kind:
        return layer
    return _io.read_features(layer, kind=kind)  # type: ignore[arg-type]


def _feature_distances(
    layer: gpd.GeoDataFrame, kind: str, default: float, column: str | None
) -> np.ndarray:
    distances = np.full(len(layer), default, dtype=float)
    if column is None or column not in layer.columns:
        return distances
    label = layer.attrs.get("source", kind)
    values = pd.to_numeric(layer[column], errors="coerce").to_numpy(dtype=float)
    given = layer[column].notna().to_numpy()
    bad = given & (~np.isfinite(values) | (values < 0))
    if bad.any():
        rows = np.flatnonzero(bad) + 1
        raise SchemaError(
            f"{label}: column {column!r} must hold distances in metres ≥ 0 (or be "
            f"empty to use the {kind} default of {default:g} m); rows "
            f"{list_ids(rows)} do not."
        )
    return np.where(given, values, default)


# ------------------------------------------------------------------------------------------
# geometry helpers
# ------------------------------------------------------------------------------------------


def _true_buffers(
    geoms: np.ndarray,
    source: pyproj.CRS,
    distances: np.ndarray,
    target: pyproj.CRS,
    *,
    frame: pyproj.CRS,
    split_lines: bool = False,
) -> np.ndarray:
    """Buffer each geometry by its distance in true metres; return the buffers in ``target``.

    A geometry small enough that its CRS is one affine image of the ground across it (see
    :func:`_affine_frames`) is buffered in that local affine frame and mapped back exactly
    (straight edges stay straight in ``source``, so nothing needs densifying). Others go
    through :func:`_frame_buffers`. With ``split_lines`` lines are cut into short pieces
    first (see :func:`_split_lines`; pieces still too long for one affine frame are cut
    again) and the result holds one buffer per piece, in no particular order; otherwise one
    buffer per input geometry, in order.
    """
    source, target = pyproj.CRS(source), pyproj.CRS(target)
    geoms = np.asarray(geoms, dtype=object)
    distances = np.asarray(distances, dtype=float)
    if len(geoms) == 0:
        return np.empty(0, dtype=object)
    origin = np.arange(len(geoms))
    if split_lines:
        geoms, origin = _split_lines(geoms, LINE_CHUNK_SEGMENTS)
    centre, metric, error = _affine_frames(geoms, source)
    if split_lines:
        for k in (8, 4, 2, 1):  # long lines: shorter pieces until each fits one frame
            redo = np.flatnonzero(
                (error > AFFINE_TOLERANCE) & np.isin(shapely.get_type_id(geoms), (1, 5))
            )
            if redo.size == 0:
                break
            pieces, src = _split_lines(geoms[redo], k)
            keep = np.setdiff1d(np.arange(len(geoms)), redo)
            more = _affine_frames(pieces, source)
            geoms = np.concatenate([geoms[keep], pieces])
            origin = np.concatenate([origin[keep], origin[redo][src]])
            centre, metric, error = (
                np.concatenate([a[keep], b])
                for a, b in zip((centre, metric, error), more, strict=True)
            )
    out = np.full(len(geoms), shapely.Polygon(), dtype=object)  # nothing to buffer: empty
    blank = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    fits = error <= AFFINE_TOLERANCE
    near = np.flatnonzero(fits & ~blank)
    if near.size:
        out[near] = _affine_buffers(
            geoms[near], centre[near], metric[near], distances[origin[near]]
        )
        if not source.equals(target):
            out[near] = _crs.project_dense(out[near], source, target)
        if target.is_geographic:  # buffers reaching past ±180° are cut and moved there
            out[near] = _crs.canonical_lonlat(
                out[near], target, projected=not source.equals(target)
            )
    far = np.flatnonzero(~fits & ~blank)
    if far.size:
        out[far] = _frame_buffers(geoms[far], source, distances[origin[far]], frame, target)
        if target.is_geographic:
            out[far] = _crs.canonical_lonlat(out[far], target, projected=True)
    return out


def _buffer(geoms: np.ndarray, distances: np.ndarray) -> np.ndarray:
    """Round buffers of :data:`BUFFER_QUAD_SEGS` segments per quarter circle."""
    return shapely.buffer(geoms, distances, quad_segs=BUFFER_QUAD_SEGS)


def _affine_frames(geoms: np.ndarray, crs: pyproj.CRS) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A local affine frame in true metres for each geometry, and how far it is from true.

    Returns the centre of each geometry's bounding box (``(n, 2)``), the metric there (the
    ``(n, 2, 2)`` matrices of :func:`minemap.crs.local_metric`) and the largest relative
    distance error of using that one matrix at the box's corners instead of their own
    (``‖A_centre A_corner⁻¹ − I‖``; ``inf`` for empty geometries). The metric varies
    smoothly, so the corners bound the error over the box.
    """
    n = len(geoms)
    bounds = shapely.bounds(geoms)
    x0, y0, x1, y1 = bounds.T
    cx, cy = (x0 + x1) / 2.0, (y0 + y1) / 2.0
    ok = np.isfinite(cx) & np.isfinite(cy)
    xs = np.where(ok, np.concatenate([[cx], [x0], [x1], [x0], [x1]]), 0.0)
    ys = np.where(ok, np.concatenate([[cy], [y0], [y0], [y1], [y1]]), 0.0)
    metric = _crs.local_metric(xs.ravel(), ys.ravel(), crs).reshape(5, n, 2, 2)
    error = np.zeros(n)
    with np.errstate(all="ignore"):
        for k in range(1, 5):
            gap = metric[0] @ np.linalg.inv(metric[k]) - np.eye(2)
            error = np.fmax(error, np.sqrt((gap**2).sum(axis=(1, 2))))
    error[~ok | ~np.isfinite(metric[0]).all(axis=(1, 2))] = np.inf
    return np.column_stack([cx, cy]), metric[0], error


def _affine_buffers(
    geoms: np.ndarray, centre: np.ndarray, metric: np.ndarray, distances: np.ndarray
) -> np.ndarray:
    """Buffer geometries in their local affine frames (see :func:`_affine_frames`)."""
    geoms = shapely.force_2d(np.asarray(geoms, dtype=object))
    coords, index = shapely.get_coordinates(geoms, return_index=True)
    local = np.einsum("nij,nj->ni", metric[index], coords - centre[index])
    local = shapely.set_coordinates(geoms.copy(), local)
    buffers = parallel(_buffer, local, distances)
    coords, index = shapely.get_coordinates(buffers, return_index=True)
    back = np.linalg.inv(metric)
    world = np.einsum("nij,nj->ni", back[index], coords) + centre[index]
    return shapely.set_coordinates(buffers, world)


def _frame_buffers(
    geoms: np.ndarray,
    source: pyproj.CRS,
    distances: np.ndarray,
    frame: pyproj.CRS,
    target: pyproj.CRS,
) -> np.ndarray:
    """Buffers of large geometries, in ``target``, made where distances are true.

    Geometries the equal-area ``frame`` holds (every point within
    :data:`minemap.crs.FRAME_REACH_DEGREES` of its centre) are buffered through it:
    those wholly within :data:`FRAME_BUFFER_RADIUS_M` of the centre in ``frame`` itself
    (scale error < 0.05 %), the others grouped by the :data:`GROUP_CELL_M` cell of their
    bounding-box centre, each group projected (densified) into an AEQD frame centred on its
    features, buffered there, densified and projected into ``frame``; then into ``target``.
    Geometries near the frame's antipode (data spread round the globe) never enter it:
    they are grouped on a :data:`GLOBE_CELL_DEGREES` grid of longitude and latitude and
    buffered in an AEQD frame centred on each group, then projected into ``target``.
    """
    out = np.empty(len(geoms), dtype=object)
    series = gpd.GeoSeries(geoms, crs=source)
    lon, lat = _crs.lonlat_points(gpd.GeoDataFrame(geometry=series))
    reach_m = _crs.feature_reach_m(geoms, source)
    held = _crs.held_by_frame(lon, lat, reach_m, frame)
    if held.all():
        out[:] = _frame_held_buffers(geoms, source, distances, frame, lon, lat, reach_m)
        if not pyproj.CRS(frame).equals(target):
            out[:] = _crs.project_dense(out, frame, target)
        return out
    sel = np.flatnonzero(held)
    if sel.size:
        out[sel] = _crs.project_dense(
            _frame_held_buffers(
                geoms[sel], source, distances[sel], frame, lon[sel], lat[sel], reach_m[sel]
            ),
            frame,
            target,
        )
    rest = np.flatnonzero(~held)
    cells = np.column_stack(
        [np.floor(lon[rest] / GLOBE_CELL_DEGREES), np.floor(lat[rest] / GLOBE_CELL_DEGREES)]
    )
    keys, group = np.unique(cells, axis=0, return_inverse=True)
    group = group.ravel()
    for g in range(len(keys)):
        sel = rest[group == g]
        aeqd = _aeqd(lon[sel], lat[sel])
        local = _crs.project_dense(geoms[sel], source, aeqd)
        out[sel] = _crs.project_dense(parallel(_buffer, local, distances[sel]), aeqd, target)
    return out


def _aeqd(lon: np.ndarray, lat: np.ndarray) -> pyproj.CRS:
    """An azimuthal-equidistant CRS centred on the (circular) mean of the points."""
    rad = np.radians(lon)
    centre_lon = float(np.degrees(np.arctan2(np.sin(rad).mean(), np.cos(rad).mean())))
    centre_lat = float(np.mean(lat))
    return pyproj.CRS.from_proj4(
        f"+proj=aeqd +lat_0={centre_lat:.6f} +lon_0={centre_lon:.6f} +x_0=0 +y_0=0 "
        "+ellps=WGS84 +units=m +no_defs"
    )


def _frame_held_buffers(
    geoms: np.ndarray,
    source: pyproj.CRS,
    distances: np.ndarray,
    frame: pyproj.CRS,
    lon: np.ndarray,
    lat: np.ndarray,
    reach_m: np.ndarray,
) -> np.ndarray:
    """Buffers, in ``frame``, of geometries the frame holds (see :func:`_frame_buffers`)."""
    out = np.empty(len(geoms), dtype=object)
    x, y = _crs.transformer(_WGS84, frame).transform(lon, lat)
    cells = np.column_stack(
        [np.floor(np.asarray(x) / GROUP_CELL_M), np.floor(np.asarray(y) / GROUP_CELL_M)]
    )
    # near the frame's centre the equal-area frame is itself equidistant enough
    reach = np.hypot(np.asarray(x), np.asarray(y)) + reach_m
    cells[reach < FRAME_BUFFER_RADIUS_M] = np.inf
    keys, group = np.unique(cells, axis=0, return_inverse=True)
    group = group.ravel()

    for g in range(len(keys)):
        sel = np.flatnonzero(group == g)
        if np.isinf(keys[g, 0]):
            out[sel] = parallel(
                _buffer, _crs.project_dense(geoms[sel], source, frame), distances[sel]
            )
            continue
        aeqd = _aeqd(lon[sel], lat[sel])
        local = _crs.project_dense(geoms[sel], source, aeqd)
        out[sel] = _crs.project_dense(parallel(_buffer, local, distances[sel]), aeqd, frame)
    return out


def _split_lines(geoms: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Cut lines into pieces of at most ``k`` segments; other geometries pass unchanged.

    The buffer of a line is the union of the buffers of its pieces, so zones do not change,
    but short pieces have tight bounding boxes and few vertices, which makes the search for
    the hazards they touch and the clipping much cheaper.
    """
    types = shapely.get_type_id(geoms)
    lines_at = np.flatnonzero(np.isin(types, (1, 5)) & ~shapely.is_empty(geoms))
    others = np.setdiff1d(np.arange(len(geoms)), lines_at)
    if lines_at.size == 0:
        return geoms, np.arange(len(geoms))
    parts, part_src = shapely.get_parts(geoms[lines_at], return_index=True)
    coords, index = shapely.get_coordinates(parts, return_index=True)
    n = np.bincount(index, minlength=len(parts))
    start = np.cumsum(n) - n
    chunks = np.maximum(np.ceil((n - 1) / k).astype(int), 1)
    line_of_chunk = np.repeat(np.arange(len(parts)), chunks)
    c = np.arange(chunks.sum()) - np.repeat(np.cumsum(chunks) - chunks, chunks)
    first = start[line_of_chunk] + c * k
    last = np.minimum(first + k, start[line_of_chunk] + n[line_of_chunk] - 1)
    size = last - first + 1
    flat = np.repeat(first, size) + (
        np.arange(size.sum()) - np.repeat(np.cumsum(size) - size, size)
    )
    pieces = shapely.linestrings(coords[flat], indices=np.repeat(np.arange(size.size), size))
    src = lines_at[part_src[line_of_chunk]]
    return np.concatenate([geoms[others], pieces]), np.concatenate([others, src])


def _grouped_union(geoms: np.ndarray, groups: np.ndarray, n: int) -> np.ndarray:
    """Union of the geometries of each group ``0..n-1`` (``None`` for an empty group).

    Groups are merged in rounds of binary unions (the 1st part with the 2nd, the 3rd with
    the 4th, ...): for the usual two or three parts GEOS's binary union costs about half
    of a unary union of the same parts.
    """
    out = np.full(n, None, dtype=object)
    if len(geoms) == 0:
        return out
    order = np.argsort(groups, kind="stable")
    geoms, groups = np.asarray(geoms, dtype=object)[order], np.asarray(groups)[order]
    merged = np.zeros(n, dtype=bool)
    while True:
        rank, size = run_positions(groups)
        left = np.flatnonzero((rank % 2 == 0) & (rank + 1 < size))
        if left.size == 0:
            break
        merged[groups[left]] = True
        geoms = geoms.copy()
        geoms[left] = robust(shapely.union, geoms[left], geoms[left + 1])
        keep = np.ones(len(groups), dtype=bool)
        keep[left + 1] = False
        geoms, groups = geoms[keep], groups[keep]
    out[groups] = geoms
    out[merged] = polygonal_parts(out[merged])
    return out


def _clip_union(
    targets: np.ndarray, cutters: np.ndarray, *, find_covered: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Per target, the union of its overlaps with ``cutters`` and whether it is all covered.

    Returns ``(parts, full)``: ``parts[i]`` is ``targets[i] ∩ ∪ cutters`` (``None`` where
    nothing overlaps) and ``full[i]`` is True where one cutter covers the whole target
    (looked for only with ``find_covered``; such a target needs no overlay).
    """
    n = len(targets)
    parts = np.full(n, None, dtype=object)
    full = np.zeros(n, dtype=bool)
    if n == 0 or len(cutters) == 0:
        return parts, full
    i, j = intersecting_pairs(targets, cutters)
    if i.size == 0:
        return parts, full
    if find_covered:  # only a target whose box lies inside the cutter's box can be covered
        inner = parallel(shapely.bounds, targets)[i]
        outer = parallel(shapely.bounds, cutters)[j]
        test = np.flatnonzero(
            (inner[:, :2] >= outer[:, :2]).all(1) & (inner[:, 2:] <= outer[:, 2:]).all(1)
        )
        covered = test[parallel(shapely.covered_by, targets[i[test]], cutters[j[test]])]
        full[i[covered]] = True
    keep = ~full[i]
    i, j = i[keep], j[keep]
    clipped = polygonal_parts(robust(shapely.intersection, targets[i], cutters[j]))
    nonempty = ~shapely.is_empty(clipped)
    parts = _grouped_union(clipped[nonempty], i[nonempty], n)
    parts[full] = targets[full]
    return parts, full


def _polygon_or_empty(geoms: np.ndarray) -> np.ndarray:
    out = np.asarray(geoms, dtype=object).copy()
    out[shapely.is_missing(out)] = shapely.Polygon()
    return polygonal_parts(out)


# ------------------------------------------------------------------------------------------
# computation shared with the ranking
# ------------------------------------------------------------------------------------------


@dataclass
class _Remaining:
    """Remaining hazard area per hazard piece.

    Computed in the hazards' working CRS (``work``, ``work_crs``; see
    :func:`minemap.stats._hazard_pieces`), where release edges drawn along hazard edges
    really coincide, and measured there with :func:`minemap.crs.area_m2`. ``geoms`` gives
    the pieces with area in the equal-area ``frame`` (computed once, on first use); for
    data spread round the globe, pieces near the frame's antipode are mangled there, so
    callers check first (see :func:`minemap.ranking._in_shared_frame`).
    """

    frame: pyproj.CRS
    work: np.ndarray  # one polygonal geometry (maybe empty) per hazard piece, in work_crs
    work_crs: pyproj.CRS
    attrs: pd.DataFrame  # hazard_id, threat_level per piece
    area_m2: np.ndarray

    @functools.cached_property
    def geoms(self) -> np.ndarray:
        """The pieces in the equal-area frame (empty polygons where nothing remains)."""
        out = np.full(len(self.work), shapely.Polygon(), dtype=object)
        live = np.flatnonzero(self.area_m2 > 0)
        if live.size:
            out[live] = _reproject(self.work[live], self.work_crs, self.frame)
            # projecting can fold edges a hair apart onto each other; a buffer of such a
            # self-intersecting ring drops part of the piece, so those pieces are repaired
            bad = live[~valid(out[live])]
            if bad.size:
                out[bad] = polygonal_parts(
                    shapely.make_valid(out[bad], method="structure", keep_collapsed=False)
                )
        return out


def _reproject(geoms: np.ndarray, source: pyproj.CRS, target: pyproj.CRS) -> np.ndarray:
    """:func:`minemap.crs.project_dense` on all cores (densify in ``source``, project)."""
    source, target = pyproj.CRS(source), pyproj.CRS(target)
    geoms = np.asarray(geoms, dtype=object)
    if source.equals(target) or len(geoms) == 0:
        return geoms
    return parallel(lambda g: _crs.project_dense(g, source, target), geoms)


def _sorted_hazards(hazards: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Hazards ordered by threat level then id, so overlaps never depend on row order."""
    rank = hazards[THREAT_LEVEL].map({lvl: i for i, lvl in enumerate(THREAT_LEVELS)})
    keyed = hazards.assign(_threat_rank=rank.to_numpy())
    try:
        keyed = keyed.sort_values(["_threat_rank", HAZARD_ID], kind="stable")
    except TypeError:  # ids of mixed types
        keyed = keyed.assign(_id_key=keyed[HAZARD_ID].astype(str))
        keyed = keyed.sort_values(["_threat_rank", "_id_key"], kind="stable")
    out = keyed[hazards.columns]
    out.attrs.update(hazards.attrs)
    return out


def _subtract(targets: np.ndarray, cutters: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``targets[i] − ∪ cutters`` for each target, and the indices of the targets changed.

    The targets each cutter meets are found with an STRtree; a target identical to one of
    its cutters (a release recorded over exactly a whole piece) becomes empty without an
    overlay (its other cutters no longer matter), the others lose their cutters one
    difference at a time (all targets' first cutter at once, then all second ones, ...).
    Cutters may overlap.
    """
    out = np.asarray(targets, dtype=object).copy()
    cutters = np.asarray(cutters, dtype=object)
    i, j = intersecting_pairs(out, cutters)
    if i.size == 0:
        return out, np.empty(0, dtype=np.intp)
    sort = np.lexsort((j, i))
    i, j = i[sort], j[sort]
    gone = np.zeros(len(out), dtype=bool)
    gone[i[parallel(same_polygon, out[i], cutters[j])]] = True
    changed = np.unique(i)
    out[gone] = shapely.Polygon()
    keep = ~gone[i]  # a vanished target needs no more cuts
    out = subtract_pairs(out, i[keep], cutters[j[keep]])
    return out, changed


def _remaining(
    hazards: gpd.GeoDataFrame,
    releases: gpd.GeoDataFrame | None,
    frame: pyproj.CRS,
    as_of: object | None,
) -> _Remaining:
    pieces = _hazard_pieces(
        _sorted_hazards(hazards), frame, [HAZARD_ID], None, None, others=[releases]
    )
    work, work_crs = pieces.work, pieces.work_crs
    attrs = pieces.attrs[[HAZARD_ID, THREAT_LEVEL]]
    area = pieces.area_m2
    if releases is not None:
        # released land only has to go: which method released it does not matter here
        rgeoms, _ = _release_work_pieces(releases, work_crs, _as_timestamp(as_of), disjoint=False)
        work, changed = _subtract(work, rgeoms)
        if changed.size:
            area = area.copy()
            area[changed] = _crs.area_m2(work[changed], work_crs, frame)
    noise = (area > 0) & (area < SLIVER_M2)
    if noise.any():
        area = np.where(noise, 0.0, area)
        work = work.copy()
        work[noise] = shapely.Polygon()
    attrs = attrs.reset_index(drop=True)
    # hazards wholly inside higher-threat (or lower-id) hazards keep a row, with no area
    present = set(attrs[HAZARD_ID].tolist())
    covered = np.fromiter(
        (h not in present for h in hazards[HAZARD_ID].tolist()), dtype=bool, count=len(hazards)
    )
    if covered.any():
        extra = _sorted_hazards(hazards.loc[covered])[[HAZARD_ID, THREAT_LEVEL]]
        attrs = pd.concat([attrs, extra], ignore_index=True)
        work = np.concatenate([work, np.full(len(extra), shapely.Polygon(), dtype=object)])
        area = np.concatenate([area, np.zeros(len(extra))])
    return _Remaining(frame, work, work_crs, attrs, np.asarray(area, dtype=float))


def _feature_buffers(
    layers: Mapping[str, gpd.GeoDataFrame],
    distances: Mapping[str, float],
    distance_column: str | None,
    target: pyproj.CRS,
    frame: pyproj.CRS,
) -> dict[str, np.ndarray]:
    """The true-distance buffers of each category's features, in ``target`` (lines in
    pieces; see :func:`_true_buffers`)."""
    out = {}
    for category, layer in layers.items():
        dist = _feature_distances(layer, category, distances[category], distance_column)
        out[category] = _true_buffers(
            np.asarray(layer.geometry.array, dtype=object),
            pyproj.CRS(layer.crs),
            dist,
            target,
            frame=frame,
            split_lines=True,
        )
    return out


def _category_zones(
    remaining: _Remaining,
    buffers: Mapping[str, np.ndarray],
    order: Sequence[str],
    bar: _progress.Bar = _progress.NO_BAR,
) -> dict[str, np.ndarray]:
    """Zone geometry per category and remaining piece (``None`` where there is none).

    ``buffers`` are the features' buffers in the remaining area's working CRS (from
    :func:`_feature_buffers`), where they are clipped.
    """
    live = np.flatnonzero(remaining.area_m2 > 0)
    targets = remaining.work[live]
    zones: dict[str, np.ndarray] = {}
    taken = np.full(live.size, None, dtype=object)
    used = np.zeros(live.size, dtype=bool)  # wholly inside one earlier category's buffer
    present = [c for c in order if c in buffers]
    for category in present:
        bar.set_description(f"{_TITLE} ({category} zones)")
        open_ = np.flatnonzero(~used)
        zone = np.full(live.size, None, dtype=object)
        last = category == present[-1]  # no later category needs to know what is covered
        zone[open_], full = _clip_union(targets[open_], buffers[category], find_covered=not last)
        both = ~shapely.is_missing(zone) & ~shapely.is_missing(taken)
        if both.any():
            zone[both] = polygonal_parts(robust(shapely.difference, zone[both], taken[both]))
        used[open_[full]] = True
        if last:
            taken = np.empty(0, dtype=object)  # no later category needs it: freed
        else:
            fresh = ~shapely.is_missing(zone) & shapely.is_missing(taken)
            taken[fresh] = zone[fresh]
            if both.any():
                taken[both] = robust(shapely.union, taken[both], zone[both])
        per_piece = np.full(len(remaining.work), None, dtype=object)
        per_piece[live] = zone
        zones[category] = per_piece
        bar.update()
    return zones


def _prepare(
    hazards: gpd.GeoDataFrame,
    releases: gpd.GeoDataFrame | None,
    roads: gpd.GeoDataFrame | None,
    infrastructure: gpd.GeoDataFrame | None,
    residential: gpd.GeoDataFrame | None,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame | None, dict[str, gpd.GeoDataFrame]]:
    hazards = _as_hazards(hazards)
    releases = _as_releases(releases)
    layers = {
        "roads": _as_features(roads, "roads"),
        "infrastructure": _as_features(infrastructure, "infrastructure"),
        "residential": _as_features(residential, "residential"),
    }
    layers = {k: v for k, v in layers.items() if v is not None}
    return hazards, releases, layers


@gc_paused()
def _zone_frame(
    remaining: _Remaining, zones: Mapping[str, np.ndarray], order: Sequence[str], crs: pyproj.CRS
) -> gpd.GeoDataFrame:
    blocks = []
    for category in order:
        if category not in zones:
            continue
        geoms = zones[category]
        has = ~shapely.is_missing(geoms)
        geoms = _polygon_or_empty(geoms[has])
        area = _crs.area_m2(geoms, remaining.work_crs, remaining.frame)
        keep = area >= SLIVER_M2
        attrs = remaining.attrs.loc[has].reset_index(drop=True).loc[keep]
        blocks.append(
            pd.DataFrame(
                {
                    CATEGORY: category,
                    THREAT_LEVEL: attrs[THREAT_LEVEL],
                    HAZARD_ID: attrs[HAZARD_ID],
                    ZONE_HA: area[keep] / _M2_PER_HA,
                    "geometry": geoms[keep],
                }
            )
        )
    table = (
        pd.concat(blocks, ignore_index=True)
        if blocks
        else pd.DataFrame(
            {CATEGORY: [], THREAT_LEVEL: [], HAZARD_ID: [], ZONE_HA: [], "geometry": []}
        )
    )
    table[ZONE_HA] = table[ZONE_HA].astype(float)
    geometry = _reproject(table.pop("geometry").to_numpy(dtype=object), remaining.work_crs, crs)
    return gpd.GeoDataFrame(table, geometry=geometry, crs=crs)


#: What the progress bar of the priority functions says.
_TITLE = "Priorities"


def _stage_count(*layers: object, after: int = 0) -> int:
    """Stages of a progress bar over :func:`_analyse` given these feature ``layers``
    (``None`` for a missing one), plus ``after`` stages of the caller's own."""
    return 3 + sum(layer is not None for layer in layers) + after


@gc_paused()
def _analyse(
    hazards: gpd.GeoDataFrame,
    releases: gpd.GeoDataFrame | None,
    roads: gpd.GeoDataFrame | None,
    infrastructure: gpd.GeoDataFrame | None,
    residential: gpd.GeoDataFrame | None,
    distances_m: Mapping[str, float] | None,
    order: Sequence[str],
    distance_column: str | None,
    as_of: object | None,
    alongside: Callable[..., Callable[[_Remaining], Any]] | None = None,
    bar: _progress.Bar = _progress.NO_BAR,
) -> tuple[
    gpd.GeoDataFrame,
    dict[str, gpd.GeoDataFrame],
    dict[str, float],
    tuple[str, ...],
    _Remaining,
    dict[str, np.ndarray],
    Any,
]:
    """Validated inputs, the remaining area and the zones.

    ``alongside``, if given, is the ranking's distance search: called with the feature
    layers and the equal-area frame while the remaining area is computed (to index the
    features), it returns a function of the remaining area that runs in a second thread
    while the zones are made; its result is returned last. The stages each run on all
    cores, and overlapping them fills the time either spends on one core. ``bar`` moves
    once for the inputs, the remaining area, each category's zones and the search
    (:func:`_stage_count`).
    """
    hazards, releases, layers = _prepare(hazards, releases, roads, infrastructure, residential)
    distances = _distances(distances_m)
    order = _order(order, list(layers))
    for category, layer in layers.items():  # a bad per-feature distance fails before any work
        _feature_distances(layer, category, distances[category], distance_column)
    bar.update()
    bar.set_description(f"{_TITLE} (remaining hazard area)")
    frame = _crs.area_frame(hazards, releases, *layers.values())
    work = _crs.work_crs(hazards, releases, frame=frame)
    with SidePool() as side:  # with one worker, each stage runs in turn in this thread
        # work that does not depend on the remaining area is done while it is computed
        ahead = side.submit(_feature_buffers, layers, distances, distance_column, work, frame)
        search = side.submit(alongside, layers, frame) if alongside is not None else None
        remaining = _remaining(hazards, releases, frame, as_of)
        buffers = ahead.result()
        if not remaining.work_crs.equals(work):  # pragma: no cover - one rule decides both
            buffers = _feature_buffers(
                layers, distances, distance_column, remaining.work_crs, frame
            )
        bar.update()
        extra = side.submit(search.result(), remaining) if search is not None else None
        zones = _category_zones(remaining, buffers, order, bar)
        if extra is not None:
            bar.set_description(f"{_TITLE} (nearest features)")
        found = extra.result() if extra is not None else None
        bar.update()
    return hazards, layers, distances, order, remaining, zones, found


def priority_zones(
    hazards: gpd.GeoDataFrame,
    releases: gpd.GeoDataFrame | None = None,
    *,
    roads: gpd.GeoDataFrame | None = None,
    infrastructure: gpd.GeoDataFrame | None = None,
    residential: gpd.GeoDataFrame | None = None,
    distances_m: Mapping[str, float] | None = None,
    order: Sequence[str] = CATEGORIES,
    distance_column: str | None = BUFFER_COLUMN,
    as_of: object | None = None,
    workers: int | None = None,
    engine: str | None = None,
    client: Any | None = None,
    npartitions: int | None = None,
) -> gpd.GeoDataFrame:
    """The remaining hazard area within a given distance of each priority category.

    Parameters
    ----------
    hazards : geopandas.GeoDataFrame
        Hazard areas, as returned by :func:`minemap.read_hazards` (a raw GeoDataFrame is
        validated first).
    releases : geopandas.GeoDataFrame, optional
        Land-release records (:func:`minemap.read_releases`); released land is not a zone.
    roads, infrastructure, residential : geopandas.GeoDataFrame, optional
        Priority features (:func:`minemap.read_features`): roads are lines, infrastructure
        any geometry, residential areas polygons or points. A category without features
        has no zones.
    distances_m : dict, optional
        Distance in metres per category, overriding :data:`DEFAULT_DISTANCES_M`
        (residential 500, infrastructure 250, roads 100).
    order : sequence of str, default ("residential", "infrastructure", "roads")
        Precedence: where zones of several categories overlap, the place belongs to the
        first category listed.
    distance_column : str or None, default "buffer_m"
        Feature column that overrides the category distance for that feature (empty cells
        use the category distance); ``None`` to ignore such a column.
    as_of : date-like, optional
        Count only releases dated on or before this date.
    workers : int, optional
        Threads to use (default: every core this process may use); results are identical
        whatever the number.
    engine : {'local', 'dask'}, optional
        Where to run: ``'local'``, this process on ``workers`` threads, or ``'dask'``, a
        Dask cluster through :func:`minemap.partitioned.priority_zones` (touching hazards and
        releases kept whole in one partition; the same figures). Default: Dask when a layer
        is a ``dask_geopandas.GeoDataFrame`` or ``client`` is given.
    client : distributed.Client, optional
        The Dask cluster to run on (default: a ``LocalCluster`` made for the call).
    npartitions : int, optional
        Dask partitions (default two per worker thread of the cluster).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per hazard and category with a zone: ``category``, ``threat_level``,
        ``hazard_id``, ``zone_ha`` (true ellipsoidal hectares) and the zone polygon in the
        hazards' CRS; ordered by ``order`` and hazard. ``attrs`` holds ``distances_m``,
        ``order`` and ``area_frame``. Zones are disjoint: summed, they never exceed the
        remaining area.

    Raises
    ------
    SchemaError
        Unknown category, negative distance, or an ``order`` that leaves out a category
        with features.
    GeometryTypeError
        Features of the wrong geometry type (e.g. roads that are polygons).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import LineString, box
    >>> hz = gpd.GeoDataFrame({"hazard_id": ["H1"], "threat_level": ["high"]},
    ...                       geometry=[box(0, 0, 1000, 1000)], crs=32638)
    >>> road = gpd.GeoDataFrame(geometry=[LineString([(-500, 500), (1500, 500)])], crs=32638)
    >>> zones = priority_zones(hz, roads=road, distances_m={"roads": 50})
    >>> zones[["category", "hazard_id"]].values.tolist(), round(float(zones.zone_ha[0]), 1)
    ([['roads', 'H1']], 10.0)
    """
    layers = {
        "hazards": hazards,
        "releases": releases,
        "roads": roads,
        "infrastructure": infrastructure,
        "residential": residential,
    }
    if _engine.use_dask(
        "priority_zones", engine, layers, client=client, npartitions=npartitions, workers=workers
    ):
        from minemap import partitioned

        return partitioned.priority_zones(
            hazards,
            releases,
            client=client,
            npartitions=npartitions,
            roads=roads,
            infrastructure=infrastructure,
            residential=residential,
            distances_m=distances_m,
            order=order,
            distance_column=distance_column,
            as_of=as_of,
        )
    total = _stage_count(roads, infrastructure, residential, after=1)
    with using_workers(workers), _progress.task(_TITLE, total, unit="stage") as bar:
        hazards, _, distances, order, remaining, zones, _ = _analyse(
            hazards,
            releases,
            roads,
            infrastructure,
            residential,
            distances_m,
            order,
            distance_column,
            as_of,
            bar=bar,
        )
        bar.set_description(f"{_TITLE} (zone table)")
        out = _zones_output(remaining, zones, order, distances, pyproj.CRS(hazards.crs))
        stamp = _as_timestamp(as_of)
        out.attrs["as_of"] = None if stamp is None else stamp.date().isoformat()
        return out


def _zones_output(
    remaining: _Remaining,
    zones: Mapping[str, np.ndarray],
    order: Sequence[str],
    distances: Mapping[str, float],
    crs: pyproj.CRS,
) -> gpd.GeoDataFrame:
    out = _zone_frame(remaining, zones, order, crs)
    out.attrs.update(
        distances_m={k: distances[k] for k in order},
        order=list(order),
        area_frame=_crs.describe_frame(remaining.frame),
        minemap="zones",
    )
    return out


def zone_summary(zones: gpd.GeoDataFrame | pd.DataFrame) -> pd.DataFrame:
    """Zone hectares per category and threat level, with totals.

    Parameters
    ----------
    zones : DataFrame
        The result of :func:`priority_zones`.

    Returns
    -------
    pandas.DataFrame
        Columns ``category``, ``threat_level``, ``zone_ha``: every category in the zones'
        ``order`` with each threat level and a ``total`` row, then a ``total``/``total`` row.

    Examples
    --------
    >>> import pandas as pd
    >>> z = pd.DataFrame({"category": ["roads"], "threat_level": ["low"], "zone_ha": [2.5]})
    >>> zone_summary(z).iloc[-1][["category", "threat_level"]].tolist()
    ['total', 'total']
    >>> float(zone_summary(z)["zone_ha"].iloc[-1])
    2.5
    """
    order = list(zones.attrs.get("order") or [c for c in CATEGORIES if c in set(zones[CATEGORY])])
    rows = []
    for category in order:
        part = zones.loc[zones[CATEGORY] == category]
        sums = part.groupby(THREAT_LEVEL)[ZONE_HA].sum()
        for level in THREAT_LEVELS:
            rows.append((category, level, float(sums.get(level, 0.0))))
        rows.append((category, "total", float(part[ZONE_HA].sum())))
    rows.append(("total", "total", float(zones[ZONE_HA].sum())))
    return pd.DataFrame(rows, columns=[CATEGORY, THREAT_LEVEL, ZONE_HA])
