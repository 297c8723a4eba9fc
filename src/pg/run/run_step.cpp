// One executor step: claim → run → record (see run_step.hpp). Functions here keep plain data on their frames; the
// task being run lives in statics so that the error path can still record it.
#include "pg/run/run_step.hpp"

#include "pg/run/run_timeout.hpp"
#include "pg/run/run_outcome.hpp"
#include "pg/run/in_flight.hpp"
#include "pg/workers/executor_slots.hpp"
#include "pg/run/run_statements.hpp"
#include "pg/run/claim.hpp"
#include "pg/kinds/task_kind.hpp"
#include "pg/catalog/database_trust.hpp"
#include "pg/run/deferred_runs.hpp"
#include "pg/bridge/pg_time_zone.hpp"
#include "pg/run/run_identity.hpp"
#include "pg/run/run_journal.hpp"
#include "pg/run/run_log.hpp"
#include "pg/settings.hpp"
#include "pg/workers/executor_slots.hpp"
#include "pg/workers/runs_in_progress.hpp"
#include "pg/kinds/sql/sql_run.hpp"
#include "pg/run/catalog_locks.hpp"
#include "pg/catalog/extension_version.hpp"

extern "C" {
#include "access/xact.h"
#include "commands/dbcommands.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timeout.h"
#include "utils/timestamp.h"
}

