# Scenario 3, scale: the catalog holds N future tasks (1,000, then 1,000,000); a trickle of due tasks measures start
# lateness, then an idle window measures the CPU and memory of every pg_chronos process. The peer's idle figures come
# from pg_cron holding 10,000 jobs. Sourced by bench/run.sh.

# scale_fill N: replaces the catalog with N once tasks due a year from now or later, one second apart.
scale_fill() {
    local n=$1 began
    reset_chronos
    began=$(now_s)
    csql -c "INSERT INTO chronos.tasks (command, start_time)
             SELECT $INSERT_COMMAND, now() + interval '1 year' + g * interval '1 second' FROM generate_series(1, $n) g"
    put "scale_${n}_insert_s" "$(seconds_since "$began")"
    csql -c "VACUUM ANALYZE chronos.tasks"
    put "scale_${n}_tasks_mb" "$(csql -c "SELECT round(pg_total_relation_size('chronos.tasks') / 1048576.0, 1)")"
    put "scale_${n}_due_index_mb" "$(csql -c "SELECT round(pg_relation_size('chronos.tasks_due') / 1048576.0, 1)")"
    printf '   %s future tasks inserted in %s s (chronos.tasks: %s MB)\n' "$n" "$(get "scale_${n}_insert_s")" \
        "$(get "scale_${n}_tasks_mb")"
}

# idle_window_begin NAME: starts sampling every pg_chronos process (CPU ticks, RSS, Pss) once a second.
idle_window_begin() {
    IDLE_STARTED=$(now_s)
    watch_start "$1" "$CHRONOS_DIR" 'pg_chronos' 1 "$DATA/$1.csv"
}

# idle_window_end NAME SECONDS: ends the window once it has lasted at least SECONDS.
idle_window_end() {
    sleep_until "$(add_s "$IDLE_STARTED" "$2")"
    watch_stop "$1"
    printf '   %s: %s s, CPU %s%% of one core, %s processes, RSS %s kB (own %s kB), Pss %s kB\n' "$1" \
        "$(get "${1}_seconds")" "$(get "${1}_cpu_pct_core")" "$(get "${1}_procs_end")" "$(get "${1}_rss_kb_end")" \
        "$(get "${1}_anon_kb_end")" "$(get "${1}_pss_kb_end")"
}

# cron_idle N SECONDS: pg_cron holding N jobs that are not due ('0 0 1 1 *'); CPU and memory of its processes.
cron_idle() {
    local n=$1 seconds=$2 name="cron_idle_$1"
    reset_cron
    rsql -c "SELECT count(cron.schedule('idle' || g, '0 0 1 1 *', $INSERT_COMMAND)) FROM generate_series(1, $n) g" >/dev/null
    sleep 3   # pg_cron reloads its jobs
    watch_start "$name" "$CRON_DIR" 'pg_cron' 1 "$DATA/$name.csv"
    sleep "$seconds"
    watch_stop "$name"
    printf '   %s: %s s, CPU %s%% of one core, RSS %s kB (own %s kB), Pss %s kB\n' "$name" \
        "$(get "${name}_seconds")" "$(get "${name}_cpu_pct_core")" "$(get "${name}_rss_kb_end")" \
        "$(get "${name}_anon_kb_end")" "$(get "${name}_pss_kb_end")"
}
