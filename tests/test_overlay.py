"""Tests of minemap._overlay: polygonal parts, pairs, precedence flattening, pair areas."""

from __future__ import annotations

import gc

import _oracle as oracle
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely import GeometryCollection, LineString, MultiPolygon, Point, Polygon, box

from minemap import _overlay
from minemap._overlay import flatten
from minemap._workers import using_workers, worker_count


def _arr(*geoms):
    return np.array(list(geoms), dtype=object)


# --------------------------------------------------------------------------- polygonal_parts


def test_polygonal_parts_keeps_polygons_drops_lines_and_points():
    mixed = GeometryCollection([box(0, 0, 1, 1), LineString([(0, 0), (5, 5)]), Point(3, 3)])
    two = GeometryCollection([box(0, 0, 1, 1), box(2, 0, 3, 1), Point(9, 9)])
    nested = GeometryCollection(
        [
            MultiPolygon([box(0, 0, 1, 1), box(2, 2, 3, 3)]),
            GeometryCollection([box(5, 5, 6, 6), Point(0, 0)]),
        ]
    )
    out = _overlay.polygonal_parts(_arr(mixed, two, nested, LineString([(0, 0), (1, 1)]), None))
    assert out[0].geom_type == "Polygon" and out[0].area == 1.0
    assert out[1].geom_type == "MultiPolygon" and out[1].area == 2.0
    assert out[2].area == pytest.approx(3.0)
    assert set(shapely.get_type_id(shapely.get_parts(out[2]))) == {3}
    assert out[3].geom_type == "Polygon" and out[3].is_empty
    assert out[4].geom_type == "Polygon" and out[4].is_empty


def test_polygonal_parts_returns_polygons_unchanged_and_does_not_modify_input():
    poly, multi = box(0, 0, 1, 1), MultiPolygon([box(0, 0, 1, 1), box(2, 2, 3, 3)])
    geoms = _arr(poly, multi, GeometryCollection([box(0, 0, 1, 1), Point(0, 0)]))
    out = _overlay.polygonal_parts(geoms)
    assert out[0] is poly and out[1] is multi
    assert geoms[2].geom_type == "GeometryCollection"


# --------------------------------------------------------------------------- intersecting_pairs


def test_intersecting_pairs_finds_every_overlap_without_self_pairs():
    geoms = _arr(box(0, 0, 2, 2), box(2, 0, 4, 2), box(1, 1, 3, 3), box(10, 10, 11, 11))
    i, j = _overlay.intersecting_pairs(geoms, geoms, same=True)
    pairs = set(zip(i.tolist(), j.tolist(), strict=True))
    assert {(0, 2), (2, 0), (1, 2), (2, 1)} <= pairs  # every pair sharing area
    assert not any(a == b for a, b in pairs)  # no self pairs
    assert not any(3 in pair for pair in pairs)  # far apart
    assert pairs == {(b, a) for a, b in pairs}  # symmetric
    # 0 and 1 only touch along x = 2: they may be listed, but they must share no area
    _, _, area = _overlay.pairwise_intersection_area(geoms[[0]], geoms[[1]])
    assert area.size == 0


def test_intersecting_pairs_empty_inputs():
    i, j = _overlay.intersecting_pairs(_arr(), _arr(box(0, 0, 1, 1)))
    assert i.size == 0 and j.size == 0


