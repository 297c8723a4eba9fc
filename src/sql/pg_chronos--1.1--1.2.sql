-- pg_chronos 1.1 → 1.2 (ALTER EXTENSION pg_chronos UPDATE). Brings a 1.1 catalog to exactly what a fresh 1.2 install
-- creates (the install script runs this same script after 1.0 → 1.1; test/t/200_upgrade.pl compares an updated 1.0 and
-- an updated 1.1 catalog with a fresh one); tasks, listeners, history and grants are kept.
\echo Use "ALTER EXTENSION pg_chronos UPDATE" to load this file. \quit

-- Task names belong to their owner, as event names do: every role has its own, a name another role took first is not
-- taken for it, and no error tells a role which names others use. The helpers act on the caller's own tasks only.
DROP INDEX chronos.tasks_name;
CREATE UNIQUE INDEX tasks_owner_name ON chronos.tasks (owner, name) WHERE name IS NOT NULL;

CREATE OR REPLACE FUNCTION chronos.schedule(name text, schedule text, command text, timezone text DEFAULT NULL,
                                            start_time timestamptz DEFAULT NULL)
RETURNS bigint
LANGUAGE sql SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    INSERT INTO chronos.tasks AS t (name, type, schedule, command, timezone, start_time, owner)
    VALUES ($1, 'loop', $2, $3, $4, COALESCE($5, pg_catalog.now()),
            pg_catalog.quote_ident(CURRENT_USER)::pg_catalog.regrole)
    ON CONFLICT (owner, name) WHERE name IS NOT NULL DO UPDATE
       SET type = 'loop', schedule = excluded.schedule, command = excluded.command,
           timezone = COALESCE($4, t.timezone), start_time = COALESCE($5, t.start_time),
           status = CASE WHEN t.status OPERATOR(pg_catalog.=) ANY ('{done,failed}'::chronos.task_state[])
                         THEN 'scheduled'::chronos.task_state ELSE t.status END
    RETURNING id;
END;

COMMENT ON FUNCTION chronos.schedule(text, text, text, text, timestamptz) IS
'create your loop task called name, or change its schedule and command; returns its id';

CREATE OR REPLACE FUNCTION chronos.run_at(name text, at timestamptz, command text)
RETURNS bigint
LANGUAGE sql SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    INSERT INTO chronos.tasks AS t (name, type, command, start_time, owner)
    VALUES ($1, 'once', $3, $2, pg_catalog.quote_ident(CURRENT_USER)::pg_catalog.regrole)
    ON CONFLICT (owner, name) WHERE name IS NOT NULL DO UPDATE
       SET type = 'once', schedule = NULL, command = excluded.command, start_time = excluded.start_time,
           next_exec_time = excluded.start_time, status = 'scheduled'
    RETURNING id;
END;

COMMENT ON FUNCTION chronos.run_at(text, timestamptz, text) IS
'run command once at the given time, as your task called name; returns its id';

CREATE OR REPLACE FUNCTION chronos.unschedule(name text)
RETURNS boolean
LANGUAGE sql SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    WITH gone AS (DELETE FROM chronos.tasks t
                   WHERE t.owner OPERATOR(pg_catalog.=) pg_catalog.quote_ident(CURRENT_USER)::pg_catalog.regrole
                     AND t.name OPERATOR(pg_catalog.=) $1 RETURNING 1)
    SELECT pg_catalog.count(*) OPERATOR(pg_catalog.>) 0 FROM gone;
END;

COMMENT ON FUNCTION chronos.unschedule(text) IS 'delete your task called name; false if you have none';

CREATE OR REPLACE FUNCTION chronos.find_task(name text) RETURNS chronos.tasks
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    task chronos.tasks;
BEGIN
    SELECT * INTO task FROM chronos.tasks t
     WHERE t.owner OPERATOR(pg_catalog.=) pg_catalog.quote_ident(CURRENT_USER)::pg_catalog.regrole
       AND t.name OPERATOR(pg_catalog.=) find_task.name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'task "%" does not exist', find_task.name USING ERRCODE = 'undefined_object',
            DETAIL = 'You have no task of that name (names are the owner''s own: another role''s task is reached as '
                     'that role, with SET ROLE).',
            HINT = 'SELECT name FROM chronos.task_status WHERE owner = current_user::regrole lists yours.';
    END IF;
    RETURN task;
END
$$;

