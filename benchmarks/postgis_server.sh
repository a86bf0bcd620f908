#!/usr/bin/env bash
# A throwaway PostgreSQL + PostGIS server for the benchmarks, on loopback only.
#
#   benchmarks/postgis_server.sh start    # start (or find running); prints the DSN
#   benchmarks/postgis_server.sh dsn      # print the DSN of the running server
#   benchmarks/postgis_server.sh stop     # stop it (the data directory stays)
#   benchmarks/postgis_server.sh destroy  # stop it and delete its data directory
#
# The data directory is $MINEMAP_PG_DIR (default /tmp/minemap-postgis); the cluster is made
# there with initdb and run with pg_ctl as the user $MINEMAP_PG_USER (default postgres when
# run as root, else the caller), listening on 127.0.0.1 only, on $MINEMAP_PG_PORT or the
# first free port from 55432. It never touches a cluster it did not make: the system
# clusters (pg_lsclusters) live elsewhere and are left alone. Running "start" twice is
# harmless. Needs PostgreSQL's server binaries ($MINEMAP_PG_BIN, default the newest under
# /usr/lib/postgresql) and PostGIS for them (Debian: postgresql-15-postgis-3).
#
# Settings are those a careful analyst would give a 2-core benchmark box: shared_buffers
# 1GB, work_mem 256MB, maintenance_work_mem 1GB, up to 2 parallel workers per query, no
# fsync (a throwaway cluster: nothing in it needs to survive a crash).
set -euo pipefail

DIR=${MINEMAP_PG_DIR:-/tmp/minemap-postgis}
DB=${MINEMAP_PG_DB:-minemap_bench}
BIN=${MINEMAP_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
if [ "$(id -u)" = 0 ]; then USER_=${MINEMAP_PG_USER:-postgres}; else USER_=$(id -un); fi

as_user() {
    if [ "$(id -un)" = "$USER_" ]; then "$@"; else runuser -u "$USER_" -- "$@"; fi
}

die() { echo "postgis_server.sh: $*" >&2; exit 1; }

free_port() {
    port=${MINEMAP_PG_PORT:-55432}
    while (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null ||
        ss -ltn 2>/dev/null | grep -q "[:.]$port "; do
        port=$((port + 1))
    done
    echo "$port"
}

port_of() { sed -n "s/^port *= *\([0-9]*\).*/\1/p" "$DIR/postgresql.auto.conf" | tail -n 1; }

dsn() { echo "host=127.0.0.1 port=$(port_of) dbname=$DB user=$USER_"; }

running() { [ -f "$DIR/PG_VERSION" ] && as_user "$BIN/pg_ctl" -D "$DIR" status >/dev/null 2>&1; }

start() {
    [ -x "$BIN/initdb" ] || die "no PostgreSQL server binaries (set MINEMAP_PG_BIN)"
    if running; then dsn; return; fi
    if [ ! -f "$DIR/PG_VERSION" ]; then
        [ ! -e "$DIR" ] || [ -z "$(ls -A "$DIR")" ] ||
            die "$DIR exists and is not a cluster: remove it or set MINEMAP_PG_DIR"
        mkdir -p "$DIR"
        chown "$USER_" "$DIR"
        chmod 700 "$DIR"
        as_user "$BIN/initdb" -D "$DIR" -A trust -U "$USER_" -E UTF8 --no-locale >/dev/null
        cat >>"$DIR/postgresql.auto.conf" <<EOF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$DIR'
port = $(free_port)
shared_buffers = '1GB'
work_mem = '256MB'
maintenance_work_mem = '1GB'
max_worker_processes = 4
max_parallel_workers = 2
max_parallel_workers_per_gather = 2
max_parallel_maintenance_workers = 2
effective_cache_size = '8GB'
random_page_cost = 1.1
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
    fi
    as_user "$BIN/pg_ctl" -D "$DIR" -l "$DIR/server.log" -w start >/dev/null ||
        die "the server did not start: see $DIR/server.log"
    port=$(port_of)
    if ! as_user "$BIN/psql" -h 127.0.0.1 -p "$port" -d postgres -XtAc \
        "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1; then
        as_user "$BIN/createdb" -h 127.0.0.1 -p "$port" "$DB"
    fi
    as_user "$BIN/psql" -h 127.0.0.1 -p "$port" -d "$DB" -Xqc \
        "SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS postgis" >/dev/null ||
        die "CREATE EXTENSION postgis failed: install PostGIS for $BIN"
    dsn
}

stop() {
    if running; then as_user "$BIN/pg_ctl" -D "$DIR" -m fast -w stop >/dev/null; fi
}

case "${1:-}" in
start) start ;;
dsn) running || die "not running (start it first)"; dsn ;;
stop) stop ;;
destroy)
    stop
    [ ! -f "$DIR/PG_VERSION" ] || rm -rf "$DIR"
    ;;
*) die "usage: $0 start|dsn|stop|destroy" ;;
esac
