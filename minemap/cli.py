"""The ``minemap`` command line: a thin layer over the Python API.

Every command reads its inputs, makes one call to the public API and writes the result.
Any :class:`~minemap.MinemapError` becomes one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd

from minemap import __version__
from minemap import io as _io
from minemap._errors import MinemapError
from minemap.settings import RELEASED_OUTSIDE_HA
from minemap.stats import land_release_summary, progress_over_time


def _add_input_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("hazards", help="hazard areas (GeoPackage, GeoJSON, Shapefile, "
                        "FlatGeobuf, GeoParquet or CSV with WKT)")
    parser.add_argument("--layer", help="layer of HAZARDS (default: a layer named 'hazards')")
    parser.add_argument("--released-layer", metavar="NAME",
                        help="layer of the releases file (default: a layer named 'releases')")
    parser.add_argument("--crs", help="CRS of layers that declare none, e.g. EPSG:4326")
    parser.add_argument("--threat-column", default="threat_level", metavar="NAME")
    parser.add_argument("--id-column", default="hazard_id", metavar="NAME",
                        help="hazard id column (default: hazard_id)")
    parser.add_argument("--release-id-column", default="release_id", metavar="NAME")
    parser.add_argument("--method-column", default="method", metavar="NAME")
    parser.add_argument("--date-column", default="release_date", metavar="NAME")
    parser.add_argument("--allow-area-change", action="store_true",
                        help="accept repairs that change a polygon's area by more than 1%%")


def _read_inputs(args: argparse.Namespace):
    hazards = _io.read_hazards(
        args.hazards, layer=args.layer, crs=args.crs, id_column=args.id_column,
        threat_column=args.threat_column, allow_area_change=args.allow_area_change)
    releases = None
    if args.released:
        releases = _io.read_releases(
            args.released, layer=args.released_layer, crs=args.crs,
            id_column=args.release_id_column, method_column=args.method_column,
            date_column=args.date_column, allow_area_change=args.allow_area_change)
    return hazards, releases


def _number(value: object) -> object:
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 4)
    if hasattr(value, "item"):
        return _number(value.item())
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    return value


def _records(table: pd.DataFrame) -> list[dict[str, object]]:
    return [{k: _number(v) for k, v in row.items()} for row in table.to_dict(orient="records")]


def _format_table(table: pd.DataFrame) -> str:
    shown = table.copy()
    for column in shown.columns:
        if column.endswith("_ha"):
            shown[column] = shown[column].map(lambda v: f"{v:,.2f}")
        elif column.startswith("percent_"):
            shown[column] = shown[column].map(lambda v: f"{v:.2f}")
        elif column == "period_end":
            shown[column] = pd.to_datetime(shown[column]).dt.date.astype(str)
    return shown.to_string(index=False)


def _emit(text: str, output: str | None) -> None:
    if output:
        _io.write_text(output, text if text.endswith("\n") else text + "\n")
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


def _format_for(args: argparse.Namespace) -> str:
    if args.format:
        return args.format
    if args.output:
        suffix = Path(args.output).suffix.lower()
        return {".json": "json", ".csv": "csv"}.get(suffix, "table")
    return "table"


def cmd_summary(args: argparse.Namespace, records: list[warnings.WarningMessage]) -> None:
    hazards, releases = _read_inputs(args)
    by: object = args.by
    if args.districts:
        by = _io.read_features(args.districts, kind="districts", layer=args.districts_layer,
                               crs=args.crs)
    table = land_release_summary(hazards, releases, by=by, as_of=args.as_of,
                                 district_column=args.district_column)
    outside = float(table.attrs[RELEASED_OUTSIDE_HA])
    fmt = _format_for(args)
    if fmt == "json":
        doc = {"unit": "ha", "as_of": table.attrs["as_of"], "rows": _records(table),
               RELEASED_OUTSIDE_HA: round(outside, 4), "area_frame": table.attrs["area_frame"],
               "warnings": _messages(records)}
        _emit(json.dumps(doc, indent=2, ensure_ascii=False), args.output)
    elif fmt == "csv":
        _emit(table.to_csv(index=False), args.output)
    else:
        as_of = f" as of {table.attrs['as_of']}" if table.attrs["as_of"] else ""
        text = (f"Land release summary{as_of} (hectares; true ellipsoidal area)\n"
                f"{_format_table(table)}\n"
                f"Released outside hazard areas (not counted above): {outside:,.2f} ha\n")
        _emit(text, args.output)


def cmd_progress(args: argparse.Namespace, records: list[warnings.WarningMessage]) -> None:
    hazards, releases = _read_inputs(args)
    table = progress_over_time(hazards, releases, freq=args.freq)
    if args.chart:
        from minemap.plots import plot_progress

        fig = plot_progress(table)
        _io.write_atomic(args.chart, lambda tmp: fig.savefig(tmp, dpi=150,
                                                             format=Path(args.chart).suffix[1:]
                                                             or "png"))
    fmt = _format_for(args)
    if fmt == "json":
        doc = {"unit": "ha", "freq": table.attrs["freq"], "rows": _records(table),
               "warnings": _messages(records)}
        _emit(json.dumps(doc, indent=2, ensure_ascii=False), args.output)
    elif fmt == "csv":
        out = table.copy()
        out["period_end"] = pd.to_datetime(out["period_end"]).dt.date.astype(str)
        _emit(out.to_csv(index=False), args.output)
    else:
        _emit("Cumulative land release (hectares)\n" + _format_table(table), args.output)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``minemap`` command."""
    parser = argparse.ArgumentParser(
        prog="minemap",
        description="Landmine contamination and land-release figures from your own geodata.")
    parser.add_argument("--version", action="version", version=f"minemap {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    summary = sub.add_parser("summary", help="hectares and percentages per threat level")
    _add_input_options(summary)
    summary.add_argument("--released", metavar="RELEASES", help="land-release records")
    summary.add_argument("--as-of", metavar="YYYY-MM-DD",
                         help="count only releases dated on or before this date")
    summary.add_argument("--by", metavar="COLUMN", help="group by a hazard column, e.g. district")
    summary.add_argument("--districts", metavar="FILE",
                         help="district polygons: split hazard area between them by geometry")
    summary.add_argument("--districts-layer", metavar="NAME")
    summary.add_argument("--district-column", metavar="NAME",
                         help="name column of --districts (default: district)")
    summary.add_argument("--format", choices=("table", "json", "csv"),
                         help="output format (default: from -o's extension, else table)")
    summary.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    summary.set_defaults(func=cmd_summary)

    progress = sub.add_parser("progress", help="cumulative land release per period")
    _add_input_options(progress)
    progress.add_argument("--released", metavar="RELEASES", required=True)
    progress.add_argument("--freq", default="Q", help="period: M, Q or Y (default Q)")
    progress.add_argument("--format", choices=("table", "json", "csv"))
    progress.add_argument("-o", "--output", metavar="FILE")
    progress.add_argument("--chart", metavar="PNG", help="also save a chart (PNG, SVG or PDF)")
    progress.set_defaults(func=cmd_progress)

    for register in _extra_commands():
        register(sub)
    return parser


def _extra_commands() -> list[Callable[[argparse._SubParsersAction], None]]:
    """``register(subparsers)`` of the commands that live in their own modules.

    Imported here, not at the top: those modules import this one for its shared options.
    """
    from minemap import cli_map, cli_priority

    return [cli_map.register, cli_priority.register]


def _one_line(message: str) -> str:
    return " ".join(str(message).split())


def run(argv: Sequence[str] | None) -> int:
    """Run the CLI with ``argv``; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always")
        try:
            args.func(args, records)
        except MinemapError as exc:
            _print_warnings(records)
            print(f"minemap: error: {_one_line(str(exc))}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print("minemap: interrupted", file=sys.stderr)
            return 130
    _print_warnings(records)
    return 0


def _messages(records: list[warnings.WarningMessage]) -> list[str]:
    """The distinct warning messages recorded so far, each on one line."""
    seen: list[str] = []
    for record in records:
        if issubclass(record.category, (DeprecationWarning, PendingDeprecationWarning)):
            continue
        message = _one_line(str(record.message))
        if message not in seen:
            seen.append(message)
    return seen


def _print_warnings(records: list[warnings.WarningMessage]) -> None:
    for message in _messages(records):
        print(f"minemap: warning: {message}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point."""
    sys.exit(run(argv))


if __name__ == "__main__":
    main()
