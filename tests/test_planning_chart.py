"""Tests of minemap.planning.chart: the burn-down chart."""

from __future__ import annotations

import datetime as dt

import matplotlib

matplotlib.use("Agg")

import geopandas as gpd
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection
from shapely import box

from minemap import progress_over_time
from minemap._errors import SchemaError
from minemap.planning import Asset, Capacity, Range, compare_plans, plan_clearance, plot_burndown

QUEUE = pd.DataFrame(
    {"hazard_id": ["A", "B"], "threat_level": ["high", "low"], "remaining_ha": [25.0, 10.0]}
)
MIX = {lvl: {"cleared": 1.0} for lvl in ("high", "medium", "low")}


FIXED = Range.fixed(100)


def cap(units: int, p: Range = FIXED) -> Capacity:
    prod = {(lvl, "cleared"): p for lvl in ("high", "medium", "low")}
    return Capacity(250, {"team": Asset("team", units, prod)}, release_mix=MIX)


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_one_line_per_scenario_from_total_to_zero():
    _, plans = compare_plans({"ten": cap(10), "twenty": cap(20)}, QUEUE, start="2027-01-01")
    fig = plot_burndown(plans)
    lines = {line.get_label(): line for line in fig.axes[0].get_lines()}
    assert set(lines) == {"ten", "twenty"}
    y = lines["ten"].get_ydata()
    assert y[0] == pytest.approx(35.0) and y[-1] == pytest.approx(0.0)
    end = mdates.num2date(lines["ten"].get_xdata(orig=False)[-1]).date()
    assert end == plans["ten"].summary["completion_date"]


def test_band_when_drawn_and_history_before_the_start():
    x0, y0 = 500_000.0, 4_430_000.0
    hz = gpd.GeoDataFrame(
        {"hazard_id": ["H"], "threat_level": ["high"]},
        geometry=[box(x0, y0, x0 + 1000, y0 + 1000)],
        crs=32638,
    )
    rl = gpd.GeoDataFrame(
        {"release_id": ["R"], "method": ["cleared"], "release_date": ["2025-06-01"]},
        geometry=[box(x0, y0, x0 + 200, y0 + 1000)],
        crs=32638,
    )
    plan = plan_clearance(
        hz, cap(10, Range(50, 100, 200)), start="2026-01-01", releases=rl, draws=40, seed=1
    )
    history = progress_over_time(hz, rl)
    fig = plot_burndown(plan, releases_history=history)
    ax = fig.axes[0]
    assert [line.get_label() for line in ax.get_lines()] == ["recorded", "plan"]
    recorded = ax.get_lines()[0]
    assert max(mdates.num2date(x).date() for x in recorded.get_xdata(orig=False)) < dt.date(
        2026, 1, 1
    )
    assert any(isinstance(c, PolyCollection) for c in ax.collections)


def test_draws_on_given_axes_and_refuses_other_things():
    fig, ax = plt.subplots()
    assert plot_burndown(plan_clearance(QUEUE, cap(10), start="2027-01-01"), ax=ax) is fig
    with pytest.raises(SchemaError, match="Plan"):
        plot_burndown([1, 2])  # type: ignore[list-item]
