"""A run's tables written to a PostGIS schema (:func:`minemap.io.write_results`), in one
``BEGIN ... COMMIT``; also the table loader of :mod:`minemap.io.postgis_load`."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from minemap._errors import DatabaseError, OutputError, SchemaError
from minemap.io._results_run import (
    DEFAULT_SCHEMA,
    RUNS_TABLE,
    WrittenRun,
    _is_geo,
    _json,
    _missing,
    _owned_tables,
    _plain_columns,
    _Run,
)
from minemap.io.postgis import (
    PostGIS,
    connect,
    display_url,
    reason,
    url_schema,
)


def _pg_type(values: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(values):
        return "boolean"
    if pd.api.types.is_integer_dtype(values):
        return "bigint"
    if pd.api.types.is_float_dtype(values):
        return "double precision"
    if pd.api.types.is_datetime64_any_dtype(values):
        return "timestamptz" if getattr(values.dtype, "tz", None) is not None else "timestamp"
    return "text"


def _pg_value(value: object) -> object:
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if _missing(value):
        return None
    return value


def _srid(frame: gpd.GeoDataFrame, name: str) -> int:
    if frame.crs is None:
        return 0
    code = frame.crs.to_epsg()
    if code is None:
        raise SchemaError(
            f"table {name!r}: its CRS ({frame.crs.name}) has no EPSG code for an SRID; "
            "reproject it first (e.g. to_crs(4326))."
        )
    return int(code)


def _geometry_type(frame: gpd.GeoDataFrame) -> str:
    kinds = {str(k) for k in frame.geometry.dropna().geom_type.unique()}
    return kinds.pop() if len(kinds) == 1 else "Geometry"


def _load_pg_table(cur: Any, schema: str, name: str, frame: pd.DataFrame, comment: str) -> None:
    """Create ``schema.name`` from ``frame`` (rows by COPY), its GiST index and comment."""
    from psycopg import sql

    plain = _plain_columns(frame)
    ident = sql.Identifier(schema, name)
    columns = [
        sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(_pg_type(plain[c])))
        for c in plain.columns
    ]
    names = list(plain.columns)
    geo = _is_geo(frame)
    if geo:
        geom = "geom" if "geom" not in names else f"{frame.geometry.name}_geom"
        srid = _srid(frame, name)
        kind = _geometry_type(frame)
        columns.append(
            sql.SQL("{} geometry({}, {})").format(
                sql.Identifier(geom), sql.SQL(kind), sql.Literal(srid)
            )
        )
        names.append(geom)
    cur.execute(sql.SQL("CREATE TABLE {} ({})").format(ident, sql.SQL(", ").join(columns)))
    data = [[_pg_value(v) for v in plain[c].tolist()] for c in plain.columns]
    if geo:
        values = np.asarray(frame.geometry.array, dtype=object)
        values = shapely.set_srid(values, srid)
        data.append(list(shapely.to_wkb(values, hex=True, include_srid=True)))
    copy = sql.SQL("COPY {} ({}) FROM STDIN").format(
        ident, sql.SQL(", ").join(sql.Identifier(n) for n in names)
    )
    with cur.copy(copy) as out:
        for row in zip(*data, strict=True) if data else []:
            out.write_row(row)
        if not data:  # no column at all: rows carry nothing to copy
            pass
    if geo:
        cur.execute(
            sql.SQL("CREATE INDEX ON {} USING gist ({})").format(ident, sql.Identifier(geom))
        )
    cur.execute(sql.SQL("COMMENT ON TABLE {} IS {}").format(ident, sql.Literal(comment)))


def _pg_state(cur: Any, schema: str) -> tuple[set[str], dict[str, list[str]]]:
    cur.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relkind IN ('r', 'v', 'm', 'p', 'f')",
        (schema,),
    )
    present = {str(r[0]) for r in cur.fetchall()}
    owned: dict[str, list[str]] = {}
    if RUNS_TABLE in present:
        from psycopg import sql

        cur.execute(
            sql.SQL("SELECT run, tables FROM {}").format(sql.Identifier(schema, RUNS_TABLE))
        )
        for run_id, tables in cur.fetchall():
            owned[str(run_id)] = _owned_tables(tables)
    return present, owned


def _write_postgis(
    tables: Mapping[str, pd.DataFrame], this: _Run, url: str, schema: str
) -> WrittenRun:
    import psycopg
    from psycopg import sql

    where = f"{display_url(url)} schema {schema!r}"
    current = RUNS_TABLE
    with connect(url, read_only=False) as conn:
        try:
            with conn.transaction(), conn.cursor() as cur:
                cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"minemap:{schema}",))
                cur.execute(
                    sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema))
                )
                present, owned = _pg_state(cur, schema)
                drop = this.tables_to_drop(where, present, owned)
                for name in [*drop, *(n for n in this.names.values() if n in present)]:
                    cur.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(schema, name)))
                for result, frame in tables.items():
                    current = this.names[result]
                    _load_pg_table(cur, schema, current, frame, _json(this.provenance(frame)))
                current = RUNS_TABLE
                _record_run_pg(cur, schema, this.runs_row(tables))
        except psycopg.Error as exc:
            why = reason(exc, url)
            raise DatabaseError(
                f"{where}: writing table {current!r} failed ({why}); nothing was changed."
            ) from None
    target = f"{display_url(url)}?schema={schema}"
    rows = {result: len(frame) for result, frame in tables.items()}
    return WrittenRun(target, "postgis", this.run_id, dict(this.names), rows, this.written_at)


def _check_not_an_input(
    inputs: Mapping[str, object], url: str, schema: str, names: Mapping[str, str]
) -> None:
    """Refuse to write a table that an input was read from (the same server, database,
    schema and name): an output never replaces an input."""
    where = display_url(url)
    for source in inputs.values():
        if not isinstance(source, PostGIS) or source.table is None:
            continue
        if display_url(source.url) != where:
            continue
        text = source.table.strip()
        read_schema, _, name = text.rpartition(".") if "." in text else ("", "", text)
        read_schema = read_schema or url_schema(source.url) or DEFAULT_SCHEMA
        if read_schema == schema and name.strip('"') in names.values():
            raise OutputError(
                f"{where} schema {schema!r}: table {name!r} is an input of this run; an "
                "output never replaces an input: choose another run name (--run) or schema."
            )


def _record_run_pg(cur: Any, schema: str, row: Mapping[str, object]) -> None:
    from psycopg import sql

    ident = sql.Identifier(schema, RUNS_TABLE)
    cur.execute(
        sql.SQL(
            "CREATE TABLE IF NOT EXISTS {} (run text PRIMARY KEY, run_name text, "
            "written_at timestamptz, minemap_version text, parameters jsonb, inputs jsonb, "
            "tables jsonb)"
        ).format(ident)
    )
    cur.execute(
        sql.SQL("COMMENT ON TABLE {} IS {}").format(
            ident, sql.Literal("minemap: one row per run written to this schema")
        )
    )
    cur.execute(sql.SQL("DELETE FROM {} WHERE run = %s").format(ident), (row["run"],))
    cur.execute(
        sql.SQL(
            "INSERT INTO {} (run, run_name, written_at, minemap_version, parameters, inputs, "
            "tables) VALUES (%s, %s, %s, %s, %s, %s, %s)"
        ).format(ident),
        (
            row["run"],
            row["run_name"],
            row["written_at"],
            row["minemap_version"],
            row["parameters"],
            row["inputs"],
            row["tables"],
        ),
    )
