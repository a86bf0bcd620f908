"""Tests of minemap.synthetic.evidence: seeded synthetic incidents, device finds, minefield
records and settlements, consistent with their scenario and in the canonical layout."""

from __future__ import annotations

import functools
import time

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import pytest
import shapely
from _oracle import geod_area_ha
from geopandas.testing import assert_geodataframe_equal
from hypothesis import given, settings
from hypothesis import strategies as st

from minemap.settings import DEVICE_TYPES
from minemap.synthetic import (
    EVIDENCE_LAYERS,
    RECORD_TRUTHS,
    VICTIM_ACTIVITIES,
    FieldEvidence,
    field_evidence,
    make_scenario,
    write_field_evidence,
    write_scenario,
)

GEOD = pyproj.Geod(ellps="WGS84")
SIZES = {"n_finds": 600, "n_incidents": 120, "n_records": 80, "n_settlements": 70}

COLUMNS = {
    "incidents": {
        "incident_id": "str",
        "incident_date": "datetime64[ns]",
        "killed": "int64",
        "injured": "int64",
        "device_type": "str",
        "victim_activity": "str",
    },
    "finds": {
        "find_id": "str",
        "find_date": "datetime64[ns]",
        "device_type": "str",
        "device_count": "int64",
        "release_id": "object",
    },
    "records": {"record_id": "str", "recorded_devices": "Int64", "device_type": "str"},
    "settlements": {"settlement_id": "str", "name": "str", "population": "float64"},
}


@pytest.fixture(scope="module")
def scenario():
    return make_scenario(seed=42)


@pytest.fixture(scope="module")
def evidence(scenario) -> FieldEvidence:
    return field_evidence(scenario, seed=7, **SIZES)


@functools.cache
def small_scenario():
    return make_scenario(seed=5, high_ha=150, medium_ha=200, low_ha=100)


