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
