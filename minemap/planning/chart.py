"""The burn-down chart: remaining hectares through time, one line per plan."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from minemap._errors import SchemaError
from minemap._extras import require
from minemap.planning.schedule import Plan
from minemap.settings import REMAINING_HA

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_burndown"]


def _plans(plans_or_plan: Plan | Mapping[str, Plan] | Sequence[Plan]) -> list[Plan]:
    if isinstance(plans_or_plan, Plan):
        return [plans_or_plan]
    if isinstance(plans_or_plan, Mapping):
        out = []
        for name, plan in plans_or_plan.items():
            plan.name = str(name)
            out.append(plan)
        return out
    out = list(plans_or_plan)
    if not out or not all(isinstance(p, Plan) for p in out):
        raise SchemaError("plot_burndown needs a Plan, a list of plans or {name: Plan}.")
    return out


def _dates(start: dt.date, working_days: np.ndarray, per_day: float) -> np.ndarray:
    seconds = np.round(np.asarray(working_days, dtype=float) * per_day * 86400.0)
    return np.datetime64(start, "s") + seconds.astype(np.int64).astype("timedelta64[s]")


def plot_burndown(
    plans_or_plan: Plan | Mapping[str, Plan] | Sequence[Plan],
    *,
    releases_history: pd.DataFrame | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Chart remaining hectares over time: history, then one line per plan.

    Parameters
    ----------
    plans_or_plan : Plan, list of Plan or dict of str to Plan
        Plans from :func:`minemap.planning.plan_clearance` or
        :func:`minemap.planning.compare_plans` (a dict names the lines).
    releases_history : pandas.DataFrame, optional
        :func:`minemap.progress_over_time` of the release records: its ``remaining_ha``
        at each ``period_end`` is drawn before the plans start.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on (default: a new figure).

    Returns
    -------
    matplotlib.figure.Figure
        With the P10–P90 band of remaining hectares shaded for plans made with draws.

    Examples
    --------
    >>> import pandas as pd
    >>> from minemap.planning import Asset, Capacity, Range, plan_clearance
    >>> team = Asset("team", 10, {("high", "cleared"): Range(50, 100, 150)})
    >>> cap = Capacity(250, {"team": team}, release_mix={"high": {"cleared": 1}})
    >>> table = pd.DataFrame({"hazard_id": ["H1", "H2"], "threat_level": ["high"] * 2,
    ...                       "remaining_ha": [25.0, 10.0]})
    >>> plan = plan_clearance(table, cap, start="2027-01-01", draws=50, seed=1)
    >>> fig = plot_burndown(plan)
    >>> [line.get_label() for line in fig.axes[0].get_lines()]
    ['plan']
    """
    require("matplotlib", extra="maps", purpose="the burn-down chart")
    from minemap._figures import new_figure

    plans = _plans(plans_or_plan)
    if ax is None:
        ax = new_figure(figsize=(9, 5), layout="constrained").add_subplot()
    figure: Any = ax.figure
    if releases_history is not None and len(releases_history):
        ax.plot(
            pd.to_datetime(releases_history["period_end"]).to_numpy(),
            releases_history[REMAINING_HA].to_numpy(),
            color="0.3",
            linestyle="--",
            label="recorded",
        )
    for plan in plans:
        start = plan.summary["start"]
        per_day = plan.calendar_days_per_working_day
        curve = plan.curve
        if len(curve):
            x = _dates(start, curve["working_days"].to_numpy(), per_day)
            y = curve[REMAINING_HA].to_numpy()
        else:
            x, y = _dates(start, np.zeros(1), per_day), np.zeros(1)
        (line,) = ax.plot(x, y, label=plan.name, linewidth=2)
        if plan.band is not None and len(plan.band):
            bx = _dates(start, plan.band["working_days"].to_numpy(), per_day)
            ax.fill_between(
                bx,
                plan.band["remaining_p10_ha"].to_numpy(),
                plan.band["remaining_p90_ha"].to_numpy(),
                color=line.get_color(),
                alpha=0.2,
                linewidth=0,
                label=f"{plan.name}: P10–P90",
            )
    ax.set_ylabel("remaining hazard area (ha)")
    ax.set_ylim(bottom=0)
    ax.set_title("Remaining hazard area: recorded and planned")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper right", frameon=False)
    return figure
