"""The one-file report (minemap.report): its figures, offline page, public variant and output."""

from __future__ import annotations

import contextlib
import html
import math
import re
import tomllib
import warnings
from collections.abc import Iterator

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from _oracle import REL, area_ha

import minemap
from minemap._display import format_value
from minemap._errors import DataWarning, OutputError, SchemaError
from minemap.planning import Capacity
from minemap.planning.template import capacity_template
from minemap.report import build_report, write_report

#: An arbitrary synthetic place (as the sample data): nothing here is a real location.
LOCAL = "+proj=laea +lat_0=48 +lon_0=66 +ellps=WGS84 +units=m"
#: The headline figures a planner quotes (public national totals, synthetic geometry).
HIGH_HA = 147_988.0
CLEARED_HA = 74_644.8


def _squares(total_ha: float, count: int, offset_m: float, spacing_m: float = 12_000.0):
    side = math.sqrt(total_ha / count * 10_000.0)
    return [
        shapely.box(x, offset_m, x + side, offset_m + side)
        for x in (i * spacing_m for i in range(count))
    ], side


def national_layers() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Hazards of 147,988 ha high threat (plus medium and low) and 74,644.8 ha cleared in
    them, as squares drawn in an equal-area CRS, so their true areas are their planar areas."""
    high, side = _squares(HIGH_HA, 40, 0.0)
    medium, _ = _squares(60_000.0, 20, 20_000.0)
    low, _ = _squares(25_000.0, 10, 40_000.0)
    cleared_side = math.sqrt(CLEARED_HA / 40 * 10_000.0)
    margin = (side - cleared_side) / 2
    cleared = [
        shapely.box(
            b.bounds[0] + margin, margin, b.bounds[0] + margin + cleared_side, side - margin
        )
        for b in high
    ]
    hazards = gpd.GeoDataFrame(
        {
            "hazard_id": [f"HZ-{i:04d}" for i in range(70)],
            "threat_level": ["high"] * 40 + ["medium"] * 20 + ["low"] * 10,
            "district": ["North"] * 35 + ["South"] * 35,
        },
        geometry=high + medium + low,
        crs=LOCAL,
    )
    releases = gpd.GeoDataFrame(
        {
            "release_id": [f"RL-{i:04d}" for i in range(40)],
            "method": ["cleared"] * 40,
            "release_date": pd.date_range("2021-03-01", periods=40, freq="MS").date,
        },
        geometry=cleared,
        crs=LOCAL,
    )
    return hazards, releases


@pytest.fixture(scope="module")
def national() -> minemap.Project:
    hazards, releases = national_layers()
    return minemap.Project(hazards, releases, name="National programme (synthetic)")


@pytest.fixture(scope="module")
def national_report(national):
    return build_report(national, include_map=False)


@pytest.fixture(scope="module")
def capacity() -> Capacity:
    return Capacity.from_dict(tomllib.loads(capacity_template()))


#: The sample data records 37.05 ha of release outside every hazard area, on purpose.
OUTSIDE = r"37\.05 ha of recorded release lie outside every hazard area"
#: ... and three stray finds outside every hazard (reported by the evidence section).
STRAY_FINDS = r"3 find\(s\) \(3 devices\) lie outside every hazard area"


@contextlib.contextmanager
def sample_warnings() -> Iterator[None]:
    """The sample data's deliberate warnings: the release outside hazards, and (where the
    field evidence is computed) the stray finds; nothing else."""
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always")
        yield
    messages = {str(r.message) for r in records}
    assert any(re.match(OUTSIDE, m) for m in messages), messages
    assert all(re.match(OUTSIDE, m) or re.search(STRAY_FINDS, m) for m in messages), messages


@pytest.fixture(scope="module")
def sample_project(sample_data, capacity) -> minemap.Project:
    project = minemap.open_project(sample_data)
    project.capacity = capacity
    return project


@pytest.fixture(scope="module")
def sample_report(sample_project):
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always")
        report = build_report(sample_project, start="2026-01-01", draws=50, seed=3)
    messages = [str(r.message) for r in records]
    # every step reads the same releases and finds; the report says each thing once: the
    # release outside every hazard, and the sample's stray finds outside every hazard
    assert len(messages) == len(set(messages)) == 2
    assert re.match(OUTSIDE, messages[0])
    assert "outside every hazard" in messages[1] and "finds_outside" in messages[1]
    return report


def _cells(page: str, section: str) -> list[list[str]]:
    """The text of every table cell in a section of the page, row by row."""
    block = page.split(f'<section id="{section}">', 1)[1].split("</section>", 1)[0]
    return [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", block)]


def test_the_national_totals_are_quoted_as_a_planner_reads_them(national, national_report):
    table = national_report.figures["summary"].set_index("threat_level")
    oracle_high = sum(area_ha(g, LOCAL) for g in national.hazards.geometry[:40])
    oracle_cleared = sum(area_ha(g, LOCAL) for g in national.releases.geometry)
    assert oracle_high == pytest.approx(HIGH_HA, rel=1e-7)
    assert table.loc["high", "hazard_ha"] == pytest.approx(oracle_high, rel=REL)
    assert table.loc["total", "cleared_ha"] == pytest.approx(oracle_cleared, rel=REL)
    page = national_report.html
    key = page.split('id="key-figures"', 1)[1].split("</div>\n</div>", 1)[0]
    assert "147,988.0</span> ha" in key
    assert "74,644.8</span> ha" in key
    # 74,644.8 / 147,988 of the high-threat land
    assert "High threat: 147,988.0 ha, of which 74,644.8 ha cleared (50.4%)" in page
    assert "Of 232,988.0 ha of hazard area" in page


def test_every_figure_of_the_summary_table_is_in_the_page(sample_report):
    summary = sample_report.figures["summary"]
    rows = _cells(sample_report.html, "release")
    shown = [r for r in rows if r and r[0] in ("high", "medium", "low", "total")]
    assert len(shown) == 4
    for row, (_, expected) in zip(shown, summary.iterrows(), strict=True):
        assert row == [format_value(str(c), v) for c, v in expected.items()]


def test_district_figures_equal_the_district_summary(sample_report, sample_project):
    with sample_warnings():
        by_district = minemap.land_release_summary(
            sample_project.hazards, sample_project.releases, by=sample_project.districts
        )
    rows = _cells(sample_report.html, "districts")
    totals = by_district[by_district.threat_level == "total"]
    for _, expected in totals.drop(columns="threat_level").iterrows():
        assert [format_value(str(c), v) for c, v in expected.items()] in rows


def test_the_report_has_every_section_chart_and_the_offline_map(sample_report):
    page = sample_report.html
    keys = [s.key for s in sample_report.content.sections]
    assert keys == [
        "release",
        "districts",
        "progress",
        "priorities",
        "evidence",
        "plan",
        "map",
        "assumptions",
    ]
    assert page.count('<img class="chart"') == 2  # progress and burn-down
    assert page.count('<img class="chart print-only"') == 1  # the static map, for paper
    assert page.count('<iframe class="map screen-only"') == 1
    assert "Ranking: the first 15 to clear" in page
    assert "P10" in page and "P50" in page and "P90" in page
    # self-contained: nothing is loaded from anywhere
    assert not re.search(r'(src|href)="(https?:)?//', page)
    assert "default-src 'none'" in page


def test_the_assumptions_trace_every_figure_to_its_input(sample_report, sample_data):
    from minemap.project import file_sha256

    inputs = {row["file"]: row["sha256"] for row in sample_report.figures["inputs"]}
    for name in ("hazards.geojson", "releases.geojson", "roads.geojson", "population.tif"):
        assert inputs[name] == file_sha256(sample_data / name)
        assert inputs[name] in sample_report.html
    page = sample_report.html
    for text in ("Lambert Azimuthal Equal Area", "Ranking weights", "Capacity", "Priority order"):
        assert text in page


def _drawn_points(page: str) -> np.ndarray:
    """Every point of every polyline-encoded feature the page's map draws (lon, lat)."""
    import html
    import json

    from minemap.maps import _geometry

    text = html.unescape(page)  # the map page sits escaped in the frame's srcdoc
    points = []
    for encoded in re.findall(r'\["((?:[^"\\]|\\.)+)",\[\[', text):
        value = json.loads(f'"{encoded}"')
        if not all(63 <= ord(c) < 127 for c in value):
            continue  # a label, not a polyline
        decoded = _geometry.decode(value)
        points += [(lon, lat) for lat, lon in decoded]
    return np.array(points).reshape(-1, 2)


