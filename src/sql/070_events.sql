-- Named events with listeners. A listener belongs to a role (owner): each role has its own events, sees and changes only
-- the listeners of roles it is a member of, and chronos.emit() schedules a once task, owned by the listener's owner,
-- that calls the handler with the payload. The handler so always runs with the rights of the role that chose it.

CREATE TABLE chronos.listeners (
    event       text NOT NULL,
    handler     regprocedure NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    owner       regrole NOT NULL DEFAULT quote_ident(current_user)::regrole,
    PRIMARY KEY (owner, event)
);

COMMENT ON TABLE chronos.listeners IS
'which function handles each event of a role; the handler takes one jsonb argument and runs as the owner';
COMMENT ON COLUMN chronos.listeners.owner IS 'role whose event this is and whose rights the handler runs with (by OID)';

ALTER TABLE chronos.listeners ENABLE ROW LEVEL SECURITY;
CREATE POLICY listeners_of_my_roles ON chronos.listeners USING (chronos.is_member_of(owner))
    WITH CHECK (chronos.is_member_of(owner));

-- Checked on every write, also for roles that bypass row-level security: the writer is a member of the owner, and the
-- handler is a function of one jsonb argument that the owner may execute.
CREATE FUNCTION chronos.listener_check() RETURNS trigger
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

CREATE TRIGGER listener_check BEFORE INSERT OR UPDATE ON chronos.listeners
    FOR EACH ROW EXECUTE FUNCTION chronos.listener_check();

CREATE FUNCTION chronos.listen(event text, handler regprocedure) RETURNS void
LANGUAGE sql SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    INSERT INTO chronos.listeners AS l (event, handler, owner) VALUES ($1, $2, pg_catalog.quote_ident(CURRENT_USER)::pg_catalog.regrole)
    ON CONFLICT (owner, event) DO UPDATE SET handler = excluded.handler;
END;

COMMENT ON FUNCTION chronos.listen(text, regprocedure) IS
'make handler(jsonb) the listener of the current user''s event; it runs as the current user';

CREATE FUNCTION chronos.unlisten(event text) RETURNS boolean
LANGUAGE sql SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    WITH gone AS (DELETE FROM chronos.listeners l
                   WHERE l.owner OPERATOR(pg_catalog.=) pg_catalog.quote_ident(CURRENT_USER)::pg_catalog.regrole
                     AND l.event OPERATOR(pg_catalog.=) $1 RETURNING 1)
    SELECT pg_catalog.count(*) OPERATOR(pg_catalog.>) 0 FROM gone;
END;

COMMENT ON FUNCTION chronos.unlisten(text) IS 'remove the current user''s listener of event; false if there was none';

-- The command calls the handler by schema-qualified name with its exact argument type, so no overload or search_path
-- redirects it; the task belongs to the listener's owner, and the task trigger lets only its members write it.
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

SELECT pg_catalog.pg_extension_config_dump('chronos.listeners', '');
