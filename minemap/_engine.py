"""Which engine runs a computation: this machine's threads, or a Dask cluster.

:func:`minemap.land_release_summary`, :func:`minemap.priority_zones` and
:func:`minemap.rank_hazards` take ``engine=``. ``"local"`` runs in this process on
``workers=`` threads (:mod:`minemap._workers`); ``"dask"`` hands the same call to
:mod:`minemap.partitioned`, which keeps touching hazards and releases whole in one
partition and runs the partitions on a Dask cluster (``client=``, or a ``LocalCluster``
made for the call). Left unset, the engine follows the inputs: Dask when a layer is a
``dask_geopandas.GeoDataFrame`` or a ``client=`` is given, else local.
"""

from __future__ import annotations

from collections.abc import Mapping

from minemap._errors import SchemaError, option_hint

#: The engines a computation can run on.
ENGINES = ("local", "dask")


def is_dask_collection(layer: object) -> bool:
    """Whether ``layer`` is a lazy Dask table (e.g. a ``dask_geopandas.GeoDataFrame``).

    Examples
    --------
    >>> import geopandas as gpd
    >>> is_dask_collection(gpd.GeoDataFrame())
    False
    """
    return hasattr(layer, "to_delayed") and hasattr(layer, "npartitions")


def use_dask(
    function: str,
    engine: object,
    layers: Mapping[str, object],
    *,
    client: object = None,
    npartitions: object = None,
    workers: object = None,
) -> bool:
    """Whether a call runs on Dask, after checking its engine options agree.

    Parameters
    ----------
    function : str
        The public function's name, for messages.
    engine : {'local', 'dask'} or None
        The ``engine=`` given; None follows the inputs.
    layers : mapping of str to object
        The call's layers by option name (None where not given).
    client, npartitions, workers : object
        The call's ``client=``, ``npartitions=`` and ``workers=``.

    Returns
    -------
    bool
        True to run on :mod:`minemap.partitioned`.

    Raises
    ------
    SchemaError
        An unknown engine; a Dask table on the local engine; ``client=`` or
        ``npartitions=`` on the local engine; ``workers=`` on the Dask engine.

    Examples
    --------
    >>> use_dask("land_release_summary", None, {"hazards": None})
    False
    >>> use_dask("land_release_summary", "dask", {"hazards": None})
    True
    """
    lazy = [name for name, layer in layers.items() if is_dask_collection(layer)]
    if engine is None:
        chosen = "dask" if lazy or client is not None else "local"
    elif isinstance(engine, str) and engine in ENGINES:
        chosen = engine
    else:
        raise SchemaError(
            f"{function}(): {option_hint('engine', repr(engine))} is not an engine; give "
            "'local' (this machine's cores, see workers=) or 'dask' (a Dask cluster)."
        )
    if chosen == "local":
        if lazy:
            raise SchemaError(
                f"{function}(): {lazy[0]} is a Dask table, which the local engine does not "
                "read; pass engine='dask', or .compute() it into a GeoDataFrame first."
            )
        given = [
            name
            for name, value in (("client", client), ("npartitions", npartitions))
            if value is not None
        ]
        if given:
            raise SchemaError(
                f"{function}(): {option_hint(given[0])} is an option of the Dask engine; "
                "pass engine='dask' with it, or leave it out to run on this machine."
            )
    elif workers is not None:
        raise SchemaError(
            f"{function}(): {option_hint('workers', repr(workers))} sets this machine's "
            "threads; on the Dask engine the cluster's workers run the partitions: leave "
            "workers out, and size the cluster or pass client=."
        )
    return chosen == "dask"
