// The trigger on chronos.tasks: validates every row a user writes and derives what was left out (type, timezone, owner,
// status, start_time, next_exec_time), so that a bad row is refused with a clear error and nothing reaches the workers
// unchecked. What it schedules wakes the executors at commit (task_wake.cpp).
#include "pg/run/run_statements.hpp"
#include "pg/catalog/columns.hpp"
#include "pg/catalog/control_values.hpp"
#include "pg/catalog/task_wake.hpp"
#include "pg/catalog/task_kind_columns.hpp"
#include "pg/kinds/task_kind.hpp"
#include "pg/bridge/core_error.hpp"
#include "pg/catalog/database_trust.hpp"
#include "pg/catalog/next_exec_time.hpp"
#include "pg/api/pg_cron_functions.hpp"
#include "pg/bridge/pg_time_zone.hpp"
#include "pg/utility/restore_copy.hpp"
#include "pg/settings.hpp"

extern "C" {
#include "access/detoast.h"
#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_authid.h"
#include "storage/lmgr.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgtime.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
}

extern "C" {
PG_FUNCTION_INFO_V1(chronos_task_before_write);
}

namespace {

enum Column {
    c_name, c_type, c_schedule, c_timezone, c_command, c_owner, c_status, c_start_time, c_next_exec_time,
    c_transactional, c_timeout, c_max_retries, c_retry_delay, c_max_failures, c_catch_up, c_end_time, c_max_runs,
    c_notify_on, c_notify_match, c_notify_channel, c_on_failure, c_run_requested, c_run_count, c_failure_count,
    c_attempt, c_crash_count, c_column_count
};
const char *const kColumnNames[c_column_count] = {
    "name",        "type",        "schedule",    "timezone",       "command",   "owner",
    "status",      "start_time",  "next_exec_time", "transactional", "timeout", "max_retries",
    "retry_delay", "max_failures", "catch_up",   "end_time",       "max_runs",  "notify_on",
    "notify_match", "notify_channel", "on_failure", "run_requested", "run_count", "failure_count",
    "attempt", "crash_count"};

// Columns declared NOT NULL that the trigger reads and does not derive, with the default to suggest. (type, timezone,
// owner, status and start_time are derived when NULL; a NULL command is left to PostgreSQL's own NOT NULL check.)
// Checked first, so that no NULL is ever read as a value.
struct RequiredColumn {
    Column column;
    const char *default_text;
};
const RequiredColumn kRequiredColumns[] = {
    {c_max_retries, "0"},  {c_retry_delay, "'1 minute'"}, {c_catch_up, "'skip'"},
    {c_notify_on, "'never'"}, {c_notify_channel, "'chronos'"}, {c_run_requested, "false"}, {c_run_count, "0"},
    {c_failure_count, "0"},   {c_attempt, "1"},        {c_crash_count, "0"}};

// The documented ranges of the counters (docs/limits.md).
constexpr int64 kMaxRetries = 1000;
constexpr int64 kMaxFailures = 1000000;
constexpr int64 kMaxRuns = INT64CONST(1000000000000);
constexpr int64 kMaxRunCount = INT64CONST(1000000000000000);
constexpr int64 kMaxFailureCount = 1000000000;
constexpr int64 kMaxCrashCount = 1000;  // chronos.max_crashes is at most this

// One version of a row: the trigger's columns as text (NULL for SQL NULL), the way users wrote them.
struct TaskRow {
    char *text[c_column_count];
};

// The attribute number of column `c`; 42703 when it was renamed or dropped.
int column_number(TupleDesc desc, Column c) {
    int attnum = SPI_fnumber(desc, kColumnNames[c]);
    if (attnum <= 0)
        report_missing_column("tasks", kColumnNames[c]);
    return attnum;
}

void read_row(HeapTuple tuple, TupleDesc desc, TaskRow *row) {
    for (int c = 0; c < c_column_count; c++)
        row->text[c] = SPI_getvalue(tuple, desc, column_number(desc, (Column)c));
}

void check_required(char **text) {
    for (const RequiredColumn &required : kRequiredColumns) {
        if (text[required.column] != NULL)
            continue;
        const char *name = kColumnNames[required.column];
        ereport(ERROR, (errcode(ERRCODE_NOT_NULL_VIOLATION), errmsg("task %s cannot be NULL", name),
                        errdetail("Column \"%s\" of chronos.tasks is NOT NULL.", name),
                        errhint("Leave %s out (or write DEFAULT) to get its default, %s.", name,
                                required.default_text)));
    }
}

bool same_text(const char *a, const char *b) {
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

// Whether a column is written anew: always on INSERT, when its value differs on UPDATE. Plain data, safe across ereport.
struct ColumnChanged {
    bool is_update;
    const TaskRow *row;
    const TaskRow *old;
    bool operator()(int c) const { return !is_update || !same_text(row->text[c], old->text[c]); }
};

void invalid_control(const char *column, const char *value, const char *allowed, const char *hint) {
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("invalid %s \"%s\"", column, value),
                    errdetail("%s", allowed), errhint("%s", hint)));
}

