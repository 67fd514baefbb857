#!/bin/bash
# Regress scenario for iptables/portshare-iptables. Needs root.
#
# Everything happens inside a network namespace made for this run, because
# iptables rules and ipsets belong to a namespace and the host's own must
# never be touched. The namespace starts with a few unrelated rules, so
# that some of the tables install uses already exist and some do not; the
# test then checks that install is idempotent and that uninstall leaves
# iptables-save and ip6tables-save exactly as they were before install.

set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
tool="$root/iptables/portshare-iptables"
self="$root/tests/net/test_installer.sh"

passed=0
failed=0
n=0

ok() {
	n=$((n + 1))
	passed=$((passed + 1))
	echo "ok $n - $1"
}

not_ok() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n - $1"
}

# Runs the command after the description and records a pass when it
# succeeds.
check() {
	local what=$1
	shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}

if ((EUID != 0)); then
	echo "1..0 # SKIP test_installer.sh needs root"
	exit 77
fi

ns="portshare-t-$$-inst"
state_dir=$(mktemp -d /tmp/portshare-t-$$-state.XXXXXX)
work=$(mktemp -d /tmp/portshare-t-$$-work.XXXXXX)

cleanup() {
	ip netns delete "$ns" 2>/dev/null || true
	rm -rf "$state_dir" "$work"
}
trap cleanup EXIT

ip netns add "$ns"

in_ns() {
	ip netns exec "$ns" "$@"
}

psi() {
	in_ns "$tool" "$@" --state-dir "$state_dir"
}

# The save output carries timestamps and packet counters that change on
# their own; what must not change is the rest.
saved() {
	in_ns "$1" | grep -v '^#' | sed -E 's/\[[0-9]+:[0-9]+\]/[0:0]/g'
}

nft_ruleset() {
	in_ns nft list ruleset 2>/dev/null | sed -E 's/counter packets [0-9]+ bytes [0-9]+/counter/g'
}

snapshot() {
	saved iptables-save >"$work/$1.v4"
	saved ip6tables-save >"$work/$1.v6"
	if command -v nft >/dev/null; then
		nft_ruleset >"$work/$1.nft"
	else
		: >"$work/$1.nft"
	fi
}

marked_count() {
	{ saved iptables-save; saved ip6tables-save; } | grep -c -- '--comment portshare' || true
}

# Each built-in chain must hold exactly one jump into our chain.
one_jump_each() {
	local save fam
	for fam in iptables-save ip6tables-save; do
		save=$(saved "$fam")
		[[ $(grep -c -- '^-A PREROUTING .*-j PORTSHARE_PRE$' <<<"$save") == 1 ]] || return 1
		[[ $(grep -c -- '^-A OUTPUT .*-j PORTSHARE_OUT$' <<<"$save") == 1 ]] || return 1
		[[ $(grep -c -- '^-A POSTROUTING .*-j PORTSHARE_POST$' <<<"$save") == 1 ]] || return 1
	done
}

chains_exist() {
	local fam raw mangle
	for fam in iptables-save ip6tables-save; do
		raw=$(in_ns "$fam" -t raw)
		mangle=$(in_ns "$fam" -t mangle)
		grep -q '^:PORTSHARE_PRE ' <<<"$raw" || return 1
		grep -q '^:PORTSHARE_OUT ' <<<"$raw" || return 1
		grep -q '^:PORTSHARE_POST ' <<<"$mangle" || return 1
	done
}

set_type_is() {
	in_ns ipset list -t "$1" 2>/dev/null | grep -qx "Type: $2"
}

sets_exist() {
	local f
	for f in 4 6; do
		set_type_is "portshare-in$f" hash:ip,port || return 1
		set_type_is "portshare-out$f" hash:ip,port || return 1
		set_type_is "portshare-addr$f" hash:ip || return 1
	done
}

no_sets() {
	local s
	for s in in4 out4 addr4 in6 out6 addr6; do
		if in_ns ipset -q list -n "portshare-$s" >/dev/null 2>&1; then
			return 1
		fi
	done
}

