"""Land-release statistics: hectares and percentages by threat level, group and period.

Every figure follows the area rules of ``docs/concepts.md``: true ellipsoidal hectares
(measured in an equal-area frame centred on the data), overlapping hazards counted once
under their highest threat level, release counted only inside hazards and once under its
strongest method, and ``as_of`` limiting releases to those dated on or before it.
"""

from __future__ import annotations

import contextlib
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow
import pyarrow.compute
import pyproj
import shapely

from minemap import _engine, _precedence_area, _progress, _shared_area, _validate
from minemap import crs as _crs
from minemap import io as _io
from minemap._errors import CoordinateError, DataWarning, SchemaError, option_hint
from minemap._overlay import (
    HEAVY_TARGET,
    PARALLEL_THRESHOLD,
    by_target,
    flatten,
    flatten_merged,
    gc_paused,
    intersecting_pairs,
    intersection_pieces,
    parallel,
    polygonal_parts,
    robust,
    run_positions,
    same_polygon,
)
from minemap._workers import SidePool, using_workers
from minemap.settings import (
    CANCELLED_HA,
    CLEARED_HA,
    HAZARD_HA,
    HAZARD_ID,
    METHOD,
    METHOD_HA,
    PERCENT_CLEARED,
    PERCENT_RELEASED,
    REDUCED_HA,
    RELEASE_DATE,
    RELEASE_ID,
    RELEASE_METHODS,
    RELEASED_HA,
    RELEASED_OUTSIDE_HA,
    REMAINING_HA,
    THREAT_LEVEL,
    THREAT_LEVELS,
    TOTAL,
)

#: Label of hazard area lying outside every polygon of a district layer given as ``by=``.
OUTSIDE_DISTRICTS = "(outside districts)"
_M2_PER_HA = _crs.M2_PER_HA
#: progress_over_time computes at most this many periods (each is a full overlay pass).
MAX_PERIODS = 1_000
_PERIODS = (
    pd.offsets.MonthEnd,
    pd.offsets.MonthBegin,
    pd.offsets.QuarterEnd,
    pd.offsets.QuarterBegin,
    pd.offsets.YearEnd,
    pd.offsets.YearBegin,
    pd.offsets.Week,
    pd.offsets.Day,
)
_PERIOD_DAYS = {
    pd.offsets.Day: 1,
    pd.offsets.Week: 7,
    pd.offsets.QuarterEnd: 91,
    pd.offsets.QuarterBegin: 91,
    pd.offsets.YearEnd: 365,
    pd.offsets.YearBegin: 365,
}
#: Hectare figures smaller than this (1e-8 ha = 1 cm²) are floating-point residue: zero.
RESIDUE_HA = 1e-8
#: ... and so are figures below this fraction of the hazard area of their row.
RESIDUE_RELATIVE = 1e-12


