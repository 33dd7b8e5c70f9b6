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
