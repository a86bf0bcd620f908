"""Tests of minemap.planning.capacity and capacity_file: the model, reading it from TOML or a
dict with one-line errors, writing it back, and the template's cited figures."""

from __future__ import annotations

import copy
import datetime as dt
import math
import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minemap import FormatError, InputFileError, MinemapError, SchemaError
from minemap.planning import Asset, Capacity, Range
from minemap.planning.template import capacity_template
from minemap.settings import RELEASE_METHODS, THREAT_LEVELS

MINIMAL = """\
working_days_per_year = 220
[assets.manual_team]
count = 100
productivity_m2_per_day = { high = 50, medium = 80, low = 120 }
"""


def minimal(**asset: object) -> dict:
    doc = {
        "working_days_per_year": 220,
        "assets": {
            "manual_team": {
                "count": 100,
                "productivity_m2_per_day": {"high": 50, "medium": 80, "low": 120},
            }
        },
    }
    doc["assets"]["manual_team"].update(asset)
    return doc


def write(tmp_path: Path, text: str, name: str = "capacity.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def one_line(exc: pytest.ExceptionInfo) -> str:
    text = str(exc.value)
    assert "\n" not in text
    return text


# ------------------------------------------------------------------------------------------
# the minimal file and the format's variants
# ------------------------------------------------------------------------------------------


def test_minimal_file(tmp_path):
    path = write(tmp_path, MINIMAL)
    cap = Capacity.from_toml(path)
    assert cap.working_days_per_year == 220
    assert cap.source == str(path)
    team = cap.assets["manual_team"]
    assert (team.name, team.count, team.kind, team.growth_per_year, team.changes) == (
        "manual_team",
        100,
        "manual",
        0,
        (),
    )
    for level, value in (("high", 50), ("medium", 80), ("low", 120)):
        for method in RELEASE_METHODS:
            assert team.productivity(level, method) == Range.fixed(value)
    assert cap.release_mix is None
    assert not cap.has_ranges
    cap.check_levels(THREAT_LEVELS)


def test_from_toml_accepts_a_string_path_and_a_bom(tmp_path):
    path = tmp_path / "c.toml"
    path.write_bytes(b"\xef\xbb\xbf" + MINIMAL.encode())
    assert Capacity.from_toml(str(path)).assets["manual_team"].count == 100


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"low": 10, "mode": 30, "high": 50}, Range(10, 30, 50)),
        ({"low": 10, "high": 50}, Range(10, 30, 50)),  # mode: the midpoint
        ({"mode": 30}, Range(30, 30, 30)),
        ({"low": 10, "mode": 30}, Range(10, 30, 30)),  # high defaults to mode
        ({"mode": 30, "high": 50}, Range(30, 30, 50)),  # low defaults to mode
        (40, Range(40, 40, 40)),
        (12.5, Range(12.5, 12.5, 12.5)),
        (0, Range(0, 0, 0)),
        (Range(1, 2, 3), Range(1, 2, 3)),  # from Python
    ],
)
def test_a_range_for_every_method(value, expected):
    cap = Capacity.from_dict(minimal(productivity_m2_per_day={"high": value}))
    for method in RELEASE_METHODS:
        assert cap.assets["manual_team"].productivity("high", method) == expected
    assert cap.assets["manual_team"].productivity("low", "cleared") is None


def test_a_table_per_method_with_numbers_and_ranges():
    text = """\
working_days_per_year = 200.5
[assets.dogs]
kind = "dog"
count = 4
growth_per_year = 0.1
[assets.dogs.productivity_m2_per_day.high]
cleared = { low = 800, high = 900 }
[assets.dogs.productivity_m2_per_day.medium]
cleared = 850
reduced = { low = 1600, mode = 1700, high = 1800 }
[[assets.dogs.changes]]
date = 2028-01-01
count = 6
[[assets.dogs.changes]]
date = 2027-01-01
count = 0
"""
    cap = Capacity.from_dict(tomllib.loads(text))
    dogs = cap.assets["dogs"]
    assert cap.working_days_per_year == 200.5
    assert (dogs.kind, dogs.count, dogs.growth_per_year) == ("dog", 4, 0.1)
    assert dogs.productivity("high", "cleared") == Range(800, 850, 900)
    assert dogs.productivity("high", "reduced") is None
    assert dogs.productivity("medium", "cleared") == Range.fixed(850)
    assert dogs.productivity("medium", "reduced") == Range(1600, 1700, 1800)
    assert dogs.productivity("medium", "cancelled") is None
    assert dogs.changes == ((dt.date(2027, 1, 1), 0), (dt.date(2028, 1, 1), 6))
    assert cap.has_ranges
    assert cap.levels_without("cancelled") == ["high", "medium", "low"]


