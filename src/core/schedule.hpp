// A parsed schedule and the two things done with one: find its next fire time, describe it in English.
// Parsing lives in schedule_parse.cpp, fire times in cron_fire.cpp / interval_fire.cpp, the English in schedule_describe.cpp.
#pragma once
#include "core.hpp"
#include "time_zone.hpp"

#include <array>
#include <bitset>
#include <stdexcept>
#include <string>
#include <string_view>

namespace chronos {

enum class ScheduleKind {
    cron,         // 5- or 6-field cron, and the @hourly… descriptors
    fixed_rate,   // @every <duration>, or plain interval text: anchor + k·interval
    fixed_delay,  // @after <duration>: the previous run's end + interval
    every_days,   // every N days / weeks at hh:mm[:ss]
};

struct CronFields {
    std::bitset<60> seconds;                   // 5-field form: only second 0
    std::bitset<60> minutes;
    std::bitset<24> hours;
    std::bitset<32> days_of_month;             // bits 1..31
    bool last_day_of_month = false;            // `L` / `$` in day-of-month
    std::bitset<13> months;                    // bits 1..12
    std::bitset<7> days_of_week;               // bit 0 = Sunday … bit 6 = Saturday
    std::bitset<7> last_weekday_of_month;      // `nL`: the last weekday n of the month
    std::array<std::bitset<6>, 7> nth_weekday; // `n#k`: bit k (1..5) of entry n
    bool day_of_month_restricted = false;      // the field is not `*` / `?`
    bool day_of_week_restricted = false;
    bool has_seconds = false;                  // written with 6 fields

    // The hour field covers every hour: the schedule follows the wall clock as it is lived through DST changes.
    bool every_hour() const { return hours.all(); }
};

// PostgreSQL's interval: months and days move the calendar, microseconds are elapsed time. All parts >= 0.
struct CalendarInterval {
    int32_t months = 0;
    int32_t days = 0;
    int64_t microseconds = 0;
};

struct EveryDays {
    int32_t days = 1;            // period in days (weeks are 7·N days)
    int32_t second_of_day = 0;   // hh:mm:ss as seconds since midnight
    bool in_weeks = false;       // written as weeks (for describe)
};

struct Schedule {
    ScheduleKind kind = ScheduleKind::cron;
    std::string text;            // as written, blanks trimmed
    std::string descriptor;      // "@hourly" etc. when written as a descriptor, else empty
    CronFields cron;             // kind == cron
    CalendarInterval interval;   // kind == fixed_rate / fixed_delay
    EveryDays every;             // kind == every_days
};

// A schedule that cannot be parsed. `what()` is a one-line summary; the parts feed ereport's detail and hint.
class ScheduleError : public std::runtime_error {
public:
    ScheduleError(std::string detail, std::string hint)
        : std::runtime_error(detail), detail_(std::move(detail)), hint_(std::move(hint)) {}
    const std::string &detail() const { return detail_; }  // names the offending field or token and what is allowed there
    const std::string &hint() const { return hint_; }      // a valid example
private:
    std::string detail_;
    std::string hint_;
};

// Parses any schedule form; keywords are case-insensitive and surrounding blanks ignored. Throws ScheduleError,
// including for a cron expression that can never fire (`0 0 30 2 *`).
Schedule parse_schedule(std::string_view text);

// The first fire time strictly after `after`. `anchor` is the task's start time: the origin of fixed-rate intervals and
// of every-N-days schedules. For fixed_delay, `after` is the end of the previous run and the result is after + interval.
TimestampUs next_fire(const Schedule &schedule, TimestampUs after, TimestampUs anchor, const TimeZone &zone);

// The first run of a task starting at `start`: the first fire time at or after `start` (`start` itself for fixed-rate
// and fixed-delay schedules).
TimestampUs first_fire(const Schedule &schedule, TimestampUs start, const TimeZone &zone);

// `timestamp + interval` exactly as PostgreSQL computes it in `zone` (months, then days, then elapsed microseconds).
TimestampUs add_interval(TimestampUs at, const CalendarInterval &interval, const TimeZone &zone);

// Short English description, e.g. "every 15 minutes from 09:00 through 17:45, Monday through Friday (UTC)".
std::string describe_schedule(const Schedule &schedule, const char *zone_name);

}  // namespace chronos
