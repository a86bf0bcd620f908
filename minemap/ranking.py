"""An explainable clearance ranking of hazards: which to clear first, and why.

Each remaining hazard gets one score per criterion, each in [0, 1], and a weighted total;
``rank`` 1 means clear first. Every input of the total is a column of the result, and the
weights used are in ``result.attrs["weights"]``, so anyone can recompute a rank by hand.

The criteria (keys of the weights) and their normalised scores:

* ``threat``: threat level of the hazard: high 1, medium 0.5, low 0.
* ``residential_ha``, ``infrastructure_ha``, ``roads_ha``: remaining hectares of the hazard
  in each priority zone (:func:`minemap.priority_zones`), divided by the largest value
  among the ranked hazards.
* ``population``: people within ``population_radius_m`` of the remaining hazard (from a
  raster), divided by the largest value.
* ``remaining_ha``: remaining hectares of the hazard (more land returned), divided by the
  largest value.
* ``proximity``: ``1 − d / d_max`` where ``d`` is the true distance in metres from the
  remaining hazard to the nearest road, infrastructure or residential feature.
* ``incidents``: incidents (casualty events) within ``evidence_radius_m`` true metres of
  the remaining hazard, divided by the largest value: people are using that land now.
* ``finds``: devices found within ``evidence_radius_m`` of the remaining hazard (inside its
  released parts or next to it), divided by the largest value: evidence that the hazard
  really holds devices.

Incidents and device finds dated after ``as_of`` are left out, like releases.

A criterion without data (no population raster, no feature layer) scores 0 for every hazard,
so it cannot change the order. The total is ``Σ weight × score / Σ weight``, in [0, 1].
Hazards are ordered by total, highest first; equal totals (to 1e-12) by ``hazard_id``.
Hazards with no remaining area (fully released; a sliver under 1 cm² left by the overlays
counts as none) get no rank.
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from minemap import _engine, _progress
from minemap import crs as _crs
from minemap import priority as _priority
from minemap._errors import FormatError, InputFileError, SchemaError
from minemap._overlay import gc_paused
from minemap._workers import using_workers
from minemap.io.evidence import evidence_layer
from minemap.nearest import SHARED_REACH_DEGREES, FeatureIndex, regional_distances_m
from minemap.settings import (
    DEVICE_COUNT,
    FIND_DATE,
    HAZARD_ID,
    INCIDENT_DATE,
    INJURED,
    KILLED,
    REMAINING_HA,
    THREAT_LEVEL,
)
from minemap.stats import _as_timestamp

if TYPE_CHECKING:  # population rasters need the 'population' extra, imported when given
    from minemap.population import Raster

__all__ = [
    "CRITERIA",
    "DEFAULT_WEIGHTS",
    "load_weights",
    "priority_analysis",
    "rank_hazards",
    "resolve_weights",
]

#: Ranking criteria, in the order of the score columns.
CRITERIA: tuple[str, ...] = (
    "threat",
    "residential_ha",
    "infrastructure_ha",
    "roads_ha",
    "population",
    "remaining_ha",
    "proximity",
    "incidents",
    "finds",
)
#: Default weights: settlements and threat first, then infrastructure and people.
DEFAULT_WEIGHTS: dict[str, float] = {
    "threat": 3.0,
    "residential_ha": 3.0,
    "infrastructure_ha": 2.0,
    "roads_ha": 1.0,
    "population": 2.0,
    "remaining_ha": 1.0,
    "proximity": 1.0,
    "incidents": 2.0,
    "finds": 1.0,
}
#: Score of each threat level.
THREAT_SCORES: dict[str, float] = {"high": 1.0, "medium": 0.5, "low": 0.0}

#: Default radius around a remaining hazard within which incidents and finds count.
EVIDENCE_RADIUS_M = 1_000.0

RANK = "rank"
PRIORITY_SCORE = "priority_score"
POPULATION = "population"
NEAREST_M = "nearest_feature_m"
DISTANCE_M = {c: f"{c}_distance_m" for c in _priority.CATEGORIES}
CATEGORY_HA = {c: f"{c}_ha" for c in _priority.CATEGORIES}
SCORE = {c: f"score_{c}" for c in CRITERIA}
INCIDENTS_NEARBY = "incidents_nearby"
VICTIMS_NEARBY = "victims_nearby"
DEVICES_NEARBY = "devices_found_nearby"


# ------------------------------------------------------------------------------------------
# weights
# ------------------------------------------------------------------------------------------


#: Largest ranking weight: only ratios matter, and larger ones overflow the score sums.
MAX_WEIGHT = 1e6


def resolve_weights(
    weights: Mapping[str, float] | str | os.PathLike | None = None,
) -> dict[str, float]:
    """Complete, checked weights: the given ones over :data:`DEFAULT_WEIGHTS`.

    Parameters
    ----------
    weights : dict, path or None
        Weights by criterion (see :data:`CRITERIA`), or a TOML file (see
        :func:`load_weights`). Criteria left out keep their default weight; give 0 to
        ignore a criterion.

    Returns
    -------
    dict
        A weight ≥ 0 for every criterion, in :data:`CRITERIA` order.

    Raises
    ------
    SchemaError
        Unknown criterion, negative or non-numeric weight, or all weights 0.

    Examples
    --------
    >>> resolve_weights({"population": 0})["population"]
    0.0
    """
    if weights is None:
        given: Mapping[str, object] = {}
    elif isinstance(weights, (str, os.PathLike)):
        given = load_weights(weights)
    else:
        given = weights
    unknown = [k for k in given if k not in CRITERIA]
    if unknown:
        raise SchemaError(
            f"unknown ranking weight(s) {unknown}; the allowed keys are {list(CRITERIA)}."
        )
    out = dict(DEFAULT_WEIGHTS)
    for key, value in given.items():
        try:
            number = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            number = math.nan
        if (
            isinstance(value, bool)
            or not math.isfinite(number)
            or number < 0
            or number > MAX_WEIGHT
        ):
            raise SchemaError(
                f"ranking weight {key!r} = {value!r}: weights must be numbers "
                f"from 0 to {MAX_WEIGHT:g} (only their ratios matter); the "
                f"allowed keys are {list(CRITERIA)}."
            )
        out[key] = number
    if sum(out.values()) <= 0:
        raise SchemaError("all ranking weights are 0; give at least one criterion a weight > 0.")
    return {k: out[k] for k in CRITERIA}


def load_weights(path: str | os.PathLike) -> dict[str, float]:
    """Read ranking weights from a TOML file.

    The weights are either top-level keys or keys of a ``[weights]`` table (see the
    example below).

    Parameters
    ----------
    path : path-like
        The TOML file.

    Returns
    -------
    dict
        The weights as written (check and complete them with :func:`resolve_weights`).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "weights.toml"
    >>> _ = path.write_text("[weights]\\nthreat = 3\\nresidential_ha = 3\\npopulation = 2\\n")
    >>> load_weights(path)
    {'threat': 3, 'residential_ha': 3, 'population': 2}
    >>> resolve_weights(load_weights(path))["roads_ha"]  # left out: its default weight
    1.0
    """
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"{path}: no such weights file; check the path.")
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise FormatError(
            f"{path.name} is not valid TOML ({exc}); write one 'criterion = "
            "number' per line, optionally under [weights]."
        ) from None
    table = doc.get("weights", doc)
    if not isinstance(table, dict):
        raise SchemaError(f"{path.name}: [weights] must be a table of criterion = number.")
    return dict(table)


# ------------------------------------------------------------------------------------------
# criteria
# ------------------------------------------------------------------------------------------


def _scaled(values: np.ndarray) -> np.ndarray:
    values = np.nan_to_num(np.asarray(values, dtype=float))
    top = values.max() if values.size else 0.0
    return values / top if top > 0 else np.zeros_like(values)


def _scored_in_order(
    table: pd.DataFrame, live: np.ndarray, chosen: Mapping[str, float]
) -> pd.DataFrame:
    """``table`` with every criterion's score and the weighted ``priority_score``, best
    first (ties by hazard id; hazards with nothing left last, unranked), ``rank`` in front."""
    scores = _scores(table, live)
    weight = np.array([chosen[c] for c in CRITERIA])
    total = scores[[SCORE[c] for c in CRITERIA]].to_numpy() @ weight / weight.sum()
    table = pd.concat([table, scores], axis=1)
    table[PRIORITY_SCORE] = np.where(live, total, np.nan)
    key = pd.DataFrame(
        {
            "live": ~live,
            "score": -np.round(np.nan_to_num(total), 12),
            "id": table[HAZARD_ID].astype(str),
        }
    )
    ordered = key.sort_values(["live", "score", "id"], kind="stable").index
    table = table.loc[ordered].reset_index(drop=True)
    ranks = pd.array([pd.NA] * len(table), dtype="Int64")
    n_live = int(live.sum())
    ranks[:n_live] = np.arange(1, n_live + 1)
    table.insert(0, RANK, ranks)
    return table


def _scores(table: pd.DataFrame, ranked: np.ndarray) -> pd.DataFrame:
    scores = pd.DataFrame(index=table.index)
    scores[SCORE["threat"]] = table[THREAT_LEVEL].map(THREAT_SCORES).astype(float).to_numpy()
    for key, column in (
        ("residential_ha", CATEGORY_HA["residential"]),
        ("infrastructure_ha", CATEGORY_HA["infrastructure"]),
        ("roads_ha", CATEGORY_HA["roads"]),
        ("population", POPULATION),
        ("remaining_ha", REMAINING_HA),
        ("incidents", INCIDENTS_NEARBY),
        ("finds", DEVICES_NEARBY),
    ):
        values = np.zeros(len(table))
        if column in table:
            values[ranked] = _scaled(table[column].to_numpy(dtype=float)[ranked])
        scores[SCORE[key]] = values
    proximity = np.zeros(len(table))
    distance = table[NEAREST_M].to_numpy(dtype=float)[ranked]
    known = np.isfinite(distance)
    if known.any():
        top = distance[known].max()
        part = np.where(known, 1.0 - distance / top if top > 0 else 1.0, 0.0)
        proximity[ranked] = np.nan_to_num(part)
    scores[SCORE["proximity"]] = proximity
    scores.loc[~ranked, list(SCORE.values())] = 0.0
    return scores


def _zone_ha(zones: pd.DataFrame, ids: pd.Series, categories: Sequence[str]) -> pd.DataFrame:
    """Zone hectares per row of ``ids`` and category (rows sharing an id share the sum)."""
    codes, uniques = pd.factorize(pd.concat([ids, zones[HAZARD_ID]], ignore_index=True))
    row_code, zone_code = codes[: len(ids)], codes[len(ids) :]
    hectares = zones[_priority.ZONE_HA].to_numpy(dtype=float)
    category_of = zones[_priority.CATEGORY].to_numpy()
    out = pd.DataFrame(index=range(len(ids)))
    for category in categories:
        sel = category_of == category
        sums = np.bincount(zone_code[sel], weights=hectares[sel], minlength=len(uniques))
        out[CATEGORY_HA[category]] = sums[row_code]
    return out


def rank_hazards(
    hazards: gpd.GeoDataFrame,
    releases: gpd.GeoDataFrame | None = None,
    *,
    roads: gpd.GeoDataFrame | None = None,
    infrastructure: gpd.GeoDataFrame | None = None,
    residential: gpd.GeoDataFrame | None = None,
    population: Raster | None = None,
    weights: Mapping[str, float] | str | os.PathLike | None = None,
    distances_m: Mapping[str, float] | None = None,
    order: Sequence[str] = _priority.CATEGORIES,
    distance_column: str | None = _priority.BUFFER_COLUMN,
    population_radius_m: float = 1_000.0,
    as_of: object | None = None,
    zones: gpd.GeoDataFrame | None = None,
    incidents: gpd.GeoDataFrame | None = None,
    finds: gpd.GeoDataFrame | None = None,
    evidence_radius_m: float = EVIDENCE_RADIUS_M,
    workers: int | None = None,
    engine: str | None = None,
    client: Any | None = None,
    npartitions: int | None = None,
) -> gpd.GeoDataFrame:
    """Rank hazards for clearance, with every criterion and score as a column.

    Parameters
    ----------
    hazards, releases, roads, infrastructure, residential
        As for :func:`minemap.priority_zones`.
    population : path or rasterio dataset, optional
        GeoTIFF of people per cell (with a CRS and nodata; any CRS). People within
        ``population_radius_m`` of each remaining hazard are summed, partial cells weighted
        by coverage.
    weights : dict or path, optional
        Weight per criterion (see the module notes), or a TOML file; criteria left out keep
        :data:`DEFAULT_WEIGHTS`.
    distances_m, order, distance_column, as_of
        As for :func:`minemap.priority_zones`.
    population_radius_m : float, default 1000
        Radius around the remaining hazard for the population count, in true metres.
    zones : geopandas.GeoDataFrame, optional
        The result of :func:`minemap.priority_zones` for the same inputs, to avoid computing
        the zones twice.
    incidents, finds : geopandas.GeoDataFrame, optional
        Incident points and device finds (as returned by :func:`minemap.io.read_incidents`
        and :func:`minemap.io.read_finds`; raw layers are validated first) for the
        ``incidents`` and ``finds`` criteria; those dated after ``as_of`` are left out.
    evidence_radius_m : float, default 1000
        True metres around each remaining hazard within which incidents and finds count.
    workers : int, optional
        Threads to use (default: every core this process may use); results are identical
        whatever the number.
    engine : {'local', 'dask'}, optional
        Where to run: ``'local'``, this process on ``workers`` threads, or ``'dask'``, a
        Dask cluster through :func:`minemap.partitioned.rank_hazards` (touching hazards and
        releases kept whole in one partition; the same figures). Default: Dask when a layer
        is a ``dask_geopandas.GeoDataFrame`` or ``client`` is given.
    client : distributed.Client, optional
        The Dask cluster to run on (default: a ``LocalCluster`` made for the call). On
        Dask, ``zones`` is not taken: each partition computes its own.
    npartitions : int, optional
        Dask partitions (default two per worker thread of the cluster).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per hazard, best first: ``rank`` (1 = clear first; missing for fully
        released hazards), ``hazard_id``, ``threat_level``, ``remaining_ha``,
        ``residential_ha``, ``infrastructure_ha``, ``roads_ha``, ``roads_distance_m``,
        ``infrastructure_distance_m``, ``residential_distance_m`` (true metres to the nearest
        feature; NaN without features), ``nearest_feature_m``, ``population`` (NaN without a
        raster), ``incidents_nearby``, ``victims_nearby`` (killed and injured in them) and
        ``devices_found_nearby`` (NaN without the layer), one ``score_<criterion>`` per
        criterion, ``priority_score`` and the hazard geometry. ``attrs["weights"]`` holds
        the weights used; ``attrs["criteria"]`` the meaning of each score.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import LineString, box
    >>> hz = gpd.GeoDataFrame({"hazard_id": ["H1", "H2"], "threat_level": ["low", "low"]},
    ...     geometry=[box(0, 0, 500, 500), box(0, 5000, 500, 5500)], crs=32638)
    >>> road = gpd.GeoDataFrame(geometry=[LineString([(-100, 250), (600, 250)])], crs=32638)
    >>> ranking = rank_hazards(hz, roads=road, weights={"roads_ha": 5})
    >>> ranking[["rank", "hazard_id"]].values.tolist()
    [[1, 'H1'], [2, 'H2']]
    >>> ranking.attrs["weights"]["roads_ha"]
    5.0
    """
    layers = {
        "hazards": hazards,
        "releases": releases,
        "roads": roads,
        "infrastructure": infrastructure,
        "residential": residential,
        "zones": zones,
        "incidents": incidents,
        "finds": finds,
    }
    if _engine.use_dask(
        "rank_hazards", engine, layers, client=client, npartitions=npartitions, workers=workers
    ):
        if zones is not None:
            raise SchemaError(
                "rank_hazards(): zones= is not taken on the Dask engine (each partition "
                "computes its own zones); leave it out, or run with engine='local'."
            )
        from minemap import partitioned

        return partitioned.rank_hazards(
            hazards,
            releases,
            client=client,
            npartitions=npartitions,
            roads=roads,
            infrastructure=infrastructure,
            residential=residential,
            population=population,
            weights=weights,
            distances_m=distances_m,
            order=order,
            distance_column=distance_column,
            population_radius_m=population_radius_m,
            as_of=as_of,
            incidents=incidents,
            finds=finds,
            evidence_radius_m=evidence_radius_m,
        )
    chosen = resolve_weights(weights)
    radius = _priority._check_distance(population_radius_m, "population_radius_m")
    evidence = _Evidence.of(incidents, finds, evidence_radius_m, as_of)
    given = (roads, infrastructure, residential)
    total = _priority._stage_count(*given, after=2) if zones is None else 3
    with using_workers(workers), _progress.task(_priority._TITLE, total, unit="stage") as bar:
        if zones is None:
            hazards, layers, distances, order, remaining, zone_geoms, nearest = _priority._analyse(
                hazards,
                releases,
                roads,
                infrastructure,
                residential,
                distances_m,
                order,
                distance_column,
                as_of,
                alongside=_distance_search,
                bar=bar,
            )
            bar.set_description(f"{_priority._TITLE} (zone table)")
            zones = _priority._zone_frame(remaining, zone_geoms, order, pyproj.CRS(hazards.crs))
        else:
            nearest = None
            hazards, releases, layers = _priority._prepare(
                hazards, releases, roads, infrastructure, residential
            )
            order = _priority._order(order, list(layers))
            frame = _crs.area_frame(hazards, releases, *layers.values())
            bar.update()
            bar.set_description(f"{_priority._TITLE} (remaining hazard area)")
            remaining = _priority._remaining(hazards, releases, frame, as_of)
            missing = [c for c in _priority.ZONE_COLUMNS if c not in zones.columns]
            if missing:
                raise SchemaError(
                    f"zones= lacks columns {missing}; pass the result of "
                    "priority_zones() for the same inputs."
                )
        bar.update()
        bar.set_description(f"{_priority._TITLE} (ranking)")
        return _ranking(
            hazards, layers, order, remaining, zones, population, chosen, radius, nearest, evidence
        )


def priority_analysis(
    hazards: gpd.GeoDataFrame,
    releases: gpd.GeoDataFrame | None = None,
    *,
    roads: gpd.GeoDataFrame | None = None,
    infrastructure: gpd.GeoDataFrame | None = None,
    residential: gpd.GeoDataFrame | None = None,
    population: Raster | None = None,
    weights: Mapping[str, float] | str | os.PathLike | None = None,
    distances_m: Mapping[str, float] | None = None,
    order: Sequence[str] = _priority.CATEGORIES,
    distance_column: str | None = _priority.BUFFER_COLUMN,
    population_radius_m: float = 1_000.0,
    as_of: object | None = None,
    incidents: gpd.GeoDataFrame | None = None,
    finds: gpd.GeoDataFrame | None = None,
    evidence_radius_m: float = EVIDENCE_RADIUS_M,
    workers: int | None = None,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Priority zones and the clearance ranking in one pass (what ``minemap priority`` runs).

    Same as calling :func:`minemap.priority_zones` and then :func:`rank_hazards`, but the
    remaining hazard area is computed once.

    Parameters
    ----------
    hazards, releases, roads, infrastructure, residential, population, weights, distances_m,
    order, distance_column, population_radius_m, as_of, incidents, finds, evidence_radius_m,
    workers
        As for :func:`rank_hazards`.

    Returns
    -------
    tuple of geopandas.GeoDataFrame
        ``(zones, ranking)``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point, box
    >>> hz = gpd.GeoDataFrame({"hazard_id": ["H1"], "threat_level": ["high"]},
    ...                       geometry=[box(0, 0, 1000, 1000)], crs=32638)
    >>> school = gpd.GeoDataFrame(geometry=[Point(500, 500)], crs=32638)
    >>> zones, ranking = priority_analysis(hz, infrastructure=school)
    >>> zones.category.tolist(), ranking["rank"].tolist()
    (['infrastructure'], [1])
    """
    chosen = resolve_weights(weights)
    radius = _priority._check_distance(population_radius_m, "population_radius_m")
    evidence = _Evidence.of(incidents, finds, evidence_radius_m, as_of)
    total = _priority._stage_count(roads, infrastructure, residential, after=2)
    with using_workers(workers), _progress.task(_priority._TITLE, total, unit="stage") as bar:
        hazards, layers, distances, order, remaining, zone_geoms, nearest = _priority._analyse(
            hazards,
            releases,
            roads,
            infrastructure,
            residential,
            distances_m,
            order,
            distance_column,
            as_of,
            alongside=_distance_search,
            bar=bar,
        )
        bar.set_description(f"{_priority._TITLE} (zone table)")
        zones = _priority._zones_output(
            remaining, zone_geoms, order, distances, pyproj.CRS(hazards.crs)
        )
        bar.update()
        bar.set_description(f"{_priority._TITLE} (ranking)")
        ranking = _ranking(
            hazards, layers, order, remaining, zones, population, chosen, radius, nearest, evidence
        )
        return zones, ranking


