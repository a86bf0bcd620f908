"""The feature and field-evidence readers on PostGIS tables: the sample scenario loaded
into a throwaway server reads as it does from its GeoPackage (tests/_postgis.py)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from _postgis import PASSWORD, load

import minemap
from minemap._errors import DatabaseError, MinemapError
from minemap.io import PostGIS, read_features
from minemap.io.evidence import read_finds, read_incidents, read_records, read_settlements

SCENARIO = minemap.sample_data() / "scenario.gpkg"
FEATURES = ("roads", "infrastructure", "residential", "districts")
EVIDENCE = {
    "incidents": read_incidents,
    "finds": read_finds,
    "records": read_records,
    "settlements": read_settlements,
}


@pytest.fixture(scope="module")
def db(postgis):
    """The server's URL, with every layer of the sample scenario loaded as a table."""
    for layer in (*FEATURES, *EVIDENCE):
        load(postgis.url, gpd.read_file(SCENARIO, layer=layer), layer)
    return postgis.url


def _same(from_db: gpd.GeoDataFrame, from_file: gpd.GeoDataFrame, key: str | None) -> None:
    """Equal rows (in key order), attributes, dtypes of numbers and dates, and geometry."""
    assert from_db.crs == from_file.crs
    assert list(from_db.columns) == list(from_file.columns)
    a, b = (f.sort_values(key) if key else f for f in (from_db, from_file))
    a, b = a.reset_index(drop=True), b.reset_index(drop=True)
    geom = a.geometry.name
    assert shapely.equals_exact(
        np.asarray(a.geometry.array, dtype=object), np.asarray(b.geometry.array, dtype=object)
    ).all()
    text = [c for c in b.columns if c != geom and pd.api.types.is_string_dtype(b[c])]
    pd.testing.assert_frame_equal(
        pd.DataFrame(a.drop(columns=geom)).astype(dict.fromkeys(text, object)),
        pd.DataFrame(b.drop(columns=geom)).astype(dict.fromkeys(text, object)),
        check_dtype=True,
    )


@pytest.mark.parametrize("kind", FEATURES)
def test_read_features_from_a_table_equals_the_file(db, kind):
    key = {"roads": "road_id", "infrastructure": "infra_id", "residential": "settlement_id"}
    from_file = read_features(SCENARIO, kind=kind, layer=kind)
    _same(read_features(db, kind=kind, table=kind), from_file, key.get(kind, "district"))
    # a PostGIS source is the same as a URL with table=
    _same(read_features(PostGIS(db, table=kind), kind=kind), from_file, key.get(kind, "district"))


@pytest.mark.parametrize("kind", sorted(EVIDENCE))
def test_evidence_readers_from_a_table_equal_the_file(db, kind):
    reader = EVIDENCE[kind]
    from_db = reader(db, table=kind)
    from_file = reader(SCENARIO, layer=kind)
    _same(from_db, from_file, f"{kind[:-1]}_id" if kind != "finds" else "find_id")
    assert from_db.attrs["minemap"] == kind
    assert PASSWORD not in from_db.attrs["source"]


def test_evidence_dates_survive_as_days(db):
    incidents = read_incidents(db, table="incidents")
    finds = read_finds(db, sql="SELECT * FROM finds")
    assert pd.api.types.is_datetime64_any_dtype(incidents["incident_date"])
    raw = gpd.read_file(SCENARIO, layer="finds")
    expected = raw.set_index("find_id")["find_date"].dt.normalize()
    got = finds.set_index("find_id")["find_date"]
    assert (got.loc[expected.index].to_numpy() == expected.to_numpy()).all()


def test_points_by_bbox_are_those_whose_box_meets_it(db):
    raw = gpd.read_file(SCENARIO, layer="infrastructure")
    x0, y0, x1, y1 = raw.total_bounds
    box = (x0, y0, (x0 + x1) / 2, (y0 + y1) / 2)
    inside = raw.geometry.intersects(shapely.box(*box))  # independent: shapely on the file
    got = read_features(db, kind="infrastructure", table="infrastructure", bbox=box)
    assert 0 < len(got) < len(raw)
    assert sorted(got["infra_id"]) == sorted(raw.loc[inside, "infra_id"])


def test_osm_like_tags_select_the_same_features(db, tmp_path):
    lines = [shapely.LineString([(46 + i / 100, 39.0), (46 + i / 100, 39.01)]) for i in range(4)]
    osm = gpd.GeoDataFrame(
        {
            "osm_id": ["1", "2", "3", "4"],
            "highway": ["primary", None, "track", "no"],
            "other_tags": ['"surface"=>"gravel"', '"railway"=>"rail"', None, None],
        },
        geometry=lines,
        crs=4326,
    )
    osm.to_file(tmp_path / "osm.gpkg", layer="lines")
    load(db, osm, "osm_lines")
    from_file = read_features(tmp_path / "osm.gpkg", kind="roads", tags="highway")
    from_db = read_features(db, kind="roads", table="osm_lines", tags="highway")
    _same(from_db, from_file, "osm_id")
    assert sorted(from_db["osm_id"]) == ["1", "3"]


def test_hostile_text_is_read_back_as_text(db):
    hostile = ["'; DROP TABLE hazards; --", 'O\'Brien "quoted"', "back\\slash", "two\nlines"]
    towns = gpd.GeoDataFrame(
        {"settlement_id": [f"S{i}" for i in range(4)], "name": hostile, "population": 1.0},
        geometry=[shapely.Point(46.0 + i / 100, 39.0) for i in range(4)],
        crs=4326,
    )
    load(db, towns, "public.hostile towns")
    read = read_settlements(db, table="public.hostile towns")
    assert read.sort_values("settlement_id")["name"].tolist() == hostile
    assert len(read_features(db, kind="roads", table="roads")) > 0  # nothing was dropped


def test_errors_name_the_table_and_the_row_never_the_password(db, monkeypatch):
    raw = gpd.read_file(SCENARIO, layer="incidents").head(3)
    raw.loc[1, "killed"] = -2
    load(db, raw, "bad_incidents")
    with pytest.raises(MinemapError) as caught:
        read_incidents(db, table="bad_incidents")
    message = str(caught.value)
    assert "'bad_incidents'" in message and raw.loc[1, "incident_id"] in message
    assert PASSWORD not in message and "\n" not in message
    with pytest.raises(DatabaseError, match="no such table") as caught:
        read_finds(db, table="find")  # the likeliest tables come first, whatever else is there
    assert "tables with a geometry column: 'finds'" in str(caught.value)
    assert PASSWORD not in str(caught.value)
    monkeypatch.setenv("PGPASSWORD", "not-it")
    wrong = db.replace("@127.0.0.1", "x@127.0.0.1")
    with pytest.raises(DatabaseError, match="cannot connect") as caught:
        read_records(wrong, table="records")
    assert PASSWORD not in str(caught.value) and "not-it" not in str(caught.value)
