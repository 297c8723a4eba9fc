# Shared by bench/run.sh and the scenario files: the two throwaway clusters (pg_chronos and pg_cron, same settings),
# SQL helpers, wall-clock helpers, background samplers and the results file. Sourced, not executed.

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$BENCH_DIR/../scripts/common.sh"

CHRONOS_PORT=55461
CRON_PORT=55462
MAX_WORKERS=4                 # chronos.max_workers = cron.max_running_jobs = pgbench -c
WORK=""                       # scratch directory (clusters, data files, results), removed on exit
CHRONOS_DIR=""
CRON_DIR=""
RESULTS=""
DATA=""
BACKGROUND_PIDS=()

# Settings both clusters get; fsync and synchronous_commit stay at their defaults (on), but for the lateness windows
# (flush_floor_start, below).
COMMON_SETTINGS=(
    "max_worker_processes = 20"
    "shared_buffers = 128MB"
    "max_connections = 100"
    "timezone = 'UTC'"
    "log_min_messages = warning"
)

# ---- results: one "key=value" line each, read back by bench/report.py ----

put() { printf '%s=%s\n' "$1" "$2" >>"$RESULTS"; }
get() { sed -n "s/^$1=//p" "$RESULTS" | tail -n 1; }
note() { printf '%s\n' "$*" >>"$WORK/notes.txt"; printf '   %s\n' "$*"; }
step() { printf '\n-- %s (%s)\n' "$*" "$(date -u +%H:%M:%S)"; }

# ---- clocks (seconds since the epoch, with fractions) ----

now_s() { date +%s.%N; }
add_s() { awk -v t="$1" -v s="$2" 'BEGIN { printf "%.6f", t + s }'; }
seconds_since() { awk -v t="$1" -v n="$(now_s)" 'BEGIN { printf "%.3f", n - t }'; }
sleep_until() {
    local d
    d=$(awk -v t="$1" -v n="$(now_s)" 'BEGIN { d = t - n; if (d < 0) d = 0; printf "%.3f", d }')
    sleep "$d"
}
# The first whole minute at least $1 seconds from now.
next_minute() {
    awk -v n="$(now_s)" -v lead="$1" 'BEGIN { t = (n + lead) / 60; c = int(t); if (c < t) c++; printf "%.0f", c * 60 }'
}
# pg_cron's "minute hour" for the UTC minute starting at epoch $1 (pg_cron 1.4 reads schedules in UTC).
cron_minute_hour() { date -u -d "@$1" '+%-M %-H'; }

# ---- SQL ----

csql() { as_pg_user "$PG_BIN/psql" -h "$CHRONOS_DIR" -p "$CHRONOS_PORT" -d bench -X -qAt -v ON_ERROR_STOP=1 "$@"; }
rsql() { as_pg_user "$PG_BIN/psql" -h "$CRON_DIR" -p "$CRON_PORT" -d bench -X -qAt -v ON_ERROR_STOP=1 "$@"; }

# set_setting SQL NAME VALUE: ALTER SYSTEM on the cluster that SQL (csql or rsql) talks to, and reload (background
# workers read it on SIGHUP); DEFAULT resets it.
set_setting() {
    if [ "$3" = DEFAULT ]; then
        "$1" -c "ALTER SYSTEM RESET $2" -c "SELECT pg_reload_conf()" >/dev/null
    else
        "$1" -c "ALTER SYSTEM SET $2 = '$3'" -c "SELECT pg_reload_conf()" >/dev/null
    fi
}
set_chronos_setting() { set_setting csql "$@"; }

# The lateness scenarios measure when runs start, not how long the storage takes to flush the WAL: their commits do
# not wait for the flush (synchronous_commit = off on both clusters, for that window only), and bench/flush_floor.py
# measures the flush time of the machine's storage beside them. Every other scenario commits synchronously.
flush_floor_start() {  # flush_floor_start PREFIX SECONDS
    python3 "$BENCH_DIR/flush_floor.py" 50 "$2" "$WORK" "$1" >>"$RESULTS" &
    FLUSH_FLOOR_PID=$!
    BACKGROUND_PIDS+=("$FLUSH_FLOOR_PID")
}
flush_floor_wait() { wait "$FLUSH_FLOOR_PID" || true; }
postmaster_pid() { head -n 1 "$1/data/postmaster.pid"; }

