"""The one-file report: every figure of a project on one page a donor can open offline.

:func:`build_report` computes the land release summary by threat level and district, the
progress chart, priority hectares, the ranking's top, the plan's completion dates and
burn-down chart, the map, and the assumptions with each input file's SHA-256, and renders
them as one HTML page with nothing to fetch (charts are embedded images, the map is an
offline Leaflet page in a sandboxed frame). The page prints on A4 (the static map replaces
the interactive one on paper); :meth:`Report.save_pdf` writes that print as a PDF with
WeasyPrint, which needs no browser.

>>> import minemap
>>> from minemap.synthetic import make_scenario
>>> s = make_scenario(seed=1, high_ha=100, medium_ha=200, low_ha=100)
>>> project = minemap.Project(s.hazards, roads=s.roads, districts=s.districts)
>>> report = minemap.report.build_report(project, include_map=False)
>>> "Land release by threat level" in report.html
True
"""

from __future__ import annotations

import html as _htmllib
import os
import warnings
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd

from minemap import _progress
from minemap._errors import SchemaError
from minemap._extras import require
from minemap.io import OutputSet
from minemap.report._content import Content, build_content

if TYPE_CHECKING:
    from minemap.project import Project

__all__ = ["Report", "build_report", "write_report"]

#: Stages of a report, for the progress bar.
_STAGES = 8  # summary, districts, progress, priorities, ranking, evidence, plan, map


@dataclass
class Report:
    """A rendered report.

    Attributes
    ----------
    html : str
        The whole page (UTF-8 text), self-contained.
    content : Content
        What the page shows: sections and the figures as numbers (``content.figures``:
        ``summary``, ``summary_by_district``, ``progress``, ``priority_hectares``,
        ``ranking``, ``plan``, ``inputs``, ...).

    Examples
    --------
    >>> import minemap
    >>> from minemap.synthetic import make_scenario
    >>> s = make_scenario(seed=1, high_ha=100, medium_ha=200, low_ha=100)
    >>> report = minemap.report.build_report(s.hazards, include_map=False)
    >>> round(float(report.figures["summary"].hazard_ha.iloc[-1]))
    400
    """

    html: str
    content: Content

    @property
    def figures(self) -> dict[str, Any]:
        """The report's figures as numbers and tables (the same ones the page shows)."""
        return self.content.figures

    def save(self, path: str | os.PathLike) -> Path:
        """Write the page, whole or not at all (never onto an existing input)."""
        with OutputSet() as outputs:
            outputs.add(path, lambda tmp: _write(tmp, self.html))
        return Path(path)

    def pdf_bytes(self) -> bytes:
        """The report as a PDF (A4, as it prints): WeasyPrint, no browser, no network."""
        from minemap.report.pdf import html_to_pdf

        return html_to_pdf(self.html)

    def save_pdf(self, path: str | os.PathLike) -> Path:
        """Write the PDF, whole or not at all."""
        data = self.pdf_bytes()
        with OutputSet() as outputs:
            outputs.add(path, lambda tmp: _write(tmp, data))
        return Path(path)

    def _repr_html_(self) -> str:
        # the page in a sandboxed frame, so its styles do not leak into the notebook
        return (
            '<iframe style="width:100%;height:700px;border:1px solid #ccc" '
            f'sandbox="allow-scripts" srcdoc="{_htmllib.escape(self.html, quote=True)}"></iframe>'
        )


def _write(path: Path, data: str | bytes) -> None:
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.write_bytes(data)


def _template() -> Any:
    require("jinja2", extra="maps", purpose="the report")
    import jinja2

    text = resources.files("minemap.report").joinpath("report.html.j2").read_text("utf-8")
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    return env.from_string(text)


def render(content: Content) -> str:
    """The page of ``content`` (every value escaped; tables are escaped as they are made)."""
    from minemap import __version__

    return str(_template().render(content=content, version=__version__))


