-- The run controls of chronos.tasks as users write them: their defaults, every value the trigger refuses, the verbs
-- over a task (pause, resume, run_now, cancel), named events (listen, emit), chronos.task_stats and previews of a
-- task's next runs. Tasks start in 2030 so that no worker runs them; a manual run is only asked for inside a
-- transaction that is rolled back, where no worker can see it.
SET TimeZone = 'UTC';
SET DateStyle = 'ISO';
SET IntervalStyle = 'postgres';
-- Errors are shown with message, detail and hint; their context lines would only name the PL/pgSQL internals of the
-- verbs (function and line number), which are not part of the surface.
\set SHOW_CONTEXT never

--
-- Defaults: a task written without any control gets these.
--
INSERT INTO chronos.tasks (name, schedule, command, start_time)
VALUES ('ctl-loop', '0 12 * * *', 'SELECT 1', '2030-01-01 00:00+00');
INSERT INTO chronos.tasks (name, command, start_time) VALUES ('ctl-once', 'SELECT 2', '2030-01-01 06:00+00');
SELECT name, timeout, max_retries, retry_delay, max_failures, catch_up, end_time, max_runs
  FROM chronos.tasks WHERE name LIKE 'ctl-%' ORDER BY name;
SELECT name, payload, notify_on, notify_match, notify_channel, on_failure, attempt, run_requested
  FROM chronos.tasks WHERE name LIKE 'ctl-%' ORDER BY name;

-- Every control may be given; the boundary values are accepted.
INSERT INTO chronos.tasks (name, schedule, command, start_time, timeout, max_retries, retry_delay, max_failures,
                           catch_up, end_time, max_runs, payload, notify_on, notify_match, notify_channel, on_failure)
VALUES ('ctl-full', '@every 1 hour', 'SELECT $1', '2030-01-01 00:00+00', '1 millisecond', 0, '1 second', 1,
        'all', '2030-01-01 00:00+00', 1, '{"k": 1}', 'match', ARRAY['deadlock'], repeat('c', 63),
        'SELECT 3');
INSERT INTO chronos.tasks (name, schedule, command, start_time, timeout, max_retries, retry_delay, catch_up,
                           notify_on)
VALUES ('ctl-full-2', '*/5 * * * *', 'SELECT 4', '2030-01-01 00:00+00', '2 hours', 5, '1 mon', 'once', 'always');
SELECT name, timeout, max_retries, retry_delay, max_failures, catch_up, end_time, max_runs
  FROM chronos.tasks WHERE name LIKE 'ctl-full%' ORDER BY name;
SELECT name, payload, notify_on, notify_match, length(notify_channel) AS channel_length, on_failure, next_exec_time
  FROM chronos.tasks WHERE name LIKE 'ctl-full%' ORDER BY name;

