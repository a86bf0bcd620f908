"""A run's tables written to a GeoPackage (:func:`minemap.io.write_results`): a copy of the
file built beside it and moved into place in one step, one writer at a time."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from minemap._errors import OutputError, SchemaError
from minemap.io._results_run import (
    RUNS_TABLE,
    WrittenRun,
    _is_geo,
    _json,
    _owned_tables,
    _plain_columns,
    _Run,
)
from minemap.io.postgis import (
    is_database_url,
)
from minemap.io.staging import OutputSet, check_output_path, resolve_output


def _gpkg_target(target: str | os.PathLike, inputs: Mapping[str, object]) -> Path:
    if not isinstance(target, (str, os.PathLike)):
        raise SchemaError(
            f"target must be a .gpkg path or a postgresql:// URL, not {type(target).__name__}."
        )
    if Path(target).suffix.lower() != ".gpkg":
        raise OutputError(
            f"{os.fspath(target)}: results are written to a GeoPackage (.gpkg) or a "
            "postgresql:// URL; give e.g. results.gpkg."
        )
    path = check_output_path(target)
    real = resolve_output(path)
    for name, source in inputs.items():
        if isinstance(source, (str, os.PathLike)) and not is_database_url(source):
            if Path(source).exists() and real.exists() and os.path.samefile(real, source):
                raise OutputError(
                    f"{os.fspath(target)}: is also the input {name!r}; writing it would "
                    "change that input. Choose another file."
                )
    if real.exists():
        try:
            with sqlite3.connect(_read_only_uri(real), uri=True) as db:
                db.execute("SELECT table_name FROM gpkg_contents LIMIT 1").fetchall()
            db.close()
        except sqlite3.Error:
            raise OutputError(
                f"{os.fspath(target)}: exists but is not a GeoPackage; choose another file name "
                "(an existing file of another kind is never overwritten)."
            ) from None
    return path


def _read_only_uri(path: Path) -> str:
    """SQLite's URI opening ``path`` read-only (``#``, ``?`` and ``%`` in it quoted)."""
    from urllib.parse import quote

    return f"file:{quote(os.path.abspath(path))}?mode=ro"


def _gpkg_state(path: Path) -> tuple[set[str], dict[str, list[str]]]:
    """The tables of a GeoPackage and each run's tables (from ``minemap_runs``)."""
    if not path.exists():
        return set(), {}
    db = sqlite3.connect(_read_only_uri(path), uri=True)
    try:
        present = {str(r[0]) for r in db.execute("SELECT table_name FROM gpkg_contents")}
        owned: dict[str, list[str]] = {}
        if RUNS_TABLE in present:
            for run_id, tables in db.execute(f"SELECT run, tables FROM {RUNS_TABLE}"):  # noqa: S608 - a constant
                owned[str(run_id)] = _owned_tables(tables)
    finally:
        db.close()
    return present, owned


def _write_gpkg_table(path: Path, name: str, frame: pd.DataFrame, description: str) -> None:
    """Write one table into the GeoPackage at ``path`` (replacing one of that name)."""
    plain = _plain_columns(frame)
    options = {"DESCRIPTION": description}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        if _is_geo(frame):
            geo = gpd.GeoDataFrame(
                plain,
                geometry=gpd.GeoSeries(frame.geometry.array, index=plain.index),
                crs=frame.crs,
            )
            pyogrio.write_dataframe(  # each row keeps its type (no Polygon made Multi)
                geo, path, layer=name, driver="GPKG", layer_options=options, promote_to_multi=False
            )
        else:
            pyogrio.write_dataframe(plain, path, layer=name, driver="GPKG", layer_options=options)


def _drop_gpkg_tables(path: Path, names: list[str]) -> None:
    """Remove tables (and their spatial index and metadata rows) from a GeoPackage."""
    if not names or not path.exists():
        return
    db = sqlite3.connect(path)
    try:
        for name in names:
            rows = db.execute(
                "SELECT column_name FROM gpkg_geometry_columns WHERE table_name = ?", (name,)
            ).fetchall()
            for (column,) in rows:
                db.execute(
                    f'DROP TABLE IF EXISTS "{_sqlite_ident("rtree_" + name + "_" + column)}"'
                )
            db.execute(f'DROP TABLE IF EXISTS "{_sqlite_ident(name)}"')
            for meta in (
                "gpkg_geometry_columns",
                "gpkg_extensions",
                "gpkg_ogr_contents",
                "gpkg_contents",
            ):
                try:
                    db.execute(f"DELETE FROM {meta} WHERE table_name = ?", (name,))  # noqa: S608 - fixed names
                except sqlite3.OperationalError:  # the file has no such metadata table
                    pass
        db.commit()
    finally:
        db.close()


def _sqlite_ident(name: str) -> str:
    """A name inside double quotes in SQLite (its quotes doubled)."""
    return name.replace('"', '""')


def _runs_rows_gpkg(path: Path) -> pd.DataFrame:
    if path.exists() and RUNS_TABLE in set(pyogrio.list_layers(path)[:, 0]):
        return pyogrio.read_dataframe(path, layer=RUNS_TABLE, read_geometry=False)
    return pd.DataFrame()


def _write_gpkg(
    tables: Mapping[str, pd.DataFrame], this: _Run, path: Path, shown: Path
) -> WrittenRun:
    where = os.fspath(shown)
    with _one_writer(path):  # another run read the same file before: it waits its turn
        return _write_gpkg_locked(tables, this, path, where)


@contextlib.contextmanager
def _one_writer(path: Path) -> Iterator[None]:
    """Hold the GeoPackage ``path`` for this writer alone, from reading the runs it holds to
    moving the new file into place: two runs writing the same file at once both land.

    The lock is an exclusive ``flock`` on a hidden ``.NAME.minemap-lock`` beside it, removed
    by its holder before it lets go; a writer that was waiting on a removed lock file tries
    again on the new one. Where ``fcntl`` is missing (Windows), writers are not serialised.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    lock = resolve_output(path).parent / f".{path.name}.minemap-lock"
    while True:
        handle = os.open(lock, os.O_CREAT | os.O_RDWR, 0o600)
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            current = os.stat(lock).st_ino == os.fstat(handle).st_ino
        except FileNotFoundError:
            current = False
        if current:
            break
        os.close(handle)  # the lock file this writer waited on was removed: a new one
    try:
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(lock)
        os.close(handle)  # closing releases the lock


def _write_gpkg_locked(
    tables: Mapping[str, pd.DataFrame], this: _Run, path: Path, where: str
) -> WrittenRun:
    present, owned = _gpkg_state(resolve_output(path))
    drop = this.tables_to_drop(where, present, owned)
    names = this.names
    rows = {result: len(frame) for result, frame in tables.items()}

    def write(tmp: Path) -> None:
        _drop_gpkg_tables(tmp, drop)
        for result, frame in tables.items():
            _write_gpkg_table(tmp, names[result], frame, _json(this.provenance(frame)))
        runs = _runs_rows_gpkg(tmp)
        if len(runs):
            runs = runs.loc[runs["run"].astype(str) != this.run_id]
        runs = pd.concat([runs, pd.DataFrame([this.runs_row(tables)])], ignore_index=True)
        doc = {"minemap": "one row per run written to this file; see docs/results.md"}
        _write_gpkg_table(tmp, RUNS_TABLE, runs, _json(doc))

    with OutputSet() as outputs:
        outputs.add(path, write)
    return WrittenRun(where, "gpkg", this.run_id, dict(names), rows, this.written_at)
