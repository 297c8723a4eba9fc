// describe_schedule: the English a person reads to check a schedule, for every form the parser accepts.
#include "schedule.hpp"

#include <gtest/gtest.h>

#include <string>

namespace chronos {
namespace {

std::string describe(const std::string &text, const char *zone_name = nullptr) {
    return describe_schedule(parse_schedule(text), zone_name);
}

TEST(ScheduleDescribe, names_the_zone_when_given) {
    EXPECT_EQ(describe("*/15 9-17 * * MON-FRI", "UTC"),
              "every 15 minutes from 09:00 through 17:45, Monday through Friday (UTC)");
    EXPECT_EQ(describe("30 2 * * *", "Europe/Paris"), "at 02:30 every day (Europe/Paris)");
}

TEST(ScheduleDescribe, leaves_out_the_zone_when_null_or_empty) {
    EXPECT_EQ(describe("30 2 * * *"), "at 02:30 every day");
    EXPECT_EQ(describe("30 2 * * *", ""), "at 02:30 every day");
}

TEST(ScheduleDescribe, daily_times_are_listed) {
    EXPECT_EQ(describe("0 9,17 * * *"), "at 09:00 and 17:00 every day");
    EXPECT_EQ(describe("0 0 * * *"), "at 00:00 every day");
    EXPECT_EQ(describe("@daily"), "at 00:00 every day");
    EXPECT_EQ(describe("0 */5 * * *"), "at 00:00, 05:00, 10:00, 15:00 and 20:00 every day");
}

TEST(ScheduleDescribe, hourly_forms) {
    EXPECT_EQ(describe("0 * * * *"), "every hour, on the hour");
    EXPECT_EQ(describe("@hourly"), "every hour, on the hour");
    EXPECT_EQ(describe("5 * * * *"), "at 5 minutes past every hour");
    EXPECT_EQ(describe("1 * * * *"), "at 1 minute past every hour");
    EXPECT_EQ(describe("0,15,45 * * * *"), "at minutes 0, 15 and 45 past every hour");
}

TEST(ScheduleDescribe, minute_and_second_steps) {
    EXPECT_EQ(describe("* * * * *"), "every minute");
    EXPECT_EQ(describe("*/10 * * * *"), "every 10 minutes");
    EXPECT_EQ(describe("*/2 * * * * *"), "every 2 seconds");
    EXPECT_EQ(describe("* * * * * *"), "every second");
    EXPECT_EQ(describe("30 * * * * *"), "at 30 seconds past every minute");
}

TEST(ScheduleDescribe, a_step_that_does_not_divide_the_hour_is_listed_not_called_every) {
    EXPECT_EQ(describe("*/7 * * * *"), "at minutes 0, 7, 14, 21, 28, 35, 42, 49 and 56 past every hour");
}

TEST(ScheduleDescribe, hour_steps_that_divide_the_day) {
    EXPECT_EQ(describe("0 */2 * * *"), "every 2 hours, on the hour");
    EXPECT_EQ(describe("30 */3 * * *"), "every 3 hours at 30 minutes past the hour");
}

TEST(ScheduleDescribe, minutes_within_several_hour_ranges) {
    EXPECT_EQ(describe("* 9-11,14 * * *"), "every minute from 09:00 through 11:59 and from 14:00 through 14:59");
    EXPECT_EQ(describe("*/30 1,5,9,13 * * *"), "every 30 minutes in hours 1, 5, 9 and 13");
}

TEST(ScheduleDescribe, seconds_within_hours) {
    EXPECT_EQ(describe("*/10 * 9-17 * * *"), "every 10 seconds from 09:00:00 through 17:59:50");
}

TEST(ScheduleDescribe, times_with_seconds_show_seconds) {
    EXPECT_EQ(describe("15 30 2 * * *"), "at 02:30:15 every day");
    EXPECT_EQ(describe("0 30 2 * * *"), "at 02:30:00 every day");
}

TEST(ScheduleDescribe, literal_fallback_for_combinations_without_a_phrase) {
    EXPECT_EQ(describe("0,15 1,5,7,9 * * *"), "at minutes 0 and 15 past hours 1, 5, 7 and 9");
    EXPECT_EQ(describe("0,30 0 * * * *"), "at seconds 0 and 30 of minute 0 past every hour");
}

TEST(ScheduleDescribe, days_of_the_month) {
    EXPECT_EQ(describe("0 0 1 * *"), "at 00:00 on day 1 of the month");
    EXPECT_EQ(describe("@monthly"), "at 00:00 on day 1 of the month");
    EXPECT_EQ(describe("0 0 L * *"), "at 00:00 on the last day of the month");
    EXPECT_EQ(describe("0 0 1,15,L * *"), "at 00:00 on days 1 and 15 and the last day of the month");
    EXPECT_EQ(describe("0 0 1-7 * *"), "at 00:00 on days 1-7 of the month");
}

TEST(ScheduleDescribe, day_of_a_single_month_names_the_month) {
    EXPECT_EQ(describe("0 0 29 2 *"), "at 00:00 on day 29 of February");
    EXPECT_EQ(describe("@yearly"), "at 00:00 on day 1 of January");
    EXPECT_EQ(describe("0 0 L 2 *"), "at 00:00 on the last day of February");
}

TEST(ScheduleDescribe, weekdays) {
    EXPECT_EQ(describe("0 0 * * 0"), "at 00:00 on Sunday");
    EXPECT_EQ(describe("@weekly"), "at 00:00 on Sunday");
    EXPECT_EQ(describe("0 9 * * 1,3"), "at 09:00 on Monday and Wednesday");
    EXPECT_EQ(describe("0 9 * * 5-7"), "at 09:00, Friday through Sunday");
    EXPECT_EQ(describe("0 9 * * 6,0"), "at 09:00 on Saturday and Sunday");
}

TEST(ScheduleDescribe, last_and_nth_weekdays_of_the_month) {
    EXPECT_EQ(describe("0 0 * * 5L"), "at 00:00 on the last Friday of the month");
    EXPECT_EQ(describe("0 0 * * 1#2"), "at 00:00 on the second Monday of the month");
    EXPECT_EQ(describe("0 0 * * 3,5L"), "at 00:00 on Wednesday and the last Friday of the month");
}

TEST(ScheduleDescribe, both_day_fields_restricted_means_either) {
    EXPECT_EQ(describe("0 0 1 * 1"), "at 00:00 on day 1 of the month or on Monday");
    EXPECT_EQ(describe("0 0 1 * MON-FRI"), "at 00:00 on day 1 of the month or on Monday through Friday");
}

TEST(ScheduleDescribe, months) {
    EXPECT_EQ(describe("0 0 * 1 *"), "at 00:00 every day in January");
    EXPECT_EQ(describe("0 0 * 1-3 *"), "at 00:00 every day, January through March");
    EXPECT_EQ(describe("0 0 1 1,7 *"), "at 00:00 on day 1 of the month in January and July");
    EXPECT_EQ(describe("0 0 * 2 1"), "at 00:00 on Monday in February");
}

TEST(ScheduleDescribe, fixed_rate_intervals_say_they_run_from_the_start_time) {
    EXPECT_EQ(describe("10 minutes"), "every 10 minutes, at a fixed rate from the start time");
    EXPECT_EQ(describe("@every 1 day 2 hours"), "every 1 day 2 hours, at a fixed rate from the start time");
    EXPECT_EQ(describe("1 month"), "every 1 month, at a fixed rate from the start time");
    EXPECT_EQ(describe("1.5 years"), "every 1 year 6 months, at a fixed rate from the start time");
    EXPECT_EQ(describe("@every 1h30m"), "every 1 hour 30 minutes, at a fixed rate from the start time");
    EXPECT_EQ(describe("@every 90.5s"), "every 1 minute 30.5 seconds, at a fixed rate from the start time");
    EXPECT_EQ(describe("every 2 weeks"), "every 14 days, at a fixed rate from the start time");
}

TEST(ScheduleDescribe, fixed_delay_counts_from_the_end_of_the_previous_run) {
    EXPECT_EQ(describe("@after 10 minutes"), "10 minutes after the previous run ends");
    EXPECT_EQ(describe("@after 1s", "UTC"), "1 second after the previous run ends (UTC)");
}

TEST(ScheduleDescribe, every_n_days_or_weeks_at_a_time) {
    EXPECT_EQ(describe("every day at 03:30"), "every day at 03:30");
    EXPECT_EQ(describe("every 2 days at 23:59:30"), "every 2 days at 23:59:30");
    EXPECT_EQ(describe("every week at 12:00"), "every week at 12:00");
    EXPECT_EQ(describe("every 3 weeks at 8:00"), "every 3 weeks at 08:00");
}

}  // namespace
}  // namespace chronos
