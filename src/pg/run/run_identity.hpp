// The identity a task's code runs with (the "run" of claim → run → record): its owner as the session user and the current
// user, in PostgreSQL's security-restricted operation mode. It is taken before any transaction or subtransaction of the
// command begins, so that PostgreSQL's own abort path, which gives back the user a (sub)transaction began with, gives back
// the owner, never the worker. It is checked after each statement and at every transaction end; a run whose identity
// differs fails closed: the worker exits and the run is recorded as interrupted by the next one (run_journal.cpp).
#pragma once
#include "pg/postgres.hpp"

extern "C" {
#include "miscadmin.h"
}

// The security context of a run: a local user change (nothing the code does can switch back), restricted as PostgreSQL
// restricts a table owner's code in VACUUM and REFRESH MATERIALIZED VIEW (no deferred trigger, WITH HOLD cursor or
// temporary table can outlive the command; no SET ROLE, SET SESSION AUTHORIZATION, LISTEN or DISCARD).
constexpr int kRunSecurity = SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION;

// Registers the transaction callbacks that check the identity at each transaction end of a run. Once per executor.
void register_run_identity_checks(void);

// Becomes `owner` (a superuser or not, as its role says) for a run. Called with the worker's own identity in force,
// inside a transaction or outside any.
void enter_run_identity(Oid owner, bool owner_is_superuser);
// Gives the worker its own identity back.
void leave_run_identity(void);

// Fails closed unless the identity in force is the run's: the run is abandoned with a cause in the journal, and the
// worker exits, so that nothing more runs in this session. `when` says where the check was made.
void check_run_identity(const char *when);