def _distance_search(
    layers: Mapping[str, gpd.GeoDataFrame], frame: pyproj.CRS
) -> Callable[[_priority._Remaining], dict[str, np.ndarray]]:
    """Index each category's features for the nearest-feature search (this does not depend
    on the hazards, so :func:`minemap.priority._analyse` runs it while the remaining area
    is computed) and return the search itself.

    The search gives, per category, the true metres from each remaining piece to the
    nearest feature (NaN for pieces with nothing left and for categories without features).
    """
    geoms = {
        c: np.asarray(layers[c].geometry.array, dtype=object)
        for c in _priority.CATEGORIES
        if c in layers
    }
    # data spread round the globe is searched by region, never near a frame's antipode
    shared = all(_in_shared_frame(geoms[c], layers[c].crs, frame) for c in geoms)
    indexes = (
        {c: FeatureIndex.build(geoms[c], layers[c].crs, frame) for c in geoms} if shared else {}
    )

    def search(remaining: _priority._Remaining) -> dict[str, np.ndarray]:
        live = remaining.area_m2 > 0
        work = remaining.work[live]
        here = shared and _in_shared_frame(work, remaining.work_crs, frame)
        targets = remaining.geoms[live]
        out = {}
        for category in _priority.CATEGORIES:
            values = np.full(len(remaining.area_m2), np.nan)
            if category in geoms:
                if here:
                    values[live] = indexes[category].distances_m(targets)
                else:
                    values[live] = regional_distances_m(
                        work, remaining.work_crs, geoms[category], layers[category].crs
                    )
            out[category] = values
        return out

    return search


