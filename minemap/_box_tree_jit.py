"""Pairs of boxes that meet, found by a packed R-tree compiled with numba.

:mod:`minemap._precedence_area` needs every pair of polygons whose boxes meet. Shapely's
``STRtree`` finds them, but building it holds Python's interpreter lock for its whole
length (about 45 ms for 150,000 polygons), and that time stays on one core whatever the
number of workers. The tree here is built and searched in numba's ``nopython`` mode
without the lock, so it runs beside the other stages, and its search runs on every core.

The tree is packed by sort-tile-recursive (STR): the boxes are sorted by their centres'
``x``, cut into vertical slices, each slice sorted by ``y`` and cut into nodes of
:data:`NODE_CAPACITY` boxes; the nodes' boxes are packed the same way, level after level,
up to a level that fits in one node. A search descends from that level into every node
whose box meets the box sought. Boxes meet when they share a point, their edges included,
as for ``STRtree.query``; a box with a NaN bound (an empty geometry) meets none.

Arrays, one row per entry, level after level (the boxes first, then each level's nodes):
``box`` (the entry's box) and ``child`` (for a box, its index in the input; for a node, the
first entry of the level below that it holds, which holds up to :data:`NODE_CAPACITY`
consecutive ones), and ``level_start`` (each level's first entry, and one past the last).
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["NODE_CAPACITY", "build", "by_first", "meeting_pairs"]

#: Entries per node.
NODE_CAPACITY = 16


@njit(cache=True, nogil=True)
def _ranks(values: np.ndarray) -> np.ndarray:
    """``values`` as 32-bit ranks of their place between the least and the greatest (a
    value that is not finite takes the rank 0): sorting them sorts the values, but for
    values closer than the span's 2**-32, which may come in either order."""
    lo = np.inf
    hi = -np.inf
    for v in values:
        if np.isfinite(v):
            lo = min(lo, v)
            hi = max(hi, v)
    out = np.zeros(values.size, dtype=np.int64)
    span = hi - lo
    if not (span > 0.0 and np.isfinite(span)):
        return out
    scale = 4294967295.0 / span
    for k in range(values.size):
        t = (values[k] - lo) * scale
        if t >= 0.0:  # False for NaN
            out[k] = min(int(t), 4294967295)
    return out


