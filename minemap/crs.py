"""Coordinate reference systems and the equal-area frame every figure is measured in.

minemap measures area in a Lambert Azimuthal Equal Area (LAEA) projection on the WGS 84
ellipsoid, centred on the data. LAEA preserves area exactly everywhere (but at the antipode
of its centre), so planar area in that frame is the true ellipsoidal area. Because a
polygon's straight edges are straight only in the frame they were drawn in, edges are
densified in their *source* CRS before they are projected (:func:`to_area_frame`).
"""

from __future__ import annotations

import functools

import geopandas as gpd
import numpy as np
import pyproj
import shapely

from minemap._errors import CRSError
from minemap._overlay import parallel, polygonal_parts

#: Longest edge kept when densifying geographic coordinates, in degrees (~1.1 km).
MAX_SEGMENT_DEGREES = 0.01
#: Longest edge kept when densifying projected coordinates, in metres.
MAX_SEGMENT_METRES = 1_000.0
#: Square metres per hectare.
M2_PER_HA = 10_000.0

_WGS84 = pyproj.CRS.from_epsg(4326)


def transformer(source: object, target: object) -> pyproj.Transformer:
    """A cached ``always_xy`` transformer from ``source`` to ``target`` (any CRS input).

    Making a transformer costs tens of milliseconds; pyproj transformers are thread-safe,
    so one per pair of CRSs is shared by every caller.
    """
    return _cached_transformer(as_crs(source), as_crs(target))


def as_crs(value: object) -> pyproj.CRS:
    """``value`` as a CRS: itself when it is one (``pyproj.CRS(crs)`` would parse it again,
    0.16 ms each time), else what ``pyproj.CRS`` makes of it.

    Examples
    --------
    >>> wgs84 = pyproj.CRS(4326)
    >>> as_crs(wgs84) is wgs84, as_crs("EPSG:32638").name
    (True, 'WGS 84 / UTM zone 38N')
    """
    return value if isinstance(value, pyproj.CRS) else pyproj.CRS(value)


@functools.lru_cache(maxsize=64)
def _cached_transformer(source: pyproj.CRS, target: pyproj.CRS) -> pyproj.Transformer:
    return pyproj.Transformer.from_crs(source, target, always_xy=True)


def lonlat_points(gdf: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Longitude and latitude of the centre of each feature's bounding box.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Features with a CRS.

    Returns
    -------
    tuple of numpy.ndarray
        Longitudes and latitudes in degrees (NaN for empty geometries).
    """
    geoms = np.asarray(gdf.geometry.array)
    bounds = parallel(shapely.bounds, geoms)
    x = (bounds[:, 0] + bounds[:, 2]) / 2.0
    y = (bounds[:, 1] + bounds[:, 3]) / 2.0
    wide = (bounds[:, 2] - bounds[:, 0]) > 180.0
    if wide.any() and gdf.crs is not None and as_crs(gdf.crs).is_geographic:
        # parts split at the antimeridian: a bounding box centre would sit near 0°
        inner = shapely.point_on_surface(geoms[wide])
        x[wide], y[wide] = shapely.get_x(inner), shapely.get_y(inner)
    if gdf.crs is None or as_crs(gdf.crs).equals(_WGS84, ignore_axis_order=True):
        return x, y
    lon, lat = transformer(gdf.crs, _WGS84).transform(x, y)
    return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)


def area_frame(*layers: gpd.GeoDataFrame | None) -> pyproj.CRS:
    """Equal-area CRS centred on the given layers.

    The centre is the circular mean of the features' longitudes (so data on both sides of
    the antimeridian gets a centre near 180°) and the mean of their latitudes.

    Parameters
    ----------
    *layers : geopandas.GeoDataFrame or None
        Layers the frame must serve; ``None`` entries are skipped.

    Returns
    -------
    pyproj.CRS
        A Lambert Azimuthal Equal Area CRS on the WGS 84 ellipsoid, in metres.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> g = gpd.GeoDataFrame(geometry=[box(46.0, 39.0, 46.1, 39.1)], crs=4326)
    >>> area_frame(g).coordinate_operation.method_name
    'Lambert Azimuthal Equal Area'
    """
    lons: list[np.ndarray] = []
    lats: list[np.ndarray] = []
    for layer in layers:
        if layer is None or len(layer) == 0:
            continue
        lon, lat = lonlat_points(layer)
        keep = np.isfinite(lon) & np.isfinite(lat)
        lons.append(lon[keep])
        lats.append(lat[keep])
    lon_all = np.concatenate(lons) if lons else np.zeros(1)
    lat_all = np.concatenate(lats) if lats else np.zeros(1)
    if lon_all.size == 0:
        lon_all, lat_all = np.zeros(1), np.zeros(1)
    rad = np.radians(lon_all)
    lon_0 = float(np.degrees(np.arctan2(np.sin(rad).mean(), np.cos(rad).mean())))
    lat_0 = float(np.clip(lat_all.mean(), -90.0, 90.0))
    return laea_frame(lon_0, lat_0)


def _feature_lon_spans(layer: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Westmost and eastmost longitude of each feature's bounding-box corners."""
    bounds = shapely.bounds(np.asarray(layer.geometry.array))
    crs = as_crs(layer.crs)
    if crs.is_geographic:
        return bounds[:, 0], bounds[:, 2]
    to_lonlat = transformer(crs, _WGS84)
    xs = bounds[:, [0, 2, 0, 2]].ravel()
    ys = bounds[:, [1, 1, 3, 3]].ravel()
    lon, _ = to_lonlat.transform(xs, ys)
    lon = np.asarray(lon).reshape(-1, 4)
    return np.nanmin(lon, axis=1), np.nanmax(lon, axis=1)


def crosses_antimeridian(*layers: gpd.GeoDataFrame | None) -> bool:
    """Whether the layers have features on both sides of the ±180° meridian near it."""
    west = east = False
    for layer in layers:
        if layer is None or len(layer) == 0 or layer.crs is None:
            continue
        low, high = _feature_lon_spans(layer)
        if np.any(high - low > 180.0):
            return True
        west |= bool(np.any(low < -170.0))
        east |= bool(np.any(high > 170.0))
    return west and east


