"""Clearance planning: capacity, the release mix, the schedule and its completion forecast.

* :mod:`minemap.planning.capacity`: :class:`Capacity`, :class:`Asset`, :class:`Range`: the
  assets a programme has and their productivity, from TOML or Python
  (:meth:`Capacity.from_toml`, :meth:`Capacity.from_dict`; the checks live in
  :mod:`minemap.planning.capacity_file`).
* :mod:`minemap.planning.template`: :func:`capacity_template`, a commented capacity file
  with cited illustrative defaults (``minemap capacity-template``).
"""

from __future__ import annotations

from minemap.planning.capacity import Asset, Capacity, Range
from minemap.planning.template import capacity_template

__all__ = ["Asset", "Capacity", "Range", "capacity_template"]
