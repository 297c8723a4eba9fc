// The settings of an executor's session and of its runs (see session_settings.hpp). PostgreSQL applies the values stored
// in pg_db_role_setting when a session connects, each with its source (all roles, database, role, role in database):
// those are the ones undone here, with the values the server had before the connection.
#include "pg/workers/session_settings.hpp"

#include "pg/run/run_log.hpp"

extern "C" {
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/indexing.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_db_role_setting.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/guc_tables.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
}

namespace {

// A setting's value before the executor connected.
struct ServerValue {
    char *name;
    char *value;  // NULL: none
};
ServerValue *server_values = NULL;
int server_value_count = 0;

// What a run never takes from the stored settings: its identity is its owner's (run_identity.cpp), and its errors end
// the run, never the worker (pin_worker_settings()).
const char *const kIdentitySettings[] = {"role", "session_authorization"};
const char *const kNeverForRuns[] = {"role", "session_authorization", "exit_on_error"};

// exit_on_error = on would turn a run's error into the exit of its worker (PostgreSQL promotes every ERROR to FATAL):
// any role may set it, in its command, in a function's SET clause or in its login settings. In a worker, the value is
// refused wherever it comes from.
bool refuse_exit_on_error(bool *newval, void **, GucSource source) {
    if (!*newval || source <= PGC_S_OVERRIDE)
        return true;
    GUC_check_errcode(ERRCODE_INSUFFICIENT_PRIVILEGE);
    GUC_check_errmsg("pg_chronos workers do not exit on errors");
    GUC_check_errdetail("An error ends the run it happens in, not the worker that runs the task.");
    GUC_check_errhint("Leave exit_on_error off in task commands and in the functions they call.");
    return false;
}

// What the bookkeeping relies on, whatever the server's, the database's or all roles' settings say: transactions that
// may write, at READ COMMITTED, errors that end a transaction and not the worker, lock waits the claims bound
// themselves. A run's owner's own values of these apply to its runs.
struct FixedValue {
    const char *name;
    const char *value;
};
const FixedValue kBookkeepingSettings[] = {{"default_transaction_read_only", "off"},
                                           {"default_transaction_isolation", "read committed"},
                                           {"default_transaction_deferrable", "off"},
                                           {"exit_on_error", "off"},
                                           {"lock_timeout", "0"}};

bool is_stored_source(GucSource source) {
    return source == PGC_S_GLOBAL || source == PGC_S_DATABASE || source == PGC_S_USER ||
           source == PGC_S_DATABASE_USER;
}

const char *server_value(const char *name) {
    for (int i = 0; i < server_value_count; i++)
        if (strcmp(server_values[i].name, name) == 0)
            return server_values[i].value;
    return NULL;
}

bool named_in(const char *name, const char *const *names, int count) {
    for (int i = 0; i < count; i++)
        if (pg_strcasecmp(name, names[i]) == 0)
            return true;
    return false;
}

bool fixed_for_bookkeeping(const char *name) {
    for (const FixedValue &fixed : kBookkeepingSettings)
        if (pg_strcasecmp(name, fixed.name) == 0)
            return true;
    return false;
}

// The context of a stored setting a run passes over.
void say_stored_setting(void *item) {
    errcontext("pg_chronos: a stored setting (ALTER DATABASE or ALTER ROLE … SET %s) that PostgreSQL refuses is passed "
               "over by runs in this database, as a login passes it over",
               TextDatumGetCString(PointerGetDatum(item)));
}

// Sets, for the session, the settings stored for (database, role) that a run takes: `of_owner` says whether they are
// the owner's own (role or role-in-database) or the database's or all roles'.
void apply_stored(Relation settings, Snapshot snapshot, Oid database, Oid role, bool of_owner) {
    ScanKeyData keys[2];
    ScanKeyInit(&keys[0], Anum_pg_db_role_setting_setdatabase, BTEqualStrategyNumber, F_OIDEQ,
                ObjectIdGetDatum(database));
    ScanKeyInit(&keys[1], Anum_pg_db_role_setting_setrole, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(role));
    SysScanDesc scan = systable_beginscan(settings, DbRoleSettingDatidRolidIndexId, true, snapshot, 2, keys);
    HeapTuple tuple;
    while ((tuple = systable_getnext(scan)) != NULL) {
        bool isnull;
        Datum config = heap_getattr(tuple, Anum_pg_db_role_setting_setconfig, RelationGetDescr(settings), &isnull);
        if (isnull)
            continue;
        Datum *items;
        bool *nulls;
        int count;
        deconstruct_array(DatumGetArrayTypeP(config), TEXTOID, -1, false, TYPALIGN_INT, &items, &nulls, &count);
        for (int i = 0; i < count; i++) {
            if (nulls[i])
                continue;
            char *name, *value;
            ParseLongOption(TextDatumGetCString(items[i]), &name, &value);
            if (value == NULL || named_in(name, kNeverForRuns, lengthof(kNeverForRuns)) ||
                (!of_owner && fixed_for_bookkeeping(name)))
                continue;
            // A value PostgreSQL no longer accepts (a dropped text search configuration or tablespace, …) is passed
            // over, as a login passes it over with a WARNING: said in the log at most once a minute per database.
            if (set_config_option(name, value, PGC_SUSET, PGC_S_SESSION, GUC_ACTION_SET, true, DEBUG1, false) > 0)
                continue;
            int64 held;
            if (warning_due(MyDatabaseId, WarningKind::stored_setting_refused, &held)) {
                ErrorContextCallback context = {error_context_stack, say_stored_setting, DatumGetPointer(items[i])};
                error_context_stack = &context;
                (void)set_config_option(name, value, PGC_SUSET, PGC_S_SESSION, GUC_ACTION_SET, true, WARNING, false);
                error_context_stack = context.previous;
            }
        }
    }
    systable_endscan(scan);
}

}  // namespace

