-- chronos.tasks as users write it: what the trigger fills in (type, timezone, owner, status, start_time,
-- next_exec_time), when it recomputes next_exec_time, and every row it refuses. Tasks start in 2030 so that no worker
-- runs them; rows that would be due now are only looked at inside a transaction that is rolled back, where no worker
-- can see them.
SET TimeZone = 'UTC';
SET DateStyle = 'ISO';
SET IntervalStyle = 'postgres';

--
-- Defaults and derivations.
--
-- once: no schedule, so type once; it runs at its start_time
INSERT INTO chronos.tasks (name, command, start_time) VALUES ('once-2030', 'SELECT 1', '2030-01-01 12:00+00');
-- loop: a schedule makes it a loop; its first run is the first fire time at or after start_time
INSERT INTO chronos.tasks (name, schedule, command, start_time)
VALUES ('cron-2030', '0 0 * * *', 'SELECT 2', '2030-01-01 00:00+00'),
       ('cron-2030-midday', '0 12 * * *', 'SELECT 3', '2030-01-01 00:00+00'),
       ('every-hour-2030', '@every 1 hour', 'SELECT 4', '2030-01-01 00:30+00'),
       ('after-10m-2030', '@after 10m', 'SELECT 5', '2030-01-01 00:30+00'),
       ('every-2-days-2030', 'every 2 days at 03:00', 'SELECT 6', '2030-01-01 12:00+00');
-- the timezone defaults to the writer's TimeZone, and the schedule is evaluated there
SET TimeZone = 'Europe/Paris';
INSERT INTO chronos.tasks (name, schedule, command, start_time)
VALUES ('paris-9am-2030', '0 9 * * *', 'SELECT 7', '2030-01-01 00:00+00');
SET TimeZone = 'UTC';
SELECT name, type, schedule, timezone, status, start_time, next_exec_time
  FROM chronos.tasks ORDER BY name;
-- owner is the writer; the counters start at zero and nothing has run yet
SELECT name, owner = current_user::regrole AS owner_is_writer, run_count, failure_count, transactional, remark,
       last_exec_time IS NULL AS never_ran, last_status, last_error, last_duration,
       created_at <= now() AS created_in_the_past
  FROM chronos.tasks ORDER BY name;
-- a type written out is kept; the time zone may be given
INSERT INTO chronos.tasks (name, type, schedule, timezone, command, start_time)
VALUES ('tokyo-9am-2030', 'loop', '0 9 * * *', 'Asia/Tokyo', 'SELECT 8', '2030-01-01 00:00+00');
INSERT INTO chronos.tasks (name, type, command, start_time)
VALUES ('once-typed-2030', 'once', 'SELECT 9', '2030-06-01 00:00+00');
SELECT name, type, timezone, next_exec_time FROM chronos.tasks WHERE name IN ('tokyo-9am-2030', 'once-typed-2030')
 ORDER BY name;

-- start_time defaults to now(): a once task is then due at once, a loop task at its first fire time from now on
-- (a fixed-rate one at now() itself). Rolled back so that no worker runs them.
BEGIN;
INSERT INTO chronos.tasks (name, command) VALUES ('once-now', 'SELECT 10');
INSERT INTO chronos.tasks (name, schedule, command)
VALUES ('daily-from-now', '@daily', 'SELECT 11'), ('hourly-rate-from-now', '@every 1 hour', 'SELECT 12');
SELECT name, type, start_time = now() AS starts_now, next_exec_time = now() AS due_now,
       next_exec_time = date_trunc('day', now()) + interval '1 day' AS due_next_midnight
  FROM chronos.tasks WHERE name IN ('once-now', 'daily-from-now', 'hourly-rate-from-now') ORDER BY name;
ROLLBACK;

-- A loop task whose start_time is past runs at its first fire time from now on, not at the missed ones: for a fixed
-- rate, the first start_time + k * interval not before now().
BEGIN;
INSERT INTO chronos.tasks (name, schedule, command, start_time)
VALUES ('weekly-rate-since-2020', '@every 7 days', 'SELECT 13', '2020-01-01 00:00+00'),
       ('daily-since-2020', '0 6 * * *', 'SELECT 14', '2020-01-01 00:00+00');
