#!/usr/bin/env bash
# kill -9 mid-run: the database passes integrity_check, keeps its committed
# trials, and --resume finishes the run with every planned trial once.
set -euo pipefail
. "$(dirname "$0")/cli_wait.sh"
cli=$1 scenario=$2
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
"$cli" run "$scenario" --db "$dir/r.db" --quiet --set image.size=1M &
pid=$!
# A full run takes seconds: the signal comes within a tenth of one after
# the first commit.
wait_for_trials "$dir/r.db"
kill -9 $pid
wait $pid 2>/dev/null || true
[ "$(sqlite3 "$dir/r.db" 'PRAGMA integrity_check')" = ok ]
before=$(sqlite3 "$dir/r.db" 'SELECT count(*) FROM trials')
echo "committed before the kill: $before trials"
[ "$before" -gt 0 ]
"$cli" run "$scenario" --db "$dir/r.db" --resume --quiet --set image.size=1M
planned=$(sqlite3 "$dir/r.db" 'SELECT trials_planned FROM runs')
stored=$(sqlite3 "$dir/r.db" 'SELECT count(*) FROM trials')
runs=$(sqlite3 "$dir/r.db" 'SELECT count(*) FROM runs')
status=$(sqlite3 "$dir/r.db" 'SELECT status FROM runs')
echo "planned $planned stored $stored runs $runs status $status"
[ "$planned" = "$stored" ] && [ "$runs" = 1 ] && [ "$status" = passed ]
