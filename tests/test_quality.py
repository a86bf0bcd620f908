"""Tests of minemap.quality: every check on hand-made layers, areas against pyproj.Geod."""

from __future__ import annotations

import itertools
import os
import warnings
from pathlib import Path

import _oracle as oracle
import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import pytest
import shapely
from shapely import Point, Polygon, box

from minemap._errors import CRSError, SchemaError
from minemap.io import read_layer
from minemap.quality import (
    CHECKS,
    FINDING_COLUMNS,
    MAX_AREA_M2,
    check_layers,
)

FIXTURES = Path(os.path.dirname(pyogrio.__file__)) / "tests" / "fixtures"


def bowtie(x: float, y: float, d: float = 0.01) -> Polygon:
    """A self-crossing ring (GEOS: Self-intersection at its middle)."""
    return Polygon([(x, y), (x + d, y + d), (x + d, y), (x, y + d)])


def rotated(polygon: Polygon) -> Polygon:
    """The same polygon, its ring started at another vertex and run the other way."""
    ring = list(polygon.exterior.coords)[:-1]
    ring = ring[2:] + ring[:2]
    return Polygon(ring[::-1])


def findings_of(report) -> set[tuple]:
    return set(report.findings[["layer", "row", "id", "check"]].itertuples(index=False, name=None))


def m2(geom: shapely.Geometry, crs: object = 4326) -> float:
    """Independent true area (m²): pyproj.Geod on the geometry densified in its own CRS."""
    return oracle.geod_area_m2(oracle.to_lonlat([geom], crs)[0])


# ------------------------------------------------------------------------------ every check

A = box(46.00, 39.00, 46.01, 39.01)
B = box(46.009, 39.00, 46.02, 39.01)  # overlaps A along a 0.001° strip
HAZARDS = gpd.GeoDataFrame(
    {
        "hazard_id": ["H1", "H2", "H3", "H4", "H5", "H6", "H1", None, "H9", "H10", "H11", "H12"],
        "threat_level": [
            "high",
            "low",
            "medium",
            "high",
            "high",
            "high",
            "medium",
            "low",
            "Zone rouge",
            " CHA ",
            "high",
            "low",
        ],
    },
    geometry=[
        A,
        B,
        bowtie(46.1, 39.0),
        Point(46.2, 39.0),
        Polygon(),
        None,
        box(46.3, 39.0, 46.31, 39.01),
        box(46.4, 39.0, 46.41, 39.01),
        box(46.5, 39.0, 46.51, 39.01),
        rotated(A),  # the same polygon as H1, written from another vertex
        box(46.6, 39.0, 46.6 + 8e-6, 39.0 + 8e-6),  # about 0.6 m²
        box(46.0, 38.6, 46.2, 38.8),  # about 385 km²
    ],
    crs=4326,
)
RELEASES = gpd.GeoDataFrame(
    {"release_id": ["R1", "R2", "R3", "R4"]},
    geometry=[
        box(46.002, 39.002, 46.005, 39.005),  # inside H1
        box(46.015, 39.002, 46.03, 39.005),  # partly outside H2
        box(46.7, 39.0, 46.705, 39.005),  # outside every hazard
        bowtie(46.3, 39.0, 0.005),  # inside H1's namesake, but invalid
    ],
    crs=4326,
)
EXPECTED = {
    ("hazards", 3, "H3", "invalid"),
    ("hazards", 4, "H4", "not_polygon"),
    ("hazards", 5, "H5", "empty"),
    ("hazards", 6, "H6", "empty"),
    ("hazards", 1, "H1", "duplicate_id"),
    ("hazards", 7, "H1", "duplicate_id"),
    ("hazards", 8, "row 8", "missing_id"),
    ("hazards", 10, "H10", "duplicate_geometry"),
    ("hazards", 9, "H9", "unknown_level"),
    ("hazards", 11, "H11", "implausible_area"),
    ("hazards", 12, "H12", "implausible_area"),
    ("hazards", 1, "H1", "overlap_different_level"),
    ("hazards", 2, "H2", "overlap_different_level"),  # with H10, H1's copy
    ("releases", 2, "R2", "released_outside"),
    ("releases", 3, "R3", "released_outside"),
    ("releases", 4, "R4", "invalid"),
}


@pytest.fixture(scope="module")
def report():
    return check_layers(HAZARDS, RELEASES)


