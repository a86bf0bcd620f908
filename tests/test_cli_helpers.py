"""Tests of the plumbing every ``minemap`` command shares (minemap.cli.helpers, options):
outputs checked before any work and written all or none, never onto an input; error hints
that name the option typed; --override-crs, --vocabulary, --as-of, --edges; clean numbers.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import _oracle as oracle
import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely import LineString, box
from test_cli import write

from minemap.cli import helpers, run
from minemap.cli.main import build_parser, command_modules

CRS = 32638
HAZARDS = gpd.GeoDataFrame(
    {"hazard_id": ["H1", "H2"], "threat_level": ["CHA", "SHA"]},
    geometry=[
        box(500_000, 4_400_000, 501_000, 4_401_000),
        box(502_000, 4_400_000, 503_000, 4_400_500),
    ],
    crs=CRS,
)
RELEASES = gpd.GeoDataFrame(
    {
        "release_id": ["R1", "R2"],
        "method": ["Clearance", "Non-Technical Survey"],
        "release_date": ["2021-06-30", "2022-02-01"],
    },
    geometry=[
        box(500_000, 4_400_000, 500_500, 4_401_000),
        box(502_000, 4_400_000, 503_000, 4_400_500),
    ],
    crs=CRS,
)
ROADS = gpd.GeoDataFrame(
    {"road": ["A"]}, geometry=[LineString([(499_000, 4_400_500), (504_000, 4_400_500)])], crs=CRS
)


@pytest.fixture
def project(tmp_path) -> Path:
    path = tmp_path / "project.gpkg"
    write(HAZARDS, path, layer="hazards")
    write(RELEASES, path, layer="releases")
    write(ROADS, path, layer="roads")
    return path


def cli(argv, capsys) -> tuple[int, str, str]:
    status = run([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.startswith("minemap: error:")]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


# --------------------------------------------------------------------------- the package


def test_every_command_is_one_module_found_by_itself():
    assert {"summary", "progress", "map", "priority"} <= set(command_modules())
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    # a command is named after its module, with dashes for underscores
    assert {name.replace("_", "-") for name in command_modules()} == set(sub.choices)


@pytest.mark.parametrize("command", ["summary", "progress", "map", "priority"])
def test_help_explains_every_option_and_shows_defaults(command, capsys):
    with pytest.raises(SystemExit):
        run([command, "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--released-layer NAME layer of RELEASES" in text
    assert "(default: hazard_id)" in text and "(default: planar)" in text
    assert "--override-crs" in text and "--vocabulary" in text
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices[command]
    for action in sub._actions:
        assert action.help, (command, action.option_strings)


# --------------------------------------------------------------------------- outputs


def test_output_onto_an_input_is_refused(project, tmp_path, capsys):
    before = project.read_bytes()
    status, _, err = cli(
        ["priority", project, "--released", project, "--roads", project, "-o", project], capsys
    )
    assert status == 2 and "would destroy that input" in one_error_line(err)
    assert project.read_bytes() == before
    geojson = write(HAZARDS, tmp_path / "hz.geojson")
    status, _, err = cli(["summary", geojson, "-o", geojson], capsys)
    assert status == 2 and "also an input" in err
    assert json.loads(geojson.read_text())["type"] == "FeatureCollection"


def test_output_onto_an_input_through_a_symlink_or_another_spelling(project, tmp_path, capsys):
    link = tmp_path / "link.gpkg"
    link.symlink_to(project)
    before = project.read_bytes()
    status, _, err = cli(["priority", project, "--roads", project, "-o", link], capsys)
    assert status == 2 and "also an input" in err
    other = tmp_path / "sub" / ".." / project.name
    (tmp_path / "sub").mkdir()
    status, _, err = cli(["summary", project, "--released", project, "-o", other], capsys)
    assert status == 2 and "also an input" in err
    assert project.read_bytes() == before


def test_output_onto_an_input_through_a_hard_link_is_refused(project, tmp_path, capsys):
    # another name for the same file on disk: only os.path.samefile tells them apart
    hard = tmp_path / "hard.gpkg"
    try:
        os.link(project, hard)
    except OSError as exc:
        pytest.skip(f"no hard links here: {exc}")
    before = project.read_bytes()
    status, _, err = cli(["priority", project, "--roads", project, "-o", hard], capsys)
    assert status == 2 and "also an input" in one_error_line(err)
    assert project.read_bytes() == before


def test_two_outputs_on_one_file_are_refused(project, tmp_path, capsys):
    status, _, err = cli(
        [
            "progress",
            project,
            "--released",
            project,
            "-o",
            tmp_path / "p.csv",
            "--chart",
            tmp_path / "p.csv",
        ],
        capsys,
    )
    assert status == 2 and "name the same file" in err


@pytest.mark.parametrize("bad", ["missing folder", "parent is a file", "a folder"])
def test_priority_checks_every_output_before_it_computes(
    project, tmp_path, capsys, monkeypatch, bad
):
    import minemap.cli.priority as command

    def never(*args, **kwargs):
        raise AssertionError("computed before checking the outputs")

    monkeypatch.setattr(command, "priority_zones", never)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    ranking = {
        "missing folder": out_dir / "no" / "r.csv",
        "parent is a file": project / "r.csv",
        "a folder": out_dir,
    }[bad]
    status, _, err = cli(
        [
            "priority",
            project,
            "--roads",
            project,
            "-o",
            out_dir / "zones.gpkg",
            "--ranking",
            ranking,
        ],
        capsys,
    )
    assert status == 2
    assert str(ranking) in one_error_line(err)
    assert listing(out_dir) == []


def test_progress_writes_table_and_chart_together_or_neither(
    project, tmp_path, capsys, monkeypatch
):
    from matplotlib.figure import Figure

    def full_disk(self, *args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Figure, "savefig", full_disk)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    (out_dir / "p.csv").write_text("previous\n")
    status, _, err = cli(
        [
            "progress",
            project,
            "--released",
            project,
            "-o",
            out_dir / "p.csv",
            "--chart",
            out_dir / "c.png",
        ],
        capsys,
    )
    line = one_error_line(err)
    assert status == 2 and "c.png" in line and "disk is full" in line
    assert listing(out_dir) == ["p.csv"] and (out_dir / "p.csv").read_text() == "previous\n"


def test_priority_into_an_existing_geopackage_replaces_only_its_layer(project, tmp_path, capsys):
    out = tmp_path / "results.gpkg"
    write(HAZARDS, out, layer="notes")
    argv = [
        "priority",
        project,
        "--released",
        project,
        "--roads",
        project,
        "-o",
        out,
        "--ranking",
        tmp_path / "r.csv",
    ]
    for _ in range(2):  # the second run replaces the zones the first one wrote
        status, _, err = cli(argv, capsys)
        assert status == 0, err
    layers = {str(n) for n in pyogrio.list_layers(out)[:, 0]}
    assert layers == {"notes", "priority_zones"}
    zones = pyogrio.read_dataframe(out, layer="priority_zones")
    assert "category" in zones.columns and set(zones["category"]) == {"roads"}


def test_dash_means_standard_output(project, capsys):
    status, out, _ = cli(
        ["summary", project, "--released", project, "-o", "-", "--format", "json"], capsys
    )
    assert status == 0 and json.loads(out)["rows"][-1]["threat_level"] == "total"


# --------------------------------------------------------------------------- hints


def test_error_hints_name_the_option_typed(project, tmp_path, capsys):
    status, _, err = cli(
        ["summary", project, "--released", project, "--released-layer", "nope"], capsys
    )
    assert status == 2 and "--released-layer" in err and "--layer)" not in err
    status, _, err = cli(
        ["summary", project, "--released", project, "--date-column", "when"], capsys
    )
    line = one_error_line(err)
    assert "date_column=" in line and "--date-column" in line
    status, _, err = cli(
        ["summary", project, "--released", project, "--method-column", "how"], capsys
    )
    assert "--method-column" in err
    status, _, err = cli(["summary", project, "--threat-column", "risk"], capsys)
    assert "--threat-column (Python: threat_column=)" in err


def test_csv_without_crs_gets_the_csv_hint(tmp_path, capsys):
    path = tmp_path / "hazards.csv"
    frame = pd.DataFrame(HAZARDS.drop(columns="geometry"))
    frame["WKT"] = HAZARDS.geometry.to_wkt()
    frame.to_csv(path, index=False)
    status, _, err = cli(["summary", path], capsys)
    line = one_error_line(err)
    assert status == 2 and "--crs" in line and "CSV" in line and ".prj" not in line
    shp = write(HAZARDS, tmp_path / "hazards.shp")
    shp.with_suffix(".prj").unlink()
    status, _, err = cli(["summary", shp], capsys)
    assert status == 2 and ".prj" in err


# --------------------------------------------------------------------------- reading options


def test_override_crs_fixes_a_file_that_declares_the_wrong_one(tmp_path, capsys):
    """Coordinates in UTM 38N (EPSG:32638) labelled as UTM 39N: the hectares differ."""
    mislabelled = write(HAZARDS.set_crs(32639, allow_override=True), tmp_path / "hz.gpkg")
    status, out, err = cli(
        ["summary", mislabelled, "--crs", "EPSG:32638", "--override-crs", "--format", "json"],
        capsys,
    )
    assert status == 0, err
    expected = oracle.summary_of_layers(HAZARDS.assign(threat_level=["high", "medium"]))
    assert json.loads(out)["rows"][-1]["hazard_ha"] == pytest.approx(
        expected["total"]["hazard_ha"], rel=oracle.REL
    )
    status, _, err = cli(["summary", mislabelled, "--override-crs"], capsys)
    assert status == 2 and "--crs" in err


def test_vocabulary_file(tmp_path, capsys):
    hz = write(HAZARDS.assign(threat_level=["Zone rouge", "SHA"]), tmp_path / "hz.gpkg")
    rl = write(RELEASES.assign(method=["Déminage", "NTS"]), tmp_path / "rl.gpkg")
    status, _, err = cli(["summary", hz, "--released", rl], capsys)
    line = one_error_line(err)
    assert status == 2 and "'Zone rouge'" in line and "--vocabulary" in line
    vocab = tmp_path / "vocabulary.toml"
    vocab.write_text(
        '[threat_level]\n"Zone rouge" = "high"\nSHA = "low"\n\n[method]\n"Déminage" = "cleared"\n',
        encoding="utf-8",
    )
    status, out, err = cli(
        ["summary", hz, "--released", rl, "--vocabulary", vocab, "--format", "json"], capsys
    )
    assert status == 0, err
    rows = {r["threat_level"]: r for r in json.loads(out)["rows"]}
    assert rows["high"]["hazard_ha"] > 0 and rows["low"]["hazard_ha"] > 0
    assert rows["medium"]["hazard_ha"] == 0
    assert rows["high"]["cleared_ha"] > 0 and rows["low"]["cancelled_ha"] > 0
    vocab.write_text("[threat_level]\nfoo = \n", encoding="utf-8")
    status, _, err = cli(["summary", hz, "--vocabulary", vocab], capsys)
    assert status == 2 and "vocabulary.toml" in one_error_line(err)


def test_as_of_is_in_every_output(project, tmp_path, capsys):
    base = ["summary", project, "--released", project, "--as-of", "2021-06-30T01:00+05:00"]
    status, out, _ = cli([*base, "--format", "json"], capsys)
    doc = json.loads(out)
    assert status == 0 and doc["as_of"] == "2021-06-30"
    assert doc["rows"][-1]["cleared_ha"] > 0  # R1, dated 2021-06-30, counts
    status, out, _ = cli([*base, "--format", "csv"], capsys)
    assert set(pd.read_csv(io.StringIO(out))["as_of"]) == {"2021-06-30"}
    status, out, _ = cli(base, capsys)
    assert "as of 2021-06-30" in out.splitlines()[0]
    status, _, err = cli(
        ["summary", project, "--released", project, "--as-of", "03/05/2022"], capsys
    )
    assert status == 2 and "YYYY-MM-DD" in one_error_line(err) and "--as-of" in err
    status, out, err = cli(
        [
            "priority",
            project,
            "--released",
            project,
            "--roads",
            project,
            "-o",
            tmp_path / "z.gpkg",
            "--ranking",
            tmp_path / "r.csv",
            "--as-of",
            "2021",
            "--format",
            "json",
        ],
        capsys,
    )
    assert status == 0, err
    assert json.loads(out)["as_of"] == "2021-12-31"
    assert set(pd.read_csv(tmp_path / "r.csv")["as_of"]) == {"2021-12-31"}


def test_edges_geodesic_option(tmp_path, capsys):
    wide = gpd.GeoDataFrame(
        {"hazard_id": ["W"], "threat_level": ["high"]},
        geometry=[box(-120.0, 49.0, -100.0, 55.0)],
        crs=4326,
    )
    path = write(wide, tmp_path / "wide.gpkg")
    status, out, _ = cli(["summary", path, "--format", "json"], capsys)
    planar = json.loads(out)
    status, out, _ = cli(["summary", path, "--format", "json", "--edges", "geodesic"], capsys)
    geodesic = json.loads(out)
    assert planar["edges"] == "planar" and geodesic["edges"] == "geodesic"
    ratio = geodesic["rows"][-1]["hazard_ha"] / planar["rows"][-1]["hazard_ha"]
    assert abs(ratio - 1) > 1e-3  # the two conventions differ by ~0.9% on this box


# --------------------------------------------------------------------------- numbers


def test_zero_is_written_as_zero_and_csv_is_rounded_like_json(project, capsys):
    status, out, _ = cli(["summary", project, "--released", project, "--format", "csv"], capsys)
    text = out
    assert "e-" not in text and "-0.0" not in text
    table = pd.read_csv(io.StringIO(text))
    status, out, _ = cli(["summary", project, "--released", project, "--format", "json"], capsys)
    rows = json.loads(out)["rows"]
    for column in ("hazard_ha", "cleared_ha", "remaining_ha", "percent_released"):
        assert table[column].tolist() == [row[column] for row in rows]
    medium = table.set_index("threat_level").loc["medium"]
    assert medium["remaining_ha"] == 0.0 and medium["percent_released"] == 100.0


def test_number_helper():
    assert helpers.number(-0.0) == 0.0 and str(helpers.number(-0.0)) == "0.0"
    assert helpers.number(1.23456789) == 1.2346
    assert helpers.number(float("nan")) is None


def test_terminal_text_neutralises_control_characters():
    assert helpers.terminal_text("a\x1b[31mred\x07") == "a\\x1b[31mred\\x07"
    assert helpers.terminal_text(3) == 3


def test_input_paths_include_every_file_option(project, tmp_path):
    args = build_parser().parse_args(
        ["priority", str(project), "--roads", "r.gpkg", "--weights", "w.toml", "-o", "z.gpkg"]
    )
    names = {p.name for p in helpers.input_paths(args)}
    assert names == {"project.gpkg", "r.gpkg", "w.toml"}
    assert os.fspath(tmp_path)  # tmp_path used for the fixture


def test_text_cells_are_safe_in_spreadsheets(tmp_path, capsys):
    hz = write(HAZARDS.assign(district=['=HYPERLINK("http://x")', "-12"]), tmp_path / "hz.gpkg")
    status, out, _ = cli(["summary", hz, "--by", "district", "--format", "csv"], capsys)
    assert status == 0
    table = pd.read_csv(io.StringIO(out), dtype=str)
    assert '\'=HYPERLINK("http://x")' in set(table["district"])
    assert "-12" in set(table["district"])  # reads as a number: left alone
    assert not any(str(v).startswith(("=", "+", "@")) for v in table.to_numpy().ravel())


def test_unknown_zones_format_is_refused_before_any_work(project, tmp_path, capsys, monkeypatch):
    import minemap.cli.priority as command

    monkeypatch.setattr(command, "priority_zones", lambda *a, **k: 1 / 0)
    status, _, err = cli(
        ["priority", project, "--roads", project, "-o", tmp_path / "zones.xyz"], capsys
    )
    assert status == 2 and ".xyz is not a vector format" in one_error_line(err)
    assert listing(tmp_path) == ["project.gpkg"]


def test_summary_by_threat_level_is_the_level_table(project, capsys):
    status, out, err = cli(["summary", project, "--by", "threat_level", "--format", "json"], capsys)
    assert status == 0, err
    status, plain, _ = cli(["summary", project, "--format", "json"], capsys)
    assert json.loads(out)["rows"] == json.loads(plain)["rows"]


def test_points_from_a_csv_with_coordinate_columns(project, tmp_path, capsys):
    infra = tmp_path / "clinics.csv"
    infra.write_text("Name;Easting_m;Northing_m\nClinic A;500600;4400900\n", encoding="utf-8")
    out = tmp_path / "zones.gpkg"
    argv = ["priority", project, "--infrastructure", infra, "-o", out, "--format", "json"]
    status, _, err = cli(argv, capsys)  # columns not recognised: name them
    assert status == 2 and "--infrastructure-xy" in one_error_line(err)
    status, _, err = cli([*argv, "--infrastructure-xy", "Easting_m,Northing_m"], capsys)
    assert status == 2 and "--crs" in one_error_line(err)  # x/y need a CRS
    status, _, err = cli([*argv, "--infrastructure-xy", "Easting_m", "--crs", "EPSG:32638"], capsys)
    assert status == 2 and "--infrastructure-xy" in one_error_line(err)
    status, out_text, err = cli(
        [*argv, "--infrastructure-xy", "Easting_m,Northing_m", "--crs", "EPSG:32638"], capsys
    )
    assert status == 0, err
    zones = json.loads(out_text)["zones"]
    assert {z["category"] for z in zones if z["zone_ha"] > 0} == {"infrastructure", "total"}


def test_priority_never_replaces_a_layer_it_did_not_write(project, tmp_path, capsys):
    out = tmp_path / "results.gpkg"
    write(HAZARDS, out, layer="hazards")
    before = out.read_bytes()
    status, _, err = cli(
        ["priority", project, "--roads", project, "-o", out, "--zones-layer", "hazards"], capsys
    )
    assert status == 2 and "holds other data" in one_error_line(err)
    assert out.read_bytes() == before


@pytest.mark.parametrize(
    ("command", "option", "name"),
    [
        ("summary", "-o", "keep.gpkg"),
        ("progress", "-o", "keep.gpkg"),
        ("map", "-o", "keep.gpkg"),
        ("map", "-o", "map.png"),
        ("priority", "--ranking", "keep.gpkg"),
        ("progress", "--chart", "c.geojson"),
    ],
)
def test_each_output_accepts_only_its_own_formats(project, tmp_path, capsys, command, option, name):
    target = tmp_path / name
    if name.endswith(".gpkg"):
        write(HAZARDS, target, layer="precious")
    before = target.read_bytes() if target.exists() else None
    argv = [command, project, "--released", project]
    if command == "priority":
        argv += ["--roads", project, "-o", tmp_path / "z.gpkg"]
    if command == "map" and option != "-o":
        argv += ["-o", tmp_path / "m.html"]
    status, _, err = cli([*argv, option, target], capsys)
    assert status == 2 and f"{option} writes" in one_error_line(err)
    assert (target.read_bytes() if target.exists() else None) == before


def test_devices_pipes_and_symlinks_are_written_into_never_replaced(project, tmp_path, capsys):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    import threading

    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()))
    reader.start()
    status, _, err = cli(["summary", project, "--format", "json", "-o", fifo], capsys)
    reader.join(timeout=30)
    assert status == 0, err
    assert json.loads(received[0])["rows"][-1]["threat_level"] == "total"
    assert fifo.is_fifo()
    real = tmp_path / "real.csv"
    real.write_text("old\n")
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    status, _, err = cli(["summary", project, "-o", link], capsys)
    assert status == 0, err
    assert link.is_symlink() and "threat_level" in real.read_text()
    status, _, err = cli(["summary", project, "-o", "/dev/full"], capsys)
    assert status == 2 and "disk is full" in one_error_line(err)
    assert Path("/dev/full").is_char_device()


def test_trailing_slash_and_priority_to_stdout_are_refused(project, tmp_path, capsys):
    status, _, err = cli(["summary", project, "-o", f"{tmp_path}/new/"], capsys)
    assert status == 2 and "names a folder" in one_error_line(err)
    assert listing(tmp_path) == ["project.gpkg"]
    status, _, err = cli(["priority", project, "--roads", project, "-o", "-"], capsys)
    assert status == 2 and "-o zones.gpkg" in one_error_line(err)


def test_no_escape_sequence_reaches_the_terminal(tmp_path, capsys):
    hz = write(
        HAZARDS.assign(
            hazard_id=["\x1b[31mRED\x1b[0m\x07", "H2"], district=["=evil\x1b]0;title\x07", "ok"]
        ),
        tmp_path / "hz.gpkg",
    )
    roads = write(ROADS, tmp_path / "roads.gpkg")
    outputs = []
    outputs.append(cli(["summary", hz, "--by", "district"], capsys))
    outputs.append(cli(["priority", hz, "--roads", roads, "-o", tmp_path / "z.gpkg"], capsys))
    bad = write(HAZARDS.assign(threat_level=["bogus\x1b[2J second", "high"]), tmp_path / "bad.gpkg")
    outputs.append(cli(["summary", bad], capsys))
    for _status, out, err in outputs:
        assert "\x1b" not in out + err and "\x07" not in out + err
    assert "\\x1b[31mRED" in outputs[1][1]
    assert outputs[2][0] == 2 and "\\x1b[2J" in outputs[2][2]


class _Screen(io.StringIO):
    """Standard output that says it is a terminal."""

    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_csv_and_json_shown_on_a_terminal_carry_no_escape_sequence(tmp_path, monkeypatch, fmt):
    hz = write(
        HAZARDS.assign(district=["\x1b]0;title\x07\x1b[2J", "ok\rlie"]), tmp_path / "hz.gpkg"
    )
    screen = _Screen()
    monkeypatch.setattr("sys.stdout", screen)
    assert run(["summary", str(hz), "--by", "district", "--format", fmt]) == 0
    shown = screen.getvalue()
    assert "\x1b" not in shown and "\x07" not in shown and "\r" not in shown
    assert "\\x1b]0;title" in shown or "\\u001b]0;title" in shown


def test_csv_piped_or_written_keeps_the_values_exactly(tmp_path, monkeypatch):
    hz = write(HAZARDS.assign(district=["\x1b[2J", "ok"]), tmp_path / "hz.gpkg")
    piped = io.StringIO()
    monkeypatch.setattr("sys.stdout", piped)
    assert run(["summary", str(hz), "--by", "district", "--format", "csv"]) == 0
    assert "\x1b[2J" in piped.getvalue()


def test_errors_name_the_option_and_file_typed(project, tmp_path, capsys):
    status, _, err = cli(["summary", project, "--released", tmp_path / "nope.gpkg"], capsys)
    assert status == 2 and one_error_line(err).startswith(
        f"minemap: error: --released {tmp_path / 'nope.gpkg'}"
    )
    weights = tmp_path / "w.toml"
    weights.write_text("[weights]\nrivers = 1\n", encoding="utf-8")
    status, _, err = cli(
        ["priority", project, "--roads", project, "-o", tmp_path / "z.gpkg", "--weights", weights],
        capsys,
    )
    assert status == 2 and f"--weights {weights}" in one_error_line(err)
    vocab = tmp_path / "v.toml"
    vocab.write_text('[threat_level]\n"Zone rouge" = "very high"\n', encoding="utf-8")
    status, _, err = cli(["summary", project, "--vocabulary", vocab], capsys)
    line = one_error_line(err)
    assert status == 2 and "v.toml" in line and "very high" in line and "level_map" not in line
    status, _, err = cli(["progress", project, "--released", project, "--freq", "x"], capsys)
    assert one_error_line(err).startswith("minemap: error: --freq x (Python: freq='x')")
    status, _, err = cli(["summary", project, "--override-crs"], capsys)
    line = one_error_line(err)
    assert "--override-crs (Python: override_crs=True)" in line
    assert "--override-crs True" not in line


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    spelling=st.lists(
        st.sampled_from(["absolute", "relative", "dot", "dotdot", "link", "double-slash"]),
        min_size=1,
        max_size=3,
    ),
    command=st.sampled_from(["summary", "priority", "progress-chart", "ranking"]),
)
def test_any_spelling_of_an_input_as_output_is_refused(
    project, tmp_path, monkeypatch, capsys, spelling, command
):
    """Property: whatever the spelling, an output that is an input is refused, input intact."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir(exist_ok=True)
    link = tmp_path / "alias.gpkg"
    if not link.is_symlink():
        link.symlink_to(project)
    path = str(project)
    for step in spelling:
        name = Path(path).name
        path = {
            "absolute": str(tmp_path / name),
            "relative": name,
            "dot": f"./{name}",
            "dotdot": f"sub/../{name}",
            "link": "alias.gpkg",
            "double-slash": f"{tmp_path}//{name}",
        }[step]
    before = project.read_bytes()
    argv = {
        "summary": ["summary", project, "-o", path],
        "priority": ["priority", project, "--roads", project, "-o", path],
        "progress-chart": ["progress", project, "--released", project, "--chart", path],
        "ranking": ["priority", project, "--roads", project, "-o", "z.gpkg", "--ranking", path],
    }[command]
    status, _, err = cli(argv, capsys)
    assert status == 2 and "also an input" in one_error_line(err)
    assert project.read_bytes() == before
    assert not Path("z.gpkg").exists()


