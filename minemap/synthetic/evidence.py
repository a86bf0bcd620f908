"""Synthetic field evidence for a scenario: incidents, device finds, minefield records and
settlements.

Everything this module makes is **invented**, drawn from a seeded random generator around a
:class:`~minemap.synthetic.Scenario`. None of it describes a real incident, find, record or
village. The layers are canonical: they have the columns and dtypes that
``minemap.io.evidence``'s readers return, and ``attrs["minemap"]`` names the kind of layer.

How each layer is drawn (in the scenario's equal-area frame, in metres, then transformed to
the scenario's CRS with coordinates rounded like the scenario's):

* **finds** -- devices found while land was cleared or reduced. Most released land holds
  nothing: a released piece of a hazard holds devices at all with a chance that falls with
  its threat level (:data:`MINED_CHANCE`), and what it holds is concentrated in a few
  *patches*: rows of a minefield (AP and AT mines), the footprint of a submunition strike,
  a small cache (IEDs and UXO) or UXO scattered over the whole piece. Each find lies inside
  its release and the hazard holding it, and is dated on or before the release date, within
  the clearance period before it. About ``stray_share`` of the finds are stray items (mostly
  UXO, some submunitions and IEDs) found outside every hazard and release (``release_id``
  None).
* **incidents** -- explosions that hurt people: in hazards (farming, herding, collecting wood,
  demining), on roads (travel) and on settlements' outskirts (playing, collecting scrap).
  An incident on land that was later released happened before that release. Most incidents
  hurt one person; vehicle (AT mine) incidents hurt more; about one victim in five dies.
* **records** -- minefield records handed over by the forces that laid the mines: recorded
  perimeters (polygons) or locations (points), a recorded number of devices (missing on
  some) and device type. Their truth is known (:attr:`FieldEvidence.record_truth`):
  ``accurate`` records lie within tens of metres of a patch of mines that was found,
  ``displaced`` ones hundreds of metres off it, ``empty`` ones over released land where
  nothing was found, ``unverified`` ones over hazard land nobody has released yet.
* **settlements** -- villages: the scenario's residential areas (some as polygons, most as
  points) and more invented villages near roads, near hazards and elsewhere, with a
  population (unknown for some).

Examples
--------
>>> from minemap.synthetic import make_scenario
>>> scenario = make_scenario(seed=1, high_ha=100, medium_ha=200, low_ha=100)
>>> evidence = field_evidence(scenario, seed=1, n_finds=50, n_incidents=10)
>>> {name: len(layer) for name, layer in evidence.layers.items()}
{'incidents': 10, 'finds': 50, 'records': 20, 'settlements': 20}
>>> evidence.finds.attrs["minemap"]
'finds'
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from minemap._errors import OutputError
from minemap.settings import (
    DEVICE_COUNT,
    DEVICE_TYPE,
    FIND_DATE,
    FIND_ID,
    INCIDENT_DATE,
    INCIDENT_ID,
    INJURED,
    KILLED,
    POPULATION,
    RECORD_ID,
    RECORDED_DEVICES,
    RELEASE_DATE,
    RELEASE_ID,
    RELEASE_METHODS,
    SETTLEMENT_ID,
    SETTLEMENT_NAME,
    THREAT_LEVEL,
    THREAT_LEVELS,
    VICTIM_ACTIVITY,
)
from minemap.synthetic.scenario import (
    Scenario,
    _centre_of,
    _ids,
    _laea,
    _largest_polygon,
    _points_on_lines,
    _Projector,
    _settlement_names,
    _stage_geojson,
)

__all__ = [
    "EVIDENCE_LAYERS",
    "MINED_CHANCE",
    "RECORD_TRUTHS",
    "VICTIM_ACTIVITIES",
    "FieldEvidence",
    "field_evidence",
    "write_field_evidence",
]

#: Layer names, in the order they are written.
EVIDENCE_LAYERS: tuple[str, ...] = ("incidents", "finds", "records", "settlements")
#: What victims were doing; ``""`` where the record does not say.
VICTIM_ACTIVITIES: tuple[str, ...] = (
    "agriculture",
    "herding",
    "travel",
    "collecting wood",
    "collecting scrap",
    "demining",
    "playing",
    "",
)
#: What a synthetic minefield record really is (column ``truth`` of the record truth).
RECORD_TRUTHS: tuple[str, ...] = ("accurate", "displaced", "empty", "unverified")
#: Chance that a released piece of a hazard holds any device, by method (rows: cleared,
#: reduced) and threat level (columns: high, medium, low). Published experience is that few
#: suspected areas hold mines at all; cancelled land (non-technical survey) holds none here.
MINED_CHANCE: tuple[tuple[float, float, float], ...] = ((0.45, 0.10, 0.04), (0.12, 0.03, 0.01))

#: Column of the record truth: one of :data:`RECORD_TRUTHS`.
TRUTH = "truth"
#: Column of the record truth: how far the record was moved off the mines it describes.
OFFSET_M = "offset_m"

_M2_PER_HA = 10_000.0
#: Relative devices per hectare of a piece that holds devices, like :data:`MINED_CHANCE`.
_INTENSITY = np.array([[1.0, 0.35, 0.2], [0.3, 0.1, 0.05]])
#: Kinds of patch: minefield rows, submunition strike, cache, UXO scattered over the piece.
_MINEFIELD, _STRIKE, _CACHE, _SCATTER = 0, 1, 2, 3
#: Chance of each kind of patch, by threat level (high, medium, low).
_KIND_CHANCE = np.array(
    [[0.75, 0.10, 0.05, 0.10], [0.45, 0.20, 0.05, 0.30], [0.30, 0.25, 0.05, 0.40]]
)
#: Relative number of finds in a patch of each kind.
_KIND_WEIGHT = np.array([1.0, 0.6, 0.2, 0.4])
#: Device types found in each kind of patch but minefields (probabilities over DEVICE_TYPES).
_KIND_DEVICES = {
    _STRIKE: {"submunition": 0.9, "uxo": 0.1},
    _CACHE: {"ied": 0.6, "uxo": 0.4},
    _SCATTER: {"uxo": 0.85, "submunition": 0.1, "ied": 0.05},
}
#: Chance that a find row counts one device, by kind of patch; the others count two and
#: on average this many more.
_SINGLE_FIND = np.array([0.9, 0.6, 0.5, 0.92])
_MORE_DEVICES = np.array([0.5, 2.0, 1.5, 0.3])
#: Devices of finds outside every hazard and release.
_STRAY_DEVICES = {"uxo": 0.7, "submunition": 0.2, "ied": 0.1}
#: Finds outside every hazard and release keep at least this distance from them (m).
_STRAY_MARGIN_M = 25.0
#: Hectares a clearance task releases per day (range), for the clearance period of a find.
_CLEARANCE_HA_PER_DAY = (0.2, 1.5)
_CLEARANCE_DAYS = (3, 365)

#: Shares of the records of each truth (accurate, displaced, empty, unverified).
_RECORD_SHARES = np.array([0.40, 0.20, 0.15, 0.25])
#: Share of records that are a perimeter (polygon) rather than a location (point).
_PERIMETER_SHARE = 0.75
#: Share of records that give no device count, and that give no device type.
_NO_COUNT_SHARE = 0.15
_NO_TYPE_SHARE = 0.1
#: Accurate records are off by less than this; displaced ones by this range (m).
_ACCURATE_M = 50.0
_DISPLACED_M = (200.0, 800.0)

#: Where incidents happen: in hazards, on roads, on settlements' outskirts.
_INCIDENT_PLACES = np.array([0.65, 0.20, 0.15])
_INCIDENT_DEVICES = (
    {
        "ap_mine": 0.55,
        "at_mine": 0.1,
        "uxo": 0.15,
        "submunition": 0.08,
        "ied": 0.02,
        "unknown": 0.1,
    },
    {"at_mine": 0.5, "ap_mine": 0.3, "uxo": 0.1, "ied": 0.1},
    {"uxo": 0.5, "submunition": 0.3, "ap_mine": 0.2},
)
_INCIDENT_ACTIVITIES = (
    {"agriculture": 0.35, "herding": 0.25, "collecting wood": 0.15, "demining": 0.1, "": 0.15},
    {"travel": 0.8, "": 0.2},
    {"playing": 0.35, "collecting scrap": 0.35, "agriculture": 0.15, "": 0.15},
)
#: Share of incidents that hurt nobody (a vehicle or animal hit a device).
_NO_VICTIM_SHARE = 0.04

#: Share of the scenario's residential areas kept as polygons (the others become points).
_POLYGON_SETTLEMENT_SHARE = 0.4
#: Share of settlements whose population is unknown.
_NO_POPULATION_SHARE = 0.1
#: Where invented villages lie: near roads, near hazards, anywhere in the region.
_VILLAGE_PLACES = np.array([0.60, 0.25, 0.15])

#: Rounds of drawing a point again before falling back to a point surely inside.
_ROUNDS = 40
#: Threat-level weights of hazards for incidents and unverified records (high, medium, low).
_LEVEL_WEIGHT = np.array([3.0, 2.0, 1.0])


@dataclass(frozen=True, eq=False)
class FieldEvidence:
    """Synthetic field evidence: four canonical layers in the scenario's CRS.

    Attributes
    ----------
    incidents : geopandas.GeoDataFrame
        ``incident_id`` (``"INC-000001"``, in date order), ``incident_date``, ``killed``,
        ``injured``, ``device_type``, ``victim_activity`` and Point geometry.
    finds : geopandas.GeoDataFrame
        ``find_id`` (``"FD-000001"``, in date order), ``find_date``, ``device_type``,
        ``device_count``, ``release_id`` (None outside every release) and Point geometry.
    records : geopandas.GeoDataFrame
        ``record_id`` (``"MR-000001"``), ``recorded_devices`` (nullable Int64),
        ``device_type`` and Polygon or Point geometry.
    settlements : geopandas.GeoDataFrame
        ``settlement_id`` (``"ST-000001"``; the scenario's residential areas keep theirs),
        ``name``, ``population`` (float, NaN when unknown) and Point or Polygon geometry.
    record_truth : pandas.DataFrame
        What each record really is, for tests (a real data set has no such table):
        ``record_id``, ``truth`` (one of :data:`RECORD_TRUTHS`) and ``offset_m``, how far an
        accurate or displaced record was moved off the mines it describes (NaN for the
        others).

    Examples
    --------
    >>> from minemap.synthetic import make_scenario
    >>> evidence = field_evidence(make_scenario(seed=2, high_ha=50, medium_ha=50, low_ha=50))
    >>> list(evidence.layers)
    ['incidents', 'finds', 'records', 'settlements']
    >>> evidence.records.dtypes["recorded_devices"]
    Int64Dtype()
    """

    incidents: gpd.GeoDataFrame
    finds: gpd.GeoDataFrame
    records: gpd.GeoDataFrame
    settlements: gpd.GeoDataFrame
    record_truth: pd.DataFrame

    @property
    def layers(self) -> dict[str, gpd.GeoDataFrame]:
        """The four layers by name, in the order of :data:`EVIDENCE_LAYERS`."""
        return {name: getattr(self, name) for name in EVIDENCE_LAYERS}


# --------------------------------------------------------------------------------------------
# the scenario in its equal-area frame
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Ground:
    """The scenario in an equal-area frame (metres) and in its own CRS."""

    crs: pyproj.CRS
    frame: pyproj.CRS
    hazards: np.ndarray  # frame
    hazards_out: np.ndarray  # scenario CRS
    level: np.ndarray  # 0 high, 1 medium, 2 low
    releases: np.ndarray  # frame
    releases_out: np.ndarray
    method: np.ndarray  # 0 cleared, 1 reduced, 2 cancelled
    release_date: np.ndarray  # datetime64[D]
    release_id: np.ndarray
    host: np.ndarray  # hazard holding each release's representative point, -1: none
    roads: np.ndarray  # frame
    road_class: np.ndarray
    residential: np.ndarray  # frame
    region: shapely.Geometry  # frame: the districts
    first: np.datetime64
    last: np.datetime64
    forward: pyproj.Transformer  # frame to the scenario's CRS
    back: pyproj.Transformer  # the scenario's CRS to the frame

    def to_crs(self, xy: np.ndarray) -> np.ndarray:
        """Frame coordinates to the scenario's CRS, rounded like the scenario's."""
        x, y = self.forward.transform(xy[:, 0], xy[:, 1])
        return np.round(np.column_stack([x, y]), 6 if self.crs.is_geographic else 2)

    def to_frame(self, xy: np.ndarray) -> np.ndarray:
        """Coordinates in the scenario's CRS to the frame."""
        x, y = self.back.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])


