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

The loop behind :mod:`minemap._precedence_area` lives here too, with what it finds
crossings with. :func:`class_integrals` walks the rings of every polygon of a layer of hazards
and releases once. Along each edge it knows which of the polygon's neighbours hold the land
on either side (it finds where their edges cross, and toggles), and so the class of the
land on the left and on the right: the highest threat level of the hazards there and the
strongest method of the releases there. By Green's theorem the area of a class is the
integral of ``K dy`` along its boundary, ``K`` an antiderivative in ``x`` of the area per
unit of the plane; so each stretch of edge adds its integral to the class on its left and
takes it from the class on its right. Its crossings are decided exactly, ties included
(:func:`orient`, :func:`shift_side`): shared vertices and edges drawn along each other
need no tolerance and are measured here, not left to GEOS.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = [
    "class_integrals",
    "cluster_boxes",
    "components",
    "crossings",
    "orient",
    "out_of_range",
    "pair_frame",
    "pair_moments",
    "ring_factors",
    "single_ring",
    "shift_side",
    "shifted_crossings",
    "shifted_inside",
]


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
def single_ring(xy: np.ndarray, part_start: np.ndarray) -> np.ndarray:
    """Whether each polygon, its vertices ``xy[part_start[p]:part_start[p + 1]]`` (its
    rings one after another, each closed), has one ring only: whether its first ring,
    from its first vertex to the next vertex equal to it (at least three on), ends where
    the polygon does. A shell that reaches its first vertex again before its end (holes
    follow, or the ring touches itself there) makes it False. An empty polygon (a part of
    a multipolygon) counts as one ring of no vertex."""
    out = np.zeros(part_start.size - 1, dtype=np.bool_)
    for p in range(part_start.size - 1):
        s = part_start[p]
        e = part_start[p + 1]
        if e - s < 4:
            out[p] = e == s  # an empty polygon has one ring of no vertex
            continue
        x = xy[s, 0]
        y = xy[s, 1]
        k = s + 3
        while k < e and not (xy[k, 0] == x and xy[k, 1] == y):
            k += 1
        out[p] = k == e - 1
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
def pair_frame(
    abox: tuple[float, float, float, float],
    bbox: tuple[float, float, float, float],
    tol_rel: float,
) -> tuple[float, float, float, tuple[float, float, float, float]]:
    """For a pair with these boxes: the origin its coordinates are taken from (the lower
    left of both), the tolerance (``tol_rel`` times the pair's extent) and the box where
    the two boxes meet, grown by it (only edges there can meet the other polygon; empty,
    with its low corner above its high one, where they do not meet)."""
    ox = min(abox[0], bbox[0])
    oy = min(abox[1], bbox[1])
    tol = tol_rel * max(max(abox[2], bbox[2]) - ox, max(abox[3], bbox[3]) - oy)
    meet = (
        max(abox[0], bbox[0]) - tol,
        max(abox[1], bbox[1]) - tol,
        min(abox[2], bbox[2]) + tol,
        min(abox[3], bbox[3]) + tol,
    )
    return ox, oy, tol, meet