--
-- Values the trigger refuses: each error names the value, says what is allowed and how to fix it, and nothing is
-- stored.
--
-- timeout: a positive interval of at least 1 millisecond
INSERT INTO chronos.tasks (name, command, start_time, timeout) VALUES ('bad-timeout', 'SELECT 1', '2030-01-01', '0');
INSERT INTO chronos.tasks (name, command, start_time, timeout)
VALUES ('bad-timeout-negative', 'SELECT 1', '2030-01-01', '-5 minutes');
INSERT INTO chronos.tasks (name, command, start_time, timeout)
VALUES ('bad-timeout-tiny', 'SELECT 1', '2030-01-01', '999 microseconds');
-- retry_delay: at least 1 second
INSERT INTO chronos.tasks (name, command, start_time, retry_delay)
VALUES ('bad-retry-delay', 'SELECT 1', '2030-01-01', '0.5 seconds');
INSERT INTO chronos.tasks (name, command, start_time, retry_delay)
VALUES ('bad-retry-delay-negative', 'SELECT 1', '2030-01-01', '-1 minute');
-- max_retries: 0 or more; max_failures and max_runs: NULL or at least 1
INSERT INTO chronos.tasks (name, command, start_time, max_retries)
VALUES ('bad-max-retries', 'SELECT 1', '2030-01-01', -1);
INSERT INTO chronos.tasks (name, schedule, command, start_time, max_failures)
VALUES ('bad-max-failures', '@daily', 'SELECT 1', '2030-01-01', 0);
INSERT INTO chronos.tasks (name, schedule, command, start_time, max_runs)
VALUES ('bad-max-runs', '@daily', 'SELECT 1', '2030-01-01', 0);
-- catch_up and notify_on: one of their words
INSERT INTO chronos.tasks (name, schedule, command, start_time, catch_up)
VALUES ('bad-catch-up', '@daily', 'SELECT 1', '2030-01-01', 'sometimes');
INSERT INTO chronos.tasks (name, command, start_time, notify_on)
VALUES ('bad-notify-on', 'SELECT 1', '2030-01-01', 'often');
-- notify_on 'match' needs keywords
INSERT INTO chronos.tasks (name, command, start_time, notify_on)
VALUES ('bad-notify-match', 'SELECT 1', '2030-01-01', 'match');
INSERT INTO chronos.tasks (name, command, start_time, notify_on, notify_match)
VALUES ('bad-notify-match-empty', 'SELECT 1', '2030-01-01', 'match', '{}');
-- notify_channel: 1 to 63 characters
INSERT INTO chronos.tasks (name, command, start_time, notify_channel)
VALUES ('bad-notify-channel', 'SELECT 1', '2030-01-01', '');
INSERT INTO chronos.tasks (name, command, start_time, notify_channel)
VALUES ('bad-notify-channel-long', 'SELECT 1', '2030-01-01', repeat('c', 64));
-- on_failure: SQL that parses and can run in the transaction that records the failure
INSERT INTO chronos.tasks (name, command, start_time, on_failure)
VALUES ('bad-on-failure', 'SELECT 1', '2030-01-01', 'SELECT 1; SELEC 2');
INSERT INTO chronos.tasks (name, command, start_time, on_failure)
VALUES ('bad-on-failure-vacuum', 'SELECT 1', '2030-01-01', 'VACUUM chronos.tasks');
INSERT INTO chronos.tasks (name, command, start_time, on_failure)
VALUES ('bad-on-failure-empty', 'SELECT 1', '2030-01-01', ' ');
-- end_time: not before the task's next run
INSERT INTO chronos.tasks (name, schedule, command, start_time, end_time)
VALUES ('bad-end-time', '0 12 * * *', 'SELECT 1', '2030-01-01 00:00+00', '2030-01-01 11:59:59+00');
-- none of them was stored
SELECT count(*) AS stored FROM chronos.tasks WHERE name LIKE 'bad-%';

-- An UPDATE is checked the same way, and a refused one leaves the row as it was.
UPDATE chronos.tasks SET timeout = '0' WHERE name = 'ctl-loop';
UPDATE chronos.tasks SET retry_delay = '0' WHERE name = 'ctl-loop';
UPDATE chronos.tasks SET max_retries = -3 WHERE name = 'ctl-loop';
UPDATE chronos.tasks SET max_failures = 0 WHERE name = 'ctl-loop';
UPDATE chronos.tasks SET max_runs = -1 WHERE name = 'ctl-loop';
UPDATE chronos.tasks SET catch_up = 'ALL' WHERE name = 'ctl-loop';
UPDATE chronos.tasks SET notify_on = 'match' WHERE name = 'ctl-loop';
UPDATE chronos.tasks SET notify_channel = '' WHERE name = 'ctl-loop';
UPDATE chronos.tasks SET on_failure = 'VACUUM' WHERE name = 'ctl-loop';
UPDATE chronos.tasks SET end_time = '2030-01-01 00:00+00' WHERE name = 'ctl-loop';
-- a new schedule whose next run is after end_time is refused as well
UPDATE chronos.tasks SET end_time = '2030-01-01 12:00+00' WHERE name = 'ctl-loop';
UPDATE chronos.tasks SET schedule = '0 13 * * *' WHERE name = 'ctl-loop';
UPDATE chronos.tasks SET end_time = NULL WHERE name = 'ctl-loop';
SELECT name, schedule, next_exec_time, timeout, max_retries, retry_delay, max_failures, catch_up, end_time, max_runs,
       notify_on, notify_channel, on_failure
  FROM chronos.tasks WHERE name = 'ctl-loop';

