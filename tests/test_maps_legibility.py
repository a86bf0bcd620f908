"""Legibility of the HTML map: symbols, order, tooltips and styles a GIS officer reads."""

from __future__ import annotations

import re

from test_maps_interactive import _data_blocks, full_map

from minemap import maps
from minemap.maps._data import LEGEND_ORDER


def _page() -> str:
    return maps.map_html(full_map(), offline=True)


def _legend(page: str) -> str:
    start = page.index('<div id="minemap-legend"')
    return page[start : page.index("</div></div>", start)]


def _legend_rows(page: str) -> dict[str, str]:
    """Legend entry key -> its symbol (the SVG markup)."""
    return dict(
        re.findall(
            r'data-layer="([^"]+)" data-colour="#[0-9A-F]{6}"><td>(<svg.*?</svg>)', _legend(page)
        )
    )


def test_remaining_and_districts_have_different_symbols():
    rows = _legend_rows(_page())
    assert rows["remaining"] != rows["districts"]
    assert "<rect" in rows["remaining"] and "<line" in rows["districts"]
    dash = re.compile(r'stroke-dasharray="([^"]+)"')
    assert dash.search(rows["remaining"]).group(1) != dash.search(rows["districts"]).group(1)
    # every class has its own symbol
    assert len(set(rows.values())) == len(rows)


def test_legend_and_layer_control_list_classes_in_one_order():
    page = _page()
    legend = list(_legend_rows(page))
    control = re.findall(r'\\u003c/svg\\u003e ([^"]+)" : feature_group', page)
    labels = {
        "hazard-high": "Hazard: high threat",
        "hazard-medium": "Hazard: medium threat",
        "hazard-low": "Hazard: low threat",
        "remaining": "Remaining hazard",
        "released-cleared": "Released: cleared",
        "released-reduced": "Released: reduced",
        "released-cancelled": "Released: cancelled",
        "priority": "Priority zones",
        "roads": "Roads",
        "infrastructure": "Infrastructure",
        "residential": "Residential areas",
        "districts": "District boundaries",
    }
    assert [labels[k] for k in legend] == control
    assert legend == sorted(legend, key=LEGEND_ORDER.index)


def test_legend_has_a_keyboard_button_to_collapse_it():
    legend = _legend(_page())
    button = re.search(r"<button ([^>]*)>Hide legend</button>", legend)
    assert button, legend[:300]
    assert 'type="button"' in button.group(1)
    assert 'aria-expanded="true"' in button.group(1)
    assert 'aria-controls="minemap-legend-body"' in button.group(1)
    assert 'id="minemap-legend-body"' in legend


def test_id_cells_are_flagged_and_never_wrap():
    blocks = _data_blocks(_page())
    hazard_rows = blocks["hazard-high"][0]["f"][0][1]
    assert hazard_rows[0][:2] == ["Hazard", hazard_rows[0][1]] and hazard_rows[0][2] == 1
    assert all(len(row) == 2 for row in hazard_rows[1:])  # area, threat level: not ids
    release_rows = blocks["released-cleared"][0]["f"][0][1]
    assert release_rows[0][0] == "Release" and release_rows[0][2] == 1
    priority_rows = {row[0]: row for row in blocks["priority"][0]["f"][0][1]}
    assert priority_rows["hazard_id"][2] == 1
    css = maps.interactive._html.RUNTIME_CSS
    assert re.search(
        r"table\.minemap-tip th, table\.minemap-tip td \{ white-space: nowrap; \}", css
    )
    assert 'td.className = "id"' in maps.interactive._html.RUNTIME_JS


def test_released_fills_stand_apart_from_residential_and_priority_over_high():
    styles = {name: blocks[0]["s"] for name, blocks in _data_blocks(_page()).items()}
    residential = styles["residential"]
    for method in ("cleared", "reduced", "cancelled"):
        released = styles[f"released-{method}"]
        assert released["fillOpacity"] >= 0.8 > residential["fillOpacity"] * 2
        assert released["fillColor"] != residential["fillColor"]
    high, priority = styles["hazard-high"], styles["priority"]
    assert priority["weight"] >= 1.5 * high["weight"]
    assert priority["color"] not in (high["color"], high["fillColor"])
    assert priority["fillOpacity"] < 0.2  # the threat colour under a zone stays readable
