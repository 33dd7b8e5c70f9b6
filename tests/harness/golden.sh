#!/usr/bin/env bash
# golden.sh CLI SCENARIO DIGEST_FILE [--update]: run SCENARIO and compare
# its trial table, trial by trial, with the digest stored in DIGEST_FILE
# (tests/golden/<name>.digest). A refactor of the harness must leave every
# shipped scenario's results identical; a deliberate change of behaviour
# regenerates the digests with scripts/golden and says why in its commit.
#
# The digest covers every column of every trial but the host's wall time,
# in trial order, plus the run's boundaries and planned trials.
set -uo pipefail
cli=$1 scenario=$2 file=$3 mode=${4:-check}
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
"$cli" run "$scenario" --db "$dir/r.db" --quiet >"$dir/out" 2>&1
rc=$?
if [ $rc -ne 0 ] && [ $rc -ne 1 ]; then
    cat "$dir/out"; echo "golden: $scenario: fotasim run exit $rc"; exit 1
fi
cols="trial_id, seed, depth, cut1, cut2, cut3, cut4, cut1_op, cut1_addr,
      cut1_area, verdict, verdict_code, failed, engine_error, violation,
      detail, bytes_downloaded, bytes_redownloaded, blocks_redownloaded,
      boots, erases, programs, recover_ns, scan_ns, blocks_resumed,
      false_claim"
table=$(sqlite3 -bail "$dir/r.db" \
    "SELECT boundaries, trials_planned, status FROM runs;
     SELECT $cols FROM trials ORDER BY trial_id;") || {
    echo "golden: $scenario: cannot read the run's database"; exit 1; }
trials=$(sqlite3 "$dir/r.db" 'SELECT count(*) FROM trials')
digest=$(printf '%s\n' "$table" | sha256sum | cut -d' ' -f1)
line="$(basename "$scenario" .ini) $trials $digest"
if [ "$mode" = --update ]; then
    printf '%s\n' "$line" >"$file"
    echo "golden: wrote $file: $line"
    exit 0
fi
[ -f "$file" ] || { echo "golden: no $file (scripts/golden writes it)"; exit 1; }
want=$(cat "$file")
if [ "$line" != "$want" ]; then
    echo "golden: $scenario: results differ from the stored ones"
    echo "  stored: $want"
    echo "  now:    $line"
    echo "  (a deliberate change of behaviour: scripts/golden, and say why)"
    exit 1
fi
echo "golden: $line: identical"
