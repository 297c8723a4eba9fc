// Commands that change which databases pg_chronos serves, or whose roles own tasks, seen through ProcessUtility_hook:
//   CREATE / ALTER EXTENSION pg_chronos   start service in the database once the transaction commits;
//   DROP EXTENSION pg_chronos             waits for the runs in progress, no new one starting (extension_drop.cpp);
//   CREATE DATABASE                       the new database is served from the commit on (its template may have tasks);
//   CREATE DATABASE … TEMPLATE src, ALTER DATABASE src RENAME / SET TABLESPACE
//                                         need src to themselves: src is quiesced (no new claims), its idle executors
//                                         leave, its runs in progress may finish for kRunWaitMs, else the command fails;
//   DROP DATABASE                         quiesces the database until commit and stops its runs in progress;
// pg_chronos acts only for a command PostgreSQL will let the caller run: the privilege checks PostgreSQL makes come
// first (command_allowed), and what happens at commit is noted only once the command has succeeded.
//   DROP ROLE, REASSIGN OWNED, DROP OWNED see role_commands.cpp;
//   COPY … FROM into chronos.tasks, runs or listeners by a superuser (a restore) see restore_copy.cpp.
#include "pg/utility/utility_hook.hpp"

#include "pg/utility/extension_drop.hpp"
#include "pg/utility/restore_copy.hpp"
#include "pg/utility/role_commands.hpp"
#include "pg/workers/database_table.hpp"
#include "pg/workers/executor_slots.hpp"

extern "C" {
#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_database.h"
#include "commands/dbcommands.h"
#include "commands/defrem.h"
#include "commands/extension.h"
#include "commands/tablespace.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
}

#include <signal.h>

