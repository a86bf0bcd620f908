"""The public grid: hazard hectares per square cell, and no vertex of any hazard.

Cells are squares of side ``cell_m`` in an equal-area (LAEA) frame, aligned on the frame's
origin (not on the data), so the grid says nothing about where the data's edges are. A cell's
figures are the true area of the hazard pieces (by threat level) and of the remaining pieces
inside it, measured in that frame; the pieces are the summary's own, so the cells of a threat
level sum to its ``hazard_ha``.

Ordinary data is gridded in the summary's shared frame. Data spread round the globe (hazards
the shared frame cannot hold, :attr:`minemap.maps._data.Figures.held`) is gridded by region,
never near a frame's antipode: the Earth is cut into fixed regions (:func:`region_boxes`),
each hazard piece is cut along the regions' edges in longitude/latitude, and each region's
parts are gridded in an LAEA frame centred on the region. Its cells are clipped to the
region, so no two regions' cells overlap; a cell on a region's edge is a partial square.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import TypeAlias

import geopandas as gpd
import numpy as np
import pyproj
import shapely

from minemap import crs as _crs
from minemap._errors import SchemaError, option_hint
from minemap._overlay import intersection_pieces, pairwise_intersection_area, polygonal_parts
from minemap.maps import _geometry as _geo
from minemap.maps._data import Figures
from minemap.settings import RELEASED_HA, REMAINING_HA, THREAT_LEVELS

#: A public grid map has at most this many cells (each is an overlay and a drawn square).
MAX_GRID_CELLS = 250_000
#: Regions of data spread round the globe are this many degrees of longitude and latitude,
#: centred on multiples of it (0°, ±90° and 180° are centres, not edges).
REGION_DEGREES = 30.0
#: Beyond this latitude a region is a polar cap, in a frame centred on the pole.
CAP_LATITUDE = 75.0
#: Columns of :attr:`Grid.table`: hectares of each threat level, remaining and released.
LEVEL_HA = {level: f"{level}_ha" for level in THREAT_LEVELS}

_WGS84 = pyproj.CRS.from_epsg(4326)
#: Mean radius of the Earth (metres), for the display step of cell edges.
_EARTH_RADIUS_M = 6_371_008.8


@dataclass(frozen=True)
class Region:
    """Hazard parts gridded in one equal-area frame.

    ``pieces`` and ``remaining`` are in ``crs``: the frame itself for data it holds, or
    longitude/latitude, cut to the region's box ``clip``, for data spread round the globe;
    ``level`` is the threat-level index of each piece.
    """

    frame: pyproj.CRS
    crs: pyproj.CRS
    pieces: np.ndarray
    level: np.ndarray
    remaining: np.ndarray
    clip: shapely.Geometry | None = None

    @cached_property
    def in_frame(self) -> np.ndarray:
        """The pieces in the frame (densified): where the squares are laid."""
        if self.clip is None:
            return self.pieces
        return _crs.project_dense(self.pieces, self.crs, self.frame)


@dataclass(frozen=True)
class Grid:
    """The cells in use and their true area (m²) of each threat level and of remaining
    hazard.

    ``cells`` are squares of ``frame`` when the grid has one frame (data it holds), else
    longitude/latitude polygons (each square of its region's frame, densified, cut along
    ±180° and clipped to its region).
    """

    cells: np.ndarray
    frame: pyproj.CRS | None
    level_m2: np.ndarray  # (cells, threat levels)
    remaining_m2: np.ndarray

    def lonlat(self, step_m: float | None = None) -> np.ndarray:
        """The cells in longitude/latitude, edges densified in their frame at most
        ``step_m`` apart (by default :func:`fine_step_m`); squares of one frame across ±180°
        stay whole (their longitudes jump there, as display code expects)."""
        if self.frame is None:
            return self.cells
        size = float(np.sqrt(np.nanmax(shapely.area(self.cells), initial=0.0)))
        dense = _crs.densify(self.cells, step_m or fine_step_m(size))
        return _crs.project_dense(dense, self.frame, _WGS84)

    def display(self, tolerance_m: float) -> np.ndarray:
        """The cells as drawn: in longitude/latitude near the map's central longitude (see
        :func:`minemap.maps._geometry.centred_on`), their edges within about
        ``tolerance_m`` of their course, and a cell cut along ±180° drawn whole."""
        if self.frame is not None:
            return _geo.to_lonlat(self.lonlat(display_step_m(tolerance_m)), _WGS84)
        shown = _geo.to_lonlat(self.cells, _WGS84)
        split = np.flatnonzero(shapely.get_num_geometries(shown) > 1)
        for k in split:
            shown[k] = shapely.union_all(shapely.get_parts(shown[k]))
        return _geo.simplify(shown, _geo.native_tolerance(_WGS84, tolerance_m))

    @property
    def table(self) -> gpd.GeoDataFrame:
        """The cells in longitude/latitude (cut along ±180°) with their hectares."""
        geoms = _crs.canonical_lonlat(self.lonlat(), _WGS84, projected=True)
        hazard = self.level_m2.sum(axis=1)
        columns = {
            LEVEL_HA[level]: self.level_m2[:, k] / _crs.M2_PER_HA
            for k, level in enumerate(THREAT_LEVELS)
        }
        columns[REMAINING_HA] = self.remaining_m2 / _crs.M2_PER_HA
        columns[RELEASED_HA] = np.maximum(hazard - self.remaining_m2, 0.0) / _crs.M2_PER_HA
        return gpd.GeoDataFrame(columns, geometry=geoms, crs=_WGS84)


def fine_step_m(cell_m: float) -> float:
    """Longest edge (metres in the frame) of a cell taken to longitude/latitude to be
    measured or published: a fiftieth of the cell, at most
    :data:`minemap.crs.MAX_SEGMENT_METRES`, so that its chords stray from the square's
    straight edges by far less than a millimetre."""
    return min(_crs.MAX_SEGMENT_METRES, cell_m / 50.0)


def display_step_m(tolerance_m: float) -> float:
    """Longest drawn edge of a cell for a display tolerance in metres.

    A frame's straight line, drawn as chords of length ``s``, strays from its course by
    about ``s² / (8 R)`` on an Earth of radius ``R``; the step keeps that under the
    tolerance (and never under :data:`minemap.crs.MAX_SEGMENT_METRES`).
    """
    return max(_crs.MAX_SEGMENT_METRES, math.sqrt(8.0 * tolerance_m * _EARTH_RADIUS_M))


def region_boxes() -> Iterator[tuple[float, float, shapely.Polygon]]:
    """Every region: its centre (longitude, latitude) and its box in longitude/latitude.

    Bands of :data:`REGION_DEGREES` of latitude centred on 0°, ±30° and ±60°, cut into boxes
    of as many degrees of longitude centred on multiples of them (the box centred on 180°
    is written from 165° to 195°), and two polar caps beyond ±:data:`CAP_LATITUDE`.
    """
    half = REGION_DEGREES / 2.0
    yield 0.0, -90.0, shapely.box(-180.0, -90.0, 180.0, -CAP_LATITUDE)
    for lat in np.arange(-CAP_LATITUDE + half, CAP_LATITUDE, REGION_DEGREES):
        for lon in np.arange(-180.0 + REGION_DEGREES, 180.0 + 1e-9, REGION_DEGREES):
            yield (
                float(lon),
                float(lat),
                shapely.box(lon - half, lat - half, lon + half, lat + half),
            )
    yield 0.0, 90.0, shapely.box(-180.0, CAP_LATITUDE, 180.0, 90.0)


def _lonlat(geoms: np.ndarray, crs: pyproj.CRS) -> np.ndarray:
    """Geometries in longitude/latitude within [-180°, 180°] (densified on the way)."""
    return _crs.to_crs_dense(gpd.GeoSeries(geoms, crs=crs), _WGS84)


def _cut(geoms: np.ndarray, tree: shapely.STRtree, clip: shapely.Geometry) -> tuple:
    """The parts of ``geoms`` inside ``clip`` (lon/lat) with area, and whose they are."""
    index = tree.query(clip, predicate="intersects")
    parts = polygonal_parts(shapely.intersection(geoms[index], clip))
    keep = shapely.area(parts) > 0
    return parts[keep], index[keep]


def regions(figures: Figures) -> list[Region]:
    """The hazard pieces grouped into the frames they are gridded in.

    Data the shared frame holds is one region: that frame, the pieces in it. Otherwise the
    pieces and remaining pieces are taken to longitude/latitude and cut along the edges of
    :func:`region_boxes`, each region's in a frame centred on it.
    """
    level_of = {level: k for k, level in enumerate(THREAT_LEVELS)}
    level = np.array([level_of[v] for v in figures.piece_level], dtype=np.intp)
    if figures.held:
        frame = figures.frame
        return [Region(frame, frame, figures.pieces, level, figures.remaining)]
    pieces = _lonlat(figures.work, figures.work_crs)
    remaining = _lonlat(figures.remaining_work, figures.work_crs)
    piece_tree, remaining_tree = shapely.STRtree(pieces), shapely.STRtree(remaining)
    out = []
    for lon, lat, box in region_boxes():
        clip = _crs.canonical_lonlat(np.array([box], dtype=object), _WGS84)[0]
        parts, whose = _cut(pieces, piece_tree, clip)
        if parts.size:
            rest, _ = _cut(remaining, remaining_tree, clip)
            frame = _crs.laea_frame(lon, lat)
            out.append(Region(frame, _WGS84, parts, level[whose], rest, clip))
    return out


def _check_budget(found: list[Region], cell_m: float) -> None:
    """Refuse a grid of more than :data:`MAX_GRID_CELLS` cells before any overlay."""
    extents = []
    for region in found:
        live = region.in_frame[~shapely.is_empty(region.in_frame)]
        if live.size:
            xmin, ymin, xmax, ymax = shapely.total_bounds(live)
            extents.append((xmax - xmin, ymax - ymin))
    count = sum((math.floor(w / cell_m) + 2) * (math.floor(h / cell_m) + 2) for w, h in extents)
    if count <= MAX_GRID_CELLS:
        return
    smallest = math.sqrt(sum(w * h for w, h in extents) / MAX_GRID_CELLS)
    hint = option_hint("public_grid_m", f"{cell_m:g}")
    if len(extents) == 1:
        where = f"over {extents[0][0] / 1e3:,.1f} x {extents[0][1] / 1e3:,.1f} km"
    else:
        where = f"over {len(extents)} regions of the globe"
    raise SchemaError(
        f"{hint} {where} makes about {count:,} cells, more than {MAX_GRID_CELLS:,}; choose "
        f"cells of at least {math.ceil(smallest):,} m (a public map needs coarse cells anyway)."
    )


def _squares(region: Region, cell_m: float) -> np.ndarray:
    """The squares of the region's frame that its pieces may reach (a metre's margin: the
    densified pieces' chords may pass just inside a curved edge)."""
    live = region.in_frame[~shapely.is_empty(region.in_frame)]
    xmin, ymin, xmax, ymax = shapely.total_bounds(live)
    squares = _geo.square_grid((xmin - 1.0, ymin - 1.0, xmax + 1.0, ymax + 1.0), cell_m)
    if region.clip is None:
        return squares
    near = shapely.STRtree(squares).query(
        shapely.buffer(region.in_frame, 1.0, quad_segs=1), predicate="intersects"
    )
    return squares[np.unique(near[1])]


