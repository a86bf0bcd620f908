"""Benchmark: the land-release summary on one machine against the partitioned Dask path.

Both ways run on the same synthetic scenario (``bench_summary.scenario_paths``: hazards
sized to Azerbaijan's public figures, half as many releases), read and validated before
the clock starts. Each way runs in a fresh Python process, so its peak memory (max RSS) is
its own; times are medians of ``--repeat`` runs after one warm-up run. The Dask way runs on
a ``LocalCluster`` with 2 workers of one thread each, in the process (``processes=False``),
and again with 2 worker processes; the cluster starts before the clock (its start-up is
printed apart); ``npartitions`` is 2 per worker. With worker processes, the peak memory is
the driver's only.

The Dask process also measures the pieces of a cluster model:

    time ≈ partition + max over workers of (its partitions' work) + combine and overhead

``partition`` is :func:`minemap.partitioned.partition_components` alone; each partition's
work is the single-machine summary of that partition alone, timed one after another; the
overhead is what the measured Dask time leaves beyond the partition step and the 2-worker
makespan of those partition times. The projection for W workers (2W partitions) uses the
same partition step and overhead, and a makespan of max(total work / W, largest partition).

Run::

    python benchmarks/bench_dask.py                      # 10,000 and 100,000 hazards
    python benchmarks/bench_dask.py --sizes 10000 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_summary import scenario_paths  # noqa: E402


def _peak_mib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _layers(n: int) -> tuple:
    import geopandas as gpd

    import minemap

    hz, rl = scenario_paths(n)
    return minemap.read_hazards(gpd.read_parquet(hz)), minemap.read_releases(gpd.read_parquet(rl))


def worker(kind: str, n: int, repeat: int) -> None:
    """Time one way in this process and print a JSON line."""
    from minemap import partitioned
    from minemap.stats import land_release_summary

    warnings.simplefilter("ignore")
    hazards, releases = _layers(n)
    out: dict[str, object] = {"kind": kind, "n": n}
    if kind == "single":
        land_release_summary(hazards.iloc[:1000], releases.iloc[:500])  # warm-up
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            table = land_release_summary(hazards, releases)
            times.append(time.perf_counter() - start)
    else:
        from distributed import Client, LocalCluster

        start = time.perf_counter()
        cluster = LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=kind == "dask-processes",
            dashboard_address=None,
        )
        client = Client(cluster)
        out["startup_s"] = time.perf_counter() - start
        partitioned.land_release_summary(
            hazards.iloc[:1000], releases.iloc[:500], client=client, npartitions=4
        )
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            table = partitioned.land_release_summary(
                hazards, releases, client=client, npartitions=4
            )
            times.append(time.perf_counter() - start)
        client.close()
        cluster.close()
        # the model's pieces
        start = time.perf_counter()
        parts = partitioned.partition_components(hazards, releases, npartitions=4)
        out["partition_s"] = time.perf_counter() - start
        h_parts, r_parts = parts[: len(hazards)], parts[len(hazards) :]
        each = []
        for p in range(4):
            start = time.perf_counter()
            land_release_summary(hazards.iloc[h_parts == p], releases.iloc[r_parts == p])
            each.append(time.perf_counter() - start)
        out["partition_work_s"] = each
        labels = partitioned.partition_components(hazards, releases, npartitions=len(parts))
        out["components"] = int(len(set(labels.tolist())))
    out["times_s"] = times
    out["median_s"] = statistics.median(times)
    out["total_ha"] = float(table.set_index("threat_level").loc["total", "hazard_ha"])
    out["peak_mib"] = _peak_mib()
    print(json.dumps(out))


def measure(kind: str, n: int, repeat: int) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--worker", kind, str(n), str(repeat)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def _makespan(work: list[float], workers: int) -> float:
    """Longest worker time when partitions go, largest first, to the least busy worker."""
    loads = [0.0] * workers
    for t in sorted(work, reverse=True):
        loads[loads.index(min(loads))] += t
    return max(loads)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker[0], int(args.worker[1]), int(args.worker[2]))
        return
    print(
        "| hazards | single machine (s) | Dask, 2 workers (s) | Dask / single | peak MiB single "
        "| peak MiB Dask |"
    )
    print("|---:|---:|---:|---:|---:|---:|")
    rows = []
    for n in args.sizes:
        scenario_paths(n)  # written once, outside the timings
        single, dask = measure("single", n, args.repeat), measure("dask", n, args.repeat)
        apart = measure("dask-processes", n, args.repeat)
        for other in (dask, apart):
            assert abs(single["total_ha"] - other["total_ha"]) <= 1e-9 * single["total_ha"]
        rows.append((n, single, dask))
        print(
            f"| {n:,} | {single['median_s']:.2f} | {dask['median_s']:.2f} "
            f"(processes: {apart['median_s']:.2f}) | "
            f"{dask['median_s'] / single['median_s']:.2f} | {single['peak_mib']:.0f} | "
            f"{dask['peak_mib']:.0f} (processes: {apart['peak_mib']:.0f}, this process only) |"
        )
    print()
    for n, single, dask in rows:
        work = dask["partition_work_s"]
        span = _makespan(work, 2)
        overhead = max(dask["median_s"] - dask["partition_s"] - span, 0.0)
        print(
            f"{n:,} hazards: {dask['components']:,} touching groups; cluster start "
            f"{dask['startup_s']:.2f} s (once); partition step {dask['partition_s']:.2f} s; "
            f"4 partitions' work {', '.join(f'{t:.2f}' for t in work)} s (sum {sum(work):.2f} s, "
            f"2-worker makespan {span:.2f} s); combine and overhead {overhead:.2f} s."
        )
        # W machines like this one, 2W partitions: each does 1/W of the work (the groups
        # are thousands of small ones, so no single group bounds the makespan)
        model = [dask["partition_s"] + sum(work) / w + overhead for w in (2, 4, 8, 16)]
        print(
            "  model for W such machines: "
            + ", ".join(f"W={w}: {t:.2f} s" for w, t in zip((2, 4, 8, 16), model, strict=True))
            + f" (single machine {single['median_s']:.2f} s)"
        )


if __name__ == "__main__":
    main()
