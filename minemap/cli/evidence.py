"""``minemap evidence``: devices found per hectare released, devices left, record accuracy.

One call each to :func:`minemap.evidence.device_density`,
:func:`minemap.evidence.estimate_remaining_devices` and (with ``--records``)
:func:`minemap.evidence.record_accuracy`. The table output and the JSON document hold all
three; a CSV holds one table, chosen with ``--table``.
"""

from __future__ import annotations

import argparse
import inspect
import math
import textwrap
import warnings
from collections.abc import Callable

import pandas as pd

from minemap import _validate
from minemap._errors import DataWarning, SchemaError, cli_spelling
from minemap.cli import helpers, options
from minemap.evidence import (
    DENSITY_HA,
    DEVICES,
    DEVICES_ESTIMATE,
    DEVICES_HIGH,
    DEVICES_LOW,
    DEVICES_PER_HA_HIGH,
    DEVICES_PER_HA_LOW,
    FINDS,
    FOUND_TO_RECORDED,
    INTERVALS,
    NO_FIND_HA,
    PERCENT_NO_FIND,
    REASON,
    STATUS,
    STATUSES,
    TOLERANCE_M,
    RecordAccuracy,
    device_density,
    estimate_remaining_devices,
    record_accuracy,
)
from minemap.settings import (
    DEVICES_PER_HA,
    METHOD,
    RECORD_ID,
    RELEASED_HA,
    RELEASED_OUTSIDE_HA,
    REMAINING_HA,
    THREAT_LEVEL,
)

#: Tables ``--table`` can write as CSV (one CSV holds one table).
TABLES = ("density", "remaining", "records", "records-summary")

_DEFAULTS = inspect.signature(device_density).parameters
_CONFIDENCE = float(_DEFAULTS["confidence"].default)
_DRAWS = int(_DEFAULTS["draws"].default)
_SEED = int(_DEFAULTS["seed"].default)

#: Density columns, written to this many significant digits (a fixed number of decimals
#: would turn 0.00004 devices per hectare into 0).
_DENSITY_FIGURES = (DEVICES_PER_HA, DEVICES_PER_HA_LOW, DEVICES_PER_HA_HIGH)
_SIGNIFICANT = 6
#: Width the notes of the table output are wrapped to.
_WIDTH = 100

#: How messages name the options of the three functions.
_SPELLING = {
    "confidence": "--confidence",
    "interval": "--interval",
    "draws": "--draws",
    "seed": "--seed",
    "tolerance_m": "--tolerance",
    "district_column": "--district-column",
}

#: What the summary figures of record accuracy mean, where
#: :data:`minemap.evidence.DEFINITIONS` defines them for one record only, or not at all.
_SUMMARY_DEFINITIONS = {
    "percent_devices_in_records": (
        "Devices of the finds lying within the perimeter plus tolerance of at least one "
        "record, as a share of all devices found."
    ),
    FOUND_TO_RECORDED: (
        "Devices found within the confirmed records divided by the devices those records "
        "give (confirmed records with a recorded count)."
    ),
    "percent_type_agrees": (
        "Records whose recorded device type is the type found most often there (by devices), "
        "as a share of the records where both are known."
    ),
}


def _summary_definitions(accuracy: RecordAccuracy) -> dict[str, str]:
    """The meaning of each figure of ``accuracy.summary`` that needs one."""
    same = ("confirmed", "inaccurate", "unverified", "percent_confirmed")
    return {
        **{key: accuracy.definitions[key] for key in (*same, "percent_finds_in_records")},
        **_SUMMARY_DEFINITIONS,
    }


# ------------------------------------------------------------------------------------------
# numbers as text
# ------------------------------------------------------------------------------------------


def _significant(value: float) -> float | None:
    """A density for JSON and CSV: :data:`_SIGNIFICANT` significant digits, None for NaN."""
    number = float(value)
    if math.isnan(number):
        return None
    return float(f"{number:.{_SIGNIFICANT}g}") + 0.0


def _density_text(value: float) -> str:
    """Devices per hectare for the terminal: four decimals, or four significant digits for
    densities below 0.001; never in scientific notation."""
    if math.isnan(value):
        return ""
    if value == 0:
        return "0"
    digits = max(4, 3 - math.floor(math.log10(abs(value))))
    return f"{value:,.{digits}f}"


