"""Tests for minemap._precedence_area: class areas measured from the boundaries alone.

Every figure is checked against the overlays (the summary's other way: hazards made
disjoint by GEOS, releases too, their intersections measured) and, for simple shapes,
against pyproj.Geod's geodesic area of the pieces GEOS builds: independent computations.
Clusters not in general position must be left to the overlays, and the summary must then
still give the overlays' figures.
"""

from __future__ import annotations

from fractions import Fraction

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely import box

import minemap
from minemap import _precedence_area, _shared_area, _shared_area_jit, stats
from minemap._workers import using_workers
from minemap.settings import RELEASE_METHODS, THREAT_LEVELS

pytestmark = [
    pytest.mark.skipif(not _shared_area.available(), reason="needs numba (the fast extra)"),
    pytest.mark.filterwarnings("ignore:.*lie outside every hazard area"),
]

_GEOD = pyproj.Geod(ellps="WGS84")
FIGURES = ["hazard_ha", "cleared_ha", "reduced_ha", "cancelled_ha", "released_ha"]


def _star(cx: float, cy: float, radii: np.ndarray, turn: float = 0.0) -> shapely.Polygon:
    angles = turn + np.linspace(0, 2 * np.pi, len(radii), endpoint=False)
    return shapely.Polygon(
        np.column_stack([cx + radii * np.cos(angles), cy + radii * np.sin(angles)])
    )


def _layers(hazards: list, levels: list, releases: list, methods: list, crs: object = 4326):
    hz = gpd.GeoDataFrame(
        {"hazard_id": [f"H{k}" for k in range(len(hazards))], "threat_level": levels},
        geometry=hazards,
        crs=crs,
    )
    if not releases:
        return minemap.read_hazards(hz), None
    rl = gpd.GeoDataFrame(
        {
            "release_id": [f"R{k}" for k in range(len(releases))],
            "method": methods,
            "release_date": "2024-05-01",
        },
        geometry=releases,
        crs=crs,
    )
    return minemap.read_hazards(hz), minemap.read_releases(rl)


def _by_classes(monkeypatch, hazards, releases) -> pd.DataFrame:
    monkeypatch.setattr(_precedence_area, "MIN_POLYGONS", 0)
    table = stats._summary_by_classes(hazards, releases, as_of=None, edges=None)
    assert table is not None
    return table


def _by_overlays(hazards, releases) -> pd.DataFrame:
    table, _ = stats._summary_and_pieces(hazards, releases)
    return table


def _same_figures(a: pd.DataFrame, b: pd.DataFrame, rtol: float = 1e-8) -> None:
    scale = max(float(b[FIGURES].to_numpy().max()), 1e-6)
    np.testing.assert_allclose(
        a[FIGURES].to_numpy(), b[FIGURES].to_numpy(), rtol=rtol, atol=rtol * scale
    )
    assert a["threat_level"].tolist() == b["threat_level"].tolist()
    outside = (a.attrs["released_outside_hazards_ha"], b.attrs["released_outside_hazards_ha"])
    assert outside[0] == pytest.approx(outside[1], rel=rtol, abs=rtol * scale)
    for key in ("as_of", "area_frame", "edges"):
        assert a.attrs[key] == b.attrs[key], key


def _geodesic_ha(geom: shapely.Geometry) -> float:
    """pyproj.Geod's area of a polygon with edges densified to 1e-4 degree (straight edges
    in longitude and latitude, as the layers are drawn)."""
    dense = shapely.segmentize(geom, 1e-4)
    return abs(_GEOD.geometry_area_perimeter(dense)[0]) / 1e4


def test_two_boxes_against_the_geodesic_area_of_the_pieces(monkeypatch) -> None:
    high, low = box(46.0, 39.5, 46.004, 39.503), box(46.002, 39.501, 46.007, 39.506)
    cleared = box(46.001, 39.5005, 46.0055, 39.502)
    hazards, releases = _layers([low, high], ["low", "high"], [cleared], ["cleared"])
    rows = _by_classes(monkeypatch, hazards, releases).set_index("threat_level")
    low_piece = low.difference(high)
    assert rows.loc["high", "hazard_ha"] == pytest.approx(_geodesic_ha(high), rel=1e-9)
    assert rows.loc["low", "hazard_ha"] == pytest.approx(_geodesic_ha(low_piece), rel=1e-9)
    assert rows.loc["high", "cleared_ha"] == pytest.approx(
        _geodesic_ha(high.intersection(cleared)), rel=1e-9
    )
    assert rows.loc["low", "cleared_ha"] == pytest.approx(
        _geodesic_ha(low_piece.intersection(cleared)), rel=1e-9
    )
    assert rows.loc["medium", "hazard_ha"] == 0.0


