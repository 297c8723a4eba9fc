// Commands that change which databases pg_chronos serves, seen through ProcessUtility_hook:
//   CREATE EXTENSION pg_chronos, ALTER EXTENSION pg_chronos UPDATE
//                                 start service in the database once the transaction commits;
//   DROP EXTENSION pg_chronos     wakes its executors on commit, and they exit;
//   DROP DATABASE, ALTER DATABASE RENAME / SET TABLESPACE, CREATE DATABASE … TEMPLATE
//                                 need no other connection to the database: its executors are stopped first and are
//                                 allowed back afterwards (unless it was dropped).
#include "shared_state.hpp"

extern "C" {
#include "access/xact.h"
#include "commands/dbcommands.h"
#include "commands/defrem.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
}

namespace {

ProcessUtility_hook_type previous_hook = NULL;

enum class PendingChange { none, serve, unserve };
PendingChange pending_change = PendingChange::none;

constexpr int kQuiesceTimeoutMs = 10 * 1000;

bool names_pg_chronos(Node *object) {
    return IsA(object, String) && strcmp(strVal(object), "pg_chronos") == 0;
}

bool drops_pg_chronos(DropStmt *drop) {
    if (drop->removeType != OBJECT_EXTENSION)
        return false;
    ListCell *lc;
    foreach (lc, drop->objects)
        if (names_pg_chronos(static_cast<Node *>(lfirst(lc))))
            return true;
    return false;
}

const char *template_of(CreatedbStmt *create) {
    ListCell *lc;
    foreach (lc, create->options) {
        DefElem *option = lfirst_node(DefElem, lc);
        if (strcmp(option->defname, "template") == 0)
            return defGetString(option);
    }
    return "template1";
}

// The database a command needs to have to itself, or InvalidOid.
Oid database_to_quiesce(Node *stmt) {
    const char *name = NULL;
    switch (nodeTag(stmt)) {
        case T_DropdbStmt:
            name = castNode(DropdbStmt, stmt)->dbname;
            break;
        case T_CreatedbStmt:
            name = template_of(castNode(CreatedbStmt, stmt));
            break;
        case T_AlterDatabaseStmt:
            name = castNode(AlterDatabaseStmt, stmt)->dbname;
            break;
        case T_RenameStmt:
            if (castNode(RenameStmt, stmt)->renameType == OBJECT_DATABASE)
                name = castNode(RenameStmt, stmt)->subname;
            break;
        default:
            break;
    }
    return name ? get_database_oid(name, true) : InvalidOid;
}

void apply_pending_change(XactEvent event, void *) {
    if (event == XACT_EVENT_COMMIT && pending_change == PendingChange::serve)
        mark_database_served(MyDatabaseId, true);
    if (event == XACT_EVENT_COMMIT && pending_change == PendingChange::unserve)
        wake_database_executors(MyDatabaseId);
    if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT)
        pending_change = PendingChange::none;
}

void run_utility(PlannedStmt *pstmt, const char *query, bool read_only_tree, ProcessUtilityContext context,
                 ParamListInfo params, QueryEnvironment *env, DestReceiver *dest, QueryCompletion *qc) {
    if (previous_hook)
        previous_hook(pstmt, query, read_only_tree, context, params, env, dest, qc);
    else
        standard_ProcessUtility(pstmt, query, read_only_tree, context, params, env, dest, qc);
}

void chronos_process_utility(PlannedStmt *pstmt, const char *query, bool read_only_tree, ProcessUtilityContext context,
                             ParamListInfo params, QueryEnvironment *env, DestReceiver *dest, QueryCompletion *qc) {
    Node *stmt = pstmt->utilityStmt;
    if ((IsA(stmt, CreateExtensionStmt) && strcmp(castNode(CreateExtensionStmt, stmt)->extname, "pg_chronos") == 0) ||
        (IsA(stmt, AlterExtensionStmt) && strcmp(castNode(AlterExtensionStmt, stmt)->extname, "pg_chronos") == 0))
        pending_change = PendingChange::serve;
    if (IsA(stmt, DropStmt) && drops_pg_chronos(castNode(DropStmt, stmt)))
        pending_change = PendingChange::unserve;

    Oid quiesce = database_to_quiesce(stmt);
    if (!OidIsValid(quiesce)) {
        run_utility(pstmt, query, read_only_tree, context, params, env, dest, qc);
        return;
    }
    set_database_quiesced(quiesce, true);
    terminate_database_executors(quiesce, kQuiesceTimeoutMs);
    PG_TRY();
    {
        run_utility(pstmt, query, read_only_tree, context, params, env, dest, qc);
    }
    PG_FINALLY();
    {
        set_database_quiesced(quiesce, false);
    }
    PG_END_TRY();
    if (IsA(stmt, DropdbStmt))
        mark_database_served(quiesce, false);
    if (IsA(stmt, CreatedbStmt)) {
        Oid created = get_database_oid(castNode(CreatedbStmt, stmt)->dbname, true);
        if (OidIsValid(created))
            mark_database_served(created, true);
    }
}

}  // namespace

void install_database_events_hook(void) {
    previous_hook = ProcessUtility_hook;
    ProcessUtility_hook = chronos_process_utility;
    RegisterXactCallback(apply_pending_change, NULL);
}
