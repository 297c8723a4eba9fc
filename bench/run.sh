#!/usr/bin/env bash
# Benchmarks pg_chronos against pg_cron 1.4 and pgbench: burst drain, start lateness, scale, sustained load,
# bookkeeping cost and many databases, on two throwaway clusters with the same settings (one preloads pg_chronos, one pg_cron), run in turn.
# Prints a table of ratios and targets, and writes docs/benchmarks/README.md with plots.
#
#   bench/run.sh            the suite, about 20 minutes on 2 cores
#   bench/run.sh --quick    shorter windows, under 10 minutes
#   bench/run.sh --long     longer windows, about 30 minutes
#   bench/run.sh --smoke    one cluster, one 200-task burst, one line on stdout; exits non-zero unless all 200 ran
#   BENCH_SAVE_DATA=DIR     copies the raw results, samples and pg_chronos's server log to DIR before the scratch
#                           directory is removed
#
# Installs the Debian packages it needs; as root, the clusters run as "postgres" in a temporary directory on private
# Unix sockets (listen_addresses = ''), and are stopped and removed on exit.
set -Eeuo pipefail
source "$(dirname "$0")/lib.sh"
source "$BENCH_DIR/burst.sh"
source "$BENCH_DIR/lateness.sh"
source "$BENCH_DIR/scale.sh"
source "$BENCH_DIR/sustained.sh"
source "$BENCH_DIR/databases.sh"

SCRIPT_STARTED=$(now_s)
mode=default
for arg in "$@"; do
    case $arg in
        --quick) mode=quick ;;
        --long) mode=long ;;
        --smoke) mode=smoke ;;
        -h | --help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown option: $arg (try --help)" >&2; exit 2 ;;
    esac
done

# Window lengths per mode (seconds).
case $mode in
    quick) LATENESS_S=30 TRICKLE_S=20 CRON_LATENESS_MINUTES=1 CRON_10K_CAP_S=30 SUSTAINED_S=120 RETENTION=30s DATABASES_S=60 ;;
    long) LATENESS_S=120 TRICKLE_S=120 CRON_LATENESS_MINUTES=5 CRON_10K_CAP_S=300 SUSTAINED_S=600 RETENTION=2min DATABASES_S=300 ;;
    *) LATENESS_S=60 TRICKLE_S=60 CRON_LATENESS_MINUTES=3 CRON_10K_CAP_S=300 SUSTAINED_S=300 RETENTION=1min DATABASES_S=120 ;;
esac
LATENESS_RATE=100     # once tasks a second in scenario 2
LATENESS_LOOPS=10     # '* * * * * *' loop tasks beside them
TRICKLE_RATE=20       # due tasks a second beside the large catalog in scenario 3
CRON_LATENESS_JOBS=10
IDLE_S=60
SUSTAINED_TASKS=200   # '@every 1s' loop tasks: 200 runs a second
BURST_TRIALS=5        # the 1,000-task bursts of pg_chronos and pgbench: the median of this many

