"""Benchmark: priority zones + clearance ranking against the plain-geopandas way.

Run from the repository root::

    python benchmarks/bench_priority.py                 # 100,000 hazards, 20,000 roads,
                                                        # 5,000 settlements
    python benchmarks/bench_priority.py --hazards 10000 --roads 2000 --settlements 500

minemap (:func:`minemap.ranking.priority_analysis`: the zones of
:func:`minemap.priority_zones` and the ranking of :func:`minemap.rank_hazards` in one pass)
runs ``--repeat`` times (median reported); the baseline once. The baseline is what a GIS
analyst would write with geopandas alone: project to the UTM zone, buffer every feature,
``dissolve`` each category, ``overlay`` with the remaining hazard area (hazards flattened by
threat level with ``overlay(how="difference")``, releases removed likewise). Its areas are
measured in minemap's equal-area frame so that the hectares compare like with like; the
difference left is UTM's distance distortion plus buffer segmentation.

Everything is synthetic: hazards and releases from :func:`minemap.synthetic.make_scenario`,
plus random roads and settlements drawn near the hazards until the requested counts.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from minemap import crs as _crs  # noqa: E402
from minemap import io as _io  # noqa: E402
from minemap.priority import BUFFER_QUAD_SEGS, CATEGORIES, DEFAULT_DISTANCES_M  # noqa: E402
from minemap.ranking import priority_analysis  # noqa: E402


def make_inputs(n_hazards: int, n_roads: int, n_settlements: int, n_infra: int, seed: int):
    """Synthetic hazards and releases, plus roads/settlements/infrastructure near them."""
    from minemap.synthetic import make_scenario

    scale = n_hazards * 25.0  # ~25 ha per hazard
    scenario = make_scenario(
        seed=seed,
        n_hazards=n_hazards,
        high_ha=0.2 * scale,
        medium_ha=0.5 * scale,
        low_ha=0.3 * scale,
    )
    rng = np.random.default_rng(seed)
    frame = _crs.area_frame(scenario.hazards)
    hz = _crs.to_area_frame(scenario.hazards.geometry, frame)
    centres = shapely.get_coordinates(shapely.centroid(hz))
    back = pyproj.Transformer.from_crs(frame, 4326, always_xy=True)

    def lonlat(geoms):
        return gpd.GeoSeries(
            shapely.transform(
                geoms, lambda xy: np.column_stack(back.transform(xy[:, 0], xy[:, 1]))
            ),
            crs=4326,
        )

    def near(n, spread):
        pick = centres[rng.integers(0, len(centres), n)]
        return pick + rng.normal(0.0, spread, (n, 2))

    # roads: random walks of 4-12 vertices, 300-1500 m steps, starting near a hazard
    extra = max(n_roads - len(scenario.roads), 0)
    steps = rng.integers(4, 13, extra)
    start = near(extra, 1500.0)
    heading = rng.uniform(0, 2 * np.pi, extra)
    lines = []
    for k in range(extra):
        turn = np.cumsum(rng.normal(0, 0.35, steps[k]))
        length = rng.uniform(300, 1500, steps[k])
        xy = start[k] + np.cumsum(
            np.column_stack(
                [np.cos(heading[k] + turn) * length, np.sin(heading[k] + turn) * length]
            ),
            axis=0,
        )
        lines.append(np.vstack([start[k], xy]))
    roads = pd.concat(
        [
            scenario.roads[["geometry"]],
            gpd.GeoDataFrame(
                geometry=lonlat(np.array([shapely.LineString(c) for c in lines], dtype=object))
            ),
        ],
        ignore_index=True,
    )
    # settlements: irregular blobs 150-700 m across
    extra = max(n_settlements - len(scenario.residential), 0)
    centre = near(extra, 2500.0)
    angles = np.linspace(0, 2 * np.pi, 13)[:-1]
    radius = rng.uniform(150, 700, (extra, 1)) * rng.uniform(0.7, 1.0, (extra, 12))
    rings = np.stack(
        [centre[:, :1] + radius * np.cos(angles), centre[:, 1:] + radius * np.sin(angles)], axis=-1
    )
    blobs = shapely.polygons(rings)
    residential = pd.concat(
        [scenario.residential[["geometry"]], gpd.GeoDataFrame(geometry=lonlat(blobs))],
        ignore_index=True,
    )
    extra = max(n_infra - len(scenario.infrastructure), 0)
    points = shapely.points(near(extra, 2000.0))
    infrastructure = pd.concat(
        [scenario.infrastructure[["geometry"]], gpd.GeoDataFrame(geometry=lonlat(points))],
        ignore_index=True,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        hazards = _io.read_hazards(scenario.hazards)
        releases = _io.read_releases(scenario.releases)
        layers = {
            "roads": _io.read_features(roads.head(n_roads), kind="roads"),
            "infrastructure": _io.read_features(
                infrastructure.head(n_infra), kind="infrastructure"
            ),
            "residential": _io.read_features(residential.head(n_settlements), kind="residential"),
        }
    return hazards, releases, layers


def run_minemap(hazards, releases, layers):
    return priority_analysis(hazards, releases, **layers)


def run_geopandas(hazards, releases, layers):
    """The plain-geopandas way: UTM, buffer, dissolve, overlay."""
    utm = hazards.estimate_utm_crs()
    hz = hazards.to_crs(utm)
    levels = []
    taken = None
    for level in ("high", "medium", "low"):
        part = (
            hz.loc[hz.threat_level == level, ["threat_level", "geometry"]]
            .dissolve(by="threat_level")
            .reset_index()
        )
        if taken is not None:
            part = gpd.overlay(part, taken, how="difference")
        levels.append(part)
        taken = (
            part[["geometry"]]
            if taken is None
            else pd.concat([taken, part[["geometry"]]]).dissolve()
        )
    remaining = pd.concat(levels, ignore_index=True)
    rel = releases.to_crs(utm)[["geometry"]].dissolve()
    remaining = gpd.overlay(remaining, rel, how="difference")
    remaining = remaining.explode(ignore_index=True)
    zones = []
    claimed = None
    for category in CATEGORIES:
        feats = layers[category].to_crs(utm)[["geometry"]]
        buf = feats.buffer(DEFAULT_DISTANCES_M[category], quad_segs=BUFFER_QUAD_SEGS)
        region = gpd.GeoDataFrame(geometry=buf, crs=utm).dissolve()
        if claimed is not None:
            region = gpd.overlay(region, claimed, how="difference")
        claimed = region if claimed is None else pd.concat([claimed, region]).dissolve()
        region = region.explode(ignore_index=True)
        zone = gpd.overlay(remaining, region, how="intersection", keep_geom_type=True)
        zone["category"] = category
        zones.append(zone)
    return gpd.GeoDataFrame(pd.concat(zones, ignore_index=True), crs=utm)


def hectares_by_category(zones, frame) -> pd.Series:
    area = _crs.area_ha(zones.geometry, frame)
    return pd.Series(area, index=zones["category"].to_numpy()).groupby(level=0).sum()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hazards", type=int, default=100_000)
    parser.add_argument("--roads", type=int, default=20_000)
    parser.add_argument("--settlements", type=int, default=5_000)
    parser.add_argument("--infrastructure", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--skip-baseline", action="store_true")
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    hazards, releases, layers = make_inputs(
        args.hazards, args.roads, args.settlements, args.infrastructure, args.seed
    )
    print(
        f"inputs: {len(hazards):,} hazards, {len(releases):,} releases, "
        f"{len(layers['roads']):,} roads, {len(layers['infrastructure']):,} infrastructure, "
        f"{len(layers['residential']):,} settlements (made in "
        f"{time.perf_counter() - t0:.1f} s)",
        flush=True,
    )

    times = []
    for _ in range(args.repeat):
        t = time.perf_counter()
        zones, ranking = run_minemap(hazards, releases, layers)
        times.append(time.perf_counter() - t)
        print(f"minemap run {len(times)}: {times[-1]:.2f} s", flush=True)
    ours = statistics.median(times)
    frame = _crs.area_frame(hazards, releases, *layers.values())
    mine = zones.groupby("category")["zone_ha"].sum()
    rows = {"minemap zones + ranking": (ours, mine)}
    if not args.skip_baseline:
        t = time.perf_counter()
        base = run_geopandas(hazards, releases, layers)
        theirs = time.perf_counter() - t
        print(f"baseline: {theirs:.2f} s", flush=True)
        rows["geopandas buffer+dissolve+overlay"] = (theirs, hectares_by_category(base, frame))

    print(
        f"\n{'method':36s} {'runs':>4s} {'median s':>9s} "
        + " ".join(f"{c + ' ha':>18s}" for c in CATEGORIES)
    )
    for name, (seconds, ha) in rows.items():
        runs = args.repeat if name.startswith("minemap") else 1
        print(
            f"{name:36s} {runs:4d} {seconds:9.2f} "
            + " ".join(f"{ha.get(c, 0.0):18,.2f}" for c in CATEGORIES)
        )
    if len(rows) == 2:
        base_ha = rows["geopandas buffer+dissolve+overlay"][1]
        diff = {c: 100 * (mine.get(c, 0) / base_ha.get(c, np.nan) - 1) for c in CATEGORIES}
        print(
            f"\nspeed-up: {theirs / ours:.1f}x;  hectare difference minemap vs baseline: "
            + ", ".join(f"{c} {d:+.3f}%" for c, d in diff.items())
        )
    print(
        f"minemap runs: {', '.join(f'{s:.2f}' for s in times)} s; ranked "
        f"{int(ranking['rank'].notna().sum()):,} hazards"
    )


if __name__ == "__main__":
    main()
