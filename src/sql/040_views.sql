-- What users read from psql. The views run with the reader's rights (security_invoker), so row-level security applies.
-- Runs in progress come from the workers' shared memory: a transactional run commits its bookkeeping only when it ends.

CREATE FUNCTION chronos.running_tasks(
    OUT task_id bigint, OUT pid int, OUT scheduled_for timestamptz, OUT started_at timestamptz, OUT transactional boolean)
RETURNS SETOF record
LANGUAGE C STABLE STRICT AS 'MODULE_PATHNAME', 'chronos_running_tasks';

COMMENT ON FUNCTION chronos.running_tasks() IS 'tasks of this database being run by a worker right now';

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
