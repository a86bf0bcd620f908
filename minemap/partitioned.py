"""The summary and the priority zones on a Dask cluster, partitioned so the area rules hold.

dask-geopandas has no overlay, and an overlay run partition by partition breaks the area
rules wherever overlapping polygons sit in different partitions: a place under two hazards
would count twice, a release straddling two partitions twice. minemap therefore partitions
by its own rule: **groups of touching features are kept whole in one partition**.

* Hazards and releases are grouped into connected components of intersecting *bounding
  boxes* (a cheap superset of "touching": boxes that meet are linked, an STRtree finds the
  pairs). Only the boxes are needed, so a table whose geometries do not fit in memory still
  has boxes that do.
* Components are packed into ``npartitions`` partitions balanced by vertex count, largest
  first into the lightest partition (ties by first row, so the packing is deterministic).
* Each partition runs the single-machine computation on its own hazards and releases
  (priority features: those near the partition's hazards), on a Dask worker.
* The partition results are combined: hectares are summed in partition order and the
  derived columns (released, remaining, percentages) recomputed from the sums by the very
  code the single-machine summary uses.

No two features that overlap sit in different partitions, so overlaps and releases
straddling a partition boundary are counted once by construction, and the figures equal
the single-machine ones (to rounding). Dask is imported only here, through
:func:`minemap._extras.require`: ``import minemap`` works without it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import heapq
import re
import threading
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from minemap import _validate
from minemap import crs as _crs
from minemap import nearest as _nearest
from minemap import priority as _priority
from minemap import ranking as _ranking
from minemap import stats as _stats
from minemap._engine import is_dask_collection
from minemap._errors import (
    CoordinateError,
    DataWarning,
    DuplicateIdWarning,
    SchemaError,
    option_hint,
)
from minemap._extras import require
from minemap._workers import available_cores, private
from minemap.io import readers as _readers
from minemap.settings import (
    DEVICE_COUNT,
    HAZARD_HA,
    HAZARD_ID,
    INJURED,
    KILLED,
    METHOD_HA,
    RELEASE_ID,
    RELEASED_OUTSIDE_HA,
    REMAINING_HA,
    THREAT_LEVEL,
    THREAT_LEVELS,
    TOTAL,
)

__all__ = ["land_release_summary", "partition_components", "priority_zones", "rank_hazards"]

_BOX_COLUMNS = ("minx", "miny", "maxx", "maxy")
#: Partitions per worker thread when ``npartitions`` is not given: a few more partitions
#: than threads even out partitions of unequal cost.
PARTITIONS_PER_THREAD = 2
#: Warnings are not thread-safe to catch: partitions that must silence one (a district
#: layer's "outside every district", said once for the whole table) take turns.
_QUIET = threading.Lock()


# ------------------------------------------------------------------------------------------
# the partitioning rule
# ------------------------------------------------------------------------------------------


def _box_table(layer: gpd.GeoDataFrame | None) -> pd.DataFrame:
    """Bounding box and vertex count of each feature (all a partitioning needs)."""
    columns = [*_BOX_COLUMNS, "vertices"]
    if layer is None or len(layer) == 0:
        return pd.DataFrame({c: np.empty(0) for c in columns})
    geoms = np.asarray(layer.geometry.array, dtype=object)
    bounds = shapely.bounds(geoms)
    table = pd.DataFrame(bounds, columns=list(_BOX_COLUMNS))
    table["vertices"] = shapely.get_num_coordinates(geoms).astype(float)
    return table


def _boxes_and_ids(layer: gpd.GeoDataFrame, kind: str) -> tuple[pd.DataFrame, pd.Series | None]:
    """Boxes of a Dask table's partition, and the ids its validation will check (those of
    features with a geometry; ``None`` where the partition is already validated)."""
    boxes = _box_table(layer)
    column = _ID_COLUMNS[kind]
    if layer.attrs.get("minemap") == kind or column not in layer.columns or len(layer) == 0:
        return boxes, None
    ids = layer[column].reset_index(drop=True)
    blank = _readers.blank_ids(ids)
    kept = np.isfinite(boxes[list(_BOX_COLUMNS)].to_numpy(dtype=float)).all(axis=1)
    return boxes, ids[kept & ~blank]


_ID_COLUMNS = {"hazards": HAZARD_ID, "releases": RELEASE_ID}


def _check_ids_across(ids: Sequence[pd.Series | None], meta: gpd.GeoDataFrame, kind: str) -> None:
    """Duplicate ids of a Dask table, warned once as the reader warns for the whole table
    (each partition, validated alone, sees only its own)."""
    known = [i for i in ids if i is not None and len(i)]
    if not known:
        return
    label = _readers._label(meta, None, kind)
    _validate.check_ids(pd.concat(known, ignore_index=True), label, _ID_COLUMNS[kind])


def _components(bounds: np.ndarray) -> np.ndarray:
    """Component label of each box: boxes that intersect (or touch) are linked."""
    n = len(bounds)
    if n == 0:
        return np.empty(0, dtype=np.intp)
    finite = np.isfinite(bounds).all(axis=1)
    boxes = np.full(n, None, dtype=object)
    boxes[finite] = shapely.box(*bounds[finite].T)
    # for boxes, the tree's own envelope test is the intersection test: no predicate needed
    i, j = shapely.STRtree(boxes).query(boxes)
    graph = coo_matrix((np.ones(i.size, dtype=np.int8), (i, j)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return np.asarray(labels, dtype=np.intp)


def _pack(labels: np.ndarray, weights: np.ndarray, npartitions: int) -> np.ndarray:
    """Partition of each row: whole components, heaviest first into the lightest partition."""
    if labels.size == 0:
        return np.empty(0, dtype=np.intp)
    count = int(labels.max()) + 1
    weight = np.bincount(labels, weights=weights, minlength=count)
    first = np.full(count, labels.size)
    np.minimum.at(first, labels, np.arange(labels.size))
    order = np.lexsort((first, -weight))  # heaviest first, ties by first row
    heap = [(0.0, p) for p in range(npartitions)]
    target = np.empty(count, dtype=np.intp)
    for component in order:
        load, p = heapq.heappop(heap)
        target[component] = p
        heapq.heappush(heap, (load + float(weight[component]), p))
    return target[labels]


def _check_npartitions(npartitions: object) -> int:
    if isinstance(npartitions, bool) or not isinstance(npartitions, int | np.integer):
        raise SchemaError(
            f"{option_hint('npartitions', repr(npartitions))} is not a whole number; give "
            "the number of partitions, e.g. 8."
        )
    if npartitions < 1:
        raise SchemaError(
            f"{option_hint('npartitions', repr(npartitions))} must be at least 1; give the "
            "number of partitions, e.g. 8."
        )
    return int(npartitions)


def _assign(boxes: pd.DataFrame, npartitions: int) -> np.ndarray:
    bounds = boxes[list(_BOX_COLUMNS)].to_numpy(dtype=float)
    weights = np.maximum(boxes["vertices"].to_numpy(dtype=float), 1.0)
    return _pack(_components(bounds), weights, npartitions)


def partition_components(
    hazards: gpd.GeoDataFrame,
    releases: gpd.GeoDataFrame | None = None,
    *,
    npartitions: int,
) -> np.ndarray:
    """Partition number of each hazard and release, never splitting touching features.

    Features whose bounding boxes intersect or touch, directly or through a chain of
    others, form one component; components are packed whole into ``npartitions``
    partitions, balanced by vertex count (largest first into the lightest partition).

    Parameters
    ----------
    hazards : geopandas.GeoDataFrame
        Hazard areas.
    releases : geopandas.GeoDataFrame, optional
        Land-release records, in the hazards' CRS.
    npartitions : int
        Number of partitions (some stay empty when there are fewer components).

    Returns
    -------
    numpy.ndarray
        One partition number in ``0 .. npartitions - 1`` per hazard row, followed by one per
        release row.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> hz = gpd.GeoDataFrame(geometry=[box(0, 0, 2, 2), box(1, 1, 3, 3), box(9, 9, 10, 10)],
    ...                       crs=32638)
    >>> rl = gpd.GeoDataFrame(geometry=[box(2.5, 2.5, 9.5, 9.5)], crs=32638)
    >>> partition_components(hz, npartitions=2).tolist()
    [0, 0, 1]
    >>> partition_components(hz, rl, npartitions=2).tolist()  # the release links them
    [0, 0, 0, 0]
    """
    npartitions = _check_npartitions(npartitions)
    boxes = pd.concat([_box_table(hazards), _box_table(releases)], ignore_index=True)
    return _assign(boxes, npartitions)


# ------------------------------------------------------------------------------------------
# the cluster
# ------------------------------------------------------------------------------------------


def _require() -> None:
    require(
        "dask",
        "distributed",
        "dask_geopandas",
        extra="dask",
        purpose="running on a Dask cluster",
    )


@contextlib.contextmanager
def _cluster(client: Any | None) -> Iterator[Any]:
    """The client to use: the caller's, or one on a local cluster closed afterwards.

    The local cluster runs one worker thread per core in this process
    (``processes=False``): shapely, GEOS and PROJ release the GIL, so threads use every
    core, and partitions need not be pickled between processes.
    """
    if client is not None:
        yield client
        return
    from distributed import Client, LocalCluster

    cluster = LocalCluster(
        n_workers=available_cores(),
        threads_per_worker=1,
        processes=False,
        dashboard_address=":0",  # a free port: a busy 8787 never warns
    )
    try:
        with Client(cluster) as local:
            yield local
    finally:
        cluster.close()


def _whole(layer: Any) -> Any:
    """A layer sent whole to every partition (features, evidence, districts): a Dask table
    is computed into one GeoDataFrame first."""
    return layer.compute() if is_dask_collection(layer) else layer


def _default_npartitions(client: Any) -> int:
    threads = sum(client.nthreads().values()) or 1
    return PARTITIONS_PER_THREAD * threads


def _split(frame: pd.DataFrame, parts: np.ndarray, npartitions: int) -> tuple[Any, ...]:
    """Rows of ``frame`` by their partition, ``npartitions`` frames (rows stay in order)."""
    return tuple(frame.iloc[np.flatnonzero(parts == p)] for p in range(npartitions))


def _concat(frames: Sequence[pd.DataFrame], attrs: Mapping[str, Any]) -> gpd.GeoDataFrame:
    out = pd.concat(list(frames)) if len(frames) > 1 else frames[0]
    out.attrs.update(attrs)
    return out


@contextlib.contextmanager
def _warnings_to_driver(recorded: list[warnings.WarningMessage]) -> Iterator[None]:
    """Record warnings (taking turns with other partitions), to be re-issued once."""
    with _QUIET, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    recorded.extend(caught)


def _validated_part(
    frame: gpd.GeoDataFrame, check: Callable[[gpd.GeoDataFrame], gpd.GeoDataFrame]
) -> tuple[gpd.GeoDataFrame, list[tuple[str, type[Warning]]]]:
    """A partition of a Dask table validated on its worker, and the warnings it raised."""
    if len(frame) == 0:  # nothing to validate (a partition holding only releases)
        out = frame.copy()
        out.attrs["minemap"] = "hazards" if check is _stats._as_hazards else "releases"
        return out, []
    recorded: list[warnings.WarningMessage] = []
    with _warnings_to_driver(recorded):
        out = check(frame)
    # duplicate ids are warned for the whole table, from the ids gathered with the boxes
    said = [w for w in recorded if not issubclass(w.category, DuplicateIdWarning)]
    return out, [(str(w.message), w.category) for w in said]


def _first(pair: tuple[Any, Any]) -> Any:
    return pair[0]


def _second(pair: tuple[Any, Any]) -> Any:
    return pair[1]


class _Layers:
    """Hazards and releases split into partitions of whole components, on the cluster.

    A GeoDataFrame is validated here (as the single-machine functions do) and its
    partitions are scattered to the workers; a ``dask_geopandas.GeoDataFrame`` is read
    twice, partition by partition: once for the boxes, once to route each row to its
    partition (each partition is validated on its worker).
    """

    def __init__(
        self,
        client: Any,
        hazards: Any,
        releases: Any | None,
        npartitions: int,
    ) -> None:
        import dask

        self.client = client
        self.npartitions = npartitions
        self.notes: dict[int, list[Any]] = {p: [] for p in range(npartitions)}
        sources = [(hazards, _stats._as_hazards), (releases, _stats._as_releases)]
        lazy = [layer for layer, _ in sources if layer is not None and is_dask_collection(layer)]
        eager = {
            id(layer): check(layer)
            for layer, check in sources
            if layer is not None and not is_dask_collection(layer)
        }
        # boxes: computed partition by partition for Dask tables, with their ids
        box_parts: list[Any] = []
        kinds = {id(hazards): "hazards", id(releases): "releases"}
        for layer, _ in sources:
            if layer is None:
                continue
            if is_dask_collection(layer):
                kind = kinds[id(layer)]
                box_parts.extend(dask.delayed(_boxes_and_ids)(p, kind) for p in layer.to_delayed())
            else:
                box_parts.append(_box_table(eager[id(layer)]))
        lazy_boxes = [b for b in box_parts if not isinstance(b, pd.DataFrame)]
        computed = iter(client.gather(client.compute(lazy_boxes)) if lazy else [])
        boxes: list[pd.DataFrame] = []
        for layer, _ in sources:
            if layer is None:
                continue
            if not is_dask_collection(layer):
                boxes.append(box_parts[len(boxes)])
                continue
            pairs = [next(computed) for _ in range(layer.npartitions)]
            _check_ids_across([i for _, i in pairs], layer._meta, kinds[id(layer)])
            boxes.extend(b for b, _ in pairs)
        parts = _assign(pd.concat(boxes, ignore_index=True), npartitions)
        sizes = [len(b) for b in boxes]
        offsets = np.concatenate([[0], np.cumsum(sizes)])
        self.hazards: list[Any] = []
        self.releases: list[Any] = [None] * npartitions
        self.counts = np.zeros(npartitions, dtype=np.intp)
        k = 0
        for layer, check in sources:
            if layer is None:
                continue
            if is_dask_collection(layer):
                inputs = layer.to_delayed()
                routed = [
                    dask.delayed(_split, nout=npartitions)(
                        p, parts[offsets[k + m] : offsets[k + m + 1]], npartitions
                    )
                    for m, p in enumerate(inputs)
                ]
                n_in = len(inputs)
                pieces = [
                    dask.delayed(_validated_part)(
                        dask.delayed(_concat)([r[p] for r in routed], {}), check
                    )
                    for p in range(npartitions)
                ]
                for p, q in enumerate(pieces):
                    self.notes[p].append(dask.delayed(_second)(q))
                frames = [dask.delayed(_first)(q) for q in pieces]
                own = parts[offsets[k] : offsets[k + n_in]]
            else:
                n_in = 1
                frame = eager[id(layer)]
                own = parts[offsets[k] : offsets[k + 1]]
                split = _split(frame, own, npartitions)
                for piece in split:
                    piece.attrs.update(frame.attrs)
                frames = client.scatter(list(split))
            if check is _stats._as_hazards:
                self.hazards = frames
                self.counts = np.bincount(own, minlength=npartitions)
            else:
                self.releases = frames
                self.release_counts = np.bincount(own, minlength=npartitions)
            k += n_in
        self.parts = parts
        # the hazards' boxes by partition (hazards come first in the box table)
        n_hazards = int(offsets[len(hazards.to_delayed()) if is_dask_collection(hazards) else 1])
        table = pd.concat(boxes, ignore_index=True) if boxes else pd.DataFrame()
        self.hazard_boxes = table[list(_BOX_COLUMNS)].to_numpy(dtype=float)[:n_hazards]
        self.hazard_parts = parts[:n_hazards]
        self.eager = eager
        self.has_releases = releases is not None
        self.lazy = bool(lazy)

    def run(self, tasks: Mapping[int, Any]) -> tuple[list[Any], list[Any]]:
        """Results of the tasks of these partitions, and the warnings of their validation
        (computed together, so each input partition is read once)."""
        notes = [note for p in tasks for note in self.notes[p]]
        done = self.client.gather(self.client.compute([*tasks.values(), *notes]))
        return done[: len(tasks)], done[len(tasks) :]


# ------------------------------------------------------------------------------------------
# land-release summary
# ------------------------------------------------------------------------------------------


def _summary_part(
    hazards: gpd.GeoDataFrame,
    releases: gpd.GeoDataFrame | None,
    options: Mapping[str, Any],
    districts: gpd.GeoDataFrame | None,
) -> tuple[pd.DataFrame, float]:
    """One partition's summary: hectares per group and level, and release outside."""
    districts = private(districts)  # tasks on one worker share its memory
    by = districts if districts is not None else options.get("by")
    kwargs = {**options, "by": by}
    if districts is not None:  # "outside every district" is said once, for the whole table
        recorded: list[warnings.WarningMessage] = []
        with _warnings_to_driver(recorded):
            table, _ = _stats._summary_and_pieces(hazards, releases, **kwargs)
    else:  # large partitions are measured from the boundaries, as on one machine
        table = _stats._summary_table(hazards, releases, **kwargs)
    rows = table.loc[table[THREAT_LEVEL] != TOTAL].reset_index(drop=True)
    return rows, float(table.attrs[RELEASED_OUTSIDE_HA])