COMMENT ON FUNCTION chronos.find_task(text) IS 'the row of your task called name; 42704 if you have none';

CREATE OR REPLACE FUNCTION chronos.pause(name text) RETURNS boolean
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    task chronos.tasks := chronos.find_task(pause.name);
BEGIN
    UPDATE chronos.tasks t SET status = 'paused'
     WHERE t.id OPERATOR(pg_catalog.=) task.id AND t.status OPERATOR(pg_catalog.<>) 'paused'::chronos.task_state;
    RETURN task.status OPERATOR(pg_catalog.<>) 'paused'::chronos.task_state;
END
$$;

COMMENT ON FUNCTION chronos.pause(text) IS 'stop running your task called name; false if it was already paused';

CREATE OR REPLACE FUNCTION chronos.resume(name text) RETURNS timestamptz
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    task chronos.tasks := chronos.find_task(resume.name);
BEGIN
    UPDATE chronos.tasks t SET status = 'scheduled', next_exec_time = NULL
     WHERE t.id OPERATOR(pg_catalog.=) task.id
       AND t.status OPERATOR(pg_catalog.=) ANY ('{paused,done,failed}'::chronos.task_state[]);
    RETURN (chronos.find_task(resume.name)).next_exec_time;
END
$$;

COMMENT ON FUNCTION chronos.resume(text) IS
'schedule your paused (or finished) task called name again; returns its next run time';

CREATE OR REPLACE FUNCTION chronos.run_now(name text) RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    task chronos.tasks := chronos.find_task(run_now.name);
BEGIN
    UPDATE chronos.tasks t SET run_requested = true WHERE t.id OPERATOR(pg_catalog.=) task.id;
    RETURN task.id;
END
$$;

COMMENT ON FUNCTION chronos.run_now(text) IS
'run your task called name once as soon as a worker is free (a manual run), without moving its schedule; returns its id';

COMMENT ON FUNCTION chronos.cancel(text) IS
'cancel the run in progress of your task called name (recorded as cancelled; a loop task keeps its schedule); false if none runs';

-- Which pg_cron job a task was imported from is recorded by pg_chronos, in a column only chronos.import_pg_cron()
-- writes (the task trigger refuses it from anyone else), so that no role can make an import skip a job as "imported
-- before". Version 1.1 kept it in remark, which anyone could write: of those marks, only the ones on a task of the job's
-- own user in pg_cron's cron.job are carried over.
ALTER TABLE chronos.tasks ADD COLUMN pg_cron_job bigint;
COMMENT ON COLUMN chronos.tasks.pg_cron_job IS
'the pg_cron job the task was imported from; written by chronos.import_pg_cron() only';

DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_extension e ON e.oid OPERATOR(pg_catalog.=) d.refobjid
                WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
                  AND d.objid OPERATOR(pg_catalog.=) pg_catalog.to_regclass('cron.job')::pg_catalog.oid
                  AND d.deptype OPERATOR(pg_catalog.=) 'e' AND e.extname OPERATOR(pg_catalog.=) 'pg_cron') THEN
        ALTER TABLE chronos.tasks DISABLE TRIGGER task_before_write;
        UPDATE chronos.tasks t SET pg_cron_job = j.jobid
          FROM cron.job j JOIN pg_catalog.pg_roles r ON r.rolname OPERATOR(pg_catalog.=) j.username
         WHERE t.remark OPERATOR(pg_catalog.=) pg_catalog.format('imported from pg_cron job %s', j.jobid)
           AND t.owner OPERATOR(pg_catalog.=) r.oid;
        ALTER TABLE chronos.tasks ENABLE TRIGGER task_before_write;
    END IF;
END
$$;

