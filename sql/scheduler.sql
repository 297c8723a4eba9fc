-- chronos.scheduler: whether the scheduler serves this database, at a glance. The regression instance preloads the
-- library, so its launcher runs and a worker comes to serve this database soon after CREATE EXTENSION.

-- Columns, in order.
SELECT ordinal_position AS "#", column_name, data_type
  FROM information_schema.columns
 WHERE table_schema = 'chronos' AND table_name = 'scheduler'
 ORDER BY ordinal_position;

-- A worker serves this database within a minute (it usually takes well under a second).
DO $$
BEGIN
    FOR i IN 1..600 LOOP
        EXIT WHEN (SELECT database_served FROM chronos.scheduler);
        PERFORM pg_catalog.pg_sleep(0.1);
    END LOOP;
END
$$;

-- Served: preloaded, launcher running, on, the catalog the library serves, nothing to do (no hint).
SELECT preloaded, launcher_running, enabled, database_served, executors >= 1 AS has_executor, runs_in_progress,
       catalog_version = library_version AS versions_match, hint
  FROM chronos.scheduler;

-- The install script's check passes where the library is preloaded.
SELECT chronos.check_preloaded();

-- The view is one row, and reads like the function beneath it.
SELECT count(*) AS rows FROM chronos.scheduler;
SELECT (s.preloaded, s.launcher_running, s.enabled) = (f.preloaded, f.launcher_running, f.enabled) AS same
  FROM chronos.scheduler s, chronos.scheduler_status() f;

-- A monitoring role reads it with USAGE on the schema and SELECT on the view; it needs no grant on the tables.
CREATE ROLE scheduler_reader;
GRANT USAGE ON SCHEMA chronos TO scheduler_reader;
GRANT SELECT ON chronos.scheduler TO scheduler_reader;
SET ROLE scheduler_reader;
SELECT preloaded, launcher_running, enabled, database_served, runs_in_progress, hint FROM chronos.scheduler;
RESET ROLE;
REVOKE ALL ON chronos.scheduler FROM scheduler_reader;
REVOKE ALL ON SCHEMA chronos FROM scheduler_reader;
DROP ROLE scheduler_reader;
