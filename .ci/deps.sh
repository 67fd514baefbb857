#!/bin/sh
# Installs the Debian packages portshare builds, tests and runs with.  Safe
# to run again: it installs only what is missing, and only then updates the
# package lists.  The README's dependency list says why each one is here.
set -eu

BUILD="gcc make pkg-config libc6-dev"
LIBS="libnetfilter-queue-dev libnfnetlink-dev libmnl-dev libsqlite3-dev \
libmicrohttpd-dev libjansson-dev liburcu-dev libipset-dev libsystemd-dev check"
RUNTIME="iptables ipset nftables iproute2 sqlite3"
TESTS="curl python3 ethtool conntrack shellcheck procps openssl python3-prometheus-client systemd groff-base"

missing=""
for p in $BUILD $LIBS $RUNTIME $TESTS; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$status" in
	*" installed") ;;
	*) missing="$missing $p" ;;
	esac
done
if [ -z "$missing" ]; then
	echo "deps: all packages present"
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages:$missing (run as root to install them)" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086 # one word per package
apt-get install -y -qq --no-install-recommends $missing >/dev/null
