"""Tests of minemap.io.parquet: partitioned GeoParquet written and read, and read wherever
a layer is read (the readers, the command line)."""

from __future__ import annotations

import json
import math
import os
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pyogrio
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal

import minemap
from minemap import cli
from minemap._errors import CRSError, FormatError, InputFileError, OutputError, SchemaError
from minemap.io import (
    is_partitioned,
    iter_partitions,
    partition_bounds,
    read_partitioned,
    write_partitioned,
)
from minemap.io import parquet as mp


def _layer(n: int = 53, seed: int = 16, crs: object = 32638) -> gpd.GeoDataFrame:
    """Squares and rectangles of mixed sizes scattered over 20 km, with typed columns."""
    rng = np.random.default_rng(seed)
    x = 400_000 + rng.uniform(0, 20_000, n)
    y = 4_400_000 + rng.uniform(0, 20_000, n)
    w = rng.uniform(50, 1_500, n)
    h = rng.uniform(50, 1_500, n)
    return gpd.GeoDataFrame(
        {
            "hazard_id": [f"H{i:03d}" for i in range(n)],
            "threat_level": rng.choice(["high", "medium", "low"], n),
            "devices": rng.integers(0, 40, n),
            "score": rng.uniform(0, 1, n),
            "surveyed": pd.to_datetime("2021-01-01")
            + pd.to_timedelta(rng.integers(0, 900, n), "D"),
        },
        geometry=shapely.box(x, y, x + w, y + h),
        crs=crs,
    )


@pytest.fixture
def layer() -> gpd.GeoDataFrame:
    return _layer()


def _meets(gdf: gpd.GeoDataFrame, box: tuple[float, float, float, float]) -> pd.Series:
    """The plain filter: rows whose bounding box meets ``box`` (touching counts)."""
    b = gdf.bounds
    return ~((b.minx > box[2]) | (b.miny > box[3]) | (b.maxx < box[0]) | (b.maxy < box[1]))


# ------------------------------------------------------------------------------------------
# round trip
# ------------------------------------------------------------------------------------------


def test_round_trip_keeps_rows_crs_dtypes_and_geometries(layer, tmp_path):
    original = layer.copy()
    folder = write_partitioned(layer, tmp_path / "hazards.parquet", rows_per_file=7)
    assert_geodataframe_equal(layer, original)  # the input is not modified
    files = sorted(p.name for p in folder.iterdir())
    assert files == [f"part-{i:05d}.parquet" for i in range(math.ceil(len(layer) / 7))]
    back = read_partitioned(folder)
    assert back.crs == layer.crs
    assert back.dtypes.to_dict() == layer.dtypes.to_dict()
    assert_geodataframe_equal(back.sort_index(), layer, check_index_type=False)
    assert back.attrs["source"] == "hazards.parquet"


def test_rows_are_in_hilbert_order_of_their_bbox_centres(layer, tmp_path):
    folder = write_partitioned(layer, tmp_path / "h", npartitions=4)
    distance = layer.geometry.hilbert_distance(total_bounds=layer.total_bounds)
    expected = layer.index[np.argsort(distance.to_numpy(), kind="stable")]
    assert read_partitioned(folder).index.tolist() == expected.tolist()
    assert [len(part) for part in iter_partitions(folder)] == [14, 13, 13, 13]


def test_each_file_has_a_bbox_covering_column_in_schema_and_metadata(layer, tmp_path):
    folder = write_partitioned(layer, tmp_path / "h", npartitions=3)
    for path in sorted(folder.iterdir()):
        schema = pq.read_schema(path)
        fields = schema.field(mp.COVERING).type
        assert [fields.field(i).name for i in range(fields.num_fields)] == [
            "xmin",
            "ymin",
            "xmax",
            "ymax",
        ]
        geo = json.loads(schema.metadata[b"geo"])
        assert geo["version"] == "1.1.0"
        assert geo["columns"]["geometry"]["covering"]["bbox"] == {
            key: [mp.COVERING, key] for key in ("xmin", "ymin", "xmax", "ymax")
        }
        # the covering column holds each row's bounds
        table = pq.read_table(path)
        part = gpd.read_parquet(path)
        bbox = table.column(mp.COVERING).combine_chunks()
        keys = zip(("xmin", "ymin", "xmax", "ymax"), ("minx", "miny", "maxx", "maxy"), strict=True)
        for key, column in keys:
            np.testing.assert_array_equal(bbox.field(key).to_numpy(), part.bounds[column])


