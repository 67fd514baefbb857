#!/bin/bash
# The REST API over real HTTP against a running daemon, in a server
# namespace (daemon, rules, a UDP echo server) and a client namespace that
# sends traffic through a mapping.  The checks themselves are in
# api_checks.py, one phase per call: every route, auth on every write
# (walked from the route table), every error status, an ETag on every
# answer and If-Match, answers from the headers alone (a 20 MB chunked
# upload without the token gets its 401 at once), pagination, the
# all-or-nothing config import, a round trip of an export over 64 KiB, a
# burst of bad input that must leave the table byte-identical, the OpenAPI
# document against the route table, and /metrics parsed by
# prometheus_client with counters that match the traffic sent.  Then an
# import that does not wait for DNS (a silent name server), rows kept in id
# order across an import and a restart, 503 answers that still show what
# they stored (the kernel ipsets broken on purpose), the token file's rules
# and HTTPS with a self-signed certificate.
set -euo pipefail
# shellcheck source=tests/net/lib.sh
source "$(dirname "$0")/lib.sh"
t_require_root test_api

# Debian's python3, which has python3-prometheus-client; a python3 found
# first on PATH may be another one.
PY=/usr/bin/python3
CHECKS=$root/tests/net/api_checks.py

srv="" cli=""
t_netns srv srv
t_netns cli cli
http=127.0.0.1:18090
url="http://$http"
state="$t_tmp/state"
mkdir -p "$state" "$t_tmp/d"
db="$t_tmp/d/portshare.db"

ip -n "$srv" link add vs type veth peer name vc netns "$cli"
ip -n "$srv" addr add 198.18.1.1/24 dev vs
ip -n "$cli" addr add 198.18.1.10/24 dev vc
ip -n "$srv" link set vs up
ip -n "$cli" link set vc up

# Names: one in the server's hosts file; any other goes to a name server
# that never answers, so its lookup takes seconds.  ip netns exec mounts
# these over /etc/hosts and /etc/resolv.conf.
mkdir -p "/etc/netns/$srv"
printf '127.0.0.1 localhost\n198.18.1.1 fast.portshare.test\n' >"/etc/netns/$srv/hosts"
printf 'nameserver 127.0.0.53\noptions timeout:3 attempts:1\n' >"/etc/netns/$srv/resolv.conf"
t_spawn "$srv" "$PY" -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.53", 53))
while True:
    s.recv(4096)
'

# verdicts NAME: turns the PASS and FAIL lines of api_checks.py phase NAME
# on stdin into checks; a phase that died half way fails.
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

# phase NS PHASE ARGS...: runs one phase of api_checks.py in NS.
phase() {
	local ns=$1 name=$2
	shift 2
	verdicts "$name" < <(ip netns exec "$ns" timeout 300 "$PY" "$CHECKS" "$name" "$@" 2>&1 || true)
}

t_check "installer installs the rules" \
	ip netns exec "$srv" "$IPT_TOOL" install --queues 0:1 --state-dir "$state"
t_check "portshared starts and answers /healthz" \
	t_daemon "$srv" "$http" "$db" --queues 0:1

# The token file: made on first start, beside the database, owner only.
t_eq "the token file is api.token beside the database" "$t_tmp/d/api.token" "$T_TOKEN_FILE"
t_eq "the token file has mode 600" 600 "$(stat -c %a "$T_TOKEN_FILE")"
t_check "it holds 64 hex digits and a newline" \
	grep -Eqx '[0-9a-f]{64}' "$T_TOKEN_FILE"

phase "$srv" core "$url" "$T_TOKEN_FILE" "$db"
phase "$srv" early "$url" "$T_TOKEN_FILE"
phase "$srv" import "$url" "$T_TOKEN_FILE" "$db"
phase "$srv" bigimport "$url" "$T_TOKEN_FILE" 1200
phase "$srv" battery "$url" "$T_TOKEN_FILE" "$db"
phase "$srv" openapi "$url" "$T_TOKEN_FILE"

# Traffic: N datagrams from the client through mapping 500 to the echo
# server, while the status shows a packet rate; then the counters.
n=40
cat >"$t_tmp/table.json" <<'EOF'
{"mappings":[{"id":500,"proto":"udp","address":"198.18.1.1","shared_port":80,"assigned_port":8081},
 {"id":501,"proto":"tcp","address":"198.18.1.1","shared_port":80,"assigned_port":8082}]}
EOF
phase "$srv" table "$url" "$T_TOKEN_FILE" "$t_tmp/table.json"
t_spawn "$srv" "$PY" "$root/tests/net/peer.py" serve udp 8081 srv 198.18.1.1
echo_pid=$T_PID
t_wait_for 5 bash -c "ip netns exec '$srv' ss -Huln 'sport = :8081' | grep -q 8081"
t_spawn "$cli" timeout 60 "$PY" "$CHECKS" send - - 198.18.1.1 80 "$n" >"$t_tmp/send.out" 2>&1
send_pid=$T_PID
phase "$srv" rate "$url" "$T_TOKEN_FILE" 4
wait "$send_pid" || true
verdicts send <"$t_tmp/send.out"
phase "$srv" metrics "$url" "$T_TOKEN_FILE" 500 "$n"
phase "$srv" kept "$url" "$T_TOKEN_FILE" 500 "$n"
t_stop "$echo_pid"

