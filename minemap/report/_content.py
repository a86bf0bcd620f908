"""What the report says: every figure, table and chart, made by the public functions.

Nothing here computes an area itself; each figure comes from the function a user would call
(:func:`minemap.land_release_summary`, :func:`minemap.progress_over_time`,
:func:`minemap.priority_zones`, :func:`minemap.rank_hazards`,
:func:`minemap.planning.plan_clearance`, :func:`minemap.hazard_map`), so the report and a
notebook always agree.
"""

from __future__ import annotations

import datetime as dt
import functools
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from minemap import _progress
from minemap._display import format_value
from minemap._display import table_html as _plain_table
from minemap._errors import DataWarning
from minemap.settings import (
    CANCELLED_HA,
    CLEARED_HA,
    HAZARD_HA,
    PERCENT_CLEARED,
    PERCENT_RELEASED,
    REDUCED_HA,
    RELEASE_DATE,
    RELEASED_HA,
    RELEASED_OUTSIDE_HA,
    REMAINING_HA,
    THREAT_LEVEL,
    THREAT_LEVELS,
    TOTAL,
)

if TYPE_CHECKING:
    from minemap.planning import Plan
    from minemap.project import Project, Source

#: Columns of the ranking's top table, when present.
_RANKING_COLUMNS = (
    "rank",
    "hazard_id",
    THREAT_LEVEL,
    REMAINING_HA,
    "residential_ha",
    "infrastructure_ha",
    "roads_ha",
    "nearest_feature_m",
    "population",
    "incidents_nearby",
    "devices_found_nearby",
    "priority_score",
)
#: Tables of the report have word headers ("hazard (ha)", "% cleared").
table_html = functools.partial(_plain_table, labels=True)
#: Progress periods shown in the report's table (the chart shows them all).
_PROGRESS_ROWS = 8


@dataclass
class Section:
    """One section of the report: a title, paragraphs and HTML blocks (tables, images)."""

    key: str
    title: str
    paragraphs: list[str] = field(default_factory=list)
    blocks: list[str] = field(default_factory=list)  # trusted HTML made by minemap
    images: list[tuple[str, str]] = field(default_factory=list)  # (data URI, alt text)
    screen_only: list[str] = field(default_factory=list)  # e.g. the interactive map
    print_only: list[tuple[str, str]] = field(default_factory=list)  # the static map


@dataclass
class Content:
    """Everything the report shows, and the figures as numbers (for checks and JSON)."""

    title: str
    subtitle: str
    key_figures: list[tuple[str, str, str]]  # (label, value, unit)
    sections: list[Section]
    figures: dict[str, Any]
    public: bool


def _ha(value: object) -> str:
    return format_value(HAZARD_HA, value)


def _pct(value: object) -> str:
    return format_value(PERCENT_CLEARED, value)


def _date(value: object) -> str:
    return "" if value is None else str(pd.Timestamp(value).date())


def _level_rows(summary: pd.DataFrame) -> pd.DataFrame:
    return summary.set_index(THREAT_LEVEL)


