"""``--engine``, ``--scheduler`` and ``--workers``: where a command's computation runs.

``--engine local`` (the default) runs on this machine's cores, ``--workers`` threads.
``--engine dask`` runs through :mod:`minemap.partitioned` on a Dask cluster: a
``LocalCluster`` of ``--workers`` workers made for the command, or the running cluster whose
scheduler ``--scheduler`` names (which implies ``--engine dask``). One cluster serves every
computation of the command and is closed after it.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from typing import Any

from minemap._errors import MinemapError, SchemaError
from minemap._extras import require
from minemap._workers import resolve_workers
from minemap.cli import options

#: Seconds to wait for a ``--scheduler`` to answer.
CONNECT_TIMEOUT_S = 10


def add_engine(parser: argparse.ArgumentParser) -> None:
    """Add ``--engine``, ``--scheduler`` and ``--workers`` in a group of their own."""
    group = parser.add_argument_group("where it runs")
    group.add_argument(
        "--engine",
        choices=("local", "dask"),
        help="local: this machine's cores (the default); dask: partitioned on a Dask cluster "
        "(pip install 'minemap[dask]'), the same figures",
    )
    group.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="a running Dask scheduler to use, e.g. tcp://10.0.0.5:8786 (implies --engine "
        "dask; default: a local cluster made for the command)",
    )
    options.add_workers(group)


def _chosen(args: argparse.Namespace) -> str:
    if args.scheduler is not None:
        if args.engine == "local":
            raise SchemaError(
                "--scheduler names a Dask cluster, but --engine is local; drop one of them."
            )
        if args.workers is not None:
            raise SchemaError(
                "--workers sizes a cluster this command makes; the cluster of --scheduler "
                "has its own workers. Drop --workers."
            )
        return "dask"
    return args.engine or "local"


def check(args: argparse.Namespace) -> None:
    """Check the options agree and the engine is installed, before any input is read.

    Raises
    ------
    SchemaError
        ``--scheduler`` with ``--engine local`` or with ``--workers``, or a bad ``--workers``.
    MissingDependencyError
        ``--engine dask`` without the ``dask`` extra.
    """
    options.workers(args)
    if _chosen(args) == "dask":
        require("dask", "distributed", "dask_geopandas", extra="dask", purpose="--engine dask")


def _connect(address: str) -> Any:
    from distributed import Client

    try:
        return Client(address, timeout=f"{CONNECT_TIMEOUT_S}s")
    except (OSError, ValueError, TypeError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise MinemapError(
            f"--scheduler {address}: no Dask scheduler answered ({reason[:120]}); check the "
            f"address and that the scheduler runs, or leave --scheduler out to run a local "
            "cluster."
        ) from None


@contextlib.contextmanager
def run_options(args: argparse.Namespace) -> Iterator[dict[str, Any]]:
    """The keyword arguments that run a computation where the options ask (the options
    checked first by :func:`check`, before any input is read).

    Yields
    ------
    dict
        ``{"workers": N}`` for the local engine; ``{"engine": "dask", "client": client}``
        for Dask, with the client (and its local cluster) closed when the block ends.
    """
    if _chosen(args) == "local":
        yield {"workers": options.workers(args)}
        return
    from distributed import Client, LocalCluster

    if args.scheduler is not None:
        with _connect(args.scheduler) as client:
            yield {"engine": "dask", "client": client}
        return
    with (
        LocalCluster(
            n_workers=resolve_workers(args.workers),
            threads_per_worker=1,
            processes=False,
            dashboard_address=":0",
        ) as cluster,
        Client(cluster) as client,
    ):
        yield {"engine": "dask", "client": client}
