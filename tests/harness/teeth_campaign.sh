#!/usr/bin/env bash
# teeth_campaign.sh MUTANT_CLI CAMPAIGN VERDICT[,VERDICT...] [OPTIONS...]:
# a broken engine must fail the campaign (exit 1, --fail-fast) with trials
# judged one of the VERDICTs (verdicts the real engine never earns there),
# and the replay line must name the mutant's own binary. The VERDICT
# `refused` also takes a campaign stopped before any run because the
# engine could not finish the uncut update of a combination the real
# engine finishes (too costly or looping: the watchdog names it).
set -uo pipefail
cli=$1 campaign=$2 verdict=$3
shift 3
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
"$cli" campaign "$campaign" --db "$dir/c.db" --fail-fast --quiet "$@" \
    >"$dir/out" 2>&1; rc=$?
cat "$dir/out"
list=$(printf "'%s'," ${verdict//,/ }); list=${list%,}
if [[ ",$verdict," == *,refused,* ]] &&
    grep -q "the uncut update does not complete" "$dir/out" &&
    grep -Eq "^FAILED: .* combinations? of the campaign cannot be run" \
        "$dir/out"; then
    echo "exit $rc, refused: the engine cannot finish an uncut update"
    [ $rc -eq 1 ]
    exit
fi
n=$(sqlite3 "$dir/c.db" "SELECT count(*) FROM trials WHERE verdict IN ($list)" 2>/dev/null)
echo "exit $rc, ${n:-0} trials judged $verdict"
[ $rc -eq 1 ] && [ "${n:-0}" -gt 0 ] &&
    grep -q "replay: $(basename "$cli") replay" "$dir/out"
