// The launcher: the one static background worker. It connects to no database, finds the databases that may have the
// extension, and keeps an executor in each served database (more on request, up to chronos.max_workers). It starts only
// once recovery has finished, so a hot standby runs nothing until it is promoted.
#include "run_log.hpp"
#include "settings.hpp"
#include "shared_state.hpp"

extern "C" {
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_database.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
}

extern "C" PGDLLEXPORT void chronos_launcher_main(Datum main_arg);

namespace {

constexpr int kMaxExecutors = 1024;
constexpr long kRestartDelayMs = 1000;  // an executor that stopped is restarted at most this often per database
constexpr long kIdleWakeMs = 10 * 1000;

struct Executor {
    Oid database;
    BackgroundWorkerHandle *handle;
    TimestampTz started_at;
};

Executor executors[kMaxExecutors];
int executor_count = 0;

// Every database that accepts connections and is not a template: its first executor checks for the extension.
void serve_all_databases(void) {
    SetCurrentStatementStartTimestamp();
    StartTransactionCommand();
    PushActiveSnapshot(GetTransactionSnapshot());
    Relation rel = table_open(DatabaseRelationId, AccessShareLock);
    TableScanDesc scan = table_beginscan_catalog(rel, 0, NULL);
    HeapTuple tuple;
    while ((tuple = heap_getnext(scan, ForwardScanDirection)) != NULL) {
        Form_pg_database db = (Form_pg_database)GETSTRUCT(tuple);
        if (db->datallowconn && !db->datistemplate)
            mark_database_served(db->oid, true);
    }
    table_endscan(scan);
    table_close(rel, AccessShareLock);
    PopActiveSnapshot();
    CommitTransactionCommand();
}

// Whether an executor may connect to `database`: it exists, accepts connections and is not a template (a template with
// a connected session could not be copied). Copies its name into `name` (NAMEDATALEN bytes).
bool database_servable(Oid database, char *name) {
    StartTransactionCommand();
    HeapTuple tuple = SearchSysCache1(DATABASEOID, ObjectIdGetDatum(database));
    bool servable = false;
    if (HeapTupleIsValid(tuple)) {
        Form_pg_database db = (Form_pg_database)GETSTRUCT(tuple);
        servable = db->datallowconn && !db->datistemplate;
        strlcpy(name, NameStr(db->datname), NAMEDATALEN);
        ReleaseSysCache(tuple);
    }
    CommitTransactionCommand();
    return servable;
}

void forget_stopped_executors(void) {
    for (int i = 0; i < executor_count;) {
        pid_t pid;
        if (GetBackgroundWorkerPid(executors[i].handle, &pid) == BGWH_STOPPED) {
            pfree(executors[i].handle);
            executors[i] = executors[--executor_count];
        } else {
            i++;
        }
    }
}

int running_executors(Oid database, TimestampTz *last_started) {
    int n = 0;
    for (int i = 0; i < executor_count; i++) {
        if (executors[i].database == database) {
            n++;
            *last_started = Max(*last_started, executors[i].started_at);
        }
    }
    return n;
}

bool start_executor(Oid database, const char *name) {
    if (executor_count >= kMaxExecutors)
        return false;
    BackgroundWorker worker;
    memset(&worker, 0, sizeof worker);
    worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
    worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
    worker.bgw_restart_time = BGW_NEVER_RESTART;
    snprintf(worker.bgw_library_name, BGW_MAXLEN, "pg_chronos");
    snprintf(worker.bgw_function_name, BGW_MAXLEN, "chronos_executor_main");
    snprintf(worker.bgw_name, BGW_MAXLEN, "pg_chronos worker for database %s", name);
    snprintf(worker.bgw_type, BGW_MAXLEN, "pg_chronos worker");
    worker.bgw_main_arg = ObjectIdGetDatum(database);
    worker.bgw_notify_pid = MyProcPid;

    BackgroundWorkerHandle *handle;
    MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
    bool registered = RegisterDynamicBackgroundWorker(&worker, &handle);
    MemoryContextSwitchTo(old);
    int64 held;
    if (!registered) {
        if (warning_due(database, WarningKind::worker_not_started, &held))
            ereport(WARNING,
                    (errmsg("pg_chronos: could not start a worker for database \"%s\"", name),
                     held > 0 ? errdetail(INT64_FORMAT " more attempts for this database failed in the last minute.", held)
                              : 0,
                     errhint("Raise max_worker_processes, or lower chronos.max_workers.")));
        return false;
    }
    executors[executor_count++] = {database, handle, GetCurrentTimestamp()};
    return true;
}

// Starts the executors the served databases lack; returns how long to sleep before the next check.
long start_missing_executors(void) {
    long sleep_ms = kIdleWakeMs;
    forget_stopped_executors();
    DatabaseEntry entries[kMaxDatabases];
    int n = copy_database_entries(entries, kMaxDatabases);
    TimestampTz now = GetCurrentTimestamp();
    for (int i = 0; i < n; i++) {
        DatabaseEntry *e = &entries[i];
        int extra = take_extra_wanted(e->database);
        if (!e->served || e->quiesced)
            continue;
        TimestampTz last_started = 0;
        int running = running_executors(e->database, &last_started);
        int wanted = Min(Max(running, 1) + extra, Max(chronos_max_workers, 1));
        if (running == 0) {
            long since_ms = (long)((now - last_started) / 1000);
            if (last_started != 0 && since_ms < kRestartDelayMs) {
                sleep_ms = Min(sleep_ms, kRestartDelayMs - since_ms);
                continue;
            }
        }
        if (running >= wanted)
            continue;
        char name[NAMEDATALEN];
        if (!database_servable(e->database, name)) {
            forget_database(e->database);  // dropped, a template, or closed to connections
            continue;
        }
        for (int k = running; k < wanted; k++)
            if (!start_executor(e->database, name))
                break;
    }
    return sleep_ms;
}

}  // namespace

extern "C" void chronos_launcher_main(Datum) {
    pqsignal(SIGHUP, SignalHandlerForConfigReload);
    pqsignal(SIGTERM, die);
    BackgroundWorkerUnblockSignals();
    BackgroundWorkerInitializeConnection(NULL, NULL, 0);
    pgstat_report_appname("pg_chronos launcher");
    launcher_attach();
    serve_all_databases();

    for (;;) {
        long sleep_ms = start_missing_executors();
        (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, sleep_ms, PG_WAIT_EXTENSION);
        ResetLatch(MyLatch);
        CHECK_FOR_INTERRUPTS();
        if (ConfigReloadPending) {
            ConfigReloadPending = false;
            ProcessConfigFile(PGC_SIGHUP);
        }
    }
}
