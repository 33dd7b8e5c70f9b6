#!/usr/bin/env bash
# cli_pkg_old_file.sh CLI SCENARIO: a delta against a previous release
# read from image.old_file. The new image is a code-like file; the old one
# is the same with 4 bytes inserted mid-way (every later address shifts,
# as a one-constant change does to a linked binary). The run must pass
# exhaustive single-cut torture and its uncut delta download must stay
# under 10 % of the image; an unrelated old file must cost far more (the
# key is read), and a wrong base in the slot must be refused.
set -uo pipefail
cli=$1 scenario=$2
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
fail=0
# 64 KiB of seeded words from a small vocabulary, LZ4 ratio about code's.
python3 - "$dir" <<'PY'
import random, sys
d = sys.argv[1]
r = random.Random(7)
vocab = [r.getrandbits(32) for _ in range(64)]
new = bytearray()
while len(new) < 65536:
    w = vocab[r.randrange(64)]
    if r.randrange(5) == 0:
        w ^= r.getrandbits(16) << 16
    new += w.to_bytes(4, "little")
new = bytes(new[:65536])
open(d + "/new.bin", "wb").write(new)
open(d + "/old.bin", "wb").write(new[:30000] + b"\x00\xbf\x00\xbf" + new[30000:])
open(d + "/other.bin", "wb").write(random.Random(8).randbytes(65536))
PY
run() { # run NAME OLD [SET...]: exit code, output in $dir/NAME.out
    local name=$1 old=$2; shift 2
    "$cli" run "$scenario" --db "$dir/$name.db" --set image.size=64K \
        --set image.file="$dir/new.bin" --set image.old_file="$old" "$@" >"$dir/$name.out" 2>&1
}
downloaded() { sed -n 's/.*uncut update: \([0-9]*\) bytes downloaded.*/\1/p' "$dir/$1.out"; }

run shifted "$dir/old.bin"; rc=$?
got=$(downloaded shifted)
echo "shifted base: exit $rc, uncut delta ${got:-?} bytes of 65536"
if [ $rc -ne 0 ] || [ -z "$got" ] || [ "$got" -ge 6554 ]; then
    echo "FAIL: wanted a pass and under 6554 bytes (10 %)"; cat "$dir/shifted.out"; fail=1
fi
run other "$dir/other.bin"; rc=$?
far=$(downloaded other)
echo "unrelated base: exit $rc, uncut delta ${far:-?} bytes"
if [ $rc -ne 0 ] || [ -z "$far" ] || [ -z "$got" ] || [ "$far" -le $((4 * got)) ]; then
    echo "FAIL: an unrelated old file must pass and cost over 4x the shifted one"; fail=1
fi
run wrong "$dir/old.bin" --set image.old_slot=other; rc=$?
echo "wrong base in the slot: exit $rc: $(tail -1 "$dir/wrong.out")"
if [ $rc -ne 2 ] || ! grep -q "refused" "$dir/wrong.out"; then
    echo "FAIL: a delta onto the wrong base must be refused"; fail=1
fi
exit $fail
