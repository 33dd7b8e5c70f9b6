#!/usr/bin/env bash
# Bad input: file:line: key: reason and exit 2, for each kind of mistake.
set -uo pipefail
cli=$1 good=$2
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
fail=0
expect() { # expect FILE PATTERN
    out=$("$cli" run "$1" --db "$dir/x.db" 2>&1); rc=$?
    if [ $rc -ne 2 ] || ! grep -qF -- "$2" <<<"$out"; then
        echo "FAIL: $1: exit $rc, wanted 2 and '$2'; got: $out"; fail=1
    else
        echo "ok: $out"
    fi
}
printf '[engine]\nblock_size = 4K\nblok = 3\n' >"$dir/key.ini"
expect "$dir/key.ini" "key.ini:3: engine.blok: unknown key"
printf '[image]\n\nsize = lots\n' >"$dir/num.ini"
expect "$dir/num.ini" "num.ini:3: image.size: 'lots' is not a size"
printf '[faults]\ntorn = sometimes\n' >"$dir/enum.ini"
expect "$dir/enum.ini" "enum.ini:2: faults.torn: 'sometimes' is not one of none|all|prefix|random"
printf '[device]\npreset = w25q128\nsize = 1M\n[image]\nsize = 4M\n' >"$dir/fit.ini"
expect "$dir/fit.ini" "fit.ini:5: image.size: image 4194304 bytes"
printf '[device]\nprog_size = 16\n[engine]\nblock_size = 1000\n' >"$dir/geo.ini"
expect "$dir/geo.ini" "geo.ini:4: engine.block_size: 1000 is not a power of two"
expect "$dir/missing.ini" "missing.ini: cannot open"
# A database that is not ours, and a corrupt one.
sqlite3 "$dir/foreign.db" 'CREATE TABLE t(x)'
out=$("$cli" run "$good" --db "$dir/foreign.db" 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q "not a fotasim database" <<<"$out" && echo "ok: $out" || { echo "FAIL foreign: $out"; fail=1; }
head -c 5000 /dev/urandom >"$dir/corrupt.db"
out=$("$cli" run "$good" --db "$dir/corrupt.db" 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q "not a database or corrupt" <<<"$out" && echo "ok: $out" || { echo "FAIL corrupt: $out"; fail=1; }
exit $fail
