"""land_release_summary on stacked and duplicated polygons, against the geodesic oracle.

Stacks (many copies of one polygon, exact, slightly shifted or shifted steadily in one
direction) are flattened and overlaid another way than ordinary layers
(``minemap._overlay.flatten``, ``flatten_merged``); the figures must not change.
"""

from __future__ import annotations

import warnings

import _oracle as oracle
import geopandas as gpd
import numpy as np
import pandas as pd
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


def _steady_scene(n, step, seed=3):
    """A stack of ``n`` hazards and releases, copy k moved by k × ``step`` m up and to the
    right, among ordinary hazards: one across the stack's corner, one holding it all, one
    apart. Levels, methods and a ``district`` column are drawn at random."""
    hz, rl = _layers(n, 0.0, seed, steady=step)
    x0, y0 = 500_000.0, 4_400_000.0
    around = gpd.GeoDataFrame(
        {
            "hazard_id": ["A1", "A2", "A3"],
            "threat_level": ["medium", "low", "high"],
        },
        geometry=[
            box(x0 - 200, y0 - 200, x0 + 100, y0 + 100),
            box(x0 - 500, y0 - 500, x0 + 2000, y0 + 2000),
            box(x0 + 3000, y0, x0 + 3100, y0 + 100),
        ],
        crs=32638,
    )
    hz = gpd.GeoDataFrame(pd.concat([hz, around], ignore_index=True), crs=32638)
    hz["district"] = np.random.default_rng(seed).choice(["North", "South"], len(hz))
    return hz, rl


def test_steady_stack_figures_match_the_oracle():
    # 400 copies moved by 1 cm each: their pieces are nested L-shaped slivers a centimetre
    # wide, merged per level and method before the release overlay; the figures are those
    # of plain unions and differences measured geodesically
    hz, rl = _steady_scene(400, 0.01)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)  # releases reach outside: expected
        table = minemap.land_release_summary(hz, rl)
    expected = oracle.summary_of_layers(hz, rl)
    rows = table.set_index("threat_level")
    for level in (*oracle.LEVELS, "total"):
        for column in ("hazard_ha", "cleared_ha", "reduced_ha", "cancelled_ha", "released_ha"):
            assert rows.loc[level, column] == pytest.approx(
                expected[level][column], rel=oracle.REL, abs=1e-6
            ), (level, column)
    assert table.attrs["released_outside_hazards_ha"] == pytest.approx(
        expected["outside"], rel=oracle.REL, abs=1e-6
    )


def test_steady_stack_grouped_by_a_column_matches_the_oracle():
    # hazards of one level in two districts: which hazard holds a place decides its
    # district, so the stack is flattened hazard by hazard (first row wins within a level)
    hz, rl = _steady_scene(120, 0.01)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        table = minemap.land_release_summary(hz, rl, by="district")
    expected = oracle.grouped_summary(
        oracle.layer_lonlat(hz),
        list(hz["threat_level"]),
        list(hz["district"]),
        oracle.layer_lonlat(rl),
        list(rl["method"]),
    )
    for (district, level), row in table.set_index(["district", "threat_level"]).iterrows():
        if district == "all":
            continue
        for column in ("hazard_ha", "cleared_ha", "reduced_ha", "cancelled_ha", "released_ha"):
            assert row[column] == pytest.approx(
                expected[district][level][column], rel=oracle.REL, abs=1e-6
            ), (district, level, column)
