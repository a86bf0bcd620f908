"""``minemap report`` (``minemap.cli.report``): the HTML and PDF together, bad options as one
line, never onto an input."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from minemap.cli import run
from minemap.project import file_sha256

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"
GPKG = str(SAMPLE / "scenario.gpkg")


def test_the_full_report_and_its_pdf_from_the_sample_data(tmp_path, capsys):
    pypdf = pytest.importorskip("pypdf")
    cap = tmp_path / "cap.toml"
    assert run(["capacity-template", "-o", str(cap)]) == 0
    html, pdf = tmp_path / "report.html", tmp_path / "report.pdf"
    args = ["report", GPKG, "--released", GPKG, "--roads", GPKG, "--residential", GPKG]
    args += ["--infrastructure", GPKG, "--districts", GPKG, "--population"]
    args += [str(SAMPLE / "population.tif"), "--capacity", str(cap), "--start", "2026-01-01"]
    args += ["--draws", "40", "--seed", "1", "-o", str(html), "--pdf", str(pdf)]
    assert run(args) == 0
    out, err = capsys.readouterr()
    assert out.startswith(f"Report written to {html}, {pdf} (")
    assert "37.05 ha of recorded release lie outside every hazard area" in err
    assert err.count("outside every hazard area") == 1
    page = html.read_text(encoding="utf-8")
    assert file_sha256(GPKG) in page
    for section in ("release", "districts", "progress", "priorities", "plan", "map"):
        assert f'<section id="{section}">' in page
    reader = pypdf.PdfReader(io.BytesIO(pdf.read_bytes()))
    text = " ".join(p.extract_text() for p in reader.pages)
    assert "5,500.0" in text and "Clearance plan" in text


def test_field_evidence_layers_from_files_of_every_kind(tmp_path, capsys):
    html = tmp_path / "report.html"
    args = ["report", GPKG, "--released", GPKG, "--finds", GPKG, "--settlements", GPKG]
    args += ["--incidents", str(SAMPLE / "incidents.csv"), "--records"]
    args += [str(SAMPLE / "records.geojson"), "-o", str(html)]
    assert run(args) == 0
    err = capsys.readouterr().err
    assert "scenario.gpkg (layer 'finds'): 3 find(s) (3 devices) lie outside" in err
    page = html.read_text(encoding="utf-8")
    assert '<section id="evidence">' in page
    for name in ("incidents.csv", "records.geojson", file_sha256(SAMPLE / "incidents.csv")):
        assert name in page  # each layer traced to its file
    assert "Accuracy of the handed-over minefield records" in page
    assert "Return readiness of settlements" in page


def test_a_report_from_partitioned_geoparquet_folders(tmp_path, capsys):
    import warnings

    import minemap
    from minemap.io import write_partitioned

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the sample's release outside hazards
        project = minemap.open_project(GPKG)
    write_partitioned(project.hazards, tmp_path / "hazards", npartitions=3)
    write_partitioned(project.releases, tmp_path / "releases", npartitions=2)
    html = tmp_path / "report.html"
    argv = ["report", str(tmp_path / "hazards"), "--released", str(tmp_path / "releases")]
    assert run([*argv, "-o", str(html)]) == 0
    capsys.readouterr()
    page = html.read_text(encoding="utf-8")
    # every part file is traced by its SHA-256
    for part in sorted((tmp_path / "hazards").glob("part-*.parquet")):
        assert file_sha256(part) in page


def test_the_public_report(tmp_path, capsys):
    out = tmp_path / "public.html"
    args = ["report", GPKG, "--released", GPKG, "--public", "--public-grid", "2000"]
    assert run([*args, "-o", str(out)]) == 0
    assert "public version, no hazard outline" in capsys.readouterr().out
    assert "Public version" in out.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["-o", "report.txt"], r"report.txt: -o writes .html, .htm, not .txt"),
        (["-o", "r.html", "--pdf", "r.doc"], r"r.doc: --pdf writes .pdf, not .doc"),
        (["-o", "r.html", "--draws", "5"], "--draws needs --capacity"),
        (["-o", "r.html", "--top", "0"], "--top 0: give 1 or more rows"),
        (["-o", "r.html", "--public", "--public-grid", "-5"], "--public-grid -5: give a cell size"),
        (["-o", "r.html", "--start", "soon"], "--start 'soon' is not an ISO date"),
        (["-o", "-"], "-o: give the report's file name"),
    ],
)
def test_bad_options_are_one_line(tmp_path, capsys, monkeypatch, extra, message):
    import re

    monkeypatch.chdir(tmp_path)
    assert run(["report", GPKG, *extra]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert re.search(message, err), err
    assert list(tmp_path.iterdir()) == []


def test_never_onto_an_input(tmp_path, capsys):
    import shutil

    hazards = tmp_path / "hazards.html"
    shutil.copy(SAMPLE / "hazards.geojson", tmp_path / "h.geojson")
    hazards.write_text("not a report", encoding="utf-8")
    code = run(
        ["report", str(tmp_path / "h.geojson"), "--released", str(hazards), "-o", str(hazards)]
    )
    assert code == 2
    assert hazards.read_text(encoding="utf-8") == "not a report"
    assert "Traceback" not in capsys.readouterr().err


def test_the_inputs_table_names_the_layer_read(tmp_path, capsys):
    out = tmp_path / "r.html"
    assert run(["report", GPKG, "--released", GPKG, "--roads", GPKG, "-o", str(out)]) == 0
    capsys.readouterr()
    page = out.read_text(encoding="utf-8")
    for layer in ("hazards", "releases", "roads"):
        assert f"<td>scenario.gpkg</td><td>{layer}</td>" in page


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--population", "nope.tif"], "--population nope.tif: no such file; give the population"),
        (["--population", "."], "--population .: is a folder"),
        (["--public-grid", "500"], "--public-grid sets the cell size of --public"),
        (["--title", "x"], "is a folder; give its hazards file (e.g. "),
        (["--public", "--public-grid", "1"], "--public-grid 1 (Python: public_grid_m=1) over"),
    ],
)
def test_more_bad_options_are_one_line(tmp_path, capsys, monkeypatch, extra, message):
    monkeypatch.chdir(tmp_path)
    hazards = str(SAMPLE) if extra == ["--title", "x"] else GPKG  # a folder for HAZARDS
    assert run(["report", hazards, *extra, "-o", "r.html"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert message in err, err
