#!/bin/bash
# Runs every root-only network scenario (tests/net/test_*.sh) one after the
# other and prints one closing line with the totals of their checks.
set -euo pipefail
cd "$(dirname "$0")/.."
passed=0
failed=0
leftovers() {
	ip netns list 2>/dev/null | awk '$1 ~ /^portshare-t-/ { print $1 }' | sort
}
before=$(leftovers)
for t in tests/net/test_*.sh; do
	echo "== $t"
	rc=0
	out=$(bash "$t" 2>&1) || rc=$?
	echo "$out"
	if ((rc == 77)); then
		# Skipping is fine by hand as a normal user, never in CI.
		if [[ -n ${CI:-} ]]; then
			echo "$t: skipped in CI"
			failed=$((failed + 1))
		fi
		continue
	fi
	line=$(grep -E '^[a-z_]+: [0-9]+ passed, [0-9]+ failed$' <<<"$out" | tail -n 1 || true)
	if [[ -z $line ]]; then
		echo "$t: exited $rc without a summary"
		failed=$((failed + 1))
		continue
	fi
	p=$(sed -E 's/.*: ([0-9]+) passed.*/\1/' <<<"$line")
	f=$(sed -E 's/.*, ([0-9]+) failed/\1/' <<<"$line")
	passed=$((passed + p))
	failed=$((failed + f))
	if ((rc != 0 && f == 0)); then
		failed=$((failed + 1))
	fi
done
# A scenario must delete every namespace it made, even when it fails.
left=$(comm -13 <(echo "$before") <(leftovers) | tr '\n' ' ')
if [[ -n ${left// /} ]]; then
	echo "not ok - namespaces left behind: $left"
	failed=$((failed + 1))
fi
echo "net: $passed passed, $failed failed"
((failed == 0))
