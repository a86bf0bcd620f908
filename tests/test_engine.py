"""``engine=`` on the public functions (``minemap._engine``): the Dask engine gives the local
engine's figures, follows a Dask input or a client, and refuses options that do not agree."""

from __future__ import annotations

import warnings
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import minemap
from minemap._engine import is_dask_collection, use_dask
from minemap._errors import DataWarning, SchemaError
from minemap.synthetic import make_scenario

dask_geopandas = pytest.importorskip("dask_geopandas")
distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def scenario() -> Any:
    return make_scenario(seed=11, n_hazards=150)


@pytest.fixture(scope="module")
def layers(scenario: Any) -> dict[str, gpd.GeoDataFrame]:
    return {
        "hazards": minemap.read_hazards(scenario.hazards),
        "releases": minemap.read_releases(scenario.releases),
        "roads": scenario.roads,
        "residential": scenario.residential,
    }


def _quiet(function: Any, *args: Any, **kwargs: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        return function(*args, **kwargs)


def _same_rows(local: pd.DataFrame, dask: pd.DataFrame) -> None:
    plain_local = pd.DataFrame(local.drop(columns="geometry", errors="ignore"))
    plain_dask = pd.DataFrame(dask.drop(columns="geometry", errors="ignore"))
    pd.testing.assert_frame_equal(plain_local, plain_dask, check_exact=False, rtol=1e-9)
    if "geometry" in local:
        a, b = np.asarray(local.geometry.array), np.asarray(dask.geometry.array)
        assert (shapely.area(shapely.symmetric_difference(a, b)) <= 1e-9 * shapely.area(a)).all()


# ------------------------------------------------------------------------------------------
# the Dask engine gives the local figures
# ------------------------------------------------------------------------------------------


def test_the_summary_on_the_dask_engine(client: Any, layers: dict[str, Any]) -> None:
    hazards, releases = layers["hazards"], layers["releases"]
    local = _quiet(minemap.land_release_summary, hazards, releases, by="district")
    dask = _quiet(
        minemap.land_release_summary,
        hazards,
        releases,
        by="district",
        engine="dask",
        client=client,
        npartitions=5,
    )
    assert local["hazard_ha"].iloc[-1] > 100
    _same_rows(local, dask)
    assert dask.attrs["area_frame"] == local.attrs["area_frame"]


def test_priority_zones_on_the_dask_engine(client: Any, layers: dict[str, Any]) -> None:
    kwargs = {"roads": layers["roads"], "residential": layers["residential"]}
    local = minemap.priority_zones(layers["hazards"], layers["releases"], **kwargs)
    dask = minemap.priority_zones(
        layers["hazards"], layers["releases"], engine="dask", client=client, **kwargs
    )
    assert len(local) > 10
    _same_rows(local, dask)


def test_the_ranking_on_the_dask_engine(client: Any, layers: dict[str, Any]) -> None:
    kwargs = {"roads": layers["roads"], "residential": layers["residential"]}
    local = _quiet(minemap.rank_hazards, layers["hazards"], layers["releases"], **kwargs)
    dask = _quiet(
        minemap.rank_hazards,
        layers["hazards"],
        layers["releases"],
        engine="dask",
        client=client,
        npartitions=3,
        **kwargs,
    )
    assert local["rank"].notna().sum() > 50
    _same_rows(local, dask)


def test_a_dask_input_runs_on_dask_without_asking(client: Any, layers: dict[str, Any]) -> None:
    hazards, releases = layers["hazards"], layers["releases"]
    lazy = dask_geopandas.from_geopandas(hazards, npartitions=4)
    local = _quiet(minemap.land_release_summary, hazards, releases)
    dask = _quiet(minemap.land_release_summary, lazy, releases, client=client)
    _same_rows(local, dask)


def test_a_client_alone_chooses_the_dask_engine(client: Any, layers: dict[str, Any]) -> None:
    local = _quiet(minemap.land_release_summary, layers["hazards"])
    dask = _quiet(minemap.land_release_summary, layers["hazards"], client=client)
    _same_rows(local, dask)


def test_the_default_local_cluster(layers: dict[str, Any]) -> None:
    hazards = layers["hazards"].iloc[:40]
    local = minemap.land_release_summary(hazards)
    dask = minemap.land_release_summary(hazards, engine="dask", npartitions=2)
    _same_rows(local, dask)


# ------------------------------------------------------------------------------------------
# options that do not agree are refused before any work
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"engine": "spark"}, "engine='spark' is not an engine; give 'local'"),
        ({"engine": 2}, "engine=2 is not an engine"),
        ({"engine": "local", "client": object()}, "client= is an option of the Dask engine"),
        ({"npartitions": 4}, "npartitions= is an option of the Dask engine"),
        ({"engine": "dask", "workers": 2}, "workers=2 sets this machine's threads"),
    ],
)
def test_options_that_do_not_agree(
    layers: dict[str, Any], kwargs: dict[str, Any], message: str
) -> None:
    for function in (minemap.land_release_summary, minemap.priority_zones, minemap.rank_hazards):
        with pytest.raises(SchemaError, match=message.replace("(", r"\(")) as caught:
            function(layers["hazards"], **kwargs)
        assert str(caught.value).startswith(f"{function.__name__}(): ")
        assert "\n" not in str(caught.value)


def test_a_dask_table_on_the_local_engine_is_refused(layers: dict[str, Any]) -> None:
    lazy = dask_geopandas.from_geopandas(layers["releases"], npartitions=2)
    with pytest.raises(SchemaError, match=r"releases is a Dask table.*\.compute\(\)"):
        minemap.land_release_summary(layers["hazards"], lazy, engine="local")
    roads = dask_geopandas.from_geopandas(layers["roads"], npartitions=1)
    with pytest.raises(SchemaError, match="roads is a Dask table"):
        minemap.priority_zones(layers["hazards"], roads=roads, engine="local")


def test_dask_feature_layers_are_sent_whole(client: Any, layers: dict[str, Any]) -> None:
    roads = dask_geopandas.from_geopandas(layers["roads"], npartitions=3)
    local = minemap.priority_zones(layers["hazards"], roads=layers["roads"])
    dask = minemap.priority_zones(layers["hazards"], roads=roads, client=client)
    _same_rows(local, dask)
    ranked = _quiet(minemap.rank_hazards, layers["hazards"], roads=roads, client=client)
    _same_rows(_quiet(minemap.rank_hazards, layers["hazards"], roads=layers["roads"]), ranked)


def test_zones_are_not_taken_on_the_dask_engine(layers: dict[str, Any]) -> None:
    zones = minemap.priority_zones(layers["hazards"], roads=layers["roads"])
    with pytest.raises(SchemaError, match="zones= is not taken on the Dask engine"):
        minemap.rank_hazards(layers["hazards"], roads=layers["roads"], zones=zones, engine="dask")


def test_which_engine() -> None:
    frame = gpd.GeoDataFrame()
    assert not is_dask_collection(frame)
    assert is_dask_collection(dask_geopandas.from_geopandas(frame, npartitions=1))
    assert not use_dask("f", None, {"hazards": frame})
    assert not use_dask("f", "local", {"hazards": frame}, workers=2)
    assert use_dask("f", None, {"hazards": frame}, client=object())
    assert use_dask("f", "dask", {"hazards": None, "releases": None}, npartitions=3)
