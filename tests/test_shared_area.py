"""Tests for minemap._shared_area: shared area measured from the boundaries alone.

Every decided pair is checked against GEOS's overlay (``shapely.intersection``, then
its area and centroid), an independent computation; undecided pairs must be exactly
those not in general position.
"""

from __future__ import annotations

import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest
import shapely
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from shapely import box

from minemap import _shared_area
from minemap._shared_area import FlatRings, shared_area_moments
from minemap._workers import using_workers

pytestmark = pytest.mark.skipif(
    not _shared_area.available(), reason="the compiled loop needs numba (the fast extra)"
)


def _overlay(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    shared = shapely.intersection(a, b)
    area = shapely.area(shared)
    centre = shapely.get_coordinates(shapely.centroid(shared[area > 0]))
    x, y = np.zeros(area.size), np.zeros(area.size)
    x[area > 0], y[area > 0] = centre[:, 0], centre[:, 1]
    return area, x, y


def _check(a: list, b: list, *, decided: bool | None = True) -> np.ndarray:
    """Measure pairs (a[k], b[k]) and compare every decided one with GEOS."""
    left = np.array(a, dtype=object)
    right = np.array(b, dtype=object)
    k = np.arange(len(a))
    area, cx, cy, ok = shared_area_moments(left, right, k, k)
    if decided is not None:
        assert ok.tolist() == [decided] * len(a)
    expected, ex, ey = _overlay(left[ok], right[ok])
    scale = np.maximum(shapely.area(left[ok]), shapely.area(right[ok]))
    np.testing.assert_allclose(area[ok], expected, rtol=0, atol=1e-10 * scale.max(initial=1))
    # the first moments (area × centroid), which the loop integrates: a centroid divides
    # them by the area, and for a sliver a millionth of the polygons that magnifies the
    # rounding of both ways (crossings of edges nearly in line) beyond any fixed tolerance
    some = expected > 0
    extent = np.sqrt(scale[some])
    for mine, theirs in ((cx, ex), (cy, ey)):
        moment, reference = area[ok][some] * mine[ok][some], expected[some] * theirs[some]
        bound = 1e-10 * scale[some] * (extent + np.abs(theirs[some])) + 1e-15
        np.testing.assert_array_less(np.abs(moment - reference), bound)
    return area


def _star(cx: float, cy: float, radii: list[float], turn: float = 0.0) -> shapely.Polygon:
    angles = turn + np.linspace(0, 2 * np.pi, len(radii), endpoint=False)
    r = np.asarray(radii)
    return shapely.Polygon(np.column_stack([cx + r * np.cos(angles), cy + r * np.sin(angles)]))


def test_overlapping_squares_share_their_corner() -> None:
    area = _check([box(0, 0, 2, 2), box(0, 0, 2, 2)], [box(1.5, 0.5, 4, 3), box(1, 1, 3, 3)])
    assert area.tolist() == pytest.approx([0.75, 1.0], rel=1e-12)


def test_a_polygon_inside_the_other_is_shared_whole_and_a_far_one_not_at_all() -> None:
    inner = _star(5, 5, [1, 1.5, 1.2, 0.8, 1.4])
    area = _check(
        [box(0, 0, 10, 10), inner, box(0, 0, 1, 1), box(0, 0, 4, 4)],
        [inner, box(0, 0, 10, 10), box(3, 3, 4, 4.5), _star(3.9, 3.85, [5, 0.1, 0.1, 0.1])],
    )
    assert area[0] == area[1] == pytest.approx(inner.area, rel=1e-12)
    assert area[2] == 0.0


def test_holes_and_either_ring_orientation() -> None:
    holed = shapely.Polygon(
        [(0, 0), (10, 0), (10, 10), (0, 10)], [[(3, 3), (7, 3), (7, 7), (3, 7)]]
    )
    cutter = _star(6.1, 5.3, [4.7, 3.1, 5.2, 2.9, 4.4, 3.3])
    in_hole = box(3.5, 3.5, 6.5, 6.5)
    reversed_rings = shapely.orient_polygons(holed, exterior_cw=True)
    _check([holed, holed, reversed_rings, holed], [cutter, in_hole, cutter, box(2, 2.5, 8, 9)])
    area = _check([holed], [in_hole])
    assert area[0] == 0.0


def test_multipolygons_are_measured_part_by_part() -> None:
    parts = shapely.MultiPolygon([box(0, 0, 1, 1), box(2, 0, 3, 1), _star(5, 0.5, [0.7] * 9)])
    across = box(0.5, 0.25, 4.7, 0.75)
    area = _check([parts, across], [across, parts])
    assert area[0] == area[1]


@pytest.mark.parametrize(
    "other",
    [
        box(0, 0, 2, 2),  # the same polygon
        box(2, 0, 4, 2),  # a shared edge, nothing shared
        box(1, 0, 3, 2),  # edges along each other
        shapely.Polygon([(2, 1), (3, 0), (3, 3), (1, 3)]),  # a vertex on the other's edge
        shapely.Polygon([(2, 2), (3, 2), (3, 3)]),  # touching at one point
        shapely.Polygon([(1, -1), (3, 1), (1, 3), (-1, 1)]),  # vertices on the other's edges
    ],
)
def test_pairs_not_in_general_position_are_left_to_the_overlay(other: shapely.Polygon) -> None:
    square = np.array([box(0, 0, 2, 2)], dtype=object)
    *_, decided = shared_area_moments(square, np.array([other]), np.array([0]), np.array([0]))
    assert not decided[0]


def test_a_vertex_a_hair_off_the_other_edge_is_left_to_the_overlay() -> None:
    square = box(0, 0, 2, 2)
    hair = shapely.Polygon([(1, 2 + 1e-12), (3, 3), (1, 4)])  # a vertex 1e-12 above
    *_, decided = shared_area_moments(
        np.array([square]), np.array([hair]), np.array([0]), np.array([0])
    )
    assert not decided[0]
    _check([square], [shapely.Polygon([(1, 2 + 1e-6), (3, 3), (1, 4)])])


def test_a_vertex_on_the_line_of_an_edge_but_beyond_it_is_decided() -> None:
    """A vertex exactly on the line through the other's edge, past its end, is far from the
    other polygon: the pair is measured, and measured right."""
    square = box(0, 0, 2, 2)
    beyond = shapely.Polygon([(3, 0), (1, 1), (1.5, -1)])  # (3, 0) on y = 0, past (2, 0)
    area = _check([square], [beyond])
    assert area[0] > 0


def test_edges_meeting_nearly_in_line_are_left_to_the_overlay() -> None:
    """An end of each edge on the other's line, the two edges end to end: neither side is
    reliable there, so the pair is undecided (unless GEOS agrees with a decision)."""
    square = box(0, 0, 2, 2)
    inline = shapely.Polygon([(2.5, 1e-13), (4, 0), (1, -1), (0.5, 1)])
    _check([square], [inline], decided=None)
    *_, decided = shared_area_moments(
        np.array([box(0, 0, 2, 2)]), np.array([shapely.Polygon([(2 + 1e-3, 0), (4, 0), (1, -2)])]),
        np.array([0]), np.array([0]),
    )  # fmt: skip
    assert decided[0]


@st.composite
def _on_an_edge_line(draw: st.DrawFn) -> tuple[shapely.Geometry, shapely.Geometry]:
    """A polygon and a triangle with a vertex on the line of one of its edges: past either
    end, at a random distance, with the triangle's other vertices anywhere around."""
    a = draw(_polygons())
    ring = np.asarray(shapely.get_exterior_ring(shapely.get_parts(a)[0]).coords)
    k = draw(st.integers(0, len(ring) - 2))
    p, q = ring[k], ring[k + 1]
    along = draw(st.one_of(st.floats(1.0 + 1e-6, 4.0), st.floats(-3.0, -1e-6)))
    c = p + along * (q - p)
    others = draw(
        st.lists(st.tuples(st.floats(-60, 60), st.floats(-60, 60)), min_size=2, max_size=2)
    )
    b = shapely.Polygon([tuple(c), *others])
    assume(b.is_valid and b.area > 1e-3)
    return a, b


@settings(max_examples=200, deadline=None)
@given(_on_an_edge_line())
def test_vertices_on_the_lines_of_the_others_edges_are_measured_right(pair) -> None:
    a, b = pair
    _check([a, b], [b, a], decided=None)


def test_empty_polygons_share_nothing() -> None:
    area = _check([shapely.Polygon(), box(0, 0, 1, 1)], [box(0, 0, 1, 1), shapely.Polygon()])
    assert area.tolist() == [0.0, 0.0]


def test_flat_rings_follow_the_geometries() -> None:
    holed = box(0, 0, 4, 4).difference(box(1, 1, 2, 2))
    geoms = np.array(
        [shapely.Polygon(), holed, shapely.MultiPolygon([box(5, 5, 6, 6), box(7, 7, 8, 8)])]
    )
    rings = FlatRings.of(geoms)
    assert rings.geom_ring.tolist() == [0, 0, 2, 4]
    assert rings.ring_start.tolist() == [0, 5, 10, 15, 20]
    shells = [holed.exterior, *holed.interiors, *(p.exterior for p in geoms[2].geoms)]
    runs_left = [shapely.is_ccw(r) == (k != 1) for k, r in enumerate(shells)]
    assert rings.factor.tolist() == [1.0 if left else -1.0 for left in runs_left]
    assert np.array_equal(rings.xy, shapely.get_coordinates(geoms))


_SHAPES = [
    box(0, 0, 1, 1),
    box(0, 0, 4, 4).difference(box(1, 1, 2, 2)),  # a hole
    box(0, 0, 9, 9).difference(shapely.union(box(1, 1, 2, 2), box(3, 3, 5, 5))),  # two
    shapely.Polygon(),
    shapely.MultiPolygon([box(5, 0, 6, 1), box(0, 0, 4, 4).difference(box(1, 1, 2, 2))]),
    shapely.from_wkt("MULTIPOLYGON (EMPTY, ((0 0, 1 0, 1 1, 0 0)))"),
    # a shell back at its first vertex before its end (invalid: a figure eight), one
    # that starts on a repeated vertex, and a hole on the shell's first vertex
    shapely.from_wkt("POLYGON ((0 0, 1 0, 1 1, 0 0, -1 0, -1 -1, 0 0))"),
    shapely.from_wkt("POLYGON ((0 0, 0 0, 0 0, 0 0, 1 0, 1 1, 0 0))"),
    shapely.from_wkt("POLYGON ((0 0, 4 0, 4 4, 0 0), (0 0, 3 1, 3 2, 0 0))"),
    shapely.Polygon([(0, 0), (1, 0), (1, 1), (0, 0)]).reverse(),  # clockwise
]


@settings(max_examples=150, deadline=None)
@given(
    picks=st.lists(st.integers(0, len(_SHAPES) - 1), max_size=40),
    slice_size=st.integers(1, 12),
)
def test_flat_rings_equal_the_rings_shapely_gives_one_by_one(picks, slice_size) -> None:
    """Rings found in the coordinates (a polygon with one ring) or asked of shapely (the
    others) are the rings shapely gives, polygon by polygon."""
    geoms = np.array([_SHAPES[k] for k in picks], dtype=object)
    flat = FlatRings.of(geoms, slice_size=slice_size)
    lengths, shells, per_geom = [], [], []
    for geom in geoms:
        rings = 0
        for part in shapely.get_parts(geom) if geom.geom_type == "MultiPolygon" else [geom]:
            if part.is_empty and geom.geom_type == "Polygon":
                continue  # an empty geometry has no ring
            ring_list = list(shapely.get_rings(part)) or [None]  # an empty part: one, empty
            for k, ring in enumerate(ring_list):
                lengths.append(0 if ring is None else shapely.get_num_coordinates(ring))
                shells.append(k == 0)
                rings += 1
        per_geom.append(rings)
    assert np.array_equal(flat.xy, shapely.get_coordinates(geoms).reshape(-1, 2))
    assert flat.ring_start.tolist() == np.r_[0, np.cumsum(lengths, dtype=int)].tolist()
    assert flat.geom_ring.tolist() == np.r_[0, np.cumsum(per_geom, dtype=int)].tolist()
    for r, shell in enumerate(shells):
        ring = flat.xy[flat.ring_start[r] : flat.ring_start[r + 1]]
        if len(ring) >= 4:
            interior_left = shapely.is_ccw(shapely.LinearRing(ring)) == shell
            assert flat.factor[r] == (1.0 if interior_left else -1.0)


def test_the_result_is_the_same_to_the_bit_whatever_the_workers() -> None:
    rng = np.random.default_rng(7)
    n = 6_000
    left = np.array(
        [_star(*rng.uniform(0, 100, 2), rng.uniform(0.5, 3, 9)) for _ in range(n)], dtype=object
    )
    right = np.array(
        [_star(*rng.uniform(0, 100, 2), rng.uniform(0.5, 3, 7), 0.3) for _ in range(n)],
        dtype=object,
    )
    i, j = shapely.STRtree(right).query(left, predicate="intersects")
    with using_workers(1):
        one = shared_area_moments(left, right, i, j)
    with using_workers(2):
        two = shared_area_moments(left, right, i, j)
    for a, b in zip(one, two, strict=True):
        assert np.array_equal(a, b)
    assert one[3].mean() > 0.99
    expected, _, _ = _overlay(left[i], right[j])
    np.testing.assert_allclose(one[0][one[3]], expected[one[3]], rtol=1e-9, atol=1e-12)


@st.composite
def _polygons(draw: st.DrawFn) -> shapely.Geometry:
    n = draw(st.integers(3, 14))
    cx, cy = draw(st.floats(-50, 50)), draw(st.floats(-50, 50))
    radii = draw(st.lists(st.floats(0.05, 30), min_size=n, max_size=n))
    turn = draw(st.floats(0, 6.3))
    shape = _star(cx, cy, radii, turn)
    if draw(st.booleans()):
        shape = shape.difference(_star(cx, cy, [r / 3 for r in radii], turn + 0.1))
    if draw(st.booleans()):
        shape = shapely.union(shape, box(cx + 31, cy, cx + 40, cy + draw(st.floats(1, 9))))
    return shapely.make_valid(shape) if not shape.is_valid else shape


@settings(max_examples=150, deadline=None)
@given(_polygons(), _polygons(), st.floats(-1e6, 1e6), st.floats(-1e6, 1e6))
def test_any_pair_is_measured_as_the_overlay_measures_it(
    a: shapely.Geometry, b: shapely.Geometry, dx: float, dy: float
) -> None:
    # shapes far from the origin too (coordinates of a projected CRS)
    a, b = (shapely.transform(g, lambda xy: xy + [dx, dy]) for g in (a, b))
    a, b = (shapely.get_parts(shapely.make_valid(g)) for g in (a, b))
    a = shapely.union_all(a[shapely.get_type_id(a) == 3])
    b = shapely.union_all(b[shapely.get_type_id(b) == 3])
    area = _check([a, b], [b, a], decided=None)
    assert area[0] <= min(a.area, b.area) * (1 + 1e-9) + 1e-9


def test_layers_drawn_on_each_others_vertices_are_left_to_the_overlay(monkeypatch) -> None:
    monkeypatch.setattr(_shared_area, "SHARED_VERTEX_SHARE", 0.4)
    rng = np.random.default_rng(3)
    hazards = np.array(
        [_star(*rng.uniform(0, 200, 2), rng.uniform(1, 3, 12)) for _ in range(300)], dtype=object
    )
    # releases copied from hazards, or cut from them along a line: they share vertices
    cut = [shapely.intersection(h, box(-1e3, -1e3, h.centroid.x, 1e3)) for h in hazards[::2]]
    assert not _shared_area.worth_measuring(hazards, np.array([*hazards[1::2], *cut]))
    # releases digitised on their own
    drawn = np.array(
        [_star(*rng.uniform(0, 200, 2), rng.uniform(1, 3, 9), 0.2) for _ in range(300)],
        dtype=object,
    )
    assert _shared_area.worth_measuring(hazards, drawn)
    monkeypatch.setattr(_shared_area, "_compiled", False)  # as without numba
    assert not _shared_area.worth_measuring(hazards, drawn)
    assert not shared_area_moments(hazards, drawn, np.array([0]), np.array([0]))[3].any()


def _blobs(rng: np.random.Generator, n: int, *, turn: float) -> list[shapely.Polygon]:
    centres = rng.uniform([46.0, 39.5], [46.4, 39.8], (n, 2))
    return [_star(x, y, rng.uniform(2e-3, 6e-3, 11), turn) for x, y in centres]


@pytest.mark.filterwarnings("ignore:.*lie outside every hazard area")
def test_a_summary_measured_by_the_loop_equals_the_one_the_overlays_give(monkeypatch) -> None:
    import geopandas as gpd

    import minemap

    rng = np.random.default_rng(11)
    hazards = gpd.GeoDataFrame(
        {"hazard_id": range(600), "threat_level": rng.choice(["high", "medium", "low"], 600)},
        geometry=_blobs(rng, 600, turn=0.0),
        crs=4326,
    )
    releases = gpd.GeoDataFrame(
        {
            "release_id": range(300),
            "method": rng.choice(["cleared", "reduced", "cancelled"], 300),
            "release_date": "2024-05-01",
        },
        geometry=_blobs(rng, 300, turn=0.1),
        crs=4326,
    )
    measured = []
    spy = _shared_area.shared_area_moments

    def counted(*args):
        out = spy(*args)
        measured.append(int(out[3].sum()))
        return out

    monkeypatch.setattr(_shared_area, "shared_area_moments", counted)
    by_loop = minemap.land_release_summary(hazards, releases)
    assert max(measured) > 100  # the loop measured the pairs (after its warm-up)
    calls = len(measured)
    monkeypatch.setattr(_shared_area, "_compiled", False)
    by_overlay = minemap.land_release_summary(hazards, releases)
    assert len(measured) == calls
    import pandas as pd

    pd.testing.assert_frame_equal(by_loop, by_overlay, rtol=1e-9, atol=1e-9)
    assert (by_loop["released_ha"] <= by_loop["hazard_ha"]).all()


# ------------------------------------------------------------------------------------------
# exact signs and the symbolic shift (used by minemap._precedence_area)
# ------------------------------------------------------------------------------------------


def _exact_orientation(a: tuple, b: tuple, c: tuple) -> int:
    from fractions import Fraction

    ax, ay, bx, by, cx, cy = (Fraction(v) for v in (*a, *b, *c))
    det = (ax - cx) * (by - cy) - (ay - cy) * (bx - cx)
    return (det > 0) - (det < 0)


_coordinate = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False).filter(
    lambda v: v == 0.0 or abs(v) >= _shared_area.COORDINATE_RANGE[0]
)


