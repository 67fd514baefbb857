#!/bin/bash
# The body of `make check`: unit tests in a plain and in a sanitizer build,
# then the network scenarios against the sanitizer build of the daemon.
# Ends with one line that totals every check.
set -euo pipefail
cd "$(dirname "$0")/.."
make=${MAKE:-make}
log=$(mktemp /tmp/portshare-check.XXXXXX)
trap 'rm -f "$log"' EXIT

rc=0
{
	$make --no-print-directory all unit-check &&
		$make --no-print-directory BUILD=build-asan SANITIZE=address,undefined all unit-check &&
		PORTSHARED=$PWD/build-asan/portshared $make --no-print-directory net-check
} 2>&1 | tee "$log" || rc=$?

passed=0
failed=0
while read -r p f; do
	passed=$((passed + p))
	failed=$((failed + f))
done < <(sed -nE 's/^(unit|net): ([0-9]+) passed, ([0-9]+) failed$/\2 \3/p' "$log")
if ((rc != 0 && failed == 0)); then
	failed=1
fi
echo "check: $passed passed, $failed failed"
((failed == 0))
