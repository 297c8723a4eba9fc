// The next fire time of a cron schedule. A search over wall-clock time finds matching local times month by month and
// field by field; two rules then place them on the instant line across DST changes (see next_cron_fire below).
#include "core.hpp"
#include "cron_days.hpp"
#include "fire_time.hpp"
#include "time_zone.hpp"

#include <algorithm>
#include <stdexcept>

namespace chronos {
namespace {

// The lowest set bit at or above `from`, or -1.
int next_bit(uint64_t bits, int from) {
    if (from >= 64) return -1;
    uint64_t rest = bits & (~uint64_t{0} << from);
    return rest ? __builtin_ctzll(rest) : -1;
}

struct TimeOfDayBits {
    uint64_t seconds, minutes, hours;
};

// The first second of a day at or after `second_of_day` whose hour, minute and second match; -1 when none is left.
int first_time_of_day(const TimeOfDayBits &bits, int second_of_day) {
    const int hour = second_of_day / 3600, minute = second_of_day / 60 % 60, second = second_of_day % 60;
    for (int h = next_bit(bits.hours, hour); h >= 0; h = next_bit(bits.hours, h + 1)) {
        for (int m = next_bit(bits.minutes, h == hour ? minute : 0); m >= 0; m = next_bit(bits.minutes, m + 1)) {
            int s = next_bit(bits.seconds, h == hour && m == minute ? second : 0);
            if (s >= 0) return h * 3600 + m * 60 + s;
        }
    }
    return -1;
}

// The matching wall-clock time at or after `from`, looking no further than `limit` (both local seconds). Months outside
// the month field are skipped without looking at their days; a month's day mask is computed once.
bool next_local_match(const CronFields &cron, const TimeOfDayBits &bits, int64_t from, int64_t limit, int64_t *match) {
    using namespace boost::gregorian;
    const int64_t from_day = floor_div(from, kSecondsPerDay);
    const int64_t limit_day = floor_div(limit, kSecondsPerDay);
    int second_of_day = static_cast<int>(from - from_day * kSecondsPerDay);
    const date start = date_of_day(from_day);
    const date::ymd_type start_ymd = start.year_month_day();
    const int last_year =
        static_cast<int>(date_of_day(std::min(limit_day, from_day + kSearchSeconds / kSecondsPerDay)).year());
    int year = start_ymd.year, month = start_ymd.month, first_day = start_ymd.day;
    while (year <= last_year) {
        if (cron.months[month]) {
            const date first_of_month(year, month, 1);
            const int64_t month_day = day_of_date(first_of_month);
            if (month_day > limit_day) return false;
            const int length = gregorian_calendar::end_of_month_day(year, month);
            const uint32_t days = matching_days(cron, month, length, first_of_month.day_of_week().as_number());
            for (int day = next_bit(days, first_day); day >= 0; day = next_bit(days, day + 1)) {
                int time = first_time_of_day(bits, day == first_day ? second_of_day : 0);
                if (time < 0) continue;
                *match = (month_day + day - 1) * kSecondsPerDay + time;
                return *match <= limit;
            }
        }
        if (++month > 12) {
            month = 1;
            year++;
        }
        first_day = 1;
        second_of_day = 0;
    }
    return false;
}

[[noreturn]] void throw_never_fires() {
    throw std::runtime_error("the cron expression has no fire time within " + std::to_string(kSearchYears) + " years");
}

// Hours fixed: each matching wall-clock time fires once, at its first occurrence or, inside a gap, when the gap ends.
// That map from local time to instant never decreases, so the answer is the first matching local time whose instant
// lies after `after`.
TimestampUs next_fixed_hour_fire(const CronFields &cron, const TimeOfDayBits &bits, TimestampUs after,
                                 const TimeZone &zone) {
    const int64_t after_second = unix_seconds_at(after);
    // Every local time up to the one `after` reads maps to `after_second` or earlier.
    int64_t from = to_local_seconds(zone, after_second) + 1;
    const int64_t limit = from + kSearchSeconds;
    for (;;) {
        int64_t local = 0;
        if (!next_local_match(cron, bits, from, limit, &local)) throw_never_fires();
        LocalMapping mapping = map_local_time(zone, local);
        if (mapping.first > after_second) return timestamp_at(mapping.first);
        // `after` lies in the second pass through a repeated stretch, whose times fired on the first pass: resume where
        // the stretch ends, i.e. at the local time the clock read just before it was turned back.
        from = local + 1;
        int64_t turned_back = 0;
        if (mapping.kind == LocalMapping::repeated && zone.next_transition(zone.context, mapping.first, &turned_back))
            from = std::max(from, turned_back + zone.utc_offset(zone.context, turned_back - 1));
    }
}

// Every hour: the schedule follows the wall clock as lived. An instant fires when its local time matches, so a repeated
// hour fires twice and a skipped one never. Walks the stretches of constant offset.
TimestampUs next_every_hour_fire(const CronFields &cron, const TimeOfDayBits &bits, TimestampUs after,
                                 const TimeZone &zone) {
    int64_t instant = unix_seconds_at(after) + 1;
    const int64_t limit = instant + kSearchSeconds;
    while (instant <= limit) {
        const int32_t offset = zone.utc_offset(zone.context, instant);
        int64_t stretch_end = 0;
        const bool changes = zone.next_transition(zone.context, instant, &stretch_end);
        const int64_t last = changes ? std::min(stretch_end - 1, limit) : limit;
        int64_t local = 0;
        if (next_local_match(cron, bits, instant + offset, last + offset, &local)) return timestamp_at(local - offset);
        if (!changes) break;
        instant = stretch_end;
    }
    throw_never_fires();
}

}  // namespace

TimestampUs next_cron_fire(const CronFields &cron, TimestampUs after, const TimeZone &zone) {
    const TimeOfDayBits bits{cron.seconds.to_ullong(), cron.minutes.to_ullong(), cron.hours.to_ullong()};
    if (cron.every_hour()) return next_every_hour_fire(cron, bits, after, zone);
    return next_fixed_hour_fire(cron, bits, after, zone);
}

}  // namespace chronos
