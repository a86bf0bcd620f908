"""Plumbing the ``minemap`` commands share: reading inputs, checking and writing outputs,
formatting tables and warnings.

Outputs are checked before any computation (:func:`plan_outputs`) and written together,
all or none (:class:`minemap.io.OutputSet`); an output is never the same file as an input.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import json
import math
import os
import sys
import warnings
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj

from minemap import io as _io
from minemap._errors import (
    DataWarning,
    EmptyLayerError,
    MinemapError,
    OutputError,
    SchemaError,
    cli_spelling,
)
from minemap.io import _guard
from minemap.io import postgis as _postgis
from minemap.io.staging import STDOUT_NAMES, is_folder_output
from minemap.io.writers import spreadsheet_safe
from minemap.vocabulary import load_vocabularies, load_vocabulary

#: Decimal places of hectares and percentages in JSON and CSV output (0.0001 ha = 1 m²).
DECIMALS = 4


# ------------------------------------------------------------------------------------------
# sources: files, or tables of a database (--db)
# ------------------------------------------------------------------------------------------

#: Options (besides HAZARDS) that name a table instead of a file when --db is given.
TABLE_OPTIONS = frozenset(
    {
        "released",
        "roads",
        "infrastructure",
        "residential",
        "districts",
        "priority",
        "incidents",
        "finds",
        "records",
        "settlements",
    }
)

#: Safety factor on the degrees per metre of a feature layer's box (see :func:`reach_bbox`).
REACH_SAFETY = 1.5
#: Fewest metres per degree of latitude (at the equator, on WGS 84) and per degree of
#: longitude on the equator: a box grown by metres over these never falls short.
_M_PER_DEG_LAT = 110_574.0
_M_PER_DEG_LON = 111_319.0


def database_url(args: argparse.Namespace) -> str | None:
    """The ``--db`` URL, or None when the inputs are files."""
    url = getattr(args, "db", None)
    return url or None


def check_sources(args: argparse.Namespace) -> None:
    """Refuse a contradictory choice of inputs: --table, --sql and --bbox without --db, or
    HAZARDS given twice (or not at all), in one line before anything is read."""
    url = database_url(args)
    table, query = getattr(args, "db_table", None), getattr(args, "sql", None)
    table_option = getattr(args, "db_table_option", "--table")
    hazards = getattr(args, "hazards", None)
    for _, option, value in _input_values(args):
        if _postgis.is_database_url(value):
            raise SchemaError(
                f"{option} {_postgis.scrub(value, value)}: give a database with --db URL, and "
                "name its tables where files go (HAZARDS, --released, ...)."
            )
    if url is None:
        chosen = (
            (table_option, table),
            ("--sql", query),
            ("--bbox", args.bbox),
            ("--district", getattr(args, "district", None)),
        )
        given = [o for o, v in chosen if v]
        if given:
            raise SchemaError(
                f"{given[0]} reads from a database: give the database with --db URL "
                "(postgresql://USER@HOST:PORT/DBNAME), or leave it out to read files."
            )
        if not hazards:
            raise SchemaError("give HAZARDS, the file of hazard areas.")
        return
    if not _postgis.is_database_url(url):
        raise SchemaError(
            "--db: give a PostgreSQL URL, postgresql://USER@HOST:PORT/DBNAME (the password "
            "is best kept in PGPASSWORD or ~/.pgpass)."
        )
    named = [o for o, v in (("HAZARDS", hazards), (table_option, table), ("--sql", query)) if v]
    if len(named) != 1:
        raise SchemaError(
            f"with --db, give the hazards once: as HAZARDS (a table name), {table_option} NAME or "
            f"--sql QUERY{'' if not named else ', not ' + ' and '.join(named)}."
        )
    if args.bbox:
        bbox(args)
    _check_layer_options(args)
    if getattr(args, "district", None) and not getattr(args, "districts", None):
        if not hasattr(args, "districts"):
            raise SchemaError(
                "--district needs district polygons (--districts), which this command does "
                "not take; give the area with --bbox instead."
            )
        raise SchemaError(
            "--district names a district of --districts: give the district polygons with "
            "--districts (a table of the database, or a file)."
        )


def bbox(args: argparse.Namespace) -> tuple[float, float, float, float] | None:
    """``--bbox XMIN,YMIN,XMAX,YMAX`` as four numbers (longitude, latitude), or None.

    Examples
    --------
    >>> import argparse
    >>> bbox(argparse.Namespace(bbox="46.5, 39.5,47,40"))
    (46.5, 39.5, 47.0, 40.0)
    """
    text = getattr(args, "bbox", None)
    return _postgis.check_bbox(text, option="--bbox") if text else None


def input_source(
    args: argparse.Namespace,
    value: str,
    *,
    box: tuple[float, float, float, float] | None = None,
    region: gpd.GeoSeries | None = None,
) -> str | _postgis.PostGIS:
    """What an input argument names: the file ``value``, or with ``--db`` the table
    ``value`` of that database (read only where it meets ``box``, lon/lat, and ``region``,
    when given).

    Examples
    --------
    >>> import argparse
    >>> input_source(argparse.Namespace(db=None), "roads.geojson")
    'roads.geojson'
    >>> input_source(argparse.Namespace(db="postgresql://analyst:pw@db.example.org/imsma"),
    ...              "public.roads")
    PostGIS('postgresql://analyst@db.example.org/imsma', table='public.roads')
    """
    url = database_url(args)
    if url is None or is_file_name(value):
        return value
    return _postgis.PostGIS(url, table=value, bbox=box, region=region)


def is_file_name(value: str) -> bool:
    """Whether an input argument names a file even with ``--db``: it has a folder in it or
    ends with an extension minemap reads (a table is ``name`` or ``schema.name``).

    Examples
    --------
    >>> is_file_name("roads.osm.pbf"), is_file_name("data/roads"), is_file_name("gis.roads")
    (True, True, False)
    """
    if "/" in value or os.sep in value:
        return True
    return _guard.file_suffix(Path(value)) in _guard.DRIVERS


def district_region(args: argparse.Namespace) -> gpd.GeoSeries | None:
    """The polygons of ``--district NAME`` (from ``--districts``), or None without it.

    The districts are read whole (a district layer is small) and the name looked up in
    ``--district-column`` (by default ``district``, or the first text column).
    """
    name = getattr(args, "district", None)
    if not name:
        return None
    kept = getattr(args, "_district_region", None)
    if kept is not None:
        return kept
    from minemap.stats import _district_layer

    layer = read_feature_option(args, "districts")
    assert layer is not None  # check_sources refused --district without --districts
    with naming("--district", name):
        layer, column = _district_layer(layer, getattr(args, "district_column", None))
    names = layer[column].astype(str)
    chosen = layer.loc[names == name]
    if chosen.empty:
        known = ", ".join(repr(n) for n in sorted(set(names))[:20])
        raise SchemaError(
            f"--district {name!r}: no district of that name in column {column!r} of "
            f"--districts; the districts are {known}."
        )
    region = chosen.geometry.rename(name)  # provenance quotes the district by its name
    args._district_region = region
    return region


def hazards_source(args: argparse.Namespace) -> str | _postgis.PostGIS:
    """The hazards: HAZARDS (a file, or a table with --db), --table or --sql, read only
    within ``--bbox`` and ``--district`` when given."""
    url = database_url(args)
    if url is not None and getattr(args, "sql", None):
        return _postgis.PostGIS(url, sql=args.sql, bbox=bbox(args), region=district_region(args))
    name = args.hazards or getattr(args, "db_table", None)
    return input_source(args, str(name), box=bbox(args), region=district_region(args))


def hazards_name(args: argparse.Namespace) -> str:
    """How the hazards input is named in titles: the file's stem, the table or 'query'."""
    if database_url(args) is None:
        return Path(args.hazards).stem
    if getattr(args, "sql", None):
        return "query"
    return str(args.hazards or args.db_table)


