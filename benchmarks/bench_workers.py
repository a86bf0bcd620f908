"""Benchmark: speed-up from one worker thread to two, and what 8 and 16 cores would give.

Times :func:`minemap.land_release_summary` and :func:`minemap.priority_zones` on the
100,000-hazard scenarios of ``bench_summary.py`` (sized to Azerbaijan's public figures,
with 50,000 releases) and ``bench_priority.py`` (plus 20,000 roads, 5,000 infrastructure
points and 5,000 settlements), with ``workers=1`` and ``workers=2`` in the same process,
alternating (1, 2, 1, 2, ...) so that a neighbour's load on a shared machine falls on
both alike. The layers are read and validated once, before the clock; the times are of
the computation. Each function runs once on the data first (PROJ's database, GEOS and
thread start-up, paid once a session).

For each function it prints the median times, the speed-up ``S = t1 / t2``, the serial
fraction from Amdahl's law for two workers, ``s = 2 / S − 1`` (the share of the one-worker
time that no second core shortens), and the speed-up that ``s`` projects for ``n`` cores,
``1 / (s + (1 − s) / n)``, at 8 and 16. The projection is an upper bound of the model:
memory bandwidth and the cost of starting threads grow with ``n``; it assumes the serial
part stays serial and the rest divides evenly.

It also checks the figures: both worker counts must give the same table, to the last bit.

Run::

    python benchmarks/bench_workers.py                  # 100,000 hazards, 3 runs each
    python benchmarks/bench_workers.py --repeat 5
    python benchmarks/bench_workers.py --quick          # 10,000 hazards
    python benchmarks/bench_workers.py --only summary --profile 1  # where one worker spends

Last, it measures the machine's own ceiling (:func:`machine_ceiling`): two threads doing
nothing but independent GEOS overlays, against one. A speed-up is read against it: on
cores that share a cache and a memory bus, or that a host lends to other machines, no
program gets 2x, and the 1.7x target asks for most of what is there.

The issue's target: at least 1.7x on 2 cores for both at 100,000 hazards.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import resource
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import shapely  # noqa: E402

import minemap  # noqa: E402
from minemap._workers import available_cores  # noqa: E402

TARGET = 1.7


def amdahl_serial(speedup: float, workers: int = 2) -> float:
    """Serial fraction ``s`` with ``speedup = 1 / (s + (1 - s) / workers)``, in [0, 1]."""
    s = (workers / speedup - 1.0) / (workers - 1.0)
    return min(max(s, 0.0), 1.0)


def amdahl_speedup(serial: float, cores: int) -> float:
    """Speed-up on ``cores`` cores of a computation whose serial fraction is ``serial``."""
    return 1.0 / (serial + (1.0 - serial) / cores)


def summary_job(n: int) -> Callable[[int], pd.DataFrame]:
    from bench_summary import scenario_paths

    hz, rl = scenario_paths(n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        hazards, releases = minemap.read_hazards(hz), minemap.read_releases(rl)
    print(f"summary: {len(hazards):,} hazards, {len(releases):,} releases", flush=True)

    def run(workers: int) -> pd.DataFrame:
        return minemap.land_release_summary(hazards, releases, workers=workers)

    return run


def priority_job(n: int) -> Callable[[int], pd.DataFrame]:
    from bench_priority import make_inputs

    roads, settlements, infra = n // 5, n // 20, n // 20
    start = time.perf_counter()
    hazards, releases, layers = make_inputs(n, roads, settlements, infra, 3)
    print(
        f"priority zones: {len(hazards):,} hazards, {len(releases):,} releases, "
        f"{len(layers['roads']):,} roads, {len(layers['infrastructure']):,} infrastructure, "
        f"{len(layers['residential']):,} settlements (made in "
        f"{time.perf_counter() - start:.0f} s)",
        flush=True,
    )

    def run(workers: int) -> pd.DataFrame:
        return minemap.priority_zones(hazards, releases, **layers, workers=workers)

    return run


JOBS = {"summary": summary_job, "priority": priority_job}


def same_figures(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    if a.attrs != b.attrs or list(a.columns) != list(b.columns) or len(a) != len(b):
        return False
    if "geometry" in a.columns:
        if shapely.to_wkb(a.geometry.array).tolist() != shapely.to_wkb(b.geometry.array).tolist():
            return False
        a, b = pd.DataFrame(a.drop(columns="geometry")), pd.DataFrame(b.drop(columns="geometry"))
    try:
        pd.testing.assert_frame_equal(a, b, check_exact=True)
    except AssertionError:
        return False
    return True


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(name: str, run: Callable[[int], pd.DataFrame], counts: list[int], repeat: int) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run(max(counts))  # warm: PROJ, GEOS, threads
        times: dict[int, list[float]] = {w: [] for w in counts}
        cpu: dict[int, list[float]] = {w: [] for w in counts}
        tables: dict[int, pd.DataFrame] = {}
        for k in range(repeat):
            for w in counts:
                c0, t0 = cpu_seconds(), time.perf_counter()
                tables[w] = run(w)
                times[w].append(time.perf_counter() - t0)
                cpu[w].append(cpu_seconds() - c0)
                print(
                    f"  {name} run {k + 1}, workers={w}: {times[w][-1]:6.2f} s "
                    f"(processor {cpu[w][-1]:6.2f} s; load {os.getloadavg()[0]:.1f})",
                    flush=True,
                )
    same = all(same_figures(tables[counts[0]], tables[w]) for w in counts[1:])
    share = parallel_share(run, repeat)
    return {"times": times, "cpu": cpu, "same": same, "share": share}


class ParallelShare:
    """Time spent in the kernel's chunked sections, from the outside.

    Every call of :func:`minemap._overlay.parallel` or :func:`~minemap._overlay.by_target`
    large enough to be cut into chunks
    (and the stack unions of ``flatten_merged``, which run in a pool too) is timed; with
    one worker, the rest of the run is what a second core cannot shorten, except stages
    that the side pools overlap (so ``1 - share`` bounds the serial fraction from above).
    This estimate needs no idle core, unlike the speed-up itself: on a shared machine it
    says what the code would gain with the cores free.
    """

    def __init__(self) -> None:
        self.seconds = 0.0
        self._depth = 0

    def __enter__(self) -> ParallelShare:
        from minemap import _overlay

        self._patched = []
        for attribute in ("parallel", "by_target"):
            real = getattr(_overlay, attribute)
            timed = self._timed(real, _overlay.PARALLEL_THRESHOLD)
            for name, module in list(sys.modules.items()):
                if name.startswith("minemap") and getattr(module, attribute, None) is real:
                    self._patched.append((module, attribute, real))
                    setattr(module, attribute, timed)
        return self

    def _timed(self, real: Callable[..., Any], threshold: int) -> Callable[..., Any]:
        def timed(func, *arrays, **options):
            if self._depth or len(arrays[0]) < threshold:
                return real(func, *arrays, **options)
            self._depth += 1
            start = time.perf_counter()
            try:
                return real(func, *arrays, **options)
            finally:
                self.seconds += time.perf_counter() - start
                self._depth -= 1

        return timed

    def __exit__(self, *exc: object) -> None:
        for module, attribute, real in self._patched:
            setattr(module, attribute, real)


def parallel_share(run: Callable[[int], pd.DataFrame], repeat: int) -> float:
    """Median share of a one-worker run spent in sections that are cut into chunks."""
    shares = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(repeat):
            with ParallelShare() as timer:
                start = time.perf_counter()
                run(1)
                total = time.perf_counter() - start
            shares.append(timer.seconds / total)
    return statistics.median(shares)


def machine_ceiling(repeat: int, pairs: int = 40_000) -> tuple[float, float, float]:
    """What two threads gain on this machine when they do nothing but independent GEOS
    overlays: the medians of one and two threads intersecting ``pairs`` pairs of blobs
    (``blobs.py``'s outlines, partly overlapping), and their ratio.

    No computation of minemap's can share its work between two cores better than this
    one: the ratio is the ceiling the 1.7x target is measured under (cores sharing a cache
    and memory bus, or a host lending them to other machines, give less than 2x).
    """
    from concurrent.futures import ThreadPoolExecutor

    from blobs import _radial

    rng = np.random.default_rng(16)
    outlines = _radial(rng, 2 * pairs)
    polygons = np.array([shapely.Polygon(xy) for xy in outlines], dtype=object)
    a = polygons[:pairs]
    b = shapely.transform(polygons[pairs:], lambda xy: xy + rng.uniform(-1.2, 1.2, (1, 2)))
    half = pairs // 2
    times: dict[int, list[float]] = {1: [], 2: []}
    with ThreadPoolExecutor(2) as pool:
        shapely.intersection(a[:1000], b[:1000])  # warm
        for _ in range(repeat):
            start = time.perf_counter()
            shapely.intersection(a, b)
            times[1].append(time.perf_counter() - start)
            start = time.perf_counter()
            list(pool.map(shapely.intersection, (a[:half], a[half:]), (b[:half], b[half:])))
            times[2].append(time.perf_counter() - start)
    t1, t2 = statistics.median(times[1]), statistics.median(times[2])
    return t1, t2, t1 / t2


def profile(run: Callable[[int], pd.DataFrame], workers: int) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run(workers)
        prof = cProfile.Profile()
        prof.enable()
        run(workers)
        prof.disable()
    pstats.Stats(prof).sort_stats("cumulative").print_stats(45)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hazards", type=int, default=100_000)
    parser.add_argument("--quick", action="store_true", help="10,000 hazards")
    parser.add_argument("--repeat", type=int, default=3, help="runs per worker count (≥ 3)")
    parser.add_argument("--only", choices=tuple(JOBS), help="time one function only")
    parser.add_argument(
        "--profile", type=int, metavar="WORKERS", help="profile one run with WORKERS instead"
    )
    args = parser.parse_args(argv)
    n = 10_000 if args.quick else args.hazards
    names = [args.only] if args.only else list(JOBS)
    counts = [1, 2]
    if args.profile:
        for name in names:
            profile(JOBS[name](n), args.profile)
        return
    print(
        f"{available_cores()} cores available to this process; load average "
        f"{', '.join(f'{v:.1f}' for v in os.getloadavg())}",
        flush=True,
    )
    rows, best = [], []
    for name in names:
        result = measure(name, JOBS[name](n), counts, args.repeat)
        t1, t2 = (statistics.median(result["times"][w]) for w in counts)
        c1, c2 = (statistics.median(result["cpu"][w]) for w in counts)
        speedup = t1 / t2
        serial = amdahl_serial(speedup)
        rows.append((name, t1, t2, c1, c2, speedup, serial, result["share"], result["same"]))
        b1, b2 = (min(result["times"][w]) for w in counts)
        best.append((name, b1, b2))
    print(
        f"\n{n:,} hazards, median of {args.repeat} runs each, alternating\n"
        f"{'function':>9} | {'1 worker s':>10} {'2 workers s':>11} | {'cpu 1 s':>7} "
        f"{'cpu 2 s':>7} | {'speed-up':>8} {'target':>6} | {'serial s':>8} | "
        f"{'8 cores':>7} {'16 cores':>8} | same figures"
    )
    for name, t1, t2, c1, c2, speedup, serial, _, same in rows:
        print(
            f"{name:>9} | {t1:>10.2f} {t2:>11.2f} | {c1:>7.2f} {c2:>7.2f} | "
            f"{speedup:>7.2f}x {'met' if speedup >= TARGET else 'missed':>6} | "
            f"{serial:>8.3f} | {amdahl_speedup(serial, 8):>6.1f}x "
            f"{amdahl_speedup(serial, 16):>7.1f}x | {'yes' if same else 'NO'}"
        )
    print(
        "\nBest runs (the least disturbed by other work on the machine):\n"
        + "\n".join(
            f"{name:>9} | {b1:>10.2f} {b2:>11.2f} | speed-up {b1 / b2:.2f}x, serial "
            f"{amdahl_serial(b1 / b2):.3f}"
            for name, b1, b2 in best
        )
    )
    print(
        "\nFrom the code's structure (one-worker runs; share of time in chunked sections; "
        "needs no idle core):\n"
        f"{'function':>9} | {'chunked':>7} | {'serial ≤':>8} | {'2 cores':>7} {'8 cores':>7} "
        f"{'16 cores':>8}"
    )
    for name, *_, share, _ in rows:
        serial = 1.0 - share
        print(
            f"{name:>9} | {100 * share:>6.1f}% | {serial:>8.3f} | "
            f"{amdahl_speedup(serial, 2):>6.2f}x {amdahl_speedup(serial, 8):>6.1f}x "
            f"{amdahl_speedup(serial, 16):>7.1f}x"
        )
    t1, t2, ceiling = machine_ceiling(args.repeat)
    print(
        "\nThe machine's ceiling (independent GEOS overlays only, 40,000 blob pairs, one "
        f"thread against two, median of {args.repeat}): {t1:.2f} s against {t2:.2f} s, "
        f"{ceiling:.2f}x; the {TARGET}x target is {100 * TARGET / ceiling:.0f} % of it.\n"
        + "\n".join(
            f"{name:>9} | {speedup:.2f}x is {100 * speedup / ceiling:.0f} % of the ceiling"
            for name, _, _, _, _, speedup, *_ in rows
        )
    )


if __name__ == "__main__":
    main()
