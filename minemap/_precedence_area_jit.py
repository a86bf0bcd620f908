"""The compiled loop behind :mod:`minemap._precedence_area` (imported only when numba is).

:func:`class_integrals` walks the rings of every polygon of a layer of hazards and
releases once. Along each edge it knows which of the polygon's neighbours hold the land on
either side (it finds where their edges cross, and toggles), and so the class of the land
on the left and on the right: the highest threat level of the hazards there and the
strongest method of the releases there. By Green's theorem the area of a class is the
integral of ``K dy`` along its boundary, ``K`` an antiderivative in ``x`` of the area per
unit of the plane; so each stretch of edge adds its integral to the class on its left and
takes it from the class on its right. No polygon is built. Written for numba's
``nopython`` mode, it releases the GIL, so threads run it side by side.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from minemap._shared_area_jit import _inside, crossings

__all__ = ["class_integrals", "components"]

#: Classes: 4 hazard ranks (threat levels, then none) × 4 release ranks (methods, then none).
CLASSES = 16
#: Gauss–Legendre points on [0, 1]: two of them integrate a cubic exactly.
_G1 = 0.5 - 0.5 / np.sqrt(3.0)
_G2 = 0.5 + 0.5 / np.sqrt(3.0)


@njit(cache=True, nogil=True)
def components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Label of the connected component of each of ``n`` nodes joined by edges ``(a, b)``:
    the smallest node in it."""
    parent = np.arange(n)
    for k in range(a.size):
        u = a[k]
        while parent[u] != u:
            parent[u] = parent[parent[u]]
            u = parent[u]
        v = b[k]
        while parent[v] != v:
            parent[v] = parent[parent[v]]
            v = parent[v]
        if u < v:
            parent[v] = u
        elif v < u:
            parent[u] = v
    for k in range(n):
        u = k
        while parent[u] != u:
            u = parent[u]
        parent[k] = u
    return parent


@njit(cache=True, nogil=True)
def _k_integral(xa: float, ya: float, xb: float, yb: float, c: np.ndarray) -> float:
    """``∫ K dy`` from ``(xa, ya)`` to ``(xb, yb)`` (relative to the component's origin),
    where ``K = ∫ k dx`` for the area per unit ``k = c2 + c3 x + c4 y + c5 x²/2 + c6 x y +
    c7 y²/2``: ``K`` is a cubic, so two Gauss points are exact."""
    total = 0.0
    for g in (_G1, _G2):
        x = xa + g * (xb - xa)
        y = ya + g * (yb - ya)
        total += x * (
            c[2] + y * (c[4] + 0.5 * c[7] * y) + x * (0.5 * c[3] + 0.5 * c[6] * y + x * c[5] / 6.0)
        )
    return 0.5 * total * (yb - ya)


@njit(cache=True, nogil=True)
def _top(counts: np.ndarray, first: int) -> int:
    """The strongest rank held (the first with a count), 3 where none is."""
    for r in range(3):
        if counts[first + r] > 0:
            return r
    return 3


