-- Thin helpers over chronos.tasks: each one is a single INSERT, UPDATE or DELETE of the same rows users may write directly.

CREATE FUNCTION chronos.schedule(name text, schedule text, command text, timezone text DEFAULT NULL,
                                 start_time timestamptz DEFAULT NULL)
RETURNS bigint
LANGUAGE sql AS $$
    INSERT INTO chronos.tasks AS t (name, type, schedule, command, timezone, start_time)
    VALUES (name, 'loop', schedule, command, timezone, coalesce(start_time, now()))
    ON CONFLICT (name) WHERE name IS NOT NULL DO UPDATE
       SET type = 'loop', schedule = excluded.schedule, command = excluded.command,
           timezone = coalesce($4, t.timezone), start_time = coalesce($5, t.start_time),
           status = CASE WHEN t.status IN ('done', 'failed') THEN 'scheduled' ELSE t.status END
    RETURNING id
$$;

COMMENT ON FUNCTION chronos.schedule(text, text, text, text, timestamptz) IS
'create the loop task called name, or change its schedule and command; returns its id';

CREATE FUNCTION chronos.run_at(name text, at timestamptz, command text)
RETURNS bigint
LANGUAGE sql AS $$
    INSERT INTO chronos.tasks AS t (name, type, command, start_time)
    VALUES (name, 'once', command, at)
    ON CONFLICT (name) WHERE name IS NOT NULL DO UPDATE
       SET type = 'once', schedule = NULL, command = excluded.command, start_time = excluded.start_time,
           next_exec_time = excluded.start_time, status = 'scheduled'
    RETURNING id
$$;

COMMENT ON FUNCTION chronos.run_at(text, timestamptz, text) IS 'run command once at the given time; returns the task id';

CREATE FUNCTION chronos.unschedule(name text)
RETURNS boolean
LANGUAGE sql AS $$
    WITH gone AS (DELETE FROM chronos.tasks t WHERE t.name = unschedule.name RETURNING 1)
    SELECT count(*) > 0 FROM gone
$$;

COMMENT ON FUNCTION chronos.unschedule(text) IS 'delete the task called name; false if there was none';
