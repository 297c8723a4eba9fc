// The one bridge from the core's failures to PostgreSQL errors. Callers keep the CoreError in plain storage and call this after
// the core has returned, so no C++ frame is unwound by the longjmp.
#include "pg/bridge/core_error.hpp"

extern "C" {
#include "mb/pg_wchar.h"
}

namespace {

// The core cuts its texts at UTF-8 character boundaries; in a database of another multi-byte encoding, cut again at
// the last whole character of that encoding, so that the message converts to any client encoding.
const char *whole_characters(const char *text) {
    int length = (int)strlen(text);
    if (pg_database_encoding_max_length() == 1 || pg_verifymbstr(text, length, true))
        return text;
    int valid = 0;
    while (valid < length) {
        int step = pg_encoding_verifymbchar(GetDatabaseEncoding(), text + valid, length - valid);
        if (step <= 0)
            break;
        valid += step;
    }
    return pnstrdup(text, valid);
}

}  // namespace

void raise_core_error(const chronos::CoreError *error) {
    int sqlstate = error->kind == chronos::CoreError::out_of_range ? ERRCODE_DATETIME_VALUE_OUT_OF_RANGE
                                                                   : ERRCODE_INVALID_PARAMETER_VALUE;
    const char *message = whole_characters(error->message);
    const char *detail = whole_characters(error->detail);
    const char *hint = whole_characters(error->hint);
    ereport(ERROR, (errcode(sqlstate), errmsg("%s", message), detail[0] ? errdetail("%s", detail) : 0,
                    hint[0] ? errhint("%s", hint) : 0));
    pg_unreachable();
}
