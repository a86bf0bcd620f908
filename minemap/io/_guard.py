"""Hostile input: what is checked before GDAL opens a file, and how it is opened.

GDAL picks a driver from a file's contents and some drivers follow what a file says: a
GeoJSON ``crs`` member of type ``link`` makes GDAL fetch the URL, a ``gdal_streamed_alg``
JSON runs a GDAL pipeline, a GeoPackage view may call ``gdal_get_pixel_value()`` on a
``/vsicurl/`` URL. minemap therefore

* reads only the formats it documents (:data:`DRIVERS`), from local paths (no URL, no
  ``/vsi...`` virtual path);
* opens each file with the driver its extension names (a ``GeoJSON:``, ``GPKG:`` or
  ``CSV:`` prefix where GDAL has one; a checked signature for the others);
* refuses what would make the driver reach out (a GeoJSON ``crs`` given as a link or URL,
  an XML document type in an OpenStreetMap file);
* reads under GDAL options (:func:`reading`) that keep SQL functions from opening other
  files, ``/vsicurl/`` from fetching, and lift GDAL's limits on line and object size, so
  that no row is skipped in silence.

Nothing is fetched from the network while reading.
"""

from __future__ import annotations

import codecs
import contextlib
import json
import mmap
import os
import re
from pathlib import Path

from minemap._errors import FormatError, InputFileError, option_hint
from minemap.io import _curves

#: The formats minemap reads, by extension, and the GDAL driver that reads each (GeoParquet
#: is read by pyarrow).
DRIVERS: dict[str, str] = {
    ".gpkg": "GPKG",
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".shp": "ESRI Shapefile",
    ".shp.zip": "ESRI Shapefile",  # a zipped Shapefile, one file (what minemap writes)
    ".shz": "ESRI Shapefile",
    ".fgb": "FlatGeobuf",
    ".parquet": "Parquet",
    ".geoparquet": "Parquet",
    ".csv": "CSV",
    ".tsv": "CSV",
    ".osm": "OSM",
    ".pbf": "OSM",
}

_FORMATS = (
    "GeoPackage (.gpkg), GeoJSON (.geojson, .json), Shapefile (.shp, or zipped: "
    ".shp.zip, .shz), FlatGeobuf "
    "(.fgb), GeoParquet (.parquet), CSV (.csv, .tsv) or OpenStreetMap (.osm, .osm.pbf)"
)

#: Drivers GDAL can be told to use with a prefix to the file name.
_PREFIXES = {"GeoJSON": "GeoJSON:", "GPKG": "GPKG:", "CSV": "CSV:"}

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:/")

#: GDAL options for the duration of a read: no SQL function opens another dataset (GDAL
#: refuses it unless ``OGR_SQLITE_ALLOW_EXTERNAL_ACCESS`` is YES), ``/vsicurl/`` accepts no
#: file name, other HTTP requests go to a closed local port, and no line or JSON object is
#: too long to be read (GDAL's defaults, 10 MB and 200 MB, skip or refuse it).
READ_OPTIONS: dict[str, str] = {
    "OGR_SQLITE_ALLOW_EXTERNAL_ACCESS": "NO",
    "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".minemap-reads-local-files-only",
    "CPL_VSIL_CURL_ALLOWED_FILENAME": "/minemap-reads-local-files-only",
    "GDAL_HTTP_PROXY": "127.0.0.1:9",
    "GDAL_HTTPS_PROXY": "127.0.0.1:9",
    "GDAL_HTTP_MAX_RETRY": "0",
    "OGR_CSV_MAX_LINE_SIZE": "0",
    "OGR_GEOJSON_MAX_OBJ_SIZE": "0",
}


def reading(**extra: str) -> contextlib.AbstractContextManager[None]:
    """GDAL options under which minemap reads a file (:data:`READ_OPTIONS`), restored after."""
    return _curves.gdal_options(**READ_OPTIONS, **extra)


