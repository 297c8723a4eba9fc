-- Thin helpers over chronos.tasks: each one is a single INSERT, UPDATE or DELETE of the same rows users may write directly.
-- Like every function of the extension, they pin search_path and name operators and functions by schema, so that no
-- object a role creates (in public, say) is used when a superuser calls them; SQL-standard bodies are bound at CREATE.

CREATE FUNCTION chronos.schedule(name text, schedule text, command text, timezone text DEFAULT NULL,
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

CREATE FUNCTION chronos.run_at(name text, at timestamptz, command text)
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

CREATE FUNCTION chronos.unschedule(name text)
RETURNS boolean
LANGUAGE sql SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    WITH gone AS (DELETE FROM chronos.tasks t WHERE t.name OPERATOR(pg_catalog.=) $1 RETURNING 1)
    SELECT pg_catalog.count(*) OPERATOR(pg_catalog.>) 0 FROM gone;
END;

COMMENT ON FUNCTION chronos.unschedule(text) IS 'delete the task called name; false if there was none';
