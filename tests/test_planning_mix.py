"""Tests of minemap.planning.mix and minemap.planning.history: the release mix per threat
level and the historic release rate, on squares whose true areas the oracle measures."""

from __future__ import annotations

import datetime as dt
import math

import geopandas as gpd
import pytest
from _oracle import REL, area_ha
from shapely import box

from minemap import land_release_summary
from minemap._errors import DataWarning, SchemaError
from minemap.planning import historic_rate, release_mix
from minemap.planning.history import rate_per_year, years_to_finish

UTM = 32638  # UTM 38N (Azerbaijan)
X0, Y0 = 500_000.0, 4_430_000.0
LAEA = 3035  # ETRS89 LAEA Europe: planar area is true area (Croatia)
CX, CY = 4_800_000.0, 2_500_000.0


def sq(x: float, y: float, w: float, h: float | None = None) -> object:
    return box(X0 + x, Y0 + y, X0 + x + w, Y0 + y + (w if h is None else h))


@pytest.fixture(scope="module")
def scene() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    hazards = gpd.GeoDataFrame(
        {"hazard_id": ["H1", "H2", "H3"], "threat_level": ["high", "medium", "low"]},
        geometry=[sq(0, 0, 1000), sq(0, 2000, 1000), sq(0, 4000, 1000)],
        crs=UTM,
    )
    releases = gpd.GeoDataFrame(
        {
            "release_id": ["R1", "R2", "R3", "R4", "R5"],
            "method": ["cleared", "reduced", "cancelled", "cleared", "reduced"],
            "release_date": ["2020-03-01", "2020-06-01", "2021-02-01", "2021-05-01", "2022-05-01"],
        },
        geometry=[
            sq(0, 0, 250, 1000),  # H1: a quarter cleared
            sq(250, 0, 500, 1000),  # H1: a half reduced
            sq(750, 0, 250, 1000),  # H1: a quarter cancelled
            sq(0, 2000, 1000),  # H2: all cleared
            sq(0, 2000, 500, 1000),  # H2 again, reduced: counts once, as cleared
        ],
        crs=UTM,
    )
    return hazards, releases


def test_shares_per_level_follow_the_summary(scene):
    hazards, releases = scene
    mix = release_mix(hazards, releases).set_index("threat_level")
    summary = land_release_summary(hazards, releases).set_index("threat_level")
    for level in ("high", "medium"):
        for method in ("cleared", "reduced", "cancelled"):
            assert mix.loc[level, f"{method}_ha"] == pytest.approx(
                summary.loc[level, f"{method}_ha"], rel=1e-12
            )
    # the oracle: true areas of the strips
    assert mix.loc["high", "cleared_ha"] == pytest.approx(
        area_ha(sq(0, 0, 250, 1000), UTM), rel=REL
    )
    assert mix.loc["medium", "cleared_ha"] == pytest.approx(
        area_ha(sq(0, 2000, 1000), UTM), rel=REL
    )
    high = mix.loc["high", ["cleared_share", "reduced_share", "cancelled_share"]].astype(float)
    assert high.tolist() == pytest.approx([0.25, 0.5, 0.25], abs=1e-6)
    assert mix.loc["medium", "cleared_share"] == pytest.approx(1.0)
    assert mix.loc["medium", "reduced_share"] == pytest.approx(0.0, abs=1e-9)
    assert mix.loc["high", "basis"] == mix.loc["medium", "basis"] == "history"


def test_level_without_history_takes_the_all_levels_mix(scene):
    hazards, releases = scene
    mix = release_mix(hazards, releases).set_index("threat_level")
    assert mix.loc["low", "basis"] == "all levels"
    assert mix.loc["low", "released_ha"] == 0.0
    # all levels: 25 + 100 ha cleared, 50 reduced, 25 cancelled of 200
    shares = mix.loc["low", ["cleared_share", "reduced_share", "cancelled_share"]].astype(float)
    assert shares.tolist() == pytest.approx([125 / 200, 50 / 200, 25 / 200], abs=1e-6)
    assert mix.loc["total", ["cleared_share"]].iloc[0] == pytest.approx(125 / 200, abs=1e-6)


def test_override_and_as_of(scene):
    hazards, releases = scene
    mix = release_mix(
        hazards, releases, override={"low": {"cancelled": 0.6, "reduced": 0.4}}
    ).set_index("threat_level")
    assert mix.loc["low", "basis"] == "override"
    assert mix.loc["low", "cancelled_share"] == 0.6 and mix.loc["low", "cleared_share"] == 0.0
    # before R3 (cancelled) the high-threat history is a third cleared, two thirds reduced
    early = release_mix(hazards, releases, as_of="2020-12-31").set_index("threat_level")
    assert early.loc["high", "cleared_share"] == pytest.approx(1 / 3, abs=1e-6)
    assert early.loc["medium", "basis"] == "all levels"


def test_no_history_assumes_clearance(scene):
    hazards, _ = scene
    mix = release_mix(hazards, None)
    assert set(mix["basis"]) == {"no history"}
    assert mix["cleared_share"].tolist() == [1.0, 1.0, 1.0, 1.0]