def test_legacy_encoding_option(tmp_path, capsys):
    text = HAZARDS.to_crs(4326).assign(district=["Agdam", "FUZULI"]).to_json()
    path = tmp_path / "latin.geojson"  # an old export: latin-1 bytes, not UTF-8
    path.write_bytes(text.replace("FUZULI", "Füzuli").encode("latin-1"))
    status, _, err = cli(["summary", path, "--by", "district"], capsys)
    line = one_error_line(err)
    assert status == 2 and "--encoding" in line and "latin.geojson" in line
    status, out, err = cli(
        ["summary", path, "--by", "district", "--encoding", "latin-1", "--format", "json"], capsys
    )
    assert status == 0, err
    assert "Füzuli" in {row["district"] for row in json.loads(out)["rows"]}


def test_plan_outputs_refuses_an_output_inside_an_input_folder(tmp_path):
    import argparse

    from minemap._errors import OutputError

    layer = tmp_path / "hz.parquet"
    layer.mkdir()
    (layer / "part-00000.parquet").write_bytes(b"PAR1")
    args = argparse.Namespace(hazards=f"{layer}/", roads=None)
    for output in (f"{layer / 'zones.parquet'}/", str(layer / "zones.parquet")):
        with pytest.raises(OutputError, match=r"-o is inside the input folder .*hz\.parquet"):
            helpers.plan_outputs(args, [("-o", output, None)])
    helpers.plan_outputs(args, [("-o", str(tmp_path / "zones.parquet"), None)])  # beside it
    assert sorted(p.name for p in layer.iterdir()) == ["part-00000.parquet"]


def test_reach_bbox_of_a_projected_layer_across_the_antimeridian_filters_nothing():
    """A UTM zone 60 square across 180°E comes back from pyproj as a box with xmin > xmax;
    no one box holds it, so nothing is filtered (the database reads the table whole)."""
    import shapely

    from minemap.cli.helpers import reach_bbox

    utm60 = "EPSG:32660"
    across = gpd.GeoDataFrame(geometry=[shapely.Point(179.99, 65.0)], crs=4326).to_crs(utm60)
    square = gpd.GeoDataFrame(geometry=across.buffer(500.0, cap_style="square"), crs=utm60)
    assert reach_bbox(square, 100.0) is None
    inside = gpd.GeoDataFrame(geometry=[shapely.Point(177.0, 65.0)], crs=4326).to_crs(utm60)
    box = reach_bbox(gpd.GeoDataFrame(geometry=inside.buffer(500.0), crs=utm60), 100.0)
    assert box is not None and box[0] < 177.0 < box[2] and box[1] < 65.0 < box[3]
