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
from minemap.ranking import rank_hazards

WGS84 = pyproj.CRS.from_epsg(4326)
#: Where the clusters are: the equal-area frame centred on them has its antipode on one.
CENTRES = ((0.0, 10.0), (90.0, 10.0), (-90.0, 10.0), (180.0, 50.0))
#: The same, with the shared frame's centre at (0°, 0°) and its antipode on the 180° cluster.
AT_ANTIPODE = ((0.0, 0.0), (0.0, 0.5), (90.0, 0.0), (-90.0, 0.0), (180.0, 0.0))
DISTANCES = {"roads": 100.0, "infrastructure": 250.0, "residential": 500.0}


def near(geoms, lon: float):
    """Longitudes written continuously around ``lon`` (179.5..180.5 near 180°)."""
    return [
        shapely.transform(
            g,
            lambda xy: np.column_stack([lon + (xy[:, 0] - lon + 180.0) % 360.0 - 180.0, xy[:, 1]]),
        )
        for g in geoms
    ]


def local(geoms, lon: float, lat: float, step: float = 5.0) -> list:
    return near(to_lonlat(geoms, lon, lat, step), lon)


def cluster(lon: float, lat: float, k: int, long_road: bool = False) -> dict:
    roads = [LineString([(-2000, 750), (4000, 750)])]
    if long_road:  # one 120 km segment: too long for a local affine frame
        roads.append(LineString([(-60000, 1800), (60000, 1900)]))
    return {
        "hazards": (
            local([box(0, 0, 2000, 1500), box(1500, 500, 3000, 2000)], lon, lat),
            [f"H{k}a", f"H{k}b"],
            ["medium", "high"],
        ),
        "releases": local([box(200, 200, 900, 700)], lon, lat),
        "roads": local(roads, lon, lat, step=5.0 if not long_road else 1e9),
        "infrastructure": local([Point(1200, 900), Point(2600, 1800)], lon, lat),
        "residential": local([box(-300, 1400, 400, 1900), Point(-1500, 3000)], lon, lat),
    }


def scene(centres=CENTRES, long_road=False, cut=False):
    parts = [cluster(lon, lat, k, long_road) for k, (lon, lat) in enumerate(centres)]
    hz = [g for p in parts for g in p["hazards"][0]]
    hazards = layer(
        hz,
        hazard_id=[i for p in parts for i in p["hazards"][1]],
        threat_level=[t for p in parts for t in p["hazards"][2]],
    )
    rel = [g for p in parts for g in p["releases"]]
    releases = layer(
        rel,
        release_id=list(range(len(rel))),
        method=["cleared"] * len(rel),
        release_date=["2022-01-01"] * len(rel),
    )
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
        zone = shapely.union_all(
            [unwrapped_buffer(g, DISTANCES[category]) for g in feats[category].geometry]
        )
        if taken is not None:
            zone = zone.difference(taken)
        taken = zone if taken is None else taken.union(zone)
        for level, geom in remaining.items():
            out[(category, level)] = geodesic_ha(geom.intersection(zone))
    return out


@pytest.fixture(
    scope="module",
    params=[(CENTRES, False), (CENTRES, True), (AT_ANTIPODE, False), (AT_ANTIPODE, True)],
    ids=["short-roads", "long-road", "antipode-short-roads", "antipode-long-road"],
)
def expected(request):
    centres, long_road = request.param
    return centres, long_road, oracle(*scene(centres, long_road=long_road))


@pytest.mark.parametrize("cut", [False, True], ids=["past-180", "cut-at-180"])
def test_zones_round_the_globe_match_geodesic_oracle(expected, cut):
    centres, long_road, want = expected
    hazards, releases, feats = scene(centres, long_road=long_road, cut=cut)
    got = by_key(priority_zones(hazards, releases, **feats))
    assert set(got) == {k for k, v in want.items() if v > 0}
    for key, value in want.items():
        if value > 0:
            assert got[key] == pytest.approx(value, rel=1e-4), key


