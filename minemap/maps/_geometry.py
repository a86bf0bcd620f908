"""Display geometry for maps: simplified, rounded and compactly encoded.

Nothing here computes a figure. Geometry is simplified where it already is (in degrees for
geographic data, with a tolerance that is never coarser than the one asked for in metres; in
its own units for projected data, which is then projected), so display geometry makes no
round trip through the equal-area frame; it is rounded to :data:`DECIMALS` decimal degrees and
encoded with the polyline algorithm (signed deltas of integer coordinates in printable
ASCII), which keeps a 100,000-polygon map to a few megabytes. The encoding uses only the
characters ``?`` to ``~`` plus ``,`` and space as separators, so it can never close a
``<script>`` element or hold a ``//`` sequence.

Longitudes are made continuous across the antimeridian: every geometry drawn on one map is
moved by whole turns to lie within 180° of the map's central longitude
(:func:`central_longitude`, set with :func:`centred_on` while a map is built), and a
geometry that crosses ±180° is drawn whole on one side of it (e.g. from 179.9° to 180.1°),
so no edge runs round the world.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

import numpy as np
import pyproj
import shapely

from minemap import crs as _crs
from minemap._overlay import valid

_WGS84 = pyproj.CRS.from_epsg(4326)
#: Metres in one degree of latitude (at least; one degree of longitude is never more), so a
#: tolerance of ``metres / METRES_PER_DEGREE`` degrees is never coarser than ``metres``.
METRES_PER_DEGREE = 111_320.0
#: Decimal degrees kept in display coordinates (1e-5 degrees is about 1 m).
DECIMALS = 5
#: Decimal degrees kept in layers merged above the feature budget (about 10 m).
MERGED_DECIMALS = 4
# polyline chunks: a value of up to 36 bits needs at most 8 five-bit chunks
_CHUNKS = 8


def project(geoms: np.ndarray, source: pyproj.CRS, target: pyproj.CRS) -> np.ndarray:
    """Reproject shapely geometries (no densification: for display only)."""
    if pyproj.CRS(source).equals(pyproj.CRS(target), ignore_axis_order=True):
        return np.asarray(geoms, dtype=object)
    transformer = _crs.transformer(source, target)

    def move(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(transformer.transform(xy[:, 0], xy[:, 1]))

    return shapely.transform(np.asarray(geoms, dtype=object), move)


def simplify(geoms: np.ndarray, tolerance_m: float) -> np.ndarray:
    """Simplify geometries in a metric frame without breaking their topology.

    Douglas-Peucker runs first (fast); any polygon it makes invalid or empty is simplified
    again with GEOS's topology-preserving simplifier, so every result is valid and no
    feature disappears.
    """
    geoms = np.asarray(geoms, dtype=object)
    if tolerance_m <= 0 or geoms.size == 0:
        return geoms
    out = shapely.simplify(geoms, tolerance_m, preserve_topology=False)
    polygonal = np.isin(shapely.get_type_id(geoms), (3, 6))
    bad = polygonal & (shapely.is_empty(out) | ~valid(out)) & ~shapely.is_empty(geoms)
    bad |= ~polygonal & shapely.is_empty(out) & ~shapely.is_empty(geoms)
    if bad.any():
        out[bad] = shapely.simplify(geoms[bad], tolerance_m, preserve_topology=True)
    return out


def native_tolerance(crs: pyproj.CRS, tolerance_m: float) -> float:
    """``tolerance_m`` metres in the units of ``crs`` (degrees conservatively)."""
    crs = pyproj.CRS(crs)
    if crs.is_geographic:
        return tolerance_m / METRES_PER_DEGREE
    factor = crs.axis_info[0].unit_conversion_factor if crs.axis_info else 1.0
    return tolerance_m / (factor or 1.0)


_CENTRE: ContextVar[float] = ContextVar("minemap_map_central_longitude", default=0.0)


@contextmanager
def centred_on(longitude: float) -> Iterator[None]:
    """Within this block, :func:`to_lonlat` puts geometries within 180° of ``longitude``."""
    token = _CENTRE.set(float(longitude))
    try:
        yield
    finally:
        _CENTRE.reset(token)


def wrap_longitudes(geoms: np.ndarray, centre: float) -> np.ndarray:
    """Geometries (in longitude/latitude) continuous across ±180° and near ``centre``.

    A geometry whose longitudes span more than 180° is taken to cross the antimeridian:
    each of its vertices moves by whole turns to within 180° of its first vertex (if that
    makes the span 180° or less; a geometry really wider than that is left as it is). Then
    every geometry moves by whole turns so that the middle of its longitudes is within
    180° of ``centre``. Geometries that need neither are returned untouched (no copy).

    Examples
    --------
    >>> import shapely
    >>> parts = shapely.MultiPolygon([shapely.box(179.9, 0, 180, 1),
    ...                               shapely.box(-180, 0, -179.9, 1)])
    >>> shapely.bounds(wrap_longitudes(np.array([parts]), 180.0))[0].round(6).tolist()
    [179.9, 0.0, 180.1, 1.0]
    """
    geoms = np.asarray(geoms, dtype=object)
    if geoms.size == 0:
        return geoms
    bounds = shapely.bounds(geoms)
    xmin, xmax = bounds[:, 0], bounds[:, 2]
    with np.errstate(invalid="ignore"):
        crossing = xmax - xmin > 180.0
        outside = (xmin < centre - 180.0) | (xmax > centre + 180.0)
    idx = np.flatnonzero(crossing | outside)
    if idx.size == 0:
        return geoms
    sub = geoms[idx]
    coords, owner = shapely.get_coordinates(sub, return_index=True)
    x = coords[:, 0]
    starts = np.r_[0, np.flatnonzero(np.diff(owner)) + 1]
    present = owner[starts]  # geometries with coordinates, in order
    ref = np.repeat(x[starts], np.diff(np.r_[starts, x.size]))
    unwrapped = ref + (x - ref + 180.0) % 360.0 - 180.0
    span = np.maximum.reduceat(unwrapped, starts) - np.minimum.reduceat(unwrapped, starts)
    use = np.zeros(sub.size, dtype=bool)
    use[present] = crossing[idx][present] & (span <= 180.0)
    x = np.where(use[owner], unwrapped, x)
    middle = np.zeros(sub.size)
    middle[present] = (np.maximum.reduceat(x, starts) + np.minimum.reduceat(x, starts)) / 2
    x = x + (np.round((centre - middle) / 360.0) * 360.0)[owner]
    moved = np.column_stack([x, coords[:, 1]])
    out = geoms.copy()
    out[idx] = shapely.transform(sub, lambda _: moved)
    return out


def central_longitude(geoms: np.ndarray) -> float:
    """The middle of the narrowest range of longitudes that holds every geometry.

    Geometries are in longitude/latitude; the range may cross the antimeridian (data on
    Fiji gives about 180, not 0). The value is in (-180, 180], or in [0, 360) when the
    range crosses the antimeridian, so data across it is drawn east of 180° (Fiji from
    177° to 181°, not from -183° to -179°). Data all round the globe gives 0.

    Examples
    --------
    >>> import shapely
    >>> central_longitude(np.array([shapely.box(179.5, 0, 180, 1),
    ...                             shapely.box(-180, 0, -179.0, 1)]))
    180.25
    """
    bounds = shapely.bounds(wrap_longitudes(np.asarray(geoms, dtype=object), 0.0))
    bounds = bounds[~np.isnan(bounds[:, 0])]
    if bounds.shape[0] == 0:
        return 0.0
    lo = bounds[:, 0] % 360.0
    hi = lo + (bounds[:, 2] - bounds[:, 0])
    order = np.argsort(lo, kind="stable")
    lo, hi = lo[order], hi[order]
    reach = np.maximum.accumulate(hi)
    gap_start = np.r_[reach[:-1], reach[-1]]
    gap_end = np.r_[lo[1:], lo[0] + 360.0]
    gaps = gap_end - gap_start
    k = int(np.argmax(gaps))
    if gaps[k] <= 0:
        return 0.0
    centre = (gap_end[k] + gap_start[k] + 360.0) / 2.0
    half = (360.0 - gaps[k]) / 2.0  # half the width of the data's range
    centre = -((-centre + 180.0) % 360.0) + 180.0  # in (-180, 180]
    if centre + half > 180.0 or centre - half < -180.0:
        centre %= 360.0
    return float(centre)


def to_lonlat(geoms: np.ndarray, crs: pyproj.CRS) -> np.ndarray:
    """Geometries in longitude/latitude, within 180° of the map's central longitude.

    No copy when they already are (see :func:`centred_on` and :func:`wrap_longitudes`).
    """
    return wrap_longitudes(project(geoms, crs, _WGS84), _CENTRE.get())


def display_lonlat(geoms: np.ndarray, crs: pyproj.CRS, tolerance_m: float) -> np.ndarray:
    """Simplify geometries of ``crs`` where they are and return them in longitude/latitude.

    Geographic data is simplified in degrees (``tolerance_m / 111,320``: exact north-south,
    finer east-west), projected data in its own units before it is projected; neither makes a
    round trip through another frame.
    """
    geoms = np.asarray(geoms, dtype=object)
    if pyproj.CRS(crs).is_geographic:
        return simplify(to_lonlat(geoms, crs), native_tolerance(crs, tolerance_m))
    return to_lonlat(simplify(geoms, native_tolerance(crs, tolerance_m)), crs)


def _zigzag(values: np.ndarray) -> np.ndarray:
    values = values.astype(np.int64)
    return np.where(values < 0, ~(values << 1), values << 1)


def _value_sizes(zigzag: np.ndarray) -> np.ndarray:
    """Characters each zigzag-coded value needs (five bits per character, at least one)."""
    needed = np.ones(zigzag.size, dtype=np.int64)
    for k in range(1, _CHUNKS):
        needed += zigzag >= (1 << (5 * k))
    return needed


def _encode_values(zigzag: np.ndarray, needed: np.ndarray) -> bytes:
    """Polyline-encode zigzag-coded values into bytes."""
    offsets = np.r_[0, np.cumsum(needed)[:-1]]
    out = np.empty(int(needed.sum()), dtype=np.uint8)
    for k in range(int(needed.max()) if needed.size else 0):
        sel = np.flatnonzero(needed > k)
        chunk = (zigzag[sel] >> (5 * k)) & 0x1F
        chunk |= np.where(needed[sel] - 1 > k, 0x20, 0)
        out[offsets[sel] + k] = chunk + 63
    return out.tobytes()


def _encode_runs(
    coords: np.ndarray, starts: np.ndarray, ends: np.ndarray, decimals: int
) -> list[str]:
    """Encode coordinate runs ``coords[starts[k]:ends[k]]`` as polyline strings (lat, lon)."""
    if starts.size == 0:
        return []
    take = _ranges(starts, ends)
    lengths = ends - starts
    q = np.round(coords[take][:, ::-1] * 10.0**decimals).astype(np.int64)  # (lat, lon)
    delta = np.diff(q, axis=0, prepend=np.zeros((1, 2), dtype=np.int64))
    first = np.r_[0, np.cumsum(lengths)[:-1]]
    delta[first] = q[first]
    zigzag = _zigzag(delta.reshape(-1))
    sizes = _value_sizes(zigzag)
    encoded = _encode_values(zigzag, sizes)
    per_run = np.add.reduceat(sizes, 2 * first)
    cuts = np.r_[0, np.cumsum(per_run)]
    text = encoded.decode("ascii")
    return [text[cuts[k] : cuts[k + 1]] for k in range(starts.size)]


def _ranges(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    lengths = ends - starts
    offsets = np.repeat(starts - np.r_[0, np.cumsum(lengths)[:-1]], lengths)
    return np.arange(lengths.sum()) + offsets


def decode(text: str, decimals: int = DECIMALS) -> list[tuple[float, float]]:
    """Decode one polyline string into ``(lat, lon)`` pairs (used by tests)."""
    values: list[int] = []
    shift = result = 0
    for char in text:
        byte = ord(char) - 63
        result |= (byte & 0x1F) << shift
        shift += 5
        if byte < 0x20:
            values.append(~(result >> 1) if result & 1 else result >> 1)
            shift = result = 0
    out, lat, lon = [], 0, 0
    for k in range(0, len(values), 2):
        lat += values[k]
        lon += values[k + 1]
        out.append((lat / 10**decimals, lon / 10**decimals))
    return out


def _group_argmax(values: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Index of the (first) largest value in each run ``values[starts[k]:starts[k] + n]``."""
    best = np.maximum.reduceat(values, starts)
    group = np.repeat(np.arange(starts.size), lengths)
    hit = np.flatnonzero(values == best[group])
    owner = group[hit]
    return hit[np.r_[True, owner[1:] != owner[:-1]]]