# Every queue rule must use the given target options, and none that can
# rewrite a port may carry --queue-bypass, since the rewrite must fail
# closed.  The ICMP error rules of application groups, which match any local
# address, are the only ones that bypass: host-wide path MTU discovery must
# not depend on the daemon.
# queue_rules_are NETWORK LOOPBACK: every queue rule uses one of the two
# queue options (loopback traffic has a queue of its own).
queue_rules_are() {
	local want=$1 lo=$2 rules bypass
	rules=$({ saved iptables-save; saved ip6tables-save; } | grep -- '-j NFQUEUE')
	[[ -n $rules ]] || return 1
	bypass=$(grep -- '--queue-bypass' <<<"$rules" || true)
	[[ -n $bypass ]] || return 1
	! grep -v -e '-p icmp .*--src-type LOCAL' -e '-p icmp .*--dst-type LOCAL' \
		-e '-p ipv6-icmp .*--src-type LOCAL' -e '-p ipv6-icmp .*--dst-type LOCAL' \
		<<<"$bypass" | grep -q . || return 1
	rules=${rules// --queue-bypass/}
	grep -q -- "-j NFQUEUE $lo\$" <<<"$rules" || return 1
	! grep -v -e "-j NFQUEUE $want\$" -e "-j NFQUEUE $lo\$" <<<"$rules" | grep -q .
}

status_is() {
	local want=$1 rc=0
	psi status >/dev/null || rc=$?
	[[ $rc == "$want" ]]
}

same_as_before() {
	cmp -s "$work/before.$1" "$work/after.$1" || {
		diff -u "$work/before.$1" "$work/after.$1" | sed 's/^/# /'
		return 1
	}
}

state_dir_empty() {
	[[ -z $(ls -A "$state_dir") ]]
}

# The starting ruleset: conntrack guards in filter for both families, a
# mangle rule for IPv4 only and a raw rule for IPv6 only. So ip mangle and
# ip6 raw exist before install (ip6 raw without its OUTPUT chain), while ip
# raw and ip6 mangle do not.
in_ns iptables -A INPUT -m conntrack --ctstate INVALID -j DROP
in_ns iptables -A OUTPUT -m conntrack --ctstate INVALID -j DROP
in_ns ip6tables -A INPUT -m conntrack --ctstate INVALID -j DROP
in_ns ip6tables -A OUTPUT -m conntrack --ctstate INVALID -j DROP
in_ns iptables -t mangle -A PREROUTING -p tcp --dport 9 -j ACCEPT
in_ns ip6tables -t raw -A PREROUTING -p udp --dport 9 -j ACCEPT
snapshot before

check "shellcheck portshare-iptables" shellcheck "$tool"
check "shellcheck test_installer.sh" shellcheck "$self"

check "install succeeds" psi install
count_once=$(marked_count)
check "install again succeeds" psi install
count_twice=$(marked_count)
check "second install keeps one copy ($count_once marked rules)" \
	test "$count_once" -gt 0 -a "$count_once" = "$count_twice"
check "one jump per built-in chain" one_jump_each
check "status exits 0 when installed" status_is 0
check "chains exist in raw and mangle for both families" chains_exist
check "six ipsets exist with the right types" sets_exist
check "queue rules balance over 0:1, loopback on 2, only ICMP rules bypass" \
	queue_rules_are "--queue-balance 0:1" "--queue-num 2"

check "ipsets accept entries" in_ns ipset add portshare-in4 192.0.2.1,tcp:8080
in_ns ipset add portshare-in6 2001:db8::1,tcp:8080
in_ns ipset add portshare-addr4 192.0.2.1

check "uninstall succeeds with entries in the sets" psi uninstall
snapshot after
check "iptables-save is as before install" same_as_before v4
check "ip6tables-save is as before install" same_as_before v6
check "nft ruleset is as before install" same_as_before nft
check "ipsets are gone" no_sets
check "status exits 3 when not installed" status_is 3
check "state file removed" state_dir_empty
check "uninstall again is harmless" psi uninstall

check "install with --queues 3:1 succeeds" psi install --queues 3:1
check "single queue uses --queue-num 3, loopback 4" queue_rules_are "--queue-num 3" "--queue-num 4"
check "uninstall after --queues 3:1 succeeds" psi uninstall
snapshot after
check "iptables-save is as before after second cycle" same_as_before v4
check "ip6tables-save is as before after second cycle" same_as_before v6
check "nft ruleset is as before after second cycle" same_as_before nft

rc=0
psi install --queues 0:0 >/dev/null 2>&1 || rc=$?
check "bad --queues exits 2" test "$rc" = 2

# --napi-threads: a veth pair in the namespace, GRO on so that each end has
# a NAPI instance to run in a thread.  psnapi1 is threaded already, so it
# is not install's to switch back.
in_ns ip link add psnapi0 type veth peer name psnapi1
in_ns ip link set psnapi0 up
in_ns ip link set psnapi1 up
in_ns ethtool -K psnapi0 gro on >/dev/null
in_ns ethtool -K psnapi1 gro on >/dev/null
in_ns sh -c 'echo 1 >/sys/class/net/psnapi1/threaded'
threaded_is() { # IFACE VALUE
	[[ $(in_ns cat "/sys/class/net/$1/threaded") == "$2" ]]
}
check "psnapi0 starts in softirq" threaded_is psnapi0 0
check "install --napi-threads succeeds despite a missing interface" \
	psi install --napi-threads psnapi0,psnapi1,psnapi9 2>"$work/napi.err"
check "the missing interface is named in a warning" grep -q "no interface psnapi9" "$work/napi.err"
check "psnapi0 runs in NAPI threads" threaded_is psnapi0 1
psi status >"$work/napi.status" || true
check "status lists psnapi0, not psnapi1" \
	sh -c "grep -q 'psnapi0 *threaded=1' '$work/napi.status' && ! grep -q psnapi1 '$work/napi.status'"
check "uninstall after --napi-threads succeeds" psi uninstall
check "psnapi0 is back in softirq" threaded_is psnapi0 0
check "psnapi1, threaded before install, stays threaded" threaded_is psnapi1 1
check "state file removed after the NAPI cycle" state_dir_empty
check "iptables-save is as before after the NAPI cycle" same_as_before v4
rc=0
psi install --napi-threads ../eth0 >/dev/null 2>&1 || rc=$?
check "an interface name with a path in it exits 2" test "$rc" = 2
rc=0
psi install --napi-threads '*' >/dev/null 2>&1 || rc=$?
check "a glob for an interface name exits 2" test "$rc" = 2

# A firewall flush between install and uninstall makes the next install
# record the ruleset afresh; the interface it switched must stay recorded.
check "install --napi-threads psnapi0 again" psi install --napi-threads psnapi0
in_ns iptables -t raw -F
in_ns iptables -t raw -X PORTSHARE_PRE
check "install after a flush succeeds" psi install
check "uninstall after the flush succeeds" psi uninstall
check "psnapi0 is back in softirq after the flush and reinstall" threaded_is psnapi0 0

echo "1..$n"
echo "installer: $passed passed, $failed failed"
((failed == 0))
