"""Tests of the ``minemap evidence`` command (minemap.cli.evidence)."""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import warnings
from pathlib import Path
from typing import Any, TypedDict

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from scipy import stats
from shapely import Point, box

import minemap
from minemap import cli
from minemap.cli.evidence import TABLES
from minemap.evidence import (
    DEFINITIONS,
    RecordAccuracy,
    device_density,
    estimate_remaining_devices,
    record_accuracy,
)
from minemap.io import evidence as evidence_io

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"
GPKG = SAMPLE / "scenario.gpkg"
BASE = ["evidence", GPKG, "--released", GPKG, "--finds", GPKG]
RECORDS = ["--records", GPKG]
HOSTILE_LINK = '=HYPERLINK("http://x")'
HOSTILE_ANSI = "\x1b[31mred"
HOSTILE_ID = "\x1b[2JMR-2"

#: Exit status, standard output and standard error of a command.
Output = tuple[int, str, str]


class Direct(TypedDict):
    """The sample data's figures as the Python functions give them."""

    density: pd.DataFrame
    remaining: pd.DataFrame
    accuracy: RecordAccuracy


def invoke(argv: list[object]) -> Output:
    """Run the command line: exit status, standard output, standard error."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = cli.run([str(a) for a in argv])
        except SystemExit as exc:  # argparse refusing an option
            status = int(exc.code or 0)
    return status, out.getvalue(), err.getvalue()


def error_line(err: str) -> str:
    """The one error line of a failed command (warnings may come before it)."""
    lines = err.splitlines()
    errors = [line for line in lines if line.startswith("minemap: error:")]
    assert len(errors) == 1 and lines[-1] == errors[0], err
    assert all(line.startswith(("minemap: error:", "minemap: warning:")) for line in lines)
    assert "Traceback" not in err
    return errors[0]


def flat(text: str) -> str:
    """Text with every run of white space as one space (the table output wraps its notes)."""
    return " ".join(text.split())


def block(out: str, title: str) -> list[str]:
    """The lines of the part of the table output whose first line starts with ``title``."""
    for part in out.split("\n\n"):
        if part.startswith(title):
            return part.splitlines()
    raise AssertionError(f"no part titled {title!r} in:\n{out}")


def _text(value: object) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def assert_same(got: pd.DataFrame, want: pd.DataFrame) -> None:
    """Rows written by the command (CSV read as text, or JSON) equal a function's table:
    numbers within the rounding of the output (4 decimals; densities 6 digits)."""
    want = pd.DataFrame(want).drop(columns="geometry", errors="ignore")
    assert len(got) == len(want)
    for column in want.columns:
        expected = want[column]
        if pd.api.types.is_numeric_dtype(expected) and not pd.api.types.is_bool_dtype(expected):
            values = pd.to_numeric(got[column].replace("", np.nan)).to_numpy(dtype=float)
            wanted = expected.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
            # densities keep 6 significant digits (0.00005 devices per ha is not 0.0001)
            atol = 0.0 if column.startswith("devices_per_ha") else 1e-4
            np.testing.assert_allclose(values, wanted, rtol=1e-5, atol=atol, err_msg=column)
        else:
            assert [_text(v) for v in got[column]] == [_text(v) for v in expected], column


def read_csv(text: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def direct() -> Direct:
    """The figures of the sample data as the Python functions give them."""
    hazards = minemap.read_hazards(GPKG)
    releases = minemap.read_releases(GPKG)
    finds = evidence_io.read_finds(GPKG)
    records = evidence_io.read_records(GPKG)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", minemap.DataWarning)  # three finds outside hazards
        return {
            "density": device_density(hazards, releases, finds),
            "remaining": estimate_remaining_devices(hazards, releases, finds),
            "accuracy": record_accuracy(records, finds, releases),
        }


@pytest.fixture(scope="module")
def table_output() -> Output:
    return invoke([*BASE, *RECORDS])


@pytest.fixture(scope="module")
def json_doc() -> dict[str, Any]:
    status, out, _ = invoke([*BASE, *RECORDS, "--format", "json"])
    assert status == 0
    return json.loads(out)


# --------------------------------------------------------------------------- table output


def test_density_section_states_the_interval_and_the_functions_figures(
    table_output: Output, direct: Direct
) -> None:
    status, out, err = table_output
    assert status == 0
    density = direct["density"]
    lines = block(out, "Device density on released land (devices found per hectare released")
    assert (
        "95% exact (Garwood) Poisson interval of the device count; it assumes devices lie "
        "independently of each other, so mines laid in rows or clusters make the true "
        "interval wider"
    ) in flat("\n".join(lines[:5]))
    rows = {tuple(line.split()[:2]): line.split() for line in lines}
    for _, want in density.iterrows():
        cells = rows[(want.threat_level, want.method)]
        assert cells[2] == f"{want.released_ha:,.2f}"
        assert cells[3:5] == [f"{want.devices:,}", f"{want.finds:,}"]
        assert float(cells[5]) == pytest.approx(want.devices_per_ha, rel=1e-3, abs=1e-12)
        assert cells[7] == "–"  # low – high
        assert float(cells[6]) == pytest.approx(want.devices_per_ha_low, rel=1e-3, abs=1e-12)
        assert float(cells[8]) == pytest.approx(want.devices_per_ha_high, rel=1e-3)
        assert cells[9:] == [f"{want.no_find_ha:,.2f}", f"{want.percent_no_find:.2f}"]
    assert "minemap: warning:" in err and "outside every hazard area" in err


def test_density_section_gives_the_no_find_share_and_every_find_left_out(
    table_output: Output, direct: Direct
) -> None:
    _, out, _ = table_output
    density = direct["density"]
    attrs = density.attrs
    text = flat(out)
    cleared = density[density.method == "cleared"].set_index("threat_level")
    shares = ", ".join(
        f"{level} {row.percent_no_find:.2f}% of {row.released_ha:,.2f} ha"
        for level, row in cleared.iterrows()
    )
    assert f"(no-find: a release record's land in one threat level holding no find): {shares}" in (
        text
    )
    assert attrs["finds_outside"] == 3  # the sample places three finds outside every hazard
    grand = density.iloc[-1]
    assert (
        f"Finds: {attrs['finds_total']} finds ({attrs['devices_total']} devices): on released "
        f"land (in the densities): {grand.finds} finds ({grand.devices} devices) in hazard land "
        f"not (yet) released (in no density): {attrs['finds_in_unreleased']} finds "
        f"({attrs['devices_in_unreleased']} devices) outside every hazard area (in no density; "
        f"check their coordinates): {attrs['finds_outside']} finds ({attrs['devices_outside']} "
        "devices)"
    ) in text
    assert (
        grand.finds + attrs["finds_outside"] + attrs["finds_in_unreleased"]
        == (attrs["finds_total"])
    )
    assert (
        "Released outside hazard areas (not counted above): "
        f"{attrs['released_outside_hazards_ha']:,.2f} ha" in text
    )


def test_remaining_section_gives_the_estimate_per_level_with_its_interval(
    table_output: Output, direct: Direct
) -> None:
    _, out, _ = table_output
    remaining = direct["remaining"]
    lines = block(out, "Devices likely remaining in hazard land not (yet) released")
    assert "devices per hectare of cleared land, per level" in lines[0]
    assert "Fay-Feuer" in flat("\n".join(lines))
    rows = {line.split()[0]: line for line in lines}
    assert set(remaining.threat_level) <= set(rows)
    for _, want in remaining.iterrows():
        line = rows[want.threat_level]
        assert f"{want.remaining_ha:,.2f}" in line.split()
        interval = f"{want.devices_low:,.1f} – {want.devices_high:,.1f}"
        assert f"{want.devices_estimate:,.1f} {interval}" in flat(line)
    assert remaining.loc[remaining.threat_level == "high", "devices_estimate"].iloc[0] > 0


def test_records_section_prints_each_figure_beside_its_definition(
    table_output: Output, direct: Direct
) -> None:
    _, out, _ = table_output
    accuracy = direct["accuracy"]
    summary = pd.Series(accuracy.summary.to_dict(orient="records")[0], dtype=object)
    lines = block(out, "Minefield record accuracy: 40 records, tolerance 50 m")
    text = flat("\n".join(lines))
    verifiable = summary.confirmed + summary.inaccurate
    for status in ("confirmed", "inaccurate", "unverified"):
        assert f"{status}: {summary[status]} records {flat(DEFINITIONS[status])}" in text
    assert (
        f"accurate records (percent_confirmed): {summary.percent_confirmed:.2f}% "
        f"({summary.confirmed} of {verifiable} verifiable records) "
        f"{DEFINITIONS['percent_confirmed']}"
    ) in text
    assert (
        f"finds in records (percent_finds_in_records): {summary.percent_finds_in_records:.2f}% "
        f"({summary.finds_in_records} of {summary.finds} finds) "
        f"{flat(DEFINITIONS['percent_finds_in_records'])}"
    ) in text
    assert f"found to recorded (found_to_recorded): {summary.found_to_recorded:.2f} (" in text
    for term in ("record", "tolerance_m", "released_share"):
        assert f"{term}: {flat(DEFINITIONS[term])}" in text
    inaccurate = accuracy.records.loc[accuracy.records.status == "inaccurate", "record_id"]
    assert f"Inaccurate records: '{inaccurate.iloc[0]}'" in text


# --------------------------------------------------------------------------- JSON and CSV


def test_json_document_holds_every_table_with_the_functions_figures(
    json_doc: dict[str, Any], direct: Direct
) -> None:
    doc = json_doc
    assert set(doc) == {
        "units",
        "as_of",
        "edges",
        "area_frame",
        "confidence",
        "density",
        "remaining",
        "records",
        "warnings",
    }
    assert doc["units"]["area"].startswith("ha") and doc["units"]["density"] == "devices per ha"
    assert doc["confidence"] == 0.95 and doc["as_of"] is None
    density = direct["density"]
    assert doc["density"]["interval_method"] == "poisson"
    assert doc["density"]["interval"] == density.attrs["interval"]
    for key in ("finds_total", "finds_outside", "devices_outside", "finds_in_unreleased"):
        assert doc["density"][key] == density.attrs[key]
    assert doc["density"]["released_outside_hazards_ha"] == pytest.approx(
        density.attrs["released_outside_hazards_ha"], abs=1e-4
    )
    assert_same(pd.DataFrame(doc["density"]["rows"]), density)
    assert_same(pd.DataFrame(doc["remaining"]["rows"]), direct["remaining"])
    accuracy = direct["accuracy"]
    assert_same(pd.DataFrame([doc["records"]["summary"]]), accuracy.summary)
    assert_same(pd.DataFrame(doc["records"]["rows"]), accuracy.records)
    assert doc["records"]["tolerance_m"] == 50.0
    assert doc["records"]["definitions"] == DEFINITIONS
    # every percentage and ratio of the summary has its meaning in words
    meanings = doc["records"]["summary_definitions"]
    figures = [k for k in doc["records"]["summary"] if k.startswith("percent_")]
    assert set(figures) | {"found_to_recorded"} <= set(meanings)
    assert meanings["percent_confirmed"] == DEFINITIONS["percent_confirmed"]
    assert any("outside every hazard area" in w for w in doc["warnings"])


@pytest.mark.parametrize("table", TABLES)
def test_csv_holds_the_table_chosen(table: str, direct: Direct) -> None:
    status, out, _ = invoke([*BASE, *RECORDS, "--format", "csv", "--table", table])
    assert status == 0
    got = read_csv(out)
    accuracy = direct["accuracy"]
    want, extra = {
        "density": (direct["density"], ["confidence", "interval", "as_of"]),
        "remaining": (direct["remaining"], ["confidence", "as_of"]),
        "records": (accuracy.records.drop(columns="geometry"), ["tolerance_m"]),
        "records-summary": (accuracy.summary, ["tolerance_m", "min_released_share"]),
    }[table]
    assert got.columns.tolist() == [*want.columns, *extra]
    assert_same(got, want)
    if table == "density":
        assert set(got["interval"]) == {"poisson"} and set(got["confidence"]) == {"0.95"}


def test_csv_to_a_file_is_the_density_table_written_whole(tmp_path: Path, direct: Direct) -> None:
    target = tmp_path / "evidence.csv"
    status, out, _ = invoke([*BASE, "-o", target])
    assert status == 0 and out == ""
    assert_same(read_csv(target.read_text(encoding="utf-8")), direct["density"])
    assert os.listdir(tmp_path) == ["evidence.csv"]


def test_bootstrap_by_district_as_of_matches_the_functions() -> None:
    argv = ["--by", "district", "--as-of", "2024-06-30", "--interval", "bootstrap"]
    status, out, _ = invoke([*BASE, *argv, "--draws", "200", "--seed", "3", "--format", "json"])
    assert status == 0
    doc = json.loads(out)
    hazards, releases = minemap.read_hazards(GPKG), minemap.read_releases(GPKG)
    finds = evidence_io.read_finds(GPKG)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", minemap.DataWarning)
        density = device_density(
            hazards,
            releases,
            finds,
            by="district",
            as_of="2024-06-30",
            interval="bootstrap",
            draws=200,
            seed=3,
        )
        remaining = estimate_remaining_devices(
            hazards, releases, finds, by="district", as_of="2024-06-30"
        )
    assert doc["as_of"] == "2024-06-30" and doc["records"] is None
    assert doc["density"]["draws"] == 200 and doc["density"]["seed"] == 3
    assert doc["density"]["finds_after_as_of"] == density.attrs["finds_after_as_of"] > 0
    assert doc["density"]["rows"][0]["district"] == "District A"
    assert_same(pd.DataFrame(doc["density"]["rows"]), density)
    assert_same(pd.DataFrame(doc["remaining"]["rows"]), remaining)


def test_bootstrap_gives_the_same_no_find_land_as_poisson(json_doc: dict[str, Any]) -> None:
    status, out, _ = invoke(
        [*BASE, "--interval", "bootstrap", "--draws", "200", "--format", "json"]
    )
    assert status == 0
    bootstrap = pd.DataFrame(json.loads(out)["density"]["rows"])
    poisson = pd.DataFrame(json_doc["density"]["rows"])
    np.testing.assert_allclose(bootstrap["no_find_ha"], poisson["no_find_ha"], atol=1e-4)


# --------------------------------------------------------------------------- refusals


def test_help_explains_every_option() -> None:
    status, out, _ = invoke(["evidence", "--help"])
    assert status == 0
    text = flat(out)
    assert "--released RELEASES" in text and "--finds FILE device finds, required" in text
    assert "[--finds FILE]" not in text  # the usage line shows it as required, as it is
    assert "--table {density,remaining,records,records-summary}" in text
    assert "(default: poisson)" in text and "(default: 0.95)" in text
    assert "bootstrap draws (default 1,000)" in text and "(default 50)" in text


def test_finds_and_releases_are_required() -> None:
    status, out, err = invoke(["evidence", GPKG, "--released", GPKG])
    assert status == 2 and out == ""
    assert error_line(err) == (
        "minemap: error: the following arguments are required: --finds; "
        "see 'minemap evidence --help'."
    )
    status, _, err = invoke(["evidence", GPKG, "--finds", GPKG])
    assert status == 2
    assert "the following arguments are required: --released" in error_line(err)


@pytest.mark.parametrize(
    "value, message",
    [
        (
            "0",
            "--confidence 0.0 (Python: confidence=0.0) is not a confidence level; give a "
            "number between 0 and 1, e.g. 0.95.",
        ),
        ("1.5", "--confidence 1.5 (Python: confidence=1.5) is not a confidence level"),
        ("x", "argument --confidence: invalid float value: 'x'"),
    ],
)
def test_a_bad_confidence_is_one_line_and_writes_nothing(
    tmp_path: Path, value: str, message: str
) -> None:
    target = tmp_path / "evidence.json"
    target.write_text("previous\n", encoding="utf-8")
    status, out, err = invoke([*BASE, "--confidence", value, "-o", target])
    assert status == 2 and out == ""
    assert message in error_line(err)
    assert target.read_text(encoding="utf-8") == "previous\n"
    assert os.listdir(tmp_path) == ["evidence.json"]


def test_a_bad_interval_is_one_line() -> None:
    status, out, err = invoke([*BASE, "--interval", "normal"])
    assert status == 2 and out == ""
    assert "argument --interval: invalid choice: 'normal'" in error_line(err)


def test_output_onto_an_input_is_refused(tmp_path: Path) -> None:
    finds = gpd.read_file(SAMPLE / "finds.geojson")
    table = pd.DataFrame(finds.drop(columns="geometry")).assign(
        lon=finds.geometry.x, lat=finds.geometry.y
    )
    path = tmp_path / "finds.csv"
    table.to_csv(path, index=False)
    before = path.read_bytes()
    status, _, err = invoke(["evidence", GPKG, "--released", GPKG, "--finds", path, "-o", path])
    assert status == 2
    assert "also an input" in error_line(err) and "would destroy that input" in err
    assert path.read_bytes() == before


def test_records_tables_need_records_and_unused_options_are_said() -> None:
    status, out, err = invoke([*BASE, "--format", "csv", "--table", "records"])
    assert status == 2 and out == ""
    assert "--table records needs --records FILE" in error_line(err)
    status, out, err = invoke([*BASE, "--table", "remaining", "--draws", "10", "--tolerance", "5"])
    assert status == 0 and out.startswith("Device density on released land")
    warned = flat(err)
    assert "--table only chooses the table of CSV output; table output holds all" in warned
    assert "--draws only applies to --interval bootstrap; it is ignored." in warned
    assert "--tolerance only applies to --records; it is ignored." in warned


# --------------------------------------------------------------------------- known answers


SIDE = 100_000**0.5  # a square of this side in an equal-area CRS is 10 ha
LAEA = "+proj=laea +lat_0=40 +lon_0=47 +ellps=WGS84 +units=m"


def _write(gdf: gpd.GeoDataFrame, path: Path) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        pyogrio.write_dataframe(gdf, path)
    return path


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two 20 ha hazards in districts with hostile names, each half released: the high one
    cleared with 25 devices found, the medium one reduced. Two records with hostile ids: a point on
    the find (confirmed) and a perimeter on the reduced land far from it (inaccurate)."""
    folder = tmp_path_factory.mktemp("small")
    s = SIDE
    hazards = gpd.GeoDataFrame(
        {"hazard_id": ["H1", "H2"], "threat_level": ["high", "medium"]},
        geometry=[box(0, 0, 2 * s, s), box(0, 2 * s, 2 * s, 3 * s)],
        crs=LAEA,
    ).assign(district=[HOSTILE_LINK, HOSTILE_ANSI])
    releases = gpd.GeoDataFrame(
        {
            "release_id": ["R1", "R2"],
            "method": ["cleared", "reduced"],
            "release_date": ["2023-05-01", "2023-06-01"],
        },
        geometry=[box(0, 0, s, s), box(0, 2 * s, s, 3 * s)],
        crs=LAEA,
    )
    finds = gpd.GeoDataFrame(
        {
            "find_id": ["F1"],
            "find_date": ["2023-04-01"],
            "device_type": ["ap_mine"],
            "device_count": [25],
            "release_id": ["R1"],
        },
        geometry=[Point(100, 100)],
        crs=LAEA,
    )
    records = gpd.GeoDataFrame(
        {
            "record_id": [HOSTILE_LINK, HOSTILE_ID],
            "recorded_devices": [20, 4],
            "device_type": ["ap_mine", "ap_mine"],
        },
        geometry=[Point(110, 100), box(60, 2 * s + 60, s - 60, 3 * s - 60)],
        crs=LAEA,
    )
    return {
        name: _write(gdf, folder / f"{name}.gpkg")
        for name, gdf in (
            ("hazards", hazards),
            ("releases", releases),
            ("finds", finds),
            ("records", records),
        )
    }


