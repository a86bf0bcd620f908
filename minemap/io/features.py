"""Priority features (roads, infrastructure, residential areas, districts) from any source.

:func:`read_features` is the one entry point: an OpenStreetMap extract goes through
:mod:`minemap.io.osm` with its tag filters, every other file or GeoDataFrame through the
common reader (:mod:`minemap.io.readers`), with the same validation; so does a PostGIS
table or query (:mod:`minemap.io.postgis`), read in chunks and, with ``bbox=``, only where
it meets the box.
"""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd

from minemap import _progress
from minemap._validate import require_columns
from minemap.io.osm import read_osm_features
from minemap.io.postgis import is_database_url
from minemap.io.readers import (
    OSM_SUFFIXES,
    FeatureKind,
    Source,
    check_feature_kind,
    check_features,
    read_layer,
    reading_description,
    select_tags,
    with_edges,
)
from minemap.io.tags import TagSpec

__all__ = ["read_features"]


def read_features(
    source: Source,
    *,
    kind: FeatureKind = "any",
    layer: str | None = None,
    crs: object | None = None,
    override_crs: bool = False,
    id_column: str | None = None,
    tags: TagSpec | None = None,
    edges: str = "planar",
    x_column: str | None = None,
    y_column: str | None = None,
    encoding: str | None = None,
    table: str | None = None,
    sql: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
) -> gpd.GeoDataFrame:
    """Read a layer of priority features: roads, infrastructure, residential areas, districts.

    Parameters
    ----------
    source : path, database URL, PostGIS or geopandas.GeoDataFrame
        Any supported vector file, a CSV with a WKT column or coordinate columns (points),
        an OpenStreetMap ``.osm.pbf``/``.osm`` extract, or a PostGIS table or query (a
        ``postgresql://`` URL with ``table``/``sql``, or a :class:`minemap.io.PostGIS`).
    kind : {'roads', 'infrastructure', 'residential', 'districts', 'any'}
        What the layer holds; decides which geometry types are accepted (roads: lines;
        infrastructure: any; residential: polygons or points; districts: polygons). A
        layer may mix the accepted types.
    layer : str, optional
        Layer of a multi-layer file; a layer named like ``kind`` is used by default.
    crs : str, int or pyproj.CRS, optional
        CRS of the coordinates, required when the file has none (a CSV with lon/lat
        columns holding degrees is taken as EPSG:4326 without it).
    override_crs : bool, default False
        Use ``crs`` even when the file declares one (for a file that declares a wrong CRS).
    id_column : str, optional
        Column with feature ids, used in messages.
    tags : str, list or mapping, optional
        Keep only features with one of these tags, e.g. ``"highway"`` (any value but
        ``no``) or ``"amenity=school,amenity=clinic,healthcare"`` (see
        :mod:`minemap.io.tags`). Tags are read from columns of that name or from an
        ``other_tags`` column. For an OpenStreetMap extract, minemap's default tags for
        ``kind`` (:data:`minemap.io.osm.DEFAULT_TAGS`) are used when not given; for other
        files, all features are kept when not given.
    edges : {'planar', 'geodesic'}, default 'planar'
        How the file's polygon edges run between vertices: straight in the layer's own CRS
        (as in most GIS files), or along geodesics (great-circle arcs, as PostGIS
        ``geography`` and Google Earth). With ``'geodesic'``, vertices are added along each
        long edge's arc (:func:`minemap.crs.geodesic_edges`).
    x_column, y_column : str, optional
        Coordinate columns of a CSV file of points; found by name (lon/lat, x/y,
        easting/northing, any case) when not given (see :mod:`minemap.io.csv_points`).
    encoding : str, optional
        Text encoding of a Shapefile, GeoJSON or CSV written in a legacy encoding, e.g.
        ``'latin-1'`` (see :func:`minemap.io.read_layer`); OpenStreetMap extracts are UTF-8.
    table, sql : str, optional
        For a database URL (``postgresql://...``): the table (``name`` or ``schema.name``)
        or a ``SELECT`` query (see :mod:`minemap.io.postgis`).
    bbox : sequence of 4 floats, optional
        For a database: only rows whose geometry's box meets ``(lon_min, lat_min,
        lon_max, lat_max)``, found by the table's spatial index.

    Returns
    -------
    geopandas.GeoDataFrame
        Non-empty, finite, 2-D features; polygons made valid.

    Raises
    ------
    EmptyLayerError
        When no feature is left, e.g. no feature carries any of ``tags``; the message
        names the file, ``kind`` and the tags.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> raw = gpd.GeoDataFrame({"amenity": ["school", "bench"]},
    ...                        geometry=[Point(46.0, 39.0), Point(46.1, 39.1)], crs=4326)
    >>> len(read_features(raw, kind="infrastructure", tags="amenity=school"))
    1
    """
    with _progress.task(reading_description(source), 2, unit="stage") as bar:
        if (
            isinstance(source, (str, os.PathLike))
            and not is_database_url(source)
            and Path(source).suffix.lower() in OSM_SUFFIXES
        ):
            return with_edges(read_osm_features(source, kind=kind, layer=layer, tags=tags), edges)
        kind = check_feature_kind(kind)
        gdf, label, curved = read_layer(
            source,
            layer=layer,
            crs=crs,
            override_crs=override_crs,
            default_layer=kind,
            x_column=x_column,
            y_column=y_column,
            encoding=encoding,
            table=table,
            sql=sql,
            bbox=bbox,
        )
        bar.update()
        if tags is not None:
            gdf = select_tags(gdf, tags, label=label, kind=kind)
        if id_column is not None:
            require_columns(gdf, {id_column: "id_column"}, label)
        gdf = check_features(gdf, label=label, kind=kind, id_column=id_column, curved=curved)
        return with_edges(gdf, edges)
