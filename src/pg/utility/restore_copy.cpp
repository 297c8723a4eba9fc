// Restoring a dump: the redirect of a superuser's COPY FROM into chronos.tasks, runs or listeners to the
// table's restore view, the warnings for the rows it set aside (one per missing role), chronos.note_unowned_row() and
// chronos.restore_unowned_rows(). The views and their trigger are in src/sql/pg_chronos--1.0--1.1.sql.
#include "pg/utility/restore_copy.hpp"

#include "pg/catalog/columns.hpp"
#include "pg/workers/runs_in_progress.hpp"

extern "C" {
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/parsenodes.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/tuplestore.h"
}

extern "C" {
PG_FUNCTION_INFO_V1(chronos_note_unowned_row);
PG_FUNCTION_INFO_V1(chronos_restore_unowned_rows);
}

bool restoring_rows = false;

namespace {

// The tables whose rows have an owner, and their restore views.
const char *const kOwnedTables[] = {"tasks", "runs", "listeners"};
const char *const kRestoreViews[] = {"tasks_restore", "runs_restore", "listeners_restore"};
constexpr int kOwnedTableCount = 3;

// The rows set aside by the current statement, per missing role (palloc'd in TopTransactionContext).
struct UnownedCount {
    char *owner_name;
    int64 rows;
};
List *unowned_counts = NIL;
const char *restored_table = NULL;  // the owned table the current statement restores into

// Whether restored rows committed in this transaction: the executors then look for runs left 'running'.
bool recover_at_commit = false;

void warn_unowned_rows(const char *table) {
    ListCell *lc;
    foreach (lc, unowned_counts) {
        UnownedCount *count = static_cast<UnownedCount *>(lfirst(lc));
        ereport(WARNING,
                (errcode(ERRCODE_UNDEFINED_OBJECT),
                 errmsg_plural("role %s does not exist: " INT64_FORMAT " row of chronos.%s was set aside",
                               "role %s does not exist: " INT64_FORMAT " rows of chronos.%s were set aside",
                               count->rows, count->owner_name, count->rows, table),
                 errdetail("They are kept in chronos.unowned_rows; the other rows were restored."),
                 errhint("Create the role (restore the roles first: pg_dumpall --globals-only), then run "
                         "SELECT * FROM chronos.restore_unowned_rows() as a superuser.")));
    }
    unowned_counts = NIL;
}

void restore_at_commit(XactEvent event, void *) {
    if (event == XACT_EVENT_COMMIT && recover_at_commit)
        note_ended_run(MyDatabaseId);
    if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_COMMIT ||
        event == XACT_EVENT_PARALLEL_ABORT || event == XACT_EVENT_PREPARE) {
        recover_at_commit = false;
        restoring_rows = false;
        unowned_counts = NIL;
        restored_table = NULL;
    }
}

}  // namespace

void register_restore_callback(void) {
    RegisterXactCallback(restore_at_commit, NULL);
}

PlannedStmt *redirected_restore_copy(PlannedStmt *pstmt) {
    if (!IsA(pstmt->utilityStmt, CopyStmt))
        return NULL;
    CopyStmt *copy = castNode(CopyStmt, pstmt->utilityStmt);
    if (!copy->is_from || copy->relation == NULL || !superuser())
        return NULL;
    // With session_replication_role = replica no trigger fires, the restore view's neither: its rows would be dropped
    // without a word. The COPY is then PostgreSQL's own (a missing role fails it).
    if (SessionReplicationRole == SESSION_REPLICATION_ROLE_REPLICA)
        return NULL;
    Oid target = RangeVarGetRelid(copy->relation, NoLock, true);
    if (!OidIsValid(target))
        return NULL;
    for (int i = 0; i < kOwnedTableCount; i++) {
        if (target != chronos_relation(kOwnedTables[i]))
            continue;
        // A catalog older than the library has no restore views: its COPY is left as it is.
        if (!OidIsValid(chronos_relation(kRestoreViews[i])))
            return NULL;
        PlannedStmt *redirected = static_cast<PlannedStmt *>(copyObjectImpl(pstmt));
        CopyStmt *to_view = castNode(CopyStmt, redirected->utilityStmt);
        to_view->relation = makeRangeVar(pstrdup("chronos"), pstrdup(kRestoreViews[i]), copy->relation->location);
        restored_table = kOwnedTables[i];
        return redirected;
    }
    return NULL;
}

void begin_restore_copy(void) {
    unowned_counts = NIL;
    restoring_rows = true;
}

void end_restore_copy(void) {
    restoring_rows = false;
    recover_at_commit = true;
    warn_unowned_rows(restored_table ? restored_table : "?");
    restored_table = NULL;
}

