"""Reading a national-size PostGIS table: time and peak memory, whole and through a bbox.

A table of ``--rows`` hazard squares (one million by default, 1000 columns of them side by
side) is made once in the database; each way then runs in a fresh Python process, which
reports its wall time and peak resident memory (``ru_maxrss``):

- ``whole``: :func:`minemap.read_hazards` of the whole table (chunks of 20,000 rows);
- ``bbox``: the same with a bbox holding 0.25 % of the rows (the GiST index finds them);
- ``baseline``: an empty Python process importing minemap (the floor under both).

Run against a throwaway server (``benchmarks/postgis_server.sh start`` prints its DSN)::

    python benchmarks/bench_postgis_read.py --postgis "$(bash benchmarks/postgis_server.sh start)"

Medians of ``--repeat`` runs are printed, with the memory the bbox read saves.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

_CHILD = r"""
import json, resource, sys, time
t0 = time.perf_counter()
import minemap
from minemap.io import PostGIS
way, url, rows = sys.argv[1], sys.argv[2], int(sys.argv[3])
n = 0
if way != "baseline":
    bbox = (44.0, 38.0, 44.2, 38.2) if way == "bbox" else None
    n = len(minemap.read_hazards(PostGIS(url, table="national_read", bbox=bbox)))
print(json.dumps({"seconds": time.perf_counter() - t0, "rows": n,
                  "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _url(dsn: str) -> str:
    """A libpq keyword DSN (as postgis_server.sh prints it) as a URL."""
    if "://" in dsn:
        return dsn
    parts = dict(p.split("=", 1) for p in dsn.split())
    return (
        f"postgresql://{parts.get('user', '')}@{parts.get('host', '')}:{parts.get('port', '5432')}"
        f"/{parts.get('dbname', '')}"
    )


def make_table(url: str, rows: int) -> None:
    """The table of ``rows`` squares of about 200 m, unless it is there with that many."""
    import psycopg

    with psycopg.connect(url) as conn:
        there = conn.execute("SELECT to_regclass('national_read')").fetchone()
        if there is not None and there[0] is not None:
            have = conn.execute("SELECT count(*) FROM national_read").fetchone()
            if have is not None and have[0] == rows:
                return
        conn.execute("DROP TABLE IF EXISTS national_read")
        conn.execute(
            "CREATE TABLE national_read AS SELECT 'HZ-' || i AS hazard_id, "
            "CASE i %% 3 WHEN 0 THEN 'high' WHEN 1 THEN 'medium' ELSE 'low' END "
            "AS threat_level, ST_MakeEnvelope(44 + (i %% 1000) * 0.004, 38 + (i / 1000) * 0.004, "
            "44.002 + (i %% 1000) * 0.004, 38.002 + (i / 1000) * 0.004, 4326)"
            "::geometry(Polygon, 4326) AS geom FROM generate_series(0, %s) AS i",
            (rows - 1,),
        )
        conn.execute("CREATE INDEX ON national_read USING gist (geom)")
        conn.execute("ANALYZE national_read")


def run(way: str, url: str, rows: int) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, way, url, str(rows)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgis", required=True, help="DSN or URL of a PostGIS database")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    url = _url(args.postgis)
    t0 = time.perf_counter()
    make_table(url, args.rows)
    print(f"table of {args.rows:,} rows ready in {time.perf_counter() - t0:.1f} s")
    medians = {}
    for way in ("baseline", "bbox", "whole"):
        runs = [run(way, url, args.rows) for _ in range(args.repeat)]
        medians[way] = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        m = medians[way]
        print(
            f"{way:9s} rows {int(m['rows']):>9,}  {m['seconds']:7.2f} s  "
            f"peak {m['peak_mib']:7.0f} MiB  (medians of {args.repeat})"
        )
    extra_bbox = medians["bbox"]["peak_mib"] - medians["baseline"]["peak_mib"]
    extra_whole = medians["whole"]["peak_mib"] - medians["baseline"]["peak_mib"]
    print(
        f"memory above an idle process: bbox {extra_bbox:.0f} MiB, whole table "
        f"{extra_whole:.0f} MiB ({extra_whole / max(extra_bbox, 1):.0f}x)"
    )


if __name__ == "__main__":
    main()
