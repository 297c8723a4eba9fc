// The server log lines of runs (see run_log.hpp). A line is built while the run is recorded (names need the catalog) and
// queued in the transaction's memory; a transaction callback, registered on the first line, writes the queue at commit.
#include "pg/run/run_log.hpp"
#include "pg/workers/warning_limits.hpp"

extern "C" {
#include "access/xact.h"
#include "commands/dbcommands.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
}

namespace {

constexpr int64 kWarningEveryUs = 60 * USECS_PER_SEC;

struct PendingLine {
    char *message;
    char *detail;
    char *hint;
    PendingLine *next;
};

PendingLine *pending_first = NULL;  // in TopTransactionContext
PendingLine *pending_last = NULL;
bool callback_registered = false;

// How the line says what became of the run.
const char *outcome_words(const EndedRun *run) {
    if (run->quarantined)
        return "was interrupted and its task is quarantined";
    if (strcmp(run->run_status, "succeeded") == 0)
        return "succeeded";
    if (strcmp(run->run_status, "timed_out") == 0)
        return "timed out";
    if (strcmp(run->run_status, "cancelled") == 0)
        return "was cancelled";
    if (strcmp(run->run_status, "interrupted") == 0)
        return "was interrupted";
    return run->run_status;  // failed
}

double ms_between(TimestampTz from, TimestampTz to) {
    return (double)(to - from) / 1000.0;
}

void write_pending(XactEvent event, void *) {
    if (pending_first == NULL)
        return;
    if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT) {
        for (PendingLine *line = pending_first; line != NULL; line = line->next)
            ereport(LOG, (errmsg_internal("%s", line->message), errdetail_internal("%s", line->detail),
                          line->hint ? errhint("%s", line->hint) : 0));
    } else if (event != XACT_EVENT_ABORT && event != XACT_EVENT_PARALLEL_ABORT) {
        return;  // PRE_COMMIT and the like: the transaction is not over yet
    }
    pending_first = pending_last = NULL;  // the memory goes with the transaction
}

}  // namespace

void log_run_outcome(const EndedRun *run) {
    if (!IsTransactionState())
        return;
    if (!callback_registered) {
        RegisterXactCallback(write_pending, NULL);
        callback_registered = true;
    }
    MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);
    char *database = get_database_name(MyDatabaseId);
    char *owner = OidIsValid(run->owner) ? GetUserNameFromId(run->owner, true) : NULL;
    StringInfoData detail;
    initStringInfo(&detail);
    appendStringInfo(&detail, "status %s, owner ", run->run_status);
    if (owner != NULL)
        appendStringInfoString(&detail, owner);
    else
        appendStringInfo(&detail, "%u", run->owner);
    if (run->attempt > 0 && run->max_attempts > 0)
        appendStringInfo(&detail, ", attempt %d of %d", run->attempt, run->max_attempts);
    else if (run->attempt > 0)
        appendStringInfo(&detail, ", attempt %d", run->attempt);
    if (run->times_known) {
        if (run->manual)
            appendStringInfo(&detail, ", run by chronos.run_now() at %s", timestamptz_to_str(run->scheduled_for));
        else
            appendStringInfo(&detail, ", scheduled for %s, started %.0f ms late", timestamptz_to_str(run->scheduled_for),
                             Max(ms_between(run->scheduled_for, run->started_at), 0.0));
        appendStringInfo(&detail, ", took %.1f ms", ms_between(run->started_at, run->finished_at));
    }
    if (run->run_id == 0)
        appendStringInfoString(&detail, ", not kept in chronos.runs");
    if (run->note != NULL)
        appendStringInfo(&detail, "; %s", run->note);

    PendingLine *line = (PendingLine *)palloc0(sizeof(PendingLine));
    char run_words[64];
    if (run->run_id > 0)
        snprintf(run_words, sizeof run_words, "run " INT64_FORMAT, run->run_id);
    else
        snprintf(run_words, sizeof run_words, "a run");
    // A task without a name (a once task, an emitted event) is named by its id alone: of task (id 7).
    char *task_words = run->task_name ? psprintf("task \"%s\" ", run->task_name) : pstrdup("task ");
    line->message = psprintf("pg_chronos: %s of %s(id " INT64_FORMAT ") in database \"%s\" %s%s%s", run_words,
                             task_words, run->task_id, database ? database : "?", outcome_words(run),
                             run->error ? ": " : "", run->error ? run->error : "");
    line->detail = detail.data;
    if (run->quarantined)
        line->hint = psprintf("Fix its command, then UPDATE chronos.tasks SET status = 'scheduled' WHERE id = " INT64_FORMAT
                              " (or call chronos.resume()).",
                              run->task_id);
    if (pending_last != NULL)
        pending_last->next = line;
    else
        pending_first = line;
    pending_last = line;
    MemoryContextSwitchTo(old);
}

bool warning_due(Oid database, WarningKind kind, int64 *held) {
    return note_warning(database, static_cast<int>(kind), GetCurrentTimestamp(), kWarningEveryUs, held);
}
