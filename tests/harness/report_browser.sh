#!/usr/bin/env bash
# report_browser.sh CLI MUTANT_CLI SCENARIO [OUTDIR]: the report in a real
# browser, for a passing run, a failing run (a mutant engine) and a
# three-value sweep (its page led by the recommendation the terminal
# printed). Headless Chromium loads each report.html: the cover's
# verdict sentence is in the rendered page, every chart is drawn, the
# console shows no error, and no table is wider than the page at 1280 px
# (measured by a test-only wrapper page that frames the report: the report
# itself has no script). Screenshots: OUTDIR/report-{pass,fail,sweep}.png.
set -euo pipefail
cli=$1 mutant=$2 scenario=$3
out=${4:-$PWD}
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
browser=$(command -v chromium || command -v chromium-browser || true)
[ -n "$browser" ] || { echo "chromium not installed (apt-get install chromium)"; exit 1; }
fail() { echo "FAIL: $*"; exit 1; }
flags=(--headless=new --no-sandbox --disable-gpu --hide-scrollbars
       --user-data-dir="$dir/profile")

"$cli" run "$scenario" --db "$dir/pass.db" --progress=none >/dev/null
"$mutant" run "$scenario" --db "$dir/fail.db" --progress=none >/dev/null || true
# The sweep writes its own report, led by the table it printed.
"$cli" sweep "$scenario" --block-size 2K,4K,8K --db "$dir/sweep.db" --report "$dir/sweep" \
    --quiet >"$dir/sweep.out"
best=$(grep '^best: ' "$dir/sweep.out") || fail "the sweep printed no best value"

for kind in pass fail sweep; do
    [ $kind = sweep ] || "$cli" report "$dir/$kind.db" -o "$dir/$kind" >/dev/null
    page=$dir/$kind/report.html
    want=$(grep -o '<svg' "$page" | wc -l)
    timeout 120 "$browser" "${flags[@]}" --enable-logging=stderr --v=0 \
        --dump-dom "file://$page" >"$dir/$kind.dom" 2>"$dir/$kind.console"
    got=$(grep -o '<svg' "$dir/$kind.dom" | wc -l)
    [ "$want" -ge 2 ] && [ "$got" -eq "$want" ] || fail "$kind: $got charts rendered of $want"
    [ "$(grep -o '<path' "$dir/$kind.dom" | wc -l)" -ge "$want" ] || fail "$kind: empty charts"
    if grep -E 'CONSOLE|Uncaught' "$dir/$kind.console"; then fail "$kind: console output"; fi
    case $kind in
    pass) grep -q 'class="verdict pass">✔ [0-9,]* of [0-9,]* power cuts recovered' "$dir/$kind.dom" ;;
    fail) grep -q 'class="verdict fail">✘ [0-9,]* of [0-9,]* power cuts FAILED' "$dir/$kind.dom" ;;
    sweep) grep -q '<li class="pass"><a href="#run1">' "$dir/$kind.dom" &&
           grep -qF "$best" "$dir/$kind.dom" ;;
    esac || fail "$kind: the verdict is not on the rendered cover"

    # Widths, measured in the browser: the wrapper frames the report at
    # 1280 px and writes what overflows into its own DOM.
    cat >"$dir/$kind/wrap.html" <<'HTML'
<!DOCTYPE html><html><body style="margin:0">
<iframe id="f" src="report.html" style="width:1280px;height:900px;border:0"></iframe>
<pre id="out">pending</pre>
<script>
document.getElementById('f').onload = function () {
  var d = this.contentDocument, w = d.documentElement.clientWidth, bad = [];
  d.querySelectorAll('table, figure, svg, pre').forEach(function (e, i) {
    var r = e.getBoundingClientRect();
    if (r.right > w + 1) bad.push(e.tagName + '#' + i + ' right=' + Math.round(r.right));
  });
  document.getElementById('out').textContent =
    'page ' + w + ' overflow: ' + (bad.length ? bad.join(', ') : 'none');
};
</script></body></html>
HTML
    timeout 120 "$browser" "${flags[@]}" --allow-file-access-from-files \
        --virtual-time-budget=10000 --window-size=1300,1000 \
        --dump-dom "file://$dir/$kind/wrap.html" >"$dir/$kind.wrap" 2>/dev/null
    widths=$(sed -n 's/.*<pre id="out">\(.*\)<\/pre>.*/\1/p' "$dir/$kind.wrap")
    [[ $widths == "page "*" overflow: none" ]] || fail "$kind: $widths"
    timeout 120 "$browser" "${flags[@]}" --window-size=1280,2000 \
        --screenshot="$out/report-$kind.png" "file://$page" >/dev/null 2>&1
    [ -s "$out/report-$kind.png" ] || fail "$kind: no screenshot"
    size=$(stat -c %s "$page")
    echo "ok: $kind: $got charts, $widths, report.html $size bytes, $out/report-$kind.png"
done
