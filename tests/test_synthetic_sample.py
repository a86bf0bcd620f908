"""The sample data written from the package (``minemap.synthetic.sample``) is the repository's
``sample_data/``, and writing it never replaces a file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import pytest
import rasterio
from geopandas.testing import assert_geodataframe_equal

import minemap
from minemap import OutputError
from minemap.cli import run
from minemap.synthetic import EVIDENCE_LAYERS, LAYERS, SAMPLE_FILES, sample_data

SHIPPED = Path(__file__).resolve().parents[1] / "sample_data"


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> Path:
    return sample_data(tmp_path_factory.mktemp("sample") / "new folder")


def test_every_file_is_written(written):
    assert sorted(p.name for p in written.iterdir()) == sorted(SAMPLE_FILES)
    assert "SYNTHETIC" in (written / "SYNTHETIC.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize("layer", LAYERS)
def test_the_layers_equal_the_shipped_sample(written, layer):
    shipped = pyogrio.read_dataframe(SHIPPED / "scenario.gpkg", layer=layer)
    assert_geodataframe_equal(
        pyogrio.read_dataframe(written / "scenario.gpkg", layer=layer), shipped
    )
    assert_geodataframe_equal(
        pyogrio.read_dataframe(written / f"{layer}.geojson"),
        pyogrio.read_dataframe(SHIPPED / f"{layer}.geojson"),
    )


@pytest.mark.parametrize("layer", EVIDENCE_LAYERS)
def test_the_evidence_layers_equal_the_shipped_sample(written, layer):
    assert_geodataframe_equal(
        pyogrio.read_dataframe(written / "scenario.gpkg", layer=layer),
        pyogrio.read_dataframe(SHIPPED / "scenario.gpkg", layer=layer),
    )
    name = "incidents.csv" if layer == "incidents" else f"{layer}.geojson"
    if name.endswith(".csv"):  # written by minemap, not by GDAL: the very same bytes
        assert (written / name).read_bytes() == (SHIPPED / name).read_bytes()
    else:
        assert_geodataframe_equal(
            pyogrio.read_dataframe(written / name), pyogrio.read_dataframe(SHIPPED / name)
        )


def test_the_population_raster_equals_the_shipped_one(written):
    with (
        rasterio.open(written / "population.tif") as new,
        rasterio.open(SHIPPED / "population.tif") as old,
    ):
        assert new.crs == old.crs
        assert new.transform == old.transform
        assert new.nodata == old.nodata
        np.testing.assert_array_equal(new.read(), old.read())


def test_nothing_is_replaced(written):
    before = {p.name: p.read_bytes() for p in written.iterdir()}
    with pytest.raises(
        OutputError,
        match=r"already holds scenario.gpkg, .*give a new folder, or one without these files",
    ):
        sample_data(written)
    assert {p.name: p.read_bytes() for p in written.iterdir()} == before


def test_a_folder_with_other_files_keeps_them(tmp_path):
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    folder = sample_data(tmp_path)
    assert folder == tmp_path
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted((*SAMPLE_FILES, "notes.txt"))
    assert not list(tmp_path.parent.glob(".minemap-sample-*"))  # no staging folder left


def test_a_file_is_not_a_folder(tmp_path):
    (tmp_path / "f").write_text("x", encoding="utf-8")
    with pytest.raises(OutputError, match=r"f is a file; give a folder"):
        sample_data(tmp_path / "f")


@pytest.mark.parametrize("inside", ["", "sample"])
def test_a_partitioned_layer_folder_never_takes_the_sample(tmp_path, inside):
    """Neither the files nor a folder of them go into a partitioned GeoParquet layer: it
    would no longer read as one."""
    layer = tmp_path / "zones.parquet"
    layer.mkdir()
    (layer / "part-00000.parquet").write_bytes(b"PAR1")
    with pytest.raises(OutputError, match=r"inside the partitioned GeoParquet layer zones"):
        sample_data(layer / inside if inside else layer)
    assert [p.name for p in layer.iterdir()] == ["part-00000.parquet"]


def test_the_default_folder_is_made_once_in_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    first = minemap.sample_data()
    assert first == tmp_path / "minemap" / f"sample_data-{minemap.__version__}"
    stamp = (first / "scenario.gpkg").stat().st_mtime_ns
    assert minemap.sample_data() == first  # reused, not written again
    assert (first / "scenario.gpkg").stat().st_mtime_ns == stamp


def test_processes_filling_the_cache_at_once_all_get_it(tmp_path):
    """Test workers (pytest -n) on a fresh machine ask for the sample data at the same
    moment: each gets the complete folder, none an error."""
    code = "import minemap; print(minemap.sample_data())"
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", code],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    outputs = [run.communicate(timeout=300) for run in runs]
    folder = tmp_path / "minemap" / f"sample_data-{minemap.__version__}"
    assert [
        (run.returncode, out.strip(), err) for run, (out, err) in zip(runs, outputs, strict=True)
    ] == [(0, str(folder), "")] * 3
    assert sorted(p.name for p in folder.iterdir()) == sorted(SAMPLE_FILES)
    assert not [p for p in tmp_path.joinpath("minemap").iterdir() if p != folder]  # no staging left


def test_the_command_writes_and_refuses(tmp_path, capsys):
    folder = tmp_path / "sample"
    assert run(["sample-data", str(folder)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == f"Synthetic sample data (not real minefields) in {folder}:"
    assert sorted(p.name for p in folder.iterdir()) == sorted(SAMPLE_FILES)
    assert run(["sample-data", str(folder)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith(f"minemap: error: {folder} already holds scenario.gpkg")


def test_an_empty_folder_name_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(OutputError, match=r"needs a folder name"):
        sample_data("")
    assert list(tmp_path.iterdir()) == []


def test_the_readme_describes_the_shipped_evidence():
    """The figures sample_data/README.md gives for the field evidence are the files'."""
    text = " ".join((SHIPPED / "README.md").read_text(encoding="utf-8").split())
    incidents = pd.read_csv(SHIPPED / "incidents.csv")
    finds = pyogrio.read_dataframe(SHIPPED / "finds.geojson")
    records = pyogrio.read_dataframe(SHIPPED / "records.geojson")
    settlements = pyogrio.read_dataframe(SHIPPED / "settlements.geojson")
    first, last = incidents.incident_date.min(), incidents.incident_date.max()
    assert (
        f"**incidents** — {len(incidents)} explosions that hurt people "
        f"({incidents.killed.sum()} killed, {incidents.injured.sum()} injured in all), "
        f"{first} to {last}"
    ) in text
    released = finds.release_id.notna()
    assert (
        f"**finds** — {len(finds)} device finds ({finds.device_count.sum()} devices), "
        f"{finds.find_date.min():%Y-%m-%d} to {finds.find_date.max():%Y-%m-%d}. "
        f"{released.sum()} lie in {finds.release_id.nunique()} of the release records"
    ) in text
    kinds = records.geom_type.value_counts()
    assert (
        f"**records** — {len(records)} minefield records, {kinds['Polygon']} recorded "
        f"perimeters and {kinds['Point']} recorded locations"
    ) in text
    polygons = (settlements.geom_type == "Polygon").sum()
    assert (
        f"**settlements** — {len(settlements)} villages: the 28 residential areas "
        f"({polygons} as polygons"
    ) in text
