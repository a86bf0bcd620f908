"""Tables as a planner reads them (minemap._display)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from minemap._display import HectareTable, column_label, format_value, hectare_table, table_html


def test_values_are_formatted_by_their_unit():
    assert format_value("hazard_ha", 147_988) == "147,988.0"
    assert format_value("cleared_ha", 74_644.84) == "74,644.8"
    assert format_value("percent_released", 47.6222) == "47.6"
    assert format_value("distance_m", 1234.5) == "1,234"
    assert format_value("population", 3738.37) == "3,738"
    assert format_value("rank", np.int64(12)) == "12"
    assert format_value("priority_score", 0.74431) == "0.744"
    assert format_value("release_date", pd.Timestamp("2025-12-31")) == "2025-12-31"
    assert format_value("start", dt.date(2026, 1, 1)) == "2026-01-01"
    assert format_value("hazard_ha", float("nan")) == ""
    assert format_value("hazard_ha", None) == ""
    assert format_value("ok", True) == "yes"


def test_headers_are_words():
    assert column_label("percent_cleared") == "% cleared"
    assert column_label("released_outside_hazards_ha") == "released outside hazards (ha)"
    assert column_label("nearest_feature_m") == "nearest feature (m)"


def test_every_text_is_escaped_and_geometry_left_out():
    frame = pd.DataFrame(
        {"hazard_id": ["<img src=x onerror=alert(1)>"], "hazard_ha": [1.0], "geometry": [None]}
    )
    page = table_html(frame, caption="<b>c</b>", labels=True)
    assert "<img" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<caption>&lt;b&gt;c&lt;/b&gt;</caption>" in page
    assert "geometry" not in page
    assert '<th class="num">hazard (ha)</th>' in page


def test_a_hectare_table_is_a_dataframe_that_shows_itself_formatted():
    frame = pd.DataFrame({"threat_level": ["high", "low"], "hazard_ha": [1500.04, 2.0]})
    frame.attrs["as_of"] = "2025-12-31"
    table = hectare_table(frame, caption="Land release")
    assert isinstance(table, HectareTable) and table.attrs["as_of"] == "2025-12-31"
    assert "<caption>Land release</caption>" in table._repr_html_()
    assert '<td class="num">1,500.0</td>' in table._repr_html_()
    assert table.hazard_ha.sum() == 1502.04
    assert type(table[table.hazard_ha > 10]) is pd.DataFrame
    assert frame.attrs == {"as_of": "2025-12-31"}  # the input is not changed
