// An executor: a background worker connected to one database that repeats run_one_step (claim → run → record) while
// tasks are due, and otherwise sleeps. One executor per database is the watcher: it sleeps until the earliest
// next_exec_time and keeps chronos.runs within chronos.history_retention; the others sleep until woken. A database
// holds a worker slot only while it has work: an executor with nothing due within kLingerMs leaves (at once while
// another database waits for a slot, and after its turn when its own work goes on), recording when the database next
// needs one; the launcher starts one a little before then (launcher_worker.cpp).
#include "pg/run/run_statements.hpp"
#include "pg/catalog/database_trust.hpp"
#include "pg/catalog/handler_binding.hpp"
#include "pg/run/deferred_runs.hpp"
#include "pg/run/run_journal.hpp"
#include "pg/run/run_step.hpp"
#include "pg/run/in_flight.hpp"
#include "pg/workers/session_settings.hpp"
#include "pg/settings.hpp"
#include "pg/workers/database_table.hpp"
#include "pg/workers/executor_slots.hpp"
#include "pg/workers/run_permits.hpp"
#include "pg/workers/runs_in_progress.hpp"
#include "pg/kinds/sql/sql_run.hpp"
#include "pg/catalog/extension_version.hpp"
#include "pg/run/history_prune.hpp"
#include "pg/run/run_recovery.hpp"

extern "C" {
#include "access/xact.h"
#include "commands/dbcommands.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
}

extern "C" PGDLLEXPORT void chronos_executor_main(Datum main_arg);

