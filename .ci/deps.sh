#!/bin/bash
# Installs the Debian packages portshare builds, tests and runs with.  Safe
# to run again: it installs only what is missing, and only then updates the
# package lists.  The README's dependency list says why each one is here.
set -euo pipefail

BUILD="gcc make pkg-config libc6-dev"
LIBS="libnetfilter-queue-dev libnfnetlink-dev libmnl-dev libsqlite3-dev \
libmicrohttpd-dev libjansson-dev liburcu-dev libipset-dev libsystemd-dev check"
RUNTIME="iptables ipset nftables iproute2 sqlite3"
TESTS="curl python3 ethtool conntrack shellcheck procps openssl python3-prometheus-client systemd groff-base chromium"
# make bench: iperf3 for TCP throughput, perf for userspace instructions.
BENCH="iperf3 linux-perf"

missing=""
for p in $BUILD $LIBS $RUNTIME $TESTS $BENCH; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$status" in
	*" installed") ;;
	*) missing="$missing $p" ;;
	esac
done
# Node is checked by command, not by package: a machine may carry a node
# build that bundles npm, and Debian's separate npm package conflicts with it.
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"

if [ -z "$missing" ]; then
	echo "deps: all packages present"
elif [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages:$missing (run as root to install them)" >&2
	exit 1
else
	echo "deps: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086 # one word per package
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# The browser test drives Debian's chromium with playwright-core, pinned in
# tests/web/package-lock.json and installed from the npm registry here,
# never at build or test time.
cd "$(dirname "$0")/.."
if [ ! -d tests/web/node_modules/playwright-core ] ||
	[ tests/web/package-lock.json -nt tests/web/node_modules/.package-lock.json ]; then
	npm ci --prefix tests/web --no-audit --no-fund --loglevel=error
fi