-- The controls' errors carry SQLSTATE 22023 (invalid_parameter_value), except a syntax error in on_failure (42601).
DO $$
DECLARE
    tests text[] := ARRAY[
        $q$INSERT INTO chronos.tasks (command, start_time, timeout) VALUES ('SELECT 1', '2030-01-01', '0')$q$,
        $q$INSERT INTO chronos.tasks (command, start_time, max_failures) VALUES ('SELECT 1', '2030-01-01', 0)$q$,
        $q$INSERT INTO chronos.tasks (command, start_time, catch_up) VALUES ('SELECT 1', '2030-01-01', 'never')$q$,
        $q$INSERT INTO chronos.tasks (command, start_time, on_failure) VALUES ('SELECT 1', '2030-01-01', 'SELEC')$q$,
        $q$INSERT INTO chronos.tasks (schedule, command, start_time, end_time)
           VALUES ('@daily', 'SELECT 1', '2030-01-02', '2030-01-01')$q$];
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

--
-- chronos.pause(name) → whether it paused the task; chronos.resume(name) → the task's next run.
--
SELECT chronos.pause('ctl-loop') AS paused;
SELECT name, status, next_exec_time FROM chronos.tasks WHERE name = 'ctl-loop';
SELECT chronos.pause('ctl-loop') AS paused_again;
SELECT chronos.resume('ctl-loop') AS next_run;
SELECT name, status, next_exec_time FROM chronos.tasks WHERE name = 'ctl-loop';
-- resuming a scheduled task changes nothing and returns its next run
SELECT chronos.resume('ctl-loop') AS next_run;
-- a finished task is scheduled again: a once task at its start time
UPDATE chronos.tasks SET status = 'done' WHERE name = 'ctl-once';
SELECT chronos.resume('ctl-once') AS next_run;
SELECT name, status, next_exec_time FROM chronos.tasks WHERE name = 'ctl-once';

--
-- chronos.run_now(name) → the task's id, and one manual run requested (rolled back: no worker may run it).
--
BEGIN;
SELECT chronos.run_now('ctl-loop') = id AS returns_the_id FROM chronos.tasks WHERE name = 'ctl-loop';
SELECT name, run_requested, status, next_exec_time FROM chronos.tasks WHERE name = 'ctl-loop';
ROLLBACK;
SELECT name, run_requested FROM chronos.tasks WHERE name = 'ctl-loop';

--
-- chronos.cancel(name) → false when no run of the task is in progress.
--
SELECT chronos.cancel('ctl-loop') AS cancelled;
SELECT chronos.cancel('ctl-once') AS cancelled;

-- Each verb refuses a name no task has.
SELECT chronos.pause('ctl-missing');
SELECT chronos.resume('ctl-missing');
SELECT chronos.run_now('ctl-missing');
SELECT chronos.cancel('ctl-missing');
DO $$
DECLARE
    tests text[] := ARRAY['SELECT chronos.pause($1)', 'SELECT chronos.resume($1)', 'SELECT chronos.run_now($1)',
                          'SELECT chronos.cancel($1)'];
    test text;
    state text;
    message text;
BEGIN
    FOREACH test IN ARRAY tests LOOP
        BEGIN
            EXECUTE test USING 'ctl-missing';
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT;
            RAISE NOTICE '%: %', state, message;
        END;
    END LOOP;
END
$$;

--
-- Named events: chronos.listen(event, handler) registers a function of one jsonb; chronos.emit(event, payload, at)
-- schedules a once task that calls it with the payload as $1; chronos.unlisten(event) removes the listener.
--
CREATE FUNCTION controls_on_signup(payload jsonb) RETURNS void LANGUAGE sql AS $$ SELECT $$;
CREATE FUNCTION "Controls_On_Order"(payload jsonb) RETURNS void LANGUAGE sql AS $$ SELECT $$;
CREATE FUNCTION controls_takes_text(payload text) RETURNS void LANGUAGE sql AS $$ SELECT $$;
CREATE FUNCTION controls_takes_two(payload jsonb, extra int) RETURNS void LANGUAGE sql AS $$ SELECT $$;
SELECT chronos.listen('signup', 'controls_on_signup(jsonb)');
SELECT chronos.listen('order', '"Controls_On_Order"(jsonb)');
SELECT event, handler::regprocedure, handler_name FROM chronos.listeners ORDER BY event;
-- listening again replaces the handler
SELECT chronos.listen('signup', '"Controls_On_Order"(jsonb)');
SELECT event, handler::regprocedure, handler_name FROM chronos.listeners ORDER BY event;
SELECT chronos.listen('signup', 'controls_on_signup(jsonb)');
-- a handler must take exactly one jsonb argument; the listener is left as it was
SELECT chronos.listen('signup', 'controls_takes_text(text)');
SELECT chronos.listen('signup', 'controls_takes_two(jsonb, int)');
SELECT chronos.listen('signup', 'controls_no_such_function(jsonb)');
SELECT event, handler::regprocedure, handler_name FROM chronos.listeners ORDER BY event;

