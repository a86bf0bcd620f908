"""Reading minemap's inputs: validated, repaired once, with canonical column names.

Readers accept a path (GeoPackage, GeoJSON, Shapefile, FlatGeobuf, GeoParquet, CSV with a
WKT column, OpenStreetMap ``.osm.pbf``, or a folder of GeoParquet files: see
:mod:`minemap.io.parquet`) or a GeoDataFrame, validate it, repair what can be repaired once
(with a warning), and return a new GeoDataFrame with canonical column names.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Literal, TypeAlias

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow
import pyarrow.fs
import pyogrio
import shapely

from minemap import _progress, _shared_area, _validate
from minemap import crs as _crs
from minemap._errors import (
    DataWarning,
    EmptyLayerError,
    FormatError,
    GeometryTypeError,
    InputFileError,
    MinemapError,
    RepairWarning,
    SchemaError,
    option_hint,
)
from minemap._overlay import gc_paused
from minemap.io import _curves, _guard
from minemap.io import parquet as _parquet
from minemap.io import postgis as _postgis
from minemap.io.csv_points import CSV_SUFFIXES, read_csv
from minemap.io.layer_folders import folder_entries, is_partitioned
from minemap.io.tags import TagFilter, TagSpec, check_keys, match_tags, parse_tags
from minemap.settings import (
    HAZARD_ID,
    METHOD,
    RELEASE_DATE,
    RELEASE_ID,
    RELEASE_METHODS,
    THREAT_LEVEL,
    THREAT_LEVELS,
)
from minemap.vocabulary import METHOD_ALIASES, THREAT_ALIASES, resolve_aliases

Source: TypeAlias = str | os.PathLike | gpd.GeoDataFrame | _postgis.PostGIS
FeatureKind = Literal["roads", "infrastructure", "residential", "districts", "any"]


def _label(source: Source, layer: str | None, kind: str | None = None) -> str:
    if isinstance(source, gpd.GeoDataFrame):
        if layer is not None:
            return f"GeoDataFrame {layer}"
        return f"the {kind} GeoDataFrame" if kind else "GeoDataFrame"
    if isinstance(source, _postgis.PostGIS):
        return source.label
    name = Path(source).name
    return f"{name} (layer {layer!r})" if layer else name


def list_layers(path: str | os.PathLike) -> list[str]:
    """Names of the layers in a vector file (empty for GeoParquet and CSV).

    The file is opened as :func:`read_layer` opens it: only a format minemap reads, with the
    driver its extension names, after its contents are checked; an unreadable or refused
    file has no layers here (the reader says why).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import geopandas as gpd, shapely
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "scenario.gpkg"
    >>> square = gpd.GeoDataFrame(
    ...     {"hazard_id": ["H1"]}, geometry=[shapely.box(44.0, 40.0, 44.01, 40.01)], crs=4326
    ... )
    >>> for name in ("hazards", "releases"):
    ...     square.to_file(path, layer=name)
    >>> list_layers(path)
    ['hazards', 'releases']
    """
    try:
        checked = _guard.check_source(path)
        _check_signature(checked)
        with _guard.reading(), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # GDAL's, repeated by the read
            return [str(name) for name in pyogrio.list_layers(_guard.gdal_path(checked))[:, 0]]
    except Exception:  # noqa: BLE001 - unreadable files are reported by the reader
        return []


def _choose_layer(path: Path, layer: str | None, default_layer: str | None) -> str | None:
    if path.suffix.lower() not in {".gpkg", ".pbf", ".osm"}:
        return layer
    with _guard.reading(), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # GDAL's, repeated by the read
        try:
            layers = [str(n) for n in pyogrio.list_layers(_guard.gdal_path(path))[:, 0]]
        except Exception:  # noqa: BLE001 - unreadable files are reported by the reader
            layers = []
    if layer is not None:
        if layers and layer not in layers:
            raise SchemaError(
                f"{path.name}: no layer {layer!r}; it has {layers}. Pass one of those with "
                f"{option_hint('layer')}."
            )
        return layer
    if len(layers) <= 1:
        return layers[0] if layers else None
    if default_layer in layers:
        return default_layer
    raise SchemaError(
        f"{path.name} holds several layers {layers}; choose one with {option_hint('layer')}."
    )


def layer_of(path: str | os.PathLike, layer: str | None, default_layer: str | None) -> str | None:
    """The layer a reader reads from ``path`` when given ``layer`` (None for a one-layer
    format), for telling users where a figure came from.

    Examples
    --------
    >>> import minemap
    >>> layer_of(minemap.sample_data() / "scenario.gpkg", None, "roads")
    'roads'
    >>> layer_of(minemap.sample_data() / "roads.geojson", None, "roads") is None
    True
    """
    try:
        return _choose_layer(Path(path), layer, default_layer)
    except MinemapError:
        return layer


#: What the first bytes of a file must look like for the driver its extension names: GDAL
#: picks a driver from the contents, so a ``.geojson`` that is really a VRT (XML) could make
#: it read other files or URLs. Checked before GDAL opens the file.
_SIGNATURES: dict[str, tuple[str, object]] = {
    ".gpkg": ("GeoPackage", lambda head: head.startswith(b"SQLite format 3\x00")),
    ".fgb": ("FlatGeobuf", lambda head: head.startswith(b"fgb")),
    ".shp": ("Shapefile", lambda head: head.startswith(b"\x00\x00\x27\x0a")),
    ".geojson": ("GeoJSON", lambda head: head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{"),
    ".json": ("GeoJSON", lambda head: head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{"),
    ".osm": ("OpenStreetMap XML", lambda head: b"<osm" in head),  # and _guard.check_osm_xml
    ".pbf": ("OpenStreetMap PBF", lambda head: b"OSMHeader" in head[:64]),
}


def _check_signature(path: Path) -> None:
    """Refuse a file whose format minemap does not read, or whose contents are not the
    format its extension names; refuse an unreadable file."""
    _guard.check_suffix(path)
    if path.is_dir():
        raise InputFileError(f"{path} is a folder; pass the data file inside it.")
    head = _guard.open_head(path)
    if _guard.file_suffix(path) in {".shp.zip", ".shz"}:
        _guard.gdal_path(path)  # refuses a path GDAL would read as another file
        _guard.check_zipped_shapefile(path)
        return
    if path.suffix.lower() in {".parquet", ".geoparquet"}:
        _guard.check_parquet(path)
        return
    expected = _SIGNATURES.get(path.suffix.lower())
    if expected is None:
        return
    name, looks_right = expected
    _guard.gdal_path(path)  # refuses a path GDAL would read as another file
    if head and path.suffix.lower() == ".osm" and looks_right(head):  # type: ignore[operator]
        _guard.check_osm_xml(path, head)
    if not head or looks_right(head):  # type: ignore[operator]
        return  # an empty file is reported by GDAL's own error
    raise FormatError(
        f"{path.name} does not hold {name} data, as its extension says (it starts with "
        f"{head[:20]!r}); minemap opens a file only with the driver its extension names: "
        "export the layer again as a GeoPackage, GeoJSON, Shapefile, FlatGeobuf, GeoParquet "
        "or CSV file, or give the file its right extension."
    )


def _explain_unreadable(path: Path, exc: Exception, encoding: str | None = None) -> str:
    if path.suffix.lower() in {".geojson", ".json"}:
        try:
            with open(path, encoding=encoding or "utf-8") as handle:
                json.load(handle)
        except RecursionError:
            return (
                f"{path.name} is nested too deeply to be GeoJSON (arrays or objects inside "
                "each other more than a thousand levels deep); re-export it from your GIS."
            )
        except MemoryError:
            return f"{path.name} is too large to be read into memory; split it into smaller files."
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


def _read_path(path: Path, layer: str | None, **options: object) -> tuple[gpd.GeoDataFrame, int]:
    """Read a file into a GeoDataFrame; return it and the number of curved geometries."""
    with warnings.catch_warnings(), _guard.reading():
        # NaN coordinates make shapely warn while decoding; they are reported by validation
        warnings.filterwarnings("ignore", "invalid value encountered", RuntimeWarning)
        return _read_file(path, layer, **options)  # type: ignore[arg-type]


def _read_folder(path: Path, x_column: str | None, y_column: str | None) -> gpd.GeoDataFrame:
    """A folder of GeoParquet files (:mod:`minemap.io.parquet`), read as one layer; any
    other folder is refused as before."""
    if not is_partitioned(path):
        try:
            holds_parts = bool(folder_entries(path)[0])
        except OSError:
            holds_parts = False
        if holds_parts:
            _parquet.read_partitioned(path)  # raises, naming the entry or the folder's name
        raise InputFileError(
            f"{path} is a folder; pass the data file inside it (a folder is read only when it "
            "holds one layer as .parquet files and nothing else: a partitioned GeoParquet "
            "layer)."
        )
    if x_column is not None or y_column is not None:
        raise SchemaError(
            f"{path.name}: {option_hint('x_column')} and "
            f"{option_hint('y_column')} name the coordinate columns of a CSV "
            "file; this folder holds its own geometry: leave them out."
        )
    with warnings.catch_warnings():
        # NaN coordinates make shapely warn while decoding; they are reported by validation
        warnings.filterwarnings("ignore", "invalid value encountered", RuntimeWarning)
        gdf = _parquet.read_partitioned(path)
    _check_text(gdf, path)
    return gdf


def _read_file(
    path: Path,
    layer: str | None,
    *,
    x_column: str | None = None,
    y_column: str | None = None,
    crs: object | None = None,
    areas: str | None = None,
    encoding: str | None = None,
) -> tuple[gpd.GeoDataFrame, int]:
    suffix = path.suffix.lower()
    curved = 0
    if suffix in CSV_SUFFIXES:
        gdf, curved = read_csv(
            path, x_column=x_column, y_column=y_column, crs=crs, areas=areas, encoding=encoding
        )
        return gdf, curved
    if x_column is not None or y_column is not None:
        raise SchemaError(
            f"{path.name}: {option_hint('x_column')} and "
            f"{option_hint('y_column')} name the coordinate columns of a CSV "
            "file; this file holds its own geometry: leave them out."
        )
    recoded = None
    if suffix in {".geojson", ".json"}:
        recoded = _guard.check_geojson(path, encoding=encoding)
    try:
        if suffix in {".parquet", ".geoparquet"}:
            gdf = gpd.read_parquet(os.path.abspath(path), filesystem=pyarrow.fs.LocalFileSystem())
        elif suffix in {".pbf", ".osm"}:
            # small or hand-made OpenStreetMap extracts have unsorted node ids, which GDAL's
            # fast index refuses (the layer then reads as empty)
            with _curves.gdal_options(OSM_USE_CUSTOM_INDEXING="NO"):
                gdf = pyogrio.read_dataframe(_guard.gdal_path(path), layer=layer)
        elif recoded is not None:
            with tempfile.TemporaryDirectory(prefix="minemap-utf8-") as folder:
                copy = Path(folder) / "recoded.geojson"
                copy.write_bytes(recoded)
                gdf, curved = _read_gdal(copy, layer)
        else:
            if suffix == ".shp" and encoding is None:
                encoding = _guard.shapefile_encoding(path)
            options = {"encoding": encoding} if encoding and suffix == ".shp" else {}
            gdf, curved = _read_gdal(path, layer, **options)
    except MinemapError:
        raise
    except Exception as exc:  # noqa: BLE001 - GDAL, Arrow and JSON errors all mean unreadable
        raise FormatError(_explain_unreadable(path, exc, encoding)) from None
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry.name not in gdf.columns:
        raise GeometryTypeError(
            f"{path.name}: the layer has no geometry column; point minemap at a spatial layer."
        )
    _check_text(gdf, path)
    return gdf, curved


def _read_gdal(path: Path, layer: str | None, **options: str) -> tuple[gpd.GeoDataFrame, int]:
    """Read through GDAL: Arrow for linear data; curves through GDAL's feature path.

    The declared geometry type is not trusted (GDAL reports some curved layers as linear):
    the fast Arrow read is tried first, and a layer whose WKB turns out to be curved is
    read again with GDAL linearising each curve. The file is opened with the driver its
    extension names (:func:`minemap.io._guard.gdal_path`).
    """
    source = _guard.gdal_path(path)
    try:
        return pyogrio.read_dataframe(source, layer=layer, use_arrow=True, **options), 0
    except NotImplementedError as exc:
        if not _curves.is_nonlinear_error(exc):
            raise
    curved = _curves.count_curved_in_layer(source, layer, **options)
    with _curves.linearising():
        gdf = pyogrio.read_dataframe(source, layer=layer, use_arrow=False, **options)
    return gdf, curved


def _check_text(gdf: gpd.GeoDataFrame, path: Path) -> None:
    """Refuse text that is not UTF-8 (a file whose declared encoding is wrong), naming the
    column, the row and the fix, before it breaks a later step."""
    for column in gdf.columns:
        values = gdf[column]
        if column == gdf.geometry.name or not isinstance(
            values.dtype, (pd.StringDtype, pd.ArrowDtype)
        ):
            continue  # Python objects are decoded text already
        try:
            array = pyarrow.array(values.array)
            array.validate(full=True)
        except (pyarrow.ArrowInvalid, pyarrow.ArrowTypeError, pyarrow.ArrowException):
            row = next((i for i, v in enumerate(array) if not _valid_utf8(v)), 0)
            if path.suffix.lower() in {".shp", ".geojson", ".json", ".csv", ".tsv"}:
                fix = (
                    "the file is in another encoding than it declares: pass the right one, "
                    f"e.g. {option_hint('encoding', repr('latin-1'))}"
                )
            else:
                fix = (
                    "this format holds UTF-8 text only, so the file was written wrongly: "
                    "fix the column's text in your GIS and export the layer again"
                )
            raise FormatError(
                f"{path.name}: column {column!r} holds text that is not UTF-8 "
                f"(row {row + 1}); {fix}."
            ) from None


def _valid_utf8(value: object) -> bool:
    try:
        value.as_py()  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - any decoding failure
        return False
    return True


@gc_paused()
def read_layer(
    source: Source,
    *,
    layer: str | None = None,
    crs: object | None = None,
    override_crs: bool = False,
    default_layer: str | None = None,
    x_column: str | None = None,
    y_column: str | None = None,
    areas: str | None = None,
    encoding: str | None = None,
    table: str | None = None,
    sql: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
) -> tuple[gpd.GeoDataFrame, str, int]:
    """Read a vector layer without validating its attributes.

    Only the formats minemap documents are read, each with the driver its extension names,
    from a local path (never a URL or a GDAL ``/vsi...`` path); nothing is fetched from the
    network, whatever the file says (see :mod:`minemap.io._guard`).

    Parameters
    ----------
    source : path, database URL, PostGIS or geopandas.GeoDataFrame
        File to read, a folder of GeoParquet files (a partitioned layer, read with
        :func:`minemap.io.read_partitioned`), a PostGIS database (a ``postgresql://`` URL
        with ``table`` or ``sql``, or a :class:`minemap.io.PostGIS`), or a GeoDataFrame
        (copied, never modified).
    layer : str, optional
        Layer name for multi-layer files (GeoPackage, ``.osm.pbf``).
    crs : str, int or pyproj.CRS, optional
        CRS of the coordinates; required when the file declares none.
    override_crs : bool, default False
        Use ``crs`` even when the file declares a CRS (for files that declare a wrong one);
        coordinates are read as they are, in ``crs``.
    default_layer : str, optional
        Layer used when ``layer`` is not given and the file has several.
    x_column, y_column : str, optional
        Coordinate columns of a CSV file of points (found by name when not given; see
        :mod:`minemap.io.csv_points`).
    areas : str, optional
        What the layer's polygons are, e.g. ``'hazard areas'``, for a layer that must be
        polygons: a CSV of points is then refused with a message saying so.
    encoding : str, optional
        Text encoding of a Shapefile, GeoJSON or CSV file written in a legacy encoding, e.g.
        ``'latin-1'`` or ``'cp1251'``. Without it, a Shapefile is read in the encoding its
        ``.cpg`` (or header) declares, ISO-8859-1 when it declares none, as GDAL does; GeoJSON
        and CSV as UTF-8. GeoPackage, FlatGeobuf, GeoParquet and OpenStreetMap files are
        always UTF-8 (``encoding`` does not apply to them).
    table, sql : str, optional
        For a database URL: the table (``name`` or ``schema.name``) or a ``SELECT`` query.
    bbox : sequence of 4 floats, optional
        For a database: read only the rows whose geometry's box meets ``(lon_min, lat_min,
        lon_max, lat_max)`` (degrees), found by the table's spatial index.

    Returns
    -------
    tuple
        ``(gdf, label, curved)``: the layer with a CRS, a label for messages, and how many
        curved geometries were linearised.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import geopandas as gpd, shapely
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "scenario.gpkg"
    >>> square = gpd.GeoDataFrame(
    ...     {"hazard_id": ["H1"]}, geometry=[shapely.box(44.0, 40.0, 44.01, 40.01)], crs=4326
    ... )
    >>> square.to_file(path, layer="hazards")
    >>> gdf, label, curved = read_layer(path, layer="hazards")
    >>> label, len(gdf), gdf.crs.to_epsg(), curved
    ("scenario.gpkg (layer 'hazards')", 1, 4326, 0)
    """
    suffix = ""
    database = _database_source(source, layer, table, sql, bbox)
    if database is not None:
        gdf, curved = _postgis.read_postgis(database, crs=crs)
        label = database.label
    elif isinstance(source, gpd.GeoDataFrame):
        gdf, label, curved = source.copy(), _label(source, layer, default_layer), 0
    elif isinstance(source, (str, os.PathLike)):
        path = _guard.check_source(source)
        encoding = _guard.check_encoding(encoding)
        suffix = path.suffix
        if not path.exists():
            raise InputFileError(
                f"{path}: no such file; check the path (relative paths start at {Path.cwd()})."
            )
        if path.is_dir():
            gdf, label, curved = _read_folder(path, x_column, y_column), path.name, 0
            suffix = ".parquet"
        else:
            _check_signature(path)
            chosen = _choose_layer(path, layer, default_layer)
            label = _label(path, chosen)
            gdf, curved = _read_path(
                path,
                chosen,
                x_column=x_column,
                y_column=y_column,
                crs=crs,
                areas=areas,
                encoding=encoding,
            )
    else:
        raise TypeError(f"expected a file path or a GeoDataFrame, got {type(source).__name__}")
    if gdf.geometry.name not in gdf.columns:
        raise GeometryTypeError(f"{label}: the layer has no geometry column.")
    if len(gdf) >= _shared_area.BACKGROUND_LOAD_FEATURES:
        _shared_area.load_in_background()  # beside the checks and the next layer's read
    gdf = _validate.assign_crs(gdf, label, crs, override=override_crs, suffix=suffix)
    if (
        gdf.crs.is_geographic
        and gdf.crs.axis_info[0].direction == "north"
        and (not gdf.crs.equals("EPSG:4326"))
    ):
        gdf = gdf.to_crs("OGC:CRS84")
    _validate.check_not_empty(gdf, label)
    return gdf.reset_index(drop=True), label, curved


def _database_source(
    source: Source,
    layer: str | None,
    table: str | None,
    sql: str | None,
    bbox: tuple[float, float, float, float] | None,
) -> _postgis.PostGIS | None:
    """The database source ``source`` names with ``table``/``sql``/``bbox``, or None for a
    file or a GeoDataFrame (where those options are refused)."""
    if isinstance(source, _postgis.PostGIS):
        if table is not None or sql is not None:
            raise SchemaError(f"{source.label}: give the table or query once, in PostGIS(...).")
        if bbox is not None:
            return dataclasses.replace(source, bbox=bbox)
        return source
    if _postgis.is_database_url(source):
        assert isinstance(source, str)
        if table is None and sql is None:
            table = layer
        if table is None and sql is None:
            there = _postgis.some_names(list(_postgis.iter_tables(source)))
            raise SchemaError(
                f"{_postgis.display_url(source)}: name the table to read with table= "
                f"(--table) or give a query with sql= (--sql); tables with a geometry "
                f"column: {there}."
            )
        return _postgis.PostGIS(source, table=table, sql=sql, bbox=bbox)
    given = [n for n, v in (("table", table), ("sql", sql), ("bbox", bbox)) if v is not None]
    if given:
        raise SchemaError(
            f"{given[0]}= is for a database source (a postgresql:// URL), not a file or a "
            "GeoDataFrame; leave it out, or give the database URL."
        )
    return None


def reading_description(source: Source) -> str:
    """What a progress bar says while ``source`` is read and checked."""
    if isinstance(source, _postgis.PostGIS):
        return f"Reading {source.label}"
    if _postgis.is_database_url(source):
        return "Reading the database"
    if isinstance(source, (str, os.PathLike)):
        return f"Reading {Path(source).name}"
    return "Checking the layer"


#: Every character Python's ``str.isspace`` calls white space: an id of nothing else (or
#: of nothing at all) is blank.
WHITE_SPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_BLANK = f"[{WHITE_SPACE}]*"  # no character here means anything in a class, in re or RE2


def blank_ids(ids: pd.Series) -> np.ndarray:
    """Whether each id is missing, or text with nothing but white space in it.

    A CSV's empty cell arrives as ``""`` (or spaces), not as a missing value. Vectorised:
    Arrow's regular expressions for Arrow-backed text, Python's for text in objects.

    Examples
    --------
    >>> blank_ids(pd.Series(["H1", " ", "", None, 7, "\u3000"], dtype=object)).tolist()
    [False, True, True, True, False, True]
    """
    blank = ids.isna().to_numpy(dtype=bool)
    try:
        text = ids.str.fullmatch(_BLANK)
    except AttributeError:  # numbers, dates: never text
        return blank
    return blank | text.fillna(False).to_numpy(dtype=bool)


def _ids(gdf: gpd.GeoDataFrame, id_column: str, label: str, canonical: str) -> pd.Series:
    if id_column in gdf.columns:
        ids = gdf[id_column]
        blank = blank_ids(ids)
        if blank.any():
            rows = np.flatnonzero(blank) + 1
            warnings.warn(
                f"{label}: {rows.size} feature(s) have no {id_column} (rows "
                f"{_validate.list_ids(rows)}); they are called 'row N' in messages.",
                DataWarning,
                stacklevel=3,
            )
            ids = ids.astype(object).where(~blank, [f"row {i + 1}" for i in range(len(ids))])
        return ids
    if id_column != canonical:
        _validate.require_columns(gdf, {id_column: "id_column"}, label)
    warnings.warn(
        f"{label}: no {id_column!r} column; features are called 'row N' (1-based file order). "
        f"Name the id column with {option_hint('id_column')}.",
        DataWarning,
        stacklevel=3,
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
    override_crs: bool = False,
    id_column: str = HAZARD_ID,
    threat_column: str = THREAT_LEVEL,
    level_map: Mapping[str, str] | None = None,
    edges: str = "planar",
    allow_area_change: bool = False,
    encoding: str | None = None,
    table: str | None = None,
    sql: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
) -> gpd.GeoDataFrame:
    """Read, validate and repair a layer of hazard areas.

    Parameters
    ----------
    source : path, database URL, PostGIS or geopandas.GeoDataFrame
        Hazard polygons (GeoPackage, GeoJSON, Shapefile, FlatGeobuf, GeoParquet, CSV with
        WKT), a PostGIS table or query (a ``postgresql://`` URL with ``table``/``sql``, or a
        :class:`minemap.io.PostGIS`) or a GeoDataFrame.
    layer : str, optional
        Layer of a multi-layer file; a layer called ``hazards`` is used by default.
    crs : str, int or pyproj.CRS, optional
        CRS of the coordinates, required when the file has none.
    override_crs : bool, default False
        Use ``crs`` even when the file declares one (for a file that declares a wrong CRS).
    id_column, threat_column : str
        Columns holding the feature id and the threat level.
    level_map : mapping, optional
        Your words for threat levels, e.g. ``{"Zone rouge": "high", "SHA": "low"}``; the
        IMAS terms (CHA → high, SHA → medium, ...) are built in (see
        :mod:`minemap.vocabulary`).
    edges : {'planar', 'geodesic'}, default 'planar'
        How the file's polygon edges run between vertices: straight in the layer's own CRS
        (as in most GIS files), or along geodesics (great-circle arcs, as PostGIS
        ``geography`` and Google Earth). With ``'geodesic'``, vertices are added along each
        long edge's arc (:func:`minemap.crs.geodesic_edges`).
    allow_area_change : bool, default False
        Accept repairs that change a polygon's area by more than 1%.
    encoding : str, optional
        Text encoding of a Shapefile, GeoJSON or CSV written in a legacy encoding, e.g.
        ``'latin-1'`` (see :func:`read_layer`); by default a Shapefile's declared encoding
        (ISO-8859-1 when it declares none), UTF-8 for the others.
    table, sql : str, optional
        For a database URL (``postgresql://...``): the table (``name`` or ``schema.name``)
        or a ``SELECT`` query (see :mod:`minemap.io.postgis`).
    bbox : sequence of 4 floats, optional
        For a database: only rows whose geometry's box meets ``(lon_min, lat_min,
        lon_max, lat_max)``, found by the table's spatial index.

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
    aliases = resolve_aliases(
        level_map, allowed=THREAT_LEVELS, builtin=THREAT_ALIASES, option="level_map"
    )
    with _progress.task(reading_description(source), 2, unit="stage") as bar:
        gdf, label, curved = read_layer(
            source,
            layer=layer,
            crs=crs,
            override_crs=override_crs,
            default_layer="hazards",
            areas="hazard areas",
            encoding=encoding,
            table=table,
            sql=sql,
            bbox=bbox,
        )
        bar.update()
        _validate.require_columns(gdf, {threat_column: "threat_column"}, label)
        ids = _ids(gdf, id_column, label, HAZARD_ID)
        levels = _validate.normalise_vocabulary(
            gdf[threat_column],
            allowed=THREAT_LEVELS,
            ids=ids,
            label=label,
            column=threat_column,
            option="threat_column",
            aliases=aliases,
            map_option="level_map",
        )
        gdf = _validate.polygon_layer(
            gdf, label=label, ids=ids, allow_area_change=allow_area_change, curved=curved
        )
        _validate.check_ids(ids.loc[gdf.index], label, id_column)
        out = _canonical(gdf, {HAZARD_ID: ids.loc[gdf.index], THREAT_LEVEL: levels.loc[gdf.index]})
        out = with_edges(out.reset_index(drop=True), edges)
        out.attrs.update(source=label, minemap="hazards")
        return out


