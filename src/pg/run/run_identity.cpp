// The identity of a run (see run_identity.hpp). PostgreSQL records the user and security context in force when a
// transaction or subtransaction begins, and gives them back when it aborts (a ROLLBACK in a procedure or DO block, an
// error): a run that began its first transaction as the worker would be given the worker back, unrestricted, in the
// middle of its own code. So the owner is made the session and current user first, and every (sub)transaction of the
// command begins as the owner.
#include "pg/run/run_identity.hpp"

#include "pg/run/run_journal.hpp"

extern "C" {
#include "access/xact.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "utils/elog.h"
}

namespace {

bool active = false;         // a run's identity is in force
bool breached = false;       // a transaction end found another identity in force (restored at once; fails at the check)
const char *breached_at = NULL;
Oid run_user = InvalidOid;
int run_security = 0;

// The worker's identity, as it was when the run began.
Oid worker_user = InvalidOid;
int worker_security = 0;
Oid worker_session_user = InvalidOid;

bool is_run_identity(bool top_level) {
    Oid user;
    int security;
    GetUserIdAndSecContext(&user, &security);
    // Inside a SECURITY DEFINER function a subtransaction begins as the function's owner; the restriction and the
    // session user stay the run's.
    return (!top_level || user == run_user) && (security & kRunSecurity) == kRunSecurity &&
           GetSessionUserId() == run_user;
}

// At a transaction end during a run: an identity that is not the run's is replaced by the run's before any more of the
// command's code runs, and the run fails closed at the next check.
void note_breach(bool top_level, const char *event) {
    if (!active || proc_exit_inprogress || is_run_identity(top_level))
        return;
    breached = true;
    breached_at = event;
    Oid user;
    int security;
    GetUserIdAndSecContext(&user, &security);
    SetUserIdAndSecContext(top_level || GetSessionUserId() != run_user ? run_user : user, security | run_security);
}

void at_transaction_end(XactEvent event, void *) {
    if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT)
        note_breach(true, "a commit");
    else if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
        note_breach(true, "a rollback");
    else if (event == XACT_EVENT_PREPARE)
        note_breach(true, "a PREPARE TRANSACTION");
}

void at_subtransaction_end(SubXactEvent event, SubTransactionId, SubTransactionId, void *) {
    if (event == SUBXACT_EVENT_COMMIT_SUB)
        note_breach(false, "the release of a savepoint");
    else if (event == SUBXACT_EVENT_ABORT_SUB)
        note_breach(false, "the rollback of a savepoint");
}

}  // namespace

void register_run_identity_checks(void) {
    RegisterXactCallback(at_transaction_end, NULL);
    RegisterSubXactCallback(at_subtransaction_end, NULL);
}

void enter_run_identity(Oid owner, bool owner_is_superuser) {
    GetUserIdAndSecContext(&worker_user, &worker_security);
    worker_session_user = GetSessionUserId();
    run_user = owner;
    run_security = worker_security | kRunSecurity;
    breached = false;
    breached_at = NULL;
    SetSessionAuthorization(owner, owner_is_superuser);
    SetUserIdAndSecContext(owner, run_security);
    active = true;
}

void leave_run_identity(void) {
    active = false;
    SetUserIdAndSecContext(worker_user, worker_security);
    SetSessionAuthorization(worker_session_user, true);
    SetUserIdAndSecContext(worker_user, worker_security);
}

void check_run_identity(const char *when) {
    if (!active || (!breached && is_run_identity(true)))
        return;
    const char *found = breached ? breached_at : "the identity in force";
    char cause[256];
    snprintf(cause, sizeof cause,
             "XX000: the run's identity changed at %s (%s); the worker ended the run and exited", found, when);
    journal_run_abandoned(cause);
    ereport(LOG, (errmsg("pg_chronos: worker exits: the identity of a run changed at %s (%s)", found, when),
                  errdetail("A task's code must run as its owner in the security-restricted mode until it ends; the "
                            "session is not used again, and the run is recorded as interrupted.")));
    proc_exit(1);
}
