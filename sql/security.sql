-- Row-level security between roles: each role sees and changes only the tasks and runs of roles it is a member of,
-- may schedule tasks only as such a role, and a superuser sees everything. Tasks start in 2030 so that no worker runs
-- them. The roles are created here and dropped at the end.
SET TimeZone = 'UTC';
SET DateStyle = 'ISO';
SET IntervalStyle = 'postgres';
CREATE ROLE chronos_app_a NOLOGIN;
CREATE ROLE chronos_app_b NOLOGIN;
CREATE ROLE chronos_ops NOLOGIN;            -- a member of chronos_app_a
CREATE ROLE chronos_leaver NOLOGIN;         -- dropped while it still owns a task
GRANT chronos_app_a TO chronos_ops;

-- What an application role needs.
GRANT USAGE ON SCHEMA chronos TO chronos_app_a, chronos_app_b, chronos_ops, chronos_leaver;
GRANT SELECT, INSERT, UPDATE, DELETE ON chronos.tasks TO chronos_app_a, chronos_app_b, chronos_ops, chronos_leaver;
GRANT SELECT ON chronos.runs, chronos.task_status, chronos.running, chronos.history
   TO chronos_app_a, chronos_app_b, chronos_ops, chronos_leaver;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA chronos TO chronos_app_a, chronos_app_b, chronos_ops, chronos_leaver;
GRANT EXECUTE ON FUNCTION chronos.schedule(text, text, text, text, timestamptz),
                          chronos.run_at(text, timestamptz, text), chronos.unschedule(text)
   TO chronos_app_a, chronos_app_b, chronos_ops, chronos_leaver;

--
-- Each role writes its own tasks; owner defaults to the role.
--
SET ROLE chronos_app_a;
INSERT INTO chronos.tasks (name, schedule, command, start_time)
VALUES ('a-report', '0 6 * * *', 'SELECT 1', '2030-01-01 00:00+00');
SELECT chronos.schedule('a-cleanup', '@daily', 'SELECT 2', start_time => '2030-01-01 00:00+00') IS NOT NULL AS created;
SELECT chronos.run_at('a-once', '2030-01-01 00:00+00', 'SELECT 3') IS NOT NULL AS created;
SELECT name, owner FROM chronos.tasks ORDER BY name;
RESET ROLE;
SET ROLE chronos_app_b;
INSERT INTO chronos.tasks (name, schedule, command, start_time)
VALUES ('b-report', '0 7 * * *', 'SELECT 4', '2030-01-01 00:00+00');
SELECT name, owner FROM chronos.tasks ORDER BY name;
SELECT name, owner, status_code FROM chronos.task_status ORDER BY name;
RESET ROLE;
SET ROLE chronos_ops;
INSERT INTO chronos.tasks (name, schedule, command, start_time)
VALUES ('ops-check', '*/5 * * * *', 'SELECT 5', '2030-01-01 00:00+00');
RESET ROLE;

-- The superuser sees every task.
SELECT name, owner FROM chronos.tasks ORDER BY name;

--
-- chronos_app_b can neither see, change nor delete chronos_app_a's tasks.
--
SET ROLE chronos_app_b;
SELECT count(*) AS visible FROM chronos.tasks WHERE name LIKE 'a-%';
UPDATE chronos.tasks SET command = 'SELECT 666' WHERE name = 'a-report';
-- (an unqualified update reaches its own task only)
UPDATE chronos.tasks SET status = 'paused';
DELETE FROM chronos.tasks WHERE name = 'a-cleanup';
SELECT chronos.unschedule('a-once') AS deleted;
-- names are each owner's own: the same names make tasks of chronos_app_b, and chronos_app_a's are not touched
INSERT INTO chronos.tasks (name, command, start_time) VALUES ('a-report', 'SELECT 666', '2030-01-01 00:00+00');
SELECT chronos.schedule('a-report', '* * * * *', 'SELECT 666', start_time => '2030-01-01 00:00+00');
SELECT chronos.run_at('a-once', '2030-01-01 00:00+00', 'SELECT 666');
-- nor can it schedule a task to run as chronos_app_a, or hand its own task to it
INSERT INTO chronos.tasks (name, command, owner, start_time)
VALUES ('b-as-a', 'SELECT 666', 'chronos_app_a', '2030-01-01 00:00+00');
UPDATE chronos.tasks SET owner = 'chronos_app_a' WHERE name = 'b-report';
DO $$
DECLARE
    state text;
    message text;
