"""Partitioned GeoParquet: one layer as a folder of GeoParquet files, spatially sorted.

A layer too large for one file (or for one process's memory) is kept as a folder::

    hazards.parquet/
        part-00000.parquet
        part-00001.parquet
        ...

Every file is GeoParquet 1.1 with the same columns and CRS; its rows are a run of the
layer sorted along a Hilbert curve of their bounding-box centres (over the whole layer's
bounds), so each file covers a compact region. Each file has a *bbox covering* column
(``bbox``: a struct of ``xmin``, ``ymin``, ``xmax``, ``ymax``, declared under ``covering``
in the file's ``geo`` metadata), so a reader asking for a bounding box skips the files and
row groups that lie elsewhere without decoding a geometry (:func:`read_partitioned`,
:func:`iter_partitions`), and the folder's extent per file is known from the files'
statistics alone (:func:`partition_bounds`).

Files whose name starts with ``.`` or ``_`` (``_SUCCESS``, ``_metadata``) are ignored when
reading, as Arrow, Spark and Dask do; anything else that is not a ``.parquet`` file makes the
folder something other than a layer, and so does a folder named as another format
(``hazards.gpkg/``). Each file is opened as Parquet only (``PAR1`` at both ends), from the
local disk (never a URL); a symbolic link leading out of the folder, or to another part of
it, is refused. A folder is replaced only when it holds part files and markers alone, and
nothing is written inside a layer folder (:func:`check_output_folder`,
:func:`check_not_in_layer`).
"""

from __future__ import annotations

import functools
import json
import math
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow
import pyarrow.fs
import pyarrow.parquet as pq
import pyproj
import shapely

from minemap._errors import (
    CRSError,
    FormatError,
    InputFileError,
    MinemapError,
    OutputError,
    SchemaError,
    option_hint,
)
from minemap.io import _guard
from minemap.io.layer_folders import (
    PART_SUFFIX,
    check_not_in_layer,
    folder_entries,
    ignored_entry,
    is_partitioned,
    named_as_other_format,
)
from minemap.io.staging import OutputSet, remove_orphans

__all__ = [
    "add_partitioned",
    "check_not_in_layer",
    "check_output_folder",
    "is_partitioned",
    "iter_partitions",
    "partition_bounds",
    "read_partitioned",
    "write_partitioned",
]

#: Rows per file written by :func:`write_partitioned` unless told otherwise.
ROWS_PER_FILE = 100_000

#: Rows per row group inside a file: the unit a bbox filter skips within a file.
ROW_GROUP_ROWS = 10_000

#: How the files of a written layer are named (numbered from 0 in Hilbert order).
PART_NAME = "part-{:05d}.parquet"

#: The name of the bbox covering column (GeoParquet 1.1).
COVERING = "bbox"

#: ``attrs`` key of a frame read by :func:`read_partitioned`: the folder it came from.
FOLDER_ATTR = "parquet_folder"

# ------------------------------------------------------------------------------------------
# reading
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Part:
    """One file of a layer, as its footer describes it (no row read)."""

    path: Path
    schema: pyarrow.Schema
    geo: dict
    crs: pyproj.CRS | None
    rows: int
    bounds: tuple[float, float, float, float] | None

    @property
    def primary(self) -> str:
        return str(self.geo.get("primary_column", "geometry"))

    @property
    def covering(self) -> str | None:
        """The bbox covering column's name, if the file declares one."""
        column = self.geo.get("columns", {}).get(self.primary, {})
        covering = column.get("covering") if isinstance(column, dict) else None
        spec = covering.get("bbox") if isinstance(covering, dict) else None
        if not isinstance(spec, dict) or not isinstance(spec.get("xmin"), list):
            return None
        return str(spec["xmin"][0])  # its shape is checked by _check_geo

    def covering_fields(self) -> list[str]:
        """The covering struct's fields holding xmin, ymin, xmax and ymax, in that order."""
        spec = self.geo["columns"][self.primary]["covering"]["bbox"]
        return [str(spec[key][1]) for key in _BOX_KEYS]


def _layer_files(folder: Path) -> list[Path]:
    """The ``.parquet`` files of a layer folder, checked for where they lead."""
    text = str(_guard.check_source(folder))
    if not folder.exists():
        raise InputFileError(
            f"{text}: no such folder; check the path (relative paths start at {Path.cwd()})."
        )
    if not folder.is_dir():
        raise InputFileError(
            f"{text} is not a folder; pass a folder of GeoParquet files, or read the file "
            "with the readers (minemap.read_hazards, ...)."
        )
    if named_as_other_format(folder):
        raise FormatError(
            f"{folder.name}: a folder named {folder.suffix} is not read as a partitioned "
            "GeoParquet layer; name the folder with .parquet (or no extension), e.g. "
            f"{folder.with_suffix('.parquet').name}/."
        )
    root = folder.resolve()
    try:
        parts, others = folder_entries(folder)
    except OSError as exc:
        raise InputFileError(
            f"{text}: the folder cannot be listed ({exc.strerror or exc}); check its permissions."
        ) from None
    if not parts:
        raise InputFileError(
            f"{folder.name}: the folder holds no .parquet files, so it is not a partitioned "
            "GeoParquet layer; write one with minemap.io.write_partitioned, or pass a file."
        )
    if others:
        shown = ", ".join(others[:5]) + (", ..." if len(others) > 5 else "")
        raise FormatError(
            f"{folder.name}: the folder holds other entries than .parquet files ({shown}), so "
            "it is not one partitioned GeoParquet layer; move them out of the folder."
        )
    seen: dict[Path, str] = {}
    for part in parts:
        real = Path(os.path.realpath(part))
        if real in seen:
            link, target = (
                (seen[real], part.name)
                if (folder / seen[real]).is_symlink()
                else (part.name, seen[real])
            )
            raise FormatError(
                f"{folder.name}: {link} is a symbolic link to {target}, another file of the "
                "folder, so its rows would be read twice; remove the link."
            )
        seen[real] = part.name
        if root not in real.parents:
            raise InputFileError(
                f"{folder.name}: {part.name} is a symbolic link to {real}, outside the folder; "
                "minemap reads a layer's files from its own folder only: copy the file in."
            )
        if not real.is_file():
            raise FormatError(
                f"{folder.name}: {part.name} is not a file (a nested folder?); a partitioned "
                "layer is one folder of .parquet files: move the files up into it."
            )
    return parts


