// The shell kind's checks: only superusers and members of pg_execute_server_program (the right COPY … PROGRAM needs)
// own shell tasks, checked when a task is written (42501) and again before each run; and the plan of a run: the
// command, its environment and its working directory (shell_run.cpp runs it).
#pragma once
#include "pg/postgres.hpp"

#include "pg/kinds/run_output.hpp"
#include "pg/kinds/task_kind.hpp"

// Everything a run needs, prepared before it in the run's memory context.
struct ShellCommand {
    const char *command;
    char **environment;     // NULL-terminated "NAME=value": PATH, HOME, LANG and the CHRONOS_* variables
    const char *directory;
    const char *input;      // the payload, on standard input; NULL: none
    RunOutput output;
};

void check_shell_task(const TaskWrite *row);
bool plan_shell_run(const ClaimedTask *task, RunPlan *plan, RunOutcome *failure);
