"""Tests of ``minemap capacity-template``: prints or writes the template, never replaces."""

from __future__ import annotations

import os
import tomllib

import pytest

from minemap import cli
from minemap.planning import Capacity
from minemap.planning.template import capacity_template


def run(argv, capsys) -> tuple[int, str, str]:
    status = cli.run([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_prints_the_template(capsys):
    status, out, err = run(["capacity-template"], capsys)
    assert (status, err) == (0, "")
    assert out == capacity_template()
    cap = Capacity.from_dict(tomllib.loads(out))
    assert set(cap.assets) == {"manual_team", "machine", "dog_team", "survey_team"}


def test_dash_is_standard_output(capsys):
    status, out, _ = run(["capacity-template", "-o", "-"], capsys)
    assert status == 0 and out == capacity_template()


def test_writes_a_new_file(tmp_path, capsys):
    path = tmp_path / "capacity.toml"
    status, out, err = run(["capacity-template", "-o", path], capsys)
    assert (status, out, err) == (0, "", "")
    assert path.read_text(encoding="utf-8") == capacity_template()
    assert Capacity.from_toml(path).source == str(path)


def test_working_days(tmp_path, capsys):
    path = tmp_path / "capacity.toml"
    assert run(["capacity-template", "-o", path, "--working-days", "250"], capsys)[0] == 0
    cap = Capacity.from_toml(path)
    assert cap.working_days_per_year == 250
    mode = cap.assets["machine"].productivity("high", "cleared").mode
    assert mode == pytest.approx(1_641_165 / 6 / 250, abs=0.005)


@pytest.mark.parametrize("days", ["0", "400", "many"])
def test_impossible_working_days(days, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.run(["capacity-template", "--working-days", days])
    assert exc.value.code == 2
    assert "--working-days" in capsys.readouterr().err


def test_refuses_to_overwrite(tmp_path, capsys):
    path = tmp_path / "capacity.toml"
    path.write_text("mine", encoding="utf-8")
    status, out, err = run(["capacity-template", "-o", path], capsys)
    assert status == 2 and out == ""
    assert err.count("\n") == 1
    assert err.startswith(f"minemap: error: {path}: the file exists already and is never replaced")
    assert path.read_text(encoding="utf-8") == "mine"


def test_refuses_a_dangling_symbolic_link(tmp_path, capsys):
    link = tmp_path / "capacity.toml"
    os.symlink(tmp_path / "elsewhere.toml", link)
    status, _, err = run(["capacity-template", "-o", link], capsys)
    assert status == 2 and "exists already" in err
    assert not (tmp_path / "elsewhere.toml").exists()


def test_refuses_another_extension(tmp_path, capsys):
    status, _, err = run(["capacity-template", "-o", tmp_path / "capacity.txt"], capsys)
    assert status == 2 and err.count("\n") == 1 and "-o writes .toml" in err
    assert not (tmp_path / "capacity.txt").exists()


def test_missing_folder(tmp_path, capsys):
    status, _, err = run(["capacity-template", "-o", tmp_path / "no" / "c.toml"], capsys)
    assert status == 2 and err.count("\n") == 1 and "does not exist" in err


def test_listed_in_help(capsys):
    with pytest.raises(SystemExit):
        cli.run(["--help"])
    assert "capacity-template" in capsys.readouterr().out
