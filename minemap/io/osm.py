"""Priority features from OpenStreetMap extracts (``.osm.pbf``, ``.osm``).

GDAL's OpenStreetMap driver splits an extract into layers (``points`` for tagged nodes,
``lines`` for ways, ``multipolygons`` for closed ways and multipolygon relations, ...) and
keeps a few tags as columns, the rest in an ``other_tags`` string: ``amenity`` on a point,
for instance, is found only there. minemap reads the layers each kind of feature can be in,
takes tags from columns and ``other_tags`` alike, keeps the features that carry one of the
kind's tags (:data:`DEFAULT_TAGS`, or ``tags=``) and combines them in one layer.

Nothing is fetched from the network: only the extract given is read.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

import geopandas as gpd
import numpy as np
import pandas as pd

from minemap._errors import EmptyLayerError, SchemaError, option_hint
from minemap.io import readers as _readers
from minemap.io.tags import OTHER_TAGS, TagFilter, TagSpec, match_terms, parse_tags, tag_values

_ROAD_CLASSES = ("motorway", "trunk", "primary", "secondary", "tertiary")

#: minemap's default OpenStreetMap tags, by kind of priority feature and category, chosen for
#: mine action: the roads that give access (not footways, paths, cycleways, steps,
#: bridleways or pedestrian streets: pass ``tags="highway"`` for every way), the essential
#: infrastructure whose restoration return depends on, and where people live. Written in the
#: ``tags=`` syntax of :mod:`minemap.io.tags` (``key`` is any value but ``no``).
DEFAULT_TAGS: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "roads": MappingProxyType(
            {
                "roads": ",".join(
                    [f"highway={c}" for c in _ROAD_CLASSES]
                    + [f"highway={c}_link" for c in _ROAD_CLASSES]
                    + [
                        "highway=unclassified",
                        "highway=residential",
                        "highway=living_street",
                        "highway=service",
                        "highway=track",
                        "highway=road",
                    ]
                ),
            }
        ),
        "infrastructure": MappingProxyType(
            {
                "health": "amenity=hospital,amenity=clinic,amenity=doctors,"
                "amenity=pharmacy,healthcare",
                "education": "amenity=school,amenity=kindergarten,"
                "amenity=college,amenity=university",
                "water": "amenity=drinking_water,amenity=water_point,man_made=water_well,"
                "man_made=water_tower,man_made=water_works,man_made=pumping_station,"
                "man_made=reservoir_covered,waterway=dam",
                "power": "power=plant,power=substation,power=generator,power=line",
                "bridges": "bridge,man_made=bridge",
                "worship": "amenity=place_of_worship",
                "public": "amenity=townhall,amenity=community_centre,amenity=police,"
                "amenity=fire_station,amenity=courthouse,amenity=post_office,"
                "office=government,building=public,building=government,building=civic",
            }
        ),
        "residential": MappingProxyType(
            {
                "buildings": "building",
                "residential": "landuse=residential",
                "settlements": "place=city,place=town,place=village,place=hamlet,"
                "place=isolated_dwelling,place=farm,place=suburb,place=quarter,"
                "place=neighbourhood",
            }
        ),
    }
)

#: The OGR layers of an extract each kind of feature is read from.
OSM_LAYERS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "roads": ("lines",),
        "infrastructure": ("points", "lines", "multipolygons"),
        "residential": ("points", "multipolygons"),
    }
)

#: Column naming the category (of :data:`DEFAULT_TAGS`, or the matching ``tags=`` term) of
#: each feature read from OpenStreetMap.
OSM_CATEGORY = "osm_category"


def default_tags(kind: str) -> TagFilter:
    """All of minemap's default tags for ``kind``, as one filter.

    Examples
    --------
    >>> str(default_tags("residential"))  # doctest: +ELLIPSIS
    'building,landuse=residential,place=city,...'
    """
    return parse_tags(list(DEFAULT_TAGS[_check_kind(kind)].values()))


def read_osm_features(
    path: str | os.PathLike,
    *,
    kind: str,
    layer: str | None = None,
    tags: TagSpec | None = None,
) -> gpd.GeoDataFrame:
    """Read priority features from an OpenStreetMap extract.

    Roads come from the ``lines`` layer; infrastructure from ``points``, ``lines`` and
    ``multipolygons`` together; residential areas from ``points`` (``place=village``, ...)
    and ``multipolygons`` (buildings, ``landuse=residential``). A feature is kept when it
    carries one of the tags (:data:`DEFAULT_TAGS` for ``kind`` unless ``tags`` is given),
    whether GDAL put the tag in a column or in ``other_tags``. The result is validated like
    any other layer (:func:`minemap.read_features`).

    Parameters
    ----------
    path : path-like
        An ``.osm.pbf`` or ``.osm`` extract (a GeoPackage exported from OpenStreetMap
        works as well: its layer is read and filtered by the same tags).
    kind : {'roads', 'infrastructure', 'residential'}
        Which priority features to read.
    layer : str, optional
        Read this OGR layer only, instead of the kind's layers (:data:`OSM_LAYERS`).
    tags : str, list or mapping, optional
        Which tags select the features, instead of the defaults, e.g. ``"highway"`` or
        ``"amenity=school,amenity=clinic,healthcare"`` (see :mod:`minemap.io.tags`).

    Returns
    -------
    geopandas.GeoDataFrame
        The features, in EPSG:4326, with columns ``osm_id`` (``node/1``, ``way/2``,
        ``relation/3``), ``osm_category`` (e.g. ``health``, or the ``tags`` term that
        matched), ``name``, one column per tag key of the filter (filled from
        ``other_tags`` too), and the layers' other columns.

    Raises
    ------
    EmptyLayerError
        When the extract has no feature with any of the tags; the message names the file,
        the kind and the tags, e.g. ``sample.osm.pbf: no infrastructure features (tags
        '...') in the extract``.

    Examples
    --------
    A tiny extract in OpenStreetMap's XML format (an ``.osm.pbf`` extract reads the same
    way): a primary road and a footway.

    >>> import pathlib, tempfile
    >>> osm = pathlib.Path(tempfile.mkdtemp()) / "village.osm"
    >>> _ = osm.write_text(
    ...     '<?xml version="1.0" encoding="UTF-8"?><osm version="0.6">'
    ...     '<node id="1" lat="40.0" lon="44.0"/><node id="2" lat="40.0" lon="44.01"/>'
    ...     '<node id="3" lat="40.005" lon="44.0"/><node id="4" lat="40.005" lon="44.01"/>'
    ...     '<way id="10"><nd ref="1"/><nd ref="2"/><tag k="highway" v="primary"/></way>'
    ...     '<way id="11"><nd ref="3"/><nd ref="4"/><tag k="highway" v="footway"/></way>'
    ...     "</osm>"
    ... )
    >>> roads = read_osm_features(osm, kind="roads")
    >>> roads[["osm_id", "highway"]].values.tolist()  # a footway is not in the roads' tags
    [['way/10', 'primary']]
    """
    kind = _check_kind(kind)
    path = Path(path)
    flt = parse_tags(tags) if tags is not None else default_tags(kind)
    categories: Mapping[str, TagSpec | TagFilter] = (
        DEFAULT_TAGS[kind] if tags is None else _term_categories(flt)
    )
    if path.suffix.lower() not in _readers.OSM_SUFFIXES:
        raw, label, curved = _readers.read_layer(path, layer=layer, default_layer=kind)
        raw = _readers.select_tags(raw, flt, label=label, kind=kind)
        raw = _tag_columns(raw, flt, categories)
        return _readers.check_features(raw, label=label, kind=kind, curved=curved)
    available = _readers.list_layers(path)
    if layer is not None and available and layer not in available:
        raise SchemaError(
            f"{path.name}: no layer {layer!r}; an OpenStreetMap extract has "
            f"{available}. Pass one of those with {option_hint('layer')}."
        )
    layers = (layer,) if layer is not None else OSM_LAYERS[kind]
    parts = []
    for name in layers:
        try:
            raw, _, _ = _readers.read_layer(path, layer=name)
        except EmptyLayerError:
            continue  # e.g. an extract without multipolygons
        keep = match_terms(raw, flt).any(axis=0)
        if keep.any():
            part = raw.loc[keep].reset_index(drop=True)
            ids = _osm_ids(part, name)
            part = part.drop(columns=[c for c in ("osm_id", "osm_way_id") if c in part.columns])
            part.insert(0, "osm_id", ids.to_numpy())
            parts.append(part)
    if not parts:
        raise EmptyLayerError(
            f"{path.name}: no {kind} features (tags {str(flt)!r}) in the extract (layers "
            f"{', '.join(layers)}); check that the extract covers the area, or choose other "
            f"tags with {option_hint('tags')}."
        )
    combined = gpd.GeoDataFrame(
        pd.concat(parts, ignore_index=True), geometry="geometry", crs=parts[0].crs
    )
    combined = _tag_columns(combined, flt, categories)
    return _readers.check_features(combined, label=path.name, kind=kind, id_column="osm_id")


def _term_categories(flt: TagFilter) -> dict[str, TagFilter]:
    """One category per term of a filter, named like the term (``amenity=school``)."""
    out = {}
    for key, values in flt.terms:
        for value in [None] if values is None else sorted(values):
            one = TagFilter(((key, None if value is None else frozenset({value})),))
            out[str(one)] = one
    return out


def _osm_ids(frame: pd.DataFrame, layer: str) -> pd.Series:
    """``node/ID``, ``way/ID`` or ``relation/ID``: how openstreetmap.org names an object."""
    kind = {"points": "node", "lines": "way"}.get(layer, "relation")
    ids = (
        frame["osm_id"].astype(object)
        if "osm_id" in frame.columns
        else pd.Series([None] * len(frame), index=frame.index, dtype=object)
    )
    types = pd.Series(kind, index=frame.index, dtype=object)
    if "osm_way_id" in frame.columns:
        way = frame["osm_way_id"].notna() & ids.isna()
        ids = ids.where(~way, frame["osm_way_id"].astype(object))
        types = types.where(~way, "way")
    text = types + "/" + ids.astype("string").fillna("?").astype(object)
    return text.where(ids.notna(), [f"row {i + 1}" for i in range(len(frame))])


def _tag_columns(
    frame: gpd.GeoDataFrame, flt: TagFilter, categories: Mapping[str, TagSpec | TagFilter]
) -> gpd.GeoDataFrame:
    """Add the category column and one column per tag key, in a readable order."""
    attrs = dict(frame.attrs)
    out = frame.copy()
    category = np.full(len(out), None, dtype=object)
    for name, spec in categories.items():
        hit = match_terms(out, spec).any(axis=0) & pd.isna(category)
        category[hit] = name
    values = {key: tag_values(out, key) for key in flt.keys}
    for key, column in values.items():
        out[key] = column.to_numpy()
    out[OSM_CATEGORY] = category
    first = [c for c in ("osm_id", OSM_CATEGORY, "name", *flt.keys) if c in out.columns]
    last = [c for c in (OTHER_TAGS, out.geometry.name) if c in out.columns]
    middle = [c for c in out.columns if c not in first and c not in last]
    out = out[list(dict.fromkeys([*first, *middle, *last]))]
    out.attrs.update(attrs)
    return out


def _check_kind(kind: object) -> str:
    if kind not in OSM_LAYERS:
        raise SchemaError(
            f"OpenStreetMap extracts give {', '.join(OSM_LAYERS)} features, not {kind!r}; "
            "export other layers (e.g. districts) to a GeoPackage in a GIS."
        )
    return str(kind)
