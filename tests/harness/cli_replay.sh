#!/usr/bin/env bash
# A stored trial replays exactly, with device dumps before and after.
set -euo pipefail
cli=$1 scenario=$2
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
"$cli" run "$scenario" --db "$dir/r.db" --quiet --seed 99
for t in 0 17 123 300; do
    out=$("$cli" replay "$dir/r.db" --run 1 --trial $t \
          --dump-before "$dir/b.img" --dump-after "$dir/a.img")
    echo "$out"
    grep -q "reproduced exactly" <<<"$out"
    [ -s "$dir/b.img" ] && [ -s "$dir/a.img" ]
done
# Without a database: a scenario and explicit cut points (nested).
"$cli" replay "$scenario" --cut 40,5
