"""Reading and writing a capacity file: TOML (or a dict of the same shape) ⇄ :class:`Capacity`.

The format (every key is described in ``docs/capacity.md``)::

    working_days_per_year = 220

    [assets.manual_team]
    kind = "manual"                 # manual, machine, dog, survey or another word
    count = 100                     # units at the plan's start (teams, machines, dog teams)
    growth_per_year = 0.05          # optional: +5 % a year
    productivity_m2_per_day = { high = 50, medium = 80, low = 120 }

    [[assets.manual_team.changes]]  # optional: from this date on, the count is 120
    date = 2027-01-01
    count = 120

    [release_mix.high]              # optional: overrides the mix learnt from history
    cleared = 0.6
    reduced = 0.3
    cancelled = 0.1

A productivity (m² per unit and working day) is given per threat level; each is a number
(for every release method), a range table ``{ low = 10, mode = 30, high = 50 }``, or a table
per method ``{ cleared = ..., reduced = ..., cancelled = ... }`` of numbers or ranges.

Every problem is one line naming the file, the key path and the fix. This module holds the
checks; :meth:`Capacity.from_dict`, :meth:`Capacity.from_toml` and :meth:`Capacity.to_dict`
are the public entry points.
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import numbers
import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from minemap._errors import FormatError, InputFileError, SchemaError
from minemap.planning.capacity import Asset, Capacity, Range
from minemap.settings import RELEASE_METHODS, THREAT_LEVELS

__all__ = ["capacity_from_dict", "capacity_from_toml", "capacity_to_dict", "check_levels"]

#: Keys of the file's top level, of an asset and of a dated change.
TOP_KEYS = ("working_days_per_year", "assets", "release_mix")
ASSET_KEYS = ("count", "productivity_m2_per_day", "kind", "growth_per_year", "changes")
CHANGE_KEYS = ("date", "count")
RANGE_KEYS = ("low", "mode", "high")

#: Tolerance on the sum of a level's release-mix shares.
MIX_TOLERANCE = 1e-6

_KIND = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
_TEMPLATE_HINT = "'minemap capacity-template' prints a commented example"


# ------------------------------------------------------------------------------------------
# reading
# ------------------------------------------------------------------------------------------


class _Reader:
    """Checks one document, naming ``source`` and the key path in every message."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, problem: str, fix: str) -> SchemaError:
        at = f"{where}: " if where else ""
        return SchemaError(f"{self.source}: {at}{problem}; {fix}.")

    def table(self, value: object, where: str, example: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(
                where, f"must be a table, not {_shown(value)}", f"write it as {example}"
            )
        return value

    def keys(self, table: Mapping[str, Any], allowed: Iterable[str], where: str) -> None:
        allowed = tuple(allowed)
        for key in table:
            if key not in allowed:
                near = difflib.get_close_matches(str(key), allowed, n=1)
                hint = f" (did you mean {near[0]!r}?)" if near else ""
                raise self.fail(
                    _join(where, str(key)),
                    f"unknown key {str(key)!r}{hint}",
                    f"the keys allowed here are {', '.join(allowed)}",
                )

    def number(self, value: object, where: str) -> float:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise self.fail(where, f"must be a number, not {_shown(value)}", "write e.g. 50")
        number = float(value)
        if not math.isfinite(number):
            raise self.fail(where, f"must be a finite number, not {number}", "write e.g. 50")
        return number

    def document(self, data: object) -> Capacity:
        doc = self.table(data, "", "a TOML document with working_days_per_year and [assets.NAME]")
        self.keys(doc, TOP_KEYS, "")
        if "working_days_per_year" not in doc:
            raise self.fail(
                "",
                "working_days_per_year is missing",
                "add e.g. 'working_days_per_year = 220' at the top of the file",
            )
        days = self.number(doc["working_days_per_year"], "working_days_per_year")
        if not 0 < days <= 366:
            raise self.fail(
                "working_days_per_year",
                f"{_num(days)} is outside (0, 366]",
                "give the working days in a calendar year, e.g. 220",
            )
        if "assets" not in doc:
            raise self.fail(
                "", "there is no [assets.NAME] table", f"add one per asset type ({_TEMPLATE_HINT})"
            )
        assets_doc = self.table(doc["assets"], "assets", "[assets.manual_team] sections")
        if not assets_doc:
            raise self.fail("assets", "is empty", f"add one [assets.NAME] table ({_TEMPLATE_HINT})")
        assets = {
            str(name): self.asset(str(name), value, f"assets.{_key(str(name))}")
            for name, value in assets_doc.items()
        }
        mix = None
        if "release_mix" in doc:
            mix = self.release_mix(doc["release_mix"], "release_mix")
        return Capacity(days, assets, release_mix=mix, source=self.source)

    def asset(self, name: str, value: object, where: str) -> Asset:
        doc = self.table(value, where, f"[{where}] with count and productivity_m2_per_day")
        self.keys(doc, ASSET_KEYS, where)
        for key in ("count", "productivity_m2_per_day"):
            if key not in doc:
                raise self.fail(
                    where, f"{key} is missing", f"add it to [{where}] ({_TEMPLATE_HINT})"
                )
        count = self.number(doc["count"], f"{where}.count")
        if count <= 0:
            raise self.fail(
                f"{where}.count",
                f"{_num(count)} is not a positive count",
                "give the units at the plan's start (teams, machines, dog teams), or remove "
                "the asset",
            )
        kind = doc.get("kind", "manual")
        if not isinstance(kind, str) or not _KIND.match(kind):
            raise self.fail(
                f"{where}.kind",
                f"{_shown(kind)} is not a word",
                'write "manual", "machine", "dog", "survey" or another word',
            )
        growth = self.number(doc.get("growth_per_year", 0.0), f"{where}.growth_per_year")
        if not -1 <= growth <= 1:
            raise self.fail(
                f"{where}.growth_per_year",
                f"{_num(growth)} is outside [-1, 1]",
                "give a yearly fraction: 0.1 for +10 % a year, -0.05 for -5 %",
            )
        return Asset(
            name=name,
            count=count,
            productivity_m2_per_day=self.productivity(
                doc["productivity_m2_per_day"], f"{where}.productivity_m2_per_day"
            ),
            kind=kind,
            growth_per_year=growth,
            changes=self.changes(doc.get("changes", []), f"{where}.changes"),
        )

    def productivity(self, value: object, where: str) -> dict[tuple[str, str], Range]:
        doc = self.table(value, where, "{ high = 50, medium = 80, low = 120 }")
        self.keys(doc, THREAT_LEVELS, where)
        if not doc:
            raise self.fail(where, "is empty", "give m² per working day for each threat level")
        out: dict[tuple[str, str], Range] = {}
        for level in THREAT_LEVELS:
            if level not in doc:
                continue
            here = f"{where}.{level}"
            item = doc[level]
            if isinstance(item, Mapping) and item and set(item) <= set(RELEASE_METHODS):
                for method in RELEASE_METHODS:
                    if method in item:
                        out[level, method] = self.range(item[method], f"{here}.{method}")
            elif isinstance(item, Mapping) and set(item) <= set(RANGE_KEYS) and item:
                shared = self.range(item, here)
                out.update({(level, method): shared for method in RELEASE_METHODS})
            elif isinstance(item, Mapping):
                self.keys(item, (*RELEASE_METHODS, *RANGE_KEYS), here)
                mixed = ", ".join(str(k) for k in item) or "nothing"
                raise self.fail(
                    here,
                    f"holds {mixed}",
                    "give a number, a range { low = ..., mode = ..., high = ... } or a table "
                    "per method { cleared = ..., reduced = ..., cancelled = ... }, not a mix",
                )
            else:
                shared = self.range(item, here)
                out.update({(level, method): shared for method in RELEASE_METHODS})
        return out

    def range(self, value: object, where: str) -> Range:
        if isinstance(value, Range):
            value = {"low": value.low, "mode": value.mode, "high": value.high}
        if not isinstance(value, Mapping):
            number = self.number(value, where)
            self.not_negative(number, where)
            return Range.fixed(number)
        self.keys(value, RANGE_KEYS, where)
        given = {k: self.number(v, f"{where}.{k}") for k, v in value.items()}
        for key, number in given.items():
            self.not_negative(number, f"{where}.{key}")
        if "mode" in given:
            mode = given["mode"]
        elif "low" in given and "high" in given:
            mode = (given["low"] + given["high"]) / 2.0
        else:
            raise self.fail(
                where,
                f"a range with only {', '.join(given) or 'nothing'} has no mode",
                "give mode, or both low and high (mode defaults to their midpoint)",
            )
        low, high = given.get("low", mode), given.get("high", mode)
        if low > high:
            raise self.fail(
                where,
                f"low {_num(low)} exceeds high {_num(high)}",
                "give low <= mode <= high (low and high default to mode)",
            )
        if not low <= mode <= high:
            raise self.fail(
                where,
                f"mode {_num(mode)} is outside [low {_num(low)}, high {_num(high)}]",
                "give low <= mode <= high",
            )
        return Range(low, mode, high)

    def not_negative(self, number: float, where: str) -> None:
        if number < 0:
            raise self.fail(
                where,
                f"productivity {_num(number)} is negative",
                "give m² per unit and working day, 0 or more (leave out work an asset does not do)",
            )

    def changes(self, value: object, where: str) -> tuple[tuple[dt.date, float], ...]:
        if not isinstance(value, list | tuple):
            raise self.fail(
                where,
                f"must be a list of tables, not {_shown(value)}",
                f"write each change as [[{where}]] with date and count",
            )
        out: dict[dt.date, float] = {}
        for number, item in enumerate(value, start=1):
            here = f"{where}[{number}]"
            doc = self.table(item, here, f"[[{where}]] with date = 2027-01-01 and count = 10")
            self.keys(doc, CHANGE_KEYS, here)
            for key in CHANGE_KEYS:
                if key not in doc:
                    raise self.fail(here, f"{key} is missing", "give both date and count")
            day = self.date(doc["date"], f"{here}.date")
            if day in out:
                raise self.fail(f"{here}.date", f"{day} is given twice", "give one count per date")
            count = self.number(doc["count"], f"{here}.count")
            if count < 0:
                raise self.fail(
                    f"{here}.count",
                    f"{_num(count)} is a negative count",
                    "give the units from that date on (0 withdraws the asset)",
                )
            out[day] = count
        return tuple(sorted(out.items()))

    def date(self, value: object, where: str) -> dt.date:
        if isinstance(value, dt.datetime):
            raise self.fail(where, f"{value} has a time of day", "give a date, e.g. 2027-01-01")
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
        raise self.fail(
            where, f"{_shown(value)} is not a date", "give a date without quotes, e.g. 2027-01-01"
        )

    def release_mix(self, value: object, where: str) -> dict[str, dict[str, float]]:
        doc = self.table(value, where, "[release_mix.high] with cleared, reduced, cancelled")
        self.keys(doc, THREAT_LEVELS, where)
        out: dict[str, dict[str, float]] = {}
        for level in THREAT_LEVELS:
            if level not in doc:
                continue
            here = f"{where}.{level}"
            shares = self.table(
                doc[level], here, "{ cleared = 0.6, reduced = 0.3, cancelled = 0.1 }"
            )
            self.keys(shares, RELEASE_METHODS, here)
            mix = {}
            for method in RELEASE_METHODS:
                share = self.number(shares.get(method, 0.0), f"{here}.{method}")
                if not 0 <= share <= 1:
                    raise self.fail(
                        f"{here}.{method}",
                        f"share {_num(share)} is outside [0, 1]",
                        "give a fraction of the level's land, e.g. 0.6",
                    )
                mix[method] = share
            total = sum(mix.values())
            if abs(total - 1.0) > MIX_TOLERANCE:
                raise self.fail(
                    here,
                    f"the shares sum to {total:.6g}, not 1",
                    "make cleared + reduced + cancelled = 1 (a missing method counts as 0)",
                )
            out[level] = mix
        return out


def capacity_from_dict(data: Mapping[str, Any], *, source: str = "<python>") -> Capacity:
    """A :class:`Capacity` from a dict shaped like the TOML file; see :meth:`Capacity.from_dict`."""
    return _Reader(source).document(data)


def capacity_from_toml(path: str | os.PathLike[str]) -> Capacity:
    """A :class:`Capacity` read from a TOML file; see :meth:`Capacity.from_toml`."""
    target = Path(path)
    source = os.fspath(path)
    try:
        raw = target.read_bytes()
    except FileNotFoundError:
        raise InputFileError(
            f"{source}: no such capacity file; check the path ({_TEMPLATE_HINT}: "
            f"minemap capacity-template -o {source})."
        ) from None
    except IsADirectoryError:
        raise InputFileError(f"{source}: is a folder; give the capacity TOML file.") from None
    except OSError as exc:
        raise InputFileError(
            f"{source}: cannot be read ({exc.strerror or exc}); check its permissions."
        ) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise FormatError(
            f"{source}: not UTF-8 text (line {line}); save the file as UTF-8 (TOML requires it)."
        ) from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise FormatError(_toml_message(source, text, str(exc))) from None
    return _Reader(source).document(doc)


def _toml_message(source: str, text: str, error: str) -> str:
    """One line: the file, where the TOML error is, tomllib's reason and the line's text."""
    reason = re.sub(r"\s*\((at line \d+, column \d+|at end of document)\)\s*$", "", error)
    found = re.search(r"at line (\d+), column (\d+)", error)
    if found:
        line, column = int(found.group(1)), int(found.group(2))
        lines = text.splitlines()
        shown = lines[line - 1].strip() if 0 < line <= len(lines) else ""
        where = f"line {line}, column {column}"
        quoted = f" in {shown[:80]!r}" if shown else ""
    else:
        where, quoted = "the end of the file", ""
    return (
        f"{source}: not valid TOML at {where}: {reason}{quoted}; fix the syntax there "
        f"({_TEMPLATE_HINT})."
    )


def check_levels(capacity: Capacity, levels: Iterable[str]) -> None:
    """Raise :class:`SchemaError` naming each level in ``levels`` no asset can release."""
    missing = []
    for level in dict.fromkeys(levels):
        if not any(
            r.high > 0
            for asset in capacity.assets.values()
            for (lvl, _method), r in asset.productivity_m2_per_day.items()
            if lvl == level
        ):
            missing.append(level)
    if not missing:
        return
    quoted = [repr(level) for level in missing]
    names = quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} and {quoted[-1]}"
    first = missing[0]
    asset = next(iter(capacity.assets), "NAME")
    raise SchemaError(
        f"{capacity.source}: no asset has a productivity above 0 for {names} land, which the "
        f"hazards hold; add one, e.g. {first} = 50 under "
        f"[assets.{_key(asset)}.productivity_m2_per_day] "
        f"(key assets.{_key(asset)}.productivity_m2_per_day.{first})."
    )


