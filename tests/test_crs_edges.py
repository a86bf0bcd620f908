"""Tests of the edge convention (minemap.crs.geodesic_edges and ``edges=``).

With ``edges="geodesic"`` every figure must equal ``pyproj.Geod``'s area of the polygon as
given (Geod joins vertices by geodesics); with ``edges="planar"`` (edges straight in the
layer's CRS) figures differ from it by the amount docs/areas.md states. Checked on every
Natural Earth country (the low-resolution layer pyogrio ships for its own tests).
"""

from __future__ import annotations

import functools
import re
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pyproj
import pytest
import shapely
from shapely import LineString, Polygon

import minemap
from minemap import crs as mcrs

GEOD = pyproj.Geod(ellps="WGS84")
REL = 1e-4  # 0.01 %
NATURAL_EARTH = (
    Path(pyogrio.__file__).parent
    / "tests"
    / "fixtures"
    / "naturalearth_lowres"
    / "naturalearth_lowres.shp"
)
DOCS = Path(__file__).resolve().parents[1] / "docs" / "areas.md"


def geod_m2(geom: shapely.Geometry) -> float:
    """pyproj.Geod's area of a lon/lat geometry, its vertices joined by geodesics."""
    area, _ = GEOD.geometry_area_perimeter(shapely.orient_polygons(geom))
    return abs(area)


@functools.cache
def countries() -> gpd.GeoDataFrame:
    if not NATURAL_EARTH.exists():
        pytest.skip(f"{NATURAL_EARTH} is not installed")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return pyogrio.read_dataframe(NATURAL_EARTH)


def summary_ha(geom: shapely.Geometry, crs: object, edges: str) -> float:
    raw = gpd.GeoDataFrame({"hazard_id": ["c"], "threat_level": ["high"]}, geometry=[geom], crs=crs)
    table = minemap.land_release_summary(minemap.read_hazards(raw, edges=edges))
    assert table.attrs["edges"] == edges
    return float(table["hazard_ha"].iloc[-1])


@functools.cache
def country_figures(edges: str) -> dict[str, tuple[float, float]]:
    """{country: (minemap hectares with ``edges``, Geod hectares)} for every country."""
    ne = countries()
    return {
        name: (summary_ha(geom, ne.crs, edges), geod_m2(geom) / 1e4)
        for name, geom in zip(ne["name"], ne.geometry, strict=True)
    }


# --------------------------------------------------------------------------- countries


@pytest.mark.slow
def test_geodesic_edges_match_geod_on_every_natural_earth_country():
    figures = country_figures("geodesic")
    assert len(figures) == 177
    off = {name: got / want - 1.0 for name, (got, want) in figures.items()}
    bad = {name: f"{d:+.2e}" for name, d in off.items() if abs(d) > REL}
    assert not bad, bad
    # measured: at most 2.4e-7 (Luxembourg); Fiji, Russia and Antarctica among them
    assert max(abs(d) for d in off.values()) < 1e-6
    for name in ("Fiji", "Russia", "Antarctica"):
        assert abs(off[name]) < 1e-6


@pytest.mark.slow
def test_planar_edges_differ_from_geod_by_what_the_docs_state():
    figures = country_figures("planar")
    ne = countries()
    # the planar figure is right for its convention: the edges, straight in lon/lat, traced
    # finely (0.005°) and measured with Geod
    dense = shapely.segmentize(np.asarray(ne.geometry.array), 0.005)
    for name, geom in zip(ne["name"], dense, strict=True):
        assert figures[name][0] == pytest.approx(geod_m2(geom) / 1e4, rel=REL), name
    off = {name: got / want - 1.0 for name, (got, want) in figures.items()}
    worst = max(off, key=lambda k: abs(off[k]))
    assert worst == "W. Sahara"
    assert abs(off[worst]) == pytest.approx(0.0044, abs=0.00005)  # 0.44 %
    assert sum(abs(d) > 0.001 for d in off.values()) == 12  # twelve countries over 0.1 %
    text = DOCS.read_text(encoding="utf-8")
    assert re.search(r"0\.44\s?%.*Western Sahara", text), "docs/areas.md must quote 0.44 %"
    assert "twelve" in text


