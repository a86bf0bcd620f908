"""Tests of minemap.io.results: a run's tables written to a GeoPackage and to PostGIS, all or
none, with provenance, replacing only the run's own tables."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import quote

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

import minemap
from minemap._errors import DatabaseError, OutputError, SchemaError
from minemap.io import PostGIS, _results_gpkg, _results_postgis, read_hazards, read_releases
from minemap.io.postgis import read_postgis
from minemap.io.results import RUNS_TABLE, table_name, write_results

HOSTILE = ["'; DROP TABLE hazards; --", 'say "hi"', "back\\slash", "two\nlines", "tab\there"]


@pytest.fixture(scope="module")
def computed(sample_data: Path) -> dict[str, Any]:
    """The summary, zones and ranking of the sample files, and the files read."""
    hazards = read_hazards(sample_data / "hazards.geojson")
    releases = read_releases(sample_data / "releases.geojson")
    roads = minemap.read_features(sample_data / "roads.geojson", kind="roads")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", minemap.DataWarning)
        summary = minemap.land_release_summary(hazards, releases)
        zones = minemap.priority_zones(hazards, releases, roads=roads)
        ranking = minemap.rank_hazards(hazards, releases, roads=roads)
    return {
        "results": {"summary": summary, "priority_zones": zones, "ranking": ranking},
        "inputs": {
            "hazards": sample_data / "hazards.geojson",
            "releases": sample_data / "releases.geojson",
            "roads": sample_data / "roads.geojson",
        },
        "hazards": hazards,
    }


def _hostile_frame() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "note": HOSTILE,
            "value": [1.5, np.nan, 3.0, np.nan, 5.0],
            "when": pd.to_datetime(["2024-01-31", None, "2025-06-30", "2023-02-01", None]),
        },
        geometry=[shapely.box(44 + k / 100, 40, 44.005 + k / 100, 40.005) for k in range(5)],
        crs=4326,
    )


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _table_dump(path: Path, table: str) -> list[tuple[Any, ...]]:
    db = sqlite3.connect(path)
    try:
        rows = db.execute(f'SELECT * FROM "{table}" ORDER BY 1').fetchall()  # noqa: S608 - a test
        contents = db.execute(
            "SELECT description FROM gpkg_contents WHERE table_name = ?", (table,)
        ).fetchall()
    finally:
        db.close()
    return [*rows, *contents]


def _description(path: Path, table: str) -> dict[str, Any]:
    db = sqlite3.connect(path)
    try:
        (text,) = db.execute(
            "SELECT description FROM gpkg_contents WHERE table_name = ?", (table,)
        ).fetchone()
    finally:
        db.close()
    return dict(json.loads(text))


def _assert_same_figures(read: pd.DataFrame, expected: pd.DataFrame) -> None:
    columns = [c for c in expected.columns if c != "geometry"]
    got = pd.DataFrame(read[columns]).reset_index(drop=True)
    want = pd.DataFrame(expected[columns]).reset_index(drop=True)
    for column in columns:
        if pd.api.types.is_numeric_dtype(want[column]):
            np.testing.assert_allclose(
                got[column].astype(float), want[column].astype(float), rtol=1e-12, atol=0
            )
        else:
            assert got[column].astype(str).tolist() == want[column].astype(str).tolist()


# ------------------------------------------------------------------------------------------
# names
# ------------------------------------------------------------------------------------------


def test_table_name_is_identifier_safe() -> None:
    assert table_name("May 2026", "priority zones") == "may_2026_priority_zones"
    assert table_name('x"; DROP TABLE y; --', "summary") == "x_drop_table_y_summary"
    assert table_name("2026", "plan") == "r_2026_plan"
    with pytest.raises(SchemaError, match="no letter or digit"):
        table_name("';--", "summary")
    with pytest.raises(SchemaError, match="longer than 63"):
        table_name("r" * 60, "summary")


# ------------------------------------------------------------------------------------------
# GeoPackage
# ------------------------------------------------------------------------------------------


def test_gpkg_figures_read_back_equal_the_computed_ones(
    tmp_path: Path, computed: dict[str, Any], sample_data: Path
) -> None:
    target = tmp_path / "results.gpkg"
    written = write_results(
        computed["results"], target, run="monthly", inputs=computed["inputs"],
        parameters={"as_of": None, "distances_m": {"roads": 100}},
    )  # fmt: skip
    assert written.kind == "gpkg"
    assert written.tables == {
        "summary": "monthly_summary",
        "priority_zones": "monthly_priority_zones",
        "ranking": "monthly_ranking",
    }
    for result, frame in computed["results"].items():
        read = pyogrio.read_dataframe(target, layer=written.tables[result])
        assert written.rows[result] == len(frame) == len(read)
        _assert_same_figures(read, frame)
        if isinstance(frame, gpd.GeoDataFrame):
            assert read.crs == frame.crs
            assert read.geometry.geom_equals_exact(frame.geometry.reset_index(drop=True), 0).all()
    # the same figure from the files, computed again, independently of the written run
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", minemap.DataWarning)  # release outside hazards
        again = minemap.land_release_summary(
            read_hazards(sample_data / "hazards.geojson"),
            read_releases(sample_data / "releases.geojson"),
        )
    read = pyogrio.read_dataframe(target, layer="monthly_summary")
    np.testing.assert_allclose(read["remaining_ha"], again["remaining_ha"], rtol=1e-12)


def test_gpkg_provenance_on_every_table(tmp_path: Path, computed: dict[str, Any]) -> None:
    target = tmp_path / "results.gpkg"
    written = write_results(
        computed["results"], target, run="Monthly run", inputs=computed["inputs"],
        parameters={"as_of": "2025-12-31"},
    )  # fmt: skip
    runs = pyogrio.read_dataframe(target, layer=RUNS_TABLE)
    assert runs["run"].tolist() == ["monthly_run"]
    assert runs["run_name"].tolist() == ["Monthly run"]
    assert runs["minemap_version"].tolist() == [minemap.__version__]
    inputs = json.loads(runs["inputs"].iloc[0])
    for name, path in computed["inputs"].items():
        assert inputs[name]["sha256"] == _sha256(path)
        assert inputs[name]["bytes"] == path.stat().st_size
    assert json.loads(runs["parameters"].iloc[0]) == {"as_of": "2025-12-31"}
    tables = json.loads(runs["tables"].iloc[0])
    assert {r: t["table"] for r, t in tables.items()} == written.tables
    assert {r: t["rows"] for r, t in tables.items()} == written.rows
    for table in written.tables.values():
        doc = _description(target, table)
        assert doc["run"] == "monthly_run"
        assert doc["minemap_version"] == minemap.__version__
        assert doc["written_at"] == written.written_at
        assert doc["inputs"] == inputs
        assert doc["parameters"] == {"as_of": "2025-12-31"}
    summary = computed["results"]["summary"]
    doc = _description(target, "monthly_run_summary")
    assert doc["attrs"]["area_frame"] == summary.attrs["area_frame"]
    assert doc["attrs"]["released_outside_hazards_ha"] == pytest.approx(
        summary.attrs["released_outside_hazards_ha"], rel=1e-12
    )
    assert (
        _description(target, "monthly_run_ranking")["attrs"]["weights"]
        == (computed["results"]["ranking"].attrs["weights"])
    )


def test_gpkg_plain_tables_nan_timestamps_and_hostile_text(tmp_path: Path) -> None:
    frame = _hostile_frame()
    table = pd.DataFrame(frame.drop(columns="geometry"))
    target = tmp_path / "results.gpkg"
    run = "o'brien\"; DROP TABLE minemap_runs; --"
    written = write_results({"layer": frame, "table": table}, target, run=run)
    assert written.tables == {
        "layer": "o_brien_drop_table_minemap_runs_layer",
        "table": "o_brien_drop_table_minemap_runs_table",
    }
    db = sqlite3.connect(target)
    kinds = dict(db.execute("SELECT table_name, data_type FROM gpkg_contents").fetchall())
    nulls = db.execute(f'SELECT count(*) FROM "{written.tables["table"]}" WHERE value IS NULL')
    assert nulls.fetchone()[0] == int(frame["value"].isna().sum())
    db.close()
    assert kinds[written.tables["layer"]] == "features"
    assert kinds[written.tables["table"]] == "attributes"
    assert kinds[RUNS_TABLE] == "attributes"
    for name in written.tables.values():
        read = pyogrio.read_dataframe(target, layer=name)
        assert read["note"].tolist() == HOSTILE
        np.testing.assert_array_equal(read["value"].isna(), frame["value"].isna())
        np.testing.assert_allclose(read["value"].dropna(), frame["value"].dropna())
        assert pd.to_datetime(read["when"]).tolist() == frame["when"].tolist()
    assert pyogrio.read_dataframe(target, layer=RUNS_TABLE)["run_name"].tolist() == [run]


def test_gpkg_plan_gives_schedule_and_hectares_per_year(tmp_path: Path) -> None:
    from minemap.planning import Asset, Capacity, plan_clearance

    team = Asset("team", 10, {("high", "cleared"): 100, ("medium", "cleared"): 200})
    capacity = Capacity(
        250, {"team": team}, release_mix={"high": {"cleared": 1}, "medium": {"cleared": 1}}
    )
    table = pd.DataFrame(
        {"hazard_id": ["H1", "H2"], "threat_level": ["high", "medium"], "remaining_ha": [25.0, 50]}
    )
    plan = plan_clearance(table, capacity, start="2027-01-01")
    target = tmp_path / "plan.gpkg"
    written = write_results({"plan": plan}, target, run="p")
    assert set(written.tables) == {"plan", "plan_per_year"}
    schedule = pyogrio.read_dataframe(target, layer="p_plan")
    assert schedule["hazard_id"].tolist() == plan.schedule["hazard_id"].tolist()
    assert (
        pd.to_datetime(schedule["finish_date"]).tolist()
        == pd.to_datetime(plan.schedule["finish_date"]).tolist()
    )
    per_year = plan.summary["hectares_per_year"]
    assert len(pyogrio.read_dataframe(target, layer="p_plan_per_year")) == len(per_year)
    doc = _description(target, "p_plan")
    assert doc["attrs"]["summary"]["completion_date"] == plan.summary["completion_date"].isoformat()


def test_gpkg_interrupted_write_leaves_target_unchanged(
    tmp_path: Path, computed: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "results.gpkg"
    write_results(computed["results"], target, run="before")
    before = target.read_bytes()
    real = _results_gpkg._write_gpkg_table
    calls = []

    def failing(path: Path, name: str, frame: pd.DataFrame, description: str) -> None:
        calls.append(name)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real(path, name, frame, description)

    monkeypatch.setattr(_results_gpkg, "_write_gpkg_table", failing)
    with pytest.raises(OutputError, match="disk is full") as caught:
        write_results(computed["results"], target, run="before")
    assert "\n" not in str(caught.value) and str(target) in str(caught.value)
    assert len(calls) == 2
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.gpkg"]
    calls.clear()  # a new file: nothing is left where it would have been
    with pytest.raises(OutputError, match="disk is full"):
        write_results(computed["results"], tmp_path / "new.gpkg", run="fresh")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.gpkg"]


def test_gpkg_rerun_replaces_only_its_own_tables(tmp_path: Path, computed: dict[str, Any]) -> None:
    target = tmp_path / "results.gpkg"
    pyogrio.write_dataframe(computed["hazards"], target, layer="hazards", driver="GPKG")
    write_results(computed["results"], target, run="a")
    write_results(computed["results"], target, run="b")
    kept = {t: _table_dump(target, t) for t in ("hazards", "b_summary", "b_ranking")}
    first = pyogrio.read_dataframe(target, layer=RUNS_TABLE)
    only_summary = {"summary": computed["results"]["summary"]}
    written = write_results(only_summary, target, run="a", parameters={"rerun": True})
    layers = set(pyogrio.list_layers(target)[:, 0])
    assert layers == {
        "hazards", RUNS_TABLE, "a_summary", "b_summary", "b_priority_zones", "b_ranking"
    }  # fmt: skip
    for table, rows in kept.items():
        assert _table_dump(target, table) == rows
    runs = pyogrio.read_dataframe(target, layer=RUNS_TABLE).set_index("run")
    assert sorted(runs.index) == ["a", "b"]
    assert runs.loc["b"].tolist() == first.set_index("run").loc["b"].tolist()
    assert json.loads(runs.loc["a", "parameters"]) == {"rerun": True}
    assert runs.loc["a", "written_at"] == written.written_at
    # no table of the dropped result is left behind in the file's metadata
    db = sqlite3.connect(target)
    leftovers = db.execute(
        "SELECT name FROM sqlite_master WHERE name LIKE 'rtree_a_priority%' OR name LIKE "
        "'a_priority%' OR name LIKE 'a_ranking%'"
    ).fetchall()
    db.close()
    assert leftovers == []


def test_gpkg_refuses_to_overwrite_what_the_run_did_not_write(
    tmp_path: Path, computed: dict[str, Any]
) -> None:
    target = tmp_path / "results.gpkg"
    pyogrio.write_dataframe(computed["hazards"], target, layer="a_summary", driver="GPKG")
    before = target.read_bytes()
    with pytest.raises(OutputError, match="'a_summary' exists that minemap did not write"):
        write_results(computed["results"], target, run="a")
    assert target.read_bytes() == before
    write_results(computed["results"], target, run="b")
    with pytest.raises(OutputError, match="replace=True"):
        write_results(computed["results"], target, run="b", replace=False)
    with pytest.raises(OutputError, match="is also the input 'hazards'"):
        write_results(computed["results"], target, run="c", inputs={"hazards": target})


def test_gpkg_bad_targets_and_results(tmp_path: Path, computed: dict[str, Any]) -> None:
    results = computed["results"]
    with pytest.raises(OutputError, match=r"GeoPackage \(\.gpkg\)"):
        write_results(results, tmp_path / "results.geojson")
    text = tmp_path / "notes.gpkg"
    text.write_text("my notes\n")
    with pytest.raises(OutputError, match="not a GeoPackage"):
        write_results(results, text)
    assert text.read_text() == "my notes\n"
    with pytest.raises(OutputError, match="does not exist"):
        write_results(results, tmp_path / "missing" / "results.gpkg")
    with pytest.raises(SchemaError, match="non-empty mapping"):
        write_results({}, tmp_path / "results.gpkg")
    with pytest.raises(SchemaError, match="results\\['x'\\] is a list"):
        write_results({"x": [1, 2]}, tmp_path / "results.gpkg")
    with pytest.raises(SchemaError, match="both be written to 'minemap_a_b'"):
        write_results({"a b": results["summary"], "a-b": results["summary"]}, tmp_path / "r.gpkg")
    with pytest.raises(SchemaError, match="schema= is for a PostGIS target"):
        write_results(results, tmp_path / "results.gpkg", schema="results")
    assert not (tmp_path / "results.gpkg").exists()


def test_write_results_does_not_modify_inputs(tmp_path: Path, computed: dict[str, Any]) -> None:
    results = computed["results"]
    copies = {k: v.copy() for k, v in results.items()}
    attrs = {k: dict(v.attrs) for k, v in results.items()}
    write_results(results, tmp_path / "results.gpkg")
    for name, frame in results.items():
        pd.testing.assert_frame_equal(frame, copies[name])
        assert frame.attrs == attrs[name]


# ------------------------------------------------------------------------------------------
# PostGIS
# ------------------------------------------------------------------------------------------


def _psql_rows(server: Any, query: str) -> list[str]:
    from _postgis import DATABASE

    return [line for line in server.psql(query, DATABASE).splitlines() if line]


def _schema_state(server: Any, schema: str) -> dict[str, str]:
    """Each table of ``schema`` → an md5 of its rows in order (row-for-row identity)."""
    tables = _psql_rows(
        server,
        "SELECT tablename FROM pg_tables WHERE schemaname = "
        + "'"
        + schema.replace("'", "''")
        + "' ORDER BY 1",
    )
    quoted = '"' + schema.replace('"', '""') + '"'
    state = {}
    for table in tables:
        t = '"' + table.replace('"', '""') + '"'
        (digest,) = _psql_rows(
            server,
            "SELECT count(*) || ':' || "
            "coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '') "
            f"FROM {quoted}.{t} AS x",
        )
        state[table] = digest
    return state


def test_postgis_figures_read_back_equal_the_computed_ones(
    postgis: Any, computed: dict[str, Any]
) -> None:
    url = postgis.url + "?schema=figures"
    written = write_results(
        computed["results"], url, run="monthly", inputs=computed["inputs"],
        parameters={"as_of": None},
    )  # fmt: skip
    assert written.kind == "postgis"
    assert written.target == postgis.url_without_password + "?schema=figures"
    for result, frame in computed["results"].items():
        table = f"figures.{written.tables[result]}"
        if isinstance(frame, gpd.GeoDataFrame):
            read, _ = read_postgis(PostGIS(postgis.url, table=table))
            assert read.crs == frame.crs
            assert read.geometry.geom_equals_exact(frame.geometry.reset_index(drop=True), 0).all()
            kinds = _psql_rows(
                postgis,
                "SELECT type || ':' || srid FROM geometry_columns WHERE f_table_schema = "
                f"'figures' AND f_table_name = '{written.tables[result]}'",
            )
            expected = set(frame.geom_type)
            assert kinds == [
                f"{(expected.pop() if len(expected) == 1 else 'GEOMETRY').upper()}:"
                f"{frame.crs.to_epsg()}"
            ]
            indexes = _psql_rows(
                postgis,
                f"SELECT indexdef FROM pg_indexes WHERE tablename = '{written.tables[result]}'",
            )
            assert any("USING gist" in i for i in indexes)
        else:
            import psycopg

            with psycopg.connect(postgis.url) as conn:
                cur = conn.execute(f"SELECT * FROM figures.{written.tables[result]}")  # noqa: S608
                names = [d.name for d in cur.description]
                read = pd.DataFrame(cur.fetchall(), columns=names)
        assert len(read) == len(frame) == written.rows[result]
        _assert_same_figures(read, frame)
    (comment,) = _psql_rows(postgis, "SELECT obj_description('figures.monthly_summary'::regclass)")
    doc = json.loads(comment)
    assert doc["run"] == "monthly" and doc["minemap_version"] == minemap.__version__
    assert doc["inputs"]["hazards"]["sha256"] == _sha256(computed["inputs"]["hazards"])
    assert doc["attrs"]["area_frame"] == computed["results"]["summary"].attrs["area_frame"]
    (row,) = _psql_rows(
        postgis,
        "SELECT run || '|' || minemap_version || '|' || tables::text FROM figures.minemap_runs",
    )
    run, version, tables = row.split("|", 2)
    assert (run, version) == ("monthly", minemap.__version__)
    assert {r: t["rows"] for r, t in json.loads(tables).items()} == written.rows


def test_postgis_hostile_text_schema_and_run_names(postgis: Any, computed: dict[str, Any]) -> None:
    from _postgis import load

    load(postgis.url, computed["hazards"], "hazards")
    schema = 'we"ird; DROP TABLE hazards; --'
    run = "o'brien\"; DROP TABLE hazards; --"
    frame = _hostile_frame()
    written = write_results(
        {"layer": frame, "table": pd.DataFrame(frame.drop(columns="geometry"))},
        postgis.url,
        schema=schema,
        run=run,
    )
    assert _psql_rows(postgis, "SELECT count(*) FROM public.hazards") == [
        str(len(computed["hazards"]))
    ]
    read, _ = read_postgis(PostGIS(postgis.url, table=f"{schema}.{written.tables['layer']}"))
    assert read["note"].tolist() == HOSTILE
    np.testing.assert_array_equal(read["value"].isna(), frame["value"].isna())
    assert pd.to_datetime(read["when"]).tolist() == frame["when"].tolist()
    import psycopg
    from psycopg import sql

    with psycopg.connect(postgis.url) as conn:
        cur = conn.execute(
            sql.SQL("SELECT note, value FROM {} ORDER BY note").format(
                sql.Identifier(schema, written.tables["table"])
            )
        )
        rows = cur.fetchall()
        names = conn.execute(
            sql.SQL("SELECT run_name FROM {}").format(sql.Identifier(schema, RUNS_TABLE))
        ).fetchall()
    assert sorted(r[0] for r in rows) == sorted(HOSTILE)
    assert sum(r[1] is None for r in rows) == int(frame["value"].isna().sum())
    assert names == [(run,)]


def test_postgis_interrupted_write_leaves_target_unchanged(
    postgis: Any, computed: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = postgis.url + "?schema=interrupted"
    write_results(computed["results"], url, run="keep")
    write_results(computed["results"], url, run="again")
    before = _schema_state(postgis, "interrupted")
    real = _results_postgis._load_pg_table
    calls = []

    def failing(cur: Any, schema: str, name: str, frame: pd.DataFrame, comment: str) -> None:
        calls.append(name)
        if len(calls) == 2:
            cur.execute("SELECT 1/0")  # the database refuses half-way
        real(cur, schema, name, frame, comment)

    monkeypatch.setattr(_results_postgis, "_load_pg_table", failing)
    with pytest.raises(
        DatabaseError, match="writing table 'again_priority_zones' failed"
    ) as caught:
        write_results(computed["results"], url, run="again")
    message = str(caught.value)
    assert "\n" not in message and "nothing was changed" in message
    assert _schema_state(postgis, "interrupted") == before
    # a schema that did not exist is not left behind either
    calls.clear()
    with pytest.raises(DatabaseError):
        write_results(computed["results"], postgis.url + "?schema=never", run="x")
    assert _psql_rows(postgis, "SELECT count(*) FROM pg_namespace WHERE nspname = 'never'") == ["0"]


def test_postgis_rerun_replaces_only_its_own_tables(postgis: Any, computed: dict[str, Any]) -> None:
    from _postgis import load

    url = postgis.url + "?schema=rerun"
    postgis.psql("CREATE SCHEMA rerun AUTHORIZATION minemap_test;", "minemap_test")
    load(postgis.url, computed["hazards"], "rerun.user_table")
    write_results(computed["results"], url, run="a")
    write_results(computed["results"], url, run="b")
    before = _schema_state(postgis, "rerun")
    write_results({"summary": computed["results"]["summary"]}, url, run="a")
    after = _schema_state(postgis, "rerun")
    assert set(after) == set(before) - {"a_priority_zones", "a_ranking"}
    for table in ("user_table", "b_summary", "b_priority_zones", "b_ranking"):
        assert after[table] == before[table]
    assert after["a_summary"].split(":")[0] == before["a_summary"].split(":")[0]
    with pytest.raises(OutputError, match="table 'user_table' exists"):
        write_results({"table": computed["results"]["summary"]}, url, run="user")
    assert _schema_state(postgis, "rerun") == after


def test_postgis_wrong_password_is_one_line_without_the_password(
    postgis: Any, computed: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from _postgis import PASSWORD, USER, wrong_logins

    secret = "Wr0ng-'\"pass; DROP"
    for url in wrong_logins(postgis, monkeypatch, secret):
        with pytest.raises(DatabaseError) as caught:
            write_results(computed["results"], url + "?schema=denied", run="x")
        message = str(caught.value)
        assert "\n" not in message
        assert "password" in message and USER in message
        for text in (secret, quote(secret, safe=""), PASSWORD, quote(PASSWORD, safe="")):
            assert text not in message
    monkeypatch.delenv("PGPASSWORD", raising=False)
    assert _psql_rows(postgis, "SELECT count(*) FROM pg_namespace WHERE nspname = 'denied'") == [
        "0"
    ]


def test_postgis_tables_never_hold_the_password(postgis: Any, computed: dict[str, Any]) -> None:
    from _postgis import PASSWORD, load

    load(postgis.url, computed["hazards"], "hazards_src")
    source = PostGIS(postgis.url, table="hazards_src")
    written = write_results(
        computed["results"], postgis.url + "?schema=traced", run="t", inputs={"hazards": source}
    )
    dump = "\n".join(
        _psql_rows(postgis, "SELECT row_to_json(r)::text FROM traced.minemap_runs r")
        + [
            _psql_rows(postgis, f"SELECT obj_description('traced.{t}'::regclass)")[0]
            for t in written.tables.values()
        ]
    )
    assert PASSWORD not in dump and quote(PASSWORD, safe="") not in dump
    assert "pw-" not in dump
    (inputs,) = _psql_rows(postgis, "SELECT inputs::text FROM traced.minemap_runs")
    assert json.loads(inputs)["hazards"] == {
        "database": postgis.url_without_password,
        "table": "hazards_src",
        "rows": len(computed["hazards"]),
    }
    assert PASSWORD not in repr(written) and "pw-" not in written.target


def test_postgis_schema_option_and_url_must_agree(postgis: Any, computed: dict[str, Any]) -> None:
    with pytest.raises(SchemaError, match="schema 'a' and schema= says 'b'"):
        write_results(computed["results"], postgis.url + "?schema=a", schema="b")
    with pytest.raises(SchemaError, match="schema must be non-empty"):
        write_results(computed["results"], postgis.url, schema=" ")


def test_two_runs_written_to_one_geopackage_at_once_both_land(tmp_path, monkeypatch):
    import threading
    import time

    target = tmp_path / "shared.gpkg"
    table = pd.DataFrame({"threat_level": ["high"], "hazard_ha": [1.5]})
    write_results({"summary": table}, target, run="base")
    real = _results_gpkg._write_gpkg_table

    def slow(path, name, frame, description):
        real(path, name, frame, description)
        if name.startswith("slow_"):
            time.sleep(1.0)  # the other run starts meanwhile

    monkeypatch.setattr(_results_gpkg, "_write_gpkg_table", slow)
    slow_run = threading.Thread(
        target=write_results, args=({"summary": table}, target), kwargs={"run": "slow"}
    )
    slow_run.start()
    time.sleep(0.3)
    write_results({"summary": table}, target, run="fast")
    slow_run.join()
    layers = set(pyogrio.list_layers(target)[:, 0])
    assert {"base_summary", "slow_summary", "fast_summary", RUNS_TABLE} <= layers
    runs = pyogrio.read_dataframe(target, layer=RUNS_TABLE, read_geometry=False)
    assert sorted(runs["run"]) == ["base", "fast", "slow"]


@pytest.mark.parametrize("name", ["res#1.gpkg", "q?x.gpkg", "100%.gpkg"])
def test_a_geopackage_name_with_uri_characters_is_written_twice(tmp_path, name):
    table = pd.DataFrame({"threat_level": ["high"], "hazard_ha": [1.5]})
    target = tmp_path / name
    write_results({"summary": table}, target, run="a")
    write_results({"summary": table}, target, run="b")
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == [name]


@pytest.mark.parametrize("run", ["gpkg", "SQLite test", "rtree_hazards", "pg_stats"])
def test_reserved_prefixes_get_r(tmp_path, run):
    table = pd.DataFrame({"threat_level": ["high"], "hazard_ha": [1.5]})
    written = write_results({"summary": table}, tmp_path / "out.gpkg", run=run)
    assert written.tables["summary"].startswith("r_")
