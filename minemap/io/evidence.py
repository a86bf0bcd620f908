"""Reading field evidence: casualty incidents, device finds, minefield records, settlements.

Each reader takes a file (GeoPackage, GeoJSON, Shapefile, FlatGeobuf, GeoParquet, CSV with a
WKT column or with coordinate columns such as lon/lat), a PostGIS table or query (a
``postgresql://`` URL with ``table=`` or ``sql=``, optionally ``bbox=``; see
:mod:`minemap.io.postgis`) or a GeoDataFrame, validates it,
repairs what can be repaired once (with a warning) and returns a new GeoDataFrame with the
canonical columns first (names in :mod:`minemap.settings`), the file's other columns after
them, and ``attrs["minemap"]`` set to the kind of layer:

=============  ==============================================================================
layer          canonical columns and geometry
=============  ==============================================================================
incidents      ``incident_id``, ``incident_date``, ``killed``, ``injured``, ``device_type``,
               ``victim_activity``; points
finds          ``find_id``, ``find_date``, ``device_type``, ``device_count``, ``release_id``;
               points
records        ``record_id``, ``recorded_devices``, ``device_type``; polygons (a recorded
               perimeter) or points (a recorded location), mixed
settlements    ``settlement_id``, ``name``, ``population``; points or polygons, mixed
=============  ==============================================================================

Rules shared by the readers:

* **Dates** are ISO 8601 days (``YYYY-MM-DD``); a missing date, or one after today (the
  latest calendar day anywhere on Earth), is refused with the ids.
* **Counts** (killed, injured, devices) are whole numbers from 0 to a billion: ``3``, ``3.0`` and
  the text ``"3"`` are 3; ``2.5``, ``-1`` and ``"three"`` are refused. A missing count is
  refused, except a record's device count (``NA``: the record gives none). A layer without
  a killed or injured column counts 0 casualties, with a warning; a layer of finds without
  a count column holds one device per row (the common form: one point per device).
* **Device types** are mapped onto :data:`~minemap.settings.DEVICE_TYPES` with the IMAS words
  built in (:data:`~minemap.vocabulary.DEVICE_ALIASES`: APM, anti-tank mine, ERW, AXO, CM,
  IED, ...) and the user's own words given with ``device_map=``; a missing value, or a
  layer without the column, is ``unknown``.
* **Text** (names, activities, any other column) is kept as written, never evaluated.
* **Geometry**: incidents and finds are points; a polygon or line given for one is refused
  unless ``as_points=True`` (then a point inside it is used, with a warning). Empty rows are
  dropped with a warning; NaN, infinite or misplaced coordinates and a missing CRS are
  refused, as for hazards.
"""

from __future__ import annotations

import numbers
import re
import warnings
from collections.abc import Callable, Mapping
from typing import TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from minemap import _progress, _validate
from minemap._errors import (
    DataWarning,
    GeometryTypeError,
    RepairWarning,
    SchemaError,
    option_hint,
)
from minemap.io.readers import (
    _TYPE_NAMES,
    Source,
    _canonical,
    _ids,
    read_layer,
    reading_description,
    with_edges,
)
from minemap.settings import (
    DEVICE_COUNT,
    DEVICE_TYPE,
    DEVICE_TYPES,
    FIND_DATE,
    FIND_ID,
    INCIDENT_DATE,
    INCIDENT_ID,
    INJURED,
    KILLED,
    POPULATION,
    RECORD_ID,
    RECORDED_DEVICES,
    RELEASE_ID,
    SETTLEMENT_ID,
    SETTLEMENT_NAME,
    VICTIM_ACTIVITY,
)
from minemap.vocabulary import DEVICE_ALIASES, resolve_aliases

__all__ = ["evidence_layer", "read_finds", "read_incidents", "read_records", "read_settlements"]

_T = TypeVar("_T")


# ------------------------------------------------------------------------------------------
# attributes
# ------------------------------------------------------------------------------------------


def _is_missing(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float | np.floating) and np.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _each(values: pd.Series, parse: Callable[[object], _T]) -> list[_T]:
    """``parse`` of every value, computed once per distinct value (columns repeat a few
    values many times); ``True`` and ``1`` are told apart."""
    cache: dict[tuple[type, object], _T] = {}
    out = []
    for value in values.astype(object):
        key = (type(value), value)
        try:
            result = cache[key]
        except KeyError:
            result = cache[key] = parse(value)
        except TypeError:  # unhashable
            result = parse(value)
        out.append(result)
    return out


def _optional(
    gdf: gpd.GeoDataFrame, column: str, default: str, option: str, label: str
) -> pd.Series | None:
    """The column, or None when it is absent under its default name; a column the user
    named must exist."""
    if column in gdf.columns:
        return gdf[column]
    if column != default:
        _validate.require_columns(gdf, {column: option}, label)
    return None


def _today() -> pd.Timestamp:
    """Today's date where it is latest on Earth (UTC+14): a date written anywhere today is
    never in the future."""
    return pd.Timestamp.now(tz="Etc/GMT-14").normalize().tz_localize(None)


