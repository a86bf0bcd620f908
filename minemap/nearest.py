"""True distance in metres from each remaining hazard to the nearest feature of a layer.

The nearest feature and the two nearest points are found in the equal-area frame of
:func:`minemap.crs.area_frame`; the distance reported is the geodesic length between those
two points on the WGS 84 ellipsoid (0 where the hazard touches or overlaps a feature, or
lies inside a polygon feature). The frame stretches distances unevenly away from its centre
(by about 1 % at 10°), so the features it puts only a little farther than the nearest one
are measured on the ellipsoid too, and the nearest there is kept.

How it is made fast:

* Features are cut into points and two-point segments (polygons: their boundaries): a
  nearest-neighbour search over short segments prunes far better than one over long,
  winding roads, and an STRtree with small nodes (:data:`NODE_CAPACITY`) prunes best.
* The two nearest points are looked for only where the search found a gap (a hazard on a
  road is at 0 m).
* Hazards are searched in space-filling-curve order (:func:`minemap._overlay.spatial_order`),
  so successive searches walk the same branches of the tree while they are in cache.
* :class:`FeatureIndex` holds the segments and trees, so they can be built ahead, while
  the remaining area is still being computed.

Data spread round the globe (hazards or features more than :data:`SHARED_REACH_DEGREES`
from the frame's centre) is searched by region instead (:func:`regional_distances_m`): the
hazards are grouped on a :data:`REGION_DEGREES` grid of longitude and latitude, and each
group is searched in an equal-area frame centred on it, so no hazard is near a frame's
antipode, where shapes and distances are mangled.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pyproj
import shapely

from minemap import crs as _crs
from minemap._overlay import parallel, spatial_order

__all__ = ["FeatureIndex", "regional_distances_m", "segments"]

#: STRtree node size for the search: small nodes prune 2-3x better in GEOS here.
NODE_CAPACITY = 4

#: The shared equal-area frame is searched only when every hazard and feature lies within
#: this many degrees of its centre (LAEA's distance scale there errs by under 4 %, enough to
#: find the nearest feature; the distance reported is geodesic anyway).
SHARED_REACH_DEGREES = 30.0
#: Otherwise hazards are searched in one frame per cell of this many degrees.
REGION_DEGREES = 30.0

_GEOD = pyproj.Geod(ellps="WGS84")
#: A piece that could be nearer on the ground than the one found in the frame by no more
#: than this many metres, and no more than :data:`TIE_RELATIVE` of the distance, is not
#: looked for (see :meth:`FeatureIndex._geodesic_nearest`).
TIE_M = 0.01
#: The same bound as a fraction of the distance (0.01 %).
TIE_RELATIVE = 1e-4
#: Radius of the sphere of equal area to the WGS 84 ellipsoid (the frames' scale model).
_EARTH_RADIUS_M = 6_371_007.2
_WGS84 = pyproj.CRS.from_epsg(4326)


def segments(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split features into points and two-point segments (polygons: their boundaries).

    Parameters
    ----------
    geoms : numpy.ndarray
        Shapely geometries of any type.

    Returns
    -------
    tuple of numpy.ndarray
        The pieces, and the index of the feature each came from.

    Examples
    --------
    >>> from shapely import LineString, Point
    >>> pieces, src = segments(np.array([LineString([(0, 0), (1, 0), (1, 1)]), Point(5, 5)]))
    >>> [p.wkt for p in pieces], src.tolist()
    (['POINT (5 5)', 'LINESTRING (0 0, 1 0)', 'LINESTRING (1 0, 1 1)'], [1, 0, 0])
    """
    geoms = np.asarray(geoms, dtype=object)
    types = shapely.get_type_id(geoms)
    polygonal = np.isin(types, (3, 6))
    outline = geoms.copy()
    outline[polygonal] = shapely.boundary(geoms[polygonal])
    pointy = np.isin(types, (0, 4))
    points, point_src = shapely.get_parts(outline[pointy], return_index=True)
    lines, line_src = shapely.get_parts(outline[~pointy], return_index=True)
    lines, sub = shapely.get_parts(lines, return_index=True)  # multi-part boundaries
    line_src = line_src[sub]
    coords, index = shapely.get_coordinates(lines, return_index=True)
    same = index[1:] == index[:-1]
    segs = shapely.linestrings(np.stack([coords[:-1][same], coords[1:][same]], axis=1))
    src = np.concatenate(
        [np.flatnonzero(pointy)[point_src], np.flatnonzero(~pointy)[line_src[index[:-1][same]]]]
    )
    return np.concatenate([points, segs]), src


