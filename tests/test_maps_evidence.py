"""Tests of incidents and device finds on the maps (minemap.maps._points and its use by
hazard_map and plot_map): the page's data, escaping, the offline page, the static map, and
the clustering and date filter in headless Chromium."""

from __future__ import annotations

import html
import json
import math
import re
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from test_maps_interactive import PAYLOADS, _hazards, _releases

from minemap import maps
from minemap._errors import GeometryTypeError
from minemap.maps import _points
from minemap.settings import METHOD_COLOURS, THREAT_COLOURS

LON, LAT = 46.0, 39.0
D = 0.01  # about 1 km
TIGHT = (LON + 4.5 * D, LAT + 0.25 * D)  # three finds within two metres of this


def _incidents() -> gpd.GeoDataFrame:
    """Four incidents a kilometre or more apart; an activity and an id are payloads."""
    gdf = gpd.GeoDataFrame(
        {
            "incident_id": ["I1", "I2", PAYLOADS[3], "I4"],
            "incident_date": pd.to_datetime(
                ["2019-03-01", "2020-06-15", "2021-09-30", "2022-12-31"]
            ),
            "killed": np.array([1, 0, 0, 2], dtype="int64"),
            "injured": np.array([0, 2, 1, 3], dtype="int64"),
            "device_type": ["ap_mine", "uxo", "at_mine", "submunition"],
            "victim_activity": ["farming", PAYLOADS[0], "", "herding"],
        },
        geometry=[
            shapely.Point(LON + 0.3 * D, LAT + 0.4 * D),
            shapely.Point(LON + 3.2 * D, LAT + 0.5 * D),
            shapely.Point(LON + 6.1 * D, LAT + 0.5 * D),
            shapely.Point(LON + 8.0 * D, LAT + 0.2 * D),
        ],
        crs=4326,
    )
    gdf.attrs.update(minemap="incidents", source="incidents.csv")
    return gdf


def _finds() -> gpd.GeoDataFrame:
    """Three finds a metre or two apart (one cluster) and three single finds."""
    x, y = TIGHT
    gdf = gpd.GeoDataFrame(
        {
            "find_id": ["F1", "F2", "F3", "F4", "F5", PAYLOADS[5]],
            "find_date": pd.to_datetime(
                ["2021-02-01", "2021-02-02", "2021-02-03", "2019-05-05", "2022-07-07", "2023-01-15"]
            ),
            "device_type": ["ap_mine", "ap_mine", "at_mine", "uxo", "ied", "unknown"],
            "device_count": np.array([2, 3, 4, 1, 0, 6], dtype="int64"),
            "release_id": ["R1", "R1", None, None, "R3", PAYLOADS[1]],
        },
        geometry=[
            shapely.Point(x, y),
            shapely.Point(x + 1e-5, y),
            shapely.Point(x, y + 1e-5),
            shapely.Point(LON + 1.0 * D, LAT + 0.8 * D),
            shapely.Point(LON + 7.0 * D, LAT + 0.7 * D),
            shapely.Point(LON + 2.5 * D, LAT + 0.1 * D),
        ],
        crs=4326,
    )
    gdf.attrs.update(minemap="finds", source="finds.csv")
    return gdf


def evidence_map(**kwargs):
    kwargs.setdefault("tiles", None)
    return maps.hazard_map(
        _hazards(), _releases(), incidents=_incidents(), finds=_finds(), **kwargs
    )


@pytest.fixture(scope="module")
def page() -> str:
    return maps.map_html(evidence_map(), offline=True)


def _blocks(page: str) -> dict[str, dict]:
    found = {}
    for match in re.finditer(r"minemap\.addLayer\(\w+, \w+, (\{.*?\})\);\n", page):
        data = json.loads(match.group(1))
        found[data["n"]] = data
    return found


def _legend_values(page: str) -> dict[str, str]:
    rows = re.findall(
        r'data-layer="([^"]+)"[^>]*>.*?<td class="ha">([^<]*)</td>', page, flags=re.DOTALL
    )
    return {key: html.unescape(value) for key, value in rows}


