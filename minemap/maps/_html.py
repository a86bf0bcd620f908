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
from functools import cache
from pathlib import Path

from minemap._errors import OutputError

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
  function decode(s, scale) {
    var out = [], i = 0, lat = 0, lng = 0, n = s.length;
    while (i < n) {
      var shift = 0, result = 0, b;
      do { b = s.charCodeAt(i++) - 63; result |= (b & 31) << shift; shift += 5; } while (b >= 32);
      lat += (result & 1) ? ~(result >> 1) : (result >> 1);
      shift = 0; result = 0;
      do { b = s.charCodeAt(i++) - 63; result |= (b & 31) << shift; shift += 5; } while (b >= 32);
      lng += (result & 1) ? ~(result >> 1) : (result >> 1);
      out.push([lat / scale, lng / scale]);
    }
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
    try:
        import xstatic.pkg.leaflet as xleaflet
    except ImportError:  # pragma: no cover - a declared dependency
        raise OutputError("offline maps need the 'xstatic-leaflet' package (Leaflet's files); "
                          "install it with: pip install xstatic-leaflet") from None
    base = Path(xleaflet.BASE_DIR)
    return ((base / "leaflet.js").read_text(encoding="utf-8"),
            (base / "leaflet.css").read_text(encoding="utf-8"))


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
    notice = (f"/* Leaflet {version.group(1) if version else ''} (c) 2010-2022 Vladimir "
              "Agafonkin, (c) 2010-2011 CloudMade; BSD 2-Clause licence */\n")
    js = re.sub(r"^/\*.*?\*/\s*", "", js, count=1, flags=re.DOTALL)
    js = re.sub(r"\n//# sourceMappingURL=\S*\s*$", "\n", js)
    for old, new in _JS_EDITS:
        if old not in js:
            raise OutputError(f"the installed Leaflet does not contain {old!r}; minemap cannot "
                              "make it offline-safe. Install xstatic-leaflet 1.9.")
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
        context = " ".join(page[start:match.end() + 60].split())
        raise OutputError(
            "the offline map still refers to the network near: " + repr(context) + "; remove "
            "the element that adds it (offline maps keep only Leaflet and minemap's layers).")


def walk(element: object):
    """``element`` and every element under it, in tree order."""
    yield element
    for child in list(getattr(element, "_children", {}).values()):
        yield from walk(child)


def forget_rendered(root: object) -> None:
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
        names.add(element.get_name())  # type: ignore[attr-defined]
        for name, _ in getattr(element, "default_js", []) + getattr(element, "default_css", []):
            names.add(name)
    for part in ("header", "html", "script"):
        holder = getattr(root, part, None)
        if holder is not None:
            for key in [k for k in holder._children if k in names]:
                del holder._children[key]


def stabilise_ids(root: object) -> None:
    """Give every folium/branca element a stable id, numbered in tree order.

    folium names elements after a random uuid; numbering them in the order they were added
    makes the same inputs render byte-identical HTML.
    """
    counter = 0

    def visit(element: object) -> None:
        nonlocal counter
        counter += 1
        element._id = f"{counter:04d}"  # type: ignore[attr-defined]
        for child in list(getattr(element, "_children", {}).values()):
            visit(child)

    visit(root)
    for part in ("header", "html", "script"):
        child = getattr(root, part, None)
        if child is not None:
            visit(child)