def _codes(values: pd.Series, allowed: tuple[str, ...], what: str) -> np.ndarray:
    codes = pd.Categorical(values, categories=allowed).codes
    if (codes < 0).any():
        bad = sorted(set(values[codes < 0].astype(str)))
        raise ValueError(f"the scenario's {what} {bad} are not among {list(allowed)}")
    return np.asarray(codes, dtype=np.int64)


def _ground(scenario: Scenario, period: tuple[str, str] | None) -> _Ground:
    if scenario.hazards.crs is None:
        raise ValueError("the scenario's layers have no CRS; make it with make_scenario(crs=...)")
    crs = pyproj.CRS(scenario.hazards.crs)
    frame = _laea(_centre_of(scenario.districts))
    to_frame = _Projector(crs, frame, rounded=False)
    hazards_out = np.asarray(scenario.hazards.geometry.array, dtype=object)
    releases_out = np.asarray(scenario.releases.geometry.array, dtype=object)
    hazards, releases = to_frame(hazards_out), to_frame(releases_out)
    level = _codes(scenario.hazards[THREAT_LEVEL], THREAT_LEVELS, "threat levels")
    dates = scenario.releases[RELEASE_DATE].to_numpy().astype("datetime64[D]")
    first, last = _period(period, dates)
    host = np.full(len(releases), -1)
    if len(releases):
        inner, hazard = shapely.STRtree(hazards).query(
            shapely.point_on_surface(releases), predicate="within"
        )
        best = np.full(len(releases), len(THREAT_LEVELS))
        np.minimum.at(best, inner, level[hazard])
        hit = level[hazard] == best[inner]  # the highest level wins, the first hazard of it
        host[inner[hit][::-1]] = hazard[hit][::-1]
    return _Ground(
        crs=crs,
        frame=frame,
        hazards=hazards,
        hazards_out=hazards_out,
        level=level,
        releases=releases,
        releases_out=releases_out,
        method=_codes(scenario.releases["method"], RELEASE_METHODS, "release methods"),
        release_date=dates,
        release_id=scenario.releases[RELEASE_ID].to_numpy(dtype=object),
        host=host,
        roads=to_frame(np.asarray(scenario.roads.geometry.array, dtype=object)),
        road_class=scenario.roads["road_class"].to_numpy(dtype=object),
        residential=to_frame(np.asarray(scenario.residential.geometry.array, dtype=object)),
        region=shapely.union_all(to_frame(np.asarray(scenario.districts.geometry.array))),
        first=first,
        last=last,
        forward=pyproj.Transformer.from_crs(frame, crs, always_xy=True),
        back=pyproj.Transformer.from_crs(crs, frame, always_xy=True),
    )