BEGIN
    INSERT INTO chronos.tasks (name, command, owner, start_time)
    VALUES ('b-as-a', 'SELECT 666', 'chronos_app_a', '2030-01-01 00:00+00');
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT;
    RAISE NOTICE '%: %', state, message;
END
$$;
-- its own task is unchanged, and the only one it sees
SELECT name, owner, status, command FROM chronos.tasks ORDER BY name;
RESET ROLE;
-- chronos_app_a's tasks are untouched
SELECT name, owner, status, command FROM chronos.tasks WHERE owner = 'chronos_app_a'::regrole ORDER BY name;

--
-- A member of a role sees and manages that role's tasks, and may schedule tasks as it; the role does not see its
-- member's own tasks.
--
SET ROLE chronos_ops;
SELECT name, owner FROM chronos.tasks ORDER BY name;
INSERT INTO chronos.tasks (name, command, owner, start_time)
VALUES ('a-by-ops', 'SELECT 6', 'chronos_app_a', '2030-01-01 00:00+00');
UPDATE chronos.tasks SET status = 'paused' WHERE name = 'a-report';
SELECT name, owner, status FROM chronos.tasks ORDER BY name;
INSERT INTO chronos.tasks (name, command, owner, start_time)
VALUES ('ops-as-b', 'SELECT 666', 'chronos_app_b', '2030-01-01 00:00+00');
RESET ROLE;
SET ROLE chronos_app_a;
SELECT name, owner, status FROM chronos.tasks ORDER BY name;
RESET ROLE;

-- The superuser may schedule a task as any role.
INSERT INTO chronos.tasks (name, command, owner, start_time)
VALUES ('b-by-superuser', 'SELECT 7', 'chronos_app_b', '2030-01-01 00:00+00');
SET ROLE chronos_app_b;
SELECT name, owner FROM chronos.tasks ORDER BY name;
RESET ROLE;

--
-- Runs follow the same rule, in chronos.runs and chronos.history (rows written here by hand).
--
INSERT INTO chronos.runs (task_id, task_name, owner, scheduled_for, started_at, finished_at, status)
VALUES (-1, 'a-run', 'chronos_app_a', '2030-01-01 00:00+00', '2030-01-01 00:00+00', '2030-01-01 00:00:01+00',
        'succeeded'),
       (-2, 'b-run', 'chronos_app_b', '2030-01-01 00:00+00', '2030-01-01 00:00+00', '2030-01-01 00:00:01+00',
        'failed');
SET ROLE chronos_app_a;
SELECT task_name, owner, status FROM chronos.runs WHERE task_id < 0 ORDER BY task_name;
SELECT task_name, owner, status FROM chronos.history WHERE task_id < 0;
RESET ROLE;
SET ROLE chronos_app_b;
SELECT task_name, owner, status FROM chronos.history WHERE task_id < 0;
RESET ROLE;
SET ROLE chronos_ops;
SELECT task_name, owner, status FROM chronos.runs WHERE task_id < 0 ORDER BY task_name;
RESET ROLE;
SELECT task_name, owner, status FROM chronos.runs WHERE task_id < 0 ORDER BY task_name;
DELETE FROM chronos.runs WHERE task_id < 0;