-- The import itself: chronos.import_pg_cron() (C) allows the marks while it calls chronos.import_pg_cron_jobs(), which
-- imports this database's pg_cron jobs (those of cron.job the caller can see) with the caller's rights, and returns one
-- row per job: imported, skipped (imported before, or a job of another database: with the statement to run there) or
-- not imported (with the reason and what to do). Only pg_cron's own cron.job is read (a table of that name outside the
-- extension pg_cron could have been written by anyone).
CREATE FUNCTION chronos.import_pg_cron_jobs()
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
               COALESCE((pg_catalog.to_jsonb(j) OPERATOR(pg_catalog.->>) 'active')::boolean, true) AS active
          FROM cron.job j
         ORDER BY j.jobid
    LOOP
        jobid := job.jobid;
        jobname := job.jobname;
        database := job.database;
        task_id := NULL;
        action := NULL;
        -- Names are unique per user in pg_cron, per owner in pg_chronos.
        task_name := COALESCE(job.jobname, 'pg_cron-' OPERATOR(pg_catalog.||) job.jobid::text);
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
                'VALUES (%L, ''loop'', %L, %L, %L, %L, %L, %L) ON CONFLICT (owner, name) WHERE name IS NOT NULL '
                'DO NOTHING;',
                job.database, task_name, translated.schedule, zone, job.command,
                pg_catalog.quote_ident(job.username), task_status, marker);
        ELSE
            -- Only a mark chronos.import_pg_cron() wrote, on a task of the job's own user, says so.
            SELECT t.id, t.name INTO imported
              FROM chronos.tasks t
             WHERE t.pg_cron_job OPERATOR(pg_catalog.=) job.jobid AND t.owner OPERATOR(pg_catalog.=) job_owner
             ORDER BY t.id LIMIT 1;
            IF FOUND THEN
                action := 'skipped';
                task_id := imported.id;
                task_name := imported.name;
                reason := 'It was imported before; the task is left as it is.';
            ELSE
                BEGIN
                    INSERT INTO chronos.tasks (name, type, schedule, timezone, command, owner, status, remark,
                                               pg_cron_job)
                    VALUES (task_name, 'loop', translated.schedule, zone, job.command, job_owner, task_status, marker,
                            job.jobid)
                    RETURNING id INTO task_id;
                    action := 'imported';
                    reason := translated.note;
                EXCEPTION WHEN OTHERS THEN
                    GET STACKED DIAGNOSTICS error_state = RETURNED_SQLSTATE, error_message = MESSAGE_TEXT,
                                            error_detail = PG_EXCEPTION_DETAIL, error_hint = PG_EXCEPTION_HINT;
                    action := 'not imported';
                    reason := CASE WHEN error_state OPERATOR(pg_catalog.=) '23505'
                                   THEN pg_catalog.format('Role %s has a task named "%s" already. Rename it '
                                                          '(UPDATE chronos.tasks SET name = …), and import again.',
                                                          job_owner, task_name)
                                   ELSE pg_catalog.concat_ws(' ', 'pg_chronos refuses the task: '
                                                                  OPERATOR(pg_catalog.||) error_state
                                                                  OPERATOR(pg_catalog.||) ': '
                                                                  OPERATOR(pg_catalog.||) error_message
                                                                  OPERATOR(pg_catalog.||) '.',
                                                             NULLIF(error_detail, ''), NULLIF(error_hint, '')) END;
                END;
            END IF;
        END IF;
        RETURN NEXT;
    END LOOP;
END
$$;


COMMENT ON FUNCTION chronos.import_pg_cron_jobs() IS
'used by chronos.import_pg_cron(): imports the jobs, with the caller''s rights';

CREATE OR REPLACE FUNCTION chronos.import_pg_cron()
RETURNS TABLE (jobid bigint, jobname text, database text, action text, task_id bigint, task_name text, reason text)
LANGUAGE C VOLATILE AS 'MODULE_PATHNAME', 'chronos_import_pg_cron';

COMMENT ON FUNCTION chronos.import_pg_cron() IS
'import this database''s pg_cron jobs as tasks; one row per job: imported, skipped or not imported, and why';

-- A restore brings the mark back with the task.
CREATE OR REPLACE VIEW chronos.tasks_restore WITH (security_invoker = true) AS
SELECT id, name, type, schedule, timezone, command, owner::pg_catalog.text AS owner, status, start_time,
       next_exec_time, last_exec_time, last_status, last_error, last_duration, run_count, failure_count,
       transactional, timeout, max_retries, retry_delay, max_failures, catch_up, end_time, max_runs, payload,
       notify_on, notify_match, notify_channel, on_failure, attempt, run_requested, remark, created_at, crash_count,
       notify_details, pg_cron_job
  FROM chronos.tasks WHERE false;

