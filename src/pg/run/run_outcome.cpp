// What a run's outcome does to its task and how it is written (the "record" of claim → run → record), shared by the
// executor's step (run_step.cpp) and the runs in flight (in_flight.cpp): the task's policy after a run (core),
// on_failure, the run's log line, and recordings put off while a session holds a lock.
#include "pg/run/run_outcome.hpp"

#include "pg/bridge/pg_time_zone.hpp"
#include "pg/catalog/task_wake.hpp"
#include "pg/kinds/sql/sql_run.hpp"
#include "pg/run/deferred_runs.hpp"
#include "pg/run/run_log.hpp"
#include "pg/run/run_timeout.hpp"
#include "pg/settings.hpp"
#include "pg/workers/database_table.hpp"
#include "pg/workers/runs_in_progress.hpp"
#include "pg/workers/warning_limits.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "miscadmin.h"
#include "utils/timestamp.h"
}

namespace {

const char *const kRunStatusNames[] = {"succeeded", "failed", "timed_out", "cancelled"};
const char *const kTaskStatusNames[] = {"scheduled", "done", "failed"};

}  // namespace

// What the task becomes after a run: the core's retry / failure / end policy. A manual run leaves the task as it was.
void decide_record(const ClaimedTask *task, const RunOutcome *outcome, chronos::RunOutcomeKind kind,
                   TimestampTz started_at, RunRecord *record, bool *finally_failed) {
    record->finished_at = GetCurrentTimestamp();
    record->started_at = started_at;
    record->run_status = kRunStatusNames[static_cast<int>(kind)];
    record->error = outcome->error;
    record->result = outcome->result;
    *finally_failed = false;
    if (kind == chronos::RunOutcomeKind::timed_out)
        record->error = psprintf("57014: run timed out after " INT64_FORMAT " ms", timeout_ms_of(task));
    else if (kind == chronos::RunOutcomeKind::cancelled)
        record->error = pstrdup("57014: run cancelled by chronos.cancel()");

    if (task->manual) {
        record->task_status = task->status;
        record->has_next = task->next_exec_time_known;
        record->next_exec_time = task->next_exec_time;
        record->failure_count = task->failure_count;
        record->next_attempt = task->attempt;
        return;
    }
    chronos::RunFacts facts = {task->scheduled_for, record->finished_at, task->attempt, task->failure_count,
                               task->run_count,     kind,
                               ((uint64)random() << 32) ^ (uint64)random()};
    chronos::TimeZone zone = {};
    chronos::CoreError error;
    chronos::NextState next;
    bool zone_known = !task->is_loop || find_time_zone(task->timezone, &zone);
    if (!zone_known || !chronos::engine_after_run(&task->policy, &facts, &zone, &next, &error)) {
        record->task_status = "failed";
        record->has_next = false;
        record->failure_count = task->failure_count + 1;
        record->next_attempt = 1;
        record->error = zone_known ? psprintf("%s: %s", error.message, error.detail)
                                   : psprintf("unknown time zone \"%s\"", task->timezone);
        return;
    }
    record->task_status = kTaskStatusNames[next.status];
    record->has_next = next.has_next;
    record->next_exec_time = next.next_exec_time;
    record->failure_count = next.failure_count;
    record->next_attempt = next.attempt;
    *finally_failed = next.finally_failed;
}

// on_failure: SQL run as the owner once a run has finally failed, with the run's JSON as $1. Its failure is logged, at
// most once a minute per database.
void run_on_failure(const ClaimedTask *task, Oid owner, bool owner_is_superuser, const char *run_json) {
    if (task->on_failure == NULL || run_json == NULL || !OidIsValid(owner))
        return;
    RunOutcome outcome;
    run_in_transaction(task->on_failure, owner, owner_is_superuser, "SELECT", run_json, &outcome);
    int64 held;
    if (!outcome.succeeded && warning_due(MyDatabaseId, WarningKind::on_failure_failed, &held))
        ereport(WARNING, (errmsg("pg_chronos: on_failure of task \"%s\" (id " INT64_FORMAT ") in database \"%s\" failed: %s",
                                 task->name ? task->name : "", task->id, get_database_name(MyDatabaseId),
                                 outcome.error),
                          held > 0 ? errdetail(INT64_FORMAT " more failures of on_failure commands in this database "
                                               "were not logged in the last minute.", held)
                                   : 0));
}

