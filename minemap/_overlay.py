"""Vectorised polygon overlay on arrays of shapely geometries.

Everything here works on plain numpy arrays of shapely geometries in one planar frame
(usually the equal-area frame of :mod:`minemap.crs`) and never unions everything with
everything: an STRtree finds the few neighbours each polygon touches, and operations run
as shapely array functions over those pairs.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import numpy as np
import pandas as pd
import shapely

from minemap._workers import in_context, using_workers, worker_count

_R = TypeVar("_R")

#: Below this many pairs an operation runs in one thread; above it, in one chunk per worker.
PARALLEL_THRESHOLD = 4_000
#: :func:`parallel` and :func:`by_target` cut work into this many chunks per worker, so
#: that a worker whose chunk holds the costlier geometries does not leave others waiting.
SLICES_PER_WORKER = 4


def parallel(
    func: Callable[..., np.ndarray], *arrays: np.ndarray, weights: np.ndarray | None = None
) -> np.ndarray:
    """Apply a vectorised shapely function in chunks, one per worker thread.

    Shapely releases the GIL inside its array functions, so threads give real parallelism
    without copying geometries between processes. The number of threads is
    :func:`minemap._workers.worker_count`, each taking chunks (:data:`SLICES_PER_WORKER`
    per worker) as it finishes the last; with one worker (or few elements) ``func`` runs
    in the caller's thread and no pool is started. ``func`` must be element-wise (each
    output element depends on its own input elements only): the chunks are then joined
    in order and the result is the same, bit for bit, whatever the number of workers.

    Parameters
    ----------
    func : callable
        Element-wise function of equally long arrays, e.g. :func:`shapely.intersection`.
    *arrays : numpy.ndarray
        Its arguments.
    weights : numpy.ndarray, optional
        The cost of each element, where it varies: chunks are then cut to equal sums of
        it rather than to equal numbers of elements.

    Returns
    -------
    numpy.ndarray
        ``func(*arrays)``.
    """
    n = len(arrays[0])
    workers = min(worker_count(), n)
    if n < PARALLEL_THRESHOLD or workers <= 1:
        return func(*arrays)
    # a few chunks per worker: one that meets the costlier geometries (or a core that a
    # neighbour's work slows) does not leave the other workers waiting at the end
    chunks = min(SLICES_PER_WORKER * workers, n)
    if weights is None:
        bounds = np.linspace(0, n, chunks + 1).astype(int)
    else:
        total = np.cumsum(weights, dtype=float)
        cuts = np.searchsorted(total, np.linspace(0.0, total[-1], chunks + 1)[1:-1])
        bounds = np.unique(np.r_[0, cuts, n])  # a chunk may hold nothing: dropped
        chunks = bounds.size - 1

    def chunk(k: int) -> np.ndarray:
        # each thread gets copies, not views: see minemap._workers.private
        return func(*(a[bounds[k] : bounds[k + 1]].copy() for a in arrays))

    with ThreadPoolExecutor(workers) as pool:  # chunks see the caller's worker count
        parts = list(pool.map(in_context(chunk), range(chunks)))
    return np.concatenate(parts)


def valid(geoms: np.ndarray) -> np.ndarray:
    """Whether each geometry is valid, as :func:`shapely.is_valid` says (element-wise; a
    missing one is not), and safe in threads.

    ``shapely.is_valid`` silences GEOS's notices with ``warnings.catch_warnings``, which
    swaps the process's warning filters and is not thread-safe: two threads calling it at
    once (a read's chunks, an overlay beside another) can leave every later warning of the
    process silenced. ``is_valid_reason`` emits none, and is no slower.

    Examples
    --------
    >>> bowtie = shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])
    >>> valid(np.array([shapely.box(0, 0, 1, 1), bowtie, None], dtype=object)).tolist()
    [True, False, False]
    """
    return np.asarray(shapely.is_valid_reason(geoms) == "Valid Geometry", dtype=bool)


def same_polygon(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Whether each pair is the same geometry, vertex for vertex (element-wise).

    Examples
    --------
    >>> from shapely import box
    >>> same_polygon(np.array([box(0, 0, 1, 1)] * 2), np.array([box(0, 0, 1, 1), box(0, 0, 1, 2)]))
    array([ True, False])
    """
    return np.asarray(shapely.equals_exact(a, b, tolerance=0.0), dtype=bool)


