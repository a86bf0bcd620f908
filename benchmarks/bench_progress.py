"""Benchmark: what progress bars cost, on a 100,000-hazard summary.

The work is read + validate + :func:`minemap.land_release_summary` on the synthetic
scenario of ``bench_summary.py`` (GeoParquet, 100,000 hazards and 50,000 releases),
timed in fresh processes, bars *on* and *off* in turn (on, off, on, off, ...), each run
warmed on the 1,000-hazard scenario first (imports and the first call's set-up are not
measured). *On* forces the bars (``minemap.settings.progress = True``, shown from the
start, ``MINEMAP_PROGRESS_DELAY=0``, unless ``--delay`` says otherwise) onto a
pseudo-terminal 100 columns wide that a thread drains, as a terminal would; *off* is
``settings.progress = False``, the shared no-op bar. The target is a cost under 2 % of the run time.

On a machine shared with other work the wall clock of whole runs varies by more than that,
so the *on* runs also count the time spent in the bar code itself: the main thread's time
inside the bar's calls (opening, moving, renaming and closing bars) and the processor time
of the threads that redraw them. That figure over the run time is the cost, and does not
depend on what else the machine is doing. Processor seconds of whole runs (all threads)
are reported beside the clock.

Run::

    python benchmarks/bench_progress.py                     # 100,000 hazards, 5 pairs
    python benchmarks/bench_progress.py --size 10000 --repeat 9
    python benchmarks/bench_progress.py --size 1000 --delay 1   # bars after 1 s, as users get
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def _terminal() -> tuple[object, list[int]]:
    """A text stream on a drained pseudo-terminal 100 columns wide, and its byte count."""
    import fcntl
    import os
    import struct
    import termios
    import threading

    leader, follower = os.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    written = [0]

    def drain() -> None:
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                return
            if not chunk:
                return
            written[0] += len(chunk)

    threading.Thread(target=drain, daemon=True).start()
    return open(follower, "w", encoding="utf-8", buffering=1), written  # noqa: SIM115


def worker(mode: str, n: int, delay: float) -> None:
    import os
    import warnings

    from bench_summary import scenario_paths

    import minemap
    from minemap import _progress, settings

    warnings.simplefilter("ignore")
    stream, written = _terminal()
    in_bars = [0.0]  # seconds spent in the bar code
    if mode == "on":
        os.environ["MINEMAP_PROGRESS_DELAY"] = str(delay)
        _progress._stderr = lambda: stream  # type: ignore[assignment]
        _count_bar_time(_progress._Shown, in_bars)
    settings.progress = mode == "on"

    def run(size: int) -> tuple[float, float]:
        hz, rl = scenario_paths(size)
        before = resource.getrusage(resource.RUSAGE_SELF)
        start = time.perf_counter()
        hazards = minemap.read_hazards(hz)
        releases = minemap.read_releases(rl)
        table = minemap.land_release_summary(hazards, releases)
        seconds = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_SELF)
        assert len(table) == 4
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        return seconds, cpu

    run(1_000)  # warm-up, not measured
    in_bars[0] = 0.0
    seconds, cpu = run(n)
    time.sleep(0.1)  # let the drain thread read the last bar
    print(json.dumps({"seconds": seconds, "cpu": cpu, "bars": in_bars[0], "bytes": written[0]}))


def _count_bar_time(shown: type, total: list[float]) -> None:
    """Add to ``total[0]`` the time spent in the calls of ``shown`` (the shown bar) and
    the processor time of its redrawing thread."""
    import functools

    def timed(method):  # noqa: ANN001, ANN202
        @functools.wraps(method)
        def wrapper(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            start = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                total[0] += time.perf_counter() - start

        return wrapper

    for name in ("__init__", "update", "set_description", "close"):
        setattr(shown, name, timed(getattr(shown, name)))
    tick = shown._tick

    def counted_tick(self) -> None:  # noqa: ANN001
        start = time.thread_time()
        try:
            tick(self)
        finally:
            total[0] += time.thread_time() - start

    shown._tick = counted_tick


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=100_000, help="hazards")
    parser.add_argument("--repeat", type=int, default=5, help="pairs of runs (on, off)")
    parser.add_argument(
        "--delay", type=float, default=0.0, help="seconds before a bar appears (0: at once)"
    )
    parser.add_argument("--worker", choices=("on", "off"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.size, args.delay)
        return
    from bench_summary import scenario_paths

    scenario_paths(1_000)
    scenario_paths(args.size)
    runs: dict[str, list[dict[str, float]]] = {"on": [], "off": []}
    for _ in range(args.repeat):
        for mode in ("on", "off"):
            out = subprocess.run(
                [sys.executable, __file__, "--worker", mode, "--size", str(args.size)]
                + ["--delay", str(args.delay)],
                check=True,
                capture_output=True,
                text=True,
            )
            runs[mode].append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(
        f"read + validate + summary, {args.size:,} hazards, {args.repeat} pairs of runs, "
        f"bars drawn after {args.delay:g} s"
    )
    for key, what in (("seconds", "clock"), ("cpu", "processor")):
        on = [r[key] for r in runs["on"]]
        off = [r[key] for r in runs["off"]]
        pairs = [a / b for a, b in zip(on, off, strict=True)]
        for mode, values in (("on", on), ("off", off)):
            listed = ", ".join(f"{t:.2f}" for t in values)
            print(f"{what:>9} s, bars {mode:<3}: median {statistics.median(values):.3f} ({listed})")
        print(
            f"{what:>9} on / off: {statistics.median(on) / statistics.median(off):.4f} "
            f"(ratio of medians), {statistics.median(pairs):.4f} (median of the pairs' "
            f"ratios, {min(pairs):.3f}-{max(pairs):.3f})"
        )
    share = [r["bars"] / r["seconds"] for r in runs["on"]]
    print(
        f"time in the bar code: median {1e3 * statistics.median(r['bars'] for r in runs['on']):.1f}"
        f" ms a run, {100 * statistics.median(share):.3f} % of the run's clock "
        f"(at most {100 * max(share):.3f} %)"
    )
    drawn = statistics.median(r["bytes"] for r in runs["on"])
    print(f"drawn per run with bars on: {drawn:,.0f} bytes")


if __name__ == "__main__":
    main()
