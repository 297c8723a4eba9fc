// A run's timeout and cancels (see run_timeout.hpp).
#include "pg/run/run_timeout.hpp"

#include "pg/run/run_journal.hpp"
#include "pg/settings.hpp"
#include "pg/workers/runs_in_progress.hpp"

extern "C" {
#include "miscadmin.h"
#include "storage/latch.h"
#include "utils/timeout.h"
#include "utils/timestamp.h"
}

namespace {

volatile sig_atomic_t timed_out = false;
TimeoutId run_timeout_id;
// A command may catch the cancel a timeout or chronos.cancel() sends (an EXCEPTION block in a loop) and go on: once it
// has gone on this long after the cancel, its worker ends it (a termination cannot be caught). The watchdog, armed
// for every command, looks once a second.
constexpr int kIgnoredCancelGraceMs = 5000;
constexpr int kWatchdogEveryMs = 1000;
TimeoutId run_watchdog_id;
volatile TimestampTz cancel_sent_at = 0;  // when the run's timeout or chronos.cancel() cancelled it; 0: not
// While a task's command runs: the number of its run, for SIGINT to tell a cancel of this run from a late one.
volatile sig_atomic_t in_command = false;
volatile uint64 command_run_number = 0;

// The run's timeout fired: cancel the command as pg_cancel_backend would.
void on_run_timeout(void) {
    timed_out = true;
    if (cancel_sent_at == 0)
        cancel_sent_at = GetCurrentTimestamp();
    QueryCancelPending = true;
    InterruptPending = true;
    SetLatch(MyLatch);
}

// SIGINT (chronos.cancel(), or pg_cancel_backend by an administrator) cancels the command in progress as a statement
// cancel would; outside a command it is ignored, and so is a chronos.cancel() of an earlier run whose signal arrives
// during a later one (its sender is known). The executor's own SIGINT (PostgreSQL's lock_timeout and statement_timeout
// send one to their process) always cancels.
void on_cancel_signal(int, siginfo_t *info, void *) {
    int saved_errno = errno;
    uint64 run = command_run_number;
    pid_t sender = info != NULL ? info->si_pid : 0;
    if (sender == MyProcPid && !in_command) {
        QueryCancelPending = true;
        InterruptPending = true;
    } else if (in_command && (cancel_is_for_run(run) || !cancel_came_late(run, sender))) {
        if (cancel_is_for_run(run) && cancel_sent_at == 0)
            cancel_sent_at = GetCurrentTimestamp();
        QueryCancelPending = true;
        InterruptPending = true;
    }
    SetLatch(MyLatch);
    errno = saved_errno;
}

// Once a second during a command: a command that went on for kIgnoredCancelGraceMs after its cancel is ended with
// its worker, as pg_terminate_backend would; the journal says why, and the next executor records the run as timed
// out or cancelled (and counts it against the task, as a run that ended its worker).
void on_run_watchdog(void) {
    TimestampTz sent = cancel_sent_at;
    if (!in_command || sent == 0 || GetCurrentTimestamp() - sent < kIgnoredCancelGraceMs * INT64CONST(1000))
        return;
    journal_run_ended_as(timed_out ? RunEnd::timed_out : RunEnd::cancelled);
    ProcDiePending = true;
    InterruptPending = true;
    SetLatch(MyLatch);
}

}  // namespace

void init_run_timeouts(void) {
    run_timeout_id = RegisterTimeout(USER_TIMEOUT, on_run_timeout);
    run_watchdog_id = RegisterTimeout(USER_TIMEOUT, on_run_watchdog);
    struct sigaction action;
    memset(&action, 0, sizeof action);
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART | SA_SIGINFO;
    action.sa_sigaction = on_cancel_signal;
    sigaction(SIGINT, &action, NULL);
}

void arm_run_timeout(const ClaimedTask *task) {
    command_run_number = current_run_number();
    cancel_sent_at = 0;
    timed_out = false;
    in_command = true;
    int64 timeout_ms = timeout_ms_of(task);
    journal_run_limits(timeout_ms, kIgnoredCancelGraceMs);
    EnableTimeoutParams timeouts[2];
    int count = 0;
    timeouts[count++] = {run_watchdog_id, TMPARAM_EVERY, kWatchdogEveryMs, 0};
    if (timeout_ms > 0)
        timeouts[count++] = {run_timeout_id, TMPARAM_AFTER, (int)Min(timeout_ms, (int64)INT_MAX), 0};
    enable_timeouts(timeouts, count);
}

void disarm_run_timeout(void) {
    in_command = false;
    DisableTimeoutParams timeouts[2] = {{run_timeout_id, false}, {run_watchdog_id, false}};
    disable_timeouts(timeouts, 2);
    QueryCancelPending = false;
    cancel_sent_at = 0;
}

bool run_timed_out(void) {
    return timed_out;
}

int64 timeout_ms_of(const ClaimedTask *task) {
    return task->timeout_ms >= 0 ? task->timeout_ms : chronos_default_timeout_ms;
}
