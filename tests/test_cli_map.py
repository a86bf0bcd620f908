"""Tests of the ``minemap map`` command."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from test_maps_interactive import _data_blocks, _districts, _hazards, _releases, _roads

from minemap.cli import run


@pytest.fixture()
def files(tmp_path):
    paths = {}
    for name, layer in (
        ("hazards", _hazards()),
        ("releases", _releases()),
        ("roads", _roads()),
        ("districts", _districts()),
    ):
        paths[name] = tmp_path / f"{name}.geojson"
        layer.to_file(paths[name], driver="GeoJSON")
    return paths


def test_map_command_writes_offline_html(files, tmp_path, capsys):
    out = tmp_path / "map.html"
    status = run(
        [
            "map",
            str(files["hazards"]),
            "--released",
            str(files["releases"]),
            "--roads",
            str(files["roads"]),
            "--districts",
            str(files["districts"]),
            "-o",
            str(out),
            "--offline",
            "--title",
            "Field <team> map",
        ]
    )
    assert status == 0
    page = out.read_text(encoding="utf-8")
    assert "//" not in page
    assert "Field &lt;team&gt; map" in page
    assert "minemap.addLayer" in page and "district" in page
    err = capsys.readouterr().err
    assert "outside every hazard" in err or err == "" or "warning" in err


def test_map_command_public_grid(files, tmp_path):
    out = tmp_path / "public.html"
    assert (
        run(
            [
                "map",
                str(files["hazards"]),
                "--released",
                str(files["releases"]),
                "-o",
                str(out),
                "--offline",
                "--public-grid",
                "500",
            ]
        )
        == 0
    )
    page = out.read_text(encoding="utf-8")
    assert '"n":"grid-high"' in page and '"n":"hazard-high"' not in page


def test_map_command_online_default_has_basemap(files, tmp_path):
    out = tmp_path / "online.html"
    assert run(["map", str(files["hazards"]), "-o", str(out)]) == 0
    assert "tile.openstreetmap.org" in out.read_text(encoding="utf-8")


def test_map_command_errors_are_one_line(files, tmp_path, capsys):
    status = run(["map", str(tmp_path / "missing.gpkg"), "-o", str(tmp_path / "m.html")])
    assert status == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("minemap: error:")
    status = run(["map", str(files["hazards"]), "-o", str(tmp_path / "no" / "m.html")])
    assert status == 2
    assert not (tmp_path / "no").exists()


def test_local_tiles_without_attribution_get_a_default(files, tmp_path, capsys):
    out = tmp_path / "map.html"
    status = run(["map", str(files["hazards"]), "--tiles", "tiles/{z}/{x}/{y}.png", "-o", str(out)])
    assert status == 0, capsys.readouterr().err
    assert "--attribution" in out.read_text(encoding="utf-8")


OSM_SAMPLE = Path(pyogrio.__file__).parent / "tests" / "fixtures" / "sample.osm.pbf"


@pytest.mark.skipif(not OSM_SAMPLE.exists(), reason="pyogrio wheel ships no sample.osm.pbf")
def test_map_reads_openstreetmap_with_the_same_filters_as_priority(tmp_path, capsys):
    from minemap.io import read_features

    points = gpd.read_file(OSM_SAMPLE, layer="points", engine="pyogrio")
    hazards = gpd.GeoDataFrame(
        {"hazard_id": ["H1"], "threat_level": ["high"]},
        geometry=[points.union_all().centroid.buffer(0.003)],
        crs=4326,
    )
    hazards.to_file(tmp_path / "hz.gpkg")
    out = tmp_path / "map.html"
    status = run(
        [
            "map",
            str(tmp_path / "hz.gpkg"),
            "--roads",
            str(OSM_SAMPLE),
            "--infrastructure",
            str(OSM_SAMPLE),
            "--residential",
            str(OSM_SAMPLE),
            "--offline",
            "-o",
            str(out),
        ]
    )
    assert status == 0, capsys.readouterr().err
    page = out.read_text(encoding="utf-8")
    counts = {
        kind: len(read_features(OSM_SAMPLE, kind=kind))
        for kind in ("roads", "infrastructure", "residential")
    }
    blocks = _data_blocks(page)
    for kind, count in counts.items():  # the map draws what priority would read
        assert sum(len(block["f"]) for block in blocks[kind]) == count, kind
    assert counts["infrastructure"] >= 1 and counts["roads"] > counts["infrastructure"]
    status = run(
        [
            "map",
            str(tmp_path / "hz.gpkg"),
            "--infrastructure",
            str(OSM_SAMPLE),
            "--infrastructure-tags",
            "amenity=hospital",
            "--offline",
            "-o",
            str(out),
        ]
    )
    assert status == 0
    assert "no infrastructure features" in capsys.readouterr().err


def test_public_grid_beyond_its_budget_is_refused_before_any_work(files, tmp_path, capsys):
    out = tmp_path / "public.html"
    status = run(
        ["map", str(files["hazards"]), "--public-grid", "0.01", "--offline", "-o", str(out)]
    )
    err = capsys.readouterr().err
    assert status == 2 and "--public-grid 0.01" in err and "cells" in err
    assert not out.exists()


def test_map_command_draws_the_sample_incidents_and_finds(tmp_path, capsys):
    sample = Path(__file__).resolve().parents[1] / "sample_data"
    out = tmp_path / "map.html"
    status = run(
        [
            "map",
            str(sample / "hazards.geojson"),
            "--released",
            str(sample / "releases.geojson"),
            "--incidents",
            str(sample / "incidents.csv"),
            "--finds",
            str(sample / "finds.geojson"),
            "--offline",
            "-o",
            str(out),
        ]
    )
    assert status == 0, capsys.readouterr().err
    page = out.read_text()
    incidents = pd.read_csv(sample / "incidents.csv")
    finds = gpd.read_file(sample / "finds.geojson")
    assert f"{len(incidents)} incidents" in page
    assert f"{int(finds['device_count'].sum())} devices in {len(finds)} finds" in page
    assert "http://" not in page and "https://" not in page  # nothing fetched offline
