"""minemap.io.postgis: hazards and releases read from a real PostGIS server (tests/_postgis.py)
equal those read from files; errors are one line and never hold a password."""

from __future__ import annotations

import re
import tracemalloc
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from _postgis import PASSWORD, load
from shapely import box

import minemap
from minemap._errors import (
    CRSError,
    DatabaseError,
    DataWarning,
    EmptyLayerError,
    RepairWarning,
    SchemaError,
)
from minemap.io import PostGIS, display_url, is_database_url, read_hazards, read_releases
from minemap.io import postgis as pg

psycopg = pytest.importorskip("psycopg")

HOSTILE = '\'; DROP TABLE hazards; -- "quoted" back\\slash\nnew line'


@pytest.fixture(scope="module")
def db(postgis, sample_data):
    """The sample scenario's hazards and releases in the database, as tables."""
    for layer in ("hazards", "releases"):
        load(postgis.url, gpd.read_file(sample_data / "scenario.gpkg", layer=layer), layer)
    return postgis


def _secret_free(text: str) -> None:
    from urllib.parse import quote

    assert PASSWORD not in text
    assert quote(PASSWORD, safe="") not in text
    assert "pw-" not in text


# ------------------------------------------------------------------------------------------
# the same figures as from files
# ------------------------------------------------------------------------------------------


def test_hazards_and_releases_equal_the_files(db, sample_data):
    gpkg = sample_data / "scenario.gpkg"
    from_db = (read_hazards(db.url, table="hazards"), read_releases(db.url, table="releases"))
    from_file = (read_hazards(gpkg), read_releases(gpkg))
    for a, b in zip(from_db, from_file, strict=True):
        # a table without a primary key has no row order: compare by id
        a, b = (x.sort_values(x.columns[0], ignore_index=True) for x in (a, b))
        pd.testing.assert_frame_equal(
            pd.DataFrame(a.drop(columns="geometry")), b.drop(columns="geometry")
        )
        assert shapely.equals_exact(a.geometry.values, b.geometry.values, tolerance=0).all()
        assert a.crs == b.crs
    with pytest.warns(DataWarning, match="outside every hazard") as said:
        pd.testing.assert_frame_equal(
            minemap.land_release_summary(*from_db), minemap.land_release_summary(*from_file)
        )
    assert len({str(w.message) for w in said}) == 1  # the same release outside, both ways


def test_rows_come_in_primary_key_order(db, sample_data):
    raw = gpd.read_file(sample_data / "scenario.gpkg", layer="releases")
    shuffled = raw.sample(frac=1.0, random_state=3).reset_index(drop=True)
    load(db.url, shuffled, "keyed_releases")
    db.psql("ALTER TABLE keyed_releases ADD PRIMARY KEY (release_id);")
    got = read_releases(db.url, table="keyed_releases")
    assert got["release_id"].tolist() == sorted(raw["release_id"])


def test_a_sqlalchemy_url_and_a_source_object_read_the_same(db):
    url = db.url.replace("postgresql://", "postgresql+psycopg://")
    a = read_hazards(url, table="public.hazards")
    b = read_hazards(PostGIS(db.url, table="hazards"))
    pd.testing.assert_frame_equal(a, b)


def test_a_query_reads_its_rows(db):
    got = read_hazards(db.url, sql="SELECT * FROM hazards WHERE threat_level = 'high'")
    assert len(got) and set(got["threat_level"]) == {"high"}
    everything = read_hazards(db.url, table="hazards")
    assert len(got) == int((everything["threat_level"] == "high").sum())


def test_a_query_runs_read_only_and_one_statement_only(db):
    def count() -> int:
        with psycopg.connect(db.url) as conn:
            return int(conn.execute("SELECT count(*) FROM hazards").fetchone()[0])

    before = count()
    with pytest.raises(DatabaseError, match="refused") as err:
        read_hazards(db.url, sql="DELETE FROM hazards RETURNING *")
    _secret_free(str(err.value))
    with pytest.raises(DatabaseError, match="refused"):
        read_hazards(db.url, sql="SELECT * FROM hazards; DROP TABLE hazards")
    assert count() == before > 0


