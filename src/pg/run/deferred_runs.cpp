// The outcomes of runs whose recording waits for a lock (see deferred_runs.hpp). Each is a copy in a memory context of
// its own; their tasks are published in the executor's slot, so that recovery does not take them for runs whose worker
// ended.
#include "pg/run/deferred_runs.hpp"

#include "pg/workers/executor_slots.hpp"
#include "pg/workers/runs_in_progress.hpp"

extern "C" {
#include "utils/memutils.h"
#include "utils/timestamp.h"
}

namespace {

constexpr int kFirstRetryMs = 100;
constexpr int kLastRetryMs = 1000;

DeferredRun *runs[kMaxDeferredRuns];

char *copy(MemoryContext context, const char *text) {
    return text ? MemoryContextStrdup(context, text) : NULL;
}

void publish(void) {
    int64 ids[kMaxDeferredRuns];
    int n = 0;
    for (DeferredRun *run : runs)
        if (run != NULL)
            ids[n++] = run->task.id;
    publish_deferred_runs(ids, n);
}

}  // namespace

DeferredRun *defer_run(const ClaimedTask *task, int64 run_id, const RunRecord *record, bool finally_failed,
                       bool owner_is_superuser) {
    int place = 0;
    while (place < kMaxDeferredRuns && runs[place] != NULL)
        place++;
    if (place == kMaxDeferredRuns)
        return NULL;
    MemoryContext context = AllocSetContextCreate(TopMemoryContext, "pg_chronos deferred run", ALLOCSET_SMALL_SIZES);
    DeferredRun *run = static_cast<DeferredRun *>(MemoryContextAllocZero(context, sizeof(DeferredRun)));
    run->context = context;
    run->task = *task;
    run->task.name = copy(context, task->name);
    run->task.command = NULL;
    run->task.payload = NULL;
    run->task.schedule = copy(context, task->schedule);
    run->task.policy.schedule = run->task.schedule;
    run->task.timezone = copy(context, task->timezone);
    run->task.status = copy(context, task->status);
    run->task.on_failure = copy(context, task->on_failure);
    run->run_id = run_id;
    run->record = *record;
    run->record.error = copy(context, record->error);
    run->record.result = copy(context, record->result);
    run->finally_failed = finally_failed;
    run->owner_is_superuser = owner_is_superuser;
    run->since = GetCurrentTimestamp();
    run->backoff_ms = kFirstRetryMs;
    run->retry_at = TimestampTzPlusMilliseconds(run->since, run->backoff_ms);
    runs[place] = run;
    publish();
    return run;
}

DeferredRun *deferred_run_at(int i) {
    return runs[i];
}

void retry_deferred_run_later(DeferredRun *run, TimestampTz now) {
    run->backoff_ms = Min(run->backoff_ms * 2, kLastRetryMs);
    run->retry_at = TimestampTzPlusMilliseconds(now, run->backoff_ms);
}

void forget_deferred_run(DeferredRun *run) {
    for (DeferredRun *&place : runs)
        if (place == run)
            place = NULL;
    MemoryContextDelete(run->context);
    publish();
}

TimestampTz next_deferred_retry(void) {
    TimestampTz next = DT_NOEND;
    for (DeferredRun *run : runs)
        if (run != NULL)
            next = Min(next, run->retry_at);
    return next;
}
