"""Hostile input: readers open only documented formats with their own driver, fetch nothing,
drop no row in silence, read legacy encodings, and answer bad files with one line."""

from __future__ import annotations

import builtins
import http.server
import json
import sqlite3
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
from shapely import box

import minemap
from minemap._errors import FormatError, InputFileError, MinemapError
from minemap.io import _guard

SQUARE = box(46.0, 39.0, 46.01, 39.01)


def _hazards(**extra: list) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"hazard_id": ["H1"], "threat_level": ["high"], **extra}, geometry=[SQUARE], crs=4326
    )


def _feature(geometry: dict | None = None) -> dict:
    return {
        "type": "Feature",
        "properties": {"hazard_id": "H1", "threat_level": "high"},
        "geometry": geometry or json.loads(shapely.to_geojson(SQUARE)),
    }


class _Recorder(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's spelling
        self.server.requests.append(self.path)  # type: ignore[attr-defined]
        body = (
            b'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563]],'
            b'PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]]'
        )
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_HEAD = do_GET

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[http.server.ThreadingHTTPServer]:
    """A loopback HTTP server that records every request it receives."""
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    srv.requests = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def _url(server: http.server.ThreadingHTTPServer, name: str) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}/{name}"


def _geojson(folder: Path, name: str, doc: dict) -> Path:
    path = folder / name
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def _hostile_files(folder: Path, server: http.server.ThreadingHTTPServer) -> dict[str, Path]:
    """Files whose contents point GDAL at the loopback server, one way each."""
    u = lambda name: _url(server, name)  # noqa: E731
    files = {
        "geojson crs link": _geojson(
            folder,
            "link.geojson",
            {
                "type": "FeatureCollection",
                "features": [_feature()],
                "crs": {"type": "link", "properties": {"href": u("link"), "type": "ogcwkt"}},
            },
        ),
        "geojson crs url": _geojson(
            folder,
            "url.geojson",
            {
                "type": "FeatureCollection",
                "features": [_feature()],
                "crs": {"type": "url", "properties": {"url": u("url")}},
            },
        ),
        "geojson geometry crs": _geojson(
            folder,
            "geomcrs.geojson",
            {
                "type": "FeatureCollection",
                "features": [
                    _feature(
                        {
                            **json.loads(shapely.to_geojson(SQUARE)),
                            "crs": {"type": "link", "properties": {"href": u("geometry")}},
                        }
                    )
                ],
            },
        ),
        "geojson streamed algorithm": _geojson(
            folder,
            "gdalg.geojson",
            {
                "type": "gdal_streamed_alg",
                "command_line": f"gdal vector pipeline ! read /vsicurl/{u('gdalg')} ! write "
                "--of stream streamed_dataset",
            },
        ),
        "json-fg crs": _geojson(
            folder,
            "jsonfg.json",
            {
                "type": "FeatureCollection",
                "conformsTo": ["[ogc-json-fg-1-0.2:core]"],
                "coordRefSys": u("jsonfg"),
                "features": [_feature()],
            },
        ),
    }
    escaped = folder / "escaped.geojson"
    escaped.write_text(
        '{"type": "FeatureCollection", "\\u0063RS": {"type": "L\\u0069nk", "properties": '
        f'{{"href": "{u("escaped")}"}}}}, "features": [{json.dumps(_feature())}]}}',
        encoding="utf-8",
    )
    files["geojson crs escaped and upper case"] = escaped
    # a GeoPackage view that reads a raster over HTTP through GDAL's SQL function
    pixel = folder / "pixel.gpkg"
    _hazards().to_file(pixel, layer="real")
    with sqlite3.connect(pixel) as con:
        con.execute(
            "CREATE VIEW hazards AS SELECT fid, geom, hazard_id, threat_level, "
            f"gdal_get_pixel_value('/vsicurl/{u('pixel.tif')}', 1, 'pixel', 0, 0) "
            "AS v FROM real"
        )
        con.execute(
            "INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id) "
            "VALUES ('hazards', 'features', 'hazards', 4326)"
        )
        con.execute(
            "INSERT INTO gpkg_geometry_columns VALUES ('hazards', 'geom', 'POLYGON', 4326, 0, 0)"
        )
    files["geopackage view calling gdal_get_pixel_value"] = pixel
    srs = folder / "srs.gpkg"
    _hazards().to_file(srs, layer="hazards")
    with sqlite3.connect(srs) as con:
        con.execute(
            "INSERT INTO gpkg_spatial_ref_sys VALUES ('x', 99999, 'X', 99999, ?, NULL)",
            (u("gpkg_srs"),),
        )
        con.execute("UPDATE gpkg_geometry_columns SET srs_id = 99999")
        con.execute("UPDATE gpkg_contents SET srs_id = 99999")
    files["geopackage srs definition"] = srs
    shp = folder / "prj.shp"
    _hazards().rename(columns={"threat_level": "threat"}).to_file(shp)
    shp.with_suffix(".prj").write_text(u("prj"))
    files["shapefile .prj"] = shp
    csv = folder / "wkt.csv"
    csv.write_text(f"hazard_id,threat_level,WKT\nH1,high,/vsicurl/{u('csv')}\n")
    csv.with_suffix(".prj").write_text(u("csv_prj"))
    files["csv /vsicurl/ wkt and .prj"] = csv
    osm = '<node id="1" lat="39" lon="46"><tag k="amenity" v="school"/></node></osm>'
    entity = folder / "entity.osm"
    entity.write_text(
        f'<?xml version="1.0"?>\n<!DOCTYPE osm [<!ENTITY x SYSTEM "{u("xxe")}">]>'
        f'\n<osm version="0.6">{osm}'.replace("school", "&x;")
    )
    files["osm external entity"] = entity
    gml = folder / "gml.osm"
    gml.write_text(
        f'<?xml version="1.0"?>\n<!-- <osm --><wfs:FeatureCollection xmlns:wfs='
        '"http://www.opengis.net/wfs" xmlns:gml="http://www.opengis.net/gml" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        f'xsi:schemaLocation="http://x {u("schema")}"><gml:featureMember><a><b>1'
        "</b></a></gml:featureMember></wfs:FeatureCollection>"
    )
    files["gml named .osm"] = gml
    return files