@njit(cache=True, nogil=True)
def _candidates(
    xy: np.ndarray,
    ring_start: np.ndarray,
    r0: int,
    r1: int,
    box: tuple[float, float, float, float],
    out: np.ndarray,
    ox: float = 0.0,
    oy: float = 0.0,
) -> int:
    """Store in ``out`` the edges (by first vertex) whose box meets ``box``; their count.

    Coordinates and ``box`` are taken from the origin ``(ox, oy)``: the frame where the
    edges are then compared, so that an edge a hair outside the box that rounds onto it
    there is kept (rounding keeps order: an edge that meets another there has its box
    meet the box both polygons' boxes share there)."""
    n = 0
    for r in range(r0, r1):
        for k in range(ring_start[r], ring_start[r + 1] - 1):
            if (
                max(xy[k, 0] - ox, xy[k + 1, 0] - ox) >= box[0]
                and min(xy[k, 0] - ox, xy[k + 1, 0] - ox) <= box[2]
                and max(xy[k, 1] - oy, xy[k + 1, 1] - oy) >= box[1]
                and min(xy[k, 1] - oy, xy[k + 1, 1] - oy) <= box[3]
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
def _along(ux: float, uy: float, length: float, rx: float, ry: float, tol: float) -> bool:
    """Whether a point at offset ``(rx, ry)`` from an edge's start (the edge ``(ux, uy)``,
    ``length`` long) projects onto the edge, or within ``tol`` of its ends."""
    dot = ux * rx + uy * ry
    return -tol * length <= dot <= length * length + tol * length


#: Above this many edge pairs (edges of the first polygon × of the second in their shared
#: box), :func:`crossings` sweeps the second's edges in order of y instead of testing all.
SWEEP_PAIRS = 256


@njit(cache=True, nogil=True)
def _by_lowest_y(
    xy: np.ndarray, cand: np.ndarray, n: int, oy: float, sweep: bool
) -> tuple[np.ndarray, float]:
    """With ``sweep``: sort the edges ``cand[:n]`` by their lowest y (in place) and return
    those lowest y and the tallest edge's height, both from the origin ``oy`` (the height
    as the difference of the rounded ends, so that the window it sets holds every edge
    whose rounded y-range meets another's); without it, an empty array and 0."""
    low = np.empty(n if sweep else 0)
    tallest = 0.0
    if sweep:
        for w in range(n):
            e = cand[w]
            ya = xy[e, 1] - oy
            yb = xy[e + 1, 1] - oy
            low[w] = min(ya, yb)
            tallest = max(tallest, abs(yb - ya))
        by_low = np.argsort(low, kind="mergesort")
        cand[:n] = cand[:n][by_low]
        low = low[by_low]
    return low, tallest


@njit(cache=True, nogil=True)
def _edge(xy: np.ndarray, e: int, ox: float, oy: float) -> tuple[float, float, float, float]:
    """The ends of edge ``e`` (by its first vertex), from the origin ``(ox, oy)``."""
    return xy[e, 0] - ox, xy[e, 1] - oy, xy[e + 1, 0] - ox, xy[e + 1, 1] - oy


@njit(cache=True, nogil=True)
def _grown_box(
    px: float, py: float, qx: float, qy: float, tol: float
) -> tuple[float, float, float, float]:
    """The box of the edge p→q grown by ``tol``: ``(lo_x, lo_y, hi_x, hi_y)``."""
    return min(px, qx) - tol, min(py, qy) - tol, max(px, qx) + tol, max(py, qy) + tol


@njit(cache=True, nogil=True)
def _misses(
    cx: float, cy: float, dx: float, dy: float, box: tuple[float, float, float, float]
) -> bool:
    """Whether the edge c→d lies wholly outside ``box`` (``lo_x, lo_y, hi_x, hi_y``)."""
    return (
        max(cx, dx) < box[0] or min(cx, dx) > box[2] or max(cy, dy) < box[1] or min(cy, dy) > box[3]
    )


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
    # many edges on both sides: the second's sorted by their lowest y, so that each edge of
    # the first is compared only with those whose y-range can meet its own (edges are
    # short against the box they share: a narrow window of the sorted list)
    sweep = na * nb > SWEEP_PAIRS
    low, tallest = _by_lowest_y(b_xy, cand_b, nb, oy, sweep)
    n = 0
    for u in range(na):
        ea = cand_a[u]
        px, py, qx, qy = _edge(a_xy, ea, ox, oy)
        ux = qx - px
        uy = qy - py
        la = np.hypot(ux, uy)
        box = _grown_box(px, py, qx, qy, tol)
        first = np.searchsorted(low, box[1] - tallest - tol) if sweep else 0
        for w in range(first, nb):
            if sweep and low[w] > box[3]:
                break
            eb = cand_b[w]
            cx, cy, dx, dy = _edge(b_xy, eb, ox, oy)
            if _misses(cx, cy, dx, dy, box):
                continue
            wx = dx - cx
            wy = dy - cy
            lb = np.hypot(wx, wy)
            # which side of each edge the other edge's ends lie on (sc, sd: c, d against
            # p→q; sp, sq: p, q against c→d)
            sc = ux * (cy - py) - uy * (cx - px)
            sd = ux * (dy - py) - uy * (dx - px)
            sp = wx * (py - cy) - wy * (px - cx)
            sq = wx * (qy - cy) - wy * (qx - cx)
            near_c = abs(sc) <= tol * la
            near_d = abs(sd) <= tol * la
            near_p = abs(sp) <= tol * lb
            near_q = abs(sq) <= tol * lb
            if near_c or near_d or near_p or near_q:
                # an end within tol of the other edge's line has no reliable side. The pair
                # is undecided where that end is within tol of the other edge itself, or
                # where an end of each lies on the other's line (edges meeting nearly in
                # line). Otherwise the other edge's ends have reliable sides, and they
                # alone decide that the edges do not cross: a line through an end lying
                # beyond the other edge, close to its line, that separated that edge's ends
                # would pass within tol of one of them.
                if (
                    (near_c and _along(ux, uy, la, cx - px, cy - py, tol))
                    or (near_d and _along(ux, uy, la, dx - px, dy - py, tol))
                    or (near_p and _along(wx, wy, lb, px - cx, py - cy, tol))
                    or (near_q and _along(wx, wy, lb, qx - cx, qy - cy, tol))
                    or ((near_c or near_d) and (near_p or near_q))
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
        ox, oy, tol, meet = pair_frame(_box(a_xy, va0, va1), _box(b_xy, vb0, vb1), tol_rel)
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


# ------------------------------------------------------------------------------------------
# exact signs: orientation of three points, and the symbolic shift that breaks its ties
# ------------------------------------------------------------------------------------------

_EPS = 2.0**-53
_SPLITTER = 2.0**27 + 1.0
#: Shewchuk's bound: a floating-point orientation larger than this times the sum of its two
#: products' magnitudes has the sign of the exact one.
_ORIENT_BOUND = (3.0 + 16.0 * _EPS) * _EPS
#: Each polygon is thought of as moved by an infinitesimal ``ε·i·(1, SHIFT_SLOPE)`` (``i``
#: its row): a vertex lying exactly on another polygon's edge, shared vertices and edges
#: drawn along each other are then in general position. An irrational-looking slope: no
#: edge a user draws runs exactly along it (one that does leaves its cluster to GEOS).
SHIFT_SLOPE = 0.6180339887498949
#: Where the floating-point orientations place a crossing along its edge to less than this
#: fraction of the edge (edges crossing at an angle below about 1e-6 radians), the walk
#: places it from the orientations' exact values instead.
CROSSING_CONDITION = 1e-10


@njit(cache=True, nogil=True)
def _two_sum(a: float, b: float) -> tuple[float, float]:
    """``a + b`` as a float and the exact error of that float (Knuth)."""
    s = a + b
    v = s - a
    return s, (a - (s - v)) + (b - v)


@njit(cache=True, nogil=True)
def _two_product(a: float, b: float) -> tuple[float, float]:
    """``a * b`` as a float and the exact error of that float (Dekker)."""
    p = a * b
    c = _SPLITTER * a
    a_hi = c - (c - a)
    a_lo = a - a_hi
    c = _SPLITTER * b
    b_hi = c - (c - b)
    b_lo = b - b_hi
    return p, a_lo * b_lo - (((p - a_hi * b_hi) - a_lo * b_hi) - a_hi * b_lo)


@njit(cache=True, nogil=True)
def _grow(e: np.ndarray, m: int, b: float) -> int:
    """Add ``b`` to the expansion ``e[:m]`` (non-overlapping floats, smallest first, whose
    exact sum is the value); returns the new length (zeros dropped; Shewchuk)."""
    q = b
    k = 0
    for i in range(m):
        q, h = _two_sum(q, e[i])
        if h != 0.0:
            e[k] = h
            k += 1
    if q != 0.0:
        e[k] = q
        k += 1
    return k


@njit(cache=True, nogil=True)
def _add_product(e: np.ndarray, m: int, a: float, b: float) -> int:
    p, err = _two_product(a, b)
    return _grow(e, _grow(e, m, err), p)


@njit(cache=True, nogil=True)
def _sign(e: np.ndarray, m: int) -> int:
    """The sign of an expansion: that of its largest part."""
    if m == 0:
        return 0
    return 1 if e[m - 1] > 0.0 else -1


@njit(cache=True, nogil=True)
def _orient_expansion(
    ax: float, ay: float, bx: float, by: float, cx: float, cy: float, e: np.ndarray
) -> int:
    """``(a − c) × (b − c)`` exactly, as an expansion in ``e`` (from the two-float
    differences); returns its length."""
    a1, a0 = _two_sum(ax, -cx)
    b1, b0 = _two_sum(by, -cy)
    c1, c0 = _two_sum(ay, -cy)
    d1, d0 = _two_sum(bx, -cx)
    m = 0
    m = _add_product(e, m, a0, b0)
    m = _add_product(e, m, a0, b1)
    m = _add_product(e, m, a1, b0)
    m = _add_product(e, m, a1, b1)
    m = _add_product(e, m, -c0, d0)
    m = _add_product(e, m, -c0, d1)
    m = _add_product(e, m, -c1, d0)
    return _add_product(e, m, -c1, d1)


@njit(cache=True, nogil=True)
def _orient_exact(ax: float, ay: float, bx: float, by: float, cx: float, cy: float) -> int:
    """The exact sign of ``(a − c) × (b − c)``."""
    e = np.empty(20)
    return _sign(e, _orient_expansion(ax, ay, bx, by, cx, cy, e))


@njit(cache=True, nogil=True)
def _orient_value(ax: float, ay: float, bx: float, by: float, cx: float, cy: float) -> float:
    """``(a − c) × (b − c)`` to within a few units in the last place of its exact value
    (the sum of its exact expansion's non-overlapping parts, smallest first)."""
    e = np.empty(20)
    total = 0.0
    for i in range(_orient_expansion(ax, ay, bx, by, cx, cy, e)):
        total += e[i]
    return total


@njit(cache=True, nogil=True)
def orient(
    ax: float, ay: float, bx: float, by: float, cx: float, cy: float
) -> tuple[int, float, float]:
    """Which side of the line a→b the point c lies on, exactly: +1 left, −1 right, 0 on it.

    Also returns the floating-point value of twice the triangle's signed area and a bound on
    its magnitudes (its error is below ``2.2e-16`` times that). Shewchuk's filter: the
    floating-point sign where it is certain, the exact one (from expansions) where not.
    """
    left = (ax - cx) * (by - cy)
    right = (ay - cy) * (bx - cx)
    det = left - right
    size = abs(left) + abs(right)
    if left == 0.0 or (left > 0.0) != (right > 0.0) or right == 0.0:
        pass  # no cancellation: the float's sign is exact
    elif abs(det) < _ORIENT_BOUND * size:
        return _orient_exact(ax, ay, bx, by, cx, cy), det, size
    return (1 if det > 0.0 else (-1 if det < 0.0 else 0)), det, size


@njit(cache=True, nogil=True)
def shift_side(ux: float, uy: float, vx: float, vy: float) -> int:
    """The exact sign of ``w × (1, SHIFT_SLOPE)`` for ``w = (ux − vx, uy − vy)``, the
    difference of two points: which way the symbolic shift moves a point off the line
    through them (0: the line runs along the shift)."""
    w1, w0 = _two_sum(ux, -vx)
    h1, h0 = _two_sum(uy, -vy)
    value = w1 * SHIFT_SLOPE - h1
    if abs(value) > 1e-6 * (abs(w1) * SHIFT_SLOPE + abs(h1)):
        return 1 if value > 0.0 else -1
    e = np.empty(8)
    m = 0
    m = _add_product(e, m, w0, SHIFT_SLOPE)
    m = _add_product(e, m, w1, SHIFT_SLOPE)
    m = _grow(e, m, -h0)
    m = _grow(e, m, -h1)
    return _sign(e, m)


@njit(cache=True, nogil=True)
def shifted_crossings(
    xy: np.ndarray,
    ring_start: np.ndarray,
    ra0: int,
    ra1: int,
    rb0: int,
    rb1: int,
    sigma: int,
    meet: tuple[float, float, float, float],
    ox: float,
    oy: float,
    tol: float,
    cand_a: np.ndarray,
    cand_b: np.ndarray,
    edge: np.ndarray,
    par: np.ndarray,
) -> tuple[int, np.ndarray, np.ndarray]:
    """Where the rings ra0..ra1 of one polygon cross the rings rb0..rb1 of another moved
    by ``sigma`` infinitesimal steps along ``(1, SHIFT_SLOPE)``, decided exactly.

    Only edges meeting the box ``meet`` (grown by ``tol``; like the coordinates, taken from
    the origin ``(ox, oy)``) are compared. Every side is the exact sign of an orientation;
    where a point lies exactly on the other's line (a shared vertex, edges along each
    other) the shift decides, so no crossing is ever ambiguous and each is found on
    exactly one pair of edges. For each crossing, ``edge`` gets the first polygon's edge
    (by its first vertex) and ``par`` the place ``t`` along it (0 or 1 exactly where the
    crossing is at a vertex; from exact orientations where the floats would not place it
    to :data:`CROSSING_CONDITION`). Returns the number of crossings (−1 where an edge runs
    along the shift) and the two arrays, grown where they were too short.
    """
    na = _candidates(xy, ring_start, ra0, ra1, meet, cand_a, ox, oy)
    nb = _candidates(xy, ring_start, rb0, rb1, meet, cand_b, ox, oy)
    sweep = na * nb > SWEEP_PAIRS  # as in crossings()
    low, tallest = _by_lowest_y(xy, cand_b, nb, oy, sweep)
    n = 0
    for u in range(na):
        ea = cand_a[u]
        px, py, qx, qy = _edge(xy, ea, ox, oy)
        if px == qx and py == qy:
            continue  # a repeated vertex: no edge
        box = _grown_box(px, py, qx, qy, tol)
        tie_a = 0  # the side the shift moves a point on this edge's line to
        first = np.searchsorted(low, box[1] - tallest - tol) if sweep else 0
        for w in range(first, nb):
            if sweep and low[w] > box[3]:
                break
            eb = cand_b[w]
            cx, cy, dx, dy = _edge(xy, eb, ox, oy)
            if _misses(cx, cy, dx, dy, box):
                continue
            if cx == dx and cy == dy:
                continue
            sc, _, _ = orient(px, py, qx, qy, cx, cy)
            sd, _, _ = orient(px, py, qx, qy, dx, dy)
            if sc == 0 or sd == 0:
                if tie_a == 0:
                    tie_a = sigma * shift_side(qx, qy, px, py)
                    if tie_a == 0:
                        return -1, edge, par
                sc = tie_a if sc == 0 else sc
                sd = tie_a if sd == 0 else sd
            if sc == sd:
                continue
            sp, vp, zp = orient(cx, cy, dx, dy, px, py)
            sq, vq, zq = orient(cx, cy, dx, dy, qx, qy)
            if sp == 0 or sq == 0:
                tie_b = -sigma * shift_side(dx, dy, cx, cy)
                if tie_b == 0:
                    return -1, edge, par
                t = 0.0 if sp == 0 else 1.0
                sp = tie_b if sp == 0 else sp
                sq = tie_b if sq == 0 else sq
                if sp == sq:
                    continue
            else:
                if sp == sq:
                    continue
                if _EPS * 2.0 * (zp + zq) > CROSSING_CONDITION * abs(vp - vq):
                    # so small an angle that the floats do not place it: the exact values
                    # (of opposite signs, so their difference loses nothing) do
                    vp = _orient_value(cx, cy, dx, dy, px, py)
                    vq = _orient_value(cx, cy, dx, dy, qx, qy)
                t = min(max(vp / (vp - vq), 0.0), 1.0)
            if n == edge.size:
                edge = np.concatenate((edge[:n], np.empty(n, dtype=np.int64)))
                par = np.concatenate((par[:n], np.empty(n)))
            edge[n] = ea
            par[n] = t
            n += 1
    return n, edge, par


@njit(cache=True, nogil=True)
def shifted_inside(
    fx: float,
    fy: float,
    xy: np.ndarray,
    ring_start: np.ndarray,
    r0: int,
    r1: int,
    ox: float,
    oy: float,
    sigma: int,
) -> tuple[bool, bool]:
    """Whether ``(fx, fy)`` (from the origin) lies inside rings r0..r1 (even-odd) moved by
    ``sigma`` infinitesimal steps along ``(1, SHIFT_SLOPE)``, decided exactly; and whether
    that could be decided (no edge that counts runs along the shift)."""
    inside = False
    for r in range(r0, r1):
        for k in range(ring_start[r], ring_start[r + 1] - 1):
            cy = xy[k, 1] - oy
            dy = xy[k + 1, 1] - oy
            # above the point, which the shift moves the other way (down where sigma > 0)
            c_above = cy > fy or (cy == fy and sigma > 0)
            d_above = dy > fy or (dy == fy and sigma > 0)
            if c_above == d_above:
                continue
            cx = xy[k, 0] - ox
            dx = xy[k + 1, 0] - ox
            side, _, _ = orient(cx, cy, dx, dy, fx, fy)
            if side == 0:
                side = -sigma * shift_side(dx, dy, cx, cy)
                if side == 0:
                    return False, False
            if (side > 0) == d_above:  # the ray to the east crosses this edge
                inside = not inside
    return inside, True


# ------------------------------------------------------------------------------------------
# the class areas of minemap._precedence_area (here, beside the crossings they use: numba's
# cache sees changes to a function's own file only, so callers and callees share one file)
# ------------------------------------------------------------------------------------------

#: Classes: 4 hazard ranks (threat levels, then none) × 4 release ranks (methods, then none).
CLASSES = 16
#: Gauss–Legendre points on [0, 1]: two of them integrate a cubic exactly.
_G1 = 0.5 - 0.5 / np.sqrt(3.0)
_G2 = 0.5 + 0.5 / np.sqrt(3.0)


@njit(cache=True, nogil=True)
def out_of_range(
    xy: np.ndarray, ring_start: np.ndarray, geom_ring: np.ndarray, low: float, high: float
) -> np.ndarray:
    """Whether each geometry has a coordinate that is not 0 and below ``low`` in magnitude,
    above ``high``, or not finite (one pass over the flat rings)."""
    out = np.zeros(geom_ring.size - 1, dtype=np.bool_)
    for g in range(geom_ring.size - 1):
        for k in range(ring_start[geom_ring[g]], ring_start[geom_ring[g + 1]]):
            for axis in range(2):
                size = abs(xy[k, axis])
                if not (size <= high) or (0.0 < size < low):  # NaN fails size <= high
                    out[g] = True
            if out[g]:
                break
    return out


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
def cluster_boxes(comp: np.ndarray, boxes: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Each cluster's box, the union of its present polygons' ``boxes``, in the row of its
    label ``comp`` gives (other rows, and clusters with no polygon present, hold
    ``(inf, inf, -inf, -inf)``; a NaN bound is passed over)."""
    out = np.empty((comp.size, 4))
    out[:, :2] = np.inf
    out[:, 2:] = -np.inf
    for k in range(comp.size):
        if present[k]:
            c = comp[k]
            for axis in range(2):
                if boxes[k, axis] < out[c, axis]:
                    out[c, axis] = boxes[k, axis]
                if boxes[k, axis + 2] > out[c, axis + 2]:
                    out[c, axis + 2] = boxes[k, axis + 2]
    return out


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
def _sides(counts: np.ndarray, own: int) -> tuple[int, int]:
    """The class of the land beside a stretch of a polygon's ring, held by the neighbours
    ``counts`` counts (per rank), outside the polygon and inside it (its rank ``own``)."""
    outer = _top(counts, 0) * 4 + _top(counts, 3)
    counts[own] += 1
    inner = _top(counts, 0) * 4 + _top(counts, 3)
    counts[own] -= 1
    return outer, inner


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
    release rank): what its rings add to each class's area. Each neighbour is thought of
    as moved by an infinitesimal step along ``(1, SHIFT_SLOPE)`` times the difference of
    their rows (:func:`shifted_crossings`, :func:`shifted_inside`): shared vertices and
    edges along each other are measured exactly. Every pair of a cluster is compared in
    the cluster's own frame (coordinates from its origin), so that all its walks decide
    on the same rounded coordinates: the crossings they find are those of one arrangement
    of edges, even where edges cross at angles too small for floating point to place (the
    exact orientations place them). A row of NaN marks a polygon with a tie that could not
    be decided (an edge along the shift): its component must be measured otherwise.
    ``tol_rel`` only widens the boxes where edges are compared.
    """
    out = np.zeros((geoms.size, CLASSES))
    cand_a = np.empty(max(xy.shape[0], 1), dtype=np.int64)
    cand_b = np.empty(max(xy.shape[0], 1), dtype=np.int64)
    edge_q = np.empty(64, dtype=np.int64)
    par_q = np.empty(64)
    keys = np.empty(64)
    edges = np.empty(64, dtype=np.int64)
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
        # boxes from the cluster's origin too: every test on a pair, the boxes' included,
        # is made on the coordinates the crossings are decided on (rounding keeps order,
        # so each polygon's vertices lie in its box there)
        pbox = (boxes[p, 0] - x0, boxes[p, 1] - y0, boxes[p, 2] - x0, boxes[p, 3] - y0)
        # every crossing of this polygon's rings with a neighbour's: where along them, and
        # with which neighbour (its slot)
        n = 0
        ok = True
        for s in range(nb_start[p], nb_start[p + 1]):
            q = nb[s]
            qbox = (boxes[q, 0] - x0, boxes[q, 1] - y0, boxes[q, 2] - x0, boxes[q, 3] - y0)
            _, _, tol, meet = pair_frame(pbox, qbox, tol_rel)
            if meet[0] > meet[2] or meet[1] > meet[3]:
                continue
            m, edge_q, par_q = shifted_crossings(
                xy, ring_start, r0, r1, geom_ring[q], geom_ring[q + 1], 1 if q > p else -1,
                meet, x0, y0, tol, cand_a, cand_b, edge_q, par_q,
            )  # fmt: skip
            if m < 0:
                ok = False
                break
            if n + m > keys.size:
                grown = 2 * (n + m)
                keys = np.concatenate((keys[:n], np.empty(grown - n)))
                edges = np.concatenate((edges[:n], np.empty(grown - n, dtype=np.int64)))
                pars = np.concatenate((pars[:n], np.empty(grown - n)))
                slots = np.concatenate((slots[:n], np.empty(grown - n, dtype=np.int64)))
            for k in range(m):
                # edge-major: 2 (edge) + t stays below the next edge's 2 (edge + 1)
                keys[n + k] = 2.0 * (edge_q[k] - v0) + par_q[k]
            edges[n : n + m] = edge_q[:m]
            pars[n : n + m] = par_q[:m]
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
            gx = fx - x0
            gy = fy - y0
            for s in range(nb_start[p], nb_start[p + 1]):
                q = nb[s]
                held = False
                # from the cluster's origin, as the crossings were found, the box too: x - x0
                # rounds, and a vertex a hair outside the other's box (or inside a small
                # polygon) can round onto its edge (or outside it)
                if (
                    boxes[q, 0] - x0 <= gx <= boxes[q, 2] - x0  # rounding keeps order: q's
                    and boxes[q, 1] - y0 <= gy <= boxes[q, 3] - y0  # vertices lie in its box
                ):
                    held, ok = shifted_inside(
                        gx, gy, xy, ring_start, geom_ring[q], geom_ring[q + 1], x0, y0,
                        1 if q > p else -1,
                    )  # fmt: skip
                    if not ok:
                        break
                inside[s] = held
                if held:
                    counts[rank[q]] += 1
            if not ok:
                break
            f = factor[r]
            outer, inner = _sides(counts, own)
            for k in range(s0, s1 - 1):
                px = xy[k, 0] - x0
                py = xy[k, 1] - y0
                dx = xy[k + 1, 0] - xy[k, 0]
                dy = xy[k + 1, 1] - xy[k, 1]
                t0 = 0.0
                while True:
                    last = not (e < n and edges[order[e]] == k)
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
                    outer, inner = _sides(counts, own)
                    t0 = t1
        if not ok:
            out[row, :] = np.nan
    return out
