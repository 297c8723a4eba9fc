# Scenario 1, burst drain, and scenario 5, bookkeeping cost (measured on the 1,000-task bursts): N tasks due at the
# same instant, each inserting one row into table sink; time from the due instant to the last row. The same INSERT run
# by pg_cron jobs on one minute boundary and by pgbench at the same concurrency. Sourced by bench/run.sh.

INSERT_COMMAND="'INSERT INTO sink VALUES (' || g || ', clock_timestamp())'"

reset_chronos() {
    csql -c "TRUNCATE chronos.tasks, chronos.runs, sink" -c "VACUUM ANALYZE chronos.tasks, chronos.runs, sink"
}

reset_cron() {
    rsql -c "DELETE FROM cron.job" -c "TRUNCATE cron.job_run_details, sink" -c "VACUUM ANALYZE cron.job, cron.job_run_details, sink"
}

# Waits for $2 rows in sink (until epoch $3), polling every 0.25 s through one session opened beforehand: a new
# connection per poll would take CPU from the burst being measured. Prints "rows polls".
drain() {
    local sql=$1 want=$2 deadline=$3 have polls=0
    coproc POLLER { $sql -f - 2>&1; }
    while :; do
        echo "SELECT count(*) FROM sink;" >&"${POLLER[1]}"
        read -r have <&"${POLLER[0]}"
        polls=$((polls + 1))
        [ "$have" -ge "$want" ] && break
        awk -v t="$deadline" -v n="$(now_s)" 'BEGIN { exit !(n >= t) }' && break
        sleep 0.25
    done
    exec {POLLER[1]}>&-
    wait "$POLLER_PID" 2>/dev/null || true
    echo "$have $polls"
}

