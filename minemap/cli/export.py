"""``minemap export``: the summary, priority zones and ranking written to a GeoPackage or a
PostGIS schema as one run, with its provenance.

One call each to :func:`minemap.land_release_summary`, :func:`minemap.priority_zones` (when a
feature layer is given) and :func:`minemap.rank_hazards`, then one to
:func:`minemap.io.results.write_results`: every table is written or none is.
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

from minemap._errors import DataWarning
from minemap.cli import engine, helpers, options
from minemap.io.postgis import connect, display_url, is_database_url
from minemap.io.results import split_schema, table_name, write_results
from minemap.priority import CATEGORIES, parse_distances, priority_zones
from minemap.ranking import rank_hazards, resolve_weights
from minemap.stats import land_release_summary


def _check_target(args: argparse.Namespace) -> str:
    """The target as messages show it, checked before any input is read."""
    with helpers.naming("--run"):
        table_name(args.run, "priority_zones")  # the longest name it gives
    if is_database_url(args.to):  # a refused login is said before the work, not after
        url, schema = split_schema(args.to)
        with connect(url, read_only=True):
            pass
        return f"{display_url(url)}?schema={schema}"
    helpers.plan_outputs(args, [("--to", args.to, (".gpkg",))])
    return str(args.to)


def cmd_export(args: argparse.Namespace, records: list[warnings.WarningMessage]) -> None:
    """Compute the results, write them as one run, print what was written."""
    engine.check(args)
    _check_target(args)
    distances = parse_distances(args.distances) if args.distances else None
    order = options.category_order(args.order, CATEGORIES)
    weights = None
    if args.weights:
        with helpers.naming("--weights", args.weights):
            weights = resolve_weights(args.weights)
    hazards, releases = helpers.read_inputs(args)
    layers = {}
    for kind in CATEGORIES:
        layer = helpers.read_feature_option(args, kind)
        if layer is not None:
            layers[kind] = layer
    if args.as_of and releases is None:
        warnings.warn(
            "--as-of has no effect without --released (no releases to date).",
            DataWarning,
            stacklevel=2,
        )
    with engine.run_options(args) as run:
        results = {
            "summary": land_release_summary(hazards, releases, as_of=args.as_of, **run),
        }
        zones = None
        if layers:
            zones = priority_zones(
                hazards, releases, distances_m=distances, order=order, as_of=args.as_of,
                **run, **layers,
            )  # fmt: skip
            results["priority_zones"] = zones
        results["ranking"] = rank_hazards(
            hazards, releases, weights=weights, distances_m=distances, order=order,
            as_of=args.as_of, zones=None if "client" in run else zones, **run, **layers,
        )  # fmt: skip
    parameters = {
        "command": "export",
        "as_of": args.as_of,
        "edges": args.edges,
        "crs": args.crs,
        "distances_m": zones.attrs["distances_m"] if zones is not None else args.distances,
        "order": list(order),
        "weights": results["ranking"].attrs["weights"],
        "feature_layers": sorted(layers),
    }
    inputs = {  # files by path (with their SHA-256), tables by name (rows, and which read)
        (str(source) if isinstance(source, Path) else option): source
        for option, source in helpers.input_sources(args, hazards).items()
    }
    written = write_results(
        results, args.to, run=args.run, parameters=parameters, inputs=inputs,
        replace=not args.keep,
    )  # fmt: skip
    lines = [
        f"Run {helpers.terminal_text(args.run)!r} written to {written.target} "
        f"({written.written_at}):"
    ]
    for result, table in written.tables.items():
        lines.append(f"  {table}: {written.rows[result]:,} rows ({result})")
    lines.append("Provenance (parameters, inputs, minemap version) in minemap_runs.")
    helpers.emit("\n".join(lines), None)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``export`` to the ``minemap`` command."""
    parser = options.add_command(
        subparsers,
        "export",
        help="write the summary, priority zones and ranking to a GeoPackage or PostGIS",
        description="Compute the land-release summary, the priority zones (with --roads, "
        "--infrastructure or --residential) and the clearance ranking, and write them as "
        "the tables RUN_summary, RUN_priority_zones and RUN_ranking of a GeoPackage or a "
        "PostGIS schema, in one transaction, with the run's parameters and the inputs' "
        "checksums in the table minemap_runs. Re-running a run replaces its tables only.",
    )
    options.add_hazard_inputs(parser)
    options.add_released(parser)
    options.add_as_of(parser)
    group = parser.add_argument_group("priority features (optional)")
    options.add_priority_features(group)
    rank = parser.add_argument_group("zones and ranking")
    options.add_zone_options(rank)
    rank.add_argument(
        "--weights",
        metavar="TOML",
        help="ranking weights file, [weights] criterion = number (default: minemap's weights)",
    )
    out = parser.add_argument_group("where the results go")
    out.add_argument(
        "--to",
        required=True,
        metavar="TARGET",
        help="a GeoPackage (results.gpkg: made if missing, its other tables kept) or a "
        "database URL (postgresql://USER@HOST:PORT/DBNAME?schema=NAME; the password is "
        "best kept in PGPASSWORD or ~/.pgpass, and is never printed)",
    )
    out.add_argument(
        "--run",
        default="minemap",
        metavar="NAME",
        help="name of the run: its tables are NAME_summary, NAME_priority_zones and "
        "NAME_ranking (lower case, other characters than letters, digits and _ made _)",
    )
    out.add_argument(
        "--keep",
        action="store_true",
        help="refuse to replace a run written before (default: replace its tables)",
    )
    engine.add_engine(parser)
    parser.set_defaults(func=cmd_export)
