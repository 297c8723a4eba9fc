-- Named events with listeners: chronos.emit() schedules a once task that calls the event's handler with the payload.

CREATE TABLE chronos.listeners (
    event       text PRIMARY KEY,
    handler     regprocedure NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE chronos.listeners IS 'which function handles each event; the handler takes one jsonb argument';

CREATE FUNCTION chronos.listener_check() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_proc p
                    WHERE p.oid = NEW.handler AND p.prokind = 'f' AND p.pronargs = 1
                      AND p.proargtypes[0] = 'jsonb'::regtype) THEN
        RAISE EXCEPTION 'handler % of event "%" must be a function taking one jsonb argument', NEW.handler, NEW.event
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'For example CREATE FUNCTION on_signup(payload jsonb) RETURNS void …';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER listener_check BEFORE INSERT OR UPDATE ON chronos.listeners
    FOR EACH ROW EXECUTE FUNCTION chronos.listener_check();

CREATE FUNCTION chronos.listen(event text, handler regprocedure) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO chronos.listeners AS l (event, handler) VALUES ($1, $2)
    ON CONFLICT (event) DO UPDATE SET handler = excluded.handler
$$;

COMMENT ON FUNCTION chronos.listen(text, regprocedure) IS 'make handler(jsonb) the listener of event';

CREATE FUNCTION chronos.unlisten(event text) RETURNS boolean
LANGUAGE sql AS $$
    WITH gone AS (DELETE FROM chronos.listeners l WHERE l.event = $1 RETURNING 1)
    SELECT count(*) > 0 FROM gone
$$;

COMMENT ON FUNCTION chronos.unlisten(text) IS 'remove the listener of event; false if there was none';

CREATE FUNCTION chronos.emit(event text, payload jsonb, at timestamptz DEFAULT now()) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    call text;
    task_id bigint;
BEGIN
    SELECT CASE WHEN p.oid IS NOT NULL THEN format('SELECT %I.%I($1)', n.nspname, p.proname) END INTO call
      FROM chronos.listeners l
      LEFT JOIN pg_catalog.pg_proc p ON p.oid = l.handler
      LEFT JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
     WHERE l.event = emit.event;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no listener for event "%"', emit.event USING ERRCODE = 'undefined_object',
            HINT = 'Register one with chronos.listen(event, handler).';
    END IF;
    IF call IS NULL THEN
        RAISE EXCEPTION 'the handler of event "%" no longer exists', emit.event USING ERRCODE = 'undefined_function',
            HINT = 'Register a new one with chronos.listen(event, handler).';
    END IF;
    INSERT INTO chronos.tasks (type, command, payload, start_time, remark)
    VALUES ('once', call, emit.payload, emit.at, 'event ' || emit.event)
    RETURNING id INTO task_id;
    RETURN task_id;
END
$$;

COMMENT ON FUNCTION chronos.emit(text, jsonb, timestamptz) IS
'schedule one run of the event''s handler with payload, at the given time, as the current user; returns the task id';

SELECT pg_catalog.pg_extension_config_dump('chronos.listeners', '');