def test_partition_bounds_are_each_files_extent(layer, tmp_path):
    folder = write_partitioned(layer, tmp_path / "h", rows_per_file=10)
    bounds = partition_bounds(folder)
    assert bounds.crs == layer.crs
    assert bounds["rows"].sum() == len(layer)
    for row in bounds.itertuples():
        part = gpd.read_parquet(folder / row.file)
        assert row.rows == len(part)
        assert [row.xmin, row.ymin, row.xmax, row.ymax] == part.total_bounds.tolist()
        assert row.geometry.equals(shapely.box(*part.total_bounds))


def test_rows_without_geometry_are_kept_and_written_last(layer, tmp_path):
    holes = layer.copy()
    holes.loc[[3, 17], "geometry"] = None
    back = read_partitioned(write_partitioned(holes, tmp_path / "h", npartitions=2))
    assert back.index[-2:].tolist() == [3, 17]
    assert_geodataframe_equal(back.sort_index(), holes, check_index_type=False)


def test_more_partitions_than_rows_gives_one_file_per_row(tmp_path):
    small = _layer(3)
    folder = write_partitioned(small, tmp_path / "h", npartitions=10)
    assert len(list(folder.iterdir())) == 3


# ------------------------------------------------------------------------------------------
# bbox filter, streaming, columns
# ------------------------------------------------------------------------------------------

BOXES = [
    (405_000.0, 4_405_000.0, 410_000.0, 4_412_000.0),
    (400_000.0, 4_400_000.0, 400_500.0, 4_400_500.0),  # a corner
    (0.0, 0.0, 10.0, 10.0),  # far away: nothing
    (380_000.0, 4_380_000.0, 440_000.0, 4_440_000.0),  # everything
]


@pytest.mark.parametrize("box", BOXES)
def test_bbox_filter_returns_exactly_the_rows_whose_boxes_meet_it(layer, tmp_path, box):
    folder = write_partitioned(layer, tmp_path / "h", rows_per_file=6)
    got = read_partitioned(folder, bbox=box)
    expected = layer.loc[_meets(layer, box)]
    assert sorted(got.index) == sorted(expected.index)
    assert_geodataframe_equal(got.sort_index(), expected, check_index_type=False)
    streamed = list(iter_partitions(folder, bbox=box))
    assert sorted(i for part in streamed for i in part.index) == sorted(expected.index)
    # files whose extent lies elsewhere are skipped unread
    extents = partition_bounds(folder)
    meeting = extents.loc[_meets(extents, box)]
    assert len(streamed) == len(meeting)


def test_a_box_touching_a_row_edge_selects_it(tmp_path):
    squares = gpd.GeoDataFrame(
        {"hazard_id": ["A", "B"]},
        geometry=[shapely.box(0, 0, 10, 10), shapely.box(20, 0, 30, 10)],
        crs=32638,
    )
    folder = write_partitioned(squares, tmp_path / "h", npartitions=2)
    assert read_partitioned(folder, bbox=(10, 10, 15, 15))["hazard_id"].tolist() == ["A"]


def test_streaming_gives_the_same_rows_as_reading(layer, tmp_path):
    folder = write_partitioned(layer, tmp_path / "h", rows_per_file=9)
    streamed = pd.concat(list(iter_partitions(folder)))
    assert_geodataframe_equal(streamed, read_partitioned(folder))


def test_columns_reads_the_named_columns_and_the_geometry(layer, tmp_path):
    folder = write_partitioned(layer, tmp_path / "h", npartitions=2)
    got = read_partitioned(folder, columns=["hazard_id"])
    assert list(got.columns) == ["hazard_id", "geometry"]
    with pytest.raises(SchemaError, match=r"no column 'nope'.*columns="):
        read_partitioned(folder, columns=["nope"])


@pytest.mark.parametrize(
    "bbox", [(1, 2, 3), (3, 0, 1, 1), (0, 0, math.nan, 1), "0,0,1,1", (0, 0, 10**400, 0)]
)
def test_a_bad_bbox_is_refused(layer, tmp_path, bbox):
    folder = write_partitioned(layer, tmp_path / "h", npartitions=2)
    with pytest.raises(SchemaError, match="four finite numbers"):
        read_partitioned(folder, bbox=bbox)


# ------------------------------------------------------------------------------------------
# what is refused on reading
# ------------------------------------------------------------------------------------------


def test_an_empty_folder_is_refused(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputFileError, match=r"empty: the folder holds no \.parquet files"):
        read_partitioned(tmp_path / "empty")
    assert not is_partitioned(tmp_path / "empty")


def test_a_missing_folder_and_a_file_are_refused(layer, tmp_path):
    with pytest.raises(InputFileError, match="no such folder"):
        read_partitioned(tmp_path / "missing")
    layer.to_parquet(tmp_path / "one.parquet")
    with pytest.raises(InputFileError, match="is not a folder"):
        read_partitioned(tmp_path / "one.parquet")


