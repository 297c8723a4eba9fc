// Commands that change which databases pg_chronos serves, or whose roles own tasks, seen through ProcessUtility_hook:
//   CREATE / ALTER EXTENSION pg_chronos   start service in the database once the transaction commits;
//   DROP EXTENSION pg_chronos             waits for the runs in progress, no new one starting (extension_drop.cpp);
//   CREATE DATABASE                       the new database is served from the commit on (its template may have tasks);
//   CREATE DATABASE … TEMPLATE src, ALTER DATABASE src RENAME / SET TABLESPACE
//                                         need src to themselves: src is quiesced (no new claims), its idle executors
//                                         leave, its runs in progress may finish for kRunWaitMs, else the command fails;
//   DROP DATABASE                         quiesces the database until commit and stops its runs in progress;
//   DROP ROLE, REASSIGN OWNED, DROP OWNED see role_events.cpp;
//   COPY … FROM into chronos.tasks, runs or listeners by a superuser (a restore) see restore_copy.cpp.
#include "extension_drop.hpp"
#include "restore_copy.hpp"
#include "role_events.hpp"
#include "shared_state.hpp"

extern "C" {
#include "access/xact.h"
#include "commands/dbcommands.h"
#include "commands/defrem.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
}

#include <signal.h>

namespace {

ProcessUtility_hook_type previous_hook = NULL;

// What the current transaction does to the service, applied when it commits (or undone when it aborts).
enum class ExtensionChange { none, serve, unserve };
ExtensionChange extension_change = ExtensionChange::none;
Oid created_database = InvalidOid;  // CREATE DATABASE: served from the commit on
Oid dropped_database = InvalidOid;  // DROP DATABASE: quiesced until the commit, then forgotten

// PostgreSQL waits 5 s for other sessions to leave a database it must have to itself; runs in progress get as long.
constexpr int kRunWaitMs = 5 * 1000;
// An idle executor of a quiesced database is woken and leaves by itself; one still there after this is stopped.
constexpr int kIdleGraceMs = 200;
// DROP DATABASE: how long the executors get to exit after SIGTERM.
constexpr int kTerminateTimeoutMs = 10 * 1000;
constexpr int kPollMs = 10;

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

const char *option_value(List *options, const char *name) {
    ListCell *lc;
    foreach (lc, options) {
        DefElem *option = lfirst_node(DefElem, lc);
        if (strcmp(option->defname, name) == 0)
            return defGetString(option);
    }
    return NULL;
}

// The database a command needs to have to itself, or NULL.
const char *database_to_quiesce(Node *stmt) {
    switch (nodeTag(stmt)) {
        case T_DropdbStmt:
            return castNode(DropdbStmt, stmt)->dbname;
        case T_CreatedbStmt: {
            const char *source = option_value(castNode(CreatedbStmt, stmt)->options, "template");
            return source ? source : "template1";
        }
        case T_AlterDatabaseStmt:
            // Only a move to another tablespace needs the database alone (not CONNECTION LIMIT, IS_TEMPLATE …).
            if (option_value(castNode(AlterDatabaseStmt, stmt)->options, "tablespace") != NULL)
                return castNode(AlterDatabaseStmt, stmt)->dbname;
            return NULL;
        case T_RenameStmt:
            if (castNode(RenameStmt, stmt)->renameType == OBJECT_DATABASE)
                return castNode(RenameStmt, stmt)->subname;
            return NULL;
        default:
            return NULL;
    }
}

// "12, 15 and 3 more" for the tasks the executors run.
char *task_list(const DatabaseExecutors *seen) {
    StringInfoData list;
    initStringInfo(&list);
    int shown = Min(seen->runs, 8);
    for (int i = 0; i < shown; i++)
        appendStringInfo(&list, "%s" INT64_FORMAT, i == 0 ? "" : ", ", seen->task_ids[i]);
    if (seen->runs > shown)
        appendStringInfo(&list, " and %d more", seen->runs - shown);
    return list.data;
}

// Ends the quiesce of `database`: the launcher starts executors there again, and, while a run that outlasted the
// quiesce still occupies one, another for the tasks that fall due meanwhile.
void allow_back(Oid database) {
    set_database_quiesced(database, false);
    wake_for_due_task(database, GetCurrentTimestamp());
}

// Waits until `database`, quiesced, has no executor: the idle ones are woken and leave (those still there after
// kIdleGraceMs are sent SIGTERM; holding no run permit, they run nothing). Runs in progress may finish for kRunWaitMs;
// then, when `stop_runs`, they are stopped (the database is being dropped), else the command fails.
void empty_database(Oid database, const char *name, bool stop_runs) {
    wake_database_executors(database);
    DatabaseExecutors seen;
    for (int waited = 0;; waited += kPollMs) {
        look_at_database_executors(database, &seen);
        if (seen.count == 0)
            return;
        if (waited >= kIdleGraceMs)
            for (int i = 0; i < seen.idle_count; i++)
                kill(seen.idle[i], SIGTERM);
        if (stop_runs && waited >= kIdleGraceMs) {
            if (seen.runs > 0)
                ereport(LOG, (errmsg("pg_chronos: stopping the run of task(s) %s in database \"%s\", which is "
                                     "being dropped",
                                     task_list(&seen), name)));
            if (!terminate_database_executors(database, kTerminateTimeoutMs))
                ereport(WARNING, (errmsg("pg_chronos: the workers of database \"%s\" did not stop within %d s", name,
                                         kTerminateTimeoutMs / 1000)));
            return;
        }
        if (waited >= kRunWaitMs && seen.runs > 0) {
            allow_back(database);
            ereport(ERROR, (errcode(ERRCODE_OBJECT_IN_USE),
                            errmsg("pg_chronos: database \"%s\" has a task run in progress", name),
                            errdetail("Task(s) %s of database \"%s\" were still running after %d s.",
                                      task_list(&seen), name, kRunWaitMs / 1000),
                            errhint("Wait for the run to finish, cancel it with chronos.cancel() in database \"%s\", "
                                    "or set chronos.enabled = off, and try again.",
                                    name)));
        }
        if (waited >= 2 * kRunWaitMs)
            return;  // executors that run nothing but do not leave: PostgreSQL reports the database as in use
        pg_usleep(kPollMs * 1000L);
        CHECK_FOR_INTERRUPTS();
    }
}

void apply_pending_change(XactEvent event, void *) {
    if (event == XACT_EVENT_COMMIT) {
        if (extension_change == ExtensionChange::serve)
            mark_database_served(MyDatabaseId, true);
        if (extension_change == ExtensionChange::unserve)
            wake_database_executors(MyDatabaseId);
        if (OidIsValid(created_database))
            mark_database_served(created_database, true);
        if (OidIsValid(dropped_database))
            forget_database(dropped_database);
    }
    if (event == XACT_EVENT_ABORT && OidIsValid(dropped_database))
        set_database_quiesced(dropped_database, false);
    if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT) {
        extension_change = ExtensionChange::none;
        created_database = InvalidOid;
        dropped_database = InvalidOid;
    }
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
    PlannedStmt *restore = redirected_restore_copy(pstmt);
    if (restore != NULL) {
        begin_restore_copy();
        PG_TRY();
        {
            run_utility(restore, query, false, context, params, env, dest, qc);
        }
        PG_CATCH();
        {
            abandon_restore_copy();
            PG_RE_THROW();
        }
        PG_END_TRY();
        end_restore_copy();
        return;
    }

