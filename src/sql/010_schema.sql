-- pg_chronos install script, joined from src/sql/ in file-name order by the Makefile.
\echo Use "CREATE EXTENSION pg_chronos" to load this file. \quit

-- CREATE EXTENSION installs into an existing schema "chronos" as it finds it. Whoever owns that schema, or may create
-- objects in it, could later rename it, drop or shadow what the workers (which connect as a superuser) rely on, so the
-- install refuses a schema that a non-superuser owns or may create objects in, or that holds anything already. A
-- schema created by CREATE EXTENSION itself, or one a superuser created empty (as a restore does), passes.
DO $$
DECLARE
    chronos_schema pg_catalog.oid := 'chronos'::pg_catalog.regnamespace;
    schema_owner pg_catalog.name;
    creators text;
    objects text;
BEGIN
    SELECT r.rolname INTO schema_owner FROM pg_catalog.pg_namespace n JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) n.nspowner
     WHERE n.oid OPERATOR(pg_catalog.=) chronos_schema AND NOT r.rolsuper;
    IF FOUND THEN
        RAISE EXCEPTION 'schema "chronos" is owned by role "%", which is not a superuser', schema_owner
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'The owner of the schema could replace what pg_chronos''s workers run as a superuser.',
                  HINT = 'Drop the schema, or ALTER SCHEMA chronos OWNER TO a superuser, before CREATE EXTENSION pg_chronos.';
    END IF;
    SELECT pg_catalog.string_agg(CASE WHEN a.grantee OPERATOR(pg_catalog.=) 0 THEN 'PUBLIC'
                                      ELSE a.grantee::pg_catalog.regrole::pg_catalog.text END, ', ')
      INTO creators
      FROM pg_catalog.pg_namespace n, pg_catalog.aclexplode(n.nspacl) a
      LEFT JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) a.grantee
     WHERE n.oid OPERATOR(pg_catalog.=) chronos_schema AND a.privilege_type OPERATOR(pg_catalog.=) 'CREATE'
       AND NOT COALESCE(r.rolsuper, false);
    IF creators IS NOT NULL THEN
        RAISE EXCEPTION 'roles that are not superusers may create objects in schema "chronos"'
            USING ERRCODE = 'insufficient_privilege', DETAIL = pg_catalog.format('CREATE is granted to %s.', creators),
                  HINT = 'REVOKE CREATE ON SCHEMA chronos FROM them before CREATE EXTENSION pg_chronos.';
    END IF;
    SELECT pg_catalog.string_agg(pg_catalog.pg_describe_object(d.classid, d.objid, d.objsubid), ', ')
      INTO objects
      FROM pg_catalog.pg_depend d
     WHERE d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_namespace'::pg_catalog.regclass
       AND d.refobjid OPERATOR(pg_catalog.=) chronos_schema
       AND d.classid OPERATOR(pg_catalog.<>) 'pg_catalog.pg_extension'::pg_catalog.regclass;
    IF objects IS NOT NULL THEN
        RAISE EXCEPTION 'schema "chronos" is not empty'
            USING ERRCODE = 'object_not_in_prerequisite_state', DETAIL = pg_catalog.format('It holds %s.', objects),
                  HINT = 'pg_chronos installs only into an empty schema "chronos"; move or drop these objects first.';
    END IF;
END
$$;

-- Without the library in shared_preload_libraries no launcher runs, and tasks would wait forever: the install (and
-- the update from 1.0) is refused with a hint. pg_upgrade runs no script, and the function lets a binary upgrade pass.
CREATE FUNCTION chronos.check_preloaded() RETURNS void
LANGUAGE C VOLATILE AS 'MODULE_PATHNAME', 'chronos_check_preloaded';

COMMENT ON FUNCTION chronos.check_preloaded() IS
'raises an error unless pg_chronos was loaded via shared_preload_libraries';

SELECT chronos.check_preloaded();

COMMENT ON SCHEMA chronos IS 'pg_chronos: scheduled SQL run by background workers';