def _global_frame(layers: _Layers, hazards: Any, releases: Any, *others: Any) -> pyproj.CRS:
    """The equal-area frame the single-machine function would choose for these layers."""
    import dask

    points = []
    for layer in (hazards, releases, *others):
        if layer is None:
            continue
        if is_dask_collection(layer):
            parts = [dask.delayed(_crs.lonlat_points)(p) for p in layer.to_delayed()]
            for lon, lat in layers.client.gather(layers.client.compute(parts)):
                points.append((lon, lat))
        else:
            points.append(_crs.lonlat_points(layers.eager.get(id(layer), layer)))
    lon = np.concatenate([p[0] for p in points]) if points else np.zeros(0)
    lat = np.concatenate([p[1] for p in points]) if points else np.zeros(0)
    # the centre :func:`minemap.crs.area_frame` takes from these points, without making
    # them a GeoDataFrame first (a third of the caller's own work at 10,000 hazards)
    keep = np.isfinite(lon) & np.isfinite(lat)
    lon, lat = lon[keep], lat[keep]
    if lon.size == 0:
        lon, lat = np.zeros(1), np.zeros(1)
    rad = np.radians(lon)
    lon_0 = float(np.degrees(np.arctan2(np.sin(rad).mean(), np.cos(rad).mean())))
    return _crs.laea_frame(lon_0, float(np.clip(lat.mean(), -90.0, 90.0)))


