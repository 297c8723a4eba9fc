// An executor: a background worker connected to one database that claims due tasks, runs them and records the outcome
// (claim → run → record), and otherwise sleeps. One executor per database is the watcher: it sleeps until the earliest
// next_exec_time; the others sleep until woken and retire when idle for a while.
#include "catalog.hpp"
#include "command_kind.hpp"
#include "next_exec_time.hpp"
#include "settings.hpp"
#include "shared_state.hpp"
#include "task_run.hpp"

extern "C" {
#include "access/xact.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "tcop/tcopprot.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "executor/spi.h"
}

extern "C" PGDLLEXPORT void chronos_executor_main(Datum main_arg);

namespace {

constexpr long kSafetyPollMs = 60 * 1000L;  // a watcher re-checks at least this often
constexpr long kRetireAfterMs = 60 * 1000L; // an idle executor that is not the watcher exits after this

MemoryContext run_context;
// The task being run, kept outside any stack frame so that the error handler can record it.
ClaimedTask current_task;
bool has_current_task;
TimestampTz current_started_at;

enum class Step { ran, idle, extension_gone };
// What the last step did, and the earliest next_exec_time it saw (outside any frame: set inside PG_TRY).
Step last_step;
TimestampTz next_due;

void begin_transaction(void) {
    SetCurrentStatementStartTimestamp();
    StartTransactionCommand();
    SPI_connect();
    PushActiveSnapshot(GetTransactionSnapshot());
}

void commit_transaction(void) {
    SPI_finish();
    PopActiveSnapshot();
    CommitTransactionCommand();
}

// What the task becomes after a run with this outcome.
void decide_record(const ClaimedTask *task, const RunOutcome *outcome, TimestampTz started_at, RunRecord *record) {
    record->finished_at = GetCurrentTimestamp();
    record->started_at = started_at;
    record->run_status = outcome->succeeded ? "succeeded" : "failed";
    record->error = outcome->error;
    record->result = outcome->result;
    record->has_next = false;
    record->next_exec_time = 0;
    if (!task->is_loop) {
        record->task_status = outcome->succeeded ? "done" : "failed";
        return;
    }
    record->task_status = "scheduled";
    chronos::CoreError error;
    if (compute_next_exec_time(task->schedule, task->timezone, task->start_time, record->finished_at,
                               &record->next_exec_time, &error)) {
        record->has_next = true;
    } else {
        record->task_status = "failed";
        record->error = psprintf("%s: %s", error.message, error.detail);
    }
}

// Whether the command runs in one transaction with its bookkeeping; a command that does not parse fails its run.
bool classify_for_run(const ClaimedTask *task, CommandKind *kind, RunOutcome *failure) {
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
    return parsed;
}

void report_activity(const ClaimedTask *task) {
    char *activity = psprintf("pg_chronos task %s: %s", task->name ? task->name : "", task->command);
    pgstat_report_activity(STATE_RUNNING, activity);
}

// Claims one due task and runs it, setting last_step and next_due (the earliest next_exec_time seen afterwards, so that
// an executor with nothing more to do goes to sleep without another transaction).
void run_one_due_task(void) {
    MemoryContextReset(run_context);
    MemoryContextSwitchTo(run_context);
    begin_transaction();
    if (!extension_is_installed()) {
        commit_transaction();
        last_step = Step::extension_gone;
        return;
    }
    has_current_task = claim_due_task(GetCurrentTimestamp(), run_context, &current_task);
    if (!has_current_task) {
        next_due = earliest_next_exec_time();
        commit_transaction();
        last_step = Step::idle;
        return;
    }
    last_step = Step::ran;
    hand_over_watch(chronos_max_workers);
    current_started_at = GetCurrentTimestamp();
    MemoryContextSwitchTo(run_context);

    ClaimedTask *task = &current_task;
    CommandKind kind;
    RunOutcome outcome;
    Oid owner = get_role_oid(task->owner, true);
    bool runnable = OidIsValid(owner);
    if (!runnable) {
        outcome.succeeded = false;
        outcome.error = psprintf("42704: role \"%s\" does not exist", task->owner);
        outcome.result = NULL;
    } else {
        runnable = classify_for_run(task, &kind, &outcome);
    }
    bool transactional = !runnable || (task->transactional >= 0 ? task->transactional == 1 : !kind.needs_top_level);
    publish_run(task->id, task->scheduled_for, current_started_at, transactional);
    report_activity(task);

    RunRecord record;
    if (transactional) {
        if (runnable)
            run_in_transaction(task->command, owner, kind.last_tag, &outcome);
        reset_session_state_in_transaction(false);
        decide_record(task, &outcome, current_started_at, &record);
        record_run(task, &record);
        next_due = earliest_next_exec_time();
        commit_transaction();
    } else {
        int64 run_id = record_run_start(task, current_started_at);
        commit_transaction();
        MemoryContextSwitchTo(run_context);
        run_at_top_level(task->command, owner, &outcome);
        begin_transaction();
        reset_session_state_in_transaction(true);
        decide_record(task, &outcome, current_started_at, &record);
        record_run_end(task, run_id, &record);
        next_due = earliest_next_exec_time();
        commit_transaction();
    }
    reset_session_state_after_commit();
    has_current_task = false;
    clear_run();
    pgstat_report_activity(STATE_IDLE, NULL);
}

// After an error escaped a run (the bookkeeping itself failed): record the run as failed in a fresh transaction and move
// the task on, so that one bad task cannot stop the executor or make it spin.
void record_escaped_error(const char *message) {
    if (!has_current_task)
        return;
    has_current_task = false;
    RunOutcome outcome = {false, psprintf("XX000: %s", message), NULL};
    begin_transaction();
    RunRecord record;
    decide_record(&current_task, &outcome, current_started_at, &record);
    record_run(&current_task, &record);
    commit_transaction();
}

void recover_from_error(void) {
    MemoryContextSwitchTo(run_context);
    ErrorData *edata = CopyErrorData();
    EmitErrorReport();
    FlushErrorState();
    AbortCurrentTransaction();
    writing_bookkeeping = false;
    clear_run();
    give_run_permit();
    pgstat_report_activity(STATE_IDLE, NULL);

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
    has_current_task = false;
    pg_usleep(100 * 1000L);
}

// Sleeps until work may be due. Returns false when this executor, idle and not the watcher, should retire.
bool wait_for_work(TimestampTz wake_at) {
    bool watcher = take_watch(wake_at);
    long timeout = kRetireAfterMs;
    if (watcher) {
        timeout = kSafetyPollMs;
        if (wake_at != DT_NOEND) {
            TimestampTz now = GetCurrentTimestamp();
            long until_due_ms = wake_at <= now ? 0 : (long)((wake_at - now + 999) / 1000);
            timeout = Min(timeout, until_due_ms);
        }
    }
    int rc = WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, timeout, PG_WAIT_EXTENSION);
    ResetLatch(MyLatch);
    // Awake: any task committed from now on must wake us again, so advertise no sleep.
    if (watcher)
        take_watch(DT_NOEND);
    return !(rc & WL_TIMEOUT) || watcher;
}