void pin_worker_settings(void) {
    int n = GetNumConfigOptions();
    struct config_generic **variables = get_guc_variables();
    for (int i = 0; i < n; i++)
        if (variables[i]->vartype == PGC_BOOL && strcmp(variables[i]->name, "exit_on_error") == 0)
            reinterpret_cast<struct config_bool *>(variables[i])->check_hook = refuse_exit_on_error;
}

void capture_server_settings(void) {
    MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
    int n = GetNumConfigOptions();
    struct config_generic **variables = get_guc_variables();
    server_values = static_cast<ServerValue *>(palloc(sizeof(ServerValue) * n));
    server_value_count = 0;
    for (int i = 0; i < n; i++) {
        const char *value = GetConfigOption(variables[i]->name, true, false);
        server_values[server_value_count++] = {pstrdup(variables[i]->name), value ? pstrdup(value) : NULL};
    }
    MemoryContextSwitchTo(old);
}

void drop_stored_settings(void) {
    SetCurrentStatementStartTimestamp();
    StartTransactionCommand();
    // The names first: setting a value must not be done while walking PostgreSQL's array of settings.
    int n = GetNumConfigOptions();
    struct config_generic **variables = get_guc_variables();
    List *stored = NIL;
    bool identity_stored = false;
    for (int i = 0; i < n; i++) {
        const struct config_generic *v = variables[i];
        if (!is_stored_source(v->source) && !is_stored_source(v->reset_source))
            continue;
        if (named_in(v->name, kIdentitySettings, lengthof(kIdentitySettings)))
            identity_stored = true;
        else if (v->context == PGC_USERSET || v->context == PGC_SUSET)
            stored = lappend(stored, pstrdup(v->name));
    }
    // The identity first: the worker's session user is the user it authenticated as, and it has no role set.
    if (identity_stored) {
        (void)set_config_option("session_authorization", GetUserNameFromId(GetAuthenticatedUserId(), false),
                                PGC_SUSET, PGC_S_OVERRIDE, GUC_ACTION_SET, true, 0, false);
        (void)set_config_option("role", "none", PGC_SUSET, PGC_S_OVERRIDE, GUC_ACTION_SET, true, 0, false);
    }
    ListCell *lc;
    foreach (lc, stored) {
        const char *name = static_cast<const char *>(lfirst(lc));
        const char *value = server_value(name);
        if (value != NULL)
            (void)set_config_option(name, value, PGC_SUSET, PGC_S_OVERRIDE, GUC_ACTION_SET, true, 0, false);
    }
    for (const FixedValue &fixed : kBookkeepingSettings)
        SetConfigOption(fixed.name, fixed.value, PGC_SUSET, PGC_S_OVERRIDE);
    CommitTransactionCommand();
    if (GetSessionUserId() != GetAuthenticatedUserId() || GetUserId() != GetAuthenticatedUserId())
        ereport(FATAL, (errmsg("pg_chronos: the worker's session is not its own user's after its settings were reset")));
}

void apply_login_settings(Oid owner) {
    Relation settings = table_open(DbRoleSettingRelationId, AccessShareLock);
    Snapshot snapshot = RegisterSnapshot(GetCatalogSnapshot(DbRoleSettingRelationId));
    // The least specific first: each later one overrides what it also sets, as PostgreSQL's login does.
    apply_stored(settings, snapshot, InvalidOid, InvalidOid, false);
    apply_stored(settings, snapshot, MyDatabaseId, InvalidOid, false);
    apply_stored(settings, snapshot, InvalidOid, owner, true);
    apply_stored(settings, snapshot, MyDatabaseId, owner, true);
    UnregisterSnapshot(snapshot);
    table_close(settings, AccessShareLock);
}