namespace {

constexpr long kSafetyPollMs = 60 * 1000L;     // a watcher re-checks at least this often
constexpr long kLingerMs = 5 * 1000L;          // an idle executor leaves its database after this (at once when another
                                               // database waits for a worker slot), unless work is due by then
constexpr long kPruneEveryMs = 60 * 1000L;     // how often an executor there deletes a database's expired runs
constexpr long kPruneBacklogMs = 1000L;        // … while a full batch was deleted last time
constexpr long kPruneVisitMs = 60 * 60 * 1000L;  // a database with runs kept is visited at least this often for it
constexpr int kHeldRowRetryMs = 100;           // a due task whose row a session holds, or whose owner is at
                                               // chronos.max_runs_per_owner, is looked at this often

MemoryContext error_context;
bool healthy = false;          // this executor completed a step
// The earliest due time its last step saw (DT_NOBEGIN before its first: look at once), what it tells the launcher
// when it leaves.
TimestampTz known_next_due = DT_NOBEGIN;

// The step's results live outside any stack frame: they are set inside PG_TRY.
Step last_step;
TimestampTz next_due;
int due_together;

// An error escaped a step: record the run it was doing as failed, then go on — unless the step had run a task's code,
// whose effects on the session (advisory locks, settings, anything the recording transaction would have undone) can
// no longer be trusted to be gone: then the executor exits after recording (fails closed) and another replaces it.
void recover_from_error(void) {
    MemoryContextSwitchTo(error_context);
    ErrorData *edata = CopyErrorData();
    EmitErrorReport();
    FlushErrorState();
    bool session_touched = step_ran_command();
    AbortCurrentTransaction();
    writing_bookkeeping = false;
    clear_run();
    give_run_permit(chronos_max_workers);
    pgstat_report_activity(STATE_IDLE, NULL);

    if (session_touched) {
        // The run is recorded by the next executor, from the journal, as a run that ended its worker.
        journal_run_abandoned(psprintf("%s: %s", unpack_sql_state(edata->sqlerrcode), edata->message));
        ereport(LOG, (errmsg("pg_chronos: worker exits after an error outside its task's command"),
                      errdetail("The session the command ran in is not used for another run; a new worker takes over.")));
        proc_exit(1);
    }
    PG_TRY();
    {
        record_escaped_error(edata->message);
    }
    PG_CATCH();
    {
        EmitErrorReport();
        FlushErrorState();
        AbortCurrentTransaction();
        writing_bookkeeping = false;
    }
    PG_END_TRY();
    MemoryContextReset(error_context);
    pg_usleep(100 * 1000L);
}

// Pruning takes a few milliseconds: the watcher prunes when no task is due for at least kPruneQuietUs, or, under
// continuous load, once pruning is kPruneOverdueUs late; while it has a backlog (the last batch was full), it goes on
// with one batch every kPruneBacklogMs whatever is due, so that it deletes faster than runs are added.
constexpr int64 kPruneQuietUs = 250 * 1000;
constexpr int64 kPruneOverdueUs = 10 * USECS_PER_SEC;
bool prune_backlog = false;

// The watcher deletes runs older than chronos.history_retention, one small batch per wake-up, when nothing is due soon.
void prune_expired_runs(TimestampTz next_due) {
    TimestampTz now = GetCurrentTimestamp();
    TimestampTz next_prune = next_prune_of_database();
    if (chronos_history_retention_s <= 0 || now < next_prune)
        return;
    if (!prune_backlog && next_due - now < kPruneQuietUs && now - next_prune < kPruneOverdueUs)
        return;
    SetCurrentStatementStartTimestamp();
    StartTransactionCommand();
    SPI_connect();
    PushActiveSnapshot(GetTransactionSnapshot());
    pgstat_report_activity(STATE_RUNNING, "pg_chronos: deleting expired runs");
    int64 deleted = prune_history(now - (TimestampTz)chronos_history_retention_s * USECS_PER_SEC);
    SPI_finish();
    PopActiveSnapshot();
    CommitTransactionCommand();
    pgstat_report_activity(STATE_IDLE, NULL);
    prune_backlog = deleted >= kPruneBatch;
    set_next_prune_of_database(TimestampTzPlusMilliseconds(now, prune_backlog ? kPruneBacklogMs : kPruneEveryMs));
}

// The executor leaves its database (no work is due before `next_due`, or another database needs the worker slot): it
// records when the database next needs an executor — its next due task, or the next deletion of expired runs — for
// the launcher, which starts one a little before then. A task committed meanwhile is handed over at its exit.
void leave_database(TimestampTz next_due) {
    TimestampTz now = GetCurrentTimestamp();
    TimestampTz due = next_due <= now ? now : next_due;
    if (chronos_history_retention_s > 0) {
        // Expired runs are deleted at the next visit after the oldest run kept expires (within a minute of then,
        // and at least hourly while they go on expiring).
        TimestampTz expires = DT_NOEND;
        SetCurrentStatementStartTimestamp();
        StartTransactionCommand();
        SPI_connect();
        PushActiveSnapshot(GetTransactionSnapshot());
        TimestampTz oldest = extension_is_installed() ? oldest_run_start() : DT_NOEND;
        SPI_finish();
        PopActiveSnapshot();
        CommitTransactionCommand();
        if (oldest != DT_NOEND)
            expires = oldest + (TimestampTz)chronos_history_retention_s * USECS_PER_SEC;
        TimestampTz earliest = Max(next_prune_of_database(),
                                   TimestampTzPlusMilliseconds(now, prune_backlog ? kPruneBacklogMs : kPruneEveryMs));
        due = Min(due, Min(Max(expires, earliest), TimestampTzPlusMilliseconds(now, kPruneVisitMs)));
    }
    set_database_next_due(due, last_catalog_look());
    proc_exit(0);
}

// Sleeps until work may be due. Returns false when this executor should leave its database: it is idle (nothing due
// before `wake_at`) and has been for kLingerMs, or another database waits for its worker slot.
// The watcher sleeps until its deadline, which other executors and committing sessions lower when they learn of an
// earlier due time; woken for that alone, it sleeps on without looking at the catalog. Any other wake-up (a permit
// freed, the extension dropped, a signal) sends it back to claim. WaitLatch counts whole milliseconds: the watcher
// sleeps to the millisecond before its deadline and finishes with a sub-millisecond sleep. When a group of tasks
// (`together`, at least kWarmUpTogether) is due at the deadline, it first wakes kWarmUpLeadUs before it, with the idle executors: each
// looks for work (none is due yet), which loads what the runs will need.
bool wait_for_work(TimestampTz wake_at, int together) {
    TimestampTz idle_since = GetCurrentTimestamp();
    TimestampTz leave_at = TimestampTzPlusMilliseconds(idle_since, kLingerMs);
    bool watcher = take_watch(wake_at, true);
    if (!watcher) {
        pgstat_report_stat(true);
        set_asleep(true);
        int rc = WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, kLingerMs, PG_WAIT_EXTENSION);
        set_asleep(false);
        ResetLatch(MyLatch);
        return !(rc & WL_TIMEOUT);
    }
    prune_expired_runs(wake_at);
    TimestampTz deadline = watch_deadline();
    // Nothing due within the linger: the watcher wakes at its end, and leaves unless work came meanwhile.
    bool lingering = deadline > leave_at;
    // Several tasks due together: wake a little before them, and have every idle executor get ready (kWarmUpLeadUs).
    TimestampTz warm_up_at = DT_NOEND;
    if (together >= kWarmUpTogether && deadline == wake_at && wake_at - GetCurrentTimestamp() > kWarmUpLeadUs)
        warm_up_at = wake_at - kWarmUpLeadUs;
    for (;;) {
        TimestampTz now = GetCurrentTimestamp();
        // A prune that is due wakes the watcher too, unless it was put off for a task due soon.
        TimestampTz next_prune = next_prune_of_database();
        TimestampTz until = chronos_history_retention_s > 0 && next_prune > now ? Min(deadline, next_prune) : deadline;
        until = Min(Min(until, warm_up_at), lingering ? leave_at : DT_NOEND);
        long timeout = kSafetyPollMs;
        if (until != DT_NOEND)
            timeout = Min(timeout, until <= now ? 0 : (long)((until - now) / 1000));
        // Background workers flush their own statistics (autovacuum needs them for chronos.tasks and chronos.runs):
        // before a long sleep always, otherwise at most once a second.
        pgstat_report_stat(timeout >= 1000);
        set_asleep(true);
        int rc = WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, timeout, PG_WAIT_EXTENSION);
        set_asleep(false);
        ResetLatch(MyLatch);
        now = GetCurrentTimestamp();
        if (rc & WL_TIMEOUT) {
            if (now < until && until - now <= 2000)
                pg_usleep((long)(until - now));
            if (until == warm_up_at)
                wake_idle_executors();
            if (lingering && until == leave_at && watch_deadline() > leave_at)
                return false;  // still nothing due: the executor leaves (its deadline is handed over at exit)
            break;
        }
        TimestampTz lowered = watch_deadline();
        if (lowered < deadline && lowered > now) {
            deadline = lowered;  // woken only to move the deadline earlier
            lingering = deadline > leave_at;
            continue;
        }
        break;
    }
    // Awake: any task committed from now on must wake us again, so advertise no sleep.
    take_watch(DT_NOEND, false);
    return true;
}