def _ha_text(value: float) -> str:
    return "" if math.isnan(value) else f"{value + 0.0:,.2f}"


def _count_text(value: float) -> str:
    return "" if math.isnan(value) else f"{value + 0.0:,.1f}"


def _percent_text(value: float) -> str:
    return "" if math.isnan(value) else f"{value + 0.0:.2f}"


def _between(low: float, high: float, fmt: Callable[[float], str]) -> str:
    """An interval ``low – high``, empty where it has no bounds."""
    if math.isnan(low) or math.isnan(high):
        return ""
    return f"{fmt(low)} – {fmt(high)}"


def _level(confidence: float) -> str:
    """0.95 as ``95%``."""
    return f"{100.0 * confidence:.10g}%"


def _wrap(text: str, indent: str = "  ") -> str:
    return textwrap.fill(text, width=_WIDTH, initial_indent=indent, subsequent_indent=indent)


def _safe(value: object) -> str:
    """A value from the data (a district name, a record id) safe for the terminal."""
    return str(helpers.terminal_text(str(value)))


# ------------------------------------------------------------------------------------------
# the three sections of the table output
# ------------------------------------------------------------------------------------------


def _groups(table: pd.DataFrame) -> list[str]:
    """The group columns (``--by``, ``--districts``) of a density or estimate table."""
    return list(table.columns[: table.columns.get_loc(THREAT_LEVEL)])


def _draws(args: argparse.Namespace) -> int:
    """Bootstrap draws: --draws with --interval bootstrap, else the default."""
    return _DRAWS if args.draws is None or args.interval != "bootstrap" else int(args.draws)


def _seed(args: argparse.Namespace) -> int:
    """Bootstrap seed: --seed with --interval bootstrap, else the default."""
    return _SEED if args.seed is None or args.interval != "bootstrap" else int(args.seed)


def _interval_words(args: argparse.Namespace, confidence: float) -> str:
    if args.interval == "poisson":
        return (
            f"{_level(confidence)} exact (Garwood) Poisson interval of the device count; it "
            "assumes devices lie independently of each other, so mines laid in rows or "
            "clusters make the true interval wider (--interval bootstrap keeps each release "
            "record's devices together)."
        )
    return (
        f"{_level(confidence)} percentile bootstrap interval over release records "
        f"({_draws(args):,} draws, seed {_seed(args)}): "
        "each record's land of one threat level is resampled with its devices, so clusters "
        "stay together; with few records it is too narrow (0 – 0 where nothing was found), "
        "so read it beside the Poisson interval."
    )


def _density_section(density: pd.DataFrame, args: argparse.Namespace) -> str:
    attrs = density.attrs
    confidence = float(attrs["confidence"])
    groups = _groups(density)
    shown = density[[*groups, THREAT_LEVEL, METHOD]].copy()
    shown["released ha"] = density[RELEASED_HA].map(_ha_text)
    shown["devices"] = density[DEVICES].map(lambda v: f"{v:,}")
    shown["finds"] = density[FINDS].map(lambda v: f"{v:,}")
    shown["devices per ha"] = density[DEVICES_PER_HA].map(_density_text)
    shown[f"{_level(confidence)} interval"] = [
        _between(lo, hi, _density_text)
        for lo, hi in zip(density[DEVICES_PER_HA_LOW], density[DEVICES_PER_HA_HIGH], strict=True)
    ]
    shown["no-find ha"] = density[NO_FIND_HA].map(_ha_text)
    shown["no-find %"] = density[PERCENT_NO_FIND].map(_percent_text)
    when = f" as of {attrs['as_of']}" if attrs.get("as_of") else ""
    lines = [
        f"Device density on released land{when} (devices found per hectare released; true "
        "ellipsoidal hectares, each place once under its highest threat level and strongest "
        "method)",
        _wrap(_interval_words(args, confidence)),
        helpers.format_table(shown),
        "",
        "Cleared land where nothing was found (no-find: a release record's land in one threat "
        "level holding no find):",
    ]
    cleared = density[density[METHOD] == "cleared"]
    keys = [tuple(row) for row in cleared[groups].drop_duplicates().to_numpy()] if groups else [()]
    for key in keys:
        part = cleared
        for column, value in zip(groups, key, strict=True):
            part = part[part[column] == value]
        shares = ", ".join(
            f"{row[THREAT_LEVEL]} "
            + (
                "no cleared land"
                if row[RELEASED_HA] == 0
                else f"{row[PERCENT_NO_FIND] + 0.0:.2f}% of {row[RELEASED_HA] + 0.0:,.2f} ha"
            )
            for _, row in part.iterrows()
        )
        label = " / ".join(_safe(v) for v in key)
        lines.append(_wrap(f"{label}: {shares}" if label else shares))
    grand = density.iloc[-1]  # the total of every group, level and method
    lines += [
        "",
        f"Finds: {attrs['finds_total']:,} finds ({attrs['devices_total']:,} devices)"
        + (
            f", after leaving out {attrs['finds_after_as_of']:,} dated after {attrs['as_of']}"
            if attrs.get("finds_after_as_of")
            else ""
        )
        + ":",
        f"  on released land (in the densities): {int(grand[FINDS]):,} finds "
        f"({int(grand[DEVICES]):,} devices)",
        f"  in hazard land not (yet) released (in no density): {attrs['finds_in_unreleased']:,} "
        f"finds ({attrs['devices_in_unreleased']:,} devices)",
        f"  outside every hazard area (in no density; check their coordinates): "
        f"{attrs['finds_outside']:,} finds ({attrs['devices_outside']:,} devices)",
        f"Released outside hazard areas (not counted above): "
        f"{float(attrs[RELEASED_OUTSIDE_HA]) + 0.0:,.2f} ha",
    ]
    return "\n".join(lines)


