// Checks of control values as text (see control_values.hpp).
#include "pg/catalog/control_values.hpp"

extern "C" {
#include "utils/builtins.h"
#include "utils/timestamp.h"
}

bool one_of(const char *value, const char *const *allowed) {
    for (; *allowed; allowed++)
        if (strcmp(value, *allowed) == 0)
            return true;
    return false;
}

double interval_length_us(const char *text, bool *non_negative) {
    Interval *span = DatumGetIntervalP(
        DirectFunctionCall3(interval_in, CStringGetDatum(text), ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
    *non_negative = span->time >= 0 && span->day >= 0 && span->month >= 0;
    return (double)span->time + (double)span->day * USECS_PER_DAY +
           (double)span->month * chronos::kAverageMonthSeconds * USECS_PER_SEC;
}

bool interval_in_range(const char *text, int64 min_us) {
    bool non_negative;
    double length = interval_length_us(text, &non_negative);
    return non_negative && length >= (double)min_us && length <= (double)chronos::kMaxIntervalUs;
}

bool integer_in_range(const char *text, int64 low, int64 high) {
    errno = 0;
    char *end;
    long long value = strtoll(text, &end, 10);
    return errno == 0 && *end == '\0' && value >= low && value <= high;
}