def test_intersecting_pairs_match_brute_force_in_left_order():
    """Enough geometries for the search to run in chunks, in space-filling-curve order: the
    pairs are exactly the intersecting ones, listed by left index."""
    rng = np.random.default_rng(5)
    xy = rng.uniform(0, 1000, (6000, 2))
    left = shapely.box(xy[:, 0], xy[:, 1], xy[:, 0] + 8, xy[:, 1] + 8)
    right = shapely.buffer(shapely.points(rng.uniform(0, 1000, (3000, 2))), 6)
    i, j = _overlay.intersecting_pairs(left, right)
    assert (np.diff(i) >= 0).all()
    ii, jj = shapely.STRtree(right).query(left, predicate="intersects")
    assert set(zip(i.tolist(), j.tolist(), strict=True)) == set(
        zip(ii.tolist(), jj.tolist(), strict=True)
    )
    si, sj = _overlay.intersecting_pairs(left, left, same=True)
    assert (np.diff(si[: len(si) // 2]) >= 0).all()
    expect = {
        (a, b)
        for a, b in zip(*shapely.STRtree(left).query(left, predicate="intersects"), strict=True)
        if a != b
    }
    assert set(zip(si.tolist(), sj.tolist(), strict=True)) == expect


def test_spatial_order_is_a_permutation_that_keeps_neighbours_together():
    rng = np.random.default_rng(2)
    cells = np.array([(x, y) for x in range(64) for y in range(64)], dtype=float)
    rng.shuffle(cells)
    geoms = shapely.box(cells[:, 0], cells[:, 1], cells[:, 0] + 1, cells[:, 1] + 1)
    geoms = np.concatenate([geoms, [Polygon(), None]])
    order = _overlay.spatial_order(geoms)
    assert sorted(order.tolist()) == list(range(len(geoms)))
    centres = cells[order[order < len(cells)]]
    steps = np.hypot(*np.diff(centres, axis=0).T)
    assert steps.mean() < 2.0  # shuffled, the mean step is ~30 cells
    assert _overlay.spatial_order(np.array([box(0, 0, 1, 1)])).tolist() == [0]


# --------------------------------------------------------------------------- flatten


def test_flatten_gives_each_place_to_the_lowest_precedence():
    geoms = _arr(box(0, 0, 2, 2), box(1, 0, 3, 2), box(0, 0, 3, 2))
    pieces = _overlay.flatten(geoms, np.array([2, 0, 1]))
    assert pieces[1].area == pytest.approx(4.0)  # precedence 0: whole
    assert pieces[2].area == pytest.approx(2.0)  # precedence 1: minus piece 1
    assert pieces[0].area == pytest.approx(0.0)  # precedence 2: nothing left


def test_flatten_ties_are_broken_by_position():
    geoms = _arr(box(0, 0, 2, 2), box(1, 0, 3, 2))
    pieces = _overlay.flatten(geoms, np.array([0, 0]))
    assert [p.area for p in pieces] == pytest.approx([4.0, 2.0])


def test_flatten_pieces_are_disjoint_and_cover_the_union():
    rng = np.random.default_rng(7)
    xy = rng.uniform(0, 10, size=(25, 2))
    size = rng.uniform(0.5, 4, size=(25, 2))
    geoms = _arr(*[box(x, y, x + w, y + h) for (x, y), (w, h) in zip(xy, size, strict=True)])
    prec = rng.integers(0, 3, size=25)
    pieces = _overlay.flatten(geoms, prec)
    total = sum(p.area for p in pieces)
    assert total == pytest.approx(shapely.union_all(geoms).area, rel=1e-9)
    for a in range(25):
        for b in range(a + 1, 25):
            assert shapely.intersection(pieces[a], pieces[b]).area < 1e-9
    # each piece lies inside its own polygon
    for p, g in zip(pieces, geoms, strict=True):
        assert shapely.difference(p, g).area < 1e-9


def test_flatten_does_not_modify_input():
    geoms = _arr(box(0, 0, 2, 2), box(1, 0, 3, 2))
    before = [g.wkb for g in geoms]
    _overlay.flatten(geoms, np.array([1, 0]))
    assert [g.wkb for g in geoms] == before


def test_flatten_keeps_only_polygonal_pieces():
    # piece 1 minus piece 0 leaves a polygon plus nothing else (no stray lines)
    geoms = _arr(box(0, 0, 2, 2), Polygon([(2, 0), (4, 0), (4, 2), (2, 2), (1, 1)]))
    pieces = _overlay.flatten(geoms, np.array([0, 1]))
    assert set(shapely.get_type_id(shapely.get_parts(pieces[1]))) <= {3}
    assert pieces[1].area == pytest.approx(4.0)  # 5 m² minus the 1 m² triangle inside 0


# --------------------------------------------------------------------------- pair areas


def test_pairwise_intersection_area_containment_cover_and_partial():
    left = _arr(box(0, 0, 1, 1), box(10, 0, 20, 10), box(30, 0, 32, 2), box(50, 0, 51, 1))
    right = _arr(box(-1, -1, 5, 5), box(12, 2, 14, 4), box(31, 0, 33, 2), box(51, 0, 52, 1))
    i, j, area = _overlay.pairwise_intersection_area(left, right)
    got = {(a, b): v for a, b, v in zip(i.tolist(), j.tolist(), area.tolist(), strict=True)}
    assert got == pytest.approx({(0, 0): 1.0, (1, 1): 4.0, (2, 2): 2.0})  # 3 only touches


def test_pairwise_intersection_area_none():
    i, j, area = _overlay.pairwise_intersection_area(_arr(box(0, 0, 1, 1)), _arr(box(5, 5, 6, 6)))
    assert i.size == j.size == area.size == 0


def test_intersection_pieces():
    left = _arr(box(0, 0, 2, 2), box(5, 5, 6, 6))
    right = _arr(box(1, 1, 3, 3), box(2, 0, 3, 1))
    i, j, pieces = _overlay.intersection_pieces(left, right)
    assert i.tolist() == [0] and j.tolist() == [0]
    assert pieces[0].area == pytest.approx(1.0)


def test_gc_paused_restores_the_collector_when_nested_raising_or_decorating():
    assert gc.isenabled()
    with _overlay.gc_paused():
        assert not gc.isenabled()
        with _overlay.gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # only the outermost pause turns it back on
    assert gc.isenabled()

    @_overlay.gc_paused()
    def nested(depth: int) -> int:
        assert not gc.isenabled()
        return depth if depth == 0 else nested(depth - 1)

    assert nested(3) == 0 and gc.isenabled()
    with pytest.raises(ValueError), _overlay.gc_paused():
        raise ValueError
    assert gc.isenabled()


def test_gc_paused_leaves_a_disabled_collector_disabled():
    gc.disable()
    try:
        with _overlay.gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


# --------------------------------------------------------------------------- stacks


def _stack(n, *, jitter, seed=0):
    rng = np.random.default_rng(seed)
    shift = rng.uniform(-jitter, jitter, (n, 2)) if jitter else np.zeros((n, 2))
    return np.array([box(10 + a, 10 + b, 20 + a, 20 + b) for a, b in shift], dtype=object)


def _assert_same_pieces(got, expected):
    for g, e in zip(got, expected, strict=True):
        assert shapely.area(g) == pytest.approx(shapely.area(e), rel=1e-9, abs=1e-9)
        assert shapely.area(shapely.symmetric_difference(g, e)) < 1e-9


@pytest.mark.parametrize("jitter", [0.0, 0.3])
def test_flatten_a_stack_with_neighbours_matches_one_by_one_differences(jitter):
    # a stack of 120 (identical or slightly shifted) among ordinary polygons, one of them
    # over the whole stack: every way of flattening gives the oracle's pieces
    stack = _stack(120, jitter=jitter)
    around = np.array(
        [box(5, 5, 12, 12), box(19, 19, 25, 25), box(0, 0, 30, 30), box(40, 40, 41, 41)],
        dtype=object,
    )
    geoms = np.concatenate([stack, around, stack[:5]])  # exact copies at the end too
    rng = np.random.default_rng(1)
    precedence = rng.integers(0, 3, len(geoms))
    got = flatten(geoms, precedence)
    _assert_same_pieces(got, oracle.flatten(list(geoms), list(precedence)))
    assert shapely.area(got).sum() == pytest.approx(shapely.union_all(geoms).area)


def test_flatten_identical_copies_keep_the_first_by_precedence_then_position():
    geoms = _stack(50, jitter=0.0)
    precedence = np.full(50, 2)
    precedence[[7, 30]] = 0
    got = flatten(geoms, precedence)
    assert shapely.area(got[7]) == pytest.approx(100.0)
    assert np.flatnonzero(shapely.area(got) > 0).tolist() == [7]


@settings(max_examples=15, deadline=None)
@given(st.integers(40, 90), st.sampled_from([0.0, 0.05, 2.0]), st.integers(0, 10_000))
def test_flatten_stacks_property(n, jitter, seed):
    geoms = _stack(n, jitter=jitter, seed=seed)
    precedence = np.random.default_rng(seed).integers(0, 3, n)
    got = flatten(geoms, precedence)
    _assert_same_pieces(got, oracle.flatten(list(geoms), list(precedence)))


def test_flatten_merged_gives_each_place_the_precedence_flatten_gives():
    # a steadily shifted stack (copy k moved by k/20 up and right) among neighbours
    steps = np.array([box(10 + k / 20, 10 + k / 20, 20 + k / 20, 20 + k / 20) for k in range(90)])
    around = _arr(
        box(5, 5, 12, 12), box(-30, -30, 40, 40), box(50, 50, 51, 51), box(27, 27, 30, 30)
    )
    geoms = np.concatenate([steps, around])
    precedence = np.random.default_rng(4).integers(0, 3, len(geoms))
    pieces, rows = _overlay.flatten_merged(geoms, precedence)
    expected = oracle.flatten(list(geoms), list(precedence))
    assert not shapely.is_empty(pieces).any()
    assert shapely.area(pieces).sum() == pytest.approx(shapely.union_all(geoms).area, rel=1e-12)
    assert shapely.union_all(pieces).area == pytest.approx(shapely.union_all(geoms).area)
    for p in range(3):
        got = shapely.union_all(pieces[precedence[rows] == p])
        want = shapely.union_all([e for e, q in zip(expected, precedence, strict=True) if q == p])
        assert got.area == pytest.approx(want.area, rel=1e-9)
        assert shapely.symmetric_difference(got, want).area < 1e-9
    # the stack's members merged into a few pieces; the pieces apart are flatten's own
    assert len(pieces) < 30
    apart = rows >= 90
    assert sorted(rows[apart].tolist()) == [
        k for k in range(90, 94) if shapely.area(expected[k]) > 0
    ]
    for piece, row in zip(pieces[apart], rows[apart], strict=True):
        assert shapely.symmetric_difference(piece, expected[row]).area < 1e-9


def test_flatten_merged_without_stacks_is_flatten():
    geoms = _arr(box(0, 0, 2, 2), box(1, 0, 3, 2), box(0, 0, 1, 1), Polygon())
    pieces, rows = _overlay.flatten_merged(geoms, np.array([1, 0, 0, 0]))
    assert rows.tolist() == [0, 1, 2]
    assert shapely.area(pieces).tolist() == pytest.approx([1.0, 4.0, 1.0])


@settings(max_examples=15, deadline=None)
@given(st.integers(40, 90), st.sampled_from([0.0, 0.05, 2.0]), st.integers(0, 10_000))
def test_flatten_merged_stacks_property(n, jitter, seed):
    # identical, jittered and nested stacks: the region of each precedence is the
    # oracle's, the pieces are disjoint and none has more than PIECE_VERTICES vertices
    geoms = _stack(n, jitter=jitter, seed=seed)
    if seed % 2:  # nested instead: each box shrinks towards the top right corner
        step = jitter / 20
        geoms = np.array([box(10 + k * step, 10 + k * step, 20, 20) for k in range(n)])
    precedence = np.random.default_rng(seed).integers(0, 3, n)
    pieces, rows = _overlay.flatten_merged(geoms, precedence)
    expected = oracle.flatten(list(geoms), list(precedence))
    assert shapely.area(pieces).sum() == pytest.approx(shapely.union_all(geoms).area, rel=1e-9)
    assert shapely.get_num_coordinates(pieces).max() <= _overlay.PIECE_VERTICES
    for p in range(3):
        got = shapely.union_all(pieces[precedence[rows] == p])
        want = shapely.union_all([e for e, q in zip(expected, precedence, strict=True) if q == p])
        assert shapely.symmetric_difference(got, want).area < 1e-9


def test_flatten_merged_of_nothing():
    pieces, rows = _overlay.flatten_merged(np.empty(0, dtype=object), np.empty(0, dtype=int))
    assert pieces.size == rows.size == 0


# --------------------------------------------------------------------------- by target


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(1, 6), min_size=1, max_size=40), st.integers(1, 9))
def test_target_slices_cover_the_pairs_in_order_and_keep_each_target_whole(runs, parts):
    i = np.repeat(np.arange(len(runs)), runs)
    slices = _overlay.target_slices(i, parts)
    assert 1 <= len(slices) <= parts
    assert np.concatenate([i[s] for s in slices]).tolist() == i.tolist()
    for a, b in zip(slices[:-1], slices[1:], strict=False):
        assert a.stop == b.start and i[a.stop - 1] != i[b.start]


def _crowd(n, seed):
    rng = np.random.default_rng(seed)
    corner = rng.uniform(0, 30, (n, 2))
    size = rng.uniform(2, 9, (n, 2))
    return np.array(
        [shapely.box(x, y, x + w, y + h) for (x, y), (w, h) in zip(corner, size, strict=True)],
        dtype=object,
    )


@settings(max_examples=10, deadline=None)
@given(st.integers(20, 80), st.integers(0, 10_000))
def test_subtract_pairs_is_the_same_to_the_bit_whatever_the_workers(n, seed):
    geoms = _crowd(n, seed)
    i, j = _overlay.intersecting_pairs(geoms, geoms, same=True)
    keep = j < i
    i, j = i[keep], j[keep]
    order = np.lexsort((j, i))
    i, j = i[order], j[order]
    results = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_overlay, "PARALLEL_THRESHOLD", 2)  # cut even these few pairs in slices
        for workers in (1, 2, 3):
            with using_workers(workers):
                cut = _overlay.subtract_pairs(geoms, i, geoms[j])
            results[workers] = shapely.to_wkb(cut).tolist()
    assert results[1] == results[2] == results[3]
    expected = [
        shapely.difference(g, shapely.union_all(geoms[j[i == k]])) for k, g in enumerate(geoms)
    ]
    got = shapely.from_wkb(results[2])
    assert shapely.area(got) == pytest.approx(shapely.area(expected), rel=1e-9, abs=1e-9)