namespace {

ProcessUtility_hook_type previous_hook = NULL;

// What the current transaction does to the service, applied when it commits (or undone when it aborts).
enum class ExtensionChange { none, serve, unserve };
ExtensionChange extension_change = ExtensionChange::none;
int extension_change_level = 0;  // the transaction nest level whose command made it
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

// "12, 15 and 3 more" for the runs of tasks whose owner the caller is a member of; the runs of other roles' tasks are
// only counted ("2 runs of other roles' tasks").
char *task_list(const DatabaseExecutors *seen) {
    StringInfoData list;
    initStringInfo(&list);
    int listed = 0, others = 0, shown = Min(seen->runs, 8);
    for (int i = 0; i < shown; i++) {
        if (!is_member_of_role(GetUserId(), seen->run_owners[i])) {
            others++;
            continue;
        }
        appendStringInfo(&list, "%s" INT64_FORMAT, listed++ == 0 ? "task " : ", ", seen->task_ids[i]);
    }
    if (seen->runs > shown)
        appendStringInfo(&list, "%s%d more runs", listed > 0 ? " and " : "", seen->runs - shown);
    else if (others > 0)
        appendStringInfo(&list, "%s%d %s of other roles' tasks", listed > 0 ? " and " : "", others,
                         others == 1 ? "run" : "runs");
    return list.data;
}

// "12, 15 and 3 more": every task of the runs, for the server log.
char *logged_task_list(const DatabaseExecutors *seen) {
    StringInfoData list;
    initStringInfo(&list);
    int shown = Min(seen->runs, 8);
    for (int i = 0; i < shown; i++)
        appendStringInfo(&list, "%s" INT64_FORMAT, i == 0 ? "" : ", ", seen->task_ids[i]);
    if (seen->runs > shown)
        appendStringInfo(&list, " and %d more", seen->runs - shown);
    return list.data;
}

// Whether the database command `stmt` on `database` would pass the checks PostgreSQL makes before it acts (privileges,
// the current database, templates, names, transaction blocks): a command PostgreSQL refuses must not quiesce or stop
// anything first.
bool command_allowed(Node *stmt, ProcessUtilityContext context, Oid database) {
    bool top_level = context == PROCESS_UTILITY_TOPLEVEL && !IsTransactionBlock();
    HeapTuple tuple = SearchSysCache1(DATABASEOID, ObjectIdGetDatum(database));
    if (!HeapTupleIsValid(tuple))
        return false;
    bool is_template = ((Form_pg_database)GETSTRUCT(tuple))->datistemplate;
    ReleaseSysCache(tuple);
    bool owner = pg_database_ownercheck(database, GetUserId());
    switch (nodeTag(stmt)) {
        case T_DropdbStmt:
            return top_level && owner && !is_template && database != MyDatabaseId;
        case T_CreatedbStmt:
            return top_level && have_createdb_privilege() && (is_template || owner) &&
                   !OidIsValid(get_database_oid(castNode(CreatedbStmt, stmt)->dbname, true));
        case T_AlterDatabaseStmt: {
            Oid space = get_tablespace_oid(option_value(castNode(AlterDatabaseStmt, stmt)->options, "tablespace"),
                                           true);
            return top_level && owner && database != MyDatabaseId && OidIsValid(space) &&
                   pg_tablespace_aclcheck(space, GetUserId(), ACL_CREATE) == ACLCHECK_OK;
        }
        case T_RenameStmt:
            return owner && have_createdb_privilege() && database != MyDatabaseId &&
                   !OidIsValid(get_database_oid(castNode(RenameStmt, stmt)->newname, true));
        default:
            return false;
    }
}

// Whether DROP EXTENSION `drop` will be allowed to drop pg_chronos: the caller owns every extension it names, and
// each exists (or IF EXISTS is given). Objects depending on them may still make PostgreSQL refuse it: then the
// transaction (or savepoint) aborts, which ends the quiesce (extension_drop.cpp).
bool extension_drop_allowed(DropStmt *drop) {
    ListCell *lc;
    foreach (lc, drop->objects) {
        Node *object = static_cast<Node *>(lfirst(lc));
        if (!IsA(object, String))
            return false;
        Oid extension = get_extension_oid(strVal(object), true);
        if (!OidIsValid(extension) ? !drop->missing_ok : !pg_extension_ownercheck(extension, GetUserId()))
            return false;
    }
    return true;
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
                                     logged_task_list(&seen), name)));
            if (!terminate_database_executors(database, kTerminateTimeoutMs))
                ereport(WARNING, (errmsg("pg_chronos: the workers of database \"%s\" did not stop within %d s", name,
                                         kTerminateTimeoutMs / 1000)));
            return;
        }
        if (waited >= kRunWaitMs && seen.runs > 0) {
            allow_back(database);
            ereport(ERROR, (errcode(ERRCODE_OBJECT_IN_USE),
                            errmsg("pg_chronos: database \"%s\" has a task run in progress", name),
                            errdetail("In database \"%s\", %s were still running after %d s.", name,
                                      task_list(&seen), kRunWaitMs / 1000),
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

// A CREATE, ALTER or DROP EXTENSION pg_chronos that succeeded: applied when the transaction commits, forgotten if the
// savepoint it ran in is rolled back.
void note_extension_change(ExtensionChange change) {
    extension_change = change;
    extension_change_level = GetCurrentTransactionNestLevel();
}

void forget_rolled_back_change(SubXactEvent event, SubTransactionId, SubTransactionId, void *) {
    int level = GetCurrentTransactionNestLevel();
    if (extension_change == ExtensionChange::none || extension_change_level < level)
        return;
    if (event == SUBXACT_EVENT_ABORT_SUB)
        extension_change = ExtensionChange::none;
    else if (event == SUBXACT_EVENT_COMMIT_SUB)
        extension_change_level = level - 1;
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
    bool serves = (IsA(stmt, CreateExtensionStmt) &&
                   strcmp(castNode(CreateExtensionStmt, stmt)->extname, "pg_chronos") == 0) ||
                  (IsA(stmt, AlterExtensionStmt) &&
                   strcmp(castNode(AlterExtensionStmt, stmt)->extname, "pg_chronos") == 0);
    bool unserves = IsA(stmt, DropStmt) && drops_pg_chronos(castNode(DropStmt, stmt));
    if (serves || unserves) {
        if (unserves && extension_drop_allowed(castNode(DropStmt, stmt)))
            wait_for_runs_before_drop();
        run_utility(pstmt, query, read_only_tree, context, params, env, dest, qc);
        note_extension_change(serves ? ExtensionChange::serve : ExtensionChange::unserve);
        return;
    }

    RoleCommand role_command;
    if (begin_role_command(stmt, &role_command)) {
        run_utility(pstmt, query, read_only_tree, context, params, env, dest, qc);
        finish_role_command(stmt, &role_command);
        return;
    }

    const char *name = database_to_quiesce(stmt);
    Oid quiesce = name ? get_database_oid(name, true) : InvalidOid;
    if (!OidIsValid(quiesce) || !command_allowed(stmt, context, quiesce)) {
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

void install_utility_hook(void) {
    previous_hook = ProcessUtility_hook;
    ProcessUtility_hook = chronos_process_utility;
    RegisterXactCallback(apply_pending_change, NULL);
    RegisterSubXactCallback(forget_rolled_back_change, NULL);
    register_restore_callback();
}