def _event_dates(
    values: pd.Series, *, ids: pd.Series, label: str, column: str, what: str
) -> pd.Series:
    """Parse the dates of incidents or finds to calendar days; refuse missing, unparseable
    and future ones (a date keeps the day it was written with, whatever its UTC offset)."""
    if pd.api.types.is_datetime64_any_dtype(values):
        wall = values.dt.tz_localize(None) if values.dt.tz is not None else values
        parsed = wall.dt.normalize()
        if (parsed < _validate.EARLIEST_DAY).any():
            _validate.day_series(
                list(parsed), parsed.index, ids=ids, label=label, column=column, what=what
            )
    else:
        days = _each(values, _validate.day_of)
        parsed = _validate.day_series(
            days, values.index, ids=ids, label=label, column=column, what=what
        )
    bad = parsed.isna().to_numpy()
    if bad.any():
        found = pd.unique(values[bad].astype("string").fillna("<missing>"))
        raise SchemaError(
            f"{label}: {int(bad.sum())} {what}(s) have a missing or unparseable date in "
            f"{column!r} (ids {_validate.list_ids(ids[bad])}; values "
            f"{_validate.list_ids(found)}); write dates as YYYY-MM-DD, or name another column "
            f"with {option_hint('date_column')}."
        )
    today = _today()
    future = (parsed > today).to_numpy()
    if future.any():
        shown = parsed[future].dt.strftime("%Y-%m-%d")
        raise SchemaError(
            f"{label}: {int(future.sum())} {what}(s) are dated after today "
            f"({today:%Y-%m-%d}) in {column!r} (ids {_validate.list_ids(ids[future])}; dates "
            f"{_validate.list_ids(pd.unique(shown))}); a {what} cannot be dated in the future: "
            "correct those dates (often a mistyped year)."
        )
    return parsed.astype("datetime64[ns]")


_MISSING = object()
_BAD = object()
_WHOLE_TEXT = re.compile(r"^\+?(\d+)(?:\.0*)?$")
#: Largest count of one row (a billion devices or casualties is a typing slip; sums of
#: counts this size stay exact in 64-bit integers).
_MAX_COUNT = 1_000_000_000


def _whole(value: object) -> object:
    """A count as written: a Python int of 0 or more, ``_MISSING`` or ``_BAD``."""
    if _is_missing(value):
        return _MISSING
    if isinstance(value, bool | np.bool_):
        return _BAD
    if isinstance(value, numbers.Integral):
        n = int(value)
    elif isinstance(value, numbers.Real):
        number = float(value)
        if not np.isfinite(number) or number != np.floor(number) or abs(number) > _MAX_COUNT:
            return _BAD
        n = int(number)
    elif isinstance(value, str):
        match = _WHOLE_TEXT.match(value.strip())
        if match is None:
            return _BAD
        n = int(match.group(1))
    else:
        return _BAD
    return n if 0 <= n <= _MAX_COUNT else _BAD


def _counts(
    values: pd.Series,
    *,
    ids: pd.Series,
    label: str,
    column: str,
    option: str,
    what: str,
    missing_ok: bool = False,
) -> pd.Series:
    """Whole counts of 0 or more (nullable ``Int64``); refuse anything else, and a missing
    value unless ``missing_ok``."""
    parsed = _each(values, _whole)
    bad = np.array([p is _BAD for p in parsed], dtype=bool)
    if bad.any():
        empty = ", and leave the cell empty where the record gives no count" if missing_ok else ""
        raise SchemaError(
            f"{label}: column {column!r} holds {int(bad.sum())} value(s) that are not whole "
            f"numbers of 0 or more, up to {_MAX_COUNT:,} (ids {_validate.list_ids(ids[bad])}; "
            f"values {_validate.list_ids(pd.unique(values[bad].astype(str)))}); write each count "
            f"as a whole number such as 0, 1 or 12{empty}, or name another column with "
            f"{option_hint(option)}."
        )
    missing = np.array([p is _MISSING for p in parsed], dtype=bool)
    if missing.any() and not missing_ok:
        raise SchemaError(
            f"{label}: {int(missing.sum())} {what}(s) have no value in {column!r} (ids "
            f"{_validate.list_ids(ids[missing])}); write the count (0 when there were none), "
            f"or name another column with {option_hint(option)}."
        )
    return pd.Series(
        [pd.NA if p is _MISSING else p for p in parsed], index=values.index, dtype="Int64"
    )


def _device_types(
    gdf: gpd.GeoDataFrame,
    column: str,
    *,
    ids: pd.Series,
    label: str,
    aliases: Mapping[str, str],
) -> pd.Series:
    """Device types mapped onto DEVICE_TYPES; ``unknown`` where none is recorded."""
    values = _optional(gdf, column, DEVICE_TYPE, "device_column", label)
    if values is None:
        return pd.Series("unknown", index=gdf.index, dtype=object)
    raw = values.astype(object)
    filled = raw.where(~np.array(_each(raw, _is_missing), dtype=bool), "unknown")
    return _validate.normalise_vocabulary(
        filled,
        allowed=DEVICE_TYPES,
        ids=ids,
        label=label,
        column=column,
        option="device_column",
        aliases=aliases,
        map_option="device_map",
    )


def _text(values: pd.Series | None, index: pd.Index) -> pd.Series:
    """Text as written (``""`` where missing); never parsed or evaluated."""
    if values is None:
        return pd.Series("", index=index, dtype=object)
    texts = _each(values, lambda v: "" if _is_missing(v) else str(v))
    return pd.Series(texts, index=values.index, dtype=object)


def _release_ids(values: pd.Series | None, index: pd.Index) -> pd.Series:
    """The release each find came from as written; None where unknown."""
    if values is None:
        return pd.Series([None] * len(index), index=index, dtype=object)
    kept = [None if _is_missing(v) else v for v in values.astype(object)]
    return pd.Series(kept, index=values.index, dtype=object)


