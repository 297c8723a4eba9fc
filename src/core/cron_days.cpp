// The days of one month that a cron expression selects: day-of-month (with L), day-of-week (with nL and n#k), and the
// either-or rule that joins them. The parser asks whether any month can ever match; cron_fire.cpp asks month by month.
#include "core.hpp"
#include "cron_days.hpp"

namespace chronos {

uint32_t matching_days(const CronFields &cron, int month, int days_in_month, int first_weekday) {
    if (month < 1 || month > 12 || !cron.months[month]) return 0;
    const uint32_t whole_month = ((uint32_t{1} << days_in_month) - 1) << 1;
    if (!cron.day_of_month_restricted && !cron.day_of_week_restricted) return whole_month;

    uint32_t by_month_day = static_cast<uint32_t>(cron.days_of_month.to_ulong()) & whole_month;
    if (cron.last_day_of_month) by_month_day |= uint32_t{1} << days_in_month;

    uint32_t by_weekday = 0;
    for (int day = 1; day <= days_in_month; day++) {
        int weekday = (first_weekday + day - 1) % 7;
        bool last_of_its_kind = day + 7 > days_in_month;
        int nth = (day - 1) / 7 + 1;
        if (cron.days_of_week[weekday] || (last_of_its_kind && cron.last_weekday_of_month[weekday]) ||
            cron.nth_weekday[weekday][nth])
            by_weekday |= uint32_t{1} << day;
    }

    if (cron.day_of_month_restricted && cron.day_of_week_restricted) return by_month_day | by_weekday;
    return cron.day_of_month_restricted ? by_month_day : by_weekday;
}

bool can_ever_fire(const CronFields &cron) {
    static const int kMonthLength[13] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    for (int month = 1; month <= 12; month++) {
        if (!cron.months[month]) continue;
        for (int length = kMonthLength[month]; length <= (month == 2 ? 29 : kMonthLength[month]); length++)
            for (int first_weekday = 0; first_weekday < 7; first_weekday++)
                if (matching_days(cron, month, length, first_weekday) != 0) return true;
    }
    return false;
}

}  // namespace chronos
