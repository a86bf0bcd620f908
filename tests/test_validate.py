"""Tests of validation and one-time repair on read (minemap._validate via the readers).

One test per bad input: each checks the exception class (a MinemapError subclass and the
matching builtin) and that the message names the file, the feature id(s) and the fix.
Repairs are checked for one RepairWarning that counts rows and area change, and repaired
areas are checked against the geodesic oracle.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import _oracle as oracle
import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal
from shapely import LineString, MultiPolygon, Point, Polygon, box

import minemap
from minemap import _validate
from minemap._errors import (
    CoordinateError,
    CRSError,
    DataWarning,
    DuplicateIdWarning,
    EmptyLayerError,
    GeometryTypeError,
    MinemapError,
    RepairError,
    RepairWarning,
    SchemaError,
)

REL = oracle.REL
X0, Y0 = 46.0, 39.0
D = 0.01  # ~1 km at 39°N


def _square(i: int = 0, size: float = D) -> Polygon:
    return box(X0 + 2 * i * D, Y0, X0 + 2 * i * D + size, Y0 + size)


def hazards_gdf(geoms, *, levels=None, ids=None, crs=4326, **extra) -> gpd.GeoDataFrame:
    n = len(geoms)
    data = {
        "hazard_id": ids or [f"H{i + 1}" for i in range(n)],
        "threat_level": levels or ["high"] * n,
        **extra,
    }
    return gpd.GeoDataFrame(data, geometry=list(geoms), crs=crs)


def releases_gdf(geoms, *, methods=None, dates=None, ids=None, crs=4326, **extra):
    n = len(geoms)
    data = {
        "release_id": ids or [f"R{i + 1}" for i in range(n)],
        "method": methods or ["cleared"] * n,
        "release_date": dates or ["2022-01-01"] * n,
        **extra,
    }
    return gpd.GeoDataFrame(data, geometry=list(geoms), crs=crs)


def write(gdf: gpd.GeoDataFrame, path: Path, **kwargs) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        pyogrio.write_dataframe(gdf, path, **kwargs)
    return path


def _assert_error(excinfo, builtin, *fragments):
    exc = excinfo.value
    assert isinstance(exc, MinemapError)
    assert isinstance(exc, builtin)
    text = str(exc)
    for fragment in fragments:
        assert fragment in text, f"{fragment!r} not in {text!r}"


# --------------------------------------------------------------------------- CRS


def test_geodataframe_without_crs_is_refused():
    raw = hazards_gdf([_square()], crs=None)
    with pytest.raises(CRSError) as excinfo:
        minemap.read_hazards(raw)
    _assert_error(
        excinfo, ValueError, "GeoDataFrame", "no coordinate reference system", "crs='EPSG:4326'"
    )


def test_a_layer_in_metres_without_crs_is_not_told_to_use_degrees():
    import shapely

    raw = hazards_gdf([shapely.box(500_000, 4_400_000, 501_000, 4_401_000)], crs=None)
    with pytest.raises(CRSError) as excinfo:
        minemap.read_hazards(raw)
    message = str(excinfo.value)
    assert "crs='EPSG:32638'" in message and "they look like metres" in message
    assert "EPSG:4326" not in message


def test_an_unknown_word_is_mapped_by_the_user_not_by_a_guess():
    raw = hazards_gdf([_square()])
    raw["threat_level"] = ["Zone jaune"]
    with pytest.raises(SchemaError) as excinfo:
        minemap.read_hazards(raw)
    assert "level_map={'Zone jaune': '<high|medium|low>'}" in str(excinfo.value)


def test_geodataframe_without_crs_accepted_with_crs_argument():
    raw = hazards_gdf([_square()], crs=None)
    out = minemap.read_hazards(raw, crs="EPSG:4326")
    assert out.crs.equals("EPSG:4326")
    assert raw.crs is None  # input not modified


def test_shapefile_without_prj_is_refused(tmp_path):
    path = write(
        hazards_gdf([_square()]).rename(columns={"threat_level": "threat"}),
        tmp_path / "hazards.shp",
    )
    path.with_suffix(".prj").unlink()
    with pytest.raises(CRSError) as excinfo:
        minemap.read_hazards(path, threat_column="threat")
    _assert_error(
        excinfo, ValueError, "hazards.shp", "no coordinate reference system", "crs=", ".prj"
    )
    out = minemap.read_hazards(path, threat_column="threat", crs="EPSG:4326")
    assert minemap.land_release_summary(out)["hazard_ha"].iloc[-1] == pytest.approx(
        oracle.geod_area_ha(_square()), rel=REL
    )


def test_unknown_crs_string_is_refused():
    with pytest.raises(CRSError) as excinfo:
        minemap.read_hazards(hazards_gdf([_square()], crs=None), crs="EPSG:not-a-code")
    _assert_error(excinfo, ValueError, "GeoDataFrame", "EPSG:not-a-code", "EPSG:32638")


def test_crs_argument_applies_only_to_layers_without_crs():
    raw = hazards_gdf([box(500_000, 4_400_000, 501_000, 4_401_000)], crs=32639)
    out = minemap.read_hazards(raw, crs="EPSG:32638")
    assert out.crs.equals("EPSG:32639")


# --------------------------------------------------------------------------- coordinates


def test_projected_metres_labelled_as_lonlat_are_refused(tmp_path):
    raw = hazards_gdf([_square(), box(500_000, 4_400_000, 501_000, 4_401_000)])
    path = write(raw, tmp_path / "hazards.geojson")
    with pytest.raises(CoordinateError) as excinfo:
        minemap.read_hazards(path)
    _assert_error(
        excinfo, ValueError, "hazards.geojson", "'H2'", "projected metres", "crs='EPSG:32638'"
    )
    assert "'H1'" not in str(excinfo.value)


def test_swapped_latitude_and_longitude_are_refused(tmp_path):
    # a place at 60°N 135°E written as (lat, lon): y = 135 is no latitude
    raw = hazards_gdf([box(60.0, 135.0, 60.01, 135.01)], ids=["far-east"])
    path = write(raw, tmp_path / "hazards.geojson")
    with pytest.raises(CoordinateError) as excinfo:
        minemap.read_hazards(path)
    _assert_error(
        excinfo, ValueError, "hazards.geojson", "'far-east'", "swapped", "x must be longitude"
    )


def test_projected_layer_far_outside_its_crs_area_is_refused():
    # UTM 38N coordinates labelled as UTM 38N but 40,000 km east: nonsense
    raw = hazards_gdf([box(4e7, 4.4e6, 4e7 + 1000, 4.401e6)], crs=32638, ids=["east"])
    with pytest.raises(CoordinateError) as excinfo:
        minemap.read_hazards(raw)
    _assert_error(excinfo, ValueError, "GeoDataFrame", "'east'", "crs=")


def _nan_polygon() -> Polygon:
    with np.errstate(invalid="ignore"):
        return Polygon([(X0, Y0), (np.nan, Y0), (X0, Y0 + D)])


def _inf_polygon() -> Polygon:
    with np.errstate(invalid="ignore"):
        return Polygon([(X0, Y0), (np.inf, Y0), (X0, Y0 + D)])


@pytest.mark.parametrize("bad", [_nan_polygon, _inf_polygon], ids=["nan", "inf"])
def test_nan_and_infinite_coordinates_are_refused(bad):
    raw = hazards_gdf([_square(), bad()])
    with pytest.raises(CoordinateError) as excinfo:
        minemap.read_hazards(raw)
    _assert_error(
        excinfo,
        ValueError,
        "GeoDataFrame",
        "'H2'",
        "NaN or infinite",
        "fix or delete those vertices",
    )


# shapely itself warns when it decodes NaN coordinates from the file
@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_nan_coordinates_in_a_file_are_refused(tmp_path):
    path = write(hazards_gdf([_square(), _nan_polygon()]), tmp_path / "hazards.gpkg")
    with pytest.raises(CoordinateError) as excinfo:
        minemap.read_hazards(path)
    _assert_error(excinfo, ValueError, "hazards.gpkg", "'H2'", "NaN or infinite")


# --------------------------------------------------------------------------- empty layers


def test_empty_layer_is_refused(tmp_path):
    path = write(
        hazards_gdf([_square()]).iloc[:0],
        tmp_path / "hazards.gpkg",
        layer="hazards",
        geometry_type="Polygon",
    )
    with pytest.raises(EmptyLayerError) as excinfo:
        minemap.read_hazards(path)
    _assert_error(excinfo, ValueError, "hazards.gpkg", "no features", "right file and layer")


def test_empty_geodataframe_is_refused():
    with pytest.raises(EmptyLayerError) as excinfo:
        minemap.read_releases(releases_gdf([]))
    _assert_error(excinfo, ValueError, "GeoDataFrame", "no features")


def test_layer_with_only_empty_geometries_is_refused():
    raw = hazards_gdf([Polygon(), None, MultiPolygon()])
    with pytest.raises(EmptyLayerError) as excinfo, pytest.warns(RepairWarning):
        minemap.read_hazards(raw)
    _assert_error(excinfo, ValueError, "GeoDataFrame", "after dropping empty geometries")


def test_layer_with_only_collapsed_polygons_is_refused():
    flat = Polygon([(X0, Y0), (X0 + D, Y0), (X0 + D, Y0), (X0, Y0)])  # zero-area shell
    with pytest.raises(EmptyLayerError) as excinfo, pytest.warns(RepairWarning):
        minemap.read_hazards(hazards_gdf([flat]))
    _assert_error(excinfo, ValueError, "after dropping empty geometries")


# --------------------------------------------------------------------------- columns


def test_missing_threat_column_lists_existing_columns(tmp_path):
    raw = hazards_gdf([_square()], level_name=["high"]).drop(columns="threat_level")
    path = write(raw, tmp_path / "hazards.geojson")
    with pytest.raises(SchemaError) as excinfo:
        minemap.read_hazards(path)
    _assert_error(
        excinfo,
        ValueError,
        "hazards.geojson",
        "'threat_level'",
        "['hazard_id', 'level_name']",
        "threat_column=",
    )


@pytest.mark.parametrize(
    "column,option", [("method", "method_column"), ("release_date", "date_column")]
)
def test_missing_release_column_lists_existing_columns(tmp_path, column, option):
    path = write(releases_gdf([_square()]).drop(columns=column), tmp_path / "releases.geojson")
    with pytest.raises(SchemaError) as excinfo:
        minemap.read_releases(path)
    others = [c for c in ("release_id", "method", "release_date") if c != column]
    _assert_error(excinfo, ValueError, "releases.geojson", repr(column), str(others), f"{option}=")


def test_unknown_threat_level_lists_allowed_values(tmp_path):
    raw = hazards_gdf([_square(0), _square(1), _square(2)], levels=["high", "severe", "Critical "])
    path = write(raw, tmp_path / "hazards.geojson")
    with pytest.raises(SchemaError) as excinfo:
        minemap.read_hazards(path)
    _assert_error(
        excinfo,
        ValueError,
        "hazards.geojson",
        "'severe'",
        "'H2'",
        "'H3'",
        "high, medium, low",
        "threat_column=",
    )
    assert "'H1'" not in str(excinfo.value)


def test_missing_threat_level_value_is_refused():
    raw = hazards_gdf([_square(0), _square(1)], levels=["high", None])
    with pytest.raises(SchemaError) as excinfo:
        minemap.read_hazards(raw)
    _assert_error(excinfo, ValueError, "<missing>", "'H2'", "high, medium, low")


def test_unknown_method_lists_allowed_values(tmp_path):
    raw = releases_gdf([_square(0), _square(1)], methods=["cleared", "demined"])
    path = write(raw, tmp_path / "releases.geojson")
    with pytest.raises(SchemaError) as excinfo:
        minemap.read_releases(path)
    _assert_error(
        excinfo,
        ValueError,
        "releases.geojson",
        "'demined'",
        "'R2'",
        "cleared, reduced, cancelled",
        "method_column=",
    )


def test_threat_level_and_method_case_and_spaces_are_ignored():
    hz = minemap.read_hazards(
        hazards_gdf([_square(0), _square(1), _square(2)], levels=[" High ", "MEDIUM", "low\t"])
    )
    assert hz["threat_level"].tolist() == ["high", "medium", "low"]
    rl = minemap.read_releases(
        releases_gdf(
            [_square(0), _square(1), _square(2)], methods=["Cleared", " REDUCED", "cancelled "]
        )
    )
    assert rl["method"].tolist() == ["cleared", "reduced", "cancelled"]


def test_too_many_ids_are_abbreviated():
    raw = hazards_gdf([_square(i) for i in range(8)], levels=["bad"] * 8)
    with pytest.raises(SchemaError, match=r"'H5' and 3 more"):
        minemap.read_hazards(raw)


# --------------------------------------------------------------------------- geometry types


def test_points_and_lines_in_a_polygon_layer_are_refused(tmp_path):
    raw = hazards_gdf([_square(), Point(X0, Y0), LineString([(X0, Y0), (X0 + D, Y0 + D)])])
    path = write(raw, tmp_path / "hazards.gpkg", layer="hazards", geometry_type="Unknown")
    with pytest.raises(GeometryTypeError) as excinfo:
        minemap.read_hazards(path)
    _assert_error(
        excinfo,
        ValueError,
        "hazards.gpkg",
        "1 points",
        "1 lines",
        "'H2'",
        "'H3'",
        "Polygon or MultiPolygon",
        "buffer points and lines",
    )


def test_geometry_collection_of_polygons_is_accepted_as_a_repair():
    gc = shapely.GeometryCollection([_square(0), _square(1)])
    with pytest.warns(RepairWarning, match="1 geometry collection"):
        out = minemap.read_hazards(hazards_gdf([gc]))
    assert out.geometry.iloc[0].geom_type == "MultiPolygon"


# --------------------------------------------------------------------------- dates


def test_unparseable_date_is_refused(tmp_path):
    raw = releases_gdf([_square(0), _square(1)], dates=["2022-01-01", "next spring"])
    path = write(raw, tmp_path / "releases.geojson")
    with pytest.raises(SchemaError) as excinfo:
        minemap.read_releases(path)
    _assert_error(
        excinfo,
        ValueError,
        "releases.geojson",
        "'R2'",
        "'next spring'",
        "YYYY-MM-DD",
        "date_column=",
    )


def test_missing_date_is_refused(tmp_path):
    raw = releases_gdf([_square(0), _square(1)], dates=["2022-01-01", None])
    path = write(raw, tmp_path / "releases.geojson")
    with pytest.raises(SchemaError) as excinfo:
        minemap.read_releases(path)
    _assert_error(excinfo, ValueError, "releases.geojson", "'R2'", "missing", "YYYY-MM-DD")


@pytest.mark.parametrize("value", ["0001-01-01", "1899-12-31"])
def test_release_dates_before_1900_are_refused(tmp_path, value):
    raw = releases_gdf([_square(0), _square(1)], dates=["2022-01-01", value])
    path = write(raw, tmp_path / "releases.geojson")
    with pytest.raises(SchemaError) as excinfo:
        minemap.read_releases(path)
    _assert_error(excinfo, ValueError, "releases.geojson", "'R2'", f"'{value}'", "before 1900")


def test_dates_are_parsed_to_days():
    raw = releases_gdf(
        [_square(i) for i in range(3)],
        dates=["2022-01-05", "2022-02-03T17:45:00", "2022-03-04 08:00"],
    )
    out = minemap.read_releases(raw)
    assert out["release_date"].dtype == "datetime64[ns]"
    assert [d.date().isoformat() for d in out["release_date"]] == [
        "2022-01-05",
        "2022-02-03",
        "2022-03-04",
    ]


@pytest.mark.parametrize("text", ["03/04/2022", "2022", "4 March 2022"])
def test_ambiguous_or_partial_dates_are_refused_not_guessed(text):
    raw = releases_gdf([_square(0), _square(1)], dates=["2022-01-05", text])
    with pytest.raises(SchemaError) as excinfo:
        minemap.read_releases(raw)
    _assert_error(excinfo, ValueError, "'R2'", text, "YYYY-MM-DD")


def test_datetime_column_with_timezone_is_accepted():
    dates = pd.to_datetime(["2022-01-05 10:00"]).tz_localize("UTC")
    out = minemap.read_releases(releases_gdf([_square()], dates=list(dates)))
    assert out["release_date"].iloc[0] == pd.Timestamp("2022-01-05")


def test_dates_mixing_timezone_offsets_are_parsed():
    # regression: pandas raised a bare ValueError ("Mixed timezones detected")
    raw = releases_gdf([_square(0), _square(1)], dates=["2022-01-01", "2022-03-04T10:00:00+05:00"])
    out = minemap.read_releases(raw)
    assert out["release_date"].tolist() == [pd.Timestamp("2022-01-01"), pd.Timestamp("2022-03-04")]


def test_release_date_with_offset_keeps_its_calendar_day():
    # regression: the date was converted to UTC before the day was taken, so
    # '2022-01-05T02:00:00+04:00' (5 January in Baku) became 4 January
    raw = releases_gdf(
        [_square(0), _square(1)], dates=["2022-01-05T02:00:00+04:00", "2022-01-05T23:30:00-03:00"]
    )
    out = minemap.read_releases(raw)
    assert out["release_date"].tolist() == [pd.Timestamp("2022-01-05")] * 2
    table = minemap.land_release_summary(
        hazards_gdf([_square(0), _square(1)]), out, as_of="2022-01-04"
    )
    assert table["released_ha"].iloc[-1] == 0.0


# --------------------------------------------------------------------------- ids


def test_duplicate_ids_warn(tmp_path):
    raw = hazards_gdf([_square(0), _square(1), _square(2)], ids=["A", "A", "B"])
    path = write(raw, tmp_path / "hazards.geojson")
    with pytest.warns(DuplicateIdWarning, match=r"hazards.geojson.*'A'.*own id"):
        out = minemap.read_hazards(path)
    assert len(out) == 3


def test_missing_id_column_warns_and_numbers_rows():
    raw = hazards_gdf([_square(0), _square(1)]).drop(columns="hazard_id")
    with pytest.warns(DataWarning, match="no 'hazard_id' column"):
        out = minemap.read_hazards(raw)
    assert out["hazard_id"].tolist() == ["row 1", "row 2"]


def test_missing_id_values_warn():
    raw = hazards_gdf([_square(0), _square(1)], ids=["A", None])
    with pytest.warns(DataWarning, match="have no hazard_id"):
        out = minemap.read_hazards(raw)
    assert out["hazard_id"].tolist() == ["A", "row 2"]


def test_blank_id_values_from_a_csv_are_missing_ids(tmp_path):
    path = tmp_path / "incidents.csv"
    path.write_text(
        "incident_id,incident_date,killed,injured,lon,lat\n"
        ",2021-01-01,1,0,45,40\n  ,2021-01-02,0,1,45.1,40.1\nI3,2021-01-03,0,0,45.2,40.2\n",
        encoding="utf-8",
    )
    with pytest.warns(DataWarning, match=r"2 feature\(s\) have no incident_id \(rows '1', '2'\)"):
        out = minemap.read_incidents(path, crs="EPSG:4326")
    assert out["incident_id"].tolist() == ["row 1", "row 2", "I3"]


def test_ids_in_messages_use_the_id_column_override():
    raw = hazards_gdf([_square(0), _square(1)], levels=["high", "bad"], code=["X1", "X2"])
    with pytest.raises(SchemaError, match="'X2'"):
        minemap.read_hazards(raw, id_column="code")


def test_missing_id_column_override_is_refused():
    with pytest.raises(SchemaError) as excinfo:
        minemap.read_hazards(hazards_gdf([_square()]), id_column="code")
    _assert_error(excinfo, ValueError, "'code'", "id_column=")


# --------------------------------------------------------------------------- repairs


def _repair_warning(record) -> str:
    repairs = [w for w in record if issubclass(w.category, RepairWarning)]
    assert len(repairs) == 1, [str(w.message) for w in record]
    return str(repairs[0].message)


def _hazard_ha(hazards: gpd.GeoDataFrame) -> float:
    return float(minemap.land_release_summary(hazards)["hazard_ha"].iloc[-1])


def test_bowtie_keeps_both_lobes():
    bowtie = Polygon([(X0, Y0), (X0 + D, Y0 + D), (X0 + D, Y0), (X0, Y0 + D)])
    lobes = MultiPolygon(
        [
            Polygon([(X0, Y0), (X0 + D / 2, Y0 + D / 2), (X0, Y0 + D)]),
            Polygon([(X0 + D, Y0), (X0 + D / 2, Y0 + D / 2), (X0 + D, Y0 + D)]),
        ]
    )
    with pytest.warns(RepairWarning) as record:
        out = minemap.read_hazards(hazards_gdf([bowtie, _square(3)], ids=["bow", "ok"]))
    text = _repair_warning(record)
    assert "1 invalid polygon(s) made valid (ids 'bow')" in text
    assert "+0.0000 ha (+0.000%)" in text
    assert out.geometry.iloc[0].is_valid
    area = minemap.area_ha(out.geometry.iloc[[0]])[0]
    assert area == pytest.approx(oracle.geod_area_ha(lobes), rel=REL)


def test_hole_outside_shell_is_kept_as_its_own_place():
    shell = _square(0)
    far_hole = box(X0 + 3 * D, Y0, X0 + 3.5 * D, Y0 + 0.5 * D)
    bad = Polygon(shell.exterior.coords, [far_hole.exterior.coords])
    assert not bad.is_valid
    with pytest.warns(RepairWarning) as record:
        out = minemap.read_hazards(hazards_gdf([bad]))
    assert "1 invalid polygon(s) made valid" in _repair_warning(record)
    assert _hazard_ha(out) == pytest.approx(
        oracle.geod_area_ha(shell) + oracle.geod_area_ha(far_hole), rel=REL
    )


def test_z_coordinates_are_dropped():
    z = Polygon([(X0, Y0, 5.0), (X0 + D, Y0, 6.0), (X0 + D, Y0 + D, 7.0), (X0, Y0 + D, 8.0)])
    with pytest.warns(RepairWarning) as record:
        out = minemap.read_hazards(hazards_gdf([z, _square(2)]))
    assert "Z values dropped from 1 feature(s)" in _repair_warning(record)
    assert not out.has_z.any()
    assert _hazard_ha(out) == pytest.approx(
        oracle.geod_area_ha(shapely.force_2d(z)) + oracle.geod_area_ha(_square(2)), rel=REL
    )


def test_empty_and_null_geometries_are_dropped_and_counted():
    raw = hazards_gdf([_square(0), None, Polygon(), _square(1)], ids=["A", "B", "C", "D"])
    with pytest.warns(RepairWarning) as record:
        out = minemap.read_hazards(raw)
    assert "2 empty or null geometries dropped (ids 'B', 'C')" in _repair_warning(record)
    assert out["hazard_id"].tolist() == ["A", "D"]


def test_collapsed_polygon_is_dropped_and_counted():
    flat = Polygon([(X0, Y0), (X0 + D, Y0), (X0 + D, Y0), (X0, Y0)])
    with pytest.warns(RepairWarning) as record:
        out = minemap.read_hazards(hazards_gdf([_square(0), flat], ids=["A", "flat"]))
    assert "1 feature(s) with no area left dropped (ids 'flat')" in _repair_warning(record)
    assert out["hazard_id"].tolist() == ["A"]


def test_several_repairs_give_one_warning_with_all_counts():
    bowtie = Polygon([(X0, Y0), (X0 + D, Y0 + D), (X0 + D, Y0), (X0, Y0 + D)])
    z = Polygon([(X0 + 4 * D, Y0, 1.0), (X0 + 5 * D, Y0, 1.0), (X0 + 5 * D, Y0 + D, 1.0)])
    raw = hazards_gdf([bowtie, z, None, _square(4)])
    with pytest.warns(RepairWarning) as record:
        minemap.read_hazards(raw)
    text = _repair_warning(record)
    for part in (
        "1 invalid polygon(s)",
        "Z values dropped from 1",
        "1 empty or null geometry",
        "ha (",
        "The input file is unchanged",
    ):
        assert part in text


def _hole_across_shell() -> Polygon:
    # the hole pokes out of the shell: the rings enclose the shell plus the part of the hole
    # outside it (1.0 x side²), make_valid keeps shell minus hole (0.7 x side²): -30 %
    shell = [(X0, Y0), (X0 + D, Y0), (X0 + D, Y0 + D), (X0, Y0 + D)]
    hole = [
        (X0 + 0.5 * D, Y0 + 0.2 * D),
        (X0 + 1.5 * D, Y0 + 0.2 * D),
        (X0 + 1.5 * D, Y0 + 0.8 * D),
        (X0 + 0.5 * D, Y0 + 0.8 * D),
    ]
    return Polygon(shell, [hole])


def test_repair_changing_area_by_more_than_one_percent_is_refused(tmp_path):
    path = write(
        hazards_gdf([_square(3), _hole_across_shell()], ids=["ok", "poke"]),
        tmp_path / "hazards.gpkg",
    )
    with pytest.raises(RepairError) as excinfo:
        minemap.read_hazards(path)
    _assert_error(
        excinfo,
        ValueError,
        "hazards.gpkg",
        "'poke'",
        "1%",
        "allow_area_change=True",
        "fix those rings",
    )
    assert "'ok'" not in str(excinfo.value)
    before, after = map(float, re.findall(r"([\d.]+) ha", str(excinfo.value))[:2])
    assert after / before == pytest.approx(0.7, rel=1e-3)


def test_repair_changing_area_accepted_with_allow_area_change():
    with pytest.warns(RepairWarning) as record:
        out = minemap.read_hazards(hazards_gdf([_hole_across_shell()]), allow_area_change=True)
    text = _repair_warning(record)
    pct = float(re.search(r"\(([-+][\d.]+)%\)", text).group(1))
    assert pct == pytest.approx(-30.0, abs=0.1)
    assert out.geometry.iloc[0].is_valid


def test_repair_error_threshold_via_enclosed_area(monkeypatch):
    # the threshold itself, independent of which shapes GEOS repairs differently: pretend
    # the rings of a bowtie enclose 2 % more than the repaired polygon covers
    real = _validate.enclosed_area
    monkeypatch.setattr(_validate, "enclosed_area", lambda g: real(g) * 1.02)
    bowtie = Polygon([(X0, Y0), (X0 + D, Y0 + D), (X0 + D, Y0), (X0, Y0 + D)])
    with pytest.raises(RepairError, match="allow_area_change=True"):
        minemap.read_hazards(hazards_gdf([bowtie]))
    monkeypatch.setattr(_validate, "enclosed_area", lambda g: real(g) * 1.005)
    with pytest.warns(RepairWarning):
        minemap.read_hazards(hazards_gdf([bowtie]))


@pytest.mark.parametrize(("factor", "refused"), [(1.0105, True), (1.0095, False)])
def test_repair_threshold_is_one_percent_not_more(monkeypatch, factor, refused):
    # pins the README's "more than 1 %" itself: 1.04 % is refused, 0.94 % is repaired (a
    # threshold of 1.5 % passed the test above, whose 2 % is refused either way)
    real = _validate.enclosed_area
    monkeypatch.setattr(_validate, "enclosed_area", lambda g: real(g) * factor)
    bowtie = Polygon([(X0, Y0), (X0 + D, Y0 + D), (X0 + D, Y0), (X0, Y0 + D)])
    if refused:
        with pytest.raises(RepairError, match="more than 1%"):
            minemap.read_hazards(hazards_gdf([bowtie]))
    else:
        with pytest.warns(RepairWarning, match="1 invalid polygon"):
            minemap.read_hazards(hazards_gdf([bowtie]))


def test_multipolygon_island_overlapping_a_hole_is_repaired_by_union():
    # regression: enclosed_area cut one part's hole out of another part's shell, so this
    # "enclosed" too little and the union repair was refused with RepairError
    donut = Polygon(
        box(X0, Y0, X0 + D, Y0 + D).exterior.coords,
        [box(X0 + 0.2 * D, Y0 + 0.2 * D, X0 + 0.8 * D, Y0 + 0.8 * D).exterior.coords],
    )
    island = box(X0 + 0.3 * D, Y0 + 0.3 * D, X0 + 0.81 * D, Y0 + 0.7 * D)  # pokes 1 % out
    multi = MultiPolygon([donut, island])
    assert not multi.is_valid
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        out = minemap.read_hazards(hazards_gdf([multi]))
    assert "1 invalid polygon(s) made valid" in _repair_warning(record)
    assert _hazard_ha(out) == pytest.approx(
        oracle.geod_area_ha(shapely.union(donut, island)), rel=REL
    )


def test_enclosed_area_counts_each_place_once():
    bowtie = Polygon([(0, 0), (2, 2), (2, 0), (0, 2)])
    assert _validate.enclosed_area(bowtie) == pytest.approx(2.0)
    overlapping = MultiPolygon([box(0, 0, 2, 2), box(1, 1, 3, 3)])
    assert _validate.enclosed_area(overlapping) == pytest.approx(7.0)
    donut = Polygon(box(0, 0, 4, 4).exterior.coords, [box(1, 1, 2, 2).exterior.coords])
    assert _validate.enclosed_area(donut) == pytest.approx(15.0)
    # a part's hole is cut from that part only: an island in it is a place again
    island = box(1.2, 1.2, 1.8, 1.8)
    assert _validate.enclosed_area(MultiPolygon([donut, island])) == pytest.approx(15.36)
    # a hole poking out of its shell: the part outside the shell is enclosed too
    poke = Polygon(box(0, 0, 4, 4).exterior.coords, [box(3, 1, 5, 2).exterior.coords])
    assert _validate.enclosed_area(poke) == pytest.approx(16.0)
    assert _validate.enclosed_area(Polygon()) == 0.0


def test_self_touching_ring_round_a_hole_is_a_hole_as_arcgis_writes_it():
    """A shell that touches itself to go round a hole the other way (valid in ArcGIS)."""
    ring = [
        (0, 0),
        (0, 4),
        (4, 4),
        (4, 0),
        (0, 0),  # shell, clockwise
        (1, 1),
        (3, 1),
        (3, 3),
        (1, 3),
        (1, 1),
        (0, 0),
    ]  # hole, anticlockwise
    arcgis = Polygon(ring)
    assert not arcgis.is_valid
    assert _validate.enclosed_area(arcgis) == pytest.approx(12.0)
    # the same loop wound the same way round twice encloses the inner square twice: filled
    twice = Polygon(
        [(0, 0), (0, 4), (4, 4), (4, 0), (0, 0), (1, 1), (1, 3), (3, 3), (3, 1), (1, 1), (0, 0)]
    )
    assert _validate.enclosed_area(twice) == pytest.approx(16.0)


def test_arcgis_self_touching_hole_is_repaired_without_complaint():
    x, y, d = X0, Y0, D
    ring = [
        (x, y),
        (x, y + 4 * d),
        (x + 4 * d, y + 4 * d),
        (x + 4 * d, y),
        (x, y),
        (x + d, y + d),
        (x + 3 * d, y + d),
        (x + 3 * d, y + 3 * d),
        (x + d, y + 3 * d),
        (x + d, y + d),
        (x, y),
    ]
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        out = minemap.read_hazards(hazards_gdf([Polygon(ring)]))
    assert "made valid" in _repair_warning(record)
    expected = Polygon(ring[:5], [ring[5:10]])
    assert _hazard_ha(out) == pytest.approx(oracle.geod_area_ha(expected), rel=REL)


def test_inputs_are_never_modified():
    bowtie = Polygon([(X0, Y0), (X0 + D, Y0 + D), (X0 + D, Y0), (X0, Y0 + D)])
    z = Polygon([(X0 + 4 * D, Y0, 1.0), (X0 + 5 * D, Y0, 1.0), (X0 + 5 * D, Y0 + D, 1.0)])
    raw = hazards_gdf([bowtie, z, None, _square(4)], levels=[" High ", "LOW", "low", "medium"])
    keep = raw.copy(deep=True)
    wkb = [None if g is None else g.wkb for g in raw.geometry]
    with pytest.warns(RepairWarning):
        out = minemap.read_hazards(raw)
    assert_geodataframe_equal(raw, keep)
    assert [None if g is None else g.wkb for g in raw.geometry] == wkb
    assert out is not raw and len(out) == 3


def test_list_ids_limits_and_counts():
    assert _validate.list_ids(["a", "b"]) == "'a', 'b'"
    assert _validate.list_ids([1, 2, 3, 4, 5, 6, 7], limit=3) == "'1', '2', '3' and 4 more"


def test_degrees_labelled_as_a_projected_crs_are_refused():
    raw = hazards_gdf([box(46.0, 39.0, 46.01, 39.01), box(46.02, 39.0, 46.03, 39.01)], crs=32638)
    with pytest.raises(CoordinateError) as excinfo:
        minemap.read_hazards(raw)
    _assert_error(excinfo, ValueError, "look like degrees", "'H1'", "EPSG:4326")


@pytest.mark.parametrize(
    "crs",
    [
        "+proj=longlat +a=3396190 +b=3376200 +no_defs",
        "IAU_2015:49900",
        "+proj=longlat +R=1737400 +no_defs",
    ],
)
def test_a_crs_off_the_earth_is_refused(crs):
    raw = hazards_gdf([_square(0)], crs=None)
    with pytest.raises(CRSError, match="not on the Earth"):
        minemap.read_hazards(raw, crs=crs)
    with pytest.raises(CRSError, match="not on the Earth"):
        minemap.read_hazards(raw.set_crs(crs, allow_override=True))


def test_a_sphere_of_the_earths_radius_is_accepted():
    raw = hazards_gdf([_square(0)]).set_crs(
        "+proj=longlat +R=6371000 +no_defs", allow_override=True
    )
    assert len(minemap.read_hazards(raw)) == 1
