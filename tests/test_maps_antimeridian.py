"""Maps of data across the antimeridian: no edge round the world, a view around 180°."""

from __future__ import annotations

import re
import warnings

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely import box
from test_maps_interactive import _data_blocks

from minemap import maps
from minemap._errors import DataWarning
from minemap.maps import _geometry as _geo

FIJI = -17.0  # latitude of the Fiji cases
CHUKOTKA = 65.5


def _lonlat_layers(lat: float) -> dict[str, gpd.GeoDataFrame]:
    """Every kind of layer, each with a feature across 180° (split at ±180 in lon/lat)."""

    def across(x0: float, x1: float, y0: float, y1: float):
        return shapely.MultiPolygon([box(x0, y0, 180.0, y1), box(-180.0, y0, x1 - 360.0, y1)])

    d = 0.05
    hazards = gpd.GeoDataFrame(
        {"hazard_id": ["H0", "H1", "H2", "H3"], "threat_level": ["high", "medium", "low", "high"]},
        geometry=[
            across(179.9, 180.1, lat, lat + d),
            box(-179.95, lat + 2 * d, -179.8, lat + 3 * d),
            box(179.7, lat - 2 * d, 179.8, lat - d),
            across(179.95, 180.2, lat - d, lat),
        ],
        crs=4326,
    )
    releases = gpd.GeoDataFrame(
        {
            "release_id": ["R0", "R1"],
            "method": ["cleared", "reduced"],
            "release_date": ["2021-01-02", "2022-03-04"],
        },
        geometry=[
            across(179.95, 180.05, lat, lat + d / 2),
            box(-179.9, lat + 2 * d, -179.85, lat + 3 * d),
        ],
        crs=4326,
    )
    priority = gpd.GeoDataFrame(
        {"hazard_id": ["H0"]}, geometry=[across(179.98, 180.08, lat + d / 2, lat + d)], crs=4326
    )
    roads = gpd.GeoDataFrame(
        {"road_id": ["A1"]},
        geometry=[
            shapely.MultiLineString(
                [
                    [(179.6, lat - 3 * d), (180.0, lat - 3 * d)],
                    [(-180.0, lat - 3 * d), (-179.7, lat - 3 * d)],
                ]
            )
        ],
        crs=4326,
    )
    infrastructure = gpd.GeoDataFrame(
        {"kind": ["school", "clinic"]},
        geometry=[shapely.Point(179.95, lat - 4 * d), shapely.Point(-179.95, lat - 4 * d)],
        crs=4326,
    )
    residential = gpd.GeoDataFrame(
        {"name": ["Village"]},
        geometry=[across(179.97, 180.03, lat - 5 * d, lat - 4.5 * d)],
        crs=4326,
    )
    districts = gpd.GeoDataFrame(
        {"district": ["East"]}, geometry=[across(179.5, 180.5, lat - 6 * d, lat + 4 * d)], crs=4326
    )
    return {
        "hazards": hazards,
        "releases": releases,
        "priority": priority,
        "roads": roads,
        "infrastructure": infrastructure,
        "residential": residential,
        "districts": districts,
    }


def _in(layers: dict[str, gpd.GeoDataFrame], crs: int) -> dict[str, gpd.GeoDataFrame]:
    """The layers in ``crs``; parts split at ±180 meet there, so they are joined."""
    if crs == 4326:
        return layers
    out = {}
    for kind, layer in layers.items():
        moved = layer.to_crs(crs)
        if kind not in ("roads", "infrastructure"):
            moved = moved.set_geometry(
                [shapely.union_all(shapely.get_parts(g)) for g in moved.geometry], crs=crs
            )
        out[kind] = moved
    return out


def _map(layers: dict[str, gpd.GeoDataFrame], **kwargs) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        fmap = maps.hazard_map(
            layers["hazards"],
            layers["releases"],
            tiles=None,
            **{k: v for k, v in layers.items() if k not in ("hazards", "releases")},
            **kwargs,
        )
    return maps.map_html(fmap, offline=True)


def _fitted(page: str) -> tuple[float, float, float, float]:
    """(south, west, north, east) of the view the page fits."""
    match = re.search(r'"bounds":\[\[([-\d.e]+),([-\d.e]+)\],\[([-\d.e]+),([-\d.e]+)\]\]', page)
    assert match, "no fitted bounds in the page"
    return tuple(float(v) for v in match.groups())  # type: ignore[return-value]


