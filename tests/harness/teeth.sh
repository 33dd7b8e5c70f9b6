#!/usr/bin/env bash
# teeth.sh CLI SCENARIO VERDICT [RUN OPTIONS...]: the run must fail and
# the database must hold trials with VERDICT ("none": the run must pass,
# no failing trial; "refused:TEXT": the run must be refused, exit 2, with
# TEXT in its message).
set -uo pipefail
cli=$1 scenario=$2 verdict=$3
shift 3
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
"$cli" run "$scenario" --db "$dir/r.db" --quiet "$@" 2>"$dir/err"; rc=$?
cat "$dir/err" >&2
case $verdict in
refused:*)
    echo "exit $rc"
    [ $rc -eq 2 ] && grep -F -- "${verdict#refused:}" "$dir/err" >/dev/null
    exit
    ;;
esac
sqlite3 "$dir/r.db" 'SELECT verdict, trials FROM v_verdicts_per_run'
if [ "$verdict" = none ]; then
    [ $rc -eq 0 ] && [ "$(sqlite3 "$dir/r.db" 'SELECT sum(failed) FROM trials')" = 0 ]
    exit
fi
n=$(sqlite3 "$dir/r.db" "SELECT count(*) FROM trials WHERE verdict='$verdict'")
echo "exit $rc, $n trials judged $verdict"
[ $rc -eq 1 ] && [ "$n" -gt 0 ]
