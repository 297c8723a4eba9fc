// Deleting expired runs (see history_prune.hpp), through SPI.
#include "pg/run/history_prune.hpp"

#include "pg/catalog/columns.hpp"
#include "pg/run/run_statements.hpp"

extern "C" {
#include "storage/lmgr.h"
#include "utils/syscache.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
}

int64 prune_history(TimestampTz cutoff) {
    // The extension may be dropped meanwhile (or be being dropped): chronos.runs is locked first, without waiting,
    // and nothing is deleted when it is gone or held.
    Oid runs = chronos_relation("runs");
    if (!OidIsValid(runs) || !ConditionalLockRelationOid(runs, RowExclusiveLock))
        return 0;
    if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(runs)))
        return 0;
    // The BRIN index on started_at finds the expired block ranges; run_id order says nothing about age (a long run gets
    // its id when it ends).
    Oid types[1] = {TIMESTAMPTZOID};
    Datum values[1] = {TimestampTzGetDatum(cutoff)};
    int rc = SPI_execute_with_args(
        "DELETE FROM chronos.runs WHERE run_id" OP("=") "ANY"
        " (SELECT run_id FROM chronos.runs WHERE started_at" OP("<") "$1 AND status" OP("<>") RUNNING_RUN
        "  LIMIT " CppAsString2(kPruneBatch) ")",
        1, types, values, NULL, false, 0);
    return rc == SPI_OK_DELETE ? (int64)SPI_processed : 0;
}

TimestampTz oldest_run_start(void) {
    int rc = SPI_execute("SELECT started_at FROM chronos.runs ORDER BY run_id LIMIT 1", true, 1);
    if (rc != SPI_OK_SELECT || SPI_processed == 0)
        return DT_NOEND;
    bool isnull;
    Datum value = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
    return isnull ? DT_NOEND : DatumGetTimestampTz(value);
}
