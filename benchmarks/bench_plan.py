"""Benchmark: plan_clearance on 100,000 hazards with 5 asset types.

Each measurement runs in a fresh Python process (imports excluded from the clock); the
figure is the median of ``--repeat`` runs. The queue is a ranking-sized table (``rank``,
``hazard_id``, ``threat_level``, ``remaining_ha`` and zone hectares giving a priority
category) whose threat-level totals are Azerbaijan's public figures (147,988 ha high,
675,570 ha medium + low), synthetic; the capacity has manual teams (growing 5 % a year),
machines, dog teams (more from a date), technical- and non-technical-survey teams, every
productivity a range.

``--geometry`` instead plans from the synthetic hazard and release layers of
``bench_summary.py`` (``minemap.synthetic.make_scenario``), so the clock also covers
measuring the remaining land per hazard, the release mix and the historic rate.

Run::

    python benchmarks/bench_plan.py                 # deterministic and 1,000 draws
    python benchmarks/bench_plan.py --repeat 5 --draws 1000
    python benchmarks/bench_plan.py --geometry --sizes 10000
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

LEVELS = ("high", "medium", "low")
AZ_HA = {"high": 147_988.0, "medium": 405_342.0, "low": 270_228.0}


def capacity():  # noqa: ANN201
    import datetime as dt

    from minemap.planning import Asset, Capacity, Range

    def prod(lo, mode, hi, methods):  # noqa: ANN001, ANN202
        return {(lvl, m): Range(lo, mode, hi) for lvl in LEVELS for m in methods}

    clear = ("cleared", "reduced")
    return Capacity(
        220,
        {
            "manual": Asset("manual", 600, prod(30, 50, 80, clear), growth_per_year=0.05),
            "machine": Asset("machine", 70, prod(1500, 2500, 3500, clear), kind="machine"),
            "dog": Asset(
                "dog",
                150,
                prod(300, 500, 700, clear),
                kind="dog",
                changes=((dt.date(2029, 1, 1), 200),),
            ),
            "technical_survey": Asset(
                "technical_survey", 60, prod(3000, 5000, 8000, ("reduced",)), kind="survey"
            ),
            "non_technical_survey": Asset(
                "non_technical_survey",
                40,
                prod(30_000, 50_000, 80_000, ("cancelled",)),
                kind="survey",
            ),
        },
        release_mix={
            "high": {"cleared": 0.6, "reduced": 0.3, "cancelled": 0.1},
            "medium": {"cleared": 0.3, "reduced": 0.4, "cancelled": 0.3},
            "low": {"cleared": 0.1, "reduced": 0.4, "cancelled": 0.5},
        },
    )


def ranking_table(n: int, seed: int = 1):  # noqa: ANN201
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    level = rng.choice(LEVELS, n, p=[0.2, 0.45, 0.35])
    size = rng.lognormal(1.5, 1.0, n)
    for lvl in LEVELS:  # scale each level to its national total
        sel = level == lvl
        size[sel] *= AZ_HA[lvl] / size[sel].sum()
    zone = rng.choice(["residential", "infrastructure", "roads", None], n, p=[0.1, 0.1, 0.2, 0.6])
    table = pd.DataFrame(
        {
            "rank": rng.permutation(n) + 1,
            "hazard_id": [f"HZ{i:06d}" for i in range(n)],
            "threat_level": level,
            "remaining_ha": size,
        }
    )
    for category in ("residential", "infrastructure", "roads"):
        table[f"{category}_ha"] = np.where(zone == category, size * 0.3, 0.0)
    return table.sort_values("rank").reset_index(drop=True)


def run_one(n: int, draws: int, geometry: bool) -> dict[str, float | str]:
    import warnings

    from minemap.planning import plan_clearance

    cap = capacity()
    if geometry:
        sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))
        from bench_summary import scenario_paths

        import minemap

        hz_path, rl_path = scenario_paths(n)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            data = minemap.read_hazards(hz_path)
            releases = minemap.read_releases(rl_path)
    else:
        data, releases = ranking_table(n), None
    begin = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plan = plan_clearance(
            data, cap, start="2027-01-01", releases=releases, draws=draws, seed=42
        )
    seconds = time.perf_counter() - begin
    return {
        "seconds": seconds,
        "completion": plan.summary["completion_date"].isoformat(),
        "p50": plan.summary["p50"].isoformat() if draws else "",
        "hazards": len(plan.schedule),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--draws", type=int, nargs="+", default=[0, 1000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--geometry", action="store_true")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        n, draws, geometry = int(args.child[0]), int(args.child[1]), args.child[2] == "1"
        print(json.dumps(run_one(n, draws, geometry)))
        return
    print(f"{'hazards':>9} {'draws':>6} {'median s':>9}  runs (s)         completion / p50")
    for n in args.sizes:
        for draws in args.draws:
            runs = []
            for _ in range(args.repeat):
                out = subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--child",
                        str(n),
                        str(draws),
                        "1" if args.geometry else "0",
                    ],
                    check=True,
                    capture_output=True,
                    text=True,
                )
                runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
            secs = [r["seconds"] for r in runs]
            shown = " ".join(f"{s:.2f}" for s in secs)
            print(
                f"{n:>9,} {draws:>6} {statistics.median(secs):>9.2f}  {shown:<16} "
                f"{runs[0]['completion']} {runs[0]['p50']}"
            )


if __name__ == "__main__":
    main()