def test_holes_multipolygons_and_a_utm_layer(monkeypatch) -> None:
    ring = shapely.Polygon(
        [(5e5, 44e5), (5e5 + 900, 44e5), (5e5 + 900, 44e5 + 800), (5e5, 44e5 + 800)],
        [
            [
                (5e5 + 200, 44e5 + 200),
                (5e5 + 200, 44e5 + 500),
                (5e5 + 600, 44e5 + 500),
                (5e5 + 600, 44e5 + 200),
            ]
        ],
    )
    far = shapely.MultiPolygon(
        [box(5.02e5, 44e5, 5.025e5, 44.004e5), box(5.03e5, 44e5, 5.031e5, 44.001e5)]
    )
    inside_hole = _star(5e5 + 400, 44e5 + 350, np.array([90.0, 120, 80, 110, 95, 130, 85]), 0.2)
    across = _star(5e5 + 870, 44e5 + 400, np.array([150.0, 170, 160, 140, 155, 165]), 0.1)
    hazards, releases = _layers(
        [ring, far, inside_hole],
        ["medium", "high", "low"],
        [across, shapely.affinity.translate(across, 2e3, 1)],
        ["reduced", "cancelled"],
        crs=32638,
    )
    by_classes = _by_classes(monkeypatch, hazards, releases)
    _same_figures(by_classes, _by_overlays(hazards, releases))
    assert by_classes.attrs["released_outside_hazards_ha"] > 1.0


@st.composite
def _scenes(draw):
    """A few dozen overlapping blobs (some with a hole, some in two parts) in lon/lat."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n_hz = draw(st.integers(1, 30))
    n_rl = draw(st.integers(0, 20))
    spread = draw(st.sampled_from([0.002, 0.01, 0.05]))
    lat = draw(st.sampled_from([0.5, 39.6, 62.0]))

    def blob() -> shapely.Geometry:
        cx, cy = rng.uniform(46.0, 46.0 + spread), rng.uniform(lat, lat + spread)
        size = rng.uniform(3e-4, 3e-3)
        geom = _star(cx, cy, size * rng.uniform(0.6, 1.0, rng.integers(5, 25)), rng.uniform(0, 6))
        kind = rng.uniform()
        if kind < 0.15:
            hole = _star(cx, cy, size * rng.uniform(0.2, 0.4, 6), rng.uniform(0, 6))
            geom = shapely.Polygon(geom.exterior, [hole.exterior])
        elif kind < 0.25:
            other = shapely.affinity.translate(geom, 3 * size, 0.5 * size)
            geom = shapely.MultiPolygon([geom, other])
        return geom

    hazards = [blob() for _ in range(n_hz)]
    releases = [blob() for _ in range(n_rl)]
    levels = rng.choice(list(THREAT_LEVELS), n_hz).tolist()
    methods = rng.choice(list(RELEASE_METHODS), n_rl).tolist()
    return hazards, levels, releases, methods


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(_scenes())
def test_any_scene_gives_the_overlays_figures(monkeypatch, scene) -> None:
    hazards, releases = _layers(*scene)
    by_classes = _by_classes(monkeypatch, hazards, releases)
    _same_figures(by_classes, _by_overlays(hazards, releases))
    released, hazard = by_classes["released_ha"], by_classes["hazard_ha"]
    assert (released <= hazard * (1 + 1e-12)).all()
    assert by_classes["percent_released"].between(0, 100).all()


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.integers(0, 2**32 - 1))
def test_vertices_on_the_lines_of_other_edges_give_the_overlays_figures(monkeypatch, seed) -> None:
    """Releases with a vertex on the line through a hazard's edge, past its end (where
    the side of that vertex is not reliable, but the edges' crossing is still decided)."""
    rng = np.random.default_rng(seed)
    hazards, releases = [], []
    for k in range(8):
        hazard = _star(46 + 0.004 * k, 39.6, 1e-3 * rng.uniform(0.6, 1.0, 9), rng.uniform(0, 6))
        ring = np.asarray(hazard.exterior.coords)
        e = rng.integers(0, len(ring) - 1)
        c = ring[e] + rng.choice([-1, 1]) * rng.uniform(1.01, 2.5) * (ring[e + 1] - ring[e])
        others = ring[e] + rng.uniform(-2e-3, 2e-3, (2, 2))
        release = shapely.Polygon([tuple(c), *map(tuple, others)])
        hazards.append(hazard)
        if release.is_valid and release.area > 1e-9:
            releases.append(shapely.orient_polygons(release))
    levels = rng.choice(list(THREAT_LEVELS), len(hazards)).tolist()
    methods = rng.choice(list(RELEASE_METHODS), len(releases)).tolist()
    hz, rl = _layers(hazards, levels, releases, methods)
    _same_figures(_by_classes(monkeypatch, hz, rl), _by_overlays(hz, rl))


