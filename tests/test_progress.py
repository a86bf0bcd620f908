"""Tests of minemap._progress: when bars are shown, what they draw, and that they cost
nothing (a shared no-op bar) when they are not."""

from __future__ import annotations

import fcntl
import io
import os
import struct
import subprocess
import sys
import termios
import time

import pytest

from minemap import _progress, settings


class FakeTerminal(io.StringIO):
    """A standard error that says it is a terminal and keeps what was drawn."""

    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def _automatic(monkeypatch):
    """Each test starts from the defaults: automatic, no environment override."""
    monkeypatch.setattr(settings, "progress", None)
    monkeypatch.delenv("MINEMAP_PROGRESS", raising=False)
    monkeypatch.delenv("MINEMAP_PROGRESS_DELAY", raising=False)


@pytest.fixture
def terminal(monkeypatch) -> FakeTerminal:
    """Standard error replaced by a fake terminal, outside the test run's detection."""
    stream = FakeTerminal()
    monkeypatch.setattr(_progress, "_stderr", lambda: stream)
    monkeypatch.setattr(_progress, "_in_test_run", lambda: False)
    return stream


def wait_for(condition, seconds: float = 10.0) -> bool:
    """Poll ``condition`` until it holds (a bar is drawn by a background thread)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def test_silent_in_a_test_run_and_in_pipes(capsys):
    assert not _progress.enabled()
    with _progress.task("Work", total=3) as bar:
        bar.update()
    assert capsys.readouterr().err == ""


def test_shown_on_a_terminal(terminal):
    assert _progress.enabled()


def test_hidden_when_standard_error_is_not_a_terminal(monkeypatch):
    monkeypatch.setattr(_progress, "_in_test_run", lambda: False)
    monkeypatch.setattr(_progress, "_stderr", io.StringIO)
    assert not _progress.enabled()


def test_the_environment_overrides_detection(monkeypatch, terminal):
    monkeypatch.setenv("MINEMAP_PROGRESS", "0")
    assert not _progress.enabled()
    monkeypatch.setattr(_progress, "_stderr", io.StringIO)
    monkeypatch.setenv("MINEMAP_PROGRESS", "1")
    assert _progress.enabled()
    monkeypatch.setenv("MINEMAP_PROGRESS", "maybe")  # not a choice: automatic
    assert not _progress.enabled()


def test_the_setting_overrides_the_environment(monkeypatch):
    monkeypatch.setenv("MINEMAP_PROGRESS", "0")
    monkeypatch.setattr(settings, "progress", True)
    assert _progress.enabled()
    monkeypatch.setenv("MINEMAP_PROGRESS", "1")
    monkeypatch.setattr(settings, "progress", False)
    assert not _progress.enabled()


def test_quiet_overrides_everything(monkeypatch, terminal):
    monkeypatch.setenv("MINEMAP_PROGRESS", "1")
    monkeypatch.setattr(settings, "progress", True)
    with _progress.quiet():
        with _progress.quiet():
            assert not _progress.enabled()
        assert not _progress.enabled()
        with _progress.task("Work", total=2) as bar:
            bar.update(2)
    assert _progress.enabled()
    assert terminal.getvalue() == ""


def test_a_hidden_task_is_one_shared_no_op_bar(capsys):
    with _progress.task("Work", total=10) as first, _progress.task("More") as second:
        assert first is second is _progress.NO_BAR
        first.update(5)
        first.set_description("still nothing")
    assert capsys.readouterr().err == ""


def test_a_bar_is_drawn_after_the_delay_and_erased(monkeypatch, terminal):
    monkeypatch.setenv("MINEMAP_PROGRESS_DELAY", "0")
    with _progress.task("Counting", total=4, unit="stage") as bar:
        bar.update()
        bar.set_description("Counting (second half)")
        bar.update()
    drawn = terminal.getvalue()
    assert "Counting:" in drawn and "%|" in drawn and "0/4" in drawn
    assert drawn.endswith("\r")  # erased when done (leave=False)
    assert _progress._shown_depth == 0


def test_quick_work_draws_nothing(terminal):
    with _progress.task("Quick", total=3, unit="stage") as bar:
        bar.update(3)
    assert terminal.getvalue() == ""


def test_a_bar_stuck_in_one_long_step_is_drawn_and_erased(monkeypatch, terminal):
    monkeypatch.setenv("MINEMAP_PROGRESS_DELAY", "0.05")
    with _progress.task("One long step", total=2, unit="stage"):
        assert wait_for(lambda: "One long step" in terminal.getvalue())
    drawn = terminal.getvalue()
    assert "0/2" in drawn
    assert drawn.endswith("\r")


def test_tasks_inside_a_shown_task_draw_nothing_of_their_own(monkeypatch, terminal):
    monkeypatch.setenv("MINEMAP_PROGRESS_DELAY", "0")
    with _progress.task("Outer", total=2, unit="stage") as outer:
        with _progress.task("Inner", total=5) as inner:
            assert inner is _progress.NO_BAR
            inner.update(5)
        outer.update(2)
    drawn = terminal.getvalue()
    assert "Outer" in drawn and "Inner" not in drawn


def test_a_failing_task_erases_its_bar_and_lets_the_error_through(monkeypatch, terminal):
    monkeypatch.setenv("MINEMAP_PROGRESS_DELAY", "0")
    with pytest.raises(ZeroDivisionError):
        with _progress.task("Failing", total=3):
            1 / 0  # noqa: B018
    assert terminal.getvalue().endswith("\r")
    assert _progress._shown_depth == 0
    with _progress.task("Next", total=1) as bar:  # the next task shows again
        assert bar is not _progress.NO_BAR


def test_iterate_yields_every_item_and_counts_them(monkeypatch, terminal):
    monkeypatch.setenv("MINEMAP_PROGRESS_DELAY", "0")
    assert list(_progress.iterate(range(3), "Items", unit="item")) == [0, 1, 2]
    drawn = terminal.getvalue()
    assert "Items:" in drawn and "/3" in drawn
    assert list(_progress.iterate(iter("ab"), "Letters")) == ["a", "b"]  # no length


def test_iterate_stopped_early_closes_its_bar(monkeypatch, terminal):
    monkeypatch.setenv("MINEMAP_PROGRESS_DELAY", "0")
    items = _progress.iterate(range(10), "Items")
    for item in items:
        if item == 2:
            break
    items.close()
    assert _progress._shown_depth == 0
    assert terminal.getvalue().endswith("\r")


@pytest.mark.parametrize("delay", ["soon", "-1", "nan"])
def test_a_bad_delay_falls_back_to_the_default(monkeypatch, delay):
    monkeypatch.setenv("MINEMAP_PROGRESS_DELAY", delay)
    assert _progress._delay() == _progress.DELAY


@pytest.mark.filterwarnings("ignore:.*outside every hazard area")
def test_bars_change_no_figure(monkeypatch, terminal, sample_data):
    import pandas as pd

    import minemap
    from minemap.ranking import priority_analysis

    hazards = minemap.read_hazards(sample_data / "hazards.geojson")
    releases = minemap.read_releases(sample_data / "releases.geojson")
    roads = minemap.read_features(sample_data / "roads.geojson", kind="roads")

    def figures() -> list[pd.DataFrame]:
        zones, ranking = priority_analysis(hazards, releases, roads=roads)
        return [
            minemap.land_release_summary(hazards, releases, by="district"),
            minemap.progress_over_time(hazards, releases, freq="Y"),
            zones,
            ranking,
        ]

    monkeypatch.setattr(settings, "progress", False)
    plain = figures()
    assert terminal.getvalue() == ""
    monkeypatch.setattr(settings, "progress", True)
    monkeypatch.setenv("MINEMAP_PROGRESS_DELAY", "0")
    for shown, hidden in zip(figures(), plain, strict=True):
        pd.testing.assert_frame_equal(shown, hidden, check_exact=True)
    drawn = terminal.getvalue()
    for title in ("Land release summary", "Progress over time", "Priorities"):
        assert title in drawn


def test_bars_change_no_plan(monkeypatch, terminal):
    import pandas as pd

    from minemap.planning import Asset, Capacity, Range, compare_plans, plan_clearance
    from minemap.planning.schedule import json_ready

    team = Asset("team", 10, {("high", "cleared"): Range(50, 100, 150)})
    cap = Capacity(250, {"team": team}, release_mix={"high": {"cleared": 1}})
    table = pd.DataFrame(
        {"hazard_id": ["H1", "H2"], "threat_level": ["high", "high"], "remaining_ha": [25.0, 4.0]}
    )

    def plans() -> tuple:
        plan = plan_clearance(table, cap, start="2027-01-01", draws=200, seed=3)
        compared, _ = compare_plans({"a": cap}, table, start="2027-01-01", draws=50, seed=3)
        return plan.schedule, plan.summary, compared

    monkeypatch.setattr(settings, "progress", False)
    plain = plans()
    monkeypatch.setattr(settings, "progress", True)
    monkeypatch.setenv("MINEMAP_PROGRESS_DELAY", "0")
    schedule, summary, compared = plans()
    pd.testing.assert_frame_equal(schedule, plain[0], check_exact=True)
    assert json_ready(summary) == json_ready(plain[1])
    pd.testing.assert_frame_equal(compared, plain[2], check_exact=True)
    assert "Plan" in terminal.getvalue()


# --------------------------------------------------------------------------- the command line


def command_stderr(
    sample_data,
    *extra: str,
    terminal: bool = True,
    columns: int = 100,
    command: list[str] | None = None,
    **env: str,
) -> tuple[int, str]:
    """Run ``minemap summary`` (or ``command``) on the sample data in a fresh process, its
    standard error on a pseudo-terminal ``columns`` wide (or a pipe), with the progress
    environment of a user's shell; return the exit status and everything written to
    standard error."""
    environ = {
        k: v
        for k, v in os.environ.items()
        if k not in {"PYTEST_CURRENT_TEST", "MINEMAP_PROGRESS", "MINEMAP_PROGRESS_DELAY"}
    }
    environ.update({"MINEMAP_PROGRESS_DELAY": "0", **env})
    argv = [
        sys.executable,
        "-m",
        "minemap.cli",
        *[a for a in extra if a in {"-q"}],
        *(
            command
            or [
                "summary",
                str(sample_data / "hazards.geojson"),
                "--released",
                str(sample_data / "releases.geojson"),
            ]
        ),
        *[a for a in extra if a not in {"-q"}],
    ]
    if not terminal:
        done = subprocess.run(
            argv, env=environ, stdin=subprocess.DEVNULL, capture_output=True, timeout=120
        )
        return done.returncode, done.stderr.decode("utf-8", "replace")
    leader, follower = os.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    try:
        process = subprocess.Popen(
            argv,
            env=environ,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=follower,
        )
    finally:
        os.close(follower)
    chunks = []
    try:
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the command has exited and closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(leader)
    return process.wait(timeout=120), b"".join(chunks).decode("utf-8", "replace")


@pytest.mark.parametrize("columns", [100, 0])  # 0: a terminal that tells no width
def test_the_command_shows_bars_on_a_terminal(sample_data, columns):
    status, err = command_stderr(sample_data, columns=columns)
    assert status == 0
    assert "%|" in err and "Land release summary" in err and "Reading hazards.geojson" in err
    assert "outside every hazard area" in err  # warnings still print, after the bars


def test_the_command_shows_no_bar_in_a_pipe(sample_data):
    status, err = command_stderr(sample_data, terminal=False)
    assert status == 0
    assert "%|" not in err and "\r" not in err
    assert "outside every hazard area" in err


@pytest.mark.parametrize("quiet", ["-q", "--quiet"])
def test_quiet_hides_the_bars_on_a_terminal(sample_data, quiet):
    status, err = command_stderr(sample_data, quiet, MINEMAP_PROGRESS="1")
    assert status == 0
    assert "%|" not in err and "Land release summary" not in err
    assert "outside every hazard area" in err


def test_the_environment_decides_for_the_command(sample_data):
    assert "%|" not in command_stderr(sample_data, MINEMAP_PROGRESS="0")[1]
    assert "%|" in command_stderr(sample_data, terminal=False, MINEMAP_PROGRESS="1")[1]


def test_the_command_in_process_prints_no_bar(sample_data, capsys):
    from minemap.cli import run

    argv = ["summary", str(sample_data / "hazards.geojson")]
    assert run([*argv, "--released", str(sample_data / "releases.geojson")]) == 0
    assert "%|" not in capsys.readouterr().err
    assert run(["-q", *argv, "--format", "json"]) == 0
    assert run([*argv, "-q"]) == 0
    assert "%|" not in capsys.readouterr().err
    assert _progress._quiet_depth == 0


def test_every_command_takes_quiet():
    from minemap.cli import build_parser

    parser = build_parser()
    assert parser.parse_args(["-q", "capacity-template"]).quiet
    assert not parser.parse_args(["capacity-template"]).quiet
    commands = next(a for a in parser._actions if a.dest == "command").choices
    for name, command in commands.items():
        assert any("--quiet" in a.option_strings for a in command._actions), name


def fake_ipython(monkeypatch, shell_class: str) -> None:
    """Make this process look like IPython with the given shell (a kernel: ZMQ)."""
    import types

    shell = type(shell_class, (), {})()
    ipython = types.ModuleType("IPython")
    ipython.get_ipython = lambda: shell  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))


def test_a_jupyter_kernel_shows_bars_without_a_terminal(monkeypatch):
    monkeypatch.setattr(_progress, "_in_test_run", lambda: False)
    monkeypatch.setattr(_progress, "_stderr", io.StringIO)
    assert not _progress.enabled()
    fake_ipython(monkeypatch, "TerminalInteractiveShell")  # IPython in a terminal: no kernel
    assert not _progress.enabled()
    fake_ipython(monkeypatch, "ZMQInteractiveShell")
    assert _progress.enabled()


def test_a_kernel_draws_a_widget_only_with_ipywidgets(monkeypatch):
    from tqdm.notebook import tqdm as notebook_tqdm
    from tqdm.std import tqdm as text_tqdm

    fake_ipython(monkeypatch, "ZMQInteractiveShell")
    find_spec = _progress.importlib.util.find_spec
    monkeypatch.setattr(
        _progress.importlib.util,
        "find_spec",
        lambda name, *a: object() if name == "ipywidgets" else find_spec(name, *a),
    )
    assert _progress._bar_class() is notebook_tqdm
    monkeypatch.setattr(_progress.importlib.util, "find_spec", lambda name, *a: None)
    assert _progress._bar_class() is text_tqdm  # text on standard error, no IProgress warning


def test_the_report_shows_its_own_bar_on_a_terminal(sample_data, tmp_path):
    gpkg = str(sample_data / "scenario.gpkg")
    report = ["report", gpkg, "--released", gpkg, "--roads", gpkg, "-o", str(tmp_path / "r.html")]
    status, err = command_stderr(sample_data, command=report)
    assert status == 0 and (tmp_path / "r.html").is_file()
    assert "Report" in err and "%|" in err
    assert "Land release summary" not in err  # the steps inside the report show no bar of their own
    status, err = command_stderr(sample_data, "--quiet", command=report)
    assert status == 0 and "%|" not in err
