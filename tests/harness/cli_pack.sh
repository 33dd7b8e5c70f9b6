#!/usr/bin/env bash
# fotasim pack / inspect through the real CLI: every transform packed,
# inspected, decoded and checked block by block; every refusal named with
# exit 2 and no file left; tampering, a wrong key and a wrong base found
# with exit 1. The firmware is the fotasim binary itself (real code).
set -uo pipefail
cli=$1 keys=$2
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
fail=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }

fw=$dir/fw.bin
head -c 400000 "$cli" >"$fw"
head -c 300000 "$cli" >"$dir/old.bin"
cp "$dir/old.bin" "$dir/new.bin"
# A small change in the middle: eight bytes.
printf 'XXXXXXXX' | dd of="$dir/new.bin" bs=1 seek=150000 conv=notrunc 2>/dev/null

# pack ARGS... -> PACKAGE; then inspect with CHECK_ARGS must say every
# block decodes to its hash and exit 0.
packs() { # name inspect-args -- pack-args
    local name=$1 iargs=$2; shift 3
    if ! out=$("$cli" pack "$@" -o "$dir/$name.pkg" 2>&1); then
        bad "pack $name: $out"; return
    fi
    # shellcheck disable=SC2086
    ins=$("$cli" inspect "$dir/$name.pkg" $iargs 2>&1); rc=$?
    n=$(sed -n 's/.* in \([0-9]*\) blocks of.*/\1/p' <<<"$ins")
    if [ $rc -ne 0 ] || ! grep -q "$n of $n decoded and checked, 0 wrong" <<<"$ins"; then
        bad "inspect $name: exit $rc: $ins"
    else
        ok "$name: $out"
    fi
}
k=$keys
packs plain "" -- "$fw"
packs lz4 "" -- "$fw" --compress lz4 --block-size 1K
packs aes "--decrypt-key $k/test-aes128.key --verify-key $k/test-p256.pub.pem" -- \
    "$fw" --encrypt-key "$k/test-aes128.key" --sign-key "$k/test-p256.pem"
packs lz4aes "--decrypt-key $k/test-aes256.key --verify-key $k/test-p256.pub.pem" -- \
    "$fw" --compress lz4 --encrypt-key "$k/test-aes256.key" --sign-key "$k/test-p256.pem" --block-size 8K
packs delta "--old $dir/old.bin --verify-key $k/test-p256.pub.pem" -- \
    "$dir/new.bin" --delta-from "$dir/old.bin" --sign-key "$k/test-p256.pem" --window 64K

# The delta of an 8-byte change is a sliver of the image.
size=$(stat -c %s "$dir/delta.pkg")
if [ "$size" -lt 30000 ]; then ok "delta of an 8-byte change: $size bytes for 300000"
else bad "delta of an 8-byte change: $size bytes"; fi
grep -q "signature  valid" <<<"$("$cli" inspect "$dir/lz4aes.pkg" --verify-key "$k/test-p256.pub.pem")" \
    && ok "signature valid" || bad "signature not shown valid"

# Refusals: exit 2, the reason, no package (nor temporary file) left.
refused() { # pattern -- pack-args
    local pat=$1; shift 2
    out=$("$cli" pack "$@" -o "$dir/r.pkg" 2>&1); rc=$?
    left=$(ls "$dir"/r.pkg* 2>/dev/null)
    if [ $rc -ne 2 ] || ! grep -qF -- "$pat" <<<"$out" || [ -n "$left" ]; then
        bad "refusal '$pat': exit $rc, left '$left': $out"
    else
        ok "refused: $out"
    fi
}
refused "firmware $dir/none.bin: No such file" -- "$dir/none.bin"
head -c 24 /dev/zero >"$dir/k24"
refused "is 24 bytes: 16 (AES-128) or 32 (AES-256)" -- "$fw" \
    --encrypt-key "$dir/k24" --sign-key "$k/test-p256.pem"