def test_a_date_counts_the_releases_dated_by_then(monkeypatch) -> None:
    rng = np.random.default_rng(9)
    blobs = [_star(46 + 2e-3 * k, 39.6, 2e-3 * rng.uniform(0.6, 1, 11), k) for k in range(12)]
    hazards, releases = _layers(
        blobs[:8], rng.choice(list(THREAT_LEVELS), 8).tolist(),
        blobs[8:], ["cleared", "reduced", "cleared", "cancelled"],
    )  # fmt: skip
    releases["release_date"] = pd.to_datetime(
        ["2020-01-01", "2021-01-01", "2022-01-01", "2023-01-01"]
    )
    monkeypatch.setattr(_precedence_area, "MIN_POLYGONS", 0)
    by_classes = stats._summary_by_classes(hazards, releases, as_of="2021-06-30", edges=None)
    by_overlays, _ = stats._summary_and_pieces(hazards, releases, as_of="2021-06-30")
    _same_figures(by_classes, by_overlays)
    assert by_classes.attrs["as_of"] == "2021-06-30"
    assert by_classes["cleared_ha"].iloc[-1] > 0 and by_classes["cancelled_ha"].iloc[-1] == 0


@pytest.mark.parametrize(
    ("outer", "inner", "crs"),
    [
        (
            "POLYGON ((179.99 10, 179.9900015 10.00001, 179.989992 10.000009, 179.99 10))",
            [
                (179.99000099765334, 10.000006651022309),
                (179.98999999765334, 10.00000865102231),
                (179.98999899765334, 10.00000715102231),
            ],
            4326,
        ),
        (
            "POLYGON ((19000000 15000000, 19000000.4 15000001, 18999999.4 15000000.9, "
            "19000000 15000000))",
            [
                (19000000.250123236, 15000000.625308096),
                (19000000.150123235, 15000000.825308096),
                (19000000.050123237, 15000000.675308097),
            ],
            3857,
        ),
    ],
)
def test_a_small_polygon_a_hair_inside_another_far_from_zero(
    monkeypatch, outer, inner, crs
) -> None:
    """A 1.5 m polygon near the antimeridian (a 1 m one at x = 1.9e7 m): the inner one's
    first vertex lies farther than the tolerance inside the outer one's edge, but within
    half a unit in the last place of its absolute coordinates. Whether the outer one holds
    it is asked from the pair's own origin (absolute coordinates said no)."""
    hazard, release = shapely.from_wkt(outer), shapely.Polygon(inner)
    assert release.within(hazard)
    hazards, releases = _layers([hazard], ["high"], [release], ["cleared"], crs=crs)
    by_classes = _by_classes(monkeypatch, hazards, releases)
    _same_figures(by_classes, _by_overlays(hazards, releases))
    assert by_classes.attrs["released_outside_hazards_ha"] == 0.0
    hazards, _ = _layers([hazard, release], ["low", "high"], [], [], crs=crs)  # nested levels
    _same_figures(_by_classes(monkeypatch, hazards, None), _by_overlays(hazards, None))


def test_polygons_with_too_many_vertices_are_left_to_the_overlays(monkeypatch) -> None:
    """Crossings are sorted by ``edge + t`` in double precision: past MAX_VERTICES a
    polygon's cluster (and each pair it is in) goes to GEOS."""
    big = _star(46.0, 39.6, np.full(40, 2e-3))
    small = _star(46.001, 39.6, np.full(7, 1e-3), 0.2)
    far = _star(46.1, 39.6, np.full(7, 1e-3), 0.2)
    monkeypatch.setattr(_shared_area, "MAX_VERTICES", 30)
    geoms = np.array([big, small, far])
    _, hazard_left, _ = _precedence_area.class_areas(
        geoms, np.array([2, 0, 1]), np.empty(0, dtype=object), np.empty(0, dtype=int),
        pyproj.CRS(4326),
    )  # fmt: skip
    assert hazard_left.tolist() == [True, True, False]
    *_, decided = _shared_area.shared_area_moments(geoms, geoms, np.array([0, 1]), np.array([1, 2]))
    assert decided.tolist() == [False, True]


