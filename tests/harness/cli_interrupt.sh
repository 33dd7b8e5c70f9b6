#!/usr/bin/env bash
# SIGINT mid-run: exit 130, the run marked interrupted with its committed
# trials kept, and --resume finishes it with every planned trial once.
set -euo pipefail
. "$(dirname "$0")/cli_wait.sh"
cli=$1 scenario=$2
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
"$cli" run "$scenario" --db "$dir/r.db" --quiet --set image.size=1M &
pid=$!
# A full run takes seconds: the signal comes within a tenth of one after
# the first commit.
wait_for_trials "$dir/r.db"
kill -INT $pid
rc=0; wait $pid || rc=$?
status=$(sqlite3 "$dir/r.db" 'SELECT status FROM runs')
before=$(sqlite3 "$dir/r.db" 'SELECT count(*) FROM trials')
echo "exit $rc, status $status, $before trials committed"
[ $rc -eq 130 ] && [ "$status" = interrupted ] && [ "$before" -gt 0 ]
"$cli" run "$scenario" --db "$dir/r.db" --resume --quiet --set image.size=1M
planned=$(sqlite3 "$dir/r.db" 'SELECT trials_planned FROM runs')
stored=$(sqlite3 "$dir/r.db" 'SELECT count(*) FROM trials')
status=$(sqlite3 "$dir/r.db" 'SELECT status FROM runs')
echo "planned $planned stored $stored status $status"
[ "$planned" = "$stored" ] && [ "$status" = passed ]
