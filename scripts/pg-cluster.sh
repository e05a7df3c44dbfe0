#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the test suite.
#   scripts/pg-cluster.sh start   installs Debian's postgresql when absent (as root), starts a cluster
#                                 on a local port and prints DATABASE_URL=... on its last line
#   scripts/pg-cluster.sh stop    stops it and removes its files
# Exit 3 when PostgreSQL can be neither found nor installed.
set -euo pipefail
cd "$(dirname "$0")/.."
STATE=var/pg-cluster.dir

find_bin() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  [ -n "$d" ] && [ -x "$d/initdb" ] && echo "$d"
}

as_owner() {  # run a command as the cluster owner (postgres refuses to run as root)
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start() {
  local bin dir
  bin=$(find_bin || true)
  if [ -z "$bin" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      echo "pg-cluster: installing Debian's postgresql ..." >&2
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq >&2
      apt-get install -y -qq postgresql >&2
      bin=$(find_bin || true)
    fi
  fi
  [ -n "$bin" ] || { echo "pg-cluster: PostgreSQL not found and cannot be installed (need root and apt-get)" >&2; exit 3; }
  mkdir -p var
  [ -f "$STATE" ] && stop >/dev/null 2>&1 || true
  # A free local port unless one is given, so several checkouts can test at once.
  PORT=${GONGZHI_PG_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
  dir="$PWD/var/pg-cluster"
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home /var/lib/postgresql postgres
    # The cluster owner must reach the folder; a checkout under /root is not reachable, so use /tmp.
    if ! runuser -u postgres -- test -x "$PWD/var" 2>/dev/null; then dir=$(mktemp -d /tmp/gongzhi-pg.XXXXXX); fi
  fi
  rm -rf "$dir"; mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres "$dir"
  echo "$dir" > "$STATE"
  as_owner "$bin/initdb" -D "$dir/data" -U gongzhi --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  # autovacuum off: tests hold their data in transactions they roll back, and a background ANALYZE,
  # seeing none of it, would set the planner's row estimates to zero in the middle of a test (a test then
  # planned nested loops over the whole demo district and ran for minutes).
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-p $PORT -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c autovacuum=off" start >&2
  echo "DATABASE_URL=postgres://gongzhi@127.0.0.1:$PORT/postgres"
}

stop() {
  [ -f "$STATE" ] || return 0
  local dir bin
  dir=$(cat "$STATE"); bin=$(find_bin || true)
  if [ -n "$bin" ] && [ -d "$dir/data" ]; then as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true; fi
  rm -rf "$dir" "$STATE"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
