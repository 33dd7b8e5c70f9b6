#!/usr/bin/env bash
# install_layout.sh BUILD SCENARIO: `cmake --install` puts fotasim, its man
# page, bash completion and the report's queries under a prefix, and the
# installed program reports from PREFIX/share/fotasim/reports, not from the
# source tree it was built from (shown by removing one installed query).
set -uo pipefail
build=$1 scenario=$2
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
cmake --install "$build" --prefix "$dir/p" --component fotasim >"$dir/log" 2>&1 \
    || { cat "$dir/log"; fail "cmake --install --component fotasim"; }
for f in bin/fotasim share/man/man1/fotasim.1 share/bash-completion/completions/fotasim \
         share/fotasim/reports/runs.sql share/fotasim/reports/verdicts.sql; do
    [ -s "$dir/p/$f" ] || fail "not installed: $f"
done
cli=$dir/p/bin/fotasim
"$cli" run "$scenario" --db "$dir/r.db" --progress=none >/dev/null || fail "installed fotasim run failed"
"$cli" report "$dir/r.db" -o "$dir/rep" >/dev/null || fail "installed fotasim report failed"
[ -s "$dir/rep/report.html" ] || fail "no report from the installed program"
"$cli" help report | grep -q "now $dir/p/bin/../share/fotasim/reports" \
    || fail "the installed program does not name its installed queries"
rm "$dir/p/share/fotasim/reports/verdicts.sql"
out=$("$cli" report "$dir/r.db" -o "$dir/rep2" 2>&1) && fail "report worked without its installed query"
grep -q "share/fotasim/reports/verdicts.sql: cannot read" <<<"$out" || fail "refusal: $out"
echo "ok: installed under a prefix; reports from share/fotasim/reports ($(cd "$dir/p" && find . -type f | wc -l) files)"
