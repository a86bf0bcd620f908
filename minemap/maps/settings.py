"""Presentation settings of minemap's maps: set them once, e.g. at the top of a notebook.

Examples
--------
>>> from minemap.maps import settings
>>> settings.notebook
'inline'
"""

from __future__ import annotations

#: How a map from :func:`minemap.maps.hazard_map` shows itself in a notebook (its
#: ``_repr_html_``); a map's own ``notebook`` attribute, when set, wins over this.
#:
#: * ``"inline"`` (default): Leaflet's JavaScript and CSS are put into the notebook output
#:   (about 150 kB per displayed map), so the map draws with no network, as in a field
#:   office. A web basemap is still requested; without a network the map is drawn on a
#:   plain background.
#: * ``"offline"``: exactly the page ``save_map(m, path, offline=True)`` writes: Leaflet
#:   inlined, web tile layers dropped, no network request at all.
#: * ``"cdn"``: Leaflet is loaded from its CDN, as ``save_map(m, path)`` does: smaller
#:   notebooks, but the map stays blank without internet.
notebook: str = "inline"