@settings(max_examples=400, deadline=None)
@given(
    a=st.tuples(_coordinate, _coordinate),
    b=st.tuples(_coordinate, _coordinate),
    along=st.floats(-2.0, 3.0),
    ulps=st.tuples(st.integers(-4, 4), st.integers(-4, 4)),
)
def test_orientation_has_the_exact_sign_and_value_even_a_few_ulps_off_the_line(
    a, b, along, ulps
) -> None:
    from minemap import _shared_area_jit as jit

    c = [a[0] + along * (b[0] - a[0]), a[1] + along * (b[1] - a[1])]  # on the line, rounded
    for axis, steps in enumerate(ulps):  # then a few ulps off it
        for _ in range(abs(steps)):
            c[axis] = float(np.nextafter(c[axis], np.inf if steps > 0 else -np.inf))
    low, high = _shared_area.COORDINATE_RANGE  # beyond it the walk leaves the cluster
    assume(all(v == 0.0 or low <= abs(v) <= high for v in c))
    sign, _, _ = jit.orient(*a, *b, *c)
    assert sign == _exact_orientation(a, b, c)
    assert jit.orient(*a, *b, *a)[0] == 0 and jit.orient(*a, *b, *b)[0] == 0
    # crossings at tiny angles are placed from the value: exact, rounded, where the
    # floating-point one has no right digit left
    ax, ay, bx, by, cx, cy = (Fraction(v) for v in (*a, *b, *c))
    exact = (ax - cx) * (by - cy) - (ay - cy) * (bx - cx)
    value = jit._orient_value(*a, *b, *c)
    assert abs(Fraction(value) - exact) <= 4 * Fraction(np.finfo(float).eps) * abs(exact)


