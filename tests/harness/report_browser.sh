#!/usr/bin/env bash
# The report in a real browser: headless Chromium loads report.html, every
# chart is in the rendered DOM, the console shows no error, and a
# screenshot is saved (report-screenshot.png in the test's directory).
set -euo pipefail
cli=$1 scenario=$2
out=${3:-$PWD}
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
browser=$(command -v chromium || command -v chromium-browser || true)
[ -n "$browser" ] || { echo "chromium not installed (apt-get install chromium)"; exit 1; }
"$cli" sweep "$scenario" --block-size 2K,4K,8K --db "$dir/r.db" --quiet >/dev/null
"$cli" report "$dir/r.db" -o "$dir/out" >/dev/null
page="file://$dir/out/report.html"
flags=(--headless=new --no-sandbox --disable-gpu --hide-scrollbars
       --user-data-dir="$dir/profile")
want=$(grep -o '<svg' "$dir/out/report.html" | wc -l)
timeout 120 "$browser" "${flags[@]}" --enable-logging=stderr --v=0 \
    --dump-dom "$page" >"$dir/dom.html" 2>"$dir/console.log"
got=$(grep -o '<svg' "$dir/dom.html" | wc -l)
echo "charts: $got rendered of $want"
[ "$want" -ge 8 ] && [ "$got" -eq "$want" ]
# Every chart has drawn content (gnuplot paths) in the rendered DOM.
[ "$(grep -o '<path' "$dir/dom.html" | wc -l)" -ge "$want" ]
if grep -E 'CONSOLE|Uncaught' "$dir/console.log"; then
    echo "FAIL: the page logged to the console"; exit 1
fi
timeout 120 "$browser" "${flags[@]}" --window-size=1100,2400 \
    --screenshot="$out/report-screenshot.png" "$page" >/dev/null 2>&1
[ -s "$out/report-screenshot.png" ]
echo "ok: screenshot $out/report-screenshot.png"
