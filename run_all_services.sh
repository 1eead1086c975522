#!/usr/bin/env bash
# Start the whole product in the background for this PIPELINE_HOME:
# ingestion API, prediction service, drift monitor, retraining worker,
# dashboard and the MLflow UI. Creates .venv and installs on first use,
# migrates the database, and initialises the sample model when there is none.
# Every variable of DESIGN.md is respected (see README.md); stop with
# ./stop_all_services.sh.
set -euo pipefail
REPO="$(cd "$(dirname "$0")" && pwd)"
cd "$REPO"

./scripts/bootstrap.sh requirements.txt
export PATH="$REPO/.venv/bin:$PATH"   # mlflow server spawns uvicorn by name

eval "$(mlpipe config --shell)"
RUN_DIR="$PIPELINE_HOME/run"
LOG_DIR="$PIPELINE_HOME/logs"
START_TIMEOUT="${START_TIMEOUT:-120}"
mkdir -p "$RUN_DIR" "$LOG_DIR"
# shellcheck source=scripts/process_lib.sh
source "$REPO/scripts/process_lib.sh"

mlpipe db upgrade
mlpipe init --data "$REPO/data/lung_disease.csv" --target Recovered --if-missing

started=()
start_or_report() {  # name command...
  local name=$1
  shift
  if is_running "$name"; then
    echo "  $name is already running (pid $(cat "$RUN_DIR/$name.pid"))"
  else
    start_process "$name" "$@"
    started+=("$name")
  fi
}

start_gunicorn() {  # name port workers threads app
  local prom="$RUN_DIR/prometheus/$1"
  is_running "$1" || { rm -rf "$prom" && mkdir -p "$prom"; }
  # One native (OpenMP/BLAS) thread per process: request threads and micro-batches
  # already use the cores, and nested thread pools oversubscribe a small machine.
  start_or_report "$1" env PROMETHEUS_MULTIPROC_DIR="$prom" OMP_NUM_THREADS=1 gunicorn -c python:shared.gunicorn_conf \
    --bind "$HOST:$2" --workers "$3" --threads "$4" "$5"
}

echo "==> starting services for PIPELINE_HOME=$PIPELINE_HOME"
start_gunicorn ingestion_api "$INGESTION_API_PORT" 2 4 'services.ingestion_api.app:create_wsgi_app()'
# Two processes (one per core; serving is bound by Python, not the model), each
# with enough threads to feed its micro-batcher and group commit (docs/SERVING.md).
start_gunicorn prediction_service "$PREDICTION_SERVICE_PORT" 2 16 'services.prediction_service.app:create_wsgi_app()'
start_or_report drift_monitor python -m services.drift_monitor.monitor
start_or_report retraining_worker python -m services.retraining_worker.worker
start_gunicorn dashboard "$DASHBOARD_PORT" 1 8 'dashboards.monitoring_app:create_wsgi_app()'
case "$MLFLOW_TRACKING_URI" in
  http://*|https://*) echo "  MLflow UI: using the tracking server at $MLFLOW_TRACKING_URI" ;;
  *) start_or_report mlflow_ui mlflow server --backend-store-uri "$MLFLOW_TRACKING_URI" \
       --default-artifact-root "$MLFLOW_ARTIFACT_ROOT" --host "$HOST" --port "$MLFLOW_UI_PORT" --workers 1 ;;
esac

echo "==> waiting until every service is healthy (up to ${START_TIMEOUT}s)"
failed=""
wait_healthy ingestion_api "http://$HOST:$INGESTION_API_PORT/health" || failed=ingestion_api
[ -z "$failed" ] && { wait_healthy prediction_service "http://$HOST:$PREDICTION_SERVICE_PORT/ready" || failed=prediction_service; }
[ -z "$failed" ] && { wait_alive drift_monitor || failed=drift_monitor; }
[ -z "$failed" ] && { wait_alive retraining_worker || failed=retraining_worker; }
[ -z "$failed" ] && { wait_healthy dashboard "http://$HOST:$DASHBOARD_PORT/" || failed=dashboard; }
if [ -z "$failed" ] && [ -f "$RUN_DIR/mlflow_ui.pid" ]; then
  wait_healthy mlflow_ui "http://$HOST:$MLFLOW_UI_PORT/health" || failed=mlflow_ui
fi

if [ -n "$failed" ]; then
  echo "ERROR: $failed did not become healthy. Last lines of its log ($LOG_DIR/$failed.out):" >&2
  tail -n 30 "$LOG_DIR/$failed.out" >&2 || true
  echo "==> stopping what this run started" >&2
  for name in "${started[@]}"; do stop_process "$name"; done
  exit 1
fi

cat <<EOF

ml-pipeline is running (PIPELINE_HOME=$PIPELINE_HOME)
  Ingestion API       http://$HOST:$INGESTION_API_PORT   (docs: /docs)
  Prediction service  http://$HOST:$PREDICTION_SERVICE_PORT   (docs: /docs)
  Dashboard           http://$HOST:$DASHBOARD_PORT
  MLflow UI           ${MLFLOW_TRACKING_URI/#sqlite*/http://$HOST:$MLFLOW_UI_PORT}
  Logs                $LOG_DIR
Try it:   python demo.py
Stop it:  ./stop_all_services.sh
EOF
