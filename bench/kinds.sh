#!/usr/bin/env bash
# Benchmarks HTTP and shell tasks on a throwaway cluster with chronos.max_workers = 4, against real servers on loopback:
#   1. 200 HTTP tasks due together, against an endpoint that answers after 500 ms (target: all done within 3 s)
#   2. 10,000 HTTP tasks due together, against nginx answering at once (target: >= 2,000 requests/s, >= 10x pg_net's
#      published 164 requests/s); nginx's own ceiling is measured beside it with wrk, at the same concurrency
#   3. 100 shell tasks of `sleep 1` due together (target: all done within 3 s)
#   4. 1,000 shell tasks of `true` due together (target: >= 300 runs/s)
# Prints one line per scenario and a table of ratios. Installs what it needs (nginx-light, wrk) with apt-get; as root,
# the cluster runs as "postgres" in a temporary directory on a private socket.
#   bench/kinds.sh [--rounds N]    N rounds of each scenario (default 3); the median is reported
set -Eeuo pipefail
source "$(dirname "$0")/../scripts/common.sh"

ROUNDS=3
[ "${1:-}" = --rounds ] && ROUNDS=$2
install_packages "$CHRONOS_PACKAGES nginx-light wrk"
build_and_install_extension

dir=$(pg_scratch_dir)
port=54350 nginx_port=54351
slow_pid=
cleanup() {
    [ -n "$slow_pid" ] && kill "$slow_pid" 2>/dev/null
    [ -f "$dir/nginx.pid" ] && kill "$(cat "$dir/nginx.pid")" 2>/dev/null
    stop_cluster "$dir"
    rm -rf "$dir"
}
trap cleanup EXIT

# nginx: one worker (the cluster has the other core), answering at once.
mkdir -p "$dir/nginx"
cat > "$dir/nginx/nginx.conf" <<CONF
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/nginx/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 100000;
    server {
        listen 127.0.0.1:$nginx_port backlog=4096;
        location / { return 200 "ok\n"; }
    }
}
CONF
/usr/sbin/nginx -c "$dir/nginx/nginx.conf" -p "$dir/nginx" -g 'daemon on;'
# The slow endpoint: a threaded server that sleeps 500 ms per request.
python3 "$CHRONOS_ROOT/test/http_server.py" --log /dev/null > "$dir/slow.port" &
slow_pid=$!
for _ in $(seq 100); do [ -s "$dir/slow.port" ] && break; sleep 0.1; done
slow_port=$(head -1 "$dir/slow.port")

log "nginx's own ceiling (wrk, 1 thread, 100 connections, 5 s)"
ceiling=$(wrk -t1 -c100 -d5s "http://127.0.0.1:$nginx_port/" | awk '/Requests\/sec/ {print $2}')
echo "nginx: $ceiling requests/s"

start_cluster "$dir" "$port" "chronos.max_workers = 4" "max_worker_processes = 20" "timezone = 'UTC'" \
    "log_min_messages = warning"
sql() { as_pg_user "$PG_BIN/psql" -h "$dir" -p "$port" -U postgres -d postgres -X -q -At -v ON_ERROR_STOP=1 -c "$1"; }
sql "CREATE EXTENSION pg_chronos"

# Inserts $1 tasks of kind $2 with command $3, due together 2 s from now; waits until every one ran; prints
# "count seconds_from_due_to_last_end first_start_lateness".
burst() {
    local count=$1 kind=$2 command=$3
    sql "TRUNCATE chronos.runs; DELETE FROM chronos.tasks"
    local due
    due=$(sql "SELECT date_trunc('second', clock_timestamp()) + interval '3 s'")
    sql "INSERT INTO chronos.tasks (name, kind, command, start_time)
         SELECT 'b' || i, '$kind', '$command', '$due' FROM generate_series(1, $count) i"
    for _ in $(seq 600); do
        [ "$(sql "SELECT count(*) FROM chronos.runs WHERE status <> 'running'")" -ge "$count" ] && break
        sleep 0.1
    done
    sql "SELECT count(*) FILTER (WHERE status = 'succeeded'),
                round(extract(epoch FROM max(finished_at) - '$due'::timestamptz)::numeric, 3),
                round(extract(epoch FROM min(started_at) - '$due'::timestamptz)::numeric, 3)
           FROM chronos.runs" | tr '|' ' '
}

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

declare -A seconds ok
run_scenario() {
    local key=$1 count=$2 kind=$3 command=$4
    local results=()
    for round in $(seq "$ROUNDS"); do
        read -r succeeded took first <<< "$(burst "$count" "$kind" "$command")"
        echo "   $key round $round: $succeeded/$count succeeded, last done $took s after due (first start ${first} s)"
        results+=("$took")
        ok[$key]=$(( ${ok[$key]:-0} + succeeded ))
    done
    seconds[$key]=$(printf '%s\n' "${results[@]}" | median)
}

log "1. 200 HTTP tasks, endpoint answering after 500 ms"
run_scenario slow200 200 http "http://127.0.0.1:$slow_port/slow?ms=500"
log "2. 10,000 HTTP tasks, nginx"
run_scenario fast10k 10000 http "http://127.0.0.1:$nginx_port/"
log "3. 100 shell tasks of sleep 1"
run_scenario sleep100 100 shell "sleep 1"
log "4. 1,000 shell tasks of true"
run_scenario true1k 1000 shell "true"

rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", n / s }'; }
http_rate=$(rate 10000 "${seconds[fast10k]}")
shell_rate=$(rate 1000 "${seconds[true1k]}")
log "results (median of $ROUNDS rounds; times from the tasks' due time to the last run's end)"
printf '%-44s %12s %14s %s\n' scenario measured target ratio
printf '%-44s %11ss %14s %s\n' "200 HTTP x 500 ms, 4 workers" "${seconds[slow200]}" "<= 3 s" \
    "$(awk -v s="${seconds[slow200]}" 'BEGIN { printf "%.2f of the target", s / 3 }')"
printf '%-44s %10s/s %14s %s\n' "10,000 HTTP to nginx" "$http_rate" ">= 2,000/s" \
    "$(awk -v r="$http_rate" -v c="$ceiling" 'BEGIN { printf "%.1fx pg_net (164/s), %.0f%% of nginx+wrk (%.0f/s)", r / 164, 100 * r / c, c }')"
printf '%-44s %11ss %14s %s\n' "100 shell x sleep 1, 4 workers" "${seconds[sleep100]}" "<= 3 s" \
    "$(awk -v s="${seconds[sleep100]}" 'BEGIN { printf "%.2f of the target", s / 3 }')"
printf '%-44s %10s/s %14s %s\n' "1,000 shell x true" "$shell_rate" ">= 300/s" \
    "$(awk -v r="$shell_rate" 'BEGIN { printf "%.1fx the target", r / 300 }')"
