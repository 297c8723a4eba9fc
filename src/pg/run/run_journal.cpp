// The run journal (see run_journal.hpp). One file per executor, $PGDATA/pg_chronos/run.<database>.<pid>.<start>, holding
// one fixed-size record rewritten in place; flock()ed by its executor, so that a lock that can be taken means the
// executor is gone. No fsync: the file has to outlive a process or a restart of the server, not of the machine.
#include "pg/run/run_journal.hpp"

#include "pg/run/catalog_locks.hpp"
#include "pg/run/deferred_runs.hpp"
#include "pg/run/run_log.hpp"
#include "pg/run/run_step.hpp"
#include "pg/settings.hpp"
#include "pg/workers/runs_in_progress.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

extern "C" {
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "common/file_perm.h"
#include "executor/spi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "postmaster/interrupt.h"
#include "storage/fd.h"
#include "storage/ipc.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/elog.h"
#include "utils/timestamp.h"
}

namespace {

constexpr const char *kJournalDir = "pg_chronos";
constexpr int kCauseSize = 512;

struct JournalRecord {
    int64 task_id;           // 0: no run in progress
    int64 run_id;            // an autonomous run's row, else 0
    TimestampTz scheduled_for;
    TimestampTz started_at;
    int32 attempt;
    bool manual;
    bool innocent;           // ended by a shutdown or by another process's crash: not the task's doing
    char cause[kCauseSize];  // the FATAL or PANIC message that ended the executor, if one did
    RunEnd ended_as;         // the executor ended a command that ignored its cancel (absent in 1.1's journals)
};

// The causes journal_run_ended_as() writes, prepared when the run starts (a signal handler cannot format text).
char timed_out_cause[kCauseSize];
char cancelled_cause[kCauseSize];

int journal_fd = -1;
char journal_path[MAXPGPATH];
JournalRecord record;  // this executor's, as last written
volatile sig_atomic_t terminated_by = 0;
emit_log_hook_type previous_emit_log_hook = NULL;

void write_at(const void *data, size_t size, off_t offset) {
    if (journal_fd >= 0 && pwrite(journal_fd, data, size, offset) < 0) {
        // Best effort: the run itself does not depend on its journal.
    }
}

// Copies `text` into the record's cause, cut on a character boundary.
void set_cause(const char *text) {
    int length = (int)strlen(text);
    if (length >= kCauseSize)
        length = pg_mbcliplen(text, length, kCauseSize - 1);
    memcpy(record.cause, text, length);
    record.cause[length] = '\0';
    write_at(record.cause, sizeof record.cause, offsetof(JournalRecord, cause));
}

void mark_innocent(void) {
    record.innocent = true;
    write_at(&record.innocent, sizeof record.innocent, offsetof(JournalRecord, innocent));
}

// SIGTERM: who sent it tells a shutdown (the postmaster) from a termination (pg_terminate_backend, kill).
void on_sigterm(int signal, siginfo_t *info, void *) {
    terminated_by = info != NULL ? info->si_pid : 0;
    die(signal);
}

// SIGQUIT comes from the postmaster when another process crashed, or at an immediate shutdown.
void on_sigquit(int signal) {
    if (record.task_id != 0)
        mark_innocent();  // pwrite is async-signal-safe
    SignalHandlerForCrashExit(signal);
}

// The last words of an executor: a FATAL or PANIC during a run is its cause.
void capture_fatal(ErrorData *edata) {
    if (previous_emit_log_hook)
        previous_emit_log_hook(edata);
    if (edata->elevel < FATAL || record.task_id == 0 || record.ended_as != RunEnd::interrupted)
        return;
    if (edata->sqlerrcode == ERRCODE_ADMIN_SHUTDOWN && terminated_by == PostmasterPid) {
        mark_innocent();
        set_cause("the server shut down during the run");
        return;
    }
    char cause[kCauseSize];
    snprintf(cause, sizeof cause, "%s: %s", unpack_sql_state(edata->sqlerrcode),
             edata->message ? edata->message : "the worker ended");
    set_cause(cause);
}

void close_at_exit(int, Datum) {
    if (journal_fd < 0)
        return;
    bool left = record.task_id != 0 || next_deferred_retry() != DT_NOEND;
    if (!left)
        unlink(journal_path);
    // Closed (its lock released) before the others are told, so that the executor that looks finds it free to take.
    close(journal_fd);
    journal_fd = -1;
    if (left)
        note_ended_run(MyDatabaseId, record.task_id);  // left for the next executor: it records the run
}

const char *const kRecordEndedRunSql =
    "WITH task AS ("
    "  UPDATE chronos.tasks SET"
    "         crash_count = crash_count OPERATOR(pg_catalog.+) $6,"
    "         failure_count = failure_count OPERATOR(pg_catalog.+) 1,"
    "         last_status = $11::chronos.run_status, last_exec_time = $3,"
    "         last_duration = pg_catalog.now() OPERATOR(pg_catalog.-) $3,"
    "         last_error = CASE WHEN crash_count OPERATOR(pg_catalog.+) $6 OPERATOR(pg_catalog.>=) $7"
    "                THEN pg_catalog.format('quarantined: %s consecutive runs ended the worker running them (the last:"
    " %s); fix the command, then set status to ''scheduled'' (or call chronos.resume())',"
    "                                       crash_count OPERATOR(pg_catalog.+) $6, $5)"
    "                ELSE $5 END,"
    "         status = CASE WHEN crash_count OPERATOR(pg_catalog.+) $6 OPERATOR(pg_catalog.>=) $7"
    "                       THEN 'failed'::chronos.task_state"
    "                       WHEN status OPERATOR(pg_catalog.=) 'running'::chronos.task_state"
    "                       THEN 'scheduled'::chronos.task_state ELSE status END,"
    "         next_exec_time = CASE WHEN status OPERATOR(pg_catalog.=) 'running'::chronos.task_state"
    "                               THEN pg_catalog.now() ELSE next_exec_time END"
    "   WHERE id OPERATOR(pg_catalog.=) $1"
    "  RETURNING id, name, owner, status, crash_count, max_retries),"
    " kept AS (UPDATE chronos.runs SET status = $11::chronos.run_status, finished_at = pg_catalog.now(),"
    "                 error = $5"
    "           WHERE run_id OPERATOR(pg_catalog.=) $2 AND status OPERATOR(pg_catalog.=) 'running'::chronos.run_status),"
    " added AS (INSERT INTO chronos.runs (task_id, task_name, owner, scheduled_for, started_at, finished_at, status,"
    "                                    error, pid, attempt, manual)"
    "           SELECT id, name, owner, $4, $3, pg_catalog.now(), $11::chronos.run_status, $5, $8, $9, $10"
    "             FROM task WHERE $2 OPERATOR(pg_catalog.=) 0 RETURNING run_id)"
    " SELECT name, status OPERATOR(pg_catalog.=) 'failed'::chronos.task_state AND $6 OPERATOR(pg_catalog.=) 1"
    "        AND crash_count OPERATOR(pg_catalog.>=) $7, crash_count,"
    "        CASE WHEN $2 OPERATOR(pg_catalog.=) 0 THEN (SELECT run_id FROM added) ELSE $2 END, owner, max_retries"
    "   FROM task";

// Records the run an ended executor left in `dead` (process `pid`).
void record_ended_run(const JournalRecord *dead, int pid) {
    const char *cause = dead->cause[0] != '\0'
                            ? dead->cause
                            : "the worker running it was killed or crashed (the server restarted; an out-of-memory "
                              "kill does this)";
    char *error = dead->innocent && dead->cause[0] == '\0'
                      ? pstrdup("57P01: the run was interrupted by a restart of the server")
                      : (dead->cause[0] != '\0' ? pstrdup(cause) : psprintf("XX000: %s", cause));
    const char *status = dead->ended_as == RunEnd::timed_out   ? "timed_out"
                         : dead->ended_as == RunEnd::cancelled ? "cancelled"
                                                               : "interrupted";
    Oid types[11] = {INT8OID, INT8OID, TIMESTAMPTZOID, TIMESTAMPTZOID, TEXTOID, INT4OID,
                     INT4OID, INT4OID, INT4OID,        BOOLOID,        TEXTOID};
    Datum values[11] = {Int64GetDatum(dead->task_id),        Int64GetDatum(dead->run_id),
                        TimestampTzGetDatum(dead->started_at), TimestampTzGetDatum(dead->scheduled_for),
                        CStringGetTextDatum(error),           Int32GetDatum(dead->innocent ? 0 : 1),
                        Int32GetDatum(chronos_max_crashes),   Int32GetDatum(pid),
                        Int32GetDatum(dead->attempt),         BoolGetDatum(dead->manual),
                        CStringGetTextDatum(status)};
    writing_bookkeeping = true;
    int rc = SPI_execute_with_args(kRecordEndedRunSql, 11, types, values, NULL, false, 0);
    writing_bookkeeping = false;
    if (rc != SPI_OK_SELECT)
        elog(ERROR, "pg_chronos: could not record the run of an ended worker: %s", SPI_result_code_string(rc));
    if (SPI_processed == 0)
        return;  // the task was deleted
    HeapTuple row = SPI_tuptable->vals[0];
    TupleDesc desc = SPI_tuptable->tupdesc;
    bool isnull;
    EndedRun run = {};
    run.task_id = dead->task_id;
    run.task_name = SPI_getvalue(row, desc, 1);
    char *quarantined = SPI_getvalue(row, desc, 2);
    run.quarantined = quarantined != NULL && strcmp(quarantined, "t") == 0;
    Datum run_id = SPI_getbinval(row, desc, 4, &isnull);
    run.run_id = isnull ? 0 : DatumGetInt64(run_id);
    run.owner = DatumGetObjectId(SPI_getbinval(row, desc, 5, &isnull));
    run.max_attempts = DatumGetInt32(SPI_getbinval(row, desc, 6, &isnull)) + 1;
    run.run_status = status;
    run.attempt = dead->attempt;
    run.manual = dead->manual;
    run.times_known = true;
    run.scheduled_for = dead->scheduled_for;
    run.started_at = dead->started_at;
    run.finished_at = GetCurrentTransactionStartTimestamp();  // the recorded finished_at: now()
    run.error = error;
    if (run.quarantined)
        run.note = psprintf("%d consecutive runs ended the worker running them", chronos_max_crashes);
    log_run_outcome(&run);
}

// The journal file `name` if its executor is gone: open and locked in *fd, its record read. False to pass it over.
bool take_dead_journal(const char *path, int *fd, JournalRecord *dead) {
    *fd = open(path, O_RDWR | PG_BINARY);
    if (*fd < 0)
        return false;
    struct stat st;
    bool taken = flock(*fd, LOCK_EX | LOCK_NB) == 0 && fstat(*fd, &st) == 0 && st.st_nlink > 0;
    if (taken) {
        memset(dead, 0, sizeof *dead);
        taken = pread(*fd, dead, sizeof *dead, 0) >= (ssize_t)offsetof(JournalRecord, ended_as);
        if (!taken)
            unlink(path);  // an executor that died before its first write
    }
    if (!taken) {
        close(*fd);
        *fd = -1;
    }
    return taken;
}

}  // namespace

