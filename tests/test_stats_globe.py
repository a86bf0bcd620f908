"""land_release_summary on data spread round the globe, and on whole-Earth polygons.

Overlays (threat precedence, release precedence, release inside hazards) must stay right
wherever the data is, measured against the geodesic oracle of ``tests/_oracle.py``.
"""

from __future__ import annotations

import warnings

import _oracle as oracle
import geopandas as gpd
import numpy as np
import pytest
from shapely import MultiPolygon, box

import minemap
from minemap._errors import DataWarning

REL = oracle.REL
ABS = oracle.ABS_HA
EARTH_HA = 4.0 * np.pi * 6_371_007.180918475**2 / 1e4


def _hazards(geoms, levels):
    return gpd.GeoDataFrame(
        {"hazard_id": [f"H{i + 1}" for i in range(len(geoms))], "threat_level": list(levels)},
        geometry=list(geoms),
        crs=4326,
    )


def _releases(geoms, methods):
    return gpd.GeoDataFrame(
        {
            "release_id": [f"R{i + 1}" for i in range(len(geoms))],
            "method": list(methods),
            "release_date": ["2022-01-01"] * len(geoms),
        },
        geometry=list(geoms),
        crs=4326,
    )


def _summary(hazards, releases=None, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        return minemap.land_release_summary(hazards, releases, **kwargs)


def _assert_matches(table, expected):
    rows = table.set_index("threat_level")
    for level in (*oracle.LEVELS, "total"):
        for column in (
            "hazard_ha",
            "cleared_ha",
            "reduced_ha",
            "cancelled_ha",
            "released_ha",
            "remaining_ha",
        ):
            assert rows.loc[level, column] == pytest.approx(
                expected[level][column], rel=REL, abs=ABS
            ), (level, column)
    assert table.attrs["released_outside_hazards_ha"] == pytest.approx(
        expected["outside"], rel=REL, abs=ABS
    )


def _split(west, south, east, north):
    """A lon/lat box across ±180° (east given past 180°), cut there."""
    return MultiPolygon([box(west, south, 180.0, north), box(-180.0, south, east - 360.0, north)])


@pytest.mark.parametrize("half", [0.05, 1.0])
def test_overlapping_hazards_and_releases_at_0_90e_90w_and_180(half):
    hazards, levels, releases, methods = [], [], [], []
    for k, lon in enumerate((0.0, 90.0, -90.0, 179.5)):
        big = (lon - half, -half, lon + half, half)
        shifted = (lon, 0.0, lon + 1.5 * half, 1.5 * half)
        for bounds, level in ((big, oracle.LEVELS[k % 3]), (shifted, "high")):
            hazards.append(_split(*bounds) if bounds[2] > 180.0 else box(*bounds))
            levels.append(level)
        cut = (lon - 0.5 * half, -0.5 * half, lon + 2.0 * half, 0.25 * half)
        releases.append(_split(*cut) if cut[2] > 180.0 else box(*cut))
        methods.append(("cleared", "reduced", "cancelled")[k % 3])
        releases.append(box(lon - half, -half, lon, 0.0))
        methods.append("cleared")
    hz, rl = _hazards(hazards, levels), _releases(releases, methods)
    _assert_matches(_summary(hz, rl), oracle.summary_of_layers(hz, rl))


def test_hazard_written_past_180_overlaps_a_release_written_west_of_it():
    # 179.5°..180.5° is the same land as 179.5°..180° plus -180°..-179.5°
    hz = _hazards([box(179.5, 10.0, 180.5, 11.0), box(0.0, 10.0, 1.0, 11.0)], ["high", "low"])
    rl = _releases([box(-179.8, 10.0, -179.0, 10.5)], ["cleared"])
    table = _summary(hz, rl).set_index("threat_level")
    overlap = oracle.geod_area_ha(box(-179.8, 10.0, -179.5, 10.5))
    assert table.loc["high", "hazard_ha"] == pytest.approx(
        oracle.geod_area_ha(_split(179.5, 10.0, 180.5, 11.0)), rel=REL
    )
    assert table.loc["high", "cleared_ha"] == pytest.approx(overlap, rel=REL)
    assert table.loc["low", "hazard_ha"] == pytest.approx(
        oracle.geod_area_ha(box(0.0, 10.0, 1.0, 11.0)), rel=REL
    )


def test_whole_earth_hazard_with_a_release_and_a_smaller_hazard():
    release = box(10.0, 10.0, 12.0, 12.0)
    inner = box(170.0, -5.0, 175.0, 5.0)
    hz = _hazards([box(-180.0, -90.0, 180.0, 90.0), inner], ["low", "high"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no numpy warnings, no 0 ha
        table = minemap.land_release_summary(hz, _releases([release], ["cleared"]))
    rows = table.set_index("threat_level")
    assert rows.loc["total", "hazard_ha"] == pytest.approx(EARTH_HA, rel=1e-7)
    assert rows.loc["high", "hazard_ha"] == pytest.approx(oracle.geod_area_ha(inner), rel=REL)
    assert rows.loc["low", "cleared_ha"] == pytest.approx(oracle.geod_area_ha(release), rel=REL)
    assert table.attrs["released_outside_hazards_ha"] == 0.0


def test_ring_round_the_globe_as_a_hazard():
    ring = box(-180.0, -1.0, 180.0, 1.0)
    hz = _hazards([ring, box(179.0, 0.0, 180.0, 2.0)], ["medium", "high"])
    table = _summary(hz).set_index("threat_level")
    band = sum(
        oracle.geod_area_ha(b, step=0.01)
        for b in (box(-180.0, -1.0, 0.0, 1.0), box(0.0, -1.0, 180.0, 1.0))
    )
    high = oracle.geod_area_ha(box(179.0, 0.0, 180.0, 2.0))
    assert table.loc["high", "hazard_ha"] == pytest.approx(high, rel=REL)
    assert table.loc["total", "hazard_ha"] == pytest.approx(
        band + oracle.geod_area_ha(box(179.0, 1.0, 180.0, 2.0)), rel=REL
    )


def test_a_piece_that_cannot_be_measured_is_one_error_naming_file_and_feature(monkeypatch):
    from minemap import crs as mcrs
    from minemap._errors import CoordinateError

    real = mcrs.area_m2

    def failing(geoms, crs, frame=None):  # as if no frame could hold the large feature
        out = real(geoms, crs, frame)
        return np.where(out > 1e12, np.nan, out)

    monkeypatch.setattr(mcrs, "area_m2", failing)
    hz = _hazards([box(-180.0, -90.0, 180.0, 90.0), box(1.0, 1.0, 1.1, 1.1)], ["low", "high"])
    with pytest.raises(
        CoordinateError, match=r"^the hazards GeoDataFrame: the area of 1 feature.*'H1'"
    ):
        _summary(hz)
