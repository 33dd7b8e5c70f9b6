#!/usr/bin/env bash
# A disk that fills up or fails under a run: strace makes pwrite64 return
# ENOSPC or EIO (11 calls in a row) with -j 1 and -j 2. The run must end
# with exit 3, name the cause, leave the run not passed and count only
# what was committed; --resume then finishes it, with the wear of all its
# trials.
set -uo pipefail
cli=$1 scenario=$2
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
command -v strace >/dev/null || { echo "strace not installed (apt-get install strace)"; exit 1; }
# LeakSanitizer cannot run under ptrace.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
set_=(--set image.size=256K)   # 1356 trials, about 220 pwrite64 calls
fail=0
bad() { echo "FAIL: $*"; fail=1; }
traced() { # traced WHEN ERRNO ARGS...
    local when=$1 e=$2; shift 2
    strace -f --seccomp-bpf -o /dev/null -e trace=pwrite64 \
        -e inject=pwrite64:error="$e":when="$when" "$cli" "$@"
}
for e in ENOSPC EIO; do
    [ $e = ENOSPC ] && cause="disk full" || cause="I/O error"
    for j in 1 2; do
        rm -f "$dir"/r.db*
        out=$(traced 100..110 $e run "$scenario" --db "$dir/r.db" -j $j "${set_[@]}" 2>&1); rc=$?
        status=$(sqlite3 "$dir/r.db" 'SELECT status FROM runs')
        stored=$(sqlite3 "$dir/r.db" 'SELECT count(*) FROM trials')
        last=$(grep "trials committed" <<<"$out")
        echo "$e -j $j: exit $rc, status $status, $stored stored: $last"
        [ $rc -eq 3 ] || bad "$e -j $j: exit $rc, wanted 3"
        grep -q "r.db: $cause: " <<<"$out" || bad "$e -j $j: cause '$cause' not named: $out"
        [ "$status" != passed ] || bad "$e -j $j: run marked passed"
        grep -q "PASSED" <<<"$out" && bad "$e -j $j: PASSED printed"
        grep -q "^STORAGE ERROR: $stored/1356 trials committed" <<<"$out" \
            || bad "$e -j $j: last line does not count $stored/1356: $out"
        [ "$stored" -lt 1356 ] || bad "$e -j $j: every trial stored?"
    done
done
# One failed write: the run stops, the status is still recorded, and
# --resume finishes it with every trial and the wear of both parts.
rm -f "$dir"/r.db* "$dir"/c.db*
traced 100 ENOSPC run "$scenario" --db "$dir/r.db" "${set_[@]}" --quiet; rc=$?
[ $rc -eq 3 ] || bad "one ENOSPC: exit $rc"
[ "$(sqlite3 "$dir/r.db" 'SELECT status FROM runs')" = interrupted ] || bad "one ENOSPC: not interrupted"
out=$("$cli" run "$scenario" --db "$dir/r.db" --resume "${set_[@]}" 2>&1) || bad "resume: $out"
grep -q "^PASSED: 1356/1356 trials committed" <<<"$out" || bad "resume: $out"
[ "$(sqlite3 "$dir/r.db" 'SELECT status || count(*) FROM runs')" = passed1 ] || bad "resume: not one passed run"
"$cli" run "$scenario" --db "$dir/c.db" "${set_[@]}" --quiet -j 2 || bad "clean run"
w="SELECT unit, erases_update, erases_max FROM wear ORDER BY unit"
cmp <(sqlite3 "$dir/r.db" "$w") <(sqlite3 "$dir/c.db" "$w") || bad "resumed wear differs from a whole run's"
exit $fail