def read_releases(
    source: Source,
    *,
    layer: str | None = None,
    crs: object | None = None,
    override_crs: bool = False,
    id_column: str = RELEASE_ID,
    method_column: str = METHOD,
    date_column: str = RELEASE_DATE,
    method_map: Mapping[str, str] | None = None,
    edges: str = "planar",
    allow_area_change: bool = False,
    encoding: str | None = None,
    table: str | None = None,
    sql: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
) -> gpd.GeoDataFrame:
    """Read, validate and repair a layer of land-release records.

    Parameters
    ----------
    source : path, database URL, PostGIS or geopandas.GeoDataFrame
        Release polygons: a file, a PostGIS table or query, or a GeoDataFrame.
    layer : str, optional
        Layer of a multi-layer file; a layer called ``releases`` is used by default.
    crs : str, int or pyproj.CRS, optional
        CRS of the coordinates, required when the file has none.
    override_crs : bool, default False
        Use ``crs`` even when the file declares one (for a file that declares a wrong CRS).
    id_column, method_column, date_column : str
        Columns holding the record id, the method (``cleared``/``reduced``/``cancelled``)
        and the release date (ISO 8601 days, ``YYYY-MM-DD``).
    method_map : mapping, optional
        Your words for release methods, e.g. ``{"Déminage": "cleared"}``; the IMAS terms
        (clearance → cleared, technical survey → reduced, non-technical survey →
        cancelled) are built in (see :mod:`minemap.vocabulary`).
    edges : {'planar', 'geodesic'}, default 'planar'
        How the file's polygon edges run between vertices: straight in the layer's own CRS
        (as in most GIS files), or along geodesics (great-circle arcs, as PostGIS
        ``geography`` and Google Earth). With ``'geodesic'``, vertices are added along each
        long edge's arc (:func:`minemap.crs.geodesic_edges`).
    allow_area_change : bool, default False
        Accept repairs that change a polygon's area by more than 1%.
    encoding : str, optional
        Text encoding of a Shapefile, GeoJSON or CSV written in a legacy encoding, e.g.
        ``'latin-1'`` (see :func:`read_layer`); by default a Shapefile's declared encoding
        (ISO-8859-1 when it declares none), UTF-8 for the others.
    table, sql : str, optional
        For a database URL (``postgresql://...``): the table (``name`` or ``schema.name``)
        or a ``SELECT`` query (see :mod:`minemap.io.postgis`).
    bbox : sequence of 4 floats, optional
        For a database: only rows whose geometry's box meets ``(lon_min, lat_min,
        lon_max, lat_max)``, found by the table's spatial index.

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
    aliases = resolve_aliases(
        method_map, allowed=RELEASE_METHODS, builtin=METHOD_ALIASES, option="method_map"
    )
    with _progress.task(reading_description(source), 2, unit="stage") as bar:
        gdf, label, curved = read_layer(
            source,
            layer=layer,
            crs=crs,
            override_crs=override_crs,
            default_layer="releases",
            areas="release areas",
            encoding=encoding,
            table=table,
            sql=sql,
            bbox=bbox,
        )
        bar.update()
        _validate.require_columns(
            gdf, {method_column: "method_column", date_column: "date_column"}, label
        )
        ids = _ids(gdf, id_column, label, RELEASE_ID)
        methods = _validate.normalise_vocabulary(
            gdf[method_column],
            allowed=RELEASE_METHODS,
            ids=ids,
            label=label,
            column=method_column,
            option="method_column",
            aliases=aliases,
            map_option="method_map",
        )
        dates = _validate.parse_dates(gdf[date_column], ids=ids, label=label, column=date_column)
        gdf = _validate.polygon_layer(
            gdf, label=label, ids=ids, allow_area_change=allow_area_change, curved=curved
        )
        _validate.check_ids(ids.loc[gdf.index], label, id_column)
        out = _canonical(
            gdf,
            {
                RELEASE_ID: ids.loc[gdf.index],
                METHOD: methods.loc[gdf.index],
                RELEASE_DATE: dates.loc[gdf.index],
            },
        )
        out = with_edges(out.reset_index(drop=True), edges)
        out.attrs.update(source=label, minemap="releases")
        return out


#: Extensions of OpenStreetMap extracts, read with minemap's tag filters.
OSM_SUFFIXES = frozenset({".pbf", ".osm"})


def with_edges(gdf: gpd.GeoDataFrame, edges: str | None) -> gpd.GeoDataFrame:
    """``gdf`` with its edges read as ``edges`` says (``attrs['edges']`` records it).

    ``'geodesic'`` adds vertices along each long edge's great-circle arc (once: a layer
    already marked geodesic is returned as it is); ``'planar'`` or None keep the geometry.

    Examples
    --------
    A band one degree high along 49°N, with edges 20° long:

    >>> import geopandas as gpd, shapely
    >>> band = gpd.GeoDataFrame(geometry=[shapely.box(0, 49, 20, 50)], crs=4326)
    >>> arcs = with_edges(band, "geodesic")
    >>> arcs.attrs["edges"], len(arcs.get_coordinates()) > len(band.get_coordinates())
    ('geodesic', True)
    >>> with_edges(arcs, "geodesic") is arcs
    True
    >>> with_edges(band, "planar").attrs, band.attrs  # the input is never changed
    ({'edges': 'planar'}, {})
    """
    if edges is None:
        return gdf
    edges = _crs.check_edges(edges)
    if edges == "planar" or gdf.attrs.get("edges") == "geodesic":
        if "edges" in gdf.attrs:
            return gdf
        out = gdf.copy(deep=False)  # the caller's frame keeps its attrs as they were
        out.attrs = {**gdf.attrs, "edges": edges}
        return out
    attrs = dict(gdf.attrs)
    geoms = _crs.geodesic_edges(np.asarray(gdf.geometry.array, dtype=object), gdf.crs)
    out = gdf.set_geometry(gpd.GeoSeries(geoms, index=gdf.index, crs=gdf.crs))
    out.attrs.update(attrs, edges="geodesic")
    return out


_FEATURE_TYPES: dict[str, tuple[frozenset[str], str]] = {
    "roads": (_validate.LINE_TYPES, "lines"),
    "infrastructure": (
        _validate.POINT_TYPES | _validate.LINE_TYPES | _validate.POLYGON_TYPES,
        "points, lines or polygons",
    ),
    "residential": (_validate.POLYGON_TYPES | _validate.POINT_TYPES, "polygons or points"),
    "districts": (_validate.POLYGON_TYPES, "polygons"),
    "any": (
        _validate.POINT_TYPES | _validate.LINE_TYPES | _validate.POLYGON_TYPES,
        "points, lines or polygons",
    ),
}


def check_feature_kind(kind: object) -> FeatureKind:
    """Refuse an unknown feature kind."""
    if kind not in _FEATURE_TYPES:
        raise SchemaError(f"kind must be one of {sorted(_FEATURE_TYPES)}, not {kind!r}.")
    return kind  # type: ignore[return-value]


def select_tags(
    gdf: gpd.GeoDataFrame,
    tags: TagSpec | TagFilter,
    *,
    label: str,
    kind: str,
    where: str = "the layer",
) -> gpd.GeoDataFrame:
    """The features of ``gdf`` carrying one of ``tags``; refuse an empty selection.

    Raises
    ------
    SchemaError
        When the layer has none of the tag keys as columns, and no ``other_tags`` column.
    EmptyLayerError
        When no feature carries any of the tags.
    """
    flt = parse_tags(tags)
    check_keys(gdf, flt, label)
    keep = match_tags(gdf, flt)
    if not keep.any():
        raise EmptyLayerError(
            f"{label}: no {kind} features (tags {str(flt)!r}) in {where}; check the tags with "
            f"{option_hint('tags')} or choose another file or layer."
        )
    attrs = dict(gdf.attrs)
    out = gdf.loc[keep].reset_index(drop=True)
    out.attrs.update(attrs)
    return out


_TYPE_NAMES = {
    0: "Point",
    1: "LineString",
    2: "LineString",
    3: "Polygon",
    4: "MultiPoint",
    5: "MultiLineString",
    6: "MultiPolygon",
    7: "GeometryCollection",
}


def check_features(
    gdf: gpd.GeoDataFrame, *, label: str, kind: str, id_column: str | None = None, curved: int = 0
) -> gpd.GeoDataFrame:
    """Validate and repair a layer of features already read (by
    :func:`minemap.io.read_features`)."""
    kind = check_feature_kind(kind)
    gdf = gdf.reset_index(drop=True)
    if id_column is not None:
        ids = gdf[id_column].astype(object)
    else:
        ids = pd.Series([f"row {i + 1}" for i in range(len(gdf))], index=gdf.index)
    geoms = np.asarray(gdf.geometry.array, dtype=object)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    _validate.check_finite(geoms[~missing], ids[~missing], label)
    allowed, words = _FEATURE_TYPES[kind]
    types = pd.Series(shapely.get_type_id(geoms)).map(_TYPE_NAMES)
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
    polygons = types.isin(["Polygon", "MultiPolygon"]).to_numpy() & ~missing
    if polygons.any() and polygons.sum() == (~missing).sum():
        gdf = _validate.polygon_layer(gdf, label=label, ids=ids, curved=curved)
    else:
        if missing.any():
            warnings.warn(
                f"{label}: {int(missing.sum())} empty or null geometries dropped on read.",
                DataWarning,
                stacklevel=3,
            )
        others = ~missing & ~polygons
        if shapely.has_z(geoms[others]).any() or curved:
            flat = geoms.copy()
            flat[others] = shapely.force_2d(geoms[others])
            gdf = gdf.set_geometry(gpd.GeoSeries(flat, index=gdf.index, crs=gdf.crs))
            if curved and not polygons.any():
                warnings.warn(
                    f"{label}: repaired on read: {curved} curved "
                    f"geometr{'y' if curved == 1 else 'ies'} linearised. The input "
                    "file is unchanged.",
                    RepairWarning,
                    stacklevel=3,
                )
        keep = ~missing
        if polygons.any():
            # a layer mixing points or lines with polygons: the polygons are repaired alone
            attrs = dict(gdf.attrs)
            repaired = _validate.polygon_layer(
                gdf.loc[polygons], label=label, ids=ids[polygons], curved=curved
            )
            keep = others.copy()
            keep[repaired.index.to_numpy()] = True
            geometry = gdf.geometry.copy()
            geometry.loc[repaired.index] = repaired.geometry
            gdf = gdf.set_geometry(geometry)
            gdf.attrs.update(attrs)
        gdf = gdf.loc[keep]
        _validate.check_not_empty(gdf, label, after_repair=True)
    gdf = gdf.reset_index(drop=True)
    gdf.attrs.update(source=label, minemap=kind)
    return gdf
