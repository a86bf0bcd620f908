"""The compiled loop behind :mod:`minemap._shared_area` (imported only when numba is).

One function, :func:`pair_moments`, measures the intersection of two polygons from their
boundaries alone (Green's theorem): the parts of each ring that run inside the other
polygon, with the polygon's interior on their left, enclose the intersection, so
``∮ x dy`` over them is its area, and ``∮ x²/2 dy`` and ``−∮ y²/2 dx`` its first
moments. No polygon is built: the loop finds where the edges cross, walks each ring once
and integrates. It is written for numba's ``nopython`` mode (plain loops over flat
arrays) and releases the GIL, so threads run it side by side.

A pair is measured only in general position: when a vertex of one polygon lies on (or
within ``tol`` of) an edge of the other, as where polygons share vertices or run along
each other, the pair is marked undecided and left to GEOS, which handles those cases.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["crossings", "pair_moments", "ring_factors"]


@njit(cache=True, nogil=True)
def ring_factors(xy: np.ndarray, ring_start: np.ndarray, shell: np.ndarray) -> np.ndarray:
    """+1 for each ring that runs with its polygon's interior on its left (a
    counter-clockwise shell, a clockwise hole), −1 for the others."""
    out = np.empty(shell.size)
    for r in range(shell.size):
        s = ring_start[r]
        twice = 0.0  # twice the signed area, from the first vertex (small numbers)
        for k in range(s + 1, ring_start[r + 1] - 1):
            twice += (xy[k, 0] - xy[s, 0]) * (xy[k + 1, 1] - xy[s, 1]) - (
                xy[k + 1, 0] - xy[s, 0]
            ) * (xy[k, 1] - xy[s, 1])
        out[r] = 1.0 if (twice > 0.0) == shell[r] else -1.0
    return out


@njit(cache=True, nogil=True)
def _box(xy: np.ndarray, first: int, last: int) -> tuple[float, float, float, float]:
    x0 = np.inf
    y0 = np.inf
    x1 = -np.inf
    y1 = -np.inf
    for k in range(first, last):
        x0 = min(x0, xy[k, 0])
        x1 = max(x1, xy[k, 0])
        y0 = min(y0, xy[k, 1])
        y1 = max(y1, xy[k, 1])
    return x0, y0, x1, y1


@njit(cache=True, nogil=True)
def _candidates(
    xy: np.ndarray,
    ring_start: np.ndarray,
    r0: int,
    r1: int,
    box: tuple[float, float, float, float],
    out: np.ndarray,
) -> int:
    """Store in ``out`` the edges (by first vertex) whose box meets ``box``; their count."""
    n = 0
    for r in range(r0, r1):
        for k in range(ring_start[r], ring_start[r + 1] - 1):
            if (
                max(xy[k, 0], xy[k + 1, 0]) >= box[0]
                and min(xy[k, 0], xy[k + 1, 0]) <= box[2]
                and max(xy[k, 1], xy[k + 1, 1]) >= box[1]
                and min(xy[k, 1], xy[k + 1, 1]) <= box[3]
            ):
                out[n] = k
                n += 1
    return n


@njit(cache=True, nogil=True)
def _inside(
    px: float,
    py: float,
    xy: np.ndarray,
    ring_start: np.ndarray,
    r0: int,
    r1: int,
    ox: float,
    oy: float,
) -> bool:
    """Whether (px, py) (relative to the origin) lies inside the rings r0..r1 (even-odd)."""
    inside = False
    for r in range(r0, r1):
        for k in range(ring_start[r], ring_start[r + 1] - 1):
            y0 = xy[k, 1] - oy
            y1 = xy[k + 1, 1] - oy
            if (y0 > py) != (y1 > py):
                x0 = xy[k, 0] - ox
                x1 = xy[k + 1, 0] - ox
                if x0 + (py - y0) * (x1 - x0) / (y1 - y0) > px:
                    inside = not inside
    return inside


@njit(cache=True, nogil=True)
def crossings(
    a_xy: np.ndarray,
    a_ring_start: np.ndarray,
    va0: int,
    ra0: int,
    ra1: int,
    b_xy: np.ndarray,
    b_ring_start: np.ndarray,
    vb0: int,
    rb0: int,
    rb1: int,
    meet: tuple[float, float, float, float],
    ox: float,
    oy: float,
    tol: float,
    cand_a: np.ndarray,
    cand_b: np.ndarray,
    key_a: np.ndarray,
    par_a: np.ndarray,
    key_b: np.ndarray,
    par_b: np.ndarray,
) -> tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Where the rings ra0..ra1 of one polygon cross the rings rb0..rb1 of another.

    Only edges meeting the box ``meet`` are compared. For each crossing, ``key_a`` gets
    ``edge + t`` (the edge counted from vertex ``va0``) and ``par_a`` gets ``t``, the
    crossing's place along that edge of the first polygon; ``key_b`` and ``par_b`` the
    same along the second's (counted from ``vb0``). Returns the number of crossings (−1
    when a vertex of either lies within ``tol`` of an edge of the other: not in general
    position) and the four arrays, grown where they were too short.
    """
    na = _candidates(a_xy, a_ring_start, ra0, ra1, meet, cand_a)
    nb = _candidates(b_xy, b_ring_start, rb0, rb1, meet, cand_b)
    n = 0
    for u in range(na):
        ea = cand_a[u]
        px = a_xy[ea, 0] - ox
        py = a_xy[ea, 1] - oy
        qx = a_xy[ea + 1, 0] - ox
        qy = a_xy[ea + 1, 1] - oy
        ux = qx - px
        uy = qy - py
        la = np.hypot(ux, uy)
        lo_x = min(px, qx) - tol
        hi_x = max(px, qx) + tol
        lo_y = min(py, qy) - tol
        hi_y = max(py, qy) + tol
        for w in range(nb):
            eb = cand_b[w]
            cx = b_xy[eb, 0] - ox
            cy = b_xy[eb, 1] - oy
            dx = b_xy[eb + 1, 0] - ox
            dy = b_xy[eb + 1, 1] - oy
            if max(cx, dx) < lo_x or min(cx, dx) > hi_x:
                continue
            if max(cy, dy) < lo_y or min(cy, dy) > hi_y:
                continue
            wx = dx - cx
            wy = dy - cy
            lb = np.hypot(wx, wy)
            # which side of each edge the other edge's ends lie on; a vertex within tol of
            # the other edge's line (near the edge: the boxes meet) is undecided
            sc = ux * (cy - py) - uy * (cx - px)
            sd = ux * (dy - py) - uy * (dx - px)
            sp = wx * (py - cy) - wy * (px - cx)
            sq = wx * (qy - cy) - wy * (qx - cx)
            if (
                abs(sc) <= tol * la
                or abs(sd) <= tol * la
                or abs(sp) <= tol * lb
                or abs(sq) <= tol * lb
            ):
                return -1, key_a, par_a, key_b, par_b
            if (sc > 0.0) != (sd > 0.0) and (sp > 0.0) != (sq > 0.0):
                if n == key_a.size:
                    grown = 2 * key_a.size
                    key_a = np.concatenate((key_a[:n], np.empty(grown - n)))
                    par_a = np.concatenate((par_a[:n], np.empty(grown - n)))
                    key_b = np.concatenate((key_b[:n], np.empty(grown - n)))
                    par_b = np.concatenate((par_b[:n], np.empty(grown - n)))
                t = sp / (sp - sq)
                s = sc / (sc - sd)
                key_a[n] = (ea - va0) + t
                par_a[n] = t
                key_b[n] = (eb - vb0) + s
                par_b[n] = s
                n += 1
    return n, key_a, par_a, key_b, par_b


