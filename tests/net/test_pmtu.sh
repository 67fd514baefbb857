#!/bin/bash
# Path-MTU discovery through a mapping: client -- r1 -- r2 -- server, where
# the link between the routers has a smaller MTU than both ends think.  The
# server's big segments (sent from shared port 80 after the rewrite) make r2
# answer "fragmentation needed" / "packet too big" quoting
# port 80.  portshared must rewrite the quoted port to the assigned port
# before conntrack sees the error, or conntrack marks it INVALID, the
# server's INPUT rule drops it, and the transfer stalls in a PMTU black hole.
set -euo pipefail
# shellcheck source=tests/net/lib.sh
source "$(dirname "$0")/lib.sh"
t_require_root test_pmtu

srv="" r2="" r1="" cli=""
t_netns srv psrv
t_netns r2 pr2
t_netns r1 pr1
t_netns cli pcli
http=127.0.0.1:18082
api="http://$http/api/v1"

# client --1500-- r1 --1300-- r2 --1500-- server.  Both ends advertise an
# MSS for 1500, so only PMTU discovery can find the narrow hop between the
# routers.
link() { # link NS1 DEV1 NS2 DEV2 MTU
	ip -n "$1" link add "$2" mtu "$5" type veth peer name "$4" netns "$3" mtu "$5"
	ip -n "$1" link set "$2" up
	ip -n "$3" link set "$4" up
}
link "$srv" eth0 "$r2" s0 1500
link "$r2" m0 "$r1" m0 1300
link "$r1" c0 "$cli" eth0 1500
addr() { # addr NS DEV V4 V6
	ip -n "$1" addr add "$3" dev "$2"
	ip -n "$1" addr add "$4" dev "$2" nodad
}
addr "$srv" eth0 198.18.1.1/24 2001:db8:1::1/64
addr "$r2" s0 198.18.1.254/24 2001:db8:1::fe/64
addr "$r2" m0 198.18.3.2/24 2001:db8:3::2/64
addr "$r1" m0 198.18.3.1/24 2001:db8:3::1/64
addr "$r1" c0 198.18.2.254/24 2001:db8:2::fe/64
addr "$cli" eth0 198.18.2.10/24 2001:db8:2::10/64
for r in "$r1" "$r2"; do
	ip netns exec "$r" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
done
ip -n "$srv" route add default via 198.18.1.254
ip -n "$srv" -6 route add default via 2001:db8:1::fe
ip -n "$r2" route add 198.18.2.0/24 via 198.18.3.1
ip -n "$r2" -6 route add 2001:db8:2::/64 via 2001:db8:3::1
ip -n "$r1" route add 198.18.1.0/24 via 198.18.3.2
ip -n "$r1" -6 route add 2001:db8:1::/64 via 2001:db8:3::2
ip -n "$cli" route add default via 198.18.2.254
ip -n "$cli" -6 route add default via 2001:db8:2::fe

for ipt in iptables ip6tables; do
	ip netns exec "$srv" "$ipt" -A INPUT -m conntrack --ctstate INVALID -j DROP
done

t_check "installer installs the rules" \
	ip netns exec "$srv" "$IPT_TOOL" install --queues 0:1 --state-dir "$t_tmp"
t_check "portshared starts" t_daemon "$srv" "$http" "$t_tmp/db" --queues 0:1
t_spawn "$srv" python3 "$PEER" serve tcp 8081 srv8081
t_wait_for 5 ip netns exec "$srv" python3 "$PEER" get tcp 127.0.0.1 8081

for addr in 198.18.1.1 2001:db8:1::1; do
	reply=$(t_api "$srv" POST "$api/mappings" \
		"{\"proto\":\"tcp\",\"address\":\"$addr\",\"shared_port\":80,\"assigned_port\":8081}")
	t_eq "mapping [$addr]:80 -> 8081 created" 201 "${reply%% *}"
done

for addr in 198.18.1.1 2001:db8:1::1; do
	got=$(ip netns exec "$cli" timeout 30 python3 "$PEER" get tcp "$addr" 80 2>&1 || true)
	t_eq "256 KiB echo through [$addr]:80 across the 1300-byte hop" srv8081 "$got"
done

# The errors must have gone through the queue: their rule counters moved.
queued() { # queued SAVE-COMMAND TYPE-MATCH
	ip netns exec "$srv" "$1" -c -t raw | grep -- "$2" | grep -c '^\[[1-9]' || true
}
t_check "fragmentation-needed errors went through the queue" \
	test "$(queued iptables-save '--icmp-type 3 ')" -gt 0
t_check "packet-too-big errors went through the queue" \
	test "$(queued ip6tables-save '--icmpv6-type 2 ')" -gt 0
t_done test_pmtu
