"""Exact figures and display text shared by the HTML and static maps (no folium here).

Hectares are computed exactly as :func:`minemap.land_release_summary` computes them (the same
private helpers, on the full-resolution data in the same equal-area frame); the remaining
hazard geometry is each hazard piece minus the releases overlapping it, on full geometry.
"""

from __future__ import annotations

import datetime as _dt
import math
from functools import cached_property

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from minemap import crs as _crs
from minemap._overlay import intersecting_pairs, parallel, polygonal_parts
from minemap.settings import HAZARD_ID, RELEASED_OUTSIDE_HA, THREAT_LEVEL
from minemap.stats import _summary_and_pieces, _SummaryParts

_M2_PER_HA = _crs.M2_PER_HA

THREAT_LABELS = {"high": "High threat", "medium": "Medium threat", "low": "Low threat"}
METHOD_LABELS = {"cleared": "Cleared", "reduced": "Reduced (technical survey)",
                 "cancelled": "Cancelled (non-technical survey)"}
#: Colours of the layers outside the threat and method palettes (Okabe–Ito and greys).
PRIORITY_COLOUR = "#CC79A7"
REMAINING_COLOUR = "#000000"
ROAD_COLOUR = "#4D4D4D"
INFRASTRUCTURE_COLOUR = "#1A1A1A"
RESIDENTIAL_COLOUR = "#999999"
DISTRICT_COLOUR = "#333333"


def value_text(value: object) -> str:
    """Any attribute value as display text (dates and other non-JSON types included)."""
    if value is None:
        return ""
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        try:
            value = value.item()
        except (ValueError, TypeError, AttributeError):
            pass
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return f"{value:,.6g}" if abs(value) < 1e15 else repr(value)
    if value is pd.NaT or (not isinstance(value, (str, bytes, list, dict, tuple))
                           and pd.api.types.is_scalar(value) and pd.isna(value)):
        return ""
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, _dt.datetime):
        if value.time() == _dt.time(0) and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}" if abs(value) >= 10_000 else str(value)
    return str(value)


class Figures:
    """The exact table plus the geometry it was computed from, projected only on demand.

    The summary pass works in the hazards' own CRS (``work_crs``): the disjoint hazard
    pieces (``work``) and release pieces (``release_work``) come from there. Their
    equal-area-frame versions (``pieces``, ``release_geoms``) and the exact remaining pieces
    (``remaining_work``, ``remaining``) are computed the first time they are used, so a map
    that draws geometry straight from longitude/latitude never pays for them.
    """

    def __init__(self, table: pd.DataFrame, parts: _SummaryParts) -> None:
        self.table = table
        self.outside_ha = float(table.attrs[RELEASED_OUTSIDE_HA])
        self._parts = parts
        self.frame: pyproj.CRS = parts.pieces.frame
        self.work_crs: pyproj.CRS = parts.pieces.work_crs
        self.work: np.ndarray = parts.pieces.work
        self.piece_level: np.ndarray = parts.pieces.attrs[THREAT_LEVEL].to_numpy()
        self.piece_id: np.ndarray = parts.pieces.attrs[HAZARD_ID].to_numpy()
        self.release_work: np.ndarray = parts.release_work
        self.release_method: np.ndarray = parts.release_method
        self.piece_codes: np.ndarray | None = None  # merged-layer display codes, cached

    @cached_property
    def pieces(self) -> np.ndarray:
        """Hazard pieces in the equal-area frame."""
        return self._parts.pieces.geoms

    @cached_property
    def release_geoms(self) -> np.ndarray:
        """Release pieces in the equal-area frame."""
        return _to_frame(self.release_work, self.work_crs, self.frame)

    @cached_property
    def _remaining_parts(self) -> tuple[np.ndarray, np.ndarray]:
        return _remaining(self.work, self.release_work)

    @property
    def remaining_work(self) -> np.ndarray:
        """Each hazard piece minus the releases overlapping it (full geometry, work CRS)."""
        return self._remaining_parts[0]

    @property
    def touched(self) -> np.ndarray:
        """Mask of the pieces some release overlaps (their remaining part differs)."""
        return self._remaining_parts[1]

    @cached_property
    def remaining(self) -> np.ndarray:
        """The remaining pieces in the equal-area frame."""
        remaining = self.pieces.copy()
        touched = self.touched
        if touched.any():
            remaining[touched] = _to_frame(self.remaining_work[touched], self.work_crs,
                                           self.frame)
        return remaining

    def remaining_m2(self, index: np.ndarray) -> np.ndarray:
        """True area (m²) of the remaining pieces ``index``, measured like the summary."""
        return _crs.area_m2(self.remaining_work[index], self.work_crs, self.frame)