def _in_shared_frame(geoms: np.ndarray, crs: object, frame: pyproj.CRS) -> bool:
    """Whether every geometry lies within :data:`minemap.nearest.SHARED_REACH_DEGREES` of
    the shared frame's centre (ordinary data: one region)."""
    if len(geoms) == 0:
        return True
    lon, lat = _crs.lonlat_points(gpd.GeoDataFrame(geometry=gpd.GeoSeries(geoms, crs=crs)))
    reach = _crs.feature_reach_m(geoms, pyproj.CRS(crs))
    live = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    return bool(
        _crs.within_of_centre(lon[live], lat[live], reach[live], frame, SHARED_REACH_DEGREES).all()
    )


def _near_antimeridian(geoms: np.ndarray, crs: pyproj.CRS, radius_m: float) -> bool:
    """Whether lon/lat geometries come within ``radius_m`` of the ±180° meridian."""
    crs = pyproj.CRS(crs)
    if not crs.is_geographic or len(geoms) == 0:
        return False
    per = _crs.degrees_per_unit(crs)
    bounds = shapely.bounds(geoms) * per
    live = np.isfinite(bounds).all(axis=1)
    if not live.any():
        return False
    bounds = bounds[live]
    cos = np.cos(np.radians(np.fmin(np.abs(bounds[:, [1, 3]]).max(axis=1), 90.0)))
    with np.errstate(divide="ignore"):
        margin = 1.01 * radius_m / (111_000.0 * cos) + 1e-6
    return bool(np.any((bounds[:, 0] < -180.0 + margin) | (bounds[:, 2] > 180.0 - margin)))


