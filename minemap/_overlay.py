"""Vectorised polygon overlay on arrays of shapely geometries.

Everything here works on plain numpy arrays of shapely geometries in one planar frame
(usually the equal-area frame of :mod:`minemap.crs`) and never unions everything with
everything: an STRtree finds the few neighbours each polygon touches, and operations run
as shapely array functions over those pairs.
"""

from __future__ import annotations

import contextlib
import gc
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import shapely

#: Below this many pairs an operation runs in one thread; above it, in one chunk per core.
PARALLEL_THRESHOLD = 4_000


def parallel(func: Callable[..., np.ndarray], *arrays: np.ndarray) -> np.ndarray:
    """Apply a vectorised shapely function in chunks on all cores.

    Shapely releases the GIL inside its array functions, so threads give real parallelism
    without copying geometries between processes.

    Parameters
    ----------
    func : callable
        Element-wise function of equally long arrays, e.g. :func:`shapely.intersection`.
    *arrays : numpy.ndarray
        Its arguments.

    Returns
    -------
    numpy.ndarray
        ``func(*arrays)``.
    """
    n = len(arrays[0])
    workers = min(os.cpu_count() or 1, 8)
    if n < PARALLEL_THRESHOLD or workers == 1:
        return func(*arrays)
    bounds = np.linspace(0, n, workers + 1).astype(int)
    with ThreadPoolExecutor(workers) as pool:
        parts = list(
            pool.map(
                lambda k: func(*(a[bounds[k] : bounds[k + 1]] for a in arrays)), range(workers)
            )
        )
    return np.concatenate(parts)


class gc_paused(contextlib.ContextDecorator):  # noqa: N801  (used like a function)
    """Pause Python's cyclic garbage collector for a computation, then restore it.

    Shapely geometries are tracked by the collector, and an overlay pass creates millions
    of them: every few thousand allocations the collector walks all live objects, which
    cost 10-20 % of a 100,000-hazard run. The geometry arrays hold no reference cycles, so
    nothing is lost by collecting afterwards. Usable as ``with gc_paused():`` or as a
    decorator; nesting is safe (only the outermost pause turns the collector back on).
    """

    def _recreate_cm(self) -> gc_paused:
        return type(self)()  # a fresh one per decorated call: calls may nest or overlap

    def __enter__(self) -> gc_paused:
        self._was_enabled = gc.isenabled()
        gc.disable()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._was_enabled:
            gc.enable()


_POLYGONAL = {"Polygon", "MultiPolygon"}


def robust(op: Callable[..., np.ndarray], a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``op(a, b)`` pairwise on all cores; a pair GEOS cannot overlay is retried.

    Overlaid pieces can hold near-degenerate slivers that trip a TopologyException. The
    failing pairs are found by halving the arrays, then retried on valid copies and,
    failing that, on copies snapped to a grid of 1e-9 of their size (sub-millimetre for
    any real feature), so one bad pair never stops a whole computation and moves its area
    by far less than 1e-6.
    """
    try:
        return parallel(op, a, b)
    except shapely.errors.GEOSException:
        if len(a) > 64:
            half = len(a) // 2
            return np.concatenate([robust(op, a[:half], b[:half]), robust(op, a[half:], b[half:])])
        out = np.empty(len(a), dtype=object)
        for k in range(len(a)):
            try:
                out[k] = op(a[k], b[k])
            except shapely.errors.GEOSException:
                out[k] = _retry_repaired(op, a[k], b[k])
        return out


def _retry_repaired(op: Callable[..., object], a: object, b: object) -> object:
    left, right = shapely.make_valid(a), shapely.make_valid(b)
    try:
        return op(left, right)
    except shapely.errors.GEOSException:
        bounds = shapely.total_bounds(np.array([left, right]))
        grid = 1e-9 * max(bounds[2] - bounds[0], bounds[3] - bounds[1], 1e-300)
        return op(shapely.set_precision(left, grid), shapely.set_precision(right, grid))


def run_positions(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Position of each item within its run of equal ``keys``, and the length of that run.

    Parameters
    ----------
    keys : numpy.ndarray
        Sorted (or at least grouped) keys, e.g. the target index of overlay pairs.

    Returns
    -------
    tuple of numpy.ndarray
        ``(position, run_length)`` per item.

    Examples
    --------
    >>> [a.tolist() for a in run_positions(np.array([4, 4, 7, 9, 9, 9]))]
    [[0, 1, 0, 0, 1, 2], [2, 2, 1, 3, 3, 3]]
    """
    keys = np.asarray(keys)
    if keys.size == 0:
        return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.intp)
    starts = np.r_[0, np.flatnonzero(keys[1:] != keys[:-1]) + 1]
    lengths = np.diff(np.r_[starts, keys.size])
    return np.arange(keys.size) - np.repeat(starts, lengths), np.repeat(lengths, lengths)


