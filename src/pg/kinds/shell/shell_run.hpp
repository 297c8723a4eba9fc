// The shell kind's runs, in flight together: /bin/sh -c command in its own process group, with the environment and
// directory plan_shell_run prepared, the payload on standard input, standard output and error interleaved into the
// run's result (bounded; the rest is read and dropped). A timeout, chronos.cancel() or a stopping worker ends the
// whole process group: TERM, then KILL after kKillGraceMs; so does the command's exit, for whatever it left running.
// Each child is watched through descriptors (its output, its input, a pidfd), polled by kinds/async_runs.cpp.
#pragma once
#include "pg/postgres.hpp"

#include "pg/kinds/task_kind.hpp"

#include <curl/curl.h>

constexpr int kKillGraceMs = 2000;

// TaskKind entries of the shell kind: a run succeeds on exit status 0; otherwise it fails with "exit status N" or
// "killed by signal S (name)".
AsyncRun *start_shell_run(const ClaimedTask *task, const RunPlan *plan, MemoryContext context, RunOutcome *failure);
void stop_shell_run(AsyncRun *run);
void release_shell_run(AsyncRun *run);

// The descriptors the runs wait on, at most `max`; returns how many.
int shell_wait_fds(struct curl_waitfd *out, int max);
// Moves every run on (reads, writes, exits, kills) without waiting, and marks those that ended done. Returns the
// earliest time one of them must be looked at again whatever its descriptors do (a kill due), or DT_NOEND.
TimestampTz advance_shell_runs(void);
