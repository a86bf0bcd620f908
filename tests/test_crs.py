"""Tests of minemap.crs: the equal-area frame, densification and true areas.

Every area is checked against the independent geodesic oracle in ``tests/_oracle.py``.
"""

from __future__ import annotations

import _oracle as oracle
import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely
from shapely import LineString, MultiPolygon, Point, Polygon, box

from minemap import crs as mcrs

GEOD = pyproj.Geod(ellps="WGS84")

REL = oracle.REL


def _series(geoms, crs):
    return gpd.GeoSeries(list(geoms), crs=crs)


def _frame_centre(frame: pyproj.CRS) -> tuple[float, float]:
    params = {p.name: p.value for p in frame.coordinate_operation.params}
    return params["Longitude of natural origin"], params["Latitude of natural origin"]


# --------------------------------------------------------------------------- area_ha


def test_utm_square_true_area_differs_from_planar_area():
    square = box(500_000, 4_400_000, 501_000, 4_401_000)  # 1 km square on the zone-38 meridian
    got = mcrs.area_ha(_series([square], 32638))[0]
    expected = oracle.area_ha(square, 32638)
    assert got == pytest.approx(expected, rel=REL)
    # UTM's scale factor makes the planar figure (exactly 100 ha) wrong by ~0.08 %
    assert abs(square.area / 1e4 - expected) / expected > 5e-4
    assert abs(got - 100.0) / 100.0 > 5e-4


def test_utm_polygon_outside_its_zone_uses_true_area():
    # 30 km square ~8° east of the zone-38 central meridian: UTM is off by > 0.5 % there
    square = box(1_100_000, 4_400_000, 1_130_000, 4_430_000)
    got = mcrs.area_ha(_series([square], 32638))[0]
    expected = oracle.area_ha(square, 32638)
    assert got == pytest.approx(expected, rel=REL)
    assert abs(square.area / 1e4 - expected) / expected > 5e-3


def test_large_lonlat_polygon_is_densified():
    # 0.5° x 0.5° (tens of km edges): straight lon/lat edges, not geodesics
    big = box(46.0, 39.0, 46.5, 39.5)
    got = mcrs.area_ha(_series([big], 4326))[0]
    assert got == pytest.approx(oracle.geod_area_ha(big), rel=REL)


def test_very_wide_lonlat_polygon_follows_parallels_not_geodesics():
    # 10° wide: a geodesic between the corners bulges poleward; the data means the parallel
    wide = box(40.0, 45.0, 50.0, 45.5)
    got = mcrs.area_ha(_series([wide], 4326))[0]
    assert got == pytest.approx(oracle.geod_area_ha(wide), rel=REL)
    undensified = oracle.geod_area_ha(wide, step=100.0)  # corner-to-corner geodesics
    assert abs(undensified - got) / got > 10 * REL


def test_large_projected_polygon_with_long_edges():
    tri = Polygon([(400_000, 4_300_000), (480_000, 4_310_000), (430_000, 4_390_000)])
    got = mcrs.area_ha(_series([tri], 32638))[0]
    assert got == pytest.approx(oracle.area_ha(tri, 32638), rel=REL)


def test_polygon_with_holes_and_multipolygon():
    shell = [(46.0, 39.0), (46.05, 39.0), (46.05, 39.04), (46.0, 39.04)]
    holes = [
        box(46.01, 39.01, 46.02, 39.02).exterior.coords,
        box(46.03, 39.02, 46.04, 39.03).exterior.coords,
    ]
    donut = Polygon(shell, holes)
    multi = MultiPolygon([donut, box(46.1, 39.0, 46.12, 39.01)])
    got = mcrs.area_ha(_series([donut, multi], 4326))
    assert got[0] == pytest.approx(oracle.geod_area_ha(donut), rel=REL)
    assert got[1] == pytest.approx(oracle.geod_area_ha(multi), rel=REL)
    assert got[0] < oracle.geod_area_ha(Polygon(shell))


