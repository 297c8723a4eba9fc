-- The extension's SQL is search-path safe: a database owner who is not a superuser plants operators, functions and
-- aggregates in public that shadow pg_catalog's (before CREATE EXTENSION and after it); a superuser then calls every
-- helper and reads every view with search_path = public, pg_catalog, and none of the planted objects runs. The install
-- refuses a schema "chronos" that a non-superuser owns or may create objects in, or that is not empty.
SET TimeZone = 'UTC';
SET DateStyle = 'ISO';
SET client_min_messages = notice;
CREATE ROLE chronos_planter NOLOGIN;
SELECT current_database() AS dbname, (SELECT datdba::regrole FROM pg_database WHERE datname = current_database()) AS dbowner
\gset
ALTER DATABASE :"dbname" OWNER TO chronos_planter;
DROP EXTENSION pg_chronos;

--
-- Before CREATE EXTENSION: the database owner plants objects in public. Each records that it ran, and as whom.
--
SET ROLE chronos_planter;
CREATE TABLE public.planted_log (what text, by_user name DEFAULT current_user, by_session name DEFAULT session_user);
GRANT INSERT ON public.planted_log TO PUBLIC;
CREATE FUNCTION public.planted(what text) RETURNS boolean LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
    INSERT INTO public.planted_log (what) VALUES (what);
    RAISE NOTICE 'planted % ran', what;
    RETURN true;
END
$$;
CREATE FUNCTION public.planted_eq(anyenum, anyenum) RETURNS boolean LANGUAGE sql
    AS $$ SELECT public.planted('=(anyenum, anyenum)') AND $1 OPERATOR(pg_catalog.=) $2 $$;
CREATE OPERATOR public.= (FUNCTION = public.planted_eq, LEFTARG = anyenum, RIGHTARG = anyenum);
CREATE FUNCTION public.planted_ne(anyenum, anyenum) RETURNS boolean LANGUAGE sql
    AS $$ SELECT public.planted('<>(anyenum, anyenum)') AND $1 OPERATOR(pg_catalog.<>) $2 $$;
CREATE OPERATOR public.<> (FUNCTION = public.planted_ne, LEFTARG = anyenum, RIGHTARG = anyenum);
CREATE FUNCTION public.planted_text_eq(text, text) RETURNS boolean LANGUAGE sql
    AS $$ SELECT public.planted('=(text, text)') AND $1 OPERATOR(pg_catalog.=) $2 $$;
CREATE OPERATOR public.= (FUNCTION = public.planted_text_eq, LEFTARG = text, RIGHTARG = text);
CREATE FUNCTION public.planted_text_ne(text, text) RETURNS boolean LANGUAGE sql
    AS $$ SELECT public.planted('<>(text, text)') AND $1 OPERATOR(pg_catalog.<>) $2 $$;
CREATE OPERATOR public.<> (FUNCTION = public.planted_text_ne, LEFTARG = text, RIGHTARG = text);
CREATE FUNCTION public.planted_concat(text, text) RETURNS text LANGUAGE sql
    AS $$ SELECT CASE WHEN public.planted('||(text, text)') THEN $1 OPERATOR(pg_catalog.||) $2 END $$;
CREATE OPERATOR public.|| (FUNCTION = public.planted_concat, LEFTARG = text, RIGHTARG = text);
CREATE FUNCTION public.planted_int8_eq(bigint, bigint) RETURNS boolean LANGUAGE sql
    AS $$ SELECT public.planted('=(bigint, bigint)') AND $1 OPERATOR(pg_catalog.=) $2 $$;
CREATE OPERATOR public.= (FUNCTION = public.planted_int8_eq, LEFTARG = bigint, RIGHTARG = bigint);
CREATE FUNCTION public.planted_int8_gt(bigint, integer) RETURNS boolean LANGUAGE sql
    AS $$ SELECT public.planted('>(bigint, integer)') AND $1 OPERATOR(pg_catalog.>) $2 $$;
CREATE OPERATOR public.> (FUNCTION = public.planted_int8_gt, LEFTARG = bigint, RIGHTARG = integer);
CREATE FUNCTION public.planted_oid_eq(oid, oid) RETURNS boolean LANGUAGE sql
    AS $$ SELECT public.planted('=(oid, oid)') AND $1 OPERATOR(pg_catalog.=) $2 $$;
CREATE OPERATOR public.= (FUNCTION = public.planted_oid_eq, LEFTARG = oid, RIGHTARG = oid);
CREATE FUNCTION public.planted_tstz_le(timestamptz, timestamptz) RETURNS boolean LANGUAGE sql
    AS $$ SELECT public.planted('<=(timestamptz, timestamptz)') AND $1 OPERATOR(pg_catalog.<=) $2 $$;
CREATE OPERATOR public.<= (FUNCTION = public.planted_tstz_le, LEFTARG = timestamptz, RIGHTARG = timestamptz);
CREATE FUNCTION public.planted_tstz_lt(timestamptz, timestamptz) RETURNS boolean LANGUAGE sql
    AS $$ SELECT public.planted('<(timestamptz, timestamptz)') AND $1 OPERATOR(pg_catalog.<) $2 $$;
