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

-- Runs that end their worker are counted; a task that keeps doing it is quarantined.
ALTER TABLE chronos.tasks ADD COLUMN crash_count int NOT NULL DEFAULT 0;
COMMENT ON COLUMN chronos.tasks.crash_count IS
'consecutive runs that ended the worker running them; at chronos.max_crashes the task is quarantined (failed)';

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

-- The schema must not be open to non-superusers (see the install script, 010_schema.sql): its owner or anyone who may
-- create objects in it could replace what the workers run as a superuser.
DO $$
DECLARE
    creators text;
BEGIN
    IF NOT (SELECT r.rolsuper FROM pg_catalog.pg_namespace n JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) n.nspowner
             WHERE n.oid OPERATOR(pg_catalog.=) 'chronos'::pg_catalog.regnamespace) THEN
        RAISE EXCEPTION 'schema "chronos" is owned by a role that is not a superuser' USING ERRCODE = 'insufficient_privilege',
            DETAIL = 'The owner of the schema could replace what pg_chronos''s workers run as a superuser.',
            HINT = 'ALTER SCHEMA chronos OWNER TO a superuser, then update the extension.';
    END IF;
    SELECT pg_catalog.string_agg(CASE WHEN a.grantee OPERATOR(pg_catalog.=) 0 THEN 'PUBLIC'
                                      ELSE a.grantee::pg_catalog.regrole::pg_catalog.text END, ', ')
      INTO creators
      FROM pg_catalog.pg_namespace n, pg_catalog.aclexplode(n.nspacl) a
      LEFT JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) a.grantee
     WHERE n.oid OPERATOR(pg_catalog.=) 'chronos'::pg_catalog.regnamespace
       AND a.privilege_type OPERATOR(pg_catalog.=) 'CREATE' AND NOT COALESCE(r.rolsuper, false);
    IF creators IS NOT NULL THEN
        RAISE EXCEPTION 'roles that are not superusers may create objects in schema "chronos"'
            USING ERRCODE = 'insufficient_privilege', DETAIL = pg_catalog.format('CREATE is granted to %s.', creators),
                  HINT = 'REVOKE CREATE ON SCHEMA chronos FROM them, then update the extension.';
    END IF;
END
$$;

-- Notifications carry ids and the status only, unless the task's owner asks for details.
ALTER TABLE chronos.tasks ADD COLUMN notify_details boolean NOT NULL DEFAULT false;
COMMENT ON COLUMN chronos.tasks.notify_details IS
'whether notifications carry the task name, error and result text (readable by anyone who may LISTEN)';

-- Every SQL and PL/pgSQL function pins search_path and names operators and functions by schema.
CREATE OR REPLACE FUNCTION chronos.schedule(name text, schedule text, command text, timezone text DEFAULT NULL,
                                 start_time timestamptz DEFAULT NULL)
RETURNS bigint
LANGUAGE sql SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    INSERT INTO chronos.tasks AS t (name, type, schedule, command, timezone, start_time)
    VALUES ($1, 'loop', $2, $3, $4, COALESCE($5, pg_catalog.now()))
    ON CONFLICT (name) WHERE name IS NOT NULL DO UPDATE
       SET type = 'loop', schedule = excluded.schedule, command = excluded.command,
           timezone = COALESCE($4, t.timezone), start_time = COALESCE($5, t.start_time),
           status = CASE WHEN t.status OPERATOR(pg_catalog.=) ANY ('{done,failed}'::chronos.task_state[])
                         THEN 'scheduled'::chronos.task_state ELSE t.status END
    RETURNING id;
END;

COMMENT ON FUNCTION chronos.schedule(text, text, text, text, timestamptz) IS
'create the loop task called name, or change its schedule and command; returns its id';

CREATE OR REPLACE FUNCTION chronos.run_at(name text, at timestamptz, command text)
RETURNS bigint
LANGUAGE sql SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    INSERT INTO chronos.tasks AS t (name, type, command, start_time)
    VALUES ($1, 'once', $3, $2)
    ON CONFLICT (name) WHERE name IS NOT NULL DO UPDATE
       SET type = 'once', schedule = NULL, command = excluded.command, start_time = excluded.start_time,
           next_exec_time = excluded.start_time, status = 'scheduled'
    RETURNING id;
END;

COMMENT ON FUNCTION chronos.run_at(text, timestamptz, text) IS 'run command once at the given time; returns the task id';

CREATE OR REPLACE FUNCTION chronos.unschedule(name text)
RETURNS boolean
LANGUAGE sql SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    WITH gone AS (DELETE FROM chronos.tasks t WHERE t.name OPERATOR(pg_catalog.=) $1 RETURNING 1)
    SELECT pg_catalog.count(*) OPERATOR(pg_catalog.>) 0 FROM gone;
END;

COMMENT ON FUNCTION chronos.unschedule(text) IS 'delete the task called name; false if there was none';

CREATE OR REPLACE FUNCTION chronos.find_task(name text) RETURNS chronos.tasks
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    task chronos.tasks;
BEGIN
    SELECT * INTO task FROM chronos.tasks t WHERE t.name OPERATOR(pg_catalog.=) find_task.name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'task "%" does not exist', find_task.name USING ERRCODE = 'undefined_object',
            HINT = 'SELECT name FROM chronos.task_status lists the tasks you can see.';
    END IF;
    RETURN task;
END
$$;

COMMENT ON FUNCTION chronos.find_task(text) IS 'the row of the task called name; 42704 if you can see none';

CREATE OR REPLACE FUNCTION chronos.pause(name text) RETURNS boolean
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    was chronos.task_state := (chronos.find_task(pause.name)).status;
BEGIN
    UPDATE chronos.tasks t SET status = 'paused'
     WHERE t.name OPERATOR(pg_catalog.=) pause.name AND t.status OPERATOR(pg_catalog.<>) 'paused'::chronos.task_state;
    RETURN was OPERATOR(pg_catalog.<>) 'paused'::chronos.task_state;
END
$$;

COMMENT ON FUNCTION chronos.pause(text) IS 'stop running the task; false if it was already paused';

CREATE OR REPLACE FUNCTION chronos.resume(name text) RETURNS timestamptz
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    UPDATE chronos.tasks t SET status = 'scheduled', next_exec_time = NULL
     WHERE t.name OPERATOR(pg_catalog.=) resume.name
       AND t.status OPERATOR(pg_catalog.=) ANY ('{paused,done,failed}'::chronos.task_state[]);
    RETURN (chronos.find_task(resume.name)).next_exec_time;
END
$$;

COMMENT ON FUNCTION chronos.resume(text) IS 'schedule a paused (or finished) task again; returns its next run time';

