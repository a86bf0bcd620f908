"""The PostGIS way of the land-release summary: what a skilled analyst would run in SQL.

Two steps, timed together from the client:

1. **Pieces.** Each hazard minus the union of its higher-precedence neighbours (a higher
   threat level, or the same level and a smaller row number), the neighbours found through
   the GiST index (``&&``, then ``ST_Intersects``); the same for releases, with method
   precedence (cleared > reduced > cancelled). The pieces of each layer are disjoint, so a
   place counts once, under its highest level or strongest method. PostgreSQL does not run
   a correlated per-row subquery in parallel workers (it is "parallel restricted": the plan
   keeps it above the ``Gather``), so the analyst splits this step by hand: ``sessions``
   concurrent ``psql`` sessions, session ``k`` taking the rows with ``id % sessions = k``,
   all inserting into the same unlogged tables.
2. **Hectares.** A GiST index on the release pieces, ``ANALYZE``, then one query:
   ``ST_Area(geom::geography)`` (on the WGS 84 spheroid, edges along geodesics) of the
   hazard pieces per level, and of ``ST_Intersection`` of hazard pieces with release pieces
   per level and method (pieces are disjoint, so the sum of the pairwise intersections is the
   released area, counted only inside hazards). This query runs on PostgreSQL's own parallel
   workers (``Gather`` over a parallel sequential scan of the hazard pieces).

Session settings: ``jit = off`` (PostGIS functions are costed high, so JIT compilation
triggers on every query and costs more than it saves here: 1.1 s instead of 0.7 s for the
pieces at 10,000 hazards), ``min_parallel_table_scan_size = 0`` (the piece tables' heap is
small, geometry aside) and ``max_parallel_workers_per_gather`` = ``sessions``. Server
settings are those of ``postgis_server.sh`` (``work_mem`` 256 MB, ``shared_buffers`` 1 GB).

Loading (``COPY`` of hex EWKB, a GiST index and ``ANALYZE`` per layer) is separate and not
timed; the server's memory is not measured.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import IO

LEVEL_RANK = {"high": 3, "medium": 2, "low": 1}
METHOD_RANK = {"cleared": 3, "reduced": 2, "cancelled": 1}
SCHEMA = "minemap_bench"

SETTINGS = """\\set ON_ERROR_STOP on
SET search_path = {schema}, public;
SET jit = off;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = {workers};
"""

CREATE = """
DROP TABLE IF EXISTS {hp}, {rp};
CREATE UNLOGGED TABLE {hp} (id integer, lvl integer, geom geometry);
CREATE UNLOGGED TABLE {rp} (id integer, m integer, geom geometry);
"""

# One session's share of the pieces: rows with id % {n} = {k}.
PIECES = """
INSERT INTO {hp}
SELECT h.id, h.lvl, COALESCE(ST_Difference(h.geom, (
    SELECT ST_Union(o.geom) FROM {hz} o
    WHERE o.geom && h.geom AND (o.lvl > h.lvl OR (o.lvl = h.lvl AND o.id < h.id))
      AND ST_Intersects(o.geom, h.geom))), h.geom)
FROM {hz} h WHERE h.id % {n} = {k};
INSERT INTO {rp}
SELECT r.id, r.m, COALESCE(ST_Difference(r.geom, (
    SELECT ST_Union(o.geom) FROM {rl} o
    WHERE o.geom && r.geom AND (o.m > r.m OR (o.m = r.m AND o.id < r.id))
      AND ST_Intersects(o.geom, r.geom))), r.geom)
FROM {rl} r WHERE r.id % {n} = {k};
"""

HECTARES = """
CREATE INDEX ON {rp} USING gist (geom);
ANALYZE {hp};
ANALYZE {rp};
SELECT 'hazard', lvl, 0, SUM(ST_Area(geom::geography)) FROM {hp} GROUP BY lvl;
SELECT 'released', hp.lvl, rp.m,
       SUM(ST_Area(ST_CollectionExtract(ST_Intersection(hp.geom, rp.geom), 3)::geography))