# --------------------------------------------------------------------------- special places


def test_antarctica_geod_area_is_the_continent_not_an_artefact_of_the_pole_vertices():
    # Natural Earth's Antarctica ring runs down 180°E to the pole, "along" -90° to -180°
    # (one point: the pole) and back up: the cut encloses nothing
    geom = countries().set_index("name").geometry["Antarctica"]
    main = max(shapely.get_parts(geom), key=lambda p: p.area)
    ring = np.asarray(main.exterior.coords)
    at_pole = np.abs(ring[:, 1]) > 90 - 1e-9
    assert at_pole.sum() == 2 and np.allclose(np.sort(ring[at_pole, 0]), [-180.0, 180.0])
    with_pole = geod_m2(main)
    # the coastline alone, encircling the pole (Geod counts its crossings of 180°)
    coast = ring[~at_pole]
    area, _ = GEOD.polygon_area_perimeter(coast[:, 0], coast[:, 1])
    assert abs(area) == pytest.approx(with_pole, rel=1e-9)
    # an independent figure: geodesic edges traced with Geod.npts, measured in a south-polar
    # equal-area projection
    points = [ring[0]]
    for (x1, y1), (x2, y2) in zip(ring[:-1], ring[1:], strict=True):
        n = int(np.ceil(GEOD.inv(x1, y1, x2, y2)[2] / 2_000.0)) - 1
        points.extend(GEOD.npts(x1, y1, x2, y2, n) if n > 0 else [])
        points.append((x2, y2))
    xy = np.array(points)
    polar = pyproj.Transformer.from_crs(
        4326, "+proj=laea +lat_0=-90 +lon_0=0 +ellps=WGS84", always_xy=True
    )
    planar = Polygon(np.column_stack(polar.transform(xy[:, 0], xy[:, 1]))).area
    assert planar == pytest.approx(with_pole, rel=1e-7)
    # and geodesic_edges leaves that ring alone where it meets the pole
    out = mcrs.geodesic_edges(np.array([main]), 4326)[0]
    assert out.bounds[0] >= -180 and out.bounds[2] <= 180
    assert summary_ha(main, 4326, "geodesic") == pytest.approx(with_pole / 1e4, rel=1e-6)


@pytest.mark.parametrize("name", ["Fiji", "Russia"])
def test_countries_split_at_the_antimeridian_keep_their_parts_apart(name):
    # their parts meet along ±180°, a meridian: straight and geodesic alike
    geom = countries().set_index("name").geometry[name]
    out = mcrs.geodesic_edges(np.array([geom]), 4326)[0]
    assert np.allclose([out.bounds[0], out.bounds[2]], [-180.0, 180.0], rtol=0, atol=1e-9)
    assert len(shapely.get_parts(out)) == len(shapely.get_parts(geom))
    assert mcrs.area_m2(np.array([out]), 4326)[0] == pytest.approx(geod_m2(geom), rel=1e-6)


def test_geodesic_edges_across_the_antimeridian_are_short():
    # as PostGIS geography and Google Earth read it: 179° to -179° is 2° of longitude
    box = Polygon([(179, -17), (-179, -17), (-179, -16), (179, -16)])
    expected = geod_m2(box) / 1e4  # Geod takes the short way too
    assert expected == pytest.approx(2_363_141.4, rel=1e-7)  # 213 km x 111 km
    assert summary_ha(box, 4326, "geodesic") == pytest.approx(expected, rel=REL)
    out = mcrs.geodesic_edges(np.array([box]), 4326)[0]
    assert out.geom_type == "MultiPolygon" and out.bounds[0] == -180 and out.bounds[2] == 180
    # a hole across it, and a line
    holed = Polygon(
        [(170, -20), (-170, -20), (-170, -10), (170, -10)],
        [[(178, -16), (-178, -16), (-178, -14), (178, -14)]],
    )
    out = mcrs.geodesic_edges(np.array([holed]), 4326)[0]
    assert out.is_valid
    assert mcrs.area_m2(np.array([out]), 4326)[0] == pytest.approx(geod_m2(holed), rel=REL)
    line = mcrs.geodesic_edges(np.array([LineString([(170, 0), (-170, 0)])]), 4326)[0]
    assert line.geom_type == "MultiLineString"
    length = sum(GEOD.geometry_length(p) for p in line.geoms)
    assert length == pytest.approx(GEOD.inv(170, 0, -170, 0)[2], rel=1e-6)


