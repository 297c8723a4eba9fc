-- The views users read: chronos.task_status (one row per task, with status_code and overdue), chronos.running (runs in
-- progress) and chronos.history (runs, newest first), and the columns of chronos.runs. Tasks start in 2030 so that no
-- worker runs them; a task made overdue is looked at inside a transaction that is rolled back.
SET TimeZone = 'UTC';
SET DateStyle = 'ISO';
SET IntervalStyle = 'postgres';

-- Columns, in order.
SELECT table_name, ordinal_position AS "#", column_name,
       CASE WHEN data_type = 'USER-DEFINED' THEN udt_schema || '.' || udt_name ELSE data_type END AS type
  FROM information_schema.columns
 WHERE table_schema = 'chronos' AND table_name IN ('task_status', 'running', 'history', 'runs')
 ORDER BY table_name, ordinal_position;

--
-- chronos.task_status: status_code is 0 for a task not run yet, 1 for an active one (run before, or running), 2 done,
-- -1 failed, -2 paused.
--
INSERT INTO chronos.tasks (name, schedule, command, start_time)
VALUES ('not-yet-run', '@daily', 'SELECT 1', '2030-01-01 00:00+00'),
       ('active', '@hourly', 'SELECT 2', '2030-01-01 00:00+00'),
       ('paused', '0 12 * * *', 'SELECT 5', '2030-01-01 00:00+00');
INSERT INTO chronos.tasks (name, command, start_time)
VALUES ('done', 'SELECT 3', '2030-01-01 00:00+00'),
       ('failed', 'SELECT 4', '2030-01-01 00:00+00');
UPDATE chronos.tasks
   SET run_count = 3, last_exec_time = '2029-12-31 23:00+00', last_status = 'succeeded',
       last_duration = '00:00:01.5'
 WHERE name = 'active';
UPDATE chronos.tasks
   SET status = 'done', run_count = 1, last_exec_time = '2030-01-01 00:00+00', last_status = 'succeeded',
       last_duration = '00:00:02', next_exec_time = NULL
 WHERE name = 'done';
UPDATE chronos.tasks
   SET status = 'failed', run_count = 1, failure_count = 1, last_exec_time = '2030-01-01 00:00+00',
       last_status = 'failed', last_error = '42P01: relation "missing" does not exist', last_duration = '00:00:00.25',
       next_exec_time = NULL
 WHERE name = 'failed';
UPDATE chronos.tasks SET status = 'paused' WHERE name = 'paused';
SELECT name, type, status, status_code, schedule, timezone, next_exec_time, run_count, failure_count, overdue
  FROM chronos.task_status ORDER BY status_code DESC, name;
SELECT name, last_exec_time, last_status, last_duration, last_error, owner = current_user::regrole AS owner_is_writer, command
  FROM chronos.task_status ORDER BY name;
-- one row per task, with the task's id
SELECT count(*) AS task_status_rows, count(*) FILTER (WHERE s.id = t.id) AS same_ids
  FROM chronos.task_status s JOIN chronos.tasks t USING (name);

-- overdue: how long a scheduled task has been due without running (NULL when it is not due, or not scheduled)
BEGIN;
UPDATE chronos.tasks SET next_exec_time = now() - interval '5 minutes' WHERE name IN ('not-yet-run', 'paused');
UPDATE chronos.tasks SET next_exec_time = now() - interval '1 hour 30 minutes' WHERE name = 'active';
SELECT name, status, status_code, overdue FROM chronos.task_status ORDER BY name;
ROLLBACK;

--
-- chronos.running: nothing runs, so it is empty, like the function under it.
--
SELECT count(*) AS running FROM chronos.running;
SELECT count(*) AS running_tasks FROM chronos.running_tasks();

--
-- chronos.history: chronos.runs newest first, with duration (finished_at - started_at) and lateness
-- (started_at - scheduled_for). Rows are written here by hand for tasks that do not exist.
--
INSERT INTO chronos.runs (task_id, task_name, owner, scheduled_for, started_at, finished_at, status, error, result, pid)
VALUES (-1, 'first', current_user, '2030-01-01 00:00+00', '2030-01-01 00:00:00.25+00', '2030-01-01 00:00:01+00',
        'succeeded', NULL, 'SELECT 1', 101),
       (-1, 'second', current_user, '2030-01-01 01:00+00', '2030-01-01 01:00:02+00', '2030-01-01 01:01:00+00',
        'failed', '42P01: relation "missing" does not exist', NULL, 102),
       (-2, 'third', current_user, '2030-01-01 02:00+00', '2030-01-01 02:00:00+00', NULL, 'running', NULL, NULL, 103);
SELECT task_id, task_name, owner = current_user::regrole AS owner_is_writer, status, scheduled_for, started_at, finished_at,
       duration, lateness, error, result, pid
  FROM chronos.history WHERE task_id < 0;
SELECT count(*) FILTER (WHERE h.run_id = r.run_id) AS same_run_ids
  FROM chronos.history h JOIN chronos.runs r USING (task_name) WHERE r.task_id < 0;
DELETE FROM chronos.runs WHERE task_id < 0;

DELETE FROM chronos.tasks;
