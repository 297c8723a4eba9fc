// Tasks and listeners follow their owner role through PostgreSQL's role commands, the way the objects a role owns do:
// DROP ROLE is refused while the role owns any here, REASSIGN OWNED moves them to the new role, DROP OWNED deletes them
// (their runs stay in the history). Each database is its own, as for PostgreSQL's objects. See role_commands.hpp.
#include "pg/utility/role_commands.hpp"

#include "pg/run/run_statements.hpp"
#include "pg/catalog/columns.hpp"

extern "C" {
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
}

namespace {

// The tables whose rows belong to a role through their "owner" column.
const char *const kOwnedTables[] = {"tasks", "listeners"};
constexpr int kOwnedTableCount = 2;

bool extension_here(void) {
    return OidIsValid(get_extension_oid("pg_chronos", true));
}

// The number of the "owner" column of `rel` when it holds role OIDs (regrole); InvalidAttrNumber otherwise (a catalog
// older than the library, or a table without owners).
AttrNumber owner_column(Relation rel) {
    TupleDesc desc = RelationGetDescr(rel);
    for (int i = 0; i < desc->natts; i++) {
        Form_pg_attribute attr = TupleDescAttr(desc, i);
        if (!attr->attisdropped && strcmp(NameStr(attr->attname), "owner") == 0)
            return attr->atttypid == REGROLEOID || attr->atttypid == OIDOID ? attr->attnum : InvalidAttrNumber;
    }
    return InvalidAttrNumber;
}

// Adds to counts[i] the rows of chronos.`table` owned by roles[i]. It reads the table itself, with the latest snapshot,
// so that every row counts: row-level security and the caller's rights do not apply.
void count_owned_rows(const char *table, int count, const Oid *roles, int64 *counts) {
    Oid relid = chronos_relation(table);
    if (!OidIsValid(relid))
        return;
    Relation rel = table_open(relid, AccessShareLock);
    AttrNumber column = owner_column(rel);
    if (column != InvalidAttrNumber) {
        Snapshot snapshot = RegisterSnapshot(GetLatestSnapshot());
        TableScanDesc scan = table_beginscan(rel, snapshot, 0, NULL);
        TupleTableSlot *slot = table_slot_create(rel, NULL);
        while (table_scan_getnextslot(scan, ForwardScanDirection, slot)) {
            bool isnull;
            Oid owner = DatumGetObjectId(slot_getattr(slot, column, &isnull));
            for (int i = 0; i < count && !isnull; i++)
                if (roles[i] == owner)
                    counts[i]++;
        }
        ExecDropSingleTupleTableSlot(slot);
        table_endscan(scan);
        UnregisterSnapshot(snapshot);
    }
    table_close(rel, AccessShareLock);
}

// "3 tasks", "1 listener".
char *counted(int64 n, const char *noun) {
    return psprintf(INT64_FORMAT " %s%s", n, noun, n == 1 ? "" : "s");
}

void refuse_drop_of_owners(const RoleCommand *before) {
    if (before->count == 0 || !extension_here())
        return;
    int64 *tasks = static_cast<int64 *>(palloc0(sizeof(int64) * before->count));
    int64 *listeners = static_cast<int64 *>(palloc0(sizeof(int64) * before->count));
    count_owned_rows("tasks", before->count, before->roles, tasks);
    count_owned_rows("listeners", before->count, before->roles, listeners);
    for (int i = 0; i < before->count; i++) {
        if (tasks[i] == 0 && listeners[i] == 0)
            continue;
        const char *role = quote_identifier(before->names[i]);
        const char *owned = tasks[i] == 0       ? counted(listeners[i], "listener")
                            : listeners[i] == 0 ? counted(tasks[i], "task")
                                                : psprintf("%s and %s", counted(tasks[i], "task"),
                                                           counted(listeners[i], "listener"));
        ereport(ERROR,
                (errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
                 errmsg("role \"%s\" cannot be dropped because it owns pg_chronos %s", before->names[i],
                        tasks[i] > 0 ? "tasks" : "listeners"),
                 errdetail("%s in database \"%s\".", owned, get_database_name(MyDatabaseId)),
                 errhint("Use REASSIGN OWNED BY %s TO another role or DROP OWNED BY %s first (in every database that "
                         "has pg_chronos), or delete the tasks.",
                         role, role)));
    }
}

// Runs `sql_format` for each table ($1: the old owner, $2: the new one, both regrole; $2 may go unused) on every owned table of this database that has an owner column. The statements run
// through SPI as the owner of the table, the way PostgreSQL runs maintenance as a table owner: as a security-restricted
// operation, with a pinned search_path, which row-level security does not filter (the table owner is exempt), with the
// workers' bookkeeping flag set so that the validation trigger lets the owner change through (PostgreSQL has already
// checked that the caller may act for both roles). Nothing runs with the caller's rights or a superuser's.
void write_owned_rows(const char *sql_format, Oid from, Oid to) {
    for (int t = 0; t < kOwnedTableCount; t++) {
        Oid relid = chronos_relation(kOwnedTables[t]);
        if (!OidIsValid(relid))
            continue;
        Relation rel = table_open(relid, AccessShareLock);
        bool has_owner = owner_column(rel) != InvalidAttrNumber;
        Oid table_owner = rel->rd_rel->relowner;
        table_close(rel, AccessShareLock);
        if (!has_owner)
            continue;

        Oid saved_user;
        int saved_security;
        GetUserIdAndSecContext(&saved_user, &saved_security);
        int guc_level = NewGUCNestLevel();
        SetUserIdAndSecContext(table_owner, saved_security | SECURITY_LOCAL_USERID_CHANGE |
                                                 SECURITY_RESTRICTED_OPERATION);
        (void)set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
                                true, 0, false);
        char *sql = psprintf(sql_format, kOwnedTables[t]);
        Oid types[2] = {REGROLEOID, REGROLEOID};
        Datum values[2] = {ObjectIdGetDatum(from), ObjectIdGetDatum(to)};
        writing_bookkeeping = true;
        PG_TRY();
        {
            if (SPI_connect() != SPI_OK_CONNECT)
                elog(ERROR, "pg_chronos: SPI_connect failed");
            int rc = SPI_execute_with_args(sql, 2, types, values, NULL, false, 0);
            if (rc != SPI_OK_UPDATE && rc != SPI_OK_DELETE)
                elog(ERROR, "pg_chronos: \"%s\" failed: %s", sql, SPI_result_code_string(rc));
            SPI_finish();
        }
        PG_FINALLY();
        {
            writing_bookkeeping = false;
        }
        PG_END_TRY();
        AtEOXact_GUC(true, guc_level);
        SetUserIdAndSecContext(saved_user, saved_security);
    }
}

