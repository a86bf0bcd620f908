"""``minemap plan``: when clearance will be done, with the capacity given, and how sure.

One call to :func:`minemap.planning.plan_clearance` (or
:func:`minemap.planning.compare_plans` with ``--scenario``); without ``--capacity`` only the
forecast at the historic release rate (:func:`minemap.planning.historic_rate`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from minemap._errors import DataWarning, FormatError, InputFileError, MinemapError, SchemaError
from minemap.cli import helpers, options
from minemap.io import OutputSet
from minemap.planning import Capacity, Plan, compare_plans, historic_rate
from minemap.planning.schedule import json_ready
from minemap.settings import HAZARD_ID, RELEASE_DATE, REMAINING_HA, THREAT_LEVEL
from minemap.stats import progress_over_time

#: Columns a ranking CSV must have (as ``minemap priority --ranking`` writes it).
_RANKING_COLUMNS = ("rank", HAZARD_ID, THREAT_LEVEL, REMAINING_HA)


def cmd_plan(args: argparse.Namespace, records: list[warnings.WarningMessage]) -> None:
    """Read, plan, write the schedule, the summary and the chart together."""
    args.scenario_files = [_scenario(text)[1] for text in args.scenario or []]
    helpers.plan_outputs(
        args,
        [
            ("-o", args.output, helpers.TEXT_SUFFIXES),
            ("--chart", args.chart, tuple(helpers.CHART_FORMATS)),
        ],
    )
    helpers.check_draws(args.draws)
    if args.chart and not (args.capacity or args.scenario):
        raise SchemaError("--chart needs --capacity (or --scenario): the chart shows plans.")
    if args.draws and not (args.capacity or args.scenario):
        raise SchemaError(
            "--draws needs --capacity (or --scenario): the draws are over its productivity ranges."
        )
    if args.window_years < 1:
        raise SchemaError(f"--window-years {args.window_years}: give 1 or more full years.")
    scenarios = _capacities(args)
    start = helpers.start_date(args.start)
    hazards, releases = helpers.read_inputs(args)
    _check_history(releases, start, args.as_of, bool(scenarios))
    queue = _ranking(args.ranking_table, hazards) if args.ranking_table else hazards
    fmt = helpers.format_for(args)
    if not scenarios:
        doc, text, table = _historic_only(args, hazards, releases, start, fmt)
        plans: dict[str, Plan] = {}
    else:
        capacities = {name: capacity for name, (_, _, capacity) in scenarios.items()}
        try:
            table, plans = compare_plans(
                capacities,
                queue,
                start=start,
                releases=releases,
                as_of=args.as_of,
                draws=args.draws,
                seed=args.seed,
                window_years=args.window_years,
            )
        except MinemapError as exc:  # a capacity that cannot finish: name its option
            for option, path, capacity in scenarios.values():
                if str(exc).startswith(f"{capacity.source}:"):
                    with helpers.naming(option, path):
                        raise
            raise
        doc, text = _report(plans, table, fmt)
    doc["warnings"] = helpers.messages(records)
    if fmt == "json":
        text = helpers.dump_json(doc)
    with OutputSet() as outputs:
        if args.chart:
            from minemap.planning.chart import plot_burndown

            history = (
                progress_over_time(hazards, releases, freq="Y") if releases is not None else None
            )
            fig = plot_burndown(plans, releases_history=history)
            chart_format = helpers.CHART_FORMATS.get(Path(args.chart).suffix.lower(), "png")
            outputs.add(args.chart, lambda tmp: fig.savefig(tmp, dpi=150, format=chart_format))
        helpers.emit(text, args.output, outputs)
    if not helpers.is_stdout(args.output):  # the answer on screen, the files where asked
        if fmt == "table":
            shown = text
        elif plans:
            shown = _report(plans, table, "table")[1]
        else:
            shown = _short(doc)
        written = ", ".join(
            str(helpers.terminal_text(str(p))) for p in (args.output, args.chart) if p
        )
        print(f"{shown}\nWritten: {written}")


def _scenario(text: str) -> tuple[str, str]:
    name, sep, path = text.partition("=")
    if not sep or not name.strip() or not path.strip():
        raise SchemaError(
            f"--scenario {text!r}: write it as NAME=capacity.toml, e.g. "
            "--scenario 'more machines=machines.toml'."
        )
    return name.strip(), path.strip()


def _capacities(args: argparse.Namespace) -> dict[str, tuple[str, str, Capacity]]:
    """Each capacity by scenario name, with the option and file it came from."""
    found: dict[str, tuple[str, str, Capacity]] = {}
    if args.capacity:
        with helpers.naming("--capacity", args.capacity):
            capacity = Capacity.from_toml(args.capacity)
        found["plan" if not args.scenario else "today"] = ("--capacity", args.capacity, capacity)
    for text in args.scenario or []:
        name, path = _scenario(text)
        if name in found:
            raise SchemaError(f"--scenario {text!r}: the name {name!r} is given twice.")
        with helpers.naming("--scenario", path):
            found[name] = ("--scenario", path, Capacity.from_toml(path))
    return found


def _check_history(
    releases: pd.DataFrame | None, start: dt.date, as_of: str | None, planning: bool
) -> None:
    """Warn where the plan rests on a guess: no history, or a start inside the records."""
    if releases is None:
        if planning:
            warnings.warn(
                "no --released: with no release history every remaining hectare is planned "
                "as clearance (the slowest method); give the release records to learn the mix.",
                DataWarning,
                stacklevel=2,
            )
        return
    last = pd.to_datetime(releases[RELEASE_DATE]).max()
    if as_of is None and pd.notna(last) and pd.Timestamp(start) <= last:
        warnings.warn(
            f"--start {start.isoformat()} is not after the last release record "
            f"({last.date().isoformat()}): the plan takes the land remaining after every "
            f"record; give --as-of {start.isoformat()} to plan from what remained then.",
            DataWarning,
            stacklevel=2,
        )


def _short(doc: dict[str, Any]) -> str:
    summary = doc.get("summary") or {}
    if "completion_date" in summary and summary["completion_date"]:
        return f"Completion {summary['completion_date']} (start {summary['start']})."
    if summary.get("completion_date_at_historic_rate"):
        return f"At the historic rate: done {summary['completion_date_at_historic_rate']}."
    rows = doc.get("scenarios") or []
    return "; ".join(f"{r['scenario']}: {r['completion_date']}" for r in rows)


def _ranking(path: str, hazards: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A ranking CSV written by ``minemap priority --ranking``, checked against the hazards."""
    where = f"--ranking {path}"
    if not Path(path).is_file():
        raise InputFileError(
            f"{where}: no such file; give the CSV that 'minemap priority --ranking' wrote."
        )
    if Path(path).suffix.lower() != ".csv":
        raise FormatError(
            f"{where}: a ranking is a .csv file (as 'minemap priority --ranking' writes it)."
        )
    try:
        table = pd.read_csv(path, dtype={HAZARD_ID: str, THREAT_LEVEL: str}, encoding="utf-8")
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise FormatError(
            f"{where}: cannot be read as CSV ({helpers.one_line(str(exc))})."
        ) from None
    missing = [c for c in _RANKING_COLUMNS if c not in table.columns]
    if missing:
        raise SchemaError(
            f"{where}: no column {', '.join(map(repr, missing))}; give the ranking that "
            "'minemap priority --ranking' wrote."
        )
    remaining = pd.to_numeric(table[REMAINING_HA], errors="coerce")
    for column in ("rank", REMAINING_HA):
        values = pd.to_numeric(table[column], errors="coerce")
        missing_ok = (remaining == 0) if column == "rank" else False  # released: no rank
        bad = table.loc[(values.isna() & ~missing_ok) | (values < 0), HAZARD_ID]
        if len(bad):
            raise SchemaError(
                f"{where}: {column} is not a number of 0 or more for hazard "
                f"{bad.iloc[0]!r}; give the ranking as minemap wrote it."
            )
        table[column] = values
    ids = hazards[HAZARD_ID].astype(str)
    ranked_ids = table[HAZARD_ID]
    for extra, other, side in ((ranked_ids, ids, "in HAZARDS"), (ids, ranked_ids, "ranked")):
        unknown = sorted(set(extra) - set(other))
        if unknown:
            raise SchemaError(
                f"{where}: hazard {unknown[0]!r} is not {side} ({len(unknown)} such); rank "
                "the same hazards you plan (minemap priority HAZARDS --ranking ...)."
            )
    if table[HAZARD_ID].duplicated().any():
        raise SchemaError(
            f"{where}: hazard {table[HAZARD_ID][table[HAZARD_ID].duplicated()].iloc[0]!r} "
            "is ranked twice; give the ranking as minemap wrote it."
        )
    # the hazards' own geometry, so that the release mix and the historic rate are learnt
    # from the releases as the summary counts them; wholly released hazards carry no rank
    geometry = hazards.set_index(ids).geometry
    geometry = geometry[~geometry.index.duplicated()]
    ranked = gpd.GeoDataFrame(
        table, geometry=geometry.reindex(table[HAZARD_ID]).to_numpy(), crs=hazards.crs
    )
    return ranked.sort_values("rank", kind="stable", na_position="last").reset_index(drop=True)


