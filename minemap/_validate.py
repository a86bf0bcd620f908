"""Validation and one-time repair of layers as they are read.

Checks raise a :class:`~minemap._errors.MinemapError` subclass whose message names the
file, the offending feature ids and the fix. Repairs (invalid rings, Z values, curved
geometries, empty rows) happen here, once, and are reported in a single
:class:`~minemap._errors.RepairWarning` that counts what changed and by how much area.
"""

from __future__ import annotations

import datetime
import re
import warnings
from collections.abc import Mapping, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from minemap import crs as _crs
from minemap._errors import (
    CoordinateError,
    CRSError,
    DuplicateIdWarning,
    EmptyLayerError,
    GeometryTypeError,
    RepairError,
    RepairWarning,
    SchemaError,
    option_hint,
)
from minemap._overlay import gc_paused, parallel, polygonal_parts
from minemap.settings import IDS_IN_MESSAGES, MAX_REPAIR_AREA_CHANGE
from minemap.vocabulary import canonical_word

POLYGON_TYPES = frozenset({"Polygon", "MultiPolygon"})
LINE_TYPES = frozenset({"LineString", "MultiLineString"})
POINT_TYPES = frozenset({"Point", "MultiPoint"})


def list_ids(ids: Sequence[object] | pd.Series | np.ndarray, limit: int = IDS_IN_MESSAGES) -> str:
    """Format feature ids for an error message: ``'a', 'b' and 3 more``."""
    values = [str(v) for v in list(ids)]
    shown = ", ".join(repr(v) for v in values[:limit])
    if len(values) > limit:
        shown += f" and {len(values) - limit} more"
    return shown


def check_not_empty(gdf: gpd.GeoDataFrame, label: str, *, after_repair: bool = False) -> None:
    """Refuse a layer without features."""
    if len(gdf) == 0:
        when = " after dropping empty geometries" if after_repair else ""
        raise EmptyLayerError(
            f"{label}: the layer has no features{when}; check that you chose the right file "
            "and layer, and that its geometries are not all empty."
        )


_CRS_FIXES = {
    ".shp": "or give the Shapefile its .prj file (export it again from your GIS)",
    ".csv": "a CSV file cannot declare a CRS, so name it every time",
    ".geojson": "GeoJSON is longitude/latitude (EPSG:4326) unless the file says otherwise",
}


def assign_crs(gdf: gpd.GeoDataFrame, label: str, crs: object | None, *,
               override: bool = False, suffix: str = "") -> gpd.GeoDataFrame:
    """Return ``gdf`` with a CRS, refusing a layer with none unless ``crs`` is given.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        The layer as read.
    label : str
        File (and layer) name used in messages.
    crs : str, int or pyproj.CRS, optional
        CRS of the coordinates: used for a layer that declares none, and for every layer when
        ``override`` is true.
    override : bool, default False
        Replace a declared CRS by ``crs`` (for files that declare a wrong one). The
        coordinates are not transformed, only interpreted in ``crs``.
    suffix : str, optional
        The file's extension, to tell how that format declares its CRS.
    """
    if override and crs is None:
        raise CRSError(f"{label}: {option_hint('override_crs', 'True')} needs the CRS to use: "
                       f"pass it with {option_hint('crs', repr('EPSG:32638'))}.")
    if gdf.crs is not None and not override:
        return gdf
    if crs is None:
        fix = _CRS_FIXES.get(suffix.lower(), "or fix the file so that it declares its CRS")
        raise CRSError(
            f"{label}: the layer has no coordinate reference system (CRS); pass the CRS its "
            f"coordinates are in, e.g. {option_hint('crs', repr('EPSG:4326'))}, {fix}."
        )
    try:
        wanted = pyproj.CRS.from_user_input(crs)
    except pyproj.exceptions.CRSError as exc:
        raise CRSError(f"{label}: {crs!r} is not a CRS pyproj knows ({exc}); "
                       "pass e.g. 'EPSG:4326' or 'EPSG:32638'.") from None
    return gdf.set_crs(wanted, allow_override=True)


