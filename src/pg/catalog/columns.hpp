// The extension's relations and their columns, by name: the workers read and write chronos.tasks and chronos.runs
// through tuple slots, and look the attribute numbers up once per relation rather than once per row.
#pragma once
#include "pg/postgres.hpp"

extern "C" {
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
