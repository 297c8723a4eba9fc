// Time stamps as text for the fire-time tests, written the way PostgreSQL prints timestamptz ("2026-03-08
// 03:00:00-04"), so that expected values read like psql output; plus small builders of schedules that are not cron
// text.
#pragma once
#include "schedule.hpp"
#include "system_time_zone.hpp"

#include <string>
#include <vector>

namespace chronos_test {

// "YYYY-MM-DD HH:MM[:SS[.ffffff]]" followed by "Z" or a UTC offset "+HH[:MM]" / "-HH[:MM]".
chronos::TimestampUs timestamp(const std::string &text);

// The wall-clock time in `zone` with its offset, e.g. "2026-11-01 01:30:00-05" or "2026-10-04 02:30:00+11"; the
// fraction of a second is shown only when there is one.
std::string show(chronos::TimestampUs at, const chronos::TimeZone &zone);

// The next `count` fire times after `after`, each shown in `zone`.
std::vector<std::string> fires_after(const chronos::Schedule &schedule, const std::string &after,
                                     const std::string &anchor, const char *zone_name, int count);
std::vector<std::string> fires_after(const std::string &cron_text, const std::string &after, const char *zone_name,
                                     int count);

chronos::Schedule interval_schedule(chronos::ScheduleKind kind, int32_t months, int32_t days, int64_t microseconds);
chronos::Schedule every_days_schedule(int32_t days, int hour, int minute);

}  // namespace chronos_test
