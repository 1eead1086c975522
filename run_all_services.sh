#!/usr/bin/env bash
# Start the whole product in the background (see README.md).
set -euo pipefail
cd "$(dirname "$0")"
./scripts/bootstrap.sh requirements.txt
.venv/bin/mlpipe db upgrade
