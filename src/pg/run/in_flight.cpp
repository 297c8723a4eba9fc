// Runs in flight (see in_flight.hpp).
#include <algorithm>

#include "pg/run/in_flight.hpp"

#include "pg/catalog/extension_version.hpp"
#include "pg/kinds/async_runs.hpp"
#include "pg/kinds/kind_settings.hpp"
#include "pg/run/catalog_locks.hpp"
#include "pg/run/run_outcome.hpp"
#include "pg/run/run_statements.hpp"
#include "pg/run/run_timeout.hpp"
#include "pg/settings.hpp"
#include "pg/workers/executor_slots.hpp"
#include "pg/workers/runs_in_progress.hpp"
#include "pg/run/run_log.hpp"

extern "C" {
#include "access/xact.h"
#include "commands/dbcommands.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/ipc.h"
#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
}

namespace {

struct InFlight {
    AsyncRun *run;            // while it waits for its host: a stand-in, not the kind's
    bool waiting;             // an http request not sent yet: its host has chronos.max_requests_per_host in flight
    RunPlan plan;             // in `context`
    const TaskKind *kind;
    ClaimedTask task;         // copied into `context`
    int64 run_id;
    TimestampTz started_at;
    TimestampTz deadline;     // DT_NOEND: no timeout
    bool owner_is_superuser;
    bool timed_out;
    bool cancelled;
    bool deleted;              // its task row was deleted: stopped, recorded as cancelled
    TimestampTz record_after;  // its recording found the task's row locked: tried again then
    int record_backoff_ms;
    TimestampTz busy_since;
    MemoryContext context;
    InFlight *next;
};

InFlight *runs = NULL;
int count = 0;
bool exit_hook = false;

char *copy(MemoryContext context, const char *text) {
    return text ? MemoryContextStrdup(context, text) : NULL;
}

// This executor's runs as published: `extra` (not listed yet) first, and `sending` counted as sent to its host.
int collect_entries(InFlightEntry *entries, const InFlight *extra, const InFlight *sending) {
    int n = 0;
    auto add = [&](const InFlight *f) {
        entries[n++] = {f->task.id, f->task.owner, f->task.scheduled_for, f->started_at,
                        f->waiting && f != sending ? 0 : f->plan.host_key};
    };
    if (extra)
        add(extra);
    for (const InFlight *f = runs; f && n < kMaxInFlightPerExecutor; f = f->next)
        add(f);
    return n;
}

void publish(void) {
    static InFlightEntry entries[kMaxInFlightPerExecutor];
    publish_in_flight(entries, collect_entries(entries, NULL, NULL));
}

void release(InFlight *f) {
    if (!f->waiting)
        f->kind->release_async(f->run);
    MemoryContextDelete(f->context);
}

// Whether run `f` goes on: not over, nor being stopped.
bool goes_on(const InFlight *f) {
    return !(f->run->done || f->timed_out || f->cancelled);
}

// Stops run `f`: the kind stops a run it drives; one still waiting for its host ends without being sent.
void stop_run(InFlight *f) {
    if (f->waiting)
        f->run->done = true;
    else
        f->kind->stop_async(f->run);
}

// Takes a place for the request of `f` (`listed`: among this executor's runs) among those in flight to its host, and
// publishes it, if fewer than chronos.max_requests_per_host are in flight to that host in the cluster and fewer than
// half of them (at least one) are of its owner's tasks, so that one role cannot keep a host others call to itself.
bool take_host_place(const InFlight *f, bool listed) {
    if (f->plan.host_key == 0)
        return true;
    static InFlightEntry entries[kMaxInFlightPerExecutor];
    int n = collect_entries(entries, listed ? NULL : f, f);
    return publish_in_flight_within_host_limits(entries, n, f->plan.host_key, f->task.owner,
                                                chronos_max_requests_per_host,
                                                Max(1, chronos_max_requests_per_host / 2));
}

// Sends the run of `f` (its kind starts it); a run that cannot start ends failed.
void send(InFlight *f) {
    RunOutcome failure;
    AsyncRun *run = f->kind->start_async(&f->task, &f->plan, f->context, &failure);
    f->waiting = false;
    if (run != NULL) {
        run->kind = f->kind;
        f->run = run;
    } else {
        f->waiting = true;  // nothing of the kind's to stop or release
        f->run->outcome = failure;
        f->run->done = true;
    }
}

// The requests waiting for their host are sent, oldest first, those whose host (and owner's part of it) has room; the
// others wait on.
void send_waiting_runs(void) {
    InFlight *waiting[kMaxInFlightPerExecutor];
    int n = 0;
    for (InFlight *f = runs; f && n < kMaxInFlightPerExecutor; f = f->next)
        if (f->waiting && !f->run->done)
            waiting[n++] = f;
    if (n == 0)
        return;
    std::sort(waiting, waiting + n, [](const InFlight *a, const InFlight *b) { return a->started_at < b->started_at; });
    for (int i = 0; i < n; i++)
        if (take_host_place(waiting[i], true)) {
            send(waiting[i]);
            publish();
        }
}

// The worker exits: its runs end with it (shell commands killed), and the other executors of the database are told
// to recover them as interrupted once this process is gone from the slots.
void end_runs_at_exit(int, Datum) {
    if (runs == NULL)
        return;
    for (InFlight *f = runs; f; f = f->next)
        if (!f->waiting)
            f->kind->release_async(f->run);
    runs = NULL;
    count = 0;
    publish_in_flight(NULL, 0);
    note_ended_run(MyDatabaseId);
}

// Stops the runs past their timeout, and those chronos.cancel() asked to stop.
void stop_due_runs(void) {
    TimestampTz now = GetCurrentTimestamp();
    int64 cancels[kMaxInFlightCancels];
    int cancel_count = take_in_flight_cancels(cancels, kMaxInFlightCancels);
    for (InFlight *f = runs; f; f = f->next) {
        if (!goes_on(f))
            continue;
        for (int i = 0; i < cancel_count; i++)
            if (cancels[i] == f->task.id)
                f->cancelled = true;
        if (!f->cancelled && now >= f->deadline)
            f->timed_out = true;
        if (f->cancelled || f->timed_out)
            stop_run(f);
    }
}

// Every second, the runs whose task row is gone (a DELETE committed) are stopped: nothing could cancel them by name
// any more, and a command without a timeout would otherwise run on for ever.
constexpr long kDeletedCheckMs = 1000;
TimestampTz deleted_checked_at = 0;

void stop_runs_of_deleted_tasks(void) {
    TimestampTz now = GetCurrentTimestamp();
    if (now - deleted_checked_at < kDeletedCheckMs * 1000)
        return;
    deleted_checked_at = now;
    int n = 0;
    for (InFlight *f = runs; f; f = f->next)
        n += goes_on(f);
    if (n == 0)
        return;
    SetCurrentStatementStartTimestamp();
    StartTransactionCommand();
    SPI_connect();
    PushActiveSnapshot(GetTransactionSnapshot());
    if (extension_is_installed()) {
        Datum *ids = (Datum *)palloc(n * sizeof(Datum));
        int k = 0;
        for (InFlight *f = runs; f; f = f->next)
            if (goes_on(f))
                ids[k++] = Int64GetDatum(f->task.id);
        Oid types[1] = {INT8ARRAYOID};
        Datum values[1] = {PointerGetDatum(construct_array(ids, k, INT8OID, 8, true, TYPALIGN_DOUBLE))};
        int rc = SPI_execute_with_args(
            "SELECT i FROM pg_catalog.unnest($1) i"
            " WHERE NOT EXISTS (SELECT FROM chronos.tasks t WHERE t.id OPERATOR(pg_catalog.=) i)",
            1, types, values, NULL, true, 0);
        for (uint64 r = 0; rc == SPI_OK_SELECT && r < SPI_processed; r++) {
            bool isnull;
            int64 gone = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1, &isnull));
            for (InFlight *f = runs; f; f = f->next)
                if (f->task.id == gone && goes_on(f)) {
                    f->cancelled = f->deleted = true;
                    stop_run(f);
                }
        }
    }
    SPI_finish();
    PopActiveSnapshot();
    CommitTransactionCommand();
}