@njit(cache=True, nogil=True)
def _walk(
    xy: np.ndarray,
    ring_start: np.ndarray,
    factor: np.ndarray,
    r0: int,
    r1: int,
    keys: np.ndarray,
    params: np.ndarray,
    box: tuple[float, float, float, float],
    ox: float,
    oy: float,
    other_xy: np.ndarray,
    other_start: np.ndarray,
    q0: int,
    q1: int,
    acc: np.ndarray,
) -> None:
    """Add to ``acc`` the integrals over the parts of rings r0..r1 inside the other polygon.

    ``keys`` (sorted) are ``edge + t`` for every crossing on these rings, ``edge`` counted
    from the first vertex of ring r0, and ``params`` the matching ``t``.
    """
    base = ring_start[r0]
    c = 0
    nc = keys.size
    for r in range(r0, r1):
        s = ring_start[r]
        e = ring_start[r + 1]
        # the state at the ring's first vertex: from a vertex outside the other's box
        # (outside the other polygon) and the parity of the crossings in between, or else
        # by a point-in-polygon test
        outside = -1
        for k in range(s, e - 1):
            if xy[k, 0] < box[0] or xy[k, 0] > box[2] or xy[k, 1] < box[1] or xy[k, 1] > box[3]:
                outside = k
                break
        if outside >= 0:
            before = 0
            for m in range(c, nc):
                if keys[m] >= outside - base:
                    break
                before += 1
            inside = before % 2 == 1
        else:
            inside = _inside(xy[s, 0] - ox, xy[s, 1] - oy, other_xy, other_start, q0, q1, ox, oy)
        f = factor[r]
        area = 0.0
        mx = 0.0
        my = 0.0
        for k in range(s, e - 1):
            px = xy[k, 0] - ox
            py = xy[k, 1] - oy
            dx = xy[k + 1, 0] - xy[k, 0]
            dy = xy[k + 1, 1] - xy[k, 1]
            t0 = 0.0
            while True:
                last = not (c < nc and keys[c] < k + 1 - base)
                if last:
                    t1 = 1.0
                else:
                    t1 = params[c]
                    c += 1
                if inside:
                    xa = px + t0 * dx
                    ya = py + t0 * dy
                    xb = px + t1 * dx
                    yb = py + t1 * dy
                    area += (xa + xb) * (yb - ya)
                    mx += (yb - ya) * (xa * xa + xa * xb + xb * xb)
                    my -= (xb - xa) * (ya * ya + ya * yb + yb * yb)
                if last:
                    break
                inside = not inside
                t0 = t1
        acc[0] += f * area / 2.0
        acc[1] += f * mx / 6.0
        acc[2] += f * my / 6.0


