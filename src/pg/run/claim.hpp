// Claiming a task: the earliest due task (or one chronos.run_now() requested) that no one else holds, locked in the
// executor's transaction and copied out (run_step.cpp).
#pragma once
#include "pg/postgres.hpp"

#include "pg/run/claimed_task.hpp"

// Which kinds of task a claim may take: an executor that drives runs in flight takes only tasks whose runs go in flight
// too (a run in its step would stop them meanwhile), and one that may start no more in flight only the others.
enum class ClaimKinds { any, in_flight_only, step_only };

// Locks the earliest task due at `now` that no one else holds (SKIP LOCKED) and copies it into `context`.
bool claim_due_task(TimestampTz now, MemoryContext context, ClaimedTask *task, ClaimKinds kinds = ClaimKinds::any);
// Locks a task with a pending chronos.run_now() request.
bool claim_requested_task(TimestampTz now, MemoryContext context, ClaimedTask *task,
                          ClaimKinds kinds = ClaimKinds::any);
// Whether the last claim passed over due tasks of a kind it might not take (another executor should look).
bool claim_passed_over_kinds(void);
// Whether the last claim gave up before looking at every row it might take (it looks on at its next call).
bool claim_gave_up(void);
// Whether the last claim found due rows a session holds locked (it looks again a little later, not at once).
bool claim_found_rows_locked(void);
// Whether a task whose run is a step (SQL) is due at `now` and not being run: looked for by an executor that drives
// runs in flight, whose claims do not see them (another executor should look).
bool step_tasks_due(TimestampTz now);