// When to look again for runs to recover that a session's lock kept from being recorded; 0: none left.
TimestampTz recovery_retry_at = 0;
constexpr long kRecoveryRetryMs = 1000;

// Another executor of this database ended during a run: record it (and quarantine its task if it keeps doing that).
// Restored rows may also have brought runs left 'running' by the dumped database: they are recorded as interrupted.
// A run whose task row a session locks is left for a later look.
void record_ended_runs(void) {
    SetCurrentStatementStartTimestamp();
    StartTransactionCommand();
    SPI_connect();
    PushActiveSnapshot(GetTransactionSnapshot());
    bool left = false;
    if (extension_is_installed()) {
        (void)recover_ended_runs(&left);
        (void)recover_interrupted_runs(&left);
    }
    SPI_finish();
    PopActiveSnapshot();
    CommitTransactionCommand();
    recovery_retry_at = left ? TimestampTzPlusMilliseconds(GetCurrentTimestamp(), kRecoveryRetryMs) : 0;
}

// While runs are in flight, the executor sleeps in short waits over their descriptors instead (kInFlightWaitMs, and no
// longer than until `wake_at`): it is woken by its latch within that, takes the watch as a sleeping executor would,
// and never leaves its database while a run is in flight.
constexpr int kInFlightWaitMs = 10;

void wait_with_runs_in_flight(TimestampTz wake_at) {
    (void)take_watch(wake_at, true);
    for (;;) {
        TimestampTz now = GetCurrentTimestamp();
        TimestampTz until = Min(wake_at, watch_deadline());
        if (until <= now || in_flight_count() == 0)
            break;
        int wait_ms = (int)Min((int64)kInFlightWaitMs, (until - now + 999) / 1000);
        TimestampTz next = advance_in_flight(wait_ms);
        if (next != DT_NOEND && next < wake_at)
            wake_at = next;
        CHECK_FOR_INTERRUPTS();
        if (MyLatch->is_set) {
            ResetLatch(MyLatch);
            break;
        }
    }
    take_watch(DT_NOEND, false);
}

