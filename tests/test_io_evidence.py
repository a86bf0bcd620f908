"""Tests of minemap.io.evidence: reading incidents, device finds, minefield records and
settlements from every format, with column mapping, device vocabulary and bad input."""

from __future__ import annotations

import copy
import datetime
import warnings
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely import LineString, MultiPoint, Point, Polygon, box

from minemap import io as mio
from minemap._errors import (
    CoordinateError,
    CRSError,
    DataWarning,
    DuplicateIdWarning,
    GeometryTypeError,
    RepairWarning,
    SchemaError,
)
from minemap.io import evidence
from minemap.settings import DEVICE_TYPES
from minemap.vocabulary import load_vocabularies

# ------------------------------------------------------------------------------------------
# hand-made layers with known answers
# ------------------------------------------------------------------------------------------

POINTS = [Point(46.7512, 39.8123), Point(46.7601, 39.8044), Point(46.7733, 39.8291)]
FIELD = box(46.70, 39.80, 46.71, 39.81)
VILLAGE = box(46.90, 39.95, 46.92, 39.97)


def incidents_gdf() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "incident_id": ["I1", "I2", "I3"],
            "incident_date": ["2021-04-02", "2022-11-30", "2023-01-15"],
            "killed": [1, 0, 2],
            "injured": [0, 3, 1],
            "device_type": ["APM", "Anti-Tank Mine", "UXO"],
            "victim_activity": ["farming", "", "herding"],
            "village": ["Qaraqaya", "Boyahmadli", "Shukurbayli"],
        },
        geometry=POINTS,
        crs=4326,
    )


def finds_gdf() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "find_id": ["F1", "F2", "F3"],
            "find_date": ["2022-05-01", "2022-05-03", "2022-06-10"],
            "device_type": ["ap_mine", "cluster munition", None],
            "device_count": [1, 4, 2],
            "release_id": ["R1", None, "R2"],
        },
        geometry=POINTS,
        crs=4326,
    )


def records_gdf() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "record_id": ["MF-1", "MF-2"],
            "recorded_devices": [120, None],
            "device_type": ["AT mine", None],
        },
        geometry=[FIELD, POINTS[2]],
        crs=4326,
    )


def settlements_gdf() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "settlement_id": ["S1", "S2", "S3"],
            "name": ["Aghdam", "Fuzuli", None],
            "population": [28000, None, 350],
        },
        geometry=[POINTS[0], VILLAGE, POINTS[1]],
        crs=4326,
    )


Reader = Callable[..., gpd.GeoDataFrame]
READERS: dict[str, tuple[Reader, Callable[[], gpd.GeoDataFrame]]] = {
    "incidents": (evidence.read_incidents, incidents_gdf),
    "finds": (evidence.read_finds, finds_gdf),
    "records": (evidence.read_records, records_gdf),
    "settlements": (evidence.read_settlements, settlements_gdf),
}


def write(gdf: gpd.GeoDataFrame, path: Path, **kwargs: object) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        pyogrio.write_dataframe(gdf, path, **kwargs)
    return path


def write_lonlat_csv(gdf: gpd.GeoDataFrame, path: Path) -> Path:
    frame = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    frame["lon"] = gdf.geometry.x
    frame["lat"] = gdf.geometry.y
    frame.to_csv(path, index=False)
    return path


def write_wkt_csv(gdf: gpd.GeoDataFrame, path: Path) -> Path:
    frame = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    frame["WKT"] = shapely.to_wkt(gdf.geometry.array, rounding_precision=-1)
    frame.to_csv(path, index=False)
    return path


def xy(gdf: gpd.GeoDataFrame) -> list[tuple[float, float]]:
    return [(p.x, p.y) for p in gdf.geometry]


def check_incidents(out: gpd.GeoDataFrame) -> None:
    assert list(out.columns[:6]) == [
        "incident_id",
        "incident_date",
        "killed",
        "injured",
        "device_type",
        "victim_activity",
    ]
    assert out["incident_id"].tolist() == ["I1", "I2", "I3"]
    assert out["incident_date"].dtype == "datetime64[ns]"
    assert out["incident_date"].dt.strftime("%Y-%m-%d").tolist() == [
        "2021-04-02",
        "2022-11-30",
        "2023-01-15",
    ]
    assert out["killed"].dtype == "int64" and out["injured"].dtype == "int64"
    assert out["killed"].tolist() == [1, 0, 2] and out["injured"].tolist() == [0, 3, 1]
    assert out["device_type"].tolist() == ["ap_mine", "at_mine", "uxo"]
    assert out["victim_activity"].tolist() == ["farming", "", "herding"]
    assert out["village"].tolist() == ["Qaraqaya", "Boyahmadli", "Shukurbayli"]
    assert xy(out) == [(p.x, p.y) for p in POINTS]
    assert out.attrs["minemap"] == "incidents"