def subtract_pairs(targets: np.ndarray, i: np.ndarray, others: np.ndarray) -> np.ndarray:
    """``targets[i[k]] − others[k]`` for every pair, several per target, in array rounds.

    Parameters
    ----------
    targets : numpy.ndarray
        Polygons to cut (not modified).
    i : numpy.ndarray
        Index into ``targets`` of each pair, sorted by target (stable order within one).
    others : numpy.ndarray
        The polygon to subtract for each pair.

    Returns
    -------
    numpy.ndarray
        A copy of ``targets`` with every pair's polygon removed; touched targets are reduced
        to their polygon parts.
    """
    out = np.asarray(targets, dtype=object).copy()
    if i.size == 0:
        return out
    rank, length = run_positions(i)
    heavy = length > HEAVY_TARGET
    if heavy.any():
        # many pieces to remove from one target (a polygon over a stack): their union once
        starts = np.flatnonzero(heavy & (rank == 0))
        unions = np.array(
            [shapely.union_all(others[s : s + length[s]]) for s in starts], dtype=object
        )
        out[i[starts]] = robust(shapely.difference, out[i[starts]], unions)
    light = ~heavy
    for r in range(int(rank[light].max()) + 1 if light.any() else 0):
        sel = light & (rank == r)
        out[i[sel]] = robust(shapely.difference, out[i[sel]], others[sel])
    touched = np.unique(i)
    out[touched] = polygonal_parts(out[touched])
    return out


def polygonal_parts(geoms: np.ndarray) -> np.ndarray:
    """Keep only the polygon parts of each geometry.

    Overlay results can hold points, lines and empty collections where polygons touch;
    those carry no area and are dropped. Geometries that are already Polygon or
    MultiPolygon are returned unchanged.

    Parameters
    ----------
    geoms : numpy.ndarray
        Shapely geometries (``None`` allowed).

    Returns
    -------
    numpy.ndarray
        Polygon, MultiPolygon or empty polygon for each input, same length.
    """
    geoms = np.asarray(geoms, dtype=object)
    out = geoms.copy()
    type_ids = shapely.get_type_id(geoms)
    # 3 = Polygon, 6 = MultiPolygon; -1 = None
    odd = np.flatnonzero(~np.isin(type_ids, (3, 6)))
    if odd.size == 0:
        return out
    parts, index = shapely.get_parts(geoms[odd], return_index=True)
    keep = shapely.get_type_id(parts) == 3
    # nested collections: flatten once more
    nested = np.isin(shapely.get_type_id(parts), (6, 7))
    if nested.any():
        sub, sub_index = shapely.get_parts(parts[nested], return_index=True)
        sub_keep = shapely.get_type_id(sub) == 3
        parts = np.concatenate([parts[keep], sub[sub_keep]])
        index = np.concatenate([index[keep], index[nested][sub_index[sub_keep]]])
    else:
        parts, index = parts[keep], index[keep]
    rebuilt = np.full(odd.size, None, dtype=object)
    if parts.size:
        order = np.argsort(index, kind="stable")
        shapely.multipolygons(parts[order], indices=index[order], out=rebuilt)
        single = np.bincount(index, minlength=odd.size) == 1
        rebuilt[single] = shapely.get_geometry(rebuilt[single], 0)
    rebuilt[shapely.is_missing(rebuilt)] = shapely.Polygon()
    out[odd] = rebuilt
    return out


