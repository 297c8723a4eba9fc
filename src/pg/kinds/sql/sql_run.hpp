// Running one task's command as its owner (the "run" step of claim → run → record). Errors of the command are caught and
// returned as data; the caller records them. Nothing of one run's session state (settings, role, temp tables, advisory
// locks, LISTEN) is left for the next.
#pragma once
#include "pg/postgres.hpp"

#include "pg/kinds/task_kind.hpp"


// Whether `owner` may run a task in this database now, as a login would be allowed: the role exists, has CONNECT on
// the database and is within its VALID UNTIL. NULL if so, else the run's error ("SQLSTATE: message");
// *is_superuser: whether the role is a superuser.
char *owner_may_run(Oid owner, bool *is_superuser);

// Runs `command` as `owner` inside the current transaction (SPI connected), in a subtransaction that alone rolls back on
// error. `last_tag` is the command tag of its last statement; `payload` (jsonb text, or NULL) is bound to $1.
void run_in_transaction(const char *command, Oid owner, bool owner_is_superuser, const char *last_tag,
                        const char *payload, RunOutcome *out);

// Runs `command` as `owner` statement by statement at top level, each statement in its own transaction, as a client's
// separate queries would, with `payload` bound to $1. Called outside any transaction; returns outside any transaction.
void run_at_top_level(const char *command, Oid owner, bool owner_is_superuser, const char *payload, RunOutcome *out);

// Undoes what a transactional command may have left in the session (its settings are undone with its GUC nest level,
// and the security-restricted mode allows no temporary tables, WITH HOLD cursors or LISTEN): inside the recording
// transaction, then after its commit.
void reset_session_state_in_transaction(void);
void reset_session_state_after_commit(void);

// Gives the session back the state of a fresh one after an autonomous run (as DISCARD ALL would: settings, cursors,
// prepared statements, LISTEN, temporary objects, plans, advisory locks, sequence caches), in a transaction of its own.
// Fails closed: if the reset fails or the session still differs, the worker exits, and no other run uses it.
void reset_session(void);
// Remembers the session as the executor started (once, after connecting): the state every run must start from.
void remember_clean_session(void);
// Whether a run loaded a library into this process (dblink, a procedural language, LOAD): a library may keep state
// across transactions that DISCARD ALL does not reach (a dblink connection opened as one owner, usable by the next
// run). The executor leaves after such a run; a new one takes over.
bool run_loaded_a_library(void);
// Whether the session is as a run expects it: outside any transaction, as the worker's own user, unrestricted, with
// the transaction characteristics it started with.
bool session_is_clean(void);

// The sql kind's run entries of TaskKind: the task's command (its payload bound to $1) in the step's transaction, or
// statement by statement at top level.
void run_sql_in_transaction(const ClaimedTask *task, const RunPlan *plan, Oid owner, bool owner_is_superuser,
                            RunOutcome *out);
void run_sql_autonomous(const ClaimedTask *task, const RunPlan *, Oid owner, bool owner_is_superuser,
                        RunOutcome *out);