def check_finds(out: gpd.GeoDataFrame) -> None:
    assert list(out.columns[:5]) == [
        "find_id",
        "find_date",
        "device_type",
        "device_count",
        "release_id",
    ]
    assert out["find_date"].dtype == "datetime64[ns]"
    assert out["find_date"].dt.strftime("%Y-%m-%d").tolist() == [
        "2022-05-01",
        "2022-05-03",
        "2022-06-10",
    ]
    assert out["device_type"].tolist() == ["ap_mine", "submunition", "unknown"]
    assert out["device_count"].dtype == "int64"
    assert out["device_count"].tolist() == [1, 4, 2]
    assert out["release_id"].dtype == object
    assert out["release_id"].tolist() == ["R1", None, "R2"]
    assert xy(out) == [(p.x, p.y) for p in POINTS]
    assert out.attrs["minemap"] == "finds"


def check_records(out: gpd.GeoDataFrame) -> None:
    assert list(out.columns[:3]) == ["record_id", "recorded_devices", "device_type"]
    assert out["recorded_devices"].dtype == "Int64"
    assert out["recorded_devices"].iloc[0] == 120 and pd.isna(out["recorded_devices"].iloc[1])
    assert out["device_type"].tolist() == ["at_mine", "unknown"]
    assert out.geometry.iloc[0].normalize().equals(FIELD.normalize())
    assert out.geometry.iloc[1].equals(POINTS[2])
    assert out.attrs["minemap"] == "records" and out.attrs["edges"] == "planar"


def check_settlements(out: gpd.GeoDataFrame) -> None:
    assert list(out.columns[:3]) == ["settlement_id", "name", "population"]
    assert out["name"].tolist() == ["Aghdam", "Fuzuli", ""]
    assert out["population"].dtype == "float64"
    assert out["population"].iloc[[0, 2]].tolist() == [28000.0, 350.0]
    assert np.isnan(out["population"].iloc[1])
    assert out.geometry.iloc[0].equals(POINTS[0]) and out.geometry.iloc[2].equals(POINTS[1])
    assert out.geometry.iloc[1].normalize().equals(VILLAGE.normalize())
    assert out.attrs["minemap"] == "settlements"


CHECKS: dict[str, Callable[[gpd.GeoDataFrame], None]] = {
    "incidents": check_incidents,
    "finds": check_finds,
    "records": check_records,
    "settlements": check_settlements,
}


# ------------------------------------------------------------------------------------------
# formats
# ------------------------------------------------------------------------------------------


def test_each_reader_finds_its_layer_in_one_geopackage(tmp_path: Path) -> None:
    path = tmp_path / "evidence.gpkg"
    for kind, (_, make) in READERS.items():
        write(make(), path, layer=kind)
    for kind, (read, _) in READERS.items():
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            out = read(path)
        CHECKS[kind](out)
        assert out.attrs["source"] == f"evidence.gpkg (layer {kind!r})"
        assert out.crs.equals("EPSG:4326")


@pytest.mark.parametrize("kind", list(READERS))
def test_geojson(tmp_path: Path, kind: str) -> None:
    read, make = READERS[kind]
    out = read(write(make(), tmp_path / f"{kind}.geojson"))
    CHECKS[kind](out)
    assert out.attrs["source"] == f"{kind}.geojson"


