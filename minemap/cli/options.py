"""Options that several ``minemap`` commands share, spelled and documented once.

Every command module builds its parser from these functions, so an option means the same
thing, has the same default and the same help text wherever it appears.
"""

from __future__ import annotations

import argparse

from minemap._errors import cli_spelling
from minemap._workers import resolve_workers

INPUT_FORMATS = "GeoPackage, GeoJSON, Shapefile, FlatGeobuf, GeoParquet, or CSV with a WKT column"


class HelpFormatter(argparse.HelpFormatter):
    """Help that shows each option's default, when it has a meaningful one."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        if (
            "%(default)" in text
            or "default" in text.lower()
            or default is None
            or default is False
            or default is argparse.SUPPRESS
            or isinstance(action, argparse._HelpAction | argparse._VersionAction)
        ):
            return text
        return f"{text} (default: %(default)s)"


QUIET_HELP = (
    "show no progress bars (shown on a terminal for long work); warnings, errors and "
    "results still print"
)


def add_quiet(parser: argparse.ArgumentParser, *, default: object = False) -> None:
    """-q/--quiet: no progress bars."""
    parser.add_argument("-q", "--quiet", action="store_true", default=default, help=QUIET_HELP)


def add_command(
    subparsers: argparse._SubParsersAction, name: str, *, help: str, description: str
) -> argparse.ArgumentParser:
    """Add a sub-command whose help shows defaults, and which takes -q/--quiet."""
    parser = subparsers.add_parser(
        name, help=help, description=description, formatter_class=HelpFormatter
    )
    # SUPPRESS: a command's default must not undo 'minemap -q COMMAND'
    add_quiet(parser, default=argparse.SUPPRESS)
    return parser


def add_hazard_source(
    parser: argparse.ArgumentParser, *, table_option: str = "--table"
) -> argparse._ArgumentGroup:
    """HAZARDS (a file, or a table with ``--db``: :func:`add_database`), its ``--layer`` and
    ``--crs``/``--override-crs``; returns the "reading the inputs" group for more options."""
    parser.add_argument(
        "hazards",
        metavar="HAZARDS",
        nargs="?",
        help=f"hazard areas: {INPUT_FORMATS}; with --db, a table (name or schema.name)",
    )
    add_database(parser, table_option=table_option)
    group = parser.add_argument_group("reading the inputs")
    group.add_argument(
        "--layer",
        metavar="NAME",
        help="layer of HAZARDS in a multi-layer file (default: a layer named "
        "'hazards', or the only layer)",
    )
    group.add_argument(
        "--crs",
        metavar="CRS",
        help="CRS of input layers that declare none, e.g. EPSG:4326 or "
        "EPSG:32638 (a declared CRS is kept; see --override-crs)",
    )
    group.add_argument(
        "--override-crs",
        action="store_true",
        help="use --crs even for layers that declare a CRS: for files whose "
        "declared CRS is wrong (the coordinates are not changed, only "
        "how they are read)",
    )
    return group


def add_hazard_inputs(parser: argparse.ArgumentParser, *, table_option: str = "--table") -> None:
    """HAZARDS and how to read it (layer, CRS, columns, vocabulary, repairs), and the
    database options (:func:`add_database`)."""
    group = add_hazard_source(parser, table_option=table_option)
    group.add_argument(
        "--id-column", default="hazard_id", metavar="NAME", help="hazard id column of HAZARDS"
    )
    group.add_argument(
        "--threat-column",
        default="threat_level",
        metavar="NAME",
        help="threat level column of HAZARDS",
    )
    group.add_argument(
        "--vocabulary",
        metavar="TOML",
        help="file mapping your threat levels, release methods and device types onto "
        "minemap's (tables [threat_level], [method] and [device_type], e.g. "
        "'Zone rouge' = \"high\"); the IMAS terms (CHA, SHA, clearance, "
        "technical survey, non-technical survey, APM, UXO, ...) are built in",
    )
    group.add_argument(
        "--encoding",
        metavar="NAME",
        help="text encoding of Shapefiles, GeoJSON and CSV written in a legacy "
        "encoding, e.g. latin-1, cp1252, cp1251 (default: a Shapefile's "
        ".cpg, else UTF-8 or ISO-8859-1 by content; UTF-8 for GeoJSON and "
        "CSV)",
    )
    group.add_argument(
        "--edges",
        choices=("planar", "geodesic"),
        default="planar",
        help="polygon edges are straight in the layer's own CRS (planar, as "
        "in most GIS) or great-circle arcs (geodesic, as PostGIS "
        "geography and Google Earth)",
    )
    group.add_argument(
        "--allow-area-change",
        action="store_true",
        help="accept repairs that change a polygon's area by more than 1%%",
    )


DATABASE_HELP = (
    "read the inputs from this PostGIS database, postgresql://USER@HOST:PORT/DBNAME "
    "(?schema=NAME for tables outside public): HAZARDS, --released and the other input "
    "layers then name tables (name or schema.name); a value with a folder or a file "
    "extension (roads.osm.pbf, data/roads) is still a file. Keep the password in PGPASSWORD "
    "or ~/.pgpass (it is never shown)"
)


def add_database(parser: argparse.ArgumentParser, *, table_option: str = "--table") -> None:
    """--db URL, --table NAME, --sql QUERY and --bbox X0,Y0,X1,Y1: the inputs from PostGIS.

    A command whose own --table means something else spells the hazards table otherwise
    (``table_option``, e.g. ``--hazards-table``).
    """
    group = parser.add_argument_group(
        "database inputs (PostGIS)",
        "big tables are read in chunks; layers read alongside the hazards (features, "
        "districts) are read only near them, by the table's spatial index",
    )
    group.add_argument("--db", metavar="URL", help=DATABASE_HELP)
    parser.set_defaults(db_table_option=table_option)
    group.add_argument(
        table_option,
        dest="db_table",
        metavar="NAME",
        help="with --db: the hazards table (instead of HAZARDS), name or schema.name",
    )
    group.add_argument(
        "--sql",
        metavar="QUERY",
        help="with --db: a SELECT query giving the hazards (instead of HAZARDS), run read-only",
    )
    group.add_argument(
        "--bbox",
        metavar="XMIN,YMIN,XMAX,YMAX",
        help="with --db: read only the hazards whose box meets this one (longitude and "
        "latitude, degrees), e.g. 46.5,39.5,47,40, each whole, and the releases near them",
    )
    group.add_argument(
        "--district",
        metavar="NAME",
        help="with --db and --districts: read only the hazards that meet this district (its "
        "name in the districts' name column), each whole, and the releases near them",
    )


def input_name(text: str) -> str:
    """The value of an input option (a file, or with ``--db`` a table), refused when blank:
    an empty ``--released ""`` (an unset shell variable) names nothing, and reading on
    without it would give figures without the layer.

    Examples
    --------
    >>> input_name("releases.gpkg")
    'releases.gpkg'
    >>> input_name("  ")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    argparse.ArgumentTypeError: an empty value names nothing; give the file (or, ...)
    """
    if not text.strip():
        raise argparse.ArgumentTypeError(
            "an empty value names nothing; give the file (or, with --db, the table)"
        )
    return text


def add_released(parser: argparse.ArgumentParser, *, required: bool = False) -> None:
    """--released and how to read it."""
    group = parser.add_argument_group("land release")
    group.add_argument(
        "--released",
        metavar="RELEASES",
        type=input_name,
        required=required,
        help=f"land-release records (cleared, reduced, cancelled): "
        f"{INPUT_FORMATS}" + ("" if required else " (optional)"),
    )
    group.add_argument(
        "--released-layer",
        metavar="NAME",
        help="layer of RELEASES (default: a layer named 'releases', or the only layer)",
    )
    group.add_argument(
        "--release-id-column",
        default="release_id",
        metavar="NAME",
        help="release id column of RELEASES",
    )
    group.add_argument(
        "--method-column",
        default="method",
        metavar="NAME",
        help="release method column of RELEASES",
    )
    group.add_argument(
        "--date-column",
        default="release_date",
        metavar="NAME",
        help="release date column of RELEASES (ISO dates)",
    )


def add_as_of(parser: argparse.ArgumentParser) -> None:
    """--as-of DATE."""
    parser.add_argument(
        "--as-of",
        metavar="YYYY-MM-DD",
        help="count only releases dated on or before this ISO date (a bare "
        "year YYYY means 31 December of that year; default: all)",
    )


#: What each priority category's layer holds, for its option's help.
PRIORITY_FEATURES = {
    "roads": "road lines",
    "infrastructure": "infrastructure (points, lines, polygons)",
    "residential": "residential areas (polygons or points)",
}


def add_priority_features(group: argparse._ActionsContainer) -> None:
    """--roads, --infrastructure, --residential (each with its layer, column and OSM tags)."""
    for kind in reversed(PRIORITY_FEATURES):  # residential, infrastructure, roads
        add_feature_layer(group, kind, PRIORITY_FEATURES[kind])
        add_osm_tags(group, kind)


def add_zone_options(group: argparse._ActionsContainer) -> None:
    """--distances and --order: how far each category's zone reaches, which wins overlaps."""
    group.add_argument(
        "--distances",
        metavar="CATEGORY=M,...",
        help="e.g. residential=500,roads=100 (defaults: residential 500, "
        "infrastructure 250, roads 100)",
    )
    group.add_argument(
        "--order",
        metavar="A,B,C",
        help="precedence where zones overlap (default residential,infrastructure,roads)",
    )


