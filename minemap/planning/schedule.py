"""The clearance schedule: when each hazard is released, and when the work is done.

Allocation
----------
All assets work one queue, in order (the ranking's order, else high → medium → low threat
and then ``hazard_id``). A hazard's remaining hectares are split by the release mix of its
threat level into hectares to clear, to reduce and to cancel, and the methods' work on a
hazard is done by the assets able to do it, pooled in proportion to their daily capacity
(units × productivity): the programme's rate for a threat level and method is
``C = Σ units × productivity`` m² per working day, and ``W`` m² take ``W / C`` working days.
Assets that cannot do a method wait while it is done (a conservative, checkable model: the
queue is worked one hazard at a time by everyone able to help). With one asset type of ``P``
m² a day, ``N`` units and ``D`` working days a year, ``R`` remaining hectares need
``R·10⁴/P`` asset-days and take ``R·10⁴/(P·N·D)`` years. Working days are spread evenly over
the calendar (a year of ``D`` working days is 365.25 calendar days), and a date is the start
plus the elapsed calendar days, rounded down to the day. Unit counts change on the
anniversaries of the start (growth) and on dated changes; the rate is constant between two
such days, so the plan is exact piece by piece.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from minemap import _progress
from minemap._errors import SchemaError
from minemap.planning.capacity import Capacity
from minemap.planning.history import HistoricRate, historic_rate
from minemap.planning.mix import history_hectares, mix_shares, mix_table
from minemap.settings import (
    HAZARD_ID,
    METHOD_HA,
    RELEASE_METHODS,
    REMAINING_HA,
    THREAT_LEVEL,
    THREAT_LEVELS,
)

__all__ = ["MAX_YEARS", "Plan", "plan_clearance"]

#: A plan that does not finish within this many years of its start is refused.
MAX_YEARS = 1000
M2_PER_HA = 10_000.0
#: Working days per hectare standing for "no asset can do it" inside a period.
_BLOCKED = 1e250
#: Column naming the priority category of a hazard (from a ranking's zone hectares).
CATEGORY = "priority_category"
#: Category of a ranked hazard outside every priority zone.
NO_CATEGORY = "(none)"
ORDER, RANK = "order", "rank"
START_DATE, FINISH_DATE, CUMULATIVE_HA = "start_date", "finish_date", "cumulative_ha"
ASSET_DAYS = {m: f"asset_days_{m}" for m in RELEASE_METHODS}
_PERCENTILES = (10, 50, 90)


@dataclass
class Plan:
    """A clearance plan: the schedule, its summary and the assumptions behind it.

    Attributes
    ----------
    schedule : pandas.DataFrame
        One row per hazard with remaining land, in queue order: ``order``, ``rank`` (from a
        ranking), ``hazard_id``, ``threat_level``, ``priority_category`` (from a ranking),
        ``remaining_ha``, ``cleared_ha``, ``reduced_ha``, ``cancelled_ha`` (the split by
        the release mix), ``asset_days_cleared``, ``asset_days_reduced``,
        ``asset_days_cancelled``, ``start_date``, ``finish_date``, ``cumulative_ha``.
    summary : dict
        ``start``, ``completion_date``, ``completion_by_threat_level``,
        ``completion_by_category`` (from a ranking), ``total_asset_days``, ``remaining_ha``,
        ``hectares_per_year`` (a DataFrame), ``historic_rate_ha_per_year`` and
        ``completion_date_at_historic_rate`` (with releases), and with draws ``draws``,
        ``p10``/``p50``/``p90`` (overall) and ``percentiles_by_threat_level``,
        ``percentiles_by_category``.
    assumptions : dict
        The capacity (as a dict), the release mix used, the historic window, start and as_of.

    Examples
    --------
    :func:`plan_clearance` makes one:

    >>> import pandas as pd
    >>> from minemap.planning import Asset, Capacity, plan_clearance
    >>> team = Asset("team", 10, {("high", "cleared"): 100, ("medium", "cleared"): 200})
    >>> cap = Capacity(250, {"team": team},
    ...                release_mix={"high": {"cleared": 1}, "medium": {"cleared": 1}})
    >>> table = pd.DataFrame({"hazard_id": ["H1", "H2"], "threat_level": ["high", "medium"],
    ...                       "remaining_ha": [25.0, 50.0]})
    >>> plan = plan_clearance(table, cap, start="2027-01-01")
    >>> plan.schedule["hazard_id"].tolist(), plan.schedule["finish_date"].astype(str).tolist()
    (['H1', 'H2'], ['2028-01-01', '2028-12-31'])
    >>> plan.summary["completion_date"].isoformat()
    '2028-12-31'
    """

    schedule: pd.DataFrame
    summary: dict[str, Any]
    assumptions: dict[str, Any] = field(default_factory=dict)
    name: str = "plan"
    #: (working-day offset, remaining ha) points of the burn-down, for charts
    curve: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: P10 and P90 remaining-ha curves (with draws), same time points as ``curve``
    band: pd.DataFrame | None = None
    #: calendar days per working day of the capacity (to turn curve offsets into dates)
    calendar_days_per_working_day: float = 365.25 / 250

    def summary_json(self) -> dict[str, Any]:
        """The summary with dates as ISO strings and tables as lists of records."""
        return json_ready(self.summary)

    def completion_table(self) -> pd.DataFrame:
        """Completion date per threat level (with P10/P50/P90 after draws), then overall."""
        summary = self.summary
        percentiles = summary.get("percentiles_by_threat_level", {})
        rows = []
        for level, when in summary.get("completion_by_threat_level", {}).items():
            row: dict[str, Any] = {"threat_level": level, "completion": when}
            row.update(percentiles.get(level, {}))
            rows.append(row)
        overall: dict[str, Any] = {"threat_level": "all", "completion": summary["completion_date"]}
        overall.update({p: summary[p] for p in ("p10", "p50", "p90") if p in summary})
        rows.append(overall)
        return pd.DataFrame(rows)

    def _repr_html_(self) -> str:
        import html

        from minemap._display import format_value, table_html

        summary = self.summary
        head = (
            f"<strong>{html.escape(self.name)}</strong>: "
            f"{format_value('remaining_ha', summary['remaining_ha'])} ha from "
            f"{format_value('start', summary['start'])}, done by "
            f"{format_value('completion', summary['completion_date'])}"
        )
        if "p50" in summary:
            head += f" (P50 over {summary['draws']:,} draws: {summary['p50']})"
        return f"<div>{head}{table_html(self.completion_table())}</div>"


def json_ready(value: Any) -> Any:
    """``value`` with dates as ISO strings, tables as lists of records and numpy numbers as
    Python numbers, nested, for JSON (the plan's summary and assumptions)."""
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, pd.DataFrame):
        return [json_ready(r) for r in value.to_dict(orient="records")]
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    if isinstance(value, (dt.date, pd.Timestamp)):
        return value.isoformat()[:10]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


