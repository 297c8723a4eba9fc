// Locks on the catalog taken without waiting: a claim's locks on chronos.tasks, chronos.runs and the indexes it scans,
// and a recording's outside a claim (an autonomous run's outcome, a run recovered after its worker ended). A session
// holding one makes the claim step back (with a growing delay, said in the log) rather than wait with a run permit.
#pragma once
#include "pg/postgres.hpp"

#include "pg/run/claimed_task.hpp"

extern "C" {
#include "utils/rel.h"
}

// 0 when the last claim could take its locks; otherwise a session holds (or waits for) a lock on chronos.tasks,
// chronos.runs or an index a claim scans, nothing was claimed, and the executor should give back its permit and look
// again after this many milliseconds (100 ms at first, doubling up to 1 s while the lock is held). The log says what
// the claims wait for, at most once a minute per database.
int claim_lock_backoff_ms(void);

// What a recording outside a claim's transaction (an autonomous run's outcome, a run recovered after its worker ended)
// found when it tried to lock what it writes, without waiting.
enum class RecordingLock { locked, task_gone, busy };
struct LockHolder {
    const char *what;  // "chronos.tasks", "chronos.runs" or "the task's row of chronos.tasks"
    int pid;           // the process that holds it, 0 when not known
};

// Locks chronos.tasks and chronos.runs in ROW EXCLUSIVE mode and the row of task `task_id`, each only if that needs no
// wait, inside the current transaction (locks taken are kept to its end). busy: a session holds one of them (*holder
// says which); the caller records later, holding no run permit meanwhile. task_gone: there is no such row. When
// `task` is given, a locked row is copied into it (as a claim would copy it, in the current memory context).
RecordingLock lock_for_recording(int64 task_id, LockHolder *holder, ClaimedTask *task = NULL);

// Locks what a claim and its run's bookkeeping need, each only if that needs no wait: chronos.tasks and chronos.runs
// in the mode recording takes (so that a transactional run, holding them from its claim, records without waiting for
// a lock), the index the claim scans, and tasks_owner_due when it exists. Returns false when a lock was not free, or
// the table is gone (DROP EXTENSION: then the caller finds the extension gone); locks taken are kept to the end of the
// transaction either way.
bool lock_claim_relations(const char *index_name, Relation *rel, Relation *index, Relation *owner_index);
