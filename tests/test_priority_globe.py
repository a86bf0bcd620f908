"""Priority zones and the ranking for data spread round the globe: hazards and features at
0°, 90°E, 90°W and around 180° in one layer, against independent computations."""

from __future__ import annotations

import numpy as np
import pyproj
import pytest
import shapely
from shapely import LineString, Point, box
from test_priority import by_key, geodesic_ha, layer, oracle_buffer, to_lonlat

from minemap import crs as _crs
from minemap.priority import CATEGORIES, _true_buffers, priority_zones

WGS84 = pyproj.CRS.from_epsg(4326)
#: Where the clusters are: the equal-area frame centred on them has its antipode on one.
CENTRES = ((0.0, 10.0), (90.0, 10.0), (-90.0, 10.0), (180.0, 50.0))
DISTANCES = {"roads": 100.0, "infrastructure": 250.0, "residential": 500.0}


def near(geoms, lon: float):
    """Longitudes written continuously around ``lon`` (179.5..180.5 near 180°)."""
    return [shapely.transform(g, lambda xy: np.column_stack(
        [lon + (xy[:, 0] - lon + 180.0) % 360.0 - 180.0, xy[:, 1]])) for g in geoms]


def local(geoms, lon: float, lat: float, step: float = 5.0) -> list:
    return near(to_lonlat(geoms, lon, lat, step), lon)


def cluster(lon: float, lat: float, k: int, long_road: bool = False) -> dict:
    roads = [LineString([(-2000, 750), (4000, 750)])]
    if long_road:  # one 120 km segment: too long for a local affine frame
        roads.append(LineString([(-60000, 1800), (60000, 1900)]))
    return {
        "hazards": (local([box(0, 0, 2000, 1500), box(1500, 500, 3000, 2000)], lon, lat),
                    [f"H{k}a", f"H{k}b"], ["medium", "high"]),
        "releases": local([box(200, 200, 900, 700)], lon, lat),
        "roads": local(roads, lon, lat, step=5.0 if not long_road else 1e9),
        "infrastructure": local([Point(1200, 900), Point(2600, 1800)], lon, lat),
        "residential": local([box(-300, 1400, 400, 1900), Point(-1500, 3000)], lon, lat),
    }


def scene(centres=CENTRES, long_road=False, cut=False):
    parts = [cluster(lon, lat, k, long_road) for k, (lon, lat) in enumerate(centres)]
    hz = [g for p in parts for g in p["hazards"][0]]
    hazards = layer(hz, hazard_id=[i for p in parts for i in p["hazards"][1]],
                    threat_level=[t for p in parts for t in p["hazards"][2]])
    rel = [g for p in parts for g in p["releases"]]
    releases = layer(rel, release_id=list(range(len(rel))), method=["cleared"] * len(rel),
                     release_date=["2022-01-01"] * len(rel))
    feats = {c: layer([g for p in parts for g in p[c]]) for c in CATEGORIES}
    if cut:  # the same places written in [-180°, 180°], cut along the antimeridian
        def canon(gdf):
            return gdf.set_geometry(_crs.canonical_lonlat(np.asarray(gdf.geometry.array), WGS84))
        hazards, releases = canon(hazards), canon(releases)
        feats = {c: canon(g) for c, g in feats.items()}
    return hazards, releases, feats


def unwrapped_buffer(geom, distance):
    c = geom.centroid.x
    return near([oracle_buffer(geom, distance)], c)[0]


def oracle(hazards, releases, feats) -> dict:
    """Zone ha per (category, threat level): AEQD buffer per feature, overlays in
    continuous longitudes, geodesic areas (as tests/test_priority.py's oracle)."""
    released = shapely.union_all(list(releases.geometry))
    remaining, taken_levels = {}, None
    for level in ("high", "medium", "low"):
        geom = shapely.union_all(list(hazards.loc[hazards.threat_level == level].geometry))
        if taken_levels is not None:
            geom = geom.difference(taken_levels)
        taken_levels = geom if taken_levels is None else taken_levels.union(geom)
        remaining[level] = geom.difference(released)
    out, taken = {}, None
    for category in CATEGORIES:
        zone = shapely.union_all([unwrapped_buffer(g, DISTANCES[category])
                                  for g in feats[category].geometry])
        if taken is not None:
            zone = zone.difference(taken)
        taken = zone if taken is None else taken.union(zone)
        for level, geom in remaining.items():
            out[(category, level)] = geodesic_ha(geom.intersection(zone))
    return out


@pytest.fixture(scope="module", params=[False, True], ids=["short-roads", "long-road"])
def expected(request):
    return request.param, oracle(*scene(long_road=request.param))


@pytest.mark.parametrize("cut", [False, True], ids=["past-180", "cut-at-180"])
def test_zones_round_the_globe_match_geodesic_oracle(expected, cut):
    long_road, want = expected
    got = by_key(priority_zones(*scene(long_road=long_road, cut=cut)[:2],
                                **scene(long_road=long_road, cut=cut)[2]))
    assert set(got) == {k for k, v in want.items() if v > 0}
    for key, value in want.items():
        if value > 0:
            assert got[key] == pytest.approx(value, rel=1e-4), key


def test_large_feature_near_the_frame_antipode_is_buffered_true():
    """A frame whose antipode is on the feature: the buffer is made in a frame near it."""
    frame = pyproj.CRS.from_proj4("+proj=laea +lat_0=-50 +lon_0=0 +ellps=WGS84 +units=m")
    road = LineString([(179.4, 50.0), (180.6, 50.01)])  # 86 km, one segment
    buffers = _true_buffers(np.array([road]), WGS84, np.array([100.0]), WGS84, frame=frame,
                            split_lines=True)
    got = sum(geodesic_ha(b) for b in shapely.get_parts(_crs.canonical_lonlat(buffers, WGS84)))
    want = geodesic_ha(shapely.union_all(near([oracle_buffer(road, 100.0)], 180.0)))
    assert got == pytest.approx(want, rel=1e-3)
    assert shapely.bounds(shapely.union_all(buffers))[[0, 2]].tolist() == pytest.approx(
        [-180.0, 180.0])
