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

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

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


def load(dsn: str, name: str, hazards: Path, releases: Path) -> tuple[str, str]:
    """COPY both layers (hex EWKB, lon/lat) into ``minemap_bench.hz_<name>`` and
    ``rl_<name>`` with row numbers as ids, a GiST index each and ``ANALYZE`` (not timed).
    Threat levels and methods become ranks (3 = high / cleared)."""
    import geopandas as gpd
    import pandas as pd
    import shapely

    names = []
    for kind, path in (("hz", hazards), ("rl", releases)):
        table = f"{kind}_{name}"
        names.append(table)
        layer = gpd.read_parquet(path).to_crs(4326)
        if kind == "hz":
            rank = layer["threat_level"].str.strip().str.lower().map(LEVEL_RANK)
            column = "lvl"
        else:
            rank = layer["method"].str.strip().str.lower().map(METHOD_RANK)
            column = "m"
        if rank.isna().any():
            raise ValueError(f"{path}: {int(rank.isna().sum())} rows with an unknown {column}")
        wkb = shapely.to_wkb(
            shapely.set_srid(layer.geometry.to_numpy(), 4326), hex=True, include_srid=True
        )
        csv = pd.DataFrame({"id": range(len(layer)), column: rank, "geom": wkb}).to_csv(
            index=False, header=False
        )
        steps = (
            f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}; DROP TABLE IF EXISTS {SCHEMA}.{table}; "
            f"CREATE TABLE {SCHEMA}.{table} "
            f"(id integer PRIMARY KEY, {column} integer NOT NULL, geom geometry(Geometry, 4326));",
            f"COPY {SCHEMA}.{table} FROM STDIN WITH (FORMAT csv)",
            f"CREATE INDEX ON {SCHEMA}.{table} USING gist (geom); ANALYZE {SCHEMA}.{table};",
        )
        for step in steps:
            done = _psql(dsn, "-c", step, stdin=csv if step.startswith("COPY") else None)
            if done.returncode != 0:
                raise RuntimeError(f"loading {table} into PostGIS failed: {done.stderr.strip()}")
    return names[0], names[1]


Row = tuple[str, int, int, float]


def run(dsn: str, tables: tuple[str, str], *, sessions: int = 2) -> tuple[float, list[Row]]:
    """The analyst's SQL on loaded tables: the wall clock of both steps and the rows
    (kind, level rank, method rank, m²)."""
    hz, rl = tables
    names = {"hz": hz, "rl": rl, "hp": f"hp_{hz[3:]}", "rp": f"rp_{hz[3:]}", "n": sessions}
    settings = SETTINGS.format(schema=SCHEMA, workers=sessions)
    done = _psql(dsn, stdin=settings + CREATE.format(**names))
    if done.returncode != 0:
        raise RuntimeError(f"the PostGIS piece tables failed: {done.stderr.strip()[:300]}")
    scripts = [_script(settings + PIECES.format(**names, k=k)) for k in range(sessions)]
    scripts.append(_script(settings + HECTARES.format(**names)))
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
    return seconds, rows