def test_by_target_gives_each_slice_whole_targets_in_order_on_one_worker_each(monkeypatch):
    monkeypatch.setattr(_overlay, "PARALLEL_THRESHOLD", 2)
    i = np.repeat(np.arange(30), 3)
    with using_workers(3):
        parts = _overlay.by_target(lambda k, v: (k.copy(), v.sum(), worker_count()), i, i * 2)
    assert len(parts) > 3  # several slices per worker
    assert np.concatenate([k for k, _, _ in parts]).tolist() == i.tolist()
    assert sum(total for _, total, _ in parts) == 2 * i.sum()
    assert {count for _, _, count in parts} == {1}  # no pools inside a worker
    with using_workers(1):
        assert len(_overlay.by_target(lambda k: k, i)) == 1


@settings(max_examples=25, deadline=None)
@given(st.integers(5, 40), st.integers(0, 10_000))
def test_minus_equals_the_overlay_and_makes_holes_of_cutters_inside(n, seed):
    rng = np.random.default_rng(seed)
    targets = _crowd(n, seed)
    # cutters: some strictly inside their target (holes), some crossing it, some outside,
    # some with holes of their own, and targets already holding a hole
    x0, y0, x1, y1 = shapely.bounds(targets).T
    t = rng.uniform(0.1, 0.4, (n, 2))
    inner = shapely.box(x0 + t[:, 0], y0 + t[:, 1], x1 - t[:, 1], y1 - t[:, 0])
    crossing = shapely.box(x0 - 1, y0 + 0.5, x0 + 1, y1 - 0.5)
    holed = shapely.difference(inner, shapely.buffer(shapely.centroid(inner), 0.05))
    kind = rng.integers(0, 4, n)
    cutters = np.where(
        kind == 0, inner, np.where(kind == 1, crossing, np.where(kind == 2, holed, targets[::-1]))
    )
    corner = shapely.get_point(shapely.get_exterior_ring(targets), 0)
    targets = np.where(
        (rng.random(n) < 0.5) & (kind != 0),
        shapely.difference(targets, shapely.buffer(corner, 0.3)),
        targets,
    )
    got = _overlay.minus(targets, cutters)
    want = shapely.difference(targets, cutters)
    assert shapely.is_valid(got).all()
    assert shapely.area(got) == pytest.approx(shapely.area(want), rel=1e-12, abs=1e-12)
    assert (shapely.area(shapely.symmetric_difference(got, want)) < 1e-9).all()
    holes = shapely.get_num_interior_rings(got) > shapely.get_num_interior_rings(targets)
    assert (holes[kind == 0]).all()  # each cutter strictly inside became a hole


