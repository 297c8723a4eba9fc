// The trigger on chronos.tasks: validates every row a user writes and derives what was left out (type, timezone, owner,
// status, start_time, next_exec_time), so that a bad row is refused with a clear error and nothing reaches the workers
// unchecked. After commit, a task due sooner than the sleeping watcher expects wakes it.
#include "catalog.hpp"
#include "command_kind.hpp"
#include "core_error.hpp"
#include "next_exec_time.hpp"
#include "pg_time_zone.hpp"
#include "shared_state.hpp"

extern "C" {
#include "access/htup_details.h"
#include "access/xact.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgtime.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"
}

extern "C" {
PG_FUNCTION_INFO_V1(chronos_task_before_write);
}

namespace {

// The earliest next_exec_time this transaction scheduled; DT_NOEND if none.
TimestampTz pending_due = DT_NOEND;

enum Column {
    c_name, c_type, c_schedule, c_timezone, c_command, c_owner, c_status, c_start_time, c_next_exec_time,
    c_transactional, c_column_count
};
const char *const kColumnNames[c_column_count] = {"name",   "type",   "schedule",   "timezone",       "command",
                                                  "owner",  "status", "start_time", "next_exec_time", "transactional"};

// One version of a row: the trigger's columns as text (NULL for SQL NULL), the way users wrote them.
struct TaskRow {
    char *text[c_column_count];
};

void read_row(HeapTuple tuple, TupleDesc desc, TaskRow *row) {
    for (int c = 0; c < c_column_count; c++) {
        int attnum = SPI_fnumber(desc, kColumnNames[c]);
        row->text[c] = SPI_getvalue(tuple, desc, attnum);
    }
}

bool same_text(const char *a, const char *b) {
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

bool is_blank(const char *s) {
    for (; *s; s++)
        if (!isspace((unsigned char)*s))
            return false;
    return true;
}

void check_command(const char *command, const char *transactional) {
    if (is_blank(command))
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("task command is empty"),
                        errhint("Give one or more SQL statements, for example 'VACUUM ANALYZE my_table'.")));
    MemoryContext context = CurrentMemoryContext;
    ErrorData *volatile syntax_error = NULL;
    CommandKind kind = {0, false, NULL, NULL};
    PG_TRY();
    {
        kind = classify_command(command);
    }
    PG_CATCH();
    {
        MemoryContextSwitchTo(context);
        syntax_error = CopyErrorData();
        FlushErrorState();
    }
    PG_END_TRY();
    if (syntax_error != NULL)
        ereport(ERROR, (errcode(syntax_error->sqlerrcode), errmsg("invalid task command: %s", syntax_error->message),
                        syntax_error->cursorpos > 0
                            ? errdetail("The error is at character %d of the command.", syntax_error->cursorpos)
                            : 0,
                        errhint("Check the command in psql first; separate statements with semicolons.")));
    if (kind.statements == 0)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("task command has no statement"),
                        errhint("Give one or more SQL statements, for example 'VACUUM ANALYZE my_table'.")));
    if (transactional != NULL && strcmp(transactional, "t") == 0 && kind.needs_top_level)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("task command cannot run in a transaction"),
                        errdetail("%s cannot run inside a transaction block.", kind.top_level_reason),
                        errhint("Set transactional to NULL (decided from the command) or to false.")));
}

void check_type(const char *name, const char *type, const char *schedule) {
    const char *task = name ? name : "";
    if (strcmp(type, "once") == 0 && schedule != NULL)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("a once task has no schedule"),
                        errdetail("Task \"%s\" is of type once but has schedule \"%s\".", task, schedule),
                        errhint("Leave type out (it follows from the schedule), or set it to 'loop'.")));
    if (strcmp(type, "loop") == 0 && schedule == NULL)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("a loop task needs a schedule"),
                        errdetail("Task \"%s\" is of type loop but its schedule is NULL.", task),
                        errhint("Give a schedule such as '*/5 * * * *', or make it a once task with a start_time.")));
}

void check_schedule(const char *schedule) {
    chronos::EngineKind kind;
    chronos::CoreError error;
    if (!chronos::engine_check_schedule(schedule, &kind, &error))
        raise_core_error(&error);
}

void check_owner(const char *owner) {
    Oid role = get_role_oid(owner, true);
    if (!OidIsValid(role))
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT), errmsg("role \"%s\" does not exist", owner),
                        errhint("Set owner to an existing role, or leave it out to run the task as yourself.")));
    if (!is_member_of_role(GetUserId(), role))
        ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                        errmsg("permission denied to schedule a task as role \"%s\"", owner),
                        errdetail("Only members of role \"%s\" may create tasks that run as it.", owner),
                        errhint("Leave owner out to run the task as yourself.")));
}