@pytest.mark.parametrize(
    "override",
    [
        {"severe": {"cleared": 1}},
        {"high": {"demined": 1}},
        {"high": {"cleared": 0.5, "reduced": 0.4}},
        {"high": {"cleared": -0.5, "reduced": 1.5}},
    ],
)
def test_bad_override_is_refused(scene, override):
    hazards, releases = scene
    with pytest.raises(SchemaError, match="release_mix"):
        release_mix(hazards, releases, override=override)


def test_release_outside_hazards_is_not_in_the_mix(scene):
    hazards, releases = scene
    outside = gpd.GeoDataFrame(
        {"release_id": ["X"], "method": ["cancelled"], "release_date": ["2021-01-01"]},
        geometry=[sq(5000, 0, 1000)],
        crs=UTM,
    )
    both = gpd.GeoDataFrame(gpd.pd.concat([releases, outside], ignore_index=True), crs=UTM)
    with pytest.warns(DataWarning, match="outside"):
        mix = release_mix(hazards, both).set_index("threat_level")
    assert mix.loc["total", "cancelled_ha"] == pytest.approx(
        area_ha(sq(750, 0, 250, 1000), UTM), rel=REL
    )


# ------------------------------------------------------------------------------------------
# the historic rate
# ------------------------------------------------------------------------------------------


def test_croatia_arithmetic():
    # 411 km² remaining at the end of 2017; 49.01 km² cleared in 2018, 39.16 km² in 2019
    rate = rate_per_year({2018: 49.01, 2019: 39.16})
    assert rate == pytest.approx(44.085)
    years = years_to_finish(411 - 49.01 - 39.16, rate)
    assert years == pytest.approx(322.83 / 44.085) and years == pytest.approx(7.323, abs=1e-3)


def test_azerbaijan_arithmetic():
    # 74,644.8 ha released by clearance in about 2.5 years (Nov 2020 .. mid-2023), against
    # 147,988 + 675,570 = 823,558 ha of confirmed and suspected hazardous area
    rate = 74_644.8 / 2.5
    assert rate == pytest.approx(29_857.92)
    assert years_to_finish(823_558, rate) == pytest.approx(27.58, abs=0.01)
    assert years_to_finish(0, rate) == 0.0 and math.isinf(years_to_finish(1, 0))


def rect(x_km: float, w_km: float) -> object:
    """A 10 km high rectangle in LAEA Europe, ``w_km`` wide: ``10 w`` km² of true area."""
    return box(CX + x_km * 1e3, CY, CX + (x_km + w_km) * 1e3, CY + 10e3)


def test_croatia_like_rate_from_geometry():
    # 411 km² of hazard left at the end of 2017 (one record in 2016 released 9 km² of 420)
    hazards = gpd.GeoDataFrame(
        {"hazard_id": ["HR"], "threat_level": ["high"]}, geometry=[rect(0, 42.0)], crs=LAEA
    )
    releases = gpd.GeoDataFrame(
        {
            "release_id": ["a", "b", "c", "d"],
            "method": ["cleared"] * 4,
            "release_date": ["2016-05-01", "2018-04-01", "2018-10-01", "2019-07-01"],
        },
        geometry=[rect(0, 0.9), rect(0.9, 3.0), rect(3.9, 1.901), rect(5.801, 3.916)],
        crs=LAEA,
    )
    assert area_ha(rect(0, 42.0), LAEA) == pytest.approx(42_000, rel=REL)  # planar = true
    rate = historic_rate(releases, hazards, as_of="2019-12-31")
    assert rate.years == (2018, 2019)
    assert rate.released_ha_by_year[2018] == pytest.approx(4_901, rel=REL)
    assert rate.released_ha_by_year[2019] == pytest.approx(3_916, rel=REL)
    assert rate.rate_ha_per_year == pytest.approx(4_408.5, rel=REL)
    assert rate.remaining_ha == pytest.approx(41_100 - 4_901 - 3_916, rel=REL)
    assert rate.years_to_finish == pytest.approx((411 - 49.01 - 39.16) / 44.085, rel=2 * REL)
    assert rate.completion_date() == dt.date(2019, 12, 31) + dt.timedelta(
        days=math.floor(rate.years_to_finish * 365.25)
    )
    # the default as_of is the last record, 1 July 2019: the last full year is 2018
    assert historic_rate(releases, hazards).years == (2017, 2018)
    assert historic_rate(releases, hazards, window_years=1, as_of=2019).years == (2019,)


def test_azerbaijan_like_span_without_a_full_year():
    hazards = gpd.GeoDataFrame(
        {"hazard_id": ["AZ"], "threat_level": ["high"]}, geometry=[sq(0, 0, 10_000)], crs=UTM
    )
    releases = gpd.GeoDataFrame(
        {"release_id": ["a"], "method": ["cleared"], "release_date": ["2020-11-10"]},
        geometry=[sq(0, 0, 1000)],
        crs=UTM,
    )
    rate = historic_rate(releases, hazards, as_of="2021-05-10")
    assert rate.basis == "span of records" and rate.years == ()
    span = (dt.date(2021, 5, 10) - dt.date(2020, 11, 10)).days / 365.25
    assert rate.rate_ha_per_year == pytest.approx(area_ha(sq(0, 0, 1000), UTM) / span, rel=REL)


def test_historic_rate_needs_records(scene):
    hazards, releases = scene
    with pytest.raises(SchemaError, match="window_years"):
        historic_rate(releases, hazards, window_years=0)
    with pytest.raises(SchemaError, match="release records"):
        historic_rate(releases.iloc[:0], hazards)
