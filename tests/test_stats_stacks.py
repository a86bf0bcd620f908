"""land_release_summary on stacked and duplicated polygons, against the geodesic oracle.

Stacks (many copies of one polygon, exact, slightly shifted or shifted steadily in one
direction) are flattened and overlaid another way than ordinary layers
(``minemap._overlay.flatten``, ``merge_stacks``); the figures must not change.
"""

from __future__ import annotations

import warnings

import _oracle as oracle
import geopandas as gpd
import numpy as np
import pytest
from shapely import box

import minemap
from minemap._errors import DataWarning


def _layers(n, jitter, seed=0, *, steady=0.0):
    """``n`` hazards and releases over one spot: copies, randomly jittered by up to
    ``jitter`` m, or (``steady``) copy k moved by k × ``steady`` m up and to the right."""
    rng = np.random.default_rng(seed)
    x0, y0 = 500_000.0, 4_400_000.0
    shift = rng.uniform(-jitter, jitter, (n, 2)) if jitter else np.zeros((n, 2))
    if steady:
        shift = np.repeat(np.arange(n)[:, None] * steady, 2, axis=1)
    hz_geoms = [box(x0 + a, y0 + b, x0 + 800 + a, y0 + 800 + b) for a, b in shift]
    rl_geoms = [box(x0 + 300 + a, y0 + b, x0 + 1100 + a, y0 + 400 + b) for a, b in shift]
    hz = gpd.GeoDataFrame(
        {
            "hazard_id": [f"H{i}" for i in range(n)],
            "threat_level": rng.choice(["high", "medium", "low"], n),
        },
        geometry=hz_geoms,
        crs=32638,
    )
    rl = gpd.GeoDataFrame(
        {
            "release_id": [f"R{i}" for i in range(n)],
            "method": rng.choice(["cleared", "reduced", "cancelled"], n),
            "release_date": ["2022-01-01"] * n,
        },
        geometry=rl_geoms,
        crs=32638,
    )
    return hz, rl


@pytest.mark.parametrize(
    ("jitter", "steady"),
    [(0.0, 0.0), (2.0, 0.0), (0.0, 0.05)],
    ids=["identical", "jittered", "steady"],
)
def test_stacked_hazards_and_releases_match_the_oracle(jitter, steady):
    hz, rl = _layers(80, jitter, steady=steady)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)  # releases reach outside: expected
        table = minemap.land_release_summary(hz, rl)
    expected = oracle.summary_of_layers(hz, rl)
    rows = table.set_index("threat_level")
    for level in (*oracle.LEVELS, "total"):
        for column in ("hazard_ha", "cleared_ha", "reduced_ha", "cancelled_ha", "released_ha"):
            assert rows.loc[level, column] == pytest.approx(
                expected[level][column], rel=oracle.REL, abs=oracle.ABS_HA
            ), (level, column)
    assert table.attrs["released_outside_hazards_ha"] == pytest.approx(
        expected["outside"], rel=oracle.REL, abs=oracle.ABS_HA
    )
