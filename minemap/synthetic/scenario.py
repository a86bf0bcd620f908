"""Synthetic but realistic land-release scenarios for tests, notebooks and ``sample_data``.

Everything this module makes is **invented**: hazard areas, releases, roads, settlements,
infrastructure and districts are drawn from a seeded random generator around a chosen centre.
None of it describes a real minefield.

A scenario looks like post-conflict contamination data: irregular hazard polygons of
log-normally distributed size, clustered along meandering former front lines, beside roads and
around settlements; a few multi-part hazards; some hazards overlapping each other (also across
threat levels); land releases over several years that clear, reduce or cancel whole hazards or
strips of them, some overlapping each other, a few straddling a hazard edge and one to three
recorded outside every hazard.

Geometry is drawn in a Lambert Azimuthal Equal Area (LAEA) frame centred on ``centre``, where
planar area is true ellipsoidal area, and hazards are scaled until each threat level covers
the requested hectares *counted the way minemap counts them*: a place covered by several
hazards counts once, under its highest threat level. Only then is everything transformed to
the output CRS (coordinates rounded to 1e-6 degrees, or 1 cm in a projected CRS).

Examples
--------
>>> from minemap.synthetic import make_scenario
>>> scenario = make_scenario(seed=1, high_ha=100, medium_ha=200, low_ha=100)
>>> len(scenario.hazards)
16
>>> sorted(scenario.hazards.threat_level.unique())
['high', 'low', 'medium']
"""

from __future__ import annotations

import os
import string
import tempfile
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from minemap._errors import OutputError
from minemap._extras import require
from minemap._overlay import valid
from minemap.settings import (
    HAZARD_ID,
    METHOD,
    RELEASE_DATE,
    RELEASE_ID,
    RELEASE_METHODS,
    THREAT_LEVEL,
    THREAT_LEVELS,
)

require("rasterio", extra="synthetic", purpose="the synthetic scenario generator")

import rasterio  # noqa: E402 - only once the extra is known to be installed
import rasterio.crs  # noqa: E402
import rasterio.errors  # noqa: E402
import rasterio.features  # noqa: E402
from scipy import ndimage  # noqa: E402
from scipy.sparse import coo_matrix  # noqa: E402
from scipy.sparse.csgraph import connected_components  # noqa: E402

__all__ = ["Scenario", "make_scenario", "write_population_raster", "write_scenario"]

#: Layer names, in the order they are written.
LAYERS: tuple[str, ...] = (
    "hazards",
    "releases",
    "roads",
    "infrastructure",
    "residential",
    "districts",
)
#: Output formats understood by :func:`write_scenario`.
FORMATS: tuple[str, ...] = ("gpkg", "geojson")
#: Value of raster cells outside the scenario's region.
RASTER_NODATA = -9999.0

_M2_PER_HA = 10_000.0
#: Hazards cover about this share of the square region they are drawn in.
_COVERAGE = 0.10
#: Hazards cover about this share of the land around their cluster, road or settlement.
_BAND_COVERAGE = 0.06
#: Default mean hazard size, used to derive the number of hazards from the hectares.
_MEAN_HAZARD_HA = 25.0
#: Spread (log-space standard deviation) of hazard sizes.
_SIZE_SIGMA = 1.3
#: Share of hazards placed to overlap a neighbour on purpose ("child" hazards).
_CHILD_SHARE = 0.055
#: Share of hazards made of two or three separate parts.
_MULTI_SHARE = 0.03
#: Shares of the remaining hazards drawn near front lines, roads and settlements.
_ORIGIN_SHARES = (0.6, 0.25, 0.15)
#: Relative tolerance to which each threat level's area is calibrated (in the LAEA frame).
_AREA_RTOL = 1e-4
#: Rounds of moving hazards away from accidental overlaps.
_RELOCATION_ROUNDS = 10
#: Share of the release records that re-release part of an already released hazard.
_RERELEASE_SHARE = 0.06
#: Share of the release records straddling a hazard edge.
_STRADDLE_SHARE = 0.02
#: Release methods' target shares of the released area (cleared, reduced, cancelled).
_METHOD_SHARES = (0.5, 0.3, 0.2)

_FRONT, _ROAD, _SETTLEMENT, _CHILD = 0, 1, 2, 3
_ROAD_CLASSES = ("primary", "secondary", "track")
_SYLLABLES = (
    "ara",
    "bel",
    "dor",
    "gan",
    "kel",
    "lim",
    "mor",
    "nes",
    "oru",
    "pal",
    "sar",
    "tuv",
    "var",
    "zel",
    "hal",
    "qor",
    "yen",
    "dul",
)
_SUFFIXES = ("ovo", "ka", "li", "dere", "kent", "abad", "tepe", "ino", "var", "su")


@dataclass(frozen=True, eq=False)
class Scenario:
    """A synthetic land-release scenario: six layers in one CRS.

    Attributes
    ----------
    hazards : geopandas.GeoDataFrame
        ``hazard_id`` (``"HZ-000001"``), ``threat_level`` (``high``/``medium``/``low``),
        ``district`` and Polygon or MultiPolygon geometry.
    releases : geopandas.GeoDataFrame
        ``release_id`` (``"RL-000001"``), ``method`` (``cleared``/``reduced``/``cancelled``),
        ``release_date`` (datetime64, midnight) and Polygon geometry; sorted by date.
    roads : geopandas.GeoDataFrame
        ``road_id``, ``road_class`` (``primary``/``secondary``/``track``), LineString geometry.
    infrastructure : geopandas.GeoDataFrame
        ``infra_id``, ``kind`` (``school``/``clinic``/``water``/``power``/``bridge``), Point.
    residential : geopandas.GeoDataFrame
        ``settlement_id``, ``name``, ``population`` (int) and Polygon geometry.
    districts : geopandas.GeoDataFrame
        ``district`` (``"District A"``, ...) and Polygon geometry; disjoint, covering the region.

    Examples
    --------
    >>> s = make_scenario(seed=2, high_ha=50, medium_ha=50, low_ha=50)
    >>> list(s.layers)
    ['hazards', 'releases', 'roads', 'infrastructure', 'residential', 'districts']
    """

    hazards: gpd.GeoDataFrame
    releases: gpd.GeoDataFrame
    roads: gpd.GeoDataFrame
    infrastructure: gpd.GeoDataFrame
    residential: gpd.GeoDataFrame
    districts: gpd.GeoDataFrame

    @property
    def layers(self) -> dict[str, gpd.GeoDataFrame]:
        """The six layers by name, in the order of :data:`LAYERS`."""
        return {name: getattr(self, name) for name in LAYERS}


# --------------------------------------------------------------------------------------------
# star-shaped polygons
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Shapes:
    """Unit-size star-shaped outlines of ``n`` features, each of one to three parts.

    Vertices are stored flat, relative to the feature's centre, already stretched but not yet
    rotated nor scaled; :meth:`build` places, scales and rotates them.
    """

    xy: np.ndarray  # (m, 2) vertex coordinates
    vertex_part: np.ndarray  # (m,) part of each vertex
    part_owner: np.ndarray  # (p,) feature of each part
    n_parts: np.ndarray  # (n,) parts per feature
    unit_area: np.ndarray  # (n,) area of each unit outline

    def build(
        self,
        centres: np.ndarray,
        areas: np.ndarray,
        angles: np.ndarray,
        which: np.ndarray | None = None,
    ) -> np.ndarray:
        """Polygons (or MultiPolygons) of exactly ``areas`` m², for features ``which``."""
        n = len(self.n_parts)
        which = np.arange(n) if which is None else np.asarray(which)
        wanted = np.zeros(n, dtype=bool)
        wanted[which] = True
        vertex_owner = self.part_owner[self.vertex_part]
        vmask = wanted[vertex_owner]
        owner = vertex_owner[vmask]
        scale = np.sqrt(areas / self.unit_area)[owner]
        cos, sin = np.cos(angles)[owner], np.sin(angles)[owner]
        x, y = self.xy[vmask, 0] * scale, self.xy[vmask, 1] * scale
        coords = np.column_stack(
            [centres[owner, 0] + cos * x - sin * y, centres[owner, 1] + sin * x + cos * y]
        )
        parts, part_index = np.unique(self.vertex_part[vmask], return_inverse=True)
        polygons = shapely.polygons(shapely.linearrings(coords, indices=part_index))
        part_owner = self.part_owner[parts]
        out = np.empty(n, dtype=object)
        single = self.n_parts[part_owner] == 1
        out[part_owner[single]] = polygons[single]
        if not single.all():
            owners, multi_index = np.unique(part_owner[~single], return_inverse=True)
            out[owners] = shapely.multipolygons(polygons[~single], indices=multi_index)
        return out[which]