# ------------------------------------------------------------------------------------------
# the spatial filter
# ------------------------------------------------------------------------------------------


def test_bbox_reads_the_rows_whose_box_meets_it(db, sample_data):
    raw = gpd.read_file(sample_data / "scenario.gpkg", layer="hazards")
    x0, y0, x1, y1 = raw.total_bounds
    bbox = (x0, y0, (x0 + x1) / 2, (y0 + y1) / 2)
    got = read_hazards(db.url, table="hazards", bbox=bbox)
    bounds = raw.geometry.bounds
    meets = (
        (bounds.minx <= bbox[2])
        & (bounds.maxx >= bbox[0])
        & (bounds.miny <= bbox[3])
        & (bounds.maxy >= bbox[1])
    )
    assert 0 < len(got) < len(raw)
    assert sorted(got["hazard_id"]) == sorted(raw.loc[meets, "hazard_id"])


def test_bbox_in_another_crs_is_transformed_to_the_tables(db, sample_data):
    raw = gpd.read_file(sample_data / "scenario.gpkg", layer="hazards")
    utm = raw.estimate_utm_crs()
    x0, y0, x1, y1 = raw.to_crs(utm).total_bounds
    got = read_hazards(PostGIS(db.url, table="hazards", bbox=(x0, y0, x1, y1), bbox_crs=utm))
    assert len(got) == len(raw)


def test_a_bbox_with_no_rows_says_so(db):
    with pytest.raises(EmptyLayerError, match="no row lies in the bbox"):
        read_hazards(db.url, table="hazards", bbox=(0, 0, 1, 1))


def test_a_bbox_and_a_region_that_share_no_row_say_both(db, sample_data):
    """Rows lie in the box and rows meet the region, none does both: the message names
    both conditions (it blamed the box alone)."""
    raw = gpd.read_file(sample_data / "scenario.gpkg", layer="hazards")
    x0, y0, x1, y1 = raw.total_bounds
    west = (x0, y0, x0 + (x1 - x0) / 3, y1)
    east = gpd.GeoSeries([shapely.box(x1 - (x1 - x0) / 3, y0, x1, y1)], crs=raw.crs)
    assert len(read_hazards(PostGIS(db.url, table="hazards", bbox=west)))
    assert len(read_hazards(PostGIS(db.url, table="hazards", region=east)))
    with pytest.raises(EmptyLayerError, match=r"in the bbox .* and meets the region; .* overlaps"):
        read_hazards(PostGIS(db.url, table="hazards", bbox=west, region=east))


@pytest.mark.parametrize("bbox", [(1, 2, 3), (3, 0, 1, 1), ("a", 0, 1, 1), (0, 0, np.nan, 1)])
def test_a_bad_bbox_is_one_line(db, bbox):
    with pytest.raises(SchemaError, match="bbox"):
        read_hazards(db.url, table="hazards", bbox=bbox)


def test_a_million_row_table_is_read_through_its_index_in_bounded_memory(postgis):
    """A national-size table: a bbox reads 0.25 % of it, the query plan uses the GiST
    index, and Python's peak memory stays far below what the whole table would take."""
    postgis.psql(
        "DROP TABLE IF EXISTS national; "
        "CREATE TABLE national AS SELECT 'HZ-' || i AS hazard_id, "
        "CASE i % 3 WHEN 0 THEN 'high' WHEN 1 THEN 'medium' ELSE 'low' END AS threat_level, "
        "ST_MakeEnvelope(44 + (i % 1000) * 0.004, 38 + (i / 1000) * 0.004, "
        "44.002 + (i % 1000) * 0.004, 38.002 + (i / 1000) * 0.004, 4326)"
        "::geometry(Polygon, 4326) AS geom "
        "FROM generate_series(0, 999999) AS i; "
        "CREATE INDEX ON national USING gist (geom); ANALYZE national;",
    )
    bbox = (44.0, 38.0, 44.2, 38.2)  # 50 x 50 of the 1000 x 1000 squares
    with psycopg.connect(postgis.url) as conn:
        relation = psycopg.sql.Identifier("public", "national")
        geom = pg._Geometry("geom", False, 4326)
        query, params = pg._query(lambda bound: relation, ["hazard_id", "threat_level"], geom, bbox)
        plan = "\n".join(r[0] for r in conn.execute(psycopg.sql.SQL("EXPLAIN ") + query, params))
    assert "national_geom_idx" in plan
    tracemalloc.start()
    try:
        got = read_hazards(PostGIS(postgis.url, table="national", bbox=bbox, chunk_rows=500))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(got) == 51 * 51  # squares whose box touches the bbox's edges too
    # the 1e6 rows as Python objects would take hundreds of MiB; the bbox's rows a few
    assert peak < 32 * 2**20, f"peak {peak / 2**20:.1f} MiB"