def test_large_feature_near_the_frame_antipode_is_buffered_true():
    """A frame whose antipode is on the feature: the buffer is made in a frame near it."""
    frame = pyproj.CRS.from_proj4("+proj=laea +lat_0=-50 +lon_0=0 +ellps=WGS84 +units=m")
    road = LineString([(179.4, 50.0), (180.6, 50.01)])  # 86 km, one segment
    buffers = _true_buffers(
        np.array([road]), WGS84, np.array([100.0]), WGS84, frame=frame, split_lines=True
    )
    got = sum(geodesic_ha(b) for b in shapely.get_parts(_crs.canonical_lonlat(buffers, WGS84)))
    want = geodesic_ha(shapely.union_all(near([oracle_buffer(road, 100.0)], 180.0)))
    assert got == pytest.approx(want, rel=1e-3)
    assert shapely.bounds(shapely.union_all(buffers))[[0, 2]].tolist() == pytest.approx(
        [-180.0, 180.0]
    )


def true_distances(hazards, releases, feats) -> dict:
    """Metres from each hazard's remaining piece to the nearest feature of each category:
    AEQD centred on the piece (distances from near its centre are true), continuous
    longitudes."""
    released = shapely.union_all(list(releases.geometry))
    out = {}
    high = shapely.union_all(list(hazards.loc[hazards.threat_level == "high"].geometry))
    for hid, level, geom in zip(
        hazards.hazard_id, hazards.threat_level, hazards.geometry, strict=True
    ):
        piece = geom.difference(released)
        if level != "high":
            piece = piece.difference(high)
        c = piece.centroid
        frame = aeqd_at(c.x, c.y)
        target = _crs.project_dense(np.array([shapely.segmentize(piece, 0.0005)]), WGS84, frame)[0]
        for category, gdf in feats.items():
            close = [
                g
                for g in gdf.geometry
                if abs(g.centroid.x - c.x) < 5 and abs(g.centroid.y - c.y) < 5
            ]
            local_ = _crs.project_dense(shapely.segmentize(np.array(close), 0.0005), WGS84, frame)
            out[(hid, category)] = float(shapely.distance(target, local_).min())
    return out


def aeqd_at(lon: float, lat: float) -> pyproj.CRS:
    return pyproj.CRS.from_proj4(f"+proj=aeqd +lat_0={lat} +lon_0={lon} +ellps=WGS84 +units=m")


@pytest.mark.parametrize("centres", [CENTRES, AT_ANTIPODE], ids=["spread", "antipode"])
@pytest.mark.parametrize("cut", [False, True], ids=["past-180", "cut-at-180"])
def test_ranking_distances_round_the_globe_are_true(cut, centres):
    want = true_distances(*scene(centres))
    hazards, releases, feats = scene(centres, cut=cut)
    ranking = rank_hazards(hazards, releases, **feats).set_index("hazard_id")
    assert (ranking[[f"{c}_distance_m" for c in CATEGORIES]].to_numpy() > 0).sum() >= 4
    for (hid, category), value in want.items():
        got = ranking.loc[hid, f"{category}_distance_m"]
        assert got == pytest.approx(value, rel=2e-3, abs=0.5), (hid, category)
    assert ranking["remaining_ha"].sum() == pytest.approx(
        sum(want_remaining_ha(*scene(centres)).values()), rel=1e-4
    )


def want_remaining_ha(hazards, releases, feats) -> dict:
    released = shapely.union_all(list(releases.geometry))
    high = shapely.union_all(list(hazards.loc[hazards.threat_level == "high"].geometry))
    return {
        hid: geodesic_ha(
            g.difference(released) if lvl == "high" else g.difference(released).difference(high)
        )
        for hid, lvl, g in zip(
            hazards.hazard_id, hazards.threat_level, hazards.geometry, strict=True
        )
    }


