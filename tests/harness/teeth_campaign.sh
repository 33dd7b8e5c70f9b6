#!/usr/bin/env bash
# teeth_campaign.sh MUTANT_CLI CAMPAIGN VERDICT[,VERDICT...] [OPTIONS...]:
# a broken engine must fail the campaign (exit 1, --fail-fast) with trials
# judged one of the VERDICTs (verdicts the real engine never earns there),
# and the replay line must name the mutant's own binary.
set -uo pipefail
cli=$1 campaign=$2 verdict=$3
shift 3
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
"$cli" campaign "$campaign" --db "$dir/c.db" --fail-fast --quiet "$@" \
    >"$dir/out"; rc=$?
cat "$dir/out"
list=$(printf "'%s'," ${verdict//,/ }); list=${list%,}
n=$(sqlite3 "$dir/c.db" "SELECT count(*) FROM trials WHERE verdict IN ($list)")
echo "exit $rc, $n trials judged $verdict"
[ $rc -eq 1 ] && [ "$n" -gt 0 ] &&
    grep -q "replay: $(basename "$cli") replay" "$dir/out"
