"""Benchmark: the field-evidence figures (issue 15) on 100,000 hazards.

Times the five evidence computations in the order the report calls them, on layers given
**already read** (``read_hazards``, ``read_releases`` and the evidence readers run before
the clock starts, as in the other benchmarks):

1. :func:`minemap.device_density` (hazards, releases, finds)
2. :func:`minemap.estimate_remaining_devices` (same layers)
3. :func:`minemap.record_accuracy` (records, finds, releases)
4. :func:`minemap.readiness.settlement_readiness` (settlements, hazards, releases, incidents;
   radii 500, 1000 and 2000 m)
5. :func:`minemap.readiness.communities_at_risk` (same layers, within 1000 m)

Each run is a fresh Python process (so its peak memory is its own) that reads the layers,
warms up on the ``--quick`` size (imports, PROJ's database and thread start-up are paid
once per session) and then times the five calls one after another, as a report does: a
call may use what an earlier call with the same layers computed. The table gives the
median over ``--repeat`` runs of each call in that sequence and of their total, with its
processor seconds (all threads: above the elapsed seconds when both cores work), and the
largest peak memory (max RSS) of the runs. ``--alone`` also times each call on its own,
in a process of its own, with nothing computed before it.

Two data sets, both at the issue's size (100,000 finds, 5,000 incidents, 10,000 records and
20,000 settlements):

* ``synthetic``: the 100,000-hazard scenario of ``bench_summary.py`` (sized to Azerbaijan's
  public figures; 51,849 release records) and :func:`minemap.synthetic.field_evidence`.
* ``blobs``: data made without minemap's generator: the blob hazards of ``blobs.py``
  (100,000, EPSG:4326) with 30,000 blob releases, and evidence drawn here: finds in
  releases, in clusters round hazards and spread uniformly; incidents clustered and uniform;
  records as ellipses and points round hazards, some far off; settlements as points
  (clustered near hazards, and uniform) and a few polygons.

Layers are made once and kept as GeoParquet in ``benchmarks/_data``.

Run::

    python benchmarks/bench_evidence.py                  # both data sets, 3 runs each
    python benchmarks/bench_evidence.py --quick          # 10,000 hazards, a tenth of the rest
    python benchmarks/bench_evidence.py --data blobs --repeat 5 --alone
    python benchmarks/bench_evidence.py --save-figures /tmp/figs   # outputs, to compare versions
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import geopandas as gpd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

DATA = Path(__file__).resolve().parent / "_data"
AZ_HIGH, AZ_MEDIUM, AZ_LOW = 147_988.0, 405_342.0, 270_228.0  # as bench_summary.py
FUNCTIONS = (
    "device_density",
    "estimate_remaining_devices",
    "record_accuracy",
    "settlement_readiness",
    "communities_at_risk",
)
LAYERS = ("hazards", "releases", "finds", "incidents", "records", "settlements")
FULL = {"hazards": 100_000, "finds": 100_000, "incidents": 5_000, "records": 10_000}
FULL["settlements"] = 20_000
QUICK = {k: v // 10 for k, v in FULL.items()}


# ------------------------------------------------------------------------------------------
# data
# ------------------------------------------------------------------------------------------


def _paths(kind: str, size: dict[str, int]) -> dict[str, Path]:
    tag = f"{kind}_{size['hazards']}_{size['finds']}_{size['settlements']}"
    return {name: DATA / f"evidence_{tag}_{name}.parquet" for name in LAYERS}


def _synthetic(size: dict[str, int]) -> dict:
    from minemap.synthetic import field_evidence, make_scenario

    scale = size["hazards"] / 100_000
    scenario = make_scenario(
        seed=1,
        n_hazards=size["hazards"],
        high_ha=AZ_HIGH * scale,
        medium_ha=AZ_MEDIUM * scale,
        low_ha=AZ_LOW * scale,
    )
    evidence = field_evidence(
        scenario,
        n_finds=size["finds"],
        n_incidents=size["incidents"],
        n_records=size["records"],
        n_settlements=size["settlements"],
    )
    return {
        "hazards": scenario.hazards,
        "releases": scenario.releases,
        **{name: getattr(evidence, name) for name in LAYERS[2:]},
    }


def _blob_evidence(
    hazards: gpd.GeoDataFrame, releases: gpd.GeoDataFrame, size: dict[str, int], seed: int = 11
) -> dict:
    """Finds, incidents, records and settlements drawn round blob hazards (not by minemap)."""
    import geopandas as gpd
    import numpy as np
    import pandas as pd
    import shapely
    from blobs import M_PER_DEG

    rng = np.random.default_rng(seed)
    hz = np.asarray(hazards.geometry.array, dtype=object)
    rl = np.asarray(releases.geometry.array, dtype=object)
    hc = shapely.get_coordinates(shapely.centroid(hz))
    rc = shapely.get_coordinates(shapely.centroid(rl))
    r_m = np.sqrt(shapely.area(rl) / np.pi) * M_PER_DEG * np.cos(np.radians(rc[:, 1]))
    x0, y0, x1, y1 = shapely.total_bounds(hz)
    types = np.array(["ap_mine", "at_mine", "uxo", "submunition", "ied", "unknown"])

    def around(centres: np.ndarray, metres: np.ndarray | float) -> np.ndarray:
        spread = np.asarray(metres, dtype=float).reshape(-1, 1) * rng.standard_normal(
            (len(centres), 2)
        )
        per_lon = M_PER_DEG * np.cos(np.radians(centres[:, 1]))
        return centres + spread / np.column_stack([per_lon, np.full(len(centres), M_PER_DEG)])

    def uniform(n: int) -> np.ndarray:
        return np.column_stack([rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)])

    def dates(n: int, start: str = "2021-01-01", days: int = 1400) -> pd.Series:
        return pd.Timestamp(start) + pd.to_timedelta(rng.integers(0, days, n), unit="D")

    # finds: 60 % in a release (within half its radius of its centre), 30 % in clusters
    # round hazards, 10 % anywhere in the region
    n = size["finds"]
    n_rel, n_clu = int(0.6 * n), int(0.3 * n)
    host = rng.integers(0, len(rl), n_rel)
    xy = np.vstack(
        [
            around(rc[host], 0.5 * r_m[host]),
            around(hc[rng.integers(0, len(hz), n_clu)], 150.0),
            uniform(n - n_rel - n_clu),
        ]
    )
    release_of = np.r_[
        releases["release_id"].to_numpy(dtype=object)[host], np.full(n - n_rel, None)
    ]
    finds = gpd.GeoDataFrame(
        {
            "find_id": [f"BF-{k:06d}" for k in range(n)],
            "find_date": dates(n),
            "device_type": rng.choice(types, n, p=[0.45, 0.1, 0.25, 0.1, 0.05, 0.05]),
            "device_count": 1 + rng.poisson(0.6, n),
            "release_id": release_of,
        },
        geometry=shapely.points(np.round(xy, 7)),
        crs=4326,
    )
    # incidents: 70 % within a few km of a hazard, the rest anywhere
    n = size["incidents"]
    near = int(0.7 * n)
    xy = np.vstack([around(hc[rng.integers(0, len(hz), near)], 1500.0), uniform(n - near)])
    incidents = gpd.GeoDataFrame(
        {
            "incident_id": [f"BI-{k:05d}" for k in range(n)],
            "incident_date": dates(n, "2018-01-01", 2500),
            "killed": rng.poisson(0.3, n),
            "injured": 1 + rng.poisson(0.4, n),
            "device_type": rng.choice(types, n),
            "victim_activity": rng.choice(["farming", "herding", "travel", ""], n),
        },
        geometry=shapely.points(np.round(xy, 7)),
        crs=4326,
    )
    # records: ellipses (70 %) and points round hazards, 80 % within 100 m, the rest 1-3 km off
    n = size["records"]
    centre = hc[rng.integers(0, len(hz), n)]
    off = np.where(rng.uniform(0, 1, n) < 0.8, 100.0, rng.uniform(1000, 3000, n))
    centre = around(centre, off)
    a, b = rng.uniform(60, 400, n), rng.uniform(40, 200, n)
    turn = rng.uniform(0, np.pi, n)
    t = np.linspace(0, 2 * np.pi, 25)[:-1]
    ex = a[:, None] * np.cos(t) * np.cos(turn[:, None]) - b[:, None] * np.sin(t) * np.sin(
        turn[:, None]
    )
    ey = a[:, None] * np.cos(t) * np.sin(turn[:, None]) + b[:, None] * np.sin(t) * np.cos(
        turn[:, None]
    )
    per_lon = (M_PER_DEG * np.cos(np.radians(centre[:, 1])))[:, None]
    rings = np.stack([centre[:, :1] + ex / per_lon, centre[:, 1:] + ey / M_PER_DEG], axis=-1)
    shapes = shapely.polygons(np.round(rings, 7))
    points = rng.uniform(0, 1, n) < 0.3
    shapes[points] = shapely.points(np.round(centre[points], 7))
    recorded = pd.array(rng.integers(1, 200, n), dtype="Int64")
    recorded[rng.uniform(0, 1, n) < 0.2] = pd.NA
    records = gpd.GeoDataFrame(
        {
            "record_id": [f"BR-{k:05d}" for k in range(n)],
            "recorded_devices": recorded,
            "device_type": rng.choice(types, n),
        },
        geometry=shapes,
        crs=4326,
    )
    # settlements: 60 % points near hazards, 35 % points anywhere, 5 % polygons near hazards
    n = size["settlements"]
    near, poly = int(0.6 * n), int(0.05 * n)
    xy = np.vstack(
        [
            around(hc[rng.integers(0, len(hz), near + poly)], 2500.0),
            uniform(n - near - poly),
        ]
    )
    geoms = shapely.points(np.round(xy, 7))
    radius = rng.uniform(150, 700, (poly, 1)) * rng.uniform(0.7, 1.0, (poly, 12))
    t = np.linspace(0, 2 * np.pi, 13)[:-1]
    c = xy[near : near + poly]
    per_lon = (M_PER_DEG * np.cos(np.radians(c[:, 1])))[:, None]
    rings = np.stack(
        [c[:, :1] + radius * np.cos(t) / per_lon, c[:, 1:] + radius * np.sin(t) / M_PER_DEG],
        axis=-1,
    )
    geoms[near : near + poly] = shapely.polygons(np.round(rings, 7))
    population = np.round(rng.lognormal(6.5, 1.2, n))
    population[rng.uniform(0, 1, n) < 0.05] = np.nan
    settlements = gpd.GeoDataFrame(
        {
            "settlement_id": [f"BS-{k:05d}" for k in range(n)],
            "name": [f"Village {k}" for k in range(n)],
            "population": population,
        },
        geometry=geoms,
        crs=4326,
    )
    return {"finds": finds, "incidents": incidents, "records": records, "settlements": settlements}


def _blobs(size: dict[str, int]) -> dict:
    from blobs import make_blobs

    hazards, releases = make_blobs(size["hazards"], int(0.3 * size["hazards"]), seed=7)
    return {"hazards": hazards, "releases": releases, **_blob_evidence(hazards, releases, size)}


def layer_paths(kind: str, size: dict[str, int]) -> dict[str, Path]:
    """Make (once) the layers of one data set and size; return their GeoParquet paths."""
    paths = _paths(kind, size)
    if not all(p.exists() for p in paths.values()):
        DATA.mkdir(exist_ok=True)
        layers = (_synthetic if kind == "synthetic" else _blobs)(size)
        for name, path in paths.items():
            layers[name].to_parquet(path)
    return paths


def read_layers(kind: str, size: dict[str, int]) -> dict:
    """The layers of one data set, read and validated by minemap's readers."""
    import geopandas as gpd

    import minemap
    from minemap.io import evidence as readers

    paths = layer_paths(kind, size)
    raw = {name: gpd.read_parquet(path) for name, path in paths.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # repairs and stray finds are reported, not results
        return {
            "hazards": minemap.read_hazards(raw["hazards"]),
            "releases": minemap.read_releases(raw["releases"]),
            "finds": readers.read_finds(raw["finds"]),
            "incidents": readers.read_incidents(raw["incidents"]),
            "records": readers.read_records(raw["records"]),
            "settlements": readers.read_settlements(raw["settlements"]),
        }


# ------------------------------------------------------------------------------------------
# the calls
# ------------------------------------------------------------------------------------------


def call(name: str, layers: dict) -> object:
    """One evidence computation, with the arguments the report gives it."""
    from minemap import evidence, readiness

    hz, rl = layers["hazards"], layers["releases"]
    if name == "device_density":
        return evidence.device_density(hz, rl, layers["finds"])
    if name == "estimate_remaining_devices":
        return evidence.estimate_remaining_devices(hz, rl, layers["finds"])
    if name == "record_accuracy":
        return evidence.record_accuracy(layers["records"], layers["finds"], rl)
    if name == "settlement_readiness":
        return readiness.settlement_readiness(
            layers["settlements"], hz, rl, incidents=layers["incidents"]
        )
    return readiness.communities_at_risk(
        layers["settlements"], hz, rl, incidents=layers["incidents"]
    )


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def worker(kind: str, quick: bool, only: str | None, save: Path | None) -> None:
    import pickle

    warnings.simplefilter("ignore")  # stray finds are warned about: not results
    if not quick:  # warm-up: imports, PROJ, GEOS and threads, paid once per session
        small = read_layers(kind, QUICK)
        for name in FUNCTIONS:
            call(name, small)
        _forget()
    layers = read_layers(kind, QUICK if quick else FULL)
    seconds: dict[str, float] = {}
    cpu: dict[str, float] = {}
    for name in (only,) if only else FUNCTIONS:
        start, processor = time.perf_counter(), _cpu()
        out = call(name, layers)
        seconds[name] = time.perf_counter() - start
        cpu[name] = _cpu() - processor
        if save is not None:
            save.mkdir(parents=True, exist_ok=True)
            with open(save / f"{kind}_{name}.pkl", "wb") as file:
                pickle.dump(out, file)
    result = {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    print(json.dumps(result))


def _forget() -> None:
    """Drop what earlier calls computed, so the timed calls start from nothing."""
    import gc

    from minemap import evidence, readiness

    for module in (evidence, readiness):
        clear = getattr(module, "_forget_shared", None)
        if clear is not None:
            clear()
    gc.collect()


def run_worker(kind: str, quick: bool, only: str | None = None, save: Path | None = None) -> dict:
    command = [sys.executable, __file__, "--worker", kind]
    command += ["--quick"] if quick else []
    command += ["--only", only] if only else []
    command += ["--save-figures", str(save)] if save else []
    out = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", choices=("synthetic", "blobs", "both"), default="both")
    parser.add_argument("--quick", action="store_true", help="10,000 hazards, a tenth of all")
    parser.add_argument("--repeat", type=int, default=3, help="runs (processes) per data set")
    parser.add_argument(
        "--alone", action="store_true", help="also time each call alone, in its own process"
    )
    parser.add_argument(
        "--save-figures",
        type=Path,
        metavar="DIR",
        help="pickle each call's output into DIR (one run), to compare two versions",
    )
    parser.add_argument("--worker", choices=("synthetic", "blobs"), help=argparse.SUPPRESS)
    parser.add_argument("--only", choices=FUNCTIONS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.quick, args.only, args.save_figures)
        return
    kinds = ("synthetic", "blobs") if args.data == "both" else (args.data,)
    size = QUICK if args.quick else FULL
    print(
        f"{size['hazards']:,} hazards, {size['finds']:,} finds, {size['incidents']:,} "
        f"incidents, {size['records']:,} records, {size['settlements']:,} settlements; "
        f"median of {args.repeat} runs (seconds)"
    )
    for kind in kinds:
        start = time.perf_counter()
        read_layers(kind, size)  # made and cached once, outside the timings
        print(f"\n{kind}: layers ready in {time.perf_counter() - start:.1f} s", flush=True)
        if args.save_figures:
            run_worker(kind, args.quick, save=args.save_figures)
        runs = [run_worker(kind, args.quick) for _ in range(args.repeat)]
        alone = {}
        if args.alone:
            for name in FUNCTIONS:
                times = [run_worker(kind, args.quick, only=name) for _ in range(args.repeat)]
                alone[name] = statistics.median(t["seconds"][name] for t in times)
        header = f"{'call':28s} {'in sequence':>11s} {'cpu':>6s}" + (
            f" {'alone':>8s}" if alone else ""
        )
        print(header)
        print("-" * len(header))
        for name in FUNCTIONS:
            line = (
                f"{name:28s} {statistics.median(r['seconds'][name] for r in runs):11.2f} "
                f"{statistics.median(r['cpu_seconds'][name] for r in runs):6.2f}"
            )
            print(line + (f" {alone[name]:8.2f}" if alone else ""))
        totals = [sum(r["seconds"].values()) for r in runs]
        cpu = [sum(r["cpu_seconds"].values()) for r in runs]
        print(
            f"{'total':28s} {statistics.median(totals):11.2f} {statistics.median(cpu):6.2f}"
            + (f" {sum(alone.values()):8.2f}" if alone else "")
        )
        print(
            f"runs: {', '.join(f'{t:.2f}' for t in totals)} s; peak memory "
            f"{max(r['peak_mib'] for r in runs):,.0f} MiB"
        )


if __name__ == "__main__":
    main()
