#!/usr/bin/env bash
# cli_campaign.sh CLI CAMPAIGN [OPTIONS...]: the campaign through the real
# CLI. Bad input exits 2 naming file:line; --list is the same twice (the
# generator and the plan are deterministic); the campaign passes (exit 0)
# with one passed row in runs per generated run, named CAMPAIGN#NN.
set -uo pipefail
cli=$1 campaign=$2
shift 2
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

printf '[campaign]\nbase = x.ini\nbudgte = 3s\n' >"$dir/bad.ini"
"$cli" campaign "$dir/bad.ini" 2>"$dir/err"; rc=$?
[ $rc -eq 2 ] || fail "bad campaign: exit $rc, want 2"
grep -q "bad.ini:3: campaign.budgte: unknown key" "$dir/err" ||
    fail "bad campaign: $(cat "$dir/err")"
"$cli" campaign "$dir/missing.ini" 2>/dev/null; rc=$?
[ $rc -eq 2 ] || fail "missing campaign: exit $rc, want 2"

# Impossibility is declared, not assumed: a combination no valid run holds
# that no [exclude] or [impossible] line names fails the campaign before
# any run (a broken engine that refuses everything once passed with 0
# runs); a declared one is fine; a declaration some run holds is stale.
base=$(cd "$(dirname "$campaign")" && pwd)/ci-smoke.ini
imp() { # imp [IMPOSSIBLE LINE...]: a 2x2 campaign over ci-smoke
    printf '[campaign]\nname = imp\nbase = %s\nbudget = 2s\n' "$base"
    printf '[dim verify]\nfull = engine.verify=full\ntrusted = engine.verify=trusted\n'
    printf '[dim digest]\ncrc32 = engine.digest=crc32\nnone = engine.digest=none\n'
    [ $# -gt 0 ] && printf '[impossible]\n' && printf '%s\n' "$@"
}
imp >"$dir/imp.ini"
"$cli" campaign "$dir/imp.ini" --db "$dir/imp.db" >"$dir/out" 2>&1; rc=$?
[ $rc -eq 1 ] || fail "undeclared impossible pair: exit $rc, want 1: $(cat "$dir/out")"
grep -q "verify=trusted digest=none: .*trusted needs an image digest" "$dir/out" &&
    grep -q "FAILED: 1 combination of the campaign cannot be run" "$dir/out" ||
    fail "undeclared impossible pair: $(cat "$dir/out")"
[ "$(sqlite3 "$dir/imp.db" 'SELECT count(*) FROM runs' 2>/dev/null || echo 0)" = 0 ] ||
    fail "undeclared impossible pair: runs were started"
"$cli" campaign "$dir/imp.ini" --list >"$dir/out" 2>&1; rc=$?
[ $rc -eq 1 ] && grep -q "NOT DECLARED" "$dir/out" ||
    fail "--list with an undeclared impossible pair: exit $rc: $(cat "$dir/out")"
imp "trusted-needs-digest = verify=trusted digest=none" >"$dir/imp.ini"
"$cli" campaign "$dir/imp.ini" --list >"$dir/out" 2>&1; rc=$?
[ $rc -eq 0 ] || fail "declared impossible pair: exit $rc: $(cat "$dir/out")"
imp "trusted-needs-digest = verify=trusted digest=none" \
    "stale = verify=full digest=crc32" >"$dir/imp.ini"
"$cli" campaign "$dir/imp.ini" --db "$dir/imp2.db" >"$dir/out" 2>&1; rc=$?
[ $rc -eq 2 ] && grep -q "\[impossible\] stale (.*imp.ini:[0-9]*): a run holds every value" "$dir/out" ||
    fail "stale [impossible] line: exit $rc: $(cat "$dir/out")"
echo "impossible combinations: undeclared fails, declared runs, stale refused"

# Determinism: the runs and their plans, minus the generator's timing.
"$cli" campaign "$campaign" --list "$@" | grep -v 'generated in' >"$dir/l1" ||
    fail "--list: $(cat "$dir/l1")"
"$cli" campaign "$campaign" --list "$@" | grep -v 'generated in' >"$dir/l2"
cmp -s "$dir/l1" "$dir/l2" || fail "--list differs between two calls"
runs=$(grep -c '^  #' "$dir/l1")
name=$(sed -n 's/^campaign \([^ ]*\) .*/\1/p' "$dir/l1" | head -1)
echo "$runs runs planned for $name"

"$cli" campaign "$campaign" --db "$dir/c.db" "$@"; rc=$?
[ $rc -eq 0 ] || fail "campaign: exit $rc, want 0"
n=$(sqlite3 "$dir/c.db" "SELECT count(*) FROM runs WHERE status = 'passed'
                         AND name GLOB '$name#[0-9]*'")
all=$(sqlite3 "$dir/c.db" "SELECT count(*) FROM runs")
[ "$n" -eq "$runs" ] && [ "$all" -eq "$runs" ] ||
    fail "$n passed runs of $all in the database, $runs generated"
echo "$n runs passed, $(sqlite3 "$dir/c.db" 'SELECT count(*) FROM trials') trials"
