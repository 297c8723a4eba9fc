// The extension's relations and their columns, by name (see columns.hpp).
#include "pg/catalog/columns.hpp"

#include "core/engine.hpp"

extern "C" {
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"
}

void report_missing_column(const char *relation, const char *column) {
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
                    errmsg("column \"%s\" of relation chronos.%s does not exist", column, relation),
                    errdetail("pg_chronos needs the columns its install script created; one was renamed or dropped."),
                    errhint("Restore the column, or reinstall the extension (DROP EXTENSION pg_chronos; CREATE "
                            "EXTENSION pg_chronos) or update it (ALTER EXTENSION pg_chronos UPDATE).")));
}

Oid chronos_relation(const char *name) {
    Oid schema = get_namespace_oid("chronos", true);
    return OidIsValid(schema) ? get_relname_relid(name, schema) : InvalidOid;
}

void find_columns(Relation rel, const char *const *names, int count, ColumnNumbers *numbers) {
    if (numbers->relid == RelationGetRelid(rel))
        return;
    Assert(count <= kMaxColumns);
    TupleDesc desc = RelationGetDescr(rel);
    for (int c = 0; c < count; c++) {
        numbers->number[c] = InvalidAttrNumber;
        for (int i = 0; i < desc->natts; i++) {
            Form_pg_attribute attr = TupleDescAttr(desc, i);
            if (!attr->attisdropped && strcmp(NameStr(attr->attname), names[c]) == 0)
                numbers->number[c] = attr->attnum;
        }
        if (numbers->number[c] == InvalidAttrNumber)
            report_missing_column(RelationGetRelationName(rel), names[c]);
    }
    numbers->relid = RelationGetRelid(rel);
}

char *text_attribute(TupleTableSlot *slot, AttrNumber n) {
    bool isnull;
    Datum value = slot_getattr(slot, n, &isnull);
    return isnull ? NULL : TextDatumGetCString(value);
}

char *enum_attribute(TupleTableSlot *slot, AttrNumber n) {
    bool isnull;
    Datum value = slot_getattr(slot, n, &isnull);
    return isnull ? NULL : DatumGetCString(DirectFunctionCall1(enum_out, value));
}

int64 int_attribute(TupleTableSlot *slot, AttrNumber n, int64 if_null) {
    bool isnull;
    Datum value = slot_getattr(slot, n, &isnull);
    if (isnull)
        return if_null;
    return TupleDescAttr(slot->tts_tupleDescriptor, n - 1)->atttypid == INT8OID ? DatumGetInt64(value)
                                                                               : DatumGetInt32(value);
}

int64 interval_attribute_us(TupleTableSlot *slot, AttrNumber n, int64 if_null) {
    bool isnull;
    Datum value = slot_getattr(slot, n, &isnull);
    if (isnull)
        return if_null;
    const Interval *span = DatumGetIntervalP(value);
    constexpr double kUsecsPerYear = DAYS_PER_YEAR * SECS_PER_DAY * USECS_PER_SEC;
    double us = (double)span->time + (double)span->day * USECS_PER_DAY +
                (double)(span->month % MONTHS_PER_YEAR) * DAYS_PER_MONTH * USECS_PER_DAY +
                (double)(span->month / MONTHS_PER_YEAR) * kUsecsPerYear;
    double limit = (double)chronos::kMaxIntervalUs;
    return (int64)(us > limit ? limit : (us < -limit ? -limit : us));
}

bool timestamp_attribute(TupleTableSlot *slot, AttrNumber n, TimestampTz *out) {
    bool isnull;
    Datum value = slot_getattr(slot, n, &isnull);
    *out = isnull ? 0 : DatumGetTimestampTz(value);
    return !isnull;
}