def test_each_check_finds_exactly_the_planted_problems(report):
    assert findings_of(report) == EXPECTED
    assert list(report.findings.columns) == list(FINDING_COLUMNS)
    assert (report.findings["severity"] == report.findings["check"].map(CHECKS)).all()
    assert report.errors == 7 and report.warnings == len(EXPECTED) - 7
    assert report.features == {"hazards": 12, "releases": 4}
    assert report.notes == ()


def test_pairs_name_the_other_feature(report):
    f = report.findings.set_index(["layer", "row", "check"])
    assert f.loc[("hazards", 1, "overlap_different_level"), "other_id"] == "H2"
    assert f.loc[("hazards", 2, "overlap_different_level"), "other_id"] == "H10"
    assert f.loc[("hazards", 10, "duplicate_geometry"), "other_id"] == "H1"
    assert "row 1" in f.loc[("hazards", 10, "duplicate_geometry"), "detail"]
    single = report.findings[~report.findings["check"].isin(["overlap_different_level"])]
    assert single.loc[single["check"] != "duplicate_geometry", "other_id"].isna().all()
    assert "rows (1, 7)" in f.loc[("hazards", 7, "duplicate_id"), "detail"]


def test_invalid_names_the_geos_reason_and_where(report):
    f = report.findings.set_index(["layer", "row", "check"])
    detail = f.loc[("hazards", 3, "invalid"), "detail"]
    reason = shapely.is_valid_reason(bowtie(46.1, 39.0))  # 'Self-intersection[46.105 39.005]'
    assert reason.startswith("Self-intersection")
    assert "Self-intersection at longitude 46.105, latitude 39.005" in detail
    assert "Point" in f.loc[("hazards", 4, "not_polygon"), "detail"]


def test_overlap_and_outside_areas_agree_with_geodesic_areas(report):
    f = report.findings.set_index(["layer", "row", "check"])
    strip = m2(A.intersection(B))
    assert f.loc[("hazards", 1, "overlap_different_level"), "area_m2"] == pytest.approx(
        strip, rel=oracle.REL
    )
    assert f.loc[("hazards", 2, "overlap_different_level"), "area_m2"] == pytest.approx(
        strip, rel=oracle.REL
    )
    hazards = shapely.union_all([g for g in HAZARDS.geometry.iloc[[0, 1]]])
    r2 = RELEASES.geometry.iloc[1]
    outside = m2(r2.difference(hazards))
    assert f.loc[("releases", 2, "released_outside"), "area_m2"] == pytest.approx(
        outside, rel=oracle.REL
    )
    share = 100 * outside / m2(r2)
    assert f"{share:.2f}% of the release" in f.loc[("releases", 2, "released_outside"), "detail"]
    r3 = RELEASES.geometry.iloc[2]
    assert f.loc[("releases", 3, "released_outside"), "area_m2"] == pytest.approx(
        m2(r3), rel=oracle.REL
    )
    assert "the whole release" in f.loc[("releases", 3, "released_outside"), "detail"]


def test_implausible_areas_against_geodesic_areas(report):
    f = report.findings.set_index(["layer", "row", "check"])
    small = HAZARDS.geometry.iloc[10]
    large = HAZARDS.geometry.iloc[11]
    assert m2(small) < 1.0 < m2(A) < MAX_AREA_M2 < m2(large)  # the planted areas are right
    assert f.loc[("hazards", 11, "implausible_area"), "area_m2"] == pytest.approx(
        m2(small), rel=oracle.REL
    )
    assert f.loc[("hazards", 12, "implausible_area"), "area_m2"] == pytest.approx(
        m2(large), rel=oracle.REL
    )


def test_limits_are_options():
    loose = check_layers(HAZARDS, min_area_m2=0.1, max_area_m2=1e9, overlap_tolerance_m2=1e6)
    checks = set(loose.findings["check"])
    assert "implausible_area" not in checks and "overlap_different_level" not in checks
    strict = check_layers(HAZARDS, max_area_m2=3e5)  # smaller than the 0.01° boxes
    large = strict.findings[strict.findings["check"] == "implausible_area"]
    polygons = [
        (k + 1, shapely.make_valid(g))  # an invalid polygon is measured as made valid
        for k, g in enumerate(HAZARDS.geometry)
        if g is not None and g.geom_type == "Polygon" and not g.is_empty
    ]
    expected = {row for row, g in polygons if not 1.0 <= m2(g) <= 3e5}
    assert 3 in expected and 1 in expected
    assert set(large["row"]) == expected


