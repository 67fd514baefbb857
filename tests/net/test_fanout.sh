#!/bin/bash
# UDP fan-out end to end, in three namespaces: a sender host, the server
# host with a listener on the contested port 162 and portshared, and a
# subscriber host.  Copies go to local and remote subscribers in every mode
# (raw over IPv4 and IPv6, spoof, framed over TCP and a Unix socket, and
# portshare-sub over the registration protocol), byte-identical and as many
# as the listener got.  Then: every reply of the registration protocol,
# DROP, the security rules (foreign addresses, the subscriber cap, the rate
# limit, refusals logged once per interval), SHUTDOWN on stop while the
# listener keeps receiving, re-registration and no subscriber lost across a
# restart, and an unprivileged portshare-sub.
set -euo pipefail
# shellcheck source=tests/net/lib.sh
source "$(dirname "$0")/lib.sh"
t_require_root test_fanout

PY=/usr/bin/python3
FP=$root/tests/net/fanout_peer.py
SUB=${PORTSHARE_SUB:-$(dirname "$PORTSHARED")/portshare-sub}

snd="" srv="" sub=""
t_netns snd snd
t_netns srv srv
t_netns sub sub
http=127.0.0.1:18110
api="http://$http/api/v1"
state="$t_tmp/state"
mkdir -p "$state" "$t_tmp/d"
db="$t_tmp/d/portshare.db"
log="$t_tmp/daemon.log"
N=200

ip -n "$srv" link add vs type veth peer name vc netns "$snd"
ip -n "$srv" link add vb type veth peer name vc netns "$sub"
ip -n "$srv" addr add 198.19.0.1/24 dev vs
ip -n "$srv" addr add 2001:db8:19::1/64 dev vs nodad
ip -n "$srv" addr add 198.19.1.1/24 dev vb
ip -n "$srv" addr add 2001:db8:19:1::1/64 dev vb nodad
ip -n "$snd" addr add 198.19.0.10/24 dev vc
ip -n "$snd" addr add 2001:db8:19::10/64 dev vc nodad
ip -n "$sub" addr add 198.19.1.10/24 dev vc
ip -n "$sub" addr add 2001:db8:19:1::10/64 dev vc nodad
for pair in "$srv vs" "$srv vb" "$snd vc" "$sub vc"; do
	read -r ns dev <<<"$pair"
	ip -n "$ns" link set "$dev" up
done
ip -n "$snd" route add default via 198.19.0.1
ip -n "$snd" -6 route add default via 2001:db8:19::1
ip -n "$sub" route add default via 198.19.1.1
ip -n "$sub" -6 route add default via 2001:db8:19:1::1

# The server's resolver answers nothing, at once, so no lookup leaves the test.
mkdir -p "/etc/netns/$srv"
printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' >"/etc/netns/$srv/resolv.conf"

