"""Tests of minemap._validate.check_bounds on projected layers beyond their CRS's area of use.

A national dataset kept in one UTM zone routinely reaches a zone or two past it. Such data is
accepted and measured right (against an independent geodesic computation: the polygon
densified at 100 m in its own CRS, transformed to lon/lat, oriented, and measured with
``pyproj.Geod``); coordinates that cannot be where the CRS says (swapped axes, zone-prefixed
eastings, data thousands of km beyond the zone or over the pole) are refused with a message
naming the file, the ids, the bounds and the fix.
"""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import pytest
import shapely
from shapely import Polygon, box

import minemap
from minemap import _validate
from minemap._errors import CoordinateError, MinemapError, cli_spelling

GEOD = pyproj.Geod(ellps="WGS84")
REL = 1e-4  # 0.01 %


def geod_area_m2(geom: shapely.Geometry, crs: object, step: float = 100.0) -> float:
    """Independent true area: densify in the own CRS, to lon/lat, orient, pyproj.Geod."""
    dense = shapely.segmentize(geom, step)
    to_lonlat = pyproj.Transformer.from_crs(crs, 4326, always_xy=True)
    lonlat = shapely.transform(
        dense, lambda xy: np.column_stack(to_lonlat.transform(xy[:, 0], xy[:, 1]))
    )
    area, _ = GEOD.geometry_area_perimeter(shapely.orient_polygons(lonlat))
    return abs(area)


def at(lon: float, lat: float, crs: object) -> tuple[float, float]:
    """Projected coordinates of a lon/lat point."""
    x, y = pyproj.Transformer.from_crs(4326, crs, always_xy=True).transform(lon, lat)
    return float(x), float(y)


def quad(x: float, y: float, size: float) -> Polygon:
    """An irregular quadrilateral of about ``size`` metres a side, south-west corner at x, y."""
    return Polygon(
        [
            (x, y),
            (x + size, y + 0.1 * size),
            (x + 0.7 * size, y + size),
            (x - 0.2 * size, y + 0.6 * size),
        ]
    )


def hazards(geoms, crs, ids=None) -> gpd.GeoDataFrame:
    n = len(geoms)
    return gpd.GeoDataFrame(
        {"hazard_id": ids or [f"H{i + 1}" for i in range(n)], "threat_level": ["high"] * n},
        geometry=list(geoms),
        crs=crs,
    )


def total_ha(layer: gpd.GeoDataFrame) -> float:
    table = minemap.land_release_summary(minemap.read_hazards(layer))
    return float(table["hazard_ha"].iloc[-1])


def write(gdf: gpd.GeoDataFrame, path) -> object:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        pyogrio.write_dataframe(gdf, path)
    return path


def refusal(layer_or_path, **kwargs) -> str:
    with pytest.raises(CoordinateError) as excinfo:
        minemap.read_hazards(layer_or_path, **kwargs)
    exc = excinfo.value
    assert isinstance(exc, MinemapError) and isinstance(exc, ValueError)
    text = str(exc)
    assert "crs=" in text and "override_crs=True" in text, text
    return text


# --------------------------------------------------------------------------- accepted


@pytest.mark.parametrize("lat", [1.0, 20.0, 35.0, 50.0, 70.0])
@pytest.mark.parametrize("lon", [3.0, 27.0, 30.0])
@pytest.mark.parametrize("size", [1_000.0, 30_000.0, 200_000.0], ids=["1km", "30km", "200km"])
def test_utm_33n_data_two_zones_past_its_zone_is_measured_right(lon, lat, size):
    # the zone is 12°E..18°E; 3°E and 27°E are 12° from its central meridian, 30°E is 15°
    geom = quad(*at(lon, lat, 32633), size)
    expected = geod_area_m2(geom, 32633)
    assert minemap.crs.area_m2(np.array([geom]), 32633)[0] == pytest.approx(expected, rel=REL)
    assert total_ha(hazards([geom], 32633)) == pytest.approx(expected / 1e4, rel=REL)
    # UTM's own planar area is off there: trusting it would break the 0.01 % promise
    assert abs(geom.area / expected - 1.0) > 10 * REL