cleanup() {
    local status=$?
    set +e
    for pid in "${BACKGROUND_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${BACKGROUND_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    if [ -n "${BENCH_SAVE_DATA:-}" ] && [ -n "$WORK" ] && [ -f "$RESULTS" ]; then
        mkdir -p "$BENCH_SAVE_DATA" && cp -r "$RESULTS" "$DATA" "$BENCH_SAVE_DATA/" && cp "$WORK"/*.txt "$BENCH_SAVE_DATA/" 2>/dev/null
        [ -n "$CHRONOS_DIR" ] && cp "$CHRONOS_DIR/server.log" "$BENCH_SAVE_DATA/chronos_server.log" 2>/dev/null
    fi
    [ -n "$CHRONOS_DIR" ] && stop_cluster "$CHRONOS_DIR"
    [ -n "$CRON_DIR" ] && stop_cluster "$CRON_DIR"
    [ -n "$WORK" ] && rm -rf "$WORK"
    [ "$status" = 0 ] || [ "$mode" = smoke ] || echo "bench/run.sh failed (exit $status)" >&2
}
trap cleanup EXIT
trap 'exit 130' INT TERM

make_work_dir() {
    WORK=$(pg_scratch_dir)
    RESULTS="$WORK/results.txt"
    DATA="$WORK/data"
    mkdir -p "$DATA"
    : >"$RESULTS"
}

smoke() {
    {
        install_packages
        build_and_install_extension
    } >&2
    make_work_dir
    start_chronos_cluster
    chronos_burst 200 0 30 >/dev/null
    local done
    done=$(get burst_chronos_200_done)
    if [ "$done" != 200 ]; then
        echo "bench smoke: FAILED, $done/200 tasks ran within 30 s of their due time"
        return 1
    fi
    printf 'bench smoke: %s/200 tasks ran, the last %s s after their due time (%s tasks/s), the first %s ms late\n' \
        "$done" "$(get burst_chronos_200_last_s)" "$(get burst_chronos_200_rate)" "$(get burst_chronos_200_first_ms)"
}

suite() {
    install_packages "$CHRONOS_PACKAGES postgresql-$PG_MAJOR-cron gnuplot-nox python3"
    build_and_install_extension
    make_work_dir
    local began boundary
    began=$(now_s)

    step "starting two clusters in $WORK (pg_chronos on port $CHRONOS_PORT, pg_cron on port $CRON_PORT)"
    start_chronos_cluster
    start_cron_cluster
    put mode "$mode"
    put run_date "$(date -u "+%Y-%m-%d %H:%M UTC")"
    record_machine
    put max_workers "$MAX_WORKERS"
    put lateness_rate "$LATENESS_RATE"
    put lateness_seconds "$LATENESS_S"
    put lateness_loops "$LATENESS_LOOPS"
    put trickle_rate "$TRICKLE_RATE"
    put trickle_seconds "$TRICKLE_S"
    put idle_seconds "$IDLE_S"
    put cron_10000_cap_s "$CRON_10K_CAP_S"
    put observer_commits_chronos "$(calibrate_observer csql)"
    put observer_commits_pg_cron "$(calibrate_observer rsql)"

    step "1. burst drain (and 5. bookkeeping on the 1,000-task bursts): pg_chronos, then pgbench"
    load_begin
    chronos_burst 1000 1
    put burst_chronos_1000_checkpointed_rate "$(get burst_chronos_1000_rate)"
    median_burst chronos_burst 1000 "$BURST_TRIALS" burst_chronos_1000 rate
    chronos_burst 10000
    pgbench_burst 1000 1
    put burst_pgbench_1000_checkpointed_tps "$(get burst_pgbench_1000_tps)"
    median_burst pgbench_burst 1000 "$BURST_TRIALS" burst_pgbench_1000 tps
    pgbench_burst 10000
    load_end burst

    step "2. start lateness: $LATENESS_RATE once tasks/s for $LATENESS_S s beside $LATENESS_LOOPS loop tasks '* * * * * *'"
    reset_chronos
    load_begin
    chronos_lateness lateness "$LATENESS_RATE" "$LATENESS_S" "$LATENESS_LOOPS"
    load_end lateness

    step "3. scale: 1,000 future tasks, a trickle of $TRICKLE_RATE due tasks/s for $TRICKLE_S s"
    scale_fill 1000
    load_begin
    chronos_lateness scale_1000 "$TRICKLE_RATE" "$TRICKLE_S" 0
    load_end scale_1000
    step "3. pg_chronos idle with 1,000 tasks; meanwhile pg_cron: lateness, then 1,000 jobs on one minute boundary"
    idle_window_begin chronos_idle_1000
    cron_lateness cron_lateness "$CRON_LATENESS_JOBS" "$CRON_LATENESS_MINUTES"
    boundary=$(next_minute 5)
    cron_burst_arm 1000 "$boundary"
    cron_burst_finish 1000 "$boundary" 120 1
    idle_window_end chronos_idle_1000 "$IDLE_S"

    step "3. scale: 1,000,000 future tasks, the same trickle"
    scale_fill 1000000
    load_begin
    chronos_lateness scale_1000000 "$TRICKLE_RATE" "$TRICKLE_S" 0
    load_end scale_1000000
    step "3. pg_chronos idle with 1,000,000 tasks; meanwhile pg_cron: 10,000 jobs on one boundary, then idle with 10,000"
    idle_window_begin chronos_idle_1000000
    boundary=$(next_minute 5)
    cron_burst_arm 10000 "$boundary"
    cron_burst_finish 10000 "$boundary" "$CRON_10K_CAP_S"
    cron_idle 10000 "$IDLE_S"
    idle_window_end chronos_idle_1000000 "$IDLE_S"

    step "4. sustained: $SUSTAINED_TASKS loop tasks '@every 1s' for $SUSTAINED_S s, chronos.history_retention = $RETENTION"
    load_begin
    sustained "$SUSTAINED_S" "$SUSTAINED_TASKS" "$RETENTION"
    load_end sustained

    step "6. many databases: $DATABASES databases with a task every 5 s, max_worker_processes = $DATABASES_WORKER_PROCESSES, for $DATABASES_S s each"
    put databases "$DATABASES"
    put databases_worker_processes "$DATABASES_WORKER_PROCESSES"
    put databases_seconds "$DATABASES_S"
    chronos_databases "$DATABASES_S"
    cron_databases "$DATABASES_S"

    put machine_load_end "$(cut -d ' ' -f 1-3 /proc/loadavg)"
    put total_seconds "$(seconds_since "$SCRIPT_STARTED")"
    step "report"
    python3 "$BENCH_DIR/report.py" "$WORK" "$CHRONOS_ROOT/docs/benchmarks"
}

if [ "$mode" = smoke ]; then smoke; else suite; fi
