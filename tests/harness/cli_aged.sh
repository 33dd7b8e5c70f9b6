#!/usr/bin/env bash
# cli_aged.sh CLI SCENARIO: clean reboots age the log until it compacts
# (the record copies' units are erased again during the uncut update), the
# real engine passes every cut, and a reboot interval no boot can finish a
# group in is refused naming the key.
set -uo pipefail
cli=$1 scenario=$2
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
"$cli" run "$scenario" --db "$dir/a.db" --quiet; rc=$?
[ $rc -eq 0 ] || { echo "FAIL: the real engine fails $scenario (exit $rc)"; exit 1; }
# Units 0-3 hold the two record copies (4 KiB each at the minimum).
n=$(sqlite3 "$dir/a.db" "SELECT min(erases_update) FROM wear WHERE unit < 4")
[ "${n:-0}" -ge 3 ] || { echo "FAIL: record units erased ${n:-0} times in the uncut update: no compaction"; exit 1; }
echo "ok: record units erased $n times in the uncut update (format + compactions)"
out=$("$cli" run "$scenario" --set cuts.reboot_every=4K --db "$dir/b.db" 2>&1); rc=$?
echo "$out"
[ $rc -eq 2 ] && grep -q "cuts.reboot_every" <<<"$out" >/dev/null ||
    { echo "FAIL: reboot_every = 4K (one erase unit) not refused with exit 2"; exit 1; }
echo "ok: refused"