-- A task never runs code chosen by a role with fewer rights than its owner (docs/security.md, "Database trust").
-- PostgreSQL's own rule is that every role using a database trusts the database's owner, who controls its public
-- schema, its default settings and the objects an unqualified name finds. So:
-- * a copy of a database (CREATE DATABASE … TEMPLATE) holds the tasks of roles the copy's owner is not a member of,
--   until a member of the task's owner releases them (UPDATE … SET status = 'scheduled');
-- * a superuser's task in a database whose owner is not a superuser is held, unless a superuser trusts the database
--   (chronos.trust_database()). Tasks of other roles run as their owner's own login would.
-- chronos.database_trust has one row: the database this catalog was made in (a copy has another OID) and, when a
-- superuser trusts it, the owner it trusted. It is not dumped: a restored catalog belongs to its new database.
CREATE TABLE chronos.database_trust (
    database       oid NOT NULL,
    trusted_owner  regrole,
    trusted_by     regrole,
    trusted_at     timestamptz
);
CREATE UNIQUE INDEX database_trust_one_row ON chronos.database_trust ((true));
COMMENT ON TABLE chronos.database_trust IS
'the database this catalog belongs to, and the owner a superuser trusted it with (chronos.trust_database())';
COMMENT ON COLUMN chronos.database_trust.database IS
'the OID of the database the catalog was made in: a copy made with CREATE DATABASE … TEMPLATE has another';
COMMENT ON COLUMN chronos.database_trust.trusted_owner IS
'the database''s owner when a superuser trusted it; superusers'' tasks run only while it is still the owner';
INSERT INTO chronos.database_trust (database)
SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database();

-- Why a task is held (it is then paused): 'copied' or 'untrusted database'; NULL when it is not.
ALTER TABLE chronos.tasks ADD COLUMN held text;
COMMENT ON COLUMN chronos.tasks.held IS
'why the task is held (paused): copied (from a template) or untrusted database; chronos.task_status says the way out';

-- Trusting a database: a superuser's decision, after checking what its owner controls (docs/security.md).
CREATE FUNCTION chronos.trust_database() RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    owner_name pg_catalog.name;
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles r
                    WHERE r.rolname OPERATOR(pg_catalog.=) CURRENT_USER AND r.rolsuper) THEN
        RAISE EXCEPTION 'only a superuser may trust a database' USING ERRCODE = 'insufficient_privilege',
            DETAIL = 'Trusting a database lets superusers'' tasks run in it, among objects its owner controls.';
    END IF;
    SELECT d.datdba::pg_catalog.regrole::pg_catalog.text INTO owner_name
      FROM pg_catalog.pg_database d WHERE d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database();
    UPDATE chronos.database_trust t
       SET trusted_owner = d.datdba::pg_catalog.regrole,
           trusted_by = pg_catalog.quote_ident(CURRENT_USER)::pg_catalog.regrole, trusted_at = pg_catalog.now()
      FROM pg_catalog.pg_database d
     WHERE d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database() AND t.database OPERATOR(pg_catalog.=) d.oid;
    UPDATE chronos.tasks t SET status = 'scheduled'
     WHERE t.held OPERATOR(pg_catalog.=) 'untrusted database';
    RAISE NOTICE 'database "%" is trusted while its owner is role %', pg_catalog.current_database(), owner_name;
END
$$;

COMMENT ON FUNCTION chronos.trust_database() IS
'let superusers'' tasks run in this database while its owner stays the same; releases the tasks held for it';
REVOKE ALL ON FUNCTION chronos.trust_database() FROM PUBLIC;

CREATE FUNCTION chronos.distrust_database() RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles r
                    WHERE r.rolname OPERATOR(pg_catalog.=) CURRENT_USER AND r.rolsuper) THEN
        RAISE EXCEPTION 'only a superuser may distrust a database' USING ERRCODE = 'insufficient_privilege';
    END IF;
    UPDATE chronos.database_trust SET trusted_owner = NULL, trusted_by = NULL, trusted_at = NULL;
END
$$;

COMMENT ON FUNCTION chronos.distrust_database() IS
'superusers'' tasks no longer run in this database (held at their next run) unless its owner is a superuser';
REVOKE ALL ON FUNCTION chronos.distrust_database() FROM PUBLIC;