def work_crs(
    primary: gpd.GeoDataFrame, *others: gpd.GeoDataFrame | None, frame: pyproj.CRS | None = None
) -> pyproj.CRS:
    """The CRS overlays run in: the primary layer's own.

    Overlaying in the CRS the data was drawn in keeps edges drawn along each other exactly
    coincident, and is right anywhere on Earth for longitude/latitude data too: an overlay
    in an equal-area frame would mangle data near the frame's antipode (data spread round
    the globe). Longitude/latitude geometries are brought into [-180°, 180°] on the way
    (:func:`to_crs_dense`), cut along ±180° where they cross it, so that one place has one
    set of coordinates.

    Parameters
    ----------
    primary : geopandas.GeoDataFrame
        The layer whose CRS is used (the hazards).
    *others : geopandas.GeoDataFrame or None
        Layers that will be overlaid with it (accepted for symmetry; they do not change the
        choice).
    frame : pyproj.CRS, optional
        Unused; kept so that callers may pass the equal-area frame.

    Returns
    -------
    pyproj.CRS
    """
    return as_crs(primary.crs)


def max_segment_length(crs: pyproj.CRS) -> float:
    """Densification step for a CRS, in its own units.

    Parameters
    ----------
    crs : pyproj.CRS
        Source CRS of a layer.

    Returns
    -------
    float
        :data:`MAX_SEGMENT_DEGREES` for geographic CRSs, otherwise :data:`MAX_SEGMENT_METRES`
        converted to the CRS's linear unit.
    """
    crs = as_crs(crs)
    if crs.is_geographic:
        return MAX_SEGMENT_DEGREES
    return MAX_SEGMENT_METRES / metres_per_unit(crs)


def metres_per_unit(crs: pyproj.CRS) -> float:
    """Metres in one unit of a projected CRS's axes (1 for metres, 0.3048 for feet)."""
    for axis in as_crs(crs).axis_info:
        if axis.unit_conversion_factor:
            return float(axis.unit_conversion_factor)
    return 1.0


def _densify_family(geoms: np.ndarray, step: float) -> np.ndarray:
    """Densify geometries of one family (all lines or all polygons) without repairing them."""
    kind, coords, offsets = shapely.to_ragged_array(geoms, include_z=False)
    parts = np.asarray(offsets[0], dtype=np.int64)  # coordinate offsets of rings / lines
    n = coords.shape[0]
    if n < 2:
        return geoms
    seg = np.diff(coords, axis=0)
    length = np.hypot(seg[:, 0], seg[:, 1])
    # a segment joins coordinate k to k+1 only inside one ring or line
    part_end = np.zeros(n, dtype=bool)
    part_end[parts[1:] - 1] = True
    valid = ~part_end[:-1]
    extra = np.zeros(n, dtype=np.int64)
    extra[:-1] = np.where(
        valid & np.isfinite(length), np.maximum(np.ceil(length / step).astype(np.int64) - 1, 0), 0
    )
    if not extra.any():
        return geoms
    counts = extra + 1
    start = np.repeat(np.arange(n), counts)
    within = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    frac = within / np.repeat(counts, counts)
    nxt = np.minimum(start + 1, n - 1)
    new = coords[start] + (coords[nxt] - coords[start]) * frac[:, None]
    shift = np.concatenate([[0], np.cumsum(extra)])
    new_parts = parts + shift[parts]
    rebuilt = shapely.from_ragged_array(kind, new, (new_parts, *offsets[1:]))
    return rebuilt


def _has_long_edge(geoms: np.ndarray, step: float) -> np.ndarray:
    """Whether each geometry has an edge longer than ``step`` (a cheap pre-filter)."""
    coords, index = shapely.get_coordinates(geoms, return_index=True)
    if len(coords) < 2:
        return np.zeros(len(geoms), dtype=bool)
    length = np.hypot(*np.diff(coords, axis=0).T)
    # a jump between two rings of one polygon may count as an edge: only a filter
    long = (length > step) & (index[1:] == index[:-1])
    out = np.zeros(len(geoms), dtype=bool)
    out[index[1:][long]] = True
    return out


def densify(geoms: np.ndarray, step: float) -> np.ndarray:
    """Insert vertices so no edge is longer than ``step``, never repairing anything.

    Unlike :func:`shapely.segmentize` (GEOS's densifier may rebuild a polygon it finds
    invalid, dropping a bowtie's lobe), this only inserts points on existing straight edges,
    so an invalid polygon stays exactly as invalid as it was.

    Parameters
    ----------
    geoms : numpy.ndarray
        Shapely geometries (points, lines, polygons; ``None`` allowed).
    step : float
        Longest edge to keep, in the geometries' own units.

    Returns
    -------
    numpy.ndarray
        New geometries; points and ``None`` pass through unchanged.

    Examples
    --------
    >>> from shapely import Polygon
    >>> bowtie = Polygon([(0, 0), (2, 2), (2, 0), (0, 2)])
    >>> dense = densify(np.array([bowtie]), 0.5)[0]
    >>> len(dense.exterior.coords), dense.is_valid
    (21, False)
    """
    geoms = np.asarray(geoms, dtype=object)
    out = geoms.copy()
    type_ids = shapely.get_type_id(geoms)
    bounds = shapely.bounds(geoms)
    # a geometry whose bounding box has a diagonal under `step` has no edge to split
    small = np.hypot(bounds[:, 2] - bounds[:, 0], bounds[:, 3] - bounds[:, 1]) <= step
    for family in ((1, 5), (3, 6)):  # lines, polygons
        sel = np.flatnonzero(np.isin(type_ids, family) & ~shapely.is_empty(geoms) & ~small)
        sel = sel[_has_long_edge(geoms[sel], step)]
        if sel.size:
            out[sel] = _densify_family(geoms[sel], step)
    for i in np.flatnonzero(type_ids == 7):  # rare: collections, densify part by part
        out[i] = shapely.geometrycollections(list(densify(shapely.get_parts(geoms[i]), step)))
    return out


