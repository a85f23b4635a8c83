#!/usr/bin/env bash
# Creates .venv (Python >= 3.11) and installs spasm-monitor into it with the given extras.
# Usage: scripts/bootstrap.sh [extras]   e.g. scripts/bootstrap.sh dev,bench
# Idempotent: re-running only installs what changed. Progress goes to stderr, pip's whole
# output to .venv/install.log. The command is then .venv/bin/spasm-monitor (the last lines
# say how to type just `spasm-monitor`).
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"

say() { echo "bootstrap: $*" >&2; }

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
# A .venv without pip is what a failed `python3 -m venv` leaves (no python3-venv): made anew.
if [ ! -x .venv/bin/python ] || ! .venv/bin/python -m pip --version >/dev/null 2>&1; then
    rm -rf .venv
    say "creating .venv with $("$python_bin" --version 2>&1)"
    # venv's own advice (on stdout) is replaced by the install below
    if ! "$python_bin" -m venv .venv >/dev/null 2>&1; then
        rm -rf .venv
        need="spasm-monitor needs Debian's python3-venv for .venv: as root, apt-get install python3-venv; then run this again"
        sudo_cmd=""
        if [ "$(id -u)" -ne 0 ]; then
            if ! command -v sudo >/dev/null 2>&1; then
                echo "$need (sudo is not installed)" >&2
                exit 2
            fi
            sudo_cmd="sudo"
        fi
        say "python3 -m venv failed; installing Debian's python3-venv${sudo_cmd:+ with sudo}"
        if ! { $sudo_cmd apt-get update -qq && $sudo_cmd apt-get install -y -qq python3-venv >/dev/null &&
            "$python_bin" -m venv .venv; }; then
            rm -rf .venv
            echo "$need" >&2
            exit 2
        fi
    fi
fi

# pip's lines, condensed: one line per package on a terminal (rewritten in place), and a
# line per stage; the full output stays in the log.
progress() {
    local n=0 line
    while IFS= read -r line; do
        printf '%s\n' "$line" >>"$log"
        case "$line" in
        Collecting\ * | Requirement\ already\ satisfied:\ *)
            n=$((n + 1))
            if [ -t 2 ]; then
                printf '\r\033[Kbootstrap:   %d packages checked (%s)' "$n" "$(echo "$line" | cut -c1-60)" >&2
            fi
            ;;
        Installing\ collected\ packages:*)
            [ -t 2 ] && printf '\r\033[K' >&2
            say "  $n packages checked; installing $(echo "$line" | tr ',' '\n' | wc -l) (the slow part)"
            ;;
        esac
    done
    [ -t 2 ] && printf '\r\033[K' >&2
    return 0
}

spec="."
[ -n "$extras" ] && spec=".[$extras]"
stamp=".venv/.installed-$(echo "$extras" | tr ',' '-')"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    log=.venv/install.log
    : >"$log"
    started=$(date +%s)
    say "installing spasm-monitor${extras:+[$extras]} and its dependencies into .venv (a minute or more; log: $log)"
    if ! { .venv/bin/python -m pip install --progress-bar off --upgrade pip &&
        .venv/bin/python -m pip install --progress-bar off -e "$spec"; } 2>&1 | progress; then
        # pipefail: the pipeline fails when pip does
        grep -v 'is ignored' "$log" | tail -n 30 >&2
        echo "installing spasm-monitor into .venv failed (log: $log)" >&2
        exit 1
    fi
    touch "$stamp"
    say "done in $(($(date +%s) - started)) s"
    venv_bin="$(pwd)/.venv/bin"
    say "the command is $venv_bin/spasm-monitor; to type just \`spasm-monitor\`:"
    say "  in this shell:     source .venv/bin/activate"
    say "  for every user:    sudo ln -sf $venv_bin/spasm-monitor /usr/local/bin/spasm-monitor"
fi