CREATE OR REPLACE FUNCTION chronos.run_now(name text) RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    UPDATE chronos.tasks t SET run_requested = true WHERE t.name OPERATOR(pg_catalog.=) run_now.name;
    RETURN (chronos.find_task(run_now.name)).id;
END
$$;

COMMENT ON FUNCTION chronos.run_now(text) IS
'run the task once as soon as a worker is free (a manual run), without moving its schedule; returns its id';

-- Listeners belong to a role. Version 1.0 recorded no owner; a listener is given to the owner of its handler
-- function, the role that chose to let that function handle the event (a listener whose handler no longer exists gets
-- OID 0 and is never used). From then on each role has its own events.
ALTER TABLE chronos.listeners ADD COLUMN owner regrole;
ALTER TABLE chronos.listeners DISABLE TRIGGER listener_check;
UPDATE chronos.listeners l
   SET owner = COALESCE((SELECT p.proowner FROM pg_catalog.pg_proc p WHERE p.oid OPERATOR(pg_catalog.=) l.handler),
                        0)::pg_catalog.regrole;
ALTER TABLE chronos.listeners ENABLE TRIGGER listener_check;
ALTER TABLE chronos.listeners ALTER COLUMN owner SET DEFAULT quote_ident(current_user)::regrole,
                              ALTER COLUMN owner SET NOT NULL,
                              DROP CONSTRAINT listeners_pkey,
                              ADD PRIMARY KEY (owner, event);
COMMENT ON TABLE chronos.listeners IS
'which function handles each event of a role; the handler takes one jsonb argument and runs as the owner';
COMMENT ON COLUMN chronos.listeners.owner IS 'role whose event this is and whose rights the handler runs with (by OID)';

ALTER TABLE chronos.listeners ENABLE ROW LEVEL SECURITY;
CREATE POLICY listeners_of_my_roles ON chronos.listeners USING (chronos.is_member_of(owner))
    WITH CHECK (chronos.is_member_of(owner));

CREATE OR REPLACE FUNCTION chronos.listener_check() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NEW.event IS NULL OR NEW.handler IS NULL OR NEW.owner IS NULL THEN
        RAISE EXCEPTION 'event, handler and owner of a listener must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF pg_catalog.length(NEW.event) OPERATOR(pg_catalog.<) 1 OR pg_catalog.length(NEW.event) OPERATOR(pg_catalog.>) 200 THEN
        RAISE EXCEPTION 'event name must be 1 to 200 characters long' USING ERRCODE = 'invalid_parameter_value',
            DETAIL = pg_catalog.format('It has %s characters.', pg_catalog.length(NEW.event));
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles r WHERE r.oid OPERATOR(pg_catalog.=) NEW.owner) THEN
        RAISE EXCEPTION 'role % does not exist', NEW.owner USING ERRCODE = 'undefined_object',
            HINT = 'Leave owner out to register the listener for yourself.';
    END IF;
    IF NOT chronos.is_member_of(NEW.owner) THEN
        RAISE EXCEPTION 'permission denied to register a listener for role "%"', NEW.owner
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = pg_catalog.format('Only members of role "%s" may register its listeners.', NEW.owner),
                  HINT = 'Leave owner out to register the listener for yourself.';
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_proc p
                    WHERE p.oid OPERATOR(pg_catalog.=) NEW.handler AND p.prokind OPERATOR(pg_catalog.=) 'f'
                      AND p.pronargs OPERATOR(pg_catalog.=) 1
                      AND p.proargtypes[0] OPERATOR(pg_catalog.=) 'pg_catalog.jsonb'::pg_catalog.regtype) THEN
        RAISE EXCEPTION 'handler % of event "%" must be a function taking one jsonb argument', NEW.handler, NEW.event
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'For example CREATE FUNCTION on_signup(payload jsonb) RETURNS void …';
    END IF;
    IF NOT pg_catalog.has_function_privilege(NEW.owner::pg_catalog.oid, NEW.handler::pg_catalog.oid, 'EXECUTE') THEN
        RAISE EXCEPTION 'role "%" may not execute handler % of event "%"', NEW.owner, NEW.handler, NEW.event
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'The handler runs as the owner of the listener.',
                  HINT = pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO %s, or choose a function it may execute.',
                                           NEW.handler, NEW.owner);
    END IF;
    RETURN NEW;
END
$$;


CREATE OR REPLACE FUNCTION chronos.listen(event text, handler regprocedure) RETURNS void
LANGUAGE sql SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    INSERT INTO chronos.listeners AS l (event, handler, owner) VALUES ($1, $2, pg_catalog.quote_ident(CURRENT_USER)::pg_catalog.regrole)
    ON CONFLICT (owner, event) DO UPDATE SET handler = excluded.handler;
END;

COMMENT ON FUNCTION chronos.listen(text, regprocedure) IS
'make handler(jsonb) the listener of the current user''s event; it runs as the current user';

CREATE OR REPLACE FUNCTION chronos.unlisten(event text) RETURNS boolean
LANGUAGE sql SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    WITH gone AS (DELETE FROM chronos.listeners l
                   WHERE l.owner OPERATOR(pg_catalog.=) pg_catalog.quote_ident(CURRENT_USER)::pg_catalog.regrole
                     AND l.event OPERATOR(pg_catalog.=) $1 RETURNING 1)
    SELECT pg_catalog.count(*) OPERATOR(pg_catalog.>) 0 FROM gone;
END;

COMMENT ON FUNCTION chronos.unlisten(text) IS 'remove the current user''s listener of event; false if there was none';

-- emit gains an owner argument: the grants given on the 1.0 function are carried over to the new one.
SELECT pg_catalog.set_config('pg_chronos_upgrade.emit_grants',
                             COALESCE(pg_catalog.json_agg(a.grantee)::pg_catalog.text, '[]'), true)
  FROM pg_catalog.pg_proc p, pg_catalog.aclexplode(p.proacl) a
 WHERE p.oid OPERATOR(pg_catalog.=) 'chronos.emit(text, jsonb, timestamptz)'::pg_catalog.regprocedure
   AND a.privilege_type OPERATOR(pg_catalog.=) 'EXECUTE' AND a.grantee OPERATOR(pg_catalog.<>) p.proowner;
DROP FUNCTION chronos.emit(text, jsonb, timestamptz);

