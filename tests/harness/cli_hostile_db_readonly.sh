#!/usr/bin/env bash
# replay, report and merge open their databases read-only: a read-only
# file in a directory that cannot be written (as another user) and a
# read-only mount both replay, report and merge; nothing is written to
# them. A run on them fails with exit 3, "read-only". The mount needs
# root and unshare (mount namespace); without them that part is skipped.
set -uo pipefail
cli=$1 scenario=$2
dir=$(mktemp -d); trap 'chmod -R u+w "$dir" 2>/dev/null; rm -rf "$dir"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }
mkdir "$dir/ro" "$dir/out"
"$cli" run "$scenario" --db "$dir/ro/r.db" --quiet || { echo "FAIL: run"; exit 1; }
sum=$(md5sum <"$dir/ro/r.db")
chmod 444 "$dir/ro/r.db"
chmod 555 "$dir/ro"
chmod 777 "$dir/out"
# As root the mode bits do not stop writes: run as nobody then.
as=()
if [ "$(id -u)" = 0 ]; then
    command -v setpriv >/dev/null && as=(setpriv --reuid=65534 --regid=65534 --clear-groups)
    chmod 755 "$dir"
fi
# uses DB: replay, report and merge of DB succeed; a run on DB fails read-only.
uses() {
    local db=$1 out rc; shift
    out=$("$@" "$cli" replay "$db" --run 1 --trial 5 2>&1) && grep -q "reproduced exactly" <<<"$out" \
        || bad "replay $db: $out"
    out=$("$@" "$cli" report "$db" -o "$dir/out/rep$#" 2>&1) || bad "report $db: $out"
    rm -f "$dir/out/m.db"
    out=$("$@" "$cli" merge "$dir/out/m.db" "$db" 2>&1) || bad "merge $db: $out"
    out=$("$@" "$cli" run "$scenario" --db "$db" --quiet 2>&1); rc=$?
    [ $rc -eq 3 ] && grep -q "$db: read-only" <<<"$out" || bad "run on $db: exit $rc: $out"
    echo "ok: $db read-only: replay, report, merge; run refused ($out)"
}
if [ "$(id -u)" != 0 ] || [ ${#as[@]} -gt 0 ]; then
    uses "$dir/ro/r.db" "${as[@]}"
else
    echo "skip: read-only file as root without setpriv"
fi
chmod 755 "$dir/ro"
[ "$(md5sum <"$dir/ro/r.db")" = "$sum" ] || bad "the read-only file changed"
# A read-only mount of the directory, in a private mount namespace.
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null &&
    unshare -m true 2>/dev/null; then
    rm -f "$dir"/ro/r.db-wal "$dir"/ro/r.db-shm
    export -f uses bad
    export cli scenario dir
    unshare -m bash -c '
        fail=0
        bad() { echo "FAIL: $*"; fail=1; }
        mount --bind "$dir/ro" "$dir/ro" && mount -o remount,ro,bind "$dir/ro" || exit 77
        touch "$dir/ro/x" 2>/dev/null && { echo "FAIL: mount not read-only"; exit 1; }
        uses "$dir/ro/r.db"
        exit $fail' ; rc=$?
    if [ $rc = 77 ]; then echo "skip: no read-only mount here"; elif [ $rc != 0 ]; then fail=1; fi
else
    echo "skip: read-only mount needs root and unshare -m"
fi
exit $fail
