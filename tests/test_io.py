"""Tests of minemap.io: reading every format, layers, column overrides, atomic writers."""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import _oracle as oracle
import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal
from shapely import LineString, Point, box

import minemap
from minemap import io as mio
from minemap._errors import (
    CRSError,
    FormatError,
    GeometryTypeError,
    InputFileError,
    MinemapError,
    OutputError,
    RepairWarning,
    SchemaError,
)

REL = oracle.REL
ABS = oracle.ABS_HA

HAZARD_GEOMS = [
    box(46.0, 39.0, 46.01, 39.01),
    box(46.005, 39.0, 46.02, 39.012),
    box(46.03, 39.0, 46.04, 39.01),
]
RELEASE_GEOMS = [box(46.0, 39.0, 46.006, 39.006), box(46.004, 39.004, 46.018, 39.008)]


def hazards_gdf() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "hazard_id": ["H1", "H2", "H3"],
            "threat_level": ["high", " Medium ", "LOW"],
            "district": ["A", "A", "B"],
        },
        geometry=HAZARD_GEOMS,
        crs=4326,
    )


def releases_gdf() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "release_id": ["R1", "R2"],
            "method": ["cleared", "reduced"],
            "release_date": ["2021-03-01", "2021-06-30"],
        },
        geometry=RELEASE_GEOMS,
        crs=4326,
    )


def write(gdf: gpd.GeoDataFrame, path: Path, **kwargs) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        pyogrio.write_dataframe(gdf, path, **kwargs)
    return path


def write_csv(gdf: gpd.GeoDataFrame, path: Path, geometry_name: str = "WKT") -> Path:
    frame = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    frame[geometry_name] = shapely.to_wkt(gdf.geometry.array)
    frame.to_csv(path, index=False)
    return path


EXPECTED = oracle.summary_of_layers(hazards_gdf(), releases_gdf())


def _check_expected(hazards, releases):
    table = minemap.land_release_summary(hazards, releases).set_index("threat_level")
    for level in ("high", "medium", "low", "total"):
        for column in ("hazard_ha", "cleared_ha", "reduced_ha", "released_ha"):
            assert table.loc[level, column] == pytest.approx(
                EXPECTED[level][column], rel=REL, abs=ABS
            ), (level, column)


# --------------------------------------------------------------------------- formats


def _write_format(fmt: str, folder: Path) -> tuple[Path, Path, dict]:
    folder.mkdir()
    hz, rl = hazards_gdf(), releases_gdf()
    kwargs: dict = {}
    if fmt == "gpkg":
        path = folder / "scenario.gpkg"
        write(hz, path, layer="hazards")
        write(rl, path, layer="releases")
        return path, path, kwargs
    if fmt == "parquet":
        hz.to_parquet(folder / "hazards.parquet")
        rl.to_parquet(folder / "releases.parquet")
        return folder / "hazards.parquet", folder / "releases.parquet", kwargs
    if fmt == "csv":
        write_csv(hz, folder / "hazards.csv")
        write_csv(rl, folder / "releases.csv")
        return folder / "hazards.csv", folder / "releases.csv", {"crs": "EPSG:4326"}
    if fmt == "shp":  # field names are cut to 10 characters
        hz = hz.rename(columns={"threat_level": "threat"})
        rl = rl.rename(columns={"release_date": "date"})
        kwargs = {"hazards": {"threat_column": "threat"}, "releases": {"date_column": "date"}}
    write(hz, folder / f"hazards.{fmt}")
    write(rl, folder / f"releases.{fmt}")
    return folder / f"hazards.{fmt}", folder / f"releases.{fmt}", kwargs


