"""Writing layers in the format their file name names, whole or not at all.

A layer is staged in an :class:`~minemap.io.staging.OutputSet` (several outputs of one
command are put in place together, or none is): GeoPackage, GeoJSON, FlatGeobuf,
GeoParquet (a folder with a trailing slash is a partitioned layer,
:mod:`minemap.io.parquet`), a zipped Shapefile or CSV with WKT whose text cells a
spreadsheet never runs as formulas.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from minemap._errors import OutputError
from minemap.io import parquet as _parquet
from minemap.io._guard import file_suffix
from minemap.io.layer_folders import check_not_in_layer
from minemap.io.staging import OutputSet, is_folder_output, resolve_output

#: Vector formats minemap writes, by extension, with the GDAL driver that writes them. A
#: Shapefile is written zipped, as one file (``.shp.zip`` or ``.shz``): a plain ``.shp`` is
#: several files that cannot be replaced together.
LAYER_DRIVERS: dict[str, str] = {
    ".gpkg": "GPKG",
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".fgb": "FlatGeobuf",
    ".shp.zip": "ESRI Shapefile",
    ".shz": "ESRI Shapefile",
    ".parquet": "Parquet",
    ".geoparquet": "Parquet",
    ".csv": "CSV",
}

#: A text cell starting with one of these is a formula to a spreadsheet (OWASP CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def check_layer_suffix(path: str | os.PathLike) -> Path:
    """Refuse a layer output whose extension names no format minemap writes.

    Examples
    --------
    >>> check_layer_suffix("zones.shp.zip").name
    'zones.shp.zip'
    >>> check_layer_suffix("zones.kml")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    minemap._errors.OutputError: zones.kml: .kml is not a vector format minemap writes; ...
    """
    target = Path(path)
    suffix = file_suffix(target)
    if suffix == ".shp":
        raise OutputError(
            f"{target}: a Shapefile is several files (.shp, .shx, .dbf, .prj, ...) that cannot "
            "be replaced all at once, so a reader could see new shapes with old attributes; "
            f"write {target.with_suffix('.shp.zip').name} (the same Shapefile zipped into one "
            f"file, read by QGIS, ArcGIS Pro and GDAL) or {target.with_suffix('.gpkg').name}."
        )
    if suffix not in LAYER_DRIVERS:
        known = ", ".join(sorted({s for s in LAYER_DRIVERS if s != ".json"}))
        raise OutputError(
            f"{target}: {suffix or 'no extension'} is not a vector format "
            f"minemap writes; end the name in one of {known} (.gpkg is "
            "recommended: one file, several layers)."
        )
    return target


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells a spreadsheet shows as text, never runs as a formula.

    A text value starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a
    leading apostrophe (the OWASP rule for CSV injection); numbers, and text that reads
    as a number (``-12.5``), are left as they are. Column names are cells of the header
    row, and get the same treatment (a ``--by`` column can be named anything).

    Examples
    --------
    >>> spreadsheet_safe(pd.DataFrame({"v": ["=HYPERLINK(1)", "-12.5", "ok", 3]}))["v"].tolist()
    ["'=HYPERLINK(1)", '-12.5', 'ok', 3]
    >>> list(spreadsheet_safe(pd.DataFrame({"@SUM(A1)": [1], "hazard_ha": [2.0]})).columns)
    ["'@SUM(A1)", 'hazard_ha']
    """
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype != object and not pd.api.types.is_string_dtype(out[column]):
            continue
        out[column] = out[column].map(_cell_text)
    out.columns = [_cell_text(c) for c in out.columns]
    return out


def _cell_text(value: object) -> object:
    if not isinstance(value, str) or not value.startswith(_FORMULA_START):
        return value
    try:
        float(value)
        return value
    except ValueError:
        return "'" + value


