"""Tests of minemap.plots.plot_progress."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from matplotlib.figure import Figure
from shapely import box

import minemap

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def progress() -> pd.DataFrame:
    hz = gpd.GeoDataFrame(
        {"hazard_id": ["H1"], "threat_level": ["high"]},
        geometry=[box(46.0, 39.0, 46.04, 39.02)],
        crs=4326,
    )
    rl = gpd.GeoDataFrame(
        {
            "release_id": ["R1", "R2", "R3"],
            "method": ["reduced", "cleared", "cancelled"],
            "release_date": ["2021-01-10", "2021-04-10", "2021-08-10"],
        },
        geometry=[
            box(46.0, 39.0, 46.02, 39.02),
            box(46.0, 39.0, 46.01, 39.02),
            box(46.03, 39.0, 46.04, 39.02),
        ],
        crs=4326,
    )
    return minemap.progress_over_time(hz, rl, freq="Q")


def test_plot_progress_returns_figure_with_two_axes(progress):
    fig = minemap.plot_progress(progress)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 2
    left, right = fig.axes
    assert right.get_ylim() == (0.0, 100.0)
    assert "%" in right.get_ylabel()
    assert "ha" in left.get_ylabel()
    assert "Land release over time" in left.get_title()
    labels = [t.get_text() for t in left.get_legend().get_texts()]
    assert labels[:1] == ["cleared"] and any("%" in label for label in labels)


def test_plot_progress_saves_png(progress, tmp_path):
    fig = minemap.plot_progress(progress, title="Progress, district A")
    assert fig.axes[0].get_title() == "Progress, district A"
    path = tmp_path / "progress.png"
    fig.savefig(path, dpi=80)
    data = path.read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 2_000


def test_plot_progress_on_given_axes(progress):
    fig = Figure()
    ax = fig.add_subplot()
    assert minemap.plot_progress(progress, ax=ax) is fig
    assert len(fig.axes) == 2


def test_plot_progress_does_not_modify_input(progress):
    keep = progress.copy()
    minemap.plot_progress(progress)
    pd.testing.assert_frame_equal(progress, keep)
