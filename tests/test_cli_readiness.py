"""Tests of the ``minemap readiness`` command."""

from __future__ import annotations

import io
import json
import re
import shutil
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio
import pyproj
import pytest
from shapely import Point, box

import minemap
from minemap import cli
from minemap.cli.main import build_parser
from minemap.io import evidence as evidence_io
from minemap.readiness import ReadinessRule, communities_at_risk, settlement_readiness

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"
ORDER = {"blocked": 0, "conditional": 1, "ready": 2}
#: JSON and CSV round to 4 decimals.
ROUNDED = 0.6e-4

Sample = dict[str, Path]
Layers = dict[str, gpd.GeoDataFrame]
Capsys = pytest.CaptureFixture[str]


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Copies of the shipped sample data: a failing test can never harm the originals."""
    folder = tmp_path_factory.mktemp("sample")
    return {
        name: Path(shutil.copy(SAMPLE / f, folder / f))
        for name, f in (("gpkg", "scenario.gpkg"), ("incidents", "incidents.csv"))
    }


@pytest.fixture(scope="module")
def layers(sample: Sample) -> dict[str, gpd.GeoDataFrame]:
    """The sample layers as the Python API reads them."""
    return {
        "hazards": minemap.read_hazards(sample["gpkg"]),
        "releases": minemap.read_releases(sample["gpkg"]),
        "settlements": evidence_io.read_settlements(sample["gpkg"]),
        "incidents": evidence_io.read_incidents(sample["incidents"]),
    }


def run(argv: list[object], capsys: Capsys) -> tuple[int, str, str]:
    """Exit status, stdout and stderr of one command (argparse's errors exit while parsing)."""
    try:
        status = cli.run([str(a) for a in argv])
    except SystemExit as exit_:
        status = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return status, out, err


def base(sample: Sample, *extra: object) -> list[object]:
    return [
        "readiness",
        sample["gpkg"],
        "--released",
        sample["gpkg"],
        "--settlements",
        sample["gpkg"],
        "--incidents",
        sample["incidents"],
        *extra,
    ]


def expected_readiness(layers: Layers, **options: Any) -> gpd.GeoDataFrame:
    return settlement_readiness(
        layers["settlements"],
        layers["hazards"],
        layers["releases"],
        incidents=layers["incidents"],
        **options,
    )


def assert_rows_equal(rows: pd.DataFrame, expected: pd.DataFrame) -> None:
    """Every value of ``rows`` (from JSON or CSV) is the expected one, to its rounding."""
    expected = pd.DataFrame(expected.drop(columns="geometry")).set_index("settlement_id")
    rows = rows.set_index("settlement_id")
    assert sorted(rows.index) == sorted(expected.index)
    for column in expected.columns:
        got, want = rows.loc[expected.index, column], expected[column]
        if pd.api.types.is_numeric_dtype(want):
            assert got.astype(float).to_numpy() == pytest.approx(
                want.astype(float).to_numpy(), abs=ROUNDED, nan_ok=True
            ), column
        else:
            assert got.tolist() == want.tolist(), column


def assert_worst_first(rows: pd.DataFrame) -> None:
    """Blocked, conditional, ready; nearest hazard first within each."""
    key = list(zip(rows["status"].map(ORDER), rows["nearest_hazard_m"].fillna(1e18), strict=True))
    assert key == sorted(key)


# ------------------------------------------------------------------------------------------
# the sample data: figures equal a direct call of the Python function
# ------------------------------------------------------------------------------------------


def test_json_equals_the_python_function(sample: Sample, layers: Layers, capsys: Capsys) -> None:
    status, out, _ = run(base(sample, "--format", "json"), capsys)
    assert status == 0
    doc = json.loads(out)
    expected = expected_readiness(layers)
    assert doc["rule"] == expected.attrs["rule"]
    assert doc["rule"].startswith("blocked: remaining hazard within 500 m, or 1 or more")
    assert doc["radii_m"] == [500.0, 1000.0, 2000.0] and doc["incident_radius_m"] == 500.0
    assert (doc["blocked_within_m"], doc["conditional_within_m"]) == (500.0, 2000.0)
    assert doc["blocking_incidents"] == 1
    assert doc["area_frame"] == expected.attrs["area_frame"]
    assert set(doc["units"]) == {
        c for c in expected.columns if c not in {"settlement_id", "name", "status", "reason"}
    } - {"geometry"}
    assert doc["warnings"] == []
    rows = pd.DataFrame(doc["rows"])
    assert len(rows) == len(layers["settlements"]) == 60
    assert_rows_equal(rows, expected)
    assert_worst_first(rows)
    counts = {row["status"]: row for row in doc["counts"]}
    for name in ("blocked", "conditional", "ready"):
        part = expected.loc[expected.status == name]
        assert counts[name]["settlements"] == len(part)
        assert counts[name]["population"] == pytest.approx(part.population.sum())
        assert counts[name]["settlements_without_population"] == part.population.isna().sum()
    assert counts["total"]["settlements"] == 60
    assert counts["total"]["population"] == pytest.approx(expected.population.sum())


def test_table_counts_first_then_the_settlements_worst_first(
    sample: Sample, layers: Layers, capsys: Capsys
) -> None:
    status, out, _ = run(base(sample, "--top", "8"), capsys)
    assert status == 0
    expected = expected_readiness(layers)
    lines = out.splitlines()
    assert lines[0] == "Return readiness of 60 settlements"
    assert lines[1] == f"Rule: {expected.attrs['rule']}"
    counts = {line.split()[0]: line.split()[1:] for line in lines[3:8]}
    assert list(counts) == ["status", "blocked", "conditional", "ready", "total"]
    for name in ("blocked", "conditional", "ready"):
        part = expected.loc[expected.status == name]
        assert counts[name] == [str(len(part)), f"{part.population.sum():,.0f}"]
    unknown = int(expected.population.isna().sum())
    assert f"({unknown} settlements have no population figure; not counted above.)" in out
    head = lines.index(next(line for line in lines if line.startswith("settlement_id")))
    assert "8 of 60 settlements (--top N shows more" in lines[head - 1]
    header = lines[head].split()
    assert header == [
        "settlement_id",
        "name",
        "population",
        "remaining_ha_500m",
        "remaining_ha_1000m",
        "remaining_ha_2000m",
        "nearest_hazard_m",
        "incidents_500m",
        "status",
        "reason",
    ]
    shown = [line.split() for line in lines[head + 1 : head + 9]]
    assert lines[head + 9] == ""
    table = pd.DataFrame(expected.drop(columns="geometry"))
    table["order"] = table.status.map(ORDER)
    table["incidents"] = -table["incidents_500m"]
    worst = table.sort_values(["order", "nearest_hazard_m", "incidents", "settlement_id"])
    assert [row[0] for row in shown] == worst.settlement_id.head(8).tolist()
    by_id = table.set_index("settlement_id")
    for row in shown:
        want = by_id.loc[row[0]]
        assert row[3] == f"{want.remaining_ha_500m:,.2f}"
        assert row[5] == f"{want.remaining_ha_2000m:,.2f}"
        assert row[6] == f"{want.nearest_hazard_m:,.0f}" and row[8] == want.status
        assert " ".join(row[9:]) == want.reason


def test_csv_is_the_full_table_worst_first(sample: Sample, layers: Layers, capsys: Capsys) -> None:
    status, out, _ = run(base(sample, "--format", "csv", "--top", "3"), capsys)
    assert status == 0
    rows = pd.read_csv(io.StringIO(out), dtype={"settlement_id": str, "name": str})
    assert len(rows) == 60  # --top only shortens the printed table
    assert rows.columns[-1] == "as_of" and rows["as_of"].isna().all()
    assert_rows_equal(rows.drop(columns="as_of"), expected_readiness(layers))
    assert_worst_first(rows)


def test_layer_output_holds_every_settlement_with_its_status(
    sample: Sample, layers: Layers, tmp_path: Path, capsys: Capsys
) -> None:
    gpkg, table = tmp_path / "out.gpkg", tmp_path / "table.txt"
    argv = base(sample, "--layer-output", gpkg, "-o", table)
    status, out, _ = run(argv, capsys)
    assert status == 0 and out == ""
    assert table.read_text(encoding="utf-8").endswith(
        f"Settlements written to {gpkg} (layer settlement_readiness).\n"
    )
    written = gpd.read_file(gpkg, layer="settlement_readiness").set_index("settlement_id")
    expected = expected_readiness(layers).set_index("settlement_id")
    assert written.loc[expected.index, "status"].tolist() == expected.status.tolist()
    assert written.loc[expected.index, "remaining_ha_1000m"].to_numpy() == pytest.approx(
        expected.remaining_ha_1000m.to_numpy()
    )
    assert written.crs == expected.crs
    assert (
        written.loc[expected.index]
        .geometry.geom_equals_exact(expected.geometry, tolerance=1e-9)
        .all()
    )
    # again, and the communities at risk beside it: each run replaces its own layer
    assert run(argv, capsys)[0] == 0
    assert run(base(sample, "--at-risk", "--layer-output", gpkg), capsys)[0] == 0
    assert sorted(pyogrio.list_layers(gpkg)[:, 0]) == [
        "communities_at_risk",
        "settlement_readiness",
    ]
    status, out, _ = run(base(sample, "--layer-output", tmp_path / "out.geojson"), capsys)
    assert status == 0 and out.endswith(f"Settlements written to {tmp_path / 'out.geojson'}.\n")
    assert len(gpd.read_file(tmp_path / "out.geojson")) == 60


def test_unsorted_radii_are_sorted_and_as_of_dates_the_releases(
    sample: Sample, layers: Layers, capsys: Capsys
) -> None:
    argv = base(sample, "--radii", " 2000, 300,2000", "--as-of", "2023-06-30", "--format", "json")
    status, out, _ = run(argv, capsys)
    assert status == 0
    doc = json.loads(out)
    assert doc["radii_m"] == [300.0, 2000.0] and doc["as_of"] == "2023-06-30"
    assert list(doc["rows"][0])[3:7] == [
        "remaining_ha_300m",
        "percent_released_300m",
        "remaining_ha_2000m",
        "percent_released_2000m",
    ]
    expected = expected_readiness(layers, radii_m=(300, 2000), as_of="2023-06-30")
    assert_rows_equal(pd.DataFrame(doc["rows"]), expected)


# ------------------------------------------------------------------------------------------
# the rule
# ------------------------------------------------------------------------------------------


def test_a_custom_rule_changes_the_statuses_as_it_says(
    sample: Sample, layers: Layers, capsys: Capsys
) -> None:
    argv = base(
        sample,
        "--blocked-within",
        "100",
        "--conditional-within",
        "1000",
        "--blocking-incidents",
        "2",
        "--incident-radius",
        "1500",
        "--incident-since",
        "2023-01-01",
        "--format",
        "json",
    )
    status, out, _ = run(argv, capsys)
    assert status == 0
    doc = json.loads(out)
    assert doc["rule"] == (
        "blocked: remaining hazard within 100 m, or 2 or more incidents within 1500 m since "
        "2023-01-01; conditional: remaining hazard within 1000 m; ready: otherwise"
    )
    assert (doc["blocked_within_m"], doc["conditional_within_m"]) == (100.0, 1000.0)
    assert doc["blocking_incidents"] == 2 and doc["incident_radius_m"] == 1500.0
    rows = pd.DataFrame(doc["rows"]).set_index("settlement_id")
    # the rule, applied by hand to the distances and counts
    nearest, incidents = rows["nearest_hazard_m"].astype(float), rows["incidents_1500m"]
    by_hand = [
        "blocked" if d <= 100 or n >= 2 else "conditional" if d <= 1000 else "ready"
        for d, n in zip(nearest, incidents, strict=True)
    ]
    assert rows["status"].tolist() == by_hand
    assert set(by_hand) == {"blocked", "conditional", "ready"}
    default = expected_readiness(layers).set_index("settlement_id").loc[rows.index]
    assert (default.status != rows.status).sum() > 10  # the rule did change things
    expected = expected_readiness(
        layers,
        rule=ReadinessRule(100, 1000, 2),
        incident_radius_m=1500,
        incident_since="2023-01-01",
    )
    assert_rows_equal(rows.reset_index(), expected)


def test_incidents_can_be_told_never_to_block(sample: Sample, capsys: Capsys) -> None:
    status, out, _ = run(base(sample, "--blocking-incidents", "0", "--format", "json"), capsys)
    assert status == 0
    doc = json.loads(out)
    assert "incidents" not in doc["rule"] and doc["blocking_incidents"] == 0
    assert all("incident" not in row["reason"] for row in doc["rows"])


# ------------------------------------------------------------------------------------------
# communities at risk
# ------------------------------------------------------------------------------------------


def test_at_risk_equals_the_python_function(sample: Sample, layers: Layers, capsys: Capsys) -> None:
    argv = base(sample, "--at-risk", "--at-risk-within", "1500", "--incident-since", "2024-01-01")
    status, out, _ = run([*argv, "--format", "json"], capsys)
    assert status == 0
    doc = json.loads(out)
    expected = communities_at_risk(
        layers["settlements"],
        layers["hazards"],
        layers["releases"],
        incidents=layers["incidents"],
        within_m=1500,
        since="2024-01-01",
    )
    assert doc["within_m"] == 1500.0 and doc["incident_within_m"] == 1500.0
    assert doc["since"] == "2024-01-01" and doc["settlements_at_risk"] == len(expected)
    rows = pd.DataFrame(doc["rows"])
    assert rows["rank"].tolist() == list(range(1, len(expected) + 1))
    assert rows["settlement_id"].tolist() == expected.settlement_id.tolist()
    for column in ("population", "nearest_hazard_m", "remaining_ha_within"):
        assert rows[column].astype(float).to_numpy() == pytest.approx(
            expected[column].to_numpy(), abs=ROUNDED, nan_ok=True
        )
    assert rows["reason"].tolist() == expected.reason.tolist()
    status, out, _ = run([*argv, "--top", "3"], capsys)
    assert status == 0
    assert f"{len(expected)} settlements at risk" in out
    assert "within 1500 m or an incident within 1500 m since 2024-01-01" in out
    assert f"3 of {len(expected)} communities" in out


def test_at_risk_counts_people_in_a_population_raster(sample: Sample, capsys: Capsys) -> None:
    pytest.importorskip("rasterio")
    pytest.importorskip("exactextract")
    raster = shutil.copy(SAMPLE / "population.tif", sample["gpkg"].parent / "population.tif")
    argv = base(sample, "--at-risk", "--population", raster, "--population-radius", "500")
    status, out, _ = run([*argv, "--format", "csv"], capsys)
    assert status == 0
    rows = pd.read_csv(io.StringIO(out))
    assert set(rows["population_source"]) == {"population.tif within 500 m"}
    assert (rows["population"] > 0).all()
    assert rows["population"].tolist() == sorted(rows["population"], reverse=True)


# ------------------------------------------------------------------------------------------
# untrusted text, known answers
# ------------------------------------------------------------------------------------------

HOSTILE = ['=HYPERLINK("http://x")', "\x1b[31mred", "<script>alert(1)</script>"]


@pytest.fixture
def hostile(tmp_path: Path) -> dict[str, Path]:
    """A 1 km square hazard whose near edge is 700 m east of the first village (UTM 38N);
    the others are 5.7 km and 10 km away. The villages' names are hostile."""
    crs = 32638
    settlements = gpd.GeoDataFrame(
        {"settlement_id": ["S1", "S2", "S3"], "name": HOSTILE, "population": [1200.0, 80, 5]},
        geometry=[Point(500_000, 4_400_000), Point(495_000, 4_400_000), Point(500_000, 4_410_000)],
        crs=crs,
    )
    hazards = gpd.GeoDataFrame(
        {"hazard_id": ["H1"], "threat_level": ["high"]},
        geometry=[box(500_700, 4_399_500, 501_700, 4_400_500)],
        crs=crs,
    )
    paths = {"settlements": tmp_path / "villages.gpkg", "hazards": tmp_path / "hazards.gpkg"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        pyogrio.write_dataframe(settlements, paths["settlements"])
        pyogrio.write_dataframe(hazards, paths["hazards"])
    return paths


def test_hostile_names_are_inert_in_every_output(
    hostile: Sample, tmp_path: Path, capsys: Capsys
) -> None:
    argv = ["readiness", hostile["hazards"], "--settlements", hostile["settlements"]]
    status, out, _ = run(argv, capsys)
    assert status == 0
    assert "\x1b" not in out and "\\x1b[31mred" in out  # shown, never obeyed
    assert "<script>alert(1)</script>" in out  # plain text on a terminal

    status, out, _ = run([*argv, "--format", "csv"], capsys)
    assert status == 0
    rows = pd.read_csv(io.StringIO(out), dtype=str).set_index("settlement_id")
    assert rows.loc["S1", "name"] == "'" + HOSTILE[0]  # a spreadsheet shows it as text
    assert not any(str(v).startswith(("=", "+", "@")) for v in rows.to_numpy().ravel())

    status, out, _ = run([*argv, "--format", "json"], capsys)
    assert status == 0
    doc = json.loads(out)
    assert {row["settlement_id"]: row["name"] for row in doc["rows"]} == dict(
        zip(["S1", "S2", "S3"], HOSTILE, strict=True)
    )
    assert "\x1b" not in out  # JSON escapes it

    layer = tmp_path / "villages.csv"
    assert run([*argv, "--layer-output", layer], capsys)[0] == 0
    written = pd.read_csv(layer, dtype=str).set_index("settlement_id")
    assert written.loc["S1", "name"] == "'" + HOSTILE[0]


def test_known_answer_distance_is_geodesic(hostile: Sample, capsys: Capsys) -> None:
    argv = ["readiness", hostile["hazards"], "--settlements", hostile["settlements"]]
    status, out, _ = run([*argv, "--format", "json"], capsys)
    assert status == 0
    rows = {row["settlement_id"]: row for row in json.loads(out)["rows"]}
    to_lonlat = pyproj.Transformer.from_crs(32638, 4326, always_xy=True)
    lon, lat = to_lonlat.transform([500_000, 500_700], [4_400_000, 4_400_000])
    metres = pyproj.Geod(ellps="WGS84").inv(lon[0], lat[0], lon[1], lat[1])[2]
    assert rows["S1"]["nearest_hazard_m"] == pytest.approx(metres, abs=0.01)
    assert rows["S1"]["status"] == "conditional"  # 700 m: beyond 500, within 2000
    assert rows["S1"]["remaining_ha_500m"] == 0.0
    assert rows["S2"]["status"] == rows["S3"]["status"] == "ready"
    assert list(rows) == ["S1", "S2", "S3"]  # conditional first, then ready by distance


# ------------------------------------------------------------------------------------------
# bad options: one line, exit status 2, nothing written
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--radii", "500,-100"], r"--radii: '500,-100': '-100' is not a distance"),
        (["--radii", "near,far"], r"'near' is not a distance"),
        (["--radii", ""], r"--radii: empty; give one or more distances"),
        (["--radii", "500,,1000"], r"'' is not a distance"),
        (["--radii", "nan"], r"'nan' is not a distance"),
        (["--blocked-within", "0"], r"--blocked-within: '0' is not a distance"),
        (["--blocking-incidents", "1.5"], r"--blocking-incidents: '1.5': give a whole number"),
        (
            ["--blocked-within", "800", "--conditional-within", "600"],
            r"--conditional-within 600 m is less than --blocked-within 800 m",
        ),
        (
            ["--blocked-within", "3000"],
            r"defaults to the largest of --radii \(2000 m\): give --conditional-within 3000",
        ),
        (["--at-risk", "--radii", "500"], r"--radii applies to return readiness only"),
        (["--population", "p.tif"], r"--population applies to --at-risk only"),
        (["--incident-since", "01/02/2023"], r"--incident-since 01/02/2023 .* not an ISO date"),
        (["--settlements-columns", "town=Name"], r"--settlements-columns 'town=Name'"),
    ],
)
def test_bad_options_exit_2_with_one_line_and_write_nothing(
    sample: Sample, tmp_path: Path, capsys: Capsys, extra: list[str], message: str
) -> None:
    outputs = ["-o", tmp_path / "t.csv", "--layer-output", tmp_path / "s.gpkg"]
    status, out, err = run(base(sample, *outputs, *extra), capsys)
    assert status == 2 and out == ""
    errors = [line for line in err.splitlines() if line.startswith("minemap: error: ")]
    assert len(errors) == 1 and errors == err.splitlines()[-1:], err
    assert re.search(message, errors[0]), errors[0]
    assert list(tmp_path.iterdir()) == []