def _reissue(notes: list[list[tuple[str, type[Warning]]]]) -> None:
    for message, category in dict.fromkeys(m for part in notes for m in part):
        warnings.warn(message, category, stacklevel=3)


def land_release_summary(
    hazards: Any,
    releases: Any | None = None,
    *,
    client: Any | None = None,
    npartitions: int | None = None,
    **kwargs: Any,
) -> pd.DataFrame:
    """:func:`minemap.land_release_summary`, partitioned on a Dask cluster.

    Parameters
    ----------
    hazards : geopandas.GeoDataFrame or dask_geopandas.GeoDataFrame
        Hazard areas (validated as :func:`minemap.read_hazards` does; a Dask table is
        validated partition by partition).
    releases : geopandas.GeoDataFrame or dask_geopandas.GeoDataFrame, optional
        Land-release records.
    client : distributed.Client, optional
        The cluster to run on; by default a ``LocalCluster`` with one worker thread per
        core, made for the call and closed after it.
    npartitions : int, optional
        Partitions of whole touching groups (default two per worker thread).
    **kwargs
        The options of :func:`minemap.land_release_summary` (``by``, ``as_of``,
        ``district_column``, ``edges``). A district layer given as ``by`` is sent whole
        to every partition.

    Returns
    -------
    pandas.DataFrame
        The table :func:`minemap.land_release_summary` returns for the same data: same
        rows, columns, dtypes and ``attrs``, the same hectares to rounding.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from distributed import Client, LocalCluster
    >>> from shapely import box
    >>> hz = gpd.GeoDataFrame({"hazard_id": ["H1", "H2"], "threat_level": ["high", "low"]},
    ...     geometry=[box(5e5, 44e5, 501e3, 4401e3), box(5005e2, 44e5, 5015e2, 4401e3)],
    ...     crs=32638)
    >>> with LocalCluster(n_workers=1, processes=False, dashboard_address=":0") as cluster:
    ...     with Client(cluster) as client:
    ...         table = land_release_summary(hz, client=client)
    >>> table.set_index("threat_level")["hazard_ha"].round(2).to_dict()
    {'high': 100.08, 'medium': 0.0, 'low': 50.04, 'total': 150.12}
    """
    _require()
    import dask

    unknown = sorted(set(kwargs) - {"by", "as_of", "district_column", "edges"})
    if unknown:
        raise TypeError(f"land_release_summary() got unexpected keyword argument {unknown[0]!r}")
    options = dict(kwargs)
    by = options["by"] = _whole(options.get("by"))
    districts = None
    stamp = _stats._as_timestamp(options.get("as_of"))  # a bad date fails before any work
    if isinstance(by, gpd.GeoDataFrame):
        districts, options["district_column"] = _stats._district_layer(
            by, options.get("district_column")
        )
        options.pop("by")
        group_columns = [options["district_column"]]
    else:
        group_columns = _stats._by_columns(_columns_of(hazards), by)
    with _cluster(client) as active:
        n = _check_npartitions(
            npartitions if npartitions is not None else _default_npartitions(active)
        )
        layers = _Layers(active, hazards, releases, n)
        used = [
            p
            for p in range(n)
            if layers.counts[p] or (layers.has_releases and layers.release_counts[p])
        ]
        near = _districts_by_partition(layers, hazards, districts, used)
        tasks = {
            p: dask.delayed(_summary_part)(layers.hazards[p], layers.releases[p], options, near[p])
            for p in used
        }
        results, notes = layers.run(tasks)
        frame = _global_frame(layers, hazards, releases, districts)
    _reissue(notes)
    data = pd.concat([rows for rows, _ in results], ignore_index=True)
    data = data[[THREAT_LEVEL, *group_columns, HAZARD_HA, *METHOD_HA.values()]]
    table = _stats._group_table(data, group_columns)
    table.attrs.clear()
    table.attrs[RELEASED_OUTSIDE_HA] = float(sum(outside for _, outside in results))
    table.attrs["as_of"] = None if stamp is None else stamp.date().isoformat()
    table.attrs["area_frame"] = _crs.describe_frame(frame)
    table.attrs["edges"] = _edges_of(layers, hazards, options.get("edges"))
    if districts is not None:
        column = group_columns[0]
        rows = (table[column] == _stats.OUTSIDE_DISTRICTS) & (table[THREAT_LEVEL] == TOTAL)
        outside = float(table.loc[rows, HAZARD_HA].sum())
        if outside >= 0.005:
            warnings.warn(
                f"{outside:.2f} ha of hazard area lie outside every district polygon; they "
                f"are reported under {_stats.OUTSIDE_DISTRICTS!r}.",
                DataWarning,
                stacklevel=2,
            )
    if table.attrs[RELEASED_OUTSIDE_HA] > 0.005:
        warnings.warn(
            f"{table.attrs[RELEASED_OUTSIDE_HA]:.2f} ha of recorded release lie outside every "
            f"hazard area; they are not counted as released and are reported as "
            f"{RELEASED_OUTSIDE_HA}.",
            DataWarning,
            stacklevel=2,
        )
    return table


