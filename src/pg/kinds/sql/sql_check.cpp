// Classifies a task's command from PostgreSQL's raw parse trees (no catalog access, so it is cheap and safe in a trigger).
#include "pg/kinds/sql/sql_check.hpp"

#include "pg/bridge/core_error.hpp"

extern "C" {
#include "utils/memutils.h"
#include "nodes/parsenodes.h"
#include "parser/parser.h"
#include "tcop/cmdtag.h"
#include "tcop/utility.h"
}

namespace {

bool has_concurrently_option(List *params) {
    ListCell *lc;
    foreach (lc, params) {
        DefElem *opt = lfirst_node(DefElem, lc);
        if (strcmp(opt->defname, "concurrently") == 0)
            return true;
    }
    return false;
}

// Statements PostgreSQL refuses inside a transaction block, or that end transactions themselves.
bool needs_top_level(Node *stmt) {
    switch (nodeTag(stmt)) {
        case T_VacuumStmt:
            return castNode(VacuumStmt, stmt)->is_vacuumcmd;
        case T_IndexStmt:
            return castNode(IndexStmt, stmt)->concurrent;
        case T_ReindexStmt: {
            ReindexStmt *reindex = castNode(ReindexStmt, stmt);
            bool one_relation = reindex->kind == REINDEX_OBJECT_INDEX || reindex->kind == REINDEX_OBJECT_TABLE;
            return !one_relation || has_concurrently_option(reindex->params);
        }
        case T_DropStmt:
            return castNode(DropStmt, stmt)->concurrent;
        case T_ClusterStmt:
            return castNode(ClusterStmt, stmt)->relation == NULL;
        case T_DiscardStmt:
            return castNode(DiscardStmt, stmt)->target == DISCARD_ALL;
        case T_CallStmt:
        case T_TransactionStmt:  // refused (see transaction_control), but never inside a transaction block
        case T_CreatedbStmt:
        case T_DropdbStmt:
        case T_AlterSystemStmt:
        case T_CreateTableSpaceStmt:
        case T_DropTableSpaceStmt:
        case T_CreateSubscriptionStmt:
        case T_AlterSubscriptionStmt:
        case T_DropSubscriptionStmt:
            return true;
        default:
            return false;
    }
}

// The statement as written, for the message refusing it: END and ABORT parse as COMMIT and ROLLBACK.
const char *transaction_statement_name(const TransactionStmt *stmt, const char *source) {
    switch (stmt->kind) {
        case TRANS_STMT_BEGIN:
            return "BEGIN";
        case TRANS_STMT_START:
            return "START TRANSACTION";
        case TRANS_STMT_COMMIT:
            return pg_strncasecmp(source, "end", 3) == 0 ? "END" : "COMMIT";
        case TRANS_STMT_ROLLBACK:
            return pg_strncasecmp(source, "abort", 5) == 0 ? "ABORT" : "ROLLBACK";
        case TRANS_STMT_SAVEPOINT:
            return "SAVEPOINT";
        case TRANS_STMT_RELEASE:
            return "RELEASE SAVEPOINT";
        case TRANS_STMT_ROLLBACK_TO:
            return "ROLLBACK TO SAVEPOINT";
        case TRANS_STMT_PREPARE:
            return "PREPARE TRANSACTION";
        case TRANS_STMT_COMMIT_PREPARED:
            return "COMMIT PREPARED";
        case TRANS_STMT_ROLLBACK_PREPARED:
            return "ROLLBACK PREPARED";
    }
    return "transaction control";
}

}  // namespace