@dataclass
class FeatureIndex:
    """One layer's features in the equal-area frame, indexed for the nearest-feature search.

    Build it with :meth:`build` (it does not depend on the hazards, so it can be made ahead)
    and query it with :meth:`distances_m`.

    Examples
    --------
    A road running north along 44°E, and two hazards: one 0.01° (about 850 m) east of it,
    one across it.

    >>> import geopandas as gpd
    >>> from shapely import LineString, box
    >>> from minemap.crs import area_frame
    >>> road = gpd.GeoSeries([LineString([(44.0, 40.0), (44.0, 40.1)])], crs=4326)
    >>> frame = area_frame(road)
    >>> index = FeatureIndex.build(road.values, road.crs, frame)
    >>> hazards = gpd.GeoSeries(
    ...     [box(44.01, 40.05, 44.02, 40.06), box(43.999, 40.0, 44.001, 40.01)], crs=4326
    ... ).to_crs(frame)
    >>> np.round(index.distances_m(hazards.values)).tolist()
    [853.0, 0.0]
    """

    frame: pyproj.CRS
    pieces: np.ndarray
    tree: shapely.STRtree
    polygons: shapely.STRtree | None  # polygon features: a hazard inside one is at 0 m

    @classmethod
    def build(
        cls, geoms: np.ndarray, crs: object, frame: pyproj.CRS, *, finite_only: bool = False
    ) -> FeatureIndex:
        """Index features given in ``crs`` for searches in ``frame``.

        Parameters
        ----------
        geoms : numpy.ndarray
            The features (any geometry type).
        crs : pyproj.CRS or anything pyproj accepts
            Their CRS.
        frame : pyproj.CRS
            The equal-area frame the hazards will be given in.
        finite_only : bool, default False
            Leave out features that do not project into ``frame`` (at its antipode).

        Returns
        -------
        FeatureIndex
        """
        features = _crs.project_dense(np.asarray(geoms, dtype=object), crs, frame)
        if finite_only:
            with np.errstate(invalid="ignore"):
                coords, index = shapely.get_coordinates(features, return_index=True)
            bad = np.unique(index[~np.isfinite(coords).all(axis=1)])
            features = np.delete(features, bad)
        pieces, _ = segments(features)
        polygonal = features[np.isin(shapely.get_type_id(features), (3, 6))]
        return cls(
            pyproj.CRS(frame),
            pieces,
            shapely.STRtree(pieces, node_capacity=NODE_CAPACITY),
            shapely.STRtree(polygonal) if len(polygonal) else None,
        )

    def distances_m(self, targets: np.ndarray) -> np.ndarray:
        """True metres from each target (polygons in the frame) to the nearest feature.

        Parameters
        ----------
        targets : numpy.ndarray
            Polygonal geometries in :attr:`frame`.

        Returns
        -------
        numpy.ndarray
            Geodesic metres; NaN if there are no features, and for empty targets.
        """
        out = np.full(len(targets), np.nan)
        if len(targets) == 0 or len(self.pieces) == 0:
            return out

        def search(chunk: np.ndarray) -> np.ndarray:
            (i, j), gap = self.tree.query_nearest(chunk, all_matches=False, return_distance=True)
            found = np.full((len(chunk), 2), np.nan)  # an empty target finds nothing
            found[i] = np.column_stack([j, gap])
            return found

        targets = np.asarray(targets, dtype=object)
        order = spatial_order(targets)  # neighbours one after another: the tree stays cached
        found = np.empty((len(targets), 2))
        found[order] = parallel(search, targets[order])
        gap = found[:, 1]
        nearest = np.where(np.isfinite(gap), found[:, 0], 0).astype(np.intp)
        out[np.isfinite(gap)] = 0.0
        apart = np.flatnonzero(gap > 0)
        if apart.size:
            out[apart] = self._geodesic_nearest(targets[apart], gap[apart], nearest[apart])
        if self.polygons is not None:  # a hazard inside a settlement is at distance 0
            inside, _ = self.polygons.query(targets[order], predicate="intersects")
            out[order[inside]] = 0.0
        return out

    def _geodesic_nearest(
        self, targets: np.ndarray, gap: np.ndarray, nearest: np.ndarray
    ) -> np.ndarray:
        """Geodesic metres from each target to its nearest piece, ``gap`` (> 0) being the
        planar distance in the frame to the piece ``nearest`` found there.

        The frame stretches distances by direction and place (an azimuthal frame by up to
        ``1 / cos²(θ/2)`` between its radial and its tangential scale, θ away from its
        centre), so a piece a little farther in the plane can be nearer on the ground: every
        piece within ``gap`` grown by that ratio (plus a quarter) is measured, and the least
        geodesic distance is kept. Where that band is thinner than :data:`TIE_M` and than
        :data:`TIE_RELATIVE` of ``gap`` (data within a few degrees of the frame's centre), a
        piece in it would be nearer by less than that, and only the piece found is measured.
        """
        b = np.abs(shapely.bounds(targets))
        corner = np.hypot(np.maximum(b[:, 0], b[:, 2]), np.maximum(b[:, 1], b[:, 3]))
        # an azimuthal equal-area frame puts θ at 2 R sin(θ / 2) from its centre
        half = np.arcsin(np.clip((corner + gap) / (2.0 * _EARTH_RADIUS_M), 0.0, 1.0))
        slack = 1.25 * (1.0 / np.cos(half) ** 2 - 1.0) + 1e-9
        reach = gap * (1.0 + slack)
        # where the band is thin, a piece in it is at most its width nearer: not looked for
        look = np.flatnonzero(reach - gap >= np.maximum(TIE_M, TIE_RELATIVE * gap))

        def candidates(chunk: np.ndarray, within: np.ndarray, index: np.ndarray) -> np.ndarray:
            i, j = self.tree.query(chunk, predicate="dwithin", distance=within)
            return np.column_stack([index[i], j])

        rows = np.arange(len(targets))
        pairs = parallel(candidates, targets[look], reach[look], rows[look]).astype(np.intp)
        # the band holds the piece found; a target whose search came back empty keeps it
        alone = np.bincount(pairs[:, 0], minlength=len(targets)) == 0
        i = np.concatenate([rows[alone], pairs[:, 0]])
        j = np.concatenate([nearest[alone], pairs[:, 1]])
        lines = parallel(shapely.shortest_line, targets[i], self.pieces[j])
        ends = shapely.get_coordinates(lines).reshape(-1, 2, 2)
        back = _crs.transformer(self.frame, _WGS84)
        lon0, lat0 = back.transform(ends[:, 0, 0], ends[:, 0, 1])
        lon1, lat1 = back.transform(ends[:, 1, 0], ends[:, 1, 1])
        metres = _GEOD.inv(lon0, lat0, lon1, lat1)[2]
        out = np.full(len(targets), np.inf)
        np.minimum.at(out, i, metres)
        return out