// The run's server log line, written when its recording commits (only called when run_is_logged() says so).
void log_recorded_run(const ClaimedTask *task, const RunRecord *record, int64 run_id) {
    EndedRun run = {run_id,        task->id,      task->name,           task->owner,
                    record->run_status, false,    task->attempt,        task->policy.max_retries + 1,
                    task->manual,  true,          task->scheduled_for,  record->started_at,
                    record->finished_at, record->error, NULL};
    log_run_outcome(&run);
}

namespace {

// The on_failure of a run in flight, as a once SQL task of the same owner due now, with the run's JSON as its payload
// and the task's timeout: an executor runs it as it runs any task (its permit, timeout, identity and history).
void schedule_on_failure(const ClaimedTask *task, const char *run_json) {
    if (task->on_failure == NULL || run_json == NULL)
        return;
    Oid types[4] = {TEXTOID, TEXTOID, OIDOID, INT8OID};
    Datum values[4] = {CStringGetTextDatum(task->on_failure), CStringGetTextDatum(run_json),
                       ObjectIdGetDatum(task->owner), Int64GetDatum(task->id)};
    writing_bookkeeping = true;
    int rc = SPI_execute_with_args(
        "INSERT INTO chronos.tasks (type, kind, command, payload, start_time, next_exec_time, status, owner, remark,"
        "                           timezone, timeout)"
        " SELECT 'once', 'sql', $1, $2::pg_catalog.jsonb, pg_catalog.now(), pg_catalog.now(), 'scheduled',"
        "        $3::pg_catalog.regrole, 'on_failure of task ' OPERATOR(pg_catalog.||) $4, s.timezone, s.timeout"
        "   FROM chronos.tasks s WHERE s.id OPERATOR(pg_catalog.=) $4",
        4, types, values, NULL, false, 0);
    writing_bookkeeping = false;
    if (rc != SPI_OK_INSERT)
        elog(ERROR, "pg_chronos: could not schedule the on_failure of task " INT64_FORMAT ": %s", task->id,
             SPI_result_code_string(rc));
    note_task_due(GetCurrentTimestamp());
}

}  // namespace

// Writes an autonomous run's outcome (its task row locked by lock_for_recording), its log line and, when it finally
// failed, runs on_failure; in the current transaction, which the caller commits.
void record_autonomous_outcome(const ClaimedTask *task, int64 run_id, const RunRecord *record, bool finally_failed,
                               bool owner_is_superuser, MemoryContext context, TimestampTz *next_due, bool in_flight) {
    char *run_json = record_run_end(task, run_id, record, context, next_due);
    if (run_is_logged(strcmp(record->run_status, "succeeded") == 0, record->started_at, record->finished_at))
        log_recorded_run(task, record,
                         strcmp(record->run_status, "succeeded") == 0 && chronos_log_runs == LOG_RUNS_FAILURES ? 0
                                                                                                           : run_id);
    if (finally_failed && in_flight)
        schedule_on_failure(task, run_json);
    else if (finally_failed)
        run_on_failure(task, task->owner, owner_is_superuser, run_json);
}

// A session holds a lock the recording of the run needs: the run is kept to be recorded later (or, when this executor
// keeps as many as it may, left for recovery), and the log says what it waits for, at most once a minute per database.
// Inside a transaction (the database's name is looked up).
void defer_recording(const ClaimedTask *task, int64 run_id, const RunRecord *record, bool finally_failed,
                     bool owner_is_superuser, const LockHolder *holder) {
    bool kept = defer_run(task, run_id, record, finally_failed, owner_is_superuser) != NULL;
    if (!kept)
        note_ended_run(MyDatabaseId);  // recovery records it (as interrupted) once the lock is free
    int64 held;
    if (!warning_due(MyDatabaseId, WarningKind::recording_waits, &held))
        return;
    char holder_text[64] = "";
    if (holder->pid != 0)
        snprintf(holder_text, sizeof holder_text, "Process %d holds it. ", holder->pid);
    ereport(LOG, (errmsg("pg_chronos: recording run " INT64_FORMAT " of task " INT64_FORMAT " in database \"%s\" waits "
                         "for a lock on %s",
                         run_id, task->id, get_database_name(MyDatabaseId), holder->what),
                  errdetail("%s%s Meanwhile the worker holds no run permit and runs other tasks; it records the run "
                            "once the lock is free.%s",
                            holder_text,
                            kept ? "The run's outcome is kept." : "The worker keeps no more outcomes: the run will be "
                                                                  "recorded as interrupted.",
                            held > 0 ? psprintf(" " INT64_FORMAT " more recordings waited in this database in the "
                                                "last minute.", held)
                                     : ""),
                  errhint("Commit or roll back the transaction that locks %s.", holder->what)));
}