_PLAIN_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")


def _population(values: pd.Series, *, ids: pd.Series, label: str, column: str) -> pd.Series:
    """Numbers of people (float64, NaN where unknown); refuse text and negative values."""
    people = np.full(len(values), np.nan)
    bad = np.zeros(len(values), dtype=bool)
    for i, value in enumerate(values.astype(object)):
        if _is_missing(value):
            continue
        if isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_):
            people[i] = float(value)
        elif isinstance(value, str) and _PLAIN_NUMBER.match(value.strip()):
            people[i] = float(value.strip())
        else:
            bad[i] = True
            continue
        bad[i] = not np.isfinite(people[i])
    if bad.any():
        raise SchemaError(
            f"{label}: column {column!r} holds {int(bad.sum())} value(s) that are not numbers "
            f"(ids {_validate.list_ids(ids[bad])}; values "
            f"{_validate.list_ids(pd.unique(values[bad].astype(str)))}); write the number of "
            "people as a plain number such as 1200 (no thousands separators), leave it empty "
            f"where unknown, or name another column with {option_hint('population_column')}."
        )
    negative = people < 0
    if negative.any():
        raise SchemaError(
            f"{label}: {int(negative.sum())} settlement(s) have a negative population in "
            f"{column!r} (ids {_validate.list_ids(ids[negative])}; values "
            f"{_validate.list_ids(pd.unique(people[negative]))}); a population is 0 or more: "
            "correct those values, or leave them empty where unknown."
        )
    # "1.200" is 1,200 people where a dot separates thousands: read as 1.2 it would be a
    # wrong number, so a population that is not whole is refused, never guessed
    fractional = np.isfinite(people) & (people != np.floor(people))
    if fractional.any():
        raise SchemaError(
            f"{label}: {int(fractional.sum())} settlement(s) have a population that is not a "
            f"whole number in {column!r} (ids {_validate.list_ids(ids[fractional])}; values "
            f"{_validate.list_ids(pd.unique(values[fractional].astype(str)))}); write whole "
            "numbers of people with no thousands separator (1200, not 1.200 or 1,200), "
            "or leave them empty where unknown."
        )
    return pd.Series(people, index=values.index, dtype="float64")


# ------------------------------------------------------------------------------------------
# geometry
# ------------------------------------------------------------------------------------------


def _found(types: np.ndarray) -> str:
    """``'2 Polygon, 1 LineString'`` for a set of geometry type ids."""
    counts = pd.Series(types).map(_TYPE_NAMES).value_counts()
    return ", ".join(f"{n} {name}" for name, n in counts.items())


def _locations(
    gdf: gpd.GeoDataFrame,
    *,
    label: str,
    ids: pd.Series,
    what: str,
    polygons: bool,
    as_points: bool = False,
    allow_area_change: bool = False,
    curved: int = 0,
) -> gpd.GeoDataFrame:
    """Validate and repair a layer of points (``polygons=False``) or of points and polygons.

    Points stay points (a MultiPoint of one point becomes that point; of several, it is
    refused); polygons are repaired as hazards are (:func:`minemap._validate.polygon_layer`);
    with ``as_points``, polygons and lines in a point layer become a point inside each.
    Empty rows are dropped; one RepairWarning counts what changed.
    """
    geoms = np.asarray(gdf.geometry.array, dtype=object)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    present = ~missing
    _validate.check_finite(geoms[present], ids[present], label)
    types = shapely.get_type_id(geoms)
    parts = shapely.get_num_geometries(geoms)
    point = present & ((types == 0) | ((types == 4) & (parts == 1)))
    scattered = present & (types == 4) & (parts > 1)
    polygonal = present & np.isin(types, (3, 6))
    for row in np.flatnonzero(present & (types == 7)):
        kinds = set(shapely.get_type_id(shapely.get_parts(geoms[row])).tolist())
        polygonal[row] = bool(kinds) and kinds <= {3, 6}  # a polygon in disguise
    other = present & ~point & ~scattered & ~polygonal
    if scattered.any():
        rows = np.flatnonzero(scattered)
        raise GeometryTypeError(
            f"{label}: {rows.size} {what}(s) are MultiPoints of several points (ids "
            f"{_validate.list_ids(ids.iloc[rows])}); each {what} is one place: split them into "
            "one feature per point in a GIS (e.g. QGIS 'Multipart to singleparts'), or point "
            "minemap at the right layer."
        )
    converted = np.zeros(len(geoms), dtype=bool)
    if polygons and other.any():
        rows = np.flatnonzero(other)
        raise GeometryTypeError(
            f"{label}: {what}s must be polygons (an area) or points (a place), but "
            f"{rows.size} feature(s) are {_found(types[rows])} (ids "
            f"{_validate.list_ids(ids.iloc[rows])}); close those lines into polygons or convert "
            "them to points in a GIS, or point minemap at the right layer."
        )
    if not polygons and (polygonal | other).any():
        rows = np.flatnonzero(polygonal | other)
        if not as_points:
            raise GeometryTypeError(
                f"{label}: {what}s must be points, but {rows.size} feature(s) are "
                f"{_found(types[rows])} (ids {_validate.list_ids(ids.iloc[rows])}); convert "
                "them to points in a GIS (e.g. QGIS 'Point on surface' or 'Centroids'), or "
                f"pass {option_hint('as_points', 'True')} to take a point inside each."
            )
        converted[rows] = True
        point |= converted
        polygonal[:] = False
    _validate.check_bounds(geoms[point], gdf.crs, ids[point], label)

    out = geoms.copy()
    if converted.any():
        out[converted] = shapely.point_on_surface(shapely.make_valid(geoms[converted]))
    singles = point & (types == 4)
    out[singles] = shapely.get_geometry(geoms[singles], 0)
    has_z = point & shapely.has_z(out)
    out[has_z] = shapely.force_2d(out[has_z])
    keep = point.copy()
    if polygonal.any():
        repaired = _validate.polygon_layer(
            gdf.loc[polygonal],
            label=label,
            ids=ids[polygonal],
            allow_area_change=allow_area_change,
            curved=curved,
        )
        out[repaired.index.to_numpy()] = np.asarray(repaired.geometry.array, dtype=object)
        keep[repaired.index.to_numpy()] = True

    changes = []
    if converted.any():
        changes.append(
            f"{int(converted.sum())} {what}(s) given as polygons or lines taken at a point "
            f"inside each (ids {_validate.list_ids(ids[converted])})"
        )
        if curved:
            changes.append(f"{curved} curved geometr{'y' if curved == 1 else 'ies'} linearised")
    if has_z.any():
        changes.append(f"Z values dropped from {int(has_z.sum())} point(s)")
    if missing.any():
        changes.append(
            f"{int(missing.sum())} empty or null geometr"
            f"{'y' if missing.sum() == 1 else 'ies'} dropped "
            f"(ids {_validate.list_ids(ids[missing])})"
        )
    if changes:
        warnings.warn(
            f"{label}: repaired on read: {'; '.join(changes)}. The input file is unchanged.",
            RepairWarning,
            stacklevel=3,
        )
    result = gdf.set_geometry(gpd.GeoSeries(out, index=gdf.index, crs=gdf.crs)).loc[keep]
    _validate.check_not_empty(result, label, after_repair=True)
    return result


