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
