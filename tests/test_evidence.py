"""Tests of minemap.evidence: device density, devices remaining, record accuracy.

Fixtures are hand-made with known answers: hectares from the geodesic oracle (_oracle.py),
distances from pyproj.Geod, Poisson bounds from the Poisson distribution itself (and a
printed table), the Fay-Feuer interval from its chi-square form.
"""

from __future__ import annotations

import warnings

import _oracle as oracle
import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats
from shapely import Point, box

import minemap
from minemap import evidence
from minemap._errors import DataWarning, SchemaError
from minemap.settings import DEVICE_TYPES

GEOD = pyproj.Geod(ellps="WGS84")
UTM = 32638
X0, Y0 = 500_000.0, 4_400_000.0
#: An equal-area CRS: planar area is true area, so a square of side √100,000 m is 10 ha.
LAEA = "+proj=laea +lat_0=40 +lon_0=47 +ellps=WGS84 +units=m +no_defs"
SIDE = 100_000**0.5
SETTINGS = settings(
    max_examples=30, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)


# ------------------------------------------------------------------------------------------
# canonical layers (as minemap.io.evidence returns them)
# ------------------------------------------------------------------------------------------


def make_finds(points, counts=None, types=None, dates=None, crs=UTM):
    n = len(points)
    finds = gpd.GeoDataFrame(
        {
            "find_id": [f"F{k}" for k in range(n)],
            "find_date": pd.to_datetime(dates or ["2023-06-01"] * n).astype("datetime64[ns]"),
            "device_type": types or ["ap_mine"] * n,
            "device_count": np.asarray(counts or [1] * n, dtype=np.int64),
            "release_id": pd.Series([None] * n, dtype=object),
        },
        geometry=list(points),
        crs=crs,
    )
    finds.attrs.update(minemap="finds", source="finds.gpkg")
    return finds


def make_records(geoms, recorded=None, types=None, crs=UTM, ids=None):
    n = len(geoms)
    records = gpd.GeoDataFrame(
        {
            "record_id": ids or [f"MF{k}" for k in range(n)],
            "recorded_devices": pd.array(recorded or [None] * n, dtype="Int64"),
            "device_type": types or ["unknown"] * n,
        },
        geometry=list(geoms),
        crs=crs,
    )
    records.attrs.update(minemap="records", source="records.gpkg")
    return records


def hazards_of(geoms, levels, crs=UTM, **columns):
    return gpd.GeoDataFrame(
        {"hazard_id": [f"H{k}" for k in range(len(geoms))], "threat_level": levels, **columns},
        geometry=list(geoms),
        crs=crs,
    )


def releases_of(geoms, methods, dates=None, crs=UTM):
    return gpd.GeoDataFrame(
        {
            "release_id": [f"R{k}" for k in range(len(geoms))],
            "method": methods,
            "release_date": dates or ["2023-05-01"] * len(geoms),
        },
        geometry=list(geoms),
        crs=crs,
    )


def cell(x0, y0, x1, y1):
    """A box in metres from the UTM origin of the fixtures."""
    return box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


def at(x, y):
    return Point(X0 + x, Y0 + y)


def row(table, level, method, **groups):
    sel = (table["threat_level"] == level) & (table["method"] == method)
    for column, value in groups.items():
        sel &= table[column] == value
    assert sel.sum() == 1
    return table.loc[sel].iloc[0]


def garwood(count, confidence=0.95):
    """Exact Poisson bounds from the gamma distribution (independent of the chi-square form)."""
    alpha = 1 - confidence
    low = 0.0 if count == 0 else stats.gamma.ppf(alpha / 2, count)
    return low, stats.gamma.ppf(1 - alpha / 2, count + 1)