def _read(path: Path) -> object:
    if path.suffix == ".osm":
        return minemap.read_features(path, kind="infrastructure")
    return minemap.read_hazards(path, crs=4326 if path.suffix == ".csv" else None)


def test_no_request_leaves_the_machine_whatever_the_file_says(tmp_path, server, monkeypatch):
    # even when the environment allows SQL functions to open other datasets
    monkeypatch.setenv("OGR_SQLITE_ALLOW_EXTERNAL_ACCESS", "YES")
    for what, path in _hostile_files(tmp_path, server).items():
        before = len(server.requests)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # GDAL's own, not the subject
                _read(path)
        except MinemapError as exc:
            assert path.name in str(exc) and "\n" not in str(exc), what
        assert server.requests[before:] == [], f"{what}: {server.requests[before:]}"


def test_the_control_files_do_reach_the_server_without_minemap(tmp_path, server):
    # proof that the hostile files are hostile: GDAL alone fetches from the server
    files = _hostile_files(tmp_path, server)
    before = len(server.requests)
    for what in ("geojson crs link", "geojson streamed algorithm"):
        try:
            pyogrio.read_dataframe(files[what])
        except Exception:  # noqa: BLE001, S110 - failing after the fetch is fine here
            pass
    assert len(server.requests) > before


@pytest.mark.parametrize(
    "what",
    [
        "geojson crs link",
        "geojson crs url",
        "geojson geometry crs",
        "geojson crs escaped and upper case",
    ],
)
def test_geojson_crs_links_are_refused_in_one_line(tmp_path, server, what):
    path = _hostile_files(tmp_path, server)[what]
    with pytest.raises(FormatError, match=f"{path.name}: its \"crs\" member is a 'link|url'"):
        minemap.read_hazards(path)


def test_geojson_crs_name_is_still_read(tmp_path):
    path = _geojson(
        tmp_path,
        "utm.geojson",
        {
            "type": "FeatureCollection",
            "features": [_feature()],
            "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
        },
    )
    assert len(minemap.read_hazards(path)) == 1


def test_an_attribute_named_crs_is_not_a_crs(tmp_path):
    feature = _feature()
    feature["properties"]["crs"] = "EPSG:32638"
    path = _geojson(tmp_path, "attr.geojson", {"type": "FeatureCollection", "features": [feature]})
    assert minemap.read_hazards(path)["crs"].tolist() == ["EPSG:32638"]


