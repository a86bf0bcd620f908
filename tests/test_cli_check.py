"""Tests of the ``minemap check`` command."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely
from shapely import Polygon, box

from minemap import cli
from minemap.io import read_layer
from minemap.quality import CHECKS, FINDING_COLUMNS, check_layers

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(os.path.dirname(pyogrio.__file__)) / "tests" / "fixtures"
HOSTILE = [
    "'; DROP TABLE hazards; --",
    "=cmd|' /C calc'!A0",
    "H3\nforged line",
    "\x1b[31mred\x1b[0m",
]

Capsys = pytest.CaptureFixture[str]


def bowtie(x: float, y: float) -> Polygon:
    return Polygon([(x, y), (x + 0.01, y + 0.01), (x + 0.01, y), (x, y + 0.01)])


CLEAN = gpd.GeoDataFrame(
    {"hazard_id": ["H1", "H2"], "threat_level": ["high", "low"]},
    geometry=[box(46.0, 39.0, 46.01, 39.01), box(46.02, 39.0, 46.03, 39.01)],
    crs=4326,
)
RELEASES = gpd.GeoDataFrame(
    {"release_id": ["R1", "R2"], "method": ["cleared", "reduced"]},
    geometry=[box(46.001, 39.001, 46.005, 39.005), box(46.025, 39.0, 46.04, 39.005)],
    crs=4326,
)
#: Overlapping levels only: warnings, no error.
OVERLAPPING = gpd.GeoDataFrame(
    {"hazard_id": ["H1", "H2"], "threat_level": ["high", "low"]},
    geometry=[box(46.0, 39.0, 46.01, 39.01), box(46.009, 39.0, 46.02, 39.01)],
    crs=4326,
)
#: One invalid ring and a duplicate id: errors.
BROKEN = gpd.GeoDataFrame(
    {"hazard_id": ["H1", "H2", "H2"], "threat_level": ["high", "medium", "low"]},
    geometry=[box(46.0, 39.0, 46.01, 39.01), bowtie(46.1, 39.0), box(46.2, 39.0, 46.21, 39.01)],
    crs=4326,
)


def write(gdf: gpd.GeoDataFrame, path: Path, **kwargs: object) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        pyogrio.write_dataframe(gdf, path, **kwargs)
    return path


def run(argv: list[object], capsys: Capsys) -> tuple[int, str, str]:
    """Exit status, stdout and stderr of one command (exit 1 leaves through SystemExit)."""
    try:
        status = cli.run([str(a) for a in argv])
    except SystemExit as exc:
        status = int(exc.code or 0)
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    scenario = write(CLEAN, tmp_path / "clean.gpkg", layer="hazards")
    write(RELEASES, scenario, layer="releases")
    return {
        "clean": scenario,
        "overlapping": write(OVERLAPPING, tmp_path / "overlapping.geojson"),
        "broken": write(BROKEN, tmp_path / "broken.gpkg", layer="hazards"),
    }


# ------------------------------------------------------------------------------ exit status


def test_a_clean_file_exits_0_with_no_findings(files, capsys):
    status, out, err = run(["check", files["clean"]], capsys)
    assert status == 0
    assert out.strip() == "No findings: no findings in 2 hazards."
    assert "minemap: check: no findings in 2 hazards" in err


def test_warnings_alone_exit_0(files, capsys):
    status, out, err = run(["check", files["overlapping"]], capsys)
    assert status == 0
    assert "overlap_different_level" in out and "H2" in out
    assert "1 finding in 2 hazards (0 errors, 1 warning): overlap_different_level 1" in err


def test_errors_exit_1_and_the_findings_are_written_whole(files, tmp_path, capsys):
    out_csv = tmp_path / "findings.csv"
    status, out, err = run(["check", files["broken"], "-o", out_csv], capsys)
    assert status == 1 and out == ""
    assert "3 errors" in err and "invalid 1, duplicate_id 2" in err
    table = pd.read_csv(out_csv, keep_default_na=False)
    assert list(table.columns) == list(FINDING_COLUMNS)
    expected = check_layers(read_layer(files["broken"])[0]).findings
    assert table[["row", "id", "check", "severity"]].values.tolist() == (
        expected[["row", "id", "check", "severity"]].values.tolist()
    )
    assert set(table["check"]) == {"invalid", "duplicate_id"}
    assert (table["severity"] == "error").all()


def test_releases_outside_hazards_are_found(files, capsys):
    status, out, _ = run(
        ["check", files["clean"], "--released", files["clean"], "--format", "json"], capsys
    )
    doc = json.loads(out)
    assert status == 0
    assert doc["features"] == {"hazards": 2, "releases": 2}
    assert doc["counts"] == {"released_outside": 1}
    (finding,) = doc["findings"]
    assert (finding["layer"], finding["id"], finding["check"]) == (
        "releases",
        "R2",
        "released_outside",
    )
    hazards, _, _ = read_layer(files["clean"], layer="hazards")
    releases, _, _ = read_layer(files["clean"], layer="releases")
    expected = check_layers(hazards, releases).findings["area_m2"].iloc[0]
    assert finding["area_m2"] == pytest.approx(expected, abs=1e-4)
    assert doc["severity"] == CHECKS and doc["errors"] == 0 and doc["warnings"] == 1


@pytest.mark.parametrize(
    "argv, words",
    [
        (["check", "missing.gpkg"], "no such file"),
        (["check", "{clean}", "--id-column", "code"], "--id-column"),
        (["check", "{clean}", "--min-area-m2", "-5"], "--min-area-m2"),
        (["check", "{clean}", "--min-area-m2", "10", "--max-area-m2", "5"], "--max-area-m2"),
        (["check", "{clean}", "-o", "{clean}"], "also an input"),
        (["check", "{clean}", "-o", "findings.xlsx"], "-o writes"),
        (["check", "{clean}", "--released", "missing.gpkg"], "--released missing.gpkg"),
    ],
)
def test_unusable_input_exits_2_on_one_line(argv, words, files, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    before = files["clean"].read_bytes()
    status, _, err = run([a.format(**files) for a in argv], capsys)
    assert status == 2
    lines = [line for line in err.splitlines() if line.startswith("minemap: error:")]
    assert len(lines) == 1 and words in lines[0] and "Traceback" not in err
    assert files["clean"].read_bytes() == before


def test_the_exit_status_of_the_installed_command(files):
    """A CI script sees 1 for errors and 0 for warnings, from a real process."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    code = "import sys; from minemap.cli import main; main(sys.argv[1:])"
    for name, expected in (("broken", 1), ("overlapping", 0), ("clean", 0)):
        done = subprocess.run(
            [sys.executable, "-c", code, "check", str(files[name]), "--format", "csv"],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        assert done.returncode == expected, done.stderr
        assert done.stdout.startswith(",".join(FINDING_COLUMNS))


# ------------------------------------------------------------------------------ formats


def test_json_is_data_and_matches_the_library(files, tmp_path, capsys):
    out_json = tmp_path / "findings.json"
    status, _, _ = run(["check", files["broken"], "-o", out_json], capsys)
    doc = json.loads(out_json.read_text(encoding="utf-8"))
    expected = check_layers(read_layer(files["broken"])[0])
    assert status == 1
    assert doc["errors"] == expected.errors == 3
    assert doc["counts"] == expected.counts()
    assert [f["id"] for f in doc["findings"]] == expected.findings["id"].tolist()
    assert all(f["other_id"] is None and f["area_m2"] is None for f in doc["findings"])
    assert doc["sources"] == {"hazards": "broken.gpkg (layer 'hazards')"}


def test_the_table_names_every_finding(files, capsys):
    status, out, _ = run(["check", files["broken"], "--format", "table"], capsys)
    lines = out.splitlines()
    assert status == 1 and lines[0] == "Data-quality findings (areas in true m²)"
    assert lines[1].split()[:6] == ["layer", "row", "id", "check", "severity", "detail"]
    assert [line.split()[:4] for line in lines[2:5]] == [
        ["hazards", "2", "H2", "invalid"],
        ["hazards", "2", "H2", "duplicate_id"],
        ["hazards", "3", "H2", "duplicate_id"],
    ]
    assert "Self-intersection at longitude 46.105, latitude 39.005" in out


def test_a_file_with_invalid_rings_is_reported_not_repaired(files, capsys):
    before = files["broken"].read_bytes()
    status, out, _ = run(["check", files["broken"], "--format", "csv"], capsys)
    assert status == 1 and "Self-intersection" in out
    assert files["broken"].read_bytes() == before
    raw = read_layer(files["broken"])[0]
    assert not shapely.is_valid(raw.geometry.iloc[1])


def test_a_layer_without_ids_says_rows_are_named_by_number(tmp_path, capsys):
    path = write(OVERLAPPING.drop(columns="hazard_id"), tmp_path / "noid.geojson")
    status, out, err = run(["check", path, "--format", "csv"], capsys)
    table = pd.read_csv(io.StringIO(out), keep_default_na=False)
    assert status == 0 and table[["id", "other_id"]].values.tolist() == [["row 1", "row 2"]]
    assert "minemap: note: hazards: no 'hazard_id' column; features are named 'row N'" in err


def test_own_column_names_and_vocabulary(tmp_path, capsys):
    layer = OVERLAPPING.rename(columns={"hazard_id": "code", "threat_level": "niveau"})
    layer["niveau"] = ["Zone rouge", "low"]
    path = write(layer, tmp_path / "own.gpkg")
    status, out, _ = run(
        ["check", path, "--id-column", "code", "--threat-column", "niveau", "--format", "csv"],
        capsys,
    )
    assert status == 0 and "unknown_level" in out and "overlap_different_level" not in out
    vocabulary = tmp_path / "vocabulary.toml"
    vocabulary.write_text('[threat_level]\n"Zone rouge" = "high"\n', encoding="utf-8")
    status, out, _ = run(
        [
            "check",
            path,
            "--id-column",
            "code",
            "--threat-column",
            "niveau",
            "--vocabulary",
            vocabulary,
            "--format",
            "csv",
        ],
        capsys,
    )
    table = pd.read_csv(io.StringIO(out))
    assert status == 0 and table["check"].tolist() == ["overlap_different_level"]


def test_limits_are_flags(files, capsys):
    status, out, _ = run(
        [
            "check",
            files["overlapping"],
            "--overlap-tolerance-m2",
            "1e6",
            "--max-area-m2",
            "5e5",
            "--format",
            "csv",
        ],
        capsys,
    )
    table = pd.read_csv(io.StringIO(out))
    assert status == 0 and table["check"].tolist() == ["implausible_area"] * 2
    assert (table["area_m2"] > 5e5).all()


# ------------------------------------------------------------------------- hostile text


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    layer = gpd.GeoDataFrame(
        {"hazard_id": HOSTILE, "threat_level": ["high", "low", "high", "medium"]},
        geometry=[
            box(46.0, 39.0, 46.01, 39.01),
            box(46.009, 39.0, 46.02, 39.01),  # overlaps the first: the ids meet in one row
            bowtie(46.1, 39.0),
            box(46.2, 39.0, 46.21, 39.01),
        ],
        crs=4326,
    )
    layer.loc[3, "threat_level"] = "\x1b[2J=HYPERLINK(1)"
    return write(layer, tmp_path / "hostile.gpkg")


def test_hostile_ids_in_csv_are_text_never_formulas(hostile, tmp_path, capsys):
    out_csv = tmp_path / "findings.csv"
    status, _, _ = run(["check", hostile, "-o", out_csv], capsys)
    table = pd.read_csv(out_csv, keep_default_na=False)
    assert status == 1  # the bowtie
    assert table["id"].tolist() == [
        HOSTILE[2],  # the line break is inside a quoted cell, not a new row
        HOSTILE[3],
        HOSTILE[0],  # starts with a quote: harmless as it is
    ]
    assert table["check"].tolist() == ["invalid", "unknown_level", "overlap_different_level"]
    assert table["other_id"].tolist() == ["", "", "'" + HOSTILE[1]]  # a formula becomes text
    for column in table.columns:
        assert not table[column].astype(str).str.startswith(("=", "+", "@")).any()


def test_hostile_ids_on_the_terminal_are_escaped(hostile, capsys):
    status, out, err = run(["check", hostile], capsys)
    assert status == 1
    assert "\x1b" not in out + err
    assert "\\x1b[31mred" in out and "H3\\x0aforged line" in out
    body = out.splitlines()[2:-1]
    assert len(body) == 3  # one line per finding: no id can start a line of its own


def test_hostile_ids_in_json_are_data(hostile, capsys):
    status, out, _ = run(["check", hostile, "--format", "json"], capsys)
    doc = json.loads(out)
    assert status == 1
    assert [f["id"] for f in doc["findings"]] == [HOSTILE[2], HOSTILE[3], HOSTILE[0]]
    assert doc["findings"][2]["other_id"] == HOSTILE[1]
    unknown = next(f for f in doc["findings"] if f["check"] == "unknown_level")
    assert unknown["id"] == HOSTILE[3] and "\\x1b[2J=HYPERLINK(1)" in unknown["detail"]


# ------------------------------------------------------------ a public file nobody here wrote


def test_natural_earth_countries_through_the_command(tmp_path, capsys):
    path = FIXTURES / "naturalearth_lowres" / "naturalearth_lowres.shp"
    out_json = tmp_path / "findings.json"
    status, _, err = run(["check", path, "--id-column", "name", "-o", out_json], capsys)
    doc = json.loads(out_json.read_text(encoding="utf-8"))
    raw, _, _ = read_layer(path)
    assert status == 0  # only warnings: every country is larger than 100 km²
    assert doc["counts"] == {"implausible_area": len(raw)}
    assert {f["id"] for f in doc["findings"]} == set(raw["name"])
    assert "no 'threat_level' column" in err


def test_a_public_layer_of_points_exits_1(capsys):
    status, out, _ = run(["check", FIXTURES / "test_gpkg_nulls.gpkg", "--format", "csv"], capsys)
    table = pd.read_csv(io.StringIO(out))
    assert status == 1 and set(table["check"]) == {"not_polygon"} and len(table) == 4
