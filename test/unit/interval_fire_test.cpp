// Interval schedules (interval_fire.cpp): timestamptz + interval exactly as PostgreSQL computes it, fixed rate from an
// anchor, fixed delay after a run, every N days at a time of day, and the first run of each.
#include "schedule.hpp"

#include "timestamp_text.hpp"

#include <gtest/gtest.h>

using chronos::ScheduleKind;
using chronos_test::every_days_schedule;
using chronos_test::fires_after;
using chronos_test::interval_schedule;
using chronos_test::show;
using chronos_test::system_zone;
using chronos_test::timestamp;
using Fires = std::vector<std::string>;

namespace {

constexpr int64_t kHourUs = 3600 * chronos::kUsPerSecond;

// `at + interval` in New York, shown there.
std::string plus(const std::string &at, int32_t months, int32_t days, int64_t microseconds) {
    const chronos::TimeZone &zone = system_zone("America/New_York");
    chronos::CalendarInterval interval;
    interval.months = months;
    interval.days = days;
    interval.microseconds = microseconds;
    return show(add_interval(timestamp(at), interval, zone), zone);
}

}  // namespace

// ---- add_interval ----

TEST(AddInterval, one_day_keeps_wall_clock_across_spring_forward) {
    EXPECT_EQ(plus("2026-03-07 12:00:00-05", 0, 1, 0), "2026-03-08 12:00:00-04");
}

TEST(AddInterval, twenty_four_hours_are_elapsed_time) {
    EXPECT_EQ(plus("2026-03-07 12:00:00-05", 0, 0, 24 * kHourUs), "2026-03-08 13:00:00-04");
}

TEST(AddInterval, one_day_into_the_gap_reads_with_the_earlier_offset) {
    EXPECT_EQ(plus("2026-03-07 02:30:00-05", 0, 1, 0), "2026-03-08 03:30:00-04");
}

TEST(AddInterval, one_day_into_the_fold_lands_on_the_second_pass) {
    EXPECT_EQ(plus("2026-10-31 01:30:00-04", 0, 1, 0), "2026-11-01 01:30:00-05");
}

TEST(AddInterval, hours_through_fall_back_count_the_repeated_hour) {
    EXPECT_EQ(plus("2026-11-01 00:30:00-04", 0, 0, kHourUs), "2026-11-01 01:30:00-04");
    EXPECT_EQ(plus("2026-11-01 00:30:00-04", 0, 0, 2 * kHourUs), "2026-11-01 01:30:00-05");
}

TEST(AddInterval, month_from_january_31_clamps_to_end_of_february) {
    EXPECT_EQ(plus("2026-01-31 10:00:00-05", 1, 0, 0), "2026-02-28 10:00:00-05");
    EXPECT_EQ(plus("2026-01-31 10:00:00-05", 2, 0, 0), "2026-03-31 10:00:00-04");
}

TEST(AddInterval, year_from_february_29_lands_on_february_28) {
    EXPECT_EQ(plus("2028-02-29 09:00:00-05", 12, 0, 0), "2029-02-28 09:00:00-05");
}

TEST(AddInterval, month_into_the_gap_reads_with_the_earlier_offset) {
    EXPECT_EQ(plus("2026-02-08 02:30:00-05", 1, 0, 0), "2026-03-08 03:30:00-04");
}

TEST(AddInterval, months_then_days_then_time_keeping_the_fraction) {
    EXPECT_EQ(plus("2026-01-31 10:00:00.25-05", 1, 1, kHourUs), "2026-03-01 11:00:00.250000-05");
}

// ---- fixed rate ----

TEST(FixedRate, months_count_from_the_anchor_not_from_the_previous_fire) {
    chronos::Schedule monthly = interval_schedule(ScheduleKind::fixed_rate, 1, 0, 0);
    EXPECT_EQ(fires_after(monthly, "2026-01-31 10:00:00Z", "2026-01-31 10:00:00Z", "UTC", 4),
              (Fires{"2026-02-28 10:00:00+00", "2026-03-31 10:00:00+00", "2026-04-30 10:00:00+00",
                     "2026-05-31 10:00:00+00"}));
}

TEST(FixedRate, far_after_the_anchor_lands_on_the_right_month) {
    chronos::Schedule monthly = interval_schedule(ScheduleKind::fixed_rate, 1, 0, 0);
    EXPECT_EQ(fires_after(monthly, "2126-01-01 00:00:00Z", "2026-01-31 10:00:00Z", "UTC", 2),
              (Fires{"2126-01-31 10:00:00+00", "2126-02-28 10:00:00+00"}));
}

TEST(FixedRate, days_keep_wall_clock_across_dst) {
    chronos::Schedule daily = interval_schedule(ScheduleKind::fixed_rate, 0, 1, 0);
    EXPECT_EQ(fires_after(daily, "2026-03-07 12:00:00-05", "2026-03-07 12:00:00-05", "America/New_York", 2),
              (Fires{"2026-03-08 12:00:00-04", "2026-03-09 12:00:00-04"}));
}

TEST(FixedRate, hours_are_elapsed_across_dst) {
    chronos::Schedule every_24_hours = interval_schedule(ScheduleKind::fixed_rate, 0, 0, 24 * kHourUs);
    EXPECT_EQ(fires_after(every_24_hours, "2026-03-07 12:00:00-05", "2026-03-07 12:00:00-05", "America/New_York", 2),
              (Fires{"2026-03-08 13:00:00-04", "2026-03-09 13:00:00-04"}));
    chronos::Schedule hourly = interval_schedule(ScheduleKind::fixed_rate, 0, 0, kHourUs);
    EXPECT_EQ(fires_after(hourly, "2026-11-01 01:30:00-04", "2026-11-01 00:00:00-04", "America/New_York", 2),
              (Fires{"2026-11-01 01:00:00-05", "2026-11-01 02:00:00-05"}));
}

