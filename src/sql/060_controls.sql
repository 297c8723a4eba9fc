-- Verbs over chronos.tasks. pause and resume are plain UPDATEs of status (the same UPDATE users may write); run_now sets
-- run_requested; cancel signals the worker running the task. Each raises 42704 for an unknown name.

CREATE FUNCTION chronos.find_task(name text) RETURNS chronos.tasks
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

CREATE FUNCTION chronos.pause(name text) RETURNS boolean
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

CREATE FUNCTION chronos.resume(name text) RETURNS timestamptz
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    UPDATE chronos.tasks t SET status = 'scheduled', next_exec_time = NULL
     WHERE t.name OPERATOR(pg_catalog.=) resume.name
       AND t.status OPERATOR(pg_catalog.=) ANY ('{paused,done,failed}'::chronos.task_state[]);
    RETURN (chronos.find_task(resume.name)).next_exec_time;
END
$$;

COMMENT ON FUNCTION chronos.resume(text) IS 'schedule a paused (or finished) task again; returns its next run time';

CREATE FUNCTION chronos.run_now(name text) RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    UPDATE chronos.tasks t SET run_requested = true WHERE t.name OPERATOR(pg_catalog.=) run_now.name;
    RETURN (chronos.find_task(run_now.name)).id;
END
$$;

COMMENT ON FUNCTION chronos.run_now(text) IS
'run the task once as soon as a worker is free (a manual run), without moving its schedule; returns its id';

CREATE FUNCTION chronos.cancel(name text) RETURNS boolean
LANGUAGE C STRICT AS 'MODULE_PATHNAME', 'chronos_cancel';

COMMENT ON FUNCTION chronos.cancel(text) IS
'cancel the run of the task in progress (recorded as cancelled; a loop task keeps its schedule); false if none runs';
