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
expect "$dir/enum.ini" "enum.ini:2: faults.torn: 'sometimes' is not one of none|all|prefix|random|faint"
printf '[device]\npreset = w25q128\nsize = 1M\n[image]\nsize = 4M\n' >"$dir/fit.ini"
expect "$dir/fit.ini" "fit.ini:5: image.size: image 4194304 bytes"
printf '[device]\nprog_size = 16\n[engine]\nblock_size = 1000\n' >"$dir/geo.ini"
expect "$dir/geo.ini" "geo.ini:4: engine.block_size: 1000 is not a power of two"
expect "$dir/missing.ini" "missing.ini: cannot open"
# Values that crashed, hung or were silently taken before (issue audit).
printf '' >"$dir/empty.ini"
expect "$dir/empty.ini" "empty.ini: no settings: the file is empty or holds only comments"
printf '[scenario]\ndescription = d\n  seed = 5\n' >"$dir/indent.ini"
expect "$dir/indent.ini" "indent.ini:3: indented line"
printf '[device]\npage_size = 0\n' >"$dir/page0.ini"
expect "$dir/page0.ini" "page0.ini:2: device.page_size: '0' is out of range"
printf '[device]\npreset = w25n01gv\nfactory_bad = 4294967294\n' >"$dir/bad.ini"
expect "$dir/bad.ini" "bad.ini:3: device.factory_bad: '4294967294' is out of range"
printf '[link]\nlatency = inf\n' >"$dir/inf.ini"
expect "$dir/inf.ini" "inf.ini:2: link.latency: 'inf' is not a duration"
printf '[engine]\n\033[2Jkey = 1\n' >"$dir/esc.ini"
expect "$dir/esc.ini" 'esc.ini:2: engine.\x1b[2Jkey: unknown key'
out=$("$cli" run "$dir/esc.ini" --db "$dir/x.db" 2>&1)
if grep -q $'\033' <<<"$out"; then echo "FAIL: raw escape byte echoed"; fail=1; fi
# Strict numbers on the command line: exit 2 naming the option.
expect_cli() { # expect_cli PATTERN ARGS...
    local want=$1; shift
    out=$("$cli" "$@" 2>&1); rc=$?
    if [ $rc -ne 2 ] || ! grep -qF -- "$want" <<<"$out"; then
        echo "FAIL: fotasim $*: exit $rc, wanted 2 and '$want'; got: $out"; fail=1
    else
        echo "ok: $out"
    fi
}
expect_cli "--seed abc: expected a whole number" run "$good" --db "$dir/x.db" --seed abc
expect_cli "--seed -1: expected a whole number" run "$good" --db "$dir/x.db" --seed -1
expect_cli "-j 2x: expected a whole number from 1 to 64" run "$good" --db "$dir/x.db" -j 2x
expect_cli "--trial abc: expected a whole number" replay "$dir/x.db" --run 1 --trial abc
expect_cli "--run 1x: expected a whole number" replay "$dir/x.db" --run 1x --trial 0
expect_cli "--cut 3,x: expected N[,M...]" replay "$good" --cut 3,x
expect_cli "--cut-rate nan: expected a number" sweep "$good" --block-size 4K --cut-rate nan
expect_cli "--set device.page_size: '0' is out of range" run "$good" --db "$dir/x.db" --set device.page_size=0

# A database that is not ours, and a corrupt one.
sqlite3 "$dir/foreign.db" 'CREATE TABLE t(x)'
out=$("$cli" run "$good" --db "$dir/foreign.db" 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q "not a fotasim database" <<<"$out" && echo "ok: $out" || { echo "FAIL foreign: $out"; fail=1; }
head -c 5000 /dev/urandom >"$dir/corrupt.db"
out=$("$cli" run "$good" --db "$dir/corrupt.db" 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q "not a database or corrupt" <<<"$out" && echo "ok: $out" || { echo "FAIL corrupt: $out"; fail=1; }
exit $fail