def check_finite(geoms: np.ndarray, ids: pd.Series, label: str) -> None:
    """Refuse NaN or infinite coordinates."""
    coords, index = shapely.get_coordinates(geoms, return_index=True)
    bad_rows = np.unique(index[~np.isfinite(coords).all(axis=1)])
    if bad_rows.size:
        raise CoordinateError(
            f"{label}: {bad_rows.size} feature(s) have NaN or infinite coordinates "
            f"(ids {list_ids(ids.iloc[bad_rows])}); fix or delete those vertices in a GIS."
        )


def check_bounds(geoms: np.ndarray, crs: pyproj.CRS, ids: pd.Series, label: str) -> None:
    """Refuse coordinates outside the valid range of the layer's CRS."""
    crs = pyproj.CRS(crs)
    bounds = shapely.bounds(geoms)
    if crs.is_geographic:
        # axis order is normalised by the readers to x = longitude, y = latitude
        bad = (
            (bounds[:, 0] < -180 - 1e-9)
            | (bounds[:, 2] > 180 + 1e-9)
            | (bounds[:, 1] < -90 - 1e-9)
            | (bounds[:, 3] > 90 + 1e-9)
        )
        if bad.any():
            rows = np.flatnonzero(bad)
            b = bounds[rows[0]]
            hint = (
                "they look like projected metres: pass the layer's real CRS, e.g. "
                "crs='EPSG:32638'"
                if np.abs(b).max() > 1000
                else "latitude and longitude may be swapped (x must be longitude)"
            )
            raise CoordinateError(
                f"{label}: {rows.size} feature(s) have coordinates outside longitude "
                f"[-180, 180] / latitude [-90, 90] of {crs.name} (ids {list_ids(ids.iloc[rows])}; "
                f"e.g. x {b[0]:.6g}..{b[2]:.6g}, y {b[1]:.6g}..{b[3]:.6g}); {hint}."
            )
        return
    if len(bounds) and np.isfinite(bounds).all():
        total = (bounds[:, 0].min(), bounds[:, 1].min(), bounds[:, 2].max(), bounds[:, 3].max())
        looks_like_degrees = (
            -180 <= total[0] and total[2] <= 180 and -90 <= total[1] and total[3] <= 90
            and max(total[2] - total[0], total[3] - total[1]) < 5.0
        )
        if looks_like_degrees:
            raise CoordinateError(
                f"{label}: all coordinates lie within a few units of x {total[0]:.6g}..."
                f"{total[2]:.6g}, y {total[1]:.6g}...{total[3]:.6g}, which look like degrees of "
                f"longitude/latitude, not the {crs.axis_info[0].unit_name}s of {crs.name} "
                f"(ids {list_ids(ids)}); pass the layer's real CRS, e.g. crs='EPSG:4326'."
            )
    aou = crs.area_of_use
    try:
        transformer = _crs.transformer(crs.geodetic_crs, crs)
        if aou is not None:
            xmin, ymin, xmax, ymax = transformer.transform_bounds(*aou.bounds)
        else:
            xmin = ymin = -np.inf
            xmax = ymax = np.inf
    except pyproj.exceptions.ProjError:
        xmin = ymin = -np.inf
        xmax = ymax = np.inf
    if np.isfinite([xmin, ymin, xmax, ymax]).all():
        pad_x, pad_y = (xmax - xmin), (ymax - ymin)
        bad = (
            (bounds[:, 0] < xmin - pad_x)
            | (bounds[:, 2] > xmax + pad_x)
            | (bounds[:, 1] < ymin - pad_y)
            | (bounds[:, 3] > ymax + pad_y)
        )
    else:
        bad = np.zeros(len(geoms), dtype=bool)
    inverse = _crs.transformer(crs, crs.geodetic_crs)
    lon, lat = inverse.transform(bounds[:, [0, 2, 0, 2]].ravel(), bounds[:, [1, 1, 3, 3]].ravel())
    unmappable = ~(np.isfinite(lon) & np.isfinite(lat)).reshape(-1, 4).all(axis=1)
    bad |= unmappable & ~shapely.is_empty(geoms)
    if bad.any():
        rows = np.flatnonzero(bad)
        b = bounds[rows[0]]
        raise CoordinateError(
            f"{label}: {rows.size} feature(s) lie far outside the area where {crs.name} is "
            f"valid (ids {list_ids(ids.iloc[rows])}; e.g. x {b[0]:.6g}..{b[2]:.6g}, "
            f"y {b[1]:.6g}..{b[3]:.6g}); the layer's CRS is probably wrong: pass the right one "
            f"with {option_hint('crs')}; if the file declares a wrong CRS, also pass "
            f"{option_hint('override_crs', 'True')}."
        )