# ------------------------------------------------------------------------------------------
# writing
# ------------------------------------------------------------------------------------------


def capacity_to_dict(capacity: Capacity) -> dict[str, Any]:
    """The TOML-shaped dict of ``capacity``; see :meth:`Capacity.to_dict`."""
    doc: dict[str, Any] = {"working_days_per_year": _plain(capacity.working_days_per_year)}
    doc["assets"] = {name: _asset_dict(asset) for name, asset in capacity.assets.items()}
    if capacity.release_mix is not None:
        doc["release_mix"] = {
            level: {method: _plain(share) for method, share in shares.items()}
            for level, shares in capacity.release_mix.items()
        }
    return doc


def _asset_dict(asset: Asset) -> dict[str, Any]:
    out: dict[str, Any] = {
        "kind": asset.kind,
        "count": _plain(asset.count),
        "growth_per_year": _plain(asset.growth_per_year),
    }
    by_level: dict[str, dict[str, Range]] = {}
    for (level, method), r in asset.productivity_m2_per_day.items():
        by_level.setdefault(level, {})[method] = r
    ordered = [lvl for lvl in THREAT_LEVELS if lvl in by_level]
    ordered += [lvl for lvl in by_level if lvl not in THREAT_LEVELS]
    productivity: dict[str, Any] = {}
    for level in ordered:
        methods = by_level[level]
        values = list(methods.values())
        if set(methods) == set(RELEASE_METHODS) and all(v == values[0] for v in values):
            productivity[level] = _range_value(values[0])
        else:
            names = [m for m in RELEASE_METHODS if m in methods]
            names += [m for m in methods if m not in RELEASE_METHODS]
            productivity[level] = {m: _range_value(methods[m]) for m in names}
    out["productivity_m2_per_day"] = productivity
    if asset.changes:
        out["changes"] = [
            {"date": day, "count": _plain(count)} for day, count in sorted(asset.changes)
        ]
    return out


def _range_value(r: Range) -> float | int | dict[str, float | int]:
    if r.is_fixed:
        return _plain(r.mode)
    return {"low": _plain(r.low), "mode": _plain(r.mode), "high": _plain(r.high)}


# ------------------------------------------------------------------------------------------
# small helpers
# ------------------------------------------------------------------------------------------


def _plain(value: float) -> float | int:
    """An integral float as an int (``220.0`` → ``220``), for a file people read."""
    number = float(value)
    if number.is_integer() and abs(number) < 2**53:
        return int(number)
    return number


def _num(value: float) -> str:
    return f"{_plain(value)}"


def _join(where: str, key: str) -> str:
    return f"{where}.{_key(key)}" if where else _key(key)


def _key(name: str) -> str:
    """A TOML key as written in a key path: bare if it can be, else quoted."""
    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else f'"{name}"'


def _shown(value: object) -> str:
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, str):
        return f"the text {value[:40]!r}"
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dt.date):
        return f"the date {value}"
    return f"{type(value).__name__} {str(value)[:40]}"