# ---- clusters ----

# A file the PostgreSQL user can read (pgbench scripts).
pg_file() {
    cat >"$WORK/$1"
    chmod 644 "$WORK/$1"
    echo "$WORK/$1"
}

start_chronos_cluster() {
    CHRONOS_DIR="$WORK/chronos"
    mkdir -p "$CHRONOS_DIR" && chown "$(pg_user)" "$CHRONOS_DIR"
    start_cluster "$CHRONOS_DIR" "$CHRONOS_PORT" "${COMMON_SETTINGS[@]}" "chronos.max_workers = $MAX_WORKERS"
    as_pg_user "$PG_BIN/createdb" -h "$CHRONOS_DIR" -p "$CHRONOS_PORT" bench
    csql -c "CREATE EXTENSION pg_chronos" -c "CREATE TABLE sink (id int, at timestamptz)"
}

# pg_cron: cron.database_name names the database of its catalog; background workers need no password or host setup.
start_cron_cluster() {
    CRON_DIR="$WORK/pg_cron"
    mkdir -p "$CRON_DIR" && chown "$(pg_user)" "$CRON_DIR"
    start_cluster "$CRON_DIR" "$CRON_PORT" "${COMMON_SETTINGS[@]}" \
        "shared_preload_libraries = 'pg_cron'" "cron.database_name = 'bench'" \
        "cron.use_background_workers = on" "cron.max_running_jobs = $MAX_WORKERS"
    as_pg_user "$PG_BIN/createdb" -h "$CRON_DIR" -p "$CRON_PORT" bench
    rsql -c "CREATE EXTENSION pg_cron" -c "CREATE TABLE sink (id int, at timestamptz)"
}

# ---- background samplers (bench/proc_stats.py) ----

