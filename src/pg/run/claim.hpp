// Claiming a task: the earliest due task (or one chronos.run_now() requested) that no one else holds, locked in the
// executor's transaction and copied out (run_step.cpp).
#pragma once
#include "pg/postgres.hpp"

#include "pg/run/claimed_task.hpp"

// Locks the earliest task due at `now` that no one else holds (SKIP LOCKED) and copies it into `context`.
bool claim_due_task(TimestampTz now, MemoryContext context, ClaimedTask *task);
// Locks a task with a pending chronos.run_now() request.
bool claim_requested_task(TimestampTz now, MemoryContext context, ClaimedTask *task);
