"""Progress bars for work that can run longer than a couple of seconds.

The one module that knows about the progress library (tqdm). Computations open a
:func:`task` per long operation and move it a few times (per stage, period, layer or
scenario, never per polygon); whether anything is shown is decided here:

1. inside :func:`quiet` (the command line's ``--quiet``): never;
2. :data:`minemap.settings.progress` if set (``True`` or ``False``);
3. the environment variable ``MINEMAP_PROGRESS`` if set (``1`` shows, ``0`` hides);
4. otherwise automatically: shown when standard error is a terminal, or inside a Jupyter
   kernel (a widget when ``ipywidgets`` is installed, text otherwise); hidden in pipes, CI
   logs and test runs.

A bar appears only once its task has run for :data:`DELAY` seconds (the environment
variable ``MINEMAP_PROGRESS_DELAY`` changes it), so quick work never flashes one; it is
written to standard error and erased when the task ends. While a bar is shown, tasks
started inside it show nothing of their own (a file read inside a summary does not draw a
second bar), and a bar whose task sits in one long step still shows its elapsed time.
"""

from __future__ import annotations

import contextlib
import importlib.util
import math
import os
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any, Protocol, TypeVar

from minemap import settings

__all__ = ["DELAY", "NO_BAR", "Bar", "enabled", "iterate", "quiet", "task"]

#: Seconds a task runs before its bar appears (``MINEMAP_PROGRESS_DELAY`` overrides it).
DELAY = 1.0
#: Seconds between redraws of a shown bar that is not moving (its clock keeps running).
HEARTBEAT = 0.5

_T = TypeVar("_T")

# module state, shared by all threads: computations run stages on worker threads, and a
# bar opened on one must silence tasks opened on the others
_lock = threading.Lock()
_quiet_depth = 0
_shown_depth = 0


class Bar(Protocol):
    """What a task's body can do with its bar."""

    def update(self, n: float = 1) -> None:
        """Count ``n`` more units of work done."""

    def set_description(self, text: str) -> None:
        """Say what the task is doing now."""


class _NoBar:
    """The bar of a task that shows nothing: every call returns at once."""

    __slots__ = ()

    def update(self, n: float = 1) -> None:
        return None

    def set_description(self, text: str) -> None:
        return None


#: The bar of a task that shows nothing (also a default for helpers given a bar).
NO_BAR: Bar = _NoBar()


def _env_flag(name: str) -> bool | None:
    value = os.environ.get(name, "").strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    return None


def _in_kernel() -> bool:
    """Whether this process is a Jupyter kernel (an IPython ZMQ shell)."""
    if "ipykernel" not in sys.modules:
        return False
    ipython = sys.modules.get("IPython")
    get_ipython = getattr(ipython, "get_ipython", None)
    if get_ipython is None:
        return False
    try:
        shell = get_ipython()
    except Exception:  # noqa: BLE001 - any failure means: not a kernel we can draw in
        return False
    return type(shell).__name__ == "ZMQInteractiveShell"


def _stderr() -> Any:
    """Where bars are drawn: standard error as it is now (not as it was at import)."""
    return sys.stderr


def _in_test_run() -> bool:
    """Whether a test is running here, or started this process (a notebook's kernel)."""
    return "PYTEST_CURRENT_TEST" in os.environ


def _is_terminal(stream: object) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if callable(isatty) else False
    except (ValueError, OSError):  # a closed or detached stream
        return False


def enabled() -> bool:
    """Whether a task started now would show a bar (once :data:`DELAY` has passed).

    Returns
    -------
    bool
        False inside :func:`quiet`; else :data:`minemap.settings.progress` when it is
        ``True`` or ``False``; else ``MINEMAP_PROGRESS`` (``1`` or ``0``) when set; else
        whether standard error is a terminal or this is a Jupyter kernel, outside test runs.

    Examples
    --------
    >>> from minemap import settings
    >>> settings.progress = False
    >>> enabled()
    False
    >>> settings.progress = None
    """
    if _quiet_depth:
        return False
    if settings.progress is not None:
        return bool(settings.progress)
    chosen = _env_flag("MINEMAP_PROGRESS")
    if chosen is not None:
        return chosen
    if _in_test_run():
        return False
    return _is_terminal(_stderr()) or _in_kernel()


def _delay() -> float:
    text = os.environ.get("MINEMAP_PROGRESS_DELAY", "").strip()
    try:
        value = float(text) if text else DELAY
    except ValueError:
        return DELAY
    return value if math.isfinite(value) and value >= 0 else DELAY


def _fixed_width(stream: object) -> int | None:
    """80 for a terminal that says it is 0 columns wide (a new pseudo-terminal, some CI
    runners), where tqdm would draw nothing; None to follow the terminal's width."""
    try:
        columns = os.get_terminal_size(stream.fileno()).columns  # type: ignore[attr-defined]
    except (AttributeError, ValueError, OSError):
        return None
    return None if columns else 80


