# Scenario 2, start lateness (also the trickle of scenario 3): a pgbench driver inserts once tasks due 1..2000 ms later
# at a steady rate, beside a few '* * * * * *' loop tasks; lateness is started_at - scheduled_for from chronos.runs.
# The peer: pg_cron jobs '* * * * *', lateness = job start - the minute boundary. Sourced by bench/run.sh.

TICK_COMMAND="'INSERT INTO sink VALUES (-1, clock_timestamp())'"

# Percentiles of the lateness (ms) of runs selected by a WHERE clause (from chronos.runs, or the table given second):
# "count p50 p95 p99 max".
chronos_lateness_stats() {
    csql -F ' ' -c "SELECT count(*),
                           round(percentile_cont(0.50) WITHIN GROUP (ORDER BY ms)::numeric, 3),
                           round(percentile_cont(0.95) WITHIN GROUP (ORDER BY ms)::numeric, 3),
                           round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)::numeric, 3),
                           round(max(ms)::numeric, 3)
                      FROM (SELECT extract(epoch FROM started_at - scheduled_for) * 1000 AS ms
                              FROM ${2:-chronos.runs} r WHERE $1) s"
}

put_lateness() {
    local key=$1 count p50 p95 p99 max
    read -r count p50 p95 p99 max <<<"$2"
    put "${key}_count" "$count"
    put "${key}_p50_ms" "$p50"
    put "${key}_p95_ms" "$p95"
    put "${key}_p99_ms" "$p99"
    put "${key}_max_ms" "$max"
}

# chronos_lateness KEY RATE SECONDS LOOP_TASKS: runs the driver for SECONDS at RATE once tasks a second.
chronos_lateness() {
    local key=$1 rate=$2 seconds=$3 loops=$4 first_run driver first last
    driver=$(pg_file lateness.pgbench <<'EOF'
\set ms random(1, 2000)
INSERT INTO chronos.tasks (command, start_time)
VALUES ('INSERT INTO sink VALUES (-1, clock_timestamp())', now() + :ms * interval '1 millisecond');
EOF
)
    set_chronos_setting synchronous_commit off
    first_run=$(csql -c "SELECT coalesce(max(run_id), 0) FROM chronos.runs")
    first=$(observe csql)
    watch_start "${key}_procs" "$CHRONOS_DIR" 'pg_chronos' 1
    if [ "$loops" -gt 0 ]; then
        csql -c "INSERT INTO chronos.tasks (name, schedule, command)
                 SELECT 'tick' || g, '* * * * * *', $TICK_COMMAND FROM generate_series(1, $loops) g"
    fi
    # beside the driver, a plain process sleeping until deadlines drawn the same way: the machine's own wake-up lateness
    python3 "$BENCH_DIR/timer_floor.py" "$rate" "$seconds" "${key}_floor" >>"$RESULTS" &
    local floor=$!
    BACKGROUND_PIDS+=("$floor")
    flush_floor_start "${key}_flush" "$seconds"
    as_pg_user "$PG_BIN/pgbench" -h "$CHRONOS_DIR" -p "$CHRONOS_PORT" -n -c 1 -j 1 -R "$rate" -T "$seconds" \
        -f "$driver" bench >"$DATA/$key.pgbench.log" 2>&1
    sleep 2.5   # the last task inserted is due at most 2 s later
    wait "$floor"
    flush_floor_wait
    set_chronos_setting synchronous_commit DEFAULT
    [ "$loops" -gt 0 ] && csql -c "DELETE FROM chronos.tasks WHERE name LIKE 'tick%'"
    sleep 0.5
    watch_stop "${key}_procs"
    # Commits in database bench, the executors' own once they have exited (so reported their counts): take out the
    # driver's (one per task, one at connection) and the observing sessions' (the first observation, the loop tasks'
    # INSERT and DELETE, and the two sessions that end the executors).
    end_processes_and_wait csql 'pg_chronos worker'
    last=$(observe csql)
    local inserted runs sessions
    inserted=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$DATA/$key.pgbench.log")
    runs=$(csql -c "SELECT count(*) FROM chronos.runs WHERE run_id > $first_run")
    sessions=$(( 3 + (loops > 0 ? 2 : 0) ))
    put "${key}_commits_per_run" "$(awk -v a="${first% *}" -v b="${last% *}" -v o="$(get observer_commits_chronos)" \
        -v s="$sessions" -v d="$((inserted + 1))" -v n="$runs" 'BEGIN { printf "%.2f", (b - a - o * s - d) / n }')"
    put "${key}_cpu_ms_per_run" "$(awk -v c="$(get "${key}_procs_cpu_seconds")" -v n="$runs" 'BEGIN { printf "%.3f", c * 1000 / n }')"
    put_lateness "$key" "$(chronos_lateness_stats "run_id > $first_run")"
    put_lateness "${key}_once" "$(chronos_lateness_stats "run_id > $first_run AND task_name IS NULL")"
    [ "$loops" -gt 0 ] && put_lateness "${key}_loop" "$(chronos_lateness_stats "run_id > $first_run AND task_name LIKE 'tick%'")"
    put "${key}_inserted" "$inserted"
    put "${key}_not_run" "$(csql -c "SELECT count(*) FROM chronos.tasks WHERE status = 'scheduled' AND name IS NULL AND next_exec_time < now()")"
    put "${key}_failed" "$(csql -c "SELECT count(*) FROM chronos.runs WHERE run_id > $first_run AND status <> 'succeeded'")"
    put "${key}_executors" "$(csql -c "SELECT count(DISTINCT pid) FROM chronos.runs WHERE run_id > $first_run")"
    csql -c "SELECT extract(epoch FROM started_at - scheduled_for) * 1000 FROM chronos.runs WHERE run_id > $first_run
             ORDER BY 1" >"$DATA/$key.txt"
    printf '   %s: %s runs, lateness p50 %s ms, p95 %s ms, p99 %s ms, max %s ms (a plain sleeping process: p50 %s ms, p99 %s ms)\n' \
        "$key" "$(get "${key}_count")" "$(get "${key}_p50_ms")" "$(get "${key}_p95_ms")" "$(get "${key}_p99_ms")" \
        "$(get "${key}_max_ms")" "$(get "${key}_floor_p50_ms")" "$(get "${key}_floor_p99_ms")"
}