def _remaining_section(remaining: pd.DataFrame) -> str:
    attrs = remaining.attrs
    confidence = float(attrs["confidence"])
    groups = _groups(remaining)
    shown = remaining[[*groups, THREAT_LEVEL]].copy()
    shown["remaining ha"] = remaining[REMAINING_HA].map(_ha_text)
    shown["devices per ha"] = remaining[DEVICES_PER_HA].map(_density_text)
    shown["density from"] = [
        ""
        if math.isnan(devices) or not hectares > 0  # no land to take a density from
        else f"{devices:,.0f} devices in {hectares:,.2f} ha"
        for devices, hectares in zip(
            remaining["density_devices"], remaining[DENSITY_HA], strict=True
        )
    ]
    shown["expected devices"] = remaining[DEVICES_ESTIMATE].map(_count_text)
    shown[f"{_level(confidence)} interval"] = [
        _between(lo, hi, _count_text)
        for lo, hi in zip(remaining[DEVICES_LOW], remaining[DEVICES_HIGH], strict=True)
    ]
    if remaining[REASON].astype(bool).any():
        shown["reason (no estimate)"] = remaining[REASON]
    when = f" as of {attrs['as_of']}" if attrs.get("as_of") else ""
    return "\n".join(
        [
            f"Devices likely remaining in hazard land not (yet) released{when} (density: "
            f"{attrs['density']})",
            _wrap(
                f"{_level(confidence)} interval. {attrs['interval']} The estimate assumes the "
                "remaining land of a threat level holds devices as densely as the land of that "
                "level cleared so far: clearing the most contaminated land first makes it high."
            ),
            helpers.format_table(shown),
        ]
    )


def _share(percent: float, part: int, whole: int, what: str) -> str:
    """A percentage of the summary beside the counts it comes from."""
    if math.isnan(percent):
        return f"n/a (no {what})"
    return f"{percent + 0.0:.2f}% ({part:,} of {whole:,} {what})"


