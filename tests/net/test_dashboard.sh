#!/bin/bash
# The dashboard in real headless Chromium.  A server namespace runs the
# installer, portshared, a UDP echo server on 5300 and a TCP server on 8082;
# a client namespace is joined to it by a veth pair.  tests/web/dashboard.mjs
# runs Chromium inside the server namespace against http://127.0.0.1:18080/,
# adds "udp 198.18.0.1:53 -> 5300" through the form and asks for traffic;
# this script then sends real datagrams through the mapping from the client
# until the page has seen the counters rise.  The page's checks come back as
# TAP lines and are numbered here.
# PORTSHARE_SCREENSHOTS=1 also rewrites web/doc/dashboard*.png.
set -euo pipefail
# shellcheck source=tests/net/lib.sh
source "$(dirname "$0")/lib.sh"
t_require_root test_dashboard

web_test=$root/tests/web/dashboard.mjs
missing=""
[[ -x /usr/bin/chromium ]] || missing+=" chromium"
command -v node >/dev/null || missing+=" node"
[[ -d $root/tests/web/node_modules/playwright-core ]] || missing+=" playwright-core (npm ci --prefix tests/web)"
if [[ -n $missing ]]; then
	if [[ -z ${CI:-} ]]; then
		echo "1..0 # SKIP test_dashboard needs$missing (make deps installs them)"
		exit 77
	fi
	t_not_ok "browser test prerequisites are installed (missing:$missing)"
	t_done test_dashboard
	exit 1
fi

srv="" cli=""
t_netns srv srv
t_netns cli cli
http=127.0.0.1:18080
state="$t_tmp/state"
signal="$t_tmp/signal"
mkdir -p "$state" "$signal"

mkdir -p "/etc/netns/$srv"
printf '127.0.0.1 localhost\n198.18.0.3 app.portshare.test\n' >"/etc/netns/$srv/hosts"

ip -n "$srv" link add vs type veth peer name vc netns "$cli"
for a in 198.18.0.1 198.18.0.2 198.18.0.3; do
	ip -n "$srv" addr add "$a/24" dev vs
done
ip -n "$cli" addr add 198.18.0.10/24 dev vc
ip -n "$srv" link set vs up
ip -n "$cli" link set vc up

t_check "installer installs the rules" \
	ip netns exec "$srv" "$IPT_TOOL" install --queues 0:2 --state-dir "$state"

# API auth is optional here: use it when this daemon has it.
auth=()
if "$PORTSHARED" --help 2>&1 | grep -q -- '--token-file'; then
	auth=(--token-file "$t_tmp/token")
fi
t_check "portshared starts and answers /healthz" \
	t_daemon "$srv" "$http" "$t_tmp/db" --queues 0:2 "${auth[@]}"
token=""
if [[ -s $t_tmp/token ]]; then
	token=$(tr -d '[:space:]' <"$t_tmp/token")
	echo "# API auth is on: the page gets the token from $t_tmp/token"
else
	echo "# this daemon has no API auth yet"
fi

t_spawn "$srv" python3 "$PEER" serve udp 5300 dns 198.18.0.1
t_spawn "$srv" python3 "$PEER" serve tcp 8082 web
t_wait_for 5 ip netns exec "$srv" python3 "$PEER" get tcp 127.0.0.1 8082
t_wait_for 5 ip netns exec "$srv" python3 "$PEER" get udp 198.18.0.1 5300

# api METHOD PATH [JSON]: prints the HTTP status; the token goes along.
api() {
	local args=(-s -o "$t_tmp/body" -w '%{http_code}' -X "$1" --max-time 5)
	[[ -n ${3:-} ]] && args+=(-H 'Content-Type: application/json' --data "$3")
	[[ -n $token ]] && args+=(-H "Authorization: Bearer $token")
	ip netns exec "$srv" curl "${args[@]}" "http://$http/api/v1$2" || true
}

# Two mappings made over REST, so the page also shows what it did not make.
t_eq "a TCP mapping made over REST" 201 \
	"$(api POST /mappings '{"proto":"tcp","address":"198.18.0.2","shared_port":80,"assigned_port":8082,"comment":"web"}')"
t_eq "a disabled mapping by host name made over REST" 201 \
	"$(api POST /mappings '{"proto":"both","address":"app.portshare.test","shared_port":443,"assigned_port":8443,"enabled":false,"comment":"app (staging)"}')"

shots=()
if [[ -n ${PORTSHARE_SCREENSHOTS:-} ]]; then
	mkdir -p "$root/web/doc"
	shots=(--shots "$root/web/doc")
fi
t_spawn "$srv" env TMPDIR="$t_tmp" timeout 180 node "$web_test" --url "http://$http/" --signal "$signal" \
	--address 198.18.0.1 --shared-port 53 --assigned-port 5300 \
	--token-file "$t_tmp/token" "${shots[@]}" >"$t_tmp/web.out" 2>"$t_tmp/web.err"
browser=$T_PID

# Traffic starts when the page has the mapping and stops when it has seen
# the counters rise: UDP through the new mapping, TCP through the other one.
deadline=$((SECONDS + 90))
while [[ ! -e $signal/traffic.start ]] && kill -0 "$browser" 2>/dev/null && ((SECONDS < deadline)); do
	sleep 0.2
done
replies=0
if [[ -e $signal/traffic.start ]]; then
	deadline=$((SECONDS + 90))
	while [[ ! -e $signal/traffic.stop ]] && ((SECONDS < deadline)); do
		if [[ $(ip netns exec "$cli" timeout 5 python3 "$PEER" get udp 198.18.0.1 53 2>/dev/null) == dns ]]; then
			replies=$((replies + 1))
		fi
		ip netns exec "$cli" timeout 5 python3 "$PEER" get tcp 198.18.0.2 80 >/dev/null 2>&1 || true
		sleep 0.2
	done
fi
t_check "UDP through the mapping the page made reached the echo server ($replies replies)" \
	test "$replies" -gt 0

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
t_done test_dashboard
