// The kinds of task, behind one interface: what the validation trigger (catalog/task_trigger.cpp) and the run path
// (run/run_step.cpp) ask of a kind: sql (kinds/sql/), http (kinds/http/) and shell (kinds/shell/). Each lives in kinds/<kind>/ as
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
    void *detail;          // what the kind prepared for the run in plan_run (http: the request), or NULL
    int64 run_id;          // an autonomous run's row in chronos.runs, set by the run path before the run
    uint32 host_key;       // http: the host and port of its URL, hashed (0: none), which chronos.max_requests_per_host
                           // counts across the cluster (run/in_flight.cpp)
};

// A row of chronos.tasks as written, as the kinds check it (text as the user wrote it, NULL for SQL NULL).
struct TaskWrite {
    const char *column;         // the column checked: "command" (or "on_failure", always SQL)
    const char *command;
    const char *transactional;
    Oid owner;
    const char *http_method;    // http only; the other kinds refuse them when set
    const char *http_headers;   // jsonb text
    const char *http_body;
};

struct TaskKind;

// A run of a kind that waits outside the executor's step (http, shell): started by TaskKind.start_async, advanced by
// kinds/async_runs.hpp together with every other such run of the executor, over once `done`.
struct AsyncRun {
    const TaskKind *kind;
    bool done;
    RunOutcome outcome;      // once done (allocated in `context`)
    MemoryContext context;   // the run's memory, made by the caller, deleted after release_async
};

struct TaskKind {
    const char *name;  // as chronos.tasks names it
    // When a row is written: refuses a command (in column row->column) or a value this kind cannot run, or an owner
    // without the right to run it, with SQLSTATE, message, detail and hint.
    void (*check_task)(const TaskWrite *row);
    // Before a run, inside the claim's transaction (SPI connected): how the task's command runs. False when it cannot
    // (a row written before a check existed or with the trigger disabled, an owner who lost the right): *failure is
    // the run's outcome, and nothing runs.
    bool (*plan_run)(const ClaimedTask *task, RunPlan *plan, RunOutcome *failure);
    // The run, as `owner`: inside the step's transaction (SPI connected), or on its own, called and returning outside
    // any transaction. Errors are returned in *out, never thrown. A kind that never runs in a transaction leaves
    // run_in_transaction NULL.
    void (*run_in_transaction)(const ClaimedTask *task, const RunPlan *plan, Oid owner, bool owner_is_superuser,
                               RunOutcome *out);
    void (*run_autonomous)(const ClaimedTask *task, const RunPlan *plan, Oid owner, bool owner_is_superuser,
                           RunOutcome *out);
    // Kinds whose runs wait outside the step (NULL for sql): starts the run plan_run planned and returns at once,
    // outside any transaction; its memory is `context`. NULL with *failure set when it cannot start.
    AsyncRun *(*start_async)(const ClaimedTask *task, const RunPlan *plan, MemoryContext context, RunOutcome *failure);
    // Ends a run before its end (timeout, cancel): done soon after (shell: TERM, then KILL after a grace period).
    void (*stop_async)(AsyncRun *run);
    // Lets go of the run (once done, or when the worker exits: then it is ended at once). No PostgreSQL error.
    void (*release_async)(AsyncRun *run);
};

// The kind of a claimed task (sql for a catalog without chronos.tasks.kind, that of version 1.1).
const TaskKind *task_kind_of(const ClaimedTask *task);
// The kind named `name`, or NULL.
const TaskKind *find_task_kind(const char *name);
