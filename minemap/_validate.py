"""Validation and one-time repair of layers as they are read.

Checks raise a :class:`~minemap._errors.MinemapError` subclass whose message names the
file, the offending feature ids and the fix. Repairs (invalid rings, Z values, curved
geometries, empty rows) happen here, once, and are reported in a single
:class:`~minemap._errors.RepairWarning` that counts what changed and by how much area.
"""

from __future__ import annotations

import datetime
import functools
import re
import warnings
from collections.abc import Mapping, Sequence
from typing import NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from minemap import crs as _crs
from minemap._errors import (
    CoordinateError,
    CRSError,
    DuplicateIdWarning,
    EmptyLayerError,
    GeometryTypeError,
    RepairError,
    RepairWarning,
    SchemaError,
    option_hint,
)
from minemap._overlay import gc_paused, parallel, polygonal_parts, valid
from minemap.settings import IDS_IN_MESSAGES, MAX_REPAIR_AREA_CHANGE
from minemap.vocabulary import VOCABULARY_TABLES, canonical_word

POLYGON_TYPES = frozenset({"Polygon", "MultiPolygon"})
LINE_TYPES = frozenset({"LineString", "MultiLineString"})
POINT_TYPES = frozenset({"Point", "MultiPoint"})


def list_ids(ids: Sequence[object] | pd.Series | np.ndarray, limit: int = IDS_IN_MESSAGES) -> str:
    """Format feature ids for an error message: ``'a', 'b' and 3 more``."""
    values = [str(v) for v in list(ids)]
    shown = ", ".join(repr(v) for v in values[:limit])
    if len(values) > limit:
        shown += f" and {len(values) - limit} more"
    return shown


def check_not_empty(gdf: gpd.GeoDataFrame, label: str, *, after_repair: bool = False) -> None:
    """Refuse a layer without features."""
    if len(gdf) == 0:
        when = " after dropping empty geometries" if after_repair else ""
        raise EmptyLayerError(
            f"{label}: the layer has no features{when}; check that you chose the right file "
            "and layer, and that its geometries are not all empty."
        )


_CRS_FIXES = {
    ".shp": "Or give the Shapefile its .prj file (export it again from your GIS)",
    ".csv": "A CSV file cannot declare a CRS, so name it every time",
    ".geojson": "GeoJSON is longitude/latitude (EPSG:4326) unless the file says otherwise",
}


def _crs_example(gdf: gpd.GeoDataFrame) -> str:
    """A CRS to suggest for a layer with none: lon/lat if the coordinates can be degrees,
    else a projected one (the coordinates are metres or feet)."""
    with np.errstate(invalid="ignore"):
        bounds = gdf.geometry.total_bounds if len(gdf) else np.full(4, np.nan)
    if not np.isfinite(bounds).all():
        return f"e.g. {option_hint('crs', repr('EPSG:4326'))}"
    x0, y0, x1, y1 = bounds
    if -180 <= x0 <= x1 <= 360 and -90 <= y0 <= y1 <= 90:
        return f"e.g. {option_hint('crs', repr('EPSG:4326'))} (they look like degrees)"
    return (
        f"e.g. {option_hint('crs', repr('EPSG:32638'))} (they look like metres, so they are "
        "in a projected CRS such as a UTM zone: name the one they were made in)"
    )


def assign_crs(
    gdf: gpd.GeoDataFrame,
    label: str,
    crs: object | None,
    *,
    override: bool = False,
    suffix: str = "",
) -> gpd.GeoDataFrame:
    """Return ``gdf`` with a CRS, refusing a layer with none unless ``crs`` is given.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        The layer as read.
    label : str
        File (and layer) name used in messages.
    crs : str, int or pyproj.CRS, optional
        CRS of the coordinates: used for a layer that declares none, and for every layer when
        ``override`` is true.
    override : bool, default False
        Replace a declared CRS by ``crs`` (for files that declare a wrong one). The
        coordinates are not transformed, only interpreted in ``crs``.
    suffix : str, optional
        The file's extension, to tell how that format declares its CRS.
    """
    if override and crs is None:
        raise CRSError(
            f"{label}: {option_hint('override_crs', 'True')} needs the CRS to use: "
            f"pass it with {option_hint('crs', repr('EPSG:32638'))}."
        )
    if gdf.crs is not None and not override:
        check_earth(gdf.crs, label)
        return gdf
    if crs is None:
        fix = _CRS_FIXES.get(suffix.lower(), "Or fix the file so that it declares its CRS")
        raise CRSError(
            f"{label}: the layer has no coordinate reference system (CRS); pass the CRS its "
            f"coordinates are in, {_crs_example(gdf)}. {fix}."
        )
    try:
        wanted = pyproj.CRS.from_user_input(crs)
    except pyproj.exceptions.CRSError as exc:
        raise CRSError(
            f"{label}: {crs!r} is not a CRS pyproj knows ({exc}); "
            "pass e.g. 'EPSG:4326' or 'EPSG:32638'."
        ) from None
    check_earth(wanted, label)
    return gdf.set_crs(wanted, allow_override=True)


#: An Earth ellipsoid's semi-major axis lies in this range (metres): spheres of radius
#: 6,371 km and every terrestrial ellipsoid in use fall inside it.
EARTH_RADIUS_M = (6.2e6, 6.5e6)


