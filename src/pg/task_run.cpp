// Running one task's command as its owner. Functions here keep only plain data on their frames: PG_TRY/PG_CATCH and the
// subtransaction calls may longjmp.
#include "task_run.hpp"

extern "C" {
#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_db_role_setting.h"
#include "commands/async.h"
#include "commands/prepare.h"
#include "commands/sequence.h"
#include "executor/spi.h"
#include "parser/analyze.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/lock.h"
#include "tcop/pquery.h"
#include "tcop/tcopprot.h"
#include "tcop/utility.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
}

namespace {

// The owner's ALTER ROLE … SET settings (for this database and for all), as a login as the owner would apply them.
void apply_owner_settings(Oid owner) {
    Relation settings = table_open(DbRoleSettingRelationId, AccessShareLock);
    Snapshot snapshot = RegisterSnapshot(GetCatalogSnapshot(DbRoleSettingRelationId));
    ApplySetting(snapshot, MyDatabaseId, owner, settings, PGC_S_SESSION);
    ApplySetting(snapshot, InvalidOid, owner, settings, PGC_S_SESSION);
    UnregisterSnapshot(snapshot);
    table_close(settings, AccessShareLock);
}

char *error_text(ErrorData *edata) {
    return psprintf("%s: %s", unpack_sql_state(edata->sqlerrcode), edata->message);
}

// Copies the current error into `out` (allocated in `context`) and clears it.
void take_error(MemoryContext context, RunOutcome *out) {
    MemoryContextSwitchTo(context);
    ErrorData *edata = CopyErrorData();
    FlushErrorState();
    out->succeeded = false;
    out->error = error_text(edata);
    out->result = NULL;
    FreeErrorData(edata);
}

char *result_text(const char *tag, int spi_result, uint64 rows) {
    switch (spi_result) {
        case SPI_OK_SELECT:
        case SPI_OK_SELINTO:
        case SPI_OK_INSERT:
        case SPI_OK_DELETE:
        case SPI_OK_UPDATE:
        case SPI_OK_INSERT_RETURNING:
        case SPI_OK_DELETE_RETURNING:
        case SPI_OK_UPDATE_RETURNING:
#ifdef SPI_OK_MERGE
        case SPI_OK_MERGE:
#endif
            return psprintf("%s " UINT64_FORMAT, tag, rows);
        default:
            return pstrdup(tag);
    }
}

}  // namespace

void run_in_transaction(const char *command, Oid owner, const char *last_tag, RunOutcome *out) {
    MemoryContext caller_context = CurrentMemoryContext;
    ResourceOwner caller_owner = CurrentResourceOwner;
    Oid saved_user;
    int saved_security;
    GetUserIdAndSecContext(&saved_user, &saved_security);
    int guc_level = NewGUCNestLevel();

    BeginInternalSubTransaction(NULL);
    MemoryContextSwitchTo(caller_context);
    PG_TRY();
    {
        SetUserIdAndSecContext(owner, saved_security | SECURITY_LOCAL_USERID_CHANGE);
        apply_owner_settings(owner);
        int rc = SPI_execute(command, false, 0);
        uint64 rows = SPI_processed;
        ReleaseCurrentSubTransaction();
        MemoryContextSwitchTo(caller_context);
        CurrentResourceOwner = caller_owner;
        out->succeeded = true;
        out->error = NULL;
        out->result = result_text(last_tag, rc, rows);
    }
    PG_CATCH();
    {
        take_error(caller_context, out);
        RollbackAndReleaseCurrentSubTransaction();
        MemoryContextSwitchTo(caller_context);
        CurrentResourceOwner = caller_owner;
    }
    PG_END_TRY();
    SetUserIdAndSecContext(saved_user, saved_security);
    AtEOXact_GUC(false, guc_level);
}

void run_at_top_level(const char *command, Oid owner, RunOutcome *out) {
    MemoryContext caller_context = CurrentMemoryContext;
    Oid saved_user;
    int saved_security;
    GetUserIdAndSecContext(&saved_user, &saved_security);
    out->succeeded = true;
    out->error = NULL;
    out->result = NULL;

    PG_TRY();
    {
        SetCurrentStatementStartTimestamp();
        StartTransactionCommand();
        SetUserIdAndSecContext(owner, saved_security | SECURITY_LOCAL_USERID_CHANGE);
        apply_owner_settings(owner);
        MemoryContextSwitchTo(caller_context);
        List *trees = pg_parse_query(command);
        ListCell *lc;
        foreach (lc, trees) {
            RawStmt *tree = lfirst_node(RawStmt, lc);
            if (!IsTransactionState()) {
                SetCurrentStatementStartTimestamp();
                StartTransactionCommand();
            }
            MemoryContextSwitchTo(caller_context);
            CommandTag tag = CreateCommandTag(tree->stmt);
            bool snapshot_set = analyze_requires_snapshot(tree);
            if (snapshot_set)
                PushActiveSnapshot(GetTransactionSnapshot());
#if PG_VERSION_NUM >= 150000
            List *queries = pg_analyze_and_rewrite_fixedparams(tree, command, NULL, 0, NULL);
#else
            List *queries = pg_analyze_and_rewrite(tree, command, NULL, 0, NULL);
#endif
            List *plans = pg_plan_queries(queries, command, CURSOR_OPT_PARALLEL_OK, NULL);
            if (snapshot_set)
                PopActiveSnapshot();

            Portal portal = CreatePortal("", true, true);
            portal->visible = false;
            PortalDefineQuery(portal, NULL, command, tag, plans, NULL);
            PortalStart(portal, NULL, 0, InvalidSnapshot);
            DestReceiver *receiver = CreateDestReceiver(DestNone);
            QueryCompletion completion;
            InitializeQueryCompletion(&completion);
            (void)PortalRun(portal, FETCH_ALL, true, true, receiver, receiver, &completion);
            receiver->rDestroy(receiver);
            PortalDrop(portal, false);
            CommitTransactionCommand();

            MemoryContextSwitchTo(caller_context);
            out->result = command_tag_display_rowcount(completion.commandTag)
                              ? psprintf("%s " UINT64_FORMAT, GetCommandTagName(completion.commandTag),
                                         completion.nprocessed)
                              : pstrdup(GetCommandTagName(completion.commandTag));
        }
        SetUserIdAndSecContext(saved_user, saved_security);
    }
    PG_CATCH();
    {
        take_error(caller_context, out);
        AbortCurrentTransaction();
        MemoryContextSwitchTo(caller_context);
        SetUserIdAndSecContext(saved_user, saved_security);
    }
    PG_END_TRY();
    if (IsTransactionState())
        CommitTransactionCommand();
    MemoryContextSwitchTo(caller_context);
}

void reset_session_state_in_transaction(bool settings) {
    if (settings)
        ResetAllOptions();
    ResetTempTableNamespace();
    DropAllPreparedStatements();
    Async_UnlistenAll();
}

void reset_session_state_after_commit(void) {
    LockReleaseAll(USER_LOCKMETHOD, true);
    ResetSequenceCaches();
}