-- What the task of an emitted event runs: the handler, bound by OID when the event is emitted and called only while
-- it is still that function under that name (src/pg/event_functions.cpp), so that nobody can put another function in
-- its place before the task runs. It checks the caller (the task's owner) may execute the handler.
CREATE FUNCTION chronos.call_handler(handler oid, handler_name text, payload jsonb) RETURNS void
LANGUAGE C VOLATILE AS 'MODULE_PATHNAME', 'chronos_call_handler';

COMMENT ON FUNCTION chronos.call_handler(oid, text, jsonb) IS
'call the event handler with OID handler, while it is still called handler_name, with payload';

CREATE FUNCTION chronos.emit(event text, payload jsonb, at timestamptz DEFAULT now(),
                             owner regrole DEFAULT quote_ident(current_user)::regrole) RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    call text;
    task_id bigint;
BEGIN
    IF emit.event IS NULL OR emit.at IS NULL OR emit.owner IS NULL THEN
        RAISE EXCEPTION 'event, at and owner must not be NULL' USING ERRCODE = 'null_value_not_allowed',
            HINT = 'Leave at out to run the handler now, and owner out to emit your own event.';
    END IF;
    IF NOT chronos.is_member_of(emit.owner) THEN
        RAISE EXCEPTION 'permission denied to emit events of role "%"', emit.owner
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = pg_catalog.format('Only members of role "%s" may emit its events.', emit.owner),
                  HINT = 'Leave owner out to emit your own event.';
    END IF;
    SELECT CASE WHEN p.oid IS NOT NULL
                THEN pg_catalog.format('SELECT chronos.call_handler(%s, %L, $1)', p.oid,
                                       pg_catalog.format('%I.%I', n.nspname, p.proname)) END INTO call
      FROM chronos.listeners l
      LEFT JOIN pg_catalog.pg_proc p ON p.oid OPERATOR(pg_catalog.=) l.handler
      LEFT JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) p.pronamespace
     WHERE l.owner OPERATOR(pg_catalog.=) emit.owner AND l.event OPERATOR(pg_catalog.=) emit.event;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no listener for event "%" of role "%"', emit.event, emit.owner
            USING ERRCODE = 'undefined_object', HINT = 'Register one with chronos.listen(event, handler).';
    END IF;
    IF call IS NULL THEN
        RAISE EXCEPTION 'the handler of event "%" of role "%" no longer exists', emit.event, emit.owner
            USING ERRCODE = 'undefined_function', HINT = 'Register a new one with chronos.listen(event, handler).';
    END IF;
    INSERT INTO chronos.tasks (type, command, payload, start_time, owner, remark)
    VALUES ('once', call, emit.payload, emit.at, emit.owner, 'event ' OPERATOR(pg_catalog.||) emit.event)
    RETURNING id INTO task_id;
    RETURN task_id;
END
$$;

COMMENT ON FUNCTION chronos.emit(text, jsonb, timestamptz, regrole) IS
'schedule one run of the handler of role owner''s event with payload, at the given time, as that role; returns the task id';

DO $$
DECLARE
    grantee oid;
BEGIN
    FOR grantee IN SELECT * FROM pg_catalog.json_array_elements_text(
                       pg_catalog.current_setting('pg_chronos_upgrade.emit_grants')::pg_catalog.json) LOOP
        EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION chronos.emit(text, jsonb, timestamptz, regrole) TO %s',
                                  CASE WHEN grantee OPERATOR(pg_catalog.=) 0 THEN 'PUBLIC'
                                       ELSE grantee::pg_catalog.regrole::pg_catalog.text END);
    END LOOP;
END
$$;

-- Fair share between owners: a claim whose earliest due task belongs to an owner with runs in progress looks, one
-- index descent per owner, for the earliest due task of an owner with fewer.
CREATE INDEX tasks_owner_due ON chronos.tasks (owner, next_exec_time) WHERE status = 'scheduled';

-- Version 1.1 is installed, and 1.0 updated, only where the library was preloaded (010_schema.sql).
CREATE FUNCTION chronos.check_preloaded() RETURNS void
LANGUAGE C VOLATILE AS 'MODULE_PATHNAME', 'chronos_check_preloaded';

COMMENT ON FUNCTION chronos.check_preloaded() IS
'raises an error unless pg_chronos was loaded via shared_preload_libraries';

SELECT chronos.check_preloaded();

-- The identity sequences too, so that a restored database goes on numbering tasks and runs after the restored rows.
SELECT pg_catalog.pg_extension_config_dump(
    pg_catalog.pg_get_serial_sequence('chronos.tasks', 'id')::pg_catalog.regclass, '');
SELECT pg_catalog.pg_extension_config_dump(
    pg_catalog.pg_get_serial_sequence('chronos.runs', 'run_id')::pg_catalog.regclass, '');

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

-- Moving from pg_cron: chronos.pg_cron_schedule() reads a schedule as pg_cron reads it and writes it in pg_chronos's
-- syntax (or says why it cannot), and chronos.import_pg_cron() turns this database's pg_cron jobs into tasks, with the
-- caller's rights, reporting one row per job. docs/pg_cron.md explains the mapping and the differences.

-- The values one field of a 5-field pg_cron schedule selects, read as pg_cron (Vixie cron) reads them: a list of `*`,
-- `n` or `a-b`, each with an optional `/step`; names (case-insensitive) where `names` is given, the first one matching
-- (so SUN is 0 also at the end of a range); a range whose start comes after its end selects nothing. `portable` is
-- false when pg_chronos would read the same text differently or refuse it, `problem` is set when pg_cron refuses it.
CREATE FUNCTION chronos.pg_cron_field(field text, what text, low int, high int, chronos_high int, names text[],
                                      OUT bits int[], OUT portable boolean, OUT problem text)
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    element text;
    part text[];
    word text;
    bounds int[];
    step int;
    value int;
