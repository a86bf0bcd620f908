"""Curved geometries (CircularString, CompoundCurve, CurvePolygon, MultiCurve, MultiSurface).

Shapely cannot hold curves, and pyogrio's Arrow path hands them over undecoded, so curved
data is read through GDAL's feature path, which linearises each curve with a step of
:data:`ARC_STEP_DEGREES` (a full circle becomes about 360 segments; its area is then within
0.006 % of the true circle's). The number of curved geometries is counted from the WKB
type codes as stored, because GDAL may declare a curved layer as linear (a QGIS
``CurvePolygon`` layer reports ``Polygon``).
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pyogrio

#: Angle between the vertices GDAL puts on a circular arc when linearising it, in degrees.
ARC_STEP_DEGREES = 1.0

#: ISO WKB type codes (modulo 1000, which holds Z/M) of the curved geometry types.
CURVED_WKB_CODES = frozenset({8, 9, 10, 11, 12, 13, 14})

CURVED_WKT = re.compile(
    r"^\s*(?:SRID=\d+;\s*)?(CIRCULARSTRING|COMPOUNDCURVE|CURVEPOLYGON|MULTICURVE|MULTISURFACE)",
    re.IGNORECASE,
)


@contextlib.contextmanager
def gdal_options(**options: str) -> Iterator[None]:
    """Set GDAL configuration options for the duration of a block, then restore them."""
    # an option set in the environment is restored by unsetting it (GDAL then reads the
    # environment again), not by copying the environment's value into GDAL's options
    previous = {
        key: None if key in os.environ else pyogrio.get_gdal_config_option(key) for key in options
    }
    pyogrio.set_gdal_config_options(options)
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options(previous)


def linearising() -> contextlib.AbstractContextManager[None]:
    """GDAL options under which curves are linearised every :data:`ARC_STEP_DEGREES`."""
    return gdal_options(OGR_ARC_STEPSIZE=str(ARC_STEP_DEGREES))


def is_nonlinear_error(exc: BaseException) -> bool:
    """Whether ``exc`` is shapely refusing curved WKB (pyogrio's Arrow path)."""
    return isinstance(exc, NotImplementedError) and "Nonlinear" in str(exc)


def wkb_type_codes(wkbs: Sequence[object]) -> np.ndarray:
    """The geometry type code (modulo 1000) of each WKB value; -1 for a missing one."""
    codes = np.full(len(wkbs), -1, dtype=np.int64)
    for i, wkb in enumerate(wkbs):
        if wkb is None or len(wkb) < 5:  # type: ignore[arg-type]
            continue
        raw = bytes(wkb[:5])  # type: ignore[index]
        code = int.from_bytes(raw[1:5], "little" if raw[0] == 1 else "big")
        codes[i] = (code & 0x0FFFFFFF) % 1000  # EWKB flags, then ISO Z/M thousands
    return codes


def count_curved_in_layer(path: str | os.PathLike, layer: str | None, **options: str) -> int:
    """How many features of a GDAL layer have a curved geometry type, as stored (``options``
    are GDAL open options)."""
    meta, table = pyogrio.read_arrow(path, layer=layer, columns=[], **options)
    name = meta.get("geometry_name") or "wkb_geometry"
    if name not in table.column_names:
        return 0
    codes = wkb_type_codes(table.column(name).to_pylist())
    return int(np.isin(codes, list(CURVED_WKB_CODES)).sum())


def curved_wkt(texts: Sequence[object]) -> np.ndarray:
    """Which WKT strings hold a curved geometry type."""
    return np.array(
        [isinstance(t, str) and CURVED_WKT.match(t) is not None for t in texts], dtype=bool
    )


def linearise_wkt(texts: Sequence[str]) -> np.ndarray:
    """Linearise curved WKT strings with GDAL; an unreadable string gives None.

    Examples
    --------
    >>> import shapely
    >>> ring = linearise_wkt(["CURVEPOLYGON(CIRCULARSTRING(-1 0,0 1,1 0,0 -1,-1 0))"])[0]
    >>> round(ring.area, 4), int(shapely.get_num_coordinates(ring))
    (3.1414, 363)
    """
    if not len(texts):
        return np.array([], dtype=object)
    with tempfile.TemporaryDirectory(prefix="minemap-curves-") as folder:
        path = Path(folder) / "curves.csv"
        with open(path, "w", encoding="utf-8", newline="") as handle:
            handle.write("row,WKT\n")
            for i, text in enumerate(texts):
                handle.write(f'{i},"{str(text).replace(chr(34), chr(34) * 2)}"\n')
        with linearising():
            frame = pyogrio.read_dataframe(
                f"CSV:{path}", GEOM_POSSIBLE_NAMES="WKT", KEEP_GEOM_COLUMNS="NO", use_arrow=False
            )
    out = np.full(len(texts), None, dtype=object)
    rows = frame["row"].astype(int).to_numpy()
    out[rows] = np.asarray(frame.geometry.array, dtype=object)
    return out
