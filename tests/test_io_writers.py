"""Tests of minemap.io.staging and minemap.io.writers: outputs whole or not at all."""

from __future__ import annotations

import errno
import os
import warnings
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
from shapely import box

from minemap import io as mio
from minemap._errors import OutputError

LAYER = gpd.GeoDataFrame(
    {"hazard_id": ["H1", "H2"], "threat_level": ["high", "low"]},
    geometry=[box(46.0, 39.0, 46.01, 39.01), box(46.02, 39.0, 46.03, 39.01)],
    crs=4326,
)


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_write_text_whole_and_no_temp_left(tmp_path):
    mio.write_text(tmp_path / "a.txt", "hello\n")
    assert (tmp_path / "a.txt").read_text() == "hello\n"
    assert listing(tmp_path) == ["a.txt"]


@pytest.mark.parametrize("case", ["missing folder", "parent is a file", "target is a folder"])
def test_unwritable_paths_are_one_output_error_naming_the_path(tmp_path, case):
    if case == "missing folder":
        target = tmp_path / "nope" / "out.json"
        fragment = "does not exist"
    elif case == "parent is a file":
        (tmp_path / "file.txt").write_text("x")
        target = tmp_path / "file.txt" / "out.json"
        fragment = "is a file, not a folder"
    else:
        (tmp_path / "out.json").mkdir()
        target = tmp_path / "out.json"
        fragment = "is a folder"
    before = listing(tmp_path)
    with pytest.raises(OutputError) as excinfo:
        mio.write_text(target, "x")
    text = str(excinfo.value)
    assert str(target) in text and fragment in text
    assert "\n" not in text and ".out.json." not in text  # no hidden temp name
    assert isinstance(excinfo.value, OSError)
    assert listing(tmp_path) == before


@pytest.mark.parametrize(
    ("code", "fragment"),
    [
        (errno.ENOSPC, "disk is full"),
        (errno.EACCES, "no permission"),
        (errno.EROFS, "no permission"),
    ],
)
def test_os_errors_while_writing_name_the_users_path(tmp_path, code, fragment):
    target = tmp_path / "report.json"
    target.write_text("previous\n")

    def failing(tmp: Path) -> None:
        tmp.write_text("half a rep")
        raise OSError(code, os.strerror(code), str(tmp))

    with pytest.raises(OutputError) as excinfo:
        mio.write_atomic(target, failing)
    text = str(excinfo.value)
    assert text.startswith(f"{target}:") and fragment in text and "Nothing was written" in text
    assert ".report.json." not in text
    assert target.read_text() == "previous\n"
    assert listing(tmp_path) == ["report.json"]


def test_output_set_writes_all_or_none(tmp_path):
    (tmp_path / "a.txt").write_text("old a\n")

    def failing(tmp: Path) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    with (
        pytest.raises(OutputError, match=r"b\.bin: .*the disk is full.*Nothing was written"),
        mio.OutputSet() as outputs,
    ):
        outputs.add_text(tmp_path / "a.txt", "new a\n")
        outputs.add(tmp_path / "b.bin", failing)
    assert (tmp_path / "a.txt").read_text() == "old a\n"
    assert listing(tmp_path) == ["a.txt"]


def test_output_set_rolls_back_when_putting_in_place_fails(tmp_path, monkeypatch):
    (tmp_path / "a.txt").write_text("old a\n")
    outputs = mio.OutputSet()
    outputs.add_text(tmp_path / "a.txt", "new a\n")
    outputs.add_text(tmp_path / "b.txt", "new b\n")
    real_replace = os.replace
    calls = []

    def flaky(src, dst):
        calls.append(dst)
        if str(dst).endswith("b.txt"):
            raise OSError(errno.EIO, "Input/output error")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", flaky)
    with pytest.raises(OutputError, match="b.txt"):
        outputs.commit()
    monkeypatch.setattr(os, "replace", real_replace)
    assert (tmp_path / "a.txt").read_text() == "old a\n"
    assert listing(tmp_path) == ["a.txt"]


def test_output_set_exception_in_block_writes_nothing(tmp_path):
    with pytest.raises(RuntimeError), mio.OutputSet() as outputs:
        outputs.add_text(tmp_path / "a.txt", "a")
        raise RuntimeError("computation failed")
    assert listing(tmp_path) == []


