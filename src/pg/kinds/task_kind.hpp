// The kinds of task, behind one interface: what the validation trigger (catalog/task_trigger.cpp) and the run path
// (run/run_step.cpp) ask of a kind. Today there is one kind, sql (kinds/sql/). Each kind lives in kinds/<kind>/ as
// <kind>_check.cpp (its command checked when written, and before a run), <kind>_run.cpp (the run, as the task's owner)
// and <kind>_result.cpp (what the run leaves in chronos.runs.result), and has one entry in task_kind.cpp.
#pragma once
#include "pg/postgres.hpp"

#include "pg/run/claimed_task.hpp"

// What a run of any kind ended with.
struct RunOutcome {
    bool succeeded;
    char *error;    // "SQLSTATE: message", NULL on success
    char *result;   // what chronos.runs.result keeps (for sql: the command tag and rows of the last statement)
};

// How a claimed task's command runs, as its kind decided before the run.
struct RunPlan {
    bool transactional;    // inside the step's transaction, recorded with it; otherwise on its own (autonomous)
    const char *last_tag;  // sql: the command tag of the last statement
};

struct TaskKind {
    const char *name;  // as chronos.tasks names it
    // When a row is written: refuses a command (in column `column`: "command" or "on_failure") that this kind cannot
    // run, with SQLSTATE, message, detail and hint. `transactional` is the column's text (NULL: decided by the kind).
    void (*check_command)(const char *column, const char *command, const char *transactional);
    // Before a run: how the task's command runs. False when it cannot (a row written before a check existed, or with
    // the trigger disabled): *failure is the run's outcome, and nothing runs.
    bool (*plan_run)(const ClaimedTask *task, RunPlan *plan, RunOutcome *failure);
    // The run, as `owner`: inside the step's transaction (SPI connected), or on its own, called and returning outside
    // any transaction. Errors are returned in *out, never thrown.
    void (*run_in_transaction)(const ClaimedTask *task, const RunPlan *plan, Oid owner, bool owner_is_superuser,
                               RunOutcome *out);
    void (*run_autonomous)(const ClaimedTask *task, Oid owner, bool owner_is_superuser, RunOutcome *out);
};

// The kind of a claimed task (every task is of kind sql until a second kind arrives with its column).
const TaskKind *task_kind_of(const ClaimedTask *task);
// The kind named `name`, or NULL.
const TaskKind *find_task_kind(const char *name);