@njit(cache=True, nogil=True)
def _radix_order(keys: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``rows`` sorted by ``keys[rows]`` (32-bit ranks), stable: four passes of a
    counting sort on a byte each."""
    order = rows.copy()
    spare = np.empty_like(order)
    count = np.empty(257, dtype=np.int64)
    for shift in range(0, 32, 8):
        count[:] = 0
        for r in order:
            count[((keys[r] >> shift) & 255) + 1] += 1
        for d in range(256):
            count[d + 1] += count[d]
        for r in order:
            d = (keys[r] >> shift) & 255
            spare[count[d]] = r
            count[d] += 1
        order, spare = spare, order
    return order


@njit(cache=True, nogil=True)
def _str_order(box: np.ndarray) -> np.ndarray:
    """The order in which the sort-tile-recursive packing puts the rows of ``box``: by
    centre ``x``, cut in vertical slices, each by centre ``y``. Centres within 2**-32 of
    the layer's span of each other may come in either order: the packing is then a little
    less tight, the search as exact."""
    n = box.shape[0]
    kx = _ranks(box[:, 0] + box[:, 2])  # twice the centre: the order is the same
    ky = _ranks(box[:, 1] + box[:, 3])
    nodes = (n + NODE_CAPACITY - 1) // NODE_CAPACITY
    slices = int(np.ceil(np.sqrt(nodes)))
    per_slice = max(slices * NODE_CAPACITY, 1)
    by_x = _radix_order(kx, np.arange(n))
    order = np.empty(n, dtype=np.int64)
    for first in range(0, n, per_slice):
        part = by_x[first : first + per_slice]
        order[first : first + part.size] = _radix_order(ky, part)
    return order


@njit(cache=True, nogil=True)
def build(boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pack the boxes ``(xmin, ymin, xmax, ymax)`` into a tree: ``(box, child,
    level_start)`` as the module describes them. Rows with a NaN bound are left out."""
    missing = np.isnan(boxes[:, 0]) | np.isnan(boxes[:, 1])
    keep = np.flatnonzero(~(missing | np.isnan(boxes[:, 2]) | np.isnan(boxes[:, 3])))
    # every level is at most a NODE_CAPACITY-th of the one below (rounded up)
    total = 0
    count = keep.size
    levels = 1
    total += count
    while count > NODE_CAPACITY:
        count = (count + NODE_CAPACITY - 1) // NODE_CAPACITY
        total += count
        levels += 1
    box = np.empty((total, 4))
    child = np.empty(total, dtype=np.int64)
    level_start = np.empty(levels + 1, dtype=np.int64)
    order = keep[_str_order(boxes[keep])]
    box[: keep.size] = boxes[order]
    child[: keep.size] = order
    level_start[0] = 0
    level_start[1] = keep.size
    for level in range(1, levels):
        lo = level_start[level - 1]
        hi = level_start[level]
        nodes = (hi - lo + NODE_CAPACITY - 1) // NODE_CAPACITY
        node_box = np.empty((nodes, 4))
        node_child = np.empty(nodes, dtype=np.int64)
        for k in range(nodes):
            first = lo + k * NODE_CAPACITY
            last = min(first + NODE_CAPACITY, hi)
            node_child[k] = first
            node_box[k, 0] = box[first:last, 0].min()
            node_box[k, 1] = box[first:last, 1].min()
            node_box[k, 2] = box[first:last, 2].max()
            node_box[k, 3] = box[first:last, 3].max()
        # the nodes are packed in their turn: the next level groups nearby nodes
        order = _str_order(node_box)
        box[hi : hi + nodes] = node_box[order]
        child[hi : hi + nodes] = node_child[order]
        level_start[level + 1] = hi + nodes
    return box, child, level_start


@njit(cache=True, nogil=True)
def meeting_pairs(
    box: np.ndarray, child: np.ndarray, level_start: np.ndarray, first: int, last: int
) -> np.ndarray:
    """Every pair of distinct boxes of the tree that meet, both ways round: ``(i, j)`` and
    ``(j, i)`` (indices in the input) for each pair of which the tree's nodes ``first`` to
    ``last`` (excluded) of its lowest level of nodes hold the box that comes first in the
    tree. One row each, in a fixed order: chunks of nodes searched apart and joined in
    order give the rows of all at once.

    The tree is searched once per node (its box sought), not once per box: the boxes that
    meet the node's are the only ones that can meet its own, and each of its boxes is
    tested against those of them that come after it.
    """
    levels = level_start.size - 1
    boxes_end = level_start[1]
    out = np.empty((max(4 * NODE_CAPACITY * (last - first), 16), 2), dtype=np.int64)
    n = 0
    # ranges of entries still to look at (each a node's children), and their level
    stack_first = np.empty(levels * NODE_CAPACITY + 1, dtype=np.int64)
    stack_level = np.empty(levels * NODE_CAPACITY + 1, dtype=np.int64)
    found = np.empty(64, dtype=np.int64)
    top = levels - 1
    for node in range(first, last):
        g0 = node * NODE_CAPACITY
        g1 = min(g0 + NODE_CAPACITY, boxes_end)
        x0 = box[g0:g1, 0].min()
        y0 = box[g0:g1, 1].min()
        x1 = box[g0:g1, 2].max()
        y1 = box[g0:g1, 3].max()
        # the boxes that meet the node's box
        m = 0
        stack_first[0] = level_start[top]
        stack_level[0] = top
        depth = 1
        while depth:
            depth -= 1
            level = stack_level[depth]
            e0 = stack_first[depth]
            e1 = (
                level_start[level + 1]
                if level == top
                else min(e0 + NODE_CAPACITY, level_start[level + 1])
            )
            for e in range(e0, e1):
                if box[e, 0] > x1 or box[e, 2] < x0 or box[e, 1] > y1 or box[e, 3] < y0:
                    continue
                if level:
                    if level == 1 and child[e] < g0:
                        continue  # boxes of earlier nodes: their pairs are theirs
                    stack_first[depth] = child[e]
                    stack_level[depth] = level - 1
                    depth += 1
                elif e >= g0:
                    if m == found.size:
                        found = np.concatenate((found, np.empty(m, dtype=np.int64)))
                    found[m] = e
                    m += 1
        # each of the node's boxes against them
        for e in range(g0, g1):
            ex0 = box[e, 0]
            ey0 = box[e, 1]
            ex1 = box[e, 2]
            ey1 = box[e, 3]
            for k in range(m):
                f = found[k]
                if (
                    f <= e
                    or box[f, 0] > ex1
                    or box[f, 2] < ex0
                    or box[f, 1] > ey1
                    or box[f, 3] < ey0
                ):
                    continue
                if n + 2 > out.shape[0]:
                    grown = np.empty((2 * out.shape[0], 2), dtype=np.int64)
                    grown[:n] = out[:n]
                    out = grown
                out[n, 0] = child[e]
                out[n, 1] = child[f]
                out[n + 1, 0] = child[f]
                out[n + 1, 1] = child[e]
                n += 2
    return out[:n]


@njit(cache=True, nogil=True)
def by_first(pairs: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``pairs`` grouped by their first element (``0 <= pairs[:, 0] < n``), keeping their
    order within a group: the start of each group (``n + 1`` values) and the second
    elements, group after group."""
    start = np.zeros(n + 1, dtype=np.int64)
    for k in range(pairs.shape[0]):
        start[pairs[k, 0] + 1] += 1
    for i in range(n):
        start[i + 1] += start[i]
    at = start[:-1].copy()
    second = np.empty(pairs.shape[0], dtype=np.int64)
    for k in range(pairs.shape[0]):
        i = pairs[k, 0]
        second[at[i]] = pairs[k, 1]
        at[i] += 1
    return start, second