def _finish(
    gdf: gpd.GeoDataFrame,
    columns: dict[str, pd.Series],
    *,
    dtypes: Mapping[str, str],
    label: str,
    kind: str,
) -> gpd.GeoDataFrame:
    """The canonical layer: normalised columns first (with their dtypes), attrs set."""
    out = _canonical(gdf, {name: values.loc[gdf.index] for name, values in columns.items()})
    for name, dtype in dtypes.items():  # _canonical's NumPy round trip loses pandas dtypes
        out[name] = columns[name].loc[gdf.index].astype(dtype)  # aligned: same index
    out = out.reset_index(drop=True)
    out.attrs.update(source=label, minemap=kind)
    return out


def _device_aliases(device_map: Mapping[str, str] | None) -> dict[str, str]:
    return resolve_aliases(
        device_map, allowed=DEVICE_TYPES, builtin=DEVICE_ALIASES, option="device_map"
    )


# ------------------------------------------------------------------------------------------
# readers
# ------------------------------------------------------------------------------------------


def read_incidents(
    source: Source,
    *,
    layer: str | None = None,
    crs: object | None = None,
    override_crs: bool = False,
    id_column: str = INCIDENT_ID,
    date_column: str = INCIDENT_DATE,
    killed_column: str = KILLED,
    injured_column: str = INJURED,
    device_column: str = DEVICE_TYPE,
    activity_column: str = VICTIM_ACTIVITY,
    device_map: Mapping[str, str] | None = None,
    as_points: bool = False,
    x_column: str | None = None,
    y_column: str | None = None,
    encoding: str | None = None,
    table: str | None = None,
    sql: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
) -> gpd.GeoDataFrame:
    """Read and validate a layer of casualty incidents (explosive-ordnance accidents).

    Parameters
    ----------
    source : path, database URL, PostGIS or geopandas.GeoDataFrame
        Incident points: GeoPackage, GeoJSON, Shapefile, FlatGeobuf, GeoParquet, a CSV with
        lon/lat (or x/y) columns or a WKT column, a PostGIS table or query, or a GeoDataFrame
        (copied, never modified).
    layer : str, optional
        Layer of a multi-layer file; a layer called ``incidents`` is used by default.
    crs : str, int or pyproj.CRS, optional
        CRS of the coordinates, required when the file has none (a CSV with lon/lat columns
        holding degrees is taken as EPSG:4326 without it).
    override_crs : bool, default False
        Use ``crs`` even when the file declares one (for a file that declares a wrong CRS).
    id_column, date_column : str
        Columns holding the incident id and its date (ISO 8601 days, ``YYYY-MM-DD``; a
        missing or future date is refused).
    killed_column, injured_column : str
        Columns holding the number of people killed and injured (whole numbers of 0 or
        more). A layer without one of them counts 0 for it, with a :class:`DataWarning`.
    device_column : str
        Column holding the kind of device (``unknown`` where missing, or when the layer has
        no such column).
    activity_column : str
        Column holding what the victims were doing (text, ``""`` where unknown).
    device_map : mapping, optional
        Your words for device types, e.g. ``{"Mina antipersonal": "ap_mine"}``; the IMAS
        terms (APM, anti-tank mine, ERW, AXO, CM, IED, ...) are built in (see
        :data:`minemap.vocabulary.DEVICE_ALIASES`).
    as_points : bool, default False
        Accept polygons or lines (an incident recorded as an area) and use a point inside
        each, with a :class:`RepairWarning`; by default they are refused.
    x_column, y_column : str, optional
        Coordinate columns of a CSV file; found by name (lon/lat, x/y, easting/northing)
        when not given (see :mod:`minemap.io.csv_points`).
    encoding : str, optional
        Text encoding of a Shapefile, GeoJSON or CSV written in a legacy encoding, e.g.
        ``'latin-1'`` (see :func:`minemap.io.read_layer`).
    table, sql : str, optional
        For a database URL (``postgresql://...``): the table (``name`` or ``schema.name``)
        or a ``SELECT`` query (see :mod:`minemap.io.postgis`).
    bbox : sequence of 4 floats, optional
        For a database: only rows whose geometry's box meets ``(lon_min, lat_min,
        lon_max, lat_max)``, found by the table's spatial index.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``incident_id``, ``incident_date`` (datetime64, day precision), ``killed``
        and ``injured`` (int64), ``device_type`` (one of
        :data:`~minemap.settings.DEVICE_TYPES`), ``victim_activity`` (text), the other
        attributes, and 2-D Point geometry in the file's CRS; ``attrs["minemap"]`` is
        ``"incidents"``.

    Raises
    ------
    MinemapError
        A subclass naming the file, the incident ids and the fix, for any bad input.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> raw = gpd.GeoDataFrame(
    ...     {"incident_id": ["I1"], "incident_date": ["2021-04-02"], "killed": [1],
    ...      "injured": ["2"], "device_type": ["APM"], "victim_activity": ["farming"]},
    ...     geometry=[Point(46.7, 39.8)], crs=4326)
    >>> incidents = read_incidents(raw)
    >>> incidents[["killed", "injured"]].to_numpy().tolist(), incidents["device_type"].tolist()
    ([[1, 2]], ['ap_mine'])
    """
    aliases = _device_aliases(device_map)
    with _progress.task(reading_description(source), 2, unit="stage") as bar:
        gdf, label, curved = read_layer(
            source,
            layer=layer,
            crs=crs,
            override_crs=override_crs,
            default_layer="incidents",
            x_column=x_column,
            y_column=y_column,
            encoding=encoding,
            table=table,
            sql=sql,
            bbox=bbox,
        )
        bar.update()
        _validate.require_columns(gdf, {date_column: "date_column"}, label)
        ids = _ids(gdf, id_column, label, INCIDENT_ID)
        dates = _event_dates(
            gdf[date_column], ids=ids, label=label, column=date_column, what="incident"
        )
        casualties: dict[str, pd.Series] = {}
        absent = []
        for name, column, option in (
            (KILLED, killed_column, "killed_column"),
            (INJURED, injured_column, "injured_column"),
        ):
            values = _optional(gdf, column, name, option, label)
            if values is None:
                absent.append(name)
                casualties[name] = pd.Series(0, index=gdf.index, dtype="Int64")
            else:
                casualties[name] = _counts(
                    values, ids=ids, label=label, column=column, option=option, what="incident"
                )
        if absent:
            named = " and ".join(repr(a) for a in absent)
            options = " and ".join(option_hint(f"{a}_column") for a in absent)
            warnings.warn(
                f"{label}: no {named} column; every incident is counted with 0 "
                f"{' and '.join(absent)}. Name the column(s) with {options} if the layer has "
                "them.",
                DataWarning,
                stacklevel=2,
            )
        devices = _device_types(gdf, device_column, ids=ids, label=label, aliases=aliases)
        activity = _optional(gdf, activity_column, VICTIM_ACTIVITY, "activity_column", label)
        gdf = _locations(
            gdf,
            label=label,
            ids=ids,
            what="incident",
            polygons=False,
            as_points=as_points,
            curved=curved,
        )
        _validate.check_ids(ids.loc[gdf.index], label, id_column)
        return _finish(
            gdf,
            {
                INCIDENT_ID: ids,
                INCIDENT_DATE: dates,
                KILLED: casualties[KILLED],
                INJURED: casualties[INJURED],
                DEVICE_TYPE: devices,
                VICTIM_ACTIVITY: _text(activity, ids.index),
            },
            dtypes={KILLED: "int64", INJURED: "int64"},
            label=label,
            kind="incidents",
        )


