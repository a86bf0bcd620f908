"""The README and docs/ stand alone: every relative link points into the repository, and
nothing refers to files a clone does not have."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
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


# ------------------------------------------------------------------------------------------
# every public function and class has a docstring example that runs as a doctest
# ------------------------------------------------------------------------------------------

#: The modules of the public API, each with a page in the API reference (docs/reference/).
PUBLIC_MODULES = (
    "minemap",
    "minemap.io",
    "minemap.stats",
    "minemap.priority",
    "minemap.ranking",
    "minemap.evidence",
    "minemap.readiness",
    "minemap.planning",
    "minemap.maps",
    "minemap.synthetic",
    "minemap.crs",
    "minemap.population",
    "minemap.nearest",
    "minemap.plots",
    "minemap.project",
    "minemap.report",
    "minemap.partitioned",
    "minemap.quality",
)
#: Public objects whose docstring need not hold an example, with the reason.
NO_EXAMPLE_NEEDED: dict[str, str] = {}
EXAMPLE = re.compile(r"^\s*>>> (?!.*#\s*doctest:.*\+SKIP)", re.MULTILINE)


def _reference_members(module: str) -> list[str] | None:
    """The ``members:`` a module's API reference page lists, or None if it lists none."""
    stem = "minemap" if module == "minemap" else module.removeprefix("minemap.")
    text = (REPO / "docs" / "reference" / f"{stem}.md").read_text(encoding="utf-8")
    found = re.search(r"^(\s*)members:\n((?:\1\s+- \w+\n)+)", text, re.MULTILINE)
    return None if found is None else re.findall(r"- (\w+)", found.group(2))


def public_names(module_name: str) -> list[str]:
    """A module's public names: its ``__all__``; for a module without one, the names its
    reference page lists, else the functions and classes it defines."""
    import importlib
    import inspect

    module = importlib.import_module(module_name)
    names = list(getattr(module, "__all__", None) or _reference_members(module_name) or [])
    if not names:
        names = [
            name
            for name, obj in vars(module).items()
            if not name.startswith("_")
            and (inspect.isfunction(obj) or inspect.isclass(obj))
            and obj.__module__ == module_name
        ]
    if module_name == "minemap":
        names += [name for name in module._LAZY if name not in names]  # imported lazily
    return names


def _public_objects() -> list[tuple[str, object]]:
    import importlib
    import inspect

    found: dict[int, tuple[str, object]] = {}
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in public_names(module_name):
            obj = getattr(module, name)
            if not (inspect.isfunction(obj) or inspect.isclass(obj)):
                continue  # constants, type aliases, submodules
            if inspect.isclass(obj) and issubclass(obj, BaseException):
                continue  # errors and warnings: documented by their one-line docstring
            found.setdefault(id(obj), (f"{module_name}.{name}", obj))
    return sorted(found.values(), key=lambda item: item[0])


PUBLIC_OBJECTS = _public_objects()


def test_the_public_api_is_found():
    names = {name for name, _ in PUBLIC_OBJECTS}
    assert {"minemap.read_hazards", "minemap.hazard_map", "minemap.planning.Capacity"} <= names
    assert "minemap.crs.area_ha" in names or "minemap.area_ha" in names
    assert len(PUBLIC_OBJECTS) > 50


@pytest.mark.parametrize("name,obj", PUBLIC_OBJECTS, ids=[n for n, _ in PUBLIC_OBJECTS])
def test_every_public_function_and_class_has_a_runnable_example(name, obj):
    if name in NO_EXAMPLE_NEEDED:
        return
    doc = obj.__doc__ or ""  # its own docstring, the one --doctest-modules runs
    sections = re.split(r"^\s*Examples\n\s*--------\n", doc, maxsplit=1, flags=re.MULTILINE)
    assert len(sections) == 2, f"{name}: its docstring has no 'Examples' section"
    assert EXAMPLE.search(sections[1]), f"{name}: its Examples have no '>>>' line that runs"
    assert obj.__module__.startswith("minemap"), name  # so --doctest-modules runs it


def test_the_exemptions_are_public_names():
    names = {name for name, _ in PUBLIC_OBJECTS}
    assert set(NO_EXAMPLE_NEEDED) <= names


