"""Tests of minemap.ranking: weights, explainability, monotonicity, stability, distances."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import rasterio
import shapely
import shapely.ops
from affine import Affine
from shapely import LineString, Point, box

from minemap._errors import FormatError, SchemaError
from minemap.priority import BUFFER_QUAD_SEGS, priority_zones
from minemap.ranking import (
    CRITERIA,
    DEFAULT_WEIGHTS,
    load_weights,
    priority_analysis,
    rank_hazards,
    resolve_weights,
)

GEOD = pyproj.Geod(ellps="WGS84")
LON, LAT = 46.6, 40.1
WGS84 = pyproj.CRS.from_epsg(4326)


def to_lonlat(geoms):
    frame = pyproj.CRS.from_proj4(f"+proj=aeqd +lat_0={LAT} +lon_0={LON} +ellps=WGS84")
    tr = pyproj.Transformer.from_crs(frame, WGS84, always_xy=True)
    dense = shapely.segmentize(np.asarray(geoms, dtype=object), 5.0)
    return list(shapely.transform(dense, lambda xy: np.column_stack(tr.transform(*xy.T))))


def layer(geoms, **columns):
    return gpd.GeoDataFrame(columns, geometry=to_lonlat(geoms), crs=4326)


@pytest.fixture(scope="module")
def scene():
    rng = np.random.default_rng(5)
    n = 12
    centres = rng.uniform(-6000, 6000, (n, 2))
    sizes = rng.uniform(200, 900, n)
    hazards = layer(
        [box(x, y, x + s, y + s) for (x, y), s in zip(centres, sizes, strict=True)],
        hazard_id=[f"H{k:02d}" for k in range(n)],
        threat_level=rng.choice(["high", "medium", "low"], n),
    )
    releases = layer(
        [
            box(centres[0, 0], centres[0, 1], centres[0, 0] + sizes[0], centres[0, 1] + sizes[0])
        ],  # releases H00 completely
        release_id=["R1"],
        method=["cleared"],
        release_date=["2022-01-01"],
    )
    layers = {
        "roads": layer(
            [LineString([(-7000, 0), (7000, 500)]), LineString([(0, -7000), (300, 7000)])]
        ),
        "infrastructure": layer([Point(2000, 2000), Point(-3000, 4000)]),
        "residential": layer(
            [
                box(-4000, -4000, -2500, -2800),
                box(3000, -1000, 3800, 0),
                box(centres[1, 0] - 700, centres[1, 1], centres[1, 0] - 100, centres[1, 1] + 300),
            ]
        ),
    }
    return hazards, releases, layers


@pytest.fixture(scope="module")
def ranking(scene):
    hazards, releases, layers = scene
    return rank_hazards(hazards, releases, **layers)


def test_one_row_per_hazard_and_columns(scene, ranking):
    hazards, _, _ = scene
    assert sorted(ranking.hazard_id) == sorted(hazards.hazard_id)
    for column in (
        "rank",
        "threat_level",
        "remaining_ha",
        "residential_ha",
        "infrastructure_ha",
        "roads_ha",
        "roads_distance_m",
        "infrastructure_distance_m",
        "residential_distance_m",
        "population",
        "priority_score",
        *(f"score_{c}" for c in CRITERIA),
    ):
        assert column in ranking.columns
    assert ranking.attrs["weights"] == DEFAULT_WEIGHTS
    assert ranking.crs.equals(hazards.crs)


def test_fully_released_hazard_is_not_ranked(ranking):
    row = ranking.set_index("hazard_id").loc["H00"]
    assert pd.isna(row["rank"]) and row["remaining_ha"] == 0
    ranked = ranking["rank"].dropna().astype(int).tolist()
    assert ranked == list(range(1, len(ranked) + 1))
    assert pd.isna(ranking["rank"].iloc[-1])


def test_hazard_released_in_two_exact_halves_is_fully_released():
    """Two releases that split a hazard exactly leave a floating-point sliver (~1e-9 m²)
    after the differences: that is no land, so the hazard is neither ranked nor zoned."""
    hazard, other = to_lonlat([box(0, 0, 1000, 1000), box(3000, 0, 3500, 500)])
    cut = LineString([(LON - 1, LAT + 0.00364), (LON + 1, LAT + 0.0041)])
    halves = list(shapely.ops.split(hazard, cut).geoms)
    assert len(halves) == 2
    hazards = gpd.GeoDataFrame(
        {"hazard_id": ["H1", "H2"], "threat_level": ["high", "low"]},
        geometry=[hazard, other],
        crs=4326,
    )
    releases = gpd.GeoDataFrame(
        {
            "release_id": ["R1", "R2"],
            "method": ["cleared", "reduced"],
            "release_date": ["2024-01-01"] * 2,
        },
        geometry=halves,
        crs=4326,
    )
    roads = layer([LineString([(-500, 250), (4000, 250)])])
    zones, ranking = priority_analysis(hazards, releases, roads=roads)
    row = ranking.set_index("hazard_id").loc["H1"]
    assert pd.isna(row["rank"]) and row["remaining_ha"] == 0.0
    assert zones["hazard_id"].tolist() == ["H2"]
    assert ranking["rank"].notna().sum() == 1


def test_total_is_explained_by_its_columns(ranking):
    live = ranking["rank"].notna()
    w = np.array([DEFAULT_WEIGHTS[c] for c in CRITERIA])
    scores = ranking.loc[live, [f"score_{c}" for c in CRITERIA]].to_numpy()
    assert np.allclose(scores @ w / w.sum(), ranking.loc[live, "priority_score"])
    assert ((scores >= 0) & (scores <= 1)).all()
    assert ranking.loc[live, "priority_score"].is_monotonic_decreasing
    top = ranking.loc[live, "residential_ha"].max()
    assert np.allclose(
        ranking.loc[live, "score_residential_ha"], ranking.loc[live, "residential_ha"] / top
    )
    threat = ranking.loc[live, "threat_level"].map({"high": 1, "medium": 0.5, "low": 0})
    assert np.allclose(ranking.loc[live, "score_threat"], threat)


def test_zone_hectares_match_priority_zones(scene, ranking):
    hazards, releases, layers = scene
    zones = priority_zones(hazards, releases, **layers)
    sums = zones.groupby(["hazard_id", "category"])["zone_ha"].sum().unstack(fill_value=0.0)
    indexed = ranking.set_index("hazard_id")
    for category in sums.columns:
        assert np.allclose(indexed.loc[sums.index, f"{category}_ha"], sums[category])
    assert (
        indexed[["residential_ha", "infrastructure_ha", "roads_ha"]]
        .sum(axis=1)
        .le(indexed["remaining_ha"] + 1e-9)
        .all()
    )


@pytest.mark.parametrize("criterion", CRITERIA)
def test_monotonic_in_each_weight(scene, ranking, criterion):
    hazards, releases, layers = scene
    heavier = rank_hazards(
        hazards, releases, **layers, weights={criterion: DEFAULT_WEIGHTS[criterion] * 4 + 1}
    )
    before = ranking.set_index("hazard_id")
    after = heavier.set_index("hazard_id")
    live = before.index[before["rank"].notna()]
    col = f"score_{criterion}"
    for a in live:
        for b in live:
            if (
                before.at[a, "rank"] < before.at[b, "rank"]
                and before.at[a, col] >= before.at[b, col]
            ):
                assert after.at[a, "rank"] < after.at[b, "rank"], (a, b)


def test_stable_under_row_order(scene, ranking):
    hazards, releases, layers = scene
    shuffled = rank_hazards(
        hazards.sample(frac=1, random_state=3),
        releases,
        **{k: v.iloc[::-1] for k, v in layers.items()},
    )
    pd.testing.assert_frame_equal(
        pd.DataFrame(ranking.drop(columns="geometry")),
        pd.DataFrame(shuffled.drop(columns="geometry")),
        rtol=1e-9,
    )


def test_ties_broken_by_hazard_id():
    hazards = layer(
        [box(0, 0, 100, 100), box(5000, 0, 5100, 100), box(-5000, 0, -4900, 100)],
        hazard_id=["B", "C", "A"],
        threat_level=["low"] * 3,
    )
    ranking = rank_hazards(hazards, weights={"remaining_ha": 0, "proximity": 0})
    assert ranking["hazard_id"].tolist() == ["A", "B", "C"]


def test_distances_are_geodesic_metres():
    hazards = layer([box(-100, 3000, 100, 3200)], hazard_id=["H1"], threat_level=["high"])
    point = layer([Point(0, 0)])
    ranking = rank_hazards(hazards, infrastructure=point)
    hz = hazards.geometry.iloc[0]
    nearest_on_hazard = shapely.ops.nearest_points(hz, point.geometry.iloc[0])[0]
    _, _, expected = GEOD.inv(
        point.geometry.iloc[0].x, point.geometry.iloc[0].y, nearest_on_hazard.x, nearest_on_hazard.y
    )
    assert expected == pytest.approx(3000.0, abs=1.0)  # the fixture: 3 km from the point
    assert ranking["infrastructure_distance_m"].iloc[0] == pytest.approx(expected, abs=1.0)
    assert np.isnan(ranking["roads_distance_m"].iloc[0])
    inside = rank_hazards(hazards, residential=layer([box(-500, 2500, 500, 3500)]))
    assert inside["residential_distance_m"].iloc[0] == 0.0


def test_population_from_raster(tmp_path):
    hazards = layer(
        [box(-50, -50, 50, 50), box(20_000, 0, 20_100, 100)],
        hazard_id=["H1", "H2"],
        threat_level=["low", "low"],
    )
    path = tmp_path / "pop.tif"
    lon0, lat0 = LON - 0.05, LAT + 0.05
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=10,
        height=10,
        count=1,
        dtype="float32",
        crs="EPSG:4326",
        nodata=-9999,
        transform=Affine(0.01, 0, lon0, 0, -0.01, lat0),
    ) as ds:
        ds.write(np.full((10, 10), 7.0, dtype="float32"), 1)
    with pytest.warns(Warning, match="outside the population raster"):
        ranking = rank_hazards(hazards, population=path, population_radius_m=500)
    people = ranking.set_index("hazard_id")["population"]
    cell_m2 = GEOD.geometry_area_perimeter(
        shapely.orient_polygons(box(LON, LAT, LON + 0.01, LAT + 0.01))
    )[0]
    sides = 4 * BUFFER_QUAD_SEGS  # the corners are quarters of a 64-sided circle
    corners_m2 = sides / 2 * 500**2 * np.sin(2 * np.pi / sides)
    disc_m2 = 100 * 100 + 4 * 100 * 500 + corners_m2  # square grown by 500 m
    # people, not an area figure: cells 0.01° apart differ in area (cell_m2 is one of them)
    assert people["H1"] == pytest.approx(7.0 * disc_m2 / cell_m2, rel=1e-3)
    assert people["H2"] == 0.0
    assert ranking.set_index("hazard_id").at["H1", "score_population"] == 1.0


def test_weights_validation_and_toml(tmp_path):
    assert resolve_weights({"population": 0})["population"] == 0.0
    with pytest.raises(SchemaError, match="allowed keys"):
        resolve_weights({"schools": 1})
    with pytest.raises(SchemaError, match="from 0 to"):
        resolve_weights({"threat": -1})
    with pytest.raises(SchemaError, match="from 0 to"):  # would overflow the score sums
        resolve_weights({"threat": 1e308})
    with pytest.raises(SchemaError, match="all ranking weights are 0"):
        resolve_weights(dict.fromkeys(CRITERIA, 0))
    table = tmp_path / "w.toml"
    table.write_text("[weights]\nthreat = 5\nroads_ha = 0.5\n", encoding="utf-8")
    assert resolve_weights(table)["threat"] == 5.0
    flat = tmp_path / "flat.toml"
    flat.write_text("population = 4\n", encoding="utf-8")
    assert load_weights(flat) == {"population": 4}
    bad = tmp_path / "bad.toml"
    bad.write_text("threat = = 3\n", encoding="utf-8")
    with pytest.raises(FormatError, match="bad.toml"):
        resolve_weights(bad)
    unknown = tmp_path / "unknown.toml"
    unknown.write_text("[weights]\nrivers = 1\n", encoding="utf-8")
    with pytest.raises(SchemaError, match="rivers"):
        resolve_weights(unknown)


def test_priority_analysis_equals_separate_calls(scene, ranking):
    hazards, releases, layers = scene
    zones, together = priority_analysis(hazards, releases, **layers)
    separate = priority_zones(hazards, releases, **layers)
    pd.testing.assert_frame_equal(
        pd.DataFrame(zones.drop(columns="geometry")),
        pd.DataFrame(separate.drop(columns="geometry")),
    )
    pd.testing.assert_frame_equal(
        pd.DataFrame(together.drop(columns="geometry")),
        pd.DataFrame(ranking.drop(columns="geometry")),
    )
    reused = rank_hazards(hazards, releases, zones=zones, **layers)
    pd.testing.assert_frame_equal(
        pd.DataFrame(reused.drop(columns="geometry")),
        pd.DataFrame(ranking.drop(columns="geometry")),
    )


# ------------------------------------------------------------------------------------------
# field evidence as criteria
# ------------------------------------------------------------------------------------------


def _points(kind, xy, **columns):
    out = layer([Point(x, y) for x, y in xy], **columns)
    out.attrs["minemap"] = kind
    return out


def _incidents(xy, dates, killed, injured):
    return _points(
        "incidents",
        xy,
        incident_id=[f"I{k}" for k in range(len(xy))],
        incident_date=pd.to_datetime(dates),
        killed=np.asarray(killed, dtype="int64"),
        injured=np.asarray(injured, dtype="int64"),
        device_type=["ap_mine"] * len(xy),
        victim_activity=[""] * len(xy),
    )


def _finds(xy, dates, counts):
    return _points(
        "finds",
        xy,
        find_id=[f"F{k}" for k in range(len(xy))],
        find_date=pd.to_datetime(dates),
        device_type=["at_mine"] * len(xy),
        device_count=np.asarray(counts, dtype="int64"),
        release_id=[None] * len(xy),
    )


@pytest.fixture(scope="module")
def two_hazards():
    # two 500 m squares 20 km apart; east edges at x = 500 and x = 20,500 (local metres)
    return layer(
        [box(0, 0, 500, 500), box(20_000, 0, 20_500, 500)],
        hazard_id=["H1", "H2"],
        threat_level=["low", "low"],
    )


def test_incidents_within_the_radius_in_true_metres_decide_the_rank(two_hazards):
    # 900 m east of H1's edge (inside 1 km), 1,100 m east of H2's edge (outside 1 km)
    incidents = _incidents(
        [(1400, 250), (21_600, 250), (21_600, 260)], ["2022-01-01"] * 3, [1, 0, 2], [2, 1, 0]
    )
    lon, lat = np.array(incidents.geometry.x), np.array(incidents.geometry.y)
    edge = np.array(to_lonlat([Point(500, 250), Point(20_500, 250)]))
    metres = GEOD.inv(shapely.get_x(edge), shapely.get_y(edge), lon[:2], lat[:2])[2]
    assert metres[0] < 1000 < metres[1]

    ranking = rank_hazards(two_hazards, incidents=incidents, weights={"incidents": 10})
    by_id = ranking.set_index("hazard_id")
    assert ranking["hazard_id"].tolist() == ["H1", "H2"]
    assert by_id.loc["H1", "incidents_nearby"] == 1 and by_id.loc["H2", "incidents_nearby"] == 0
    assert by_id.loc["H1", "victims_nearby"] == 3
    assert by_id.loc["H1", "score_incidents"] == 1.0
    assert ranking.attrs["evidence_radius_m"] == 1000.0
    assert "incidents" in ranking.attrs["criteria"]
    assert np.isnan(by_id["devices_found_nearby"]).all()  # no finds layer: no figure

    wider = rank_hazards(
        two_hazards, incidents=incidents, evidence_radius_m=1200, weights={"incidents": 10}
    ).set_index("hazard_id")
    assert wider.loc["H2", "incidents_nearby"] == 2 and wider.loc["H2", "victims_nearby"] == 3
    assert wider.loc["H1", "incidents_nearby"] == 1


def test_finds_count_devices_and_respect_as_of(two_hazards):
    finds = _finds(
        [(20_200, 250), (20_300, 300), (100, 100)],
        ["2021-05-01", "2021-06-01", "2023-01-01"],
        [3, 4, 5],
    )
    ranking = rank_hazards(two_hazards, finds=finds, weights={"finds": 10})
    by_id = ranking.set_index("hazard_id")
    assert by_id.loc["H2", "devices_found_nearby"] == 7
    assert by_id.loc["H1", "devices_found_nearby"] == 5
    assert ranking["hazard_id"].tolist() == ["H2", "H1"]
    early = rank_hazards(two_hazards, finds=finds, as_of="2022-12-31").set_index("hazard_id")
    assert early.loc["H1", "devices_found_nearby"] == 0  # found after the as-of date


def test_evidence_weights_and_radius_are_checked(two_hazards):
    with pytest.raises(SchemaError, match="evidence_radius_m"):
        rank_hazards(two_hazards, finds=_finds([(0, 0)], ["2021-01-01"], [1]), evidence_radius_m=-5)
    assert resolve_weights({"incidents": 0})["incidents"] == 0.0


def test_raw_evidence_layers_are_validated_by_their_readers(two_hazards):
    raw = gpd.GeoDataFrame(
        {"incident_id": ["I1"], "incident_date": ["2099-01-01"], "killed": [1], "injured": [0]},
        geometry=to_lonlat([Point(600, 250)]),
        crs=4326,
    )
    with pytest.raises(SchemaError, match="I1"):  # a date in the future is refused
        rank_hazards(two_hazards, incidents=raw)
    raw["incident_date"] = ["2021-01-01"]
    ranking = rank_hazards(two_hazards, incidents=raw).set_index("hazard_id")
    assert ranking.loc["H1", "incidents_nearby"] == 1


def test_finds_near_sample_hazards_match_distances_to_their_remaining_pieces(sample_data):
    # pieces whose projected rings fold onto themselves were once buffered short: every
    # device within the radius of a remaining piece is counted (UTM distances, 2 m slack)
    import warnings

    import minemap
    from minemap import priority as _priority
    from minemap.crs import area_frame

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the sample's deliberate release and finds outside
        project = minemap.open_project(sample_data)
        ranking = rank_hazards(project.hazards, project.releases, finds=project.finds)
    hazards, releases, _ = _priority._prepare(project.hazards, project.releases, None, None, None)
    remaining = _priority._remaining(hazards, releases, area_frame(hazards, releases), None)
    live = remaining.area_m2 > 0
    utm = project.hazards.estimate_utm_crs()
    pieces = gpd.GeoSeries(list(remaining.work[live]), crs=remaining.work_crs).to_crs(utm)
    finds = project.finds.to_crs(utm)
    devices = finds["device_count"].to_numpy()
    near: dict[str, set[int]] = {}
    edge: dict[str, bool] = {}
    for hazard_id, piece in zip(remaining.attrs["hazard_id"][live], pieces, strict=True):
        metres = finds.distance(piece).to_numpy()
        near.setdefault(hazard_id, set()).update(np.flatnonzero(metres <= 1_000).tolist())
        edge[hazard_id] = edge.get(hazard_id, False) or bool((abs(metres - 1_000) < 2).any())
    got = ranking.set_index("hazard_id")["devices_found_nearby"]
    checked = [h for h in near if not edge[h]]
    assert len(checked) > 150
    for hazard_id in checked:
        assert got[hazard_id] == devices[sorted(near[hazard_id])].sum(), hazard_id