def reach_bbox(layer: gpd.GeoDataFrame, reach_m: float) -> tuple[float, float, float, float] | None:
    """The box, in longitude and latitude, holding every place within ``reach_m`` metres
    of ``layer``: its extent grown by ``reach_m`` in degrees at the box's poleward edge,
    times :data:`REACH_SAFETY`. None where the box would pass a pole (beyond ±89°) or
    ±180° of longitude: then nothing is filtered.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> square = gpd.GeoDataFrame(geometry=[shapely.box(46.0, 39.0, 46.1, 39.1)], crs=4326)
    >>> [round(v, 4) for v in reach_bbox(square, 1000.0)]
    [45.9826, 38.9864, 46.1174, 39.1136]
    """
    if len(layer) == 0:
        return None
    reach_m = float(reach_m) if math.isfinite(reach_m) and reach_m > 0 else 0.0
    x0, y0, x1, y1 = layer.total_bounds
    if not np.isfinite([x0, y0, x1, y1]).all():
        return None
    crs = pyproj.CRS(layer.crs)
    wgs84 = pyproj.CRS.from_epsg(4326)
    if not crs.equals(wgs84, ignore_axis_order=True) and not crs.equals("OGC:CRS84"):
        move = pyproj.Transformer.from_crs(crs, wgs84, always_xy=True)
        x0, y0, x1, y1 = move.transform_bounds(x0, y0, x1, y1, densify_pts=21)
        # a box across ±180° comes back with x0 > x1: no one box holds it
        if not np.isfinite([x0, y0, x1, y1]).all() or x0 > x1:
            return None
    pad_lat = reach_m * REACH_SAFETY / _M_PER_DEG_LAT
    edge = max(abs(y0), abs(y1)) + pad_lat
    if edge >= 89.0:
        return None
    pad_lon = reach_m * REACH_SAFETY / (_M_PER_DEG_LON * math.cos(math.radians(edge)))
    grown = (x0 - pad_lon, y0 - pad_lat, x1 + pad_lon, y1 + pad_lat)
    if grown[0] < -180.0 or grown[2] > 180.0:
        return None
    return (float(grown[0]), float(grown[1]), float(grown[2]), float(grown[3]))


