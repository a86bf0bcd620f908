"""Shared fixtures. Module-specific fixtures live in each test module."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLE_DATA = REPO / "sample_data"


@pytest.fixture(scope="session")
def sample_data() -> Path:
    """Folder of the shipped synthetic sample data."""
    return SAMPLE_DATA


@pytest.fixture(autouse=True)
def _headless_matplotlib(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MPLBACKEND", "Agg")


def pytest_sessionstart(session: pytest.Session) -> None:
    """In CI (MINEMAP_REQUIRE_BROWSER=1) a missing Chromium is an error, not a skip."""
    import os
    import shutil

    if os.environ.get("MINEMAP_REQUIRE_BROWSER") == "1" and not shutil.which("chromium"):
        raise pytest.UsageError("MINEMAP_REQUIRE_BROWSER=1 but no 'chromium' on PATH; "
                                "install Debian's chromium and chromium-driver.")
