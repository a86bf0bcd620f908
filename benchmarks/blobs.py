"""Blob-shaped test data made outside minemap's own generator (for ``bench_map.py --external``).

Nothing here uses :mod:`minemap.synthetic`: hazards are random radial "blobs" (12 to 40
vertices, a radius wobbled by a few random harmonics) of log-uniform size between 0.1 and
20 ha, half of them in Gaussian clusters and half spread over about 2.5 x 1.8 degrees, in
EPSG:4326 with latitude-corrected degrees. About 3 % are multipolygons (two or three parts
side by side), about 3 % have a hole, a few threat levels carry stray case and spaces, and
clustered blobs overlap. Releases are smaller blobs, most inside a hazard, a few straddling
an edge.

Usage::

    python benchmarks/blobs.py -o blobs.gpkg          # 100,000 hazards, 3,000 releases
"""

from __future__ import annotations

import argparse

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

M_PER_DEG = 111_320.0
CENTRE = (67.2, 34.6)  # lon, lat: an arbitrary inland area


def _radial(rng: np.random.Generator, n: int) -> list[np.ndarray]:
    """``n`` closed unit "blob" outlines: angles and a radius with random harmonics."""
    out = []
    counts = rng.integers(12, 41, n)
    for k in range(n):
        m = int(counts[k])
        theta = (np.arange(m) + rng.uniform(0.05, 0.95, m)) * (2 * np.pi / m)
        radius = np.ones(m)
        for h in range(2, 6):
            radius += rng.uniform(0, 0.35 / h * 2) * np.cos(h * theta + rng.uniform(0, 6.3))
        radius *= 1 + 0.05 * rng.standard_normal(m)
        radius = np.clip(radius, 0.35, None)
        out.append(np.column_stack([radius * np.cos(theta), radius * np.sin(theta)]))
    return out


def _to_degrees(xy: np.ndarray, lon: float, lat: float) -> np.ndarray:
    return np.round(
        np.column_stack(
            [lon + xy[:, 0] / (M_PER_DEG * np.cos(np.radians(lat))), lat + xy[:, 1] / M_PER_DEG]
        ),
        7,
    )


def _centres(
    rng: np.random.Generator,
    n: int,
    *,
    clustered: float = 0.5,
    span: tuple[float, float] = (2.5, 1.8),
) -> np.ndarray:
    n_cluster = int(n * clustered)
    spread = rng.uniform(
        [-span[0] / 2, -span[1] / 2], [span[0] / 2, span[1] / 2], (n - n_cluster, 2)
    )
    heads = rng.uniform([-span[0] / 2, -span[1] / 2], [span[0] / 2, span[1] / 2], (300, 2))
    which = rng.integers(0, heads.shape[0], n_cluster)
    scale = rng.uniform(0.004, 0.04, heads.shape[0])[which][:, None]
    cluster = heads[which] + rng.standard_normal((n_cluster, 2)) * scale
    centres = np.vstack([cluster, spread]) + np.array(CENTRE)
    return centres[rng.permutation(n)]


def _blobs(
    rng: np.random.Generator, centres: np.ndarray, ha: np.ndarray, *, multi: float, holes: float
) -> list[shapely.Geometry]:
    shapes = _radial(rng, len(centres))
    radius = np.sqrt(ha * 1e4 / np.pi)
    kind = rng.uniform(0, 1, len(centres))
    geoms: list[shapely.Geometry] = []
    for k, (lon, lat) in enumerate(centres):
        outline = shapes[k] * radius[k]
        if kind[k] < multi:  # two or three parts side by side
            parts = [outline]
            reach = np.max(np.hypot(outline[:, 0], outline[:, 1]))
            for j in range(int(rng.integers(1, 3))):
                offset = np.array([(j + 1) * 2.2 * reach, 0.0])
                parts.append(outline * rng.uniform(0.4, 0.8) + offset)
            polys = [shapely.Polygon(_to_degrees(p, lon, lat)) for p in parts]
            geoms.append(shapely.MultiPolygon(polys))
        elif kind[k] < multi + holes:
            inner_r = 0.3 * np.min(np.hypot(outline[:, 0], outline[:, 1]))
            t = np.linspace(0, 2 * np.pi, 10, endpoint=False)
            hole = np.column_stack([inner_r * np.cos(t), inner_r * np.sin(t)])
            geoms.append(
                shapely.Polygon(_to_degrees(outline, lon, lat), [_to_degrees(hole, lon, lat)[::-1]])
            )
        else:
            geoms.append(shapely.Polygon(_to_degrees(outline, lon, lat)))
    return geoms


def make_blobs(
    n_hazards: int = 100_000, n_releases: int = 3_000, *, seed: int = 7
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Hazards and releases as GeoDataFrames in EPSG:4326 (columns as minemap reads them)."""
    rng = np.random.default_rng(seed)
    centres = _centres(rng, n_hazards)
    ha = np.exp(rng.uniform(np.log(0.1), np.log(20.0), n_hazards))
    geoms = _blobs(rng, centres, ha, multi=0.03, holes=0.03)
    levels = rng.choice(np.array(["high", "medium", "low"]), n_hazards, p=[0.2, 0.45, 0.35])
    odd = rng.uniform(0, 1, n_hazards) < 0.01
    levels = np.where(odd, np.char.add(" ", np.char.upper(levels.astype(str))), levels)
    hazards = gpd.GeoDataFrame(
        {
            "hazard_id": [f"EXT-{k:06d}" for k in range(n_hazards)],
            "threat_level": levels,
            "survey_org": rng.choice(["Team A", "Team B", "NGO <c>", "Army & co"], n_hazards),
            "recorded": pd.to_datetime("2019-01-01")
            + pd.to_timedelta(rng.integers(0, 1500, n_hazards), unit="D"),
        },
        geometry=geoms,
        crs=4326,
    )

    host = rng.choice(n_hazards, n_releases, replace=False)
    shift = rng.uniform(-0.6, 0.6, (n_releases, 2)) * np.sqrt(ha[host] * 1e4 / np.pi)[:, None]
    r_centres = np.column_stack(
        [
            centres[host, 0] + shift[:, 0] / (M_PER_DEG * np.cos(np.radians(centres[host, 1]))),
            centres[host, 1] + shift[:, 1] / M_PER_DEG,
        ]
    )
    r_ha = ha[host] * rng.uniform(0.1, 0.9, n_releases)
    r_geoms = _blobs(rng, r_centres, r_ha, multi=0.0, holes=0.0)
    releases = gpd.GeoDataFrame(
        {
            "release_id": [f"REL-{k:05d}" for k in range(n_releases)],
            "method": rng.choice(
                ["cleared", "reduced", "cancelled"], n_releases, p=[0.5, 0.3, 0.2]
            ),
            "release_date": (
                pd.to_datetime("2021-01-01")
                + pd.to_timedelta(rng.integers(0, 1000, n_releases), unit="D")
            ).strftime("%Y-%m-%d"),
        },
        geometry=r_geoms,
        crs=4326,
    )
    return hazards, releases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hazards", type=int, default=100_000)
    parser.add_argument("--releases", type=int, default=3_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("-o", "--out", required=True, help="GeoPackage to write")
    args = parser.parse_args()
    hazards, releases = make_blobs(args.hazards, args.releases, seed=args.seed)
    hazards.to_file(args.out, layer="hazards")
    releases.to_file(args.out, layer="releases")


if __name__ == "__main__":
    main()