def test_other_json_drivers_never_open_a_geojson_file(tmp_path, server):
    path = _hostile_files(tmp_path, server)["geojson streamed algorithm"]
    with pytest.raises(FormatError, match="gdalg.geojson cannot be read"):
        minemap.read_hazards(path)


@pytest.mark.parametrize(
    "source",
    [
        "/vsicurl/http://127.0.0.1:1/h.geojson",
        "https://example.org/h.geojson",
        "zip://h.zip!h.shp",
        "/vsizip/h.zip/h.shp",
        "/vsistdin/",
    ],
)
def test_urls_and_virtual_paths_are_refused(source):
    with pytest.raises(InputFileError, match="reads local files only"):
        minemap.read_hazards(source)


@pytest.mark.parametrize("suffix", [".vrt", ".kml", ".gml", ".sqlite", ".zip", ".txt", ""])
def test_only_documented_formats_are_read(tmp_path, suffix):
    path = tmp_path / f"hazards{suffix}"
    _hazards().to_file(tmp_path / "h.geojson")
    path.write_bytes((tmp_path / "h.geojson").read_bytes())
    with pytest.raises(FormatError, match=f"hazards{suffix}: minemap does not read"):
        minemap.read_hazards(path)


def test_a_bang_in_a_folder_name_reads_the_right_file_or_is_refused(tmp_path):
    folder = tmp_path / "a!b"
    folder.mkdir()
    _hazards().to_file(tmp_path / "h.geojson")
    _hazards().rename(columns={"threat_level": "threat"}).to_file(tmp_path / "h.shp")
    for part in tmp_path.glob("h.*"):
        part.rename(folder / part.name)
    assert len(minemap.read_hazards(folder / "h.geojson")) == 1  # GeoJSON: prefix
    with pytest.raises(InputFileError, match="rename the file or folder"):
        minemap.read_hazards(folder / "h.shp", threat_column="threat")


def test_reading_restores_gdal_options(tmp_path):
    _hazards().to_file(tmp_path / "h.gpkg")
    pyogrio.set_gdal_config_options({"OGR_GEOJSON_MAX_OBJ_SIZE": "7"})
    try:
        minemap.read_hazards(tmp_path / "h.gpkg")
        assert str(pyogrio.get_gdal_config_option("OGR_GEOJSON_MAX_OBJ_SIZE")) == "7"
        assert pyogrio.get_gdal_config_option("OGR_SQLITE_ALLOW_EXTERNAL_ACCESS") is None
    finally:
        pyogrio.set_gdal_config_options({"OGR_GEOJSON_MAX_OBJ_SIZE": None})


# ------------------------------------------------------------------------------------------
# no row dropped in silence
# ------------------------------------------------------------------------------------------


def _big_circle(n: int) -> shapely.Polygon:
    angle = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return shapely.Polygon(np.c_[46 + 0.05 * np.cos(angle), 39 + 0.05 * np.sin(angle)])


def test_a_csv_row_with_wkt_over_10_mb_is_read(tmp_path):
    circle = _big_circle(420_000)
    wkt = circle.wkt
    assert len(wkt) > 10_000_000
    path = tmp_path / "long.csv"
    path.write_text(
        f'hazard_id,threat_level,WKT\nH0,low,"{box(46, 39, 46.001, 39.001).wkt}"\n'
        f'H1,high,"{wkt}"\nH2,low,"{box(46.2, 39, 46.201, 39.001).wkt}"\n'
    )
    hazards = minemap.read_hazards(path, crs=4326)
    assert hazards["hazard_id"].tolist() == ["H0", "H1", "H2"]
    summary = minemap.land_release_summary(hazards)
    high = float(summary.loc[summary["threat_level"] == "high", "hazard_ha"].iloc[0])
    assert high > 7_000


def test_a_csv_row_gdal_cannot_read_is_named(tmp_path, monkeypatch):
    path = tmp_path / "h.csv"
    path.write_text(f'hazard_id,threat_level,WKT\nH0,low,"{SQUARE.wkt}"\nH1,high,"{SQUARE.wkt}"\n')
    real = pyogrio.read_dataframe

    def drops_last_row(*args: object, **kwargs: object) -> object:
        return real(*args, **kwargs).iloc[:1]

    monkeypatch.setattr(pyogrio, "read_dataframe", drops_last_row)
    with pytest.raises(FormatError, match=r"h.csv: row 2 .* has 2 rows but only 1 were read"):
        minemap.read_hazards(path, crs=4326)