SELECT name, next_exec_time >= now() AS not_before_now,
       next_exec_time < now() + interval '7 days' AS within_a_period,
       extract(epoch FROM next_exec_time - start_time)::bigint % (7 * 86400) = 0 AS on_the_anchor_grid
  FROM chronos.tasks WHERE name = 'weekly-rate-since-2020';
SELECT name, next_exec_time = (CASE WHEN now() < date_trunc('day', now()) + interval '6 hours'
                                    THEN date_trunc('day', now()) ELSE date_trunc('day', now()) + interval '1 day'
                               END) + interval '6 hours' AS next_06_00
  FROM chronos.tasks WHERE name = 'daily-since-2020';
ROLLBACK;

--
-- Changing schedule, timezone, start_time or type recomputes next_exec_time; other changes keep it.
--
UPDATE chronos.tasks SET schedule = '30 18 * * *' WHERE name = 'cron-2030';
SELECT name, schedule, timezone, next_exec_time FROM chronos.tasks WHERE name = 'cron-2030';
UPDATE chronos.tasks SET timezone = 'America/New_York' WHERE name = 'cron-2030';
SELECT name, schedule, timezone, next_exec_time FROM chronos.tasks WHERE name = 'cron-2030';
UPDATE chronos.tasks SET start_time = '2030-03-10 00:00+00' WHERE name = 'cron-2030';
SELECT name, schedule, timezone, start_time, next_exec_time FROM chronos.tasks WHERE name = 'cron-2030';
UPDATE chronos.tasks SET type = 'once', schedule = NULL WHERE name = 'cron-2030';
SELECT name, type, schedule, start_time, next_exec_time FROM chronos.tasks WHERE name = 'cron-2030';
UPDATE chronos.tasks SET type = NULL, schedule = '@every 6 hours' WHERE name = 'cron-2030';
SELECT name, type, schedule, start_time, next_exec_time FROM chronos.tasks WHERE name = 'cron-2030';

-- A next_exec_time set by the user is kept: alone, together with a schedule change, and through later changes of
-- other columns.
UPDATE chronos.tasks SET next_exec_time = '2031-06-01 05:00+00' WHERE name = 'cron-2030-midday';
SELECT name, next_exec_time FROM chronos.tasks WHERE name = 'cron-2030-midday';
UPDATE chronos.tasks SET schedule = '0 1 * * *', next_exec_time = '2032-01-01 00:00+00'
 WHERE name = 'cron-2030-midday';
SELECT name, schedule, next_exec_time FROM chronos.tasks WHERE name = 'cron-2030-midday';
UPDATE chronos.tasks SET command = 'SELECT 33', remark = 'moved by hand', transactional = false
 WHERE name = 'cron-2030-midday';
SELECT name, command, remark, transactional, next_exec_time FROM chronos.tasks WHERE name = 'cron-2030-midday';