def ring_keep(
    coords: np.ndarray, starts: np.ndarray, ends: np.ndarray, tolerance: float
) -> np.ndarray:
    """Douglas-Peucker on many closed rings at once: which vertices to keep.

    ``coords[starts[k]:ends[k]]`` is ring ``k`` (closing vertex included). Every ring keeps
    its first and closing vertex, the vertex farthest from the first and, on each side of
    those, the farthest vertex from their chord, so a ring of three or more distinct
    vertices keeps at least three and no feature vanishes. Then each stretch between kept
    vertices keeps its farthest vertex while that is more than ``tolerance`` from the
    stretch's chord. Display only: the result may self-intersect where Douglas-Peucker
    does; it is drawn, never overlaid or measured.
    """
    n = coords.shape[0]
    keep = np.zeros(n, dtype=bool)
    if n == 0:
        return keep
    keep[starts] = True
    keep[ends - 1] = True
    x = np.ascontiguousarray(coords[:, 0], dtype=float)
    y = np.ascontiguousarray(coords[:, 1], dtype=float)
    lengths = ends - starts
    ring = np.repeat(np.arange(starts.size), lengths)
    keep[
        _group_argmax((x - x[starts][ring]) ** 2 + (y - y[starts][ring]) ** 2, starts, lengths)
    ] = True
    limit = tolerance * tolerance
    candidates = np.flatnonzero(~keep)
    kept = np.flatnonzero(keep)
    after = np.searchsorted(kept, candidates)
    a, b = kept[after - 1], kept[after]  # the kept vertices around each candidate
    first = True
    while candidates.size:
        ax, ay = x[a], y[a]
        dx, dy = x[b] - ax, y[b] - ay
        px, py = x[candidates] - ax, y[candidates] - ay
        chord = dx * dx + dy * dy
        t = np.clip((px * dx + py * dy) / np.where(chord > 0, chord, 1.0), 0.0, 1.0)
        dist = (px - t * dx) ** 2 + (py - t * dy) ** 2
        run_starts = np.r_[0, np.flatnonzero(a[1:] != a[:-1]) + 1]
        run_lengths = np.diff(np.r_[run_starts, candidates.size])
        best = _group_argmax(dist, run_starts, run_lengths)
        split = np.ones(best.size, dtype=bool) if first else dist[best] > limit
        first = False
        if not split.any():
            break
        keep[candidates[best[split]]] = True
        alive = np.repeat(split, run_lengths)  # finished stretches drop out
        alive[best[split]] = False
        middle = np.repeat(candidates[best], run_lengths)  # the new kept vertex of each run
        candidates, a, b, middle = candidates[alive], a[alive], b[alive], middle[alive]
        before = candidates < middle
        b = np.where(before, middle, b)
        a = np.where(before, a, middle)
    return keep


