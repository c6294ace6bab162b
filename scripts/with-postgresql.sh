#!/usr/bin/env bash
# Run a command against a throw-away PostgreSQL 15 server started from the machine's
# binaries, with DATABASE_URL pointing at it. The server is stopped on exit, also on
# failure. initdb refuses to run as root, so the server runs as the postgres user.
set -euo pipefail

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_PORT=${PG_PORT:-55432}
if [[ ! -x "$PG_BIN/initdb" ]]; then
  echo "with-postgresql: no PostgreSQL binaries in $PG_BIN (apt-get install postgresql-15)" >&2
  exit 2
fi

run_as_pg=()
if [[ $(id -u) -eq 0 ]]; then
  id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql postgres
  run_as_pg=(runuser -u postgres --)
fi

PGDATA=$(mktemp -d /tmp/archive-pg.XXXXXX)
chmod 700 "$PGDATA"
[[ ${#run_as_pg[@]} -gt 0 ]] && chown postgres "$PGDATA"

stop() {
  "${run_as_pg[@]}" "$PG_BIN/pg_ctl" -D "$PGDATA" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$PGDATA"
}
trap stop EXIT

"${run_as_pg[@]}" "$PG_BIN/initdb" -D "$PGDATA" -U postgres --auth=trust \
  --encoding=UTF8 --locale=C.UTF-8 >/dev/null
"${run_as_pg[@]}" "$PG_BIN/pg_ctl" -D "$PGDATA" -w -l "$PGDATA/server.log" \
  -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PGDATA -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
  start >/dev/null
echo "with-postgresql: PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT"

export DATABASE_URL="postgresql://postgres@127.0.0.1:$PG_PORT/archive"
"$@"
