"""Benchmark: land_release_summary end to end against the plain-geopandas way.

End to end means: read GeoParquet, validate, summarise. Each measurement runs in a fresh
Python process so its peak memory (max RSS) is its own. The table's times are *warm*: the
libraries are imported (about 1 s a session pays once) and the same way has run once on
the 1,000-hazard scenario (PROJ's database, GEOS and thread start-up: another few tenths
of a second paid once) before the clock starts, the same for both ways. The *cold*
figure below the table is minemap's first call in a fresh process (imports still
excluded). Sizes are hazard polygons; each scenario has half as many release records.
The 100,000-hazard scenario is sized to Azerbaijan's public figures (147,988 ha high,
675,570 ha medium + low), synthetic.

Run::

    python benchmarks/bench_summary.py                 # 1,000 / 10,000 / 100,000
    python benchmarks/bench_summary.py --sizes 1000 10000 --repeat 5
    python benchmarks/bench_summary.py --stacks 5000    # stacked hazards and releases only

The plain way is what a GIS analyst would write: read, ``dissolve`` by threat level,
differences for precedence, ``geopandas.overlay`` with the dissolved releases,
``to_crs(UTM)`` and ``.area``. Its hectares carry UTM's own error (~0.05%).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _plain import run_plain  # noqa: E402

DATA = Path(__file__).resolve().parent / "_data"
AZ_HIGH, AZ_MEDIUM, AZ_LOW = 147_988.0, 405_342.0, 270_228.0  # medium + low = 675,570 ha
LEVELS = ("high", "medium", "low")


def scenario_paths(n: int, seed: int = 1) -> tuple[Path, Path]:
    """Write (once) the synthetic scenario of ``n`` hazards as GeoParquet."""
    DATA.mkdir(exist_ok=True)
    hz, rl = DATA / f"hazards_{n}_{seed}.parquet", DATA / f"releases_{n}_{seed}.parquet"
    if not (hz.exists() and rl.exists()):
        from minemap.synthetic import make_scenario

        scale = n / 100_000
        sc = make_scenario(
            seed=seed,
            n_hazards=n,
            high_ha=AZ_HIGH * scale,
            medium_ha=AZ_MEDIUM * scale,
            low_ha=AZ_LOW * scale,
        )
        sc.hazards.to_parquet(hz)
        sc.releases.iloc[: n // 2].to_parquet(rl)
    return hz, rl


def run_minemap(hz: Path, rl: Path) -> dict[str, float]:
    import warnings

    import minemap

    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        hazards = minemap.read_hazards(hz)
        releases = minemap.read_releases(rl)
        table = minemap.land_release_summary(hazards, releases)
    seconds = time.perf_counter() - start
    rows = table.set_index("threat_level")
    per_level = {f"{lvl}_ha": float(rows.loc[lvl, "hazard_ha"]) for lvl in LEVELS}
    return {
        "seconds": seconds,
        **per_level,
        "cleared_ha": float(rows.loc["total", "cleared_ha"]),
        "released_ha": float(rows.loc["total", "released_ha"]),
    }


def stack_layers(n: int, kind: str) -> tuple:
    """``n`` hazards and ``n`` releases, all over one spot: ``distinct`` (side by side, for
    comparison), ``identical`` copies, ``shifted`` (each moved by up to 5 m at random), or
    ``steady`` (copy k moved by k cm in one direction, releases moved the same way)."""
    import geopandas as gpd
    import numpy as np
    from shapely import box

    rng = np.random.default_rng(0)
    x0, y0 = 500_000.0, 4_400_000.0
    if kind == "distinct":
        offsets = np.column_stack([(np.arange(n) % 100) * 2000.0, (np.arange(n) // 100) * 2000.0])
    elif kind == "identical":
        offsets = np.zeros((n, 2))
    elif kind == "steady":
        offsets = np.column_stack([np.arange(n) * 0.01, np.arange(n) * 0.01])
    else:
        offsets = rng.uniform(-5.0, 5.0, (n, 2))
    hz = gpd.GeoDataFrame(
        {"hazard_id": [f"H{i}" for i in range(n)], "threat_level": rng.choice(LEVELS, n)},
        geometry=[box(x0 + a, y0 + b, x0 + 1000 + a, y0 + 1000 + b) for a, b in offsets],
        crs=32638,
    )
    rl = gpd.GeoDataFrame(
        {
            "release_id": [f"R{i}" for i in range(n)],
            "method": rng.choice(["cleared", "reduced", "cancelled"], n),
            "release_date": ["2022-01-01"] * n,
        },
        geometry=[box(x0 + 300 + a, y0 + b, x0 + 1300 + a, y0 + 1000 + b) for a, b in offsets],
        crs=32638,
    )
    return hz, rl


def stack_worker(kind: str, n: int) -> None:
    import resource
    import warnings

    import minemap

    warnings.simplefilter("ignore")
    hz, rl = stack_layers(n, kind)
    hz, rl = minemap.read_hazards(hz), minemap.read_releases(rl)
    before = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    table = minemap.land_release_summary(hz, rl)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF)
    total = table.set_index("threat_level").loc["total"]
    print(
        json.dumps(
            {
                "seconds": seconds,
                # processor time of all threads: a fairer measure on a machine shared with
                # other work, where the clock also counts waiting for a core
                "cpu_seconds": (after.ru_utime - before.ru_utime)
                + (after.ru_stime - before.ru_stime),
                "hazard_ha": float(total["hazard_ha"]),
                "released_ha": float(total["released_ha"]),
            }
        )
    )


def stacks(n: int) -> None:
    """Time land_release_summary (only) on distinct, identical, shifted and steady stacks."""
    print(
        f"{'kind':>9} {'hazards':>8} | {'seconds':>8} {'cpu s':>7} | {'hazard ha':>12} "
        f"{'released ha':>12}"
    )
    for kind in ("distinct", "identical", "shifted", "steady"):
        out = subprocess.run(
            [sys.executable, __file__, "--stack-worker", kind, "--size", str(n)],
            check=True,
            capture_output=True,
            text=True,
        )
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"{kind:>9} {n:>8,} | {r['seconds']:>8.2f} {r['cpu_seconds']:>7.2f} | "
            f"{r['hazard_ha']:>12,.2f} "
            f"{r['released_ha']:>12,.2f}",
            flush=True,
        )


def worker(kind: str, n: int, warm: bool) -> None:
    import resource
    import warnings

    import geopandas  # noqa: F401  imports are not part of the measured work
    import pyarrow.parquet  # noqa: F401

    import minemap  # noqa: F401

    warnings.simplefilter("ignore")  # overlay's keep_geom_type notes are not results

    run = run_minemap if kind == "minemap" else run_plain
    if warm:
        run(*scenario_paths(1_000))
    result = run(*scenario_paths(n))
    result["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def measure(kind: str, n: int, repeat: int, *, warm: bool = True) -> list[dict[str, float]]:
    runs = []
    for _ in range(repeat):
        command = [sys.executable, __file__, "--worker", kind, "--size", str(n)]
        out = subprocess.run(
            command + ([] if warm else ["--cold"]), check=True, capture_output=True, text=True
        )
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=3, help="minemap runs per size")
    parser.add_argument("--plain-repeat", type=int, default=1, help="plain-geopandas runs")
    parser.add_argument("--worker", choices=("minemap", "plain"), help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--cold", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--stacks", type=int, metavar="N", help="time N stacked hazards and releases instead"
    )
    parser.add_argument(
        "--stack-worker",
        choices=("distinct", "identical", "shifted", "steady"),
        help=argparse.SUPPRESS,
    )
    args = parser.parse_args()
    if args.stack_worker:
        stack_worker(args.stack_worker, args.size)
        return
    if args.stacks:
        stacks(args.stacks)
        return
    if args.worker:
        worker(args.worker, args.size, warm=not args.cold)
        return
    header = (
        f"{'hazards':>8} {'releases':>8} | {'minemap s':>9} {'MiB':>6} | {'plain s':>8} "
        f"{'MiB':>6} | {'speed-up':>8} | {'max |Δha|':>9} {'total ha':>11}"
    )
    print(header)
    print("-" * len(header))
    for n in args.sizes:
        scenario_paths(n)
        mm = measure("minemap", n, args.repeat)
        plain = measure("plain", n, args.plain_repeat)
        t_mm = statistics.median(r["seconds"] for r in mm)
        t_pl = statistics.median(r["seconds"] for r in plain)
        keys = [f"{lvl}_ha" for lvl in LEVELS] + ["cleared_ha", "released_ha"]
        diff = max(abs(mm[0][k] - plain[0][k]) / max(plain[0][k], 1e-9) for k in keys)
        total = sum(mm[0][f"{lvl}_ha"] for lvl in LEVELS)
        print(
            f"{n:>8,} {n // 2:>8,} | {t_mm:>9.2f} {max(r['peak_mib'] for r in mm):>6.0f} | "
            f"{t_pl:>8.2f} {max(r['peak_mib'] for r in plain):>6.0f} | {t_pl / t_mm:>7.1f}x | "
            f"{100 * diff:>8.3f}% {total:>11,.1f}",
            flush=True,
        )
    largest = max(args.sizes)
    cold = [r["seconds"] for r in measure("minemap", largest, args.repeat, warm=False)]
    print(
        f"\ncold (first call in a fresh process), {largest:,} hazards: median "
        f"{statistics.median(cold):.2f} s of {', '.join(f'{c:.2f}' for c in cold)}"
    )


if __name__ == "__main__":
    main()
