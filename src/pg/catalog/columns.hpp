// The extension's relations and their columns, by name: the workers read and write chronos.tasks and chronos.runs
// through tuple slots, and look the attribute numbers up once per relation rather than once per row.
#pragma once
#include "pg/postgres.hpp"

extern "C" {
#include "executor/tuptable.h"
#include "utils/rel.h"
}

// The OID of relation `name` (a table or an index) in schema chronos; InvalidOid when it does not exist.
Oid chronos_relation(const char *name);

constexpr int kMaxColumns = 32;

struct ColumnNumbers {
    Oid relid;                       // InvalidOid: not looked up yet
    AttrNumber number[kMaxColumns];  // number[i]: attribute number of names[i]
};

// Raises 42703 (undefined_column) for column `column` of chronos.`relation`, with a hint to reinstall or update.
pg_attribute_noreturn() void report_missing_column(const char *relation, const char *column);

// Fills `numbers` for the `count` columns `names` of `rel`, unless it already holds those of `rel`. Errors when a
// column is missing (report_missing_column).
void find_columns(Relation rel, const char *const *names, int count, ColumnNumbers *numbers);

// Readers of attribute `n` of a tuple slot, for rows the workers read through an index scan.
char *text_attribute(TupleTableSlot *slot, AttrNumber n);
char *enum_attribute(TupleTableSlot *slot, AttrNumber n);
// An integer attribute (int4 or int8), or `if_null`.
int64 int_attribute(TupleTableSlot *slot, AttrNumber n, int64 if_null);
// An interval in microseconds, as extract(epoch FROM …) counts it (a month is 30 days, a year 365.25 days), within
// ±chronos::kMaxIntervalUs: the trigger refuses longer ones, but a row written before 1.1 or with triggers off may
// hold any interval, and must not overflow. `if_null` when NULL.
int64 interval_attribute_us(TupleTableSlot *slot, AttrNumber n, int64 if_null);
// Sets *out (0 when NULL); returns whether the attribute is not NULL.
bool timestamp_attribute(TupleTableSlot *slot, AttrNumber n, TimestampTz *out);