def _records_section(accuracy: RecordAccuracy) -> str:
    summary = accuracy.summary.to_dict(orient="records")[0]
    attrs = accuracy.summary.attrs
    terms = _summary_definitions(accuracy)
    recorded = int(summary["confirmed_recorded_devices"])
    ratio = float(summary[FOUND_TO_RECORDED])
    figures = [
        *((status, f"{int(summary[status]):,} records", status) for status in STATUSES),
        (
            "accurate records (percent_confirmed)",
            _share(
                summary["percent_confirmed"],
                int(summary["confirmed"]),
                int(summary["confirmed"]) + int(summary["inaccurate"]),
                "verifiable records",
            ),
            "percent_confirmed",
        ),
        (
            "finds in records (percent_finds_in_records)",
            _share(
                summary["percent_finds_in_records"],
                int(summary["finds_in_records"]),
                int(summary[FINDS]),
                "finds",
            ),
            "percent_finds_in_records",
        ),
        (
            "devices in records (percent_devices_in_records)",
            _share(
                summary["percent_devices_in_records"],
                int(summary["devices_in_records"]),
                int(summary[DEVICES]),
                "devices",
            ),
            "percent_devices_in_records",
        ),
        (
            "found to recorded (found_to_recorded)",
            f"n/a ({recorded:,} devices recorded in confirmed records)"
            if math.isnan(ratio)
            else f"{ratio:.2f} ({int(summary['confirmed_found_devices']):,} devices found, "
            f"{recorded:,} recorded)",
            FOUND_TO_RECORDED,
        ),
        (
            "device type agrees (percent_type_agrees)",
            _share(
                summary["percent_type_agrees"],
                int(summary["type_agreeing"]),
                int(summary["type_compared"]),
                "records compared",
            ),
            "percent_type_agrees",
        ),
    ]
    lines = [
        f"Minefield record accuracy: {int(summary['records']):,} records, tolerance "
        f"{float(attrs['tolerance_m']):g} m (true metres), judged where at least "
        f"{100.0 * float(attrs['min_released_share']):g}% of a record's perimeter plus "
        f"tolerance is released ({', '.join(attrs['methods'])})",
    ]
    for label, value, term in figures:
        lines.append(f"  {label}: {value}")
        lines.append(_wrap(terms[term], indent="      "))
    inaccurate = accuracy.records.loc[accuracy.records[STATUS] == "inaccurate", RECORD_ID]
    if len(inaccurate):
        lines.append(_wrap(f"Inaccurate records: {_safe(_validate.list_ids(inaccurate))}"))
    lines.append("  Terms:")
    for name in ("record", "tolerance_m", "released_share"):
        lines.append(_wrap(f"{name}: {accuracy.definitions[name]}", indent="      "))
    lines.append("  Every record's figures: --format csv --table records (or --format json).")
    return "\n".join(lines)


def _table_text(
    args: argparse.Namespace,
    density: pd.DataFrame,
    remaining: pd.DataFrame,
    accuracy: RecordAccuracy | None,
) -> str:
    records = (
        _records_section(accuracy)
        if accuracy is not None
        else "Minefield record accuracy: not computed (give --records FILE)."
    )
    return (
        f"{_density_section(density, args)}\n\n{_remaining_section(remaining)}\n\n{records}\n\n"
        f"CSV holds one table: --format csv --table {'|'.join(TABLES)} "
        f"(default density).\n"
    )


# ------------------------------------------------------------------------------------------
# JSON and CSV
# ------------------------------------------------------------------------------------------


def _rows(table: pd.DataFrame) -> list[dict[str, object]]:
    """Rows as JSON-ready dictionaries: densities to significant digits, NA as None."""
    rows = helpers.records(table)
    for row, source in zip(rows, table.to_dict(orient="records"), strict=True):
        for key, value in row.items():
            if key in _DENSITY_FIGURES:
                row[key] = _significant(source[key])
            elif value is pd.NA:
                row[key] = None
    return rows


def _with_densities(table: pd.DataFrame) -> pd.DataFrame:
    """A copy for CSV whose density columns keep their significant digits."""
    out = pd.DataFrame(table).copy()
    for column in _DENSITY_FIGURES:
        if column in out:
            out[column] = pd.Series(
                [_significant(v) for v in out[column]], index=out.index, dtype=object
            )
    return out


def _record_rows(accuracy: RecordAccuracy) -> pd.DataFrame:
    """The per-record table without its geometry."""
    records = accuracy.records
    return pd.DataFrame(records.drop(columns=records.geometry.name))


_COUNTS = (
    "finds_total",
    "devices_total",
    "finds_outside",
    "devices_outside",
    "finds_in_unreleased",
    "devices_in_unreleased",
    "finds_after_as_of",
)


