"""Benchmark: the whole summary job at 10^4 to 10^6 hazards, against the issue's targets.

The job is: read GeoParquet, validate, :func:`minemap.land_release_summary`. Its data come
from ``scale_data.py`` (made outside minemap's generator): ``blobs-shared`` (releases
copied or cut from hazards, the generator-like case), ``blobs-independent`` (releases
digitised on their own: no vertex shared with a hazard) and ``national`` (suspected areas
holding confirmed ones, a vertex every 25 m, independent releases). Ways:

``minemap-1``
    minemap with one worker (``workers=1``, the layers read with one worker too; "n/a"
    while ``land_release_summary`` has no ``workers`` option).
``minemap``
    minemap with all cores (its default).
``minemap-overlays``
    minemap with all cores and its compiled loops switched off (as without the ``fast``
    extra): the hazards and releases made disjoint and every release-hazard pair measured
    by GEOS overlays. Against ``minemap``, what measuring from the boundaries gains.
``dask``
    :func:`minemap.partitioned.land_release_summary` on a ``LocalCluster`` of 2 worker
    processes of one thread, reading the partitioned GeoParquet folders with
    ``dask_geopandas.read_parquet``; the cluster starts before the clock. Its peak memory
    is the sum of the driver's and each worker's peaks (an upper bound: they need not
    peak at once).
``plain``
    the strongest plain-geopandas way (``_plain.run_plain`` with ``explode=True``: the
    dissolved multipolygons exploded before ``overlay``, areas in an equal-area frame),
    one run, stopped after ``--plain-timeout`` seconds ("did not finish").
``postgis``
    a skilled analyst's SQL on a PostGIS server (``--postgis DSN``, run with ``psql``; see
    ``_postgis.py``): each hazard minus the union of its higher-precedence neighbours
    (higher level, or the same level and a smaller row number) found through the GiST
    index, the same for releases (stronger method first), then ``ST_Area(geography)`` of
    the hazard pieces and of their intersections with the release pieces. The per-polygon
    step runs in ``--postgis-sessions`` concurrent sessions (default: the cores seen;
    PostgreSQL keeps a correlated subquery out of its parallel workers), the final query
    on PostgreSQL's parallel workers; ``jit`` is off. Loading (``COPY`` of EWKB, a GiST
    index, ``ANALYZE``) is not timed, nor is the server's memory; "CPU s" is the server's
    (its processes and the children it reaped, read from ``/proc`` when it runs on this
    machine). PostGIS measures on the spheroid with geodesic edges, minemap in an
    equal-area frame with edges straight in longitude and latitude: with edges of tens of
    metres the two agree to about 1e-7.

    ``benchmarks/postgis_server.sh start`` makes and starts a throwaway server for it
    (PostgreSQL with PostGIS installed, e.g. Debian's ``postgresql-15-postgis-3``): a
    cluster under ``/tmp/minemap-postgis`` listening on 127.0.0.1 only, a database
    ``minemap_bench`` with the extension, and prints the DSN to pass; ``stop`` stops it,
    ``destroy`` also deletes it. It never touches a system cluster.

Each minemap, Dask and plain measurement runs in a fresh Python process (peak memory =
its peak resident set, Linux's VmHWM), after one warm-up run of the same way on the
1,000-hazard data of the same scenario; times are medians of ``--repeat`` runs. "CPU s"
is the processor time of the measured job, all threads (for Dask: the driver's and the
workers'): on a shared machine the clock also counts waiting for a core. Hectare
differences are relative to minemap's figures (per threat level, cleared and released).

Run::

    python benchmarks/bench_scale.py --quick                        # 10^4 only
    python benchmarks/bench_scale.py --sizes 10000 100000 --repeat 3
    python benchmarks/bench_scale.py --sizes 1000000 --scenarios blobs-independent \\
        --ways minemap dask --repeat 1
    DSN=$(benchmarks/postgis_server.sh start)
    python benchmarks/bench_scale.py --scenarios blobs-shared blobs-independent national \\
        --sizes 10000 100000 --national-sizes 75000 --ways minemap postgis --postgis "$DSN"
    benchmarks/postgis_server.sh stop
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _postgis  # noqa: E402
import scale_data  # noqa: E402
from _plain import LEVELS, run_plain  # noqa: E402

DATA = Path(__file__).resolve().parent / "_data" / "scale"
WAYS = ("minemap-1", "minemap", "minemap-overlays", "dask", "plain", "postgis")
KEYS = (*(f"{lvl}_ha" for lvl in LEVELS), "cleared_ha", "released_ha")
WARM = 1_000
TARGET_1E5_S, TARGET_1E6_S, TARGET_1E6_MIB = 4.0, 40.0, 4096.0
TARGET_VS_PLAIN, TARGET_VS_POSTGIS = 10.0, 5.0


def paths(scenario: str, n: int, *, partitioned: bool = False) -> tuple[Path, Path]:
    return scale_data.write(scenario, n, DATA, partitioned=partitioned)


def _figures(table: Any) -> dict[str, float]:
    rows = table.set_index("threat_level")
    return {
        **{f"{lvl}_ha": float(rows.loc[lvl, "hazard_ha"]) for lvl in LEVELS},
        "cleared_ha": float(rows.loc["total", "cleared_ha"]),
        "released_ha": float(rows.loc["total", "released_ha"]),
    }


def _peak_mib() -> float:
    """This process's peak resident memory. Linux's VmHWM, not ``ru_maxrss``: a child's
    ``ru_maxrss`` starts at its parent's peak (kept across ``execve``), so the data made
    in the harness would count in every measurement."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _minemap(hz: Path, rl: Path, workers: int | None) -> dict[str, float]:
    import contextlib

    import minemap
    from minemap._workers import using_workers

    options: dict[str, Any] = {} if workers is None else {"workers": workers}
    # one worker reads on one core too (validation's checks, numba's loading beside them)
    reading = contextlib.nullcontext() if workers is None else using_workers(workers)
    start = time.perf_counter()
    with reading:
        hazards, releases = minemap.read_hazards(hz), minemap.read_releases(rl)
    table = minemap.land_release_summary(hazards, releases, **options)
    return {"seconds": time.perf_counter() - start, **_figures(table)}


