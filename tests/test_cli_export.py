"""Tests of the ``minemap export`` command (minemap.cli.export)."""

from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
import pandas as pd
import pyogrio
import pytest

import minemap
from minemap.cli.main import run
from minemap.io import read_hazards, read_releases
from minemap.io.postgis import PostGIS, read_postgis


@pytest.fixture(scope="module")
def expected(sample_data: Path) -> dict[str, Any]:
    """The figures of the sample files, computed with the library (not the command)."""
    hazards = read_hazards(sample_data / "hazards.geojson")
    releases = read_releases(sample_data / "releases.geojson")
    roads = minemap.read_features(sample_data / "roads.geojson", kind="roads")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", minemap.DataWarning)
        return {
            "summary": minemap.land_release_summary(hazards, releases),
            "priority_zones": minemap.priority_zones(hazards, releases, roads=roads),
            "ranking": minemap.rank_hazards(hazards, releases, roads=roads),
        }


def _argv(sample_data: Path, to: str, *extra: str) -> list[str]:
    return [
        "export",
        str(sample_data / "hazards.geojson"),
        "--released",
        str(sample_data / "releases.geojson"),
        "--roads",
        str(sample_data / "roads.geojson"),
        "--to",
        to,
        *extra,
    ]


def _assert_figures(read: pd.DataFrame, frame: pd.DataFrame) -> None:
    assert len(read) == len(frame)
    for column in [c for c in frame.columns if c != "geometry"]:
        if pd.api.types.is_numeric_dtype(frame[column]):
            np.testing.assert_allclose(
                read[column].astype(float).to_numpy(), frame[column].astype(float).to_numpy()
            )
        else:
            assert read[column].astype(str).tolist() == frame[column].astype(str).tolist()


def test_export_to_geopackage(
    sample_data: Path, expected: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "results.gpkg"
    assert run(_argv(sample_data, str(target), "--run", "May 2026", "-q")) == 0
    out = capsys.readouterr().out
    for result, frame in expected.items():
        table = f"may_2026_{result}"
        assert f"{table}: {len(frame):,} rows" in out
        _assert_figures(pyogrio.read_dataframe(target, layer=table), frame)
    runs = pyogrio.read_dataframe(target, layer="minemap_runs")
    assert runs["run_name"].tolist() == ["May 2026"]
    inputs = json.loads(runs["inputs"].iloc[0])
    for name in ("hazards.geojson", "releases.geojson", "roads.geojson"):
        path = sample_data / name
        assert inputs[str(path)]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    parameters = json.loads(runs["parameters"].iloc[0])
    assert parameters["weights"] == expected["ranking"].attrs["weights"]
    assert parameters["distances_m"] == expected["priority_zones"].attrs["distances_m"]


def test_export_without_features_writes_summary_and_ranking(
    sample_data: Path, expected: dict[str, Any], tmp_path: Path
) -> None:
    target = tmp_path / "results.gpkg"
    argv = ["export", str(sample_data / "hazards.geojson"), "--to", str(target), "-q"]
    assert run(argv) == 0
    assert sorted(pyogrio.list_layers(target)[:, 0]) == [
        "minemap_ranking",
        "minemap_runs",
        "minemap_summary",
    ]
    hazards = read_hazards(sample_data / "hazards.geojson")
    summary = minemap.land_release_summary(hazards)
    _assert_figures(pyogrio.read_dataframe(target, layer="minemap_summary"), summary)
    assert run([*argv, "--keep"]) == 2


@pytest.mark.parametrize(
    ("to", "extra", "message"),
    [
        ("results.csv", [], "--to writes .gpkg"),
        ("INPUT", [], "--to is also an input"),
        ("results.gpkg", ["--run", "';--"], "--run: the run name"),
    ],
)
def test_bad_targets_exit_2_with_one_line(
    sample_data: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    to: str,
    extra: list[str],
    message: str,
) -> None:
    target = str(sample_data / "releases.geojson") if to == "INPUT" else str(tmp_path / to)
    before = (sample_data / "releases.geojson").read_bytes()
    assert run([*_argv(sample_data, target), *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert (sample_data / "releases.geojson").read_bytes() == before
    assert list(tmp_path.iterdir()) == []


def test_export_to_postgis(
    postgis: Any, sample_data: Path, expected: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    from _postgis import PASSWORD

    url = postgis.url + "?schema=cli_export"
    assert run(_argv(sample_data, url, "--run", "cli", "-q")) == 0
    out, err = capsys.readouterr()
    for text in (PASSWORD, quote(PASSWORD, safe="")):
        assert text not in out and text not in err
    assert postgis.url_without_password in out
    zones, _ = read_postgis(PostGIS(postgis.url, table="cli_export.cli_priority_zones"))
    _assert_figures(zones, expected["priority_zones"])
    ranking, _ = read_postgis(PostGIS(postgis.url, table="cli_export.cli_ranking"))
    _assert_figures(ranking, expected["ranking"])
    assert run(_argv(sample_data, url, "--run", "cli", "--keep", "-q")) == 2
    assert "replace=True" in capsys.readouterr().err


def test_export_wrong_password_says_so_without_the_password(
    postgis: Any,
    sample_data: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from _postgis import PASSWORD, wrong_logins

    secret = "n0t-the-'pw\"; --"
    for url in wrong_logins(postgis, monkeypatch, secret):
        assert run(_argv(sample_data, url + "?schema=cli_denied")) == 2
        out, err = capsys.readouterr()
        assert out == ""
        assert len(err.strip().splitlines()) == 1 and "password" in err
        for text in (secret, quote(secret, safe=""), PASSWORD, quote(PASSWORD, safe="")):
            assert text not in err
