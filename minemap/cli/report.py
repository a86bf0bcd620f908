"""``minemap report``: one self-contained HTML report (and an A4 PDF) of a programme.

One call to :func:`minemap.report.build_report` on the layers read as every other command
reads them; the HTML and the PDF are written together or not at all.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import warnings
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd

from minemap._errors import InputFileError, SchemaError, cli_spelling
from minemap.cli import helpers, options
from minemap.io import OutputSet, is_partitioned
from minemap.io.postgis import PostGIS
from minemap.io.readers import layer_of
from minemap.priority import DEFAULT_DISTANCES_M
from minemap.project import Project, Source, describe_source
from minemap.report import build_report

#: Feature layers the report reads, with what ``--help`` calls them.
_LAYERS = (
    ("roads", "road lines, for priorities and the ranking"),
    ("infrastructure", "infrastructure (points, lines, polygons)"),
    ("residential", "residential areas (polygons or points)"),
    ("districts", "district boundaries: figures per district"),
)

#: Field-evidence layers the report reads (its "Field evidence" section, the ranking's
#: incidents and finds criteria and the map's markers).
_EVIDENCE = ("incidents", "finds", "records", "settlements")


def _project(args: argparse.Namespace) -> Project:
    """The project the options describe, each layer traced to its file."""
    from minemap.planning import Capacity

    hazards, releases = helpers.read_inputs(args)
    layers = {kind: _features(args, kind, hazards) for kind, _ in _LAYERS}
    layers.update({kind: helpers.read_evidence_option(args, kind) for kind in _EVIDENCE})
    capacity = None
    if args.capacity:
        with helpers.naming("--capacity", args.capacity):
            capacity = Capacity.from_toml(args.capacity)

    def source(kind: str, frame: gpd.GeoDataFrame, path: str, layer: str | None) -> Source:
        read = (
            helpers.hazards_source(args) if kind == "hazards" else helpers.input_source(args, path)
        )
        if isinstance(read, PostGIS):  # a table (or query): named, with its content's hash
            traced = describe_source(kind, frame, None)
            digest = next(iter(traced.sha256.values()))
            # rows read near the hazards (or in the chosen area) are what the figures used:
            # the report says so rather than pass them off as the whole table
            selection = read.selection or frame.attrs.get("selection")
            label = f"{read.label}, {selection}" if selection else read.label
            return dataclasses.replace(traced, path=label, sha256={label: digest})
        return describe_source(kind, frame, Path(path), layer_of(path, layer, kind))

    sources = {"hazards": source("hazards", hazards, args.hazards, args.layer)}
    if releases is not None:
        sources["releases"] = source("releases", releases, args.released, args.released_layer)
    for kind, frame in layers.items():
        if frame is not None:
            layer = getattr(args, f"{kind}_layer", None)
            sources[kind] = source(kind, frame, getattr(args, kind), layer)
    name = args.title or helpers.hazards_name(args)
    return Project(
        hazards,
        releases,
        population=args.population,
        capacity=capacity,
        sources=sources,
        name=name,
        **layers,
    )


def _features(
    args: argparse.Namespace, kind: str, hazards: gpd.GeoDataFrame
) -> gpd.GeoDataFrame | None:
    """The ``--KIND`` layer; from a database, districts where they meet the hazards, the
    feature layers as zones within their default distance and the ranking need them
    (:func:`helpers.read_near_features`)."""
    if kind == "districts":
        return helpers.read_feature_option(args, kind, near=hazards)
    return helpers.read_near_features(args, kind, hazards, DEFAULT_DISTANCES_M[kind])


def cmd_report(args: argparse.Namespace, records: list[warnings.WarningMessage]) -> None:
    """Read the layers, build the report, write the HTML (and the PDF) together."""
    outputs_planned: list[tuple[str, str, tuple[str, ...]]] = [
        ("-o", args.output, (".html", ".htm"))
    ]
    if args.pdf:
        outputs_planned.append(("--pdf", args.pdf, (".pdf",)))
    helpers.plan_outputs(args, outputs_planned)
    if helpers.is_stdout(args.output):
        raise SchemaError("-o: give the report's file name, e.g. -o report.html.")
    if (
        helpers.database_url(args) is None
        and Path(args.hazards).is_dir()
        and not is_partitioned(Path(args.hazards))
    ):
        folder = Path(args.hazards)
        found = sorted(p.name for p in folder.glob("hazards.*")) + sorted(
            p.name for p in folder.glob("*.gpkg")
        )
        example = f" (e.g. {folder / found[0]})" if found else ""
        raise InputFileError(
            f"HAZARDS {folder}: is a folder; give its hazards file{example} and the other "
            "layers with --released, --roads, ... (in Python, minemap.open_project("
            f"{str(folder)!r}).report(...) opens a whole folder)."
        )
    if args.pdf:  # needs the 'report' extra: say so before the work
        from minemap._extras import require

        require("weasyprint", extra="report", purpose="the PDF report (--pdf)")
    if args.population is not None:
        importlib.import_module("minemap.population")
        if not Path(args.population).is_file():
            what = "is a folder" if Path(args.population).is_dir() else "no such file"
            raise InputFileError(
                f"--population {args.population}: {what}; give the population raster "
                "(a GeoTIFF of people per cell)."
            )
    if args.public_grid is not None and not args.public:
        raise SchemaError("--public-grid sets the cell size of --public; give --public too.")
    helpers.check_draws(args.draws)
    if args.draws and not args.capacity:
        raise SchemaError("--draws needs --capacity: the draws are over its productivity ranges.")
    if args.top < 1:
        raise SchemaError(f"--top {args.top}: give 1 or more rows.")
    public_grid = 1000.0 if args.public_grid is None else args.public_grid
    if public_grid <= 0:
        raise SchemaError(f"--public-grid {public_grid:g}: give a cell size in metres > 0.")
    weights = None
    if args.weights:
        from minemap.ranking import resolve_weights

        with helpers.naming("--weights", args.weights):
            weights = resolve_weights(args.weights)
    start = helpers.start_date(args.start)
    project = _project(args)
    with cli_spelling(public_grid_m="--public-grid"):
        report = build_report(
            project,
            title=args.title,
            as_of=args.as_of,
            public=args.public,
            public_grid_m=public_grid,
            weights=weights,
            start=start,
            draws=args.draws,
            seed=args.seed,
            top=args.top,
        )
    pdf = report.pdf_bytes() if args.pdf else None
    with OutputSet() as outputs:
        outputs.add_text(args.output, report.html)
        if args.pdf and pdf is not None:
            outputs.add(args.pdf, _bytes_writer(pdf))
    written = [args.output] + ([args.pdf] if args.pdf else [])
    size_kb = len(report.html.encode("utf-8")) / 1024
    kind = "public version, no hazard outline" if args.public else "self-contained, offline"
    print(
        f"Report written to {', '.join(str(helpers.terminal_text(p)) for p in written)} "
        f"({size_kb:,.0f} KB HTML, {kind})."
    )


def _bytes_writer(data: bytes) -> Callable[[Path], None]:
    def write(tmp: Path) -> None:
        tmp.write_bytes(data)

    return write


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``report`` to the ``minemap`` command."""
    parser = options.add_command(
        subparsers,
        "report",
        help="one self-contained HTML report (and PDF) of all the figures",
        description="The summary by threat level and district, the progress chart, priority "
        "hectares, the ranking's top, the plan's completion dates and burn-down chart, the "
        "map, the field evidence (with --incidents, --finds, --records, --settlements) and "
        "the assumptions with each input's SHA-256, in one HTML file that opens "
        "offline and prints on A4; --pdf writes that print as a PDF.",
    )
    options.add_hazard_inputs(parser)
    options.add_released(parser)
    options.add_as_of(parser)
    group = parser.add_argument_group("layers")
    for kind, what in _LAYERS:
        options.add_feature_layer(group, kind, what)
        if kind != "districts":
            options.add_osm_tags(group, kind)
    group.add_argument(
        "--population", metavar="RASTER", help="GeoTIFF of people per cell, for the ranking"
    )
    evidence = parser.add_argument_group(
        "field evidence",
        "layers of the 'Field evidence' section (docs/evidence.md); incidents and finds are "
        "also criteria of the ranking and markers on the map",
    )
    for kind in _EVIDENCE:
        options.add_evidence_layer(evidence, kind)
    group.add_argument(
        "--weights", metavar="TOML", help="ranking weights file (default: minemap's weights)"
    )
    plan = parser.add_argument_group("plan")
    plan.add_argument(
        "--capacity",
        metavar="TOML",
        help="clearance capacity ('minemap capacity-template' writes one); without it the "
        "report gives the historic rate only",
    )
    options.add_draws(plan)
    out = parser.add_argument_group("output")
    out.add_argument(
        "-o", "--output", metavar="FILE", required=True, help="the report, a .html file"
    )
    out.add_argument("--pdf", metavar="FILE", help="also write the A4 PDF (extra 'report')")
    out.add_argument("--title", help="title of the report (default: the hazards file's name)")
    out.add_argument(
        "--public",
        action="store_true",
        help="public version: the map shows a generalised grid, never a hazard outline",
    )
    out.add_argument(
        "--public-grid",
        type=float,
        default=None,
        metavar="M",
        help="grid cell size of --public, metres (default: 1000)",
    )
    out.add_argument("--top", type=int, default=15, help="rows of the ranking shown")
    parser.set_defaults(func=cmd_report)