def test_a_file_disguised_as_parquet_is_refused(layer, tmp_path):
    folder = write_partitioned(layer, tmp_path / "h", npartitions=2)
    (folder / "part-00002.parquet").write_text('<VRTDataset><OGRVRTLayer name="x"/></VRTDataset>')
    with pytest.raises(FormatError, match=r"part-00002\.parquet does not hold Parquet data"):
        read_partitioned(folder)
    with pytest.raises(FormatError, match="does not hold Parquet data"):
        minemap.read_hazards(folder / "part-00002.parquet")  # a single file: the same check


def test_a_truncated_parquet_file_is_refused(layer, tmp_path):
    folder = write_partitioned(layer, tmp_path / "h", npartitions=2)
    path = folder / "part-00001.parquet"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(FormatError, match="is truncated"):
        read_partitioned(folder)


def test_parquet_that_is_not_geoparquet_is_refused(layer, tmp_path):
    folder = write_partitioned(layer, tmp_path / "h", npartitions=2)
    pd.DataFrame({"hazard_id": ["X"]}).to_parquet(folder / "part-00002.parquet")
    with pytest.raises(FormatError, match=r"part-00002\.parquet is Parquet but not GeoParquet"):
        read_partitioned(folder)


def test_files_in_different_crs_are_refused_naming_both(layer, tmp_path):
    folder = write_partitioned(layer, tmp_path / "h", npartitions=2)
    layer.iloc[:3].to_crs(4326).to_parquet(folder / "part-00002.parquet", write_covering_bbox=True)
    with pytest.raises(
        CRSError, match=r"part-00000\.parquet is in EPSG:32638 but part-00002\.parquet is in "
    ):
        read_partitioned(folder)


def test_mixed_schemas_are_refused_naming_the_file_and_column(layer, tmp_path):
    folder = write_partitioned(layer, tmp_path / "h", npartitions=2)
    extra = layer.iloc[:3].assign(operator="NPA")
    extra.to_parquet(folder / "part-00002.parquet", write_covering_bbox=True)
    with pytest.raises(
        SchemaError, match=r"column 'operator' is in part-00002\.parquet but not in part-00000"
    ):
        read_partitioned(folder)
    retyped = layer.iloc[:3].assign(devices=layer["devices"].iloc[:3].astype(str))
    retyped.to_parquet(folder / "part-00002.parquet", write_covering_bbox=True)
    with pytest.raises(SchemaError, match=r"column 'devices' is int64 in part-00000\.parquet"):
        read_partitioned(folder)


def test_a_file_without_covering_column_or_with_a_null_column_is_accepted(layer, tmp_path):
    folder = write_partitioned(layer, tmp_path / "h", npartitions=2)
    plain = layer.iloc[:0]
    plain.to_parquet(folder / "part-00002.parquet")  # no covering, no rows
    assert len(read_partitioned(folder)) == len(layer)


def test_other_files_in_the_folder_are_refused(layer, tmp_path):
    folder = write_partitioned(layer, tmp_path / "h", npartitions=2)
    (folder / "_SUCCESS").write_text("")  # other writers' markers are ignored
    (folder / ".DS_Store").write_text("")
    assert len(read_partitioned(folder)) == len(layer)
    (folder / "notes.txt").write_text("field notes")
    with pytest.raises(FormatError, match=r"other entries than \.parquet files \(notes\.txt\)"):
        read_partitioned(folder)


@pytest.mark.skipif(os.name == "nt", reason="symbolic links need privileges on Windows")
def test_a_symbolic_link_leading_outside_the_folder_is_refused(layer, tmp_path):
    folder = write_partitioned(layer, tmp_path / "h", npartitions=2)
    outside = tmp_path / "elsewhere.parquet"
    layer.iloc[:2].to_parquet(outside, write_covering_bbox=True)
    (folder / "part-00002.parquet").symlink_to(outside)
    with pytest.raises(
        InputFileError, match=r"part-00002\.parquet is a symbolic link to .*outside"
    ):
        read_partitioned(folder)
    (folder / "part-00002.parquet").unlink()
    layer.iloc[:2].to_parquet(folder / ".kept.parquet", write_covering_bbox=True)
    (folder / "part-00002.parquet").symlink_to(folder / ".kept.parquet")  # inside: read
    assert len(read_partitioned(folder)) == len(layer) + 2


# ------------------------------------------------------------------------------------------
# what is refused on writing, and writing whole or not at all
# ------------------------------------------------------------------------------------------