def category_order(text: str | None, default: tuple[str, ...]) -> tuple[str, ...]:
    """``--order``'s comma-separated categories, or ``default`` when not given.

    Examples
    --------
    >>> category_order(" residential, roads ,", ("roads",))
    ('residential', 'roads')
    """
    if not text:
        return default
    return tuple(part.strip() for part in text.split(",") if part.strip())


def add_feature_layer(parser: argparse._ActionsContainer, kind: str, what: str) -> None:
    """--KIND FILE and --KIND-layer NAME for a context or priority layer."""
    formats = (
        INPUT_FORMATS
        if kind == "districts"
        else f"{INPUT_FORMATS}, CSV with coordinate columns, or an OpenStreetMap .osm.pbf extract"
    )
    parser.add_argument(f"--{kind}", metavar="FILE", help=f"{what}: {formats}")
    parser.add_argument(
        f"--{kind}-layer",
        metavar="NAME",
        help=f"layer of --{kind} (default: a layer named '{kind}', or the only layer)",
    )
    if kind != "districts":
        parser.add_argument(
            f"--{kind}-xy",
            metavar="X,Y",
            help=f"for a CSV of points: the columns holding longitude (or x) "
            f"and latitude (or y) of --{kind} (default: detected from "
            "names such as lon/lat, longitude/latitude, x/y, "
            "easting/northing; x/y need --crs)",
        )


