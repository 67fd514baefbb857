#!/bin/bash
# Runs the check-based unit test binaries given as arguments and prints one
# closing line with the totals.  check itself prints a per-binary summary
# ("100%: Checks: N, Failures: 0, Errors: 0").
set -euo pipefail
passed=0
failed=0
for t in "$@"; do
	out=$("$t" 2>&1) || true
	echo "$out" | grep -v '^Running suite' || true
	line=$(grep -E '^[0-9]+%: Checks: ' <<<"$out" | tail -n 1)
	if [[ -z $line ]]; then
		echo "$t: crashed or printed no summary"
		failed=$((failed + 1))
		continue
	fi
	checks=$(sed -E 's/.*Checks: ([0-9]+).*/\1/' <<<"$line")
	bad=$(sed -E 's/.*Failures: ([0-9]+), Errors: ([0-9]+).*/\1 \2/' <<<"$line")
	read -r f e <<<"$bad"
	passed=$((passed + checks - f - e))
	failed=$((failed + f + e))
done
echo "unit: $passed passed, $failed failed"
((failed == 0))