def test_copies_and_shared_vertices_are_measured_here(monkeypatch) -> None:
    rng = np.random.default_rng(3)
    blobs = [_star(46 + 0.01 * k, 39.6, 2e-3 * rng.uniform(0.6, 1, 9)) for k in range(6)]
    # a copy of hazard 0, a release on hazard 1's vertices (its half), an independent one
    half = shapely.Polygon(np.asarray(blobs[1].exterior.coords)[:6])
    hazards, releases = _layers(
        blobs, ["high", "low", "medium", "low", "high", "medium"],
        [blobs[0], half, _star(46.03, 39.6, np.full(7, 1e-3), 0.3)],
        ["cleared", "reduced", "cancelled"],
    )  # fmt: skip
    geoms = [hazards.geometry.to_numpy(), releases.geometry.to_numpy()]
    ranks = [np.zeros(6, dtype=int), np.zeros(3, dtype=int)]
    m2, hazard_left, release_left = _precedence_area.class_areas(
        geoms[0], ranks[0], geoms[1], ranks[1], pyproj.CRS(4326)
    )
    assert not hazard_left.any() and not release_left.any()
    by_classes = _by_classes(monkeypatch, hazards, releases)
    _same_figures(by_classes, _by_overlays(hazards, releases))
    rows = by_classes.set_index("threat_level")  # a cluster 0.06° wide: third-order terms
    assert rows.loc["high", "cleared_ha"] == pytest.approx(_geodesic_ha(blobs[0]), rel=1e-8)
    assert rows.loc["low", "reduced_ha"] == pytest.approx(_geodesic_ha(half), rel=1e-8)


def test_every_hazard_released_by_its_own_copy_is_released_whole(monkeypatch) -> None:
    """Copies share every vertex and edge: the released land is the hazards' land, to the
    last digits, and nothing lies outside."""
    rng = np.random.default_rng(11)
    centres = rng.uniform([46.0, 39.5], [46.03, 39.53], (60, 2))
    blobs = [_star(x, y, rng.uniform(1e-3, 3e-3, 11), rng.uniform(0, 6)) for x, y in centres]
    levels = list(rng.choice(list(THREAT_LEVELS), 60))
    hazards, releases = _layers(blobs, levels, blobs, ["cleared"] * 60)
    table = _by_classes(monkeypatch, hazards, releases)
    np.testing.assert_allclose(table["cleared_ha"], table["hazard_ha"], rtol=1e-12)
    assert table.attrs["released_outside_hazards_ha"] == 0.0


def _moved(geoms: list, step: float, direction: tuple) -> list:
    """Each geometry moved by ``step`` times a small whole number (its own) along
    ``direction``."""
    return [
        shapely.transform(g, lambda xy, k=k: xy + step * ((k * 7) % 5 - 2) * np.array(direction))
        for k, g in enumerate(geoms)
    ]


def test_shared_vertices_give_the_limit_of_the_layers_moved_apart(monkeypatch) -> None:
    """The figures of layers drawn on each other's vertices (releases copied from hazards,
    cut from them, on their edges' lines) are the limit of the figures of the same layers
    moved apart by ever smaller steps, which are in general position; the overlays on the
    moved layers agree with the walk on them."""
    rng = np.random.default_rng(8)
    hazards, levels, releases, methods = [], [], [], []
    for k in range(40):
        g = _star(
            46 + rng.uniform(0, 0.05), 39.5 + rng.uniform(0, 0.05), rng.uniform(1e-3, 3e-3, 17)
        )
        hazards.append(shapely.set_precision(g, 1e-7))
        levels.append(THREAT_LEVELS[k % 3])
        if k % 3 == 0:
            releases.append(hazards[-1])
        else:
            x0, y0, x1, y1 = g.bounds
            cut = hazards[-1].intersection(
                box(x0 + (x1 - x0) * 0.3, y0 - 1, x0 + (x1 - x0) * 0.7, y1 + 1)
            )
            releases.append(cut if k % 3 == 1 else shapely.set_precision(cut, 1e-7))
        methods.append(RELEASE_METHODS[k % 2])
    exact = _by_classes(monkeypatch, *_layers(hazards, levels, releases, methods))
    scale = float(exact[FIGURES].to_numpy().max())
    gaps = []
    for step in (1e-9, 1e-10, 1e-11):
        layers = _layers(
            _moved(hazards, step, (1.0, 0.7)), levels, _moved(releases, step, (-0.6, 1.0)), methods
        )
        apart = _by_classes(monkeypatch, *layers)
        _same_figures(apart, _by_overlays(*layers), rtol=1e-9)
        gaps.append(float(np.abs(apart[FIGURES].to_numpy() - exact[FIGURES].to_numpy()).max()))
    assert gaps[2] < 1e-8 * scale
    assert gaps[2] < gaps[1] < gaps[0]  # the moved figures close in on these


