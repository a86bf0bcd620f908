"""Tests for minemap._box_tree_jit: pairs of boxes that meet, from a packed tree.

Every search is checked against all pairs compared one by one (and, on polygons, against
shapely's ``STRtree``): the same pairs, each once, whatever the shapes, the ties (shared
edges and corners, zero widths, copies) and the boxes without bounds.
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from minemap import _shared_area

pytestmark = pytest.mark.skipif(
    not _shared_area.available(), reason="the compiled search needs numba (the fast extra)"
)


def _tree_jit():
    from minemap import _box_tree_jit

    return _box_tree_jit


def _all_pairs(boxes: np.ndarray) -> set[tuple[int, int]]:
    """Every ordered pair of distinct rows whose boxes share a point, one by one."""
    x0, y0, x1, y1 = (boxes[:, k] for k in range(4))
    with np.errstate(invalid="ignore"):
        meet = (
            (x0[:, None] <= x1[None, :])
            & (x0[None, :] <= x1[:, None])
            & (y0[:, None] <= y1[None, :])
            & (y0[None, :] <= y1[:, None])
        )
    np.fill_diagonal(meet, False)
    i, j = np.nonzero(meet)
    return set(zip(i.tolist(), j.tolist(), strict=True))


def _search(boxes: np.ndarray, cuts: int = 1) -> np.ndarray:
    """All pairs from the tree, the nodes searched in ``cuts`` chunks joined in order."""
    tree_jit = _tree_jit()
    box, child, level_start = tree_jit.build(boxes)
    nodes = -(-int(level_start[1]) // tree_jit.NODE_CAPACITY)
    edges = np.linspace(0, nodes, cuts + 1).astype(int)
    parts = [
        tree_jit.meeting_pairs(box, child, level_start, int(a), int(b))
        for a, b in zip(edges[:-1], edges[1:], strict=True)
    ]
    return np.concatenate([np.empty((0, 2), dtype=np.int64), *parts])


def _boxes(corners: list[tuple[int, int, int, int]], blank: list[bool]) -> np.ndarray:
    """Boxes on a coarse grid (so that edges and corners are often shared), some blank."""
    boxes = np.array(
        [(min(a, c), min(b, d), max(a, c), max(b, d)) for a, b, c, d in corners], dtype=float
    ).reshape(-1, 4)
    boxes[np.array(blank[: len(corners)] + [False] * (len(corners) - len(blank)), bool)] = np.nan
    return boxes


_corner = st.tuples(*[st.integers(0, 40)] * 4)


@settings(max_examples=120, deadline=None)
@given(
    corners=st.lists(_corner, max_size=600),
    blank=st.lists(st.booleans(), max_size=600),
    cuts=st.integers(1, 5),
)
def test_the_pairs_are_those_compared_one_by_one(corners, blank, cuts):
    boxes = _boxes(corners, blank)
    found = _search(boxes, cuts)
    pairs = set(zip(found[:, 0].tolist(), found[:, 1].tolist(), strict=True))
    assert len(pairs) == found.shape[0]  # each pair once
    assert pairs == _all_pairs(boxes)
    # the same rows in the same order whatever the chunks
    assert np.array_equal(found, _search(boxes, 1))


def test_many_levels_wide_and_tiny_boxes_and_copies():
    rng = np.random.default_rng(7)
    lo = rng.uniform(-1e3, 1e3, (5000, 2))
    size = rng.lognormal(0.0, 2.5, (5000, 2))  # from slivers to boxes across everything
    boxes = np.c_[lo, lo + size]
    boxes[::97] = boxes[1::97]  # copies
    boxes[::89, 2] = boxes[::89, 0]  # no width
    boxes[::83] = np.nan
    tree_jit = _tree_jit()
    _, _, level_start = tree_jit.build(boxes)
    assert level_start.size - 1 >= 4  # the search descends several levels
    found = _search(boxes, 3)
    assert set(zip(found[:, 0].tolist(), found[:, 1].tolist(), strict=True)) == _all_pairs(boxes)


def test_the_pairs_equal_shapely_strtree_on_polygons():
    rng = np.random.default_rng(3)
    centre = rng.uniform(0, 1, (3000, 2))
    polygons = shapely.buffer(shapely.points(centre), rng.uniform(1e-4, 3e-2, 3000))
    polygons[::50] = shapely.Polygon()  # empty: meets nothing
    boxes = shapely.bounds(polygons)
    hit, other = shapely.STRtree(polygons).query(polygons)
    keep = hit != other
    expected = set(zip(hit[keep].tolist(), other[keep].tolist(), strict=True))
    found = _search(boxes, 2)
    assert set(zip(found[:, 0].tolist(), found[:, 1].tolist(), strict=True)) == expected


@pytest.mark.parametrize("n", [0, 1, 2, 16, 17, 257])
def test_small_trees_and_no_box_at_all(n):
    boxes = np.tile([0.0, 0.0, 1.0, 1.0], (n, 1))
    found = _search(boxes)
    assert found.shape == (n * (n - 1), 2)
    assert _search(np.full((n, 4), np.nan)).shape == (0, 2)


def test_centres_that_cannot_be_told_apart_still_give_every_pair():
    # a span of 1e12 around boxes 1e-3 apart: their centres share a rank
    boxes = np.array([[0.0, 0.0, 1e-3, 1e-3]] * 40 + [[1e12, 1e12, 1e12 + 1, 1e12 + 1]])
    boxes[:40, [0, 2]] += np.arange(40)[:, None] * 1e-3
    found = _search(boxes)
    assert set(zip(found[:, 0].tolist(), found[:, 1].tolist(), strict=True)) == _all_pairs(boxes)


@settings(max_examples=60, deadline=None)
@given(first=st.lists(st.integers(0, 9), max_size=80), data=st.data())
def test_by_first_groups_the_pairs_and_keeps_their_order(first, data):
    second = data.draw(st.lists(st.integers(0, 99), min_size=len(first), max_size=len(first)))
    pairs = np.array([first, second], dtype=np.int64).T.reshape(-1, 2)
    start, grouped = _tree_jit().by_first(pairs, 10)
    assert start[0] == 0 and start[-1] == len(first)
    for i in range(10):
        assert grouped[start[i] : start[i + 1]].tolist() == [
            s for f, s in zip(first, second, strict=True) if f == i
        ]
