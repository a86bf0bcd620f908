"""Tests of minemap.readiness: settlement readiness and communities at risk, against figures
computed independently (pyproj.Geod and the analytic area of a circle cut by a square)."""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely import Point, affinity, box

from minemap._errors import SchemaError
from minemap.readiness import (
    DISC_SCALE,
    STATUSES,
    ReadinessRule,
    communities_at_risk,
    incidents_column,
    percent_released_column,
    remaining_ha_column,
    settlement_readiness,
)

GEOD = pyproj.Geod(ellps="WGS84")
Case = tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]
Layout = tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame | None, list[float]]
WGS84 = pyproj.CRS.from_epsg(4326)
LON, LAT = 46.6, 40.1  # the settlement of the hand-made fixtures

# ------------------------------------------------------------------------------------------
# fixtures: drawn in metres around a centre (azimuthal equidistant: distances from the
# centre are geodesic, areas true to 1e-8 within a few km), handed over in lon/lat
# ------------------------------------------------------------------------------------------


def aeqd(lon: float, lat: float) -> pyproj.CRS:
    return pyproj.CRS.from_proj4(f"+proj=aeqd +lat_0={lat} +lon_0={lon} +ellps=WGS84 +units=m")


def to_lonlat(
    geoms: Sequence[shapely.Geometry], lon: float = LON, lat: float = LAT, crs: object = WGS84
) -> list[shapely.Geometry]:
    """Geometries drawn in metres around (lon, lat), densified (5 m), in ``crs``; lon/lat
    geometries keep longitudes continuous across ±180°."""
    tr = pyproj.Transformer.from_crs(aeqd(lon, lat), crs, always_xy=True)

    def move(xy: np.ndarray) -> np.ndarray:
        x, y = tr.transform(xy[:, 0], xy[:, 1])
        x = np.asarray(x)
        if pyproj.CRS(crs).is_geographic:
            x = lon + (x - lon + 180.0) % 360.0 - 180.0
        return np.column_stack([x, y])

    dense = shapely.segmentize(np.asarray(geoms, dtype=object), 5.0)
    return list(shapely.transform(dense, move))


def settlement_layer(
    geoms: Iterable[shapely.Geometry],
    *,
    population: Sequence[float] | np.ndarray | None = None,
    crs: object = WGS84,
) -> gpd.GeoDataFrame:
    geoms = list(geoms)
    n = len(geoms)
    layer = gpd.GeoDataFrame(
        {
            "settlement_id": [f"S{k + 1}" for k in range(n)],
            "name": [f"Village {k + 1}" for k in range(n)],
            "population": np.asarray(
                population if population is not None else [1000.0] * n, dtype=float
            ),
        },
        geometry=list(geoms),
        crs=crs,
    )
    layer.attrs.update(minemap="settlements", source="settlements.gpkg")
    return layer


def incident_layer(
    points: Iterable[shapely.Geometry], dates: Iterable[object], crs: object = WGS84
) -> gpd.GeoDataFrame:
    points = list(points)
    n = len(points)
    layer = gpd.GeoDataFrame(
        {
            "incident_id": [f"I{k + 1}" for k in range(n)],
            "incident_date": pd.to_datetime(list(dates)).astype("datetime64[ns]"),
            "killed": np.zeros(n, dtype=np.int64),
            "injured": np.ones(n, dtype=np.int64),
            "device_type": ["ap_mine"] * n,
            "victim_activity": [""] * n,
        },
        geometry=list(points),
        crs=crs,
    )
    layer.attrs.update(minemap="incidents", source="incidents.csv")
    return layer


def hazard_layer(
    geoms: Sequence[shapely.Geometry], levels: list[str] | None = None, crs: object = WGS84
) -> gpd.GeoDataFrame:
    n = len(geoms)
    return gpd.GeoDataFrame(
        {"hazard_id": [f"H{k + 1}" for k in range(n)], "threat_level": levels or ["high"] * n},
        geometry=list(geoms),
        crs=crs,
    )


def release_layer(
    geoms: Sequence[shapely.Geometry], dates: list[str] | None = None, crs: object = WGS84
) -> gpd.GeoDataFrame:
    n = len(geoms)
    return gpd.GeoDataFrame(
        {
            "release_id": [f"R{k + 1}" for k in range(n)],
            "method": ["cleared"] * n,
            "release_date": dates or ["2022-06-01"] * n,
        },
        geometry=list(geoms),
        crs=crs,
    )


#: The hazard of the fixtures: a 1 km square, its near (west) edge 700 m east of the
#: settlement; midpoints of its north and south edges are vertices, so that a release of
#: its west half shares its edges exactly.
SQUARE = shapely.Polygon(
    [(700, -500), (1200, -500), (1700, -500), (1700, 500), (1200, 500), (700, 500)]
)
WEST_HALF = box(700, -500, 1200, 500)


def circle_cut_square_m2(r: float, a: float = 700.0, b: float = 1700.0, h: float = 500.0) -> float:
    """Area of the disc of radius r round the origin within [a, b] × [-h, h] (a ≥ 0)."""

    if r <= a:
        return 0.0
    top = min(h, math.sqrt(r * r - a * a))

    def primitive(y: float) -> float:  # ∫ √(r² - y²) dy
        return 0.5 * (y * math.sqrt(max(r * r - y * y, 0.0)) + r * r * math.asin(y / r))

    inside = 2.0 * (primitive(top) - primitive(0.0)) - 2.0 * a * top
    if r > b:  # the part of the disc beyond the far edge is not in the square
        far = min(h, math.sqrt(r * r - b * b))
        inside -= 2.0 * (primitive(far) - primitive(0.0)) - 2.0 * b * far
    return inside