BEGIN
    bits := '{}';
    portable := true;
    FOREACH element IN ARRAY pg_catalog.string_to_array(field, ',') LOOP
        part := pg_catalog.regexp_match(element, '^(?:(\*)|([[:alnum:]]+)(?:-([[:alnum:]]+))?)(?:/([0-9]+))?$');
        IF part IS NULL OR (part[1] IS NULL AND part[3] IS NULL AND part[4] IS NOT NULL) THEN
            problem := pg_catalog.format('the %s field "%s" is not a list of *, numbers, ranges (a-b) and steps '
                                         '(*/n, a-b/n).', what, field);
            RETURN;
        END IF;
        IF part[1] IS NOT NULL THEN
            bounds := ARRAY[low, high];
        ELSE
            bounds := '{}';
            FOREACH word IN ARRAY ARRAY[part[2], COALESCE(part[3], part[2])] LOOP
                value := CASE WHEN word OPERATOR(pg_catalog.~) '^[0-9]{1,9}$' THEN word::int
                              ELSE pg_catalog.array_position(names, pg_catalog.lower(word)) OPERATOR(pg_catalog.-) 1
                                   OPERATOR(pg_catalog.+) low END;
                IF value IS NULL OR value OPERATOR(pg_catalog.<) low OR value OPERATOR(pg_catalog.>) high THEN
                    problem := pg_catalog.format('the %s field "%s" holds "%s", which is %s a number from %s to %s%s.',
                                                 what, field, word,
                                                 CASE WHEN names IS NULL THEN 'not' ELSE 'neither' END, low, high,
                                                 CASE WHEN names IS NULL THEN '' ELSE ' nor a name' END);
                    RETURN;
                END IF;
                IF pg_catalog.length(word) OPERATOR(pg_catalog.>) 2 AND word OPERATOR(pg_catalog.~) '^[0-9]+$' THEN
                    portable := false;  -- pg_chronos reads at most two digits
                END IF;
                bounds := pg_catalog.array_append(bounds, value);
            END LOOP;
            IF bounds[1] OPERATOR(pg_catalog.>) bounds[2] THEN
                portable := false;  -- nothing in pg_cron, refused by pg_chronos
            END IF;
            IF high OPERATOR(pg_catalog.=) 7 AND part[3] IS NOT NULL AND bounds[2] OPERATOR(pg_catalog.=) 0
               AND part[3] OPERATOR(pg_catalog.!~) '^[0-9]+$' THEN
                portable := false;  -- a range ending in SUN ends on Sunday 7 in pg_chronos
            END IF;
        END IF;
        step := 1;
        IF part[4] IS NOT NULL THEN
            IF pg_catalog.length(part[4]) OPERATOR(pg_catalog.>) 9 OR part[4]::int OPERATOR(pg_catalog.<) 1 THEN
                problem := pg_catalog.format('the %s field "%s" has a step below 1 or beyond any value.', what,
                                             field);
                RETURN;
            END IF;
            step := part[4]::int;
            IF step OPERATOR(pg_catalog.>) chronos_high OR pg_catalog.length(part[4]) OPERATOR(pg_catalog.>) 2 THEN
                portable := false;  -- pg_chronos refuses a step longer than the field
            END IF;
        END IF;
        FOR value IN bounds[1] .. bounds[2] BY step LOOP
            bits := pg_catalog.array_append(bits, value);
        END LOOP;
    END LOOP;
    IF names IS NOT NULL AND high OPERATOR(pg_catalog.=) 7 THEN
        -- day-of-week: 7 is Sunday too
        bits := pg_catalog.array_replace(bits, 7, 0);
    END IF;
    bits := ARRAY(SELECT DISTINCT b FROM pg_catalog.unnest(bits) b ORDER BY b);
END
$$;

COMMENT ON FUNCTION chronos.pg_cron_field(text, text, int, int, int, text[]) IS
'used by chronos.pg_cron_schedule: the values one pg_cron schedule field selects';

-- The shortest pg_chronos field text for a set of values in low..high: *, */n, or a list of numbers and ranges.
CREATE FUNCTION chronos.pg_cron_field_text(bits int[], low int, high int) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT CASE
        WHEN bits OPERATOR(pg_catalog.=) ARRAY(SELECT pg_catalog.generate_series(low, high)) THEN '*'
        WHEN pg_catalog.cardinality(bits) OPERATOR(pg_catalog.>) 2 AND bits[1] OPERATOR(pg_catalog.=) low
             AND bits OPERATOR(pg_catalog.=)
                 ARRAY(SELECT pg_catalog.generate_series(low, high, bits[2] OPERATOR(pg_catalog.-) bits[1]))
        THEN '*/' OPERATOR(pg_catalog.||) (bits[2] OPERATOR(pg_catalog.-) bits[1])::text
        ELSE (SELECT pg_catalog.string_agg(CASE WHEN first_value OPERATOR(pg_catalog.=) last_value
                                                THEN first_value::text
                                                ELSE first_value::text OPERATOR(pg_catalog.||) '-'
                                                     OPERATOR(pg_catalog.||) last_value::text END,
                                           ',' ORDER BY first_value)
                FROM (SELECT pg_catalog.min(v) AS first_value, pg_catalog.max(v) AS last_value
                        FROM pg_catalog.unnest(bits) WITH ORDINALITY AS u(v, o)
                       GROUP BY v OPERATOR(pg_catalog.-) o) runs)
    END;
END;

COMMENT ON FUNCTION chronos.pg_cron_field_text(int[], int, int) IS
'used by chronos.pg_cron_schedule: pg_chronos field text for a set of values';

-- A pg_cron schedule in pg_chronos's syntax, firing at the same times: the text itself when pg_chronos reads it the
-- same way, else the fields rewritten. NULL and the reason when pg_chronos cannot express it or pg_cron refuses it.
-- pg_cron requires both day fields to match when either starts with *, pg_chronos when either covers every day: the
-- day fields are rewritten where the two rules differ, and the schedule refused where no rewriting gives the same days.
CREATE FUNCTION chronos.pg_cron_schedule(pg_cron_schedule text, OUT schedule text, OUT note text)
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    spec text := pg_catalog.btrim(pg_cron_schedule, E' \t\r\n');
    fields text[];
    seconds text[];
    word text;
    minute record;
    hour record;
    dom record;
    month record;
    dow record;
    dom_last boolean;
    dom_text text;
    dow_text text;
    day_note text;
