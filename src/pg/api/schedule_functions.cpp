// SQL-callable views of the schedule engine: chronos.next_runs() and chronos.describe_schedule(). They need no worker.
#include "pg/bridge/core_error.hpp"
#include "pg/bridge/pg_time_zone.hpp"
#include "pg/api/task_functions.hpp"

extern "C" {
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
}

extern "C" {
PG_FUNCTION_INFO_V1(chronos_next_runs);
PG_FUNCTION_INFO_V1(chronos_describe_schedule);
}

// chronos.next_runs(schedule text, after timestamptz, count int, timezone text) RETURNS SETOF timestamptz
extern "C" Datum chronos_next_runs(PG_FUNCTION_ARGS) {
    FuncCallContext *funcctx;

    if (SRF_IS_FIRSTCALL()) {
        funcctx = SRF_FIRSTCALL_INIT();
        if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2)) {
            funcctx->max_calls = 0;
        } else {
            const char *schedule = text_to_cstring(PG_GETARG_TEXT_PP(0));
            TimestampTz after = PG_GETARG_TIMESTAMPTZ(1);
            int32 count = PG_GETARG_INT32(2);
            if (after < chronos::kEarliestTaskTimeUs || after >= chronos::kLatestTaskTimeUs)
                ereport(ERROR, (errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
                                errmsg("after is outside the supported range"),
                                errdetail("Fire times are computed from 1900-01-01 to 8999-12-31 (UTC)."),
                                errhint("Give a finite timestamp in that range, or leave after out for now().")));
            if (count < 0 || count > kMaxPreviewCount)
                ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                                errmsg("count must be between 0 and %d", kMaxPreviewCount),
                                errdetail("count was %d.", count)));
            chronos::TimeZone zone;
            lookup_time_zone(PG_ARGISNULL(3) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(3)), &zone);

            auto *fires = static_cast<chronos::TimestampUs *>(
                MemoryContextAlloc(funcctx->multi_call_memory_ctx, sizeof(chronos::TimestampUs) * (count + 1)));
            chronos::CoreError error;
            int n = count;
            // next_runs('nightly') reaches this function (text wins over the task overload's name): a text that is
            // not a schedule but names a task previews that task. Fewer than `count` come back when the schedule
            // reaches the end of the supported range.
            if (!chronos::engine_next_fires(schedule, after, after, &zone, count, fires, &n, &error)) {
                if (!task_name_exists(schedule))
                    raise_core_error(&error);
                n = preview_task_runs(schedule, count, fires);
            }
            funcctx->user_fctx = fires;
            funcctx->max_calls = n;
        }
    }

    funcctx = SRF_PERCALL_SETUP();
    if (funcctx->call_cntr < funcctx->max_calls) {
        auto *fires = static_cast<chronos::TimestampUs *>(funcctx->user_fctx);
        // SRF_RETURN_NEXT advances call_cntr before it evaluates its argument.
        Datum next = TimestampTzGetDatum(fires[funcctx->call_cntr]);
        SRF_RETURN_NEXT(funcctx, next);
    }
    SRF_RETURN_DONE(funcctx);
}

// chronos.describe_schedule(schedule text, timezone text) RETURNS text
extern "C" Datum chronos_describe_schedule(PG_FUNCTION_ARGS) {
    if (PG_ARGISNULL(0))
        PG_RETURN_NULL();
    const char *schedule = text_to_cstring(PG_GETARG_TEXT_PP(0));
    chronos::TimeZone zone;
    lookup_time_zone(PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1)), &zone);

    // Most descriptions fit the first buffer; a longer one is asked for again, whole, in a buffer of its length.
    char first[512];
    char *description = first;
    size_t length = 0;
    chronos::CoreError error;
    if (!chronos::engine_describe(schedule, zone.name, first, sizeof first, &length, &error))
        raise_core_error(&error);
    if (length >= sizeof first) {
        description = (char *)palloc(length + 1);
        if (!chronos::engine_describe(schedule, zone.name, description, length + 1, &length, &error))
            raise_core_error(&error);
    }
    PG_RETURN_TEXT_P(cstring_to_text(description));
}
