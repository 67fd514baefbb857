#!/bin/bash
# The REST API of UDP fan-out over real HTTP, against a running daemon in
# its own namespace: contested ports and subscribers made, read, replaced,
# patched and deleted; every error status with the API's error object
# naming the field; a contested port's subscribers deleted with it; the
# token on every write; pagination; the OpenAPI document against the route
# table; and all of it kept across a restart.  The checks are in
# fanout_api_checks.py, one phase per call; no datagram is copied (the
# fan-out scenarios do that).
set -euo pipefail
# shellcheck source=tests/net/lib.sh
source "$(dirname "$0")/lib.sh"
t_require_root test_fanout_api

# Debian's python3; a python3 found first on PATH may be another one.
PY=/usr/bin/python3
CHECKS=$root/tests/net/fanout_api_checks.py

srv=""
t_netns srv srv
http=127.0.0.1:18120
url="http://$http"
state="$t_tmp/state"
mkdir -p "$state" "$t_tmp/d"
db="$t_tmp/d/portshare.db"

# verdicts NAME: turns the PASS and FAIL lines of phase NAME on stdin into
# checks; a phase that died half way fails.
verdicts() {
	local line done=0
	while IFS= read -r line; do
		case $line in
		"PASS "*) t_ok "${line#PASS }" ;;
		"FAIL "*) t_not_ok "${line#FAIL }" ;;
		DONE) done=1 ;;
		*) echo "# $line" ;;
		esac
	done
	((done)) || t_not_ok "phase $1 ran to its end"
}

# phase NAME: runs one phase of fanout_api_checks.py in the namespace.
phase() {
	verdicts "$1" < <(ip netns exec "$srv" timeout 300 "$PY" "$CHECKS" "$1" "$url" "$T_TOKEN_FILE" 2>&1 || true)
}

t_check "installer installs the rules" \
	ip netns exec "$srv" "$IPT_TOOL" install --queues 0:1 --state-dir "$state"
t_check "portshared starts and answers /healthz" \
	t_daemon "$srv" "$http" "$db" --queues 0:1

for p in crud errors cascade auth paging openapi; do
	phase "$p"
done

# What was made survives a restart.
kill -TERM "$DAEMON_PID"
rc=0
wait "$DAEMON_PID" || rc=$?
t_eq "portshared exits 0 on SIGTERM" 0 "$rc"
t_check "portshared starts again on the same database" \
	t_daemon "$srv" "$http" "$db" --queues 0:1
phase kept
t_stop "$DAEMON_PID"

t_check "uninstall succeeds" ip netns exec "$srv" "$IPT_TOOL" uninstall --state-dir "$state"

t_done test_fanout_api
