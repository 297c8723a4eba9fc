// The one bridge from the core's failures to PostgreSQL errors. Callers keep the CoreError in plain storage and call this after
// the core has returned, so no C++ frame is unwound by the longjmp.
#include "core_error.hpp"

void raise_core_error(const chronos::CoreError *error) {
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("%s", error->message),
                    error->detail[0] ? errdetail("%s", error->detail) : 0, error->hint[0] ? errhint("%s", error->hint) : 0));
    pg_unreachable();
}