--
-- A role's tasks follow it through PostgreSQL's role commands in the current database: DROP ROLE is refused while it
-- owns tasks here (whatever its grants), DROP OWNED deletes them, REASSIGN OWNED moves them.
--
SET ROLE chronos_leaver;
INSERT INTO chronos.tasks (name, command, start_time) VALUES ('leaver-task', 'SELECT 8', '2030-01-01 00:00+00');
INSERT INTO chronos.tasks (name, command, start_time) VALUES ('leaver-task-2', 'SELECT 8', '2030-01-01 00:00+00');
RESET ROLE;
REVOKE ALL ON ALL TABLES IN SCHEMA chronos FROM chronos_leaver;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA chronos FROM chronos_leaver;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA chronos FROM chronos_leaver;
REVOKE ALL ON SCHEMA chronos FROM chronos_leaver;
DROP ROLE chronos_leaver;
DROP ROLE IF EXISTS chronos_no_such_role, chronos_leaver;
SELECT count(*) AS leaver_tasks FROM chronos.tasks WHERE owner = 'chronos_leaver'::regrole;
DROP OWNED BY chronos_leaver;
SELECT count(*) AS leaver_tasks FROM chronos.tasks WHERE name LIKE 'leaver-task%';
DROP ROLE chronos_leaver;
SET ROLE chronos_ops;
SELECT name, owner FROM chronos.tasks WHERE owner = 'chronos_ops'::regrole ORDER BY name;
RESET ROLE;
REASSIGN OWNED BY chronos_ops TO chronos_app_b;
SELECT name, owner FROM chronos.tasks WHERE name = 'ops-check';

--
-- A task whose owner role was dropped (as a DROP ROLE in another database leaves it; made here with the trigger off):
-- reading the table and the views still works; only the superuser sees it.
--
CREATE ROLE chronos_gone;
SELECT 'chronos_gone'::regrole::oid AS gone_oid \gset
DROP ROLE chronos_gone;
SET session_replication_role = replica;
INSERT INTO chronos.tasks (name, type, timezone, command, owner, start_time)
VALUES ('left-behind', 'once', 'UTC', 'SELECT 8', :gone_oid::oid::regrole, '2030-01-01 00:00+00');
RESET session_replication_role;
SELECT name, owner::text ~ '^[0-9]+$' AS owner_shows_as_oid, chronos.is_member_of(owner) AS member
  FROM chronos.tasks WHERE name = 'left-behind';
SELECT name, owner::text ~ '^[0-9]+$' AS owner_shows_as_oid, status_code FROM chronos.task_status WHERE name = 'left-behind';
SET ROLE chronos_app_a;
SELECT name, owner FROM chronos.tasks ORDER BY name;
SELECT name, owner FROM chronos.task_status ORDER BY name;
SELECT chronos.is_member_of(4294967295::oid::regrole) AS member_of_dropped_role,
       chronos.is_member_of('chronos_app_a') AS member_of_self,
       chronos.is_member_of('chronos_app_b') AS member_of_other;
RESET ROLE;
-- the superuser may still change it (its owner is only checked when it changes) or delete it
UPDATE chronos.tasks SET command = 'SELECT 9' WHERE name = 'left-behind';
UPDATE chronos.tasks SET owner = 'chronos_gone_too' WHERE name = 'left-behind';
SELECT name, owner::text ~ '^[0-9]+$' AS owner_shows_as_oid, command FROM chronos.tasks WHERE name = 'left-behind';
-- (the helpers act on the caller's own tasks only)
SELECT chronos.unschedule('left-behind') AS deleted_by_the_helper;
WITH gone AS (DELETE FROM chronos.tasks WHERE name = 'left-behind' RETURNING 1) SELECT count(*) AS deleted FROM gone;

-- The views apply the reader's rights.
SELECT c.relname, c.reloptions FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'chronos' AND c.relkind = 'v' ORDER BY c.relname;

-- Clean up.
DELETE FROM chronos.tasks;
DROP OWNED BY chronos_app_a, chronos_app_b, chronos_ops;
DROP ROLE chronos_ops;
DROP ROLE chronos_app_a;
DROP ROLE chronos_app_b;
