"""``minemap sample-data [FOLDER]``: write the synthetic sample scenario.

One call to :func:`minemap.sample_data`; it prints the folder and the files written.
"""

from __future__ import annotations

import argparse
import shlex
import warnings

from minemap.cli import helpers, options


def cmd_sample_data(args: argparse.Namespace, records: list[warnings.WarningMessage]) -> None:
    """Write the sample files and list them."""
    from minemap.synthetic import SAMPLE_FILES, sample_data  # needs the 'synthetic' extra

    folder = sample_data(args.folder)
    shown = helpers.terminal_text(str(folder))
    lines = [f"Synthetic sample data (not real minefields) in {shown}:"]
    lines += [f"  {shown}/{name}" for name in SAMPLE_FILES]
    gpkg = shlex.quote(f"{shown}/scenario.gpkg")
    lines.append(f"Try: minemap summary {gpkg} --released {gpkg}")
    helpers.emit("\n".join(lines), None)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``sample-data`` to the ``minemap`` command."""
    parser = options.add_command(
        subparsers,
        "sample-data",
        help="write the synthetic sample scenario",
        description="Write minemap's SYNTHETIC sample scenario (the repository's "
        "sample_data/: a GeoPackage with ten layers - hazards, releases, roads, "
        "infrastructure, residential areas, districts, incidents, device finds, minefield "
        "records and settlements - the same layers as GeoJSON files and an incidents CSV, "
        "and a population raster) into FOLDER. Nothing is overwritten. Needs the "
        "'synthetic' extra.",
    )
    parser.add_argument(
        "folder",
        metavar="FOLDER",
        nargs="?",
        default="minemap_sample_data",
        help="a new folder, or one without the sample's files (a file already there is "
        "never replaced)",
    )
    parser.set_defaults(func=cmd_sample_data)