def test_the_public_report_holds_no_hazard_geometry(sample_data):
    hazards = minemap.read_hazards(sample_data / "hazards.geojson")
    vertices = shapely.get_coordinates(hazards.geometry.values)
    context = np.vstack(
        [
            shapely.get_coordinates(minemap.read_features(sample_data / f"{k}.geojson").geometry)
            for k in ("roads", "infrastructure", "residential", "districts")
        ]
    )
    # a hazard vertex that is also a vertex of a published context layer is not a secret
    shared = np.abs(vertices[:, None, :] - context[None, :, :]).max(axis=2).min(axis=1) < 2e-5
    vertices = vertices[~shared]
    with sample_warnings():
        public = build_report(sample_data, public=True, public_grid_m=2000)
    with sample_warnings():
        full = build_report(sample_data)
    assert "Public version" in public.html
    assert "Remaining hazard area per grid cell" in public.html

    def near_hazard_vertices(page: str) -> int:
        points = _drawn_points(page)
        gaps = np.abs(points[:, None, :] - vertices[None, :, :]).max(axis=2)
        return int((gaps.min(axis=1) <= 5.1e-6).sum())  # the map rounds to 1e-5 degrees

    assert "Ranking: the first 15 to clear" not in public.html  # ids and people per hazard
    assert "HZ-000" not in public.html and "HZ-000" in full.html
    assert near_hazard_vertices(full.html) > 100  # the check finds outlines where they are
    assert near_hazard_vertices(public.html) == 0
    assert '"n":"hazard-' in html.unescape(full.html)
    assert '"n":"hazard-' not in html.unescape(public.html)


