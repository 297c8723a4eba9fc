// chronos.import_pg_cron(): runs chronos.import_pg_cron_jobs() (SQL, with the caller's rights) with the marks allowed,
// and returns its rows. No user code runs meanwhile: the import reads pg_cron's own cron.job and writes chronos.tasks,
// whose only trigger is pg_chronos's.
#include "pg/api/pg_cron_functions.hpp"

extern "C" {
#include "executor/spi.h"
#include "funcapi.h"
#include "utils/tuplestore.h"
}

extern "C" {
PG_FUNCTION_INFO_V1(chronos_import_pg_cron);
}

bool importing_pg_cron = false;

extern "C" Datum chronos_import_pg_cron(PG_FUNCTION_ARGS) {
    ReturnSetInfo *rsinfo = (ReturnSetInfo *)fcinfo->resultinfo;
    InitMaterializedSRF(fcinfo, 0);
    if (SPI_connect() != SPI_OK_CONNECT)
        elog(ERROR, "pg_chronos: SPI_connect failed");
    importing_pg_cron = true;
    volatile int rc = 0;
    PG_TRY();
    {
        rc = SPI_execute("SELECT * FROM chronos.import_pg_cron_jobs()", false, 0);
    }
    PG_FINALLY();
    {
        importing_pg_cron = false;
    }
    PG_END_TRY();
    if (rc != SPI_OK_SELECT)
        elog(ERROR, "pg_chronos: the import failed: %s", SPI_result_code_string(rc));
    for (uint64 i = 0; i < SPI_processed; i++)
        tuplestore_puttuple(rsinfo->setResult, SPI_tuptable->vals[i]);
    SPI_finish();
    return (Datum)0;
}
