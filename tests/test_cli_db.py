"""``--db URL`` on the commands: HAZARDS, --released and the layer options name tables of a
PostGIS database (a throwaway server, tests/_postgis.py), and give what the files give."""

from __future__ import annotations

import json
from urllib.parse import quote

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from _postgis import PASSWORD, load

import minemap
from minemap import cli
from minemap.io import postgis as _postgis

SCENARIO = minemap.sample_data() / "scenario.gpkg"
LAYERS = ("hazards", "releases", "roads", "infrastructure", "residential", "districts")


@pytest.fixture(scope="module")
def db(postgis):
    for layer in LAYERS:
        load(postgis.url, gpd.read_file(SCENARIO, layer=layer), layer)
    return postgis


def run(argv, capsys):
    status = cli.run([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def _secret_free(*texts: str) -> None:
    for text in texts:
        assert PASSWORD not in text
        assert quote(PASSWORD, safe="") not in text


def test_summary_from_tables_equals_the_geopackage(db, capsys):
    status, from_db, err = run(
        [
            "summary",
            "--db",
            db.url,
            "hazards",
            "--released",
            "releases",
            "--districts",
            "districts",
        ],
        capsys,
    )
    assert status == 0, err
    status, from_file, _ = run(
        ["summary", SCENARIO, "--released", SCENARIO, "--districts", SCENARIO], capsys
    )
    assert status == 0
    assert from_db == from_file
    _secret_free(from_db, err)


def test_priority_from_tables_equals_the_geopackage(db, capsys, tmp_path):
    common = ["--format", "json", "--ranking"]
    status, out_db, err = run(
        ["priority", "--db", db.url, "hazards", "--released", "releases", "--roads", "roads",
         "--infrastructure", "infrastructure", "--residential", "residential",
         "-o", tmp_path / "db.gpkg", *common, tmp_path / "db.csv"],
        capsys,
    )  # fmt: skip
    assert status == 0, err
    status, out_file, _ = run(
        ["priority", SCENARIO, "--released", SCENARIO, "--roads", SCENARIO,
         "--infrastructure", SCENARIO, "--residential", SCENARIO,
         "-o", tmp_path / "file.gpkg", *common, tmp_path / "file.csv"],
        capsys,
    )  # fmt: skip
    assert status == 0
    a, b = json.loads(out_db), json.loads(out_file)
    assert a["zones"] == b["zones"] and a["ranking_top"] == b["ranking_top"]
    pd.testing.assert_frame_equal(
        pd.read_csv(tmp_path / "db.csv"), pd.read_csv(tmp_path / "file.csv")
    )
    _secret_free(out_db, err)


def test_map_from_tables_holds_no_password(db, capsys, tmp_path):
    status, out, err = run(
        ["map", "--db", db.url, "hazards", "--released", "releases", "--roads", "roads",
         "--districts", "districts", "-o", tmp_path / "map.html"],
        capsys,
    )  # fmt: skip
    assert status == 0, err
    html = (tmp_path / "map.html").read_text()
    _secret_free(html, out, err)
    assert f"{db.url.split('@')[0]}@" not in html  # no URL with its user:password part
    status, _, _ = run(
        ["map", SCENARIO, "--released", SCENARIO, "--roads", SCENARIO, "--districts", SCENARIO,
         "-o", tmp_path / "file.html"],
        capsys,
    )  # fmt: skip
    hazards = gpd.read_file(SCENARIO, layer="hazards")
    assert all(h in html for h in hazards["hazard_id"])


@pytest.mark.parametrize("where", ["url", "PGPASSWORD"])
def test_a_wrong_password_is_one_line_without_the_password(db, capsys, monkeypatch, where):
    wrong = "Wr0ng-" + PASSWORD
    if where == "url":
        url = db.url_without_password.replace("@", f":{quote(wrong, safe='')}@")
    else:
        monkeypatch.setenv("PGPASSWORD", wrong)
        url = db.url_without_password
    status, out, err = run(["summary", "--db", url, "hazards"], capsys)
    assert status == 2
    assert err.count("\n") == 1 and "cannot connect" in err and "password" in err
    for text in (out, err):
        assert wrong not in text and quote(wrong, safe="") not in text
    _secret_free(out, err)


def test_a_missing_table_lists_the_tables(db, capsys):
    status, out, err = run(["summary", "--db", db.url, "hazards", "--released", "gone"], capsys)
    assert status == 2 and err.count("\n") == 1
    assert "--released gone" in err and "no such table" in err
    assert all(repr(layer) in err for layer in LAYERS)
    _secret_free(out, err)


def test_a_column_without_srid_needs_crs(db, capsys):
    load(db.url, gpd.read_file(SCENARIO, layer="hazards"), "hazards_nosrid", srid=0)
    status, _, err = run(["summary", "--db", db.url, "--table", "hazards_nosrid"], capsys)
    assert status == 2 and err.count("\n") == 1
    assert "no SRID" in err and "UpdateGeometrySRID" in err and "--crs" in err
    status, with_crs, err = run(
        ["summary", "--db", db.url, "--table", "hazards_nosrid", "--crs", "EPSG:4326"], capsys
    )
    assert status == 0, err
    assert with_crs == run(["summary", SCENARIO], capsys)[1]


def test_sql_and_bbox_read_what_they_select(db, capsys, tmp_path):
    hazards = gpd.read_file(SCENARIO, layer="hazards")
    high = hazards.loc[hazards["threat_level"] == "high"]
    high.to_file(tmp_path / "high.gpkg", layer="hazards")
    query = "SELECT * FROM hazards WHERE threat_level = 'high'"
    status, out, err = run(["summary", "--db", db.url, "--sql", query], capsys)
    assert status == 0, err
    assert out == run(["summary", tmp_path / "high.gpkg"], capsys)[1]

    x0, y0, x1, y1 = hazards.total_bounds
    box = (x0, y0, (x0 + x1) / 2, (y0 + y1) / 2)
    meets = hazards.loc[hazards.envelope.intersects(shapely.box(*box))]  # boxes, as && does
    assert 0 < len(meets) < len(hazards)
    meets.to_file(tmp_path / "west.gpkg", layer="hazards")
    status, out, err = run(
        ["summary", "--db", db.url, "hazards", "--bbox", ",".join(map(str, box))], capsys
    )
    assert status == 0, err
    assert out == run(["summary", tmp_path / "west.gpkg"], capsys)[1]


def test_table_options_need_db_and_hazards_once(db, capsys):
    status, _, err = run(["summary", SCENARIO, "--table", "hazards"], capsys)
    assert status == 2 and "--db" in err
    status, _, err = run(["summary", "--db", db.url, "hazards", "--table", "hazards"], capsys)
    assert status == 2 and "once" in err
    status, _, err = run(["summary", "--db", db.url, "hazards", "--bbox", "1,2,3"], capsys)
    assert status == 2 and "--bbox" in err


def test_feature_tables_are_read_near_the_hazards_only(db, capsys, monkeypatch, tmp_path):
    roads = gpd.read_file(SCENARIO, layer="roads")
    far = shapely.LineString([(roads.total_bounds[2] + 2, 40.0), (roads.total_bounds[2] + 2.1, 40)])
    more = pd.concat(
        [roads, gpd.GeoDataFrame({"road_id": ["FAR"], "road_class": ["track"]}, geometry=[far],
                                 crs=roads.crs)],
        ignore_index=True,
    )  # fmt: skip
    load(db.url, more, "roads_far")
    more.to_file(tmp_path / "roads.gpkg", layer="roads")
    read_ids: list[str] = []
    real = _postgis.read_postgis

    def spy(source, **kwargs):
        gdf, curved = real(source, **kwargs)
        if source.table == "roads_far":
            read_ids.extend(gdf["road_id"])
        return gdf, curved

    monkeypatch.setattr(_postgis, "read_postgis", spy)
    status, out_db, err = run(
        ["priority", "--db", db.url, "hazards", "--roads", "roads_far",
         "-o", tmp_path / "db.gpkg", "--format", "json", "--ranking", tmp_path / "db.csv"],
        capsys,
    )  # fmt: skip
    assert status == 0, err
    assert "FAR" not in read_ids and set(read_ids) <= set(roads["road_id"])
    status, out_file, _ = run(
        ["priority", SCENARIO, "--roads", tmp_path / "roads.gpkg",
         "-o", tmp_path / "file.gpkg", "--format", "json", "--ranking", tmp_path / "file.csv"],
        capsys,
    )  # fmt: skip
    assert status == 0
    assert json.loads(out_db)["zones"] == json.loads(out_file)["zones"]
    pd.testing.assert_frame_equal(
        pd.read_csv(tmp_path / "db.csv"), pd.read_csv(tmp_path / "file.csv")
    )


def test_check_of_tables_lists_the_same_findings_as_the_geopackage(db, capsys, tmp_path):
    """minemap check where the data lives: the same findings by id from the tables."""
    found = {}
    for name, argv in {
        "db": ["--db", db.url, "--table", "hazards", "--released", "releases"],
        "file": [SCENARIO, "--released", SCENARIO],
    }.items():
        out = tmp_path / f"{name}.csv"
        status, _, err = run(["check", *argv, "-o", out], capsys)
        assert status == 0, err  # the sample holds warnings only
        _secret_free(err)
        frame = pd.read_csv(out)
        found[name] = frame.sort_values(["layer", "check", "id"], ignore_index=True)
    assert len(found["file"])
    pd.testing.assert_frame_equal(
        found["db"].drop(columns=["row"]), found["file"].drop(columns=["row"])
    )


def test_export_from_tables_records_them_with_row_counts(db, capsys, tmp_path):
    import pyogrio

    target = tmp_path / "results.gpkg"
    status, out, err = run(
        ["export", "--db", db.url, "hazards", "--released", "releases", "--to", target], capsys
    )
    assert status == 0, err
    _secret_free(out, err)
    runs = pyogrio.read_dataframe(target, layer="minemap_runs")
    inputs = json.loads(runs["inputs"].iloc[0])
    assert inputs["HAZARDS"]["table"] == "hazards" and inputs["--released"]["table"] == "releases"
    assert inputs["HAZARDS"]["rows"] == len(gpd.read_file(SCENARIO, layer="hazards"))
    assert inputs["HAZARDS"]["database"] == db.url_without_password
    assert "selection" not in inputs["HAZARDS"] and "selection" not in inputs["--released"]
    _secret_free(target.read_bytes().decode("latin-1"))


def test_export_records_which_rows_of_each_table_it_read(db, capsys, tmp_path):
    """With --bbox, the hazards read are those in the box, and the releases those within
    the hazards' box: the provenance says so beside the table's rows."""
    import pyogrio

    x0, y0, x1, y1 = gpd.read_file(SCENARIO, layer="hazards").total_bounds
    box = f"{x0},{y0},{(x0 + x1) / 2},{(y0 + y1) / 2}"
    target = tmp_path / "results.gpkg"
    status, _, err = run(
        ["export", "--db", db.url, "hazards", "--released", "releases", "--bbox", box,
         "--roads", "roads", "--to", target],
        capsys,
    )  # fmt: skip
    assert status == 0, err
    inputs = json.loads(pyogrio.read_dataframe(target, layer="minemap_runs")["inputs"].iloc[0])
    corners = ", ".join(repr(float(v)) for v in box.split(","))
    assert inputs["HAZARDS"]["selection"] == f"rows whose box meets {corners} (EPSG:4326)"
    assert inputs["HAZARDS"]["rows"] == len(gpd.read_file(SCENARIO, layer="hazards"))
    assert inputs["--released"]["selection"].startswith("rows whose box meets ")
    assert "selection" not in inputs["--roads"]  # read whole


def test_a_report_names_the_district_its_hazards_were_read_in(db, capsys, tmp_path):
    import html

    name = str(gpd.read_file(SCENARIO, layer="districts")["district"].iloc[0])
    out = tmp_path / "report.html"
    status, _, err = run(
        ["report", "--db", db.url, "hazards", "--districts", "districts", "--district", name,
         "-o", out],
        capsys,
    )  # fmt: skip
    assert status == 0, err
    page = html.unescape(out.read_text(encoding="utf-8"))
    assert f"table 'hazards', rows meeting the region {name!r}<" in page


def test_district_reads_only_the_hazards_meeting_it(db, capsys):
    districts = gpd.read_file(SCENARIO, layer="districts")
    hazards = gpd.read_file(SCENARIO, layer="hazards")
    name = str(districts["district"].iloc[0])
    status, out, err = run(
        ["summary", "--db", db.url, "hazards", "--districts", "districts",
         "--district", name, "--format", "json"],
        capsys,
    )  # fmt: skip
    assert status == 0, err
    rows = json.loads(out)["rows"]
    meets = hazards.intersects(districts.geometry.iloc[0])
    read = minemap.read_hazards(SCENARIO)
    expected = minemap.land_release_summary(read.loc[meets.to_numpy()], by=districts)
    got = {(r["district"], r["threat_level"]): r["hazard_ha"] for r in rows}
    want = {(r.district, r.threat_level): r.hazard_ha for r in expected.itertuples()}
    assert got.keys() == want.keys()
    for key, value in want.items():
        assert got[key] == pytest.approx(value, abs=5e-5)  # JSON keeps 4 decimals
    assert 0 < meets.sum() < len(hazards)


def test_district_errors_are_one_line(db, capsys):
    status, _, err = run(
        ["summary", "--db", db.url, "hazards", "--districts", "districts", "--district", "Nowhere"],
        capsys,
    )
    assert status == 2 and "no district of that name" in err and err.count("\n") == 1
    status, _, err = run(["summary", "--db", db.url, "hazards", "--district", "A"], capsys)
    assert status == 2 and "give the district polygons with --districts" in err
    status, _, err = run(["check", "--db", db.url, "hazards", "--district", "A"], capsys)
    assert status == 2 and "give the area with --bbox" in err


@pytest.mark.parametrize(
    "argv",
    [
        ["summary", "{url}"],
        ["summary", "--db", "{url}", "hazards", "--released", "{url}"],
        ["summary", SCENARIO, "--roads", "{url}"],
        ["check", "{url}"],
        ["map", SCENARIO, "--roads", "{url}", "-o", "m.html"],
    ],
)
def test_a_url_where_a_file_goes_is_never_echoed_with_its_password(db, capsys, argv, tmp_path):
    argv = [a.replace("{url}", db.url) if isinstance(a, str) else a for a in argv]
    try:
        status, out, err = run(argv, capsys)
    except SystemExit as exc:  # argparse's own refusal
        status, (out, err) = int(exc.code), capsys.readouterr()
    assert status == 2 and err.startswith("minemap: error:") and err.count("\n") == 1
    _secret_free(out, err)


@pytest.mark.parametrize(
    "area", [["--districts", "dd", "--district", "D1"], ["--bbox", "66.0,48.0,66.01,48.01"]]
)
def test_an_area_keeps_the_releases_of_the_hazards_it_chose(db, capsys, area):
    """A hazard meeting the area is read whole, and so is every release inside it, also
    where the release lies outside the area itself."""
    db.psql(
        "DROP TABLE IF EXISTS dd, hh, rr; "
        "CREATE TABLE dd AS SELECT 'D1'::text AS district, "
        "ST_MakeEnvelope(66.0, 48.0, 66.01, 48.01, 4326)::geometry(Polygon, 4326) AS geom; "
        "CREATE TABLE hh AS SELECT 'H1'::text AS hazard_id, 'high'::text AS threat_level, "
        "ST_MakeEnvelope(66.005, 48.0, 66.02, 48.01, 4326)::geometry(Polygon, 4326) AS geom; "
        "CREATE TABLE rr (release_id text, method text, release_date date, "
        "geom geometry(Polygon, 4326)); INSERT INTO rr VALUES "
        "('R1', 'cleared', '2022-01-01', ST_MakeEnvelope(66.012, 48.0, 66.02, 48.01, 4326)), "
        "('R2', 'cleared', '2022-01-01', ST_MakeEnvelope(66.005, 48.0, 66.006, 48.01, 4326));"
    )

    def released(argv):
        status, out, err = run(["summary", "--db", db.url, "hh", "--released", "rr", *argv,
                                "--format", "json"], capsys)  # fmt: skip
        assert status == 0, err
        rows = [r for r in json.loads(out)["rows"] if r["threat_level"] == "total"]
        return max(r["released_ha"] for r in rows)  # the grand total (and per district)

    whole = released([])
    assert whole > 60 and released(area) == pytest.approx(whole, abs=1e-4)


def test_export_never_replaces_a_table_it_read(db, capsys):
    status, _, err = run(
        ["export", "--db", db.url, "hazards", "--to", db.url, "--run", "loop"], capsys
    )
    assert status == 0, err
    db.psql("COMMENT ON TABLE loop_ranking IS 'my input';")
    status, _, err = run(
        ["export", "--db", db.url, "loop_ranking", "--to", db.url, "--run", "loop"], capsys
    )
    assert status == 2 and "an output never replaces an input" in err
    assert db.psql("SELECT obj_description('loop_ranking'::regclass);").strip() == "my input"


def test_a_report_from_tables_names_them_and_not_the_password(db, capsys, tmp_path):
    import html

    out = tmp_path / "report.html"
    status, _, err = run(
        ["report", "--db", db.url, "hazards", "--released", "releases", "-o", out], capsys
    )
    assert status == 0, err
    page = html.unescape(out.read_text(encoding="utf-8"))
    _secret_free(page, err)
    assert f"{db.url_without_password} table 'hazards'" in page
    assert f"{db.url_without_password} table 'releases'" in page


def test_load_puts_every_layer_of_a_geopackage_in_tables_minemap_reads_back(postgis, capsys):
    from minemap.io import read_hazards, read_releases

    target = postgis.url + "?schema=loaded"
    status, out, err = run(["load", SCENARIO, "--to", target], capsys)
    assert status == 0, err
    _secret_free(out, err)
    layers = [str(n) for n in gpd.list_layers(SCENARIO)["name"]]
    for layer in layers:
        assert f"  {layer}: " in out
    hazards = read_hazards(postgis.url + "?schema=loaded", table="hazards")
    from_file = read_hazards(SCENARIO)
    # rows come back in the file's order (the key), with the key as one more column
    pd.testing.assert_frame_equal(hazards.drop(columns="fid"), from_file)
    with pytest.warns(minemap.DataWarning):
        pd.testing.assert_frame_equal(
            minemap.land_release_summary(
                hazards, read_releases(postgis.url + "?schema=loaded", table="releases")
            ),
            minemap.land_release_summary(from_file, read_releases(SCENARIO)),
        )
    comment = postgis.psql("SELECT obj_description('loaded.hazards'::regclass);")
    assert "scenario.gpkg" in comment and "sha256" in comment
    # a second load is refused, nothing changed; --replace replaces
    status, _, err = run(["load", SCENARIO, "--to", target, "--layer", "roads"], capsys)
    assert status == 2 and "exist; pass replace=True (--replace)" in err
    status, out, _ = run(
        ["load", SCENARIO, "--to", target, "--layer", "roads", "--replace"], capsys
    )
    assert status == 0 and "roads:" in out


def test_a_load_that_fails_half_way_leaves_no_table(postgis):
    from minemap.io.postgis_load import write_tables

    good = gpd.read_file(SCENARIO, layer="roads")
    odd = good.to_crs("+proj=aeqd +lat_0=48 +lon_0=66 +units=m")  # no EPSG code: no SRID
    with pytest.raises(minemap.SchemaError, match="no EPSG code"):
        write_tables({"roads_ok": good, "roads_odd": odd}, postgis.url + "?schema=halfway")
    assert postgis.psql("SELECT to_regclass('halfway.roads_ok') IS NULL;").strip() == "t"


def test_a_layer_option_for_a_table_is_refused_not_ignored(db, capsys):
    status, _, err = run(
        ["summary", "--db", db.url, "hazards", "--released", "releases", "--released-layer", "x"],
        capsys,
    )
    assert (
        status == 2
        and "--released-layer 'x': with --db, --released 'releases' names a table" in err
    )
    status, _, err = run(["summary", "--db", db.url, "hazards", "--layer", "hazards"], capsys)
    assert status == 2 and "--layer 'hazards'" in err
    # a file given beside the tables keeps its layer option
    status, out, err = run(
        [
            "summary",
            "--db",
            db.url,
            "hazards",
            "--released",
            SCENARIO,
            "--released-layer",
            "releases",
        ],
        capsys,
    )
    assert status == 0, err


def _report_roads(db, table: str, tmp_path) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The hazards and the roads ``minemap report --db ... --roads TABLE`` reads."""
    from minemap.cli import helpers, report
    from minemap.cli.main import build_parser

    args = build_parser().parse_args(
        ["report", "--db", db.url, "hazards", "--roads", table, "-o", str(tmp_path / "r.html")]
    )
    hazards, _ = helpers.read_inputs(args)
    roads = report._features(args, "roads", hazards)
    assert roads is not None
    return hazards, roads


def _road(name: str, *points: tuple[float, float]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"road_id": [name], "road_class": ["track"]},
        geometry=[shapely.LineString(points)],
        crs=4326,
    )


def test_a_report_reads_road_tables_near_the_hazards_with_the_same_ranking(db, tmp_path):
    """Roads far from every hazard stay in the table; the ranking is the whole table's."""
    roads = gpd.read_file(SCENARIO, layer="roads")
    x1 = roads.total_bounds[2]
    whole = pd.concat([roads, _road("FAR", (x1 + 2, 48.0), (x1 + 2.1, 48.0))], ignore_index=True)
    load(db.url, whole, "roads_report")
    hazards, read = _report_roads(db, "roads_report", tmp_path)
    assert set(read["road_id"]) == set(roads["road_id"])
    releases = gpd.read_file(SCENARIO, layer="releases")
    pd.testing.assert_frame_equal(
        pd.DataFrame(minemap.rank_hazards(hazards, releases, roads=read)).drop(columns="geometry"),
        pd.DataFrame(minemap.rank_hazards(hazards, releases, roads=whole)).drop(columns="geometry"),
        rtol=1e-7,  # the search frame is centred on the roads read: rounding, no more
    )


def test_a_report_reads_again_where_a_nearest_road_lies_beyond_the_first_box(db, tmp_path):
    """One road west of every hazard inside the first box, a nearer one for the eastern
    hazards just beyond it (0.01 degrees east of the last hazard): the second read, within
    the reach that surely holds every nearest road, brings the eastern one in."""
    x0, y0, x1, y1 = gpd.read_file(SCENARIO, layer="hazards").total_bounds
    whole = pd.concat(
        [
            _road("WEST", (x0 + 0.001, y0), (x0 + 0.001, y1)),
            _road("EAST", (x1 + 0.01, y0), (x1 + 0.01, y1)),
            _road("FAR", (x1 + 2, 48.0), (x1 + 2.1, 48.0)),
        ],
        ignore_index=True,
    )
    load(db.url, whole, "roads_beyond")
    hazards, read = _report_roads(db, "roads_beyond", tmp_path)
    assert sorted(read["road_id"]) == ["EAST", "WEST"]
    from minemap.cli.helpers import reach_bbox

    first = reach_bbox(hazards, minemap.priority.DEFAULT_DISTANCES_M["roads"])
    assert first is not None and first[2] < x1 + 0.01  # EAST lies beyond the first read
    releases = gpd.read_file(SCENARIO, layer="releases")
    ranked = minemap.rank_hazards(hazards, releases, roads=read)
    pd.testing.assert_frame_equal(
        pd.DataFrame(ranked).drop(columns="geometry"),
        pd.DataFrame(minemap.rank_hazards(hazards, releases, roads=whole)).drop(columns="geometry"),
        rtol=1e-7,  # the search frame is centred on the roads read: rounding, no more
    )
    # EAST is the nearest road of some hazards: without it their distances would differ
    alone = minemap.rank_hazards(hazards, releases, roads=whole.iloc[[0]])
    assert not alone["roads_distance_m"].equals(ranked["roads_distance_m"])


def test_a_report_lists_a_table_read_near_the_hazards_as_the_rows_read(db, capsys, tmp_path):
    """The input table names what the figures used: the rows of a road table within the
    hazards' reach, with their count and hash, and says so; tables read whole say nothing."""
    import html
    import re

    roads = gpd.read_file(SCENARIO, layer="roads")
    x1 = roads.total_bounds[2]
    whole = pd.concat([roads, _road("FAR", (x1 + 2, 48.0), (x1 + 2.1, 48.0))], ignore_index=True)
    load(db.url, whole, "roads_listed")
    out = tmp_path / "report.html"
    status, _, err = run(
        ["report", "--db", db.url, "hazards", "--roads", "roads_listed", "-o", out], capsys
    )
    assert status == 0, err
    page = html.unescape(out.read_text(encoding="utf-8"))
    row = re.search(r"table 'roads_listed', rows whose box meets ([^<]*)</td>(.*?)</tr>", page)
    assert row is not None, "the roads row does not say which rows were read"
    assert "(EPSG:4326)" in row.group(1)
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", row.group(2))
    assert str(len(roads)) in cells  # the rows read, not the table's len(roads) + 1
    assert f"{db.url_without_password} table 'hazards'<" in page  # read whole: no remark


def test_a_road_table_with_nothing_near_is_read_whole_once(db, tmp_path, monkeypatch):
    """No road within the zone distance: the table is read whole (the fallback), and not
    read again within the nearest-road reach; nothing says only part of it was read."""
    from minemap.cli import helpers

    x1 = gpd.read_file(SCENARIO, layer="roads").total_bounds[2]
    load(db.url, _road("FAR", (x1 + 2, 48.0), (x1 + 2.1, 48.0)), "roads_only_far")
    boxes = []
    real = helpers._read_feature

    def counted(args, kind, option, path, box):
        boxes.append(box)
        return real(args, kind, option, path, box)

    monkeypatch.setattr(helpers, "_read_feature", counted)
    _, read = _report_roads(db, "roads_only_far", tmp_path)
    assert list(read["road_id"]) == ["FAR"] and "selection" not in read.attrs
    assert len(boxes) == 2 and boxes[0] is not None and boxes[1] is None
