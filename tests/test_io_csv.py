"""Tests of minemap.io.csv_points: CSV files with coordinate columns or WKT."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely

import minemap
from minemap import io as mio
from minemap._errors import (
    CoordinateError,
    CRSError,
    FormatError,
    GeometryTypeError,
    SchemaError,
)
from minemap.io.csv_points import read_csv

GEOD = pyproj.Geod(ellps="WGS84")


def write(path, text: str, encoding: str = "utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


def coords(gdf: gpd.GeoDataFrame) -> list[tuple[float, float]]:
    return [(round(p.x, 6), round(p.y, 6)) for p in gdf.geometry]


def test_lon_lat_columns_are_points_in_wgs84(tmp_path):
    path = write(
        tmp_path / "schools.csv", "name,Longitude,Latitude\nA,46.751,39.812\nB,-46.5,-39.25\n"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = mio.read_features(path, kind="infrastructure")
    assert out.crs.equals("EPSG:4326")
    assert coords(out) == [(46.751, 39.812), (-46.5, -39.25)]
    assert out["name"].tolist() == ["A", "B"]
    assert out.attrs["minemap"] == "infrastructure" and out.attrs["source"] == "schools.csv"


def test_european_spreadsheet_semicolons_decimal_commas_bom_and_header_case(tmp_path):
    path = write(
        tmp_path / "wells.csv",
        'Nom;LAT;LON;Débit\nPuits 1;39,812;46,751;1,5\nPuits 2;"39,9";46,8;\n',
        encoding="utf-8-sig",
    )
    out = mio.read_features(path, kind="infrastructure")
    assert list(out.columns)[:2] == ["Nom", "LAT"]  # the byte order mark is not in a name
    assert coords(out) == [(46.751, 39.812), (46.8, 39.9)]
    assert out["Débit"].tolist() == ["1,5", ""]  # other columns are kept as written


def test_tab_separated_and_thousands_separators(tmp_path):
    path = write(
        tmp_path / "finds.tsv",
        "id\teasting\tnorthing\nF1\t500.123,5\t4,400,000.25\nF2\t500 200\t4400100\n",
    )
    out = mio.read_features(path, kind="any", crs="EPSG:32638")
    assert coords(out) == [(500123.5, 4400000.25), (500200.0, 4400100.0)]
    assert out.crs.equals("EPSG:32638")


def test_x_y_columns_need_a_crs(tmp_path):
    path = write(tmp_path / "points.csv", "id,X,Y\n1,46.1,39.1\n")
    with pytest.raises(CRSError) as excinfo:
        mio.read_features(path, kind="infrastructure")
    message = str(excinfo.value)
    assert "points.csv" in message and "'X'/'Y'" in message and "crs=" in message
    assert mio.read_features(path, kind="infrastructure", crs=4326).crs.equals("EPSG:4326")


def test_lon_lat_columns_outside_degrees_are_refused_without_crs(tmp_path):
    path = write(tmp_path / "points.csv", "lon,lat\n46.1,39.1\n500100,4400100\n")
    with pytest.raises(CRSError) as excinfo:
        mio.read_features(path, kind="infrastructure")
    message = str(excinfo.value)
    assert "points.csv" in message and "rows '2'" in message and "crs=" in message
    # latitude and longitude swapped: the message says how to name them
    swapped = write(tmp_path / "swapped.csv", "lat,lon\n120.5,46.1\n")
    with pytest.raises(CRSError, match="x_column="):
        mio.read_features(swapped, kind="infrastructure")
    out = mio.read_features(swapped, kind="infrastructure", x_column="lat", y_column="lon")
    assert out.crs.equals("EPSG:4326") and coords(out) == [(120.5, 46.1)]


def test_explicit_columns_win_and_are_matched_case_insensitively(tmp_path):
    path = write(tmp_path / "sites.csv", 'site,WKT,GPS E,GPS N\nS1,"POINT (0 0)",46.2,39.3\n')
    out = mio.read_features(
        path, kind="infrastructure", x_column="gps e", y_column="GPS N", crs=4326
    )
    assert coords(out) == [(46.2, 39.3)]
    # without them, the WKT column is the geometry
    assert coords(mio.read_features(path, kind="infrastructure", crs=4326)) == [(0.0, 0.0)]
    with pytest.raises(SchemaError, match="no column 'east' for x_column="):
        mio.read_features(path, kind="infrastructure", x_column="east", y_column="GPS N", crs=4326)
    with pytest.raises(SchemaError, match="both coordinate columns"):
        mio.read_features(path, kind="infrastructure", x_column="GPS E", crs=4326)
    with pytest.raises(SchemaError, match=r"x_column= and y_column= both name 'GPS E'"):
        mio.read_features(path, kind="infrastructure", x_column="GPS E", y_column="GPS E", crs=4326)


def test_lon_lat_and_x_y_in_one_file_follow_the_crs(tmp_path):
    path = write(tmp_path / "points.csv", "lon,lat,x,y\n46.0,39.0,500000,4316000\n")
    assert coords(mio.read_features(path, kind="any")) == [(46.0, 39.0)]
    assert coords(mio.read_features(path, kind="any", crs=32638)) == [(500000.0, 4316000.0)]


def test_empty_cells_are_an_error_naming_the_rows(tmp_path):
    path = write(
        tmp_path / "clinics.csv", "name,lon,lat\nA,46.1,39.1\nB,,39.2\nC,46.3,39.3\nD,46.4, \n"
    )
    with pytest.raises(CoordinateError) as excinfo:
        mio.read_features(path, kind="infrastructure")
    message = str(excinfo.value)
    assert "clinics.csv" in message and "2 row(s)" in message
    assert "rows '2', '4'" in message and "delete those rows" in message


def test_text_in_a_coordinate_column_is_an_error_naming_the_rows(tmp_path):
    path = write(
        tmp_path / "clinics.csv", "name,lon,lat\nA,46.1,39.1\nB,46°12'E,39.2\nC,nan,39.3\n"
    )
    with pytest.raises(CoordinateError) as excinfo:
        mio.read_features(path, kind="infrastructure")
    message = str(excinfo.value)
    assert "clinics.csv" in message and "'lon'" in message and "rows '2', '3'" in message
    assert "decimal" in message


def test_no_geometry_columns(tmp_path):
    path = write(tmp_path / "table.csv", "name,value\nA,1\n")
    with pytest.raises(SchemaError) as excinfo:
        mio.read_features(path, kind="infrastructure")
    assert "table.csv" in str(excinfo.value) and "x_column=" in str(excinfo.value)
    several = write(tmp_path / "several.csv", "lon,longitude,lat\n1,2,3\n")
    with pytest.raises(SchemaError, match="several columns"):
        mio.read_features(several, kind="infrastructure")


@pytest.mark.parametrize("reader", [minemap.read_hazards, minemap.read_releases])
def test_polygon_layers_refuse_a_csv_of_points(tmp_path, reader):
    path = write(
        tmp_path / "areas.csv",
        "hazard_id,threat_level,release_id,method,release_date,lon,lat\n"
        "H1,high,R1,cleared,2022-01-01,46.1,39.1\n",
    )
    with pytest.raises(GeometryTypeError) as excinfo:
        reader(path)
    message = str(excinfo.value)
    assert "areas.csv" in message and "need polygons" in message and "WKT" in message
    assert ("hazard areas" if reader is minemap.read_hazards else "release areas") in message


def test_x_column_on_a_file_with_geometry_is_refused(tmp_path):
    path = tmp_path / "points.geojson"
    gpd.GeoDataFrame(geometry=[shapely.Point(46, 39)], crs=4326).to_file(path)
    with pytest.raises(SchemaError, match="points.geojson.*CSV"):
        mio.read_features(path, x_column="lon", y_column="lat")


def test_csv_is_opened_with_the_csv_driver_only(tmp_path):
    # GeoJSON text in a .csv file: GDAL would open it as GeoJSON if allowed to guess
    path = write(
        tmp_path / "trap.csv",
        '{"type": "FeatureCollection", "features": [{"type": '
        '"Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": '
        "[46, 39]}}]}\n",
    )
    with pytest.raises(SchemaError, match="trap.csv: no geometry"):
        mio.read_features(path, kind="any", crs=4326)


def test_wkt_csv_with_bad_wkt_names_the_rows(tmp_path):
    path = write(
        tmp_path / "hazards.csv",
        'hazard_id,threat_level,WKT\nH1,high,"POLYGON((46 39,46.1 39,46.1 39.1,46 39))"\n'
        'H2,low,"POLYGN((46 39,46.1 39,46.1 39.1,46 39))"\n',
    )
    with pytest.raises(FormatError) as excinfo:
        minemap.read_hazards(path, crs=4326)
    assert "hazards.csv" in str(excinfo.value) and "rows '2'" in str(excinfo.value)


def test_wkt_csv_areas_match_the_geodesic_oracle(tmp_path):
    ring = shapely.Polygon([(46.0, 39.0), (46.02, 39.0), (46.02, 39.01), (46.0, 39.015)])
    path = write(
        tmp_path / "hazards.csv",
        f'hazard_id;threat_level;Geometry\nH1;high;"{ring.wkt}"\nH2;low;\n',
    )
    with pytest.warns(minemap.RepairWarning, match="1 empty or null geometry dropped"):
        hazards = minemap.read_hazards(path, crs=4326)
    dense = shapely.segmentize(ring, 1e-4)
    expected = abs(GEOD.geometry_area_perimeter(shapely.orient_polygons(dense))[0]) / 1e4
    got = minemap.land_release_summary(hazards).set_index("threat_level")["hazard_ha"]
    assert got["high"] == pytest.approx(expected, rel=1e-4)


def test_read_csv_directly(tmp_path):
    path = write(tmp_path / "p.csv", "lng;lat\n46,5;39,25\n")
    gdf, curved = read_csv(path)
    assert curved == 0 and gdf.crs.equals("EPSG:4326")
    assert np.allclose(shapely.get_coordinates(gdf.geometry.array), [[46.5, 39.25]])
