// Fair share between owners in a claim: the runs in progress per owner as a claim sees them, and the look through
// chronos.tasks' index tasks_owner_due for a due row of an owner with fewer runs (claim.cpp).
#pragma once
#include "pg/postgres.hpp"

#include "pg/workers/run_permits.hpp"

extern "C" {
#include "datatype/timestamp.h"
#include "executor/tuptable.h"
#include "utils/rel.h"
}

// What the other executors do, as a claim sees it: the tasks they run in this database, and the runs in progress of
// each owner across all databases (this executor's own reservation included once it has one).
struct RunState {
    int64 ids[64];
    int id_count;
    OwnerRuns owners[64];
    int owner_count;
    uint64 task_changes;  // of this database (see copy_claim_state)
    int cap;              // an owner with this many is at its cap (0: none)
    bool in_flight;       // the runs counted are runs in flight (their share), and only their tasks are looked for
    bool step_only;       // only tasks whose runs are steps (SQL) are looked for
};

bool is_running(int64 id, const int64 *running, int n);
// Runs in progress of `owner`; count one more; whether it is at its cap (chronos.max_runs_per_owner, or for runs in
// flight chronos.max_in_flight_per_owner).
int runs_of(const RunState *state, Oid owner);
void add_run_of(RunState *state, Oid owner);
bool at_cap(const RunState *state, Oid owner);
// Whether the last look that found no fairer row may have become stale (see owner_fairness.cpp).
bool fairness_look_needed(Oid busy, int runs, const RunState *state, TimestampTz now);
// Looks, through tasks_owner_due (owner, next_exec_time) WHERE status = 'scheduled', for a due row of an owner with
// fewer runs in progress than `than_runs` (the owner of the earliest due row): one descent per owner that has scheduled
// tasks, up to kOwnersPerClaim owners from the cursor on, round the OID space. The owner and due time of an entry are
// read from the index: the rows of `busy`, of owners with no fewer runs or at chronos.max_runs_per_owner, and of owners
// with nothing due are passed over without reading the table. Picks the owner with the fewest runs, then the earliest
// due row. With state->in_flight, only rows of tasks whose runs go in flight are taken, with state->step_only only the
// others (a few rows of the other kind of an owner are passed over).
bool find_fairer_row(Relation rel, Relation owner_index, Oid busy, int than_runs, const RunState *state,
                     TimestampTz now, TupleTableSlot *slot, ItemPointerData *tid, Oid *owner);