# ------------------------------------------------------------------------------- the page
def test_incidents_and_finds_are_layers_with_their_counts(page):
    blocks = _blocks(page)
    assert len(blocks["incidents"]["f"]) == 4 and len(blocks["finds"]["f"]) == 6
    assert blocks["incidents"]["t"] == blocks["finds"]["t"] == "points"
    legend = _legend_values(page)
    incidents, finds = _incidents(), _finds()
    killed, injured = int(incidents.killed.sum()), int(incidents.injured.sum())
    assert (killed, injured) == (3, 6)
    assert legend["incidents"] == f"4 incidents: {killed} killed, {injured} injured"
    assert legend["finds"] == f"{int(finds.device_count.sum())} devices in 6 finds"
    assert "16 devices in 6 finds" == legend["finds"]
    # their own section, between release and context, and in the layer control
    assert page.index("<h3>Remaining and released</h3>") < page.index("<h3>Field evidence</h3>")
    control = re.findall(r'\\u003c/svg\\u003e ([^"]+)" : feature_group', page)
    assert control[-2:] == ["Incidents", "Device finds"]


def test_point_colours_are_outside_the_hazard_palette(page):
    entries = dict(re.findall(r'data-layer="([^"]+)" data-colour="(#[0-9A-F]{6})"', page))
    taken = set(THREAT_COLOURS.values()) | set(METHOD_COLOURS.values())
    taken |= {"#CC79A7", "#000000", "#4D4D4D", "#1A1A1A", "#999999", "#707070"}
    assert entries["incidents"] not in taken and entries["finds"] not in taken
    assert entries["incidents"] != entries["finds"]
    # and the two are told apart by shape as well as colour
    assert 'class="minemap-swatch square"' in page and 'class="minemap-swatch point"' in page


def test_tooltip_values_of_a_single_point(page):
    blocks = _blocks(page)
    labels = blocks["incidents"]["c"]
    assert labels == ["Incident", "Date", "Device type", "Killed", "Injured", "Activity"]
    lat, lon, day, values, killed, injured = blocks["incidents"]["f"][3]
    assert dict(zip(labels, values, strict=True)) == {
        "Incident": "I4",
        "Date": "2022-12-31",
        "Device type": "submunition",
        "Killed": "2",
        "Injured": "3",
        "Activity": "herding",
    }
    assert (killed, injured) == (2, 3)
    assert day == (pd.Timestamp("2022-12-31") - pd.Timestamp("1970-01-01")).days
    labels = blocks["finds"]["c"]
    assert labels == ["Find", "Date", "Device type", "Devices", "Release"]
    *_, values, devices = blocks["finds"]["f"][2]
    assert values == ["F3", "2021-02-03", "at_mine", "4", ""] and devices == 4


def test_positions_are_true_longitude_latitude_from_any_crs():
    utm = _incidents().to_crs(32638)
    utm.attrs.update(_incidents().attrs)
    fmap = maps.hazard_map(_hazards(), incidents=utm, tiles=None)
    features = _blocks(maps.map_html(fmap))["incidents"]["f"]
    back = pyproj.Transformer.from_crs(32638, 4326, always_xy=True)
    x, y = shapely.get_x(utm.geometry.array), shapely.get_y(utm.geometry.array)
    lon, lat = back.transform(x, y)
    got = np.array([[f[0], f[1]] for f in features])
    assert np.abs(got[:, 0] - lat).max() <= 0.5e-5 + 1e-12
    assert np.abs(got[:, 1] - lon).max() <= 0.5e-5 + 1e-12
    # and the original points, to a metre
    geod = pyproj.Geod(ellps="WGS84")
    source = _incidents()
    _, _, dist = geod.inv(
        got[:, 1],
        got[:, 0],
        shapely.get_x(source.geometry.array),
        shapely.get_y(source.geometry.array),
    )
    assert dist.max() < 1.0


def test_payloads_are_escaped_and_kept_as_data(page):
    for payload in PAYLOADS:
        assert payload not in page, payload
    assert page.count("<script") == page.count("</script>")
    assert "<img" not in page and "${" not in page
    values = {v for b in _blocks(page).values() if b["t"] == "points" for f in b["f"] for v in f[3]}
    for payload in (PAYLOADS[0], PAYLOADS[1], PAYLOADS[3], PAYLOADS[5]):
        assert payload in values, payload