def _json_text(
    args: argparse.Namespace,
    density: pd.DataFrame,
    remaining: pd.DataFrame,
    accuracy: RecordAccuracy | None,
    records: list[warnings.WarningMessage],
) -> str:
    attrs = density.attrs
    doc: dict[str, object] = {
        "units": {
            "area": "ha (true ellipsoidal hectares)",
            "density": "devices per ha",
            "devices": "devices (sum of device_count)",
            "distance": "m (geodesic)",
            "percent": "%",
        },
        "as_of": attrs.get("as_of"),
        "edges": attrs.get("edges"),
        "area_frame": attrs.get("area_frame"),
        "confidence": helpers.number(float(attrs["confidence"])),
        "density": {
            "interval_method": args.interval,
            "interval": attrs["interval"],
            **(
                {
                    "draws": _draws(args),
                    "seed": _seed(args),
                }
                if args.interval == "bootstrap"
                else {}
            ),
            "rows": _rows(density),
            **{key: int(attrs[key]) for key in _COUNTS},
            RELEASED_OUTSIDE_HA: helpers.number(float(attrs[RELEASED_OUTSIDE_HA])),
        },
        "remaining": {
            "density": remaining.attrs["density"],
            "interval": remaining.attrs["interval"],
            "rows": _rows(remaining),
        },
        "records": None,
        "warnings": helpers.messages(records),
    }
    if accuracy is not None:
        summary = accuracy.summary
        doc["records"] = {
            "tolerance_m": helpers.number(float(summary.attrs["tolerance_m"])),
            "min_released_share": helpers.number(float(summary.attrs["min_released_share"])),
            "methods": list(summary.attrs["methods"]),
            "summary": _rows(summary)[0],
            "rows": _rows(_record_rows(accuracy)),
            "definitions": accuracy.definitions,
            "summary_definitions": _summary_definitions(accuracy),
        }
    return helpers.dump_json(doc)


def _csv_text(
    args: argparse.Namespace,
    density: pd.DataFrame,
    remaining: pd.DataFrame,
    accuracy: RecordAccuracy | None,
) -> str:
    table = args.table or "density"
    as_of = density.attrs.get("as_of") or ""
    confidence = float(density.attrs["confidence"])
    if table == "density":
        return helpers.csv_text(
            _with_densities(density), confidence=confidence, interval=args.interval, as_of=as_of
        )
    if table == "remaining":
        return helpers.csv_text(_with_densities(remaining), confidence=confidence, as_of=as_of)
    assert accuracy is not None  # checked before any work
    tolerance = float(accuracy.summary.attrs["tolerance_m"])
    if table == "records":
        return helpers.csv_text(_record_rows(accuracy), tolerance_m=tolerance)
    return helpers.csv_text(
        accuracy.summary,
        tolerance_m=tolerance,
        min_released_share=float(accuracy.summary.attrs["min_released_share"]),
    )


# ------------------------------------------------------------------------------------------
# the command
# ------------------------------------------------------------------------------------------


def _check_options(args: argparse.Namespace, fmt: str) -> None:
    """Refuse what cannot work and warn of options that do nothing, before any work."""
    if args.by and args.districts:
        raise SchemaError(
            f"--by {args.by!r} and --districts {args.districts}: give one way of grouping, "
            "not both."
        )
    table = args.table or "density"
    if table.startswith("records") and not args.records:
        raise SchemaError(
            f"--table {table} needs --records FILE: the minefield records to check against "
            "the finds."
        )
    unused = []
    if args.table and fmt != "csv":
        unused.append(f"--table only chooses the table of CSV output; {fmt} output holds all")
    if args.interval != "bootstrap":
        unused += [
            f"{flag} only applies to --interval bootstrap"
            for flag, value in (("--draws", args.draws), ("--seed", args.seed))
            if value is not None
        ]
    if args.tolerance is not None and not args.records:
        unused.append("--tolerance only applies to --records")
    for text in unused:
        warnings.warn(f"{text}; it is ignored.", DataWarning, stacklevel=2)
    if args.as_of and args.records:
        warnings.warn(
            f"--as-of {args.as_of} applies to the densities and the estimate; record accuracy "
            "uses every release and every find.",
            DataWarning,
            stacklevel=2,
        )


