// The columns of chronos.tasks that depend on a task's kind (kind, http_method, http_headers, http_body; version 1.2
// on), as the validation trigger (task_trigger.cpp) reads and checks them.
#pragma once
#include "pg/postgres.hpp"

extern "C" {
#include "access/htup.h"
#include "access/tupdesc.h"
}

// A row's kind columns as text (NULL: SQL NULL, or a catalog without the column).
struct KindColumns {
    int kind_attnum;  // 0: the catalog has no kind column (version 1.1)
    char *kind;
    char *http_method;
    char *http_headers;
    char *http_body;
};

void read_kind_columns(HeapTuple tuple, TupleDesc desc, KindColumns *out);

// Checks the kind columns of the row as written: a known kind (NULL becomes sql), the http_* columns set only for
// http, and the kind's own check of the command and of the owner's right to run it (kinds/task_kind.hpp), when any of
// them, the command, transactional or the owner changed. `owner` is the owner as written (regrole text).
void check_kind_columns(KindColumns *row, const KindColumns *old, bool is_update, const char *command,
                        bool command_changed, const char *transactional, const char *owner, bool owner_changed);