def geodesic_m2(geom: shapely.Geometry) -> float:
    area, _ = GEOD.geometry_area_perimeter(shapely.orient_polygons(geom))
    return abs(area)


def fwd(lon: float, lat: float, azimuth: float, metres: float) -> Point:
    x, y, _ = GEOD.fwd(lon, lat, azimuth, metres)
    return Point(x, y)


@pytest.fixture(scope="module")
def square_case() -> Case:
    """One settlement, the square hazard, the result with default radii."""
    village = settlement_layer([Point(LON, LAT)])
    hazards = hazard_layer(to_lonlat([SQUARE]))
    return village, hazards, settlement_readiness(village, hazards)


# ------------------------------------------------------------------------------------------
# figures against the independent oracle
# ------------------------------------------------------------------------------------------


def test_oracle_fixture_is_what_it_claims() -> None:
    # the analytic area agrees with a fine geodesic polygon of the same cut
    circle = shapely.Polygon(
        [GEOD.fwd(LON, LAT, az, 1000.0)[:2] for az in np.linspace(0, 360, 20_001)[:-1]]
    )
    cut = shapely.intersection(circle, to_lonlat([SQUARE])[0])
    cut = shapely.segmentize(cut, 1e-5)
    assert geodesic_m2(cut) == pytest.approx(circle_cut_square_m2(1000.0), rel=1e-5)
    assert circle_cut_square_m2(1000.0) == pytest.approx(256_611.48, abs=0.01)


def test_areas_within_each_radius_are_true_hectares(square_case: Case) -> None:
    _, hazards, out = square_case
    assert out.loc[0, "remaining_ha_500m"] == 0.0
    assert out.loc[0, "remaining_ha_1000m"] == pytest.approx(
        circle_cut_square_m2(1000.0) / 1e4, rel=1e-3
    )
    whole = geodesic_m2(hazards.geometry[0]) / 1e4  # the square lies within 2000 m
    assert out.loc[0, "remaining_ha_2000m"] == pytest.approx(whole, rel=1e-4)
    # nothing released: 0 % where there is hazard, 100 % where there is none (500 m)
    assert out.loc[0, ["percent_released_500m", "percent_released_1000m"]].tolist() == [
        100.0,
        0.0,
    ]


@pytest.mark.parametrize("radius", [750.0, 1000.0, 1250.0, 1600.0, 1800.0])
def test_cut_areas_for_other_radii(radius: float) -> None:
    village = settlement_layer([Point(LON, LAT)])
    out = settlement_readiness(village, hazard_layer(to_lonlat([SQUARE])), radii_m=[radius])
    expected = circle_cut_square_m2(radius) / 1e4
    assert out.loc[0, remaining_ha_column(radius)] == pytest.approx(expected, rel=1e-3)


def test_nearest_hazard_is_geodesic_metres(square_case: Case) -> None:
    _, hazards, out = square_case
    edge = hazards.geometry[0].exterior
    samples = shapely.get_coordinates(shapely.segmentize(edge, 1e-6))
    expected = GEOD.inv(
        np.full(len(samples), LON), np.full(len(samples), LAT), samples[:, 0], samples[:, 1]
    )[2].min()
    assert expected == pytest.approx(700.0, abs=1e-3)
    assert out.loc[0, "nearest_hazard_m"] == pytest.approx(expected, abs=1e-3)


def test_default_rule_and_reason(square_case: Case) -> None:
    _, _, out = square_case
    assert out.loc[0, "status"] == "conditional"
    assert out.loc[0, "reason"] == "100.0 ha remaining within 2000 m (nearest 700 m)"
    assert out.attrs["rule"] == (
        "blocked: remaining hazard within 500 m; conditional: remaining hazard within "
        "2000 m; ready: otherwise"
    )
    assert out.attrs["radii_m"] == [500.0, 1000.0, 2000.0]
    assert out.attrs["minemap"] == "readiness"


def test_output_columns_and_geometry(square_case: Case) -> None:
    village, _, out = square_case
    assert list(out.columns) == [
        "settlement_id",
        "name",
        "population",
        "remaining_ha_500m",
        "percent_released_500m",
        "remaining_ha_1000m",
        "percent_released_1000m",
        "remaining_ha_2000m",
        "percent_released_2000m",
        "nearest_hazard_m",
        "status",
        "reason",
        "geometry",
    ]
    assert out.geometry.equals(village.geometry) and out.crs == village.crs


def test_release_reduces_remaining_and_raises_percent() -> None:
    village = settlement_layer([Point(LON, LAT)])
    hazards = hazard_layer(to_lonlat([SQUARE]))
    released = to_lonlat([WEST_HALF])
    out = settlement_readiness(village, hazards, release_layer(released))
    square, west = geodesic_m2(hazards.geometry[0]), geodesic_m2(released[0])
    # the 1000 m disc reaches only into the released half
    assert out.loc[0, "remaining_ha_1000m"] == 0.0
    assert out.loc[0, "percent_released_1000m"] == 100.0
    assert out.loc[0, "remaining_ha_2000m"] == pytest.approx((square - west) / 1e4, rel=1e-4)
    assert out.loc[0, "percent_released_2000m"] == pytest.approx(100 * west / square, rel=1e-4)
    # the nearest remaining hazard is now the east half, 1200 m away
    assert out.loc[0, "nearest_hazard_m"] == pytest.approx(1200.0, abs=1e-3)