-- emit: returns the id of a once task, due at the given time, whose command calls the handler with the payload as $1,
-- bound by its OID (shown as <oid>) and its schema-qualified, quoted name
SELECT chronos.emit('signup', '{"user": 42}', '2030-03-01 09:00+00') AS signup_task \gset
SELECT id = :signup_task AS returns_the_id FROM chronos.tasks WHERE remark = 'event signup';
SELECT chronos.emit('order', '[1, 2]', '2030-03-02 10:00+00') IS NOT NULL AS emitted;
SELECT name, type, regexp_replace(command, 'call_handler\(\d+,', 'call_handler(<oid>,') AS command, payload, remark, status,
       start_time, next_exec_time, owner = current_user::regrole AS owner_is_caller
  FROM chronos.tasks WHERE remark LIKE 'event %' ORDER BY start_time;
-- an event nobody listens to, and one whose handler was dropped: refused, and no task is created
SELECT chronos.emit('nobody-listens', '{}', '2030-03-01 09:00+00');
DROP FUNCTION "Controls_On_Order"(jsonb);
SELECT chronos.emit('order', '{}', '2030-03-01 09:00+00');
SELECT count(*) AS event_tasks FROM chronos.tasks WHERE remark LIKE 'event %';
-- SQLSTATEs: 22023 for a handler of the wrong shape, 42704 for an event without listener, 42883 for a dropped handler
DO $$
DECLARE
    tests text[] := ARRAY[
        $q$SELECT chronos.listen('signup', 'controls_takes_text(text)')$q$,
        $q$SELECT chronos.emit('nobody-listens', '{}', '2030-03-01 09:00+00')$q$,
        $q$SELECT chronos.emit('order', '{}', '2030-03-01 09:00+00')$q$];
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
-- unlisten: true when it removed a listener
SELECT chronos.unlisten('order') AS removed;
SELECT chronos.unlisten('order') AS removed_again;
SELECT event, handler::regprocedure, handler_name FROM chronos.listeners ORDER BY event;

--
-- chronos.task_stats: per task, over its runs in chronos.runs (here written by hand, started in 2030).
--
SELECT attname AS column_name, format_type(atttypid, atttypmod) AS column_type
  FROM pg_attribute WHERE attrelid = 'chronos.task_stats'::regclass AND attnum > 0 ORDER BY attnum;
INSERT INTO chronos.runs (task_id, task_name, owner, scheduled_for, started_at, finished_at, status, error)
SELECT t.id, t.name, t.owner, r.started_at, r.started_at, r.started_at + r.duration, r.status, r.error
  FROM chronos.tasks t,
       (VALUES ('2030-01-01 12:00+00'::timestamptz, interval '1 second', 'succeeded'::chronos.run_status,
                NULL::text),
               ('2030-01-02 12:00+00', '3 seconds', 'failed', '22012: division by zero'),
               ('2030-01-03 12:00+00', '2 seconds', 'succeeded', NULL),
               ('2030-01-04 12:00+00', '10 seconds', 'timed_out', '57014: run timed out after 10000 ms'),
               ('2030-01-05 12:00+00', '4 seconds', 'succeeded', NULL)) AS r (started_at, duration, status, error)
 WHERE t.name = 'ctl-loop';
SELECT name, runs, failures, success_rate, avg_duration, p50_duration, p95_duration, max_duration, last_error,
       last_success
  FROM chronos.task_stats WHERE name LIKE 'ctl-%' ORDER BY name;
DELETE FROM chronos.runs WHERE task_name = 'ctl-loop';