def encode_polygons(
    geoms: np.ndarray, decimals: int = DECIMALS, *, tolerance: float = 0.0
) -> list[str]:
    """Encode polygonal geometries: rings joined by spaces, polygons by commas.

    Closing vertices are dropped (Leaflet closes rings itself); empty geometries give ``""``.
    A positive ``tolerance`` (in coordinate units) first thins every ring with
    :func:`ring_keep` (Douglas-Peucker, for layers drawn merged).
    """
    geoms = np.asarray(geoms, dtype=object)
    out = [""] * geoms.size
    live = np.flatnonzero(~shapely.is_empty(geoms) & ~shapely.is_missing(geoms))
    if live.size == 0:
        return out
    codes = _encode_polygon_chunk(geoms[live], decimals, tolerance)
    for k, code in zip(live.tolist(), codes.tolist(), strict=True):
        out[k] = code
    return out


def _encode_polygon_chunk(geoms: np.ndarray, decimals: int, tolerance: float) -> np.ndarray:
    out = np.full(geoms.size, "", dtype=object)
    # most polygons are one ring: their coordinates are that ring, no parts or rings needed
    single = (shapely.get_type_id(geoms) == 3) & (shapely.get_num_interior_rings(geoms) == 0)
    if single.any():
        index = np.flatnonzero(single)
        coords, owner = shapely.get_coordinates(geoms[index], return_index=True)
        ring_off = np.r_[0, np.cumsum(np.bincount(owner, minlength=index.size))]
        out[index] = _encode_rings(coords, ring_off, decimals, tolerance)
        if single.all():
            return out
        rest = np.flatnonzero(~single)
        out[rest] = _encode_polygon_parts(geoms[rest], decimals, tolerance)
        return out
    return _encode_polygon_parts(geoms, decimals, tolerance)