# ------------------------------------------------------------------------------------------
# the queue
# ------------------------------------------------------------------------------------------


def _as_date(value: object, what: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, pd.Timestamp):
        return value.date()
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise SchemaError(f"{what}={value!r} is not an ISO date; write it as YYYY-MM-DD.") from None


def _is_table(data: object) -> bool:
    return (
        isinstance(data, pd.DataFrame)
        and REMAINING_HA in data.columns
        and HAZARD_ID in data.columns
        and THREAT_LEVEL in data.columns
    )


def _category_of(table: pd.DataFrame) -> pd.Series | None:
    """A ranking's priority category per hazard: the first zone (in the ranking's order)
    holding some of its remaining land, else ``(none)``; or a given category column."""
    for column in (CATEGORY, "category"):
        if column in table.columns:
            return table[column].astype(object).fillna(NO_CATEGORY)
    from minemap.priority import CATEGORIES

    order = [c for c in (table.attrs.get("order") or CATEGORIES) if f"{c}_ha" in table.columns]
    if not order:
        return None
    out = np.full(len(table), NO_CATEGORY, dtype=object)
    for category in reversed(order):
        inside = table[f"{category}_ha"].fillna(0).to_numpy(dtype=float) > 0
        out[inside] = category
    return pd.Series(out, index=table.index)


def _remaining_by_hazard(
    hazards: gpd.GeoDataFrame, releases: gpd.GeoDataFrame | None, as_of: object | None
) -> pd.DataFrame:
    """Remaining hectares per hazard, counted as the summary counts them (overlaps once,
    under the highest threat level; release only inside hazards)."""
    from minemap import crs as _crs
    from minemap import stats as _stats

    hazards = _stats._as_hazards(hazards)
    releases = _stats._as_releases(releases)
    stamp = _stats._as_timestamp(as_of)
    frame = _crs.area_frame(hazards, releases)
    pieces = _stats._hazard_pieces(hazards, frame, [HAZARD_ID], None, None, others=(releases,))
    released = np.zeros((len(pieces.area_m2), len(RELEASE_METHODS)))
    if releases is not None:
        rgeoms, rmethod = _stats._release_work_pieces(releases, pieces.work_crs, stamp)
        released, _, _ = _stats._release_overlay(pieces, rgeoms, rmethod, keep_remaining=False)
    data = pieces.attrs[[HAZARD_ID, THREAT_LEVEL]].copy()
    data[REMAINING_HA] = np.clip(pieces.area_m2 - released.sum(axis=1), 0.0, None) / M2_PER_HA
    table = data.groupby([HAZARD_ID, THREAT_LEVEL], sort=False, as_index=False)[REMAINING_HA].sum()
    small = table[REMAINING_HA].to_numpy() < 1e-8  # floating-point residue (1 cm²) is no land
    table.loc[small, REMAINING_HA] = 0.0
    return table