@pytest.mark.parametrize(
    "limits",
    [
        {"min_area_m2": -1},
        {"max_area_m2": float("nan")},
        {"overlap_tolerance_m2": float("inf")},
        {"min_area_m2": 10, "max_area_m2": 10},
    ],
)
def test_bad_limits_are_refused(limits):
    name = next(iter(limits))
    with pytest.raises(SchemaError, match=name):
        check_layers(HAZARDS, **limits)


def test_the_inputs_are_not_modified():
    hazards, releases = HAZARDS.copy(), RELEASES.copy()
    check_layers(hazards, releases)
    pd.testing.assert_frame_equal(hazards, HAZARDS)
    pd.testing.assert_frame_equal(releases, RELEASES)
    assert hazards.attrs == {} and releases.attrs == {}


def test_a_level_map_makes_a_word_known():
    found = check_layers(HAZARDS, level_map={"Zone rouge": "high"}).findings
    assert "unknown_level" not in set(found["check"])


def test_a_missing_threat_level_is_unknown():
    layer = HAZARDS.iloc[[0]].copy()
    layer["threat_level"] = [None]
    found = check_layers(layer).findings
    assert found[["id", "check"]].to_numpy().tolist() == [["H1", "unknown_level"]]
    assert "no threat level" in found["detail"].iloc[0]


# ------------------------------------------------------------------------- clean layers


def clean_layers(crs: object = 4326) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """A grid of 30 disjoint hazards (every level), a multipolygon, a polygon with a hole,
    and releases inside them."""
    cells = [
        box(46 + 0.02 * i, 39 + 0.02 * j, 46.01 + 0.02 * i, 39.01 + 0.02 * j)
        for i in range(6)
        for j in range(5)
    ]
    cells[0] = shapely.MultiPolygon([cells[0], box(45.9, 38.9, 45.905, 38.905)])
    cells[1] = cells[1].difference(cells[1].centroid.buffer(0.002))
    hazards = gpd.GeoDataFrame(
        {
            "hazard_id": [f"HZ-{k:03d}" for k in range(len(cells))],
            "threat_level": [("high", "medium", "low")[k % 3] for k in range(len(cells))],
        },
        geometry=cells,
        crs=4326,
    )
    releases = gpd.GeoDataFrame(
        {"release_id": ["R1", "R2"]},
        geometry=[cells[2].buffer(-0.001), cells[5]],
        crs=4326,
    )
    return hazards.to_crs(crs), releases.to_crs(crs)


@pytest.mark.parametrize("crs", [4326, 32638])
def test_a_clean_layer_gives_no_findings(crs):
    hazards, releases = clean_layers(crs)
    report = check_layers(hazards, releases)
    assert report.findings.empty and list(report.findings.columns) == list(FINDING_COLUMNS)
    assert report.errors == 0 and report.counts() == {}
    assert report.summary() == "no findings in 30 hazards and 2 releases"


def test_a_hazard_with_a_hole_overlaps_only_where_it_has_land():
    outer = box(46.0, 39.0, 46.02, 39.02).difference(box(46.005, 39.005, 46.015, 39.015))
    inner = box(46.004, 39.004, 46.016, 39.016)  # fills the hole and a 0.001° rim
    parts = shapely.MultiPolygon([box(45.9, 38.9, 45.91, 38.91), box(46.019, 39.0, 46.03, 39.01)])
    layer = gpd.GeoDataFrame(
        {"hazard_id": ["O", "I", "M"], "threat_level": ["low", "high", "medium"]},
        geometry=[outer, inner, parts],
        crs=4326,
    )
    found = check_layers(layer).findings.set_index(["id", "other_id"])
    assert set(found.index) == {("O", "I"), ("O", "M")}
    assert found.loc[("O", "I"), "area_m2"] == pytest.approx(m2(outer & inner), rel=oracle.REL)
    assert found.loc[("O", "M"), "area_m2"] == pytest.approx(m2(outer & parts), rel=oracle.REL)


# ---------------------------------------------------------------- CRSs and several zones