def check_source(source: str | os.PathLike) -> Path:
    """Refuse a URL or a GDAL virtual path; return the path.

    Examples
    --------
    >>> check_source("/vsicurl/http://example.org/h.geojson")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    minemap._errors.InputFileError: /vsicurl/http://...: minemap reads local files only ...
    """
    text = os.fspath(source)
    if isinstance(text, bytes):
        text = os.fsdecode(text)
    bare = text.replace("\\", "/")
    if bare.startswith("/vsi") or _URL.match(bare) and not re.match(r"^[A-Za-z]:/", bare):
        raise InputFileError(
            f"{text}: minemap reads local files only (not URLs nor GDAL virtual paths such as "
            "/vsicurl/ or /vsizip/); download or unzip the file and pass its path."
        )
    return Path(text)


def file_suffix(path: str | os.PathLike) -> str:
    """A file's extension, lower case, with ``.shp.zip`` as one extension (inputs and
    outputs alike)."""
    name = Path(path).name.lower()
    return ".shp.zip" if name.endswith(".shp.zip") else Path(name).suffix


#: What a zipped Shapefile may hold: the parts of one Shapefile, nothing else.
_SHAPEFILE_PARTS = frozenset(
    {".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx", ".qpj", ".xml"}
)


def check_zipped_shapefile(path: Path) -> None:
    """Refuse a ``.shp.zip``/``.shz`` that is not exactly one Shapefile's parts.

    GDAL opens such a file through its zip reader; anything else in the archive (a VRT, a
    folder, a second layer) could make it read what was not asked for.
    """
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            shp = [n for n in names if n.lower().endswith(".shp")]
            odd = [
                n
                for n in names
                if "/" in n
                or "\\" in n
                or n.startswith(".")
                or Path(n).suffix.lower() not in _SHAPEFILE_PARTS
            ]
            if odd or len(shp) != 1:
                raise FormatError(
                    f"{path.name}: a zipped Shapefile must hold the parts of exactly one "
                    f"Shapefile (.shp, .shx, .dbf, .prj, .cpg) at its top level; it holds "
                    f"{names[:6]}; unzip it and pass the .shp, or zip one Shapefile again."
                )
            with archive.open(shp[0]) as member:
                head = member.read(4)
    except zipfile.BadZipFile:
        raise FormatError(
            f"{path.name} is not a zip archive, as its extension says; pass "
            "the Shapefile's .shp, or zip it again."
        ) from None
    if head != b"\x00\x00\x27\x0a":
        raise FormatError(
            f"{path.name}: {shp[0]} inside it is not a Shapefile; zip the real Shapefile again."
        )


def check_suffix(path: Path) -> str:
    """The driver of ``path``'s extension; refuse an extension minemap does not read."""
    driver = DRIVERS.get(file_suffix(path))
    if driver is None:
        raise FormatError(
            f"{path.name}: minemap does not read {path.suffix or 'files without an extension'}"
            f" files; it reads {_FORMATS}, each with the driver its extension names: export "
            "the layer to one of those formats."
        )
    return driver


def check_encoding(encoding: str | None) -> str | None:
    """The name GDAL and Python both know for ``encoding`` (``'latin-1'`` → ISO-8859-1).

    Examples
    --------
    >>> check_encoding("latin-1"), check_encoding("cp1251"), check_encoding(None)
    ('ISO-8859-1', 'CP1251', None)
    """
    if encoding is None:
        return None
    try:
        name = codecs.lookup(str(encoding)).name
    except LookupError:
        raise FormatError(
            f"unknown text encoding {encoding!r}; pass one such as "
            f"{option_hint('encoding', repr('latin-1'))} or 'cp1252'."
        ) from None
    if name.startswith("iso8859-"):
        return "ISO-8859-" + name.removeprefix("iso8859-")
    return name.upper()


def shapefile_encoding(path: Path) -> str | None:
    """The encoding of a Shapefile that declares none (no ``.cpg``, no code page in the
    ``.dbf`` header, or only "ANSI"), else None (GDAL reads the declared one).

    GDAL then assumes ISO-8859-1, as old exports are; a ``.dbf`` whose text is all valid
    UTF-8 (which ISO-8859-1 text with accents practically never is) is read as UTF-8.
    """
    if any(path.with_suffix(s).exists() for s in (".cpg", ".CPG")):
        return None
    dbf = next(
        (p for p in (path.with_suffix(".dbf"), path.with_suffix(".DBF")) if p.exists()), None
    )
    if dbf is None:
        return None
    with open(dbf, "rb") as handle:
        data = handle.read()
    if len(data) > 29 and data[29] not in (0, 0x57):
        return None  # a code page's language driver id (0x57 means "ANSI", any of them)
    records = data[int.from_bytes(data[8:10], "little") :] if len(data) > 10 else b""
    try:
        codecs_utf8_check(records)
    except UnicodeDecodeError:
        return "ISO-8859-1"
    return "UTF-8"


