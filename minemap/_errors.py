"""Errors and warnings raised by minemap.

Every error is a :class:`MinemapError`; each subclass also inherits the builtin
exception a Python user would expect (``FileNotFoundError``, ``ValueError``, ...).
Messages name the file, the feature id and how to fix the input.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator


class MinemapError(Exception):
    """Base class of every error minemap raises on purpose."""


class InputFileError(MinemapError, FileNotFoundError):
    """An input file is missing or cannot be opened."""


class FormatError(MinemapError, ValueError):
    """An input file exists but cannot be parsed (malformed, truncated, wrong format)."""


class CRSError(MinemapError, ValueError):
    """A layer has no coordinate reference system, or an unusable one."""


class CoordinateError(MinemapError, ValueError):
    """Coordinates are NaN, infinite or outside the valid bounds of their CRS."""


class SchemaError(MinemapError, ValueError):
    """A required column is missing, or holds values outside the allowed set."""


class GeometryTypeError(MinemapError, ValueError):
    """A feature has the wrong kind of geometry (e.g. a point in a polygon layer)."""


class EmptyLayerError(MinemapError, ValueError):
    """A layer has no features, or none left after repair."""


class RepairError(MinemapError, ValueError):
    """Repairing a feature would change its area by more than the allowed tolerance."""


class DatabaseError(MinemapError, ConnectionError):
    """A database cannot be reached, refuses the login, or lacks the table or column asked
    for. Messages never hold a password."""


class OutputError(MinemapError, OSError):
    """An output file cannot be written."""


class MissingDependencyError(MinemapError, ImportError):
    """An optional dependency is not installed; the message names the extra to install."""


class MinemapWarning(UserWarning):
    """Base class of the warnings minemap emits."""


class RepairWarning(MinemapWarning):
    """Geometries were repaired on read; the message counts rows and area change."""


class DuplicateIdWarning(MinemapWarning):
    """Several features share one id."""


class DataWarning(MinemapWarning):
    """Something in the data deserves attention but does not stop the computation."""


# ------------------------------------------------------------------------------------------
# how messages name options: the Python spelling, and the CLI's next to it when the command
# line is reading (the CLI says which of its options fed which Python argument)
# ------------------------------------------------------------------------------------------

_CLI_SPELLING: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar(
    "minemap_cli_spelling", default=None
)


def option_hint(name: str, example: str = "") -> str:
    """How a message names an option: ``layer=`` in Python, ``--released-layer (Python:
    layer=)`` when the command line is reading.

    Parameters
    ----------
    name : str
        The Python keyword argument, e.g. ``"layer"``.
    example : str, optional
        A value to show, e.g. ``"'EPSG:4326'"``; shown after ``=`` and after the CLI flag
        (``True`` shows the flag alone: it takes no value on the command line).
    """
    python = f"{name}={example}"
    spelling = (_CLI_SPELLING.get() or {}).get(name)
    if spelling is None:
        return python
    value = example.strip(chr(39)).strip('"')
    flag = spelling if not example or example == "True" else f"{spelling} {value}"
    return f"{flag} (Python: {python})"


@contextlib.contextmanager
def cli_spelling(**options: str) -> Iterator[None]:
    """Within this block, messages name each Python option's CLI flag too.

    Examples
    --------
    >>> with cli_spelling(layer="--released-layer"):
    ...     option_hint("layer")
    '--released-layer (Python: layer=)'
    >>> option_hint("layer")
    'layer='
    """
    token = _CLI_SPELLING.set({**(_CLI_SPELLING.get() or {}), **options})
    try:
        yield
    finally:
        _CLI_SPELLING.reset(token)
