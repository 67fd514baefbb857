#!/bin/bash
# Virtual port multiplexing end to end, in two namespaces joined by a veth
# pair: the server host runs three TCP servers on 9001-9003 and portshared;
# application groups made over REST put them behind virtual ports.  A client
# host with four addresses checks the scheduling policies, source rules,
# the bounded wait (admission and refusal), draining, and that an open
# connection survives a daemon restart on its backend (groups_checks.py).
set -euo pipefail
# shellcheck source=tests/net/lib.sh
source "$(dirname "$0")/lib.sh"
t_require_root test_groups

PY=/usr/bin/python3
CHECKS=$root/tests/net/groups_checks.py

srv="" cli=""
t_netns srv srv
t_netns cli cli
http=198.18.0.1:18100
url="http://$http"
state="$t_tmp/state"
mkdir -p "$state" "$t_tmp/d"
db="$t_tmp/d/portshare.db"

ip -n "$srv" link add vs type veth peer name vc netns "$cli"
ip -n "$srv" addr add 198.18.0.1/16 dev vs
for a in 198.18.0.10 198.18.0.11 198.18.0.12 198.18.5.10; do
	ip -n "$cli" addr add "$a/16" dev vc
done
ip -n "$srv" link set vs up
ip -n "$cli" link set vc up

# A connection that conntrack sees inconsistently dies on these rules, and
# so would a refusal that conntrack filed as INVALID.
ip netns exec "$srv" iptables -A INPUT -m conntrack --ctstate INVALID -j DROP
ip netns exec "$srv" iptables -A OUTPUT -m conntrack --ctstate INVALID -j DROP

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

# phase NAME [ARGS...]: runs one phase of groups_checks.py in the client.
phase() {
	local name=$1
	shift
	verdicts "$name" < <(ip netns exec "$cli" timeout 120 "$PY" "$CHECKS" "$name" \
		"$url" "$T_TOKEN_FILE" "$@" 2>&1 || true)
}

t_check "installer installs the rules" \
	ip netns exec "$srv" "$IPT_TOOL" install --queues 0:2 --state-dir "$state"
t_check "portshared starts" \
	t_daemon "$srv" "$http" "$db" --queues 0:2 --flows 65536
for port in 9001 9002 9003; do
	t_spawn "$srv" "$PY" "$PEER" serve tcp "$port" "srv$port"
done
for port in 9001 9002 9003; do
	t_wait_for 5 ip netns exec "$srv" "$PY" "$PEER" get tcp 127.0.0.1 "$port"
done

phase policies
phase rules
phase wait
phase drain

# --- An open connection survives a restart on its backend ----------------

phase setup
mkfifo "$t_tmp/fifo"
t_spawn "$cli" "$PY" "$PEER" hold 198.18.0.1 9000 "$t_tmp/fifo" >"$t_tmp/hold.out" 2>&1
holder=$T_PID
exec 7>"$t_tmp/fifo"
echo one >&7
t_check "a held connection exchanges data" t_wait_for 5 grep -q 'ok 1' "$t_tmp/hold.out"
backend=$(sed -n 's/^server //p' "$t_tmp/hold.out")
phase active "$backend" 1
phase ops "$backend" 1
t_check "the flow file exists beside the database" test -s "$db.flows"
t_stop "$DAEMON_PID"
t_check "portshared starts again" \
	t_daemon "$srv" "$http" "$db" --queues 0:2 --flows 65536
echo two >&7
t_check "the held connection resumes after the restart" \
	t_wait_for 15 grep -q 'ok 2' "$t_tmp/hold.out"
phase active "$backend" 1
phase ops "$backend"
phase flows "$backend" 1
echo three >&7
t_check "and keeps exchanging data" t_wait_for 5 grep -q 'ok 3' "$t_tmp/hold.out"
exec 7>&-
t_stop "$holder"
phase flush

t_stop "$DAEMON_PID"
t_check "installer uninstalls the rules" \
	ip netns exec "$srv" "$IPT_TOOL" uninstall --state-dir "$state"
t_done test_groups