void journal_open(void) {
    char dir[MAXPGPATH];
    snprintf(dir, sizeof dir, "%s/%s", DataDir, kJournalDir);
    if (MakePGDirectory(dir) < 0 && errno != EEXIST)
        ereport(ERROR, (errcode_for_file_access(), errmsg("pg_chronos: could not create directory \"%s\": %m", dir)));
    snprintf(journal_path, sizeof journal_path, "%s/run.%u.%d." INT64_FORMAT, dir, MyDatabaseId, MyProcPid,
             (int64)GetCurrentTimestamp());
    int fd = open(journal_path, O_RDWR | O_CREAT | O_TRUNC | PG_BINARY, pg_file_create_mode);
    if (fd < 0 || flock(fd, LOCK_EX) != 0)
        ereport(ERROR, (errcode_for_file_access(), errmsg("pg_chronos: could not open \"%s\": %m", journal_path)));
    journal_fd = fd;
    memset(&record, 0, sizeof record);
    write_at(&record, sizeof record, 0);
    before_shmem_exit(close_at_exit, 0);

    struct sigaction action;
    memset(&action, 0, sizeof action);
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART | SA_SIGINFO;
    action.sa_sigaction = on_sigterm;
    sigaction(SIGTERM, &action, NULL);
    pqsignal(SIGQUIT, on_sigquit);
    previous_emit_log_hook = emit_log_hook;
    emit_log_hook = capture_fatal;
}

