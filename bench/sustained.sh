# Scenario 4, sustained load: TASKS fixed-rate tasks '@every 1s' with start times spread over one second, so runs arrive
# evenly (TASKS runs a second), for SECONDS, with chronos.history_retention = RETENTION. Every 5 s the memory of each
# pg_chronos process is sampled, and every 10 s the size of chronos.runs, whose new rows are copied into table kept_runs
# (the retention deletes them later) for the lateness per 10 s window. Sourced by bench/run.sh.

KEEP_RUNS="INSERT INTO kept_runs SELECT run_id, scheduled_for, started_at, status, pid FROM chronos.runs
           WHERE run_id > (SELECT coalesce(max(run_id), 0) FROM kept_runs)"

# sustained SECONDS TASKS RETENTION
sustained() {
    local seconds=$1 tasks=$2 retention=$3 t0 tick=0
    reset_chronos
    if [ "$(csql -c "SELECT count(*) FROM pg_settings WHERE name = 'chronos.history_retention'")" = 1 ]; then
        set_chronos_setting chronos.history_retention "$retention"
        put sustained_history_retention "$retention"
        put sustained_history_retention_s "$(csql -c "SELECT setting FROM pg_settings WHERE name = 'chronos.history_retention'")"
    fi
    # Each task updates its own row of table steady, so that what the tasks do does not grow the database.
    csql -c "SET client_min_messages = warning; DROP TABLE IF EXISTS steady" \
         -c "CREATE TABLE steady AS SELECT g AS id, 0::bigint AS runs, now() AS at FROM generate_series(0, $tasks - 1) g" \
         -c "ALTER TABLE steady ADD PRIMARY KEY (id)"
    t0=$(csql -c "SELECT extract(epoch FROM date_trunc('second', clock_timestamp()) + interval '2 s')")
    csql -c "INSERT INTO chronos.tasks (name, schedule, command, start_time)
             SELECT 'steady' || g, '@every 1s', 'UPDATE steady SET runs = runs + 1, at = clock_timestamp() WHERE id = ' || g,
                    to_timestamp($t0) + (g * 1000 / $tasks) * interval '1 millisecond'
               FROM generate_series(0, $tasks - 1) g"
    sleep_until "$t0"
    watch_start sustained_watch "$CHRONOS_DIR" 'pg_chronos' 5 "$DATA/sustained_memory.csv"
    flush_floor_start sustained_flush "$seconds"
    local ticks
    ticks=$(cluster_ticks "$CHRONOS_DIR")
    echo "elapsed_s,runs_bytes,runs_rows" >"$DATA/sustained_runs.csv"
    csql -c "SET client_min_messages = warning; DROP TABLE IF EXISTS kept_runs" \
         -c "CREATE TABLE kept_runs AS SELECT run_id, scheduled_for, started_at, status, pid FROM chronos.runs WITH NO DATA"
    while [ "$tick" -lt "$seconds" ]; do
        tick=$((tick + 10))
        sleep_until "$(add_s "$t0" "$tick")"
        csql -c "SELECT $tick || ',' || pg_total_relation_size('chronos.runs') || ',' || count(*) FROM chronos.runs" \
            -c "$KEEP_RUNS" >>"$DATA/sustained_runs.csv"
    done
    ticks=$(( $(cluster_ticks "$CHRONOS_DIR") - ticks ))
    csql -c "DELETE FROM chronos.tasks WHERE name LIKE 'steady%'"
    watch_stop sustained_watch
    flush_floor_wait
    csql -c "$KEEP_RUNS"
    [ -n "$(get sustained_history_retention)" ] && set_chronos_setting chronos.history_retention DEFAULT
    sleep 0.5
    put sustained_seconds "$seconds"
    put sustained_tasks "$tasks"
    put_lateness sustained "$(chronos_lateness_stats "scheduled_for >= to_timestamp($t0)" kept_runs)"
    put sustained_runs_rows "$(csql -c "SELECT count(*) FROM chronos.runs")"
    put sustained_runs_kept "$(csql -c "SELECT count(*) FROM kept_runs")"
    put sustained_runs_mb "$(csql -c "SELECT round(pg_total_relation_size('chronos.runs') / 1048576.0, 2)")"
    put sustained_tasks_mb "$(csql -c "SELECT round(pg_total_relation_size('chronos.tasks') / 1048576.0, 2)")"
    put sustained_failed "$(csql -c "SELECT count(*) FROM kept_runs WHERE status <> 'succeeded'")"
    put sustained_executors "$(csql -c "SELECT count(DISTINCT pid) FROM kept_runs")"
    put sustained_cluster_cpu_ms_per_run "$(cpu_ms_per 0 "$ticks" "$(get sustained_runs_kept)")"
    put sustained_runs_per_s "$(csql -c "SELECT round(count(*) / $seconds.0, 1) FROM kept_runs
                                          WHERE scheduled_for < to_timestamp($t0 + $seconds)")"
    csql -F ',' -c "SELECT floor((extract(epoch FROM scheduled_for) - $t0) / 10) * 10 AS window_s, count(*),
                           round(percentile_cont(0.50) WITHIN GROUP (ORDER BY ms)::numeric, 3),
                           round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)::numeric, 3),
                           round(max(ms)::numeric, 3)
                      FROM (SELECT scheduled_for, extract(epoch FROM started_at - scheduled_for) * 1000 AS ms
                              FROM kept_runs WHERE scheduled_for >= to_timestamp($t0)) s
                     GROUP BY 1 ORDER BY 1" >"$DATA/sustained_lateness.csv"
    printf '   %s loop tasks for %s s: %s runs, lateness p50 %s ms, p99 %s ms; chronos.runs at the end: %s rows, %s MB\n' \
        "$tasks" "$seconds" "$(get sustained_runs_kept)" "$(get sustained_p50_ms)" "$(get sustained_p99_ms)" \
        "$(get sustained_runs_rows)" "$(get sustained_runs_mb)"
}
