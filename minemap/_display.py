"""Tables as a planner reads them: hectares with thousands separators, percentages with one
decimal, every text value escaped. Shared by notebook display and the report.

>>> import pandas as pd
>>> t = HectareTable({"threat_level": ["high"], "hazard_ha": [147988.0]})
>>> "147,988.0" in t._repr_html_()
True
"""

from __future__ import annotations

import datetime as dt
import html
import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

#: Decimals shown for hectares (0.1 ha = 1,000 m²) and percentages.
HA_DECIMALS = 1
PERCENT_DECIMALS = 1


def format_value(column: str, value: object) -> str:
    """One cell as text: hectares ``1,234.5``, percentages ``12.3``, metres ``1,234``,
    dates ``2025-12-31``, anything else as its text (not escaped here).

    Examples
    --------
    >>> format_value("hazard_ha", 147988)
    '147,988.0'
    >>> format_value("percent_cleared", 50.444)
    '50.4'
    >>> format_value("distance_m", 1234.4)
    '1,234'
    """
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return ""
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, float, np.integer, np.floating)):
        number = float(value)
        if column.endswith("_ha") or column.endswith("hectares"):
            return f"{number:,.{HA_DECIMALS}f}"
        if column.startswith("percent") or column.endswith("_percent"):
            return f"{number:.{PERCENT_DECIMALS}f}"
        if column.endswith("_m") or column == "population":
            return f"{number:,.0f}"
        if isinstance(value, (int, np.integer)):
            return f"{int(number):,}"
        if column.endswith("_share") or column.endswith("score"):
            return f"{number:.3f}"  # shares and scores in one column line up
        if number.is_integer():
            return f"{int(number):,}"
        return f"{number:,.3f}".rstrip("0").rstrip(".")
    return str(value)


#: Header words a reader expects instead of the column names' abbreviations.
_LABEL_WORDS = {"ha": "(ha)", "m": "(m)", "pct": "%", "percent": "%"}


def column_label(column: str) -> str:
    """A column name as a header a reader expects: ``percent_cleared`` -> ``% cleared``,
    ``hazard_ha`` -> ``hazard (ha)``.

    Examples
    --------
    >>> column_label("percent_cleared"), column_label("hazard_ha"), column_label("rank")
    ('% cleared', 'hazard (ha)', 'rank')
    """
    words = [_LABEL_WORDS.get(w, w) for w in column.split("_")]
    return " ".join(words)


def _is_number_column(frame: pd.DataFrame, column: object) -> bool:
    return bool(pd.api.types.is_numeric_dtype(frame[column]))


def table_html(
    frame: pd.DataFrame,
    *,
    caption: str | None = None,
    columns: Sequence[str] | None = None,
    css_class: str = "minemap-table",
    labels: bool = False,
) -> str:
    """``frame`` as an HTML table with every value formatted and escaped.

    Parameters
    ----------
    frame : pandas.DataFrame
        Any table; a ``geometry`` column is left out.
    caption : str, optional
        A caption above the table (escaped).
    columns : sequence of str, optional
        Columns to show, in order (default: all but geometry).
    css_class : str
        Class of the ``<table>`` element.
    labels : bool, default False
        Show headers as words (:func:`column_label`) instead of column names.

    Returns
    -------
    str
        The table; numbers are right-aligned and every text value is HTML-escaped.

    Examples
    --------
    >>> import pandas as pd
    >>> page = table_html(pd.DataFrame({"hazard_id": ["<b>x</b>"], "hazard_ha": [1234.25]}))
    >>> "<td>&lt;b&gt;x&lt;/b&gt;</td>" in page, '<td class="num">1,234.2</td>' in page
    (True, True)
    """
    shown = [c for c in (columns or frame.columns) if c != "geometry"]
    numeric = {c: _is_number_column(frame, c) for c in shown}
    head = "".join(
        f"<th{' class=' + chr(34) + 'num' + chr(34) if numeric[c] else ''}>"
        f"{html.escape(column_label(str(c)) if labels else str(c))}</th>"
        for c in shown
    )
    rows = []
    for values in frame[shown].itertuples(index=False, name=None):
        cells = "".join(
            f"<td{' class=' + chr(34) + 'num' + chr(34) if numeric[c] else ''}>"
            f"{html.escape(format_value(str(c), v))}</td>"
            for c, v in zip(shown, values, strict=True)
        )
        rows.append(f"<tr>{cells}</tr>")
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return (
        f'<table class="{html.escape(css_class)}">{cap}<thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


class HectareTable(pd.DataFrame):
    """A :class:`pandas.DataFrame` that shows itself in Jupyter as a planner reads it.

    Hectares get thousands separators and one decimal, percentages one decimal, and every
    text value is escaped. It is an ordinary DataFrame in every other way; what is derived
    from it (a selection, a sum) is a plain DataFrame again.

    Examples
    --------
    >>> t = HectareTable({"hazard_ha": [1500.0, 2500.0]})
    >>> type(t[t.hazard_ha > 2000]).__name__
    'DataFrame'
    """

    @property
    def _constructor(self) -> type[pd.DataFrame]:
        return pd.DataFrame

    def _repr_html_(self) -> str:
        caption = self.attrs.get("caption")
        return table_html(self, caption=str(caption) if caption else None)


def hectare_table(frame: pd.DataFrame, caption: str | None = None) -> HectareTable:
    """``frame`` (not copied more than once) as a :class:`HectareTable`, attrs kept."""
    table = HectareTable(frame.drop(columns="geometry", errors="ignore").copy())
    table.attrs = dict(frame.attrs)
    if caption:
        table.attrs["caption"] = caption
    return table
