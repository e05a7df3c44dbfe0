#!/usr/bin/env bash
# `make test`: the whole suite on SQLite, then again on a throwaway PostgreSQL cluster.
# Under CI (CI=true) PostgreSQL and Chromium are required; elsewhere their absence is reported loudly.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
is_ci() { [ "${CI:-}" = "true" ] || [ "${CI:-}" = "1" ]; }
banner() { printf '\n==================== %s ====================\n' "$*"; }

# Chromium for the browser tests and a Chinese font so screenshots show Chinese (Debian's packages;
# Playwright never downloads a browser here); nginx, PgBouncer and Redis for the operations tests.
# Installed when missing, as root with apt-get (scripts/system-packages.sh; the PDF report needs pango too).
bash scripts/system-packages.sh --browser --ops
if ! [ -x /usr/bin/chromium ]; then
  if is_ci; then echo "FAIL: /usr/bin/chromium is required under CI" >&2; exit 1; fi
  banner "WARNING: no /usr/bin/chromium: browser tests will be SKIPPED"
fi
export GONGZHI_REQUIRE_BROWSER=$(is_ci && echo 1 || echo 0)
# Both cores: pytest-xdist, one worker per core (GONGZHI_TEST_WORKERS overrides; 0 runs in one process).
WORKERS=${GONGZHI_TEST_WORKERS:-$(nproc 2>/dev/null || echo 2)}
# --durations: the slowest tests in the log, to keep the suite inside CI's time (90 minutes; aim: under 45).
# --timeout: a test that hangs fails with its stack after 10 minutes instead of using up CI's time silently
# (pytest-timeout; the slowest test today takes under 2 minutes).
set -- -n "$WORKERS" --dist loadfile --durations=25 --timeout=600 "$@"

status=0
banner "tests on SQLite"
GONGZHI_VAR_DIR="$PWD/var/test-sqlite" DATABASE_URL="sqlite:///$PWD/var/test-sqlite/gongzhi.sqlite3" \
  $BIN/pytest "$@" || status=$?

banner "tests on PostgreSQL"
trap 'bash scripts/pg-cluster.sh stop' EXIT  # also when start fails half-way
pg_out=$(bash scripts/pg-cluster.sh start)
pg_status=$?
if [ $pg_status -ne 0 ]; then
  if is_ci; then echo "FAIL: PostgreSQL is required under CI (pg-cluster exit $pg_status)" >&2; exit 1; fi
  banner "WARNING: PostgreSQL unavailable: ONLY SQLite WAS TESTED"
  exit $status
fi
url=$(printf '%s\n' "$pg_out" | sed -n 's/^DATABASE_URL=//p' | tail -n 1)
GONGZHI_VAR_DIR="$PWD/var/test-postgres" DATABASE_URL="$url" $BIN/pytest "$@" || status=$?

banner "done: SQLite and PostgreSQL (exit $status)"
exit $status
