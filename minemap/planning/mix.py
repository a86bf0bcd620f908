"""The release mix: how released land of each threat level has been released.

Of the hectares released so far on ``high``-threat land, some share was cleared, some reduced
by technical survey and some cancelled by non-technical survey; a plan assumes the remaining
land of that level will be released in the same shares. The hectares are counted exactly as
:func:`minemap.land_release_summary` counts them (inside hazards, overlaps once under the
highest threat level, each place once under its strongest method).
"""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd

from minemap._errors import SchemaError
from minemap.settings import (
    METHOD_HA,
    RELEASE_METHODS,
    RELEASED_HA,
    THREAT_LEVEL,
    THREAT_LEVELS,
    TOTAL,
)

__all__ = ["BASIS", "SHARE", "history_hectares", "mix_shares", "mix_table", "release_mix"]

#: Column naming where a level's shares came from.
BASIS = "basis"
#: Share columns, one per method.
SHARE = {m: f"{m}_share" for m in RELEASE_METHODS}
#: Basis values.
HISTORY, ALL_LEVELS, OVERRIDE, NO_HISTORY = "history", "all levels", "override", "no history"


def _check_override(override: Mapping[str, Mapping[str, float]]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for level, shares in override.items():
        if level not in THREAT_LEVELS:
            raise SchemaError(
                f"release_mix: unknown threat level {level!r}; use {list(THREAT_LEVELS)}."
            )
        unknown = [m for m in shares if m not in RELEASE_METHODS]
        if unknown:
            raise SchemaError(
                f"release_mix[{level!r}]: unknown method(s) {unknown}; use {list(RELEASE_METHODS)}."
            )
        values = {m: float(shares.get(m, 0.0)) for m in RELEASE_METHODS}
        if any(not np.isfinite(v) or v < 0 for v in values.values()):
            raise SchemaError(f"release_mix[{level!r}]: shares must be numbers >= 0.")
        if abs(sum(values.values()) - 1.0) > 1e-6:
            raise SchemaError(
                f"release_mix[{level!r}]: shares sum to {sum(values.values()):g}; they must "
                "sum to 1 (e.g. cleared = 0.3, reduced = 0.5, cancelled = 0.2)."
            )
        out[level] = values
    return out


def release_mix(
    hazards: gpd.GeoDataFrame | None,
    releases: gpd.GeoDataFrame | None,
    *,
    as_of: object | None = None,
    override: Mapping[str, Mapping[str, float]] | None = None,
) -> pd.DataFrame:
    """Share of released hectares per method, per threat level.

    Parameters
    ----------
    hazards, releases : geopandas.GeoDataFrame or None
        As for :func:`minemap.land_release_summary`. Without releases there is no history.
    as_of : date-like, optional
        Count only releases dated on or before this day.
    override : mapping, optional
        ``{threat_level: {method: share}}`` to use instead of the history for those levels
        (e.g. :attr:`minemap.planning.Capacity.release_mix`); shares of a level sum to 1.

    Returns
    -------
    pandas.DataFrame
        One row per threat level (``high``, ``medium``, ``low``) and a ``total`` row (the
        all-levels mix): ``threat_level``, ``cleared_ha``, ``reduced_ha``, ``cancelled_ha``,
        ``released_ha`` (history), ``cleared_share``, ``reduced_share``,
        ``cancelled_share`` (summing to 1) and ``basis``: ``"history"`` (the level's own
        releases), ``"all levels"`` (the level has no release history: the mix of all
        levels is used), ``"override"`` (given) or ``"no history"`` (no release at all:
        everything is assumed cleared, the slowest method).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> hz = gpd.GeoDataFrame({"hazard_id": ["H1"], "threat_level": ["high"]},
    ...     geometry=[box(4.3e6, 3.2e6, 4.301e6, 3.201e6)], crs=3035)
    >>> rl = gpd.GeoDataFrame({"release_id": ["R1", "R2"], "method": ["cleared", "reduced"],
    ...     "release_date": ["2021-02-01", "2021-05-01"]},
    ...     geometry=[box(4.3e6, 3.2e6, 4.30025e6, 3.201e6),
    ...               box(4.30025e6, 3.2e6, 4.301e6, 3.201e6)], crs=3035)
    >>> mix = release_mix(hz, rl).set_index("threat_level")
    >>> mix.loc["high", ["cleared_share", "reduced_share"]].astype(float).round(6).tolist()
    [0.25, 0.75]
    >>> mix["basis"].tolist()
    ['history', 'all levels', 'all levels', 'history']
    """
    return mix_table(history_hectares(hazards, releases, as_of=as_of), override)


def history_hectares(
    hazards: gpd.GeoDataFrame | None,
    releases: gpd.GeoDataFrame | None,
    *,
    as_of: object | None = None,
) -> np.ndarray:
    """Released hectares ``[level or total, method]`` as the summary counts them."""
    hectares = np.zeros((len(THREAT_LEVELS) + 1, len(RELEASE_METHODS)))
    if releases is not None and hazards is not None and len(releases):
        from minemap.stats import land_release_summary

        table = land_release_summary(hazards, releases, as_of=as_of).set_index(THREAT_LEVEL)
        rows = table.loc[[*THREAT_LEVELS, TOTAL], [METHOD_HA[m] for m in RELEASE_METHODS]]
        hectares = rows.to_numpy(dtype=float)
    return hectares


def mix_table(
    hectares: np.ndarray, override: Mapping[str, Mapping[str, float]] | None = None
) -> pd.DataFrame:
    """The mix table of :func:`release_mix` from released hectares ``[level|total, method]``."""
    chosen = _check_override(override or {})
    rows = pd.DataFrame({THREAT_LEVEL: [*THREAT_LEVELS, TOTAL]})
    for j, m in enumerate(RELEASE_METHODS):
        rows[METHOD_HA[m]] = hectares[:, j]
    rows[RELEASED_HA] = hectares.sum(axis=1)
    total = hectares[-1]
    if total.sum() > 0:
        fallback, fallback_basis = total / total.sum(), ALL_LEVELS
    else:
        fallback, fallback_basis = np.array([1.0, 0.0, 0.0]), NO_HISTORY
    shares = np.empty_like(hectares)
    basis = []
    for k, level in enumerate(rows[THREAT_LEVEL]):
        if level in chosen:
            shares[k] = [chosen[level][m] for m in RELEASE_METHODS]
            basis.append(OVERRIDE)
        elif hectares[k].sum() > 0:
            shares[k] = hectares[k] / hectares[k].sum()
            basis.append(HISTORY)
        else:
            shares[k] = fallback
            basis.append(fallback_basis if level != TOTAL else NO_HISTORY)
    for j, m in enumerate(RELEASE_METHODS):
        rows[SHARE[m]] = shares[:, j]
    rows[BASIS] = basis
    return rows


def mix_shares(mix: pd.DataFrame) -> np.ndarray:
    """The shares as an array ``[level, method]`` in THREAT_LEVELS x RELEASE_METHODS order."""
    table = mix.set_index(THREAT_LEVEL)
    return table.loc[list(THREAT_LEVELS), [SHARE[m] for m in RELEASE_METHODS]].to_numpy(dtype=float)