def test_dates_may_be_iso_text_from_python():
    cap = Capacity.from_dict(minimal(changes=[{"date": "2027-03-01", "count": 3}]))
    assert cap.assets["manual_team"].changes == ((dt.date(2027, 3, 1), 3.0),)


def test_release_mix_override(tmp_path):
    text = MINIMAL + (
        "[release_mix.high]\ncleared = 0.6\nreduced = 0.3\ncancelled = 0.1\n"
        "[release_mix.low]\ncancelled = 1\n"
    )
    cap = Capacity.from_toml(write(tmp_path, text))
    assert cap.release_mix == {
        "high": {"cleared": 0.6, "reduced": 0.3, "cancelled": 0.1},
        "low": {"cleared": 0.0, "reduced": 0.0, "cancelled": 1.0},
    }


def test_shares_within_tolerance_are_accepted():
    doc = minimal()
    doc["release_mix"] = {"medium": {"cleared": 1 / 3, "reduced": 1 / 3, "cancelled": 1 / 3}}
    Capacity.from_dict(doc)


def test_from_dict_does_not_modify_its_input():
    doc = minimal(changes=[{"date": dt.date(2027, 1, 1), "count": 3}])
    before = copy.deepcopy(doc)
    Capacity.from_dict(doc)
    assert doc == before


# ------------------------------------------------------------------------------------------
# bad files: one line, naming the file, the key path and the fix
# ------------------------------------------------------------------------------------------

P = r"assets\.manual_team\.productivity_m2_per_day"