def test_partly_released_within_the_disc() -> None:
    # release a strip 700-800 m: within 1000 m, remaining = cut(1000) - cut strip
    village = settlement_layer([Point(LON, LAT)])
    square = shapely.Polygon(
        [(700, -500), (800, -500), (1700, -500), (1700, 500), (800, 500), (700, 500)]
    )
    out = settlement_readiness(
        village,
        hazard_layer(to_lonlat([square])),
        release_layer(to_lonlat([box(700, -500, 800, 500)])),
        radii_m=[1000],
    )
    strip = circle_cut_square_m2(1000.0) - circle_cut_square_m2(1000.0, a=800.0)
    expected = circle_cut_square_m2(1000.0) - strip
    assert out.loc[0, "remaining_ha_1000m"] == pytest.approx(expected / 1e4, rel=1e-3)
    assert out.loc[0, "percent_released_1000m"] == pytest.approx(
        100 * strip / circle_cut_square_m2(1000.0), rel=1e-3
    )
    assert out.loc[0, "nearest_hazard_m"] == pytest.approx(800.0, abs=1e-3)


def test_release_after_as_of_does_not_count() -> None:
    village = settlement_layer([Point(LON, LAT)])
    hazards = hazard_layer(to_lonlat([SQUARE]))
    releases = release_layer(to_lonlat([WEST_HALF]), dates=["2023-03-01"])
    before = settlement_readiness(village, hazards, releases, as_of="2023-02-28")
    after = settlement_readiness(village, hazards, releases, as_of="2023-03-01")
    assert before.loc[0, "percent_released_2000m"] == 0.0
    assert after.loc[0, "percent_released_2000m"] > 49.0
    assert before.attrs["as_of"] == "2023-02-28"


def test_release_outside_hazards_counts_for_nothing(square_case: Case) -> None:
    village, hazards, plain = square_case
    elsewhere = release_layer(to_lonlat([box(-1700, -500, -700, 500)]))
    out = settlement_readiness(village, hazards, elsewhere)
    pd.testing.assert_frame_equal(
        out.drop(columns="geometry"), plain.drop(columns="geometry"), check_exact=False
    )


def test_overlapping_hazards_count_once(square_case: Case) -> None:
    village, _, single = square_case
    # the square as a high hazard, and its east part again as a low one
    stacked = hazard_layer(to_lonlat([SQUARE, box(1000, -300, 1900, 300)]), levels=["high", "low"])
    out = settlement_readiness(village, stacked)
    extra = geodesic_m2(to_lonlat([box(1700, -300, 1900, 300)])[0]) / 1e4
    assert out.loc[0, "remaining_ha_1000m"] == pytest.approx(
        single.loc[0, "remaining_ha_1000m"], rel=1e-9
    )
    assert out.loc[0, "remaining_ha_2000m"] == pytest.approx(
        single.loc[0, "remaining_ha_2000m"] + extra, rel=1e-6
    )


def test_disc_scale_gives_the_circle_area() -> None:
    # a hazard covering everything: the hectares within r are those of the circle
    village = settlement_layer([Point(LON, LAT)])
    everything = hazard_layer(to_lonlat([box(-5000, -5000, 5000, 5000)]))
    out = settlement_readiness(village, everything, radii_m=[500, 2000])
    for r in (500, 2000):
        assert out.loc[0, remaining_ha_column(r)] == pytest.approx(math.pi * r * r / 1e4, rel=2e-4)
    assert DISC_SCALE == pytest.approx(1.000803, abs=1e-6)
    assert out.loc[0, "nearest_hazard_m"] == 0.0
    assert out.loc[0, "reason"].startswith("78.5 ha remaining within 500 m (nearest 0 m)")


def test_polygon_settlement_measures_from_its_edge() -> None:
    # a village 400 m square round the centre: its east edge is 500 m from the hazard
    village = settlement_layer(to_lonlat([box(-200, -200, 200, 200)]))
    out = settlement_readiness(village, hazard_layer(to_lonlat([SQUARE])), radii_m=[500, 600])
    assert out.loc[0, "nearest_hazard_m"] == pytest.approx(500.0, abs=0.01)
    assert out.loc[0, "status"] == "blocked"
    # within 600 m of the village: the square's band 700..800 m east, straight along the
    # village's east edge and rounded beyond its corners (a fine buffer in the AEQD
    # frame, where distances this near its centre are true to 1e-8)
    buffered = shapely.buffer(box(-200, -200, 200, 200), 600.0, quad_segs=4096)
    cut = shapely.intersection(buffered, SQUARE)
    expected = shapely.area(cut) / 1e4
    # the buffer's rounded corners are drawn inside their arcs, by at most 0.12 % of the
    # radius: never more than the truth, short by at most that depth along the arcs
    straight = shapely.union(SQUARE.exterior, shapely.LineString([(800, -200), (800, 200)]))
    rounded = shapely.difference(cut.exterior, shapely.buffer(straight, 1e-6)).length
    assert 600 < rounded < 700
    short = 0.0012 * 600 * rounded / 1e4
    assert expected - short <= out.loc[0, "remaining_ha_600m"] <= expected
    assert out.loc[0, "remaining_ha_600m"] == pytest.approx(expected, rel=5e-3)


# ------------------------------------------------------------------------------------------
# status and the rule
# ------------------------------------------------------------------------------------------


def four_villages() -> gpd.GeoDataFrame:
    """Inside the hazard, 300 m, 700 m and 5 km from it (settlement ids S1..S4)."""
    places = [(1000, 0), (400, 0), (0, 0), (-4300, 0)]
    return settlement_layer(to_lonlat([Point(x, y) for x, y in places]))


