"""Independent area oracle for the tests: geodesic areas with ``pyproj.Geod``.

Nothing here imports minemap. Every figure minemap reports is checked against these
helpers, which follow the known pitfalls of geodesic area (docs/areas.md):

* polygons are oriented (``shapely.orient_polygons``) and the absolute value taken, because
  ``Geod.geometry_area_perimeter`` returns a signed area following ring orientation;
* geometries given in a projected CRS are densified finely in that CRS (10 m) before they are
  transformed to EPSG:4326, so their straight edges stay straight where they were drawn;
* lon/lat geometries are densified finely in degrees (0.0005°) so that the geodesic edges
  ``Geod`` assumes follow the straight lon/lat edges the data means;
* overlay rules (threat precedence, release precedence, release outside hazards) are
  computed with plain shapely unions and differences in EPSG:4326 — fine for the small
  fixtures used in the tests.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import geopandas as gpd
import numpy as np
import pyproj
import shapely
import shapely.affinity

GEOD = pyproj.Geod(ellps="WGS84")
#: Densification step for projected coordinates, metres.
STEP_METRES = 10.0
#: Densification step for geographic coordinates, degrees.
STEP_DEGREES = 0.0005
#: Relative tolerance for every hectare figure (0.01 %).
REL = 1e-4
#: Absolute tolerance (ha) for figures the oracle says are zero or tiny. Where two polygons
#: share a boundary in their source CRS, minemap's densified chords (0.01°, 1 km) of that
#: boundary differ by centimetres in the equal-area frame, which leaves slivers of square
#: metres on the other side (tens of m² along kilometres of shared boundary); 50 m² — the
#: threshold under which minemap itself stays silent about release outside hazards — is far
#: below anything a report would show.
ABS_HA = 5e-3
LEVELS = ("high", "medium", "low")
METHODS = ("cleared", "reduced", "cancelled")


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    """Only the polygon parts of ``geom`` (overlay results can hold lines and points)."""
    if geom is None or geom.is_empty:
        return shapely.Polygon()
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in {"Polygon", "MultiPolygon"}]
    polys = []
    for p in parts:
        polys.extend(shapely.get_parts(p))
    if not polys:
        return shapely.Polygon()
    return shapely.MultiPolygon(polys) if len(polys) > 1 else polys[0]


def geod_area_m2(geom_lonlat: shapely.Geometry, *, step: float = STEP_DEGREES) -> float:
    """Geodesic area (m²) of a lon/lat geometry, densified by ``step`` degrees first."""
    geom = _polygonal(geom_lonlat)
    if geom.is_empty:
        return 0.0
    dense = shapely.segmentize(geom, step)
    dense = shapely.orient_polygons(dense)
    total = 0.0
    for part in shapely.get_parts(dense):  # each part separately: no cancellation
        area, _ = GEOD.geometry_area_perimeter(part)
        total += abs(area)
    return total


def geod_area_ha(geom_lonlat: shapely.Geometry, *, step: float = STEP_DEGREES) -> float:
    """Geodesic area in hectares of a lon/lat geometry."""
    return geod_area_m2(geom_lonlat, step=step) / 1e4


def to_lonlat(geoms: Iterable[shapely.Geometry] | gpd.GeoSeries, crs: object) -> list:
    """Densify geometries in their own CRS and return them in EPSG:4326 (lon, lat)."""
    series = gpd.GeoSeries(list(geoms), crs=crs)
    src = pyproj.CRS(crs)
    if src.is_geographic:
        dense = series
    else:
        dense = gpd.GeoSeries(shapely.segmentize(np.asarray(series.array), STEP_METRES), crs=crs)
    out = dense.to_crs(4326)
    return [_split_at_antimeridian(g) for g in out.array]


def _split_at_antimeridian(geom: shapely.Geometry) -> shapely.Geometry:
    """Cut a lon/lat geometry that wraps across 180° (spans > 180° of longitude) in two."""
    if geom is None or geom.is_empty:
        return geom
    minx, _, maxx, _ = geom.bounds
    if maxx - minx <= 180.0:
        return geom
    shifted = shapely.transform(
        geom,
        lambda xy: np.column_stack([np.where(xy[:, 0] < 0, xy[:, 0] + 360.0, xy[:, 0]), xy[:, 1]]),
    )
    east = shapely.intersection(shifted, shapely.box(0.0, -90.0, 180.0, 90.0))
    west = shapely.affinity.translate(
        shapely.intersection(shifted, shapely.box(180.0, -90.0, 360.0, 90.0)), xoff=-360.0
    )
    return union([east, west])


def layer_lonlat(gdf: gpd.GeoDataFrame) -> list:
    """The geometries of a layer in lon/lat, densified in their own CRS first."""
    return to_lonlat(gdf.geometry.array, gdf.crs)


def area_ha(geom: shapely.Geometry, crs: object) -> float:
    """True area (ha) of one geometry given in ``crs``."""
    return geod_area_ha(to_lonlat([geom], crs)[0])


def union(geoms: Sequence[shapely.Geometry]) -> shapely.Geometry:
    """Union of lon/lat geometries (empty polygon for none)."""
    geoms = [g for g in geoms if g is not None and not g.is_empty]
    if not geoms:
        return shapely.Polygon()
    return _polygonal(shapely.union_all(geoms))


def level_regions(hazards_ll: Sequence[shapely.Geometry], levels: Sequence[str]) -> dict:
    """Disjoint region per threat level: each place under its highest level."""
    regions: dict[str, shapely.Geometry] = {}
    above = shapely.Polygon()
    for level in LEVELS:
        mine = union([g for g, lvl in zip(hazards_ll, levels, strict=True) if lvl == level])
        regions[level] = _polygonal(shapely.difference(mine, above))
        above = union([above, mine])
    return regions


def method_regions(releases_ll: Sequence[shapely.Geometry], methods: Sequence[str]) -> dict:
    """Disjoint region per release method: each place under its strongest method."""
    regions: dict[str, shapely.Geometry] = {}
    above = shapely.Polygon()
    for method in METHODS:
        mine = union([g for g, m in zip(releases_ll, methods, strict=True) if m == method])
        regions[method] = _polygonal(shapely.difference(mine, above))
        above = union([above, mine])
    return regions


def summary(
    hazards_ll: Sequence[shapely.Geometry],
    levels: Sequence[str],
    releases_ll: Sequence[shapely.Geometry] = (),
    methods: Sequence[str] = (),
) -> dict:
    """Expected land-release summary in hectares, from lon/lat geometries.

    Returns ``{level: {hazard_ha, cleared_ha, reduced_ha, cancelled_ha, released_ha,
    remaining_ha}}`` for each level and ``"total"``, plus key ``"outside"`` holding the
    released hectares outside every hazard.
    """
    hz = level_regions(hazards_ll, levels)
    rl = method_regions(releases_ll, methods)
    out = _rows(hz, rl)
    all_hazard = union(list(hz.values()))
    all_release = union(list(rl.values()))
    out["outside"] = geod_area_ha(shapely.difference(all_release, all_hazard))
    out["release_union"] = geod_area_ha(all_release)
    return out


def summary_of_layers(
    hazards: gpd.GeoDataFrame,
    releases: gpd.GeoDataFrame | None = None,
    *,
    level_column: str = "threat_level",
    method_column: str = "method",
) -> dict:
    """:func:`summary` for raw layers in any CRS (levels and methods normalised)."""
    levels = [str(v).strip().lower() for v in hazards[level_column]]
    if releases is None:
        return summary(layer_lonlat(hazards), levels)
    methods = [str(v).strip().lower() for v in releases[method_column]]
    return summary(layer_lonlat(hazards), levels, layer_lonlat(releases), methods)


def flatten(geoms: Sequence[shapely.Geometry], keys: Sequence) -> list:
    """Disjoint pieces: each place goes to the geometry with the lowest key (ties: first)."""
    order = sorted(range(len(geoms)), key=lambda k: (keys[k], k))
    pieces: list = [None] * len(geoms)
    taken = shapely.Polygon()
    for k in order:
        pieces[k] = _polygonal(shapely.difference(geoms[k], taken))
        taken = union([taken, geoms[k]])
    return pieces


def _rows(regions: dict, release_regions: dict) -> dict:
    """Summary rows (ha) for ``{level: region}`` against ``{method: region}``."""
    out: dict = {}
    for level in LEVELS:
        region = regions.get(level, shapely.Polygon())
        row = {"hazard_ha": geod_area_ha(region)}
        for method in METHODS:
            row[f"{method}_ha"] = geod_area_ha(
                shapely.intersection(region, release_regions[method])
            )
        row["released_ha"] = sum(row[f"{m}_ha"] for m in METHODS)
        row["remaining_ha"] = row["hazard_ha"] - row["released_ha"]
        out[level] = row
    out["total"] = {k: sum(out[lvl][k] for lvl in LEVELS) for k in out["high"]}
    return out


def grouped_summary(
    hazards_ll: Sequence[shapely.Geometry],
    levels: Sequence[str],
    groups: Sequence,
    releases_ll: Sequence[shapely.Geometry] = (),
    methods: Sequence[str] = (),
) -> dict:
    """Expected summary per group of a hazard column: ``{group: {level: row}}``.

    A place covered by several hazards goes to the highest level, then to the first row.
    """
    rank = [LEVELS.index(lvl) for lvl in levels]
    pieces = flatten(list(hazards_ll), rank)
    rl = method_regions(releases_ll, methods)
    out: dict = {}
    for group in sorted(set(groups), key=str):
        regions = {
            level: union(
                [
                    p
                    for p, g, lvl in zip(pieces, groups, levels, strict=True)
                    if g == group and lvl == level
                ]
            )
            for level in LEVELS
        }
        out[group] = _rows(regions, rl)
    return out


def district_summary(
    hazards_ll: Sequence[shapely.Geometry],
    levels: Sequence[str],
    districts_ll: Sequence[shapely.Geometry],
    names: Sequence[str],
    releases_ll: Sequence[shapely.Geometry] = (),
    methods: Sequence[str] = (),
    outside_name: str = "(outside districts)",
) -> dict:
    """Expected summary per district polygon (first district wins where they overlap)."""
    hz = level_regions(hazards_ll, levels)
    rl = method_regions(releases_ll, methods)
    dpieces = flatten(list(districts_ll), list(range(len(districts_ll))))
    out: dict = {}
    for name in sorted(set(names)):
        area = union([p for p, n in zip(dpieces, names, strict=True) if n == name])
        out[name] = _rows(
            {lvl: _polygonal(shapely.intersection(hz[lvl], area)) for lvl in LEVELS}, rl
        )
    everywhere = union(list(districts_ll))
    out[outside_name] = _rows(
        {lvl: _polygonal(shapely.difference(hz[lvl], everywhere)) for lvl in LEVELS}, rl
    )
    return out