def test_offline_page_and_point_runtime_have_no_network_reference(page):
    assert "http://" not in page and "https://" not in page and "//" not in page
    assert "<link" not in page and "<script src" not in page
    assert "minemap.setupDates(" in page
    for code in (_points.POINTS_JS, _points.POINTS_CSS):
        for banned in ("//", "`", "innerHTML", "{{", "{%", "{#", "${", "url(", "http"):
            assert banned not in code, banned
    assert "textContent" in _points.POINTS_JS


def test_online_page_loads_nothing_more_than_leaflet():
    sources = re.findall(r'(?:src|href)="(https://[^"]+)"', maps.map_html(evidence_map()))
    assert sources == [
        "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js",
        "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css",
    ]


def test_date_filter_is_labelled_and_spans_every_date(page):
    legend = page[page.index('id="minemap-legend"') :]
    fieldset = legend[legend.index("<fieldset") : legend.index("</fieldset>")]
    assert "<legend>Dates shown</legend>" in fieldset
    inputs = re.findall(
        r'<input type="date" id="([^"]+)" min="([^"]+)" max="([^"]+)" value="([^"]+)"', fieldset
    )
    assert [i[0] for i in inputs] == ["minemap-legend-from", "minemap-legend-to"]
    for input_id, *_ in inputs:
        assert f'<label for="{input_id}">' in fieldset
    # the first incident (2019-03-01) and the last find (2023-01-15); all dates at first
    assert {(i[1], i[2]) for i in inputs} == {("2019-03-01", "2023-01-15")}
    assert [i[3] for i in inputs] == ["2019-03-01", "2023-01-15"]
    assert '<button type="button" id="minemap-legend-all"' in fieldset


def test_maps_without_points_carry_no_point_runtime():
    plain = maps.map_html(maps.hazard_map(_hazards(), tiles=None), offline=True)
    assert "setupDates" not in plain and "minemap-dates" not in plain
    assert "Field evidence" not in plain


def test_same_inputs_give_byte_identical_pages(tmp_path):
    first, second = tmp_path / "a.html", tmp_path / "b.html"
    maps.save_map(evidence_map(), first, offline=True)
    maps.save_map(evidence_map(), second, offline=True)
    assert first.read_bytes() == second.read_bytes()
    fmap = evidence_map()
    fmap._repr_html_()  # a notebook display renders first; the saved page is the same
    assert maps.map_html(fmap, offline=True) == first.read_text(encoding="utf-8")


def test_notebook_output_holds_the_point_layers():
    output = evidence_map()._repr_html_()
    page = html.unescape(re.search(r'srcdoc="([^"]*)"', output).group(1))
    blocks = _blocks(page)
    assert len(blocks["incidents"]["f"]) == 4 and len(blocks["finds"]["f"]) == 6
    assert "minemap.setupDates(" in page


def test_inputs_are_not_modified():
    incidents, finds = _incidents(), _finds()
    before_i, before_f = incidents.copy(), finds.copy()
    maps.hazard_map(_hazards(), incidents=incidents, finds=finds, tiles=None)
    pd.testing.assert_frame_equal(incidents, before_i)
    pd.testing.assert_frame_equal(finds, before_f)
    assert incidents.attrs == {"minemap": "incidents", "source": "incidents.csv"}


def test_public_map_leaves_incidents_and_finds_out():
    fmap = evidence_map(public_grid_m=500)
    page = maps.map_html(fmap, offline=True)
    blocks = _blocks(page)
    assert "incidents" not in blocks and "finds" not in blocks
    assert "setupDates" not in page and "Dates shown" not in page
    for name in ("I1", "I4", "F1", "F5", "herding"):
        assert name not in page
    for x, y in shapely.get_coordinates(_finds().geometry.array):
        assert f"{y:.5f}" not in page and f"{x:.5f},{y:.5f}" not in page
    assert "Incidents and device finds are left out of a public map" in page


def test_undated_points_are_kept_and_noted():
    finds = _finds()
    finds.loc[3, "find_date"] = pd.NaT
    finds.attrs.update(_finds().attrs)
    page = maps.map_html(maps.hazard_map(_hazards(), finds=finds, tiles=None))
    features = _blocks(page)["finds"]["f"]
    assert features[3][2] is None and features[3][3][1] == ""
    assert "1 undated find: shown only while all dates are shown." in page
    # the date range covers the dated finds only
    assert 'min="2021-02-01" max="2023-01-15"' in page


