-- pg_chronos 1.0 → 1.1 (ALTER EXTENSION pg_chronos UPDATE). Brings a 1.0 catalog to exactly what a fresh 1.1 install
-- creates (test/t/200_upgrade.pl compares the two catalogs); tasks, listeners, history and the grants a DBA gave on the
-- extension's tables and views are kept.
\echo Use "ALTER EXTENSION pg_chronos UPDATE" to load this file. \quit

-- The views are recreated (their columns change type); the grants given on them are put back afterwards.
SELECT pg_catalog.set_config('pg_chronos_upgrade.view_grants', coalesce(pg_catalog.json_agg(g)::pg_catalog.text, '[]'), true)
  FROM (SELECT c.relname, a.grantee, a.privilege_type
          FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) a
         WHERE c.relnamespace OPERATOR(pg_catalog.=) 'chronos'::pg_catalog.regnamespace
           AND c.relkind OPERATOR(pg_catalog.=) 'v' AND a.grantee OPERATOR(pg_catalog.<>) c.relowner) g;

DROP VIEW chronos.running, chronos.task_status, chronos.history, chronos.task_stats;

-- Owners are bound by role OID (regrole), not by name: renaming a role keeps its tasks, and a new role with an old
-- name gets none of them. Rows of a role that no longer exists get OID 0 and are never run.
CREATE FUNCTION chronos.owner_oid_1_0(owner name) RETURNS regrole
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$ SELECT coalesce((SELECT r.oid FROM pg_catalog.pg_authid r WHERE r.rolname OPERATOR(pg_catalog.=) owner), 0)::pg_catalog.regrole $$;
DROP POLICY tasks_of_my_roles ON chronos.tasks;
DROP POLICY runs_of_my_roles ON chronos.runs;
ALTER TABLE chronos.tasks ALTER COLUMN owner TYPE regrole USING chronos.owner_oid_1_0(owner);
ALTER TABLE chronos.runs ALTER COLUMN owner TYPE regrole USING chronos.owner_oid_1_0(owner);
DROP FUNCTION chronos.owner_oid_1_0(name);
DROP FUNCTION chronos.is_member_of(name);
COMMENT ON COLUMN chronos.tasks.owner IS 'role the command runs as (bound by OID); defaults to current_user';

-- Whether the current user is a member of role `owner`; false for a role that no longer exists. Owners are bound by
-- OID (regrole): renaming a role keeps its tasks, and a new role with an old name gets none of them.
CREATE FUNCTION chronos.is_member_of(owner regrole) RETURNS boolean
LANGUAGE C STABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'chronos_is_member_of_role';

CREATE POLICY tasks_of_my_roles ON chronos.tasks USING (chronos.is_member_of(owner));
CREATE POLICY runs_of_my_roles ON chronos.runs USING (chronos.is_member_of(owner));

CREATE VIEW chronos.running WITH (security_invoker = true) AS
SELECT t.id AS task_id, t.name AS task_name, t.owner, r.pid, r.scheduled_for, r.started_at,
       clock_timestamp() - r.started_at AS elapsed, r.transactional,
       a.state, a.wait_event_type, a.wait_event, a.backend_type
  FROM chronos.running_tasks() r
  JOIN chronos.tasks t ON t.id = r.task_id
  LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid = r.pid;

COMMENT ON VIEW chronos.running IS 'runs in progress';

CREATE VIEW chronos.task_status WITH (security_invoker = true) AS
SELECT t.id, t.name, t.type,
       CASE WHEN r.task_id IS NOT NULL THEN 'running'::chronos.task_state ELSE t.status END AS status,
       CASE WHEN r.task_id IS NOT NULL OR t.status = 'running' THEN 1
            WHEN t.status = 'scheduled' THEN CASE WHEN t.run_count = 0 THEN 0 ELSE 1 END
            WHEN t.status = 'done' THEN 2
            WHEN t.status = 'failed' THEN -1
            ELSE -2 END AS status_code,
       t.schedule, t.timezone, t.next_exec_time, t.last_exec_time, t.last_status, t.last_duration, t.last_error,
       t.run_count, t.failure_count, t.owner,
       CASE WHEN r.task_id IS NULL AND t.status = 'scheduled' AND t.next_exec_time < now()
            THEN now() - t.next_exec_time END AS overdue,
       t.command
  FROM chronos.tasks t
  LEFT JOIN chronos.running_tasks() r ON r.task_id = t.id;

COMMENT ON VIEW chronos.task_status IS 'one readable row per task';

CREATE VIEW chronos.history WITH (security_invoker = true) AS
SELECT run_id, task_id, task_name, owner, status, scheduled_for, started_at, finished_at,
       finished_at - started_at AS duration, started_at - scheduled_for AS lateness, error, result, pid
  FROM chronos.runs
 ORDER BY run_id DESC;

COMMENT ON VIEW chronos.history IS 'runs, newest first';

CREATE VIEW chronos.task_stats WITH (security_invoker = true) AS
SELECT t.id AS task_id, t.name,
       count(r.run_id) AS runs,
       count(r.run_id) FILTER (WHERE r.status <> 'succeeded') AS failures,
       round(100.0 * count(r.run_id) FILTER (WHERE r.status = 'succeeded') / nullif(count(r.run_id), 0), 1)
           AS success_rate,
       avg(r.finished_at - r.started_at) AS avg_duration,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY r.finished_at - r.started_at) AS p50_duration,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY r.finished_at - r.started_at) AS p95_duration,
       max(r.finished_at - r.started_at) AS max_duration,
       (SELECT e.error FROM chronos.runs e
         WHERE e.task_id = t.id AND e.status NOT IN ('succeeded', 'running') ORDER BY e.run_id DESC LIMIT 1)
           AS last_error,
       max(r.started_at) FILTER (WHERE r.status = 'succeeded') AS last_success
  FROM chronos.tasks t
  LEFT JOIN chronos.runs r ON r.task_id = t.id AND r.status <> 'running'
 GROUP BY t.id, t.name;

COMMENT ON VIEW chronos.task_stats IS 'per task, over the runs kept in chronos.runs: counts, success rate, durations';

DO $$
DECLARE
    g record;
BEGIN
    FOR g IN SELECT * FROM pg_catalog.json_to_recordset(pg_catalog.current_setting('pg_chronos_upgrade.view_grants')::pg_catalog.json)
                        AS x(relname text, grantee oid, privilege_type text) LOOP
        EXECUTE pg_catalog.format('GRANT %s ON chronos.%I TO %s', g.privilege_type, g.relname,
                                  CASE WHEN g.grantee OPERATOR(pg_catalog.=) 0 THEN 'PUBLIC'
                                       ELSE g.grantee::pg_catalog.regrole::pg_catalog.text END);
    END LOOP;
END
$$;

-- Fair share between owners: a claim whose earliest due task belongs to an owner with runs in progress looks, one
-- index descent per owner, for the earliest due task of an owner with fewer.
CREATE INDEX tasks_owner_due ON chronos.tasks (owner, next_exec_time) WHERE status = 'scheduled';
