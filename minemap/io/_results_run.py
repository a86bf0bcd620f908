"""A run of :func:`minemap.io.write_results` and the tables it writes, shared by the
GeoPackage writer (:mod:`minemap.io._results_gpkg`) and the PostGIS writer
(:mod:`minemap.io._results_postgis`): what each table carries, which earlier tables a re-run
replaces, and the values as a table can hold them."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
from collections.abc import Mapping
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from minemap._errors import OutputError

#: The table holding one row per run.
RUNS_TABLE = "minemap_runs"
#: PostGIS schema written to when the URL names none.
DEFAULT_SCHEMA = "public"


@dataclasses.dataclass(frozen=True)
class WrittenRun:
    """What :func:`write_results` wrote.

    Attributes
    ----------
    target : str
        The GeoPackage's path, or the database URL without password and the schema
        (``postgresql://user@host:5432/db?schema=results``).
    kind : {"gpkg", "postgis"}
        What the target is.
    run : str
        The run's identifier-safe name, the prefix of its tables.
    tables : dict
        Result name → table written.
    rows : dict
        Result name → rows written.
    written_at : str
        When, in UTC (ISO 8601).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import pandas as pd
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "results.gpkg"
    >>> summary = pd.DataFrame({"threat_level": ["high", "low"], "hazard_ha": [12.5, 3.0]})
    >>> from minemap.io import write_results
    >>> written = write_results({"summary": summary}, path, run="q2")
    >>> written.kind, written.tables, written.rows
    ('gpkg', {'summary': 'q2_summary'}, {'summary': 2})
    """

    target: str
    kind: Literal["gpkg", "postgis"]
    run: str
    tables: dict[str, str]
    rows: dict[str, int]
    written_at: str


def _jsonable(value: Any) -> Any:
    """A value as JSON can hold it: frames as records, dates as ISO text, NaN as null."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_jsonable(v) for v in value]
    if isinstance(value, pd.DataFrame):
        frame = (
            value.drop(columns=value.geometry.name)
            if isinstance(value, gpd.GeoDataFrame)
            else value
        )
        return [_jsonable(r) for r in frame.to_dict(orient="records")]
    if isinstance(value, np.generic):
        return _jsonable(value.item())
    if isinstance(value, float):
        return None if not math.isfinite(value) else value
    if isinstance(value, (dt.date, dt.datetime, pd.Timestamp)):
        return None if value is pd.NaT else value.isoformat()
    if value is None or isinstance(value, (str, int, bool)):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _jsonable(dataclasses.asdict(value))
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


def _json(value: Any) -> str:
    return json.dumps(_jsonable(value), ensure_ascii=False, sort_keys=True)


def _is_geo(frame: pd.DataFrame) -> bool:
    return isinstance(frame, gpd.GeoDataFrame) and frame._geometry_column_name in frame.columns


def _plain_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Attribute columns as the targets store them: a copy, nested values as JSON text,
    extension integers with missing values as floats, other objects as text."""
    out = pd.DataFrame(
        {c: frame[c] for c in frame.columns if not (_is_geo(frame) and c == frame.geometry.name)}
    )
    out.columns = [str(c) for c in out.columns]
    for column in out.columns:
        values = out[column]
        if pd.api.types.is_bool_dtype(values) and values.isna().any():
            out[column] = values.astype(object).where(values.notna(), None)
        elif pd.api.types.is_integer_dtype(values) and values.isna().any():
            out[column] = values.astype("float64")
        elif pd.api.types.is_integer_dtype(values) and not isinstance(values.dtype, np.dtype):
            out[column] = values.astype("int64")
        elif pd.api.types.is_float_dtype(values) and not isinstance(values.dtype, np.dtype):
            out[column] = values.astype("float64")
        elif values.dtype == object:
            present = values.dropna()
            if len(present) and all(isinstance(v, (dict, list, tuple)) for v in present):
                out[column] = values.map(lambda v: None if v is None else _json(v))
            elif len(present) and all(isinstance(v, dt.date) for v in present):
                out[column] = pd.to_datetime(values)
            elif not all(isinstance(v, (str, bool, int, float)) for v in present):
                out[column] = values.map(lambda v: None if _missing(v) else str(v))
    return out


def _missing(value: object) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


@dataclasses.dataclass(frozen=True)
class _Run:
    """What one call writes: its id and name, when, with which parameters and inputs, the
    table each result goes to, and whether an earlier run of that name may be replaced."""

    run_id: str
    run_name: str
    written_at: str
    parameters: Mapping[str, object]
    inputs: Mapping[str, object]
    names: Mapping[str, str]
    replace: bool

    def provenance(self, frame: pd.DataFrame | None = None) -> dict[str, object]:
        """The facts every table carries (and its own attrs, for a result table)."""
        from minemap import __version__

        doc: dict[str, object] = {
            "run": self.run_id,
            "run_name": self.run_name,
            "written_at": self.written_at,
            "minemap_version": __version__,
            "parameters": self.parameters,
            "inputs": self.inputs,
        }
        if frame is not None:
            doc["attrs"] = {k: v for k, v in frame.attrs.items() if k != "minemap"}
        return doc

    def runs_row(self, tables: Mapping[str, pd.DataFrame]) -> dict[str, object]:
        """The run's row of :data:`RUNS_TABLE` (parameters, inputs and tables as JSON)."""
        doc = self.provenance()
        written = {r: {"table": self.names[r], "rows": len(f)} for r, f in tables.items()}
        return {
            "run": doc["run"],
            "run_name": doc["run_name"],
            "written_at": doc["written_at"],
            "minemap_version": doc["minemap_version"],
            "parameters": _json(self.parameters),
            "inputs": _json(self.inputs),
            "tables": _json(written),
        }

    def tables_to_drop(
        self, where: str, present: set[str], owned: Mapping[str, list[str]]
    ) -> list[str]:
        """The run's earlier tables to drop; refuse a name another run or a user holds."""
        if self.run_id in owned and not self.replace:
            raise OutputError(
                f"{where}: run {self.run_name!r} was written before; pass replace=True "
                "(on the command line, leave out --keep) to replace its tables, or choose "
                "another run name."
            )
        mine = set(owned.get(self.run_id, []))
        others = {t: r for r, ts in owned.items() if r != self.run_id for t in ts}
        for name in self.names.values():
            if name in others:
                raise OutputError(
                    f"{where}: table {name!r} belongs to run {others[name]!r}; choose another "
                    "run name (--run) so that run is kept."
                )
            if name in present and name not in mine:
                raise OutputError(
                    f"{where}: a table {name!r} exists that minemap did not write for run "
                    f"{self.run_name!r}; choose another run name (--run) so it is kept."
                )
        return sorted((mine & present) - set(self.names.values()))


def _owned_tables(text: object) -> list[str]:
    """The table names in a ``minemap_runs.tables`` value (JSON text, or jsonb as a dict)."""
    try:
        doc = text if isinstance(text, dict) else json.loads(str(text))
    except (TypeError, ValueError):
        return []
    if not isinstance(doc, dict):
        return []
    return [str(v.get("table")) for v in doc.values() if isinstance(v, dict) and v.get("table")]
