// The launcher: the one static background worker. It connects to no database. It has every database checked once for
// the extension (an executor looks), and starts an executor in a database with the extension when that database has
// work: a task due (kLaunchLeadMs before it is), a run to record, expired runs to delete. Executors leave when their
// database has nothing due (executor_worker.cpp), so a database holds a worker slot only while it has work. When a database
// with work due finds no slot free, the launcher says so in shared memory: idle executors leave at once, busy ones
// after their turn, and the databases waiting are served in turn — the database owner (datdba) with the fewest
// executors running first, then the database due the longest — so that no role can keep another's database unserved
// by making databases. A database whose executors keep exiting with an error is retried with exponential back-off. The
// launcher starts only once recovery has finished, so a hot standby runs nothing until it is promoted.
#include "pg/settings.hpp"
#include "pg/workers/database_table.hpp"
#include "pg/workers/executor_slots.hpp"
#include "pg/workers/shared_memory.hpp"

#include <algorithm>

extern "C" {
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_database.h"
#include "lib/stringinfo.h"
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
constexpr long kIdleWakeMs = 10 * 1000;
constexpr long kContendedWakeMs = 100;          // while databases wait for a slot, look again this often
constexpr long kFirstBackoffMs = 1000;          // a database whose executor exited with an error waits this long,
constexpr long kLastBackoffMs = 60 * 1000;      // doubling with each further one up to this
constexpr long kWaitWarningMs = 10 * 1000;      // a database waiting this long for a slot is named in a warning,
constexpr long kWarningEveryMs = 60 * 1000;     // at most once a minute
constexpr long kLookUpEveryMs = 60 * 1000;      // a database's name and owner are looked up again after this
constexpr long kRescanEveryMs = 10 * 1000;      // pg_database is read again for databases not checked yet
constexpr long kTableFullWakeMs = 1000;         // while the table of databases is full, try again this often

struct Executor {
    Oid database;
    BackgroundWorkerHandle *handle;
};
Executor executors[kMaxExecutors];
int executor_count = 0;

// What the launcher remembers of a database between passes.
struct Known {
    Oid database;
    Oid owner;                  // datdba, for the order in which waiting databases are served
    bool servable;              // exists, accepts connections, is not a template
    char name[NAMEDATALEN];
    TimestampTz looked_up_at;   // 0: not yet
    TimestampTz stopped_at;     // when its last executor was seen to stop
    int failures_logged;        // the count of failed starts last said in the log
    TimestampTz waiting_since;  // due, and not started for want of a slot; 0: not waiting
};
Known *known = NULL;
int known_count = 0;
int known_capacity = 0;

// A set of database OIDs (a few thousand at most, looked through once a pass).
struct OidSet {
    Oid *oids = NULL;
    int count = 0;
    int capacity = 0;

    bool has(Oid oid) const {
        for (int i = 0; i < count; i++)
            if (oids[i] == oid)
                return true;
        return false;
    }
    void add(Oid oid) {
        if (has(oid))
            return;
        if (count == capacity) {
            capacity = Max(capacity * 2, 64);
            oids = static_cast<Oid *>(oids == NULL ? MemoryContextAlloc(TopMemoryContext, sizeof(Oid) * capacity)
                                                   : repalloc(oids, sizeof(Oid) * capacity));
        }
        oids[count++] = oid;
    }
    void remove(Oid oid) {
        for (int i = 0; i < count; i++)
            if (oids[i] == oid) {
                oids[i] = oids[--count];
                return;
            }
    }
};

// Databases to check for the extension (all of them when the launcher starts, then those that appear, become
// servable, or found the table of databases full), and those checked: a later look at pg_database passes over them.
OidSet unchecked;
OidSet checked;
TimestampTz rescanned_at = 0;

TimestampTz wait_warned_at = 0;
int64 wait_warnings_held = 0;
TimestampTz full_warned_at = 0;

int running_executors_in(Oid database) {
    int n = 0;
    for (int i = 0; i < executor_count; i++)
        n += executors[i].database == database ? 1 : 0;
    return n;
}

Known *known_database(Oid database) {
    for (int i = 0; i < known_count; i++)
        if (known[i].database == database)
            return &known[i];
    if (known_count == known_capacity) {
        known_capacity = Max(known_capacity * 2, 64);
        known = static_cast<Known *>(known == NULL
                                         ? MemoryContextAllocZero(TopMemoryContext, sizeof(Known) * known_capacity)
                                         : repalloc(known, sizeof(Known) * known_capacity));
    }
    Known *k = &known[known_count++];
    memset(k, 0, sizeof *k);
    k->database = database;
    return k;
}

// At the start of a pass: an entry for every database with an entry in shared memory or an executor running, and none
// for others (a database checked and found without the extension, or dropped). Entries are not added during the rest
// of the pass but by the checks, so pointers taken before then stay valid.
void refresh_known(const DatabaseEntry *entries, int n) {
    for (int i = 0; i < known_count;) {
        bool wanted = running_executors_in(known[i].database) > 0;
        for (int j = 0; j < n && !wanted; j++)
            wanted = entries[j].database == known[i].database;
        if (wanted)
            i++;
        else
            known[i] = known[--known_count];
    }
    for (int i = 0; i < n; i++)
        (void)known_database(entries[i].database);
    for (int i = 0; i < executor_count; i++)
        (void)known_database(executors[i].database);
}

// Reads pg_database: every database that accepts connections, is not a template, has no entry and was not checked is
// to be checked for the extension (at start: every one). Checked databases that are gone are forgotten.
void look_for_databases(const DatabaseEntry *entries, int n, TimestampTz now) {
    OidSet seen;
    SetCurrentStatementStartTimestamp();
    StartTransactionCommand();
    PushActiveSnapshot(GetTransactionSnapshot());
    Relation rel = table_open(DatabaseRelationId, AccessShareLock);
    TableScanDesc scan = table_beginscan_catalog(rel, 0, NULL);
    HeapTuple tuple;
    while ((tuple = heap_getnext(scan, ForwardScanDirection)) != NULL) {
        Form_pg_database db = (Form_pg_database)GETSTRUCT(tuple);
        seen.add(db->oid);
        if (!db->datallowconn || db->datistemplate || checked.has(db->oid))
            continue;
        bool has_entry = false;
        for (int i = 0; i < n && !has_entry; i++)
            has_entry = entries[i].database == db->oid;
        if (!has_entry)
            unchecked.add(db->oid);
    }
    table_endscan(scan);
    table_close(rel, AccessShareLock);
    PopActiveSnapshot();
    CommitTransactionCommand();
    for (int i = 0; i < checked.count;)
        if (seen.has(checked.oids[i]))
            i++;
        else
            checked.remove(checked.oids[i]);
    if (seen.oids != NULL)
        pfree(seen.oids);
    rescanned_at = now;
}

void look_up(Known *k, TimestampTz now);

// A database could not get an entry: the table is full (chronos.max_databases). Said at most once a minute.
void warn_table_full(Oid database, TimestampTz now) {
    if (full_warned_at != 0 && now - full_warned_at < kWarningEveryMs * 1000)
        return;
    full_warned_at = now;
    Known *k = known_database(database);
    look_up(k, now);
    ereport(WARNING, (errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
                      errmsg("pg_chronos: database \"%s\" is not served: chronos.max_databases (%d) databases with "
                             "the extension are served already",
                             k->name[0] ? k->name : "?", chronos_max_databases),
                      errdetail("It is served as soon as another database loses the extension or is dropped."),
                      errhint("Raise chronos.max_databases, then restart the server.")));
}

// Name, owner and whether an executor may connect (the database exists, accepts connections and is not a template: a
// template with a connected session could not be copied), looked up now and then, in the caller's transaction.
void look_up(Known *k, TimestampTz now) {
    if (k->looked_up_at != 0 && now - k->looked_up_at < kLookUpEveryMs * 1000)
        return;
    HeapTuple tuple = SearchSysCache1(DATABASEOID, ObjectIdGetDatum(k->database));
    k->servable = false;
    if (HeapTupleIsValid(tuple)) {
        Form_pg_database db = (Form_pg_database)GETSTRUCT(tuple);
        k->servable = db->datallowconn && !db->datistemplate;
        k->owner = db->datdba;
        strlcpy(k->name, NameStr(db->datname), NAMEDATALEN);
        ReleaseSysCache(tuple);
    }
    k->looked_up_at = now;
}

// Forgets the executors that stopped, noting when each database's last one did.
void forget_stopped_executors(TimestampTz now) {
    for (int i = 0; i < executor_count;) {
        pid_t pid;
        if (GetBackgroundWorkerPid(executors[i].handle, &pid) == BGWH_STOPPED) {
            known_database(executors[i].database)->stopped_at = now;
            pfree(executors[i].handle);
            executors[i] = executors[--executor_count];
        } else {
            i++;
        }
    }
}

// Executors running in the databases of `owner`.
int executors_of_owner(Oid owner) {
    int n = 0;
    for (int i = 0; i < executor_count; i++)
        n += known_database(executors[i].database)->owner == owner ? 1 : 0;
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
        return false;  // every background worker slot is taken
    executors[executor_count++] = {database, handle};
    return true;
}

// When a database whose executors exited with an error `failures` times in a row may have another: 1 s after the
// last stopped, doubling with each further failure up to a minute.
TimestampTz start_allowed_at(int failures, TimestampTz stopped_at) {
    if (failures <= 0 || stopped_at == 0)
        return 0;
    long delay = failures >= 7 ? kLastBackoffMs : Min(kFirstBackoffMs << (failures - 1), kLastBackoffMs);
    return TimestampTzPlusMilliseconds(stopped_at, delay);
}

// Once per step of the back-off: the database's executors keep exiting with an error.
void log_backoff(Known *k, int failures, TimestampTz allowed_at, TimestampTz now) {
    if (failures == k->failures_logged)
        return;
    k->failures_logged = failures;
    if (failures == 0)
        return;
    long seconds = allowed_at > now ? (long)((allowed_at - now + USECS_PER_SEC - 1) / USECS_PER_SEC) : 0;
    ereport(LOG, (errmsg("pg_chronos: the worker of database \"%s\" exited with an error %d time%s in a row; the "
                         "next starts in %ld s",
                         k->name[0] ? k->name : "?", failures, failures == 1 ? "" : "s", seconds),
                  errdetail("Each further failure doubles the wait, up to a minute; a worker that runs a step resets "
                            "it."),
                  errhint("The server log above says why the worker exited.")));
}

// Databases with work due have waited more than kWaitWarningMs for a worker slot: says so at most once a minute.
void warn_waiting(const Oid *waiting, int count, TimestampTz now) {
    if (wait_warned_at != 0 && now - wait_warned_at < kWarningEveryMs * 1000) {
        wait_warnings_held++;
        return;
    }
    StringInfoData names;
    initStringInfo(&names);
    for (int i = 0; i < count && i < 8; i++)
        appendStringInfo(&names, "%s\"%s\"", i == 0 ? "" : ", ", known_database(waiting[i])->name);
    if (count > 8)
        appendStringInfo(&names, " and %d more", count - 8);
    ereport(WARNING,
            (errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
             errmsg("pg_chronos: databases with due tasks wait for a background worker slot"),
             errdetail("%s waited more than %ld s; all %d background worker slots are taken (%d by pg_chronos "
                       "workers). Databases take turns, so their tasks run late.%s",
                       names.data, kWaitWarningMs / 1000, max_worker_processes, executor_count,
                       wait_warnings_held > 0
                           ? psprintf(" This was met " INT64_FORMAT " more times in the last minute.",
                                      wait_warnings_held)
                           : ""),
             errhint("Raise max_worker_processes (docs/sizing.md), then restart the server.")));
    wait_warned_at = now;
    wait_warnings_held = 0;
}

// A database that may have an executor started now.
struct Candidate {
    Oid database;
    TimestampTz due;
    int extra;  // executors wanted beyond those running (0: its first)
};

// One pass: starts the executors the databases need now; returns how long to sleep before the next pass (the
// launcher is woken earlier by commits, executors and their exits).
long serve_databases(void) {
    TimestampTz now = GetCurrentTimestamp();
    long sleep_ms = kIdleWakeMs;
    forget_stopped_executors(now);
    if (!chronos_enabled) {
        set_slots_contended(false);
        return sleep_ms;  // nothing runs: no executor is started (a reload turning it on wakes the launcher)
    }
    DatabaseEntry *entries =
        static_cast<DatabaseEntry *>(palloc(sizeof(DatabaseEntry) * Max(chronos_max_databases, 1)));
    int n = copy_database_entries(entries, chronos_max_databases);
    refresh_known(entries, n);
    // Databases that found the table full are checked again; now and then pg_database is read for databases that
    // appeared or became servable (a template no longer, connections allowed again).
    Oid overflowed[kOverflowedDatabases];
    int overflowed_count = take_overflowed_databases(overflowed, kOverflowedDatabases);
    for (int i = 0; i < overflowed_count; i++) {
        checked.remove(overflowed[i]);
        unchecked.add(overflowed[i]);
    }
    if (rescanned_at == 0 || now - rescanned_at >= kRescanEveryMs * 1000)
        look_for_databases(entries, n, now);
    Candidate *due = static_cast<Candidate *>(palloc(sizeof(Candidate) * (n + 1)));
    Candidate *extra = static_cast<Candidate *>(palloc(sizeof(Candidate) * (n + 1)));
    int due_count = 0, extra_count = 0;

    SetCurrentStatementStartTimestamp();
    StartTransactionCommand();
    for (int i = 0; i < n; i++) {
        const DatabaseEntry *e = &entries[i];
        int wanted = take_extra_wanted(e->database);
        if (!e->served || e->quiesced)
            continue;
        Known *k = known_database(e->database);
        int running = running_executors_in(e->database);
        // A database whose executors all drive runs in flight has none for its SQL tasks: it waits for a slot as a
        // database without executors does (and makes the others take turns when none is free).
        if (running > 0 && !executors_all_drive(e->database)) {
            k->waiting_since = 0;
            if (wanted > 0 && running < chronos_max_workers)
                extra[extra_count++] = {e->database, now, Min(wanted, chronos_max_workers - running)};
            continue;
        }
        if (running > 0) {
            // Its executors all drive runs in flight and one passed its SQL tasks over: it waits for a slot as a
            // database without executors does (the others take turns when none is free).
            if (wanted > 0)
                due[due_count++] = {e->database, now, 0};
            continue;
        }
        TimestampTz due_at = database_due_at(e);
        if (due_at == DT_NOEND) {
            k->waiting_since = 0;
            continue;
        }
        look_up(k, now);
        TimestampTz allowed_at = start_allowed_at(e->failed_starts, k->stopped_at);
        log_backoff(k, e->failed_starts, allowed_at, now);
        TimestampTz start_at = Max(due_at - kLaunchLeadMs * 1000, allowed_at);
        if (start_at > now) {
            sleep_ms = Min(sleep_ms, (long)((start_at - now) / 1000) + 1);
            continue;
        }
        due[due_count++] = {e->database, due_at, 0};
    }
    CommitTransactionCommand();

    // The owner with the fewest executors running first, then the database due the longest.
    std::sort(due, due + due_count, [](const Candidate &a, const Candidate &b) {
        int ra = executors_of_owner(known_database(a.database)->owner);
        int rb = executors_of_owner(known_database(b.database)->owner);
        return ra != rb ? ra < rb : a.due < b.due;
    });
    Oid *waiting = static_cast<Oid *>(palloc(sizeof(Oid) * (due_count + 1)));
    int waiting_count = 0;
    bool short_of_slots = false;
    for (int i = 0; i < due_count; i++) {
        Known *k = known_database(due[i].database);
        if (!k->servable) {
            forget_database(due[i].database);  // dropped, a template, or closed to connections
            checked.remove(due[i].database);   // looked for again once it is servable
            continue;
        }
        if (!short_of_slots && start_executor(due[i].database, k->name)) {
            k->waiting_since = 0;
            continue;
        }
        short_of_slots = true;
        if (k->waiting_since == 0)
            k->waiting_since = now;
        if (now - k->waiting_since > kWaitWarningMs * 1000)
            waiting[waiting_count++] = due[i].database;
    }
    // Extra executors for busy databases, and checks of databases not known yet, only while no database waits.
    for (int i = 0; i < extra_count && !short_of_slots; i++)
        for (int j = 0; j < extra[i].extra && !short_of_slots; j++)
            short_of_slots = !start_executor(extra[i].database, known_database(extra[i].database)->name);
    bool table_full = false;
    if (!short_of_slots && unchecked.count > 0) {
        SetCurrentStatementStartTimestamp();
        StartTransactionCommand();
        while (unchecked.count > 0 && !short_of_slots) {
            Oid database = unchecked.oids[unchecked.count - 1];
            Known *k = known_database(database);
            look_up(k, now);
            if (k->servable && running_executors_in(database) == 0) {
                if (!consider_database(database)) {
                    table_full = true;  // checked once an entry is free
                    warn_table_full(database, now);
                    break;
                }
                short_of_slots = !start_executor(database, k->name);
                if (short_of_slots)
                    break;
            }
            if (k->servable)
                checked.add(database);
            unchecked.remove(database);
        }
        CommitTransactionCommand();
    }

    // Every database due got a slot, or some wait: then idle executors elsewhere leave, and each database may keep
    // one executor, which leaves after its turn.
    bool contended = waiting_count > 0 || (short_of_slots && due_count > 0);
    set_slots_contended(contended);
    for (int i = 0; i < n; i++)
        if (entries[i].served)
            set_executor_cap(entries[i].database, contended ? 1 : 0);
    if (contended) {
        wake_idle_executors_everywhere();
        sleep_ms = Min(sleep_ms, kContendedWakeMs);
    }
    if (waiting_count > 0)
        warn_waiting(waiting, waiting_count, now);
    if (unchecked.count > 0)
        sleep_ms = Min(sleep_ms, table_full ? kTableFullWakeMs : kContendedWakeMs);
    pfree(entries);
    pfree(due);
    pfree(extra);
    pfree(waiting);
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

    MemoryContext pass_context = AllocSetContextCreate(TopMemoryContext, "pg_chronos launcher", ALLOCSET_DEFAULT_SIZES);
    for (;;) {
        MemoryContext old = MemoryContextSwitchTo(pass_context);
        long sleep_ms = serve_databases();
        MemoryContextSwitchTo(old);
        MemoryContextReset(pass_context);
        (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, sleep_ms, PG_WAIT_EXTENSION);
        ResetLatch(MyLatch);
        CHECK_FOR_INTERRUPTS();
        if (ConfigReloadPending) {
            ConfigReloadPending = false;
            int retention = chronos_history_retention_s;
            ProcessConfigFile(PGC_SIGHUP);
            // Runs may have expired under the new retention: every database is visited to delete them.
            if (chronos_history_retention_s != retention)
                visit_every_database();
        }
    }
}