#: What each field-evidence layer holds, for its option's help.
EVIDENCE_LAYERS = {
    "incidents": "casualty incidents (points: date, killed, injured, device type, activity)",
    "finds": "device finds (points: date, device type, count, release id)",
    "records": "handed-over minefield records (perimeters or points, recorded devices)",
    "settlements": "settlements (points or polygons: name, population)",
}


#: The columns of each field-evidence layer that --KIND-columns can name (KEY=NAME).
EVIDENCE_COLUMNS = {
    "incidents": ("id", "date", "killed", "injured", "device", "activity"),
    "finds": ("id", "date", "device", "count", "release"),
    "records": ("id", "count", "device"),
    "settlements": ("id", "name", "population"),
}


#: An example of --KIND-columns for each layer.
_COLUMN_EXAMPLES = {
    "incidents": "date=Date,killed=Dead",
    "finds": "date=Date,count=Devices",
    "records": "count=Mines,device=Type",
    "settlements": "name=Village,population=People",
}


def add_evidence_layer(
    parser: argparse._ActionsContainer, kind: str, what: str = "", *, required: bool = False
) -> None:
    """--KIND FILE, --KIND-layer NAME, --KIND-xy X,Y and --KIND-columns KEY=NAME,... for a
    field-evidence layer."""
    parser.add_argument(
        f"--{kind}",
        metavar="FILE",
        type=input_name,
        required=required,
        help=f"{what or EVIDENCE_LAYERS[kind]}: {INPUT_FORMATS}, or CSV with coordinate columns",
    )
    parser.add_argument(
        f"--{kind}-layer",
        metavar="NAME",
        help=f"layer of --{kind} (default: a layer named '{kind}', or the only layer)",
    )
    parser.add_argument(
        f"--{kind}-xy",
        metavar="X,Y",
        help=f"for a CSV of points: the columns holding longitude (or x) and latitude (or y) "
        f"of --{kind} (default: detected from names such as lon/lat, x/y)",
    )
    keys = EVIDENCE_COLUMNS[kind]
    parser.add_argument(
        f"--{kind}-columns",
        metavar="KEY=NAME,...",
        help=f"your column names in --{kind}, KEY one of {', '.join(keys)}, e.g. "
        f"{_COLUMN_EXAMPLES[kind]} (default: minemap's names, see docs/evidence.md)",
    )


