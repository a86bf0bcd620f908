"""Tests of the ``minemap priority`` command."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from shapely import LineString, Point, box

from minemap.cli import run

OSM_SAMPLE = Path(pyogrio.__file__).parent / "tests" / "fixtures" / "sample.osm.pbf"


@pytest.fixture
def files(tmp_path):
    crs = 32638
    hazards = gpd.GeoDataFrame(
        {"hazard_id": ["H1", "H2", "H3"], "threat_level": ["high", "Medium", "low"]},
        geometry=[box(0, 0, 1000, 1000), box(800, 0, 2000, 1000), box(5000, 5000, 5500, 5500)],
        crs=crs,
    )
    releases = gpd.GeoDataFrame(
        {"release_id": ["R1"], "method": ["cleared"], "release_date": ["2022-03-01"]},
        geometry=[box(0, 0, 300, 300)],
        crs=crs,
    )
    roads = gpd.GeoDataFrame(
        {"road_id": ["A"]}, geometry=[LineString([(-500, 500), (2500, 500)])], crs=crs
    )
    infra = gpd.GeoDataFrame({"kind": ["school"]}, geometry=[Point(1500, 900)], crs=crs)
    res = gpd.GeoDataFrame({"name": ["V"]}, geometry=[box(-400, -400, 0, 0)], crs=crs)
    paths = {}
    for name, gdf in (
        ("hazards", hazards),
        ("releases", releases),
        ("roads", roads),
        ("infrastructure", infra),
        ("residential", res),
    ):
        paths[name] = tmp_path / f"{name}.gpkg"
        gdf.to_file(paths[name])
    return paths


def args_for(files, tmp_path, *extra):
    return [
        str(files["hazards"]),
        "--released",
        str(files["releases"]),
        "--roads",
        str(files["roads"]),
        "--infrastructure",
        str(files["infrastructure"]),
        "--residential",
        str(files["residential"]),
        "-o",
        str(tmp_path / "zones.gpkg"),
        *extra,
    ]


def test_table_output_writes_zones_and_ranking(files, tmp_path, capsys):
    status = run(["priority", *args_for(files, tmp_path, "--ranking", str(tmp_path / "rank.csv"))])
    out = capsys.readouterr().out
    assert status == 0
    assert "Priority zones" in out and "Weights: threat=3" in out
    zones = gpd.read_file(tmp_path / "zones.gpkg", layer="priority_zones")
    assert set(zones.columns) >= {"category", "threat_level", "hazard_id", "zone_ha"}
    assert set(zones.category) == {"residential", "infrastructure", "roads"}
    ranking = pd.read_csv(tmp_path / "rank.csv")
    assert ranking["hazard_id"].iloc[0] in {"H1", "H2"} and len(ranking) == 3


def test_json_output(files, tmp_path, capsys):
    weights = tmp_path / "w.toml"
    weights.write_text("[weights]\nroads_ha = 7\n", encoding="utf-8")
    status = run(
        [
            "priority",
            *args_for(
                files,
                tmp_path,
                "--format",
                "json",
                "--distances",
                "residential=300,roads=50",
                "--weights",
                str(weights),
                "--top",
                "2",
            ),
        ]
    )
    assert status == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["unit"] == "ha" and doc["weights"]["roads_ha"] == 7.0
    assert doc["distances_m"] == {"residential": 300.0, "infrastructure": 250.0, "roads": 50.0}
    rows = {(r["category"], r["threat_level"]): r["zone_ha"] for r in doc["zones"]}
    assert rows[("total", "total")] == pytest.approx(
        sum(v for (c, t), v in rows.items() if t == "total" and c != "total")
    )
    assert len(doc["ranking_top"]) == 2 and doc["ranking_top"][0]["rank"] == 1
    assert isinstance(doc["warnings"], list)


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--distances", "rivers=100"], "unknown priority category 'rivers'"),
        (["--distances", "roads=-10"], "not a distance"),
        (["--order", "roads,roads"], "twice"),
    ],
)
def test_bad_options_exit_2_with_one_line(files, tmp_path, capsys, extra, message):
    assert run(["priority", *args_for(files, tmp_path, *extra)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
    assert not (tmp_path / "zones.gpkg").exists()


def test_roads_that_are_polygons_exit_2(files, tmp_path, capsys):
    argv = args_for(files, tmp_path)
    argv[argv.index("--roads") + 1] = str(files["residential"])
    assert run(["priority", *argv]) == 2
    assert "roads must be lines" in capsys.readouterr().err


def test_missing_population_raster_exits_2(files, tmp_path, capsys):
    assert (
        run(["priority", *args_for(files, tmp_path, "--population", str(tmp_path / "nope.tif"))])
        == 2
    )
    assert "nope.tif" in capsys.readouterr().err


@pytest.mark.skipif(not OSM_SAMPLE.exists(), reason="pyogrio wheel ships no sample.osm.pbf")
def test_openstreetmap_pbf_roads(tmp_path, capsys):
    roads = gpd.read_file(OSM_SAMPLE, layer="points", engine="pyogrio")
    centre = roads.union_all().centroid
    hazards = gpd.GeoDataFrame(
        {"hazard_id": ["H1"], "threat_level": ["high"]}, geometry=[centre.buffer(0.003)], crs=4326
    )
    hazards.to_file(tmp_path / "hz.gpkg")
    status = run(
        [
            "priority",
            str(tmp_path / "hz.gpkg"),
            "--roads",
            str(OSM_SAMPLE),
            "--residential",
            str(OSM_SAMPLE),
            "-o",
            str(tmp_path / "z.geojson"),
            "--format",
            "json",
            "--order",
            "roads,infrastructure,residential",
        ]
    )
    assert status == 0
    doc = json.loads(capsys.readouterr().out)
    totals = {r["category"]: r["zone_ha"] for r in doc["zones"] if r["threat_level"] == "total"}
    assert totals["roads"] > 0


def test_incidents_and_finds_from_csv_files_rank_a_hazard_first(files, tmp_path, capsys):
    # H3 (low threat, far from every feature) has two incidents and a find next to it
    import pyproj

    to_lonlat = pyproj.Transformer.from_crs(32638, 4326, always_xy=True)
    lon, lat = to_lonlat.transform([5600, 5700], [5200, 5300])
    (tmp_path / "incidents.csv").write_text(
        "id,Date,killed,injured,lon,lat\n"
        f"I1,2022-05-01,1,2,{lon[0]},{lat[0]}\nI2,2022-06-01,0,1,{lon[1]},{lat[1]}\n"
    )
    (tmp_path / "finds.csv").write_text(
        f"find_id,find_date,device_type,device_count,lon,lat\nF1,2022-04-01,APM,3,{lon[0]},{lat[0]}\n"
    )
    extra = [
        "--incidents",
        str(tmp_path / "incidents.csv"),
        "--incidents-columns",
        "id=id,date=Date",
        "--finds",
        str(tmp_path / "finds.csv"),
        "--ranking",
        str(tmp_path / "rank.csv"),
    ]
    weights = tmp_path / "w.toml"
    weights.write_text("[weights]\nincidents = 50\nfinds = 50\n")
    status = run(["priority", *args_for(files, tmp_path, *extra, "--weights", str(weights))])
    out = capsys.readouterr().out
    assert status == 0
    assert "incidents_nearby" in out and "(incidents and finds within 1000 m)" in out
    ranking = pd.read_csv(tmp_path / "rank.csv").set_index("hazard_id")
    assert ranking.loc["H3", "rank"] == 1
    assert ranking.loc["H3", "incidents_nearby"] == 2 and ranking.loc["H3", "victims_nearby"] == 4
    assert ranking.loc["H3", "devices_found_nearby"] == 3
    assert ranking.loc["H1", "incidents_nearby"] == 0


def test_evidence_columns_option_is_checked(files, tmp_path, capsys):
    (tmp_path / "i.csv").write_text("incident_id,incident_date,killed,injured,lon,lat\n")
    status = run(
        [
            "priority",
            *args_for(
                files,
                tmp_path,
                "--incidents",
                str(tmp_path / "i.csv"),
                "--incidents-columns",
                "when=Date",
            ),
        ]
    )
    err = capsys.readouterr().err
    assert status == 2
    assert "--incidents-columns 'when=Date': give KEY=NAME pairs" in err
    assert not (tmp_path / "zones.gpkg").exists()
