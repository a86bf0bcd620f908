"""Scenarios: the same queue planned with several capacities, side by side."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import pandas as pd

from minemap import _progress
from minemap._errors import SchemaError
from minemap.planning.capacity import Capacity
from minemap.planning.schedule import _PREPARE_STAGES, Plan, _plan, _prepare
from minemap.settings import THREAT_LEVELS

__all__ = ["compare_plans"]


def compare_plans(
    scenarios: Mapping[str, Capacity],
    hazards_or_ranking: gpd.GeoDataFrame | pd.DataFrame,
    *,
    start: object,
    releases: gpd.GeoDataFrame | None = None,
    as_of: object | None = None,
    release_mix: Mapping[str, Mapping[str, float]] | None = None,
    draws: int = 0,
    seed: int | None = None,
    window_years: int = 2,
) -> tuple[pd.DataFrame, dict[str, Plan]]:
    """Plan the same hazards with each capacity, and tabulate the completion dates.

    The queue, the release history and the historic rate are computed once; every
    scenario uses the same order (capacity never changes it) and, with draws, the same seed.

    Parameters
    ----------
    scenarios : mapping of str to Capacity
        Capacity per scenario name, e.g. ``{"today": cap, "+20 teams": more}``.
    hazards_or_ranking, start, releases, as_of, release_mix, draws, seed, window_years
        As for :func:`minemap.planning.plan_clearance`.

    Returns
    -------
    (pandas.DataFrame, dict of str to Plan)
        One row per scenario: ``scenario``, ``completion_date``, ``years`` (from the start),
        ``completion_<level>`` per threat level, ``total_asset_days``, ``remaining_ha``,
        ``p10``/``p50``/``p90`` with draws, ``completion_date_at_historic_rate`` with
        releases; and the plans by name.

    Examples
    --------
    >>> import pandas as pd
    >>> from minemap.planning import Asset, Capacity, Range
    >>> def cap(units):
    ...     team = Asset("team", units, {("high", "cleared"): Range.fixed(100)})
    ...     return Capacity(250, {"team": team}, release_mix={"high": {"cleared": 1}})
    >>> table = pd.DataFrame({"hazard_id": ["H1"], "threat_level": ["high"],
    ...                       "remaining_ha": [25.0]})
    >>> result, plans = compare_plans({"10 teams": cap(10), "20 teams": cap(20)}, table,
    ...                               start="2027-01-01")
    >>> result[["scenario", "completion_date"]].astype(str).values.tolist()
    [['10 teams', '2028-01-01'], ['20 teams', '2027-07-02']]
    """
    if not scenarios:
        raise SchemaError("compare_plans needs at least one scenario (name -> Capacity).")
    stages = _PREPARE_STAGES + len(scenarios)
    with _progress.task("Plan", stages, unit="stage") as bar:
        prepared = _prepare(
            hazards_or_ranking, releases, as_of=as_of, window_years=window_years, bar=bar
        )
        plans: dict[str, Plan] = {}
        rows: list[dict[str, Any]] = []
        for name, capacity in scenarios.items():
            bar.set_description(f"Plan (scenario {name})")
            plan = _plan(
                prepared,
                capacity,
                start=start,
                release_mix=release_mix,
                draws=draws,
                seed=seed,
                name=str(name),
            )
            plans[str(name)] = plan
            s = plan.summary
            row: dict[str, Any] = {
                "scenario": str(name),
                "completion_date": s["completion_date"],
                "years": (s["completion_date"] - s["start"]).days / 365.25,
            }
            for level in THREAT_LEVELS:
                row[f"completion_{level}"] = s["completion_by_threat_level"][level]
            row["total_asset_days"] = s["total_asset_days"]
            row["remaining_ha"] = s["remaining_ha"]
            for p in ("p10", "p50", "p90"):
                if p in s:
                    row[p] = s[p]
            if "completion_date_at_historic_rate" in s:
                row["completion_date_at_historic_rate"] = s["completion_date_at_historic_rate"]
            rows.append(row)
            bar.update()
    return pd.DataFrame(rows), plans
