"""Tests of minemap.crs on data spread round the globe and on whole-Earth polygons.

An equal-area frame centred on the data is useless near its antipode: every feature must
still be measured within 0.01 % of the geodesic oracle (``tests/_oracle.py``), wherever it
is and whatever else is in the layer.
"""

from __future__ import annotations

import _oracle as oracle
import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely import MultiPolygon, box

from minemap import crs as mcrs

REL = oracle.REL
#: Area of the WGS 84 ellipsoid: 4 π R² with its authalic radius (m²).
EARTH_M2 = 4.0 * np.pi * 6_371_007.180918475**2


def _lonlat_box(lon: float, lat: float, half: float) -> shapely.Geometry:
    """A lon/lat box centred on (lon, lat); cut at ±180° like Natural Earth's Fiji."""
    west, east = lon - half, lon + half
    if east > 180.0:
        return MultiPolygon(
            [
                box(west, lat - half, 180.0, lat + half),
                box(-180.0, lat - half, east - 360.0, lat + half),
            ]
        )
    return box(west, lat - half, east, lat + half)


@pytest.mark.parametrize("half", [0.04, 0.5, 2.25])  # ~9 km, ~110 km and ~500 km wide
@pytest.mark.parametrize("lat", [0.0, 50.0])
def test_hazards_at_0_90e_90w_and_180_each_measured_true(half, lat):
    # the circular mean of 0°, 90°E, 90°W and 180° puts the frame's antipode on one of them
    geoms = [_lonlat_box(lon, lat, half) for lon in (0.0, 90.0, -90.0, 180.0 - half)]
    got = mcrs.area_ha(gpd.GeoSeries(geoms, crs=4326))
    for value, geom in zip(got, geoms, strict=True):
        assert value == pytest.approx(oracle.geod_area_ha(geom), rel=REL)


def test_feature_on_the_antipode_of_an_explicit_frame():
    frame = pyproj.CRS.from_proj4("+proj=laea +lat_0=10 +lon_0=20 +ellps=WGS84 +units=m")
    geom = box(-161.0, -11.0, -159.0, -9.0)  # centred on the frame's antipode
    got = mcrs.area_ha(gpd.GeoSeries([geom], crs=4326), frame)[0]
    assert got == pytest.approx(oracle.geod_area_ha(geom), rel=REL)


def test_lonlat_written_past_180_is_measured_where_it_is():
    continuous = box(179.0, -17.0, 181.0, -16.0)
    split = MultiPolygon([box(179.0, -17.0, 180.0, -16.0), box(-180.0, -17.0, -179.0, -16.0)])
    got = mcrs.area_ha(gpd.GeoSeries([continuous, box(0.0, 16.0, 2.0, 17.0)], crs=4326))
    assert got[0] == pytest.approx(oracle.geod_area_ha(split), rel=REL)
    assert got[1] == pytest.approx(oracle.geod_area_ha(split), rel=REL)  # its antipode


@pytest.mark.parametrize("crs", ["EPSG:8857", "ESRI:54009"])  # Equal Earth, Mollweide
def test_projected_world_crs_with_data_round_the_globe(crs):
    to_xy = pyproj.Transformer.from_crs(4326, crs, always_xy=True)
    squares = []
    for lon, lat in ((0.0, 0.0), (90.0, 20.0), (-90.0, -20.0), (178.0, 5.0)):
        x, y = to_xy.transform(lon, lat)
        squares.append(box(x - 150_000, y - 150_000, x + 150_000, y + 150_000))
    got = mcrs.area_ha(gpd.GeoSeries(squares, crs=crs))
    for value, square in zip(got, squares, strict=True):
        assert value == pytest.approx(oracle.area_ha(square, crs), rel=REL)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.floats(-179.0, 179.0),
            st.floats(-70.0, 70.0),
            st.sampled_from([0.03, 0.3, 1.0, 2.25]),
        ),
        min_size=2,
        max_size=5,
    )
)
def test_any_spread_of_boxes_is_measured_true(sites):
    geoms = [box(lon - half, lat - half, lon + half, lat + half) for lon, lat, half in sites]
    got = mcrs.area_ha(gpd.GeoSeries(geoms, crs=4326))
    for value, geom in zip(got, geoms, strict=True):
        assert value == pytest.approx(oracle.geod_area_ha(geom, step=0.002), rel=REL)


