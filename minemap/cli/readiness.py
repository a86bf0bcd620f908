"""``minemap readiness``: which settlements are ready, conditional or blocked for return, or
(``--at-risk``) the communities at risk, for planning mine risk education.

One call to :func:`minemap.readiness.settlement_readiness`, or with ``--at-risk`` to
:func:`minemap.readiness.communities_at_risk`. The table, JSON or CSV (``-o``) and the
settlements layer (``--layer-output``) are written together or not at all.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import math
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from minemap._errors import DataWarning, OutputError, SchemaError, cli_spelling
from minemap.cli import helpers, options
from minemap.io import OutputSet, add_layer, check_layer_suffix, is_stream, resolve_output
from minemap.io._guard import file_suffix
from minemap.io.staging import MULTI_LAYER_SUFFIXES
from minemap.readiness import (
    DEFAULT_RADII_M,
    NEAREST_HAZARD_M,
    REASON,
    STATUS,
    STATUSES,
    ReadinessRule,
    communities_at_risk,
    incidents_column,
    percent_released_column,
    remaining_ha_column,
    settlement_readiness,
)
from minemap.settings import POPULATION, SETTLEMENT_ID

#: Layer names of ``--layer-output`` in a GeoPackage.
READINESS_LAYER = "settlement_readiness"
AT_RISK_LAYER = "communities_at_risk"

#: Statuses, worst first: the order of the tables.
WORST_FIRST: tuple[str, ...] = STATUSES[::-1]

#: Options of return readiness alone, and of --at-risk alone (their defaults are None, so
#: that a given one can be told from one left out).
_READINESS_ONLY = ("radii", "blocked_within", "conditional_within", "blocking_incidents")
_AT_RISK_ONLY = ("at_risk_within", "population", "population_radius")
_INCIDENT_OPTIONS = ("incident_radius", "incident_since", "blocking_incidents")

#: How messages of the computation name the command's options.
_SPELLING = {
    "radii_m": "--radii",
    "incident_radius_m": "--incident-radius",
    "incident_since": "--incident-since",
    "incident_within_m": "--incident-radius",
    "since": "--incident-since",
    "within_m": "--at-risk-within",
    "population_radius_m": "--population-radius",
    "blocked_within_m": "--blocked-within",
    "conditional_within_m": "--conditional-within",
}

_AT_RISK_DEFAULTS = inspect.signature(communities_at_risk).parameters


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _m(value: float) -> str:
    """Metres as the rule words them: 500, 1500.5."""
    return np.format_float_positional(float(value), trim="-")


# ------------------------------------------------------------------------------------------
# option values (argparse shows an ArgumentTypeError's message as its one-line error)
# ------------------------------------------------------------------------------------------


def _metres(text: str) -> float:
    """A distance in metres, a number > 0.

    Examples
    --------
    >>> _metres("1500.5")
    1500.5
    >>> _metres("-5")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: '-5' is not a distance; give metres as a number > 0, e.g. 500
    """
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a distance; give metres as a number > 0, e.g. 500"
        )
    return value


def _radii(text: str) -> tuple[float, ...]:
    """Distances in metres separated by commas, in any order: sorted, each once.

    Examples
    --------
    >>> _radii("2000, 500,1000,500")
    (500.0, 1000.0, 2000.0)
    """
    if not text.strip():
        raise argparse.ArgumentTypeError(
            "empty; give one or more distances in metres separated by commas, e.g. 500,1000,2000"
        )
    parts = [part.strip() for part in text.split(",")]
    values = []
    for part in parts:
        try:
            values.append(_metres(part))
        except argparse.ArgumentTypeError:
            raise argparse.ArgumentTypeError(
                f"{text!r}: {part!r} is not a distance; give metres > 0 separated by "
                "commas, e.g. 500,1000,2000"
            ) from None
    return tuple(sorted(set(values)))


def _count(text: str) -> int:
    """A whole number ≥ 0.

    Examples
    --------
    >>> _count("0"), _count("12")
    (0, 12)
    """
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: give a whole number ≥ 0")
    return value


# ------------------------------------------------------------------------------------------
# checks before any work
# ------------------------------------------------------------------------------------------


def _check_options(args: argparse.Namespace) -> None:
    """Refuse options that do not go together; warn of those that do nothing."""
    only, what = (
        (_READINESS_ONLY, "return readiness") if args.at_risk else (_AT_RISK_ONLY, "--at-risk")
    )
    for name in only:
        if getattr(args, name) is not None:
            fix = "drop --at-risk" if args.at_risk else "add --at-risk"
            raise SchemaError(
                f"{_flag(name)} applies to {what} only, so it does nothing "
                f"{'with' if args.at_risk else 'without'} --at-risk; drop {_flag(name)}, "
                f"or {fix}."
            )
    if not args.incidents:
        for name in _INCIDENT_OPTIONS:
            if getattr(args, name) is not None:
                warnings.warn(
                    f"{_flag(name)} has no effect without --incidents (no incidents to count).",
                    DataWarning,
                    stacklevel=2,
                )
    if args.as_of and not (args.released or args.incidents):
        warnings.warn(
            "--as-of has no effect without --released or --incidents (nothing to date).",
            DataWarning,
            stacklevel=2,
        )


def _rule(args: argparse.Namespace) -> tuple[tuple[float, ...], ReadinessRule]:
    """The radii and the rule the options give, its distances checked against each other."""
    radii = args.radii or DEFAULT_RADII_M
    low = args.blocked_within if args.blocked_within is not None else radii[0]
    high = args.conditional_within if args.conditional_within is not None else radii[-1]
    if high < low:
        if args.blocked_within is not None and args.conditional_within is not None:
            fix = "give --conditional-within at least --blocked-within"
        elif args.blocked_within is not None:
            fix = (
                f"--conditional-within defaults to the largest of --radii ({_m(high)} m): "
                f"give --conditional-within {_m(low)} or more"
            )
        else:
            fix = (
                f"--blocked-within defaults to the smallest of --radii ({_m(low)} m): "
                f"give --blocked-within {_m(high)} or less"
            )
        raise SchemaError(
            f"--conditional-within {_m(high)} m is less than --blocked-within {_m(low)} m "
            f"(a hazard near enough to block return makes it conditional too); {fix}."
        )
    rule = ReadinessRule(
        blocked_within_m=low,
        conditional_within_m=high,
        blocking_incidents=1 if args.blocking_incidents is None else args.blocking_incidents,
    )
    return radii, rule


def _check_layer_output(args: argparse.Namespace, layer: str) -> None:
    """The settlements layer goes to a file, in a vector format that keeps its column names,
    never over a file (or GeoPackage layer) holding other data."""
    value = args.layer_output
    if value is None:
        return
    if helpers.is_stdout(value) or is_stream(value):
        raise OutputError(
            f"{value}: --layer-output is a vector layer written to a file; give "
            "e.g. --layer-output settlements.gpkg (or .geojson, .fgb, .parquet, .csv)."
        )
    path = check_layer_suffix(resolve_output(value))
    if file_suffix(path) in {".shp.zip", ".shz"}:
        raise OutputError(
            f"{value}: a Shapefile cuts column names to 10 characters, so columns such as "
            "remaining_ha_500m and remaining_ha_1000m would lose their names; write "
            f"{path.name.split('.')[0]}.gpkg (or .geojson, .fgb, .parquet)."
        )
    if not path.is_file():
        return
    # an existing file is replaced (a GeoPackage: its layer) only when minemap wrote it
    multi = path.suffix.lower() in MULTI_LAYER_SUFFIXES
    where = f"its layer {layer!r}" if multi else "it"
    try:
        if multi and layer not in {str(name) for name in pyogrio.list_layers(path)[:, 0]}:
            return
        fields = set(pyogrio.read_info(path, layer=layer if multi else None)["fields"])
    except Exception:  # noqa: BLE001 - not a layer GDAL can read: not one minemap wrote
        fields, where = set(), "it"
    if not {SETTLEMENT_ID, REASON} <= fields:
        raise OutputError(
            f"{value}: exists and {where} holds other data than settlements minemap "
            "wrote; choose another file name (or remove the file first)."
        )


# ------------------------------------------------------------------------------------------
# the command
# ------------------------------------------------------------------------------------------


def cmd_readiness(args: argparse.Namespace, records: list[warnings.WarningMessage]) -> None:
    """Check the options, read the layers, make one computation, write its outputs."""
    _check_options(args)
    layer_name = AT_RISK_LAYER if args.at_risk else READINESS_LAYER
    radii, rule = _rule(args)
    _check_layer_output(args, layer_name)
    helpers.plan_outputs(
        args,
        [("-o", args.output, helpers.TEXT_SUFFIXES), ("--layer-output", args.layer_output, None)],
    )
    if args.population is not None:  # needs the 'population' extra: say so before the work
        importlib.import_module("minemap.population")
    hazards, releases = helpers.read_inputs(args)
    settlements = helpers.read_evidence_option(args, "settlements")
    incidents = helpers.read_evidence_option(args, "incidents")
    with cli_spelling(**_SPELLING):
        if args.at_risk:
            given = {
                "within_m": args.at_risk_within,
                "population_radius_m": args.population_radius,
            }
            result = communities_at_risk(
                settlements,
                hazards,
                releases,
                incidents=incidents,
                incident_within_m=args.incident_radius,
                since=args.incident_since,
                population=args.population,
                as_of=args.as_of,
                **{k: v for k, v in given.items() if v is not None},
            )
        else:
            result = _worst_first(
                settlement_readiness(
                    settlements,
                    hazards,
                    releases,
                    radii_m=radii,
                    incidents=incidents,
                    incident_radius_m=args.incident_radius,
                    incident_since=args.incident_since,
                    rule=rule,
                    as_of=args.as_of,
                )
            )
    table = pd.DataFrame(result.drop(columns=result.geometry.name))
    fmt = helpers.format_for(args)
    if fmt == "json":
        doc = (
            _at_risk_json(result, table)
            if args.at_risk
            else _readiness_json(result, table, rule, counted=incidents is not None)
        )
        text = helpers.dump_json({**doc, "warnings": helpers.messages(records)})
    elif fmt == "csv":
        text = helpers.csv_text(table, as_of=result.attrs["as_of"] or "")
    else:
        text = (
            _at_risk_text(result, table, args.top)
            if args.at_risk
            else _readiness_text(result, table, args.top)
        )
        if args.layer_output:
            multi = file_suffix(args.layer_output) in MULTI_LAYER_SUFFIXES
            where = f" (layer {layer_name})" if multi else ""
            text += f"Settlements written to {args.layer_output}{where}.\n"
    with OutputSet() as outputs:
        if args.layer_output:
            add_layer(outputs, result, args.layer_output, layer=layer_name)
        if not helpers.is_stdout(args.output):
            helpers.emit(text, args.output, outputs)
    if helpers.is_stdout(args.output):  # printed once every file is in place
        helpers.emit(text, None)


def _incident_column(result: gpd.GeoDataFrame) -> str | None:
    radius = result.attrs.get("incident_radius_m")
    return None if radius is None else incidents_column(radius)


def _worst_first(result: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Blocked, then conditional, then ready; in each, nearest hazard first, then most
    incidents, then by settlement id."""
    counts = _incident_column(result)
    key = pd.DataFrame(
        {
            "status": result[STATUS].map({s: k for k, s in enumerate(WORST_FIRST)}).to_numpy(),
            "nearest": result[NEAREST_HAZARD_M].fillna(np.inf).to_numpy(),
            "incidents": -result[counts].to_numpy() if counts else np.zeros(len(result)),
            "id": result[SETTLEMENT_ID].astype(str).to_numpy(),
        }
    )
    order = key.sort_values(list(key.columns), kind="stable").index.to_numpy()
    out = result.iloc[order]
    out.attrs = dict(result.attrs)
    return out


