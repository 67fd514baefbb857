#!/bin/bash
# The dashboard's UDP fan-out section in real headless Chromium.  A server
# namespace runs the installer and portshared (with no contested port); a
# client namespace is joined to it by a veth pair.  tests/web/fanout.mjs
# runs Chromium inside the server namespace against http://127.0.0.1:18080/
# and, through the page's forms, contests UDP port 162 on every address,
# subscribes 127.0.0.1:9162 to it, provokes validation errors, switches the
# port off and on, and deletes it all.  Once the subscriber is listed, this
# script binds a listener to 162 and one to 9162 in the server namespace,
# sends five datagrams to 198.18.0.1:162 from the client, and reports what
# each listener got: the fan-out data path is tested elsewhere, so that is
# not a check here.  The page's checks come back as TAP lines and are
# numbered here.
# PORTSHARE_SCREENSHOTS=1 also rewrites web/doc/fanout.png.
set -euo pipefail
# shellcheck source=tests/net/lib.sh
source "$(dirname "$0")/lib.sh"
t_require_root test_dashboard_fanout

web_test=$root/tests/web/fanout.mjs
missing=""
[[ -x /usr/bin/chromium ]] || missing+=" chromium"
command -v node >/dev/null || missing+=" node"
[[ -d $root/tests/web/node_modules/playwright-core ]] || missing+=" playwright-core (npm ci --prefix tests/web)"
if [[ -n $missing ]]; then
	if [[ -z ${CI:-} ]]; then
		echo "1..0 # SKIP test_dashboard_fanout needs$missing (make deps installs them)"
		exit 77
	fi
	t_not_ok "browser test prerequisites are installed (missing:$missing)"
	t_done test_dashboard_fanout
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

shots=()
if [[ -n ${PORTSHARE_SCREENSHOTS:-} ]]; then
	mkdir -p "$root/web/doc"
	shots=(--shots "$root/web/doc")
fi
t_spawn "$srv" env TMPDIR="$t_tmp" timeout 180 node "$web_test" --url "http://$http/" --signal "$signal" \
	--port 162 --subscriber 127.0.0.1:9162 \
	--token-file "$t_tmp/token" "${shots[@]}" >"$t_tmp/web.out" 2>"$t_tmp/web.err"
browser=$T_PID

# count_py ADDR PORT SECONDS N: binds ADDR:PORT, counts the datagrams that
# arrive within SECONDS, or until N have, and prints the count.
count_py='
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
end, n = time.monotonic() + float(sys.argv[3]), 0
while end > time.monotonic() and n < int(sys.argv[4]):
    s.settimeout(end - time.monotonic())
    try:
        s.recv(65536)
        n += 1
    except socket.timeout:
        break
print(n)
'
# send_py HOST PORT N: sends N datagrams, 0.2 s apart.
send_py='
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(int(sys.argv[3])):
    s.sendto(b"trap %d" % i, (sys.argv[1], int(sys.argv[2])))
    time.sleep(0.2)
'
bound() { ip netns exec "$srv" ss -Hlun "sport = :$1" | grep -q .; }

# Five datagrams to the contested port, once the page has its subscriber:
# the local listener on 162 should get them all, and the subscriber on
# 9162 a copy of each once the data path copies them.
deadline=$((SECONDS + 120))
while [[ ! -e $signal/traffic.start ]] && kill -0 "$browser" 2>/dev/null && ((SECONDS < deadline)); do
	sleep 0.2
done
if [[ -e $signal/traffic.start ]]; then
	t_spawn "$srv" python3 -c "$count_py" 0.0.0.0 162 12 5 >"$t_tmp/listener.out" 2>&1
	listener=$T_PID
	t_spawn "$srv" python3 -c "$count_py" 127.0.0.1 9162 12 5 >"$t_tmp/subscriber.out" 2>&1
	subscriber=$T_PID
	if t_wait_for 5 bound 162 && t_wait_for 5 bound 9162; then
		ip netns exec "$cli" python3 -c "$send_py" 198.18.0.1 162 5 || true
	fi
	wait "$listener" || true
	wait "$subscriber" || true
	echo "# of 5 datagrams to 198.18.0.1:162, the listener on 162 got $(tr -d '\n' <"$t_tmp/listener.out")" \
		"and the subscriber on 127.0.0.1:9162 got $(tr -d '\n' <"$t_tmp/subscriber.out") (not required here)"
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
t_done test_dashboard_fanout
