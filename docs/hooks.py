"""MkDocs hooks for the documentation site (``hooks:`` in ``mkdocs.yml``).

* The site makes no request to the web: the script Material's offline plugin would load
  from a CDN is left out.
* The notebooks in ``notebooks/*.ipynb`` (outside ``docs/``) become pages of the site, under
  the *Notebooks* section of the navigation, whatever notebooks there are (none is fine);
  mkdocs-jupyter then executes and renders them.
* ``docs/cli.md`` gets the ``--help`` of every ``minemap`` command, generated from the
  parser at build time, so the page never goes stale and a new command appears by itself.
* ``docs/reference/minemap.md`` gets a table of every name ``minemap`` exports (lazily
  imported ones too), each linked to where its module's page documents it, and the errors
  and warnings, which only ``minemap`` exports, documented in full.
* Sphinx roles in docstrings (``:func:`x```, ``:class:`x```, ...), which mkdocstrings shows
  as typed, become links to the API reference where the object is documented there, and
  plain code otherwise.
"""

from __future__ import annotations

import argparse
import html
import importlib
import inspect
import os
import re
from functools import cache
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
NOTEBOOK_SECTION = "Notebooks"
TOP_PAGE = "reference/minemap.md"
TOP_MARKER = "<!-- the names minemap exports are inserted here when the site is built -->"
CLI_PAGE = "cli.md"
CLI_MARKER = "<!-- the help of every command is inserted here when the site is built -->"
#: Width of the generated ``--help`` text, in characters.
HELP_WIDTH = 80

#: The modules of the API reference, in the order their pages are searched for an object.
REFERENCE_MODULES = (
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
    "minemap",
)
#: Objects exported lazily (by a module's ``__getattr__``), which the reference documents
#: under the module that defines them.
LAZY_DOCUMENTED = (
    "minemap.planning.chart.plot_burndown",
    "minemap.report.pdf.html_to_pdf",
)


# --- notebooks ----------------------------------------------------------------------------


def notebooks() -> list[Path]:
    """The notebooks to render, in name order (empty while there are none)."""
    return sorted(NOTEBOOKS.glob("*.ipynb")) if NOTEBOOKS.is_dir() else []


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    """List every notebook under the *Notebooks* section of the navigation, and keep the
    pages free of requests to the web."""
    # Material's offline plugin adds a script from a CDN that lets search run from file://
    # pages; the site makes no request to the web, so search needs the site served (any
    # static server) and the pages work from the file system without it.
    polyfills = config.extra.get("polyfills", [])
    config.extra["polyfills"] = [url for url in polyfills if "://" not in url]
    for item in config.nav or []:
        if isinstance(item, dict) and NOTEBOOK_SECTION in item:
            section = item[NOTEBOOK_SECTION]
            listed = {entry for entry in section if isinstance(entry, str)}
            section.extend(
                f"notebooks/{path.name}"
                for path in notebooks()
                if f"notebooks/{path.name}" not in listed
            )
            break
    else:
        raise ValueError(f"mkdocs.yml: the navigation has no {NOTEBOOK_SECTION!r} section")
    return config


@event_priority(100)  # before mkdocs-jupyter's on_files, which turns them into pages
def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Add the notebooks, which live outside ``docs/``, to the site's files."""
    for path in notebooks():
        files.append(
            File(
                f"notebooks/{path.name}",
                src_dir=str(ROOT),
                dest_dir=config.site_dir,
                use_directory_urls=config.use_directory_urls,
            )
        )
    return files


def on_serve(server: Any, config: MkDocsConfig, builder: Any) -> Any:
    """``mkdocs serve`` rebuilds when a notebook changes."""
    if NOTEBOOKS.is_dir():
        server.watch(str(NOTEBOOKS))
    return server


# --- the command line ---------------------------------------------------------------------


def command_help() -> str:
    """Markdown with one section per ``minemap`` command: its summary and its ``--help``."""
    from minemap.cli.main import build_parser

    saved = {name: os.environ.get(name) for name in ("COLUMNS", "NO_COLOR")}
    os.environ.update(COLUMNS=str(HELP_WIDTH), NO_COLOR="1")
    try:
        parser = build_parser()
        commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        summaries = {a.dest: a.help or "" for a in commands._choices_actions}
        parts = ["## `minemap`", "", "```text", parser.format_help().rstrip(), "```", ""]
        for name, sub in sorted(commands.choices.items()):
            summary = summaries.get(name, "")
            parts += [f"## `minemap {name}`", ""]
            if summary:
                parts += [summary[0].upper() + summary[1:] + ".", ""]
            parts += ["```text", sub.format_help().rstrip(), "```", ""]
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    return "\n".join(parts)


# --- the top-level names -----------------------------------------------------------------


def _summary(obj: object) -> str:
    """The first sentence of an object's docstring, on one line."""
    text = " ".join((inspect.getdoc(obj) or "").split("\n\n")[0].split())
    return text.replace("|", "\\|")