void journal_run_start(const ClaimedTask *task, int64 run_id, TimestampTz started_at) {
    record.task_id = task->id;
    record.run_id = run_id;
    record.scheduled_for = task->scheduled_for;
    record.started_at = started_at;
    record.attempt = task->attempt;
    record.manual = task->manual;
    record.innocent = false;
    record.cause[0] = '\0';
    record.ended_as = RunEnd::interrupted;
    write_at(&record, sizeof record, 0);
}

void journal_run_limits(int64 timeout_ms, int grace_ms) {
    snprintf(timed_out_cause, sizeof timed_out_cause,
             "57014: run timed out after " INT64_FORMAT " ms; the command went on after it was cancelled, so its "
             "worker ended it %d s later",
             timeout_ms, grace_ms / 1000);
    snprintf(cancelled_cause, sizeof cancelled_cause,
             "57014: run cancelled by chronos.cancel(); the command went on after it was cancelled, so its worker "
             "ended it %d s later",
             grace_ms / 1000);
}

void journal_run_ended_as(RunEnd end) {
    if (record.task_id == 0)
        return;
    const char *cause = end == RunEnd::timed_out ? timed_out_cause : cancelled_cause;
    size_t length = strlen(cause);
    memcpy(record.cause, cause, length + 1);
    write_at(record.cause, sizeof record.cause, offsetof(JournalRecord, cause));
    record.ended_as = end;
    write_at(&record.ended_as, sizeof record.ended_as, offsetof(JournalRecord, ended_as));
}