#: How a pair of polygon arrays is measured: ``(i, j, area)`` of every overlapping pair.
_Measure: TypeAlias = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]]


def _areas(region: Region, cells: np.ndarray, measure: _Measure) -> tuple[np.ndarray, np.ndarray]:
    """Area (m²) of each threat level and of remaining hazard in each cell."""
    i, j, area = measure(region.pieces, cells)
    per_level = np.zeros((cells.size, len(THREAT_LEVELS)))
    np.add.at(per_level, (j, region.level[i]), area)
    _, rj, rarea = measure(region.remaining, cells)
    remaining = np.zeros(cells.size)
    np.add.at(remaining, rj, rarea)
    return per_level, remaining


def _lonlat_area(left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`minemap._overlay.pairwise_intersection_area` for lon/lat polygons: the
    shared pieces measured as the summary measures (:func:`minemap.crs.area_m2`)."""
    i, j, pieces = intersection_pieces(left, right)
    area = _crs.area_m2(pieces, _WGS84)
    keep = area > 0
    return i[keep], j[keep], area[keep]


def _to_lonlat(squares: np.ndarray, frame: pyproj.CRS) -> np.ndarray:
    """Squares of a region's frame in longitude/latitude within [-180°, 180°].

    A band's squares lie within 30° of its centre: their longitudes are written
    continuously round it (a square whose edge is the 180° meridian gets 180°, not -180°,
    there), then cut into [-180°, 180°]. A polar cap's squares surround the pole: those
    across ±180° are cut there as any lon/lat geometry taken from another CRS is.
    """
    lonlat = _crs.project_dense(squares, frame, _WGS84)
    lon_0, lat_0 = _crs.frame_centre(frame)
    if abs(lat_0) == 90.0:
        return _crs.canonical_lonlat(lonlat, _WGS84, projected=True)

    def continuous(xy: np.ndarray) -> np.ndarray:
        return np.column_stack([lon_0 + (xy[:, 0] - lon_0 + 180.0) % 360.0 - 180.0, xy[:, 1]])

    return _crs.canonical_lonlat(shapely.transform(lonlat, continuous), _WGS84)


def _region_cells(region: Region, cell_m: float) -> tuple[np.ndarray, ...]:
    """A region's cells (lon/lat, clipped to it) with their areas (m²)."""
    squares = _squares(region, cell_m)
    if region.clip is None:
        per_level, remaining = _areas(region, squares, pairwise_intersection_area)
        used = np.flatnonzero(per_level.sum(axis=1) > 0)
        return squares[used], per_level[used], remaining[used]
    dense = _crs.densify(squares, fine_step_m(cell_m))
    cells = _to_lonlat(dense, region.frame)
    cells = polygonal_parts(shapely.intersection(cells, region.clip))
    per_level, remaining = _areas(region, cells, _lonlat_area)
    used = np.flatnonzero(per_level.sum(axis=1) > 0)
    return cells[used], per_level[used], remaining[used]


def public_grid(figures: Figures, cell_m: float) -> Grid:
    """The cells that hold hazard, with their true hectares.

    For data one frame holds, the pieces and squares are overlaid in that frame and
    measured there (planar area is true area in it). For data spread round the globe, each
    region's squares are taken to longitude/latitude (densified, :func:`fine_step_m`),
    clipped to the region, overlaid with the pieces there and the shared parts measured as
    the summary measures: each cell is exactly the polygon published.

    Parameters
    ----------
    figures : minemap.maps._data.Figures
        The summary's pieces.
    cell_m : float
        Side of a cell in metres.

    Returns
    -------
    Grid
        Only cells with hazard area, region by region, row by row.

    Raises
    ------
    SchemaError
        For a cell size that is not a positive number, or one that makes more than
        :data:`MAX_GRID_CELLS` cells.
    """
    if not (cell_m > 0 and math.isfinite(cell_m)):
        raise SchemaError(
            f"public_grid_m={cell_m!r}: give the grid cell size in metres, e.g. 1000."
        )
    found = regions(figures)
    _check_budget(found, cell_m)
    parts = [
        _region_cells(region, cell_m)
        for region in found
        if (~shapely.is_empty(region.pieces)).any()
    ]
    levels = len(THREAT_LEVELS)
    if not parts:
        return Grid(np.zeros(0, dtype=object), None, np.zeros((0, levels)), np.zeros(0))
    return Grid(
        np.concatenate([p[0] for p in parts]),
        found[0].frame if figures.held else None,
        np.concatenate([p[1] for p in parts]),
        np.concatenate([p[2] for p in parts]),
    )