def test_an_existing_non_empty_folder_is_refused_unless_overwrite(layer, tmp_path):
    folder = write_partitioned(layer, tmp_path / "h", npartitions=2)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    with pytest.raises(OutputError, match=r"exists and is not empty; pass overwrite=True"):
        write_partitioned(layer.iloc[:5], folder, npartitions=1)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    write_partitioned(layer.iloc[:5], folder, npartitions=1, overwrite=True)
    assert sorted(p.name for p in folder.iterdir()) == ["part-00000.parquet"]
    assert len(read_partitioned(folder)) == 5
    assert [p.name for p in tmp_path.iterdir()] == ["h"]  # no staging folder left


def test_an_empty_existing_folder_is_written_into(layer, tmp_path):
    (tmp_path / "h").mkdir()
    write_partitioned(layer, tmp_path / "h", npartitions=2)
    assert len(read_partitioned(tmp_path / "h")) == len(layer)


def test_a_folder_holding_other_data_is_never_replaced(layer, tmp_path):
    folder = tmp_path / "documents"
    folder.mkdir()
    (folder / "report.docx").write_text("my report")
    with pytest.raises(OutputError, match=r"holds other entries .*\(report\.docx\)"):
        write_partitioned(layer, folder, overwrite=True)
    assert (folder / "report.docx").read_text() == "my report"


def test_the_folder_a_layer_was_read_from_is_never_written(layer, tmp_path):
    folder = write_partitioned(layer, tmp_path / "h", npartitions=2)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    again = read_partitioned(folder)
    with pytest.raises(OutputError, match="read from this folder; writing it there would destroy"):
        write_partitioned(again, folder, overwrite=True)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_a_failed_write_leaves_the_old_layer_and_no_staging(layer, tmp_path, monkeypatch):
    folder = write_partitioned(layer, tmp_path / "h", npartitions=2)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    written = []
    real = gpd.GeoDataFrame.to_parquet

    def fails_on_the_second(self, path, **kwargs):
        written.append(path)
        if len(written) == 2:
            raise OSError(28, "No space left on device")
        return real(self, path, **kwargs)

    monkeypatch.setattr(gpd.GeoDataFrame, "to_parquet", fails_on_the_second)
    with pytest.raises(OutputError, match=r"h: cannot write the output: the disk is full"):
        write_partitioned(layer, folder, npartitions=3, overwrite=True)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["h"]


def test_a_file_in_the_way_is_refused(layer, tmp_path):
    (tmp_path / "h.parquet").write_text("x")
    with pytest.raises(OutputError, match="is a file, not a folder"):
        write_partitioned(layer, tmp_path / "h.parquet")


@pytest.mark.parametrize(
    "options, match",
    [
        ({"rows_per_file": 0}, "rows_per_file=0: give a whole number"),
        ({"npartitions": 2.5}, "npartitions=2.5: give a whole number"),
        ({"rows_per_file": 5, "npartitions": 2}, "give one of the two"),
    ],
)
def test_bad_options_are_refused(layer, tmp_path, options, match):
    with pytest.raises(SchemaError, match=match):
        write_partitioned(layer, tmp_path / "h", **options)
    assert not (tmp_path / "h").exists()


def test_a_layer_without_crs_or_with_a_bbox_column_is_refused(layer, tmp_path):
    with pytest.raises(CRSError, match="no CRS"):
        write_partitioned(layer.set_crs(None, allow_override=True), tmp_path / "h")
    with pytest.raises(SchemaError, match="column named 'bbox'"):
        write_partitioned(layer.assign(bbox="x"), tmp_path / "h")


# ------------------------------------------------------------------------------------------
# the readers and the command line read a folder wherever they read a file
# ------------------------------------------------------------------------------------------


def _raw(path: Path, layer: str) -> gpd.GeoDataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return pyogrio.read_dataframe(path, layer=layer)


@pytest.fixture
def folders(sample_data, tmp_path) -> tuple[Path, Path]:
    """The sample scenario's hazards and releases, each split into a folder."""
    gpkg = sample_data / "scenario.gpkg"
    hazards = write_partitioned(_raw(gpkg, "hazards"), tmp_path / "hazards", rows_per_file=40)
    releases = write_partitioned(_raw(gpkg, "releases"), tmp_path / "releases", npartitions=4)
    return hazards, releases


def test_readers_read_a_folder_with_the_same_figures_as_the_file(folders, sample_data):
    gpkg = sample_data / "scenario.gpkg"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", minemap.DataWarning)  # releases outside hazards
        from_folder = minemap.land_release_summary(
            minemap.read_hazards(folders[0]), minemap.read_releases(folders[1])
        )
        from_file = minemap.land_release_summary(
            minemap.read_hazards(gpkg), minemap.read_releases(gpkg)
        )
    pd.testing.assert_frame_equal(from_folder, from_file)


