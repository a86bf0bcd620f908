"""A commented capacity file to start from: ``minemap capacity-template`` prints it.

The defaults are illustrative, built from public figures of other programmes (each cited in
a comment next to the figure, with its arithmetic) or marked ASSUMPTION where no public
figure was at hand. A programme replaces them with its own.
"""

from __future__ import annotations

import math
from string import Template

__all__ = [
    "DEMINER_M2_PER_DAY",
    "DEMINERS_PER_TEAM",
    "DOG_PAIR_M2_PER_DAY",
    "MACHINE_M2_PER_YEAR",
    "MACHINES",
    "capacity_template",
]

#: HALO Trust: a manual deminer clears 10 to 50 m² a day, depending on terrain.
DEMINER_M2_PER_DAY = (10, 30, 50)

#: ASSUMPTION of the template: deminers at work in one manual team.
DEMINERS_PER_TEAM = 8

#: SFOR (Bosnia and Herzegovina, 2001): a dog pair searches about 800 to 900 m² a day.
DOG_PAIR_M2_PER_DAY = (800, 850, 900)

#: ANAMA (Azerbaijan, 2012): 6 machines released 1,641,165 m² in the year.
MACHINE_M2_PER_YEAR = 1_641_165
MACHINES = 6

_TEMPLATE = Template(
    """\
# minemap capacity file: TEMPLATE
#
# ILLUSTRATIVE DEFAULTS. The counts and productivities below are examples built from
# public figures of other programmes (the source is cited next to each figure) or, where
# marked ASSUMPTION, rough placeholders. REPLACE THEM WITH YOUR PROGRAMME'S OWN FIGURES
# (accreditation records, monthly reports, past output) before a plan informs decisions.
#
# Format (every key: docs/capacity.md):
# * productivity_m2_per_day: m² one unit (team, machine, dog team) releases per working
#   day, per threat level (high, medium, low). A value is
#     - a number: the same for every release method;
#     - a range { low = ..., mode = ..., high = ... }: the Monte Carlo forecast draws from
#       it (mode defaults to the midpoint of low and high; low and high default to mode);
#     - a table per method: cleared (clearance), reduced (technical survey), cancelled
#       (non-technical survey), each a number or a range.
#   A method left out means the asset does not do that work on that land.
# * count: units at the plan's start; growth_per_year: yearly fraction (0.05 = +5 %);
#   [[assets.NAME.changes]]: from a date on, the count is a new number.
# * Read it with: minemap.planning.Capacity.from_toml("capacity.toml")

working_days_per_year = $working_days   # ASSUMPTION: 5-day weeks less holidays and weather

# --- Manual demining teams -----------------------------------------------------------------
# A deminer clears 10-50 m² a day depending on terrain (HALO Trust).
# ASSUMPTION: $deminers deminers at work per team, so a team clears
#   low $deminers × 10 = $manual_low, mode $deminers × 30 = $manual_mode,
#   high $deminers × 50 = $manual_high m² a day.
[assets.manual_team]
kind = "manual"
count = 10              # teams
growth_per_year = 0.0   # e.g. 0.05 for +5 % a year, compounding on each anniversary

# From 1 January 2027 on, 12 teams (growth then counts from that date):
# [[assets.manual_team.changes]]
# date = 2027-01-01
# count = 12

[assets.manual_team.productivity_m2_per_day.high]
cleared = { low = $manual_low, mode = $manual_mode, high = $manual_high }
# confirmed (high-threat) areas are also reduced by technical survey at their edges
reduced = { low = $manual_ts_low, mode = $manual_ts_mode, high = $manual_ts_high }

[assets.manual_team.productivity_m2_per_day.medium]
cleared = { low = $manual_low, mode = $manual_mode, high = $manual_high }
# ASSUMPTION: technical survey (reduced) covers 5 × the clearance area a day.
reduced = { low = $manual_ts_low, mode = $manual_ts_mode, high = $manual_ts_high }

[assets.manual_team.productivity_m2_per_day.low]
cleared = { low = $manual_low, mode = $manual_mode, high = $manual_high }
reduced = { low = $manual_ts_low, mode = $manual_ts_mode, high = $manual_ts_high }   # as for medium

# --- Demining machines ---------------------------------------------------------------------
# ANAMA (Azerbaijan, 2012): 6 machines released 1,641,165 m² in the year:
#   1,641,165 / 6 = $machine_year m² a machine-year
#   $machine_year / $working_days working days = $machine_mode m² a machine-day.
# ASSUMPTION: the range runs from half to one and a half times that average.
[assets.machine]
kind = "machine"
count = 2               # machines
growth_per_year = 0.0

[assets.machine.productivity_m2_per_day.high]
cleared = { low = $machine_low, mode = $machine_mode, high = $machine_high }
reduced = { low = $machine_low, mode = $machine_mode, high = $machine_high }

[assets.machine.productivity_m2_per_day.medium]
cleared = { low = $machine_low, mode = $machine_mode, high = $machine_high }
# ASSUMPTION: a machine's technical survey is as fast as its clearance.
reduced = { low = $machine_low, mode = $machine_mode, high = $machine_high }

[assets.machine.productivity_m2_per_day.low]
cleared = { low = $machine_low, mode = $machine_mode, high = $machine_high }
reduced = { low = $machine_low, mode = $machine_mode, high = $machine_high }   # as for medium

# --- Mine-detection dog teams --------------------------------------------------------------
# A dog pair searches about 800-900 m² a day (SFOR, Bosnia and Herzegovina, 2001).
# dogs_per_team: 2 for clearance, 1 for survey. The count is TEAMS of two dogs
# (150 dogs make 75 teams); in technical survey a team's two dogs can work apart.
# ASSUMPTION: so a team covers 2 × 800-900 = $dog_ts_low-$dog_ts_high m² a day in technical
# survey (reduced).
[assets.dog_team]
kind = "dog"
count = 4               # teams of two dogs
growth_per_year = 0.0

[assets.dog_team.productivity_m2_per_day.high]
cleared = { low = $dog_low, mode = $dog_mode, high = $dog_high }
reduced = { low = $dog_ts_low, mode = $dog_ts_mode, high = $dog_ts_high }

[assets.dog_team.productivity_m2_per_day.medium]
cleared = { low = $dog_low, mode = $dog_mode, high = $dog_high }
reduced = { low = $dog_ts_low, mode = $dog_ts_mode, high = $dog_ts_high }

[assets.dog_team.productivity_m2_per_day.low]
cleared = { low = $dog_low, mode = $dog_mode, high = $dog_high }
reduced = { low = $dog_ts_low, mode = $dog_ts_mode, high = $dog_ts_high }

# --- Non-technical survey teams ------------------------------------------------------------
# They cancel suspected land that no evidence points to; on confirmed (high-threat) land only
# where re-survey shows a record was wrong, more slowly. ASSUMPTION, no public average at
# hand: 5,000-50,000 m² a team-day, 1,000-10,000 on high-threat land.
[assets.survey_team]
kind = "survey"
count = 2               # teams
growth_per_year = 0.0

[assets.survey_team.productivity_m2_per_day.high]
cancelled = { low = 1000, mode = 4000, high = 10000 }

[assets.survey_team.productivity_m2_per_day.medium]
cancelled = { low = 5000, mode = 20000, high = 50000 }

[assets.survey_team.productivity_m2_per_day.low]
cancelled = { low = 5000, mode = 20000, high = 50000 }

# --- Release mix (optional) ----------------------------------------------------------------
# By default the plan learns from your release history which share of each threat level's
# land ends cleared, reduced or cancelled. To set it instead (shares of a level sum to 1):
# [release_mix.medium]
# cleared = 0.2
# reduced = 0.3
# cancelled = 0.5
"""
)