# ------------------------------------------------------------------------------------------
# credentials never shown
# ------------------------------------------------------------------------------------------


def test_a_wrong_password_in_the_url_is_one_line_without_it(db):
    wrong = db.url.replace("pw-", "pw-WRONG-")
    with pytest.raises(DatabaseError) as err:
        read_hazards(wrong, table="hazards")
    message = str(err.value)
    assert "password authentication failed" in message and "PGPASSWORD" in message
    assert "\n" not in message
    _secret_free(message)
    assert "WRONG" not in message
    assert err.value.__cause__ is None and err.value.__suppress_context__


def test_a_wrong_password_in_pgpassword_is_not_shown(db, monkeypatch):
    monkeypatch.setenv("PGPASSWORD", "pw-" + "env-secret")
    with pytest.raises(DatabaseError) as err:
        read_hazards(db.url_without_password, table="hazards")
    assert "env-secret" not in str(err.value)


def test_credentials_from_pgpassword_and_pgpass(db, monkeypatch, tmp_path):
    monkeypatch.setenv("PGPASSWORD", PASSWORD)
    assert len(read_hazards(db.url_without_password, table="hazards"))
    monkeypatch.delenv("PGPASSWORD")
    escaped = PASSWORD.replace("\\", "\\\\").replace(":", "\\:")
    passfile = tmp_path / "pgpass"
    passfile.write_text(f"127.0.0.1:{db.port}:minemap_test:minemap_test:{escaped}\n")
    passfile.chmod(0o600)
    monkeypatch.setenv("PGPASSFILE", str(passfile))
    assert len(read_hazards(db.url_without_password, table="hazards"))


def test_labels_and_reprs_hold_no_password(db):
    source = PostGIS(db.url, table="hazards")
    for text in (repr(source), source.label, display_url(db.url), str([source])):
        _secret_free(text)
    assert display_url(db.url) == db.url_without_password


def test_a_server_that_is_not_there_is_one_line(postgis):
    from urllib.parse import quote

    port = postgis.port + 1 if postgis.port < 65535 else postgis.port - 1
    url = f"postgresql://minemap_test:{quote(PASSWORD, safe='')}@127.0.0.1:{port}/minemap_test"
    with pytest.raises(DatabaseError, match="cannot connect.*server is running") as err:
        read_hazards(url, table="hazards")
    _secret_free(str(err.value))


# ------------------------------------------------------------------------------------------
# tables, columns, SRIDs
# ------------------------------------------------------------------------------------------


def test_a_missing_table_names_the_tables_there_are(db):
    with pytest.raises(
        DatabaseError, match="no such table or view; tables with a geometry column: .*'hazards'"
    ):
        read_hazards(db.url, table="hazard")


def test_no_table_and_no_query_names_the_tables(db):
    with pytest.raises(SchemaError, match="name the table.*'releases'"):
        read_hazards(db.url)


def test_table_options_are_refused_for_files(sample_data):
    with pytest.raises(SchemaError, match="table= is for a database source"):
        read_hazards(sample_data / "scenario.gpkg", table="hazards")


