// The shell kind's run: /bin/sh -c command in its own process group, with the environment and directory plan_shell_run
// prepared, the payload on standard input, standard output and error interleaved into the run's result (bounded; the
// rest is read and dropped). A timeout, chronos.cancel() or a stopping worker ends the whole process group: TERM, then
// KILL after kKillGraceMs; so does the command's exit, for whatever it left running in its group.
#pragma once
#include "pg/postgres.hpp"

#include "pg/kinds/task_kind.hpp"

constexpr int kKillGraceMs = 2000;

// TaskKind.run_autonomous of the shell kind: succeeded on exit status 0; otherwise failed with "exit status N" or
// "killed by signal S (name)".
void run_shell(const ClaimedTask *task, const RunPlan *plan, Oid owner, bool owner_is_superuser, RunOutcome *out);
