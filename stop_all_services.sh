#!/usr/bin/env bash
# Stop exactly the processes run_all_services.sh started for this PIPELINE_HOME.
set -euo pipefail
cd "$(dirname "$0")"
echo "nothing to stop yet"