def _queue(data: Any, releases: Any, as_of: object | None) -> tuple[pd.DataFrame, Any]:
    """The queue (hazard_id, threat_level, remaining_ha[, rank, category]) in order, and the
    hazard layer to learn the mix and the historic rate from (or None)."""
    if _is_table(data):
        table = pd.DataFrame(
            data.drop(columns=data.geometry.name) if isinstance(data, gpd.GeoDataFrame) else data
        )
        table.attrs = dict(data.attrs)
        geo = data if isinstance(data, gpd.GeoDataFrame) else None
        out = table[[HAZARD_ID, THREAT_LEVEL, REMAINING_HA]].copy()
        out[THREAT_LEVEL] = out[THREAT_LEVEL].astype(str).str.strip().str.lower()
        category = _category_of(table)
        if category is not None:
            out[CATEGORY] = category.to_numpy()
        if RANK in table.columns:
            out.insert(0, RANK, pd.to_numeric(table[RANK], errors="coerce").to_numpy())
    elif isinstance(data, gpd.GeoDataFrame):
        geo = data
        out = _remaining_by_hazard(data, releases, as_of)
    else:
        raise SchemaError(
            "plan_clearance needs hazards (a GeoDataFrame of hazard areas) or a ranking from "
            "rank_hazards (or a table with hazard_id, threat_level and remaining_ha)."
        )
    if geo is None and releases is not None:
        raise SchemaError(
            "releases were given with a table that has no hazard geometry, so the release mix "
            "and the historic rate cannot be learnt from them: give the hazards (or the "
            "GeoDataFrame rank_hazards returns), or leave releases out."
        )
    unknown = sorted(set(out[THREAT_LEVEL]) - set(THREAT_LEVELS))
    if unknown:
        raise SchemaError(
            f"threat levels {unknown} are not {list(THREAT_LEVELS)}; map them before planning."
        )
    remaining = pd.to_numeric(out[REMAINING_HA], errors="coerce").fillna(0.0)
    if (remaining < 0).any() or not np.isfinite(remaining).all():
        raise SchemaError("remaining_ha must be finite numbers >= 0.")
    out[REMAINING_HA] = remaining.astype(float)
    out = out.loc[out[REMAINING_HA] > 0]
    if RANK in out.columns:
        out = out.sort_values([RANK, HAZARD_ID], kind="stable", na_position="last")
    else:
        level = out[THREAT_LEVEL].map({lvl: i for i, lvl in enumerate(THREAT_LEVELS)})
        key = pd.DataFrame({"l": level, "id": out[HAZARD_ID].astype(str)}, index=out.index)
        out = out.loc[key.sort_values(["l", "id"], kind="stable").index]
    return out.reset_index(drop=True), geo


# ------------------------------------------------------------------------------------------
# capacity over time
# ------------------------------------------------------------------------------------------


def _anniversary(since: dt.date, year: int) -> dt.date:
    try:
        return since.replace(year=year)
    except ValueError:  # 29 February in a common year: the anniversary has passed on 1 March
        return dt.date(year, 3, 1)


def _periods(capacity: Capacity, start: dt.date) -> tuple[np.ndarray, np.ndarray, list[dt.date]]:
    """Periods of constant unit counts: start offsets in working days, counts ``[k, asset]``
    and the first day of each period."""
    assets = list(capacity.assets.values())
    end = _anniversary(start, start.year + MAX_YEARS)
    changes = sorted({w for a in assets for w, _ in a.changes if start < w <= end})
    days = set(changes)
    if any(a.growth_per_year for a in assets):
        for since in [start, *changes]:
            for year in range(since.year + 1, end.year + 1):
                day = _anniversary(since, year)
                if start < day <= end:
                    days.add(day)
    firsts = [start]
    counts = [[a.count_on(start, start) for a in assets]]
    for day in sorted(days):
        row = [a.count_on(day, start) for a in assets]
        if row != counts[-1]:
            firsts.append(day)
            counts.append(row)
    per_day = capacity.calendar_days_per_working_day
    offsets = np.array([(d - start).days / per_day for d in firsts], dtype=float)
    return offsets, np.array(counts, dtype=float).reshape(len(firsts), len(assets)), firsts


def _productivity(capacity: Capacity, draws: int, seed: int | None) -> np.ndarray:
    """Productivity ``[draw, asset, level, method]`` in m² per unit and working day: the mode
    without draws; one triangular draw per asset, level and method and programme run."""
    assets = list(capacity.assets.values())
    n = max(draws, 1)
    out = np.zeros((n, len(assets), len(THREAT_LEVELS), len(RELEASE_METHODS)))
    rng = np.random.default_rng(seed) if draws else None
    for a, asset in enumerate(assets):
        for key in sorted(asset.productivity_m2_per_day):
            level, method = key
            if level not in THREAT_LEVELS or method not in RELEASE_METHODS:
                continue
            r = asset.productivity_m2_per_day[key]
            li, mi = THREAT_LEVELS.index(level), RELEASE_METHODS.index(method)
            if rng is None or r.low == r.high:
                out[:, a, li, mi] = r.mode
            else:
                out[:, a, li, mi] = rng.triangular(r.low, r.mode, r.high, size=n)
    return np.clip(out, 0.0, None)


