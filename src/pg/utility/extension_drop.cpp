// DROP EXTENSION pg_chronos while tasks run: the database is quiesced until the dropping transaction ends, so that no
// run starts there, and the DROP waits for the runs in progress to finish and be recorded, telling the client which
// runs it waits for; lock_timeout bounds the wait. A transactional run holds locks on chronos.tasks, so PostgreSQL
// would wait for it anyway; an autonomous one would otherwise go on after the drop, with nothing left to record it in.
#include "pg/utility/extension_drop.hpp"
#include "pg/workers/database_table.hpp"
#include "pg/workers/executor_slots.hpp"
#include "pg/workers/runs_in_progress.hpp"

extern "C" {
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "storage/latch.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"
}

namespace {

constexpr int kPollMs = 50;
constexpr int kClaimGraceMs = 1000;  // how long a step in progress without a published run may take to publish one
constexpr int kMaxRuns = 64;         // runs looked at (more than chronos.max_workers allows in one database)
constexpr int kShownRuns = 8;        // runs named in a message

bool callback_registered = false;
Oid quiesced_database = InvalidOid;  // quiesced by a DROP EXTENSION of this transaction
int quiesce_level = 0;               // the transaction nest level of that DROP EXTENSION
bool extension_gone = false;         // the extension was gone when the transaction was about to commit

Oid chronos_table(const char *name) {
    Oid schema = get_namespace_oid("chronos", true);
    return OidIsValid(schema) ? get_relname_relid(name, schema) : InvalidOid;
}

// Whether this transaction holds a lock on `table` under which a run's recording could have to wait: any mode above
// AccessShareLock (ShareLock and above conflict with the recording's RowExclusiveLock; with a weaker one, this
// transaction may have written or locked the very row the recording updates).
bool may_block_recording(Oid table) {
    if (!OidIsValid(table))
        return false;
    LOCKTAG tag;
    SET_LOCKTAG_RELATION(tag, MyDatabaseId, table);
    for (LOCKMODE mode = RowShareLock; mode <= AccessExclusiveLock; mode++)
        if (LockHeldByMe(&tag, mode))
            return true;
    return false;
}

// The runs in progress in this database that the DROP waits for (not this process's own, if it is an executor).
int runs_in_progress(bool autonomous_too, ExecutorSlot *out) {
    ExecutorSlot all[kMaxRuns];
    int n = copy_running_slots(MyDatabaseId, all, kMaxRuns), kept = 0;
    for (int i = 0; i < n; i++)
        if (all[i].pid != MyProcPid && (autonomous_too || all[i].transactional))
            out[kept++] = all[i];
    return kept;
}

// Whether an executor of this database is in the middle of a step (it holds a run permit) without a run published yet:
// it may have claimed a task it is about to run. Not asked when this process is an executor itself.
bool executor_claiming(void) {
    if (my_slot() != NULL)
        return false;
    DatabaseExecutors seen;
    look_at_database_executors(MyDatabaseId, &seen);
    return seen.count > seen.idle_count;
}

int count_autonomous(const ExecutorSlot *runs, int n) {
    int count = 0;
    for (int i = 0; i < n; i++)
        count += runs[i].transactional ? 0 : 1;
    return count;
}

// `task "nightly" (id 7), transactional, running for 12 s in process 4711; …` for the runs (or only the autonomous
// ones).
char *describe_runs(const ExecutorSlot *runs, int n, bool only_autonomous) {
    MemoryContext outer = CurrentMemoryContext;
    StringInfoData text;
    initStringInfo(&text);
    TimestampTz now = GetCurrentTimestamp();
    SPI_connect();
    int shown = 0, left = 0;
    for (int i = 0; i < n; i++) {
        if (only_autonomous && runs[i].transactional)
            continue;
        if (shown == kShownRuns) {
            left++;
            continue;
        }
        Oid types[1] = {INT8OID};
        Datum values[1] = {Int64GetDatum(runs[i].task_id)};
        int rc = SPI_execute_with_args("SELECT t.name FROM chronos.tasks t WHERE t.id OPERATOR(pg_catalog.=) $1", 1,
                                       types, values, NULL, false, 1);
        const char *name = rc == SPI_OK_SELECT && SPI_processed == 1
                               ? SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1)
                               : NULL;
        long seconds;
        int microseconds;
        TimestampDifference(runs[i].started_at, now, &seconds, &microseconds);
        MemoryContext spi = MemoryContextSwitchTo(outer);
        appendStringInfo(&text, "%stask ", shown == 0 ? "" : "; ");
        if (name != NULL)
            appendStringInfo(&text, "\"%s\" ", name);
        appendStringInfo(&text, "(id " INT64_FORMAT "), %s, running for %ld s in process %d", runs[i].task_id,
                         runs[i].transactional ? "transactional" : "autonomous", seconds, (int)runs[i].pid);
        MemoryContextSwitchTo(spi);
        shown++;
    }
    SPI_finish();
    if (left > 0)
        appendStringInfo(&text, " and %d more", left);
    return text.data;
}

