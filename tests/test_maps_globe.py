"""Maps of data spread round the globe: the public grid by region and the static map in a
world projection, against independent computations (geodesic areas, projected points)."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely
from shapely import box
from test_maps_antimeridian import _drawn, _longest_edge
from test_maps_interactive import _data_blocks

from minemap import crs as _crs
from minemap import maps
from minemap._errors import DataWarning
from minemap.settings import THREAT_LEVELS
from minemap.stats import land_release_summary

GEOD = pyproj.Geod(ellps="WGS84")
WGS84 = pyproj.CRS.from_epsg(4326)
#: Cluster centres: 0°, 90°E, 90°W, across 180°, on a region's edge (15°E) and near a pole.
CENTRES = ((0.0, 0.0), (90.0, 10.0), (-90.0, -10.0), (180.0, 50.0), (15.0, 45.0), (30.0, 80.0))


def _cluster(lon: float, lat: float, k: int) -> tuple[list, list, list, list]:
    """Overlapping hazards (a high box over a medium one, a low one beside) and a release,
    written continuously round ``lon`` (past 180° near it)."""
    d = 0.02 / max(np.cos(np.radians(lat)), 0.2)
    hazards = [
        box(lon - 3 * d, lat - 0.03, lon + 2 * d, lat + 0.02),
        box(lon - d, lat - 0.01, lon + 4 * d, lat + 0.04),
        box(lon + 5 * d, lat - 0.05, lon + 7 * d, lat - 0.01),
    ]
    levels = ["medium", "high", "low"]
    ids = [f"H{k}{c}" for c in "abc"]
    release = box(lon - 2 * d, lat - 0.02, lon + d, lat + 0.01)
    return hazards, levels, ids, [release]


def _layers() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    parts = [_cluster(lon, lat, k) for k, (lon, lat) in enumerate(CENTRES)]
    hazards = gpd.GeoDataFrame(
        {
            "hazard_id": [i for p in parts for i in p[2]],
            "threat_level": [t for p in parts for t in p[1]],
        },
        geometry=[g for p in parts for g in p[0]],
        crs=4326,
    )
    rel = [g for p in parts for g in p[3]]
    releases = gpd.GeoDataFrame(
        {
            "release_id": [f"R{k}" for k in range(len(rel))],
            "method": ["cleared"] * len(rel),
            "release_date": ["2022-01-01"] * len(rel),
        },
        geometry=rel,
        crs=4326,
    )
    return hazards, releases


def _canonical(geoms) -> np.ndarray:
    return _crs.canonical_lonlat(np.asarray(geoms, dtype=object), WGS84)


def geodesic_ha(geom) -> float:
    """Geodesic area of a lon/lat polygon, its straight edges densified first."""
    if geom.is_empty:
        return 0.0
    dense = shapely.orient_polygons(shapely.segmentize(geom, 0.001))
    return abs(GEOD.geometry_area_perimeter(dense)[0]) / 1e4


@pytest.fixture(scope="module")
def public():
    hazards, releases = _layers()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        fmap = maps.hazard_map(hazards, releases, tiles=None, public_grid_m=2000)
    return hazards, releases, fmap, maps.map_html(fmap, offline=True)


def _by_level(hazards: gpd.GeoDataFrame) -> dict[str, shapely.Geometry]:
    """Each threat level's place: its hazards minus those of higher levels (lon/lat)."""
    out, above = {}, shapely.Polygon()
    for level in THREAT_LEVELS:
        mine = shapely.union_all(_canonical(hazards.geometry[hazards.threat_level == level]))
        out[level] = shapely.difference(mine, above)
        above = shapely.union(above, mine)
    return out


def test_public_grid_cells_hold_the_geodesic_area_of_their_hazards(public):
    hazards, releases, fmap, _ = public
    grid = fmap.minemap["grid"]
    assert len(grid) > 6 and grid.crs.equals(WGS84)
    places = _by_level(hazards)
    released = shapely.union_all(_canonical(releases.geometry))
    checked = 0
    for cell, row in zip(grid.geometry, grid.itertuples(), strict=True):
        for level, place in places.items():
            want = geodesic_ha(shapely.intersection(place, cell))
            assert getattr(row, f"{level}_ha") == pytest.approx(want, rel=1e-4, abs=1e-6)
            checked += want > 0
        hazard = shapely.intersection(shapely.union_all(list(places.values())), cell)
        want = geodesic_ha(shapely.difference(hazard, released))
        assert row.remaining_ha == pytest.approx(want, rel=1e-4, abs=1e-6)
    assert checked >= 3 * len(CENTRES)


