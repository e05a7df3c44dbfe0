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
# TERM (each finishes its step: core/stopping.py; a repeated signal is harmless). One still running after
# GONGZHI_STOP_GRACE seconds (default 3) is signalled twice more (a third signal ends a loop at once), and
# one still running a second after that (stuck in a long call that no signal interrupts) is killed, with the
# web server's own processes: each step is one transaction, so the database rolls back the unfinished one.
# The script says which it had to signal or kill and how long the stop took, and waits for every process
# before it exits, so no port or database lock outlives it. If one of them ends by itself, the others are
# stopped the same way and the script exits with that one's status.
set -u
BIN=${BIN:-.venv/bin}
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
GRACE=${GONGZHI_STOP_GRACE:-3}

server=
others=()
declare -A names

# In the background, so that `wait` (unlike a foreground child) lets a trap run at once.
# gongzhi.ops.gunicorn: the request metrics of every web process add up at /metrics (deploy/systemd does the same).
"$BIN/gunicorn" gongzhi.wsgi --config python:gongzhi.ops.gunicorn --bind "$HOST:$PORT" \
  --workers "${GONGZHI_WEB_WORKERS:-2}" --threads 4 \
  --graceful-timeout "$GRACE" --access-logfile - --log-level warning &
server=$!
names[$server]="web server"
"$BIN/gongzhi" demands work --forever --sweep-interval 60 &
others+=($!)
names[$!]="worker"
if [ "${GONGZHI_LEDGER_SEQUENCER:-inline}" = loop ]; then
  "$BIN/gongzhi" ledger sequence --forever &
  others+=($!)
  names[$!]="ledger sequencer"
fi
if [ "${GONGZHI_TASK_WORKER:-0}" = 1 ]; then
  "$BIN/gongzhi" db_worker --no-startup-delay &
  others+=($!)
  names[$!]="task worker"
fi

running() {
  local pid
  for pid in "$server" "${others[@]}"; do kill -0 "$pid" 2>/dev/null && return 0; done
  return 1
}

# The names of those still running, for what the script says.
still_running() {
  local pid list=
  for pid in "$server" "${others[@]}"; do
    kill -0 "$pid" 2>/dev/null && list+="${list:+, }${names[$pid]} ($pid)"
  done
  echo "$list"
}

# The web server's own processes (its children), read from /proc: neither pkill nor ps need be installed.
web_workers() {
  local stat rest
  for stat in /proc/[0-9]*/stat; do
    { read -r rest <"$stat"; } 2>/dev/null || continue  # braces: silent also when the process just ended
    rest=${rest##*) }  # after "pid (name) ": the state, then the parent's pid
    rest=${rest#* }
    [ "${rest%% *}" = "$server" ] && { stat=${stat#/proc/}; echo "${stat%/stat}"; }
  done
}

# Wait up to $1 tenths of a second for every process to end; true if they all did.
ended_within() {
  local tick
  for ((tick = 0; tick < $1; tick++)); do
    running || return 0
    sleep 0.1
  done
  ! running
}

now_ms() { local t; t=$(date +%s%N); echo $((t / 1000000)); }

stop_all() {
  trap '' INT TERM
  local pid began
  began=$(now_ms)
  kill -INT "$server" 2>/dev/null
  for pid in "${others[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  if ! ended_within $((GRACE * 10)); then  # in a long step: two more signals, the third ends a loop at once
    echo "gongzhi: still running ${GRACE} s after the stop, signalled again: $(still_running)" >&2
    for pid in "${others[@]}"; do kill -TERM "$pid" 2>/dev/null; kill -TERM "$pid" 2>/dev/null; done
    if ! ended_within 10; then  # stuck where no signal reaches it: killed (its step rolls back)
      echo "gongzhi: still running $((GRACE + 1)) s after the stop, killed: $(still_running)" >&2
      for pid in $(web_workers); do kill -KILL "$pid" 2>/dev/null; done
      for pid in "$server" "${others[@]}"; do kill -KILL "$pid" 2>/dev/null; done
    fi
  fi
  wait "$server" "${others[@]}" 2>/dev/null
  local took=$(($(now_ms) - began))
  printf 'gongzhi: stopped in %d.%01d s\n' $((took / 1000)) $((took % 1000 / 100)) >&2
}

trap 'stop_all; exit 130' INT
trap 'stop_all; exit 143' TERM
wait -n "$server" "${others[@]}"
status=$?
stop_all
exit "$status"