# ------------------------------------------------------------------------------------------
# the documentation site (mkdocs.yml, docs/hooks.py); `mkdocs build --strict` runs in CI
# ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hooks():
    pytest.importorskip("mkdocs", reason="the docs extra (pip install -e '.[docs]')")
    import importlib.util

    spec = importlib.util.spec_from_file_location("docs_hooks", REPO / "docs" / "hooks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_public_module_has_a_reference_page_in_the_navigation():
    config = (REPO / "mkdocs.yml").read_text(encoding="utf-8")
    for module in PUBLIC_MODULES:
        stem = "minemap" if module == "minemap" else module.removeprefix("minemap.")
        page = REPO / "docs" / "reference" / f"{stem}.md"
        assert f"::: {module}\n" in page.read_text(encoding="utf-8"), module
        assert f"- {module}: reference/{stem}.md" in config, module


def test_every_docs_page_is_in_the_navigation():
    config = (REPO / "mkdocs.yml").read_text(encoding="utf-8")
    for page in (REPO / "docs").rglob("*.md"):
        assert page.relative_to(REPO / "docs").as_posix() in config, page


def test_the_cli_page_gets_the_help_of_every_command(hooks):
    from minemap.cli.main import command_modules

    text = hooks.command_help()
    for name in command_modules():
        assert f"## `minemap {name.replace('_', '-')}`" in text
        assert f"usage: minemap {name.replace('_', '-')} [-h]" in text
    assert hooks.CLI_MARKER in (REPO / "docs" / "cli.md").read_text(encoding="utf-8")


def test_the_top_level_page_links_every_name_minemap_exports(hooks):
    import minemap

    text = hooks.top_level_names()
    for name in minemap.__all__:
        obj = getattr(minemap, name)
        if isinstance(obj, type) and issubclass(obj, BaseException):
            assert f"::: minemap.{name}\n" in text
        else:
            assert f"| [`{name}`][minemap." in text
    assert hooks.TOP_MARKER in (REPO / "docs" / "reference" / "minemap.md").read_text()


def test_sphinx_roles_become_reference_links(hooks):
    html = hooks.on_page_content(
        "see :func:<code>priority_zones</code>, :meth:<code>Capacity.from_toml</code>, "
        ":class:<code>folium.Map</code> and :func:<code>~minemap.crs.area_ha</code>",
        page=_page("reference/planning.md"),
        config=None,
        files=None,
    )
    assert '<autoref identifier="minemap.priority.priority_zones" optional>' in html
    assert '<autoref identifier="minemap.planning.Capacity.from_toml" optional>' in html
    assert "<code>folium.Map</code>" in html and "folium.Map</code></autoref>" not in html
    assert '<autoref identifier="minemap.crs.area_ha" optional><code>area_ha</code>' in html


def _page(uri: str) -> object:
    from types import SimpleNamespace

    return SimpleNamespace(file=SimpleNamespace(src_uri=uri))


def test_notebooks_join_the_site_and_its_navigation(hooks, tmp_path, monkeypatch):
    from mkdocs.config.defaults import MkDocsConfig
    from mkdocs.structure.files import Files

    config = MkDocsConfig()
    config.load_dict({"site_name": "t", "nav": [{"Notebooks": ["notebooks.md"]}]})
    monkeypatch.setattr(hooks, "NOTEBOOKS", tmp_path / "notebooks")
    hooks.on_config(config)  # no notebooks folder: nothing to add
    assert config.nav == [{"Notebooks": ["notebooks.md"]}]

    (tmp_path / "notebooks").mkdir()
    for name in ("02_maps.ipynb", "01_quickstart.ipynb", "notes.txt"):
        (tmp_path / "notebooks" / name).write_text("{}", encoding="utf-8")
    monkeypatch.setattr(hooks, "ROOT", tmp_path)
    hooks.on_config(config)
    assert config.nav == [
        {"Notebooks": ["notebooks.md", "notebooks/01_quickstart.ipynb", "notebooks/02_maps.ipynb"]}
    ]
    config["site_dir"] = str(tmp_path / "site")
    files = hooks.on_files(Files([]), config=config)
    assert [f.src_uri for f in files] == [
        "notebooks/01_quickstart.ipynb",
        "notebooks/02_maps.ipynb",
    ]
    assert files.get_file_from_path("notebooks/01_quickstart.ipynb").abs_src_path == str(
        tmp_path / "notebooks" / "01_quickstart.ipynb"
    )

    config.nav = [{"Guide": ["index.md"]}]
    with pytest.raises(ValueError, match="no 'Notebooks' section"):
        hooks.on_config(config)


def test_the_site_asks_nothing_of_the_web(hooks):
    from mkdocs.config.defaults import MkDocsConfig

    config = MkDocsConfig()
    config.load_dict({"site_name": "t", "nav": [{"Notebooks": []}]})
    config.extra["polyfills"] = ["https://unpkg.com/iframe-worker/shim", "local.js"]
    hooks.on_config(config)
    assert config.extra["polyfills"] == ["local.js"]
    text = (REPO / "mkdocs.yml").read_text(encoding="utf-8")
    assert "font: false" in text and "- offline" in text


# ------------------------------------------------------------------------------------------
# the README: its ten-line example runs and prints what it shows; its command table is whole
# ------------------------------------------------------------------------------------------


def _section(text: str, heading: str) -> str:
    start = text.index(f"\n{heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end >= 0 else None]


def test_the_readme_python_example_runs_and_prints_what_it_shows(tmp_path, monkeypatch, capsys):
    import minemap

    section = _section(README.read_text(encoding="utf-8"), "## In ten lines of Python")
    code, shown = re.findall(r"```(?:python|text)\n(.*?)```", section, re.DOTALL)[:2]
    assert len(code.strip().splitlines()) <= 12
    (tmp_path / "sample_data").symlink_to(REPO / "sample_data")
    monkeypatch.chdir(tmp_path)
    with pytest.warns(minemap.DataWarning, match="37.05 ha of recorded release"):
        exec(compile(code, "README.md", "exec"), {})
    printed = capsys.readouterr().out.splitlines()
    expected = shown.splitlines()
    assert printed[:5] == expected[:5]  # the summary, exactly
    assert printed[5].split() == expected[5].split()  # the ranking's columns
    assert [line.split()[:2] for line in printed[6:]] == [["0", "1"], ["1", "2"], ["2", "3"]]
    page = (tmp_path / "map.html").read_text(encoding="utf-8")
    assert "https://" not in page and "HZ-000120" in page  # offline, with the hazards


def test_the_readme_command_table_lists_every_command():
    from minemap.cli.main import command_modules

    table = _section(README.read_text(encoding="utf-8"), "### Command line")
    for name in command_modules():
        assert f"| `minemap {name.replace('_', '-')} " in table, name


def test_the_readme_keeps_its_two_set_up_commands():
    text = README.read_text(encoding="utf-8")
    assert (
        'python3 -m venv .venv && . .venv/bin/activate && python -m pip install ".[all]" && '
        "minemap summary sample_data/scenario.gpkg --released sample_data/scenario.gpkg && "
        "minemap map sample_data/scenario.gpkg"
    ) in text
    assert (
        'python3 -m venv .venv && . .venv/bin/activate && python -m pip install -e ".[test]" && '
        "python -m pytest -n 2"
    ) in text


def _numbers(line: str) -> list[float]:
    return [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", line)]


def test_the_evidence_page_example_prints_what_it_shows(capsys):
    """docs/evidence.md compares a headline with an estimate: its figures must stay true
    (to 1%, so that the oldest supported geometry libraries may differ in the last digits)."""
    import warnings

    page = (REPO / "docs" / "evidence.md").read_text(encoding="utf-8")
    marker = page.index("<!-- the example below is run by tests/test_docs.py")
    code, shown = re.findall(r"```(?:python|text)\n(.*?)```", page[marker:], re.DOTALL)[:2]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the stray finds outside every hazard are reported
        exec(compile(code, "docs/evidence.md", "exec"), {})
    printed = capsys.readouterr().out.splitlines()
    expected = shown.splitlines()
    assert len(printed) == len(expected)
    for got, want in zip(printed, expected, strict=True):
        assert got.split()[:1] == want.split()[:1]
        assert _numbers(got) == pytest.approx(_numbers(want), rel=0.01), (got, want)
    total = _numbers(expected[-1])
    assert f"{round(total[1], -3) / 1000:,.0f},000 devices remaining" in page