@st.composite
def lattice_scenes(draw: st.DrawFn) -> tuple:
    """Hazards and releases with vertices on a coarse grid: shared vertices, vertices on
    other edges, edges along each other and exact copies everywhere."""
    n = draw(st.integers(2, 9))
    shapes = []
    for _ in range(n):
        kind = draw(st.sampled_from(["box", "triangle", "quad"]))
        if kind == "box":
            x0, y0 = draw(st.integers(0, 5)), draw(st.integers(0, 5))
            pts = [(x0, y0), (x0 + draw(st.integers(1, 3)), y0), None, None]
            pts[2] = (pts[1][0], y0 + draw(st.integers(1, 3)))
            pts[3] = (x0, pts[2][1])
        else:
            pts = [
                tuple(draw(st.tuples(st.integers(0, 6), st.integers(0, 6))))
                for _ in range(3 if kind == "triangle" else 4)
            ]
        shapes.append(pts)
    return shapes, draw(st.lists(st.integers(0, 5), min_size=n, max_size=n)), draw(st.booleans())


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(scene=lattice_scenes())
def test_lattice_scenes_equal_the_overlays(monkeypatch, scene) -> None:
    shapes, kinds, copy = scene
    origin, cell = np.array([46.0, 39.5]), 1e-3
    hazards, levels, releases, methods = [], [], [], []
    for pts, kind in zip(shapes, kinds, strict=True):
        poly = shapely.make_valid(shapely.Polygon(origin + cell * np.array(pts, dtype=float)))
        parts = [g for g in shapely.get_parts(poly) if g.geom_type == "Polygon" and g.area > 0]
        if not parts:
            continue
        geom = parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)
        if kind < 3:
            hazards.append(geom)
            levels.append(THREAT_LEVELS[kind])
            if copy:
                releases.append(geom)
                methods.append(RELEASE_METHODS[kind])
        else:
            releases.append(geom)
            methods.append(RELEASE_METHODS[kind - 3])
    if not hazards:
        return
    layers = _layers(hazards, levels, releases, methods)
    _same_figures(_by_classes(monkeypatch, *layers), _by_overlays(*layers))


def test_a_tie_along_the_shift_is_left_to_the_overlays(monkeypatch) -> None:
    """Two polygons sharing an edge that runs exactly along the direction ties are broken
    in: the shift cannot decide, and the cluster goes to the overlays."""
    step = np.array([1.0, _shared_area_jit.SHIFT_SLOPE]) * 2.0**-10
    a = shapely.Polygon([(0.0, 0.0), tuple(step), (0.0, 2.0**-9)])
    b = shapely.Polygon([(0.0, 0.0), (2.0**-9, 0.0), tuple(step)])
    far = box(0.1, 0.1, 0.101, 0.101)
    geoms = np.array([a, b, far])
    no = np.empty(0, dtype=object)
    _, hazard_left, _ = _precedence_area.class_areas(
        geoms, np.array([0, 1, 2]), no, no.astype(int), pyproj.CRS(4326)
    )
    assert hazard_left.tolist() == [True, True, False]
    hazards, _ = _layers(list(geoms), ["high", "low", "medium"], [], [])
    _same_figures(_by_classes(monkeypatch, hazards, None), _by_overlays(hazards, None))


