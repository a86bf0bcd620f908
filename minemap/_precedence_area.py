"""Area of each threat level and release method under precedence, without overlays.

The summary's figures are areas of classes of land: the land whose highest threat level
is ``high`` and whose strongest release is ``cleared``, and so on (4 × 4 classes, "none"
included). The overlay way builds them: it makes the hazards disjoint (each place to its
highest level), the releases too, then intersects the two. At a national scale most of the
time goes into building polygons that are only measured.

Measuring needs no polygon. The boundary of a class is made of stretches of the input
polygons' edges, and along a stretch the class on either side is known from which polygons
hold the land there; by Green's theorem a class's area is the integral of ``K dy`` along
its boundary, ``K`` an antiderivative in ``x`` of the area per unit of the plane. So every
edge is walked once (:func:`minemap._shared_area_jit.class_integrals`): where a neighbour's edge
crosses it, the land on one side changes hands; each stretch adds its integral to the
class on its left and takes it from the class on its right.

Polygons fall into clusters: the connected groups of polygons whose boxes meet. Land in two
clusters never overlaps, so each cluster is measured on its own, with the ellipsoid's area
per unit taken as a quadratic around the cluster's centre (exact to the third order in the
cluster's size, as :func:`minemap.crs.area_m2` is to the second in a piece's size).

Releases are often drawn on the hazards' own vertices (copied, or cut from them), tiles
share their edges, and a vertex can lie exactly on a neighbour's edge. The walk decides
every side exactly (:func:`minemap._shared_area_jit.orient`: the floating-point sign where
it is certain, exact arithmetic where not), and where a point lies exactly on another
polygon's line it thinks of each polygon as moved by an infinitesimal step along one
direction, by its row (simulation of simplicity): the polygons are then in general
position, every crossing is found once, and the areas are the limit of the moved ones, the
true areas. All of a cluster's pairs are compared in the cluster's own frame, so every
walk decides on the same rounded coordinates; where two edges cross at so small an angle
that floating point cannot place the crossing (a strip cut from a hazard has vertices a
hair off its edges: angles near 1e-13 radians), the exact orientations place it, and the
walks of both edges find the same crossing. A cluster is left to the overlays (its
polygons returned as undecided) only when an edge that decides a tie runs exactly along
that direction, when it is larger than :func:`minemap.crs.local_size_limit`, when it holds a
polygon of more than :data:`minemap._shared_area.MAX_VERTICES` vertices, or a coordinate
outside :data:`minemap._shared_area.COORDINATE_RANGE` (products of differences must not
underflow).

Each polygon's stretches are integrated from its own neighbours only, and the sums are
taken in a fixed order, so the figures are the same, bit for bit, whatever the number of
workers.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyproj
import shapely

from minemap import _shared_area
from minemap import crs as _crs
from minemap._overlay import parallel
from minemap._workers import SidePool

#: Hazard ranks (threat levels, strongest first) and release ranks (methods), each with
#: "none" last: a class is ``hazard_rank * 4 + release_rank``.
RANKS = 4
#: Below this many polygons (hazards and releases) the overlays are used: loading the
#: compiled loop costs more than it saves.
MIN_POLYGONS = 20_000


def class_areas(
    hazards: np.ndarray,
    hazard_rank: np.ndarray,
    releases: np.ndarray,
    release_rank: np.ndarray,
    crs: pyproj.CRS,
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """True area of each class of land, and the polygons left to the overlays.

    Parameters
    ----------
    hazards, releases : numpy.ndarray
        Valid polygonal geometries in ``crs`` (hazards' threat levels and releases' methods
        as ranks 0–2 in ``hazard_rank`` and ``release_rank``, 0 the strongest).
    crs : pyproj.CRS
        Their CRS, planar edges.

    Returns
    -------
    tuple of numpy.ndarray
        ``(m2, hazard_left, release_left)``: ``m2`` of shape (4, 4), the area in m² of the
        land under each hazard rank (row; 3 = no hazard) and release rank (column; 3 = no
        release), for the clusters measured here; and masks of the hazards and releases
        whose clusters were not (they need the overlays; their land is in no cluster
        measured here). None without numba.

    Examples
    --------
    >>> from shapely import box
    >>> measured = class_areas(np.array([box(0, 0, 2e-3, 2e-3), box(1e-3, 1e-3, 3e-3, 3e-3)]),
    ...     np.array([1, 0]), np.empty(0, dtype=object), np.empty(0, dtype=int), pyproj.CRS(4326))
    >>> measured is None or [round(float(v) / 1e4, 4) for v in measured[0][:2, 3]]  # ha
    [4.9236, 3.6927]
    """
    geoms = np.concatenate([np.asarray(hazards, dtype=object), np.asarray(releases, dtype=object)])
    nh = len(hazards)
    rank = np.concatenate([np.asarray(hazard_rank), np.asarray(release_rank) + 3]).astype(np.int64)
    m2 = np.zeros((RANKS, RANKS))
    if not _shared_area.available():
        return None
    # a missing or empty geometry (and only one) has no bounds: NaN
    boxes = parallel(shapely.bounds, geoms)
    present = ~np.isnan(boxes[:, 0])
    if not geoms.size:
        return m2, present[:nh], present[nh:]
    if not present.all():
        geoms = np.where(present, geoms, shapely.Polygon())
    with SidePool() as side:
        loading = side.submit(load_compiled)  # numba's cache loads beside the search
        # flattening the rings holds Python's lock most of the time, the search for
        # neighbours (compiled) not at all: side by side, they share the cores
        flattening = side.submit(_shared_area.FlatRings.of, geoms)
        jit = loading.result()
        pairs = _neighbours(boxes)
        nb_start, b = _box_tree_jit().by_first(pairs, geoms.size)
        comp = jit.components(geoms.size, pairs[:, 0].copy(), pairs[:, 1].copy())
        coef, large = _cluster_scale(jit.cluster_boxes(comp, boxes, present), crs)
        flat = flattening.result()
    vertices = np.diff(flat.ring_start[flat.geom_ring])
    large[comp[vertices > _shared_area.MAX_VERTICES]] = True
    low, high = _shared_area.COORDINATE_RANGE
    large[comp[jit.out_of_range(flat.xy, flat.ring_start, flat.geom_ring, low, high)]] = True
    rows = np.flatnonzero(present & ~large[comp])

    def integrate(chunk: np.ndarray) -> np.ndarray:
        return jit.class_integrals(
            flat.xy, flat.ring_start, flat.factor, flat.geom_ring, boxes, rank,
            nb_start, b, coef, comp, _shared_area.GENERAL_POSITION, chunk,
        )  # fmt: skip

    # chunks of equal numbers of vertices: a polygon's walk takes time with its vertices
    parts = parallel(integrate, rows.astype(np.int64), weights=vertices[rows])
    left = large.copy()
    left[comp[rows[np.isnan(parts[:, 0])]]] = True  # a tie it cannot decide
    # the rows of clusters left to the overlays add nothing (in place: no copy of the rest)
    parts[left[comp[rows]]] = 0.0
    m2 = parts.sum(axis=0).reshape(RANKS, RANKS)
    left_polygon = present & left[comp]
    return m2, left_polygon[:nh], left_polygon[nh:]


def load_compiled() -> Any:
    """The compiled module, its functions loaded from numba's cache (or compiled) by
    running them once on one square (numba installed: :func:`_shared_area.available`)."""
    from minemap import _shared_area_jit as jit  # numba is installed (available())

    box_tree = _box_tree_jit()
    tree = box_tree.build(np.array([[0.0, 0.0, 1.0, 1.0]]))
    box_tree.by_first(box_tree.meeting_pairs(*tree, 0, 1), 1)
    square = np.array([shapely.box(0, 0, 1, 1)], dtype=object)
    flat = _shared_area.FlatRings.of(square)
    empty = np.zeros(1, dtype=np.int64)
    jit.components(1, empty[:0], empty[:0])
    jit.cluster_boxes(empty, np.array([[0.0, 0.0, 1.0, 1.0]]), np.ones(1, dtype=np.bool_))
    jit.out_of_range(flat.xy, flat.ring_start, flat.geom_ring, *_shared_area.COORDINATE_RANGE)
    jit.class_integrals(
        flat.xy, flat.ring_start, flat.factor, flat.geom_ring, np.array([[0.0, 0.0, 1.0, 1.0]]),
        empty, np.zeros(2, dtype=np.int64), empty[:0], np.zeros((1, 8)), empty,
        _shared_area.GENERAL_POSITION, empty,
    )  # fmt: skip
    return jit


def _box_tree_jit() -> Any:
    """The compiled search for boxes that meet (numba installed: see
    :func:`_shared_area.available`)."""
    from minemap import _box_tree_jit as box_tree

    return box_tree


def _neighbours(boxes: np.ndarray) -> np.ndarray:
    """Every ordered pair ``(i, j)`` of distinct polygons whose ``boxes`` meet, both ways
    round, in a fixed order (a box with a NaN bound, an empty polygon, meets none).

    Searched by :mod:`minemap._box_tree_jit`'s tree, compiled and free of Python's lock: a
    chunk of the tree's nodes per worker, joined in order, so the pairs are the same
    whatever the number of workers.
    """
    box_tree = _box_tree_jit()
    box, child, level_start = box_tree.build(boxes)
    nodes = -(-int(level_start[1]) // box_tree.NODE_CAPACITY)

    def search(chunk: np.ndarray) -> np.ndarray:
        if not chunk.size:
            return np.empty((0, 2), dtype=np.int64)
        return box_tree.meeting_pairs(box, child, level_start, chunk[0], chunk[-1] + 1)

    return parallel(search, np.arange(nodes, dtype=np.int64))


def _cluster_scale(box: np.ndarray, crs: pyproj.CRS) -> tuple[np.ndarray, np.ndarray]:
    """Per cluster, from its box (``box``, in the row of its label, as
    :func:`minemap._shared_area_jit.cluster_boxes` gives them): its centre and the area per
    unit of ``crs`` as a quadratic around it (rows ``x0, y0, k, dk/dx, dk/dy, d²k/dx²,
    d²k/dxdy, d²k/dy²``), and whether it is too large for that
    (:func:`minemap.crs.local_size_limit`)."""
    n = box.shape[0]
    used = np.flatnonzero(np.isfinite(box[:, 0]))  # the clusters' labels
    lo, hi = box[used, :2], box[used, 2:]
    centre = (lo + hi) / 2.0
    limit = _crs.local_size_limit(crs)
    too_large = (hi - lo).max(axis=1) > limit
    large = np.zeros(n, dtype=bool)
    large[used] = too_large
    coef = np.zeros((n, 8))
    coef[used, :2] = centre
    # central differences over the cluster's own box (or a sliver of the limit, at least)
    fit = ~too_large
    sel = used[fit]
    h = np.maximum((hi[fit] - lo[fit]) / 2.0, limit * 1e-3)
    mid = centre[fit]
    hx, hy = h[:, 0], h[:, 1]
    if crs.is_geographic:
        # the area per unit depends on the latitude alone: three samples on the centre's
        # meridian, and the differences in x are 0 (as nine samples would give them)
        y = np.concatenate([mid[:, 1], mid[:, 1] + hy, mid[:, 1] - hy])
        k0, north, south = _crs.local_area_m2(np.ones(y.size), np.zeros(y.size), y, crs).reshape(
            3, sel.size
        )
        coef[sel, 2] = k0
        coef[sel, 4] = (north - south) / (2 * hy)
        coef[sel, 7] = (north - 2 * k0 + south) / hy**2
        return coef, large
    steps = [(0, 0), (1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (1, -1), (-1, 1), (-1, -1)]
    x = np.concatenate([mid[:, 0] + sx * hx for sx, _ in steps])
    y = np.concatenate([mid[:, 1] + sy * hy for _, sy in steps])
    k = _crs.local_area_m2(np.ones(x.size), x, y, crs).reshape(len(steps), sel.size)
    coef[sel, 2] = k[0]
    coef[sel, 3] = (k[1] - k[2]) / (2 * hx)
    coef[sel, 4] = (k[3] - k[4]) / (2 * hy)
    coef[sel, 5] = (k[1] - 2 * k[0] + k[2]) / hx**2
    coef[sel, 6] = (k[5] - k[6] - k[7] + k[8]) / (4 * hx * hy)
    coef[sel, 7] = (k[3] - 2 * k[0] + k[4]) / hy**2
    return coef, large