void check_integer(char **text, const ColumnChanged &changed, Column c, int64 low, int64 high, const char *allowed,
                   const char *hint) {
    if (text[c] != NULL && changed(c) && !integer_in_range(text[c], low, high))
        invalid_control(kColumnNames[c], text[c], allowed, hint);
}

// The run controls: timeouts, retries, failures, catch-up, end, notifications, on_failure; and the counters the workers
// keep, which users may reset but not push out of range.
void check_controls(char **text, const ColumnChanged &changed) {
    static const char *const kCatchUp[] = {"skip", "once", "all", NULL};
    static const char *const kNotifyOn[] = {"never", "failure", "success", "always", "match", NULL};
    if (text[c_timeout] && changed(c_timeout) && !interval_in_range(text[c_timeout], 1000))
        invalid_control("timeout", text[c_timeout],
                        "A timeout is a positive interval from 1 millisecond to 100 years.",
                        "For example timeout => '5 minutes'; NULL uses chronos.default_timeout.");
    if (changed(c_retry_delay) && !interval_in_range(text[c_retry_delay], USECS_PER_SEC))
        invalid_control("retry_delay", text[c_retry_delay],
                        "retry_delay is a positive interval from 1 second to 100 years.",
                        "For example retry_delay => '30 seconds'.");
    check_integer(text, changed, c_max_retries, 0, kMaxRetries, "max_retries is from 0 (no retry) to 1000.",
                  "For example max_retries => 3.");
    check_integer(text, changed, c_max_failures, 1, kMaxFailures,
                  "max_failures is NULL (never) or from 1 to 1000000.", "For example max_failures => 5.");
    check_integer(text, changed, c_max_runs, 1, kMaxRuns, "max_runs is NULL (no limit) or from 1 to 1000000000000.",
                  "For example max_runs => 10.");
    check_integer(text, changed, c_run_count, 0, kMaxRunCount,
                  "run_count is kept by the workers; it may be reset to 0 (or set from 0 to 1000000000000000).",
                  "Leave run_count out, or set it to 0 to count again from the start.");
    check_integer(text, changed, c_failure_count, 0, kMaxFailureCount,
                  "failure_count is kept by the workers; it may be reset to 0 (or set from 0 to 1000000000).",
                  "Leave failure_count out, or set it to 0 to forget earlier failures.");
    check_integer(text, changed, c_crash_count, 0, kMaxCrashCount,
                  "crash_count is kept by the workers; it may be reset to 0 (or set from 0 to 1000).",
                  "Leave crash_count out; scheduling a quarantined task again sets it to 0.");
    check_integer(text, changed, c_attempt, 1, kMaxRetries + 1,
                  "attempt is kept by the workers; it may be reset to 1 (or set from 1 to 1001).",
                  "Leave attempt out, or set it to 1 so that the next run is a first attempt.");
    if (changed(c_catch_up) && !one_of(text[c_catch_up], kCatchUp))
        invalid_control("catch_up", text[c_catch_up], "catch_up is 'skip', 'once' or 'all'.",
                        "'skip' runs at the next future slot, 'once' runs once now, 'all' runs every missed slot.");
    if (changed(c_notify_on) && !one_of(text[c_notify_on], kNotifyOn))
        invalid_control("notify_on", text[c_notify_on],
                        "notify_on is 'never', 'failure', 'success', 'always' or 'match'.",
                        "For example notify_on => 'failure'.");
    if (strcmp(text[c_notify_on], "match") == 0 && (text[c_notify_match] == NULL || strcmp(text[c_notify_match], "{}") == 0))
        invalid_control("notify_match", text[c_notify_match] ? text[c_notify_match] : "NULL",
                        "notify_on 'match' needs keywords in notify_match.",
                        "For example notify_match => ARRAY['deadlock', 'timeout'].");
    if (changed(c_notify_channel) && (text[c_notify_channel][0] == '\0' || strlen(text[c_notify_channel]) >= NAMEDATALEN))
        invalid_control("notify_channel", text[c_notify_channel], "A channel name has 1 to 63 bytes.",
                        "For example notify_channel => 'chronos'.");
    if (text[c_on_failure] && changed(c_on_failure)) {
        TaskWrite write = {"on_failure", text[c_on_failure], "t", InvalidOid, NULL, NULL, NULL};
        find_task_kind("sql")->check_task(&write);
    }
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

// `owner` is the column's text (regrole: a quoted name, or an OID for a role that no longer exists).
void check_owner(const char *owner) {
    Oid role = DatumGetObjectId(DirectFunctionCall1(regrolein, CStringGetDatum(owner)));
    // As PostgreSQL does when it records a dependency on a role: a DROP ROLE running meanwhile (it locks the role
    // exclusively) either sees this task when it checks, or has dropped the role before the check below.
    if (SearchSysCacheExists1(AUTHOID, ObjectIdGetDatum(role)))
        LockSharedObject(AuthIdRelationId, role, 0, AccessShareLock);
    if (!SearchSysCacheExists1(AUTHOID, ObjectIdGetDatum(role)))
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT), errmsg("role \"%s\" does not exist", owner),
                        errhint("Set owner to an existing role, or leave it out to run the task as yourself.")));
    if (!is_member_of_role(GetUserId(), role))
        ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                        errmsg("permission denied to schedule a task as role \"%s\"", owner),
                        errdetail("Only members of role \"%s\" may create tasks that run as it.", owner),
                        errhint("Leave owner out to run the task as yourself.")));
}

