-- Moving from pg_cron: chronos.import_pg_cron() turns the pg_cron jobs of this database into tasks (same schedule,
-- command, owner and time zone; active jobs scheduled, inactive ones paused), reports what it could not import and the
-- step to take, creates nothing the second time, lets a role create only tasks of roles it is a member of, and reads
-- only pg_cron's own cron.job. The jobs are the real pg_cron's (test/regress.conf preloads it for this database).
SET TimeZone = 'UTC';
SET client_min_messages = warning;
\set SHOW_CONTEXT never
CREATE EXTENSION pg_cron;
CREATE ROLE chronos_cron_alice LOGIN;
CREATE ROLE chronos_cron_bob LOGIN;
CREATE ROLE chronos_cron_gone LOGIN;
CREATE ROLE chronos_cron_reader LOGIN BYPASSRLS;   -- reads every job, but is a member of no other role
CREATE DATABASE chronos_cron_other;
-- The README's grants for a role that schedules tasks, and pg_cron's for a role that schedules jobs.
GRANT USAGE ON SCHEMA chronos TO chronos_cron_alice, chronos_cron_bob, chronos_cron_reader;
GRANT SELECT, INSERT, UPDATE, DELETE ON chronos.tasks TO chronos_cron_alice, chronos_cron_bob, chronos_cron_reader;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA chronos TO chronos_cron_alice, chronos_cron_bob, chronos_cron_reader;
GRANT USAGE ON SCHEMA cron TO chronos_cron_alice, chronos_cron_bob, chronos_cron_reader;

--
-- Schedules, read as pg_cron reads them and written for pg_chronos: kept when pg_chronos reads them the same way,
-- rewritten when it would read them differently, refused (with the reason) when it cannot express them.
--
SELECT s AS pg_cron, (chronos.pg_cron_schedule(s)).*
  FROM unnest(ARRAY[
    '*/5 * * * *', '30 3 * * *', '0 9 * * MON-FRI', '0 0 1,15 * 1', '0 0 $ * *', '0 12 * JAN,jul 0-7',
    '@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly',
    '30 seconds', '1 second',                       -- pg_cron 1.5 and later
    '0 2 1-31 * 1', '0 2 5 * 0-6',                  -- either day field: one covers every day, so every day
    '0 0 1 * sun-sun', '*/70 * * * *', '005 * * * *', '0 0 * * */7', '0 0 * * 1-5 ignored',
    '0 0 */2 * 1', '0 0 */2 * */2',                 -- both day fields, neither covering every day
    '@reboot', '5-1 * * * *', '0 0 * * mon-sun', '1/5 * * * *', '0 0 * * funday', '* * *', '60 seconds', '@Daily'
  ]) s;

-- What pg_chronos makes of the rewritten ones: the same times as pg_cron's.
SELECT * FROM chronos.next_runs('0 2 * * *', '2026-03-01 00:00+00', 3, 'GMT');   -- '0 2 1-31 * 1': every day
SELECT * FROM chronos.next_runs('0 0 1 * 0', '2026-03-01 00:00+00', 3, 'GMT');   -- the 1st, or a Sunday

--
-- Jobs of every kind. pg_cron's names are unique per user; "cleanup" is alice's and bob's.
--
SELECT cron.schedule_in_database('nightly-report', '30 3 * * *', 'SELECT 1', current_database(), 'chronos_cron_alice');
SELECT cron.schedule_in_database('hourly', '@hourly', 'SELECT 2', current_database(), 'chronos_cron_alice');
SET ROLE chronos_cron_alice;
SELECT cron.schedule('*/15 * * * *', 'SELECT 3');                                  -- no name
RESET ROLE;
SELECT cron.schedule_in_database('cleanup', '0 4 * * *', 'SELECT 4', current_database(), 'chronos_cron_alice');
SELECT cron.schedule_in_database('cleanup', '0 5 * * *', 'SELECT 5', current_database(), 'chronos_cron_bob');
SELECT cron.schedule_in_database('on-hold', '0 6 * * MON-FRI', 'SELECT 6', current_database(), 'chronos_cron_bob',
                                 active => false);
SELECT cron.schedule_in_database('leaver', '0 7 * * *', 'SELECT 7', current_database(), 'chronos_cron_gone');
SELECT cron.schedule_in_database('elsewhere', '0 8 * * *', $$SELECT 'other'$$, 'chronos_cron_other',
                                 'chronos_cron_alice');
SELECT cron.schedule_in_database('odd-mondays', '0 0 */2 * 1', 'SELECT 9', current_database(), 'chronos_cron_bob');
SELECT cron.schedule_in_database('at-start', '@reboot', 'SELECT 10', current_database(), 'chronos_cron_bob');
SELECT cron.schedule_in_database('every-day', '0 2 1-31 * 1', 'SELECT 11', current_database(), 'chronos_cron_bob');
SELECT cron.schedule_in_database('in-steps', '0 1 * * *', 'BEGIN; SELECT 12; COMMIT;', current_database(),
                                 'chronos_cron_bob');
SELECT cron.schedule_in_database('taken', '0 3 * * *', 'SELECT 13', current_database(), 'chronos_cron_bob');
-- pg_cron 1.5's seconds schedule (pg_cron 1.4 refuses it in cron.schedule, so the row is written directly)
INSERT INTO cron.job (schedule, command, nodeport, username, jobname)
VALUES ('30 seconds', 'SELECT 14', 5432, 'chronos_cron_alice', 'often');
DROP ROLE chronos_cron_gone;
-- a task of that name exists already
INSERT INTO chronos.tasks (name, schedule, command, owner) VALUES ('taken', '@daily', 'SELECT 0', 'chronos_cron_bob');
SELECT jobid, jobname, username, database, active, schedule FROM cron.job ORDER BY jobid;

