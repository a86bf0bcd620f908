"""Projects (minemap.project): opening a GeoPackage or a folder, mapping names, display."""

from __future__ import annotations

import re
import shutil
import tomllib
import warnings

import pandas as pd
import pytest

import minemap
from minemap._errors import InputFileError, SchemaError
from minemap.planning import Capacity
from minemap.planning.template import capacity_template
from minemap.project import file_sha256

OUTSIDE = r"37\.05 ha of recorded release lie outside every hazard area"


def _quiet(call, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=OUTSIDE)
        return call(*args, **kwargs)


def test_a_folder_opens_every_layer_with_its_checksum(sample_data):
    project = minemap.open_project(sample_data)
    assert project.name == "sample_data"
    assert sorted(project.features) == ["infrastructure", "residential", "roads"]
    assert project.districts is not None and len(project.districts) == 4
    assert str(project.population).endswith("population.tif")
    sources = project.sources
    assert list(sources) == [
        "hazards",
        "releases",
        "roads",
        "infrastructure",
        "residential",
        "districts",
        "incidents",
        "finds",
        "records",
        "settlements",
        "population",
    ]
    assert [sources[k].features for k in ("incidents", "finds", "records", "settlements")] == [
        60,
        300,
        40,
        60,
    ]
    assert project.incidents.attrs["minemap"] == "incidents"  # the CSV of lon/lat points
    assert sources["incidents"].sha256 == {
        "incidents.csv": file_sha256(sample_data / "incidents.csv")
    }
    assert sources["hazards"].features == 220 and sources["hazards"].crs == "EPSG:4326"
    assert sources["hazards"].sha256 == {
        "hazards.geojson": file_sha256(sample_data / "hazards.geojson")
    }


def test_a_geopackage_gives_the_same_figures_as_the_folder(sample_data):
    folder = _quiet(minemap.open_project(sample_data).summary)
    package = _quiet(minemap.open_project(sample_data / "scenario.gpkg").summary)
    pd.testing.assert_frame_equal(pd.DataFrame(folder), pd.DataFrame(package), rtol=1e-9)
    direct = _quiet(
        minemap.land_release_summary,
        minemap.read_hazards(sample_data / "hazards.geojson"),
        minemap.read_releases(sample_data / "releases.geojson"),
    )
    pd.testing.assert_frame_equal(pd.DataFrame(folder), direct, check_exact=True)


def test_other_names_are_mapped(tmp_path, sample_data):
    shutil.copy(sample_data / "hazards.geojson", tmp_path / "SHA_polygons.geojson")
    shutil.copy(sample_data / "releases.geojson", tmp_path / "completed.geojson")
    project = minemap.open_project(
        tmp_path, layers={"hazards": "SHA_polygons", "releases": "completed.geojson"}
    )
    assert len(project.hazards) == 220 and len(project.releases) == 139
    assert project.roads is None and project.population is None
    with pytest.raises(InputFileError, match=r"layers=\{'roads': 'streets'\} names no file"):
        minemap.open_project(tmp_path, layers={"hazards": "SHA_polygons", "roads": "streets"})
    with pytest.raises(SchemaError, match="unknown kind 'road'"):
        minemap.open_project(tmp_path, layers={"road": "x"})
    gpkg = sample_data / "scenario.gpkg"
    with pytest.raises(InputFileError, match="no such layer; the file has 'hazards'"):
        minemap.open_project(gpkg, layers={"roads": "streets"})


def test_reader_options_map_columns_and_vocabulary(tmp_path, sample_data):
    hazards = minemap.read_hazards(sample_data / "hazards.geojson")
    renamed = hazards.rename(columns={"threat_level": "risk"})
    renamed["risk"] = renamed["risk"].map({"high": "CHA", "medium": "SHA", "low": "SHA-low"})
    renamed.to_file(tmp_path / "hazards.geojson")
    project = minemap.open_project(
        tmp_path,
        options={
            "hazards": {
                "threat_column": "risk",
                "level_map": {"CHA": "high", "SHA": "medium", "SHA-low": "low"},
            }
        },
    )
    assert project.hazards.threat_level.value_counts().to_dict() == {
        "medium": 100,
        "high": 60,
        "low": 60,
    }


def test_a_reader_error_says_where_its_option_goes(tmp_path, sample_data):
    hazards = minemap.read_hazards(sample_data / "hazards.geojson")
    hazards.rename(columns={"threat_level": "risk"}).to_file(tmp_path / "hazards.geojson")
    message = (
        r"no column 'threat_level'.*threat_column=\. With open_project, give such options for "
        r"this layer as options=\{'hazards': \{\.\.\.\}\}\.$"
    )
    with pytest.raises(SchemaError, match=message):
        minemap.open_project(tmp_path)
    # an error without an option to give is left as it is
    (tmp_path / "hazards.geojson").write_text("{", encoding="utf-8")
    with pytest.raises(minemap.FormatError) as raised:
        minemap.open_project(tmp_path)
    assert "open_project" not in str(raised.value)


