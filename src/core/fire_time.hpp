// Inside the fire-time engine: the per-kind searches that next_fire (next_fire.cpp) dispatches to, and the conversions
// between TimestampUs, Unix seconds and local days that cron_fire.cpp and interval_fire.cpp share.
#pragma once
#include "core.hpp"
#include "schedule.hpp"

#include <boost/date_time/gregorian/gregorian.hpp>

namespace chronos {

// How far ahead a search looks before deciding that a schedule never fires again.
constexpr int64_t kSearchYears = 400;
constexpr int64_t kSearchSeconds = kSearchYears * 366 * kSecondsPerDay;

inline int64_t floor_div(int64_t a, int64_t b) {
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

// The whole Unix second containing `at`, and back.
inline int64_t unix_seconds_at(TimestampUs at) {
    return floor_div(at, kUsPerSecond) + kPgEpochUnixSeconds;
}
inline TimestampUs timestamp_at(int64_t unix_seconds) {
    return (unix_seconds - kPgEpochUnixSeconds) * kUsPerSecond;
}

// Local day numbers count days since 1970-01-01, like local seconds count seconds.
inline boost::gregorian::date date_of_day(int64_t day) {
    return boost::gregorian::date(1970, 1, 1) + boost::gregorian::date_duration(static_cast<long>(day));
}
inline int64_t day_of_date(const boost::gregorian::date &date) {
    return (date - boost::gregorian::date(1970, 1, 1)).days();
}

// Rejects instants outside the years the calendar arithmetic supports (1400..9000). Throws std::out_of_range.
void check_supported_instant(TimestampUs at);

// The instant a wall-clock time names for a schedule at fixed hours: its first occurrence, or the end of the gap it
// falls in.
int64_t first_instant_of(const TimeZone &zone, int64_t local_seconds);

TimestampUs next_cron_fire(const CronFields &cron, TimestampUs after, const TimeZone &zone);
TimestampUs next_every_days_fire(const EveryDays &every, TimestampUs after, TimestampUs anchor, const TimeZone &zone);
TimestampUs next_fixed_rate_fire(const CalendarInterval &interval, TimestampUs after, TimestampUs anchor,
                                 const TimeZone &zone);

}  // namespace chronos