def check_earth(crs: pyproj.CRS, label: str) -> None:
    """Refuse a CRS that is not on the Earth (another planet, or no ellipsoid at all)."""
    ellipsoid = crs.ellipsoid
    if ellipsoid is None:
        raise CRSError(
            f"{label}: {crs.name} has no ellipsoid (a local or engineering CRS), so "
            "no true area can be measured; pass the layer's real CRS with "
            f"{option_hint('crs', repr('EPSG:4326'))} and "
            f"{option_hint('override_crs', 'True')}."
        )
    radius = ellipsoid.semi_major_metre
    if not EARTH_RADIUS_M[0] <= radius <= EARTH_RADIUS_M[1]:
        raise CRSError(
            f"{label}: {crs.name} is not on the Earth (its ellipsoid "
            f"{ellipsoid.name!r} has a radius of {radius / 1e3:,.0f} km); minemap "
            "measures land on the Earth: pass the layer's real CRS with "
            f"{option_hint('crs', repr('EPSG:4326'))} and "
            f"{option_hint('override_crs', 'True')}."
        )


def check_finite(geoms: np.ndarray, ids: pd.Series, label: str) -> None:
    """Refuse NaN or infinite coordinates."""
    coords, index = shapely.get_coordinates(geoms, return_index=True)
    bad_rows = np.unique(index[~np.isfinite(coords).all(axis=1)])
    if bad_rows.size:
        raise CoordinateError(
            f"{label}: {bad_rows.size} feature(s) have NaN or infinite coordinates "
            f"(ids {list_ids(ids.iloc[bad_rows])}); fix or delete those vertices in a GIS."
        )


#: Outside its area of use, a projected CRS is accepted where it stretches or shrinks
#: distances on the ground by at most this fraction (10 %: transverse Mercator reaches
#: ~2,800 km from its central meridian, i.e. two UTM zones past a zone's edge anywhere).
MAX_SCALE_ERROR = 0.10
#: Coordinates projected to longitude/latitude and back must land within this many metres
#: (1 cm: PROJ's inverse of the ellipsoidal equal-area projections, e.g. EPSG:3035 and
#: EPSG:6933, is itself off by up to 2 mm inside their areas of use; where a projection
#: breaks down, the round trip is off by metres or is not finite).
ROUND_TRIP_M = 0.01
#: Margin (degrees) around a CRS's published area of use, whose bounds are often rounded.
AREA_OF_USE_MARGIN_DEG = 1.0
#: Points of a projected layer are judged once per square cell of this side (metres): the
#: tests vary smoothly, so one vertex stands for its cell and 100,000 features cost a few
#: thousand projections.
CELL_M = 10_000.0
#: At most this many vertices (besides every feature's bounding-box corners) are sampled.
SAMPLED_VERTICES = 20_000

# why a projected point is refused (codes of _judge_points)
_OK, _UNMAPPABLE, _ROUND_TRIP, _STRETCHED, _FAR_SIDE = range(5)


def check_bounds(geoms: np.ndarray, crs: pyproj.CRS, ids: pd.Series, label: str) -> None:
    """Refuse coordinates that cannot be where the layer's CRS says they are.

    Geographic CRSs need latitude in [-90, 90] and longitude in [-360, 360] (data across the
    antimeridian is often written continuously, 179° to 181°; each feature spans at most
    360°), in the CRS's own angular unit. A projected CRS
    is accepted wherever its projection is well defined and usable, not only inside its
    published area of use (a national dataset kept in one UTM zone routinely reaches one or
    two zones past it). A point is accepted when

    * it projects to a finite longitude/latitude and back to within :data:`ROUND_TRIP_M`;
    * and it lies inside the CRS's area of use (padded by :data:`AREA_OF_USE_MARGIN_DEG`),
      or, outside it, where the projection stretches distances by at most
      :data:`MAX_SCALE_ERROR` and not on the far side of the globe (more than 90° of
      longitude from the area of use: over a pole).

    Points tested are every feature's bounding-box corners and a sample of vertices, one per
    :data:`CELL_M` cell; features inside the region known to pass (cached per CRS) are not
    projected at all. Coordinates that all lie within a few units of each other and inside
    ±180/±90 in a projected CRS are refused as degrees.

    Parameters
    ----------
    geoms : numpy.ndarray
        Non-empty shapely geometries in ``crs``.
    crs : pyproj.CRS
        The layer's CRS.
    ids : pandas.Series
        Feature id per geometry, for messages.
    label : str
        File (and layer) name, for messages.

    Raises
    ------
    CoordinateError
        Naming the file, the features' ids, their bounds and the fix (pass the right CRS).
    """
    crs = pyproj.CRS(crs)
    bounds = shapely.bounds(geoms)
    if crs.is_geographic:
        _check_geographic_bounds(bounds, crs, ids, label)
        return
    if len(bounds) and np.isfinite(bounds).all():
        total = (bounds[:, 0].min(), bounds[:, 1].min(), bounds[:, 2].max(), bounds[:, 3].max())
        looks_like_degrees = (
            -180 <= total[0]
            and total[2] <= 180
            and -90 <= total[1]
            and total[3] <= 90
            and max(total[2] - total[0], total[3] - total[1]) < 5.0
        )
        if looks_like_degrees:
            raise CoordinateError(
                f"{label}: all coordinates lie within a few units of x {total[0]:.6g}..."
                f"{total[2]:.6g}, y {total[1]:.6g}...{total[3]:.6g}, which look like degrees of "
                f"longitude/latitude, not the {crs.axis_info[0].unit_name}s of {crs.name} "
                f"(ids {list_ids(ids)}); pass the layer's real CRS, e.g. "
                f"{option_hint('crs', repr('EPSG:4326'))}, with "
                f"{option_hint('override_crs', 'True')} if the file declares {crs.name}."
            )
    if crs.geodetic_crs is None:
        return
    _check_projected_bounds(geoms, bounds, crs, ids, label)


