#!/usr/bin/env bash
# The engine seam from the command line: the reference engines run through
# --engine and engine.kind; a broken third-party engine (offset-only saving
# progress before it programs) is caught as silent corruption, by run and
# by compare; shared objects that are not engines of this ABI, a missing
# one and an unknown name are refused with exit 2 and the reason.
# cli_engine.sh CLI SCENARIO SAVE_FIRST.so NO_ENTRY.so WRONG_ABI.so
set -uo pipefail
cli=$1 scen=$2 save_first=$3 no_entry=$4 wrong_abi=$5
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
fail() { echo "cli_engine: $*"; exit 1; }
expect() { # expect RC WANT_TEXT CMD...: exit status RC, output holds TEXT
    local want=$1 text=$2; shift 2
    "$@" >"$dir/out" 2>&1; local rc=$?
    [ "$rc" = "$want" ] || { cat "$dir/out"; fail "$*: exit $rc, $want expected"; }
    grep -qF -- "$text" "$dir/out" || { cat "$dir/out"; fail "$*: no '$text'"; }
}

# offset-only passes the smoke scenario; its run row names the engine.
expect 0 "PASSED" "$cli" run "$scen" --engine offset-only --db "$dir/o.db"
sqlite3 "$dir/o.db" 'SELECT scenario_text FROM runs' | grep -qx 'kind=offset-only' ||
    fail "the run row's scenario text does not name the engine"
# restart-zero loses the whole download at each cut: over the cost bounds.
expect 1 "over_budget" "$cli" run "$scen" --engine restart-zero --db "$dir/r.db" --quiet
# The broken engine: it claims bytes a cut kept from flash.
expect 1 "silent_corruption" "$cli" run "$scen" --engine "$save_first" --db "$dir/s.db"
n=$(sqlite3 "$dir/s.db" "SELECT count(*) FROM trials WHERE verdict = 'silent_corruption'")
[ "$n" -gt 0 ] || fail "save-first: no silent_corruption trial"
# compare: one table, both engines; an unsafe engine makes it exit 1.
expect 0 "offset-only" "$cli" compare "$scen" --engine fwresume --engine offset-only \
    --db "$dir/c.db" --quiet
grep -q '^fwresume ' "$dir/out" || fail "compare: no fwresume row"
expect 1 "UNSAFE: engine.kind = $save_first" "$cli" compare "$scen" --engine fwresume \
    --engine "$save_first" --db "$dir/c2.db" --quiet
expect 2 "two engines or more" "$cli" compare "$scen" --engine fwresume
# Not engines: each refused with its reason, nothing run.
expect 2 "nope.so: No such file" "$cli" run "$scen" --engine "$dir/nope.so" --db "$dir/x.db"
expect 2 "cannot load engine" "$cli" run "$scen" --engine "$scen" --db "$dir/x.db"
expect 2 "has no fotasim_engine()" "$cli" run "$scen" --engine "$no_entry" --db "$dir/x.db"
expect 2 "this fotasim speaks" "$cli" run "$scen" --engine "$wrong_abi" --db "$dir/x.db"
# engine.kind in a file: an unknown name names the file, line and key.
{ cat "$scen"; printf '[engine]\nkind = no-such-engine\n'; } >"$dir/bad.ini"
line=$(grep -n '^kind = no-such-engine' "$dir/bad.ini" | cut -d: -f1)
expect 2 "bad.ini:$line: engine.kind: no engine 'no-such-engine'" \
    "$cli" run "$dir/bad.ini" --db "$dir/x.db"
[ ! -e "$dir/x.db" ] || fail "a refused engine left a database"
echo "ok: engines through --engine, engine.kind and compare"
