-- The helpers over chronos.tasks: chronos.schedule() creates or changes a loop task by name, chronos.run_at() a once
-- task, chronos.unschedule() deletes one. Each returns what the single statement it runs did. Tasks start in 2030 so
-- that no worker runs them.
SET TimeZone = 'UTC';
SET DateStyle = 'ISO';
SET IntervalStyle = 'postgres';

--
-- chronos.schedule: a new name inserts a loop task and returns its id.
--
SELECT chronos.schedule('nightly', '30 3 * * *', 'SELECT 1', start_time => '2030-01-01 00:00+00') AS nightly_id \gset
SELECT id = :nightly_id AS returns_the_id, name, type, schedule, timezone, command, status, start_time, next_exec_time
  FROM chronos.tasks WHERE name = 'nightly';
-- the same name again changes the schedule and command of that task: same id, one row, next_exec_time recomputed,
-- timezone and start_time kept when not given
SELECT chronos.schedule('nightly', '0 4 * * *', 'SELECT 2') = :nightly_id AS same_task;
SELECT count(*) AS rows_named_nightly FROM chronos.tasks WHERE name = 'nightly';
SELECT name, type, schedule, timezone, command, status, start_time, next_exec_time
  FROM chronos.tasks WHERE name = 'nightly';
-- a time zone given replaces the stored one; a start time given replaces the stored one
SELECT chronos.schedule('nightly', '0 4 * * *', 'SELECT 2', timezone => 'Europe/Paris') = :nightly_id AS same_task;
SELECT name, schedule, timezone, start_time, next_exec_time FROM chronos.tasks WHERE name = 'nightly';
SELECT chronos.schedule('nightly', '0 4 * * *', 'SELECT 2', start_time => '2030-06-01 00:00+00') = :nightly_id
       AS same_task;
SELECT name, schedule, timezone, start_time, next_exec_time FROM chronos.tasks WHERE name = 'nightly';
-- the session's TimeZone applies to new tasks only: an existing task keeps its zone
SET TimeZone = 'Asia/Tokyo';
SELECT chronos.schedule('nightly', '0 5 * * *', 'SELECT 3') = :nightly_id AS same_task;
SELECT chronos.schedule('tokyo', '0 9 * * *', 'SELECT 4', start_time => '2030-01-01 00:00+00') IS NOT NULL AS created;
SET TimeZone = 'UTC';
SELECT name, schedule, timezone, command, next_exec_time FROM chronos.tasks WHERE name IN ('nightly', 'tokyo')
 ORDER BY name;
-- arguments by position
SELECT chronos.schedule('weekdays', '0 9 * * MON-FRI', 'SELECT 5', 'America/New_York', '2030-01-01 00:00+00')
       IS NOT NULL AS created;
SELECT name, schedule, timezone, start_time, next_exec_time FROM chronos.tasks WHERE name = 'weekdays';

-- A done or failed task is scheduled again (its next_exec_time recomputed); a paused one stays paused.
UPDATE chronos.tasks SET status = 'done', next_exec_time = NULL WHERE name = 'nightly';
SELECT chronos.schedule('nightly', '0 6 * * *', 'SELECT 6') = :nightly_id AS same_task;
SELECT name, status, schedule, next_exec_time FROM chronos.tasks WHERE name = 'nightly';
UPDATE chronos.tasks SET status = 'failed' WHERE name = 'nightly';
SELECT chronos.schedule('nightly', '0 7 * * *', 'SELECT 7') = :nightly_id AS same_task;
SELECT name, status, schedule, next_exec_time FROM chronos.tasks WHERE name = 'nightly';
UPDATE chronos.tasks SET status = 'paused' WHERE name = 'nightly';
SELECT chronos.schedule('nightly', '0 8 * * *', 'SELECT 8') = :nightly_id AS same_task;
SELECT name, status, schedule, command FROM chronos.tasks WHERE name = 'nightly';
UPDATE chronos.tasks SET status = 'scheduled' WHERE name = 'nightly';
SELECT name, status, schedule, next_exec_time FROM chronos.tasks WHERE name = 'nightly';