// chronos.tasks.pg_cron_job (from version 1.2 on) records the pg_cron job a task was imported from: pg_chronos's own
// record, which only chronos.import_pg_cron() may write (or a restore bring back). Clearing it is the owner's choice.
void check_import_mark(HeapTuple tuple, HeapTuple old_tuple, TupleDesc desc, bool is_update) {
    int attnum = SPI_fnumber(desc, "pg_cron_job");
    if (attnum <= 0 || importing_pg_cron || restoring_rows)
        return;
    bool isnull, old_isnull = true;
    Datum value = heap_getattr(tuple, attnum, desc, &isnull);
    Datum old = is_update ? heap_getattr(old_tuple, attnum, desc, &old_isnull) : (Datum)0;
    bool same = is_update && isnull == old_isnull && (isnull || DatumGetInt64(value) == DatumGetInt64(old));
    if (!isnull && !same)
        ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                        errmsg("pg_cron_job is written by chronos.import_pg_cron() only"),
                        errdetail("It records which pg_cron job the task was imported from."),
                        errhint("Leave pg_cron_job out (or set it to NULL).")));
}

// payload: at most chronos.max_payload_size bytes, so that what every run binds to $1 stays bounded. Checked when it is
// written (a lowered limit does not refuse other changes to a task whose payload is unchanged).
void check_payload_size(HeapTuple tuple, HeapTuple old_tuple, TupleDesc desc) {
    int attnum = SPI_fnumber(desc, "payload");
    if (attnum <= 0 || restoring_rows)
        return;
    bool isnull, old_isnull = true;
    Datum value = heap_getattr(tuple, attnum, desc, &isnull);
    if (isnull)
        return;
    Size size = toast_raw_datum_size(value) - VARHDRSZ;
    if (size <= (Size)chronos_max_payload_size)
        return;
    Datum old = old_tuple ? heap_getattr(old_tuple, attnum, desc, &old_isnull) : (Datum)0;
    if (!old_isnull && datum_image_eq(value, old, false, -1))
        return;
    ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED), errmsg("task payload is too large"),
                    errdetail("The payload has %zu bytes; chronos.max_payload_size is %d bytes.", size,
                              chronos_max_payload_size),
                    errhint("Keep large data in a table and pass its key in the payload, or ask the administrator to "
                            "raise chronos.max_payload_size.")));
}