def _counts(table: pd.DataFrame) -> pd.DataFrame:
    """Settlements and people per status, worst first, and in total."""
    rows = []
    for status in (*WORST_FIRST, "total"):
        part = table if status == "total" else table.loc[table[STATUS] == status]
        people = part[POPULATION]
        rows.append(
            {
                STATUS: status,
                "settlements": len(part),
                POPULATION: float(people.sum()),  # the known figures
                "settlements_without_population": int(people.isna().sum()),
            }
        )
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------------------
# JSON
# ------------------------------------------------------------------------------------------


def _readiness_json(
    result: gpd.GeoDataFrame, table: pd.DataFrame, rule: ReadinessRule, *, counted: bool
) -> dict[str, object]:
    """The document of ``--format json``; without incidents (``counted`` False), none can
    block return."""
    attrs = result.attrs
    units = {
        POPULATION: "people (the settlement layer's figure; null: unknown)",
        **{
            remaining_ha_column(r): f"true hectares of remaining hazard within {_m(r)} m "
            "(overlapping hazards once)"
            for r in attrs["radii_m"]
        },
        **{
            percent_released_column(r): f"percent of the hazard area within {_m(r)} m that "
            "is released (100 where none lies within it)"
            for r in attrs["radii_m"]
        },
        NEAREST_HAZARD_M: "geodesic metres to the nearest remaining hazard (null: none remains)",
    }
    counts = _incident_column(result)
    if counts:
        units[counts] = f"incidents within {_m(attrs['incident_radius_m'])} m"
    return {
        "command": "readiness",
        "rule": attrs["rule"],
        "blocked_within_m": rule.blocked_within_m,
        "conditional_within_m": rule.conditional_within_m,
        "blocking_incidents": rule.blocking_incidents if counted else 0,
        "radii_m": attrs["radii_m"],
        "incident_radius_m": attrs["incident_radius_m"],
        "incident_since": attrs["incident_since"],
        "as_of": attrs["as_of"],
        "units": units,
        "area_frame": attrs["area_frame"],
        "counts": helpers.records(_counts(table)),
        "rows": helpers.records(table),
    }


