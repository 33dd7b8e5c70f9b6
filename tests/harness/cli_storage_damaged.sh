#!/usr/bin/env bash
# A damaged database, cut short or with garbage pages: run, --resume,
# replay and report each fail with exit 3 naming it corrupt; no run is
# marked passed and nothing claims a pass.
set -uo pipefail
cli=$1 scenario=$2
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }
"$cli" run "$scenario" --db "$dir/good.db" --quiet || { echo "FAIL: clean run"; exit 1; }
sqlite3 "$dir/good.db" 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null
size=$(stat -c %s "$dir/good.db")
cp "$dir/good.db" "$dir/cut.db"
truncate -s $((size / 2)) "$dir/cut.db"
cp "$dir/good.db" "$dir/junk.db"
# Every page but the first (the header and the schema) overwritten.
for ((at = 8192; at < size; at += 4096)); do
    head -c 4096 /dev/zero | tr '\0' '\245' |
        dd of="$dir/junk.db" bs=4096 seek=$((at / 4096)) conv=notrunc status=none
done
expect() { # expect DB ARGS...: exit 3 and "DB: not a database or corrupt"
    local db=$1 out rc; shift
    out=$("$cli" "$@" 2>&1); rc=$?
    [ $rc -eq 3 ] || bad "$*: exit $rc, wanted 3: $out"
    grep -qF "$db: not a database or corrupt" <<<"$out" || bad "$*: not named corrupt: $out"
    grep -q "PASSED" <<<"$out" && bad "$*: PASSED printed: $out"
    echo "ok: ${*:1:2}: $(grep -m1 corrupt <<<"$out")"
}
for db in "$dir/cut.db" "$dir/junk.db"; do
    expect "$db" run "$scenario" --db "$db" --quiet
    expect "$db" run "$scenario" --db "$db" --resume --quiet
    expect "$db" replay "$db" --run 1 --trial 3
    expect "$db" report "$db" -o "$dir/rep"
    passed=$(sqlite3 "$db" "SELECT count(*) FROM runs WHERE id > 1 AND status = 'passed'" 2>/dev/null || echo 0)
    [ "${passed:-0}" = 0 ] || bad "$db: a new run marked passed"
done
[ ! -e "$dir/rep/report.html" ] || bad "a report was left for a corrupt database"
exit $fail