// The roles of a REASSIGN OWNED or DROP OWNED; PostgreSQL has just checked that they exist.
void for_each_role(List *roles, const char *sql_format, Oid to) {
    ListCell *lc;
    foreach (lc, roles) {
        Oid role = get_rolespec_oid(lfirst_node(RoleSpec, lc), false);
        if (role != to)
            write_owned_rows(sql_format, role, to);
    }
}

}  // namespace

bool begin_role_command(Node *stmt, RoleCommand *before) {
    before->count = 0;
    before->roles = NULL;
    before->names = NULL;
    if (IsA(stmt, ReassignOwnedStmt) || IsA(stmt, DropOwnedStmt))
        return true;
    if (!IsA(stmt, DropRoleStmt))
        return false;
    List *roles = castNode(DropRoleStmt, stmt)->roles;
    before->roles = static_cast<Oid *>(palloc0(sizeof(Oid) * Max(list_length(roles), 1)));
    before->names = static_cast<char **>(palloc0(sizeof(char *) * Max(list_length(roles), 1)));
    ListCell *lc;
    foreach (lc, roles) {
        RoleSpec *spec = lfirst_node(RoleSpec, lc);
        if (spec->roletype != ROLESPEC_CSTRING)
            continue;  // DROP ROLE refuses CURRENT_USER and the like itself
        Oid role = get_role_oid(spec->rolename, true);
        if (!OidIsValid(role))
            continue;  // IF EXISTS, or DROP ROLE reports it
        before->roles[before->count] = role;
        before->names[before->count] = pstrdup(spec->rolename);
        before->count++;
    }
    return true;
}

void finish_role_command(Node *stmt, const RoleCommand *before) {
    if (IsA(stmt, DropRoleStmt)) {
        refuse_drop_of_owners(before);
        return;
    }
    if (!extension_here())
        return;
    // Let the statements see what the command changed.
    CommandCounterIncrement();
    if (IsA(stmt, ReassignOwnedStmt)) {
        ReassignOwnedStmt *reassign = castNode(ReassignOwnedStmt, stmt);
        Oid to = get_rolespec_oid(reassign->newrole, false);
        for_each_role(reassign->roles,
                      "UPDATE chronos.%s SET owner = $2 WHERE owner OPERATOR(pg_catalog.=) $1", to);
    } else if (IsA(stmt, DropOwnedStmt)) {
        for_each_role(castNode(DropOwnedStmt, stmt)->roles,
                      "DELETE FROM chronos.%s WHERE owner OPERATOR(pg_catalog.=) $1", InvalidOid);
    }
}