rest() { # METHOD PATH [JSON]: prints the body; the token comes from the daemon's file
	local data=()
	[[ $# -ge 3 ]] && data=(-H 'Content-Type: application/json' -d "$3")
	ip netns exec "$srv" curl -s -X "$1" -H "Authorization: Bearer $(cat "$T_TOKEN_FILE")" \
		"${data[@]}" "$api$2"
}
lines() { # FILE: its line count (0 when missing)
	if [[ -f $1 ]]; then wc -l <"$1"; else echo 0; fi
}
has_lines() { # FILE N: FILE has at least N lines
	(($(lines "$1") >= $2))
}
hexes() { # FILE COLUMN: the hex payloads in that column
	awk -v c="$2" '{ print $c }' "$1"
}
# subs_from ADDR: how many registered subscribers have address ADDR.
subs_from() {
	rest GET /subscribers | "$PY" -c 'import json,sys; print(sum(1 for s in json.load(sys.stdin)["items"] if s["registered"] and s["address"] == sys.argv[1]))' "$1"
}
registered_from() { # ADDR: at least one registered subscriber at ADDR
	(($(subs_from "$1") > 0))
}
none_from() { # ADDR: no registered subscriber at ADDR
	(($(subs_from "$1") == 0))
}
status_field() { # DOTTED.PATH: one field of /api/v1/status
	rest GET /status | "$PY" -c 'import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1].split("."):
    v = v[k]
print(v)' "$1"
}
# metric NAME [LABEL=VALUE...]: the one sample of /metrics that matches, as
# prometheus_client parses it, or "none".
metric() {
	ip netns exec "$srv" curl -s "http://$http/metrics" | "$PY" -c 'import sys
from prometheus_client.parser import text_string_to_metric_families
want = dict(a.split("=", 1) for a in sys.argv[2:])
got = [s.value for f in text_string_to_metric_families(sys.stdin.read()) for s in f.samples
       if s.name == sys.argv[1] and all(s.labels.get(k) == v for k, v in want.items())]
print("%d" % got[0] if len(got) == 1 else "none")' "$@"
}
start_daemon() {
	t_daemon "$srv" "$http" "$db" --queues 0:2 --flows 65536 \
		--reg-allow 127.0.0.0/8,::1/128,198.19.1.0/24 --reg-admin ::1/128 \
		--reg-max-subs 8 --reg-rate 20 2>>"$log"
}

t_check "installer installs the rules" \
	ip netns exec "$srv" "$IPT_TOOL" install --queues 0:2 --nflog-group 7 --state-dir "$state"
t_check "portshared starts" start_daemon

# --- Copies in every mode ------------------------------------------------

t_spawn "$srv" "$PY" "$FP" listen :: 162 "$t_tmp/listener"
for port in 9162 9164; do
	t_spawn "$sub" "$PY" "$FP" listen 198.19.1.10 "$port" "$t_tmp/sub$port"
done
t_spawn "$sub" "$PY" "$FP" listen 2001:db8:19:1::10 9163 "$t_tmp/sub9163"
t_spawn "$sub" "$PY" "$FP" tcp 198.19.1.10 9165 "$t_tmp/tcp"
t_spawn "$srv" "$PY" "$FP" unix "$t_tmp/fan.sock" "$t_tmp/unix"
t_wait_for 5 test -S "$t_tmp/fan.sock"

body=$(rest POST /contested '{"port": 162}')
t_eq "contested port 162 created with registration port 13162" 13162 \
	"$("$PY" -c 'import json,sys; print(json.load(sys.stdin).get("registration_port"))' <<<"$body")"
for s in '"address":"198.19.1.10","port":9162,"mode":"raw"' \
	'"address":"2001:db8:19:1::10","port":9163,"mode":"raw"' \
	'"address":"198.19.1.10","port":9164,"mode":"spoof"' \
	'"address":"198.19.1.10","port":9165,"mode":"framed_tcp"' \
	"\"address\":\"$t_tmp/fan.sock\",\"mode\":\"framed_unix\""; do
	body=$(rest POST /subscribers "{\"contested_port\":162,$s}")
	t_check "subscriber {$s} created" grep -q '"id"' <<<"$body"
done
t_spawn "$srv" "$SUB" --hex 127.0.0.1/162 >"$t_tmp/local" 2>"$t_tmp/local.err"
local_sub=$T_PID
t_check "portshare-sub registers" t_wait_for 10 registered_from 127.0.0.1
sleep 0.5

t_check "the sender sends $N datagrams to port 162" \
	ip netns exec "$snd" "$PY" "$FP" send 198.19.0.1 162 "$N" 40162
t_check "the listener on 162 gets every datagram" t_wait_for 10 has_lines "$t_tmp/listener" "$N"
hexes "$t_tmp/listener" 3 >"$t_tmp/want"
for f in sub9162 sub9163 sub9164; do
	t_wait_for 10 has_lines "$t_tmp/$f" "$N" || true
	t_check "$f got $N byte-identical copies" cmp -s "$t_tmp/want" <(hexes "$t_tmp/$f" 3)
done
t_wait_for 10 has_lines "$t_tmp/local" "$N" || true
t_check "portshare-sub (registered from loopback) got $N byte-identical copies" \
	cmp -s "$t_tmp/want" "$t_tmp/local"
t_check "raw copies come from the registration port" \
	bash -c "! awk '\$2 != 13162' '$t_tmp/sub9162' '$t_tmp/sub9163' | grep -q ."
t_check "spoofed copies keep the sender's address and port" \
	bash -c "! awk '\$1 != \"198.19.0.10\" || \$2 != 40162' '$t_tmp/sub9164' | grep -q ."
for f in tcp unix; do
	t_wait_for 10 has_lines "$t_tmp/$f" "$N" || true
	t_check "framed over $f: $N copies, byte-identical" cmp -s "$t_tmp/want" <(hexes "$t_tmp/$f" 5)
	t_check "framed over $f: the header names origin 198.19.0.10:40162, port 162 and the length" \
		bash -c "! awk '\$1 != \"198.19.0.10\" || \$2 != 40162 || \$3 != 162 || \$4 * 2 != length(\$5)' '$t_tmp/$f' | grep -q ."
done
counts=$(rest GET /subscribers | "$PY" -c 'import json,sys; print(sorted({s["copies"] for s in json.load(sys.stdin)["items"]}))')
t_eq "every subscriber counts $N copies" "[$N]" "$counts"
t_eq "the contested port counts $N datagrams" "$N" \
	"$(rest GET /contested | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["datagrams"])')"
t_eq "metrics: portshare_contested_datagrams_total of port 162 is $N" "$N" \
	"$(metric portshare_contested_datagrams_total port=162)"
t_eq "metrics: portshare_subscriber_copies_total of the raw subscriber is $N" "$N" \
	"$(metric portshare_subscriber_copies_total contested_port=162 address=198.19.1.10 \
		port=9162 mode=raw)"
t_eq "metrics: the framed_unix subscriber is its path, with $N copies" "$N" \
	"$(metric portshare_subscriber_copies_total contested_port=162 address="$t_tmp/fan.sock" \
		port=0 mode=framed_unix)"
t_eq "status: 1 contested port and 6 subscribers" "1 6" \
	"$(status_field fanout.contested_ports) $(status_field fanout.subscribers)"
t_eq "status: $N datagrams, each copied to the 6" "$N $((6 * N))" \
	"$(status_field fanout.datagrams) $(status_field fanout.copies)"
t_eq "status: the copier received $N, with no overrun, malformed or unmatched one" \
	"$N 0 0 0" "$(status_field fanout.received) $(status_field fanout.nflog_overruns) \
$(status_field fanout.malformed) $(status_field fanout.unmatched)"
t_eq "status: no failed send and no drop" "0 0" \
	"$(status_field fanout.errors) $(status_field fanout.drops)"
t_eq "metrics: portshare_fanout_copies agrees" "$((6 * N))" "$(metric portshare_fanout_copies)"

# IPv6 datagrams reach IPv4 subscribers (and the other way round above).
ip netns exec "$snd" "$PY" "$FP" send 2001:db8:19::1 162 20
t_check "IPv6 datagrams are copied to the IPv4 subscriber" \
	t_wait_for 10 has_lines "$t_tmp/sub9162" $((N + 20))

# --- The registration protocol, reply by reply ----------------------------

ip netns exec "$srv" "$PY" "$FP" ask 127.0.0.1 13162 \
	"ADD 127.0.0.1 162" "ADD 127.0.0.1 162" "ADD bad!host 162" "ADD 127.0.0.1" \
	"ADD 127.0.0.1 163" "HELLO 127.0.0.1 162" "DROP 127.0.0.1 162" "DROP 127.0.0.1 162" \
	"DROP bad!host 162" "DROP 127.0.0.1" "ADD 198.19.1.10 162" >"$t_tmp/replies"
expected=(
	"100 OK 127.0.0.1 162"
	"200 ERROR. Already Added"
	"300 ERROR. Invalid Address"
	"301 ERROR. Port Number Missing"
	"301 ERROR. Port Number Missing"
	"400 ERROR. Unknown Command"
	"100 OK"
	"200 ERROR. Not in List"
	"300 ERROR. Invalid Address"
	"301 ERROR. Port Number Missing"
	"310 ERROR. Not Permitted"
)
mapfile -t got <"$t_tmp/replies"
for i in "${!expected[@]}"; do
	t_eq "reply $((i + 1)) is exactly '${expected[i]}'" "${expected[i]}" "${got[i]:-}"
done
t_eq "an admin network may register another address" "100 OK ::1 162" \
	"$(ip netns exec "$srv" "$PY" "$FP" ask ::1 13162 "ADD 198.19.1.10 162 9170")"
t_eq "and drop it again" "100 OK" \
	"$(ip netns exec "$srv" "$PY" "$FP" ask ::1 13162 "DROP 198.19.1.10 162 9170")"
t_eq "the subscriber host registers itself" "100 OK 198.19.1.1 162" \
	"$(ip netns exec "$sub" "$PY" "$FP" ask 198.19.1.1 13162 "ADD 198.19.1.10 162 9171")"
t_eq "a host outside the allowed networks gets no answer" "(none)" \
	"$(ip netns exec "$snd" "$PY" "$FP" ask 198.19.0.1 13162 "ADD 198.19.0.10 162")"

# The cap: 5 REST subscribers, portshare-sub and 9171 make 7 of 8.
caps=$(ip netns exec "$srv" "$PY" "$FP" ask 127.0.0.1 13162 "ADD 127.0.0.1 162 9301" \
	"ADD 127.0.0.1 162 9302")
t_eq "the subscriber cap holds" $'100 OK 127.0.0.1 162\n320 ERROR. Too Many Subscribers' "$caps"
ip netns exec "$srv" "$PY" "$FP" ask 127.0.0.1 13162 "DROP 127.0.0.1 162 9301" >/dev/null
answered=$(ip netns exec "$srv" "$PY" "$FP" burst 127.0.0.9 127.0.0.1 13162 200)
t_check "the rate limit answers about its burst of 40 of 200 requests ($answered)" \
	test "$answered" -ge 30 -a "$answered" -le 50
t_check "refusals are logged" t_wait_for 12 grep -q 'registration refused in the last' "$log"
t_eq "once per interval, not per packet" 1 "$(grep -c 'registration refused in the last' "$log")"
t_eq "status counts the refusals: 1 outside the networks, 1 foreign address, 1 over the cap" \
	"1 1 1" "$(status_field fanout.registration.refused_net) \
$(status_field fanout.registration.refused_foreign) $(status_field fanout.registration.refused_cap)"
rated=$(status_field fanout.registration.refused_rate)
t_eq "status counts every unanswered request of the burst as over the rate ($rated)" 200 \
	$((rated + answered))
t_eq "metrics: portshare_registration_refused_rate_total agrees" "$rated" \
	"$(metric portshare_registration_refused_rate_total)"
t_check "status counts the registrations added and dropped" \
	test "$(status_field fanout.registration.added)" -ge 5 \
	-a "$(status_field fanout.registration.dropped)" -ge 3

# DROP from portshare-sub on exit stops its copies.
t_stop "$local_sub"
t_check "portshare-sub sent DROP on exit" t_wait_for 5 none_from 127.0.0.1
before=$(lines "$t_tmp/local")
ip netns exec "$snd" "$PY" "$FP" send 198.19.0.1 162 10
t_wait_for 10 has_lines "$t_tmp/sub9162" $((N + 30)) || true
t_eq "a dropped subscriber gets no more copies" "$before" "$(lines "$t_tmp/local")"

# --- Stop, restart, re-registration --------------------------------------

t_spawn "$srv" "$SUB" --hex --retry 1 127.0.0.1/162 >"$t_tmp/again" 2>"$t_tmp/again.err"
again=$T_PID
t_check "a second portshare-sub registers" t_wait_for 10 registered_from 127.0.0.1
rest GET /subscribers | "$PY" -c 'import json,sys; print(sorted((s["address"], s["port"], s["mode"]) for s in json.load(sys.stdin)["items"]))' >"$t_tmp/subs.before"
t_stop "$DAEMON_PID"
t_check "subscribers hear SHUTDOWN when portshared stops" \
	t_wait_for 5 grep -q "$(printf 'SHUTDOWN 198.19.1.1 162' | xxd -p)" "$t_tmp/sub9162"
t_check "the Unix subscriber hears it too" t_wait_for 5 grep -q '^SHUTDOWN ' "$t_tmp/unix"
t_check "portshare-sub hears it" t_wait_for 5 grep -qi 'shutdown' "$t_tmp/again.err"
heard=$(lines "$t_tmp/listener")
ip netns exec "$snd" "$PY" "$FP" send 198.19.0.1 162 50 40162
t_check "the listener keeps receiving while portshared is stopped" \
	t_wait_for 10 has_lines "$t_tmp/listener" $((heard + 50))
t_check "portshared starts again" start_daemon
t_check "portshare-sub re-registers when portshared is back" \
	t_wait_for 15 grep -q 're-registered' "$t_tmp/again.err"
rest GET /subscribers | "$PY" -c 'import json,sys; print(sorted((s["address"], s["port"], s["mode"]) for s in json.load(sys.stdin)["items"]))' >"$t_tmp/subs.after"
t_check "the restart lost no subscriber" cmp -s "$t_tmp/subs.before" "$t_tmp/subs.after"
mine=$(lines "$t_tmp/again")
ip netns exec "$snd" "$PY" "$FP" send 198.19.0.1 162 10 40162
t_check "copies flow again after the restart" t_wait_for 10 has_lines "$t_tmp/again" $((mine + 10))
t_stop "$again"

# --- An unprivileged subscriber of a root-only port -----------------------

t_spawn "$srv" setpriv --reuid=65534 --regid=65534 --clear-groups \
	"$SUB" --hex --count 10 127.0.0.1/162 >"$t_tmp/nobody" 2>"$t_tmp/nobody.err"
nobody=$T_PID
t_wait_for 10 registered_from 127.0.0.1 || true
ip netns exec "$snd" "$PY" "$FP" send 198.19.0.1 162 10 40162
t_check "portshare-sub as nobody receives copies of port 162" \
	t_wait_for 10 has_lines "$t_tmp/nobody" 10
t_stop "$nobody"

t_stop "$DAEMON_PID"
t_check "installer uninstalls the rules" \
	ip netns exec "$srv" "$IPT_TOOL" uninstall --state-dir "$state"
t_done test_fanout