--
-- A role that can read every job (BYPASSRLS) still creates no task for a role it is not a member of.
--
SET ROLE chronos_cron_reader;
SELECT jobid, jobname, action, task_id IS NOT NULL AS has_task, reason
  FROM chronos.import_pg_cron() WHERE database = current_database() AND action <> 'skipped';
RESET ROLE;
SELECT count(*) AS tasks_besides_taken FROM chronos.tasks WHERE name IS DISTINCT FROM 'taken';

--
-- Another role cannot make an import skip a job: bob plants a task marked as imported from alice's job 1, in its
-- remark (which 1.1 trusted) and in pg_cron_job (which only chronos.import_pg_cron() writes).
--
SET ROLE chronos_cron_bob;
INSERT INTO chronos.tasks (name, schedule, command, remark)
VALUES ('decoy', '@daily', 'SELECT 0', 'imported from pg_cron job 1');
INSERT INTO chronos.tasks (name, schedule, command, pg_cron_job) VALUES ('decoy-2', '@daily', 'SELECT 0', 1);
UPDATE chronos.tasks SET pg_cron_job = 1 WHERE name = 'decoy';
RESET ROLE;

--
-- A plain role imports the jobs it sees in cron.job: its own (pg_cron's row-level security).
--
SET ROLE chronos_cron_alice;
SELECT jobid, jobname, action, task_name, reason FROM chronos.import_pg_cron();
RESET ROLE;
SET ROLE chronos_cron_bob;
SELECT jobid, jobname, action, task_name, reason FROM chronos.import_pg_cron();
RESET ROLE;

--
-- The superuser sees every job. pg_cron 1.4 has no cron.timezone and runs every schedule in GMT, whatever a session
-- sets under that name.
--
SET cron.timezone = 'Europe/Paris';
SELECT jobid, jobname, action, task_id IS NOT NULL AS has_task, task_name, reason FROM chronos.import_pg_cron();
RESET cron.timezone;
SELECT t.name, t.schedule, t.timezone, t.command, t.owner, t.status, t.type, t.remark
  FROM chronos.tasks t ORDER BY t.id;

-- A second import finds each task by its mark and creates nothing.
SELECT count(*) AS tasks_before FROM chronos.tasks \gset
SELECT action, count(*) FROM chronos.import_pg_cron() GROUP BY action ORDER BY action;
SELECT count(*) - :tasks_before AS tasks_added FROM chronos.tasks;
-- pg_cron's jobs are left alone.
SELECT count(*) AS pg_cron_jobs FROM cron.job;

-- Search-path safe: what a role plants in public (an = operator on text, lower(text)) never runs when a superuser
-- imports with search_path = public, pg_catalog.
CREATE TABLE public.planted_log (what text);
CREATE FUNCTION public.planted_eq(text, text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.planted_log VALUES ('=');
    RETURN $1 OPERATOR(pg_catalog.=) $2;
END
$$;
CREATE OPERATOR public.= (FUNCTION = public.planted_eq, LEFTARG = text, RIGHTARG = text);
CREATE FUNCTION public.lower(text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.planted_log VALUES ('lower');
    RETURN pg_catalog.lower($1);
END
$$;
SET search_path = public, pg_catalog;
SELECT action, count(*) FROM chronos.import_pg_cron() GROUP BY action ORDER BY action;
SELECT * FROM chronos.pg_cron_schedule('0 9 * * MON-FRI');
RESET search_path;
SELECT count(*) AS planted_calls FROM public.planted_log;
DROP OPERATOR public.= (text, text);
DROP FUNCTION public.planted_eq(text, text), public.lower(text);
DROP TABLE public.planted_log;

--
-- The job of another database: its step is a statement to run there, which can be run twice.
--
SELECT substring(reason FROM 'run in that database: (.*)$') AS elsewhere_step
  FROM chronos.import_pg_cron() WHERE jobname = 'elsewhere' \gset
\c chronos_cron_other
SET client_min_messages = warning;
CREATE EXTENSION pg_chronos;
:elsewhere_step
:elsewhere_step
SELECT name, schedule, timezone, command, owner, status, remark FROM chronos.tasks;

--
-- A database without pg_cron: an error saying where pg_cron keeps its jobs.
--
SELECT * FROM chronos.import_pg_cron();
-- A cron.job that is not pg_cron's (here a table a role with CREATE on the database made, naming the superuser as
-- user) is not read.
GRANT CREATE ON DATABASE chronos_cron_other TO chronos_cron_alice;
SET ROLE chronos_cron_alice;
CREATE SCHEMA cron;
CREATE TABLE cron.job (jobid bigint, schedule text, command text, database text, username text, active boolean,
                       jobname text);
INSERT INTO cron.job VALUES (1, '* * * * *', 'ALTER ROLE chronos_cron_alice SUPERUSER', current_database(),
                             session_user, true, 'promote');
RESET ROLE;
SELECT * FROM chronos.import_pg_cron();
SELECT count(*) AS tasks FROM chronos.tasks;
DROP SCHEMA cron CASCADE;
DROP EXTENSION pg_chronos;
\c contrib_regression
SET client_min_messages = warning;

--
-- Without USAGE on schema cron (pg_cron's grant for its users): an error with the grant to ask for.
--
REVOKE USAGE ON SCHEMA cron FROM chronos_cron_bob;
SET ROLE chronos_cron_bob;
SELECT * FROM chronos.import_pg_cron();
RESET ROLE;

DROP DATABASE chronos_cron_other;
DELETE FROM chronos.tasks;
DROP EXTENSION pg_cron;
DROP OWNED BY chronos_cron_alice, chronos_cron_bob, chronos_cron_reader;
DROP ROLE chronos_cron_alice, chronos_cron_bob, chronos_cron_reader;
