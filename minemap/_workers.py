"""How many worker threads minemap's geometry kernel uses.

Every heavy step of a computation is a shapely array function (intersections, differences,
tree searches, areas) applied to many geometries at once. Shapely releases Python's global
interpreter lock inside those functions, so a pool of **threads** runs them on several cores
at once while every thread reads the same geometry arrays in memory: nothing is copied or
pickled between processes, and a process pool or Dask's local scheduler would pay that
copying for every chunk of every step. :func:`minemap._overlay.parallel` cuts an
element-wise operation into one chunk per worker; since each element's result depends
only on that element, the figures are the same, to the last bit, whatever the number of
workers.

The number is chosen per call (``workers=`` of the public functions, ``--workers`` of the
command line) and held in a :class:`contextvars.ContextVar` for the length of the call, so
concurrent calls (threads, notebooks) each keep their own. With one worker no thread pool
is started at all.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from minemap._errors import SchemaError, option_hint

_T = TypeVar("_T")

#: More threads than this is refused (each chunk of an operation gets a thread of its own).
MAX_WORKERS = 1_024

_WORKERS: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "minemap_workers", default=None
)


def available_cores() -> int:
    """The number of cores this process may run on.

    Returns
    -------
    int
        The size of the process's CPU affinity set where the system reports one (Linux:
        a container or ``taskset`` may allow fewer cores than the machine has), else
        :func:`os.cpu_count`; at least 1.

    Examples
    --------
    >>> available_cores() >= 1
    True
    """
    affinity = getattr(os, "sched_getaffinity", None)
    if affinity is not None:
        try:
            return max(len(affinity(0)), 1)
        except OSError:  # pragma: no cover - a platform that lists the call but refuses it
            pass
    return max(os.cpu_count() or 1, 1)


def resolve_workers(value: object, option: str = "workers") -> int:
    """The number of worker threads ``value`` asks for.

    Parameters
    ----------
    value : int or None
        ``None`` for every core this process may use (:func:`available_cores`), or a whole
        number from 1 to :data:`MAX_WORKERS` (more than the cores is allowed: the threads
        then share them).
    option : str, default "workers"
        The option's name, for the message.

    Returns
    -------
    int
        The number of workers.

    Raises
    ------
    SchemaError
        ``value`` is not ``None`` nor a whole number from 1 to :data:`MAX_WORKERS`
        (booleans and numbers with a fraction are refused too).

    Examples
    --------
    >>> resolve_workers(2)
    2
    >>> resolve_workers(None) == available_cores()
    True
    """
    if value is None:
        return available_cores()
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif hasattr(value, "__index__") and not isinstance(value, bool):  # numpy integers
        number = int(value.__index__())
    if number is None or not 1 <= number <= MAX_WORKERS:
        cores = available_cores()
        raise SchemaError(
            f"{option_hint(option, repr(value))} is not a number of workers; give a whole "
            f"number ≥ 1 (at most {MAX_WORKERS:,}), or None for all {cores} "
            f"core{'s' if cores != 1 else ''}."
        )
    return number


@contextlib.contextmanager
def using_workers(n: int | None) -> Iterator[int]:
    """Within this block, minemap's kernel uses ``n`` worker threads.

    Parameters
    ----------
    n : int or None
        As for :func:`resolve_workers` (``None``: every available core).

    Yields
    ------
    int
        The number of workers in force.

    Examples
    --------
    >>> with using_workers(1):
    ...     worker_count()
    1
    """
    count = resolve_workers(n)
    token = _WORKERS.set(count)
    try:
        yield count
    finally:
        _WORKERS.reset(token)


def worker_count() -> int:
    """The number of worker threads in force (every available core outside
    :func:`using_workers`).

    Examples
    --------
    >>> worker_count() >= 1
    True
    """
    count = _WORKERS.get()
    return available_cores() if count is None else count


def in_context(func: Callable[..., _T]) -> Callable[..., _T]:
    """``func`` bound to a copy of the caller's context, to run in another thread.

    Threads of a pool do not inherit context variables: a function run there would see
    the default number of workers, not the caller's. Each call gets its own copy, so
    chunks running at once never share one context.

    Examples
    --------
    >>> with using_workers(1):
    ...     bound = in_context(worker_count)
    >>> bound()
    1
    """
    context = contextvars.copy_context()

    def run(*args: Any, **kwargs: Any) -> _T:
        return context.copy().run(func, *args, **kwargs)

    return run


def private(value: _T) -> _T:
    """``value`` with its geometry arrays copied, for one thread to use alone.

    Shapely marks every object array it is given read-only for the length of the call and
    then restores the flag (its ``multithreading_enabled`` decorator; shapely issue #2410).
    Two threads passing the same array at once can leave it read-only for good, and a
    thread passing a view of an array another thread holds read-only fails with "cannot
    set WRITEABLE flag to True of this array". A thread (or a Dask task that shares a
    worker's memory with others) that works on its own copy meets neither. The copy holds
    pointers to the same geometries: no geometry is cloned.

    Frames, series and object arrays are copied; dicts, lists and tuples are rebuilt around
    private copies of their members; anything else (numbers, CRSs, and objects that cache
    what they compute, which a copy would compute again) is returned as it is.

    Parameters
    ----------
    value : object
        What another thread is given.

    Returns
    -------
    object
        The same kind of value, sharing no array with ``value``.

    Examples
    --------
    >>> arr = np.array([None, None], dtype=object)
    >>> mine = private({"a": arr, "n": 3})
    >>> mine["a"] is arr, np.shares_memory(mine["a"], arr), mine["n"]
    (False, False, 3)
    """
    out: Any
    if isinstance(value, (pd.DataFrame, pd.Series)):
        out = value.copy(deep=True)
    elif isinstance(value, np.ndarray):
        out = value.copy() if value.dtype == object else value
    elif isinstance(value, dict):
        out = {key: private(item) for key, item in value.items()}
    elif isinstance(value, (list, tuple)) and type(value) in (list, tuple):
        out = type(value)(private(item) for item in value)
    else:
        out = value
    return out


class SidePool:
    """A one-thread pool for overlapping independent stages, honouring the worker count.

    With two workers or more, :meth:`submit` runs the function in a second thread (in the
    caller's context) on :func:`private` copies of its arguments, so the caller's thread can
    go on using the same layers; with one, it runs it at once in the caller's thread and
    returns a finished future, so no thread is started. Use it as a context manager.

    Examples
    --------
    >>> with using_workers(1), SidePool() as side:
    ...     side.submit(sum, [1, 2, 3]).result()
    6
    """

    def __init__(self, threads: int = 1) -> None:
        self._threads = threads
        self._pool: ThreadPoolExecutor | None = None

    def __enter__(self) -> SidePool:
        if worker_count() > 1:
            self._pool = ThreadPoolExecutor(self._threads)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)

    def submit(self, func: Callable[..., _T], *args: Any, **kwargs: Any) -> Future[_T]:
        """Run ``func(*args, **kwargs)``: in the side thread, or at once with one worker."""
        if self._pool is not None:
            return self._pool.submit(in_context(func), *private(args), **private(kwargs))
        future: Future[_T] = Future()
        try:
            future.set_result(func(*args, **kwargs))
        except Exception as exc:  # noqa: BLE001 - raised to the caller by result()
            future.set_exception(exc)
        return future