void executor_loop(void) {
    for (;;) {
        CHECK_FOR_INTERRUPTS();
        if (ConfigReloadPending) {
            ConfigReloadPending = false;
            ProcessConfigFile(PGC_SIGHUP);
        }
        last_step = Step::idle;
        next_due = DT_NOEND;
        if (chronos_enabled && take_run_permit(chronos_max_workers)) {
            PG_TRY();
            {
                run_one_due_task();
            }
            PG_CATCH();
            {
                recover_from_error();
                last_step = Step::ran;
                next_due = DT_NOBEGIN;
            }
            PG_END_TRY();
            give_run_permit();
        }
        if (last_step == Step::extension_gone) {
            mark_database_served(MyDatabaseId, false);
            proc_exit(0);
        }
        if (last_step == Step::ran && next_due <= GetCurrentTimestamp())
            continue;
        if (!wait_for_work(next_due))
            proc_exit(0);
    }
}

}  // namespace

extern "C" void chronos_executor_main(Datum main_arg) {
    Oid database = DatumGetObjectId(main_arg);
    pqsignal(SIGHUP, SignalHandlerForConfigReload);
    pqsignal(SIGTERM, die);
    BackgroundWorkerUnblockSignals();

    if (!executor_attach(database))
        proc_exit(0);
    BackgroundWorkerInitializeConnectionByOid(database, InvalidOid, 0);
    SetConfigOption("application_name", "pg_chronos worker", PGC_USERSET, PGC_S_OVERRIDE);
    pgstat_report_appname("pg_chronos worker");
    run_context = AllocSetContextCreate(TopMemoryContext, "pg_chronos run", ALLOCSET_DEFAULT_SIZES);

    begin_transaction();
    bool installed = extension_is_installed();
    if (installed) {
        int recovered = recover_interrupted_runs();
        if (recovered > 0)
            ereport(LOG, (errmsg("pg_chronos: marked %d run(s) left behind by a stopped worker as interrupted", recovered)));
    }
    commit_transaction();
    if (!installed) {
        mark_database_served(database, false);
        proc_exit(0);
    }
    executor_loop();
}