def _star_shapes(
    rng: np.random.Generator,
    n: int,
    *,
    vertices: tuple[int, int] = (8, 24),
    roughness: float = 0.22,
    stretch: np.ndarray | None = None,
    multi_share: float = 0.0,
) -> _Shapes:
    """Random star-shaped unit outlines: jittered angles and radii, stretched per feature."""
    n_parts = np.ones(n, dtype=np.int64)
    multi = rng.random(n) < multi_share
    n_parts[multi] += rng.integers(1, 3, multi.sum())
    part_owner = np.repeat(np.arange(n), n_parts)
    rank = np.arange(len(part_owner)) - np.repeat(np.cumsum(n_parts) - n_parts, n_parts)
    n_vertices = rng.integers(vertices[0], vertices[1] + 1, len(part_owner))
    vertex_part = np.repeat(np.arange(len(part_owner)), n_vertices)
    starts = np.cumsum(n_vertices) - n_vertices
    k = np.arange(len(vertex_part)) - starts[vertex_part]
    phase = rng.uniform(0.0, 2.0 * np.pi, len(part_owner))
    theta = (
        2.0 * np.pi * (k + rng.uniform(-0.35, 0.35, len(k))) / n_vertices[vertex_part]
        + phase[vertex_part]
    )
    # radius: a few lobes (low harmonics) plus a little vertex-to-vertex jitter
    harmonic = np.arange(2, 5)
    amplitude = rng.normal(0.0, 1.4 * roughness, (len(part_owner), 3)) / harmonic
    lobes = rng.uniform(0.0, 2.0 * np.pi, (len(part_owner), 3))
    log_rho = amplitude[vertex_part] * np.cos(harmonic * theta[:, None] + lobes[vertex_part])
    log_rho = log_rho.sum(axis=1) + rng.normal(0.0, roughness / 2, len(k))
    rho = np.clip(np.exp(log_rho), 0.5, 1.5)
    # extra parts: smaller, and far enough that the discs of radius 1.5 holding them are apart
    size = np.where(rank == 0, 1.0, rng.uniform(0.35, 0.8, len(part_owner)))
    direction = rng.uniform(0.0, 2.0 * np.pi, n)[part_owner] + np.where(
        rank == 2, np.pi + rng.uniform(-0.6, 0.6, len(part_owner)), 0.0
    )
    distance = np.where(rank == 0, 0.0, 1.5 * (1.0 + size) * rng.uniform(1.1, 1.6, len(rank)))
    x = rho * np.cos(theta) * size[vertex_part] + (distance * np.cos(direction))[vertex_part]
    y = rho * np.sin(theta) * size[vertex_part] + (distance * np.sin(direction))[vertex_part]
    e = np.ones(n) if stretch is None else np.asarray(stretch, dtype=float)
    owner = part_owner[vertex_part]
    x, y = x * np.sqrt(e)[owner], y / np.sqrt(e)[owner]
    nxt = np.arange(len(k)) + 1
    nxt[starts + n_vertices - 1] = starts
    part_area = 0.5 * np.bincount(vertex_part, weights=x * y[nxt] - x[nxt] * y)
    unit_area = np.bincount(part_owner, weights=part_area, minlength=n)
    return _Shapes(np.column_stack([x, y]), vertex_part, part_owner, n_parts, unit_area)


def _star_polygons(
    rng: np.random.Generator,
    centres: np.ndarray,
    areas: np.ndarray,
    *,
    vertices: tuple[int, int] = (8, 24),
    roughness: float = 0.22,
    stretch: np.ndarray | None = None,
) -> np.ndarray:
    """Single-part star-shaped polygons of exactly ``areas`` m², randomly rotated."""
    shapes = _star_shapes(
        rng, len(centres), vertices=vertices, roughness=roughness, stretch=stretch
    )
    angles = rng.uniform(0.0, np.pi, len(centres))
    return shapes.build(np.asarray(centres, dtype=float), np.asarray(areas, float), angles)


# --------------------------------------------------------------------------------------------
# areas
# --------------------------------------------------------------------------------------------


