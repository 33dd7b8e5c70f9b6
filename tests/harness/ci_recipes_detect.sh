#!/usr/bin/env bash
# ci_recipes_detect.sh SRC BUILD SCENARIO: the recipe test has teeth. A
# GitHub recipe whose merge step looks for the shards where the download
# did not put them, and a GitLab recipe whose merge names the wrong files,
# must each make ci_recipes.py fail.
set -uo pipefail
src=$1 build=$2 scenario=$3
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
sed 's|scripts/merge results/all.db shards/shard-\*.db|scripts/merge results/all.db shard-*.db|' \
    "$src/docs/ci/github-workflow.yml" >"$dir/gh.yml"
cmp -s "$dir/gh.yml" "$src/docs/ci/github-workflow.yml" && { echo "FAIL: the GitHub doctoring changed nothing"; exit 1; }
if python3 "$here/ci_recipes.py" github "$src" "$build" "$scenario" "$dir/gh.yml" >"$dir/gh.log" 2>&1; then
    cat "$dir/gh.log"; echo "FAIL: a broken GitHub recipe passed"; exit 1
fi
sed 's|scripts/merge results/all.db results/shard-\*.db|scripts/merge results/all.db results/nor-*.db|' \
    "$src/docs/ci/gitlab-ci.yml" >"$dir/gl.yml"
cmp -s "$dir/gl.yml" "$src/docs/ci/gitlab-ci.yml" && { echo "FAIL: the GitLab doctoring changed nothing"; exit 1; }
if python3 "$here/ci_recipes.py" gitlab "$src" "$build" "$scenario" "$dir/gl.yml" >"$dir/gl.log" 2>&1; then
    cat "$dir/gl.log"; echo "FAIL: a broken GitLab recipe passed"; exit 1
fi
echo "ok: broken recipes fail: $(tail -1 "$dir/gh.log"); $(tail -1 "$dir/gl.log")"