def test_a_coordinate_too_small_for_exact_signs_leaves_its_cluster_to_the_overlays() -> None:
    """Products of differences of coordinates of 1e-320 underflow: such a cluster (a box
    with a corner at 0 and one a few 1e-324 off it) is measured by the overlays."""
    odd = shapely.Polygon([(0.0, 0.0), (1e-3, 1e-320), (1e-3, 1e-3), (0.0, 1e-3)])
    other = box(5e-4, 5e-4, 2e-3, 2e-3)
    far = box(0.1, 0.1, 0.101, 0.101)
    no = np.empty(0, dtype=object)
    _, hazard_left, _ = _precedence_area.class_areas(
        np.array([odd, other, far]), np.array([0, 1, 2]), no, no.astype(int), pyproj.CRS(4326)
    )
    assert hazard_left.tolist() == [True, True, False]


@pytest.mark.parametrize("as_release", [False, True])
@pytest.mark.parametrize(
    "first, neighbour",
    [
        # near the equator: a hazard's first vertex one ulp north of its neighbour's top
        # edge, which taken from the pair's origin (below 0) rounds onto that edge
        (
            [(41.5005, float(np.nextafter(3e-4, 1.0))), (41.5002, -2e-3), (41.5008, -2e-3)],
            box(41.5, -1e-3, 41.501, 3e-4),
        ),
        # at 0°E: a first vertex 1e-20 east of the neighbour's edge on the meridian
        ([(1e-20, 0.0), (-2e-3, 5e-4), (-2e-3, -5e-4)], box(-1e-3, -1e-3, 0.0, 1e-3)),
    ],
)
def test_a_first_vertex_a_hair_outside_a_neighbours_box_near_zero(
    monkeypatch, first, neighbour, as_release
) -> None:
    """Whether a ring's first vertex lies in a neighbour's box is asked from the pair's
    origin, as its crossings are: near 0 a vertex a hair outside the box rounds onto it."""
    ring = shapely.Polygon(first)
    if as_release:
        layers = _layers([ring], ["low"], [neighbour], ["cleared"])
    else:
        layers = _layers([ring, neighbour], ["low", "high"], [], [])
    _same_figures(_by_classes(monkeypatch, *layers), _by_overlays(*layers))


def test_releases_alone_count_outside(monkeypatch) -> None:
    """A cluster of releases copied from each other and far from any hazard: all of it
    lies outside the hazards, counted once."""
    hazard = _star(46.0, 39.6, np.array([2e-3, 3e-3, 2.5e-3, 2e-3, 3e-3]))
    release = _star(46.1, 39.6, np.array([1e-3, 1.5e-3, 1.2e-3, 1e-3, 1.4e-3, 1.1e-3]))
    hazards, releases = _layers([hazard], ["high"], [release, release], ["cleared", "reduced"])
    by_classes = _by_classes(monkeypatch, hazards, releases)
    _same_figures(by_classes, _by_overlays(hazards, releases))
    assert by_classes.attrs["released_outside_hazards_ha"] == pytest.approx(
        _geodesic_ha(release),
        rel=1e-8,  # its edges densified into the equal-area frame
    )


def test_a_cluster_wider_than_local_measure_is_left_to_the_overlays(monkeypatch) -> None:
    chain = [box(46 + 0.03 * k, 39.6, 46 + 0.03 * k + 0.035, 39.62) for k in range(5)]
    alone = box(47, 39.6, 47.01, 39.61)
    hazards, _ = _layers([*chain, alone], ["low", "high"] * 3, [], [])
    no = np.empty(0, dtype=object)
    _, hazard_left, _ = _precedence_area.class_areas(
        hazards.geometry.to_numpy(), np.zeros(6, dtype=int), no, no.astype(int), pyproj.CRS(4326)
    )
    assert hazard_left.tolist() == [True] * 5 + [False]
    _same_figures(_by_classes(monkeypatch, hazards, None), _by_overlays(hazards, None))


def test_tiles_sharing_their_edges_are_measured_here(monkeypatch) -> None:
    tiles = [
        box(46 + 1e-3 * i, 39.6 + 1e-3 * j, 46 + 1e-3 * (i + 1), 39.6 + 1e-3 * (j + 1))
        for i in range(10)
        for j in range(10)
    ]
    no = np.empty(0, dtype=object)
    ranks = np.arange(100) % 3
    measured = _precedence_area.class_areas(
        np.array(tiles), ranks, no, no.astype(int), pyproj.CRS(4326)
    )
    assert measured is not None and not measured[1].any()
    hazards, _ = _layers(tiles, [THREAT_LEVELS[r] for r in ranks], [], [])
    table = _by_classes(monkeypatch, hazards, None)
    _same_figures(table, _by_overlays(hazards, None))
    whole = _geodesic_ha(box(46, 39.6, 46.01, 39.61))
    levels = table.set_index("threat_level").loc[list(THREAT_LEVELS), "hazard_ha"]
    assert levels.sum() == pytest.approx(whole, rel=1e-9)


