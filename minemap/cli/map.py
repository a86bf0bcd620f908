"""``minemap map``: one interactive HTML map (one call to :func:`minemap.maps.hazard_map`)."""

from __future__ import annotations

import argparse
import warnings

from minemap._errors import cli_spelling
from minemap.cli import helpers, options
from minemap.io import list_layers

#: Context layers of the map, with what ``--help`` calls them.
CONTEXT_LAYERS = (
    ("roads", "road lines"),
    ("infrastructure", "infrastructure features"),
    ("residential", "residential areas"),
    ("districts", "district boundaries"),
)

#: Metres around the hazards within which context layers are read from a database (the
#: map's view of them; more than the largest default priority distance).
CONTEXT_MARGIN_M = 5_000.0


def cmd_map(args: argparse.Namespace, records: list[warnings.WarningMessage]) -> None:
    """Read the layers, build the map and save it whole or not at all."""
    from minemap.maps import hazard_map, map_html

    workers = options.workers(args)
    helpers.plan_outputs(args, [("-o", args.output, (".html", ".htm"))])
    hazards, releases = helpers.read_inputs(args)
    context = {}
    for kind, _what in CONTEXT_LAYERS:
        # from a database, only the context around the hazards is read
        layer = helpers.read_feature_option(args, kind, near=hazards, reach_m=CONTEXT_MARGIN_M)
        if layer is not None:
            context[kind] = layer
    if (
        args.priority
        and not args.priority_layer
        and helpers.database_url(args) is None
        and "priority_zones" in list_layers(args.priority)
    ):
        args.priority_layer = "priority_zones"
    priority = helpers.read_feature_option(args, "any", option="priority")
    if priority is not None:
        priority.attrs["minemap"] = "priority"
    tiles = args.tiles
    if tiles is None:
        tiles = None if args.offline else "OpenStreetMap"
    elif tiles.lower() == "none":
        tiles = None
    attribution = args.attribution
    if tiles and tiles != "OpenStreetMap" and not attribution:
        attribution = "Basemap tiles (source not given: name it with --attribution)"
    with cli_spelling(
        public_grid_m="--public-grid", tolerance_m="--tolerance", feature_budget="--feature-budget"
    ):
        fmap = hazard_map(
            hazards,
            releases,
            priority=priority,
            title=args.title,
            tiles=tiles,
            attribution=attribution,
            tolerance_m=args.tolerance,
            feature_budget=args.feature_budget,
            public_grid_m=args.public_grid,
            incidents=helpers.read_evidence_option(args, "incidents"),
            finds=helpers.read_evidence_option(args, "finds"),
            workers=workers,
            **context,
        )
    page = map_html(fmap, offline=args.offline)
    helpers.emit(page, args.output)
    if helpers.is_stdout(args.output):
        return
    size_kb = len(page.encode("utf-8")) / 1024
    mode = "offline, self-contained" if args.offline else "uses web tiles and scripts"
    print(f"Map written to {args.output} ({size_kb:,.0f} KB, {mode}).")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``map`` to the ``minemap`` command."""
    parser = options.add_command(
        subparsers,
        "map",
        help="interactive HTML map (layers, legend in hectares, offline)",
        description="Write one HTML map of hazard areas by threat level, remaining hazard, "
        "released land by method, priority zones and context layers.",
    )
    options.add_hazard_inputs(parser)
    options.add_released(parser)
    group = parser.add_argument_group("layers")
    group.add_argument(
        "--priority", metavar="ZONES", help="priority-zone polygons (the -o of 'minemap priority')"
    )
    group.add_argument(
        "--priority-layer",
        metavar="NAME",
        help="layer of --priority (default: a layer named "
        "'priority_zones', as 'minemap priority' writes, or the only "
        "layer)",
    )
    for kind, what in CONTEXT_LAYERS:
        options.add_feature_layer(group, kind, what)
        if kind != "districts":
            options.add_osm_tags(group, kind)
    evidence = parser.add_argument_group(
        "field evidence (clustered markers with a date filter; left out of --public-grid maps)"
    )
    options.add_evidence_layer(evidence, "incidents")
    options.add_evidence_layer(evidence, "finds")
    options.add_output(
        parser,
        required=True,
        metavar="HTML",
        what="the HTML file to write ('-' for standard output)",
    )
    look = parser.add_argument_group("appearance")
    look.add_argument(
        "--offline",
        action="store_true",
        help="self-contained file: Leaflet inlined, no web request, no web tiles",
    )
    look.add_argument("--title", help="title shown on the legend and the browser tab")
    look.add_argument(
        "--tiles",
        metavar="URL",
        help="basemap: a tile URL template, a local template such as "
        "tiles/{z}/{x}/{y}.png, or 'none' (default: OpenStreetMap; none "
        "with --offline)",
    )
    look.add_argument(
        "--attribution",
        metavar="TEXT",
        help="attribution (source and licence) of --tiles, shown on the map",
    )
    look.add_argument(
        "--tolerance",
        type=float,
        default=5.0,
        metavar="METRES",
        help="display simplification in metres (figures are always exact)",
    )
    look.add_argument(
        "--feature-budget",
        type=int,
        default=10_000,
        metavar="N",
        help="above N features a layer is drawn merged per class",
    )
    look.add_argument(
        "--public-grid",
        type=float,
        metavar="METRES",
        help="public generalised map: contamination as hectares per grid cell "
        "of this size; no exact boundary in the file",
    )
    options.add_workers(parser)
    parser.set_defaults(func=cmd_map)
