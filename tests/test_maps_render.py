"""Tests of minemap.maps._page: a map renders the same every time, and in a notebook."""

from __future__ import annotations

import html
import re

import folium
import pytest
from test_maps_interactive import _data_blocks, _hazards, full_map

from minemap import maps
from minemap._errors import SchemaError
from minemap.maps import settings

_LAYERS = 12  # layers of full_map()


def _srcdoc(output: str) -> str:
    """The page inside a notebook output's ``<iframe srcdoc>``."""
    match = re.search(r'srcdoc="([^"]*)"', output)
    assert match, output[:200]
    return html.unescape(match.group(1))


def _add_statements(page: str) -> list[str]:
    return re.findall(r"(\w+)\.addTo\((map_\d+)\)", page)


@pytest.mark.parametrize("offline", [False, True])
def test_notebook_display_then_save_gives_the_fresh_page(offline):
    fresh = maps.map_html(full_map(), offline=offline)
    fmap = full_map()
    fmap._repr_html_()
    again = maps.map_html(fmap, offline=offline)
    assert again == fresh
    assert maps.map_html(fmap, offline=offline) == fresh
    # every feature group is created once and added once; no stale names
    created = re.findall(r"var (feature_group_\d+) = L\.featureGroup", again)
    added = [name for name, _ in _add_statements(again)]
    assert len(created) == _LAYERS and sorted(added) == sorted(created)


def test_renders_in_any_order_give_identical_bytes(tmp_path):
    fmap = full_map(tiles="OpenStreetMap")
    online = maps.map_html(fmap)
    offline = maps.map_html(fmap, offline=True)
    first = fmap._repr_html_()
    maps.save_map(fmap, tmp_path / "a.html", offline=True)
    assert maps.map_html(fmap) == online
    assert fmap._repr_html_() == first
    fmap.save(str(tmp_path / "folium.html"))  # folium's own save renders the same way
    assert (tmp_path / "folium.html").read_text(encoding="utf-8") == online
    maps.save_map(fmap, tmp_path / "b.html", offline=True)
    assert (tmp_path / "a.html").read_bytes() == (tmp_path / "b.html").read_bytes()
    assert (tmp_path / "a.html").read_text(encoding="utf-8") == offline
    assert set(_data_blocks(offline)) == set(_data_blocks(online))


def test_elements_added_after_a_render_are_kept():
    fmap = maps.hazard_map(_hazards(), tiles=None)
    maps.map_html(fmap)
    folium.Marker([39.0, 46.0]).add_to(fmap)
    page = maps.map_html(fmap)
    assert page.count("L.marker(") == 1
    assert maps.map_html(fmap) == page


def test_plain_folium_map_renders_twice_the_same():
    fmap = folium.Map(location=[39.0, 46.0], tiles=None)
    folium.FeatureGroup(name="a").add_to(fmap)
    folium.FeatureGroup(name="b").add_to(fmap)
    fmap.get_root().render()  # rendered by folium before minemap sees it
    first = maps.map_html(fmap)
    assert maps.map_html(fmap) == first
    created = re.findall(r"var (feature_group_\w+) = L\.featureGroup", first)
    assert sorted(name for name, _ in _add_statements(first)) == sorted(created)


def test_notebook_output_carries_leaflet_by_default():
    assert settings.notebook == "inline"
    output = maps.hazard_map(_hazards(), tiles=None)._repr_html_()
    assert output.startswith("<div") and "<iframe srcdoc=" in output
    page = _srcdoc(output)
    assert "L.map(" in page and "Leaflet 1.9" in page
    assert "<script src" not in page and "<link" not in page
    assert "http://" not in page and "https://" not in page and "//" not in page


def test_notebook_keeps_web_tiles_unless_offline(monkeypatch):
    fmap = maps.hazard_map(_hazards(), tiles="OpenStreetMap")
    page = _srcdoc(fmap._repr_html_())
    assert "tile.openstreetmap.org" in page  # a basemap where there is a network
    assert not re.search(r'<(?:script|link)[^>]+(?:src|href)="[^"]*//', page)
    fmap.notebook = "offline"
    page = _srcdoc(fmap._repr_html_())
    assert page == maps.map_html(fmap, offline=True)
    assert "//" not in page
    fmap.notebook = None
    monkeypatch.setattr(settings, "notebook", "cdn")
    page = _srcdoc(fmap._repr_html_())
    assert page == maps.map_html(fmap)
    assert '<script src="https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js">' in page


def test_notebook_mode_is_checked(monkeypatch):
    fmap = maps.hazard_map(_hazards(), tiles=None)
    fmap.notebook = "web"
    with pytest.raises(SchemaError, match="notebook='web'"):
        fmap._repr_html_()
