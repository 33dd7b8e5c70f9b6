#!/usr/bin/env bash
# fotasim report runs gnuplot without a shell, with the chart files named
# relative to its working directory: an output directory whose name holds
# ', ; and spaces is only a name (no PWNED file). gnuplot missing or
# failing: exit 1, a message naming gnuplot, the chart and its script
# file, and no half-written report left.
set -uo pipefail
cli=$1 scenario=$2
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }
cd "$dir"
"$cli" run "$scenario" --db good.db --quiet || { echo "FAIL: run"; exit 1; }
odd="r'; touch PWNED; ' \$(touch PWNED2) x"
out=$("$cli" report good.db -o "$odd" 2>&1) || bad "report into an odd directory: $out"
[ ! -e PWNED ] && [ ! -e PWNED2 ] && [ ! -e "$odd/PWNED" ] || bad "the directory name ran as a command"
[ "$(grep -o '<svg' "$odd/report.html" | wc -l)" -ge 2 ] || bad "no charts in $odd/report.html"
ls -a "$odd" | grep '^\.chart' >/dev/null && bad "chart files left in $odd"
echo "ok: report in \"$odd\", no command run"

mkdir bin
printf '#!/bin/sh\necho "line 1: unknown or ambiguous terminal type" >&2\nexit 1\n' >bin/gnuplot
chmod +x bin/gnuplot
out=$(PATH="$dir/bin:$PATH" "$cli" report good.db -o failing 2>&1); rc=$?
[ $rc -eq 1 ] || bad "failing gnuplot: exit $rc"
grep -qF "gnuplot failed (exit 1) on failing/.chart0.gp" <<<"$out" &&
    grep -qF "unknown or ambiguous terminal type" <<<"$out" || bad "failing gnuplot: $out"
[ ! -e failing/report.html ] || bad "half a report left"
echo "ok: $out"
out=$(PATH=/nonexistent "$cli" report good.db -o missing 2>&1); rc=$?
[ $rc -eq 1 ] && grep -qF "gnuplot not found (apt-get install gnuplot-nox)" <<<"$out" &&
    grep -qF "missing/.chart0.gp" <<<"$out" || bad "no gnuplot: exit $rc: $out"
echo "ok: $out"
exit $fail
