// Which days of a month a cron expression selects (cron_days.cpp): L, nL, n#k, the either-or rule, and whether an
// expression can ever fire.
#include "cron_days.hpp"

#include <gtest/gtest.h>

using chronos::CronFields;

namespace {

uint32_t day_bit(int day) {
    return uint32_t{1} << day;
}

CronFields every_month() {
    CronFields cron;
    for (int month = 1; month <= 12; month++) cron.months[month] = true;
    return cron;
}

// January 2026: 31 days, the 1st is a Thursday (weekday 4).
constexpr int kJanuary2026Weekday = 4;

}  // namespace

TEST(MatchingDays, unrestricted_fields_select_every_day_of_the_month) {
    CronFields cron = every_month();
    EXPECT_EQ(matching_days(cron, 4, 30, 3), ((uint32_t{1} << 30) - 1) << 1);
}

TEST(MatchingDays, month_outside_month_field_has_no_days) {
    CronFields cron = every_month();
    cron.months[4] = false;
    EXPECT_EQ(matching_days(cron, 4, 30, 3), 0u);
}

TEST(MatchingDays, last_day_follows_the_month_length) {
    CronFields cron = every_month();
    cron.day_of_month_restricted = true;
    cron.last_day_of_month = true;
    EXPECT_EQ(matching_days(cron, 2, 28, 0), day_bit(28));
    EXPECT_EQ(matching_days(cron, 2, 29, 0), day_bit(29));
    EXPECT_EQ(matching_days(cron, 4, 30, 0), day_bit(30));
}

TEST(MatchingDays, day_31_is_absent_from_short_months) {
    CronFields cron = every_month();
    cron.day_of_month_restricted = true;
    cron.days_of_month[31] = true;
    EXPECT_EQ(matching_days(cron, 4, 30, 0), 0u);
    EXPECT_EQ(matching_days(cron, 5, 31, 0), day_bit(31));
}

TEST(MatchingDays, last_friday_of_january_2026_is_the_30th) {
    CronFields cron = every_month();
    cron.day_of_week_restricted = true;
    cron.last_weekday_of_month[5] = true;
    EXPECT_EQ(matching_days(cron, 1, 31, kJanuary2026Weekday), day_bit(30));
}

TEST(MatchingDays, second_monday_and_fifth_friday) {
    CronFields cron = every_month();
    cron.day_of_week_restricted = true;
    cron.nth_weekday[1][2] = true;
    cron.nth_weekday[5][5] = true;
    EXPECT_EQ(matching_days(cron, 1, 31, kJanuary2026Weekday), day_bit(12) | day_bit(30));
    // February 2026 starts on a Sunday and has four Fridays.
    EXPECT_EQ(matching_days(cron, 2, 28, 0), day_bit(9));
}

TEST(MatchingDays, both_fields_restricted_match_either) {
    CronFields cron = every_month();
    cron.day_of_month_restricted = cron.day_of_week_restricted = true;
    cron.days_of_month[10] = true;
    cron.days_of_week[5] = true;
    EXPECT_EQ(matching_days(cron, 2, 28, 0), day_bit(6) | day_bit(10) | day_bit(13) | day_bit(20) | day_bit(27));
}

TEST(MatchingDays, only_the_restricted_field_counts) {
    CronFields by_weekday = every_month();
    by_weekday.days_of_month.set();  // `*` in day-of-month
    by_weekday.day_of_week_restricted = true;
    by_weekday.days_of_week[1] = true;
    EXPECT_EQ(matching_days(by_weekday, 2, 28, 0), day_bit(2) | day_bit(9) | day_bit(16) | day_bit(23));

    CronFields by_month_day = every_month();
    by_month_day.days_of_week.set();  // `*` in day-of-week
    by_month_day.day_of_month_restricted = true;
    by_month_day.days_of_month[3] = true;
    EXPECT_EQ(matching_days(by_month_day, 2, 28, 0), day_bit(3));
}

TEST(CanEverFire, february_30_never_fires) {
    CronFields cron;
    cron.months[2] = true;
    cron.day_of_month_restricted = true;
    cron.days_of_month[30] = true;
    EXPECT_FALSE(can_ever_fire(cron));
}

TEST(CanEverFire, february_29_fires_in_leap_years) {
    CronFields cron;
    cron.months[2] = true;
    cron.day_of_month_restricted = true;
    cron.days_of_month[29] = true;
    EXPECT_TRUE(can_ever_fire(cron));
}

TEST(CanEverFire, fifth_monday_of_february_fires_in_a_leap_year_starting_on_monday) {
    CronFields cron;
    cron.months[2] = true;
    cron.day_of_week_restricted = true;
    cron.nth_weekday[1][5] = true;
    EXPECT_TRUE(can_ever_fire(cron));
}

TEST(CanEverFire, april_31_never_fires) {
    CronFields cron;
    cron.months[4] = true;
    cron.day_of_month_restricted = true;
    cron.days_of_month[31] = true;
    EXPECT_FALSE(can_ever_fire(cron));
}
