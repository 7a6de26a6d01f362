#!/usr/bin/env bash
# A throwaway PostgreSQL 15 on 127.0.0.1, for tests and benchmarks.
#   scripts/pg-temp.sh start [DIR] [PORT]   prints the DATABASE_URL (postgres://postgres@127.0.0.1:PORT/postgres)
#   scripts/pg-temp.sh stop  [DIR]          stops it and removes DIR
# Runs the server as the `postgres` user when started as root (initdb refuses root).
set -euo pipefail
BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
cmd=${1:-}
DIR=${2:-/tmp/paperboy-pg}
PORT=${3:-55432}

as_pg() { if [ "$(id -u)" -eq 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi; }

case "$cmd" in
  start)
    if [ ! -x "$BIN/initdb" ]; then
      echo "pg-temp: $BIN/initdb not found; install PostgreSQL 15 (apt-get install postgresql)" >&2
      exit 1
    fi
    rm -rf "$DIR"
    mkdir -p "$DIR"
    [ "$(id -u)" -eq 0 ] && chown postgres "$DIR"
    as_pg "'$BIN/initdb' -D '$DIR/data' --auth=trust -U postgres -E UTF8 --locale=C.UTF-8 >'$DIR/initdb.log' 2>&1" || { cat "$DIR/initdb.log" >&2; exit 1; }
    # Tuned for a throwaway test server: durability off, enough connections for several processes.
    as_pg "'$BIN/pg_ctl' -D '$DIR/data' -l '$DIR/server.log' -w -o \"-c listen_addresses=127.0.0.1 -p $PORT -k '$DIR' -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=256MB\" start >/dev/null" || { cat "$DIR/server.log" >&2; exit 1; }
    echo "postgres://postgres@127.0.0.1:$PORT/postgres"
    ;;
  stop)
    if [ -d "$DIR/data" ]; then as_pg "'$BIN/pg_ctl' -D '$DIR/data' -m fast -w stop >/dev/null" || true; fi
    rm -rf "$DIR"
    ;;
  *)
    echo "usage: scripts/pg-temp.sh start|stop [DIR] [PORT]" >&2
    exit 2
    ;;
esac