def _at_risk_json(result: gpd.GeoDataFrame, table: pd.DataFrame) -> dict[str, object]:
    attrs = result.attrs
    units = {
        POPULATION: "people (from population_source; null: unknown)",
        NEAREST_HAZARD_M: "geodesic metres to the nearest remaining hazard (null: none remains)",
        "remaining_ha_within": f"true hectares of remaining hazard within {_m(attrs['within_m'])}"
        " m (overlapping hazards once)",
    }
    if attrs["incident_within_m"] is not None:
        units["incidents_within"] = f"incidents within {_m(attrs['incident_within_m'])} m"
    return {
        "command": "readiness --at-risk",
        "within_m": attrs["within_m"],
        "incident_within_m": attrs["incident_within_m"],
        "since": attrs["since"],
        "as_of": attrs["as_of"],
        "units": units,
        "area_frame": attrs["area_frame"],
        "settlements_at_risk": len(table),
        POPULATION: helpers.number(float(table[POPULATION].sum())),
        "rows": helpers.records(table),
    }


# ------------------------------------------------------------------------------------------
# tables for the terminal
# ------------------------------------------------------------------------------------------


def _people(value: float) -> str:
    return "unknown" if pd.isna(value) else f"{value:,.0f}"


def _shown(table: pd.DataFrame, top: int) -> pd.DataFrame:
    """The first ``top`` rows (0: all), numbers written for reading."""
    shown = (table if top == 0 else table.head(top)).copy()
    for column in shown.columns:
        if column == POPULATION:
            shown[column] = shown[column].map(_people)
        elif column == NEAREST_HAZARD_M:
            shown[column] = shown[column].map(lambda v: "none" if pd.isna(v) else f"{v:,.0f}")
        elif column.startswith("remaining_ha"):
            shown[column] = shown[column].map(lambda v: f"{v + 0.0:,.2f}")
    return shown


