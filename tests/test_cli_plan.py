"""``minemap plan`` (``minemap.cli.plan``): the schedule, its dates, scenarios and every bad
option as one line."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import geopandas as gpd
import pytest
from shapely import box

from minemap.cli import run

SAMPLE = str(Path(__file__).resolve().parents[1] / "sample_data" / "scenario.gpkg")

#: 10 teams x 100 m² a day, 250 working days a year: 25 ha take 2,500 team-days, one year.
ONE_TEAM_TYPE = """
working_days_per_year = 250
[assets.team]
count = 10
productivity_m2_per_day = { high = 100, medium = 100, low = 100 }
"""


@pytest.fixture
def square(tmp_path) -> str:
    """One high-threat hazard of 25 ha (500 m x 500 m in an equal-area CRS, EPSG:3035)."""
    x, y = 4_321_000.0, 3_210_000.0
    hazards = gpd.GeoDataFrame(
        {"hazard_id": ["H1"], "threat_level": ["high"]},
        geometry=[box(x, y, x + 500, y + 500)],
        crs=3035,
    )
    path = tmp_path / "square.gpkg"
    hazards.to_file(path, layer="hazards")
    (tmp_path / "cap.toml").write_text(ONE_TEAM_TYPE, encoding="utf-8")
    return str(path)


def _json(capsys) -> dict:
    return json.loads(capsys.readouterr().out)


def test_the_hand_computed_case_to_the_day(square, tmp_path, capsys):
    cap = str(tmp_path / "cap.toml")
    assert (
        run(["plan", square, "--capacity", cap, "--start", "2027-01-01", "--format", "json"]) == 0
    )
    doc = _json(capsys)
    summary = doc["summary"]
    assert summary["start"] == "2027-01-01"
    assert summary["remaining_ha"] == pytest.approx(25.0, rel=1e-6)
    assert summary["total_asset_days"] == pytest.approx(2_500.0, rel=1e-6)
    assert summary["completion_date"] == "2028-01-01"  # 250 working days = 365.25 days
    # a level with nothing remaining is done on the first day
    assert summary["completion_by_threat_level"] == {
        "high": "2028-01-01",
        "medium": "2027-01-01",
        "low": "2027-01-01",
    }
    assert summary["completion_by_category"] == {}
    assert doc["assumptions"]["capacity"]["working_days_per_year"] == 250
    assert [row["hazard_id"] for row in doc["schedule"]] == ["H1"]


def test_the_sample_plan_has_every_promised_field(tmp_path, capsys):
    cap = tmp_path / "cap.toml"
    assert run(["capacity-template", "-o", str(cap)]) == 0
    capsys.readouterr()
    args = ["plan", SAMPLE, "--released", SAMPLE, "--capacity", str(cap), "--start", "2027-01-01"]
    assert run([*args, "--draws", "50", "--seed", "7", "--format", "json"]) == 0
    first = _json(capsys)
    summary = first["summary"]
    for key in (
        "start",
        "completion_date",
        "total_asset_days",
        "remaining_ha",
        "historic_rate_ha_per_year",
        "completion_date_at_historic_rate",
        "completion_by_threat_level",
        "completion_by_category",
        "p10",
        "p50",
        "p90",
    ):
        assert key in summary, key
    assert summary["p10"] <= summary["p50"] <= summary["p90"]
    assert {"capacity", "release_mix", "start"} <= set(first["assumptions"])
    assert run([*args, "--draws", "50", "--seed", "7", "--format", "json"]) == 0
    again = _json(capsys)
    assert again["summary"] == summary  # the same seed, the same dates


def test_a_ranking_sets_the_order_and_the_categories(tmp_path, capsys):
    ranking = tmp_path / "ranking.csv"
    cap = tmp_path / "cap.toml"
    assert run(["capacity-template", "-o", str(cap)]) == 0
    prio = ["priority", SAMPLE, "--released", SAMPLE, "--roads", SAMPLE, "--residential", SAMPLE]
    assert run([*prio, "-o", str(tmp_path / "zones.gpkg"), "--ranking", str(ranking)]) == 0
    capsys.readouterr()
    out = tmp_path / "schedule.csv"
    args = ["plan", SAMPLE, "--released", SAMPLE, "--capacity", str(cap), "--start", "2027-01-01"]
    assert run([*args, "--ranking", str(ranking), "-o", str(out)]) == 0
    capsys.readouterr()
    with ranking.open(encoding="utf-8") as f:
        ranked = [r["hazard_id"] for r in csv.DictReader(f) if float(r["remaining_ha"]) > 0]
    with out.open(encoding="utf-8") as f:
        scheduled = [r["hazard_id"] for r in csv.DictReader(f)]
    assert scheduled == ranked
    assert run([*args, "--ranking", str(ranking), "--format", "json"]) == 0
    categories = _json(capsys)["summary"]["completion_by_category"]
    assert {"roads", "residential"} <= set(categories)


def test_scenarios_and_the_chart_are_written_together(tmp_path, capsys):
    cap = tmp_path / "cap.toml"
    assert run(["capacity-template", "-o", str(cap)]) == 0
    double = tmp_path / "double.toml"
    double.write_text(cap.read_text(encoding="utf-8").replace("count = 10 ", "count = 20 "))
    args = ["plan", SAMPLE, "--released", SAMPLE, "--capacity", str(cap), "--start", "2027-01-01"]
    chart, table = tmp_path / "burndown.png", tmp_path / "scenarios.json"
    assert (
        run(
            [
                *args,
                "--scenario",
                f"twice the teams={double}",
                "--chart",
                str(chart),
                "-o",
                str(table),
            ]
        )
        == 0
    )
    doc = json.loads(table.read_text(encoding="utf-8"))
    rows = {row["scenario"]: row for row in doc["scenarios"]}
    assert set(rows) == {"today", "twice the teams"}
    assert rows["twice the teams"]["completion_date"] < rows["today"]["completion_date"]
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_without_capacity_the_historic_rate_only(capsys):
    assert run(["plan", SAMPLE, "--released", SAMPLE, "--start", "2027-01-01"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Forecast at the historic rate (no --capacity): ")
    assert "ha a year over 2024, 2025" in out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--capacity", "nothere.toml"], r"--capacity nothere.toml: no such capacity file"),
        (["--start", "2027-13-01"], r"--start '2027-13-01' is not an ISO date"),
        (["--scenario", "bad"], r"--scenario 'bad': write it as NAME=capacity.toml"),
        (["--ranking", SAMPLE], r"--ranking .*scenario.gpkg: a ranking is a .csv file"),
        (["--draws", "-1"], r"--draws -1: give 0 \(none\) to 100,000 draws"),
        (["--chart", "c.png"], r"--chart needs --capacity"),
        (["--draws", "10", "--released", SAMPLE], r"--draws needs --capacity"),
        (["--window-years", "0"], r"--window-years 0: give 1 or more full years"),
        (["--draws", "1e3"], r"argument --draws: invalid int value: '1e3'; see 'minemap plan"),
        ([], r"give --capacity .* or --released"),
    ],
)
def test_bad_options_are_one_line(extra, message, square, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    if "--capacity" not in extra and "--chart" not in extra and "10" not in extra and extra:
        extra = [*extra, "--capacity", "cap.toml"]
    try:
        code = run(["plan", square, *extra])
    except SystemExit as exit_:  # argparse's own errors exit while parsing
        code = exit_.code
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    errors = [line for line in err if line.startswith("minemap: error: ")]
    assert errors == [err[-1]]  # one error line, last (after any warnings), no traceback
    assert not [line for line in err if not line.startswith("minemap: ")]
    assert re.search(message, err[-1]), err[-1]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cap.toml", "square.gpkg"]


def test_a_ranking_of_other_hazards_is_refused(square, tmp_path, capsys):
    ranking = tmp_path / "r.csv"
    ranking.write_text("rank,hazard_id,threat_level,remaining_ha\n1,H9,high,3\n", encoding="utf-8")
    cap = str(tmp_path / "cap.toml")
    assert run(["plan", square, "--capacity", cap, "--ranking", str(ranking)]) == 2
    assert "hazard 'H9' is not in HAZARDS" in capsys.readouterr().err


def test_a_capacity_that_cannot_finish_is_named(square, tmp_path, capsys):
    never = tmp_path / "never.toml"
    never.write_text(ONE_TEAM_TYPE.replace("high = 100, ", ""), encoding="utf-8")
    good = str(tmp_path / "cap.toml")
    args = ["plan", square, "--start", "2027-01-01"]
    assert run([*args, "--capacity", good, "--scenario", f"no high={never}"]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith(f"minemap: error: --scenario {never}: no asset can release high-threat")


def test_writing_files_still_shows_the_answer(square, tmp_path, capsys):
    out, cap = tmp_path / "schedule.csv", str(tmp_path / "cap.toml")
    args = ["plan", square, "--capacity", cap, "--start", "2027-01-01", "-o", str(out)]
    assert run(args) == 0
    shown = capsys.readouterr()
    assert "completion             2028-01-01" in shown.out
    assert shown.out.rstrip().endswith(f"Written: {out}")
    assert "no --released: with no release history every remaining hectare" in shown.err
    assert out.read_text(encoding="utf-8").startswith("order,hazard_id,threat_level,")


def test_a_start_inside_the_records_is_warned(tmp_path, capsys):
    assert run(["plan", SAMPLE, "--released", SAMPLE, "--start", "2020-01-01"]) == 0
    err = capsys.readouterr().err
    assert "--start 2020-01-01 is not after the last release record (2025-12-31)" in err
    assert "give --as-of 2020-01-01" in err