def cmd_evidence(args: argparse.Namespace, records: list[warnings.WarningMessage]) -> None:
    """Read the layers, compute densities, the estimate and record accuracy, write them."""
    fmt = helpers.format_for(args)
    _check_options(args, fmt)
    helpers.plan_outputs(args, [("-o", args.output, helpers.TEXT_SUFFIXES)])
    hazards, releases = helpers.read_inputs(args)
    finds = helpers.read_evidence_option(args, "finds")
    minefield_records = helpers.read_evidence_option(args, "records")
    if releases is None or finds is None:  # pragma: no cover - both are required options
        raise SchemaError("minemap evidence needs --released RELEASES and --finds FINDS.")
    by = args.by
    if args.districts:
        by = helpers.read_feature_option(args, "districts")
    with cli_spelling(**_SPELLING):
        accuracy = None  # first: its --tolerance is checked before the longer work
        if minefield_records is not None:
            accuracy = record_accuracy(
                minefield_records,
                finds,
                releases,
                tolerance_m=TOLERANCE_M if args.tolerance is None else args.tolerance,
            )
        density = device_density(
            hazards,
            releases,
            finds,
            by=by,
            confidence=args.confidence,
            as_of=args.as_of,
            interval=args.interval,
            draws=_draws(args),
            seed=_seed(args),
            district_column=args.district_column,
        )
        remaining = estimate_remaining_devices(
            hazards,
            releases,
            finds,
            by=by,
            confidence=args.confidence,
            as_of=args.as_of,
            district_column=args.district_column,
        )
    if fmt == "json":
        text = _json_text(args, density, remaining, accuracy, records)
    elif fmt == "csv":
        text = _csv_text(args, density, remaining, accuracy)
    else:
        text = _table_text(args, density, remaining, accuracy)
    helpers.emit(text, args.output)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``evidence`` to the ``minemap`` command."""
    parser = options.add_command(
        subparsers,
        "evidence",
        help="devices found per hectare released, devices remaining, record accuracy",
        description="Devices found per hectare of released land per threat level and "
        "method (with an interval), the devices likely left in the land not yet released, "
        "and (with --records) how well handed-over minefield records matched the finds. "
        "Hectares follow the summary's rules: each place once, under its highest threat "
        "level and strongest method, only inside hazards.",
    )
    options.add_hazard_inputs(parser, table_option="--hazards-table")  # --table: the output
    options.add_released(parser, required=True)
    options.add_as_of(parser)
    evidence = parser.add_argument_group("field evidence")
    options.add_evidence_layer(
        evidence,
        "finds",
        "device finds, required (points: date, device type, count, release id)",
        required=True,
    )
    options.add_evidence_layer(evidence, "records")
    group = parser.add_argument_group("grouping")
    group.add_argument("--by", metavar="COLUMN", help="group by a hazard column, e.g. district")
    group.add_argument(
        "--districts",
        metavar="FILE",
        help="district polygons: split hazard area between them by geometry",
    )
    group.add_argument(
        "--districts-layer",
        metavar="NAME",
        help="layer of --districts (default: a layer named 'districts', or the only layer)",
    )
    group.add_argument(
        "--district-column",
        metavar="NAME",
        help="name column of --districts (default: district, or the first text column)",
    )
    figures = parser.add_argument_group("figures")
    figures.add_argument(
        "--interval",
        choices=INTERVALS,
        default="poisson",
        help="interval of a density: exact Poisson (devices independent) or a bootstrap "
        "over release records (keeps clusters together)",
    )
    figures.add_argument(
        "--confidence",
        type=float,
        default=_CONFIDENCE,
        metavar="LEVEL",
        help="confidence level of the intervals, between 0 and 1",
    )
    figures.add_argument(
        "--draws",
        type=int,
        metavar="N",
        help=f"bootstrap draws (default {_DRAWS:,})",
    )
    figures.add_argument(
        "--seed",
        type=int,
        metavar="S",
        help=f"seed of the bootstrap draws (default {_SEED}: the same interval every run)",
    )
    figures.add_argument(
        "--tolerance",
        type=float,
        metavar="M",
        help=f"true metres around each minefield record within which a find counts for it "
        f"(default {TOLERANCE_M:g})",
    )
    options.add_format(parser)
    parser.add_argument(
        "--table",
        choices=TABLES,
        help="which table CSV output holds (one CSV holds one table): densities, the "
        "remaining-devices estimate, one row per minefield record, or the record-accuracy "
        "summary (default density; table and JSON output hold all of them)",
    )
    options.add_output(parser, required=False)
    parser.set_defaults(func=cmd_evidence)