def present(geoms: np.ndarray) -> np.ndarray:
    """Whether each geometry is there and not empty (element-wise).

    Examples
    --------
    >>> present(np.array([shapely.box(0, 0, 1, 1), shapely.Polygon(), None])).tolist()
    [True, False, False]
    """
    return ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))


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
    """``op(a, b)`` pairwise on all cores; a pair GEOS cannot overlay, or overlays into an
    invalid polygon, is overlaid again.

    Overlaid pieces can hold near-degenerate slivers that trip a TopologyException. The
    failing pairs are found by halving the arrays, then retried on valid copies and,
    failing that, on copies snapped to a grid of 1e-9 of their size (sub-millimetre for
    any real feature), so one bad pair never stops a whole computation and moves its area
    by far less than 1e-6.

    GEOS can also return an invalid polygon from two valid ones without an error: where
    edges meet at angles at the limits of floating point, a difference came back with a
    hole outside its shell and an area 1.4 % short (GEOS 3.14; found by fuzzing against
    exact arithmetic). Every result is checked, and such pairs are overlaid again by
    snap-rounding on a grid of :data:`SNAP_GRID` of their size, which gives valid
    polygons (their area moves by about that share).
    """
    out = _overlaid(op, a, b)
    invalid = np.flatnonzero(~parallel(valid, out))
    for k in invalid:
        out[k] = _snapped(op, a[k], b[k])
    return out


#: Grid of the snap-rounding overlay that replaces an invalid result, as a share of the
#: pair's size (:func:`robust`).
SNAP_GRID = 1e-12


