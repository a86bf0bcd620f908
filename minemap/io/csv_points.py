"""CSV files: geometry as WKT, or points from coordinate columns.

A CSV is opened with GDAL's CSV driver only (never a driver guessed from the contents), as
text: the separator (comma, semicolon or tab) is detected from the header, a UTF-8 byte
order mark is skipped. The geometry comes from

* a **WKT column** (``WKT``, ``wkt_geom``, ``geometry``, ``geom``, ``the_geom``, ``shape``;
  any case): any geometry type, curved ones linearised by GDAL; or
* **coordinate columns**, for point layers (infrastructure, settlements, incidents, device
  finds): ``lon``/``long``/``longitude``/``lng`` with ``lat``/``latitude``, or
  ``x``/``easting``/``point_x`` with ``y``/``northing``/``point_y`` (any case, units in
  brackets ignored: ``Longitude (deg)``), or the columns named with ``x_column=`` and
  ``y_column=``. A decimal comma (``46,123``) is read as a decimal mark; ``1.234,5`` and
  ``1,234.5`` as thousands separators followed by the decimal mark.

**CRS.** A CSV cannot declare its CRS. Without ``crs=``, coordinates in columns named
lon/lat whose values all lie within longitude [-180, 180] and latitude [-90, 90] are taken
as EPSG:4326 (WGS 84), as GPS receivers and spreadsheets write them; x/y or
easting/northing columns, and WKT, need ``crs=``.

Empty or non-numeric coordinate cells are an error naming the rows (1-based data rows, the
header not counted): a point is never silently dropped.
"""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import shapely

from minemap import _validate
from minemap._errors import (
    CoordinateError,
    CRSError,
    FormatError,
    GeometryTypeError,
    SchemaError,
    option_hint,
)
from minemap.io import _curves, _guard

#: Extensions read as CSV.
CSV_SUFFIXES = frozenset({".csv", ".tsv"})

#: Names of a WKT column, compared case-insensitively.
WKT_NAMES = ("wkt", "wkt_geom", "geometry", "geom", "the_geom", "shape")

_LON = frozenset({"lon", "long", "longitude", "lng"})
_LAT = frozenset({"lat", "latitude"})
_X = frozenset({"x", "easting", "east", "pointx", "xcoord", "coordx"})
_Y = frozenset({"y", "northing", "north", "pointy", "ycoord", "coordy"})

_UNITS = re.compile(r"[\(\[].*?[\)\]]")
_SPACES = re.compile(r"[\s\u00a0\u202f']")
_DECIMAL_COMMA = re.compile(r"^[+-]?\d*,\d+$")
_DOTS_THEN_COMMA = re.compile(r"^[+-]?\d{1,3}(?:\.\d{3})+,\d+$")
_COMMAS_THEN_DOT = re.compile(r"^[+-]?\d{1,3}(?:,\d{3})+\.\d+$")


def _check_all_rows(path: Path, frame: pd.DataFrame, encoding: str | None) -> None:
    """Refuse a read that lost rows: count the file's records with Python's csv module."""
    with open(path, newline="", encoding=encoding or "utf-8-sig", errors="replace") as handle:
        header = handle.readline()
        delimiter = max(",;\t|", key=header.count)
        limit = csv.field_size_limit()
        csv.field_size_limit(2**31 - 1)
        try:
            records = [row[:1] for row in csv.reader(handle, delimiter=delimiter) if row]
        except csv.Error as err:
            raise FormatError(
                f"{path.name} cannot be read as a CSV file ({err}); save it again "
                "from your spreadsheet as CSV (UTF-8)."
            ) from None
        finally:
            csv.field_size_limit(limit)
    if len(records) == len(frame):
        return
    first = frame.iloc[:, 0].astype("string").fillna("").tolist() if len(frame.columns) else []
    row = next(
        (
            i
            for i, rec in enumerate(records)
            if i >= len(first) or rec[0].strip() != str(first[i]).strip()
        ),
        len(first),
    )
    raise FormatError(
        f"{path.name}: row {row + 1} (counted from 1 below the header) could not be read: the "
        f"file has {len(records)} rows but only {len(frame)} were read; check that row for an "
        "unclosed quote or a stray line break, or save the file again from your spreadsheet."
    )


def _normal(name: str) -> str:
    return re.sub(r"[^0-9a-z]", "", _UNITS.sub("", str(name).lower()))