BEGIN
    IF spec IS NULL OR spec OPERATOR(pg_catalog.=) '' THEN
        note := 'The schedule is empty.';
        RETURN;
    END IF;
    IF pg_catalog.left(spec, 1) OPERATOR(pg_catalog.=) '@' THEN
        word := pg_catalog.substr(pg_catalog.split_part(pg_catalog.replace(spec, E'\t', ' '), ' ', 1), 2);
        IF word OPERATOR(pg_catalog.=) ANY ('{yearly,annually,monthly,weekly,daily,midnight,hourly}'::text[]) THEN
            schedule := '@' OPERATOR(pg_catalog.||) word;
        ELSIF word OPERATOR(pg_catalog.=) ANY ('{reboot,restart}'::text[]) THEN
            note := pg_catalog.format('"@%s" runs the job each time pg_cron starts; pg_chronos has no schedule for '
                                      'a server start. Give the task a time-based schedule, or run its command from '
                                      'your start-up procedure.', word);
        ELSE
            note := pg_catalog.format('pg_cron does not know "@%s" either; it never runs this job.', word);
        END IF;
        RETURN;
    END IF;
    -- pg_cron 1.5 and later: "N seconds" (1-59), the next run N seconds after the previous one started.
    seconds := pg_catalog.regexp_match(pg_catalog.lower(spec), '^\+?([0-9]{1,9})\s*seconds?$');
    IF seconds IS NOT NULL THEN
        IF seconds[1]::int OPERATOR(pg_catalog.<) 1 OR seconds[1]::int OPERATOR(pg_catalog.>) 59 THEN
            note := 'pg_cron accepts 1 to 59 seconds; it never runs this job.';
        ELSE
            schedule := pg_catalog.format('@every %ss', seconds[1]::int);
        END IF;
        RETURN;
    END IF;
    fields := pg_catalog.regexp_split_to_array(spec, '[ \t]+');
    IF pg_catalog.cardinality(fields) OPERATOR(pg_catalog.<) 5 THEN
        note := pg_catalog.format('pg_cron reads 5 fields (minute hour day-of-month month day-of-week); "%s" has %s.',
                                  spec, pg_catalog.cardinality(fields));
        RETURN;
    END IF;
    minute := chronos.pg_cron_field(fields[1], 'minute', 0, 59, 59, NULL);
    hour := chronos.pg_cron_field(fields[2], 'hour', 0, 23, 23, NULL);
    dom_last := fields[3] OPERATOR(pg_catalog.=) '$';
    dom := chronos.pg_cron_field(CASE WHEN dom_last THEN '1' ELSE fields[3] END, 'day-of-month', 1, 31, 31, NULL);
    month := chronos.pg_cron_field(fields[4], 'month', 1, 12, 12,
                                   '{jan,feb,mar,apr,may,jun,jul,aug,sep,oct,nov,dec}');
    dow := chronos.pg_cron_field(fields[5], 'day-of-week', 0, 7, 6, '{sun,mon,tue,wed,thu,fri,sat,sun}');
    note := COALESCE(minute.problem, hour.problem, dom.problem, month.problem, dow.problem);
    IF note IS NOT NULL THEN
        note := 'pg_cron cannot read this schedule either: ' OPERATOR(pg_catalog.||) note;
        RETURN;
    END IF;
    IF dom_last THEN
        dom.bits := '{}';
    END IF;
    IF pg_catalog.cardinality(minute.bits) OPERATOR(pg_catalog.=) 0
       OR pg_catalog.cardinality(hour.bits) OPERATOR(pg_catalog.=) 0
       OR pg_catalog.cardinality(month.bits) OPERATOR(pg_catalog.=) 0 THEN
        note := pg_catalog.format('pg_cron never runs "%s": one of its fields selects nothing (a range whose start '
                                  'comes after its end is empty there).', spec);
        RETURN;
    END IF;
    dom_text := CASE WHEN dom_last THEN '$' WHEN dom.portable THEN fields[3]
                     ELSE chronos.pg_cron_field_text(dom.bits, 1, 31) END;
    dow_text := CASE WHEN dow.portable THEN fields[5] ELSE chronos.pg_cron_field_text(dow.bits, 0, 6) END;
    IF pg_catalog.left(fields[3], 1) OPERATOR(pg_catalog.=) '*'
       OR pg_catalog.left(fields[5], 1) OPERATOR(pg_catalog.=) '*' THEN
        -- pg_cron: a day must match both fields
        IF (pg_catalog.cardinality(dom.bits) OPERATOR(pg_catalog.=) 0 AND NOT dom_last)
           OR pg_catalog.cardinality(dow.bits) OPERATOR(pg_catalog.=) 0 THEN
            note := pg_catalog.format('pg_cron never runs "%s": one of its day fields selects no day.', spec);
            RETURN;
        END IF;
        IF pg_catalog.cardinality(dom.bits) OPERATOR(pg_catalog.<) 31
           AND pg_catalog.cardinality(dow.bits) OPERATOR(pg_catalog.<) 7 THEN
            note := pg_catalog.format('pg_cron runs "%s" on days that match both day-of-month "%s" and day-of-week '
                                      '"%s" (a day field starting with * makes it require both); pg_chronos requires '
                                      'both only when one of them covers every day, and takes either otherwise. '
                                      'Write the days as one field, or split the job into tasks that each fix the '
                                      'days another way.', spec, fields[3], fields[5]);
            RETURN;
        END IF;
    ELSE
        -- pg_cron: a day may match either field
        IF pg_catalog.cardinality(dom.bits) OPERATOR(pg_catalog.=) 31
           OR pg_catalog.cardinality(dow.bits) OPERATOR(pg_catalog.=) 7 THEN
            dom_text := '*';
            dow_text := '*';
            day_note := 'every day (pg_cron takes a day matching either day field, and one covers every day)';
        ELSIF pg_catalog.cardinality(dom.bits) OPERATOR(pg_catalog.=) 0 AND NOT dom_last
              AND pg_catalog.cardinality(dow.bits) OPERATOR(pg_catalog.=) 0 THEN
            note := pg_catalog.format('pg_cron never runs "%s": its day fields select no day.', spec);
            RETURN;
        ELSIF pg_catalog.cardinality(dom.bits) OPERATOR(pg_catalog.=) 0 AND NOT dom_last THEN
            dom_text := '*';
            day_note := 'only the days of the week (its day-of-month field selects no day)';
        ELSIF pg_catalog.cardinality(dow.bits) OPERATOR(pg_catalog.=) 0 THEN
            dow_text := '*';
            day_note := 'only the days of the month (its day-of-week field selects no day)';
        END IF;
    END IF;
    schedule := pg_catalog.concat_ws(' ',
        CASE WHEN minute.portable THEN fields[1] ELSE chronos.pg_cron_field_text(minute.bits, 0, 59) END,
        CASE WHEN hour.portable THEN fields[2] ELSE chronos.pg_cron_field_text(hour.bits, 0, 23) END,
        dom_text,
        CASE WHEN month.portable THEN fields[4] ELSE chronos.pg_cron_field_text(month.bits, 1, 12) END,
        dow_text);
    IF pg_catalog.cardinality(fields) OPERATOR(pg_catalog.>) 5 THEN
        note := pg_catalog.format('pg_cron ignores "%s" after the fifth field.',
                                  pg_catalog.array_to_string(fields[6:], ' '));
    END IF;
    IF schedule OPERATOR(pg_catalog.<>) pg_catalog.array_to_string(fields[1:5], ' ') THEN
        note := pg_catalog.concat_ws(' ', note,
                                     pg_catalog.format('Written "%s" for pg_chronos, which runs at the same times%s.',
                                                       schedule, ': ' OPERATOR(pg_catalog.||) day_note));
    END IF;
END
$$;

COMMENT ON FUNCTION chronos.pg_cron_schedule(text) IS
'a pg_cron schedule in pg_chronos syntax, firing at the same times, with a note; NULL and the reason if it cannot be';

-- A setting pg_cron may make readable to superusers only (cron.timezone, cron.database_name): its value, NULL when
-- the server does not define it (an older pg_cron, or pg_cron not loaded; a value set for a name pg_cron does not
-- define is a placeholder and ignored), or an error naming who may read it.
CREATE FUNCTION chronos.pg_cron_setting(setting_name text) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    value text;
BEGIN
    BEGIN
        value := pg_catalog.current_setting(setting_name, true);
    EXCEPTION WHEN insufficient_privilege THEN
        RAISE EXCEPTION 'permission denied to read pg_cron''s setting %', setting_name
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'pg_cron lets only superusers and members of pg_read_all_settings read it, and the '
                           'import needs it.',
                  HINT = 'Ask a superuser to run chronos.import_pg_cron(), or to GRANT pg_read_all_settings to you.';
    END;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_settings s WHERE s.name OPERATOR(pg_catalog.=) setting_name) THEN
        RETURN NULL;
    END IF;
    RETURN value;