@pytest.mark.parametrize(
    ("epsg", "lons", "lats"),
    [
        (32633, (3.0, 27.0), (36.0, 55.0)),  # a large country kept in UTM 33N
        (32635, (22.0, 40.0), (44.5, 52.0)),  # Ukraine in UTM 35N
        (32636, (26.0, 45.0), (36.0, 42.0)),
    ],  # Turkey in UTM 36N
    ids=["33N-3E-27E", "Ukraine-35N", "Turkey-36N"],
)
def test_national_layer_across_several_zones_is_accepted_and_summed_right(epsg, lons, lats):
    rng = np.random.default_rng(epsg)
    lon = rng.uniform(*lons, 40)
    lat = rng.uniform(*lats, 40)
    lon[:2], lat[:2] = lons, lats  # both far corners
    geoms = [
        quad(*at(a, b, epsg), s)
        for a, b, s in zip(lon, lat, rng.uniform(300, 5_000, 40), strict=True)
    ]
    assert shapely.union_all(geoms).area == pytest.approx(sum(g.area for g in geoms))
    expected = sum(geod_area_m2(g, epsg) for g in geoms) / 1e4
    assert total_ha(hazards(geoms, epsg)) == pytest.approx(expected, rel=REL)


@pytest.mark.parametrize(
    ("epsg", "lon", "lat"),
    [
        (2154, 3.0, 33.0),  # Lambert-93 (France, LCC) in the Algerian Sahara: 2.5 % scale error
        (2154, 25.0, 46.0),  # Lambert-93 in Romania, along its standard parallels
        (3035, 47.0, 40.0),  # LAEA Europe in Azerbaijan, east of its area of use
        (27700, -12.0, 48.0),  # British National Grid west of its area of use
        (27572, 3.0, 36.0),
    ],  # NTF (Paris) Lambert zone II: grads from the Paris meridian
    ids=["L93-Sahara", "L93-Romania", "LAEA-Azerbaijan", "BNG-Atlantic", "NTF-Paris-grads"],
)
def test_other_projections_are_accepted_beyond_their_area_of_use(epsg, lon, lat):
    area_of_use = pyproj.CRS(epsg).area_of_use
    assert not (
        area_of_use.west <= lon <= area_of_use.east
        and area_of_use.south <= lat <= area_of_use.north
    )
    geom = quad(*at(lon, lat, epsg), 40_000.0)
    assert total_ha(hazards([geom], epsg)) == pytest.approx(geod_area_m2(geom, epsg) / 1e4, rel=REL)


def test_crs_from_a_prj_or_proj_string_follows_the_epsg_rule():
    # no area of use of their own: the EPSG CRS they match provides it
    esri = pyproj.CRS(pyproj.CRS(32633).to_wkt("WKT1_ESRI"))
    proj = pyproj.CRS("+proj=utm +zone=33 +datum=WGS84 +units=m +no_defs")
    for crs in (esri, proj):
        assert crs.area_of_use is None
        x, y = at(30.0, 45.0, 32633)
        assert len(minemap.read_hazards(hazards([box(x, y, x + 1e3, y + 1e3)], crs))) == 1
        x, y = at(16.0, 45.0, 32633)
        text = refusal(hazards([box(y, x, y + 1e3, x + 1e3)], crs))
        assert "swapped" in text


def test_crs_without_any_area_of_use_needs_only_the_round_trip():
    # minemap's own equal-area frames have no area of use: far data is still well defined
    frame = pyproj.CRS("+proj=laea +lat_0=40 +lon_0=46 +ellps=WGS84 +units=m +no_defs")
    x, y = at(-60.0, -20.0, frame)  # ~10,000 km from the centre
    geom = quad(x, y, 5_000.0)
    assert total_ha(hazards([geom], frame)) == pytest.approx(
        geod_area_m2(geom, frame) / 1e4, rel=REL
    )
    text = refusal(hazards([box(3e7, 0, 3e7 + 1e3, 1e3)], frame, ids=["beyond"]))
    assert "'beyond'" in text and "no longitude/latitude" in text


def test_web_mercator_is_accepted_anywhere_in_its_area_of_use():
    # 3857 stretches distances 5x at 78°N, but that is inside its area of use
    geom = quad(*at(20.0, 78.0, 3857), 20_000.0)
    assert total_ha(hazards([geom], 3857)) == pytest.approx(
        geod_area_m2(geom, 3857, 20.0) / 1e4, rel=REL
    )