CREATE OR REPLACE VIEW chronos.task_status WITH (security_invoker = true) AS
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
       t.command,
       CASE t.held
            WHEN 'copied'
            THEN pg_catalog.format('held: a copy of a task of role %s, made by CREATE DATABASE … TEMPLATE; a member of '
                                   '%s releases it with UPDATE chronos.tasks SET status = ''scheduled'' WHERE id = %s',
                                   t.owner, t.owner, t.id)
            WHEN 'untrusted database'
            THEN pg_catalog.format('held: a superuser''s task, in a database owned by a role that is not a superuser; '
                                   'a superuser who trusts this database''s owner runs SELECT chronos.trust_database()')
       END AS held
  FROM chronos.tasks t
  LEFT JOIN chronos.running_tasks() r ON r.task_id = t.id;

-- A restore brings back why a task is held.
CREATE OR REPLACE VIEW chronos.tasks_restore WITH (security_invoker = true) AS
SELECT id, name, type, schedule, timezone, command, owner::pg_catalog.text AS owner, status, start_time,
       next_exec_time, last_exec_time, last_status, last_error, last_duration, run_count, failure_count,
       transactional, timeout, max_retries, retry_delay, max_failures, catch_up, end_time, max_runs, payload,
       notify_on, notify_match, notify_channel, on_failure, attempt, run_requested, remark, created_at, crash_count,
       notify_details, pg_cron_job, held
  FROM chronos.tasks WHERE false;

-- Why a database is not served, more precisely: a template or a database closed to connections is never served (a
-- worker connected to a template would keep it from being copied), and the launcher may not have looked yet, or its
-- table of databases (chronos.max_databases) may be full.
CREATE OR REPLACE VIEW chronos.scheduler WITH (security_invoker = true) AS
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
            WHEN NOT s.database_served AND d.datistemplate
            THEN 'This database is a template, and templates are not served: ALTER DATABASE … IS_TEMPLATE false.'
            WHEN NOT s.database_served AND NOT d.datallowconn
            THEN 'This database does not allow connections, so it is not served: ALTER DATABASE … ALLOW_CONNECTIONS true.'
            WHEN NOT s.database_served
            THEN 'The launcher has not taken up this database yet: it does within seconds of CREATE EXTENSION, and '
                 'within a minute of a database becoming servable; otherwise the server log says why '
                 '(chronos.max_databases reached, workers failing).'
       END AS hint
  FROM chronos.scheduler_status() s
  JOIN pg_catalog.pg_extension e ON e.extname OPERATOR(pg_catalog.=) 'pg_chronos'
  JOIN pg_catalog.pg_database d ON d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database();

-- Kinds of task beyond SQL (docs/kinds.md): an HTTP request or a shell command, with every control SQL tasks have.
-- command holds the SQL text, the URL, or the shell command line.
CREATE TYPE chronos.task_kind AS ENUM ('sql', 'http', 'shell');
ALTER TABLE chronos.tasks
    ADD COLUMN kind chronos.task_kind NOT NULL DEFAULT 'sql',
    ADD COLUMN http_method text,
    ADD COLUMN http_headers jsonb,
    ADD COLUMN http_body text;
COMMENT ON COLUMN chronos.tasks.kind IS
'sql (command is SQL), http (command is a URL), or shell (command is run by /bin/sh -c as the server''s OS user)';
COMMENT ON COLUMN chronos.tasks.http_method IS 'http: GET (when NULL), POST, PUT, PATCH, DELETE or HEAD';
COMMENT ON COLUMN chronos.tasks.http_headers IS 'http: request headers, a JSON object of name → string value';
COMMENT ON COLUMN chronos.tasks.http_body IS
'http: the request body; when NULL and the task has a payload, the payload as JSON';
-- Due tasks by where they run: SQL tasks in a worker's step, the others in flight. A worker that may take only one of
-- the two claims from its own index, so that due rows it may not take never stand in front of those it may.
CREATE INDEX tasks_due_step ON chronos.tasks (next_exec_time) WHERE status = 'scheduled' AND kind = 'sql';
CREATE INDEX tasks_due_in_flight ON chronos.tasks (next_exec_time) WHERE status = 'scheduled' AND kind <> 'sql';

