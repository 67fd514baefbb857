#!/bin/bash
# The benchmark behind `make bench` (issue 6).  Two namespaces joined by a
# veth pair: a client host that runs the generator (build/bench/gen) and a
# server host that runs the sinks (build/bench/sink), the path under test
# and iperf3's server.  In one run it measures, for 64-byte UDP payloads:
# the kernel with no rules, kernel NAT (REDIRECT), the bare NFQUEUE
# consumer (build/bench/nfqbare) accepting and rewriting, portshared with
# 1, 10, 1 000 and 100 000 mappings, an application group of 3 backends
# (pinned flows and new flows), and UDP fan-out to 0, 1 and 4 subscribers;
# then TCP through a mapping, 1 000 REST writes under traffic, and the
# flow table's memory.
#
# In the main table both hosts share every CPU, and veth runs the
# server's receive path (up to and including the NFQUEUE enqueue) on the
# sending CPU: the sender pays for it, so it cannot offer twice what a
# consumer takes, and the 2x column is no overload test there.  The last
# section is one: the client gets CPU 0 and the server the others (one
# on a 2-CPU machine), every process is pinned to its host's CPUs, and
# the server's veth hands received packets to the server's CPUs (RPS), so
# the server pays for its whole receive path and one sender thread can
# offer more than the server takes, as a remote sender would.  There the
# kernel, the bare consumer and portshared are offered twice their
# lossless rate twice: with the receive path in softirq (the kernel's
# default, ahead of every process on the CPU) and in a NAPI thread
# (/sys/class/net/DEV/threaded), which the scheduler shares with the
# consumer.
#
# For every UDP path:
# - the maximum lossless rate: an unpaced probe, then a paced bisection
#   (BENCH_STEPS trials of BENCH_TRIAL seconds) for the highest rate that
#   loses under 0.1%;
# - the rate delivered when offered twice that;
# - the consumer's CPU time per delivered packet at the lossless rate:
#   utime+stime of the consumer process from /proc/PID/stat, or for the
#   kernel paths the host's softirq time from /proc/stat; and the whole
#   host's busy time per packet (sender and sinks included), which is
#   comparable across every row;
# - userspace instructions per packet of the consumer, from
#   `perf stat -e instructions:u -p PID` over a trial at 50k pps (half the
#   lossless rate if that is lower); 0 for the kernel paths.
#
# Every process is stopped by PID, every load is bounded in time, and the
# namespaces are deleted on exit.  BENCH_QUICK=1 runs each row briefly.
# PORTSHARED points at another daemon binary, BENCH_BIN at the tools.
# Output: the table on stdout, tests/bench/results/latest.json and a dated
# copy beside it.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
BENCH_BIN=${BENCH_BIN:-$root/build/bench}
PORTSHARED=${PORTSHARED:-$root/build/portshared}
IPT_TOOL=$root/iptables/portshare-iptables
RESULTS=${BENCH_RESULTS:-$here/results}
QUICK=${BENCH_QUICK:-0}
if [[ $QUICK == 1 ]]; then
	TRIAL=${BENCH_TRIAL:-0.5}
	STEPS=${BENCH_STEPS:-3}
	TCP_S=1
	CP_WRITES=100
else
	TRIAL=${BENCH_TRIAL:-2}
	STEPS=${BENCH_STEPS:-7}
	TCP_S=5
	CP_WRITES=1000
fi
SIZE=64
THREADS=${BENCH_THREADS:-2}
MAIN_THREADS=$THREADS
LOSS=0.001       # the lossless threshold: under 0.1%
PERF_RATE=50000  # instructions are counted at this rate (or half the lossless one)
SETTLE=0.3       # after the sender stops, queued packets drain this long

if ((EUID != 0)); then
	echo "bench: needs root (namespaces, iptables, NFQUEUE)" >&2
	exit 1
fi
for tool in gen sink nfqbare; do
	[[ -x $BENCH_BIN/$tool ]] || {
		echo "bench: $BENCH_BIN/$tool missing (make bench builds it)" >&2
		exit 1
	}
done
[[ -x $PORTSHARED ]] || {
	echo "bench: $PORTSHARED missing" >&2
	exit 1
}
command -v iperf3 >/dev/null || {
	echo "bench: iperf3 missing (make deps)" >&2
	exit 1
}

started=$(date +%s)
load_start=$(cut -d" " -f1 /proc/loadavg)
tmp=$(mktemp -d /tmp/portshare-bench-$$.XXXXXX)
records=$tmp/records
: >"$records"
pids=()
netns=()

