// The bookkeeping of a transactional run, written without planning a statement: the task's row is updated and the run's
// row inserted through the executor's single-row entry points (the ones logical replication applies rows with), so
// triggers, constraints, TOAST and every index are maintained as an UPDATE and an INSERT would maintain them.
#include "pg/run/run_record.hpp"

#include "pg/catalog/columns.hpp"

extern "C" {
#include "access/genam.h"
#include "access/skey.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/pg_enum.h"
#include "commands/sequence.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
}

namespace {

// The columns written, in chronos.tasks and chronos.runs.
enum TaskColumn { t_status, t_next_exec_time, t_last_exec_time, t_last_status, t_last_error, t_last_duration,
                  t_run_count, t_failure_count, t_attempt, t_run_requested, t_name, t_owner, t_crash_count,
                  task_column_count };
const char *const kTaskColumns[task_column_count] = {
    "status", "next_exec_time", "last_exec_time", "last_status", "last_error",
    "last_duration", "run_count", "failure_count", "attempt", "run_requested", "name", "owner", "crash_count"};
enum RunColumn { r_run_id, r_task_id, r_task_name, r_owner, r_scheduled_for, r_started_at, r_finished_at, r_status,
                 r_error, r_result, r_pid, r_attempt, r_manual, run_column_count };
const char *const kRunColumns[run_column_count] = {
    "run_id", "task_id", "task_name", "owner", "scheduled_for", "started_at", "finished_at", "status", "error",
    "result", "pid", "attempt", "manual"};
ColumnNumbers task_columns, run_columns;

// The value of label `label` of the enum type of the column at `index` (attribute number - 1).
Datum enum_value(Relation rel, int index, const char *label) {
    Oid type = TupleDescAttr(RelationGetDescr(rel), index)->atttypid;
    HeapTuple tuple = SearchSysCache2(ENUMTYPOIDNAME, ObjectIdGetDatum(type), CStringGetDatum(label));
    if (!HeapTupleIsValid(tuple))
        elog(ERROR, "pg_chronos: enum label \"%s\" is missing", label);
    Oid value = ((Form_pg_enum)GETSTRUCT(tuple))->oid;
    ReleaseSysCache(tuple);
    return ObjectIdGetDatum(value);
}

Datum text_datum(const char *value) {
    return value ? CStringGetTextDatum(value) : (Datum)0;
}

// What a single-row write needs of the executor: an EState with one range table entry per relation written.
struct Writer {
    EState *estate;
    ResultRelInfo *result[2];
};

void open_writer(Writer *w, Relation *rels, int n) {
    w->estate = CreateExecutorState();
    List *range = NIL;
    for (int i = 0; i < n; i++) {
        RangeTblEntry *rte = makeNode(RangeTblEntry);
        rte->rtekind = RTE_RELATION;
        rte->relid = RelationGetRelid(rels[i]);
        rte->relkind = rels[i]->rd_rel->relkind;
        rte->rellockmode = RowExclusiveLock;
        range = lappend(range, rte);
    }
#if PG_VERSION_NUM >= 160000
    ExecInitRangeTable(w->estate, range, NIL);
#else
    ExecInitRangeTable(w->estate, range);
#endif
    w->estate->es_output_cid = GetCurrentCommandId(true);
    w->estate->es_snapshot = GetActiveSnapshot();
    for (int i = 0; i < n; i++) {
        w->result[i] = makeNode(ResultRelInfo);
        InitResultRelInfo(w->result[i], rels[i], i + 1, NULL, 0);
        ExecOpenIndices(w->result[i], false);
    }
    AfterTriggerBeginQuery();
}

void close_writer(Writer *w, int n) {
    AfterTriggerEndQuery(w->estate);
    for (int i = 0; i < n; i++)
        ExecCloseIndices(w->result[i]);
    ExecResetTupleTable(w->estate->es_tupleTable, false);
    FreeExecutorState(w->estate);
}

// Finds the task's current row (the command may have changed it) into `slot`.
bool find_task_row(Relation tasks, int64 id, TupleTableSlot *slot) {
    Oid pkey = chronos_relation("tasks_pkey");
    if (!OidIsValid(pkey))
        elog(ERROR, "pg_chronos: index chronos.tasks_pkey is missing");
    Relation index = index_open(pkey, AccessShareLock);
    ScanKeyData key;
    ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(id));
    IndexScanDesc scan = index_beginscan(tasks, index, GetActiveSnapshot(), 1, 0);
    index_rescan(scan, &key, 1, NULL, 0);
    bool found = index_getnext_slot(scan, ForwardScanDirection, slot);
    index_endscan(scan);
    index_close(index, NoLock);
    return found;
}

}  // namespace

