// Reads and prints time stamps for the fire-time tests (see timestamp_text.hpp).
#include "timestamp_text.hpp"

#include "time_zone.hpp"

#include <boost/date_time/gregorian/gregorian.hpp>

#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace chronos_test {
namespace {

constexpr int64_t kUs = chronos::kUsPerSecond;

int64_t floor_div(int64_t a, int64_t b) {
    return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

int64_t day_number(int year, int month, int day) {
    using boost::gregorian::date;
    return (date(year, month, day) - date(1970, 1, 1)).days();
}

}  // namespace

chronos::TimestampUs timestamp(const std::string &text) {
    int year, month, day, hour, minute, consumed = 0;
    if (std::sscanf(text.c_str(), "%d-%d-%d %d:%d%n", &year, &month, &day, &hour, &minute, &consumed) != 5)
        throw std::invalid_argument("bad time stamp: " + text);
    const char *rest = text.c_str() + consumed;
    int second = 0;
    int64_t fraction_us = 0;
    if (*rest == ':') {
        char *end;
        second = static_cast<int>(std::strtol(rest + 1, &end, 10));
        rest = end;
        if (*rest == '.') {
            int64_t scale = 100000;
            for (rest++; *rest >= '0' && *rest <= '9'; rest++, scale /= 10) fraction_us += (*rest - '0') * scale;
        }
    }
    int offset_seconds = 0;
    if (*rest == '+' || *rest == '-') {
        int offset_hours = 0, offset_minutes = 0;
        std::sscanf(rest + 1, "%d:%d", &offset_hours, &offset_minutes);
        offset_seconds = (offset_hours * 3600 + offset_minutes * 60) * (*rest == '-' ? -1 : 1);
    } else if (*rest != 'Z') {
        throw std::invalid_argument("time stamp without offset: " + text);
    }
    const int64_t local = day_number(year, month, day) * chronos::kSecondsPerDay + hour * 3600 + minute * 60 + second;
    return (local - offset_seconds - chronos::kPgEpochUnixSeconds) * kUs + fraction_us;
}

std::string show(chronos::TimestampUs at, const chronos::TimeZone &zone) {
    const int64_t unix_us = at + chronos::kPgEpochUnixSeconds * kUs;
    const int64_t unix_seconds = floor_div(unix_us, kUs);
    const int64_t fraction = unix_us - unix_seconds * kUs;
    const int32_t offset = zone.utc_offset(zone.context, unix_seconds);
    const int64_t local = unix_seconds + offset;
    const int64_t day = floor_div(local, chronos::kSecondsPerDay);
    const int64_t second_of_day = local - day * chronos::kSecondsPerDay;
    const auto ymd = (boost::gregorian::date(1970, 1, 1) + boost::gregorian::date_duration(day)).year_month_day();
    char text[64];
    int length =
        std::snprintf(text, sizeof text, "%04d-%02d-%02d %02d:%02d:%02d", int(ymd.year), int(ymd.month), int(ymd.day),
                      int(second_of_day / 3600), int(second_of_day / 60 % 60), int(second_of_day % 60));
    if (fraction != 0) length += std::snprintf(text + length, sizeof text - length, ".%06d", int(fraction));
    const int magnitude = offset < 0 ? -offset : offset;
    length += std::snprintf(text + length, sizeof text - length, "%c%02d", offset < 0 ? '-' : '+', magnitude / 3600);
    if (magnitude % 3600 != 0) std::snprintf(text + length, sizeof text - length, ":%02d", magnitude / 60 % 60);
    return text;
}

std::vector<std::string> fires_after(const chronos::Schedule &schedule, const std::string &after,
                                     const std::string &anchor, const char *zone_name, int count) {
    const chronos::TimeZone &zone = system_zone(zone_name);
    std::vector<std::string> fires;
    chronos::TimestampUs at = timestamp(after);
    for (int i = 0; i < count; i++) {
        at = chronos::next_fire(schedule, at, timestamp(anchor), zone);
        fires.push_back(show(at, zone));
    }
    return fires;
}

std::vector<std::string> fires_after(const std::string &cron_text, const std::string &after, const char *zone_name,
                                     int count) {
    return fires_after(chronos::parse_schedule(cron_text), after, after, zone_name, count);
}

chronos::Schedule interval_schedule(chronos::ScheduleKind kind, int32_t months, int32_t days, int64_t microseconds) {
    chronos::Schedule schedule;
    schedule.kind = kind;
    schedule.interval.months = months;
    schedule.interval.days = days;
    schedule.interval.microseconds = microseconds;
    return schedule;
}

chronos::Schedule every_days_schedule(int32_t days, int hour, int minute) {
    chronos::Schedule schedule;
    schedule.kind = chronos::ScheduleKind::every_days;
    schedule.every.days = days;
    schedule.every.second_of_day = hour * 3600 + minute * 60;
    return schedule;
}

}  // namespace chronos_test
