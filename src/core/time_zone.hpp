// The core's time-zone interface: how far a zone is from UTC at an instant, and when that changes.
// Filled from PostgreSQL's tz database inside the extension (src/pg/pg_time_zone.cpp) and from the system zoneinfo in unit tests.
// It is a plain struct of function pointers so that it can live on a PostgreSQL stack frame.
#pragma once
#include "core.hpp"

namespace chronos {

struct TimeZone {
    const void *context;
    const char *name;
    // Offset east of UTC, in seconds, in force at the Unix time `unix_seconds`.
    int32_t (*utc_offset)(const void *context, int64_t unix_seconds);
    // The first Unix time strictly after `unix_seconds` at which the offset changes; false if it never changes again.
    bool (*next_transition)(const void *context, int64_t unix_seconds, int64_t *transition);
};

// How a wall-clock time maps to instants in a zone.
struct LocalMapping {
    enum Kind { unique, repeated, skipped } kind;
    int64_t first;   // unique: the instant; repeated: its first occurrence; skipped: the first instant after the gap
    int64_t second;  // repeated: its second occurrence; otherwise equal to first
};

// `local_seconds` is a wall-clock time written as seconds since 1970-01-01 00:00 local; results are Unix times.
LocalMapping map_local_time(const TimeZone &zone, int64_t local_seconds);

// Wall-clock time at a Unix time.
int64_t to_local_seconds(const TimeZone &zone, int64_t unix_seconds);

// PostgreSQL's reading of a wall-clock time (timestamptz input and interval arithmetic): a skipped time takes the offset in force
// before the transition (02:30 in a spring-forward gap reads as 03:30 daylight time), a repeated time the offset after it.
int64_t local_to_unix_like_postgres(const TimeZone &zone, int64_t local_seconds);

}  // namespace chronos