def _as_hazards(hazards: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if hazards.attrs.get("minemap") == "hazards":
        return hazards
    return _io.read_hazards(hazards)


def _as_releases(releases: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    if releases is None or releases.attrs.get("minemap") == "releases":
        return releases
    return _io.read_releases(releases)


_BARE_YEAR = re.compile(r"^\s*(\d{4})\s*$")


def _as_timestamp(as_of: object | None) -> pd.Timestamp | None:
    """The calendar day ``as_of`` names: an ISO 8601 date, or a bare year (31 December).

    A date written with a time and a UTC offset keeps the day it was written with, as
    release dates do; ``03/05/2022`` is refused (it is 3 May or 5 March, depending on who
    wrote it).
    """
    if as_of is None:
        return None
    if isinstance(as_of, int) and not isinstance(as_of, bool) and 1000 <= as_of <= 9999:
        return pd.Timestamp(as_of, 12, 31)
    if isinstance(as_of, str):
        year = _BARE_YEAR.match(as_of)
        if year:
            return pd.Timestamp(int(year.group(1)), 12, 31)
    day = _validate.day_of(as_of) if not isinstance(as_of, bool) else None
    if day is None:
        raise SchemaError(
            f"{option_hint('as_of', repr(as_of))} is not an ISO date; write it as YYYY-MM-DD "
            "(e.g. 2022-05-03), or a bare year YYYY for 31 December of that year."
        )
    return day


@dataclass
class _HazardPieces:
    """Disjoint parts of the hazard area, each under one threat level and group.

    Overlays run in the hazards' own CRS (``work``, ``work_crs``), where edges that users
    drew along each other really coincide; pieces are measured with
    :func:`minemap.crs.area_m2`. ``geoms`` gives the pieces in the equal-area ``frame``
    for callers that overlay there (computed on first use).
    """

    attrs: pd.DataFrame  # threat_level and group columns, one row per piece
    area_m2: np.ndarray
    work: np.ndarray
    work_crs: pyproj.CRS
    frame: pyproj.CRS

    @cached_property
    def geoms(self) -> np.ndarray:
        """The pieces projected into the equal-area frame."""
        return _measure(self.work, self.work_crs, self.frame)


def _district_layer(
    districts: gpd.GeoDataFrame, district_column: str | None
) -> tuple[gpd.GeoDataFrame, str]:
    if districts.attrs.get("minemap") != "districts":
        districts = _io.read_features(districts, kind="districts")
    columns = [c for c in districts.columns if c != districts.geometry.name]
    if district_column is None:
        district_column = "district" if "district" in columns else (columns[0] if columns else None)
    if district_column is None:
        raise SchemaError(
            f"{districts.attrs.get('source', 'districts')}: the district layer has "
            "no attribute to name its districts; add a 'district' column."
        )
    if district_column not in columns:
        raise SchemaError(
            f"{districts.attrs.get('source', 'districts')}: no column "
            f"{district_column!r}; the layer has {columns}."
        )
    return districts, district_column


def _measure(geoms: np.ndarray, work_crs: pyproj.CRS, frame: pyproj.CRS) -> np.ndarray:
    """Geometries of the working CRS projected into the equal-area frame."""
    return _crs.to_area_frame(gpd.GeoSeries(geoms, crs=work_crs), frame)


@gc_paused()
def _hazard_pieces(
    hazards: gpd.GeoDataFrame,
    frame: pyproj.CRS,
    by_columns: Sequence[str],
    districts: gpd.GeoDataFrame | None,
    district_column: str | None,
    *,
    others: Sequence[gpd.GeoDataFrame | None] = (),
) -> _HazardPieces:
    work_crs = _crs.work_crs(hazards, districts, *others, frame=frame)
    geoms = _crs.to_crs_dense(hazards.geometry, work_crs)
    rank = _level_index(hazards)
    attrs = hazards[[THREAT_LEVEL, *by_columns]].reset_index(drop=True)
    if _one_row_per_level(attrs):
        # which hazard holds a place does not matter, only its level: stacks merge by level
        pieces, source_row = flatten_merged(geoms, rank)
    else:
        pieces = flatten(geoms, rank)
        source_row = np.flatnonzero(~shapely.is_empty(pieces))
        pieces = pieces[source_row]
    attrs = attrs.iloc[source_row].reset_index(drop=True)  # source_row: each piece's hazard
    if districts is not None and district_column is not None:
        dgeoms = flatten(_crs.to_crs_dense(districts.geometry, work_crs), np.arange(len(districts)))
        names = districts[district_column].astype(object).to_numpy()
        envelope = shapely.box(*shapely.total_bounds(pieces)).buffer(1.0, join_style="mitre")
        rest = shapely.difference(envelope, shapely.union_all(dgeoms))
        dgeoms = np.append(dgeoms, rest)
        names = np.append(names, OUTSIDE_DISTRICTS)
        i, j, parts = intersection_pieces(pieces, dgeoms)
        attrs = attrs.iloc[i].reset_index(drop=True)
        source_row = source_row[i]
        attrs[district_column] = names[j]
        pieces = parts
    result = _HazardPieces(attrs, _crs.area_m2(pieces, work_crs, frame), pieces, work_crs, frame)
    _check_measured(result.area_m2, hazards, source_row)
    if district_column is not None and districts is not None:
        outside = (attrs[district_column] == OUTSIDE_DISTRICTS).to_numpy()
        ha = result.area_m2[outside].sum() / _M2_PER_HA
        if ha >= 0.005:
            warnings.warn(
                f"{ha:.2f} ha of hazard area lie outside every district polygon; they are "
                f"reported under {OUTSIDE_DISTRICTS!r}.",
                DataWarning,
                stacklevel=3,
            )
    return result


def _one_row_per_level(attrs: pd.DataFrame) -> bool:
    """Whether hazards of one threat level all carry the same attributes (as when no
    column is carried besides the level), so that their pieces are interchangeable."""
    if attrs.shape[1] == 1:
        return True
    return bool((attrs.drop_duplicates()[THREAT_LEVEL].value_counts() <= 1).all())


def _check_measured(area_m2: np.ndarray, hazards: gpd.GeoDataFrame, source_row: np.ndarray) -> None:
    """Refuse, naming the file and features, any piece whose area could not be measured."""
    bad = ~np.isfinite(area_m2)
    if not bad.any():
        return
    rows = np.unique(source_row[bad])
    ids = (
        hazards[HAZARD_ID].iloc[rows]
        if HAZARD_ID in hazards.columns
        else pd.Series(hazards.index[rows])
    )
    raise CoordinateError(
        f"{hazards.attrs.get('source', 'hazards')}: the area of {rows.size} feature(s) cannot "
        f"be measured in {pyproj.CRS(hazards.crs).name} (ids {_validate.list_ids(ids)}): "
        "no equal-area frame holds them; check their coordinates and CRS, or split them into "
        "smaller polygons."
    )


def _level_index(hazards: gpd.GeoDataFrame) -> np.ndarray:
    """Position of each hazard's threat level in :data:`THREAT_LEVELS` (0 = high)."""
    return _positions(hazards, THREAT_LEVEL, THREAT_LEVELS, HAZARD_ID)


def _method_index(releases: gpd.GeoDataFrame) -> np.ndarray:
    """Position of each release's method in :data:`RELEASE_METHODS` (0 = cleared, strongest)."""
    return _positions(releases, METHOD, RELEASE_METHODS, RELEASE_ID)


def _positions(
    layer: gpd.GeoDataFrame, column: str, words: Sequence[str], id_column: str
) -> np.ndarray:
    """Position of each feature's ``column`` value in ``words``. The readers check the
    values; a layer changed since it was read can hold others, and is refused."""
    found = _index_in(layer[column], words)
    if (found < 0).any():
        ids = layer[id_column] if id_column in layer.columns else layer.index
        raise SchemaError(
            f"{layer.attrs.get('source', 'the layer')}: column {column!r} holds values other "
            f"than {', '.join(words)} (ids {_validate.list_ids(ids[found < 0])}), changed "
            "since it was read; read the layer again (or fix those values)."
        )
    return found


def _index_in(values: pd.Series, words: Sequence[str]) -> np.ndarray:
    """Position of each value in ``words``, −1 for any other (``Index.get_indexer``):
    by Arrow where the values are text, 7 times faster on the readers' Arrow strings.

    Examples
    --------
    >>> _index_in(pd.Series(["low", "high", None, "HIGH"]), ["high", "medium", "low"]).tolist()
    [2, 0, -1, -1]
    >>> _index_in(pd.Series([2, "high", b"high"], dtype=object), ["high"]).tolist()
    [-1, 0, -1]
    """
    try:
        text = pyarrow.array(values.array)
    except pyarrow.ArrowException:  # mixed types (a layer changed since it was read)
        return pd.Index(words).get_indexer(values)
    if not (pyarrow.types.is_string(text.type) or pyarrow.types.is_large_string(text.type)):
        return pd.Index(words).get_indexer(values)  # bytes, numbers: not text
    found = pyarrow.compute.index_in(text, pyarrow.array(list(words)))
    return np.asarray(found.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.intp)


def _release_work_pieces(
    releases: gpd.GeoDataFrame,
    work_crs: pyproj.CRS,
    as_of: pd.Timestamp | None,
    *,
    disjoint: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Release polygons in ``work_crs`` and the method index of each (0 = cleared).

    With ``disjoint`` (the default) overlaps are resolved so each place has one method;
    without, the releases are returned as they are (enough to remove released land).
    """
    if as_of is not None:
        releases = releases.loc[releases[RELEASE_DATE] <= as_of]
    if len(releases) == 0:
        return np.empty(0, dtype=object), np.empty(0, dtype=np.intp)
    geoms = _crs.to_crs_dense(releases.geometry, work_crs)
    method = _method_index(releases)
    if not disjoint:
        keep = ~shapely.is_empty(geoms) & ~shapely.is_missing(geoms)
        return geoms[keep], method[keep].astype(np.intp)
    pieces, rows = flatten_merged(geoms, method)  # a place's method is all that matters
    return pieces, method[rows].astype(np.intp)


def _cap(released: np.ndarray, limit: np.ndarray) -> None:
    """Floating-point noise must never let release exceed the hazard piece it sits in."""
    total = released.sum(axis=1)
    over = total > limit
    if over.any():
        released[over] *= (limit[over] / total[over])[:, None]


@gc_paused()
def _released_work_m2(
    hazard: _HazardPieces, release_work: np.ndarray, release_method: np.ndarray
) -> tuple[np.ndarray, float]:
    """Released m² per hazard piece and method, and the released m² outside hazards.

    ``release_work`` are disjoint release pieces in the hazards' working CRS.
    """
    released, outside, _ = _release_overlay(
        hazard, release_work, release_method, keep_remaining=False
    )
    return released, outside


def _release_overlay(
    hazard: _HazardPieces,
    release_work: np.ndarray,
    release_method: np.ndarray,
    *,
    keep_remaining: bool,
) -> tuple[np.ndarray, float, np.ndarray | None]:
    """Released m² per hazard piece and method, released m² outside hazards, and
    (with ``keep_remaining``) each hazard piece minus its releases, in the work CRS.

    A release recorded over exactly a whole piece needs no overlay at all. For the figures
    alone, what a release took from a piece is their intersection (release pieces are
    disjoint): one overlay per pair, each independent of the others (:func:`_taken_m2`).
    With ``keep_remaining`` the releases are cut out of each piece one after another
    instead (:func:`_cut_in_rounds`), which also leaves the remaining geometry.
    """
    n = len(hazard.area_m2)
    released = np.zeros((n, len(RELEASE_METHODS)))
    if release_work.size == 0:
        return released, 0.0, (hazard.work.copy() if keep_remaining else None)
    i, j = intersecting_pairs(hazard.work, release_work)
    order = np.lexsort((j, i))
    i, j = i[order], j[order]
    same = parallel(same_polygon, hazard.work[i], release_work[j])
    remaining = None
    if keep_remaining:
        whole = same & (np.bincount(i, minlength=n)[i] == 1)
        taken, remaining = _cut_in_rounds(hazard, release_work, i, j, whole)
    else:
        taken = _taken_m2(hazard, release_work, i, j, same)
    np.add.at(released, (i, release_method[j]), taken)
    _cap(released, hazard.area_m2)
    release_area = _crs.area_m2(release_work, hazard.work_crs, hazard.frame).sum()
    outside = float(release_area - taken.sum())
    # the same land measured as one piece or as several differs by rounding only, and what
    # a release took from a piece is the difference of two measurements of the piece
    noise = 1e-9 * release_area + 1e-12 * hazard.area_m2[np.unique(i)].sum()
    return released, (outside if outside > noise else 0.0), remaining


#: Releases whose intersections with a hazard piece leave less than this fraction of it
#: (in the plane of the work CRS) cover the piece between them.
COVERED_FRACTION = 1e-9
#: Release-hazard overlays are measured this many at a time (what memory they hold).
_PAIR_BLOCK = 100_000


def _taken_m2(
    hazard: _HazardPieces, release_work: np.ndarray, i: np.ndarray, j: np.ndarray, same: np.ndarray
) -> np.ndarray:
    """m² of hazard piece ``i[k]`` that release piece ``j[k]`` holds, for every pair.

    Each pair is one intersection, independent of every other: they run as array calls
    on all cores, a block of :data:`_PAIR_BLOCK` pairs at a time. A pair in ``same`` (the
    release is the piece, vertex for vertex) needs none: it takes the piece's area, and
    the other releases that meet the piece only touch it (release pieces are disjoint).
    Each part is measured where it lies
    (:func:`minemap.crs.area_m2`), and the measures of parts of a piece add up to the
    measure of the piece only to second order: where releases cover a piece between them,
    their shares are scaled to add up to exactly its area, so a piece released along its
    edges has nothing left.
    """
    n = len(hazard.area_m2)
    taken = np.zeros(i.size)
    planar = np.zeros(i.size)
    piece = parallel(shapely.area, hazard.work)
    whole = np.flatnonzero(same)
    whole = whole[np.unique(i[whole], return_index=True)[1]]  # one per piece, to be sure
    taken[whole] = hazard.area_m2[i[whole]]
    planar[whole] = piece[i[whole]]
    owned = np.zeros(n, dtype=bool)
    owned[i[whole]] = True
    rest = np.flatnonzero(~owned[i])
    for start in range(0, rest.size, _PAIR_BLOCK):  # only a block's overlays held at once
        k = rest[start : start + _PAIR_BLOCK]
        measured = _measured_without_overlay(hazard, release_work, i[k], j[k])
        if measured is not None:
            decided, taken[k[decided]], planar[k[decided]] = measured
            k = k[~decided]
        shared = polygonal_parts(
            robust(shapely.intersection, hazard.work[i[k]], release_work[j[k]])
        )
        taken[k] = _crs.area_m2(shared, hazard.work_crs, hazard.frame)
        planar[k] = parallel(shapely.area, shared)
    covered = np.bincount(i, planar, n) >= (1.0 - COVERED_FRACTION) * piece
    total = np.bincount(i, taken, n)
    fix = covered & (total > 0)
    scale = np.ones(n)
    scale[fix] = hazard.area_m2[fix] / total[fix]
    return taken * scale[i]


def _measured_without_overlay(
    hazard: _HazardPieces, release_work: np.ndarray, i: np.ndarray, j: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """What release piece ``j[k]`` takes from hazard piece ``i[k]``, measured from their
    boundaries (:mod:`minemap._shared_area`) instead of an overlay, where that decides.

    Returns ``(decided, m2, planar)`` (``m2`` and ``planar`` for the decided pairs only),
    or None when there are too few pairs for it, most share a vertex, or numba is not
    installed (:func:`minemap._shared_area.worth_measuring`). A decided pair
    is measured as :func:`minemap.crs.area_m2` measures the polygon the overlay would
    give: its planar area times the ellipsoid's area per unit at its centroid; pairs of
    large pieces, which that measure does not cover, are left undecided.
    """
    if i.size < _shared_area.MIN_PAIRS or not _shared_area.worth_measuring(
        hazard.work, release_work, i, j
    ):
        return None
    area, cx, cy, decided = _shared_area.shared_area_moments(hazard.work, release_work, i, j)
    sides = [
        parallel(shapely.bounds, geoms[k]) for geoms, k in ((hazard.work, i), (release_work, j))
    ]
    size = np.minimum(*(np.fmax(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]) for b in sides))
    decided &= size <= _crs.local_size_limit(hazard.work_crs)  # holds the shared part's box
    planar = np.maximum(area[decided], 0.0)
    m2 = np.zeros(planar.size)
    some = planar > 0
    m2[some] = _crs.local_area_m2(
        planar[some], cx[decided][some], cy[decided][some], hazard.work_crs
    )
    return decided, m2, planar


def _cut_in_rounds(
    hazard: _HazardPieces, release_work: np.ndarray, i: np.ndarray, j: np.ndarray, whole: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """m² each release took from its piece, and each piece minus its releases.

    Releases are cut out of each hazard piece one after another, in array rounds; what a
    release took is the area the piece lost in its cut. The pieces are shared out between
    the workers (:func:`minemap._overlay.by_target`), each doing all rounds of its own.
    """
    taken = np.zeros(i.size)
    taken[whole] = hazard.area_m2[i[whole]]
    remaining = hazard.work.copy()
    remaining[i[whole]] = shapely.Polygon()
    rest = np.flatnonzero(~whole)

    def cut(k: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        touched = np.unique(k)
        at = np.searchsorted(touched, k)
        current = hazard.work[touched].copy()
        current_m2 = hazard.area_m2[touched].copy()
        got = np.zeros(k.size)
        rank, length = run_positions(k)
        heavy = length > HEAVY_TARGET
        if heavy.any():
            # a piece under many release pieces (a stack): as they are disjoint, what each
            # took is its intersection with the piece, and the rest is the piece minus
            # their union
            h = np.flatnonzero(heavy)
            shared = polygonal_parts(
                robust(shapely.intersection, hazard.work[k[h]], release_work[r[h]])
            )
            got[h] = _crs.area_m2(shared, hazard.work_crs, hazard.frame)
            starts = h[rank[h] == 0]
            unions = np.array(
                [shapely.union_all(release_work[r[s : s + length[s]]]) for s in starts],
                dtype=object,
            )
            c = at[starts]
            current[c] = polygonal_parts(robust(shapely.difference, current[c], unions))
        light = ~heavy
        for step in np.unique(rank[light]):
            sel = np.flatnonzero(light & (rank == step))
            c = at[sel]
            left = polygonal_parts(robust(shapely.difference, current[c], release_work[r[sel]]))
            left_m2 = _crs.area_m2(left, hazard.work_crs, hazard.frame)
            got[sel] = np.clip(current_m2[c] - left_m2, 0.0, None)
            current[c], current_m2[c] = left, left_m2
        return touched, current, got

    parts = by_target(cut, i[rest], j[rest])
    for touched, current, _ in parts:
        remaining[touched] = current
    if parts:
        taken[rest] = np.concatenate([got for _, _, got in parts])
    return taken, remaining


def _finish(table: pd.DataFrame) -> pd.DataFrame:
    """Add released, remaining and percentage columns to hectare sums.

    Computed on arrays and put in a new frame at once (the table's other columns first,
    as they are): column by column, pandas took 5 ms for a table of four rows.
    """
    hazard = table[HAZARD_HA].to_numpy(dtype=float)
    cleared, reduced, cancelled = (
        table[c].to_numpy(dtype=float) for c in (CLEARED_HA, REDUCED_HA, CANCELLED_HA)
    )
    released = np.minimum(np.nansum(np.column_stack([cleared, reduced, cancelled]), axis=1), hazard)
    remaining = np.maximum(hazard - released, 0.0)
    # floating-point residue is not land: a remaining area that is a rounding error of the
    # hazard area (a hazard released exactly along its edges) is zero, and so on
    residue = np.maximum(RESIDUE_HA, RESIDUE_RELATIVE * np.abs(hazard))
    figures = {
        column: np.where(np.abs(values) < residue, 0.0, values) + 0.0
        for column, values in (
            (HAZARD_HA, hazard),
            (CLEARED_HA, cleared),
            (REDUCED_HA, reduced),
            (CANCELLED_HA, cancelled),
            (RELEASED_HA, released),
            (REMAINING_HA, remaining),
        )
    }
    fully = figures[REMAINING_HA] == 0.0
    figures[RELEASED_HA] = np.where(fully, figures[HAZARD_HA], figures[RELEASED_HA])
    with np.errstate(divide="ignore", invalid="ignore"):
        for pct, col in ((PERCENT_CLEARED, CLEARED_HA), (PERCENT_RELEASED, RELEASED_HA)):
            value = np.where(hazard > 0, 100.0 * (figures[col] / hazard), 0.0)
            figures[pct] = np.clip(value, 0.0, 100.0) + 0.0
    data = {c: (figures.pop(c) if c in figures else table[c]) for c in table.columns}
    data.update(figures)  # the new columns, in the order above
    out = pd.DataFrame(data, index=table.index)
    out.attrs = dict(table.attrs)
    return out


def _by_columns(hazards: gpd.GeoDataFrame, by: object) -> list[str]:
    if by is None:
        return []
    columns = [by] if isinstance(by, str) else list(by)  # type: ignore[call-overload]
    for column in columns:
        if column not in hazards.columns or column == hazards.geometry.name:
            existing = [c for c in hazards.columns if c != hazards.geometry.name]
            raise SchemaError(
                f"{hazards.attrs.get('source', 'hazards')}: cannot group by {column!r}: no such "
                f"column; the layer has {existing}."
            )
    # every table is already per threat level: grouping by it again adds nothing
    return list(dict.fromkeys(c for c in columns if c != THREAT_LEVEL))


def land_release_summary(
    hazards: gpd.GeoDataFrame,
    releases: gpd.GeoDataFrame | None = None,
    *,
    by: str | Sequence[str] | gpd.GeoDataFrame | None = None,
    as_of: object | None = None,
    district_column: str | None = None,
    edges: str | None = None,
    workers: int | None = None,
    engine: str | None = None,
    client: Any | None = None,
    npartitions: int | None = None,
) -> pd.DataFrame:
    """Hazard, released and remaining hectares per threat level (and group).

    Parameters
    ----------
    hazards : geopandas.GeoDataFrame
        Hazard areas, as returned by :func:`minemap.read_hazards` (a raw GeoDataFrame is
        validated first).
    releases : geopandas.GeoDataFrame, optional
        Land-release records, as returned by :func:`minemap.read_releases`.
    by : str, list of str or geopandas.GeoDataFrame, optional
        Hazard column(s) to group by (e.g. ``"district"``), or a layer of district polygons:
        hazard area is then split between districts by geometry.
    as_of : date-like, optional
        Count only releases dated on or before this day: an ISO 8601 date
        (``"2022-06-30"``; with a time and UTC offset it keeps the day it was written with),
        a ``datetime.date``, or a bare year (``2022`` means 31 December 2022).
    district_column : str, optional
        Name column of a district layer given as ``by`` (default ``district`` or the first
        attribute column).
    edges : {'planar', 'geodesic'}, optional
        How polygon edges run between vertices: straight in the layer's own CRS
        (``'planar'``, the default for layers read by minemap) or along great-circle arcs
        (``'geodesic'``, as PostGIS ``geography``); default: as the layers were read.
    workers : int, optional
        Threads to use (default: every core this process may use); results are identical
        whatever the number.
    engine : {'local', 'dask'}, optional
        Where to run: ``'local'``, this process on ``workers`` threads, or ``'dask'``, a
        Dask cluster through :func:`minemap.partitioned.land_release_summary` (touching
        hazards and releases kept whole in one partition; the same figures). Default:
        Dask when a layer is a ``dask_geopandas.GeoDataFrame`` or ``client`` is given.
    client : distributed.Client, optional
        The Dask cluster to run on (default: a ``LocalCluster`` made for the call).
    npartitions : int, optional
        Dask partitions (default two per worker thread of the cluster).

    Returns
    -------
    pandas.DataFrame
        One row per threat level (``high``, ``medium``, ``low``) and a ``total`` row, per
        group when ``by`` is given, followed by a grand ``total`` row whose group columns
        read ``"all"``. Columns: the group columns, ``threat_level``, ``hazard_ha``,
        ``cleared_ha``, ``reduced_ha``, ``cancelled_ha``, ``released_ha``, ``remaining_ha``,
        ``percent_cleared``, ``percent_released``. ``attrs`` holds
        ``released_outside_hazards_ha``, ``as_of`` and the ``area_frame`` used.

    Notes
    -----
    Where hazards overlap, a place counts once under its highest threat level (and, between
    hazards of the same level, under the first in row order for grouping). Release counts only
    inside hazards; a place released several times counts once under the strongest method
    (cleared > reduced > cancelled). Percentages are 0 where there is no hazard area.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> hz = gpd.GeoDataFrame({"hazard_id": ["H1", "H2"], "threat_level": ["high", "low"]},
    ...     geometry=[box(5e5, 44e5, 501e3, 4401e3), box(5005e2, 44e5, 5015e2, 4401e3)],
    ...     crs=32638)
    >>> table = land_release_summary(hz)
    >>> table.set_index("threat_level")["hazard_ha"].round(2).to_dict()
    {'high': 100.08, 'medium': 0.0, 'low': 50.04, 'total': 150.12}
    """
    layers = {"hazards": hazards, "releases": releases, "by": by}
    if _engine.use_dask(
        "land_release_summary",
        engine,
        layers,
        client=client,
        npartitions=npartitions,
        workers=workers,
    ):
        from minemap import partitioned

        return partitioned.land_release_summary(
            hazards,
            releases,
            client=client,
            npartitions=npartitions,
            by=by,
            as_of=as_of,
            district_column=district_column,
            edges=edges,
        )
    with using_workers(workers):
        table = _summary_table(
            hazards, releases, by=by, as_of=as_of, district_column=district_column, edges=edges
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


def _summary_table(
    hazards: gpd.GeoDataFrame,
    releases: gpd.GeoDataFrame | None,
    *,
    by: str | Sequence[str] | gpd.GeoDataFrame | None = None,
    as_of: object | None = None,
    district_column: str | None = None,
    edges: str | None = None,
) -> pd.DataFrame:
    """The summary table (no warnings emitted): measured from the boundaries where that
    applies (no groups, large layers: :func:`_summary_by_classes`), else by the overlays."""
    if by is None:
        table = _summary_by_classes(hazards, releases, as_of=as_of, edges=edges)
        if table is not None:
            return table
    table, _ = _summary_and_pieces(
        hazards, releases, by=by, as_of=as_of, district_column=district_column, edges=edges
    )
    return table


def _summary_by_classes(
    hazards: gpd.GeoDataFrame,
    releases: gpd.GeoDataFrame | None,
    *,
    as_of: object | None,
    edges: str | None,
) -> pd.DataFrame | None:
    """The summary table (no groups) measured from the polygons' boundaries
    (:mod:`minemap._precedence_area`), clusters not in general position by the overlays.

    None where that does not pay: too few polygons, numba missing, or polygons drawn on
    each other's vertices (:func:`minemap._precedence_area.class_areas`).
    """
    hazards = _io.with_edges(_as_hazards(hazards), edges)
    releases = _as_releases(releases)
    stamp = _as_timestamp(as_of)
    recorded = None  # every release, whatever its date: the frame is chosen on them all
    if releases is not None:
        releases = recorded = _io.with_edges(releases, edges)
        if stamp is not None:
            releases = releases.loc[releases[RELEASE_DATE] <= stamp]
    given = releases is not None
    if releases is None:
        releases = hazards.iloc[:0].assign(**{METHOD: pd.Series(dtype=object)})
    if len(hazards) + len(releases) < _precedence_area.MIN_POLYGONS:
        return None
    with _progress.task("Land release summary", 2, unit="stage") as bar:
        frame = _crs.area_frame(hazards, recorded)  # as the overlays choose it
        work = _crs.work_crs(hazards, releases, frame=frame)
        bar.update()
        bar.set_description("Land release summary (class boundaries)")
        measured = _precedence_area.class_areas(
            _crs.to_crs_dense(hazards.geometry, work),
            _level_index(hazards),
            _crs.to_crs_dense(releases.geometry, work),
            _method_index(releases),
            work,
        )
        if measured is None:
            return None
        m2, hazard_left, release_left = measured
        bar.update()
    m2 = np.maximum(m2, 0.0)  # a class that holds nothing can come out as -1e-12
    ha = m2 / _M2_PER_HA
    data = pd.DataFrame({THREAT_LEVEL: list(THREAT_LEVELS), HAZARD_HA: ha[:3].sum(axis=1)})
    for k, method in enumerate(RELEASE_METHODS):
        data[METHOD_HA[method]] = ha[:3, k]
    outside = float(ha[3, :3].sum())
    if outside <= 1e-9 * ha[:, :3].sum():  # rounding, as in _release_overlay
        outside = 0.0
    if hazard_left.any() or release_left.any():  # clusters left to the overlays
        few = int(hazard_left.sum() + release_left.sum()) < PARALLEL_THRESHOLD
        with using_workers(1) if few else contextlib.nullcontext():  # pools would cost more
            rest, _ = _summary_and_pieces(
                hazards.loc[hazard_left], releases.loc[release_left] if given else None
            )
        rows = rest.set_index(THREAT_LEVEL).loc[list(THREAT_LEVELS)]
        for column in [HAZARD_HA, *METHOD_HA.values()]:
            data[column] += rows[column].to_numpy()
        outside += rest.attrs[RELEASED_OUTSIDE_HA]
    return _with_summary_attrs(_level_rows(data), outside, stamp, frame, hazards)


def _with_summary_attrs(
    table: pd.DataFrame,
    outside_ha: float,
    stamp: pd.Timestamp | None,
    frame: pyproj.CRS,
    hazards: gpd.GeoDataFrame,
) -> pd.DataFrame:
    """``table`` with the summary's attributes (and no others): release outside hazards,
    the ``as_of`` day, the equal-area frame and the hazards' edge convention."""
    table.attrs.clear()
    table.attrs[RELEASED_OUTSIDE_HA] = outside_ha
    table.attrs["as_of"] = None if stamp is None else stamp.date().isoformat()
    table.attrs["area_frame"] = _crs.describe_frame(frame)
    table.attrs["edges"] = hazards.attrs.get("edges", "planar")
    return table


@dataclass
class _SummaryParts:
    """What one summary pass computed, for callers that also need the geometry (maps)."""

    pieces: _HazardPieces
    release_work: np.ndarray  # disjoint release pieces in pieces.work_crs
    release_method: np.ndarray
    remaining_work: np.ndarray | None = None  # hazard pieces minus releases (keep_remaining)


@gc_paused()
def _summary_and_pieces(
    hazards: gpd.GeoDataFrame,
    releases: gpd.GeoDataFrame | None = None,
    *,
    by: str | Sequence[str] | gpd.GeoDataFrame | None = None,
    as_of: object | None = None,
    district_column: str | None = None,
    keep_columns: Sequence[str] = (),
    keep_remaining: bool = False,
    edges: str | None = None,
) -> tuple[pd.DataFrame, _SummaryParts]:
    """The summary table and the pieces it was computed from (no warnings emitted)."""
    stages = 2 if releases is None else 4
    with _progress.task("Land release summary", stages, unit="stage") as bar:
        hazards = _io.with_edges(_as_hazards(hazards), edges)
        releases = _as_releases(releases)
        if releases is not None:
            releases = _io.with_edges(releases, edges)
        stamp = _as_timestamp(as_of)
        districts = None
        if isinstance(by, gpd.GeoDataFrame):
            districts, district_column = _district_layer(by, district_column)
            districts = _io.with_edges(districts, edges)
            by_columns: list[str] = []
            group_columns = [district_column]
        else:
            by_columns = _by_columns(hazards, by)
            group_columns = by_columns
        bar.update()
        bar.set_description("Land release summary (overlapping hazards)")
        frame = _crs.area_frame(hazards, releases, districts)
        carried = list(dict.fromkeys([*by_columns, *keep_columns]))
        work = _crs.work_crs(hazards, districts, releases, frame=frame)
        with SidePool() as side:
            # the releases are flattened beside the hazards (neither needs the other): each
            # runs on all workers, and overlapping them fills the time either spends on one
            ahead = (
                side.submit(_release_work_pieces, releases, work, stamp)
                if releases is not None
                else None
            )
            if (
                releases is not None
                and min(len(hazards), len(releases)) >= _shared_area.MIN_PAIRS // 2
                and _shared_area.worth_measuring(
                    hazards.geometry.to_numpy(), releases.geometry.to_numpy()
                )
            ):
                side.submit(_shared_area.warm_up)  # loads beside the hazards' overlays
            pieces = _hazard_pieces(
                hazards, frame, carried, districts, district_column, others=(releases,)
            )
            bar.update()
            outside = 0.0
            released = np.zeros((len(pieces.area_m2), len(RELEASE_METHODS)))
            remaining = None
            rgeoms = np.empty(0, dtype=object)
            rmethod = np.empty(0, dtype=np.intp)
            if ahead is not None:
                bar.set_description("Land release summary (overlapping releases)")
                rgeoms, rmethod = ahead.result()
                if not pieces.work_crs.equals(work):  # pragma: no cover - one rule decides both
                    rgeoms, rmethod = _release_work_pieces(releases, pieces.work_crs, stamp)
                bar.update()
        if releases is not None:
            bar.set_description("Land release summary (releases in hazards)")
            released, outside, remaining = _release_overlay(
                pieces, rgeoms, rmethod, keep_remaining=keep_remaining
            )
            bar.update()
        elif keep_remaining:
            remaining = pieces.work.copy()

        data = pieces.attrs[[THREAT_LEVEL, *group_columns]].copy()
        data[HAZARD_HA] = pieces.area_m2 / _M2_PER_HA
        for k, method in enumerate(RELEASE_METHODS):
            data[METHOD_HA[method]] = released[:, k] / _M2_PER_HA
        table = _with_summary_attrs(
            _group_table(data, group_columns), outside / _M2_PER_HA, stamp, frame, hazards
        )
        return table, _SummaryParts(pieces, rgeoms, rmethod, remaining)


def _level_rows(data: pd.DataFrame) -> pd.DataFrame:
    sums = data.groupby(THREAT_LEVEL, sort=False)[[HAZARD_HA, *METHOD_HA.values()]].sum()
    sums = sums.reindex(list(THREAT_LEVELS), fill_value=0.0)
    sums.loc[TOTAL] = sums.sum(axis=0)
    return _finish(sums.rename_axis(THREAT_LEVEL).reset_index())


def _group_table(data: pd.DataFrame, group_columns: Sequence[str]) -> pd.DataFrame:
    if not group_columns:
        return _level_rows(data)
    blocks = []
    grouped = data.groupby(list(group_columns), dropna=False, sort=True)
    for key, part in grouped:
        block = _level_rows(part)
        key = key if isinstance(key, tuple) else (key,)
        for column, value in zip(group_columns, key, strict=True):
            block.insert(len(group_columns) - 1 if False else 0, column, value)
        blocks.append(
            block[[*group_columns, *[c for c in block.columns if c not in group_columns]]]
        )
    grand = _level_rows(data).iloc[[-1]].copy()
    for column in group_columns:
        grand.insert(0, column, "all")
    blocks.append(grand[[*group_columns, *[c for c in grand.columns if c not in group_columns]]])
    return pd.concat(blocks, ignore_index=True)


_FREQ_ALIASES = {"Q": "QE", "M": "ME", "Y": "YE", "A": "YE", "W": "W-SUN"}


def progress_over_time(
    hazards: gpd.GeoDataFrame,
    releases: gpd.GeoDataFrame,
    *,
    freq: str = "QE",
    start: object | None = None,
    end: object | None = None,
    edges: str | None = None,
) -> pd.DataFrame:
    """Cumulative land release at the end of each period.

    Parameters
    ----------
    hazards, releases : geopandas.GeoDataFrame
        As for :func:`land_release_summary`.
    freq : str, default "QE"
        Period length as a pandas offset alias (``"ME"``, ``"QE"``, ``"YE"``; the short
        forms ``"M"``, ``"Q"``, ``"Y"`` are accepted too).
    start, end : date-like, optional
        First and last dates to cover; default the first and last release dates.
    edges : {'planar', 'geodesic'}, optional
        As for :func:`land_release_summary`.

    Returns
    -------
    pandas.DataFrame
        One row per period: ``period_end``, ``hazard_ha``, cumulative ``cleared_ha``,
        ``reduced_ha``, ``cancelled_ha``, ``released_ha``, ``remaining_ha``,
        ``percent_cleared``, ``percent_released`` (each as :func:`land_release_summary`
        would give with ``as_of=period_end``), and ``released_in_period_ha``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> hz = gpd.GeoDataFrame({"hazard_id": ["H1"], "threat_level": ["high"]},
    ...     geometry=[box(0, 0, 1000, 1000)], crs=32638)
    >>> rl = gpd.GeoDataFrame({"release_id": ["R1", "R2"], "method": ["cleared", "reduced"],
    ...     "release_date": ["2021-02-01", "2021-05-01"]},
    ...     geometry=[box(0, 0, 500, 1000), box(500, 0, 1000, 1000)], crs=32638)
    >>> progress_over_time(hz, rl)["percent_released"].round(1).tolist()
    [50.0, 100.0]
    """
    hazards = _io.with_edges(_as_hazards(hazards), edges)
    if releases is None:
        raise SchemaError(
            "progress_over_time needs release records (releases=); without them "
            "there is no progress to chart."
        )
    releases = _io.with_edges(_as_releases(releases), edges)
    alias = _FREQ_ALIASES.get(freq.upper(), freq) if isinstance(freq, str) else freq
    try:
        offset = pd.tseries.frequencies.to_offset(alias)
    except ValueError:
        raise SchemaError(
            f"{option_hint('freq', repr(freq))} is not a period length; use "
            "M, Q or Y (or a pandas offset alias such as QE)."
        ) from None
    chosen_first, chosen_last = _as_timestamp(start), _as_timestamp(end)
    first = chosen_first if chosen_first is not None else releases[RELEASE_DATE].min()
    last = chosen_last if chosen_last is not None else releases[RELEASE_DATE].max()
    if offset.n <= 0 or not isinstance(offset, _PERIODS):
        raise SchemaError(
            f"{option_hint('freq', repr(freq))} is not a period of a day or "
            "more; use M, Q or Y (or W for weeks, D for days)."
        )
    span_days = max((last - first).days, 0)
    if span_days / max(offset.n * _PERIOD_DAYS.get(type(offset), 30), 1) > MAX_PERIODS:
        raise SchemaError(
            f"{option_hint('freq', repr(freq))} over {first.date()}.."
            f"{last.date()} makes more than {MAX_PERIODS:,} periods; choose a "
            "longer period (M, Q or Y), or in Python a shorter span with "
            "start=/end=."
        )
    ends = pd.date_range(first, last + offset, freq=offset).normalize()
    ends = ends[: int(np.searchsorted(ends, last, side="left")) + 1]
    frame = _crs.area_frame(hazards, releases)
    pieces = _hazard_pieces(hazards, frame, [], None, None, others=(releases,))
    hazard_ha = pieces.area_m2.sum() / _M2_PER_HA
    geoms = _crs.to_crs_dense(releases.geometry, pieces.work_crs)
    method = _method_index(releases)
    dates = releases[RELEASE_DATE].to_numpy()
    rows = []
    for period_end in _progress.iterate(ends, "Progress over time", unit="period"):
        sel = dates <= np.datetime64(period_end)
        rpieces, source = flatten_merged(geoms[sel], method[sel])
        released, _ = _released_work_m2(pieces, rpieces, method[sel][source].astype(np.intp))
        sums = released.sum(axis=0) / _M2_PER_HA
        rows.append(
            {
                "period_end": period_end,
                HAZARD_HA: hazard_ha,
                **{METHOD_HA[m]: sums[k] for k, m in enumerate(RELEASE_METHODS)},
            }
        )
    table = _finish(pd.DataFrame(rows, columns=["period_end", HAZARD_HA, *METHOD_HA.values()]))
    table["released_in_period_ha"] = table[RELEASED_HA].diff().fillna(table[RELEASED_HA])
    table.attrs.clear()
    table.attrs["freq"] = offset.freqstr
    table.attrs["edges"] = hazards.attrs.get("edges", "planar")
    return table
