-- Whether the scheduler serves this database, at a glance: SELECT * FROM chronos.scheduler. The facts come from the
-- workers' shared memory; the view adds the catalog's version and, when something is amiss, what to do about it.

CREATE FUNCTION chronos.scheduler_status(
    OUT preloaded boolean, OUT launcher_running boolean, OUT enabled boolean, OUT database_served boolean,
    OUT executors int, OUT runs_in_progress int, OUT library_version text)
RETURNS record
LANGUAGE C VOLATILE AS 'MODULE_PATHNAME', 'chronos_scheduler_status';

COMMENT ON FUNCTION chronos.scheduler_status() IS
'whether the library is preloaded, its launcher runs, chronos.enabled is on and a worker serves this database';

CREATE VIEW chronos.scheduler WITH (security_invoker = true) AS
SELECT s.preloaded, s.launcher_running, s.enabled, s.database_served, s.executors, s.runs_in_progress,
       e.extversion AS catalog_version, s.library_version,
       CASE WHEN NOT s.preloaded
            THEN 'Add pg_chronos to shared_preload_libraries in postgresql.conf and restart the server.'
            WHEN NOT s.launcher_running AND pg_catalog.pg_is_in_recovery()
            THEN 'This server is in recovery (a standby): tasks run once it is promoted.'
            WHEN NOT s.launcher_running
            THEN 'The pg_chronos launcher is not running: see the server log.'
            WHEN e.extversion OPERATOR(pg_catalog.<>) s.library_version
            THEN 'Run ALTER EXTENSION pg_chronos UPDATE in this database.'
            WHEN NOT s.enabled
            THEN 'chronos.enabled is off: due tasks wait until it is turned on.'
            WHEN NOT s.database_served
            THEN 'No worker serves this database yet: it starts within seconds, else see the server log.'
       END AS hint
  FROM chronos.scheduler_status() s
  JOIN pg_catalog.pg_extension e ON e.extname OPERATOR(pg_catalog.=) 'pg_chronos';

COMMENT ON VIEW chronos.scheduler IS 'whether the scheduler serves this database, and if not, what to do';

-- Every executor of the cluster, from the workers' shared memory: SELECT * FROM chronos.executors. As in
-- pg_stat_activity, anyone sees the database, pid, state and since; the task being run and its owner only members of
-- that owner and of pg_read_all_stats.
CREATE FUNCTION chronos.executor_status(
    OUT database name, OUT pid int, OUT state text, OUT task_id bigint, OUT owner regrole, OUT since timestamptz)
RETURNS SETOF record
LANGUAGE C VOLATILE AS 'MODULE_PATHNAME', 'chronos_executor_status';

COMMENT ON FUNCTION chronos.executor_status() IS
'every pg_chronos executor of the cluster: its database, pid, state, the task it runs and since when';

CREATE VIEW chronos.executors WITH (security_invoker = true) AS
SELECT database, pid, state, task_id, owner, since FROM chronos.executor_status();

COMMENT ON VIEW chronos.executors IS
'every pg_chronos executor of the cluster (state: running, waiting, watching, idle, retiring), and since when';