@pytest.mark.parametrize("fmt", ["gpkg", "geojson", "shp", "fgb", "parquet", "csv"])
def test_every_format_gives_the_same_hectares(tmp_path, fmt):
    hz_path, rl_path, kwargs = _write_format(fmt, tmp_path / fmt)
    hz_kw = kwargs.get("hazards", {k: v for k, v in kwargs.items() if k == "crs"})
    rl_kw = kwargs.get("releases", {k: v for k, v in kwargs.items() if k == "crs"})
    hazards = minemap.read_hazards(hz_path, **hz_kw)
    releases = minemap.read_releases(rl_path, **rl_kw)
    # FlatGeobuf's spatial index reorders features on write: compare by id
    hazards_by_id = hazards.set_index("hazard_id")
    assert sorted(hazards_by_id.index) == ["H1", "H2", "H3"]
    assert hazards_by_id.loc[["H1", "H2", "H3"], "threat_level"].tolist() == [
        "high",
        "medium",
        "low",
    ]
    dates = releases.set_index("release_id")["release_date"].dt.strftime("%Y-%m-%d")
    assert dates.loc[["R1", "R2"]].tolist() == ["2021-03-01", "2021-06-30"]
    assert hazards.crs.equals("EPSG:4326")
    assert hazards.attrs["minemap"] == "hazards" and releases.attrs["minemap"] == "releases"
    _check_expected(hazards, releases)


def test_geodataframe_input_gives_the_same_hectares():
    _check_expected(minemap.read_hazards(hazards_gdf()), minemap.read_releases(releases_gdf()))
    # and raw GeoDataFrames straight into the summary are validated the same way
    _check_expected(hazards_gdf(), releases_gdf())


def test_csv_reader_uses_its_open_options(tmp_path):
    # regression: open options were passed as open_options={...}, which pyogrio took for one
    # unknown option 'OPEN_OPTIONS' (RuntimeWarning; 'geometry' column not found; WKT kept)
    path = write_csv(hazards_gdf(), tmp_path / "hazards.csv", geometry_name="geometry")
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        out = minemap.read_hazards(path, crs="EPSG:4326")
    assert [str(w.message) for w in record] == []
    assert list(out.columns) == ["hazard_id", "threat_level", "district", "geometry"]


def test_csv_without_crs_is_refused_unless_crs_given(tmp_path):
    path = write_csv(hazards_gdf(), tmp_path / "hazards.csv")
    with pytest.raises(CRSError) as excinfo:
        minemap.read_hazards(path)
    assert isinstance(excinfo.value, ValueError)
    assert "hazards.csv" in str(excinfo.value) and "crs=" in str(excinfo.value)
    assert len(minemap.read_hazards(path, crs=4326)) == 3


def test_csv_curved_geometry_is_linearised_with_a_repair_warning(tmp_path):
    # a circle of radius 100 m (UTM 38N) as a CURVEPOLYGON; GDAL linearises it on read
    path = tmp_path / "hazards.csv"
    path.write_text(
        "hazard_id,threat_level,WKT\n"
        'C1,high,"CURVEPOLYGON(CIRCULARSTRING(500000 4400000,500100 4400100,500200 4400000,'
        '500100 4399900,500000 4400000))"\n'
        'S1,low,"POLYGON((500300 4400000,500400 4400000,500400 4400100,500300 4400000))"\n',
        encoding="utf-8",
    )
    before = path.read_bytes()
    with pytest.warns(RepairWarning, match="1 curved geometry linearised"):
        out = minemap.read_hazards(path, crs="EPSG:32638")
    assert path.read_bytes() == before
    circle = out.geometry.iloc[0]
    assert circle.geom_type == "Polygon"
    # the linearised circle's figure is its true area, and within 0.006 % of the true circle's
    # (a 4,096-gon: 4e-7 short of it); UTM's scale puts both 0.08 % above pi r² = 3.14159 ha
    area = minemap.land_release_summary(out).set_index("threat_level")["hazard_ha"]
    true_circle = Point(500_100, 4_400_000).buffer(100.0, quad_segs=1024)
    assert area["high"] == pytest.approx(oracle.area_ha(true_circle, 32638), rel=6e-5)
    assert area["high"] == pytest.approx(oracle.area_ha(circle, 32638), rel=REL)


# --------------------------------------------------------------------------- layers


def test_default_layers_named_hazards_and_releases(tmp_path):
    path = tmp_path / "scenario.gpkg"
    write(hazards_gdf(), path, layer="hazards")
    write(releases_gdf(), path, layer="releases")
    write(hazards_gdf().assign(threat_level="low"), path, layer="other")
    assert len(minemap.read_hazards(path)) == 3
    assert len(minemap.read_releases(path)) == 2
    assert minemap.read_hazards(path).attrs["source"] == "scenario.gpkg (layer 'hazards')"