def intersecting_pairs(
    left: np.ndarray, right: np.ndarray, *, same: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs ``(i, j)`` where ``left[i]`` and ``right[j]`` intersect.

    Pairs that only touch are included (testing for them costs more than the empty
    overlays they lead to); pieces with no area are dropped downstream.

    Parameters
    ----------
    left, right : numpy.ndarray
        Polygonal shapely geometries in one frame.
    same : bool, default False
        ``left`` and ``right`` are the same array; self pairs are dropped.

    Returns
    -------
    tuple of numpy.ndarray
        Integer index arrays into ``left`` and ``right``.
    """
    if len(left) == 0 or len(right) == 0:
        return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.intp)
    tree = shapely.STRtree(right)
    # the tree is searched in space-filling-curve order of the left geometries: successive
    # searches walk the same branches, which stay in cache (about 20 % faster here)
    order = spatial_order(left)
    if not same:
        # the tree tests each left geometry (prepared once, privately per query) against
        # the right ones whose boxes it meets: cheaper than separate pair tests
        def query(chunk: np.ndarray, index: np.ndarray) -> np.ndarray:
            hit, j = tree.query(chunk, predicate="intersects")
            return np.column_stack([index[hit], j])

        pairs = parallel(query, left[order], order)
        back = np.argsort(pairs[:, 0], kind="stable")  # pairs by left index, as unsorted
        return pairs[back, 0].astype(np.intp), pairs[back, 1].astype(np.intp)
    # with itself: boxes first, then one exact test per unordered pair, on all cores
    hit, j = tree.query(left[order])
    i = order[hit]
    back = np.argsort(i, kind="stable")
    i, j = i[back], j[back]
    keep = i < j
    i, j = i[keep], j[keep]
    if i.size:
        meet = parallel(shapely.intersects, left[i], right[j])
        i, j = i[meet], j[meet]
    return (np.concatenate([i, j]).astype(np.intp), np.concatenate([j, i]).astype(np.intp))


def spatial_order(geoms: np.ndarray) -> np.ndarray:
    """A permutation of ``geoms`` along a Z-order (Morton) curve of their box centres.

    Tree searches made in this order touch neighbouring branches one after another, so the
    tree stays in the processor's caches. Empty geometries sort with the first cell.

    Parameters
    ----------
    geoms : numpy.ndarray
        Shapely geometries.

    Returns
    -------
    numpy.ndarray
        Indices into ``geoms``.

    Examples
    --------
    >>> from shapely import box
    >>> spatial_order(np.array([box(9, 9, 10, 10), box(0, 0, 1, 1), box(0, 9, 1, 10)])).tolist()
    [1, 2, 0]
    """
    bounds = shapely.bounds(np.asarray(geoms, dtype=object))
    x = (bounds[:, 0] + bounds[:, 2]) / 2.0
    y = (bounds[:, 1] + bounds[:, 3]) / 2.0
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() < 2:
        return np.arange(len(bounds))

    def cells(v: np.ndarray) -> np.ndarray:
        lo, hi = v[ok].min(), v[ok].max()
        out = np.zeros(len(v), dtype=np.uint64)
        out[ok] = ((v[ok] - lo) / ((hi - lo) or 1.0) * 65535.0).astype(np.uint64)
        return out

    def spread(v: np.ndarray) -> np.ndarray:  # bits b15..b0 -> b30 0 b28 0 ... b0
        for shift, mask in ((8, 0x00FF00FF), (4, 0x0F0F0F0F), (2, 0x33333333), (1, 0x55555555)):
            v = (v | (v << np.uint64(shift))) & np.uint64(mask)
        return v

    code = spread(cells(x)) | (spread(cells(y)) << np.uint64(1))
    code[~ok] = 0
    return np.argsort(code, kind="stable")


#: A cell (of the median feature size) holding more features than this is a stack: its
#: features are flattened by halves (:func:`_flatten_stack`), not pair by pair.
STACK_THRESHOLD = 32
#: Stacks are halved down to this many features, then flattened pair by pair.
STACK_BASE = 16
#: A target with more pieces to remove than this has them unioned first (one difference).
HEAVY_TARGET = 32


def flatten(geoms: np.ndarray, precedence: np.ndarray) -> np.ndarray:
    """Make polygons disjoint: each place goes to the polygon that comes first.

    ``piece[i] = geoms[i] − ∪ {geoms[j] : j comes before i and overlaps i}``, where
    "comes before" means a lower ``precedence`` value, ties broken by position. The
    pieces are pairwise disjoint and their union equals the union of ``geoms``.

    Ordinary layers (each polygon overlapping a few others) are cut pair by pair. Exact
    duplicates are dropped first (the first copy keeps the place), and stacks (many
    polygons over one spot, which pair by pair would cost the square of their number)
    are flattened by halves: the later half loses the union of the earlier half. Every
    way gives the same pieces.

    Parameters
    ----------
    geoms : numpy.ndarray
        Polygonal shapely geometries in one planar frame.
    precedence : numpy.ndarray
        Sort key per geometry; lower wins.

    Returns
    -------
    numpy.ndarray
        One (possibly empty) polygonal piece per input geometry.

    Examples
    --------
    >>> from shapely import box
    >>> pieces = flatten(np.array([box(0, 0, 2, 2), box(1, 0, 3, 2)]), np.array([1, 0]))
    >>> [p.area for p in pieces]
    [2.0, 4.0]
    """
    geoms = np.asarray(geoms, dtype=object)
    n = geoms.size
    order = np.lexsort((np.arange(n), np.asarray(precedence)))
    position = np.empty(n, dtype=np.intp)
    position[order] = np.arange(n)
    out = geoms.copy()
    live = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    # exact duplicates: the first copy in precedence order keeps the place
    ranked = order[live[order]]
    bounds = shapely.bounds(geoms)
    if ranked.size > 1:
        # only polygons with the same bounding box as another can be copies of it
        same_box = pd.DataFrame(bounds[ranked]).duplicated(keep=False).to_numpy()
        maybe = ranked[same_box]
        if maybe.size:
            copy = pd.Series(shapely.to_wkb(geoms[maybe])).duplicated().to_numpy()
            out[maybe[copy]] = shapely.Polygon()
            live[maybe[copy]] = False
    family = _stack_families(bounds, live)
    rest = np.flatnonzero(live & (family < 0))
    out[rest] = _flatten_pairs(geoms[rest], position[rest])
    stacks = np.unique(family[family >= 0])
    if stacks.size == 0:
        return out
    for f in stacks:
        members = np.flatnonzero(family == f)
        members = members[np.argsort(position[members], kind="stable")]
        out[members] = _flatten_stack(geoms[members])
    # between families: a piece loses the pieces of other families that come before it
    # (the union of a family's first k pieces is the union of its first k polygons)
    alive = live & ~shapely.is_empty(out)
    found = []
    for f in stacks:  # pieces of a stack against everything outside it (not inside it)
        mine = np.flatnonzero(alive & (family == f))
        other = np.flatnonzero(alive & (family != f))
        a, b = intersecting_pairs(out[mine], out[other])
        found += [np.column_stack([mine[a], other[b]]), np.column_stack([other[b], mine[a]])]
    pairs = np.unique(np.concatenate(found), axis=0)
    i, j = pairs[:, 0], pairs[:, 1]
    keep = position[j] < position[i]
    i, j = i[keep], j[keep]
    if i.size:
        sort = np.lexsort((position[j], i))
        i, j = i[sort], j[sort]
        out = subtract_pairs(out, i, out[j].copy())
    return out


def merge_stacks(geoms: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Within each stack, merge the disjoint pieces that share a key into one polygon each.

    Flattening a stack shifted steadily in one direction leaves thin nested slivers whose
    boxes all overlap: overlaying another layer with them piece by piece costs the square
    of their number, and each place is still counted once when the pieces sharing a key
    are merged (they are disjoint). With the flattening's precedence as key, the pieces of
    one key are the coverage of that key less the earlier ones: a few polygons. Pieces
    outside stacks (every piece of an ordinary layer) are returned unchanged, in their
    order, and without stacks the input arrays themselves are returned.

    Parameters
    ----------
    geoms : numpy.ndarray
        Pairwise disjoint polygonal pieces, e.g. from :func:`flatten`.
    keys : numpy.ndarray
        Integer key per piece (e.g. a release method); only pieces with equal keys merge.

    Returns
    -------
    tuple of numpy.ndarray
        ``(pieces, keys)``: the unchanged pieces first, then one polygon part per merged
        polygon, each with its key.

    Examples
    --------
    >>> from shapely import box
    >>> slivers = np.array([box(0, 0, 100 + k / 10, 100 + k / 10) for k in range(40)])
    >>> level = np.arange(40) // 20
    >>> merged, keys = merge_stacks(flatten(slivers, level), level)
    >>> keys.tolist(), round(float(shapely.area(merged).sum()), 6)
    ([0, 1], 10795.21)
    """
    geoms = np.asarray(geoms, dtype=object)
    keys = np.asarray(keys)
    live = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    family = _stack_families(shapely.bounds(geoms), live)
    stacked = family >= 0
    if not stacked.any():
        return geoms, keys
    rest = np.flatnonzero(~stacked)
    out, out_keys = [geoms[rest]], [keys[rest]]
    rows = np.flatnonzero(stacked)
    groups = (
        pd.DataFrame({"family": family[rows], "key": keys[rows]})
        .groupby(["family", "key"], sort=True)
        .indices
    )
    for (_, key), members in groups.items():
        union = polygonal_parts(np.array([shapely.union_all(geoms[rows[members]])], dtype=object))
        parts = shapely.get_parts(union)
        parts = parts[~shapely.is_empty(parts)]
        out.append(parts)
        out_keys.append(np.full(parts.size, key, dtype=keys.dtype))
    return np.concatenate(out), np.concatenate(out_keys)


def _stack_families(bounds: np.ndarray, live: np.ndarray) -> np.ndarray:
    """Stack number of each geometry (-1: not in a stack), from their bounding boxes.

    Box centres are put in cells the size of the median box diagonal; a cell holding more
    than :data:`STACK_THRESHOLD` of them is a stack. Ordinary layers have none. This only
    chooses how :func:`flatten` works, never what it gives.
    """
    family = np.full(len(bounds), -1, dtype=np.intp)
    rows = np.flatnonzero(live)
    if rows.size <= STACK_THRESHOLD:
        return family
    b = bounds[rows]
    cell = float(np.median(np.hypot(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1])))
    if not np.isfinite(cell) or cell <= 0:
        return family
    cx = np.floor((b[:, 0] + b[:, 2]) / 2.0 / cell)
    cy = np.floor((b[:, 1] + b[:, 3]) / 2.0 / cell)
    cx, cy = cx - cx.min(), cy - cy.min()
    key = cx * (cy.max() + 1.0) + cy  # exact in float64 for any real layer
    _, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    dense = counts[inverse] > STACK_THRESHOLD
    family[rows[dense]] = inverse[dense]
    return family


