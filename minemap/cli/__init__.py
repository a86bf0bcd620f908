"""The ``minemap`` command line: a thin layer over the Python API.

One module per command (``summary``, ``progress``, ``map``, ``priority``, ...), each with a
``register(subparsers)`` function that :func:`minemap.cli.main.build_parser` finds on its
own: adding a command adds one module and touches nothing else. Options that several
commands share are defined once in :mod:`minemap.cli.options`; reading inputs, checking and
writing outputs and formatting tables live in :mod:`minemap.cli.helpers`.

Any :class:`~minemap.MinemapError` becomes one line on stderr and exit status 2.
"""

from __future__ import annotations

from minemap.cli.main import build_parser, main, run

__all__ = ["build_parser", "main", "run"]