def _districts_by_partition(
    layers: _Layers, hazards: Any, districts: gpd.GeoDataFrame | None, used: Sequence[int]
) -> dict[int, gpd.GeoDataFrame | None]:
    """The districts each partition needs: those whose box meets one of its hazards' boxes
    (a district that meets no hazard adds no row). Each subset is sent to its partition."""
    if districts is None:
        return {p: None for p in used}
    meta = hazards._meta if is_dask_collection(hazards) else layers.eager[id(hazards)]
    crs = pyproj.CRS(meta.crs)
    out: dict[int, gpd.GeoDataFrame | None] = {}
    for p in used:
        boxes = layers.hazard_boxes[layers.hazard_parts == p]
        rows = np.empty(0, dtype=np.intp)
        if len(boxes):
            rows = _within_reach(districts, boxes, crs, _DISTRICT_MARGIN_M)
        out[p] = _subset(districts, rows)
    return out


#: True metres by which a partition's hazard boxes are grown to pick its districts: boxes
#: projected between CRSs are densified, not exact.
_DISTRICT_MARGIN_M = 1.0


def _columns_of(hazards: Any) -> gpd.GeoDataFrame:
    """An empty frame with the hazards' columns (for checking ``by`` before any work)."""
    if is_dask_collection(hazards):
        return hazards._meta
    return hazards


def _edges_of(layers: _Layers, hazards: Any, edges: str | None) -> str:
    if edges is not None:
        return _crs.check_edges(edges)
    if is_dask_collection(hazards):
        return str(hazards._meta.attrs.get("edges", "planar"))
    return str(layers.eager[id(hazards)].attrs.get("edges", "planar"))


# ------------------------------------------------------------------------------------------
# priority zones
# ------------------------------------------------------------------------------------------


def _zones_part(
    hazards: gpd.GeoDataFrame,
    releases: gpd.GeoDataFrame | None,
    layers: Mapping[str, gpd.GeoDataFrame],
    options: Mapping[str, Any],
) -> gpd.GeoDataFrame:
    """One partition's priority zones, from the features near its hazards."""
    layers = private(dict(layers))  # every task gets the same layers: each uses its own copy
    bounds = shapely.total_bounds(np.asarray(hazards.geometry.array, dtype=object))
    near = {
        category: layer.iloc[_near(layer, bounds, pyproj.CRS(hazards.crs), options)]
        for category, layer in layers.items()
    }
    for category, layer in near.items():
        layer.attrs.update(layers[category].attrs)
    return _priority.priority_zones(hazards, releases, **near, **options)


def _reach_m(layer: gpd.GeoDataFrame, category: str, options: Mapping[str, Any]) -> float:
    distances = _priority._distances(options.get("distances_m"))
    column = options.get("distance_column", _priority.BUFFER_COLUMN)
    each = _priority._feature_distances(layer, category, distances[category], column)
    return float(each.max()) if each.size else 0.0


#: Safety factor on the units per metre sampled over a partition's box (the scale varies
#: smoothly between samples; 1.5 covers it with room to spare). Features farther than their
#: distance from every hazard add nothing, so more features than needed changes nothing.
_REACH_SAFETY = 1.5


def _near(
    layer: gpd.GeoDataFrame, bounds: np.ndarray, crs: pyproj.CRS, options: Mapping[str, Any]
) -> np.ndarray:
    """Rows of ``layer`` that can come within their distance of the box ``bounds``.

    The box is expanded by the layer's largest distance, turned into units of ``crs`` with
    the largest units per metre found on a grid over the box (times a safety factor); a
    feature's box is taken in ``crs`` after densifying. Where the scale cannot be found
    (near a pole, an expansion past ±180°) every feature is kept.
    """
    everything = np.arange(len(layer))
    if len(layer) == 0 or not np.isfinite(bounds).all():
        return everything
    category = str(layer.attrs.get("minemap", ""))
    reach = _reach_m(layer, category, options)
    x0, y0, x1, y1 = bounds
    xs, ys = np.meshgrid(np.linspace(x0, x1, 5), np.linspace(y0, y1, 5))
    metric = _crs.local_metric(xs.ravel(), ys.ravel(), crs)
    with np.errstate(all="ignore"):
        per_m = np.linalg.norm(np.linalg.inv(metric), ord=2, axis=(1, 2))
    if not np.isfinite(per_m).all():
        return everything
    pad = reach * float(per_m.max()) * _REACH_SAFETY
    grown = np.array([x0 - pad, y0 - pad, x1 + pad, y1 + pad])
    if crs.is_geographic and (grown[0] < -180.0 or grown[2] > 180.0 or abs(grown[1]) > 89.0):
        return everything
    boxes = shapely.box(*shapely.bounds(np.asarray(layer.geometry.array, dtype=object)).T)
    boxes = _crs.project_dense(boxes, pyproj.CRS(layer.crs), crs)
    fb = shapely.bounds(boxes)
    hit = (fb[:, 0] <= grown[2]) & (fb[:, 2] >= grown[0])
    hit &= (fb[:, 1] <= grown[3]) & (fb[:, 3] >= grown[1])
    return np.flatnonzero(hit | ~np.isfinite(fb).all(axis=1))


