# Scenario 6, many databases: both clusters restart with max_worker_processes = 8, and 40 databases each get one task
# due at the same instants as the others. pg_chronos: a loop task '@every 5s' per database for SECONDS; the starting
# delay is started_at - scheduled_for, and every slot of the window must have run. pg_cron 1.4 schedules by the minute:
# a job '* * * * *' per database (cron.schedule_in_database, run by its background workers) for as many minute
# boundaries as SECONDS holds (at least one); its delay is start_time - the minute. Sourced by bench/run.sh; it comes
# last, as it changes the clusters' settings.

DATABASES=40
DATABASES_WORKER_PROCESSES=8

restart_with_few_slots() {  # restart_with_few_slots SQL CLUSTER_DIR
    $1 -c "ALTER SYSTEM SET max_worker_processes = $DATABASES_WORKER_PROCESSES"
    as_pg_user "$PG_BIN/pg_ctl" -D "$2/data" -l "$2/server.log" -m fast -w restart >/dev/null
}

# Prints "count p50 p95 max" of a column of seconds, in ms.
seconds_stats() {
    sort -g | awk '{ v[NR] = $1 * 1000 } END {
        if (NR == 0) { print "0 0 0 0"; exit }
        printf "%d %.1f %.1f %.1f\n", NR, v[int((NR - 1) * 0.5) + 1], v[int((NR - 1) * 0.95) + 1], v[NR] }'
}

put_stats() {  # put_stats KEY "count p50 p95 max"
    local count p50 p95 max
    read -r count p50 p95 max <<<"$2"
    put "${1}_count" "$count"
    put "${1}_p50_ms" "$p50"
    put "${1}_p95_ms" "$p95"
    put "${1}_max_ms" "$max"
}

chronos_databases() {
    local seconds=$1 since until db
    restart_with_few_slots csql "$CHRONOS_DIR"
    # Scenario 6 runs alone: the bench database's executors would take slots (kept_runs, of scenario 4, uses its types).
    csql -c "SET client_min_messages = warning" -c "DROP TABLE IF EXISTS kept_runs" -c "DROP EXTENSION pg_chronos"
    as_pg_user "$PG_BIN/createdb" -h "$CHRONOS_DIR" -p "$CHRONOS_PORT" many
    as_pg_user "$PG_BIN/psql" -h "$CHRONOS_DIR" -p "$CHRONOS_PORT" -d many -X -qAt -v ON_ERROR_STOP=1 \
        -c "CREATE EXTENSION pg_chronos" \
        -c "INSERT INTO chronos.tasks (name, schedule, command, start_time)
            VALUES ('every 5s', '@every 5s', 'SELECT 1', date_trunc('second', now()) + interval '10 s')"
    for ((db = 1; db < DATABASES; db++)); do
        as_pg_user "$PG_BIN/createdb" -h "$CHRONOS_DIR" -p "$CHRONOS_PORT" -T many "many$db"
    done
    since=$(csql -c "SELECT extract(epoch FROM clock_timestamp()) + 10")
    load_begin
    sleep "$((seconds + 10))"
    load_end databases_chronos_load
    until=$(awk -v s="$since" -v n="$seconds" 'BEGIN { printf "%.3f", s + n }')
    : >"$DATA/databases_chronos.txt"
    for db in many $(seq -f 'many%g' 1 $((DATABASES - 1))); do
        as_pg_user "$PG_BIN/psql" -h "$CHRONOS_DIR" -p "$CHRONOS_PORT" -d "$db" -X -qAt -F ' ' -c "
            SELECT extract(epoch FROM started_at - scheduled_for), '$db'
              FROM chronos.runs WHERE scheduled_for BETWEEN to_timestamp($since) AND to_timestamp($until)" \
            >>"$DATA/databases_chronos.txt"
    done
    local slots runs
    runs=$(wc -l <"$DATA/databases_chronos.txt")
    slots=0
    for db in many $(seq -f 'many%g' 1 $((DATABASES - 1))); do
        slots=$((slots + $(as_pg_user "$PG_BIN/psql" -h "$CHRONOS_DIR" -p "$CHRONOS_PORT" -d "$db" -X -qAt -c "
            SELECT count(*) FROM generate_series((SELECT start_time FROM chronos.tasks), to_timestamp($until),
                                                  interval '5 s') s WHERE s >= to_timestamp($since)")))
    done
    put databases_chronos_runs "$runs"
    put databases_chronos_slots "$slots"
    put_stats databases_chronos_delay "$(cut -d ' ' -f 1 "$DATA/databases_chronos.txt" | seconds_stats)"
}

cron_databases() {
    local seconds=$1 boundaries boundary db
    boundaries=$(( seconds / 60 > 0 ? seconds / 60 : 1 ))
    restart_with_few_slots rsql "$CRON_DIR"
    reset_cron
    for ((db = 0; db < DATABASES; db++)); do
        as_pg_user "$PG_BIN/createdb" -h "$CRON_DIR" -p "$CRON_PORT" "many$db"
    done
    rsql -c "SELECT count(cron.schedule_in_database('tick ' || g, '* * * * *', 'SELECT 1', 'many' || g))
               FROM generate_series(0, $DATABASES - 1) g" >/dev/null
    boundary=$(next_minute 5)
    load_begin
    sleep_until $(( boundary + 60 * (boundaries - 1) + 10 ))
    load_end databases_cron_load
    rsql -c "DELETE FROM cron.job" >/dev/null
    rsql -c "SELECT extract(epoch FROM start_time - date_trunc('minute', start_time))
               FROM cron.job_run_details WHERE start_time >= to_timestamp($boundary)" >"$DATA/databases_cron.txt"
    put databases_cron_runs "$(wc -l <"$DATA/databases_cron.txt")"
    put databases_cron_slots "$(( DATABASES * boundaries ))"
    put databases_cron_boundaries "$boundaries"
    put_stats databases_cron_delay "$(seconds_stats <"$DATA/databases_cron.txt")"
}
