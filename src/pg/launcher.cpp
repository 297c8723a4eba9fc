// The launcher: the one static background worker. It connects to no database, finds the databases that may have the
// extension, and keeps an executor in each served database (more on request, up to chronos.max_workers), sharing the
// background worker slots fairly between databases. It starts only once recovery has finished, so a hot standby runs
// nothing until it is promoted.
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
#include "lib/stringinfo.h"
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
constexpr long kCapHoldMs = 10 * 1000;               // caps set in a shortage are lifted after this (or a stop)
constexpr long kShortageWarningEveryMs = 60 * 1000;  // the slot shortage warning is logged at most this often

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
            consider_database(db->oid);
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

// Forgets the executors that stopped; returns whether any did (their slots are free again).
bool forget_stopped_executors(void) {
    bool any = false;
    for (int i = 0; i < executor_count;) {
        pid_t pid;
        if (GetBackgroundWorkerPid(executors[i].handle, &pid) == BGWH_STOPPED) {
            pfree(executors[i].handle);
            executors[i] = executors[--executor_count];
            any = true;
        } else {
            i++;
        }
    }
    return any;
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
    if (!registered)
        return false;  // every background worker slot is taken (serve_databases shares them out)
    executors[executor_count++] = {database, handle, GetCurrentTimestamp()};
    return true;
}

// What one pass of the launcher knows and decides about a served database.
struct Plan {
    Oid database;
    bool has_extension;
    int running;             // executors started and not yet stopped
    int target;              // executors it should have
    int giving_back;         // slots it is asked to give back to databases with fewer executors
    TimestampTz last_started;
    bool looked_up;          // name and servable are known
    bool servable;
    char name[NAMEDATALEN];
};

// A database's wish for more executors outlives the one request that said it, while the slots are short.
struct Target {
    Oid database;
    int executors;
    TimestampTz until;
};

Plan plans[kMaxDatabases];
Target targets[kMaxDatabases];
int target_count = 0;
unsigned rotation = 0;            // which database goes first at each level, in turn
bool caps_set = false;            // executor caps are in force (a shortage was met)
TimestampTz caps_set_at = 0;
TimestampTz shortage_warned_at = 0;
int64 shortage_warnings_held = 0;

int remembered_target(Oid database, TimestampTz now) {
    for (int i = 0; i < target_count; i++)
        if (targets[i].database == database)
            return targets[i].until > now ? targets[i].executors : 0;
    return 0;
}

void remember_target(Oid database, int executors, TimestampTz now) {
    int i = 0;
    while (i < target_count && targets[i].database != database)
        i++;
    if (i == target_count) {
        if (target_count == kMaxDatabases)
            return;
        target_count++;
    }
    targets[i] = {database, executors, TimestampTzPlusMilliseconds(now, kCapHoldMs)};
}

void forget_target(Oid database) {
    for (int i = 0; i < target_count; i++)
        if (targets[i].database == database) {
            targets[i] = targets[--target_count];
            return;
        }
}

bool look_up(Plan *p) {
    if (!p->looked_up) {
        p->servable = database_servable(p->database, p->name);
        p->looked_up = true;
    }
    return p->servable;
}

// Every database with pg_chronos needs a worker and some got none, although no database has a second one to give
// back: says so at most once a minute, with what to raise max_worker_processes to.
void warn_slot_shortage(const int *starved, int starved_count, int plan_count) {
    TimestampTz now = GetCurrentTimestamp();
    if (shortage_warned_at != 0 && now - shortage_warned_at < kShortageWarningEveryMs * 1000) {
        shortage_warnings_held++;
        return;
    }
    StringInfoData names;
    initStringInfo(&names);
    int named = 0, unchecked = 0;
    for (int i = 0; i < starved_count; i++) {
        Plan *p = &plans[starved[i]];
        if (!look_up(p))
            continue;  // dropped meanwhile
        appendStringInfo(&names, "%s\"%s\"", named++ == 0 ? "" : ", ", p->name);
        unchecked += p->has_extension ? 0 : 1;  // after a restart, every database is a candidate until checked
    }
    if (named == 0) {
        pfree(names.data);
        return;
    }
    if (unchecked > 0)
        appendStringInfo(&names, " (%d of them not yet checked for the extension)", unchecked);
    int databases = unchecked;
    for (int i = 0; i < plan_count; i++)
        databases += plans[i].has_extension ? 1 : 0;
    // A registration failed: every slot is in use, by the launcher, its executors and other background workers.
    int others = Max(max_worker_processes - 1 - executor_count, 0);
    int at_least = 1 + databases + others;
    int for_runs = at_least + Max(chronos_max_workers - 1, 0);
    char held[128] = "";
    if (shortage_warnings_held > 0)
        snprintf(held, sizeof held, " The shortage was met " INT64_FORMAT " more times in the last minute.",
                 shortage_warnings_held);
    ereport(WARNING,
            (errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
             errmsg("pg_chronos: max_worker_processes is too low to serve every database with pg_chronos"),
             errdetail("No worker could be started for %s %s: all %d background worker slots are taken, by the "
                       "pg_chronos launcher, %d pg_chronos workers (one per database) and %d other background "
                       "workers.%s",
                       named == 1 ? "database" : "databases", names.data, max_worker_processes, executor_count, others,
                       held),
             errhint("Raise max_worker_processes to at least %d (the pg_chronos launcher, one worker for each of the %d "
                     "databases with pg_chronos, and the %d other background workers running now), or to %d to let "
                     "chronos.max_workers = %d runs go on in one database while the others are served; then restart "
                     "the server.",
                     at_least, databases, others, for_runs, chronos_max_workers)));
    pfree(names.data);
    shortage_warned_at = now;
    shortage_warnings_held = 0;
}

