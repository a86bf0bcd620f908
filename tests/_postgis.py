"""A throwaway PostgreSQL + PostGIS server for the tests, on loopback, with a password.

The cluster is made with ``initdb`` in a temporary folder and run with ``pg_ctl`` on a free
port of 127.0.0.1, as the ``postgres`` user when the tests run as root. Logins need a
password (scram-sha-256), so a wrong password is really refused. Nothing outside the
temporary folder is touched, and :meth:`Server.stop` removes it.

Where PostgreSQL's server binaries or PostGIS are not installed (Debian:
``postgresql postgis``), :func:`find_binaries` says what is missing and the tests that need
a database skip with that message, except with ``MINEMAP_REQUIRE_POSTGIS=1`` (set by
``.ci/run``), where they fail.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from typing import Any

USER = "minemap_test"
PASSWORD = "pw-'\"\\ with: @/ odd?chars"  # odd on purpose: quoting and percent-encoding
DATABASE = "minemap_test"


def find_binaries() -> tuple[Path | None, str]:
    """The newest PostgreSQL ``bin`` folder that has PostGIS, or None and why not."""
    given = os.environ.get("MINEMAP_PG_BIN")
    folders = [given] if given else sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for folder in folders:
        bin_ = Path(folder)
        version = bin_.parent.name
        if (bin_ / "initdb").exists() and glob.glob(
            f"/usr/share/postgresql/{version}/extension/postgis.control"
        ):
            return bin_, ""
    if not folders:
        return None, "no PostgreSQL server (Debian: apt-get install postgresql postgis)"
    return None, "no PostGIS for the PostgreSQL server (Debian: apt-get install postgis)"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """A running throwaway cluster; :attr:`url` logs in as :data:`USER`."""

    def __init__(self, bin_: Path) -> None:
        self.bin = bin_
        self.root = Path(tempfile.mkdtemp(prefix="minemap-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self._as = self._runner()
        self._init()
        self._start()
        self._create()

    @property
    def url(self) -> str:
        """URL with the password, percent-encoded."""
        from urllib.parse import quote

        return f"postgresql://{USER}:{quote(PASSWORD, safe='')}@127.0.0.1:{self.port}/{DATABASE}"

    @property
    def url_without_password(self) -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{DATABASE}"

    def _runner(self) -> list[str]:
        if os.geteuid() != 0:
            return []
        owner = pwd.getpwnam("postgres")
        os.chown(self.root, owner.pw_uid, owner.pw_gid)
        return ["runuser", "-u", "postgres", "--"]

    def _run(self, *args: str, input_: str | None = None) -> str:
        done = subprocess.run(
            [*self._as, *args], input=input_, capture_output=True, text=True, check=False
        )
        if done.returncode:
            raise RuntimeError(f"{args[0]} failed: {done.stderr.strip() or done.stdout.strip()}")
        return done.stdout

    def _init(self) -> None:
        pwfile = self.root / "pw"
        pwfile.write_text("superpw\n")
        if self._as:
            owner = pwd.getpwnam("postgres")
            os.chown(pwfile, owner.pw_uid, owner.pw_gid)
        self._run(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--pwfile",
            str(pwfile),
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "-E",
            "UTF8",
            "--no-locale",
        )
        with open(self.data / "postgresql.auto.conf", "a") as conf:
            conf.write(
                f"listen_addresses = '127.0.0.1'\nport = {self.port}\n"
                f"unix_socket_directories = '{self.root}'\nfsync = off\n"
                "synchronous_commit = off\nfull_page_writes = off\n"
            )

    def _start(self) -> None:
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.root / "log"),
            "-w",
            "start",
        )

    def psql(self, command: str, database: str = DATABASE, *, user: str = USER) -> str:
        """Run SQL over the local socket, as :data:`USER` unless ``user`` says otherwise."""
        return self._run(
            str(self.bin / "psql"),
            "-h",
            str(self.root),
            "-p",
            str(self.port),
            "-U",
            user,
            "-d",
            database,
            "-XtAq",
            "-v",
            "ON_ERROR_STOP=1",
            input_=command,
        )

    def _create(self) -> None:
        quoted = PASSWORD.replace("'", "''")
        self.psql(f"CREATE ROLE {USER} LOGIN PASSWORD '{quoted}';", "postgres", user="postgres")
        self.psql(f"CREATE DATABASE {DATABASE} OWNER {USER};", "postgres", user="postgres")
        self.psql("CREATE EXTENSION postgis;", DATABASE, user="postgres")

    def stop(self) -> None:
        """Stop the server and remove its folder."""
        try:
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def load(url: str, gdf: Any, table: str, *, srid: int | None = None, column: str = "geom") -> None:
    """Create ``table`` (dropping one of that name) from a GeoDataFrame: text, numbers and
    dates as such, the geometry as ``geometry(Geometry, srid)`` (SRID 0 with ``srid=0``)."""
    import numpy as np
    import pandas as pd
    import psycopg
    import shapely
    from psycopg import sql

    srid = gdf.crs.to_epsg() if srid is None else srid
    names = [c for c in gdf.columns if c != gdf.geometry.name]
    types = []
    for c in names:
        kind = gdf[c].dtype
        if pd.api.types.is_datetime64_any_dtype(kind):
            types.append("timestamp")
        elif pd.api.types.is_integer_dtype(kind):
            types.append("bigint")
        elif pd.api.types.is_float_dtype(kind):
            types.append("double precision")
        else:
            types.append("text")
    schema, _, name = table.rpartition(".")
    ident = sql.Identifier(schema, name) if schema else sql.Identifier(name)
    wkb = shapely.to_wkb(np.asarray(gdf.geometry.array, dtype=object))
    rows = []
    for k in range(len(gdf)):
        values = [gdf[c].iloc[k] for c in names]
        values = [None if _missing(v) else v for v in values]
        values = [v.to_pydatetime() if isinstance(v, pd.Timestamp) else v for v in values]
        values = [v.item() if isinstance(v, np.generic) else v for v in values]
        rows.append((*values, wkb[k]))
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        cur.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(ident))
        cur.execute(
            sql.SQL("CREATE TABLE {} ({}{}{} geometry(Geometry, {}))").format(
                ident,
                sql.SQL(", ").join(
                    sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(t))
                    for c, t in zip(names, types, strict=True)
                ),
                sql.SQL(", ") if names else sql.SQL(""),
                sql.Identifier(column),
                sql.Literal(int(srid)),
            )
        )
        placeholders = sql.SQL(", ").join([sql.Placeholder()] * len(names))
        cur.executemany(
            sql.SQL("INSERT INTO {} VALUES ({}{}ST_SetSRID(ST_GeomFromWKB(%s), {}))").format(
                ident, placeholders, sql.SQL(", ") if names else sql.SQL(""), sql.Literal(int(srid))
            ),
            rows,
        )
        cur.execute(
            sql.SQL("CREATE INDEX ON {} USING gist ({})").format(ident, sql.Identifier(column))
        )


def _missing(value: Any) -> bool:
    import numpy as np
    import pandas as pd

    return value is None or value is pd.NaT or (isinstance(value, float) and np.isnan(value))


def wrong_logins(server: Server, monkeypatch: Any, secret: str) -> Any:
    """Yield a URL twice, each with the wrong password ``secret``: once in the URL (with
    ``PGPASSWORD`` unset), once in ``PGPASSWORD`` (the URL without a password)."""
    from urllib.parse import quote

    monkeypatch.delenv("PGPASSWORD", raising=False)
    yield server.url.replace(quote(PASSWORD, safe=""), quote(secret, safe=""))
    monkeypatch.setenv("PGPASSWORD", secret)
    yield server.url_without_password