@pytest.mark.parametrize("kind", ["incidents", "finds"])
def test_csv_with_lon_lat_columns_just_works(tmp_path: Path, kind: str) -> None:
    read, make = READERS[kind]
    path = write_lonlat_csv(make(), tmp_path / f"{kind}.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = read(path)
    CHECKS[kind](out.drop(columns=["lon", "lat"]))
    assert out.crs.equals("EPSG:4326") and out.attrs["source"] == f"{kind}.csv"


def test_settlements_and_record_locations_from_lon_lat_csv(tmp_path: Path) -> None:
    towns = settlements_gdf().iloc[[0, 2]]
    out = evidence.read_settlements(write_lonlat_csv(towns, tmp_path / "towns.csv"))
    assert out["name"].tolist() == ["Aghdam", ""]
    assert out["population"].tolist() == [28000.0, 350.0]
    assert xy(out) == [(POINTS[0].x, POINTS[0].y), (POINTS[1].x, POINTS[1].y)]
    spots = records_gdf().iloc[[1]]
    out = evidence.read_records(write_lonlat_csv(spots, tmp_path / "spots.csv"))
    assert out["record_id"].tolist() == ["MF-2"] and pd.isna(out["recorded_devices"].iloc[0])
    assert xy(out) == [(POINTS[2].x, POINTS[2].y)]


@pytest.mark.parametrize("kind", ["records", "settlements"])
def test_csv_with_wkt_mixing_polygons_and_points(tmp_path: Path, kind: str) -> None:
    read, make = READERS[kind]
    out = read(write_wkt_csv(make(), tmp_path / f"{kind}.csv"), crs="EPSG:4326")
    CHECKS[kind](out)


def test_x_y_columns_named_by_the_caller(tmp_path: Path) -> None:
    path = tmp_path / "finds.csv"
    path.write_text("find_id,find_date,E,N\nF1,2022-05-01,500123.5,4400000.25\n", encoding="utf-8")
    out = evidence.read_finds(path, x_column="E", y_column="N", crs="EPSG:32638")
    assert xy(out) == [(500123.5, 4400000.25)] and out.crs.equals("EPSG:32638")


def test_exports() -> None:
    assert mio.read_incidents is evidence.read_incidents
    assert mio.read_finds is evidence.read_finds
    assert mio.read_records is evidence.read_records
    assert mio.read_settlements is evidence.read_settlements
    assert {"read_incidents", "read_finds", "read_records", "read_settlements"} <= set(mio.__all__)


# ------------------------------------------------------------------------------------------
# column mapping
# ------------------------------------------------------------------------------------------


def test_incident_columns_under_other_names() -> None:
    raw = incidents_gdf().rename(
        columns={
            "incident_id": "code",
            "incident_date": "Date",
            "killed": "dead",
            "injured": "hurt",
            "device_type": "Type",
            "victim_activity": "Activity",
        }
    )
    out = evidence.read_incidents(
        raw,
        id_column="code",
        date_column="Date",
        killed_column="dead",
        injured_column="hurt",
        device_column="Type",
        activity_column="Activity",
    )
    check_incidents(out)
    assert {"code", "Date", "dead", "hurt", "Type", "Activity"} <= set(out.columns)


def test_find_record_and_settlement_columns_under_other_names() -> None:
    finds = finds_gdf().rename(
        columns={
            "find_id": "id",
            "find_date": "day",
            "device_type": "item",
            "device_count": "n",
            "release_id": "task",
        }
    )
    check_finds(
        evidence.read_finds(
            finds,
            id_column="id",
            date_column="day",
            device_column="item",
            count_column="n",
            release_column="task",
        )
    )
    records = records_gdf().rename(columns={"record_id": "ref", "recorded_devices": "laid"})
    check_records(evidence.read_records(records, id_column="ref", count_column="laid"))
    towns = settlements_gdf().rename(
        columns={"settlement_id": "pcode", "name": "NAME_EN", "population": "pop2019"}
    )
    check_settlements(
        evidence.read_settlements(
            towns, id_column="pcode", name_column="NAME_EN", population_column="pop2019"
        )
    )


@pytest.mark.parametrize(
    ("kind", "option"),
    [
        ("incidents", "date_column"),
        ("incidents", "killed_column"),
        ("incidents", "activity_column"),
        ("finds", "count_column"),
        ("finds", "release_column"),
        ("finds", "device_column"),
        ("records", "count_column"),
        ("settlements", "name_column"),
        ("settlements", "population_column"),
    ],
)
def test_a_named_column_that_is_absent_is_refused(kind: str, option: str) -> None:
    read, make = READERS[kind]
    with pytest.raises(SchemaError) as excinfo:
        read(make(), **{option: "no_such"})
    text = str(excinfo.value)
    assert "'no_such'" in text and f"{option}=" in text and f"the {kind} GeoDataFrame" in text


# ------------------------------------------------------------------------------------------
# device vocabulary
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "device"),
    [
        ("AP mine", "ap_mine"),
        ("APM", "ap_mine"),
        ("anti-personnel mine", "ap_mine"),
        ("Antipersonnel", "ap_mine"),
        ("ap_mine", "ap_mine"),
        ("AT mine", "at_mine"),
        ("ATM", "at_mine"),
        ("anti-tank mine", "at_mine"),
        ("Anti vehicle mine", "at_mine"),
        ("UXO", "uxo"),
        ("unexploded ordnance", "uxo"),
        ("ERW", "uxo"),
        ("AXO", "uxo"),
        ("abandoned explosive ordnance", "uxo"),
        ("submunition", "submunition"),
        ("Cluster submunition", "submunition"),
        ("cluster munition", "submunition"),
        ("bomblet", "submunition"),
        ("CM", "submunition"),
        ("IED", "ied"),
        ("improvised explosive device", "ied"),
        ("  Unknown ", "unknown"),
        (None, "unknown"),
        ("", "unknown"),
        ("   ", "unknown"),
    ],
)
def test_imas_device_words_are_built_in(word: str | None, device: str) -> None:
    raw = finds_gdf().iloc[[0]].assign(device_type=[word])
    assert evidence.read_finds(raw)["device_type"].tolist() == [device]


def test_a_layer_without_device_column_is_unknown() -> None:
    out = evidence.read_finds(finds_gdf().drop(columns="device_type"))
    assert out["device_type"].tolist() == ["unknown"] * 3


def test_device_map_maps_the_users_words_and_overrides_built_ins() -> None:
    raw = finds_gdf().assign(device_type=["Mina antipersonal", "CM", "PMN-2"])
    out = evidence.read_finds(
        raw, device_map={"mina antipersonal": "AP mine", "CM": "unknown", "PMN 2": "ap_mine"}
    )
    assert out["device_type"].tolist() == ["ap_mine", "unknown", "ap_mine"]
    for read, make in (READERS["incidents"], READERS["records"]):
        out = read(make().assign(device_type="Mina"), device_map={"Mina": "at_mine"})
        assert set(out["device_type"]) == {"at_mine"}


def test_device_map_onto_an_unknown_type_is_refused() -> None:
    with pytest.raises(SchemaError) as excinfo:
        evidence.read_finds(finds_gdf(), device_map={"Mina": "landmine"})
    text = str(excinfo.value)
    assert text.startswith("device_map: 'Mina' maps to 'landmine'")
    assert ", ".join(DEVICE_TYPES) in text


