"""Shared fixtures. Module-specific fixtures live in each test module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLE_DATA = REPO / "sample_data"


@pytest.fixture(scope="session", autouse=True)
def _every_pair_measured_from_boundaries() -> Iterator[None]:
    """Summaries measure release-hazard pairs from their boundaries whatever their number.

    In use the compiled loop (minemap._shared_area) starts at thousands of pairs, where it
    pays for its loading, and only where most pairs do not share a vertex; the tests' small
    layers, many of them releases copied from hazards, would rarely reach it. Here every area
    test runs through it, and the GEOS overlay still measures the undecided pairs (and
    all of them where numba is not installed).
    """
    from minemap import _shared_area

    least, share = _shared_area.MIN_PAIRS, _shared_area.SHARED_VERTEX_SHARE
    _shared_area.MIN_PAIRS = 0
    _shared_area.SHARED_VERTEX_SHARE = 1.01  # even where every pair shares a vertex
    yield
    _shared_area.MIN_PAIRS, _shared_area.SHARED_VERTEX_SHARE = least, share


@pytest.fixture(scope="session")
def sample_data() -> Path:
    """Folder of the shipped synthetic sample data."""
    return SAMPLE_DATA


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    """A Dask client on a 2-worker LocalCluster of threads, for one test module (the
    module skips itself where the ``dask`` extra is missing)."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
    ) as cluster:
        with distributed.Client(cluster) as active:
            yield active


@pytest.fixture(scope="session")
def postgis() -> Iterator[Any]:
    """A throwaway PostGIS server on loopback for this test process (see tests/_postgis.py).

    Skips where PostgreSQL or PostGIS is not installed, or psycopg is missing, except with
    ``MINEMAP_REQUIRE_POSTGIS=1`` (CI), where that fails the test."""
    import importlib.util
    import os

    from _postgis import Server, find_binaries

    required = os.environ.get("MINEMAP_REQUIRE_POSTGIS") == "1"
    bin_, why = find_binaries()
    if importlib.util.find_spec("psycopg") is None:
        bin_, why = None, "psycopg is not installed (pip install -e '.[postgis]')"
    if bin_ is None:
        if required:
            pytest.fail(f"MINEMAP_REQUIRE_POSTGIS=1 but {why}")
        pytest.skip(f"no local PostGIS server can be started: {why}")
    server = Server(bin_)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def _headless_matplotlib(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MPLBACKEND", "Agg")


def pytest_sessionstart(session: pytest.Session) -> None:
    """In CI (MINEMAP_REQUIRE_BROWSER=1) anything the browser tests lack is an error, not a
    skip: Chromium and ChromeDriver where the tests look for them, and selenium."""
    import importlib.util
    import os

    if os.environ.get("MINEMAP_REQUIRE_BROWSER") != "1":
        return
    missing = [p for p in ("/usr/bin/chromium", "/usr/bin/chromedriver") if not Path(p).exists()]
    if importlib.util.find_spec("selenium") is None:
        missing.append("the selenium package")
    if missing:
        raise pytest.UsageError(
            f"MINEMAP_REQUIRE_BROWSER=1 but {', '.join(missing)} is "
            "missing; install Debian's chromium and chromium-driver and "
            "the test extras (pip install -e '.[test]')."
        )
