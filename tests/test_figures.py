"""Charts and static maps show themselves in Jupyter (minemap._figures)."""

from __future__ import annotations

import warnings

import pytest

import minemap
from minemap._figures import new_figure


@pytest.fixture
def shell(monkeypatch):
    """An IPython shell as a kernel runs one, with pyplot's inline backend never loaded."""
    interactiveshell = pytest.importorskip("IPython.core.interactiveshell")
    # run by another environment's Python (as CI's oldest-dependencies job is), IPython
    # warns that VIRTUAL_ENV is not its own; a kernel has its own environment
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    shell = interactiveshell.InteractiveShell.instance()
    yield shell
    interactiveshell.InteractiveShell.clear_instance()


def _png(shell, value) -> bytes | None:
    data, _ = shell.display_formatter.format(value)
    return data.get("image/png")


def test_a_chart_is_an_image_in_a_notebook(shell, sample_data):
    from matplotlib.figure import Figure

    formatter = shell.display_formatter.formatters["image/png"]
    assert Figure not in formatter.type_printers  # nothing would show it before
    hazards = minemap.read_hazards(sample_data / "hazards.geojson")
    releases = minemap.read_releases(sample_data / "releases.geojson")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"37\.05 ha of recorded release")
        progress = minemap.progress_over_time(hazards, releases, freq="YE")
        chart = minemap.plot_progress(progress)
        static = minemap.plot_map(hazards.head(20))
    for fig in (chart, static):
        assert _png(shell, fig).startswith(b"\x89PNG")


def test_no_shell_no_registration():
    fig = new_figure(figsize=(2, 2))
    assert fig.get_size_inches().tolist() == [2.0, 2.0]  # and nothing else happened
