"""Tests of curved geometries on read (minemap.io._curves): GeoPackage, CSV, the CLI."""

from __future__ import annotations

import json
import sqlite3
import struct
import warnings
from pathlib import Path

import _oracle as oracle
import geopandas as gpd
import numpy as np
import pyogrio
import pyogrio.raw
import pyproj
import pytest
import shapely

import minemap
from minemap import cli
from minemap import io as mio
from minemap._errors import RepairWarning
from minemap.io import _curves

FIXTURES = Path(pyogrio.__file__).parent / "tests" / "fixtures"
GEOD = pyproj.Geod(ellps="WGS84")
UTM38 = 32638
CENTRE = (500_000.0, 4_400_000.0)  # UTM 38N, near 46.8 E 39.7 N
RADIUS = 100.0


def _point(x: float, y: float) -> bytes:
    return struct.pack("<dd", x, y)


def circular_string(cx: float, cy: float, r: float) -> bytes:
    points = [(cx - r, cy), (cx, cy + r), (cx + r, cy), (cx, cy - r), (cx - r, cy)]
    return struct.pack("<BII", 1, 8, len(points)) + b"".join(_point(*p) for p in points)


def curve_polygon(cx: float, cy: float, r: float) -> bytes:
    """ISO WKB of a CURVEPOLYGON(CIRCULARSTRING(...)): a circle."""
    return struct.pack("<BII", 1, 10, 1) + circular_string(cx, cy, r)


def multi_surface(*parts: bytes) -> bytes:
    return struct.pack("<BII", 1, 12, len(parts)) + b"".join(parts)


def square(x0: float, y0: float, side: float) -> bytes:
    ring = [(x0, y0), (x0 + side, y0), (x0 + side, y0 + side), (x0, y0 + side), (x0, y0)]
    return struct.pack("<BIII", 1, 3, 1, len(ring)) + b"".join(_point(*p) for p in ring)


