"""``minemap summary``: hectares and percentages per threat level (and district or period).

One call to :func:`minemap.land_release_summary`.
"""

from __future__ import annotations

import argparse
import warnings

from minemap._errors import DataWarning
from minemap.cli import engine, helpers, options
from minemap.settings import RELEASED_OUTSIDE_HA
from minemap.stats import land_release_summary


def cmd_summary(args: argparse.Namespace, records: list[warnings.WarningMessage]) -> None:
    """Read the layers, compute the summary, write it as a table, JSON or CSV."""
    engine.check(args)
    helpers.plan_outputs(args, [("-o", args.output, helpers.TEXT_SUFFIXES)])
    hazards, releases = helpers.read_inputs(args)
    if args.as_of and releases is None:
        warnings.warn(
            "--as-of has no effect without --released (no releases to date).",
            DataWarning,
            stacklevel=2,
        )
    by: object = args.by
    if args.districts:
        # from a database, only the districts that meet the hazards' extent are read
        by = helpers.read_feature_option(args, "districts", near=hazards)
    with engine.run_options(args) as run:
        table = land_release_summary(
            hazards,
            releases,
            by=by,
            as_of=args.as_of,
            district_column=args.district_column,
            **run,
        )
    outside = float(table.attrs[RELEASED_OUTSIDE_HA])
    as_of = table.attrs["as_of"]
    fmt = helpers.format_for(args)
    if fmt == "json":
        doc = {
            "unit": "ha",
            "as_of": as_of,
            "edges": args.edges,
            "rows": helpers.records(table),
            RELEASED_OUTSIDE_HA: helpers.number(outside),
            "area_frame": table.attrs["area_frame"],
            "warnings": helpers.messages(records),
        }
        text = helpers.dump_json(doc)
    elif fmt == "csv":
        text = helpers.csv_text(table, as_of=as_of or "")
    else:
        when = f" as of {as_of}" if as_of else ""
        edges = "" if args.edges == "planar" else "; geodesic edges"
        text = (
            f"Land release summary{when} (hectares; true ellipsoidal area{edges})\n"
            f"{helpers.format_table(table)}\n"
        )
        if releases is not None:  # without releases there is nothing to be outside
            text += f"Released outside hazard areas (not counted above): {outside + 0.0:,.2f} ha\n"

    helpers.emit(text, args.output)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``summary`` to the ``minemap`` command."""
    parser = options.add_command(
        subparsers,
        "summary",
        help="hectares and percentages per threat level",
        description="Hazard, released (cleared, reduced, cancelled) and remaining hectares "
        "and percentages per threat level, optionally per district.",
    )
    options.add_hazard_inputs(parser)
    options.add_released(parser)
    options.add_as_of(parser)
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
    options.add_format(parser)
    options.add_output(parser, required=False)
    engine.add_engine(parser)
    parser.set_defaults(func=cmd_summary)
