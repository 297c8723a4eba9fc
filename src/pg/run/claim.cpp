// Claiming a task: an ordered scan of chronos.tasks' partial index tasks_due (or tasks_requested) that locks the first
// row no one else holds, as SELECT … ORDER BY next_exec_time LIMIT 1 FOR UPDATE SKIP LOCKED would, without building
// and starting a plan for every run. Rows the other executors are running are passed over without trying their locks.
// Owners share the executors fairly (an owner with runs in progress gives way to one with fewer, found through
// tasks_owner_due), and a session's lock on the catalog makes the claim step back instead of waiting.
#include "pg/run/run_statements.hpp"

#include "pg/run/claim.hpp"
#include "pg/catalog/columns.hpp"
#include "pg/settings.hpp"
#include "pg/workers/executor_slots.hpp"
#include "pg/workers/run_permits.hpp"
#include "pg/workers/runs_in_progress.hpp"
#include "pg/workers/warning_limits.hpp"

extern "C" {
#include "access/genam.h"
#include "access/itup.h"
#include "access/relscan.h"
#include "access/skey.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "commands/dbcommands.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "storage/sinvaladt.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
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

// An interval in microseconds, as extract(epoch FROM …) counts it (a month is 30 days, a year 365.25 days), within
// ±chronos::kMaxIntervalUs: the trigger refuses longer ones, but a row written before 1.1 or with triggers off may
// hold any interval, and must not overflow.
int64 interval_column_us(TupleTableSlot *slot, Column c, int64 if_null) {
    bool isnull;
    Datum value = column(slot, c, &isnull);
    if (isnull)
        return if_null;
    const Interval *span = DatumGetIntervalP(value);
    constexpr double kUsecsPerYear = DAYS_PER_YEAR * SECS_PER_DAY * USECS_PER_SEC;
    double us = (double)span->time + (double)span->day * USECS_PER_DAY +
                (double)(span->month % MONTHS_PER_YEAR) * DAYS_PER_MONTH * USECS_PER_DAY +
                (double)(span->month / MONTHS_PER_YEAR) * kUsecsPerYear;
    double limit = (double)chronos::kMaxIntervalUs;
    return (int64)(us > limit ? limit : (us < -limit ? -limit : us));
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

Oid owner_column(TupleTableSlot *slot) {
    bool isnull;
    Datum value = column(slot, c_owner, &isnull);
    return isnull ? InvalidOid : DatumGetObjectId(value);
}

// What the other executors do, as a claim sees it: the tasks they run in this database, and the runs in progress of
// each owner across all databases (this executor's own reservation included once it has one).
struct RunState {
    int64 ids[64];
    int id_count;
    OwnerRuns owners[64];
    int owner_count;
    uint64 task_changes;  // of this database (see copy_claim_state)
};

int runs_of(const RunState *state, Oid owner) {
    for (int i = 0; i < state->owner_count; i++)
        if (state->owners[i].owner == owner)
            return state->owners[i].runs;
    return 0;
}

void add_run_of(RunState *state, Oid owner) {
    for (int i = 0; i < state->owner_count; i++)
        if (state->owners[i].owner == owner) {
            state->owners[i].runs++;
            return;
        }
    if (state->owner_count < 64)
        state->owners[state->owner_count++] = {owner, 1};
}

bool at_cap(const RunState *state, Oid owner) {
    int cap = owner_run_cap();
    return cap > 0 && runs_of(state, owner) >= cap;
}

// Whether the row version in `slot` may still be claimed: due (status 'scheduled', next_exec_time <= now) for a due
// claim, a pending request not already running for a manual one.
bool still_claimable(TupleTableSlot *slot, bool manual, TimestampTz now) {
    char *status = enum_column(slot, c_status);
    bool isnull;
    if (manual) {
        // A held task (chronos.tasks.held, from version 1.2 on) runs only once it is released.
        AttrNumber held = get_attnum(slot->tts_tableOid, "held");
        bool not_held = held == InvalidAttrNumber || (slot_getattr(slot, held, &isnull), isnull);
        return not_held && strcmp(status, "running") != 0 && DatumGetBool(column(slot, c_run_requested, &isnull)) &&
               !isnull;
    }
    TimestampTz next;
    return strcmp(status, "scheduled") == 0 && timestamp_column(slot, c_next_exec_time, &next) && next <= now;
}

// Locks the row at `tid` unless another transaction holds it; `locked` receives its latest version. A row updated
// since the scan's snapshot is locked in its latest version, which must still qualify.
bool lock_row(Relation rel, ItemPointerData tid, TupleTableSlot *locked, bool manual, TimestampTz now) {
    TM_FailureData failure;
    TM_Result result = table_tuple_lock(rel, &tid, GetActiveSnapshot(), locked, GetCurrentCommandId(true),
                                        LockTupleExclusive, LockWaitSkip, TUPLE_LOCK_FLAG_FIND_LAST_VERSION, &failure);
    if (result != TM_Ok)
        return false;
    return !failure.traversed || still_claimable(locked, manual, now);
}

// ---- fair share -------------------------------------------------------------------------------------------------------

// Owners looked at per claim in tasks_owner_due, one index descent each; the next claim of this executor goes on after
// the last one looked at, so that with more owners than this every owner is still looked at in turn.
constexpr int kOwnersPerClaim = 32;
Oid owner_cursor = InvalidOid;

// A look that found no fairer row holds until a commit writes scheduled tasks, another owner's earliest task falls due,
// or kFairnessRecheckUs pass (other owners' runs end, their loop tasks move): so a burst of one owner pays for one look
// per executor every kFairnessRecheckUs, not one per run. When other owners had due rows (none of them fairer), it holds
// only while the busy owner has no more runs than then.
constexpr int64 kFairnessRecheckUs = 10 * 1000;
struct NoFairerRow {
    bool known;
    Oid busy;
    int runs;             // INT_MAX: no other owner had a due row, whatever the busy owner's runs
    uint64 task_changes;
    TimestampTz until;
} no_fairer_row;

bool fairness_look_needed(Oid busy, int runs, const RunState *state, TimestampTz now) {
    const NoFairerRow &c = no_fairer_row;
    return !(c.known && c.busy == busy && runs <= c.runs && c.task_changes == state->task_changes && now < c.until);
}

// Looks, through tasks_owner_due (owner, next_exec_time) WHERE status = 'scheduled', for a due row of an owner with
// fewer runs in progress than `than_runs` (the owner of the earliest due row): one descent per owner that has scheduled
// tasks, up to kOwnersPerClaim owners from the cursor on, round the OID space. The owner and due time of an entry are
// read from the index: the rows of `busy`, of owners with no fewer runs or at chronos.max_runs_per_owner, and of owners
// with nothing due are passed over without reading the table. Picks the owner with the fewest runs, then the earliest
// due row.
bool find_fairer_row(Relation rel, Relation owner_index, Oid busy, int than_runs, const RunState *state,
                     TimestampTz now, TupleTableSlot *slot, ItemPointerData *tid, Oid *owner) {
    IndexScanDesc scan = index_beginscan(rel, owner_index, GetActiveSnapshot(), 1, 0);
    scan->xs_want_itup = true;
    const Oid start = owner_cursor;
    Oid after = start;
    bool wrapped = false;      // past the highest owner: going on from the lowest, up to `start`
    bool from_lowest = false;  // the next descent is the first after wrapping (owner >= 0)
    bool found = false, others_due = false;
    int best_runs = than_runs;
    TimestampTz best_at = 0;
    TimestampTz next_due = TimestampTzPlusMilliseconds(now, kFairnessRecheckUs / 1000);
    for (int looked = 0; looked < kOwnersPerClaim; looked++) {
        ScanKeyData key;
        if (from_lowest)
            ScanKeyInit(&key, 1, BTGreaterEqualStrategyNumber, F_OIDGE, ObjectIdGetDatum(InvalidOid));
        else
            ScanKeyInit(&key, 1, BTGreaterStrategyNumber, F_OIDGT, ObjectIdGetDatum(after));
        from_lowest = false;
        index_rescan(scan, &key, 1, NULL, 0);
        bool isnull;
        bool more = index_getnext_tid(scan, ForwardScanDirection) != NULL;
        Oid o = more ? DatumGetObjectId(index_getattr(scan->xs_itup, 1, scan->xs_itupdesc, &isnull)) : InvalidOid;
        if (!more || (wrapped && o > start)) {
            if (wrapped)
                break;  // every owner looked at
            wrapped = from_lowest = true;
            continue;
        }
        after = owner_cursor = o;
        int runs = runs_of(state, o);
        bool fairer = found ? runs <= best_runs : runs < best_runs;
        // The owner's first due row that is visible and that no executor runs (rows being run are still 'scheduled').
        while (o != busy) {
            TimestampTz at = DatumGetTimestampTz(index_getattr(scan->xs_itup, 2, scan->xs_itupdesc, &isnull));
            if (isnull)
                break;
            if (at > now) {
                next_due = Min(next_due, at);
                break;
            }
            if (index_fetch_heap(scan, slot) && !is_running(int_column(slot, c_id, 0), state->ids, state->id_count)) {
                others_due = true;
                if (fairer && !at_cap(state, o) && (!found || runs < best_runs || at < best_at)) {
                    found = true;
                    best_runs = runs;
                    best_at = at;
                    *tid = slot->tts_tid;
                    *owner = o;
                }
                break;
            }
            if (index_getnext_tid(scan, ForwardScanDirection) == NULL ||
                DatumGetObjectId(index_getattr(scan->xs_itup, 1, scan->xs_itupdesc, &isnull)) != o)
                break;
        }
        if (wrapped && o == start)
            break;
    }
    index_endscan(scan);
    no_fairer_row = {!found, busy, others_due ? than_runs : INT_MAX, state->task_changes, next_due};
    return found;
}

// ---- a session's lock on the catalog ----------------------------------------------------------------------------------

// A claim that would wait for a lock steps back: the executor gives back its run permit and looks again after a delay
// that grows from kLockBackoffMinMs to kLockBackoffMaxMs while the lock is held. The log says so once a minute per
// database, and once when the claims go on; an autonomous run's recording that has to wait says so each time.
constexpr int kLockBackoffMinMs = 100;
constexpr int kLockBackoffMaxMs = 1000;
constexpr int64 kLockWaitLogEveryUs = 60 * USECS_PER_SEC;
int lock_backoff_ms = 0;      // after the last claim: 0, or how long to wait before the next
int next_backoff_ms = kLockBackoffMinMs;
bool saw_lock_wait = false;   // this executor's claims stepped back since the catalog was last free

// The process of a session that holds a lock on `relid` conflicting with `mode`; 0 if none does (a conflicting
// request is waiting, or the holder is a prepared transaction).
int lock_holder_pid(Oid relid, LOCKMODE mode) {
    LOCKTAG tag;
    SET_LOCKTAG_RELATION(tag, MyDatabaseId, relid);
    int count = 0;
    VirtualTransactionId *holders = GetLockConflicts(&tag, mode, &count);
    for (int i = 0; i < count; i++) {
#if PG_VERSION_NUM >= 170000
        PGPROC *proc = ProcNumberGetProc(holders[i].procNumber);
#else
        PGPROC *proc = BackendIdGetProc(holders[i].backendId);
#endif
        if (proc != NULL && proc->pid != 0)
            return proc->pid;
    }
    return 0;
}

void log_lock_wait(Oid relid, LOCKMODE mode, const char *waiter) {
    int pid = lock_holder_pid(relid, mode);
    const char *database = get_database_name(MyDatabaseId);
    const char *relation = get_rel_name(relid);
    const char *mode_name = GetLockmodeName(DEFAULT_LOCKMETHOD, mode);
    if (pid != 0)
        ereport(LOG, (errmsg("pg_chronos: %s in database \"%s\" waits for a lock on chronos.%s", waiter,
                             database ? database : "?", relation ? relation : "?"),
                      errdetail("Process %d holds a lock on it that conflicts with %s. Meanwhile no run permit is held "
                                "and other databases are not delayed.", pid, mode_name),
                      errhint("Commit or roll back the transaction of process %d.", pid)));
    else
        ereport(LOG, (errmsg("pg_chronos: %s in database \"%s\" waits for a lock on chronos.%s", waiter,
                             database ? database : "?", relation ? relation : "?"),
                      errdetail("A session holds or is waiting for a lock on it that conflicts with %s. Meanwhile no "
                                "run permit is held and other databases are not delayed.", mode_name),
                      errhint("Commit or roll back the transaction that locks chronos.%s.", relation ? relation : "?")));
}

// Whether every lock on `relid` that conflicts with `mode` is held by a (lazy) VACUUM: it locks the table only to
// truncate its empty end, and lets go within about 20 ms once it sees a lock request wait for it — so the claim waits
// for it rather than stepping back (a conditional request would not be seen, and the claims would step back for as
// long as the truncation goes on).
bool held_by_vacuum_only(Oid relid, LOCKMODE mode) {
    LOCKTAG tag;
    SET_LOCKTAG_RELATION(tag, MyDatabaseId, relid);
    int count = 0;
    VirtualTransactionId *holders = GetLockConflicts(&tag, mode, &count);
    for (int i = 0; i < count; i++) {
#if PG_VERSION_NUM >= 170000
        PGPROC *proc = ProcNumberGetProc(holders[i].procNumber);
#else
        PGPROC *proc = BackendIdGetProc(holders[i].backendId);
#endif
        if (proc == NULL || !(proc->statusFlags & PROC_IN_VACUUM))
            return false;
    }
    return count > 0;
}

// Locks `relid` in `mode` if that needs no wait (or only for a VACUUM's truncation). Otherwise says so
// (rate-limited) and sets the backoff.
bool lock_without_wait(Oid relid, LOCKMODE mode) {
    if (ConditionalLockRelationOid(relid, mode))
        return true;
    if (held_by_vacuum_only(relid, mode)) {
        LockRelationOid(relid, mode);
        return true;
    }
    lock_backoff_ms = next_backoff_ms;
    next_backoff_ms = Min(next_backoff_ms * 2, kLockBackoffMaxMs);
    saw_lock_wait = true;
    if (note_lock_wait(MyDatabaseId, GetCurrentTimestamp(), kLockWaitLogEveryUs))
        log_lock_wait(relid, mode, "claiming tasks");
    return false;
}

// The catalog was free for this claim: if claims had stepped back, say once that they go on.
void lock_wait_over(void) {
    next_backoff_ms = kLockBackoffMinMs;
    if (!saw_lock_wait)
        return;
    saw_lock_wait = false;
    if (end_lock_wait(MyDatabaseId)) {
        const char *database = get_database_name(MyDatabaseId);
        ereport(LOG, (errmsg("pg_chronos: claiming tasks in database \"%s\" goes on: the lock is released",
                             database ? database : "?")));
    }
}

// Locks what a claim and its run's bookkeeping need, each only if that needs no wait: chronos.tasks and chronos.runs
// in the mode recording takes (so that a transactional run, holding them from its claim, records without waiting for
// a lock), the index the claim scans, and tasks_owner_due when it exists. Returns false when a lock was not free, or
// the table is gone (DROP EXTENSION: then the caller finds the extension gone); locks taken are kept to the end of the
// transaction either way.
bool lock_claim_relations(const char *index_name, Relation *rel, Relation *index, Relation *owner_index) {
    lock_backoff_ms = 0;
    Oid table_id = chronos_relation("tasks");
    Oid runs_id = chronos_relation("runs");
    Oid index_id = chronos_relation(index_name);
    Oid owner_index_id = chronos_relation("tasks_owner_due");
    if (!OidIsValid(table_id) || !OidIsValid(runs_id))
        return false;
    if (!lock_without_wait(table_id, RowExclusiveLock) || !lock_without_wait(runs_id, RowExclusiveLock))
        return false;
    *rel = try_table_open(table_id, NoLock);
    if (*rel == NULL)
        return false;
    if (!OidIsValid(index_id))
        elog(ERROR, "pg_chronos: index chronos.%s is missing", index_name);
    if (!lock_without_wait(index_id, AccessShareLock) ||
        (OidIsValid(owner_index_id) && !lock_without_wait(owner_index_id, AccessShareLock))) {
        table_close(*rel, NoLock);
        return false;
    }
    lock_wait_over();
    *index = index_open(index_id, NoLock);
    *owner_index = OidIsValid(owner_index_id) ? index_open(owner_index_id, NoLock) : NULL;
    return true;
}

// Scans `index_name` in order (keys: next_exec_time <= now, or none) and claims the first row it can lock — unless
// that row's owner has runs in progress (or is at chronos.max_runs_per_owner) and another owner with fewer runs has a
// due row: then that row. Then counts, up to `count_limit`, the further due rows no executor is running (of owners
// below the cap): they tell whether to wake more executors, and whether to look for the next due time after the run.
bool claim_from(const char *index_name, bool manual, TimestampTz now, int count_limit, MemoryContext context,
                ClaimedTask *task) {
    release_owner_run();
    Relation rel, index, owner_index;
    if (!lock_claim_relations(index_name, &rel, &index, &owner_index)) {
        if (manual && lock_backoff_ms > 0)
            request_manual_runs(MyDatabaseId);  // still requested: looked for once the lock is free
        return false;
    }
    find_columns(rel, kColumnNames, column_count, &columns);

    RunState state;
    state.owner_count =
        copy_claim_state(MyDatabaseId, state.ids, 64, &state.id_count, state.owners, 64, &state.task_changes);
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
    bool claimed = false, fairness_checked = false;
    int also_due = 0;
    while (index_getnext_slot(scan, ForwardScanDirection, found)) {
        int64 id = int_column(found, c_id, 0);
        if (is_running(id, state.ids, state.id_count))
            continue;
        Oid owner = owner_column(found);
        if (claimed) {
            if (!at_cap(&state, owner) && ++also_due >= count_limit)
                break;
            continue;
        }
        if (manual && !still_claimable(found, true, now))
            continue;
        // The earliest due row's owner has runs in progress: does an owner with fewer have a due row? (Once a claim.)
        int runs = runs_of(&state, owner);
        if (!manual && !fairness_checked && owner_index != NULL && (runs > 0 || at_cap(&state, owner))) {
            fairness_checked = true;
            ItemPointerData tid;
            Oid other;
            int than_runs = at_cap(&state, owner) ? INT_MAX : runs;
            bool fairer = fairness_look_needed(owner, than_runs, &state, now) &&
                          find_fairer_row(rel, owner_index, owner, than_runs, &state, now, locked, &tid, &other);
            if (fairer && reserve_owner_run(other, owner_run_cap())) {
                if (lock_row(rel, tid, locked, false, now)) {
                    copy_claimed(locked, context, false, now, task);
                    claimed = true;
                    add_run_of(&state, other);
                    if (!at_cap(&state, owner) && ++also_due >= count_limit)
                        break;
                    continue;
                }
                release_owner_run();
            }
        }
        if (!reserve_owner_run(owner, owner_run_cap())) {
            if (fairness_checked)
                break;  // its owner is at the cap, and no other owner has a due row this claim could take
            continue;
        }
        if (!lock_row(rel, found->tts_tid, locked, manual, now)) {
            release_owner_run();
            continue;
        }
        copy_claimed(locked, context, manual, now, task);
        claimed = true;
        add_run_of(&state, owner);
        if (count_limit == 0)
            break;
    }
    index_endscan(scan);
    ExecDropSingleTupleTableSlot(found);
    ExecDropSingleTupleTableSlot(locked);
    if (owner_index != NULL)
        index_close(owner_index, NoLock);
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

int claim_lock_backoff_ms(void) {
    return lock_backoff_ms;
}

RecordingLock lock_for_recording(int64 task_id, LockHolder *holder, ClaimedTask *task) {
    holder->what = NULL;
    holder->pid = 0;
    const char *const names[2] = {"tasks", "runs"};
    Oid relids[2];
    for (int i = 0; i < 2; i++) {
        relids[i] = chronos_relation(names[i]);
        if (!OidIsValid(relids[i]))
            return RecordingLock::task_gone;
        bool locked = ConditionalLockRelationOid(relids[i], RowExclusiveLock);
        if (!locked && held_by_vacuum_only(relids[i], RowExclusiveLock)) {
            LockRelationOid(relids[i], RowExclusiveLock);  // a VACUUM's truncation lets go within milliseconds
            locked = true;
        }
        if (!locked) {
            holder->what = i == 0 ? "chronos.tasks" : "chronos.runs";
            holder->pid = lock_holder_pid(relids[i], RowExclusiveLock);
            return RecordingLock::busy;
        }
    }
    Oid pkey = chronos_relation("tasks_pkey");
    if (!OidIsValid(pkey))
        elog(ERROR, "pg_chronos: index chronos.tasks_pkey is missing");
    Relation rel = table_open(relids[0], NoLock);
    Relation index = index_open(pkey, AccessShareLock);
    TupleTableSlot *slot = table_slot_create(rel, NULL);
    ScanKeyData key;
    ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(task_id));
    IndexScanDesc scan = index_beginscan(rel, index, GetActiveSnapshot(), 1, 0);
    index_rescan(scan, &key, 1, NULL, 0);
    RecordingLock result = RecordingLock::task_gone;
    if (index_getnext_slot(scan, ForwardScanDirection, slot)) {
        TM_FailureData failure;
        ItemPointerData tid = slot->tts_tid;
        TM_Result locked = table_tuple_lock(rel, &tid, GetActiveSnapshot(), slot, GetCurrentCommandId(true),
                                            LockTupleExclusive, LockWaitSkip, TUPLE_LOCK_FLAG_FIND_LAST_VERSION,
                                            &failure);
        if (locked == TM_Ok) {
            result = RecordingLock::locked;
            if (task != NULL) {
                find_columns(rel, kColumnNames, column_count, &columns);
                copy_claimed(slot, CurrentMemoryContext, false, GetCurrentTimestamp(), task);
            }
        } else if (locked == TM_WouldBlock) {
            result = RecordingLock::busy;
            holder->what = "the task's row of chronos.tasks";
            holder->pid = TransactionIdIsNormal(failure.xmax) ? BackendXidGetPid(failure.xmax) : 0;
        }
    }
    index_endscan(scan);
    ExecDropSingleTupleTableSlot(slot);
    index_close(index, NoLock);
    table_close(rel, NoLock);
    return result;
}