void executor_loop(void) {
    for (;;) {
        CHECK_FOR_INTERRUPTS();
        // The database is being copied, renamed or moved: it needs no other session, so an executor leaves by itself.
        if (database_quiesced(MyDatabaseId))
            proc_exit(0);
        if (ConfigReloadPending) {
            ConfigReloadPending = false;
            ProcessConfigFile(PGC_SIGHUP);
        }
        // Another database needs this worker slot more, or nothing may run now: give it back (this executor holds no
        // permit and runs nothing); the launcher starts one again when work is due and may run.
        bool in_flight = in_flight_count() > 0;
        if (in_flight)
            (void)advance_in_flight(0);
        if (!in_flight && (executor_should_retire() || !chronos_enabled))
            leave_database(known_next_due);
        last_step = Step::idle;
        next_due = DT_NOEND;
        due_together = 0;
        if (ended_runs_pending() || (recovery_retry_at != 0 && recovery_retry_at <= GetCurrentTimestamp()))
            record_ended_runs();
        // Runs whose recording waited for a session's lock: recorded once it is free (no permit needed).
        if (next_deferred_retry() <= GetCurrentTimestamp())
            (void)record_deferred_runs();
        if (!chronos_enabled || !take_run_permit(chronos_max_workers)) {
            // Every run permit is taken: this executor is queued for one (a permit given back wakes it); meanwhile
            // it drives its runs in flight.
            if (in_flight_count() > 0) {
                (void)advance_in_flight(kInFlightWaitMs);
                continue;
            }
            (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, kSafetyPollMs,
                            PG_WAIT_EXTENSION);
            ResetLatch(MyLatch);
            continue;
        }
        PG_TRY();
        {
            TimestampTz due = DT_NOEND;
            int together = 0;
            last_step = run_one_step(&due, &together);
            next_due = due;
            due_together = together;
        }
        PG_CATCH();
        {
            recover_from_error();
            last_step = Step::ran;
            next_due = DT_NOBEGIN;
        }
        PG_END_TRY();
        give_run_permit(chronos_max_workers);
        end_drive(in_flight_count() > 0);
        if (last_step == Step::extension_gone) {
            withdraw_database_service(MyDatabaseId);
            proc_exit(0);
        }
        known_next_due = next_due;
        // A run loaded a library: this session may hold what the library keeps for it (a dblink connection), which
        // the next run, perhaps of another owner, could use. A new executor takes over.
        if (run_loaded_a_library() && next_deferred_retry() == DT_NOEND && in_flight_count() == 0) {
            ereport(DEBUG1, (errmsg("pg_chronos: worker leaves: a run loaded a library into its session")));
            leave_database(DT_NOBEGIN);
        }
        if (!healthy) {
            healthy = true;
            note_executor_healthy();
        }
        TimestampTz now = GetCurrentTimestamp();
        // Another database waits for a worker slot: this executor leaves when nothing is due here now, or, with work
        // still due, once it has had its turn.
        if (slots_contended() && next_deferred_retry() == DT_NOEND && in_flight_count() == 0 &&
            (next_due > TimestampTzPlusMilliseconds(now, kLaunchLeadMs) ||
             now - executor_attached_at() >= kTurnMs * 1000))
            leave_database(next_due);
        if (last_step == Step::ran && next_due <= now)
            continue;
        // Nothing could be claimed although a task is due: another session holds its row. Look again a little later,
        // not at once (new work still wakes this executor at once).
        if (last_step == Step::idle && next_due <= now)
            next_due = TimestampTzPlusMilliseconds(now, kHeldRowRetryMs);
        next_due = Min(next_due, next_deferred_retry());
        if (recovery_retry_at != 0)
            next_due = Min(next_due, recovery_retry_at);
        if (in_flight_count() > 0) {
            wait_with_runs_in_flight(next_due);
            continue;
        }
        if (!wait_for_work(next_due, due_together) && next_deferred_retry() == DT_NOEND && recovery_retry_at == 0)
            leave_database(known_next_due);
    }
}

// A worker waits at most this long for a lock while it connects and prepares its database: a session that holds
// one (ALTER DATABASE … RENAME or LOCK TABLE chronos.tasks in an open transaction) would otherwise keep the worker,
// and its slot, for as long as it likes. The worker exits with the error instead; the launcher retries with back-off.
constexpr const char *kStartLockTimeout = "1s";

void start_context(void *) {
    errcontext("pg_chronos worker starting in its database (it waits at most %s for a lock, then retries later)",
               kStartLockTimeout);
}

