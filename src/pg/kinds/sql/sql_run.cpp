// Running one task's command as its owner, in PostgreSQL's security-restricted operation mode (as VACUUM and REFRESH
// MATERIALIZED VIEW run a table owner's code), and giving the next run a clean session. Functions here keep only plain
// data on their frames: PG_TRY/PG_CATCH and the subtransaction calls may longjmp.
#include "pg/kinds/sql/sql_run.hpp"

#include "pg/run/run_identity.hpp"
#include "pg/kinds/sql/sql_result.hpp"
#include "pg/workers/session_settings.hpp"

#include <link.h>

extern "C" {
#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "catalog/pg_authid.h"
#include "commands/dbcommands.h"
#include "commands/async.h"
#include "commands/prepare.h"
#include "commands/sequence.h"
#include "common/pg_prng.h"
#include "executor/spi.h"
#include "mb/pg_wchar.h"
#include "parser/analyze.h"
#include "parser/parse_param.h"
#include "jit/jit.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/ipc.h"
#include "storage/lock.h"
#include "tcop/pquery.h"
#include "tcop/tcopprot.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/plancache.h"
#include "utils/portal.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
}

namespace {

// A run's error is kept, logged and notified up to this many bytes of its message: a command may raise an error of
// any size.
constexpr int kMaxErrorBytes = 8192;

char *error_text(ErrorData *edata) {
    const char *message = edata->message ? edata->message : "";
    int length = (int)strlen(message);
    if (length <= kMaxErrorBytes)
        return psprintf("%s: %s", unpack_sql_state(edata->sqlerrcode), message);
    int kept = pg_mbcliplen(message, length, kMaxErrorBytes);
    return psprintf("%s: %.*s… (the message was cut at %d of its %d bytes)", unpack_sql_state(edata->sqlerrcode), kept,
                    message, kept, length);
}

// A run starts from a random state of its own, as in a fresh session: setseed() in one run would otherwise decide
// what random() returns in the next, which may be another owner's.
void reseed_random(void) {
    uint64 bits;
    if (!pg_strong_random(&bits, sizeof bits))
        bits = pg_prng_uint64(&pg_global_prng_state);
    double seed = (double)(bits >> 11) / (double)(UINT64CONST(1) << 53) * 2.0 - 1.0;
    DirectFunctionCall1(setseed, Float8GetDatum(seed));
}

int count_loaded_object(struct dl_phdr_info *, size_t, void *data) {
    (*static_cast<int *>(data))++;
    return 0;
}

// The shared objects this process has loaded (the program, its libraries, and every library LOAD or a function's
// language brought in).
int loaded_object_count(void) {
    int count = 0;
    dl_iterate_phdr(count_loaded_object, &count);
    return count;
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

Datum payload_datum(const char *payload) {
    return payload ? DirectFunctionCall1(jsonb_in, CStringGetDatum(payload)) : (Datum)0;
}

// The parser learns that $1 is jsonb (SPI_execute_extended analyses with the parameter list's setup hook).
void declare_payload_param(ParseState *pstate, void *) {
    static const Oid types[1] = {JSONBOID};
    setup_parse_fixed_parameters(pstate, types, 1);
}

// $1 of a run: the payload, a jsonb constant.
ParamListInfo payload_params(const char *payload) {
    ParamListInfo params = makeParamList(1);
    params->parserSetup = declare_payload_param;
    params->numParams = 1;
    params->params[0].value = payload_datum(payload);
    params->params[0].isnull = payload == NULL;
    params->params[0].pflags = PARAM_FLAG_CONST;
    params->params[0].ptype = JSONBOID;
    return params;
}

}  // namespace

char *owner_may_run(Oid owner, bool *is_superuser) {
    *is_superuser = false;
    HeapTuple tuple = SearchSysCache1(AUTHOID, ObjectIdGetDatum(owner));
    if (!HeapTupleIsValid(tuple))
        return psprintf("42704: the task's owner (role OID %u) no longer exists", owner);
    char *name = pstrdup(NameStr(((Form_pg_authid)GETSTRUCT(tuple))->rolname));
    *is_superuser = ((Form_pg_authid)GETSTRUCT(tuple))->rolsuper;
    bool no_limit;
    Datum valid_until = SysCacheGetAttr(AUTHOID, tuple, Anum_pg_authid_rolvaliduntil, &no_limit);
    ReleaseSysCache(tuple);
    if (!no_limit && DatumGetTimestampTz(valid_until) < GetCurrentTimestamp())
        return psprintf("28000: role \"%s\" is past its VALID UNTIL time", name);
    if (pg_database_aclcheck(MyDatabaseId, owner, ACL_CONNECT) != ACLCHECK_OK)
        return psprintf("42501: role \"%s\" has no CONNECT privilege on database \"%s\"", name,
                        get_database_name(MyDatabaseId));
    return NULL;
}

void run_in_transaction(const char *command, Oid owner, bool owner_is_superuser, const char *last_tag,
                        const char *payload, RunOutcome *out) {
    MemoryContext caller_context = CurrentMemoryContext;
    ResourceOwner caller_owner = CurrentResourceOwner;
    int guc_level = NewGUCNestLevel();

    reseed_random();
    // The owner first, then the subtransaction: its rollback gives back the owner.
    enter_run_identity(owner, owner_is_superuser);
    BeginInternalSubTransaction(NULL);
    MemoryContextSwitchTo(caller_context);
    PG_TRY();
    {
        apply_login_settings(owner);
        // Rows go to a receiver that keeps the first ones as result text: nothing is materialised, so a command
        // returning millions of rows costs no memory for them.
        DestReceiver *receiver = create_result_receiver();
        SPIExecuteOptions options;
        memset(&options, 0, sizeof options);
        options.params = payload_params(payload);
        options.dest = receiver;
        int rc = SPI_execute_extended(command, &options);
        check_run_identity("after the command");
        MemoryContextSwitchTo(caller_context);
        char *result = result_from_receiver(last_tag, rc, SPI_processed, receiver);
        ReleaseCurrentSubTransaction();
        MemoryContextSwitchTo(caller_context);
        CurrentResourceOwner = caller_owner;
        out->succeeded = true;
        out->error = NULL;
        out->result = result;
    }
    PG_CATCH();
    {
        take_error(caller_context, out);
        RollbackAndReleaseCurrentSubTransaction();
        MemoryContextSwitchTo(caller_context);
        CurrentResourceOwner = caller_owner;
    }
    PG_END_TRY();
    check_run_identity("after the command's subtransaction ended");
    leave_run_identity();
    AtEOXact_GUC(false, guc_level);
}

void run_at_top_level(const char *command, Oid owner, bool owner_is_superuser, const char *payload, RunOutcome *out) {
    MemoryContext caller_context = CurrentMemoryContext;
    out->succeeded = true;
    out->error = NULL;
    out->result = NULL;

    reseed_random();
    // The owner first, outside any transaction: every transaction of the command begins as the owner, so a ROLLBACK in
    // it, or an error, gives back the owner.
    enter_run_identity(owner, owner_is_superuser);
    PG_TRY();
    {
        // The owner's settings in a transaction of their own, so that they hold for the session as a login's would,
        // whatever the command commits or rolls back.
        SetCurrentStatementStartTimestamp();
        StartTransactionCommand();
        apply_login_settings(owner);
        CommitTransactionCommand();
        check_run_identity("after the owner's settings");

        MemoryContextSwitchTo(caller_context);
        ParamListInfo params = payload_params(payload);
        Oid param_types[1] = {JSONBOID};
        List *trees = pg_parse_query(command);
        ListCell *lc;
        foreach (lc, trees) {
            RawStmt *tree = lfirst_node(RawStmt, lc);
            // Checked again on the statements as this session reads them (the run path classified the command
            // before the owner's settings applied).
            if (IsA(tree->stmt, TransactionStmt))
                ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                                errmsg("task command cannot use transaction control"),
                                errhint("Put the statements in a procedure that uses COMMIT and CALL it.")));
            SetCurrentStatementStartTimestamp();
            StartTransactionCommand();
            MemoryContextSwitchTo(caller_context);
            CommandTag tag = CreateCommandTag(tree->stmt);
            bool snapshot_set = analyze_requires_snapshot(tree);
            if (snapshot_set)
                PushActiveSnapshot(GetTransactionSnapshot());
#if PG_VERSION_NUM >= 150000
            List *queries = pg_analyze_and_rewrite_fixedparams(tree, command, param_types, 1, NULL);
#else
            List *queries = pg_analyze_and_rewrite(tree, command, param_types, 1, NULL);
#endif
            List *plans = pg_plan_queries(queries, command, CURSOR_OPT_PARALLEL_OK, params);
            if (snapshot_set)
                PopActiveSnapshot();

            Portal portal = CreatePortal("", true, true);
            portal->visible = false;
            PortalDefineQuery(portal, NULL, command, tag, plans, NULL);
            PortalStart(portal, params, 0, InvalidSnapshot);
            DestReceiver *receiver = create_result_receiver();
            QueryCompletion completion;
            InitializeQueryCompletion(&completion);
            (void)PortalRun(portal, FETCH_ALL, true, true, receiver, receiver, &completion);
            PortalDrop(portal, false);
            check_run_identity("after a statement");
            // A transaction block must not outlive its statement (BEGIN without COMMIT would hold the worker in it).
            if (IsTransactionBlock())
                ereport(ERROR, (errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
                                errmsg("a task command may not leave a transaction block open"),
                                errhint("Put the statements in a procedure that uses COMMIT, and CALL it.")));
            CommitTransactionCommand();
            check_run_identity("after a statement's commit");

            MemoryContextSwitchTo(caller_context);
            const char *tag_name = GetCommandTagName(completion.commandTag);
            out->result = command_tag_display_rowcount(completion.commandTag)
                              ? result_text(psprintf("%s " UINT64_FORMAT, tag_name, completion.nprocessed),
                                            captured_rows(receiver))
                              : pstrdup(tag_name);
        }
    }
    PG_CATCH();
    {
        take_error(caller_context, out);
        AbortOutOfAnyTransaction();  // also out of a transaction block the command opened
        MemoryContextSwitchTo(caller_context);
    }
    PG_END_TRY();
    check_run_identity("after the command");
    leave_run_identity();
    MemoryContextSwitchTo(caller_context);
}

