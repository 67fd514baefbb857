#!/bin/bash
# Static port sharing end to end, in two namespaces joined by a veth pair:
# a server host with two addresses per family runs TCP and UDP servers on
# 8081 and 8082 and portshared; mappings made over REST publish both on port
# 80.  Clients on the other host and on the server host itself must reach
# the right server with conntrack's INVALID packets dropped in INPUT and
# OUTPUT, with checksum offload on and off, while clients that connect to
# an assigned port directly are left alone.  Then: a deleted mapping stops
# rewriting at once, a TCP connection survives a daemon restart, domain
# names resolve, SIGTERM under a flood exits promptly, and uninstall
# restores the rules exactly.
set -euo pipefail
# shellcheck source=tests/net/lib.sh
source "$(dirname "$0")/lib.sh"
t_require_root test_static

srv="" cli=""
t_netns srv srv
t_netns cli cli
http=127.0.0.1:18080
api="http://$http/api/v1"
state="$t_tmp/state"
mkdir -p "$state"

# The server resolves names through its own hosts file (ip netns exec
# bind-mounts /etc/netns/NS/hosts over /etc/hosts).
mkdir -p "/etc/netns/$srv"
printf '127.0.0.1 localhost\n198.18.0.1 web1.portshare.test\n2001:db8::1 web1.portshare.test\n' \
	>"/etc/netns/$srv/hosts"

ip -n "$srv" link add vs type veth peer name vc netns "$cli"
ip -n "$srv" addr add 198.18.0.1/24 dev vs
ip -n "$srv" addr add 198.18.0.2/24 dev vs
ip -n "$srv" addr add 2001:db8::1/64 dev vs nodad
ip -n "$srv" addr add 2001:db8::2/64 dev vs nodad
ip -n "$cli" addr add 198.18.0.10/24 dev vc
ip -n "$cli" addr add 2001:db8::10/64 dev vc nodad
ip -n "$srv" link set vs up
ip -n "$cli" link set vc up

# A connection that conntrack sees inconsistently dies on these rules.
for ipt in iptables ip6tables; do
	ip netns exec "$srv" "$ipt" -A INPUT -m conntrack --ctstate INVALID -j DROP
	ip netns exec "$srv" "$ipt" -A OUTPUT -m conntrack --ctstate INVALID -j DROP
done
saved() {
	ip netns exec "$srv" "$1" | grep -v '^#' | sed -E 's/\[[0-9]+:[0-9]+\]/[0:0]/g'
}
saved iptables-save >"$t_tmp/before.v4"
saved ip6tables-save >"$t_tmp/before.v6"

t_check "installer installs the rules" \
	ip netns exec "$srv" "$IPT_TOOL" install --queues 0:2 --state-dir "$state"

t_check "portshared -n accepts the configuration" \
	ip netns exec "$srv" "$PORTSHARED" -n --db "$t_tmp/db" --queues 0:2 --web "$root/web"
t_check "portshared -n leaves a missing database uncreated" test ! -e "$t_tmp/db"
t_check "portshared -n refuses a bad listen address" \
	bash -c "! ip netns exec '$srv' '$PORTSHARED' -n --db '$t_tmp/db' --http nowhere --web '$root/web' 2>/dev/null"
t_check "portshared refuses a bad option value" \
	bash -c "! '$PORTSHARED' --queues 1 2>/dev/null"
t_check "portshared starts and answers /healthz" \
	t_daemon "$srv" "$http" "$t_tmp/db" --queues 0:2 --resolve-interval 1

t_spawn "$srv" python3 "$PEER" serve tcp 8081 srv8081
t_spawn "$srv" python3 "$PEER" serve tcp 8082 srv8082
t_spawn "$srv" python3 "$PEER" serve udp 8081 srv8081 198.18.0.1 2001:db8::1
t_spawn "$srv" python3 "$PEER" serve udp 8082 srv8082 198.18.0.2 2001:db8::2
t_wait_for 5 ip netns exec "$srv" python3 "$PEER" get tcp 127.0.0.1 8082

