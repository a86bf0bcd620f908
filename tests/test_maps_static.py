"""Tests of minemap.static_map.plot_map."""

from __future__ import annotations

import warnings

import pytest
from matplotlib.colors import to_hex
from test_maps_interactive import (
    _districts,
    _hazards,
    _infrastructure,
    _releases,
    _residential,
    _roads,
)

from minemap._errors import DataWarning
from minemap.maps import plot_map
from minemap.settings import METHOD_COLOURS, THREAT_COLOURS
from minemap.stats import land_release_summary


@pytest.fixture(scope="module")
def figure():
    return plot_map(_hazards(), _releases(), roads=_roads(), infrastructure=_infrastructure(),
                    residential=_residential(), districts=_districts(), title="Report map")


def test_legend_palette_and_hectares(figure):
    legend = figure.axes[0].get_legend()
    labels = [t.get_text() for t in legend.get_texts()]
    colours = {t.get_text().split(":")[0]: to_hex(h.get_facecolor()).upper()
               for t, h in zip(legend.get_texts(), legend.legend_handles, strict=True)
               if hasattr(h, "get_facecolor")}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        table = land_release_summary(_hazards(), _releases()).set_index("threat_level")
    for level, label in (("high", "High threat"), ("medium", "Medium threat"),
                         ("low", "Low threat")):
        assert f"{label}: {table.loc[level, 'hazard_ha']:,.2f} ha" in labels
        assert colours[label] == THREAT_COLOURS[level]
    assert colours["Cleared"] == METHOD_COLOURS["cleared"]
    assert any(t.startswith("Remaining hazard:") for t in labels)
    assert {"Roads", "Infrastructure", "Residential areas", "District boundaries"} <= set(labels)


def test_scale_bar_north_arrow_and_title(figure):
    ax = figure.axes[0]
    texts = [t.get_text() for t in ax.texts]
    assert "N" in texts
    assert any(t.endswith(" km") or t.endswith(" m") for t in texts)
    assert ax.get_title() == "Report map"
    assert ax.get_aspect() == 1.0


def test_saves_as_pdf(figure, tmp_path):
    out = tmp_path / "map.pdf"
    figure.savefig(out)
    assert out.read_bytes().startswith(b"%PDF")