def quiet(func, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        return func(*args, **kwargs)


# ------------------------------------------------------------------------------------------
# device_density: known answers
# ------------------------------------------------------------------------------------------


@pytest.fixture
def ten_hectares():
    square = box(0, 0, SIDE, SIDE)
    hz = hazards_of([square], ["high"], crs=LAEA)
    rl = releases_of([square], ["cleared"], crs=LAEA)
    points = [Point(20 + 10 * k, 50 + 7 * k) for k in range(5)]
    finds = make_finds(points, counts=[5, 5, 5, 5, 5], crs=LAEA)
    return hz, rl, finds


def test_ten_cleared_hectares_with_25_devices(ten_hectares):
    hz, rl, finds = ten_hectares
    table = evidence.device_density(hz, rl, finds)
    cleared = row(table, "high", "cleared")
    geodesic_ha = oracle.area_ha(hz.geometry.iloc[0], LAEA)
    assert geodesic_ha == pytest.approx(10.0, rel=1e-6)
    assert cleared["released_ha"] == pytest.approx(geodesic_ha, rel=1e-6)
    assert cleared["devices"] == 25 and cleared["finds"] == 5
    assert cleared["devices_per_ha"] == pytest.approx(2.5, rel=1e-6)
    # the exact Poisson bounds of 25: the means at which 25 is just in the 2.5 % tails
    low, high = cleared["devices_per_ha_low"] * 10, cleared["devices_per_ha_high"] * 10
    assert stats.poisson.sf(24, low) == pytest.approx(0.025, rel=1e-6)
    assert stats.poisson.cdf(25, high) == pytest.approx(0.025, rel=1e-6)
    # ... and as printed tables give them (e.g. Documenta Geigy: 16.18 and 36.90)
    assert (round(low, 2), round(high, 2)) == (16.18, 36.90)
    assert (low, high) == pytest.approx(garwood(25), rel=1e-6)
    assert cleared["no_find_ha"] == 0.0 and cleared["percent_no_find"] == 0.0
    # nothing reduced: no density, not zero
    reduced = row(table, "high", "reduced")
    assert reduced["released_ha"] == 0.0 and np.isnan(reduced["devices_per_ha"])
    total = row(table, "total", "total")
    assert total["devices"] == 25 and total["devices_per_ha"] == pytest.approx(2.5, rel=1e-6)
    assert "Poisson" in table.attrs["interval"] and "wider" in table.attrs["interval"]
    assert table.attrs["finds_outside"] == 0 and table.attrs["confidence"] == 0.95


def test_confidence_level_changes_the_bounds(ten_hectares):
    table = evidence.device_density(*ten_hectares, confidence=0.9)
    cleared = row(table, "high", "cleared")
    area = cleared["released_ha"]
    expected = garwood(25, 0.9)
    assert cleared["devices_per_ha_low"] * area == pytest.approx(expected[0], rel=1e-9)
    assert cleared["devices_per_ha_high"] * area == pytest.approx(expected[1], rel=1e-9)


def test_no_find_on_cleared_land_gives_an_upper_bound(ten_hectares):
    hz, rl, _ = ten_hectares
    table = evidence.device_density(hz, rl, make_finds([], crs=LAEA))
    cleared = row(table, "high", "cleared")
    assert cleared["devices"] == 0 and cleared["devices_per_ha"] == 0.0
    assert cleared["devices_per_ha_low"] == 0.0
    # -ln(0.025) devices over the 10 ha: the "rule of three" at 97.5 %
    assert cleared["devices_per_ha_high"] * cleared["released_ha"] == pytest.approx(
        -np.log(0.025), rel=1e-9
    )
    assert cleared["no_find_ha"] == cleared["released_ha"]
    assert cleared["percent_no_find"] == 100.0


@pytest.fixture
def overlapping():
    """Two hazards overlapping (high over low) and two releases overlapping (cleared over
    reduced), 100 m high strips in UTM 38N:

    high [0, 200], low [100, 300] → low piece [200, 300];
    cleared [50, 150], reduced [100, 250] → reduced piece [150, 250].
    """
    hz = hazards_of([cell(0, 0, 200, 100), cell(100, 0, 300, 100)], ["high", "low"])
    rl = releases_of([cell(50, 0, 150, 100), cell(100, 0, 250, 100)], ["cleared", "reduced"])
    return hz, rl


def test_overlaps_count_once_and_finds_follow_the_area_rules(overlapping):
    hz, rl = overlapping
    finds = make_finds(
        [
            at(75, 50),  # high, cleared
            at(120, 50),  # under both hazards and both releases: high, cleared
            at(175, 50),  # high, reduced
            at(225, 50),  # low, reduced
            at(275, 50),  # low, not released
            at(200, 50),  # edge of high/reduced and low/reduced: the higher level
            at(150, 50),  # edge of high/cleared and high/reduced: the stronger method
            at(50, 30),  # outer edge of the cleared land, inside the high hazard: released
        ],
        counts=[3, 2, 4, 5, 1, 6, 7, 8],
    )
    table = evidence.device_density(hz, rl, finds)
    expected = oracle.summary_of_layers(hz, rl)
    for level in ("high", "low"):
        for method in ("cleared", "reduced"):
            assert row(table, level, method)["released_ha"] == pytest.approx(
                expected[level][f"{method}_ha"], rel=oracle.REL, abs=oracle.ABS_HA
            )
    devices = {
        (lvl, m): row(table, lvl, m)["devices"]
        for lvl in ("high", "medium", "low")
        for m in ("cleared", "reduced", "cancelled")
    }
    assert devices[("high", "cleared")] == 3 + 2 + 7 + 8
    assert devices[("high", "reduced")] == 4 + 6
    assert devices[("low", "reduced")] == 5
    assert sum(devices.values()) == 35
    assert table.attrs["devices_in_unreleased"] == 1 and table.attrs["finds_in_unreleased"] == 1
    assert table.attrs["devices_total"] == 36
    high = row(table, "high", "total")
    assert high["devices"] == 30
    assert high["released_ha"] == pytest.approx(expected["high"]["released_ha"], rel=oracle.REL)
    assert high["devices_per_ha"] == pytest.approx(30 / high["released_ha"])


def test_a_find_on_a_shared_edge_between_groups_counts_once():
    hz = hazards_of(
        [cell(0, 0, 100, 100), cell(100, 0, 200, 100)], ["medium", "medium"], district=["B", "A"]
    )
    rl = releases_of([cell(0, 0, 200, 100)], ["cleared"])
    finds = make_finds([at(100, 50), at(100, 100), at(50, 50)], counts=[2, 3, 4])
    table = evidence.device_density(hz, rl, finds, by="district")
    # the two edge finds go to the group that sorts first ("A"), the third to B
    assert row(table, "medium", "cleared", district="A")["devices"] == 5
    assert row(table, "medium", "cleared", district="B")["devices"] == 4
    assert row(table, "total", "total", district="all")["devices"] == 9
    assert row(table, "medium", "cleared", district="all")["devices"] == 9


def test_on_a_shared_edge_the_stronger_method_comes_before_the_group():
    hz = hazards_of(
        [cell(0, 0, 100, 100), cell(100, 0, 200, 100)], ["high", "high"], district=["A", "B"]
    )
    rl = releases_of([cell(0, 0, 100, 100), cell(100, 0, 200, 100)], ["reduced", "cleared"])
    table = evidence.device_density(hz, rl, make_finds([at(100, 50)]), by="district")
    assert row(table, "high", "cleared", district="B")["devices"] == 1
    assert row(table, "high", "total", district="A")["devices"] == 0


def test_finds_outside_every_hazard_are_counted_and_warned(overlapping):
    hz, rl = overlapping
    finds = make_finds([at(75, 50), at(1_000, 50), at(2_000, 2_000)], counts=[1, 2, 3])
    with pytest.warns(
        DataWarning, match=r"finds\.gpkg: 2 find\(s\) \(5 devices\) lie outside"
    ) as w:
        table = evidence.device_density(hz, rl, finds)
    assert "(ids 'F1', 'F2')" in str(w[0].message)
    assert table.attrs["finds_outside"] == 2 and table.attrs["devices_outside"] == 5
    assert row(table, "total", "total")["devices"] == 1


def test_a_find_in_release_recorded_outside_hazards_is_outside(overlapping):
    hz, _ = overlapping
    rl = releases_of([cell(50, 0, 150, 100), cell(400, 0, 500, 100)], ["cleared", "cleared"])
    finds = make_finds([at(450, 50)])
    with pytest.warns(DataWarning, match="outside every hazard"):
        table = evidence.device_density(hz, rl, finds)
    assert table.attrs["finds_outside"] == 1
    assert table.attrs["released_outside_hazards_ha"] == pytest.approx(
        oracle.area_ha(cell(400, 0, 500, 100), UTM), rel=oracle.REL
    )


def test_no_find_hectares_are_the_release_records_that_found_nothing():
    hz = hazards_of([cell(0, 0, 300, 100)], ["high"])
    rl = releases_of(
        [cell(0, 0, 100, 100), cell(100, 0, 200, 100), cell(200, 0, 300, 100)],
        ["cleared", "cleared", "reduced"],
    )
    finds = make_finds([at(50, 50), at(60, 50)])  # only the first record found anything
    table = evidence.device_density(hz, rl, finds)
    cleared = row(table, "high", "cleared")
    second = oracle.area_ha(cell(100, 0, 200, 100), UTM)
    assert cleared["no_find_ha"] == pytest.approx(second, rel=oracle.REL)
    assert cleared["percent_no_find"] == pytest.approx(
        100 * second / cleared["released_ha"], rel=oracle.REL
    )
    reduced = row(table, "high", "reduced")
    assert reduced["no_find_ha"] == pytest.approx(reduced["released_ha"], rel=1e-12)
    total = row(table, "high", "total")
    assert total["no_find_ha"] == pytest.approx(
        cleared["no_find_ha"] + reduced["no_find_ha"], rel=1e-12
    )


def test_no_find_hectares_when_most_records_found_something():
    # the records without a find are measured (the smaller set); same definition
    hz = hazards_of([cell(0, 0, 300, 100), cell(0, 200, 100, 300)], ["high", "low"])
    rl = releases_of(
        [cell(0, 0, 100, 100), cell(100, 0, 200, 100), cell(200, 0, 300, 100)]
        + [cell(0, 200, 100, 300)],
        ["cleared", "cleared", "cleared", "reduced"],
    )
    finds = make_finds([at(50, 50), at(150, 50), at(50, 250)])
    table = evidence.device_density(hz, rl, finds)
    cleared = row(table, "high", "cleared")
    third = oracle.area_ha(cell(200, 0, 300, 100), UTM)
    assert cleared["no_find_ha"] == pytest.approx(third, rel=oracle.REL)
    assert row(table, "low", "reduced")["no_find_ha"] == 0.0
    assert row(table, "total", "total")["no_find_ha"] == pytest.approx(third, rel=oracle.REL)


def test_finds_in_another_crs_land_in_the_same_pieces(overlapping):
    hz, rl = overlapping
    points = [at(75, 50), at(175, 50), at(225, 50), at(275, 50)]
    here = evidence.device_density(hz, rl, make_finds(points, counts=[1, 2, 3, 4]))
    lonlat = gpd.GeoSeries(points, crs=UTM).to_crs(4326)
    there = evidence.device_density(hz, rl, make_finds(list(lonlat), counts=[1, 2, 3, 4], crs=4326))
    pd.testing.assert_frame_equal(here, there)
    assert row(there, "low", "reduced")["devices"] == 3


def test_one_record_over_two_levels_is_judged_per_level():
    hz = hazards_of([cell(0, 0, 100, 100), cell(100, 0, 200, 100)], ["high", "low"])
    rl = releases_of([cell(0, 0, 200, 100)], ["cleared"])
    table = evidence.device_density(hz, rl, make_finds([at(50, 50)]))
    assert row(table, "high", "cleared")["no_find_ha"] == 0.0
    low = row(table, "low", "cleared")
    assert low["no_find_ha"] == low["released_ha"] > 0


def test_released_hectares_are_exactly_the_summary():
    from minemap.synthetic import make_scenario

    scenario = make_scenario(seed=4, high_ha=60, medium_ha=90, low_ha=50, n_districts=3)
    hz, rl = scenario.hazards, scenario.releases
    points = rl.to_crs(UTM).sample_points(size=1, rng=1).to_crs(hz.crs)
    finds = make_finds(list(points.array), counts=[2] * len(points), crs=hz.crs)
    for by in (None, "district", scenario.districts):
        summary = quiet(minemap.land_release_summary, hz, rl, by=by)
        table = quiet(evidence.device_density, hz, rl, finds, by=by)
        groups = list(table.columns[: table.columns.get_loc("threat_level")])
        keyed = summary.set_index([*groups, "threat_level"])
        for _, r in table.iterrows():
            key = (*(r[g] for g in groups), r["threat_level"])
            if key not in keyed.index:
                continue  # per-level rows of the "all" block: sums of the groups
            column = "released_ha" if r["method"] == "total" else f"{r['method']}_ha"
            assert r["released_ha"] == keyed.loc[key, column]
        if groups:
            block = table[(table[groups[0]] != "all")]
            alls = table[table[groups[0]] == "all"]
            for level in ("high", "medium", "low"):
                for method in ("cleared", "reduced", "cancelled", "total"):
                    part = block[(block.threat_level == level) & (block.method == method)]
                    whole = row(alls, level, method)
                    assert whole["released_ha"] == pytest.approx(part["released_ha"].sum())
                    assert whole["devices"] == part["devices"].sum()
        assert (
            row(table, "total", "total", **{g: "all" for g in groups})["devices"]
            + table.attrs["devices_outside"]
            + table.attrs["devices_in_unreleased"]
            == table.attrs["devices_total"]
            == 2 * len(points)
        )


def test_as_of_leaves_out_later_releases_and_finds(overlapping):
    hz, _ = overlapping
    rl = releases_of(
        [cell(0, 0, 100, 100), cell(100, 0, 200, 100)],
        ["cleared", "cleared"],
        dates=["2022-03-01", "2023-03-01"],
    )
    finds = make_finds(
        [at(50, 50), at(150, 50), at(60, 50)],
        counts=[1, 2, 4],
        dates=["2022-02-01", "2022-12-01", "2023-01-15"],
    )
    table = evidence.device_density(hz, rl, finds, as_of="2022-12-31")
    assert row(table, "high", "cleared")["devices"] == 1
    assert table.attrs["finds_after_as_of"] == 1
    # found during a task that was completed after as_of: in land not yet released
    assert table.attrs["devices_in_unreleased"] == 2
    assert table.attrs["as_of"] == "2022-12-31"


def test_the_bootstrap_resamples_release_records_and_is_seeded():
    strips = [cell(100 * k, 0, 100 * (k + 1), 100) for k in range(8)]
    hz = hazards_of([cell(0, 0, 800, 100)], ["high"])
    rl = releases_of(strips, ["cleared"] * 8)
    # devices clustered in two of the eight records
    finds = make_finds([at(50, 50), at(350, 50)], counts=[30, 10])
    table = evidence.device_density(hz, rl, finds, interval="bootstrap", draws=500, seed=3)
    again = evidence.device_density(hz, rl, finds, interval="bootstrap", draws=500, seed=3)
    pd.testing.assert_frame_equal(table, again)
    cleared = row(table, "high", "cleared")
    assert cleared["devices_per_ha"] == pytest.approx(40 / cleared["released_ha"])
    poisson = row(evidence.device_density(hz, rl, finds), "high", "cleared")
    # clustering: the bootstrap interval is far wider than the Poisson one
    boot_width = cleared["devices_per_ha_high"] - cleared["devices_per_ha_low"]
    poisson_width = poisson["devices_per_ha_high"] - poisson["devices_per_ha_low"]
    assert boot_width > 2 * poisson_width
    assert cleared["devices_per_ha_low"] <= cleared["devices_per_ha"]
    assert cleared["devices_per_ha"] <= cleared["devices_per_ha_high"]
    assert "bootstrap" in table.attrs["interval"]
    # the order of the release records does not change the draws
    shuffled = evidence.device_density(
        hz, rl.iloc[::-1].reset_index(drop=True), finds, interval="bootstrap", draws=500, seed=3
    )
    pd.testing.assert_frame_equal(table, shuffled)


def test_inputs_are_not_modified(overlapping):
    hz, rl = overlapping
    finds = make_finds([at(75, 50), at(225, 50)])
    copies = [hz.copy(), rl.copy(), finds.copy()]
    evidence.device_density(hz, rl, finds)
    evidence.estimate_remaining_devices(hz, rl, finds)
    for before, after in zip(copies, [hz, rl, finds], strict=True):
        pd.testing.assert_frame_equal(before, after)
    assert finds.attrs["minemap"] == "finds"


@pytest.mark.parametrize(
    "options, message",
    [
        ({"confidence": 1.5}, r"confidence=1\.5 is not a confidence level"),
        ({"confidence": "high"}, "confidence='high'"),
        ({"interval": "normal"}, r"interval='normal' is not an interval method"),
        ({"draws": 0}, "draws=0 is not a number of draws"),
        ({"draws": 10}, "draws=10 is not a number of draws; give a whole number from 100"),
        ({"seed": -1}, "seed=-1 is not a seed"),
    ],
)
def test_options_are_checked(overlapping, options, message):
    hz, rl = overlapping
    with pytest.raises(SchemaError, match=message):
        evidence.device_density(hz, rl, make_finds([at(75, 50)]), **options)


def test_releases_are_required(overlapping):
    hz, _ = overlapping
    with pytest.raises(SchemaError, match="need release records"):
        evidence.device_density(hz, None, make_finds([at(75, 50)]))


# ------------------------------------------------------------------------------------------
# estimate_remaining_devices
# ------------------------------------------------------------------------------------------


def fay_feuer(counts, weights, confidence=0.95):
    """The Fay-Feuer (1997) interval in its chi-square form."""
    counts, weights = np.asarray(counts, float), np.asarray(weights, float)
    alpha = 1 - confidence
    y, v, wm = (weights * counts).sum(), (weights**2 * counts).sum(), weights.max()
    low = 0.0 if y == 0 else v / (2 * y) * stats.chi2.ppf(alpha / 2, 2 * y**2 / v)
    high = (
        (v + wm**2)
        / (2 * (y + wm))
        * stats.chi2.ppf(1 - alpha / 2, 2 * (y + wm) ** 2 / (v + wm**2))
    )
    return low, high


@pytest.fixture
def two_levels():
    """High: 300 m × 100 m, the first 100 m cleared with 25 devices. Medium: 200 m × 100 m,
    the first 100 m cleared with 4 devices. Low: 100 m × 100 m, nothing released."""
    hz = hazards_of(
        [cell(0, 0, 300, 100), cell(0, 200, 200, 300), cell(0, 400, 100, 500)],
        ["high", "medium", "low"],
    )
    rl = releases_of([cell(0, 0, 100, 100), cell(0, 200, 100, 300)], ["cleared", "cleared"])
    finds = make_finds([at(50, 50), at(50, 250)], counts=[25, 4])
    return hz, rl, finds


def test_remaining_devices_per_level(two_levels):
    hz, rl, finds = two_levels
    table = evidence.estimate_remaining_devices(hz, rl, finds).set_index("threat_level")
    summary = minemap.land_release_summary(hz, rl).set_index("threat_level")
    high = table.loc["high"]
    assert high["remaining_ha"] == summary.loc["high", "remaining_ha"]
    assert high["density_devices"] == 25
    assert high["density_ha"] == summary.loc["high", "cleared_ha"]
    weight = high["remaining_ha"] / high["density_ha"]
    assert weight == pytest.approx(2.0, rel=1e-4)  # 200 m left of 300, 100 m cleared
    assert high["devices_estimate"] == pytest.approx(25 * weight)
    low, up = garwood(25)
    assert high["devices_low"] == pytest.approx(low * weight, rel=1e-9)
    assert high["devices_high"] == pytest.approx(up * weight, rel=1e-9)
    medium = table.loc["medium"]
    assert medium["devices_estimate"] == pytest.approx(
        4 * medium["remaining_ha"] / medium["density_ha"]
    )
    # low: remaining land, but no cleared land to take a density from
    assert np.isnan(table.loc["low", "devices_estimate"])
    assert table.loc["low", "reason"] == "no cleared land of this level"
    total = table.loc["total"]
    assert np.isnan(total["devices_estimate"]) and total["reason"] == "no estimate for low"
    assert total["remaining_ha"] == summary.loc["total", "remaining_ha"]


def test_the_total_interval_is_fay_feuer_not_a_sum_of_bounds(two_levels):
    hz, rl, finds = two_levels
    hz = hz.iloc[:2]  # without the low hazard every level has an estimate
    table = evidence.estimate_remaining_devices(hz, rl, finds).set_index("threat_level")
    levels = table.loc[["high", "medium"]]
    total = table.loc["total"]
    assert total["devices_estimate"] == pytest.approx(levels["devices_estimate"].sum())
    weights = levels["remaining_ha"] / levels["density_ha"]
    expected = fay_feuer(levels["density_devices"], weights)
    assert (total["devices_low"], total["devices_high"]) == pytest.approx(expected, rel=1e-9)
    # narrower than adding the levels' bounds, which double-counts their uncertainty
    assert total["devices_high"] - total["devices_low"] < (
        levels["devices_high"].sum() - levels["devices_low"].sum()
    )
    assert total["devices_low"] < total["devices_estimate"] < total["devices_high"]


def test_a_given_density_has_no_interval(two_levels):
    hz, rl, _ = two_levels
    table = evidence.estimate_remaining_devices(
        hz, rl, None, density={"high": 2.0, "medium": 1.0, "low": 0.5}
    ).set_index("threat_level")
    summary = minemap.land_release_summary(hz, rl).set_index("threat_level")
    for level, density in (("high", 2.0), ("medium", 1.0), ("low", 0.5)):
        assert table.loc[level, "devices_estimate"] == pytest.approx(
            density * summary.loc[level, "remaining_ha"]
        )
        assert np.isnan(table.loc[level, "devices_low"])
        assert table.loc[level, "reason"] == "density given: no interval"
    assert table.loc["total", "devices_estimate"] == pytest.approx(
        table.loc[["high", "medium", "low"], "devices_estimate"].sum()
    )


def test_an_ungrouped_density_serves_every_group(two_levels):
    hz, rl, finds = two_levels
    hz = hz.iloc[:2].assign(district=["A", "B"])
    national = evidence.device_density(hz, rl, finds)
    table = evidence.estimate_remaining_devices(hz, rl, None, density=national, by="district")
    high = row(table.assign(method="-"), "high", "-", district="A")
    assert high["density_devices"] == 25
    summary = minemap.land_release_summary(hz, rl, by="district")
    assert table[["district", "threat_level"]].values.tolist() == (
        summary[["district", "threat_level"]].values.tolist()
    )
    assert table["remaining_ha"].tolist() == summary["remaining_ha"].tolist()
    grand = table[(table.district == "all")].iloc[0]
    per_level = table[table.threat_level.isin(["high", "medium"])]
    assert grand["devices_estimate"] == pytest.approx(per_level["devices_estimate"].sum())
    # both groups take the one national density: their counts are one, not two
    weights = (
        (per_level["remaining_ha"] / per_level["density_ha"])
        .groupby(per_level["threat_level"])
        .sum()
    )
    assert (grand["devices_low"], grand["devices_high"]) == pytest.approx(
        fay_feuer([25, 4], [weights["high"], weights["medium"]]), rel=1e-9
    )


def test_the_density_method_can_be_chosen(two_levels):
    hz, rl, finds = two_levels
    table = evidence.estimate_remaining_devices(hz, rl, finds, method="reduced")
    high = table.set_index("threat_level").loc["high"]
    assert np.isnan(high["devices_estimate"]) and high["reason"] == "no reduced land of this level"
    with pytest.raises(SchemaError, match="method='dug' is not a release method"):
        evidence.estimate_remaining_devices(hz, rl, finds, method="dug")


# ------------------------------------------------------------------------------------------
# record_accuracy
# ------------------------------------------------------------------------------------------


def east_of(lon, lat, metres):
    """The point ``metres`` due east of (lon, lat), by pyproj.Geod."""
    lon2, lat2, _ = GEOD.fwd(lon, lat, 90.0, metres)
    return Point(lon2, lat2)


@pytest.mark.parametrize("lat", [0.0, 40.0, 65.0])
def test_a_record_displaced_60_m_is_not_confirmed_and_40_m_is(lat):
    find = Point(46.0, lat)
    records = make_records(
        [east_of(46.0, lat, 40.0), east_of(46.0, lat, 60.0)], crs=4326, ids=["near", "far"]
    )
    result = evidence.record_accuracy(records, make_finds([find], crs=4326), None, tolerance_m=50)
    assert result.records["status"].tolist() == ["confirmed", "unverified"]
    for k, record in enumerate(records.geometry):
        expected = GEOD.inv(record.x, record.y, find.x, find.y)[2]
        assert result.records["nearest_find_m"].iloc[k] == pytest.approx(expected, rel=1e-9)


def test_a_displaced_perimeter_is_measured_from_its_edge():
    # a 100 m square record whose west edge lies 40 m (then 60 m) east of the find
    find = at(0, 50)
    near = make_records([cell(40, 0, 140, 100)], ids=["near"])
    far = make_records([cell(60, 0, 160, 100)], ids=["far"])
    finds = make_finds([find])
    assert evidence.record_accuracy(near, finds, None).records["status"].iloc[0] == "confirmed"
    result = evidence.record_accuracy(far, finds, None)
    assert result.records["status"].iloc[0] == "unverified"
    # the nearest point of the record is (60, 50): compare with Geod in lon/lat
    lonlat = pyproj.Transformer.from_crs(UTM, 4326, always_xy=True)
    a, b = lonlat.transform(X0 + 60, Y0 + 50), lonlat.transform(X0, Y0 + 50)
    expected = GEOD.inv(*a, *b)[2]
    assert result.records["nearest_find_m"].iloc[0] == pytest.approx(expected, rel=1e-6)


def test_statuses_shares_and_figures():
    records = make_records(
        [
            cell(0, 0, 100, 100),  # finds inside, ground cleared: confirmed
            cell(1_000, 0, 1_100, 100),  # cleared, nothing found: inaccurate
            cell(2_000, 0, 2_100, 100),  # not released: unverified
            cell(3_000, 0, 3_100, 100),  # a quarter released: unverified
            at(4_000, 50),  # a point record, a find 30 m away
        ],
        recorded=[10, 5, 3, None, 2],
        types=["ap_mine", "at_mine", "ap_mine", "unknown", "at_mine"],
    )
    rl = releases_of(
        [cell(-100, -100, 200, 200), cell(950, -50, 1_150, 150), cell(3_000, 0, 3_100, 25)],
        ["cleared", "reduced", "cleared"],
    )
    finds = make_finds(
        [at(20, 20), at(80, 80), at(130, 50), at(4_030, 50), at(9_000, 0)],
        counts=[2, 3, 1, 2, 4],
        types=["ap_mine", "at_mine", "at_mine", "unknown", "ap_mine"],
    )
    result = evidence.record_accuracy(records, finds, rl, tolerance_m=50)
    table = result.records.set_index("record_id")
    assert table["status"].tolist() == [
        "confirmed",
        "inaccurate",
        "unverified",
        "unverified",
        "confirmed",
    ]
    # the find 30 m east of the first square counts too (within 50 m)
    assert table.loc["MF0", "finds_within"] == 3 and table.loc["MF0", "devices_within"] == 6
    assert table.loc["MF0", "found_device_type"] == "at_mine"  # 4 devices against 2
    assert not table.loc["MF0", "type_agrees"]
    assert table.loc["MF0", "found_to_recorded"] == pytest.approx(0.6)
    assert table.loc["MF1", "released_share"] == pytest.approx(1.0)
    assert table.loc["MF1", "found_to_recorded"] == 0.0
    assert table.loc["MF2", "released_share"] == 0.0 and np.isnan(
        table.loc["MF2", "found_to_recorded"]
    )
    # a quarter of the square, but less of the square plus 50 m
    buffered = cell(3_000, 0, 3_100, 100).buffer(50, quad_segs=64)
    expected = oracle.area_ha(buffered.intersection(cell(3_000, 0, 3_100, 25)), UTM)
    assert table.loc["MF3", "released_share"] == pytest.approx(
        expected / oracle.area_ha(buffered, UTM), rel=2e-3
    )
    # found only a device of unknown type: no type to compare
    assert pd.isna(table.loc["MF4", "type_agrees"])
    assert pd.isna(table.loc["MF3", "type_agrees"])
    summary = result.summary.iloc[0]
    assert summary["confirmed"] == 2 and summary["inaccurate"] == 1
    assert summary["unverified"] == 2
    assert summary["percent_confirmed"] == pytest.approx(100 * 2 / 3)
    assert summary["finds_in_records"] == 4 and summary["finds"] == 5
    assert summary["percent_finds_in_records"] == pytest.approx(80.0)
    assert summary["devices_in_records"] == 8 and summary["devices"] == 12
    assert summary["confirmed_found_devices"] == 8
    assert summary["confirmed_recorded_devices"] == 12
    assert summary["found_to_recorded"] == pytest.approx(8 / 12)
    assert summary["type_compared"] == 1 and summary["type_agreeing"] == 0
    assert set(result.definitions) >= {"confirmed", "inaccurate", "unverified"}
    assert "Amended Protocol II" in result.definitions["record"]
    assert "inaccurate" in result._repr_html_()


def test_the_released_share_threshold_decides_inaccurate():
    records = make_records([cell(0, 0, 100, 100)])
    rl = releases_of([cell(-100, -100, 200, 45)], ["cleared"])  # under half the buffer
    finds = make_finds([at(5_000, 0)])
    result = evidence.record_accuracy(records, finds, rl)
    share = result.records["released_share"].iloc[0]
    assert 0.3 < share < 0.5 and result.records["status"].iloc[0] == "unverified"
    lower = evidence.record_accuracy(records, finds, rl, min_released_share=0.3)
    assert lower.records["status"].iloc[0] == "inaccurate"
    surveyed = evidence.record_accuracy(records, finds, rl, methods=["reduced"])
    assert surveyed.records["released_share"].iloc[0] == 0.0


def test_record_accuracy_options_are_checked():
    records, finds = make_records([at(0, 0)]), make_finds([at(0, 0)])
    with pytest.raises(SchemaError, match="tolerance_m=-1 is not a tolerance"):
        evidence.record_accuracy(records, finds, None, tolerance_m=-1)
    with pytest.raises(SchemaError, match="tolerance_m=1e\\+20 is not a tolerance.* 0 to 10,000"):
        evidence.record_accuracy(records, finds, None, tolerance_m=1e20)
    with pytest.raises(SchemaError, match="min_released_share=0 is not a share"):
        evidence.record_accuracy(records, finds, None, min_released_share=0)
    with pytest.raises(SchemaError, match="must name release methods"):
        evidence.record_accuracy(records, finds, None, methods=["burnt"])


def test_record_accuracy_without_finds():
    result = evidence.record_accuracy(make_records([at(0, 0)]), make_finds([]), None)
    assert result.records["status"].iloc[0] == "unverified"
    assert np.isnan(result.records["nearest_find_m"].iloc[0])
    assert np.isnan(result.summary["percent_confirmed"].iloc[0])


# ------------------------------------------------------------------------------------------
# properties
# ------------------------------------------------------------------------------------------

GRID = 50.0


@st.composite
def boxes(draw):
    i, j = draw(st.integers(0, 8)), draw(st.integers(0, 8))
    w, h = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    return cell(i * GRID, j * GRID, (i + w) * GRID, (j + h) * GRID)


@st.composite
def scenes(draw):
    n, m, k = draw(st.integers(1, 4)), draw(st.integers(1, 4)), draw(st.integers(0, 12))
    hz = hazards_of(
        draw(st.lists(boxes(), min_size=n, max_size=n)),
        draw(st.lists(st.sampled_from(oracle.LEVELS), min_size=n, max_size=n)),
        district=draw(st.lists(st.sampled_from("AB"), min_size=n, max_size=n)),
    )
    rl = releases_of(
        draw(st.lists(boxes(), min_size=m, max_size=m)),
        draw(st.lists(st.sampled_from(oracle.METHODS), min_size=m, max_size=m)),
    )
    # finds on a half-grid: many lie on edges and corners of hazards and releases
    coords = draw(
        st.lists(st.tuples(st.integers(0, 30), st.integers(0, 30)), min_size=k, max_size=k)
    )
    finds = make_finds(
        [at(x * GRID / 2, y * GRID / 2) for x, y in coords],
        counts=draw(st.lists(st.integers(0, 5), min_size=k, max_size=k)),
    )
    return hz, rl, finds


@SETTINGS
@given(scenes(), st.sampled_from([None, "district"]))
def test_every_find_counts_once_and_densities_are_sane(scene, by):
    hz, rl, finds = scene
    table = quiet(evidence.device_density, hz, rl, finds, by=by)
    groups = ["district"] if by else []
    cells = table[(table.threat_level != "total") & (table.method != "total")]
    if groups:
        cells = cells[cells.district != "all"]
    attrs = table.attrs
    assert (
        cells["devices"].sum() + attrs["devices_outside"] + attrs["devices_in_unreleased"]
        == attrs["devices_total"]
        == finds["device_count"].sum()
    )
    assert cells["finds"].sum() + attrs["finds_outside"] + attrs["finds_in_unreleased"] == len(
        finds
    )
    density = table["devices_per_ha"].dropna()
    assert (density >= 0).all()
    released = table["released_ha"] > 0
    assert table.loc[released, "devices_per_ha"].notna().all()
    assert (table.loc[~released, "devices"] == 0).all()
    assert (table["devices_per_ha_low"].dropna() <= density + 1e-12).all()
    assert (density <= table["devices_per_ha_high"].dropna() + 1e-12).all()
    assert (table["no_find_ha"] >= 0).all()
    assert (table["no_find_ha"] <= table["released_ha"]).all()


def expected_cell(point, hz, rl):
    """(district, level, method) of a point inside every box it touches, by the area rules:
    the highest level, the first hazard of it in row order, the strongest method."""
    holding = hz[hz.contains(point)]
    if holding.empty:
        return "outside"
    rank = holding["threat_level"].map(oracle.LEVELS.index)
    first = holding.loc[rank == rank.min()].iloc[0]
    methods = rl.loc[rl.contains(point), "method"]
    if methods.empty:
        return "unreleased"
    method = min(methods, key=oracle.METHODS.index)
    return (first["district"], first["threat_level"], method)


@SETTINGS
@given(scenes())
def test_finds_inside_pieces_go_where_the_area_rules_say(scene):
    hz, rl, finds = scene
    # keep the finds off every edge: odd multiples of half a grid cell
    inside = [
        at(
            GRID / 2 * (2 * round((p.x - X0) / GRID) + 1),
            GRID / 2 * (2 * round((p.y - Y0) / GRID) + 1),
        )
        for p in finds.geometry
    ]
    finds = finds.set_geometry(inside)
    table = quiet(evidence.device_density, hz, rl, finds, by="district")
    expected: dict = {}
    for point, count in zip(finds.geometry, finds["device_count"], strict=True):
        key = expected_cell(point, hz, rl)
        expected[key] = expected.get(key, 0) + count
    assert table.attrs["devices_outside"] == expected.pop("outside", 0)
    assert table.attrs["devices_in_unreleased"] == expected.pop("unreleased", 0)
    cells = table[
        (table.threat_level != "total") & (table.method != "total") & (table.district != "all")
    ]
    found = {
        (r.district, r.threat_level, r.method): r.devices for r in cells.itertuples() if r.devices
    }
    assert found == {k: v for k, v in expected.items() if v}


@SETTINGS
@given(
    st.lists(
        st.tuples(st.integers(0, 20), st.integers(0, 20), st.booleans()), min_size=1, max_size=8
    ),
    st.lists(st.tuples(st.integers(0, 40), st.integers(0, 40)), min_size=0, max_size=10),
    st.randoms(use_true_random=False),
)
def test_record_accuracy_does_not_depend_on_record_order(specs, spots, rnd):
    geoms = [
        cell(x * 25, y * 25, x * 25 + 60, y * 25 + 40) if square else at(x * 25, y * 25)
        for x, y, square in specs
    ]
    n = len(geoms)
    records = make_records(
        geoms,
        recorded=[k % 4 for k in range(n)],
        types=[DEVICE_TYPES[k % len(DEVICE_TYPES)] for k in range(n)],
    )
    finds = make_finds(
        [at(x * 12.5, y * 12.5) for x, y in spots],
        counts=[1 + k % 3 for k in range(len(spots))],
        types=[DEVICE_TYPES[k % 3] for k in range(len(spots))],
    )
    rl = releases_of([cell(0, 0, 250, 250)], ["cleared"])
    first = evidence.record_accuracy(records, finds, rl)
    order = list(range(n))
    rnd.shuffle(order)
    second = evidence.record_accuracy(records.iloc[order], finds, rl)
    pd.testing.assert_frame_equal(
        first.records.sort_values("record_id").reset_index(drop=True),
        second.records.sort_values("record_id").reset_index(drop=True),
    )
    pd.testing.assert_frame_equal(first.summary, second.summary)


@SETTINGS
@given(
    st.floats(-60, 60),
    st.floats(-179, 179),
    st.floats(0, 359),
    st.floats(1, 5_000),
)
def test_distances_are_geodesic(lat, lon, azimuth, metres):
    lon2, lat2, _ = GEOD.fwd(lon, lat, azimuth, metres)
    records = make_records([Point(lon, lat)], crs=4326)
    finds = make_finds([Point(lon2, lat2)], crs=4326)
    result = evidence.record_accuracy(records, finds, None, tolerance_m=metres * 0.999)
    assert result.records["nearest_find_m"].iloc[0] == pytest.approx(metres, rel=1e-9, abs=1e-6)
    assert result.records["status"].iloc[0] == "unverified"
    wider = evidence.record_accuracy(records, finds, None, tolerance_m=metres * 1.001)
    assert wider.records["status"].iloc[0] == "confirmed"


def test_the_bootstrap_finds_the_same_no_find_land_as_poisson(sample_data):
    import warnings

    import minemap

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the sample's release and finds outside hazards
        project = minemap.open_project(sample_data)
        poisson = minemap.device_density(project.hazards, project.releases, project.finds)
        boot = minemap.device_density(
            project.hazards, project.releases, project.finds, interval="bootstrap", draws=200
        )
    assert boot["no_find_ha"].to_numpy() == pytest.approx(poisson["no_find_ha"].to_numpy())
    assert (poisson["no_find_ha"] > 0).any()


# ------------------------------------------------------------------------------------------
# what consecutive calls share
# ------------------------------------------------------------------------------------------


Layers = tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]