cleanup() {
	local pid ns
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${pids[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	for ns in "${netns[@]}"; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
		ip netns delete "$ns" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '[%4ds] %s\n' $(($(date +%s) - started)) "$*" >&2; }
rec() { # KIND KEY=VALUE...: one record for report.py
	local IFS=$'\t'
	echo "$*" >>"$records"
}
calc() { awk "BEGIN { printf \"%.6g\", $* }"; }
int() { awk "BEGIN { printf \"%d\", $* + 0.5 }"; }
ge() { awk "BEGIN { exit !($1 >= $2) }"; }

# The CPUs of each host when they are split (SPLIT=1, the overload
# section): the client (the sender) gets CPU 0 and the server (the path
# under test, its sinks, the daemon) CPU 1, whatever the machine has, so
# that the server's one CPU is what is overloaded.  Otherwise both get
# all.
NCPU=$(nproc)
ALL_CPUS=0-$((NCPU - 1))
SPLIT=0
CLI_CPUS=0
if ((NCPU >= 2)); then
	SRV_CPUS=1
	SRV_MASK=2
else
	SRV_CPUS=0
	SRV_MASK=1
fi
host_cpus() { # NS: the CPUs of that host
	if ((SPLIT == 0)); then
		echo "$ALL_CPUS"
	elif [[ $1 == "$cli" ]]; then
		echo "$CLI_CPUS"
	else
		echo "$SRV_CPUS"
	fi
}
# on NS COMMAND...: runs COMMAND in NS on that host's CPUs.
on() {
	local ns=$1
	shift
	ip netns exec "$ns" taskset -c "$(host_cpus "$ns")" "$@"
}
# bg NS OUT COMMAND...: runs COMMAND in NS in the background, stdout to
# OUT; sets BG_PID (ip netns exec and taskset exec the command, so it is
# its PID; a shell function in the background would be a subshell).
bg() {
	local ns=$1 out=$2 cpus
	shift 2
	cpus=$(host_cpus "$ns")
	ip netns exec "$ns" taskset -c "$cpus" "$@" >"$out" 2>>"$tmp/stderr" &
	BG_PID=$!
	pids+=("$BG_PID")
}
stop() { # PID: TERM it, reap it, and forget it, so cleanup never hits a reused PID
	local p kept=()
	kill -TERM "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
	for p in "${pids[@]}"; do
		[[ $p == "$1" ]] || kept+=("$p")
	done
	pids=("${kept[@]}")
}
field() { # FILE KEY: the value of KEY=... in FILE's last line
	tail -n 1 "$1" 2>/dev/null | tr ' ' '\n' | sed -n "s/^$2=//p"
}

# --- The two hosts ---------------------------------------------------------

cli=psbench-$$-c
srv=psbench-$$-s
for ns in "$cli" "$srv"; do
	netns+=("$ns")
	ip netns add "$ns"
	ip -n "$ns" link set lo up
done
# The server's end is named after the run: its NAPI thread, a kernel
# thread outside any namespace, is found by that name.
VS=vs$$
ip -n "$srv" link add "$VS" type veth peer name vc netns "$cli"
SRV=198.18.50.1
ip -n "$srv" addr add $SRV/24 dev "$VS"
SOURCES=()
for i in $(seq 11 26); do
	ip -n "$cli" addr add "198.18.50.$i/24" dev vc
	SOURCES+=("198.18.50.$i")
done
ip -n "$srv" link set "$VS" up
ip -n "$cli" link set vc up
# Where the server's receive path runs.  The main table keeps veth's
# default, "sender": in softirq on the sending CPU.  rx_model softirq|thread
# switches for the overload section.  softirq: RPS queues each packet to
# the server CPU's backlog, and the softirq that drains it preempts
# whatever runs there (a NIC's default).  thread: the veth delivers through
# NAPI (GRO on the server side; TSO off on the client side, or veth keeps
# socket packets off NAPI), and the NAPI poll runs in a kernel thread on
# the server's CPU, scheduled like any other; when it falls behind, the
# veth ring (256 packets) overflows and the excess is dropped on the
# client's side before any work is spent on it.
RX_MODEL=sender
RPS_CPUS=/sys/class/net/$VS/queues/rx-0/rps_cpus
rx_model() {
	local t pinned=0
	RX_MODEL=$1
	case $1 in
	thread)
		ip netns exec "$srv" sh -c "echo 0 >$RPS_CPUS"
		ip netns exec "$cli" ethtool -K vc tso off >/dev/null
		ip netns exec "$srv" ethtool -K "$VS" gro on >/dev/null
		ip netns exec "$srv" sh -c "echo 1 >/sys/class/net/$VS/threaded"
		sleep 0.2
		for t in $(pgrep "^napi/$VS-" || true); do
			taskset -pc "$SRV_CPUS" "$t" >/dev/null 2>&1 && pinned=$((pinned + 1))
		done
		if ((pinned == 0)); then
			echo "bench: no NAPI thread of $VS to pin to CPU $SRV_CPUS" >&2
			exit 1
		fi
		;;
	softirq)
		# Writing 0 fails (EIO) while the veth has no NAPI instance to stop.
		ip netns exec "$srv" sh -c "echo 0 >/sys/class/net/$VS/threaded" 2>/dev/null || true
		ip netns exec "$srv" ethtool -K "$VS" gro off >/dev/null
		ip netns exec "$cli" ethtool -K vc tso on >/dev/null
		ip netns exec "$srv" sh -c "echo $SRV_MASK >$RPS_CPUS"
		;;
	esac
}
# Eight source addresses for ordinary traffic: --queue-balance hashes
# addresses only, so one address would put everything on one queue.
GEN_SRC=$(IFS=,; echo "${SOURCES[*]:0:8}")
SWEEP_SRC=$(IFS=,; echo "${SOURCES[*]}")
# A few datagrams resolve the neighbours before anything is measured.
on "$cli" "$BENCH_BIN/gen" -d $SRV -p 9 -r 100 -T 0.3 -B "$GEN_SRC" >/dev/null