def test_multipolygon_with_clockwise_and_counter_clockwise_parts():
    ccw = box(46.0, 39.0, 46.01, 39.01, ccw=True)
    cw = box(46.02, 39.0, 46.03, 39.01, ccw=False)
    multi = MultiPolygon([ccw, cw])
    got = mcrs.area_ha(_series([multi], 4326))[0]
    assert got == pytest.approx(oracle.geod_area_ha(ccw) + oracle.geod_area_ha(cw), rel=REL)


@pytest.mark.parametrize(
    "geom",
    [box(20.0, 70.0, 20.3, 70.1), box(-60.0, -75.1, -59.6, -75.0), box(100.0, 69.8, 101.0, 70.2)],
    ids=["70N", "75S", "70N-wide"],
)
def test_high_latitudes(geom):
    got = mcrs.area_ha(_series([geom], 4326))[0]
    assert got == pytest.approx(oracle.geod_area_ha(geom), rel=REL)


def test_high_latitude_projected_polygon():
    # UTM zone 34N near 70°N
    square = box(400_000, 7_760_000, 405_000, 7_765_000)
    got = mcrs.area_ha(_series([square], 32634))[0]
    assert got == pytest.approx(oracle.area_ha(square, 32634), rel=REL)


def test_several_utm_zones_in_one_layer():
    geoms = [
        box(41.0, 40.0, 41.05, 40.04),
        box(47.0, 40.0, 47.05, 40.04),
        box(53.0, 40.0, 53.05, 40.04),
    ]
    got = mcrs.area_ha(_series(geoms, 4326))
    for value, geom in zip(got, geoms, strict=True):
        assert value == pytest.approx(oracle.geod_area_ha(geom), rel=REL)


def test_features_on_both_sides_of_the_antimeridian():
    geoms = [
        box(179.9, 10.0, 179.95, 10.05),
        box(-179.95, 10.0, -179.9, 10.05),
        MultiPolygon([box(179.95, 10.0, 180.0, 10.05), box(-180.0, 10.0, -179.95, 10.05)]),
    ]
    series = _series(geoms, 4326)
    lon0, _ = _frame_centre(mcrs.area_frame(gpd.GeoDataFrame(geometry=series)))
    assert abs(abs(lon0) - 180.0) < 0.1
    got = mcrs.area_ha(series)
    for value, geom in zip(got, geoms, strict=True):
        assert value == pytest.approx(oracle.geod_area_ha(geom), rel=REL)


def test_multipolygon_split_at_antimeridian_alone_near_equator():
    # the frame must be centred near 180°, not on lon 0 (the centre of the -180..180 bounding
    # box), which is near the antipode of the data: areas there are wrong by orders of magnitude
    split = MultiPolygon([box(179.95, 0.0, 180.0, 0.05), box(-180.0, 0.0, -179.95, 0.05)])
    series = _series([split], 4326)
    lon0, _ = _frame_centre(mcrs.area_frame(gpd.GeoDataFrame(geometry=series)))
    assert abs(abs(lon0) - 180.0) < 0.1
    got = mcrs.area_ha(series)[0]
    assert got == pytest.approx(oracle.geod_area_ha(split), rel=REL)


@pytest.mark.parametrize("lat", [45.0, 70.0, -75.0])
def test_multipolygon_split_at_antimeridian_alone(lat):
    split = MultiPolygon([box(179.9, lat, 180.0, lat + 0.05), box(-180.0, lat, -179.9, lat + 0.05)])
    got = mcrs.area_ha(_series([split], 4326))[0]
    assert got == pytest.approx(oracle.geod_area_ha(split), rel=REL)


def test_features_on_several_continents_in_one_layer():
    # a frame centred on their mean is far from each of them, but LAEA keeps area everywhere
    sites = [(65.0, 34.0), (-75.0, 5.0), (17.0, -12.0), (104.0, 13.0), (-170.0, -15.0)]
    geoms = [box(x, y, x + 0.05, y + 0.05) for x, y in sites]
    got = mcrs.area_ha(_series(geoms, 4326))
    for value, geom in zip(got, geoms, strict=True):
        assert value == pytest.approx(oracle.geod_area_ha(geom), rel=REL)