def read_finds(
    source: Source,
    *,
    layer: str | None = None,
    crs: object | None = None,
    override_crs: bool = False,
    id_column: str = FIND_ID,
    date_column: str = FIND_DATE,
    device_column: str = DEVICE_TYPE,
    count_column: str = DEVICE_COUNT,
    release_column: str = RELEASE_ID,
    device_map: Mapping[str, str] | None = None,
    as_points: bool = False,
    x_column: str | None = None,
    y_column: str | None = None,
    encoding: str | None = None,
    table: str | None = None,
    sql: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
) -> gpd.GeoDataFrame:
    """Read and validate a layer of device finds (items found and destroyed during release).

    Parameters
    ----------
    source : path, database URL, PostGIS or geopandas.GeoDataFrame
        Find points: GeoPackage, GeoJSON, Shapefile, FlatGeobuf, GeoParquet, a CSV with
        lon/lat (or x/y) columns or a WKT column, a PostGIS table or query, or a GeoDataFrame
        (copied, never modified).
    layer : str, optional
        Layer of a multi-layer file; a layer called ``finds`` is used by default.
    crs : str, int or pyproj.CRS, optional
        CRS of the coordinates, required when the file has none (a CSV with lon/lat columns
        holding degrees is taken as EPSG:4326 without it).
    override_crs : bool, default False
        Use ``crs`` even when the file declares one (for a file that declares a wrong CRS).
    id_column, date_column : str
        Columns holding the find id and its date (ISO 8601 days, ``YYYY-MM-DD``; a missing
        or future date is refused).
    device_column : str
        Column holding the kind of device (``unknown`` where missing, or when the layer has
        no such column).
    count_column : str
        Column holding how many devices the row stands for (a whole number of 0 or more). A
        layer without it holds one device per row (one point per device, the common form).
    release_column : str
        Column holding the release (clearance task) the find came from; None where unknown,
        or when the layer has no such column. Finds outside every hazard and release are
        kept: the computations count and report them.
    device_map : mapping, optional
        Your words for device types, e.g. ``{"Mina antipersonal": "ap_mine"}``; the IMAS
        terms are built in (see :data:`minemap.vocabulary.DEVICE_ALIASES`).
    as_points : bool, default False
        Accept polygons or lines and use a point inside each, with a
        :class:`RepairWarning`; by default they are refused.
    x_column, y_column : str, optional
        Coordinate columns of a CSV file; found by name (lon/lat, x/y, easting/northing)
        when not given (see :mod:`minemap.io.csv_points`).
    encoding : str, optional
        Text encoding of a Shapefile, GeoJSON or CSV written in a legacy encoding, e.g.
        ``'latin-1'`` (see :func:`minemap.io.read_layer`).
    table, sql : str, optional
        For a database URL (``postgresql://...``): the table (``name`` or ``schema.name``)
        or a ``SELECT`` query (see :mod:`minemap.io.postgis`).
    bbox : sequence of 4 floats, optional
        For a database: only rows whose geometry's box meets ``(lon_min, lat_min,
        lon_max, lat_max)``, found by the table's spatial index.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``find_id``, ``find_date`` (datetime64, day precision), ``device_type``
        (one of :data:`~minemap.settings.DEVICE_TYPES`), ``device_count`` (int64),
        ``release_id`` (as written, None where unknown), the other attributes, and 2-D Point
        geometry in the file's CRS; ``attrs["minemap"]`` is ``"finds"``.

    Raises
    ------
    MinemapError
        A subclass naming the file, the find ids and the fix, for any bad input.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> raw = gpd.GeoDataFrame(
    ...     {"find_id": ["F1", "F2"], "find_date": ["2022-05-01", "2022-05-03"],
    ...      "device_type": ["anti-tank mine", "ERW"]},
    ...     geometry=[Point(46.7, 39.8), Point(46.71, 39.8)], crs=4326)
    >>> finds = read_finds(raw)
    >>> finds["device_type"].tolist(), finds["device_count"].tolist()
    (['at_mine', 'uxo'], [1, 1])
    """
    aliases = _device_aliases(device_map)
    with _progress.task(reading_description(source), 2, unit="stage") as bar:
        gdf, label, curved = read_layer(
            source,
            layer=layer,
            crs=crs,
            override_crs=override_crs,
            default_layer="finds",
            x_column=x_column,
            y_column=y_column,
            encoding=encoding,
            table=table,
            sql=sql,
            bbox=bbox,
        )
        bar.update()
        _validate.require_columns(gdf, {date_column: "date_column"}, label)
        ids = _ids(gdf, id_column, label, FIND_ID)
        dates = _event_dates(
            gdf[date_column], ids=ids, label=label, column=date_column, what="find"
        )
        devices = _device_types(gdf, device_column, ids=ids, label=label, aliases=aliases)
        counted = _optional(gdf, count_column, DEVICE_COUNT, "count_column", label)
        if counted is None:
            counts = pd.Series(1, index=gdf.index, dtype="Int64")
        else:
            counts = _counts(
                counted,
                ids=ids,
                label=label,
                column=count_column,
                option="count_column",
                what="find",
            )
        releases = _optional(gdf, release_column, RELEASE_ID, "release_column", label)
        gdf = _locations(
            gdf,
            label=label,
            ids=ids,
            what="find",
            polygons=False,
            as_points=as_points,
            curved=curved,
        )
        _validate.check_ids(ids.loc[gdf.index], label, id_column)
        return _finish(
            gdf,
            {
                FIND_ID: ids,
                FIND_DATE: dates,
                DEVICE_TYPE: devices,
                DEVICE_COUNT: counts,
                RELEASE_ID: _release_ids(releases, ids.index),
            },
            dtypes={DEVICE_COUNT: "int64", RELEASE_ID: "object"},
            label=label,
            kind="finds",
        )