def _exact_planar_classes(geoms: list, ranks: list) -> np.ndarray:
    """Planar area of each class (hazard rank × release rank, 3 for none) in exact
    rational arithmetic: vertical slabs between every vertex and every crossing, the edges
    in each slab ordered at its middle, each polygon's inside found by parity."""
    edges = []  # (polygon, x0, y0, x1, y1), x0 < x1; vertical edges bound no slab
    for k, geom in enumerate(geoms):
        for ring in [geom.exterior, *geom.interiors]:
            xy = [(Fraction(x), Fraction(y)) for x, y in ring.coords]
            for (x0, y0), (x1, y1) in zip(xy[:-1], xy[1:], strict=True):
                if x0 != x1:
                    edges.append((k, *((x0, y0, x1, y1) if x0 < x1 else (x1, y1, x0, y0))))
    xs = {e[1] for e in edges} | {e[3] for e in edges}
    for i, (_, ax, ay, bx, by) in enumerate(edges):
        for _, cx, cy, dx, dy in edges[i + 1 :]:
            lo, hi = max(ax, cx), min(bx, dx)
            s1, s2 = (by - ay) / (bx - ax), (dy - cy) / (dx - cx)
            if lo < hi and s1 != s2:
                x = (cy - ay + ax * s1 - cx * s2) / (s1 - s2)
                if lo < x < hi:
                    xs.add(x)
    xs = sorted(xs)
    out = [[Fraction(0)] * 4 for _ in range(4)]
    for x0, x1 in zip(xs[:-1], xs[1:], strict=True):
        mid = (x0 + x1) / 2
        crossing = sorted(
            (ay + (mid - ax) * (by - ay) / (bx - ax), k)
            for k, ax, ay, bx, by in edges
            if ax <= x0 and bx >= x1
        )
        inside = [False] * len(geoms)
        for (y, k), (above, _) in zip(crossing[:-1], crossing[1:], strict=True):
            inside[k] = not inside[k]
            held = [ranks[j] for j in range(len(geoms)) if inside[j]]
            hazard = min((r for r in held if r < 3), default=3)
            release = min((r - 3 for r in held if r >= 3), default=3)
            out[hazard][release] += (x1 - x0) * (above - y)
    return np.array([[float(v) for v in row] for row in out])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_strips_cut_along_a_hazards_edges_are_measured_exactly(monkeypatch, seed) -> None:
    """Releases cut from a hazard have vertices computed on its edges: in floating point a
    hair off them, so each strip's edge runs along the hazard's and crosses it (and the
    other strips' edges along it) at angles near 1e-13 radians, where floating-point
    orientations cannot place a crossing. The exact orientations do: the clusters are
    measured here, and every class equals exact rational arithmetic on the same vertices."""
    rng = np.random.default_rng(seed)
    hazard = _star(46.0, 39.6, 2e-3 * rng.uniform(0.7, 1.0, 9), rng.uniform(0, 6))
    ring = np.asarray(hazard.exterior.coords)
    geoms, ranks = [hazard], [1]
    for k in rng.choice(len(ring) - 1, 3, replace=False):
        p, q = ring[k], ring[k + 1]
        normal = np.array([p[1] - q[1], q[0] - p[0]]) * rng.choice([-1, 1])
        for method in range(3):  # three strips along one edge, overlapping each other
            t0, t1 = np.sort(rng.uniform(0.05, 0.95, 2))
            a, b = p + t0 * (q - p), p + t1 * (q - p)
            depth = normal * rng.uniform(0.05, 0.3)
            geoms.append(shapely.Polygon([a, b, b + depth, a + depth]))
            ranks.append(3 + method)
    monkeypatch.setattr(minemap.crs, "local_area_m2", lambda planar, x, y, crs: planar)
    release_geoms = np.array(geoms[1:], dtype=object)
    m2, hazard_left, release_left = _precedence_area.class_areas(
        np.array(geoms[:1], dtype=object), np.array([1]),
        release_geoms, np.array(ranks[1:]) - 3, pyproj.CRS(4326),
    )  # fmt: skip
    assert not hazard_left.any() and not release_left.any()
    exact = _exact_planar_classes(geoms, ranks)
    m2[3, 3] = exact[3, 3] = 0.0  # the land outside every polygon
    np.testing.assert_allclose(m2, exact, rtol=0, atol=1e-10 * np.abs(exact).sum())


