#!/usr/bin/env bash
# report_verdict.sh CLI MUTANT_CLI SCENARIO: what a reader sees first. A
# passing run's summary (fotasim run --summary) starts with the verdict
# sentence, and report.html's cover carries the same sentence, the facts
# and the 95 % bound; a failing run (a mutant engine) leads with what
# failed and the command that replays the first failing trial, in the
# summary and on the cover; an interrupted run's summary says NOT FINISHED.
set -uo pipefail
cli=$1 mutant=$2 scenario=$3
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$cli" run "$scenario" --db "$dir/p.db" --summary "$dir/p.md" --progress=none >/dev/null \
    || fail "passing run failed"
first=$(head -1 "$dir/p.md")
[[ $first == "✔ **"*" passed**: "*" of "*" power cuts recovered; worst extra download "*"; 0 silent corruptions" ]] \
    || fail "passing summary starts: $first"
grep -q "with 95 % confidence a power cut fails with probability below" "$dir/p.md" \
    || fail "no confidence statement in the passing summary"
"$cli" report "$dir/p.db" -o "$dir/p" >/dev/null || fail "report failed"
sentence=${first#*: }
grep -qF "$sentence" "$dir/p/report.html" || fail "the cover's sentence differs from the summary's"
cmp -s "$dir/p.md" "$dir/p/summary.md" || fail "run --summary and report's summary.md differ"
for fact in Scenario "What it tests" "Flash part" Image "Block size" Engine Tool "Started (UTC)"; do
    grep -q "<th>$fact</th>" "$dir/p/report.html" || fail "cover lacks $fact"
done
# The cover comes before any other section.
cover=$(grep -n 'class="cover"' "$dir/p/report.html" | head -1 | cut -d: -f1)
runs=$(grep -n '<h2>Runs</h2>' "$dir/p/report.html" | head -1 | cut -d: -f1)
[ -n "$cover" ] && [ "$cover" -lt "$runs" ] || fail "the cover is not first"
echo "ok: passing run: $first"

"$mutant" run "$scenario" --db "$dir/f.db" --summary "$dir/f.md" --progress=none >/dev/null
[ $? -eq 1 ] || fail "the mutant's run did not fail"
first=$(head -1 "$dir/f.md")
[[ $first == "✘ **"*" failed**: "*" power cuts FAILED ("* ]] || fail "failing summary starts: $first"
grep -q "^  \`$(basename "$mutant") replay $dir/f.db --run 1 --trial [0-9]*\`" "$dir/f.md" \
    || fail "the failing summary has no replay command naming the program"
grep -q "confidence" "$dir/f.md" && fail "a failing run claims a confidence bound"
"$cli" report "$dir/f.db" -o "$dir/f" >/dev/null || fail "report of the failing run failed"
grep -q 'class="verdict fail"' "$dir/f/report.html" || fail "the cover does not show a failure"
grep -q "First failing trial: [0-9]*, .*Replay it: <code>fotasim replay $dir/f.db --run 1 --trial" \
    "$dir/f/report.html" || fail "the cover lacks the first failure and its replay"
echo "ok: failing run: $first"

# An interrupted run (the run row left 'interrupted') says so first.
"$cli" run "$scenario" --db "$dir/i.db" --progress=none >/dev/null
sqlite3 "$dir/i.db" "UPDATE runs SET status='interrupted'; DELETE FROM trials WHERE trial_id >= 10"
"$cli" report "$dir/i.db" -o "$dir/i" >/dev/null || fail "report of the interrupted run failed"
first=$(head -1 "$dir/i/summary.md")
[[ $first == "⚠ **"*" interrupted**: NOT FINISHED (interrupted): 10 of "* ]] \
    || fail "interrupted summary starts: $first"
echo "ok: interrupted run: $first"
