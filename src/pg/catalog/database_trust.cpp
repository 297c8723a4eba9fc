// Database trust (see database_trust.hpp). chronos.database_trust holds one row: the OID of the database the catalog was
// made in, and the owner a superuser trusted the database with. It is read directly (no SQL, no privileges needed), as
// the task trigger runs with the writer's rights.
#include "pg/catalog/database_trust.hpp"

#include "pg/run/run_statements.hpp"
#include "pg/catalog/columns.hpp"

extern "C" {
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_database.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
}

namespace {

constexpr int64 kTrustCacheUs = USECS_PER_SEC;
bool cached_trust = false;
TimestampTz cached_at = 0;

Oid database_owner(void) {
    HeapTuple tuple = SearchSysCache1(DATABASEOID, ObjectIdGetDatum(MyDatabaseId));
    if (!HeapTupleIsValid(tuple))
        return InvalidOid;
    Oid owner = ((Form_pg_database)GETSTRUCT(tuple))->datdba;
    ReleaseSysCache(tuple);
    return owner;
}

// Whether chronos.database_trust says this database is trusted while `owner` owns it.
bool trusted_with(Oid owner) {
    Oid relid = chronos_relation("database_trust");
    if (!OidIsValid(relid))
        return true;
    Relation rel = table_open(relid, AccessShareLock);
    static const char *const kColumns[2] = {"database", "trusted_owner"};
    ColumnNumbers columns = {};
    find_columns(rel, kColumns, 2, &columns);
    Snapshot snapshot = RegisterSnapshot(GetLatestSnapshot());
    TableScanDesc scan = table_beginscan(rel, snapshot, 0, NULL);
    TupleTableSlot *slot = table_slot_create(rel, NULL);
    bool trusted = false;
    while (table_scan_getnextslot(scan, ForwardScanDirection, slot)) {
        bool db_null, owner_null;
        Datum database = slot_getattr(slot, columns.number[0], &db_null);
        Datum trusted_owner = slot_getattr(slot, columns.number[1], &owner_null);
        trusted = trusted || (!db_null && !owner_null && DatumGetObjectId(database) == MyDatabaseId &&
                              DatumGetObjectId(trusted_owner) == owner);
    }
    ExecDropSingleTupleTableSlot(slot);
    table_endscan(scan);
    UnregisterSnapshot(snapshot);
    table_close(rel, AccessShareLock);
    return trusted;
}

}  // namespace

bool database_trusted(bool fresh) {
    TimestampTz now = GetCurrentTimestamp();
    if (!fresh && cached_at != 0 && now - cached_at < kTrustCacheUs)
        return cached_trust;
    Oid owner = database_owner();
    cached_trust = superuser_arg(owner) || trusted_with(owner);
    cached_at = now;
    return cached_trust;
}

const char *hold_on_write(Oid owner, const char *old_held, bool is_insert, bool status_changed, bool owner_changed,
                          const char **status) {
    const char *held = old_held;
    bool scheduling = strcmp(*status, "scheduled") == 0;
    if (held != NULL && scheduling && status_changed)
        held = NULL;  // released (the trigger has checked that the writer is a member of the owner)
    if (held == NULL && scheduling && (is_insert || status_changed || owner_changed) && superuser_arg(owner) &&
        !database_trusted(true)) {
        held = kHeldUntrusted;
        static LocalTransactionId noticed_in = InvalidLocalTransactionId;
        if (noticed_in != MyProc->lxid) {
            noticed_in = MyProc->lxid;
            Oid database_owner_oid = database_owner();
            ereport(NOTICE,
                    (errmsg("a superuser's task in database \"%s\" is held", get_database_name(MyDatabaseId)),
                     errdetail("The database is owned by role \"%s\", which is not a superuser: its owner controls "
                               "objects and settings the task would use, so a superuser's task runs only in a database "
                               "a superuser trusts.",
                               GetUserNameFromId(database_owner_oid, true) ? GetUserNameFromId(database_owner_oid, true)
                                                                           : "?"),
                     errhint("After checking what the owner controls, a superuser runs SELECT chronos.trust_database(); "
                             "or let the task run as a role that is not a superuser.")));
        }
    }
    if (held != NULL && scheduling)
        *status = "paused";
    return held;
}

int hold_copied_tasks(void) {
    Oid relid = chronos_relation("database_trust");
    if (!OidIsValid(relid))
        return -1;
    Oid types[1] = {OIDOID};
    Datum values[1] = {ObjectIdGetDatum(MyDatabaseId)};
    int rc = SPI_execute_with_args(
        "SELECT FROM chronos.database_trust t WHERE t.database OPERATOR(pg_catalog.<>) $1", 1, types, values, NULL,
        true, 1);
    if (rc != SPI_OK_SELECT)
        elog(ERROR, "pg_chronos: could not read chronos.database_trust: %s", SPI_result_code_string(rc));
    if (SPI_processed == 0)
        return -1;
    // The copy's owner stands for whoever made it (CREATE DATABASE … OWNER names a role its creator is a member of).
    writing_bookkeeping = true;
    rc = SPI_execute_with_args(
        "WITH copy AS (SELECT d.datdba FROM pg_catalog.pg_database d WHERE d.oid OPERATOR(pg_catalog.=) $1),"
        " held AS (UPDATE chronos.tasks t SET status = 'paused'::chronos.task_state, held = 'copied',"
        "                 run_requested = false"
        "            FROM copy"
        "           WHERE (t.status OPERATOR(pg_catalog.=) ANY ('{scheduled,running}'::chronos.task_state[])"
        "                  OR t.run_requested)"
        "             AND NOT pg_catalog.pg_has_role(copy.datdba, t.owner::pg_catalog.oid, 'MEMBER')"
        "          RETURNING t.id),"
        " moved AS (UPDATE chronos.database_trust SET database = $1, trusted_owner = NULL, trusted_by = NULL,"
        "                                             trusted_at = NULL RETURNING 1)"
        " SELECT (SELECT pg_catalog.count(*) FROM held), (SELECT pg_catalog.count(*) FROM moved)",
        1, types, values, NULL, false, 0);
    writing_bookkeeping = false;
    if (rc != SPI_OK_SELECT || SPI_processed != 1)
        elog(ERROR, "pg_chronos: could not hold the tasks of a copied database: %s", SPI_result_code_string(rc));
    bool isnull;
    int held = (int)DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
    cached_at = 0;
    return held;
}

void hold_untrusted_task(int64 task_id) {
    Oid types[1] = {INT8OID};
    Datum values[1] = {Int64GetDatum(task_id)};
    writing_bookkeeping = true;
    int rc = SPI_execute_with_args(
        "UPDATE chronos.tasks SET status = 'paused'::chronos.task_state, held = 'untrusted database',"
        "       run_requested = false WHERE id OPERATOR(pg_catalog.=) $1",
        1, types, values, NULL, false, 0);
    writing_bookkeeping = false;
    if (rc != SPI_OK_UPDATE)
        elog(ERROR, "pg_chronos: could not hold task " INT64_FORMAT ": %s", task_id, SPI_result_code_string(rc));
}