#: Most metres per degree of latitude (at the poles, on WGS 84).
_M_PER_DEG_LAT_MAX = 111_694.0


def nearest_reach_m(hazards: gpd.GeoDataFrame, features: gpd.GeoDataFrame) -> float:
    """Metres within which every place of every hazard has its nearest feature.

    For each hazard, its true distance to the nearest of ``features`` plus the hazard's
    own diameter (the diagonal of its longitude-latitude box, in metres that never fall
    short) bounds the distance from any of its points, and from any part of it, to the
    nearest feature of a larger layer that holds ``features``: a layer read within this
    reach of the hazards (:func:`reach_bbox`) holds every such nearest feature. ``inf``
    when no hazard has a feature to measure to.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> square = gpd.GeoDataFrame(geometry=[shapely.box(46.0, 39.0, 46.01, 39.01)], crs=4326)
    >>> road = gpd.GeoDataFrame(geometry=[shapely.Point(46.02, 39.005)], crs=4326)
    >>> round(nearest_reach_m(square, road))  # 865 m away, at most 1,413 m across, 1 % more
    2303
    """
    from minemap.nearest import regional_distances_m

    geoms = np.asarray(hazards.geometry.array, dtype=object)
    found = regional_distances_m(
        geoms, hazards.crs, np.asarray(features.geometry.array, dtype=object), features.crs
    )
    if not np.isfinite(found).any():
        return math.inf
    box = hazards.geometry.to_crs(4326).bounds.to_numpy()
    low = np.where(
        (box[:, 1] <= 0.0) & (box[:, 3] >= 0.0),
        0.0,
        np.minimum(np.abs(box[:, 1]), np.abs(box[:, 3])),
    )
    tall = (box[:, 3] - box[:, 1]) * _M_PER_DEG_LAT_MAX
    wide = (box[:, 2] - box[:, 0]) * _M_PER_DEG_LON * np.cos(np.radians(low))
    across = np.hypot(tall, wide)
    return float(np.nanmax(found + across)) * 1.01 + 1.0


# ------------------------------------------------------------------------------------------
# reading
# ------------------------------------------------------------------------------------------


@contextmanager
def naming(option: str, value: object = None) -> Iterator[None]:
    """Errors raised inside the block start with the option (and file) they concern.

    Examples
    --------
    >>> from minemap._errors import InputFileError
    >>> try:
    ...     with naming("--released", "nope.gpkg"):
    ...         raise InputFileError("nope.gpkg: no such file.")
    ... except InputFileError as exc:
    ...     print(exc)
    --released nope.gpkg: no such file.
    """
    try:
        yield
    except MinemapError as exc:
        text = str(exc)
        shown = "" if value is None else str(value)
        if _postgis.is_database_url(shown):  # never the password
            text = _postgis.scrub(text, shown)
            shown = _postgis.scrub(shown, shown)
        for repeated in (shown, Path(shown).name):  # the message often starts with the file
            if repeated and text.startswith(repeated):
                text = text[len(repeated) :].lstrip()
                break
        prefix = f"{option} {shown}".rstrip()
        raise type(exc)(f"{prefix}{'' if text.startswith(':') else ': '}{text}") from None


def _vocabulary(args: argparse.Namespace) -> tuple[dict[str, str], dict[str, str]]:
    path = getattr(args, "vocabulary", None)
    if not path:
        return {}, {}
    with naming("--vocabulary", path):
        return load_vocabulary(path)


def read_hazards(args: argparse.Namespace, level_map: dict[str, str]) -> gpd.GeoDataFrame:
    """HAZARDS as the shared input options describe it (options every reader shares, such
    as --crs, are spelled for messages by :func:`minemap.cli.main.run`)."""
    check_sources(args)
    source = hazards_source(args)
    with (
        cli_spelling(layer="--layer", id_column="--id-column", threat_column="--threat-column"),
        naming(_hazards_option(args), args.hazards or getattr(args, "db_table", None)),
    ):
        return _io.read_hazards(
            source,
            layer=args.layer,
            crs=args.crs,
            override_crs=args.override_crs,
            id_column=args.id_column,
            threat_column=args.threat_column,
            level_map=level_map,
            edges=args.edges,
            encoding=args.encoding,
            allow_area_change=args.allow_area_change,
        )