def _drawn(page: str) -> dict[str, list[np.ndarray]]:
    """Every drawn ring, line or point set of every layer as (lon, lat) arrays."""
    out: dict[str, list[np.ndarray]] = {}
    for name, blocks in _data_blocks(page).items():
        for block in blocks:
            decimals = round(np.log10(block.get("q", 1e5)))
            if block["t"] == "merged":  # canvas rings: all levels of detail must hold too
                for encoded in (block["g"], *block["g"]["l"]):
                    points = np.array(_geo.decode(encoded["v"], _geo.MERGED_DECIMALS))
                    cuts = np.r_[0, np.cumsum(_geo.decode_unsigned(encoded["c"]))]
                    for k in range(len(cuts) - 1):
                        out.setdefault(name, []).append(points[cuts[k] : cuts[k + 1]][:, ::-1])
                continue
            for feature in block["f"]:
                if block["t"] == "point":
                    runs = [np.array(feature[0], dtype=float)]
                elif block["t"] == "line":
                    runs = [np.array(_geo.decode(c, decimals)) for c in feature[0].split(",")]
                else:
                    runs = [
                        np.array(_geo.decode(r, decimals))
                        for polygon in feature[0].split(",")
                        for r in polygon.split(" ")
                    ]
                for run in runs:
                    out.setdefault(name, []).append(run[:, ::-1])
    return out


def _longest_edge(run: np.ndarray, closed: bool) -> float:
    x = run[:, 0]
    if closed:
        x = np.r_[x, x[:1]]
    return float(np.abs(np.diff(x)).max()) if x.size > 1 else 0.0


LAYERS = {
    "hazard-high",
    "hazard-medium",
    "hazard-low",
    "released-cleared",
    "released-reduced",
    "remaining",
    "priority",
    "roads",
    "infrastructure",
    "residential",
    "districts",
}


@pytest.mark.parametrize(
    ("lat", "crs", "budget"),
    [
        (FIJI, 4326, 10_000),
        (FIJI, 3832, 10_000),
        (FIJI, 32760, 10_000),
        (CHUKOTKA, 4326, 10_000),
        (CHUKOTKA, 32660, 10_000),
        (FIJI, 3832, 1),
        (CHUKOTKA, 4326, 1),  # layers drawn merged
    ],
)
def test_every_layer_draws_on_one_side_of_180(lat, crs, budget):
    page = _map(_in(_lonlat_layers(lat), crs), feature_budget=budget)
    drawn = _drawn(page)
    assert set(drawn) == LAYERS
    for name, runs in drawn.items():
        closed = name not in ("roads", "infrastructure")
        for run in runs:
            assert _longest_edge(run, closed) <= 1.0 + 1e-9, name  # no edge round the world
            assert (run[:, 0] > 179.0).all() and (run[:, 0] < 181.0).all(), name
    south, west, north, east = _fitted(page)
    assert 179.4 < west < 180.0 < east < 180.6
    assert north - south < 1.0


def test_public_grid_across_180():
    layers = _in(_lonlat_layers(FIJI), 3832)
    page = _map({"hazards": layers["hazards"], "releases": layers["releases"]}, public_grid_m=2000)
    drawn = _drawn(page)
    assert drawn and all(k.startswith("grid-") for k in drawn)
    for runs in drawn.values():
        for run in runs:
            assert _longest_edge(run, True) < 1.0
            assert (run[:, 0] > 179.0).all() and (run[:, 0] < 181.0).all()
    south, west, north, east = _fitted(page)
    assert 179.0 < west < 180.0 < east < 181.0


def test_data_away_from_180_keeps_its_longitudes():
    from test_maps_interactive import _hazards

    page = _map({"hazards": _hazards(), "releases": None})
    hazards = _hazards()
    drawn = np.vstack(_drawn(page)["hazard-high"])
    assert drawn[:, 0].min() == pytest.approx(hazards.total_bounds[0], abs=1e-5)
    south, west, north, east = _fitted(page)
    assert west == pytest.approx(hazards.total_bounds[0], abs=1e-4)


def test_central_longitude_and_wrap():
    boxes = np.array([box(179.0, 0, 179.5, 1), box(-179.5, 0, -179.0, 1)])
    assert _geo.central_longitude(boxes) == pytest.approx(180.0)
    assert _geo.central_longitude(np.array([box(10, 0, 11, 1), box(20, 0, 21, 1)])) == 15.5
    assert _geo.central_longitude(np.array([box(-170, 0, -160, 1), box(170, 0, 175, 1)])) == 185
    assert _geo.central_longitude(np.array([box(-180.2, 0, -179.7, 1)])) == pytest.approx(180.05)
    assert _geo.central_longitude(np.array([box(-179, 0, -178, 1)])) == -178.5
    assert _geo.central_longitude(np.array([], dtype=object)) == 0.0
    wrapped = _geo.wrap_longitudes(boxes, 180.0)
    assert shapely.total_bounds(wrapped).tolist() == [179.0, 0.0, 181.0, 1.0]
    assert _geo.wrap_longitudes(boxes, 0.0) is boxes  # nothing to move: no copy
    line = np.array([shapely.LineString([(179.9, 0), (-179.9, 0)])])
    assert shapely.get_coordinates(_geo.wrap_longitudes(line, -10.0))[:, 0].round(6).tolist() == [
        -180.1,
        -179.9,
    ]
    assert shapely.get_coordinates(_geo.wrap_longitudes(line, 170.0))[:, 0].round(6).tolist() == [
        179.9,
        180.1,
    ]