def test_an_unknown_device_word_is_refused_saying_how_to_map_it() -> None:
    raw = finds_gdf().assign(device_type=["ap_mine", "Flugzeugbombe", "uxo"])
    with pytest.raises(SchemaError) as excinfo:
        evidence.read_finds(raw)
    text = str(excinfo.value)
    assert "'Flugzeugbombe'" in text and "'F2'" in text and "'F1'" not in text
    assert "device_map={'Flugzeugbombe': '<ap_mine|at_mine|uxo|submunition|ied|unknown>'}" in text
    assert "device_column=" in text and "the finds GeoDataFrame" in text


def test_an_unknown_device_word_names_the_device_table_of_a_vocabulary_file() -> None:
    raw = finds_gdf().assign(device_type=["ap_mine", "Flugzeugbombe", "uxo"])
    with pytest.raises(SchemaError, match=r'\[device_type\] "Flugzeugbombe"'):
        evidence.read_finds(raw)


def test_a_vocabulary_file_feeds_device_map(tmp_path: Path) -> None:
    path = tmp_path / "vocabulary.toml"
    path.write_text('[device_type]\n"Mina antipersonal" = "AP mine"\n', encoding="utf-8")
    maps = load_vocabularies(path)
    raw = finds_gdf().assign(device_type=["Mina antipersonal", "ERW", "IED"])
    out = evidence.read_finds(raw, device_map=maps["device_map"])
    assert out["device_type"].tolist() == ["ap_mine", "uxo", "ied"]


# ------------------------------------------------------------------------------------------
# dates
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "what"), [("incidents", "incident"), ("finds", "find")])
def test_future_dates_are_refused_naming_the_ids(kind: str, what: str) -> None:
    read, make = READERS[kind]
    raw = make()
    later = (datetime.date.today() + datetime.timedelta(days=3)).isoformat()
    raw.loc[1, f"{what}_date"] = later
    with pytest.raises(SchemaError) as excinfo:
        read(raw)
    text = str(excinfo.value)
    assert f"1 {what}(s) are dated after today" in text
    assert f"'{raw[f'{what}_id'].iloc[1]}'" in text and f"'{later}'" in text
    assert "correct those dates" in text


@pytest.mark.parametrize(("kind", "what"), [("incidents", "incident"), ("finds", "find")])
@pytest.mark.parametrize("value", ["0001-01-01", "1850-03-01", datetime.date(1, 1, 1)])
def test_dates_before_1900_are_refused_naming_the_ids(kind: str, what: str, value: object) -> None:
    # a "no date" filler once failed deep inside pandas (no day before 1677 fits)
    read, make = READERS[kind]
    raw = make()
    raw[f"{what}_date"] = raw[f"{what}_date"].astype(object)
    raw.loc[0, f"{what}_date"] = value
    with pytest.raises(SchemaError) as excinfo:
        read(raw)
    text = str(excinfo.value)
    assert f"1 {what}(s) are dated before 1900-01-01 in '{what}_date'" in text
    assert f"'{raw[f'{what}_id'].iloc[0]}'" in text and f"'{str(value)[:4]}-" in text


def test_a_datetime_column_before_1900_is_refused() -> None:
    raw = incidents_gdf()
    raw["incident_date"] = pd.to_datetime(["1850-01-01", "2021-01-01", "2021-02-01"])
    with pytest.raises(SchemaError, match=r"dated before 1900-01-01.*'1850-01-01'"):
        evidence.read_incidents(raw)


def test_today_is_not_in_the_future() -> None:
    raw = incidents_gdf().assign(incident_date=datetime.date.today().isoformat())
    assert len(evidence.read_incidents(raw)) == 3


@pytest.mark.parametrize(("kind", "what"), [("incidents", "incident"), ("finds", "find")])
@pytest.mark.parametrize("value", [None, "", "5/1/2022", "2022", "last spring"])
def test_missing_or_unparseable_dates_are_refused(kind: str, what: str, value: object) -> None:
    read, make = READERS[kind]
    raw = make()
    raw[f"{what}_date"] = raw[f"{what}_date"].astype(object)
    raw.loc[2, f"{what}_date"] = value
    with pytest.raises(SchemaError) as excinfo:
        read(raw)
    text = str(excinfo.value)
    assert f"1 {what}(s) have a missing or unparseable date in '{what}_date'" in text
    assert f"'{raw[f'{what}_id'].iloc[2]}'" in text
    assert "write dates as YYYY-MM-DD" in text and "date_column=" in text


def test_a_missing_date_column_is_refused() -> None:
    with pytest.raises(SchemaError, match=r"no column 'find_date'.*date_column="):
        evidence.read_finds(finds_gdf().drop(columns="find_date"))


