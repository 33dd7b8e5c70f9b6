#!/usr/bin/env bash
# Storage failures injected from outside through the database layer's
# libfiu points (fiu-run): exit 3, the cause and the point named, the run
# row never passed, the last line counting what the file holds.
set -uo pipefail
cli=$1 scenario=$2
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
command -v fiu-run >/dev/null || { echo "fiu-run not installed (apt-get install fiu-utils)"; exit 1; }
# -x also preloads libfiu's POSIX wrappers; their malloc comes before a
# sanitizer's and crashes it. fotasim's own points (all this test needs)
# work without them.
x=-x
# grep -q would stop reading early: under pipefail, ldd's SIGPIPE made the
# test flaky.
if ldd "$cli" | grep libasan >/dev/null; then
    x=
    export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
    # fiu-run's preload library keeps a string of its own to the end.
    echo "leak:fiu_run_preload.so" >"$dir/lsan.supp"
    export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$dir/lsan.supp"
fi
fail=0
bad() { echo "FAIL: $*"; fail=1; }
# inject ENABLE PATTERN...: the run under the point must exit 3 with every
# PATTERN in its output and leave no passed run.
inject() {
    local enable=$1 out rc p passed; shift
    rm -f "$dir"/r.db*
    out=$(fiu-run $x -c "$enable" "$cli" run "$scenario" --db "$dir/r.db" --quiet 2>&1); rc=$?
    [ $rc -eq 3 ] || bad "$enable: exit $rc, wanted 3: $out"
    for p in "$@"; do grep -qF -- "$p" <<<"$out" || bad "$enable: no '$p' in: $out"; done
    passed=$(sqlite3 "$dir/r.db" "SELECT count(*) FROM runs WHERE status = 'passed'" 2>/dev/null || echo 0)
    [ "${passed:-0}" = 0 ] || bad "$enable: a run marked passed"
    echo "$enable: exit $rc: $(grep -m1 fotasim/db <<<"$out")"
}
# SQLite result codes as failinfo: 13 SQLITE_FULL, 10 SQLITE_IOERR,
# 8 SQLITE_READONLY, 5 SQLITE_BUSY, 11 SQLITE_CORRUPT.
inject 'enable name=fotasim/db/commit,failinfo=13' \
    "disk full: commit of " "libfiu point fotasim/db/commit" \
    "STORAGE ERROR: 0/" "trials committed to $dir/r.db; the run is not passed"
[ "$(sqlite3 "$dir/r.db" 'SELECT status FROM runs')" = running ] || bad "commit: run not left running"
inject 'enable name=fotasim/db/step,failinfo=10' "I/O error" "fotasim/db/step"
inject 'enable name=fotasim/db/prepare,failinfo=8' "read-only" "fotasim/db/prepare"
inject 'enable name=fotasim/db/open,failinfo=5' "locked" "fotasim/db/open"
inject 'enable name=fotasim/db/step,failinfo=11' "not a database or corrupt" "fotasim/db/step"
# The run a failed commit left is resumable, and finishes.
inject 'enable name=fotasim/db/commit,failinfo=13' "disk full"
out=$("$cli" run "$scenario" --db "$dir/r.db" --resume 2>&1) || bad "resume failed: $out"
grep -q "^PASSED: \([0-9]*\)/\1 trials committed" <<<"$out" || bad "resume: $out"
[ "$(sqlite3 "$dir/r.db" 'SELECT status FROM runs')" = passed ] || bad "resumed run not passed"
exit $fail
