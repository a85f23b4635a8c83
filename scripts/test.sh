#!/usr/bin/env bash
# The whole test suite, from a fresh clone: sets up .venv, then lint, types and pytest.
# Usage: scripts/test.sh [pytest args...]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh dev,bench
export PYTHONHASHSEED=0
echo "== ruff"
.venv/bin/ruff check monitor devices emulators dashboards tests bench
.venv/bin/ruff format --check monitor devices emulators dashboards tests bench
echo "== mypy"
.venv/bin/mypy
echo "== services (InfluxDB 1.6.7, VictoriaMetrics)"
# shellcheck source=scripts/services.sh
source scripts/services.sh
trap services_stop EXIT
services_start
echo "== pytest"
.venv/bin/pytest "$@"
