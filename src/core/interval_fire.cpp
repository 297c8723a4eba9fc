// Fire times of the interval schedules: fixed rate (anchor + k·interval), every N days at a time of day, and the
// PostgreSQL-exact `timestamptz + interval` that both fixed rate and fixed delay are built on.
#include "core.hpp"
#include "fire_time.hpp"
#include "time_zone.hpp"

#include <algorithm>
#include <stdexcept>

namespace chronos {
namespace {

// The average Gregorian month (400 years / 4800 months) in microseconds.
constexpr int64_t kAverageMonthUs = 2629746 * kUsPerSecond;

// Moves a wall-clock time by whole months, keeping the time of day; a day past the end of the month becomes its last
// day.
int64_t add_months_to_local(int64_t local_seconds, int64_t months) {
    using namespace boost::gregorian;
    const int64_t day = floor_div(local_seconds, kSecondsPerDay);
    const int64_t second_of_day = local_seconds - day * kSecondsPerDay;
    const date::ymd_type ymd = date_of_day(day).year_month_day();
    const int64_t month_index = int64_t{ymd.year} * 12 + (ymd.month - 1) + months;
    const int year = static_cast<int>(floor_div(month_index, 12));
    const int month = static_cast<int>(month_index - int64_t{year} * 12) + 1;
    const int day_of_month = std::min<int>(ymd.day, gregorian_calendar::end_of_month_day(year, month));
    return day_of_date(date(year, month, day_of_month)) * kSecondsPerDay + second_of_day;
}

TimestampUs add_scaled_interval(TimestampUs at, const CalendarInterval &interval, int64_t times, const TimeZone &zone) {
    const int64_t months = checked_mul<int64_t>(interval.months, times);
    const int64_t days = checked_mul<int64_t>(interval.days, times);
    if (months > INT32_MAX || months < INT32_MIN || days > INT32_MAX || days < INT32_MIN)
        throw std::overflow_error("time arithmetic overflows");
    CalendarInterval scaled;
    scaled.months = static_cast<int32_t>(months);
    scaled.days = static_cast<int32_t>(days);
    scaled.microseconds = checked_mul(interval.microseconds, times);
    return add_interval(at, scaled, zone);
}

}  // namespace

TimestampUs add_interval(TimestampUs at, const CalendarInterval &interval, const TimeZone &zone) {
    check_supported_instant(at);
    const int64_t unix_us = at + kPgEpochUnixSeconds * kUsPerSecond;
    int64_t seconds = floor_div(unix_us, kUsPerSecond);
    const int64_t fraction = unix_us - seconds * kUsPerSecond;
    if (interval.months != 0)
        seconds =
            local_to_unix_like_postgres(zone, add_months_to_local(to_local_seconds(zone, seconds), interval.months));
    if (interval.days != 0)
        seconds = local_to_unix_like_postgres(
            zone, to_local_seconds(zone, seconds) + int64_t{interval.days} * kSecondsPerDay);
    check_supported_instant(timestamp_at(seconds));
    return checked_add(timestamp_at(seconds) + fraction, interval.microseconds);
}

TimestampUs next_fixed_rate_fire(const CalendarInterval &interval, TimestampUs after, TimestampUs anchor,
                                 const TimeZone &zone) {
    if (interval.months < 0 || interval.days < 0 || interval.microseconds < 0 ||
        (interval.months == 0 && interval.days == 0 && interval.microseconds == 0))
        throw std::invalid_argument("a fixed-rate interval must be positive");
    if (after < anchor) return anchor;
    if (interval.months == 0 && interval.days == 0)
        return checked_add(anchor, checked_mul(floor_div(after - anchor, interval.microseconds) + 1,
                                               interval.microseconds));

    // Months and days vary in length: estimate k from the average, then step to the smallest k whose fire time is after
    // `after`. The estimate is off by a few days at most, so only a few steps are taken.
    const int64_t average_us =
        interval.months * kAverageMonthUs + interval.days * kSecondsPerDay * kUsPerSecond + interval.microseconds;
    int64_t k = (after - anchor) / average_us;
    if (add_scaled_interval(anchor, interval, k, zone) > after) {
        while (k > 0 && add_scaled_interval(anchor, interval, k - 1, zone) > after) k--;
        return add_scaled_interval(anchor, interval, k, zone);
    }
    TimestampUs fire = 0;
    do {
        fire = add_scaled_interval(anchor, interval, ++k, zone);
    } while (fire <= after);
    return fire;
}

TimestampUs next_every_days_fire(const EveryDays &every, TimestampUs after, TimestampUs anchor, const TimeZone &zone) {
    if (every.days <= 0 || every.second_of_day < 0 || every.second_of_day >= kSecondsPerDay)
        throw std::invalid_argument("an every-days schedule needs a positive period and a time of day");
    auto fire_on = [&](int64_t day) {
        return timestamp_at(first_instant_of(zone, day * kSecondsPerDay + every.second_of_day));
    };
    auto local_day_of = [&](TimestampUs at) {
        return floor_div(to_local_seconds(zone, unix_seconds_at(at)), kSecondsPerDay);
    };
    // The first fire is on the anchor's local day if its time has not passed yet, else on the next day.
    const int64_t anchor_day = local_day_of(anchor);
    const int64_t base_day = fire_on(anchor_day) >= anchor ? anchor_day : anchor_day + 1;
    // A fire on local day d happens before local day d + 2 begins, so periods ending two days before `after` are past.
    int64_t j = std::max<int64_t>(0, floor_div(local_day_of(after) - 2 - base_day, every.days));
    TimestampUs fire = fire_on(checked_add(base_day, checked_mul<int64_t>(j, every.days)));
    while (fire <= after) fire = fire_on(checked_add(base_day, checked_mul<int64_t>(++j, every.days)));
    return fire;
}

}  // namespace chronos