END
$$;

COMMENT ON FUNCTION chronos.pg_cron_setting(text) IS
'used by chronos.import_pg_cron: a pg_cron setting, NULL when the server does not define it';

-- Imports this database's pg_cron jobs (those of cron.job the caller can see) as tasks, and returns one row per job:
-- imported, skipped (imported before, or a job of another database: with the statement to run there) or not imported
-- (with the reason and what to do). A task remembers its job in remark ('imported from pg_cron job N'), which is how a
-- second import finds it. Runs with the caller's rights: the tasks' trigger lets it create tasks only for roles the
-- caller is a member of. Only pg_cron's own cron.job is read (a table of that name outside the extension pg_cron could
-- have been written by anyone).
CREATE FUNCTION chronos.import_pg_cron()
RETURNS TABLE (jobid bigint, jobname text, database text, action text, task_id bigint, task_name text, reason text)
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    job_table pg_catalog.regclass;
    cron_database text;
    zone text;
    job record;
    translated record;
    job_owner pg_catalog.regrole;
    imported record;
    candidate text;
    marker text;
    task_status chronos.task_state;
    error_state text;
    error_message text;
    error_detail text;
    error_hint text;
BEGIN
    BEGIN
        job_table := pg_catalog.to_regclass('cron.job');
    EXCEPTION WHEN insufficient_privilege THEN
        RAISE EXCEPTION 'permission denied for schema cron'
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'The import reads the jobs you can see in pg_cron''s table cron.job.',
                  HINT = 'Ask a superuser to GRANT USAGE ON SCHEMA cron to you (pg_cron''s own users need it too), or '
                         'to run chronos.import_pg_cron() for every role.';
    END;
    IF job_table IS NULL THEN
        BEGIN
            cron_database := chronos.pg_cron_setting('cron.database_name');
        EXCEPTION WHEN insufficient_privilege THEN
            cron_database := NULL;
        END;
        RAISE EXCEPTION 'pg_cron''s table cron.job does not exist in database "%"', pg_catalog.current_database()
            USING ERRCODE = 'undefined_table',
                  DETAIL = CASE WHEN cron_database IS NULL
                                THEN 'pg_cron keeps its jobs in the database named by its setting cron.database_name.'
                                ELSE pg_catalog.format('pg_cron keeps its jobs in database "%s" (cron.database_name).',
                                                       cron_database) END,
                  HINT = 'Run chronos.import_pg_cron() in the database that has CREATE EXTENSION pg_cron: it lists '
                         'the jobs of every database, with the statement to run in each.';
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_depend d
                     JOIN pg_catalog.pg_extension e ON e.oid OPERATOR(pg_catalog.=) d.refobjid
                    WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
                      AND d.objid OPERATOR(pg_catalog.=) job_table::pg_catalog.oid
                      AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass
                      AND d.deptype OPERATOR(pg_catalog.=) 'e' AND e.extname OPERATOR(pg_catalog.=) 'pg_cron') THEN
        RAISE EXCEPTION 'table cron.job is not pg_cron''s'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = pg_catalog.format('It belongs to no extension pg_cron (its owner is %s); jobs are imported '
                                             'only from the table of the extension pg_cron.',
                                             (SELECT c.relowner::pg_catalog.regrole FROM pg_catalog.pg_class c
                                               WHERE c.oid OPERATOR(pg_catalog.=) job_table)),
                  HINT = 'Run chronos.import_pg_cron() in the database where CREATE EXTENSION pg_cron was run.';
    END IF;
    -- pg_cron 1.5 and later evaluate schedules in cron.timezone (default GMT); earlier versions always in GMT.
    zone := COALESCE(chronos.pg_cron_setting('cron.timezone'), 'GMT');

    FOR job IN
        SELECT j.jobid, j.schedule, j.command, j.database, j.username,
               pg_catalog.to_jsonb(j) OPERATOR(pg_catalog.->>) 'jobname' AS jobname,
               COALESCE((pg_catalog.to_jsonb(j) OPERATOR(pg_catalog.->>) 'active')::boolean, true) AS active,
               pg_catalog.count(*) OVER (PARTITION BY j.database,
                                              pg_catalog.to_jsonb(j) OPERATOR(pg_catalog.->>) 'jobname') AS sharing_name
          FROM cron.job j
         ORDER BY j.jobid
    LOOP
        jobid := job.jobid;
        jobname := job.jobname;
        database := job.database;
        task_id := NULL;
        action := NULL;
        -- pg_cron's names are unique per user, pg_chronos's per database.
        task_name := CASE WHEN job.jobname IS NULL THEN 'pg_cron-' OPERATOR(pg_catalog.||) job.jobid::text
                          WHEN job.sharing_name OPERATOR(pg_catalog.>) 1
                          THEN job.jobname OPERATOR(pg_catalog.||) '@' OPERATOR(pg_catalog.||) job.username
                          ELSE job.jobname END;
        marker := pg_catalog.format('imported from pg_cron job %s', job.jobid);
        translated := chronos.pg_cron_schedule(job.schedule);
        SELECT r.oid::pg_catalog.regrole INTO job_owner
          FROM pg_catalog.pg_roles r WHERE r.rolname OPERATOR(pg_catalog.=) job.username;
        task_status := CASE WHEN job.active THEN 'scheduled' ELSE 'paused' END;

        IF translated.schedule IS NULL THEN
            action := 'not imported';
            reason := pg_catalog.format('Its schedule "%s" cannot be imported: %s', job.schedule, translated.note);
        ELSIF job_owner IS NULL THEN
            action := 'not imported';
            reason := pg_catalog.format('Its user "%s" does not exist. Create that role, or give the job an existing '
                                        'user (cron.alter_job(%s, username => …)), and import again.',
                                        job.username, job.jobid);
        ELSIF job.database OPERATOR(pg_catalog.<>) pg_catalog.current_database()::text THEN
            action := 'skipped';
            reason := pg_catalog.format(
                'It runs in database "%s". After CREATE EXTENSION pg_chronos there, run in that database: '
                'INSERT INTO chronos.tasks (name, type, schedule, timezone, command, owner, status, remark) '
                'VALUES (%L, ''loop'', %L, %L, %L, %L, %L, %L) ON CONFLICT (name) WHERE name IS NOT NULL DO NOTHING;',
                job.database, task_name, translated.schedule, zone, job.command,
                pg_catalog.quote_ident(job.username), task_status, marker);
        ELSE
            SELECT t.id, t.name INTO imported
              FROM chronos.tasks t WHERE t.remark OPERATOR(pg_catalog.=) marker ORDER BY t.id LIMIT 1;
            IF FOUND THEN
                action := 'skipped';
                task_id := imported.id;
                task_name := imported.name;
                reason := 'It was imported before; the task is left as it is.';
            ELSE
                -- A name taken (perhaps by a task the caller cannot see) is tried once more with the user appended.
                FOREACH candidate IN ARRAY ARRAY[task_name, job.jobname OPERATOR(pg_catalog.||) '@'
                                                            OPERATOR(pg_catalog.||) job.username] LOOP
                    CONTINUE WHEN candidate IS NULL
                               OR (action IS NOT NULL AND candidate OPERATOR(pg_catalog.=) task_name);
                    BEGIN
                        INSERT INTO chronos.tasks (name, type, schedule, timezone, command, owner, status, remark)
                        VALUES (candidate, 'loop', translated.schedule, zone, job.command, job_owner, task_status,
                                marker)
                        RETURNING id INTO task_id;
                        action := 'imported';
                        task_name := candidate;
                        reason := translated.note;
                        EXIT;
                    EXCEPTION WHEN OTHERS THEN
                        GET STACKED DIAGNOSTICS error_state = RETURNED_SQLSTATE, error_message = MESSAGE_TEXT,
                                                error_detail = PG_EXCEPTION_DETAIL, error_hint = PG_EXCEPTION_HINT;
                        action := 'not imported';
                        reason := CASE WHEN error_state OPERATOR(pg_catalog.=) '23505'
                                       THEN pg_catalog.format('%s exists already. Rename it (UPDATE chronos.tasks '
                                                              'SET name = …), and import again.',
                                                              CASE WHEN task_name OPERATOR(pg_catalog.=) candidate
                                                                   THEN pg_catalog.format('A task named "%s"',
                                                                                          candidate)
                                                                   ELSE pg_catalog.format('A task named "%s", and one '
                                                                                          'named "%s",', task_name,
                                                                                          candidate) END)
                                       ELSE pg_catalog.concat_ws(' ', 'pg_chronos refuses the task: '
                                                                      OPERATOR(pg_catalog.||) error_state
                                                                      OPERATOR(pg_catalog.||) ': '
                                                                      OPERATOR(pg_catalog.||) error_message
                                                                      OPERATOR(pg_catalog.||) '.',
                                                                 NULLIF(error_detail, ''), NULLIF(error_hint, '')) END;
                        EXIT WHEN error_state OPERATOR(pg_catalog.<>) '23505';
                    END;
                END LOOP;
            END IF;
        END IF;
        RETURN NEXT;
    END LOOP;
