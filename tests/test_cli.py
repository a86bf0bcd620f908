"""Tests of the ``minemap`` command line (minemap.cli.run, plus one real subprocess)."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import _oracle as oracle
import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from shapely import Point, Polygon, box

import minemap
from minemap import cli
from minemap.settings import SUMMARY_COLUMNS

REL = oracle.REL
ABS = oracle.ABS_HA

HAZARDS = gpd.GeoDataFrame(
    {
        "hazard_id": ["H1", "H2", "H3"],
        "threat_level": ["high", "medium", "Low"],
        "district": ["Aghdam", "Aghdam", "Fuzuli"],
    },
    geometry=[
        box(46.0, 39.0, 46.02, 39.02),
        box(46.01, 39.01, 46.03, 39.03),
        box(46.05, 39.0, 46.07, 39.02),
    ],
    crs=4326,
)
RELEASES = gpd.GeoDataFrame(
    {
        "release_id": ["R1", "R2", "R3", "R4"],
        "method": ["cleared", "reduced", "cancelled", "cleared"],
        "release_date": ["2021-02-10", "2021-05-20", "2021-09-01", "2022-01-15"],
    },
    geometry=[
        box(46.0, 39.0, 46.01, 39.02),
        box(46.005, 39.005, 46.025, 39.025),
        box(46.05, 39.0, 46.06, 39.01),
        box(46.065, 39.015, 46.08, 39.02),
    ],
    crs=4326,
)


def write(gdf: gpd.GeoDataFrame, path: Path, **kwargs) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        pyogrio.write_dataframe(gdf, path, **kwargs)
    return path


@pytest.fixture
def scenario(tmp_path) -> Path:
    path = tmp_path / "scenario.gpkg"
    write(HAZARDS, path, layer="hazards")
    write(RELEASES, path, layer="releases")
    return path


def run(argv, capsys) -> tuple[int, str, str]:
    status = cli.run([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def expected_summary(releases=RELEASES) -> dict:
    return oracle.summary_of_layers(HAZARDS, releases)


# --------------------------------------------------------------------------- summary


def test_summary_table(scenario, capsys):
    status, out, err = run(["summary", scenario, "--released", scenario], capsys)
    assert status == 0
    lines = out.splitlines()
    assert lines[0] == "Land release summary (hectares; true ellipsoidal area)"
    header = lines[1].split()
    assert header == ["threat_level", *SUMMARY_COLUMNS]
    assert [line.split()[0] for line in lines[2:6]] == ["high", "medium", "low", "total"]
    total_hazard = float(lines[5].split()[1].replace(",", ""))
    # the table prints two decimals: 0.005 ha of rounding, far inside 0.01 % of ~1,000 ha
    assert total_hazard == pytest.approx(expected_summary()["total"]["hazard_ha"], abs=0.006)
    assert lines[6].startswith("Released outside hazard areas (not counted above):")
    assert "minemap: warning:" in err  # R4 is partly outside every hazard


def test_summary_without_releases_says_nothing_of_release(scenario, capsys):
    status, out, _ = run(["summary", scenario], capsys)
    assert status == 0
    lines = out.splitlines()
    assert [line.split()[0] for line in lines[2:6]] == ["high", "medium", "low", "total"]
    assert len(lines) == 6 and "Released outside" not in out


@pytest.mark.parametrize(
    "command, option",
    [
        (["summary"], "--released"),
        (["evidence", "--released", "{s}"], "--finds"),
        (["readiness"], "--settlements"),
    ],
)
@pytest.mark.parametrize("blank", ["", "  "])
def test_an_empty_input_option_is_refused_in_one_line(scenario, capsys, command, option, blank):
    """An unset shell variable (``--released "$RELEASES"``) names nothing: refused, never
    read on as if the layer were not there."""
    argv = [command[0], scenario, *(a.format(s=scenario) for a in command[1:]), option, blank]
    with pytest.raises(SystemExit) as excinfo:
        run(argv, capsys)
    out, err = capsys.readouterr()
    assert excinfo.value.code == 2 and out == ""
    assert err == (
        f"minemap: error: argument {option}: an empty value names nothing; give the file (or, "
        f"with --db, the table); see 'minemap {command[0]} --help'.\n"
    )


def test_summary_json_schema_and_figures(scenario, capsys):
    status, out, _ = run(["summary", scenario, "--released", scenario, "--format", "json"], capsys)
    assert status == 0
    doc = json.loads(out)
    assert set(doc) == {
        "unit",
        "as_of",
        "rows",
        "released_outside_hazards_ha",
        "warnings",
        "area_frame",
        "edges",
    }
    assert doc["unit"] == "ha" and doc["as_of"] is None
    assert [row["threat_level"] for row in doc["rows"]] == ["high", "medium", "low", "total"]
    for row in doc["rows"]:
        assert list(row) == ["threat_level", *SUMMARY_COLUMNS]
        assert all(isinstance(row[c], float | int) for c in SUMMARY_COLUMNS)
    expected = expected_summary()
    for row in doc["rows"]:
        for column in (
            "hazard_ha",
            "cleared_ha",
            "reduced_ha",
            "cancelled_ha",
            "released_ha",
            "remaining_ha",
        ):
            assert row[column] == pytest.approx(
                expected[row["threat_level"]][column], rel=REL, abs=ABS
            ), (row["threat_level"], column)
    assert doc["released_outside_hazards_ha"] == pytest.approx(
        expected["outside"], rel=REL, abs=ABS
    )
    assert doc["released_outside_hazards_ha"] > 0
    assert any("outside every hazard area" in w for w in doc["warnings"])
    assert all("\n" not in w for w in doc["warnings"])


def test_summary_json_matches_python_api(scenario, capsys):
    status, out, _ = run(["summary", scenario, "--released", scenario, "--format", "json"], capsys)
    assert status == 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", minemap.DataWarning)
        table = minemap.land_release_summary(
            minemap.read_hazards(scenario), minemap.read_releases(scenario)
        )
    rows = json.loads(out)["rows"]
    for row, (_, expected) in zip(rows, table.iterrows(), strict=True):
        for column in SUMMARY_COLUMNS:
            assert row[column] == pytest.approx(expected[column], abs=1e-4)


def test_summary_by_column(scenario, capsys):
    status, out, _ = run(
        ["summary", scenario, "--released", scenario, "--by", "district", "--format", "json"],
        capsys,
    )
    assert status == 0
    rows = json.loads(out)["rows"]
    assert all(list(row)[:2] == ["district", "threat_level"] for row in rows)
    assert rows[-1]["district"] == "all" and rows[-1]["threat_level"] == "total"
    group_totals = [r for r in rows[:-1] if r["threat_level"] == "total"]
    assert {r["district"] for r in group_totals} == {"Aghdam", "Fuzuli"}
    assert sum(r["hazard_ha"] for r in group_totals) == pytest.approx(
        rows[-1]["hazard_ha"], abs=1e-3
    )


def test_summary_as_of(scenario, capsys):
    status, out, _ = run(
        ["summary", scenario, "--released", scenario, "--as-of", "2021-05-20", "--format", "json"],
        capsys,
    )
    assert status == 0
    doc = json.loads(out)
    assert doc["as_of"] == "2021-05-20"
    expected = expected_summary(RELEASES.iloc[:2])  # R2 is dated exactly as_of
    total = doc["rows"][-1]
    for column in ("cleared_ha", "reduced_ha", "cancelled_ha", "released_ha"):
        assert total[column] == pytest.approx(expected["total"][column], rel=REL, abs=ABS)
    assert doc["released_outside_hazards_ha"] == pytest.approx(
        expected["outside"], rel=REL, abs=ABS
    )


def test_summary_table_as_of_title(scenario, capsys):
    status, out, _ = run(["summary", scenario, "--as-of", "2021-05-20"], capsys)
    assert status == 0
    assert out.startswith("Land release summary as of 2021-05-20 (hectares")


def test_summary_csv(scenario, capsys):
    status, out, _ = run(["summary", scenario, "--released", scenario, "--format", "csv"], capsys)
    assert status == 0
    table = pd.read_csv(io.StringIO(out))
    assert table.columns.tolist() == ["threat_level", *SUMMARY_COLUMNS, "as_of"]
    assert table["hazard_ha"].iloc[-1] == pytest.approx(
        expected_summary()["total"]["hazard_ha"], rel=REL
    )


def test_summary_without_releases(scenario, capsys):
    status, out, err = run(["summary", scenario, "--format", "json"], capsys)
    assert status == 0 and err == ""
    doc = json.loads(out)
    assert doc["released_outside_hazards_ha"] == 0.0
    assert all(row["released_ha"] == 0.0 for row in doc["rows"])


def test_summary_districts_file(scenario, tmp_path, capsys):
    districts = gpd.GeoDataFrame(
        {"district": ["West", "East"]},
        geometry=[box(45.9, 38.9, 46.015, 39.1), box(46.015, 38.9, 46.2, 39.1)],
        crs=4326,
    )
    path = write(districts, tmp_path / "districts.geojson")
    status, out, _ = run(["summary", scenario, "--districts", path, "--format", "json"], capsys)
    assert status == 0
    rows = json.loads(out)["rows"]
    assert {r["district"] for r in rows} == {"West", "East", "all"}
    assert rows[-1]["hazard_ha"] == pytest.approx(expected_summary()["total"]["hazard_ha"], rel=REL)


@pytest.mark.parametrize("suffix,kind", [(".json", "json"), (".csv", "csv"), (".txt", "table")])
def test_output_file_is_written_whole(scenario, tmp_path, capsys, suffix, kind):
    target = tmp_path / f"summary{suffix}"
    status, out, _ = run(["summary", scenario, "--released", scenario, "-o", target], capsys)
    assert status == 0 and out == ""
    text = target.read_text(encoding="utf-8")
    assert text.endswith("\n")
    if kind == "json":
        assert json.loads(text)["rows"][-1]["threat_level"] == "total"
    elif kind == "csv":
        assert pd.read_csv(io.StringIO(text))["threat_level"].tolist()[-1] == "total"
    else:
        assert text.startswith("Land release summary")
    leftovers = [p for p in os.listdir(tmp_path) if p.startswith(".summary")]
    assert leftovers == []


def test_failed_command_leaves_existing_output_untouched(tmp_path, capsys):
    bad = write(
        HAZARDS.assign(threat_level=["high", "severe", "low"]), tmp_path / "hazards.geojson"
    )
    target = tmp_path / "summary.json"
    target.write_text("previous report\n")
    before = sorted(os.listdir(tmp_path))
    status, out, err = run(["summary", bad, "-o", target], capsys)
    assert status == 2
    assert target.read_text() == "previous report\n"
    assert sorted(os.listdir(tmp_path)) == before


def test_failed_write_leaves_existing_output_untouched(scenario, tmp_path, capsys):
    target = tmp_path / "progress.csv"
    target.write_text("previous report\n")
    before = sorted(os.listdir(tmp_path))
    status, _, err = run(
        [
            "progress",
            scenario,
            "--released",
            scenario,
            "-o",
            target,
            "--chart",
            tmp_path / "missing" / "chart.png",
        ],
        capsys,
    )
    assert status == 2 and err.splitlines()[-1].startswith("minemap: error:")
    assert target.read_text() == "previous report\n"
    assert sorted(os.listdir(tmp_path)) == before


def test_output_into_missing_folder_fails_cleanly(scenario, tmp_path, capsys):
    status, _, err = run(["summary", scenario, "-o", tmp_path / "no" / "out.json"], capsys)
    assert status == 2
    assert err.splitlines()[-1].startswith("minemap: error:")
    assert "does not exist" in err


def test_column_overrides_and_crs(tmp_path, capsys):
    hz = HAZARDS.rename(columns={"hazard_id": "code", "threat_level": "risk"})
    rl = RELEASES.rename(columns={"release_id": "ref", "method": "how", "release_date": "when"})
    hz_path = write(hz, tmp_path / "h.shp")
    rl_path = write(rl, tmp_path / "r.shp")
    hz_path.with_suffix(".prj").unlink()
    rl_path.with_suffix(".prj").unlink()
    argv = [
        "summary",
        hz_path,
        "--released",
        rl_path,
        "--id-column",
        "code",
        "--threat-column",
        "risk",
        "--release-id-column",
        "ref",
        "--method-column",
        "how",
        "--date-column",
        "when",
        "--format",
        "json",
    ]
    status, _, err = run(argv, capsys)
    assert status == 2 and "--crs" in err
    status, out, _ = run([*argv, "--crs", "EPSG:4326"], capsys)
    assert status == 0
    assert json.loads(out)["rows"][-1]["released_ha"] == pytest.approx(
        expected_summary()["total"]["released_ha"], rel=REL, abs=ABS
    )


def test_crs_option_only_applies_to_layers_without_crs(tmp_path, capsys):
    hz_path = write(HAZARDS.to_crs(32638), tmp_path / "hazards.gpkg")
    rl_path = write(RELEASES, tmp_path / "releases.shp")
    rl_path.with_suffix(".prj").unlink()
    # Shapefile field names stop at 10 characters: release_date becomes release_da
    status, out, err = run(
        [
            "summary",
            hz_path,
            "--released",
            rl_path,
            "--crs",
            "EPSG:4326",
            "--date-column",
            "release_da",
            "--format",
            "json",
        ],
        capsys,
    )
    assert status == 0, err
    assert json.loads(out)["rows"][-1]["hazard_ha"] == pytest.approx(
        oracle.summary_of_layers(HAZARDS.to_crs(32638))["total"]["hazard_ha"], rel=REL
    )


def test_layer_options(tmp_path, capsys):
    path = tmp_path / "data.gpkg"
    write(HAZARDS, path, layer="zones")
    write(HAZARDS.assign(threat_level="low"), path, layer="zones_old")
    write(RELEASES, path, layer="done")
    write(RELEASES, path, layer="done_old")
    status, _, err = run(["summary", path, "--released", path], capsys)
    assert status == 2 and "--layer" in err
    status, out, _ = run(
        [
            "summary",
            path,
            "--layer",
            "zones",
            "--released",
            path,
            "--released-layer",
            "done",
            "--format",
            "json",
        ],
        capsys,
    )
    assert status == 0
    assert json.loads(out)["rows"][0]["hazard_ha"] > 0


def test_allow_area_change(tmp_path, capsys):
    x0, y0, d = 46.0, 39.0, 0.01
    poke = Polygon(
        [(x0, y0), (x0 + d, y0), (x0 + d, y0 + d), (x0, y0 + d)],
        [
            [
                (x0 + d / 2, y0 + d / 5),
                (x0 + 1.5 * d, y0 + d / 5),
                (x0 + 1.5 * d, y0 + 0.8 * d),
                (x0 + d / 2, y0 + 0.8 * d),
            ]
        ],
    )
    path = write(
        gpd.GeoDataFrame({"hazard_id": ["P"], "threat_level": ["high"]}, geometry=[poke], crs=4326),
        tmp_path / "hazards.gpkg",
    )
    status, _, err = run(["summary", path], capsys)
    assert status == 2 and "--allow-area-change" in err
    status, out, err = run(["summary", path, "--allow-area-change", "--format", "json"], capsys)
    assert status == 0
    assert "repaired on read" in err
    assert any("repaired on read" in w for w in json.loads(out)["warnings"])


# --------------------------------------------------------------------------- progress


def test_progress_table_csv_json_and_chart(scenario, tmp_path, capsys):
    chart = tmp_path / "progress.png"
    status, out, _ = run(
        [
            "progress",
            scenario,
            "--released",
            scenario,
            "--freq",
            "M",
            "--chart",
            chart,
            "--format",
            "csv",
        ],
        capsys,
    )
    assert status == 0
    table = pd.read_csv(io.StringIO(out))
    assert table["period_end"].iloc[0] == "2021-02-28"
    assert table["period_end"].iloc[-1] == "2022-01-31"
    assert len(table) == 12
    assert chart.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".progress")]

    status, out, _ = run(
        ["progress", scenario, "--released", scenario, "--freq", "Y", "--format", "json"], capsys
    )
    assert status == 0
    doc = json.loads(out)
    assert doc["unit"] == "ha" and doc["freq"] == "YE-DEC"
    assert [r["period_end"] for r in doc["rows"]] == ["2021-12-31", "2022-12-31"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", minemap.DataWarning)
        end_2021 = minemap.land_release_summary(HAZARDS, RELEASES, as_of="2021-12-31")
    assert doc["rows"][0]["released_ha"] == pytest.approx(
        end_2021["released_ha"].iloc[-1], abs=1e-4
    )

    status, out, _ = run(["progress", scenario, "--released", scenario], capsys)
    assert status == 0
    assert out.startswith("Cumulative land release (hectares)")
    assert "2021-03-31" in out  # default quarterly


def test_progress_requires_releases(scenario, capsys):
    with pytest.raises(SystemExit) as excinfo:
        cli.run(["progress", str(scenario)])
    assert excinfo.value.code == 2
    err = capsys.readouterr().err
    assert err == (  # one line, as every error is
        "minemap: error: the following arguments are required: --released; "
        "see 'minemap progress --help'.\n"
    )


# --------------------------------------------------------------------------- errors


def _bad_inputs(tmp_path: Path) -> dict[str, list]:
    good = write(HAZARDS, tmp_path / "good.gpkg", layer="hazards")
    malformed = tmp_path / "malformed.geojson"
    malformed.write_text('{"type": "FeatureCollection", "features": [', encoding="utf-8")
    no_prj = write(HAZARDS.rename(columns={"threat_level": "threat"}), tmp_path / "noprj.shp")
    no_prj.with_suffix(".prj").unlink()
    metres = write(
        HAZARDS.set_geometry([box(5e5, 4.4e6, 5.01e5, 4.401e6)] * 3, crs=4326),
        tmp_path / "metres.geojson",
    )
    points = write(HAZARDS.set_geometry([Point(46, 39)] * 3, crs=4326), tmp_path / "points.geojson")
    bad_level = write(HAZARDS.assign(threat_level="severe"), tmp_path / "level.geojson")
    bad_date = write(RELEASES.assign(release_date="someday"), tmp_path / "dates.geojson")
    return {
        "missing file": ["summary", tmp_path / "missing.gpkg"],
        "malformed geojson": ["summary", malformed],
        "no crs": ["summary", no_prj, "--threat-column", "threat"],
        "metres as degrees": ["summary", metres],
        "points": ["summary", points],
        "unknown level": ["summary", bad_level],
        "bad date": ["summary", good, "--released", bad_date],
        "bad as-of": ["summary", good, "--as-of", "soon"],
        "unknown by column": ["summary", good, "--by", "province"],
        "bad freq": [
            "progress",
            good,
            "--released",
            write(RELEASES, tmp_path / "r.gpkg"),
            "--freq",
            "fortnightly",
        ],
        "missing threat column": ["summary", good, "--threat-column", "risk"],
    }


CASES = [
    "missing file",
    "malformed geojson",
    "no crs",
    "metres as degrees",
    "points",
    "unknown level",
    "bad date",
    "bad as-of",
    "unknown by column",
    "bad freq",
    "missing threat column",
]


@pytest.mark.parametrize("case", CASES)
def test_errors_exit_2_with_one_line(tmp_path, capsys, case):
    argv = _bad_inputs(tmp_path)[case]
    status, out, err = run(argv, capsys)
    assert status == 2
    assert out == ""
    lines = err.splitlines()
    errors = [line for line in lines if line.startswith("minemap: error:")]
    assert len(errors) == 1 and lines[-1] == errors[0]
    assert all(line.startswith(("minemap: error:", "minemap: warning:")) for line in lines)
    assert "Traceback" not in err


def test_errors_name_the_file(tmp_path, capsys):
    cases = _bad_inputs(tmp_path)
    for case, name in [
        ("malformed geojson", "malformed.geojson"),
        ("no crs", "noprj.shp"),
        ("points", "points.geojson"),
        ("bad date", "dates.geojson"),
    ]:
        status, _, err = run(cases[case], capsys)
        assert status == 2 and name in err, case


# --------------------------------------------------------------------------- console script


def test_console_script_subprocess(scenario):
    exe = shutil.which("minemap", path=str(Path(sys.executable).parent)) or shutil.which("minemap")
    assert exe, "the minemap console script is not installed"
    env = {**os.environ, "MPLBACKEND": "Agg"}
    done = subprocess.run(
        [
            exe,
            "summary",
            str(scenario),
            "--released",
            str(scenario),
            "--as-of",
            "2021-05-20",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["as_of"] == "2021-05-20" and doc["rows"][-1]["threat_level"] == "total"
    assert all(line.startswith("minemap: warning:") for line in done.stderr.splitlines())