def _how_many(shown: int, total: int, what: str) -> str:
    if shown == total:
        return f"all {total} {what}"
    return f"{shown} of {total} {what} (--top N shows more; CSV and JSON hold all)"


def _readiness_text(result: gpd.GeoDataFrame, table: pd.DataFrame, top: int) -> str:
    attrs = result.attrs
    counts = _counts(table)
    unknown = int(counts["settlements_without_population"].iloc[-1])
    counts = counts.drop(columns="settlements_without_population")
    counts[POPULATION] = counts[POPULATION].map(_people)
    keep = [
        c
        for c in table.columns
        if not c.startswith("percent_released")  # in the CSV and JSON
    ]
    shown = _shown(table[keep], top)
    when = f" as of {attrs['as_of']}" if attrs["as_of"] else ""
    note = (
        f"({unknown} settlement{'s have' if unknown != 1 else ' has'} no population figure; "
        "not counted above.)\n"
        if unknown
        else ""
    )
    radii = ", ".join(_m(r) for r in attrs["radii_m"])
    return (
        f"Return readiness of {len(table)} settlements{when}\n"
        f"Rule: {attrs['rule']}\n\n"
        f"{helpers.format_table(counts)}\n{note}\n"
        f"Settlements, blocked first, then conditional, then ready; nearest hazard first: "
        f"{_how_many(len(shown), len(table), 'settlements')}\n"
        f"{helpers.format_table(shown)}\n\n"
        f"remaining_ha_*: true hectares of remaining hazard within {radii} m (overlapping "
        f"hazards once); nearest_hazard_m: geodesic metres. Area frame: {attrs['area_frame']}.\n"
    )


def _at_risk_text(result: gpd.GeoDataFrame, table: pd.DataFrame, top: int) -> str:
    attrs = result.attrs
    shown = _shown(table, top)
    when = f" as of {attrs['as_of']}" if attrs["as_of"] else ""
    near = f"remaining hazard within {_m(attrs['within_m'])} m"
    if attrs["incident_within_m"] is not None:
        since = f" since {attrs['since']}" if attrs["since"] else ""
        near += f" or an incident within {_m(attrs['incident_within_m'])} m{since}"
    people = float(table[POPULATION].sum())
    return (
        f"Communities at risk{when}, for planning mine risk education: settlements with "
        f"{near}, most people first\n"
        f"{len(table)} settlements at risk, {people:,.0f} people (known figures)\n\n"
        f"{_how_many(len(shown), len(table), 'communities')}\n"
        f"{helpers.format_table(shown)}\n\n"
        f"remaining_ha_within: true hectares of remaining hazard (overlapping hazards once); "
        f"nearest_hazard_m: geodesic metres. Area frame: {attrs['area_frame']}.\n"
    )