def _overlaid(op: Callable[..., np.ndarray], a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """:func:`robust` without the check of the results."""
    try:
        return parallel(op, a, b)
    except shapely.errors.GEOSException:
        if len(a) > 64:
            half = len(a) // 2
            return np.concatenate(
                [_overlaid(op, a[:half], b[:half]), _overlaid(op, a[half:], b[half:])]
            )
        out = np.empty(len(a), dtype=object)
        for k in range(len(a)):
            try:
                out[k] = op(a[k], b[k])
            except shapely.errors.GEOSException:
                out[k] = _retry_repaired(op, a[k], b[k])
        return out


def _snapped(op: Callable[..., object], a: object, b: object) -> object:
    """``op(a, b)`` by snap-rounding on a grid of :data:`SNAP_GRID` of the pair's size."""
    try:
        return op(a, b, grid_size=_pair_grid(a, b, SNAP_GRID))
    except shapely.errors.GEOSException:
        return _retry_repaired(op, a, b)


def _retry_repaired(op: Callable[..., object], a: object, b: object) -> object:
    left, right = shapely.make_valid(a), shapely.make_valid(b)
    try:
        return op(left, right)
    except shapely.errors.GEOSException:
        grid = _pair_grid(left, right, 1e-9)
        return op(shapely.set_precision(left, grid), shapely.set_precision(right, grid))


def _pair_grid(a: object, b: object, share: float) -> float:
    """A grid of ``share`` of the larger side of the box ``a`` and ``b`` share."""
    bounds = shapely.total_bounds(np.array([a, b], dtype=object))
    return share * max(bounds[2] - bounds[0], bounds[3] - bounds[1], 1e-300)


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

    The targets are shared out between the workers (:func:`by_target`), each cutting its
    own in rounds: a target is cut by the same polygons in the same order whatever the
    number of workers, and the rounds that few targets reach (the last cuts of the most
    overlapped polygons) no longer run on one core while the others wait.

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
    targets = np.asarray(targets, dtype=object)
    out = targets.copy()
    if i.size == 0:
        return out

    def cut(k: np.ndarray, cutters: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return _subtract_rounds(targets, k, cutters)  # reads only, and each target once

    for touched, pieces in by_target(cut, i, others):  # written once all are done
        out[touched] = pieces
    return out


def _subtract_rounds(
    targets: np.ndarray, i: np.ndarray, others: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The targets ``i`` names (sorted) and each minus its pairs' polygons, in rounds."""
    touched = np.unique(i)
    k = np.searchsorted(touched, i)
    current = targets[touched].copy()
    rank, length = run_positions(i)
    heavy = length > HEAVY_TARGET
    if heavy.any():
        # many pieces to remove from one target (a polygon over a stack): their union once
        starts = np.flatnonzero(heavy & (rank == 0))
        unions = np.array(
            [shapely.union_all(others[s : s + length[s]]) for s in starts], dtype=object
        )
        current[k[starts]] = robust(shapely.difference, current[k[starts]], unions)
    light = ~heavy
    for r in range(int(rank[light].max()) + 1 if light.any() else 0):
        sel = light & (rank == r)
        current[k[sel]] = minus(current[k[sel]], others[sel])
    return touched, polygonal_parts(current)


def minus(targets: np.ndarray, cutters: np.ndarray) -> np.ndarray:
    """``targets − cutters`` pairwise; a cutter strictly inside its target is made a hole.

    A polygon lying in the interior of another, touching none of its rings (a confirmed
    area inside a suspected one), leaves a hole in it: the difference is the target with
    the cutter's ring added to its holes, which needs no overlay (a containment test costs
    a tenth of one). Only simple cases take this way (a Polygon target, a Polygon cutter
    without holes); the others are overlaid (:func:`robust`). The result is the same set,
    with the same vertices, as the overlay's; the hole runs against the shell, as GEOS
    writes them.

    Parameters
    ----------
    targets, cutters : numpy.ndarray
        Equally long arrays of polygonal geometries.

    Returns
    -------
    numpy.ndarray
        The differences.

    Examples
    --------
    >>> from shapely import box
    >>> targets = np.array([box(0, 0, 10, 10)] * 2)
    >>> cut = minus(targets, np.array([box(4, 4, 5, 5), box(8, 8, 12, 9)]))
    >>> [int(g.area) for g in cut], [len(g.interiors) for g in cut]
    ([99, 98], [1, 0])
    """
    targets = np.asarray(targets, dtype=object)
    cutters = np.asarray(cutters, dtype=object)
    simple = np.flatnonzero(
        (shapely.get_type_id(targets) == 3)
        & (shapely.get_type_id(cutters) == 3)
        & (shapely.get_num_interior_rings(cutters) == 0)
    )
    inside = np.zeros(targets.size, dtype=bool)
    inside[simple] = shapely.contains_properly(targets[simple], cutters[simple])
    out = np.empty(targets.size, dtype=object)
    h = np.flatnonzero(inside)
    if h.size:
        out[h] = _with_holes(targets[h], cutters[h])
    rest = np.flatnonzero(~inside)
    if rest.size:
        out[rest] = robust(shapely.difference, targets[rest], cutters[rest])
    return out


def _with_holes(targets: np.ndarray, cutters: np.ndarray) -> np.ndarray:
    """Each target polygon with its cutter's exterior ring added as one more hole."""
    rings, index = shapely.get_rings(targets, return_index=True)
    holes = shapely.get_exterior_ring(cutters)
    flip = shapely.is_ccw(holes) == shapely.is_ccw(shapely.get_exterior_ring(targets))
    holes[flip] = shapely.reverse(holes[flip])
    rings = np.concatenate([rings, holes])
    index = np.concatenate([index, np.arange(targets.size)])
    order = np.argsort(index, kind="stable")  # a target's shell, its holes, then the new one
    return shapely.polygons(rings[order], indices=index[order])


def target_slices(i: np.ndarray, parts: int) -> list[slice]:
    """At most ``parts`` slices of the grouped pair index ``i``, about equal in pairs, each
    cut where the target changes (all pairs of one target fall in one slice).

    Examples
    --------
    >>> target_slices(np.array([0, 0, 0, 1, 2, 2, 3, 3]), 2)
    [slice(0, 4, None), slice(4, 8, None)]
    """
    if i.size == 0:
        return []
    starts = np.r_[np.flatnonzero(i[1:] != i[:-1]) + 1, i.size]
    want = np.linspace(0, i.size, parts + 1)[1:-1]
    cuts = starts[np.searchsorted(starts, want)]
    edges = np.unique(np.r_[0, cuts, i.size])
    return [slice(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:], strict=True)]


def by_target(func: Callable[..., _R], i: np.ndarray, *arrays: np.ndarray) -> list[_R]:
    """``func(i, *arrays)`` on slices of the pairs that keep each target whole, on all workers.

    Work done target by target in several rounds (each round one shapely array call) runs
    on all cores only while a round holds many pairs; the last rounds, reached by a few
    targets, run on one. Here each worker takes whole targets and does all of their
    rounds, with one worker inside (no nested pools). ``func`` must treat each target on
    its own; the results, one per slice in pair order, are then the same whatever the
    number of workers.

    Parameters
    ----------
    func : callable
        Called as ``func(i[s], *(a[s] for a in arrays))`` for each slice ``s``.
    i : numpy.ndarray
        Target index of each pair, grouped by target.
    *arrays : numpy.ndarray
        Per-pair arrays sliced with ``i``.

    Returns
    -------
    list
        ``func``'s result for each slice, in order (one slice with one worker or few pairs).

    Examples
    --------
    >>> by_target(lambda i, v: int(v.sum()), np.array([0, 0, 1]), np.array([1, 2, 3]))
    [6]
    """
    workers = min(worker_count(), i.size)
    if workers <= 1 or i.size < PARALLEL_THRESHOLD:
        return [func(i, *arrays)]
    slices = target_slices(i, SLICES_PER_WORKER * workers)

    def run(s: slice) -> _R:
        with using_workers(1):
            return func(i[s], *(a[s] for a in arrays))

    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(run, slices))


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
    def boxes(chunk: np.ndarray, index: np.ndarray) -> np.ndarray:
        hit, j = tree.query(chunk)
        return np.column_stack([index[hit], j])

    pairs = parallel(boxes, left[order], order)
    i, j = pairs[:, 0], pairs[:, 1]
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
    bounds = parallel(shapely.bounds, np.asarray(geoms, dtype=object))
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
    live = parallel(present, geoms)
    # exact duplicates: the first copy in precedence order keeps the place
    ranked = order[live[order]]
    bounds = parallel(shapely.bounds, geoms)
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


def flatten_merged(geoms: np.ndarray, precedence: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Make polygons disjoint as :func:`flatten` does, with each stack merged by precedence.

    Where only the precedence of a place matters (which threat level or method holds it,
    not which polygon), a stack need not be cut into one sliver per polygon: the members of
    a stack sharing a precedence are unioned first, one polygon each, and those few are
    flattened with everything else. A stack shifted steadily in one direction costs about
    what as many distinct polygons cost, not thousands of nested slivers. Each place gets
    the same precedence as with :func:`flatten`; only which member carries it differs.

    Parameters
    ----------
    geoms : numpy.ndarray
        Polygonal shapely geometries in one planar frame.
    precedence : numpy.ndarray
        Sort key per geometry; lower wins. Geometries of equal precedence must be
        interchangeable for the caller (e.g. carry the same attributes).

    Returns
    -------
    tuple of numpy.ndarray
        ``(pieces, rows)``: non-empty, pairwise disjoint polygons whose union is the union
        of ``geoms``, and for each the index of the geometry it belongs to (a merged piece
        names its stack's first member of that precedence). Pieces outside stacks come
        first, those of :func:`flatten` in the order of their geometries (empty ones
        dropped), then the parts of merged pieces.

    Examples
    --------
    >>> from shapely import box
    >>> steps = np.array([box(k / 10, k / 10, 100 + k / 10, 100 + k / 10) for k in range(40)])
    >>> pieces, rows = flatten_merged(steps, np.arange(40) // 20)
    >>> rows.tolist(), round(float(shapely.area(pieces).sum()), 6)
    ([0, 20], 10779.61)
    """
    geoms = np.asarray(geoms, dtype=object)
    precedence = np.asarray(precedence)
    live = parallel(present, geoms)
    family = _stack_families(parallel(shapely.bounds, geoms), live)
    stacked = np.flatnonzero(family >= 0)
    if stacked.size == 0:
        pieces = flatten(geoms, precedence)
        rows = np.flatnonzero(~shapely.is_empty(pieces))
        return pieces[rows], rows
    groups = (
        pd.DataFrame({"family": family[stacked], "precedence": precedence[stacked]})
        .groupby(["family", "precedence"], sort=False)
        .indices
    )
    members = [stacked[m] for m in groups.values()]

    def union(m: np.ndarray) -> object:
        return shapely.union_all(geoms[m]) if m.size > 1 else geoms[m[0]]

    workers = min(worker_count(), len(members))
    if workers <= 1:
        unions = [union(m) for m in members]
    else:
        with ThreadPoolExecutor(workers) as pool:  # union_all releases the GIL
            unions = list(pool.map(union, members))
    single = np.flatnonzero(live & (family < 0))
    rows = np.concatenate([single, [m.min() for m in members]]).astype(np.intp)
    reduced = np.concatenate([geoms[single], np.array(unions, dtype=object)])
    merged = np.r_[np.zeros(single.size, dtype=bool), np.ones(len(members), dtype=bool)]
    order = np.argsort(rows, kind="stable")  # ties between equal precedences by position
    rows, reduced, merged = rows[order], reduced[order], merged[order]
    pieces = flatten(reduced, precedence[rows])
    # a merged piece can hold many parts far apart, and long staircases (two vertices per
    # step): small pieces of each, so later overlays stay local
    parts, index = shapely.get_parts(polygonal_parts(pieces[merged]), return_index=True)
    parts, tile = subdivide(parts)
    rows = np.concatenate([rows[~merged], rows[merged][index[tile]]])
    pieces = np.concatenate([pieces[~merged], parts])
    keep = ~shapely.is_empty(pieces)
    return pieces[keep], rows[keep]


#: :func:`subdivide` halves polygons until no piece has more vertices than this.
PIECE_VERTICES = 256


def subdivide(
    geoms: np.ndarray, max_vertices: int = PIECE_VERTICES
) -> tuple[np.ndarray, np.ndarray]:
    """Cut large polygons into pieces of at most ``max_vertices`` vertices each.

    Each polygon with more vertices is cut in two across the middle of its box's longer
    side, and so on. The pieces tile the polygon: no area is lost or counted twice, and
    each later overlay with a small polygon meets the few pieces near it instead of
    thousands of vertices (the union of a stack shifted steadily is a staircase with two
    vertices per step). Cuts are fast rectangle clips; a polygon whose pieces come out
    invalid, or do not add up to its area, is cut again with full intersections.

    Parameters
    ----------
    geoms : numpy.ndarray
        Polygonal shapely geometries.
    max_vertices : int, default :data:`PIECE_VERTICES`
        Largest number of vertices a piece keeps (a polygon cut 24 times over keeps the
        rest).

    Returns
    -------
    tuple of numpy.ndarray
        ``(pieces, index)``: polygons (small inputs unchanged) and the input each came from.

    Examples
    --------
    >>> steps = shapely.union_all([shapely.box(k, k, k + 100, k + 100) for k in range(200)])
    >>> pieces, index = subdivide(np.array([steps]))
    >>> int(shapely.get_num_coordinates(pieces).max()) <= 256, len(pieces) > 1
    (True, True)
    >>> round(float(shapely.area(pieces).sum() - steps.area), 6)
    0.0
    """
    geoms = np.asarray(geoms, dtype=object)
    large = shapely.get_num_coordinates(geoms) > max_vertices
    big, small = np.flatnonzero(large), np.flatnonzero(~large)
    if big.size == 0:
        return geoms.copy(), small
    pieces, index = _halves(geoms[big], max_vertices, _clip_fast)
    whole = shapely.area(geoms[big])
    bad = np.abs(np.bincount(index, shapely.area(pieces), big.size) - whole) > 1e-12 * whole
    bad[index[~valid(pieces)]] = True
    if bad.any():
        keep = ~bad[index]
        again, again_index = _halves(geoms[big[bad]], max_vertices, _clip_exact)
        pieces = np.concatenate([pieces[keep], again])
        index = np.concatenate([index[keep], np.flatnonzero(bad)[again_index]])
    return np.concatenate([geoms[small], pieces]), np.concatenate([small, big[index]])


def _halves(
    geoms: np.ndarray, max_vertices: int, clip: Callable[[np.ndarray, np.ndarray], np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Halve polygons by ``clip(geoms, boxes)`` until each piece is small enough."""
    todo, index = geoms, np.arange(geoms.size)
    done, done_index = [], []
    for _ in range(24):
        big = shapely.get_num_coordinates(todo) > max_vertices
        done.append(todo[~big])
        done_index.append(index[~big])
        todo, index = todo[big], index[big]
        if todo.size == 0:
            break
        x0, y0, x1, y1 = shapely.bounds(todo).T
        wide = x1 - x0 >= y1 - y0
        xm = np.where(wide, (x0 + x1) / 2.0, x1)
        ym = np.where(wide, y1, (y0 + y1) / 2.0)
        halves = np.concatenate(
            [
                np.column_stack([x0, y0, xm, ym]),
                np.column_stack([np.where(wide, xm, x0), np.where(wide, y0, ym), x1, y1]),
            ]
        )
        parts, k = shapely.get_parts(clip(np.r_[todo, todo], halves), return_index=True)
        keep = ~shapely.is_empty(parts)
        todo, index = parts[keep], np.r_[index, index][k[keep]]
    done.append(todo)
    done_index.append(index)
    return np.concatenate(done), np.concatenate(done_index)


def _clip_fast(geoms: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Polygonal parts of each geometry in its box, by GEOS's rectangle clip (linear in
    the vertices, but not sure to be valid)."""
    out = np.empty(geoms.size, dtype=object)
    for k, (geom, box) in enumerate(zip(geoms, boxes, strict=True)):
        out[k] = shapely.clip_by_rect(geom, *box)
    return polygonal_parts(out)


def _clip_exact(geoms: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Polygonal parts of each geometry in its box, by a full intersection."""
    return polygonal_parts(robust(shapely.intersection, geoms, shapely.box(*boxes.T)))


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
    good = valid(clipped)
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
    same = parallel(same_polygon, a, b)
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
    same = parallel(same_polygon, a, b)
    pieces[same] = a[same]
    rest = ~same
    pieces[rest] = polygonal_parts(robust(shapely.intersection, a[rest], b[rest]))
    keep = ~shapely.is_empty(pieces)
    return i[keep], j[keep], pieces[keep]