def _encode_rings(
    coords: np.ndarray, ring_off: np.ndarray, decimals: int, tolerance: float
) -> list[str]:
    """Encode closed rings ``coords[ring_off[k]:ring_off[k + 1]]`` (closing vertex dropped)."""
    ring_off = np.asarray(ring_off, dtype=np.int64)
    if tolerance > 0 and coords.shape[0]:
        kept = ring_keep(coords, ring_off[:-1], ring_off[1:], tolerance)
        sizes = np.add.reduceat(kept.astype(np.int64), ring_off[:-1])
        coords = coords[kept]
        ring_off = np.r_[0, np.cumsum(sizes)]
    return _encode_runs(coords, ring_off[:-1], ring_off[1:] - 1, decimals)


def _encode_polygon_parts(geoms: np.ndarray, decimals: int, tolerance: float) -> np.ndarray:
    out = np.full(geoms.size, "", dtype=object)
    parts, owner = shapely.get_parts(geoms, return_index=True)
    keep = shapely.get_type_id(parts) == 3
    parts, owner = parts[keep], owner[keep]
    if parts.size == 0:
        return out
    _, coords, (ring_off, poly_off) = shapely.to_ragged_array(parts, include_z=False)
    poly_off = np.asarray(poly_off, dtype=np.int64)
    rings = _encode_rings(coords, ring_off, decimals, tolerance)
    polys = [" ".join(rings[poly_off[p] : poly_off[p + 1]]) for p in range(parts.size)]
    grouped: dict[int, list[str]] = {}
    for p, o in zip(polys, owner.tolist(), strict=True):
        grouped.setdefault(o, []).append(p)
    for o, items in grouped.items():
        out[o] = ",".join(items)
    return out