def top_level_names() -> str:
    """Markdown: a table of what ``minemap`` exports, then its errors and warnings."""
    import minemap

    def order(name: str) -> tuple[bool, bool, str]:  # errors, then warnings; bases first
        obj = getattr(minemap, name)
        warning = inspect.isclass(obj) and issubclass(obj, Warning)
        return warning, name not in ("MinemapError", "MinemapWarning"), name.lower()

    rows, errors = [], []
    for name in sorted(minemap.__all__, key=order):
        obj = getattr(minemap, name)
        if inspect.isclass(obj) and issubclass(obj, BaseException):
            errors.append(name)
            continue
        identifier = resolve(name, "minemap")
        if identifier is None or identifier == f"minemap.{name}":
            raise ValueError(f"minemap.{name} is documented on no page of the API reference")
        rows.append(f"| [`{name}`][{identifier}] | {_summary(obj)} |")
    parts = ["| name | what it does |", "|---|---|", *rows, ""]
    parts += ["## Errors and warnings", ""]
    for name in errors:
        parts += [
            f"::: minemap.{name}",
            "    options:",
            "      show_root_heading: true",
            "      show_root_full_path: false",
            "      heading_level: 3",
            "",
        ]
    return "\n".join(parts)


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Put the generated parts into ``cli.md`` and the top-level reference page."""
    for uri, marker, generate in (
        (CLI_PAGE, CLI_MARKER, command_help),
        (TOP_PAGE, TOP_MARKER, top_level_names),
    ):
        if page.file.src_uri == uri:
            if marker not in markdown:
                raise ValueError(f"docs/{uri} lost its marker line: {marker}")
            markdown = markdown.replace(marker, generate())
    return markdown


# --- Sphinx roles in docstrings -----------------------------------------------------------

ROLE = re.compile(r":(?:py:)?(?:func|meth|class|mod|attr|data|exc|obj):<code>(~?)([^<]+)</code>")


@cache
def documented() -> dict[int, str]:
    """The reference's identifier of every object it documents, keyed by ``id(object)``."""
    found: dict[int, str] = {}

    def add(obj: object, identifier: str) -> None:
        found.setdefault(id(obj), identifier)

    for path in LAZY_DOCUMENTED:
        module_name, name = path.rsplit(".", 1)
        add(getattr(importlib.import_module(module_name), name), path)
    for name in REFERENCE_MODULES:
        module = importlib.import_module(name)
        add(module, name)
        for public in getattr(module, "__all__", []):
            try:
                obj = getattr(module, public)
            except AttributeError:  # pragma: no cover - a broken __all__ fails the tests
                continue
            if not (inspect.isfunction(obj) or inspect.isclass(obj)):
                continue
            add(obj, f"{name}.{public}")
            if inspect.isclass(obj):
                for member, value in vars(obj).items():
                    callable_member = inspect.isfunction(value) or isinstance(
                        value, (classmethod, staticmethod, property)
                    )
                    if callable_member and not member.startswith("_"):
                        add(getattr(value, "__func__", value), f"{name}.{public}.{member}")
        for public, obj in vars(module).items():  # modules without __all__
            if (
                not public.startswith("_")
                and (inspect.isfunction(obj) or inspect.isclass(obj))
                and obj.__module__ == name
            ):
                add(obj, f"{name}.{public}")
    return found


def _lookup(path: str, context: str) -> object | None:
    """The object ``path`` names, read absolutely, inside the module ``context``, or among
    minemap's top-level names (``priority_zones`` is minemap's, not a Dask twin's)."""
    for base in (path, f"{context}.{path}", f"minemap.{path}"):
        parts = base.split(".")
        for cut in range(len(parts), 0, -1):
            try:
                obj: object = importlib.import_module(".".join(parts[:cut]))
            except ImportError:
                continue
            try:
                for attribute in parts[cut:]:
                    obj = getattr(obj, attribute)
            except AttributeError:
                break
            return obj
    return None


def resolve(target: str, context: str) -> str | None:
    """The reference identifier for a role's target, or None if the reference lacks it."""
    table = documented()
    obj = _lookup(target, context)
    if obj is not None:
        identifier = table.get(id(getattr(obj, "__func__", obj)))
        if identifier:
            return identifier
    # A member named relative to its class (``:meth:`from_toml```): unique by its name.
    ends = [i for i in set(table.values()) if i.endswith(f".{target}")]
    return ends[0] if len(ends) == 1 else None


def on_page_content(html_text: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Turn Sphinx roles into reference links (or plain code) on the reference pages."""
    context = "minemap"
    if page.file.src_uri.startswith("reference/"):
        stem = Path(page.file.src_uri).stem
        context = "minemap" if stem == "minemap" else f"minemap.{stem}"

    def link(match: re.Match[str]) -> str:
        short, target = match.group(1), html.unescape(match.group(2))
        shown = target.rsplit(".", 1)[-1] if short else target
        code = f"<code>{html.escape(shown)}</code>"
        identifier = resolve(target.removesuffix("()"), context)
        if identifier is None:
            return code
        return f'<autoref identifier="{identifier}" optional>{code}</autoref>'

    return ROLE.sub(link, html_text)
