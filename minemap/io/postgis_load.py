"""Layers loaded into a PostGIS database as tables, so that minemap (and anyone) reads them there.

:func:`write_tables` writes GeoDataFrames (the layers of a GeoPackage, say) to tables of a
schema in one transaction: every table is created or none is, an existing table is replaced
only when asked, and each gets a primary key (``fid``, in the layer's row order, so minemap
reads the rows back in that order), a GiST index on its geometry and a comment saying where
it came from. The values are written as they are: nothing is validated or repaired (the
readers do that when the tables are read).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import pandas as pd

from minemap._errors import DatabaseError, OutputError, SchemaError
from minemap.io._results_postgis import _load_pg_table
from minemap.io._results_run import _json
from minemap.io.postgis import connect, display_url, reason
from minemap.io.results import _safe, split_schema

#: The primary key column each loaded table gets (``minemap_fid`` when a layer has an
#: ``fid`` column of its own).
KEY_COLUMN = "fid"


def table_for(layer: str) -> str:
    """The table a layer is loaded into: its name in lower case, each run of characters other
    than ``a-z``, ``0-9`` and ``_`` as one ``_`` (as :func:`minemap.io.table_name` does).

    Examples
    --------
    >>> table_for("Hazards (2024)")
    'hazards_2024'
    """
    return _safe(layer, "layer")


def write_tables(
    layers: Mapping[str, pd.DataFrame],
    target: str,
    *,
    schema: str | None = None,
    replace: bool = False,
    sources: Mapping[str, Mapping[str, object]] | None = None,
) -> dict[str, int]:
    """Write layers to tables of a PostGIS schema, all of them or none.

    Parameters
    ----------
    layers : mapping of str to DataFrame or GeoDataFrame
        Table name → its rows. Names are made identifier-safe with :func:`table_for`.
    target : str
        ``postgresql://user@host:port/dbname``, optionally ``?schema=NAME``.
    schema : str, optional
        The schema (created if missing; default ``public`` or the URL's).
    replace : bool, default False
        Replace tables of the same names; without it, an existing table is refused.
    sources : mapping, optional
        Table name → what to record about its origin (file, layer, SHA-256), kept in the
        table's comment with the minemap version and the time.

    Returns
    -------
    dict of str to int
        Each table written and its number of rows.

    Raises
    ------
    OutputError
        If a table exists and ``replace`` is False; nothing is written.
    DatabaseError
        If the server refuses; nothing is written.

    Examples
    --------
    >>> table_for("roads")  # write_tables({"roads": roads}, url) writes table 'roads'
    'roads'
    """
    import psycopg
    from psycopg import sql

    from minemap import __version__

    if not isinstance(replace, bool):
        raise SchemaError("replace must be True or False.")
    url, chosen = split_schema(target, schema=schema)
    names = {table_for(name): frame for name, frame in layers.items()}
    if len(names) != len(layers):
        raise SchemaError(
            f"layer names {sorted(layers)} give the same table name twice; rename one."
        )
    where = f"{display_url(url)} schema {chosen!r}"
    written_at = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    current = ""
    with connect(url, read_only=False) as conn:
        try:
            with conn.transaction(), conn.cursor() as cur:
                cur.execute(
                    sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(chosen))
                )
                there = _existing(cur, chosen, list(names))
                if there and not replace:
                    raise OutputError(
                        f"{where}: table{'s' if len(there) > 1 else ''} "
                        f"{', '.join(repr(t) for t in there)} exist; pass replace=True "
                        "(--replace) to replace them, or load into another schema."
                    )
                for name, frame in names.items():
                    current = name
                    if name in there:
                        cur.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(chosen, name)))
                    origin = dict((sources or {}).get(name, {}))
                    comment = {"loaded_by": f"minemap {__version__}", "at": written_at, **origin}
                    _load_pg_table(cur, chosen, name, frame, _json(comment))
                    _add_key(cur, chosen, name, frame)
        except psycopg.Error as exc:
            raise DatabaseError(
                f"{where}: loading table {current!r} failed ({reason(exc, url)}); nothing was "
                "changed."
            ) from None
    return {name: len(frame) for name, frame in names.items()}


def _existing(cur: Any, schema: str, names: list[str]) -> list[str]:
    cur.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relname = ANY(%s)",
        (schema, names),
    )
    return sorted(str(r[0]) for r in cur.fetchall())


def _add_key(cur: Any, schema: str, name: str, frame: pd.DataFrame) -> None:
    """A primary key numbering the rows in the order they were copied (the layer's)."""
    from psycopg import sql

    key = KEY_COLUMN if KEY_COLUMN not in frame.columns else f"minemap_{KEY_COLUMN}"
    cur.execute(
        sql.SQL(
            "ALTER TABLE {} ADD COLUMN {} bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY"
        ).format(sql.Identifier(schema, name), sql.Identifier(key))
    )