// At the end of the transaction: the database is served again, unless the extension is gone (then it no longer is, and
// no executor comes back to find that out).
void end_quiesce(XactEvent event, void *) {
    if (!OidIsValid(quiesced_database))
        return;
    if (event == XACT_EVENT_PRE_COMMIT) {
        extension_gone = !OidIsValid(chronos_table("tasks"));
        return;
    }
    if (event != XACT_EVENT_COMMIT && event != XACT_EVENT_ABORT && event != XACT_EVENT_PREPARE)
        return;
    Oid database = quiesced_database;
    bool gone = event == XACT_EVENT_COMMIT && extension_gone;
    quiesced_database = InvalidOid;
    extension_gone = false;
    if (gone)
        mark_database_served(database, false);
    set_database_quiesced(database, false);
    if (!gone)
        wake_for_due_task(database, GetCurrentTimestamp());
}

// A DROP EXTENSION in a savepoint that is rolled back (PostgreSQL refused it, say, for objects depending on the
// extension) ends the quiesce at once; one in a savepoint that is released belongs to the enclosing level.
void end_quiesce_with_savepoint(SubXactEvent event, SubTransactionId, SubTransactionId, void *) {
    int level = GetCurrentTransactionNestLevel();
    if (!OidIsValid(quiesced_database) || quiesce_level < level)
        return;
    if (event == SUBXACT_EVENT_COMMIT_SUB) {
        quiesce_level = level - 1;
    } else if (event == SUBXACT_EVENT_ABORT_SUB) {
        Oid database = quiesced_database;
        quiesced_database = InvalidOid;
        set_database_quiesced(database, false);
        wake_for_due_task(database, GetCurrentTimestamp());
    }
}

}  // namespace

void wait_for_runs_before_drop(void) {
    // Only the extension's owner may drop it: anyone else gets PostgreSQL's error at once, without stopping service.
    Oid extension = get_extension_oid("pg_chronos", true);
    if (!OidIsValid(extension) || !pg_extension_ownercheck(extension, GetUserId()) ||
        !OidIsValid(chronos_table("tasks")))
        return;
    if (!callback_registered) {
        RegisterXactCallback(end_quiesce, NULL);
        RegisterSubXactCallback(end_quiesce_with_savepoint, NULL);
        callback_registered = true;
    }
    bool autonomous_too = !may_block_recording(chronos_table("tasks")) && !may_block_recording(chronos_table("runs"));
    const char *database = get_database_name(MyDatabaseId);
    set_database_quiesced(MyDatabaseId, true);
    quiesced_database = MyDatabaseId;
    quiesce_level = GetCurrentTransactionNestLevel();
    wake_database_executors(MyDatabaseId);  // the idle ones leave

    ExecutorSlot runs[kMaxRuns];
    if (!autonomous_too) {
        int n = copy_running_slots(MyDatabaseId, runs, kMaxRuns);
        int autonomous = count_autonomous(runs, n);
        if (autonomous > 0)
            ereport(NOTICE,
                    (errmsg_plural("pg_chronos: DROP EXTENSION does not wait for %d autonomous run in progress in "
                                   "database \"%s\"",
                                   "pg_chronos: DROP EXTENSION does not wait for %d autonomous runs in progress in "
                                   "database \"%s\"",
                                   autonomous, autonomous, database),
                     errdetail("This transaction holds a lock on chronos.tasks or chronos.runs that recording them "
                               "would wait for; their commands go on, and their outcome is not recorded: %s.",
                               describe_runs(runs, n, true))));
    }
    TimestampTz began = GetCurrentTimestamp();
    bool told = false;
    for (;;) {
        int n = runs_in_progress(autonomous_too, runs);
        if (n == 0 && !(autonomous_too && executor_claiming() &&
                        !TimestampDifferenceExceeds(began, GetCurrentTimestamp(), kClaimGraceMs)))
            return;
        if (n > 0 && !told) {
            ereport(NOTICE,
                    (errmsg_plural("pg_chronos: DROP EXTENSION waits for %d run in progress in database \"%s\"",
                                   "pg_chronos: DROP EXTENSION waits for %d runs in progress in database \"%s\"", n, n,
                                   database),
                     errdetail("%s.", describe_runs(runs, n, false)),
                     errhint("No new run starts meanwhile. To stop a run instead, call chronos.cancel() with "
                             "its task's name in another session.")));
            told = true;
        }
        if (n > 0 && LockTimeout > 0 && TimestampDifferenceExceeds(began, GetCurrentTimestamp(), LockTimeout))
            ereport(ERROR, (errcode(ERRCODE_LOCK_NOT_AVAILABLE),
                            errmsg("pg_chronos: runs in progress in database \"%s\" did not end within lock_timeout",
                                   database),
                            errdetail("Still running: %s.", describe_runs(runs, n, false)),
                            errhint("Wait for the runs to finish, or stop them with chronos.cancel(), and try "
                                    "again.")));
        (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, kPollMs, PG_WAIT_EXTENSION);
        ResetLatch(MyLatch);
        CHECK_FOR_INTERRUPTS();
    }
}