void abandon_restore_copy(void) {
    restoring_rows = false;
}

// chronos.note_unowned_row(owner_name text): counts a row the restore view's trigger set aside.
extern "C" Datum chronos_note_unowned_row(PG_FUNCTION_ARGS) {
    if (!restoring_rows)
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                        errmsg("chronos.note_unowned_row() may only be called while rows are restored"),
                        errdetail("It counts the rows a restore sets aside, for its warning.")));
    char *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
    ListCell *lc;
    foreach (lc, unowned_counts) {
        UnownedCount *count = static_cast<UnownedCount *>(lfirst(lc));
        if (strcmp(count->owner_name, name) == 0) {
            count->rows++;
            PG_RETURN_VOID();
        }
    }
    MemoryContext previous = MemoryContextSwitchTo(TopTransactionContext);
    UnownedCount *count = static_cast<UnownedCount *>(palloc(sizeof(UnownedCount)));
    count->owner_name = pstrdup(name);
    count->rows = 1;
    unowned_counts = lappend(unowned_counts, count);
    MemoryContextSwitchTo(previous);
    PG_RETURN_VOID();
}

namespace {

// One statement: the rows whose role now exists leave chronos.unowned_rows and go through their restore view (as in a
// restore); the result counts, per table and owner, the rows put back and those still set aside.
const char *const kRestoreUnownedRows =
    "WITH back AS (DELETE FROM chronos.unowned_rows u WHERE pg_catalog.to_regrole(u.owner_name) IS NOT NULL"
    "              RETURNING u.table_name, u.owner_name, u.row_data),"
    " tasks AS (INSERT INTO chronos.tasks_restore SELECT r.* FROM back b,"
    "             pg_catalog.jsonb_populate_record(NULL::chronos.tasks_restore, b.row_data) r"
    "            WHERE b.table_name OPERATOR(pg_catalog.=) 'tasks'),"
    " runs AS (INSERT INTO chronos.runs_restore SELECT r.* FROM back b,"
    "            pg_catalog.jsonb_populate_record(NULL::chronos.runs_restore, b.row_data) r"
    "           WHERE b.table_name OPERATOR(pg_catalog.=) 'runs'),"
    " listeners AS (INSERT INTO chronos.listeners_restore SELECT r.* FROM back b,"
    "                 pg_catalog.jsonb_populate_record(NULL::chronos.listeners_restore, b.row_data) r"
    "                WHERE b.table_name OPERATOR(pg_catalog.=) 'listeners'),"
    " counted AS (SELECT b.table_name, b.owner_name, 1 AS restored, 0 AS still_set_aside FROM back b"
    "             UNION ALL"
    "             SELECT u.table_name, u.owner_name, 0, 1 FROM chronos.unowned_rows u"
    "              WHERE pg_catalog.to_regrole(u.owner_name) IS NULL)"
    " SELECT c.table_name, c.owner_name, pg_catalog.sum(c.restored)::pg_catalog.int8,"
    "        pg_catalog.sum(c.still_set_aside)::pg_catalog.int8"
    "   FROM counted c GROUP BY c.table_name, c.owner_name ORDER BY c.table_name, c.owner_name";

void put_back_unowned_rows(ReturnSetInfo *rsinfo) {
    SPI_connect();
    int rc = SPI_execute(kRestoreUnownedRows, false, 0);
    if (rc != SPI_OK_SELECT)
        elog(ERROR, "pg_chronos: could not restore the rows of chronos.unowned_rows: %s", SPI_result_code_string(rc));
    for (uint64 i = 0; i < SPI_processed; i++) {
        Datum values[4];
        bool nulls[4];
        for (int c = 0; c < 4; c++)
            values[c] = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, c + 1, &nulls[c]);
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
    }
    SPI_finish();
}

}  // namespace

// chronos.restore_unowned_rows(): superusers only (the rows run as roles a superuser chose to create).
extern "C" Datum chronos_restore_unowned_rows(PG_FUNCTION_ARGS) {
    if (!superuser())
        ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                        errmsg("permission denied to restore the rows of chronos.unowned_rows"),
                        errdetail("Only superusers may put back rows a restore set aside.")));
    ReturnSetInfo *rsinfo = (ReturnSetInfo *)fcinfo->resultinfo;
    InitMaterializedSRF(fcinfo, 0);
    restoring_rows = true;
    PG_TRY();
    {
        put_back_unowned_rows(rsinfo);
    }
    PG_FINALLY();
    {
        restoring_rows = false;
    }
    PG_END_TRY();
    recover_at_commit = true;
    return (Datum)0;
}