def _flatten_pairs(geoms: np.ndarray, position: np.ndarray) -> np.ndarray:
    """Flatten pair by pair: each polygon loses every earlier polygon it overlaps."""
    i, j = intersecting_pairs(geoms, geoms, same=True)
    earlier = position[j] < position[i]
    i, j = i[earlier], j[earlier]
    if i.size == 0:
        return geoms.copy()
    sort = np.lexsort((position[j], i))
    i, j = i[sort], j[sort]
    return subtract_pairs(geoms, i, geoms[j])


def _flatten_stack(geoms: np.ndarray) -> np.ndarray:
    """Flatten geometries given in precedence order by halves: the later half, flattened,
    loses the union of the earlier half, flattened (O(n log n) differences, not n²)."""
    n = len(geoms)
    if n <= STACK_BASE:
        return _flatten_pairs(geoms, np.arange(n))
    half = n // 2
    first, second = _flatten_stack(geoms[:half]), _flatten_stack(geoms[half:])
    taken = first[~shapely.is_empty(first)]
    if taken.size:
        union = shapely.union_all(taken)
        sel = np.flatnonzero(~shapely.is_empty(second))
        cutters = clip_to(np.full(sel.size, union, dtype=object), second[sel])
        meet = shapely.intersects(second[sel], cutters)  # tested on the clipped (small) union
        sel, cutters = sel[meet], cutters[meet]
        if sel.size:
            second[sel] = polygonal_parts(robust(shapely.difference, second[sel], cutters))
    return np.concatenate([first, second])