def read_csv(
    path: str | os.PathLike,
    *,
    x_column: str | None = None,
    y_column: str | None = None,
    crs: object | None = None,
    areas: str | None = None,
    encoding: str | None = None,
) -> tuple[gpd.GeoDataFrame, int]:
    """Read a CSV file with a WKT column or coordinate columns.

    Every row is read, or the read fails naming the row: a WKT value of any length is read
    (GDAL's 10 MB line limit is lifted), and the rows GDAL returns are counted against the
    records in the file.

    Parameters
    ----------
    path : path-like
        The CSV (or tab-separated ``.tsv``) file.
    x_column, y_column : str, optional
        Columns holding x (longitude, easting) and y (latitude, northing); found by name
        when not given. Given, they win over a WKT column.
    crs : str, int or pyproj.CRS, optional
        CRS of the coordinates (it is not assigned here; it only tells whether the
        EPSG:4326 default for lon/lat columns applies, and which pair to use when a file has
        both lon/lat and x/y columns: x/y for a projected ``crs``).
    areas : str, optional
        What the layer's polygons are (e.g. ``'hazard areas'``) when only polygons will do:
        a CSV with coordinate columns and no WKT is then refused with a message saying so.
    encoding : str, optional
        Text encoding of a CSV not written in UTF-8, e.g. ``'latin-1'`` or ``'cp1252'``
        (what older spreadsheet programs write).

    Returns
    -------
    tuple
        ``(gdf, curved)``: the layer (CRS EPSG:4326 when taken from lon/lat columns, else
        none) and how many curved WKT geometries were linearised.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "wells.csv").write_text("name;Latitude;Longitude\\nW1;39,81;46,75\\n")
    >>> wells, _ = read_csv(folder / "wells.csv")
    >>> wells.crs.to_epsg(), wells.geometry.iloc[0].wkt
    (4326, 'POINT (46.75 39.81)')
    """
    path = Path(path)
    name = path.name
    try:
        with _guard.reading():
            frame = pyogrio.read_dataframe(
                _guard.gdal_path(path),
                read_geometry=False,
                KEEP_GEOM_COLUMNS="YES",
                use_arrow=False,
                encoding=encoding,
            )
    except Exception as exc:  # noqa: BLE001 - any GDAL error means unreadable
        raise FormatError(
            f"{name} cannot be read as a CSV file ({str(exc).strip()}); save it "
            "again from your spreadsheet as CSV (UTF-8)."
        ) from None
    frame = pd.DataFrame(frame)
    _check_all_rows(path, frame, encoding)
    columns = [str(c) for c in frame.columns]
    if (x_column is None) != (y_column is None):
        raise SchemaError(
            f"{name}: name both coordinate columns, with "
            f"{option_hint('x_column')} and {option_hint('y_column')}."
        )
    if x_column is not None and x_column == y_column:
        raise SchemaError(
            f"{name}: {option_hint('x_column')} and {option_hint('y_column')} both name "
            f"{x_column!r}; name the longitude (or x) column and the latitude (or y) column."
        )
    wkt = next((c for n in WKT_NAMES for c in columns if c.strip().lower() == n), None)
    if x_column is None and wkt is not None:
        return _from_wkt(frame, wkt, name)
    pair = _coordinate_columns(columns, x_column, y_column, crs, name)
    if pair is None:
        raise SchemaError(
            f"{name}: no geometry: the CSV has no WKT column ({', '.join(WKT_NAMES[:4])}, ...) "
            "and no coordinate columns (lon/lat, longitude/latitude, x/y, easting/northing); "
            f"it has {columns}. Name the coordinate columns with {option_hint('x_column')} and "
            f"{option_hint('y_column')}, or add a WKT column."
        )
    (xcol, ycol), lonlat = pair
    if areas is not None:
        raise GeometryTypeError(
            f"{name}: {areas} need polygons, but this CSV holds points (coordinate columns "
            f"{xcol!r}/{ycol!r}) and no WKT column; add a column named WKT with each area's "
            "outline as Well-Known Text, e.g. POLYGON((46.1 39.2, 46.2 39.2, 46.2 39.3, "
            "46.1 39.2)), or export the areas from your GIS as a GeoPackage."
        )
    x = _numbers(frame[xcol], xcol, name)
    y = _numbers(frame[ycol], ycol, name)
    missing = np.isnan(x) | np.isnan(y)
    if missing.any():
        rows = np.flatnonzero(missing) + 1
        raise CoordinateError(
            f"{name}: {rows.size} row(s) have no {xcol!r} or {ycol!r} value (rows "
            f"{_validate.list_ids(rows)}, counted from 1 below the header); a point needs both "
            "coordinates: fill them in or delete those rows."
        )
    geoms = shapely.points(x, y)
    gdf = gpd.GeoDataFrame(frame, geometry=geoms)
    if crs is None and lonlat:
        outside = (np.abs(x) > 180) | (np.abs(y) > 90)
        if outside.any():
            rows = np.flatnonzero(outside)
            k = rows[0]
            raise CRSError(
                f"{name}: columns {xcol!r}/{ycol!r} are named as longitude/latitude, but "
                f"{rows.size} row(s) hold values outside longitude [-180, 180] / latitude "
                f"[-90, 90] (rows {_validate.list_ids(rows + 1)}; e.g. {x[k]:.6g}, {y[k]:.6g}); "
                "if they are projected coordinates pass their CRS, e.g. "
                f"{option_hint('crs', repr('EPSG:32638'))}; if longitude and latitude are "
                f"swapped, name the columns with {option_hint('x_column')} and "
                f"{option_hint('y_column')}."
            )
        gdf = gdf.set_crs("EPSG:4326")
    elif crs is None:
        raise CRSError(
            f"{name}: coordinates in columns {xcol!r}/{ycol!r} can be in any CRS, and a CSV "
            "cannot declare one: pass it, e.g. "
            f"{option_hint('crs', repr('EPSG:32638'))} for UTM zone 38N (only columns named "
            "lon/lat holding degrees are taken as EPSG:4326 without it)."
        )
    gdf.attrs["coordinates"] = (xcol, ycol)
    return gdf, 0