@settings(max_examples=200, deadline=None)
@given(u=st.tuples(_coordinate, _coordinate), v=st.tuples(_coordinate, _coordinate))
def test_the_shift_side_is_the_exact_sign_of_the_cross_product(u, v) -> None:
    from fractions import Fraction

    from minemap import _shared_area_jit as jit

    wx, wy = Fraction(u[0]) - Fraction(v[0]), Fraction(u[1]) - Fraction(v[1])
    exact = wx * Fraction(jit.SHIFT_SLOPE) - wy
    assert jit.shift_side(*u, *v) == (exact > 0) - (exact < 0)


def test_a_point_on_an_edge_is_inside_exactly_when_the_shift_moves_the_edge_past_it() -> None:
    from minemap import _shared_area_jit as jit

    flat = FlatRings.of(np.array([box(0.0, 0.0, 1.0, 1.0)], dtype=object))
    # moved by +ε(1, 0.618…) (sigma 1) the square covers the points on its right and top
    # edges and its top-right corner; moved the other way, those on its left and bottom
    # edges and its bottom-left corner; the other two corners in neither
    for point, up_inside, down_inside in [
        ((1.0, 0.5), True, False), ((0.5, 1.0), True, False), ((1.0, 1.0), True, False),
        ((0.0, 0.5), False, True), ((0.5, 0.0), False, True), ((0.0, 0.0), False, True),
        ((1.0, 0.0), False, False), ((0.0, 1.0), False, False), ((0.5, 0.5), True, True),
    ]:  # fmt: skip
        up = jit.shifted_inside(*point, flat.xy, flat.ring_start, 0, 1, 0.0, 0.0, 1)
        down = jit.shifted_inside(*point, flat.xy, flat.ring_start, 0, 1, 0.0, 0.0, -1)
        assert up == (up_inside, True), point
        assert down == (down_inside, True), point