# --------------------------------------------------------------------------- refused


def test_swapped_axes_are_refused_with_a_hint(tmp_path):
    x, y = at(16.0, 45.0, 32633)  # easting 578 km, northing 4,983 km
    good = box(x, y, x + 1e3, y + 1e3)
    swapped = box(y, x, y + 1e3, x + 1e3)
    path = write(hazards([good, swapped], 32633, ids=["ok", "turned"]), tmp_path / "hazards.gpkg")
    text = refusal(path)
    assert "hazards.gpkg" in text and "'turned'" in text and "'ok'" not in text
    assert "swapped" in text and "UTM zone 33N" in text
    assert f"x {y:.6g}..{y + 1e3:.6g}" in text  # the feature's bounds
    assert "scale error" in text


@pytest.mark.parametrize("lat", [30.5, 40.0, 50.0, 60.0])
def test_swapped_axes_are_refused_north_of_30_degrees(lat):
    # a northing past ~3,330 km (30.1°N) read as an easting puts data over 2,825 km off the
    # central meridian, where transverse Mercator stretches distances by over 10 %
    x, y = at(15.5, lat, 32633)
    refusal(hazards([box(y, x, y + 1e3, x + 1e3)], 32633))


def test_zone_prefixed_easting_is_refused():
    # Gauss-Krüger style eastings with the zone number in front (38,500,000 m)
    text = refusal(hazards([box(38_500_000, 5e6, 38_501_000, 5.001e6)], 32633, ids=["GK"]))
    assert "'GK'" in text and "no longitude/latitude" in text and "3.85e+07" in text


def test_data_where_the_projection_does_not_round_trip_is_refused():
    # 11,500 km east of the central meridian transverse Mercator has a longitude/latitude,
    # but projecting it back misses the point by more than 1 cm
    text = refusal(hazards([box(12e6, 5e5, 12.001e6, 5.01e5)], 32633, ids=["edge"]))
    assert "'edge'" in text and "not well defined there" in text and "1 cm" in text


@pytest.mark.parametrize(("lon", "lat"), [(45.0, 5.0), (55.0, 35.0), (60.0, 45.0)])
def test_data_thousands_of_km_beyond_the_zone_is_refused(lon, lat):
    # 30°..45° of longitude from the central meridian: distances stretched by over 10 %
    x, y = at(lon, lat, 32633)
    text = refusal(hazards([box(x, y, x + 1e3, y + 1e3)], 32633, ids=["far"]))
    assert "'far'" in text and "area of use is longitude 12..18" in text
    assert f"longitude {lon:.4g}, latitude {lat:.4g}" in text


def test_same_longitude_offset_is_accepted_nearer_the_pole():
    # the rule is how much the projection stretches, not degrees of longitude
    x, y = at(55.0, 55.0, 32633)  # 40° from the meridian, but the scale error is 7.5 %
    assert len(minemap.read_hazards(hazards([box(x, y, x + 1e3, y + 1e3)], 32633))) == 1


def test_southern_coordinates_labelled_northern_across_the_pole_are_refused():
    # UTM 33S northings 9,990..10,010 km (straddling the equator) read as UTM 33N run over the
    # north pole and down the other side of the globe
    geoms = [
        box(500_000, 9_990_000, 501_000, 10_010_000),
        box(500_000, 9_700_000, 501_000, 9_701_000),
    ]
    text = refusal(hazards(geoms, 32633, ids=["equator", "south"]))
    assert "'equator'" in text and "over a pole" in text and "'south'" not in text


def test_other_projections_refuse_data_far_beyond_their_area_of_use():
    x, y = at(3.0, 12.0, 2154)  # Lambert-93 in the Sahel: 17 % scale error
    text = refusal(hazards([box(x, y, x + 1e3, y + 1e3)], 2154))
    assert "Lambert-93" in text and "scale error" in text
    x, y = at(110.0, 35.0, 3035)  # LAEA Europe in China
    refusal(hazards([box(x, y, x + 1e3, y + 1e3)], 3035))


def test_refusal_names_the_cli_options_when_the_cli_reads():
    with cli_spelling(crs="--crs", override_crs="--override-crs"):
        text = refusal(hazards([box(38_500_000, 5e6, 38_501_000, 5.001e6)], 32633))
    assert "--crs (Python: crs=)" in text and "--override-crs (Python: override_crs=True)" in text


