"""Tests of minemap.io.osm and minemap.io.tags: OpenStreetMap extracts and tag filters."""

from __future__ import annotations

import warnings
from pathlib import Path
from xml.sax.saxutils import quoteattr

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import pytest
import shapely
from shapely import box

from minemap import io as mio
from minemap._errors import EmptyLayerError, SchemaError
from minemap.io.osm import DEFAULT_TAGS, OSM_CATEGORY, default_tags, read_osm_features
from minemap.io.tags import match_tags, parse_other_tags, parse_tags, tag_values
from minemap.priority import BUFFER_QUAD_SEGS, CATEGORIES, priority_zones

OSM_SAMPLE = Path(pyogrio.__file__).parent / "tests" / "fixtures" / "sample.osm.pbf"
needs_sample = pytest.mark.skipif(
    not OSM_SAMPLE.exists(), reason="pyogrio wheel ships no sample.osm.pbf"
)
GEOD = pyproj.Geod(ellps="WGS84")
WGS84 = pyproj.CRS.from_epsg(4326)

# ------------------------------------------------------------------------------------------
# a hand-made extract: tags in columns and in other_tags, nodes, ways and a relation
# ------------------------------------------------------------------------------------------

LON0, LAT0 = 46.70, 39.80
TRICKY_NAME = 'No 5, "Ali" => school\\east'