def test_a_large_layer_read_loads_the_compiled_loops_beside_the_rest() -> None:
    """A fresh process: reading a layer of 10,000 features starts numba's loading in a
    thread of its own (not for a small layer, nor with one worker), and the computation
    that follows finds it loaded."""
    script = """
import sys, warnings
import geopandas as gpd, numpy as np, shapely
import minemap
from minemap import _shared_area
from minemap._workers import using_workers

warnings.simplefilter("ignore")
n = _shared_area.BACKGROUND_LOAD_FEATURES
x = 46 + 1e-3 * (np.arange(n) % 100)
y = 39 + 1e-3 * (np.arange(n) // 100)
layer = gpd.GeoDataFrame(
    {"hazard_id": [f"H{k}" for k in range(n)], "threat_level": "high"},
    geometry=shapely.box(x, y, x + 5e-4, y + 5e-4), crs=4326,
)
minemap.read_hazards(layer.iloc[:100])
assert _shared_area._background is None, "a small layer"
with using_workers(1):
    minemap.read_hazards(layer)
assert _shared_area._background is None, "one worker"
minemap.read_hazards(layer)
assert _shared_area._background.name == "minemap-numba-load"
assert _shared_area.available() and not _shared_area._background.is_alive()
assert "numba" in sys.modules
print("loaded")
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "loaded"


def test_flat_rings_made_slice_by_slice_equal_those_made_at_once() -> None:
    """Empty polygons, holes and multipolygons across the slices' ends."""
    holed = box(0, 0, 4, 4).difference(box(1, 1, 2, 2))
    multi = shapely.MultiPolygon([box(5, 0, 6, 1), holed])
    geoms = np.array(
        [holed, shapely.Polygon(), multi, box(0, 0, 1, 1), shapely.Polygon(), shapely.Polygon()]
        * 7,
        dtype=object,
    )
    whole = FlatRings.of(geoms, slice_size=geoms.size)
    for size in (1, 2, 5, 6, 40):
        sliced = FlatRings.of(geoms, slice_size=size)
        for field in ("xy", "ring_start", "factor", "geom_ring"):
            np.testing.assert_array_equal(getattr(sliced, field), getattr(whole, field))
