// A claimed task (see claimed_task.hpp): the columns a claim reads, and the copy of a locked row.
#include "pg/run/claimed_task.hpp"

#include "pg/catalog/columns.hpp"

extern "C" {
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
}

namespace {

// The columns a claim reads, in this order.
enum Column {
    c_id, c_name, c_command, c_owner, c_type, c_schedule, c_timezone, c_start_time, c_next_exec_time, c_transactional,
    c_status, c_timeout, c_catch_up, c_max_retries, c_retry_delay, c_max_failures, c_max_runs, c_end_time, c_attempt,
    c_failure_count, c_run_count, c_payload, c_on_failure, c_notify_on, c_run_requested, column_count
};
const char *const kColumnNames[column_count] = {
    "id", "name", "command", "owner", "type", "schedule", "timezone", "start_time", "next_exec_time", "transactional",
    "status", "timeout", "catch_up", "max_retries", "retry_delay", "max_failures", "max_runs", "end_time", "attempt",
    "failure_count", "run_count", "payload", "on_failure", "notify_on", "run_requested"};

ColumnNumbers columns;  // of kColumnNames in chronos.tasks

// Columns of version 1.2 on, read when they exist (a catalog not yet updated has none of them).
enum KindColumn { k_kind, k_http_method, k_http_headers, k_http_body, kind_column_count };
const char *const kKindColumnNames[kind_column_count] = {"kind", "http_method", "http_headers", "http_body"};
AttrNumber kind_columns[kind_column_count];

char *optional_text(TupleTableSlot *slot, KindColumn c) {
    return kind_columns[c] == InvalidAttrNumber ? NULL : text_attribute(slot, kind_columns[c]);
}

Datum column(TupleTableSlot *slot, Column c, bool *isnull) {
    return slot_getattr(slot, columns.number[c], isnull);
}

char *text_column(TupleTableSlot *slot, Column c) {
    return text_attribute(slot, columns.number[c]);
}

char *enum_column(TupleTableSlot *slot, Column c) {
    return enum_attribute(slot, columns.number[c]);
}

int64 int_column(TupleTableSlot *slot, Column c, int64 if_null) {
    return int_attribute(slot, columns.number[c], if_null);
}

int64 interval_column_us(TupleTableSlot *slot, Column c, int64 if_null) {
    return interval_attribute_us(slot, columns.number[c], if_null);
}

bool timestamp_column(TupleTableSlot *slot, Column c, TimestampTz *out) {
    return timestamp_attribute(slot, columns.number[c], out);
}

chronos::CatchUp catch_up_of(const char *text) {
    if (text != NULL && strcmp(text, "once") == 0)
        return chronos::CatchUp::once;
    if (text != NULL && strcmp(text, "all") == 0)
        return chronos::CatchUp::all;
    return chronos::CatchUp::skip;
}

}  // namespace

void find_claim_columns(Relation rel) {
    // The kind columns come with an update of the catalog (ALTER EXTENSION … UPDATE from 1.1 adds them to the same
    // relation while its executors run): looked up again when the relation's columns change.
    static int looked_up_natts = 0;
    TupleDesc desc = RelationGetDescr(rel);
    if (columns.relid == RelationGetRelid(rel) && looked_up_natts == desc->natts)
        return;
    looked_up_natts = desc->natts;
    find_columns(rel, kColumnNames, column_count, &columns);
    for (int c = 0; c < kind_column_count; c++) {
        kind_columns[c] = InvalidAttrNumber;
        for (int i = 0; i < desc->natts; i++) {
            Form_pg_attribute attr = TupleDescAttr(desc, i);
            if (!attr->attisdropped && strcmp(NameStr(attr->attname), kKindColumnNames[c]) == 0)
                kind_columns[c] = attr->attnum;
        }
    }
}

