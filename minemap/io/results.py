"""Writing a run's results (summary, priority zones, ranking, plan, evidence) to a GeoPackage
or a PostGIS schema, in one transaction, with their provenance.

A *run* is one call of :func:`write_results`: a name, the result tables, the parameters and
the inputs they came from. Each result is written as the table ``<run>_<result>``, where both
parts are made identifier-safe by :func:`table_name` (lower case; every character other than
``a-z``, ``0-9`` and ``_`` becomes ``_``; a name starting with a digit gets ``r_`` in front;
at most 63 characters, PostgreSQL's limit). Re-running a run replaces that run's own tables
and nothing else; a table of that name that another run or a user made is never overwritten.

Where a figure came from is written where both GIS and SQL users look:

- the table ``minemap_runs``, one row per run (replaced on re-run): the run, the time written
  (UTC), the minemap version, the parameters, the inputs (each file with its SHA-256, each
  database table with its row count) and the tables written, as JSON text;
- on every result table: the GeoPackage's ``gpkg_contents.description`` (shown by QGIS as the
  layer's abstract) or PostGIS's ``COMMENT ON TABLE``, the same facts as JSON, with the
  table's own attributes (``as_of``, ``area_frame``, ``weights``, ...).

A GeoPackage is written as a copy of the existing file (or a new one) beside it and moved into
place in one step (:class:`minemap.io.OutputSet`); PostGIS is written in one ``BEGIN ...
COMMIT``. A failure half-way leaves the target exactly as it was. Identifiers are quoted with
:class:`psycopg.sql.Identifier` and values are bound parameters or ``COPY`` rows; a password
in the URL or in ``PGPASSWORD`` appears in no message and in no table.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from minemap._errors import DatabaseError, SchemaError
from minemap.io import _results_gpkg, _results_postgis
from minemap.io._results_run import (
    DEFAULT_SCHEMA,
    RUNS_TABLE,
    WrittenRun,
    _jsonable,
    _Run,
)
from minemap.io.postgis import (
    PostGIS,
    connect,
    display_url,
    is_database_url,
    query_relation,
    reason,
    url_schema,
    without_query_key,
)

#: Longest table name (PostgreSQL truncates identifiers beyond 63 bytes).
MAX_NAME = 63

_RESULT_NAME = re.compile(r"[^a-z0-9_]+")


# ------------------------------------------------------------------------------------------
# names and provenance
# ------------------------------------------------------------------------------------------


def table_name(run: str, result: str) -> str:
    """The table a run's result is written to: ``<run>_<result>``, identifier-safe.

    Lower case; each run of characters other than ``a-z``, ``0-9`` and ``_`` becomes one
    ``_``; ``r_`` in front of a leading digit and of the prefixes GeoPackage, SQLite and
    PostgreSQL keep for themselves (``gpkg``, ``sqlite``, ``rtree``, ``pg_``).

    Parameters
    ----------
    run : str
        The run's name.
    result : str
        The result's name (``summary``, ``priority_zones``, ...).

    Returns
    -------
    str

    Raises
    ------
    SchemaError
        If the name would be empty or longer than 63 characters.

    Examples
    --------
    >>> table_name("Monthly 2026-05", "summary")
    'monthly_2026_05_summary'
    >>> table_name("2026", "ranking")
    'r_2026_ranking'
    >>> table_name("GPKG test", "summary")
    'r_gpkg_test_summary'
    """
    prefix = _safe(run, "run")
    name = f"{prefix}_{_safe(result, 'result')}"
    if name == RUNS_TABLE:
        raise SchemaError(
            f"run {run!r} and result {result!r} make {RUNS_TABLE!r}, the table of runs; "
            "choose another run name (--run)."
        )
    if len(name) > MAX_NAME:
        raise SchemaError(
            f"table name {name!r} (run {run!r}, result {result!r}) is longer than {MAX_NAME} "
            "characters; choose a shorter run name (--run)."
        )
    return name


def _safe(text: object, what: str) -> str:
    if not isinstance(text, str):
        raise SchemaError(f"the {what} name must be text, not {text!r}.")
    safe = _RESULT_NAME.sub("_", text.strip().lower()).strip("_")
    if not safe:
        raise SchemaError(
            f"the {what} name {text!r} has no letter or digit; give one such as 'monthly_2026_05'."
        )
    reserved = safe[0].isdigit() or safe.startswith(("gpkg", "sqlite", "rtree", "pg_"))
    return f"r_{safe}" if reserved else safe


def _checksum(path: Path) -> str:
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        with open(file, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def describe_inputs(inputs: Mapping[str, object]) -> dict[str, dict[str, object]]:
    """Provenance of each input: a file's path and SHA-256, or a database table's (or
    query's) row count and, when only part of it is read (a bbox, a region), which part
    (``selection``, :attr:`minemap.io.PostGIS.selection`); never a password.

    Parameters
    ----------
    inputs : mapping
        Input name → file path or :class:`~minemap.io.PostGIS` source.

    Returns
    -------
    dict
        Input name → ``{"path", "sha256", "bytes"}`` or ``{"database", "table" or "sql",
        "rows"}``.

    Raises
    ------
    InputFileError, DatabaseError
        If a file is missing or a database cannot be read.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "hazards.csv"
    >>> _ = path.write_text("hazard_id,threat_level,WKT\\n")
    >>> described = describe_inputs({"hazards": path})["hazards"]
    >>> described["bytes"], len(described["sha256"])
    (27, 64)
    """
    from minemap._errors import InputFileError

    described: dict[str, dict[str, object]] = {}
    for name, source in inputs.items():
        if isinstance(source, PostGIS):
            described[str(name)] = _database_input(source)
            continue
        if not isinstance(source, (str, os.PathLike)) or is_database_url(source):
            raise SchemaError(
                f"inputs[{name!r}]: give a file path or a PostGIS source "
                "(minemap.io.PostGIS(url, table=...)), not {type(source).__name__}."
            )
        path = Path(source)
        if not path.exists():
            raise InputFileError(f"{path}: input {name!r} does not exist; give the file read.")
        size = (
            sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
            if path.is_dir()
            else path.stat().st_size
        )
        described[str(name)] = {"path": str(path), "sha256": _checksum(path), "bytes": size}
    return described


def _database_input(source: PostGIS) -> dict[str, object]:
    import psycopg
    from psycopg import sql

    from minemap.io.postgis import _find_table

    with connect(source.url) as conn, conn.cursor() as cur:
        try:
            if source.table is not None:
                schema, name = _find_table(cur, source)
                cur.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(schema, name)))
            else:
                assert source.sql is not None
                query = query_relation(source.sql, bound=False)
                cur.execute(
                    sql.SQL("SELECT count(*) FROM {} AS minemap_q").format(query), prepare=True
                )
            row = cur.fetchone()
        except psycopg.Error as exc:
            why = reason(exc, source.url)
            raise DatabaseError(f"{source.label}: cannot count its rows ({why}).") from None
    described: dict[str, object] = {"database": display_url(source.url)}
    if source.table is not None:
        described["table"] = source.table
    else:
        described["sql"] = source.sql
    described["rows"] = int(row[0]) if row else 0  # the table's, whatever part was read
    if source.bbox is not None:
        described["bbox"] = list(source.bbox)
    if source.selection is not None:  # the part read: the box, the district by its name
        described["selection"] = source.selection
    return described


# ------------------------------------------------------------------------------------------
# the tables to write
# ------------------------------------------------------------------------------------------


def _tables(results: Mapping[str, object]) -> dict[str, pd.DataFrame]:
    """Result name → frame; a clearance plan (:class:`minemap.planning.Plan`) gives its
    schedule (``<name>``) and its hectares per year (``<name>_per_year``)."""
    if not isinstance(results, Mapping) or not results:
        raise SchemaError(
            "results must be a non-empty mapping of name → table, e.g. "
            "{'summary': land_release_summary(hazards, releases)}."
        )
    tables: dict[str, pd.DataFrame] = {}
    for name, value in results.items():
        if isinstance(value, pd.DataFrame):
            tables[str(name)] = _with_index(value)
        elif isinstance(getattr(value, "schedule", None), pd.DataFrame):
            schedule = value.schedule.copy()  # type: ignore[attr-defined]
            summary = dict(getattr(value, "summary", {}) or {})
            per_year = summary.pop("hectares_per_year", None)
            schedule.attrs = {
                **schedule.attrs,
                "summary": summary,
                "assumptions": getattr(value, "assumptions", {}),
            }
            tables[str(name)] = schedule
            if isinstance(per_year, pd.DataFrame):
                tables[f"{name}_per_year"] = per_year
        else:
            raise SchemaError(
                f"results[{name!r}] is a {type(value).__name__}; give a DataFrame, a "
                "GeoDataFrame or a clearance plan."
            )
    for name, frame in tables.items():
        if len(frame.columns) == 0:
            raise SchemaError(f"results[{name!r}] has no column to write; drop it or add one.")
    return tables


def _with_index(frame: pd.DataFrame) -> pd.DataFrame:
    """A named index (e.g. district) as columns; a plain row number is not written."""
    if isinstance(frame.index, pd.MultiIndex) or frame.index.name is not None:
        out = frame.reset_index()
        out.attrs = dict(frame.attrs)
        return out
    return frame


def _names(run: str, tables: Mapping[str, pd.DataFrame]) -> dict[str, str]:
    names = {result: table_name(run, result) for result in tables}
    seen: dict[str, str] = {}
    for result, name in names.items():
        if name == RUNS_TABLE:
            raise SchemaError(
                f"result {result!r} of run {run!r} would be named {RUNS_TABLE}; rename it."
            )
        if name in seen:
            raise SchemaError(
                f"results {seen[name]!r} and {result!r} would both be written to {name!r}; "
                "rename one of them."
            )
        seen[name] = result
    return names


# ------------------------------------------------------------------------------------------
# the public function
# ------------------------------------------------------------------------------------------


def write_results(
    results: Mapping[str, object],
    target: str | os.PathLike,
    *,
    run: str = "minemap",
    parameters: Mapping[str, object] | None = None,
    inputs: Mapping[str, object] | None = None,
    schema: str | None = None,
    replace: bool = True,
) -> WrittenRun:
    """Write a run's result tables to a GeoPackage or a PostGIS schema, all or none.

    Parameters
    ----------
    results : mapping
        Result name → DataFrame or GeoDataFrame (what :func:`minemap.land_release_summary`,
        :func:`minemap.priority_zones`, :func:`minemap.rank_hazards` and the evidence
        functions return), or a clearance plan (:func:`minemap.planning.plan_clearance`:
        its schedule as ``<name>``, its hectares per year as ``<name>_per_year``). Each
        table's ``attrs`` (``as_of``, ``area_frame``, ``weights``, ...) go into its
        provenance. GeoDataFrames keep their CRS and geometry types; DataFrames become
        attribute-only tables.
    target : str or path-like
        A GeoPackage path (``results.gpkg``, made if missing, other tables kept) or a
        database URL (``postgresql://user@host:5432/dbname``, optionally
        ``?schema=NAME``).
    run : str, default "minemap"
        The run's name; tables are named ``<run>_<result>`` (see :func:`table_name`).
    parameters : mapping, optional
        The run's parameters (as_of, distances, weights, ...), stored as JSON.
    inputs : mapping, optional
        Input name → file path or :class:`~minemap.io.PostGIS` source; stored with each
        file's SHA-256 or each table's row count (:func:`describe_inputs`). A GeoPackage
        target must not be one of them.
    schema : str, optional
        PostGIS schema (made if missing; default: the URL's ``?schema=``, else
        ``public``). Not for GeoPackages.
    replace : bool, default True
        Replace the run's tables if the run was written before; False refuses to.

    Returns
    -------
    WrittenRun
        The tables and row counts written.

    Raises
    ------
    SchemaError
        Bad results, names or options.
    OutputError
        The GeoPackage cannot be written, is an input, or holds a table of that name that
        this run did not write.
    DatabaseError
        The database cannot be reached or refuses the write (nothing is changed).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import geopandas as gpd, pandas as pd, shapely
    >>> summary = pd.DataFrame({"threat_level": ["high"], "hazard_ha": [12.5]})
    >>> zones = gpd.GeoDataFrame(
    ...     {"hazard_id": ["H1"], "zone_ha": [1.2]},
    ...     geometry=[shapely.box(44.0, 40.0, 44.01, 40.01)], crs=4326,
    ... )
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "results.gpkg"
    >>> written = write_results({"summary": summary, "zones": zones}, path, run="may")
    >>> written.tables
    {'summary': 'may_summary', 'zones': 'may_zones'}
    >>> from minemap.io import list_layers
    >>> sorted(list_layers(path))
    ['may_summary', 'may_zones', 'minemap_runs']
    """
    tables = _tables(results)
    run_id = _safe(run, "run")
    names = _names(run, tables)
    if parameters is not None and not isinstance(parameters, Mapping):
        raise SchemaError("parameters must be a mapping of name → value (stored as JSON).")
    if not isinstance(replace, bool):
        raise SchemaError("replace must be True or False.")
    written_at = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    database = isinstance(target, str) and is_database_url(target)
    if database:
        libpq, chosen = split_schema(str(target), schema=schema)
    elif schema is not None:
        raise SchemaError("schema= is for a PostGIS target; a GeoPackage has no schemas.")
    else:
        path = _results_gpkg._gpkg_target(target, inputs or {})
    this = _Run(
        run_id,
        str(run),
        written_at,
        _jsonable(parameters or {}),
        describe_inputs(inputs or {}),
        names,
        replace,
    )
    if database:
        _results_postgis._check_not_an_input(inputs or {}, libpq, chosen, names)
        return _results_postgis._write_postgis(tables, this, libpq, chosen)
    return _results_gpkg._write_gpkg(tables, this, path, Path(target))


def split_schema(url: str, *, schema: str | None = None) -> tuple[str, str]:
    """A target URL as libpq reads it (without ``schema=``) and the schema to write to.

    Parameters
    ----------
    url : str
        ``postgresql://user@host:port/dbname``, optionally with ``?schema=NAME``.
    schema : str, optional
        The schema, when the URL names none (or the same one).

    Returns
    -------
    tuple of str
        ``(url, schema)``; the schema is ``public`` when neither names one.

    Raises
    ------
    SchemaError
        If the URL and ``schema`` name different schemas, or the schema is empty.

    Examples
    --------
    >>> split_schema("postgresql://analyst@db.example.org/imsma?schema=results&sslmode=require")
    ('postgresql://analyst@db.example.org/imsma?sslmode=require', 'results')
    >>> split_schema("postgresql://analyst@db.example.org/imsma")[1]
    'public'
    """
    libpq = without_query_key(url.strip(), "schema")
    given = url_schema(url)
    if schema is not None and given is not None and given != schema:
        raise SchemaError(
            f"{display_url(libpq)}: the URL says schema {given!r} and schema= says "
            f"{schema!r}; give one of them."
        )
    chosen = schema if schema is not None else (given if given is not None else DEFAULT_SCHEMA)
    if not isinstance(chosen, str) or not chosen.strip():
        raise SchemaError("schema must be non-empty text, e.g. schema='results'.")
    return libpq, chosen