def regional_distances_m(
    targets: np.ndarray, target_crs: object, features: np.ndarray, feature_crs: object
) -> np.ndarray:
    """True metres from each target to the nearest feature, for data spread round the globe.

    Targets are grouped by the :data:`REGION_DEGREES` cell of a point of each; each group
    is searched in a Lambert Azimuthal Equal Area frame centred on it (features are
    projected there; the few that land on its antipode, more than ~20,000 km away, are left
    out of that group's search).

    Parameters
    ----------
    targets : numpy.ndarray
        Polygonal geometries in ``target_crs``.
    target_crs, feature_crs : pyproj.CRS or anything pyproj accepts
        The CRS of the targets and of the features.
    features : numpy.ndarray
        The features (any geometry type).

    Returns
    -------
    numpy.ndarray
        Geodesic metres; NaN if there are no features, and for empty targets.

    Examples
    --------
    >>> from shapely import Point, box
    >>> hazards = np.array([box(0, 0, 0.01, 0.01), box(179.99, 0, 180, 0.01)])
    >>> roads = np.array([Point(0.02, 0.005), Point(-179.99, 0.005)])
    >>> np.round(regional_distances_m(hazards, 4326, roads, 4326)).tolist()
    [1113.0, 1113.0]
    """
    targets = np.asarray(targets, dtype=object)
    features = np.asarray(features, dtype=object)
    out = np.full(len(targets), np.nan)
    if len(targets) == 0 or len(features) == 0:
        return out
    lon, lat = _crs.lonlat_points(gpd.GeoDataFrame(geometry=gpd.GeoSeries(targets, crs=target_crs)))
    lon = np.where(np.isfinite(lon), lon, 0.0)
    lat = np.where(np.isfinite(lat), lat, 0.0)
    cells = np.column_stack([np.floor(lon / REGION_DEGREES), np.floor(lat / REGION_DEGREES)])
    keys, group = np.unique(cells, axis=0, return_inverse=True)
    group = np.ravel(group)
    for g in range(len(keys)):
        sel = np.flatnonzero(group == g)
        rad = np.radians(lon[sel])
        lon_0 = float(np.degrees(np.arctan2(np.sin(rad).mean(), np.cos(rad).mean())))
        frame = _crs.laea_frame(lon_0, float(np.clip(lat[sel].mean(), -90.0, 90.0)))
        index = FeatureIndex.build(features, feature_crs, frame, finite_only=True)
        out[sel] = index.distances_m(_crs.project_dense(targets[sel], target_crs, frame))
    return out