bool classify_plain_statement(const char *command, CommandKind *kind) {
    static const char *const kPlain[][2] = {{"select", "SELECT"}, {"insert", "INSERT"}, {"update", "UPDATE"},
                                            {"delete", "DELETE"}, {"merge", "MERGE"},   {"with", NULL},
                                            {"values", "SELECT"}, {"table", "SELECT"}};
    const char *p = command;
    while (isspace((unsigned char)*p))
        p++;
    const char *word = p;
    while (isalpha((unsigned char)*p))
        p++;
    size_t length = p - word;
    if (length == 0 || !(isspace((unsigned char)*p) || *p == '('))
        return false;
    const char *semicolon = strchr(p, ';');
    if (strstr(p, "--") || strstr(p, "/*") || (semicolon && strspn(semicolon + 1, " \t\r\n") != strlen(semicolon + 1)))
        return false;
    for (const auto &plain : kPlain) {
        if (strlen(plain[0]) == length && pg_strncasecmp(word, plain[0], length) == 0) {
            *kind = {1, false, NULL, plain[1], false, NULL};
            return true;
        }
    }
    return false;
}

namespace {

CommandKind classify_parsed(const char *command) {
    CommandKind kind = {0, false, NULL, NULL, false, NULL};
    List *trees = raw_parser(command, RAW_PARSE_DEFAULT);
    ListCell *lc;
    foreach (lc, trees) {
        RawStmt *raw = lfirst_node(RawStmt, lc);
        Node *stmt = raw->stmt;
        kind.statements++;
        kind.last_tag = GetCommandTagName(CreateCommandTag(stmt));
        if (!kind.needs_top_level && needs_top_level(stmt)) {
            kind.needs_top_level = true;
            kind.top_level_reason = kind.last_tag;
        }
        if (!kind.transaction_control && IsA(stmt, TransactionStmt)) {
            kind.transaction_control = true;
            const char *source = command + raw->stmt_location;
            while (isspace((unsigned char)*source))
                source++;
            kind.transaction_control_tag = transaction_statement_name(castNode(TransactionStmt, stmt), source);
        }
    }
    return kind;
}

// The command as the other setting of standard_conforming_strings reads it; false when that reading is not valid SQL.
bool classify_other_reading(const char *command, CommandKind *kind) {
    MemoryContext context = CurrentMemoryContext;
    bool saved = standard_conforming_strings;
    bool saved_warning = escape_string_warning;  // the other reading is not the writer's: no warning of it
    volatile bool parsed = false;
    standard_conforming_strings = !saved;
    escape_string_warning = false;
    PG_TRY();
    {
        *kind = classify_parsed(command);
        parsed = true;
    }
    PG_CATCH();
    {
        standard_conforming_strings = saved;
        escape_string_warning = saved_warning;
        MemoryContextSwitchTo(context);
        FlushErrorState();
    }
    PG_END_TRY();
    standard_conforming_strings = saved;
    escape_string_warning = saved_warning;
    return parsed;
}

}  // namespace

CommandKind classify_command(const char *command) {
    CommandKind kind = classify_parsed(command);
    // Backslashes in quoted strings are read one way or the other depending on standard_conforming_strings, which a
    // writer's session, and a run's owner's login settings, may turn off: what either reading finds counts.
    CommandKind other;
    if (strchr(command, '\\') != NULL && classify_other_reading(command, &other)) {
        if (other.needs_top_level && !kind.needs_top_level) {
            kind.needs_top_level = true;
            kind.top_level_reason = other.top_level_reason;
        }
        if (other.transaction_control && !kind.transaction_control) {
            kind.transaction_control = true;
            kind.transaction_control_tag = other.transaction_control_tag;
        }
    }
    return kind;
}

void refuse_transaction_control(const char *column, const CommandKind *kind) {
    ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                    errmsg("task %s cannot use %s", column, kind->transaction_control_tag),
                    errdetail("The worker begins and ends the transactions a task runs in; transaction control "
                              "statements (BEGIN, START TRANSACTION, COMMIT, END, ROLLBACK, ABORT, SAVEPOINT, "
                              "RELEASE, PREPARE TRANSACTION, COMMIT PREPARED, ROLLBACK PREPARED) are not allowed in "
                              "a task's %s.",
                              column),
                    errhint("Put the statements in a procedure that uses COMMIT and CALL it.")));
}