def test_the_figures_are_identical_whatever_the_number_of_workers() -> None:
    rng = np.random.default_rng(5)
    n = 5_000  # above the size where the work is split between threads
    centres = rng.uniform([46.0, 39.5], [46.6, 39.9], (n, 2))
    geoms = np.array(
        [_star(x, y, rng.uniform(1e-3, 3e-3, 9), rng.uniform(0, 6)) for x, y in centres]
    )
    ranks = rng.integers(0, 3, n)
    results = []
    for workers in (1, 2):
        with using_workers(workers):
            results.append(
                _precedence_area.class_areas(
                    geoms[:3000], ranks[:3000], geoms[3000:], ranks[3000:], pyproj.CRS(4326)
                )
            )
    (a, ha, ra), (b, hb, rb) = results
    assert a.tobytes() == b.tobytes()
    assert ha.tolist() == hb.tolist() and ra.tolist() == rb.tolist()
    assert not ha.all()


def test_the_summary_takes_this_way_only_for_large_layers(monkeypatch) -> None:
    hazards, releases = _layers([box(46, 39.6, 46.01, 39.61)], ["high"], [], [])
    calls = []
    monkeypatch.setattr(_precedence_area, "class_areas", lambda *a: calls.append(a))
    minemap.land_release_summary(hazards, releases)
    assert calls == []
    monkeypatch.setattr(_precedence_area, "MIN_POLYGONS", 0)
    minemap.land_release_summary(hazards, releases)  # None from the spy: the overlays answer
    assert len(calls) == 1


def test_layers_of_empty_polygons_only_hold_no_land() -> None:
    empty = np.array([shapely.Polygon(), shapely.MultiPolygon()], dtype=object)
    m2, hazard_left, release_left = _precedence_area.class_areas(
        empty, np.array([0, 1]), empty[:1], np.array([0]), pyproj.CRS(4326)
    )
    assert not m2.any() and not hazard_left.any() and not release_left.any()


@pytest.mark.parametrize("order", ["p first", "q first", "q a release"])
def test_a_vertex_a_hair_off_an_edge_that_rounds_onto_it_in_the_clusters_frame(
    monkeypatch, order
) -> None:
    """Two polygons a millimetre across near longitude 0, in a cluster 0.06° wide: a vertex
    of p lies 1.3e-18° right of q's edge, and the two round to the same value once taken
    from the cluster's centre. Every test on the pair (the boxes' included) is made on the
    coordinates the crossings are decided on, so none is lost: exact figures."""
    monkeypatch.setattr(minemap.crs, "local_area_m2", lambda planar, x, y, crs: planar)
    size, left, y = 1e-10, 1e-5, 10.001
    wide = box(0.0, 10.0, 0.06, 10.01)
    q = box(left, y, left + size, y + size)
    a = left
    while (np.nextafter(a, 1.0) - 0.03) == (left - 0.03):  # 0.03: the cluster's centre
        a = np.nextafter(a, 1.0)
    assert a > left and (a - 0.03) == (left - 0.03)
    p = shapely.Polygon([(a, y + 0.5 * size), (left + 2 * size, y), (left + 2 * size, y + size)])
    if order == "q a release":
        geoms, ranks = [wide, p, q], [2, 1, 3]
    else:
        geoms, ranks = (
            ([wide, p, q], [2, 1, 0]) if order == "p first" else ([wide, q, p], [2, 0, 1])
        )
    hazards = [g for g, r in zip(geoms, ranks, strict=True) if r < 3]
    releases = [g for g, r in zip(geoms, ranks, strict=True) if r >= 3]
    m2, hazard_left, release_left = _precedence_area.class_areas(
        np.array(hazards, dtype=object), np.array([r for r in ranks if r < 3]),
        np.array(releases, dtype=object), np.array([r - 3 for r in ranks if r >= 3]),
        pyproj.CRS(4326),
    )  # fmt: skip
    assert not hazard_left.any() and not release_left.any()
    exact = _exact_planar_classes(geoms, ranks)
    m2[3, 3] = exact[3, 3] = 0.0
    np.testing.assert_allclose(m2, exact, rtol=0, atol=1e-12 * np.abs(exact).sum())