def releases_box(
    args: argparse.Namespace, hazards: gpd.GeoDataFrame | None
) -> tuple[float, float, float, float] | None:
    """Where releases are read from a database when ``--bbox`` or ``--district`` chose the
    hazards: the extent of the hazards read (each is read whole, so a release inside one
    but outside the box or the district still counts), or None to read every release."""
    chosen = bbox(args) is not None or bool(getattr(args, "district", None))
    if database_url(args) is None or not chosen or hazards is None or len(hazards) == 0:
        return None
    return reach_bbox(hazards, 0.0)


def read_releases(
    args: argparse.Namespace,
    method_map: dict[str, str],
    hazards: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame | None:
    """RELEASES (``--released``), or None when not given; from a database, only those near
    ``hazards`` when an area chose them (:func:`releases_box`)."""
    if not getattr(args, "released", None):
        return None
    with (
        cli_spelling(
            layer="--released-layer",
            id_column="--release-id-column",
            method_column="--method-column",
            date_column="--date-column",
        ),
        naming("--released", args.released),
    ):
        source = input_source(args, args.released, box=releases_box(args, hazards))
        releases = _io.read_releases(
            source,
            layer=args.released_layer,
            crs=args.crs,
            override_crs=args.override_crs,
            id_column=args.release_id_column,
            method_column=args.method_column,
            date_column=args.date_column,
            method_map=method_map,
            edges=args.edges,
            encoding=args.encoding,
            allow_area_change=args.allow_area_change,
        )
    return with_selection(releases, source)


def _hazards_option(args: argparse.Namespace) -> str:
    if database_url(args) is not None and not args.hazards:
        return "--sql" if getattr(args, "sql", None) else str(args.db_table_option)
    return "HAZARDS"


def read_inputs(args: argparse.Namespace) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame | None]:
    """HAZARDS and RELEASES (the --vocabulary file is read once for both)."""
    level_map, method_map = _vocabulary(args)
    hazards = read_hazards(args, level_map)
    return hazards, read_releases(args, method_map, hazards)


def read_feature_option(
    args: argparse.Namespace,
    kind: str,
    *,
    option: str | None = None,
    near: gpd.GeoDataFrame | None = None,
    reach_m: float = 0.0,
) -> gpd.GeoDataFrame | None:
    """The layer given with ``--KIND`` (and ``--KIND-layer``, ``--KIND-tags``), or None.

    With ``--db`` and ``near`` (the hazards), only the features that can come within
    ``reach_m`` metres of ``near`` are read: a box of :func:`reach_bbox` goes into the SQL,
    so the table's spatial index answers and a national table is not read whole. Where no
    feature lies in the box, or the features carry their own distance (a ``buffer_m``
    column, which the box cannot know), the table is read whole, so figures never change.
    """
    option = option or kind
    name = option.replace("-", "_")
    path = getattr(args, name, None)
    if not path:
        return None
    box = reach_bbox(near, reach_m) if near is not None and database_url(args) else None
    try:
        layer = _read_feature(args, kind, option, path, box)
    except EmptyLayerError:
        if box is None:
            raise
        return _read_feature(args, kind, option, path, None)  # nothing near: read it all
    if box is not None and layer is not None and "buffer_m" in layer.columns:
        return _read_feature(args, kind, option, path, None)
    return layer


def with_selection(
    layer: gpd.GeoDataFrame | None, source: str | _postgis.PostGIS
) -> gpd.GeoDataFrame | None:
    """``layer`` with ``attrs['selection']`` saying which rows of the table were read, when
    ``source`` (the one it was read from) reads only part of a table (the report lists what
    was read, :attr:`minemap.io.PostGIS.selection`)."""
    if layer is not None and isinstance(source, _postgis.PostGIS) and source.selection:
        layer.attrs["selection"] = source.selection
    return layer


