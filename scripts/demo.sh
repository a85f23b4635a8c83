#!/usr/bin/env bash
# The main job on the embedded default, from a fresh clone: sets up .venv and runs
# `spasm-monitor demo`. Extra arguments go to the demo (see `spasm-monitor demo --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
exec .venv/bin/spasm-monitor demo "$@"