@pytest.mark.parametrize(
    ("doc", "match"),
    [
        (
            {**minimal(), "working_days": 1},
            r"^cap\.toml: working_days: unknown key 'working_days'.*allowed here are "
            r"working_days_per_year, assets, release_mix\.$",
        ),
        (
            minimal(cuont=1),
            r"assets\.manual_team\.cuont: unknown key 'cuont' \(did you mean 'count'\?\); "
            r"the keys allowed here are count, productivity_m2_per_day, kind, growth_per_year,"
            r" changes",
        ),
        (
            minimal(productivity_m2_per_day={"hihg": 5}),
            rf"{P}\.hihg: unknown key 'hihg' \(did you mean 'high'\?\).*high, medium, low",
        ),
        (
            minimal(productivity_m2_per_day={"high": {"cleared": {"lo": 1}}}),
            rf"{P}\.high\.cleared\.lo: unknown key.*low, mode, high",
        ),
        (
            minimal(productivity_m2_per_day={"high": {"cleared": 5, "mode": 3}}),
            rf"{P}\.high: holds cleared, mode; give a number, a range .* not a mix",
        ),
        (minimal(count=0), r"assets\.manual_team\.count: 0 is not a positive count; give"),
        (minimal(count=-3), r"assets\.manual_team\.count: -3 is not a positive count"),
        (
            minimal(productivity_m2_per_day={"high": -50}),
            rf"{P}\.high: productivity -50 is negative; give m² per unit",
        ),
        (
            minimal(productivity_m2_per_day={"medium": {"reduced": {"low": -1, "high": 5}}}),
            rf"{P}\.medium\.reduced\.low: productivity -1 is negative",
        ),
        (
            minimal(productivity_m2_per_day={"high": {"low": 60, "high": 50}}),
            rf"{P}\.high: low 60 exceeds high 50; give low <= mode <= high",
        ),
        (
            minimal(productivity_m2_per_day={"high": {"low": 10, "mode": 70, "high": 50}}),
            rf"{P}\.high: mode 70 is outside \[low 10, high 50\]",
        ),
        (
            minimal(productivity_m2_per_day={"high": {"low": 10, "mode": 5}}),
            rf"{P}\.high: mode 5 is outside \[low 10, high 5\]|{P}\.high: low 10 exceeds high 5",
        ),
        (
            minimal(productivity_m2_per_day={"high": {"low": 10}}),
            rf"{P}\.high: a range with only low has no mode; give mode, or both low and high",
        ),
        (
            {**minimal(), "working_days_per_year": 0},
            r"working_days_per_year: 0 is outside \(0, 366\]; give the working days",
        ),
        (
            {**minimal(), "working_days_per_year": 366.5},
            r"working_days_per_year: 366\.5 is outside \(0, 366\]",
        ),
        (
            {"assets": minimal()["assets"]},
            r"working_days_per_year is missing; add e\.g\. 'working_days_per_year = 220'",
        ),
        ({"working_days_per_year": 220}, r"there is no \[assets\.NAME\] table"),
        ({"working_days_per_year": 220, "assets": {}}, r"assets: is empty"),
        (
            minimal(productivity_m2_per_day={"high": "fifty"}),
            rf"{P}\.high: must be a number, not the text 'fifty'",
        ),
        (minimal(count="100"), r"assets\.manual_team\.count: must be a number, not the text"),
        (minimal(count=True), r"assets\.manual_team\.count: must be a number, not the boolean"),
        (
            minimal(productivity_m2_per_day={"high": {"low": False, "high": 3}}),
            rf"{P}\.high\.low: must be a number, not the boolean false",
        ),
        (
            minimal(productivity_m2_per_day={"high": math.nan}),
            rf"{P}\.high: must be a finite number, not nan",
        ),
        (
            minimal(productivity_m2_per_day={"high": math.inf}),
            rf"{P}\.high: must be a finite number, not inf",
        ),
        (
            {**minimal(), "working_days_per_year": -math.inf},
            r"working_days_per_year: must be a finite number, not -inf",
        ),
        (minimal(productivity_m2_per_day={}), rf"{P}: is empty"),
        (minimal(productivity_m2_per_day=50), rf"{P}: must be a table, not int 50"),
        (
            minimal(productivity_m2_per_day={"high": {}}),
            rf"{P}\.high: holds nothing",
        ),
        ({"working_days_per_year": 220, "assets": {"t": {"count": 1}}}, "productivity_m2"),
        (minimal(kind=""), r"assets\.manual_team\.kind: the text '' is not a word"),
        (minimal(kind=3), r"assets\.manual_team\.kind: int 3 is not a word"),
        (
            minimal(growth_per_year=10),
            r"assets\.manual_team\.growth_per_year: 10 is outside \[-1, 1\]; give a yearly "
            r"fraction: 0\.1 for \+10 %",
        ),
        (
            minimal(changes=[{"date": dt.date(2027, 1, 1), "count": -1}]),
            r"assets\.manual_team\.changes\[1\]\.count: -1 is a negative count",
        ),
        (
            minimal(changes=[{"date": dt.date(2027, 1, 1)}]),
            r"assets\.manual_team\.changes\[1\]: count is missing",
        ),
        (
            minimal(changes=[{"date": dt.date(2027, 1, 1), "count": 1, "when": 2}]),
            r"changes\[1\]\.when: unknown key 'when'.*date, count",
        ),
        (
            minimal(
                changes=[
                    {"date": dt.date(2027, 1, 1), "count": 1},
                    {"date": dt.date(2027, 1, 1), "count": 2},
                ]
            ),
            r"changes\[2\]\.date: 2027-01-01 is given twice",
        ),
        (
            minimal(changes=[{"date": "1 Jan 2027", "count": 1}]),
            r"changes\[1\]\.date: the text '1 Jan 2027' is not a date; give a date",
        ),
        (
            minimal(changes=[{"date": dt.datetime(2027, 1, 1, 8), "count": 1}]),
            r"changes\[1\]\.date: 2027-01-01 08:00:00 has a time of day",
        ),
        (minimal(changes={"date": 1}), r"assets\.manual_team\.changes: must be a list"),
        (
            {**minimal(), "release_mix": {"high": {"cleared": 0.6, "reduced": 0.3}}},
            r"release_mix\.high: the shares sum to 0\.9, not 1; make cleared \+ reduced",
        ),
        (
            {**minimal(), "release_mix": {"high": {"cleared": 1.5, "reduced": -0.5}}},
            r"release_mix\.high\.cleared: share 1\.5 is outside \[0, 1\]",
        ),
        (
            {**minimal(), "release_mix": {"CHA": {"cleared": 1}}},
            r"release_mix\.CHA: unknown key 'CHA'.*high, medium, low",
        ),
        (
            {**minimal(), "release_mix": {"high": {"clearance": 1}}},
            r"release_mix\.high\.clearance: unknown key.*cleared, reduced, cancelled",
        ),
        ({**minimal(), "assets": {"t": 5}}, r"assets\.t: must be a table, not int 5"),
        ([1, 2], r"^cap\.toml: must be a table, not a list"),
    ],
)
def test_bad_documents_get_one_line(doc, match):
    with pytest.raises(SchemaError, match=match) as exc:
        Capacity.from_dict(doc, source="cap.toml")
    text = one_line(exc)
    assert text.startswith("cap.toml: ")
    assert isinstance(exc.value, ValueError) and isinstance(exc.value, MinemapError)


