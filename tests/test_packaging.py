"""Release habits (``pyproject.toml``, ``LICENSE``, ``CHANGELOG.md``): the license file
matches the declared license, the version is written once and printed by ``--version``, and
every package minemap imports is declared, in the core or in the extra that needs it."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

import pytest

import minemap
from minemap._extras import DISTRIBUTIONS
from minemap.cli import run

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
PROJECT = PYPROJECT["project"]


def _name(requirement: str) -> str:
    return re.split(r"[\s<>=!~\[;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_the_license_file_is_the_declared_license():
    assert PROJECT["license"] == "MIT"
    assert PROJECT["license-files"] == ["LICENSE"]
    text = (REPO / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License\n\nCopyright (c) ")
    assert "Permission is hereby granted, free of charge" in text
    assert 'THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND' in text


def test_metadata_is_complete():
    for key in ("description", "readme", "requires-python", "authors", "keywords"):
        assert PROJECT[key], key
    assert {"Homepage", "Source", "Issues", "Changelog"} <= set(PROJECT["urls"])
    assert "Topic :: Scientific/Engineering :: GIS" in PROJECT["classifiers"]
    assert "mine action" in PROJECT["keywords"]


def test_the_version_is_written_once_and_printed(capsys):
    assert "version" not in PROJECT and PROJECT["dynamic"] == ["version"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "minemap.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", minemap.__version__)
    with pytest.raises(SystemExit) as done:
        run(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out == f"minemap {minemap.__version__}\n"
    changelog = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "## [Unreleased]" in changelog


def _imported_packages() -> dict[str, set[str]]:
    """Top-level third-party modules imported by each file of ``minemap/``."""
    stdlib = set(sys.stdlib_module_names) | {"__future__"}
    found: dict[str, set[str]] = {}
    for path in sorted((REPO / "minemap").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in stdlib and top != "minemap":
                    found.setdefault(name, set()).add(path.relative_to(REPO).as_posix())
    return found


#: The extras that add to what minemap does (``all`` is their union; ``test``, ``docs`` and
#: ``dev`` are for working on minemap).
RUNTIME_EXTRAS = ("maps", "population", "synthetic", "report", "dask", "postgis", "fast")


def test_every_imported_package_is_declared():
    declared = {_name(r) for r in PROJECT["dependencies"]}
    extras = PROJECT["optional-dependencies"]
    optional = {_name(r) for extra in RUNTIME_EXTRAS for r in extras[extra]}
    owners = importlib.metadata.packages_distributions()
    for module, files in _imported_packages().items():
        top = module.split(".")[0]
        dists = {d.lower().replace("_", "-") for d in owners.get(top, [top])}
        if module in DISTRIBUTIONS or top in DISTRIBUTIONS:  # optional: in an extra
            wanted = DISTRIBUTIONS.get(module, DISTRIBUTIONS.get(top))
            assert _name(wanted) in optional, (module, files)
        else:
            assert dists & declared, (module, sorted(files), "is not a core dependency")


def test_every_extra_is_installable_by_name():
    extras = PROJECT["optional-dependencies"]
    assert {"maps", "population", "synthetic", "report", "all", "test", "dev"} <= set(extras)
    assert extras["all"] == [f"minemap[{','.join(RUNTIME_EXTRAS)}]"]
    assert {_name(d) for d in DISTRIBUTIONS.values()} <= {
        _name(r) for extra in RUNTIME_EXTRAS for r in extras[extra]
    }


def test_the_lower_bounds_are_the_versions_ci_tests():
    pins = {}
    for line in (REPO / ".ci" / "oldest.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, version = line.split("==")
            pins[_name(name)] = version
    extras = PROJECT["optional-dependencies"]
    declared = list(PROJECT["dependencies"])
    declared += [r for extra in RUNTIME_EXTRAS for r in extras[extra]]
    bounds = {_name(r): r.split(">=")[1] for r in declared}
    assert bounds == pins