bool write_run_record(const ClaimedTask *task, const RunRecord *record, bool keep, int64 *run_id) {
    CommandCounterIncrement();  // the command's own changes to the task row are seen
    PushActiveSnapshot(GetTransactionSnapshot());
    // chronos.tasks is locked since the claim, so neither table can have been dropped.
    Relation rels[2] = {table_open(chronos_relation("tasks"), RowExclusiveLock),
                        table_open(chronos_relation("runs"), RowExclusiveLock)};
    Relation tasks = rels[0], runs = rels[1];
    TupleDesc task_desc = RelationGetDescr(tasks);
    TupleTableSlot *old_row = table_slot_create(tasks, NULL);
    bool found = find_task_row(tasks, task->id, old_row);
    *run_id = 0;
    if (found) {
        Writer w;
        open_writer(&w, rels, 2);

        // The task: its new state, as the core decided, and the outcome of this run.
        TupleTableSlot *new_row = MakeSingleTupleTableSlot(task_desc, &TTSOpsVirtual);
        slot_getallattrs(old_row);
        ExecClearTuple(new_row);
        memcpy(new_row->tts_values, old_row->tts_values, sizeof(Datum) * task_desc->natts);
        memcpy(new_row->tts_isnull, old_row->tts_isnull, sizeof(bool) * task_desc->natts);
        Datum *v = new_row->tts_values;
        bool *null = new_row->tts_isnull;
        find_columns(tasks, kTaskColumns, task_column_count, &task_columns);
        auto at = [&](TaskColumn c) { return task_columns.number[c] - 1; };
        auto set = [&](TaskColumn c, Datum value, bool isnull) {
            v[at(c)] = value;
            null[at(c)] = isnull;
        };
        set(t_status, enum_value(tasks, at(t_status), record->task_status), false);
        set(t_next_exec_time, TimestampTzGetDatum(record->next_exec_time), !record->has_next);
        set(t_last_exec_time, TimestampTzGetDatum(record->started_at), false);
        set(t_last_status, enum_value(tasks, at(t_last_status), record->run_status), false);
        set(t_last_error, text_datum(record->error), record->error == NULL);
        set(t_last_duration,
            DirectFunctionCall2(timestamp_mi, TimestampTzGetDatum(record->finished_at),
                                TimestampTzGetDatum(record->started_at)),
            false);
        set(t_run_count, Int64GetDatum(DatumGetInt64(v[at(t_run_count)]) + 1), false);
        set(t_failure_count, Int32GetDatum(record->failure_count), false);
        set(t_attempt, Int32GetDatum(record->next_attempt), false);
        set(t_crash_count, Int32GetDatum(0), false);  // the run ended normally
        set(t_run_requested, BoolGetDatum(DatumGetBool(v[at(t_run_requested)]) && !task->manual), false);
        ExecStoreVirtualTuple(new_row);
        ExecSimpleRelationUpdate(w.result[0], w.estate, NULL, old_row, new_row);

        // The run, unless chronos.log_runs leaves it out.
        if (keep) {
            TupleDesc run_desc = RelationGetDescr(runs);
            TupleTableSlot *run_row = MakeSingleTupleTableSlot(run_desc, &TTSOpsVirtual);
            ExecClearTuple(run_row);
            Datum *rv = run_row->tts_values;
            bool *rn = run_row->tts_isnull;
            memset(rn, true, sizeof(bool) * run_desc->natts);
            find_columns(runs, kRunColumns, run_column_count, &run_columns);
            auto put = [&](RunColumn c, Datum value, bool isnull) {
                rv[run_columns.number[c] - 1] = value;
                rn[run_columns.number[c] - 1] = isnull;
            };
#if PG_VERSION_NUM >= 170000
            Oid sequence = getIdentitySequence(runs, run_columns.number[r_run_id], false);
#else
            Oid sequence = getIdentitySequence(RelationGetRelid(runs), run_columns.number[r_run_id], false);
#endif
            *run_id = nextval_internal(sequence, false);
            put(r_run_id, Int64GetDatum(*run_id), false);
            put(r_task_id, Int64GetDatum(task->id), false);
            put(r_task_name, v[at(t_name)], null[at(t_name)]);
            put(r_owner, v[at(t_owner)], null[at(t_owner)]);
            put(r_scheduled_for, TimestampTzGetDatum(task->scheduled_for), false);
            put(r_started_at, TimestampTzGetDatum(record->started_at), false);
            put(r_finished_at, TimestampTzGetDatum(record->finished_at), false);
            put(r_status, enum_value(runs, run_columns.number[r_status] - 1, record->run_status), false);
            put(r_error, text_datum(record->error), record->error == NULL);
            put(r_result, text_datum(record->result), record->result == NULL);
            put(r_pid, Int32GetDatum(MyProcPid), false);
            put(r_attempt, Int32GetDatum(task->attempt), false);
            put(r_manual, BoolGetDatum(task->manual), false);
            ExecStoreVirtualTuple(run_row);
            ExecSimpleRelationInsert(w.result[1], w.estate, run_row);
            ExecDropSingleTupleTableSlot(run_row);
        }
        ExecDropSingleTupleTableSlot(new_row);
        close_writer(&w, 2);
    }
    ExecDropSingleTupleTableSlot(old_row);
    table_close(runs, NoLock);
    table_close(tasks, NoLock);
    PopActiveSnapshot();
    CommandCounterIncrement();  // what follows in this transaction sees the new rows
    return found;
}

void warm_run_record(void) {
    const char *const names[2] = {"tasks", "runs"};
    for (const char *name : names) {
        Oid relid = chronos_relation(name);
        Relation rel = OidIsValid(relid) ? try_table_open(relid, AccessShareLock) : NULL;
        if (rel == NULL)
            continue;
        List *indexes = RelationGetIndexList(rel);
        ListCell *lc;
        foreach (lc, indexes)
            index_close(index_open(lfirst_oid(lc), AccessShareLock), NoLock);
        list_free(indexes);
        table_close(rel, NoLock);
    }
}
