#!/usr/bin/env bash
# docs_keys.sh CLI DOC: the key tables in DOC (between the keys markers)
# must be exactly `fotasim list --keys --markdown`: the docs come from the
# parser's own table, so a key added without docs, or docs left behind,
# fails here.
set -uo pipefail
cli=$1 doc=$2
want=$("$cli" list --keys --markdown) || { echo "FAIL: fotasim list --keys"; exit 1; }
have=$(sed -n '/^<!-- keys: /,/^<!-- \/keys -->/p' "$doc" | sed '1d;$d')
if [ "$want" != "$have" ]; then
    echo "FAIL: $doc's key tables differ from 'fotasim list --keys --markdown':"
    diff <(echo "$have") <(echo "$want")
    exit 1
fi
echo "ok: $(grep -c '^| [a-z_0-9]* |' <<<"$want") keys documented as parsed"
