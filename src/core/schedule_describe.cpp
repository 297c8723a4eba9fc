// English for a parsed schedule, short enough to check at a glance: "every 15 minutes from 09:00 through 17:45, Monday
// through Friday (UTC)". engine_describe calls it; a cron combination without a neat phrase gets a plain, literal one.
#include "core.hpp"
#include "schedule.hpp"

#include <cstdio>
#include <utility>
#include <vector>

namespace chronos {
namespace {

const char *const kMonthNames[] = {"",     "January", "February",  "March",   "April",    "May",     "June",
                                   "July", "August",  "September", "October", "November", "December"};
const char *const kWeekdayNames[] = {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};
const char *const kOrdinals[] = {"", "first", "second", "third", "fourth", "fifth"};
// Weeks are read Monday first, so that 5-7 reads "Friday through Sunday".
const int kWeekdaysMondayFirst[] = {1, 2, 3, 4, 5, 6, 0};

// Lists of times up to this long are spelled out ("at 09:00 and 17:00").
constexpr size_t kMaxListedTimes = 6;
// Hour ranges up to this many are spelled out ("from 09:00 through 11:45 and from 14:00 through 16:45").
constexpr size_t kMaxHourRuns = 3;

using Run = std::pair<int, int>;

template <size_t N>
std::vector<int> values_of(const std::bitset<N> &bits) {
    std::vector<int> values;
    for (size_t i = 0; i < N; i++)
        if (bits[i]) values.push_back(static_cast<int>(i));
    return values;
}

std::vector<Run> runs_of(const std::vector<int> &values) {
    std::vector<Run> runs;
    for (int value : values) {
        if (!runs.empty() && runs.back().second + 1 == value)
            runs.back().second = value;
        else
            runs.push_back({value, value});
    }
    return runs;
}

// "a", "a and b", "a, b and c".
std::string join_words(const std::vector<std::string> &items) {
    std::string joined;
    for (size_t i = 0; i < items.size(); i++)
        joined += (i == 0 ? "" : i + 1 == items.size() ? " and " : ", ") + items[i];
    return joined;
}

// "0, 15 and 45"; runs of three or more as "9-17".
std::string number_list(const std::vector<int> &values) {
    std::vector<std::string> items;
    for (const Run &run : runs_of(values)) {
        if (run.second - run.first >= 2) {
            items.push_back(std::to_string(run.first) + "-" + std::to_string(run.second));
        } else {
            for (int value = run.first; value <= run.second; value++) items.push_back(std::to_string(value));
        }
    }
    return join_words(items);
}

std::string counted(int64_t count, const char *unit) {
    return std::to_string(count) + " " + unit + (count == 1 ? "" : "s");
}

// "minute 5" / "minutes 0 and 30".
std::string field_values(const std::vector<int> &values, const char *unit) {
    return std::string(unit) + (values.size() == 1 ? " " : "s ") + number_list(values);
}

// k when `values` is exactly 0, k, 2k, … with k dividing `span` (so "every k" stays true across the wrap); else 0.
int even_step(const std::vector<int> &values, int span) {
    if (values.size() == static_cast<size_t>(span)) return 1;
    if (values.size() < 2 || values[0] != 0 || span % values[1] != 0) return 0;
    int step = values[1];
    if (values.size() != static_cast<size_t>(span / step)) return 0;
    for (size_t i = 0; i < values.size(); i++)
        if (values[i] != static_cast<int>(i) * step) return 0;
    return step;
}

std::string clock_text(int hour, int minute, int second, bool with_seconds) {
    char text[40];
    if (with_seconds)
        std::snprintf(text, sizeof text, "%02d:%02d:%02d", hour, minute, second);
    else
        std::snprintf(text, sizeof text, "%02d:%02d", hour, minute);
    return text;
}

// The time-of-day part of a cron description. `lists_times` marks "at 02:30"-style text, which reads well followed by
// "every day".
struct TimeText {
    std::string text;
    bool lists_times = false;
};

TimeText listed_times(const std::vector<int> &seconds, const std::vector<int> &minutes, const std::vector<int> &hours,
                      bool with_seconds) {
    std::vector<std::string> times;
    for (int hour : hours)
        for (int minute : minutes)
            for (int second : seconds) times.push_back(clock_text(hour, minute, second, with_seconds));
    return {"at " + join_words(times), true};
}

// "every 15 minutes from 09:00 through 17:45": `unit` repeats every `step` (seconds or minutes) within the hours.
std::string within_hours(const std::string &every, const std::vector<int> &hours, int last_minute, int last_second,
                         bool with_seconds) {
    std::vector<Run> runs = runs_of(hours);
    if (runs.size() > kMaxHourRuns) return every + " in " + field_values(hours, "hour");
    std::vector<std::string> spans;
    for (const Run &run : runs)
        spans.push_back("from " + clock_text(run.first, 0, 0, with_seconds) + " through " +
                        clock_text(run.second, last_minute, last_second, with_seconds));
    return every + " " + join_words(spans);
}

// "at minutes 0 and 15 past hours 1 and 5", for combinations without a neater phrase.
std::string literal_time(const std::vector<int> &seconds, const std::vector<int> &minutes,
                         const std::vector<int> &hours, bool sub_minute) {
    std::string text;
    if (sub_minute) text = (seconds.size() == 60 ? "every second" : field_values(seconds, "second")) + " of ";
    text += minutes.size() == 60 ? "every minute" : field_values(minutes, "minute");
    text += " past " + (hours.size() == 24 ? std::string("every hour") : field_values(hours, "hour"));
    return text.compare(0, 5, "every") == 0 ? text : "at " + text;
}

TimeText describe_time_of_day(const CronFields &cron) {
    std::vector<int> seconds = values_of(cron.seconds);
    std::vector<int> minutes = values_of(cron.minutes);
    std::vector<int> hours = values_of(cron.hours);
    bool all_hours = hours.size() == 24;
    bool sub_minute = seconds != std::vector<int>{0};
    bool with_seconds = cron.has_seconds;
    int minute_step = even_step(minutes, 60);
    int second_step = even_step(seconds, 60);
    if (!sub_minute && all_hours) {
        if (minute_step == 1) return {"every minute"};
        if (minute_step > 1) return {"every " + counted(minute_step, "minute")};
        if (minutes == std::vector<int>{0}) return {"every hour, on the hour"};
        return {"at " + (minutes.size() == 1 ? counted(minutes[0], "minute") : field_values(minutes, "minute")) +
                " past every hour"};
    }
    if (sub_minute && all_hours && minutes.size() == 60) {
        if (second_step == 1) return {"every second"};
        if (second_step > 1) return {"every " + counted(second_step, "second")};
        return {"at " + (seconds.size() == 1 ? counted(seconds[0], "second") : field_values(seconds, "second")) +
                " past every minute"};
    }
    if (seconds.size() * minutes.size() * hours.size() <= kMaxListedTimes)
        return listed_times(seconds, minutes, hours, with_seconds);
    if (!sub_minute && minute_step > 0) {
        std::string every = minute_step == 1 ? "every minute" : "every " + counted(minute_step, "minute");
        return {within_hours(every, hours, 60 - minute_step, 0, with_seconds)};
    }
    if (sub_minute && second_step > 0 && minutes.size() == 60) {
        std::string every = second_step == 1 ? "every second" : "every " + counted(second_step, "second");
        return {within_hours(every, hours, 59, 60 - second_step, true)};
    }
    int hour_step = even_step(hours, 24);
    if (!sub_minute && minutes.size() == 1 && hour_step > 1) {
        std::string every = "every " + counted(hour_step, "hour");
        if (minutes[0] == 0) return {every + ", on the hour"};
        return {every + " at " + counted(minutes[0], "minute") + " past the hour"};
    }
    return {literal_time(seconds, minutes, hours, sub_minute)};
}

// "Monday through Friday" / "Monday and Wednesday"; `single_range` tells whether it is one range of three days or more.
std::string weekday_list(const std::bitset<7> &weekdays, bool *single_range) {
    std::vector<int> positions;
    for (int position = 0; position < 7; position++)
        if (weekdays[kWeekdaysMondayFirst[position]]) positions.push_back(position);
    std::vector<Run> runs = runs_of(positions);
    std::vector<std::string> items;
    for (const Run &run : runs) {
        if (run.second - run.first >= 2) {
            items.push_back(std::string(kWeekdayNames[kWeekdaysMondayFirst[run.first]]) + " through " +
                            kWeekdayNames[kWeekdaysMondayFirst[run.second]]);
        } else {
            for (int position = run.first; position <= run.second; position++)
                items.push_back(kWeekdayNames[kWeekdaysMondayFirst[position]]);
        }
    }
    *single_range = runs.size() == 1 && runs[0].second - runs[0].first >= 2;
    return join_words(items);
}

// "on day 1 of the month", "on days 1, 15 and the last day of February".
std::string day_of_month_text(const CronFields &cron, const char *month_name) {
    std::vector<int> days = values_of(cron.days_of_month);
    std::string text = days.empty() ? "" : field_values(days, "day");
    if (cron.last_day_of_month) text = days.empty() ? "the last day" : text + " and the last day";
    return "on " + text + " of " + (month_name ? month_name : "the month");
}

// "on Monday", ", Monday through Friday" (when `bare_range_allowed`), "on the last Friday of the month".
std::string day_of_week_text(const CronFields &cron, bool bare_range_allowed) {
    std::vector<std::string> items;
    bool single_range = false;
    if (cron.days_of_week.any())
        items.push_back(cron.days_of_week.all() ? "every day" : weekday_list(cron.days_of_week, &single_range));
    bool has_extras = false;
    for (int weekday = 0; weekday < 7; weekday++) {
        if (cron.last_weekday_of_month[weekday]) items.push_back(std::string("the last ") + kWeekdayNames[weekday]);
        for (int nth = 1; nth <= 5; nth++)
            if (cron.nth_weekday[weekday][nth])
                items.push_back(std::string("the ") + kOrdinals[nth] + " " + kWeekdayNames[weekday]);
        has_extras = has_extras || cron.last_weekday_of_month[weekday] || cron.nth_weekday[weekday].any();
    }
    if (bare_range_allowed && single_range && items.size() == 1) return ", " + items[0];
    return "on " + join_words(items) + (has_extras ? " of the month" : "");
}

std::string month_text(const std::bitset<13> &months) {
    std::vector<int> values;
    for (int month = 1; month <= 12; month++)
        if (months[month]) values.push_back(month);
    std::vector<Run> runs = runs_of(values);
    std::vector<std::string> items;
    for (const Run &run : runs) {
        if (run.second - run.first >= 2) {
            items.push_back(std::string(kMonthNames[run.first]) + " through " + kMonthNames[run.second]);
        } else {
            for (int month = run.first; month <= run.second; month++) items.push_back(kMonthNames[month]);
        }
    }
    if (runs.size() == 1 && runs[0].second - runs[0].first >= 2) return ", " + items[0];
    return " in " + join_words(items);
}

std::string describe_cron(const CronFields &cron) {
    TimeText time = describe_time_of_day(cron);
    std::string text = time.text;
    bool all_months = cron.months.count() == 12;
    const char *only_month = nullptr;
    if (cron.months.count() == 1 && !cron.day_of_week_restricted)
        for (int month = 1; month <= 12; month++)
            if (cron.months[month]) only_month = kMonthNames[month];
    std::string days;
    if (cron.day_of_month_restricted) days = day_of_month_text(cron, only_month);
    if (cron.day_of_month_restricted && cron.day_of_week_restricted) days += " or ";
    if (cron.day_of_week_restricted) days += day_of_week_text(cron, !cron.day_of_month_restricted);
    if (!days.empty())
        text += (days[0] == ',' ? "" : " ") + days;
    else if (time.lists_times)
        text += " every day";
    bool month_named = cron.day_of_month_restricted && only_month != nullptr;
    if (!all_months && !month_named) text += month_text(cron.months);
    return text;
}

// "1 year 6 months", "1 day 2 hours", "1 minute 30.5 seconds".
std::string interval_text(const CalendarInterval &interval) {
    std::vector<std::string> parts;
    if (interval.months / 12 > 0) parts.push_back(counted(interval.months / 12, "year"));
    if (interval.months % 12 > 0) parts.push_back(counted(interval.months % 12, "month"));
    if (interval.days > 0) parts.push_back(counted(interval.days, "day"));
    int64_t seconds = interval.microseconds / kUsPerSecond;
    int64_t fraction = interval.microseconds % kUsPerSecond;
    if (seconds / 3600 > 0) parts.push_back(counted(seconds / 3600, "hour"));
    if (seconds / 60 % 60 > 0) parts.push_back(counted(seconds / 60 % 60, "minute"));
    if (fraction > 0) {
        char digits[16];
        std::snprintf(digits, sizeof digits, "%06lld", static_cast<long long>(fraction));
        std::string decimals = digits;
        decimals.erase(decimals.find_last_not_of('0') + 1);
        parts.push_back(std::to_string(seconds % 60) + "." + decimals + " seconds");
    } else if (seconds % 60 > 0) {
        parts.push_back(counted(seconds % 60, "second"));
    }
    std::string text;
    for (const std::string &part : parts) text += (text.empty() ? "" : " ") + part;
    return text;
}

std::string describe_every_days(const EveryDays &every) {
    int hour = every.second_of_day / 3600;
    int minute = every.second_of_day / 60 % 60;
    int second = every.second_of_day % 60;
    std::string at = " at " + clock_text(hour, minute, second, second != 0);
    if (every.in_weeks)
        return (every.days == 7 ? std::string("every week") : "every " + counted(every.days / 7, "week")) + at;
    return (every.days == 1 ? std::string("every day") : "every " + counted(every.days, "day")) + at;
}

}  // namespace

std::string describe_schedule(const Schedule &schedule, const char *zone_name) {
    std::string text;
    switch (schedule.kind) {
        case ScheduleKind::cron:
            text = describe_cron(schedule.cron);
            break;
        case ScheduleKind::fixed_rate:
            text = "every " + interval_text(schedule.interval) + ", at a fixed rate from the start time";
            break;
        case ScheduleKind::fixed_delay:
            text = interval_text(schedule.interval) + " after the previous run ends";
            break;
        case ScheduleKind::every_days:
            text = describe_every_days(schedule.every);
            break;
    }
    if (zone_name != nullptr && zone_name[0] != '\0') text += std::string(" (") + zone_name + ")";
    return text;
}

}  // namespace chronos
