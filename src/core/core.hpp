// The one header every file of src/core includes first: it keeps the core free of PostgreSQL.
// The core is plain C++17 + Boost and may throw; src/pg calls it only through the noexcept entry points in engine.hpp.
#pragma once

#if defined(POSTGRES_H) || defined(C_H) || defined(FMGR_H)
static_assert(false, "src/core must not include PostgreSQL headers: move PostgreSQL code to src/pg");
#endif

#include <cstdint>

namespace chronos {

// Instants cross the boundary as PostgreSQL's TimestampTz: microseconds since 2000-01-01 00:00:00 UTC.
using TimestampUs = int64_t;

constexpr int64_t kUsPerSecond = 1000000;
constexpr int64_t kSecondsPerDay = 86400;
// Seconds from the Unix epoch (1970-01-01) to PostgreSQL's epoch (2000-01-01).
constexpr int64_t kPgEpochUnixSeconds = 946684800;

}  // namespace chronos