def encode_lines(geoms: np.ndarray, decimals: int = DECIMALS) -> list[str]:
    """Encode linear geometries: one polyline string per part, parts joined by commas."""
    geoms = np.asarray(geoms, dtype=object)
    out = [""] * geoms.size
    live = np.flatnonzero(~shapely.is_empty(geoms) & ~shapely.is_missing(geoms))
    if live.size == 0:
        return out
    parts, owner = shapely.get_parts(geoms[live], return_index=True)
    keep = shapely.get_type_id(parts) == 1
    parts, owner = parts[keep], owner[keep]
    _, coords, (line_off,) = shapely.to_ragged_array(parts, include_z=False)
    line_off = np.asarray(line_off, dtype=np.int64)
    lines = _encode_runs(coords, line_off[:-1], line_off[1:], decimals)
    grouped: dict[int, list[str]] = {}
    for text, o in zip(lines, owner.tolist(), strict=True):
        grouped.setdefault(o, []).append(text)
    for o, items in grouped.items():
        out[int(live[o])] = ",".join(items)
    return out


def point_lists(geoms: np.ndarray) -> list[list[list[float]]]:
    """``[[lat, lon], ...]`` per (multi)point geometry, rounded to :data:`DECIMALS`."""
    geoms = np.asarray(geoms, dtype=object)
    out: list[list[list[float]]] = [[] for _ in range(geoms.size)]
    coords, index = shapely.get_coordinates(geoms, return_index=True)
    coords = np.round(coords, DECIMALS)
    for (x, y), k in zip(coords.tolist(), index.tolist(), strict=True):
        out[k].append([y, x])
    return out


