#!/usr/bin/env bash
# Stop exactly the processes run_all_services.sh started for this PIPELINE_HOME
# (by their pid files and process groups; graceful signal first, SIGKILL after a timeout).
set -euo pipefail
REPO="$(cd "$(dirname "$0")" && pwd)"
cd "$REPO"
[ -x .venv/bin/mlpipe ] || { echo "nothing to stop: .venv is not installed"; exit 0; }
eval "$(.venv/bin/mlpipe config --shell)"
RUN_DIR="$PIPELINE_HOME/run"
LOG_DIR="$PIPELINE_HOME/logs"
STOP_TIMEOUT="${STOP_TIMEOUT:-30}"
# shellcheck source=scripts/process_lib.sh
source "$REPO/scripts/process_lib.sh"

shopt -s nullglob
pidfiles=("$RUN_DIR"/*.pid)
if [ ${#pidfiles[@]} -eq 0 ]; then
  echo "nothing running for PIPELINE_HOME=$PIPELINE_HOME"
  exit 0
fi
# Front doors first, then the loop, then the UIs.
for name in ingestion_api prediction_service drift_monitor retraining_worker dashboard mlflow_ui; do
  if [ -f "$RUN_DIR/$name.pid" ]; then
    echo "  stopping $name"
    stop_process "$name" "$STOP_TIMEOUT"
  fi
done
for file in "$RUN_DIR"/*.pid; do  # anything else this instance recorded
  name=$(basename "$file" .pid)
  echo "  stopping $name"
  stop_process "$name" "$STOP_TIMEOUT"
done
echo "stopped (PIPELINE_HOME=$PIPELINE_HOME)"