-- The helper goes through the same checks as a direct INSERT or UPDATE; a refused call changes nothing.
SELECT chronos.schedule('nightly', '0 0 * * SOMEDAY', 'SELECT 9');
SELECT chronos.schedule('nightly', '0 9 * * *', '');
SELECT chronos.schedule('nightly', '0 9 * * *', 'SELECT 9', timezone => 'Atlantis/Capital');
SELECT chronos.schedule('no-schedule', NULL, 'SELECT 9', start_time => '2030-01-01 00:00+00');
SELECT chronos.schedule('bad-start', '@daily', 'SELECT 9', start_time => 'infinity');
SELECT chronos.schedule('nightly', '0 9 * * *', 'SELECT 1; SELEC 2');
SELECT name, status, schedule, timezone, command, next_exec_time FROM chronos.tasks WHERE name = 'nightly';
SELECT count(*) AS stored FROM chronos.tasks WHERE name IN ('no-schedule', 'bad-start');

--
-- chronos.run_at: a once task at a given time; the same name again replaces its time and command.
--
SELECT chronos.run_at('one-off', '2030-05-01 10:00+00', 'SELECT 10') AS one_off_id \gset
SELECT id = :one_off_id AS returns_the_id, name, type, schedule, command, status, start_time, next_exec_time
  FROM chronos.tasks WHERE name = 'one-off';
SELECT chronos.run_at('one-off', '2030-05-02 11:00+00', 'SELECT 11') = :one_off_id AS same_task;
SELECT count(*) AS rows_named_one_off FROM chronos.tasks WHERE name = 'one-off';
SELECT name, type, schedule, command, status, start_time, next_exec_time FROM chronos.tasks WHERE name = 'one-off';
-- a done, failed or paused task is scheduled again
UPDATE chronos.tasks SET status = 'done' WHERE name = 'one-off';
SELECT chronos.run_at('one-off', '2030-05-03 12:00+00', 'SELECT 12') = :one_off_id AS same_task;
SELECT name, status, start_time, next_exec_time FROM chronos.tasks WHERE name = 'one-off';
UPDATE chronos.tasks SET status = 'paused' WHERE name = 'one-off';
SELECT chronos.run_at('one-off', '2030-05-04 13:00+00', 'SELECT 13') = :one_off_id AS same_task;
SELECT name, status, start_time, next_exec_time FROM chronos.tasks WHERE name = 'one-off';
-- run_at turns a loop task into a once task, and chronos.schedule turns it back (keeping its start time)
SELECT chronos.run_at('weekdays', '2030-07-01 09:00+00', 'SELECT 14') IS NOT NULL AS replaced;
SELECT name, type, schedule, command, start_time, next_exec_time FROM chronos.tasks WHERE name = 'weekdays';
SELECT chronos.schedule('weekdays', '@every 12 hours', 'SELECT 15') IS NOT NULL AS replaced;
SELECT name, type, schedule, command, start_time, next_exec_time FROM chronos.tasks WHERE name = 'weekdays';
SELECT count(*) AS rows_named_weekdays FROM chronos.tasks WHERE name = 'weekdays';
-- refused like any other row
SELECT chronos.run_at('one-off', 'infinity', 'SELECT 16');
SELECT chronos.run_at('one-off', '2030-05-05 00:00+00', 'SELEC 16');
SELECT name, command, start_time FROM chronos.tasks WHERE name = 'one-off';

--
-- chronos.unschedule: true when it deleted the task, false when there was none.
--
SELECT chronos.unschedule('one-off') AS deleted;
SELECT chronos.unschedule('one-off') AS deleted_again;
SELECT chronos.unschedule('never-existed') AS deleted;
SELECT chronos.unschedule(NULL) AS deleted;
SELECT count(*) AS rows_named_one_off FROM chronos.tasks WHERE name = 'one-off';
-- only the named task goes
SELECT name FROM chronos.tasks ORDER BY name;
SELECT chronos.unschedule(name) FROM chronos.tasks ORDER BY name;
SELECT count(*) AS tasks_left FROM chronos.tasks;
