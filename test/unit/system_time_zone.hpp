// A chronos::TimeZone read from the system zoneinfo, for the unit tests and the benchmark (the extension reads
// PostgreSQL's own tz database instead). The offsets of a zone are tabulated once per process, 1900 to 2200, then
// looked up by bisection.
#pragma once
#include "time_zone.hpp"

namespace chronos_test {

// The zone `name` (e.g. "America/New_York"); valid for the life of the process. Not thread-safe.
const chronos::TimeZone &system_zone(const char *name);

}  // namespace chronos_test
