"""Reading minemap's inputs and writing its outputs.

Readers accept a path (GeoPackage, GeoJSON, Shapefile, FlatGeobuf, GeoParquet, CSV with a
WKT column, OpenStreetMap ``.osm.pbf``) or a GeoDataFrame, validate it, repair what can be
repaired once (with a warning), and return a new GeoDataFrame with canonical column names.
Writers write a temporary file beside the target and move it into place, so an output is
written whole or not at all.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from minemap import _validate
from minemap._errors import (
    DataWarning,
    FormatError,
    GeometryTypeError,
    InputFileError,
    OutputError,
    SchemaError,
)
from minemap._overlay import gc_paused
from minemap.settings import (
    HAZARD_ID,
    METHOD,
    RELEASE_DATE,
    RELEASE_ID,
    RELEASE_METHODS,
    THREAT_LEVEL,
    THREAT_LEVELS,
)

Source = str | os.PathLike | gpd.GeoDataFrame
FeatureKind = Literal["roads", "infrastructure", "residential", "districts", "any"]

_CSV_GEOMETRY_NAMES = "WKT,wkt,geometry,Geometry,geom,the_geom,GEOMETRY"
_CURVED = re.compile(r"CIRCULARSTRING|COMPOUNDCURVE|CURVEPOLYGON|MULTISURFACE|MULTICURVE",
                     re.IGNORECASE)


def _label(source: Source, layer: str | None) -> str:
    if isinstance(source, gpd.GeoDataFrame):
        return "GeoDataFrame" if layer is None else f"GeoDataFrame {layer}"
    name = Path(source).name
    return f"{name} (layer {layer!r})" if layer else name


def list_layers(path: str | os.PathLike) -> list[str]:
    """Names of the layers in a vector file (empty for GeoParquet and CSV)."""
    try:
        return [str(name) for name in pyogrio.list_layers(path)[:, 0]]
    except Exception:  # noqa: BLE001 - unreadable files are reported by the reader
        return []


def _choose_layer(path: Path, layer: str | None, default_layer: str | None) -> str | None:
    if path.suffix.lower() not in {".gpkg", ".sqlite", ".pbf", ".osm", ".gdb"}:
        return layer
    layers = list_layers(path)
    if layer is not None:
        if layers and layer not in layers:
            raise SchemaError(
                f"{path.name}: no layer {layer!r}; it has {layers}. Pass one of those with "
                "layer= (CLI: --layer)."
            )
        return layer
    if len(layers) <= 1:
        return layers[0] if layers else None
    if default_layer in layers:
        return default_layer
    raise SchemaError(
        f"{path.name} holds several layers {layers}; choose one with layer= (CLI: --layer)."
    )


def _explain_unreadable(path: Path, exc: Exception) -> str:
    if path.suffix.lower() in {".geojson", ".json"}:
        try:
            with open(path, encoding="utf-8") as handle:
                json.load(handle)
        except json.JSONDecodeError as err:
            return (
                f"{path.name} is not valid GeoJSON: {err.msg} at line {err.lineno} column "
                f"{err.colno} (the file may be truncated or hand-edited); re-export it from "
                "your GIS."
            )
        except UnicodeDecodeError:
            return f"{path.name} is not UTF-8 text, so it is not GeoJSON; re-export it."
    return (
        f"{path.name} cannot be read as a vector layer ({str(exc).strip()}); check that it is a "
        "GeoPackage, GeoJSON, Shapefile, FlatGeobuf, GeoParquet or CSV-with-WKT file and that it "
        "is complete."
    )


def _read_path(path: Path, layer: str | None) -> tuple[gpd.GeoDataFrame, int]:
    """Read a file into a GeoDataFrame; return it and the number of curved geometries."""
    with warnings.catch_warnings():
        # NaN coordinates make shapely warn while decoding; they are reported by validation
        warnings.filterwarnings("ignore", "invalid value encountered", RuntimeWarning)
        return _read_file(path, layer)


def _read_file(path: Path, layer: str | None) -> tuple[gpd.GeoDataFrame, int]:
    suffix = path.suffix.lower()
    curved = 0
    try:
        if suffix in {".parquet", ".geoparquet"}:
            gdf = gpd.read_parquet(path)
        elif suffix == ".csv":
            gdf = pyogrio.read_dataframe(
                path, GEOM_POSSIBLE_NAMES=_CSV_GEOMETRY_NAMES, KEEP_GEOM_COLUMNS="NO"
            )
            with open(path, encoding="utf-8", errors="replace") as handle:
                curved = sum(1 for line in handle if _CURVED.search(line))
            if gdf.geometry.isna().all() and len(gdf):
                raise SchemaError(
                    f"{path.name}: no WKT geometry column found; name it one of "
                    f"{_CSV_GEOMETRY_NAMES.split(',')[:4]} or convert the file in a GIS."
                )
        elif suffix in {".pbf", ".osm"}:
            # small or hand-made OpenStreetMap extracts have unsorted node ids, which GDAL's
            # fast index refuses (the layer then reads as empty)
            previous = pyogrio.get_gdal_config_option("OSM_USE_CUSTOM_INDEXING")
            pyogrio.set_gdal_config_options({"OSM_USE_CUSTOM_INDEXING": "NO"})
            try:
                gdf = pyogrio.read_dataframe(path, layer=layer)
            finally:
                pyogrio.set_gdal_config_options({"OSM_USE_CUSTOM_INDEXING": previous})
        else:
            info = pyogrio.read_info(path, layer=layer)
            if _CURVED.search(str(info.get("geometry_type") or "")):
                curved = int(info.get("features") or 0)
            gdf = pyogrio.read_dataframe(path, layer=layer, use_arrow=True)
    except (SchemaError, GeometryTypeError):
        raise
    except Exception as exc:  # noqa: BLE001 - GDAL, Arrow and JSON errors all mean unreadable
        raise FormatError(_explain_unreadable(path, exc)) from None
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry.name not in gdf.columns:
        raise GeometryTypeError(f"{path.name}: the layer has no geometry column; "
                                "point minemap at a spatial layer.")
    return gdf, curved


@gc_paused()
def read_layer(
    source: Source,
    *,
    layer: str | None = None,
    crs: object | None = None,
    default_layer: str | None = None,
) -> tuple[gpd.GeoDataFrame, str, int]:
    """Read a vector layer without validating its attributes.

    Parameters
    ----------
    source : path or geopandas.GeoDataFrame
        File to read, or a GeoDataFrame (copied, never modified).
    layer : str, optional
        Layer name for multi-layer files (GeoPackage, ``.osm.pbf``).
    crs : str, int or pyproj.CRS, optional
        CRS of the coordinates; required when the file declares none.
    default_layer : str, optional
        Layer used when ``layer`` is not given and the file has several.

    Returns
    -------
    tuple
        ``(gdf, label, curved)``: the layer with a CRS, a label for messages, and how many
        curved geometries were linearised.
    """
    if isinstance(source, gpd.GeoDataFrame):
        gdf, label, curved = source.copy(), _label(source, layer), 0
    elif isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.exists():
            raise InputFileError(
                f"{path}: no such file; check the path (relative paths start at "
                f"{Path.cwd()})."
            )
        if path.is_dir() and path.suffix.lower() != ".gdb":
            raise InputFileError(f"{path} is a folder; pass the data file inside it.")
        chosen = _choose_layer(path, layer, default_layer)
        label = _label(path, chosen)
        gdf, curved = _read_path(path, chosen)
    else:
        raise TypeError(f"expected a file path or a GeoDataFrame, got {type(source).__name__}")
    if gdf.geometry.name not in gdf.columns:
        raise GeometryTypeError(f"{label}: the layer has no geometry column.")
    gdf = _validate.assign_crs(gdf, label, crs)
    if gdf.crs.is_geographic and gdf.crs.axis_info[0].direction == "north" and (
        not gdf.crs.equals("EPSG:4326")
    ):
        gdf = gdf.to_crs("OGC:CRS84")
    _validate.check_not_empty(gdf, label)
    return gdf.reset_index(drop=True), label, curved


def _ids(gdf: gpd.GeoDataFrame, id_column: str, label: str, canonical: str) -> pd.Series:
    if id_column in gdf.columns:
        ids = gdf[id_column]
        if ids.isna().any():
            rows = np.flatnonzero(ids.isna().to_numpy()) + 1
            warnings.warn(
                f"{label}: {rows.size} feature(s) have no {id_column} (rows "
                f"{_validate.list_ids(rows)}); they are called 'row N' in messages.",
                DataWarning, stacklevel=3,
            )
            ids = ids.astype(object).where(ids.notna(), [f"row {i + 1}" for i in range(len(ids))])
        return ids
    if id_column != canonical:
        _validate.require_columns(gdf, {id_column: "id_column"}, label)
    warnings.warn(
        f"{label}: no {id_column!r} column; features are called 'row N' (1-based file order). "
        "Name the id column with id_column= (CLI: --id-column).",
        DataWarning, stacklevel=3,
    )
    return pd.Series([f"row {i + 1}" for i in range(len(gdf))], index=gdf.index)


def _canonical(gdf: gpd.GeoDataFrame, mapping: dict[str, pd.Series]) -> gpd.GeoDataFrame:
    """Put normalised columns first under their canonical names, keep the rest."""
    out = gdf.copy()
    for name, values in mapping.items():
        out[name] = values.to_numpy()
    others = [c for c in out.columns if c not in mapping and c != out.geometry.name]
    return out[[*mapping, *others, out.geometry.name]]


def read_hazards(
    source: Source,
    *,
    layer: str | None = None,
    crs: object | None = None,
    id_column: str = HAZARD_ID,
    threat_column: str = THREAT_LEVEL,
    allow_area_change: bool = False,
) -> gpd.GeoDataFrame:
    """Read, validate and repair a layer of hazard areas.

    Parameters
    ----------
    source : path or geopandas.GeoDataFrame
        Hazard polygons (GeoPackage, GeoJSON, Shapefile, FlatGeobuf, GeoParquet, CSV with
        WKT) or a GeoDataFrame.
    layer : str, optional
        Layer of a multi-layer file; a layer called ``hazards`` is used by default.
    crs : str, int or pyproj.CRS, optional
        CRS of the coordinates, required when the file has none.
    id_column, threat_column : str
        Columns holding the feature id and the threat level.
    allow_area_change : bool, default False
        Accept repairs that change a polygon's area by more than 1%.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``hazard_id``, ``threat_level`` (``high``/``medium``/``low``), the other
        attributes, and valid 2-D Polygon/MultiPolygon geometry, in the file's CRS.

    Raises
    ------
    MinemapError
        A subclass naming the file, the feature ids and the fix, for any bad input.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> raw = gpd.GeoDataFrame({"hazard_id": ["H1"], "threat_level": [" High "]},
    ...                        geometry=[box(46.0, 39.0, 46.01, 39.01)], crs=4326)
    >>> read_hazards(raw)["threat_level"].tolist()
    ['high']
    """
    gdf, label, curved = read_layer(source, layer=layer, crs=crs, default_layer="hazards")
    _validate.require_columns(gdf, {threat_column: "threat_column"}, label)
    ids = _ids(gdf, id_column, label, HAZARD_ID)
    levels = _validate.normalise_vocabulary(
        gdf[threat_column], allowed=THREAT_LEVELS, ids=ids, label=label, column=threat_column,
        option="threat_column",
    )
    gdf = _validate.polygon_layer(gdf, label=label, ids=ids,
                                  allow_area_change=allow_area_change, curved=curved)
    _validate.check_ids(ids.loc[gdf.index], label, id_column)
    out = _canonical(gdf, {HAZARD_ID: ids.loc[gdf.index], THREAT_LEVEL: levels.loc[gdf.index]})
    out = out.reset_index(drop=True)
    out.attrs.update(source=label, minemap="hazards")
    return out


def read_releases(
    source: Source,
    *,
    layer: str | None = None,
    crs: object | None = None,
    id_column: str = RELEASE_ID,
    method_column: str = METHOD,
    date_column: str = RELEASE_DATE,
    allow_area_change: bool = False,
) -> gpd.GeoDataFrame:
    """Read, validate and repair a layer of land-release records.

    Parameters
    ----------
    source : path or geopandas.GeoDataFrame
        Release polygons or a GeoDataFrame.
    layer : str, optional
        Layer of a multi-layer file; a layer called ``releases`` is used by default.
    crs : str, int or pyproj.CRS, optional
        CRS of the coordinates, required when the file has none.
    id_column, method_column, date_column : str
        Columns holding the record id, the method (``cleared``/``reduced``/``cancelled``)
        and the release date.
    allow_area_change : bool, default False
        Accept repairs that change a polygon's area by more than 1%.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``release_id``, ``method``, ``release_date`` (datetime64, day precision),
        the other attributes, and valid polygon geometry.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> raw = gpd.GeoDataFrame({"release_id": ["R1"], "method": ["Cleared"],
    ...                         "release_date": ["2022-05-01"]},
    ...                        geometry=[box(46.0, 39.0, 46.01, 39.01)], crs=4326)
    >>> str(read_releases(raw)["release_date"].iloc[0].date())
    '2022-05-01'
    """
    gdf, label, curved = read_layer(source, layer=layer, crs=crs, default_layer="releases")
    _validate.require_columns(gdf, {method_column: "method_column",
                                    date_column: "date_column"}, label)
    ids = _ids(gdf, id_column, label, RELEASE_ID)
    methods = _validate.normalise_vocabulary(
        gdf[method_column], allowed=RELEASE_METHODS, ids=ids, label=label,
        column=method_column, option="method_column",
    )
    dates = _validate.parse_dates(gdf[date_column], ids=ids, label=label, column=date_column)
    gdf = _validate.polygon_layer(gdf, label=label, ids=ids,
                                  allow_area_change=allow_area_change, curved=curved)
    _validate.check_ids(ids.loc[gdf.index], label, id_column)
    out = _canonical(gdf, {RELEASE_ID: ids.loc[gdf.index], METHOD: methods.loc[gdf.index],
                           RELEASE_DATE: dates.loc[gdf.index]})
    out = out.reset_index(drop=True)
    out.attrs.update(source=label, minemap="releases")
    return out


_FEATURE_TYPES: dict[str, tuple[frozenset[str], str]] = {
    "roads": (_validate.LINE_TYPES, "lines"),
    "infrastructure": (_validate.POINT_TYPES | _validate.LINE_TYPES | _validate.POLYGON_TYPES,
                       "points, lines or polygons"),
    "residential": (_validate.POLYGON_TYPES | _validate.POINT_TYPES, "polygons or points"),
    "districts": (_validate.POLYGON_TYPES, "polygons"),
    "any": (_validate.POINT_TYPES | _validate.LINE_TYPES | _validate.POLYGON_TYPES,
            "points, lines or polygons"),
}


def read_features(
    source: Source,
    *,
    kind: FeatureKind = "any",
    layer: str | None = None,
    crs: object | None = None,
    id_column: str | None = None,
) -> gpd.GeoDataFrame:
    """Read a layer of priority features: roads, infrastructure, residential areas, districts.

    Parameters
    ----------
    source : path or geopandas.GeoDataFrame
        Any supported vector file, including an OpenStreetMap ``.osm.pbf`` extract.
    kind : {'roads', 'infrastructure', 'residential', 'districts', 'any'}
        What the layer holds; decides which geometry types are accepted (roads: lines;
        infrastructure: any; residential: polygons or points; districts: polygons).
    layer : str, optional
        Layer of a multi-layer file; a layer named like ``kind`` is used by default.
    crs : str, int or pyproj.CRS, optional
        CRS of the coordinates, required when the file has none.
    id_column : str, optional
        Column with feature ids, used in messages.

    Returns
    -------
    geopandas.GeoDataFrame
        Non-empty, finite, 2-D features; polygons made valid.
    """
    gdf, label, curved = read_layer(source, layer=layer, crs=crs, default_layer=kind)
    if id_column is not None:
        _validate.require_columns(gdf, {id_column: "id_column"}, label)
        ids = gdf[id_column]
    else:
        ids = pd.Series([f"row {i + 1}" for i in range(len(gdf))], index=gdf.index)
    geoms = np.asarray(gdf.geometry.array, dtype=object)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    _validate.check_finite(geoms[~missing], ids[~missing], label)
    allowed, words = _FEATURE_TYPES[kind]
    types = pd.Series(shapely.get_type_id(geoms)).map(
        {0: "Point", 1: "LineString", 2: "LineString", 3: "Polygon", 4: "MultiPoint",
         5: "MultiLineString", 6: "MultiPolygon", 7: "GeometryCollection"})
    wrong = ~types.isin(allowed).to_numpy() & ~missing
    if wrong.any():
        rows = np.flatnonzero(wrong)
        found = ", ".join(sorted(set(types.iloc[rows])))
        raise GeometryTypeError(
            f"{label}: {kind} must be {words}, but {rows.size} feature(s) are {found} "
            f"(ids {_validate.list_ids(ids.iloc[rows])}); "
            "point minemap at the right layer or convert the geometry in a GIS."
        )
    _validate.check_bounds(geoms[~missing], gdf.crs, ids[~missing], label)
    if types.isin(["Polygon", "MultiPolygon"]).any():
        gdf = _validate.polygon_layer(gdf, label=label, ids=ids, curved=curved)
    else:
        if shapely.has_z(geoms[~missing]).any():
            gdf = gdf.set_geometry(gpd.GeoSeries(shapely.force_2d(geoms), index=gdf.index,
                                                 crs=gdf.crs))
        if missing.any():
            warnings.warn(f"{label}: {int(missing.sum())} empty or null geometries dropped on "
                          "read.", DataWarning, stacklevel=2)
            gdf = gdf.loc[~missing]
        _validate.check_not_empty(gdf, label, after_repair=True)
    gdf = gdf.reset_index(drop=True)
    gdf.attrs.update(source=label, minemap=kind)
    return gdf


def write_atomic(path: str | os.PathLike, writer: Callable[[Path], None]) -> Path:
    """Write an output whole or not at all.

    ``writer`` receives a temporary path in the target's folder; when it returns, the file is
    moved over ``path`` in one step. If it raises, the temporary file is removed and any
    existing file at ``path`` is left untouched.

    Parameters
    ----------
    path : path-like
        Final output path.
    writer : callable
        ``writer(tmp_path)`` writes the complete output to ``tmp_path``.

    Returns
    -------
    pathlib.Path
        The written path.
    """
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise OutputError(f"{target}: the folder {folder} does not exist; create it first.")
    handle, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=target.suffix,
                                        dir=folder)
    os.close(handle)
    tmp = Path(tmp_name)
    try:
        tmp.unlink()
        writer(tmp)
        os.replace(tmp, target)
    except BaseException:
        if tmp.exists():
            tmp.unlink()
        raise
    return target


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write UTF-8 text atomically (see :func:`write_atomic`)."""
    return write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


_SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx")


def write_layer(gdf: gpd.GeoDataFrame, path: str | os.PathLike, *, layer: str | None = None
                ) -> Path:
    """Write a GeoDataFrame whole or not at all; the format follows the file extension.

    A Shapefile is several files: they are written together in a temporary folder beside
    the target and moved into place only once all of them exist.
    """
    target = Path(path)
    suffix = target.suffix.lower()

    def write_to(tmp: Path) -> None:
        if suffix in {".parquet", ".geoparquet"}:
            gdf.to_parquet(tmp)
        elif suffix == ".csv":
            frame = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
            frame["WKT"] = shapely.to_wkt(np.asarray(gdf.geometry.array))
            frame.to_csv(tmp, index=False)
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                pyogrio.write_dataframe(gdf, tmp, layer=layer)

    if suffix != ".shp":
        return write_atomic(target, write_to)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise OutputError(f"{target}: the folder {folder} does not exist; create it first.")
    with tempfile.TemporaryDirectory(prefix=f".{target.stem}.", dir=folder) as tmp_dir:
        tmp = Path(tmp_dir) / target.name
        write_to(tmp)
        written = [p for p in Path(tmp_dir).iterdir() if p.suffix.lower() in _SHAPEFILE_PARTS]
        for part in written:
            os.replace(part, folder / f"{target.stem}{part.suffix}")
    return target