def check_ids(ids: pd.Series, label: str, id_column: str) -> None:
    """Warn about duplicate feature ids."""
    dup = ids[ids.duplicated(keep=False)]
    if len(dup):
        values = pd.unique(dup)
        warnings.warn(
            f"{label}: {len(values)} {id_column} value(s) are used by more than one feature "
            f"({list_ids(values)}); figures are still exact, but messages and maps cannot tell "
            "those features apart: give each feature its own id.",
            DuplicateIdWarning,
            stacklevel=4,
        )


def enclosed_area(geom: shapely.Geometry) -> float:
    """Area a polygon's rings enclose, each place counted once.

    Independent of :func:`shapely.make_valid`: every ring is noded and polygonised, the
    faces inside shells are unioned, and places inside holes are removed where they are
    inside a shell (a hole lying outside its shell encloses a place of its own). A bowtie
    counts both lobes; the signed shoelace sum, near zero for a bowtie, is never used.
    """
    def faces(rings: list[shapely.Geometry]) -> shapely.Geometry:
        if not rings:
            return shapely.Polygon()
        areas = [
            shapely.union_all(shapely.get_parts(shapely.polygonize([shapely.node(r)])))
            for r in rings
        ]
        return shapely.union_all(areas)

    places = []
    for poly in shapely.get_parts(geom):
        if shapely.get_type_id(poly) != 3 or poly.is_empty:
            continue
        # a part's holes cut only that part's shell; other parts may fill them again
        s, h = faces([poly.exterior]), faces(list(poly.interiors))
        places.append(shapely.symmetric_difference(s, h))
    return float(shapely.union_all(places).area) if places else 0.0


