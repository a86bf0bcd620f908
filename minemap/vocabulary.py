"""The words agencies use for threat levels, release methods and devices, mapped onto minemap's.

minemap counts with three threat levels (``high``, ``medium``, ``low``), three release
methods (``cleared``, ``reduced``, ``cancelled``) and six kinds of device (``ap_mine``,
``at_mine``, ``uxo``, ``submunition``, ``ied``, ``unknown``). Files say ``CHA``, ``Confirmed
Hazardous Area``, ``Technical Survey``, ``APM`` or a word in another language. The IMAS terms
are built in (:data:`THREAT_ALIASES`, :data:`METHOD_ALIASES`, :data:`DEVICE_ALIASES`); any
other value is mapped by the user with ``level_map=`` / ``method_map=`` / ``device_map=`` or a
small TOML file (:func:`load_vocabulary`, :func:`load_vocabularies`)::

    # vocabulary.toml
    [threat_level]
    "Zone rouge" = "high"
    SHA = "low"          # overrides the built-in SHA -> medium

    [method]
    "Déminage" = "cleared"

    [device_type]
    "Mine antipersonnel" = "ap_mine"

Values are compared after trimming, lower-casing and collapsing inner spaces, hyphens and
underscores, so ``Non-Technical Survey``, ``non technical survey`` and ``NON_TECHNICAL
SURVEY`` are one word.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path

from minemap._errors import InputFileError, SchemaError
from minemap.settings import DEVICE_TYPES, RELEASE_METHODS, THREAT_LEVELS

__all__ = [
    "DEVICE_ALIASES",
    "METHOD_ALIASES",
    "THREAT_ALIASES",
    "VOCABULARY_TABLES",
    "canonical_word",
    "load_vocabularies",
    "load_vocabulary",
    "resolve_aliases",
]

#: Built-in threat-level aliases (IMAS 04.10): CHA is confirmed (high), SHA suspected
#: (medium unless the user maps it otherwise).
THREAT_ALIASES: dict[str, str] = {
    "cha": "high",
    "confirmed hazardous area": "high",
    "confirmed hazard area": "high",
    "confirmed": "high",
    "high threat": "high",
    "high risk": "high",
    "sha": "medium",
    "suspected hazardous area": "medium",
    "suspected hazard area": "medium",
    "suspected": "medium",
    "medium threat": "medium",
    "medium risk": "medium",
    "low threat": "low",
    "low risk": "low",
}

#: Built-in release-method aliases (IMAS 07.11 land release): the activity or its result.
METHOD_ALIASES: dict[str, str] = {
    "clearance": "cleared",
    "clear": "cleared",
    "cleared by clearance": "cleared",
    "technical survey": "reduced",
    "ts": "reduced",
    "reduction": "reduced",
    "reduced by technical survey": "reduced",
    "non technical survey": "cancelled",
    "nts": "cancelled",
    "cancellation": "cancelled",
    "canceled": "cancelled",
    "cancelled by non technical survey": "cancelled",
}

#: Built-in device-type aliases (IMAS 04.10 terms and their usual abbreviations). Abandoned
#: explosive ordnance (AXO) is not unexploded ordnance in IMAS, but both are explosive
#: remnants of war (ERW) to be found and destroyed: minemap counts AXO as ``uxo``. A
#: cluster munition found whole is counted as ``submunition``, as its bomblets are.
DEVICE_ALIASES: dict[str, str] = {
    "ap mine": "ap_mine",
    "ap mines": "ap_mine",
    "apm": "ap_mine",
    "anti personnel mine": "ap_mine",
    "anti personnel mines": "ap_mine",
    "anti personnel landmine": "ap_mine",
    "antipersonnel mine": "ap_mine",
    "antipersonnel": "ap_mine",
    "anti personnel": "ap_mine",
    "at mine": "at_mine",
    "at mines": "at_mine",
    "atm": "at_mine",
    "anti tank mine": "at_mine",
    "anti tank mines": "at_mine",
    "antitank mine": "at_mine",
    "antitank": "at_mine",
    "anti tank": "at_mine",
    "anti vehicle mine": "at_mine",
    "antivehicle mine": "at_mine",
    "av mine": "at_mine",
    "avm": "at_mine",
    "unexploded ordnance": "uxo",
    "erw": "uxo",
    "explosive remnants of war": "uxo",
    "explosive remnant of war": "uxo",
    "axo": "uxo",
    "abandoned explosive ordnance": "uxo",
    "submunitions": "submunition",
    "cluster submunition": "submunition",
    "cluster submunitions": "submunition",
    "cluster munition": "submunition",
    "cluster munitions": "submunition",
    "cluster munition remnant": "submunition",
    "cmr": "submunition",
    "bomblet": "submunition",
    "bomblets": "submunition",
    "cm": "submunition",
    "improvised explosive device": "ied",
    "improvised explosive devices": "ied",
    "ieds": "ied",
    "not known": "unknown",
    "not recorded": "unknown",
}

#: The TOML table each mapping option is read from (:func:`load_vocabularies`).
VOCABULARY_TABLES: dict[str, str] = {
    "level_map": "threat_level",
    "method_map": "method",
    "device_map": "device_type",
}
_TABLE_VALUES: dict[str, tuple[str, ...]] = {
    "threat_level": THREAT_LEVELS,
    "method": RELEASE_METHODS,
    "device_type": DEVICE_TYPES,
}
_TABLE_EXAMPLES = {"threat_level": "Zone rouge", "method": "Déminage", "device_type": "Mina"}

_SEPARATORS = re.compile(r"[\s_\-]+")


def canonical_word(value: object) -> str:
    """Trim, lower-case and collapse spaces, hyphens and underscores into one space."""
    return _SEPARATORS.sub(" ", str(value).strip().lower()).strip()


def _spelled(allowed: Sequence[str]) -> dict[str, str]:
    """Each allowed value under its normalised spelling (``ap mine`` → ``ap_mine``)."""
    return {canonical_word(word): word for word in allowed}


def resolve_aliases(
    user_map: Mapping[str, str] | None,
    *,
    allowed: Sequence[str],
    builtin: Mapping[str, str],
    option: str,
) -> dict[str, str]:
    """The lookup from a normalised word to a canonical value: built-ins, then the user's.

    Targets are compared as values are (case, spaces, hyphens and underscores ignored), so
    ``{"Mina": "AP mine"}`` maps onto ``ap_mine``.

    Raises
    ------
    SchemaError
        A user mapping names a target outside ``allowed``.

    Examples
    --------
    >>> lookup = resolve_aliases(
    ...     {"Mina": "AP-mine"}, allowed=DEVICE_TYPES, builtin=DEVICE_ALIASES, option="device_map"
    ... )
    >>> lookup[canonical_word("mina")], lookup[canonical_word("APM")]
    ('ap_mine', 'ap_mine')
    """
    spelled = _spelled(allowed)
    lookup = dict(spelled)
    lookup.update(builtin)
    for key, target in (user_map or {}).items():
        value = spelled.get(canonical_word(target))
        if value is None:
            raise SchemaError(
                f"{option}: {key!r} maps to {target!r}, which is not one of "
                f"{', '.join(allowed)}; map it onto one of those."
            )
        lookup[canonical_word(key)] = value
    return lookup


def load_vocabularies(path: str | os.PathLike) -> dict[str, dict[str, str]]:
    """Read every mapping of a vocabulary TOML file, keyed by the option it feeds.

    The file has up to three tables, ``[threat_level]``, ``[method]`` and
    ``[device_type]`` (:data:`VOCABULARY_TABLES`), each mapping a word found in the data
    onto one of minemap's values; a table the file lacks gives an empty mapping.

    Returns
    -------
    dict
        ``{"level_map": {...}, "method_map": {...}, "device_map": {...}}``, ready to pass
        to the readers as keyword arguments.

    Raises
    ------
    InputFileError
        The file does not exist.
    SchemaError
        The file is not TOML, has another table, or maps a word onto an unknown value.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "vocabulary.toml"
    >>> _ = path.write_text('[device_type]\\nMina = "ap_mine"\\n', encoding="utf-8")
    >>> load_vocabularies(path)
    {'level_map': {}, 'method_map': {}, 'device_map': {'Mina': 'ap_mine'}}
    """
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"{path}: no such vocabulary file; check the path.")
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SchemaError(
            f"{path.name} is not valid TOML ({exc}); write it as "
            '[threat_level] "Your word" = "high", [method] "Your word" = '
            '"cleared" and [device_type] "Your word" = "ap_mine".'
        ) from None
    tables = list(_TABLE_VALUES)
    unknown = set(doc) - set(tables)
    if unknown:
        raise SchemaError(
            f"{path.name}: unknown table(s) {sorted(unknown)}; use "
            f"{', '.join(f'[{t}]' for t in tables[:-1])} and [{tables[-1]}]."
        )
    maps: dict[str, dict[str, str]] = {}
    for option, table in VOCABULARY_TABLES.items():
        allowed = _TABLE_VALUES[table]
        entries = doc.get(table, {})
        if not isinstance(entries, dict) or not all(isinstance(v, str) for v in entries.values()):
            raise SchemaError(
                f"{path.name}: [{table}] must map words to one of "
                f'{", ".join(allowed)}, e.g. "{_TABLE_EXAMPLES[table]}" = "{allowed[0]}".'
            )
        spelled = _spelled(allowed)
        for key, target in entries.items():
            if canonical_word(target) not in spelled:
                raise SchemaError(
                    f"{path.name}: [{table}] maps {key!r} to {target!r}, which is "
                    f"not one of {', '.join(allowed)}; map it onto one of "
                    "those."
                )
        maps[option] = {str(k): v for k, v in entries.items()}
    return maps


def load_vocabulary(path: str | os.PathLike) -> tuple[dict[str, str], dict[str, str]]:
    """Read ``(level_map, method_map)`` from a TOML file.

    The file has up to three tables, ``[threat_level]``, ``[method]`` and ``[device_type]``
    (read with :func:`load_vocabularies`), each mapping a word found in the data onto one of
    minemap's values.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "vocabulary.toml"
    >>> _ = path.write_text('[threat_level]\\n"Zone rouge" = "high"\\n', encoding="utf-8")
    >>> load_vocabulary(path)
    ({'Zone rouge': 'high'}, {})
    """
    maps = load_vocabularies(path)
    return maps["level_map"], maps["method_map"]
