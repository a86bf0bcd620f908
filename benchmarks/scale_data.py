"""Scenarios of any size for ``bench_scale.py``, made outside minemap's own generator.

Nothing here uses :mod:`minemap.synthetic`, so the benchmarks are not tuned to its shapes.
Geometry is drawn in metres on a local plane and mapped to EPSG:4326 at the end
(latitude-corrected degrees, rounded to 1e-7 degree, about 1 cm). Three scenarios:

``blobs-shared``
    The generator-like case. ``n`` hazards are random radial blobs (12 to 40 vertices, a
    radius wobbled by a few harmonics, log-uniform 0.1 to 20 ha; 3 % multipolygons, 3 %
    with a hole), half of them in Gaussian clusters, spread over an area proportional to
    ``n`` (about 2.2 hazards a km² whatever ``n``; 100,000 hazards cover 2.5 x 1.8
    degrees); threat levels high 20 %, medium 45 %, low 35 %. ``n // 2`` releases, each on
    its own host hazard: 35 % exact copies of the host, 65 % strips of it (the host cut by
    a band), so every release vertex but the band's cuts is a hazard vertex.
``blobs-independent``
    The same hazards; the releases are digitised independently: 35 % trace the host's
    outline again with their own vertices (new positions along the outline, moved by
    about 1 % of the radius), 45 % are smaller blobs inside the host (10 to 90 % of it),
    20 % are blobs centred on the host's edge, half in and half out. No release shares
    a vertex with a hazard.
``national``
    Shaped like a national database: suspected areas (medium 55 %, low 45 %, log-uniform
    2 to 150 ha, in village clusters, some overlapping) holding confirmed ones (high,
    3 to 25 % of their suspected area, most inside, some poking out); 40 % of the hazards
    are suspected. Every edge has a vertex about every 25 m. Releases (8 for every 15
    hazards, 75,000 hazards and 40,000 releases by default) are digitised independently
    with the same vertex spacing: 30 % trace a confirmed area again (cleared), 10 % a
    suspected one (cancelled or reduced), 40 % are blobs inside a hazard, 20 % straddle
    a hazard's edge.

The layers are made in chunks of :data:`CHUNK` hazards, each with its own random stream,
and written chunk by chunk to one GeoParquet file, so memory stays bounded whatever ``n``.

Run::

    python benchmarks/scale_data.py blobs-independent 1000000 -o /tmp/scale
    python benchmarks/scale_data.py national 75000 -o /tmp/scale --partitioned
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import shapely

M_PER_DEG = 111_320.0
CENTRE = (67.2, 34.6)  # lon, lat: an arbitrary inland area
CHUNK = 100_000  # hazards made and written at a time
SCENARIOS = ("blobs-shared", "blobs-independent", "national")
BLOB_KM2 = 230.0 * 200.0 / 100_000  # km² per blob hazard: 2.5 x 1.8 degrees at 100,000
NATIONAL_KM2 = 0.6  # km² per national hazard: 75,000 hazards over about 210 x 210 km
NATIONAL_RELEASES = 8 / 15  # releases per hazard in the national shape
SPACING_M = 25.0
METHODS = np.array(["cleared", "reduced", "cancelled"])


# --- geometry in metres -------------------------------------------------------------------


def _radial(
    rng: np.random.Generator, centres: np.ndarray, radius: np.ndarray, counts: np.ndarray
) -> np.ndarray:
    """Star-shaped blobs (always valid): ``counts`` vertices at increasing angles, a radius
    of ``radius`` metres wobbled by harmonics 2 to 5 and 5 % noise."""
    k = len(centres)
    which = np.repeat(np.arange(k), counts)
    starts = np.cumsum(counts) - counts
    pos = np.arange(len(which)) - starts[which]
    theta = (pos + rng.uniform(0.05, 0.95, len(which))) * (2 * np.pi / counts[which])
    r = np.ones(len(which))
    for h in range(2, 6):
        amp = rng.uniform(0, 0.7 / h, k)
        phase = rng.uniform(0, 2 * np.pi, k)
        r += amp[which] * np.cos(h * theta + phase[which])
    r = np.clip(r * (1 + 0.05 * rng.standard_normal(len(which))), 0.35, None) * radius[which]
    xy = centres[which] + np.column_stack([r * np.cos(theta), r * np.sin(theta)])
    return shapely.polygons(shapely.linearrings(xy, indices=which))


def _radius(ha: np.ndarray) -> np.ndarray:
    return np.sqrt(ha * 1e4 / np.pi)


def _multi_and_holes(
    rng: np.random.Generator, geoms: np.ndarray, *, multi: float, holes: float
) -> np.ndarray:
    """Turn a share of the blobs into two or three parts side by side, another into rings."""
    out = geoms.copy()
    kind = rng.uniform(0, 1, len(geoms))
    for k in np.flatnonzero(kind < multi):
        poly = geoms[k]
        c = np.asarray(poly.centroid.coords[0])
        ring = np.asarray(poly.exterior.coords) - c
        reach = float(np.max(np.hypot(ring[:, 0], ring[:, 1])))
        parts = [poly]
        for j in range(int(rng.integers(1, 3))):
            scaled = ring * rng.uniform(0.4, 0.8) + c + np.array([(j + 1) * 2.2 * reach, 0.0])
            parts.append(shapely.Polygon(scaled))
        out[k] = shapely.MultiPolygon(parts)
    for k in np.flatnonzero((kind >= multi) & (kind < multi + holes)):
        poly = geoms[k]
        c = np.asarray(poly.centroid.coords[0])
        ring = np.asarray(poly.exterior.coords)
        inner = 0.3 * float(np.min(np.hypot(*(ring - c).T)))
        t = np.linspace(2 * np.pi, 0, 10, endpoint=False)
        out[k] = shapely.Polygon(ring, [c + inner * np.column_stack([np.cos(t), np.sin(t)])])
    return out


def _retrace(
    rng: np.random.Generator, geoms: np.ndarray, spacing: np.ndarray, noise: np.ndarray
) -> np.ndarray:
    """Digitise the outlines again: vertices about ``spacing`` metres apart at positions of
    their own along the outer ring (of the largest part), each moved by ``noise`` metres."""
    parts = shapely.get_parts(geoms, return_index=True)
    area = shapely.area(parts[0])
    order = np.lexsort((-area, parts[1]))
    first = np.unique(parts[1][order], return_index=True)[1]
    rings = shapely.get_exterior_ring(parts[0][order][first])
    length = shapely.length(rings)
    counts = np.maximum(8, np.round(length / spacing)).astype(np.int64)
    which = np.repeat(np.arange(len(rings)), counts)
    starts = np.cumsum(counts) - counts
    pos = np.arange(len(which)) - starts[which]
    step = length[which] / counts[which]
    offset = rng.uniform(0, 1, len(rings))[which]
    dist = (pos + offset + rng.uniform(-0.3, 0.3, len(which))) * step
    points = shapely.line_interpolate_point(rings[which], dist % length[which])
    xy = shapely.get_coordinates(points)
    xy += rng.standard_normal(xy.shape) * noise[which, None]
    return shapely.polygons(shapely.linearrings(xy, indices=which))


def _strips(rng: np.random.Generator, geoms: np.ndarray) -> np.ndarray:
    """Each geometry cut by a band across it (20 to 60 % of its width or height)."""
    b = shapely.bounds(geoms)
    width = rng.uniform(0.2, 0.6, len(geoms))
    start = rng.uniform(0, 1, len(geoms)) * (1 - width)
    vertical = rng.uniform(0, 1, len(geoms)) < 0.5
    x0 = np.where(vertical, b[:, 0] + start * (b[:, 2] - b[:, 0]), b[:, 0] - 1)
    x1 = np.where(vertical, x0 + width * (b[:, 2] - b[:, 0]), b[:, 2] + 1)
    y0 = np.where(vertical, b[:, 1] - 1, b[:, 1] + start * (b[:, 3] - b[:, 1]))
    y1 = np.where(vertical, b[:, 3] + 1, y0 + width * (b[:, 3] - b[:, 1]))
    cut = shapely.intersection(geoms, shapely.box(x0, y0, x1, y1))
    return np.where(shapely.area(cut) > 0, cut, geoms)


def _to_degrees(geoms: np.ndarray) -> np.ndarray:
    """Map local metres (east, north of :data:`CENTRE`) to longitude and latitude."""

    def move(xy: np.ndarray) -> np.ndarray:
        lat = CENTRE[1] + xy[:, 1] / M_PER_DEG
        lon = CENTRE[0] + xy[:, 0] / (M_PER_DEG * np.cos(np.radians(lat)))
        return np.round(np.column_stack([lon, lat]), 7)

    return shapely.transform(geoms, move)


def _valid(geoms: np.ndarray) -> np.ndarray:
    """Repair the few outlines that noise made invalid, keeping their polygonal parts."""
    bad = ~shapely.is_valid(geoms)
    if bad.any():
        fixed = shapely.make_valid(geoms[bad], method="structure", keep_collapsed=False)
        geoms = geoms.copy()
        geoms[bad] = fixed
    return geoms


# --- scenarios, chunk by chunk --------------------------------------------------------------


def _side_m(n: int, km2_each: float) -> tuple[float, float]:
    area_m2 = n * km2_each * 1e6
    return float(np.sqrt(area_m2 * 230 / 200)), float(np.sqrt(area_m2 * 200 / 230))


def _centres(
    rng: np.random.Generator, k: int, side: tuple[float, float], heads: np.ndarray, sd: np.ndarray
) -> np.ndarray:
    """Half clustered round ``heads`` (standard deviation ``sd``), half uniform."""
    n_cluster = k // 2
    which = rng.integers(0, len(heads), n_cluster)
    cluster = heads[which] + rng.standard_normal((n_cluster, 2)) * sd[which, None]
    spread = rng.uniform(
        [-side[0] / 2, -side[1] / 2], [side[0] / 2, side[1] / 2], (k - n_cluster, 2)
    )
    return np.vstack([cluster, spread])[rng.permutation(k)]


def _heads(seed: int, n: int, side: tuple[float, float], per_head: int) -> tuple:
    rng = np.random.default_rng([seed, 0])
    count = max(1, n // per_head)
    heads = rng.uniform([-side[0] / 2, -side[1] / 2], [side[0] / 2, side[1] / 2], (count, 2))
    return heads, rng


def _release_table(
    rng: np.random.Generator, geoms: np.ndarray, methods: np.ndarray, first: int
) -> gpd.GeoDataFrame:
    n = len(geoms)
    dates = pd.to_datetime("2021-01-01") + pd.to_timedelta(rng.integers(0, 1000, n), unit="D")
    return gpd.GeoDataFrame(
        {
            "release_id": [f"R{first + k:07d}" for k in range(n)],
            "method": methods,
            "release_date": dates.strftime("%Y-%m-%d"),
        },
        geometry=_valid(_to_degrees(geoms)),
        crs=4326,
    )


def _hazard_table(geoms: np.ndarray, levels: np.ndarray, first: int) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"hazard_id": [f"H{first + k:07d}" for k in range(len(geoms))], "threat_level": levels},
        geometry=_valid(_to_degrees(geoms)),
        crs=4326,
    )


def _blob_chunks(
    n: int, *, independent: bool, seed: int
) -> Iterator[tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]]:
    side = _side_m(n, BLOB_KM2)
    heads, head_rng = _heads(seed, n, side, per_head=333)
    sd = head_rng.uniform(400, 4000, len(heads))  # cluster sizes, metres
    done = 0
    for c, first in enumerate(range(0, n, CHUNK)):
        k = min(CHUNK, n - first)
        rng = np.random.default_rng([seed, 1 + c])
        centres = _centres(rng, k, side, heads, sd)
        radius = _radius(np.exp(rng.uniform(np.log(0.1), np.log(20.0), k)))
        geoms = _radial(rng, centres, radius, rng.integers(12, 41, k))
        geoms = _multi_and_holes(rng, geoms, multi=0.03, holes=0.03)
        levels = rng.choice(np.array(["high", "medium", "low"]), k, p=[0.2, 0.45, 0.35])
        hazards = _hazard_table(geoms, levels, first)

        m = (first + k) // 2 - done
        host = rng.choice(k, m, replace=False)
        kind = rng.uniform(0, 1, m)
        r_geoms = np.empty(m, dtype=object)
        if independent:
            full, inside = kind < 0.35, (kind >= 0.35) & (kind < 0.8)
            edge = kind >= 0.8
            h = host[full]
            counts = np.array([len(shapely.get_coordinates(g)) for g in geoms[h]])
            spacing = shapely.length(geoms[h]) / np.maximum(counts, 12)
            r_geoms[full] = _retrace(rng, geoms[h], spacing, 0.01 * radius[h])
            h = host[inside]
            shift = rng.uniform(-0.4, 0.4, (len(h), 2)) * radius[h, None]
            scale = np.sqrt(rng.uniform(0.1, 0.9, len(h)))
            r_geoms[inside] = _radial(
                rng, centres[h] + shift, radius[h] * scale, rng.integers(12, 41, len(h))
            )
            h = host[edge]
            angle = rng.uniform(0, 2 * np.pi, len(h))
            at = centres[h] + radius[h, None] * np.column_stack([np.cos(angle), np.sin(angle)])
            r_geoms[edge] = _radial(
                rng, at, radius[h] * rng.uniform(0.2, 0.5, len(h)), rng.integers(12, 41, len(h))
            )
        else:
            copy = kind < 0.35
            r_geoms[copy] = geoms[host[copy]]
            r_geoms[~copy] = _strips(rng, geoms[host[~copy]])
        methods = rng.choice(METHODS, m, p=[0.5, 0.3, 0.2])
        yield hazards, _release_table(rng, r_geoms, methods, done)
        done += m


def _national_chunks(
    n: int, n_releases: int, *, seed: int, spacing: float
) -> Iterator[tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]]:
    side = _side_m(n, NATIONAL_KM2)
    heads, head_rng = _heads(seed, n, side, per_head=25)
    sd = head_rng.uniform(500, 2500, len(heads))  # village clusters, metres
    done = 0
    for c, first in enumerate(range(0, n, CHUNK)):
        k = min(CHUNK, n - first)
        rng = np.random.default_rng([seed, 1 + c])
        n_sha = max(1, int(round(k * 0.4)))
        n_cha = k - n_sha
        centres = _centres(rng, n_sha, side, heads, sd)
        radius = _radius(np.exp(rng.uniform(np.log(2.0), np.log(150.0), n_sha)))
        sha = _radial(rng, centres, radius, rng.integers(16, 41, n_sha))
        parent = rng.integers(0, n_sha, n_cha)
        angle = rng.uniform(0, 2 * np.pi, n_cha)
        reach = radius[parent] * rng.uniform(0, 0.75, n_cha)
        c_centres = centres[parent] + reach[:, None] * np.column_stack(
            [np.cos(angle), np.sin(angle)]
        )
        c_radius = radius[parent] * np.sqrt(rng.uniform(0.03, 0.25, n_cha))
        cha = _radial(rng, c_centres, c_radius, rng.integers(12, 31, n_cha))
        geoms = shapely.segmentize(np.concatenate([sha, cha]), spacing)
        levels = np.concatenate(
            [
                rng.choice(np.array(["medium", "low"]), n_sha, p=[0.55, 0.45]),
                np.full(n_cha, "high"),
            ]
        )
        mix = rng.permutation(k)
        geoms, levels = geoms[mix], levels[mix]
        all_centres = np.concatenate([centres, c_centres])[mix]
        all_radius = np.concatenate([radius, c_radius])[mix]
        hazards = _hazard_table(geoms, levels, first)

        m = int(round(n_releases * (first + k) / n)) - done
        kind = rng.uniform(0, 1, m)
        is_high = levels == "high"
        host = np.where(
            kind < 0.3,
            rng.choice(np.flatnonzero(is_high), m),
            np.where(kind < 0.4, rng.choice(np.flatnonzero(~is_high), m), rng.integers(0, k, m)),
        )
        r_geoms = np.empty(m, dtype=object)
        methods = rng.choice(METHODS, m, p=[0.4, 0.35, 0.25])
        retrace = kind < 0.4
        r_geoms[retrace] = _retrace(
            rng, geoms[host[retrace]], np.full(retrace.sum(), spacing), np.full(retrace.sum(), 1.5)
        )
        methods[kind < 0.3] = "cleared"
        sha_again = (kind >= 0.3) & (kind < 0.4)
        methods[sha_again] = rng.choice(METHODS[1:], sha_again.sum())
        inside = (kind >= 0.4) & (kind < 0.8)
        h = host[inside]
        shift = rng.uniform(-0.4, 0.4, (len(h), 2)) * all_radius[h, None]
        r_geoms[inside] = _radial(
            rng,
            all_centres[h] + shift,
            all_radius[h] * np.sqrt(rng.uniform(0.05, 0.6, len(h))),
            rng.integers(16, 41, len(h)),
        )
        edge = kind >= 0.8
        h = host[edge]
        angle = rng.uniform(0, 2 * np.pi, len(h))
        at = all_centres[h] + all_radius[h, None] * np.column_stack([np.cos(angle), np.sin(angle)])
        r_geoms[edge] = _radial(
            rng, at, all_radius[h] * rng.uniform(0.2, 0.5, len(h)), rng.integers(16, 41, len(h))
        )
        r_geoms[inside | edge] = shapely.segmentize(r_geoms[inside | edge], spacing)
        yield hazards, _release_table(rng, r_geoms, methods, done)
        done += m


def chunks(
    scenario: str, n: int, *, seed: int = 1, n_releases: int | None = None
) -> Iterator[tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]]:
    """The scenario's (hazards, releases) chunk by chunk, in EPSG:4326."""
    if scenario == "national":
        releases = n_releases if n_releases is not None else round(n * NATIONAL_RELEASES)
        return _national_chunks(n, releases, seed=seed, spacing=SPACING_M)
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}; use one of {', '.join(SCENARIOS)}")
    if n_releases is not None:
        raise ValueError("the blob scenarios always have half as many releases as hazards")
    return _blob_chunks(n, independent=scenario == "blobs-independent", seed=seed)