-- Which hosts a role that is not a superuser may send HTTP requests to (docs/security.md, "HTTP tasks"). Only
-- superusers write it; every role reads its own grants.
CREATE TABLE chronos.http_grants (
    role  regrole NOT NULL,
    host  text NOT NULL,
    PRIMARY KEY (role, host)
);
COMMENT ON TABLE chronos.http_grants IS
'hosts a role may call in HTTP tasks: an exact host name, *.suffix, or an address range in CIDR form (superusers write it)';
ALTER TABLE chronos.http_grants ENABLE ROW LEVEL SECURITY;
CREATE POLICY http_grants_of_my_roles ON chronos.http_grants FOR SELECT USING (chronos.is_member_of(role));
REVOKE ALL ON chronos.http_grants FROM PUBLIC;
GRANT SELECT ON chronos.http_grants TO PUBLIC;
CREATE FUNCTION chronos.http_grant_before_write() RETURNS trigger
LANGUAGE c AS 'MODULE_PATHNAME', 'chronos_http_grant_before_write';
CREATE TRIGGER http_grant_before_write BEFORE INSERT OR UPDATE ON chronos.http_grants
    FOR EACH ROW EXECUTE FUNCTION chronos.http_grant_before_write();
SELECT pg_catalog.pg_extension_config_dump('chronos.http_grants', '');

-- A restore brings the kind and the request back with the task.
CREATE OR REPLACE VIEW chronos.tasks_restore WITH (security_invoker = true) AS
SELECT id, name, type, schedule, timezone, command, owner::pg_catalog.text AS owner, status, start_time,
       next_exec_time, last_exec_time, last_status, last_error, last_duration, run_count, failure_count,
       transactional, timeout, max_retries, retry_delay, max_failures, catch_up, end_time, max_runs, payload,
       notify_on, notify_match, notify_channel, on_failure, attempt, run_requested, remark, created_at, crash_count,
       notify_details, pg_cron_job, held, kind, http_method, http_headers, http_body
  FROM chronos.tasks WHERE false;

-- pg_upgrade (docs/backup-restore.md). It keeps relations, types, roles and database OIDs but makes every function
-- anew, so it refuses a regprocedure column: a listener's handler is now the function's OID and its qualified name,
-- the pair emit() and chronos.call_handler() check. chronos.database_trust records the cluster (its system identifier)
-- those OIDs belong to; in another one — after pg_upgrade — the first executor of the database binds each listener and
-- each emitted task again to the function of its recorded name, as a restore does, before any task runs. Within a
-- cluster the binding is by identity: a handler renamed or dropped (and another made in its place) is not followed.
DROP VIEW chronos.listeners_restore;
-- listen()'s body depends on the column: it is a string for the change (CREATE OR REPLACE keeps its grants).
CREATE OR REPLACE FUNCTION chronos.listen(event text, handler regprocedure) RETURNS void
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS 'SELECT';
ALTER TABLE chronos.listeners ALTER COLUMN handler TYPE oid;
ALTER TABLE chronos.listeners ADD COLUMN handler_name text, ADD COLUMN handler_owner regrole;
COMMENT ON COLUMN chronos.listeners.handler IS
'the OID of the handler function (chronos.listen() takes it as a regprocedure); 0 once its name no longer finds it';
COMMENT ON COLUMN chronos.listeners.handler_name IS
'the handler''s schema-qualified name when it was registered: the listener calls that function only while it has it';
COMMENT ON COLUMN chronos.listeners.handler_owner IS
'the handler''s owner when it was registered: after pg_upgrade only a function of that name and owner is bound again';
ALTER TABLE chronos.listeners DISABLE TRIGGER listener_check;
UPDATE chronos.listeners l
   SET (handler_name, handler_owner) = (SELECT pg_catalog.format('%I.%I', n.nspname, p.proname), p.proowner
                                          FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n
                                               ON n.oid OPERATOR(pg_catalog.=) p.pronamespace
                                         WHERE p.oid OPERATOR(pg_catalog.=) l.handler);
ALTER TABLE chronos.listeners ENABLE TRIGGER listener_check;

