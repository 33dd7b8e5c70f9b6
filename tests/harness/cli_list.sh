#!/usr/bin/env bash
# Every shipped scenario parses; presets are listed.
set -euo pipefail
out=$("$1" list --dir "$2")
echo "$out"
! grep -q "invalid" <<<"$out"
grep -q "w25n01gv" <<<"$out"
[ "$(grep -c '\.ini' <<<"$out")" -ge 9 ]