#: Longitudes are accepted up to this far from Greenwich (degrees): data across the
#: antimeridian is often written continuously (179° to 181°, or in 0°..360°).
MAX_LONGITUDE_DEG = 360.0


def _check_geographic_bounds(
    bounds: np.ndarray, crs: pyproj.CRS, ids: pd.Series, label: str
) -> None:
    # axis order is normalised by the readers to x = longitude, y = latitude
    unit = crs.axis_info[0].unit_conversion_factor or np.pi / 180.0
    per_degree = 1.0 / np.degrees(unit)  # CRS units per degree (1, or 10/9 for grads)
    lon_limit, lat_limit = MAX_LONGITUDE_DEG * per_degree, 90.0 * per_degree
    eps = 1e-9 * per_degree
    bad = (
        (bounds[:, 0] < -lon_limit - eps)
        | (bounds[:, 2] > lon_limit + eps)
        | (bounds[:, 2] - bounds[:, 0] > 360.0 * per_degree + eps)
        | (bounds[:, 1] < -lat_limit - eps)
        | (bounds[:, 3] > lat_limit + eps)
    )
    if bad.any():
        rows = np.flatnonzero(bad)
        b = bounds[rows[0]]
        hint = (
            "they look like projected metres: pass the layer's real CRS, e.g. "
            f"{option_hint('crs', repr('EPSG:32638'))}"
            if np.abs(b).max() > 1000
            else "latitude and longitude may be swapped (x must be longitude)"
        )
        unit_name = crs.axis_info[0].unit_name or "degree"
        raise CoordinateError(
            f"{label}: {rows.size} feature(s) have coordinates outside latitude "
            f"[-{lat_limit:g}, {lat_limit:g}] or longitude [-{lon_limit:g}, {lon_limit:g}] "
            f"({unit_name}s) of {crs.name} (ids {list_ids(ids.iloc[rows])}; "
            f"e.g. x {b[0]:.6g}..{b[2]:.6g}, y {b[1]:.6g}..{b[3]:.6g}); {hint}."
        )


class _Domain(NamedTuple):
    """Where a projected CRS is accepted, worked out once per CRS."""

    #: published area of use in degrees (west, south, east, north), west > east when it
    #: crosses the antimeridian; None when the CRS (and the EPSG CRS it matches) has none
    published: tuple[float, float, float, float] | None
    #: the same padded by AREA_OF_USE_MARGIN_DEG: inside it every mappable point is accepted
    area: tuple[float, float, float, float] | None
    #: projected box (xmin, ymin, xmax, ymax) over which a grid of points passes: features
    #: inside it are accepted without projecting anything; None when there is no such box
    safe: tuple[float, float, float, float] | None
    #: degrees per unit of the CRS's geodetic axes (1 unless they are grads or radians)
    degrees_per_unit: float
    #: longitude of the geodetic CRS's prime meridian east of Greenwich, degrees
    prime_meridian: float


def _area_of_use(crs: pyproj.CRS) -> tuple[float, float, float, float] | None:
    aou = crs.area_of_use
    if aou is None:
        # a CRS read from a .prj or a PROJ string carries no area of use; the EPSG CRS it
        # matches does
        try:
            code = crs.to_epsg(min_confidence=70)
            aou = pyproj.CRS.from_epsg(code).area_of_use if code is not None else None
        except pyproj.exceptions.CRSError:
            aou = None
    if aou is None:
        return None
    west, south, east, north = (float(v) for v in aou.bounds)
    return west, south, east, north