ALTER TABLE chronos.database_trust ADD COLUMN system_identifier bigint;
UPDATE chronos.database_trust SET system_identifier = (pg_catalog.pg_control_system()).system_identifier;
COMMENT ON COLUMN chronos.database_trust.system_identifier IS
'the cluster whose function OIDs the listeners and emitted events are bound to; after pg_upgrade they are bound again';

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
    -- A listener whose handler's name and owner found no function (after pg_upgrade, or a restore) is unbound: it keeps
    -- the name and owner it recorded, and is never called (emit() refuses it).
    IF NEW.handler OPERATOR(pg_catalog.=) 0 THEN
        IF TG_OP OPERATOR(pg_catalog.=) 'UPDATE' THEN
            NEW.handler_name := OLD.handler_name;
            NEW.handler_owner := OLD.handler_owner;
        END IF;
        RETURN NEW;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_proc p
                    WHERE p.oid OPERATOR(pg_catalog.=) NEW.handler AND p.prokind OPERATOR(pg_catalog.=) 'f'
                      AND p.pronargs OPERATOR(pg_catalog.=) 1
                      AND p.proargtypes[0] OPERATOR(pg_catalog.=) 'pg_catalog.jsonb'::pg_catalog.regtype) THEN
        RAISE EXCEPTION 'handler % of event "%" must be a function taking one jsonb argument',
                        NEW.handler::pg_catalog.regprocedure, NEW.event
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'For example CREATE FUNCTION on_signup(payload jsonb) RETURNS void …';
    END IF;
    IF NOT pg_catalog.has_function_privilege(NEW.owner::pg_catalog.oid, NEW.handler, 'EXECUTE') THEN
        RAISE EXCEPTION 'role "%" may not execute handler % of event "%"', NEW.owner,
                        NEW.handler::pg_catalog.regprocedure, NEW.event
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'The handler runs as the owner of the listener.',
                  HINT = pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO %s, or choose a function it may execute.',
                                           NEW.handler::pg_catalog.regprocedure, NEW.owner);
    END IF;
    -- The name and owner are the function's, whatever the writer gave.
    SELECT pg_catalog.format('%I.%I', n.nspname, p.proname), p.proowner INTO NEW.handler_name, NEW.handler_owner
      FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) p.pronamespace
     WHERE p.oid OPERATOR(pg_catalog.=) NEW.handler;
    RETURN NEW;
END
$$;

CREATE OR REPLACE FUNCTION chronos.listen(event text, handler regprocedure) RETURNS void
LANGUAGE sql SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    INSERT INTO chronos.listeners AS l (event, handler, owner) VALUES ($1, $2, pg_catalog.quote_ident(CURRENT_USER)::pg_catalog.regrole)
    ON CONFLICT (owner, event) DO UPDATE SET handler = excluded.handler;
END;

-- The handler is called while it is the function the listener recorded: its OID still has the recorded name.
CREATE OR REPLACE FUNCTION chronos.emit(event text, payload jsonb, at timestamptz DEFAULT now(),
                                        owner regrole DEFAULT quote_ident(current_user)::regrole) RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    call text;
    recorded text;
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
    SELECT l.handler_name,
           (SELECT pg_catalog.format('SELECT chronos.call_handler(%s, %L, $1)', p.oid, l.handler_name)
              FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) p.pronamespace
             WHERE p.oid OPERATOR(pg_catalog.=) l.handler
               AND pg_catalog.format('%I.%I', n.nspname, p.proname) OPERATOR(pg_catalog.=) l.handler_name)
      INTO recorded, call
      FROM chronos.listeners l
     WHERE l.owner OPERATOR(pg_catalog.=) emit.owner AND l.event OPERATOR(pg_catalog.=) emit.event;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no listener for event "%" of role "%"', emit.event, emit.owner
            USING ERRCODE = 'undefined_object', HINT = 'Register one with chronos.listen(event, handler).';
    END IF;
    IF call IS NULL THEN
        RAISE EXCEPTION 'the handler % of event "%" of role "%" no longer exists under that name',
                        COALESCE(recorded, '?'), emit.event, emit.owner
            USING ERRCODE = 'undefined_function',
                  DETAIL = 'A listener calls the function it was registered with, under the name it had then; that '
                           'function was dropped or renamed.',
                  HINT = 'Register the handler again with chronos.listen(event, handler).';
    END IF;
    INSERT INTO chronos.tasks (type, command, payload, start_time, owner, remark)
    VALUES ('once', call, emit.payload, emit.at, emit.owner, 'event ' OPERATOR(pg_catalog.||) emit.event)
    RETURNING id INTO task_id;
    RETURN task_id;
END
$$;