phase "$srv" names "$url" "$T_TOKEN_FILE"
phase "$srv" order "$url" "$T_TOKEN_FILE"

# A set of the wrong type where the daemon builds its next addr6 set, held
# by a rule so that the daemon cannot destroy it, makes every sync fail:
# writes are stored but not live.
ip netns exec "$srv" ipset create portshare-addr6.new hash:net family inet6
ip netns exec "$srv" ip6tables -I INPUT -m set --match-set portshare-addr6.new src -j RETURN
phase "$srv" notlive "$url" "$T_TOKEN_FILE" broken
ip netns exec "$srv" ip6tables -D INPUT -m set --match-set portshare-addr6.new src -j RETURN
ip netns exec "$srv" ipset destroy portshare-addr6.new 2>/dev/null || true
phase "$srv" notlive "$url" "$T_TOKEN_FILE" fixed

# The token file's rules, checked without binding any queue (-n).
printf '%s\n' "$(tr -d '\n' <"$T_TOKEN_FILE")" >"$t_tmp/open.token"
chmod 644 "$t_tmp/open.token"
out=$(ip netns exec "$srv" "$PORTSHARED" -n --web "$root/web" --db "$t_tmp/n.db" --token-file "$t_tmp/open.token" 2>&1 || true)
t_check "a token file others can read is refused, saying how to fix it" \
	grep -q 'chmod 600' <<<"$out"
printf 'short\n' >"$t_tmp/short.token"
chmod 600 "$t_tmp/short.token"
out=$(ip netns exec "$srv" "$PORTSHARED" -n --web "$root/web" --db "$t_tmp/n.db" --token-file "$t_tmp/short.token" 2>&1 || true)
t_check "a token file without a proper token is refused" grep -q 'must hold one token' <<<"$out"
: >"$t_tmp/empty.token"
chmod 600 "$t_tmp/empty.token"
out=$(ip netns exec "$srv" "$PORTSHARED" -n --web "$root/web" --db "$t_tmp/n.db" --token-file "$t_tmp/empty.token" 2>&1 || true)
t_check "an empty token file is refused, naming it and saying to delete it" \
	grep -q "$t_tmp/empty.token is empty.*delete it" <<<"$out"
t_check "-n does not create a missing token file" \
	bash -c "ip netns exec '$srv' '$PORTSHARED' -n --web '$root/web' --db '$t_tmp/n.db' --token-file '$t_tmp/none.token' >/dev/null 2>&1 && ! test -e '$t_tmp/none.token'"

# HTTPS with a self-signed certificate, on a second daemon with its own
# queue (no rule sends it packets) and database.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
	-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
	-keyout "$t_tmp/key.pem" -out "$t_tmp/cert.pem" 2>/dev/null
mkdir -p "$t_tmp/tls"
out=$(ip netns exec "$srv" "$PORTSHARED" -n --web "$root/web" --db "$t_tmp/tls/db" --tls-cert "$t_tmp/cert.pem" 2>&1 || true)
t_check "--tls-cert without --tls-key is refused" grep -q 'go together' <<<"$out"
out=$(ip netns exec "$srv" "$PORTSHARED" -n --web "$root/web" --db "$t_tmp/tls/db" --tls-cert "$t_tmp/cert.pem" \
	--tls-key "$t_tmp/nothing.pem" 2>&1 || true)
t_check "a missing key file is refused, naming it" grep -q "nothing.pem" <<<"$out"
tls=127.0.0.1:18443
# A second daemon in the namespace needs queues and an NFLOG group of its own.
t_spawn "$srv" "$PORTSHARED" --db "$t_tmp/tls/db" --http "$tls" --queues 10:1 --nflog-group 8 \
	--web "$root/web" --tls-cert "$t_tmp/cert.pem" --tls-key "$t_tmp/key.pem"
tls_pid=$T_PID
t_check "portshared serves HTTPS with --tls-cert and --tls-key" \
	t_wait_for 10 ip netns exec "$srv" curl -sf --cacert "$t_tmp/cert.pem" "https://$tls/healthz"
phase "$srv" tls "https://$tls" "$t_tmp/tls/api.token" "$t_tmp/cert.pem"
t_stop "$tls_pid"
printf 'not a certificate\n' >"$t_tmp/junk.pem"
rc=0
ip netns exec "$srv" timeout 20 "$PORTSHARED" --db "$t_tmp/tls/db" --http "$tls" --queues 11:1 --nflog-group 9 \
	--web "$root/web" --tls-cert "$t_tmp/junk.pem" --tls-key "$t_tmp/junk.pem" >"$t_tmp/junk.out" 2>&1 || rc=$?
t_check "a certificate that is no certificate fails the start (exit $rc)" \
	test "$rc" -ne 0 -a "$rc" -ne 124
t_check "saying it cannot serve HTTPS" grep -q 'cannot serve HTTPS' "$t_tmp/junk.out"

kill -TERM "$DAEMON_PID"
rc=0
wait "$DAEMON_PID" || rc=$?
t_eq "portshared exits 0 on SIGTERM after all that" 0 "$rc"

# The order of the rows survives a restart.
t_check "portshared starts again on the same database" \
	t_daemon "$srv" "$http" "$db" --queues 0:1
phase "$srv" order "$url" "$T_TOKEN_FILE" check
t_stop "$DAEMON_PID"

t_check "uninstall succeeds" ip netns exec "$srv" "$IPT_TOOL" uninstall --state-dir "$state"

t_done test_api