def test_layer_into_existing_geopackage_keeps_the_other_layers(tmp_path):
    path = tmp_path / "project.gpkg"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for name in ("hazards", "releases", "roads"):
            pyogrio.write_dataframe(LAYER, path, layer=name)
    mio.write_layer(LAYER.iloc[:1], path, layer="priority_zones")
    layers = {str(n) for n in pyogrio.list_layers(path)[:, 0]}
    assert layers == {"hazards", "releases", "roads", "priority_zones"}
    assert len(pyogrio.read_dataframe(path, layer="hazards")) == 2
    mio.write_layer(LAYER, path, layer="priority_zones")  # replaces that layer only
    assert len(pyogrio.read_dataframe(path, layer="priority_zones")) == 2
    assert {str(n) for n in pyogrio.list_layers(path)[:, 0]} == layers
    assert listing(tmp_path) == ["project.gpkg"]


@pytest.mark.parametrize("suffix", [".gpkg", ".geojson", ".fgb", ".parquet", ".csv"])
def test_write_layer_formats_round_trip(tmp_path, suffix):
    path = mio.write_layer(LAYER, tmp_path / f"out{suffix}", layer="hazards")
    back = mio.read_hazards(path, crs=4326 if suffix == ".csv" else None)
    assert sorted(back["hazard_id"]) == ["H1", "H2"]  # FlatGeobuf orders by its index
    assert listing(tmp_path) == [f"out{suffix}"]


@pytest.mark.parametrize("suffix", [".gpkg", ".geojson", ".fgb"])
def test_a_layer_written_without_a_name_is_named_after_its_file(tmp_path, suffix):
    """Not after the hidden staging file: GeoPackage refused that name, GeoJSON and
    FlatGeobuf kept it (so the bytes differed on every run)."""
    path = mio.write_layer(LAYER, tmp_path / f"zones 2026{suffix}")
    assert [str(n) for n in pyogrio.list_layers(path)[:, 0]] == ["zones 2026"]
    first = path.read_bytes()
    mio.write_layer(LAYER, path)
    assert suffix == ".gpkg" or path.read_bytes() == first
    assert listing(tmp_path) == [f"zones 2026{suffix}"]


def test_plain_shapefile_output_is_refused_with_the_zipped_alternative(tmp_path):
    with pytest.raises(OutputError) as excinfo:
        mio.write_layer(LAYER, tmp_path / "zones.shp")
    text = str(excinfo.value)
    assert "zones.shp.zip" in text and "zones.gpkg" in text and "several files" in text
    assert listing(tmp_path) == []


@pytest.mark.parametrize("name", ["zones.shp.zip", "zones.shz"])
def test_zipped_shapefile_is_one_file_written_whole(tmp_path, name):
    import zipfile

    target = tmp_path / name
    target.write_bytes(b"previous")
    mio.write_layer(LAYER, target)
    assert listing(tmp_path) == [name]
    members = sorted(Path(m).suffix for m in zipfile.ZipFile(target).namelist())
    assert {".shp", ".shx", ".dbf", ".prj"} <= set(members)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        back = pyogrio.read_dataframe(target)
    assert sorted(back["hazard_id"]) == ["H1", "H2"]


def test_check_output_path_refuses_read_only_existing_file(tmp_path, monkeypatch):
    target = tmp_path / "out.csv"
    target.write_text("x")
    monkeypatch.setattr(os, "access", lambda path, mode: Path(path) != target)
    with pytest.raises(OutputError, match="read-only"):
        mio.check_output_path(target)


def test_check_output_path_refuses_unwritable_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    with pytest.raises(OutputError, match="no permission to write in the folder"):
        mio.check_output_path(tmp_path / "out.csv")


def test_csv_layer_output_is_spreadsheet_safe(tmp_path):
    layer = LAYER.assign(note=["=1+1", "@SUM(A1)"])
    path = mio.write_layer(layer, tmp_path / "zones.csv")
    text = path.read_text()
    assert "'=1+1" in text and "'@SUM(A1)" in text


def test_a_csv_header_cell_never_runs_as_a_formula(tmp_path):
    path = mio.write_layer(LAYER.assign(**{"=cmd|' /C calc'!A0": 1}), tmp_path / "zones.csv")
    header = path.read_text().splitlines()[0]
    assert "'=cmd" in header and ",=cmd" not in header


def test_unknown_layer_extension_is_refused(tmp_path):
    with pytest.raises(OutputError, match=r"\.xyz is not a vector format"):
        mio.write_layer(LAYER, tmp_path / "zones.xyz")
    assert listing(tmp_path) == []