@functools.lru_cache(maxsize=64)
def _parse_crs(text: str) -> pyproj.CRS:
    """A CRS from its GeoParquet JSON (PROJJSON or a string), parsed once per distinct text:
    the files of one layer share it, and parsing takes tens of milliseconds."""
    value = json.loads(text)
    return pyproj.CRS.from_json_dict(value) if isinstance(value, dict) else pyproj.CRS(value)


def _crs_of(geo: dict, primary: str, path: Path) -> pyproj.CRS | None:
    column = geo.get("columns", {}).get(primary)
    if not isinstance(column, dict):
        raise FormatError(
            f"{path.name}: its GeoParquet metadata names {primary!r} as geometry column but "
            "does not describe it; write the file again with geopandas or GDAL."
        )
    if "crs" not in column:
        return pyproj.CRS("OGC:CRS84")  # the GeoParquet default
    if column["crs"] is None:
        return None
    try:
        return _parse_crs(json.dumps(column["crs"], sort_keys=True))
    except pyproj.exceptions.CRSError:
        raise FormatError(
            f"{path.name}: its GeoParquet metadata holds a CRS pyproj cannot read; write the "
            "file again with geopandas or GDAL."
        ) from None


def _statistics_bounds(
    metadata: pq.FileMetaData, covering: str
) -> tuple[float, float, float, float] | None:
    """The file's extent from its covering columns' statistics, or None when missing."""
    wanted = {f"{covering}.{key}": key for key in ("xmin", "ymin", "xmax", "ymax")}
    found: dict[str, list[float]] = {key: [] for key in wanted.values()}
    if metadata.num_row_groups == 0:
        return None
    for group in range(metadata.num_row_groups):
        row_group = metadata.row_group(group)
        seen = set()
        for index in range(row_group.num_columns):
            column = row_group.column(index)
            key = wanted.get(column.path_in_schema)
            if key is None:
                continue
            stats = column.statistics
            if stats is None or not stats.has_min_max:
                return None
            value = stats.min if key.endswith("min") else stats.max
            found[key].append(float(value) + 0.0)  # Parquet writes a zero minimum as -0.0
            seen.add(key)
        if len(seen) < 4:
            return None
    return (
        min(found["xmin"]),
        min(found["ymin"]),
        max(found["xmax"]),
        max(found["ymax"]),
    )


def _inspect(path: Path) -> _Part:
    """Read a file's footer: schema, GeoParquet metadata, CRS, rows, extent."""
    _guard.check_parquet(path)
    try:
        with open(path, "rb") as handle:
            metadata = pq.ParquetFile(handle).metadata
            schema = metadata.schema.to_arrow_schema()
    except MinemapError:
        raise
    except Exception as exc:  # noqa: BLE001 - any Arrow error means an unreadable file
        raise FormatError(
            f"{path.name} cannot be read as Parquet ({str(exc).strip()}); the file may be "
            "truncated: write it again."
        ) from None
    raw = (schema.metadata or {}).get(b"geo")
    try:
        geo = json.loads(raw) if raw is not None else None
    except ValueError:
        geo = None
    if not isinstance(geo, dict):
        raise FormatError(
            f"{path.name} is Parquet but not GeoParquet (it has no valid 'geo' metadata "
            "naming its geometry column); write it with geopandas (GeoDataFrame.to_parquet) "
            "or GDAL."
        )
    _check_geo(geo, schema, path)
    primary = str(geo.get("primary_column", "geometry"))
    if primary not in schema.names:
        raise FormatError(
            f"{path.name}: its GeoParquet metadata names the geometry column {primary!r}, "
            "which the file does not hold; write the file again."
        )
    crs = _crs_of(geo, primary, path)
    part = _Part(path, schema, geo, crs, metadata.num_rows, None)
    bounds = None
    if part.covering is not None:
        bounds = _statistics_bounds(metadata, part.covering)
    if bounds is None:
        box = geo["columns"][primary].get("bbox")
        if box is not None:
            half = len(box) // 2  # 2D or 3D, finite: checked by _check_geo
            bounds = (float(box[0]), float(box[1]), float(box[half]), float(box[half + 1]))
    return _Part(path, schema, geo, crs, metadata.num_rows, bounds)


_BOX_KEYS = ("xmin", "ymin", "xmax", "ymax")