def priority_zones(
    hazards: Any,
    releases: Any | None = None,
    *,
    client: Any | None = None,
    npartitions: int | None = None,
    **kwargs: Any,
) -> gpd.GeoDataFrame:
    """:func:`minemap.priority_zones`, partitioned on a Dask cluster.

    Parameters
    ----------
    hazards, releases : geopandas.GeoDataFrame or dask_geopandas.GeoDataFrame
        As for :func:`land_release_summary` in this module.
    client : distributed.Client, optional
        The cluster to run on; by default a ``LocalCluster`` made for the call.
    npartitions : int, optional
        Partitions of whole touching groups (default two per worker thread).
    **kwargs
        The options of :func:`minemap.priority_zones` (``roads``, ``infrastructure``,
        ``residential``, ``distances_m``, ``order``, ``distance_column``, ``as_of``).
        Feature layers are GeoDataFrames; each partition receives the features that can
        come within their distance of its hazards.

    Returns
    -------
    geopandas.GeoDataFrame
        The zones :func:`minemap.priority_zones` returns for the same data: same rows in
        the same order, same columns, CRS and ``attrs``, the same hectares to rounding.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from distributed import Client, LocalCluster
    >>> from shapely import LineString, box
    >>> hz = gpd.GeoDataFrame({"hazard_id": ["H1"], "threat_level": ["high"]},
    ...                       geometry=[box(0, 0, 1000, 1000)], crs=32638)
    >>> road = gpd.GeoDataFrame(geometry=[LineString([(-500, 500), (1500, 500)])], crs=32638)
    >>> with LocalCluster(n_workers=1, processes=False, dashboard_address=":0") as cluster:
    ...     with Client(cluster) as client:
    ...         zones = priority_zones(hz, roads=road, distances_m={"roads": 50}, client=client)
    >>> zones[["category", "hazard_id"]].values.tolist(), round(float(zones.zone_ha[0]), 1)
    ([['roads', 'H1']], 10.0)
    """
    _require()
    import dask

    known = {"roads", "infrastructure", "residential", "distances_m", "order"}
    known |= {"distance_column", "as_of"}
    unknown = sorted(set(kwargs) - known)
    if unknown:
        raise TypeError(f"priority_zones() got unexpected keyword argument {unknown[0]!r}")
    features = {c: _whole(kwargs.get(c)) for c in _priority.CATEGORIES}
    options = {k: v for k, v in kwargs.items() if k not in features}
    # options and feature layers are checked before any work, as the single machine does
    layers = {
        c: _priority._as_features(layer, c) for c, layer in features.items() if layer is not None
    }
    distances = _priority._distances(options.get("distances_m"))
    order = _priority._order(options.get("order", _priority.CATEGORIES), list(layers))
    column = options.get("distance_column", _priority.BUFFER_COLUMN)
    for category, layer in layers.items():
        _priority._feature_distances(layer, category, distances[category], column)
    stamp = _stats._as_timestamp(options.get("as_of"))
    with _cluster(client) as active:
        n = _check_npartitions(
            npartitions if npartitions is not None else _default_npartitions(active)
        )
        parts = _Layers(active, hazards, releases, n)
        shared = dask.delayed(layers) if layers else {}
        tasks = {
            p: dask.delayed(_zones_part)(parts.hazards[p], parts.releases[p], shared, options)
            for p in range(n)
            if parts.counts[p]
        }
        results, notes = parts.run(tasks)
        frame = _global_frame(parts, hazards, releases, *layers.values())
        crs = pyproj.CRS(
            hazards._meta.crs if is_dask_collection(hazards) else parts.eager[id(hazards)].crs
        )
    _reissue(notes)
    zones = _ordered(results, order, crs)
    zones.attrs.update(
        distances_m={k: distances[k] for k in order},
        order=list(order),
        area_frame=_crs.describe_frame(frame),
        minemap="zones",
    )
    zones.attrs["as_of"] = None if stamp is None else stamp.date().isoformat()
    return zones


def _ordered(
    results: Sequence[gpd.GeoDataFrame], order: Sequence[str], crs: pyproj.CRS
) -> gpd.GeoDataFrame:
    """Partition zones in the single machine's order: category, threat level, hazard id."""
    frames = [r for r in results if len(r)] or list(results[:1])
    table = pd.concat(frames, ignore_index=True)
    category = table[_priority.CATEGORY].map({c: i for i, c in enumerate(order)})
    level = table[THREAT_LEVEL].map({lvl: i for i, lvl in enumerate(THREAT_LEVELS)})
    keyed = table.assign(_c=category.to_numpy(), _t=level.to_numpy())
    try:
        keyed = keyed.sort_values(["_c", "_t", HAZARD_ID], kind="stable")
    except TypeError:  # ids of mixed types, sorted as the single machine sorts them
        keyed = keyed.assign(_id=keyed[HAZARD_ID].astype(str))
        keyed = keyed.sort_values(["_c", "_t", "_id"], kind="stable")
    out = gpd.GeoDataFrame(keyed[list(table.columns)].reset_index(drop=True), crs=crs)
    out.attrs.clear()
    return out


# ------------------------------------------------------------------------------------------
# the clearance ranking
# ------------------------------------------------------------------------------------------

#: Options of :func:`minemap.rank_hazards` this module accepts.
_RANK_OPTIONS = frozenset(
    {
        "roads",
        "infrastructure",
        "residential",
        "population",
        "weights",
        "distances_m",
        "order",
        "distance_column",
        "population_radius_m",
        "as_of",
        "incidents",
        "finds",
        "evidence_radius_m",
    }
)
#: First reach (true metres) of the nearest-feature search round a partition's hazards; it
#: grows by :data:`_NEAREST_GROWTH` until every remaining piece has found its nearest
#: feature well inside it (or every feature is searched).
_NEAREST_START_M = 2_000.0
_NEAREST_GROWTH = 4.0
#: A feature found at ``d`` is the nearest of all when ``d ≤ reach / _NEAREST_MARGIN``: the
#: search frame's scale stays within 4 % of true within its shared reach, so a feature left
#: out (farther than ``reach``) cannot be nearer in the frame than one found at half of it.
_NEAREST_MARGIN = 2.0
#: Past this reach every feature is searched (half the Earth's circumference, in metres).
_EVERYWHERE_M = 2.0e7