def read_records(
    source: Source,
    *,
    layer: str | None = None,
    crs: object | None = None,
    override_crs: bool = False,
    id_column: str = RECORD_ID,
    count_column: str = RECORDED_DEVICES,
    device_column: str = DEVICE_TYPE,
    device_map: Mapping[str, str] | None = None,
    edges: str = "planar",
    allow_area_change: bool = False,
    x_column: str | None = None,
    y_column: str | None = None,
    encoding: str | None = None,
    table: str | None = None,
    sql: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
) -> gpd.GeoDataFrame:
    """Read and validate a layer of handed-over minefield records.

    A record gives a minefield's perimeter (a polygon) or its location (a point), and
    usually how many devices were laid; a layer may mix perimeters and locations.

    Parameters
    ----------
    source : path, database URL, PostGIS or geopandas.GeoDataFrame
        Record polygons or points: GeoPackage, GeoJSON, Shapefile, FlatGeobuf, GeoParquet, a
        CSV with a WKT column (or lon/lat columns for locations), a PostGIS table or query,
        or a GeoDataFrame (copied, never modified).
    layer : str, optional
        Layer of a multi-layer file; a layer called ``records`` is used by default.
    crs : str, int or pyproj.CRS, optional
        CRS of the coordinates, required when the file has none.
    override_crs : bool, default False
        Use ``crs`` even when the file declares one (for a file that declares a wrong CRS).
    id_column : str
        Column holding the record id.
    count_column : str
        Column holding how many devices the record says were laid (a whole number of 0 or
        more; an empty cell is ``NA``: the record gives no count). A layer without it gives
        ``NA`` for every record, with a :class:`DataWarning`.
    device_column : str
        Column holding the kind of device laid (``unknown`` where not recorded).
    device_map : mapping, optional
        Your words for device types, e.g. ``{"PMN": "ap_mine"}``; the IMAS terms are built
        in (see :data:`minemap.vocabulary.DEVICE_ALIASES`).
    edges : {'planar', 'geodesic'}, default 'planar'
        How the perimeters' edges run between vertices: straight in the layer's own CRS, or
        along geodesics (see :func:`minemap.io.read_hazards`).
    allow_area_change : bool, default False
        Accept repairs that change a perimeter's area by more than 1%.
    x_column, y_column : str, optional
        Coordinate columns of a CSV file of record locations (see
        :mod:`minemap.io.csv_points`).
    encoding : str, optional
        Text encoding of a Shapefile, GeoJSON or CSV written in a legacy encoding, e.g.
        ``'latin-1'`` (see :func:`minemap.io.read_layer`).
    table, sql : str, optional
        For a database URL (``postgresql://...``): the table (``name`` or ``schema.name``)
        or a ``SELECT`` query (see :mod:`minemap.io.postgis`).
    bbox : sequence of 4 floats, optional
        For a database: only rows whose geometry's box meets ``(lon_min, lat_min,
        lon_max, lat_max)``, found by the table's spatial index.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``record_id``, ``recorded_devices`` (nullable ``Int64``), ``device_type``
        (one of :data:`~minemap.settings.DEVICE_TYPES`), the other attributes, and valid
        2-D Polygon/MultiPolygon or Point geometry; ``attrs["minemap"]`` is ``"records"``.

    Raises
    ------
    MinemapError
        A subclass naming the file, the record ids and the fix, for any bad input.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point, box
    >>> raw = gpd.GeoDataFrame(
    ...     {"record_id": ["MF-1", "MF-2"], "recorded_devices": [120, None],
    ...      "device_type": ["AT mine", None]},
    ...     geometry=[box(46.0, 39.0, 46.01, 39.01), Point(46.05, 39.0)], crs=4326)
    >>> records = read_records(raw)
    >>> records["recorded_devices"].tolist(), records["device_type"].tolist()
    ([120, <NA>], ['at_mine', 'unknown'])
    """
    aliases = _device_aliases(device_map)
    with _progress.task(reading_description(source), 2, unit="stage") as bar:
        gdf, label, curved = read_layer(
            source,
            layer=layer,
            crs=crs,
            override_crs=override_crs,
            default_layer="records",
            x_column=x_column,
            y_column=y_column,
            encoding=encoding,
            table=table,
            sql=sql,
            bbox=bbox,
        )
        bar.update()
        ids = _ids(gdf, id_column, label, RECORD_ID)
        counted = _optional(gdf, count_column, RECORDED_DEVICES, "count_column", label)
        if counted is None:
            warnings.warn(
                f"{label}: no {count_column!r} column; no record gives a device count (NA). "
                f"Name the column with {option_hint('count_column')} if the layer has one.",
                DataWarning,
                stacklevel=2,
            )
            counts = pd.Series(pd.NA, index=gdf.index, dtype="Int64")
        else:
            counts = _counts(
                counted,
                ids=ids,
                label=label,
                column=count_column,
                option="count_column",
                what="record",
                missing_ok=True,
            )
        devices = _device_types(gdf, device_column, ids=ids, label=label, aliases=aliases)
        gdf = _locations(
            gdf,
            label=label,
            ids=ids,
            what="record",
            polygons=True,
            allow_area_change=allow_area_change,
            curved=curved,
        )
        _validate.check_ids(ids.loc[gdf.index], label, id_column)
        out = _finish(
            gdf,
            {RECORD_ID: ids, RECORDED_DEVICES: counts, DEVICE_TYPE: devices},
            dtypes={RECORDED_DEVICES: "Int64"},
            label=label,
            kind="records",
        )
        return with_edges(out, edges)


