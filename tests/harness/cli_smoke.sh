#!/usr/bin/env bash
# Exhaustive single-cut run of a small scenario: exit 0, every trial in the
# database, and well-formed JUnit.
set -euo pipefail
cli=$1 scenario=$2
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
"$cli" run "$scenario" --db "$dir/r.db" --junit "$dir/j.xml"
planned=$(sqlite3 "$dir/r.db" 'SELECT trials_planned FROM runs')
stored=$(sqlite3 "$dir/r.db" 'SELECT count(*) FROM trials')
status=$(sqlite3 "$dir/r.db" 'SELECT status FROM runs')
[ "$planned" -gt 100 ] && [ "$planned" = "$stored" ] && [ "$status" = passed ] || {
    echo "planned $planned stored $stored status $status"; exit 1; }
grep -q '<testsuite name="fotasim" tests="1" failures="0"' "$dir/j.xml"
grep -q '</testsuites>' "$dir/j.xml"
echo "ok: $stored trials, junit well-formed"