def test_a_column_with_no_srid_needs_a_crs(db, sample_data):
    raw = gpd.read_file(sample_data / "scenario.gpkg", layer="hazards")
    load(db.url, raw, "no_srid", srid=0)
    with pytest.raises(CRSError, match="has no SRID.*UpdateGeometrySRID.*crs="):
        read_hazards(db.url, table="no_srid")
    got = read_hazards(db.url, table="no_srid", crs=4326)
    pd.testing.assert_frame_equal(got, read_hazards(sample_data / "scenario.gpkg"))


def test_a_projected_srid_keeps_its_crs_and_area(db, sample_data, tmp_path):
    raw = gpd.read_file(sample_data / "scenario.gpkg", layer="hazards")
    utm = raw.to_crs(raw.estimate_utm_crs())
    load(db.url, utm, "hazards_utm")
    utm.to_file(tmp_path / "utm.gpkg", layer="hazards")
    got = read_hazards(db.url, table="hazards_utm")
    assert pyproj.CRS(got.crs).equals(utm.crs)
    pd.testing.assert_frame_equal(
        minemap.land_release_summary(got),
        minemap.land_release_summary(read_hazards(tmp_path / "utm.gpkg")),
    )


def test_several_geometry_columns_need_a_choice(db):
    db.psql(
        "DROP TABLE IF EXISTS two_geoms; CREATE TABLE two_geoms AS SELECT hazard_id, "
        "threat_level, geom, ST_Centroid(geom) AS centre FROM hazards;",
    )
    with pytest.raises(SchemaError, match="several geometry columns.*'geom', 'centre'"):
        read_hazards(db.url, table="two_geoms")
    got = read_hazards(PostGIS(db.url, table="two_geoms", geometry="geom"))
    assert len(got) == len(read_hazards(db.url, table="hazards"))


def test_a_geography_column_reads_as_lon_lat(db):
    db.psql(
        "DROP TABLE IF EXISTS geog; CREATE TABLE geog AS SELECT hazard_id, threat_level, "
        "geom::geography AS area FROM hazards;",
    )
    got = read_hazards(db.url, table="geog")
    assert got.crs.to_epsg() == 4326 and len(got) == len(read_hazards(db.url, table="hazards"))


def test_curved_geometries_are_linearised_with_a_warning(db):
    db.psql(
        "DROP TABLE IF EXISTS curved; CREATE TABLE curved (hazard_id text, threat_level text, "
        "geom geometry(Geometry, 4326)); INSERT INTO curved VALUES ('C1', 'high', "
        "ST_GeomFromText('CURVEPOLYGON(CIRCULARSTRING(46 40, 46.01 40.01, 46.02 40, "
        "46.01 39.99, 46 40))', 4326)), "
        "('P1', 'low', ST_MakeEnvelope(46.1, 40, 46.11, 40.01, 4326));",
    )
    with pytest.warns(RepairWarning, match="1 curved geometry linearised"):
        got = read_hazards(db.url, table="curved")
    assert got.geom_type.isin(["Polygon", "MultiPolygon"]).all()
    circle = got.set_index("hazard_id").geometry["C1"]
    assert len(shapely.get_coordinates(circle)) > 20