def _union_area(
    geoms: np.ndarray, among: np.ndarray | None = None, candidates: np.ndarray | None = None
) -> float:
    """Area of the union of ``geoms[among]``, unioning only groups of overlapping ones.

    ``candidates`` are index pairs into ``geoms`` that may intersect (a superset of the
    intersecting pairs); by default they are searched with an STRtree.
    """
    n_all = len(geoms)
    among = np.arange(n_all) if among is None else np.asarray(among)
    geoms = geoms[among]
    areas = shapely.area(geoms)
    if candidates is None:
        pairs = _overlapping_pairs(geoms)
    else:
        position = np.full(n_all, -1)
        position[among] = np.arange(len(among))
        pairs = position[candidates]
        pairs = pairs[(pairs >= 0).all(axis=1)]
        pairs = pairs[shapely.intersects(geoms[pairs[:, 0]], geoms[pairs[:, 1]])]
    if len(pairs) == 0:
        return float(areas.sum())
    left, right = pairs.T
    n = len(geoms)
    graph = coo_matrix((np.ones(left.size), (left, right)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    group_size = np.bincount(labels)[labels]
    total = areas[group_size == 1].sum()
    two = group_size[left] == 2
    a, b = geoms[left[two]], geoms[right[two]]
    total += (shapely.area(a) + shapely.area(b) - shapely.area(shapely.intersection(a, b))).sum()
    big = np.flatnonzero(group_size > 2)
    if big.size:
        big = big[np.argsort(labels[big], kind="stable")]
        cuts = np.flatnonzero(np.diff(labels[big])) + 1
        total += sum(shapely.area(shapely.union_all(geoms[g])) for g in np.split(big, cuts))
    return float(total)


def _polygonal(geoms: np.ndarray) -> np.ndarray:
    """Keep only the polygonal parts of each geometry (None where nothing is left)."""
    parts, index = shapely.get_parts(geoms, return_index=True)
    keep = shapely.get_type_id(parts) == 3
    out = np.full(len(geoms), None, dtype=object)
    if keep.any():
        idx, inverse = np.unique(index[keep], return_inverse=True)
        merged = shapely.multipolygons(parts[keep], indices=inverse)
        counts = np.bincount(inverse)
        out[idx] = np.where(counts == 1, shapely.get_geometry(merged, 0), merged)
    return out


def _largest_polygon(geoms: np.ndarray) -> np.ndarray:
    """The largest polygonal part of each geometry (None where there is none)."""
    parts, index = shapely.get_parts(geoms, return_index=True)
    keep = (shapely.get_type_id(parts) == 3) & (shapely.area(parts) > 0)
    parts, index = parts[keep], index[keep]
    order = np.lexsort((-shapely.area(parts), index))
    first = order[np.r_[True, np.diff(index[order]) != 0]] if order.size else order
    out = np.full(len(geoms), None, dtype=object)
    out[index[first]] = parts[first]
    return out


# --------------------------------------------------------------------------------------------
# region, lines and settlements (all in the LAEA frame, metres)
# --------------------------------------------------------------------------------------------


def _laea(centre: tuple[float, float]) -> pyproj.CRS:
    lon, lat = centre
    return pyproj.CRS.from_proj4(
        f"+proj=laea +lat_0={lat} +lon_0={lon} +datum=WGS84 +units=m +no_defs"
    )


def _crossing_lines(
    rng: np.random.Generator, count: int, half: float, *, n_vertices: int, wiggle: float
) -> np.ndarray:
    """Smoothly meandering lines running from one side of the square region to the other."""
    t = np.linspace(0.0, 1.0, n_vertices)
    along = (-1.05 + 2.1 * t) * half
    a, b = rng.uniform(-0.8, 0.8, (2, count)) * half
    across = a[:, None] + (b - a)[:, None] * t
    for harmonic in range(1, 6):
        amplitude = rng.normal(0.0, wiggle * half / harmonic, count)
        across += amplitude[:, None] * np.sin(
            harmonic * np.pi * t + rng.uniform(0, 2 * np.pi, count)[:, None]
        )
    across = np.clip(across, -0.98 * half, 0.98 * half)
    vertical = rng.random(count) < 0.5
    x = np.where(vertical[:, None], across, along)
    y = np.where(vertical[:, None], along, across)
    return shapely.linestrings(np.stack([x, y], axis=-1))


def _points_on_lines(
    rng: np.random.Generator, lines: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """``k`` random points along ``lines`` (uniform by length) and the line direction there."""
    lengths = shapely.length(lines)
    line = rng.choice(len(lines), size=k, p=lengths / lengths.sum())
    d = rng.random(k) * lengths[line]
    ahead = shapely.line_interpolate_point(lines[line], np.minimum(d + 5.0, lengths[line]))
    behind = shapely.line_interpolate_point(lines[line], np.maximum(d - 5.0, 0.0))
    points = shapely.get_coordinates(shapely.line_interpolate_point(lines[line], d))
    step = shapely.get_coordinates(ahead) - shapely.get_coordinates(behind)
    return points, np.arctan2(step[:, 1], step[:, 0])


def _reflect(values: np.ndarray, limit: float) -> np.ndarray:
    """Fold values back into ``[-limit, limit]`` like a ball bouncing off the walls."""
    period = 4.0 * limit
    shifted = np.mod(values + limit, period)
    return np.where(shifted > 2.0 * limit, period - shifted, shifted) - limit


def _settlement_names(rng: np.random.Generator, n: int) -> np.ndarray:
    first = rng.choice(_SYLLABLES, n)
    second = rng.choice(_SYLLABLES, n)
    suffix = rng.choice(_SUFFIXES, n)
    names = [f"{a.capitalize()}{b}{c}" for a, b, c in zip(first, second, suffix, strict=True)]
    seen: dict[str, int] = {}
    unique = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        unique.append(name if seen[name] == 1 else f"{name} {seen[name]}")
    return np.array(unique, dtype=object)


@dataclass(frozen=True)
class _Landscape:
    """Everything hazards are placed around, in the LAEA frame."""

    half: float
    fronts: np.ndarray
    road_geoms: np.ndarray
    road_class: np.ndarray
    settlement_geoms: np.ndarray
    settlement_centres: np.ndarray
    settlement_radius: np.ndarray
    population: np.ndarray
    names: np.ndarray
    infra_points: np.ndarray
    infra_kind: np.ndarray


def _make_landscape(rng: np.random.Generator, half: float) -> _Landscape:
    fronts = _crossing_lines(
        rng, int(rng.integers(1, 3)) + int(half > 30_000), half, n_vertices=80, wiggle=0.12
    )
    primary = _crossing_lines(
        rng, min(8, 2 + int(half // 40_000)), half, n_vertices=50, wiggle=0.06
    )
    n_settlements = int(np.clip(round((2 * half / 1000) ** 2 / 20), 6, 1500))
    near_road = rng.random(n_settlements) < 0.7
    centres = rng.uniform(-0.92, 0.92, (n_settlements, 2)) * half
    points, angle = _points_on_lines(rng, primary, int(near_road.sum()))
    offset = rng.normal(0.0, min(1_500.0, 0.05 * half), len(points))
    centres[near_road] = points + offset[:, None] * np.column_stack([-np.sin(angle), np.cos(angle)])
    centres = _reflect(centres, 0.95 * half)
    population = np.clip(np.round(rng.lognormal(np.log(600), 1.0, n_settlements)), 50, 60_000)
    area = population / rng.uniform(15.0, 40.0, n_settlements) * _M2_PER_HA
    settlements = _star_polygons(
        rng,
        centres,
        area,
        vertices=(10, 20),
        roughness=0.15,
        stretch=rng.uniform(1.0, 1.8, n_settlements),
    )
    radius = np.sqrt(area / np.pi)
    roads, classes = _make_roads(rng, primary, centres, radius)
    infra, kinds = _make_infrastructure(rng, roads, classes, centres, radius)
    return _Landscape(
        half,
        fronts,
        roads,
        classes,
        settlements,
        centres,
        radius,
        population.astype(np.int64),
        _settlement_names(rng, n_settlements),
        infra,
        kinds,
    )


def _make_roads(
    rng: np.random.Generator, primary: np.ndarray, centres: np.ndarray, radius: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Primary roads, secondary roads linking settlements to them, and tracks leaving them."""
    points = shapely.points(centres)
    link = shapely.shortest_line(points, shapely.union_all(primary))
    ends = shapely.get_coordinates(link).reshape(-1, 2, 2)
    far = shapely.length(link) > radius + 300.0
    start, stop = ends[far, 0], ends[far, 1]
    mid = (start + stop) / 2 + rng.normal(0, 1, (len(start), 2)) * (
        0.12 * np.linalg.norm(stop - start, axis=1)[:, None]
    )
    secondary = shapely.linestrings(np.stack([start, mid, stop], axis=1))
    n_tracks = max(2, len(centres) // 2)
    origin = rng.integers(0, len(centres), n_tracks)
    heading = rng.uniform(0, 2 * np.pi, n_tracks)[:, None] + np.cumsum(
        rng.normal(0, 0.35, (n_tracks, 4)), axis=1
    )
    steps = rng.uniform(300.0, 900.0, (n_tracks, 4))
    walk = np.cumsum(np.stack([np.cos(heading), np.sin(heading)], -1) * steps[..., None], axis=1)
    track_xy = np.concatenate([np.zeros((n_tracks, 1, 2)), walk], axis=1) + centres[origin, None]
    tracks = shapely.linestrings(track_xy)
    roads = np.concatenate([primary, secondary, tracks])
    classes = np.repeat(_ROAD_CLASSES, [len(primary), len(secondary), len(tracks)])
    return roads, classes.astype(object)


def _make_infrastructure(
    rng: np.random.Generator,
    roads: np.ndarray,
    classes: np.ndarray,
    centres: np.ndarray,
    radius: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Schools, clinics and water points in settlements; power and bridges along roads."""
    n = len(centres)
    chance = {"school": 0.8, "clinic": 0.4, "water": 0.7}  # per settlement
    xy, kinds = [], []
    for kind, p in chance.items():
        here = np.flatnonzero(rng.random(n) < p)
        angle = rng.uniform(0, 2 * np.pi, len(here))
        dist = rng.uniform(0.0, 0.8, len(here)) * radius[here]
        xy.append(centres[here] + dist[:, None] * np.column_stack([np.cos(angle), np.sin(angle)]))
        kinds += [kind] * len(here)
    main = roads[classes != "track"]
    for kind, count in (("power", max(2, n // 4)), ("bridge", max(2, n // 5))):
        points, _ = _points_on_lines(rng, main, count)
        xy.append(points)
        kinds += [kind] * count
    return shapely.points(np.concatenate(xy)), np.array(kinds, dtype=object)


# --------------------------------------------------------------------------------------------
# hazards
# --------------------------------------------------------------------------------------------


def _level_counts(n: int, targets: np.ndarray) -> np.ndarray:
    """Hazards per threat level, proportional to area; at least one per level with area."""
    active = targets > 0
    if n < active.sum():
        raise ValueError(
            f"n_hazards={n} is too small: {int(active.sum())} threat levels have a target area; "
            "give at least one hazard per level, or set the unused level's hectares to 0."
        )
    counts = active.astype(np.int64)
    share = targets / targets.sum() * (n - active.sum())
    counts += np.floor(share).astype(np.int64)
    remainder = share - np.floor(share)
    counts[np.argsort(-remainder, kind="stable")[: n - counts.sum()]] += 1
    return counts


@dataclass
class _HazardPlan:
    """Mutable working state while hazards are placed and sized (LAEA frame)."""

    origin: np.ndarray  # _FRONT, _ROAD, _SETTLEMENT or _CHILD
    level: np.ndarray  # 0 high, 1 medium, 2 low
    area: np.ndarray  # m²
    centre: np.ndarray  # (n, 2)
    angle: np.ndarray
    parent: np.ndarray  # parent hazard of a child, -1 otherwise
    cluster: np.ndarray  # front cluster, -1 otherwise
    shapes: _Shapes


def _plan_hazards(
    rng: np.random.Generator, n: int, targets: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Origin, threat level, area (m²) and parent of each hazard."""
    n_child = int(round(_CHILD_SHARE * n)) if n >= 10 else 0
    origin = np.full(n, _CHILD)
    origin[: n - n_child] = rng.choice(3, n - n_child, p=_ORIGIN_SHARES)
    parent = np.full(n, -1)
    parent[n - n_child :] = rng.integers(0, n - n_child, n_child)
    # front hazards tend to be high threat, hazards near settlements lower
    score = np.array([-0.5, 0.2, 0.5, 0.0])[origin] + rng.normal(0.0, 1.0, n)
    level = np.repeat(np.arange(3), _level_counts(n, targets))[np.argsort(np.argsort(score))]
    mean = targets.sum() / n * _M2_PER_HA
    area = mean * np.clip(rng.lognormal(-(_SIZE_SIGMA**2) / 2, _SIZE_SIGMA, n), 0.01, 60.0)
    for lv in range(3):
        mine = level == lv
        if mine.any():
            area[mine] *= targets[lv] * _M2_PER_HA / area[mine].sum()
    return origin, level, area, parent


@dataclass(frozen=True)
class _Anchors:
    """Where hazards of each origin are drawn around (LAEA frame)."""

    cluster_anchor: np.ndarray  # (c, 2) centre of each front-line cluster
    cluster_direction: np.ndarray  # (c,) direction of the front there
    cluster_spread: np.ndarray  # (c, 2) standard deviation along and across the front
    roads: np.ndarray  # primary and secondary roads
    road_spread: float  # standard deviation of a road hazard's distance from its road
    settlement_centre: np.ndarray  # (s, 2)
    settlement_radius: np.ndarray  # (s,) radius of a disc of the settlement's area
    settlement_weight: np.ndarray  # probability of a settlement hazard to be at each settlement
    settlement_spread: np.ndarray  # mean distance of settlement hazards beyond the outskirts


def _make_anchors(rng: np.random.Generator, land: _Landscape, plan: _HazardPlan) -> _Anchors:
    """Spread each origin's hazards so that they cover about ``_BAND_COVERAGE`` locally."""
    front = plan.cluster >= 0
    n_clusters = int(plan.cluster.max()) + 1 if front.any() else 1
    anchor, direction = _points_on_lines(rng, land.fronts, n_clusters)
    normal = np.column_stack([-np.sin(direction), np.cos(direction)])
    anchor = anchor + normal * rng.normal(0.0, land.half / 10, n_clusters)[:, None]
    footprint = np.bincount(plan.cluster[front], weights=plan.area[front], minlength=n_clusters)
    aspect = rng.uniform(2.0, 5.0, n_clusters)
    across = np.sqrt(footprint / _BAND_COVERAGE / (4 * np.pi * aspect)) + 1.0
    roads = land.road_geoms[land.road_class != "track"]
    road_area = plan.area[plan.origin == _ROAD].sum()
    road_spread = road_area / _BAND_COVERAGE / shapely.length(roads).sum() / 4
    weight = np.sqrt(land.population) / np.sqrt(land.population).sum()
    settlement_area = plan.area[plan.origin == _SETTLEMENT].sum() * weight
    return _Anchors(
        anchor,
        direction,
        np.column_stack([aspect * across, across]),
        roads,
        max(100.0, road_spread),
        land.settlement_centres,
        land.settlement_radius,
        weight,
        np.maximum(200.0, np.sqrt(settlement_area / _BAND_COVERAGE / np.pi)),
    )


def _place(
    rng: np.random.Generator, plan: _HazardPlan, anchors: _Anchors, half: float, idx: np.ndarray
) -> None:
    """(Re)draw the centre and orientation of hazards ``idx`` from their origin."""
    radius = np.sqrt(plan.area / np.pi)
    front = idx[plan.origin[idx] == _FRONT]
    c = plan.cluster[front]
    along, across = rng.normal(0.0, 1.0, (2, len(front))) * anchors.cluster_spread[c].T
    direction = anchors.cluster_direction[c]
    cos, sin = np.cos(direction), np.sin(direction)
    plan.centre[front] = anchors.cluster_anchor[c] + np.column_stack(
        [cos * along - sin * across, sin * along + cos * across]
    )
    plan.angle[front] = direction + rng.normal(0.0, 0.3, len(front))

    road = idx[plan.origin[idx] == _ROAD]
    points, heading = _points_on_lines(rng, anchors.roads, len(road))
    side = rng.normal(0.0, 1.0, len(road)) * (anchors.road_spread + 0.5 * radius[road])
    normal = np.column_stack([-np.sin(heading), np.cos(heading)])
    plan.centre[road] = points + side[:, None] * normal
    plan.angle[road] = heading + rng.normal(0.0, 0.15, len(road))

    near = idx[plan.origin[idx] == _SETTLEMENT]
    which = rng.choice(len(anchors.settlement_weight), len(near), p=anchors.settlement_weight)
    bearing = rng.uniform(0, 2 * np.pi, len(near))
    dist = (
        anchors.settlement_radius[which]
        + radius[near]
        + rng.exponential(1.0, len(near)) * anchors.settlement_spread[which]
    )
    plan.centre[near] = anchors.settlement_centre[which] + dist[:, None] * np.column_stack(
        [np.cos(bearing), np.sin(bearing)]
    )
    plan.angle[near] = rng.uniform(0, np.pi, len(near))
    plan.centre[idx] = _reflect(plan.centre[idx], 0.97 * half)


def _place_children(rng: np.random.Generator, plan: _HazardPlan) -> None:
    """Put each child hazard where it overlaps its parent."""
    child = np.flatnonzero(plan.parent >= 0)
    p = plan.parent[child]
    radius = np.sqrt(plan.area / np.pi)
    bearing = rng.uniform(0, 2 * np.pi, len(child))
    dist = rng.uniform(0.3, 0.55, len(child)) * (radius[p] + radius[child])
    plan.centre[child] = plan.centre[p] + dist[:, None] * np.column_stack(
        [np.cos(bearing), np.sin(bearing)]
    )
    plan.angle[child] = rng.uniform(0, np.pi, len(child))


def _overlapping_pairs(geoms: np.ndarray, among: np.ndarray | None = None) -> np.ndarray:
    """Pairs ``(i, j)``, ``i < j``, of intersecting ``geoms`` (only those involving ``among``)."""
    tree = shapely.STRtree(geoms)
    if among is None:
        left, right = tree.query(geoms, predicate="intersects")
    else:
        left, right = tree.query(geoms[among], predicate="intersects")
        left = among[left]
    left, right = np.minimum(left, right), np.maximum(left, right)
    pairs = np.unique(np.column_stack([left, right])[left < right], axis=0)
    return pairs.reshape(-1, 2)


def _relocate_overlaps(
    rng: np.random.Generator, plan: _HazardPlan, anchors: _Anchors, half: float
) -> np.ndarray:
    """Move hazards out of accidental overlaps; parents and children stay where they are."""
    n = len(plan.area)
    fixed = plan.parent >= 0
    fixed[plan.parent[plan.parent >= 0]] = True
    geoms = plan.shapes.build(plan.centre, plan.area, plan.angle)
    pairs = _overlapping_pairs(geoms)
    for round_ in range(_RELOCATION_ROUNDS):
        left, right = pairs.T
        accidental = ~(fixed[left] & fixed[right])
        left, right = left[accidental], right[accidental]
        move_right = fixed[left] | (~fixed[right] & (plan.area[right] < plan.area[left]))
        movers = np.unique(np.where(move_right, right, left))
        if movers.size == 0:
            break
        if round_ >= 2:  # still crowded: try another front-line cluster
            front = movers[plan.origin[movers] == _FRONT]
            plan.cluster[front] = rng.integers(0, len(anchors.cluster_anchor), len(front))
        _place(rng, plan, anchors, half, movers)
        geoms[movers] = plan.shapes.build(plan.centre, plan.area, plan.angle, movers)
        moved = np.zeros(n, dtype=bool)
        moved[movers] = True
        still = pairs[~moved[pairs[:, 0]] & ~moved[pairs[:, 1]]]
        pairs = np.concatenate([still, _overlapping_pairs(geoms, movers)])
    return geoms


def _candidate_pairs(geoms: np.ndarray, margin: float) -> np.ndarray:
    """Pairs ``(i, j)``, ``i < j``, whose bounding boxes, grown by ``margin``, intersect."""
    bounds = shapely.bounds(geoms)
    pad = margin * np.maximum(bounds[:, 2] - bounds[:, 0], bounds[:, 3] - bounds[:, 1]) + 1.0
    boxes = shapely.box(*(bounds + pad[:, None] * np.array([-1, -1, 1, 1])).T)
    left, right = shapely.STRtree(boxes).query(boxes)
    keep = left < right
    return np.column_stack([left[keep], right[keep]])


def _calibrate(plan: _HazardPlan, geoms: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Scale each level's hazards until its exclusive area hits its target (LAEA frame).

    A place covered by several hazards counts once, under its highest level, so the area of
    level ``l`` is ``area(union(levels <= l)) - area(union(levels < l))``. Scaling level ``l``
    leaves the higher levels' union alone, so levels are calibrated from high to low.
    """
    margin = 0.1  # hazards may grow by this much before candidate pairs are searched again
    grown = np.ones(len(geoms))
    pairs = _candidate_pairs(geoms, margin)
    below = 0.0
    for lv in range(3):
        upto = np.flatnonzero(plan.level <= lv)
        mine = np.flatnonzero(plan.level == lv)
        target = targets[lv] * _M2_PER_HA
        union = _union_area(geoms, upto, pairs)
        for _ in range(12):
            if mine.size == 0 or abs(union - below - target) <= _AREA_RTOL * target:
                break
            factor = np.clip(target / max(union - below, 1e-9), 0.5, 2.0)
            plan.area[mine] *= factor
            grown[mine] *= np.sqrt(factor)
            geoms[mine] = plan.shapes.build(plan.centre, plan.area, plan.angle, mine)
            if grown.max() > 1.0 + margin:
                pairs, grown[:] = _candidate_pairs(geoms, margin), 1.0
            union = _union_area(geoms, upto, pairs)
        if mine.size and abs(union - below - target) > 0.001 * target:
            raise RuntimeError(
                f"could not size the {THREAT_LEVELS[lv]} hazards to {targets[lv]} ha "
                f"(reached {(union - below) / _M2_PER_HA:.1f} ha); try another seed"
            )
        below = union
    return geoms


def _make_hazards(
    rng: np.random.Generator, land: _Landscape, n: int, targets: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Hazard geometries (LAEA) and threat-level index (0 high, 1 medium, 2 low)."""
    origin, level, area, parent = _plan_hazards(rng, n, targets)
    stretch = np.select(
        [origin == _FRONT, origin == _ROAD, origin == _SETTLEMENT],
        [rng.uniform(1.0, 3.5, n), rng.uniform(1.5, 5.0, n), rng.uniform(1.0, 2.5, n)],
        rng.uniform(1.0, 1.5, n),
    )
    front = np.flatnonzero(origin == _FRONT)
    cluster = np.full(n, -1)
    cluster[front] = rng.integers(0, max(1, round(len(front) / 12)), len(front))
    shapes = _star_shapes(rng, n, stretch=stretch, multi_share=_MULTI_SHARE)
    plan = _HazardPlan(origin, level, area, np.zeros((n, 2)), np.zeros(n), parent, cluster, shapes)
    anchors = _make_anchors(rng, land, plan)
    _place(rng, plan, anchors, land.half, np.flatnonzero(origin != _CHILD))
    _place_children(rng, plan)
    geoms = _relocate_overlaps(rng, plan, anchors, land.half)
    geoms = _calibrate(plan, geoms, targets)
    order = rng.permutation(n)
    return geoms[order], level[order]


# --------------------------------------------------------------------------------------------
# releases
# --------------------------------------------------------------------------------------------


def _bands(
    hazards: np.ndarray,
    centres: np.ndarray,
    angle: np.ndarray,
    start: np.ndarray,
    width: np.ndarray,
) -> np.ndarray:
    """Rectangles cutting a strip of ``hazards`` across direction ``angle``.

    The strip runs from ``start`` over ``width`` of the hazard's extent along ``angle``
    (both as shares of that extent); the rectangle reaches beyond the hazard sideways.
    """
    coords, index = shapely.get_coordinates(hazards, return_index=True)
    ux, uy = np.cos(angle), np.sin(angle)
    rel = coords - centres[index]
    along = rel[:, 0] * ux[index] + rel[:, 1] * uy[index]
    lo = np.full(len(hazards), np.inf)
    hi = np.full(len(hazards), -np.inf)
    np.minimum.at(lo, index, along)
    np.maximum.at(hi, index, along)
    reach = np.zeros(len(hazards))
    np.maximum.at(reach, index, np.hypot(rel[:, 0], rel[:, 1]))
    a = lo + start * (hi - lo)
    b = lo + np.minimum(start + width, 1.0) * (hi - lo)
    r = reach + 10.0
    corners = np.stack(
        [
            centres + np.column_stack([ux * a - uy * r, uy * a + ux * r]),
            centres + np.column_stack([ux * a + uy * r, uy * a - ux * r]),
            centres + np.column_stack([ux * b + uy * r, uy * b - ux * r]),
            centres + np.column_stack([ux * b - uy * r, uy * b + ux * r]),
        ],
        axis=1,
    )
    return shapely.polygons(corners)


def _release_dates(
    rng: np.random.Generator, k: int, start: np.datetime64, end: np.datetime64
) -> np.ndarray:
    """Dates in [start, end], more of them later on (releases gather pace)."""
    days = int((end - start).astype(np.int64))
    t = rng.random(k) ** (1.0 / 1.8)
    return start + np.floor(t * (days + 1)).clip(0, days).astype("timedelta64[D]")


@dataclass(frozen=True)
class _ReleasePlan:
    """What each release record is, before it is cut in the output CRS."""

    hazard: np.ndarray  # hazard it releases part of (-1: a free-standing polygon)
    cutter: np.ndarray  # rectangle (LAEA) cutting the hazard; None: the whole hazard
    free: np.ndarray  # polygon (LAEA) of a release not cut from a hazard; None otherwise
    base: np.ndarray  # earlier release this one partly repeats (-1: none)
    dates: np.ndarray  # datetime64[D]
    score: np.ndarray  # order in which methods are handed out by area; NaN: random method


def _plan_releases(
    rng: np.random.Generator,
    hazards: np.ndarray,
    level: np.ndarray,
    share: float,
    half: float,
    start: np.datetime64,
    end: np.datetime64,
) -> _ReleasePlan:
    """Whole hazards and strips of them released over time, plus a few odd records."""
    outline = _largest_polygon(hazards)
    area = shapely.area(hazards)
    centres = shapely.get_coordinates(shapely.centroid(outline))
    # weighted random order favouring larger hazards (Efraimidis-Spirakis keys)
    order = np.argsort(-(rng.random(len(hazards)) ** (1.0 / area**0.3)), kind="stable")
    whole = rng.random(len(hazards)) < 0.35
    width = np.where(whole, 1.0, rng.uniform(0.25, 0.8, len(hazards)))
    released = np.cumsum(area[order] * width[order])
    k = int(np.searchsorted(released, share * area.sum() * 0.93)) + 1 if share > 0 else 0
    chosen = order[:k]
    start_at = np.where(whole, 0.0, rng.uniform(0.0, 1.0, len(hazards)) * (1.0 - width))[chosen]
    angle = rng.uniform(0.0, np.pi, len(chosen))
    strip = ~whole[chosen]
    cutter = np.full(len(chosen), None, dtype=object)
    cutter[strip] = _bands(
        outline[chosen[strip]],
        centres[chosen[strip]],
        angle[strip],
        start_at[strip],
        width[chosen[strip]],
    )
    dates = _release_dates(rng, len(chosen), start, end)
    # later records partly overlapping an earlier one on the same hazard
    again = rng.choice(
        len(chosen), min(round(_RERELEASE_SHARE * len(hazards)), len(chosen)), replace=False
    )
    again_width = rng.uniform(0.2, 0.5, len(again))
    middle = start_at[again] + width[chosen[again]] * rng.uniform(0.2, 0.8, len(again))
    again_start = np.clip(middle - again_width / 2, 0.0, 1.0 - again_width)
    again_cutter = _bands(
        outline[chosen[again]], centres[chosen[again]], angle[again], again_start, again_width
    )
    later = rng.integers(30, 541, len(again)).astype("timedelta64[D]")
    # small records straddling a hazard edge, and one to three outside every hazard
    n_straddle = max(2, round(_STRADDLE_SHARE * len(hazards))) if k else 0
    free = np.concatenate(
        [
            _straddling(rng, outline, area, n_straddle),
            _outside(rng, hazards, half, int(rng.integers(1, 4)) if k else 0),
        ]
    )
    n_cut = len(chosen) + len(again)
    return _ReleasePlan(
        hazard=np.concatenate([chosen, chosen[again], np.full(len(free), -1)]),
        cutter=np.concatenate([cutter, again_cutter, np.full(len(free), None)]),
        free=np.concatenate([np.full(n_cut, None), free]),
        base=np.concatenate([np.full(len(chosen), -1), again, np.full(len(free), -1)]),
        dates=np.concatenate(
            [
                dates,
                np.minimum(dates[again] + later, end),
                _release_dates(rng, len(free), start, end),
            ]
        ),
        score=np.concatenate(
            [
                level[chosen] + rng.normal(0.0, 0.8, len(chosen)),
                np.full(len(again) + len(free), np.nan),
            ]
        ),
    )


def _release_geometries(plan: _ReleasePlan, hazards: np.ndarray, project: _Projector) -> np.ndarray:
    """Cut the planned releases out of the (projected, rounded) ``hazards``.

    Cutting after projection keeps every release vertex that lies on a hazard edge exactly
    on it, so releases meant to lie inside hazards do not stick out by rounding slivers.
    """
    outline = _largest_polygon(hazards)
    geoms = np.full(len(plan.hazard), None, dtype=object)
    cut = plan.hazard >= 0
    geoms[cut] = outline[plan.hazard[cut]]
    band = cut & _present(plan.cutter)
    if band.any():
        cutters = project(plan.cutter[band].astype(object))
        geoms[band] = _largest_polygon(shapely.intersection(geoms[band], cutters))
    if (~cut).any():
        geoms[~cut] = project(plan.free[~cut].astype(object), polygons="single")
    return geoms


def _finish_releases(
    rng: np.random.Generator,
    plan: _ReleasePlan,
    hazards: np.ndarray,
    project: _Projector,
    to_frame: _Projector,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Release geometries (output CRS), method index and dates, in date order."""
    geoms = _release_geometries(plan, hazards, project)
    kept = np.flatnonzero(_present(geoms))
    area = np.zeros(len(geoms))
    area[kept] = shapely.area(to_frame(geoms[kept]))
    method = _release_methods(rng, plan, area)
    kept = kept[area[kept] >= 1.0]  # drop slivers left by cutting
    kept = kept[np.argsort(plan.dates[kept], kind="stable")]
    return geoms[kept], method[kept], plan.dates[kept]


def _release_methods(rng: np.random.Generator, plan: _ReleasePlan, areas: np.ndarray) -> np.ndarray:
    """Methods by area share (cleared ≈ 50 %, reduced ≈ 30 %, cancelled ≈ 20 %).

    Main records get methods in order of ``score`` (high-threat land is more often
    cleared); records repeating an earlier one get a different method than it.
    """
    method = rng.integers(0, len(RELEASE_METHODS), len(areas))
    main = np.flatnonzero(~np.isnan(plan.score))
    order = main[np.argsort(plan.score[main], kind="stable")]
    total = max(areas[order].sum(), 1e-9)
    midpoint = (np.cumsum(areas[order]) - areas[order] / 2) / total
    method[order] = np.searchsorted(np.cumsum(_METHOD_SHARES)[:-1], midpoint, side="right")
    again = np.flatnonzero(plan.base >= 0)
    method[again] = (method[plan.base[again]] + rng.integers(1, 3, len(again))) % 3
    return method


def _straddling(
    rng: np.random.Generator, outline: np.ndarray, area: np.ndarray, k: int
) -> np.ndarray:
    """Small polygons centred on a point of a hazard's outer edge."""
    which = rng.choice(len(outline), min(k, len(outline)), replace=False)
    edge = shapely.get_exterior_ring(outline[which])
    at = shapely.get_coordinates(
        shapely.line_interpolate_point(edge, rng.random(len(which)), normalized=True)
    )
    size = area[which] * rng.uniform(0.05, 0.25, len(which))
    return _star_polygons(rng, at, np.maximum(size, 400.0), vertices=(8, 14))


def _outside(rng: np.random.Generator, hazards: np.ndarray, half: float, k: int) -> np.ndarray:
    """``k`` small polygons at least 100 m away from every hazard."""
    candidates = rng.uniform(-0.9, 0.9, (200, 2)) * half
    size = rng.uniform(0.5, 3.0, 200) * _M2_PER_HA
    polygons = _star_polygons(rng, candidates, size, vertices=(8, 14))
    hits = shapely.STRtree(hazards).query(shapely.buffer(polygons, 100.0), predicate="intersects")
    clear = np.setdiff1d(np.arange(200), hits[0])
    return polygons[clear[:k]]


# --------------------------------------------------------------------------------------------
# districts and output
# --------------------------------------------------------------------------------------------


def _district_name(i: int) -> str:
    letters = string.ascii_uppercase
    name = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        name = letters[r] + name
    return f"District {name}"


def _make_districts(
    rng: np.random.Generator, n: int, envelope: shapely.Polygon
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` Voronoi cells of well-spread seeded points, clipped to ``envelope``."""
    xmin, ymin, xmax, ymax = envelope.bounds
    if n == 1:
        return np.array([envelope], dtype=object), np.array([_district_name(0)], dtype=object)
    candidates = rng.uniform((xmin, ymin), (xmax, ymax), (max(50, 30 * n), 2))
    chosen = [0]
    nearest = np.hypot(*(candidates - candidates[0]).T)
    for _ in range(n - 1):  # farthest-point sampling: districts of comparable size
        chosen.append(int(np.argmax(nearest)))
        nearest = np.minimum(nearest, np.hypot(*(candidates - candidates[chosen[-1]]).T))
    points = candidates[chosen]
    points = points[np.lexsort((points[:, 0], -np.round(points[:, 1], -3)))]
    cells = shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(points), extend_to=envelope, ordered=True)
    )
    cells = _largest_polygon(shapely.intersection(cells, envelope))
    names = np.array([_district_name(i) for i in range(n)], dtype=object)
    return cells, names


class _Projector:
    """Transform geometry arrays between two CRSs, optionally rounding the coordinates."""

    def __init__(self, source: pyproj.CRS, target: pyproj.CRS, *, rounded: bool) -> None:
        self._transformer = pyproj.Transformer.from_crs(source, target, always_xy=True)
        self._decimals = (6 if target.is_geographic else 2) if rounded else None

    def _coords(self, xy: np.ndarray) -> np.ndarray:
        x, y = self._transformer.transform(xy[:, 0], xy[:, 1])
        out = np.column_stack([x, y])
        return out if self._decimals is None else np.round(out, self._decimals)

    def __call__(
        self, geoms: np.ndarray, *, polygons: Literal["single", "any"] | None = None
    ) -> np.ndarray:
        """Transformed ``geoms``; ``polygons="single"`` or ``"any"`` repairs invalid ones."""
        out = shapely.transform(geoms, self._coords)
        bad = ~valid(out) if polygons else np.zeros(len(out), dtype=bool)
        if bad.any():
            repair = _largest_polygon if polygons == "single" else _polygonal
            out[bad] = repair(shapely.make_valid(out[bad]))
        return out


def _envelope(half: float, *layers: np.ndarray) -> shapely.Polygon:
    """A rectangle holding the square region and every feature, with a margin."""
    bounds = shapely.bounds(np.concatenate(layers))
    xmin, ymin = np.minimum(np.nanmin(bounds[:, :2], axis=0), -half)
    xmax, ymax = np.maximum(np.nanmax(bounds[:, 2:], axis=0), half)
    pad = max(500.0, 0.02 * (xmax - xmin))
    return shapely.box(xmin - pad, ymin - pad, xmax + pad, ymax + pad)


def _present(values: np.ndarray) -> np.ndarray:
    """Which entries of an object array are not ``None``."""
    return np.fromiter((v is not None for v in values), dtype=bool, count=len(values))


def _district_of(geoms: np.ndarray, districts: np.ndarray, names: np.ndarray) -> np.ndarray:
    """Name of the district holding each feature's representative point."""
    points = shapely.point_on_surface(geoms)
    found, district = shapely.STRtree(districts).query(points, predicate="intersects")
    out = np.full(len(geoms), None, dtype=object)
    out[found[::-1]] = names[district[::-1]]  # reversed: the first match wins
    missing = np.flatnonzero(~_present(out))
    if missing.size:
        _, nearest = shapely.STRtree(districts).query_nearest(points[missing], all_matches=False)
        out[missing] = names[nearest]
    return out


def _frame(columns: dict[str, object], geoms: np.ndarray, crs: pyproj.CRS) -> gpd.GeoDataFrame:
    data = {
        key: pd.array(value, dtype="str")
        if isinstance(value, np.ndarray) and value.dtype == object
        else value
        for key, value in columns.items()
    }
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(geoms, crs=crs), crs=crs)


def _ids(prefix: str, n: int) -> np.ndarray:
    return np.array([f"{prefix}-{i:06d}" for i in range(1, n + 1)], dtype=object)


def make_scenario(
    *,
    seed: int = 0,
    high_ha: float = 1_500.0,
    medium_ha: float = 2_500.0,
    low_ha: float = 1_500.0,
    n_hazards: int | None = None,
    centre: tuple[float, float] = (66.0, 48.0),
    start: str = "2021-01-01",
    end: str = "2025-12-31",
    release_share: float = 0.45,
    n_districts: int = 4,
    crs: str | int = "EPSG:4326",
) -> Scenario:
    """Make a seeded, realistic, entirely synthetic land-release scenario.

    Hazards are sized so that, counting overlaps once under the highest threat level, the
    high, medium and low areas are ``high_ha``, ``medium_ha`` and ``low_ha`` (to 0.01 % in the
    equal-area frame they are drawn in; rounding coordinates for output moves them by far
    less than 0.1 %).

    Parameters
    ----------
    seed : int, default 0
        Seed of :func:`numpy.random.default_rng`; the same arguments give identical layers.
    high_ha, medium_ha, low_ha : float
        Target hazard area of each threat level in hectares (≥ 0, not all 0).
    n_hazards : int, optional
        Number of hazards. By default about one per 25 ha of total area.
    centre : (float, float), default (66.0, 48.0)
        Longitude and latitude of the centre of the region.
    start, end : str
        First and last possible release date (ISO dates).
    release_share : float, default 0.45
        Approximate share of the hazard area released between ``start`` and ``end``.
    n_districts : int, default 4
        Number of districts tiling the region.
    crs : str or int, default "EPSG:4326"
        CRS of the returned layers.

    Returns
    -------
    Scenario
        Hazards, releases, roads, infrastructure, residential areas and districts.

    Raises
    ------
    ValueError
        If an argument is out of range.

    Notes
    -----
    The region is a square around ``centre`` about ten times the total hazard area. Hazards
    cluster along one to three meandering former front lines (60 %), beside roads (25 %) and
    around settlements (15 %); front-line hazards are more often high threat. About 5.5 % of
    the hazards are placed to overlap another one (often of another level), and hazards that
    overlap by accident are moved a few times, so that roughly 10-15 % of hazards overlap a
    neighbour. About 3 % are MultiPolygons. Sizes are log-normal (median about half the mean,
    which is 25 ha unless ``n_hazards`` says otherwise).

    Releases cover whole hazards or strips of them, picked with a bias towards larger hazards
    until about ``release_share`` of the area is released; about 6 % more records repeat part
    of an earlier one with another method, about 2 % straddle a hazard edge and one to three
    lie at least 100 m from every hazard. Release polygons are cut from the hazards *after*
    projection to ``crs``, so their vertices on hazard edges lie exactly on those edges.

    Examples
    --------
    >>> s = make_scenario(seed=7, high_ha=200, medium_ha=300, low_ha=100)
    >>> s.hazards.columns.tolist()
    ['hazard_id', 'threat_level', 'district', 'geometry']
    >>> bool(s.releases.release_date.between("2021-01-01", "2025-12-31").all())
    True
    """
    targets = np.array([high_ha, medium_ha, low_ha], dtype=float)
    first, last = _check_arguments(targets, n_hazards, start, end, release_share, n_districts)
    rng = np.random.default_rng(seed)
    n = (
        int(n_hazards)
        if n_hazards is not None
        else max(int((targets > 0).sum()), int(round(targets.sum() / _MEAN_HAZARD_HA)))
    )
    frame, target = _laea(centre), pyproj.CRS(crs)
    half = max(2_000.0, 0.5 * np.sqrt(targets.sum() * _M2_PER_HA / _COVERAGE))
    land = _make_landscape(rng, half)
    hazards, level = _make_hazards(rng, land, n, targets)
    plan = _plan_releases(rng, hazards, level, release_share, half, first, last)
    envelope = _envelope(
        half,
        hazards,
        land.road_geoms,
        land.settlement_geoms,
        land.infra_points,
        plan.free[_present(plan.free)].astype(object),
    )
    district_geoms, district_names = _make_districts(rng, n_districts, envelope)

    project = _Projector(frame, target, rounded=True)
    hazards = project(hazards, polygons="any")
    releases, method, dates = _finish_releases(
        rng, plan, hazards, project, _Projector(target, frame, rounded=False)
    )
    districts = project(district_geoms)
    return Scenario(
        hazards=_frame(
            {
                HAZARD_ID: _ids("HZ", len(hazards)),
                THREAT_LEVEL: np.array(THREAT_LEVELS, dtype=object)[level],
                "district": _district_of(hazards, districts, district_names),
            },
            hazards,
            target,
        ),
        releases=_frame(
            {
                RELEASE_ID: _ids("RL", len(releases)),
                METHOD: np.array(RELEASE_METHODS, dtype=object)[method],
                RELEASE_DATE: pd.to_datetime(dates.astype("datetime64[s]")),
            },
            releases,
            target,
        ),
        roads=_frame(
            {"road_id": _ids("RD", len(land.road_geoms)), "road_class": land.road_class},
            project(land.road_geoms),
            target,
        ),
        infrastructure=_frame(
            {"infra_id": _ids("IN", len(land.infra_points)), "kind": land.infra_kind},
            project(land.infra_points),
            target,
        ),
        residential=_frame(
            {
                "settlement_id": _ids("ST", len(land.names)),
                "name": land.names,
                "population": land.population,
            },
            project(land.settlement_geoms, polygons="single"),
            target,
        ),
        districts=_frame({"district": district_names}, districts, target),
    )


def _check_arguments(
    targets: np.ndarray,
    n_hazards: int | None,
    start: str,
    end: str,
    release_share: float,
    n_districts: int,
) -> tuple[np.datetime64, np.datetime64]:
    if not np.isfinite(targets).all() or (targets < 0).any() or targets.sum() <= 0:
        raise ValueError(
            f"high_ha, medium_ha and low_ha must be finite and >= 0, and not all 0; got "
            f"{targets.tolist()}"
        )
    if n_hazards is not None and int(n_hazards) < 1:
        raise ValueError(f"n_hazards must be a positive integer; got {n_hazards!r}")
    if not 0.0 <= release_share <= 1.0:
        raise ValueError(f"release_share must be between 0 and 1; got {release_share!r}")
    if int(n_districts) < 1:
        raise ValueError(f"n_districts must be at least 1; got {n_districts!r}")
    first, last = np.datetime64(str(start), "D"), np.datetime64(str(end), "D")
    if last < first:
        raise ValueError(f"end ({end}) is before start ({start})")
    return first, last


def write_scenario(
    scenario: Scenario,
    directory: str | os.PathLike[str],
    *,
    formats: Sequence[str] = FORMATS,
) -> list[Path]:
    """Write a scenario's six layers to ``directory``.

    ``"gpkg"`` writes one GeoPackage, ``scenario.gpkg``, with a layer per name in
    :data:`LAYERS`; ``"geojson"`` writes ``hazards.geojson``, ``releases.geojson``, ... with
    dates as ISO strings (``YYYY-MM-DD``). Each file is written to a temporary name in
    ``directory`` first and then renamed, so a reader never sees half a file.

    Parameters
    ----------
    scenario : Scenario
        Layers to write, e.g. from :func:`make_scenario`.
    directory : str or os.PathLike
        Output directory; created if missing.
    formats : sequence of {"gpkg", "geojson"}, default both
        Formats to write.

    Returns
    -------
    list of pathlib.Path
        The files written.

    Raises
    ------
    ValueError
        If a format is unknown.
    minemap._errors.OutputError
        If a file cannot be written.

    Examples
    --------
    >>> import tempfile
    >>> scenario = make_scenario(seed=3, high_ha=50, medium_ha=50, low_ha=50)
    >>> with tempfile.TemporaryDirectory() as out:
    ...     [p.name for p in write_scenario(scenario, out, formats=["gpkg"])]
    ['scenario.gpkg']
    """
    formats = (formats,) if isinstance(formats, str) else tuple(formats)
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown:
        raise ValueError(f"unknown format(s) {unknown}; choose from {list(FORMATS)}")
    directory = Path(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=directory, prefix=".minemap-") as tmp:
            staged: list[tuple[Path, Path]] = []
            if "gpkg" in formats:
                staged.append(_stage_geopackage(scenario, Path(tmp) / "scenario.gpkg"))
            if "geojson" in formats:
                staged += [
                    _stage_geojson(layer, Path(tmp) / f"{name}.geojson")
                    for name, layer in scenario.layers.items()
                ]
            for temporary, name in staged:
                os.replace(temporary, directory / name)
    except OSError as error:
        raise OutputError(
            f"{directory}: cannot write the scenario ({error}); check that the directory is "
            "writable and has free space."
        ) from error
    return [directory / name for _, name in staged]


def _stage_geopackage(scenario: Scenario, path: Path) -> tuple[Path, Path]:
    for name, layer in scenario.layers.items():
        layer.to_file(path, layer=name, driver="GPKG")
    return path, Path(path.name)


def _stage_geojson(layer: gpd.GeoDataFrame, path: Path) -> tuple[Path, Path]:
    layer = layer.copy()
    for column in layer.columns:
        if pd.api.types.is_datetime64_any_dtype(layer[column]):
            layer[column] = layer[column].dt.strftime("%Y-%m-%d")
    layer.to_file(path, driver="GeoJSON")
    return path, Path(path.name)


def write_population_raster(
    scenario: Scenario, path: str | os.PathLike[str], *, resolution_m: float = 100.0
) -> Path:
    """Write a small population GeoTIFF (people per cell) for a scenario.

    Each settlement's population is spread evenly over the cells whose centre lies in it
    (a settlement smaller than a cell goes to the cell holding it), on top of a low rural
    background that fades with distance from settlements. The grid is in an equal-area
    (LAEA) frame centred on the scenario; cells outside its districts are nodata (-9999).

    Parameters
    ----------
    scenario : Scenario
        Scenario whose ``residential`` and ``districts`` layers are used.
    path : str or os.PathLike
        GeoTIFF to write (written to a temporary name first, then renamed).
    resolution_m : float, default 100.0
        Cell size in metres.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ValueError
        If ``resolution_m`` is not positive.
    minemap._errors.OutputError
        If the file cannot be written.

    Examples
    --------
    >>> import tempfile, rasterio
    >>> scenario = make_scenario(seed=3, high_ha=50, medium_ha=50, low_ha=50)
    >>> with tempfile.TemporaryDirectory() as out:
    ...     tif = write_population_raster(scenario, f"{out}/population.tif", resolution_m=200)
    ...     with rasterio.open(tif) as src:
    ...         print(src.nodata, src.dtypes[0])
    -9999.0 float32
    """
    if not resolution_m > 0:
        raise ValueError(f"resolution_m must be positive; got {resolution_m!r}")
    path = Path(path)
    frame = _laea(_centre_of(scenario.districts))
    to_frame = _Projector(pyproj.CRS(scenario.districts.crs), frame, rounded=False)
    region = shapely.union_all(to_frame(np.asarray(scenario.districts.geometry.array)))
    xmin, ymin, xmax, ymax = np.array(region.bounds) + 3 * resolution_m * np.array([-1, -1, 1, 1])
    xmin, ymin = np.floor(np.array([xmin, ymin]) / resolution_m) * resolution_m
    width = int(np.ceil((xmax - xmin) / resolution_m))
    height = int(np.ceil((ymax - ymin) / resolution_m))
    ymax = ymin + height * resolution_m
    transform = rasterio.Affine(resolution_m, 0.0, xmin, 0.0, -resolution_m, ymax)
    settlements = to_frame(np.asarray(scenario.residential.geometry.array))
    people = _population_grid(
        settlements,
        scenario.residential["population"].to_numpy(dtype=float),
        (height, width),
        transform,
        resolution_m,
    )
    inside = rasterio.features.rasterize(
        [(region, 1)], out_shape=(height, width), transform=transform, fill=0, dtype="uint8"
    )
    values = np.where(inside == 1, people, RASTER_NODATA).astype(np.float32)
    profile = {
        "driver": "GTiff",
        "width": width,
        "height": height,
        "count": 1,
        "dtype": "float32",
        "crs": rasterio.crs.CRS.from_wkt(frame.to_wkt()),
        "transform": transform,
        "nodata": RASTER_NODATA,
        "compress": "deflate",
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tif")
    try:
        with rasterio.open(temporary, "w", **profile) as dst:
            dst.write(values, 1)
            dst.set_band_description(1, "people per cell (synthetic)")
        os.replace(temporary, path)
    except (OSError, rasterio.errors.RasterioError) as error:
        Path(temporary).unlink(missing_ok=True)
        raise OutputError(f"{path}: cannot write the population raster ({error}).") from error
    return path


def _centre_of(layer: gpd.GeoDataFrame) -> tuple[float, float]:
    """Longitude and latitude of the centre of a layer's bounding box, rounded to 0.001°."""
    lonlat = layer.to_crs(4326) if layer.crs is not None else layer
    xmin, ymin, xmax, ymax = lonlat.total_bounds
    return round((xmin + xmax) / 2, 3), round((ymin + ymax) / 2, 3)


def _population_grid(
    settlements: np.ndarray,
    population: np.ndarray,
    shape: tuple[int, int],
    transform: rasterio.Affine,
    resolution_m: float,
) -> np.ndarray:
    """People per cell: settlements spread over their cells, plus a rural background."""
    ids = (
        rasterio.features.rasterize(
            [(g, i + 1) for i, g in enumerate(settlements) if g is not None and not g.is_empty],
            out_shape=shape,
            transform=transform,
            fill=0,
            dtype="int32",
        )
        if len(settlements)
        else np.zeros(shape, dtype=np.int32)
    )
    cells = np.bincount(ids.ravel(), minlength=len(settlements) + 1)[1:]
    per_cell = np.r_[0.0, np.where(cells > 0, population / np.maximum(cells, 1), 0.0)]
    people = per_cell[ids]
    small = np.flatnonzero(cells == 0)
    if small.size:  # settlements smaller than a cell: all people in the cell holding them
        xy = shapely.get_coordinates(shapely.point_on_surface(settlements[small]))
        cols = np.floor((xy[:, 0] - transform.c) / transform.a).astype(np.int64)
        rows = np.floor((xy[:, 1] - transform.f) / transform.e).astype(np.int64)
        rows, cols = np.clip(rows, 0, shape[0] - 1), np.clip(cols, 0, shape[1] - 1)
        np.add.at(people, (rows, cols), population[small])
    if (ids > 0).any():
        distance = ndimage.distance_transform_edt(ids == 0) * resolution_m
    else:
        distance = np.full(shape, np.inf)
    cell_ha = resolution_m**2 / _M2_PER_HA
    return people + (0.1 + 0.5 * np.exp(-distance / 2_000.0)) * cell_ha