def square_grid(bounds: tuple[float, float, float, float], size: float) -> np.ndarray:
    """Square cells of side ``size`` covering ``bounds``, aligned on multiples of ``size``.

    Aligning on the frame's origin (not on the data) means the grid says nothing about where
    the data's edges are.
    """
    x0 = np.floor(bounds[0] / size) * size
    y0 = np.floor(bounds[1] / size) * size
    nx = max(1, int(np.ceil((bounds[2] - x0) / size)))
    ny = max(1, int(np.ceil((bounds[3] - y0) / size)))
    xs = x0 + size * np.arange(nx)
    ys = y0 + size * np.arange(ny)
    gx, gy = np.meshgrid(xs, ys)
    return shapely.box(gx.ravel(), gy.ravel(), gx.ravel() + size, gy.ravel() + size)


# ------------------------------------------------------------------ merged layers (canvas)
#: Douglas-Peucker tolerances of the coarser levels of detail of merged layers, as multiples
#: of the merged tolerance: the page draws the coarsest level whose error is under a pixel.
LOD_FACTORS = (6.0, 36.0)
# a coarser version of a ring is kept only when the ring spans this many tolerances (smaller
# rings are a few pixels wide wherever that level is drawn, and the page thins them there)
_LOD_MIN_SPAN = 4.0


@dataclass(frozen=True)
class Rings:
    """Closed rings as integer coordinates, ready for :func:`encode_rings`.

    ``xy[k]`` is ``(lon, lat)`` times ``10**decimals`` (closing vertex dropped);
    ``counts[r]`` is the number of vertices of ring ``r`` (rings follow each other in
    ``xy``); ``owner[r]`` is the index of the geometry ring ``r`` came from.
    """

    xy: np.ndarray
    counts: np.ndarray
    owner: np.ndarray
    decimals: int

    @property
    def offsets(self) -> np.ndarray:
        return np.r_[0, np.cumsum(self.counts)].astype(np.int64)

    def select(self, owners: np.ndarray) -> Rings:
        """The rings of the geometries flagged in the boolean mask ``owners``."""
        owners = np.asarray(owners, dtype=bool)
        keep = np.zeros(self.owner.size, dtype=bool)
        inside = self.owner < owners.size
        keep[inside] = owners[self.owner[inside]]
        vertex = np.repeat(keep, self.counts)
        return Rings(self.xy[vertex], self.counts[keep], self.owner[keep], self.decimals)

    def replace(self, index: np.ndarray, other: Rings) -> Rings:
        """These rings with those of geometries ``index`` swapped for ``other``'s.

        ``other.owner[r]`` indexes ``index`` (``other`` was made from ``geoms[index]``).
        """
        index = np.asarray(index, dtype=np.int64)
        drop = np.zeros(
            max(int(self.owner.max(initial=-1)), int(index.max(initial=-1))) + 1, dtype=bool
        )
        drop[index] = True
        kept = self.select(~drop)
        owner = np.r_[kept.owner, index[other.owner]]
        order = np.argsort(owner, kind="stable")
        merged = Rings(
            np.concatenate([kept.xy, other.xy]),
            np.r_[kept.counts, other.counts],
            owner,
            self.decimals,
        )
        return merged.take(order)

    def take(self, order: np.ndarray) -> Rings:
        """The rings in the order ``order`` (ring indices)."""
        offsets = self.offsets
        take = _ranges(offsets[:-1][order], offsets[1:][order])
        return Rings(self.xy[take], self.counts[order], self.owner[order], self.decimals)