def test_warnings_point_at_the_line_that_asked_for_the_figure(sample_data):
    project = minemap.open_project(sample_data)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        project.summary()  # a notebook shows this line under the warning, not minemap's own
    assert [(w.category, w.filename) for w in caught] == [(minemap.DataWarning, __file__)]
    assert re.search(OUTSIDE, str(caught[0].message))


def test_missing_hazards_are_a_clear_error(tmp_path):
    with pytest.raises(InputFileError, match="no such file or folder"):
        minemap.open_project(tmp_path / "nope")
    with pytest.raises(InputFileError, match="no hazards found; the project needs a file named"):
        minemap.open_project(tmp_path)


def test_a_folder_with_one_geopackage_opens_it(tmp_path, sample_data):
    shutil.copy(sample_data / "scenario.gpkg", tmp_path / "programme.gpkg")
    project = minemap.open_project(tmp_path)
    assert project.sources["hazards"].layer == "hazards"
    assert len(project.releases) == 139


def test_capacity_toml_in_the_folder_is_the_plans_capacity(tmp_path, sample_data):
    for name in ("hazards.geojson", "releases.geojson"):
        shutil.copy(sample_data / name, tmp_path / name)
    (tmp_path / "capacity.toml").write_text(capacity_template(), encoding="utf-8")
    project = minemap.open_project(tmp_path)
    assert isinstance(project.capacity, Capacity)
    assert "capacity" in project.sources
    plan = _quiet(project.plan, start="2026-01-01")
    assert plan.summary["completion_date"] > pd.Timestamp("2026-01-01").date()


def test_each_figure_is_the_public_function_of_the_same_job(sample_data):
    project = minemap.open_project(sample_data)
    hazards, releases = project.hazards, project.releases
    pd.testing.assert_frame_equal(
        pd.DataFrame(_quiet(project.progress)),
        _quiet(minemap.progress_over_time, hazards, releases),
    )
    ranking = _quiet(project.ranking)
    expected = _quiet(
        minemap.rank_hazards,
        hazards,
        releases,
        roads=project.roads,
        infrastructure=project.infrastructure,
        residential=project.residential,
        population=project.population,
        incidents=project.incidents,
        finds=project.finds,
    )
    assert ranking["devices_found_nearby"].sum() > 0  # the project's evidence counts
    pd.testing.assert_frame_equal(
        ranking.drop(columns="geometry"), expected.drop(columns="geometry")
    )
    table = _quiet(project.priority_hectares)
    zones = _quiet(project.priorities)
    assert table.set_index("category").loc["total", "total_ha"] == pytest.approx(
        zones.zone_ha.sum(), rel=1e-12
    )


def test_a_plan_without_capacity_says_how_to_get_one(sample_data):
    project = minemap.open_project(sample_data)
    with pytest.raises(SchemaError, match="a plan needs a capacity.*capacity-template"):
        project.plan()
    capacity = Capacity.from_dict(tomllib.loads(capacity_template()))
    plan = _quiet(project.plan, capacity, start="2026-01-01")
    assert plan.schedule["rank"].notna().any()  # the ranking ordered the queue


def test_hazards_only_project_explains_what_is_missing(sample_data):
    project = minemap.Project(minemap.read_hazards(sample_data / "hazards.geojson"))
    with pytest.raises(SchemaError, match="no releases layer"):
        project.progress()
    with pytest.raises(SchemaError, match="none of these layers"):
        project.priorities()
    assert project.sources["hazards"].path == "(in memory)"
    assert len(project.sources["hazards"].sha256["content"]) == 64


def test_display_in_a_notebook_formats_hectares_and_escapes_names(sample_data):
    hazards = minemap.read_hazards(sample_data / "hazards.geojson")
    project = minemap.Project(hazards, name="<script>x</script>")
    page = project._repr_html_()
    assert "&lt;script&gt;" in page and "<script>" not in page
    assert "220 hazards (60 high, 100 medium, 60 low)" in page
    table = project.summary()._repr_html_()
    assert '<td class="num">5,500.0</td>' in table
    assert repr(project).startswith("<minemap.Project '<script>x</script>': hazards (220)")


def test_the_map_is_public_on_request(sample_data):
    project = minemap.open_project(sample_data / "scenario.gpkg")
    fmap = _quiet(project.map, public=True, public_grid_m=2000)
    assert len(fmap.minemap["grid"]) > 0


