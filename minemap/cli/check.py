"""``minemap check``: data-quality findings on hazard (and release) layers, by feature id.

One call to :func:`minemap.quality.check_layers` on the layers as they are stored (read with
:func:`minemap.io.read_layer`, which repairs nothing). Exit status 0 when nothing is found
at ``error`` severity, 1 when something is (a script or CI job can stop on it), 2 when an
input cannot be used, as for every minemap command.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from typing import NamedTuple

import geopandas as gpd

from minemap import io as _io
from minemap._errors import cli_spelling
from minemap.cli import helpers, options
from minemap.quality import (
    CHECKS,
    MAX_AREA_M2,
    MIN_AREA_M2,
    OUTSIDE_TOLERANCE_M2,
    OVERLAP_TOLERANCE_M2,
    QualityReport,
    check_layers,
)
from minemap.vocabulary import load_vocabulary

#: How messages name the options of this command.
_SPELLING = {
    "id_column": "--id-column",
    "threat_column": "--threat-column",
    "release_id_column": "--release-id-column",
    "level_map": "--vocabulary",
    "min_area_m2": "--min-area-m2",
    "max_area_m2": "--max-area-m2",
    "overlap_tolerance_m2": "--overlap-tolerance-m2",
    "outside_tolerance_m2": "--outside-tolerance-m2",
}


class _Inputs(NamedTuple):
    hazards: gpd.GeoDataFrame
    hazards_label: str
    releases: gpd.GeoDataFrame | None
    releases_label: str | None


def _read(args: argparse.Namespace) -> _Inputs:
    """HAZARDS and --released as they are stored: nothing validated, nothing repaired."""
    with cli_spelling(layer="--layer"), helpers.naming("HAZARDS", args.hazards):
        hazards, label, _ = _io.read_layer(
            helpers.hazards_source(args),
            layer=args.layer,
            crs=args.crs,
            override_crs=args.override_crs,
            default_layer="hazards",
            areas="hazard areas",
            encoding=args.encoding,
        )
    hazards.attrs["source"] = label  # named in messages of the checks
    if not args.released:
        return _Inputs(hazards, label, None, None)
    with cli_spelling(layer="--released-layer"), helpers.naming("--released", args.released):
        releases, released_label, _ = _io.read_layer(
            helpers.input_source(args, args.released, box=helpers.releases_box(args, hazards)),
            layer=args.released_layer,
            crs=args.crs,
            override_crs=args.override_crs,
            default_layer="releases",
            areas="release areas",
            encoding=args.encoding,
        )
    releases.attrs["source"] = released_label
    return _Inputs(hazards, label, releases, released_label)


def _level_map(args: argparse.Namespace) -> dict[str, str]:
    if not args.vocabulary:
        return {}
    with helpers.naming("--vocabulary", args.vocabulary):
        return load_vocabulary(args.vocabulary)[0]


def _text(report: QualityReport, inputs: _Inputs, fmt: str, records: list) -> str:
    """The findings as JSON, CSV or a table for the terminal."""
    findings = report.findings
    if fmt == "json":
        sources = {"hazards": inputs.hazards_label}
        if inputs.releases_label is not None:
            sources["releases"] = inputs.releases_label
        doc = {
            "sources": sources,
            "features": report.features,
            "errors": report.errors,
            "warnings": report.warnings,
            "counts": report.counts(),
            "severity": dict(CHECKS),
            "notes": list(report.notes),
            "findings": helpers.records(findings),
            "messages": helpers.messages(records),
        }
        return helpers.dump_json(doc)
    if fmt == "csv":
        return helpers.csv_text(findings)
    if findings.empty:
        return f"No findings: {report.summary()}."
    shown = findings.copy()
    shown["area_m2"] = [f"{v:,.2f}" if v == v else "" for v in shown["area_m2"]]
    shown["other_id"] = shown["other_id"].map(lambda v: "" if v is None else v)
    return (
        f"Data-quality findings (areas in true m²)\n{helpers.format_table(shown)}\n"
        f"{report.summary()}"
    )


def cmd_check(args: argparse.Namespace, records: list[warnings.WarningMessage]) -> None:
    """Read the layers raw, run the checks, write the findings; exit 1 on errors found."""
    helpers.check_sources(args)
    helpers.plan_outputs(args, [("-o", args.output, helpers.TEXT_SUFFIXES)])
    with cli_spelling(**_SPELLING):
        level_map = _level_map(args)
        inputs = _read(args)
        report = check_layers(
            inputs.hazards,
            inputs.releases,
            id_column=args.id_column,
            threat_column=args.threat_column,
            release_id_column=args.release_id_column,
            level_map=level_map,
            min_area_m2=args.min_area_m2,
            max_area_m2=args.max_area_m2,
            overlap_tolerance_m2=args.overlap_tolerance_m2,
            outside_tolerance_m2=args.outside_tolerance_m2,
        )
    helpers.emit(_text(report, inputs, helpers.format_for(args), records), args.output)
    for note in report.notes:
        print(f"minemap: note: {helpers.terminal_text(note)}", file=sys.stderr)
    print(f"minemap: check: {report.summary()}", file=sys.stderr)
    if report.errors:
        # the command group returns 0 after a command; findings at error severity are 1
        helpers.print_warnings(records)
        raise SystemExit(1)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``check`` to the ``minemap`` command."""
    parser = options.add_command(
        subparsers,
        "check",
        help="data-quality findings by feature id (invalid, duplicate, overlapping, ...)",
        description="List data-quality problems of a hazard layer (and a release layer) as "
        "stored, one row per finding: invalid, empty or non-polygon geometry, duplicate ids "
        "and geometries, hazards of different levels overlapping, release outside every "
        "hazard, implausible areas, unknown threat levels. Nothing is repaired. Exit status: "
        "0 when no finding is an error, 1 when one is, 2 when an input cannot be read.",
    )
    group = options.add_hazard_source(parser)
    group.add_argument(
        "--id-column",
        metavar="NAME",
        help="hazard id column (default: hazard_id if the layer has it, else features are "
        "named 'row N', 1-based file order)",
    )
    group.add_argument(
        "--threat-column",
        metavar="NAME",
        help="threat level column (default: threat_level if the layer has it, else levels "
        "and overlaps between levels are not checked)",
    )
    group.add_argument(
        "--vocabulary",
        metavar="TOML",
        help="file mapping your threat levels onto minemap's ([threat_level] table, e.g. "
        "'Zone rouge' = \"high\"); the IMAS terms (CHA, SHA, ...) are built in",
    )
    group.add_argument(
        "--encoding",
        metavar="NAME",
        help="text encoding of Shapefiles, GeoJSON and CSV written in a legacy encoding, "
        "e.g. latin-1 (default: a Shapefile's .cpg, else UTF-8)",
    )
    released = parser.add_argument_group("land release")
    released.add_argument(
        "--released",
        metavar="RELEASES",
        help=f"land-release records, to check too and against the hazards: "
        f"{options.INPUT_FORMATS} (optional)",
    )
    released.add_argument(
        "--released-layer",
        metavar="NAME",
        help="layer of RELEASES (default: a layer named 'releases', or the only layer)",
    )
    released.add_argument(
        "--release-id-column",
        metavar="NAME",
        help="release id column (default: release_id if the layer has it, else 'row N')",
    )
    limits = parser.add_argument_group("limits (true square metres)")
    limits.add_argument(
        "--min-area-m2",
        type=float,
        default=MIN_AREA_M2,
        metavar="M2",
        help="a polygon smaller than this is an implausible_area",
    )
    limits.add_argument(
        "--max-area-m2",
        type=float,
        default=MAX_AREA_M2,
        metavar="M2",
        help="a polygon larger than this is an implausible_area (default: 100000000, 100 km²)",
    )
    limits.add_argument(
        "--overlap-tolerance-m2",
        type=float,
        default=OVERLAP_TOLERANCE_M2,
        metavar="M2",
        help="hazards of different levels sharing up to this much are not reported",
    )
    limits.add_argument(
        "--outside-tolerance-m2",
        type=float,
        default=OUTSIDE_TOLERANCE_M2,
        metavar="M2",
        help="a release with up to this much outside every hazard is not reported",
    )
    options.add_format(parser)
    options.add_output(parser, required=False, what="write the findings here (.csv, .json)")
    parser.set_defaults(func=cmd_check)