def polygon_rings(
    geoms: np.ndarray, decimals: int = MERGED_DECIMALS, *, tolerance: float = 0.0
) -> Rings:
    """Every ring of the polygonal ``geoms`` (lon/lat), thinned and rounded for drawing.

    A positive ``tolerance`` (degrees) thins every ring with :func:`ring_keep` (so each keeps
    at least three vertices); coordinates are then rounded to ``decimals`` decimal degrees.
    """
    geoms = np.asarray(geoms, dtype=object)
    empty = Rings(
        np.zeros((0, 2), dtype=np.int64),
        np.zeros(0, dtype=np.int64),
        np.zeros(0, dtype=np.int64),
        decimals,
    )
    live = np.flatnonzero(~shapely.is_empty(geoms) & ~shapely.is_missing(geoms))
    if live.size == 0:
        return empty
    parts, part_owner = shapely.get_parts(geoms[live], return_index=True)
    keep = shapely.get_type_id(parts) == 3
    parts, part_owner = parts[keep], live[part_owner[keep]]
    if parts.size == 0:
        return empty
    _, coords, (ring_off, poly_off) = shapely.to_ragged_array(parts, include_z=False)
    ring_off = np.asarray(ring_off, dtype=np.int64)
    poly_off = np.asarray(poly_off, dtype=np.int64)
    # what np.diff computes; numpy's stubs type np.diff of an int64 array as timedelta64
    rings_per_part = poly_off[1:] - poly_off[:-1]
    owner = np.repeat(part_owner, rings_per_part)
    if tolerance > 0 and coords.shape[0]:
        kept = ring_keep(coords, ring_off[:-1], ring_off[1:], tolerance)
    else:
        kept = np.ones(coords.shape[0], dtype=bool)
    kept[ring_off[1:] - 1] = False  # the closing vertex
    counts = np.add.reduceat(kept.astype(np.int64), ring_off[:-1])
    xy = np.round(coords[kept] * 10.0**decimals).astype(np.int64)
    return Rings(xy, counts, owner.astype(np.int64), decimals)


