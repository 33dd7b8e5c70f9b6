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
# Packaged updates: each key rule of docs/package-format.md, named.
head -c 16 /dev/zero >"$dir/k16"; head -c 20 /dev/zero >"$dir/k20"
printf '[image]\ntransform = lz4\n' >"$dir/pk-digest.ini"
expect "$dir/pk-digest.ini" "pk-digest.ini:2: image.transform: a package names its image by SHA-256"
printf '[engine]\ndigest = sha256\n[image]\ntransform = aes-ctr\n' >"$dir/pk-nokey.ini"
expect "$dir/pk-nokey.ini" "pk-nokey.ini:4: image.transform: an encrypted package needs image.encrypt_key"
printf '[engine]\ndigest = sha256\n[image]\nencrypt_key = k16\ntransform = lz4+aes\n' >"$dir/pk-unsigned.ini"
expect "$dir/pk-unsigned.ini" "pk-unsigned.ini:5: image.transform: an encrypted package must be signed"
printf '[engine]\ndigest = sha256\n[image]\nsign_key = k16\ntransform = lz4\n' >"$dir/pk-half.ini"
expect "$dir/pk-half.ini" "pk-half.ini:4: image.sign_key: sign_key and verify_key go together"
printf '[engine]\ndigest = sha256\n[image]\nencrypt_key = k20\nsign_key = k16\nverify_key = k16\ntransform = aes-ctr\n' >"$dir/pk-keysize.ini"
expect "$dir/pk-keysize.ini" "pk-keysize.ini:4: image.encrypt_key:"
expect "$dir/pk-keysize.ini" "20 bytes, not 16 or 32"
printf '[engine]\ndigest = sha256\n[image]\nold_file = nowhere.bin\ntransform = delta-lz4\n' >"$dir/pk-old.ini"
expect "$dir/pk-old.ini" "pk-old.ini:4: image.old_file: cannot open"
mkdir -p "$dir/adir"
printf '[engine]\ndigest = sha256\n[image]\nold_file = adir\ntransform = delta-lz4\n' >"$dir/pk-olddir.ini"
expect "$dir/pk-olddir.ini" "pk-olddir.ini:4: image.old_file:"
expect "$dir/pk-olddir.ini" "is not a regular file"
head -c 5000 /dev/zero >"$dir/big.bin"
printf '[device]\nsize = 4K\n[engine]\nblock_size = 1K\ndigest = sha256\n[image]\nsize = 2K\nold_file = big.bin\ntransform = delta-lz4\n' >"$dir/pk-oldbig.ini"
expect "$dir/pk-oldbig.ini" "pk-oldbig.ini:8: image.old_file: $dir/big.bin is not a regular file of 1 byte up to the 4096-byte device"
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