chronos::RunOutcomeKind outcome_kind(const InFlight *f) {
    if (f->timed_out)
        return chronos::RunOutcomeKind::timed_out;
    if (f->cancelled)
        return chronos::RunOutcomeKind::cancelled;
    return f->run->outcome.succeeded ? chronos::RunOutcomeKind::succeeded : chronos::RunOutcomeKind::failed;
}

// Whether run `f` is over and due to be recorded now.
bool to_record(const InFlight *f, TimestampTz now) {
    return f->run->done && f->record_after <= now;
}

// Records every run that ended, in one transaction; forgets them. A run whose task row a session locks (a claim's
// scan that looked at it, most often, for a few milliseconds) stays in flight, done, and is tried again shortly: it
// keeps its place among this executor's runs, so recovery leaves it alone; after a second the log says what it
// waits for (once a minute per database at most, as for other recordings).
void record_ended_runs(void) {
    TimestampTz now = GetCurrentTimestamp();
    bool any = false;
    for (InFlight *f = runs; f && !any; f = f->next)
        any = to_record(f, now);
    if (!any)
        return;
    SetCurrentStatementStartTimestamp();
    StartTransactionCommand();
    SPI_connect();
    PushActiveSnapshot(GetTransactionSnapshot());
    bool installed = extension_is_installed();
    TimestampTz next_due;
    for (InFlight **p = &runs; *p;) {
        InFlight *f = *p;
        if (!to_record(f, now)) {
            p = &f->next;
            continue;
        }
        if (installed) {
            MemoryContext caller = MemoryContextSwitchTo(f->context);
            LockHolder holder;
            RecordingLock lock = lock_for_recording(f->task.id, &holder);
            if (lock == RecordingLock::busy) {
                MemoryContextSwitchTo(caller);
                if (f->busy_since == 0)
                    f->busy_since = now;
                f->record_backoff_ms = f->record_backoff_ms == 0 ? 5 : Min(f->record_backoff_ms * 2, 1000);
                f->record_after = TimestampTzPlusMilliseconds(now, f->record_backoff_ms);
                int64 held;
                if (now - f->busy_since >= USECS_PER_SEC && warning_due(MyDatabaseId, WarningKind::recording_waits, &held))
                    ereport(LOG, (errmsg("pg_chronos: recording run " INT64_FORMAT " of task " INT64_FORMAT " in database "
                                         "\"%s\" waits for a lock on %s",
                                         f->run_id, f->task.id, get_database_name(MyDatabaseId), holder.what),
                                  holder.pid != 0 ? errdetail("Process %d holds it. The run's outcome is kept; it is "
                                                              "recorded once the lock is free.", holder.pid)
                                                  : 0,
                                  errhint("Commit or roll back the transaction that locks %s.", holder.what)));
                p = &f->next;
                continue;
            }
            RunRecord record;
            bool finally_failed;
            decide_record(&f->task, &f->run->outcome, outcome_kind(f), f->started_at, &record, &finally_failed);
            if (f->deleted)
                record.error = pstrdup("57014: run stopped: its task was deleted");
            record_autonomous_outcome(&f->task, f->run_id, &record, finally_failed, f->owner_is_superuser,
                                      f->context, &next_due, true);
            MemoryContextSwitchTo(caller);
        }
        *p = f->next;
        count--;
        release(f);
    }
    SPI_finish();
    PopActiveSnapshot();
    CommitTransactionCommand();
    pgstat_report_stat(false);
    publish();
}

}  // namespace