refused "an encrypted package must be signed" -- "$fw" --encrypt-key "$k/test-aes128.key"
refused "not an ECDSA P-256 (secp256r1) key" -- "$fw" --sign-key "$k/test-p384.pem"
refused "block size 3000: a power of two" -- "$fw" --block-size 3000
refused "delta window 1000" -- "$fw" --delta-from "$dir/old.bin" --window 1000
: >"$dir/empty.bin"
refused "firmware $dir/empty.bin is empty" -- "$dir/empty.bin"
refused "--compress 'zstd': lz4 is the one" -- "$fw" --compress zstd
refused "signing key $dir/nokey.pem" -- "$fw" --sign-key "$dir/nokey.pem"

# Malformed packages: exit 2 and the named field.
malformed() { # file pattern
    out=$("$cli" inspect "$1" 2>&1); rc=$?
    if [ $rc -ne 2 ] || ! grep -qF -- "$2" <<<"$out"; then
        bad "inspect $1: exit $rc, wanted 2 and '$2': $out"
    else
        ok "malformed: $out"
    fi
}
head -c 30 "$dir/lz4.pkg" >"$dir/t30.pkg"
malformed "$dir/t30.pkg" "truncated: 30 bytes, a package header is 64"
head -c 100000 "$dir/lz4.pkg" >"$dir/t100k.pkg"
malformed "$dir/t100k.pkg" "do not end at the package's end (100000 bytes"
cp "$dir/lz4.pkg" "$dir/magic.pkg"
printf 'X' | dd of="$dir/magic.pkg" bs=1 conv=notrunc 2>/dev/null
malformed "$dir/magic.pkg" "header, offset 0 (magic)"
cp "$dir/lz4.pkg" "$dir/crc.pkg"
printf 'X' | dd of="$dir/crc.pkg" bs=1 seek=9 conv=notrunc 2>/dev/null
malformed "$dir/crc.pkg" "offset 60 (header CRC-32)"
# Entry 3's stored length past LZ4's bound for a 1 KiB block.
cp "$dir/lz4.pkg" "$dir/len.pkg"
printf '\xff\xff\x00\x00' | dd of="$dir/len.pkg" bs=1 seek=$((64 + 68 + 40 * 3 + 4)) conv=notrunc 2>/dev/null
malformed "$dir/len.pkg" "manifest entry 3, offset 256 (stored length)"
malformed "$dir/none.pkg" "package $dir/none.pkg: No such file"

# Found wrong: exit 1.
wrong() { # what pattern args...
    local what=$1 pat=$2; shift 2
    out=$("$cli" inspect "$@" 2>&1); rc=$?
    if [ $rc -ne 1 ] || ! grep -qF -- "$pat" <<<"$out"; then
        bad "$what: exit $rc, wanted 1 and '$pat': $out"
    else
        ok "$what found"
    fi
}
cp "$dir/lz4aes.pkg" "$dir/tamper.pkg"
printf '\x01' | dd of="$dir/tamper.pkg" bs=1 seek=200 conv=notrunc 2>/dev/null
wrong "a tampered manifest" "signature  INVALID" "$dir/tamper.pkg" \
    --verify-key "$k/test-p256.pub.pem"
cp "$dir/lz4.pkg" "$dir/flip.pkg"
# The last bytes of an LZ4 block are literals: one changed is a block
# that decodes, to other bytes.
at=$(( $(stat -c %s "$dir/lz4.pkg") - 3 ))
byte=$(od -An -tu1 -j "$at" -N1 "$dir/lz4.pkg" | tr -d ' ')
printf "\\x$(printf %02x $(( byte ^ 0xff )))" | dd of="$dir/flip.pkg" bs=1 seek="$at" conv=notrunc 2>/dev/null
wrong "a changed block" "DECODES TO OTHER BYTES" "$dir/flip.pkg"
head -c 32 /dev/zero >"$dir/zero.key"
wrong "a wrong AES key" "the LZ4 stream" "$dir/lz4aes.pkg" --decrypt-key "$dir/zero.key"
wrong "another base" "NOT the package's base" "$dir/delta.pkg" --old "$fw"
exit $fail