def test_a_folder_is_validated_like_a_file_with_its_name_as_label(sample_data, tmp_path):
    raw = _raw(sample_data / "scenario.gpkg", "hazards")
    raw.loc[raw["hazard_id"] == raw["hazard_id"].iloc[5], "threat_level"] = "purple"
    folder = write_partitioned(raw, tmp_path / "national", npartitions=3)
    with pytest.raises(SchemaError, match=r"^national: .*'purple'"):
        minemap.read_hazards(folder)
    hazards = minemap.read_hazards(write_partitioned(_layer(), tmp_path / "grid", npartitions=2))
    assert hazards.attrs["source"] == "grid"
    assert hazards.index.tolist() == list(range(len(hazards)))


def test_a_folder_that_is_not_a_layer_keeps_the_folder_error(sample_data, tmp_path):
    with pytest.raises(InputFileError, match="is a folder; pass the data file inside it"):
        minemap.read_hazards(sample_data)
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputFileError, match="is a folder; pass the data file inside it"):
        minemap.read_hazards(tmp_path / "empty")


def test_features_are_read_from_a_folder(sample_data, tmp_path):
    roads = _raw(sample_data / "scenario.gpkg", "roads")
    folder = write_partitioned(roads, tmp_path / "roads", npartitions=3)
    got = minemap.read_features(folder, kind="roads")
    assert len(got) == len(minemap.read_features(sample_data / "scenario.gpkg", kind="roads"))


def _run(argv, capsys) -> tuple[int, str, str]:
    status = cli.run([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_the_cli_summary_reads_folders(folders, sample_data, capsys):
    gpkg = sample_data / "scenario.gpkg"
    status, out, err = _run(["summary", f"{folders[0]}/", "--released", folders[1]], capsys)
    assert status == 0, err
    assert (status, out) == _run(["summary", gpkg, "--released", gpkg], capsys)[:2]
    status, out, err = _run(["summary", folders[0], "--format", "json"], capsys)
    assert status == 0 and json.loads(out)


def test_the_cli_names_the_folder_and_the_file_in_errors(folders, capsys):
    (folders[1] / "part-00009.parquet").write_text("not parquet")
    status, _, err = _run(["summary", folders[0], "--released", folders[1]], capsys)
    assert status == 2
    assert err.strip().startswith(f"minemap: error: --released {folders[1]}")
    assert "part-00009.parquet does not hold Parquet data" in err
    assert "Traceback" not in err


# ------------------------------------------------------------------------------------------
# layer outputs ending in '.parquet/' are written as partitioned GeoParquet
# ------------------------------------------------------------------------------------------


def _priority(folders, sample_data, output, capsys, *extra) -> tuple[int, str, str]:
    argv = ["priority", folders[0], "--released", folders[1]]
    argv += ["--roads", sample_data / "roads.geojson", "-o", output, *extra]
    return _run(argv, capsys)


def test_the_cli_writes_zones_as_a_partitioned_folder(folders, sample_data, tmp_path, capsys):
    status, _, err = _priority(folders, sample_data, f"{tmp_path / 'zones.parquet'}/", capsys)
    assert status == 0, err
    assert is_partitioned(tmp_path / "zones.parquet")
    status, _, err = _priority(folders, sample_data, tmp_path / "zones.gpkg", capsys)
    assert status == 0, err
    key = ["category", "hazard_id"]
    from_folder = read_partitioned(tmp_path / "zones.parquet").sort_values(key)
    from_file = _raw(tmp_path / "zones.gpkg", "priority_zones").sort_values(key)
    assert from_folder[key].values.tolist() == from_file[key].values.tolist()
    np.testing.assert_array_equal(from_folder["zone_ha"], from_file["zone_ha"])
    assert shapely.equals(from_folder.geometry.values, from_file.geometry.values).all()
    # written again: the partitioned layer is replaced, nothing is left beside it
    status, _, err = _priority(folders, sample_data, f"{tmp_path / 'zones.parquet'}/", capsys)
    assert status == 0, err
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_the_cli_never_writes_a_folder_over_an_input_or_other_files(
    folders, sample_data, tmp_path, capsys
):
    status, _, err = _priority(folders, sample_data, f"{folders[0]}/", capsys)
    assert status == 2 and "ends in '/', so it names a folder" in err  # no .parquet suffix
    layer = write_partitioned(
        _raw(sample_data / "scenario.gpkg", "hazards"), tmp_path / "h.parquet"
    )
    before = {p.name: p.read_bytes() for p in layer.iterdir()}
    argv = ["priority", layer, "--roads", sample_data / "roads.geojson", "-o", f"{layer}/"]
    status, _, err = _run(argv, capsys)
    assert status == 2 and "is also an input" in err
    argv[1] = layer / "part-00000.parquet"  # an input inside the output folder
    status, _, err = _run(argv, capsys)
    assert status == 2 and "is also an input" in err
    assert {p.name: p.read_bytes() for p in layer.iterdir()} == before
    (tmp_path / "docs.parquet").mkdir()
    (tmp_path / "docs.parquet" / "report.docx").write_text("my report")
    status, _, err = _priority(folders, sample_data, f"{tmp_path / 'docs.parquet'}/", capsys)
    assert status == 2 and "holds other entries than a partitioned GeoParquet layer" in err
    assert (tmp_path / "docs.parquet" / "report.docx").read_text() == "my report"


def test_only_a_layer_is_written_as_a_folder(tmp_path, capsys):
    with pytest.raises(OutputError, match="only a layer is written as a folder"):
        minemap.io.write_text(f"{tmp_path / 'notes.parquet'}/", "text")
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "in").mkdir()
    argv = ["summary", tmp_path / "in", "-o", f"{tmp_path / 'x.parquet'}/"]
    status, _, err = _run(argv, capsys)
    assert status == 2 and "-o writes no extension" in err


def test_write_layer_writes_a_folder_for_a_parquet_path_with_a_slash(layer, tmp_path):
    minemap.io.write_layer(layer, f"{tmp_path / 'h.parquet'}/")
    assert_geodataframe_equal(
        read_partitioned(tmp_path / "h.parquet").sort_index(), layer, check_index_type=False
    )


# ------------------------------------------------------------------------------------------
# replacing a folder: only a layer's own files are ever deleted
# ------------------------------------------------------------------------------------------


def _tree(folder: Path) -> dict[str, bytes | None]:
    return {
        str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None)
        for p in folder.rglob("*")
    }