def test_settlements_are_required(sample: Sample, capsys: Capsys) -> None:
    status, _, err = run(["readiness", sample["gpkg"], "--released", sample["gpkg"]], capsys)
    assert status == 2
    assert err == (
        "minemap: error: the following arguments are required: --settlements; "
        "see 'minemap readiness --help'.\n"
    )


def test_outputs_onto_an_input_or_foreign_data_are_refused(
    sample: Sample, tmp_path: Path, capsys: Capsys
) -> None:
    before = {p: p.read_bytes() for p in sample.values()}
    for option, path in (("-o", sample["incidents"]), ("--layer-output", sample["gpkg"])):
        status, _, err = run(base(sample, option, path), capsys)
        assert status == 2 and "would destroy that input" in err, err
    foreign = tmp_path / "roads.geojson"
    foreign.write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    status, _, err = run(base(sample, "--layer-output", foreign), capsys)
    assert status == 2 and "holds other data than settlements minemap wrote" in err
    status, _, err = run(base(sample, "--layer-output", tmp_path / "s.shp.zip"), capsys)
    assert status == 2 and "cuts column names to 10 characters" in err
    status, _, err = run(base(sample, "--layer-output", "-"), capsys)
    assert status == 2 and "written to a file" in err
    assert {p: p.read_bytes() for p in sample.values()} == before
    assert foreign.read_text(encoding="utf-8").startswith('{"type": "FeatureCollection"')
    assert sorted(p.name for p in tmp_path.iterdir()) == ["roads.geojson"]


def test_options_without_incidents_warn_that_they_do_nothing(
    sample: Sample, capsys: Capsys
) -> None:
    argv = ["readiness", sample["gpkg"], "--settlements", sample["gpkg"], "--format", "json"]
    status, out, err = run([*argv, "--incident-radius", "800", "--as-of", "2024-01-01"], capsys)
    assert status == 0
    warned = json.loads(out)["warnings"]
    assert "--incident-radius has no effect without --incidents" in " ".join(warned)
    assert "--as-of has no effect without --released or --incidents" in " ".join(warned)
    assert "minemap: warning: --incident-radius has no effect" in err


def test_help_explains_every_option(capsys: Capsys) -> None:
    status, out, _ = run(["readiness", "--help"], capsys)
    assert status == 0
    text = " ".join(out.split())
    assert "--at-risk list the communities at risk, most people first" in text
    assert "(default: 500,1000,2000)" in text and "(default: 25)" in text
    assert "[--settlements FILE]" not in text and " --settlements FILE " in text
    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command")
    sub = commands.choices["readiness"]  # type: ignore[index]
    assert all(action.help for action in sub._actions)
