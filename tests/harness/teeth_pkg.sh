#!/usr/bin/env bash
# teeth_pkg.sh REAL MUTANT SCENARIO TEXT: the refusal test for a package
# the device must not take (a wrong signer, a wrong delta base), and its
# teeth. The real engine's run must be refused (exit 2) with TEXT in its
# message; the broken variant's must not be: it takes the package.
set -uo pipefail
real=$1 mutant=$2 scenario=$3 text=$4
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
"$real" run "$scenario" --db "$dir/a.db" --quiet 2>"$dir/real"; rc=$?
echo "real engine: exit $rc: $(cat "$dir/real")"
if [ $rc -ne 2 ] || ! grep -qF -- "$text" "$dir/real"; then
    echo "FAIL: the real engine did not refuse with '$text'"
    exit 1
fi
"$mutant" run "$scenario" --db "$dir/b.db" --quiet 2>"$dir/mut"; rc=$?
echo "variant: exit $rc: $(cat "$dir/mut")"
if [ $rc -eq 2 ] && grep -qF -- "$text" "$dir/mut"; then
    echo "FAIL: the broken variant is refused the same way: the test has no teeth"
    exit 1
fi
echo "ok: refused by the real engine, taken by the broken variant"
