# Sourced by the CLI tests that stop a run mid-way.
# wait_for_trials DB: return once DB holds committed trials (at most 10 s),
# so a signal sent next lands in the middle of the run.
wait_for_trials() {
    local n
    for _ in $(seq 100); do
        n=$(sqlite3 "$1" 'SELECT count(*) FROM trials' 2>/dev/null || echo 0)
        [ "${n:-0}" -gt 0 ] && return 0
        sleep 0.1
    done
}