END
$$;

COMMENT ON FUNCTION chronos.import_pg_cron() IS
'import this database''s pg_cron jobs as tasks; one row per job: imported, skipped or not imported, and why';

-- Restoring a dump: a superuser's COPY FROM into chronos.tasks, chronos.runs or chronos.listeners is redirected by the
-- library (src/pg/restore_copy.cpp) to the restore view of that table, whose owner column is text. Its trigger resolves
-- the owner by name; a row whose owner does not exist on this cluster is set aside in chronos.unowned_rows, not lost.

-- Rows of roles missing when they were restored: put back by chronos.restore_unowned_rows() once the role exists.
CREATE TABLE chronos.unowned_rows (
    table_name    text NOT NULL,
    owner_name    text NOT NULL,
    row_data      jsonb NOT NULL,
    set_aside_at  timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE chronos.unowned_rows IS
'restored rows whose owner role did not exist; chronos.restore_unowned_rows() puts them back once it does';
COMMENT ON COLUMN chronos.unowned_rows.table_name IS 'tasks, runs or listeners: the table the row belongs in';
COMMENT ON COLUMN chronos.unowned_rows.owner_name IS 'the owner as the dump names it (a quoted identifier when needed)';
COMMENT ON COLUMN chronos.unowned_rows.row_data IS 'the row as restored, every column, owner as text';

-- Only superusers restore, and only they read or change the rows set aside: nothing is granted on it to anyone else.

-- The restore views: the columns of their table, in the same order and with the same defaults (a dump of an older
-- version names fewer columns), owner as text. They show no rows; they exist to be written by a restore, and nothing is
-- granted on them to anyone.
CREATE VIEW chronos.tasks_restore WITH (security_invoker = true) AS
SELECT id, name, type, schedule, timezone, command, owner::pg_catalog.text AS owner, status, start_time,
       next_exec_time, last_exec_time, last_status, last_error, last_duration, run_count, failure_count,
       transactional, timeout, max_retries, retry_delay, max_failures, catch_up, end_time, max_runs, payload,
       notify_on, notify_match, notify_channel, on_failure, attempt, run_requested, remark, created_at, crash_count,
       notify_details
  FROM chronos.tasks WHERE false;

ALTER VIEW chronos.tasks_restore ALTER COLUMN owner SET DEFAULT pg_catalog.quote_ident(CURRENT_USER);
ALTER VIEW chronos.tasks_restore ALTER COLUMN status SET DEFAULT 'scheduled';
ALTER VIEW chronos.tasks_restore ALTER COLUMN start_time SET DEFAULT pg_catalog.now();
ALTER VIEW chronos.tasks_restore ALTER COLUMN run_count SET DEFAULT 0;
ALTER VIEW chronos.tasks_restore ALTER COLUMN failure_count SET DEFAULT 0;
ALTER VIEW chronos.tasks_restore ALTER COLUMN max_retries SET DEFAULT 0;
ALTER VIEW chronos.tasks_restore ALTER COLUMN retry_delay SET DEFAULT '1 minute';
ALTER VIEW chronos.tasks_restore ALTER COLUMN catch_up SET DEFAULT 'skip';
ALTER VIEW chronos.tasks_restore ALTER COLUMN notify_on SET DEFAULT 'never';
ALTER VIEW chronos.tasks_restore ALTER COLUMN notify_channel SET DEFAULT 'chronos';
ALTER VIEW chronos.tasks_restore ALTER COLUMN attempt SET DEFAULT 1;
ALTER VIEW chronos.tasks_restore ALTER COLUMN run_requested SET DEFAULT false;
ALTER VIEW chronos.tasks_restore ALTER COLUMN created_at SET DEFAULT pg_catalog.now();
ALTER VIEW chronos.tasks_restore ALTER COLUMN crash_count SET DEFAULT 0;
ALTER VIEW chronos.tasks_restore ALTER COLUMN notify_details SET DEFAULT false;

COMMENT ON VIEW chronos.tasks_restore IS 'where a superuser''s COPY into chronos.tasks goes: owners resolved by name';

CREATE VIEW chronos.runs_restore WITH (security_invoker = true) AS
SELECT run_id, task_id, task_name, owner::pg_catalog.text AS owner, scheduled_for, started_at, finished_at, status,
       error, result, pid, attempt, manual
  FROM chronos.runs WHERE false;

ALTER VIEW chronos.runs_restore ALTER COLUMN attempt SET DEFAULT 1;
ALTER VIEW chronos.runs_restore ALTER COLUMN manual SET DEFAULT false;

COMMENT ON VIEW chronos.runs_restore IS 'where a superuser''s COPY into chronos.runs goes: owners resolved by name';

CREATE VIEW chronos.listeners_restore WITH (security_invoker = true) AS
SELECT event, handler, created_at, owner::pg_catalog.text AS owner
  FROM chronos.listeners WHERE false;

ALTER VIEW chronos.listeners_restore ALTER COLUMN created_at SET DEFAULT pg_catalog.now();
ALTER VIEW chronos.listeners_restore ALTER COLUMN owner SET DEFAULT pg_catalog.quote_ident(CURRENT_USER);

COMMENT ON VIEW chronos.listeners_restore IS
'where a superuser''s COPY into chronos.listeners goes: owners resolved by name';

-- Counts a row set aside for the warning the restore gives at the end of its COPY (one per missing role); refused
-- outside a restore.
CREATE FUNCTION chronos.note_unowned_row(owner_name text) RETURNS void
LANGUAGE C VOLATILE STRICT AS 'MODULE_PATHNAME', 'chronos_note_unowned_row';

COMMENT ON FUNCTION chronos.note_unowned_row(text) IS
'counts a restored row set aside because its owner role does not exist (called by chronos.restore_row() only)';

REVOKE ALL ON FUNCTION chronos.note_unowned_row(text) FROM PUBLIC;

-- The trigger of the restore views (TG_ARGV[0]: tasks, runs or listeners). The owner is resolved by name: '-' (a role
-- the source had already dropped, OID 0) and an OID (a run of a dropped role) stay without a role (OID 0), a missing
-- role's row is set aside. The task of an event emitted but not yet handled calls its handler by the OID it had in
-- the dumped database: it is bound again, by the name it recorded, to that function here. The row goes into its table
-- with its explicit ids, every other column as restored.
CREATE FUNCTION chronos.restore_row() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    owner_text pg_catalog.text := pg_catalog.btrim(NEW.owner);
    role_oid pg_catalog.oid;
    row_data pg_catalog.jsonb;
    handler_call pg_catalog.text[];
    handler pg_catalog.regprocedure;
BEGIN
    IF owner_text IS NULL THEN
        RAISE EXCEPTION 'owner of a restored row of chronos.% must not be NULL', TG_ARGV[0]
            USING ERRCODE = 'not_null_violation';
    END IF;
    IF owner_text OPERATOR(pg_catalog.=) '-' OR owner_text OPERATOR(pg_catalog.~) '^[0-9]+$' THEN
        role_oid := 0;
    ELSE
        role_oid := pg_catalog.to_regrole(owner_text)::pg_catalog.oid;
    END IF;
    row_data := pg_catalog.to_jsonb(NEW);
    IF role_oid IS NULL THEN
        INSERT INTO chronos.unowned_rows (table_name, owner_name, row_data) VALUES (TG_ARGV[0], owner_text, row_data);
        PERFORM chronos.note_unowned_row(owner_text);
        RETURN NULL;
    END IF;
    row_data := row_data OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('owner', role_oid::pg_catalog.text);
    IF TG_ARGV[0] OPERATOR(pg_catalog.=) 'tasks' THEN
        -- As chronos.emit() writes it: SELECT chronos.call_handler(OID, 'schema.name', $1).
        handler_call := pg_catalog.regexp_match(row_data OPERATOR(pg_catalog.->>) 'command',
                                        '^SELECT chronos\.call_handler\([0-9]+, ''((?:[^'']|'''')*)'', \$1\)$');
        IF handler_call IS NOT NULL THEN
            handler := pg_catalog.to_regprocedure(pg_catalog.replace(handler_call[1], '''''', '''')
                                                  OPERATOR(pg_catalog.||) '(pg_catalog.jsonb)');
        END IF;
        IF handler IS NOT NULL THEN
            row_data := row_data OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('command',
                pg_catalog.format('SELECT chronos.call_handler(%s, %L, $1)', handler::pg_catalog.oid,
                                  pg_catalog.replace(handler_call[1], '''''', '''')));
        END IF;
        INSERT INTO chronos.tasks OVERRIDING SYSTEM VALUE
        SELECT * FROM pg_catalog.jsonb_populate_record(NULL::chronos.tasks, row_data);
    ELSIF TG_ARGV[0] OPERATOR(pg_catalog.=) 'runs' THEN
        INSERT INTO chronos.runs OVERRIDING SYSTEM VALUE
        SELECT * FROM pg_catalog.jsonb_populate_record(NULL::chronos.runs, row_data);
    ELSE
        INSERT INTO chronos.listeners
        SELECT * FROM pg_catalog.jsonb_populate_record(NULL::chronos.listeners, row_data);
    END IF;
    RETURN NEW;
END
$$;

COMMENT ON FUNCTION chronos.restore_row() IS
'trigger of the restore views: puts a restored row into its table with its owner resolved by name, or sets it aside';

REVOKE ALL ON FUNCTION chronos.restore_row() FROM PUBLIC;

CREATE TRIGGER restore_row INSTEAD OF INSERT ON chronos.tasks_restore
    FOR EACH ROW EXECUTE FUNCTION chronos.restore_row('tasks');
CREATE TRIGGER restore_row INSTEAD OF INSERT ON chronos.runs_restore
    FOR EACH ROW EXECUTE FUNCTION chronos.restore_row('runs');
CREATE TRIGGER restore_row INSTEAD OF INSERT ON chronos.listeners_restore
    FOR EACH ROW EXECUTE FUNCTION chronos.restore_row('listeners');

-- Puts back the rows set aside whose owner role now exists (as a restore would have), and reports, per table and
-- owner, how many rows went back and how many are still set aside.
CREATE FUNCTION chronos.restore_unowned_rows(OUT table_name text, OUT owner_name text, OUT restored bigint,
                                             OUT still_set_aside bigint)
RETURNS SETOF record
LANGUAGE C VOLATILE AS 'MODULE_PATHNAME', 'chronos_restore_unowned_rows';

COMMENT ON FUNCTION chronos.restore_unowned_rows() IS
'puts back the rows of chronos.unowned_rows whose owner role now exists; reports what went back and what is left';

REVOKE ALL ON FUNCTION chronos.restore_unowned_rows() FROM PUBLIC;

SELECT pg_catalog.pg_extension_config_dump('chronos.unowned_rows', '');
