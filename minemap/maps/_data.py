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
from minemap._overlay import flatten, polygonal_parts, valid
from minemap.settings import HAZARD_ID, RELEASED_OUTSIDE_HA, THREAT_LEVEL
from minemap.stats import _summary_and_pieces, _SummaryParts

_M2_PER_HA = _crs.M2_PER_HA

THREAT_LABELS = {"high": "High threat", "medium": "Medium threat", "low": "Low threat"}
METHOD_LABELS = {
    "cleared": "Cleared",
    "reduced": "Reduced (technical survey)",
    "cancelled": "Cancelled (non-technical survey)",
}
#: Colours of the layers outside the threat and method palettes (Okabe–Ito and greys).
PRIORITY_COLOUR = "#CC79A7"
#: Edge of priority zones: dark enough to stand out over the high-threat vermillion.
PRIORITY_EDGE = "#6A1B4D"
REMAINING_COLOUR = "#000000"
ROAD_COLOUR = "#4D4D4D"
INFRASTRUCTURE_COLOUR = "#1A1A1A"
RESIDENTIAL_COLOUR = "#999999"
DISTRICT_COLOUR = "#707070"
#: Order of the classes in every legend and layer control (the HTML map's and the static
#: map's): threat levels high first, remaining and released, field evidence (incidents and
#: device finds), then priorities and context.
LEGEND_ORDER = (
    "hazard-high",
    "hazard-medium",
    "hazard-low",
    "grid-high",
    "grid-medium",
    "grid-low",
    "remaining",
    "released-cleared",
    "released-reduced",
    "released-cancelled",
    "incidents",
    "finds",
    "priority",
    "roads",
    "infrastructure",
    "residential",
    "districts",
)


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
    if value is pd.NaT or (
        not isinstance(value, (str, bytes, list, dict, tuple))
        and pd.api.types.is_scalar(value)
        and pd.isna(value)
    ):
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

    @cached_property
    def held(self) -> bool:
        """Whether the equal-area frame holds every hazard piece (each within
        :data:`minemap.crs.FRAME_REACH_DEGREES` of its centre): false for data spread round
        the globe, whose pieces near the frame's antipode cannot be drawn in it."""

        live = self.work[~(shapely.is_missing(self.work) | shapely.is_empty(self.work))]
        if live.size == 0:
            return True
        lon, lat = _crs.lonlat_points(
            gpd.GeoDataFrame(geometry=gpd.GeoSeries(live, crs=self.work_crs))
        )
        return bool(
            _crs.held_by_frame(
                lon, lat, _crs.feature_reach_m(live, self.work_crs), self.frame
            ).all()
        )

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
        remaining = self._parts.remaining_work
        if remaining is None:
            remaining = self.work.copy()
        # a piece is touched when its remaining part is not the piece itself
        touched = np.array(
            [a is not b for a, b in zip(remaining, self.work, strict=True)], dtype=bool
        )
        return remaining, touched

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
            remaining[touched] = _to_frame(self.remaining_work[touched], self.work_crs, self.frame)
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
    table, parts = _summary_and_pieces(
        hazards, releases, keep_columns=[HAZARD_ID], keep_remaining=True
    )
    return Figures(table, parts)


def _to_frame(geoms: np.ndarray, work_crs: pyproj.CRS, frame: pyproj.CRS) -> np.ndarray:
    """``geoms`` (valid in the work CRS) projected into the equal-area frame, valid there.

    Parts of a multipolygon that touch along an edge in longitude/latitude can cross by a
    rounding error once densified and projected; GEOS overlays of such a self-intersecting
    polygon return garbage (a 33.6 ha piece measured 314 ha inside a grid cell). Those few
    are made valid again (their area changes by the rounding error only).
    """
    if geoms.size == 0:
        return geoms
    out = _crs.to_area_frame(gpd.GeoSeries(geoms, crs=work_crs), frame)
    bad = ~(valid(out) | shapely.is_missing(out))
    if bad.any():
        out[bad] = polygonal_parts(
            shapely.make_valid(out[bad], method="structure", keep_collapsed=False)
        )
    return out


def zone_areas_m2(geometry: gpd.GeoSeries, frame: pyproj.CRS) -> tuple[np.ndarray, float]:
    """True area of each priority zone and of their union (m²).

    Zones the equal-area ``frame`` holds (every point within
    :data:`minemap.crs.FRAME_REACH_DEGREES` of its centre: ordinary data) are projected
    (densified) into it and measured there, their overlaps counted once. Zones near the
    frame's antipode (data spread round the globe) never enter it: they are measured where
    they are (:func:`minemap.crs.area_m2`, as :func:`minemap.priority_zones` measures
    ``zone_ha``), their overlaps removed in their own CRS.
    """

    raw = np.asarray(geometry.array, dtype=object)
    crs = pyproj.CRS(geometry.crs)
    lon, lat = _crs.lonlat_points(gpd.GeoDataFrame(geometry=geometry))
    live = ~(shapely.is_missing(raw) | shapely.is_empty(raw))
    held = _crs.held_by_frame(lon, lat, _crs.feature_reach_m(raw, crs), frame) | ~live
    area = np.zeros(len(raw))
    total = 0.0
    sel = np.flatnonzero(held)
    if sel.size:
        geoms = _crs.project_dense(raw[sel], crs, frame)
        area[sel] = shapely.area(geoms)
        total += float(shapely.area(flatten(geoms, np.arange(len(geoms)))).sum())
    rest = np.flatnonzero(~held)
    if rest.size:
        own = raw[rest]
        if crs.is_geographic:
            own = _crs.canonical_lonlat(own, crs)
        area[rest] = _crs.area_m2(own, crs, frame)
        total += float(_crs.area_m2(flatten(own, np.arange(len(own))), crs, frame).sum())
    return area, total


def ha_text(value: float) -> str:
    """Hectares as shown in legends and tooltips."""
    return f"{value:,.2f} ha"