def gdal_path(path: Path) -> str:
    """What pyogrio is given to open ``path`` with the driver its extension names.

    Examples
    --------
    >>> gdal_path(Path("/data/hazards.geojson"))
    'GeoJSON:/data/hazards.geojson'
    """
    driver = check_suffix(path)
    full = os.path.abspath(path)
    prefix = _PREFIXES.get(driver, "")
    if prefix == "GPKG:" and ":" in full.replace(os.path.splitdrive(full)[0], "", 1):
        prefix = ""  # GPKG:file:table would split the name; the signature is checked instead
    if not prefix and "!" in full:
        raise InputFileError(
            f"{path}: a '!' in a file or folder name makes GDAL read a file inside an archive "
            "instead; rename the file or folder without '!'."
        )
    return prefix + full


def open_head(path: Path, size: int = 4096) -> bytes:
    """The first ``size`` bytes of ``path``; an unreadable file is an InputFileError."""
    try:
        with open(path, "rb") as handle:
            return handle.read(size)
    except IsADirectoryError:
        raise InputFileError(f"{path} is a folder; pass the data file inside it.") from None
    except PermissionError:
        raise InputFileError(
            f"{path}: permission denied: you may not read this file; ask its owner for read "
            "access or copy it somewhere you can read it."
        ) from None
    except OSError as exc:
        raise InputFileError(
            f"{path} cannot be opened ({exc.strerror or exc}); check the "
            "path and that the disk is available."
        ) from None


_XML_PROLOGUE = re.compile(
    rb"\A(?:\xef\xbb\xbf)?\s*(?:<\?xml[^>]*\?>\s*)?(?:<!--.*?-->\s*)*", re.DOTALL
)


def check_osm_xml(path: Path, head: bytes) -> None:
    """Refuse an ``.osm`` file whose root element is not ``<osm>`` or that has a DTD."""
    if b"<!DOCTYPE" in head.upper() or b"<!ENTITY" in head.upper():
        raise FormatError(
            f"{path.name} declares an XML document type (<!DOCTYPE ...>), which OpenStreetMap "
            "files never need and which could make the parser read other files; delete the "
            "<!DOCTYPE ...> declaration or export the extract again."
        )
    prologue = _XML_PROLOGUE.match(head)
    rest = head[prologue.end() if prologue else 0 :]
    if not rest.startswith(b"<osm") or rest[4:5] not in (b" ", b">", b"\t", b"\r", b"\n"):
        raise FormatError(
            f"{path.name} does not hold OpenStreetMap XML data, as its extension says (its "
            f"first element is {rest[:20]!r}, not <osm>); give the file its right extension "
            "or export the extract again."
        )


#: A JSON member named ``crs`` in any case, its letters possibly written as \\u escapes.
_CRS_KEY = re.compile(rb'"(?:[cC]|\\u00[46]3)(?:[rR]|\\u00[57]2)(?:[sS]|\\u00[57]3)"\s*:\s*')

#: ``crs`` types GDAL reads without fetching anything.
_LOCAL_CRS_TYPES = frozenset({"name", "epsg"})


def check_geojson(path: Path, *, encoding: str | None = None) -> bytes | None:
    """Check a GeoJSON file before GDAL opens it; return it as UTF-8 when re-encoded.

    A ``crs`` member (anywhere: GDAL reads one on geometries too) must be a name or an EPSG
    code: GDAL fetches a ``link`` or ``url`` CRS from the network. Without ``encoding``, the
    file must be UTF-8, as GeoJSON is; with it, the file is decoded with ``encoding`` and the
    UTF-8 text is returned for reading.
    """
    try:
        with open(path, "rb") as handle, contextlib.ExitStack() as stack:
            size = os.fstat(handle.fileno()).st_size
            data: bytes | mmap.mmap = b""
            if size:
                data = stack.enter_context(mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ))
            recoded = _decode(path, data, encoding)
            _check_crs_members(path, recoded if recoded is not None else data)
            return recoded
    except OSError:
        open_head(path)  # raises the right InputFileError
        raise