def _padded(area: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    west, south, east, north = area
    m = AREA_OF_USE_MARGIN_DEG
    span = (east - west) % 360.0 if west != east else 360.0
    if east - west >= 360.0 or span + 2 * m >= 360.0:
        west, east = -180.0, 180.0
    else:
        west, east = (west - m + 180.0) % 360.0 - 180.0, (east + m + 180.0) % 360.0 - 180.0
    return west, max(south - m, -90.0), east, min(north + m, 90.0)


@functools.lru_cache(maxsize=32)
def _domain(crs: pyproj.CRS) -> _Domain:
    geodetic = crs.geodetic_crs or crs  # an Earth CRS (check_earth) has a geodetic CRS
    per_unit = float(np.degrees(geodetic.axis_info[0].unit_conversion_factor or np.pi / 180))
    pm = geodetic.prime_meridian
    pm_deg = (
        float(np.degrees(float(pm.longitude) * float(pm.unit_conversion_factor or np.pi / 180)))
        if pm is not None
        else 0.0
    )
    published = _area_of_use(crs)
    if published is None:
        return _Domain(None, None, None, per_unit, pm_deg)
    area = _padded(published)
    west, south, east, north = published
    try:
        box = _crs.transformer(geodetic, crs).transform_bounds(
            (west - pm_deg) / per_unit,
            south / per_unit,
            (east - pm_deg) / per_unit,
            north / per_unit,
            densify_pts=21,
        )
    except pyproj.exceptions.ProjError:
        return _Domain(published, area, None, per_unit, pm_deg)
    safe = None
    if np.isfinite(box).all():
        # the projected box of the area of use, if a grid over it passes; else shrunk about
        # its centre until one does (a few tries, then every feature is tested)
        centre = np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2])
        half = np.array([(box[2] - box[0]) / 2, (box[3] - box[1]) / 2])
        gx, gy = np.meshgrid(np.linspace(-1.0, 1.0, 41), np.linspace(-1.0, 1.0, 41))
        for shrink in (1.0, 0.8, 0.6, 0.4, 0.2):
            x = centre[0] + gx.ravel() * half[0] * shrink
            y = centre[1] + gy.ravel() * half[1] * shrink
            if (_judge_points(x, y, crs, area, per_unit, pm_deg)[0] == _OK).all():
                lo, hi = centre - half * shrink, centre + half * shrink
                safe = (float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1]))
                break
    return _Domain(published, area, safe, per_unit, pm_deg)


def _in_area(
    lon: np.ndarray, lat: np.ndarray, area: tuple[float, float, float, float]
) -> np.ndarray:
    west, south, east, north = area
    if west <= east:
        inside_lon = (lon >= west) & (lon <= east)
    else:  # the area crosses the antimeridian
        inside_lon = (lon >= west) | (lon <= east)
    return inside_lon & (lat >= south) & (lat <= north)


def _degrees_from_area(lon: np.ndarray, area: tuple[float, float, float, float]) -> np.ndarray:
    """Degrees of longitude between ``lon`` and the area's longitude range (0 inside)."""
    west, _, east, _ = area
    if (west, east) == (-180.0, 180.0):
        return np.zeros_like(lon)
    span = (east - west) % 360.0
    inside = (lon - west) % 360.0 <= span
    return np.where(inside, 0.0, np.minimum((west - lon) % 360.0, (lon - east) % 360.0))


