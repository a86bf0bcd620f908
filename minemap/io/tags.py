"""Tag filters: which features of a layer are roads, infrastructure or residential areas.

A tag filter (``tags=``) is a list of terms; a feature is kept when **any** term matches:

* ``key`` (or ``key=*``) matches any value except ``no`` (OpenStreetMap's way of saying
  "not a ...", e.g. ``building=no``);
* ``key=value`` matches that value exactly (case-sensitive, as OpenStreetMap tags are); a
  value list written with semicolons, as in ``amenity=school;kindergarten``, matches each
  of its values.

Filters are written as a string (``"highway"``, ``"amenity=school,amenity=clinic,healthcare"``),
a list of such terms, or a mapping from key to value(s) (``{"amenity": ["school", "clinic"],
"healthcare": True}``; ``True``, ``None`` or ``"*"`` mean any value).

A tag's value is read from the column of that name, or else from an ``other_tags`` column,
where GDAL's OpenStreetMap driver keeps every tag it has no column for, as an hstore string:
``"amenity"=>"school","name"=>"Şəhid ""Ali"" məktəbi"``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from minemap._errors import SchemaError, option_hint

#: Column in which GDAL's OpenStreetMap driver keeps the tags it has no column for.
OTHER_TAGS = "other_tags"

ANY = "*"

TagSpec = str | Iterable[str] | Mapping[str, "str | Iterable[str] | bool | None"]


@dataclass(frozen=True)
class TagFilter:
    """A parsed tag filter: for each key, the accepted values (``None``: any value but ``no``).

    Examples
    --------
    >>> f = parse_tags("amenity=school,amenity=clinic,healthcare")
    >>> f.keys
    ('amenity', 'healthcare')
    >>> str(f)
    'amenity=clinic,amenity=school,healthcare'
    """

    terms: tuple[tuple[str, frozenset[str] | None], ...]

    @property
    def keys(self) -> tuple[str, ...]:
        """The tag keys the filter reads."""
        return tuple(key for key, _ in self.terms)

    def __str__(self) -> str:
        out = []
        for key, values in self.terms:
            out += [key] if values is None else [f"{key}={v}" for v in sorted(values)]
        return ",".join(out)

    def __or__(self, other: TagFilter) -> TagFilter:
        return parse_tags([str(self), str(other)])


def parse_tags(spec: TagSpec | TagFilter) -> TagFilter:
    """Parse a tag filter (see :mod:`minemap.io.tags` for the syntax).

    Parameters
    ----------
    spec : str, list of str, mapping or TagFilter
        ``"highway"``, ``"amenity=school,healthcare"``, ``["amenity=school"]`` or
        ``{"amenity": ["school"], "healthcare": True}``.

    Returns
    -------
    TagFilter

    Raises
    ------
    SchemaError
        For an empty filter or a term without a key.

    Examples
    --------
    >>> str(parse_tags({"highway": ["primary", "track"], "bridge": True}))
    'highway=primary,highway=track,bridge'
    >>> str(parse_tags("place=*, landuse = residential"))
    'place,landuse=residential'
    """
    if isinstance(spec, TagFilter):
        return spec
    pairs: list[tuple[str, str | None]] = []
    if isinstance(spec, str):
        items: Iterable[object] = spec.split(",")
    elif isinstance(spec, Mapping):
        items = []
        for key, value in spec.items():
            if value is None or value is True or value == ANY:
                pairs.append((str(key).strip(), None))
            elif isinstance(value, str):
                pairs.append((str(key).strip(), value.strip()))
            elif isinstance(value, Iterable):
                pairs.extend((str(key).strip(), str(v).strip()) for v in value)
            else:
                raise SchemaError(
                    f"{option_hint('tags')}: the value of {key!r} must be a tag "
                    f"value, a list of values or True, not {value!r}."
                )
    elif isinstance(spec, Iterable):
        items = spec
    else:
        raise SchemaError(
            f"{option_hint('tags')} must be a string like 'amenity=school,"
            f"healthcare', a list of such terms or a mapping, not {spec!r}."
        )
    for item in items:
        for term in str(item).split(",") if not isinstance(spec, str) else [str(item)]:
            term = term.strip()
            if not term:
                continue
            key, sep, value = term.partition("=")
            key, value = key.strip(), value.strip()
            pairs.append((key, None if not sep or value in ("", ANY) else value))
    if not pairs or any(not key for key, _ in pairs):
        raise SchemaError(
            f"{option_hint('tags')}: {spec!r} names no tag; write KEY or KEY=VALUE terms "
            "separated by commas, e.g. 'highway' or 'amenity=school,amenity=clinic,healthcare'."
        )
    merged: dict[str, set[str] | None] = {}
    for key, value in pairs:
        if key in merged and merged[key] is None:
            continue
        if value is None:
            merged[key] = None
        else:
            merged.setdefault(key, set())
            merged[key].add(value)  # type: ignore[union-attr]
    return TagFilter(tuple((k, None if v is None else frozenset(v)) for k, v in merged.items()))


_HSTORE_PAIR = re.compile(
    r'\s*"((?:[^"\\]|\\.)*)"\s*=>\s*(?:"((?:[^"\\]|\\.)*)"|(NULL))\s*(?:,|$)', re.DOTALL
)
_UNESCAPE = re.compile(r"\\(.)", re.DOTALL)


def parse_other_tags(text: object) -> dict[str, str | None]:
    """Parse GDAL's hstore-like ``other_tags`` string into a dict.

    Quotes and backslashes escaped with a backslash, commas and ``=>`` inside values, and
    ``NULL`` values are understood; text after the first malformed pair is ignored.

    Examples
    --------
    >>> parse_other_tags('"amenity"=>"school","name"=>"No 5, \\\\"Ali\\\\" => ok"')
    {'amenity': 'school', 'name': 'No 5, "Ali" => ok'}
    >>> parse_other_tags(None)
    {}
    """
    if not isinstance(text, str):
        return {}
    out: dict[str, str | None] = {}
    pos, end = 0, len(text.rstrip())
    while pos < end:
        match = _HSTORE_PAIR.match(text, pos)
        if match is None:
            break
        key, value, null = match.groups()
        out[_UNESCAPE.sub(r"\1", key)] = None if null else _UNESCAPE.sub(r"\1", value)
        pos = match.end()
    return out


def tag_values(frame: pd.DataFrame, key: str) -> pd.Series:
    """Values of tag ``key``: from its column, else from ``other_tags`` (None if unset).

    Examples
    --------
    >>> frame = pd.DataFrame({"other_tags": ['"amenity"=>"clinic"', None]})
    >>> tag_values(frame, "amenity").tolist()
    ['clinic', None]
    """
    out = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    if key in frame.columns:
        column = frame[key]
        set_ = column.notna().to_numpy()
        out[set_] = column[set_].astype(str).to_numpy()
    if OTHER_TAGS in frame.columns and key != OTHER_TAGS:
        other = frame[OTHER_TAGS]
        needle = '"' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'
        maybe = out.isna().to_numpy() & other.astype("string").str.contains(
            needle, regex=False
        ).fillna(False).to_numpy(dtype=bool)
        if maybe.any():
            out[maybe] = [parse_other_tags(t).get(key) for t in other[maybe]]
    return out


def _matches(values: pd.Series, accepted: frozenset[str] | None) -> np.ndarray:
    text = values.astype("string").str.strip()
    if accepted is None:
        return (text.notna() & (text != "") & (text.str.lower() != "no")).to_numpy(dtype=bool)
    exact = np.array(text.isin(accepted).fillna(False), dtype=bool)
    listed = text.str.contains(";", regex=False).fillna(False).to_numpy(dtype=bool)
    if listed.any():
        exact[listed] = [bool(accepted & {v.strip() for v in t.split(";")}) for t in text[listed]]
    return exact


def match_terms(frame: pd.DataFrame, spec: TagSpec | TagFilter) -> np.ndarray:
    """Per term of ``spec``, which rows of ``frame`` match it (a 2-D boolean array).

    Keys that are neither columns nor in ``other_tags`` match no row.
    """
    flt = parse_tags(spec)
    out = np.zeros((len(flt.terms), len(frame)), dtype=bool)
    for i, (key, accepted) in enumerate(flt.terms):
        if key in frame.columns or OTHER_TAGS in frame.columns:
            out[i] = _matches(tag_values(frame, key), accepted)
    return out


def match_tags(frame: pd.DataFrame, spec: TagSpec | TagFilter) -> np.ndarray:
    """Which rows of ``frame`` carry a tag of ``spec`` (a boolean array).

    Examples
    --------
    >>> frame = pd.DataFrame({"highway": ["track", "footway", None],
    ...                       "other_tags": [None, None, '"bridge"=>"yes"']})
    >>> match_tags(frame, "highway=track,bridge").tolist()
    [True, False, True]
    """
    return np.asarray(match_terms(frame, spec).any(axis=0), dtype=bool)


def check_keys(frame: pd.DataFrame, spec: TagSpec | TagFilter, label: str) -> None:
    """Refuse a filter none of whose keys the layer has (as columns or in ``other_tags``)."""
    flt = parse_tags(spec)
    if OTHER_TAGS in frame.columns or any(key in frame.columns for key in flt.keys):
        return
    existing = [c for c in frame.columns if c != getattr(frame, "_geometry_column_name", None)]
    raise SchemaError(
        f"{label}: no column {' or '.join(repr(k) for k in flt.keys)} for "
        f"{option_hint('tags')}{str(flt)!r}, and no {OTHER_TAGS!r} column; it has {existing}. "
        "Name the tag columns the layer has."
    )