def build_content(
    project: Project,
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
    progress: _progress.Bar | None = None,
) -> Content:
    """Compute every section of the report for ``project`` (see
    :func:`minemap.report.build_report` for the options)."""
    bar = progress if progress is not None else _progress.NO_BAR

    def step(doing: str) -> None:
        bar.update()
        bar.set_description(f"Report: {doing}")

    figures: dict[str, Any] = {}
    sections: list[Section] = []

    # -- land release --------------------------------------------------------------------
    if as_of is not None:  # every section counts only the releases recorded by then
        project = project.as_of(as_of)
    summary = project.summary(as_of=as_of)
    step("districts")
    as_of_used = summary.attrs.get("as_of")
    if as_of_used is None and project.releases is not None and len(project.releases):
        as_of_used = _date(project.releases[RELEASE_DATE].max())
    levels = _level_rows(summary)
    total = levels.loc[TOTAL]
    outside = float(summary.attrs.get(RELEASED_OUTSIDE_HA, 0.0))
    figures["summary"] = summary.drop(columns="geometry", errors="ignore")
    figures[RELEASED_OUTSIDE_HA] = outside
    figures["as_of"] = as_of_used
    key_figures = [("Hazard area", _ha(total[HAZARD_HA]), "ha")]
    for level in THREAT_LEVELS:
        if level in levels.index:
            key_figures.append((f"{level.title()} threat", _ha(levels.loc[level, HAZARD_HA]), "ha"))
    key_figures += [
        ("Cleared", _ha(total[CLEARED_HA]), "ha"),
        ("Reduced", _ha(total[REDUCED_HA]), "ha"),
        ("Cancelled", _ha(total[CANCELLED_HA]), "ha"),
        ("Remaining", _ha(total[REMAINING_HA]), "ha"),
        ("Cleared", _pct(total[PERCENT_CLEARED]), "%"),
        ("Released", _pct(total[PERCENT_RELEASED]), "%"),
    ]
    release = Section("release", "Land release by threat level")
    if project.releases is None:
        release.paragraphs.append(
            "No land-release records were given, so nothing is counted as released; give "
            "them (--released, or a releases layer) for cleared, reduced and cancelled land."
        )
    release.paragraphs.append(
        f"Of {_ha(total[HAZARD_HA])} ha of hazard area, {_ha(total[RELEASED_HA])} ha "
        f"({_pct(total[PERCENT_RELEASED])}%) has been released: {_ha(total[CLEARED_HA])} ha "
        f"cleared ({_pct(total[PERCENT_CLEARED])}%), {_ha(total[REDUCED_HA])} ha reduced by "
        f"technical survey and {_ha(total[CANCELLED_HA])} ha cancelled by non-technical "
        f"survey. {_ha(total[REMAINING_HA])} ha remain."
    )
    for level in THREAT_LEVELS:
        if level in levels.index and levels.loc[level, HAZARD_HA] > 0:
            row = levels.loc[level]
            release.paragraphs.append(
                f"{level.title()} threat: {_ha(row[HAZARD_HA])} ha, of which "
                f"{_ha(row[CLEARED_HA])} ha cleared ({_pct(row[PERCENT_CLEARED])}%) and "
                f"{_ha(row[RELEASED_HA])} ha released in all ({_pct(row[PERCENT_RELEASED])}%); "
                f"{_ha(row[REMAINING_HA])} ha remain."
            )
    release.blocks.append(table_html(summary, caption="Hectares and percentages"))
    if outside > 0:
        release.paragraphs.append(
            f"Released outside every hazard area (recorded, not counted above): {_ha(outside)} ha."
        )
    sections.append(release)

    has_district = "district" in project.hazards.columns or project.districts is not None
    if has_district:
        by_district = project.summary(by="district", as_of=as_of)
        figures["summary_by_district"] = by_district
        district = Section("districts", "By district")
        district.paragraphs.append(
            "Hazard area split by the district boundaries (a hazard crossing a boundary "
            "counts in each district for the part inside it)."
            if project.districts is not None
            else "Hazard area grouped by the hazards' district attribute."
        )
        shown = by_district[by_district[THREAT_LEVEL] == TOTAL]
        district.blocks.append(
            table_html(
                shown,
                columns=[c for c in shown.columns if c != THREAT_LEVEL],
                caption="Totals per district (hectares)",
            )
        )
        district.blocks.append(
            table_html(
                by_district[by_district[THREAT_LEVEL] != TOTAL],
                caption="Per district and threat level (hectares)",
            )
        )
        sections.append(district)
    step("progress")

    # -- progress ------------------------------------------------------------------------
    rate = None
    if project.releases is not None and len(project.releases):
        progress_table = project.progress(freq=freq)
        figures["progress"] = progress_table
        from minemap.plots import plot_progress
        from minemap.report._charts import png_data_uri

        section = Section("progress", "Progress over time")
        section.images.append(
            (png_data_uri(plot_progress(progress_table)), "Cumulative released hectares")
        )
        section.blocks.append(
            table_html(
                progress_table.tail(_PROGRESS_ROWS),
                columns=[c for c in progress_table.columns if c != HAZARD_HA],
                caption="The latest periods (hectares)",
            )
        )
        try:
            rate = project.historic_rate()
        except Exception as exc:  # too short a history is a sentence, not a failure
            section.paragraphs.append(f"No historic release rate: {exc}")
        else:
            figures["historic_rate_ha_per_year"] = rate.rate_ha_per_year
            years = "–".join(str(y) for y in (rate.years[0], rate.years[-1]))
            section.paragraphs.append(
                f"Historic release rate: {_ha(rate.rate_ha_per_year)} ha per year "
                f"({rate.basis}, {years})."
            )
        sections.append(section)
    step("priorities")

    if project.population is not None and not project.features:
        warnings.warn(
            "the population raster is not used: it counts people near hazards for the "
            "ranking, which needs roads, infrastructure or residential areas.",
            DataWarning,
            stacklevel=3,
        )
    # -- priorities and ranking ----------------------------------------------------------
    ranking = None
    assumptions: list[tuple[str, str]] = []
    if project.features:
        from minemap.project import priority_table

        zones = project.priorities()
        table = priority_table(zones)
        figures["priority_hectares"] = table
        section = Section("priorities", "Priorities")
        distances = zones.attrs.get("distances_m", {})
        order = list(zones.attrs.get("order", ()))
        section.paragraphs.append(
            "Remaining hazard area within "
            + ", ".join(f"{format_value('x_m', d)} m of {k}" for k, d in distances.items())
            + ". A place near several kinds counts once, in the first of: "
            + ", ".join(order)
            + "."
        )
        section.blocks.append(table_html(table, caption="Remaining hectares by priority"))
        step("ranking")
        ranking = project.ranking(weights=weights, zones=zones)  # the zones above, once
        figures["ranking"] = ranking.drop(columns="geometry")
        used = [c for c in _RANKING_COLUMNS if c in ranking.columns and ranking[c].notna().any()]
        if public:  # the ranking names hazards and their people; the public map names none
            section.paragraphs.append(
                "The ranking of individual hazards is left out of the public version (it "
                "names each hazard and the people near it); its weights are below."
            )
        else:
            section.blocks.append(
                table_html(
                    ranking.head(top), columns=used, caption=f"Ranking: the first {top} to clear"
                )
            )
        weights_used = ranking.attrs.get("weights", {})
        section.blocks.append(
            table_html(
                pd.DataFrame(
                    {"criterion": list(weights_used), "weight": list(weights_used.values())}
                ),
                caption="Ranking weights (the score is Σ weight × criterion score / Σ weight)",
            )
        )
        assumptions.append(
            ("Priority distances", ", ".join(f"{k} {d:g} m" for k, d in distances.items()))
        )
        assumptions.append(("Priority order", " > ".join(order)))
        assumptions.append(
            ("Ranking weights", ", ".join(f"{k} {w:g}" for k, w in weights_used.items()))
        )
        sections.append(section)
    step("evidence")

    # -- field evidence ------------------------------------------------------------------
    from minemap.report._evidence import evidence_section

    evidence = evidence_section(project, as_of=as_of, public=public, figures=figures)
    if evidence is not None:
        sections.append(evidence)
    step("plan")

    # -- plan ----------------------------------------------------------------------------
    section = Section("plan", "Clearance plan")
    plan: Plan | None = None
    if project.capacity is not None:
        plan = project.plan(start=start, ranking=ranking, draws=draws, seed=seed)
        figures["plan"] = plan.summary
        _plan_section(section, plan)
        from minemap.planning.chart import plot_burndown
        from minemap.report._charts import png_data_uri

        history = None
        if project.releases is not None and len(project.releases):
            from minemap.stats import progress_over_time

            history = progress_over_time(project.hazards, project.releases, freq="Y")
        section.images.append(
            (png_data_uri(plot_burndown(plan, releases_history=history)), "Burn-down chart")
        )
        capacity = plan.assumptions.get("capacity", {})
        assumptions.append(("Capacity", _capacity_text(capacity)))
        mix = plan.assumptions.get("release_mix")
        if isinstance(mix, pd.DataFrame):
            section.blocks.append(table_html(mix, caption="Release mix used (share of hectares)"))
        elif isinstance(mix, dict):
            assumptions.append(("Release mix", _mix_text(mix)))
    elif rate is not None:
        need = rate.remaining_ha / rate.rate_ha_per_year if rate.rate_ha_per_year > 0 else None
        section.paragraphs.append(
            "No capacity was given, so there is no schedule. "
            + (
                f"At the historic rate the remaining {_ha(rate.remaining_ha)} ha would take "
                f"about {need:.1f} years."
                if need
                else "The historic rate is zero."
            )
            + " Give a capacity file ('minemap capacity-template' writes one) for a plan."
        )
    else:
        section.paragraphs.append(
            "No capacity and no release history were given, so there is no plan."
        )
    sections.append(section)
    step("map")

    # -- map -----------------------------------------------------------------------------
    if include_map:
        sections.append(_map_section(project, public=public, public_grid_m=public_grid_m))
    step("assumptions")

    # -- assumptions ---------------------------------------------------------------------
    frame = summary.attrs.get("area_frame", "")
    edges = summary.attrs.get("edges", "planar")
    section = Section("assumptions", "Assumptions and sources")
    rows = [
        ("Areas", f"true ellipsoidal (WGS 84) hectares, measured in {frame}; {edges} edges"),
        (
            "Counting",
            "overlapping hazards count once, under the highest threat level; a place "
            "released several times counts once, under the strongest method (cleared > "
            "reduced > cancelled); release outside every hazard is reported separately",
        ),
        ("As of", str(as_of_used or "all records")),
        *assumptions,
    ]
    if public:
        rows.append(
            (
                "Public version",
                "hazard outlines are not shown: the map is generalised to "
                f"{public_grid_m:,.0f} m cells",
            )
        )
    section.blocks.append(
        table_html(
            pd.DataFrame(rows, columns=["assumption", "value"]),
            caption="Assumptions",
            css_class="minemap-table wrap",
        )
    )
    inputs, table_rows = [], []
    for source in project.sources.values():
        entry = _input_entry(source)
        inputs.append(entry)
        files = entry.pop("files")
        table_rows.append(entry)
        if len(files) > 1:  # a folder of part files, a Shapefile: one row per file, below
            table_rows += [
                {"kind": "", "file": f"· {name}", "layer": "", "features": "", "crs": ""}
                | {"sha256": digest}
                for name, digest in files.items()
            ]
        entry["files"] = files
    figures["inputs"] = inputs
    section.blocks.append(
        table_html(
            pd.DataFrame(table_rows, columns=_INPUT_COLUMNS),
            caption="Inputs and their SHA-256",
            css_class="minemap-table sources",
        )
    )
    sections.append(section)

    from minemap import __version__

    today = dt.date.today().isoformat()
    subtitle = f"Generated {today} with minemap {__version__}" + (
        f"; figures as of {as_of_used}" if as_of_used else ""
    )
    return Content(
        title=title or f"{project.name}: land release report",
        subtitle=subtitle,
        key_figures=key_figures,
        sections=sections,
        figures=figures,
        public=public,
    )