// Every write of a task is by a member of its owner: row-level security gives a role only such rows, and this holds
// also for a role that bypasses it.
void check_member_of_owner(const char *owner) {
    Oid role = DatumGetObjectId(DirectFunctionCall1(regrolein, CStringGetDatum(owner)));
    if (!is_member_of_role(GetUserId(), role))
        ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                        errmsg("permission denied to change a task of role \"%s\"", owner),
                        errdetail("Only members of role \"%s\" may change its tasks.", owner)));
}

TimestampTz timestamp_of(const char *text) {
    return DatumGetTimestampTz(
        DirectFunctionCall3(timestamptz_in, CStringGetDatum(text), ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
}

char *timestamp_text(TimestampTz t) {
    return DatumGetCString(DirectFunctionCall1(timestamptz_out, TimestampTzGetDatum(t)));
}

// How to fix a bad start_time, next_exec_time or end_time.
int timestamp_hint(const char *column) {
    return strcmp(column, "end_time") == 0     ? errhint("Leave end_time NULL for no end.")
           : strcmp(column, "start_time") == 0 ? errhint("Leave start_time out to start now.")
                                               : errhint("Leave next_exec_time out to have it computed from the "
                                                         "schedule.");
}

// start_time, next_exec_time and end_time are finite and lie in the range the schedules are computed in.
TimestampTz supported_timestamp(const char *column, const char *text) {
    TimestampTz t = timestamp_of(text);
    if (TIMESTAMP_NOT_FINITE(t))
        ereport(ERROR, (errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE), errmsg("%s must be a finite timestamp", column),
                        timestamp_hint(column)));
    if (t < chronos::kEarliestTaskTimeUs || t >= chronos::kLatestTaskTimeUs)
        ereport(ERROR, (errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
                        errmsg("%s \"%s\" is out of the supported range", column, text),
                        errdetail("Times of tasks lie between 1900-01-01 and 8999-12-31 (UTC)."),
                        timestamp_hint(column)));
    return t;
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

void set_column(TupleDesc desc, Column c, const char *text, int *columns, Datum *values, bool *nulls, int *n) {
    int attnum = column_number(desc, c);
    Oid input, ioparam;
    getTypeInputInfo(TupleDescAttr(desc, attnum - 1)->atttypid, &input, &ioparam);
    columns[*n] = attnum;
    nulls[*n] = text == NULL;
    values[*n] = text ? OidInputFunctionCall(input, const_cast<char *>(text), ioparam, -1) : (Datum)0;
    (*n)++;
}

}  // namespace

extern "C" Datum chronos_task_before_write(PG_FUNCTION_ARGS) {
    TriggerData *trigger = (TriggerData *)fcinfo->context;
    if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BEFORE(trigger->tg_event) ||
        !TRIGGER_FIRED_FOR_ROW(trigger->tg_event))
        elog(ERROR, "chronos.task_before_write() must be a BEFORE ROW trigger");
    bool is_update = TRIGGER_FIRED_BY_UPDATE(trigger->tg_event);
    HeapTuple tuple = is_update ? trigger->tg_newtuple : trigger->tg_trigtuple;
    if (writing_bookkeeping)
        return PointerGetDatum(tuple);

    // The row's values are read as text and written back from it: in ISO style, which reads back exactly whatever the
    // writer's (or the database's) DateStyle, TimeZone and IntervalStyle (a zone abbreviation in another style may
    // name another zone); and commands are parsed as the workers parse them.
    int guc_level = NewGUCNestLevel();
    (void)set_config_option("datestyle", "ISO, YMD", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
    (void)set_config_option("intervalstyle", "postgres", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
    TupleDesc desc = trigger->tg_relation->rd_att;
    TaskRow row, old;
    read_row(tuple, desc, &row);
    if (is_update)
        read_row(trigger->tg_trigtuple, desc, &old);
    const ColumnChanged changed = {is_update, &row, &old};

    char **text = row.text;
    check_required(text);
    KindColumns kind, old_kind;
    read_kind_columns(tuple, desc, &kind);
    if (is_update)
        read_kind_columns(trigger->tg_trigtuple, desc, &old_kind);
    bool is_sql = kind.kind == NULL || strcmp(kind.kind, "sql") == 0;
    bool kind_changed = is_update && !same_text(kind.kind, old_kind.kind);
    if (is_sql && text[c_command] != NULL && (changed(c_command) || changed(c_transactional) || kind_changed)) {
        TaskWrite write = {"command", text[c_command], text[c_transactional], InvalidOid,
                           kind.http_method, kind.http_headers, kind.http_body};
        find_task_kind("sql")->check_task(&write);
    }
    check_controls(text, changed);
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
        text[c_owner] = pstrdup(quote_identifier(GetUserNameFromId(GetUserId(), false)));
    if (changed(c_owner))
        check_owner(text[c_owner]);
    else
        check_member_of_owner(text[c_owner]);
    check_kind_columns(&kind, &old_kind, is_update, text[c_command], changed(c_command) || changed(c_transactional),
                       text[c_transactional], text[c_owner], changed(c_owner));
    check_import_mark(tuple, is_update ? trigger->tg_trigtuple : NULL, desc, is_update);
    check_payload_size(tuple, is_update ? trigger->tg_trigtuple : NULL, desc);

    if (text[c_status] == NULL)
        text[c_status] = pstrdup("scheduled");
    // A restored task may have been running when it was dumped; no executor runs it here, so recovery, which the
    // restore asks for at commit, records that run as interrupted.
    if (strcmp(text[c_status], "running") == 0 && changed(c_status) && !(restoring_rows && !is_update))
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("status 'running' is set by the workers only"),
                        errhint("Set status to 'paused' to stop a task and to 'scheduled' to resume it.")));

    // Why the task is held, from version 1.2 on: pg_chronos's record, which a write changes only by scheduling the
    // task (a release, or a superuser's task held in an untrusted database).
    int held_attnum = SPI_fnumber(desc, "held");
    const char *held = NULL;
    if (held_attnum > 0) {
        char *written = SPI_getvalue(tuple, desc, held_attnum);
        char *old_held = is_update ? SPI_getvalue(trigger->tg_trigtuple, desc, held_attnum) : NULL;
        if (restoring_rows) {
            held = written;
        } else {
            if (!same_text(written, old_held))
                ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE), errmsg("held is set by pg_chronos only"),
                                errdetail("It says why a task is held; chronos.task_status says how to release it."),
                                errhint("Set status to 'scheduled' to release a held task.")));
            const char *status = text[c_status];
            held = hold_on_write(DatumGetObjectId(DirectFunctionCall1(regrolein, CStringGetDatum(text[c_owner]))),
                                 old_held, !is_update, changed(c_status), changed(c_owner), &status);
            text[c_status] = const_cast<char *>(status);
        }
    }

    TimestampTz start = text[c_start_time] ? timestamp_of(text[c_start_time]) : GetCurrentTransactionStartTimestamp();
    if (text[c_start_time] && changed(c_start_time))
        start = supported_timestamp("start_time", text[c_start_time]);
    text[c_start_time] = timestamp_text(start);
    if (text[c_next_exec_time] && changed(c_next_exec_time))
        supported_timestamp("next_exec_time", text[c_next_exec_time]);
    if (text[c_end_time] && changed(c_end_time))
        supported_timestamp("end_time", text[c_end_time]);

    // A user who sets next_exec_time moves the next run; otherwise it follows from what changed.
    bool scheduled = strcmp(text[c_status], "scheduled") == 0;
    bool user_moved = text[c_next_exec_time] != NULL && changed(c_next_exec_time);
    bool resumed = is_update && scheduled && changed(c_status);
    bool reshaped = changed(c_schedule) || changed(c_timezone) || changed(c_start_time) || changed(c_type);
    if (!user_moved && scheduled && (text[c_next_exec_time] == NULL || resumed || reshaped))
        text[c_next_exec_time] =
            timestamp_text(first_exec_time(text[c_type], text[c_schedule], text[c_timezone], start));
    else if (reshaped)
        (void)first_exec_time(text[c_type], text[c_schedule], text[c_timezone], start);  // it must have one
    if (scheduled && text[c_next_exec_time] != NULL)
        note_task_due(timestamp_of(text[c_next_exec_time]));
    bool moved = changed(c_end_time) || changed(c_next_exec_time) || reshaped || resumed;
    if (strcmp(text[c_type], "loop") == 0 && scheduled && text[c_end_time] != NULL && moved &&
        text[c_next_exec_time] != NULL && timestamp_of(text[c_next_exec_time]) > timestamp_of(text[c_end_time]))
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("end_time is before the task's next run"),
                        errdetail("The next run would be at %s; end_time is %s.", text[c_next_exec_time],
                                  text[c_end_time]),
                        errhint("Set end_time after the next run, or leave it NULL.")));
    if (strcmp(text[c_run_requested], "t") == 0 && changed(c_run_requested)) {
        note_manual_run();
    }

    // A task scheduled again after it failed (a quarantined one among them) starts a new count of crashes.
    if (resumed && old.text[c_status] != NULL && strcmp(old.text[c_status], "failed") == 0 && !changed(c_crash_count))
        text[c_crash_count] = pstrdup("0");

    int columns[9];
    Datum values[9];
    bool nulls[9];
    int n = 0;
    const Column derived[7] = {c_type, c_timezone, c_owner, c_status, c_start_time, c_next_exec_time, c_crash_count};
    for (Column c : derived)
        set_column(desc, c, text[c], columns, values, nulls, &n);
    if (kind.kind_attnum > 0) {
        columns[n] = kind.kind_attnum;
        nulls[n] = false;
        values[n] = DirectFunctionCall2(enum_in, CStringGetDatum(kind.kind),
                                        ObjectIdGetDatum(TupleDescAttr(desc, kind.kind_attnum - 1)->atttypid));
        n++;
    }
    if (held_attnum > 0) {
        columns[n] = held_attnum;
        nulls[n] = held == NULL;
        values[n] = held ? CStringGetTextDatum(held) : (Datum)0;
        n++;
    }
    HeapTuple written = heap_modify_tuple_by_cols(tuple, desc, n, columns, values, nulls);
    AtEOXact_GUC(true, guc_level);
    return PointerGetDatum(written);
}
