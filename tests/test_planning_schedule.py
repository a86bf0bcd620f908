"""Tests of minemap.planning.schedule and scenarios: plans checked by hand to the day."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely import box

from minemap import land_release_summary
from minemap._errors import SchemaError
from minemap.planning import Asset, Capacity, Range, compare_plans, plan_clearance
from minemap.planning.schedule import MAX_YEARS

D = dt.date
ALL_CLEARED = {lvl: {"cleared": 1.0} for lvl in ("high", "medium", "low")}


def table(*rows: tuple[str, str, float], rank: bool = False) -> pd.DataFrame:
    out = pd.DataFrame(rows, columns=["hazard_id", "threat_level", "remaining_ha"])
    if rank:
        out.insert(0, "rank", range(1, len(out) + 1))
    return out


def clearing(p: float | Range, units: float = 10, **kw: object) -> Asset:
    r = p if isinstance(p, Range) else Range.fixed(p)
    prod = {(lvl, "cleared"): r for lvl in ("high", "medium", "low")}
    return Asset("team", units, prod, **kw)  # type: ignore[arg-type]


def one_type(
    p: float | Range = 100, units: float = 10, days: float = 250, **kw: object
) -> Capacity:
    return Capacity(days, {"team": clearing(p, units, **kw)}, release_mix=ALL_CLEARED)


def test_one_asset_type_by_hand():
    # P = 100 m²/day, N = 10, D = 250: 25 ha = 250,000 m² → 2,500 asset-days, 250 working
    # days = 1 year = 365.25 calendar days → 1 January 2028 (start + 365 days, rounded down)
    plan = plan_clearance(
        table(("H1", "high", 10.0), ("H2", "high", 15.0)), one_type(), start="2027-01-01"
    )
    s = plan.summary
    assert s["total_asset_days"] == pytest.approx(2_500)
    assert s["completion_date"] == D(2028, 1, 1)
    assert s["remaining_ha"] == 25.0
    sched = plan.schedule
    assert sched["asset_days_cleared"].tolist() == pytest.approx([1_000, 1_500])
    # H1: 100 working days x 1.461 = 146.1 calendar days → 27 May 2027
    assert sched["finish_date"].tolist() == [pd.Timestamp(2027, 5, 27), pd.Timestamp(2028, 1, 1)]
    assert sched["start_date"].iloc[1] == pd.Timestamp(2027, 5, 27)
    assert sched["cumulative_ha"].tolist() == [10.0, 25.0]
    assert s["completion_by_threat_level"] == {
        "high": D(2028, 1, 1),
        "medium": D(2027, 1, 1),
        "low": D(2027, 1, 1),
    }
    # years = R·10⁴/(P·N·D)
    years = 25 * 1e4 / (100 * 10 * 250)
    assert (s["completion_date"] - D(2027, 1, 1)).days == int(years * 365.25)


def test_several_asset_types_pool_by_method():
    # cleared by 10 manual teams (100 m²/d) and 2 machines (1,000 m²/d): 3,000 m²/d;
    # reduced by 1 survey team at 5,000 m²/d. 30 ha, half cleared and half reduced:
    # 150,000 / 3,000 = 50 days + 150,000 / 5,000 = 30 days = 80 working days; with
    # D = 365.25 a working day is a calendar day: 22 March 2027.
    cap = Capacity(
        365.25,
        {
            "manual": Asset("manual", 10, {("high", "cleared"): Range.fixed(100)}),
            "machine": Asset("machine", 2, {("high", "cleared"): Range.fixed(1000)}),
            "survey": Asset("survey", 1, {("high", "reduced"): Range.fixed(5000)}),
        },
        release_mix={"high": {"cleared": 0.5, "reduced": 0.5}},
    )
    plan = plan_clearance(table(("H1", "high", 30.0)), cap, start="2027-01-01")
    row = plan.schedule.iloc[0]
    assert (row["cleared_ha"], row["reduced_ha"], row["cancelled_ha"]) == (15.0, 15.0, 0.0)
    # 12 clearing units for 50 days; 1 survey unit for 30 days
    assert row["asset_days_cleared"] == pytest.approx(600)
    assert row["asset_days_reduced"] == pytest.approx(30)
    assert plan.summary["completion_date"] == D(2027, 3, 22)


def test_growth_and_dated_changes():
    # 10 units at 100 m²/d, +10 % a year, D = 365.25 (a working day is a calendar day).
    # 2027 (365 days): 365,000 m² = 36.5 ha. From 1 Jan 2028, 11 units: the other 13.5 ha
    # take 135,000 / 1,100 = 122.7 days → 365 + 122.7 = 487.7 days → 2 May 2028.
    plan = plan_clearance(
        table(("H1", "low", 50.0)), one_type(days=365.25, growth_per_year=0.1), start="2027-01-01"
    )
    assert plan.summary["completion_date"] == D(2028, 5, 2)
    per_year = plan.summary["hectares_per_year"].set_index("year")
    assert per_year.loc[2027, "released_ha"] == pytest.approx(36.5)
    assert per_year.loc[2028, "remaining_ha_at_year_end"] == 0.0
    # 10 units until 1 July 2027 (181 days: 18.1 ha), then 20: the other 31.9 ha take
    # 319,000 / 2,000 = 159.5 days → 340.5 days → 7 December 2027
    changed = one_type(days=365.25, changes=((D(2027, 7, 1), 20),))
    plan = plan_clearance(table(("H1", "low", 50.0)), changed, start="2027-01-01")
    assert plan.summary["completion_date"] == D(2027, 12, 7)


def test_zero_remaining_completes_at_the_start():
    plan = plan_clearance(table(("H1", "high", 0.0)), one_type(), start="2030-06-30")
    assert plan.schedule.empty
    assert plan.summary["completion_date"] == D(2030, 6, 30)
    assert plan.summary["total_asset_days"] == 0.0
    drawn = plan_clearance(table(), one_type(Range(50, 100, 200)), start="2030-06-30", draws=20)
    assert drawn.summary["p10"] == drawn.summary["p90"] == D(2030, 6, 30)


def test_a_level_no_asset_can_release_is_named():
    cap = Capacity(
        250,
        {"team": Asset("team", 5, {("low", "cleared"): Range.fixed(100)})},
        release_mix=ALL_CLEARED,
    )
    with pytest.raises(SchemaError, match="high-threat land by cleared"):
        plan_clearance(table(("H1", "high", 1.0), ("H2", "low", 1.0)), cap, start="2027-01-01")
    # the mix asks for survey no asset does
    with pytest.raises(SchemaError, match="low-threat land by cancelled"):
        plan_clearance(
            table(("H2", "low", 1.0)),
            cap,
            start="2027-01-01",
            release_mix={"low": {"cleared": 0.5, "cancelled": 0.5}},
        )


def test_capacity_that_runs_out_never_loops():
    gone = one_type(changes=((D(2028, 1, 1), 0),))
    with pytest.raises(SchemaError, match="never finishes"):
        plan_clearance(table(("H1", "high", 1e6)), gone, start="2027-01-01")
    shrinking = one_type(growth_per_year=-0.5)
    with pytest.raises(SchemaError, match=f"within {MAX_YEARS} years"):
        plan_clearance(table(("H1", "high", 1e6)), shrinking, start="2027-01-01")


def test_order_threat_then_id_and_ranking_order():
    rows = [("B", "low", 1.0), ("A", "low", 1.0), ("C", "high", 1.0), ("D", "medium", 1.0)]
    plan = plan_clearance(table(*rows), one_type(), start="2027-01-01")
    assert plan.schedule["hazard_id"].tolist() == ["C", "D", "A", "B"]
    ranked = plan_clearance(table(*rows, rank=True), one_type(), start="2027-01-01")
    assert ranked.schedule["hazard_id"].tolist() == ["B", "A", "C", "D"]
    assert ranked.schedule["rank"].tolist() == [1, 2, 3, 4]


def test_capacity_never_changes_the_order():
    rng = np.random.default_rng(3)
    n = 200
    data = pd.DataFrame(
        {
            "rank": rng.permutation(n) + 1,
            "hazard_id": [f"H{i}" for i in range(n)],
            "threat_level": rng.choice(["high", "medium", "low"], n),
            "remaining_ha": rng.uniform(0.1, 5, n),
        }
    )
    a = plan_clearance(data, one_type(units=1), start="2027-01-01")
    b = plan_clearance(data, one_type(units=50, growth_per_year=0.2), start="2027-01-01")
    assert a.schedule["hazard_id"].tolist() == b.schedule["hazard_id"].tolist()
    assert (b.schedule["finish_date"] <= a.schedule["finish_date"]).all()
    assert a.schedule["finish_date"].is_monotonic_increasing


def test_ranking_categories_from_rank_hazards():
    from shapely import LineString

    from minemap import rank_hazards

    hz = gpd.GeoDataFrame(
        {"hazard_id": ["H1", "H2", "H3"], "threat_level": ["low", "high", "low"]},
        geometry=[box(0, 0, 500, 500), box(0, 5000, 500, 5500), box(9000, 0, 9500, 500)],
        crs=32638,
    )
    road = gpd.GeoDataFrame(geometry=[LineString([(-100, 250), (600, 250)])], crs=32638)
    ranking = rank_hazards(hz, roads=road)
    plan = plan_clearance(ranking, one_type(), start="2027-01-01")
    assert plan.schedule["hazard_id"].tolist() == ranking["hazard_id"].tolist()
    assert dict(
        zip(plan.schedule["hazard_id"], plan.schedule["priority_category"], strict=True)
    ) == {
        "H1": "roads",
        "H2": "(none)",
        "H3": "(none)",
    }
    by_cat = plan.summary["completion_by_category"]
    assert by_cat["roads"] <= by_cat["(none)"] == plan.summary["completion_date"]


def test_hazard_layer_counts_overlaps_once_and_learns_history():
    x0, y0 = 500_000.0, 4_430_000.0
    hz = gpd.GeoDataFrame(
        {"hazard_id": ["M", "H"], "threat_level": ["medium", "high"]},
        geometry=[box(x0, y0, x0 + 1000, y0 + 1000), box(x0 + 500, y0, x0 + 1500, y0 + 1000)],
        crs=32638,
    )
    rl = gpd.GeoDataFrame(
        {"release_id": ["R"], "method": ["reduced"], "release_date": ["2025-03-01"]},
        geometry=[box(x0, y0, x0 + 250, y0 + 1000)],
        crs=32638,
    )
    cap = Capacity(
        250,
        {
            "t": Asset(
                "t",
                10,
                {
                    (lvl, m): Range.fixed(100)
                    for lvl in ("high", "medium", "low")
                    for m in ("cleared", "reduced", "cancelled")
                },
            )
        },
    )
    plan = plan_clearance(hz, cap, start="2026-01-01", releases=rl)
    summary = land_release_summary(hz, rl).set_index("threat_level")
    assert plan.summary["remaining_ha"] == pytest.approx(summary.loc["total", "remaining_ha"])
    sched = plan.schedule.set_index("hazard_id")
    assert sched.loc["H", "remaining_ha"] == pytest.approx(summary.loc["high", "remaining_ha"])
    assert sched.loc["M", "remaining_ha"] == pytest.approx(summary.loc["medium", "remaining_ha"])
    assert plan.schedule["hazard_id"].tolist() == ["H", "M"]
    mix = plan.assumptions["release_mix"].set_index("threat_level")
    assert mix.loc["medium", "basis"] == "history" and mix.loc["high", "basis"] == "all levels"
    assert sched.loc["M", "reduced_ha"] == pytest.approx(sched.loc["M", "remaining_ha"])
    # the rate: the only record is in 2025, as_of its date: no full year → over its span
    assert plan.summary["historic_rate_ha_per_year"] > 0
    assert plan.summary["completion_date_at_historic_rate"] > D(2026, 1, 1)
    assert plan.assumptions["capacity"]["working_days_per_year"] == 250


# ------------------------------------------------------------------------------------------
# Monte Carlo
# ------------------------------------------------------------------------------------------

RANGED = Capacity(
    220,
    {
        "manual": Asset(
            "manual",
            30,
            {(lvl, "cleared"): Range(40, 60, 100) for lvl in ("high", "medium", "low")},
        ),
        "machine": Asset(
            "machine",
            3,
            {(lvl, "cleared"): Range(500, 1000, 1500) for lvl in ("high", "medium", "low")},
            growth_per_year=0.1,
        ),
    },
    release_mix=ALL_CLEARED,
)
QUEUE = pd.DataFrame(
    {
        "hazard_id": [f"H{i:03d}" for i in range(300)],
        "threat_level": np.array(["high", "medium", "low"])[np.arange(300) % 3],
        "remaining_ha": np.linspace(0.5, 20, 300),
    }
)


def test_monte_carlo_is_seeded_and_ordered():
    a = plan_clearance(QUEUE, RANGED, start="2027-01-01", draws=300, seed=7)
    b = plan_clearance(QUEUE, RANGED, start="2027-01-01", draws=300, seed=7)
    s = a.summary
    assert (s["p10"], s["p50"], s["p90"]) == (b.summary["p10"], b.summary["p50"], b.summary["p90"])
    assert s["p10"] < s["p50"] < s["p90"]
    for level, p in s["percentiles_by_threat_level"].items():
        assert p["p10"] <= p["p50"] <= p["p90"] <= s["p90"], level
    assert a.band is not None
    band = a.band[["remaining_p10_ha", "remaining_p50_ha", "remaining_p90_ha"]].to_numpy()
    assert (np.diff(band, axis=1) >= -1e-9).all()


def test_zero_width_ranges_give_the_deterministic_date():
    fixed = Capacity(
        RANGED.working_days_per_year,
        {
            n: Asset(
                a.name,
                a.count,
                {k: Range.fixed(r.mode) for k, r in a.productivity_m2_per_day.items()},
                growth_per_year=a.growth_per_year,
            )
            for n, a in RANGED.assets.items()
        },
        release_mix=ALL_CLEARED,
    )
    plan = plan_clearance(QUEUE, fixed, start="2027-01-01", draws=50, seed=1)
    s = plan.summary
    assert s["p10"] == s["p50"] == s["p90"] == s["completion_date"]
    for level, p in s["percentiles_by_threat_level"].items():
        assert p["p10"] == p["p90"] == s["completion_by_threat_level"][level]


def test_deterministic_uses_the_mode():
    drawn = plan_clearance(QUEUE, RANGED, start="2027-01-01")
    assert "p50" not in drawn.summary
    plain = plan_clearance(QUEUE, RANGED, start="2027-01-01", draws=0, seed=3)
    assert drawn.summary["completion_date"] == plain.summary["completion_date"]


@settings(max_examples=25, deadline=None)
@given(
    units=st.integers(1, 40),
    extra=st.integers(1, 40),
    growth=st.sampled_from([0.0, 0.05, 0.3]),
)
def test_more_units_are_never_later(units, extra, growth):
    def cap(n: int) -> Capacity:
        return Capacity(
            220,
            {
                "m": Asset(
                    "m",
                    n,
                    {(lv, "cleared"): Range(40, 60, 100) for lv in ("high", "medium", "low")},
                    growth_per_year=growth,
                ),
                "d": Asset(
                    "d", 5, {(lv, "cleared"): Range(200, 300, 400) for lv in ("high", "low")}
                ),
            },
            release_mix=ALL_CLEARED,
        )

    small = QUEUE.assign(remaining_ha=QUEUE["remaining_ha"] / 20)
    few = plan_clearance(small, cap(units), start="2027-01-01", draws=30, seed=2)
    more = plan_clearance(small, cap(units + extra), start="2027-01-01", draws=30, seed=2)
    for key in ("completion_date", "p10", "p50", "p90"):
        assert more.summary[key] <= few.summary[key]
    assert (more.schedule["finish_date"] <= few.schedule["finish_date"]).all()


def test_compare_plans_shares_the_queue():
    scenarios = {"today": one_type(units=10), "double": one_type(units=20)}
    result, plans = compare_plans(scenarios, table(("H1", "high", 25.0)), start="2027-01-01")
    assert result["scenario"].tolist() == ["today", "double"]
    assert result["completion_date"].tolist() == [D(2028, 1, 1), D(2027, 7, 2)]
    assert result["years"].iloc[0] == pytest.approx(365 / 365.25)
    assert set(plans) == {"today", "double"} and plans["double"].name == "double"


def test_bad_inputs():
    with pytest.raises(SchemaError, match="ISO date"):
        plan_clearance(table(("H1", "high", 1.0)), one_type(), start="01/02/2027")
    with pytest.raises(SchemaError, match="threat levels"):
        plan_clearance(table(("H1", "severe", 1.0)), one_type(), start="2027-01-01")
    with pytest.raises(SchemaError, match="draws"):
        plan_clearance(table(("H1", "high", 1.0)), one_type(), start="2027-01-01", draws=-1)
    with pytest.raises(SchemaError, match="hazards"):
        plan_clearance([1, 2], one_type(), start="2027-01-01")  # type: ignore[arg-type]


def test_json_summary():
    plan = plan_clearance(
        table(("H1", "high", 25.0)),
        one_type(Range(50, 100, 150)),
        start="2027-01-01",
        draws=10,
        seed=1,
    )
    out = plan.summary_json()
    assert out["completion_date"] == "2028-01-01"
    assert isinstance(out["hectares_per_year"], list)
    assert out["p10"] <= out["p50"] <= out["p90"]


def test_the_completion_table_and_notebook_display():
    hazards = gpd.GeoDataFrame(
        {"hazard_id": ["H1", "H2"], "threat_level": ["high", "low"]},
        geometry=[box(x, 3_210_000, x + 500, 3_210_500) for x in (4_321_000, 4_322_000)],
        crs=3035,
    )
    per_day = {"high": 100, "medium": 100, "low": 100}
    capacity = Capacity.from_dict(
        {
            "working_days_per_year": 250,
            "assets": {"team": {"count": 10, "productivity_m2_per_day": per_day}},
        }
    )
    plan = plan_clearance(hazards, capacity, start="2027-01-01", name="<i>today</i>")
    table = plan.completion_table()
    assert table.threat_level.tolist() == ["high", "low", "medium", "all"]
    assert table.completion.iloc[-1] == plan.summary["completion_date"]
    page = plan._repr_html_()
    assert "&lt;i&gt;today&lt;/i&gt;" in page and "50.0 ha from 2027-01-01" in page
