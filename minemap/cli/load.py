"""``minemap load``: the layers of a file loaded into a PostGIS database as tables.

One :func:`minemap.io.read_layer` per layer (as stored: nothing validated or repaired), then
one :func:`minemap.io.postgis_load.write_tables`: every table is written or none is.
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

from minemap import io as _io
from minemap._errors import SchemaError, cli_spelling
from minemap.cli import helpers, options
from minemap.io.postgis import display_url, is_database_url
from minemap.io.postgis_load import table_for, write_tables
from minemap.io.results import split_schema
from minemap.project import file_sha256


def cmd_load(args: argparse.Namespace, records: list[warnings.WarningMessage]) -> None:
    """Read the chosen layers of FILE as they are and write them as tables."""
    if not is_database_url(args.to):
        raise SchemaError(
            "--to: give the database to load into, postgresql://USER@HOST:PORT/DBNAME "
            "(?schema=NAME for a schema other than public)."
        )
    url, schema = split_schema(args.to)
    path = Path(args.file)
    with helpers.naming("FILE", args.file):
        chosen = args.layer or _io.list_layers(path) or [path.stem]
        layers = {}
        for layer in chosen:
            with cli_spelling(layer="--layer"):
                frame, _, _ = _io.read_layer(
                    path,
                    layer=layer if _io.list_layers(path) else None,
                    crs=args.crs,
                    encoding=args.encoding,
                )
            layers[layer] = frame
        digest = file_sha256(path)
    sources = {
        table_for(layer): {"file": path.name, "layer": layer, "sha256": digest} for layer in layers
    }
    written = write_tables(layers, url, schema=schema, replace=args.replace, sources=sources)
    lines = [f"Loaded into {display_url(url)} schema {schema!r}:"]
    lines += [f"  {name}: {rows:,} rows" for name, rows in written.items()]
    helpers.emit("\n".join(lines) + "\n", None)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``load`` to the ``minemap`` command."""
    parser = options.add_command(
        subparsers,
        "load",
        help="load the layers of a file into a PostGIS database as tables",
        description="Write the layers of FILE (every layer of a GeoPackage, or those given "
        "with --layer) to tables of a PostGIS schema, as they are (nothing is validated or "
        "repaired: the commands do that when they read the tables), in one transaction. "
        "Each table is named after its layer (lower case), gets a primary key 'fid' in the "
        "layer's row order, a spatial index and a comment naming the file and its SHA-256.",
    )
    parser.add_argument("file", metavar="FILE", help=f"the layers: {options.INPUT_FORMATS}")
    parser.add_argument(
        "--to",
        required=True,
        metavar="URL",
        help="postgresql://USER@HOST:PORT/DBNAME (?schema=NAME for another schema than "
        "public); keep the password in PGPASSWORD or ~/.pgpass",
    )
    parser.add_argument(
        "--layer",
        action="append",
        metavar="NAME",
        help="a layer to load (repeat for several; default: every layer)",
    )
    parser.add_argument("--crs", metavar="CRS", help="CRS of a file that declares none")
    parser.add_argument(
        "--encoding", metavar="NAME", help="text encoding of a legacy Shapefile, GeoJSON or CSV"
    )
    parser.add_argument(
        "--replace", action="store_true", help="replace tables of the same names (default: refuse)"
    )
    parser.set_defaults(func=cmd_load)
