#!/usr/bin/env bash
# The whole check: install (if needed), lint, type-check, and run every test.
# Extra arguments go to pytest, e.g. ./scripts/test.sh -k drift
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/bootstrap.sh requirements-dev.txt
./scripts/ensure_browser.sh

echo "==> ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "==> mypy (shared, ml, registry)"
.venv/bin/mypy
echo "==> pytest"
# -v: every test id is printed, so the log shows which ran on sqlite and which on postgresql.
exec .venv/bin/pytest -v "$@"