def read_settlements(
    source: Source,
    *,
    layer: str | None = None,
    crs: object | None = None,
    override_crs: bool = False,
    id_column: str = SETTLEMENT_ID,
    name_column: str = SETTLEMENT_NAME,
    population_column: str = POPULATION,
    edges: str = "planar",
    allow_area_change: bool = False,
    x_column: str | None = None,
    y_column: str | None = None,
    encoding: str | None = None,
    table: str | None = None,
    sql: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
) -> gpd.GeoDataFrame:
    """Read and validate a layer of settlements (villages and towns people return to).

    Parameters
    ----------
    source : path, database URL, PostGIS or geopandas.GeoDataFrame
        Settlement points or outlines: GeoPackage, GeoJSON, Shapefile, FlatGeobuf,
        GeoParquet, a CSV with lon/lat (or x/y) columns or a WKT column, a PostGIS table or
        query, or a GeoDataFrame (copied, never modified). A layer may mix points and polygons.
    layer : str, optional
        Layer of a multi-layer file; a layer called ``settlements`` is used by default.
    crs : str, int or pyproj.CRS, optional
        CRS of the coordinates, required when the file has none (a CSV with lon/lat columns
        holding degrees is taken as EPSG:4326 without it).
    override_crs : bool, default False
        Use ``crs`` even when the file declares one (for a file that declares a wrong CRS).
    id_column : str
        Column holding the settlement id.
    name_column : str
        Column holding the settlement's name (text, ``""`` where missing or when the layer
        has no such column).
    population_column : str
        Column holding the number of people (0 or more; NaN where empty, or when the layer
        has no such column).
    edges : {'planar', 'geodesic'}, default 'planar'
        How outlines' edges run between vertices: straight in the layer's own CRS, or along
        geodesics (see :func:`minemap.io.read_hazards`).
    allow_area_change : bool, default False
        Accept repairs that change an outline's area by more than 1%.
    x_column, y_column : str, optional
        Coordinate columns of a CSV file; found by name (lon/lat, x/y, easting/northing)
        when not given (see :mod:`minemap.io.csv_points`).
    encoding : str, optional
        Text encoding of a Shapefile, GeoJSON or CSV written in a legacy encoding, e.g.
        ``'latin-1'`` (see :func:`minemap.io.read_layer`).
    table, sql : str, optional
        For a database URL (``postgresql://...``): the table (``name`` or ``schema.name``)
        or a ``SELECT`` query (see :mod:`minemap.io.postgis`).
    bbox : sequence of 4 floats, optional
        For a database: only rows whose geometry's box meets ``(lon_min, lat_min,
        lon_max, lat_max)``, found by the table's spatial index.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``settlement_id``, ``name`` (text), ``population`` (float64, NaN where
        unknown), the other attributes, and valid 2-D Point or Polygon/MultiPolygon
        geometry; ``attrs["minemap"]`` is ``"settlements"``.

    Raises
    ------
    MinemapError
        A subclass naming the file, the settlement ids and the fix, for any bad input.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> raw = gpd.GeoDataFrame(
    ...     {"settlement_id": ["S1", "S2"], "name": ["Aghdam", None],
    ...      "population": ["1200", None]},
    ...     geometry=[Point(46.93, 39.99), Point(46.8, 39.9)], crs=4326)
    >>> towns = read_settlements(raw)
    >>> towns["name"].tolist(), towns["population"].tolist()
    (['Aghdam', ''], [1200.0, nan])
    """
    with _progress.task(reading_description(source), 2, unit="stage") as bar:
        gdf, label, curved = read_layer(
            source,
            layer=layer,
            crs=crs,
            override_crs=override_crs,
            default_layer="settlements",
            x_column=x_column,
            y_column=y_column,
            encoding=encoding,
            table=table,
            sql=sql,
            bbox=bbox,
        )
        bar.update()
        ids = _ids(gdf, id_column, label, SETTLEMENT_ID)
        names = _optional(gdf, name_column, SETTLEMENT_NAME, "name_column", label)
        people = _optional(gdf, population_column, POPULATION, "population_column", label)
        if people is None:
            population = pd.Series(np.nan, index=gdf.index, dtype="float64")
        else:
            population = _population(people, ids=ids, label=label, column=population_column)
        gdf = _locations(
            gdf,
            label=label,
            ids=ids,
            what="settlement",
            polygons=True,
            allow_area_change=allow_area_change,
            curved=curved,
        )
        _validate.check_ids(ids.loc[gdf.index], label, id_column)
        out = _finish(
            gdf,
            {
                SETTLEMENT_ID: ids,
                SETTLEMENT_NAME: _text(names, ids.index),
                POPULATION: population,
            },
            dtypes={POPULATION: "float64"},
            label=label,
            kind="settlements",
        )
        return with_edges(out, edges)