def test_layer_argument_chooses_a_layer(tmp_path):
    path = tmp_path / "scenario.gpkg"
    write(hazards_gdf(), path, layer="hazards")
    write(hazards_gdf().assign(threat_level="low"), path, layer="old_hazards")
    out = minemap.read_hazards(path, layer="old_hazards")
    assert set(out["threat_level"]) == {"low"}


def test_several_layers_without_default_are_refused(tmp_path):
    path = tmp_path / "scenario.gpkg"
    write(hazards_gdf(), path, layer="zones_2021")
    write(hazards_gdf(), path, layer="zones_2022")
    with pytest.raises(SchemaError) as excinfo:
        minemap.read_hazards(path)
    text = str(excinfo.value)
    assert "scenario.gpkg" in text and "zones_2021" in text and "zones_2022" in text
    assert "layer=" in text and "CLI" not in text  # the CLI adds its spelling


def test_unknown_layer_is_refused(tmp_path):
    path = write(hazards_gdf(), tmp_path / "scenario.gpkg", layer="hazards")
    with pytest.raises(SchemaError) as excinfo:
        minemap.read_hazards(path, layer="hazard")
    text = str(excinfo.value)
    assert "'hazard'" in text and "['hazards']" in text and "layer=" in text


def test_single_layer_file_is_read_whatever_its_name(tmp_path):
    path = write(hazards_gdf(), tmp_path / "scenario.gpkg", layer="zones")
    assert len(minemap.read_hazards(path)) == 3


def test_list_layers(tmp_path):
    path = tmp_path / "scenario.gpkg"
    write(hazards_gdf(), path, layer="hazards")
    write(releases_gdf(), path, layer="releases")
    assert mio.list_layers(path) == ["hazards", "releases"]
    assert mio.list_layers(tmp_path / "missing.gpkg") == []


# --------------------------------------------------------------------------- overrides


def test_column_overrides(tmp_path):
    hz = hazards_gdf().rename(columns={"hazard_id": "code", "threat_level": "risk"})
    rl = releases_gdf().rename(
        columns={"release_id": "ref", "method": "how", "release_date": "when"}
    )
    hazards = minemap.read_hazards(
        write(hz, tmp_path / "h.geojson"), id_column="code", threat_column="risk"
    )
    releases = minemap.read_releases(
        write(rl, tmp_path / "r.geojson"), id_column="ref", method_column="how", date_column="when"
    )
    assert hazards.columns[:2].tolist() == ["hazard_id", "threat_level"]
    assert hazards["hazard_id"].tolist() == ["H1", "H2", "H3"]
    assert releases.columns[:3].tolist() == ["release_id", "method", "release_date"]
    assert releases["method"].tolist() == ["cleared", "reduced"]
    assert "code" in hazards.columns and "risk" in hazards.columns  # other columns kept
    _check_expected(hazards, releases)


def test_other_attributes_are_kept_after_canonical_columns():
    out = minemap.read_hazards(hazards_gdf())
    assert out.columns.tolist() == ["hazard_id", "threat_level", "district", "geometry"]


# --------------------------------------------------------------------------- bad files


def test_missing_file(tmp_path):
    path = tmp_path / "nowhere" / "hazards.gpkg"
    with pytest.raises(InputFileError) as excinfo:
        minemap.read_hazards(path)
    assert isinstance(excinfo.value, FileNotFoundError)
    assert isinstance(excinfo.value, MinemapError)
    assert "hazards.gpkg" in str(excinfo.value) and "check the path" in str(excinfo.value)


def test_folder_instead_of_file(tmp_path):
    with pytest.raises(InputFileError, match="is a folder"):
        minemap.read_hazards(tmp_path)


def test_malformed_geojson(tmp_path):
    path = tmp_path / "hazards.geojson"
    path.write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", '
        '"properties": {"threat_level": "high"}, "geometry": }]}',
        encoding="utf-8",
    )
    with pytest.raises(FormatError) as excinfo:
        minemap.read_hazards(path)
    assert isinstance(excinfo.value, ValueError)
    text = str(excinfo.value)
    assert "hazards.geojson" in text and "not valid GeoJSON" in text and "line 1" in text
    assert "re-export" in text


def test_truncated_geojson(tmp_path):
    path = write(hazards_gdf(), tmp_path / "hazards.geojson")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(FormatError) as excinfo:
        minemap.read_hazards(path)
    text = str(excinfo.value)
    assert "hazards.geojson" in text and "truncated" in text and "re-export" in text


