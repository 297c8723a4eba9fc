// The extension's relations and their columns, by name (see columns.hpp).
#include "pg/catalog/columns.hpp"

extern "C" {
#include "catalog/namespace.h"
#include "utils/lsyscache.h"
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