def test_status_under_default_rule() -> None:
    out = settlement_readiness(four_villages(), hazard_layer(to_lonlat([SQUARE])))
    assert out.status.tolist() == ["blocked", "blocked", "conditional", "ready"]
    assert out.nearest_hazard_m.round(3).tolist() == [0.0, 300.0, 700.0, 5000.0]
    assert out.reason[3] == "no remaining hazard within 2000 m (nearest 5,000 m)"
    assert out.reason[1].endswith("ha remaining within 500 m (nearest 300 m)")


def test_status_under_a_custom_rule() -> None:
    rule = ReadinessRule(blocked_within_m=250, conditional_within_m=800)
    out = settlement_readiness(four_villages(), hazard_layer(to_lonlat([SQUARE])), rule=rule)
    assert out.status.tolist() == ["blocked", "conditional", "conditional", "ready"]
    assert out.attrs["rule"] == (
        "blocked: remaining hazard within 250 m; conditional: remaining hazard within "
        "800 m; ready: otherwise"
    )
    # the rule's distances need not be among the radii: the reasons still quote hectares
    assert out.reason[2] == (
        f"{circle_cut_square_m2(800.0) / 1e4:.1f} ha remaining within 800 m (nearest 700 m)"
    )
    assert "remaining_ha_800m" not in out.columns


def test_no_remaining_hazard_anywhere() -> None:
    hazards = hazard_layer(to_lonlat([SQUARE]))
    releases = release_layer(to_lonlat([box(600, -600, 1800, 600)]))
    out = settlement_readiness(four_villages(), hazards, releases)
    assert out.nearest_hazard_m.isna().all()
    assert (out.status == "ready").all() and (out.reason == "no remaining hazard").all()
    assert out.loc[0, "percent_released_500m"] == 100.0


def test_rule_checks_its_arguments() -> None:
    with pytest.raises(SchemaError, match="conditional_within_m=100 is less than"):
        ReadinessRule(blocked_within_m=500, conditional_within_m=100)
    with pytest.raises(SchemaError, match="blocking_incidents"):
        ReadinessRule(blocking_incidents=-1)
    with pytest.raises(SchemaError, match="blocking_incidents"):
        ReadinessRule(blocking_incidents=1.5)  # type: ignore[arg-type]
    with pytest.raises(SchemaError, match="blocked_within_m=-5 is not a distance"):
        ReadinessRule(blocked_within_m=-5)
    with pytest.raises(SchemaError, match="conditional_within_m=300 is less than"):
        ReadinessRule(conditional_within_m=300).resolved((500, 1000))
    assert ReadinessRule(blocked_within_m=700).resolved((500, 2000)) == ReadinessRule(
        700.0, 2000.0, 1
    )


def test_bad_options_are_refused_with_the_fix() -> None:
    village, hazards = four_villages(), hazard_layer(to_lonlat([SQUARE]))
    with pytest.raises(SchemaError, match=r"radii_m=-1 is not a distance.*number > 0"):
        settlement_readiness(village, hazards, radii_m=[500, -1])
    with pytest.raises(SchemaError, match="must list one or more distances"):
        settlement_readiness(village, hazards, radii_m=[])
    with pytest.raises(SchemaError, match=r"incident_since='2023' is not an ISO date"):
        settlement_readiness(village, hazards, incident_since="2023")
    with pytest.raises(SchemaError, match="within_m=0 is not a distance"):
        communities_at_risk(village, hazards, within_m=0)
    with pytest.raises(SchemaError, match=r"population_radius_m=1e\+30 m is farther than"):
        communities_at_risk(village, hazards, population_radius_m=1e30)
    with pytest.raises(SchemaError, match=r"radii_m=200000 m is farther than .*100,000 m"):
        settlement_readiness(village, hazards, radii_m=[500, 200_000])


# ------------------------------------------------------------------------------------------
# incidents
# ------------------------------------------------------------------------------------------


def incidents_round_the_village() -> gpd.GeoDataFrame:
    """Incidents at known geodesic distances from the village at (LON, LAT)."""
    plan = [  # metres, azimuth, date
        (300.0, 10.0, "2022-05-01"),
        (480.0, 200.0, "2019-01-01"),
        (499.5, 120.0, "2021-03-01"),
        (500.5, 300.0, "2022-01-01"),
        (900.0, 45.0, "2023-01-01"),
    ]
    return incident_layer([fwd(LON, LAT, az, d) for d, az, _ in plan], [p[2] for p in plan])


def test_incidents_counted_by_geodesic_distance_and_since() -> None:
    village = settlement_layer([Point(LON, LAT)])
    far = hazard_layer(to_lonlat([box(20_000, 0, 21_000, 1000)]))
    incidents = incidents_round_the_village()
    every = settlement_readiness(village, far, incidents=incidents)
    assert every.loc[0, "incidents_500m"] == 3  # 300, 480 and 499.5 m; not 500.5 m
    assert every.loc[0, "status"] == "blocked"
    assert every.loc[0, "reason"] == "3 incidents within 500 m"
    recent = settlement_readiness(village, far, incidents=incidents, incident_since="2020-01-01")
    assert recent.loc[0, "incidents_500m"] == 2
    assert recent.loc[0, "reason"] == "2 incidents within 500 m since 2020-01-01"
    assert recent.attrs["incident_since"] == "2020-01-01"
    assert recent.attrs["rule"].endswith(
        "or 1 or more incidents within 500 m since 2020-01-01; conditional: remaining "
        "hazard within 2000 m; ready: otherwise"
    )
    wide = settlement_readiness(village, far, incidents=incidents, incident_radius_m=1000)
    assert wide.loc[0, incidents_column(1000)] == 5
    # as_of: incidents after the day have not happened yet
    then = settlement_readiness(village, far, incidents=incidents, as_of="2020-12-31")
    assert then.loc[0, "incidents_500m"] == 1


