"""Clearance planning: capacity, the release mix, the schedule and its completion forecast.

* :mod:`minemap.planning.capacity`: :class:`Capacity`, :class:`Asset`, :class:`Range`: the
  assets a programme has and their productivity, from TOML or Python.
"""

from __future__ import annotations

from minemap.planning.capacity import Asset, Capacity, Range

__all__ = ["Asset", "Capacity", "Range"]