def _period(
    period: tuple[str, str] | None, dates: np.ndarray
) -> tuple[np.datetime64, np.datetime64]:
    """First and last day of the period: by default 1 January of the first release's year to
    the last release (2021-2025 for a scenario without releases)."""
    if period is None:
        if len(dates) == 0:
            return np.datetime64("2021-01-01", "D"), np.datetime64("2025-12-31", "D")
        return dates.min().astype("datetime64[Y]").astype("datetime64[D]"), dates.max()
    try:
        first, last = (np.datetime64(str(day), "D") for day in period)
    except (TypeError, ValueError):
        raise ValueError(
            f"period must be two ISO dates (first, last), e.g. ('2021-01-01', '2025-12-31'); "
            f"got {period!r}"
        ) from None
    if last < first:
        raise ValueError(f"period ends ({last}) before it starts ({first})")
    return first, last


# --------------------------------------------------------------------------------------------
# drawing points
# --------------------------------------------------------------------------------------------


def _in_boxes(rng: np.random.Generator, polygons: np.ndarray) -> np.ndarray:
    """One uniformly random point in the bounding box of each polygon."""
    bounds = shapely.bounds(polygons).reshape(-1, 4)
    return rng.uniform(bounds[:, :2], bounds[:, 2:], (len(polygons), 2))


def _uniform_in(
    rng: np.random.Generator, polygons: np.ndarray, also: np.ndarray | None = None
) -> np.ndarray:
    """A uniformly random point inside each polygon (and inside ``also``'s polygon), by
    rejection in its bounding box; a point on its surface where that keeps failing."""
    out = np.empty((len(polygons), 2))
    todo = np.arange(len(polygons))
    for _ in range(_ROUNDS):
        if todo.size == 0:
            return out
        xy = _in_boxes(rng, polygons[todo])
        ok = shapely.contains_xy(polygons[todo], xy[:, 0], xy[:, 1])
        if also is not None:
            ok &= shapely.contains_xy(also[todo], xy[:, 0], xy[:, 1])
        out[todo[ok]] = xy[ok]
        todo = todo[~ok]
    if todo.size:
        inner = polygons[todo] if also is None else shapely.intersection(polygons[todo], also[todo])
        out[todo] = shapely.get_coordinates(shapely.point_on_surface(inner))
    return out


