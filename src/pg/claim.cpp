// Claiming a task: an ordered scan of chronos.tasks' partial index tasks_due (or tasks_requested) that locks the first
// row no one else holds, as SELECT … ORDER BY next_exec_time LIMIT 1 FOR UPDATE SKIP LOCKED would, without building
// and starting a plan for every run. Rows the other executors are running are passed over without trying their locks.
#include "catalog.hpp"

#include "columns.hpp"
#include "settings.hpp"
#include "shared_state.hpp"

extern "C" {
#include "access/genam.h"
#include "access/relscan.h"
#include "access/skey.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
}

namespace {

// The columns a claim reads, in this order.
enum Column {
    c_id, c_name, c_command, c_owner, c_type, c_schedule, c_timezone, c_start_time, c_next_exec_time, c_transactional,
    c_status, c_timeout, c_catch_up, c_max_retries, c_retry_delay, c_max_failures, c_max_runs, c_end_time, c_attempt,
    c_failure_count, c_run_count, c_payload, c_on_failure, c_notify_on, c_run_requested, column_count
};
const char *const kColumnNames[column_count] = {
    "id", "name", "command", "owner", "type", "schedule", "timezone", "start_time", "next_exec_time", "transactional",
    "status", "timeout", "catch_up", "max_retries", "retry_delay", "max_failures", "max_runs", "end_time", "attempt",
    "failure_count", "run_count", "payload", "on_failure", "notify_on", "run_requested"};

ColumnNumbers columns;  // of kColumnNames in chronos.tasks

Datum column(TupleTableSlot *slot, Column c, bool *isnull) {
    return slot_getattr(slot, columns.number[c], isnull);
}

char *text_column(TupleTableSlot *slot, Column c) {
    bool isnull;
    Datum value = column(slot, c, &isnull);
    return isnull ? NULL : TextDatumGetCString(value);
}

char *enum_column(TupleTableSlot *slot, Column c) {
    bool isnull;
    Datum value = column(slot, c, &isnull);
    return isnull ? NULL : DatumGetCString(DirectFunctionCall1(enum_out, value));
}

int64 int_column(TupleTableSlot *slot, Column c, int64 if_null) {
    bool isnull;
    Datum value = column(slot, c, &isnull);
    if (isnull)
        return if_null;
    return TupleDescAttr(slot->tts_tupleDescriptor, columns.number[c] - 1)->atttypid == INT8OID ? DatumGetInt64(value)
                                                                                         : DatumGetInt32(value);
}

// An interval in microseconds, as extract(epoch FROM …) counts it (a month is 30 days, a year 365.25 days).
int64 interval_column_us(TupleTableSlot *slot, Column c, int64 if_null) {
    bool isnull;
    Datum value = column(slot, c, &isnull);
    if (isnull)
        return if_null;
    const Interval *span = DatumGetIntervalP(value);
    constexpr int64 kUsecsPerYear = (int64)(DAYS_PER_YEAR * SECS_PER_DAY) * USECS_PER_SEC;
    return span->time + span->day * USECS_PER_DAY + (span->month % MONTHS_PER_YEAR) * DAYS_PER_MONTH * USECS_PER_DAY +
           (span->month / MONTHS_PER_YEAR) * kUsecsPerYear;
}

bool timestamp_column(TupleTableSlot *slot, Column c, TimestampTz *out) {
    bool isnull;
    Datum value = column(slot, c, &isnull);
    *out = isnull ? 0 : DatumGetTimestampTz(value);
    return !isnull;
}

chronos::CatchUp catch_up_of(const char *text) {
    if (text != NULL && strcmp(text, "once") == 0)
        return chronos::CatchUp::once;
    if (text != NULL && strcmp(text, "all") == 0)
        return chronos::CatchUp::all;
    return chronos::CatchUp::skip;
}

// Copies the locked row into `task`, allocating in `context`.
void copy_claimed(TupleTableSlot *slot, MemoryContext context, bool manual, TimestampTz now, ClaimedTask *task) {
    MemoryContext caller = MemoryContextSwitchTo(context);
    bool isnull;
    task->id = int_column(slot, c_id, 0);
    task->name = text_column(slot, c_name);
    task->command = text_column(slot, c_command);
    task->owner = DatumGetObjectId(column(slot, c_owner, &isnull));
    char *type = enum_column(slot, c_type);
    task->is_loop = type != NULL && strcmp(type, "loop") == 0;
    task->schedule = text_column(slot, c_schedule);
    task->timezone = text_column(slot, c_timezone);
    timestamp_column(slot, c_start_time, &task->start_time);
    task->next_exec_time_known = timestamp_column(slot, c_next_exec_time, &task->next_exec_time);
    task->scheduled_for = manual || !task->next_exec_time_known ? now : task->next_exec_time;
    Datum forced = column(slot, c_transactional, &isnull);
    task->transactional = isnull ? -1 : DatumGetBool(forced);
    task->manual = manual;
    task->status = enum_column(slot, c_status);
    int64 timeout_us = interval_column_us(slot, c_timeout, -1);
    task->timeout_ms = timeout_us < 0 ? -1 : (timeout_us + 500) / 1000;

    chronos::TaskPolicy *policy = &task->policy;
    policy->is_loop = task->is_loop;
    policy->schedule = task->schedule;
    policy->start_time = task->start_time;
    policy->catch_up = catch_up_of(text_column(slot, c_catch_up));
    policy->max_retries = (int32)int_column(slot, c_max_retries, 0);
    policy->retry_delay_us = interval_column_us(slot, c_retry_delay, USECS_PER_MINUTE);
    policy->max_failures = (int32)int_column(slot, c_max_failures, 0);
    policy->max_runs = int_column(slot, c_max_runs, 0);
    policy->has_end_time = timestamp_column(slot, c_end_time, &policy->end_time);
    task->attempt = (int32)int_column(slot, c_attempt, 1);
    task->failure_count = (int32)int_column(slot, c_failure_count, 0);
    task->run_count = int_column(slot, c_run_count, 0);
    Datum payload = column(slot, c_payload, &isnull);
    task->payload = isnull ? NULL : DatumGetCString(DirectFunctionCall1(jsonb_out, payload));
    task->on_failure = text_column(slot, c_on_failure);
    char *notify_on = text_column(slot, c_notify_on);
    task->reports = task->on_failure != NULL || (notify_on != NULL && strcmp(notify_on, "never") != 0);
    task->also_due = 0;
    MemoryContextSwitchTo(caller);
}

bool is_running(int64 id, const int64 *running, int n) {
    for (int i = 0; i < n; i++)
        if (running[i] == id)
            return true;
    return false;
}

// Whether the row version in `slot` may still be claimed: due (status 'scheduled', next_exec_time <= now) for a due
// claim, a pending request not already running for a manual one.
bool still_claimable(TupleTableSlot *slot, bool manual, TimestampTz now) {
    char *status = enum_column(slot, c_status);
    bool isnull;
    if (manual)
        return strcmp(status, "running") != 0 && DatumGetBool(column(slot, c_run_requested, &isnull)) && !isnull;
    TimestampTz next;
    return strcmp(status, "scheduled") == 0 && timestamp_column(slot, c_next_exec_time, &next) && next <= now;
}

// Locks the row the index scan returned in `found` unless another transaction holds it; `locked` receives its latest
// version. A row updated since the scan's snapshot is locked in its latest version, which must still qualify.
bool lock_row(Relation rel, TupleTableSlot *found, TupleTableSlot *locked, bool manual, TimestampTz now) {
    TM_FailureData failure;
    ItemPointerData tid = found->tts_tid;
    TM_Result result = table_tuple_lock(rel, &tid, GetActiveSnapshot(), locked, GetCurrentCommandId(true),
                                        LockTupleExclusive, LockWaitSkip, TUPLE_LOCK_FLAG_FIND_LAST_VERSION, &failure);
    if (result != TM_Ok)
        return false;
    return !failure.traversed || still_claimable(locked, manual, now);
}

// Scans `index_name` in order (keys: next_exec_time <= now, or none) and claims the first row it can lock. Then counts,
// up to `count_limit`, the further due rows no executor is running: they tell whether to wake more executors, and
// whether to look for the next due time after the run.
bool claim_from(const char *index_name, bool manual, TimestampTz now, int count_limit, MemoryContext context,
                ClaimedTask *task) {
    // The table may be dropped (DROP EXTENSION) between the lookup and the lock: then there is nothing to claim, and the
    // caller finds the extension gone.
    Oid table_id = chronos_relation("tasks");
    Relation rel = OidIsValid(table_id) ? try_table_open(table_id, RowShareLock) : NULL;
    if (rel == NULL)
        return false;
    Oid index_id = chronos_relation(index_name);
    if (!OidIsValid(index_id))
        elog(ERROR, "pg_chronos: index chronos.%s is missing", index_name);
    Relation index = index_open(index_id, AccessShareLock);
    find_columns(rel, kColumnNames, column_count, &columns);

    int64 running[64];
    int running_count = running_task_ids(MyDatabaseId, running, 64);
    ScanKeyData key;
    int key_count = 0;
    if (!manual) {
        ScanKeyInit(&key, 1, BTLessEqualStrategyNumber, F_TIMESTAMPTZ_LE, TimestampTzGetDatum(now));
        key_count = 1;
    }
    TupleTableSlot *found = table_slot_create(rel, NULL);
    TupleTableSlot *locked = table_slot_create(rel, NULL);
    IndexScanDesc scan = index_beginscan(rel, index, GetActiveSnapshot(), key_count, 0);
    index_rescan(scan, key_count ? &key : NULL, key_count, NULL, 0);
    bool claimed = false;
    int also_due = 0;
    while (index_getnext_slot(scan, ForwardScanDirection, found)) {
        int64 id = int_column(found, c_id, 0);
        if (is_running(id, running, running_count))
            continue;
        if (claimed) {
            if (++also_due >= count_limit)
                break;
            continue;
        }
        if (manual && !still_claimable(found, true, now))
            continue;
        if (!lock_row(rel, found, locked, manual, now))
            continue;
        copy_claimed(locked, context, manual, now, task);
        claimed = true;
        if (count_limit == 0)
            break;
    }
    index_endscan(scan);
    ExecDropSingleTupleTableSlot(found);
    ExecDropSingleTupleTableSlot(locked);
    index_close(index, NoLock);
    table_close(rel, NoLock);
    if (claimed)
        task->also_due = also_due;
    return claimed;
}

}  // namespace

bool claim_due_task(TimestampTz now, MemoryContext context, ClaimedTask *task) {
    return claim_from("tasks_due", false, now, could_share_work(chronos_max_workers) ? 8 : 1, context, task);
}

bool claim_requested_task(TimestampTz now, MemoryContext context, ClaimedTask *task) {
    return claim_from("tasks_requested", true, now, 0, context, task);
}
