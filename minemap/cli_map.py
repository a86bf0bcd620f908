"""``minemap map``: write an interactive HTML map (one call to :func:`minemap.maps.hazard_map`).

Picked up automatically by :mod:`minemap.cli` through :func:`register`.
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

from minemap import io as _io
from minemap.cli import _add_input_options, _read_inputs


def cmd_map(args: argparse.Namespace, records: list[warnings.WarningMessage]) -> None:
    """Read the layers, build the map and save it atomically."""
    from minemap.maps import hazard_map, save_map

    hazards, releases = _read_inputs(args)
    context = {}
    for kind in ("roads", "infrastructure", "residential", "districts"):
        path = getattr(args, kind)
        if path:
            context[kind] = _io.read_features(path, kind=kind,
                                              layer=getattr(args, f"{kind}_layer"),
                                              crs=args.crs)
    priority = None
    if args.priority:
        priority = _io.read_features(args.priority, kind="any", layer=args.priority_layer,
                                     crs=args.crs)
        priority.attrs["minemap"] = "priority"
    tiles = args.tiles
    if tiles is None:
        tiles = None if args.offline else "OpenStreetMap"
    elif tiles.lower() == "none":
        tiles = None
    fmap = hazard_map(hazards, releases, priority=priority, title=args.title, tiles=tiles,
                      attribution=args.attribution, tolerance_m=args.tolerance,
                      feature_budget=args.feature_budget, public_grid_m=args.public_grid,
                      **context)
    save_map(fmap, args.output, offline=args.offline)
    size_kb = Path(args.output).stat().st_size / 1024
    mode = "offline, self-contained" if args.offline else "uses web tiles and scripts"
    print(f"Map written to {args.output} ({size_kb:,.0f} KB, {mode}).")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``map`` command to the ``minemap`` CLI."""
    parser = subparsers.add_parser(
        "map", help="interactive HTML map (layers, legend in hectares, offline-capable)",
        description="Write one HTML map of hazard areas by threat level, remaining hazard, "
                    "released land by method, priority zones and context layers.")
    _add_input_options(parser)
    parser.add_argument("--released", metavar="RELEASES", help="land-release records")
    parser.add_argument("--priority", metavar="ZONES", help="priority-zone polygons")
    parser.add_argument("--priority-layer", metavar="NAME")
    for kind, what in (("roads", "road lines"), ("infrastructure", "infrastructure features"),
                       ("residential", "residential areas"),
                       ("districts", "district boundaries")):
        parser.add_argument(f"--{kind}", metavar="FILE", help=what)
        parser.add_argument(f"--{kind}-layer", metavar="NAME")
    parser.add_argument("-o", "--output", metavar="HTML", required=True,
                        help="the HTML file to write")
    parser.add_argument("--offline", action="store_true",
                        help="self-contained file: Leaflet inlined, no web request, no web "
                             "tiles")
    parser.add_argument("--title", help="title shown on the legend and the browser tab")
    parser.add_argument("--tiles", metavar="URL",
                        help="basemap: a tile URL template, a local template such as "
                             "tiles/{z}/{x}/{y}.png, or 'none' (default: OpenStreetMap; none "
                             "with --offline)")
    parser.add_argument("--attribution", metavar="TEXT", help="attribution of --tiles")
    parser.add_argument("--tolerance", type=float, default=5.0, metavar="METRES",
                        help="display simplification in metres (default 5; figures are "
                             "always exact)")
    parser.add_argument("--feature-budget", type=int, default=10_000, metavar="N",
                        help="above N features a layer is drawn merged per class "
                             "(default 10000)")
    parser.add_argument("--public-grid", type=float, metavar="METRES",
                        help="public generalised map: contamination as hectares per grid "
                             "cell of this size; no exact boundary in the file")
    parser.set_defaults(func=cmd_map)
