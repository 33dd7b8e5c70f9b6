#!/usr/bin/env bash
# fotasim report: a self-contained HTML page with a chart per part and a
# Markdown summary; clear refusals for missing, empty, foreign and
# older-schema databases.
set -euo pipefail
cli=$1 scenario=$2
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
"$cli" sweep "$scenario" --block-size 2K,4K,8K --db "$dir/r.db" --quiet >/dev/null
"$cli" report "$dir/r.db" -o "$dir/out"
html=$dir/out/report.html
[ "$(grep -o '<svg' "$html" | wc -l)" -ge 8 ]   # 2 sweep charts + 2 per run
! grep -q 'http://\|https://' <(grep -v 'xmlns\|DTD' "$html" | grep -o '<script[^>]*src=[^>]*>\|<link[^>]*href=[^>]*>' || true)
grep -q 'fotasim replay\|none' "$html"
grep -q '^| 1 | ' "$dir/out/summary.md"
echo "ok: report.html with $(grep -o '<svg' "$html" | wc -l) charts"
fail() { echo "FAIL: $*"; exit 1; }
out=$("$cli" report "$dir/missing.db" -o "$dir/x" 2>&1) && fail "missing db accepted"
grep -q "cannot open" <<<"$out" || fail "$out"
sqlite3 "$dir/foreign.db" 'CREATE TABLE t(x)'
out=$("$cli" report "$dir/foreign.db" -o "$dir/x" 2>&1) && fail "foreign db accepted"
grep -q "not a fotasim database" <<<"$out" || fail "$out"
"$cli" run "$scenario" --db "$dir/empty.db" --set cuts.strategy=random --set cuts.count=1 --quiet >/dev/null
sqlite3 "$dir/empty.db" 'DELETE FROM trials; DELETE FROM wear; DELETE FROM runs'
out=$("$cli" report "$dir/empty.db" -o "$dir/x" 2>&1) && fail "empty db accepted"
grep -q "holds no runs" <<<"$out" || fail "$out"
sqlite3 "$dir/empty.db" 'PRAGMA user_version=1'
out=$("$cli" report "$dir/empty.db" -o "$dir/x" 2>&1) && fail "old schema accepted"
grep -q "schema version 1" <<<"$out" || fail "$out"
echo "ok: refusals"