def test_hostile_values_are_escaped_in_the_page(sample_data):
    hazards = minemap.read_hazards(sample_data / "hazards.geojson")
    hazards.loc[0, "hazard_id"] = '<script>alert("x")</script>'
    hazards.loc[1, "district"] = "<img src=x onerror=alert(1)>"
    report = build_report(minemap.Project(hazards, name="<b>bold</b>"), include_map=False)
    assert "<script>alert" not in report.html
    assert "<img src=x" not in report.html
    assert "&lt;b&gt;bold&lt;/b&gt;" in report.html


def test_without_capacity_the_plan_section_says_what_to_give(sample_data):
    with sample_warnings():
        report = build_report(sample_data, include_map=False)
    plan = report.html.split('<section id="plan">', 1)[1].split("</section>", 1)[0]
    assert "No capacity was given" in plan and "capacity-template" in plan
    assert "years" in plan


def test_hazards_alone_make_a_report(sample_data):
    hazards = minemap.read_hazards(sample_data / "hazards.geojson")
    report = build_report(hazards, include_map=False)
    keys = [s.key for s in report.content.sections]
    assert keys == ["release", "districts", "plan", "assumptions"]
    assert "no plan" in report.html


def test_write_report_writes_whole_and_never_onto_an_input(tmp_path, sample_data):
    import shutil

    folder = tmp_path / "project"
    shutil.copytree(sample_data, folder)
    before = (folder / "hazards.geojson").read_bytes()
    with pytest.raises(OutputError, match="report is written as .html"):
        write_report(folder, folder / "hazards.geojson", include_map=False)
    with pytest.raises(OutputError, match="report is written as .html or .htm"):
        write_report(folder, tmp_path / "report.txt", include_map=False)
    assert (folder / "hazards.geojson").read_bytes() == before
    with sample_warnings():
        out = write_report(folder, tmp_path / "report.html", include_map=False)
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def _pdf(report):
    pypdf = pytest.importorskip("pypdf")
    import io

    return pypdf.PdfReader(io.BytesIO(report.pdf_bytes()))


def test_the_pdf_has_the_same_figures(national_report):
    reader = _pdf(national_report)
    text = " ".join(page.extract_text() for page in reader.pages)
    text = re.sub(r"\s+", " ", text)
    summary = national_report.figures["summary"]
    for value in summary["hazard_ha"].tolist() + summary["cleared_ha"].tolist():
        assert format_value("hazard_ha", value) in text
    assert "147,988.0" in text and "74,644.8" in text


def test_the_pdf_fits_a4(sample_report):
    reader = _pdf(sample_report)
    ends: list[float] = []

    def visit(text, cm, tm, font, size):  # where a run of text ends, at ~0.45 em a character
        if text.strip():
            start = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            ends.append(start + len(text.rstrip()) * 0.45 * size * tm[0] * cm[0])

    for page in reader.pages:
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        assert (width, height) == pytest.approx((595.28, 841.89), abs=0.5)  # A4 in points
        page.extract_text(visitor_text=visit)
    assert max(ends) < 595.28 - 14 / 25.4 * 72  # no text runs into the right margin (14 mm)
    text = " ".join(page.extract_text() for page in reader.pages)
    for words in ("Land release by threat level", "Clearance plan", "Assumptions and sources"):
        assert words in text