def _historic_only(
    args: argparse.Namespace,
    hazards: pd.DataFrame,
    releases: pd.DataFrame | None,
    start: dt.date,
    fmt: str,
) -> tuple[dict[str, Any], str, pd.DataFrame]:
    if releases is None:
        raise SchemaError(
            "give --capacity (a file from 'minemap capacity-template') or --released: "
            "without either there is nothing to forecast from."
        )
    rate = historic_rate(releases, hazards, window_years=args.window_years, as_of=args.as_of)
    finish = rate.completion_date(start)
    summary: dict[str, Any] = {
        "start": start,
        "completion_date": None,
        "remaining_ha": rate.remaining_ha,
        "historic_rate_ha_per_year": rate.rate_ha_per_year,
        "completion_date_at_historic_rate": finish,
        "completion_by_threat_level": {},
        "completion_by_category": {},
    }
    doc = {
        "summary": json_ready(summary),
        "assumptions": json_ready(
            {"start": start, "as_of": args.as_of, "historic_rate": rate.to_dict()}
        ),
    }
    table = pd.DataFrame([rate.to_dict()])
    if fmt == "csv":
        return doc, helpers.csv_text(pd.DataFrame([_flat(doc["summary"])])), table
    text = (
        f"Forecast at the historic rate (no --capacity): {rate.rate_ha_per_year:,.2f} ha a "
        f"year over {_years(rate)}; {rate.remaining_ha:,.2f} ha remain; done "
        f"{finish.isoformat() if finish else 'never at this rate'} from {start.isoformat()}."
    )
    return doc, text, table