def utm_boxes(crs: int, lons: list[float], lat: float, side: float) -> list[Polygon]:
    """Pairs of overlapping squares of ``side`` metres drawn in ``crs`` near each longitude."""
    to = pyproj.Transformer.from_crs(4326, crs, always_xy=True)
    out = []
    for lon in lons:
        x, y = to.transform(lon, lat)
        out += [
            box(x, y, x + side, y + side),
            box(x + side / 2, y + side / 3, x + 2 * side, y + side),
        ]
    return out


@pytest.mark.parametrize("crs", [32638, 3857])
def test_projected_layers_across_utm_zones_measure_true_areas(crs):
    """Squares drawn in UTM zone 38 (or Web Mercator) from 40°E to 52°E: two zones either
    side of zone 38, where UTM's own area is off by far more than 0.01 %."""
    geoms = utm_boxes(crs, [40.0, 46.0, 52.0], 39.0, 3_000.0)
    layer = gpd.GeoDataFrame(
        {"hazard_id": [f"H{k}" for k in range(6)], "threat_level": ["high", "low"] * 3},
        geometry=geoms,
        crs=crs,
    )
    found = check_layers(layer).findings
    assert list(found["check"]) == ["overlap_different_level"] * 3
    for (_, row), k in zip(found.iterrows(), (0, 2, 4), strict=True):
        assert (row["id"], row["other_id"]) == (f"H{k}", f"H{k + 1}")
        shared = geoms[k] & geoms[k + 1]
        assert row["area_m2"] == pytest.approx(m2(shared, crs), rel=oracle.REL)
        assert abs(shared.area / row["area_m2"] - 1) > 1e-4  # the planar figure would be wrong


def test_lonlat_layers_across_zones_and_releases_in_another_crs():
    lons = [40.0, 46.0, 52.0]
    hazards = gpd.GeoDataFrame(
        {"hazard_id": ["A", "B", "C"], "threat_level": ["high"] * 3},
        geometry=[box(lon, 39.0, lon + 0.05, 39.05) for lon in lons],
        crs=4326,
    )
    # each release overhangs its hazard's east edge by 0.01°, drawn in UTM zone 38
    to_utm = pyproj.Transformer.from_crs(4326, 32638, always_xy=True)
    drawn = [box(lon + 0.03, 39.01, lon + 0.06, 39.02) for lon in lons]
    releases = gpd.GeoDataFrame(
        {"release_id": ["RA", "RB", "RC"]},
        geometry=[
            shapely.transform(
                shapely.segmentize(g, 0.0005), lambda xy: np.column_stack(to_utm.transform(*xy.T))
            )
            for g in drawn
        ],
        crs=32638,
    )
    found = check_layers(hazards, releases).findings
    assert list(found["id"]) == ["RA", "RB", "RC"]
    for (_, row), rel, haz in zip(
        found.iterrows(), releases.geometry, hazards.geometry, strict=True
    ):
        rel_ll = oracle.to_lonlat([rel], 32638)[0]
        assert row["area_m2"] == pytest.approx(oracle.geod_area_m2(rel_ll - haz), rel=1e-3)


# ----------------------------------------------------------------- ids and raw layers


def test_a_layer_without_ids_names_rows_and_says_so():
    layer = HAZARDS.drop(columns="hazard_id")
    report = check_layers(layer)
    assert "missing_id" not in set(report.findings["check"])
    assert "duplicate_id" not in set(report.findings["check"])
    invalid = report.findings[report.findings["check"] == "invalid"]
    assert invalid[["row", "id"]].to_numpy().tolist() == [[3, "row 3"]]
    assert len(report.notes) == 1 and "'row N'" in report.notes[0]


def test_a_named_column_must_exist():
    with pytest.raises(SchemaError, match="no column 'code'.*id_column="):
        check_layers(HAZARDS, id_column="code")
    with pytest.raises(SchemaError, match="no column 'level'.*threat_column="):
        check_layers(HAZARDS, threat_column="level")
    with pytest.raises(SchemaError, match="release_id_column="):
        check_layers(HAZARDS, RELEASES, release_id_column="code")


def test_without_a_threat_column_levels_are_not_checked():
    report = check_layers(HAZARDS.drop(columns="threat_level"))
    checks = set(report.findings["check"])
    assert not checks & {"unknown_level", "overlap_different_level"}
    assert any("threat_level" in note for note in report.notes)