def test_a_csv_row_with_unreadable_wkt_is_named(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text(
        f'hazard_id,threat_level,WKT\nH0,low,"{SQUARE.wkt}"\nH1,high,"POLYGON((46 39, 46.1 39"\n'
    )
    with pytest.raises(FormatError, match=r"h.csv: column 'WKT' .*\(rows '2'"):
        minemap.read_hazards(path, crs=4326)


def test_geojson_feature_above_gdal_max_object_size_is_read(tmp_path):
    # GDAL refuses a feature above OGR_GEOJSON_MAX_OBJ_SIZE (200 MB by default); minemap
    # lifts the limit while reading, whatever it was set to
    path = _geojson(
        tmp_path,
        "big.geojson",
        {
            "type": "FeatureCollection",
            "features": [_feature(json.loads(shapely.to_geojson(_big_circle(200_000))))],
        },
    )
    assert path.stat().st_size > 2_000_000
    pyogrio.set_gdal_config_options({"OGR_GEOJSON_MAX_OBJ_SIZE": "1"})
    try:
        assert len(minemap.read_hazards(path)) == 1
    finally:
        pyogrio.set_gdal_config_options({"OGR_GEOJSON_MAX_OBJ_SIZE": None})


# ------------------------------------------------------------------------------------------
# legacy text encodings
# ------------------------------------------------------------------------------------------

NAMES = ["Cañada", "Zürich"]


def _latin1_shapefile(folder: Path, cpg: str | None = None) -> Path:
    frame = gpd.GeoDataFrame(
        {"hazard_id": ["H1", "H2"], "threat_lev": ["high", "low"], "name": NAMES},
        geometry=[SQUARE, box(46.1, 39, 46.11, 39.01)],
        crs=4326,
    )
    path = folder / "old.shp"
    frame.to_file(path)  # UTF-8, then made ISO-8859-1 in place (fields are space-padded)
    dbf = path.with_suffix(".dbf")
    data = dbf.read_bytes()
    for name in NAMES:
        old = name.encode("utf-8")
        data = data.replace(old, name.encode("latin-1").ljust(len(old)))
    dbf.write_bytes(data)
    path.with_suffix(".cpg").unlink(missing_ok=True)
    if cpg is not None:
        path.with_suffix(".cpg").write_text(cpg)
    return path


def _latin1_geojson(folder: Path) -> Path:
    frame = gpd.GeoDataFrame(
        {"hazard_id": ["H1", "H2"], "threat_level": ["high", "low"], "name": NAMES},
        geometry=[SQUARE, box(46.1, 39, 46.11, 39.01)],
        crs=4326,
    )
    path = folder / "old.geojson"
    path.write_bytes(frame.to_json(ensure_ascii=False).encode("latin-1"))
    return path


def test_utf8_shapefile_without_cpg_is_read_as_utf8(tmp_path):
    frame = _hazards(name=["Gəncə"]).rename(columns={"threat_level": "threat"})
    frame.to_file(tmp_path / "new.shp")
    (tmp_path / "new.cpg").unlink()
    hazards = minemap.read_hazards(tmp_path / "new.shp", threat_column="threat")
    assert hazards["name"].tolist() == ["Gəncə"]


def test_latin1_shapefile_without_cpg_is_read_as_iso_8859_1(tmp_path):
    hazards = minemap.read_hazards(_latin1_shapefile(tmp_path), threat_column="threat_lev")
    assert hazards["name"].tolist() == NAMES
    by = minemap.land_release_summary(hazards, by="name")
    assert set(NAMES) <= set(by["name"].dropna())


@pytest.mark.parametrize("cpg", ["UTF-8", "1252", "LATIN1"])
def test_shapefile_encoding_overrides_its_cpg(tmp_path, cpg):
    path = _latin1_shapefile(tmp_path, cpg=cpg)
    hazards = minemap.read_hazards(path, threat_column="threat_lev", encoding="latin-1")
    assert hazards["name"].tolist() == NAMES


def test_text_that_is_not_utf8_in_a_geopackage_names_the_column_and_row(tmp_path):
    path = tmp_path / "bad.gpkg"
    _hazards(name=["x"]).to_file(path, layer="hazards", SPATIAL_INDEX="NO")
    with sqlite3.connect(path) as con:
        con.execute("UPDATE hazards SET name = CAST(x'43616ef1616461' AS TEXT)")
    with pytest.raises(
        FormatError,
        match=r"bad.gpkg \(layer 'hazards'\)|bad.gpkg: column "
        r"'name' holds text that is not UTF-8 \(row 1\)",
    ):
        minemap.read_hazards(path)


def test_latin1_geojson_is_one_line_naming_the_fix(tmp_path):
    path = _latin1_geojson(tmp_path)
    with pytest.raises(FormatError) as info:
        minemap.read_hazards(path)
    message = str(info.value)
    assert message.startswith("old.geojson is not UTF-8") and "encoding='latin-1'" in message
    assert "\n" not in message


@pytest.mark.parametrize("encoding", ["latin-1", "ISO-8859-1", "cp1252"])
def test_latin1_geojson_with_encoding(tmp_path, encoding):
    hazards = minemap.read_hazards(_latin1_geojson(tmp_path), encoding=encoding)
    assert hazards["name"].tolist() == NAMES


def test_latin1_csv_with_encoding(tmp_path):
    path = tmp_path / "old.csv"
    path.write_bytes(
        f'hazard_id,threat_level,name,WKT\nH1,high,Cañada,"{SQUARE.wkt}"\n'.encode("latin-1")
    )
    hazards = minemap.read_hazards(path, crs=4326, encoding="latin-1")
    assert hazards["name"].tolist() == ["Cañada"]


def test_read_features_and_releases_take_encoding(tmp_path):
    path = _latin1_geojson(tmp_path)
    roads = minemap.read_features(path, kind="districts", encoding="latin-1")
    assert roads["name"].tolist() == NAMES
    releases = gpd.GeoDataFrame(
        {
            "release_id": ["R1"],
            "method": ["cleared"],
            "release_date": ["2022-01-01"],
            "name": ["Cañada"],
        },
        geometry=[SQUARE],
        crs=4326,
    )
    old = tmp_path / "rel.geojson"
    old.write_bytes(releases.to_json(ensure_ascii=False).encode("latin-1"))
    assert minemap.read_releases(old, encoding="latin-1")["name"].tolist() == ["Cañada"]


def test_unknown_encoding_is_refused(tmp_path):
    with pytest.raises(FormatError, match="unknown text encoding 'klingon'"):
        minemap.read_hazards(_latin1_geojson(tmp_path), encoding="klingon")


# ------------------------------------------------------------------------------------------
# no traceback for input
# ------------------------------------------------------------------------------------------


def test_geojson_nested_2000_levels_is_one_line(tmp_path):
    path = tmp_path / "deep.geojson"
    path.write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", '
        '"properties": {"x": ' + "[" * 2000 + "]" * 2000 + '}, "geometry": '
        '{"type": "Point", "coordinates": [46, 39]}}]}'
    )
    with pytest.raises(FormatError, match="deep.geojson is nested too deeply"):
        minemap.read_hazards(path)