def test_bad_file_names_the_file(tmp_path):
    path = write(tmp_path, MINIMAL.replace("high = 50", "high = -50"))
    with pytest.raises(SchemaError, match=rf"^{path}: {P}\.high: productivity -50 is negative"):
        Capacity.from_toml(path)


def test_nan_and_inf_in_toml(tmp_path):
    for word in ("nan", "inf", "-inf"):
        path = write(tmp_path, MINIMAL.replace("medium = 80", f"medium = {word}"))
        with pytest.raises(SchemaError, match=rf"{P}\.medium: must be a finite number"):
            Capacity.from_toml(path)


def test_boolean_in_toml(tmp_path):
    path = write(tmp_path, MINIMAL.replace("count = 100", "count = true"))
    with pytest.raises(SchemaError, match=r"count: must be a number, not the boolean true"):
        Capacity.from_toml(path)


def test_toml_syntax_error_gives_line_and_column(tmp_path):
    path = write(tmp_path, MINIMAL.replace("count = 100", "count = 1OO"))
    with pytest.raises(FormatError, match=rf"^{path}: not valid TOML at line 3, column \d+: ") as e:
        Capacity.from_toml(path)
    assert "'count = 1OO'" in one_line(e)


def test_toml_error_at_the_end_of_the_file(tmp_path):
    path = write(tmp_path, 'working_days_per_year = "220')
    with pytest.raises(FormatError, match=r"not valid TOML at (the end of the file|line 1)"):
        Capacity.from_toml(path)


def test_missing_file(tmp_path):
    path = tmp_path / "nope.toml"
    with pytest.raises(InputFileError, match=r"nope\.toml: no such capacity file; check the path"):
        Capacity.from_toml(path)
    with pytest.raises(FileNotFoundError):
        Capacity.from_toml(path)


def test_a_folder_is_not_a_file(tmp_path):
    with pytest.raises(InputFileError, match="is a folder"):
        Capacity.from_toml(tmp_path)


def test_not_utf8(tmp_path):
    path = tmp_path / "latin.toml"
    path.write_bytes(MINIMAL.encode() + b"# \xe9t\xe9\n")
    with pytest.raises(FormatError, match=r"not UTF-8 text \(line 5\); save the file as UTF-8"):
        Capacity.from_toml(path)


def test_check_levels_names_the_missing_level(tmp_path):
    path = write(tmp_path, MINIMAL.replace(", low = 120", ""))
    cap = Capacity.from_toml(path)
    cap.check_levels(["high", "medium", "high"])
    cap.check_levels([])
    with pytest.raises(
        SchemaError,
        match=rf"^{path}: no asset has a productivity above 0 for 'low' land.*add one, e\.g\. "
        rf"low = 50 under \[assets\.manual_team\.productivity_m2_per_day\]",
    ) as exc:
        cap.check_levels(["high", "low"])
    one_line(exc)


