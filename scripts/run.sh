#!/usr/bin/env bash
# The processes of a running gongzhi, in the foreground (`make demo` and `make serve` end here; in
# production a supervisor runs this script, or each line below as a unit of its own):
#   the web server      gunicorn, $GONGZHI_WEB_WORKERS processes (default 2) of 4 threads
#   the worker          gongzhi demands work --forever: files fast-path submissions, sweeps deadlines
#                       every minute, runs the periodic jobs (hot spots, profiles, retraining)
#   the sequencer       gongzhi ledger sequence --forever, when GONGZHI_LEDGER_SEQUENCER=loop
#   the task worker     gongzhi db_worker, when GONGZHI_TASK_WORKER=1 (webhook deliveries as tasks)
#
# Stopping (issue #14): Ctrl-C (the terminal signals the whole process group) or SIGTERM/SIGINT to this
# script alone (as a supervisor sends) stops all of them: gunicorn gets INT (quick shutdown), the others
# TERM (each finishes its step: core/stopping.py; a repeated signal is harmless). One still busy after
# GONGZHI_STOP_GRACE seconds (default 3) is signalled twice more: a third signal ends a loop at once, and
# the database rolls back the step it was in. The script waits for every one before it exits, so no port
# or database lock outlives it. If one of them ends by itself, the others are stopped the same way and the
# script exits with that one's status.
set -u
BIN=${BIN:-.venv/bin}
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
GRACE=${GONGZHI_STOP_GRACE:-3}

server=
others=()

# In the background, so that `wait` (unlike a foreground child) lets a trap run at once.
"$BIN/gunicorn" gongzhi.wsgi --bind "$HOST:$PORT" --workers "${GONGZHI_WEB_WORKERS:-2}" --threads 4 \
  --graceful-timeout 5 --access-logfile - --log-level warning &
server=$!
"$BIN/gongzhi" demands work --forever --sweep-interval 60 &
others+=($!)
if [ "${GONGZHI_LEDGER_SEQUENCER:-inline}" = loop ]; then
  "$BIN/gongzhi" ledger sequence --forever &
  others+=($!)
fi
if [ "${GONGZHI_TASK_WORKER:-0}" = 1 ]; then
  "$BIN/gongzhi" db_worker --no-startup-delay &
  others+=($!)
fi

running() {
  local pid
  for pid in "$server" "${others[@]}"; do kill -0 "$pid" 2>/dev/null && return 0; done
  return 1
}

stop_all() {
  trap '' INT TERM
  kill -INT "$server" 2>/dev/null
  local pid tick
  for pid in "${others[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for ((tick = 0; tick < GRACE * 10; tick++)); do
    running || break
    sleep 0.1
  done
  if running; then  # still in a long step: two more signals, the third ends it at once
    for pid in "${others[@]}"; do kill -TERM "$pid" 2>/dev/null; kill -TERM "$pid" 2>/dev/null; done
    kill -TERM "$server" 2>/dev/null
  fi
  wait "$server" "${others[@]}" 2>/dev/null
}

trap 'stop_all; exit 130' INT
trap 'stop_all; exit 143' TERM
wait -n "$server" "${others[@]}"
status=$?
stop_all
exit "$status"