def _dask(hz: Path, rl: Path, client: Any) -> dict[str, float]:
    import dask_geopandas  # type: ignore[import-untyped]

    from minemap import partitioned

    start = time.perf_counter()
    hazards = dask_geopandas.read_parquet(hz.with_suffix(""))
    releases = dask_geopandas.read_parquet(rl.with_suffix(""))
    table = partitioned.land_release_summary(hazards, releases, client=client)
    return {"seconds": time.perf_counter() - start, **_figures(table)}


def _cpu_s() -> float:
    """Processor seconds this process has used, all threads: on a machine shared with
    other work the clock also counts waiting for a core."""
    import resource

    use = resource.getrusage(resource.RUSAGE_SELF)
    return use.ru_utime + use.ru_stime


def worker(way: str, scenario: str, n: int) -> None:
    """One measurement in this fresh process; prints a JSON line."""
    import warnings

    import geopandas  # noqa: F401  imports are not part of the measured work
    import pyarrow.parquet  # noqa: F401

    import minemap  # noqa: F401

    warnings.simplefilter("ignore")  # data notes and overlay's notes are not results
    if way == "dask":
        from distributed import Client, LocalCluster

        start = time.perf_counter()
        cluster = LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        )
        client = Client(cluster)
        startup = time.perf_counter() - start
        _dask(*paths(scenario, WARM, partitioned=True), client)
        cpu = _cpu_s() + sum(client.run(_cpu_s).values())
        result: dict[str, Any] = _dask(*paths(scenario, n, partitioned=True), client)
        result["cpu_s"] = _cpu_s() + sum(client.run(_cpu_s).values()) - cpu
        workers_mib = client.run(_peak_mib)
        result["startup_s"] = startup
        result["peak_mib"] = _peak_mib() + sum(workers_mib.values())
        client.close()
        cluster.close()
    else:
        if way == "plain":

            def run(hz: Path, rl: Path) -> dict[str, float]:
                return run_plain(hz, rl, explode=True, equal_area=True)
        else:
            if way == "minemap-overlays":
                from minemap import _shared_area

                _shared_area._compiled = False  # as without numba: GEOS overlays measure all

            def run(hz: Path, rl: Path) -> dict[str, float]:
                return _minemap(hz, rl, 1 if way == "minemap-1" else None)

        run(*paths(scenario, WARM))
        cpu = _cpu_s()
        result = run(*paths(scenario, n))
        result["cpu_s"] = _cpu_s() - cpu
        result["peak_mib"] = _peak_mib()
    print(json.dumps(result))


def has_workers() -> bool:
    import inspect

    import minemap

    return "workers" in inspect.signature(minemap.land_release_summary).parameters


