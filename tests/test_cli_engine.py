"""``--engine``, ``--scheduler`` and ``--workers`` (``minemap.cli.engine``): the Dask engine
prints and writes the local engine's figures; options that do not agree fail in one line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from minemap.cli import run

distributed = pytest.importorskip("distributed")
pytest.importorskip("dask_geopandas")

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"
HAZARDS = str(SAMPLE / "hazards.geojson")
RELEASED = ["--released", str(SAMPLE / "releases.geojson")]
FEATURES = ["--roads", str(SAMPLE / "roads.geojson")]
FEATURES += ["--residential", str(SAMPLE / "residential.geojson")]


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """The address of a running cluster, as a user's ``dask scheduler`` would give."""
    with distributed.LocalCluster(
        n_workers=1,
        threads_per_worker=2,
        processes=False,
        protocol="tcp",
        host="127.0.0.1",
        scheduler_port=0,
        dashboard_address=":0",
    ) as cluster:
        yield cluster.scheduler_address


def _summary(capsys: Any, *extra: str) -> dict[str, Any]:
    assert run(["summary", HAZARDS, *RELEASED, "--by", "district", "--format", "json", *extra]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("extra", [["--engine", "dask"], ["--engine", "dask", "--workers", "2"]])
def test_the_summary_on_a_local_cluster(capsys: Any, extra: list[str]) -> None:
    local, dask = _summary(capsys), _summary(capsys, *extra)
    assert len(local["rows"]) > 8
    pd.testing.assert_frame_equal(
        pd.DataFrame(local["rows"]), pd.DataFrame(dask["rows"]), check_exact=False, rtol=1e-9
    )
    assert dask["released_outside_hazards_ha"] == pytest.approx(
        local["released_outside_hazards_ha"], rel=1e-9
    )


def test_the_summary_on_a_running_scheduler(capsys: Any, scheduler: str) -> None:
    local, dask = _summary(capsys), _summary(capsys, "--scheduler", scheduler)
    pd.testing.assert_frame_equal(
        pd.DataFrame(local["rows"]), pd.DataFrame(dask["rows"]), check_exact=False, rtol=1e-9
    )


def test_priority_on_a_running_scheduler(tmp_path: Path, capsys: Any, scheduler: str) -> None:
    tables = {}
    for name, extra in (("local", []), ("dask", ["--scheduler", scheduler])):
        ranking = tmp_path / f"{name}.csv"
        args = ["priority", HAZARDS, *RELEASED, *FEATURES, "-o", str(tmp_path / f"{name}.gpkg")]
        assert run([*args, "--ranking", str(ranking), "-q", *extra]) == 0
        tables[name] = pd.read_csv(ranking)
    assert tables["local"]["rank"].notna().sum() > 100
    pd.testing.assert_frame_equal(tables["local"], tables["dask"], check_exact=False, rtol=1e-9)
    capsys.readouterr()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--engine", "local", "--scheduler", "tcp://x:1"], "--scheduler names a Dask cluster"),
        (["--scheduler", "tcp://x:1", "--workers", "2"], "--workers sizes a cluster this"),
        (["--engine", "dask", "--workers", "0"], "--workers 0 (Python: workers=0) is not a"),
        (["--scheduler", "tcp://127.0.0.1:1"], "--scheduler tcp://127.0.0.1:1: no Dask scheduler"),
    ],
)
def test_options_that_do_not_agree_fail_in_one_line(
    capsys: Any, monkeypatch: pytest.MonkeyPatch, extra: list[str], message: str
) -> None:
    monkeypatch.setattr("minemap.cli.engine.CONNECT_TIMEOUT_S", 1)
    assert run(["summary", HAZARDS, *extra]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err
    assert message in captured.err, captured.err


def test_a_bad_engine_is_refused_by_the_parser(capsys: Any) -> None:
    with pytest.raises(SystemExit) as stop:
        run(["summary", HAZARDS, "--engine", "spark"])
    assert stop.value.code == 2
    assert "invalid choice: 'spark'" in capsys.readouterr().err