def test_a_layer_without_crs_is_refused():
    with pytest.raises(CRSError, match="no CRS"):
        check_layers(HAZARDS.set_crs(None, allow_override=True))


def test_numeric_ids_are_text():
    layer = HAZARDS.iloc[[0, 6]].copy()
    layer["hazard_id"] = [7.0, 7.0]  # ids read as floats, as a column with gaps is
    found = check_layers(layer).findings
    assert found["id"].tolist() == ["7", "7"] and set(found["check"]) == {"duplicate_id"}


def test_a_file_with_invalid_rings_is_reported_not_repaired(tmp_path):
    path = tmp_path / "hazards.gpkg"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        HAZARDS.iloc[[0, 2]].to_file(path, layer="hazards")
    before = path.read_bytes()
    raw, _, _ = read_layer(path)
    found = check_layers(raw).findings
    assert found[["id", "check"]].to_numpy().tolist() == [["H3", "invalid"]]
    assert not shapely.is_valid(raw.geometry.iloc[1])  # the layer as stored, unrepaired
    assert path.read_bytes() == before


def test_thousands_of_features_find_exactly_the_planted_overlaps():
    n = 60
    cells = [
        box(46 + 0.01 * i, 39 + 0.01 * j, 46.008 + 0.01 * i, 39.008 + 0.01 * j)
        for i, j in itertools.product(range(n), range(n))
    ]
    levels = ["high", "medium", "low"]
    ids = [f"HZ-{k:05d}" for k in range(len(cells))]
    planted = [137, 1000, 2500]  # inner cells grown over their eight neighbours
    grown = {a: cells[a].buffer(0.003, join_style="mitre") for a in planted}
    geoms = [grown.get(k, g) for k, g in enumerate(cells)]
    layer = gpd.GeoDataFrame(
        {"hazard_id": ids, "threat_level": [levels[k % 3] for k in range(len(cells))]},
        geometry=geoms,
        crs=4326,
    )
    found = check_layers(layer).findings
    pairs = set(zip(found["id"], found["other_id"], strict=True))
    expected = set()
    for a in planted:  # an independent overlap test against every other cell
        for k in range(len(geoms)):
            meets = k != a and geoms[a].intersection(geoms[k]).area > 0
            if meets and levels[a % 3] != levels[k % 3]:
                expected.add((ids[min(a, k)], ids[max(a, k)]))
    assert pairs == expected and len(expected) == 3 * 6  # 8 neighbours, 2 of the same level
    assert set(found["check"]) == {"overlap_different_level"}


# ------------------------------------------------------------ a synthetic scenario


def test_a_synthetic_scenario_gives_its_planted_overlaps_and_outside_releases():
    synthetic = pytest.importorskip("minemap.synthetic")
    scenario = synthetic.make_scenario(seed=3, high_ha=60, medium_ha=90, low_ha=60)
    hazards, releases = scenario.hazards, scenario.releases
    found = check_layers(hazards, releases).findings
    assert set(found["check"]) <= {"overlap_different_level", "released_outside"}
    h = list(hazards.geometry)
    levels = list(hazards["threat_level"])
    ids = list(hazards["hazard_id"])
    expected = {
        (ids[a], ids[b])
        for a, b in itertools.combinations(range(len(h)), 2)
        if levels[a] != levels[b] and h[a].intersects(h[b]) and m2(h[a] & h[b]) > 1.0
    }
    overlaps = found[found["check"] == "overlap_different_level"]
    assert set(zip(overlaps["id"], overlaps["other_id"], strict=True)) == expected
    everything = shapely.union_all(h)
    outside = {
        rid: m2(g - everything)
        for rid, g in zip(releases["release_id"], releases.geometry, strict=True)
    }
    shown = found[found["check"] == "released_outside"].set_index("id")["area_m2"]
    assert set(shown.index) == {rid for rid, v in outside.items() if v > 1.0}
    assert len(shown) >= 1  # the scenario records one to three releases outside
    for rid, value in shown.items():
        assert value == pytest.approx(outside[rid], rel=1e-3, abs=0.5)


# --------------------------------------------------------- public files nobody here wrote