    Node *stmt = pstmt->utilityStmt;
    if ((IsA(stmt, CreateExtensionStmt) && strcmp(castNode(CreateExtensionStmt, stmt)->extname, "pg_chronos") == 0) ||
        (IsA(stmt, AlterExtensionStmt) && strcmp(castNode(AlterExtensionStmt, stmt)->extname, "pg_chronos") == 0))
        extension_change = ExtensionChange::serve;
    if (IsA(stmt, DropStmt) && drops_pg_chronos(castNode(DropStmt, stmt))) {
        extension_change = ExtensionChange::unserve;
        wait_for_runs_before_drop();
    }

    RoleCommand role_command;
    if (begin_role_command(stmt, &role_command)) {
        run_utility(pstmt, query, read_only_tree, context, params, env, dest, qc);
        finish_role_command(stmt, &role_command);
        return;
    }

    const char *name = database_to_quiesce(stmt);
    Oid quiesce = name ? get_database_oid(name, true) : InvalidOid;
    if (!OidIsValid(quiesce)) {
        run_utility(pstmt, query, read_only_tree, context, params, env, dest, qc);
        if (IsA(stmt, CreatedbStmt))
            created_database = get_database_oid(castNode(CreatedbStmt, stmt)->dbname, true);
        return;
    }
    char *quiesced_name = pstrdup(name);
    bool dropping = IsA(stmt, DropdbStmt);
    set_database_quiesced(quiesce, true);
    if (dropping)
        dropped_database = quiesce;  // stays quiesced until the commit, so that no executor starts there meanwhile
    PG_TRY();
    {
        empty_database(quiesce, quiesced_name, dropping);
        run_utility(pstmt, query, read_only_tree, context, params, env, dest, qc);
    }
    PG_FINALLY();
    {
        if (!dropping)
            allow_back(quiesce);
    }
    PG_END_TRY();
    if (IsA(stmt, CreatedbStmt))
        created_database = get_database_oid(castNode(CreatedbStmt, stmt)->dbname, true);
}

}  // namespace

void install_database_events_hook(void) {
    previous_hook = ProcessUtility_hook;
    ProcessUtility_hook = chronos_process_utility;
    RegisterXactCallback(apply_pending_change, NULL);
    register_restore_callback();
}