--
-- chronos.next_runs(task_name, count): the task's next runs, from its next_exec_time on, within end_time and max_runs.
--
SELECT * FROM chronos.next_runs('ctl-loop', 3);
SELECT * FROM chronos.next_runs(task_name => 'ctl-loop');
-- a next_exec_time moved by hand comes first, then the schedule from there
UPDATE chronos.tasks SET next_exec_time = '2030-01-01 08:00+00' WHERE name = 'ctl-loop';
SELECT * FROM chronos.next_runs('ctl-loop', 3);
UPDATE chronos.tasks SET next_exec_time = NULL WHERE name = 'ctl-loop';
-- end_time: no run after it
UPDATE chronos.tasks SET end_time = '2030-01-03 12:00+00' WHERE name = 'ctl-loop';
SELECT * FROM chronos.next_runs('ctl-loop', 5);
UPDATE chronos.tasks SET end_time = NULL WHERE name = 'ctl-loop';
-- max_runs: no more than max_runs - run_count
UPDATE chronos.tasks SET max_runs = 10, run_count = 8 WHERE name = 'ctl-loop';
SELECT * FROM chronos.next_runs('ctl-loop', 5);
UPDATE chronos.tasks SET run_count = 10 WHERE name = 'ctl-loop';
SELECT count(*) AS runs_left FROM chronos.next_runs('ctl-loop', 5);
UPDATE chronos.tasks SET max_runs = NULL, run_count = 0 WHERE name = 'ctl-loop';
-- a once task runs once, at its start time
SELECT * FROM chronos.next_runs('ctl-once', 5);
-- a paused task has no next run, nor has a finished one
SELECT chronos.pause('ctl-loop') AS paused;
SELECT count(*) AS paused_runs FROM chronos.next_runs('ctl-loop', 5);
SELECT chronos.resume('ctl-loop') AS next_run;
UPDATE chronos.tasks SET status = 'done' WHERE name = 'ctl-once';
SELECT count(*) AS done_runs FROM chronos.next_runs('ctl-once', 5);
-- count 0 gives nothing; count is limited like the schedule preview's
SELECT count(*) AS no_runs FROM chronos.next_runs('ctl-loop', 0);
SELECT * FROM chronos.next_runs('ctl-loop', -1);
SELECT * FROM chronos.next_runs('ctl-loop', 10001);
-- an unknown task
SELECT * FROM chronos.next_runs('ctl-missing', 3);
-- with the name alone, the schedule preview falls back to the task of that name (count 5); text that is neither a
-- schedule nor a task name is still a schedule error
SELECT * FROM chronos.next_runs('ctl-loop');
SELECT * FROM chronos.next_runs('ctl-missing');

--
-- Clean up.
--
SELECT chronos.unlisten('signup') AS removed;
DELETE FROM chronos.tasks WHERE name LIKE 'ctl-%' OR remark LIKE 'event %';
DROP FUNCTION controls_on_signup(jsonb), controls_takes_text(text), controls_takes_two(jsonb, int);
SELECT count(*) AS tasks_left FROM chronos.tasks;
SELECT count(*) AS listeners_left FROM chronos.listeners;

-- A procedure cannot be a handler: emit() calls handlers with SELECT.
CREATE PROCEDURE controls_proc_handler(payload jsonb) LANGUAGE sql AS $$ SELECT 1 $$;
SELECT chronos.listen('proc-event', 'controls_proc_handler(jsonb)');
SELECT count(*) AS listeners FROM chronos.listeners WHERE event = 'proc-event';
DROP PROCEDURE controls_proc_handler(jsonb);

-- A loop task's next run cannot be moved past its end_time, by hand or by resuming it after end_time.
INSERT INTO chronos.tasks (name, schedule, command, start_time, end_time)
VALUES ('ends', '0 12 * * *', 'SELECT 1', '2030-01-01 00:00+00', '2030-01-03 00:00+00');
UPDATE chronos.tasks SET next_exec_time = '2030-01-05 12:00+00' WHERE name = 'ends';
SELECT next_exec_time FROM chronos.tasks WHERE name = 'ends';
UPDATE chronos.tasks SET status = 'paused', start_time = '2030-01-04 00:00+00', end_time = NULL WHERE name = 'ends';
UPDATE chronos.tasks SET end_time = '2030-01-03 00:00+00' WHERE name = 'ends';
SELECT status, end_time FROM chronos.tasks WHERE name = 'ends';
SELECT chronos.resume('ends');
DELETE FROM chronos.tasks WHERE name = 'ends';