FROM {hp} hp JOIN {rp} rp ON hp.geom && rp.geom AND ST_Intersects(hp.geom, rp.geom)
GROUP BY hp.lvl, rp.m;
"""


def _command(dsn: str, *args: str) -> list[str]:
    return ["psql", dsn, "-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", *args]


def _psql(dsn: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(_command(dsn, *args), input=stdin, capture_output=True, text=True)


def _script(sql: str) -> str:
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as handle:
        handle.write(sql)
    return handle.name


def ready(dsn: str | None) -> str | None:
    """None when the server answers with PostGIS, else why the baseline is skipped."""
    if dsn is None:
        return "PostGIS baseline skipped: no --postgis DSN given"
    if shutil.which("psql") is None:
        return "PostGIS baseline skipped: psql is not installed"
    done = _psql(dsn, "-c", "CREATE EXTENSION IF NOT EXISTS postgis; SELECT postgis_version();")
    if done.returncode != 0:
        first = done.stderr.strip().splitlines()[:1] or ["no answer"]
        return f"PostGIS baseline skipped: {first[0][:160]}"
    return None


def _ranks(kind: str) -> tuple[str, str, dict[str, int]]:
    """The rank column, its source column and its ranks for one layer."""
    if kind == "hz":
        return "lvl", "threat_level", LEVEL_RANK
    return "m", "method", METHOD_RANK


def _check_lonlat(path: Path) -> None:
    import pyarrow.parquet as pq
    import pyproj

    geo = json.loads(pq.read_schema(path).metadata[b"geo"])
    crs = geo["columns"][geo["primary_column"]].get("crs")
    if crs is not None and pyproj.CRS.from_user_input(crs).to_epsg() != 4326:
        raise ValueError(f"{path}: the PostGIS load expects EPSG:4326 data")


def _copy_rows(out: IO[str], path: Path, source: str, ranks: dict[str, int]) -> None:
    """Write the layer as CSV rows (row number, rank, hex EWKB), batch by batch."""
    import pyarrow.parquet as pq
    import shapely

    start = 0
    for batch in pq.ParquetFile(path).iter_batches(100_000, columns=[source, "geometry"]):
        values = [str(v).strip().lower() for v in batch.column(source).to_pylist()]
        unknown = sorted({v for v in values if v not in ranks})
        if unknown:
            raise ValueError(f"{path}: unknown {source} {unknown[:3]}")
        geoms = shapely.from_wkb(batch.column("geometry").to_numpy(zero_copy_only=False))
        wkb = shapely.to_wkb(shapely.set_srid(geoms, 4326), hex=True, include_srid=True)
        rows = zip(range(start, start + len(values)), values, wkb, strict=True)
        out.writelines(f"{i},{ranks[v]},{g}\n" for i, v, g in rows)
        start += len(values)


def load(dsn: str, name: str, hazards: Path, releases: Path) -> tuple[str, str]:
    """COPY both layers (hex EWKB, lon/lat) into ``minemap_bench.hz_<name>`` and
    ``rl_<name>`` with row numbers as ids, a GiST index each and ``ANALYZE`` (not timed).
    Threat levels and methods become ranks (3 = high / cleared). The files are streamed
    in batches, so memory stays bounded whatever their size."""
    names = []
    for kind, path in (("hz", hazards), ("rl", releases)):
        table = f"{kind}_{name}"
        names.append(table)
        column, source, ranks = _ranks(kind)
        _check_lonlat(path)
        done = _psql(
            dsn,
            "-c",
            f"SET client_min_messages = warning; CREATE SCHEMA IF NOT EXISTS {SCHEMA}; "
            f"DROP TABLE IF EXISTS {SCHEMA}.{table}; CREATE TABLE {SCHEMA}.{table} "
            f"(id integer PRIMARY KEY, {column} integer NOT NULL, geom geometry(Geometry, 4326))",
        )
        if done.returncode != 0:
            raise RuntimeError(f"creating {table} in PostGIS failed: {done.stderr.strip()}")
        copy = subprocess.Popen(
            _command(dsn, "-c", f"COPY {SCHEMA}.{table} FROM STDIN WITH (FORMAT csv)"),
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert copy.stdin is not None and copy.stderr is not None
        with contextlib.suppress(BrokenPipeError):  # psql stopped: its message follows
            try:
                _copy_rows(copy.stdin, path, source, ranks)
            finally:
                copy.stdin.close()
        err = copy.stderr.read()
        if copy.wait() != 0:
            raise RuntimeError(f"loading {table} into PostGIS failed: {err.strip()}")
        done = _psql(
            dsn,
            "-c",
            f"CREATE INDEX ON {SCHEMA}.{table} USING gist (geom); ANALYZE {SCHEMA}.{table};",
        )
        if done.returncode != 0:
            raise RuntimeError(f"indexing {table} in PostGIS failed: {done.stderr.strip()}")
    return names[0], names[1]


def server_cpu_s(dsn: str) -> float | None:
    """Processor seconds used so far by a server on this machine: its postmaster, every
    live child (sessions, parallel workers) and every child it has reaped (from
    ``/proc``); None when the server is elsewhere or ``/proc`` is not readable."""
    done = _psql(dsn, "-c", "SHOW data_directory")
    try:
        pid = int((Path(done.stdout.strip()) / "postmaster.pid").read_text().split()[0])
        total = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # ended meanwhile
            if stat.parent.name == str(pid) or fields[1] == str(pid):
                total += sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
    except (OSError, ValueError, IndexError):
        return None
    return total / os.sysconf("SC_CLK_TCK")


Row = tuple[str, int, int, float]


def run(
    dsn: str, tables: tuple[str, str], *, sessions: int = 2
) -> tuple[float, float | None, list[Row]]:
    """The analyst's SQL on loaded tables: the wall clock of both steps, the server's
    processor seconds for them (None if not measurable) and the rows (kind, level rank,
    method rank, m²)."""
    hz, rl = tables
    names = {"hz": hz, "rl": rl, "hp": f"hp_{hz[3:]}", "rp": f"rp_{hz[3:]}", "n": sessions}
    settings = SETTINGS.format(schema=SCHEMA, workers=sessions)
    done = _psql(dsn, stdin=settings + CREATE.format(**names))
    if done.returncode != 0:
        raise RuntimeError(f"the PostGIS piece tables failed: {done.stderr.strip()[:300]}")
    scripts = [_script(settings + PIECES.format(**names, k=k)) for k in range(sessions)]
    scripts.append(_script(settings + HECTARES.format(**names)))
    cpu = server_cpu_s(dsn)
    try:
        start = time.perf_counter()
        running = [
            subprocess.Popen(
                _command(dsn, "-f", path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
            for path in scripts[:-1]
        ]
        errors = []
        for process in running:
            _, err = process.communicate()
            if process.returncode != 0:
                errors.append(err)
        if errors:
            raise RuntimeError(f"the PostGIS pieces failed: {errors[0].strip()[:300]}")
        done = _psql(dsn, "-f", scripts[-1])
        seconds = time.perf_counter() - start
        after = server_cpu_s(dsn)
        cpu = None if cpu is None or after is None else after - cpu
    finally:
        for path in scripts:
            os.unlink(path)
    if done.returncode != 0:
        raise RuntimeError(f"the PostGIS query failed: {done.stderr.strip()[:300]}")
    rows: list[Row] = []
    for line in done.stdout.strip().splitlines():
        fields = line.split("\t")
        if len(fields) == 4 and fields[0] in ("hazard", "released"):
            rows.append((fields[0], int(fields[1]), int(fields[2]), float(fields[3])))
    _psql(dsn, "-c", f"DROP TABLE IF EXISTS {SCHEMA}.{names['hp']}, {SCHEMA}.{names['rp']}")
    return seconds, cpu, rows
