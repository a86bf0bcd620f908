"""Optional dependencies, imported where they are used, with one line naming the extra.

The computation (reading, validation, summary, progress, priority zones, ranking, field
evidence) needs only the core dependencies (scipy among them, for exact Poisson intervals).
Maps and charts, the population raster and the synthetic generator pull heavier packages,
declared as extras in ``pyproject.toml``:

========== ============================================ ====================================
extra      packages                                     what needs them
========== ============================================ ====================================
maps       folium (branca, jinja2), xstatic-leaflet,    interactive and static maps, charts
           matplotlib
population rasterio, exactextract                       ranking's population criterion
synthetic  rasterio (scipy is a core dependency)          :mod:`minemap.synthetic`,
                                                        :func:`minemap.sample_data`
dask       dask, distributed, dask-geopandas            :mod:`minemap.partitioned` (summary
                                                        and zones on a Dask cluster)
fast       numba                                        the summary measured without
                                                        overlays (:mod:`minemap._shared_area`,
                                                        :mod:`minemap._precedence_area`;
                                                        GEOS overlays without it)
all        every extra above
========== ============================================ ====================================
"""

from __future__ import annotations

import importlib

from minemap._errors import MissingDependencyError

#: The package to install (its name on PyPI) for each module minemap imports optionally.
DISTRIBUTIONS = {
    "folium": "folium",
    "branca": "branca",
    "jinja2": "jinja2",
    "xstatic.pkg.leaflet": "xstatic-leaflet",
    "matplotlib": "matplotlib",
    "rasterio": "rasterio",
    "exactextract": "exactextract",
    "weasyprint": "weasyprint",
    "dask": "dask",
    "distributed": "distributed",
    "dask_geopandas": "dask-geopandas",
    "psycopg": "psycopg",
    "numba": "numba",
}


def require(*modules: str, extra: str, purpose: str) -> None:
    """Import ``modules`` or raise one line saying which extra installs them.

    Parameters
    ----------
    *modules : str
        Module names, e.g. ``"folium"``.
    extra : str
        The extra of ``minemap`` that declares them, e.g. ``"maps"``.
    purpose : str
        What needs them, for the message, e.g. ``"interactive maps"``.

    Raises
    ------
    MissingDependencyError
        If any module cannot be imported; also an :class:`ImportError`.

    Examples
    --------
    >>> require("json", extra="maps", purpose="a test")
    >>> try:
    ...     require("not_there", extra="maps", purpose="it")
    ... except MissingDependencyError as error:
    ...     print(error)
    it needs not_there, which is not installed; install it with: pip install 'minemap[maps]'
    """
    missing = []
    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError:
            missing.append(DISTRIBUTIONS.get(module, module))
    if missing:
        verb = "is" if len(missing) == 1 else "are"
        raise MissingDependencyError(
            f"{purpose} needs {', '.join(missing)}, which {verb} not installed; "
            f"install it with: pip install 'minemap[{extra}]'"
        )