def measure(way: str, scenario: str, n: int, repeat: int, timeout: float | None) -> dict:
    """Fresh-process runs of one way: {"runs": [...]} or {"note": why there are none}."""
    runs: list[dict[str, Any]] = []
    for _ in range(repeat):
        command = [sys.executable, __file__, "--worker", way, scenario, str(n)]
        try:
            done = subprocess.run(
                command, check=True, capture_output=True, text=True, timeout=timeout
            )
        except subprocess.TimeoutExpired:
            return {"runs": runs, "note": f"did not finish in {timeout:.0f} s"}
        except subprocess.CalledProcessError as error:
            last = (error.stderr or "").strip().splitlines()[-1:] or ["no message"]
            return {"runs": runs, "note": f"failed: {last[0][:120]}"}
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return {"runs": runs}


# --- PostGIS ---------------------------------------------------------------------------------


def postgis_ready(dsn: str | None) -> str | None:
    """None when the server answers with PostGIS, else why the baseline is skipped."""
    return _postgis.ready(dsn)


def postgis_load(dsn: str, scenario: str, n: int) -> tuple[str, str]:
    """Load the scenario's two layers into PostGIS (not timed); their table names."""
    return _postgis.load(dsn, f"{scenario.replace('-', '_')}_{n}", *paths(scenario, n))


def postgis_run(dsn: str, tables: tuple[str, str], *, sessions: int = 2) -> dict[str, float]:
    """The analyst's SQL (``_postgis.run``), timed from the client, as hectares."""
    seconds, cpu, rows = _postgis.run(dsn, tables, sessions=sessions)
    level = {v: k for k, v in _postgis.LEVEL_RANK.items()}
    method = {v: k for k, v in _postgis.METHOD_RANK.items()}
    out = dict.fromkeys(KEYS, 0.0)
    for kind, lvl, m, m2 in rows:
        ha = m2 / 1e4
        if kind == "hazard":
            out[f"{level[lvl]}_ha"] += ha
        else:
            out["released_ha"] += ha
            if method[m] == "cleared":
                out["cleared_ha"] += ha
    return {"seconds": seconds, **({} if cpu is None else {"cpu_s": cpu}), **out}


# --- the table -------------------------------------------------------------------------------


def _median(entry: dict) -> float | None:
    runs = entry.get("runs") or []
    return statistics.median(r["seconds"] for r in runs) if runs else None


def _diff(a: dict, b: dict) -> float:
    return max(abs(a[k] - b[k]) / max(abs(b[k]), 1e-9) for k in KEYS)


def _row(
    scenario: str,
    n: int,
    releases: int,
    way: str,
    entry: dict,
    ref: dict | None,
    plain_s: float | None,
) -> str:
    t = _median(entry)
    runs = entry.get("runs") or []
    if t is None:
        text = entry.get("note", "n/a")
        return f"| {scenario} | {n:,} | {releases:,} | {way} | {text} | | | | | |"
    peak = max((r["peak_mib"] for r in runs if r.get("peak_mib") is not None), default=None)
    speed = f"{plain_s / t:.1f}x" if plain_s else "–"
    diff = f"{100 * _diff(runs[0], ref):.1e} %" if ref is not None else "–"
    mib = f"{peak:,.0f}" if peak is not None else "–"
    cpus = [r["cpu_s"] for r in runs if r.get("cpu_s") is not None]
    cpu = f"{statistics.median(cpus):.2f}" if cpus else "–"
    return (
        f"| {scenario} | {n:,} | {releases:,} | {way} | {t:.2f} | {cpu} | {len(runs)} | {mib} | "
        f"{speed} | {diff} |"
    )