# --- One trial ---------------------------------------------------------------

# The row being measured: what gen is given, where the sinks are (ns:port;
# "sum" adds them, "min" needs every one to get everything), and the
# consumer process (empty for the kernel's own paths).
GEN_ARGS=()
SINKS=()
RX_MODE=sum
CONSUMER=""
BEFORE_TRIAL=""   # a function run before each trial (flushes flows)

proc_cpu() { # PID: utime+stime in clock ticks
	if [[ -n $1 && -r /proc/$1/stat ]]; then
		sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
	else
		echo 0
	fi
}
host_cpu() { # busy and softirq ticks of all CPUs
	awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $8 }' /proc/stat
}

# trial RATE [SECONDS]: offers RATE pps (0: unpaced).  Sets T_SENT, T_RX
# (the judged count), T_BAD, T_SECS, T_CPU, T_HOST and T_SIRQ (ticks).
trial() {
	local rate=$1 secs=${2:-$TRIAL} s i=0 b out c0 c1 h0 h1 s0 s1 rx min=-1 sum=0 bad=0
	local spids=()
	[[ -n $BEFORE_TRIAL ]] && "$BEFORE_TRIAL"
	for s in "${SINKS[@]}"; do
		bg "${s%%:*}" "$tmp/sink.$i" "$BENCH_BIN/sink" -p "${s##*:}" -s $SIZE -T 120
		spids+=("$BG_PID")
		i=$((i + 1))
	done
	sleep 0.15
	c0=$(proc_cpu "$CONSUMER")
	read -r h0 s0 < <(host_cpu)
	on "$cli" "$BENCH_BIN/gen" -d $SRV -s $SIZE -t "$THREADS" -r "$rate" \
		-T "$secs" "${GEN_ARGS[@]}" >"$tmp/gen.out" 2>>"$tmp/stderr" || true
	sleep $SETTLE
	c1=$(proc_cpu "$CONSUMER")
	read -r h1 s1 < <(host_cpu)
	i=0
	for s in "${spids[@]}"; do
		stop "$s"
		out="$tmp/sink.$i"
		rx=$(field "$out" rx)
		rx=${rx:-0}
		b=$(field "$out" bad)
		bad=$((bad + ${b:-0}))
		sum=$((sum + rx))
		if ((min < 0 || rx < min)); then min=$rx; fi
		i=$((i + 1))
	done
	T_SENT=$(field "$tmp/gen.out" sent)
	T_SENT=${T_SENT:-0}
	T_SECS=$(field "$tmp/gen.out" seconds)
	T_SECS=${T_SECS:-$secs}
	if [[ $RX_MODE == min ]]; then T_RX=$min; else T_RX=$sum; fi
	T_BAD=$bad
	T_CPU=$((c1 - c0))
	T_HOST=$((h1 - h0))
	T_SIRQ=$((s1 - s0))
}
lossless() { # true when the last trial lost under LOSS (bad ones count as lost)
	((T_SENT > 0)) && ge "$((T_RX - T_BAD))" "$(calc "$T_SENT * (1 - $LOSS)")"
}