def small_argv(small: dict[str, Path], *extra: object) -> list[object]:
    return [
        "evidence",
        small["hazards"],
        "--released",
        small["releases"],
        "--finds",
        small["finds"],
        *extra,
    ]


def test_known_answers_of_a_hand_made_case(small: dict[str, Path]) -> None:
    status, out, err = invoke(small_argv(small, "--format", "json"))
    assert status == 0 and err == ""
    doc = json.loads(out)
    rows = {(r["threat_level"], r["method"]): r for r in doc["density"]["rows"]}
    high = rows[("high", "cleared")]
    assert high["released_ha"] == pytest.approx(10.0, abs=1e-4)
    assert high["devices"] == 25 and high["devices_per_ha"] == pytest.approx(2.5, rel=1e-6)
    # exact Poisson (Garwood) bounds of 25 devices, over 10 ha
    low = stats.chi2.ppf(0.025, 50) / 2 / 10
    top = stats.chi2.ppf(0.975, 52) / 2 / 10
    assert high["devices_per_ha_low"] == pytest.approx(low, rel=1e-5)
    assert high["devices_per_ha_high"] == pytest.approx(top, rel=1e-5)
    assert rows[("medium", "reduced")]["released_ha"] == pytest.approx(10.0, abs=1e-4)
    assert rows[("medium", "reduced")]["no_find_ha"] == pytest.approx(10.0, abs=1e-4)
    estimate = {r["threat_level"]: r for r in doc["remaining"]["rows"]}
    assert estimate["high"]["remaining_ha"] == pytest.approx(10.0, abs=1e-4)
    assert estimate["medium"]["remaining_ha"] == pytest.approx(10.0, abs=1e-4)
    assert estimate["high"]["devices_estimate"] == pytest.approx(25.0, rel=1e-6)
    assert estimate["medium"]["devices_estimate"] is None
    assert estimate["medium"]["reason"] == "no cleared land of this level"
    assert estimate["total"]["reason"] == "no estimate for medium"
    status, out, _ = invoke(small_argv(small))
    assert status == 0
    assert "Minefield record accuracy: not computed (give --records FILE)." in out
    assert "reason (no estimate)" in out and "no cleared land of this level" in out
    assert "25 devices in 10.00 ha" in out and "in 0.00 ha" not in out  # no density from none