// At start: leave if the extension is not (or no longer) there; repair runs a stopped worker left behind.
bool prepare_database(void) {
    ErrorContextCallback context = {error_context_stack, start_context, NULL};
    error_context_stack = &context;
    SetCurrentStatementStartTimestamp();
    StartTransactionCommand();
    (void)set_config_option("lock_timeout", kStartLockTimeout, PGC_SUSET, PGC_S_SESSION, GUC_ACTION_LOCAL, true, 0,
                            false);
    SPI_connect();
    PushActiveSnapshot(GetTransactionSnapshot());
    bool installed = extension_is_installed();
    char *version = installed ? installed_extension_version() : NULL;
    bool current = catalog_version_served(version);
    if (installed && !current)
        ereport(LOG, (errmsg("pg_chronos: database \"%s\" has version %s of the extension; this library serves %s",
                             get_database_name(MyDatabaseId), version ? version : "?", kCatalogVersion),
                      errdetail("Its tasks do not run until the extension is updated."),
                      errhint("Run ALTER EXTENSION pg_chronos UPDATE in that database.")));
    else if (installed && strcmp(version, kCatalogVersion) != 0)
        ereport(DEBUG1, (errmsg("pg_chronos: database \"%s\" has version %s of the extension; its tasks run with "
                                "that version's features until it is updated to %s",
                                get_database_name(MyDatabaseId), version, kCatalogVersion)));
    installed = installed && current;
    // A copy of another database (CREATE DATABASE … TEMPLATE): before anything runs, its tasks of roles the copy's
    // owner is not a member of are held.
    int held = installed ? hold_copied_tasks() : -1;
    if (held >= 0)
        ereport(LOG, (errmsg("pg_chronos: database \"%s\" is a copy of another database; %d task(s) are held",
                             get_database_name(MyDatabaseId), held),
                      errdetail("Tasks of roles the database's owner is not a member of wait until a member of their "
                                "owner releases them (chronos.task_status says how); superusers' tasks also wait for "
                                "a superuser to trust the database.")));
    // After pg_upgrade: the event handlers, bound by function OID, are bound again by name before anything runs.
    int bound = installed ? bind_handlers_to_this_cluster() : -1;
    if (bound >= 0)
        ereport(LOG, (errmsg("pg_chronos: database \"%s\" was moved to this cluster (pg_upgrade); %d event handler "
                             "binding(s) were made again by name", get_database_name(MyDatabaseId), bound)));
    bool left = false;
    int recovered = installed ? recover_ended_runs(&left) + recover_interrupted_runs(&left) : 0;
    if (left)
        recovery_retry_at = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), kRecoveryRetryMs);
    if (installed)
        prepare_statements();
    SPI_finish();
    PopActiveSnapshot();
    CommitTransactionCommand();
    error_context_stack = context.previous;
    if (recovered > 0)
        ereport(LOG, (errmsg("pg_chronos: marked %d run(s) left behind by a stopped worker as interrupted", recovered)));
    return installed;
}

}  // namespace

namespace {

// SIGTERM came (pg_terminate_backend, a database command that needs the database to itself, a restart): the exit it
// causes is not the database's failure.
volatile sig_atomic_t terminated = false;

void on_terminate(SIGNAL_ARGS) {
    terminated = true;
    die(postgres_signal_arg);
}

// An executor that exits with an error counts against its database's starts (the launcher backs off); a clean exit
// (leaving, retiring) does not, nor one during a run: that run is the task's doing, recorded by the next executor
// against the task (its crash_count), and must not hold back the database's other tasks; nor one that was terminated.
void note_exit(int code, Datum) {
    if (code == 0)
        return;
    if (!journal_run_in_progress() && !terminated)
        note_executor_failure();
    set_database_next_due(GetCurrentTimestamp(), 0);  // another comes (after the launcher's back-off, if any)
}

}  // namespace

extern "C" void chronos_executor_main(Datum main_arg) {
    Oid database = DatumGetObjectId(main_arg);
    pqsignal(SIGHUP, SignalHandlerForConfigReload);
    pqsignal(SIGTERM, on_terminate);
    BackgroundWorkerUnblockSignals();

    if (!executor_attach(database))
        proc_exit(0);
    before_shmem_exit(note_exit, 0);
    pin_worker_settings();
    capture_server_settings();
    ErrorContextCallback context = {error_context_stack, start_context, NULL};
    error_context_stack = &context;
    SetConfigOption("lock_timeout", kStartLockTimeout, PGC_SUSET, PGC_S_OVERRIDE);
    BackgroundWorkerInitializeConnectionByOid(database, InvalidOid, 0);
    error_context_stack = context.previous;
    // The database's ALTER DATABASE … SET settings, which its owner may choose, are undone: none may change who the
    // worker is, make its transactions read-only, turn its errors into exits or its lock waits into errors. A task
    // owner's login settings apply to its runs (session_settings.cpp).
    drop_stored_settings();
    SetConfigOption("application_name", "pg_chronos worker", PGC_USERSET, PGC_S_OVERRIDE);
    pgstat_report_appname("pg_chronos worker");
    error_context = AllocSetContextCreate(TopMemoryContext, "pg_chronos error", ALLOCSET_DEFAULT_SIZES);
    journal_open();
    remember_clean_session();
    init_run_step();

    if (!prepare_database()) {
        withdraw_database_service(database);
        proc_exit(0);
    }
    confirm_database_served(database);
    executor_loop();
}