def targets(results: dict) -> list[str]:
    """The issue's targets next to the measured figures (minemap with all cores): the
    times at 10^5 and 10^6 are set on the blob data, the factors on the national shape
    and against PostGIS."""
    lines = []

    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    for key, entry in results.items():
        scenario, n = key.split("/")[0], int(key.split("/")[1])
        mm = _median(entry["ways"].get("minemap", {}))
        if mm is None:
            continue
        runs = entry["ways"]["minemap"]["runs"]
        peak = max(r["peak_mib"] for r in runs)
        if n == 100_000 and scenario != "national":
            lines.append(
                f"- {scenario} 10^5: {mm:.2f} s (target < {TARGET_1E5_S:.0f} s): "
                f"{verdict(mm < TARGET_1E5_S)}"
            )
        if n == 1_000_000 and scenario != "national":
            lines.append(
                f"- {scenario} 10^6: {mm:.1f} s, {peak:,.0f} MiB (target < {TARGET_1E6_S:.0f} s "
                f"and < 4 GiB): {verdict(mm < TARGET_1E6_S and peak < TARGET_1E6_MIB)}"
            )
        plain = _median(entry["ways"].get("plain", {}))
        if scenario == "national" and plain is not None:
            lines.append(
                f"- national {n:,}: {plain / mm:.1f}x the strong plain way (target >= "
                f"{TARGET_VS_PLAIN:.0f}x): {verdict(plain / mm >= TARGET_VS_PLAIN)}"
            )
        pg = _median(entry["ways"].get("postgis", {}))
        if pg is not None:
            lines.append(
                f"- {scenario} {n:,}: {pg / mm:.1f}x PostGIS (target >= "
                f"{TARGET_VS_POSTGIS:.0f}x): {verdict(pg / mm >= TARGET_VS_POSTGIS)}"
            )
    if not any(_median(e["ways"].get("postgis", {})) for e in results.values()):
        lines.append(f"- >= {TARGET_VS_POSTGIS:.0f}x PostGIS: not measured (no PostGIS server)")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument(
        "--national-sizes",
        type=int,
        nargs="+",
        default=[10_000, 75_000],
        help="hazards in the national shape (8 releases for every 15 hazards)",
    )
    parser.add_argument("--quick", action="store_true", help="10^4 hazards only")
    parser.add_argument(
        "--scenarios", nargs="+", choices=scale_data.SCENARIOS, default=list(scale_data.SCENARIOS)
    )
    parser.add_argument("--ways", nargs="+", choices=WAYS, default=list(WAYS))
    parser.add_argument("--repeat", type=int, default=3, help="runs of each minemap/Dask way")
    parser.add_argument("--plain-repeat", type=int, default=1)
    parser.add_argument("--plain-timeout", type=float, default=600.0)
    parser.add_argument("--postgis", metavar="DSN", help="a PostgreSQL server with PostGIS")
    parser.add_argument(
        "--postgis-sessions",
        type=int,
        default=os.cpu_count() or 1,
        help="concurrent sessions for the per-polygon SQL (default: the cores seen)",
    )
    parser.add_argument("--save", type=Path, metavar="FILE.json", help="the raw numbers")
    parser.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker[0], args.worker[1], int(args.worker[2]))
        return
    if args.quick:
        args.sizes, args.national_sizes = [10_000], [10_000]
    pg_note = postgis_ready(args.postgis) if "postgis" in args.ways else "PostGIS not among --ways"
    one_worker = has_workers()
    print(
        f"{os.cpu_count()} cores seen; minemap workers= option: "
        f"{'yes' if one_worker else 'no (minemap-1 is n/a)'}; "
        f"{pg_note or 'PostGIS at ' + str(args.postgis)}",
        flush=True,
    )
    results: dict[str, Any] = {}
    lines = [
        "| scenario | hazards | releases | way | time s (median) | CPU s | runs | peak MiB | "
        "speed-up vs plain | max rel. Δha vs minemap |",
        "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    print("\n".join(lines), flush=True)
    for scenario in args.scenarios:
        sizes = args.national_sizes if scenario == "national" else args.sizes
        for n in sizes:
            start = time.perf_counter()
            hz, rl = paths(scenario, n, partitioned="dask" in args.ways)
            paths(scenario, WARM, partitioned="dask" in args.ways)
            made = time.perf_counter() - start
            import pyarrow.parquet as pq

            releases = pq.ParquetFile(rl).metadata.num_rows
            ways: dict[str, dict] = {}
            for way in args.ways:
                if way == "minemap-1" and not one_worker:
                    ways[way] = {"note": "n/a (no workers= option yet)"}
                elif way == "postgis":
                    if pg_note is not None:
                        ways[way] = {"note": "skipped (no PostGIS server)"}
                        continue
                    tables = postgis_load(args.postgis, scenario, n)
                    ways[way] = {
                        "runs": [
                            postgis_run(args.postgis, tables, sessions=args.postgis_sessions)
                            for _ in range(args.repeat)
                        ]
                    }
                elif way == "plain":
                    ways[way] = measure(way, scenario, n, args.plain_repeat, args.plain_timeout)
                else:
                    ways[way] = measure(way, scenario, n, args.repeat, None)
            ref_runs = ways.get("minemap", {}).get("runs")
            ref = ref_runs[0] if ref_runs else None
            plain_s = _median(ways.get("plain", {}))
            for way, entry in ways.items():
                row = _row(scenario, n, releases, way, entry, ref, plain_s)
                lines.append(row)
                print(row, flush=True)
            results[f"{scenario}/{n}"] = {"releases": releases, "data_s": made, "ways": ways}
    print("\nTargets (issue 16, on 2 cores; minemap with all cores):")
    for line in targets(results) or ["- no size the targets speak of was measured"]:
        print(line)
    if pg_note:
        print(f"\n{pg_note}")
    if args.save:
        args.save.write_text(
            json.dumps({"cores": os.cpu_count(), "results": results, "table": lines}, indent=1)
        )


if __name__ == "__main__":
    main()