def _check_geo(geo: dict, schema: pyarrow.Schema, path: Path) -> None:
    """Refuse GeoParquet metadata of the wrong shape, naming the folder, the file and the
    entry (what is read from it later may then be taken as it is)."""

    def refuse(what: str) -> FormatError:
        return FormatError(
            f"{path.parent.name}: {path.name}: its GeoParquet metadata has {what}; write the "
            "file again with geopandas or GDAL."
        )

    primary = geo.get("primary_column", "geometry")
    if not isinstance(primary, str) or not primary:
        raise refuse(f"a primary_column that is not a column name ({primary!r:.40})")
    columns = geo.get("columns")
    if not isinstance(columns, dict) or not isinstance(columns.get(primary), dict):
        raise refuse(f"no description of its geometry column {primary!r} under 'columns'")
    column = columns[primary]
    box = column.get("bbox")
    if box is not None and not (
        isinstance(box, list)
        and len(box) in (4, 6)
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in box)
        and all(math.isfinite(_as_float(v)) for v in box)
        and box[0] <= box[len(box) // 2]
        and box[1] <= box[len(box) // 2 + 1]
    ):
        raise refuse(f"a bbox that is not 4 or 6 finite numbers, minimum first ({box!r:.60})")
    covering = column.get("covering")
    if covering is None:
        return
    spec = covering.get("bbox") if isinstance(covering, dict) else None
    found = [spec.get(key) if isinstance(spec, dict) else None for key in _BOX_KEYS]
    paths: list[list[str]] = [
        p
        for p in found
        if isinstance(p, list) and len(p) == 2 and all(isinstance(n, str) for n in p)
    ]
    if len(paths) != len(_BOX_KEYS) or len({p[0] for p in paths}) != 1:
        raise refuse(
            f"a covering that is not one bbox struct column ({covering!r:.60}); GeoParquet "
            "1.1 gives covering.bbox.xmin = [column, 'xmin'], and so on"
        )
    name = paths[0][0]
    kind = schema.field(name).type if name in schema.names else None
    fields = {f.name: f.type for f in kind} if kind and pyarrow.types.is_struct(kind) else {}
    for key, (_, field) in zip(_BOX_KEYS, paths, strict=True):
        if field not in fields or not pyarrow.types.is_floating(fields[field]):
            raise refuse(
                f"a covering {key} ({name}.{field}) that is not a number column of the file"
            )


def _as_float(value: float) -> float:
    try:
        return float(value)
    except OverflowError:
        return math.inf


def _data_fields(part: _Part) -> dict[str, pyarrow.DataType]:
    """The columns that must agree across files: all but the covering and index columns."""
    pandas_meta = part.schema.pandas_metadata or {}
    skip = {c for c in pandas_meta.get("index_columns", []) if isinstance(c, str)}
    skip.add(part.covering or "")
    return {f.name: _plain_type(f.type) for f in part.schema if f.name not in skip}


def _plain_type(kind: pyarrow.DataType) -> pyarrow.DataType:
    """Large and small string (and binary) types are one type here."""
    if pyarrow.types.is_large_string(kind) or pyarrow.types.is_string_view(kind):
        return pyarrow.string()
    if pyarrow.types.is_large_binary(kind) or pyarrow.types.is_binary_view(kind):
        return pyarrow.binary()
    return kind


def _crs_name(crs: pyproj.CRS | None) -> str:
    if crs is None:
        return "no CRS"
    code = crs.to_authority()
    return ":".join(code) if code else crs.name


def _check_layer(folder: Path, parts: list[_Part]) -> None:
    """One CRS, one schema, one geometry column across the files."""
    first = parts[0]
    columns = _data_fields(first)
    for part in parts[1:]:
        if part.primary != first.primary:
            raise SchemaError(
                f"{folder.name}: {part.path.name} has geometry column {part.primary!r} but "
                f"{first.path.name} has {first.primary!r}; the files of a partitioned layer "
                "share one schema: write them again from one layer."
            )
        if part.crs is not first.crs and not (
            part.crs is not None and first.crs is not None and part.crs.equals(first.crs)
        ):
            raise CRSError(
                f"{folder.name}: {first.path.name} is in {_crs_name(first.crs)} but "
                f"{part.path.name} is in {_crs_name(part.crs)}; the files of a partitioned "
                "layer share one CRS: write them again from one layer."
            )
        other = _data_fields(part)
        for name in [*columns, *other]:
            if name not in other or name not in columns:
                has, lacks = (
                    (first.path.name, part.path.name)
                    if name in columns
                    else (part.path.name, first.path.name)
                )
                raise SchemaError(
                    f"{folder.name}: column {name!r} is in {has} but not in {lacks}; the files "
                    "of a partitioned layer share one schema: write them again from one layer."
                )
            mine, theirs = columns[name], other[name]
            if mine != theirs and not (
                pyarrow.types.is_null(mine) or pyarrow.types.is_null(theirs)
            ):
                raise SchemaError(
                    f"{folder.name}: column {name!r} is {mine} in {first.path.name} but "
                    f"{theirs} in {part.path.name}; the files of a partitioned layer share one "
                    "schema: write them again from one layer."
                )


def _open_layer(folder: str | os.PathLike) -> tuple[Path, list[_Part]]:
    path = Path(folder)
    parts = [_inspect(file) for file in _layer_files(path)]
    _check_layer(path, parts)
    return path, parts


def _check_bbox(bbox: Sequence[float] | None) -> tuple[float, float, float, float] | None:
    if bbox is None:
        return None
    try:
        values = tuple(float(v) for v in bbox)
    except (TypeError, ValueError, OverflowError):
        values = ()
    if (
        len(values) != 4
        or not all(math.isfinite(v) for v in values)
        or values[0] > values[2]
        or values[1] > values[3]
    ):
        raise SchemaError(
            f"bbox {bbox!r}: give four finite numbers (xmin, ymin, xmax, ymax) in the "
            f"layer's CRS, minimum first, e.g. {option_hint('bbox', '(44.0, 39.5, 44.5, 40.0)')}."
        )
    return values


def _check_columns(columns: Sequence[str] | None, part: _Part, folder: Path) -> list[str] | None:
    if columns is None:
        return None
    if isinstance(columns, str):
        columns = [columns]
    known = [n for n in _data_fields(part) if n != part.primary]
    unknown = [c for c in columns if c not in known and c != part.primary]
    if unknown:
        raise SchemaError(
            f"{folder.name}: no column {unknown[0]!r}; the layer has {known}. Pass some of "
            f"those with {option_hint('columns')}."
        )
    return [*dict.fromkeys([*columns, part.primary])]


def _meets(bounds: tuple[float, ...] | None, box: tuple[float, ...]) -> bool:
    if bounds is None or not all(math.isfinite(v) for v in bounds):
        return True  # unknown extent: read the file, the row filter decides
    return not (
        bounds[0] > box[2] or bounds[1] > box[3] or bounds[2] < box[0] or bounds[3] < box[1]
    )


def _read_part(
    part: _Part, folder: Path, box: tuple[float, ...] | None, columns: list[str] | None
) -> gpd.GeoDataFrame:
    """One file's rows (those whose geometry's bounding box meets ``box``, if given).

    The row groups are chosen by the statistics of the bbox covering column (all of them
    when the file has none), the rows by their geometries' own bounds, so a covering value
    that lies never drops a row of a row group that is read; one that disagrees with its
    geometry is refused."""
    cover = None
    try:
        if _all_wkb(part, columns):
            gdf, cover = _read_wkb(part, box, columns)
        else:  # GeoArrow-encoded geometries: geopandas decodes them, the whole file
            gdf = gpd.read_parquet(
                os.path.abspath(part.path), columns=columns, filesystem=pyarrow.fs.LocalFileSystem()
            )
            if part.covering in gdf.columns:
                gdf = gdf.drop(columns=part.covering)
    except MinemapError:
        raise
    except Exception as exc:  # noqa: BLE001 - Arrow and GeoParquet errors mean unreadable
        raise FormatError(
            f"{folder.name}: {part.path.name} cannot be read as GeoParquet "
            f"({str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__})"
            "; write the file again."
        ) from None
    if box is not None:
        gdf = _rows_meeting(gdf, box, cover, part, folder)
    gdf.attrs.update({"source": folder.name, FOLDER_ATTR: str(folder.resolve())})
    return gdf


def _geometry_columns(part: _Part, names: Sequence[str]) -> list[str]:
    described = part.geo["columns"]
    return [n for n in names if n in described and isinstance(described[n], dict)]


def _all_wkb(part: _Part, columns: list[str] | None) -> bool:
    """Whether every geometry column to read is WKB (decoded here, with the parsed CRS)."""
    names = columns if columns is not None else part.schema.names
    for name in _geometry_columns(part, names):
        kind = _plain_type(part.schema.field(name).type)
        encoding = part.geo["columns"][name].get("encoding", "WKB")
        if str(encoding).upper() != "WKB" or kind != pyarrow.binary():
            return False
    return True


def _group_bounds(
    metadata: pq.FileMetaData, group: int, covering: str
) -> tuple[float, float, float, float] | None:
    """A row group's extent from its covering column's statistics, or None if unknown."""
    row_group = metadata.row_group(group)
    found: dict[str, float] = {}
    for index in range(row_group.num_columns):
        column = row_group.column(index)
        prefix, _, key = column.path_in_schema.partition(".")
        if prefix != covering or key not in _BOX_KEYS:
            continue
        stats = column.statistics
        if stats is None or not stats.has_min_max:
            return None
        found[key] = float(stats.min if key.endswith("min") else stats.max)
    if len(found) < 4:
        return None
    return (found["xmin"], found["ymin"], found["xmax"], found["ymax"])


def _read_wkb(
    part: _Part, box: tuple[float, ...] | None, columns: list[str] | None
) -> tuple[gpd.GeoDataFrame, np.ndarray | None]:
    """Read a file whose geometries are WKB: only the row groups that may meet ``box``,
    the geometries decoded with the CRS parsed once for the layer; with ``box``, also the
    covering values of the rows read (n x 4, NaN where null)."""
    names = list(columns) if columns is not None else list(part.schema.names)
    names = [n for n in names if n != part.covering]
    if box is not None and part.covering is not None:
        names.append(part.covering)  # to check it against the geometries
    with open(part.path, "rb") as handle:
        pfile = pq.ParquetFile(handle)
        groups = list(range(pfile.metadata.num_row_groups))
        if box is not None and part.covering is not None:
            groups = [
                g for g in groups if _meets(_group_bounds(pfile.metadata, g, part.covering), box)
            ]
        if groups:
            table = pfile.read_row_groups(groups, columns=names, use_pandas_metadata=True)
        elif pfile.metadata.num_row_groups:  # none meets the box (pyarrow 19 refuses [])
            table = pfile.read_row_group(0, columns=names, use_pandas_metadata=True).slice(0, 0)
        else:
            table = pfile.read(columns=names, use_pandas_metadata=True)
    cover = None
    if part.covering is not None and part.covering in table.column_names:
        struct = table[part.covering].combine_chunks()
        cover = np.column_stack(
            [
                np.asarray(struct.field(f).to_numpy(zero_copy_only=False), dtype=float)
                for f in part.covering_fields()
            ]
        ).reshape(-1, 4)
        cover[np.asarray(struct.is_null(), dtype=bool)] = np.nan
        table = table.drop_columns([part.covering])
    geometry = _geometry_columns(part, table.column_names)
    order = list(table.slice(0, 0).to_pandas().columns)
    frame = table.drop_columns(geometry).to_pandas()
    for name in sorted(geometry, key=order.index):
        crs = part.crs if name == part.primary else _crs_of(part.geo, name, part.path)
        values = gpd.GeoSeries.from_wkb(
            table[name].to_numpy(zero_copy_only=False), index=frame.index, crs=crs
        )
        frame.insert(order.index(name), name, values)
    return gpd.GeoDataFrame(frame, geometry=part.primary, crs=part.crs), cover


def _rows_meeting(
    gdf: gpd.GeoDataFrame,
    box: tuple[float, ...],
    given: np.ndarray | None,
    part: _Part,
    folder: Path,
) -> gpd.GeoDataFrame:
    """The rows whose geometry's bounding box meets ``box`` (touching counts), after
    checking that the covering values read with them (``given``) hold their geometries."""
    bounds = shapely.bounds(np.asarray(gdf.geometry.array, dtype=object))
    if given is not None:
        present = ~np.isnan(bounds).any(axis=1)
        with np.errstate(invalid="ignore"):
            holds = (
                (given[:, 0] <= bounds[:, 0])
                & (given[:, 1] <= bounds[:, 1])
                & (given[:, 2] >= bounds[:, 2])
                & (given[:, 3] >= bounds[:, 3])
            )
        wrong = present & ~holds
        if wrong.any():
            raise FormatError(
                f"{folder.name}: {part.path.name}: its bbox covering column does not hold the "
                f"geometry of {int(wrong.sum())} row(s) (first at index {gdf.index[wrong][0]!r}),"
                " so a bbox filter would miss rows; write the file again."
            )
    with np.errstate(invalid="ignore"):
        meets = (
            (bounds[:, 0] <= box[2])
            & (bounds[:, 1] <= box[3])
            & (bounds[:, 2] >= box[0])
            & (bounds[:, 3] >= box[1])
        )
    return gdf[meets]


def iter_partitions(
    folder: str | os.PathLike,
    *,
    bbox: Sequence[float] | None = None,
    columns: Sequence[str] | None = None,
) -> Iterator[gpd.GeoDataFrame]:
    """The files of a partitioned GeoParquet layer, one GeoDataFrame each, in name order.

    Every file is checked (format, CRS, schema) before the first one is read, so a caller
    streaming the layer never gets half of it and then an error; memory holds one file at
    a time. With ``bbox``, files whose extent lies elsewhere are skipped unread and the
    rows of the others are those whose bounding box meets ``bbox``.

    Parameters
    ----------
    folder : path-like
        A folder of GeoParquet files (see :mod:`minemap.io.parquet`).
    bbox : sequence of 4 floats, optional
        ``(xmin, ymin, xmax, ymax)`` in the layer's CRS: keep the rows whose bounding box
        meets it (touching counts).
    columns : sequence of str, optional
        Columns to read (the geometry column is always read).

    Returns
    -------
    iterator of geopandas.GeoDataFrame
        One frame per file read, with the index it was written with.

    Raises
    ------
    MinemapError
        A subclass naming the folder, the file and the fix, for a folder that is not one
        partitioned GeoParquet layer.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import geopandas as gpd, shapely
    >>> squares = gpd.GeoDataFrame(
    ...     {"hazard_id": [f"H{i}" for i in range(6)]},
    ...     geometry=[shapely.box(i, 0, i + 0.5, 0.5) for i in range(6)], crs=32638,
    ... )
    >>> folder = write_partitioned(squares, pathlib.Path(tempfile.mkdtemp()) / "h", npartitions=3)
    >>> [len(part) for part in iter_partitions(folder)]
    [2, 2, 2]
    >>> sum(len(part) for part in iter_partitions(folder, bbox=(0, 0, 1.2, 1)))  # H0 and H1
    2
    """
    path, parts = _open_layer(folder)
    box = _check_bbox(bbox)
    wanted = _check_columns(columns, parts[0], path)

    def frames() -> Iterator[gpd.GeoDataFrame]:
        for part in parts:
            if box is None or _meets(part.bounds, box):
                yield _read_part(part, path, box, wanted)

    return frames()


def read_partitioned(
    folder: str | os.PathLike,
    *,
    bbox: Sequence[float] | None = None,
    columns: Sequence[str] | None = None,
) -> gpd.GeoDataFrame:
    """Read a partitioned GeoParquet layer (a folder of GeoParquet files) into one frame.

    The files are read in name order (:func:`iter_partitions`) and put one after the other;
    a bbox filter is pushed down to the files' bbox covering columns, so only the files and
    row groups near ``bbox`` are decoded.

    Parameters
    ----------
    folder : path-like
        A folder of GeoParquet files sharing one schema and one CRS.
    bbox : sequence of 4 floats, optional
        ``(xmin, ymin, xmax, ymax)`` in the layer's CRS: keep the rows whose bounding box
        meets it (touching counts).
    columns : sequence of str, optional
        Columns to read (the geometry column is always read).

    Returns
    -------
    geopandas.GeoDataFrame
        The rows, with the index they were written with (:func:`write_partitioned` keeps
        the original index: ``.sort_index()`` restores the original order);
        ``attrs['source']`` is the folder's name.

    Raises
    ------
    InputFileError
        The folder is missing, holds no ``.parquet`` file, or a file is a symbolic link
        leading out of it.
    FormatError
        A file is not Parquet or not GeoParquet, or the folder holds other files.
    CRSError, SchemaError
        Two files differ in CRS or in columns (the message names both files).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import geopandas as gpd, shapely
    >>> squares = gpd.GeoDataFrame(
    ...     {"hazard_id": [f"H{i}" for i in range(6)]},
    ...     geometry=[shapely.box(i, 0, i + 0.5, 0.5) for i in range(6)], crs=32638,
    ... )
    >>> folder = write_partitioned(squares, pathlib.Path(tempfile.mkdtemp()) / "h", npartitions=3)
    >>> read_partitioned(folder).sort_index()["hazard_id"].tolist()
    ['H0', 'H1', 'H2', 'H3', 'H4', 'H5']
    >>> sorted(read_partitioned(folder, bbox=(3.9, 0, 5.2, 1))["hazard_id"])
    ['H4', 'H5']
    """
    path, parts = _open_layer(folder)
    box = _check_bbox(bbox)
    wanted = _check_columns(columns, parts[0], path)
    chosen = [p for p in parts if box is None or _meets(p.bounds, box)] or parts[:1]
    frames = [_read_part(part, path, box, wanted) for part in chosen]
    kept = [frame for frame in frames if len(frame)] or frames[:1]
    out = kept[0] if len(kept) == 1 else pd.concat(kept)
    out.attrs = {"source": path.name, FOLDER_ATTR: str(path.resolve())}
    return out


def partition_bounds(folder: str | os.PathLike) -> gpd.GeoDataFrame:
    """Each file's extent and row count, from the files' footers (no geometry is read).

    The extent comes from the statistics of the bbox covering columns, else from the
    GeoParquet metadata's ``bbox``; a file that has neither has no geometry here.

    Parameters
    ----------
    folder : path-like
        A folder of GeoParquet files (see :func:`read_partitioned`).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``file``, ``rows``, ``xmin``, ``ymin``, ``xmax``, ``ymax`` and the extent as
        a box geometry, in the layer's CRS.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import geopandas as gpd, shapely
    >>> squares = gpd.GeoDataFrame(
    ...     {"hazard_id": [f"H{i}" for i in range(4)]},
    ...     geometry=[shapely.box(i, 0, i + 0.5, 0.5) for i in range(4)], crs=32638,
    ... )
    >>> folder = write_partitioned(squares, pathlib.Path(tempfile.mkdtemp()) / "h", npartitions=2)
    >>> partition_bounds(folder)[["file", "rows"]]
                     file  rows
    0  part-00000.parquet     2
    1  part-00001.parquet     2
    >>> partition_bounds(folder).total_bounds.tolist()
    [0.0, 0.0, 3.5, 0.5]
    """
    _, parts = _open_layer(folder)
    nan = (math.nan,) * 4
    table = pd.DataFrame(
        [(p.path.name, p.rows, *(p.bounds or nan)) for p in parts],
        columns=["file", "rows", "xmin", "ymin", "xmax", "ymax"],
    )
    known = np.isfinite(table[["xmin", "ymin", "xmax", "ymax"]].to_numpy()).all(axis=1)
    boxes = np.full(len(table), None, dtype=object)
    boxes[known] = shapely.box(*table.loc[known, ["xmin", "ymin", "xmax", "ymax"]].to_numpy().T)
    return gpd.GeoDataFrame(table, geometry=boxes, crs=parts[0].crs)


# ------------------------------------------------------------------------------------------
# writing
# ------------------------------------------------------------------------------------------


def _check_count(value: object, option: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise SchemaError(
            f"{option}={value!r}: give a whole number of 1 or more, e.g. "
            f"{option_hint(option, '100000' if option == 'rows_per_file' else '8')}."
        )
    return int(value)


def check_output_folder(
    folder: str | os.PathLike, *, overwrite: bool = False, source: str | None = None
) -> Path:
    """Refuse a folder a partitioned layer cannot be written to, before any work.

    Parameters
    ----------
    folder : path-like
        Where the layer's files will be; its parent must exist. A symbolic link names the
        folder it points to.
    overwrite : bool, default False
        Whether a non-empty folder (hidden entries count) may be replaced; even then only a
        folder whose every entry is a regular ``.parquet`` part file, a ``_SUCCESS``/
        ``_metadata`` marker or a hidden leftover of a system or a writer (``.DS_Store``,
        ``._name``, ``.name.crc``) is ever replaced.
    source : str, optional
        A folder the data was read from (never written).

    Returns
    -------
    pathlib.Path
        The folder to write.

    Raises
    ------
    OutputError
        The path is a file, the current folder, the source folder or inside it, inside a
        partitioned layer, a non-empty folder without ``overwrite``, a folder holding other
        entries, or its parent is missing.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> parent = pathlib.Path(tempfile.mkdtemp())
    >>> check_output_folder(parent / "zones.parquet").name
    'zones.parquet'
    >>> _ = (parent / "notes.txt").write_text("field notes")
    >>> check_output_folder(parent, overwrite=True)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    minemap._errors.OutputError: ...: the folder holds other entries than a partitioned ...
    """
    text = os.fspath(folder)
    try:
        _guard.check_source(text)
    except InputFileError:
        raise OutputError(
            f"{text}: minemap writes to local folders only (not URLs nor GDAL virtual paths); "
            "give a folder on this computer."
        ) from None
    target = Path(text)
    if target.is_symlink():
        target = Path(os.path.realpath(target))
    if Path(os.path.normpath(text)).name in ("", ".", ".."):
        raise OutputError(
            f"{text!r}: name the new layer's own folder, e.g. "
            f"{os.path.join(text or '.', 'zones.parquet')}/; minemap never writes a layer "
            "over the current folder or one of its parents."
        )
    if target.exists() and not target.is_dir():
        raise OutputError(
            f"{text} is a file, not a folder; a partitioned layer is a folder of files: give "
            f"a folder name, e.g. {target.with_suffix('')}.parquet/."
        )
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        raise OutputError(f"{text}: the folder {parent} does not exist; create it first.")
    try:
        remove_orphans(target)  # puts back a layer a killed run had moved aside
    except OSError as exc:
        raise OutputError(
            f"{text}: what a killed run left beside the folder cannot be cleaned up "
            f"({exc.strerror or exc}); check the permissions of {parent}."
        ) from None
    if source and target.exists() and Path(source).resolve() == target.resolve():
        raise OutputError(
            f"{text}: the layer was read from this folder; writing it there would destroy that "
            "input. Write to a new folder, then replace the old one if you wish."
        )
    check_not_in_layer(target, sources=[source] if source else [])
    if target.is_dir():
        try:
            entries = sorted(os.scandir(target), key=lambda e: e.name)
        except OSError as exc:
            raise OutputError(
                f"{text}: the folder cannot be listed ({exc.strerror or exc}); check its "
                "permissions or choose a new folder."
            ) from None
        if entries and not overwrite:
            raise OutputError(
                f"{text}: the folder exists and is not empty; pass "
                f"{option_hint('overwrite', 'True')} to replace the partitioned layer it holds, "
                "or choose a new folder."
            )
        strangers = [e.name for e in entries if not _replaceable(e)]
        if strangers:
            shown = ", ".join(strangers[:5]) + (", ..." if len(strangers) > 5 else "")
            raise OutputError(
                f"{text}: the folder holds other entries than a partitioned GeoParquet layer "
                f"({shown}); minemap replaces only a folder of .parquet files: choose a new "
                "folder."
            )
    return target


#: Marker files other writers (Spark, Dask, Arrow) leave in a layer folder.
_MARKERS = frozenset({"_SUCCESS", "_metadata", "_common_metadata"})


def _replaceable(entry: os.DirEntry) -> bool:
    """Whether replacing a layer folder may delete this entry: a regular ``.parquet`` part
    file (not hidden, not a link), a marker file, or a hidden file a system or a writer
    leaves beside the parts (:func:`_leftover`), which the reader skips too."""
    try:
        regular = entry.is_file(follow_symlinks=False)
    except OSError:
        return False
    if not regular:
        return False
    name = entry.name
    if name in _MARKERS or _leftover(name):
        return True
    return not ignored_entry(name) and name.lower().endswith(PART_SUFFIX)


def _leftover(name: str) -> bool:
    """A hidden file that only describes the folder or its parts: macOS's ``.DS_Store`` and
    ``._name`` forks, and the ``.name.crc`` checksums Hadoop and Spark write.

    Examples
    --------
    >>> [_leftover(n) for n in (".DS_Store", "._part-00000.parquet", ".part-0.parquet.crc")]
    [True, True, True]
    >>> [_leftover(n) for n in (".notes", "notes.crc", ".git")]
    [False, False, False]
    """
    return (
        name == ".DS_Store"
        or name.startswith("._")
        or (name.startswith(".") and name.lower().endswith(".crc"))
    )


def _hilbert_order(gdf: gpd.GeoDataFrame) -> np.ndarray:
    """Row positions sorted along a Hilbert curve of the bbox centres over the layer's
    bounds (ties and rows without geometry keep their order; the latter come last)."""
    geoms = np.asarray(gdf.geometry.array, dtype=object)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    keys = np.full(len(gdf), np.iinfo(np.int64).max, dtype=np.int64)
    if present.any():
        series = gpd.GeoSeries(geoms[present], crs=gdf.crs)
        keys[present] = series.hilbert_distance(total_bounds=series.total_bounds).to_numpy()
    return np.argsort(keys, kind="stable")


def write_partitioned(
    gdf: gpd.GeoDataFrame,
    folder: str | os.PathLike,
    *,
    rows_per_file: int | None = None,
    npartitions: int | None = None,
    overwrite: bool = False,
) -> Path:
    """Write a layer as a folder of GeoParquet files, spatially sorted, whole or not at all.

    The rows are sorted along a Hilbert curve of their bounding-box centres over the
    layer's bounds and cut into runs of equal size, one file each (``part-00000.parquet``,
    ...), so each file covers a compact region. Every file is GeoParquet 1.1 with a bbox
    covering column (``bbox``) and row groups of :data:`ROW_GROUP_ROWS` rows, which lets
    :func:`read_partitioned` skip what lies outside a bounding box. The folder is written
    beside its final place and moved there in one step: a reader sees the old layer or the
    new one, never a mix.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        The layer (never modified); it needs a CRS and no column named ``bbox``. Its index
        is kept, so ``read_partitioned(folder).sort_index()`` gives the original order.
    folder : path-like
        The folder to write; its parent must exist.
    rows_per_file : int, optional
        Rows per file (default :data:`ROWS_PER_FILE`); the files are balanced.
    npartitions : int, optional
        Number of files instead (no more than one per row). Give one of the two, not both.
    overwrite : bool, default False
        Replace a folder that exists and is not empty; only a folder holding a partitioned
        layer (``.parquet`` files only) is ever replaced, and never the folder ``gdf`` was
        read from.

    Returns
    -------
    pathlib.Path
        The folder written.

    Raises
    ------
    OutputError
        The folder is a file, the layer's own input, a non-empty folder without
        ``overwrite=True``, or a folder holding other data; or it cannot be written.
    CRSError, SchemaError
        The layer has no CRS, a column named ``bbox``, or a bad option.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import geopandas as gpd, shapely
    >>> squares = gpd.GeoDataFrame(
    ...     {"hazard_id": [f"H{i}" for i in range(5)]},
    ...     geometry=[shapely.box(i, 0, i + 0.5, 0.5) for i in range(5)], crs=32638,
    ... )
    >>> folder = write_partitioned(
    ...     squares, pathlib.Path(tempfile.mkdtemp()) / "hazards.parquet", rows_per_file=2
    ... )
    >>> sorted(p.name for p in folder.iterdir())
    ['part-00000.parquet', 'part-00001.parquet', 'part-00002.parquet']
    """
    with OutputSet() as outputs:
        target = add_partitioned(
            outputs,
            gdf,
            folder,
            rows_per_file=rows_per_file,
            npartitions=npartitions,
            overwrite=overwrite,
        )
    return target


def add_partitioned(
    outputs: OutputSet,
    gdf: gpd.GeoDataFrame,
    folder: str | os.PathLike,
    *,
    rows_per_file: int | None = None,
    npartitions: int | None = None,
    overwrite: bool = False,
) -> Path:
    """Stage a partitioned layer in ``outputs`` (written with the other outputs, or not at
    all); the options are :func:`write_partitioned`'s.

    Examples
    --------
    A partitioned layer and a text file written together, or neither:

    >>> import pathlib, tempfile
    >>> import geopandas as gpd, shapely
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> zones = gpd.GeoDataFrame(
    ...     {"hazard_id": ["H1"]}, geometry=[shapely.box(44.0, 40.0, 44.01, 40.01)], crs=4326
    ... )
    >>> with OutputSet() as outputs:
    ...     _ = add_partitioned(outputs, zones, folder / "zones.parquet")
    ...     outputs.add_text(folder / "zones.txt", "1 zone\\n")
    >>> sorted(p.name for p in folder.iterdir())
    ['zones.parquet', 'zones.txt']
    """
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise SchemaError(
            f"the layer to write is a {type(gdf).__name__}, not a GeoDataFrame; make one "
            "first, e.g. geopandas.GeoDataFrame(frame, geometry='geometry', crs='EPSG:32638')."
        )
    odd = [c for c in gdf.columns if not isinstance(c, str)]
    if odd:
        raise SchemaError(
            f"the layer's column names must be text for GeoParquet, not {odd[:5]}; rename "
            f"them, e.g. gdf.rename(columns={{{odd[0]!r}: {str(odd[0])!r}}})."
        )
    per_file = _check_count(rows_per_file, "rows_per_file")
    files = _check_count(npartitions, "npartitions")
    if per_file is not None and files is not None:
        raise SchemaError(
            f"rows_per_file={per_file} and npartitions={files}: give one of the two, "
            f"e.g. {option_hint('npartitions', str(files))} alone."
        )
    if gdf.crs is None:
        raise CRSError(
            "the layer has no CRS, and a GeoParquet file without one would be read as "
            "longitude/latitude; set it first, e.g. gdf.set_crs('EPSG:32638')."
        )
    if COVERING in gdf.columns:
        raise SchemaError(
            f"the layer has a column named {COVERING!r}, the name of the bbox covering column "
            f"each file gets; rename it, e.g. gdf.rename(columns={{{COVERING!r}: 'bbox_text'}})."
        )
    target = check_output_folder(folder, overwrite=overwrite, source=gdf.attrs.get(FOLDER_ATTR))
    count = files if files is not None else math.ceil(len(gdf) / (per_file or ROWS_PER_FILE))
    runs = np.array_split(_hilbert_order(gdf), max(1, min(count, len(gdf))))

    def write(tmp: Path) -> None:
        for number, rows in enumerate(runs):
            gdf.iloc[rows].to_parquet(
                tmp / PART_NAME.format(number),
                write_covering_bbox=True,
                schema_version="1.1.0",
                row_group_size=ROW_GROUP_ROWS,
                filesystem=pyarrow.fs.LocalFileSystem(),
            )

    outputs.add_folder(target, write)
    return target
