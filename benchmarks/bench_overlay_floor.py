"""Benchmark: how much of the summary job is GEOS overlay work, and the floor that sets.

The summary's figures need one GEOS overlay per overlapping pair: each hazard minus the
higher-precedence hazards it overlaps, each release minus the stronger releases it
overlaps, and each remaining hazard piece intersected with each release piece it meets.
No arrangement of the work makes those overlays cheaper; they divide between cores and
nothing more. This script measures, on the data of ``bench_scale.py`` (made by
``scale_data.py``, outside minemap's generator), the job with one worker (read GeoParquet,
validate, :func:`minemap.land_release_summary` with ``workers=1``) and the processor time
spent inside shapely's overlay functions (``intersection``, ``difference``, ``union``,
``union_all``, timed by wrapping them in this process; with one worker everything runs
in the caller's thread). From these:

``floor, 2 cores``
    read + overlays / 2: the job's time on 2 cores if the two cores did nothing but the
    overlays, perfectly shared, and every other step (the read, the search trees, the
    predicates, the measuring, pandas) took no time at all. No implementation built on
    GEOS's overlay can beat it on this machine; the issue's targets below it cannot be
    met by arranging minemap's work, only by cheaper overlays.

Each measurement runs in a fresh Python process after one warm-up run on the 1,000-hazard
data of the same scenario; times are medians of ``--repeat`` runs.

Run::

    python benchmarks/bench_overlay_floor.py                     # 10^5, two blob scenarios
    python benchmarks/bench_overlay_floor.py --sizes 10000 100000 --national-sizes 75000
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_scale  # noqa: E402

#: The shapely functions that run a GEOS overlay.
OVERLAYS = ("intersection", "difference", "union", "union_all")


def _timed(real: Any, spent: list[float]) -> Any:
    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.thread_time()
        try:
            return real(*args, **kwargs)
        finally:
            spent[0] += time.thread_time() - start

    return timed


def worker(scenario: str, n: int) -> None:
    """One measurement in this fresh process; prints a JSON line."""
    import warnings

    import shapely

    import minemap

    warnings.simplefilter("ignore")
    spent = [0.0]
    for name in OVERLAYS:
        setattr(shapely, name, _timed(getattr(shapely, name), spent))

    def run(hz: Path, rl: Path) -> dict[str, float]:
        spent[0] = 0.0
        start = time.perf_counter()
        hazards, releases = minemap.read_hazards(hz), minemap.read_releases(rl)
        read = time.perf_counter() - start
        minemap.land_release_summary(hazards, releases, workers=1)
        return {
            "job_s": time.perf_counter() - start,
            "read_s": read,
            "overlay_s": spent[0],
        }

    run(*bench_scale.paths(scenario, bench_scale.WARM))
    print(json.dumps(run(*bench_scale.paths(scenario, n))))


def measure(scenario: str, n: int, repeat: int) -> dict[str, float]:
    runs = []
    for _ in range(repeat):
        out = subprocess.run(
            [sys.executable, __file__, "--worker", scenario, str(n)],
            check=True,
            capture_output=True,
            text=True,
        )
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--national-sizes", type=int, nargs="*", default=[])
    parser.add_argument("--scenarios", nargs="+", default=["blobs-shared", "blobs-independent"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker[0], int(args.worker[1]))
        return
    jobs = [(s, n) for s in args.scenarios if s != "national" for n in args.sizes]
    jobs += [("national", n) for n in args.national_sizes]
    for scenario, n in jobs:  # made before any clock runs
        bench_scale.paths(scenario, n)
        bench_scale.paths(scenario, bench_scale.WARM)
    print(
        "| scenario | hazards | job, 1 worker | read | GEOS overlays | other | "
        "floor, 2 cores |\n|---|---:|---:|---:|---:|---:|---:|"
    )
    for scenario, n in jobs:
        m = measure(scenario, n, args.repeat)
        other = m["job_s"] - m["read_s"] - m["overlay_s"]
        floor = m["read_s"] + m["overlay_s"] / 2
        print(
            f"| {scenario} | {n:,} | {m['job_s']:.2f} s | {m['read_s']:.2f} s | "
            f"{m['overlay_s']:.2f} s ({100 * m['overlay_s'] / m['job_s']:.0f} %) | "
            f"{other:.2f} s | {floor:.2f} s |",
            flush=True,
        )


if __name__ == "__main__":
    main()