def test_hostile_names_and_ids_stay_text(small: dict[str, Path]) -> None:
    extra = ["--by", "district", "--records", small["records"]]
    status, out, err = invoke(small_argv(small, *extra))
    assert status == 0
    assert "\x1b" not in out + err
    assert "\\x1b[31mred" in out  # the district, shown, not obeyed
    assert "\\x1b[31mred: high" in flat(out) or "\\x1b[31mred: medium" in flat(out)
    assert "Inaccurate records: '\\x1b[2JMR-2'" in flat(out)
    status, out, _ = invoke(small_argv(small, *extra, "--format", "csv"))
    assert status == 0
    districts = set(read_csv(out)["district"])
    assert "'" + HOSTILE_LINK in districts and HOSTILE_LINK not in districts
    status, out, _ = invoke(small_argv(small, *extra, "--format", "csv", "--table", "records"))
    assert status == 0
    records = read_csv(out).set_index("record_id")
    assert records.loc["'" + HOSTILE_LINK, "status"] == "confirmed"
    assert records.loc[HOSTILE_ID, "status"] == "inaccurate"
    status, out, _ = invoke(small_argv(small, *extra, "--format", "json"))
    assert status == 0
    assert "\x1b" not in out  # JSON escapes it
    doc = json.loads(out)
    assert [r["record_id"] for r in doc["records"]["rows"]] == [HOSTILE_LINK, HOSTILE_ID]
    assert {r["district"] for r in doc["density"]["rows"]} == {HOSTILE_LINK, HOSTILE_ANSI, "all"}