def capacity_template(*, working_days_per_year: float = 220) -> str:
    """A commented capacity TOML file with illustrative, cited defaults.

    Parameters
    ----------
    working_days_per_year : float, default 220
        Written into the file, and used to turn the yearly machine figure into a daily one.

    Returns
    -------
    str
        TOML text that :meth:`minemap.planning.Capacity.from_toml` reads.

    Examples
    --------
    >>> from minemap.planning import Capacity
    >>> text = capacity_template()
    >>> "ILLUSTRATIVE DEFAULTS" in text
    True
    >>> cap = Capacity.from_dict(__import__("tomllib").loads(text))
    >>> sorted(cap.assets)
    ['dog_team', 'machine', 'manual_team', 'survey_team']
    >>> round(cap.assets["machine"].productivity("high", "cleared").mode, 2)
    1243.31
    """
    days = float(working_days_per_year)
    if not (math.isfinite(days) and 0 < days <= 366):
        raise ValueError(f"working_days_per_year={working_days_per_year}: give 0 < days <= 366.")
    machine_year = MACHINE_M2_PER_YEAR / MACHINES
    machine_day = machine_year / days
    manual = [DEMINERS_PER_TEAM * x for x in DEMINER_M2_PER_DAY]
    return _TEMPLATE.substitute(
        working_days=_number(days),
        deminers=DEMINERS_PER_TEAM,
        manual_low=manual[0],
        manual_mode=manual[1],
        manual_high=manual[2],
        manual_ts_low=5 * manual[0],
        manual_ts_mode=5 * manual[1],
        manual_ts_high=5 * manual[2],
        machine_year=f"{machine_year:,.1f}",
        machine_low=f"{0.5 * machine_day:.2f}",
        machine_mode=f"{machine_day:.2f}",
        machine_high=f"{1.5 * machine_day:.2f}",
        dog_low=DOG_PAIR_M2_PER_DAY[0],
        dog_mode=DOG_PAIR_M2_PER_DAY[1],
        dog_high=DOG_PAIR_M2_PER_DAY[2],
        dog_ts_low=2 * DOG_PAIR_M2_PER_DAY[0],
        dog_ts_mode=2 * DOG_PAIR_M2_PER_DAY[1],
        dog_ts_high=2 * DOG_PAIR_M2_PER_DAY[2],
    )


def _number(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)