CREATE OPERATOR public.< (FUNCTION = public.planted_tstz_lt, LEFTARG = timestamptz, RIGHTARG = timestamptz);
CREATE FUNCTION public.now() RETURNS timestamptz LANGUAGE sql
    AS $$ SELECT CASE WHEN public.planted('now()') THEN pg_catalog.now() END $$;
CREATE FUNCTION public.lower(text) RETURNS text LANGUAGE sql
    AS $$ SELECT CASE WHEN public.planted('lower(text)') THEN pg_catalog.lower($1) END $$;
CREATE FUNCTION public.length(text) RETURNS integer LANGUAGE sql
    AS $$ SELECT CASE WHEN public.planted('length(text)') THEN pg_catalog.length($1) END $$;
CREATE FUNCTION public.quote_ident(text) RETURNS text LANGUAGE sql
    AS $$ SELECT CASE WHEN public.planted('quote_ident(text)') THEN pg_catalog.quote_ident($1) END $$;
CREATE FUNCTION public.strpos(text, text) RETURNS integer LANGUAGE sql
    AS $$ SELECT CASE WHEN public.planted('strpos(text, text)') THEN pg_catalog.strpos($1, $2) END $$;
CREATE FUNCTION public.pg_notify(text, text) RETURNS void LANGUAGE sql
    AS $$ SELECT CASE WHEN public.planted('pg_notify(text, text)') THEN pg_catalog.pg_notify($1, $2) END $$;
CREATE FUNCTION public.has_function_privilege(oid, oid, text) RETURNS boolean LANGUAGE sql
    AS $$ SELECT public.planted('has_function_privilege(oid, oid, text)') AND pg_catalog.has_function_privilege($1, $2, $3) $$;
CREATE FUNCTION public.planted_count_step(bigint) RETURNS bigint LANGUAGE sql
    AS $$ SELECT CASE WHEN public.planted('count(*)') THEN $1 OPERATOR(pg_catalog.+) 1 END $$;
CREATE AGGREGATE public.count(*) (SFUNC = public.planted_count_step, STYPE = bigint, INITCOND = '0');
CREATE FUNCTION public.planted_min_step(timestamptz, timestamptz) RETURNS timestamptz LANGUAGE sql
    AS $$ SELECT CASE WHEN public.planted('min(timestamptz)') THEN LEAST($1, $2) END $$;
CREATE AGGREGATE public.min(timestamptz) (SFUNC = public.planted_min_step, STYPE = timestamptz);
RESET ROLE;

--
-- A schema "chronos" open to a non-superuser is refused; an empty one a superuser owns is used.
--
DROP SCHEMA chronos;
SET ROLE chronos_planter;
CREATE SCHEMA chronos;
RESET ROLE;
CREATE EXTENSION pg_chronos;
ALTER SCHEMA chronos OWNER TO CURRENT_USER;
GRANT CREATE ON SCHEMA chronos TO chronos_planter;
CREATE EXTENSION pg_chronos;
REVOKE CREATE ON SCHEMA chronos FROM chronos_planter;
CREATE FUNCTION chronos.emit(event text, payload jsonb) RETURNS void LANGUAGE sql AS 'SELECT';
CREATE EXTENSION pg_chronos;
DROP FUNCTION chronos.emit(text, jsonb);
CREATE EXTENSION pg_chronos;
SELECT n.nspowner = e.extowner AS schema_owned_by_installer
  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_chronos';

--
-- After CREATE EXTENSION: operators for the extension's own types, which beat pg_catalog's anyenum operators.
--
GRANT USAGE ON SCHEMA chronos TO chronos_planter;
SET ROLE chronos_planter;
CREATE FUNCTION public.planted_state_eq(chronos.task_state, chronos.task_state) RETURNS boolean LANGUAGE sql
    AS $$ SELECT public.planted('=(task_state, task_state)') AND $1::text OPERATOR(pg_catalog.=) $2::text $$;
CREATE OPERATOR public.= (FUNCTION = public.planted_state_eq, LEFTARG = chronos.task_state, RIGHTARG = chronos.task_state);
CREATE FUNCTION public.planted_state_ne(chronos.task_state, chronos.task_state) RETURNS boolean LANGUAGE sql
    AS $$ SELECT public.planted('<>(task_state, task_state)') AND $1::text OPERATOR(pg_catalog.<>) $2::text $$;
CREATE OPERATOR public.<> (FUNCTION = public.planted_state_ne, LEFTARG = chronos.task_state, RIGHTARG = chronos.task_state);
CREATE FUNCTION public.planted_status_eq(chronos.run_status, chronos.run_status) RETURNS boolean LANGUAGE sql
    AS $$ SELECT public.planted('=(run_status, run_status)') AND $1::text OPERATOR(pg_catalog.=) $2::text $$;
CREATE OPERATOR public.= (FUNCTION = public.planted_status_eq, LEFTARG = chronos.run_status, RIGHTARG = chronos.run_status);
CREATE FUNCTION public.planted_status_ne(chronos.run_status, chronos.run_status) RETURNS boolean LANGUAGE sql
    AS $$ SELECT public.planted('<>(run_status, run_status)') AND $1::text OPERATOR(pg_catalog.<>) $2::text $$;