def aeqd(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``gdf`` in an azimuthal equidistant frame centred on it: distances of a few km are
    true to far better than a metre there (used to find neighbours; figures use Geod)."""
    lon, lat = gdf.to_crs(4326).geometry.union_all().centroid.coords[0]
    return gdf.to_crs(f"+proj=aeqd +lat_0={lat} +lon_0={lon} +datum=WGS84 +units=m")


def nearest_find_m(points: gpd.GeoSeries, finds: gpd.GeoDataFrame) -> np.ndarray:
    """Geodesic distance (m) from each lon/lat point to the nearest find."""
    both = aeqd(gpd.GeoDataFrame(geometry=pd.concat([points, finds.geometry])))
    mine, theirs = both.geometry.iloc[: len(points)], both.geometry.iloc[len(points) :]
    _, nearest = shapely.STRtree(theirs.to_numpy()).query_nearest(
        mine.to_numpy(), all_matches=False
    )
    a = shapely.get_coordinates(points.to_numpy())
    b = shapely.get_coordinates(finds.geometry.to_numpy()[nearest])
    return GEOD.inv(a[:, 0], a[:, 1], b[:, 0], b[:, 1])[2]


# ------------------------------------------------------------------------------------------
# layout, counts and determinism
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", EVIDENCE_LAYERS)
def test_layers_are_canonical(evidence, scenario, name):
    layer = evidence.layers[name]
    assert {c: str(t) for c, t in layer.dtypes.items() if c != "geometry"} == COLUMNS[name]
    assert layer.columns[-1] == "geometry"
    assert layer.attrs["minemap"] == name
    assert name in layer.attrs["source"]
    assert layer.attrs.get("edges") == ("planar" if name in ("records", "settlements") else None)
    assert layer.crs == scenario.hazards.crs
    assert layer.geometry.is_valid.all() and not layer.geometry.is_empty.any()
    assert layer.iloc[:, 0].is_unique
    assert layer.index.equals(pd.RangeIndex(len(layer)))


def test_geometry_types(evidence):
    assert set(evidence.incidents.geom_type) == {"Point"}
    assert set(evidence.finds.geom_type) == {"Point"}
    assert set(evidence.records.geom_type) == {"Point", "Polygon"}
    assert set(evidence.settlements.geom_type) == {"Point", "Polygon"}


def test_counts_are_as_requested(evidence):
    assert [len(evidence.layers[name]) for name in EVIDENCE_LAYERS] == [
        SIZES["n_incidents"],
        SIZES["n_finds"],
        SIZES["n_records"],
        SIZES["n_settlements"],
    ]
    assert len(evidence.record_truth) == SIZES["n_records"]


def test_default_counts_follow_the_number_of_hazards():
    scenario = small_scenario()
    evidence = field_evidence(scenario)
    n = len(scenario.hazards)
    assert len(evidence.finds) == n
    assert len(evidence.incidents) == max(20, n // 20)
    assert len(evidence.records) == max(20, n // 10)
    assert len(evidence.settlements) == max(20, len(scenario.residential), n // 5)


def test_fewer_settlements_than_residential_areas_are_a_subset_of_them(scenario):
    settlements = field_evidence(scenario, n_settlements=5).settlements
    assert len(settlements) == 5
    assert settlements.settlement_id.isin(scenario.residential.settlement_id).all()


def test_nothing_at_all_can_be_asked_for():
    evidence = field_evidence(
        small_scenario(), n_finds=0, n_incidents=0, n_records=0, n_settlements=0
    )
    for name, layer in evidence.layers.items():
        assert len(layer) == 0
        assert {c: str(t) for c, t in layer.dtypes.items() if c != "geometry"} == COLUMNS[name]


def test_same_seed_gives_identical_layers(scenario, evidence):
    again = field_evidence(scenario, seed=7, **SIZES)
    for name in EVIDENCE_LAYERS:
        assert_geodataframe_equal(again.layers[name], evidence.layers[name])
    pd.testing.assert_frame_equal(again.record_truth, evidence.record_truth)
    other = field_evidence(scenario, seed=8, **SIZES)
    for name in EVIDENCE_LAYERS:
        assert not other.layers[name].geometry.geom_equals(evidence.layers[name].geometry).all()


def test_each_layer_has_a_random_stream_of_its_own(scenario, evidence):
    more = field_evidence(scenario, seed=7, **{**SIZES, "n_finds": 900})
    assert len(more.finds) == 900
    assert_geodataframe_equal(more.incidents, evidence.incidents)
    assert_geodataframe_equal(more.settlements, evidence.settlements)


def test_the_scenario_is_not_changed():
    scenario = small_scenario()
    before = {name: layer.copy() for name, layer in scenario.layers.items()}
    field_evidence(scenario, seed=1)
    for name, layer in scenario.layers.items():
        assert_geodataframe_equal(layer, before[name])


# ------------------------------------------------------------------------------------------
# finds
# ------------------------------------------------------------------------------------------


def test_finds_lie_in_their_release_and_a_hazard(scenario, evidence):
    finds = evidence.finds[evidence.finds.release_id.notna()]
    releases = scenario.releases.set_index("release_id")
    assert shapely.contains(
        releases.geometry.loc[finds.release_id].to_numpy(), finds.geometry.to_numpy()
    ).all()
    inside, _ = shapely.STRtree(scenario.hazards.geometry.to_numpy()).query(
        finds.geometry.to_numpy(), predicate="within"
    )
    assert np.unique(inside).size == len(finds)
    methods = set(releases.method.loc[finds.release_id])
    assert methods == {"cleared", "reduced"}
    cleared = (releases.method.loc[finds.release_id] == "cleared").mean()
    assert cleared > 0.8  # mostly cleared, some reduced


def test_finds_are_dated_within_the_clearance_before_their_release(scenario, evidence):
    finds = evidence.finds[evidence.finds.release_id.notna()]
    released = scenario.releases.set_index("release_id").release_date.loc[finds.release_id]
    lag = (released.to_numpy() - finds.find_date.to_numpy()).astype("timedelta64[D]")
    assert (lag >= np.timedelta64(0, "D")).all()
    assert (lag <= np.timedelta64(365, "D")).all()
    assert (evidence.finds.find_date <= pd.Timestamp.today()).all()  # none in the future
    assert evidence.finds.find_date.is_monotonic_increasing  # ids in date order
    assert evidence.finds.find_id.iloc[0] == "FD-000001"


def test_a_share_of_finds_is_outside_every_hazard_and_release(scenario, evidence):
    stray = evidence.finds[evidence.finds.release_id.isna()]
    assert len(stray) == round(0.01 * SIZES["n_finds"])
    taken = np.concatenate([scenario.hazards.geometry, scenario.releases.geometry])
    far = aeqd(
        gpd.GeoDataFrame(geometry=np.concatenate([stray.geometry, taken]), crs=stray.crs)
    ).geometry.to_numpy()
    distance = shapely.distance(far[: len(stray), None], far[None, len(stray) :]).min(axis=1)
    assert distance.min() > 20.0
    assert set(stray.device_type) <= {"uxo", "submunition", "ied"}
    none = field_evidence(scenario, seed=7, n_finds=100, stray_share=0.0).finds
    assert none.release_id.notna().all()


def test_find_densities_fall_with_the_threat_level(scenario, evidence):
    """Devices per hectare of cleared land: high > medium > low, and most released land
    holds no device at all (hectares measured geodesically)."""
    releases = scenario.releases.copy()
    points = releases.geometry.representative_point()
    holder, hazard = shapely.STRtree(scenario.hazards.geometry.to_numpy()).query(
        points.to_numpy(), predicate="within"
    )
    rank = {"high": 0, "medium": 1, "low": 2}
    level = pd.Series(scenario.hazards.threat_level.map(rank).to_numpy()[hazard])
    releases["level"] = level.groupby(holder).min().reindex(range(len(releases)))
    releases["ha"] = [geod_area_ha(g) for g in releases.geometry]
    devices = evidence.finds.groupby("release_id").device_count.sum()
    releases["devices"] = releases.release_id.map(devices).fillna(0)
    cleared = releases[releases.method == "cleared"].groupby("level")[["devices", "ha"]].sum()
    per_ha = (cleared.devices / cleared.ha).to_numpy()
    assert per_ha[0] > 1.0  # high-threat cleared land: devices every hectare on average
    assert per_ha[0] > 3 * per_ha[1] > 0
    assert per_ha[1] > per_ha[2]
    assert releases.loc[releases.method == "cancelled", "devices"].sum() == 0
    worked = releases[releases.method != "cancelled"]
    assert (worked.devices > 0).mean() < 0.3


def test_finds_mix_device_types_and_counts(evidence):
    finds = evidence.finds
    assert set(finds.device_type) == {"ap_mine", "at_mine", "uxo", "submunition", "ied"}
    assert (finds.device_count >= 1).all()
    assert (finds.device_count == 1).mean() > 0.7
    assert finds.device_count.max() > 2


def test_finds_are_clustered(evidence):
    """Rows of minefields and strike footprints: neighbours a few metres apart, far closer
    than the same number of points spread at random over the same releases would be."""
    finds = aeqd(evidence.finds[evidence.finds.release_id.notna()]).geometry.to_numpy()
    _, gap = shapely.STRtree(finds).query_nearest(
        finds, all_matches=False, exclusive=True, return_distance=True
    )
    assert np.median(gap) < 15.0


# ------------------------------------------------------------------------------------------
# incidents
# ------------------------------------------------------------------------------------------


def test_incidents_values(evidence, scenario):
    incidents = evidence.incidents
    assert set(incidents.device_type) <= set(DEVICE_TYPES)
    assert set(incidents.victim_activity) <= set(VICTIM_ACTIVITIES)
    assert {"", "agriculture", "travel"} <= set(incidents.victim_activity)
    assert (incidents.killed >= 0).all() and (incidents.injured >= 0).all()
    assert (incidents.killed + incidents.injured).max() <= 12
    assert (incidents.killed == 0).mean() > 0.5
    assert incidents.killed.sum() > 0 and incidents.injured.sum() > incidents.killed.sum()
    assert incidents.incident_date.is_monotonic_increasing
    last = scenario.releases.release_date.max()
    first = pd.Timestamp(last.year - 4, 1, 1)  # 1 January of the first release's year
    assert scenario.releases.release_date.min().year == first.year
    assert incidents.incident_date.between(first, last).all()
    assert (incidents.incident_date <= pd.Timestamp.today()).all()
    assert incidents.incident_date.max() > pd.Timestamp(last.year - 1, 1, 1)  # spread over


def test_incidents_lie_near_hazards_and_roads(evidence, scenario):
    both = aeqd(
        gpd.GeoDataFrame(
            geometry=pd.concat(
                [evidence.incidents.geometry, scenario.hazards.geometry, scenario.roads.geometry]
            ),
            crs=scenario.hazards.crs,
        )
    ).geometry.to_numpy()
    n, h = len(evidence.incidents), len(scenario.hazards)
    points = both[:n]
    to_hazard = shapely.distance(points[:, None], both[None, n : n + h]).min(axis=1)
    to_road = shapely.distance(points[:, None], both[None, n + h :]).min(axis=1)
    assert (to_hazard == 0).mean() > 0.5
    assert (np.minimum(to_hazard, to_road) < 1_000).mean() > 0.85


def test_incidents_on_released_land_happened_before_the_release(evidence, scenario):
    incident, release = shapely.STRtree(scenario.releases.geometry.to_numpy()).query(
        evidence.incidents.geometry.to_numpy(), predicate="intersects"
    )
    assert incident.size > 0
    first = pd.Series(scenario.releases.release_date.to_numpy()[release]).groupby(incident).min()
    dates = evidence.incidents.incident_date.to_numpy()[first.index]
    released = first.to_numpy()
    period_start = np.datetime64(f"{scenario.releases.release_date.min().year}-01-01")
    assert ((dates < released) | (dates == period_start)).all()


# ------------------------------------------------------------------------------------------
# records
# ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def records(evidence) -> gpd.GeoDataFrame:
    return evidence.records.merge(evidence.record_truth, on="record_id")


def test_records_have_every_truth(records):
    shares = records.truth.value_counts(normalize=True)
    assert set(shares.index) == set(RECORD_TRUTHS)
    assert shares["accurate"] == pytest.approx(0.40, abs=0.02)
    assert shares["unverified"] == pytest.approx(0.25, abs=0.02)
    assert records.recorded_devices.isna().any()
    assert (records.recorded_devices.dropna() >= 1).all()
    assert set(records.device_type) <= {"ap_mine", "at_mine", "unknown"}
    assert "unknown" in set(records.device_type)
    assert records.offset_m.isna().eq(records.truth.isin(["empty", "unverified"])).all()


def test_accurate_records_lie_within_tens_of_metres_of_finds(records, evidence):
    accurate = records[records.truth == "accurate"]
    points = accurate[accurate.geom_type == "Point"].geometry
    assert len(points) > 0
    assert (nearest_find_m(points, evidence.finds) < 50.0).all()
    perimeters = accurate[accurate.geom_type == "Polygon"]
    holds = shapely.STRtree(evidence.finds.geometry.to_numpy()).query(
        perimeters.geometry.to_numpy(), predicate="intersects"
    )[0]
    assert np.unique(holds).size >= 0.8 * len(perimeters)


def test_displaced_records_miss_the_mines_by_hundreds_of_metres(records, evidence):
    displaced = records[records.truth == "displaced"]
    assert (displaced.offset_m >= 200.0).all()
    centre = displaced.geometry.representative_point()
    assert (nearest_find_m(centre, evidence.finds) > 100.0).mean() >= 0.8


def test_empty_records_lie_on_released_land_without_finds(records, evidence, scenario):
    empty = records[records.truth == "empty"]
    assert (
        not shapely.STRtree(evidence.finds.geometry.to_numpy())
        .query(empty.geometry.to_numpy(), predicate="intersects")
        .size
    )
    worked = scenario.releases[scenario.releases.method != "cancelled"]
    covered, _ = shapely.STRtree(worked.geometry.to_numpy()).query(
        empty.geometry.representative_point().to_numpy(), predicate="within"
    )
    assert np.unique(covered).size == len(empty)


def test_unverified_records_lie_on_unreleased_hazard_land(records, scenario):
    unverified = records[records.truth == "unverified"]
    touched = shapely.STRtree(scenario.releases.geometry.to_numpy()).query(
        unverified.geometry.to_numpy(), predicate="intersects"
    )[0]
    overlap = [
        shapely.area(
            shapely.intersection(unverified.geometry.iloc[i], scenario.releases.union_all())
        )
        for i in np.unique(touched)
    ]
    assert all(a < 1e-10 for a in overlap)  # at most a shared edge
    held, _ = shapely.STRtree(scenario.hazards.geometry.to_numpy()).query(
        unverified.geometry.representative_point().to_numpy(), predicate="within"
    )
    assert np.unique(held).size >= 0.9 * len(unverified)


# ------------------------------------------------------------------------------------------
# settlements
# ------------------------------------------------------------------------------------------


def test_settlements_reuse_the_residential_areas(evidence, scenario):
    settlements = evidence.settlements
    residential = scenario.residential.set_index("settlement_id")
    reused = settlements[settlements.settlement_id.isin(residential.index)]
    assert len(reused) == len(residential)
    assert (reused.name.to_numpy() == residential.name.loc[reused.settlement_id].to_numpy()).all()
    polygons = reused[reused.geom_type == "Polygon"]
    assert polygons.geometry.geom_equals(
        residential.geometry.loc[polygons.settlement_id]
        .reset_index(drop=True)
        .set_axis(polygons.index)
    ).all()
    points = reused[reused.geom_type == "Point"]
    assert shapely.contains(
        residential.geometry.loc[points.settlement_id].to_numpy(), points.geometry.to_numpy()
    ).all()
    assert settlements.name.is_unique
    assert settlements.population.isna().any()
    assert (settlements.population.dropna() >= 0).all()


def test_settlements_lie_near_and_far_from_hazards(evidence, scenario):
    both = aeqd(
        gpd.GeoDataFrame(
            geometry=pd.concat([evidence.settlements.geometry, scenario.hazards.geometry]),
            crs=scenario.hazards.crs,
        )
    ).geometry.to_numpy()
    n = len(evidence.settlements)
    distance = shapely.distance(both[:n, None], both[None, n:]).min(axis=1)
    assert (distance < 500).mean() > 0.3 and (distance > 1_500).any()


# ------------------------------------------------------------------------------------------
# other CRSs, options, errors
# ------------------------------------------------------------------------------------------


def test_a_projected_scenario_gets_projected_evidence():
    scenario = make_scenario(seed=5, high_ha=150, medium_ha=200, low_ha=100, crs="EPSG:32641")
    evidence = field_evidence(scenario, seed=2, n_finds=200)
    assert all(layer.crs == scenario.hazards.crs for layer in evidence.layers.values())
    finds = evidence.finds[evidence.finds.release_id.notna()]
    releases = scenario.releases.set_index("release_id").geometry
    assert shapely.contains(releases.loc[finds.release_id].to_numpy(), finds.geometry).all()
    coords = shapely.get_coordinates(evidence.finds.geometry.to_numpy())
    np.testing.assert_array_equal(coords, np.round(coords, 2))  # centimetres, as the scenario


def test_the_period_can_be_given():
    evidence = field_evidence(small_scenario(), period=("2023-01-01", "2023-06-30"))
    assert evidence.incidents.incident_date.between("2023-01-01", "2023-06-30").all()


@pytest.mark.parametrize(
    "options, message",
    [
        ({"n_finds": -1}, r"n_finds must be a whole number >= 0; got -1"),
        ({"n_records": 2.5}, r"n_records must be a whole number"),
        ({"stray_share": 1.5}, r"stray_share must be between 0 and 1"),
        ({"period": ("2024-01-01", "2023-01-01")}, r"period ends \(2023-01-01\) before"),
        ({"period": ("soon", "later")}, r"period must be two ISO dates"),
    ],
)
def test_bad_options_are_refused(options, message):
    with pytest.raises(ValueError, match=message):
        field_evidence(small_scenario(), **options)


def test_only_a_scenario_is_accepted():
    with pytest.raises(TypeError, match="scenario must be a Scenario"):
        field_evidence(small_scenario().hazards)  # type: ignore[arg-type]


@settings(max_examples=8, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_finds=st.integers(0, 120),
    n_records=st.integers(0, 30),
    stray_share=st.floats(0.0, 0.2),
)
def test_any_seed_gives_consistent_evidence(seed, n_finds, n_records, stray_share):
    scenario = small_scenario()
    evidence = field_evidence(
        scenario, seed=seed, n_finds=n_finds, n_records=n_records, stray_share=stray_share
    )
    assert len(evidence.finds) == n_finds and len(evidence.records) == n_records
    finds = evidence.finds[evidence.finds.release_id.notna()]
    assert len(finds) == n_finds - round(stray_share * n_finds)
    releases = scenario.releases.set_index("release_id")
    assert shapely.contains(
        releases.geometry.loc[finds.release_id].to_numpy(), finds.geometry.to_numpy()
    ).all()
    assert (finds.find_date.to_numpy() <= releases.release_date.loc[finds.release_id]).all()
    last = scenario.releases.release_date.max()
    for layer, column in ((evidence.finds, "find_date"), (evidence.incidents, "incident_date")):
        assert (layer[column] <= last).all()
    truths = set(evidence.record_truth.truth)
    assert truths <= set(RECORD_TRUTHS)
    if n_records >= 4:  # records of found minefields only where minefields were found
        assert {"empty", "unverified"} <= truths
    if len(finds) == 0:
        assert not truths & {"accurate", "displaced"}


def test_the_benchmark_counts_are_fast(scenario):
    start = time.perf_counter()
    big = field_evidence(
        scenario, n_finds=100_000, n_incidents=5_000, n_records=10_000, n_settlements=20_000
    )
    assert time.perf_counter() - start < 30.0
    assert [len(big.layers[name]) for name in EVIDENCE_LAYERS] == [5_000, 100_000, 10_000, 20_000]


# ------------------------------------------------------------------------------------------
# writing
# ------------------------------------------------------------------------------------------


def test_written_layers_read_back(tmp_path, evidence):
    paths = write_field_evidence(evidence, tmp_path)
    assert [p.name for p in paths] == [
        "evidence.gpkg",
        "incidents.csv",
        "finds.geojson",
        "records.geojson",
        "settlements.geojson",
    ]
    assert list(pyogrio.list_layers(tmp_path / "evidence.gpkg")[:, 0]) == list(EVIDENCE_LAYERS)
    finds = pyogrio.read_dataframe(tmp_path / "evidence.gpkg", layer="finds")
    assert finds.find_id.tolist() == evidence.finds.find_id.tolist()
    assert finds.geometry.geom_equals(evidence.finds.geometry).all()
    records = pyogrio.read_dataframe(tmp_path / "records.geojson")
    assert records.recorded_devices.isna().sum() == evidence.records.recorded_devices.isna().sum()
    table = pd.read_csv(tmp_path / "incidents.csv", keep_default_na=False)
    assert table.columns.tolist() == [*list(evidence.incidents.columns[:-1]), "lon", "lat"]
    np.testing.assert_array_equal(table[["lon", "lat"]], evidence.incidents.get_coordinates())
    assert (
        table.incident_date.tolist()
        == evidence.incidents.incident_date.dt.strftime("%Y-%m-%d").tolist()
    )
    assert table.victim_activity.tolist() == evidence.incidents.victim_activity.tolist()
    assert not list(tmp_path.glob(".minemap-*"))


def test_the_layers_join_an_existing_geopackage(tmp_path, scenario, evidence):
    write_scenario(scenario, tmp_path, formats=["gpkg"])
    write_field_evidence(evidence, tmp_path, geopackage="scenario.gpkg", files=False)
    layers = list(pyogrio.list_layers(tmp_path / "scenario.gpkg")[:, 0])
    assert layers == [*scenario.layers, *EVIDENCE_LAYERS]
    again = field_evidence(scenario, seed=3, **SIZES)
    write_field_evidence(again, tmp_path, geopackage="scenario.gpkg", files=False)
    assert list(pyogrio.list_layers(tmp_path / "scenario.gpkg")[:, 0]) == layers
    finds = pyogrio.read_dataframe(tmp_path / "scenario.gpkg", layer="finds")
    assert finds.geometry.geom_equals(again.finds.geometry).all()  # replaced, not appended
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scenario.gpkg"]