// One pass: shares the worker slots out between the served databases and starts the executors they lack; returns
// how long to sleep before the next pass (the launcher is woken earlier by requests and by its executors stopping).
//
// Slots are handed out level by level: every database's first executor (its watcher) before any database's second,
// every second before any third, and so on up to chronos.max_workers, taking the databases in turn within a level.
// When no slot is left for a database at some level, the databases with more executors than that level give slots
// back (their caps are lowered: idle executors leave at once, busy ones after their run), and no database grows while
// the shortage lasts; the caps are lifted after kCapHoldMs, or as soon as an executor stops, and the wishes of the
// databases left short are remembered for as long, so they come first when a slot frees.
long serve_databases(void) {
    long sleep_ms = kIdleWakeMs;
    bool stopped = forget_stopped_executors();
    DatabaseEntry entries[kMaxDatabases];
    int n = copy_database_entries(entries, kMaxDatabases);
    TimestampTz now = GetCurrentTimestamp();
    int per_database = Max(chronos_max_workers, 1);
    int m = 0, highest = 0;
    for (int i = 0; i < n; i++) {
        DatabaseEntry *e = &entries[i];
        int extra = take_extra_wanted(e->database);
        if (!e->served || e->quiesced) {
            forget_target(e->database);
            continue;
        }
        Plan *p = &plans[m++];
        memset(p, 0, sizeof *p);
        p->database = e->database;
        p->has_extension = e->has_extension;
        p->running = running_executors(e->database, &p->last_started);
        int target = Max(p->running, 1) + extra;
        if (extra > 0)
            remember_target(e->database, target, now);
        else
            target = Max(target, remembered_target(e->database, now));
        p->target = Min(target, per_database);
        if (p->running >= p->target)
            forget_target(e->database);
        highest = Max(highest, p->target);
    }
    // The order within a level: databases known to have the extension first, each group starting at a rotating place.
    int order[kMaxDatabases];
    int k = 0;
    rotation++;
    for (int group = 0; group < 2; group++)
        for (int j = 0; j < m; j++) {
            int i = (int)((j + rotation) % (unsigned)m);
            if (plans[i].has_extension == (group == 0))
                order[k++] = i;
        }

    int short_level = 0;
    int starved[kMaxDatabases];
    int starved_count = 0;
    bool first_pending = false;  // a database waits out its restart delay: the slot it will need is not handed out
    for (int level = 1; level <= highest && short_level == 0 && !first_pending; level++) {
        for (int j = 0; j < m; j++) {
            Plan *p = &plans[order[j]];
            if (p->running >= level || p->target < level)
                continue;
            if (level == 1 && p->running == 0 && p->last_started != 0) {
                long since_ms = (long)((now - p->last_started) / 1000);
                if (since_ms < kRestartDelayMs) {
                    sleep_ms = Min(sleep_ms, kRestartDelayMs - since_ms);
                    first_pending = true;
                    continue;
                }
            }
            if (short_level == 0) {
                if (!look_up(p)) {
                    forget_database(p->database);  // dropped, a template, or closed to connections
                    p->target = 0;
                    continue;
                }
                if (start_executor(p->database, p->name)) {
                    p->running++;
                    continue;
                }
                short_level = level;
            }
            starved[starved_count++] = order[j];
        }
    }

    if (short_level > 0) {
        // Slots back from the databases with the most executors above the level that was short, one at a time.
        int given = 0;
        while (given < starved_count) {
            Plan *richest = NULL;
            for (int i = 0; i < m; i++) {
                Plan *p = &plans[i];
                if (p->running - p->giving_back > short_level &&
                    (richest == NULL || p->running - p->giving_back > richest->running - richest->giving_back))
                    richest = p;
            }
            if (richest == NULL)
                break;
            richest->giving_back++;
            given++;
        }
        for (int i = 0; i < m; i++)
            set_executor_cap(plans[i].database, Max(plans[i].running - plans[i].giving_back, 1));
        caps_set = true;
        caps_set_at = now;
        if (short_level == 1 && given < starved_count)
            warn_slot_shortage(starved, starved_count, m);
        sleep_ms = Min(sleep_ms, kRestartDelayMs);  // a slot other background workers give back is noticed soon
    } else if (caps_set && (stopped || now - caps_set_at >= kCapHoldMs * 1000)) {
        for (int i = 0; i < m; i++)
            set_executor_cap(plans[i].database, 0);
        caps_set = false;
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
        long sleep_ms = serve_databases();
        (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, sleep_ms, PG_WAIT_EXTENSION);
        ResetLatch(MyLatch);
        CHECK_FOR_INTERRUPTS();
        if (ConfigReloadPending) {
            ConfigReloadPending = false;
            ProcessConfigFile(PGC_SIGHUP);
        }
    }
}