def test_remaining_devices_after_densities_are_those_computed_alone(two_levels: Layers) -> None:
    hz, rl, finds = two_levels
    hz, rl = minemap.read_hazards(hz), minemap.read_releases(rl)
    density = evidence.device_density(hz, rl, finds)
    after = evidence.estimate_remaining_devices(hz, rl, finds)
    evidence._forget_shared()
    alone = evidence.estimate_remaining_devices(hz, rl, finds)
    pd.testing.assert_frame_equal(after, alone, check_exact=True)
    assert after.attrs == alone.attrs
    again = evidence.device_density(hz, rl, finds)
    pd.testing.assert_frame_equal(density, again, check_exact=True)


def test_layers_changed_in_place_are_counted_again(two_levels: Layers) -> None:
    # a result is kept for the next call on the same layers: never once one changed
    hz, rl, finds = two_levels
    hz, rl = minemap.read_hazards(hz), minemap.read_releases(rl)
    before = row(evidence.device_density(hz, rl, finds), "high", "cleared")
    finds.loc[0, "device_count"] = 40  # counted again: 40 devices, not 25
    assert row(evidence.device_density(hz, rl, finds), "high", "cleared")["devices"] == 40
    assert before["devices"] == 25
    rl.loc[0, "method"] = "reduced"  # the first release was a technical survey after all
    table = evidence.device_density(hz, rl, finds)
    assert row(table, "high", "cleared")["released_ha"] == 0
    assert row(table, "high", "reduced")["devices"] == 40
    hz.loc[0, "geometry"] = cell(0, 0, 100, 100)  # the high hazard shrank to what was cleared
    remaining = evidence.estimate_remaining_devices(hz, rl, finds, method="released")
    assert remaining.set_index("threat_level").loc["high", "remaining_ha"] == 0
