#!/usr/bin/env bash
# scripts_run_paths.sh BUILD SCENARIO: scripts/run names every output after
# --db (a CI shard's results/shard-1.db gives results/shard-1.junit.xml and
# results/shard-1-report/), keeps the named database, and exits with the
# run's status.
set -uo pipefail
build=$1 scenario=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
FOTASIM_BUILD=$build bash "$root/scripts/run" "$scenario" --db "$dir/results/shard-1.db" \
    --shard 1/2 --progress=none >"$dir/out" 2>&1 || { cat "$dir/out"; fail "scripts/run --db exited non-zero"; }
for f in results/shard-1.db results/shard-1.junit.xml results/shard-1-report/report.html \
         results/shard-1-report/summary.md; do
    [ -s "$dir/$f" ] || fail "no $f"
done
grep -q "junit:    $dir/results/shard-1.junit.xml" "$dir/out" || fail "the paths printed are not the ones written"
# The named database is kept: a resume finds the run already finished.
FOTASIM_BUILD=$build bash "$root/scripts/run" "$scenario" --db "$dir/results/shard-1.db" \
    --shard 1/2 --resume --progress=none >"$dir/out2" 2>&1
grep -q "already finished" "$dir/out2" || { cat "$dir/out2"; fail "resume did not find the finished run"; }
n=$(sqlite3 "$dir/results/shard-1.db" 'SELECT count(*) FROM runs')
[ "$n" = 1 ] || fail "$n runs after --resume: the database was replaced or run twice"
echo "ok: outputs named after --db, database kept"