def _plan_section(section: Section, plan: Plan) -> None:
    summary = plan.summary
    order = (
        "in the order of the ranking above"
        if "rank" in plan.schedule.columns and plan.schedule["rank"].notna().any()
        else "high threat first, then medium and low"
    )
    section.paragraphs.append(
        f"With the capacity given, starting {_date(summary['start'])} and clearing {order}, "
        f"the remaining {_ha(summary[REMAINING_HA])} ha would be done by "
        f"{_date(summary['completion_date'])}."
    )
    if "p50" in summary:
        section.paragraphs.append(
            f"Over {summary['draws']:,} draws of the productivity ranges: P10 "
            f"{_date(summary['p10'])}, P50 {_date(summary['p50'])}, P90 {_date(summary['p90'])}."
        )
    table = plan.completion_table()
    section.blocks.append(table_html(table, caption="Completion by threat level"))
    categories = summary.get("completion_by_category")
    if categories:
        names = sorted(categories, key=lambda name: name == "(none)")  # outside zones last
        percentiles = summary.get("percentiles_by_category", {})
        frame = pd.DataFrame(
            [
                {
                    "priority": name,
                    "completion": _date(categories[name]),
                    **{p: _date(d) for p, d in percentiles.get(name, {}).items()},
                }
                for name in names
            ]
        )
        section.blocks.append(table_html(frame, caption="Completion by priority category"))
    if summary.get("completion_date_at_historic_rate") is not None:
        section.paragraphs.append(
            f"At the historic rate instead: {_date(summary['completion_date_at_historic_rate'])}."
        )


