#!/usr/bin/env bash
# Runs every command of README.md's "Try it" block against the running instance
# of this PIPELINE_HOME (ports from the same settings), failing on any error.
# tests/e2e/test_run_all.py calls it while an instance runs; that test also runs
# ./run_all_services.sh, python demo.py and ./stop_all_services.sh, and CI runs
# ./scripts/test.sh: together they cover every command the README shows.
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
cd "$REPO"
eval "$(.venv/bin/mlpipe config --shell)"

block=$(awk '/^## Try it/{section=1} section && /^```bash/{inside=1; next} inside && /^```/{exit} inside{print}' README.md)
[ -n "$block" ] || { echo "README.md has no 'Try it' bash block" >&2; exit 1; }
block=${block//localhost:8001/$HOST:$INGESTION_API_PORT}
block=${block//localhost:8002/$HOST:$PREDICTION_SERVICE_PORT}

curl() { command curl --fail-with-body -sS "$@"; }  # an HTTP error fails the check
echo "==> README 'Try it' commands against $HOST:$INGESTION_API_PORT and $HOST:$PREDICTION_SERVICE_PORT"
eval "$block"
echo
echo "README commands: ok"
