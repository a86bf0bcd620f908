"""New matplotlib figures that show themselves in Jupyter, without pyplot.

minemap's charts and static maps are plain :class:`matplotlib.figure.Figure` objects, not
pyplot figures: a script that makes a hundred maps keeps no figure alive, and a notebook
does not draw a chart twice (once when pyplot flushes it at the end of the cell, once as
the cell's value). IPython only knows how to show a plain Figure once pyplot's inline
backend has been loaded, so :func:`new_figure` registers the PNG display for Figure with
the running IPython shell (if any) the first time a chart is made.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _figure_png(fig: Figure) -> bytes:
    """The figure as PNG bytes, as a notebook shows it (trimmed to what is drawn)."""
    import io

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    return buffer.getvalue()


def show_in_notebooks() -> None:
    """Let the running IPython shell (a Jupyter kernel) display a plain Figure as PNG.

    Nothing happens outside IPython, or when the shell already displays figures (after
    ``%matplotlib inline``).

    Examples
    --------
    >>> show_in_notebooks()  # outside IPython: nothing to do
    """
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is None:
        return
    from matplotlib.figure import Figure

    formatter = shell.display_formatter.formatters["image/png"]
    if not _known(formatter, Figure):
        formatter.for_type(Figure, _figure_png)


def _known(formatter: Any, kind: type) -> bool:
    try:
        formatter.lookup_by_type(kind)
    except KeyError:
        return False
    return True


def new_figure(**options: Any) -> Figure:
    """A plain matplotlib Figure (``options`` as for :class:`~matplotlib.figure.Figure`)
    that a notebook shows when it is a cell's value.

    Examples
    --------
    >>> fig = new_figure(figsize=(4, 3), layout="constrained")
    >>> fig.get_size_inches().tolist()
    [4.0, 3.0]
    """
    from matplotlib.figure import Figure

    show_in_notebooks()
    return Figure(**options)