def test_too_long_file_name_is_one_output_error(tmp_path):
    with pytest.raises(OutputError, match="too long"):
        mio.write_text(tmp_path / ("x" * 300 + ".csv"), "a")
    with pytest.raises(OutputError, match="too long"):
        mio.write_text(tmp_path / ("y" * 250 + ".csv"), "a")
    assert listing(tmp_path) == []


def test_zipped_shapefile_output_reads_back_as_hazards(tmp_path):
    target = mio.write_layer(LAYER, tmp_path / "hz.shp.zip")
    back = mio.read_hazards(target, threat_column="threat_lev")  # dBase names: 10 characters
    assert sorted(back["hazard_id"]) == ["H1", "H2"]
    assert back.crs.equals(LAYER.crs)


@pytest.mark.parametrize(
    "members",
    [
        {"a.shp": None, "b.shp": None},
        {"a.shp": None, "x.vrt": b"<OGRVRTDataSource/>"},
        {"sub/a.shp": None},
        {"a.shp": b"not a shapefile"},
    ],
)
def test_zipped_shapefile_holding_anything_else_is_refused(tmp_path, members):
    import zipfile

    from minemap._errors import FormatError

    real = mio.write_layer(LAYER, tmp_path / "real.shp.zip")
    with zipfile.ZipFile(real) as archive:
        assert sorted(archive.namelist())[0] == "real.cpg"  # parts named after the file
        shp = archive.read("real.shp")
    hostile = tmp_path / "hostile.shp.zip"
    with zipfile.ZipFile(hostile, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, shp if data is None else data)
    with pytest.raises(FormatError, match="hostile.shp.zip"):
        mio.read_hazards(hostile)


def test_temporary_files_of_a_killed_run_are_removed_by_the_next_write(tmp_path):
    import subprocess
    import sys

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    target = tmp_path / "report.csv"
    orphan = tmp_path / f".report.csv.minemap-{dead.pid}-k1ll3d.csv"
    orphan.write_text("half a report")
    orphan_dir = tmp_path / f".report.csv.minemap-{dead.pid}-dir"
    orphan_dir.mkdir()
    alive = tmp_path / ".report.csv.minemap-1-busy.csv"  # pid 1 is alive: another run's
    alive.write_text("being written")
    other = tmp_path / ".other.csv.minemap-1-x"
    other.write_text("another target's")
    mio.write_text(target, "whole\n")
    assert listing(tmp_path) == sorted([alive.name, other.name, "report.csv"])


def test_a_layer_written_into_an_existing_geopackage_keeps_its_permissions(tmp_path):
    path = tmp_path / "shared.gpkg"
    square = gpd.GeoDataFrame({"n": [1]}, geometry=[box(0, 0, 1, 1)], crs=32638)
    mio.write_layer(square, path, layer="a")
    os.chmod(path, 0o644)
    mio.write_layer(square, path, layer="b")
    assert sorted(pyogrio.list_layers(path)[:, 0]) == ["a", "b"]
    assert oct(path.stat().st_mode & 0o777) == oct(0o644)


def test_a_layer_folder_moved_aside_by_a_killed_run_is_put_back(tmp_path):
    import subprocess
    import sys

    from minemap.io import read_partitioned, write_partitioned

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    old = gpd.GeoDataFrame({"v": [1, 2, 3]}, geometry=[box(i, 0, i + 1, 1) for i in range(3)])
    old = old.set_crs(32638)
    target = write_partitioned(old, tmp_path / "zones.parquet", npartitions=2)
    # killed between its two renames: the old layer moved aside, the new one still staged
    target.rename(tmp_path / f".zones.parquet.minemap-{dead.pid}-previous")
    staged = tmp_path / f".zones.parquet.minemap-{dead.pid}-0a1b2c3d"
    staged.mkdir()
    (staged / "part-00000.parquet").write_bytes(b"half written")
    with pytest.raises(OutputError, match="exists and is not empty"):
        write_partitioned(old.iloc[:1], target)  # the old layer is back, so it is refused
    assert listing(tmp_path) == ["zones.parquet"]
    assert sorted(read_partitioned(target)["v"]) == [1, 2, 3]
    mio.write_layer(old.iloc[:1], f"{target}/")  # and it can be replaced as ever
    assert read_partitioned(target)["v"].tolist() == [1]