def test_incidents_can_be_told_not_to_block() -> None:
    village = settlement_layer([Point(LON, LAT)])
    far = hazard_layer(to_lonlat([box(20_000, 0, 21_000, 1000)]))
    out = settlement_readiness(
        village,
        far,
        incidents=incidents_round_the_village(),
        rule=ReadinessRule(blocking_incidents=4),
    )
    assert out.loc[0, "status"] == "ready"
    assert out.loc[0, "incidents_500m"] == 3


def test_incidents_near_a_polygon_settlement() -> None:
    village = settlement_layer(to_lonlat([box(-200, -200, 200, 200)]))
    east = [fwd(LON, LAT, 90.0, d) for d in (0.0, 150.0, 650.0, 750.0)]
    out = settlement_readiness(
        village,
        hazard_layer(to_lonlat([box(20_000, 0, 21_000, 1000)])),
        incidents=incident_layer(east, ["2022-01-01"] * 4),
    )
    # inside (0, 150 m from the centre) and 450 m from its east edge; not 550 m
    assert out.loc[0, "incidents_500m"] == 3


# ------------------------------------------------------------------------------------------
# where the data are: across UTM zones, across ±180°, round the globe
# ------------------------------------------------------------------------------------------


def test_figures_are_true_in_a_utm_zone_far_from_its_meridian() -> None:
    # 50.5°E lies 5.5° east of zone 38's meridian: UTM metres there are 0.4 % long
    lon, lat, utm = 50.5, 40.0, pyproj.CRS.from_epsg(32638)
    village = settlement_layer([Point(lon, lat)])  # lon/lat, hazards in UTM
    hazards = hazard_layer(to_lonlat([SQUARE], lon, lat, crs=utm), crs=utm)
    out = settlement_readiness(village, hazards)
    assert out.loc[0, "nearest_hazard_m"] == pytest.approx(700.0, abs=0.01)
    assert out.loc[0, "remaining_ha_1000m"] == pytest.approx(
        circle_cut_square_m2(1000.0) / 1e4, rel=1e-3
    )
    settlements_utm = settlement_layer(to_lonlat([Point(0, 0)], lon, lat, crs=utm), crs=utm)
    again = settlement_readiness(settlements_utm, hazards)
    assert again.loc[0, "nearest_hazard_m"] == pytest.approx(700.0, abs=0.01)
    assert again.loc[0, "remaining_ha_1000m"] == pytest.approx(
        circle_cut_square_m2(1000.0) / 1e4, rel=1e-3
    )


def test_across_the_antimeridian_and_round_the_globe() -> None:
    places = [(179.995, 10.0), (-60.0, -30.0), (10.0, 60.0)]
    village = settlement_layer([Point(x, y) for x, y in places])
    squares = [to_lonlat([SQUARE], x, y)[0] for x, y in places]
    assert shapely.bounds(squares[0])[2] > 180.0  # continuous across ±180°
    incidents = incident_layer([fwd(x, y, 270.0, 400.0) for x, y in places], ["2022-01-01"] * 3)
    out = settlement_readiness(village, hazard_layer(squares), incidents=incidents)
    expected = circle_cut_square_m2(1000.0) / 1e4
    assert out.remaining_ha_1000m.tolist() == pytest.approx([expected] * 3, rel=1e-3)
    assert out.nearest_hazard_m.tolist() == pytest.approx([700.0] * 3, abs=0.01)
    assert out.incidents_500m.tolist() == [1, 1, 1]
    assert out.status.tolist() == ["blocked"] * 3


# ------------------------------------------------------------------------------------------
# properties
# ------------------------------------------------------------------------------------------