def test_a_folder_of_hidden_files_is_never_replaced(layer, tmp_path):
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_ed25519").write_text("secret key")
    (home / ".bashrc").write_text("export PATH")
    before = _tree(home)
    with pytest.raises(OutputError, match="exists and is not empty"):
        write_partitioned(layer, home)
    with pytest.raises(OutputError, match=r"other entries .*\(\.bashrc, \.ssh\)"):
        write_partitioned(layer, home, overwrite=True)
    assert _tree(home) == before


def test_hidden_entries_inside_a_layer_folder_keep_it_from_being_replaced(layer, tmp_path):
    folder = write_partitioned(layer, tmp_path / "h.parquet", npartitions=2)
    (folder / ".git").mkdir()
    (folder / ".git" / "HEAD").write_text("ref: refs/heads/main")
    before = _tree(folder)
    with pytest.raises(OutputError, match=r"other entries .*\(\.git\)"):
        write_partitioned(layer, folder, overwrite=True)
    with pytest.raises(OutputError, match=r"other entries .*\(\.git\)"):
        minemap.io.write_layer(layer, f"{folder}/")
    assert _tree(folder) == before


def test_a_layer_folder_with_marker_files_is_replaced(layer, tmp_path):
    folder = write_partitioned(layer, tmp_path / "h.parquet", npartitions=2)
    (folder / "_SUCCESS").write_text("")
    write_partitioned(layer.iloc[:4], folder, npartitions=1, overwrite=True)
    assert sorted(p.name for p in folder.iterdir()) == ["part-00000.parquet"]


def test_a_layer_folder_with_system_leftovers_is_replaced(layer, tmp_path):
    """What the reader skips beside the parts (a Finder's .DS_Store, Spark's checksums) no
    longer keeps the writer from replacing the layer; any other hidden file still does."""
    folder = write_partitioned(layer, tmp_path / "h.parquet", npartitions=2)
    for name in (".DS_Store", "._part-00000.parquet", ".part-00000.parquet.crc"):
        (folder / name).write_bytes(b"\0")
    assert len(read_partitioned(folder)) == len(layer)  # the reader skips them
    minemap.io.write_layer(layer.iloc[:4], f"{folder}/")
    assert sorted(p.name for p in folder.iterdir()) == ["part-00000.parquet"]
    (folder / ".notes").write_text("mine")
    with pytest.raises(OutputError, match=r"other entries .*\(\.notes\)"):
        minemap.io.write_layer(layer, f"{folder}/")