// Copies the locked row into `task`, allocating in `context`.
void copy_claimed(TupleTableSlot *slot, MemoryContext context, bool manual, TimestampTz now, ClaimedTask *task) {
    MemoryContext caller = MemoryContextSwitchTo(context);
    bool isnull;
    task->id = int_column(slot, c_id, 0);
    task->name = text_column(slot, c_name);
    task->command = text_column(slot, c_command);
    task->owner = DatumGetObjectId(column(slot, c_owner, &isnull));
    char *type = enum_column(slot, c_type);
    task->is_loop = type != NULL && strcmp(type, "loop") == 0;
    task->schedule = text_column(slot, c_schedule);
    task->timezone = text_column(slot, c_timezone);
    timestamp_column(slot, c_start_time, &task->start_time);
    task->next_exec_time_known = timestamp_column(slot, c_next_exec_time, &task->next_exec_time);
    task->scheduled_for = manual || !task->next_exec_time_known ? now : task->next_exec_time;
    Datum forced = column(slot, c_transactional, &isnull);
    task->transactional = isnull ? -1 : DatumGetBool(forced);
    task->manual = manual;
    task->status = enum_column(slot, c_status);
    int64 timeout_us = interval_column_us(slot, c_timeout, -1);
    task->timeout_ms = timeout_us < 0 ? -1 : (timeout_us + 500) / 1000;

    chronos::TaskPolicy *policy = &task->policy;
    policy->is_loop = task->is_loop;
    policy->schedule = task->schedule;
    policy->start_time = task->start_time;
    policy->catch_up = catch_up_of(text_column(slot, c_catch_up));
    policy->max_retries = (int32)int_column(slot, c_max_retries, 0);
    policy->retry_delay_us = interval_column_us(slot, c_retry_delay, USECS_PER_MINUTE);
    policy->max_failures = (int32)int_column(slot, c_max_failures, 0);
    policy->max_runs = int_column(slot, c_max_runs, 0);
    policy->has_end_time = timestamp_column(slot, c_end_time, &policy->end_time);
    task->attempt = (int32)int_column(slot, c_attempt, 1);
    task->failure_count = (int32)int_column(slot, c_failure_count, 0);
    task->run_count = int_column(slot, c_run_count, 0);
    Datum payload = column(slot, c_payload, &isnull);
    task->payload = isnull ? NULL : DatumGetCString(DirectFunctionCall1(jsonb_out, payload));
    task->on_failure = text_column(slot, c_on_failure);
    task->kind = kind_columns[k_kind] == InvalidAttrNumber ? NULL : enum_attribute(slot, kind_columns[k_kind]);
    task->http_method = optional_text(slot, k_http_method);
    if (kind_columns[k_http_headers] != InvalidAttrNumber) {
        Datum headers = slot_getattr(slot, kind_columns[k_http_headers], &isnull);
        task->http_headers = isnull ? NULL : DatumGetCString(DirectFunctionCall1(jsonb_out, headers));
    } else {
        task->http_headers = NULL;
    }
    task->http_body = optional_text(slot, k_http_body);
    char *notify_on = text_column(slot, c_notify_on);
    task->reports = task->on_failure != NULL || (notify_on != NULL && strcmp(notify_on, "never") != 0);
    task->also_due = 0;
    MemoryContextSwitchTo(caller);
}

int64 claimed_id(TupleTableSlot *slot) {
    return int_column(slot, c_id, 0);
}

Oid claimed_owner(TupleTableSlot *slot) {
    bool isnull;
    Datum value = column(slot, c_owner, &isnull);
    return isnull ? InvalidOid : DatumGetObjectId(value);
}

bool claimed_runs_in_flight(TupleTableSlot *slot) {
    if (kind_columns[k_kind] == InvalidAttrNumber)
        return false;
    char *kind = enum_attribute(slot, kind_columns[k_kind]);
    return kind != NULL && strcmp(kind, "sql") != 0;
}

bool still_claimable(TupleTableSlot *slot, bool manual, TimestampTz now) {
    char *status = enum_column(slot, c_status);
    bool isnull;
    if (manual) {
        // A held task (chronos.tasks.held, from version 1.2 on) runs only once it is released.
        AttrNumber held = get_attnum(slot->tts_tableOid, "held");
        bool not_held = held == InvalidAttrNumber || (slot_getattr(slot, held, &isnull), isnull);
        return not_held && strcmp(status, "running") != 0 && DatumGetBool(column(slot, c_run_requested, &isnull)) &&
               !isnull;
    }
    TimestampTz next;
    return strcmp(status, "scheduled") == 0 && timestamp_column(slot, c_next_exec_time, &next) && next <= now;
}