# --------------------------------------------------------------------------- projected data


@pytest.mark.parametrize("lon", [15.0, 27.0])
@pytest.mark.parametrize("lat", [10.0, 45.0, 65.0])
def test_geodesic_edges_on_projected_data_match_geod_on_the_vertices(lon, lat):
    # a UTM 33N polygon with ~200 km edges: with geodesic edges its area is Geod's area of
    # its vertices taken to lon/lat (nothing densified)
    to_utm = pyproj.Transformer.from_crs(4326, 32633, always_xy=True)
    x, y = to_utm.transform(lon, lat)
    poly = Polygon([(x, y), (x + 200e3, y + 20e3), (x + 150e3, y + 210e3), (x - 40e3, y + 170e3)])
    to_lonlat = pyproj.Transformer.from_crs(32633, 4326, always_xy=True)
    vertices = shapely.transform(
        poly, lambda xy: np.column_stack(to_lonlat.transform(xy[:, 0], xy[:, 1]))
    )
    expected = geod_m2(vertices) / 1e4
    assert summary_ha(poly, 32633, "geodesic") == pytest.approx(expected, rel=REL)
    if lon == 27.0:  # far from the central meridian, straight UTM edges are not geodesics
        assert abs(summary_ha(poly, 32633, "planar") / expected - 1.0) > REL  # 1.2e-4..1.7e-4


@pytest.mark.parametrize("crs", [4326, 32633])
def test_inserted_vertices_lie_on_the_geodesic_at_most_a_step_apart(crs):
    line = LineString([(10.0, 50.0), (25.0, 58.0)])
    if crs != 4326:
        line = shapely.transform(
            line,
            lambda xy: np.column_stack(
                pyproj.Transformer.from_crs(4326, crs, always_xy=True).transform(xy[:, 0], xy[:, 1])
            ),
        )
    out = mcrs.geodesic_edges(np.array([line]), crs, step_m=5_000.0)[0]
    xy = np.asarray(out.coords)
    if crs != 4326:
        xy = np.column_stack(
            pyproj.Transformer.from_crs(crs, 4326, always_xy=True).transform(xy[:, 0], xy[:, 1])
        )
    a, b = xy[0], xy[-1]
    total = GEOD.inv(*a, *b)[2]
    assert len(xy) == int(np.ceil(total / 5_000.0)) + 1
    steps = GEOD.inv(xy[:-1, 0], xy[:-1, 1], xy[1:, 0], xy[1:, 1])[2]
    assert steps.max() <= 5_000.0 + 1e-6
    from_a = GEOD.inv(np.full(len(xy), a[0]), np.full(len(xy), a[1]), xy[:, 0], xy[:, 1])[2]
    to_b = GEOD.inv(xy[:, 0], xy[:, 1], np.full(len(xy), b[0]), np.full(len(xy), b[1]))[2]
    assert np.abs(from_a + to_b - total).max() < 1e-3  # on the geodesic, to 1 mm


def test_short_edges_are_left_alone_without_solving_a_geodesic(monkeypatch):
    rng = np.random.default_rng(0)
    small = shapely.buffer(
        shapely.points(rng.uniform(40, 50, 100_000), rng.uniform(35, 45, 100_000)),
        0.005,
        quad_segs=4,
    )

    def no_geodesic(*args, **kwargs):  # pragma: no cover - failing is the point
        raise AssertionError("a geodesic was solved for a hazard under ~1.5 km")

    monkeypatch.setattr(pyproj.Geod, "inv", no_geodesic)
    monkeypatch.setattr(pyproj.Geod, "fwd", no_geodesic)
    out = mcrs.geodesic_edges(small, 4326)
    assert all(a is b for a, b in zip(out, small, strict=True))