# perf_ins RATE: userspace instructions per delivered packet of CONSUMER.
perf_ins() {
	local rate=$1 ins
	if [[ -z $CONSUMER ]]; then
		echo 0
		return
	fi
	if [[ $HAVE_PERF != 1 ]]; then
		echo "n/a"
		return
	fi
	perf stat -x, -e instructions:u -p "$CONSUMER" -o "$tmp/perf.out" -- \
		sleep "$(calc "$TRIAL + 0.3")" 2>/dev/null &
	local perf_pid=$!
	pids+=("$perf_pid")
	trial "$rate"
	wait "$perf_pid" 2>/dev/null || true
	ins=$(awk -F, '/instructions/ { print $1 }' "$tmp/perf.out" 2>/dev/null)
	if [[ -z $ins || $ins == *"not"* || $T_RX -eq 0 ]]; then
		echo "n/a"
	else
		int "$ins / $T_RX"
	fi
}
HAVE_PERF=0
if perf stat -x, -e instructions:u -o /dev/null -- true 2>/dev/null &&
	perf stat -x, -e instructions:u -- true 2>&1 | grep -qE '^[0-9]+,'; then
	HAVE_PERF=1
else
	rec note "text=perf cannot count instructions:u on this machine: the ins:u/pkt column is n/a"
fi

# measure NAME LABEL CONSUMER_KIND: the row's lossless rate, its 2x
# delivery, CPU and instructions; writes a row record.
measure() {
	local name=$1 label=$2 kind=$3 max lo=0 hi mid best_cpu="" best_host="" sender=0 step
	local off2 del2 ins prate got
	say "$label: probing"
	trial 0
	max=$(int "$T_SENT / $T_SECS")
	if lossless; then
		# Even unpaced the path keeps up: the sender is the limit.
		lo=$max
		sender=1
		best_cpu=$(cpu_per_pkt)
		best_host=$(calc "$T_HOST * 10000 / $T_RX")
	else
		hi=$max
		# Start at what the path delivered under the probe's overload.
		mid=$(int "$T_RX / $T_SECS")
		for ((step = 0; step < STEPS; step++)); do
			((mid > 0)) || mid=$(int "$hi / 2")
			trial "$mid"
			got=$(int "$T_SENT / $T_SECS")
			((got > mid)) && got=$mid
			if lossless; then
				if ((got > lo)); then
					lo=$got
					best_cpu=$(cpu_per_pkt)
					best_host=$(calc "$T_HOST * 10000 / $T_RX")
				fi
				# A sender that fell 5% short could not offer more: the
				# path may take more than this on a quieter machine.
				if ((got * 100 < mid * 95)); then
					sender=1
					hi=$mid
				fi
			else
				hi=$mid
			fi
			say "$label: $mid pps offered, $(int "$T_RX * 100 / ($T_SENT + 1)")% delivered -> [$lo, $hi]"
			mid=$(int "($lo + $hi) / 2")
		done
	fi
	if [[ -z $best_cpu ]]; then
		# Nothing passed: measure CPU at the lowest rate tried.
		trial "$(int "$hi / 4")"
		best_cpu=$(cpu_per_pkt)
		best_host=$(calc "$T_HOST * 10000 / ($T_RX + 1)")
	fi
	trial "$((2 * lo))"
	off2=$(int "$T_SENT / $T_SECS")
	del2=$(int "$T_RX / $T_SECS")
	say "$label: lossless $lo pps; offered $off2, delivered $del2"
	prate=$PERF_RATE
	((lo / 2 < prate)) && prate=$((lo / 2))
	ins=$(perf_ins "$prate")
	rec row "name=$name" "label=$label" "lossless_pps=$lo" "sender_bound=$sender" \
		"probe_offered_pps=$max" "offered_2x_pps=$off2" "delivered_2x_pps=$del2" \
		"cons_us_per_pkt=$best_cpu" "host_us_per_pkt=$best_host" "ins_u_per_pkt=$ins" \
		"ins_rate_pps=$prate" "consumer=$kind" "bad=$T_BAD" "rx_model=$RX_MODEL"
}
# CPU microseconds per packet of the consumer in the last trial (ticks are
# 10 ms); the kernel paths count the host's softirq time.
cpu_per_pkt() {
	local ticks=$T_CPU
	[[ -z $CONSUMER ]] && ticks=$T_SIRQ
	calc "$ticks * 10000 / ($T_RX + 1)"
}

