"""Tests of the worker count (:mod:`minemap._workers`) and of ``workers=`` / ``--workers``.

The figures must be the same, to the last bit, whatever the number of workers: tables are
compared with ``check_exact=True`` and geometries by their WKB. The parallel threshold is
lowered so that even small scenarios are cut into one chunk per worker.
"""

from __future__ import annotations

import json
import os
import threading
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import shapely.affinity
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely import box

import minemap
import minemap.maps.interactive
import minemap.priority
import minemap.ranking
import minemap.stats
from minemap import _overlay, _workers
from minemap._errors import DataWarning, SchemaError
from minemap._workers import (
    MAX_WORKERS,
    SidePool,
    available_cores,
    private,
    resolve_workers,
    using_workers,
    worker_count,
)
from minemap.cli import run
from minemap.maps import hazard_map, map_html
from minemap.synthetic import make_scenario

SETTINGS = settings(
    max_examples=12, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)


# ------------------------------------------------------------------------------------------
# the count
# ------------------------------------------------------------------------------------------


def test_available_cores_are_those_the_process_may_use():
    expected = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert available_cores() == expected


def test_available_cores_fall_back_to_the_cpu_count(monkeypatch):
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 6)
    assert available_cores() == 6
    monkeypatch.setattr(os, "cpu_count", lambda: None)  # unknown: one core
    assert available_cores() == 1


@pytest.mark.parametrize("value", [1, 2, 3, np.int64(2), MAX_WORKERS])
def test_whole_numbers_are_accepted(value):
    assert resolve_workers(value) == int(value)
    assert type(resolve_workers(value)) is int


def test_none_means_every_available_core():
    assert resolve_workers(None) == available_cores()
    assert worker_count() == available_cores()


@pytest.mark.parametrize(
    "value", [0, -1, 2.0, 2.5, True, False, "2", "all", MAX_WORKERS + 1, [2], float("nan")]
)
def test_anything_else_is_refused_naming_the_option(value):
    with pytest.raises(SchemaError) as err:
        resolve_workers(value)
    message = str(err.value)
    assert message.startswith(f"workers={value!r} is not a number of workers")
    assert "whole number ≥ 1" in message and f"None for all {available_cores()} core" in message
    assert "\n" not in message
    with pytest.raises(SchemaError, match=r"^jobs="):
        resolve_workers(value, option="jobs")


def test_using_workers_sets_the_count_for_the_block_only():
    outside = worker_count()
    with using_workers(1) as n:
        assert n == 1 and worker_count() == 1
        with using_workers(3):
            assert worker_count() == 3
        assert worker_count() == 1
        with using_workers(None):
            assert worker_count() == available_cores()
    assert worker_count() == outside
    with pytest.raises(SchemaError), using_workers(0):
        pass  # pragma: no cover - refused on entry
    assert worker_count() == outside


def test_the_count_is_per_thread_of_control():
    seen = {}

    def other():
        seen["other"] = worker_count()

    with using_workers(1):
        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
        seen["here"] = worker_count()
    assert seen == {"other": available_cores(), "here": 1}


def test_chunks_run_with_the_callers_count(monkeypatch):
    monkeypatch.setattr(_overlay, "PARALLEL_THRESHOLD", 1)
    seen = []

    def spy(a):
        seen.append((worker_count(), threading.get_ident()))
        return a

    with using_workers(3):
        out = _overlay.parallel(spy, np.arange(9))
    assert out.tolist() == list(range(9))
    # a few chunks per worker (here one per element), all in the caller's count
    assert len(seen) == 9 and {count for count, _ in seen} == {3}
    assert len({thread for _, thread in seen}) <= 3


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    weights=st.lists(st.integers(0, 1000), min_size=1, max_size=40),
    workers=st.integers(2, 4),
)
def test_chunks_cut_by_weight_give_the_same_result_in_order(monkeypatch, weights, workers):
    monkeypatch.setattr(_overlay, "PARALLEL_THRESHOLD", 1)
    sizes = []

    def spy(a):
        sizes.append(a.size)
        return a * 2

    values = np.arange(len(weights))
    with using_workers(workers):
        out = _overlay.parallel(spy, values, weights=np.array(weights))
    assert out.tolist() == (values * 2).tolist()
    assert sum(sizes) == len(weights) and min(sizes) > 0  # no empty chunk


