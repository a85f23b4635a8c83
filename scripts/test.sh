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
if (($#)); then
    echo "== pytest $*"
    .venv/bin/pytest "$@"
    exit 0
fi
# Most tests wait on real servers, real BLE stacks and child processes: one worker per core
# keeps both cores busy, and a module's tests stay on one worker, so its shared fixtures are
# built once. The link-timing tests assert bounds in milliseconds on real BLE links, which
# another test's CPU load would move; they run afterwards, alone.
echo "== pytest: all but the link-timing tests, one worker per core"
failed=0
.venv/bin/pytest --numprocesses auto --dist loadscope -m "not link_timing" || failed=$?
echo "== pytest: the link-timing tests, alone"
.venv/bin/pytest -m link_timing || failed=$?
exit "$failed"