# --------------------------------------------------------------------------- whole Earth


@pytest.mark.parametrize(
    "geom",
    [box(-180.0, -90.0, 180.0, 90.0), box(0.0, -90.0, 360.0, 90.0), box(-360.0, -90.0, 0.0, 90.0)],
)
def test_whole_earth_polygon_has_the_earths_area(geom):
    got = mcrs.area_ha(gpd.GeoSeries([geom], crs=4326))[0] * 1e4
    assert got == pytest.approx(EARTH_M2, rel=1e-7)
    # Geod's own figure for that ring is ~0 (its edges cancel); its four quarters are right
    quarters = sum(
        oracle.geod_area_m2(q, step=0.01)
        for q in (
            box(-180, -90, 0, 0),
            box(0, -90, 180, 0),
            box(-180, 0, 0, 90),
            box(0, 0, 180, 90),
        )
    )
    assert got == pytest.approx(quarters, rel=REL)


@pytest.mark.parametrize(
    "geom",
    [
        box(-180.0, -10.0, 180.0, 10.0),
        box(-180.0, 60.0, 180.0, 90.0),
        box(-180.0, -90.0, 180.0, 30.0),
    ],
)
def test_rings_round_the_globe_and_polar_caps(geom):
    got = mcrs.area_ha(gpd.GeoSeries([geom], crs=4326))[0]
    west, south, east, north = geom.bounds
    halves = [box(west, south, 0.0, north), box(0.0, south, east, north)]
    assert got == pytest.approx(sum(oracle.geod_area_ha(h, step=0.01) for h in halves), rel=REL)


def test_whole_earth_with_a_hole():
    hole = box(10.0, 10.0, 12.0, 12.0)
    geom = shapely.Polygon(box(-180, -90, 180, 90).exterior.coords, [hole.exterior.coords])
    got = mcrs.area_ha(gpd.GeoSeries([geom], crs=4326))[0] * 1e4
    assert got == pytest.approx(EARTH_M2 - oracle.geod_area_m2(hole), rel=1e-7)


# --------------------------------------------------------------------------- lon/lat windows


def test_canonical_lonlat_cuts_at_180_and_keeps_area():
    geoms = np.array(
        [
            box(179.0, 0.0, 181.0, 1.0),
            box(-181.0, 0.0, -179.0, 1.0),
            box(10.0, 0.0, 11.0, 1.0),
            None,
        ],
        dtype=object,
    )
    out = mcrs.canonical_lonlat(geoms, 4326)
    assert out[2] is geoms[2] and out[3] is None
    for g in out[:2]:
        assert g.bounds[0] >= -180.0 and g.bounds[2] <= 180.0
        assert g.area == pytest.approx(2.0)
        assert g.is_valid


def test_canonical_lonlat_of_a_band_from_0_to_360_is_one_valid_band():
    out = mcrs.canonical_lonlat(np.array([box(0.0, -5.0, 360.0, 5.0)]), 4326)[0]
    assert out.is_valid and out.area == pytest.approx(3600.0)
    assert out.bounds == (-180.0, -5.0, 180.0, 5.0)


def test_to_crs_dense_cuts_projected_data_crossing_the_antimeridian():
    # EPSG:3832 (PDC Mercator, centred on 150°E) is continuous across 180°
    to_pdc = pyproj.Transformer.from_crs(4326, 3832, always_xy=True)
    x0, y0 = to_pdc.transform(179.0, -17.0)
    x1, y1 = to_pdc.transform(-179.0, -16.0)
    square = box(x0, y0, x1, y1)
    got = mcrs.to_crs_dense(gpd.GeoSeries([square], crs=3832), pyproj.CRS(4326))[0]
    assert got.geom_type == "MultiPolygon"
    assert got.bounds[0] == pytest.approx(-180.0) and got.bounds[2] == pytest.approx(180.0)
    assert sum(p.bounds[2] - p.bounds[0] for p in got.geoms) == pytest.approx(2.0, abs=1e-6)