@pytest.mark.parametrize("name", [".", "", "./", ".."])
def test_the_current_folder_is_never_the_output(layer, tmp_path, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(OutputError, match="name the new layer's own folder"):
        write_partitioned(layer, name, overwrite=True)
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------------------------------
# nothing is written inside a layer folder
# ------------------------------------------------------------------------------------------


def test_no_output_is_written_inside_a_partitioned_layer(layer, tmp_path):
    folder = write_partitioned(layer, tmp_path / "hz.parquet", npartitions=2)
    before = _tree(folder)
    again = read_partitioned(folder)
    high = again[again["threat_level"] == "high"]
    with pytest.raises(OutputError, match="inside the folder hz.parquet, an input layer"):
        minemap.io.write_layer(high, folder / "high.parquet")
    with pytest.raises(OutputError, match=r"inside the partitioned GeoParquet layer hz\.parquet/"):
        minemap.io.write_layer(layer, folder / "high.parquet")
    with pytest.raises(OutputError, match=r"inside the partitioned GeoParquet layer hz\.parquet/"):
        minemap.io.write_text(folder / "notes.txt", "field notes")
    with pytest.raises(OutputError, match="inside the folder hz.parquet, an input layer"):
        write_partitioned(high, folder / "zones.parquet")
    with pytest.raises(OutputError, match=r"inside the partitioned GeoParquet layer hz\.parquet/"):
        write_partitioned(layer, folder / "zones.parquet")
    assert _tree(folder) == before
    assert len(read_partitioned(folder)) == len(layer)


def test_the_cli_never_writes_inside_an_input_folder(folders, sample_data, tmp_path, capsys):
    layer = write_partitioned(
        _raw(sample_data / "scenario.gpkg", "hazards"), tmp_path / "hz.parquet"
    )
    before = _tree(layer)
    for output in (f"{layer / 'zones.parquet'}/", layer / "zones.parquet", layer / "z.gpkg"):
        argv = ["priority", f"{layer}/", "--roads", sample_data / "roads.geojson", "-o", output]
        status, _, err = _run(argv, capsys)
        assert status == 2 and "is inside the input folder" in err, err
    # a folder with no GeoParquet name, as input: nothing written inside it either
    argv = ["priority", folders[0], "--roads", sample_data / "roads.geojson"]
    status, _, err = _run([*argv, "-o", folders[0] / "z.gpkg"], capsys)
    assert status == 2 and "is inside the input folder" in err, err
    assert _tree(layer) == before


def test_a_file_output_named_like_a_layer_folder_suggests_the_slash(layer, tmp_path):
    folder = write_partitioned(layer, tmp_path / "zones.parquet", npartitions=2)
    with pytest.raises(OutputError, match=r"zones\.parquet/\) to replace .*zones-new\.parquet"):
        minemap.io.write_layer(layer, folder)


# ------------------------------------------------------------------------------------------
# GeoParquet metadata of the wrong shape: refused in one line, never a traceback
# ------------------------------------------------------------------------------------------


def _edit_geo(path: Path, edit) -> None:
    table = pq.read_table(path)
    metadata = dict(table.schema.metadata)
    geo = json.loads(metadata[b"geo"])
    edit(geo)
    metadata[b"geo"] = json.dumps(geo).encode()
    pq.write_table(table.replace_schema_metadata(metadata), path)


def _set(*keys_value):
    *keys, value = keys_value

    def edit(geo: dict) -> None:
        node = geo
        for key in keys[:-1]:
            node = node[key]
        node[keys[-1]] = value

    return edit


BAD_GEO = {
    "columns is text": _set("columns", "x"),
    "primary column a list": _set("primary_column", ["geometry"]),
    "covering is text": _set("columns", "geometry", "covering", "x"),
    "covering xmin empty": _set("columns", "geometry", "covering", {"bbox": {"xmin": []}}),
    "covering names no column": _set(
        "columns",
        "geometry",
        "covering",
        {"bbox": {k: ["nope", k] for k in ("xmin", "ymin", "xmax", "ymax")}},
    ),
    "bbox of text": _set("columns", "geometry", "bbox", ["a", "b", "c", "d"]),
    "bbox of nulls": _set("columns", "geometry", "bbox", [None, None, None, None]),
    "bbox of three": _set("columns", "geometry", "bbox", [1, 2, 3]),
    "bbox overflowing": _set("columns", "geometry", "bbox", [0, 0, 10**400, 0]),
}


@pytest.mark.parametrize("edit", BAD_GEO.values(), ids=BAD_GEO.keys())
def test_geoparquet_metadata_of_the_wrong_shape_is_refused(layer, tmp_path, edit):
    folder = write_partitioned(layer, tmp_path / "h.parquet", npartitions=2)
    _edit_geo(folder / "part-00001.parquet", edit)
    for read in (read_partitioned, partition_bounds, minemap.read_hazards):
        with pytest.raises(FormatError, match=r"^h\.parquet: part-00001\.parquet: its GeoParquet"):
            read(folder)


def test_a_bbox_without_covering_in_metadata_gives_the_file_extent(layer, tmp_path):
    folder = write_partitioned(layer, tmp_path / "h.parquet", npartitions=1)
    _edit_geo(folder / "part-00000.parquet", _set("columns", "geometry", "covering", None))
    _edit_geo(folder / "part-00000.parquet", _set("columns", "geometry", "bbox", [1, 2, 3, 4]))
    assert partition_bounds(folder)[["xmin", "ymin", "xmax", "ymax"]].iloc[0].tolist() == [
        1,
        2,
        3,
        4,
    ]


@pytest.mark.parametrize(
    ("frame", "match"),
    [
        (pd.DataFrame({"a": [1]}), "is a DataFrame, not a GeoDataFrame"),
        ("not a frame", "is a str, not a GeoDataFrame"),
    ],
)
def test_what_is_not_a_geodataframe_is_refused_clearly(tmp_path, frame, match):
    with pytest.raises(SchemaError, match=match):
        write_partitioned(frame, tmp_path / "h.parquet")


def test_column_names_that_are_not_text_are_refused(layer, tmp_path):
    odd = layer.rename(columns={"devices": 7})
    with pytest.raises(SchemaError, match=r"column names must be text.*\[7\]"):
        write_partitioned(odd, tmp_path / "h.parquet")
    assert not (tmp_path / "h.parquet").exists()


# ------------------------------------------------------------------------------------------
# a bbox read: files without covering column, covering values that lie
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["WKB", "geoarrow"])
@pytest.mark.parametrize("box", BOXES)
def test_files_without_covering_column_are_filtered_row_by_row(layer, tmp_path, box, encoding):
    folder = tmp_path / "plain.parquet"
    folder.mkdir()
    for number, rows in enumerate(np.array_split(np.arange(len(layer)), 3)):
        layer.iloc[rows].to_parquet(
            folder / f"part-{number}.parquet", geometry_encoding=encoding.lower()
        )
    got = read_partitioned(folder, bbox=box)
    expected = layer[_meets(layer, box)]
    assert sorted(got["hazard_id"]) == sorted(expected["hazard_id"])
    assert "bbox" not in got.columns
    streamed = [i for part in iter_partitions(folder, bbox=box) for i in part["hazard_id"]]
    assert sorted(streamed) == sorted(expected["hazard_id"])