def test_natural_earth_countries_give_sensible_findings():
    path = FIXTURES / "naturalearth_lowres" / "naturalearth_lowres.shp"
    raw, _, _ = read_layer(path)
    report = check_layers(raw, id_column="iso_a3")
    found = report.findings
    # every country is far larger than 100 km², and no geometry is broken
    assert set(found["check"]) == {"implausible_area", "duplicate_id"}
    big = found[found["check"] == "implausible_area"]
    assert sorted(big["row"]) == list(range(1, len(raw) + 1))
    geod = pyproj.Geod(ellps="WGS84")
    for k in (1, 4, 43):  # spot checks: Tanzania, USA, France (a multipolygon)
        geom = shapely.orient_polygons(raw.geometry.iloc[k])
        area = sum(abs(geod.geometry_area_perimeter(p)[0]) for p in shapely.get_parts(geom))
        assert big.set_index("row").loc[k + 1, "area_m2"] == pytest.approx(area, rel=1e-3)
    codes = raw["iso_a3"]
    repeated = codes[codes.duplicated(keep=False)]
    dup = found[found["check"] == "duplicate_id"]
    assert sorted(dup["row"]) == sorted(repeated.index + 1) and set(dup["id"]) == set(repeated)
    assert any("threat_level" in note for note in report.notes)


def test_a_public_layer_of_points_is_not_polygons():
    raw, _, _ = read_layer(FIXTURES / "test_gpkg_nulls.gpkg")
    found = check_layers(raw).findings
    assert found[["row", "id", "check"]].to_numpy().tolist() == [
        [k, f"row {k}", "not_polygon"] for k in range(1, len(raw) + 1)
    ]


def test_a_public_curved_layer_is_checked_once_linearised():
    raw, _, curved = read_layer(FIXTURES / "curvepolygon.gpkg")
    found = check_layers(raw).findings
    assert curved == 1  # read as GDAL linearises it: a polygon of some 7° by 4°
    assert found[["row", "id", "check"]].to_numpy().tolist() == [[1, "row 1", "implausible_area"]]
    assert found["area_m2"].iloc[0] == pytest.approx(m2(raw.geometry.iloc[0]), rel=oracle.REL)


def test_release_outside_adds_up_to_the_summary_figure(sample_data):
    """On the shipped sample, the released_outside areas sum to what the land-release
    summary reports as released outside hazards (the same rule, two computations)."""
    import minemap

    path = sample_data / "scenario.gpkg"
    raw_hazards, _, _ = read_layer(path, layer="hazards")
    raw_releases, _, _ = read_layer(path, layer="releases")
    found = check_layers(raw_hazards, raw_releases).findings
    outside = found.loc[found["check"] == "released_outside", "area_m2"].sum()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the summary warns about that release
        table = minemap.land_release_summary(
            minemap.read_hazards(path), minemap.read_releases(path)
        )
    assert outside / 1e4 == pytest.approx(table.attrs["released_outside_hazards_ha"], rel=1e-3)


def test_odd_geometries_are_reported_never_a_crash():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # shapely warns about the NaN
        nan_vertex = shapely.from_wkt("POLYGON ((46 39, NaN 39, 46.01 39.01, 46 39))")
    geoms = [
        shapely.GeometryCollection([box(46.0, 39.0, 46.01, 39.01)]),
        Polygon([(46.2, 39, 5), (46.21, 39, 5), (46.21, 39.01, 5), (46.2, 39, 5)]),  # with Z
        nan_vertex,
        shapely.from_wkt("POLYGON ((46.3 39, 46.31 39, 46.3 39, 46.3 39))"),  # no area
        box(46.2, 39.0, 46.21, 39.01),  # the Z polygon's footprint, of another level
    ]
    layer = gpd.GeoDataFrame(
        {"hazard_id": list("abcde"), "threat_level": ["low", "high", "low", "low", "low"]},
        geometry=geoms,
        crs=4326,
    )
    found = check_layers(layer).findings
    assert found[["id", "check"]].to_numpy().tolist() == [
        ["a", "not_polygon"],
        ["c", "invalid"],
        ["d", "invalid"],
        ["b", "overlap_different_level"],
    ]
    assert "NaN or infinite" in found["detail"].iloc[1]
    assert "Too few points" in found["detail"].iloc[2]
    triangle = Polygon([(46.2, 39), (46.21, 39), (46.21, 39.01)])
    assert found["area_m2"].iloc[3] == pytest.approx(m2(triangle), rel=oracle.REL)
    assert check_layers(layer.iloc[:0]).summary() == "no findings in 0 hazards"
