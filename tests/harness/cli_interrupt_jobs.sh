#!/usr/bin/env bash
# SIGINT to a -j 2 run: the parent forwards it, both workers stop after
# their trial in progress, the parent commits what they finished and exits
# 130 within two seconds; the run is marked interrupted, and --resume
# finishes it with every planned trial exactly once.
set -euo pipefail
. "$(dirname "$0")/cli_wait.sh"
cli=$1 scenario=$2
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
"$cli" run "$scenario" --db "$dir/r.db" --quiet --set image.size=1M -j 2 &
pid=$!
wait_for_trials "$dir/r.db"
t0=$(date +%s%N)
kill -INT $pid
rc=0; wait $pid || rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
status=$(sqlite3 "$dir/r.db" 'SELECT status FROM runs')
before=$(sqlite3 "$dir/r.db" 'SELECT count(*) FROM trials')
planned=$(sqlite3 "$dir/r.db" 'SELECT trials_planned FROM runs')
echo "exit $rc ${ms} ms after SIGINT, status $status, $before of $planned trials committed"
[ $rc -eq 130 ] && [ "$status" = interrupted ] && [ "$before" -gt 0 ] &&
    [ "$before" -lt "$planned" ] && [ $ms -lt 2000 ]
# No worker outlives the parent (forks, they share its command line).
! pgrep -f -- "--db $dir/r.db" >/dev/null
"$cli" run "$scenario" --db "$dir/r.db" --resume --quiet --set image.size=1M -j 2
stored=$(sqlite3 "$dir/r.db" 'SELECT count(*) FROM trials')
distinct=$(sqlite3 "$dir/r.db" 'SELECT count(DISTINCT trial_id) FROM trials')
status=$(sqlite3 "$dir/r.db" 'SELECT status FROM runs')
echo "planned $planned stored $stored distinct $distinct status $status"
[ "$planned" = "$stored" ] && [ "$stored" = "$distinct" ] &&
    [ "$status" = passed ]