@pytest.mark.parametrize(
    "epsg,lonlat", [(3851, (-176.5, -44.0)), (3832, (-179.9, -17.0)), (32660, (179.5, 52.0))]
)
def test_projected_crs_at_the_antimeridian(epsg, lonlat):
    x, y = pyproj.Transformer.from_crs(4326, epsg, always_xy=True).transform(*lonlat)
    square = box(x, y, x + 1000, y + 1000)
    got = mcrs.area_ha(_series([square], epsg))[0]
    assert got == pytest.approx(oracle.area_ha(square, epsg), rel=REL)


def test_spike_and_sliver_polygons_match_oracle():
    # a valid polygon with a 5 km spike 1 m wide, and a 20 km sliver 0.5 m wide (UTM)
    spike = Polygon(
        [
            (500_000, 4_400_000),
            (501_000, 4_400_000),
            (501_000, 4_401_000),
            (500_501, 4_401_000),
            (500_500.5, 4_406_000),
            (500_500, 4_401_000),
            (500_000, 4_401_000),
        ]
    )
    sliver = Polygon(
        [(500_000, 4_410_000), (520_000, 4_410_000), (520_000, 4_410_000.5), (500_000, 4_410_000.5)]
    )
    assert spike.is_valid and sliver.is_valid
    got = mcrs.area_ha(_series([spike, sliver], 32638))
    assert got[0] == pytest.approx(oracle.area_ha(spike, 32638), rel=REL)
    assert got[1] == pytest.approx(oracle.area_ha(sliver, 32638), rel=REL)


def test_area_ha_with_explicit_frame_matches_default():
    geoms = _series([box(46.0, 39.0, 46.02, 39.02)], 4326)
    frame = mcrs.area_frame(gpd.GeoDataFrame(geometry=geoms))
    assert mcrs.area_ha(geoms, frame)[0] == pytest.approx(mcrs.area_ha(geoms)[0], rel=1e-12)


def test_area_ha_in_a_frame_far_away_is_still_true_area():
    # LAEA preserves area everywhere (except at the antipode): a frame 10° away still works
    geom = box(46.0, 39.0, 46.02, 39.02)
    frame = pyproj.CRS.from_proj4("+proj=laea +lat_0=30 +lon_0=40 +ellps=WGS84 +units=m")
    got = mcrs.area_ha(_series([geom], 4326), frame)[0]
    assert got == pytest.approx(oracle.geod_area_ha(geom), rel=REL)


def test_area_ha_in_feet_crs():
    # NAD83 / New York Long Island (ftUS): the densify step must follow the unit
    square_ft = box(980_000, 190_000, 990_000, 200_000)
    got = mcrs.area_ha(_series([square_ft], 2263))[0]
    assert got == pytest.approx(oracle.area_ha(square_ft, 2263), rel=REL)


# --------------------------------------------------------------------------- area_frame


def test_area_frame_is_laea_centred_on_data():
    a = gpd.GeoDataFrame(geometry=[box(46.0, 39.0, 46.2, 39.2)], crs=4326)
    b = gpd.GeoDataFrame(geometry=[box(600_000, 4_300_000, 601_000, 4_301_000)], crs=32638)
    frame = mcrs.area_frame(a, None, b)
    assert frame.coordinate_operation.method_name == "Lambert Azimuthal Equal Area"
    assert frame.ellipsoid.name == "WGS 84"
    lon0, lat0 = _frame_centre(frame)
    lon_b, lat_b = mcrs.lonlat_points(b)
    assert lon0 == pytest.approx((46.1 + lon_b[0]) / 2, abs=1e-5)
    assert lat0 == pytest.approx((39.1 + lat_b[0]) / 2, abs=1e-5)


def test_area_frame_skips_empty_layers_and_none():
    empty = gpd.GeoDataFrame(geometry=[], crs=4326)
    a = gpd.GeoDataFrame(geometry=[box(10.0, 50.0, 10.1, 50.1)], crs=4326)
    lon0, lat0 = _frame_centre(mcrs.area_frame(None, empty, a))
    assert (lon0, lat0) == pytest.approx((10.05, 50.05), abs=1e-6)
    lon0, lat0 = _frame_centre(mcrs.area_frame())
    assert (lon0, lat0) == (0.0, 0.0)


