// What a claim (claim.cpp) tells the executor beyond the task it claimed: whether a session's lock on the catalog made
// it step back, and the lock the bookkeeping of an autonomous run takes without holding a run permit while it waits.
#pragma once
#include "postgres.hpp"

// 0 when the last claim could take its locks; otherwise a session holds (or waits for) a lock on chronos.tasks,
// chronos.runs or an index a claim scans, nothing was claimed, and the executor should give back its permit and look
// again after this many milliseconds (100 ms at first, doubling up to 1 s while the lock is held). The log says what
// the claims wait for, at most once a minute per database.
int claim_lock_backoff_ms(void);

// Before an autonomous run's outcome is recorded (in a fresh transaction): takes the locks the recording needs on
// chronos.tasks and chronos.runs. When a session holds a conflicting lock, gives back the run permit first, says so
// in the log, then waits for the lock.
void lock_for_recording(void);