--
-- Limits (docs/limits.md). sqlstate_of() runs one statement and shows its SQLSTATE and message, or 'ok'.
--
CREATE FUNCTION pg_temp.sqlstate_of(statement text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE statement;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
INSERT INTO chronos.tasks (name, schedule, command, start_time)
VALUES ('lim', '@every 1 hour', 'SELECT 1', '2030-01-01 00:00+00');

-- An explicit NULL in a NOT NULL column is refused with 23502 (not_null_violation), naming the column; the trigger
-- never reads it as a value.
UPDATE chronos.tasks SET notify_on = NULL WHERE name = 'lim';
INSERT INTO chronos.tasks (command, catch_up) VALUES ('SELECT 1', NULL);
SELECT column_name, pg_temp.sqlstate_of(format('UPDATE chronos.tasks SET %I = NULL WHERE name = %L', column_name, 'lim'))
  FROM unnest(ARRAY['command', 'max_retries', 'retry_delay', 'catch_up', 'notify_on', 'notify_channel',
                    'run_requested', 'run_count', 'failure_count', 'attempt']) column_name;
SELECT column_name, pg_temp.sqlstate_of(format('INSERT INTO chronos.tasks (command, %I) VALUES (%L, NULL)',
                                               column_name, 'SELECT 1'))
  FROM unnest(ARRAY['catch_up', 'retry_delay', 'max_retries', 'notify_channel', 'run_requested']) column_name;
-- NULL in a derived column means "derive it"
UPDATE chronos.tasks SET status = NULL, timezone = NULL WHERE name = 'lim';
SELECT status, timezone FROM chronos.tasks WHERE name = 'lim';

-- Counters: each has a documented range; the ones the workers keep may be reset (run_count 0, failure_count 0,
-- attempt 1) but not made negative.
SELECT setting, pg_temp.sqlstate_of(format('UPDATE chronos.tasks SET %s WHERE name = %L', setting, 'lim'))
  FROM unnest(ARRAY['max_retries = 1000', 'max_retries = 1001', 'max_failures = 1000000', 'max_failures = 1000001',
                    'max_runs = 1000000000000', 'max_runs = 1000000000001', 'run_count = 0', 'run_count = -1',
                    'failure_count = 0', 'failure_count = -5', 'attempt = 1', 'attempt = 0', 'attempt = 2147483647',
                    'run_count = 9223372036854775807']) setting;
UPDATE chronos.tasks SET run_count = -1 WHERE name = 'lim';

-- Intervals: timeout from 1 ms, retry_delay from 1 s, both at most 100 years.
SELECT setting, pg_temp.sqlstate_of(format('UPDATE chronos.tasks SET %s WHERE name = %L', setting, 'lim'))
  FROM unnest(ARRAY[$s$timeout = '100 years'$s$, $s$timeout = '101 years'$s$, $s$timeout = '178000000 years'$s$,
                    $s$retry_delay = '100 years'$s$, $s$retry_delay = '1000000 years'$s$,
                    $s$retry_delay = '36526 days'$s$, $s$retry_delay = '1 year -1 day'$s$]) setting;
UPDATE chronos.tasks SET retry_delay = '1000000 years' WHERE name = 'lim';

-- Times: start_time, next_exec_time and end_time lie from 1900-01-01 to 8999-12-31 (UTC); infinity is refused with
-- 22008 (datetime_field_overflow).
SELECT setting, pg_temp.sqlstate_of(format('UPDATE chronos.tasks SET %s WHERE name = %L', setting, 'lim'))
  FROM unnest(ARRAY[$s$next_exec_time = '-infinity'$s$, $s$next_exec_time = 'infinity'$s$,
                    $s$next_exec_time = '1899-12-31 23:59:59+00'$s$, $s$next_exec_time = '1900-01-01 00:00+00'$s$,
                    $s$end_time = 'infinity'$s$, $s$end_time = '9000-01-01 00:00+00'$s$,
                    $s$start_time = '-infinity'$s$, $s$start_time = '8999-12-31 00:00+00'$s$]) setting;
UPDATE chronos.tasks SET next_exec_time = '-infinity' WHERE name = 'lim';
-- a schedule whose first run would be past 8999 is refused when written, paused or not
INSERT INTO chronos.tasks (name, schedule, command, start_time)
VALUES ('lim-late', '@yearly', 'SELECT 1', '8999-06-01 00:00+00');
INSERT INTO chronos.tasks (name, schedule, command, start_time, status)
VALUES ('lim-late', '0 0 29 2 *', 'SELECT 1', '8997-01-01 00:00+00', 'paused');
SELECT name, next_exec_time FROM chronos.tasks WHERE name = 'lim';

-- Transaction control is refused in a command and in on_failure with 0A000 (feature_not_supported): the worker owns
-- the transaction. CALL of a procedure that commits stays allowed.
INSERT INTO chronos.tasks (command) VALUES ('INSERT INTO t VALUES (1); COMMIT');
UPDATE chronos.tasks SET on_failure = 'ROLLBACK' WHERE name = 'lim';
SELECT command, pg_temp.sqlstate_of(format('INSERT INTO chronos.tasks (command, start_time) VALUES (%L, %L)',
                                           command, '2030-01-01'))
  FROM unnest(ARRAY['BEGIN', 'START TRANSACTION', 'COMMIT', 'END', 'ROLLBACK', 'ABORT', 'SAVEPOINT s',
                    'RELEASE SAVEPOINT s', 'ROLLBACK TO SAVEPOINT s', $c$PREPARE TRANSACTION 'x'$c$,
                    $c$COMMIT PREPARED 'x'$c$, $c$ROLLBACK PREPARED 'x'$c$, 'SELECT 1; BEGIN; SELECT 2; COMMIT',
                    'CALL some_procedure()']) command;
DELETE FROM chronos.tasks WHERE start_time = '2030-01-01' AND command = 'CALL some_procedure()';

-- A renamed or dropped column is reported as 42703 naming it, with a hint to reinstall or update the extension.
BEGIN;
ALTER TABLE chronos.tasks RENAME COLUMN max_retries TO max_retries_renamed;
INSERT INTO chronos.tasks (command, start_time) VALUES ('SELECT 1', '2030-01-01');
ROLLBACK;
BEGIN;
-- Dropping a column is refused: the helpers' SQL-standard bodies depend on every column of the table.
ALTER TABLE chronos.tasks DROP COLUMN notify_channel;
UPDATE chronos.tasks SET remark = 'x' WHERE name = 'lim';
ROLLBACK;
SELECT count(*) AS stored FROM chronos.tasks WHERE name LIKE 'lim%';
DELETE FROM chronos.tasks WHERE name LIKE 'lim%';

-- Times and intervals are stored as written, whatever the writer's DateStyle, TimeZone and IntervalStyle: the trigger
-- reads and writes the row in ISO style (a zone abbreviation in another style may name another zone).
SET DateStyle = 'SQL, DMY';
SET TimeZone = 'Asia/Kolkata';
INSERT INTO chronos.tasks (name, command, start_time, retry_delay)
VALUES ('styled', 'SELECT 1', '2030-01-15 10:00+05:30', '90 seconds');
SET DateStyle = 'Postgres, MDY';
SET TimeZone = 'NZDT+12';
SET IntervalStyle = 'sql_standard';
INSERT INTO chronos.tasks (name, command, start_time, retry_delay, end_time, schedule)
VALUES ('styled loop', 'SELECT 1', '2030-01-15 10:00+00', '1 day 2 hours', '2031-01-01 00:00+00', '@every 1h');
UPDATE chronos.tasks SET max_retries = 2 WHERE name = 'styled loop';
-- out of range however it is written
INSERT INTO chronos.tasks (name, command, end_time, schedule)
VALUES ('styled late', 'SELECT 1', '9000-01-01 10:00+00', '@every 1h');
SET DateStyle = 'ISO';
SET TimeZone = 'UTC';
SET IntervalStyle = 'postgres';
SELECT name, start_time, next_exec_time, end_time, retry_delay FROM chronos.tasks WHERE name LIKE 'styled%' ORDER BY name;
DELETE FROM chronos.tasks WHERE name LIKE 'styled%';

-- Transaction control that only one setting of standard_conforming_strings reads is refused, with either setting.
SET escape_string_warning = off;
SET standard_conforming_strings = off;
INSERT INTO chronos.tasks (command, start_time) VALUES ($c$SELECT 'x\'; COMMIT; -- '$c$, '2030-01-01');
SET standard_conforming_strings = on;
INSERT INTO chronos.tasks (command, start_time) VALUES ($c$SELECT 'x\'; COMMIT; -- '$c$, '2030-01-01');
INSERT INTO chronos.tasks (command, start_time) VALUES ($c$SELECT 'x\'; SELECT 2 -- '$c$, '2030-01-01')
RETURNING command;
DELETE FROM chronos.tasks WHERE start_time = '2030-01-01' AND starts_with(command, $c$SELECT 'x\$c$);
RESET escape_string_warning;
