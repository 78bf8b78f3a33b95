#!/usr/bin/env bash
# Runs a command with TEST_DATABASE_URL pointing at a real PostgreSQL:
#   1. TEST_DATABASE_URL as given, if set;
#   2. else the server on 127.0.0.1:5432 (user postgres), if it answers;
#   3. else a disposable cluster made here with initdb/pg_ctl and removed afterwards.
# Never falls back to SQLite.
set -euo pipefail

if [[ -n "${TEST_DATABASE_URL:-}" ]]; then
  exec "$@"
fi

if command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -p 5432 -U postgres; then
  export TEST_DATABASE_URL="postgres://postgres@127.0.0.1:5432/postgres"
  exec "$@"
fi

bindir=""
if command -v pg_config >/dev/null; then bindir="$(pg_config --bindir)"; fi
if [[ -z "$bindir" || ! -x "$bindir/initdb" ]]; then
  bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)"
fi
if [[ -z "$bindir" || ! -x "$bindir/initdb" ]]; then
  echo "with-postgres: no PostgreSQL answers on 127.0.0.1:5432 and no initdb was found." >&2
  echo "with-postgres: install one (apt-get install -y postgresql) or set TEST_DATABASE_URL." >&2
  exit 2
fi

port="${TEST_PG_PORT:-55432}"
datadir="$(mktemp -d /tmp/pizza-pg.XXXXXX)"
run_as=()
if [[ "$(id -u)" == "0" ]]; then
  # initdb refuses to run as root: hand the cluster to an unprivileged user.
  pg_user="postgres"; id "$pg_user" >/dev/null 2>&1 || pg_user="nobody"
  chown "$pg_user" "$datadir"
  run_as=(runuser -u "$pg_user" --)
fi
cleanup() {
  "${run_as[@]}" "$bindir/pg_ctl" -D "$datadir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$datadir"
}
trap cleanup EXIT

echo "with-postgres: starting a disposable PostgreSQL on 127.0.0.1:$port ($datadir)"
"${run_as[@]}" "$bindir/initdb" -A trust -U postgres -D "$datadir/data" >/dev/null
"${run_as[@]}" "$bindir/pg_ctl" -D "$datadir/data" -w -l "$datadir/log" \
  -o "-h 127.0.0.1 -p $port -k $datadir -c fsync=off -c max_connections=300" start >/dev/null
export TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
"$@"