CREATE OPERATOR public.<> (FUNCTION = public.planted_status_ne, LEFTARG = chronos.run_status, RIGHTARG = chronos.run_status);
CREATE FUNCTION public.planted_type_eq(chronos.task_type, chronos.task_type) RETURNS boolean LANGUAGE sql
    AS $$ SELECT public.planted('=(task_type, task_type)') AND $1::text OPERATOR(pg_catalog.=) $2::text $$;
CREATE OPERATOR public.= (FUNCTION = public.planted_type_eq, LEFTARG = chronos.task_type, RIGHTARG = chronos.task_type);
CREATE FUNCTION public.planted_regrole_eq(regrole, regrole) RETURNS boolean LANGUAGE sql
    AS $$ SELECT public.planted('=(regrole, regrole)') AND $1::oid OPERATOR(pg_catalog.=) $2::oid $$;
CREATE OPERATOR public.= (FUNCTION = public.planted_regrole_eq, LEFTARG = regrole, RIGHTARG = regrole);
RESET ROLE;
CREATE FUNCTION public.search_path_handler(payload jsonb) RETURNS void LANGUAGE sql AS 'SELECT';

--
-- A superuser with an attacker-friendly search_path calls every helper and reads every view. Tasks start in 2030, so
-- that no worker runs them, except the one run_now() asks for. The superuser trusts the database first (its tasks are
-- held otherwise, the owner not being a superuser): trusting the owner is no licence for its objects to run.
--
SET search_path = public, pg_catalog;
SELECT chronos.trust_database();
SELECT chronos.schedule('sp-loop', '@daily', 'SELECT 1', start_time => '2030-01-01 00:00+00') IS NOT NULL AS scheduled;
SELECT chronos.schedule('sp-loop', '@hourly', 'SELECT 1') IS NOT NULL AS rescheduled;
SELECT chronos.run_at('sp-once', '2030-01-01 00:00+00', 'SELECT 2') IS NOT NULL AS run_at;
SELECT chronos.run_at('sp-once', '2030-01-02 00:00+00', 'SELECT 2') IS NOT NULL AS run_at_again;
SELECT chronos.run_at('sp-now', '2030-01-01 00:00+00', 'SELECT 3') IS NOT NULL AS run_at;
SELECT chronos.pause('sp-loop') AS paused;
SELECT chronos.pause('sp-loop') AS paused_again;
SELECT chronos.resume('sp-loop') AS resumed_next_run;
SELECT chronos.run_now('sp-now') IS NOT NULL AS run_requested;
SELECT chronos.cancel('sp-loop') AS cancelled;
SELECT (chronos.find_task('sp-loop')).schedule AS found;
SELECT chronos.next_runs('@hourly', '2026-01-01 00:00+00', 2);
SELECT chronos.next_runs('sp-loop'::name, 2);
SELECT chronos.describe_schedule('@daily');
SELECT chronos.listen('sp-event', 'public.search_path_handler(jsonb)');
SELECT chronos.listen('sp-event', 'public.search_path_handler(jsonb)');
SELECT chronos.emit('sp-event', '{"k": 1}', '2030-01-01 00:00+00') IS NOT NULL AS emitted;
SELECT chronos.unlisten('sp-event') AS unlistened;
SELECT chronos.unschedule('sp-once') AS unscheduled;
SELECT chronos.unschedule('sp-once') AS unscheduled_again;
-- The run run_now() asked for is done by a worker (its statements use the worker's search_path).
DO $$
BEGIN
    FOR i IN 1..1200 LOOP
        EXIT WHEN EXISTS (SELECT FROM chronos.runs WHERE task_name OPERATOR(pg_catalog.=) 'sp-now' AND status::text OPERATOR(pg_catalog.<>) 'running');
        PERFORM pg_sleep(0.1);
    END LOOP;
END
$$;
SELECT name, status, status_code, schedule FROM chronos.task_status ORDER BY name;
SELECT task_id FROM chronos.running;
SELECT task_name FROM chronos.history;
SELECT name, runs, failures FROM chronos.task_stats ORDER BY name;
RESET search_path;

SELECT task_name, status FROM chronos.runs ORDER BY run_id;

-- Nothing planted ran.
SELECT what, by_user, by_session FROM public.planted_log;

-- The planted objects do run where a query names them unqualified with this search_path.
SET search_path = public, pg_catalog;
SELECT 'a'::text = 'a'::text AS planted_equal;
RESET search_path;
SELECT what, by_user = session_user AS by_superuser FROM public.planted_log;

-- Clean up: the extension stays, as installed.
DELETE FROM chronos.tasks;
DELETE FROM chronos.runs;
DROP FUNCTION public.search_path_handler(jsonb);
ALTER DATABASE :"dbname" OWNER TO :"dbowner";
REVOKE USAGE ON SCHEMA chronos FROM chronos_planter;
DROP OWNED BY chronos_planter;
DROP ROLE chronos_planter;
