"""The words agencies use for threat levels and release methods, mapped onto minemap's.

minemap counts with three threat levels (``high``, ``medium``, ``low``) and three release
methods (``cleared``, ``reduced``, ``cancelled``). Files say ``CHA``, ``Confirmed Hazardous
Area``, ``Technical Survey`` or a word in another language. The IMAS terms are built in
(:data:`THREAT_ALIASES`, :data:`METHOD_ALIASES`); any other value is mapped by the user with
``level_map=`` / ``method_map=`` or a small TOML file (:func:`load_vocabulary`)::

    # vocabulary.toml
    [threat_level]
    "Zone rouge" = "high"
    SHA = "low"          # overrides the built-in SHA -> medium

    [method]
    "Déminage" = "cleared"

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
from minemap.settings import RELEASE_METHODS, THREAT_LEVELS

__all__ = [
    "METHOD_ALIASES",
    "THREAT_ALIASES",
    "canonical_word",
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

_SEPARATORS = re.compile(r"[\s_\-]+")


def canonical_word(value: object) -> str:
    """Trim, lower-case and collapse spaces, hyphens and underscores into one space."""
    return _SEPARATORS.sub(" ", str(value).strip().lower()).strip()


def resolve_aliases(
    user_map: Mapping[str, str] | None,
    *,
    allowed: Sequence[str],
    builtin: Mapping[str, str],
    option: str,
) -> dict[str, str]:
    """The lookup from a normalised word to a canonical value: built-ins, then the user's.

    Raises
    ------
    SchemaError
        A user mapping names a target outside ``allowed``.
    """
    lookup = {word: word for word in allowed}
    lookup.update(builtin)
    for key, target in (user_map or {}).items():
        value = canonical_word(target)
        if value not in allowed:
            raise SchemaError(
                f"{option}: {key!r} maps to {target!r}, which is not one of "
                f"{', '.join(allowed)}; map it onto one of those."
            )
        lookup[canonical_word(key)] = value
    return lookup


def load_vocabulary(path: str | os.PathLike) -> tuple[dict[str, str], dict[str, str]]:
    """Read ``(level_map, method_map)`` from a TOML file.

    The file has up to two tables, ``[threat_level]`` and ``[method]``, each mapping a word
    found in the data onto one of minemap's values.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "vocabulary.toml"
    >>> _ = path.write_text('[threat_level]\\n"Zone rouge" = "high"\\n', encoding="utf-8")
    >>> load_vocabulary(path)
    ({'Zone rouge': 'high'}, {})
    """
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"{path}: no such vocabulary file; check the path.")
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SchemaError(
            f"{path.name} is not valid TOML ({exc}); write it as "
            '[threat_level] "Your word" = "high" and [method] "Your word" = '
            '"cleared".'
        ) from None
    unknown = set(doc) - {"threat_level", "method"}
    if unknown:
        raise SchemaError(
            f"{path.name}: unknown table(s) {sorted(unknown)}; use [threat_level] and [method]."
        )
    maps: list[dict[str, str]] = []
    for table, allowed in (("threat_level", THREAT_LEVELS), ("method", RELEASE_METHODS)):
        entries = doc.get(table, {})
        if not isinstance(entries, dict) or not all(isinstance(v, str) for v in entries.values()):
            raise SchemaError(
                f"{path.name}: [{table}] must map words to one of "
                f'{", ".join(allowed)}, e.g. "Zone rouge" = "{allowed[0]}".'
            )
        for key, target in entries.items():
            if canonical_word(target) not in allowed:
                raise SchemaError(
                    f"{path.name}: [{table}] maps {key!r} to {target!r}, which is "
                    f"not one of {', '.join(allowed)}; map it onto one of "
                    "those."
                )
        maps.append({str(k): v for k, v in entries.items()})
    return maps[0], maps[1]