def test_dates_keep_the_day_they_were_written_with() -> None:
    raw = finds_gdf().assign(
        find_date=["2022-05-01T02:00+04:00", "2022-05-03T23:30:00", "2022-06-10 08:00"]
    )
    out = evidence.read_finds(raw)
    assert out["find_date"].dt.strftime("%Y-%m-%d").tolist() == [
        "2022-05-01",
        "2022-05-03",
        "2022-06-10",
    ]
    aware = finds_gdf()
    # 02:00 in Baku (UTC+4) is still 30 April in UTC: the day stays the one written
    aware["find_date"] = pd.DatetimeIndex(
        ["2022-05-01 02:00", "2022-05-03 00:00", "2022-06-10 23:59"], tz="Asia/Baku"
    )
    out = evidence.read_finds(aware)
    assert out["find_date"].dtype == "datetime64[ns]"
    assert out["find_date"].dt.strftime("%Y-%m-%d").tolist() == [
        "2022-05-01",
        "2022-05-03",
        "2022-06-10",
    ]


# ------------------------------------------------------------------------------------------
# counts
# ------------------------------------------------------------------------------------------

COUNT_COLUMNS = [
    ("incidents", "killed", "killed_column"),
    ("incidents", "injured", "injured_column"),
    ("finds", "device_count", "count_column"),
    ("records", "recorded_devices", "count_column"),
]


@pytest.mark.parametrize(("kind", "column", "option"), COUNT_COLUMNS)
@pytest.mark.parametrize(
    "value", [2.5, -1, "three", "-3", "2.5", True, float("inf"), "1e3", 2**62, "9" * 30]
)
def test_negative_fractional_or_text_counts_are_refused(
    kind: str, column: str, option: str, value: object
) -> None:
    read, make = READERS[kind]
    raw = make()
    raw[column] = raw[column].astype(object)
    raw.loc[1, column] = value
    ident = raw.iloc[1, 0]
    with pytest.raises(SchemaError) as excinfo:
        read(raw)
    text = str(excinfo.value)
    assert (
        f"column {column!r} holds 1 value(s) that are not whole numbers of 0 or more, up to "
        "1,000,000,000" in text
    )
    assert f"ids {ident!r}" in text and f"values {str(value)!r}" in text
    assert "write each count as a whole number such as 0, 1 or 12" in text
    assert f"{option}=" in text


@pytest.mark.parametrize(("kind", "column", "option"), COUNT_COLUMNS)
@pytest.mark.parametrize(("value", "count"), [(3.0, 3), ("3", 3), (" 4 ", 4), ("3.0", 3), (0, 0)])
def test_whole_numbers_written_as_floats_or_text_are_counts(
    kind: str, column: str, option: str, value: object, count: int
) -> None:
    read, make = READERS[kind]
    raw = make()
    raw[column] = raw[column].astype(object)
    raw.loc[0, column] = value
    out = read(raw)
    assert out[column].iloc[0] == count
    assert out[column].dtype == ("Int64" if kind == "records" else "int64")


@pytest.mark.parametrize(("kind", "column", "option"), COUNT_COLUMNS[:3])
@pytest.mark.parametrize("value", [None, np.nan, ""])
def test_a_missing_count_in_a_present_column_is_refused(
    kind: str, column: str, option: str, value: object
) -> None:
    read, make = READERS[kind]
    raw = make()
    raw[column] = raw[column].astype(object)
    raw.loc[2, column] = value
    with pytest.raises(SchemaError) as excinfo:
        read(raw)
    text = str(excinfo.value)
    assert f"have no value in {column!r} (ids {raw.iloc[2, 0]!r})" in text
    assert "write the count (0 when there were none)" in text and f"{option}=" in text


def test_a_record_may_give_no_count() -> None:
    raw = records_gdf().assign(recorded_devices=["", None])
    out = evidence.read_records(raw)
    assert out["recorded_devices"].isna().all() and out["recorded_devices"].dtype == "Int64"


def test_a_record_layer_without_counts_warns_and_gives_na() -> None:
    with pytest.warns(DataWarning, match=r"no 'recorded_devices' column.*count_column="):
        out = evidence.read_records(records_gdf().drop(columns="recorded_devices"))
    assert out["recorded_devices"].isna().all() and out["recorded_devices"].dtype == "Int64"