@njit(cache=True, nogil=True)
def class_integrals(
    xy: np.ndarray,
    ring_start: np.ndarray,
    factor: np.ndarray,
    geom_ring: np.ndarray,
    boxes: np.ndarray,
    rank: np.ndarray,
    nb_start: np.ndarray,
    nb: np.ndarray,
    coef: np.ndarray,
    comp: np.ndarray,
    tol_rel: float,
    geoms: np.ndarray,
) -> np.ndarray:
    """Integrals over the class boundaries along the rings of polygons ``geoms``.

    Parameters (flat, as :class:`minemap._shared_area.FlatRings` gives them): ``xy``,
    ``ring_start``, ``factor``, ``geom_ring``; ``boxes`` (each polygon's box),
    ``rank`` (0–2 for a hazard's threat level, 3–5 for a release's method), ``nb_start``
    and ``nb`` (each polygon's neighbours, those whose box meets its box), ``coef`` (per
    component: origin ``x0, y0`` and the area per unit as a quadratic around it),
    ``comp`` (each polygon's component).

    Returns one row per polygon of ``geoms``, one column per class (hazard rank × 4 +
    release rank): what its rings add to each class's area. A row of NaN marks a polygon
    not in general position with a neighbour (a vertex within ``tol_rel`` of the pair's
    extent of the other's edge): its component must be measured otherwise.
    """
    out = np.zeros((geoms.size, CLASSES))
    cand_a = np.empty(max(xy.shape[0], 1), dtype=np.int64)
    cand_b = np.empty(max(xy.shape[0], 1), dtype=np.int64)
    key_a = np.empty(64)
    par_a = np.empty(64)
    key_b = np.empty(64)
    par_b = np.empty(64)
    keys = np.empty(64)
    pars = np.empty(64)
    slots = np.empty(64, dtype=np.int64)
    inside = np.zeros(max(nb.size, 1), dtype=np.bool_)
    counts = np.zeros(6, dtype=np.int64)
    for row in range(geoms.size):
        p = geoms[row]
        r0 = geom_ring[p]
        r1 = geom_ring[p + 1]
        v0 = ring_start[r0]
        if ring_start[r1] == v0:
            continue  # empty
        c = coef[comp[p]]
        x0 = c[0]
        y0 = c[1]
        pbox = (boxes[p, 0], boxes[p, 1], boxes[p, 2], boxes[p, 3])
        # every crossing of this polygon's rings with a neighbour's: where along them, and
        # with which neighbour (its slot)
        n = 0
        ok = True
        for s in range(nb_start[p], nb_start[p + 1]):
            q = nb[s]
            qbox = (boxes[q, 0], boxes[q, 1], boxes[q, 2], boxes[q, 3])
            ox = min(pbox[0], qbox[0])
            oy = min(pbox[1], qbox[1])
            extent = max(max(pbox[2], qbox[2]) - ox, max(pbox[3], qbox[3]) - oy)
            tol = tol_rel * extent
            meet = (
                max(pbox[0], qbox[0]) - tol,
                max(pbox[1], qbox[1]) - tol,
                min(pbox[2], qbox[2]) + tol,
                min(pbox[3], qbox[3]) + tol,
            )
            if meet[0] > meet[2] or meet[1] > meet[3]:
                continue
            m, key_a, par_a, key_b, par_b = crossings(
                xy, ring_start, v0, r0, r1, xy, ring_start, ring_start[geom_ring[q]],
                geom_ring[q], geom_ring[q + 1], meet, ox, oy, tol,
                cand_a, cand_b, key_a, par_a, key_b, par_b,
            )  # fmt: skip
            if m < 0:
                ok = False
                break
            if n + m > keys.size:
                grown = 2 * (n + m)
                keys = np.concatenate((keys[:n], np.empty(grown - n)))
                pars = np.concatenate((pars[:n], np.empty(grown - n)))
                slots = np.concatenate((slots[:n], np.empty(grown - n, dtype=np.int64)))
            keys[n : n + m] = key_a[:m]
            pars[n : n + m] = par_a[:m]
            slots[n : n + m] = s
            n += m
        if not ok:
            out[row, :] = np.nan
            continue
        order = np.argsort(keys[:n], kind="mergesort")
        own = rank[p]
        e = 0  # next event, in order
        for r in range(r0, r1):
            s0 = ring_start[r]
            s1 = ring_start[r + 1]
            # which neighbours hold the ring's first vertex (none outside their boxes)
            counts[:] = 0
            fx = xy[s0, 0]
            fy = xy[s0, 1]
            for s in range(nb_start[p], nb_start[p + 1]):
                q = nb[s]
                held = False
                if boxes[q, 0] <= fx <= boxes[q, 2] and boxes[q, 1] <= fy <= boxes[q, 3]:
                    held = _inside(fx, fy, xy, ring_start, geom_ring[q], geom_ring[q + 1], 0.0, 0.0)
                inside[s] = held
                if held:
                    counts[rank[q]] += 1
            f = factor[r]
            outer = _top(counts, 0) * 4 + _top(counts, 3)
            counts[own] += 1
            inner = _top(counts, 0) * 4 + _top(counts, 3)
            counts[own] -= 1
            for k in range(s0, s1 - 1):
                px = xy[k, 0] - x0
                py = xy[k, 1] - y0
                dx = xy[k + 1, 0] - xy[k, 0]
                dy = xy[k + 1, 1] - xy[k, 1]
                t0 = 0.0
                while True:
                    last = not (e < n and keys[order[e]] < k + 1 - v0)
                    t1 = 1.0 if last else pars[order[e]]
                    if inner != outer:
                        part = _k_integral(
                            px + t0 * dx, py + t0 * dy, px + t1 * dx, py + t1 * dy, c
                        )
                        if f > 0.0:  # the polygon's interior on the left
                            out[row, inner] += part
                            out[row, outer] -= part
                        else:
                            out[row, outer] += part
                            out[row, inner] -= part
                    if last:
                        break
                    s = slots[order[e]]
                    e += 1
                    q = nb[s]
                    inside[s] = not inside[s]
                    counts[rank[q]] += 1 if inside[s] else -1
                    outer = _top(counts, 0) * 4 + _top(counts, 3)
                    counts[own] += 1
                    inner = _top(counts, 0) * 4 + _top(counts, 3)
                    counts[own] -= 1
                    t0 = t1
    return out