def _node(i: int, dx: float, dy: float, **tags: str) -> str:
    body = "".join(f"<tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items())
    return f'<node id="{i}" lat="{LAT0 + dy:.7f}" lon="{LON0 + dx:.7f}">{body}</node>'


def _way(i: int, refs: list[int], **tags: str) -> str:
    nds = "".join(f'<nd ref="{r}"/>' for r in refs)
    body = "".join(f"<tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items())
    return f'<way id="{i}">{nds}{body}</way>'


def _square_nodes(first: int, dx: float, dy: float, side: float) -> tuple[list[str], list[int]]:
    corners = [(dx, dy), (dx + side, dy), (dx + side, dy + side), (dx, dy + side)]
    ids = list(range(first, first + 4))
    return [_node(i, x, y) for i, (x, y) in zip(ids, corners, strict=True)], ids + [first]


def write_extract(path: Path) -> Path:
    nodes = [
        _node(100, 0.001, 0.001, amenity="school", name=TRICKY_NAME),  # amenity: other_tags
        _node(101, 0.002, 0.001, healthcare="clinic"),
        _node(102, 0.003, 0.001, amenity="bench"),
        _node(103, 0.004, 0.001, place="village", name="Xanlıq"),
        _node(104, 0.005, 0.001, man_made="water_well"),
        _node(1, 0.0, 0.0),
        _node(2, 0.01, 0.0),
        _node(3, 0.0, 0.005),
        _node(4, 0.01, 0.005),
    ]
    ways = [
        _way(200, [1, 2], highway="primary", bridge="yes"),
        _way(201, [3, 4], highway="footway"),
        _way(207, [1, 3], highway="track", bridge="no"),
    ]
    for first, way, (dx, dy, side), tags in [
        (10, 202, (0.006, 0.006, 0.001), {"building": "yes"}),
        (20, 203, (0.008, 0.006, 0.001), {"building": "school", "amenity": "school"}),
        (30, 204, (-0.01, -0.01, 0.004), {}),  # outer ring of relation 300
        (40, 205, (-0.009, -0.009, 0.001), {}),  # inner ring of relation 300
        (50, 206, (0.012, 0.0, 0.001), {"power": "substation"}),
    ]:
        square, refs = _square_nodes(first, dx, dy, side)
        nodes += square
        ways.append(_way(way, refs, **tags))
    relation = (
        '<relation id="300"><member type="way" ref="204" role="outer"/>'
        '<member type="way" ref="205" role="inner"/>'
        '<tag k="type" v="multipolygon"/><tag k="building" v="apartments"/></relation>'
    )
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6" '
        f'generator="minemap tests">{"".join(nodes + ways)}{relation}</osm>\n',
        encoding="utf-8",
    )
    return path


@pytest.fixture
def extract(tmp_path) -> Path:
    return write_extract(tmp_path / "village.osm")


def geodesic_ha(geom) -> float:
    area, _ = GEOD.geometry_area_perimeter(shapely.orient_polygons(geom))
    return abs(area) / 1e4


def test_infrastructure_from_points_lines_and_polygons(extract):
    out = read_osm_features(extract, kind="infrastructure")
    by_id = out.set_index("osm_id")
    assert sorted(by_id.index) == [
        "node/100",
        "node/101",
        "node/104",
        "way/200",
        "way/203",
        "way/206",
    ]
    assert by_id[OSM_CATEGORY].to_dict() == {
        "node/100": "education",
        "node/101": "health",
        "node/104": "water",
        "way/200": "bridges",
        "way/203": "education",
        "way/206": "power",
    }
    # amenity and healthcare of points were only in other_tags; now they are columns
    assert by_id.loc["node/100", "amenity"] == "school"
    assert by_id.loc["node/101", "healthcare"] == "clinic"
    assert by_id.loc["node/100", "name"] == TRICKY_NAME
    assert sorted(set(out.geom_type)) == ["LineString", "MultiPolygon", "Point"]
    assert out.attrs["minemap"] == "infrastructure" and out.attrs["source"] == "village.osm"
    assert out.crs.equals("EPSG:4326")


def test_roads_default_classes_and_override(extract):
    roads = read_osm_features(extract, kind="roads")
    assert sorted(roads["osm_id"]) == ["way/200", "way/207"]  # not the footway
    every = mio.read_features(extract, kind="roads", tags="highway")
    assert sorted(every["osm_id"]) == ["way/200", "way/201", "way/207"]


def test_residential_buildings_places_and_a_multipolygon_relation(extract):
    out = read_osm_features(extract, kind="residential")
    by_id = out.set_index("osm_id")
    assert sorted(by_id.index) == ["node/103", "relation/300", "way/202", "way/203"]
    assert by_id.loc["node/103", OSM_CATEGORY] == "settlements"
    # the relation's hole is kept: its area is the outer square less the inner one
    outer = box(LON0 - 0.01, LAT0 - 0.01, LON0 - 0.006, LAT0 - 0.006)
    inner = box(LON0 - 0.009, LAT0 - 0.009, LON0 - 0.008, LAT0 - 0.008)
    got = geodesic_ha(by_id.loc["relation/300", "geometry"])
    assert got == pytest.approx(geodesic_ha(outer) - geodesic_ha(inner), rel=1e-9)
    # the fixture's size by hand (0.15 % of a 0.01° cell), a plausibility check of the test's
    # own geodesic_ha, not a measurement: the line above holds minemap to 1e-9
    assert got == pytest.approx(0.15 / 100 * 111.0 * 85.4 * 100 * 0.01, rel=0.1)


def test_bridge_no_is_not_a_bridge(extract):
    out = read_osm_features(extract, kind="infrastructure", tags="bridge")
    assert out["osm_id"].tolist() == ["way/200"]


def test_user_tags_name_the_category(extract):
    out = read_osm_features(
        extract, kind="infrastructure", tags="amenity=school,amenity=bench,power"
    )
    assert out.set_index("osm_id")[OSM_CATEGORY].to_dict() == {
        "node/100": "amenity=school",
        "node/102": "amenity=bench",
        "way/203": "amenity=school",
        "way/206": "power",
    }


def test_a_category_without_features_raises_naming_file_and_category(extract):
    with pytest.raises(EmptyLayerError) as excinfo:
        read_osm_features(extract, kind="infrastructure", tags="amenity=hospital")
    message = str(excinfo.value)
    assert message.startswith("village.osm: no infrastructure features")
    assert "amenity=hospital" in message and "tags=" in message


def test_one_layer_only(extract):
    out = read_osm_features(extract, kind="infrastructure", layer="points")
    assert sorted(out["osm_id"]) == ["node/100", "node/101", "node/104"]
    with pytest.raises(SchemaError, match="no layer 'roads'"):
        read_osm_features(extract, kind="roads", layer="roads")


def test_kinds_an_extract_cannot_give(extract):
    with pytest.raises(SchemaError, match="districts"):
        mio.read_features(extract, kind="districts")


def test_custom_indexing_option_is_restored(extract):
    before = pyogrio.get_gdal_config_option("OSM_USE_CUSTOM_INDEXING")
    read_osm_features(extract, kind="roads")
    assert pyogrio.get_gdal_config_option("OSM_USE_CUSTOM_INDEXING") == before


def _aeqd(lon: float, lat: float) -> pyproj.CRS:
    return pyproj.CRS.from_proj4(f"+proj=aeqd +lat_0={lat} +lon_0={lon} +ellps=WGS84 +units=m")


def _oracle_zones(hazard_ll, layers: dict, distances: dict) -> dict:
    """Zone hectares per category: buffers in an AEQD frame centred on the hazard (true
    distances from its centre; the frame is tiny, so areas are true to ~1e-7), each place
    counted under the first category of CATEGORIES."""
    c = hazard_ll.centroid
    fwd = pyproj.Transformer.from_crs(WGS84, _aeqd(c.x, c.y), always_xy=True)

    def local(geom):
        return shapely.transform(
            shapely.segmentize(geom, 1e-5), lambda xy: np.column_stack(fwd.transform(*xy.T))
        )

    hazard = local(hazard_ll)
    taken = shapely.Polygon()
    out = {}
    for category in CATEGORIES:
        if category not in layers:
            continue
        geoms = [local(g) for g in layers[category].geometry]
        cover = shapely.union_all(
            [g.buffer(distances[category], quad_segs=BUFFER_QUAD_SEGS) for g in geoms]
        )
        zone = hazard.intersection(cover).difference(taken)
        taken = taken.union(cover)
        out[category] = zone.area / 1e4
    return out


def test_priority_zones_from_a_mixed_infrastructure_layer(extract):
    infrastructure = read_osm_features(extract, kind="infrastructure")
    residential = read_osm_features(extract, kind="residential")
    hazard = box(LON0 - 0.004, LAT0 - 0.004, LON0 + 0.014, LAT0 + 0.004)
    hazards = gpd.GeoDataFrame(
        {"hazard_id": ["H1"], "threat_level": ["high"]},
        geometry=[shapely.segmentize(hazard, 1e-4)],
        crs=4326,
    )
    zones = priority_zones(hazards, infrastructure=infrastructure, residential=residential)
    got = zones.groupby("category")["zone_ha"].sum().to_dict()
    expected = _oracle_zones(
        hazards.geometry.iloc[0],
        {"infrastructure": infrastructure, "residential": residential},
        {"infrastructure": 250.0, "residential": 500.0},
    )
    assert got["residential"] > 0 and got["infrastructure"] > 0
    for category, value in expected.items():
        # zones match per-feature buffers within 0.2 % (docs/priority.md)
        assert got.get(category, 0.0) == pytest.approx(value, rel=2e-3, abs=1e-3), category


# ------------------------------------------------------------------------------------------
# the real extract shipped with pyogrio (Hatfield, England; ODbL)
# ------------------------------------------------------------------------------------------


@needs_sample
def test_sample_roads_are_the_access_road_classes():
    roads = read_osm_features(OSM_SAMPLE, kind="roads")
    assert len(roads) == 26
    assert roads["highway"].value_counts().to_dict() == {
        "residential": 20,
        "service": 3,
        "motorway": 1,
        "secondary": 1,
        "tertiary": 1,
    }
    every = read_osm_features(OSM_SAMPLE, kind="roads", tags="highway")
    assert len(every) == 36  # and 7 footways, 3 cycleways
    assert set(every["highway"]) - set(roads["highway"]) == {"footway", "cycleway"}
    assert roads["osm_id"].str.startswith("way/").all()


@needs_sample
def test_sample_infrastructure_and_residential():
    infrastructure = read_osm_features(OSM_SAMPLE, kind="infrastructure")
    assert infrastructure["osm_id"].tolist() == ["way/157868709"]  # Alban Way, a bridge
    assert infrastructure[OSM_CATEGORY].tolist() == ["bridges"]
    residential = read_osm_features(OSM_SAMPLE, kind="residential")
    assert sorted(residential["osm_id"]) == ["way/53152061", "way/53588780", "way/53638158"]
    assert residential.geom_type.eq("MultiPolygon").all()


@needs_sample
def test_sample_amenity_of_points_is_read_from_other_tags():
    out = read_osm_features(OSM_SAMPLE, kind="infrastructure", tags="amenity")
    by_id = out.set_index("osm_id")["amenity"].to_dict()
    assert by_id == {"node/818056434": "post_box", "way/53152061": "retirement _home"}


@needs_sample
def test_sample_without_the_category_raises():
    with pytest.raises(EmptyLayerError) as excinfo:
        mio.read_features(OSM_SAMPLE, kind="infrastructure", layer="points")
    message = str(excinfo.value)
    assert message.startswith("sample.osm.pbf: no infrastructure features (tags ")
    assert "in the extract (layers points)" in message


@needs_sample
def test_sample_roads_and_buildings_give_priority_zones():
    roads = read_osm_features(OSM_SAMPLE, kind="roads")
    buildings = read_osm_features(OSM_SAMPLE, kind="residential")
    lon, lat = roads.union_all().centroid.coords[0]
    frame = _aeqd(lon, lat)
    back = pyproj.Transformer.from_crs(frame, WGS84, always_xy=True)
    local = shapely.segmentize(box(-400, -400, 400, 400), 5.0)
    hazard = shapely.transform(local, lambda xy: np.column_stack(back.transform(*xy.T)))
    hazards = gpd.GeoDataFrame(
        {"hazard_id": ["H1"], "threat_level": ["high"]}, geometry=[hazard], crs=4326
    )
    zones = priority_zones(hazards, roads=roads, residential=buildings)
    got = zones.groupby("category")["zone_ha"].sum().to_dict()
    expected = _oracle_zones(
        hazard, {"roads": roads, "residential": buildings}, {"roads": 100.0, "residential": 500.0}
    )
    assert sum(got.values()) > 0
    for category, value in expected.items():
        # zones match per-feature buffers within 0.2 % (docs/priority.md)
        assert got.get(category, 0.0) == pytest.approx(value, rel=2e-3, abs=1e-3), category


# ------------------------------------------------------------------------------------------
# tag filters and other_tags
# ------------------------------------------------------------------------------------------


def test_other_tags_round_trip_through_gdal(tmp_path):
    tags = {
        "healthcare": "clinic",
        "description": 'say "hi", \\x => y\\',
        "a=>b": "c",
        'k,"q': "v",
        "empty": "",
        "two lines": "a\nb",
    }
    body = "".join(f"<tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items())
    path = tmp_path / "one.osm"
    path.write_text(
        f'<?xml version="1.0"?><osm version="0.6"><node id="1" lat="39" '
        f'lon="46">{body}</node></osm>',
        encoding="utf-8",
    )
    raw, _, _ = mio.read_layer(path, layer="points")
    assert parse_other_tags(raw["other_tags"].iloc[0]) == tags
    assert tag_values(raw, "description").tolist() == [tags["description"]]
    assert tag_values(raw, 'k,"q').tolist() == ["v"]


def test_parse_other_tags_edge_cases():
    assert parse_other_tags('"a"=>NULL,"b"=>"1"') == {"a": None, "b": "1"}
    assert parse_other_tags('"a"=>"1", "b" => "2"') == {"a": "1", "b": "2"}
    assert parse_other_tags('"a"=>"1",garbage') == {"a": "1"}
    assert parse_other_tags("") == {} and parse_other_tags(float("nan")) == {}


def test_tag_spec_forms_are_equivalent():
    text = parse_tags("amenity=school, amenity=clinic,healthcare=*")
    listed = parse_tags(["amenity=school", "amenity=clinic", "healthcare"])
    mapped = parse_tags({"amenity": ["school", "clinic"], "healthcare": True})
    assert text == listed == mapped
    assert str(text) == "amenity=clinic,amenity=school,healthcare"
    for bad in ("", " , ", "=school"):
        with pytest.raises(SchemaError, match="names no tag"):
            parse_tags(bad)


def test_matching_values_lists_and_no():
    frame = pd.DataFrame(
        {
            "amenity": ["school;clinic", "bench", None, "no"],
            "other_tags": [None, None, '"amenity"=>"clinic"', None],
        }
    )
    assert match_tags(frame, "amenity=clinic").tolist() == [True, False, True, False]
    assert match_tags(frame, "amenity").tolist() == [True, True, True, False]
    assert match_tags(frame, "shop").tolist() == [False] * 4


def test_default_tags_are_published_per_kind_and_category():
    assert set(DEFAULT_TAGS) == {"roads", "infrastructure", "residential"}
    assert set(DEFAULT_TAGS["infrastructure"]) == {
        "health",
        "education",
        "water",
        "power",
        "bridges",
        "worship",
        "public",
    }
    roads = default_tags("roads")
    assert "highway=track" in str(roads) and "highway=motorway_link" in str(roads)
    assert "highway=footway" not in str(roads)
    with pytest.raises(TypeError):
        DEFAULT_TAGS["roads"] = {}  # type: ignore[index]


def test_tags_on_an_ordinary_file(tmp_path):
    points = gpd.GeoDataFrame(
        {
            "name": ["a", "b", "c"],
            "amenity": [None, "school", None],
            "other_tags": ['"amenity"=>"clinic"', None, '"shop"=>"bakery"'],
        },
        geometry=[shapely.Point(46, 39), shapely.Point(46.1, 39), shapely.Point(46.2, 39)],
        crs=4326,
    )
    path = tmp_path / "infrastructure.gpkg"
    pyogrio.write_dataframe(points, path, layer="infrastructure")
    out = mio.read_features(path, kind="infrastructure", tags="amenity=school,amenity=clinic")
    assert out["name"].tolist() == ["a", "b"]
    # without tags, every feature is kept
    assert len(mio.read_features(path, kind="infrastructure")) == 3
    with pytest.raises(EmptyLayerError, match="infrastructure.gpkg.*no infrastructure features"):
        mio.read_features(path, kind="infrastructure", tags="amenity=hospital")
    plain = tmp_path / "plain.geojson"
    points.drop(columns="other_tags").to_file(plain)
    with pytest.raises(SchemaError, match="plain.geojson: no column 'highway'"):
        mio.read_features(plain, kind="infrastructure", tags="highway")


def test_osm_tests_raise_no_warnings(extract):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for kind in DEFAULT_TAGS:
            read_osm_features(extract, kind=kind)
