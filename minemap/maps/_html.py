"""Safe text, the map's own JavaScript and CSS, offline inlining and stable element ids.

Every attribute value in a map is untrusted text. It reaches the page in exactly two ways:

* inside ``<script>`` as JSON built by :func:`script_json`, which escapes ``<``, ``>``, ``&``,
  ``/``, the JavaScript line separators and backticks, so a value can neither close the
  script element nor hold a ``//`` sequence; the page's own JavaScript puts those values on
  screen with ``textContent`` only (never ``innerHTML``, never a template literal);
* as HTML text through :func:`text`, which escapes ``& < > " '`` and ``/``.

Nothing here passes a data value to folium's ``Popup``/``Tooltip``/``GeoJsonTooltip``.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from minemap._errors import OutputError
from minemap._extras import require

if TYPE_CHECKING:
    from branca.element import Element

_SCRIPT_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "/": "\\/",
    "`": "\\u0060",
    "$": "\\u0024",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
_SCRIPT_RE = re.compile("[<>&/`$\u2028\u2029]")
_JINJA_RE = re.compile(r"\{(?=[{%#])")


def script_json(value: object) -> str:
    """JSON text that is safe to place inside a ``<script>`` element.

    Besides the characters that could end the script or start a comment, a ``{`` that
    begins ``{{``, ``{%`` or ``{#`` is escaped: folium re-reads rendered output as a Jinja
    template, and structural JSON can never hold those pairs, so every match is in a string.

    Examples
    --------
    >>> script_json({"name": "</script>"})
    '{"name":"\\\\u003c\\\\/script\\\\u003e"}'
    """
    raw = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    raw = _SCRIPT_RE.sub(lambda m: _SCRIPT_ESCAPES[m.group(0)], raw)
    return _JINJA_RE.sub(lambda _: "\\u007b", raw)


def text(value: object) -> str:
    """Escape text for HTML element content or a quoted attribute value.

    ``/`` is escaped so no ``//`` reaches an offline page, and braces so that folium's
    second pass through Jinja sees no template syntax.

    Examples
    --------
    >>> text("<b>C:\\\\data</b>")
    '&lt;b&gt;C:\\\\data&lt;&#47;b&gt;'
    """
    escaped = html.escape(str(value), quote=True)
    return escaped.translate({ord("/"): "&#47;", ord("{"): "&#123;", ord("}"): "&#125;"})


# The map's runtime. No comments (an inlined page must hold no '//'), no template literals,
# no innerHTML: data values only ever reach the page through textContent.
RUNTIME_JS = r"""
(function () {
  "use strict";
  var state = window.minemap = window.minemap || {drawn: {}, layers: {}, ready: false};
  function eachPoint(s, scale, visit) {
    var i = 0, lat = 0, lng = 0, n = s.length;
    while (i < n) {
      var shift = 0, result = 0, b;
      do { b = s.charCodeAt(i++) - 63; result |= (b & 31) << shift; shift += 5; } while (b >= 32);
      lat += (result & 1) ? ~(result >> 1) : (result >> 1);
      shift = 0; result = 0;
      do { b = s.charCodeAt(i++) - 63; result |= (b & 31) << shift; shift += 5; } while (b >= 32);
      lng += (result & 1) ? ~(result >> 1) : (result >> 1);
      visit(lat / scale, lng / scale);
    }
  }
  state.eachPoint = eachPoint;
  function decode(s, scale) {
    var out = [];
    eachPoint(s, scale, function (lat, lng) { out.push([lat, lng]); });
    return out;
  }
  function polygons(g, scale) {
    return g.split(",").map(function (p) {
      return p.split(" ").map(function (r) { return decode(r, scale); });
    });
  }
  function lines(g, scale) {
    return g.split(",").map(function (r) { return decode(r, scale); });
  }
  function tip(rows) {
    var table = document.createElement("table");
    table.className = "minemap-tip";
    rows.forEach(function (row) {
      var tr = table.insertRow();
      var th = document.createElement("th");
      th.textContent = String(row[0]);
      tr.appendChild(th);
      var td = tr.insertCell(), value = String(row[1]);
      td.textContent = value;
      if (row[2]) {
        td.className = "id";
      } else if (value.length > 40) {
        td.className = "long";
      }
    });
    return table;
  }
  state.decode = decode;
  state.tip = tip;
  state.addLayer = function (map, group, data) {
    var n = 0, scale = data.q || 1e5;
    data.f.forEach(function (f) {
      var g = f[0], layer;
      if (data.t === "polygon") {
        if (!g) { return; }
        layer = L.polygon(polygons(g, scale), data.s);
      } else if (data.t === "line") {
        if (!g) { return; }
        layer = L.polyline(lines(g, scale), data.s);
      } else {
        layer = L.featureGroup(g.map(function (p) { return L.circleMarker(p, data.s); }));
      }
      if (f[1]) {
        layer.bindTooltip(function () { return tip(f[1]); }, {sticky: true});
      }
      layer.addTo(group);
      n += 1;
    });
    state.drawn[data.n] = n;
    state.layers[data.n] = group;
  };
  state.setup = function (map, legendId) {
    L.control.scale({position: "bottomright", imperial: false}).addTo(map);
    map.attributionControl.setPrefix("Leaflet");
    var node = document.getElementById(legendId);
    if (node) {
      var legend = L.control({position: "bottomleft"});
      legend.onAdd = function () {
        node.style.display = "block";
        L.DomEvent.disableClickPropagation(node);
        L.DomEvent.disableScrollPropagation(node);
        return node;
      };
      legend.addTo(map);
      var body = document.getElementById(legendId + "-body");
      var button = node.querySelector("button.minemap-legend-toggle");
      state.showLegend = function (open) {
        body.hidden = !open;
        button.setAttribute("aria-expanded", open ? "true" : "false");
        button.textContent = open ? "Hide legend" : "Show legend";
        node.classList.toggle("collapsed", !open);
      };
      L.DomEvent.on(button, "click", function () { state.showLegend(body.hidden); });
      state.legend = node;
    }
    state.map = map;
  };
  function fit(map, bounds) {
    var size = map.getSize(), left = 12, right = 12, legend = state.legend;
    if (size.x < 64 || size.y < 64) {
      map.once("resize", function () { fit(map, bounds); });
      return;
    }
    var control = map.getContainer().querySelector(".leaflet-control-layers");
    var controlWidth = control ? control.offsetWidth + 10 : 0;
    if (legend && legend.offsetWidth + controlWidth > 0.55 * size.x) {
      state.showLegend(false);
    }
    if (legend && !legend.classList.contains("collapsed")) {
      left += legend.offsetWidth + 10;
    }
    right += controlWidth;
    if (left + right > 0.6 * size.x) {
      left = 12;
      right = 12;
    }
    map.fitBounds(bounds, {paddingTopLeft: [left, 12], paddingBottomRight: [right, 12],
                           animate: false});
  }
  state.fit = fit;
  state.finish = function (map, view) {
    if (view && view.bounds) {
      fit(map, view.bounds);
    }
    requestAnimationFrame(function () {
      requestAnimationFrame(function () { state.ready = true; });
    });
  };
})();
"""

# The canvas renderer of merged layers (added after RUNTIME_JS; same rules: no comments, no
# template literals, no innerHTML). A merged layer's rings are decoded once into typed arrays
# of Web Mercator pixels at zoom 0, indexed on a grid, and drawn by a Leaflet GridLayer (added
# once the first view is set, so nothing is drawn twice on open): one
# 256 px canvas tile at a time, only the rings that touch the tile, at the coarsest level of
# detail whose error is under a pixel, rings under 1.5 px as small squares, vertices under
# half a pixel apart skipped. A pan draws only the tiles that come into view. Hover is hit
# tested on the rings (even-odd, like the fill) and shows the class's tooltip.
CANVAS_JS = r"""
(function () {
  "use strict";
  var state = window.minemap;
  var MAXLAT = 85.0511287798, R2D = Math.PI / 180;
  state.tiles = 0;
  state.merged = [];
  function mx(lng) { return (lng + 180) / 360 * 256; }
  function my(lat) {
    var s = Math.sin(Math.max(-MAXLAT, Math.min(MAXLAT, lat)) * R2D);
    return 128 - 64 / Math.PI * Math.log((1 + s) / (1 - s));
  }
  function unsigned(s) {
    var out = [], i = 0, n = s.length;
    while (i < n) {
      var shift = 0, result = 0, b;
      do { b = s.charCodeAt(i++) - 63; result |= (b & 31) << shift; shift += 5; } while (b >= 32);
      out.push(result);
    }
    return out;
  }
  function points(s, total, scale) {
    var xy = new Float64Array(total * 2), k = 0;
    state.eachPoint(s, scale, function (lat, lng) {
      xy[k++] = mx(lng);
      xy[k++] = my(lat);
    });
    return xy;
  }
  function offsets(counts) {
    var start = new Int32Array(counts.length + 1);
    for (var r = 0; r < counts.length; r++) { start[r + 1] = start[r] + counts[r]; }
    return start;
  }
  function decodeRings(g, scale) {
    var counts = unsigned(g.c), n = counts.length, start = offsets(counts);
    var xy = points(g.v, start[n], scale), box = new Float64Array(n * 4);
    for (var r = 0; r < n; r++) {
      var x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
      for (var k = start[r]; k < start[r + 1]; k++) {
        var x = xy[2 * k], y = xy[2 * k + 1];
        if (x < x0) { x0 = x; } if (x > x1) { x1 = x; }
        if (y < y0) { y0 = y; } if (y > y1) { y1 = y; }
      }
      box[4 * r] = x0; box[4 * r + 1] = y0; box[4 * r + 2] = x1; box[4 * r + 3] = y1;
    }
    var levels = (g.l || []).map(function (level) {
      var index = unsigned(level.i), lc = unsigned(level.c), ls = offsets(lc);
      var which = new Int32Array(n).fill(-1), at = 0;
      for (var j = 0; j < index.length; j++) { at += index[j]; which[at] = j; }
      return {t: level.t, which: which, start: ls, xy: points(level.v, ls[lc.length], scale)};
    });
    return {n: n, start: start, xy: xy, box: box, levels: levels, grid: makeGrid(box, n),
            stamp: new Int32Array(n), query: 0};
  }
  function makeGrid(box, n) {
    if (!n) {
      return {x0: 0, y0: 0, size: 1, nx: 1, ny: 1, big: [], start: new Int32Array(2),
              items: new Int32Array(0)};
    }
    var x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity, r;
    for (r = 0; r < n; r++) {
      x0 = Math.min(x0, box[4 * r]); y0 = Math.min(y0, box[4 * r + 1]);
      x1 = Math.max(x1, box[4 * r + 2]); y1 = Math.max(y1, box[4 * r + 3]);
    }
    var size = Math.max(x1 - x0, y1 - y0, 1e-9) / 256;
    var nx = Math.max(1, Math.ceil((x1 - x0) / size));
    var ny = Math.max(1, Math.ceil((y1 - y0) / size));
    var grid = {x0: x0, y0: y0, size: size, nx: nx, ny: ny, big: []};
    var count = new Int32Array(nx * ny + 1), pass, cx0, cy0, cx1, cy1, cx, cy;
    var fill = null;
    for (pass = 0; pass < 2; pass++) {
      for (r = 0; r < n; r++) {
        cx0 = cell(grid, box[4 * r], nx); cx1 = cell(grid, box[4 * r + 2], nx);
        cy0 = cellY(grid, box[4 * r + 1]); cy1 = cellY(grid, box[4 * r + 3]);
        if ((cx1 - cx0 + 1) * (cy1 - cy0 + 1) > 64) {
          if (pass === 0) { grid.big.push(r); }
          continue;
        }
        for (cy = cy0; cy <= cy1; cy++) {
          for (cx = cx0; cx <= cx1; cx++) {
            if (pass === 0) {
              count[cy * nx + cx + 1] += 1;
            } else {
              fill[grid.at[cy * nx + cx]++] = r;
            }
          }
        }
      }
      if (pass === 0) {
        for (var c = 0; c < nx * ny; c++) { count[c + 1] += count[c]; }
        grid.start = count;
        grid.at = count.slice(0, nx * ny);
        fill = grid.items = new Int32Array(count[nx * ny]);
      }
    }
    return grid;
  }
  function cell(grid, x, nx) {
    return Math.max(0, Math.min(nx - 1, Math.floor((x - grid.x0) / grid.size)));
  }
  function cellY(grid, y) {
    return Math.max(0, Math.min(grid.ny - 1, Math.floor((y - grid.y0) / grid.size)));
  }
  function each(rings, x0, y0, x1, y1, visit) {
    var grid = rings.grid, box = rings.box, stamp = rings.stamp, q = ++rings.query, r, k;
    function test(r) {
      if (stamp[r] === q) { return; }
      stamp[r] = q;
      if (box[4 * r] <= x1 && box[4 * r + 2] >= x0 && box[4 * r + 1] <= y1 &&
          box[4 * r + 3] >= y0) { visit(r); }
    }
    for (k = 0; k < grid.big.length; k++) { test(grid.big[k]); }
    if (x1 < grid.x0 || y1 < grid.y0 || x0 > grid.x0 + grid.nx * grid.size ||
        y0 > grid.y0 + grid.ny * grid.size) { return; }
    var cx0 = cell(grid, x0, grid.nx), cx1 = cell(grid, x1, grid.nx);
    var cy0 = cellY(grid, y0), cy1 = cellY(grid, y1);
    for (var cy = cy0; cy <= cy1; cy++) {
      for (var cx = cx0; cx <= cx1; cx++) {
        var c = cy * grid.nx + cx;
        for (k = grid.start[c]; k < grid.start[c + 1]; k++) { r = grid.items[k]; test(r); }
      }
    }
  }
  function lod(rings, zoom, lat) {
    var perDegree = 256 / 360 * Math.pow(2, zoom) / Math.cos(Math.min(Math.abs(lat), 85) * R2D);
    var best = -1;
    for (var j = 0; j < rings.levels.length; j++) {
      if (rings.levels[j].t * perDegree <= 0.8) { best = j; }
    }
    return best;
  }
  function draw(layer, ctx, coords, size) {
    var m = layer._minemap, rings = m.rings, s = m.style, scale = Math.pow(2, coords.z);
    var ox = coords.x * size.x, oy = coords.y * size.y, pad = (s.weight + 2) / scale;
    var level = m.lod(coords.z), lv = level >= 0 ? rings.levels[level] : null;
    var box = rings.box, n = 0;
    ctx.beginPath();
    each(rings, ox / scale - pad, oy / scale - pad, (ox + size.x) / scale + pad,
         (oy + size.y) / scale + pad, function (r) {
      var w = (box[4 * r + 2] - box[4 * r]) * scale, h = (box[4 * r + 3] - box[4 * r + 1]) * scale;
      n += 1;
      if (w < 1.5 && h < 1.5) {
        ctx.rect((box[4 * r] + box[4 * r + 2]) / 2 * scale - ox - 0.75,
                 (box[4 * r + 1] + box[4 * r + 3]) / 2 * scale - oy - 0.75, 1.5, 1.5);
        return;
      }
      var xy = rings.xy, a = rings.start[r], b = rings.start[r + 1];
      if (lv && lv.which[r] >= 0) {
        xy = lv.xy; a = lv.start[lv.which[r]]; b = lv.start[lv.which[r] + 1];
      }
      var fx = xy[2 * a] * scale - ox, fy = xy[2 * a + 1] * scale - oy, px = fx, py = fy;
      ctx.moveTo(fx, fy);
      for (var k = a + 1; k < b; k++) {
        var qx = xy[2 * k] * scale - ox, qy = xy[2 * k + 1] * scale - oy;
        if (Math.abs(qx - px) + Math.abs(qy - py) < 0.5) { continue; }
        ctx.lineTo(qx, qy);
        px = qx; py = qy;
      }
      ctx.lineTo(fx, fy);
    });
    if (!n) { return 0; }
    if (s.fill !== false) {
      ctx.globalAlpha = s.fillOpacity === undefined ? 0.2 : s.fillOpacity;
      ctx.fillStyle = s.fillColor || s.color || "#3388ff";
      ctx.fill("evenodd");
    }
    if (s.stroke !== false && s.weight > 0) {
      ctx.globalAlpha = s.opacity === undefined ? 1 : s.opacity;
      ctx.strokeStyle = s.color || "#3388ff";
      ctx.lineWidth = s.weight;
      ctx.lineJoin = "round";
      ctx.lineCap = "round";
      if (s.dashArray) { ctx.setLineDash(String(s.dashArray).split(/[ ,]+/).map(Number)); }
      ctx.stroke();
    }
    return n;
  }
  var Merged = L.GridLayer.extend({
    createTile: function (coords) {
      var tile = L.DomUtil.create("canvas", "minemap-tile"), size = this.getTileSize();
      var ratio = window.devicePixelRatio || 1;
      tile.width = Math.round(size.x * ratio);
      tile.height = Math.round(size.y * ratio);
      tile.style.width = size.x + "px";
      tile.style.height = size.y + "px";
      var ctx = tile.getContext("2d");
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      draw(this, ctx, coords, size);
      state.tiles += 1;
      return tile;
    }
  });
  function inside(rings, r, x, y) {
    var xy = rings.xy, a = rings.start[r], b = rings.start[r + 1], hit = false;
    for (var k = a, j = b - 1; k < b; j = k++) {
      var xi = xy[2 * k], yi = xy[2 * k + 1], xj = xy[2 * j], yj = xy[2 * j + 1];
      if ((yi > y) !== (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi) { hit = !hit; }
    }
    return hit;
  }
  function hits(rings, lat, lng, zoom) {
    var x = mx(lng), y = my(lat), scale = Math.pow(2, zoom), tol = 2 / scale;
    var box = rings.box, odd = false, small = false;
    each(rings, x - tol, y - tol, x + tol, y + tol, function (r) {
      var w = (box[4 * r + 2] - box[4 * r]) * scale, h = (box[4 * r + 3] - box[4 * r + 1]) * scale;
      if (w < 3 && h < 3) { small = true; } else if (inside(rings, r, x, y)) { odd = !odd; }
    });
    return odd || small;
  }
  state.hits = function (name, lat, lng, zoom) {
    var found = state.merged.filter(function (m) { return m.name === name; })[0];
    return !!found && hits(found.rings, lat, lng, zoom === undefined ? state.map.getZoom() : zoom);
  };
  state.lod = function (name, zoom) {
    var found = state.merged.filter(function (m) { return m.name === name; })[0];
    return found ? found.lod(zoom) : null;
  };
  var tooltip = null, shown = null;
  function hover(e) {
    var map = e.target, zoom = map.getZoom();
    for (var k = state.merged.length - 1; k >= 0; k--) {
      var m = state.merged[k];
      if (m.rows && map.hasLayer(m.layer) && hits(m.rings, e.latlng.lat, e.latlng.lng, zoom)) {
        if (!tooltip) { tooltip = L.tooltip({direction: "top", offset: [0, -6], opacity: 0.95}); }
        if (shown !== m) { tooltip.setContent(m.tip()); shown = m; }
        tooltip.setLatLng(e.latlng);
        if (!map.hasLayer(tooltip)) { map.openTooltip(tooltip); }
        map.getContainer().style.cursor = "pointer";
        return;
      }
    }
    if (tooltip && map.hasLayer(tooltip)) { map.closeTooltip(tooltip); }
    shown = null;
    map.getContainer().style.cursor = "";
  }
  function paneOf(map) {
    var pane = map.getPane("minemap-merged");
    if (!pane) {
      pane = map.createPane("minemap-merged");
      pane.style.zIndex = 390;
      pane.style.pointerEvents = "none";
      map.on("mousemove", hover);
      map.on("mouseout", function () {
        if (tooltip && map.hasLayer(tooltip)) { map.closeTooltip(tooltip); }
        shown = null;
      });
    }
    return pane;
  }
  var addLayer = state.addLayer;
  state.addLayer = function (map, group, data) {
    if (data.t !== "merged") { addLayer(map, group, data); return; }
    var rows = data.f.length ? data.f[0][1] : null;
    var m = {name: data.n, style: data.s, rows: rows, rings: decodeRings(data.g, data.q || 1e4)};
    var lat = 0;
    if (m.rings.n) {
      var g = m.rings.grid, y = g.y0 + g.ny * g.size / 2;
      lat = (2 * Math.atan(Math.exp((128 - y) * Math.PI / 128)) - Math.PI / 2) / R2D;
    }
    m.lod = function (zoom) { return lod(m.rings, zoom, lat); };
    m.tip = function () { return state.tip(rows || []); };
    m.layer = new Merged({pane: paneOf(map), zIndex: state.merged.length + 1,
                          updateWhenZooming: false, keepBuffer: 4});
    m.layer._minemap = m;
    m.group = group;
    state.merged.push(m);
    state.drawn[data.n] = data.f.length;
    state.layers[data.n] = group;
  };
  var finish = state.finish;
  state.finish = function (map, view) {
    var waiting = 0;
    if (view && view.bounds) { state.fit(map, view.bounds); }
    function done() { waiting -= 1; if (waiting === 0) { finish(map); } }
    state.merged.forEach(function (m) {
      m.group.addLayer(m.layer);
      if (map.hasLayer(m.layer) && m.layer.isLoading()) {
        waiting += 1;
        m.layer.once("load", done);
      }
    });
    if (waiting === 0) { finish(map); }
  };
})();
"""


RUNTIME_CSS = """
.leaflet-container { background: #f4f3ef; font: 13px system-ui, -apple-system, "Segoe UI",
  Roboto, Helvetica, Arial, sans-serif; }
.minemap-legend { display: none; background: rgba(255, 255, 255, 0.94); padding: 8px 10px;
  border-radius: 6px; box-shadow: 0 1px 5px rgba(0, 0, 0, 0.35); max-width: 320px;
  max-height: calc(100vh - 110px); overflow-y: auto; line-height: 1.35; color: #222; }
.minemap-legend-head { display: flex; align-items: baseline; gap: 10px;
  justify-content: space-between; }
.minemap-legend h2 { font-size: 15px; margin: 0 0 2px 0; }
.minemap-legend-toggle { font: inherit; font-size: 12px; padding: 1px 7px; cursor: pointer;
  border: 1px solid #999; border-radius: 4px; background: #fff; color: #222;
  white-space: nowrap; }
.minemap-legend-toggle:focus-visible { outline: 2px solid #0072B2; outline-offset: 1px; }
.minemap-legend.collapsed { max-width: 240px; }
.minemap-legend.collapsed h2 { font-size: 13px; }
.minemap-legend h3 { font-size: 12px; margin: 8px 0 3px 0; text-transform: uppercase;
  letter-spacing: 0.04em; color: #555; }
.minemap-legend .note { font-size: 11px; color: #555; margin: 2px 0; }
.minemap-legend table { border-collapse: collapse; }
.minemap-legend td { padding: 1px 4px 1px 0; vertical-align: middle; }
.minemap-legend td.ha { text-align: right; font-variant-numeric: tabular-nums;
  white-space: nowrap; padding-left: 10px; }
.minemap-swatch { display: inline-block; vertical-align: middle; }
table.minemap-tip { border-collapse: collapse; font-size: 12px; }
table.minemap-tip th { text-align: left; padding: 1px 8px 1px 0; color: #555;
  font-weight: 600; }
table.minemap-tip th, table.minemap-tip td { white-space: nowrap; }
table.minemap-tip td { padding: 1px 0; }
table.minemap-tip td.long { white-space: pre-wrap; overflow-wrap: anywhere; min-width: 180px;
  max-width: 300px; }
.leaflet-control-layers-expanded { font-size: 12px; line-height: 1.5; }
"""


@cache
def _leaflet_files() -> tuple[str, str]:
    """Leaflet's minified JavaScript and CSS from the installed ``xstatic-leaflet`` package."""
    require("xstatic.pkg.leaflet", extra="maps", purpose="offline maps (Leaflet's files)")
    import xstatic.pkg.leaflet as xleaflet

    base = Path(xleaflet.BASE_DIR)
    return (
        (base / "leaflet.js").read_text(encoding="utf-8"),
        (base / "leaflet.css").read_text(encoding="utf-8"),
    )


# Exact edits that take every URL out of Leaflet's code; each must match, so a different
# Leaflet release fails loudly instead of silently leaving a URL behind.
_SVG_NS = '"http://www.w3.org/2000/svg"'
_JS_EDITS = (
    ('<a href="https://leafletjs.com" title=', "<a title="),
    (' xmlns="http://www.w3.org/2000/svg"', ""),
    (_SVG_NS, '("http:"+"\\/\\/www.w3.org\\/2000\\/svg")'),
)


def leaflet_inline() -> tuple[str, str]:
    """Leaflet's JavaScript and CSS with comments and URLs removed, ready to inline.

    The licence notice is kept (without its URL). The CSS's marker and layer-control
    images are dropped: minemap draws circle markers and an expanded layer control.
    """
    js, css = _leaflet_files()
    version = re.search(r"Leaflet (\d+\.\d+\.\d+)", js)
    notice = (
        f"/* Leaflet {version.group(1) if version else ''} (c) 2010-2022 Vladimir "
        "Agafonkin, (c) 2010-2011 CloudMade; BSD 2-Clause licence */\n"
    )
    js = re.sub(r"^/\*.*?\*/\s*", "", js, count=1, flags=re.DOTALL)
    js = re.sub(r"\n//# sourceMappingURL=\S*\s*$", "\n", js)
    for old, new in _JS_EDITS:
        if old not in js:
            raise OutputError(
                f"the installed Leaflet does not contain {old!r}; minemap cannot "
                "make it offline-safe. Install xstatic-leaflet 1.9."
            )
        js = js.replace(old, new)
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.DOTALL)
    css = re.sub(r"url\(images/[^)]*\)", "none", css)
    js = js.replace("</script", "<\\/script")
    return notice + js, css


_LINK_RE = re.compile(r'<link rel="stylesheet" href="([^"]+)"\s*/>\s*')
_SCRIPT_SRC_RE = re.compile(r'<script src="([^"]+)"></script>\s*')


def inline_assets(page: str, *, drop_others: bool = True) -> str:
    """Replace Leaflet's CDN links with the inlined files.

    Every other linked script and stylesheet is dropped (``drop_others=True``, for offline
    pages) or kept as it is.
    """
    js, css = leaflet_inline()

    def script(match: re.Match[str]) -> str:
        if re.search(r"leaflet(@[\d.]+)?/dist/leaflet(\.min)?\.js$", match.group(1)):
            return f"<script>\n{js}\n</script>\n"
        return "" if drop_others else match.group(0)

    def link(match: re.Match[str]) -> str:
        if re.search(r"leaflet(@[\d.]+)?/dist/leaflet(\.min)?\.css$", match.group(1)):
            return f"<style>\n{css}\n</style>\n"
        return "" if drop_others else match.group(0)

    page = _SCRIPT_SRC_RE.sub(lambda m: script(m), page)
    return _LINK_RE.sub(lambda m: link(m), page)


_REMOTE_RE = re.compile(r"//")


def check_offline(page: str, *, allowed: tuple[str, ...] = ()) -> None:
    """Refuse an offline page that still holds a network reference."""
    for item in allowed:
        page = page.replace(item, "")
    match = _REMOTE_RE.search(page)
    if match:
        start = max(0, match.start() - 60)
        context = " ".join(page[start : match.end() + 60].split())
        raise OutputError(
            "the offline map still refers to the network near: " + repr(context) + "; remove "
            "the element that adds it (offline maps keep only Leaflet and minemap's layers)."
        )


def walk(element: Element) -> Iterator[Element]:
    """``element`` and every element under it, in tree order."""
    yield element
    for child in list(getattr(element, "_children", {}).values()):
        yield from walk(child)


def forget_rendered(root: Element) -> None:
    """Remove what an earlier render of a figure put into it, by name.

    For figures rendered by folium itself (minemap's own maps record what each render
    adds, see :mod:`minemap.maps._page`): the ``addTo`` statements folium's layers add to
    themselves while rendering are removed from the tree, and the figure's header, body
    and script lose every entry named after an element of the tree.
    """
    from folium.elements import ElementAddToElement

    for element in list(walk(root)):
        children = getattr(element, "_children", {})
        for key in [k for k, c in children.items() if isinstance(c, ElementAddToElement)]:
            del children[key]
    names = set()
    for element in walk(root):
        if element is root:
            continue
        names.add(element.get_name())
        for name, _ in getattr(element, "default_js", []) + getattr(element, "default_css", []):
            names.add(name)
    for part in ("header", "html", "script"):
        holder = getattr(root, part, None)
        if holder is not None:
            for key in [k for k in holder._children if k in names]:
                del holder._children[key]


def stabilise_ids(root: Element) -> None:
    """Give every folium/branca element a stable id, numbered in tree order.

    folium names elements after a random uuid; numbering them in the order they were added
    makes the same inputs render byte-identical HTML.
    """
    counter = 0

    def visit(element: Element) -> None:
        nonlocal counter
        counter += 1
        element._id = f"{counter:04d}"
        for child in list(getattr(element, "_children", {}).values()):
            visit(child)

    visit(root)
    for part in ("header", "html", "script"):
        child = getattr(root, part, None)
        if child is not None:
            visit(child)
