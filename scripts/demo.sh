#!/usr/bin/env bash
# Shows pg_chronos working: installs what it needs, builds, starts a throwaway cluster (temporary directory, its own socket,
# as a non-root user) that preloads the extension, runs the examples, and stops and removes the cluster on exit.
set -euo pipefail
source "$(dirname "$0")/common.sh"

install_packages
build_and_install_extension

dir=$(pg_scratch_dir)
port=54329
web_port=54330
web_pid=
cleanup() { [ -n "$web_pid" ] && kill "$web_pid" 2>/dev/null; stop_cluster "$dir"; rm -rf "$dir"; }
trap cleanup EXIT
log "starting a throwaway cluster in $dir"
start_cluster "$dir" "$port" "timezone = 'UTC'"

sql() { as_pg_user "$PG_BIN/psql" -h "$dir" -p "$port" -U postgres -d postgres -X -q -v ON_ERROR_STOP=1 "$@"; }

sql -c "CREATE EXTENSION pg_chronos"

log "schedules, described in English, with their next runs"
sql <<'SQL'
\pset footer off
SELECT s AS schedule,
       chronos.describe_schedule(s, 'Europe/Paris') AS description,
       (SELECT string_agg(to_char(t AT TIME ZONE 'Europe/Paris', 'Dy YYYY-MM-DD HH24:MI:SS'), ', ')
          FROM chronos.next_runs(s, '2026-03-27 12:00+00', 3, 'Europe/Paris') AS t) AS "next 3 runs (Paris time)"
  FROM unnest(ARRAY['*/15 9-17 * * MON-FRI', '30 2 * * *', '0 0 L * *', '0 9 * * 1#2', '*/20 * * * * *',
                    '@hourly', '@every 90m', '1 month', '@after 5m', 'every 2 days at 23:59:30']) AS s;
SQL

log "daylight saving: 02:30 does not exist in New York on 2026-03-08, so that run happens at 03:00"
sql -c "SELECT * FROM chronos.next_runs('30 2 * * *', '2026-03-07 12:00+00', 3, 'America/New_York')"

log "a mistake is explained, and nothing is stored"
sql -c "INSERT INTO chronos.tasks (name, schedule, command) VALUES ('typo', '0 25 * * *', 'SELECT 1')" 2>&1 || true

log "scheduling tasks: they run in background workers, as their owner"
sql <<'SQL'
CREATE TABLE ticks (task text, at timestamptz DEFAULT clock_timestamp());
-- a once task, 3 seconds from now
INSERT INTO chronos.tasks (name, command, start_time)
VALUES ('hello-once', $$INSERT INTO ticks VALUES ('hello-once')$$, now() + interval '3 seconds');
-- a 6-field cron loop: every 2 seconds
SELECT chronos.schedule('every-2s', '*/2 * * * * *', $$INSERT INTO ticks VALUES ('every-2s')$$);
-- a fixed-rate interval
SELECT chronos.schedule('every-3s', '@every 3s', $$INSERT INTO ticks VALUES ('every-3s')$$);
-- a task that fails: its error is recorded, the workers carry on
SELECT chronos.schedule('fails', '@every 4s', 'SELECT 1/0');
-- VACUUM cannot run in a transaction: detected, and run at top level
SELECT chronos.run_at('vacuum', now() + interval '1 second', 'VACUUM ANALYZE ticks');
SQL

log "HTTP and shell tasks: a local web server on 127.0.0.1:$web_port answers them"
mkdir -p "$dir/www" && echo '{"status": "ok"}' > "$dir/www/health.json"
python3 -m http.server "$web_port" --bind 127.0.0.1 --directory "$dir/www" >/dev/null 2>&1 &
web_pid=$!
for _ in $(seq 50); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1', $web_port), 0.2)" 2>/dev/null && break
    sleep 0.1
done
sql -v web="http://127.0.0.1:$web_port" <<'SQL'
-- GET a URL every 2 seconds: a 2xx status succeeds, the status line and the body's start are the result
INSERT INTO chronos.tasks (name, kind, schedule, command)
VALUES ('http-health', 'http', '@every 2s', :'web' || '/health.json');
-- a 404 fails the run with the status as its error
INSERT INTO chronos.tasks (name, kind, command) VALUES ('http-missing', 'http', :'web' || '/nothing-here');
-- a shell command (superusers and members of pg_execute_server_program only), its output kept as the result
INSERT INTO chronos.tasks (name, kind, command)
VALUES ('shell-hello', 'shell', 'echo "task $CHRONOS_TASK, run $CHRONOS_RUN_ID, in $PWD"');
SQL
echo "waiting 7 seconds while they run..."
sleep 7

log "chronos.task_status"
sql -c "SELECT name, type, status, status_code, schedule, next_exec_time::time(0) AS next, last_status, run_count,
               failure_count, last_error FROM chronos.task_status ORDER BY id"
log "the latest runs (chronos.history)"
sql -c "SELECT run_id, task_name, status, scheduled_for::time(0), lateness, duration, result, error
          FROM chronos.history LIMIT 12"
log "the HTTP and shell runs, with their results"
sql -c "SELECT task_name, status, error, replace(result, E'\n', ' | ') AS result FROM chronos.history
          WHERE task_name LIKE 'http-%' OR task_name LIKE 'shell-%' LIMIT 6" | cut -c1-150
log "what the tasks did"
sql -c "SELECT task, count(*) AS runs FROM ticks GROUP BY task ORDER BY task"
