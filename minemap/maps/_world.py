"""Where a static map draws: the equal-area frame for local data, Equal Earth for data spread
round the globe.

An azimuthal frame centred on the data cannot draw hazards near its antipode (see
:attr:`minemap.maps._data.Figures.held`). Such data is drawn in the Equal Earth projection
(equal-area, a whole-world map) centred on the data's central longitude
(:func:`minemap.maps._geometry.central_longitude`): geometries are taken to longitude/latitude
(densified, cut along ±180°), written relative to that meridian, cut along its antimeridian
(the map's left and right edge) and projected, densified again, so every edge keeps its
course and none runs across the map.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import geopandas as gpd
import numpy as np
import pyproj
import shapely

from minemap import crs as _crs
from minemap.maps import _geometry as _geo
from minemap.maps._data import Figures

_WGS84 = pyproj.CRS.from_epsg(4326)
#: Equal Earth on WGS 84 centred on 0°; a map centred on ``lon_0`` projects longitudes
#: written relative to ``lon_0`` with it (the projection is the same, moved).
_EQUAL_EARTH = pyproj.CRS.from_proj4("+proj=eqearth +lon_0=0 +datum=WGS84 +units=m +no_defs")
#: Degrees between the graticule's lines on a world map.
GRATICULE_DEGREES = 30.0


def equal_earth(lon_0: float) -> pyproj.CRS:
    """The Equal Earth CRS on WGS 84 centred on the meridian ``lon_0`` (degrees)."""
    lon = (lon_0 + 180.0) % 360.0 - 180.0
    return pyproj.CRS.from_proj4(f"+proj=eqearth +lon_0={lon:.6f} +datum=WGS84 +units=m +no_defs")


@dataclass(frozen=True)
class View:
    """The CRS a static map is drawn in, and the figures' geometry there.

    ``world`` is false for local data (drawn in the summary's equal-area frame, as ever) and
    true for data spread round the globe (Equal Earth centred on ``lon_0``).
    """

    figures: Figures
    crs: pyproj.CRS
    world: bool
    lon_0: float = 0.0

    def project(self, geoms: np.ndarray, crs: pyproj.CRS) -> np.ndarray:
        """Geometries of ``crs`` in the view (display only)."""
        geoms = np.asarray(geoms, dtype=object)
        if not self.world:
            return _geo.project(geoms, crs, self.crs)
        if geoms.size == 0:
            return geoms
        lonlat = _crs.to_crs_dense(gpd.GeoSeries(geoms, crs=crs), _WGS84)
        relative = shapely.transform(lonlat, lambda xy: xy - [self.lon_0, 0.0])
        relative = _crs.canonical_lonlat(relative, _WGS84)  # cut at the map's edges
        return _crs.project_dense(relative, _WGS84, _EQUAL_EARTH)

    @cached_property
    def pieces(self) -> np.ndarray:
        """The hazard pieces."""
        if not self.world:
            return self.figures.pieces
        return self.project(self.figures.work, self.figures.work_crs)

    @cached_property
    def releases(self) -> np.ndarray:
        """The release pieces."""
        if not self.world:
            return self.figures.release_geoms
        return self.project(self.figures.release_work, self.figures.work_crs)

    @cached_property
    def remaining(self) -> np.ndarray:
        """The remaining hazard pieces."""
        if not self.world:
            return self.figures.remaining
        return self.project(self.figures.remaining_work, self.figures.work_crs)

    def graticule(self) -> np.ndarray:
        """Meridians and parallels every :data:`GRATICULE_DEGREES` and the world's outline
        (the meridians at the map's edges), as lines in the view."""
        lats = np.linspace(-90.0, 90.0, 181)
        lons = np.linspace(-180.0, 180.0, 361)
        lines = [
            shapely.LineString(np.column_stack([np.full(lats.size, m), lats]))
            for m in np.arange(-180.0, 180.0 + 1e-9, GRATICULE_DEGREES)
        ]
        lines += [
            shapely.LineString(np.column_stack([lons, np.full(lons.size, p)]))
            for p in np.arange(-90.0 + GRATICULE_DEGREES, 90.0, GRATICULE_DEGREES)
        ]
        return _geo.project(np.array(lines, dtype=object), _WGS84, _EQUAL_EARTH)


def view(figures: Figures) -> View:
    """The view a static map of ``figures`` is drawn in (see the module notes)."""
    if figures.held:
        return View(figures, figures.frame, world=False)
    lonlat = _geo.project(figures.work, figures.work_crs, _WGS84)
    lon_0 = _geo.central_longitude(lonlat)
    return View(figures, equal_earth(lon_0), world=True, lon_0=lon_0)
