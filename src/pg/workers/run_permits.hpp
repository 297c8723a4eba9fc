// Run permits: the cluster-wide cap on runs in progress (chronos.max_workers), the fair queue for them, and the
// per-owner cap (chronos.max_runs_per_owner). Used by the executors (executor_worker.cpp) and claims (run/claim.cpp).
#pragma once
#include "pg/postgres.hpp"

extern "C" {
#include "datatype/timestamp.h"
#include "storage/latch.h"
}

// The cluster-wide cap on runs in progress: take a permit before a run, give it back after. No permit is given in a
// quiesced database. An executor that finds every permit taken queues; a permit given back goes straight to the
// queued executor whose database holds the fewest permits (the longest waiting of those), so a busy database cannot
// take the permits back ahead of the others.
bool take_run_permit(int max_workers);

void give_run_permit(int max_workers);

// Runs in progress per owner, cluster-wide, as the claims count them: an executor reserves its task's owner before it
// locks the row (reserve_owner_run) and keeps it until the run is recorded.
struct OwnerRuns {
    Oid owner;
    int runs;
};

// What a claim needs to know of the other executors, in one look: the ids of the tasks being run in `database` (as
// running_task_ids), the runs in progress per owner across all databases, and the database's count of commits that
// wrote scheduled tasks. Returns how many owners.
int copy_claim_state(Oid database, int64 *ids, int max_ids, int *id_count, OwnerRuns *owners, int max_owners,
                     uint64 *task_changes);

// Reserves a run for `owner` for this executor, unless `cap` (> 0) runs of `owner` are already in progress elsewhere
// (chronos.max_runs_per_owner). Returns whether it did.
bool reserve_owner_run(Oid owner, int cap);

// Gives back this executor's reservation (its claim did not get the row, or its run is over).
void release_owner_run(void);

// For the sources of workers/.
namespace shared_memory {
// With the lock held: this executor's permit goes to the queued executor whose database holds the fewest permits
// (then the one queued first), or back to the pool. Returns the latch to set, or NULL.
Latch *pass_permit_on(int max_workers, TimestampTz now);
}  // namespace shared_memory
