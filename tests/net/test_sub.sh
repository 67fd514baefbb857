#!/bin/bash
# portshare-sub against a fake primary (sub_primary.py) in a namespace of
# its own, over loopback.  Raw copies reach stdout byte for byte; the
# subscriber retries an unanswered ADD, registers again after a SHUTDOWN
# and a silent spell, and sends DROP on SIGTERM.  Over IPv6, framed copies
# are decoded with --hex, an error reply is reported once and --count ends
# with a DROP.  --forward passes payloads on to a local UDP port.  With
# --refresh the ADD is resent while registered: a primary that forgot the
# subscriber registers it anew, and one that falls silent without SHUTDOWN
# is noticed within --refresh + --retry and registered with again when it
# answers.  The real daemon's side of fan-out is tested elsewhere.
set -euo pipefail
# shellcheck source=tests/net/lib.sh
source "$(dirname "$0")/lib.sh"
t_require_root test_sub

PY=/usr/bin/python3
SUB=${PORTSHARE_SUB:-$root/build/portshare-sub}
FAKE=$root/tests/net/sub_primary.py
RETRY=0.3
REFRESH=1

subns=""
t_netns subns sub

# verdicts FILE: turns the fake primary's PASS/FAIL lines into results.
verdicts() {
	local line done=0
	while IFS= read -r line; do
		case $line in
		"PASS "*) t_ok "${line#PASS }" ;;
		"FAIL "*) t_not_ok "${line#FAIL }" ;;
		DONE) done=1 ;;
		*) echo "# $line" ;;
		esac
	done <"$1"
	((done)) || t_not_ok "the fake primary ran to its end ($1)"
}

bound() {
	ip netns exec "$subns" ss -Huln "sport = :$1" | grep -q .
}

same_size() {
	[[ -e $1/sent && $(stat -c %s "$1/out") == "$(stat -c %s "$1/expected")" ]]
}

# fake NAME ARGS...: starts the fake primary in NAME's directory; sets FAKE_PID.
fake() {
	local dir=$t_tmp/$1 port=$4
	mkdir -p "$dir"
	t_spawn "$subns" "$PY" "$FAKE" "$2" "$3" "$port" "$5" "$RETRY" "$dir" "${@:6}" \
		>"$dir/fake.out" 2>&1
	FAKE_PID=$T_PID
	t_wait_for 5 bound "$port"
}

# --- Raw copies, SHUTDOWN and re-registration, DROP on SIGTERM -----------

d=$t_tmp/raw
fake raw raw 127.0.0.1 13162 162
t_spawn "$subns" "$SUB" --retry "$RETRY" 127.0.0.1/162 >"$d/out" 2>"$d/err"
sub=$T_PID
t_check "the copies reach stdout" t_wait_for 20 same_size "$d"
t_check "byte for byte" cmp -s "$d/expected" "$d/out"
kill -TERM "$sub" 2>/dev/null || true
rc=0
wait "$sub" || rc=$?
t_eq "portshare-sub exits 0 on SIGTERM" 0 "$rc"
rc=0
wait "$FAKE_PID" || rc=$?
verdicts "$d/fake.out"
t_check "it says it registered" grep -qx 'portshare-sub: registered with 127.0.0.1/162' "$d/err"
t_check "and re-registered after SHUTDOWN" \
	grep -qx 'portshare-sub: re-registered with 127.0.0.1/162' "$d/err"
t_eq "a copy that reads like another primary's SHUTDOWN is a copy" 0 \
	"$(grep -c 'SHUTDOWN 192.0.2.99' "$d/err" || true)"
sed 's/^/# stderr: /' "$d/err"

# --- Framed copies over IPv6, an error reply, --count ---------------------

d=$t_tmp/framed
fake framed framed ::1 13162 162
rc=0
ip netns exec "$subns" timeout 20 "$SUB" --retry "$RETRY" --framed --hex --count 3 '[::1]/162' \
	>"$d/out" 2>"$d/err" || rc=$?