def test_hostile_text_and_identifiers_are_data(db):
    frame = gpd.GeoDataFrame(
        {"hazard id; --": [HOSTILE, "H2"], "threat_level": ["high", "low"]},
        geometry=[box(46.0, 40.0, 46.01, 40.01), box(46.1, 40.0, 46.11, 40.01)],
        crs=4326,
    )
    table = 'odd"; DROP TABLE hazards; --'
    load(db.url, frame, f"public.{table}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the id with a newline is warned about as text
        got = read_hazards(PostGIS(db.url, table=f"public.{table}"), id_column="hazard id; --")
    assert got["hazard_id"].tolist() == [HOSTILE, "H2"]
    with psycopg.connect(db.url) as conn:
        assert conn.execute("SELECT count(*) FROM hazards").fetchone()[0] > 0


def test_is_database_url():
    assert is_database_url("postgres://h/db") and is_database_url("POSTGRESQL+psycopg2://h/d")
    assert not is_database_url("postgresql.gpkg") and not is_database_url(42)


def test_a_source_needs_a_table_or_a_query_not_both():
    with pytest.raises(SchemaError, match="one of the two"):
        PostGIS("postgresql://h/db")
    with pytest.raises(SchemaError, match="one of the two"):
        PostGIS("postgresql://h/db", table="t", sql="SELECT 1")
    with pytest.raises(DatabaseError, match="postgresql://"):
        PostGIS("hazards.gpkg", table="t")


def test_a_region_reads_the_rows_meeting_it(db, sample_data):
    raw = gpd.read_file(sample_data / "scenario.gpkg", layer="hazards")
    districts = gpd.read_file(sample_data / "scenario.gpkg", layer="districts")
    one = districts.iloc[[0]].to_crs(raw.estimate_utm_crs())  # given in another CRS
    got = read_hazards(PostGIS(db.url, table="hazards", region=one))
    meets = raw.intersects(districts.geometry.iloc[0])
    assert 0 < len(got) < len(raw)
    assert sorted(got["hazard_id"]) == sorted(raw.loc[meets, "hazard_id"])


@pytest.mark.parametrize(
    ("region", "message"),
    [
        (box(0, 0, 1, 1), "GeoDataFrame or GeoSeries"),
        (gpd.GeoSeries([box(0, 0, 1, 1)]), "no CRS"),
        (gpd.GeoSeries([shapely.Point(0, 0)], crs=4326), "polygons only"),
    ],
)
def test_a_bad_region_is_one_line(region, message):
    with pytest.raises((SchemaError, CRSError), match=message):
        PostGIS("postgresql://h/db", table="t", region=region)


def test_a_schema_in_the_url_holds_unqualified_tables(db, sample_data):
    db.psql("CREATE SCHEMA IF NOT EXISTS survey;")
    load(db.url, gpd.read_file(sample_data / "scenario.gpkg", layer="hazards"), "survey.zones")
    got = read_hazards(db.url + "?schema=survey", table="zones")
    assert len(got) == len(read_hazards(db.url, table="hazards"))
    # a search path without PostGIS's schema (public) still reads
    from urllib.parse import quote

    path = db.url + "?options=" + quote("-csearch_path=survey", safe="")
    assert len(read_hazards(path, table="zones")) == len(got)


def test_server_errors_give_the_servers_own_words(db):
    with pytest.raises(DatabaseError, match='relation "hazardz" does not exist') as err:
        read_hazards(db.url, sql="SELECT * FROM hazardz")
    assert "^" not in str(err.value) and "LINE" not in str(err.value)
    with pytest.raises(DatabaseError, match="syntax error"):  # not a query
        read_hazards(db.url, sql="DELETE FROM hazards RETURNING *")
    db.psql("CREATE SEQUENCE IF NOT EXISTS counter;")
    with pytest.raises(DatabaseError, match="read-only transaction"):  # a query that writes
        read_hazards(db.url, sql="SELECT *, nextval('counter') AS n FROM hazards")


def _exists(db, table: str) -> bool:
    with psycopg.connect(db.url) as conn:
        return conn.execute("SELECT to_regclass(%s)", (table,)).fetchone()[0] is not None


@pytest.mark.parametrize("bbox", [None, (60.0, 40.0, 70.0, 50.0)])
def test_a_query_cannot_break_out_into_statements_of_its_own(db, bbox):
    db.psql("CREATE TABLE IF NOT EXISTS victim (x int);")
    escape = "SELECT * FROM hazards) q; COMMIT; DROP TABLE victim; SELECT * FROM (SELECT 1"
    with pytest.raises(DatabaseError, match="refused"):
        read_hazards(db.url, sql=escape, bbox=bbox)
    assert _exists(db, "victim")
    with pytest.raises(DatabaseError, match="refused"):
        read_hazards(db.url, sql="SELECT * FROM hazards; CREATE TABLE pwned AS SELECT 1")
    assert not _exists(db, "pwned")


@pytest.mark.parametrize("bbox", [None, (60.0, 40.0, 70.0, 50.0)])
def test_a_query_keeps_its_percent_signs_and_trailing_comment(db, bbox):
    everything = read_hazards(db.url, table="hazards")
    got = read_hazards(
        db.url, sql="SELECT * FROM hazards WHERE hazard_id LIKE 'HZ-%' -- all of them\n;", bbox=bbox
    )
    assert len(got) == len(everything)


def test_a_query_with_no_rows_says_so(db):
    with pytest.raises(EmptyLayerError):
        read_hazards(db.url, sql="SELECT * FROM hazards WHERE false")


def test_the_no_srid_fix_is_sql_that_works(db, sample_data):
    load(db.url, gpd.read_file(sample_data / "scenario.gpkg", layer="hazards"), "fixme", srid=0)
    with pytest.raises(CRSError) as err:
        read_hazards(db.url, table="fixme")
    fix = re.search(r"\((SELECT UpdateGeometrySRID\([^)]*\))", str(err.value)).group(1)
    db.psql(fix + ";")
    assert read_hazards(db.url, table="fixme").crs.to_epsg() == 4326


@pytest.mark.parametrize(
    "bbox", [(60.0, 47.9, 72.0, 48.0), (-179.0, -89.0, 179.0, 89.0), (-179.9, -90.0, 179.9, 90.0)]
)
def test_a_geography_column_meets_the_same_bbox_as_geometry(db, bbox):
    db.psql(
        "CREATE TABLE IF NOT EXISTS geog_box AS SELECT hazard_id, threat_level, "
        "geom::geography AS area FROM hazards;"
    )
    a = read_hazards(db.url, table="hazards", bbox=bbox)
    b = read_hazards(db.url, table="geog_box", bbox=bbox)
    assert sorted(a["hazard_id"]) == sorted(b["hazard_id"])


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://analyst:S3cret/x@127.0.0.1:1/minemap_test",
        "postgresql://analyst:Tr0ub4dor@horse@127.0.0.1:5432/minemap_test",
        "postgresql://127.0.0.1:5432/?dbname=user%3Danalyst%20password%3DS3cretPW",
    ],
)
def test_a_url_libpq_would_misread_is_refused_without_its_password(url):
    with pytest.raises(DatabaseError, match="cannot be read; .*percent-encoded") as err:
        PostGIS(url, table="hazards")
    for secret in ("S3cret", "Tr0ub4dor", "horse", "S3cretPW"):
        assert secret not in str(err.value)