def test_override_crs_is_the_fix():
    x, y = at(45.0, 40.0, 32638)  # UTM 38N coordinates written by a tool that says 33N ...
    raw = hazards([box(x, y, x + 1e3, y + 1e3)], 32633)
    # ... land in zone 33 itself: nothing in the coordinates tells, and they are accepted
    assert len(minemap.read_hazards(raw)) == 1
    # swapped, they are refused; the fix the message names works
    turned = hazards([box(y, x, y + 1e3, x + 1e3)], 32633)
    refusal(turned)
    fixed = turned.set_geometry(
        shapely.transform(turned.geometry.array, lambda xy: xy[:, ::-1]), crs=32633
    )
    out = minemap.read_hazards(fixed, crs="EPSG:32638", override_crs=True)
    assert out.crs.equals(pyproj.CRS(32638))


# --------------------------------------------------------------------------- speed


def _scattered(n: int, lons: tuple[float, float], seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x, y = pyproj.Transformer.from_crs(4326, 32633, always_xy=True).transform(
        rng.uniform(*lons, n), rng.uniform(40.0, 55.0, n)
    )
    return shapely.buffer(shapely.points(x, y), rng.uniform(50.0, 500.0, n), quad_segs=4)


def test_features_inside_the_zone_project_nothing(monkeypatch):
    judged = []
    real = _validate._judge_points
    monkeypatch.setattr(
        _validate, "_judge_points", lambda x, *a, **k: judged.append(len(x)) or real(x, *a, **k)
    )
    geoms = _scattered(20_000, (13.0, 17.0))
    _validate._domain(pyproj.CRS(32633))  # cached per CRS: built before counting
    judged.clear()
    _validate.check_bounds(geoms, pyproj.CRS(32633), pd.Series(range(len(geoms))), "x")
    assert judged == []


def test_features_beyond_the_zone_are_judged_once_per_cell(monkeypatch):
    judged = []
    real = _validate._judge_points
    monkeypatch.setattr(
        _validate, "_judge_points", lambda x, *a, **k: judged.append(len(x)) or real(x, *a, **k)
    )
    geoms = _scattered(100_000, (3.0, 27.0))
    _validate._domain(pyproj.CRS(32633))
    judged.clear()
    _validate.check_bounds(geoms, pyproj.CRS(32633), pd.Series(range(len(geoms))), "x")
    # 400,000 corners and 20,000 sampled vertices over ~1,900 x 1,700 km: ~33,000 cells (the
    # work is counted, not timed: timing belongs to benchmarks/)
    assert len(judged) == 1 and judged[0] < 40_000


# --------------------------------------------------------------------------- lon/lat


@pytest.mark.parametrize(
    "geom",
    [
        box(179.5, -17.0, 181.5, -16.0),  # Fiji, written 179..182
        box(-180.5, 65.0, -179.5, 66.0),  # Chukotka, west side
        box(200.0, 10.0, 201.0, 11.0),
    ],
)  # 0..360 convention
def test_lonlat_data_written_past_180_is_accepted_and_measured_right(geom):
    layer = hazards([geom], 4326)
    geod = pyproj.Geod(ellps="WGS84")
    dense = shapely.segmentize(geom, 0.001)
    expected = abs(geod.geometry_area_perimeter(shapely.orient_polygons(dense))[0]) / 1e4
    assert total_ha(layer) == pytest.approx(expected, rel=1e-4)


@pytest.mark.parametrize(
    ("geom", "fragment"),
    [
        (box(500_000, 4_400_000, 501_000, 4_401_000), "projected metres"),  # metres as degrees
        (box(39.0, 95.0, 40.0, 96.0), "swapped"),  # latitude past 90
        (box(-200.0, 10.0, 200.0, 11.0), "swapped"),  # wider than the globe
        (box(361.0, 10.0, 362.0, 11.0), "swapped"),
    ],
)
def test_lonlat_outside_the_globe_is_refused(geom, fragment):
    with pytest.raises(CoordinateError) as excinfo:
        minemap.read_hazards(hazards([geom], 4326))
    assert fragment in str(excinfo.value) and "'H1'" in str(excinfo.value)
