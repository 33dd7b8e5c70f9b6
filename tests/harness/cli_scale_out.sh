#!/usr/bin/env bash
# Scale-out: -j N gives the same verdict for every trial as -j 1; shards
# run through GNU parallel (the recipe in docs/scale-out.md) and merged
# equal the single-machine run trial by trial; merge refuses what it must;
# --shard auto reads the job engines' variables.
set -euo pipefail
cli=$1 scenario=$2
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
set_=(--set image.size=128K --quiet)
q="SELECT trial_id, seed, depth, cut1, cut2, verdict, failed, bytes_downloaded,
   bytes_redownloaded, blocks_redownloaded, boots, erases, programs,
   recover_ns, scan_ns FROM trials ORDER BY trial_id"
same() { cmp <(sqlite3 "$1" "$q") <(sqlite3 "$2" "$q") >/dev/null; }

"$cli" run "$scenario" --db "$dir/one.db" "${set_[@]}"
"$cli" run "$scenario" --db "$dir/j2.db" -j 2 "${set_[@]}"
"$cli" run "$scenario" --db "$dir/j3.db" -j 3 "${set_[@]}"
same "$dir/one.db" "$dir/j2.db" && same "$dir/one.db" "$dir/j3.db"
echo "ok: -j 2 and -j 3 give the same $(sqlite3 "$dir/one.db" 'SELECT count(*) FROM trials') trials as -j 1"

# The GNU parallel recipe: N shards on this machine, then merge.
parallel --will-cite "$cli" run "$scenario" --shard {}/3 --db "$dir/s{}.db" \
    "${set_[@]}" ::: 0 1 2
"$cli" merge "$dir/merged.db" "$dir/s0.db" "$dir/s1.db" "$dir/s2.db"
same "$dir/one.db" "$dir/merged.db"
[ "$(sqlite3 "$dir/merged.db" 'SELECT status FROM runs')" = passed ]
echo "ok: 3 shards via GNU parallel, merged, equal the single run"

refuse() { # refuse PATTERN merge-args...
    local pat=$1; shift
    if out=$("$cli" merge "$@" 2>&1); then echo "FAIL: merge accepted: $*"; exit 1; fi
    grep -q -- "$pat" <<<"$out" || { echo "FAIL: '$out' lacks '$pat'"; exit 1; }
    echo "ok: refused: $out"
}
refuse "missing shard(s) of 3: 1" "$dir/m1.db" "$dir/s0.db" "$dir/s2.db"
refuse "given twice" "$dir/m2.db" "$dir/s0.db" "$dir/s0.db" "$dir/s1.db" "$dir/s2.db"
"$cli" run "$scenario" --db "$dir/other.db" --shard 1/3 --seed 5 "${set_[@]}"
refuse "not a shard of the same run" "$dir/m3.db" "$dir/s0.db" "$dir/other.db" "$dir/s2.db"
sqlite3 "$dir/s1.db" "UPDATE runs SET status='running'"
refuse "is running" "$dir/m4.db" "$dir/s0.db" "$dir/s1.db" "$dir/s2.db"
refuse "exists" "$dir/merged.db" "$dir/s0.db"

# --shard auto, as a Slurm array task and a Kubernetes Indexed Job see it.
SLURM_ARRAY_TASK_ID=2 SLURM_ARRAY_TASK_COUNT=3 SLURM_ARRAY_TASK_MIN=0 \
    "$cli" run "$scenario" --shard auto --db "$dir/auto.db" "${set_[@]}"
[ "$(sqlite3 "$dir/auto.db" 'SELECT shard_index || "/" || shard_count FROM runs')" = 2/3 ]
JOB_COMPLETION_INDEX=0 FOTASIM_SHARDS=3 \
    "$cli" run "$scenario" --shard auto --db "$dir/k8s.db" "${set_[@]}"
[ "$(sqlite3 "$dir/k8s.db" 'SELECT shard_index || "/" || shard_count FROM runs')" = 0/3 ]
if "$cli" run "$scenario" --shard auto --db "$dir/none.db" "${set_[@]}" 2>/dev/null; then
    echo "FAIL: --shard auto without variables accepted"; exit 1
fi
echo "ok: --shard auto"