PROPERTY_SETTINGS = settings(
    max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
SEVERITY = {status: k for k, status in enumerate(STATUSES)}


@st.composite
def layouts(draw: st.DrawFn) -> Layout:
    """A few settlements (points or small squares) and hazards (boxes) on a 100 m grid
    round (LON, LAT), some released."""
    cell = 100.0

    def spot() -> tuple[float, float]:
        return draw(st.integers(-20, 20)) * cell, draw(st.integers(-20, 20)) * cell

    places = []
    for _ in range(draw(st.integers(1, 4))):
        x, y = spot()
        size = draw(st.sampled_from([0, 0, 1, 2])) * cell
        places.append(Point(x, y) if size == 0 else box(x, y, x + size, y + size))
    hazards = []
    for _ in range(draw(st.integers(1, 5))):
        x, y = spot()
        w, h = draw(st.integers(1, 8)) * cell, draw(st.integers(1, 8)) * cell
        hazards.append(box(x, y, x + w, y + h))
    releases = []
    for _ in range(draw(st.integers(0, 3))):
        x, y = spot()
        w, h = draw(st.integers(1, 8)) * cell, draw(st.integers(1, 8)) * cell
        releases.append(box(x, y, x + w, y + h))
    radii = sorted(draw(st.sets(st.integers(1, 30), min_size=2, max_size=4)))
    return (
        settlement_layer(to_lonlat(places)),
        hazard_layer(
            to_lonlat(hazards),
            levels=[draw(st.sampled_from(["high", "medium", "low"])) for _ in hazards],
        ),
        release_layer(to_lonlat(releases)) if releases else None,
        [r * 100.0 for r in radii],
    )


@PROPERTY_SETTINGS
@given(layouts())
def test_properties_of_readiness(layout: Layout) -> None:
    """For random layouts: (1) remaining hectares within a larger radius are at least those
    within a smaller one; (2) percentages lie in [0, 100]; (3) remaining hectares within r
    are positive only if the nearest remaining hazard lies within r; (4) the inputs are
    unchanged; (5) status never gets worse when the rule's distances shrink (and never
    better when they grow)."""
    settlements, hazards, releases, radii = layout
    copies = [
        (layer.copy(), dict(layer.attrs))
        for layer in (settlements, hazards, releases)
        if layer is not None
    ]
    out = settlement_readiness(settlements, hazards, releases, radii_m=radii)
    remaining = out[[remaining_ha_column(r) for r in radii]].to_numpy()
    assert (np.diff(remaining, axis=1) >= -1e-9 * remaining[:, 1:]).all()
    percent = out[[percent_released_column(r) for r in radii]].to_numpy()
    assert ((percent >= 0) & (percent <= 100)).all()
    nearest = out.nearest_hazard_m.to_numpy()
    for k, r in enumerate(radii):
        assert not (remaining[:, k] > 0)[~(nearest <= r)].any()
    for (before, attrs), layer in zip(
        copies, [x for x in (settlements, hazards, releases) if x is not None], strict=True
    ):
        pd.testing.assert_frame_equal(layer, before)
        assert layer.attrs == attrs
    tight = ReadinessRule(radii[0], radii[-2])
    loose = ReadinessRule(radii[1], radii[-1])
    a = settlement_readiness(settlements, hazards, releases, radii_m=radii, rule=tight)
    b = settlement_readiness(settlements, hazards, releases, radii_m=radii, rule=loose)
    assert (a.status.map(SEVERITY) <= b.status.map(SEVERITY)).all()


@PROPERTY_SETTINGS
@given(layouts())
def test_communities_at_risk_are_those_near_remaining_hazard(layout: Layout) -> None:
    settlements, hazards, releases, radii = layout
    within = radii[-1]
    risk = communities_at_risk(settlements, hazards, releases, within_m=within)
    full = settlement_readiness(settlements, hazards, releases, radii_m=[within])
    near = full.loc[full.nearest_hazard_m <= within, "settlement_id"]
    assert sorted(risk.settlement_id) == sorted(near)
    assert risk["rank"].tolist() == list(range(1, len(risk) + 1))
    by_id = full.set_index("settlement_id")
    assert risk.remaining_ha_within.tolist() == pytest.approx(
        by_id.loc[risk.settlement_id, remaining_ha_column(within)].tolist()
    )


# ------------------------------------------------------------------------------------------
# communities at risk
# ------------------------------------------------------------------------------------------


def test_communities_at_risk_ranked_by_population() -> None:
    # S1 700 m from the hazard (1,200 people); S2 5 km away with an incident 300 m from it
    # (5,000); S3 200 m away, population unknown; S4 far and quiet (300)
    places = [(0, 0), (-4300, 0), (500, 0), (-9000, 0)]
    village = settlement_layer(
        to_lonlat([Point(x, y) for x, y in places]), population=[1200, 5000, np.nan, 300]
    )
    s2 = to_lonlat([Point(-4300, 300)])
    incidents = incident_layer(s2 + to_lonlat([Point(-4300, 700)]), ["2023-04-01", "2018-01-01"])
    risk = communities_at_risk(
        village,
        hazard_layer(to_lonlat([SQUARE])),
        incidents=incidents,
        since="2020-01-01",
    )
    assert risk.settlement_id.tolist() == ["S2", "S1", "S3"]
    assert risk["rank"].tolist() == [1, 2, 3]
    assert risk.population_source.tolist() == ["settlements", "settlements", "unknown"]
    assert risk.incidents_within.tolist() == [1, 0, 0]
    assert risk.reason[0] == "1 incident within 1000 m since 2020-01-01"
    assert risk.reason[1] == (
        f"{circle_cut_square_m2(1000.0) / 1e4:.1f} ha remaining within 1000 m (nearest 700 m)"
    )
    assert risk.nearest_hazard_m.round(3).tolist() == [5000.0, 700.0, 200.0]
    assert list(risk.columns) == [
        "rank",
        "settlement_id",
        "name",
        "population",
        "population_source",
        "nearest_hazard_m",
        "remaining_ha_within",
        "incidents_within",
        "reason",
        "geometry",
    ]
    assert risk.geometry.tolist() == village.geometry.iloc[[1, 0, 2]].tolist()
    assert risk.attrs["within_m"] == 1000.0 and risk.attrs["since"] == "2020-01-01"


def test_communities_at_risk_from_a_population_raster(tmp_path: Path) -> None:
    rasterio = pytest.importorskip("rasterio")
    from affine import Affine

    # 10 people per hectare everywhere round the village, in a lon/lat grid of 0.001°
    path = tmp_path / "people.tif"
    lon0, lat0, step, n = LON - 0.1, LAT + 0.1, 0.001, 200
    rows = np.arange(n)
    lat_mid = lat0 - (rows + 0.5) * step
    cell_m2 = np.array(
        [geodesic_m2(box(LON, y - step / 2, LON + step, y + step / 2)) for y in lat_mid]
    )
    grid = np.repeat((10.0 * cell_m2 / 1e4)[:, None], n, axis=1).astype("float64")
    with rasterio.open(
        path, "w", driver="GTiff", width=n, height=n, count=1, dtype="float64",
        crs="EPSG:4326", nodata=-1, transform=Affine(step, 0, lon0, 0, -step, lat0),
    ) as ds:  # fmt: skip
        ds.write(grid, 1)
    village = settlement_layer([Point(LON, LAT)], population=[50.0])
    risk = communities_at_risk(
        village, hazard_layer(to_lonlat([SQUARE])), population=path, population_radius_m=800
    )
    assert risk.population_source.tolist() == ["people.tif within 800 m"]
    assert risk.loc[0, "population"] == pytest.approx(10.0 * math.pi * 800**2 / 1e4, rel=2e-3)


def test_nothing_at_risk_and_no_settlements() -> None:
    village = settlement_layer(to_lonlat([Point(-9000, 0)]))
    hazards = hazard_layer(to_lonlat([SQUARE]))
    assert len(communities_at_risk(village, hazards)) == 0
    empty = settlement_readiness(village.iloc[:0], hazards)
    assert len(empty) == 0 and "status" in empty.columns


# ------------------------------------------------------------------------------------------
# scale
# ------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_scale_20000_settlements_5000_incidents_100000_hazards() -> None:
    from minemap import read_hazards, read_releases
    from minemap.synthetic import make_scenario

    scenario = make_scenario(
        seed=3, n_hazards=100_000, high_ha=600_000, medium_ha=1_000_000, low_ha=900_000
    )
    hazards, releases = read_hazards(scenario.hazards), read_releases(scenario.releases)
    rng = np.random.default_rng(1)
    x0, y0, x1, y1 = hazards.total_bounds
    near = shapely.centroid(hazards.geometry.to_numpy()[rng.integers(0, len(hazards), 10_000)])
    x = np.r_[rng.uniform(x0, x1, 10_000), shapely.get_x(near) + rng.normal(0, 0.01, 10_000)]
    y = np.r_[rng.uniform(y0, y1, 10_000), shapely.get_y(near) + rng.normal(0, 0.01, 10_000)]
    settlements = settlement_layer(shapely.points(x, y), population=rng.uniform(0, 5000, 20_000))
    spots = shapely.centroid(hazards.geometry.to_numpy()[rng.integers(0, len(hazards), 5_000)])
    incidents = incident_layer(
        shapely.points(
            shapely.get_x(spots) + rng.normal(0, 0.02, 5_000),
            shapely.get_y(spots) + rng.normal(0, 0.02, 5_000),
        ),
        pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 2000, 5_000), "D"),
    )
    start = time.perf_counter()
    out = settlement_readiness(settlements, hazards, releases, incidents=incidents)
    seconds = time.perf_counter() - start
    # measured 7 s on the shared 2-core machine (alone: the summary pass included); the
    # bound catches a loop over pairs
    assert seconds < 60.0
    assert len(out) == 20_000 and set(out.status) == set(STATUSES)
    for r in (500, 1000, 2000):
        assert out[remaining_ha_column(r)].between(0, math.pi * r * r / 1e4 * 1.0001).all()
        assert out[percent_released_column(r)].between(0, 100).all()


