#!/usr/bin/env bash
# cli_sweep_honest.sh CLI MUTANT_CLI SMOKE SMALL_BLOCKS: the sweep names
# as best only a value whose every trial passed; a value over a cost bound
# is "not eligible" with the reason; an unsafe value is listed first and
# makes the sweep exit 1.
set -uo pipefail
cli=$1 mutant=$2 smoke=$3 small=$4
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
fail=0
check() { # check WHAT COND
    if eval "$2"; then echo "ok: $1"; else echo "FAIL: $1"; fail=1; fi
}
# 16K re-downloads up to 16 KiB per cut: over a 4 KiB bound.
out=$("$cli" sweep "$smoke" --block-size 16K,4K --set expect.max_redownload_bytes=4K \
      --db "$dir/a.db" --quiet 2>&1); rc=$?
echo "$out"
out_a=$out
check "exit 0 with an eligible value" '[ $rc -eq 0 ]'
check "16K not eligible, with the bound" 'grep -q "^not eligible: engine.block_size = 16K: .*expected at most 4096" <<<"$out"'
check "best is 4K" 'grep -q "^best: engine.block_size = 4K" <<<"$out"'
# Only the failing value: nothing is eligible.
out=$("$cli" sweep "$smoke" --block-size 16K,32K --set expect.max_redownload_bytes=4K \
      --db "$dir/b.db" --quiet 2>&1); rc=$?
check "exit 1 when no value is eligible" '[ $rc -eq 1 ]'
check "no best named" '! grep -q "^best:" <<<"$out"'
# A broken engine corrupts with 1K blocks (smaller than the erase unit).
out=$("$mutant" sweep "$small" --block-size 4K,1K --db "$dir/c.db" --quiet 2>&1); rc=$?
echo "$out" | grep -v '^[0-9]'
check "exit 1 with an unsafe value" '[ $rc -eq 1 ]'
check "the unsafe value comes first" '[ "$(grep -m1 . <<<"$out" | cut -c1-40)" = "UNSAFE: engine.block_size = 1K: 384 of 5" ]'
# The database keeps the decision: `fotasim report` on it later leads
# with the very table and recommendation the sweep printed.
"$cli" report "$dir/a.db" -o "$dir/ra" >/dev/null 2>&1; rc=$?
check "report on a sweep's database" '[ $rc -eq 0 ]'
lead=$(python3 -c 'import html,re,sys; m=re.search(r"<pre class=\"lead\">(.*?)</pre>", open(sys.argv[1]).read(), re.S); print(html.unescape(m.group(1)) if m else "")' "$dir/ra/report.html")
check "the report leads with the sweep's best" 'grep -q "^best: engine.block_size = 4K" <<<"$lead"'
check "the lead is the printed table, line for line" '[ "$(grep -c . <<<"$lead")" -ge 5 ] && while IFS= read -r l; do grep -qxF -- "$l" <<<"$out_a" || exit 1; done <<<"$lead"'
check "the sweep's values are queryable" '[ "$(sqlite3 "$dir/a.db" "SELECT group_concat(value || \":\" || eligible) FROM sweep_values ORDER BY idx")" = "16K:0,4K:1" ]'
# Runs keep the engine that ran them: the mutant's database names it.
check "runs.engine names the mutant" '[ "$(sqlite3 "$dir/c.db" "SELECT DISTINCT engine FROM runs")" = "fwresume 0.3.0 mutant no_neighbour" ]'
"$mutant" run "$small" --db "$dir/f.db" --quiet >/dev/null 2>&1
"$cli" report "$dir/f.db" -o "$dir/rf" >/dev/null 2>&1
check "the mutant's report names it on the cover" 'grep -q "fwresume 0.3.0 mutant no_neighbour" "$dir/rf/report.html"'
# A sweep database whose runs are not all there (a copy of one run) is not
# that sweep: no recommendation is shown for it.
cp "$dir/a.db" "$dir/e.db"
sqlite3 "$dir/e.db" "DELETE FROM trials WHERE run_id = 1; DELETE FROM wear WHERE run_id = 1; UPDATE sweep_values SET run_id = NULL WHERE run_id = 1; DELETE FROM runs WHERE id = 1; UPDATE sweep_values SET run_id = 9 WHERE idx = 1"
"$cli" report "$dir/e.db" -o "$dir/re" >/dev/null 2>&1; rc=$?
check "a partial sweep database reports without a recommendation" '[ $rc -eq 0 ] && ! grep -q "the recommendation" "$dir/re/report.html"'
# The database fails mid-sweep (disk full): exit 3, the cause named, no
# value chosen from trials that were not stored. LeakSanitizer cannot run
# under ptrace: leaks are checked by the runs above.
out=$(ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" strace -f -o /dev/null -e inject=pwrite64:error=ENOSPC:when=40..60 \
      "$cli" sweep "$smoke" --block-size 4K,16K --db "$dir/d.db" --quiet 2>&1); rc=$?
echo "$out"
check "exit 3 when the sweep's database fails" '[ $rc -eq 3 ]'
check "the cause is named" 'grep -q "disk full" <<<"$out"'
check "no best from unstored trials" '! grep -q "^best:" <<<"$out"'
exit $fail
