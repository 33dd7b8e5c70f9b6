#!/usr/bin/env bash
# teeth_stuck.sh CLI SCENARIO BUDGET SECONDS [RUN OPTIONS...]: an engine
# that loops forever must not hang the run. The run must end within
# SECONDS with exit 1, every planned trial stored, some judged stuck by the
# watchdog's BUDGET ("ops": the flash-op budget, "cpu": the CPU-time one),
# and the replay line of one of them must give the same verdict, also in
# bounded time.
set -uo pipefail
cli=$1 scenario=$2 budget=$3 seconds=$4
shift 4
case $budget in
ops) says='flash ops without completing' ;;
cpu) says='of CPU time without completing' ;;
*) echo "budget: ops or cpu"; exit 2 ;;
esac
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
t0=$(date +%s)
# timeout turns a hang into a failure (124) instead of a stuck CTest.
timeout -k 5 "$seconds" "$cli" run "$scenario" --db "$dir/r.db" --quiet "$@" \
    >"$dir/out"; rc=$?
took=$(($(date +%s) - t0))
head -4 "$dir/out"
planned=$(sqlite3 "$dir/r.db" 'SELECT trials_planned FROM runs')
stored=$(sqlite3 "$dir/r.db" 'SELECT count(*) FROM trials')
stuck=$(sqlite3 "$dir/r.db" "SELECT count(*) FROM trials WHERE verdict='stuck'
                             AND detail LIKE 'watchdog: %$says%'")
echo "exit $rc after ${took}s, $stored of $planned trials stored, $stuck stuck ($budget budget)"
[ $rc -eq 1 ] && [ "$stored" = "$planned" ] && [ "$stuck" -gt 0 ] || exit 1
# The replay line the run printed for a stuck trial reproduces it.
trial=$(sed -n 's/^  replay: .* --trial \([0-9]*\)$/\1/p' "$dir/out" | head -1)
[ -n "$trial" ] || { echo "no replay line"; exit 1; }
timeout -k 5 "$seconds" "$cli" replay "$dir/r.db" --run 1 --trial "$trial" \
    >"$dir/replay"; rc=$?
cat "$dir/replay"
[ $rc -eq 1 ] && grep -q "verdict: stuck: watchdog: .*$says" "$dir/replay"