namespace {

MemoryContext run_context;
ClaimedTask current_task;
bool has_current_task;
bool command_started;  // a task's code ran in this step: the session may be changed until the step ends
TimestampTz current_started_at;

// Executors for tasks due together are started ahead of time when they are due within this long (less than the time
// an idle executor waits before it retires).
constexpr int64 kPoolLookAheadUs = 60 * USECS_PER_SEC;


// When the latest transaction of a step began: the next due time a step returns was read in it, so it saw every task
// committed before then.
TimestampTz latest_look = 0;

void begin_transaction(void) {
    latest_look = GetCurrentTimestamp();
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

chronos::RunOutcomeKind outcome_kind(const RunOutcome *outcome) {
    if (outcome->succeeded)
        return chronos::RunOutcomeKind::succeeded;
    if (run_timed_out())
        return chronos::RunOutcomeKind::timed_out;
    if (run_cancel_requested())
        return chronos::RunOutcomeKind::cancelled;
    return chronos::RunOutcomeKind::failed;
}

// How long an executor that found only due rows a session holds locked waits before it looks again.
constexpr int kLockedRowsBackoffMs = 100;

// A requested manual run (chronos.run_now()) first, else the earliest due task; of the kinds this executor may take
// now (claim.hpp). Tasks it passed over for their kind are left to another executor, which is woken or started.
bool claim_task(TimestampTz now) {
    if (in_flight_count() > 0 && (!in_flight_room() || turn_is_over()))
        return false;  // it takes only runs in flight: none while the cluster has as many as it may, or past its turn
    ClaimKinds kinds = in_flight_count() > 0
                           ? ClaimKinds::in_flight_only
                           : (in_flight_room() && may_drive_in_flight(chronos_max_workers) ? ClaimKinds::any
                                                                                          : ClaimKinds::step_only);
    bool claimed = false;
    if (take_manual_request(MyDatabaseId)) {
        claimed = claim_requested_task(now, run_context, &current_task, kinds);
        if (claimed || claim_passed_over_kinds() || claim_gave_up())
            request_manual_runs(MyDatabaseId);  // there may be more, or requests it has not looked at yet
    }
    if (!claimed)
        claimed = claim_due_task(now, run_context, &current_task, kinds);
    if (kinds == ClaimKinds::in_flight_only && (claim_passed_over_kinds() || step_tasks_due(now)))
        share_work(chronos_max_workers, 1, true);
    return claimed;
}

// For a late loop task: whether it runs (and for which slot), or its missed slots are skipped.
bool catch_up_allows_run(ClaimedTask *task, TimestampTz now) {
    if (task->manual || !task->is_loop || task->attempt > 1)
        return true;
    chronos::TimeZone zone;
    chronos::CoreError error;
    chronos::CatchUpDecision decision;
    if (!find_time_zone(task->timezone, &zone) ||
        !chronos::engine_catch_up(&task->policy, task->scheduled_for, now, chronos_max_catch_up, &zone, &decision,
                                  &error))
        return true;  // the run records the problem
    if (decision.run) {
        task->scheduled_for = decision.slot;
        return true;
    }
    skip_missed_slots(task, decision.next_exec_time);
    return false;
}

// Tasks that go in flight are started several to a transaction: one commit (and its WAL flush) for up to
// kInFlightBatch starts. Each further task is claimed, planned and its run row written in the claim's transaction;
// a task that needs anything else (a skipped slot, a hold, a refusal) is left, unchanged, for a claim of its own.
constexpr int kInFlightBatch = 32;

struct PendingStart {
    ClaimedTask *task;
    const TaskKind *kind;
    RunPlan plan;
    int64 run_id;
    bool owner_is_superuser;
    MemoryContext context;
};

int claim_more_in_flight(TimestampTz now, TimestampTz started_at, PendingStart *out) {
    int n = 0;
    while (n < kInFlightBatch - 1 && in_flight_count() + n + 1 < kMaxInFlightPerExecutor && in_flight_room()) {
        MemoryContext context = in_flight_context();
        ClaimedTask *task = (ClaimedTask *)MemoryContextAllocZero(context, sizeof(ClaimedTask));
        if (!claim_due_task(now, context, task, ClaimKinds::in_flight_only)) {
            MemoryContextDelete(context);
            break;
        }
        const TaskKind *kind = task_kind_of(task);
        bool owner_is_superuser;
        bool plain = kind->start_async != NULL && !task->manual && (!task->is_loop || task->attempt > 1 ||
                                                                    task->scheduled_for >= now - USECS_PER_SEC);
        plain = plain && owner_may_run(task->owner, &owner_is_superuser) == NULL &&
                !(owner_is_superuser && !database_trusted(false));
        MemoryContext caller = MemoryContextSwitchTo(context);
        RunPlan plan = {false, NULL, NULL, 0, 0};
        RunOutcome failure;
        plain = plain && kind->plan_run(task, &plan, &failure);
        MemoryContextSwitchTo(caller);
        if (!plain) {
            MemoryContextDelete(context);
            break;
        }
        plan.run_id = record_run_start(task, started_at);
        out[n++] = {task, kind, plan, plan.run_id, owner_is_superuser, context};
    }
    return n;
}

// The run is over (recorded, or nowhere to record it): nothing of it is left in the journal or the shared state.
void end_step(void) {
    journal_run_end();
    command_started = false;
    has_current_task = false;
    clear_run();
    pgstat_report_activity(STATE_IDLE, NULL);
}

void report_activity(const ClaimedTask *task) {
    pgstat_report_activity(STATE_RUNNING,
                           psprintf("pg_chronos task %s: %s", task->name ? task->name : "", task->command));
}

}  // namespace

void init_run_step(void) {
    run_context = AllocSetContextCreate(TopMemoryContext, "pg_chronos run", ALLOCSET_DEFAULT_SIZES);
    init_run_timeouts();
    register_run_identity_checks();
}

Step run_one_step(TimestampTz *next_due, int *due_together) {
    MemoryContextReset(run_context);
    MemoryContextSwitchTo(run_context);
    command_started = false;
    begin_transaction();
    if (!extension_is_installed()) {
        commit_transaction();
        return Step::extension_gone;
    }
    TimestampTz now = GetCurrentTimestamp();
    has_current_task = claim_task(now);
    if (!has_current_task && claim_lock_backoff_ms() > 0) {
        // A session locks the catalog: give back the permit (the caller does) and look again a little later.
        commit_transaction();
        *next_due = TimestampTzPlusMilliseconds(now, claim_lock_backoff_ms());
        return Step::idle;
    }
    if (!has_current_task && !extension_is_installed()) {
        commit_transaction();  // dropped while this executor looked for work
        return Step::extension_gone;
    }
    if (!has_current_task) {
        int together;
        *next_due = earliest_next_exec_time(&together);
        *due_together = together;
        // Due rows a session holds locked stay the earliest due: looked at again a little later, not at once.
        if (claim_found_rows_locked())
            *next_due = Max(*next_due, TimestampTzPlusMilliseconds(now, kLockedRowsBackoffMs));
        if (together >= kWarmUpTogether && *next_due != DT_NOEND && *next_due - now <= kWarmUpLeadUs)
            warm_run_record();
        commit_transaction();
        if (*next_due != DT_NOEND && *next_due - now < kPoolLookAheadUs)
            prepare_pool(chronos_max_workers, together);
        return Step::idle;
    }
    ClaimedTask *task = &current_task;
    if (!catch_up_allows_run(task, now)) {
        has_current_task = false;
        int together;
        *next_due = earliest_next_exec_time(&together);
        commit_transaction();
        return Step::ran;
    }
    // A superuser's task runs only in a database a superuser trusts: otherwise it is held, not run. The trust this
    // executor read up to a second ago is looked at again before holding: chronos.trust_database() may be that recent.
    if (superuser_arg(task->owner) && !database_trusted(false) && !database_trusted(true)) {
        hold_untrusted_task(task->id);
        int64 held_back;
        if (warning_due(MyDatabaseId, WarningKind::task_held, &held_back))
            ereport(LOG, (errmsg("pg_chronos: task " INT64_FORMAT " of superuser %s in database \"%s\" is held: the "
                                 "database is not trusted",
                                 task->id, GetUserNameFromId(task->owner, true), get_database_name(MyDatabaseId)),
                          errdetail("Its owner is not a superuser, and no superuser trusted it while it owns it."),
                          errhint("After checking what the database's owner controls, a superuser runs SELECT "
                                  "chronos.trust_database() in it.")));
        has_current_task = false;
        int together;
        *next_due = earliest_next_exec_time(&together);
        commit_transaction();
        return Step::ran;
    }
    current_started_at = GetCurrentTimestamp();
    publish_run(task->id, task->scheduled_for, current_started_at, true);
    share_work(chronos_max_workers, task->also_due);
    MemoryContextSwitchTo(run_context);

    const TaskKind *task_kind = task_kind_of(task);
    RunPlan plan = {true, NULL, NULL, 0, 0};
    RunOutcome outcome;
    Oid owner = task->owner;
    bool owner_is_superuser;
    char *refusal = owner_may_run(owner, &owner_is_superuser);
    bool runnable = refusal == NULL;
    // A run that goes in flight keeps its plan in a memory context of its own.
    MemoryContext flight = NULL;
    if (!runnable) {
        outcome = {false, refusal, NULL};
        owner = InvalidOid;
    } else {
        if (task_kind->start_async != NULL)
            MemoryContextSwitchTo(flight = in_flight_context());
        runnable = task_kind->plan_run(task, &plan, &outcome);
        MemoryContextSwitchTo(run_context);
        if (!runnable && flight != NULL) {
            outcome.error = pstrdup(outcome.error);  // out of the plan's context, deleted now
            MemoryContextDelete(flight);
            flight = NULL;
        }
    }
    if (flight == NULL)
        end_drive(false);  // a run in its step: this executor drives no runs in flight during it
    bool transactional = !runnable || plan.transactional;
    publish_run_mode(transactional);
    report_activity(task);

    RunRecord record;
    bool finally_failed;
    char *run_json;
    if (transactional) {
        if (runnable) {
            command_started = true;
            journal_run_start(task, 0, current_started_at);
            arm_run_timeout(task);
            task_kind->run_in_transaction(task, &plan, owner, owner_is_superuser, &outcome);
            disarm_run_timeout();
        }
        reset_session_state_in_transaction();
        decide_record(task, &outcome, outcome_kind(&outcome), current_started_at, &record, &finally_failed);
        int64 run_id;
        run_json = record_run(task, &record, run_context, next_due, &run_id);
        if (run_is_logged(outcome.succeeded, record.started_at, record.finished_at))
            log_recorded_run(task, &record, run_id);
    } else {
        int64 run_id = record_run_start(task, current_started_at);
        plan.run_id = run_id;
        PendingStart more[kInFlightBatch];
        int more_count = flight != NULL ? claim_more_in_flight(now, current_started_at, more) : 0;
        commit_transaction();
        MemoryContextSwitchTo(run_context);
        for (int i = 0; i < more_count; i++) {
            RunOutcome failure;
            // One that cannot start is recorded by recovery, as a run whose worker did not finish it.
            if (!start_in_flight(more[i].task, more[i].kind, &more[i].plan, more[i].run_id, current_started_at,
                                 more[i].owner_is_superuser, more[i].context, &failure))
                note_ended_run(MyDatabaseId);
        }
        if (flight != NULL) {
            // In flight: driven by this executor from now on, between its steps (in_flight.hpp).
            if (start_in_flight(task, task_kind, &plan, run_id, current_started_at, owner_is_superuser, flight,
                                &outcome)) {
                *next_due = DT_NOBEGIN;  // look for other work at once
                end_step();
                return Step::ran;
            }
        } else {
            command_started = true;
            journal_run_start(task, run_id, current_started_at);
            arm_run_timeout(task);
            task_kind->run_autonomous(task, &plan, owner, owner_is_superuser, &outcome);
            disarm_run_timeout();
            reset_session();
        }
        begin_transaction();
        if (!extension_is_installed()) {
            // DROP EXTENSION committed while the command ran: there is nothing left to record the run in.
            ereport(LOG, (errmsg("pg_chronos: the extension was dropped in database \"%s\" while task " INT64_FORMAT
                                 " ran; the run is not recorded",
                                 get_database_name(MyDatabaseId), task->id)));
            commit_transaction();
            end_step();
            return Step::extension_gone;
        }
        LockHolder holder;
        RecordingLock lock = lock_for_recording(task->id, &holder);
        decide_record(task, &outcome, outcome_kind(&outcome), current_started_at, &record, &finally_failed);
        if (lock == RecordingLock::busy) {
            defer_recording(task, run_id, &record, finally_failed, owner_is_superuser, &holder);
            commit_transaction();
            *next_due = DT_NOBEGIN;  // look for other work at once
            end_step();
            return Step::ran;
        }
        record_autonomous_outcome(task, run_id, &record, finally_failed, owner_is_superuser, run_context, next_due);
        commit_transaction();
        pgstat_report_stat(false);
        end_step();
        return Step::ran;
    }
    if (finally_failed)
        run_on_failure(task, owner, owner_is_superuser, run_json);
    commit_transaction();
    pgstat_report_stat(false);
    reset_session_state_after_commit();
    end_step();
    return Step::ran;
}

void record_ignored_cancel(ClaimedTask *task, bool timed_out, const char *error, int64 run_id,
                           TimestampTz scheduled_for, TimestampTz started_at, int32 attempt, bool manual) {
    task->scheduled_for = scheduled_for;
    task->attempt = attempt;
    task->manual = manual;
    if (task->status != NULL && strcmp(task->status, "running") == 0)
        task->status = pstrdup("scheduled");  // an autonomous run's task, as it was claimed
    current_started_at = started_at;
    RunOutcome outcome = {false, pstrdup(error), NULL};
    RunRecord record;
    bool finally_failed;
    decide_record(task, &outcome, timed_out ? chronos::RunOutcomeKind::timed_out : chronos::RunOutcomeKind::cancelled,
                  current_started_at, &record, &finally_failed);
    record.error = outcome.error;
    TimestampTz earliest;
    int64 id = run_id;
    if (run_id == 0)
        (void)record_run(task, &record, CurrentMemoryContext, &earliest, &id);
    else
        (void)record_run_end(task, run_id, &record, CurrentMemoryContext, &earliest);
    log_recorded_run(task, &record, id);
}

TimestampTz record_deferred_runs(void) {
    TimestampTz now = GetCurrentTimestamp();
    for (int i = 0; i < kMaxDeferredRuns; i++) {
        DeferredRun *run = deferred_run_at(i);
        if (run == NULL || run->retry_at > now)
            continue;
        MemoryContextReset(run_context);
        MemoryContextSwitchTo(run_context);
        begin_transaction();
        LockHolder holder;
        RecordingLock lock = extension_is_installed() ? lock_for_recording(run->task.id, &holder)
                                                      : RecordingLock::task_gone;
        if (lock == RecordingLock::busy) {
            commit_transaction();
            retry_deferred_run_later(run, now);
            continue;
        }
        if (extension_is_installed()) {
            TimestampTz next_due;
            record_autonomous_outcome(&run->task, run->run_id, &run->record, run->finally_failed,
                                      run->owner_is_superuser, run_context, &next_due);
        }
        commit_transaction();
        forget_deferred_run(run);
    }
    return next_deferred_retry();
}

TimestampTz last_catalog_look(void) {
    return latest_look;
}

bool step_ran_command(void) {
    return command_started;
}

void record_escaped_error(const char *message) {
    if (!has_current_task)
        return;
    has_current_task = false;
    RunOutcome outcome = {false, psprintf("XX000: %s", message), NULL};
    begin_transaction();
    LockHolder holder;
    // The claim's lock on the row went with the aborted transaction; a session holding it now delays only this record
    // (the task, still due, is claimed again once the row is free).
    if (!extension_is_installed() || lock_for_recording(current_task.id, &holder) != RecordingLock::locked) {
        commit_transaction();
        return;
    }
    RunRecord record;
    bool finally_failed;
    decide_record(&current_task, &outcome, chronos::RunOutcomeKind::failed, current_started_at, &record, &finally_failed);
    TimestampTz earliest;
    int64 run_id;
    record_run(&current_task, &record, run_context, &earliest, &run_id);
    log_recorded_run(&current_task, &record, run_id);
    commit_transaction();
}
