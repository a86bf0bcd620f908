"""Static charts for reports (matplotlib is imported here and only here among charts)."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import pandas as pd

from minemap._extras import require

if TYPE_CHECKING:  # matplotlib is the 'maps' extra, imported when a chart is drawn
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
from minemap.settings import (
    CANCELLED_HA,
    CLEARED_HA,
    HAZARD_HA,
    METHOD_COLOURS,
    PERCENT_RELEASED,
    REDUCED_HA,
)


def period_labels(ends: pd.Series, freq: str | None) -> list[str]:
    """Readable labels for period ends: ``2021-Q1``, ``2021-03`` or ``2021``."""
    ends = pd.to_datetime(pd.Series(ends))
    code = (freq or "").upper()
    if code.startswith("Q"):
        return [f"{d.year}-Q{d.quarter}" for d in ends]
    if code.startswith(("Y", "A")):
        return [str(d.year) for d in ends]
    if code.startswith("M"):
        return [f"{d.year}-{d.month:02d}" for d in ends]
    return [d.date().isoformat() for d in ends]


def plot_progress(
    progress: pd.DataFrame, *, title: str | None = None, ax: Axes | None = None
) -> Figure:
    """Chart cumulative land release over time, ready to paste into a report.

    Stacked areas show cumulative cleared, reduced and cancelled hectares; a line on the
    right-hand axis shows the percentage of hazard area released.

    Parameters
    ----------
    progress : pandas.DataFrame
        Output of :func:`minemap.progress_over_time`.
    title : str, optional
        Chart title; defaults to "Land release over time".
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure is made by default.

    Returns
    -------
    matplotlib.figure.Figure
        The figure (save it with ``fig.savefig("progress.png", dpi=200)``).

    Examples
    --------
    >>> import pandas as pd
    >>> p = pd.DataFrame({"period_end": pd.to_datetime(["2021-03-31", "2021-06-30"]),
    ...     "hazard_ha": [10.0, 10.0], "cleared_ha": [1.0, 2.0], "reduced_ha": [0.5, 1.0],
    ...     "cancelled_ha": [0.0, 1.0], "percent_released": [15.0, 40.0]})
    >>> fig = plot_progress(p)
    >>> len(fig.axes)
    2
    """
    require("matplotlib", extra="maps", purpose="the progress chart")
    import matplotlib

    if ax is None:
        matplotlib.use(matplotlib.get_backend())
        from minemap._figures import new_figure

        fig = new_figure(figsize=(8, 4.5), layout="constrained")
        ax = fig.add_subplot()
    else:
        fig = cast("Figure", ax.figure)  # an axes of the caller's figure
    ends = pd.to_datetime(progress["period_end"])
    labels = period_labels(ends, progress.attrs.get("freq"))
    x = list(range(len(ends)))
    bottom = [0.0] * len(x)
    names = {
        "cleared": "cleared",
        "reduced": "reduced (technical survey)",
        "cancelled": "cancelled (non-technical survey)",
    }
    for method, column in (
        ("cleared", CLEARED_HA),
        ("reduced", REDUCED_HA),
        ("cancelled", CANCELLED_HA),
    ):
        values = progress[column].to_numpy()
        ax.bar(
            x, values, bottom=bottom, color=METHOD_COLOURS[method], label=names[method], width=0.8
        )
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    step = max(1, len(x) // 12)
    ax.set_xticks(
        x[::step],
        labels[::step],
        rotation=45 if len(x) > 6 else 0,
        ha="right" if len(x) > 6 else "center",
    )
    ax.set_ylabel("cumulative land released (ha)")
    ax.set_xlabel("end of period")
    ax.set_ylim(0, max(max(bottom, default=0.0), 1e-9) * 1.12)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    ax.yaxis.set_major_formatter(matplotlib.ticker.StrMethodFormatter("{x:,.0f}"))
    right = ax.twinx()
    right.plot(
        x,
        progress[PERCENT_RELEASED],
        color="black",
        linewidth=1.8,
        marker="o",
        markersize=3,
        label="% of hazard area released",
    )
    right.set_ylabel("% of hazard area released")
    right.set_ylim(0, 100)
    handles, labels = ax.get_legend_handles_labels()
    h2, l2 = right.get_legend_handles_labels()
    ax.legend(handles + h2, labels + l2, loc="upper left", fontsize="small", frameon=False)
    hazard = float(progress[HAZARD_HA].iloc[-1]) if len(progress) else 0.0
    ax.set_title(title or f"Land release over time (hazard area {hazard:,.0f} ha)")
    return fig