def test_minus_keeps_the_holes_a_target_has():
    target = shapely.difference(box(0, 0, 10, 10), box(1, 1, 2, 2))
    (got,) = _overlay.minus(_arr(target), _arr(box(5, 5, 6, 7)))
    assert len(got.interiors) == 2 and got.area == pytest.approx(97.0)
    assert got.equals(shapely.difference(target, box(5, 5, 6, 7)))
    # as GEOS writes them: holes run against the shell
    assert {ring.is_ccw for ring in got.interiors} == {not got.exterior.is_ccw}


# A difference GEOS 3.14 overlays into an invalid polygon (a hole outside its shell, 1.4 %
# of the area missing): the release piece B shares an edge of A from outside, its
# vertices a hair off A's edge (found by fuzzing against exact rational arithmetic).
_A_WKB = (
    "0103000000010000000A0000004F1BE8B4814E5B3FDBD733847B0FC23F411E258C5785723FD71E604B535AC2"
    "3F01EA3515A879733F53B09050AC5EC23F8283DC9E018D743FF68589E17260C23F15F6482770A4753F902549"
    "7F7A5FC23FC557116299A4763F807B137ADB5BC23FE9F43C276A74773FE0972B90F055C23FEFF43C276A7477"
    "3FE0972B90F055C23F4F1BE8B4814E5B3FEC51B81E85EBC13F4F1BE8B4814E5B3FDBD733847B0FC23F"
)
_B_WKB = (
    "01030000000100000005000000E263F30F547B773F8A77146DAB55C23F1DD7C157296A5B3F9631A1FB3FEBC1"
    "3F501BE8B4814E5B3FEC51B81E85EBC13FEFF43C276A74773FE0972B90F055C23FE263F30F547B773F8A7714"
    "6DAB55C23F"
)