def to_area_frame(geometry: gpd.GeoSeries, frame: pyproj.CRS) -> np.ndarray:
    """Densify geometries in their own CRS and project them into ``frame``.

    Parameters
    ----------
    geometry : geopandas.GeoSeries
        Geometries with a CRS.
    frame : pyproj.CRS
        Target frame, usually from :func:`area_frame`.

    Returns
    -------
    numpy.ndarray
        Shapely geometries in ``frame`` (a new array; the input is not modified).
    """
    return project_dense(np.asarray(geometry.array, dtype=object), geometry.crs, frame)


def project_dense(geoms: np.ndarray, source: object, target: object) -> np.ndarray:
    """Densify geometries in ``source`` (edges at most :func:`max_segment_length`) and
    project them to ``target``; the array form of :func:`to_area_frame`.

    Parameters
    ----------
    geoms : numpy.ndarray
        Shapely geometries in ``source``.
    source, target : pyproj.CRS or anything pyproj accepts
        Their CRS and the CRS wanted.

    Returns
    -------
    numpy.ndarray
        New geometries in ``target``.
    """
    dense = densify(np.asarray(geoms, dtype=object), max_segment_length(as_crs(source)))
    move = transformer(source, target)

    def project(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(move.transform(xy[:, 0], xy[:, 1]))

    return shapely.transform(dense, project)


def to_crs_dense(geometry: gpd.GeoSeries, crs: pyproj.CRS) -> np.ndarray:
    """Geometries in ``crs``, densified in their own CRS first so edges keep their course.

    Parameters
    ----------
    geometry : geopandas.GeoSeries
        Geometries with a CRS.
    crs : pyproj.CRS
        Target CRS; when it equals the source, the geometries are returned as they are.

    Returns
    -------
    numpy.ndarray
        Shapely geometries in ``crs``.
    """
    source, target = as_crs(geometry.crs), as_crs(crs)
    if source.equals(target):
        out = np.asarray(geometry.array, dtype=object)
        return canonical_lonlat(out, target) if target.is_geographic else out
    out = to_area_frame(geometry, target)
    return canonical_lonlat(out, target, projected=True) if target.is_geographic else out


def canonical_lonlat(geoms: np.ndarray, crs: object, *, projected: bool = False) -> np.ndarray:
    """Longitude/latitude geometries with every place at longitudes in [-180°, 180°].

    Data across the antimeridian is often written continuously (179° to 181°); overlaid as
    it is, 181° would not meet -179°. Geometries reaching past ±180° are cut there and their
    parts moved by 360°. With ``projected``, the geometries were just taken to lon/lat from
    another CRS, where an edge between two vertices 358° of longitude apart is really 2°
    long across the antimeridian: such geometries are cut along ±180° as well. Others are
    returned as they are (the same objects).

    Parameters
    ----------
    geoms : numpy.ndarray
        Shapely geometries in ``crs``, a geographic CRS.
    crs : pyproj.CRS or anything pyproj accepts
        Their CRS.
    projected : bool, default False
        Whether consecutive vertices more than 180° apart mean a short edge across ±180°.

    Returns
    -------
    numpy.ndarray
        New array of geometries.

    Examples
    --------
    >>> from shapely import box
    >>> [round(p.area, 6) for p in canonical_lonlat(np.array([box(179, 0, 181, 1)]), 4326)[0].geoms]
    [1.0, 1.0]
    """
    geoms = np.asarray(geoms, dtype=object)
    out = geoms.copy()
    if len(geoms) == 0:
        return out
    unit = degrees_per_unit(as_crs(crs))
    half = 180.0 / unit
    if projected:
        live = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
        for i in np.flatnonzero(live & _has_jump(geoms, unit)):
            out[i] = _across_antimeridian(out[i], unit)
    bounds = parallel(shapely.bounds, out)
    eps = 1e-9 * half
    # missing and empty geometries have NaN bounds, beyond nothing
    beyond = (bounds[:, 0] < -half - eps) | (bounds[:, 2] > half + eps)
    for i in np.flatnonzero(beyond):
        out[i] = _into_window(out[i], half)
    return out


def _into_window(geom: shapely.Geometry, half: float) -> shapely.Geometry:
    """A lon/lat geometry reaching past ±``half`` cut into windows of ``2 half`` and moved
    into [-half, half] (parts that meet again after moving are unioned)."""
    xmin, _, xmax, _ = geom.bounds
    polygonal = shapely.get_type_id(geom) in (3, 6, 7)
    pieces = []
    for k in range(
        int(np.floor((xmin + half) / (2 * half))), int(np.floor((xmax + half) / (2 * half))) + 1
    ):
        window = shapely.box(-half + 2 * k * half, -half, half + 2 * k * half, half)
        cut = shapely.intersection(geom, window)
        if not cut.is_empty:
            pieces.append(shapely.transform(cut, lambda xy, k=k: xy - [2 * k * half, 0.0]))
    if not pieces:
        return geom
    if polygonal:
        return polygonal_parts(np.array([shapely.union_all(pieces)], dtype=object))[0]
    return shapely.union_all(pieces)


#: Features smaller than this (bounding box side, degrees) are measured by local scale.
LOCAL_MAX_DEGREES = 0.1
#: Features smaller than this (bounding box side, metres) are measured by local scale.
LOCAL_MAX_METRES = 20_000.0


def _radii(lat_deg: np.ndarray, crs: pyproj.CRS) -> tuple[np.ndarray, np.ndarray]:
    """Meridional and prime-vertical radii of curvature (metres) of ``crs``'s ellipsoid."""
    ellipsoid = crs.ellipsoid
    if ellipsoid is None:  # refused on read (check_earth); a caller's own CRS may lack one
        raise CRSError(f"{crs.name} has no ellipsoid; give a CRS of the Earth.")
    a = ellipsoid.semi_major_metre
    f = 1.0 / ellipsoid.inverse_flattening if ellipsoid.inverse_flattening else 0.0
    e2 = f * (2.0 - f)
    w = 1.0 - e2 * np.sin(np.radians(lat_deg)) ** 2
    return a * (1.0 - e2) / w**1.5, a / np.sqrt(w)


def degrees_per_unit(crs: pyproj.CRS) -> float:
    """Degrees in one unit of a geographic CRS's axes (1 for degrees, 0.9 for grads)."""
    factor = as_crs(crs).axis_info[0].unit_conversion_factor
    return float(np.degrees(factor)) if factor else 1.0


def _geographic_scale(lat_deg: np.ndarray, crs: pyproj.CRS) -> np.ndarray:
    """Square metres per square degree of longitude × latitude at ``lat_deg``."""
    meridional, normal = _radii(lat_deg, crs)
    return meridional * normal * np.cos(np.radians(lat_deg)) * (np.pi / 180.0) ** 2


def local_metric(x: np.ndarray, y: np.ndarray, crs: object) -> np.ndarray:
    """The linear map from small offsets in ``crs`` near each point to metres on the ground.

    Near a point, a CRS is an affine image of the ground: an offset ``(dx, dy)`` in CRS
    units is ``A @ (dx, dy)`` metres east and north on the CRS's ellipsoid. Geographic CRSs
    use the ellipsoid's radii of curvature; projected ones a central difference of 0.5 m
    through their inverse projection.

    Parameters
    ----------
    x, y : numpy.ndarray
        Points in ``crs`` (longitude and latitude for a geographic CRS).
    crs : pyproj.CRS or anything pyproj accepts
        Their CRS.

    Returns
    -------
    numpy.ndarray
        Shape ``(n, 2, 2)``: ``[[de/dx, de/dy], [dn/dx, dn/dy]]`` per point.

    Examples
    --------
    >>> a = local_metric(np.array([45.0]), np.array([60.0]), 4326)[0]
    >>> [round(float(v)) for v in a.ravel()]  # metres per degree east and north at 60°N
    [55800, 0, 0, 111412]
    """
    crs = as_crs(crs)
    x = np.atleast_1d(np.asarray(x, dtype=float))
    y = np.atleast_1d(np.asarray(y, dtype=float))
    n = x.size
    jac = np.zeros((n, 2, 2))  # degrees of (lon, lat) per unit of (x, y)
    if crs.is_geographic:
        unit = crs.axis_info[0].unit_conversion_factor or np.pi / 180.0
        jac[:, 0, 0] = jac[:, 1, 1] = np.degrees(unit)
        lat = y * np.degrees(unit)
    else:
        h = 0.5 / metres_per_unit(crs)
        xs = np.concatenate([x, x + h, x - h, x, x])
        ys = np.concatenate([y, y, y, y + h, y - h])
        lon_all, lat_all = transformer(crs, crs.geodetic_crs).transform(xs, ys)
        lon_all = np.reshape(lon_all, (5, n))
        lat_all = np.reshape(lat_all, (5, n))
        lat = lat_all[0]

        def diff(a: np.ndarray, b: np.ndarray) -> np.ndarray:
            return ((a - b + 180.0) % 360.0 - 180.0) / (2.0 * h)

        jac[:, 0, 0] = diff(lon_all[1], lon_all[2])
        jac[:, 0, 1] = diff(lon_all[3], lon_all[4])
        jac[:, 1, 0] = (lat_all[1] - lat_all[2]) / (2.0 * h)
        jac[:, 1, 1] = (lat_all[3] - lat_all[4]) / (2.0 * h)
    meridional, normal = _radii(lat, crs)
    per_degree = np.stack([normal * np.cos(np.radians(lat)), meridional], axis=1) * np.pi / 180
    return per_degree[:, :, None] * jac


def _projected_areal_scale(x: np.ndarray, y: np.ndarray, crs: pyproj.CRS) -> np.ndarray:
    """Planar CRS area per true ellipsoidal area at each point (the projection's areal scale).

    Taken from :func:`local_metric` (a central difference through the inverse projection,
    on the CRS's ellipsoid), not from PROJ's ``get_factors``, which for projections PROJ
    computes on a sphere (Mollweide, Robinson in their ESRI definitions) reports the
    sphere's scale: 0.67 % off at the equator.
    """
    metric = local_metric(x, y, crs)
    true_per_unit = np.abs(metric[:, 0, 0] * metric[:, 1, 1] - metric[:, 0, 1] * metric[:, 1, 0])
    return 1.0 / true_per_unit


def local_size_limit(crs: pyproj.CRS) -> float:
    """The largest box side (in ``crs`` units) of a feature measured where it lies
    (:func:`local_area_m2`): :data:`LOCAL_MAX_DEGREES` or :data:`LOCAL_MAX_METRES`.

    Examples
    --------
    >>> local_size_limit(pyproj.CRS(4326)), local_size_limit(pyproj.CRS(32638))
    (0.1, 20000.0)
    """
    crs = as_crs(crs)
    if crs.is_geographic:
        return LOCAL_MAX_DEGREES / degrees_per_unit(crs)
    return LOCAL_MAX_METRES / metres_per_unit(crs)


def local_area_m2(
    planar: np.ndarray, cx: np.ndarray, cy: np.ndarray, crs: pyproj.CRS
) -> np.ndarray:
    """True area in m² of small features from their planar area and centroid in ``crs``.

    The planar area times the ellipsoid's area per unit at the centroid (see
    :func:`area_m2`); only for features whose box side is at most
    :func:`local_size_limit`.

    Examples
    --------
    >>> round(float(local_area_m2(np.array([1e6]), np.array([5e5]), np.array([44e5]), 32638)[0]))
    1000800
    """
    crs = as_crs(crs)
    if crs.is_geographic:
        per_unit = degrees_per_unit(crs)  # degrees per unit of the axes: 1, or 0.9 for grads
        return planar * per_unit**2 * _geographic_scale(np.asarray(cy) * per_unit, crs)
    return planar / _projected_areal_scale(cx, cy, crs)


def area_m2(geoms: np.ndarray, crs: pyproj.CRS, frame: pyproj.CRS | None = None) -> np.ndarray:
    """True ellipsoidal area of polygons given in ``crs``, in square metres.

    Small features (the usual hazard or release polygon) are measured where they are: the
    planar area in their own CRS times the ellipsoid's area per unit there, taken at the
    feature's centroid. The ellipsoidal area element varies smoothly, so its mean over a
    polygon equals its value at the centroid up to a second-order term (below 1e-6 of the
    area for features under :data:`LOCAL_MAX_DEGREES` or :data:`LOCAL_MAX_METRES`). This
    is additive: pieces that tile a polygon sum to its area. Larger features are densified
    and projected into an equal-area frame (:func:`to_area_frame`).

    Parameters
    ----------
    geoms : numpy.ndarray
        Polygonal shapely geometries in ``crs``.
    crs : pyproj.CRS
        Their CRS.
    frame : pyproj.CRS, optional
        Equal-area frame for large features; by default one centred on them.

    Returns
    -------
    numpy.ndarray
        Areas in m².

    Examples
    --------
    >>> from shapely import box
    >>> round(float(area_m2(np.array([box(5e5, 44e5, 501e3, 4401e3)]), 32638)[0]))
    1000800
    """
    crs = as_crs(crs)
    geoms = np.asarray(geoms, dtype=object)
    out = np.zeros(len(geoms))
    if len(geoms) == 0:
        return out
    planar = parallel(shapely.area, geoms)
    bounds = parallel(shapely.bounds, geoms)
    size = np.fmax(bounds[:, 2] - bounds[:, 0], bounds[:, 3] - bounds[:, 1])
    has_area = planar > 0
    small = has_area & (size <= local_size_limit(crs))
    if small.any():
        centre = parallel(shapely.centroid, geoms[small])
        out[small] = local_area_m2(planar[small], shapely.get_x(centre), shapely.get_y(centre), crs)
    large = has_area & ~small
    if large.any():
        if frame is None:
            frame = area_frame(gpd.GeoDataFrame(geometry=gpd.GeoSeries(geoms[large], crs=crs)))
        out[large] = _large_area_m2(geoms[large], crs, as_crs(frame))
    return out


#: A frame measures a feature only if every vertex lies within this angle (degrees) of the
#: frame's centre and the centre's antipode is not in the feature. LAEA keeps area
#: everywhere but at the antipode; near it, it stretches one way and shrinks the other so
#: much that chords of the densified edges stray: a 4° box 175° from the centre is off by
#: 1e-5, 120° from it by 2e-8.
FRAME_REACH_DEGREES = 120.0
#: Features that fit no frame of their own are cut in quarters (in their own CRS) at most
#: this many times.
MAX_SPLITS = 8
#: Authalic radius of the WGS 84 ellipsoid (metres): LAEA puts a point at angular distance
#: c from its centre at 2 R sin(c/2) from the origin.
_AUTHALIC_RADIUS_M = 6_371_007.2


def laea_frame(lon_0: float, lat_0: float) -> pyproj.CRS:
    """A Lambert Azimuthal Equal Area CRS on WGS 84 centred on (lon_0, lat_0) degrees."""
    return pyproj.CRS.from_proj4(
        f"+proj=laea +lat_0={lat_0:.6f} +lon_0={lon_0:.6f} +x_0=0 +y_0=0 "
        "+ellps=WGS84 +units=m +no_defs"
    )


def frame_centre(frame: pyproj.CRS) -> tuple[float, float]:
    """(longitude, latitude) in degrees of an azimuthal frame's centre."""
    operation = frame.coordinate_operation
    if operation is None:
        raise CRSError(f"{frame.name} is not a projection; an azimuthal frame was expected.")
    params = {p.name: p.value for p in operation.params}
    return (
        float(params.get("Longitude of natural origin", 0.0)),
        float(params.get("Latitude of natural origin", 0.0)),
    )


_GEOD = pyproj.Geod(ellps="WGS84")
#: Metres per degree of great circle on the mean Earth radius.
_M_PER_DEGREE = 6_371_008.8 * np.pi / 180.0


def feature_reach_m(geoms: np.ndarray, crs: object) -> np.ndarray:
    """Rough half-diagonal of each feature's bounding box in metres."""
    b = shapely.bounds(geoms)
    half = np.hypot(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]) / 2.0
    if as_crs(crs).is_geographic:
        half = half * 111_320.0
    return np.nan_to_num(half)


