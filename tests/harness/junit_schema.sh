#!/usr/bin/env bash
# junit_schema.sh CLI MUTANT_CLI SCENARIO: JUnit from a passing run (CLI)
# and a failing one (a mutant engine) validates against
# tests/harness/junit.xsd with xmllint; the failing file has one test case
# per failing trial (up to the cap), each with one failure whose body holds
# the replay command, and the count agrees with the database. The schema
# has teeth: the same file with two failures in one test case (the old
# shape) and with the timestamp removed are refused.
set -uo pipefail
cli=$1 mutant=$2 scenario=$3
xsd=$(cd "$(dirname "$0")" && pwd)/junit.xsd
command -v xmllint >/dev/null || { echo "xmllint missing (libxml2-utils)"; exit 1; }
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$cli" run "$scenario" --db "$dir/pass.db" --junit "$dir/pass.xml" --quiet \
    || fail "the real engine's run failed"
"$mutant" run "$scenario" --db "$dir/fail dir.db" --junit "$dir/fail.xml" --quiet
[ $? -eq 1 ] || fail "the mutant's run did not fail"
for f in pass fail; do
    xmllint --noout --schema "$xsd" "$dir/$f.xml" || fail "$f.xml does not validate"
done
failing=$(sqlite3 "$dir/fail dir.db" 'SELECT count(*) FROM trials WHERE failed')
cases=$(grep -c '<testcase ' "$dir/fail.xml")
fcases=$(grep -c '<failure ' "$dir/fail.xml")
more=$(grep -c 'type="more"' "$dir/fail.xml")
listed=$((fcases - more))
want=$(( failing < 200 ? failing : 200 ))
[ "$listed" -eq "$want" ] || fail "$listed failing-trial cases for $failing failing trials (cap 200)"
[ "$cases" -eq $((fcases + 1)) ] || fail "$cases cases: not one per failure plus one passing"
[ "$(grep -c 'replay: fotasim-mut-' "$dir/fail.xml")" -eq "$listed" ] \
    || fail "not every failure body carries its replay command"
grep -q "replay &apos;$dir/fail dir.db&apos; --run" "$dir/fail.xml" \
    || fail "the replay command does not shell-quote a path with a space"
grep -q 'name="[^"]* trial [0-9]* cut [0-9]* (' "$dir/fail.xml" \
    || fail "a failing case's name lacks scenario, trial and cut"
grep -q '<testsuite name="fotasim" tests="1" failures="0"' "$dir/pass.xml" \
    || fail "pass.xml is not one passing case"
echo "ok: $failing failing trials -> $listed failing cases (+$more more), pass and fail validate"

# Teeth: two failures in one test case, and no timestamp, are refused.
awk '/<failure / && !done { print; print; done = 1; next } { print }' \
    "$dir/fail.xml" >"$dir/two.xml"
if xmllint --noout --schema "$xsd" "$dir/two.xml" 2>/dev/null; then
    fail "the schema accepts two failures in one test case"
fi
sed 's/ timestamp="[^"]*"//' "$dir/pass.xml" >"$dir/nostamp.xml"
if xmllint --noout --schema "$xsd" "$dir/nostamp.xml" 2>/dev/null; then
    fail "the schema accepts a testsuite without a timestamp"
fi
echo "ok: the schema refuses two failures per case and a missing timestamp"