def test_chunks_cut_by_weight_hold_equal_weights(monkeypatch):
    monkeypatch.setattr(_overlay, "PARALLEL_THRESHOLD", 1)
    chunks = []
    weights = np.r_[np.full(100, 10), np.ones(900)]  # the first tenth costs half

    def spy(a):
        chunks.append(a.copy())
        return a

    with using_workers(2):
        _overlay.parallel(spy, np.arange(1000), weights=weights)
    sums = sorted(weights[c].sum() for c in chunks)
    assert len(chunks) == 2 * _overlay.SLICES_PER_WORKER
    assert sums[-1] - sums[0] <= 2 * 10  # equal but for an element at either end


# ------------------------------------------------------------------------------------------
# one worker: no thread at all
# ------------------------------------------------------------------------------------------


class _NoPool:
    def __init__(self, *args, **kwargs):
        raise AssertionError("a thread pool was started with one worker")


@pytest.fixture
def no_pools(monkeypatch):
    monkeypatch.setattr(_overlay, "PARALLEL_THRESHOLD", 1)
    monkeypatch.setattr(_overlay, "ThreadPoolExecutor", _NoPool)
    monkeypatch.setattr(_workers, "ThreadPoolExecutor", _NoPool)


def test_parallel_with_one_worker_starts_no_pool(no_pools):
    a = np.array([box(k, 0, k + 2, 1) for k in range(50)])
    b = np.array([box(k + 1, 0, k + 3, 1) for k in range(50)])
    with using_workers(1):
        out = _overlay.parallel(shapely.intersection, a, b)
    assert shapely.equals(out, shapely.intersection(a, b)).all()
    with using_workers(2), pytest.raises(AssertionError, match="thread pool"):
        _overlay.parallel(shapely.intersection, a, b)


def test_side_pool_with_one_worker_runs_in_this_thread(no_pools):
    here = threading.get_ident()
    with using_workers(1), SidePool(2) as side:
        done = side.submit(threading.get_ident)
        failed = side.submit(int, "x")
    assert done.result() == here
    with pytest.raises(ValueError):
        failed.result()


def test_side_pool_with_two_workers_runs_beside_in_the_callers_count():
    here = threading.get_ident()
    with using_workers(2), SidePool() as side:
        where = side.submit(lambda: (threading.get_ident(), worker_count())).result()
    assert where[0] != here and where[1] == 2


# ------------------------------------------------------------------------------------------
# no array shared between threads (shapely's read-only flag, shapely issue #2410)
# ------------------------------------------------------------------------------------------


def _locked_while(owner: np.ndarray, func):
    """``func`` run while ``owner`` is read-only, as another thread's shapely call leaves it."""

    def run(*arrays):
        owner.flags.writeable = False
        try:
            return func(*arrays)
        finally:
            owner.flags.writeable = True

    return run


def test_parallel_chunks_survive_another_thread_holding_the_array():
    # a chunk that is a view of the caller's array fails in shapely while another thread
    # holds that array read-only; each chunk is a copy of its own
    n = _overlay.PARALLEL_THRESHOLD + 100
    owner = np.array([box(k, 0, k + 2, 1 + k % 3) for k in range(n)], dtype=object)
    with using_workers(2):
        out = _overlay.parallel(_locked_while(owner, shapely.area), owner)
    assert out.tolist() == shapely.area(owner).tolist()
    assert owner.flags.writeable


def test_side_pool_gives_the_side_thread_copies_of_frames_and_arrays():
    frame = gpd.GeoDataFrame({"k": [1, 2]}, geometry=[box(0, 0, 1, 1), box(1, 1, 2, 2)], crs=32638)
    arr = np.asarray(frame.geometry.array, dtype=object)

    def seen(layers, geoms, *, n):
        got = np.asarray(layers["a"].geometry.array, dtype=object)
        return np.shares_memory(got, arr), np.shares_memory(geoms, arr), n

    with using_workers(2), SidePool() as side:
        shared = side.submit(seen, {"a": frame}, arr, n=3).result()
    assert shared == (False, False, 3)


