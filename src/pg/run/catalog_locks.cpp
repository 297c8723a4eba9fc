// Locks on the catalog taken without waiting (see catalog_locks.hpp).
#include "pg/run/catalog_locks.hpp"

#include "pg/catalog/columns.hpp"
#include "pg/workers/warning_limits.hpp"

extern "C" {
#include "storage/sinvaladt.h"
#include "access/genam.h"
#include "access/relscan.h"
#include "access/skey.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "commands/dbcommands.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
}

namespace {

// A claim that would wait for a lock steps back: the executor gives back its run permit and looks again after a delay
// that grows from kLockBackoffMinMs to kLockBackoffMaxMs while the lock is held. The log says so once a minute per
// database, and once when the claims go on; an autonomous run's recording that has to wait says so each time.
constexpr int kLockBackoffMinMs = 100;
constexpr int kLockBackoffMaxMs = 1000;
constexpr int64 kLockWaitLogEveryUs = 60 * USECS_PER_SEC;
int lock_backoff_ms = 0;      // after the last claim: 0, or how long to wait before the next
int next_backoff_ms = kLockBackoffMinMs;
bool saw_lock_wait = false;   // this executor's claims stepped back since the catalog was last free

// The process of a session that holds a lock on `relid` conflicting with `mode`; 0 if none does (a conflicting
// request is waiting, or the holder is a prepared transaction).
// The processes that hold (or wait for) a lock on `relid` conflicting with `mode`, at most `max`; returns how many
// there are in all (a process that ended meanwhile is left out of `out` but counted).
int conflicting_lock_holders(Oid relid, LOCKMODE mode, PGPROC **out, int max) {
    LOCKTAG tag;
    SET_LOCKTAG_RELATION(tag, MyDatabaseId, relid);
    int count = 0;
    VirtualTransactionId *holders = GetLockConflicts(&tag, mode, &count);
    for (int i = 0; i < count && i < max; i++) {
#if PG_VERSION_NUM >= 170000
        out[i] = ProcNumberGetProc(holders[i].procNumber);
#else
        out[i] = BackendIdGetProc(holders[i].backendId);
#endif
    }
    return count;
}

int lock_holder_pid(Oid relid, LOCKMODE mode) {
    PGPROC *holders[64];
    int count = Min(conflicting_lock_holders(relid, mode, holders, 64), 64);
    for (int i = 0; i < count; i++)
        if (holders[i] != NULL && holders[i]->pid != 0)
            return holders[i]->pid;
    return 0;
}

void log_lock_wait(Oid relid, LOCKMODE mode, const char *waiter) {
    int pid = lock_holder_pid(relid, mode);
    const char *database = get_database_name(MyDatabaseId);
    const char *relation = get_rel_name(relid);
    const char *mode_name = GetLockmodeName(DEFAULT_LOCKMETHOD, mode);
    if (pid != 0)
        ereport(LOG, (errmsg("pg_chronos: %s in database \"%s\" waits for a lock on chronos.%s", waiter,
                             database ? database : "?", relation ? relation : "?"),
                      errdetail("Process %d holds a lock on it that conflicts with %s. Meanwhile no run permit is held "
                                "and other databases are not delayed.", pid, mode_name),
                      errhint("Commit or roll back the transaction of process %d.", pid)));
    else
        ereport(LOG, (errmsg("pg_chronos: %s in database \"%s\" waits for a lock on chronos.%s", waiter,
                             database ? database : "?", relation ? relation : "?"),
                      errdetail("A session holds or is waiting for a lock on it that conflicts with %s. Meanwhile no "
                                "run permit is held and other databases are not delayed.", mode_name),
                      errhint("Commit or roll back the transaction that locks chronos.%s.", relation ? relation : "?")));
}

// Whether every lock on `relid` that conflicts with `mode` is held by a (lazy) VACUUM: it locks the table only to
// truncate its empty end, and lets go within about 20 ms once it sees a lock request wait for it — so the claim waits
// for it rather than stepping back (a conditional request would not be seen, and the claims would step back for as
// long as the truncation goes on).
bool held_by_vacuum_only(Oid relid, LOCKMODE mode) {
    PGPROC *holders[64];
    int count = conflicting_lock_holders(relid, mode, holders, 64);
    if (count == 0 || count > 64)
        return false;
    for (int i = 0; i < count; i++)
        if (holders[i] == NULL || !(holders[i]->statusFlags & PROC_IN_VACUUM))
            return false;
    return true;
}

// Locks `relid` in `mode` if that needs no wait (or only for a VACUUM's truncation). Otherwise says so
// (rate-limited) and sets the backoff.
bool lock_without_wait(Oid relid, LOCKMODE mode) {
    if (ConditionalLockRelationOid(relid, mode))
        return true;
    if (held_by_vacuum_only(relid, mode)) {
        LockRelationOid(relid, mode);
        return true;
    }
    lock_backoff_ms = next_backoff_ms;
    next_backoff_ms = Min(next_backoff_ms * 2, kLockBackoffMaxMs);
    saw_lock_wait = true;
    if (note_lock_wait(MyDatabaseId, GetCurrentTimestamp(), kLockWaitLogEveryUs))
        log_lock_wait(relid, mode, "claiming tasks");
    return false;
}

// The catalog was free for this claim: if claims had stepped back, say once that they go on.
void lock_wait_over(void) {
    next_backoff_ms = kLockBackoffMinMs;
    if (!saw_lock_wait)
        return;
    saw_lock_wait = false;
    if (end_lock_wait(MyDatabaseId)) {
        const char *database = get_database_name(MyDatabaseId);
        ereport(LOG, (errmsg("pg_chronos: claiming tasks in database \"%s\" goes on: the lock is released",
                             database ? database : "?")));
    }
}

}  // namespace