def _years(rate: Any) -> str:
    years = list(getattr(rate, "years", []) or [])
    return ", ".join(str(y) for y in years) if years else "the records' span"


def _flat(summary: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in summary.items() if not isinstance(v, dict | list)}


def _report(plans: dict[str, Plan], table: pd.DataFrame, fmt: str) -> tuple[dict[str, Any], str]:
    summaries = {}
    for name, plan in plans.items():
        summary = plan.summary_json()
        summary.setdefault("completion_by_category", {})
        summaries[name] = summary
    if len(plans) == 1:
        (plan,) = plans.values()
        (summary,) = summaries.values()
        doc: dict[str, Any] = {
            "summary": summary,
            "assumptions": json_ready(plan.assumptions),
            "schedule": helpers.records(plan.schedule),
        }
        if fmt == "csv":
            return doc, helpers.csv_text(plan.schedule)
        return doc, _plan_text(summary)
    doc = {
        "scenarios": helpers.records(table),
        "plans": {
            name: {"summary": summaries[name], "assumptions": json_ready(plan.assumptions)}
            for name, plan in plans.items()
        },
    }
    if fmt == "csv":
        return doc, helpers.csv_text(table)
    shown = table.copy()
    for column, digits in (("years", 2), ("total_asset_days", 0)):
        if column in shown.columns:
            shown[column] = shown[column].round(digits)
    return doc, "Clearance scenarios\n" + helpers.format_table(shown)


def _plan_text(summary: dict[str, Any]) -> str:
    lines = [
        "Clearance plan (hectares; dates are when the last hazard of each is done)",
        f"start                  {summary['start']}",
        f"remaining              {summary['remaining_ha']:,.2f} ha",
        f"completion             {summary['completion_date']}",
    ]
    if "p50" in summary:
        lines.append(
            f"  P10 / P50 / P90      {summary['p10']} / {summary['p50']} / {summary['p90']}"
            f" ({summary.get('draws')} draws, seed {summary.get('seed')})"
        )
    for level, day in summary.get("completion_by_threat_level", {}).items():
        lines.append(f"  {helpers.terminal_text(level):<20} {day}")
    for category, day in summary.get("completion_by_category", {}).items():
        lines.append(f"  {helpers.terminal_text(category):<20} {day}")
    lines.append(f"asset-days             {summary['total_asset_days']:,.0f}")
    if summary.get("historic_rate_ha_per_year") is not None:
        lines.append(
            f"at the historic rate   {summary['completion_date_at_historic_rate']} "
            f"({summary['historic_rate_ha_per_year']:,.2f} ha a year)"
        )
    return "\n".join(lines)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``plan`` to the ``minemap`` command."""
    parser = options.add_command(
        subparsers,
        "plan",
        help="when clearance will be done, with its uncertainty",
        description="Schedule the remaining hazards (in ranking order, or high, medium, low) "
        "with the capacity of --capacity (a file from 'minemap capacity-template'), split "
        "by the release mix learnt from --released; completion dates overall, per threat "
        "level and per priority category, P10/P50/P90 with --draws, and the date at the "
        "historic release rate. Without --capacity, only the historic-rate forecast.",
    )
    options.add_hazard_inputs(parser)
    options.add_released(parser)
    options.add_as_of(parser)
    group = parser.add_argument_group("planning")
    group.add_argument(
        "--capacity",
        metavar="TOML",
        help="assets, counts and productivity (see 'minemap capacity-template')",
    )
    group.add_argument(
        "--scenario",
        metavar="NAME=TOML",
        action="append",
        help="another capacity to compare (repeat for several); with --capacity, that one "
        "is named 'today'",
    )
    group.add_argument(
        "--ranking",
        dest="ranking_table",
        metavar="CSV",
        help="work in this order: the ranking CSV of 'minemap priority --ranking' "
        "(default: high, medium, low, then by hazard id)",
    )
    options.add_draws(group)
    group.add_argument(
        "--window-years",
        type=int,
        default=2,
        help="full calendar years of release records behind the historic rate",
    )
    options.add_format(parser)
    options.add_output(
        parser,
        required=False,
        what="write the schedule (.csv), the summary (.json) or the "
        "table here instead of standard output",
    )
    parser.add_argument(
        "--chart",
        metavar="FILE",
        help="also save the burn-down chart (.png, .svg or .pdf); written together with -o, "
        "or neither is",
    )
    parser.set_defaults(func=cmd_plan)
