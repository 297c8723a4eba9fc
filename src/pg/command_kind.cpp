// Classifies a task's command from PostgreSQL's raw parse trees (no catalog access, so it is cheap and safe in a trigger).
#include "command_kind.hpp"

extern "C" {
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
        case T_TransactionStmt:
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
            *kind = {1, false, NULL, plain[1]};
            return true;
        }
    }
    return false;
}

CommandKind classify_command(const char *command) {
    CommandKind kind = {0, false, NULL, NULL};
    List *trees = raw_parser(command, RAW_PARSE_DEFAULT);
    ListCell *lc;
    foreach (lc, trees) {
        Node *stmt = lfirst_node(RawStmt, lc)->stmt;
        kind.statements++;
        kind.last_tag = GetCommandTagName(CreateCommandTag(stmt));
        if (!kind.needs_top_level && needs_top_level(stmt)) {
            kind.needs_top_level = true;
            kind.top_level_reason = kind.last_tag;
        }
    }
    return kind;
}