def read_near_features(
    args: argparse.Namespace, kind: str, hazards: gpd.GeoDataFrame, reach_m: float
) -> gpd.GeoDataFrame | None:
    """The ``--KIND`` layer for zones and a ranking of ``hazards``; from a database, only the
    features they can need.

    Those within ``reach_m`` (the zone's distance) are read first; as a ranking also needs
    each hazard's nearest feature wherever it lies, the table is read again within
    :func:`nearest_reach_m` of the hazards when that is farther, so every such nearest
    feature is read (the distances then agree with the whole table's to millimetres: the
    search frame is centred on the features read). A table with no feature near the
    hazards, or with its own ``buffer_m`` distances, is read whole (:func:`read_feature_option`).
    """
    if database_url(args) is None:
        return read_feature_option(args, kind)
    layer = read_feature_option(args, kind, near=hazards, reach_m=reach_m)
    if layer is not None and len(layer) and layer.attrs.get("selection"):  # else read whole
        need = nearest_reach_m(hazards, layer)
        if need > reach_m:
            layer = read_feature_option(args, kind, near=hazards, reach_m=need)
    return layer


def _read_feature(
    args: argparse.Namespace,
    kind: str,
    option: str,
    path: str,
    box: tuple[float, float, float, float] | None,
) -> gpd.GeoDataFrame | None:
    name = option.replace("-", "_")
    layer = getattr(args, f"{name}_layer", None)
    tags = getattr(args, f"{name}_tags", None)
    x_column, y_column = _xy_columns(getattr(args, f"{name}_xy", None), option)
    source = input_source(args, path, box=box)
    with (
        cli_spelling(
            layer=f"--{option}-layer",
            tags=f"--{option}-tags",
            x_column=f"--{option}-xy",
            y_column=f"--{option}-xy",
        ),
        naming(f"--{option}", path),
    ):
        try:
            layer = _io.read_features(
                source,
                kind=kind,  # type: ignore[arg-type]  # the option names a FeatureKind
                layer=layer,
                crs=args.crs,
                override_crs=args.override_crs,
                tags=tags,
                edges=args.edges,
                x_column=x_column,
                y_column=y_column,
                encoding=args.encoding,
            )
            return with_selection(layer, source)
        except EmptyLayerError as exc:
            if not isinstance(source, str) or Path(path).suffix.lower() not in _io.OSM_SUFFIXES:
                raise
            # an extract without, say, clinics is a fact about the place, not an error
            warnings.warn(
                f"--{option}: {one_line(str(exc))} The {kind} category is left out.",
                DataWarning,
                stacklevel=2,
            )
            return None


_EVIDENCE_READERS = {
    "incidents": _io.read_incidents,
    "finds": _io.read_finds,
    "records": _io.read_records,
    "settlements": _io.read_settlements,
}


def read_evidence_option(
    args: argparse.Namespace,
    kind: str,
    *,
    near: gpd.GeoDataFrame | None = None,
    reach_m: float = 0.0,
) -> gpd.GeoDataFrame | None:
    """The field-evidence layer given with ``--KIND`` (incidents, finds, records,
    settlements; with ``--KIND-layer`` and ``--KIND-xy``), or None when not given.

    With ``--db`` and ``near``, only rows that can lie within ``reach_m`` metres of
    ``near`` are read (as for :func:`read_feature_option`); the whole table where none do.
    """
    path = getattr(args, kind, None)
    if not path:
        return None
    box = reach_bbox(near, reach_m) if near is not None and database_url(args) else None
    try:
        return _read_evidence(args, kind, path, box)
    except EmptyLayerError:
        if box is None:
            raise
        return _read_evidence(args, kind, path, None)


def _read_evidence(
    args: argparse.Namespace,
    kind: str,
    path: str,
    box: tuple[float, float, float, float] | None,
) -> gpd.GeoDataFrame:
    reader = _EVIDENCE_READERS[kind]
    options: dict[str, object] = {
        "layer": getattr(args, f"{kind}_layer", None),
        "crs": args.crs,
        "override_crs": args.override_crs,
        "encoding": args.encoding,
    }
    options["x_column"], options["y_column"] = _xy_columns(getattr(args, f"{kind}_xy", None), kind)
    options.update(_evidence_columns(getattr(args, f"{kind}_columns", None), kind))
    if kind != "settlements":
        vocabulary = getattr(args, "vocabulary", None)
        if vocabulary:
            with naming("--vocabulary", vocabulary):
                options["device_map"] = load_vocabularies(vocabulary)["device_map"]
    spelled = {f"{key}_column": f"--{kind}-columns {key}=NAME" for key in _column_keys(kind)}
    with (
        cli_spelling(
            layer=f"--{kind}-layer", x_column=f"--{kind}-xy", y_column=f"--{kind}-xy", **spelled
        ),
        naming(f"--{kind}", path),
    ):
        source = input_source(args, path, box=box)
        layer = reader(source, **options)  # type: ignore[operator]
        with_selection(layer, source)
        return layer


def _column_keys(kind: str) -> tuple[str, ...]:
    from minemap.cli.options import EVIDENCE_COLUMNS

    return EVIDENCE_COLUMNS[kind]