t_eq "--count ends portshare-sub with status 0" 0 "$rc"
wait "$FAKE_PID" || true
verdicts "$d/fake.out"
t_check "--framed --hex prints origin, port, length and hex" diff "$d/expected" "$d/out"
t_eq "an error reply is reported once" 1 "$(grep -c '"310 ERROR. Not Permitted"' "$d/err" || true)"
t_eq "broken frames are reported once" 1 "$(grep -c 'not one whole frame' "$d/err" || true)"
t_check "registering after the error" grep -qx 'portshare-sub: registered with \[::1\]/162' "$d/err"
sed 's/^/# stderr: /' "$d/err"

# --- --forward to a local UDP port ------------------------------------------

d=$t_tmp/forward
fake forward forward 127.0.0.1 14000 1000 9999
rc=0
ip netns exec "$subns" timeout 20 "$SUB" --retry "$RETRY" --forward 127.0.0.1:9999 --count 2 \
	127.0.0.1:14000/1000 >"$d/out" 2>"$d/err" || rc=$?
t_eq "--forward with --count exits 0" 0 "$rc"
wait "$FAKE_PID" || true
verdicts "$d/fake.out"
t_check "nothing reaches stdout" test ! -s "$d/out"
t_check "200 Already Added counts as registered" \
	grep -qx 'portshare-sub: registered with 127.0.0.1/1000' "$d/err"

# --- Keepalive: --refresh, a forgetful primary, then a silent one ----------

d=$t_tmp/keepalive
fake keepalive keepalive 127.0.0.1 13170 170 "$REFRESH"
t_spawn "$subns" "$SUB" --retry "$RETRY" --refresh "$REFRESH" 127.0.0.1/170 \
	>"$d/out" 2>"$d/err"
sub=$T_PID
lost='portshare-sub: 127.0.0.1/170: no answer to the keepalive ADD in 300 ms: registering again'
t_check "the fake primary falls silent" t_wait_for 20 test -e "$d/silent"
start=$(date +%s%N)
t_check "portshare-sub notices that it does not answer" t_wait_for 5 grep -qxF "$lost" "$d/err"
ms=$((($(date +%s%N) - start) / 1000000))
# The bound is --refresh + --retry (1300 ms) with room for the 0.1 s polls.
t_check "within --refresh + --retry ($ms ms)" test "$ms" -ge 900 -a "$ms" -le 1800
touch "$d/noticed"
t_check "the copies reach stdout" t_wait_for 20 same_size "$d"
t_check "byte for byte: no reply to a keepalive is taken for a copy" \
	cmp -s "$d/expected" "$d/out"
kill -TERM "$sub" 2>/dev/null || true
rc=0
wait "$sub" || rc=$?
t_eq "portshare-sub exits 0 on SIGTERM" 0 "$rc"
wait "$FAKE_PID" || true
verdicts "$d/fake.out"
t_check "a 100 OK to a keepalive is a registration anew" grep -qx \
	'portshare-sub: re-registered with 127.0.0.1/170 (the primary had dropped it)' "$d/err"
t_eq "the silence is reported once" 1 "$(grep -cxF "$lost" "$d/err" || true)"
t_check "and it re-registers when the primary answers again" \
	grep -qx 'portshare-sub: re-registered with 127.0.0.1/170' "$d/err"
sed 's/^/# stderr: /' "$d/err"

# --- Bad command lines ------------------------------------------------------

for bad in "127.0.0.1" "127.0.0.1/0" "127.0.0.1/65536" "127.0.0.1:x/162" "[::1/162" \
	"127.0.0.1/60000"; do
	rc=0
	"$SUB" "$bad" 2>/dev/null || rc=$?
	t_eq "target '$bad' is refused" 2 "$rc"
done
rc=0
"$SUB" --retry 0 127.0.0.1/162 2>/dev/null || rc=$?
t_eq "--retry 0 is refused" 2 "$rc"
for bad in -1 0.01 3601 1e1 x ""; do
	rc=0
	"$SUB" --refresh "$bad" 127.0.0.1/162 2>/dev/null || rc=$?
	t_eq "--refresh '$bad' is refused" 2 "$rc"
done
t_check "--help lists --refresh" grep -q -- '--refresh SECONDS' <<<"$("$SUB" --help)"
t_done test_sub