void reset_session_state_in_transaction(void) {
    DropAllPreparedStatements();
}

void reset_session_state_after_commit(void) {
    LockReleaseAll(USER_LOCKMETHOD, true);
    ResetSequenceCaches();
}

void reset_session(void) {
    MemoryContext context = CurrentMemoryContext;
    PG_TRY();
    {
        // Its own transaction, which writes nothing: settings the command left (default_transaction_read_only among
        // them) cannot make it fail, and nothing it undoes can be rolled back with a later transaction.
        SetCurrentStatementStartTimestamp();
        StartTransactionCommand();
        ResetAllOptions();
        PortalHashTableDeleteAll();
        DropAllPreparedStatements();
        Async_UnlistenAll();
        ResetTempTableNamespace();
        ResetPlanCache();
        CommitTransactionCommand();
        reset_session_state_after_commit();
        if (!session_is_clean())
            ereport(ERROR, (errmsg("the session still differs from a fresh one")));
    }
    PG_CATCH();
    {
        MemoryContextSwitchTo(context);
        ErrorData *edata = CopyErrorData();
        ereport(LOG, (errmsg("pg_chronos: worker exits: its session could not be reset after a run: %s", edata->message),
                      errdetail("No other run may use a session a task's command changed; another worker replaces it.")));
        proc_exit(1);
    }
    PG_END_TRY();
    MemoryContextSwitchTo(context);
}