def test_check_levels_counts_zero_as_none_and_names_every_missing_level():
    cap = Capacity.from_dict(minimal(productivity_m2_per_day={"high": 0}))
    with pytest.raises(SchemaError, match=r"for 'high', 'medium' and 'low' land"):
        cap.check_levels(THREAT_LEVELS)


def test_check_levels_is_satisfied_by_any_method_of_any_asset():
    doc = minimal(productivity_m2_per_day={"high": 50})
    doc["assets"]["survey"] = {"count": 1, "productivity_m2_per_day": {"low": {"cancelled": 9}}}
    Capacity.from_dict(doc).check_levels(["low", "high"])


# ------------------------------------------------------------------------------------------
# to_dict
# ------------------------------------------------------------------------------------------


def test_to_dict_round_trips_the_template():
    cap = Capacity.from_dict(tomllib.loads(capacity_template()))
    assert Capacity.from_dict(cap.to_dict()) == cap


def test_to_dict_shape():
    asset = Asset(
        "machine",
        2.0,
        {
            **{("high", m): Range.fixed(1000) for m in RELEASE_METHODS},
            ("low", "cleared"): Range(500, 1000, 1500),
        },
        kind="machine",
        growth_per_year=0.05,
        changes=((dt.date(2027, 1, 1), 3.0),),
    )
    cap = Capacity(220.0, {"machine": asset}, release_mix={"high": {"cleared": 1.0}})
    assert cap.to_dict() == {
        "working_days_per_year": 220,
        "assets": {
            "machine": {
                "kind": "machine",
                "count": 2,
                "growth_per_year": 0.05,
                "productivity_m2_per_day": {
                    "high": 1000,
                    "low": {"cleared": {"low": 500, "mode": 1000, "high": 1500}},
                },
                "changes": [{"date": dt.date(2027, 1, 1), "count": 3}],
            }
        },
        "release_mix": {"high": {"cleared": 1}},
    }
    back = Capacity.from_dict(cap.to_dict())
    assert back.assets == cap.assets
    assert back.release_mix == {"high": {"cleared": 1.0, "reduced": 0.0, "cancelled": 0.0}}


# ------------------------------------------------------------------------------------------
# count_on: growth and dated changes
# ------------------------------------------------------------------------------------------


def test_count_on_with_growth_and_changes():
    doc = minimal(
        count=10,
        growth_per_year=0.1,
        changes=[
            {"date": dt.date(2028, 7, 1), "count": 20},
            {"date": dt.date(2030, 1, 1), "count": 0},
        ],
    )
    team = Capacity.from_dict(doc).assets["manual_team"]
    start = dt.date(2027, 1, 1)
    assert team.count_on(dt.date(2026, 6, 1), start) == 10  # before the start
    assert team.count_on(start, start) == 10
    assert team.count_on(dt.date(2027, 12, 31), start) == 10
    assert team.count_on(dt.date(2028, 1, 1), start) == pytest.approx(11)
    assert team.count_on(dt.date(2028, 6, 30), start) == pytest.approx(11)
    assert team.count_on(dt.date(2028, 7, 1), start) == 20  # the change; growth restarts
    assert team.count_on(dt.date(2029, 6, 30), start) == 20
    assert team.count_on(dt.date(2029, 7, 1), start) == pytest.approx(22)
    assert team.count_on(dt.date(2030, 1, 1), start) == 0  # withdrawn
    assert team.count_on(dt.date(2035, 1, 1), start) == 0


def test_negative_growth_shrinks():
    team = Capacity.from_dict(minimal(count=10, growth_per_year=-0.5)).assets["manual_team"]
    assert team.count_on(dt.date(2029, 1, 1), dt.date(2027, 1, 1)) == pytest.approx(2.5)


# ------------------------------------------------------------------------------------------
# the template: loads, and its figures are the cited arithmetic
# ------------------------------------------------------------------------------------------