bool lock_claim_relations(const char *index_name, Relation *rel, Relation *index, Relation *owner_index) {
    lock_backoff_ms = 0;
    Oid table_id = chronos_relation("tasks");
    Oid runs_id = chronos_relation("runs");
    Oid index_id = chronos_relation(index_name);
    Oid owner_index_id = chronos_relation("tasks_owner_due");
    if (!OidIsValid(table_id) || !OidIsValid(runs_id))
        return false;
    if (!lock_without_wait(table_id, RowExclusiveLock) || !lock_without_wait(runs_id, RowExclusiveLock))
        return false;
    *rel = try_table_open(table_id, NoLock);
    if (*rel == NULL)
        return false;
    if (!OidIsValid(index_id))
        elog(ERROR, "pg_chronos: index chronos.%s is missing", index_name);
    if (!lock_without_wait(index_id, AccessShareLock) ||
        (OidIsValid(owner_index_id) && !lock_without_wait(owner_index_id, AccessShareLock))) {
        table_close(*rel, NoLock);
        return false;
    }
    lock_wait_over();
    *index = index_open(index_id, NoLock);
    *owner_index = OidIsValid(owner_index_id) ? index_open(owner_index_id, NoLock) : NULL;
    return true;
}

int claim_lock_backoff_ms(void) {
    return lock_backoff_ms;
}

RecordingLock lock_for_recording(int64 task_id, LockHolder *holder, ClaimedTask *task) {
    holder->what = NULL;
    holder->pid = 0;
    const char *const names[2] = {"tasks", "runs"};
    Oid relids[2];
    for (int i = 0; i < 2; i++) {
        relids[i] = chronos_relation(names[i]);
        if (!OidIsValid(relids[i]))
            return RecordingLock::task_gone;
        bool locked = ConditionalLockRelationOid(relids[i], RowExclusiveLock);
        if (!locked && held_by_vacuum_only(relids[i], RowExclusiveLock)) {
            LockRelationOid(relids[i], RowExclusiveLock);  // a VACUUM's truncation lets go within milliseconds
            locked = true;
        }
        if (!locked) {
            holder->what = i == 0 ? "chronos.tasks" : "chronos.runs";
            holder->pid = lock_holder_pid(relids[i], RowExclusiveLock);
            return RecordingLock::busy;
        }
    }
    Oid pkey = chronos_relation("tasks_pkey");
    if (!OidIsValid(pkey))
        elog(ERROR, "pg_chronos: index chronos.tasks_pkey is missing");
    Relation rel = table_open(relids[0], NoLock);
    Relation index = index_open(pkey, AccessShareLock);
    TupleTableSlot *slot = table_slot_create(rel, NULL);
    ScanKeyData key;
    ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(task_id));
    IndexScanDesc scan = index_beginscan(rel, index, GetActiveSnapshot(), 1, 0);
    index_rescan(scan, &key, 1, NULL, 0);
    RecordingLock result = RecordingLock::task_gone;
    if (index_getnext_slot(scan, ForwardScanDirection, slot)) {
        TM_FailureData failure;
        ItemPointerData tid = slot->tts_tid;
        TM_Result locked = table_tuple_lock(rel, &tid, GetActiveSnapshot(), slot, GetCurrentCommandId(true),
                                            LockTupleExclusive, LockWaitSkip, TUPLE_LOCK_FLAG_FIND_LAST_VERSION,
                                            &failure);
        if (locked == TM_Ok) {
            result = RecordingLock::locked;
            if (task != NULL) {
                find_claim_columns(rel);
                copy_claimed(slot, CurrentMemoryContext, false, GetCurrentTimestamp(), task);
            }
        } else if (locked == TM_WouldBlock) {
            result = RecordingLock::busy;
            holder->what = "the task's row of chronos.tasks";
            holder->pid = TransactionIdIsNormal(failure.xmax) ? BackendXidGetPid(failure.xmax) : 0;
        }
    }
    index_endscan(scan);
    ExecDropSingleTupleTableSlot(slot);
    index_close(index, NoLock);
    table_close(rel, NoLock);
    return result;
}
