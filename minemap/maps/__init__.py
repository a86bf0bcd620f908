"""Maps of contamination and land release: interactive HTML and static figures.

* :func:`hazard_map` builds an interactive :class:`folium.Map` (switchable layers, a legend
  in exact hectares, tooltips, offline-capable); :func:`save_map` writes it as one HTML file
  and :func:`map_html` returns that HTML as text (:mod:`minemap.maps.interactive`).
* :func:`plot_map` draws the same layers with matplotlib for reports
  (:mod:`minemap.maps.static`).
* :mod:`minemap.maps.settings` says how maps show in a notebook (Leaflet inlined by
  default, so they draw without a network).

Figures always come from the full-resolution data; display geometry is simplified only
for drawing. folium is imported only by this package.
"""

from __future__ import annotations

from minemap._extras import require

require("folium", extra="maps", purpose="the map")

from minemap.maps import settings  # noqa: E402 - only once folium is known to be there
from minemap.maps.interactive import (  # noqa: E402
    DEFAULT_TOLERANCE_M,
    FEATURE_BUDGET,
    hazard_map,
    map_html,
    save_map,
)
from minemap.maps.static import plot_map  # noqa: E402

__all__ = [
    "DEFAULT_TOLERANCE_M",
    "FEATURE_BUDGET",
    "hazard_map",
    "map_html",
    "plot_map",
    "save_map",
    "settings",
]
