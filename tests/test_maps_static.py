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
    return plot_map(
        _hazards(),
        _releases(),
        roads=_roads(),
        infrastructure=_infrastructure(),
        residential=_residential(),
        districts=_districts(),
        title="Report map",
    )


def test_legend_palette_and_hectares(figure):
    legend = figure.axes[0].get_legend()
    labels = [t.get_text() for t in legend.get_texts()]
    colours = {
        t.get_text().split(":")[0]: to_hex(h.get_facecolor()).upper()
        for t, h in zip(legend.get_texts(), legend.legend_handles, strict=True)
        if hasattr(h, "get_facecolor")
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        table = land_release_summary(_hazards(), _releases()).set_index("threat_level")
    for level, label in (
        ("high", "High threat"),
        ("medium", "Medium threat"),
        ("low", "Low threat"),
    ):
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


@pytest.mark.parametrize("figsize", [(10, 8), (6, 6), (4, 6), (9, 4)])
def test_legend_stays_inside_the_figure(figsize):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = plot_map(
        _hazards(),
        _releases(),
        roads=_roads(),
        infrastructure=_infrastructure(),
        residential=_residential(),
        districts=_districts(),
        title="Report map",
        figsize=figsize,
    )
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    box = fig.axes[0].get_legend().get_window_extent(canvas.get_renderer())
    assert box.x0 >= 0 and box.y0 >= 0
    assert box.x1 <= fig.bbox.x1 and box.y1 <= fig.bbox.y1
    # and the legend does not squeeze the map (this data is a wide strip)
    map_box = fig.axes[0].get_window_extent(canvas.get_renderer())
    assert map_box.width >= 0.5 * fig.bbox.width


def test_legend_inside_given_axes_without_layout_engine():
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 5))
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    plot_map(_hazards(), _releases(), roads=_roads(), ax=ax)
    canvas.draw()
    box = ax.get_legend().get_window_extent(canvas.get_renderer())
    assert fig.bbox.x0 <= box.x0 and box.x1 <= fig.bbox.x1
    assert fig.bbox.y0 <= box.y0 and box.y1 <= fig.bbox.y1


def test_legend_lists_classes_in_the_html_order(figure):
    labels = [t.get_text().split(":")[0] for t in figure.axes[0].get_legend().get_texts()]
    assert labels == [
        "High threat",
        "Medium threat",
        "Low threat",
        "Remaining hazard",
        "Cleared",
        "Reduced (technical survey)",
        "Cancelled (non-technical survey)",
        "Roads",
        "Infrastructure",
        "Residential areas",
        "District boundaries",
    ]