def _evidence_columns(text: str | None, kind: str) -> dict[str, str]:
    """``--KIND-columns date=Date,killed=Dead`` as reader options (``date_column=...``)."""
    if not text:
        return {}
    keys = _column_keys(kind)
    out = {}
    for part in text.split(","):
        key, sep, name = (p.strip() for p in part.partition("="))
        if not sep or not name or key not in keys:
            raise SchemaError(
                f"--{kind}-columns {text!r}: give KEY=NAME pairs separated by commas, KEY one "
                f"of {', '.join(keys)}, e.g. --{kind}-columns {keys[1]}=Date."
            )
        out[f"{key}_column"] = name
    return out


def _xy_columns(text: str | None, option: str) -> tuple[str | None, str | None]:
    if not text:
        return None, None
    parts = [part.strip() for part in text.split(",")]
    if len(parts) != 2 or not all(parts):
        raise SchemaError(
            f"--{option}-xy {text!r}: give two column names, x (or longitude) "
            f"first, e.g. --{option}-xy lon,lat."
        )
    return parts[0], parts[1]


def _check_layer_options(args: argparse.Namespace) -> None:
    """With ``--db``, refuse ``--layer``/``--KIND-layer`` for an input that names a table
    (a table has no layers): one line, instead of an option silently ignored."""
    for name, option, value in _input_values(args):
        layer = "layer" if name == "hazards" else f"{name}_layer"
        given = getattr(args, layer, None)
        if given and _names_table(args, name, value):
            flag = "--" + layer.replace("_", "-")
            raise SchemaError(
                f"{flag} {given!r}: with --db, {option} {value!r} names a table, which has "
                f"no layers; leave {flag} out (or give a file, e.g. data/{value}.gpkg)."
            )


def _input_values(args: argparse.Namespace) -> Iterator[tuple[str, str, str]]:
    """``(name, option, value)`` of every input argument given (HAZARDS and the input
    options; an option given several times, once per value)."""
    for name, value in vars(args).items():
        if name != "hazards" and name not in INPUT_OPTIONS:
            continue
        option = "HAZARDS" if name == "hazards" else "--" + name.replace("_", "-")
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str):
                yield name, option, item


def _names_table(args: argparse.Namespace, name: str, value: str) -> bool:
    """Whether the input argument ``name`` with ``value`` names a table of ``--db``: HAZARDS
    and the layer options do, unless the value names a file (:func:`is_file_name`)."""
    layer = name == "hazards" or name in TABLE_OPTIONS
    return database_url(args) is not None and layer and not is_file_name(value)


def input_paths(args: argparse.Namespace) -> list[Path]:
    """Every file the command reads (positional and ``--option FILE`` values); with
    ``--db``, HAZARDS and the layer options name tables (left out) unless they name a file
    (:func:`is_file_name`)."""
    if hasattr(args, "db"):  # a command reading HAZARDS (see options.add_hazard_inputs)
        check_sources(args)
    return [Path(v) for name, _, v in _input_values(args) if not _names_table(args, name, v)]


def input_sources(
    args: argparse.Namespace, hazards: gpd.GeoDataFrame | None = None
) -> dict[str, Path | _postgis.PostGIS]:
    """Every input the command reads, by the option naming it: files as paths, and with
    ``--db`` the tables (and the hazards' query) as database sources, for provenance. The
    hazards' source carries ``--bbox`` and ``--district``, and given the ``hazards`` read,
    the releases' source carries the box they were read in (:func:`releases_box`): the
    sources say which rows were read (:attr:`minemap.io.PostGIS.selection`).

    Examples
    --------
    >>> import argparse
    >>> sources = input_sources(argparse.Namespace(
    ...     db="postgresql://analyst:pw@db.example.org/imsma", hazards="hazards", db_table=None,
    ...     sql=None, bbox=None, released="releases", vocabulary="words.toml"))
    >>> {k: str(v) if k == "--vocabulary" else v.label for k, v in sources.items()}
    ... # doctest: +NORMALIZE_WHITESPACE
    {'HAZARDS': "postgresql://analyst@db.example.org/imsma table 'hazards'",
     '--released': "postgresql://analyst@db.example.org/imsma table 'releases'",
     '--vocabulary': 'words.toml'}
    """
    found: dict[str, Path | _postgis.PostGIS] = {}
    if database_url(args) is not None:  # the hazards may be --table or --sql, not HAZARDS
        source = hazards_source(args)
        found["HAZARDS"] = source if isinstance(source, _postgis.PostGIS) else Path(source)
    given = [(n, o, v) for n, o, v in _input_values(args) if n != "hazards" or not found]
    times = collections.Counter(option for _, option, _ in given)
    seen: collections.Counter[str] = collections.Counter()
    for name, option, value in given:
        seen[option] += 1
        key = option if times[option] == 1 else f"{option} {seen[option]}"
        box = releases_box(args, hazards) if name == "released" else None
        source = input_source(args, value, box=box) if _names_table(args, name, value) else value
        found[key] = source if isinstance(source, _postgis.PostGIS) else Path(source)
    return found


