// Fair share between owners in a claim (see owner_fairness.hpp).
#include "pg/run/owner_fairness.hpp"

#include "pg/run/claimed_task.hpp"
#include "pg/settings.hpp"

extern "C" {
#include "utils/timestamp.h"
#include "access/genam.h"
#include "access/itup.h"
#include "access/relscan.h"
#include "access/skey.h"
#include "access/stratnum.h"
#include "utils/fmgroids.h"
#include "utils/snapmgr.h"
}

namespace {

// Owners looked at per claim in tasks_owner_due, one index descent each; the next claim of this executor goes on after
// the last one looked at, so that with more owners than this every owner is still looked at in turn.
constexpr int kOwnersPerClaim = 32;
// Rows of other kinds passed over per owner when a look is for runs in flight.
constexpr int kOtherKindsPassedOver = 8;
Oid owner_cursor = InvalidOid;

// A look that found no fairer row holds until a commit writes scheduled tasks, another owner's earliest task falls due,
// or kFairnessRecheckUs pass (other owners' runs end, their loop tasks move): so a burst of one owner pays for one look
// per executor every kFairnessRecheckUs, not one per run. When other owners had due rows (none of them fairer), it holds
// only while the busy owner has no more runs than then.
constexpr int64 kFairnessRecheckUs = 10 * 1000;
struct NoFairerRow {
    bool known;
    bool in_flight;       // a look for runs in flight
    bool step_only;       // a look for runs in steps
    Oid busy;
    int runs;             // INT_MAX: no other owner had a due row, whatever the busy owner's runs
    uint64 task_changes;
    TimestampTz until;
} no_fairer_row;

}  // namespace

bool is_running(int64 id, const int64 *running, int n) {
    for (int i = 0; i < n; i++)
        if (running[i] == id)
            return true;
    return false;
}

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
    return state->cap > 0 && runs_of(state, owner) >= state->cap;
}

bool fairness_look_needed(Oid busy, int runs, const RunState *state, TimestampTz now) {
    const NoFairerRow &c = no_fairer_row;
    return !(c.known && c.in_flight == state->in_flight && c.step_only == state->step_only && c.busy == busy &&
             runs <= c.runs &&
             c.task_changes == state->task_changes && now < c.until);
}

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
        // The owner's first due row that is visible and that no executor runs (rows being run are still 'scheduled'),
        // and for runs in flight of such a task (up to kOtherKindsPassedOver others are passed over).
        int other_kinds = 0;
        while (o != busy) {
            TimestampTz at = DatumGetTimestampTz(index_getattr(scan->xs_itup, 2, scan->xs_itupdesc, &isnull));
            if (isnull)
                break;
            if (at > now) {
                next_due = Min(next_due, at);
                break;
            }
            bool fetched = index_fetch_heap(scan, slot);
            if (fetched && (state->in_flight || state->step_only) &&
                claimed_runs_in_flight(slot) != state->in_flight) {
                if (++other_kinds >= kOtherKindsPassedOver)
                    break;
            } else if (fetched && !is_running(claimed_id(slot), state->ids, state->id_count)) {
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
    no_fairer_row = {!found,        state->in_flight, state->step_only, busy, others_due ? than_runs : INT_MAX,
                     state->task_changes, next_due};
    return found;
}