int in_flight_count(void) {
    return count;
}

bool in_flight_room(void) {
    return count < kMaxInFlightPerExecutor && count_in_flight() < chronos_max_in_flight;
}

MemoryContext in_flight_context(void) {
    return AllocSetContextCreate(TopMemoryContext, "pg_chronos run in flight", ALLOCSET_SMALL_SIZES);
}

bool start_in_flight(const ClaimedTask *task, const TaskKind *kind, const RunPlan *plan, int64 run_id,
                     TimestampTz started_at, bool owner_is_superuser, MemoryContext context, RunOutcome *failure) {
    if (!exit_hook) {
        before_shmem_exit(end_runs_at_exit, 0);
        exit_hook = true;
    }
    InFlight *f = (InFlight *)MemoryContextAllocZero(context, sizeof(InFlight));
    f->context = context;
    f->kind = kind;
    f->task = *task;
    f->task.name = copy(context, task->name);
    f->task.command = copy(context, task->command);
    f->task.schedule = copy(context, task->schedule);
    f->task.policy.schedule = f->task.schedule;
    f->task.timezone = copy(context, task->timezone);
    f->task.status = copy(context, task->status);
    f->task.payload = copy(context, task->payload);
    f->task.on_failure = copy(context, task->on_failure);
    f->task.kind = copy(context, task->kind);
    f->task.http_method = copy(context, task->http_method);
    f->task.http_headers = copy(context, task->http_headers);
    f->task.http_body = copy(context, task->http_body);
    f->run_id = run_id;
    f->started_at = started_at;
    int64 timeout_ms = timeout_ms_of(task);
    // A request never waits for ever: without a timeout of its own (or chronos.default_timeout), kHttpTimeoutMs.
    if (timeout_ms <= 0 && strcmp(kind->name, "http") == 0)
        timeout_ms = kHttpTimeoutMs;
    f->deadline = timeout_ms > 0 ? TimestampTzPlusMilliseconds(started_at, timeout_ms) : DT_NOEND;
    f->owner_is_superuser = owner_is_superuser;
    f->plan = *plan;
    if (take_host_place(f, false)) {
        f->run = kind->start_async(&f->task, plan, context, failure);
        if (f->run == NULL) {
            MemoryContextDelete(context);
            publish();  // gives its place back
            return false;
        }
        f->run->kind = kind;
    } else {
        // Its host has as many requests in flight as it may: sent when one of them ends (send_waiting_runs); its
        // timeout counts from now.
        f->waiting = true;
        f->run = (AsyncRun *)MemoryContextAllocZero(context, sizeof(AsyncRun));
        f->run->kind = kind;
        f->run->context = context;
    }
    f->next = runs;
    runs = f;
    count++;
    publish();
    return true;
}

TimestampTz advance_in_flight(int wait_ms) {
    if (runs == NULL)
        return DT_NOEND;
    TimestampTz next = advance_async_runs(wait_ms);
    stop_due_runs();
    send_waiting_runs();
    stop_runs_of_deleted_tasks();
    record_ended_runs();
    for (InFlight *f = runs; f; f = f->next) {
        if (f->run->done)
            next = Min(next, f->record_after);
        else if (!f->timed_out && !f->cancelled)
            next = Min(next, f->deadline);
    }
    return next;
}
