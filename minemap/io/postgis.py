"""Layers read from a PostGIS database: a table or a query, in chunks, with a spatial filter.

A database source is a URL (``postgresql://user@host:5432/dbname``; SQLAlchemy's
``postgresql+psycopg://`` spelling is accepted too) plus a table name or a query. The
connection goes through libpq (:mod:`psycopg`), so credentials come from the URL, the
``PG*`` environment variables (``PGPASSWORD``, ``PGUSER``, ...) or ``~/.pgpass``, as for
``psql``. Nothing minemap says (errors, warnings, labels, reports, maps) holds a password:
every message is built from :func:`display_url` and scrubbed of the password.

Rows are read through a server-side cursor in chunks of :data:`CHUNK_ROWS`, each decoded
from well-known binary before the next is fetched, and a bounding box (``bbox``) becomes a
``geom && envelope`` condition the table's GiST index answers: a national table never has to
fit in memory, only the rows inside the box. Every read runs in a read-only transaction, and
table, schema and column names are quoted identifiers, never text formatted into SQL.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import difflib
import os
import re
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from minemap import _validate
from minemap._errors import CRSError, DatabaseError, EmptyLayerError, FormatError, SchemaError
from minemap._extras import require

if TYPE_CHECKING:
    import psycopg

#: Rows fetched from the server at a time (each chunk is decoded before the next arrives).
CHUNK_ROWS = 20_000

#: Seconds to wait for a server that does not answer.
CONNECT_TIMEOUT_S = 10

_SCHEMES = re.compile(r"^(postgres|postgresql)(\+[a-z0-9_]+)?://", re.IGNORECASE)


def is_database_url(source: object) -> bool:
    """Whether ``source`` is a PostgreSQL URL (``postgresql://`` or ``postgres://``, with or
    without SQLAlchemy's ``+driver``).

    Examples
    --------
    >>> is_database_url("postgresql+psycopg://reader@db.example.org/mine_action")
    True
    >>> is_database_url("hazards.gpkg")
    False
    """
    return isinstance(source, str) and bool(_SCHEMES.match(source.strip()))


def _libpq_url(url: str) -> str:
    """The URL as libpq reads it: SQLAlchemy's ``+driver`` and minemap's ``schema=``
    removed."""
    plain = _SCHEMES.sub(lambda m: f"{m.group(1)}://", url.strip(), count=1)
    return without_query_key(plain, "schema")


def without_query_key(url: str, key: str) -> str:
    """``url`` without its ``key=...`` query parameters; the others are kept as written
    (not decoded and encoded again: ``%20`` stays ``%20``).

    Examples
    --------
    >>> without_query_key("postgresql://h/db?schema=r&options=-c%20x%3D1", "schema")
    'postgresql://h/db?options=-c%20x%3D1'
    """
    base, mark, query = url.partition("?")
    if not mark:
        return url
    kept = [item for item in query.split("&") if item.split("=", 1)[0] != key and item]
    return base + ("?" + "&".join(kept) if kept else "")


def url_schema(url: str) -> str | None:
    """The schema a URL names with ``?schema=NAME`` (minemap's, not libpq's), or None.

    Examples
    --------
    >>> url_schema("postgresql://analyst@db.example.org/imsma?schema=survey&sslmode=require")
    'survey'
    """
    from urllib.parse import parse_qsl, urlsplit

    given = [v for k, v in parse_qsl(urlsplit(url.strip()).query) if k == "schema"]
    return given[-1] if given and given[-1].strip() else None


def _parts(url: str) -> dict[str, str]:
    """libpq's reading of the URL (host, port, user, password, dbname, ...)."""
    require("psycopg", extra="postgis", purpose="reading from and writing to PostGIS")
    import psycopg.conninfo

    unreadable = DatabaseError(
        "the database URL cannot be read; write it as postgresql://USER@HOST:PORT/DBNAME, "
        "with characters such as @ / : ? # in the password percent-encoded (%40 %2F %3A %3F "
        "%23), or keep the password in PGPASSWORD or ~/.pgpass."
    )
    try:
        parts = {k: str(v) for k, v in psycopg.conninfo.conninfo_to_dict(_libpq_url(url)).items()}
    except psycopg.ProgrammingError:
        raise unreadable from None
    # a password with an unencoded @ or / is read by libpq as a host, a port or a database
    # name (and the host sent to DNS); a database name with '=' holds connection settings
    written = re.match(r"^[a-z0-9+]+://([^/?#]*)", url.strip(), re.IGNORECASE)
    netloc = written.group(1) if written else ""
    dbname, host = parts.get("dbname", ""), parts.get("host", "")
    if (
        netloc.count("@") > 1
        or "=" in dbname
        or "@" in dbname + host
        or not re.fullmatch(r"[0-9,]*", parts.get("port", ""))
    ):
        raise unreadable
    return parts


def display_url(url: str) -> str:
    """The URL as minemap shows it: user, host, port and database, never a password or any
    other parameter.

    Examples
    --------
    >>> display_url("postgresql://analyst:s3cret@10.0.0.5:5433/imsma?sslmode=require")
    'postgresql://analyst@10.0.0.5:5433/imsma'
    """
    parts = _parts(url)
    user = parts.get("user", "")
    host = parts.get("host", "") or parts.get("hostaddr", "")
    port = parts.get("port", "")
    where = (f"{user}@" if user else "") + host + (f":{port}" if port else "")
    shown = f"postgresql://{where}/{parts.get('dbname', '')}"
    return _hide(shown, _secrets(url))


def _secrets(url: str) -> list[str]:
    """Every password that could reach a message: the URL's and PGPASSWORD."""
    found = []
    try:
        require("psycopg", extra="postgis", purpose="reading from and writing to PostGIS")
        import psycopg.conninfo

        found.append(str(psycopg.conninfo.conninfo_to_dict(_libpq_url(url)).get("password") or ""))
    except Exception:  # noqa: BLE001 - an unreadable URL: the written form below still counts
        pass
    found.append(os.environ.get("PGPASSWORD", ""))
    match = re.match(r"^[a-z0-9+]+://[^:/@]*:([^@]*)@", url.strip(), re.IGNORECASE)
    if match:  # as written, before percent-decoding
        found.append(match.group(1))
    return [str(s) for s in found if s]


_ANY_URL = re.compile(r"(?:postgres|postgresql)(?:\+[a-z0-9_]+)?://[^\s'\"]+", re.IGNORECASE)


def hide_urls(text: str) -> str:
    """``text`` with every database URL in it shown as :func:`display_url` shows it (or as
    "the database URL" where it cannot be read): the last guard of what is printed.

    Examples
    --------
    >>> hide_urls("unrecognized arguments: --roads postgresql://u:s3cret@h/db")
    'unrecognized arguments: --roads postgresql://u@h/db'
    """

    def shown(match: re.Match[str]) -> str:
        try:
            return display_url(match.group(0))
        except Exception:  # noqa: BLE001 - unreadable, or no psycopg: show nothing of it
            return "the database URL"

    return _ANY_URL.sub(shown, text)


def _hide(text: str, secrets: Sequence[str]) -> str:
    """``text`` with each secret replaced by ``***`` where it stands as a whole word (so a
    short password is neither shown nor guessed from the words it garbles)."""
    for secret in sorted(secrets, key=len, reverse=True):
        text = re.sub(rf"(?<![\w]){re.escape(secret)}(?![\w])", "***", text)
    return text


def scrub(text: str, url: str) -> str:
    """``text`` with the URL replaced by :func:`display_url` and every password removed.

    Examples
    --------
    >>> scrub("cannot reach postgresql://u:pw@h/db", "postgresql://u:pw@h/db")
    'cannot reach postgresql://u@h/db'
    """
    try:
        text = text.replace(url, display_url(url))
    except DatabaseError:
        text = text.replace(url, "the database URL")
    return _hide(text, _secrets(url))


def _connect_hint(message: str) -> str:
    lowered = message.lower()
    if "password" in lowered or "authentication" in lowered:
        return "check the user and password (in the URL, the PGPASSWORD variable or ~/.pgpass)"
    if "does not exist" in lowered and "database" in lowered:
        return "check the database name at the end of the URL"
    if "timeout expired" in lowered or "timed out" in lowered:
        return f"the server did not answer within {CONNECT_TIMEOUT_S} s: check host and port"
    return "check the host and port, and that the server is running and accepts connections"


def connect(url: str, *, read_only: bool = True) -> psycopg.Connection[Any]:
    """Open a connection, or raise one line that names the server and never the password.

    Parameters
    ----------
    url : str
        ``postgresql://[user[:password]@]host[:port]/dbname`` (see the module's notes on
        credentials).
    read_only : bool, default True
        Run every transaction read-only (readers); writers pass False.

    Returns
    -------
    psycopg.Connection

    Raises
    ------
    DatabaseError
        If the server cannot be reached or refuses the login.
    """
    require("psycopg", extra="postgis", purpose="reading from and writing to PostGIS")
    import psycopg

    where = display_url(url)
    try:
        conn = psycopg.connect(
            _libpq_url(url), connect_timeout=CONNECT_TIMEOUT_S, application_name="minemap"
        )
    except psycopg.Error as exc:
        why = reason(exc, url)
        raise DatabaseError(f"{where}: cannot connect ({why}); {_connect_hint(why)}.") from None
    conn.read_only = read_only
    if read_only:  # every later transaction too, whatever a statement does to this one
        conn.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
        conn.commit()
    return conn


def reason(exc: Exception, url: str) -> str:
    """The server's own words for an error, on one line and without the password: the
    primary message of a server error (not its ``LINE 1:`` and caret lines), or the first
    line of a connection failure.

    Examples
    --------
    >>> reason(ValueError("bad login to postgresql://u:s3cret@h/d"), "postgresql://u:s3cret@h/d")
    'bad login to postgresql://u@h/d'
    """
    diag = getattr(exc, "diag", None)
    primary = getattr(diag, "message_primary", None) if diag is not None else None
    text = str(primary) if primary else str(exc)
    lines = [line.strip() for line in scrub(text, url).strip().splitlines() if line.strip()]
    return lines[0] if lines else "no reason given"


@dataclasses.dataclass(frozen=True, repr=False, eq=False)
class PostGIS:
    """A table or a query of a PostGIS database, to read as a layer.

    Give it wherever a reader takes a file (``read_hazards(PostGIS(url, table="hazards"))``);
    the readers also take the URL itself with ``table=``, ``sql=`` and ``bbox=``.

    Parameters
    ----------
    url : str
        Database URL (``postgresql://user@host:port/dbname``).
    table : str, optional
        Table or view, ``name`` or ``schema.name``.
    sql : str, optional
        A ``SELECT`` query instead of a table (run read-only, as a subquery).
    geometry : str, optional
        The geometry column, when the table has several (found when it has one).
    bbox : sequence of 4 floats, optional
        ``(xmin, ymin, xmax, ymax)`` in ``bbox_crs``: only rows whose geometry's box meets it
        are read (by the table's spatial index).
    bbox_crs : str, int or pyproj.CRS, default EPSG:4326
        CRS of ``bbox`` (longitude, latitude by default).
    region : geopandas.GeoDataFrame or geopandas.GeoSeries, optional
        Polygons, e.g. one district: only rows whose geometry meets their union are read
        (found by the table's spatial index, then ``ST_Intersects``).
    chunk_rows : int, default :data:`CHUNK_ROWS`
        Rows fetched at a time.

    Examples
    --------
    >>> src = PostGIS("postgresql://analyst:pw@db.example.org/imsma", table="hazards")
    >>> src
    PostGIS('postgresql://analyst@db.example.org/imsma', table='hazards')
    >>> src.label
    "postgresql://analyst@db.example.org/imsma table 'hazards'"
    """

    url: str
    table: str | None = None
    sql: str | None = None
    geometry: str | None = None
    bbox: tuple[float, float, float, float] | None = None
    bbox_crs: Any = "EPSG:4326"
    region: gpd.GeoDataFrame | gpd.GeoSeries | None = None
    chunk_rows: int = CHUNK_ROWS

    def __post_init__(self) -> None:
        if not is_database_url(self.url):
            raise DatabaseError(
                "a database source needs a URL starting postgresql:// "
                "(e.g. postgresql://user@host:5432/dbname)."
            )
        _parts(self.url)  # a URL libpq would misread is refused here, before any use
        if (self.table is None) == (self.sql is None):
            raise SchemaError(
                f"{display_url(self.url)}: give a table (table=, --table) or a query "
                "(sql=, --sql), one of the two."
            )
        for name, value in (("table", self.table), ("sql", self.sql), ("geometry", self.geometry)):
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise SchemaError(f"{display_url(self.url)}: {name} must be non-empty text.")
        if self.bbox is not None:
            object.__setattr__(self, "bbox", check_bbox(self.bbox))
        if self.region is not None:
            object.__setattr__(self, "region", _check_region(self.region))
        if isinstance(self.chunk_rows, bool) or not isinstance(self.chunk_rows, int):
            raise SchemaError("chunk_rows must be a whole number of rows, e.g. 20000.")
        if self.chunk_rows < 1:
            raise SchemaError("chunk_rows must be at least 1.")

    @property
    def label(self) -> str:
        """How messages name this source (never with a password)."""
        what = f"table {self.table!r}" if self.table is not None else "query"
        schema = url_schema(self.url)  # display_url leaves out every URL parameter
        if schema and self.table is not None and len(split_name(self.table)) == 1:
            what = f"table {self.table!r} in schema {schema!r}"
        return f"{display_url(self.url)} {what}"

    @property
    def selection(self) -> str | None:
        """Which rows are read, when not all of them: the ``bbox`` and ``region`` conditions
        in words, the box's numbers exactly as queried (for provenance: a report lists what
        was read, not the whole table), or None.

        A region named by its series' ``name`` (as ``--district NAME`` names it) is quoted
        by name.

        Examples
        --------
        >>> PostGIS("postgresql://h/db", table="roads", bbox=(46.5, 39.5, 47, 40.1234567)).selection
        'rows whose box meets 46.5, 39.5, 47.0, 40.1234567 (EPSG:4326)'
        >>> PostGIS("postgresql://h/db", table="roads").selection is None
        True
        """
        parts = []
        if self.bbox is not None:
            corners = ", ".join(repr(float(v)) for v in self.bbox)
            try:
                crs = pyproj.CRS.from_user_input(self.bbox_crs)
                epsg = crs.to_epsg(min_confidence=100)
                named = str(crs.name) if crs.name and crs.name != "unknown" else None
                name = f"EPSG:{epsg}" if epsg else named or str(self.bbox_crs)
            except pyproj.exceptions.CRSError:
                name = str(self.bbox_crs)
            parts.append(f"rows whose box meets {corners} ({name})")
        if self.region is not None:
            called = self.region.name  # a district's name; not a geometry column's
            if isinstance(called, str) and called and called != "geometry":
                parts.append(f"rows meeting the region {called!r}")
            else:
                count = int(shapely.get_num_geometries(np.asarray(self.region.array)).sum())
                parts.append(f"rows meeting a region of {count} polygon{'s' * (count != 1)}")
        return "; ".join(parts) or None

    def __repr__(self) -> str:
        what = f"table={self.table!r}" if self.table is not None else f"sql={self.sql!r}"
        return f"PostGIS({display_url(self.url)!r}, {what})"


def _check_region(region: object) -> gpd.GeoSeries:
    """The region's polygons as a GeoSeries with a CRS, or one line saying what is wrong."""
    if not isinstance(region, (gpd.GeoDataFrame, gpd.GeoSeries)):
        raise SchemaError(
            f"region must be a GeoDataFrame or GeoSeries of polygons (e.g. one district), "
            f"not {type(region).__name__}."
        )
    geoms = region.geometry if isinstance(region, gpd.GeoDataFrame) else region
    if geoms.crs is None:
        raise CRSError("region has no CRS; set one (region.set_crs(...)).")
    polygonal = geoms.geom_type.isin(["Polygon", "MultiPolygon"]) & ~geoms.is_empty
    if not polygonal.any() or not polygonal.all():
        raise SchemaError("region must hold polygons only (e.g. district boundaries).")
    name = region.name if isinstance(region, gpd.GeoSeries) else None
    return gpd.GeoSeries(np.asarray(geoms.array, dtype=object), crs=geoms.crs, name=name)


def _region_in(source: PostGIS, crs: pyproj.CRS) -> bytes:
    """The region's union in the column's CRS (edges densified first), as WKB."""
    from minemap import crs as _crs

    assert source.region is not None
    geoms = np.asarray(source.region.array, dtype=object)
    moved = _crs.project_dense(geoms, pyproj.CRS(source.region.crs), crs)
    union = shapely.make_valid(shapely.union_all(moved))
    if union.is_empty or not np.isfinite(union.bounds).all():
        raise CRSError(f"{source.label}: the region cannot be expressed in {crs.name}.")
    return bytes(shapely.to_wkb(union))


def check_bbox(bbox: object, *, option: str = "bbox") -> tuple[float, float, float, float]:
    """``bbox`` as four finite numbers ``(xmin, ymin, xmax, ymax)``, or one line saying why
    not (naming ``option``, e.g. ``--bbox``); a comma-separated text is read too.

    Examples
    --------
    >>> check_bbox("46.5, 39.5,47,40")
    (46.5, 39.5, 47.0, 40.0)
    """
    parts = bbox.split(",") if isinstance(bbox, str) else bbox
    try:
        values = tuple(float(v) for v in parts)  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        values = ()
    if len(values) != 4 or not all(np.isfinite(values)):
        raise SchemaError(
            f"{option} {bbox!r}: give four numbers xmin, ymin, xmax, ymax, e.g. "
            "bbox=(46.5, 39.5, 47.0, 40.0) (--bbox 46.5,39.5,47,40)."
        )
    x0, y0, x1, y1 = values
    if x0 > x1 or y0 > y1:
        raise SchemaError(f"{option} {bbox!r}: xmin must not exceed xmax, nor ymin ymax.")
    return (x0, y0, x1, y1)


# ------------------------------------------------------------------------------------------
# reading
# ------------------------------------------------------------------------------------------


@dataclasses.dataclass
class _Geometry:
    """The geometry column of a relation: name, whether geography, its declared SRID."""

    name: str
    geography: bool
    srid: int


def _relation(source: PostGIS) -> tuple[str, str | None]:
    """``(name, schema)`` of the table: ``name``, ``schema.name``, or either part in double
    quotes as SQL writes it (``"My Schema"."x.y"``, ``""`` for a quote inside)."""
    assert source.table is not None
    parts = split_name(source.table)
    if len(parts) == 1:
        return parts[0], url_schema(source.url)
    if len(parts) == 2:
        return parts[1], parts[0]
    raise SchemaError(
        f"{source.label}: {source.table!r} is not a table name; write name or schema.name, "
        'with double quotes around a part holding a dot ("My Schema"."x.y").'
    )


def split_name(text: str) -> list[str]:
    """The dot-separated parts of a table name, double-quoted parts taken as written.

    Examples
    --------
    >>> split_name('"My Schema"."x.y"'), split_name("survey.hazards"), split_name('a""b')
    (['My Schema', 'x.y'], ['survey', 'hazards'], ['a""b'])
    """
    parts: list[str] = []
    current, quoted, k = "", False, 0
    text = text.strip()
    while k < len(text):
        char = text[k]
        if quoted:
            if char == '"' and text[k + 1 : k + 2] == '"':
                current, k = current + '"', k + 2
                continue
            if char == '"':
                quoted = False
            else:
                current += char
        elif char == '"' and not current:
            quoted = True
        elif char == ".":
            parts.append(current)
            current = ""
        else:
            current += char
        k += 1
    parts.append(current)
    return parts


def _find_table(cur: Any, source: PostGIS) -> tuple[str, str]:
    """``(schema, name)`` of the source's table, or one line naming the tables there are."""
    name, schema = _relation(source)
    if schema is None:
        cur.execute(
            "SELECT n.nspname, c.oid FROM pg_class c JOIN pg_namespace n "
            "ON n.oid = c.relnamespace WHERE c.relname = %s "
            "AND c.relkind IN ('r', 'v', 'm', 'p', 'f') AND pg_table_is_visible(c.oid)",
            (name,),
        )
    else:
        cur.execute(
            "SELECT n.nspname, c.oid FROM pg_class c JOIN pg_namespace n "
            "ON n.oid = c.relnamespace WHERE c.relname = %s AND n.nspname = %s "
            "AND c.relkind IN ('r', 'v', 'm', 'p', 'f')",
            (name, schema),
        )
    row = cur.fetchone()
    if row is None:
        names = _spatial_tables(cur)
        close = difflib.get_close_matches(source.table or "", names, n=3, cutoff=0.6)
        there = some_names(close + [n for n in names if n not in close])  # the likeliest first
        raise DatabaseError(
            f"{source.label}: no such table or view; tables with a geometry column: {there}."
        )
    return str(row[0]), name


def _primary_key(cur: Any, schema: str, name: str) -> list[str]:
    """The primary key's columns of a table, in key order (none for views)."""
    cur.execute(
        "SELECT a.attname FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
        "WHERE c.relname = %s AND n.nspname = %s AND i.indisprimary "
        "ORDER BY array_position(i.indkey::int2[], a.attnum)",
        (name, schema),
    )
    return [str(r[0]) for r in cur.fetchall()]


def _spatial_tables(cur: Any) -> list[str]:
    try:
        cur.execute(
            "SELECT f_table_schema, f_table_name FROM geometry_columns UNION "
            "SELECT f_table_schema, f_table_name FROM geography_columns ORDER BY 1, 2"
        )
    except Exception:  # noqa: BLE001 - no PostGIS: the caller's message says what is missing
        cur.connection.rollback()
        return []
    return [
        _shown_name(n) if s == "public" else f"{_shown_name(s)}.{_shown_name(n)}"
        for s, n in cur.fetchall()
    ]


def _shown_name(part: str) -> str:
    """A name part as it is written back to minemap: in double quotes unless plain."""
    if re.fullmatch(r"[a-z_][a-z0-9_$]*", part):
        return part
    return '"' + part.replace('"', '""') + '"'


def some_names(names: Sequence[str], most: int = 20) -> str:
    """The first ``most`` names, quoted, and how many more there are ("none" for none).

    Examples
    --------
    >>> some_names(["roads", "hazards"]), some_names([])
    ("'roads', 'hazards'", 'none')
    >>> some_names([f"t{k}" for k in range(25)]).endswith("'t19' and 5 more")
    True
    """
    return _validate.list_ids(list(names), limit=most) or "none"


def _check_postgis(cur: Any, source: PostGIS) -> None:
    """Refuse a database without PostGIS; put PostGIS's schema on this transaction's
    search path (a URL's ``options=-csearch_path=...`` may leave it off)."""
    cur.execute(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
        "WHERE e.extname = 'postgis'"
    )
    row = cur.fetchone()
    if row is None:
        raise DatabaseError(
            f"{display_url(source.url)}: the database has no PostGIS; run "
            "'CREATE EXTENSION postgis;' in it (as its owner)."
        )
    cur.execute(
        "SELECT set_config('search_path', current_setting('search_path') || ', ' || "
        "quote_ident(%s), true)",
        (str(row[0]),),
    )


def query_relation(text: str, *, bound: bool) -> Any:
    """A user's ``SELECT`` as a subquery to compose into minemap's SQL.

    It goes on lines of its own (a trailing ``-- comment`` stays inside), without a final
    ``;``. With ``bound`` (the statement it goes into has bound parameters), its ``%`` are
    doubled so that psycopg does not take them for placeholders. Every statement holding it
    runs as ONE statement of the extended protocol (bound parameters, a prepared statement or
    a cursor's ``DECLARE``), so a text that closes the parenthesis and adds statements of its
    own (``...) q; COMMIT; DROP TABLE ...``) is refused by the server.
    """
    from psycopg import sql

    body = text.strip()
    while body.endswith(";"):
        body = body[:-1].rstrip()
    return sql.SQL("(\n{}\n)").format(sql.SQL(body.replace("%", "%%") if bound else body))


def _columns(cur: Any, relation: Any) -> list[tuple[str, str]]:
    """``(name, type name)`` of each column of ``relation`` (a composed SQL object)."""
    from psycopg import sql

    cur.execute(sql.SQL("SELECT * FROM {} AS minemap_q LIMIT 0").format(relation), prepare=True)
    described = [(d.name, d.type_code) for d in cur.description]
    types = _type_names(cur, [code for _, code in described])
    return [(name, types.get(code, "")) for name, code in described]


def _type_names(cur: Any, oids: Sequence[int]) -> dict[int, str]:
    cur.execute("SELECT oid, typname FROM pg_type WHERE oid = ANY(%s)", (list(oids),))
    return {int(o): str(n) for o, n in cur.fetchall()}


def _geometry_column(
    cur: Any, source: PostGIS, columns: list[tuple[str, str]], table: tuple[str, str] | None
) -> _Geometry:
    spatial = [(n, t) for n, t in columns if t in ("geometry", "geography")]
    if source.geometry is not None:
        chosen = [(n, t) for n, t in spatial if n == source.geometry]
        if not chosen:
            names = ", ".join(repr(n) for n, _ in spatial) or "none"
            raise SchemaError(
                f"{source.label}: no geometry column {source.geometry!r}; geometry columns: "
                f"{names}."
            )
    elif len(spatial) == 1:
        chosen = spatial
    elif not spatial:
        raise SchemaError(
            f"{source.label}: no geometry or geography column; select one (e.g. "
            "SELECT id, geom FROM ...) or use a table that has one."
        )
    else:
        names = ", ".join(repr(n) for n, _ in spatial)
        raise SchemaError(
            f"{source.label}: several geometry columns ({names}); choose one with "
            "geometry= (--geometry-column)."
        )
    name, kind = chosen[0]
    geography = kind == "geography"
    srid = 4326 if geography else 0
    if table is not None:
        view = "geography_columns" if geography else "geometry_columns"
        column = "f_geography_column" if geography else "f_geometry_column"
        cur.execute(
            f"SELECT srid FROM {view} WHERE f_table_schema = %s AND f_table_name = %s "  # noqa: S608 - fixed view names
            f"AND {column} = %s",
            (table[0], table[1], name),
        )
        row = cur.fetchone()
        if row is not None and row[0]:
            srid = int(row[0])
    return _Geometry(name, geography, srid)


def _crs_of(cur: Any, srid: int, label: str) -> pyproj.CRS:
    """The CRS of an SRID, from the database's own ``spatial_ref_sys``."""
    cur.execute("SELECT auth_name, auth_srid, srtext FROM spatial_ref_sys WHERE srid = %s", (srid,))
    row = cur.fetchone()
    try:
        if row is not None and row[0] and str(row[0]).upper() in ("EPSG", "ESRI") and row[1]:
            return pyproj.CRS.from_user_input(f"{str(row[0]).upper()}:{int(row[1])}")
        if row is not None and row[2]:
            return pyproj.CRS.from_wkt(str(row[2]))
        return pyproj.CRS.from_epsg(srid)
    except pyproj.exceptions.CRSError:
        raise CRSError(
            f"{label}: SRID {srid} is not a coordinate system minemap knows; transform the "
            "column to a known one (e.g. ST_Transform(geom, 4326)) or give crs=."
        ) from None


def _bbox_in(source: PostGIS, crs: pyproj.CRS) -> tuple[float, float, float, float]:
    assert source.bbox is not None
    try:
        given = pyproj.CRS.from_user_input(source.bbox_crs)
    except pyproj.exceptions.CRSError:
        raise CRSError(f"bbox_crs {source.bbox_crs!r} is not a coordinate system.") from None
    if given.equals(crs, ignore_axis_order=True):
        return source.bbox
    transformer = pyproj.Transformer.from_crs(given, crs, always_xy=True)
    x0, y0, x1, y1 = transformer.transform_bounds(*source.bbox, densify_pts=21)
    if not np.isfinite([x0, y0, x1, y1]).all():
        raise CRSError(f"{source.label}: the bbox {source.bbox} cannot be expressed in {crs.name}.")
    return (x0, y0, x1, y1)


def _query(
    relation: Callable[[bool], Any],
    columns: list[str],
    geom: _Geometry,
    box: tuple[float, float, float, float] | None,
    order: Sequence[str] = (),
    region: bytes | None = None,
) -> tuple[Any, list[Any]]:
    """The SELECT of the attributes, the geometry as EWKB (curves linearised) and whether
    it was curved, with the bbox and region conditions, in the order of ``order``'s
    columns. ``relation(bound)`` gives the table or the user's query (see
    :func:`query_relation`)."""
    from psycopg import sql

    g = sql.Identifier(geom.name)
    as_geometry = sql.SQL("{}::geometry").format(g) if geom.geography else g
    select = sql.SQL(
        "SELECT {attrs}{comma}"
        "ST_AsEWKB(CASE WHEN ST_HasArc({geom}) THEN ST_CurveToLine({geom}) ELSE {geom} END), "
        "COALESCE(ST_HasArc({geom}), false) FROM {rel} AS minemap_q"
    ).format(
        attrs=sql.SQL(", ").join(sql.Identifier(c) for c in columns),
        comma=sql.SQL(", ") if columns else sql.SQL(""),
        geom=as_geometry,
        rel=relation(box is not None or region is not None),
    )
    params: list[Any] = []
    conditions = []
    # the column itself on the left, so its GiST index answers; a geography column is
    # compared as geometry (a geography's box has geodesic edges: another set of rows),
    # which an index on (column::geometry) answers
    if box is not None:
        conditions.append(sql.SQL("{} && ST_MakeEnvelope(%s, %s, %s, %s, %s)").format(as_geometry))
        params += [*box, geom.srid]
    if region is not None:
        shape = sql.SQL("ST_GeomFromWKB(%s, %s)")
        conditions.append(
            sql.SQL("{g} && {shape} AND ST_Intersects({g}, {shape})").format(
                g=as_geometry, shape=shape
            )
        )
        params += [region, geom.srid, region, geom.srid]
    if conditions:
        select += sql.SQL(" WHERE ") + sql.SQL(" AND ").join(conditions)
    if order:  # a table's rows have no order of their own: its key gives one, run after run
        select += sql.SQL(" ORDER BY {}").format(
            sql.SQL(", ").join(sql.Identifier(c) for c in order)
        )
    return select, params


def _plain(values: list[Any]) -> list[Any]:
    """Database values as files give them: decimals as floats, the rest unchanged."""
    return [float(v) if isinstance(v, decimal.Decimal) else v for v in values]


def _frame(names: list[str], rows: list[tuple[Any, ...]]) -> pd.DataFrame:
    data = {n: _plain([r[k] for r in rows]) for k, n in enumerate(names)}
    return pd.DataFrame(data)


def _dates(frame: pd.DataFrame) -> pd.DataFrame:
    """Date and timestamp columns as pandas datetimes (as a file reader returns them)."""
    for name in frame.columns:
        column = frame[name]
        if column.dtype != object:
            continue
        present = column.dropna()
        if len(present) and all(isinstance(v, (dt.date, dt.datetime)) for v in present):
            frame[name] = pd.to_datetime(column)
    return frame


def read_postgis(source: PostGIS, *, crs: object | None = None) -> tuple[gpd.GeoDataFrame, int]:
    """Read a table or query of a PostGIS database into a GeoDataFrame, in chunks.

    Validation, repair and vocabulary mapping are the readers' (:func:`minemap.read_hazards`
    and the others take a :class:`PostGIS` source and call this).

    Parameters
    ----------
    source : PostGIS
        The database, the table or query, and the optional bounding box.
    crs : str, int or pyproj.CRS, optional
        CRS of a geometry column declared without an SRID (SRID 0).

    Returns
    -------
    tuple
        ``(gdf, curved)``: the rows with the geometry in column ``geometry`` and the CRS of
        the column's SRID (or ``crs``), and how many curved geometries were linearised.

    Raises
    ------
    DatabaseError
        If the server cannot be reached, refuses the login, or has no such table.
    SchemaError
        If the table has no geometry column, or several and none was chosen.
    CRSError
        If the column has no SRID and ``crs`` is not given.
    """
    with connect(source.url) as conn, conn.cursor() as cur:
        try:
            return _read(conn, cur, source, crs)
        except Exception as exc:
            import psycopg

            if isinstance(exc, psycopg.Error):
                why = reason(exc, source.url)
                raise DatabaseError(
                    f"{source.label}: the database refused the read ({why})."
                ) from None
            raise


def _read(conn: Any, cur: Any, source: PostGIS, crs: object | None) -> tuple[gpd.GeoDataFrame, int]:
    from psycopg import sql

    _check_postgis(cur, source)
    table = _find_table(cur, source) if source.table is not None else None

    def relation(bound: bool) -> Any:
        if table is not None:
            return sql.Identifier(*table)
        assert source.sql is not None
        return query_relation(source.sql, bound=bound)

    columns = _columns(cur, relation(False))
    geom = _geometry_column(cur, source, columns, table)
    if geom.srid == 0:  # not declared: the rows say, or crs= does
        cur.execute(
            sql.SQL(
                "SELECT ST_SRID({g}) FROM {r} AS minemap_q WHERE {g} IS NOT NULL LIMIT 1"
            ).format(g=sql.Identifier(geom.name), r=relation(False)),
            prepare=True,
        )
        row = cur.fetchone()
        if row is None:
            raise EmptyLayerError(
                f"{source.label}: no row has a geometry; check the {'table' if table else 'query'}."
            )
        geom.srid = int(row[0])
    if geom.srid == 0 and crs is None:
        fix = (
            f"SELECT UpdateGeometrySRID('{table[0]}', '{table[1]}', '{geom.name}', 4326)"
            if table
            else f"ST_SetSRID({geom.name}, 4326) in the query"
        )
        raise CRSError(
            f"{source.label}: geometry column {geom.name!r} has no SRID; declare it in the "
            f"database ({fix} for lon/lat) or give its CRS with crs= (--crs)."
        )
    # the column's own CRS (a crs= that differs is the reader's override to apply)
    layer_crs = _crs_of(cur, geom.srid, source.label) if geom.srid else _user_crs(crs, source.label)
    box = _bbox_in(source, layer_crs) if source.bbox is not None else None
    region = _region_in(source, layer_crs) if source.region is not None else None
    names = [n for n, _ in columns if n != geom.name]
    order = _primary_key(cur, *table) if table is not None else []
    query, params = _query(relation, names, geom, box, order, region)
    frames: list[pd.DataFrame] = []
    geoms: list[np.ndarray] = []
    curved = 0
    srids: set[int] = set()
    with conn.cursor(name="minemap_read") as reader:
        reader.itersize = source.chunk_rows
        reader.execute(query, params or None)
        while True:
            rows = reader.fetchmany(source.chunk_rows)
            if not rows:
                break
            wkb = [r[-2] for r in rows]
            decoded = _decode(wkb, source.label)
            srids.update(
                int(s) for s in np.unique(shapely.get_srid(decoded[~shapely.is_missing(decoded)]))
            )
            curved += sum(bool(r[-1]) for r in rows)
            frames.append(_frame(names, [r[:-2] for r in rows]))
            geoms.append(decoded)
    srids.discard(0)
    if len(srids - {geom.srid}) > 0:
        found = ", ".join(str(s) for s in sorted(srids))
        raise CRSError(
            f"{source.label}: rows of column {geom.name!r} have different SRIDs ({found}); "
            "transform them to one (ST_Transform) before reading."
        )
    if not geoms and box is not None:
        both = " and meets the region" if region is not None else ""
        raise EmptyLayerError(
            f"{source.label}: no row lies in the bbox {source.bbox}{both}; check the box "
            "(xmin, ymin, xmax, ymax, in longitude and latitude unless bbox_crs says "
            "otherwise)" + (" and that it overlaps the region." if both else ".")
        )
    if not geoms and region is not None:
        raise EmptyLayerError(f"{source.label}: no row meets the region.")
    attrs = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame({n: [] for n in names})
    values = np.concatenate(geoms) if geoms else np.empty(0, dtype=object)
    gdf = gpd.GeoDataFrame(_dates(attrs), geometry=gpd.GeoSeries(values, crs=layer_crs))
    return gdf, curved


def _user_crs(crs: object, label: str) -> pyproj.CRS:
    try:
        return pyproj.CRS.from_user_input(crs)
    except pyproj.exceptions.CRSError:
        raise CRSError(f"{label}: crs {crs!r} is not a coordinate system.") from None


def _decode(wkb: list[Any], label: str) -> np.ndarray:
    data = np.array([bytes(b) if b is not None else None for b in wkb], dtype=object)
    try:
        return np.asarray(shapely.from_wkb(data), dtype=object)
    except shapely.errors.GEOSException as exc:
        raise FormatError(f"{label}: a geometry cannot be decoded ({exc}).") from None


def iter_tables(url: str) -> Iterator[str]:
    """Names of the tables and views of a database that have a geometry column.

    Parameters
    ----------
    url : str
        Database URL.

    Yields
    ------
    str
        ``name`` for tables in ``public``, ``schema.name`` for the others.
    """
    with connect(url) as conn, conn.cursor() as cur:
        yield from _spatial_tables(cur)