_TAG_EXAMPLES = {
    "roads": "highway (every road and path) or highway=primary,highway=secondary",
    "infrastructure": "amenity=school,amenity=clinic,healthcare",
    "residential": "building,place=village",
}


def add_osm_tags(parser: argparse._ActionsContainer, kind: str) -> None:
    """--KIND-tags: which OpenStreetMap (or attribute) tags select features of KIND."""
    parser.add_argument(
        f"--{kind}-tags",
        metavar="KEY[=VALUE],...",
        help=f"keep only --{kind} features with one of these tags or "
        "columns: KEY alone means any value but 'no', KEY=VALUE one "
        f"value, e.g. {_TAG_EXAMPLES.get(kind, 'name')} "
        "(.osm.pbf default: minemap's list for "
        f"{kind}, minemap.io.osm.DEFAULT_TAGS, listed in "
        "docs/priority.md; other files: all features)",
    )


def add_output(
    parser: argparse.ArgumentParser,
    *,
    required: bool,
    metavar: str = "FILE",
    what: str = "write here instead of standard output",
) -> None:
    """-o/--output."""
    parser.add_argument(
        "-o",
        "--output",
        metavar=metavar,
        required=required,
        help=what + ("" if required else " ('-' for standard output)"),
    )


def add_format(
    parser: argparse.ArgumentParser, choices: tuple[str, ...] = ("table", "json", "csv")
) -> None:
    """--format for tabular output."""
    parser.add_argument(
        "--format",
        choices=choices,
        help="output format (default: from the extension of -o, else table)",
    )


def add_draws(group: argparse._ActionsContainer) -> None:
    """--start, --draws and --seed of a plan."""
    group.add_argument("--start", metavar="YYYY-MM-DD", help="first day of work (default: today)")
    group.add_argument(
        "--draws",
        type=int,
        default=0,
        help="Monte Carlo draws over the capacity's productivity ranges, for P10/P50/P90 dates",
    )
    group.add_argument(
        "--seed", type=int, default=None, help="seed of the draws (default: a fresh one each run)"
    )


def _whole_number_or_text(text: str) -> int | str:
    """An integer if ``text`` spells one; else the text, for the library to refuse by name."""
    try:
        return int(text)
    except ValueError:
        return text


def add_workers(parser: argparse._ActionsContainer) -> None:
    """--workers N: how many threads the computation uses."""
    parser.add_argument(
        "--workers",
        type=_whole_number_or_text,
        metavar="N",
        help="threads to use (default: every core this process may use); the figures are "
        "the same whatever N",
    )


def workers(args: argparse.Namespace) -> int:
    """The number of threads --workers asks for, checked before any input is read.

    A bad value fails with the library's one-line message, naming --workers.
    """
    with cli_spelling(workers="--workers"):
        return resolve_workers(args.workers)