TimestampTz timestamp_of(const char *text) {
    return DatumGetTimestampTz(
        DirectFunctionCall3(timestamptz_in, CStringGetDatum(text), ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
}

char *timestamp_text(TimestampTz t) {
    return DatumGetCString(DirectFunctionCall1(timestamptz_out, TimestampTzGetDatum(t)));
}

// next_exec_time when the task (re)enters the schedule: a once task runs at its start time, a loop task at its first
// fire time not before now.
TimestampTz first_exec_time(const char *type, const char *schedule, const char *timezone, TimestampTz start) {
    if (strcmp(type, "once") == 0)
        return start;
    TimestampTz next;
    chronos::CoreError error;
    if (!compute_first_exec_time(schedule, timezone, start, GetCurrentTransactionStartTimestamp(), &next, &error))
        raise_core_error(&error);
    return next;
}

void wake_at_commit(XactEvent event, void *) {
    if (event == XACT_EVENT_COMMIT && pending_due != DT_NOEND)
        wake_for_due_task(MyDatabaseId, pending_due);
    if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_COMMIT ||
        event == XACT_EVENT_PARALLEL_ABORT || event == XACT_EVENT_PREPARE)
        pending_due = DT_NOEND;
}

void set_column(TupleDesc desc, Column c, const char *text, int *columns, Datum *values, bool *nulls, int *n) {
    int attnum = SPI_fnumber(desc, kColumnNames[c]);
    Oid input, ioparam;
    getTypeInputInfo(TupleDescAttr(desc, attnum - 1)->atttypid, &input, &ioparam);
    columns[*n] = attnum;
    nulls[*n] = text == NULL;
    values[*n] = text ? OidInputFunctionCall(input, const_cast<char *>(text), ioparam, -1) : (Datum)0;
    (*n)++;
}

}  // namespace

void register_task_wake_callback(void) {
    RegisterXactCallback(wake_at_commit, NULL);
}

extern "C" Datum chronos_task_before_write(PG_FUNCTION_ARGS) {
    TriggerData *trigger = (TriggerData *)fcinfo->context;
    if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BEFORE(trigger->tg_event) ||
        !TRIGGER_FIRED_FOR_ROW(trigger->tg_event))
        elog(ERROR, "chronos.task_before_write() must be a BEFORE ROW trigger");
    bool is_update = TRIGGER_FIRED_BY_UPDATE(trigger->tg_event);
    HeapTuple tuple = is_update ? trigger->tg_newtuple : trigger->tg_trigtuple;
    if (writing_bookkeeping)
        return PointerGetDatum(tuple);

    TupleDesc desc = trigger->tg_relation->rd_att;
    TaskRow row, old;
    read_row(tuple, desc, &row);
    if (is_update)
        read_row(trigger->tg_trigtuple, desc, &old);
    auto changed = [&](Column c) { return !is_update || !same_text(row.text[c], old.text[c]); };

    char **text = row.text;
    if (text[c_command] != NULL && (changed(c_command) || changed(c_transactional)))
        check_command(text[c_command], text[c_transactional]);
    if (text[c_type] == NULL)
        text[c_type] = pstrdup(text[c_schedule] ? "loop" : "once");
    check_type(text[c_name], text[c_type], text[c_schedule]);
    if (text[c_schedule] != NULL && changed(c_schedule))
        check_schedule(text[c_schedule]);

    if (text[c_timezone] == NULL)
        text[c_timezone] = pstrdup(pg_get_timezone_name(session_timezone));
    chronos::TimeZone zone;
    if (changed(c_timezone) && !find_time_zone(text[c_timezone], &zone))
        lookup_time_zone(text[c_timezone], &zone);

    if (text[c_owner] == NULL)
        text[c_owner] = GetUserNameFromId(GetUserId(), false);
    if (changed(c_owner))
        check_owner(text[c_owner]);

    if (text[c_status] == NULL)
        text[c_status] = pstrdup("scheduled");
    if (strcmp(text[c_status], "running") == 0 && changed(c_status))
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("status 'running' is set by the workers only"),
                        errhint("Set status to 'paused' to stop a task and to 'scheduled' to resume it.")));

    TimestampTz start = text[c_start_time] ? timestamp_of(text[c_start_time]) : GetCurrentTransactionStartTimestamp();
    if (TIMESTAMP_NOT_FINITE(start))
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("start_time must be a finite timestamp"),
                        errhint("Leave start_time out to start now.")));
    text[c_start_time] = timestamp_text(start);

    // A user who sets next_exec_time moves the next run; otherwise it follows from what changed.
    bool scheduled = strcmp(text[c_status], "scheduled") == 0;
    bool user_moved = is_update && text[c_next_exec_time] != NULL && changed(c_next_exec_time);
    bool resumed = is_update && scheduled && changed(c_status);
    bool reshaped = changed(c_schedule) || changed(c_timezone) || changed(c_start_time) || changed(c_type);
    if (!user_moved && scheduled && (text[c_next_exec_time] == NULL || resumed || reshaped))
        text[c_next_exec_time] =
            timestamp_text(first_exec_time(text[c_type], text[c_schedule], text[c_timezone], start));
    if (scheduled && text[c_next_exec_time] != NULL)
        pending_due = Min(pending_due, timestamp_of(text[c_next_exec_time]));

    int columns[6];
    Datum values[6];
    bool nulls[6];
    int n = 0;
    const Column derived[6] = {c_type, c_timezone, c_owner, c_status, c_start_time, c_next_exec_time};
    for (Column c : derived)
        set_column(desc, c, text[c], columns, values, nulls, &n);
    return PointerGetDatum(heap_modify_tuple_by_cols(tuple, desc, n, columns, values, nulls));
}