def _radius_buffers(
    remaining: _priority._Remaining, live: np.ndarray, radius: float
) -> tuple[np.ndarray, pyproj.CRS]:
    """True-metre buffers of ``radius`` round the live remaining pieces, and their CRS."""
    work = remaining.work[live]
    if _in_shared_frame(work, remaining.work_crs, remaining.frame) and not _near_antimeridian(
        work, remaining.work_crs, radius
    ):
        targets, crs = remaining.geoms[live], remaining.frame
    else:
        # spread round the globe, or across ±180° in lon/lat: buffered where they are
        # (never near a frame's antipode) and cut at ±180°, so that a buffer reaching
        # across it is not read as one round the world in a lon/lat raster
        targets, crs = work, remaining.work_crs
    buffers = _priority._true_buffers(
        targets, crs, np.full(targets.size, radius), crs, frame=remaining.frame
    )
    return buffers, pyproj.CRS(crs)


def _points_within(
    buffers: np.ndarray, crs: pyproj.CRS, points: gpd.GeoDataFrame, weights: np.ndarray
) -> np.ndarray:
    """Sum of ``weights`` of the points inside (or on the edge of) each buffer."""
    out = np.zeros(len(buffers))
    if len(points) == 0 or len(buffers) == 0:
        return out
    x, y = _crs.transformer(points.crs, crs).transform(
        shapely.get_x(points.geometry.values), shapely.get_y(points.geometry.values)
    )
    inside = np.isfinite(x) & np.isfinite(y)  # a point at a frame's antipode is far away
    where = shapely.points(x[inside], y[inside])
    tree = shapely.STRtree(where)
    buffer_i, point_j = tree.query(buffers, predicate="intersects")
    np.add.at(out, buffer_i, np.asarray(weights, dtype=float)[inside][point_j])
    return out