def test_truncated_geopackage(tmp_path):
    path = write(hazards_gdf(), tmp_path / "hazards.gpkg")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(MinemapError) as excinfo:
        minemap.read_hazards(path)
    assert isinstance(excinfo.value, ValueError)
    assert "hazards.gpkg" in str(excinfo.value)


def test_not_a_vector_file(tmp_path):
    path = tmp_path / "hazards.fgb"
    path.write_bytes(b"\x00\x01 this is not a FlatGeobuf")
    with pytest.raises(FormatError) as excinfo:
        minemap.read_hazards(path)
    assert "hazards.fgb" in str(excinfo.value) and "GeoPackage" in str(excinfo.value)


def test_non_spatial_table_is_refused(tmp_path):
    path = tmp_path / "hazards.parquet"
    pd.DataFrame({"hazard_id": ["H1"], "threat_level": ["high"]}).to_parquet(path)
    with pytest.raises(MinemapError) as excinfo:
        minemap.read_hazards(path)
    assert "hazards.parquet" in str(excinfo.value)


def test_wrong_source_type():
    with pytest.raises(TypeError, match="file path or a GeoDataFrame"):
        minemap.read_hazards(42)


# --------------------------------------------------------------------------- inputs unchanged


def test_files_are_never_modified(tmp_path):
    hz = hazards_gdf()
    hz.loc[0, "geometry"] = shapely.Polygon(
        [(46.0, 39.0), (46.01, 39.01), (46.01, 39.0), (46.0, 39.01)]
    )  # bowtie: repaired on read
    paths = [
        write(hz, tmp_path / "hazards.gpkg", layer="hazards"),
        write(hz, tmp_path / "hazards.geojson"),
    ]
    before = {p: p.read_bytes() for p in paths}
    mtimes = {p: os.stat(p).st_mtime_ns for p in paths}
    listing = sorted(os.listdir(tmp_path))
    for path in paths:
        with pytest.warns(RepairWarning, match="The input file is unchanged"):
            minemap.read_hazards(path)
    assert {p: p.read_bytes() for p in paths} == before
    assert {p: os.stat(p).st_mtime_ns for p in paths} == mtimes
    assert sorted(os.listdir(tmp_path)) == listing


def test_geodataframe_is_never_modified():
    raw = hazards_gdf()
    keep = raw.copy(deep=True)
    out = minemap.read_hazards(raw)
    out.loc[0, "threat_level"] = "low"
    assert_geodataframe_equal(raw, keep)


def test_lat_lon_axis_order_crs_is_normalised():
    # ETRS89 (EPSG:4258) declares latitude first; geopandas data are still x = longitude
    raw = hazards_gdf().set_crs(4258, allow_override=True)
    out = minemap.read_hazards(raw)
    assert out.crs.is_geographic
    assert out.geometry.iloc[0].bounds[0] == pytest.approx(46.0, abs=1e-6)


# --------------------------------------------------------------------------- read_features


def test_read_features_kinds(tmp_path):
    roads = gpd.GeoDataFrame(
        {"name": ["a"]}, geometry=[LineString([(46, 39), (46.1, 39.1)])], crs=4326
    )
    assert mio.read_features(roads, kind="roads").attrs["minemap"] == "roads"
    points = gpd.GeoDataFrame({"name": ["p"]}, geometry=[Point(46, 39)], crs=4326)
    with pytest.raises(GeometryTypeError) as excinfo:
        mio.read_features(write(points, tmp_path / "roads.geojson"), kind="roads")
    assert "roads.geojson" in str(excinfo.value) and "'row 1'" in str(excinfo.value)
    assert len(mio.read_features(points, kind="infrastructure")) == 1
    with pytest.raises(GeometryTypeError, match="districts must be polygons.*convert the geom"):
        mio.read_features(points, kind="districts")


def test_read_features_drops_empty_with_warning():
    roads = gpd.GeoDataFrame(
        {"name": ["a", "b"]}, geometry=[LineString([(46, 39), (46.1, 39.1)]), None], crs=4326
    )
    with pytest.warns(minemap.DataWarning, match="1 empty or null"):
        out = mio.read_features(roads, kind="roads")
    assert len(out) == 1


# --------------------------------------------------------------------------- writers


