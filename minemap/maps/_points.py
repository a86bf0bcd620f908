"""Incidents and device finds as point layers of the maps (no folium here).

Each layer reaches the page as one block of data (:func:`point_layer`): per point its
position (longitude/latitude, about a metre), its day (days since 1970-01-01, ``None``
when undated), its tooltip values and the figures its cluster adds up (incidents, killed
and injured; devices). The page clusters the points itself (:data:`POINTS_JS`): at every
zoom level the points a date filter keeps are gathered on a square grid of
:data:`CLUSTER_PX` screen pixels, and each occupied cell is drawn as one marker with its
count (incidents, or devices found), or as the point itself when it holds one. Nothing is
loaded from the web: the clustering is minemap's own few dozen lines of JavaScript.

The legend's counts are the exact sums of the data; the page recomputes them with the
same wording (:func:`incidents_text`, :func:`finds_text`) whenever the date filter
changes, and starts from the full date range, where both agree.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from minemap._errors import GeometryTypeError
from minemap._validate import list_ids
from minemap.maps import _geometry as _geo
from minemap.maps._data import value_text
from minemap.settings import (
    DEVICE_COUNT,
    DEVICE_TYPE,
    FIND_DATE,
    FIND_ID,
    INCIDENT_DATE,
    INCIDENT_ID,
    INJURED,
    KILLED,
    RELEASE_ID,
    VICTIM_ACTIVITY,
)

#: Colours of the point layers: Paul Tol's colour-blind-safe wine and indigo, outside the
#: Okabe–Ito threat and method palettes; incidents are also drawn square, finds round.
INCIDENT_COLOUR = "#882255"
FIND_COLOUR = "#332288"
#: Side of a cluster cell in screen pixels.
CLUSTER_PX = 60
#: From this zoom level on, only points at the very same position are gathered.
CLUSTER_MAX_ZOOM = 18
#: Members a cluster's tooltip lists one by one (a larger cluster shows totals only).
LISTED_MEMBERS = 5

_EPOCH = pd.Timestamp("1970-01-01")
_LABELS = {"incidents": "Incidents", "finds": "Device finds"}


@dataclass(frozen=True)
class PointLayer:
    """A point layer ready for a map: the page's data block and the legend's text."""

    key: str
    label: str
    colour: str
    shape: str  # "square" (incidents) or "circle" (finds)
    block: dict
    value: str
    first: str | None  # first and last date (ISO), None when every point is undated
    last: str | None
    undated: int
    lonlat: np.ndarray  # the points as drawn (shapely Points, longitude/latitude)


def _plural(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def incidents_text(incidents: int, killed: int, injured: int) -> str:
    """The legend's figure for incidents (the page writes the same after filtering).

    Examples
    --------
    >>> incidents_text(1, 0, 2)
    '1 incident: 0 killed, 2 injured'
    """
    return f"{_plural(incidents, 'incident', 'incidents')}: {killed:,} killed, {injured:,} injured"


def finds_text(finds: int, devices: int) -> str:
    """The legend's figure for device finds (the page writes the same after filtering).

    Examples
    --------
    >>> finds_text(2, 1234)
    '1,234 devices in 2 finds'
    """
    return f"{_plural(devices, 'device', 'devices')} in {_plural(finds, 'find', 'finds')}"


def as_evidence(
    source: gpd.GeoDataFrame | str | os.PathLike | None, kind: str
) -> gpd.GeoDataFrame | None:
    """A canonical incidents or finds layer: as given when it is one already
    (``attrs["minemap"] == kind``), else validated by :mod:`minemap.io.evidence`."""
    if source is None:
        return None
    from minemap.io.evidence import evidence_layer

    return evidence_layer(source, kind)


def _days(dates: pd.Series) -> tuple[list[int | None], list[str]]:
    """Days since 1970-01-01 (None when undated) and the dates as text."""
    values = pd.to_datetime(dates)
    if getattr(values.dt, "tz", None) is not None:
        values = values.dt.tz_localize(None)
    values = values.dt.normalize()
    days = [None if pd.isna(d) else int((d - _EPOCH).days) for d in values]
    return days, [value_text(d) for d in values]


def _positions(gdf: gpd.GeoDataFrame, ids: pd.Series, label: str) -> np.ndarray:
    """The points in longitude/latitude (centred as the map is); refuses other geometry."""
    geoms = np.asarray(gdf.geometry.array, dtype=object)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if missing.any():
        raise GeometryTypeError(
            f"{label}: features {list_ids(ids[missing])} have no position; give each a "
            "point or leave those rows out."
        )
    points = shapely.get_type_id(geoms) == 0
    if not points.all():
        raise GeometryTypeError(
            f"{label}: features {list_ids(ids[~points])} are not points; give each one "
            "point (its position), e.g. the centroid of a recorded area."
        )
    return _geo.to_lonlat(geoms, pyproj.CRS(gdf.crs))


def point_layer(gdf: gpd.GeoDataFrame, kind: str) -> PointLayer:
    """The page data and legend text of a canonical incidents or finds layer.

    Each feature of the block is ``[lat, lon, day, values, measure, ...]``: ``values``
    holds the tooltip's values in the order of the block's ``"c"`` labels (the id first),
    the measures are what a cluster adds up (killed, injured; devices found).
    """
    label = str(gdf.attrs.get("source", kind))
    if kind == "incidents":
        ids, dates = gdf[INCIDENT_ID], gdf[INCIDENT_DATE]
        killed = gdf[KILLED].to_numpy(dtype=np.int64)
        injured = gdf[INJURED].to_numpy(dtype=np.int64)
        measures = [killed, injured]
        columns = ["Incident", "Date", "Device type", "Killed", "Injured", "Activity"]
        extra = [killed.tolist(), injured.tolist(), gdf[VICTIM_ACTIVITY].tolist()]
        value = incidents_text(len(gdf), int(killed.sum()), int(injured.sum()))
        colour, shape = INCIDENT_COLOUR, "square"
    else:
        ids, dates = gdf[FIND_ID], gdf[FIND_DATE]
        devices = gdf[DEVICE_COUNT].to_numpy(dtype=np.int64)
        measures = [devices]
        columns = ["Find", "Date", "Device type", "Devices", "Release"]
        releases = gdf[RELEASE_ID] if RELEASE_ID in gdf.columns else [None] * len(gdf)
        extra = [devices.tolist(), list(releases)]
        value = finds_text(len(gdf), int(devices.sum()))
        colour, shape = FIND_COLOUR, "circle"
    lonlat = _positions(gdf, ids, label)
    lat = np.round(shapely.get_y(lonlat), _geo.DECIMALS).tolist()
    lon = np.round(shapely.get_x(lonlat), _geo.DECIMALS).tolist()
    days, date_text = _days(dates)
    texts = [
        [value_text(v) for v in ids],
        date_text,
        [value_text(v) for v in gdf[DEVICE_TYPE]],
        *[[value_text(v) for v in column] for column in extra],
    ]
    rows = [list(r) for r in zip(*texts, strict=True)]
    sums = [m.tolist() for m in measures]
    features = [[lat[k], lon[k], days[k], rows[k], *[s[k] for s in sums]] for k in range(len(gdf))]
    dated = [d for d in days if d is not None]
    first = last = None
    if dated:
        first = (_EPOCH + pd.Timedelta(days=min(dated))).date().isoformat()
        last = (_EPOCH + pd.Timedelta(days=max(dated))).date().isoformat()
    block = {
        "n": kind,
        "t": "points",
        "k": kind,
        "s": {"colour": colour, "shape": shape},
        "c": columns,
        "g": [CLUSTER_PX, CLUSTER_MAX_ZOOM, LISTED_MEMBERS],
        "f": features,
    }
    return PointLayer(
        kind,
        _LABELS[kind],
        colour,
        shape,
        block,
        value,
        first,
        last,
        len(days) - len(dated),
        lonlat,
    )


def date_range(layers: list[PointLayer]) -> tuple[str, str] | None:
    """The first and last date over the point layers (ISO), None when nothing is dated."""
    firsts = [layer.first for layer in layers if layer.first is not None]
    lasts = [layer.last for layer in layers if layer.last is not None]
    if not firsts:
        return None
    return min(firsts), max(lasts)


def undated_note(layers: list[PointLayer]) -> str | None:
    """A legend note on undated points (shown only while every date is shown)."""
    parts = []
    for layer in layers:
        if layer.undated:
            noun = "incident" if layer.key == "incidents" else "find"
            parts.append(_plural(layer.undated, f"undated {noun}", f"undated {noun}s"))
    if not parts:
        return None
    return f"{' and '.join(parts)}: shown only while all dates are shown."


def dates_html(legend_id: str, first: str, last: str) -> str:
    """The date filter: two labelled date inputs and a button for the full range."""
    parts = ['<fieldset class="minemap-dates"><legend>Dates shown</legend>']
    for end, text, value in (("from", "From", first), ("to", "To", last)):
        parts.append(
            f'<label for="{legend_id}-{end}">{text}</label>'
            f'<input type="date" id="{legend_id}-{end}" min="{first}" max="{last}" '
            f'value="{value}" required>'
        )
    parts.append(
        f'<button type="button" id="{legend_id}-all" class="minemap-dates-all">'
        "All dates</button></fieldset>"
    )
    return "".join(parts)


# The page's clustering and date filter (added after RUNTIME_JS; the same rules: no
# comments, no template literals, no innerHTML; values reach the page through textContent).
POINTS_JS = r"""
(function () {
  "use strict";
  var state = window.minemap;
  var filter = {from: null, to: null, min: null, max: null};
  state.points = {};
  function grouped(n) {
    var s = String(Math.abs(n)), out = "";
    while (s.length > 3) { out = "," + s.slice(s.length - 3) + out; s = s.slice(0, s.length - 3); }
    return (n < 0 ? "-" : "") + s + out;
  }
  function plural(n, one, many) { return grouped(n) + " " + (n === 1 ? one : many); }
  function legendText(layer, t) {
    if (layer.kind === "incidents") {
      return plural(t.n, "incident", "incidents") + ": " + grouped(t.a) + " killed, " +
        grouped(t.b) + " injured";
    }
    return plural(t.a, "device", "devices") + " in " + plural(t.n, "find", "finds");
  }
  function active() {
    return (filter.from !== null && filter.from > filter.min) ||
      (filter.to !== null && filter.to < filter.max);
  }
  function kept(day) {
    if (day === null) { return !active(); }
    return (filter.from === null || day >= filter.from) && (filter.to === null || day <= filter.to);
  }
  function clusters(layer, zoom) {
    var scale = Math.pow(2, zoom), grid = zoom < layer.maxZoom, cells = Object.create(null);
    var list = [];
    for (var i = 0; i < layer.n; i++) {
      if (!kept(layer.day[i])) { continue; }
      var key = grid ? Math.floor(layer.x[i] * scale / layer.cell) + " " +
        Math.floor(layer.y[i] * scale / layer.cell) : layer.x[i] + " " + layer.y[i];
      var c = cells[key];
      if (!c) { c = cells[key] = {members: [], x: 0, y: 0}; list.push(c); }
      c.members.push(i);
      c.x += layer.x[i];
      c.y += layer.y[i];
    }
    list.forEach(function (c) { c.x /= c.members.length; c.y /= c.members.length; });
    return list;
  }
  function totals(layer, members) {
    var t = {n: members.length, a: 0, b: 0, first: null, last: null, types: {}};
    members.forEach(function (i) {
      var f = layer.f[i], d = layer.day[i];
      t.a += f[4];
      t.b += f.length > 5 ? f[5] : 0;
      if (d !== null) {
        if (t.first === null || d < t.first) { t.first = d; t.firstText = f[3][1]; }
        if (t.last === null || d > t.last) { t.last = d; t.lastText = f[3][1]; }
      }
      var type = f[3][2];
      t.types[type] = (t.types[type] || 0) + (layer.kind === "finds" ? f[4] : 1);
    });
    return t;
  }
  function pointRows(layer, i) {
    return layer.columns.map(function (label, k) {
      return k === 0 ? [label, layer.f[i][3][k], 1] : [label, layer.f[i][3][k]];
    });
  }
  function clusterRows(layer, members) {
    var t = totals(layer, members), rows = [];
    if (layer.kind === "incidents") {
      rows.push(["Incidents", grouped(t.n)], ["Killed", grouped(t.a)], ["Injured", grouped(t.b)]);
    } else {
      rows.push(["Finds", grouped(t.n)], ["Devices", grouped(t.a)]);
    }
    if (t.first !== null) {
      rows.push(["Dates", t.first === t.last ? t.firstText : t.firstText + " to " + t.lastText]);
    }
    var types = Object.keys(t.types).sort().map(function (k) {
      return k + " " + grouped(t.types[k]);
    });
    rows.push([layer.kind === "finds" ? "Devices by type" : "Device types", types.join(", ")]);
    if (members.length <= layer.listed) {
      members.forEach(function (i) {
        var v = layer.f[i][3];
        rows.push([v[0], [v[1], v[2], v[3]].join(", "), 1]);
      });
    }
    return rows;
  }
  function icon(layer, className, size, label) {
    var node = document.createElement("div");
    node.className = className;
    node.style.backgroundColor = layer.colour;
    if (label !== null) { node.textContent = label; }
    return L.divIcon({html: node, className: "minemap-marker", iconSize: [size, size]});
  }
  function single(layer, i) {
    var marker = L.marker([layer.lat[i], layer.lng[i]], {
      icon: icon(layer, "minemap-point minemap-" + layer.shape, 14, null), riseOnHover: true
    });
    marker.bindTooltip(function () { return state.tip(pointRows(layer, i)); },
                       {direction: "top", offset: [0, -8]});
    return marker;
  }
  function zoomTo(map, layer, members) {
    var bounds = L.latLngBounds(members.map(function (i) { return [layer.lat[i], layer.lng[i]]; }));
    if (bounds.getNorthEast().equals(bounds.getSouthWest())) { return; }
    var zoom = Math.max(map.getBoundsZoom(bounds.pad(0.2)), map.getZoom() + 1);
    map.setView(bounds.getCenter(), Math.min(zoom, layer.maxZoom), {animate: false});
  }
  function group(map, layer, c) {
    var t = totals(layer, c.members), count = layer.kind === "finds" ? t.a : t.n;
    var size = 24 + 6 * Math.min(3, String(count).length - 1);
    var centre = map.options.crs.pointToLatLng(L.point(c.x, c.y), 0);
    var marker = L.marker(centre, {
      icon: icon(layer, "minemap-cluster minemap-" + layer.shape, size, grouped(count)),
      riseOnHover: true, zIndexOffset: 1000
    });
    marker.bindTooltip(function () { return state.tip(clusterRows(layer, c.members)); },
                       {direction: "top", offset: [0, -size / 2]});
    marker.on("click", function () { zoomTo(map, layer, c.members); });
    marker.on("keypress", function (e) {
      if (e.originalEvent && e.originalEvent.key === "Enter") { zoomTo(map, layer, c.members); }
    });
    return marker;
  }
  function render(layer) {
    var map = state.map, zoom = map.getZoom(), scale = Math.pow(2, zoom);
    var view = map.getPixelBounds(), padX = (view.max.x - view.min.x) / 2;
    var padY = (view.max.y - view.min.y) / 2;
    var shown = {markers: 0, clusters: 0, points: 0};
    layer.group.clearLayers();
    layer.shown = shown;
    if (!map.hasLayer(layer.group)) { return; }
    clusters(layer, zoom).forEach(function (c) {
      var x = c.x * scale, y = c.y * scale;
      if (x < view.min.x - padX || x > view.max.x + padX || y < view.min.y - padY ||
          y > view.max.y + padY) { return; }
      if (c.members.length === 1) {
        layer.group.addLayer(single(layer, c.members[0]));
        shown.markers += 1;
      } else {
        layer.group.addLayer(group(map, layer, c));
        shown.clusters += 1;
      }
      shown.points += c.members.length;
    });
  }
  function legend(layer) {
    var members = [];
    for (var i = 0; i < layer.n; i++) { if (kept(layer.day[i])) { members.push(i); } }
    var t = totals(layer, members);
    layer.total = t;
    var node = state.legend && state.legend.querySelector(
      "tr[data-layer=\"" + layer.name + "\"] td.ha");
    if (node) { node.textContent = legendText(layer, t); }
  }
  function refresh() {
    Object.keys(state.points).sort().forEach(function (name) {
      legend(state.points[name]);
      render(state.points[name]);
    });
  }
  state.refreshPoints = refresh;
  var addLayer = state.addLayer;
  state.addLayer = function (map, group, data) {
    if (data.t !== "points") { addLayer(map, group, data); return; }
    var crs = map.options.crs, layer = {
      name: data.n, kind: data.k, colour: data.s.colour, shape: data.s.shape, group: group,
      columns: data.c, cell: data.g[0], maxZoom: data.g[1], listed: data.g[2], f: data.f,
      n: data.f.length, lat: [], lng: [], x: [], y: [], day: []
    };
    data.f.forEach(function (f) {
      var p = crs.latLngToPoint(L.latLng(f[0], f[1]), 0);
      layer.lat.push(f[0]);
      layer.lng.push(f[1]);
      layer.x.push(p.x);
      layer.y.push(p.y);
      layer.day.push(f[2]);
    });
    if (!Object.keys(state.points).length) { map.on("moveend", refresh); }
    state.points[data.n] = layer;
    state.drawn[data.n] = layer.n;
    state.layers[data.n] = group;
    group.on("add", function () { render(layer); });
    legend(layer);
    render(layer);
  };
  function day(text) {
    var m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text || "");
    return m ? Math.round(Date.UTC(+m[1], +m[2] - 1, +m[3]) / 86400000) : null;
  }
  state.setDates = function (from, to) {
    filter.from = day(from);
    filter.to = day(to);
    refresh();
  };
  state.setupDates = function (legendId) {
    var from = document.getElementById(legendId + "-from");
    var to = document.getElementById(legendId + "-to");
    var all = document.getElementById(legendId + "-all");
    if (!from || !to) { return; }
    filter.min = day(from.min);
    filter.max = day(to.max);
    filter.from = day(from.value);
    filter.to = day(to.value);
    function changed() { state.setDates(from.value, to.value); }
    ["change", "input"].forEach(function (name) {
      from.addEventListener(name, changed);
      to.addEventListener(name, changed);
    });
    all.addEventListener("click", function () {
      from.value = from.min;
      to.value = to.max;
      changed();
    });
  };
})();
"""

POINTS_CSS = """
.minemap-marker { background: none; border: none; }
.minemap-point, .minemap-cluster { box-sizing: border-box; width: 100%; height: 100%;
  border: 2px solid #fff; box-shadow: 0 0 0 1px rgba(0, 0, 0, 0.55); }
.minemap-cluster { display: flex; align-items: center; justify-content: center; color: #fff;
  font-weight: 700; font-size: 12px; line-height: 1; font-variant-numeric: tabular-nums; }
.minemap-legend tr[data-layer="incidents"] td.ha, .minemap-legend tr[data-layer="finds"] td.ha {
  white-space: normal; }
.minemap-circle { border-radius: 50%; }
.minemap-square { border-radius: 2px; }
.minemap-dates { border: 1px solid #ccc; border-radius: 4px; margin: 8px 0 4px 0;
  padding: 4px 8px 6px 8px; font-size: 12px; }
.minemap-dates legend { font-weight: 600; padding: 0 3px; }
.minemap-dates label { margin: 0 4px 0 0; }
.minemap-dates input { font: inherit; margin: 0 8px 4px 0; }
.minemap-dates input:focus-visible, .minemap-dates-all:focus-visible {
  outline: 2px solid #0072B2; outline-offset: 1px; }
.minemap-dates-all { font: inherit; padding: 1px 7px; cursor: pointer; border: 1px solid #999;
  border-radius: 4px; background: #fff; color: #222; }
"""