def test_template_loads_and_cites_its_figures(tmp_path):
    text = capacity_template()
    assert "ILLUSTRATIVE DEFAULTS" in text and "REPLACE THEM" in text
    for source in ("HALO Trust", "SFOR", "2001", "ANAMA", "2012", "1,641,165"):
        assert source in text
    assert "dogs_per_team: 2 for clearance, 1 for survey" in text
    assert "# [[assets.manual_team.changes]]" in text  # the dated change, commented out
    assert "# [release_mix.medium]" in text
    cap = Capacity.from_toml(write(tmp_path, text))
    assert {a.kind for a in cap.assets.values()} == {"manual", "machine", "dog", "survey"}
    cap.check_levels(THREAT_LEVELS)
    assert cap.has_ranges
    days = cap.working_days_per_year
    assert days == 220

    machine = cap.assets["machine"].productivity("high", "cleared")
    assert machine.mode == pytest.approx(1_641_165 / 6 / days, abs=0.005)
    assert machine.mean == pytest.approx(1_641_165 / 6 / days, abs=0.01)
    assert "1,641,165 / 6 = 273,527.5" in text
    assert f"273,527.5 / 220 working days = {1_641_165 / 6 / 220:.2f}" in text

    manual = cap.assets["manual_team"].productivity("high", "cleared")
    assert (manual.low, manual.high) == (8 * 10, 8 * 50)  # 8 deminers × 10-50 m² (HALO)
    dogs = cap.assets["dog_team"]
    assert dogs.productivity("high", "cleared") == Range(800, 850, 900)  # a pair, SFOR
    assert dogs.productivity("medium", "reduced") == Range(1600, 1700, 1800)  # two dogs apart

    # every level can be released by every method (confirmed land is also reduced by
    # technical survey, and cancelled, more slowly, where re-survey shows a record wrong)
    assert cap.assets["survey_team"].productivity("high", "cancelled") == Range(1000, 4000, 10000)
    for method in ("cleared", "reduced", "cancelled"):
        assert cap.levels_without(method) == []


@pytest.mark.parametrize("days", [250, 200.5])
def test_template_machine_figure_follows_the_working_days(days):
    cap = Capacity.from_dict(tomllib.loads(capacity_template(working_days_per_year=days)))
    assert cap.working_days_per_year == days
    machine = cap.assets["machine"].productivity("medium", "reduced")
    assert machine.mode == pytest.approx(1_641_165 / 6 / days, abs=0.005)


def test_template_refuses_impossible_working_days():
    with pytest.raises(ValueError, match="0 < days <= 366"):
        capacity_template(working_days_per_year=0)


# ------------------------------------------------------------------------------------------
# properties
# ------------------------------------------------------------------------------------------

_amount = st.floats(min_value=0, max_value=1e7, allow_nan=False, allow_infinity=False)


@st.composite
def _range_value(draw: st.DrawFn) -> object:
    low, mode, high = sorted(draw(st.lists(_amount, min_size=3, max_size=3)))
    form = draw(st.sampled_from(["number", "full", "mode", "low_high"]))
    if form == "number":
        return mode
    if form == "full":
        return {"low": low, "mode": mode, "high": high}
    if form == "mode":
        return {"mode": mode}
    return {"low": low, "high": high}


@st.composite
def _level_value(draw: st.DrawFn) -> object:
    if draw(st.booleans()):
        return draw(_range_value())
    methods = draw(st.lists(st.sampled_from(RELEASE_METHODS), min_size=1, unique=True))
    return {m: draw(_range_value()) for m in methods}


@st.composite
def _asset(draw: st.DrawFn) -> dict:
    levels = draw(st.lists(st.sampled_from(THREAT_LEVELS), min_size=1, unique=True))
    doc: dict = {
        "count": draw(st.floats(min_value=0.5, max_value=1e4)),
        "productivity_m2_per_day": {lvl: draw(_level_value()) for lvl in levels},
    }
    if draw(st.booleans()):
        doc["kind"] = draw(st.sampled_from(["manual", "machine", "dog", "survey", "drone"]))
    if draw(st.booleans()):
        doc["growth_per_year"] = draw(st.floats(min_value=-1, max_value=1))
    days = draw(st.lists(st.dates(dt.date(2020, 1, 1), dt.date(2040, 1, 1)), unique=True))
    if days:
        doc["changes"] = [
            {"date": d, "count": draw(st.floats(min_value=0, max_value=1e4))} for d in days
        ]
    return doc