def _morton(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Z-order key of 16-bit cell coordinates (nearby cells get nearby keys)."""

    def spread(v: np.ndarray) -> np.ndarray:
        v = v.astype(np.uint64) & np.uint64(0xFFFF)
        for shift, mask in ((8, 0x00FF00FF), (4, 0x0F0F0F0F), (2, 0x33333333), (1, 0x55555555)):
            v = (v | (v << np.uint64(shift))) & np.uint64(mask)
        return v

    return spread(x) | (spread(y) << np.uint64(1))


def spatial_order(rings: Rings) -> np.ndarray:
    """Ring indices in Z-order of their first vertex (ties keep their order): deterministic,
    and neighbouring rings follow each other, so chained deltas stay short."""
    if rings.counts.size == 0:
        return np.zeros(0, dtype=np.int64)
    first = rings.xy[rings.offsets[:-1]]
    low, high = first.min(axis=0), first.max(axis=0)
    cell = (first - low) * 65535 // np.maximum(high - low, 1)
    return np.argsort(_morton(cell[:, 0], cell[:, 1]), kind="stable")


def _chain(xy: np.ndarray) -> str:
    """Polyline text of ``(lat, lon)`` integer pairs, each relative to the one before."""
    if xy.shape[0] == 0:
        return ""
    q = xy[:, ::-1]
    delta = np.diff(q, axis=0, prepend=np.zeros((1, 2), dtype=np.int64))
    zigzag = _zigzag(delta.reshape(-1))
    return _encode_values(zigzag, _value_sizes(zigzag)).decode("ascii")


def _unsigned(values: np.ndarray) -> str:
    """Polyline text of non-negative integers (no zigzag: five bits a character)."""
    values = np.asarray(values, dtype=np.int64)
    if values.size == 0:
        return ""
    return _encode_values(values, _value_sizes(values)).decode("ascii")


def decode_unsigned(text: str) -> list[int]:
    """Decode :func:`encode_rings`'s counts and indices (used by tests)."""
    values, shift, result = [], 0, 0
    for char in text:
        byte = ord(char) - 63
        result |= (byte & 0x1F) << shift
        shift += 5
        if byte < 0x20:
            values.append(result)
            shift = result = 0
    return values


def encode_rings(
    rings: Rings, tolerance: float = 0.0, lod_factors: tuple[float, ...] = LOD_FACTORS
) -> dict:
    """Encode a merged layer's rings for the page's canvas renderer.

    Returns ``{"v": vertices, "c": counts, "l": levels}``: ``v`` holds every vertex as
    ``(lat, lon)`` polyline deltas chained from ring to ring (rings in Z-order, so the jump
    from one ring to the next is short), ``c`` the vertices of each ring (unsigned
    polyline values). Each level of ``l`` is a coarser level of detail, ``{"t": tolerance
    in degrees, "i": ring indices (unsigned deltas), "c": counts, "v": vertices}``, holding
    only the rings (spanning at least four tolerances) that it thins. The page draws the
    coarsest level whose tolerance is under a pixel at the zoom shown. All text uses
    ``?``-``~`` only.
    """
    order = spatial_order(rings)
    rings = rings.take(order)
    out: dict = {"v": _chain(rings.xy), "c": _unsigned(rings.counts), "l": []}
    if tolerance <= 0 or rings.counts.size == 0:
        return out
    scale = 10.0**rings.decimals
    offsets = rings.offsets
    starts = offsets[:-1]
    low = np.minimum.reduceat(rings.xy, starts, axis=0)
    high = np.maximum.reduceat(rings.xy, starts, axis=0)
    span = (high - low).max(axis=1) / scale
    for factor in lod_factors:
        level_tol = tolerance * factor
        big = np.flatnonzero((span >= _LOD_MIN_SPAN * level_tol) & (rings.counts > 3))
        if big.size == 0:
            continue
        sub = rings.take(big)
        closed_off = np.r_[0, np.cumsum(sub.counts + 1)]
        first = sub.offsets[:-1]
        closed = np.insert(sub.xy, np.r_[first[1:], sub.xy.shape[0]], sub.xy[first], axis=0) / scale
        keep = ring_keep(closed, closed_off[:-1], closed_off[1:], level_tol)
        keep[closed_off[1:] - 1] = False
        counts = np.add.reduceat(keep.astype(np.int64), closed_off[:-1])
        thinner = counts < sub.counts
        if not thinner.any():
            continue
        vertex = np.repeat(thinner, sub.counts + 1) & keep
        index = big[thinner]
        out["l"].append(
            {
                "t": round(level_tol, 9),
                "i": _unsigned(np.diff(index, prepend=0)),
                "c": _unsigned(counts[thinner]),
                "v": _chain(np.round(closed[vertex] * scale).astype(np.int64)),
            }
        )
    return out