def test_absent_casualty_columns_count_zero_with_one_warning() -> None:
    raw = incidents_gdf().drop(columns=["killed", "injured"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = evidence.read_incidents(raw)
    assert len(caught) == 1 and caught[0].category is DataWarning
    text = str(caught[0].message)
    assert "no 'killed' and 'injured' column" in text
    assert "killed_column=" in text and "injured_column=" in text
    assert out["killed"].tolist() == [0, 0, 0] and out["injured"].tolist() == [0, 0, 0]
    assert out["killed"].dtype == "int64"
    with pytest.warns(DataWarning, match=r"no 'injured' column; every incident is counted"):
        out = evidence.read_incidents(incidents_gdf().drop(columns="injured"))
    assert out["killed"].tolist() == [1, 0, 2] and out["injured"].tolist() == [0, 0, 0]


def test_finds_without_a_count_column_are_one_device_each_without_a_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = evidence.read_finds(finds_gdf().drop(columns="device_count"))
    assert out["device_count"].tolist() == [1, 1, 1] and out["device_count"].dtype == "int64"


def test_finds_without_release_column_have_no_release() -> None:
    out = evidence.read_finds(finds_gdf().drop(columns="release_id"))
    assert out["release_id"].tolist() == [None, None, None]


#: Ways a whole count is written: a number, a float, text, text with a zero fraction.
WRITTEN_FORMS: list[Callable[[int], object]] = [int, float, str, lambda n: f" {n}.0 ", np.int64]


@st.composite
def written_counts(draw: st.DrawFn) -> tuple[list[object], list[int]]:
    counts = draw(st.lists(st.integers(0, 1_000_000_000), min_size=1, max_size=6))
    forms = draw(
        st.lists(
            st.sampled_from(WRITTEN_FORMS),
            min_size=len(counts),
            max_size=len(counts),
        )
    )
    return [form(n) for form, n in zip(forms, counts, strict=True)], counts


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(written=written_counts())
def test_valid_whole_counts_round_trip(written: tuple[list[object], list[int]]) -> None:
    values, counts = written
    n = len(counts)
    geoms = [Point(46.0 + i * 0.001, 39.0) for i in range(n)]
    base = {"incident_date": ["2021-01-01"] * n}
    raw = gpd.GeoDataFrame(
        {"incident_id": [f"I{i}" for i in range(n)], **base, "killed": values, "injured": values},
        geometry=geoms,
        crs=4326,
    )
    out = evidence.read_incidents(raw)
    assert out["killed"].tolist() == counts and out["injured"].tolist() == counts
    finds = gpd.GeoDataFrame(
        {"find_id": [f"F{i}" for i in range(n)], "find_date": ["2021-01-01"] * n},
        geometry=geoms,
        crs=4326,
    ).assign(device_count=values)
    assert evidence.read_finds(finds)["device_count"].tolist() == counts
    records = gpd.GeoDataFrame(
        {"record_id": [f"R{i}" for i in range(n)], "recorded_devices": values},
        geometry=geoms,
        crs=4326,
    )
    assert evidence.read_records(records)["recorded_devices"].tolist() == counts


@settings(max_examples=25, deadline=None)
@given(counts=st.lists(st.integers(0, 10**9), min_size=1, max_size=5))
def test_a_canonical_layer_reads_back_the_same(counts: list[int]) -> None:
    n = len(counts)
    raw = gpd.GeoDataFrame(
        {
            "find_id": [f"F{i}" for i in range(n)],
            "find_date": ["2022-02-02"] * n,
            "device_count": counts,
        },
        geometry=[Point(46.0 + i * 0.001, 39.0) for i in range(n)],
        crs=4326,
    )
    once = evidence.read_finds(raw)
    twice = evidence.read_finds(once)
    assert_geodataframe_equal(once, twice)
    assert twice.attrs == once.attrs


# ------------------------------------------------------------------------------------------
# population
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["many", "1,200", "1 200", "inf", True, -np.inf])
def test_non_numeric_population_is_refused(value: object) -> None:
    raw = settlements_gdf()
    raw["population"] = raw["population"].astype(object)
    raw.loc[0, "population"] = value
    with pytest.raises(SchemaError) as excinfo:
        evidence.read_settlements(raw)
    text = str(excinfo.value)
    assert "column 'population' holds 1 value(s) that are not numbers (ids 'S1'" in text
    assert "plain number such as 1200" in text and "population_column=" in text


def test_negative_population_is_refused() -> None:
    raw = settlements_gdf().assign(population=[100, -5, "-0.5"])
    with pytest.raises(SchemaError) as excinfo:
        evidence.read_settlements(raw)
    text = str(excinfo.value)
    assert "2 settlement(s) have a negative population" in text and "'S2', 'S3'" in text
    assert "a population is 0 or more" in text


@pytest.mark.parametrize("value", ["1.200", 2.5, "0.5"])
def test_a_population_that_is_not_whole_is_refused(value: object) -> None:
    # "1.200" is 1,200 people where a dot separates thousands, never 1.2 people
    raw = settlements_gdf()
    raw["population"] = raw["population"].astype(object)
    raw.loc[1, "population"] = value
    with pytest.raises(SchemaError) as excinfo:
        evidence.read_settlements(raw)
    text = str(excinfo.value)
    assert "1 settlement(s) have a population that is not a whole number" in text
    assert f"(ids 'S2'; values '{value}')" in text and "1200, not 1.200" in text


def test_population_as_text_and_empty() -> None:
    raw = settlements_gdf().assign(population=["1200", " 35.0 ", ""])
    out = evidence.read_settlements(raw)
    assert out["population"].iloc[:2].tolist() == [1200.0, 35.0]
    assert np.isnan(out["population"].iloc[2])
    out = evidence.read_settlements(settlements_gdf().drop(columns=["population", "name"]))
    assert out["population"].isna().all() and out["name"].tolist() == ["", "", ""]


# ------------------------------------------------------------------------------------------
# geometry
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "what"), [("incidents", "incident"), ("finds", "find")])
def test_points_given_as_polygons_are_refused_saying_how_to_fix(kind: str, what: str) -> None:
    read, make = READERS[kind]
    raw = make()
    raw.loc[1, "geometry"] = FIELD
    raw.loc[2, "geometry"] = LineString([(46.7, 39.8), (46.71, 39.81)])
    with pytest.raises(GeometryTypeError) as excinfo:
        read(raw)
    text = str(excinfo.value)
    ids = raw.iloc[[1, 2], 0].tolist()
    assert f"{what}s must be points, but 2 feature(s) are" in text
    assert "1 Polygon" in text and "1 LineString" in text
    assert f"ids {ids[0]!r}, {ids[1]!r}" in text
    assert "Point on surface" in text and "as_points=True" in text