namespace {
// The session as the executor started: what a clean session looks like in this server's configuration.
struct CleanSession {
    bool known;
    Oid user;
    int security;
    bool read_only;
    int isolation;
    int loaded_objects;
} clean_session;
}  // namespace

void remember_clean_session(void) {
    // PL/pgSQL, which most commands use, is loaded before the session is remembered: loading it in a run would
    // otherwise end the worker after it.
    load_file("plpgsql", false);
    clean_session.loaded_objects = loaded_object_count();
    GetUserIdAndSecContext(&clean_session.user, &clean_session.security);
    clean_session.read_only = DefaultXactReadOnly;
    clean_session.isolation = DefaultXactIsoLevel;
    clean_session.known = true;
}

namespace {

// The objects loaded since the clean session: whether PostgreSQL's JIT provider (`jit_provider`, which only
// postgresql.conf sets) is among them, and whether any other is a library of this server's ($libdir): the provider
// brings its own system libraries (LLVM), which install no hooks.
struct LoadedSince {
    int index;
    int first_new;
    bool jit_provider;
    bool other_module;
};

int look_at_loaded_object(struct dl_phdr_info *info, size_t, void *data) {
    LoadedSince *since = static_cast<LoadedSince *>(data);
    if (since->index++ < since->first_new)
        return 0;
    const char *path = info->dlpi_name ? info->dlpi_name : "";
    size_t lib_length = strlen(pkglib_path);
    bool in_libdir = strncmp(path, pkglib_path, lib_length) == 0 && path[lib_length] == '/';
    char provider[MAXPGPATH];
    snprintf(provider, sizeof provider, "%s/%s%s", pkglib_path, jit_provider ? jit_provider : "", DLSUFFIX);
    if (strcmp(path, provider) == 0)
        since->jit_provider = true;
    else if (in_libdir || path[0] != '/')
        since->other_module = true;
    return 0;
}

}  // namespace

bool run_loaded_a_library(void) {
    int count = loaded_object_count();
    if (count == clean_session.loaded_objects)
        return false;
    // A run that JIT-compiled a query loaded the JIT provider: PostgreSQL's own, named by the server's configuration.
    // It is kept (a database owner's ALTER DATABASE … SET jit_above_cost = 0 would otherwise end a worker after each
    // run), and counted as part of a clean session from now on.
    LoadedSince since = {0, clean_session.loaded_objects, false, false};
    dl_iterate_phdr(look_at_loaded_object, &since);
    if (since.jit_provider && !since.other_module) {
        clean_session.loaded_objects = count;
        return false;
    }
    return true;
}

bool session_is_clean(void) {
    Oid user;
    int security;
    GetUserIdAndSecContext(&user, &security);
    return clean_session.known && !IsTransactionOrTransactionBlock() && user == clean_session.user &&
           security == clean_session.security && DefaultXactReadOnly == clean_session.read_only &&
           DefaultXactIsoLevel == clean_session.isolation;
}

void run_sql_in_transaction(const ClaimedTask *task, const RunPlan *plan, Oid owner, bool owner_is_superuser,
                            RunOutcome *out) {
    run_in_transaction(task->command, owner, owner_is_superuser, plan->last_tag, task->payload, out);
}

void run_sql_autonomous(const ClaimedTask *task, const RunPlan *, Oid owner, bool owner_is_superuser,
                        RunOutcome *out) {
    run_at_top_level(task->command, owner, owner_is_superuser, task->payload, out);
}
