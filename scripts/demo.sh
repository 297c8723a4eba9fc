#!/usr/bin/env bash
# Shows pg_chronos working: installs what it needs, builds, starts a throwaway cluster (temporary directory, its own socket,
# as a non-root user) that preloads the extension, runs the examples, and stops and removes the cluster on exit.
set -euo pipefail
source "$(dirname "$0")/common.sh"

install_packages
build_and_install_extension

dir=$(pg_scratch_dir)
port=54329
cleanup() { stop_cluster "$dir"; rm -rf "$dir"; }
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

log "a mistake is explained"
sql -c "SELECT chronos.describe_schedule('0 25 * * *')" 2>&1 || true
