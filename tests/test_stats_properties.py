"""Property tests of land_release_summary on random small layouts (hypothesis).

Layouts are a few boxes, rotated boxes and boxes with holes, on a coarse grid (so edges
often coincide, as digitised data does), in a local UTM CRS or in EPSG:4326, with random
threat levels, release methods and dates; releases sometimes come in the other CRS.
"""

from __future__ import annotations

import warnings

import _oracle as oracle
import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely import affinity, box

import minemap
from minemap._errors import DataWarning

REL = oracle.REL
ABS = oracle.ABS_HA
SETTINGS = settings(
    max_examples=30, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
# grid cell: 100 m in UTM 38N around (500 km, 4400 km), 0.001° in lon/lat around (46°, 39°)
ORIGINS = {32638: (500_000.0, 4_400_000.0, 100.0), 4326: (46.0, 39.0, 0.001)}


@st.composite
def shapes(draw, crs: int):
    x0, y0, cell = ORIGINS[crs]
    i, j = draw(st.integers(0, 12)), draw(st.integers(0, 12))
    w, h = draw(st.integers(1, 8)), draw(st.integers(1, 8))
    geom = box(x0 + i * cell, y0 + j * cell, x0 + (i + w) * cell, y0 + (j + h) * cell)
    kind = draw(st.sampled_from(["box", "rotated", "holed"]))
    if kind == "rotated":
        geom = affinity.rotate(geom, draw(st.integers(5, 85)), origin="centroid")
    elif kind == "holed" and w >= 3 and h >= 3:
        inner = box(
            x0 + (i + 1) * cell,
            y0 + (j + 1) * cell,
            x0 + (i + w - 1) * cell,
            y0 + (j + h - 1) * cell,
        )
        geom = shapely.Polygon(geom.exterior.coords, [inner.exterior.coords])
    return geom


@st.composite
def layouts(draw):
    crs = draw(st.sampled_from([32638, 4326]))
    n = draw(st.integers(1, 5))
    m = draw(st.integers(0, 5))
    hz = gpd.GeoDataFrame(
        {
            "hazard_id": [f"H{k}" for k in range(n)],
            "threat_level": draw(st.lists(st.sampled_from(oracle.LEVELS), min_size=n, max_size=n)),
            "district": draw(st.lists(st.sampled_from("AB"), min_size=n, max_size=n)),
        },
        geometry=draw(st.lists(shapes(crs), min_size=n, max_size=n)),
        crs=crs,
    )
    rl = gpd.GeoDataFrame(
        {
            "release_id": [f"R{k}" for k in range(m)],
            "method": draw(st.lists(st.sampled_from(oracle.METHODS), min_size=m, max_size=m)),
            "release_date": [
                f"2022-{mo:02d}-01"
                for mo in draw(st.lists(st.integers(1, 12), min_size=m, max_size=m))
            ],
        },
        geometry=draw(st.lists(shapes(crs), min_size=m, max_size=m)),
        crs=crs,
    )
    if m and draw(st.booleans()):
        # releases delivered in the other CRS (vertices transformed; edges straight there)
        rl = rl.to_crs(4326 if crs == 32638 else 32638)
    return hz, (rl if m else None)


def _summary(hz, rl, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        return minemap.land_release_summary(hz, rl, **kwargs)


def _check_invariants(table):
    assert table["percent_cleared"].between(0.0, 100.0).all()
    assert table["percent_released"].between(0.0, 100.0).all()
    assert (table["percent_cleared"] <= table["percent_released"] + 1e-9).all()
    assert np.allclose(
        table["remaining_ha"], table["hazard_ha"] - table["released_ha"], rtol=0, atol=1e-9
    )
    assert (table["remaining_ha"] >= 0.0).all()
    assert (table["released_ha"] <= table["hazard_ha"] + 1e-9).all()
    for column in ("hazard_ha", "cleared_ha", "reduced_ha", "cancelled_ha", "released_ha"):
        assert (table[column] >= 0.0).all()


@SETTINGS
@given(layouts())
def test_summary_invariants(layout):
    hz, rl = layout
    table = _summary(hz, rl)
    _check_invariants(table)
    rows = table.set_index("threat_level")
    levels = rows.loc[list(oracle.LEVELS)]
    for column in (
        "hazard_ha",
        "cleared_ha",
        "reduced_ha",
        "cancelled_ha",
        "released_ha",
        "remaining_ha",
    ):
        assert levels[column].sum() == pytest.approx(rows.loc["total", column], rel=1e-9, abs=1e-9)
    # overlaps count once: the union is never more than the sum of the parts
    individual = minemap.area_ha(hz.geometry).sum()
    assert rows.loc["total", "hazard_ha"] <= individual * (1 + 1e-9)
    expected = oracle.summary_of_layers(hz, rl)
    assert rows.loc["total", "hazard_ha"] == pytest.approx(
        expected["total"]["hazard_ha"], rel=REL, abs=ABS
    )
    if rl is not None:
        # every released place is counted once: inside hazards, or outside them
        inside_plus_outside = (
            rows.loc["total", "released_ha"] + table.attrs["released_outside_hazards_ha"]
        )
        assert inside_plus_outside == pytest.approx(expected["release_union"], rel=REL, abs=ABS)
        assert rows.loc["total", "released_ha"] == pytest.approx(
            expected["total"]["released_ha"], rel=REL, abs=ABS
        )
        assert rows.loc["total", "cleared_ha"] == pytest.approx(
            expected["total"]["cleared_ha"], rel=REL, abs=ABS
        )


@settings(SETTINGS, max_examples=20)
@given(layouts(), st.integers(1, 12))
def test_grouping_and_as_of_invariants(layout, month):
    hz, rl = layout
    as_of = f"2022-{month:02d}-01"
    grouped = _summary(hz, rl, by="district", as_of=as_of)
    _check_invariants(grouped)
    plain = _summary(hz, rl, as_of=as_of)
    totals = grouped[(grouped["threat_level"] == "total") & (grouped["district"] != "all")]
    for column in ("hazard_ha", "released_ha", "cleared_ha"):
        assert totals[column].sum() == pytest.approx(plain[column].iloc[-1], rel=1e-9, abs=1e-9)
        assert grouped[column].iloc[-1] == pytest.approx(plain[column].iloc[-1], rel=1e-9, abs=1e-9)
    # later as_of never releases less
    later = _summary(hz, rl)
    assert later["released_ha"].iloc[-1] >= plain["released_ha"].iloc[-1] - ABS
