#!/bin/bash
# The dashboard's groups section in real headless Chromium.  A server
# namespace runs the installer, portshared (with no group) and two TCP
# servers, on 8091 and 8092; a client namespace is joined to it by a veth
# pair.  tests/web/groups.mjs runs Chromium inside the server namespace
# against http://127.0.0.1:18080/ and, through the page's forms, makes the
# group "web" for 198.18.0.1:8090/tcp with those two backends, drains one,
# adds a rule, provokes validation errors, reads the flow list and deletes
# it all.  Once the group has its backends, this script holds one TCP
# connection through it from the client, and reports whether it got one:
# traffic through groups is tested elsewhere, so it is not a check here.
# The page's checks come back as TAP lines and are numbered here.
# PORTSHARE_SCREENSHOTS=1 also rewrites web/doc/groups.png.
set -euo pipefail
# shellcheck source=tests/net/lib.sh
source "$(dirname "$0")/lib.sh"
t_require_root test_dashboard_groups

web_test=$root/tests/web/groups.mjs
missing=""
[[ -x /usr/bin/chromium ]] || missing+=" chromium"
command -v node >/dev/null || missing+=" node"
[[ -d $root/tests/web/node_modules/playwright-core ]] || missing+=" playwright-core (npm ci --prefix tests/web)"
if [[ -n $missing ]]; then
	if [[ -z ${CI:-} ]]; then
		echo "1..0 # SKIP test_dashboard_groups needs$missing (make deps installs them)"
		exit 77
	fi
	t_not_ok "browser test prerequisites are installed (missing:$missing)"
	t_done test_dashboard_groups
	exit 1
fi

srv="" cli=""
t_netns srv srv
t_netns cli cli
http=127.0.0.1:18080
state="$t_tmp/state"
signal="$t_tmp/signal"
mkdir -p "$state" "$signal"

ip -n "$srv" link add vs type veth peer name vc netns "$cli"
ip -n "$srv" addr add 198.18.0.1/24 dev vs
ip -n "$cli" addr add 198.18.0.10/24 dev vc
ip -n "$srv" link set vs up
ip -n "$cli" link set vc up

t_check "installer installs the rules" \
	ip netns exec "$srv" "$IPT_TOOL" install --queues 0:2 --state-dir "$state"
t_check "portshared starts and answers /healthz" \
	t_daemon "$srv" "$http" "$t_tmp/db" --queues 0:2 --token-file "$t_tmp/token"

t_spawn "$srv" python3 "$PEER" serve tcp 8091 one
t_spawn "$srv" python3 "$PEER" serve tcp 8092 two
t_wait_for 5 ip netns exec "$srv" python3 "$PEER" get tcp 127.0.0.1 8091
t_wait_for 5 ip netns exec "$srv" python3 "$PEER" get tcp 127.0.0.1 8092

shots=()
if [[ -n ${PORTSHARE_SCREENSHOTS:-} ]]; then
	mkdir -p "$root/web/doc"
	shots=(--shots "$root/web/doc")
fi
t_spawn "$srv" env TMPDIR="$t_tmp" timeout 180 node "$web_test" --url "http://$http/" --signal "$signal" \
	--address 198.18.0.1 --virtual-port 8090 --ports 8091,8092 \
	--token-file "$t_tmp/token" "${shots[@]}" >"$t_tmp/web.out" 2>"$t_tmp/web.err"
browser=$T_PID

# One connection through the group, held from traffic.start to
# traffic.stop.  The FIFO is opened read-write, so opening it never blocks,
# even when the connection failed and nothing reads it; the client does not
# inherit it, so closing it here ends the client's input.
deadline=$((SECONDS + 120))
while [[ ! -e $signal/traffic.start ]] && kill -0 "$browser" 2>/dev/null && ((SECONDS < deadline)); do
	sleep 0.2
done
if [[ -e $signal/traffic.start ]]; then
	mkfifo "$t_tmp/fifo"
	exec 3<>"$t_tmp/fifo"
	t_spawn "$cli" timeout 60 python3 "$PEER" hold 198.18.0.1 8090 "$t_tmp/fifo" >"$t_tmp/hold.out" 2>&1 3>&-
	holder=$T_PID
	echo ping >&3
	deadline=$((SECONDS + 60))
	while [[ ! -e $signal/traffic.stop ]] && ((SECONDS < deadline)); do
		sleep 0.2
	done
	exec 3>&-
	hold_rc=0
	wait "$holder" || hold_rc=$?
	if ((hold_rc == 0)) && grep -q '^ok 1$' "$t_tmp/hold.out"; then
		echo "# a TCP connection through the group reached a backend: $(head -n 1 "$t_tmp/hold.out")"
	else
		echo "# no TCP connection through the group (the packet path may not serve groups yet):" \
			"$(tr '\n' ' ' <"$t_tmp/hold.out")"
	fi
fi

rc=0
wait "$browser" || rc=$?
while IFS= read -r line; do
	case $line in
	"ok - "*) t_ok "browser: ${line#ok - }" ;;
	"not ok - "*) t_not_ok "browser: ${line#not ok - }" ;;
	*) echo "$line" ;;
	esac
done <"$t_tmp/web.out"
t_eq "the browser test exits 0" 0 "$rc"
if ((rc != 0)) && [[ -s $t_tmp/web.err ]]; then
	sed 's/^/# /' "$t_tmp/web.err" | head -n 20
fi

t_check "uninstall succeeds" ip netns exec "$srv" "$IPT_TOOL" uninstall --state-dir "$state"
t_done test_dashboard_groups
