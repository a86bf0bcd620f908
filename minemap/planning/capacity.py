"""Clearance capacity: the assets a programme has and what each does in a working day.

A :class:`Capacity` holds the working days per year and one :class:`Asset` per asset type
(manual teams, machines, mine-detection-dog teams, survey teams, ...). Each asset has a count
(growing yearly, or changed on given dates) and a productivity in m² per working day per
threat level *and* per release method (clearance of high-threat land is slower than technical
survey of low-threat land). Any productivity may be a :class:`Range` (low, mode, high) for the
Monte Carlo forecast; a plain number is a range of zero width.

This module defines the model. Reading it from TOML (:meth:`Capacity.from_toml`,
:meth:`Capacity.from_dict`) validates every key and value with one-line errors that name the
file, the key and the fix.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from minemap._errors import SchemaError
from minemap.settings import THREAT_LEVELS

__all__ = ["Asset", "Capacity", "Range"]


@dataclass(frozen=True)
class Range:
    """A quantity known as a range: ``low <= mode <= high`` (a triangular distribution).

    A fixed number is ``Range(x, x, x)`` (see :meth:`fixed`).

    Examples
    --------
    >>> Range(10, 30, 50).mean
    30.0
    >>> Range.fixed(80).is_fixed
    True
    """

    low: float
    mode: float
    high: float

    @classmethod
    def fixed(cls, value: float) -> Range:
        """A range of zero width."""
        return cls(float(value), float(value), float(value))

    @property
    def is_fixed(self) -> bool:
        """Whether low, mode and high are equal."""
        return self.low == self.mode == self.high

    @property
    def mean(self) -> float:
        """The mean of the triangular distribution, ``(low + mode + high) / 3``."""
        return (self.low + self.mode + self.high) / 3.0

    @property
    def deterministic(self) -> float:
        """The value a plan without draws uses: the mode."""
        return self.mode


@dataclass(frozen=True)
class Asset:
    """One asset type.

    Parameters
    ----------
    name : str
        Its key in the capacity file, e.g. ``"manual_team"``.
    count : float
        Units at the plan's start (teams, machines, dog teams).
    productivity_m2_per_day : mapping
        ``{(threat_level, method): Range}``: m² one unit releases per working day by that
        method on land of that threat level. A missing pair means the asset does not do that
        work (e.g. a machine does not cancel land by non-technical survey).
    kind : str, default "manual"
        ``"manual"``, ``"machine"``, ``"dog"``, ``"survey"`` or another word; for reports.
    growth_per_year : float, default 0
        Yearly growth of the count as a fraction (0.1: +10 % a year, compounding on each
        anniversary of the start).
    changes : tuple of (datetime.date, float), default ()
        Dated counts: from that date on, the count is the given number (growth then applies
        from that date's anniversaries).

    Examples
    --------
    A productivity is a :class:`Range` or a plain number (a range of zero width):

    >>> team = Asset("manual_team", 100, {("high", "cleared"): Range(10, 30, 50),
    ...                                   ("medium", "cleared"): 80})
    >>> team.productivity("medium", "cleared")
    Range(low=80.0, mode=80.0, high=80.0)
    >>> team.productivity("low", "cancelled") is None  # this asset does not cancel land
    True
    >>> machines = Asset("machine", 5, {("high", "cleared"): 1500}, kind="machine",
    ...                  changes=((dt.date(2028, 1, 1), 8),))
    >>> machines.count_on(dt.date(2028, 6, 1), start=dt.date(2027, 1, 1))
    8.0
    """

    name: str
    count: float
    productivity_m2_per_day: Mapping[tuple[str, str], Range]
    kind: str = "manual"
    growth_per_year: float = 0.0
    changes: tuple[tuple[dt.date, float], ...] = ()

    def __post_init__(self) -> None:
        # a plain number is a range of zero width, as in a capacity file
        table = {}
        for key, value in self.productivity_m2_per_day.items():
            if isinstance(value, Range):
                table[key] = value
            elif isinstance(value, int | float) and not isinstance(value, bool):
                table[key] = Range.fixed(value)
            else:
                raise SchemaError(
                    f"asset {self.name!r}: productivity {key} is {value!r}; give a number of "
                    "m² a day or a Range(low, mode, high)."
                )
        object.__setattr__(self, "productivity_m2_per_day", table)

    def productivity(self, level: str, method: str) -> Range | None:
        """m² per unit and working day for ``level`` land released by ``method``, or None."""
        return self.productivity_m2_per_day.get((level, method))

    def count_on(self, day: dt.date, start: dt.date) -> float:
        """Units on ``day`` for a plan starting on ``start`` (growth and dated changes).

        Examples
        --------
        >>> a = Asset("t", 10, {}, growth_per_year=0.1)
        >>> a.count_on(dt.date(2028, 6, 1), dt.date(2027, 1, 1))
        11.0
        """
        base, since = float(self.count), start
        for when, count in sorted(self.changes):
            if when <= day:
                base, since = float(count), max(when, start)
        years = _whole_years(since, day)
        return base * (1.0 + self.growth_per_year) ** years


@dataclass(frozen=True)
class Capacity:
    """What a programme can release: working days per year and its assets.

    Parameters
    ----------
    working_days_per_year : float
        Working days in a calendar year (e.g. 220); spread evenly over the calendar, so a
        working day is ``365.25 / working_days_per_year`` calendar days.
    assets : mapping of str to Asset
        The asset types, by name.
    release_mix : mapping, optional
        ``{threat_level: {method: share}}`` overriding the mix learnt from history
        (:func:`minemap.planning.release_mix`); shares of a level sum to 1.
    source : str, default "<python>"
        Where it came from (a file name), for messages and the plan's assumptions.

    Examples
    --------
    >>> team = Asset("manual_team", 100, {("high", "cleared"): Range(10, 30, 50)})
    >>> dogs = Asset("dog_team", 20, {("medium", "reduced"): 1000}, kind="dog")
    >>> capacity = Capacity(220, {"manual_team": team, "dog_team": dogs})
    >>> round(capacity.calendar_days_per_working_day, 3), capacity.has_ranges
    (1.66, True)
    >>> capacity.levels_without("cleared")
    ['medium', 'low']

    A capacity file is read with :meth:`from_toml`, a dict with :meth:`from_dict`.
    """

    working_days_per_year: float
    assets: Mapping[str, Asset]
    release_mix: Mapping[str, Mapping[str, float]] | None = None
    source: str = field(default="<python>", compare=False)

    @property
    def calendar_days_per_working_day(self) -> float:
        """``365.25 / working_days_per_year``."""
        return 365.25 / self.working_days_per_year

    @property
    def has_ranges(self) -> bool:
        """Whether any productivity is a range of non-zero width."""
        return any(
            not r.is_fixed for a in self.assets.values() for r in a.productivity_m2_per_day.values()
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "<python>") -> Capacity:
        """A capacity from a dict shaped like the TOML file, every key and value checked.

        Parameters
        ----------
        data : mapping
            ``working_days_per_year``, ``assets`` (``{name: {count, productivity_m2_per_day,
            kind, growth_per_year, changes}}``) and optionally ``release_mix``; the format is
            described in ``docs/capacity.md`` and :mod:`minemap.planning.capacity_file`.
        source : str, default "<python>"
            Where the data came from, named in messages and kept as :attr:`source`.

        Returns
        -------
        Capacity

        Raises
        ------
        SchemaError
            An unknown key, a missing one, or a value of the wrong type or out of range; the
            one-line message names ``source``, the key path and the fix.

        Examples
        --------
        >>> cap = Capacity.from_dict(
        ...     {
        ...         "working_days_per_year": 220,
        ...         "assets": {
        ...             "manual_team": {
        ...                 "count": 100,
        ...                 "productivity_m2_per_day": {
        ...                     "high": {"low": 10, "high": 50},
        ...                     "medium": 80,
        ...                     "low": {"cleared": 120, "cancelled": 5000},
        ...                 },
        ...             }
        ...         },
        ...     }
        ... )
        >>> cap.assets["manual_team"].productivity("high", "reduced")
        Range(low=10.0, mode=30.0, high=50.0)
        >>> cap.assets["manual_team"].productivity("low", "reduced") is None
        True
        """
        from minemap.planning.capacity_file import capacity_from_dict

        return capacity_from_dict(data, source=source)

    @classmethod
    def from_toml(cls, path: str | os.PathLike[str]) -> Capacity:
        """A capacity read from a TOML file (see ``docs/capacity.md``).

        Parameters
        ----------
        path : path-like
            The capacity file; ``minemap capacity-template`` writes a commented example.

        Returns
        -------
        Capacity
            With :attr:`source` the path as given.

        Raises
        ------
        InputFileError
            The file does not exist or cannot be read.
        FormatError
            The file is not UTF-8 or not valid TOML (the message gives line and column).
        SchemaError
            As :meth:`from_dict`.

        Examples
        --------
        >>> import pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "capacity.toml"
        >>> _ = path.write_text(
        ...     "working_days_per_year = 220\\n"
        ...     "[assets.manual_team]\\n"
        ...     "count = 100\\n"
        ...     "productivity_m2_per_day = { high = 50, medium = 80, low = 120 }\\n"
        ... )
        >>> Capacity.from_toml(path).assets["manual_team"].productivity("medium", "cleared")
        Range(low=80.0, mode=80.0, high=80.0)
        """
        from minemap.planning.capacity_file import capacity_from_toml

        return capacity_from_toml(path)

    def to_dict(self) -> dict[str, Any]:
        """The TOML-shaped dict of this capacity: :meth:`from_dict` reads it back unchanged.

        Integral numbers come out as ints; a level whose methods share one productivity is
        written once; a fixed range is written as a number.

        Examples
        --------
        >>> dogs = Asset("dogs", 4, {("high", "cleared"): Range(800, 850, 900)}, kind="dog")
        >>> cap = Capacity(220, {"dogs": dogs})
        >>> cap.to_dict()["assets"]["dogs"]["productivity_m2_per_day"]
        {'high': {'cleared': {'low': 800, 'mode': 850, 'high': 900}}}
        >>> Capacity.from_dict(cap.to_dict()) == cap
        True
        """
        from minemap.planning.capacity_file import capacity_to_dict

        return capacity_to_dict(self)

    def check_levels(self, levels: Iterable[str]) -> None:
        """Refuse a plan for threat levels that no asset can release.

        Parameters
        ----------
        levels : iterable of str
            The threat levels the remaining hazards hold.

        Raises
        ------
        SchemaError
            Naming each level for which no asset has a productivity above 0 for any method,
            and the key to add.

        Examples
        --------
        >>> cap = Capacity(220, {"t": Asset("t", 1, {("high", "cleared"): Range.fixed(50)})})
        >>> cap.check_levels(["high"])
        >>> cap.check_levels(["high", "low"])  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        minemap._errors.SchemaError: <python>: no asset has a productivity above 0 for 'low' land...
        """
        from minemap.planning.capacity_file import check_levels

        check_levels(self, levels)

    def levels_without(self, method: str) -> list[str]:
        """Threat levels no asset can release by ``method`` (productivity missing or 0)."""
        return [
            level
            for level in THREAT_LEVELS
            if not any(
                (r := a.productivity(level, method)) is not None and r.high > 0
                for a in self.assets.values()
            )
        ]


def _whole_years(since: dt.date, day: dt.date) -> int:
    """Anniversaries of ``since`` passed by ``day`` (0 before the first)."""
    if day < since:
        return 0
    years = day.year - since.year
    if (day.month, day.day) < (since.month, since.day):
        years -= 1
    return max(years, 0)