def test_the_pdf_never_fetches_anything():
    from minemap.report.pdf import html_to_pdf

    for src in ("file:///etc/passwd", "http://127.0.0.1:9/x.png", "https://example.org/x.css"):
        with pytest.raises(OutputError, match="data: URIs only"):
            html_to_pdf(f'<p>x</p><img src="{src}">')


@pytest.mark.parametrize("top", [0, -1])
def test_the_ranking_shows_at_least_one_row(top, sample_data):
    # refused before any work: an empty "first 0 to clear" table, or all rows but the last
    with pytest.raises(SchemaError, match=f"top={top}: give 1 or more rows"):
        build_report(sample_data, top=top, include_map=False)


def test_as_of_holds_for_every_section(sample_project):
    with pytest.warns(DataWarning):
        report = build_report(sample_project, as_of="2023", start="2024-01-01", include_map=False)
        then = sample_project.as_of("2023")
        zones = then.priority_hectares()
    figures = report.figures
    remaining = figures["summary"].set_index("threat_level").loc["total", "remaining_ha"]
    assert figures["progress"].period_end.max() <= pd.Timestamp("2023-12-31")
    assert figures["plan"]["remaining_ha"] == pytest.approx(remaining, rel=1e-9)
    assert figures["priority_hectares"].equals(pd.DataFrame(zones))
    assert "figures as of 2023-12-31" in report.html


def test_without_releases_the_report_says_so(sample_data):
    hazards = minemap.read_hazards(sample_data / "hazards.geojson")
    report = build_report(hazards, include_map=False)
    assert "No land-release records were given" in report.html


def test_draws_need_a_capacity(sample_data):
    hazards = minemap.read_hazards(sample_data / "hazards.geojson")
    with pytest.raises(SchemaError, match="draws=10 needs the project's capacity"):
        build_report(hazards, draws=10)


def test_the_evidence_section_escapes_settlement_and_record_values(sample_project):
    from dataclasses import replace

    settlements = sample_project.settlements.copy()
    settlements.attrs = dict(sample_project.settlements.attrs)
    settlements.loc[0, "name"] = "<img src=x onerror=alert(1)>"
    settlements.loc[0, "population"] = 1e9  # first among the communities at risk
    records = sample_project.records.copy()
    records.attrs = dict(sample_project.records.attrs)
    records.loc[0, "record_id"] = '<script>alert("r")</script>'
    project = replace(sample_project, settlements=settlements, records=records, capacity=None)
    with sample_warnings():
        report = build_report(project, include_map=False)
    section = report.html.split('<section id="evidence">', 1)[1].split("</section>", 1)[0]
    assert "<img src=x" not in section and "&lt;img src=x onerror=alert(1)&gt;" in section
    assert "<script>alert" not in section and "&lt;script&gt;alert" in section
    assert "Definitions" in section and "unverified" in section
    summary = report.figures["record_accuracy"]
    assert int(summary["records"].iloc[0]) == len(records)
    density = report.figures["device_density"]
    assert density.attrs["finds_outside"] == 3


def test_a_partitioned_input_is_one_row_naming_its_folder_with_each_files_hash(
    sample_data, tmp_path
):
    from minemap.io import write_partitioned
    from minemap.project import file_sha256

    folder = tmp_path / "programme"
    folder.mkdir()
    hazards = gpd.read_file(sample_data / "hazards.geojson")
    layer = write_partitioned(hazards, folder / "hazards.parquet", npartitions=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        report = build_report(minemap.open_project(folder), include_map=False)
    (entry,) = [row for row in report.figures["inputs"] if row["kind"] == "hazards"]
    parts = sorted(layer.iterdir())
    assert entry["file"] == "hazards.parquet/"
    assert entry["features"] == len(hazards)
    assert entry["files"] == {p.name: file_sha256(p) for p in parts}
    page = report.html
    assert page.count(f"<td>{len(hazards)}</td>") == 1  # the count once, not per file
    for part in parts:
        assert f"· {part.name}" in page and file_sha256(part) in page
    assert "hazards.parquet/" in page