def _days_per_ha(counts: np.ndarray, prod: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """Working days per hectare of each level ``[draw, level]`` at the given unit counts."""
    rate = np.einsum("a,dalm->dlm", counts, prod)  # m² per working day
    need = shares[None, :, :] > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        per = np.where(need, shares[None] * M2_PER_HA / rate, 0.0)
    per = np.where(need & ~(rate > 0), _BLOCKED, per)
    return np.minimum(per.sum(axis=2), _BLOCKED)


# ------------------------------------------------------------------------------------------
# the engine: the queue through periods of constant capacity, vectorised across draws
# ------------------------------------------------------------------------------------------


@dataclass
class _Walk:
    offsets: np.ndarray  # [k] period starts (working days)
    position: np.ndarray  # [k, draw] queue position (index + fraction) at each period start
    done_ha: np.ndarray  # [k, draw, level] ha released at each period start
    per_ha: np.ndarray  # [k, draw, level] working days per ha in each period
    checkpoints: np.ndarray  # [draw, c] working days at which position reaches each checkpoint


def _walk(
    cum: np.ndarray, offsets: np.ndarray, per_ha: np.ndarray, checkpoints: np.ndarray
) -> _Walk:
    """Walk the queue (``cum[i, level]``: ha released once hazards ``< i`` are done)."""
    n = cum.shape[0] - 1
    k_count, draws = per_ha.shape[0], per_ha.shape[1]
    j = np.zeros(draws, dtype=np.int64)
    done = np.zeros((draws, cum.shape[1]))
    frac = np.zeros(draws)
    positions = np.zeros((k_count, draws))
    dones = np.zeros((k_count, draws, cum.shape[1]))
    reached = np.full((draws, checkpoints.size), np.nan)
    for k in range(k_count):
        positions[k], dones[k] = j + frac, done
        tau = per_ha[k]  # [draw, level]
        begin = offsets[k]
        budget = offsets[k + 1] - begin if k + 1 < k_count else np.inf
        base = np.einsum("dl,dl->d", done, tau)
        # checkpoints reached in this period
        at = np.einsum("cl,dl->dc", cum[checkpoints], tau) - base[:, None]
        new = np.isnan(reached) & (at <= budget) & (checkpoints[None, :] > j[:, None] - 1)
        new &= at < _BLOCKED / 1e6
        reached = np.where(new, begin + np.maximum(at, 0.0), reached)
        if not np.isfinite(budget):
            break
        # where each draw is at the period's end: a binary search over the queue
        lo, hi = j.copy(), np.full(draws, n + 1)
        while np.any(hi - lo > 1):
            mid = (lo + hi) // 2
            ok = np.einsum("dl,dl->d", cum[np.minimum(mid, n)], tau) - base <= budget
            ok &= mid <= n
            lo, hi = np.where(ok, mid, lo), np.where(ok, hi, mid)
        finished = lo >= n
        nxt = np.minimum(lo, n - 1)
        span = cum[nxt + 1] - cum[nxt]
        span_days = np.einsum("dl,dl->d", span, tau)
        spent = budget - (np.einsum("dl,dl->d", cum[lo.clip(max=n)], tau) - base)
        with np.errstate(divide="ignore", invalid="ignore"):
            f = np.where(span_days > 0, spent / span_days, 0.0)
        f = np.clip(f, 0.0, 1.0)
        f = np.where(finished, 0.0, f)
        j = np.where(finished, n, lo)
        done = np.where(finished[:, None], cum[n][None, :], cum[j.clip(max=n)] + f[:, None] * span)
        frac = f
        if (j >= n).all():
            positions[k + 1 :], dones[k + 1 :] = float(n), cum[n]
            break
    return _Walk(offsets, positions, dones, per_ha, reached)


# ------------------------------------------------------------------------------------------
# the plan
# ------------------------------------------------------------------------------------------


def _to_dates(start: dt.date, working_days: np.ndarray, per_day: float) -> np.ndarray:
    calendar = np.floor(np.asarray(working_days, dtype=float) * per_day + 1e-6)
    return np.datetime64(start, "D") + calendar.astype(np.int64).astype("timedelta64[D]")


def _date(start: dt.date, working_days: float, per_day: float) -> dt.date:
    return start + dt.timedelta(days=math.floor(working_days * per_day + 1e-6))


def _capacity_dict(capacity: Capacity) -> dict[str, Any]:
    to_dict = getattr(capacity, "to_dict", None)
    if callable(to_dict):
        return dict(to_dict())
    return {
        "source": capacity.source,
        "working_days_per_year": capacity.working_days_per_year,
        "assets": {
            name: {
                "count": a.count,
                "kind": a.kind,
                "growth_per_year": a.growth_per_year,
                "changes": [[w.isoformat(), c] for w, c in a.changes],
                "productivity_m2_per_day": {
                    f"{lvl}.{m}": [r.low, r.mode, r.high]
                    for (lvl, m), r in a.productivity_m2_per_day.items()
                },
            }
            for name, a in capacity.assets.items()
        },
        "release_mix": None
        if capacity.release_mix is None
        else {k: dict(v) for k, v in capacity.release_mix.items()},
    }


def _check_feasible(
    queue: pd.DataFrame,
    shares: np.ndarray,
    prod: np.ndarray,
    last_counts: np.ndarray,
    last_day: dt.date,
    source: str,
) -> None:
    """A level that must be released by a method no asset does can never finish; messages
    start with the capacity's ``source``, as every capacity error does."""
    present = set(queue[THREAT_LEVEL])
    rate = np.einsum("a,dalm->dlm", last_counts, prod).min(axis=0)
    ever = prod.max(axis=0).max(axis=0)  # [level, method]
    for li, level in enumerate(THREAT_LEVELS):
        if level not in present:
            continue
        for mi, method in enumerate(RELEASE_METHODS):
            if shares[li, mi] <= 0:
                continue
            if not ever[li, mi] > 0:
                raise SchemaError(
                    f"{source}: no asset can release {level}-threat land by {method} (no "
                    f"productivity_m2_per_day.{level}.{method} above 0), yet "
                    f"{shares[li, mi]:.0%} of "
                    f"{level}-threat land is to be {method}: give an asset a productivity "
                    f"for it, or a release_mix for {level!r} without {method}."
                )
            if not rate[li, mi] > 0:
                raise SchemaError(
                    f"{source}: from {last_day.isoformat()} no unit is left that can release "
                    f"{level}-threat land by {method}, so that work never finishes: keep some "
                    "such units in "
                    "the capacity's dated changes."
                )


def plan_clearance(
    hazards_or_ranking: gpd.GeoDataFrame | pd.DataFrame,
    capacity: Capacity,
    *,
    start: object,
    releases: gpd.GeoDataFrame | None = None,
    as_of: object | None = None,
    release_mix: Mapping[str, Mapping[str, float]] | None = None,
    draws: int = 0,
    seed: int | None = None,
    window_years: int = 2,
    name: str = "plan",
) -> Plan:
    """Schedule the release of every remaining hazard with the given capacity.

    Parameters
    ----------
    hazards_or_ranking : geopandas.GeoDataFrame or pandas.DataFrame
        Hazard areas (remaining land is measured as :func:`minemap.land_release_summary`
        does, net of ``releases`` up to ``as_of``; queued high → medium → low, then by
        ``hazard_id``), or a ranking from :func:`minemap.rank_hazards` (queued by ``rank``;
        any table with ``hazard_id``, ``threat_level``, ``remaining_ha`` works).
    capacity : Capacity
        Assets, their counts over time and productivity.
    start : date-like
        First day of work.
    releases : geopandas.GeoDataFrame, optional
        Release records: the release mix and the historic rate are learnt from them.
    as_of : date-like, optional
        Count only releases dated on or before this day.
    release_mix : mapping, optional
        ``{level: {method: share}}``, over ``capacity.release_mix`` and the history.
    draws : int, default 0
        Monte Carlo draws over the capacity's productivity ranges (0: none).
    seed : int, optional
        Seed of the draws (the same seed gives the same dates).
    window_years : int, default 2
        Full calendar years of records behind the historic rate.
    name : str, default "plan"
        The plan's name (for tables and charts).

    Returns
    -------
    Plan

    Raises
    ------
    SchemaError
        A threat level that no asset can release (a needed method without productivity),
        or a plan that does not finish within :data:`MAX_YEARS` years.

    Notes
    -----
    All assets work the queue in order; a method's work on a hazard is done by the assets
    able to do it, pooled in proportion to units × productivity, while the others wait.
    ``R`` ha with one asset type of ``P`` m²/day, ``N`` units and ``D`` working days a year
    take ``R·10⁴/P`` asset-days and ``R·10⁴/(P·N·D)`` years (a year of working days is
    365.25 calendar days). Monte Carlo draws are per programme run: each draw takes one
    productivity per asset, level and method for the whole plan (systematic uncertainty).

    Examples
    --------
    >>> import pandas as pd
    >>> from minemap.planning import Asset, Capacity, Range
    >>> team = Asset("team", 10, {("high", "cleared"): Range.fixed(100)})
    >>> cap = Capacity(250, {"team": team}, release_mix={"high": {"cleared": 1}})
    >>> table = pd.DataFrame({"hazard_id": ["H1"], "threat_level": ["high"],
    ...                       "remaining_ha": [25.0]})
    >>> plan = plan_clearance(table, cap, start="2027-01-01")
    >>> plan.summary["total_asset_days"], plan.summary["completion_date"].isoformat()
    (2500.0, '2028-01-01')
    """
    with _progress.task("Plan", _PREPARE_STAGES + 1 + bool(draws), unit="stage") as bar:
        prepared = _prepare(
            hazards_or_ranking, releases, as_of=as_of, window_years=window_years, bar=bar
        )
        return _plan(
            prepared,
            capacity,
            start=start,
            release_mix=release_mix,
            draws=draws,
            seed=seed,
            name=name,
            bar=bar,
        )


@dataclass
class _Prepared:
    """What does not depend on the capacity: the queue, the history, the historic rate."""

    queue: pd.DataFrame
    hectares: np.ndarray  # released ha [level|total, method]
    history: HistoricRate | None
    as_of: object | None
    window_years: int


#: Steps of a progress bar over :func:`_prepare`.
_PREPARE_STAGES = 3


def _prepare(
    data: Any,
    releases: Any,
    *,
    as_of: object | None,
    window_years: int,
    bar: _progress.Bar = _progress.NO_BAR,
) -> _Prepared:
    bar.set_description("Plan (remaining land per hazard)")
    queue, geo = _queue(data, releases, as_of)
    bar.update()
    bar.set_description("Plan (release mix)")
    hectares = history_hectares(geo, releases, as_of=as_of)
    bar.update()
    bar.set_description("Plan (historic rate)")
    history = None
    if releases is not None and geo is not None and len(releases):
        history = historic_rate(releases, geo, window_years=window_years, as_of=as_of)
    bar.update()
    return _Prepared(queue, hectares, history, as_of, window_years)


def _plan(
    prepared: _Prepared,
    capacity: Capacity,
    *,
    start: object,
    release_mix: Mapping[str, Mapping[str, float]] | None,
    draws: int,
    seed: int | None,
    name: str,
    bar: _progress.Bar = _progress.NO_BAR,
) -> Plan:
    start_day = _as_date(start, "start")
    if draws < 0:
        raise SchemaError(f"draws={draws} must be 0 or more.")
    if not capacity.assets:
        raise SchemaError(f"{capacity.source}: the capacity has no assets.")
    queue, history, as_of = prepared.queue, prepared.history, prepared.as_of
    override = dict(capacity.release_mix or {})
    override.update(release_mix or {})
    mix = mix_table(prepared.hectares, override)
    shares = mix_shares(mix)

    offsets, counts, firsts = _periods(capacity, start_day)
    prod_mode = _productivity(capacity, 0, None)
    _check_feasible(
        queue, shares, _productivity_bounds(capacity), counts[-1], firsts[-1], capacity.source
    )
    per_day = capacity.calendar_days_per_working_day

    level_index = queue[THREAT_LEVEL].map({lvl: i for i, lvl in enumerate(THREAT_LEVELS)})
    lev = level_index.to_numpy(dtype=np.int64)
    remaining = queue[REMAINING_HA].to_numpy(dtype=float)
    n = len(queue)
    cum = np.zeros((n + 1, len(THREAT_LEVELS)))
    if n:
        step = np.zeros((n, len(THREAT_LEVELS)))
        step[np.arange(n), lev] = remaining
        cum[1:] = np.cumsum(step, axis=0)
    checkpoints, labels = _checkpoints(queue, lev)

    per_ha = np.stack([_days_per_ha(c, prod_mode, shares) for c in counts])  # [k, 1, level]
    walk = _walk(cum, offsets, per_ha, checkpoints)
    finish_wd, start_wd = _hazard_times(walk, cum, n)
    _check_horizon(walk.checkpoints, start_day, per_day, capacity.source)

    # the schedule
    schedule = queue.copy()
    schedule.insert(0, ORDER, np.arange(1, n + 1))
    split = remaining[:, None] * shares[lev]
    for mi, method in enumerate(RELEASE_METHODS):
        schedule[METHOD_HA[method]] = split[:, mi]
    period = np.clip(np.searchsorted(offsets, finish_wd - 1e-9, side="right") - 1, 0, None)
    capable = prod_mode[0] > 0  # [asset, level, method]
    units = np.einsum("ka,alm->klm", counts, capable.astype(float))
    rate = np.einsum("ka,alm->klm", counts, prod_mode[0])
    with np.errstate(divide="ignore", invalid="ignore"):
        per_m2 = np.where(rate > 0, units / rate, 0.0)  # asset-days per m²
    for mi, method in enumerate(RELEASE_METHODS):
        schedule[ASSET_DAYS[method]] = split[:, mi] * M2_PER_HA * per_m2[period, lev, mi]
    schedule[START_DATE] = _to_dates(start_day, start_wd, per_day)
    schedule[FINISH_DATE] = _to_dates(start_day, finish_wd, per_day)
    schedule[CUMULATIVE_HA] = np.cumsum(remaining)

    total_days = float(walk.checkpoints[0, 0]) if n else 0.0
    summary: dict[str, Any] = {
        "start": start_day,
        "completion_date": _date(start_day, total_days, per_day),
        "completion_by_threat_level": {},
        "total_asset_days": float(
            schedule[[ASSET_DAYS[m] for m in RELEASE_METHODS]].to_numpy().sum()
        ),
        "remaining_ha": float(remaining.sum()),
    }
    for c, (kind, label) in enumerate(labels):
        when = _date(start_day, float(walk.checkpoints[0, c]), per_day)
        if kind == "level":
            summary["completion_by_threat_level"][label] = when
        elif kind == "category":
            summary.setdefault("completion_by_category", {})[label] = when
    for level in THREAT_LEVELS:
        summary["completion_by_threat_level"].setdefault(level, start_day)
    curve = _curve(walk, cum, finish_wd, draw=0)
    summary["hectares_per_year"] = _per_year(curve, shares, start_day, per_day, total_days)

    if history is not None:
        summary["historic_rate_ha_per_year"] = history.rate_ha_per_year
        years = remaining.sum() / history.rate_ha_per_year if history.rate_ha_per_year > 0 else None
        summary["completion_date_at_historic_rate"] = (
            None
            if years is None or years > MAX_YEARS
            else start_day + dt.timedelta(days=math.floor(years * 365.25 + 1e-6))
        )

    band = None
    bar.update()
    if draws:
        bar.set_description(f"Plan ({draws:,} Monte Carlo draws)")
        prod = _productivity(capacity, draws, seed)
        per_ha_d = np.stack([_days_per_ha(c, prod, shares) for c in counts])
        walk_d = _walk(cum, offsets, per_ha_d, checkpoints)
        _check_horizon(walk_d.checkpoints, start_day, per_day, capacity.source)
        summary["draws"] = draws
        summary["seed"] = seed
        pct = np.percentile(walk_d.checkpoints, _PERCENTILES, axis=0) if n else None
        for p_i, p in enumerate(_PERCENTILES):
            summary[f"p{p}"] = (
                _date(start_day, float(pct[p_i, 0]), per_day) if pct is not None else start_day
            )
        summary["percentiles_by_threat_level"] = {}
        for c, (kind, label) in enumerate(labels):
            if kind == "all":
                continue
            values = (
                {
                    f"p{p}": _date(start_day, float(pct[p_i, c]), per_day)
                    for p_i, p in enumerate(_PERCENTILES)
                }
                if pct is not None
                else {}
            )
            key = "percentiles_by_threat_level" if kind == "level" else "percentiles_by_category"
            summary.setdefault(key, {})[label] = values
        band = _band(walk_d, cum, total_days)
        bar.update()

    assumptions = {
        "capacity": _capacity_dict(capacity),
        "release_mix": mix,
        "start": start_day,
        "as_of": None if as_of is None else str(as_of),
        "historic_rate": history.to_dict() if history is not None else None,
        "historic_window_years": prepared.window_years,
        "allocation": "pooled queue: assets able to do a method share its work in proportion "
        "to units x productivity; the others wait",
        "draws": "per programme run (one productivity per asset, level and method)"
        if draws
        else None,
    }
    return Plan(
        schedule,
        summary,
        assumptions,
        name=name,
        curve=curve,
        band=band,
        calendar_days_per_working_day=per_day,
    )


def _productivity_bounds(capacity: Capacity) -> np.ndarray:
    """Highest productivity ``[1, asset, level, method]`` (what a draw could ever reach)."""
    assets = list(capacity.assets.values())
    out = np.zeros((1, len(assets), len(THREAT_LEVELS), len(RELEASE_METHODS)))
    for a, asset in enumerate(assets):
        for (level, method), r in asset.productivity_m2_per_day.items():
            if level in THREAT_LEVELS and method in RELEASE_METHODS:
                out[0, a, THREAT_LEVELS.index(level), RELEASE_METHODS.index(method)] = max(
                    r.high, r.mode, 0.0
                )
    return out


def _checkpoints(queue: pd.DataFrame, lev: np.ndarray) -> tuple[np.ndarray, list[tuple[str, str]]]:
    """Queue positions whose reaching completes everything, a level, a category."""
    n = len(queue)
    points, labels = [n], [("all", "all")]
    for li, level in enumerate(THREAT_LEVELS):
        where = np.flatnonzero(lev == li)
        if where.size:
            points.append(int(where[-1]) + 1)
            labels.append(("level", level))
    if CATEGORY in queue.columns:
        cats = queue[CATEGORY].to_numpy()
        for category in pd.unique(cats):
            where = np.flatnonzero(cats == category)
            points.append(int(where[-1]) + 1)
            labels.append(("category", str(category)))
    return np.array(points, dtype=np.int64), labels


def _hazard_times(walk: _Walk, cum: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Working-day offsets at which each hazard finishes and starts (the first draw)."""
    if n == 0:
        return np.zeros(0), np.zeros(0)
    ends = np.arange(1, n + 1)
    positions = walk.position[:, 0]
    k = np.clip(np.searchsorted(positions, ends, side="left") - 1, 0, None)
    tau = walk.per_ha[k, 0]  # [hazard, level]
    finish = walk.offsets[k] + np.einsum("hl,hl->h", cum[ends] - walk.done_ha[k, 0], tau)
    finish = np.maximum.accumulate(finish)
    start = np.concatenate([[0.0], finish[:-1]])
    return finish, start


def _check_horizon(reached: np.ndarray, start: dt.date, per_day: float, source: str) -> None:
    limit = MAX_YEARS * 365.25 / per_day
    if reached.size and not (np.nan_to_num(reached, nan=np.inf) <= limit).all():
        raise SchemaError(
            f"{source}: with this capacity the work does not finish within {MAX_YEARS} years of "
            f"{start.isoformat()}: add units or productivity (or stop the decline in counts)."
        )


def _curve(walk: _Walk, cum: np.ndarray, finish_wd: np.ndarray, draw: int) -> pd.DataFrame:
    """Released ha per level at hazard finishes and period starts (working-day offsets)."""
    inside = walk.offsets <= (finish_wd[-1] if finish_wd.size else 0.0)
    t = np.concatenate([[0.0], finish_wd, walk.offsets[inside]])
    done = np.concatenate([cum[:1], cum[1:], walk.done_ha[inside, draw]])
    order = np.argsort(t, kind="stable")
    table = pd.DataFrame(done[order], columns=list(THREAT_LEVELS))
    table.insert(0, "working_days", t[order])
    total = cum[-1].sum()
    table[REMAINING_HA] = np.clip(total - table[list(THREAT_LEVELS)].sum(axis=1), 0.0, None)
    return table


def _band(walk: _Walk, cum: np.ndarray, horizon: float) -> pd.DataFrame:
    """10th, 50th and 90th percentiles across draws of the remaining ha through time.

    Each draw's time to reach ~200 queue positions is exact (its periods are known); the
    remaining ha between two of them is interpolated linearly.
    """
    n = cum.shape[0] - 1
    draws = walk.position.shape[1]
    points = np.unique(np.linspace(0, n, 201).round().astype(np.int64))
    total = cum[-1].sum()
    left = total - cum[points].sum(axis=1)
    reach = np.nan_to_num(walk.checkpoints[:, 0], nan=horizon)
    grid = np.linspace(0.0, float(max(reach.max(), horizon)), 241)
    remaining = np.empty((draws, grid.size))
    for d in range(draws):
        k = np.clip(np.searchsorted(walk.position[:, d], points, side="left") - 1, 0, None)
        when = walk.offsets[k] + np.einsum(
            "pl,pl->p", cum[points] - walk.done_ha[k, d], walk.per_ha[k, d]
        )
        when[0] = 0.0
        remaining[d] = np.interp(grid, np.maximum.accumulate(when), left)
    p10, p50, p90 = np.percentile(remaining, [10, 50, 90], axis=0)
    return pd.DataFrame(
        {
            "working_days": grid,
            "remaining_p10_ha": p10,
            "remaining_p50_ha": p50,
            "remaining_p90_ha": p90,
        }
    )


def _per_year(
    curve: pd.DataFrame, shares: np.ndarray, start: dt.date, per_day: float, total_days: float
) -> pd.DataFrame:
    """Released hectares in each calendar year of the plan, by method, and what remains."""
    end = _date(start, total_days, per_day)
    years = list(range(start.year, end.year + 1))
    t = curve["working_days"].to_numpy()
    rows = []
    prev = np.zeros(len(THREAT_LEVELS))
    total = curve[list(THREAT_LEVELS)].to_numpy()[-1].sum() if len(curve) else 0.0
    for year in years:
        at = (dt.date(year + 1, 1, 1) - start).days / per_day
        now = np.array([np.interp(at, t, curve[lvl].to_numpy()) for lvl in THREAT_LEVELS])
        got = now - prev
        by_method = got @ shares
        rows.append(
            {
                "year": year,
                "released_ha": float(got.sum()),
                **{METHOD_HA[m]: float(by_method[i]) for i, m in enumerate(RELEASE_METHODS)},
                "remaining_ha_at_year_end": float(max(total - now.sum(), 0.0)),
            }
        )
        prev = now
    return pd.DataFrame(
        rows,
        columns=["year", "released_ha", *METHOD_HA.values(), "remaining_ha_at_year_end"],
    )
