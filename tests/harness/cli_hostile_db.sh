#!/usr/bin/env bash
# Databases are untrusted input. merge validates every shard field before
# use (no SIGFPE, SIGSEGV or heap overflow: a refusal naming the file and
# the field, exit 2, no output file); replay of a missing file creates
# nothing; --resume after a finished run refuses; --db "" is refused.
set -uo pipefail
cli=$1 scenario=$2
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }
cd "$dir"
for i in 0 1 2; do
    "$cli" run "$scenario" --shard $i/3 --db s$i.db --quiet || { echo "FAIL: shard $i"; exit 1; }
done
hostile() { # hostile SQL PATTERN: s1 damaged by SQL must be refused
    local q=$1 pat=$2 out rc
    cp s1.db h.db
    sqlite3 h.db "PRAGMA ignore_check_constraints = 1; $q"
    rm -f m.db
    out=$("$cli" merge m.db s0.db h.db s2.db 2>&1); rc=$?
    if [ $rc -ne 2 ] || ! grep -qF -- "h.db: $pat" <<<"$out" || [ -e m.db ]; then
        bad "$q: exit $rc (wanted 2 and 'h.db: $pat', no m.db): $out"
    else
        echo "ok: $q: $out"
    fi
}
hostile "UPDATE runs SET shard_count = 0" "runs.shard_count 0 is not 1 to 1000000"
hostile "UPDATE runs SET shard_index = 1000000" "runs.shard_index 1000000 is not 0 to 2"
hostile "UPDATE runs SET shard_index = -5" "runs.shard_index -5 is not 0 to 2"
hostile "UPDATE runs SET shard_count = 'x'" "runs.shard_count is text"
hostile "UPDATE runs SET status = 'weird'" "runs.status 'weird'"
# Trial 1 renumbered out of its slice: the merge would lack trial 1.
hostile "UPDATE trials SET trial_id = 1001 WHERE trial_id = 1" \
    "trial 1001 lies outside shard 1/3"
hostile "UPDATE trials SET run_id = 5 WHERE trial_id = 1" \
    "1 trial or wear rows belong to no run of the file (trials.run_id"
rm -f m.db
"$cli" merge m.db s0.db s1.db s2.db >/dev/null || bad "undamaged shards refused"
[ "$(sqlite3 m.db 'SELECT count(*) FROM trials')" = "$(sqlite3 m.db 'SELECT trials_planned FROM runs')" ] \
    || bad "merged run lacks trials"

# replay of a missing file: refused, nothing created.
out=$("$cli" replay typo.db --run 1 --trial 0 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q "typo.db: cannot open: No such file" <<<"$out" || bad "typo: exit $rc: $out"
[ ! -e typo.db ] || bad "replay created typo.db"
out=$("$cli" report typo.db -o rep 2>&1); rc=$?
[ $rc -eq 2 ] && [ ! -e typo.db ] || bad "report typo: exit $rc: $out"
# A stored trial out of range is refused, not used.
cp s0.db v.db
sqlite3 v.db 'UPDATE trials SET verdict_code = 200 WHERE trial_id = 0'
out=$("$cli" replay v.db --run 1 --trial 0 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q "verdict_code 200" <<<"$out" || bad "verdict_code 200: exit $rc: $out"

# --resume after a finished run: says so, exit 2, no new run.
"$cli" run "$scenario" --db done.db --quiet || bad "run"
out=$("$cli" run "$scenario" --db done.db --resume --quiet 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q "run 1 of this scenario already finished (passed); nothing to resume" <<<"$out" \
    || bad "resume after finish: exit $rc: $out"
[ "$(sqlite3 done.db 'SELECT count(*) FROM runs')" = 1 ] || bad "resume after finish started a run"
# --db "": SQLite would log to a temporary database and pass.
out=$("$cli" run "$scenario" --db "" --quiet 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q "empty database file name" <<<"$out" || bad "--db '': exit $rc: $out"
out=$("$cli" merge "" s0.db 2>&1); rc=$?
[ $rc -eq 2 ] || bad "merge '': exit $rc: $out"
[ $fail = 0 ] && echo "ok: replay, report, resume, --db ''"
exit $fail