post() {
	t_api "$srv" POST "$api/mappings" \
		"{\"proto\":\"both\",\"address\":\"$1\",\"shared_port\":80,\"assigned_port\":$2}"
}
ids=()
for spec in 198.18.0.1:8081 198.18.0.2:8082 2001:db8::1:8081 2001:db8::2:8082; do
	addr=${spec%:*}
	port=${spec##*:}
	reply=$(post "$addr" "$port")
	t_eq "POST mapping $addr:80 -> $port answers 201" 201 "${reply%% *}"
	ids+=("$(sed -E 's/.*"id": *([0-9]+).*/\1/' <<<"${reply#* }")")
done

reach() { # reach NS PROTO ADDR [PORT]
	ip netns exec "$1" timeout 20 python3 "$PEER" get "$2" "$3" "${4:-80}" 2>"$t_tmp/peer.err"
}

expect_all() {
	local mode=$1 who ns proto spec addr want
	for who in remote local; do
		ns=$cli
		[[ $who == local ]] && ns=$srv
		for proto in tcp udp; do
			for spec in 198.18.0.1=srv8081 198.18.0.2=srv8082 2001:db8::1=srv8081 2001:db8::2=srv8082; do
				addr=${spec%=*}
				want=${spec#*=}
				t_eq "$mode offload, $who $proto client reaches $want via [$addr]:80" \
					"$want" "$(reach "$ns" "$proto" "$addr" || cat "$t_tmp/peer.err")"
			done
		done
	done
}

expect_all "with"
for side in "$srv vs" "$cli vc"; do
	read -r ns dev <<<"$side"
	ip netns exec "$ns" ethtool -K "$dev" tx off rx off >/dev/null 2>&1 || true
done
ip netns exec "$srv" ethtool -K lo tx off >/dev/null 2>&1 || true
expect_all "without"

# Clients that connect straight to an assigned port are left alone.
for who in "remote $cli" "local $srv"; do
	read -r label ns <<<"$who"
	for proto in tcp udp; do
		t_eq "$label $proto client still reaches 8082 directly while it is mapped" \
			srv8082 "$(reach "$ns" "$proto" 198.18.0.2 8082 || cat "$t_tmp/peer.err")"
		t_eq "$label $proto client still reaches [2001:db8::2]:8082 directly" \
			srv8082 "$(reach "$ns" "$proto" 2001:db8::2 8082 || cat "$t_tmp/peer.err")"
	done
done

# Conntrack must see the assigned port both ways: no entry for port 80.
entries=$(ip netns exec "$srv" conntrack -L -p tcp 2>/dev/null | grep -c 'dport=808[12] ' || true)
stale=$(ip netns exec "$srv" conntrack -L -p tcp 2>/dev/null | grep -c 'dport=80 ' || true)
t_check "conntrack tracked the TCP connections ($entries entries)" test "$entries" -gt 0
t_eq "no conntrack entry carries the shared port" 0 "$stale"

status=$(t_api "$srv" GET "$api/mappings/${ids[0]}")
t_check "mapping counters count both directions" \
	grep -Eq '"packets_in": *[1-9].*"packets_out": *[1-9]' <<<"$status"

# Bad input is refused with a JSON error that names the field.
reply=$(t_api "$srv" POST "$api/mappings" '{"address":"198.18.0.1","shared_port":70000,"assigned_port":8081}')
t_check "port 70000 is refused with 422 naming shared_port" \
	grep -Eq '^422 .*"field": *"shared_port"' <<<"$reply"
reply=$(post 198.18.0.1 8083)
t_check "a duplicate shared port is refused with 409" grep -q '^409 ' <<<"$reply"
reply=$(t_api "$srv" POST "$api/mappings" '{"address":"198.18.0.3","shared_port":81,"assigned_port":8081}')
t_check "the same assigned port on another address is fine" grep -q '^201 ' <<<"$reply"
reply=$(t_api "$srv" POST "$api/mappings" '{"address":"198.18.0.1","shared_port":81,"assigned_port":8081}')
t_check "an ambiguous reverse mapping is refused with 409" grep -q '^409 ' <<<"$reply"
reply=$(t_api "$srv" POST "$api/mappings" '{"address":"198.18.0.1",')
t_check "malformed JSON is refused with 400" grep -q '^400 ' <<<"$reply"
reply=$(t_api "$srv" GET "$api/mappings/99999")
t_check "an unknown id answers 404" grep -q '^404 ' <<<"$reply"

# Deleting a mapping stops the rewrite for new connections at once.
reply=$(t_api "$srv" DELETE "$api/mappings/${ids[0]}")
t_eq "DELETE answers 204" 204 "${reply%% *}"
t_check "after DELETE, 198.18.0.1:80 no longer reaches 8081" \
	bash -c "! ip netns exec '$cli' timeout 5 python3 '$PEER' get tcp 198.18.0.1 80 2>/dev/null"
t_eq "the other mapping still works" srv8082 "$(reach "$cli" tcp 198.18.0.2 || true)"

# Disabling and enabling a mapping takes effect at once, both ways.
reply=$(t_api "$srv" PATCH "$api/mappings/${ids[1]}" '{"enabled":false}')
t_check "PATCH enabled=false answers 200" grep -Eq '^200 .*"enabled": *false' <<<"$reply"
t_check "a disabled mapping no longer rewrites" \
	bash -c "! ip netns exec '$cli' timeout 5 python3 '$PEER' get tcp 198.18.0.2 80 2>/dev/null"
reply=$(t_api "$srv" PATCH "$api/mappings/${ids[1]}" '{"enabled":true}')
t_eq "re-enabled mapping rewrites again" srv8082 "$(reach "$cli" tcp 198.18.0.2 || true)"
reply=$(t_api "$srv" PUT "$api/mappings/${ids[3]}" '{"proto":"udp","address":"2001:db8::2","shared_port":80,"assigned_port":8082}')
t_check "PUT narrows a mapping to udp" grep -q '^200 ' <<<"$reply"
t_check "after PUT, tcp to [2001:db8::2]:80 is no longer rewritten" \
	bash -c "! ip netns exec '$cli' timeout 5 python3 '$PEER' get tcp 2001:db8::2 80 2>/dev/null"
t_eq "after PUT, udp to [2001:db8::2]:80 still is" srv8082 "$(reach "$cli" udp 2001:db8::2 || true)"

# A domain name is resolved off the packet path and matches its addresses.
reply=$(t_api "$srv" POST "$api/mappings" '{"address":"web1.portshare.test","shared_port":80,"assigned_port":8081,"proto":"tcp"}')
t_check "a mapping by domain name is created" grep -q '^201 .*"resolved": *true' <<<"$reply"
t_eq "the name's IPv4 address reaches 8081" srv8081 "$(reach "$cli" tcp 198.18.0.1 || true)"
reply=$(t_api "$srv" POST "$api/mappings" '{"address":"nowhere.invalid","shared_port":90,"assigned_port":9090}')
t_check "an unresolvable name is kept and flagged" grep -q '^201 .*"resolved": *false' <<<"$reply"

# A connection open through a mapping survives a daemon restart.
mkfifo "$t_tmp/fifo"
t_spawn "$cli" python3 "$PEER" hold 198.18.0.2 80 "$t_tmp/fifo" >"$t_tmp/hold.out" 2>&1
holder=$T_PID
exec 7>"$t_tmp/fifo"
echo one >&7
t_check "held connection exchanges data" t_wait_for 5 grep -q 'ok 1' "$t_tmp/hold.out"
t_stop "$DAEMON_PID" KILL
echo two >&7
sleep 0.5
t_check "portshared starts again" t_daemon "$srv" "$http" "$t_tmp/db" --queues 0:2
t_check "held connection resumes after the restart" t_wait_for 15 grep -q 'ok 2' "$t_tmp/hold.out"
echo three >&7
t_check "held connection keeps exchanging data" t_wait_for 5 grep -q 'ok 3' "$t_tmp/hold.out"
exec 7>&-
t_stop "$holder"

# SIGTERM under a flood: the workers drain for a bounded time and exit.
for _ in 1 2 3; do
	t_spawn "$cli" timeout 15 python3 "$PEER" flood 198.18.0.2 80 10
done
sleep 1
start=$(date +%s%N)
kill -TERM "$DAEMON_PID"
rc=0
wait "$DAEMON_PID" || rc=$?
took=$((($(date +%s%N) - start) / 1000000))
t_eq "portshared exits 0 on SIGTERM under a flood" 0 "$rc"
t_check "and within 5 s (took $took ms)" test "$took" -lt 5000

t_check "uninstall succeeds" ip netns exec "$srv" "$IPT_TOOL" uninstall --state-dir "$state"
t_check "iptables-save is exactly as before install" diff -u "$t_tmp/before.v4" <(saved iptables-save)
t_check "ip6tables-save is exactly as before install" diff -u "$t_tmp/before.v6" <(saved ip6tables-save)

t_done test_static
