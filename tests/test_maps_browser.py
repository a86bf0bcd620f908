"""The offline map in a real browser: headless Chromium from a file:// URL, no network."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import shapely
from _browser import chromium, require_browser

from minemap import maps

pytestmark = pytest.mark.browser
require_browser()


@pytest.fixture(scope="module")
def driver(tmp_path_factory):
    chrome = chromium(tmp_path_factory.mktemp("chromium-profile"))
    yield chrome
    chrome.quit()


def _open(chrome, path: Path, timeout: float = 30.0) -> None:
    chrome.get_log("browser")  # discard earlier messages
    chrome.get(path.resolve().as_uri())
    end = time.monotonic() + timeout
    while not chrome.execute_script("return !!(window.minemap && window.minemap.ready)"):
        assert time.monotonic() < end, "the map never finished drawing"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def fixture_map(tmp_path_factory) -> Path:
    from test_maps_interactive import full_map

    path = tmp_path_factory.mktemp("map") / "fixture.html"
    maps.save_map(full_map(), path, offline=True)
    return path


def test_offline_map_draws_every_feature_without_errors(driver, fixture_map):
    _open(driver, fixture_map)
    errors = [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]
    assert errors == []
    assert driver.execute_script("return typeof L === 'object' && L.version") == "1.9.3"
    drawn = driver.execute_script("return window.minemap.drawn")
    assert drawn == {
        "hazard-high": 2,
        "hazard-medium": 2,
        "hazard-low": 2,
        "released-cleared": 2,
        "released-reduced": 1,
        "released-cancelled": 1,
        "remaining": 6,
        "priority": 1,
        "roads": 1,
        "infrastructure": 2,
        "residential": 1,
        "districts": 2,
    }
    # SVG renderer: one <path> per drawn shape (a circle marker per point)
    paths = driver.execute_script(
        "return document.querySelectorAll('path.leaflet-interactive').length"
    )
    assert paths == sum(drawn.values())
    assert driver.execute_script("return window.__alerts") == []
    assert driver.execute_script("return document.querySelectorAll('img').length") == 0


_FULL_DRAWN = {
    "hazard-high": 2,
    "hazard-medium": 2,
    "hazard-low": 2,
    "released-cleared": 2,
    "released-reduced": 1,
    "released-cancelled": 1,
    "remaining": 6,
    "priority": 1,
    "roads": 1,
    "infrastructure": 2,
    "residential": 1,
    "districts": 2,
}


def test_map_saved_after_notebook_display_draws_every_layer(driver, tmp_path):
    from test_maps_interactive import full_map

    fmap = full_map()
    fmap._repr_html_()
    maps.map_html(fmap)
    path = tmp_path / "rerendered.html"
    maps.save_map(fmap, path, offline=True)
    _open(driver, path)
    assert [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "WARNING")] == []
    assert driver.execute_script("return window.minemap.drawn") == _FULL_DRAWN
    shown = driver.execute_script("""
        var map = window.minemap.map, out = [];
        Object.keys(window.minemap.layers).forEach(function (name) {
          if (map.hasLayer(window.minemap.layers[name])) { out.push(name); }
        });
        return out.sort();""")
    assert shown == sorted(_FULL_DRAWN)


def test_notebook_output_draws_without_network(driver, tmp_path):
    import html
    import re

    from test_maps_interactive import full_map

    output = full_map(tiles="OpenStreetMap")._repr_html_()
    page = html.unescape(re.search(r'srcdoc="([^"]*)"', output).group(1))
    path = tmp_path / "notebook.html"
    path.write_text(page, encoding="utf-8")
    _open(driver, path)
    assert driver.execute_script("return window.minemap.drawn") == _FULL_DRAWN
    # only the basemap's tiles fail (no network); no script error
    errors = [
        e
        for e in driver.get_log("browser")
        if e["level"] == "SEVERE" and "tile.openstreetmap.org" not in e["message"]
    ]
    assert errors == []


def test_legend_and_controls_visible(driver, fixture_map):
    _open(driver, fixture_map)
    legend = driver.find_element("id", "minemap-legend")
    assert legend.is_displayed()
    assert "High threat" in legend.text and "ha" in legend.text
    assert "Test <map>" in legend.text
    assert driver.find_element("css selector", ".leaflet-control-scale").is_displayed()
    assert driver.find_element("css selector", ".leaflet-control-layers").is_displayed()


def test_payloads_display_as_text_and_never_run(driver, fixture_map):
    from test_maps_interactive import PAYLOADS

    _open(driver, fixture_map)
    shown = driver.execute_script("""
        var out = [];
        var layers = window.minemap.layers;
        Object.keys(layers).sort().forEach(function (name) {
          layers[name].eachLayer(function (layer) {
            var tip = layer.getTooltip && layer.getTooltip();
            if (!tip) { return; }
            layer.openTooltip();
            out.push(tip.getElement().textContent);
            layer.closeTooltip();
          });
        });
        return out;""")
    text = "\n".join(shown)
    for payload in PAYLOADS:
        assert payload in text, payload
    assert driver.execute_script("return window.__alerts") == []
    count = "return document.querySelectorAll('img, script[src]').length"
    assert driver.execute_script(count) == 0
    errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []


def test_large_merged_map_uses_canvas(driver, tmp_path):
    from test_maps_interactive import _hazards, _releases

    path = tmp_path / "merged.html"
    maps.save_map(
        maps.hazard_map(_hazards(), _releases(), tiles=None, feature_budget=1), path, offline=True
    )
    _open(driver, path)
    assert driver.execute_script("return document.querySelectorAll('canvas').length") >= 1
    assert driver.execute_script("return window.minemap.drawn['hazard-high']") == 1
    assert [e for e in driver.get_log("browser") if e["level"] == "SEVERE"] == []


def test_map_across_180_shows_its_data(driver, tmp_path):
    from test_maps_antimeridian import FIJI, _in, _lonlat_layers, _map

    path = tmp_path / "fiji.html"
    path.write_text(_map(_in(_lonlat_layers(FIJI), 3832)), encoding="utf-8")
    _open(driver, path)
    assert [e for e in driver.get_log("browser") if e["level"] == "SEVERE"] == []
    west, east = driver.execute_script(
        "var b = window.minemap.map.getBounds(); return [b.getWest(), b.getEast()];"
    )
    assert 178.5 < west < 179.7 and 180.2 < east < 181.5
    # every shape lies around 180° (none drawn a world away or across it)
    outside = driver.execute_script("""
        var out = [];
        Object.keys(window.minemap.layers).forEach(function (name) {
          window.minemap.layers[name].eachLayer(function (layer) {
            var b = layer.getBounds();
            if (!(b.getWest() > 179 && b.getEast() < 181)) { out.push(name); }
          });
        });
        return out;""")
    assert outside == []


def test_legend_collapses_from_the_keyboard(driver, fixture_map):
    from selenium.webdriver.common.keys import Keys

    _open(driver, fixture_map)
    button = driver.find_element("css selector", "#minemap-legend button.minemap-legend-toggle")
    body = driver.find_element("id", "minemap-legend-body")
    assert body.is_displayed() and button.get_attribute("aria-expanded") == "true"
    button.send_keys(Keys.ENTER)
    assert not body.is_displayed()
    assert button.get_attribute("aria-expanded") == "false" and button.text == "Show legend"
    button.send_keys(Keys.SPACE)
    assert body.is_displayed() and button.text == "Hide legend"


def test_legend_and_layer_control_do_not_hide_the_data(driver, fixture_map):
    _open(driver, fixture_map)
    overlap = driver.execute_script("""
        var map = window.minemap.map, box = L.latLngBounds([]);
        ["hazard-high", "hazard-medium", "hazard-low", "released-cleared", "priority"].forEach(
          function (name) { box.extend(window.minemap.layers[name].getBounds()); });
        var nw = map.latLngToContainerPoint(box.getNorthWest());
        var se = map.latLngToContainerPoint(box.getSouthEast());
        var origin = map.getContainer().getBoundingClientRect(), out = [];
        [".minemap-legend", ".leaflet-control-layers"].forEach(function (selector) {
          var r = document.querySelector(selector).getBoundingClientRect();
          var left = r.left - origin.left, right = r.right - origin.left;
          var top = r.top - origin.top, bottom = r.bottom - origin.top;
          if (left < se.x && right > nw.x && top < se.y && bottom > nw.y) { out.push(selector); }
        });
        return out;""")
    assert overlap == []


def test_id_cells_do_not_wrap_in_tooltips(driver, fixture_map):
    _open(driver, fixture_map)
    styles = driver.execute_script("""
        var out = [];
        window.minemap.layers["hazard-high"].eachLayer(function (layer) {
          layer.openTooltip();
          var cell = layer.getTooltip().getElement().querySelector("td.id");
          out.push([cell.textContent, getComputedStyle(cell).whiteSpace, cell.offsetHeight,
                    getComputedStyle(cell).lineHeight]);
          layer.closeTooltip();
        });
        return out;""")
    assert len(styles) == 2
    for text, white_space, height, _line in styles:
        assert text and white_space == "nowrap"
        assert height < 24  # one line, even for "<img src=x onerror=alert(1)>"


_MOVED = """
var done = arguments[arguments.length - 1], map = window.minemap.map;
map.once("moveend", function () {
  requestAnimationFrame(function () { requestAnimationFrame(function () { done(true); }); });
});
map.panBy([arguments[0], arguments[1]], {animate: false});
"""


def test_big_data_path_draws_tiles_pans_and_hit_tests(driver, tmp_path):
    from test_maps_speed import blob_hazards

    hazards = blob_hazards(150)
    path = tmp_path / "big.html"
    maps.save_map(maps.hazard_map(hazards, tiles=None, feature_budget=20), path, offline=True)
    _open(driver, path)
    assert [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "WARNING")] == []
    assert driver.execute_script("return window.minemap.drawn['hazard-high']") == 1
    tiles = driver.execute_script("return window.minemap.tiles")
    assert tiles > 0
    assert (
        driver.execute_script("return document.querySelectorAll('canvas.minemap-tile').length")
        >= tiles
    )
    # hit testing on the rings: inside the big high-threat blob, and far from every hazard
    lon, lat = shapely.get_coordinates(hazards.geometry.iloc[0].centroid)[0]
    hit = "return window.minemap.hits(arguments[0], arguments[1], arguments[2])"
    assert driver.execute_script(hit, "hazard-high", lat, lon) is True
    assert driver.execute_script(hit, "hazard-high", lat - 1.0, lon) is False
    # levels of detail: the finest near the ground, a coarser one zoomed out
    assert driver.execute_script("return window.minemap.lod('hazard-high', 18)") == -1
    assert driver.execute_script("return window.minemap.lod('hazard-high', 6)") >= 0
    # a pan draws only the tiles that come into view
    driver.execute_async_script(_MOVED, 300, 0)
    added = driver.execute_script("return window.minemap.tiles") - tiles
    assert 0 < added < tiles
    # hovering shows the tooltip of the top class there (built with textContent); a class
    # switched off in the layer control is neither drawn nor hit
    hover = """
        var map = window.minemap.map, at = L.latLng(arguments[0], arguments[1]);
        if (arguments[2]) { map.removeLayer(window.minemap.layers[arguments[2]]); }
        map.setView(at, 13, {animate: false});
        map.fire("mousemove", {latlng: at, layerPoint: map.latLngToLayerPoint(at),
                               containerPoint: map.latLngToContainerPoint(at)});
        var tip = document.querySelector(".leaflet-tooltip");
        return tip ? tip.textContent : null;"""
    assert "Remaining hazard" in driver.execute_script(hover, lat, lon, None)
    text = driver.execute_script(hover, lat, lon, "remaining")
    assert "Threat level" in text and "high" in text
    assert [e for e in driver.get_log("browser") if e["level"] == "SEVERE"] == []
    assert driver.execute_script("return window.__alerts") == []