CREATE OR REPLACE FUNCTION chronos.restore_row() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    owner_text pg_catalog.text := pg_catalog.btrim(NEW.owner);
    role_oid pg_catalog.oid;
    row_data pg_catalog.jsonb;
    handler_call pg_catalog.text[];
    handler pg_catalog.regprocedure;
    called_name pg_catalog.text;
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
        -- It is bound to what its listener (restored first: same owner, event and name) is bound to; else to the
        -- function of that name owned by the task's owner; else to none (OID 0: its run fails, 42883).
        IF handler_call IS NOT NULL THEN
            called_name := pg_catalog.replace(handler_call[1], '''''', '''');
            SELECT l.handler INTO handler FROM chronos.listeners l
             WHERE l.owner OPERATOR(pg_catalog.=) role_oid
               AND 'event ' OPERATOR(pg_catalog.||) l.event OPERATOR(pg_catalog.=) (row_data OPERATOR(pg_catalog.->>) 'remark')
               AND l.handler_name OPERATOR(pg_catalog.=) called_name AND l.handler OPERATOR(pg_catalog.<>) 0;
            IF handler IS NULL THEN
                SELECT p.oid INTO handler FROM pg_catalog.pg_proc p
                 WHERE p.oid OPERATOR(pg_catalog.=) pg_catalog.to_regprocedure(called_name OPERATOR(pg_catalog.||)
                                                                              '(pg_catalog.jsonb)')
                   AND p.proowner OPERATOR(pg_catalog.=) role_oid;
            END IF;
            row_data := row_data OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('command',
                pg_catalog.format('SELECT chronos.call_handler(%s, %L, $1)', COALESCE(handler::pg_catalog.oid, 0),
                                  called_name));
        END IF;
        INSERT INTO chronos.tasks OVERRIDING SYSTEM VALUE
        SELECT * FROM pg_catalog.jsonb_populate_record(NULL::chronos.tasks, row_data);
    ELSIF TG_ARGV[0] OPERATOR(pg_catalog.=) 'runs' THEN
        INSERT INTO chronos.runs OVERRIDING SYSTEM VALUE
        SELECT * FROM pg_catalog.jsonb_populate_record(NULL::chronos.runs, row_data);
    ELSE
        -- A 1.2 dump records the handler's name and owner (its OID was the dumped database's): it is bound to the
        -- function of that name and owner, as after pg_upgrade, so that a function another role put under a stale
        -- listener's name is not taken. A 1.1 dump gives the signature of the function its OID named when dumped.
        -- Otherwise the listener is restored unbound (OID 0, emit says so).
        IF NEW.handler_name IS NOT NULL THEN
            SELECT p.oid INTO handler FROM pg_catalog.pg_proc p
             WHERE p.oid OPERATOR(pg_catalog.=) pg_catalog.to_regprocedure(NEW.handler_name OPERATOR(pg_catalog.||)
                                                                          '(pg_catalog.jsonb)')
               AND p.proowner OPERATOR(pg_catalog.=) pg_catalog.to_regrole(NEW.handler_owner);
        ELSIF NEW.handler OPERATOR(pg_catalog.!~) '^[0-9]+$' THEN
            handler := pg_catalog.to_regprocedure(NEW.handler);
        END IF;
        row_data := (row_data OPERATOR(pg_catalog.-) 'handler_owner'::pg_catalog.text)
                    OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object(
                        'handler', COALESCE(handler::pg_catalog.oid, 0),
                        'handler_owner', pg_catalog.to_regrole(NEW.handler_owner)::pg_catalog.oid::pg_catalog.text);
        INSERT INTO chronos.listeners
        SELECT * FROM pg_catalog.jsonb_populate_record(NULL::chronos.listeners, row_data);
    END IF;
    RETURN NEW;
END
$$;


-- A restore binds each listener to the function of its recorded name here (a 1.1 dump gives the handler as its
-- signature, which names it as well).
CREATE VIEW chronos.listeners_restore WITH (security_invoker = true) AS
SELECT event, handler::pg_catalog.text AS handler, created_at, owner::pg_catalog.text AS owner, handler_name,
       handler_owner::pg_catalog.text AS handler_owner
  FROM chronos.listeners WHERE false;

ALTER VIEW chronos.listeners_restore ALTER COLUMN created_at SET DEFAULT pg_catalog.now();
ALTER VIEW chronos.listeners_restore ALTER COLUMN owner SET DEFAULT pg_catalog.quote_ident(CURRENT_USER);

COMMENT ON VIEW chronos.listeners_restore IS
'where a superuser''s COPY into chronos.listeners goes: owners and handlers resolved by name';

CREATE TRIGGER restore_row INSTEAD OF INSERT ON chronos.listeners_restore
    FOR EACH ROW EXECUTE FUNCTION chronos.restore_row('listeners');
