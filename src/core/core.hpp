// The one header every file of src/core includes first: it keeps the core free of PostgreSQL.
// The core is plain C++17 + Boost and may throw; src/pg calls it only through the noexcept entry points in engine.hpp.
#pragma once

#if defined(POSTGRES_H) || defined(C_H) || defined(FMGR_H)
static_assert(false, "src/core must not include PostgreSQL headers: move PostgreSQL code to src/pg");
#endif

#include <cstdint>
#include <stdexcept>

namespace chronos {

// Instants cross the boundary as PostgreSQL's TimestampTz: microseconds since 2000-01-01 00:00:00 UTC.
using TimestampUs = int64_t;

constexpr int64_t kUsPerSecond = 1000000;
constexpr int64_t kSecondsPerDay = 86400;
// Seconds from the Unix epoch (1970-01-01) to PostgreSQL's epoch (2000-01-01).
constexpr int64_t kPgEpochUnixSeconds = 946684800;

// The instants a task's times may take (start_time, next_exec_time, end_time and every computed fire time):
// 1900-01-01 00:00 UTC (included) to 9000-01-01 00:00 UTC (excluded). Well inside Boost's calendar (1400..9999), so a
// search that looks 400 years ahead of the last of them still works.
constexpr int64_t kEarliestTaskTimeUs = -3155673600 * kUsPerSecond;
constexpr int64_t kLatestTaskTimeUs = 220898707200 * kUsPerSecond;  // excluded

// The longest interval anywhere in a task (schedule intervals, timeout, retry_delay): 100 years of 365.25 days,
// a month counting as the average Gregorian month (so '100 years' is allowed, '101 years' is not).
constexpr int64_t kAverageMonthSeconds = 2629746;
constexpr int64_t kMaxIntervalSeconds = 3155760000;  // 100 * 365.25 days
constexpr int64_t kMaxIntervalUs = kMaxIntervalSeconds * kUsPerSecond;

// Checked integer arithmetic: the core never overflows silently. Throws std::overflow_error.
template <typename T>
T checked_add(T a, T b) {
    T sum;
    if (__builtin_add_overflow(a, b, &sum)) throw std::overflow_error("time arithmetic overflows");
    return sum;
}
template <typename T>
T checked_mul(T a, T b) {
    T product;
    if (__builtin_mul_overflow(a, b, &product)) throw std::overflow_error("time arithmetic overflows");
    return product;
}

}  // namespace chronos