@st.composite
def _document(draw: st.DrawFn) -> dict:
    names = draw(
        st.lists(st.text("abcdefghijklmnopqrstuvwxyz_", min_size=1), min_size=1, unique=True)
    )
    doc: dict = {
        "working_days_per_year": draw(st.floats(min_value=1e-3, max_value=366)),
        "assets": {name: draw(_asset()) for name in names},
    }
    if draw(st.booleans()):
        mix = {}
        for level in draw(st.lists(st.sampled_from(THREAT_LEVELS), unique=True)):
            a, b = sorted(draw(st.lists(st.integers(0, 100), min_size=2, max_size=2)))
            mix[level] = {"cleared": a / 100, "reduced": (b - a) / 100, "cancelled": 1 - b / 100}
        doc["release_mix"] = mix
    return doc


@settings(max_examples=60, deadline=None)
@given(_document())
def test_any_valid_document_round_trips(doc):
    cap = Capacity.from_dict(doc)
    again = Capacity.from_dict(cap.to_dict())
    assert again == cap
    assert again.to_dict() == cap.to_dict()
    for asset in cap.assets.values():
        for r in asset.productivity_m2_per_day.values():
            assert 0 <= r.low <= r.mode <= r.high


@settings(max_examples=60, deadline=None)
@given(_asset(), st.dates(dt.date(2019, 1, 1), dt.date(2045, 1, 1)))
def test_count_on_is_never_negative(asset_doc, day):
    cap = Capacity.from_dict({"working_days_per_year": 220, "assets": {"a": asset_doc}})
    count = cap.assets["a"].count_on(day, dt.date(2025, 1, 1))
    assert count >= 0 and math.isfinite(count)


# ------------------------------------------------------------------------------------------
# docs/capacity.md: its TOML examples load and its worked example adds up
# ------------------------------------------------------------------------------------------

DOCS = Path(__file__).resolve().parents[1] / "docs" / "capacity.md"


def _toml_blocks() -> list[str]:
    import re

    return re.findall(r"```toml\n(.*?)```", DOCS.read_text(encoding="utf-8"), flags=re.S)


def test_docs_smallest_file_is_the_minimal_file():
    assert tomllib.loads(_toml_blocks()[0]) == tomllib.loads(MINIMAL)


def test_docs_examples_are_valid_toml():
    for block in _toml_blocks():
        tomllib.loads(block)


def test_docs_worked_example():
    (block,) = [b for b in _toml_blocks() if b.startswith("# National example")]
    cap = Capacity.from_dict(tomllib.loads(block), source="docs")
    counts = {name: a.count for name, a in cap.assets.items()}
    assert counts == {
        "manual_team": (2282 - 150 - 70 * 2 - 20 * 4) // 10,
        "machine": 70,
        "dog_team": 150 / 2,
        "survey_team": 20,
    }
    cap.check_levels(THREAT_LEVELS)
    days = cap.working_days_per_year
    yearly = {
        name: a.count * a.productivity("high", "cleared").mode * days
        for name, a in cap.assets.items()
        if a.productivity("high", "cleared") is not None
    }
    assert yearly["manual_team"] == 10_084_800
    assert yearly["machine"] == pytest.approx(19_146_925, rel=1e-5)
    assert yearly["dog_team"] == 14_025_000
    assert sum(yearly.values()) / 10_000 == pytest.approx(4_330, abs=10)
    template = Capacity.from_dict(tomllib.loads(capacity_template()))
    for name, asset in cap.assets.items():  # the same productivity as the template
        assert asset.productivity_m2_per_day == template.assets[name].productivity_m2_per_day


def test_an_asset_takes_plain_numbers_and_refuses_anything_else():
    asset = Asset("t", 10, {("high", "cleared"): 100})
    assert asset.productivity("high", "cleared") == Range(100, 100, 100)
    with pytest.raises(SchemaError, match=r"^asset 't': productivity \('high', 'cleared'\)"):
        Asset("t", 10, {("high", "cleared"): "fast"})