@gc_paused()
def polygon_layer(
    gdf: gpd.GeoDataFrame,
    *,
    label: str,
    ids: pd.Series,
    allow_area_change: bool = False,
    curved: int = 0,
) -> gpd.GeoDataFrame:
    """Validate and repair a polygon layer; return a repaired copy.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Layer with a CRS; not modified.
    label : str
        File (and layer) name used in messages.
    ids : pandas.Series
        Feature id per row (aligned with ``gdf``), used in messages.
    allow_area_change : bool, default False
        Accept repairs that change a feature's area by more than 1%.
    curved : int, default 0
        Number of curved geometries the reader linearised (reported in the warning).

    Returns
    -------
    geopandas.GeoDataFrame
        Valid Polygon/MultiPolygon features without Z, empty rows dropped.
    """
    geoms = np.asarray(gdf.geometry.array, dtype=object)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    present = ~missing
    # GEOS reports NaN or infinite coordinates as invalid: only invalid rows need the
    # (costlier) coordinate scan
    valid_as_read = np.zeros(len(geoms), dtype=bool)
    valid_as_read[present] = parallel(shapely.is_valid, geoms[present])
    suspect = present & ~valid_as_read
    check_finite(geoms[suspect], ids[suspect], label)

    type_ids = shapely.get_type_id(geoms)
    collection = type_ids == 7
    polygonal = np.isin(type_ids, (3, 6)) | missing
    if collection.any():
        # a collection holding only polygons is a polygon layer's feature in disguise
        part_types = [set(shapely.get_type_id(shapely.get_parts(g))) for g in geoms[collection]]
        ok = np.array([bool(t) and t <= {3, 6} for t in part_types])
        polygonal[np.flatnonzero(collection)[ok]] = True
    if not polygonal.all():
        rows = np.flatnonzero(~polygonal)
        kinds = pd.Series(shapely.get_type_id(geoms[rows])).map(
            {0: "points", 1: "lines", 2: "rings", 4: "points", 5: "lines", 7: "mixed collections"}
        )
        found = ", ".join(f"{n} {k}" for k, n in kinds.value_counts().items())
        raise GeometryTypeError(
            f"{label}: a polygon layer holds {found} (ids {list_ids(ids.iloc[rows])}); "
            "hazard and release areas must be Polygon or MultiPolygon: buffer points and lines "
            "into areas in a GIS, or point minemap at the right layer."
        )
    check_bounds(geoms[present], gdf.crs, ids[present], label)

    out = geoms.copy()
    has_z = np.zeros(len(geoms), dtype=bool)
    has_z[present] = shapely.has_z(geoms[present])
    if has_z.any():
        out[has_z] = shapely.force_2d(out[has_z])
    if collection.any():
        out[collection] = polygonal_parts(out[collection])
    invalid = np.zeros(len(geoms), dtype=bool)
    changed = present & (has_z | collection)
    invalid[present] = ~valid_as_read[present]
    if changed.any():
        invalid[changed] = ~shapely.is_valid(out[changed])

    area_before = area_after = 0.0
    if invalid.any():
        rows = np.flatnonzero(invalid)
        frame = _crs.area_frame(gdf.iloc[rows])
        before_geoms = _crs.to_area_frame(gpd.GeoSeries(out[rows], crs=gdf.crs), frame)
        before = np.array([enclosed_area(g) for g in before_geoms])
        repaired = polygonal_parts(shapely.make_valid(out[rows], method="structure",
                                                      keep_collapsed=False))
        after = shapely.area(_crs.to_area_frame(gpd.GeoSeries(repaired, crs=gdf.crs), frame))
        change = np.abs(after - before) / np.where(before > 0, before, 1.0)
        too_much = (change > MAX_REPAIR_AREA_CHANGE) & (before > 0)
        if too_much.any() and not allow_area_change:
            bad = rows[too_much]
            k = np.flatnonzero(too_much)[0]
            raise RepairError(
                f"{label}: repairing {bad.size} invalid polygon(s) would change their area by "
                f"more than {MAX_REPAIR_AREA_CHANGE:.0%} (ids {list_ids(ids.iloc[bad])}; e.g. "
                f"{before[k] / 1e4:.4f} ha enclosed by the rings, {after[k] / 1e4:.4f} ha after "
                "repair); fix those rings in a GIS, or accept the repair with "
                f"{option_hint('allow_area_change', 'True')}."
            )
        out[rows] = repaired
        area_before, area_after = float(before.sum()), float(after.sum())

    now_empty = present & shapely.is_empty(out)
    drop = missing | now_empty
    repaired_count = int(invalid.sum())
    z_count = int(has_z.sum())
    collections = int(collection.sum())
    if repaired_count or z_count or missing.any() or now_empty.any() or curved or collections:
        parts = []
        if repaired_count:
            parts.append(f"{repaired_count} invalid polygon(s) made valid "
                         f"(ids {list_ids(ids[invalid])})")
        if curved:
            parts.append(f"{curved} curved geometr{'y' if curved == 1 else 'ies'} linearised")
        if z_count:
            parts.append(f"Z values dropped from {z_count} feature(s)")
        if collections:
            parts.append(f"{collections} geometry collection(s) reduced to their polygons")
        if missing.any():
            parts.append(f"{int(missing.sum())} empty or null geometr"
                         f"{'y' if missing.sum() == 1 else 'ies'} dropped "
                         f"(ids {list_ids(ids[missing])})")
        if now_empty.any():
            parts.append(f"{int(now_empty.sum())} feature(s) with no area left dropped "
                         f"(ids {list_ids(ids[now_empty])})")
        delta = (area_after - area_before) / 1e4
        pct = 100.0 * (area_after - area_before) / area_before if area_before > 0 else 0.0
        warnings.warn(
            f"{label}: repaired on read: {'; '.join(parts)}; area of repaired polygons "
            f"changed by {delta + 0.0:+.4f} ha ({pct + 0.0:+.3f}%). The input file is unchanged.",
            RepairWarning,
            stacklevel=4,
        )
    result = gdf.copy()
    result = result.set_geometry(gpd.GeoSeries(out, index=gdf.index, crs=gdf.crs))
    result = result.loc[~drop]
    check_not_empty(result, label, after_repair=True)
    return result


