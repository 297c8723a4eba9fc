// next_fire and first_fire: hand a parsed schedule to the search for its kind (cron_fire.cpp, interval_fire.cpp).
// The worker calls these after each run to set the task's next_exec_time.
#include "core.hpp"
#include "fire_time.hpp"
#include "schedule.hpp"
#include "time_zone.hpp"

#include <stdexcept>

namespace chronos {

void check_supported_instant(TimestampUs at) {
    // 2000-01-01 - 600 and + 7500 years (beyond the tasks' range, 1900..8999, by more than the longest interval), comfortably inside Boost's calendar and far from int64 overflow.
    constexpr int64_t kYearUs = 31556952 * kUsPerSecond;
    if (at < -600 * kYearUs || at > 7500 * kYearUs)
        throw std::out_of_range("time stamp out of range for schedule computation (years 1400 to 9500 are supported)");
}

int64_t first_instant_of(const TimeZone &zone, int64_t local_seconds) {
    return map_local_time(zone, local_seconds).first;
}

TimestampUs next_fire(const Schedule &schedule, TimestampUs after, TimestampUs anchor, const TimeZone &zone) {
    check_supported_instant(after);
    if (schedule.kind == ScheduleKind::fixed_rate || schedule.kind == ScheduleKind::every_days)
        check_supported_instant(anchor);
    switch (schedule.kind) {
        case ScheduleKind::cron:
            return next_cron_fire(schedule.cron, after, zone);
        case ScheduleKind::fixed_rate:
            return next_fixed_rate_fire(schedule.interval, after, anchor, zone);
        case ScheduleKind::fixed_delay:
            return add_interval(after, schedule.interval, zone);
        case ScheduleKind::every_days:
            return next_every_days_fire(schedule.every, after, anchor, zone);
    }
    throw std::logic_error("unknown schedule kind");
}

TimestampUs first_fire(const Schedule &schedule, TimestampUs start, const TimeZone &zone) {
    check_supported_instant(start);
    if (schedule.kind == ScheduleKind::fixed_rate || schedule.kind == ScheduleKind::fixed_delay) return start;
    return next_fire(schedule, start - 1, start, zone);
}

}  // namespace chronos