def test_private_copies_frames_series_and_object_arrays_only():
    frame = gpd.GeoDataFrame(geometry=[box(0, 0, 1, 1)], crs=32638)
    frame.attrs["minemap"] = "roads"
    numbers = np.arange(3.0)
    crs = frame.crs
    mine = private({"f": frame, "s": frame.geometry, "x": [numbers, (crs, 4)]})
    assert mine["f"] is not frame and mine["f"].attrs == {"minemap": "roads"}
    assert mine["f"].geometry.equals(frame.geometry)
    geoms = np.asarray(frame.geometry.array, dtype=object)
    for copy in (mine["f"], mine["s"]):
        assert not np.shares_memory(np.asarray(copy.geometry.array, dtype=object), geoms)
    assert mine["x"][0] is numbers  # numbers are not locked by shapely: not copied
    assert mine["x"][1] == (crs, 4) and isinstance(mine["x"][1], tuple)
    assert private(None) is None


def test_the_computations_with_one_worker_start_no_thread(no_pools):
    s = _scenario(5, 40)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        minemap.land_release_summary(s.hazards, s.releases, workers=1)
        zones, ranking = minemap.ranking.priority_analysis(
            s.hazards, s.releases, **_features(s), workers=1
        )
        hazard_map(s.hazards, s.releases, roads=s.roads, tiles=None, workers=1)
    assert len(zones) and len(ranking)
    # and the same calls would start pools with more workers
    with pytest.raises(AssertionError, match="thread pool"), warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        minemap.land_release_summary(s.hazards, s.releases, workers=2)


# ------------------------------------------------------------------------------------------
# the same figures whatever the count
# ------------------------------------------------------------------------------------------


def _scenario(seed: int, n: int):
    return make_scenario(
        seed=seed, n_hazards=n, high_ha=4.0 * n, medium_ha=10.0 * n, low_ha=8.0 * n
    )


def _features(s) -> dict:
    return {"roads": s.roads, "infrastructure": s.infrastructure, "residential": s.residential}


def _assert_identical(left: pd.DataFrame, right: pd.DataFrame) -> None:
    """Equal to the last bit: values exactly, geometries by WKB, and the attrs."""
    assert left.attrs == right.attrs
    if isinstance(left, gpd.GeoDataFrame):
        name = left.geometry.name
        assert shapely.to_wkb(left.geometry.array).tolist() == (
            shapely.to_wkb(right.geometry.array).tolist()
        )
        left, right = pd.DataFrame(left.drop(columns=name)), pd.DataFrame(right.drop(columns=name))
    pd.testing.assert_frame_equal(left, right, check_exact=True)


def _by_workers(compute, counts=(1, 2, 3)):
    """``compute()`` under each worker count, with every step cut into chunks."""
    with pytest.MonkeyPatch.context() as mp, warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        mp.setattr(_overlay, "PARALLEL_THRESHOLD", 2)
        calls = []
        real = _overlay.ThreadPoolExecutor

        def counting(workers, *args, **kwargs):
            calls.append(workers)
            return real(workers, *args, **kwargs)

        mp.setattr(_overlay, "ThreadPoolExecutor", counting)
        results = {n: compute(n) for n in counts}
    assert max(calls) == max(counts)  # the data really was cut into chunks
    return results


@SETTINGS
@given(seed=st.integers(0, 10_000), n=st.integers(8, 60), as_of=st.sampled_from([None, "2023"]))
def test_summary_is_identical_whatever_the_workers(seed, n, as_of):
    s = _scenario(seed, n)
    tables = _by_workers(
        lambda w: minemap.land_release_summary(s.hazards, s.releases, as_of=as_of, workers=w)
    )
    _assert_identical(tables[1], tables[2])
    _assert_identical(tables[1], tables[3])


@SETTINGS
@given(seed=st.integers(0, 10_000), n=st.integers(8, 60))
def test_summary_by_districts_is_identical_whatever_the_workers(seed, n):
    s = _scenario(seed, n)
    tables = _by_workers(
        lambda w: minemap.land_release_summary(s.hazards, s.releases, by=s.districts, workers=w)
    )
    _assert_identical(tables[1], tables[2])
    _assert_identical(tables[1], tables[3])