def layer_writer(
    gdf: gpd.GeoDataFrame, suffix: str, layer: str | None = None, name: str | None = None
) -> Callable[[Path], None]:
    """A ``writer(tmp_path)`` that writes ``gdf`` in the format its suffix names.

    ``name`` is the final file name: a zipped Shapefile names its parts after it.
    """
    suffix = suffix.lower()

    def write_to(tmp: Path) -> None:
        if suffix in {".shp.zip", ".shz"}:
            # the parts inside the zip are named after the file GDAL writes: write it under
            # its final name in a private folder, then move it to the staging path
            with tempfile.TemporaryDirectory(prefix=f"{tmp.name}.", dir=tmp.parent) as folder:
                inner = Path(folder) / (name or tmp.name)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    pyogrio.write_dataframe(gdf, inner, driver="ESRI Shapefile")
                os.replace(inner, tmp)
        elif suffix in {".parquet", ".geoparquet"}:
            gdf.to_parquet(tmp)
        elif suffix == ".csv":
            frame = spreadsheet_safe(pd.DataFrame(gdf.drop(columns=gdf.geometry.name)))
            frame["WKT"] = shapely.to_wkt(np.asarray(gdf.geometry.array))
            frame.to_csv(tmp, index=False)
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                pyogrio.write_dataframe(gdf, tmp, layer=layer, driver=LAYER_DRIVERS.get(suffix))

    return write_to


def default_layer_name(path: str | os.PathLike) -> str:
    """The layer name a file gets when none is given: its name without the extension (never
    the hidden staging file's name, which GeoPackage refuses and GeoJSON would keep).

    Examples
    --------
    >>> default_layer_name("out/zones 2026.gpkg"), default_layer_name("zones.shp.zip")
    ('zones 2026', 'zones')
    >>> default_layer_name("run.2026-12.gpkg")
    'run.2026-12'
    """
    name = Path(path).name
    return name[: len(name) - len(file_suffix(Path(name)))].lstrip(".") or "layer"


def add_layer(
    outputs: OutputSet, gdf: gpd.GeoDataFrame, path: str | os.PathLike, *, layer: str | None = None
) -> None:
    """Stage ``gdf`` in ``outputs``; the format follows the file extension.

    A path with a GeoParquet extension and a trailing slash (``zones.parquet/``) is written
    as a partitioned GeoParquet folder (:func:`minemap.io.parquet.write_partitioned`),
    replacing a partitioned layer already there (never a folder holding other files).

    Examples
    --------
    A layer and a text file written together, or neither:

    >>> import pathlib, tempfile
    >>> import geopandas as gpd, shapely
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> zones = gpd.GeoDataFrame(
    ...     {"hazard_id": ["H1"]}, geometry=[shapely.box(44.0, 40.0, 44.01, 40.01)], crs=4326
    ... )
    >>> with OutputSet() as outputs:
    ...     add_layer(outputs, zones, folder / "zones.geojson")
    ...     outputs.add_text(folder / "zones.txt", "1 zone\\n")
    >>> sorted(p.name for p in folder.iterdir())
    ['zones.geojson', 'zones.txt']
    """
    if is_folder_output(path):
        _parquet.add_partitioned(outputs, gdf, resolve_output(path), overwrite=True)
        return
    target = check_layer_suffix(path)
    if gdf.attrs.get("parquet_folder"):  # read from a partitioned layer: never write inside
        check_not_in_layer(resolve_output(target), sources=[gdf.attrs["parquet_folder"]])
    layer = layer or default_layer_name(target)
    outputs.add(target, layer_writer(gdf, file_suffix(target), layer, name=target.name))


def write_layer(
    gdf: gpd.GeoDataFrame, path: str | os.PathLike, *, layer: str | None = None
) -> Path:
    """Write a GeoDataFrame whole or not at all; the format follows the file extension.

    Writing a layer into an existing GeoPackage replaces that layer only and keeps the
    others. A Shapefile is written zipped into one file (``.shp.zip``); a plain ``.shp``
    (several files that cannot be replaced together) is refused.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import geopandas as gpd, shapely
    >>> from minemap.io import list_layers
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "zones.gpkg"
    >>> zones = gpd.GeoDataFrame(
    ...     {"hazard_id": ["H1"]}, geometry=[shapely.box(44.0, 40.0, 44.01, 40.01)], crs=4326
    ... )
    >>> write_layer(zones, path, layer="hazards").name
    'zones.gpkg'
    >>> _ = write_layer(zones, path, layer="zones")
    >>> list_layers(path)
    ['hazards', 'zones']
    """
    with OutputSet() as outputs:
        add_layer(outputs, gdf, path, layer=layer)
    return Path(path)