@pytest.mark.parametrize("centres", [CENTRES, AT_ANTIPODE], ids=["spread", "antipode"])
@pytest.mark.parametrize("cut", [False, True], ids=["past-180", "cut-at-180"])
def test_map_legend_hectares_round_the_globe_equal_the_figures(cut, centres):
    """The map's legend shows the summary's hectares and the zones' own zone_ha."""
    import re
    import warnings

    from minemap import land_release_summary, maps
    from minemap._errors import DataWarning

    hazards, releases, feats = scene(centres, cut=cut)
    zones = priority_zones(hazards, releases, **feats)
    fmap = maps.hazard_map(hazards, releases, priority=zones, tiles=None, **feats)
    page = maps.map_html(fmap, offline=True)
    legend = page[page.index('id="minemap-legend"') :]
    legend = legend[: legend.index("</div></div>")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        table = land_release_summary(hazards, releases).set_index("threat_level")
    for level in ("high", "medium"):
        assert f"{table.loc[level, 'hazard_ha']:,.2f} ha" in legend
    for column in ("cleared_ha", "remaining_ha"):
        assert f"{table.loc['total', column]:,.2f} ha" in legend
    assert f"{zones['zone_ha'].sum():,.2f} ha" in legend
    for row in re.findall(r'\["Area", "([0-9,.]+) ha"\]', page[: page.index("minemap-legend")]):
        assert row  # every tooltip area is a number
    assert zones["zone_ha"].sum() == pytest.approx(sum(oracle(*scene(centres)).values()), rel=1e-4)


def test_population_round_the_globe_is_counted_where_the_hazards_are(tmp_path):
    """People within 1000 m of the hazards at 180° (a raster west of 180°, the buffers
    reaching across it), in a layer whose shared frame has its antipode there."""
    import rasterio
    from rasterio.transform import Affine

    path = tmp_path / "pop.tif"
    cell = 0.005
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=20,
        height=20,
        count=1,
        dtype="float32",
        crs="EPSG:4326",
        nodata=-9999,
        transform=Affine(cell, 0, -180.0, 0, -cell, 0.07),
    ) as ds:
        ds.write(np.full((20, 20), 7.0, dtype="float32"), 1)
    extent = box(-180.0, 0.07 - 20 * cell, -180.0 + 20 * cell, 0.07)
    hazards, releases, feats = scene(AT_ANTIPODE, cut=True)
    with pytest.warns(Warning, match="outside the population raster"):
        ranking = rank_hazards(hazards, releases, population=path, **feats)
    got = ranking.set_index("hazard_id")["population"]
    # oracle: each remaining piece buffered in an AEQD frame on it, cut at 180°; a cell
    # counts by the share of it (in degrees, as exactextract weighs it) the buffer covers
    plain, released, _ = scene(AT_ANTIPODE)
    released = shapely.union_all(list(released.geometry))
    high = shapely.union_all(list(plain.loc[plain.threat_level == "high"].geometry))
    for hid in ("H4a", "H4b"):
        row = plain.set_index("hazard_id").loc[hid]
        piece = row.geometry.difference(released)
        if row.threat_level != "high":
            piece = piece.difference(high)
        buffer = _crs.canonical_lonlat(np.array([unwrapped_buffer(piece, 1000.0)]), WGS84)[0]
        want = 7.0 * buffer.intersection(extent).area / cell**2
        assert want > 50
        assert got[hid] == pytest.approx(want, rel=2e-3), hid  # buffers within 0.2 %


def test_population_of_hazards_at_180_alone_is_counted_where_they_are(tmp_path):
    """One region at 180° (the shared frame fits): buffers across 180° are cut there
    before the lon/lat raster is read, as for data spread round the globe."""
    import rasterio
    from rasterio.transform import Affine

    path = tmp_path / "pop.tif"
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=20,
        height=20,
        count=1,
        dtype="float32",
        crs="EPSG:4326",
        nodata=-9999,
        transform=Affine(0.005, 0, -180.0, 0, -0.005, 0.07),
    ) as ds:
        ds.write(np.full((20, 20), 7.0, dtype="float32"), 1)
    alone = scene(((180.0, 0.0),), cut=True)
    got = rank_hazards(alone[0], alone[1], population=path, **alone[2])
    hazards, releases, feats = scene(AT_ANTIPODE, cut=True)
    with pytest.warns(Warning, match="outside the population raster"):
        spread = rank_hazards(hazards, releases, population=path, **feats)
    got = got.set_index("hazard_id")["population"]
    want = spread.set_index("hazard_id")["population"]  # checked against an oracle above
    assert got["H0a"] == pytest.approx(want["H4a"], rel=1e-3)
    assert got["H0b"] == pytest.approx(want["H4b"], rel=1e-3)