@njit(cache=True, nogil=True)
def pair_moments(
    a_xy: np.ndarray,
    a_ring_start: np.ndarray,
    a_factor: np.ndarray,
    a_geom_ring: np.ndarray,
    b_xy: np.ndarray,
    b_ring_start: np.ndarray,
    b_factor: np.ndarray,
    b_geom_ring: np.ndarray,
    i: np.ndarray,
    j: np.ndarray,
    tol_rel: float,
) -> np.ndarray:
    """Area, centroid and a decided flag of ``A[i[k]] ∩ B[j[k]]`` for every pair ``k``.

    Each polygon set is given flat: vertex coordinates ``xy`` (rows; rings closed),
    ``ring_start`` (the first vertex of each ring, and one past the last),
    ``factor`` (+1 where a ring runs with its polygon's interior on its left, −1 where it
    runs the other way) and ``geom_ring`` (the first ring of each geometry, and one past
    the last). Returns an array of rows ``(area, cx, cy, decided)``; an undecided pair
    (``decided == 0``) has a vertex within ``tol_rel`` times the pair's extent of an edge
    of the other polygon.
    """
    out = np.zeros((i.size, 4))
    cap = 64
    cand_a = np.empty(max(a_xy.shape[0], 1), dtype=np.int64)
    cand_b = np.empty(max(b_xy.shape[0], 1), dtype=np.int64)
    key_a = np.empty(cap)
    par_a = np.empty(cap)
    key_b = np.empty(cap)
    par_b = np.empty(cap)
    acc = np.zeros(3)
    for p in range(i.size):
        ra0 = a_geom_ring[i[p]]
        ra1 = a_geom_ring[i[p] + 1]
        rb0 = b_geom_ring[j[p]]
        rb1 = b_geom_ring[j[p] + 1]
        va0 = a_ring_start[ra0]
        va1 = a_ring_start[ra1]
        vb0 = b_ring_start[rb0]
        vb1 = b_ring_start[rb1]
        out[p, 3] = 1.0
        if va1 == va0 or vb1 == vb0:
            continue  # an empty polygon shares nothing
        abox = _box(a_xy, va0, va1)
        bbox = _box(b_xy, vb0, vb1)
        ox = min(abox[0], bbox[0])
        oy = min(abox[1], bbox[1])
        extent = max(max(abox[2], bbox[2]) - ox, max(abox[3], bbox[3]) - oy)
        tol = tol_rel * extent
        # where the two boxes meet (grown by tol): only edges there can meet the other
        meet = (
            max(abox[0], bbox[0]) - tol,
            max(abox[1], bbox[1]) - tol,
            min(abox[2], bbox[2]) + tol,
            min(abox[3], bbox[3]) + tol,
        )
        if meet[0] > meet[2] or meet[1] > meet[3]:
            continue
        n, key_a, par_a, key_b, par_b = crossings(
            a_xy, a_ring_start, va0, ra0, ra1, b_xy, b_ring_start, vb0, rb0, rb1,
            meet, ox, oy, tol, cand_a, cand_b, key_a, par_a, key_b, par_b,
        )  # fmt: skip
        decided = n >= 0
        if not decided:
            out[p, 3] = 0.0
            continue
        acc[:] = 0.0
        order = np.argsort(key_a[:n])
        _walk(
            a_xy, a_ring_start, a_factor, ra0, ra1, key_a[:n][order], par_a[:n][order],
            meet, ox, oy, b_xy, b_ring_start, rb0, rb1, acc,
        )  # fmt: skip
        order = np.argsort(key_b[:n])
        _walk(
            b_xy, b_ring_start, b_factor, rb0, rb1, key_b[:n][order], par_b[:n][order],
            meet, ox, oy, a_xy, a_ring_start, ra0, ra1, acc,
        )  # fmt: skip
        out[p, 0] = acc[0]
        if acc[0] != 0.0:
            out[p, 1] = acc[1] / acc[0] + ox
            out[p, 2] = acc[2] / acc[0] + oy
    return out
