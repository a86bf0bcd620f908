"""The README and docs/ stand alone: every relative link points into the repository, and
nothing refers to files a clone does not have."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PAGES = [
    REPO / "README.md",
    REPO / "CONTRIBUTING.md",
    REPO / "CHANGELOG.md",
    *sorted((REPO / "docs").glob("*.md")),
]
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_relative_links_resolve_inside_the_repository(page):
    for target in LINK.findall(page.read_text(encoding="utf-8")):
        if re.match(r"^[a-z]+:", target):
            continue  # a web address, not a file of the repository
        resolved = (page.parent / target).resolve()
        assert resolved.exists(), (page.name, target)
        assert REPO in resolved.parents or resolved == REPO, (page.name, target)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_no_reference_to_files_outside_the_clone(page):
    text = page.read_text(encoding="utf-8")
    assert "DESIGN.md" not in text and "../shared" not in text