declare -A WATCHERS
# watch_start NAME CLUSTER_DIR MATCH INTERVAL [CSV]: samples the matching processes until watch_stop NAME.
watch_start() {
    local name=$1 dir=$2 match=$3 interval=$4 csv=${5:-}
    python3 "$BENCH_DIR/proc_stats.py" --postmaster "$(postmaster_pid "$dir")" --match "$match" \
        --interval "$interval" --prefix "$name" --summary "$RESULTS" ${csv:+--csv "$csv"} &
    WATCHERS[$name]=$!
    BACKGROUND_PIDS+=("$!")
}
watch_stop() {
    local pid=${WATCHERS[$1]}
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

# CPU ticks the whole cluster in CLUSTER_DIR has used so far (proc_stats.py --total-ticks).
cluster_ticks() { python3 "$BENCH_DIR/proc_stats.py" --postmaster "$(postmaster_pid "$1")" --total-ticks; }
# Milliseconds of server CPU per unit: cpu_ms_per TICKS_BEFORE TICKS_AFTER UNITS
cpu_ms_per() { awk -v a="$1" -v b="$2" -v n="$3" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.3f", (b - a) * 1000 / hz / n }'; }

# CPU the rest of the machine used (outside both clusters, in cores) between load_begin and load_end KEY: the benchmark
# shares the machine with whatever else runs on it, and this says how much did.
machine_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }   # user nice system irq softirq steal
clusters_ticks() {
    local t=0
    [ -n "$CHRONOS_DIR" ] && t=$((t + $(cluster_ticks "$CHRONOS_DIR")))
    [ -n "$CRON_DIR" ] && t=$((t + $(cluster_ticks "$CRON_DIR")))
    echo "$t"
}
load_begin() { LOAD_AT="$(now_s) $(machine_ticks) $(clusters_ticks)"; }
load_end() {
    local t0 m0 c0
    read -r t0 m0 c0 <<<"$LOAD_AT"
    put "${1}_other_load_cores" "$(awk -v t0="$t0" -v t1="$(now_s)" -v m="$(( $(machine_ticks) - m0 ))" \
        -v c="$(( $(clusters_ticks) - c0 ))" -v hz="$(getconf CLK_TCK)" 'BEGIN { x = (m - c) / hz / (t1 - t0); if (x < 0) x = 0; printf "%.2f", x }')"
}

# ---- bookkeeping: commits and WAL over a window ----

# "commits lsn" of database bench as one observing session sees them: pg_stat_database.xact_commit (after
# pg_stat_clear_snapshot(), so not a cached value) and pg_current_wal_lsn().
observe() {
    $1 -c "SELECT pg_stat_clear_snapshot(); SELECT xact_commit || ' ' || pg_current_wal_lsn() FROM pg_stat_database WHERE datname = 'bench'" |
        tail -n 1
}
wal_bytes() { $1 -c "SELECT pg_wal_lsn_diff('$3', '$2')"; }

# Commit records and WAL volume between two LSNs: "commits record_bytes fpi_bytes" (pg_waldump --stats).
wal_records() {
    local dir=$1 from=$2 to=$3
    as_pg_user "$PG_BIN/pg_waldump" -p "$dir/data/pg_wal" -s "$from" -e "$to" --stats=record 2>/dev/null |
        awk '$1 == "Transaction/COMMIT" { c = $2 } $1 == "Total" { r = $3; f = $5 } END { printf "%d %d %d\n", c, r, f }'
}

# Commits one observing psql session adds to pg_stat_database (its start-up and its query), with the cluster idle.
calibrate_observer() {
    local sql=$1 a b
    a=$(observe "$sql"); sleep 0.3
    b=$(observe "$sql"); sleep 0.3
    a=$(observe "$sql"); sleep 0.3
    echo $(( ${a% *} - ${b% *} ))
}

# Ends the given processes (they report their statistics as they exit) and waits until they are gone.
end_processes_and_wait() {
    local sql=$1 pattern=$2 pids
    pids=$($sql -c "SELECT string_agg(pid::text, ' ') FROM pg_stat_activity WHERE backend_type LIKE '$pattern'")
    [ -z "$pids" ] && return 0
    $sql -c "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE backend_type LIKE '$pattern'" >/dev/null
    for _ in $(seq 50); do
        local alive=0
        for p in $pids; do [ -e "/proc/$p" ] && alive=1; done
        [ "$alive" = 0 ] && break
        sleep 0.1
    done
    sleep 0.3
}

# ---- machine ----

record_machine() {
    put machine_nproc "$(nproc)"
    put machine_memory_gib "$(awk '/MemTotal/ { printf "%.1f", $2 / 1048576 }' /proc/meminfo)"
    put machine_cpu "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
    put machine_kernel "$(uname -r)"
    put machine_os "$(. /etc/os-release && echo "$PRETTY_NAME")"
    put machine_load_start "$(cut -d ' ' -f 1-3 /proc/loadavg)"
    put pg_version "$(csql -c 'SHOW server_version')"
    put pg_cron_version "$(dpkg-query -W -f='${Version}' "postgresql-$PG_MAJOR-cron" | sed 's/-[^-]*$//') (Debian package $(dpkg-query -W -f='${Version}' "postgresql-$PG_MAJOR-cron"), extension version $(rsql -c "SELECT extversion FROM pg_extension WHERE extname = 'pg_cron'"))"
    put chronos_version "$(csql -c "SELECT extversion FROM pg_extension WHERE extname = 'pg_chronos'")"
    put setting_shared_buffers "$(csql -c 'SHOW shared_buffers')"
    put setting_fsync "$(csql -c 'SHOW fsync')"
    put setting_synchronous_commit "$(csql -c 'SHOW synchronous_commit')"
    put setting_max_worker_processes "$(csql -c 'SHOW max_worker_processes')"
    put setting_chronos_max_workers "$(csql -c 'SHOW chronos.max_workers')"
    put setting_cron_max_running_jobs "$(rsql -c 'SHOW cron.max_running_jobs')"
    put setting_cron_use_background_workers "$(rsql -c 'SHOW cron.use_background_workers')"
}
