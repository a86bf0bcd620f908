"""Population counts from a raster, summed over polygons with partial-pixel weighting.

A population raster holds people per cell (e.g. WorldPop or GHS-POP counts, or the synthetic
raster of :func:`minemap.synthetic.write_population_raster`). :func:`population_sum` adds up
the cells under each polygon, each weighted by the share of the cell the polygon covers
(``exactextract``), after projecting the polygons into the raster's own CRS; cells holding
the raster's nodata value count as zero.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TypeAlias

import geopandas as gpd
import numpy as np
import pyproj
import shapely

from minemap import crs as _crs
from minemap._errors import (
    CoordinateError,
    CRSError,
    DataWarning,
    FormatError,
    InputFileError,
    SchemaError,
)
from minemap._extras import require
from minemap.io import _guard

require("rasterio", "exactextract", extra="population", purpose="population counts")

import rasterio  # noqa: E402 - only once the extra is known to be installed
from exactextract import exact_extract  # noqa: E402
from exactextract.feature import GeoPandasFeatureSource  # noqa: E402
from exactextract.raster import RasterioRasterSource  # noqa: E402

__all__ = ["population_sum"]

Raster: TypeAlias = str | os.PathLike | rasterio.io.DatasetReader


#: Extensions of the population rasters minemap reads: GeoTIFF only.
RASTER_SUFFIXES = (".tif", ".tiff")

#: The first bytes of a TIFF (little- or big-endian) and of a BigTIFF.
_TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")


def _check_tiff(path: Path) -> None:
    """Refuse a raster that is not a GeoTIFF by its extension and by its first bytes (a VRT
    or another GDAL format renamed ``.tif`` could make GDAL read other files or URLs)."""
    if path.suffix.lower() not in RASTER_SUFFIXES:
        raise FormatError(
            f"{path.name}: minemap reads population rasters as GeoTIFF (.tif, .tiff) only; "
            f"convert it, e.g. gdal_translate -of GTiff {path.name} population.tif."
        )
    try:
        with open(path, "rb") as handle:
            head = handle.read(4)
    except OSError as exc:
        raise InputFileError(
            f"{path.name}: the population raster cannot be opened ({exc.strerror or exc}); "
            "check its permissions."
        ) from None
    if head not in _TIFF_MAGIC:
        raise FormatError(
            f"{path.name} does not hold GeoTIFF data, as its extension says (it starts with "
            f"{head!r}); minemap opens a raster only as the format its extension names: "
            "export it again as a GeoTIFF."
        )


@contextlib.contextmanager
def _opened(raster: Raster) -> Iterator[tuple[rasterio.io.DatasetReader, str]]:
    if isinstance(raster, rasterio.io.DatasetReader):
        yield raster, Path(raster.name).name
        return
    path = Path(_guard.check_source(raster))
    if not path.exists():
        raise InputFileError(f"{path}: no such population raster; check the path.")
    if path.is_dir():
        raise InputFileError(f"{path} is a folder; give the population raster's GeoTIFF file.")
    _check_tiff(path)
    # GDAL reads under the options that keep it off the network and from other files, for
    # as long as the raster is read (exactextract reads it in blocks, later)
    options = {**_guard.READ_OPTIONS, "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR"}
    try:
        with rasterio.Env(**options), rasterio.open(path, driver="GTiff") as dataset:
            yield dataset, path.name
    # RasterioIOError is not a RasterioError before rasterio 1.4
    except (rasterio.errors.RasterioError, rasterio.errors.RasterioIOError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputFileError(
            f"{path.name}: the population raster cannot be read ({reason[:200]}); give a "
            "GeoTIFF of people per cell."
        ) from None


def _check(dataset: rasterio.io.DatasetReader, name: str) -> pyproj.CRS:
    if dataset.crs is None:
        raise CRSError(
            f"{name}: the population raster has no CRS; assign one, e.g. "
            f"gdal_edit.py -a_srs EPSG:4326 {name}."
        )
    if dataset.nodata is None:
        raise SchemaError(
            f"{name}: the population raster declares no nodata value, so cells outside the "
            f"surveyed area would count as people; set one, e.g. gdal_edit.py -a_nodata -9999 "
            f"{name} (or rasterio: dataset.nodata = -9999)."
        )
    return pyproj.CRS(dataset.crs)


def population_sum(
    geometry: gpd.GeoSeries | gpd.GeoDataFrame,
    raster: Raster,
    *,
    band: int = 1,
) -> np.ndarray:
    """Coverage-weighted sum of a population raster under each polygon.

    Parameters
    ----------
    geometry : geopandas.GeoSeries or geopandas.GeoDataFrame
        Polygons with a CRS (any CRS: they are densified and projected into the raster's).
    raster : path or rasterio dataset
        GeoTIFF of people per cell, with a CRS and a nodata value.
    band : int, default 1
        Band holding the counts.

    Returns
    -------
    numpy.ndarray
        People under each polygon: a cell counts by the share of it the polygon covers (a
        polygon covering 0.09 of a cell gets 0.09 of its value); nodata cells and polygons
        outside the raster count 0; empty geometries give 0.

    Raises
    ------
    SchemaError
        The raster has no nodata value.
    CRSError
        The raster has no CRS.
    CoordinateError
        No polygon overlaps the raster.

    Warns
    -----
    DataWarning
        When some (not all) polygons lie wholly outside the raster.

    Examples
    --------
    >>> import geopandas as gpd, numpy as np, rasterio, tempfile, os
    >>> from affine import Affine
    >>> from shapely import box
    >>> path = os.path.join(tempfile.mkdtemp(), "pop.tif")
    >>> with rasterio.open(path, "w", driver="GTiff", width=2, height=1, count=1,
    ...                    dtype="float32", crs="EPSG:32638", nodata=-1,
    ...                    transform=Affine(100, 0, 500000, 0, -100, 4400000)) as ds:
    ...     ds.write(np.array([[100, 50]], dtype="float32"), 1)
    >>> g = gpd.GeoSeries([box(500000, 4399970, 500030, 4400000)], crs=32638)
    >>> population_sum(g, path).round(3).tolist()  # 0.09 of a cell of 100 people
    [9.0]
    """
    series = geometry.geometry if isinstance(geometry, gpd.GeoDataFrame) else geometry
    if series.crs is None:
        raise CRSError("population_sum: the polygons have no CRS; set one with set_crs().")
    out = np.zeros(len(series))
    geoms = np.asarray(series.array, dtype=object)
    live = np.flatnonzero(~shapely.is_missing(geoms) & ~shapely.is_empty(geoms))
    with _opened(raster) as (dataset, name):
        target = _check(dataset, name)
        if band < 1 or band > dataset.count:
            raise SchemaError(f"{name}: no band {band}; the raster has {dataset.count}.")
        if live.size == 0:
            return out
        projected = _crs.to_area_frame(series.iloc[live], target)
        extent = shapely.box(*dataset.bounds)
        inside = shapely.intersects(projected, extent)
        if not inside.any():
            bounds = tuple(round(b, 4) for b in dataset.bounds)
            raise CoordinateError(
                f"{name}: the population raster (bounds {bounds} in {target.to_string()}) "
                f"does not overlap any of the {live.size} areas; use a "
                "raster that covers the hazards."
            )
        if not inside.all():
            warnings.warn(
                f"{name}: {int((~inside).sum())} of {live.size} areas lie wholly "
                "outside the population raster; they count 0 people.",
                DataWarning,
                stacklevel=2,
            )
        sel = live[inside]
        frame = gpd.GeoDataFrame(geometry=projected[inside], crs=target)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", (DeprecationWarning, PendingDeprecationWarning))
            result = exact_extract(
                RasterioRasterSource(dataset, band_idx=band),
                GeoPandasFeatureSource(frame),
                "sum",
                output="pandas",
            )
        out[sel] = np.nan_to_num(result["sum"].to_numpy(dtype=float))
    return out
