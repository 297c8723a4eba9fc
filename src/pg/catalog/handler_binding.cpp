// Binding event handlers again after pg_upgrade (see handler_binding.hpp). Within a cluster the binding is by identity
// (chronos.call_handler checks OID and name); a new cluster's functions have other OIDs but the same names and owners
// (pg_upgrade keeps role OIDs), so the function of the recorded name and owner is the one the listener was registered
// with, or one that owner put in its place.
#include "pg/catalog/handler_binding.hpp"

#include "pg/catalog/columns.hpp"
#include "pg/run/run_statements.hpp"

extern "C" {
#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
}

namespace {

// A listener takes the function its name finds only if that function has the owner the listener recorded (anyone who
// could make such a function in its place is a member of that owner, who could replace the original in place anyway)
// and the listener's owner may execute it (its trigger checks that); OID 0 (unbound) otherwise: a listener whose
// handler was renamed or dropped before the upgrade is not bound to another role's function put under its name. A
// task of an emitted event takes what its listener (same owner, event and name) is bound to, or OID 0.
constexpr const char *kBindAgain =
    "WITH found AS (SELECT l.owner, l.event, l.handler_name,"
    "                      COALESCE((SELECT p.oid FROM pg_catalog.pg_proc p"
    "                                 WHERE p.oid OPERATOR(pg_catalog.=) pg_catalog.to_regprocedure("
    "                                           l.handler_name OPERATOR(pg_catalog.||) '(pg_catalog.jsonb)')"
    "                                   AND p.proowner OPERATOR(pg_catalog.=) l.handler_owner"
    "                                   AND p.prokind OPERATOR(pg_catalog.=) 'f'"
    "                                   AND pg_catalog.has_function_privilege(l.owner::pg_catalog.oid, p.oid,"
    "                                                                         'EXECUTE')), 0) AS handler"
    "                 FROM chronos.listeners l"
    "                WHERE EXISTS (SELECT FROM pg_catalog.pg_roles r WHERE r.oid OPERATOR(pg_catalog.=) l.owner)),"
    " listeners AS (UPDATE chronos.listeners l SET handler = f.handler FROM found f"
    "                WHERE l.owner OPERATOR(pg_catalog.=) f.owner AND l.event OPERATOR(pg_catalog.=) f.event"
    "                  AND l.handler OPERATOR(pg_catalog.<>) f.handler RETURNING 1),"
    " calls AS (SELECT t.id, t.owner, t.remark, pg_catalog.replace(m.call[1], '''''', '''') AS name"
    "             FROM chronos.tasks t, pg_catalog.regexp_match(t.command,"
    "                  '^SELECT chronos\\.call_handler\\([0-9]+, ''((?:[^'']|'''')*)'', \\$1\\)$') AS m(call)"
    "            WHERE m.call IS NOT NULL),"
    " tasks AS (UPDATE chronos.tasks t"
    "              SET command = pg_catalog.format('SELECT chronos.call_handler(%s, %L, $1)',"
    "                                              COALESCE((SELECT f.handler FROM found f"
    "                                                         WHERE f.owner OPERATOR(pg_catalog.=) c.owner"
    "                                                           AND 'event ' OPERATOR(pg_catalog.||) f.event"
    "                                                               OPERATOR(pg_catalog.=) c.remark"
    "                                                           AND f.handler_name OPERATOR(pg_catalog.=) c.name),"
    "                                                       0), c.name)"
    "             FROM calls c WHERE t.id OPERATOR(pg_catalog.=) c.id RETURNING 1),"
    " cluster AS (UPDATE chronos.database_trust SET system_identifier = $1 RETURNING 1)"
    " SELECT (SELECT pg_catalog.count(*) FROM listeners) + (SELECT pg_catalog.count(*) FROM tasks),"
    "        (SELECT pg_catalog.count(*) FROM cluster)";

}  // namespace

int bind_handlers_to_this_cluster(void) {
    if (!OidIsValid(chronos_relation("database_trust")))
        return -1;  // a catalog older than 1.2: its listeners name their handler as a regprocedure
    Oid types[1] = {INT8OID};
    Datum values[1] = {Int64GetDatum((int64)GetSystemIdentifier())};
    int rc = SPI_execute_with_args(
        "SELECT FROM chronos.database_trust t WHERE t.system_identifier IS DISTINCT FROM $1", 1, types, values, NULL,
        true, 1);
    if (rc != SPI_OK_SELECT)
        elog(ERROR, "pg_chronos: could not read chronos.database_trust: %s", SPI_result_code_string(rc));
    if (SPI_processed == 0)
        return -1;
    writing_bookkeeping = true;  // the task trigger lets the workers' own writes through; the listeners' one checks
    rc = SPI_execute_with_args(kBindAgain, 1, types, values, NULL, false, 0);
    writing_bookkeeping = false;
    if (rc != SPI_OK_SELECT || SPI_processed != 1)
        elog(ERROR, "pg_chronos: could not bind event handlers to this cluster: %s", SPI_result_code_string(rc));
    bool isnull;
    return (int)DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}