@dataclass(frozen=True)
class _Evidence:
    """Incidents and device finds for the ``incidents`` and ``finds`` criteria."""

    incidents: gpd.GeoDataFrame | None = None
    finds: gpd.GeoDataFrame | None = None
    radius: float = EVIDENCE_RADIUS_M

    @classmethod
    def of(
        cls,
        incidents: gpd.GeoDataFrame | None,
        finds: gpd.GeoDataFrame | None,
        radius_m: float,
        as_of: object | None,
    ) -> _Evidence:
        """Checked layers, without the points dated after ``as_of``."""
        radius = _priority._check_distance(radius_m, "evidence_radius_m")
        day = _as_timestamp(as_of)
        if incidents is not None:
            incidents = evidence_layer(incidents, "incidents")
            if day is not None:
                incidents = incidents.loc[incidents[INCIDENT_DATE] <= day]
        if finds is not None:
            finds = evidence_layer(finds, "finds")
            if day is not None:
                finds = finds.loc[finds[FIND_DATE] <= day]
        return cls(incidents, finds, radius)

    @property
    def given(self) -> bool:
        """Whether there is any evidence layer."""
        return self.incidents is not None or self.finds is not None

    def counts(self, remaining: _priority._Remaining, live: np.ndarray) -> dict[str, np.ndarray]:
        """Per remaining piece: incidents, victims and devices found within the radius
        (NaN for a layer not given; 0 for pieces with nothing left)."""
        n = len(remaining.area_m2)
        out = {c: np.full(n, np.nan) for c in (INCIDENTS_NEARBY, VICTIMS_NEARBY, DEVICES_NEARBY)}
        layers = {
            INCIDENTS_NEARBY: (self.incidents, None),
            VICTIMS_NEARBY: (self.incidents, (KILLED, INJURED)),
            DEVICES_NEARBY: (self.finds, (DEVICE_COUNT,)),
        }
        if not self.given:
            return out
        buffers, crs = _radius_buffers(remaining, live, self.radius) if live.any() else (None, None)
        for column, (layer, weight_columns) in layers.items():
            if layer is None:
                continue
            out[column][:] = 0.0
            if buffers is None or crs is None:
                continue
            weights = (
                np.ones(len(layer))
                if weight_columns is None
                else sum(layer[c].to_numpy(dtype=float) for c in weight_columns)
            )
            out[column][live] = _points_within(buffers, crs, layer, np.asarray(weights))
        return out