#: Options whose value is a file the command reads.
INPUT_OPTIONS = frozenset(
    {
        "released",
        "roads",
        "infrastructure",
        "residential",
        "districts",
        "priority",
        "population",
        "weights",
        "vocabulary",
        "capacity",
        "ranking_table",
        "scenario_files",
        "incidents",
        "finds",
        "records",
        "settlements",
    }
)


#: Most Monte Carlo draws a command runs (each draw is a whole plan).
MAX_DRAWS = 100_000


def start_date(text: str | None) -> dt.date:
    """``--start``: an ISO date, today when not given.

    Examples
    --------
    >>> start_date("2027-01-01")
    datetime.date(2027, 1, 1)
    """
    if text is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise SchemaError(
            f"--start {text!r} is not an ISO date; write it as YYYY-MM-DD (e.g. 2027-01-01)."
        ) from None


def check_draws(draws: int) -> None:
    """``--draws`` within 0 (none) and :data:`MAX_DRAWS`."""
    if draws < 0 or draws > MAX_DRAWS:
        raise SchemaError(f"--draws {draws}: give 0 (none) to {MAX_DRAWS:,} draws.")


# ------------------------------------------------------------------------------------------
# outputs
# ------------------------------------------------------------------------------------------


def is_stdout(path: str | os.PathLike | None) -> bool:
    """Whether an output path means standard output (``-`` or ``/dev/stdout``)."""
    return path is None or str(path) in STDOUT_NAMES