row_value() { # NAME KEY: a field of the row record NAME
	grep -P "^row\tname=$1\t" "$records" | tr '\t' '\n' | sed -n "s/^$2=//p"
}
srv_ipt() { ip netns exec "$srv" iptables "$@"; }

# --- 1, 2: the kernel --------------------------------------------------------

P_SHARED=7000
P_ASSIGNED=7001
GEN_ARGS=(-p "$P_ASSIGNED" -B "$GEN_SRC")
SINKS=("$srv:$P_ASSIGNED")
measure kernel "kernel, no rules" softirq

tcp_run() { # NAME LABEL PORT: iperf3 from the client to SRV:PORT, server on P_ASSIGNED
	local srv_pid gbps
	bg "$srv" "$tmp/iperf-s.out" iperf3 -s -1 -p $P_ASSIGNED
	srv_pid=$BG_PID
	sleep 0.3
	on "$cli" timeout $((TCP_S + 15)) iperf3 -c $SRV -p "$3" -t "$TCP_S" -J \
		>"$tmp/iperf.json" 2>>"$tmp/stderr" || true
	stop "$srv_pid"
	gbps=$(python3 -c 'import json,sys
try:
    print(round(json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"] / 1e9, 3))
except Exception:
    print(0)' "$tmp/iperf.json")
	say "$2: $gbps Gbit/s"
	rec tcp "name=$1" "label=$2" "gbps=$gbps"
}
tcp_run tcp-kernel "kernel, no rules" $P_ASSIGNED

srv_ipt -t nat -A PREROUTING -p udp --dport $P_SHARED -j REDIRECT --to-ports $P_ASSIGNED
srv_ipt -t nat -A PREROUTING -p tcp --dport $P_SHARED -j REDIRECT --to-ports $P_ASSIGNED
GEN_ARGS=(-p "$P_SHARED" -B "$GEN_SRC")
measure nat "kernel NAT (REDIRECT)" softirq
tcp_run tcp-nat "kernel NAT (REDIRECT)" $P_SHARED
srv_ipt -t nat -F PREROUTING

# --- 3: the bare NFQUEUE consumer --------------------------------------------

bare() { # ARGS...: starts nfqbare on queues 0-1; sets CONSUMER
	bg "$srv" "$tmp/bare.out" "$BENCH_BIN/nfqbare" -q 0:2 "$@"
	CONSUMER=$BG_PID
	sleep 0.3
}
srv_ipt -t raw -A PREROUTING -p udp --dport $P_ASSIGNED -j NFQUEUE --queue-balance 0:1
bare
GEN_ARGS=(-p "$P_ASSIGNED" -B "$GEN_SRC")
measure nfqbare "nfqbare (accept)" nfqbare
stop "$CONSUMER"
srv_ipt -t raw -F PREROUTING

srv_ipt -t raw -A PREROUTING -p udp --dport $P_SHARED -j NFQUEUE --queue-balance 0:1
srv_ipt -t raw -A PREROUTING -p tcp --dport $P_SHARED -j NFQUEUE --queue-balance 0:1
srv_ipt -t mangle -A POSTROUTING -p tcp --sport $P_ASSIGNED -j NFQUEUE --queue-balance 0:1
bare --rewrite $P_SHARED:$P_ASSIGNED
GEN_ARGS=(-p "$P_SHARED" -B "$GEN_SRC")
measure nfqbare-rw "nfqbare --rewrite" nfqbare
tcp_run tcp-nfqbare-rw "nfqbare --rewrite (F_GSO)" $P_SHARED
stop "$CONSUMER"
srv_ipt -t raw -F PREROUTING
srv_ipt -t mangle -F POSTROUTING

# --- 4, 5: portshared, static mappings ---------------------------------------

HTTP=127.0.0.1:18090
API=http://$HTTP/api/v1
DB_DIR=$tmp/d
mkdir -p "$DB_DIR" "$tmp/state"
ip netns exec "$srv" "$IPT_TOOL" install --queues 0:2 --state-dir "$tmp/state" >/dev/null
FLOWS=1048576
start_daemon() { # [OPTION...]: starts portshared in the server host, waits for its API
	local i
	bg "$srv" "$tmp/daemon.out" "$PORTSHARED" --db "$DB_DIR/ps.db" --http $HTTP \
		--web "$root/web" --queues 0:2 --flows $FLOWS --flow-file "$DB_DIR/ps.flows" \
		--log-level warn "$@"
	DAEMON=$BG_PID
	for ((i = 0; i < 300; i++)); do
		ip netns exec "$srv" curl -sf "http://$HTTP/healthz" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "bench: portshared did not come up" >&2
	return 1
}
start_daemon
TOKEN_FILE=$DB_DIR/api.token
api() { # METHOD PATH [JSON]: prints the body; fails on a non-2xx answer
	local data=()
	[[ $# -ge 3 ]] && data=(-H 'Content-Type: application/json' --data-binary "$3")
	ip netns exec "$srv" curl -sf --max-time 120 -X "$1" \
		-H "Authorization: Bearer $(tr -d '[:space:]' <"$TOKEN_FILE")" "${data[@]}" "$API$2"
}
config_doc() { # N: a config of N mappings, the benchmark's own first
	python3 - "$1" "$SRV" $P_SHARED $P_ASSIGNED <<'EOF'
import json, sys
n, srv, sp, ap = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
maps = [{"proto": "both", "address": srv, "shared_port": sp, "assigned_port": ap}]
# The others: 100 per address of 198.19.0.0/16, where no traffic goes.
for i in range(n - 1):
    a = i // 100
    maps.append({"proto": "udp", "address": "198.19.%d.%d" % (a // 250, a % 250 + 1),
                 "shared_port": 10000 + i % 100, "assigned_port": 20000 + i % 100})
print(json.dumps({"mappings": maps}))
EOF
}
# load_mappings N: one PUT /api/v1/config, timed: the import is part of
# what an operator waits for when loading a big table.
load_mappings() {
	local t0 ms
	config_doc "$1" >"$tmp/config.json"
	t0=$(date +%s%N)
	api PUT /config "@$tmp/config.json" >/dev/null
	ms=$((($(date +%s%N) - t0) / 1000000))
	say "PUT /api/v1/config with $1 mappings took $ms ms"
	rec note "text=PUT /api/v1/config with $1 mappings took $ms ms"
}
load_mappings 1
CONSUMER=$DAEMON
GEN_ARGS=(-p "$P_SHARED" -B "$GEN_SRC")
measure ps-1 "portshared, 1 mapping" portshared
PS1=$(row_value ps-1 lossless_pps)
tcp_run tcp-ps "portshared mapping" $P_SHARED
for n in 10 1000 100000; do
	load_mappings $n
	measure "ps-$n" "portshared, $n mappings" portshared
done

# --- Control plane: REST writes under traffic --------------------------------

load_mappings 1
CP_RATE=$((PS1 / 2))
cp_window() { # SECONDS WRITES: traffic at CP_RATE while WRITES POSTs run (0: none)
	local spid gpid
	bg "$srv" "$tmp/cp.sink" "$BENCH_BIN/sink" -p $P_ASSIGNED -s $SIZE -T 300
	spid=$BG_PID
	sleep 0.15
	bg "$cli" "$tmp/cp.gen" "$BENCH_BIN/gen" -d $SRV -p $P_SHARED -B "$GEN_SRC" -s $SIZE \
		-t "$THREADS" -r $CP_RATE -T "$1"
	gpid=$BG_PID
	sleep 0.5
	if (($2 > 0)); then
		ip netns exec "$srv" timeout 240 python3 "$here/cpwrite.py" $HTTP "$TOKEN_FILE" "$2" \
			>"$tmp/cp.json"
		sleep 0.5
		kill -TERM "$gpid" 2>/dev/null || true
	fi
	wait "$gpid" 2>/dev/null || true
	sleep $SETTLE
	stop "$spid"
}
say "control plane: $CP_WRITES POSTs under $CP_RATE pps"
cp_window 120 "$CP_WRITES"
cp_sent=$(field "$tmp/cp.gen" sent)
cp_secs=$(field "$tmp/cp.gen" seconds)
cp_rx=$(field "$tmp/cp.sink" rx)
cp_bad=$(field "$tmp/cp.sink" bad)
# The same rate for as long without writes: loss that is not the swap's.
cp_window "$cp_secs" 0
idle_sent=$(field "$tmp/cp.gen" sent)
idle_rx=$(field "$tmp/cp.sink" rx)
cp_fields=$(python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
print("\t".join("%s=%s" % (k, d[k]) for k in ("writes", "ok", "p50_ms", "p90_ms", "p99_ms", "max_ms")))' \
	"$tmp/cp.json")
IFS=$'\t' read -r -a cp_kv <<<"$cp_fields"
rec cp "${cp_kv[@]}" "rate_pps=$CP_RATE" "sent=$cp_sent" "received=$cp_rx" \
	"lost=$((cp_sent - cp_rx))" "bad=$cp_bad" "seconds=$cp_secs" \
	"writes_per_s=$(calc "$CP_WRITES / ($cp_secs - 1)")" \
	"idle_sent=$idle_sent" "idle_lost=$((idle_sent - idle_rx))"
say "control plane: lost $((cp_sent - cp_rx)) of $cp_sent (idle: $((idle_sent - idle_rx)) of $idle_sent)"
load_mappings 1

# --- 6: an application group of 3 backends -----------------------------------

P_VIRT=7100
api POST /groups "{\"name\":\"bench\",\"virtual_port\":$P_VIRT,\"proto\":\"udp\",\"policy\":\"round_robin\",\"default\":true}" >/dev/null
for p in 7101 7102 7103; do
	api POST /backends "{\"group\":\"bench\",\"port\":$p}" >/dev/null
done
SINKS=("$srv:7101" "$srv:7102" "$srv:7103")
RX_MODE=sum
GEN_ARGS=(-p "$P_VIRT" -B "$GEN_SRC")
measure group-pinned "group of 3, pinned flows" portshared

group_flows() {
	api GET /groups | python3 -c 'import json,sys
d = json.load(sys.stdin)
items = d["items"] if isinstance(d, dict) else d
print(sum(g.get("counters", g).get("flows", 0) for g in items))'
}
flush_flows() {
	api DELETE /flows >/dev/null
	ip netns exec "$srv" conntrack -F >/dev/null 2>&1 || true
}
# Every datagram from a new (address, port): 16 x 60 000 tuples, the
# flows and conntrack entries flushed before each trial.
BEFORE_TRIAL=flush_flows
GEN_ARGS=(-p "$P_VIRT" -B "$SWEEP_SRC" --sweep 60000)
f0=$(group_flows)
measure group-newflow "group of 3, new flows" portshared
f1=$(group_flows)
BEFORE_TRIAL=""
rec note "text=new-flow row: each datagram is a new flow; the group's flows counter rose by $((f1 - f0)) over the row's trials"

# Flow-table memory: fill it for a while at the new-flow rate, then read
# the file's size and the daemon's RSS.
flush_flows
fill_rate=$(row_value group-newflow lossless_pps)
fill_s=$((QUICK == 1 ? 1 : 4))
say "flow table: filling at $fill_rate flows/s for $fill_s s"
g0=$(group_flows)
on "$cli" "$BENCH_BIN/gen" -d $SRV -p $P_VIRT -B "$SWEEP_SRC" --sweep 60000 \
	-s $SIZE -t "$THREADS" -r "$fill_rate" -T $fill_s >/dev/null 2>>"$tmp/stderr" || true
sleep $SETTLE
g1=$(group_flows)
fbytes=$(stat -c %s "$DB_DIR/ps.flows")
rss=$(awk '/^VmRSS/ { print $2 / 1024 }' "/proc/$DAEMON/status")
rec mem "capacity=$FLOWS" "file_bytes=$fbytes" "bytes_per_slot=$(calc "$fbytes / $FLOWS")" \
	"bytes_per_flow_90=$(calc "$fbytes / ($FLOWS * 0.9)")" "rss_mib=$rss" "flows_made=$((g1 - g0))"
flush_flows

# --- 7: fan-out of a contested port ------------------------------------------

P_CONT=7200
api POST /contested "{\"port\":$P_CONT}" >/dev/null
SINKS=("$srv:$P_CONT")
RX_MODE=min
GEN_ARGS=(-p "$P_CONT" -B "$GEN_SRC")
measure fan-0 "fan-out, 0 subscribers" portshared
sub_ids=()
add_sub() { # PORT: a raw subscriber on the client host
	local body
	body=$(api POST /subscribers \
		"{\"contested_port\":$P_CONT,\"address\":\"${SOURCES[0]}\",\"port\":$1,\"mode\":\"raw\"}")
	sub_ids+=("$(sed -E 's/.*"id": *([0-9]+).*/\1/' <<<"$body")")
	SINKS+=("$cli:$1")
}
add_sub 7201
measure fan-1 "fan-out, 1 subscriber" portshared
add_sub 7202
add_sub 7203
add_sub 7204
measure fan-4 "fan-out, 4 subscribers" portshared
# The listener alone, with the 4 subscribers still copied to.
RX_MODE=sum
SINKS_ALL=("${SINKS[@]}")
SINKS=("$srv:$P_CONT")
measure fan-4-listener "fan-out 4: the listener" portshared
SINKS=("${SINKS_ALL[@]}")

# --- 8: overload, a server CPU of its own -------------------------------------

stop "$DAEMON"
ip netns exec "$srv" "$IPT_TOOL" uninstall --state-dir "$tmp/state" >/dev/null
SPLIT=1
THREADS=1
RX_MODE=sum
SINKS=("$srv:$P_ASSIGNED")
# overload NAME: the row NAME was just measured with the receive path in
# softirq; offers twice its lossless rate again with the path in a NAPI
# thread, and records what was delivered.  OVL_TAG names the variant.
overload() {
	local lo off del
	lo=$(row_value "$1" lossless_pps)
	rx_model thread
	trial "$((2 * lo))"
	off=$(int "$T_SENT / $T_SECS")
	del=$(int "$T_RX / $T_SECS")
	rx_model softirq
	say "$1 ($OVL_TAG): NAPI thread, offered $off, delivered $del"
	rec ovl "name=$1" "variant=$OVL_TAG" "offered_pps=$off" "delivered_pps=$del"
}
rx_model softirq
GEN_ARGS=(-p "$P_ASSIGNED" -B "$GEN_SRC")
CONSUMER=""
measure ovl-kernel "kernel, no rules" softirq
OVL_TAG=default overload ovl-kernel
srv_ipt -t raw -A PREROUTING -p udp --dport $P_ASSIGNED -j NFQUEUE --queue-balance 0:1
bare
measure ovl-nfqbare "nfqbare (accept)" nfqbare
OVL_TAG=default overload ovl-nfqbare
stop "$CONSUMER"
srv_ipt -t raw -F PREROUTING
# A database of its own, so that the daemon holds the one mapping and
# nothing else: no group, no contested port.
ip netns exec "$srv" "$IPT_TOOL" install --queues 0:2 --state-dir "$tmp/state" >/dev/null
DB_DIR=$tmp/o
TOKEN_FILE=$DB_DIR/api.token
mkdir -p "$DB_DIR"
start_daemon
load_mappings 1
CONSUMER=$DAEMON
GEN_ARGS=(-p "$P_SHARED" -B "$GEN_SRC")
measure ovl-ps "portshared, 1 mapping" portshared
OVL_TAG=default overload ovl-ps
# The same with the workers at nice -10, which gives them priority over
# the NAPI thread.
stop "$DAEMON"
start_daemon --worker-nice -10
CONSUMER=$DAEMON
OVL_TAG=nice-10 overload ovl-ps
SPLIT=0

# --- The table -----------------------------------------------------------------

stop "$DAEMON"
ip netns exec "$srv" "$IPT_TOOL" uninstall --state-dir "$tmp/state" >/dev/null || true
took=$(($(date +%s) - started))
load_end=$(cut -d" " -f1 /proc/loadavg)
if ! ge 1.5 "$load_start"; then
	rec note "text=the machine was busy with other work before the run (load average $load_start): rates and CPU times are disturbed, instruction counts much less"
fi
rec meta "load_start=$load_start" "load_end=$load_end" "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)" "cpus=$(nproc)" "kernel=$(uname -r)" \
	"cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1 | tr -s ' ')" \
	"quick=$QUICK" "size=$SIZE" "threads=$MAIN_THREADS" "sources=8" "trial_s=$TRIAL" \
	"steps=$STEPS" "tcp_s=$TCP_S" "duration_s=$took" "perf=$HAVE_PERF" \
	"client_cpus=$CLI_CPUS" "server_cpus=$SRV_CPUS" \
	"portshared=$PORTSHARED"
mkdir -p "$RESULTS"
python3 "$here/report.py" "$records" "$RESULTS/latest.json"
cp "$RESULTS/latest.json" "$RESULTS/$(date -u +%Y%m%dT%H%M%SZ)$([[ $QUICK == 1 ]] && echo -quick).json"