void journal_run_end(void) {
    if (record.task_id == 0)
        return;
    record.task_id = 0;
    write_at(&record.task_id, sizeof record.task_id, offsetof(JournalRecord, task_id));
}

bool journal_run_in_progress(void) {
    return record.task_id != 0;
}

void journal_run_abandoned(const char *cause) {
    if (record.task_id != 0)
        set_cause(cause);
}

int recover_ended_runs(bool *left) {
    char dir[MAXPGPATH], prefix[64];
    snprintf(dir, sizeof dir, "%s/%s", DataDir, kJournalDir);
    snprintf(prefix, sizeof prefix, "run.%u.", MyDatabaseId);
    DIR *entries = AllocateDir(dir);
    if (entries == NULL)
        return 0;
    int recovered = 0;
    struct dirent *entry;
    while ((entry = ReadDir(entries, dir)) != NULL) {
        if (strncmp(entry->d_name, prefix, strlen(prefix)) != 0)
            continue;
        char path[MAXPGPATH];
        snprintf(path, sizeof path, "%s/%s", dir, entry->d_name);
        if (strcmp(path, journal_path) == 0)
            continue;
        int fd;
        JournalRecord dead;
        if (!take_dead_journal(path, &fd, &dead))
            continue;
        if (dead.task_id != 0) {
            LockHolder holder;
            ClaimedTask task;
            bool ignored_cancel = dead.ended_as != RunEnd::interrupted;
            RecordingLock lock = lock_for_recording(dead.task_id, &holder, ignored_cancel ? &task : NULL);
            if (lock == RecordingLock::busy) {
                // A session locks the task's row: the journal stays, and is looked at again later.
                *left = true;
                close(fd);
                continue;
            }
            if (lock == RecordingLock::locked && ignored_cancel)
                record_ignored_cancel(&task, dead.ended_as == RunEnd::timed_out, dead.cause, dead.run_id,
                                      dead.scheduled_for, dead.started_at, dead.attempt, dead.manual);
            else
                record_ended_run(&dead, atoi(entry->d_name + strlen(prefix)));
            recovered++;
            forget_ended_run(MyDatabaseId, dead.task_id);
        }
        // Removed once recorded; the recording commits with the caller's transaction, which follows at once.
        unlink(path);
        close(fd);
    }
    FreeDir(entries);
    return recovered;
}

bool journal_left_by(int pid) {
    char dir[MAXPGPATH], prefix[64];
    snprintf(dir, sizeof dir, "%s/%s", DataDir, kJournalDir);
    snprintf(prefix, sizeof prefix, "run.%u.%d.", MyDatabaseId, pid);
    DIR *entries = AllocateDir(dir);
    if (entries == NULL)
        return false;
    bool found = false;
    struct dirent *entry;
    while (!found && (entry = ReadDir(entries, dir)) != NULL)
        found = strncmp(entry->d_name, prefix, strlen(prefix)) == 0;
    FreeDir(entries);
    return found;
}

bool ended_runs_pending(void) {
    return take_ended_runs(MyDatabaseId);
}
