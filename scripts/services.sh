# shellcheck shell=bash
# Real database servers for the test run, on 127.0.0.1 with data in a temporary directory:
#   InfluxDB 1.x (Debian's influxdb, 1.6.7)   v1 /write and InfluxQL /query
#   VictoriaMetrics (Debian's victoria-metrics) v2 /api/v2/write and /api/v1/export
# Usage (sourced):  source scripts/services.sh; services_start; trap services_stop EXIT
# Exports SPASM_TEST_INFLUXDB_URL, SPASM_TEST_VM_URL, SPASM_TEST_INFLUXD_BIN and
# SPASM_TEST_INFLUXD_CONFIG (so a test can start its own influxd the same way), and installs
# Debian's chromium for the report's browser test (SPASM_TEST_REQUIRE_CHROMIUM=1).

services_install() {
    local missing=()
    command -v influxd >/dev/null 2>&1 || missing+=(influxdb)
    command -v victoria-metrics >/dev/null 2>&1 || missing+=(victoria-metrics)
    command -v chromium >/dev/null 2>&1 || missing+=(chromium)  # renders the report (test_report_browser.py)
    [ ${#missing[@]} -eq 0 ] && return 0
    local sudo_cmd=""
    [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    echo "== installing Debian packages: ${missing[*]}" >&2
    # A fresh container has no package lists; update only when the first try fails.
    if ! $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1; then
        $sudo_cmd apt-get update -qq && $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
}

_services_free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

_services_wait() {  # url name: up to 20 s (a loaded 2-core machine), polling every 0.1 s
    # python3 rather than curl: bootstrap.sh already needs python3, a slim image may lack curl.
    if python3 - "$1" <<'PY'; then
import sys, time, urllib.request
deadline = time.monotonic() + 20
while True:
    try:
        urllib.request.urlopen(sys.argv[1], timeout=1).close()
        sys.exit(0)
    except OSError:
        if time.monotonic() > deadline:
            sys.exit(1)
        time.sleep(0.1)
PY
        return 0
    fi
    echo "$2 did not answer at $1; its log:" >&2
    tail -n 20 "$SPASM_SERVICES_DIR/$2.log" >&2
    return 1
}

services_start() {
    services_install || return 1
    SPASM_SERVICES_DIR="$(mktemp -d -t spasm-services-XXXXXX)"
    export SPASM_SERVICES_DIR
    local influx_port rpc_port vm_port
    influx_port="$(_services_free_port)"
    rpc_port="$(_services_free_port)"
    vm_port="$(_services_free_port)"
    # One influxd config for the test run and the tests' own instances: the template in
    # tests/local_influxd.py.
    "${SPASM_PYTHON:-.venv/bin/python}" -c '
import sys
from tests.local_influxd import CONFIG_TEMPLATE
root, rpc_port, http_port = sys.argv[1:]
print(CONFIG_TEMPLATE.format(root=root, rpc_port=rpc_port, http_port=http_port), end="")
' "$SPASM_SERVICES_DIR/influxdb" "$rpc_port" "$influx_port" >"$SPASM_SERVICES_DIR/influxdb.conf"
    influxd run -config "$SPASM_SERVICES_DIR/influxdb.conf" >"$SPASM_SERVICES_DIR/influxd.log" 2>&1 &
    SPASM_SERVICES_INFLUXD_PID=$!
    victoria-metrics -storageDataPath="$SPASM_SERVICES_DIR/vm" -httpListenAddr="127.0.0.1:$vm_port" \
        -retentionPeriod=100y -loggerLevel=ERROR >"$SPASM_SERVICES_DIR/victoria-metrics.log" 2>&1 &
    SPASM_SERVICES_VM_PID=$!
    export SPASM_TEST_INFLUXDB_URL="http://127.0.0.1:$influx_port"
    export SPASM_TEST_VM_URL="http://127.0.0.1:$vm_port"
    export SPASM_TEST_INFLUXD_BIN
    SPASM_TEST_INFLUXD_BIN="$(command -v influxd)"
    export SPASM_TEST_INFLUXD_CONFIG="$SPASM_SERVICES_DIR/influxdb.conf"
    export SPASM_TEST_REQUIRE_CHROMIUM=1  # installed above: the browser test must not skip
    _services_wait "$SPASM_TEST_INFLUXDB_URL/ping" influxd || return 1
    _services_wait "$SPASM_TEST_VM_URL/health" victoria-metrics || return 1
    echo "== services: influxd $SPASM_TEST_INFLUXDB_URL, victoria-metrics $SPASM_TEST_VM_URL" >&2
}

services_stop() {
    local pid
    for pid in ${SPASM_SERVICES_INFLUXD_PID:-} ${SPASM_SERVICES_VM_PID:-}; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    SPASM_SERVICES_INFLUXD_PID=""
    SPASM_SERVICES_VM_PID=""
    if [ -n "${SPASM_SERVICES_DIR:-}" ] && [ -d "$SPASM_SERVICES_DIR" ]; then
        rm -rf "$SPASM_SERVICES_DIR"
    fi
    SPASM_SERVICES_DIR=""
    return 0
}
