#!/usr/bin/env bash
# Creates .venv (Python >= 3.11) and installs spasm-monitor into it with the given extras.
# Usage: scripts/bootstrap.sh [extras]   e.g. scripts/bootstrap.sh dev,bench
# Idempotent: re-running only installs what changed.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"

python_bin=""
for candidate in python3.11 python3.12 python3.13 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
        "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        python_bin="$candidate"
        break
    fi
done
if [ -z "$python_bin" ]; then
    echo "spasm-monitor needs Python >= 3.11 (on Debian: apt-get install python3 python3-venv)" >&2
    exit 2
fi
if [ ! -x .venv/bin/python ]; then
    if ! "$python_bin" -m venv .venv 2>/dev/null; then
        rm -rf .venv
        echo "python3 -m venv failed; installing Debian's python3-venv" >&2
        sudo_cmd=""
        [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
        $sudo_cmd apt-get update -qq && $sudo_cmd apt-get install -y -qq python3-venv >/dev/null
        "$python_bin" -m venv .venv
    fi
fi
spec="."
[ -n "$extras" ] && spec=".[$extras]"
stamp=".venv/.installed-$(echo "$extras" | tr ',' '-')"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    log=.venv/install.log
    if ! { .venv/bin/python -m pip install --quiet --upgrade pip &&
        .venv/bin/python -m pip install --quiet -e "$spec"; } >"$log" 2>&1; then
        grep -v 'is ignored' "$log" >&2
        echo "installing spasm-monitor into .venv failed (log: $log)" >&2
        exit 1
    fi
    touch "$stamp"
fi
