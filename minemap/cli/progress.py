"""``minemap progress``: cumulative land release per month, quarter or year, and a chart.

One call to :func:`minemap.progress_over_time`.
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

from minemap.cli import helpers, options
from minemap.io import OutputSet
from minemap.stats import progress_over_time


def cmd_progress(args: argparse.Namespace, records: list[warnings.WarningMessage]) -> None:
    """Read the layers, compute progress, write the table (and the chart) together."""
    helpers.plan_outputs(
        args,
        [
            ("-o", args.output, helpers.TEXT_SUFFIXES),
            ("--chart", args.chart, tuple(helpers.CHART_FORMATS)),
        ],
    )
    hazards, releases = helpers.read_inputs(args)
    table = progress_over_time(hazards, releases, freq=args.freq)
    fmt = helpers.format_for(args)
    if fmt == "json":
        doc = {
            "unit": "ha",
            "freq": table.attrs["freq"],
            "edges": args.edges,
            "rows": helpers.records(table),
            "warnings": helpers.messages(records),
        }
        text = helpers.dump_json(doc)
    elif fmt == "csv":
        text = helpers.csv_text(table)
    else:
        text = "Cumulative land release (hectares)\n" + helpers.format_table(table)
    with OutputSet() as outputs:
        if args.chart:
            from minemap.plots import plot_progress

            fig = plot_progress(table)
            chart_format = helpers.CHART_FORMATS.get(Path(args.chart).suffix.lower(), "png")
            outputs.add(args.chart, lambda tmp: fig.savefig(tmp, dpi=150, format=chart_format))
        helpers.emit(text, args.output, outputs)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``progress`` to the ``minemap`` command."""
    parser = options.add_command(
        subparsers,
        "progress",
        help="cumulative land release per period",
        description="Cumulative cleared, reduced, cancelled and remaining hectares at the end "
        "of each month, quarter or year, with an optional chart.",
    )
    options.add_hazard_inputs(parser)
    options.add_released(parser, required=True)
    parser.add_argument(
        "--freq",
        default="Q",
        help="period: M (month), Q (quarter) or Y (year), W or D; a pandas "
        "offset alias such as QE-JUN (quarters of a July-June year) works "
        "too; at most 1,000 periods",
    )
    options.add_format(parser)
    options.add_output(parser, required=False)
    parser.add_argument(
        "--chart",
        metavar="FILE",
        help="also save a chart (.png, .svg or .pdf); written together with -o, or neither is",
    )
    parser.set_defaults(func=cmd_progress)