def _same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one file: the same spelling once resolved, or one file on
    disk (hard links, symbolic links)."""
    if a.resolve() == b.resolve():
        return True
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


#: Chart outputs (progress, plan) by extension, and the format matplotlib writes.
CHART_FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}

#: Extensions of tabular text outputs (summary, progress): none means a table.
TEXT_SUFFIXES = ("", ".txt", ".csv", ".json")


def plan_outputs(
    args: argparse.Namespace, outputs: Iterable[tuple[str, str | None, Sequence[str] | None]]
) -> None:
    """Check every output path before any work: writable, a file, the right format, no input.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line (its input files are taken from it).
    outputs : iterable of (option, path, suffixes)
        The output options, their paths and the extensions each accepts (None: any), e.g.
        ``[("-o", "zones.gpkg", None), ("--ranking", "r.csv", (".csv",))]``; a path of None
        is skipped, and ``-`` (standard output), a device or a pipe is written into as is.
        A GeoParquet extension followed by a slash (``zones.parquet/``) names a partitioned
        GeoParquet folder (:mod:`minemap.io.parquet`): it may replace a partitioned layer,
        never a folder holding other files nor one holding an input.

    Raises
    ------
    OutputError
        An output cannot be written, has an extension its option does not write, is an
        input, or two outputs are one file.
    """
    inputs = input_paths(args)
    seen: list[tuple[str, Path]] = []
    for option, value, suffixes in outputs:
        if value is None or is_stdout(value):
            continue
        folder = is_folder_output(str(value))  # zones.parquet/: a partitioned layer
        path = _io.resolve_output(str(value))
        for source in inputs:
            if _same_file(path, source) or (folder and path.resolve() in source.resolve().parents):
                raise OutputError(
                    f"{value}: {option} is also an input ({source}); writing it "
                    "would destroy that input. Choose another output file."
                )
            if _io.parquet.is_partitioned(source) and source.resolve() in path.resolve().parents:
                raise OutputError(
                    f"{value}: {option} is inside the input folder {source}; writing there "
                    "would change that input layer. Write beside the folder instead."
                )
        for other_option, other in seen:
            if _same_file(path, other):
                raise OutputError(
                    f"{value}: {option} and {other_option} name the same file; "
                    "give each output its own file."
                )
        if suffixes is not None and not _io.is_stream(path) and path.suffix.lower() not in suffixes:
            shown = ", ".join(s or "no extension" for s in suffixes)
            raise OutputError(
                f"{value}: {option} writes {shown}, not "
                f"{path.suffix or 'a file without extension'}; change the "
                "name (an existing file of another kind is never overwritten)."
            )
        if folder:
            _io.check_output_folder(path, overwrite=True)
        else:
            _io.check_output_path(path)
        seen.append((option, path))


def emit(text: str, output: str | None, outputs: _io.OutputSet | None = None) -> None:
    """Write ``text`` to ``output`` (or stage it in ``outputs``), or to standard output.

    Text bound for a terminal (CSV or JSON printed to the screen) has its control characters
    other than line breaks and tabs shown as ``\\xNN``, as in tables; piped or written to a
    file it is kept exactly.
    """
    text = text if text.endswith("\n") else text + "\n"
    if is_stdout(output):
        isatty = getattr(sys.stdout, "isatty", None)
        if isatty is not None and isatty():
            text = "\n".join(
                "\t".join(str(terminal_text(cell)) for cell in line.split("\t"))
                for line in text.split("\n")
            )
        sys.stdout.write(text)
    elif outputs is not None:
        outputs.add_text(str(output), text)
    else:
        _io.write_text(str(output), text)


def format_for(args: argparse.Namespace) -> str:
    """Output format: ``--format``, else from the extension of ``-o``, else table."""
    if getattr(args, "format", None):
        return args.format
    if not is_stdout(getattr(args, "output", None)):
        suffix = Path(args.output).suffix.lower()
        return {".json": "json", ".csv": "csv"}.get(suffix, "table")
    return "table"


# ------------------------------------------------------------------------------------------
# numbers and tables
# ------------------------------------------------------------------------------------------


def number(value: object) -> object:
    """A JSON-ready value: floats rounded to :data:`DECIMALS`, never ``-0.0``; NaN is None."""
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, DECIMALS) + 0.0
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if hasattr(value, "item"):
        return number(value.item())
    return value


def records(table: pd.DataFrame) -> list[dict[str, object]]:
    """Rows of ``table`` as JSON-ready dictionaries."""
    return [{k: number(v) for k, v in row.items()} for row in table.to_dict(orient="records")]


def csv_text(table: pd.DataFrame, **columns: object) -> str:
    """``table`` as CSV, numbers rounded as in JSON, text safe for spreadsheets (see
    :func:`minemap.io.writers.spreadsheet_safe`); ``columns`` are added last."""
    out = pd.DataFrame(table).copy()
    for name, value in columns.items():
        out[name] = value
    for column in out.columns:
        if pd.api.types.is_float_dtype(out[column]):
            out[column] = out[column].round(DECIMALS) + 0.0
        elif pd.api.types.is_datetime64_any_dtype(out[column]):
            out[column] = out[column].dt.date.astype(str)
    return spreadsheet_safe(out).to_csv(index=False)


def format_table(table: pd.DataFrame) -> str:
    """A table for the terminal: hectares with thousands separators, two decimals."""
    shown = table.copy()
    for column in shown.columns:
        if column.endswith("_ha"):
            shown[column] = shown[column].map(lambda v: f"{v + 0.0:,.2f}")
        elif column.startswith("percent_"):
            shown[column] = shown[column].map(lambda v: f"{v + 0.0:.2f}")
        elif column == "period_end":
            shown[column] = pd.to_datetime(shown[column]).dt.date.astype(str)
        elif not pd.api.types.is_numeric_dtype(shown[column]):
            shown[column] = shown[column].map(terminal_text)
    shown.columns = [terminal_text(str(c)) for c in shown.columns]
    return shown.to_string(index=False)


def terminal_text(value: object) -> object:
    """Attribute text safe for a terminal: control characters (escape sequences, bells,
    line breaks) shown as ``\\xNN``, so a value can neither restyle nor rewrite the screen.

    Examples
    --------
    >>> terminal_text("a\\x1b[2Jb")
    'a\\\\x1b[2Jb'
    """
    if not isinstance(value, str):
        return value
    return "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in value)


def dump_json(doc: dict[str, object]) -> str:
    """JSON text as every command writes it."""
    return json.dumps(doc, indent=2, ensure_ascii=False)


# ------------------------------------------------------------------------------------------
# warnings
# ------------------------------------------------------------------------------------------


def one_line(message: str) -> str:
    """A message on one line, any database URL in it without its password."""
    return " ".join(_postgis.hide_urls(str(message)).split())


def messages(records_: list[warnings.WarningMessage]) -> list[str]:
    """The distinct warning messages recorded so far, each on one line."""
    seen: list[str] = []
    for record in records_:
        if issubclass(record.category, (DeprecationWarning, PendingDeprecationWarning)):
            continue
        message = one_line(str(record.message))
        if message not in seen:
            seen.append(message)
    return seen


def print_warnings(records_: list[warnings.WarningMessage]) -> None:
    """Print each distinct warning on one line of stderr."""
    for message in messages(records_):
        print(f"minemap: warning: {terminal_text(_postgis.hide_urls(message))}", file=sys.stderr)