def test_write_text_writes_whole_file(tmp_path):
    target = tmp_path / "out.json"
    mio.write_text(target, json.dumps({"a": 1}))
    assert json.loads(target.read_text()) == {"a": 1}
    assert os.listdir(tmp_path) == ["out.json"]


def test_write_atomic_failure_leaves_existing_file_and_no_temp(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old\n")

    def broken(tmp: Path) -> None:
        tmp.write_text("half a fi")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        mio.write_atomic(target, broken)
    assert target.read_text() == "old\n"
    assert os.listdir(tmp_path) == ["out.csv"]


def test_write_atomic_into_missing_folder(tmp_path):
    with pytest.raises(OutputError) as excinfo:
        mio.write_text(tmp_path / "nope" / "out.txt", "x")
    assert isinstance(excinfo.value, OSError) and isinstance(excinfo.value, MinemapError)
    assert "does not exist" in str(excinfo.value)


@pytest.mark.parametrize("suffix", [".gpkg", ".geojson", ".parquet", ".csv"])
def test_write_layer_round_trip(tmp_path, suffix):
    hazards = minemap.read_hazards(hazards_gdf())
    path = mio.write_layer(hazards, tmp_path / f"out{suffix}", layer="hazards")
    assert os.listdir(tmp_path) == [path.name]
    back = minemap.read_hazards(path, crs="EPSG:4326" if suffix == ".csv" else None)
    assert back["hazard_id"].tolist() == ["H1", "H2", "H3"]
    assert minemap.land_release_summary(back)["hazard_ha"].iloc[-1] == pytest.approx(
        EXPECTED["total"]["hazard_ha"], rel=REL
    )


# --------------------------------------------------------------------------- drivers


def test_files_are_opened_with_the_driver_their_extension_names(tmp_path):
    # a VRT (XML) named .geojson would make GDAL read another file (or a URL)
    real = write(hazards_gdf(), tmp_path / "real.gpkg", layer="hazards")
    vrt = tmp_path / "hazards.geojson"
    vrt.write_text(
        f'<OGRVRTDataSource><OGRVRTLayer name="hazards"><SrcDataSource>{real}'
        "</SrcDataSource></OGRVRTLayer></OGRVRTDataSource>",
        encoding="utf-8",
    )
    with pytest.raises(FormatError) as excinfo:
        minemap.read_hazards(vrt)
    message = str(excinfo.value)
    assert "hazards.geojson does not hold GeoJSON" in message and "<OGRVRT" in message
    disguised = tmp_path / "hazards.gpkg"
    write(hazards_gdf(), tmp_path / "plain.geojson")
    disguised.write_bytes((tmp_path / "plain.geojson").read_bytes())
    with pytest.raises(FormatError, match="hazards.gpkg does not hold GeoPackage"):
        minemap.read_hazards(disguised)
    # the real files still read
    assert len(minemap.read_hazards(tmp_path / "plain.geojson")) == 3


def test_white_space_is_every_character_python_calls_white_space():
    from minemap.io.readers import WHITE_SPACE

    assert set(WHITE_SPACE) == {chr(c) for c in range(0x110000) if chr(c).isspace()}


@pytest.mark.parametrize("suffix", [".parquet", ".gpkg", None])
def test_blank_ids_are_named_by_their_row_whatever_the_text_type(tmp_path, suffix):
    """Arrow-backed text (GeoParquet), text read by GDAL, and Python strings in a frame:
    ids of nothing but white space (any Unicode white space) are blank, others not."""
    ids = ["H1", " ", "\u3000\t", "H 4", "\x1f", "\u200b"]  # U+200B is no white space
    layer = gpd.GeoDataFrame(
        {"hazard_id": ids, "threat_level": "high"},
        geometry=[box(46 + k * 0.01, 39.0, 46.005 + k * 0.01, 39.005) for k in range(6)],
        crs=4326,
    )
    source: object = layer
    if suffix is not None:
        source = tmp_path / f"hazards{suffix}"
        layer.to_parquet(source) if suffix == ".parquet" else layer.to_file(source)
    with pytest.warns(
        minemap.DataWarning, match=r"3 feature\(s\) have no hazard_id \(rows '2', '3', '5'\)"
    ):
        hazards = minemap.read_hazards(source)
    assert hazards["hazard_id"].tolist() == ["H1", "row 2", "row 3", "H 4", "row 5", "\u200b"]