# ------------------------------------------------------------------------------------------
# what is measured without overlays, and what consecutive calls share
# ------------------------------------------------------------------------------------------


def _star(x: float, y: float, r: float, points: int, turn: float) -> shapely.Polygon:
    """A star of ``points`` points round (x, y), in metres: concave, many edges."""
    angle = turn + np.arange(2 * points) * math.pi / points
    radius = np.where(np.arange(2 * points) % 2 == 0, r, 0.45 * r)
    return shapely.Polygon(
        np.column_stack([x + radius * np.cos(angle), y + radius * np.sin(angle)])
    )


@st.composite
def pieces_and_villages(draw: st.DrawFn) -> tuple[list[shapely.Geometry], list[shapely.Geometry]]:
    """Hazard pieces of every kind (squares, stars, a square with a hole, two-part pieces,
    rings drawn clockwise, a piece larger than the discs) and villages (points, and a
    concave village polygon) within a few km, in metres round the fixtures' centre."""
    coord = st.floats(-3000.0, 3000.0)
    size = st.floats(20.0, 900.0)
    pieces: list[shapely.Geometry] = []
    for _ in range(draw(st.integers(3, 9))):
        x, y, r = draw(coord), draw(coord), draw(size)
        kind = draw(st.sampled_from(["box", "star", "hole", "two", "clockwise"]))
        if kind == "box":
            pieces.append(box(x, y, x + r, y + 0.6 * r))
        elif kind == "star":
            pieces.append(_star(x, y, r, draw(st.integers(3, 9)), draw(st.floats(0.0, 3.0))))
        elif kind == "hole":
            pieces.append(
                box(x, y, x + r, y + r).difference(box(x + r / 4, y + r / 4, x + r / 2, y + r / 2))
            )
        elif kind == "two":
            pieces.append(
                shapely.MultiPolygon([box(x, y, x + r, y + r), box(x + 2 * r, y, x + 3 * r, y + r)])
            )
        else:
            pieces.append(shapely.Polygon(list(box(x, y, x + r, y + r).exterior.coords)[::-1]))
    if draw(st.booleans()):
        pieces.append(box(-6000, -6000, 6000, 6000))  # larger than every disc
    villages: list[shapely.Geometry] = [Point(draw(coord), draw(coord)) for _ in range(3)]
    villages.append(Point(0.0, 0.0))
    villages.append(
        shapely.Polygon(
            [(-400, -400), (400, -400), (400, -250), (-250, -250), (-250, 400), (-400, 400)]
        )
    )
    return pieces, villages