def test_points_without_a_position_or_not_points_are_refused():
    finds = _finds()
    finds.loc[4, "geometry"] = shapely.Point()
    finds.attrs.update(_finds().attrs)
    with pytest.raises(GeometryTypeError, match=r"finds\.csv: features 'F5' have no position"):
        maps.hazard_map(_hazards(), finds=finds, tiles=None)
    incidents = _incidents()
    incidents.loc[0, "geometry"] = shapely.box(LON, LAT, LON + D, LAT + D)
    incidents.attrs.update(_incidents().attrs)
    with pytest.raises(GeometryTypeError, match=r"incidents\.csv: features 'I1' are not points"):
        maps.hazard_map(_hazards(), incidents=incidents, tiles=None)


def test_raw_layers_are_validated_by_the_evidence_readers():
    pytest.importorskip("minemap.io.evidence")
    raw_incidents = gpd.GeoDataFrame(_incidents())
    raw_finds = gpd.GeoDataFrame(_finds())
    raw_incidents.attrs, raw_finds.attrs = {}, {}
    page = maps.map_html(
        maps.hazard_map(_hazards(), incidents=raw_incidents, finds=raw_finds, tiles=None)
    )
    legend = _legend_values(page)
    assert legend["incidents"] == "4 incidents: 3 killed, 6 injured"
    assert legend["finds"] == "16 devices in 6 finds"


def test_legend_texts():
    assert _points.incidents_text(1, 0, 1) == "1 incident: 0 killed, 1 injured"
    assert _points.incidents_text(12_345, 1_000, 0) == "12,345 incidents: 1,000 killed, 0 injured"
    assert _points.finds_text(1, 1) == "1 device in 1 find"
    assert _points.finds_text(3, 0) == "0 devices in 3 finds"


def test_thousands_of_points_stay_small():
    rng = np.random.default_rng(5)
    n = 5000
    finds = gpd.GeoDataFrame(
        {
            "find_id": [f"F{k}" for k in range(n)],
            "find_date": pd.Timestamp("2021-01-01")
            + pd.to_timedelta(rng.integers(0, 900, n), unit="D"),
            "device_type": rng.choice(["ap_mine", "at_mine", "uxo"], n),
            "device_count": rng.integers(1, 4, n).astype("int64"),
            "release_id": [None] * n,
        },
        geometry=gpd.points_from_xy(rng.uniform(LON, LON + 9 * D, n), rng.uniform(LAT, LAT + D, n)),
        crs=4326,
    )
    finds.attrs.update(minemap="finds", source="many.csv")
    start = time.perf_counter()
    with_points = maps.map_html(maps.hazard_map(_hazards(), finds=finds, tiles=None))
    took = time.perf_counter() - start
    without = maps.map_html(maps.hazard_map(_hazards(), tiles=None))
    per_point = (len(with_points) - len(without) - len(_points.POINTS_JS)) / n
    assert per_point < 90, per_point
    assert took < 20
    legend = _legend_values(with_points)
    assert legend["finds"] == f"{int(finds.device_count.sum()):,} devices in 5,000 finds"


# ---------------------------------------------------------------------------- static map
def test_static_map_draws_every_point_with_totals():
    pytest.importorskip("matplotlib")
    incidents, finds = _incidents(), _finds()
    fig = maps.plot_map(_hazards(), incidents=incidents, finds=finds)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "Incidents (4 incidents: 3 killed, 6 injured)" in labels
    assert "Device finds (16 devices in 6 finds)" in labels
    frame = ax.minemap["crs"]
    drawn = [c.get_offsets() for c in ax.collections if len(c.get_offsets()) in (4, 6)]
    to_frame = pyproj.Transformer.from_crs(4326, frame, always_xy=True)
    for gdf in (incidents, finds):
        x, y = to_frame.transform(
            shapely.get_x(gdf.geometry.array), shapely.get_y(gdf.geometry.array)
        )
        expected = np.column_stack([x, y])
        assert any(d.shape == expected.shape and np.allclose(d, expected, atol=0.5) for d in drawn)
    # every point lies inside the view
    xmin, xmax = ax.get_xlim()
    ymin, ymax = ax.get_ylim()
    for d in drawn:
        assert ((d[:, 0] > xmin) & (d[:, 0] < xmax) & (d[:, 1] > ymin) & (d[:, 1] < ymax)).all()
    import matplotlib.pyplot as plt

    plt.close(fig)


