# Process helpers shared by run_all_services.sh and stop_all_services.sh.
# Needs RUN_DIR and LOG_DIR. Each service runs in its own process group (setsid),
# so stopping signals the whole group (gunicorn and mlflow server have children)
# and never anything else: no killing by name.

pid_of() { cat "$RUN_DIR/$1.pid" 2>/dev/null || true; }

is_running() {  # name
  local pid
  pid=$(pid_of "$1")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

start_process() {  # name command...
  local name=$1
  shift
  echo "  starting $name"
  setsid "$@" >>"$LOG_DIR/$name.out" 2>&1 </dev/null &
  echo $! >"$RUN_DIR/$name.pid"
}

# Every process stops gracefully on SIGTERM: gunicorn and mlflow server natively,
# the drift monitor after its cycle, and the retraining worker (huey started with
# graceful_signal=TERM) after its running job, handing it back after its 60 s
# shutdown timeout. So the worker gets longer before SIGKILL (docs/LOOP.md).
stop_signal() { echo TERM; }

stop_timeout() {  # name default
  case "$1" in
    retraining_worker) echo $(($2 > 75 ? $2 : 75)) ;;
    *) echo "$2" ;;
  esac
}

stop_process() {  # name [timeout seconds]
  local name=$1 timeout pid
  timeout=$(stop_timeout "$1" "${2:-30}")
  pid=$(pid_of "$name")
  if [ -z "$pid" ]; then return 0; fi
  if kill -0 "$pid" 2>/dev/null; then
    kill -"$(stop_signal "$name")" -- "-$pid" 2>/dev/null || kill -"$(stop_signal "$name")" "$pid" 2>/dev/null || true
    for _ in $(seq 1 $((timeout * 5))); do
      group_alive "$pid" || break
      sleep 0.2
    done
    if group_alive "$pid"; then
      echo "  $name did not stop within ${timeout}s: SIGKILL"
      kill -KILL -- "-$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$RUN_DIR/$name.pid"
}

group_alive() {  # pgid: is any process of the group still there?
  pgrep -g "$1" >/dev/null 2>&1
}

wait_healthy() {  # name url
  local name=$1 url=$2 deadline=$((SECONDS + START_TIMEOUT))
  while [ $SECONDS -lt $deadline ]; do
    is_running "$name" || return 1
    if curl -fsS -m 2 -o /dev/null "$url" 2>/dev/null; then
      echo "  $name healthy ($url)"
      return 0
    fi
    sleep 0.5
  done
  return 1
}

wait_alive() {  # name: a loop process counts as healthy when it is still up after a few seconds
  local name=$1
  for _ in $(seq 1 6); do
    is_running "$name" || return 1
    sleep 0.5
  done
  echo "  $name running (pid $(pid_of "$name"))"
}
