"""The historic release rate: hectares released per year in recent full calendar years.

The rate is the mean, over the last ``window_years`` full calendar years of records, of the
hectares released in each year, counted as :func:`minemap.land_release_summary` counts them
(inside hazards, overlaps once): the difference between the cumulative released hectares at
consecutive 31 Decembers. At that rate the remaining land takes
``remaining_ha / rate_ha_per_year`` years.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import pandas as pd

from minemap import _progress
from minemap._errors import SchemaError
from minemap.settings import RELEASE_DATE, RELEASED_HA, REMAINING_HA, THREAT_LEVEL, TOTAL

__all__ = ["HistoricRate", "historic_rate", "rate_per_year", "years_to_finish"]

FULL_YEARS, SPAN = "full calendar years", "span of records"


@dataclass(frozen=True)
class HistoricRate:
    """Hectares released per year in recent years, and what that rate implies.

    Attributes
    ----------
    rate_ha_per_year : float
        Mean hectares released per year over ``years``.
    years : tuple of int
        The full calendar years used (empty when the records span less than one: then the
        rate is the released hectares over the span of the records, see ``basis``).
    released_ha_by_year : dict
        Hectares released in each year used.
    remaining_ha : float
        Hazard land not released as of ``as_of``.
    as_of : datetime.date
        The day the records are counted to.
    basis : str
        ``"full calendar years"`` or ``"span of records"``.

    Examples
    --------
    :func:`historic_rate` makes one from the records; by hand:

    >>> rate = HistoricRate(1_000.0, (2023, 2024), {2023: 900.0, 2024: 1_100.0},
    ...                     remaining_ha=5_000.0, as_of=dt.date(2024, 12, 31))
    >>> rate.years_to_finish, rate.completion_date().isoformat()
    (5.0, '2029-12-31')
    """

    rate_ha_per_year: float
    years: tuple[int, ...]
    released_ha_by_year: Mapping[int, float] = field(default_factory=dict)
    remaining_ha: float = 0.0
    as_of: dt.date | None = None
    basis: str = FULL_YEARS

    @property
    def years_to_finish(self) -> float:
        """``remaining_ha / rate_ha_per_year`` (infinite at a rate of 0)."""
        return years_to_finish(self.remaining_ha, self.rate_ha_per_year)

    def completion_date(self, start: dt.date | None = None) -> dt.date | None:
        """``start`` (default ``as_of``) plus :attr:`years_to_finish` years of 365.25 days;
        None if it never finishes or lies beyond year 9999."""
        begin = start or self.as_of
        years = self.years_to_finish
        if begin is None or not math.isfinite(years):
            return None
        try:
            return begin + dt.timedelta(days=math.floor(years * 365.25 + 1e-6))
        except OverflowError:
            return None

    def to_dict(self) -> dict[str, Any]:
        """The figures as plain Python values (dates as ISO strings)."""
        return {
            "rate_ha_per_year": self.rate_ha_per_year,
            "years": list(self.years),
            "released_ha_by_year": {str(k): v for k, v in self.released_ha_by_year.items()},
            "remaining_ha": self.remaining_ha,
            "as_of": None if self.as_of is None else self.as_of.isoformat(),
            "basis": self.basis,
            "years_to_finish": self.years_to_finish,
        }


def rate_per_year(released_ha_by_year: Mapping[int, float]) -> float:
    """Mean hectares per year.

    Examples
    --------
    Croatia's 49.01 km² cleared in 2018 and 39.16 km² in 2019 (in km² here):

    >>> round(rate_per_year({2018: 49.01, 2019: 39.16}), 3)
    44.085
    """
    if not released_ha_by_year:
        raise SchemaError("no year of release records to compute a rate from.")
    return float(sum(released_ha_by_year.values()) / len(released_ha_by_year))


def years_to_finish(remaining_ha: float, rate_ha_per_year: float) -> float:
    """Years the remaining land takes at a rate (infinite at a rate of 0).

    Examples
    --------
    >>> round(years_to_finish(411 - 49.01 - 39.16, 44.085), 2)
    7.32
    """
    if remaining_ha <= 0:
        return 0.0
    if rate_ha_per_year <= 0:
        return math.inf
    return float(remaining_ha / rate_ha_per_year)


def _released_to(hazards: gpd.GeoDataFrame, releases: gpd.GeoDataFrame, day: object) -> pd.Series:
    from minemap.stats import _summary_and_pieces

    table, _ = _summary_and_pieces(hazards, releases, as_of=day)
    return table.set_index(THREAT_LEVEL).loc[TOTAL]


def historic_rate(
    releases: gpd.GeoDataFrame,
    hazards: gpd.GeoDataFrame,
    *,
    window_years: int = 2,
    as_of: object | None = None,
) -> HistoricRate:
    """Hectares released per year over the last ``window_years`` full calendar years.

    Parameters
    ----------
    releases, hazards : geopandas.GeoDataFrame
        As for :func:`minemap.land_release_summary`.
    window_years : int, default 2
        How many full calendar years, ending with the last one that ends on or before
        ``as_of``; years before the first record are left out, and so is the first
        record's year unless that record is dated 1 January (records rarely start on it).
        With no full year of records, the rate is the released hectares over the span from
        the first record to ``as_of`` (``basis="span of records"``).
    as_of : date-like, optional
        Count records up to this day (default: the last release date).

    Returns
    -------
    HistoricRate

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> hz = gpd.GeoDataFrame({"hazard_id": ["H1"], "threat_level": ["high"]},
    ...     geometry=[box(4.3e6, 3.2e6, 4.301e6, 3.201e6)], crs=3035)
    >>> rl = gpd.GeoDataFrame({"release_id": ["R1", "R2"], "method": ["cleared"] * 2,
    ...     "release_date": ["2018-01-01", "2019-06-01"]},
    ...     geometry=[box(4.3e6, 3.2e6, 4.3002e6, 3.201e6),
    ...               box(4.3002e6, 3.2e6, 4.3006e6, 3.201e6)], crs=3035)
    >>> rate = historic_rate(rl, hz, as_of="2019-12-31")
    >>> rate.years, round(rate.rate_ha_per_year, 3), round(rate.years_to_finish, 3)
    ((2018, 2019), 30.0, 1.333)
    """
    from minemap.stats import _as_releases, _as_timestamp

    if window_years < 1:
        raise SchemaError(f"window_years={window_years} must be 1 or more.")
    if releases is None or len(releases) == 0:
        raise SchemaError("historic_rate needs release records; there are none.")
    releases = _as_releases(releases)
    dates = releases[RELEASE_DATE]
    stamp = _as_timestamp(as_of)
    if stamp is None:
        stamp = pd.Timestamp(dates.max())
    first = pd.Timestamp(dates.min())
    last_full = stamp.year if (stamp.month, stamp.day) == (12, 31) else stamp.year - 1
    # the first record's year is a full year of records only if it starts on 1 January
    first_full = first.year if (first.month, first.day) == (1, 1) else first.year + 1
    years = [y for y in range(last_full - window_years + 1, last_full + 1) if y >= first_full]
    passes = len(years) + 2 if years else 1  # one summary at as_of, one per year's end
    with _progress.task("Historic release rate", passes, unit="stage") as bar:
        now = _released_to(hazards, releases, stamp.date().isoformat())
        bar.update()
        remaining = float(now[REMAINING_HA])
        if not years:
            span = max((stamp - first).days, 1) / 365.25
            return HistoricRate(
                float(now[RELEASED_HA]) / span, (), {}, remaining, stamp.date(), SPAN
            )
        cumulative = {}
        for y in range(years[0] - 1, years[-1] + 1):
            cumulative[y] = float(_released_to(hazards, releases, f"{y}-12-31")[RELEASED_HA])
            bar.update()
        by_year = {y: cumulative[y] - cumulative[y - 1] for y in years}
        return HistoricRate(
            rate_per_year(by_year), tuple(years), by_year, remaining, stamp.date(), FULL_YEARS
        )