def test_a_covering_value_that_lies_is_refused_not_a_row_dropped(layer, tmp_path):
    folder = write_partitioned(layer, tmp_path / "h.parquet", npartitions=1)
    path = folder / "part-00000.parquet"
    table = pq.read_table(path)
    cover = table["bbox"].to_pylist()
    victim = 7
    cover[victim] = {k: v + 50_000.0 for k, v in cover[victim].items()}  # stale: elsewhere
    field = table.schema.get_field_index("bbox")
    table = table.set_column(field, "bbox", pa.array(cover, type=table["bbox"].type))
    pq.write_table(table, path)
    row = layer.iloc[victim]
    box = tuple(row.geometry.bounds)
    with pytest.raises(FormatError, match=r"h\.parquet: part-00000\.parquet: its bbox covering"):
        read_partitioned(folder, bbox=box)
    assert len(read_partitioned(folder)) == len(layer)  # without a bbox, every row is read


# ------------------------------------------------------------------------------------------
# folders that are not one layer: named, never read twice
# ------------------------------------------------------------------------------------------


def test_a_stray_file_in_a_layer_folder_is_named_by_the_readers(layer, tmp_path):
    folder = write_partitioned(layer, tmp_path / "h.parquet", npartitions=2)
    (folder / "notes.txt").write_text("field notes")
    with pytest.raises(FormatError, match=r"other entries than \.parquet files \(notes\.txt\)"):
        minemap.read_hazards(folder)


@pytest.mark.parametrize("name", ["weird.gpkg", "weird.csv", "weird.shp.zip"])
def test_a_folder_named_as_another_format_is_not_a_layer(layer, tmp_path, name):
    folder = write_partitioned(layer, tmp_path / "h.parquet", npartitions=2).rename(tmp_path / name)
    assert not is_partitioned(folder)
    for read in (read_partitioned, minemap.read_hazards):
        with pytest.raises(FormatError, match=r"is not read as a partitioned GeoParquet layer"):
            read(folder)
    assert len(read_partitioned(folder.rename(tmp_path / "plain"))) == len(layer)


@pytest.mark.skipif(os.name == "nt", reason="symbolic links need privileges on Windows")
def test_a_link_to_another_part_of_the_folder_is_refused(layer, tmp_path):
    folder = write_partitioned(layer, tmp_path / "h.parquet", npartitions=2)
    (folder / "part-00002.parquet").symlink_to("part-00000.parquet")
    with pytest.raises(FormatError, match=r"part-00002\.parquet is a symbolic link to part-0000"):
        read_partitioned(folder)
