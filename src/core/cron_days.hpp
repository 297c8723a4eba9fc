// Which days of a month a cron expression's day-of-month / day-of-week fields select (L, nL, n#k, and the either-or rule).
// Used by the parser (to reject expressions that never fire) and by the fire-time search (one month at a time).
#pragma once
#include "core.hpp"
#include "schedule.hpp"

namespace chronos {

// Bit d (1..31) is set when day d matches, for a month `month` (1..12) with `days_in_month` days whose first day is weekday
// `first_weekday` (0 = Sunday). When both fields are restricted a day matches if either matches; otherwise both must.
uint32_t matching_days(const CronFields &cron, int month, int days_in_month, int first_weekday);

// Whether some month in cron.months, in some Gregorian year, has a matching day.
bool can_ever_fire(const CronFields &cron);

}  // namespace chronos
