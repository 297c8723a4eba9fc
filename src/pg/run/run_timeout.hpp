// A run's timeout and cancels: the task's timeout (or chronos.default_timeout) and chronos.cancel() cancel its command as
// a statement cancel would; a command that ignores the cancel for kIgnoredCancelGraceMs is ended with its worker, the
// journal saying how the run ended. Used by run_step.cpp around each command.
#pragma once
#include "pg/postgres.hpp"

#include "pg/run/claimed_task.hpp"

// Registers the timeouts and the executor's SIGINT handler (once, at start).
void init_run_timeouts(void);
// Before the command of `task`: its timeout and the watchdog run until disarm_run_timeout.
void arm_run_timeout(const ClaimedTask *task);
// After the command: a cancel or timeout arriving now is too late to matter and must not hit the bookkeeping.
void disarm_run_timeout(void);
// Whether the last command's timeout fired.
bool run_timed_out(void);
// The timeout of `task` in milliseconds (0: none).
int64 timeout_ms_of(const ClaimedTask *task);
