"""Priority features from OpenStreetMap extracts (``.osm.pbf``, ``.osm``)."""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from minemap._errors import SchemaError
from minemap.io import readers as _readers

_OSM_LAYERS = {"roads": "lines", "infrastructure": "points", "residential": "multipolygons"}


def read_osm_features(
    path: str | os.PathLike,
    *,
    kind: str,
    layer: str | None = None,
    tags: str | None = None,
) -> gpd.GeoDataFrame:
    """Read priority features from an OpenStreetMap ``.osm.pbf`` extract.

    Reads through :func:`minemap.read_features` (so validation is the same as for any other
    file) and keeps only the features with the given OSM tag: roads are ``lines`` with a
    ``highway`` tag, residential areas are ``multipolygons`` with a ``building`` tag or
    ``landuse=residential``, infrastructure is ``points`` with an ``amenity`` or ``man_made``
    tag (or any other column named by ``tags``).

    Parameters
    ----------
    path : path-like
        An ``.osm.pbf`` file (a GeoPackage made from OSM data works as well).
    kind : {'roads', 'infrastructure', 'residential'}
        Which priority features to read.
    layer : str, optional
        OGR layer; default ``lines``, ``points`` or ``multipolygons`` by ``kind``.
    tags : str, optional
        Keep rows where this column is not null, instead of the default filter.

    Returns
    -------
    geopandas.GeoDataFrame
        The features, in EPSG:4326.

    Examples
    --------
    >>> import pyogrio, pathlib
    >>> pbf = pathlib.Path(pyogrio.__file__).parent / "tests/fixtures/sample.osm.pbf"
    >>> roads = read_osm_features(pbf, kind="roads")  # doctest: +SKIP
    """
    kind = _check_kind(kind)
    path = Path(path)
    is_pbf = path.suffix.lower() in {".pbf", ".osm"}
    layer = layer or (_OSM_LAYERS[kind] if is_pbf else None)
    # small or hand-made extracts have unsorted node ids, which GDAL's fast index refuses
    previous = pyogrio.get_gdal_config_option("OSM_USE_CUSTOM_INDEXING")
    pyogrio.set_gdal_config_options({"OSM_USE_CUSTOM_INDEXING": "NO"})
    try:
        raw, label, _ = _readers.read_layer(path, layer=layer, default_layer=kind)
    finally:
        pyogrio.set_gdal_config_options({"OSM_USE_CUSTOM_INDEXING": previous})
    if tags is not None:
        if tags not in raw.columns:
            raise SchemaError(f"{label}: no column {tags!r} to filter on; it has "
                              f"{[c for c in raw.columns if c != raw.geometry.name]}.")
        keep = raw[tags].notna()
    elif kind == "roads" and "highway" in raw.columns:
        keep = raw["highway"].notna()
    elif kind == "residential" and "building" in raw.columns:
        keep = raw["building"].notna()
        if "landuse" in raw.columns:
            keep |= raw["landuse"].eq("residential")
    elif kind == "infrastructure":
        keep = pd.Series(False, index=raw.index)
        for column in ("amenity", "man_made"):
            if column in raw.columns:
                keep |= raw[column].notna()
        if not keep.any() and not {"amenity", "man_made"} & set(raw.columns):
            keep[:] = True
    else:
        keep = pd.Series(True, index=raw.index)
    raw = raw.loc[keep.to_numpy()].reset_index(drop=True)
    raw.attrs.update(source=label)
    return _readers.read_features(raw, kind=kind)  # type: ignore[arg-type]




def _check_kind(kind: object) -> str:
    if kind not in _OSM_LAYERS:
        raise SchemaError(f"kind must be one of {sorted(_OSM_LAYERS)}, not {kind!r}.")
    return str(kind)
