"""The plain-geopandas way of the land-release summary, shared by the benchmarks.

What a GIS analyst would write: read, ``dissolve`` by threat level, differences for
precedence, ``geopandas.overlay`` with the releases dissolved by method, and ``.area`` in a
projected CRS. ``explode=True`` is the stronger way: the dissolved multipolygons are
exploded into their parts before ``overlay``, so its spatial index pairs parts, not three
country-sized multipolygons (1.7x faster at 10,000 hazards, same hectares).
``equal_area=True`` measures in a Lambert azimuthal equal-area frame centred on the data
instead of UTM (whose scale error grows to ~0.5 % a few degrees from its central meridian),
which costs the same.
"""

from __future__ import annotations

import time
from pathlib import Path

LEVELS = ("high", "medium", "low")
METHODS = ("cleared", "reduced", "cancelled")


def _frame(hazards: object, equal_area: bool) -> object:
    import pyproj

    if not equal_area:
        return hazards.estimate_utm_crs()  # type: ignore[attr-defined]
    x0, y0, x1, y1 = hazards.total_bounds  # type: ignore[attr-defined]
    lon, lat = pyproj.Transformer.from_crs(
        hazards.crs,  # type: ignore[attr-defined]
        4326,
        always_xy=True,
    ).transform((x0 + x1) / 2, (y0 + y1) / 2)
    return pyproj.CRS.from_proj4(f"+proj=laea +lat_0={lat} +lon_0={lon} +datum=WGS84 +units=m")


def run_plain(
    hz: Path, rl: Path, *, explode: bool = False, equal_area: bool = False
) -> dict[str, float]:
    """Read both files and summarise; hectares per level, cleared and released, seconds."""
    import geopandas as gpd
    import pandas as pd

    start = time.perf_counter()
    hazards = gpd.read_parquet(hz)
    releases = gpd.read_parquet(rl)
    hazards["threat_level"] = hazards["threat_level"].str.strip().str.lower()
    frame = _frame(hazards, equal_area)
    hazards, releases = hazards.to_crs(frame), releases.to_crs(frame)
    levels = hazards.dissolve("threat_level")
    high = levels.geometry.get("high")
    medium = levels.geometry.get("medium").difference(high)
    low = levels.geometry.get("low").difference(high.union(levels.geometry.get("medium")))
    flat = gpd.GeoDataFrame({"threat_level": list(LEVELS)}, geometry=[high, medium, low], crs=frame)
    methods = releases.dissolve("method")
    cleared = methods.geometry.get("cleared")
    reduced = methods.geometry.get("reduced").difference(cleared)
    cancelled = methods.geometry.get("cancelled").difference(
        cleared.union(methods.geometry.get("reduced"))
    )
    released = gpd.GeoDataFrame(
        {"method": list(METHODS)}, geometry=[cleared, reduced, cancelled], crs=frame
    )
    if explode:
        flat = flat.explode(index_parts=False)
        released = released.explode(index_parts=False)
    both = gpd.overlay(flat, released, how="intersection")
    both["ha"] = both.area / 1e4
    by_method = both.groupby("method")["ha"].sum()
    seconds = time.perf_counter() - start
    ha = (flat.area / 1e4).groupby(flat["threat_level"]).sum()
    return {
        "seconds": seconds,
        **{f"{lvl}_ha": float(ha.get(lvl, 0.0)) for lvl in LEVELS},
        "cleared_ha": float(by_method.get("cleared", 0.0)),
        "released_ha": float(pd.Series(by_method).sum()),
    }
