"""Tests of minemap.population: coverage-weighted sums against hand-computed rasters."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import rasterio
from affine import Affine
from shapely import box

from minemap._errors import (
    CoordinateError,
    CRSError,
    DataWarning,
    FormatError,
    InputFileError,
    SchemaError,
)
from minemap.population import population_sum

X0, Y0 = 500_000.0, 4_400_000.0  # UTM 38N, 100 m cells


def write_raster(path, data, *, crs="EPSG:32638", nodata=-1.0, transform=None):
    data = np.asarray(data, dtype="float32")
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=data.shape[1],
        height=data.shape[0],
        count=1,
        dtype="float32",
        crs=crs,
        nodata=nodata,
        transform=transform or Affine(100, 0, X0, 0, -100, Y0),
    ) as ds:
        ds.write(data, 1)
    return path


@pytest.fixture
def raster(tmp_path):
    #   100  50
    #    -1  10    (-1 = nodata)
    return write_raster(tmp_path / "pop.tif", [[100, 50], [-1, 10]])


def test_partial_pixel_gets_its_share(raster):
    g = gpd.GeoSeries(
        [
            box(X0, Y0 - 30, X0 + 30, Y0),  # 0.09 of the 100 cell
            box(X0 + 50, Y0 - 100, X0 + 150, Y0),  # half of 100, half of 50
            box(X0, Y0 - 200, X0 + 200, Y0),
        ],
        crs=32638,
    )  # all; nodata skipped
    assert population_sum(g, raster) == pytest.approx([9.0, 75.0, 160.0], rel=1e-6)


def test_polygons_in_another_crs(raster):
    utm = gpd.GeoSeries([box(X0 + 10, Y0 - 90, X0 + 90, Y0 - 10)], crs=32638)  # 0.64 of 100
    lonlat = utm.to_crs(4326)  # a 4-vertex box in degrees is densified before projecting
    assert population_sum(lonlat, raster)[0] == pytest.approx(64.0, rel=2e-3)


def test_raster_in_geographic_crs(tmp_path):
    path = write_raster(
        tmp_path / "geo.tif",
        [[40, 80]],
        crs="EPSG:4326",
        transform=Affine(0.01, 0, 46.0, 0, -0.01, 40.0),
    )
    # a quarter of the first cell, drawn in UTM
    quarter = gpd.GeoSeries([box(46.0, 39.995, 46.005, 40.0)], crs=4326)
    utm = quarter.to_crs(pyproj.CRS.from_epsg(32638))
    assert population_sum(utm, path)[0] == pytest.approx(10.0, rel=2e-3)


def test_open_dataset_and_empty_geometry(raster):
    g = gpd.GeoSeries([box(X0, Y0 - 100, X0 + 100, Y0), None], crs=32638)
    with rasterio.open(raster) as ds:
        assert population_sum(g, ds).tolist() == pytest.approx([100.0, 0.0])


def test_raster_without_nodata_is_refused(tmp_path):
    path = write_raster(tmp_path / "nonodata.tif", [[1, 2]], nodata=None)
    g = gpd.GeoSeries([box(X0, Y0 - 100, X0 + 100, Y0)], crs=32638)
    with pytest.raises(SchemaError, match="nonodata.tif.*no nodata.*gdal_edit"):
        population_sum(g, path)


def test_raster_without_crs_is_refused(tmp_path):
    path = tmp_path / "nocrs.tif"
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=1,
        height=1,
        count=1,
        dtype="float32",
        nodata=-1,
        transform=Affine(100, 0, X0, 0, -100, Y0),
    ) as ds:
        ds.write(np.ones((1, 1), dtype="float32"), 1)
    g = gpd.GeoSeries([box(X0, Y0 - 100, X0 + 100, Y0)], crs=32638)
    with pytest.raises(CRSError, match="nocrs.tif"):
        population_sum(g, path)


def test_no_overlap_is_refused_partial_overlap_warns(raster):
    far = gpd.GeoSeries([box(0, 0, 10, 10)], crs=32638)
    with pytest.raises(CoordinateError, match="does not overlap"):
        population_sum(far, raster)
    mixed = gpd.GeoSeries([box(0, 0, 10, 10), box(X0, Y0 - 100, X0 + 100, Y0)], crs=32638)
    with pytest.warns(DataWarning, match="1 of 2 areas"):
        assert population_sum(mixed, raster).tolist() == pytest.approx([0.0, 100.0])


# ------------------------------------------------------------------------------------------
# a raster is opened as the GeoTIFF its extension promises, never reaching out
# ------------------------------------------------------------------------------------------


def _vrt(source: str) -> str:
    return (
        '<VRTDataset rasterXSize="2" rasterYSize="2"><SRS>EPSG:32638</SRS>'
        f"<GeoTransform>{X0}, 100, 0, {Y0}, 0, -100</GeoTransform>"
        '<VRTRasterBand dataType="Float32" band="1"><NoDataValue>-1</NoDataValue>'
        f'<SimpleSource><SourceFilename relativeToVRT="0">{source}</SourceFilename>'
        "<SourceBand>1</SourceBand></SimpleSource></VRTRasterBand></VRTDataset>"
    )


def test_a_vrt_named_tif_pointing_at_a_url_is_refused_without_a_request(tmp_path):
    import socket
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(0.5)
    port = listener.getsockname()[1]
    connections: list[object] = []

    def accept() -> None:
        try:
            connection, address = listener.accept()
        except OSError:  # the timeout: nobody came
            return
        connections.append(address)
        connection.close()  # a regression fails at once instead of hanging
        listener.close()

    thread = threading.Thread(target=accept)
    thread.start()
    path = tmp_path / "pop.tif"
    path.write_text(_vrt(f"/vsicurl/http://127.0.0.1:{port}/pop.tif"))
    try:
        with pytest.raises(FormatError, match=r"^pop\.tif does not hold GeoTIFF data"):
            population_sum(gpd.GeoSeries([box(X0, Y0 - 200, X0 + 200, Y0)], crs=32638), path)
    finally:
        thread.join()
        listener.close()
    assert connections == []


def test_a_vrt_named_tif_pointing_at_another_local_file_is_refused(raster, tmp_path):
    path = tmp_path / "disguised.tif"
    path.write_text(_vrt(str(raster)))
    with pytest.raises(FormatError, match=r"^disguised\.tif does not hold GeoTIFF data"):
        population_sum(gpd.GeoSeries([box(X0, Y0 - 200, X0 + 200, Y0)], crs=32638), path)


def test_a_raster_of_another_format_or_a_broken_tiff_is_refused_in_one_line(raster, tmp_path):
    polygons = gpd.GeoSeries([box(X0, Y0 - 200, X0 + 200, Y0)], crs=32638)
    other = tmp_path / "pop.vrt"
    other.write_text(_vrt(str(raster)))
    with pytest.raises(FormatError, match=r"^pop\.vrt: .*GeoTIFF \(\.tif, \.tiff\) only"):
        population_sum(polygons, other)
    broken = tmp_path / "broken.tif"
    broken.write_bytes(raster.read_bytes()[:40])
    with pytest.raises(InputFileError, match=r"^broken\.tif: the population raster cannot be"):
        population_sum(polygons, broken)