def test_robust_overlays_again_a_pair_geos_makes_invalid():
    a, b = shapely.from_wkb(_A_WKB), shapely.from_wkb(_B_WKB)
    assert a.is_valid and b.is_valid
    out = _overlay.robust(shapely.difference, np.array([a]), np.array([b]))[0]
    assert out.is_valid
    # B lies outside A (snap-rounding at a fine grid agrees): A is left whole
    assert out.area == pytest.approx(a.area, rel=1e-9)
    assert out.area == pytest.approx(shapely.difference(a, b, grid_size=1e-16).area, rel=1e-9)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(*[st.integers(0, 20)] * 4), min_size=1, max_size=30))
def test_robust_gives_geos_own_result_where_it_is_valid(corners):
    boxes = [box(min(a, c), min(b, d), max(a, c) + 1, max(b, d) + 1) for a, b, c, d in corners]
    a = np.array(boxes, dtype=object)
    b = np.roll(a, 1)
    for op in (shapely.intersection, shapely.difference):
        got = _overlay.robust(op, a, b)
        assert shapely.to_wkb(got).tolist() == shapely.to_wkb(op(a, b)).tolist()


def test_valid_says_what_shapely_says_without_touching_the_warning_filters(monkeypatch):
    """shapely.is_valid swaps the process's warning filters (warnings.catch_warnings), which
    two threads at once can leave silencing every later warning: a command then lost its
    own warnings now and then. _overlay.valid must not touch them."""
    import warnings

    bowtie = Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])
    geoms = np.array([box(0, 0, 1, 1), bowtie, None, Polygon(), LineString([(0, 0), (1, 1)])])
    expected = shapely.is_valid(geoms).tolist()

    def refuse(*args, **kwargs):
        raise AssertionError("warnings.catch_warnings is not thread-safe")

    monkeypatch.setattr(warnings, "catch_warnings", refuse)
    assert _overlay.valid(geoms).tolist() == expected


def test_no_module_calls_shapely_is_valid():
    """Every validity check goes through _overlay.valid (see the test above)."""
    from pathlib import Path

    import minemap

    root = Path(minemap.__file__).parent
    callers = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if "shapely.is_valid(" in path.read_text(encoding="utf-8")
        or "parallel(shapely.is_valid" in path.read_text(encoding="utf-8")
    ]
    assert callers == []