def _placed(
    ground: _Ground,
    n: int,
    draw: Callable[[np.ndarray], np.ndarray],
    accept: Callable[[np.ndarray, np.ndarray], np.ndarray],
    fallback: Callable[[np.ndarray], np.ndarray],
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points drawn in the frame by ``draw(idx)`` until ``accept(idx, xy)`` takes them
    in the scenario's CRS; ``fallback(idx)`` gives the CRS coordinates of the rest.

    Returns the frame and the CRS coordinates.
    """
    frame_xy, out_xy = np.empty((n, 2)), np.empty((n, 2))
    todo = np.arange(n)
    for _ in range(_ROUNDS):
        if todo.size == 0:
            break
        xy = draw(todo)
        out = ground.to_crs(xy)
        ok = accept(todo, out)
        frame_xy[todo[ok]], out_xy[todo[ok]] = xy[ok], out[ok]
        todo = todo[~ok]
    if todo.size:
        out_xy[todo] = fallback(todo)
        frame_xy[todo] = ground.to_frame(out_xy[todo])
    return frame_xy, out_xy


def _pick(rng: np.random.Generator, table: dict[str, float], n: int) -> np.ndarray:
    """``n`` values drawn from ``{value: probability}``."""
    values = np.array(list(table), dtype=object)
    p = np.array(list(table.values()))
    return values[rng.choice(len(values), n, p=p / p.sum())]


def _days(
    rng: np.random.Generator, low: np.ndarray, high: np.ndarray, *, early: bool = False
) -> np.ndarray:
    """A day in ``[low, high]`` for each pair; ``early`` favours the first days (density
    falling linearly to the last)."""
    span = (high - low).astype(np.int64) + 1
    u = rng.random(len(span))
    t = 1.0 - np.sqrt(u) if early else u
    return low + np.minimum(np.floor(t * span), span - 1).astype("timedelta64[D]")


def _counts(n: int, shares: np.ndarray) -> np.ndarray:
    """Split ``n`` by ``shares`` (largest remainders), each share with weight > 0 getting at
    least one when ``n`` allows."""
    shares = np.asarray(shares, dtype=float) / shares.sum()
    active = shares > 0
    counts = np.zeros(len(shares), dtype=np.int64)
    if n >= active.sum():
        counts[active] = 1
    rest = n - counts.sum()
    exact = shares * rest
    counts += np.floor(exact).astype(np.int64)
    order = np.argsort(-(exact - np.floor(exact)), kind="stable")
    counts[order[: n - counts.sum()]] += 1
    return counts


# --------------------------------------------------------------------------------------------
# finds
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Patches:
    """Where the devices of released land lie (frame): one patch per row."""

    release: np.ndarray  # release holding the patch
    kind: np.ndarray  # _MINEFIELD, _STRIKE, _CACHE or _SCATTER
    centre: np.ndarray  # (p, 2)
    angle: np.ndarray
    length: np.ndarray  # minefield: row length; strike, cache: spread along (m)
    width: np.ndarray  # minefield: row spacing; strike, cache: spread across (m)
    rows: np.ndarray  # minefield rows
    at_share: np.ndarray  # share of AT mines in a minefield

    def draw(self, rng: np.random.Generator, which: np.ndarray, ground: _Ground) -> np.ndarray:
        """A device position in each patch ``which`` (frame)."""
        kind = self.kind[which]
        along, across = rng.normal(0.0, 1.0, (2, len(which))) * np.array(
            [self.length[which], self.width[which]]
        )
        rows = kind == _MINEFIELD
        mine = which[rows]
        row = rng.integers(0, self.rows[mine])
        along[rows] = rng.uniform(-0.5, 0.5, len(mine)) * self.length[mine]
        across[rows] = (row - (self.rows[mine] - 1) / 2) * self.width[mine] + rng.normal(
            0.0, 0.7, len(mine)
        )
        cos, sin = np.cos(self.angle[which]), np.sin(self.angle[which])
        xy = self.centre[which] + np.column_stack(
            [cos * along - sin * across, sin * along + cos * across]
        )
        spread = kind == _SCATTER
        xy[spread] = _in_boxes(rng, ground.releases[self.release[which[spread]]])
        return xy


def _patches(rng: np.random.Generator, ground: _Ground, pieces: np.ndarray) -> _Patches:
    """Patches of devices in the mined pieces (releases) ``pieces``."""
    area_ha = shapely.area(ground.releases[pieces]) / _M2_PER_HA
    per_piece = 1 + rng.poisson(np.minimum(area_ha, 500.0) / 40.0)
    release = np.repeat(pieces, per_piece)
    n = len(release)
    level = ground.level[ground.host[release]]
    kind = (rng.random(n)[:, None] > np.cumsum(_KIND_CHANCE[level], axis=1)).sum(axis=1)
    kind = np.minimum(kind, _SCATTER)
    centre = _uniform_in(rng, ground.releases[release], ground.hazards[ground.host[release]])
    minefield = kind == _MINEFIELD
    length = np.where(
        minefield,
        np.clip(rng.lognormal(np.log(100.0), 0.5, n), 25.0, 400.0),
        np.where(kind == _STRIKE, rng.uniform(40.0, 120.0, n), rng.uniform(3.0, 15.0, n)),
    )
    width = np.where(
        minefield,
        rng.uniform(4.0, 20.0, n),
        length * rng.uniform(0.3, 0.6, n),
    )
    at_share = np.choose(rng.choice(3, n, p=[0.7, 0.15, 0.15]), [0.0, 1.0, 0.3])
    return _Patches(
        release=release,
        kind=kind,
        centre=centre,
        angle=rng.uniform(0.0, np.pi, n),
        length=length,
        width=width,
        rows=rng.integers(1, 5, n),
        at_share=at_share,
    )


@dataclass(frozen=True)
class _Finds:
    frame_xy: np.ndarray
    out_xy: np.ndarray
    release: np.ndarray  # -1: outside every release
    device_type: np.ndarray
    device_count: np.ndarray
    date: np.ndarray
    patch: np.ndarray  # -1: a stray find
    patches: _Patches


def _make_finds(rng: np.random.Generator, ground: _Ground, n: int, stray_share: float) -> _Finds:
    candidates = np.flatnonzero((ground.method < 2) & (ground.host >= 0))
    n_stray = n if candidates.size == 0 else int(round(stray_share * n))
    chance = np.asarray(MINED_CHANCE)[
        ground.method[candidates], ground.level[ground.host[candidates]]
    ]
    mined = rng.random(len(candidates)) < chance
    if n > n_stray and not mined.any():
        mined[np.argmax(chance * shapely.area(ground.releases[candidates]))] = True
    patches = _patches(rng, ground, candidates[mined])
    level = ground.level[ground.host[patches.release]]
    weight = (
        _INTENSITY[ground.method[patches.release], level]
        * _KIND_WEIGHT[patches.kind]
        * rng.lognormal(0.0, 0.7, len(patches.release))
    )
    per_patch = (
        rng.multinomial(n - n_stray, weight / weight.sum())
        if len(weight)
        else np.zeros(0, dtype=np.int64)
    )
    patch = np.repeat(np.arange(len(per_patch)), per_patch)
    release = patches.release[patch]
    host = ground.host[release]

    def inside(idx: np.ndarray, xy: np.ndarray) -> np.ndarray:
        x, y = xy[:, 0], xy[:, 1]
        return shapely.contains_xy(ground.releases_out[release[idx]], x, y) & shapely.contains_xy(
            ground.hazards_out[host[idx]], x, y
        )

    frame_xy, out_xy = _placed(
        ground,
        len(patch),
        lambda idx: patches.draw(rng, patch[idx], ground),
        inside,
        lambda idx: shapely.get_coordinates(
            shapely.point_on_surface(
                shapely.intersection(
                    ground.releases_out[release[idx]], ground.hazards_out[host[idx]]
                )
            )
        ),
    )
    kind = patches.kind[patch]
    device = np.empty(len(patch), dtype=object)
    mines = kind == _MINEFIELD
    device[mines] = np.where(
        rng.random(mines.sum()) < patches.at_share[patch[mines]], "at_mine", "ap_mine"
    )
    for k, table in _KIND_DEVICES.items():
        device[kind == k] = _pick(rng, table, int((kind == k).sum()))
    count = np.where(
        rng.random(len(patch)) < _SINGLE_FIND[kind], 1, 2 + rng.poisson(_MORE_DEVICES[kind])
    ).astype(np.int64)
    area_ha = shapely.area(ground.releases[release]) / _M2_PER_HA
    rate = rng.uniform(*_CLEARANCE_HA_PER_DAY, len(patch))
    days = np.clip(np.round(area_ha / rate), *_CLEARANCE_DAYS).astype("timedelta64[D]")
    end = ground.release_date[release]
    date = _days(rng, np.minimum(np.maximum(end - days, ground.first), end), end)

    stray_frame, stray_out = _stray_points(rng, ground, n_stray)
    date = np.concatenate(
        [date, _days(rng, np.full(n_stray, ground.first), np.full(n_stray, ground.last))]
    )
    order = np.argsort(date, kind="stable")
    return _Finds(
        frame_xy=np.concatenate([frame_xy, stray_frame])[order],
        out_xy=np.concatenate([out_xy, stray_out])[order],
        release=np.concatenate([release, np.full(n_stray, -1)])[order],
        device_type=np.concatenate([device, _pick(rng, _STRAY_DEVICES, n_stray)])[order],
        device_count=np.concatenate([count, np.ones(n_stray, dtype=np.int64)])[order],
        date=date[order],
        patch=np.concatenate([patch, np.full(n_stray, -1)])[order],
        patches=patches,
    )


def _stray_points(
    rng: np.random.Generator, ground: _Ground, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points of the region at least ``_STRAY_MARGIN_M`` from every hazard and release,
    half of them near roads (battle debris), the rest anywhere."""
    if n == 0:
        return np.empty((0, 2)), np.empty((0, 2))
    taken = shapely.STRtree(np.concatenate([ground.hazards, ground.releases]))
    region = ground.region
    shapely.prepare(region)
    near_road = rng.random(n) < 0.5
    main = ground.roads[ground.road_class != "track"]

    def draw(idx: np.ndarray) -> np.ndarray:
        xmin, ymin, xmax, ymax = region.bounds
        xy = rng.uniform((xmin, ymin), (xmax, ymax), (len(idx), 2))
        road = near_road[idx]
        if road.any() and len(main):
            points, heading = _points_on_lines(rng, main, int(road.sum()))
            side = rng.normal(0.0, 150.0, len(points))
            xy[road] = points + side[:, None] * np.column_stack([-np.sin(heading), np.cos(heading)])
        return xy

    frame_xy = np.empty((n, 2))
    todo = np.arange(n)
    for _ in range(4 * _ROUNDS):
        if todo.size == 0:
            break
        xy = draw(todo)
        points = shapely.points(xy)
        near, _ = taken.query(points, predicate="dwithin", distance=_STRAY_MARGIN_M)
        ok = shapely.contains_xy(region, xy[:, 0], xy[:, 1])
        ok[near] = False
        frame_xy[todo[ok]] = xy[ok]
        todo = todo[~ok]
    if todo.size:
        raise ValueError(
            "the scenario has no land outside its hazards and releases for stray finds; "
            "pass stray_share=0"
        )
    return frame_xy, ground.to_crs(frame_xy)


# --------------------------------------------------------------------------------------------
# records
# --------------------------------------------------------------------------------------------


def _rectangles(
    rng: np.random.Generator,
    centre: np.ndarray,
    angle: np.ndarray,
    length: np.ndarray,
    width: np.ndarray,
) -> np.ndarray:
    """Rotated rectangles with corners moved a little, as a hand-drawn perimeter is."""
    corners = np.array([[-0.5, -0.5], [0.5, -0.5], [0.5, 0.5], [-0.5, 0.5]])
    along = corners[None, :, 0] * length[:, None] + rng.normal(0.0, 2.0, (len(centre), 4))
    across = corners[None, :, 1] * width[:, None] + rng.normal(0.0, 2.0, (len(centre), 4))
    cos, sin = np.cos(angle)[:, None], np.sin(angle)[:, None]
    x = centre[:, None, 0] + cos * along - sin * across
    y = centre[:, None, 1] + sin * along + cos * across
    return shapely.polygons(np.stack([x, y], axis=-1))


def _record_sizes(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Length and width of recorded perimeters that describe no found minefield (m)."""
    length = np.clip(rng.lognormal(np.log(120.0), 0.5, n), 30.0, 450.0)
    return length, rng.integers(0, 4, n) * rng.uniform(4.0, 20.0, n) + rng.uniform(10.0, 40.0, n)


def _remaining_points(rng: np.random.Generator, ground: _Ground, n: int) -> np.ndarray:
    """Up to ``n`` points of hazard land that no release covers (frame); fewer (down to none)
    only where such land is very hard to find."""
    weight = shapely.area(ground.hazards) * _LEVEL_WEIGHT[ground.level]
    releases = shapely.STRtree(ground.releases)
    found: list[np.ndarray] = []
    have = 0
    for _ in range(_ROUNDS):
        if have >= n:
            break
        hazard = rng.choice(len(weight), n - have, p=weight / weight.sum())
        xy = _in_boxes(rng, ground.hazards[hazard])
        ok = shapely.contains_xy(ground.hazards[hazard], xy[:, 0], xy[:, 1])
        covered, _ = releases.query(shapely.points(xy), predicate="intersects")
        ok[covered] = False
        found.append(xy[ok])
        have += int(ok.sum())
    return np.concatenate(found) if found else np.empty((0, 2))


@dataclass(frozen=True)
class _Records:
    geoms: np.ndarray  # frame
    recorded: np.ndarray  # float, NaN: not recorded
    device_type: np.ndarray
    truth: np.ndarray
    offset_m: np.ndarray


@dataclass
class _Draft:
    """Records being drawn (frame): where, how big and what they say."""

    truth: np.ndarray  # index into RECORD_TRUTHS
    centre: np.ndarray  # (n, 2)
    angle: np.ndarray
    length: np.ndarray
    width: np.ndarray
    point: np.ndarray  # (n, 2): where a record that is a point lies
    offset: np.ndarray
    recorded: np.ndarray
    device: np.ndarray


def _describe_found(
    rng: np.random.Generator, draft: _Draft, finds: _Finds, sources: np.ndarray
) -> None:
    """Accurate and displaced records of minefields whose devices were found.

    A perimeter is drawn around the minefield's rows, a point on one of its finds; an
    accurate record is then moved by less than ``_ACCURATE_M``, a displaced one by
    ``_DISPLACED_M`` beyond its own half-diagonal, so that it misses the mines it describes.
    """
    patches = finds.patches
    mine = finds.patch >= 0
    devices = np.bincount(
        finds.patch[mine], weights=finds.device_count[mine], minlength=len(patches.release)
    )
    which = np.flatnonzero(draft.truth <= 1)
    patch = sources[rng.integers(0, max(sources.size, 1), len(which))]
    margin = rng.uniform(5.0, 20.0, len(which))
    draft.length[which] = patches.length[patch] * rng.uniform(1.0, 1.3, len(which)) + 2 * margin
    draft.width[which] = (patches.rows[patch] - 1) * patches.width[patch] + 2 * margin
    draft.angle[which] = patches.angle[patch] + rng.normal(0.0, 0.05, len(which))
    displaced = draft.truth[which] == 1
    half_diagonal = np.hypot(draft.length[which], draft.width[which]) / 2
    offset = np.where(
        displaced,
        half_diagonal + rng.uniform(*_DISPLACED_M, len(which)),
        np.minimum(np.abs(rng.normal(0.0, 15.0, len(which))), _ACCURATE_M - 1.0),
    )
    bearing = rng.uniform(0.0, 2 * np.pi, len(which))
    shift = offset[:, None] * np.column_stack([np.cos(bearing), np.sin(bearing)])
    member = np.flatnonzero(mine)
    member = member[np.argsort(finds.patch[member], kind="stable")]
    first = np.searchsorted(finds.patch[member], patch)
    size = np.bincount(finds.patch[member], minlength=len(patches.release))[patch]
    found_at = finds.frame_xy[member[first + rng.integers(0, np.maximum(size, 1))]]
    draft.centre[which] = patches.centre[patch] + shift
    draft.point[which] = found_at + shift
    draft.offset[which] = offset
    draft.recorded[which] = np.maximum(
        1.0, np.round(devices[patch] * rng.lognormal(0.1, 0.35, len(which)))
    )
    draft.device[which] = np.where(patches.at_share[patch] > 0.5, "at_mine", "ap_mine")


def _clip(
    geoms: np.ndarray,
    keep: np.ndarray,
    points: np.ndarray,
    to: np.ndarray | None,
    away: np.ndarray,
) -> None:
    """Clip perimeters ``keep`` to polygons ``to`` (one each), or away from every polygon
    of ``away``; a perimeter left empty becomes its record's point."""
    if keep.size == 0:
        return
    if to is not None:
        clipped = _largest_polygon(shapely.intersection(geoms[keep], to))
    else:
        clipped = geoms[keep].copy()
        record, other = shapely.STRtree(away).query(geoms[keep], predicate="intersects")
        for i in np.unique(record):
            taken = shapely.union_all(away[other[record == i]])
            clipped[i] = _largest_polygon(np.array([shapely.difference(clipped[i], taken)]))[0]
    lost = shapely.is_missing(clipped)
    clipped[lost] = shapely.points(points[keep][lost])
    geoms[keep] = clipped


def _make_records(rng: np.random.Generator, ground: _Ground, finds: _Finds, n: int) -> _Records:
    patches = finds.patches
    sources = np.unique(finds.patch[finds.patch >= 0])
    sources = sources[patches.kind[sources] == _MINEFIELD]
    candidates = np.flatnonzero((ground.method < 2) & (ground.host >= 0))
    if len(finds.frame_xy) and candidates.size:  # released land where nothing was found
        hit, _ = shapely.STRtree(shapely.points(finds.frame_xy)).query(
            ground.releases[candidates], predicate="intersects"
        )
        candidates = np.setdiff1d(candidates, candidates[hit])
    remaining = _remaining_points(rng, ground, int(_counts(n, _RECORD_SHARES)[3]))
    available = np.array([sources.size, sources.size, candidates.size, len(remaining)]) > 0
    if n and not available.any():
        raise ValueError(
            "the scenario has no found minefield, no released land without finds and no "
            "unreleased hazard land to place minefield records on; pass n_records=0"
        )
    counts = _counts(n, _RECORD_SHARES * available)
    length, width = _record_sizes(rng, n)
    draft = _Draft(
        truth=np.repeat(np.arange(4), counts),
        centre=np.empty((n, 2)),
        angle=rng.uniform(0.0, np.pi, n),
        length=length,
        width=width,
        point=np.empty((n, 2)),
        offset=np.full(n, np.nan),
        recorded=np.round(np.clip(rng.lognormal(np.log(30.0), 1.0, n), 1.0, None)),
        device=_pick(rng, {"ap_mine": 0.6, "at_mine": 0.25, "unknown": 0.15}, n),
    )
    _describe_found(rng, draft, finds, sources)
    empty = np.flatnonzero(draft.truth == 2)
    piece = candidates[rng.integers(0, max(candidates.size, 1), len(empty))]
    draft.centre[empty] = _uniform_in(
        rng, ground.releases[piece], ground.hazards[ground.host[piece]]
    )
    unverified = np.flatnonzero(draft.truth == 3)
    if unverified.size:  # more records than points found: some share a point
        spare = len(remaining) >= unverified.size
        chosen = rng.permutation(len(remaining)) if spare else rng.integers(0, len(remaining), n)
        draft.centre[unverified] = remaining[chosen[: unverified.size]]
    unfound = draft.truth >= 2
    draft.point[unfound] = draft.centre[unfound]

    perimeter = rng.random(n) < _PERIMETER_SHARE
    geoms = shapely.points(draft.point)
    geoms[perimeter] = _rectangles(
        rng,
        draft.centre[perimeter],
        draft.angle[perimeter],
        draft.length[perimeter],
        draft.width[perimeter],
    )
    # an empty record stays on the land released, an unverified one off every release
    inside = perimeter[empty]
    _clip(geoms, empty[inside], draft.point, ground.releases[piece[inside]], ground.releases)
    _clip(geoms, unverified[perimeter[unverified]], draft.point, None, ground.releases)
    draft.device[rng.random(n) < _NO_TYPE_SHARE] = "unknown"
    draft.recorded[rng.random(n) < _NO_COUNT_SHARE] = np.nan
    order = rng.permutation(n)
    return _Records(
        geoms=geoms[order],
        recorded=draft.recorded[order],
        device_type=draft.device[order],
        truth=np.array(RECORD_TRUTHS, dtype=object)[draft.truth[order]],
        offset_m=draft.offset[order],
    )


# --------------------------------------------------------------------------------------------
# incidents
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Incidents:
    out_xy: np.ndarray
    date: np.ndarray
    killed: np.ndarray
    injured: np.ndarray
    device_type: np.ndarray
    activity: np.ndarray


def _make_incidents(rng: np.random.Generator, ground: _Ground, n: int) -> _Incidents:
    place = rng.choice(3, n, p=_INCIDENT_PLACES)
    place[(place == 1) & (len(ground.roads) == 0)] = 0
    place[(place == 2) & (len(ground.residential) == 0)] = 0
    xy = np.empty((n, 2))
    hazard = place == 0
    weight = shapely.area(ground.hazards) * _LEVEL_WEIGHT[ground.level]
    which = rng.choice(len(weight), int(hazard.sum()), p=weight / weight.sum())
    xy[hazard] = _uniform_in(rng, ground.hazards[which])
    road = place == 1
    if road.any():
        points, heading = _points_on_lines(rng, ground.roads, int(road.sum()))
        side = rng.normal(0.0, 15.0, len(points))
        xy[road] = points + side[:, None] * np.column_stack([-np.sin(heading), np.cos(heading)])
    edge = place == 2
    town = ground.residential[rng.integers(0, max(len(ground.residential), 1), int(edge.sum()))]
    bearing = rng.uniform(0.0, 2 * np.pi, len(town))
    reach = np.sqrt(shapely.area(town) / np.pi) + rng.exponential(300.0, len(town))
    xy[edge] = shapely.get_coordinates(shapely.centroid(town)) + reach[:, None] * np.column_stack(
        [np.cos(bearing), np.sin(bearing)]
    )

    device, activity = np.empty(n, dtype=object), np.empty(n, dtype=object)
    for p in range(3):
        here = place == p
        device[here] = _pick(rng, _INCIDENT_DEVICES[p], int(here.sum()))
        activity[here] = _pick(rng, _INCIDENT_ACTIVITIES[p], int(here.sum()))

    # an incident on land released later happened before the release; demining, during it
    released = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    if len(ground.releases):
        inner, rel = shapely.STRtree(ground.releases).query(
            shapely.points(xy), predicate="intersects"
        )
        first = np.full(n, np.iinfo(np.int64).max)
        np.minimum.at(first, inner, ground.release_date[rel].astype(np.int64))
        hit = first < np.iinfo(np.int64).max
        released[hit] = first[hit].astype("datetime64[D]")
    later = ~np.isnat(released) & (released >= ground.first)
    day = np.timedelta64(1, "D")
    high = np.where(later, np.clip(released - day, ground.first, ground.last), ground.last)
    low = np.full(n, ground.first)
    demining = activity == "demining"  # during clearance, or in the last year's clearance
    low[demining] = np.maximum(
        ground.first, high[demining] - np.where(later[demining], 120, 365) * day
    )
    date = _days(rng, low, high, early=True)

    vehicle = device == "at_mine"
    victims = 1 + rng.poisson(np.where(vehicle, 1.2, 0.25))
    victims[rng.random(n) < _NO_VICTIM_SHARE] = 0
    killed = rng.binomial(victims, np.where(vehicle, 0.35, 0.2))
    order = np.argsort(date, kind="stable")
    return _Incidents(
        out_xy=ground.to_crs(xy)[order],
        date=date[order],
        killed=killed[order].astype(np.int64),
        injured=(victims - killed)[order].astype(np.int64),
        device_type=device[order],
        activity=activity[order],
    )


# --------------------------------------------------------------------------------------------
# settlements
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Settlements:
    ids: np.ndarray
    names: np.ndarray
    population: np.ndarray
    geoms: np.ndarray  # scenario CRS


def _make_settlements(
    rng: np.random.Generator, ground: _Ground, scenario: Scenario, n: int
) -> _Settlements:
    residential = scenario.residential
    kept = np.sort(rng.choice(len(residential), min(n, len(residential)), replace=False))
    geoms = np.asarray(residential.geometry.array, dtype=object)[kept]
    as_point = rng.random(len(kept)) >= _POLYGON_SETTLEMENT_SHARE
    geoms[as_point] = shapely.points(
        ground.to_crs(
            shapely.get_coordinates(shapely.point_on_surface(ground.residential[kept[as_point]]))
        )
    )
    population = residential["population"].to_numpy(dtype=float)[kept]

    extra = n - len(kept)
    place = rng.choice(3, extra, p=_VILLAGE_PLACES)
    main = ground.roads[ground.road_class != "track"]
    if not len(main):
        place[place == 0] = 2
    xy = np.empty((extra, 2))
    road = place == 0
    if road.any():
        points, heading = _points_on_lines(rng, main, int(road.sum()))
        side = rng.normal(0.0, 600.0, len(points))
        xy[road] = points + side[:, None] * np.column_stack([-np.sin(heading), np.cos(heading)])
    near = place == 1
    hazard = rng.integers(0, len(ground.hazards), int(near.sum()))
    bearing = rng.uniform(0.0, 2 * np.pi, len(hazard))
    reach = 1.2 * np.sqrt(shapely.area(ground.hazards[hazard]) / np.pi) + rng.uniform(
        100.0, 1500.0, len(hazard)
    )
    xy[near] = shapely.get_coordinates(shapely.centroid(ground.hazards[hazard])) + reach[
        :, None
    ] * np.column_stack([np.cos(bearing), np.sin(bearing)])
    anywhere = place == 2
    xy[anywhere] = _uniform_in(rng, np.full(int(anywhere.sum()), ground.region, dtype=object))
    new_population = np.clip(np.round(rng.lognormal(np.log(250.0), 1.0, extra)), 20, 20_000)

    names = residential["name"].to_numpy(dtype=object)
    taken = set(names)
    new_names = []
    for name in _settlement_names(rng, extra):
        unique, k = name, 1
        while unique in taken:
            k += 1
            unique = f"{name} {k}"
        taken.add(unique)
        new_names.append(unique)
    population = np.concatenate([population, new_population])
    population[rng.random(n) < _NO_POPULATION_SHARE] = np.nan
    return _Settlements(
        ids=np.concatenate(
            [
                residential["settlement_id"].to_numpy(dtype=object)[kept],
                _ids("ST", len(residential) + extra)[len(residential) :],
            ]
        ),
        names=np.concatenate([names[kept], np.array(new_names, dtype=object)]),
        population=population,
        geoms=np.concatenate([geoms, shapely.points(ground.to_crs(xy))]),
    )


# --------------------------------------------------------------------------------------------
# the public function
# --------------------------------------------------------------------------------------------


def _count(value: int | None, default: int, name: str) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
        raise ValueError(f"{name} must be a whole number >= 0; got {value!r}")
    return int(value)


def _layer(
    kind: str, seed: int, columns: dict[str, object], geoms: np.ndarray, crs: pyproj.CRS
) -> gpd.GeoDataFrame:
    data = {  # text as pandas' string dtype, also when there is no row
        key: pd.array(value, dtype="str")
        if isinstance(value, np.ndarray) and value.dtype == object
        else value
        for key, value in columns.items()
    }
    layer = gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(geoms, crs=crs), crs=crs)
    layer.attrs = {"minemap": kind, "source": f"synthetic {kind} (seed {seed})"}
    if kind in ("records", "settlements"):  # polygons, whose edges are straight in the CRS
        layer.attrs["edges"] = "planar"
    return layer


def _timestamps(days: np.ndarray) -> pd.Series:
    return pd.Series(days.astype("datetime64[ns]"))


def field_evidence(
    scenario: Scenario,
    *,
    seed: int = 0,
    n_finds: int | None = None,
    n_incidents: int | None = None,
    n_records: int | None = None,
    n_settlements: int | None = None,
    stray_share: float = 0.01,
    period: tuple[str, str] | None = None,
) -> FieldEvidence:
    """Draw seeded, entirely synthetic field evidence consistent with a scenario.

    Parameters
    ----------
    scenario : Scenario
        The scenario the evidence belongs to, from :func:`make_scenario` (any CRS).
    seed : int, default 0
        Seed of :func:`numpy.random.default_rng`; the same scenario and arguments give
        identical layers. Each layer has a random stream of its own, so asking for more
        finds does not move the incidents or the settlements.
    n_finds : int, optional
        Device finds (rows; a row may count several devices). Default: one per hazard.
    n_incidents : int, optional
        Incidents. Default: one per 20 hazards, at least 20.
    n_records : int, optional
        Minefield records. Default: one per 10 hazards, at least 20.
    n_settlements : int, optional
        Settlements. Default: one per 5 hazards, at least 20 and at least as many as the
        scenario's residential areas (all of which are reused; with fewer settlements, a
        random subset is).
    stray_share : float, default 0.01
        Share of the finds made outside every hazard and release (UXO far from any
        recorded hazard, as real data holds).
    period : (str, str), optional
        First and last day of incidents and stray finds (ISO dates). Default: 1 January of
        the year of the first release to the last release date.

    Returns
    -------
    FieldEvidence
        ``incidents``, ``finds``, ``records`` and ``settlements`` in the scenario's CRS,
        with the canonical columns and ``attrs["minemap"]`` set, and ``record_truth``.

    Raises
    ------
    ValueError
        If an argument is out of range, or the scenario leaves no room for what is asked
        (e.g. stray finds in a region covered by hazards).

    Notes
    -----
    A find is dated on or before the date of its release, at most its clearance period
    earlier (the release's hectares at 0.2-1.5 ha a day, 3 to 365 days) and not before the
    first day of ``period`` (unless the release itself is). No date is later than the
    scenario's last release (or the end of ``period``). The chance that a released
    piece holds devices is :data:`MINED_CHANCE`; how many it holds scales with the same
    threat-level order (high-threat cleared land gets most devices per hectare), so that for
    one find per hazard high-threat cleared land holds a few devices per hectare in a few
    patches and most released land holds none. About 40 % of the records are accurate,
    20 % displaced, 15 % empty and 25 % unverified (fewer kinds where the scenario has no
    place for one); a quarter are points, 15 % give no count.

    Examples
    --------
    >>> from minemap.synthetic import make_scenario
    >>> scenario = make_scenario(seed=3, high_ha=80, medium_ha=80, low_ha=40)
    >>> evidence = field_evidence(scenario, seed=3, n_finds=40, n_records=8)
    >>> evidence.finds.columns.tolist()
    ['find_id', 'find_date', 'device_type', 'device_count', 'release_id', 'geometry']
    >>> bool(evidence.finds.find_date.le(scenario.releases.release_date.max()).all())
    True
    >>> sorted(evidence.record_truth.truth.unique())
    ['accurate', 'displaced', 'empty', 'unverified']
    """
    if not isinstance(scenario, Scenario):
        raise TypeError(f"scenario must be a Scenario (from make_scenario); got {type(scenario)}")
    if not 0.0 <= stray_share <= 1.0:
        raise ValueError(f"stray_share must be between 0 and 1; got {stray_share!r}")
    n_hazards = len(scenario.hazards)
    n_finds = _count(n_finds, n_hazards, "n_finds")
    n_incidents = _count(n_incidents, max(20, n_hazards // 20), "n_incidents")
    n_records = _count(n_records, max(20, n_hazards // 10), "n_records")
    n_settlements = _count(
        n_settlements, max(20, len(scenario.residential), n_hazards // 5), "n_settlements"
    )
    ground = _ground(scenario, period)
    streams = np.random.default_rng(seed).spawn(4)
    finds = _make_finds(streams[0], ground, n_finds, stray_share)
    records = _make_records(streams[1], ground, finds, n_records)
    incidents = _make_incidents(streams[2], ground, n_incidents)
    settlements = _make_settlements(streams[3], ground, scenario, n_settlements)

    crs = ground.crs
    record_ids = _ids("MR", n_records)
    to_crs = _Projector(ground.frame, crs, rounded=True)
    return FieldEvidence(
        incidents=_layer(
            "incidents",
            seed,
            {
                INCIDENT_ID: _ids("INC", n_incidents),
                INCIDENT_DATE: _timestamps(incidents.date),
                KILLED: incidents.killed,
                INJURED: incidents.injured,
                DEVICE_TYPE: incidents.device_type,
                VICTIM_ACTIVITY: incidents.activity,
            },
            shapely.points(incidents.out_xy),
            crs,
        ),
        finds=_layer(
            "finds",
            seed,
            {
                FIND_ID: _ids("FD", n_finds),
                FIND_DATE: _timestamps(finds.date),
                DEVICE_TYPE: finds.device_type,
                DEVICE_COUNT: finds.device_count,
                RELEASE_ID: pd.Series(
                    np.where(finds.release >= 0, ground.release_id[finds.release], None),
                    dtype=object,
                ),
            },
            shapely.points(finds.out_xy),
            crs,
        ),
        records=_layer(
            "records",
            seed,
            {
                RECORD_ID: record_ids,
                RECORDED_DEVICES: pd.array(records.recorded, dtype="Int64"),
                DEVICE_TYPE: records.device_type,
            },
            to_crs(records.geoms, polygons="single"),
            crs,
        ),
        settlements=_layer(
            "settlements",
            seed,
            {
                SETTLEMENT_ID: settlements.ids,
                SETTLEMENT_NAME: settlements.names,
                POPULATION: settlements.population.astype(np.float64),
            },
            settlements.geoms,
            crs,
        ),
        record_truth=pd.DataFrame(
            {RECORD_ID: record_ids, TRUTH: records.truth, OFFSET_M: records.offset_m}
        ),
    )


# --------------------------------------------------------------------------------------------
# writing
# --------------------------------------------------------------------------------------------


def write_field_evidence(
    evidence: FieldEvidence,
    directory: str | os.PathLike[str],
    *,
    geopackage: str | None = "evidence.gpkg",
    files: bool = True,
) -> list[Path]:
    """Write field evidence's four layers to ``directory``.

    ``geopackage`` gets one layer per name in :data:`EVIDENCE_LAYERS`; when the file exists
    (e.g. ``scenario.gpkg`` from :func:`write_scenario`) they are added to it, keeping its
    other layers and replacing any of the same name. ``files`` writes ``incidents.csv``
    (``lon`` and ``lat`` in WGS 84, as a spreadsheet of incidents holds them),
    ``finds.geojson``, ``records.geojson`` and ``settlements.geojson``. Dates are ISO
    strings (``YYYY-MM-DD``) in the CSV and GeoJSON files, DateTime in the GeoPackage. Each
    file is written under a temporary name in ``directory`` first and then renamed, so a
    reader never sees half a file.

    Parameters
    ----------
    evidence : FieldEvidence
        Layers to write, e.g. from :func:`field_evidence`.
    directory : str or os.PathLike
        Output directory; created if missing.
    geopackage : str or None, default "evidence.gpkg"
        Name of the GeoPackage in ``directory``; None writes none.
    files : bool, default True
        Whether to write the CSV and GeoJSON files.

    Returns
    -------
    list of pathlib.Path
        The files written.

    Raises
    ------
    minemap._errors.OutputError
        If a file cannot be written.

    Examples
    --------
    >>> import tempfile
    >>> from minemap.synthetic import make_scenario
    >>> evidence = field_evidence(make_scenario(seed=3, high_ha=50, medium_ha=50, low_ha=50))
    >>> with tempfile.TemporaryDirectory() as out:
    ...     [p.name for p in write_field_evidence(evidence, out)]
    ['evidence.gpkg', 'incidents.csv', 'finds.geojson', 'records.geojson', 'settlements.geojson']
    """
    directory = Path(directory)
    names = ([geopackage] if geopackage else []) + (
        [f"{name}.csv" if name == "incidents" else f"{name}.geojson" for name in EVIDENCE_LAYERS]
        if files
        else []
    )
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=directory, prefix=".minemap-") as tmp:
            staging = Path(tmp)
            if geopackage:
                if (directory / geopackage).exists():
                    shutil.copyfile(directory / geopackage, staging / geopackage)
                for name, layer in evidence.layers.items():
                    layer.to_file(staging / geopackage, layer=name, driver="GPKG")
            if files:
                _incidents_csv(evidence.incidents).to_csv(
                    staging / "incidents.csv", index=False, lineterminator="\n"
                )
                for name in EVIDENCE_LAYERS[1:]:
                    _stage_geojson(evidence.layers[name], staging / f"{name}.geojson")
            for name in names:
                os.replace(staging / name, directory / name)
    except OSError as error:
        raise OutputError(
            f"{directory}: cannot write the field evidence ({error}); check that the directory "
            "is writable and has free space."
        ) from error
    return [directory / name for name in names]


def _incidents_csv(incidents: gpd.GeoDataFrame) -> pd.DataFrame:
    """The incidents as a table with ``lon``/``lat`` columns (WGS 84) and ISO dates."""
    lonlat = incidents.to_crs(4326) if incidents.crs is not None else incidents
    table = pd.DataFrame(incidents.drop(columns=incidents.geometry.name))
    table[INCIDENT_DATE] = table[INCIDENT_DATE].dt.strftime("%Y-%m-%d")
    table["lon"] = np.round(lonlat.geometry.x.to_numpy(), 6)
    table["lat"] = np.round(lonlat.geometry.y.to_numpy(), 6)
    return table