def build_report(
    project: Project | gpd.GeoDataFrame | str | os.PathLike,
    *,
    title: str | None = None,
    as_of: object | None = None,
    public: bool = False,
    public_grid_m: float = 1000.0,
    weights: object | None = None,
    start: object | None = None,
    draws: int = 0,
    seed: int | None = None,
    top: int = 15,
    freq: str = "QE",
    include_map: bool = True,
) -> Report:
    """Compute and render the report of a project.

    Parameters
    ----------
    project : Project, GeoDataFrame or path-like
        A :class:`minemap.Project`, a hazards GeoDataFrame, or what
        :func:`minemap.open_project` opens (a GeoPackage or a folder).
    title : str, optional
        Title of the page (default: "<project name>: land release report").
    as_of : date-like, optional
        Count only releases up to this date (default: all records).
    public : bool, default False
        The public variant: the map is the generalised grid (``public_grid_m`` cells), and
        no hazard geometry is in the page.
    public_grid_m : float, default 1000
        Grid cell size of the public variant, metres.
    weights : mapping or path-like, optional
        Ranking weights (see :func:`minemap.rank_hazards`).
    start : date-like, optional
        First day of the plan (default: today); the plan needs the project's capacity.
    draws, seed : int, optional
        Monte Carlo draws over the capacity's productivity ranges, for P10/P50/P90 dates
        and the burn-down band.
    top : int, default 15
        Rows of the ranking shown (1 or more).
    freq : str, default "QE"
        Period of the progress table and chart (pandas frequency: "QE" quarters, "YE"
        years, "ME" months).
    include_map : bool, default True
        Leave the map out (faster; for tests and text-only uses).

    Returns
    -------
    Report

    Examples
    --------
    >>> import minemap
    >>> from minemap.synthetic import make_scenario
    >>> s = make_scenario(seed=1, high_ha=100, medium_ha=200, low_ha=100)
    >>> project = minemap.Project(s.hazards, roads=s.roads, districts=s.districts)
    >>> report = minemap.report.build_report(project, include_map=False, top=5)
    >>> [section.key for section in report.content.sections]
    ['release', 'districts', 'priorities', 'plan', 'assumptions']
    """
    from minemap.project import Project, open_project

    if top < 1:  # head(0) would show an empty table, head(-1) all rows but the last
        raise SchemaError(f"top={top}: give 1 or more rows of the ranking to show.")
    if isinstance(project, gpd.GeoDataFrame):
        project = Project(project)
    elif not isinstance(project, Project):
        project = open_project(project)
    if draws and project.capacity is None:
        raise SchemaError(
            f"draws={draws} needs the project's capacity: the draws are over its "
            "productivity ranges."
        )
    with (
        _progress.task("Report", total=_STAGES, unit="stage") as bar,
        warnings.catch_warnings(record=True) as records,
    ):
        warnings.simplefilter("always")
        content = build_content(
            project,
            title=title,
            as_of=as_of,
            public=public,
            public_grid_m=public_grid_m,
            weights=weights,
            start=start,
            draws=draws,
            seed=seed,
            top=top,
            freq=freq,
            include_map=include_map,
            progress=bar,
        )
    _warn_once(records)
    return Report(render(content), content)


def _warn_once(records: list[warnings.WarningMessage]) -> None:
    """Each warning the report's steps raised, once (several steps read the same data)."""
    seen = set()
    for record in records:
        key = (record.category, str(record.message))
        if key in seen:
            continue
        seen.add(key)
        warnings.warn_explicit(
            record.message, record.category, record.filename, record.lineno, source=record.source
        )


def write_report(
    project: Project | gpd.GeoDataFrame | str | os.PathLike,
    path: str | os.PathLike,
    *,
    pdf: str | os.PathLike | None = None,
    **options: Any,
) -> Path:
    """Build the report and write it as one HTML file (and a PDF), all or none.

    Parameters
    ----------
    project : Project, GeoDataFrame or path-like
        See :func:`build_report`.
    path : path-like
        The ``.html`` file.
    pdf : path-like, optional
        Also write the A4 PDF here (needs WeasyPrint: ``pip install "minemap[report]"``).
    **options
        Passed to :func:`build_report`.

    Returns
    -------
    pathlib.Path
        The HTML file written.

    Examples
    --------
    >>> import minemap, tempfile, pathlib
    >>> from minemap.synthetic import make_scenario
    >>> s = make_scenario(seed=1, high_ha=100, medium_ha=200, low_ha=100)
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "report.html"
    >>> minemap.report.write_report(s.hazards, out, include_map=False).name
    'report.html'
    """
    from minemap.project import Project, open_project

    if isinstance(project, gpd.GeoDataFrame):
        project = Project(project)
    elif not isinstance(project, Project):
        project = open_project(project)
    _check_target(project, path, (".html", ".htm"))
    if pdf is not None:
        _check_target(project, pdf, (".pdf",))
        require("weasyprint", extra="report", purpose="the PDF report")
    report = build_report(project, **options)
    pdf_data = report.pdf_bytes() if pdf is not None else None
    with OutputSet() as outputs:
        outputs.add(path, lambda tmp: _write(tmp, report.html))
        if pdf is not None and pdf_data is not None:
            outputs.add(pdf, lambda tmp: _write(tmp, pdf_data))
    return Path(path)


def _check_target(project: Project, path: str | os.PathLike, suffixes: tuple[str, ...]) -> None:
    """Refuse an output with the wrong suffix, or one that is an input of the project."""
    from minemap._errors import OutputError
    from minemap.io import check_output_path

    target = check_output_path(path)
    if target.suffix.lower() not in suffixes:
        raise OutputError(
            f"{path}: the report is written as {' or '.join(suffixes)}; give such a file name."
        )
    for source in project.sources.values():
        source_path = Path(source.path)
        if source_path.exists() and target.exists() and os.path.samefile(source_path, target):
            raise OutputError(
                f"{path}: is the project's {source.kind} input; write the report elsewhere."
            )