def _judge_points(
    x: np.ndarray,
    y: np.ndarray,
    crs: pyproj.CRS,
    area: tuple[float, float, float, float] | None,
    per_unit: float,
    prime_meridian: float = 0.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Why each projected point is refused (``_OK`` where it is not).

    Returns the codes, the points' longitude (east of Greenwich) and latitude in degrees,
    and the projection's scale error there (NaN where not computed). Without an area of
    use, only the round trip is required.
    """
    geodetic = crs.geodetic_crs
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    code = np.full(x.size, _OK)
    scale = np.full(x.size, np.nan)
    with np.errstate(invalid="ignore", over="ignore"):
        lon, lat = _crs.transformer(crs, geodetic).transform(x, y, errcheck=False)
        lon = np.asarray(lon, dtype=float) * per_unit
        lat = np.asarray(lat, dtype=float) * per_unit
        mapped = np.isfinite(lon) & np.isfinite(lat) & (np.abs(lat) <= 90.0)
        code[~mapped] = _UNMAPPABLE
        x2, y2 = _crs.transformer(geodetic, crs).transform(
            np.where(mapped, lon, 0.0) / per_unit,
            np.where(mapped, lat, 0.0) / per_unit,
            errcheck=False,
        )
        error_m = np.hypot(np.asarray(x2) - x, np.asarray(y2) - y) * _crs.metres_per_unit(crs)
    code[mapped & ~(error_m <= ROUND_TRIP_M)] = _ROUND_TRIP
    greenwich = (lon + prime_meridian + 180.0) % 360.0 - 180.0 if prime_meridian else lon
    if area is None:
        return code, greenwich, lat, scale
    rows = np.flatnonzero((code == _OK) & ~_in_area(greenwich, lat, area))
    if rows.size:
        try:
            # PROJ's factors take longitude from the CRS's own prime meridian
            factors = pyproj.Proj(crs).get_factors(lon[rows], lat[rows], errcheck=False)
            with np.errstate(divide="ignore", invalid="ignore"):
                scale[rows] = (
                    np.fmax(
                        np.asarray(factors.tissot_semimajor, dtype=float),
                        1.0 / np.asarray(factors.tissot_semiminor, dtype=float),
                    )
                    - 1.0
                )
        except (pyproj.exceptions.ProjError, RuntimeError):
            scale[rows] = 0.0  # distortion unknown: judged by the round trip only
        code[rows[~(scale[rows] <= MAX_SCALE_ERROR)]] = _STRETCHED
        far = (_degrees_from_area(greenwich[rows], area) > 90.0) & (code[rows] == _OK)
        code[rows[far]] = _FAR_SIDE
    return code, greenwich, lat, scale


def _cell_keys(x: np.ndarray, y: np.ndarray, cell: float) -> np.ndarray:
    """One int64 per point, equal for points in one cell; points that are not finite or
    beyond ~1e12 cells get keys of their own."""
    with np.errstate(invalid="ignore", over="ignore"):
        ix, iy = np.floor(x / cell), np.floor(y / cell)
        ok = np.isfinite(ix) & np.isfinite(iy) & (np.abs(ix) < 2**30) & (np.abs(iy) < 2**30)
        keys = (
            ((np.where(ok, ix, 0).astype(np.int64) + 2**30) << 31)
            + np.where(ok, iy, 0).astype(np.int64)
            + 2**30
        )
    return np.where(ok, keys, -1 - np.arange(x.size, dtype=np.int64))


def _check_projected_bounds(
    geoms: np.ndarray, bounds: np.ndarray, crs: pyproj.CRS, ids: pd.Series, label: str
) -> None:
    domain = _domain(crs)
    todo = ~shapely.is_empty(geoms)
    if domain.safe is not None:
        sx0, sy0, sx1, sy1 = domain.safe
        todo &= ~(
            (bounds[:, 0] >= sx0)
            & (bounds[:, 1] >= sy0)
            & (bounds[:, 2] <= sx1)
            & (bounds[:, 3] <= sy1)
        )
    rows = np.flatnonzero(todo)
    if rows.size == 0:
        return
    # every feature's bounding-box corners, and the vertices of a sample of features
    b = bounds[rows]
    sample = rows[:: max(1, rows.size // 2_000)]
    coords, index = shapely.get_coordinates(geoms[sample], return_index=True)
    stride = max(1, len(coords) // SAMPLED_VERTICES)
    px = np.concatenate([b[:, [0, 2, 0, 2]].ravel(), coords[::stride, 0]])
    py = np.concatenate([b[:, [1, 1, 3, 3]].ravel(), coords[::stride, 1]])
    owner = np.concatenate([np.repeat(rows, 4), sample[index[::stride]]])
    # one point per cell is judged for all the points in it (the tests vary smoothly)
    keys = _cell_keys(px, py, CELL_M / _crs.metres_per_unit(crs))
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    inverse = np.ravel(inverse)
    code, lon, lat, scale = _judge_points(
        px[first], py[first], crs, domain.area, domain.degrees_per_unit, domain.prime_meridian
    )
    refused = code[inverse] != _OK
    if not refused.any():
        return
    bad = np.zeros(len(geoms), dtype=bool)
    bad[owner[refused]] = True
    bad_rows = np.flatnonzero(bad)
    example = inverse[np.flatnonzero(refused & (owner == bad_rows[0]))[0]]
    reason = _refusal_reason(
        int(code[example]),
        float(lon[example]),
        float(lat[example]),
        float(scale[example]),
        crs,
        domain,
    )
    hint = (
        "x and y look swapped (x must be the easting), or "
        if _looks_swapped(px[refused], py[refused], crs, domain)
        else ""
    )
    fb = bounds[bad_rows[0]]
    tb = (
        bounds[bad_rows, 0].min(),
        bounds[bad_rows, 1].min(),
        bounds[bad_rows, 2].max(),
        bounds[bad_rows, 3].max(),
    )
    raise CoordinateError(
        f"{label}: {bad_rows.size} feature(s) lie where {crs.name} cannot hold them (ids "
        f"{list_ids(ids.iloc[bad_rows])}; together x {tb[0]:.6g}..{tb[2]:.6g}, "
        f"y {tb[1]:.6g}..{tb[3]:.6g}; e.g. {str(ids.iloc[bad_rows[0]])!r} at x "
        f"{fb[0]:.6g}..{fb[2]:.6g}, y {fb[1]:.6g}..{fb[3]:.6g}: {reason}); {hint}the layer's "
        f"CRS is wrong: pass the right one with {option_hint('crs')}, and if the file "
        f"declares a wrong CRS, also pass {option_hint('override_crs', 'True')}."
    )


def _describe_area(domain: _Domain) -> str:
    if domain.published is None:
        return ""
    west, south, east, north = domain.published
    return f" (its area of use is longitude {west:g}..{east:g}, latitude {south:g}..{north:g})"


def _refusal_reason(
    code: int, lon: float, lat: float, scale: float, crs: pyproj.CRS, domain: _Domain
) -> str:
    place = f"longitude {lon:.4g}, latitude {lat:.4g}"
    if code == _UNMAPPABLE:
        return f"{crs.name} has no longitude/latitude there"
    if code == _ROUND_TRIP:
        return (
            f"{crs.name} is not well defined there ({place}): projecting back does not "
            f"return the same point within {ROUND_TRIP_M * 100:g} cm"
        )
    if code == _STRETCHED:
        error = f"is {scale:.1%}" if np.isfinite(scale) else "cannot be computed"
        return (
            f"that is {place}, far outside the area where {crs.name} is usable"
            f"{_describe_area(domain)}; its scale error there {error}, more than the "
            f"{MAX_SCALE_ERROR:.0%} minemap accepts outside the area of use"
        )
    return (
        f"that is {place}, over a pole, on the far side of the globe from the area "
        f"where {crs.name} is used{_describe_area(domain)}"
    )


def _looks_swapped(x: np.ndarray, y: np.ndarray, crs: pyproj.CRS, domain: _Domain) -> bool:
    """Whether refused points would all lie in the CRS's area of use with x and y exchanged."""
    if domain.area is None or x.size == 0:
        return False
    pick = slice(None, None, max(1, x.size // 1_000))
    code, lon, lat, _ = _judge_points(
        y[pick], x[pick], crs, domain.area, domain.degrees_per_unit, domain.prime_meridian
    )
    return bool(((code == _OK) & _in_area(lon, lat, domain.area)).all())


def check_ids(ids: pd.Series, label: str, id_column: str) -> None:
    """Warn about duplicate feature ids."""
    dup = ids[ids.duplicated(keep=False)]
    if len(dup):
        values = pd.unique(dup)
        warnings.warn(
            f"{label}: {len(values)} {id_column} value(s) are used by more than one feature "
            f"({list_ids(values)}); figures are still exact, but messages and maps cannot tell "
            "those features apart: give each feature its own id.",
            DuplicateIdWarning,
            stacklevel=4,
        )


def enclosed_area(geom: shapely.Geometry) -> float:
    """Area a polygon's rings enclose, each place counted once.

    Independent of :func:`shapely.make_valid`: every ring is noded and polygonised, and a
    face counts as enclosed by its ring where the ring winds around it (non-zero winding
    number); faces inside shells are unioned, and places inside holes are removed where they
    are inside a shell (a hole lying outside its shell encloses a place of its own). A bowtie
    counts both lobes (they wind +1 and -1); a ring that touches itself to go round a hole
    the other way, as ArcGIS writes holes, leaves that hole out (it winds 0). The signed
    shoelace sum, near zero for a bowtie, is never used.
    """

    def faces(rings: list[shapely.Geometry]) -> shapely.Geometry:
        if not rings:
            return shapely.Polygon()
        areas = []
        for ring in rings:
            pieces = shapely.get_parts(shapely.polygonize([shapely.node(ring)]))
            inside = [face for face in pieces if winding_number(ring, face) != 0]
            areas.append(shapely.union_all(inside))
        return shapely.union_all(areas)

    places = []
    for poly in shapely.get_parts(geom):
        if shapely.get_type_id(poly) != 3 or poly.is_empty:
            continue
        # a part's holes cut only that part's shell; other parts may fill them again
        s, h = faces([poly.exterior]), faces(list(poly.interiors))
        places.append(shapely.symmetric_difference(s, h))
    return float(shapely.union_all(places).area) if places else 0.0


def winding_number(ring: shapely.Geometry, face: shapely.Geometry) -> int:
    """How many times ``ring`` winds around a point inside ``face`` (signed).

    Examples
    --------
    >>> from shapely import LinearRing, box
    >>> winding_number(LinearRing([(0, 0), (2, 0), (2, 2), (0, 2)]), box(0.5, 0.5, 1, 1))
    1
    """
    point = shapely.point_on_surface(face)
    px, py = point.x, point.y
    xy = shapely.get_coordinates(ring)
    x0, y0, x1, y1 = xy[:-1, 0], xy[:-1, 1], xy[1:, 0], xy[1:, 1]
    side = (x1 - x0) * (py - y0) - (px - x0) * (y1 - y0)
    up = (y0 <= py) & (y1 > py) & (side > 0)
    down = (y0 > py) & (y1 <= py) & (side < 0)
    return int(up.sum() - down.sum())


@gc_paused()
def polygon_layer(
    gdf: gpd.GeoDataFrame,
    *,
    label: str,
    ids: pd.Series,
    allow_area_change: bool = False,
    curved: int = 0,
) -> gpd.GeoDataFrame:
    """Validate and repair a polygon layer; return a repaired copy.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Layer with a CRS; not modified.
    label : str
        File (and layer) name used in messages.
    ids : pandas.Series
        Feature id per row (aligned with ``gdf``), used in messages.
    allow_area_change : bool, default False
        Accept repairs that change a feature's area by more than 1%.
    curved : int, default 0
        Number of curved geometries the reader linearised (reported in the warning).

    Returns
    -------
    geopandas.GeoDataFrame
        Valid Polygon/MultiPolygon features without Z, empty rows dropped.
    """
    geoms = np.asarray(gdf.geometry.array, dtype=object)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    present = ~missing
    # GEOS reports NaN or infinite coordinates as invalid: only invalid rows need the
    # (costlier) coordinate scan
    valid_as_read = np.zeros(len(geoms), dtype=bool)
    valid_as_read[present] = parallel(valid, geoms[present])
    suspect = present & ~valid_as_read
    check_finite(geoms[suspect], ids[suspect], label)

    type_ids = shapely.get_type_id(geoms)
    collection = type_ids == 7
    polygonal = np.isin(type_ids, (3, 6)) | missing
    if collection.any():
        # a collection holding only polygons is a polygon layer's feature in disguise
        part_types = [set(shapely.get_type_id(shapely.get_parts(g))) for g in geoms[collection]]
        ok = np.array([bool(t) and t <= {3, 6} for t in part_types])
        polygonal[np.flatnonzero(collection)[ok]] = True
    if not polygonal.all():
        rows = np.flatnonzero(~polygonal)
        kinds = pd.Series(shapely.get_type_id(geoms[rows])).map(
            {0: "points", 1: "lines", 2: "rings", 4: "points", 5: "lines", 7: "mixed collections"}
        )
        found = ", ".join(f"{n} {k}" for k, n in kinds.value_counts().items())
        raise GeometryTypeError(
            f"{label}: a polygon layer holds {found} (ids {list_ids(ids.iloc[rows])}); "
            "hazard and release areas must be Polygon or MultiPolygon: buffer points and lines "
            "into areas in a GIS, or point minemap at the right layer."
        )
    check_bounds(geoms[present], gdf.crs, ids[present], label)

    out = geoms.copy()
    has_z = np.zeros(len(geoms), dtype=bool)
    has_z[present] = shapely.has_z(geoms[present])
    if has_z.any():
        out[has_z] = shapely.force_2d(out[has_z])
    if collection.any():
        out[collection] = polygonal_parts(out[collection])
    invalid = np.zeros(len(geoms), dtype=bool)
    changed = present & (has_z | collection)
    invalid[present] = ~valid_as_read[present]
    if changed.any():
        invalid[changed] = ~valid(out[changed])

    area_before = area_after = 0.0
    if invalid.any():
        rows = np.flatnonzero(invalid)
        frame = _crs.area_frame(gdf.iloc[rows])
        before_geoms = _crs.to_area_frame(gpd.GeoSeries(out[rows], crs=gdf.crs), frame)
        before = np.array([enclosed_area(g) for g in before_geoms])
        repaired = polygonal_parts(
            shapely.make_valid(out[rows], method="structure", keep_collapsed=False)
        )
        after = shapely.area(_crs.to_area_frame(gpd.GeoSeries(repaired, crs=gdf.crs), frame))
        change = np.abs(after - before) / np.where(before > 0, before, 1.0)
        too_much = (change > MAX_REPAIR_AREA_CHANGE) & (before > 0)
        if too_much.any() and not allow_area_change:
            bad = rows[too_much]
            k = np.flatnonzero(too_much)[0]
            raise RepairError(
                f"{label}: repairing {bad.size} invalid polygon(s) would change their area by "
                f"more than {MAX_REPAIR_AREA_CHANGE:.0%} (ids {list_ids(ids.iloc[bad])}; e.g. "
                f"{before[k] / 1e4:.4f} ha enclosed by the rings, {after[k] / 1e4:.4f} ha after "
                "repair); fix those rings in a GIS, or accept the repair with "
                f"{option_hint('allow_area_change', 'True')}."
            )
        out[rows] = repaired
        area_before, area_after = float(before.sum()), float(after.sum())

    now_empty = present & shapely.is_empty(out)
    drop = missing | now_empty
    repaired_count = int(invalid.sum())
    z_count = int(has_z.sum())
    collections = int(collection.sum())
    if repaired_count or z_count or missing.any() or now_empty.any() or curved or collections:
        parts = []
        if repaired_count:
            parts.append(
                f"{repaired_count} invalid polygon(s) made valid (ids {list_ids(ids[invalid])})"
            )
        if curved:
            parts.append(f"{curved} curved geometr{'y' if curved == 1 else 'ies'} linearised")
        if z_count:
            parts.append(f"Z values dropped from {z_count} feature(s)")
        if collections:
            parts.append(f"{collections} geometry collection(s) reduced to their polygons")
        if missing.any():
            parts.append(
                f"{int(missing.sum())} empty or null geometr"
                f"{'y' if missing.sum() == 1 else 'ies'} dropped "
                f"(ids {list_ids(ids[missing])})"
            )
        if now_empty.any():
            parts.append(
                f"{int(now_empty.sum())} feature(s) with no area left dropped "
                f"(ids {list_ids(ids[now_empty])})"
            )
        delta = (area_after - area_before) / 1e4
        pct = 100.0 * (area_after - area_before) / area_before if area_before > 0 else 0.0
        warnings.warn(
            f"{label}: repaired on read: {'; '.join(parts)}; area of repaired polygons "
            f"changed by {delta + 0.0:+.4f} ha ({pct + 0.0:+.3f}%). The input file is unchanged.",
            RepairWarning,
            stacklevel=4,
        )
    result = gdf.copy()
    result = result.set_geometry(gpd.GeoSeries(out, index=gdf.index, crs=gdf.crs))
    result = result.loc[~drop]
    check_not_empty(result, label, after_repair=True)
    return result


def require_columns(gdf: pd.DataFrame, columns: dict[str, str], label: str) -> None:
    """Refuse a layer that lacks a required column; ``columns`` maps column → option name."""
    for column, option in columns.items():
        if column not in gdf.columns:
            existing = (
                [c for c in gdf.columns if c != gdf.geometry.name]
                if isinstance(gdf, gpd.GeoDataFrame)
                else list(gdf.columns)
            )
            raise SchemaError(
                f"{label}: no column {column!r}; the layer has {existing}. Name the right one "
                f"with {option_hint(option)}."
            )


def normalise_vocabulary(
    values: pd.Series,
    *,
    allowed: Sequence[str],
    ids: pd.Series,
    label: str,
    column: str,
    option: str,
    aliases: Mapping[str, str] | None = None,
    map_option: str = "level_map",
) -> pd.Series:
    """Map ``values`` onto ``allowed`` and refuse anything else.

    Case, surrounding spaces and inner spaces, hyphens and underscores are ignored;
    ``aliases`` (from :func:`minemap.vocabulary.resolve_aliases`) maps further words.
    """
    lookup = dict(aliases) if aliases is not None else {word: word for word in allowed}
    table = VOCABULARY_TABLES[map_option]
    # each distinct value mapped once, then spread by its code (-1, missing: None)
    codes, distinct = pd.factorize(values.astype(object), use_na_sentinel=True)
    mapped = [lookup.get(canonical_word(v)) for v in distinct]
    text = pd.Series(
        np.array([*mapped, None], dtype=object)[codes], index=values.index, dtype=object
    )
    bad = text.isna()
    if bad.any():
        found = pd.unique(values[bad].astype("string").fillna("<missing>"))
        example = next((str(v) for v in found if v != "<missing>"), "Your word")
        choice = "<" + "|".join(allowed) + ">"  # the user says which; never a guess of ours
        raise SchemaError(
            f"{label}: column {column!r} holds {list_ids(found)} (ids {list_ids(ids[bad])}); "
            f"allowed values are {', '.join(allowed)} and the IMAS terms minemap knows "
            "(case and spaces are ignored). Map other words to what they mean with "
            f"{map_option}={{{example!r}: '{choice}'}} (CLI: --vocabulary FILE.toml "
            f'holding [{table}] "{example}" = "{choice}"; write the one it means), fix '
            f"those values, or name another column with {option_hint(option)}."
        )
    return text


_ISO_DAY = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})(?:$|[T ]|\s)")


def day_of(value: object) -> pd.Timestamp | None:
    """The calendar day a value names, as written (a UTC offset does not move the day)."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
        return None
    if isinstance(value, (pd.Timestamp, datetime.datetime, np.datetime64)):
        stamp = pd.Timestamp(value)
        return None if pd.isna(stamp) else pd.Timestamp(stamp.year, stamp.month, stamp.day)
    if isinstance(value, datetime.date):
        return pd.Timestamp(value.year, value.month, value.day)
    text = str(value).strip()
    if not text:
        return None
    match = _ISO_DAY.match(text)
    if not match:
        # "5/1/2022" is 5 January or 1 May depending on who wrote it; "2022" is no day:
        # guessing would give a wrong number, so only ISO 8601 days are accepted
        return None
    try:
        return pd.Timestamp(match.group(1))
    except ValueError:
        return None


#: Earliest day accepted on a release, an incident or a find: older is a slip of the keyboard
#: (``0001-01-01`` is a common "no date" filler), and pandas holds no day before 1677.
EARLIEST_DAY = pd.Timestamp("1900-01-01")


def day_series(
    days: Sequence[pd.Timestamp | None],
    index: pd.Index,
    *,
    ids: pd.Series,
    label: str,
    column: str,
    what: str,
) -> pd.Series:
    """Parsed days as a ``datetime64[ns]`` column (``NaT`` where missing); a day before
    :data:`EARLIEST_DAY` is refused with the ids of its features."""
    early = np.array([d is not None and d < EARLIEST_DAY for d in days], dtype=bool)
    if early.any():
        shown = pd.unique(pd.Series([d.isoformat()[:10] for d in np.asarray(days)[early]]))
        raise SchemaError(
            f"{label}: {int(early.sum())} {what}(s) are dated before "
            f"{EARLIEST_DAY:%Y-%m-%d} in {column!r} (ids {list_ids(ids[early])}; dates "
            f"{list_ids(shown)}); correct those dates (a filler such as 0001-01-01 is not a "
            "date)."
        )
    return pd.Series(list(days), index=index, dtype="datetime64[ns]")


def parse_dates(values: pd.Series, *, ids: pd.Series, label: str, column: str) -> pd.Series:
    """Parse release dates to calendar days; refuse missing or unparseable ones.

    A date keeps the calendar day it was written with: ``2022-01-05T02:00+04:00`` is
    5 January, not the 4 January it is in UTC.
    """
    if pd.api.types.is_datetime64_any_dtype(values):
        wall = values.dt.tz_localize(None) if values.dt.tz is not None else values
        parsed = wall.dt.normalize()
        if (parsed < EARLIEST_DAY).any():
            day_series(
                list(parsed), parsed.index, ids=ids, label=label, column=column, what="release"
            )
    else:
        # each distinct value parsed once, then spread by its codes (-1, missing: NaT)
        codes, distinct = pd.factorize(values.astype(object), use_na_sentinel=True)
        days = [day_of(v) for v in distinct]
        if any(d is not None and d < EARLIEST_DAY for d in days):  # refused, naming ids
            day_series(
                [None if c < 0 else days[c] for c in codes],
                values.index,
                ids=ids,
                label=label,
                column=column,
                what="release",
            )
        stamps = pd.Series([*days, None], dtype="datetime64[ns]").to_numpy()
        parsed = pd.Series(stamps[codes], index=values.index)
    bad = parsed.isna()
    if bad.any():
        found = pd.unique(values[bad].astype("string").fillna("<missing>"))
        raise SchemaError(
            f"{label}: {int(bad.sum())} release(s) have a missing or unparseable date in "
            f"{column!r} (ids {list_ids(ids[bad])}; values {list_ids(found)}); write dates as "
            f"YYYY-MM-DD, or name another column with {option_hint('date_column')}."
        )
    return parsed.astype("datetime64[ns]")