def figures(hazards: gpd.GeoDataFrame, releases: gpd.GeoDataFrame | None) -> Figures:
    """Exact hectares (from :func:`minemap.land_release_summary`) and remaining geometry.

    The table is ``land_release_summary(hazards, releases)`` itself. The display pieces
    (hazards made disjoint under their highest threat level, releases under their strongest
    method) come from the same helpers the summary uses; remaining pieces are overlaid in the
    hazards' own CRS, where the summary's overlays run, and projected (densified) into the
    equal-area frame like every measured geometry when a caller asks for them there.
    """
    # one pass gives the table and the pieces it was computed from; release outside every
    # hazard is shown as a legend note instead of a warning
    table, parts = _summary_and_pieces(hazards, releases, keep_columns=[HAZARD_ID])
    return Figures(table, parts)


def _to_frame(geoms: np.ndarray, work_crs: pyproj.CRS, frame: pyproj.CRS) -> np.ndarray:
    if geoms.size == 0:
        return geoms
    return _crs.to_area_frame(gpd.GeoSeries(geoms, crs=work_crs), frame)


def _difference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a - b`` pairwise; a pair GEOS cannot overlay is retried on repaired copies.

    Flattened pieces can hold near-degenerate slivers that trip a TopologyException; the
    retry makes both sides valid and, failing that, snaps them to a 1 mm grid. This only
    shapes display geometry: the figures come from the summary table.
    """
    try:
        return parallel(shapely.difference, a, b)
    except shapely.errors.GEOSException:
        out = np.empty(a.size, dtype=object)
        for k in range(a.size):
            try:
                out[k] = shapely.difference(a[k], b[k])
            except shapely.errors.GEOSException:
                left, right = shapely.make_valid(a[k]), shapely.make_valid(b[k])
                try:
                    out[k] = shapely.difference(left, right)
                except shapely.errors.GEOSException:
                    out[k] = shapely.difference(shapely.set_precision(left, 1e-3),
                                                shapely.set_precision(right, 1e-3))
        return out


def _remaining(pieces: np.ndarray, releases: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each hazard piece minus every release overlapping it (full geometry, one frame).

    Returns the remaining pieces and a mask of the pieces some release touched.
    """
    out = pieces.copy()
    touched_mask = np.zeros(pieces.size, dtype=bool)
    if releases.size == 0 or pieces.size == 0:
        return out, touched_mask
    i, j = intersecting_pairs(pieces, releases)
    if i.size == 0:
        return out, touched_mask
    # a release recorded over exactly a whole piece leaves nothing: no overlay needed
    whole = np.zeros(pieces.size, dtype=bool)
    whole[i[shapely.equals_exact(pieces[i], releases[j], tolerance=0.0)]] = True
    if whole.any():
        touched_mask[whole] = True
        out[whole] = shapely.Polygon()
        rest = ~whole[i]
        i, j = i[rest], j[rest]
        if i.size == 0:
            return out, touched_mask
    order = np.lexsort((j, i))
    i, j = i[order], j[order]
    starts = np.r_[0, np.flatnonzero(np.diff(i)) + 1]
    counts = np.diff(np.r_[starts, i.size])
    rank = np.arange(i.size) - np.repeat(starts, counts)
    for r in range(int(rank.max()) + 1):
        sel = rank == r
        out[i[sel]] = _difference(out[i[sel]], releases[j[sel]])
    touched = np.unique(i)
    out[touched] = polygonal_parts(out[touched])
    touched_mask[touched] = True
    return out, touched_mask




def ha_text(value: float) -> str:
    """Hectares as shown in legends and tooltips."""
    return f"{value:,.2f} ha"