def test_lonlat_points_of_projected_layer():
    g = gpd.GeoDataFrame(geometry=[Point(500_000, 0)], crs=32638)
    lon, lat = mcrs.lonlat_points(g)
    assert lon[0] == pytest.approx(45.0)
    assert lat[0] == pytest.approx(0.0, abs=1e-9)


def test_describe_frame():
    frame = mcrs.area_frame(gpd.GeoDataFrame(geometry=[box(46.0, 39.0, 46.2, 39.2)], crs=4326))
    text = mcrs.describe_frame(frame)
    assert text.startswith("Lambert Azimuthal Equal Area centred on 39.1000°N 46.1000°E")


# --------------------------------------------------------------------------- densify


def test_max_segment_length_follows_crs_unit():
    assert mcrs.max_segment_length(pyproj.CRS(4326)) == mcrs.MAX_SEGMENT_DEGREES
    assert mcrs.max_segment_length(pyproj.CRS(32638)) == pytest.approx(1_000.0)
    feet = mcrs.max_segment_length(pyproj.CRS(2263))
    assert feet == pytest.approx(1_000.0 / 0.3048006096, rel=1e-6)


def _max_edge(geom) -> float:
    rings = [geom] if geom.geom_type == "LineString" else shapely.get_rings(geom)
    longest = 0.0
    for ring in rings:
        xy = np.asarray(ring.coords)
        longest = max(longest, float(np.hypot(*np.diff(xy, axis=0).T).max()))
    return longest


def test_densify_inserts_points_on_edges_and_keeps_area():
    donut = Polygon([(0, 0), (10, 0), (10, 10), (0, 10)], [[(2, 2), (3, 2), (3, 3), (2, 3)]])
    multi = MultiPolygon([donut, box(20, 0, 27, 3)])
    line = LineString([(0, 0), (5, 0), (5, 7)])
    geoms = np.array([donut, multi, line, Point(1, 1), None, Polygon()], dtype=object)
    before = [g.wkb if g is not None else None for g in geoms]
    out = mcrs.densify(geoms, 0.5)
    assert [g.wkb if g is not None else None for g in geoms] == before  # input untouched
    assert out[0].area == pytest.approx(donut.area, rel=1e-12)
    assert out[1].area == pytest.approx(multi.area, rel=1e-12)
    assert len(shapely.get_parts(out[1])) == 2
    assert shapely.get_num_interior_rings(shapely.get_parts(out[1])[0]) == 1
    assert out[2].length == pytest.approx(line.length)
    for k in range(3):
        assert _max_edge(out[k]) <= 0.5 + 1e-9
        assert shapely.equals(out[k], geoms[k])  # same point set, only more vertices
    assert out[3].equals(Point(1, 1))
    assert out[4] is None
    assert out[5].is_empty


def test_densify_keeps_a_bowtie_invalid_with_both_lobes():
    bowtie = Polygon([(0, 0), (2, 2), (2, 0), (0, 2)])
    dense = mcrs.densify(np.array([bowtie]), 0.25)[0]
    assert not dense.is_valid
    # both lobes survive: the noded faces cover 2 m², the signed shoelace sum is ~0
    faces = shapely.polygonize([shapely.node(dense.exterior)])
    assert sum(p.area for p in shapely.get_parts(faces)) == pytest.approx(2.0)


def test_densify_spike_and_sliver_keep_undensified_area():
    spike = Polygon(
        [(0, 0), (1000, 0), (1000, 1000), (501, 1000), (500.5, 6000), (500, 1000), (0, 1000)]
    )
    sliver = Polygon([(0, 0), (20_000, 0), (20_000, 0.5), (0, 0.5)])
    out = mcrs.densify(np.array([spike, sliver]), 10.0)
    assert out[0].area == pytest.approx(spike.area, rel=1e-12)
    assert out[1].area == pytest.approx(sliver.area, rel=1e-12)
    assert out[0].is_valid and out[1].is_valid


def test_densify_with_repeated_vertices():
    poly = Polygon([(0, 0), (0, 0), (10, 0), (10, 10), (10, 10), (0, 10)])
    out = mcrs.densify(np.array([poly]), 1.0)[0]
    assert out.area == pytest.approx(poly.area)