def _coordinate_columns(
    columns: list[str], x_column: str | None, y_column: str | None, crs: object | None, name: str
) -> tuple[tuple[str, str], bool] | None:
    """The (x, y) columns and whether they are named as longitude/latitude."""
    if x_column is not None and y_column is not None:
        chosen = []
        for wanted, option in ((x_column, "x_column"), (y_column, "y_column")):
            exact = [c for c in columns if c == wanted]
            loose = [c for c in columns if c.strip().lower() == str(wanted).strip().lower()]
            if not (exact or len(loose) == 1):
                raise SchemaError(
                    f"{name}: no column {wanted!r} for {option_hint(option)}; "
                    f"the file has {columns}."
                )
            chosen.append((exact or loose)[0])
        degrees = _LON | _LAT  # named as longitude/latitude, in either order
        return (chosen[0], chosen[1]), (
            _normal(chosen[0]) in degrees and _normal(chosen[1]) in degrees
        )

    def one(family: frozenset[str]) -> str | None:
        found = [c for c in columns if _normal(c) in family]
        if len(found) > 1:
            raise SchemaError(
                f"{name}: several columns could hold the same coordinate ({found}); name the "
                f"ones to use with {option_hint('x_column')} and {option_hint('y_column')}."
            )
        return found[0] if found else None

    lon, lat, x, y = one(_LON), one(_LAT), one(_X), one(_Y)
    lonlat = (lon, lat) if lon and lat else None
    xy = (x, y) if x and y else None
    if lonlat and xy:
        projected = False
        if crs is not None:
            try:
                projected = pyproj.CRS.from_user_input(crs).is_projected
            except pyproj.exceptions.CRSError:
                projected = False
        return (xy, False) if projected else (lonlat, True)
    if lonlat:
        return lonlat, True
    if xy:
        return xy, False
    return None


def _numbers(values: pd.Series, column: str, name: str) -> np.ndarray:
    """Parse coordinate text: decimal points or commas; empty cells are NaN."""
    text = values.astype("string").fillna("").str.replace(_SPACES, "", regex=True)
    text = text.str.replace("\u2212", "-", regex=False)
    comma = text.str.match(_DECIMAL_COMMA)
    text = text.where(~comma, text.str.replace(",", ".", regex=False))
    dots = text.str.match(_DOTS_THEN_COMMA)
    text = text.where(
        ~dots, text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    )
    commas = text.str.match(_COMMAS_THEN_DOT)
    text = text.where(~commas, text.str.replace(",", "", regex=False))
    numbers = pd.to_numeric(text.where(text != ""), errors="coerce").to_numpy(dtype=float)
    bad = (text != "").to_numpy(dtype=bool) & ~np.isfinite(numbers)
    if bad.any():
        rows = np.flatnonzero(bad)
        raise CoordinateError(
            f"{name}: column {column!r} holds {rows.size} value(s) that are not numbers "
            f"(rows {_validate.list_ids(rows + 1)}; e.g. {values.iloc[rows[0]]!r}); write "
            "decimal numbers such as 46.123 or 46,123 (degrees, minutes and seconds are not "
            "read: convert them to decimal degrees)."
        )
    return numbers


def _from_wkt(frame: pd.DataFrame, column: str, name: str) -> tuple[gpd.GeoDataFrame, int]:
    texts = frame[column].astype("string").fillna("").str.strip()
    present = (texts != "").to_numpy(dtype=bool)
    values = texts.to_numpy(dtype=object)
    geoms = np.full(len(frame), None, dtype=object)
    curved = _curves.curved_wkt(values) & present
    linear = present & ~curved
    geoms[linear] = shapely.from_wkt(values[linear], on_invalid="ignore")
    if curved.any():
        geoms[curved] = _curves.linearise_wkt(list(values[curved]))
    bad = present & shapely.is_missing(geoms)
    if bad.any():
        rows = np.flatnonzero(bad)
        example = str(values[rows[0]])
        example = example if len(example) <= 60 else example[:57] + "..."
        raise FormatError(
            f"{name}: column {column!r} holds {rows.size} value(s) that are not WKT geometry "
            f"(rows {_validate.list_ids(rows + 1)}, counted from 1 below the header; e.g. "
            f"{example!r}); fix them, e.g. POLYGON((x1 y1, x2 y2, x3 y3, x1 y1))."
        )
    gdf = gpd.GeoDataFrame(frame.drop(columns=column), geometry=geoms)
    return gdf, int(curved.sum())