# Commits and WAL of N runs between two observations; the observing sessions' own commits are taken out.
# record_bookkeeping KEY SQL CLUSTER_DIR N "x0 l0" "x1 l1" X_AFTER_EXIT SESSIONS_BY_X1 SESSIONS_BY_X_AFTER_EXIT POLLS
# (x1 is read before the scheduler's processes exit, X_AFTER_EXIT once they have exited and so reported their counts;
# the sessions include the polling session, whose queries after its first are POLLS - 1 more commits).
record_bookkeeping() {
    local key=$1 sql=$2 dir=$3 n=$4 first=$5 last=$6 x_exit=$7 sessions_x1=$8 sessions=$9 polls=${10} obs
    local x0=${first% *} l0=${first#* } x1=${last% *} l1=${last#* } extra=$((polls - 1))
    obs=$(get "observer_commits_$(basename "$dir")")
    local records
    records=$(wal_records "$dir" "$l0" "$l1")
    put "${key}_runs" "$n"
    put "${key}_commits_per_run" "$(awk -v a="$x0" -v b="$x_exit" -v o="$obs" -v s="$sessions" -v e="$extra" -v n="$n" 'BEGIN { printf "%.3f", (b - a - o * s - e) / n }')"
    put "${key}_commits_seen_before_exit" "$(awk -v a="$x0" -v b="$x1" -v o="$obs" -v s="$sessions_x1" -v e="$extra" -v n="$n" 'BEGIN { printf "%.3f", (b - a - o * s - e) / n }')"
    put "${key}_wal_bytes_per_run" "$(awk -v w="$(wal_bytes "$sql" "$l0" "$l1")" -v n="$n" 'BEGIN { printf "%.0f", w / n }')"
    read -r commits rec fpi <<<"$records"
    put "${key}_commit_records_per_run" "$(awk -v c="$commits" -v n="$n" 'BEGIN { printf "%.3f", c / n }')"
    put "${key}_wal_record_bytes_per_run" "$(awk -v r="$rec" -v n="$n" 'BEGIN { printf "%.0f", r / n }')"
    put "${key}_wal_fpi_bytes_per_run" "$(awk -v f="$fpi" -v n="$n" 'BEGIN { printf "%.0f", f / n }')"
}

# chronos_burst N [measure] [timeout]: N once tasks due 2 s after the INSERT; waits at most timeout (300) seconds.
chronos_burst() {
    local n=$1 measure=${2:-0} timeout=${3:-300} key="burst_chronos_$1" due first last have polls x_exit lead ticks
    reset_chronos
    due=$(csql -c "SELECT extract(epoch FROM clock_timestamp()) + 2")
    csql -c "INSERT INTO chronos.tasks (command, start_time)
             SELECT $INSERT_COMMAND, to_timestamp($due) FROM generate_series(1, $n) g"
    if [ "$measure" = 1 ]; then
        csql -c "CHECKPOINT"
        first=$(observe csql)
    fi
    lead=$(awk -v t="$due" -v n="$(now_s)" 'BEGIN { printf "%.3f", t - n }')
    put "${key}_lead_s" "$lead"
    ticks=$(cluster_ticks "$CHRONOS_DIR")
    [ "$measure" = 1 ] && sleep_until "$(add_s "$due" 2)"
    read -r have polls < <(drain csql "$n" "$(add_s "$due" "$timeout")")
    put "${key}_cpu_ms_per_run" "$(cpu_ms_per "$ticks" "$(cluster_ticks "$CHRONOS_DIR")" "$n")"
    if [ "$measure" = 1 ]; then
        last=$(observe csql)
        end_processes_and_wait csql 'pg_chronos worker'
        x_exit=$(observe csql)
        record_bookkeeping bookkeeping_chronos csql "$CHRONOS_DIR" "$n" "$first" "$last" "${x_exit% *}" 2 5 "$polls"
    fi
    put "${key}_done" "$have"
    put "${key}_last_s" "$(csql -c "SELECT round((extract(epoch FROM max(at)) - $due)::numeric, 4) FROM sink")"
    put "${key}_first_ms" "$(csql -c "SELECT round(((extract(epoch FROM min(at)) - $due) * 1000)::numeric, 2) FROM sink")"
    put "${key}_rate" "$(csql -c "SELECT round($have / (extract(epoch FROM max(at)) - $due)::numeric) FROM sink")"
    put "${key}_executors" "$(csql -c "SELECT count(DISTINCT pid) FROM chronos.runs")"
    put "${key}_failed" "$(csql -c "SELECT count(*) FROM chronos.runs WHERE status <> 'succeeded'")"
    csql -c "SELECT extract(epoch FROM at) - $due FROM sink ORDER BY at" >"$DATA/$key.txt"
    printf '   pg_chronos %6d tasks: %s/%s ran, last %.3f s after due: %s tasks/s\n' "$n" "$have" "$n" \
        "$(get "${key}_last_s")" "$(get "${key}_rate")"
}

# median_burst FUNCTION N TRIALS KEY FIELD: runs `FUNCTION N` TRIALS times (a burst of 1,000 lasts a fifth of a
# second, and one slow WAL flush moves a single trial by a third), records every trial's FIELD as KEY_trials and
# their median as KEY_FIELD, the figure the report uses.
median_burst() {
    local fn=$1 n=$2 trials=$3 key=$4 field=$5 values=() i
    for i in $(seq 1 "$trials"); do
        "$fn" "$n"
        values+=("$(get "${key}_${field}")")
    done
    put "${key}_trials" "$(printf '%s\n' "${values[@]}" | paste -sd ' ')"
    put "${key}_${field}" "$(printf '%s\n' "${values[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')"
}

# pgbench_burst N [measure]: the same INSERT from pgbench, -c MAX_WORKERS -j 2, N transactions in all.
pgbench_burst() {
    local n=$1 measure=${2:-0} key="burst_pgbench_$1" script first last ticks
    script=$(pg_file burst.pgbench <<'EOF'
\set id random(1, 1000000)
INSERT INTO sink VALUES (:id, clock_timestamp());
EOF
)
    csql -c "TRUNCATE sink" -c "VACUUM ANALYZE sink"
    if [ "$measure" = 1 ]; then
        csql -c "CHECKPOINT"
        first=$(observe csql)
    fi
    ticks=$(cluster_ticks "$CHRONOS_DIR")
    as_pg_user "$PG_BIN/pgbench" -h "$CHRONOS_DIR" -p "$CHRONOS_PORT" -n -c "$MAX_WORKERS" -j 2 \
        -t $((n / MAX_WORKERS)) -f "$script" bench >"$DATA/$key.log" 2>&1
    put "${key}_cpu_ms_per_run" "$(cpu_ms_per "$ticks" "$(cluster_ticks "$CHRONOS_DIR")" "$n")"
    if [ "$measure" = 1 ]; then
        last=$(observe csql)
        sleep 0.3
        local x_exit
        x_exit=$(observe csql)
        # pgbench's own connections add MAX_WORKERS start-up commits; they stay in (under 0.01 per transaction).
        record_bookkeeping bookkeeping_pgbench csql "$CHRONOS_DIR" "$n" "$first" "$last" "${x_exit% *}" 1 2 1
    fi
    put "${key}_tps" "$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/\1/p' "$DATA/$key.log" | cut -d . -f 1)"
    put "${key}_done" "$(csql -c "SELECT count(*) FROM sink")"
    csql -c "SELECT extract(epoch FROM at - min(at) OVER ()) FROM sink ORDER BY at" >"$DATA/$key.txt"
    printf '   pgbench    %6d transactions: %s tps\n' "$n" "$(get "${key}_tps")"
}

# cron_burst_arm N BOUNDARY: N pg_cron jobs that fire once, at the UTC minute starting at epoch BOUNDARY.
cron_burst_arm() {
    local n=$1 boundary=$2
    reset_cron
    rsql -c "SELECT count(cron.schedule('burst' || g, '$(cron_minute_hour "$boundary") * * *', $INSERT_COMMAND))
               FROM generate_series(1, $n) g" >/dev/null
}

# cron_burst_finish N BOUNDARY CAP_SECONDS [measure]: waits for the jobs (at most CAP_SECONDS after the boundary),
# records the rate, then unschedules them and waits for the running ones.
cron_burst_finish() {
    local n=$1 boundary=$2 cap=$3 measure=${4:-0} key="burst_cron_$1" first last have polls x_exit ticks
    if [ "$measure" = 1 ]; then
        sleep_until $((boundary - 3))
        rsql -c "CHECKPOINT"
        sleep_until $((boundary - 1))
        first=$(observe rsql)
        ticks=$(cluster_ticks "$CRON_DIR")
        sleep_until $((boundary + n / 100 + 2))
    else
        sleep_until $((boundary - 1))
        ticks=$(cluster_ticks "$CRON_DIR")
        sleep_until $((boundary + 1))
    fi
    read -r have polls < <(drain rsql "$n" $((boundary + cap)))
    [ "$have" -gt 0 ] && put "${key}_cpu_ms_per_run" "$(cpu_ms_per "$ticks" "$(cluster_ticks "$CRON_DIR")" "$have")"
    if [ "$measure" = 1 ]; then
        sleep 1   # pg_cron records a job's end a moment after its command commits
        last=$(observe rsql)
        # pg_cron's scheduler does not come back after SIGTERM; a restart makes every process report its counts
        # (they are saved at shutdown and loaded at start-up).
        as_pg_user "$PG_BIN/pg_ctl" -D "$CRON_DIR/data" -m fast -w restart -l "$CRON_DIR/server.log" >/dev/null
        x_exit=$(observe rsql)
        record_bookkeeping bookkeeping_cron rsql "$CRON_DIR" "$n" "$first" "$last" "${x_exit% *}" 2 3 "$polls"
    fi
    put "${key}_done" "$have"
    put "${key}_capped" "$([ "$have" -lt "$n" ] && echo "$cap" || echo 0)"
    put "${key}_last_s" "$(rsql -c "SELECT round((extract(epoch FROM max(at)) - $boundary)::numeric, 3) FROM sink")"
    put "${key}_first_ms" "$(rsql -c "SELECT round(((extract(epoch FROM min(at)) - $boundary) * 1000)::numeric, 2) FROM sink")"
    put "${key}_rate" "$(rsql -c "SELECT round(($have / (extract(epoch FROM max(at)) - $boundary))::numeric, 1) FROM sink")"
    put "${key}_failed" "$(rsql -c "SELECT count(*) FROM cron.job_run_details WHERE status NOT IN ('succeeded', 'running', 'starting')")"
    rsql -c "SELECT extract(epoch FROM at) - $boundary FROM sink ORDER BY at" >"$DATA/$key.txt"
    rsql -c "DELETE FROM cron.job" >/dev/null
    wait_for_cron_workers
    printf '   pg_cron    %6d jobs:  %s/%s ran, last %s s after the boundary: %s jobs/s\n' "$n" "$have" "$n" \
        "$(get "${key}_last_s")" "$(get "${key}_rate")"
}

# Waits (up to 30 s) until no pg_cron job worker is running.
wait_for_cron_workers() {
    for _ in $(seq 120); do
        [ "$(rsql -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pg_cron worker'")" = 0 ] && return 0
        sleep 0.25
    done
}