@gc_paused()
def _ranking(
    hazards: gpd.GeoDataFrame,
    layers: Mapping[str, gpd.GeoDataFrame],
    order: Sequence[str],
    remaining: _priority._Remaining,
    zones: pd.DataFrame,
    population: Raster | None,
    chosen: Mapping[str, float],
    radius: float,
    distances: Mapping[str, np.ndarray] | None = None,
    evidence: _Evidence | None = None,
) -> gpd.GeoDataFrame:
    table = remaining.attrs.copy()
    table[REMAINING_HA] = remaining.area_m2 / _crs.M2_PER_HA
    table = pd.concat([table, _zone_ha(zones, table[HAZARD_ID], _priority.CATEGORIES)], axis=1)
    live = remaining.area_m2 > 0
    if distances is None:
        distances = _distance_search(layers, remaining.frame)(remaining)
    nearest = np.full(len(table), np.nan)
    for category in _priority.CATEGORIES:
        table[DISTANCE_M[category]] = distances[category]
        nearest = np.fmin(nearest, distances[category])
    table[NEAREST_M] = nearest
    people = np.full(len(table), np.nan)
    if population is not None and live.any():
        buffers, crs = _radius_buffers(remaining, live, radius)
        from minemap.population import population_sum

        people[live] = population_sum(gpd.GeoSeries(buffers, crs=crs), population)
    table[POPULATION] = people
    for column, values in (evidence or _Evidence()).counts(remaining, live).items():
        table[column] = values

    table = _scored_in_order(table, live, chosen)

    geometry = hazards.set_index(HAZARD_ID).geometry
    geometry = geometry[~geometry.index.duplicated()]
    out = gpd.GeoDataFrame(
        table, geometry=geometry.reindex(table[HAZARD_ID]).to_numpy(), crs=hazards.crs
    )
    out.attrs.update(
        weights=dict(chosen),
        criteria=dict(_CRITERIA_TEXT),
        population_radius_m=radius if population is not None else None,
        evidence_radius_m=evidence.radius if evidence is not None and evidence.given else None,
        order=list(order),
        minemap="ranking",
    )
    return out


_CRITERIA_TEXT = {
    "threat": "threat level: high 1, medium 0.5, low 0",
    "residential_ha": "remaining ha in the residential zone / largest such value",
    "infrastructure_ha": "remaining ha in the infrastructure zone / largest such value",
    "roads_ha": "remaining ha in the road zone / largest such value",
    "population": "people within the population radius / largest such value",
    "remaining_ha": "remaining ha / largest such value",
    "proximity": "1 - metres to the nearest feature / largest such distance",
    "incidents": "incidents within the evidence radius / largest such value",
    "finds": "devices found within the evidence radius / largest such value",
}
