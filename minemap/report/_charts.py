"""Charts and the static map of the report, as PNG images embedded in the page."""

from __future__ import annotations

import base64
import io
from typing import TYPE_CHECKING

import geopandas as gpd

from minemap._extras import require

if TYPE_CHECKING:
    from matplotlib.figure import Figure, SubFigure

#: Resolution of the embedded images: sharp on an A4 print, small enough for e-mail.
DPI = 150


def png_data_uri(fig: Figure | SubFigure) -> str:
    """The figure as a ``data:image/png;base64,...`` URI (closed afterwards).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> png_data_uri(fig)[:22]
    'data:image/png;base64,'
    """
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure = fig.figure if hasattr(fig, "figure") and fig.figure is not None else fig
    # savefig on the top-level figure; a SubFigure has no savefig of its own
    figure.savefig(  # type: ignore[union-attr]
        buffer, format="png", dpi=DPI, bbox_inches="tight", metadata={"Software": None}
    )
    plt.close(figure)  # type: ignore[arg-type]
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def grid_figure(grid: gpd.GeoDataFrame, *, title: str) -> Figure:
    """The generalised public grid as a static choropleth of remaining hectares per cell.

    Only the cells are drawn (no hazard outline), in an equal-area frame centred on them.
    """
    require("matplotlib", extra="maps", purpose="the report's charts")
    import matplotlib.pyplot as plt

    from minemap import crs as _crs

    fig, ax = plt.subplots(figsize=(8.0, 6.5))
    shown = grid[grid["remaining_ha"] > 0]
    if len(shown):
        frame = _crs.area_frame(shown)
        shown.to_crs(frame).plot(
            ax=ax,
            column="remaining_ha",
            cmap="OrRd",
            legend=True,
            legend_kwds={"label": "remaining hazard area per cell (ha)", "shrink": 0.7},
            edgecolor="#555555",
            linewidth=0.3,
        )
    ax.set_axis_off()
    ax.set_title(title)
    return fig
