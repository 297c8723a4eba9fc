// Claiming a task: an ordered scan of chronos.tasks' partial index tasks_due (tasks_due_step or tasks_due_in_flight for
// an executor that may take only one of the two; tasks_requested for chronos.run_now()) that locks the first row no
// one else holds, as SELECT … ORDER BY next_exec_time LIMIT 1 FOR UPDATE SKIP LOCKED would, without building and
// starting a plan for every run. Rows the other executors are running are passed over without trying their locks.
// Owners share the executors fairly (an owner with runs in progress gives way to one with fewer, found through
// tasks_owner_due), and a session's lock on the catalog makes the claim step back instead of waiting.
#include "pg/run/claim.hpp"

#include "pg/catalog/columns.hpp"
#include "pg/run/catalog_locks.hpp"
#include "pg/kinds/kind_settings.hpp"
#include "pg/run/owner_fairness.hpp"
#include "pg/settings.hpp"
#include "pg/workers/executor_slots.hpp"
#include "pg/workers/run_permits.hpp"
#include "pg/workers/runs_in_progress.hpp"

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
#include "storage/proc.h"
#include "utils/fmgroids.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
}

namespace {

bool passed_over_kinds = false;
// A claim passes over at most this many due rows of kinds it may not take (or of owners at their share of runs in
// flight), then gives up until its next look.
constexpr int kMaxPassedOver = 64;
// Whatever the reason (kind, share, cap, lock, a request no longer claimable), a claim looks at no more than this
// many rows it cannot take before it claims one, so that no number of a role's rows makes a claim long.
constexpr int kMaxLookedAt = 4 * kMaxPassedOver;
bool gave_up = false;      // the last claim stopped there
bool rows_locked = false;  // the last claim found due rows a session holds
// Requested rows (chronos.run_now()) are looked at in id order: a look that gave up goes on after the last one it
// looked at, so that however many requested rows of others it cannot take come first, every request is reached.
int64 manual_cursor = 0;

// The runs in flight this transaction claimed, not yet started (so not yet in shared memory): a batch of starts shares
// one claim transaction (run_step.cpp), and each owner's share counts them.
OwnerRuns batch_claims[64];
int batch_claim_count = 0;
LocalTransactionId batch_transaction = InvalidLocalTransactionId;

void note_in_flight_claim(Oid owner) {
    if (batch_transaction != MyProc->lxid) {
        batch_transaction = MyProc->lxid;
        batch_claim_count = 0;
    }
    for (int i = 0; i < batch_claim_count; i++)
        if (batch_claims[i].owner == owner) {
            batch_claims[i].runs++;
            return;
        }
    if (batch_claim_count < 64)
        batch_claims[batch_claim_count++] = {owner, 1};
}

// Runs in flight per owner, cluster-wide, with this transaction's claims not yet started; the other executors'
// runs in progress of `state` (a task they run is not looked at again).
void read_flight_state(const RunState *state, RunState *flight) {
    memcpy(flight->ids, state->ids, sizeof flight->ids);
    flight->id_count = state->id_count;
    flight->task_changes = state->task_changes;
    flight->cap = in_flight_owner_cap();
    flight->in_flight = true;
    flight->step_only = false;
    flight->owner_count = copy_in_flight_owners(flight->owners, 64);
    if (batch_transaction == MyProc->lxid)
        for (int i = 0; i < batch_claim_count; i++)
            for (int k = 0; k < batch_claims[i].runs; k++)
                add_run_of(flight, batch_claims[i].owner);
}

// Whether the row in `slot` is of a kind `kinds` excludes.
bool excluded_kind(TupleTableSlot *slot, ClaimKinds kinds) {
    if (kinds == ClaimKinds::any)
        return false;
    bool in_flight = claimed_runs_in_flight(slot);
    return kinds == ClaimKinds::in_flight_only ? !in_flight : in_flight;
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

// Scans `index_name` in order (keys: next_exec_time <= now, or none) and claims the first row it can lock — unless
// that row's owner has runs in progress (or is at chronos.max_runs_per_owner) and another owner with fewer runs has a
// due row: then that row. Then counts, up to `count_limit`, the further due rows no executor is running (of owners
// below the cap): they tell whether to wake more executors, and whether to look for the next due time after the run.
bool claim_from(const char *index_name, bool manual, TimestampTz now, int count_limit, MemoryContext context,
                ClaimedTask *task, ClaimKinds kinds) {
    release_owner_run();
    passed_over_kinds = false;
    gave_up = false;
    rows_locked = false;
    int passed_over = 0, locked_by_others = 0, looked_at = 0;
    Relation rel, index, owner_index;
    if (!lock_claim_relations(index_name, &rel, &index, &owner_index)) {
        if (manual && claim_lock_backoff_ms() > 0)
            request_manual_runs(MyDatabaseId);  // still requested: looked for once the lock is free
        return false;
    }
    find_claim_columns(rel);

    RunState state;
    state.owner_count =
        copy_claim_state(MyDatabaseId, state.ids, 64, &state.id_count, state.owners, 64, &state.task_changes);
    state.cap = owner_run_cap();
    state.in_flight = false;
    state.step_only = kinds == ClaimKinds::step_only;
    RunState flight;  // runs in flight per owner, read when a row of such a task is first looked at
    bool flight_read = false, flight_fairness_checked = false;
    int at_flight_share = 0;
    ScanKeyData key;
    int key_count = 0;
    const int64 cursor = manual ? manual_cursor : 0;
    int64 last_looked_at = 0;
    if (!manual) {
        ScanKeyInit(&key, 1, BTLessEqualStrategyNumber, F_TIMESTAMPTZ_LE, TimestampTzGetDatum(now));
        key_count = 1;
    } else if (cursor > 0) {
        ScanKeyInit(&key, 1, BTGreaterStrategyNumber, F_INT8GT, Int64GetDatum(cursor));
        key_count = 1;
    }
    TupleTableSlot *found = table_slot_create(rel, NULL);
    TupleTableSlot *locked = table_slot_create(rel, NULL);
    IndexScanDesc scan = index_beginscan(rel, index, GetActiveSnapshot(), key_count, 0);
    index_rescan(scan, key_count ? &key : NULL, key_count, NULL, 0);
    bool claimed = false, fairness_checked = false;
    int also_due = 0, looked_after = 0;
    while (index_getnext_slot(scan, ForwardScanDirection, found)) {
        int64 id = claimed_id(found);
        if (!claimed && ++looked_at > kMaxLookedAt) {
            gave_up = true;
            break;
        }
        last_looked_at = id;
        if (is_running(id, state.ids, state.id_count))
            continue;
        if (!claimed && excluded_kind(found, kinds)) {
            passed_over_kinds = true;
            if (++passed_over >= kMaxPassedOver) {
                gave_up = true;
                break;
            }
            continue;
        }
        Oid owner = claimed_owner(found);
        // A task whose run goes in flight, of an owner with its share of runs in flight: another owner's such task
        // instead (once a claim), or the rows after it.
        if (!claimed && kinds != ClaimKinds::step_only && in_flight_owner_cap() > 0 && claimed_runs_in_flight(found)) {
            if (!flight_read) {
                read_flight_state(&state, &flight);
                flight_read = true;
            }
            if (at_cap(&flight, owner)) {
                if (!manual && !flight_fairness_checked && owner_index != NULL) {
                    flight_fairness_checked = true;
                    ItemPointerData tid;
                    Oid other;
                    if (find_fairer_row(rel, owner_index, owner, INT_MAX, &flight, now, locked, &tid, &other) &&
                        reserve_owner_run(other, owner_run_cap())) {
                        if (lock_row(rel, tid, locked, false, now)) {
                            copy_claimed(locked, context, false, now, task);
                            claimed = true;
                            note_in_flight_claim(other);
                            add_run_of(&state, other);
                            if (count_limit == 0)
                                break;
                            continue;
                        }
                        release_owner_run();
                    }
                }
                if (++at_flight_share >= kMaxPassedOver) {
                    gave_up = true;
                    break;
                }
                continue;
            }
        }
        if (claimed) {
            // Rows of owners at chronos.max_runs_per_owner are not counted, but looked at, as many as would be counted:
            // a burst of one owner at its cap costs each claim as few rows as any other burst, not the whole burst.
            if (!at_cap(&state, owner))
                also_due++;
            if (++looked_after >= count_limit)
                break;
            continue;
        }
        if (manual && !still_claimable(found, true, now))
            continue;
        // Claims a due row of an owner other than `owner` with fewer runs than `than_runs` (once a claim).
        auto claim_fairer_row = [&](int than_runs, bool look_anyway) {
            fairness_checked = true;
            ItemPointerData tid;
            Oid other;
            bool fairer = (look_anyway || fairness_look_needed(owner, than_runs, &state, now)) &&
                          find_fairer_row(rel, owner_index, owner, than_runs, &state, now, locked, &tid, &other);
            if (!fairer || !reserve_owner_run(other, owner_run_cap()))
                return false;
            if (!lock_row(rel, tid, locked, false, now)) {
                release_owner_run();
                return false;
            }
            copy_claimed(locked, context, false, now, task);
            claimed = true;
            if (claimed_runs_in_flight(locked))
                note_in_flight_claim(other);
            add_run_of(&state, other);
            return true;
        };
        bool may_look_fairer = !manual && kinds != ClaimKinds::in_flight_only && !fairness_checked && owner_index != NULL;
        // The earliest due row's owner has runs in progress: does an owner with fewer have a due row?
        int runs = runs_of(&state, owner);
        if (may_look_fairer && (runs > 0 || at_cap(&state, owner)) &&
            claim_fairer_row(at_cap(&state, owner) ? INT_MAX : runs, false)) {
            if (!at_cap(&state, owner) && ++also_due >= count_limit)
                break;
            continue;
        }
        if (!reserve_owner_run(owner, owner_run_cap())) {
            if (fairness_checked)
                break;  // its owner is at the cap, and no other owner has a due row this claim could take
            continue;
        }
        if (!lock_row(rel, found->tts_tid, locked, manual, now)) {
            release_owner_run();
            // A session holds the row (a role may lock its own due rows): another owner's due row instead, and after
            // kMaxPassedOver such rows the claim gives up, so that however many rows are locked a claim costs little.
            rows_locked = true;
            if (++locked_by_others >= kMaxPassedOver) {
                gave_up = true;
                break;
            }
            if (may_look_fairer && !fairness_checked && claim_fairer_row(INT_MAX, true) && count_limit == 0)
                break;
            continue;
        }
        copy_claimed(locked, context, manual, now, task);
        claimed = true;
        if (claimed_runs_in_flight(locked))
            note_in_flight_claim(owner);
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
    if (manual) {
        // Gave up: the next look goes on from here. Reached the end from a cursor: the rows before it are looked at
        // again next time (the caller keeps the request).
        manual_cursor = gave_up ? last_looked_at : 0;
        gave_up = gave_up || (!claimed && cursor > 0);
    }
    return claimed;
}

}  // namespace

bool claim_due_task(TimestampTz now, MemoryContext context, ClaimedTask *task, ClaimKinds kinds) {
    int count_limit = could_share_work(chronos_max_workers) ? 8 : 1;
    // An executor that may take only runs in its step, or only runs in flight, claims from the index of those
    // (tasks_due_step, tasks_due_in_flight; a catalog of 1.1 has neither, and only SQL tasks): due rows of the other
    // kind, however many, never stand in front of the rows it may take.
    const char *own_index = kinds == ClaimKinds::step_only        ? "tasks_due_step"
                            : kinds == ClaimKinds::in_flight_only ? "tasks_due_in_flight"
                                                                  : NULL;
    if (own_index != NULL && OidIsValid(chronos_relation(own_index)))
        return claim_from(own_index, false, now, count_limit, context, task, kinds);
    if (claim_from("tasks_due", false, now, count_limit, context, task, kinds))
        return true;
    // The earliest due rows were all runs in flight of owners at their share: a run in its step, from behind them.
    if (kinds == ClaimKinds::any && gave_up && claim_lock_backoff_ms() == 0 &&
        OidIsValid(chronos_relation("tasks_due_step")))
        return claim_from("tasks_due_step", false, now, count_limit, context, task, ClaimKinds::step_only);
    return false;
}

bool step_tasks_due(TimestampTz now) {
    if (!OidIsValid(chronos_relation("tasks_due_step")))
        return false;
    Relation rel, index, owner_index;
    if (!lock_claim_relations("tasks_due_step", &rel, &index, &owner_index))
        return false;
    find_claim_columns(rel);
    RunState state;
    state.owner_count =
        copy_claim_state(MyDatabaseId, state.ids, 64, &state.id_count, state.owners, 64, &state.task_changes);
    ScanKeyData key;
    ScanKeyInit(&key, 1, BTLessEqualStrategyNumber, F_TIMESTAMPTZ_LE, TimestampTzGetDatum(now));
    TupleTableSlot *found = table_slot_create(rel, NULL);
    IndexScanDesc scan = index_beginscan(rel, index, GetActiveSnapshot(), 1, 0);
    index_rescan(scan, &key, 1, NULL, 0);
    bool due = false;
    for (int looked = 0; !due && looked < kMaxPassedOver && index_getnext_slot(scan, ForwardScanDirection, found);
         looked++)
        due = !is_running(claimed_id(found), state.ids, state.id_count);
    index_endscan(scan);
    ExecDropSingleTupleTableSlot(found);
    if (owner_index != NULL)
        index_close(owner_index, NoLock);
    index_close(index, NoLock);
    table_close(rel, NoLock);
    return due;
}

bool claim_requested_task(TimestampTz now, MemoryContext context, ClaimedTask *task, ClaimKinds kinds) {
    return claim_from("tasks_requested", true, now, 0, context, task, kinds);
}

bool claim_passed_over_kinds(void) {
    return passed_over_kinds;
}

bool claim_gave_up(void) {
    return gave_up;
}

bool claim_found_rows_locked(void) {
    return rows_locked;
}