def make(
    scenario: str, n: int, *, seed: int = 1, n_releases: int | None = None
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The whole scenario in memory (for small ``n``)."""
    parts = list(chunks(scenario, n, seed=seed, n_releases=n_releases))
    return (
        pd.concat([h for h, _ in parts], ignore_index=True),
        pd.concat([r for _, r in parts], ignore_index=True),
    )


class _ChunkWriter:
    """One GeoParquet file written chunk by chunk; its ``geo`` metadata (from the first
    chunk) leaves out the optional bbox and lists no geometry types (any)."""

    def __init__(self, path: Path) -> None:
        self.path, self.tmp = path, path.with_suffix(".parquet.tmp")
        self.writer: pq.ParquetWriter | None = None

    def write(self, gdf: gpd.GeoDataFrame) -> None:
        columns = {c: pa.array(gdf[c].to_numpy()) for c in gdf.columns if c != "geometry"}
        columns["geometry"] = pa.array(shapely.to_wkb(gdf.geometry.to_numpy()), pa.binary())
        table = pa.table(columns)
        if self.writer is None:
            geo = {
                "version": "1.0.0",
                "primary_column": "geometry",
                "columns": {
                    "geometry": {
                        "encoding": "WKB",
                        "geometry_types": [],
                        "crs": gdf.crs.to_json_dict(),
                    }
                },
            }
            self.schema = table.schema.with_metadata({b"geo": json.dumps(geo).encode()})
            self.writer = pq.ParquetWriter(self.tmp, self.schema)
        self.writer.write_table(table.cast(self.schema))

    def close(self) -> None:
        assert self.writer is not None
        self.writer.close()
        self.tmp.replace(self.path)


def write(
    scenario: str,
    n: int,
    folder: Path,
    *,
    seed: int = 1,
    n_releases: int | None = None,
    partitioned: bool = False,
) -> tuple[Path, Path]:
    """Write (once) the scenario as ``<scenario>_<n>_<seed>_{hazards,releases}.parquet``;
    with ``partitioned``, also as folders of the same names without the suffix, written
    by :func:`minemap.io.write_partitioned`."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{scenario}_{n}_{seed}" + ("" if n_releases is None else f"_{n_releases}")
    hz, rl = folder / f"{stem}_hazards.parquet", folder / f"{stem}_releases.parquet"
    if not (hz.exists() and rl.exists()):
        writers = _ChunkWriter(hz), _ChunkWriter(rl)
        for hazards, releases in chunks(scenario, n, seed=seed, n_releases=n_releases):
            writers[0].write(hazards)
            writers[1].write(releases)
        for w in writers:
            w.close()
    if partitioned:
        from minemap.io import write_partitioned

        for path in (hz, rl):
            target = path.with_suffix("")
            if not target.exists():
                write_partitioned(gpd.read_parquet(path), target)
    return hz, rl


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", choices=SCENARIOS)
    parser.add_argument("hazards", type=int)
    parser.add_argument("--releases", type=int, help="national shape only")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("-o", "--out", type=Path, required=True, help="folder to write into")
    parser.add_argument("--partitioned", action="store_true", help="also write folders")
    args = parser.parse_args()
    start = time.perf_counter()
    paths = write(
        args.scenario,
        args.hazards,
        args.out,
        seed=args.seed,
        n_releases=args.releases,
        partitioned=args.partitioned,
    )
    print(f"{time.perf_counter() - start:.1f} s: {paths[0]} {paths[1]}")


if __name__ == "__main__":
    main()