@PROPERTY_SETTINGS
@given(pieces_and_villages(), st.sampled_from([WGS84, pyproj.CRS.from_epsg(32638)]))
def test_areas_within_discs_are_the_overlays_areas(
    case: tuple[list[shapely.Geometry], list[shapely.Geometry]], crs: pyproj.CRS
) -> None:
    # pieces cut by a disc's edges in arrays (convex discs round points; a concave village's
    # buffer as its hull less its pockets) hold what GEOS's overlay of the same disc holds
    from minemap import crs as _crs
    from minemap._overlay import polygonal_parts
    from minemap.readiness import _Discs, _discs

    pieces_m, villages_m = case
    pieces = np.array(to_lonlat(pieces_m, crs=crs), dtype=object)
    villages = np.array(to_lonlat(villages_m, crs=crs), dtype=object)
    frame = _crs.laea_frame(LON, LAT)
    radii = (2000.0, 1000.0, 500.0)
    piece_m2 = _crs.area_m2(pieces, crs, frame)
    discs = _Discs.make(villages, crs, radii, crs, frame)
    s, k, m2 = discs.area_within(pieces, piece_m2, crs, frame)
    for r, radius in enumerate(radii):
        disc = _discs(villages, crs, radius, crs, frame)
        expected = np.zeros((len(villages), len(pieces)))
        for i in range(len(villages)):
            cut = polygonal_parts(shapely.intersection(pieces, disc[i]))
            expected[i] = _crs.area_m2(cut, crs, frame)
        got = np.zeros_like(expected)
        np.add.at(got, (s, k), m2[:, r])
        # the same figures but for rounding: a projected CRS's area scale is a finite
        # difference (minemap.crs.local_metric), which moves by ~1e-9 between two centroids
        # a few nanometres apart
        assert got == pytest.approx(expected, rel=1e-8, abs=1e-3), radius


def test_a_concave_village_leaves_its_pockets_out() -> None:
    # an L-shaped village: its 600 m buffer is concave, and the hazard reaches into the
    # bay the buffer leaves round the L's inner corner
    from minemap import crs as _crs
    from minemap.readiness import _discs

    village_m = shapely.Polygon(
        [(-400, -400), (400, -400), (400, -250), (-250, -250), (-250, 400), (-400, 400)]
    )
    hazard_m = box(300, 300, 1500, 1500)
    village = settlement_layer(to_lonlat([village_m]))
    hazards = hazard_layer(to_lonlat([hazard_m]))
    out = settlement_readiness(village, hazards, radii_m=[600, 900])
    frame = _crs.area_frame(hazards)
    for radius in (600, 900):
        disc = _discs(np.asarray(village.geometry.array), WGS84, radius, WGS84, frame)[0]
        hull = shapely.convex_hull(disc)
        assert hull.area > disc.area  # the buffer is concave here
        expected = _crs.area_m2(
            np.array([shapely.intersection(hazards.geometry.iloc[0], disc)]), WGS84, frame
        )[0]
        assert out.loc[0, remaining_ha_column(radius)] == pytest.approx(expected / 1e4, rel=1e-9)


def test_communities_after_readiness_are_those_measured_alone() -> None:
    from minemap import read_hazards, read_releases
    from minemap.readiness import _forget_shared

    villages = four_villages()
    hazards = read_hazards(hazard_layer(to_lonlat([SQUARE])))
    releases = read_releases(release_layer(to_lonlat([WEST_HALF])))
    incidents = incident_layer(to_lonlat([Point(-4300, 100)]), ["2023-03-01"])
    settlement_readiness(villages, hazards, releases, incidents=incidents)
    after = communities_at_risk(villages, hazards, releases, incidents=incidents)
    _forget_shared()
    alone = communities_at_risk(villages, hazards, releases, incidents=incidents)
    pd.testing.assert_frame_equal(pd.DataFrame(after), pd.DataFrame(alone), check_exact=True)
    assert after.attrs == alone.attrs


def test_layers_changed_in_place_are_measured_again() -> None:
    # results are kept for the next call on the same layers: never once they changed
    from minemap import read_hazards, read_releases

    villages = four_villages()
    hazards = read_hazards(hazard_layer(to_lonlat([SQUARE])))
    releases = read_releases(release_layer(to_lonlat([WEST_HALF])))
    first = settlement_readiness(villages, hazards, releases)
    farther = to_lonlat([affinity.translate(SQUARE, xoff=1000.0)])[0]
    hazards.loc[0, "geometry"] = farther  # the hazard moved 1 km east, in place
    moved = settlement_readiness(villages, hazards, releases)
    fresh = settlement_readiness(
        villages,
        read_hazards(hazard_layer([farther])),
        read_releases(release_layer(to_lonlat([WEST_HALF]))),
    )
    pd.testing.assert_frame_equal(pd.DataFrame(moved), pd.DataFrame(fresh), check_exact=True)
    assert (moved["nearest_hazard_m"] > first["nearest_hazard_m"] + 400).all()
    releases.loc[0, "release_date"] = pd.Timestamp("2030-01-01")  # released later, in place
    later = settlement_readiness(villages, hazards, releases, as_of="2025-01-01")
    unreleased = settlement_readiness(villages, read_hazards(hazard_layer([farther])))
    columns = [remaining_ha_column(r) for r in (500, 1000, 2000)] + ["nearest_hazard_m"]
    assert later[columns].to_numpy() == pytest.approx(unreleased[columns].to_numpy(), rel=1e-12)
    villages.loc[0, "geometry"] = to_lonlat([Point(-9000, 0)])[0]  # a village moved away
    assert settlement_readiness(villages, hazards, releases).loc[0, "status"] == "ready"