# cron_lateness KEY JOBS BOUNDARIES: JOBS pg_cron jobs '* * * * *' through BOUNDARIES minute boundaries.
cron_lateness() {
    local key=$1 jobs=$2 boundaries=$3 boundary
    reset_cron
    set_setting rsql synchronous_commit off
    rsql -c "SELECT count(cron.schedule('tick' || g, '* * * * *', $TICK_COMMAND)) FROM generate_series(1, $jobs) g" >/dev/null
    boundary=$(next_minute 5)
    sleep_until $(( boundary + 60 * (boundaries - 1) + 3 ))
    rsql -c "DELETE FROM cron.job" >/dev/null
    wait_for_cron_workers
    set_setting rsql synchronous_commit DEFAULT
    # only the armed boundaries: a job created in the first moments of a minute may also run for that minute
    local where="status = 'succeeded' AND start_time >= to_timestamp($boundary)"
    put_lateness "$key" "$(rsql -F ' ' -c "SELECT count(*),
                           round(percentile_cont(0.50) WITHIN GROUP (ORDER BY ms)::numeric, 3),
                           round(percentile_cont(0.95) WITHIN GROUP (ORDER BY ms)::numeric, 3),
                           round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)::numeric, 3),
                           round(max(ms)::numeric, 3)
                      FROM (SELECT extract(epoch FROM start_time - date_trunc('minute', start_time)) * 1000 AS ms
                              FROM cron.job_run_details WHERE $where) s")"
    put "${key}_jobs" "$jobs"
    put "${key}_boundaries" "$boundaries"
    rsql -c "SELECT extract(epoch FROM start_time - date_trunc('minute', start_time)) * 1000
               FROM cron.job_run_details WHERE $where ORDER BY 1" >"$DATA/$key.txt"
    printf '   %s: %s runs, lateness p50 %s ms, p95 %s ms, p99 %s ms, max %s ms\n' "$key" "$(get "${key}_count")" \
        "$(get "${key}_p50_ms")" "$(get "${key}_p95_ms")" "$(get "${key}_p99_ms")" "$(get "${key}_max_ms")"
}