#: A cutter with more vertices than this is clipped to the box of what it cuts.
CLIP_VERTICES = 256


def clip_to(cutters: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Each large cutter clipped to a box slightly larger than its target's box.

    ``target − cutter`` equals ``target − (cutter ∩ box)`` for any box holding the target,
    but GEOS nodes every edge of the cutter (it clips only to a box a tenth larger than
    the inputs): a polygon cut by the union of a stack's thousands of steps costs their
    number, while the steps near it are few. The box is widened by a millionth of its size
    so no clipped edge runs along the target's edges; a clip that comes out invalid is not
    used. Small cutters are returned as they are.

    Parameters
    ----------
    cutters, targets : numpy.ndarray
        Equally long arrays of polygonal geometries.

    Returns
    -------
    numpy.ndarray
        Cutters to subtract from ``targets`` with the same result.

    Examples
    --------
    >>> from shapely import box
    >>> steps = shapely.union_all([box(k, k, k + 100, k + 100) for k in range(200)])
    >>> cut = clip_to(np.array([steps]), np.array([box(10, 10, 20, 20)]))
    >>> int(shapely.get_num_coordinates(steps)) > 500, shapely.get_num_coordinates(cut).tolist()
    (True, [5])
    """
    out = np.asarray(cutters, dtype=object).copy()
    big = np.flatnonzero(shapely.get_num_coordinates(out) > CLIP_VERTICES)
    if big.size == 0:
        return out
    b = shapely.bounds(np.asarray(targets, dtype=object)[big])
    ok = np.isfinite(b).all(axis=1)
    big, b = big[ok], b[ok]
    pad = 1e-6 * np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1])[:, None] + 1e-9
    b = b + pad * np.array([-1.0, -1.0, 1.0, 1.0])
    clipped = np.empty(big.size, dtype=object)
    for k, (cutter, box) in enumerate(zip(out[big], b, strict=True)):
        clipped[k] = shapely.clip_by_rect(cutter, *box)  # linear in the cutter's size
    good = shapely.is_valid(clipped)
    out[big[good]] = clipped[good]
    return out


def pairwise_intersection_area(
    left: np.ndarray, right: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Area shared by every overlapping pair of ``left`` and ``right`` polygons.

    Parameters
    ----------
    left, right : numpy.ndarray
        Polygonal shapely geometries in one planar, equal-area frame.

    Returns
    -------
    tuple of numpy.ndarray
        ``(i, j, area)``: indices into ``left`` and ``right`` and the shared area in the
        frame's squared units; pairs that share no area are dropped.
    """
    i, j = intersecting_pairs(left, right)
    if i.size == 0:
        return i, j, np.empty(0)
    a, b = left[i], right[j]
    area = np.empty(i.size)
    # identical polygons (a release recorded over a whole hazard) need no overlay
    same = shapely.equals_exact(a, b, tolerance=0.0)
    area[same] = shapely.area(a[same])
    rest = ~same
    area[rest] = shapely.area(polygonal_parts(robust(shapely.intersection, a[rest], b[rest])))
    keep = area > 0
    return i[keep], j[keep], area[keep]


def intersection_pieces(
    left: np.ndarray, right: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The polygonal intersection of every overlapping pair of ``left`` and ``right``.

    Returns
    -------
    tuple of numpy.ndarray
        ``(i, j, pieces)``: indices and the shared polygons; empty results are dropped.
    """
    i, j = intersecting_pairs(left, right)
    if i.size == 0:
        return i, j, np.empty(0, dtype=object)
    a, b = left[i], right[j]
    pieces = np.empty(i.size, dtype=object)
    # identical polygons (a release recorded over a whole hazard) need no overlay
    same = shapely.equals_exact(a, b, tolerance=0.0)
    pieces[same] = a[same]
    rest = ~same
    pieces[rest] = polygonal_parts(robust(shapely.intersection, a[rest], b[rest]))
    keep = ~shapely.is_empty(pieces)
    return i[keep], j[keep], pieces[keep]
