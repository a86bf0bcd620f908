"""Tests of the large-data path of minemap.maps: merged layers' rings, their compact
encoding and levels of detail (the page draws them on canvas tiles; see test_maps_browser)."""

from __future__ import annotations

import json
import re

import geopandas as gpd
import numpy as np
import shapely

from minemap import maps
from minemap.maps import _geometry as _geo
from minemap.maps import _html

LON, LAT = 67.0, 34.5


def _blob(lon: float, lat: float, radius_deg: float, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = (np.arange(n) + rng.uniform(0.1, 0.9, n)) * 2 * np.pi / n
    r = radius_deg * (1 + 0.2 * np.cos(3 * t + seed))
    return np.column_stack([lon + r * np.cos(t) / np.cos(np.radians(lat)), lat + r * np.sin(t)])


def blob_hazards(n: int = 60, seed: int = 0) -> gpd.GeoDataFrame:
    """Small and large blobs, one with a hole, one multipolygon; threat levels cycle."""
    rng = np.random.default_rng(seed)
    geoms = []
    for k in range(n):
        lon, lat = LON + rng.uniform(0, 0.3), LAT + rng.uniform(0, 0.2)
        radius = 0.03 if k % 20 == 0 else rng.uniform(0.0005, 0.003)
        geoms.append(shapely.Polygon(_blob(lon, lat, radius, 80 if radius > 0.01 else 16, k)))
    geoms[1] = shapely.Polygon(_blob(LON, LAT, 0.004, 24, 1), [_blob(LON, LAT, 0.001, 10, 2)[::-1]])
    geoms[2] = shapely.MultiPolygon(
        [
            shapely.Polygon(_blob(LON + 0.4, LAT, 0.002, 16, 3)),
            shapely.Polygon(_blob(LON + 0.45, LAT, 0.002, 16, 4)),
        ]
    )
    return gpd.GeoDataFrame(
        {
            "hazard_id": [f"B{k}" for k in range(n)],
            "threat_level": [("high", "medium", "low")[k % 3] for k in range(n)],
        },
        geometry=geoms,
        crs=4326,
    )


def _decode_rings(encoded: dict, decimals: int = _geo.MERGED_DECIMALS) -> list[np.ndarray]:
    points = np.array(_geo.decode(encoded["v"], decimals)).reshape(-1, 2)[:, ::-1]
    counts = _geo.decode_unsigned(encoded["c"])
    cuts = np.r_[0, np.cumsum(counts)]
    assert cuts[-1] == len(points)
    return [points[cuts[k] : cuts[k + 1]] for k in range(len(counts))]


def test_rings_round_trip_holes_and_parts():
    hazards = blob_hazards()
    geoms = np.asarray(hazards.geometry.array, dtype=object)
    rings = _geo.polygon_rings(geoms)
    n_rings = int(
        shapely.get_num_interior_rings(shapely.get_parts(geoms)).sum()
        + shapely.get_num_geometries(geoms).sum()
    )
    assert rings.counts.size == n_rings
    assert set(rings.owner.tolist()) == set(range(len(hazards)))
    encoded = _geo.encode_rings(rings)
    assert not set(encoded["v"] + encoded["c"]) - {chr(c) for c in range(63, 127)}
    decoded = _decode_rings(encoded)
    expected = rings.take(_geo.spatial_order(rings))
    cuts = expected.offsets
    for k, ring in enumerate(decoded):
        assert np.allclose(ring * 1e4, expected.xy[cuts[k] : cuts[k + 1]], atol=1e-6)
    # every original vertex is within rounding of the decoded rings (no thinning asked)
    original = np.vstack(
        [
            shapely.get_coordinates(ring)[:-1]  # closing vertices dropped
            for ring in shapely.get_rings(shapely.get_parts(geoms))
        ]
    )
    got = np.vstack(decoded)
    assert np.abs(np.sort(got, axis=0) - np.sort(np.round(original, 4), axis=0)).max() < 1e-9


def test_rings_select_and_replace():
    geoms = np.asarray(blob_hazards(9).geometry.array, dtype=object)
    rings = _geo.polygon_rings(geoms)
    mask = np.zeros(9, dtype=bool)
    mask[[0, 4, 8]] = True
    chosen = rings.select(mask)
    assert set(chosen.owner.tolist()) == {0, 4, 8}
    assert chosen.xy.shape[0] == chosen.counts.sum()
    other = _geo.polygon_rings(np.array([shapely.box(LON, LAT, LON + 0.01, LAT + 0.01)]))
    swapped = rings.replace(np.array([4]), other)
    assert (np.diff(swapped.owner) >= 0).all()
    four = swapped.select(np.arange(9) == 4)
    assert four.counts.tolist() == [4]
    assert (
        swapped.select(np.arange(9) != 4).xy.tolist() == rings.select(np.arange(9) != 4).xy.tolist()
    )


def test_levels_of_detail_hold_only_big_rings_thinned_within_tolerance():
    hazards = blob_hazards()
    tolerance = 20 / _geo.METRES_PER_DEGREE
    rings = _geo.polygon_rings(
        np.asarray(hazards.geometry.array, dtype=object), tolerance=tolerance
    )
    encoded = _geo.encode_rings(rings, tolerance)
    fine = _decode_rings(encoded)
    assert encoded["l"], "the large blobs need a coarser level"
    previous = 0.0
    for level in encoded["l"]:
        assert level["t"] > previous
        previous = level["t"]
        index = np.cumsum(_geo.decode_unsigned(level["i"]))
        coarse = _decode_rings(level)
        assert len(index) == len(coarse) and len(set(index.tolist())) == len(index)
        for k, ring in zip(index.tolist(), coarse, strict=True):
            base = fine[k]
            span = (base.max(axis=0) - base.min(axis=0)).max()
            assert span >= 4 * level["t"]
            assert 3 <= len(ring) < len(base)
            distance = shapely.hausdorff_distance(
                shapely.LinearRing(ring), shapely.LinearRing(base)
            )
            assert distance <= level["t"] + 2e-4
    # a ring too small for a level is not in it
    small = [
        k
        for k, ring in enumerate(fine)
        if (ring.max(axis=0) - ring.min(axis=0)).max() < 4 * encoded["l"][0]["t"]
    ]
    first = set(np.cumsum(_geo.decode_unsigned(encoded["l"][0]["i"])).tolist())
    assert small and not first & set(small)


def test_encoding_is_compact_and_deterministic():
    hazards = blob_hazards(200, seed=5)
    geoms = np.asarray(hazards.geometry.array, dtype=object)
    tolerance = 20 / _geo.METRES_PER_DEGREE
    rings = _geo.polygon_rings(geoms, tolerance=tolerance)
    first = _geo.encode_rings(rings, tolerance)
    assert first == _geo.encode_rings(_geo.polygon_rings(geoms, tolerance=tolerance), tolerance)
    old = ",".join(_geo.encode_polygons(geoms, _geo.MERGED_DECIMALS, tolerance=tolerance))
    assert len(first["v"]) + len(first["c"]) < 0.9 * len(old)


def _blocks(page: str) -> dict[str, dict]:
    found = {}
    for match in re.finditer(r"minemap\.addLayer\(\w+, \w+, (\{.*?\})\);\n", page):
        data = json.loads(match.group(1))
        found[data["n"]] = data
    return found


def test_merged_layers_use_canvas_encoding_and_stay_offline_and_deterministic():
    hazards = blob_hazards(120)
    first = maps.map_html(maps.hazard_map(hazards, tiles=None, feature_budget=10), offline=True)
    second = maps.map_html(maps.hazard_map(hazards, tiles=None, feature_budget=10), offline=True)
    assert first == second
    assert "//" not in first and "http://" not in first and "https://" not in first
    blocks = _blocks(first)
    for name in ("hazard-high", "hazard-medium", "hazard-low", "remaining"):
        block = blocks[name]
        assert block["t"] == "merged" and set(block["g"]) == {"v", "c", "l"}
        assert len(block["f"]) == 1 and block["f"][0][0] is None
    rows = dict(blocks["hazard-high"]["f"][0][1])
    assert rows["Hazard areas"] == "40"
    # below the budget nothing changes: one shape and one tooltip per feature
    small = _blocks(maps.map_html(maps.hazard_map(hazards, tiles=None), offline=True))
    assert small["hazard-high"]["t"] == "polygon" and len(small["hazard-high"]["f"]) == 40


def test_canvas_runtime_follows_the_page_rules():
    js = _html.CANVAS_JS
    assert "`" not in js and "innerHTML" not in js and "//" not in js
    assert not re.search(r"\{[{%#]", js)
    assert "textContent" not in js  # tooltips are built by the runtime's tip() (textContent)
    assert "state.tip" in js and "state.tip = tip;" in _html.RUNTIME_JS