def _bar_class() -> Any:
    """tqdm's notebook widget in a Jupyter kernel with ipywidgets, its text bar elsewhere."""
    if _in_kernel() and importlib.util.find_spec("ipywidgets") is not None:
        from tqdm.notebook import tqdm as notebook_tqdm

        return notebook_tqdm
    from tqdm.std import tqdm as text_tqdm

    return text_tqdm


class _Shown:
    """A tqdm bar, redrawn by a background thread while its task sits in one long step."""

    def __init__(self, description: str, total: float | None, unit: str) -> None:
        delay = _delay()
        stream = _stderr()
        width = _fixed_width(stream)
        options: dict[str, Any] = {
            "desc": description,
            "total": total,
            "unit": unit,
            "delay": delay,
            "leave": False,
            "file": stream,
            "dynamic_ncols": width is None,
            "ncols": width,
        }
        if unit == "stage":  # stages differ in length: no rate, no time left, only the count
            options["bar_format"] = "{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}]"
        self._bar = _bar_class()(**options)
        self._delay = delay
        self._stop = threading.Event()
        self._clock = threading.Thread(target=self._tick, name="minemap-progress", daemon=True)
        self._clock.start()

    def _tick(self) -> None:
        if self._stop.wait(self._delay):
            return
        while True:
            with contextlib.suppress(Exception):  # a bar must never break the work
                if self._bar.refresh():
                    # tqdm erases on close only a bar it knows it drew
                    self._bar.last_print_t = getattr(self._bar, "_time", time.time)()
            if self._stop.wait(HEARTBEAT):
                return

    def update(self, n: float = 1) -> None:
        self._bar.update(n)

    def set_description(self, text: str) -> None:
        # no redraw here: before DELAY that would show the bar early
        self._bar.set_description_str(text, refresh=False)

    def close(self, *, complete: bool) -> None:
        self._stop.set()
        self._clock.join()
        total = self._bar.total
        if complete and total is not None and self._bar.n < total:
            self._bar.update(total - self._bar.n)  # a finished task is a full bar
        self._bar.close()


@contextlib.contextmanager
def task(description: str, total: float | None = None, *, unit: str = "step") -> Iterator[Bar]:
    """A progress bar for one long operation, shown only when :func:`enabled`.

    Parameters
    ----------
    description : str
        What the task does, e.g. ``"Land release summary"``.
    total : float, optional
        Units of work in all; without it the bar counts without a percentage.
    unit : str, default "step"
        What one unit is (``"stage"`` shows count and time only, no rate).

    Yields
    ------
    Bar
        Call ``update(n)`` as work is done and ``set_description(text)`` to say what is
        being done. When nothing is shown (see :func:`enabled`), and inside another shown
        task, it is a bar whose calls do nothing.

    Examples
    --------
    >>> with task("Counting", total=3, unit="stage") as bar:
    ...     for _ in range(3):
    ...         bar.update()
    """
    global _shown_depth
    if _shown_depth or not enabled():
        yield NO_BAR
        return
    with _lock:
        _shown_depth += 1
    try:
        shown = _Shown(description, total, unit)
    except Exception:  # noqa: BLE001 - no bar is better than no result
        with _lock:
            _shown_depth -= 1
        yield NO_BAR
        return
    done = False
    try:
        yield shown
        done = True
    finally:
        try:
            shown.close(complete=done)
        finally:
            with _lock:
                _shown_depth -= 1


def iterate(
    iterable: Iterable[_T],
    description: str,
    *,
    total: float | None = None,
    unit: str = "step",
) -> Iterator[_T]:
    """The items of ``iterable``, moving a :func:`task`'s bar one unit per item done.

    Parameters
    ----------
    iterable : iterable
        The work items.
    description : str
        As for :func:`task`.
    total : float, optional
        Number of items (default ``len(iterable)`` when it has one).
    unit : str, default "step"
        As for :func:`task`.

    Yields
    ------
    object
        Each item of ``iterable``, in order.

    Examples
    --------
    >>> [x * 2 for x in iterate([1, 2, 3], "Doubling", unit="number")]
    [2, 4, 6]
    """
    if total is None:
        try:
            total = len(iterable)  # type: ignore[arg-type]
        except TypeError:
            total = None
    with task(description, total, unit=unit) as bar:
        for item in iterable:
            yield item
            bar.update()


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Show no progress bar while the block runs (the command line's ``--quiet``).

    Examples
    --------
    >>> with quiet():
    ...     enabled()
    False
    """
    global _quiet_depth
    with _lock:
        _quiet_depth += 1
    try:
        yield
    finally:
        with _lock:
            _quiet_depth -= 1
