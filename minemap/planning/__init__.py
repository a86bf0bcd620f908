"""Clearance planning: capacity, the release mix, the schedule and its completion forecast.

* :mod:`minemap.planning.capacity`: :class:`Capacity`, :class:`Asset`, :class:`Range`: the
  assets a programme has and their productivity, from TOML or Python
  (:meth:`Capacity.from_toml`, :meth:`Capacity.from_dict`; the checks live in
  :mod:`minemap.planning.capacity_file`).
* :mod:`minemap.planning.template`: :func:`capacity_template`, a commented capacity file
  with cited illustrative defaults (``minemap capacity-template``).
* :mod:`minemap.planning.mix`: :func:`release_mix`, the share of released land per method
  and threat level.
* :mod:`minemap.planning.history`: :func:`historic_rate`, hectares released per year in
  recent full calendar years.
* :mod:`minemap.planning.schedule`: :func:`plan_clearance` and its :class:`Plan`.
* :mod:`minemap.planning.scenarios`: :func:`compare_plans`.
* :mod:`minemap.planning.chart`: :func:`plot_burndown` (needs the ``maps`` extra).
"""

from __future__ import annotations

from minemap.planning.capacity import Asset, Capacity, Range
from minemap.planning.history import HistoricRate, historic_rate
from minemap.planning.mix import release_mix
from minemap.planning.scenarios import compare_plans
from minemap.planning.schedule import Plan, plan_clearance
from minemap.planning.template import capacity_template


def __getattr__(name: str) -> object:
    if name == "plot_burndown":  # matplotlib is imported on first use
        from minemap.planning.chart import plot_burndown

        return plot_burndown
    raise AttributeError(f"module 'minemap.planning' has no attribute {name!r}")


__all__ = [
    "Asset",
    "Capacity",
    "HistoricRate",
    "Plan",
    "Range",
    "capacity_template",
    "compare_plans",
    "historic_rate",
    "plan_clearance",
    "plot_burndown",
    "release_mix",
]