def test_unreadable_file_names_the_file_and_the_fix(tmp_path, monkeypatch):
    path = tmp_path / "locked.gpkg"
    _hazards().to_file(path)
    real = builtins.open

    def refuse(file: object, *args: object, **kwargs: object) -> object:
        if str(file) == str(path):
            raise PermissionError(13, "Permission denied", str(file))
        return real(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", refuse)
    with pytest.raises(InputFileError, match="locked.gpkg: permission denied.*read access"):
        minemap.read_hazards(path)


def test_folder_named_like_a_geopackage(tmp_path):
    (tmp_path / "h.gpkg").mkdir()
    with pytest.raises(InputFileError, match="h.gpkg is a folder"):
        minemap.read_hazards(tmp_path / "h.gpkg")


def test_osm_xml_whose_root_is_not_osm_is_refused(tmp_path, server):
    path = _hostile_files(tmp_path, server)["gml named .osm"]
    with pytest.raises(FormatError, match="gml.osm does not hold OpenStreetMap XML"):
        minemap.read_features(path, kind="infrastructure")


def test_guard_lists_the_documented_formats():
    assert set(_guard.DRIVERS.values()) == {
        "GPKG",
        "GeoJSON",
        "ESRI Shapefile",
        "FlatGeobuf",
        "Parquet",
        "CSV",
        "OSM",
    }