# ------------------------------------------------------------------------ in a browser
def _cells(points: list[tuple[float, float]], zoom: int) -> list[tuple[int, int]]:
    """Web Mercator grid cells (the page's clustering) of (lon, lat) points at ``zoom``."""
    size = _points.CLUSTER_PX
    out = []
    for lon, lat in points:
        x = (lon + 180.0) / 360.0 * 256.0 * 2**zoom
        s = math.sin(math.radians(lat))
        y = (128.0 - 64.0 / math.pi * math.log((1 + s) / (1 - s))) * 2**zoom
        out.append((math.floor(x / size), math.floor(y / size)))
    return out


VIEW_ZOOM = 14


def test_fixture_clusters_as_the_browser_tests_expect():
    """At the browser tests' zoom the three close finds share a cell, every other point
    has one of its own."""
    finds = shapely.get_coordinates(_finds().geometry.array).tolist()
    cells = _cells([tuple(p) for p in finds], VIEW_ZOOM)
    assert cells[0] == cells[1] == cells[2]
    assert len(set(cells[2:])) == 4
    incidents = shapely.get_coordinates(_incidents().geometry.array).tolist()
    assert len(set(_cells([tuple(p) for p in incidents], VIEW_ZOOM))) == 4


@pytest.fixture(scope="module")
def driver(tmp_path_factory):
    from _browser import chromium, require_browser

    require_browser()
    chrome = chromium(tmp_path_factory.mktemp("chromium-profile"))
    yield chrome
    chrome.quit()


def _open(chrome, path: Path, timeout: float = 30.0) -> None:
    chrome.get_log("browser")
    chrome.get(path.resolve().as_uri())
    end = time.monotonic() + timeout
    while not chrome.execute_script("return !!(window.minemap && window.minemap.ready)"):
        assert time.monotonic() < end, "the map never finished drawing"
        time.sleep(0.05)


def _errors(chrome) -> list[dict]:
    return [e for e in chrome.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]