@st.composite
def stacked_squares(draw):
    """Squares on a 10 m grid around one spot, many over each other (a stack), in UTM."""
    n = draw(st.integers(2, 70))
    x0, y0 = 500_000.0, 4_400_000.0
    cells = draw(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6)), min_size=n, max_size=n))
    sizes = draw(st.lists(st.integers(3, 12), min_size=n, max_size=n))
    levels = draw(st.lists(st.sampled_from(["high", "medium", "low"]), min_size=n, max_size=n))
    squares = [
        box(x0 + 10 * i, y0 + 10 * j, x0 + 10 * (i + s), y0 + 10 * (j + s))
        for (i, j), s in zip(cells, sizes, strict=True)
    ]
    hazards = gpd.GeoDataFrame(
        {"hazard_id": [f"H{k}" for k in range(n)], "threat_level": levels},
        geometry=squares,
        crs=32638,
    )
    m = draw(st.integers(0, n))
    methods = draw(
        st.lists(st.sampled_from(["cleared", "reduced", "cancelled"]), min_size=m, max_size=m)
    )
    shift = draw(st.lists(st.integers(-20, 20), min_size=m, max_size=m))
    releases = gpd.GeoDataFrame(
        {
            "release_id": [f"R{k}" for k in range(m)],
            "method": methods,
            "release_date": ["2022-05-01"] * m,
        },
        geometry=[shapely.affinity.translate(squares[k], xoff=shift[k]) for k in range(m)],
        crs=32638,
    )
    return hazards, (releases if m else None)


@SETTINGS
@given(layers=stacked_squares())
def test_summary_of_stacked_squares_is_identical_whatever_the_workers(layers):
    hazards, releases = layers
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_overlay, "STACK_THRESHOLD", 4)  # small stacks go the stack way too
        tables = _by_workers(
            lambda w: minemap.land_release_summary(hazards, releases, workers=w), counts=(1, 2)
        )
    _assert_identical(tables[1], tables[2])


@SETTINGS
@given(seed=st.integers(0, 10_000), n=st.integers(8, 60))
def test_priority_zones_are_identical_whatever_the_workers(seed, n):
    s = _scenario(seed, n)
    zones = _by_workers(
        lambda w: minemap.priority_zones(s.hazards, s.releases, **_features(s), workers=w)
    )
    _assert_identical(zones[1], zones[2])
    _assert_identical(zones[1], zones[3])


@SETTINGS
@given(seed=st.integers(0, 10_000), n=st.integers(8, 60))
def test_ranking_is_identical_whatever_the_workers(seed, n):
    s = _scenario(seed, n)
    rankings = _by_workers(
        lambda w: minemap.rank_hazards(s.hazards, s.releases, **_features(s), workers=w),
        counts=(1, 2),
    )
    _assert_identical(rankings[1], rankings[2])


def test_priority_analysis_is_identical_whatever_the_workers():
    s = _scenario(11, 50)
    results = _by_workers(
        lambda w: minemap.ranking.priority_analysis(
            s.hazards, s.releases, **_features(s), workers=w
        ),
        counts=(1, 2),
    )
    for one, two in zip(results[1], results[2], strict=True):
        _assert_identical(one, two)


def test_the_map_is_the_same_page_whatever_the_workers():
    s = _scenario(4, 40)
    pages = _by_workers(
        lambda w: map_html(hazard_map(s.hazards, s.releases, roads=s.roads, tiles=None, workers=w)),
        counts=(1, 2),
    )
    assert pages[1] == pages[2]