def test_densify_geometry_collection_part_by_part():
    gc = shapely.GeometryCollection([box(0, 0, 4, 4), LineString([(0, 0), (4, 0)])])
    out = mcrs.densify(np.array([gc], dtype=object), 1.0)[0]
    assert out.geom_type == "GeometryCollection"
    assert shapely.area(out) == pytest.approx(16.0)
    assert shapely.get_num_coordinates(out) > shapely.get_num_coordinates(gc)


def test_to_area_frame_does_not_modify_input():
    series = _series([box(46.0, 39.0, 46.3, 39.2)], 4326)
    before = series.copy()
    frame = mcrs.area_frame(gpd.GeoDataFrame(geometry=series))
    out = mcrs.to_area_frame(series, frame)
    assert series.geom_equals_exact(before, tolerance=0).all()
    assert shapely.get_num_coordinates(out[0]) > 5  # densified


# --------------------------------------------------------------------------- the oracle itself


def _lat_band_area_ha(lon_width: float, lat1: float, lat2: float) -> float:
    """Closed-form ellipsoidal area of a lon/lat cell (edges along meridians and parallels)."""
    a, f = 6_378_137.0, 1 / 298.257223563
    b, e = a * (1 - f), np.sqrt(f * (2 - f))

    def zone(lat: float) -> float:
        s = np.sin(np.radians(lat))
        return s / (1 - e**2 * s**2) + np.log((1 + e * s) / (1 - e * s)) / (2 * e)

    return float(np.radians(lon_width) * b**2 / 2 * (zone(lat2) - zone(lat1))) / 1e4


@pytest.mark.parametrize(
    "cell",
    [
        (0.0, 0.0, 1.0, 1.0),
        (46.0, 39.0, 46.5, 39.5),
        (20.0, 70.0, 20.3, 70.1),
        (-60.0, -75.1, -59.6, -75.0),
    ],
)
def test_oracle_matches_closed_form_cell_area(cell):
    expected = _lat_band_area_ha(cell[2] - cell[0], cell[1], cell[3])
    assert oracle.geod_area_ha(box(*cell)) == pytest.approx(expected, rel=1e-6)
    assert mcrs.area_ha(_series([box(*cell)], 4326))[0] == pytest.approx(expected, rel=REL)


def test_oracle_ignores_orientation_and_never_cancels_parts():
    ccw, cw = box(0.0, 0.0, 0.1, 0.1, ccw=True), box(0.2, 0.0, 0.3, 0.1, ccw=False)
    assert oracle.geod_area_ha(cw) == pytest.approx(oracle.geod_area_ha(ccw), rel=1e-9)
    assert oracle.geod_area_ha(MultiPolygon([ccw, cw])) == pytest.approx(
        2 * oracle.geod_area_ha(ccw), rel=1e-6
    )


def test_densify_leaves_geometries_with_only_short_edges_alone():
    fine = shapely.buffer(Point(0, 0), 5.0, quad_segs=64)  # 10 wide, edges ~0.12
    coarse = box(20, 0, 30, 2)
    donut = Polygon(
        box(40, 0, 50, 10).exterior.coords, [box(41, 1, 41.2, 1.2).exterior.coords]
    )  # short hole, long shell edges
    out = mcrs.densify(np.array([fine, coarse, donut], dtype=object), 0.5)
    assert out[0] is fine  # nothing to insert: the very same geometry
    assert _max_edge(out[1]) <= 0.5 + 1e-9 and _max_edge(out[2]) <= 0.5 + 1e-9
    assert out[2].area == pytest.approx(donut.area, rel=1e-12)


def test_transformer_is_cached_per_crs_pair_and_accepts_any_crs_input():
    a = mcrs.transformer(4326, "EPSG:32638")
    b = mcrs.transformer(pyproj.CRS.from_epsg(4326), pyproj.CRS.from_epsg(32638))
    assert a is b
    x, y = a.transform(45.0, 40.0)  # always_xy: longitude first
    assert x == pytest.approx(500_000.0, abs=1e-6) and 4.42e6 < y < 4.43e6
    assert mcrs.transformer(32638, 4326) is not a


