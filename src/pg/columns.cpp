// The extension's relations and their columns, by name (see columns.hpp).
#include "columns.hpp"

extern "C" {
#include "catalog/namespace.h"
#include "utils/lsyscache.h"
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
            elog(ERROR, "pg_chronos: column %s.%s is missing", RelationGetRelationName(rel), names[c]);
    }
    numbers->relid = RelationGetRelid(rel);
}