# ------------------------------------------------------------------------------------------
# the parser
# ------------------------------------------------------------------------------------------


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``readiness`` to the ``minemap`` command."""
    parser = options.add_command(
        subparsers,
        "readiness",
        help="which settlements are ready, conditional or blocked for return; "
        "--at-risk: communities at risk",
        description="Return readiness of each settlement: remaining hazard (true hectares) "
        "within --radii of it, the share of the hazard area there released, the geodesic "
        "distance to the nearest remaining hazard and the incidents nearby, and a status "
        "by a rule you can change: blocked (remaining hazard within --blocked-within, or "
        "--blocking-incidents incidents within --incident-radius), else conditional "
        "(remaining hazard within --conditional-within), else ready. Prints the settlements "
        "and people per status, then the settlements blocked first. With --at-risk, "
        "instead: the communities at risk, for planning mine risk education: every "
        "settlement with remaining hazard within --at-risk-within or an incident within "
        "--incident-radius, most people first (people living there now, whatever their "
        "return status).",
    )
    options.add_hazard_inputs(parser)
    options.add_released(parser)
    options.add_as_of(parser)
    evidence = parser.add_argument_group("field evidence")
    options.add_evidence_layer(
        evidence,
        "settlements",
        "settlements, required (points or polygons: name, population)",
        required=True,
    )
    options.add_evidence_layer(evidence, "incidents")
    evidence.add_argument(
        "--incident-radius",
        type=_metres,
        metavar="M",
        help="count --incidents within this many metres of a settlement (default: "
        "--blocked-within; with --at-risk, --at-risk-within)",
    )
    evidence.add_argument(
        "--incident-since",
        metavar="YYYY-MM-DD",
        help="count only incidents on or after this day, e.g. the last survey's (default: all)",
    )
    rule = parser.add_argument_group("return readiness")
    rule.add_argument(
        "--radii",
        type=_radii,
        metavar="M,M,...",
        help="distances from each settlement to measure remaining hazard within, in "
        f"metres, any order (default: {','.join(_m(r) for r in DEFAULT_RADII_M)})",
    )
    rule.add_argument(
        "--blocked-within",
        type=_metres,
        metavar="M",
        help="remaining hazard this near blocks return (default: the smallest radius)",
    )
    rule.add_argument(
        "--conditional-within",
        type=_metres,
        metavar="M",
        help="remaining hazard this near makes return conditional (default: the largest radius)",
    )
    rule.add_argument(
        "--blocking-incidents",
        type=_count,
        metavar="N",
        help="this many incidents within --incident-radius block return; 0: incidents "
        "never do (default: 1)",
    )
    risk = parser.add_argument_group("communities at risk")
    risk.add_argument(
        "--at-risk",
        action="store_true",
        help="list the communities at risk, most people first, for planning mine risk "
        "education, instead of return readiness",
    )
    risk.add_argument(
        "--at-risk-within",
        type=_metres,
        metavar="M",
        help="a settlement with remaining hazard this near is at risk (default: "
        f"{_m(_AT_RISK_DEFAULTS['within_m'].default)})",
    )
    risk.add_argument(
        "--population",
        metavar="RASTER",
        help="GeoTIFF of people per cell (with nodata): count the people within "
        "--population-radius of each settlement instead of its population figure "
        "(default: the settlements' population column)",
    )
    risk.add_argument(
        "--population-radius",
        type=_metres,
        metavar="M",
        help="count people in --population within this many metres (default: "
        f"{_m(_AT_RISK_DEFAULTS['population_radius_m'].default)})",
    )
    options.add_format(parser)
    options.add_output(parser, required=False)
    parser.add_argument(
        "--layer-output",
        metavar="FILE",
        help="also write the settlements with their status (with --at-risk, the "
        "communities at risk) as a vector layer: .gpkg (layer "
        f"{READINESS_LAYER} or {AT_RISK_LAYER}), .geojson, .fgb, .parquet or .csv",
    )
    parser.add_argument(
        "--top",
        type=_count,
        default=25,
        metavar="N",
        help="settlements the table prints; 0: all (CSV and JSON hold all)",
    )
    parser.set_defaults(func=cmd_readiness)