@pytest.mark.parametrize(
    "epsg,x,y",
    [
        (4326, 45.0, 60.0),  # lon/lat
        (4326, -120.0, -78.0),  # far south
        (32638, 500_000.0, 4_400_000.0),  # UTM, central meridian
        (32638, 840_000.0, 4_900_000.0),  # UTM, far from it: scale and convergence
        (2263, 990_000.0, 200_000.0),  # US feet
        (3035, 4_800_000.0, 2_900_000.0),  # LAEA Europe, off its centre
    ],
)
def test_local_metric_turns_small_offsets_into_geodesic_metres(epsg, x, y):
    crs = pyproj.CRS.from_epsg(epsg)
    metric = mcrs.local_metric(np.array([x]), np.array([y]), crs)[0]
    to_ll = mcrs.transformer(crs, 4326)
    step = 1e-5 if crs.is_geographic else 2.0
    for dx, dy in [(step, 0.0), (0.0, step), (step, -step), (-step, 0.5 * step)]:
        lon0, lat0 = to_ll.transform(x, y)
        lon1, lat1 = to_ll.transform(x + dx, y + dy)
        azimuth, _, true = GEOD.inv(lon0, lat0, lon1, lat1)
        east, north = metric @ np.array([dx, dy])
        assert np.hypot(east, north) == pytest.approx(true, rel=1e-5)
        assert np.degrees(np.arctan2(east, north)) == pytest.approx(azimuth, abs=1e-3)


GRADS_WKT = (
    'GEOGCS["GCS_Voirol_1875_Paris",DATUM["D_Voirol_1875",SPHEROID["Clarke_1880_IGN",'
    '6378249.2,293.46602]],PRIMEM["Paris",2.33722917],UNIT["Grad",0.015707963267949]]'
)


@pytest.mark.parametrize("size", [0.01, 0.5, 3.0])
def test_geographic_crs_in_grads_is_measured_in_its_own_unit(size):
    """An ESRI WKT in grads, longitude first: grads are not degrees (+23 % if read so)."""
    crs = pyproj.CRS.from_wkt(GRADS_WKT)
    assert mcrs.degrees_per_unit(crs) == pytest.approx(0.9)
    geom = shapely.box(1.0, 40.0, 1.0 + size, 40.0 + size)  # grads east of Paris, north
    degrees = pyproj.CRS.from_proj4("+proj=longlat +a=6378249.2 +rf=293.46602 +no_defs")
    to_deg = pyproj.Transformer.from_crs(crs, degrees, always_xy=True)
    assert to_deg.transform(1.0, 40.0) == pytest.approx((2.33722917 + 0.9, 36.0))
    dense = shapely.segmentize(geom, size / 200)
    lonlat = shapely.transform(dense, lambda xy: np.column_stack(to_deg.transform(*xy.T)))
    geod = crs.get_geod()
    expected = abs(geod.geometry_area_perimeter(shapely.orient_polygons(lonlat))[0])
    got = mcrs.area_m2(np.array([geom]), crs)[0]
    assert got == pytest.approx(expected, rel=1e-4)


@pytest.mark.parametrize(
    "code", ["ESRI:54009", "ESRI:54030", "EPSG:8857", "EPSG:3035", "EPSG:32638"]
)
@pytest.mark.parametrize("lat", [0.5, 40.0, 64.0])
def test_small_features_in_any_projection_measure_true(code, lat):
    """Mollweide and Robinson (ESRI) are computed on a sphere by PROJ: their get_factors
    scale was 0.67 % off at the equator; the ellipsoid's own metric is used instead."""
    crs = pyproj.CRS(code)
    to = pyproj.Transformer.from_crs(4326, crs, always_xy=True)
    back = pyproj.Transformer.from_crs(crs, 4326, always_xy=True)
    x, y = to.transform(44.0, lat)
    geom = shapely.box(x, y, x + 1000, y + 1000)
    dense = shapely.segmentize(geom, 10)
    lonlat = shapely.transform(dense, lambda xy: np.column_stack(back.transform(*xy.T)))
    geod = pyproj.Geod(ellps="WGS84")
    expected = abs(geod.geometry_area_perimeter(shapely.orient_polygons(lonlat))[0])
    assert mcrs.area_m2(np.array([geom]), crs)[0] == pytest.approx(expected, rel=1e-6)