def require_columns(gdf: pd.DataFrame, columns: dict[str, str], label: str) -> None:
    """Refuse a layer that lacks a required column; ``columns`` maps column → option name."""
    for column, option in columns.items():
        if column not in gdf.columns:
            existing = [c for c in gdf.columns if c != gdf.geometry.name] if isinstance(
                gdf, gpd.GeoDataFrame) else list(gdf.columns)
            raise SchemaError(
                f"{label}: no column {column!r}; the layer has {existing}. Name the right one "
                f"with {option_hint(option)}."
            )


def normalise_vocabulary(
    values: pd.Series, *, allowed: Sequence[str], ids: pd.Series, label: str, column: str,
    option: str, aliases: Mapping[str, str] | None = None, map_option: str = "level_map",
) -> pd.Series:
    """Map ``values`` onto ``allowed`` and refuse anything else.

    Case, surrounding spaces and inner spaces, hyphens and underscores are ignored;
    ``aliases`` (from :func:`minemap.vocabulary.resolve_aliases`) maps further words.
    """
    lookup = dict(aliases) if aliases is not None else {word: word for word in allowed}
    table = "threat_level" if map_option == "level_map" else "method"
    unique = pd.unique(values.astype(object))
    mapped = {v: (None if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA
                  else lookup.get(canonical_word(v))) for v in unique}
    text = pd.Series([mapped[v] for v in values.astype(object)], index=values.index,
                     dtype=object)
    bad = text.isna()
    if bad.any():
        found = pd.unique(values[bad].astype("string").fillna("<missing>"))
        example = next((str(v) for v in found if v != "<missing>"), "Your word")
        raise SchemaError(
            f"{label}: column {column!r} holds {list_ids(found)} (ids {list_ids(ids[bad])}); "
            f"allowed values are {', '.join(allowed)} and the IMAS terms minemap knows "
            "(case and spaces are ignored). Map other words with "
            f"{map_option}={{{example!r}: {allowed[0]!r}}} (CLI: --vocabulary FILE.toml "
            f"holding [{table}] \"{example}\" = \"{allowed[0]}\"), fix those values, or name "
            f"another column with {option_hint(option)}."
        )
    return text


_ISO_DAY = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})(?:$|[T ]|\s)")


def day_of(value: object) -> pd.Timestamp | None:
    """The calendar day a value names, as written (a UTC offset does not move the day)."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
        return None
    if isinstance(value, (pd.Timestamp, datetime.datetime, np.datetime64)):
        stamp = pd.Timestamp(value)
        return None if pd.isna(stamp) else pd.Timestamp(stamp.year, stamp.month, stamp.day)
    if isinstance(value, datetime.date):
        return pd.Timestamp(value.year, value.month, value.day)
    text = str(value).strip()
    if not text:
        return None
    match = _ISO_DAY.match(text)
    if not match:
        # "5/1/2022" is 5 January or 1 May depending on who wrote it; "2022" is no day:
        # guessing would give a wrong number, so only ISO 8601 days are accepted
        return None
    try:
        return pd.Timestamp(match.group(1))
    except ValueError:
        return None


def parse_dates(values: pd.Series, *, ids: pd.Series, label: str, column: str) -> pd.Series:
    """Parse release dates to calendar days; refuse missing or unparseable ones.

    A date keeps the calendar day it was written with: ``2022-01-05T02:00+04:00`` is
    5 January, not the 4 January it is in UTC.
    """
    if pd.api.types.is_datetime64_any_dtype(values):
        wall = values.dt.tz_localize(None) if values.dt.tz is not None else values
        parsed = wall.dt.normalize()
    else:
        lookup = {v: day_of(v) for v in pd.unique(values.astype(object))}
        parsed = pd.Series([lookup[v] for v in values.astype(object)], index=values.index,
                           dtype="datetime64[ns]")
    bad = parsed.isna()
    if bad.any():
        found = pd.unique(values[bad].astype("string").fillna("<missing>"))
        raise SchemaError(
            f"{label}: {int(bad.sum())} release(s) have a missing or unparseable date in "
            f"{column!r} (ids {list_ids(ids[bad])}; values {list_ids(found)}); write dates as "
            f"YYYY-MM-DD, or name another column with {option_hint('date_column')}."
        )
    return parsed.astype("datetime64[ns]")