def _decode(path: Path, data: bytes | mmap.mmap, encoding: str | None) -> bytes | None:
    if encoding is not None:
        try:
            text = bytes(data).decode(encoding)
        except LookupError:
            raise FormatError(
                f"{path.name}: unknown text encoding {encoding!r}; pass one "
                f"such as {option_hint('encoding', repr('latin-1'))}."
            ) from None
        except UnicodeDecodeError as err:
            raise FormatError(
                f"{path.name} is not {encoding} text (byte {err.start}: "
                f"{bytes(data[err.start : err.start + 4])!r}); pass the encoding it was written "
                f"in with {option_hint('encoding')}."
            ) from None
        return text.lstrip("\ufeff").encode("utf-8")
    try:
        codecs_utf8_check(data)
    except UnicodeDecodeError as err:
        line = bytes(data[: err.start]).count(b"\n") + 1
        raise FormatError(
            f"{path.name} is not UTF-8 text, as GeoJSON must be (line {line}, byte "
            f"{err.start}: {bytes(data[err.start : err.start + 4])!r}); if it was written in "
            f"another encoding, pass it, e.g. {option_hint('encoding', repr('latin-1'))}."
        ) from None
    return None


def codecs_utf8_check(data: bytes | mmap.mmap) -> None:
    """Raise UnicodeDecodeError if ``data`` is not UTF-8 (checked in 16 MiB pieces)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    step = 1 << 24
    for start in range(0, len(data), step):
        try:
            decoder.decode(data[start : start + step], final=start + step >= len(data))
        except UnicodeDecodeError as err:
            err.start += start
            raise
    decoder.decode(b"", final=True)


def _check_crs_members(path: Path, data: bytes | mmap.mmap) -> None:
    decoder = json.JSONDecoder(object_pairs_hook=list)
    for match in _CRS_KEY.finditer(data):
        window = bytes(data[match.end() : match.end() + 65536]).decode("utf-8", "replace")
        try:
            value, _ = decoder.raw_decode(window)
        except (json.JSONDecodeError, RecursionError):
            value = "unreadable"
        if value != "unreadable" and not isinstance(value, list):
            continue  # a string, number or null: GDAL reads a CRS from an object only
        kinds = (
            [str(v).strip().lower() for k, v in value if k.lower() == "type"]
            if (isinstance(value, list))
            else ["unreadable"]
        )
        if kinds and all(kind in _LOCAL_CRS_TYPES for kind in kinds):
            continue
        raise FormatError(
            f'{path.name}: its "crs" member is a {kinds[0] if kinds else "typeless"!r} CRS, '
            "which GDAL would fetch from the network; minemap never fetches anything while "
            "reading: replace it with a CRS name such as "
            '{"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32638"}}, or delete '
            f"it and pass the CRS with {option_hint('crs')}."
        )


#: The four bytes a Parquet file starts and ends with.
PARQUET_MAGIC = b"PAR1"


def check_parquet(path: Path) -> None:
    """Refuse a file named ``.parquet`` that is not Parquet (``PAR1`` at both ends).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> fake = pathlib.Path(tempfile.mkdtemp()) / "hazards.parquet"
    >>> _ = fake.write_text("<VRTDataset/>")
    >>> check_parquet(fake)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    minemap._errors.FormatError: hazards.parquet does not hold Parquet data, ...
    """
    head = open_head(path, len(PARQUET_MAGIC))
    tail = b""
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size >= 2 * len(PARQUET_MAGIC):
                handle.seek(size - len(PARQUET_MAGIC))
                tail = handle.read(len(PARQUET_MAGIC))
    except OSError:
        open_head(path)  # raises the right InputFileError
        raise
    if head != PARQUET_MAGIC or tail != PARQUET_MAGIC:
        what = "is truncated" if head == PARQUET_MAGIC else f"starts with {head!r}"
        raise FormatError(
            f"{path.name} does not hold Parquet data, as its extension says (it {what}); "
            "minemap opens a file only with the format its extension names: export the "
            "layer again as GeoParquet, or give the file its right extension."
        )