def within_of_centre(
    lon: np.ndarray, lat: np.ndarray, reach_m: np.ndarray, frame: pyproj.CRS, degrees: float
) -> np.ndarray:
    """Whether points (plus ``reach_m``) lie within ``degrees`` (of great circle) of the
    azimuthal ``frame``'s centre."""
    lon_0, lat_0 = frame_centre(as_crs(frame))
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    ok = np.isfinite(lon) & np.isfinite(lat)
    out = np.zeros(len(lon), dtype=bool)
    if ok.any():
        gap = _GEOD.inv(np.full(ok.sum(), lon_0), np.full(ok.sum(), lat_0), lon[ok], lat[ok])[2]
        out[ok] = np.asarray(gap) + np.asarray(reach_m)[ok] <= degrees * _M_PER_DEGREE
    return out


def held_by_frame(
    lon: np.ndarray, lat: np.ndarray, reach_m: np.ndarray, frame: pyproj.CRS
) -> np.ndarray:
    """Whether features (a point of each and its reach in metres) lie wholly within
    :data:`FRAME_REACH_DEGREES` of the LAEA ``frame``'s centre."""
    return within_of_centre(lon, lat, reach_m, frame, FRAME_REACH_DEGREES)


def _measured_in(
    geoms: np.ndarray, crs: pyproj.CRS, frame: pyproj.CRS
) -> tuple[np.ndarray, np.ndarray]:
    """Area of each geometry in an LAEA ``frame`` and whether the frame can be trusted
    with it (every vertex within :data:`FRAME_REACH_DEGREES` of the centre, the centre's
    antipode outside the feature)."""
    projected = project_dense(geoms, crs, frame)
    coords, index = shapely.get_coordinates(projected, return_index=True)
    reach = 2.0 * _AUTHALIC_RADIUS_M * np.sin(np.radians(FRAME_REACH_DEGREES) / 2.0)
    with np.errstate(invalid="ignore"):
        far = ~(np.hypot(coords[:, 0], coords[:, 1]) <= reach)
    fits = np.ones(len(geoms), dtype=bool)
    fits[index[far]] = False
    lon_0, lat_0 = frame_centre(frame)
    antipode_lon, antipode_lat = lon_0 + 180.0, -lat_0
    antipode_lon = (antipode_lon + 180.0) % 360.0 - 180.0
    if crs.is_geographic:
        # lon/lat data may be written past ±180° (179° to 181°): the antipode is there too
        per_degree = 1.0 / degrees_per_unit(crs)
        points = shapely.points(
            (antipode_lon + np.array([-360.0, 0.0, 360.0])) * per_degree,
            np.full(3, antipode_lat * per_degree),
        )
    else:
        x, y = transformer(_WGS84, crs).transform([antipode_lon], [antipode_lat], errcheck=False)
        points = shapely.points(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
        points = points[np.isfinite(shapely.get_x(points)) & np.isfinite(shapely.get_y(points))]
    for point in points:
        fits &= ~shapely.intersects(geoms, point)
    with np.errstate(invalid="ignore"):
        area = shapely.area(projected)
    return area, fits & np.isfinite(area)


def _own_frames(geoms: np.ndarray, crs: pyproj.CRS) -> list[tuple[pyproj.CRS, np.ndarray]]:
    """Frames centred near each geometry (on a 5° grid, so that neighbours share one) and
    the indices each serves."""
    lon, lat = lonlat_points(gpd.GeoDataFrame(geometry=gpd.GeoSeries(geoms, crs=crs)))
    lon = np.where(np.isfinite(lon), lon, 0.0)
    lat = np.where(np.isfinite(lat), lat, 0.0)
    lon = (np.round(lon / 5.0) * 5.0 + 180.0) % 360.0 - 180.0
    lat = np.clip(np.round(lat / 5.0) * 5.0, -90.0, 90.0)
    keys = np.column_stack([lon, lat])
    unique, inverse = np.unique(keys, axis=0, return_inverse=True)
    inverse = np.ravel(inverse)
    return [(laea_frame(*unique[k]), np.flatnonzero(inverse == k)) for k in range(len(unique))]


def _quarters(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each geometry cut in four along the middle of its bounding box (in its own CRS; the
    cuts are straight there, as every edge is), and the index of the geometry of each part."""
    bounds = shapely.bounds(geoms)
    xm = (bounds[:, 0] + bounds[:, 2]) / 2.0
    ym = (bounds[:, 1] + bounds[:, 3]) / 2.0
    parts, origin = [], []
    for x0, x1 in ((bounds[:, 0], xm), (xm, bounds[:, 2])):
        for y0, y1 in ((bounds[:, 1], ym), (ym, bounds[:, 3])):
            parts.append(shapely.intersection(geoms, shapely.box(x0, y0, x1, y1)))
            origin.append(np.arange(len(geoms)))
    parts_all = polygonal_parts(np.concatenate(parts))
    origin_all = np.concatenate(origin)
    keep = shapely.area(parts_all) > 0
    return parts_all[keep], origin_all[keep]


def _large_area_m2(geoms: np.ndarray, crs: pyproj.CRS, frame: pyproj.CRS) -> np.ndarray:
    """True area of features too large for the local scale, each in a frame it fits.

    First the shared ``frame``; a feature it cannot be trusted with (near the frame's
    antipode: data spread round the globe) is measured in a frame centred near itself; a
    feature no frame can hold (wider than a hemisphere, a ring round the globe, the whole
    Earth) is cut in quarters in its own CRS, and each part is measured the same way.
    Every step is additive, so the parts sum to the feature's area.
    """
    out, fits = _measured_in(geoms, crs, frame)
    todo = np.flatnonzero(~fits)
    out[todo] = 0.0
    work, origin = geoms[todo], todo
    for _ in range(MAX_SPLITS + 1):
        if work.size == 0:
            break
        area = np.full(len(work), np.nan)
        done = np.zeros(len(work), dtype=bool)
        for own, rows in _own_frames(work, crs):
            area[rows], done[rows] = _measured_in(work[rows], crs, own)
        np.add.at(out, origin[done], area[done])
        work, sub = _quarters(work[~done])
        origin = origin[~done][sub]
    if work.size:
        out[np.unique(origin)] = np.nan
    return out


def area_ha(geometry: gpd.GeoSeries, frame: pyproj.CRS | None = None) -> np.ndarray:
    """True (ellipsoidal) area of each geometry in hectares.

    Parameters
    ----------
    geometry : geopandas.GeoSeries
        Polygonal geometries with a CRS.
    frame : pyproj.CRS, optional
        Equal-area frame to measure in; by default one centred on ``geometry``.

    Returns
    -------
    numpy.ndarray
        Areas in hectares.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> g = gpd.GeoSeries([box(500_000, 4_400_000, 501_000, 4_401_000)], crs=32638)
    >>> round(float(area_ha(g)[0]), 1)  # a 1 km UTM square is not exactly 100 ha
    100.1
    """
    return area_m2(np.asarray(geometry.array, dtype=object), geometry.crs, frame) / M2_PER_HA


def describe_frame(frame: pyproj.CRS) -> str:
    """Short human description of an area frame, e.g. for reports."""
    lon, lat = frame_centre(frame)
    return f"Lambert Azimuthal Equal Area centred on {lat:.4f}°N {lon:.4f}°E"


# ------------------------------------------------------------------------------------------
# edge convention
# ------------------------------------------------------------------------------------------

#: Edge conventions: ``planar`` (straight in the layer's own CRS, as in most GIS files) or
#: ``geodesic`` (great-circle arcs on the ellipsoid, as PostGIS geography and Google Earth).
EDGES: tuple[str, ...] = ("planar", "geodesic")
#: With geodesic edges, arcs are traced by vertices at most this far apart (metres): a
#: straight chord of 2 km strays from its arc by under 0.1 mm at any latitude below 89°.
GEODESIC_STEP_M = 2_000.0


def check_edges(edges: object) -> str:
    """Refuse an unknown edge convention."""
    if edges not in EDGES:
        from minemap._errors import SchemaError

        raise SchemaError(
            f"edges={edges!r}: use 'planar' (edges straight in the layer's CRS) "
            "or 'geodesic' (great-circle arcs)."
        )
    return str(edges)


def geodesic_edges(geoms: np.ndarray, crs: object, step_m: float = GEODESIC_STEP_M) -> np.ndarray:
    """Polygons and lines whose edges follow geodesics (great-circle arcs) between vertices.

    Every edge longer than ``step_m`` on the ellipsoid gets vertices along its geodesic, so
    that the result, read with minemap's usual convention (edges straight in ``crs``), traces
    the arcs. Short edges, points and ``None`` are unchanged.

    Parameters
    ----------
    geoms : numpy.ndarray
        Shapely geometries in ``crs``.
    crs : pyproj.CRS or anything pyproj accepts
        Their CRS.
    step_m : float
        Longest chord kept, in metres.

    Returns
    -------
    numpy.ndarray
        New geometries in ``crs``.

    Examples
    --------
    >>> from shapely import LineString
    >>> line = geodesic_edges(np.array([LineString([(0, 60), (10, 60)])]), 4326)[0]
    >>> round(max(y for _, y in line.coords), 2)  # the great circle bows towards the pole
    60.09
    """
    crs = as_crs(crs)
    geoms = np.asarray(geoms, dtype=object)
    out = geoms.copy()
    type_ids = shapely.get_type_id(geoms)
    candidate = np.isin(type_ids, (1, 3, 5, 6)) & ~shapely.is_empty(geoms)
    rows = np.flatnonzero(candidate)
    # a feature none of whose edges can be longer than the step is left as it is
    candidate[rows[_span_bound(geoms[rows], crs) <= step_m]] = False
    for family in ((1, 5), (3, 6)):
        sel = np.flatnonzero(np.isin(type_ids, family) & candidate)
        if sel.size:
            out[sel] = _geodesic_family(geoms[sel], crs, step_m)
    if crs.is_geographic:
        unit = float(np.degrees(crs.axis_info[0].unit_conversion_factor or np.pi / 180.0))
        for i in np.flatnonzero(candidate & _has_jump(geoms, unit)):
            out[i] = _across_antimeridian(out[i], unit)
    for i in np.flatnonzero(type_ids == 7):
        out[i] = shapely.geometrycollections(
            list(geodesic_edges(shapely.get_parts(geoms[i]), crs, step_m))
        )
    return out


def _has_jump(geoms: np.ndarray, unit: float) -> np.ndarray:
    """Whether consecutive vertices of a geometry are more than 180° of longitude apart (a
    geodesic edge crossing the antimeridian; jumps between rings also count: a filter)."""
    coords, index = shapely.get_coordinates(geoms, return_index=True)
    out = np.zeros(len(geoms), dtype=bool)
    if len(coords) > 1:
        jump = (np.abs(np.diff(coords[:, 0])) * unit > 180.0) & (index[1:] == index[:-1])
        out[index[1:][jump]] = True
    return out


def _unwrapped(ring: np.ndarray, unit: float) -> np.ndarray:
    """A ring's or line's coordinates with longitudes made continuous across ±180°."""
    lon = ring[:, 0] * unit
    step = (np.diff(lon) + 180.0) % 360.0 - 180.0
    out = ring.copy()
    out[:, 0] = (lon[0] + np.concatenate([[0.0], np.cumsum(step)])) / unit
    return out


def _across_antimeridian(geom: shapely.Geometry, unit: float) -> shapely.Geometry:
    """A lon/lat polygon or line whose geodesic edges cross ±180°, cut there into parts.

    With geodesic edges, an edge from 179° to -179° is 2° long, not 358°. Each ring and line
    is made continuous (longitudes past 180°), then cut along the antimeridian (a meridian,
    so a geodesic too) and brought back into [-180°, 180°]. A ring that does not close once
    unwrapped encircles a pole (Antarctica runs along -90° between 180° and -180°): the
    geometry is returned as it is.
    """
    half = 180.0 / unit
    polygonal = shapely.get_type_id(geom) in (3, 6)
    pieces = []
    for part in shapely.get_parts(geom):
        if polygonal:
            rings = [
                _unwrapped(np.asarray(r.coords), unit) for r in (part.exterior, *part.interiors)
            ]
            if any(abs(r[-1, 0] - r[0, 0]) * unit > 1e-9 for r in rings):
                return geom  # encircles a pole
            if all(
                np.array_equal(r, np.asarray(o.coords))
                for r, o in zip(rings, (part.exterior, *part.interiors), strict=True)
            ):
                pieces.append(part)  # no edge of this part crosses
                continue
            shell = rings[0]
            holes = [
                r - [2 * half * np.round((r[:, 0].mean() - shell[:, 0].mean()) / (2 * half)), 0.0]
                for r in rings[1:]
            ]
            continuous = shapely.Polygon(shell, holes)
        else:
            coords = np.asarray(part.coords)
            unwrapped = _unwrapped(coords, unit)
            if np.array_equal(unwrapped, coords):
                pieces.append(part)
                continue
            continuous = shapely.LineString(unwrapped)
        xmin, _, xmax, _ = continuous.bounds
        for k in range(
            int(np.floor((xmin + half) / (2 * half))), int(np.floor((xmax + half) / (2 * half))) + 1
        ):
            window = shapely.box(
                -half + 2 * k * half, -90.0 / unit, half + 2 * k * half, 90.0 / unit
            )
            cut = shapely.intersection(continuous, window)
            if not cut.is_empty:
                pieces.extend(
                    shapely.get_parts(
                        shapely.transform(cut, lambda xy, k=k: xy - [2 * k * half, 0.0])
                    )
                )
    wanted = (3,) if polygonal else (1,)
    pieces = [p for p in pieces if shapely.get_type_id(p) in wanted and not p.is_empty]
    if not pieces:
        return geom
    if polygonal:
        return pieces[0] if len(pieces) == 1 else shapely.MultiPolygon(pieces)
    return pieces[0] if len(pieces) == 1 else shapely.MultiLineString(pieces)


def _lonlat_bound(
    lon0: np.ndarray, lat0: np.ndarray, lon1: np.ndarray, lat1: np.ndarray
) -> np.ndarray:
    """Upper bound (metres) of the geodesic between two lon/lat points (degrees), or between
    any two points of the box they span: along a parallel, then a meridian; no degree of
    either is longer than 111.7 km, and a parallel's degree shrinks with its latitude's
    cosine."""
    dlon = np.abs((lon1 - lon0 + 180.0) % 360.0 - 180.0)
    same_side = np.sign(lat0) == np.sign(lat1)
    cos_max = np.where(same_side, np.cos(np.radians(np.fmin(np.abs(lat0), np.abs(lat1)))), 1.0)
    return 111_700.0 * (dlon * cos_max + np.abs(lat1 - lat0))


def _ground_per_unit(geoms: np.ndarray, crs: pyproj.CRS) -> np.ndarray:
    """Ground metres per unit of a projected CRS near each feature (at its bounding box's
    centre, in the direction the CRS shrinks most), with a 10 % margin: a prefilter, and an
    edge a little longer than the step that it misses strays from its arc by a fraction of a
    millimetre."""
    bounds = shapely.bounds(geoms)
    metric = local_metric(
        (bounds[:, 0] + bounds[:, 2]) / 2.0, (bounds[:, 1] + bounds[:, 3]) / 2.0, crs
    )
    with np.errstate(invalid="ignore"):
        stretch = np.linalg.norm(metric, ord=2, axis=(1, 2))
    return 1.1 * np.where(np.isfinite(stretch), stretch, np.inf)


def _span_bound(geoms: np.ndarray, crs: pyproj.CRS) -> np.ndarray:
    """Upper bound (metres) of the ground distance between any two vertices of a feature."""
    bounds = shapely.bounds(geoms)
    if crs.is_geographic:
        unit = np.degrees(crs.axis_info[0].unit_conversion_factor or np.pi / 180.0)
        b = bounds * unit
        return np.where(
            b[:, 2] - b[:, 0] > 180.0, np.inf, _lonlat_bound(b[:, 0], b[:, 1], b[:, 2], b[:, 3])
        )
    diagonal = np.hypot(bounds[:, 2] - bounds[:, 0], bounds[:, 3] - bounds[:, 1])
    return diagonal * _ground_per_unit(geoms, crs)


def _edge_length_bound(
    geoms: np.ndarray, coords: np.ndarray, geom_of: np.ndarray, a: np.ndarray, crs: pyproj.CRS
) -> np.ndarray:
    """An upper bound, in metres, of the geodesic length of edges ``a`` -> ``a + 1``.

    Cheap (no geodesic is solved) so that only edges that may be long are; most hazard
    polygons have none.
    """
    if crs.is_geographic:
        unit = np.degrees(crs.axis_info[0].unit_conversion_factor or np.pi / 180.0)
        return _lonlat_bound(
            coords[a, 0] * unit,
            coords[a, 1] * unit,
            coords[a + 1, 0] * unit,
            coords[a + 1, 1] * unit,
        )
    planar = np.hypot(*(coords[a + 1] - coords[a]).T)
    return planar * _ground_per_unit(geoms, crs)[geom_of[a]]


def _geometry_of_coordinates(offsets: tuple[np.ndarray, ...], n: int) -> np.ndarray:
    """Index of the geometry each coordinate of a ragged array belongs to."""
    index = np.arange(n)
    for level in offsets:
        index = np.searchsorted(np.asarray(level), index, side="right") - 1
    return index


def _geodesic_family(geoms: np.ndarray, crs: pyproj.CRS, step_m: float) -> np.ndarray:
    kind, coords, offsets = shapely.to_ragged_array(geoms, include_z=False)
    parts = np.asarray(offsets[0], dtype=np.int64)
    n = coords.shape[0]
    if n < 2:
        return geoms
    part_end = np.zeros(n, dtype=bool)
    part_end[parts[1:] - 1] = True
    starts = np.flatnonzero(~part_end[:-1])
    geom_of = _geometry_of_coordinates(offsets, n)
    with np.errstate(invalid="ignore"):
        starts = starts[~(_edge_length_bound(geoms, coords, geom_of, starts, crs) <= step_m)]
    if not starts.size:
        return geoms
    ends = np.unique(np.concatenate([starts, starts + 1]))
    lon = np.full(n, np.nan)
    lat = np.full(n, np.nan)
    if crs.is_geographic:
        unit = np.degrees(crs.axis_info[0].unit_conversion_factor or np.pi / 180.0)
        lon[ends], lat[ends] = coords[ends, 0] * unit, coords[ends, 1] * unit
    else:
        lon[ends], lat[ends] = transformer(crs, crs.geodetic_crs).transform(
            coords[ends, 0], coords[ends, 1]
        )
    geod = crs.get_geod() or pyproj.Geod(ellps="WGS84")
    azimuth, _, dist = geod.inv(lon[starts], lat[starts], lon[starts + 1], lat[starts + 1])
    extra = np.zeros(n, dtype=np.int64)
    extra[starts] = np.maximum(np.ceil(np.nan_to_num(dist) / step_m).astype(np.int64) - 1, 0)
    if not extra.any():
        return geoms
    seg_az = np.zeros(n)
    seg_az[starts] = azimuth
    seg_dist = np.zeros(n)
    seg_dist[starts] = dist
    counts = extra + 1
    origin = np.repeat(np.arange(n), counts)
    within = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    frac = within / np.repeat(counts, counts)
    inserted = within > 0
    new = coords[origin].copy()
    o = origin[inserted]
    nlon, nlat, _ = geod.fwd(lon[o], lat[o], seg_az[o], seg_dist[o] * frac[inserted])
    nlon = lon[o] + ((nlon - lon[o] + 180.0) % 360.0 - 180.0)  # no jump across 180°
    if crs.is_geographic:
        new[inserted] = np.column_stack([nlon / unit, nlat / unit])
    else:
        x, y = transformer(crs.geodetic_crs, crs).transform(nlon, nlat)
        new[inserted] = np.column_stack([x, y])
    shift = np.concatenate([[0], np.cumsum(extra)])
    return shapely.from_ragged_array(kind, new, (parts + shift[parts], *offsets[1:]))