def _within_reach(
    layer: gpd.GeoDataFrame, boxes: np.ndarray, crs: pyproj.CRS, reach_m: float
) -> np.ndarray:
    """Rows of ``layer`` whose box comes within ``reach_m`` true metres of any of ``boxes``.

    ``boxes`` (n × 4, in ``crs``) are grown by ``reach_m`` in units of ``crs``, with the
    largest units per metre found on a grid over their total box (times
    :data:`_REACH_SAFETY`); a feature's box is taken in ``crs`` after densifying. Where the
    scale cannot be found, or the reach is past :data:`_EVERYWHERE_M` or ±180°, every row.
    """
    everything = np.arange(len(layer))
    boxes = boxes[np.isfinite(boxes).all(axis=1)]
    if len(layer) == 0 or len(boxes) == 0 or reach_m >= _EVERYWHERE_M:
        return everything
    x0, y0 = boxes[:, 0].min(), boxes[:, 1].min()
    x1, y1 = boxes[:, 2].max(), boxes[:, 3].max()
    xs, ys = np.meshgrid(np.linspace(x0, x1, 5), np.linspace(y0, y1, 5))
    metric = _crs.local_metric(xs.ravel(), ys.ravel(), crs)
    with np.errstate(all="ignore"):
        per_m = np.linalg.norm(np.linalg.inv(metric), ord=2, axis=(1, 2))
    if not np.isfinite(per_m).all():
        return everything
    pad = reach_m * float(per_m.max()) * _REACH_SAFETY
    grown = boxes + np.array([-pad, -pad, pad, pad])
    if crs.is_geographic and (
        grown[:, 0].min() < -180.0
        or grown[:, 2].max() > 180.0
        or np.abs(grown[:, [1, 3]]).max() > 89.0
    ):
        return everything
    feature_boxes = shapely.box(*shapely.bounds(np.asarray(layer.geometry.array, dtype=object)).T)
    fb = shapely.bounds(_crs.project_dense(feature_boxes, pyproj.CRS(layer.crs), crs))
    finite = np.isfinite(fb).all(axis=1)
    tree = shapely.STRtree(shapely.box(*grown.T))
    hit = np.zeros(len(layer), dtype=bool)
    rows = np.flatnonzero(finite)
    found, _ = tree.query(shapely.box(*fb[rows].T))
    hit[rows[found]] = True
    return np.flatnonzero(hit | ~finite)


def _subset(layer: gpd.GeoDataFrame, rows: np.ndarray) -> gpd.GeoDataFrame:
    out = layer.iloc[rows]
    out.attrs.update(layer.attrs)
    return out


@dataclasses.dataclass
class _RankStage:
    """One partition's remaining area and zone hectares (first stage of the ranking)."""

    hazards: gpd.GeoDataFrame
    remaining: Any  # priority._Remaining, in the frame of the whole data
    zones: pd.DataFrame  # category, threat_level, hazard_id, zone_ha (no geometry)
    boxes: np.ndarray  # boxes of the remaining pieces with area, in the hazards' CRS

    @property
    def live(self) -> np.ndarray:
        return np.asarray(self.remaining.area_m2 > 0)


def _rank_stage(
    hazards: gpd.GeoDataFrame,
    releases: gpd.GeoDataFrame | None,
    features: Mapping[str, gpd.GeoDataFrame],
    frame: pyproj.CRS,
    options: Mapping[str, Any],
) -> _RankStage:
    """Remaining area and zones of one partition, as :func:`minemap.priority._analyse`
    makes them, but in the equal-area frame of the whole data (so distances and buffers
    are those of the single machine)."""
    features = private(dict(features))  # every task gets the same layers: each uses its own
    order = options["order"]
    distances = options["distances"]
    column = options["distance_column"]
    crs = pyproj.CRS(hazards.crs)
    hboxes = shapely.bounds(np.asarray(hazards.geometry.array, dtype=object))
    near = {
        c: _subset(layer, _within_reach(layer, hboxes, crs, _reach_m(layer, c, options)))
        for c, layer in features.items()
    }
    remaining = _priority._remaining(hazards, releases, frame, options.get("as_of"))
    buffers = _priority._feature_buffers(near, distances, column, remaining.work_crs, frame)
    zone_geoms = _priority._category_zones(remaining, buffers, order)
    zones = _priority._zone_frame(remaining, zone_geoms, order, crs)
    live = remaining.area_m2 > 0
    return _RankStage(
        hazards,
        remaining,
        pd.DataFrame(zones.drop(columns=zones.geometry.name)),
        shapely.bounds(remaining.work[live]),
    )


def _stage_flags(stage: _RankStage, radii: Sequence[float]) -> tuple[bool, list[bool]]:
    """Whether the partition's remaining pieces lie in the shared frame's reach, and, per
    radius, whether they come within it of ±180° (what the single machine decides over
    all pieces, with ``all`` and ``any``)."""
    live = stage.live
    work = stage.remaining.work[live]
    crs = stage.remaining.work_crs
    shared = _ranking._in_shared_frame(work, crs, stage.remaining.frame)
    return shared, [_ranking._near_antimeridian(work, crs, r) for r in radii]


def _nearest_m(
    layer: gpd.GeoDataFrame, stage: _RankStage, frame: pyproj.CRS, targets: np.ndarray
) -> np.ndarray:
    """True metres from each live remaining piece to the nearest feature of ``layer``,
    searching features round the pieces in a growing reach (see :data:`_NEAREST_MARGIN`)."""
    out = np.full(len(targets), np.nan)
    geoms = np.asarray(layer.geometry.array, dtype=object)
    crs = pyproj.CRS(stage.remaining.work_crs)
    pending = np.arange(len(targets))
    reach = _NEAREST_START_M
    while pending.size:
        rows = _within_reach(layer, stage.boxes[pending], crs, reach)
        if rows.size == len(layer):
            index = _nearest.FeatureIndex.build(geoms, layer.crs, frame)
            out[pending] = index.distances_m(targets[pending])
            break
        if rows.size:
            index = _nearest.FeatureIndex.build(geoms[rows], layer.crs, frame)
            found = index.distances_m(targets[pending])
            done = found <= reach / _NEAREST_MARGIN
            out[pending[done]] = found[done]
            pending = pending[~done]
        reach *= _NEAREST_GROWTH
    return out


def _rank_buffers(
    stage: _RankStage, radius: float, in_frame: bool
) -> tuple[np.ndarray, pyproj.CRS]:
    """:func:`minemap.ranking._radius_buffers`, with the choice of CRS made for all
    partitions."""
    remaining, live = stage.remaining, stage.live
    if in_frame:
        targets, crs = remaining.geoms[live], remaining.frame
    else:
        targets, crs = remaining.work[live], remaining.work_crs
    buffers = _priority._true_buffers(
        targets, crs, np.full(targets.size, radius), crs, frame=remaining.frame
    )
    return buffers, pyproj.CRS(crs)


def _population_part(
    buffers: np.ndarray, crs: pyproj.CRS, population: Any
) -> tuple[np.ndarray, int, str | None, str | None]:
    """People in each buffer, and what the raster said: areas outside it, its warning's
    name, or the error raised when no area of this partition overlaps it."""
    from minemap.population import population_sum

    recorded: list[warnings.WarningMessage] = []
    try:
        with _warnings_to_driver(recorded):
            people = population_sum(gpd.GeoSeries(buffers, crs=crs), population)
    except CoordinateError as exc:
        return np.zeros(len(buffers)), len(buffers), None, str(exc)
    outside, name = 0, None
    for w in recorded:
        match = _OUTSIDE_RASTER.match(str(w.message))
        if match:
            name, outside = match.group(1), int(match.group(2))
    return people, outside, name, None


_OUTSIDE_RASTER = re.compile(r"^(.*): (\d+) of (\d+) areas lie wholly outside the population")
_NO_OVERLAP = re.compile(r"does not overlap any of the (\d+) areas")