def write_curved_gpkg(
    path: Path, wkbs: list[bytes], *, declared: str | None, ids: list[str], levels: list[str]
) -> Path:
    """A GeoPackage holding curved WKB, its layer declared as ``declared`` (e.g.
    CURVEPOLYGON, as ``ogr2ogr -nlt CURVEPOLYGON`` writes it; None leaves GEOMETRY)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        pyogrio.raw.write(
            path,
            geometry=np.array(wkbs, dtype=object),
            field_data=[np.array(ids, dtype=object), np.array(levels, dtype=object)],
            fields=["hazard_id", "threat_level"],
            driver="GPKG",
            geometry_type="Unknown",
            crs=f"EPSG:{UTM38}",
            layer="hazards",
        )
    if declared is not None:
        with sqlite3.connect(path) as db:
            db.execute("UPDATE gpkg_geometry_columns SET geometry_type_name = ?", (declared,))
        db.close()
    return path


def true_circle_ha(cx: float, cy: float, r: float, crs: int = UTM38) -> float:
    """Ellipsoidal area of a circle drawn in ``crs``: 20,000 vertices on the true curve,
    each taken to lon/lat, measured with pyproj.Geod."""
    angles = np.linspace(0.0, 2 * np.pi, 20_000, endpoint=False)
    x, y = cx + r * np.cos(angles), cy + r * np.sin(angles)
    lon, lat = pyproj.Transformer.from_crs(crs, 4326, always_xy=True).transform(x, y)
    ring = shapely.orient_polygons(shapely.Polygon(np.column_stack([lon, lat])))
    area, _ = GEOD.geometry_area_perimeter(ring)
    return abs(area) / 1e4


def hazard_ha(hazards) -> dict:
    return minemap.land_release_summary(hazards).set_index("threat_level")["hazard_ha"].to_dict()


# --------------------------------------------------------------------------- GeoPackage


@pytest.mark.parametrize("declared", ["CURVEPOLYGON", "POLYGON", None])
def test_curvepolygon_gpkg_is_linearised_counted_and_measured(tmp_path, declared):
    # declared POLYGON: GDAL then reports a linear layer, yet the features are curved
    path = write_curved_gpkg(
        tmp_path / "hazards.gpkg",
        [curve_polygon(*CENTRE, RADIUS)],
        declared=declared,
        ids=["C1"],
        levels=["high"],
    )
    if declared == "POLYGON":
        assert pyogrio.read_info(path)["geometry_type"] == "Polygon"
    before = path.read_bytes()
    with pytest.warns(RepairWarning, match="1 curved geometry linearised"):
        hazards = minemap.read_hazards(path)
    assert path.read_bytes() == before
    assert hazards.geometry.iloc[0].geom_type == "Polygon"
    # GDAL's linearisation every 1 degree is within 0.006 % of the curve
    assert shapely.get_num_coordinates(hazards.geometry.iloc[0]) >= 360
    expected = true_circle_ha(*CENTRE, RADIUS)
    # checks the oracle, not minemap: UTM's scale (~0.9996) puts the true circle 0.08 % above
    # the planar pi r²
    assert expected == pytest.approx(np.pi * RADIUS**2 / 1e4, rel=2e-3)
    assert hazard_ha(hazards)["high"] == pytest.approx(expected, rel=6e-5)  # README: 0.006 %


def test_multisurface_gpkg_with_curved_and_straight_parts(tmp_path):
    x, y = CENTRE
    wkbs = [
        multi_surface(curve_polygon(x, y, RADIUS), square(x + 300, y, 100)),
        square(x + 600, y, 50),
    ]
    path = write_curved_gpkg(
        tmp_path / "hazards.gpkg",
        wkbs,
        declared="MULTISURFACE",
        ids=["M1", "S1"],
        levels=["high", "low"],
    )
    with pytest.warns(RepairWarning, match=r"1 curved geometry linearised.*\+0\.0000 ha"):
        hazards = minemap.read_hazards(path)
    assert hazards.geometry.geom_type.tolist() == ["MultiPolygon", "Polygon"]
    square_ha = (
        abs(
            GEOD.geometry_area_perimeter(
                shapely.orient_polygons(
                    shapely.transform(
                        shapely.box(x + 300, y, x + 400, y + 100).segmentize(1.0),
                        lambda xy: np.column_stack(
                            pyproj.Transformer.from_crs(UTM38, 4326, always_xy=True).transform(
                                *xy.T
                            )
                        ),
                    )
                )
            )[0]
        )
        / 1e4
    )
    areas = hazard_ha(hazards)
    assert areas["high"] == pytest.approx(true_circle_ha(x, y, RADIUS) + square_ha, rel=1e-4)
    assert areas["low"] == pytest.approx(square_ha / 4, rel=1e-4)


@pytest.mark.skipif(
    not (FIXTURES / "curvepolygon.gpkg").exists(), reason="pyogrio wheel ships no curve fixtures"
)
@pytest.mark.parametrize(
    ("name", "kind", "geom_type"),
    [
        ("curvepolygon.gpkg", "districts", "Polygon"),
        ("multisurface.gpkg", "districts", "MultiPolygon"),
        ("curve.gpkg", "roads", "LineString"),
    ],
)
def test_pyogrio_curve_fixtures(name, kind, geom_type):
    # QGIS-made layers that GDAL declares linear ('Polygon', ...) but that hold curves
    path = FIXTURES / name
    assert "Curve" not in pyogrio.read_info(path)["geometry_type"]
    with pytest.raises(NotImplementedError, match="Nonlinear"):
        pyogrio.read_dataframe(path, use_arrow=True)
    with pytest.warns(RepairWarning, match="1 curved geometry linearised"):
        out = mio.read_features(path, kind=kind)
    assert out.geometry.geom_type.tolist() == [geom_type]
    assert bool(shapely.is_valid(out.geometry.iloc[0]))


def test_linear_files_keep_the_arrow_path(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a linear layer was read twice")

    monkeypatch.setattr(_curves, "count_curved_in_layer", refuse)
    path = tmp_path / "hazards.gpkg"
    gdf = gpd.GeoDataFrame(
        {"hazard_id": ["A", "B"], "threat_level": ["high", "low"]},
        geometry=[shapely.box(46, 39, 46.01, 39.01), shapely.box(46.02, 39, 46.03, 39.01)],
        crs=4326,
    )
    pyogrio.write_dataframe(gdf, path, layer="hazards")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(minemap.read_hazards(path)) == 2


def test_gdal_options_are_restored():
    before = pyogrio.get_gdal_config_option("OGR_ARC_STEPSIZE")
    with _curves.linearising():
        assert float(pyogrio.get_gdal_config_option("OGR_ARC_STEPSIZE")) == (
            _curves.ARC_STEP_DEGREES
        )
    assert pyogrio.get_gdal_config_option("OGR_ARC_STEPSIZE") == before


def test_wkb_type_codes():
    x, y = CENTRE
    iso_z = struct.pack("<BI", 1, 1010) + b"\x00" * 8
    ewkb_z = struct.pack(">BI", 0, 0x80000000 | 10) + b"\x00" * 8
    codes = _curves.wkb_type_codes([curve_polygon(x, y, 1), square(x, y, 1), iso_z, ewkb_z, None])
    assert codes.tolist() == [10, 3, 10, 10, -1]


def test_summary_command_on_a_curved_geopackage(tmp_path, capsys):
    path = write_curved_gpkg(
        tmp_path / "hazards.gpkg",
        [curve_polygon(*CENTRE, RADIUS)],
        declared="CURVEPOLYGON",
        ids=["C1"],
        levels=["high"],
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RepairWarning)
        status = cli.run(["summary", str(path), "--format", "json"])
    out, err = capsys.readouterr()
    assert status == 0, err
    assert "Nonlinear" not in err
    doc = json.loads(out)
    high = next(row for row in doc["rows"] if row["threat_level"] == "high")
    assert high["hazard_ha"] == pytest.approx(true_circle_ha(*CENTRE, RADIUS), rel=1e-4)
    assert any("1 curved geometry linearised" in w for w in doc["warnings"])


# --------------------------------------------------------------------------- CSV


def test_csv_curved_wkt_of_every_kind(tmp_path):
    x, y = CENTRE
    path = tmp_path / "hazards.csv"

    def circle_wkt(cx: float) -> str:
        return (
            f"CIRCULARSTRING({cx - RADIUS} {y},{cx} {y + RADIUS},{cx + RADIUS} {y},"
            f"{cx} {y - RADIUS},{cx - RADIUS} {y})"
        )

    half = (
        f"COMPOUNDCURVE(CIRCULARSTRING({x + 500} {y},{x + 600} {y + 100},{x + 700} {y}),"
        f"({x + 700} {y},{x + 500} {y}))"
    )
    path.write_text(
        "hazard_id;threat_level;wkt_geom\n"
        f'C1;high;"CURVEPOLYGON({circle_wkt(x)})"\n'
        f'H1;medium;"curvepolygon({half})"\n'
        f'M1;low;"MULTISURFACE(CURVEPOLYGON({circle_wkt(x + 2000)}))"\n'
        f'S1;low;"POLYGON(({x + 3000} {y},{x + 3100} {y},{x + 3100} {y + 100},{x + 3000} {y}))"\n',
        encoding="utf-8",
    )
    with pytest.warns(RepairWarning, match="3 curved geometries linearised"):
        hazards = minemap.read_hazards(path, crs=UTM38)
    areas = hazard_ha(hazards)
    assert areas["high"] == pytest.approx(true_circle_ha(x, y, RADIUS), rel=6e-5)
    assert areas["medium"] == pytest.approx(true_circle_ha(x + 600, y, RADIUS) / 2, rel=1e-4)
    triangle = shapely.Polygon([(x + 3000, y), (x + 3100, y), (x + 3100, y + 100)])
    triangle_ha = oracle.area_ha(triangle, UTM38)  # 0.5 ha in UTM's planar metres
    assert areas["low"] == pytest.approx(
        true_circle_ha(x + 2000, y, RADIUS) + triangle_ha, rel=1e-4
    )