def test_public_grid_totals_are_the_summary(public):
    hazards, releases, fmap, _ = public
    grid = fmap.minemap["grid"]
    with warnings.catch_warnings():  # a few m² of release "outside": parts measured apart
        warnings.simplefilter("ignore", DataWarning)
        table = land_release_summary(hazards, releases).set_index("threat_level")
    for level in THREAT_LEVELS:
        assert grid[f"{level}_ha"].sum() == pytest.approx(table.loc[level, "hazard_ha"], rel=1e-6)
    assert grid.remaining_ha.sum() == pytest.approx(table.loc["total", "remaining_ha"], rel=1e-6)
    assert grid.released_ha.sum() == pytest.approx(table.loc["total", "released_ha"], rel=1e-6)


def test_public_grid_page_has_cells_only_drawn_where_they_are(public):
    hazards, _, fmap, page = public
    blocks = _data_blocks(page)
    assert {n for n in blocks if n.startswith("grid-")} == {"grid-high", "grid-medium", "grid-low"}
    assert not {"hazard-high", "released-cleared", "remaining"} & set(blocks)
    for hazard_id in hazards.hazard_id:
        assert f'"{hazard_id}"' not in page and f">{hazard_id}<" not in page
    vertices = {
        (round(x, 5) % 360.0, round(y, 5)) for x, y in shapely.get_coordinates(hazards.geometry)
    }
    drawn = [run for name, runs in _drawn(page).items() if name.startswith("grid-") for run in runs]
    grid = fmap.minemap["grid"]
    assert len(drawn) == len(grid)  # one ring per cell: a cell cut at 180° is drawn whole
    for run in drawn:
        assert np.isfinite(run).all()
        assert not {(round(x, 5) % 360.0, round(y, 5)) for x, y in run} & vertices
        assert _longest_edge(run, True) < 0.2  # no edge round the world
    # every cell is drawn where it is (a cell across 180° on one side of it)
    centres = np.array([run.mean(axis=0) for run in drawn])
    want = shapely.get_coordinates(shapely.centroid(grid.geometry))
    for lon, lat in want:
        gap = np.hypot((centres[:, 0] - lon + 180.0) % 360.0 - 180.0, centres[:, 1] - lat)
        assert gap.min() < 0.05
    # cells either side of 180° meet there, drawn on one side of it: no gap round the world
    pacific = np.vstack([run for run in drawn if abs(run[:, 1].mean() - 50.0) < 1.0])
    assert np.ptp(pacific[:, 0]) < 1.0
    assert (np.abs(pacific[:, 0] % 360.0 - 180.0) < 1e-9).any()


def test_public_grid_tooltips_are_the_cell_figures(public):
    _, _, fmap, page = public
    grid = fmap.minemap["grid"]
    shown = sorted(
        float(dict(f[1])["High threat"].split()[0].replace(",", ""))
        for name, b in _data_blocks(page).items()
        if name.startswith("grid-")
        for f in b[0]["f"]
    )
    assert shown == sorted(round(v, 2) for v in grid.high_ha)


def test_public_grid_round_the_globe_keeps_the_cell_budget():
    from minemap._errors import SchemaError

    hazards, releases = _layers()
    with pytest.raises(SchemaError, match=r"public_grid_m=20 over \d+ regions of the globe"):
        maps.hazard_map(hazards, releases, tiles=None, public_grid_m=20)


def test_public_grid_with_the_shared_frames_antipode_on_a_cluster():
    """The scene whose public grid used to be refused: the shared frame's antipode on the
    cluster at 180°, hazards cut along ±180°."""
    from test_priority_globe import AT_ANTIPODE, scene

    hazards, releases, _ = scene(AT_ANTIPODE, cut=True)
    fmap = maps.hazard_map(hazards, releases, tiles=None, public_grid_m=50_000)
    grid, table = fmap.minemap["grid"], fmap.minemap["summary"].set_index("threat_level")
    assert grid.released_ha.sum() == pytest.approx(table.loc["total", "released_ha"], rel=1e-6)
    for level in THREAT_LEVELS:
        assert grid[f"{level}_ha"].sum() == pytest.approx(table.loc[level, "hazard_ha"], rel=1e-6)


# ------------------------------------------------------------------------- static world map
def _plot(hazards, releases):
    from minemap.maps import plot_map

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        return plot_map(hazards, releases)


def _polygons(ax) -> list[tuple[str, np.ndarray]]:
    """(fill colour, vertices) of every drawn polygon ring with a fill."""
    from matplotlib.collections import PatchCollection
    from matplotlib.colors import to_hex

    out = []
    for coll in ax.collections:
        if not isinstance(coll, PatchCollection) or not len(coll.get_facecolor()):
            continue
        colour = to_hex(coll.get_facecolor()[0]).upper()
        out.extend((colour, path.vertices) for path in coll.get_paths())
    return out