#: The reader of each kind of field-evidence layer.
_READERS: dict[str, Callable[..., gpd.GeoDataFrame]] = {
    "incidents": read_incidents,
    "finds": read_finds,
    "records": read_records,
    "settlements": read_settlements,
}


def evidence_layer(source: Source, kind: str) -> gpd.GeoDataFrame:
    """A field-evidence layer as its reader returns it: a layer already read passes as it is
    (``attrs["minemap"] == kind``), anything else (a raw GeoDataFrame or a path) is read and
    validated by the reader of ``kind``.

    The computations (:mod:`minemap.evidence`, :mod:`minemap.readiness`, the ranking and the
    map) call this, so a layer is validated once however many figures use it.

    Parameters
    ----------
    source : path, database URL, PostGIS or geopandas.GeoDataFrame
        The layer.
    kind : {'incidents', 'finds', 'records', 'settlements'}
        What it holds.

    Returns
    -------
    geopandas.GeoDataFrame

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> raw = gpd.GeoDataFrame({"find_id": ["F1"], "find_date": ["2022-05-01"],
    ...                         "device_type": ["APM"]}, geometry=[Point(46.0, 39.0)], crs=4326)
    >>> finds = evidence_layer(raw, "finds")
    >>> finds["device_type"].tolist(), evidence_layer(finds, "finds") is finds
    (['ap_mine'], True)
    """
    reader = _READERS.get(kind)
    if reader is None:
        raise ValueError(f"kind must be one of {sorted(_READERS)}, not {kind!r}")
    if isinstance(source, gpd.GeoDataFrame) and source.attrs.get("minemap") == kind:
        return source
    return reader(source)