def _capacity_text(capacity: dict[str, Any]) -> str:
    assets = capacity.get("assets", capacity)
    if isinstance(assets, dict):
        parts = []
        for name, spec in assets.items():
            count = spec.get("count") if isinstance(spec, dict) else spec
            parts.append(f"{name}: {count}")
        return "; ".join(parts)
    return str(assets)


def _mix_text(mix: dict[str, Any]) -> str:
    return "; ".join(
        f"{level}: " + ", ".join(f"{m} {float(s):.0%}" for m, s in shares.items())
        if isinstance(shares, dict)
        else f"{level}: {shares}"
        for level, shares in mix.items()
    )


def _map_section(project: Project, *, public: bool, public_grid_m: float) -> Section:
    from minemap.maps import map_html, plot_map
    from minemap.report._charts import grid_figure, png_data_uri

    section = Section("map", "Map")
    fmap = project.map(public=public, public_grid_m=public_grid_m, tiles=None)
    section.screen_only.append(map_html(fmap, offline=True))
    if public:
        section.paragraphs.append(
            f"Public version: hazard area per {public_grid_m:,.0f} m cell by threat level on "
            "screen, remaining hazard area per cell on paper; no hazard outline is shown."
        )
        grid = fmap.minemap["grid"]  # type: ignore[attr-defined]
        figure = grid_figure(grid, title="Remaining hazard area per cell")
        section.print_only.append((png_data_uri(figure), "Remaining hazard area per grid cell"))
    else:
        drawn = plot_map(
            project.hazards,
            project.releases,
            roads=project.roads,
            infrastructure=project.infrastructure,
            residential=project.residential,
            districts=project.districts,
            title=project.name,
        )
        section.print_only.append((png_data_uri(drawn), "Hazards, releases and features"))
    return section


_INPUT_COLUMNS = ["kind", "file", "layer", "features", "crs", "sha256"]


def _input_entry(source: Source) -> dict[str, Any]:
    """One input layer as the report lists it: its file, or its folder (a partitioned
    GeoParquet layer) or Shapefile with every file's SHA-256 under ``files``; its feature
    count once."""
    files = dict(source.sha256)
    single = len(files) <= 1
    path = Path(source.path)
    name = next(iter(files), "") if single else path.name + ("/" if path.is_dir() else "")
    return {
        "kind": source.kind,
        "file": name or source.path,
        "layer": source.layer or "",
        "features": source.features,
        "crs": source.crs,
        "sha256": next(iter(files.values()), "") if single else f"{len(files)} files, below",
        "files": files,
    }
