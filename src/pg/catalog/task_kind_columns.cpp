// A task's kind columns as the validation trigger checks them (see task_kind_columns.hpp).
#include "pg/catalog/task_kind_columns.hpp"

#include "pg/kinds/task_kind.hpp"

extern "C" {
#include "executor/spi.h"
#include "utils/builtins.h"
}

namespace {

bool same_text(const char *a, const char *b) {
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

char *column_text(HeapTuple tuple, TupleDesc desc, const char *name) {
    int attnum = SPI_fnumber(desc, name);
    return attnum > 0 ? SPI_getvalue(tuple, desc, attnum) : NULL;
}

void refuse_http_column(const char *column, const char *kind) {
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("%s is set on a task of kind %s", column, kind),
                    errdetail("http_method, http_headers and http_body describe the request of an http task."),
                    errhint("Set kind to 'http', or set %s to NULL.", column)));
}

}  // namespace

void read_kind_columns(HeapTuple tuple, TupleDesc desc, KindColumns *out) {
    out->kind_attnum = SPI_fnumber(desc, "kind");
    if (out->kind_attnum < 0)
        out->kind_attnum = 0;
    out->kind = column_text(tuple, desc, "kind");
    out->http_method = column_text(tuple, desc, "http_method");
    out->http_headers = column_text(tuple, desc, "http_headers");
    out->http_body = column_text(tuple, desc, "http_body");
}

void check_kind_columns(KindColumns *row, const KindColumns *old, bool is_update, const char *command,
                        bool command_changed, const char *transactional, const char *owner, bool owner_changed) {
    if (row->kind_attnum == 0)
        return;  // a catalog of version 1.1: every task is sql, checked with its command
    if (row->kind == NULL)
        row->kind = pstrdup("sql");  // a row restored from a dump of version 1.1
    if (strcmp(row->kind, "http") != 0) {
        if (row->http_method)
            refuse_http_column("http_method", row->kind);
        if (row->http_headers)
            refuse_http_column("http_headers", row->kind);
        if (row->http_body)
            refuse_http_column("http_body", row->kind);
    }
    if (strcmp(row->kind, "sql") == 0 || command == NULL)
        return;  // the sql check ran with the command; a NULL command is PostgreSQL's NOT NULL error
    bool changed = !is_update || command_changed || owner_changed || !same_text(row->kind, old->kind) ||
                   !same_text(row->http_method, old->http_method) ||
                   !same_text(row->http_headers, old->http_headers) || !same_text(row->http_body, old->http_body);
    if (!changed)
        return;
    TaskWrite write = {"command", command, transactional,
                       DatumGetObjectId(DirectFunctionCall1(regrolein, CStringGetDatum(owner))),
                       row->http_method, row->http_headers, row->http_body};
    find_task_kind(row->kind)->check_task(&write);
}