char *transaction_control_refusal(const char *column, const CommandKind *kind) {
    return psprintf("0A000: task %s cannot use %s; put the statements in a procedure that uses COMMIT and CALL it",
                    column, kind->transaction_control_tag);
}

namespace {

bool is_blank(const char *s) {
    for (; *s; s++)
        if (!isspace((unsigned char)*s))
            return false;
    return true;
}

// Where in the parsed text a syntax error is. When the row is written from inside a function, PostgreSQL's error
// context callbacks have moved the position from cursorpos to internalpos.
int error_position(const ErrorData *error) {
    return error->cursorpos > 0 ? error->cursorpos : error->internalpos;
}

bool classify_for_run(const ClaimedTask *task, CommandKind *kind, RunOutcome *failure) {
    if (classify_plain_statement(task->command, kind))
        return true;
    MemoryContext context = CurrentMemoryContext;
    volatile bool parsed = false;
    PG_TRY();
    {
        *kind = classify_command(task->command);
        parsed = true;
    }
    PG_CATCH();
    {
        MemoryContextSwitchTo(context);
        ErrorData *edata = CopyErrorData();
        FlushErrorState();
        failure->succeeded = false;
        failure->error = psprintf("%s: %s", unpack_sql_state(edata->sqlerrcode), edata->message);
        failure->result = NULL;
    }
    PG_END_TRY();
    if (parsed && kind->transaction_control) {
        // Refused when written; a row written before 1.1, or with the trigger disabled, is refused here.
        failure->succeeded = false;
        failure->error = transaction_control_refusal("command", kind);
        failure->result = NULL;
        return false;
    }
    return parsed;
}

}  // namespace

void check_sql_command(const char *column, const char *command, const char *transactional) {
    if (is_blank(command))
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("task %s is empty", column),
                        errhint("Give one or more SQL statements, for example 'VACUUM ANALYZE my_table'.")));
    MemoryContext context = CurrentMemoryContext;
    ErrorData *volatile syntax_error = NULL;
    CommandKind kind = {0, false, NULL, NULL, false, NULL};
    PG_TRY();
    {
        kind = classify_command(command);
    }
    PG_CATCH();
    {
        MemoryContextSwitchTo(context);
        syntax_error = CopyErrorData();
        FlushErrorState();
    }
    PG_END_TRY();
    if (syntax_error != NULL)
        ereport(ERROR, (errcode(syntax_error->sqlerrcode), errmsg("invalid task %s: %s", column, syntax_error->message),
                        error_position(syntax_error) > 0
                            ? errdetail("The error is at character %d of the %s.", error_position(syntax_error), column)
                            : 0,
                        errhint("Check the command in psql first; separate statements with semicolons.")));
    if (kind.statements == 0)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("task %s has no statement", column),
                        errhint("Give one or more SQL statements, for example 'VACUUM ANALYZE my_table'.")));
    if (kind.transaction_control)
        refuse_transaction_control(column, &kind);
    if (transactional != NULL && strcmp(transactional, "t") == 0 && kind.needs_top_level)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("task %s cannot run in a transaction", column),
                        errdetail("%s cannot run inside a transaction block.", kind.top_level_reason),
                        strcmp(column, "command") == 0
                            ? errhint("Set transactional to NULL (decided from the command) or to false.")
                            : errhint("on_failure runs in the transaction that records the failure; use a statement "
                                      "that can run in a transaction.")));
}

void check_sql_task(const TaskWrite *row) {
    check_sql_command(row->column, row->command, row->transactional);
}

// Whether the command runs in one transaction with its bookkeeping; a command that does not parse, or holds
// transaction control, fails its run.
bool plan_sql_run(const ClaimedTask *task, RunPlan *plan, RunOutcome *failure) {
    CommandKind kind;
    bool runnable = classify_for_run(task, &kind, failure);
    plan->transactional = !runnable || (task->transactional >= 0 ? task->transactional == 1 : !kind.needs_top_level);
    plan->last_tag = runnable ? kind.last_tag : NULL;
    plan->detail = NULL;
    return runnable;
}
