"""What a partitioned GeoParquet layer is on disk, and where no output may go.

A partitioned layer is a folder of ``.parquet`` files and nothing else (hidden files and
the ``_SUCCESS``/``_metadata`` files other writers leave aside), named with a GeoParquet
extension when minemap writes it (``zones.parquet/``). The checks here need only the file
system: :mod:`minemap.io.staging` refuses an output inside such a folder, and
:mod:`minemap.io.parquet` reads and writes the layers.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from minemap._errors import OutputError
from minemap.io import _guard

#: Extensions that, followed by a slash, make a layer output a folder of GeoParquet files.
FOLDER_SUFFIXES = (".parquet", ".geoparquet")

#: The extension of each file of a partitioned layer.
PART_SUFFIX = ".parquet"


def ignored_entry(name: str) -> bool:
    """Hidden files and the ``_SUCCESS``/``_metadata`` files other writers leave."""
    return name.startswith((".", "_"))


def folder_entries(folder: Path) -> tuple[list[Path], list[str]]:
    """The ``.parquet`` entries of ``folder`` (sorted) and the names of the other entries."""
    parts, others = [], []
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        if ignored_entry(entry.name):
            continue
        if entry.name.lower().endswith(PART_SUFFIX):
            parts.append(Path(entry.path))
        else:
            others.append(entry.name)
    return parts, others


#: Extensions of other formats: a folder named so (``hazards.gpkg/``) is not read as a
#: partitioned GeoParquet layer, whatever it holds.
_OTHER_FORMATS = frozenset(
    {*_guard.DRIVERS, ".zip", ".tif", ".tiff", ".toml", ".txt", ".xlsx", ".kml", ".gml"}
) - {".parquet", ".geoparquet"}


def named_as_other_format(folder: Path) -> bool:
    """Whether ``folder``'s name ends in another format's extension (``hazards.gpkg/``),
    so that it is never taken for a partitioned layer.

    Examples
    --------
    >>> named_as_other_format(Path("hazards.gpkg")), named_as_other_format(Path("h.parquet"))
    (True, False)
    """
    return folder.suffix.lower() in _OTHER_FORMATS or folder.name.lower().endswith(".shp.zip")


def is_partitioned(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a folder holding ``.parquet`` files and nothing else (hidden
    files aside): a layer :func:`minemap.io.parquet.read_partitioned` reads.

    The files themselves are not opened; :func:`minemap.io.parquet.read_partitioned` checks
    them.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> is_partitioned(folder)  # empty
    False
    >>> _ = (folder / "part-00000.parquet").write_bytes(b"")
    >>> is_partitioned(folder)
    True
    >>> _ = (folder / "notes.txt").write_text("field notes")
    >>> is_partitioned(folder)
    False
    """
    folder = Path(path)
    try:
        if not folder.is_dir() or named_as_other_format(folder):
            return False
        parts, others = folder_entries(folder)
    except OSError:
        return False
    return bool(parts) and not others


def check_not_in_layer(
    path: str | os.PathLike, *, sources: Sequence[str | os.PathLike] = ()
) -> None:
    """Refuse an output inside a layer folder: one of ``sources`` (folders the data was read
    from), or a partitioned layer (:func:`is_partitioned`) whose name ends in ``.parquet``
    or ``.geoparquet``. A file or folder written there would become part of that layer (or
    make it unreadable).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> layer = pathlib.Path(tempfile.mkdtemp()) / "hazards.parquet"
    >>> layer.mkdir()
    >>> _ = (layer / "part-00000.parquet").write_bytes(b"")
    >>> check_not_in_layer(layer.parent / "zones.gpkg")  # beside the layer: fine
    >>> check_not_in_layer(layer / "zones.parquet")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    minemap._errors.OutputError: ...zones.parquet: it is inside the partitioned GeoParquet ...
    """
    target = Path(os.path.abspath(path)).resolve()
    for source in sources:
        folder = Path(source).resolve()
        if folder in target.parents:
            raise OutputError(
                f"{os.fspath(path)}: it is inside the folder {folder.name}, an input layer; "
                "writing there would change that input. Write beside the folder instead."
            )
    parent = target.parent
    if parent.name.lower().endswith(FOLDER_SUFFIXES) and is_partitioned(parent):
        raise OutputError(
            f"{os.fspath(path)}: it is inside the partitioned GeoParquet layer {parent.name}/, "
            "where it would be read as part of that layer; write beside the folder instead."
        )