@pytest.fixture(scope="module")
def evidence_page(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("evidence") / "evidence.html"
    maps.save_map(evidence_map(), path, offline=True)
    return path


_SHOWN = "return [window.minemap.points.incidents.shown, window.minemap.points.finds.shown]"
_AT_ZOOM = (
    f"""
var map = window.minemap.map;
map.setView([{LAT + 0.4 * D}, {LON + 4.0 * D}], {VIEW_ZOOM}, {{animate: false}});
"""
    + _SHOWN
)


def _legend_text(chrome, key: str) -> str:
    return chrome.execute_script(
        "return document.querySelector('#minemap-legend tr[data-layer=\"' + arguments[0] + "
        "'\"] td.ha').textContent",
        key,
    )


def _labels(chrome) -> list[str]:
    return chrome.execute_script(
        "return Array.from(document.querySelectorAll('.minemap-cluster'))"
        ".map(function (e) { return e.textContent; }).sort()"
    )


@pytest.mark.browser
def test_browser_clusters_render_and_follow_the_date_filter(driver, evidence_page):
    from selenium.webdriver.common.keys import Keys

    _open(driver, evidence_page)
    assert _errors(driver) == []
    assert driver.execute_script("return window.minemap.drawn.incidents") == 4
    assert driver.execute_script("return window.minemap.drawn.finds") == 6
    # the view was fitted to the data: every point inside it, zoomed in past the start
    inside = driver.execute_script("""
        var map = window.minemap.map, b = map.getBounds(), out = true;
        ["incidents", "finds"].forEach(function (name) {
          var p = window.minemap.points[name];
          for (var i = 0; i < p.n; i++) { out = out && b.contains([p.lat[i], p.lng[i]]); }
        });
        return [out, map.getZoom()];""")
    assert inside[0] is True and inside[1] > 10
    # the legend's figures are the ones the page computes: the same text as Python's
    assert _legend_text(driver, "incidents") == "4 incidents: 3 killed, 6 injured"
    assert _legend_text(driver, "finds") == "16 devices in 6 finds"

    incidents, finds = driver.execute_script(_AT_ZOOM)
    assert incidents == {"markers": 4, "clusters": 0, "points": 4}
    assert finds == {"markers": 3, "clusters": 1, "points": 6}
    assert _labels(driver) == ["9"]  # devices of F1, F2 and F3
    assert driver.execute_script("return document.querySelectorAll('.minemap-point').length") == 7

    # 2021 and 2022 only: I3, I4; the close finds and F5
    driver.execute_script("""
        var from = document.getElementById("minemap-legend-from");
        var to = document.getElementById("minemap-legend-to");
        from.value = "2021-01-01"; to.value = "2022-12-31";
        from.dispatchEvent(new Event("change")); to.dispatchEvent(new Event("change"));""")
    incidents, finds = driver.execute_script(_SHOWN)
    assert incidents == {"markers": 2, "clusters": 0, "points": 2}
    assert finds == {"markers": 1, "clusters": 1, "points": 4}
    assert _legend_text(driver, "incidents") == "2 incidents: 2 killed, 4 injured"
    assert _legend_text(driver, "finds") == "9 devices in 4 finds"
    assert _labels(driver) == ["9"]

    # from 2021-02-02: F1 leaves the cluster, whose count follows
    driver.execute_script("""
        var from = document.getElementById("minemap-legend-from");
        from.value = "2021-02-02"; from.dispatchEvent(new Event("input"));""")
    assert driver.execute_script(_SHOWN)[1] == {"markers": 1, "clusters": 1, "points": 3}
    assert _labels(driver) == ["7"]
    assert _legend_text(driver, "finds") == "7 devices in 3 finds"

    # the inputs are labelled and in the tab order; "All dates" works from the keyboard
    labelled = driver.execute_script("""
        return ["from", "to"].map(function (end) {
          var input = document.getElementById("minemap-legend-" + end);
          return [input.labels.length, input.labels[0].textContent, input.tabIndex];
        });""")
    assert labelled == [[1, "From", 0], [1, "To", 0]]
    button = driver.find_element("id", "minemap-legend-all")
    button.send_keys(Keys.ENTER)
    incidents, finds = driver.execute_script(_SHOWN)
    assert incidents["points"] == 4 and finds["points"] == 6
    assert _legend_text(driver, "finds") == "16 devices in 6 finds"
    assert driver.find_element("id", "minemap-legend-from").get_attribute("value") == "2019-03-01"

    # Enter on the focused cluster (as a click) zooms in until its finds stand apart
    driver.execute_script(_AT_ZOOM)
    cluster = driver.find_element("css selector", ".leaflet-marker-icon .minemap-cluster")
    icon = cluster.find_element("xpath", "..")
    assert icon.get_attribute("tabindex") == "0"
    icon.send_keys(Keys.ENTER)
    finds = driver.execute_script(_SHOWN)[1]
    assert finds == {"markers": 3, "clusters": 0, "points": 3}
    assert driver.execute_script("return window.minemap.map.getZoom()") == _points.CLUSTER_MAX_ZOOM
    # switched off in the layer control, a layer's markers leave the page
    driver.execute_script("window.minemap.map.removeLayer(window.minemap.layers.finds)")
    assert driver.execute_script("return document.querySelectorAll('.minemap-circle').length") == 0
    assert driver.execute_script(_AT_ZOOM)[1] == {"markers": 0, "clusters": 0, "points": 0}
    # and come back, clustered for the view they come back to
    driver.execute_script("window.minemap.map.addLayer(window.minemap.layers.finds)")
    assert driver.execute_script(_SHOWN)[1] == {"markers": 3, "clusters": 1, "points": 6}
    assert _errors(driver) == []


@pytest.mark.browser
def test_browser_tooltips_show_hostile_values_as_text(driver, evidence_page):
    _open(driver, evidence_page)
    driver.execute_script(_AT_ZOOM)
    texts = driver.execute_script("""
        var out = [];
        ["incidents", "finds"].forEach(function (name) {
          window.minemap.points[name].group.eachLayer(function (marker) {
            marker.openTooltip();
            out.push(marker.getTooltip().getElement().textContent);
            marker.closeTooltip();
          });
        });
        return out;""")
    text = "\n".join(texts)
    for payload in (PAYLOADS[0], PAYLOADS[1], PAYLOADS[3], PAYLOADS[5]):
        assert payload in text, payload
    # the cluster's tooltip: totals and its three finds
    assert "Finds3Devices9Dates2021-02-01 to 2021-02-03" in text
    assert "F12021-02-01, ap_mine, 2" in text
    assert "Killed2Injured3Activityherding" in text
    assert driver.execute_script("return window.__alerts") == []
    assert driver.execute_script("return document.querySelectorAll('img, script[src]').length") == 0
    assert [e for e in driver.get_log("browser") if e["level"] == "SEVERE"] == []


@pytest.mark.browser
def test_browser_thousands_of_finds_draw_as_few_clusters(driver, tmp_path):
    rng = np.random.default_rng(11)
    n = 3000
    finds = gpd.GeoDataFrame(
        {
            "find_id": [f"F{k}" for k in range(n)],
            "find_date": pd.Timestamp("2021-01-01")
            + pd.to_timedelta(rng.integers(0, 700, n), unit="D"),
            "device_type": rng.choice(["ap_mine", "uxo"], n),
            "device_count": np.ones(n, dtype="int64"),
            "release_id": [None] * n,
        },
        geometry=gpd.points_from_xy(rng.uniform(LON, LON + 9 * D, n), rng.uniform(LAT, LAT + D, n)),
        crs=4326,
    )
    finds.attrs.update(minemap="finds", source="many.csv")
    path = tmp_path / "many.html"
    maps.save_map(maps.hazard_map(_hazards(), finds=finds, tiles=None), path, offline=True)
    _open(driver, path)
    assert _errors(driver) == []
    shown = driver.execute_script("return window.minemap.points.finds.shown")
    assert shown["points"] == n
    assert shown["markers"] + shown["clusters"] < 300
    labels = [int(t.replace(",", "")) for t in _labels(driver)]
    singles = shown["markers"]
    assert sum(labels) + singles == n  # one device per find: the labels add up


@pytest.mark.browser
def test_browser_map_shown_late_fits_its_view_once_it_has_a_size(driver, evidence_page):
    """A map whose frame has no size when it opens (a hidden tab, a frame not laid out yet)
    fits its view when the frame gets one, instead of breaking on a zoom of NaN."""
    parent = evidence_page.parent / "hidden.html"
    parent.write_text(
        f'<!DOCTYPE html><iframe id="f" src="{evidence_page.name}" '
        'style="display:none;width:900px;height:600px"></iframe>',
        encoding="utf-8",
    )
    driver.get(parent.resolve().as_uri())
    frame = driver.find_element("id", "f")
    driver.switch_to.frame(frame)
    end = time.monotonic() + 30  # a hidden frame gets no animation frames: no "ready"
    while not driver.execute_script("return !!(window.minemap && window.minemap.points)"):
        assert time.monotonic() < end, "the map never started"
        time.sleep(0.05)
    time.sleep(0.2)
    assert driver.execute_script("return window.minemap.map.getSize().x") == 0
    assert driver.execute_script("return window.minemap.map.getZoom()") == 10
    driver.switch_to.default_content()
    driver.execute_script("document.getElementById('f').style.display = 'block'")
    driver.switch_to.frame(frame)
    end = time.monotonic() + 10
    while not driver.execute_script("return window.minemap.map.getSize().x > 0"):
        assert time.monotonic() < end, "the frame never got its size"
        time.sleep(0.05)
    time.sleep(0.2)
    zoom, inside = driver.execute_script("""
        var map = window.minemap.map, b = map.getBounds(), out = true;
        var p = window.minemap.points.finds;
        for (var i = 0; i < p.n; i++) { out = out && b.contains([p.lat[i], p.lng[i]]); }
        return [map.getZoom(), out];""")
    assert zoom is not None and zoom > 10 and inside is True
    assert [e for e in driver.get_log("browser") if e["level"] == "SEVERE"] == []
    driver.switch_to.default_content()