def _world_check(hazards, fig) -> tuple[pyproj.Transformer, list]:
    """Every threat level's place is drawn in its colour where it is; no drawn vertex is
    anywhere else; nothing is NaN or beyond the world. Returns the view's transformer."""
    from minemap.settings import THREAT_COLOURS

    ax = fig.axes[0]
    crs = ax.minemap["crs"]
    assert crs.coordinate_operation.method_name == "Equal Earth"
    to_view = pyproj.Transformer.from_crs(WGS84, crs, always_xy=True)
    drawn = _polygons(ax)
    half_width = pyproj.Transformer.from_crs(WGS84, "+proj=eqearth", always_xy=True).transform(
        180.0, 0.0
    )[0]
    for lim in (*ax.get_xlim(), *ax.get_ylim()):
        assert np.isfinite(lim) and abs(lim) < 1.1 * half_width
    for _, vertices in drawn:
        assert np.isfinite(vertices).all()
    # drawn shapes are simplified by up to a 3000th of the view (far below a line's width)
    tolerance = max(np.ptp(ax.get_xlim()), np.ptp(ax.get_ylim())) / 3000.0
    for level, place in _by_level(hazards).items():
        mine = shapely.union_all(
            [shapely.Polygon(v) for c, v in drawn if c == THREAT_COLOURS[level].upper()]
        )
        for part in shapely.get_parts(place):
            point = shapely.point_on_surface(part)
            x, y = to_view.transform(point.x, point.y)
            assert shapely.distance(mine, shapely.Point(x, y)) <= tolerance, (level, point)
    hazard_ll = shapely.union_all(_canonical(hazards.geometry))
    to_lonlat = pyproj.Transformer.from_crs(crs, WGS84, always_xy=True)
    for colour, vertices in drawn:
        if colour in {c.upper() for c in THREAT_COLOURS.values()}:
            lon, lat = to_lonlat.transform(vertices[:, 0], vertices[:, 1])
            away = shapely.distance(shapely.points(lon, lat), hazard_ll)
            assert away.max() < 1e-6, colour
            # and so is each edge: none runs across the map between two far places
            middle = (vertices[1:] + vertices[:-1]) / 2.0
            lon, lat = to_lonlat.transform(middle[:, 0], middle[:, 1])
            assert shapely.distance(shapely.points(lon, lat), hazard_ll).max() < 0.2, colour
    return to_view, drawn


def test_static_map_round_the_globe_draws_every_hazard_where_it_is():
    hazards, releases = _layers()
    fig = _plot(hazards, releases)
    to_view, drawn = _world_check(hazards, fig)
    ax = fig.axes[0]
    assert any("Equal Earth" in t.get_text() for t in ax.texts)
    assert "N" not in [t.get_text() for t in ax.texts]  # no north arrow on a world map
    # the cluster across 180° is drawn in one place, not at both edges of the map
    x180, _ = to_view.transform(180.0, 50.0)
    near = [v for _, v in drawn if abs(v[:, 1].mean() - to_view.transform(180.0, 50.0)[1]) < 5e4]
    assert near and np.ptp(np.vstack(near)[:, 0]) < 100_000


def test_static_map_cuts_what_crosses_its_edge():
    """A ring of hazard round the globe crosses the map's edge: it is cut there and drawn
    from edge to edge, every other hazard still where it is."""
    hazards, releases = _layers()
    ring = gpd.GeoDataFrame(
        {"hazard_id": ["ring"], "threat_level": ["low"]},
        geometry=[box(-180.0, -40.0, 180.0, -39.5)],
        crs=4326,
    )
    hazards = gpd.GeoDataFrame(
        {
            "hazard_id": [*hazards.hazard_id, "ring"],
            "threat_level": [*hazards.threat_level, "low"],
        },
        geometry=[*hazards.geometry, *ring.geometry],
        crs=4326,
    )
    fig = _plot(hazards, releases)
    to_view, drawn = _world_check(hazards, fig)
    eqearth = pyproj.Transformer.from_crs(WGS84, "+proj=eqearth", always_xy=True)
    edge, _ = eqearth.transform(180.0, -39.5)  # the map's edge where the ring is widest
    xs = np.concatenate([v[:, 0] for _, v in drawn])
    assert xs.max() == pytest.approx(abs(edge), rel=1e-6)
    assert xs.min() == pytest.approx(-abs(edge), rel=1e-6)