def test_a_short_password_is_hidden_whole_not_guessed_from_garbled_words(monkeypatch):
    monkeypatch.setenv("PGPASSWORD", "test")
    said = pg.scrub(
        'password authentication failed for user "minemap_test" (test)', "postgresql://h/d"
    )
    assert said == 'password authentication failed for user "minemap_test" (***)'


def test_quoted_schema_and_table_names_with_dots(db, sample_data):
    load(db.url, gpd.read_file(sample_data / "scenario.gpkg", layer="hazards"), "tmp_xy")
    db.psql(
        'CREATE SCHEMA IF NOT EXISTS "My Schema"; ALTER TABLE tmp_xy SET SCHEMA "My Schema"; '
        'ALTER TABLE "My Schema".tmp_xy RENAME TO "x.y";'
    )
    got = read_hazards(db.url, table='"My Schema"."x.y"')
    assert len(got) == len(read_hazards(db.url, table="hazards"))
    with pytest.raises(SchemaError, match="not a table name"):
        read_hazards(db.url, table="a.b.c")


def test_a_label_names_the_schema_a_url_chooses():
    """Two tables of the same name in different schemas never read as one in a report."""
    chosen = PostGIS(
        "postgresql://analyst:pw@db.example.org/imsma?schema=survey%202026", table="hazards"
    )
    assert (
        chosen.label
        == "postgresql://analyst@db.example.org/imsma table 'hazards' in schema 'survey 2026'"
    )
    named = PostGIS(
        "postgresql://analyst@db.example.org/imsma?schema=survey", table="public.hazards"
    )
    assert named.label == "postgresql://analyst@db.example.org/imsma table 'public.hazards'"
