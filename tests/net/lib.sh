# shellcheck shell=bash
# shellcheck disable=SC2034 # the variables set here are used by the scenarios
# Shared helpers for the root-only network scenarios: TAP-style results,
# namespaces that are always deleted, background processes stopped by PID,
# and a daemon started and waited for.  Source it after `set -euo pipefail`.

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PORTSHARED=${PORTSHARED:-$root/build/portshared}
IPT_TOOL=$root/iptables/portshare-iptables
PEER=$root/tests/net/peer.py

t_passed=0
t_failed=0
t_n=0
t_pids=()
t_netns=()
t_tmp=$(mktemp -d /tmp/portshare-t-$$.XXXXXX)

t_ok() {
	t_n=$((t_n + 1))
	t_passed=$((t_passed + 1))
	echo "ok $t_n - $1"
}

t_not_ok() {
	t_n=$((t_n + 1))
	t_failed=$((t_failed + 1))
	echo "not ok $t_n - $1"
}

# t_check DESCRIPTION COMMAND...: passes when the command succeeds.
t_check() {
	local what=$1
	shift
	if "$@"; then t_ok "$what"; else t_not_ok "$what"; fi
}

# t_eq DESCRIPTION EXPECTED ACTUAL
t_eq() {
	if [[ $2 == "$3" ]]; then
		t_ok "$1"
	else
		t_not_ok "$1 (expected '$2', got '$3')"
	fi
}

# t_done NAME: prints the closing line and exits with the verdict.
t_done() {
	echo "$1: $t_passed passed, $t_failed failed"
	((t_failed == 0))
}

t_cleanup() {
	local pid ns
	for pid in "${t_pids[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${t_pids[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	for ns in "${t_netns[@]}"; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
		ip netns delete "$ns" 2>/dev/null || true
		rm -rf "/etc/netns/$ns"
	done
	rm -rf "$t_tmp"
}
trap t_cleanup EXIT

t_require_root() {
	if ((EUID != 0)); then
		echo "1..0 # SKIP $1 needs root"
		exit 77
	fi
}

# t_netns VAR NAME: creates namespace portshare-t-PID-NAME with lo up and
# stores its name in VAR.  It must not run in a subshell (no $(...)), or the
# cleanup list would never learn about the namespace.
t_netns() {
	local ns="portshare-t-$$-$2"
	t_netns+=("$ns")
	ip netns add "$ns"
	ip -n "$ns" link set lo up
	printf -v "$1" '%s' "$ns"
}

# t_spawn NS COMMAND...: runs COMMAND in NS in the background; sets T_PID.
t_spawn() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@" &
	T_PID=$!
	t_pids+=("$T_PID")
}

# t_stop PID [SIGNAL]: stops one process started with t_spawn.
t_stop() {
	kill "-${2:-TERM}" "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# t_wait_for SECONDS COMMAND...: retries COMMAND every 0.1 s, bounded.
t_wait_for() {
	local tries=$(($1 * 10))
	shift
	while ((tries-- > 0)); do
		if "$@" >/dev/null 2>&1; then return 0; fi
		sleep 0.1
	done
	return 1
}

# t_daemon NS HTTP DB [ARGS...]: starts portshared in NS, waits for its API.
# Sets DAEMON_PID, and T_TOKEN_FILE to the API token file it uses: the one
# ARGS give with --token-file, else api.token beside DB.
t_daemon() {
	local ns=$1 http=$2 db=$3 arg prev=""
	shift 3
	T_TOKEN_FILE=$(dirname "$db")/api.token
	for arg in "$@"; do
		[[ $prev == --token-file ]] && T_TOKEN_FILE=$arg
		prev=$arg
	done
	t_spawn "$ns" "$PORTSHARED" --db "$db" --http "$http" --web "$root/web" "$@"
	DAEMON_PID=$T_PID
	t_wait_for 10 ip netns exec "$ns" curl -sf "http://$http/healthz"
}

# t_api NS METHOD URL [JSON]: prints "STATUS BODY".  Sends the bearer
# token from T_TOKEN_FILE (see t_daemon) once the daemon has written it.
t_api() {
	local ns=$1 method=$2 url=$3 body=${4:-}
	local args=(-s -o "$t_tmp/body" -w '%{http_code}' -X "$method" --max-time 5)
	if [[ -n $body ]]; then
		args+=(-H 'Content-Type: application/json' --data "$body")
	fi
	if [[ -n ${T_TOKEN_FILE:-} && -r $T_TOKEN_FILE ]]; then
		args+=(-H "Authorization: Bearer $(tr -d '[:space:]' <"$T_TOKEN_FILE")")
	fi
	local code
	code=$(ip netns exec "$ns" curl "${args[@]}" "$url" || true)
	echo "$code $(cat "$t_tmp/body" 2>/dev/null)"
}