def _rank_rows(
    stage: _RankStage,
    features: Mapping[str, gpd.GeoDataFrame],
    evidence: Any,
    population: Any,
    radius: float,
    choices: Mapping[str, bool],
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """One partition's raw criteria (no scores), rows as its remaining area's; and what
    its population count said."""
    features = private(dict(features))  # shared by every task, as the evidence layers are
    if evidence is not None:
        evidence = dataclasses.replace(
            evidence, incidents=private(evidence.incidents), finds=private(evidence.finds)
        )
    remaining, live = stage.remaining, stage.live
    table = remaining.attrs.copy()
    table[REMAINING_HA] = remaining.area_m2 / _crs.M2_PER_HA
    targets = remaining.geoms[live] if choices["distances"] and live.any() else None
    for category in _priority.CATEGORIES:
        values = np.full(len(table), np.nan)
        if category in features and targets is not None:
            values[live] = _nearest_m(features[category], stage, remaining.frame, targets)
        table[_ranking.DISTANCE_M[category]] = values
    said: dict[str, Any] = {"live": int(live.sum()), "ran": False}
    said.update(outside=0, name=None, error=None)
    people = np.full(len(table), np.nan)
    if population is not None and choices["any_live"] and live.any():
        buffers, crs = _rank_buffers(stage, radius, choices["population_in_frame"])
        counts, said["outside"], said["name"], said["error"] = _population_part(
            buffers, crs, population
        )
        people[live] = counts
        said["ran"] = True
    table[_ranking.POPULATION] = people
    for column, values in _evidence_counts(stage, evidence, choices).items():
        table[column] = values
    return table, said


def _evidence_counts(
    stage: _RankStage, evidence: Any, choices: Mapping[str, bool]
) -> dict[str, np.ndarray]:
    """:meth:`minemap.ranking._Evidence.counts` for one partition: the points near its
    pieces, in buffers made as for all partitions."""
    live = stage.live
    n = len(live)
    columns = (_ranking.INCIDENTS_NEARBY, _ranking.VICTIMS_NEARBY, _ranking.DEVICES_NEARBY)
    out = {c: np.full(n, np.nan) for c in columns}
    if evidence is None or not evidence.given:
        return out
    layers = {
        _ranking.INCIDENTS_NEARBY: (evidence.incidents, None),
        _ranking.VICTIMS_NEARBY: (evidence.incidents, (KILLED, INJURED)),
        _ranking.DEVICES_NEARBY: (evidence.finds, (DEVICE_COUNT,)),
    }
    buffers = crs = None
    if choices["any_live"] and live.any():
        buffers, crs = _rank_buffers(stage, evidence.radius, choices["evidence_in_frame"])
    for column, (layer, weight_columns) in layers.items():
        if layer is None:
            continue
        out[column][:] = 0.0
        if buffers is None or crs is None:
            continue
        rows = _within_reach(
            layer, stage.boxes, pyproj.CRS(stage.remaining.work_crs), evidence.radius
        )
        near = layer.iloc[rows]
        weights = (
            np.ones(len(near))
            if weight_columns is None
            else sum(near[c].to_numpy(dtype=float) for c in weight_columns)
        )
        out[column][live] = _ranking._points_within(buffers, crs, near, np.asarray(weights))
    return out


def _live_work(stage: _RankStage) -> np.ndarray:
    return np.asarray(stage.remaining.work[stage.live], dtype=object)


def _stage_summary(stage: _RankStage, radii: Sequence[float]) -> tuple[bool, list[bool], bool]:
    shared, near = _stage_flags(stage, radii)
    return shared, near, bool(stage.live.any())


def _stage_zones(stage: _RankStage) -> pd.DataFrame:
    return stage.zones


def _stage_geometry(stage: _RankStage) -> gpd.GeoDataFrame:
    hazards = stage.hazards
    return hazards[[HAZARD_ID, hazards.geometry.name]]


def rank_hazards(
    hazards: Any,
    releases: Any | None = None,
    *,
    client: Any | None = None,
    npartitions: int | None = None,
    **kwargs: Any,
) -> gpd.GeoDataFrame:
    """:func:`minemap.rank_hazards`, partitioned on a Dask cluster.

    Each partition computes its hazards' raw criteria (remaining and zone hectares, true
    distances to the nearest features, people and evidence nearby) in the equal-area frame
    of the whole data; the scores, normalised over all hazards, the order and the ranks
    are then computed once, on the whole table, as the single machine does.

    Parameters
    ----------
    hazards, releases : geopandas.GeoDataFrame or dask_geopandas.GeoDataFrame
        As for :func:`land_release_summary` in this module.
    client : distributed.Client, optional
        The cluster to run on; by default a ``LocalCluster`` made for the call.
    npartitions : int, optional
        Partitions of whole touching groups (default two per worker thread).
    **kwargs
        The options of :func:`minemap.rank_hazards` but ``zones`` (``roads``,
        ``infrastructure``, ``residential``, ``population``, ``weights``, ``distances_m``,
        ``order``, ``distance_column``, ``population_radius_m``, ``as_of``,
        ``incidents``, ``finds``, ``evidence_radius_m``). Feature and evidence layers are
        GeoDataFrames; each partition uses those within reach of its hazards (for the
        nearest feature, a reach that grows until the nearest is certainly inside it). A
        population raster is given as a path, read by each partition for its hazards.

    Returns
    -------
    geopandas.GeoDataFrame
        The ranking :func:`minemap.rank_hazards` returns for the same data: same rows in
        the same order, ranks, columns, dtypes and ``attrs``; figures and scores to
        rounding.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from distributed import Client, LocalCluster
    >>> from shapely import LineString, box
    >>> hz = gpd.GeoDataFrame({"hazard_id": ["H1", "H2"], "threat_level": ["low", "low"]},
    ...     geometry=[box(0, 0, 500, 500), box(0, 5000, 500, 5500)], crs=32638)
    >>> road = gpd.GeoDataFrame(geometry=[LineString([(-100, 250), (600, 250)])], crs=32638)
    >>> with LocalCluster(n_workers=1, processes=False, dashboard_address=":0") as cluster:
    ...     with Client(cluster) as client:
    ...         ranking = rank_hazards(hz, roads=road, client=client, npartitions=2)
    >>> ranking[["rank", "hazard_id"]].values.tolist()
    [[1, 'H1'], [2, 'H2']]
    """
    _require()
    import dask

    unknown = sorted(set(kwargs) - _RANK_OPTIONS)
    if unknown:
        raise TypeError(f"rank_hazards() got unexpected keyword argument {unknown[0]!r}")
    # options and layers are checked before any work, as the single machine does
    chosen = _ranking.resolve_weights(kwargs.get("weights"))
    radius = _priority._check_distance(
        kwargs.get("population_radius_m", 1_000.0), "population_radius_m"
    )
    as_of = kwargs.get("as_of")
    evidence = _ranking._Evidence.of(
        _whole(kwargs.get("incidents")),
        _whole(kwargs.get("finds")),
        kwargs.get("evidence_radius_m", _ranking.EVIDENCE_RADIUS_M),
        as_of,
    )
    features: dict[str, gpd.GeoDataFrame] = {}
    for category in _priority.CATEGORIES:
        layer = _priority._as_features(_whole(kwargs.get(category)), category)
        if layer is not None:
            features[category] = layer
    distances = _priority._distances(kwargs.get("distances_m"))
    order = _priority._order(kwargs.get("order", _priority.CATEGORIES), list(features))
    column = kwargs.get("distance_column", _priority.BUFFER_COLUMN)
    for category, layer in features.items():
        _priority._feature_distances(layer, category, distances[category], column)
    _stats._as_timestamp(as_of)
    options = {
        "order": order,
        "distances": distances,
        "distances_m": kwargs.get("distances_m"),
        "distance_column": column,
        "as_of": as_of,
    }
    population = kwargs.get("population")
    with _cluster(client) as active:
        n = _check_npartitions(
            npartitions if npartitions is not None else _default_npartitions(active)
        )
        parts = _Layers(active, hazards, releases, n)
        frame = _global_frame(parts, hazards, releases, *features.values())
        features_f, evidence_f = active.scatter([features, evidence], hash=False)
        used = [p for p in range(n) if parts.counts[p]]
        tasks = [
            dask.delayed(_rank_stage)(
                parts.hazards[p], parts.releases[p], features_f, frame, options
            )
            for p in used
        ]
        notes = [note for p in used for note in parts.notes[p]]
        computed = active.compute([*tasks, *notes])
        stages = computed[: len(tasks)]
        notes_done = active.gather(computed[len(tasks) :])
        radii = [radius, evidence.radius]
        flags = active.gather([active.submit(_stage_summary, s, radii, pure=False) for s in stages])
        here = all(f[0] for f in flags)
        in_shared = all(
            _ranking._in_shared_frame(
                np.asarray(layer.geometry.array, dtype=object), layer.crs, frame
            )
            for layer in features.values()
        )
        choices = {
            "distances": in_shared and here,
            "population_in_frame": here and not any(f[1][0] for f in flags),
            "evidence_in_frame": here and not any(f[1][1] for f in flags),
            "any_live": any(f[2] for f in flags),
        }
        rows = active.gather(
            [
                active.submit(
                    _rank_rows, s, features_f, evidence_f, population, radius, choices, pure=False
                )
                for s in stages
            ]
        )
        zones = active.gather([active.submit(_stage_zones, s, pure=False) for s in stages])
        regional = None
        if features and not choices["distances"]:
            regional = active.gather([active.submit(_live_work, s, pure=False) for s in stages])
        if is_dask_collection(hazards):
            shapes = active.gather([active.submit(_stage_geometry, s, pure=False) for s in stages])
            crs = pyproj.CRS(hazards._meta.crs)
        else:
            shapes = [parts.eager[id(hazards)]]
            crs = pyproj.CRS(shapes[0].crs)
    _reissue(notes_done)
    table = pd.concat([t for t, _ in rows], ignore_index=True)
    if regional is not None:
        _regional_distances(table, regional, crs, features)
    _check_population([s for _, s in rows])
    ranking = _ranked(table, zones, shapes, crs, chosen, order)
    ranking.attrs.update(
        population_radius_m=radius if population is not None else None,
        evidence_radius_m=evidence.radius if evidence.given else None,
    )
    return ranking


def _regional_distances(
    table: pd.DataFrame,
    work: Sequence[np.ndarray],
    work_crs: pyproj.CRS,
    features: Mapping[str, gpd.GeoDataFrame],
) -> None:
    """Nearest-feature metres for data spread round the globe, searched by region over all
    remaining pieces at once, as the single machine does (the pieces come to the caller:
    such data is rare, and the regions depend on every piece)."""
    pieces = np.concatenate([np.asarray(w, dtype=object) for w in work])
    live = table[REMAINING_HA].to_numpy() > 0
    for category, layer in features.items():
        geoms = np.asarray(layer.geometry.array, dtype=object)
        values = np.full(len(table), np.nan)
        values[live] = _nearest.regional_distances_m(pieces, work_crs, geoms, layer.crs)
        table[_ranking.DISTANCE_M[category]] = values


def _check_population(said: Sequence[Mapping[str, Any]]) -> None:
    """The population count's error or warning, said once for all partitions as the
    single machine says it."""
    counted = [s for s in said if s["ran"]]
    errors = [s for s in counted if s["error"]]
    total = sum(s["live"] for s in counted)
    if not counted:
        return
    if len(errors) == len(counted):
        message = _NO_OVERLAP.sub(f"does not overlap any of the {total} areas", errors[0]["error"])
        raise CoordinateError(message)
    outside = sum(s["live"] if s["error"] else s["outside"] for s in counted)
    if outside:
        names = [s["name"] for s in counted if s["name"]]
        name = names[0] if names else errors[0]["error"].split(": the population raster")[0]
        warnings.warn(
            f"{name}: {outside} of {total} areas lie wholly outside the population raster; "
            "they count 0 people.",
            DataWarning,
            stacklevel=3,
        )


def _ranked(
    table: pd.DataFrame,
    zones: Sequence[pd.DataFrame],
    shapes: Sequence[gpd.GeoDataFrame],
    crs: pyproj.CRS,
    chosen: Mapping[str, float],
    order: Sequence[str],
) -> gpd.GeoDataFrame:
    """Scores, order and ranks of the whole table, as :func:`minemap.ranking._ranking`
    makes them from the criteria."""
    categories = _priority.CATEGORIES
    zone_rows = [z for z in zones if len(z)] or list(zones[:1])
    zone_table = pd.concat(zone_rows, ignore_index=True)
    distance_columns = [_ranking.DISTANCE_M[c] for c in categories]
    evidence_columns = [
        _ranking.INCIDENTS_NEARBY,
        _ranking.VICTIMS_NEARBY,
        _ranking.DEVICES_NEARBY,
    ]
    head = table[[HAZARD_ID, THREAT_LEVEL, REMAINING_HA]]
    out = pd.concat(
        [
            head,
            _ranking._zone_ha(zone_table, table[HAZARD_ID], categories),
            table[distance_columns],
        ],
        axis=1,
    )
    nearest = np.full(len(out), np.nan)
    for column in distance_columns:
        nearest = np.fmin(nearest, out[column].to_numpy(dtype=float))
    out[_ranking.NEAREST_M] = nearest
    out[_ranking.POPULATION] = table[_ranking.POPULATION].to_numpy(dtype=float)
    for column in evidence_columns:
        out[column] = table[column].to_numpy(dtype=float)
    live = out[REMAINING_HA].to_numpy(dtype=float) > 0

    out = _ranking._scored_in_order(out, live, chosen)

    frames = [s for s in shapes if len(s)] or list(shapes[:1])
    lookup = pd.concat(frames) if len(frames) > 1 else frames[0]
    geometry = lookup.set_index(HAZARD_ID).geometry
    geometry = geometry[~geometry.index.duplicated()]
    result = gpd.GeoDataFrame(out, geometry=geometry.reindex(out[HAZARD_ID]).to_numpy(), crs=crs)
    result.attrs.clear()
    result.attrs.update(
        weights=dict(chosen),
        criteria=dict(_ranking._CRITERIA_TEXT),
        population_radius_m=None,
        evidence_radius_m=None,
        order=list(order),
        minemap="ranking",
    )
    return result
