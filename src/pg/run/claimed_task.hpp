// A claimed task: the row of chronos.tasks a claim locked, copied out into plain fields (claim.cpp and, for recording
// outside a claim, catalog_locks.cpp copy it; run_step.cpp and the kinds of task read it).
#pragma once
#include "pg/postgres.hpp"

extern "C" {
#include "datatype/timestamp.h"
#include "executor/tuptable.h"
#include "utils/rel.h"
}

// A claimed task, copied out of SPI memory into the caller's context.
struct ClaimedTask {
    int64 id;
    char *name;
    char *command;
    Oid owner;                  // role OID (chronos.tasks.owner is regrole)
    bool is_loop;
    char *schedule;
    char *timezone;
    TimestampTz start_time;
    TimestampTz scheduled_for;  // its next_exec_time when claimed (the claim time for a manual run)
    bool next_exec_time_known;  // next_exec_time was not NULL when claimed
    TimestampTz next_exec_time; // as claimed: a manual run leaves it unchanged
    int transactional;          // -1: decide from the command; 0 / 1: forced
    bool manual;                // claimed for chronos.run_now()
    char *status;               // status when claimed
    int64 timeout_ms;           // -1: chronos.default_timeout
    chronos::TaskPolicy policy; // policy.schedule points at `schedule`
    int32 attempt;
    int32 failure_count;
    int64 run_count;
    char *payload;              // jsonb as text, or NULL
    char *kind;                 // chronos.tasks.kind (NULL: a catalog of version 1.1, where every task is sql)
    char *http_method;          // http: the method (NULL: GET), headers (jsonb text) and body
    char *http_headers;
    char *http_body;
    char *on_failure;
    bool reports;               // notify_on or on_failure: the run's JSON is built after it
    int also_due;               // other tasks due when claimed (counted up to 8; some may be claimed by others)
};

// Looks up the columns a claim reads in `rel` (chronos.tasks), once per relation.
void find_claim_columns(Relation rel);
// Copies the locked row in `slot` into `task`, allocating in `context` (find_claim_columns first).
void copy_claimed(TupleTableSlot *slot, MemoryContext context, bool manual, TimestampTz now, ClaimedTask *task);
// The id and owner of the row in `slot`.
int64 claimed_id(TupleTableSlot *slot);
Oid claimed_owner(TupleTableSlot *slot);
// Whether the row in `slot` is of a kind whose runs go in flight (http, shell), not in an executor's step.
bool claimed_runs_in_flight(TupleTableSlot *slot);
// Whether the row version in `slot` may still be claimed: due (status 'scheduled', next_exec_time <= now) for a due
// claim, a pending request not already running for a manual one.
bool still_claimable(TupleTableSlot *slot, bool manual, TimestampTz now);