def test_compare_scenarios_and_a_geopackage_with_its_raster_beside_it(sample_data, tmp_path):
    capacity = Capacity.from_dict(tomllib.loads(capacity_template()))
    project = minemap.open_project(
        sample_data / "scenario.gpkg", layers={"population": "population.tif"}
    )
    assert str(project.population).endswith("population.tif")
    cap_file = tmp_path / "today.toml"
    cap_file.write_text(capacity_template(), encoding="utf-8")
    table, plans = _quiet(
        project.compare, {"today": cap_file, "same again": capacity}, start="2026-01-01"
    )
    assert sorted(plans) == ["same again", "today"]
    assert len(table) == 2 and "<table" in table._repr_html_()
    assert (
        plans["today"].summary["completion_date"] == plans["same again"].summary["completion_date"]
    )
    with pytest.raises(SchemaError, match="at least one scenario"):
        project.compare({})


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"options": {"hazard": {}}}, "options=: unknown kind 'hazard'"),
        ({"options": {"hazards": {"threat_col": "x"}}}, "'threat_col' is not an option of"),
        ({"options": {"roads": {"threat_column": "x"}}}, "of read_features; it takes layer"),
        ({"options": {"hazards": "x"}}, "takes a dict of reader options"),
        ({"layers": "hazards.geojson"}, "layers= takes a dict by kind"),
        ({"layers": {"hazards": "nope.geojson"}}, "(such as 'nope.geojson') or a path"),
        ({"layers": {"population": "nope.tif"}}, "(such as 'nope.tif') or a path"),
    ],
)
def test_mistakes_in_layers_and_options_are_one_clear_error(sample_data, given, message):
    with pytest.raises((SchemaError, InputFileError)) as excinfo:
        minemap.open_project(sample_data, **given)
    assert message in str(excinfo.value)


def test_a_missing_population_raster_is_named(sample_data, tmp_path):
    hazards = minemap.read_hazards(sample_data / "hazards.geojson")
    with pytest.raises(InputFileError, match="no such file; give the population raster"):
        minemap.Project(hazards, population=tmp_path / "nope.tif")


# ------------------------------------------------------------------------------------------
# partitioned GeoParquet folders are layers of a folder project
# ------------------------------------------------------------------------------------------


def _partitioned_project(sample_data, tmp_path):
    import geopandas as gpd

    from minemap.io import write_partitioned

    folder = tmp_path / "programme"
    folder.mkdir()
    for kind, parts in (("hazards", 3), ("releases", 2)):
        layer = gpd.read_file(sample_data / f"{kind}.geojson")
        write_partitioned(layer, folder / f"{kind}.parquet", npartitions=parts)
    return folder


def test_a_folder_project_finds_partitioned_layers(sample_data, tmp_path):
    folder = _partitioned_project(sample_data, tmp_path)
    project = _quiet(minemap.open_project, folder)
    plain = _quiet(
        minemap.open_project,
        sample_data,
        layers={"hazards": "hazards.geojson", "releases": "releases.geojson"},
    )
    pd.testing.assert_frame_equal(_quiet(project.summary), _quiet(plain.summary))
    source = project.sources["hazards"]
    parts = sorted((folder / "hazards.parquet").iterdir())
    assert source.path == str(folder / "hazards.parquet")
    assert source.features == len(plain.hazards)
    assert source.sha256 == {p.name: file_sha256(p) for p in parts}
    assert len(source.sha256) == 3


def test_layers_may_name_a_partitioned_folder(sample_data, tmp_path):
    folder = _partitioned_project(sample_data, tmp_path)
    (folder / "hazards.parquet").rename(folder / "national.parquet")
    with pytest.raises(InputFileError, match="no hazards found"):
        _quiet(minemap.open_project, folder)
    project = _quiet(minemap.open_project, folder, layers={"hazards": "national.parquet"})
    assert project.sources["hazards"].path.endswith("national.parquet")
    gpkg = sample_data / "scenario.gpkg"
    project = _quiet(
        minemap.open_project, gpkg, layers={"hazards": str(folder / "national.parquet")}
    )
    assert len(project.sources["hazards"].sha256) == 3
    # a folder that is not a partitioned layer is no layer
    (folder / "national.parquet" / "notes.txt").write_text("field notes")
    with pytest.raises(InputFileError, match="names no file there"):
        _quiet(minemap.open_project, folder, layers={"hazards": "national.parquet"})


def test_a_partitioned_folder_named_geoparquet_is_found(sample_data, tmp_path):
    folder = _partitioned_project(sample_data, tmp_path)
    (folder / "hazards.parquet").rename(folder / "hazards.geoparquet")
    project = _quiet(minemap.open_project, folder)
    assert project.sources["hazards"].path == str(folder / "hazards.geoparquet")
    assert len(project.sources["hazards"].sha256) == 3