@pytest.mark.parametrize("call", ["summary", "zones", "ranking", "map", "project"])
def test_the_public_functions_refuse_a_bad_count_before_any_work(call, monkeypatch):
    s = _scenario(1, 10)

    def no_work(*args, **kwargs):
        raise AssertionError("work began")

    monkeypatch.setattr(minemap.stats, "_summary_and_pieces", no_work)
    monkeypatch.setattr(minemap.priority, "_analyse", no_work)
    monkeypatch.setattr(minemap.maps.interactive, "_as_hazards", no_work)
    calls = {
        "summary": lambda: minemap.land_release_summary(s.hazards, workers=0),
        "zones": lambda: minemap.priority_zones(s.hazards, roads=s.roads, workers=0),
        "ranking": lambda: minemap.rank_hazards(s.hazards, roads=s.roads, workers=0),
        "map": lambda: hazard_map(s.hazards, workers=0),
        "project": lambda: minemap.Project(s.hazards, s.releases).summary(workers=0),
    }
    with pytest.raises(SchemaError, match=r"^workers=0 is not a number of workers"):
        calls[call]()


# ------------------------------------------------------------------------------------------
# the command line
# ------------------------------------------------------------------------------------------


@pytest.fixture
def files(tmp_path):
    s = _scenario(8, 40)
    paths = {}
    for name in ("hazards", "releases", "roads", "infrastructure", "residential"):
        paths[name] = str(tmp_path / f"{name}.gpkg")
        getattr(s, name).to_file(paths[name])
    return paths


def test_cli_summary_gives_the_same_figures_whatever_the_workers(files, capsys):
    out = {}
    for n in ("1", "2"):
        status = run(
            ["summary", files["hazards"], "--released", files["releases"], "--format", "json"]
            + ["--workers", n]
        )
        assert status == 0
        out[n] = json.loads(capsys.readouterr().out)
    assert out["1"]["rows"] == out["2"]["rows"]
    assert out["1"]["released_outside_hazards_ha"] == out["2"]["released_outside_hazards_ha"]


def test_cli_priority_and_map_accept_workers(files, tmp_path, capsys):
    layers = ["--roads", files["roads"], "--residential", files["residential"]]
    for n in ("1", "2"):
        zones = tmp_path / f"zones{n}.gpkg"
        status = run(
            ["priority", files["hazards"], "--released", files["releases"], *layers]
            + ["-o", str(zones), "--ranking", str(tmp_path / f"ranking{n}.csv"), "--workers", n]
        )
        assert status == 0
        status = run(
            ["map", files["hazards"], "--released", files["releases"], "--offline"]
            + ["-o", str(tmp_path / f"map{n}.html"), "--workers", n]
        )
        assert status == 0
    capsys.readouterr()
    one, two = gpd.read_file(tmp_path / "zones1.gpkg"), gpd.read_file(tmp_path / "zones2.gpkg")
    _assert_identical(one, two)
    assert (tmp_path / "ranking1.csv").read_bytes() == (tmp_path / "ranking2.csv").read_bytes()
    assert (tmp_path / "map1.html").read_bytes() == (tmp_path / "map2.html").read_bytes()


@pytest.mark.parametrize("command", ["summary", "priority", "map"])
@pytest.mark.parametrize("value", ["0", "-2", "two", "1.5"])
def test_cli_refuses_a_bad_workers_value_in_one_line(files, tmp_path, capsys, command, value):
    extra = {
        "summary": [],
        "priority": ["--roads", files["roads"], "-o", str(tmp_path / "z.gpkg")],
        "map": ["-o", str(tmp_path / "m.html")],
    }[command]
    status = run([command, files["hazards"], *extra, f"--workers={value}"])
    err = capsys.readouterr().err
    assert status == 2
    shown = value if value.lstrip("-").isdigit() else repr(value)
    assert err.startswith(f"minemap: error: --workers {value} (Python: workers={shown}) ")
    assert "is not a number of workers; give a whole number ≥ 1" in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "z.gpkg").exists() and not (tmp_path / "m.html").exists()


def test_cli_workers_cover_the_reading_too(files, capsys, monkeypatch):
    """--workers 1 holds for the whole command: the inputs are read (validity checks,
    numba's loading beside them) on one worker as well."""
    from minemap import io as mio

    seen = []
    real = mio.read_hazards

    def read_hazards(*args, **kwargs):
        seen.append(worker_count())
        return real(*args, **kwargs)

    monkeypatch.setattr(mio, "read_hazards", read_hazards)
    for n in ("1", "2"):
        assert run(["summary", files["hazards"], "--format", "json", "--workers", n]) == 0
    assert seen == [1, 2]
    capsys.readouterr()