--
-- Pause and resume: pausing keeps next_exec_time, and a paused task is not rescheduled when its schedule changes;
-- resuming recomputes it (here, the new schedule's first fire time, 02:00 on 2030-01-01).
--
UPDATE chronos.tasks SET status = 'paused' WHERE name = 'cron-2030-midday';
SELECT name, status, next_exec_time FROM chronos.tasks WHERE name = 'cron-2030-midday';
UPDATE chronos.tasks SET schedule = '0 2 * * *' WHERE name = 'cron-2030-midday';
SELECT name, status, schedule, next_exec_time FROM chronos.tasks WHERE name = 'cron-2030-midday';
UPDATE chronos.tasks SET status = 'scheduled' WHERE name = 'cron-2030-midday';
SELECT name, status, schedule, next_exec_time FROM chronos.tasks WHERE name = 'cron-2030-midday';
-- a task may also be created paused
INSERT INTO chronos.tasks (name, schedule, command, start_time, status)
VALUES ('paused-from-the-start', '@hourly', 'SELECT 15', '2030-01-01 00:00+00', 'paused');
SELECT name, status, next_exec_time FROM chronos.tasks WHERE name = 'paused-from-the-start';
UPDATE chronos.tasks SET status = 'scheduled' WHERE name = 'paused-from-the-start';
SELECT name, status, next_exec_time FROM chronos.tasks WHERE name = 'paused-from-the-start';

--
-- Rows the trigger refuses: each error names the problem and how to fix it, and the row is not stored.
--
-- the command: empty, no statement, a syntax error, or a statement that cannot run in a transaction when the task is
-- forced to be transactional
INSERT INTO chronos.tasks (name, command, start_time) VALUES ('bad-empty', '', '2030-01-01 00:00+00');
INSERT INTO chronos.tasks (name, command, start_time) VALUES ('bad-blank', E'  \n\t ', '2030-01-01 00:00+00');
INSERT INTO chronos.tasks (name, command, start_time)
VALUES ('bad-no-statement', ' ; -- nothing', '2030-01-01 00:00+00');
INSERT INTO chronos.tasks (name, command, start_time) VALUES ('bad-syntax', 'SELEC 1', '2030-01-01 00:00+00');
INSERT INTO chronos.tasks (name, command, start_time)
VALUES ('bad-syntax-2', 'SELECT 1; DELETE FROM WHERE x', '2030-01-01 00:00+00');
INSERT INTO chronos.tasks (name, command, start_time, transactional)
VALUES ('bad-vacuum', 'VACUUM ANALYZE chronos.tasks', '2030-01-01 00:00+00', true);
INSERT INTO chronos.tasks (name, command, start_time, transactional)
VALUES ('bad-concurrently', 'SELECT 1; CREATE INDEX CONCURRENTLY i ON t (c)', '2030-01-01 00:00+00', true);
-- the position of a syntax error is reported however the row is written, here from PL/pgSQL
DO $$
BEGIN
    INSERT INTO chronos.tasks (name, command, start_time) VALUES ('bad-syntax-3', 'SELECT 1; SELEC 2', '2030-01-01');
END
$$;
-- the same commands are fine when the mode is left to the command or forced autonomous
INSERT INTO chronos.tasks (name, command, start_time, transactional)
VALUES ('vacuum-decided', 'VACUUM ANALYZE chronos.tasks', '2030-01-01 00:00+00', NULL),
       ('vacuum-autonomous', 'VACUUM ANALYZE chronos.tasks', '2030-01-01 00:00+00', false);
SELECT name, transactional FROM chronos.tasks WHERE name LIKE 'vacuum-%' ORDER BY name;
-- type and schedule must agree
INSERT INTO chronos.tasks (name, type, schedule, command, start_time)
VALUES ('bad-once-with-schedule', 'once', '@daily', 'SELECT 1', '2030-01-01 00:00+00');
INSERT INTO chronos.tasks (name, type, command, start_time)
VALUES ('bad-loop-without-schedule', 'loop', 'SELECT 1', '2030-01-01 00:00+00');
-- the schedule must be valid and the time zone known
INSERT INTO chronos.tasks (name, schedule, command, start_time)
VALUES ('bad-schedule', '0 25 * * *', 'SELECT 1', '2030-01-01 00:00+00');
INSERT INTO chronos.tasks (name, schedule, command, start_time)
VALUES ('bad-never', '0 0 30 2 *', 'SELECT 1', '2030-01-01 00:00+00');
INSERT INTO chronos.tasks (name, schedule, timezone, command, start_time)
VALUES ('bad-zone', '@daily', 'Mars/Olympus_Mons', 'SELECT 1', '2030-01-01 00:00+00');
INSERT INTO chronos.tasks (name, timezone, command, start_time)
VALUES ('bad-zone-once', 'Nowhere/Special', 'SELECT 1', '2030-01-01 00:00+00');
-- the owner must exist
INSERT INTO chronos.tasks (name, command, owner, start_time)
VALUES ('bad-owner', 'SELECT 1', 'no_such_role_for_chronos', '2030-01-01 00:00+00');
-- status 'running' belongs to the workers
INSERT INTO chronos.tasks (name, command, status, start_time)
VALUES ('bad-running', 'SELECT 1', 'running', '2030-01-01 00:00+00');
-- start_time must be finite
INSERT INTO chronos.tasks (name, command, start_time) VALUES ('bad-infinity', 'SELECT 1', 'infinity');
INSERT INTO chronos.tasks (name, schedule, command, start_time)
VALUES ('bad-minus-infinity', '@daily', 'SELECT 1', '-infinity');
-- the command may not be NULL (a constraint, not the trigger; terse, as the failing row holds generated values)
\set VERBOSITY terse
INSERT INTO chronos.tasks (name, command, start_time) VALUES ('bad-null-command', NULL, '2030-01-01 00:00+00');
\set VERBOSITY default
-- names are unique per owner
INSERT INTO chronos.tasks (name, command, start_time) VALUES ('once-2030', 'SELECT 1', '2030-01-01 00:00+00');
-- nothing of the above was stored
SELECT count(*) AS stored FROM chronos.tasks WHERE name LIKE 'bad-%';
SELECT count(*) AS tasks_named_once_2030 FROM chronos.tasks WHERE name = 'once-2030';

-- Updates are checked the same way, and a refused update leaves the row as it was.
UPDATE chronos.tasks SET schedule = '0 0 * * FUNDAY' WHERE name = 'every-hour-2030';
UPDATE chronos.tasks SET timezone = 'Atlantis/Capital' WHERE name = 'every-hour-2030';
UPDATE chronos.tasks SET command = 'SELEC 1' WHERE name = 'every-hour-2030';
UPDATE chronos.tasks SET transactional = true, command = 'VACUUM' WHERE name = 'every-hour-2030';
UPDATE chronos.tasks SET type = 'once' WHERE name = 'every-hour-2030';
UPDATE chronos.tasks SET schedule = NULL WHERE name = 'every-hour-2030';
UPDATE chronos.tasks SET status = 'running' WHERE name = 'every-hour-2030';
UPDATE chronos.tasks SET owner = 'no_such_role_for_chronos' WHERE name = 'every-hour-2030';
UPDATE chronos.tasks SET start_time = 'infinity' WHERE name = 'every-hour-2030';
SELECT name, type, schedule, timezone, command, status, owner = current_user::regrole AS owner_is_writer, start_time,
       next_exec_time, transactional
  FROM chronos.tasks WHERE name = 'every-hour-2030';

-- Errors carry proper SQLSTATEs: 22023 for invalid values, 42704 for an unknown role, 42601 for a syntax error.
DO $$
DECLARE
    tests text[] := ARRAY[
        $q$INSERT INTO chronos.tasks (command, start_time) VALUES ('', '2030-01-01')$q$,
        $q$INSERT INTO chronos.tasks (schedule, command, start_time) VALUES ('0 25 * * *', 'SELECT 1', '2030-01-01')$q$,
        $q$INSERT INTO chronos.tasks (command, owner, start_time)
           VALUES ('SELECT 1', 'no_such_role_for_chronos', '2030-01-01')$q$,
        $q$INSERT INTO chronos.tasks (command, start_time) VALUES ('SELEC 1', '2030-01-01')$q$,
        $q$INSERT INTO chronos.tasks (command, status, start_time) VALUES ('SELECT 1', 'running', '2030-01-01')$q$];
    test text;
    state text;
    message text;
BEGIN
    FOREACH test IN ARRAY tests LOOP
        BEGIN
            EXECUTE test;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT;
            RAISE NOTICE '%: %', state, message;
        END;
    END LOOP;
END
$$;

DELETE FROM chronos.tasks;

-- Every SQL and PL/pgSQL function of the extension pins its search_path (none is listed here).
SELECT p.oid::regprocedure AS function_without_pinned_search_path
  FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
 WHERE p.pronamespace = 'chronos'::regnamespace AND l.lanname IN ('sql', 'plpgsql')
   AND (p.proconfig IS NULL OR NOT 'search_path=pg_catalog, pg_temp' = ANY (p.proconfig));

-- Notification details are off unless a task asks for them; listeners belong to a role, under row-level security.
SELECT column_name, data_type, column_default, is_nullable FROM information_schema.columns
 WHERE table_schema = 'chronos' AND table_name = 'tasks' AND column_name = 'notify_details';
SELECT column_name, data_type, column_default, is_nullable FROM information_schema.columns
 WHERE table_schema = 'chronos' AND table_name = 'listeners' ORDER BY ordinal_position;
SELECT pg_get_constraintdef(oid) AS listeners_key FROM pg_constraint WHERE conrelid = 'chronos.listeners'::regclass AND contype = 'p';
SELECT relrowsecurity FROM pg_class WHERE oid = 'chronos.listeners'::regclass;
SELECT policyname, cmd, qual, with_check FROM pg_policies WHERE schemaname = 'chronos' AND tablename = 'listeners';