TEST(FixedRate, before_the_anchor_the_anchor_is_next) {
    chronos::Schedule ten_minutes = interval_schedule(ScheduleKind::fixed_rate, 0, 0, 600 * chronos::kUsPerSecond);
    EXPECT_EQ(fires_after(ten_minutes, "2026-01-01 00:00:00Z", "2026-06-01 08:00:00Z", "UTC", 2),
              (Fires{"2026-06-01 08:00:00+00", "2026-06-01 08:10:00+00"}));
}

TEST(FixedRate, fire_is_strictly_after_even_on_a_slot) {
    chronos::Schedule ten_minutes = interval_schedule(ScheduleKind::fixed_rate, 0, 0, 600 * chronos::kUsPerSecond);
    EXPECT_EQ(fires_after(ten_minutes, "2026-06-01 09:00:00Z", "2026-06-01 08:00:00Z", "UTC", 1),
              (Fires{"2026-06-01 09:10:00+00"}));
}

// ---- fixed delay ----

TEST(FixedDelay, next_run_is_interval_after_previous_end) {
    chronos::Schedule delay = interval_schedule(ScheduleKind::fixed_delay, 0, 0, 600 * chronos::kUsPerSecond);
    EXPECT_EQ(fires_after(delay, "2026-06-01 08:03:17.5Z", "2026-01-01 00:00:00Z", "UTC", 1),
              (Fires{"2026-06-01 08:13:17.500000+00"}));
}

TEST(FixedDelay, day_delay_keeps_wall_clock_across_dst) {
    chronos::Schedule delay = interval_schedule(ScheduleKind::fixed_delay, 0, 1, 0);
    EXPECT_EQ(fires_after(delay, "2026-03-07 09:00:00-05", "2026-01-01 00:00:00Z", "America/New_York", 1),
              (Fires{"2026-03-08 09:00:00-04"}));
}

// ---- every N days ----

TEST(EveryDays, first_fire_is_the_next_day_when_the_time_has_passed) {
    EXPECT_EQ(fires_after(every_days_schedule(2, 3, 30), "2026-03-07 12:00:00Z", "2026-03-07 12:00:00Z", "UTC", 3),
              (Fires{"2026-03-08 03:30:00+00", "2026-03-10 03:30:00+00", "2026-03-12 03:30:00+00"}));
}

TEST(EveryDays, first_fire_is_the_anchor_day_when_the_time_is_still_ahead) {
    EXPECT_EQ(fires_after(every_days_schedule(3, 8, 0), "2026-01-01 00:00:00Z", "2026-01-01 00:00:00Z", "UTC", 2),
              (Fires{"2026-01-01 08:00:00+00", "2026-01-04 08:00:00+00"}));
}

TEST(EveryDays, long_after_the_anchor_keeps_the_period) {
    EXPECT_EQ(fires_after(every_days_schedule(3, 8, 0), "2026-03-01 00:00:00Z", "2026-01-01 00:00:00Z", "UTC", 1),
              (Fires{"2026-03-02 08:00:00+00"}));
}

TEST(EveryDays, weeks_are_seven_day_periods) {
    EXPECT_EQ(fires_after(every_days_schedule(14, 8, 0), "2026-03-04 09:00:00Z", "2026-03-04 09:00:00Z", "UTC", 3),
              (Fires{"2026-03-05 08:00:00+00", "2026-03-19 08:00:00+00", "2026-04-02 08:00:00+00"}));
}

TEST(EveryDays, time_in_gap_fires_at_end_of_gap) {
    EXPECT_EQ(fires_after(every_days_schedule(1, 2, 30), "2026-03-07 12:00:00-05", "2026-03-07 12:00:00-05",
                          "America/New_York", 2),
              (Fires{"2026-03-08 03:00:00-04", "2026-03-09 02:30:00-04"}));
}

TEST(EveryDays, time_in_fold_fires_once_at_first_occurrence) {
    EXPECT_EQ(fires_after(every_days_schedule(1, 1, 30), "2026-10-31 12:00:00-04", "2026-10-31 12:00:00-04",
                          "America/New_York", 2),
              (Fires{"2026-11-01 01:30:00-04", "2026-11-02 01:30:00-05"}));
}

TEST(EveryDays, weekly_keeps_wall_clock_across_dst) {
    EXPECT_EQ(fires_after(every_days_schedule(7, 9, 0), "2026-03-02 10:00:00-05", "2026-03-02 10:00:00-05",
                          "America/New_York", 2),
              (Fires{"2026-03-03 09:00:00-05", "2026-03-10 09:00:00-04"}));
}

// ---- first fire ----

TEST(FirstFire, every_days_starts_on_start_day_when_time_is_exactly_start) {
    const chronos::TimeZone &zone = system_zone("UTC");
    EXPECT_EQ(show(first_fire(every_days_schedule(2, 8, 0), timestamp("2026-03-07 08:00:00Z"), zone), zone),
              "2026-03-07 08:00:00+00");
}

TEST(FirstFire, fixed_rate_and_fixed_delay_start_at_start) {
    const chronos::TimeZone &zone = system_zone("UTC");
    for (ScheduleKind kind : {ScheduleKind::fixed_rate, ScheduleKind::fixed_delay})
        EXPECT_EQ(show(first_fire(interval_schedule(kind, 1, 0, 0), timestamp("2026-03-07 08:00:00.5Z"), zone), zone),
                  "2026-03-07 08:00:00.500000+00");
}