def test_as_points_takes_a_point_inside_each_polygon_with_a_warning() -> None:
    # an L-shaped field whose centroid lies outside it
    ell = Polygon([(46.0, 39.0), (46.02, 39.0), (46.02, 39.002), (46.002, 39.002),
                   (46.002, 39.02), (46.0, 39.02)])  # fmt: skip
    assert not ell.contains(ell.centroid)
    raw = incidents_gdf()
    raw.loc[0, "geometry"] = ell
    raw.loc[1, "geometry"] = LineString([(46.7, 39.8), (46.71, 39.81)])
    with pytest.warns(RepairWarning) as caught:
        out = evidence.read_incidents(raw, as_points=True)
    text = str(caught[0].message)
    assert "2 incident(s) given as polygons or lines taken at a point inside each" in text
    assert "'I1', 'I2'" in text and "unchanged" in text
    assert set(out.geom_type) == {"Point"}
    assert ell.contains(out.geometry.iloc[0])
    assert out.geometry.iloc[1].distance(raw.geometry.iloc[1]) < 1e-12
    assert out.geometry.iloc[2].equals(POINTS[2])


def test_a_multipoint_of_one_point_is_that_point() -> None:
    raw = finds_gdf()
    raw.loc[0, "geometry"] = MultiPoint([POINTS[0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = evidence.read_finds(raw)
    assert out.geometry.iloc[0].geom_type == "Point" and out.geometry.iloc[0].equals(POINTS[0])


@pytest.mark.parametrize("kind", list(READERS))
def test_a_multipoint_of_several_points_is_refused(kind: str) -> None:
    read, make = READERS[kind]
    raw = make()
    raw.loc[1, "geometry"] = MultiPoint(POINTS[:2])
    with pytest.raises(GeometryTypeError) as excinfo:
        read(raw)
    text = str(excinfo.value)
    assert f"1 {kind[:-1]}(s) are MultiPoints of several points (ids {raw.iloc[1, 0]!r})" in text
    assert "Multipart to singleparts" in text


@pytest.mark.parametrize(("kind", "what"), [("records", "record"), ("settlements", "settlement")])
def test_lines_are_refused_in_records_and_settlements(kind: str, what: str) -> None:
    read, make = READERS[kind]
    raw = make()
    raw.loc[0, "geometry"] = LineString([(46.7, 39.8), (46.71, 39.81)])
    with pytest.raises(GeometryTypeError) as excinfo:
        read(raw)
    text = str(excinfo.value)
    assert f"{what}s must be polygons (an area) or points (a place)" in text
    assert f"1 LineString (ids {raw.iloc[0, 0]!r})" in text and "close those lines" in text


def test_record_perimeters_are_repaired_as_hazards_are() -> None:
    bowtie = Polygon([(46.0, 39.0), (46.01, 39.01), (46.01, 39.0), (46.0, 39.01)])
    raw = records_gdf()
    raw.loc[0, "geometry"] = bowtie
    with pytest.warns(RepairWarning, match=r"1 invalid polygon\(s\) made valid \(ids 'MF-1'\)"):
        out = evidence.read_records(raw)
    assert out.geometry.iloc[0].is_valid and out.geometry.iloc[0].geom_type == "MultiPolygon"
    assert out.geometry.iloc[1].equals(POINTS[2])


def test_empty_geometries_are_dropped_with_a_warning_counting_them() -> None:
    raw = finds_gdf()
    raw.loc[0, "geometry"] = None
    raw.loc[2, "geometry"] = Point()
    with pytest.warns(
        RepairWarning, match=r"2 empty or null geometries dropped \(ids 'F1', 'F3'\)"
    ):
        out = evidence.read_finds(raw)
    assert out["find_id"].tolist() == ["F2"] and out.index.tolist() == [0]
    raw = settlements_gdf()
    raw.loc[1, "geometry"] = None
    with pytest.warns(RepairWarning, match=r"1 empty or null geometry dropped \(ids 'S2'\)"):
        out = evidence.read_settlements(raw)
    assert out["settlement_id"].tolist() == ["S1", "S3"]


def test_z_values_are_dropped_with_a_warning() -> None:
    raw = incidents_gdf()
    raw["geometry"] = [Point(p.x, p.y, 812.0) for p in POINTS]
    with pytest.warns(RepairWarning, match=r"Z values dropped from 3 point\(s\)"):
        out = evidence.read_incidents(raw)
    assert not out.has_z.any() and xy(out) == [(p.x, p.y) for p in POINTS]


@pytest.mark.parametrize("kind", list(READERS))
def test_nan_or_infinite_coordinates_are_refused(kind: str) -> None:
    read, make = READERS[kind]
    raw = make()
    raw.loc[1, "geometry"] = Point(np.nan, 39.0)
    raw.loc[0, "geometry"] = Point(np.inf, 39.0)
    with pytest.raises(CoordinateError) as excinfo:
        read(raw)
    ids = raw.iloc[[0, 1], 0].tolist()
    assert f"2 feature(s) have NaN or infinite coordinates (ids {ids[0]!r}, {ids[1]!r})" in str(
        excinfo.value
    )


@pytest.mark.parametrize("kind", list(READERS))
def test_coordinates_outside_the_crs_are_refused(kind: str) -> None:
    read, make = READERS[kind]
    raw = make()
    raw.loc[1, "geometry"] = Point(39.8, 95.0)
    with pytest.raises(CoordinateError, match=rf"ids {raw.iloc[1, 0]!r}"):
        read(raw)


@pytest.mark.parametrize("kind", list(READERS))
def test_a_layer_without_crs_needs_one(kind: str) -> None:
    read, make = READERS[kind]
    raw = make().set_crs(None, allow_override=True)
    with pytest.raises(CRSError, match=r"no coordinate reference system.*crs='EPSG:4326'"):
        read(raw)
    CHECKS[kind](read(raw, crs="EPSG:4326"))


def test_a_declared_crs_can_be_overridden() -> None:
    raw = finds_gdf().set_crs("EPSG:32638", allow_override=True)
    with pytest.raises(CoordinateError, match="look like degrees"):
        evidence.read_finds(raw)
    out = evidence.read_finds(raw, crs="EPSG:4326", override_crs=True)
    assert out.crs.equals("EPSG:4326")


# ------------------------------------------------------------------------------------------
# ids
# ------------------------------------------------------------------------------------------


def test_a_layer_without_ids_calls_features_row_n() -> None:
    raw = finds_gdf().drop(columns="find_id")
    raw.loc[1, "device_count"] = -2
    with pytest.warns(DataWarning, match="no 'find_id' column"), pytest.raises(SchemaError) as e:
        evidence.read_finds(raw)
    assert "ids 'row 2'" in str(e.value)
    with pytest.warns(DataWarning, match="no 'find_id' column"):
        out = evidence.read_finds(finds_gdf().drop(columns="find_id"))
    assert out["find_id"].tolist() == ["row 1", "row 2", "row 3"]


def test_duplicate_ids_warn() -> None:
    raw = incidents_gdf().assign(incident_id=["I1", "I1", "I3"])
    with pytest.warns(DuplicateIdWarning, match=r"\('I1'\)"):
        out = evidence.read_incidents(raw)
    assert len(out) == 3


# ------------------------------------------------------------------------------------------
# inputs are never modified; text stays text
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(READERS))
def test_inputs_are_not_modified(kind: str) -> None:
    read, make = READERS[kind]
    raw = make()
    raw.attrs["note"] = "mine"
    before = raw.copy(deep=True)
    attrs = copy.deepcopy(raw.attrs)
    out = read(raw)
    assert_geodataframe_equal(raw, before)
    assert raw.attrs == attrs and out is not raw


HOSTILE = [
    "<script>alert('x')</script>",
    "=cmd|' /C calc'!A0",
    "say \"hello\", then 'bye'",
    "+SUM(A1:A9)",
    "@import; DROP TABLE finds;--",
    "__import__('os').system('true')",
    "1+1",
]


@pytest.mark.parametrize("fmt", ["gdf", "gpkg", "geojson", "csv"])
def test_hostile_text_reads_back_unchanged_as_text(tmp_path: Path, fmt: str) -> None:
    n = len(HOSTILE)
    geoms = [Point(46.0 + i * 0.001, 39.0) for i in range(n)]
    incidents = gpd.GeoDataFrame(
        {
            "incident_id": HOSTILE,
            "incident_date": ["2021-01-01"] * n,
            "killed": [0] * n,
            "injured": [1] * n,
            "victim_activity": HOSTILE,
            "remarks": HOSTILE,
        },
        geometry=geoms,
        crs=4326,
    )
    towns = gpd.GeoDataFrame(
        {"settlement_id": [f"S{i}" for i in range(n)], "name": HOSTILE},
        geometry=geoms,
        crs=4326,
    )
    sources: tuple[gpd.GeoDataFrame | Path, gpd.GeoDataFrame | Path]
    if fmt == "gdf":
        sources = (incidents, towns)
    elif fmt == "csv":
        sources = (
            write_lonlat_csv(incidents, tmp_path / "incidents.csv"),
            write_lonlat_csv(towns, tmp_path / "settlements.csv"),
        )
    else:
        sources = (
            write(incidents, tmp_path / f"incidents.{fmt}"),
            write(towns, tmp_path / f"settlements.{fmt}"),
        )
    out = evidence.read_incidents(sources[0])
    assert out["incident_id"].tolist() == HOSTILE
    assert out["victim_activity"].tolist() == HOSTILE and out["remarks"].tolist() == HOSTILE
    assert evidence.read_settlements(sources[1])["name"].tolist() == HOSTILE


def test_hostile_device_words_are_named_not_run() -> None:
    raw = finds_gdf().assign(device_type=["=cmd|' /C calc'!A0", "ap_mine", "uxo"])
    with pytest.raises(SchemaError, match=r"holds \"=cmd\|' /C calc'!A0\""):
        evidence.read_finds(raw)
