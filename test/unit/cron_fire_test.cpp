// Next fire times of cron schedules (cron_fire.cpp): the calendar (leap years, month ends, L, nL, n#k, either-or days)
// and both DST rules — fixed hours fire once per day, every-hour schedules follow the wall clock as lived.
#include "schedule.hpp"

#include "timestamp_text.hpp"

#include <gtest/gtest.h>

using chronos_test::fires_after;
using Fires = std::vector<std::string>;

// ---- fixed hours through DST changes ----

TEST(CronFire, fixed_hour_time_in_gap_fires_at_end_of_gap) {
    EXPECT_EQ(fires_after("30 2 * * *", "2026-03-07 12:00:00+00", "America/New_York", 3),
              (Fires{"2026-03-08 03:00:00-04", "2026-03-09 02:30:00-04", "2026-03-10 02:30:00-04"}));
}

TEST(CronFire, several_gap_times_fire_once_at_end_of_gap) {
    EXPECT_EQ(fires_after("0,30 2 * * *", "2026-03-08 00:00:00-05", "America/New_York", 2),
              (Fires{"2026-03-08 03:00:00-04", "2026-03-09 02:00:00-04"}));
}

TEST(CronFire, gap_time_fires_even_when_after_is_just_before_end_of_gap) {
    EXPECT_EQ(fires_after("30 2 * * *", "2026-03-08 01:59:59.999999-05", "America/New_York", 1),
              (Fires{"2026-03-08 03:00:00-04"}));
}

TEST(CronFire, fixed_hour_time_in_fold_fires_once_at_first_occurrence) {
    EXPECT_EQ(fires_after("30 1 * * *", "2026-10-31 12:00:00+00", "America/New_York", 2),
              (Fires{"2026-11-01 01:30:00-04", "2026-11-02 01:30:00-05"}));
}

TEST(CronFire, after_in_second_pass_of_fold_skips_to_next_day) {
    EXPECT_EQ(fires_after("*/10 1 * * *", "2026-11-01 01:05:00-05", "America/New_York", 1),
              (Fires{"2026-11-02 01:00:00-05"}));
}

TEST(CronFire, every_second_of_fixed_hour_after_in_second_pass_skips_to_next_day) {
    EXPECT_EQ(fires_after("* * 1 * * *", "2026-11-01 01:59:58-05", "America/New_York", 1),
              (Fires{"2026-11-02 01:00:00-05"}));
}

TEST(CronFire, after_in_second_pass_of_fold_jumps_past_the_fold_without_visiting_each_second) {
    // A zone that counts how often it is asked for an offset, around New York's.
    struct Counting {
        const chronos::TimeZone *zone;
        int offset_calls;
    } counting{&chronos_test::system_zone("America/New_York"), 0};
    chronos::TimeZone zone{&counting, "counting",
                           [](const void *context, int64_t at) {
                               auto *c = static_cast<Counting *>(const_cast<void *>(context));
                               c->offset_calls++;
                               return c->zone->utc_offset(c->zone->context, at);
                           },
                           [](const void *context, int64_t at, int64_t *next) {
                               auto *c = static_cast<const Counting *>(context);
                               return c->zone->next_transition(c->zone->context, at, next);
                           }};
    chronos::TimestampUs fire =
        next_fire(chronos::parse_schedule("* * 1 * * *"), chronos_test::timestamp("2026-11-01 01:00:01-05"), 0, zone);
    EXPECT_EQ(chronos_test::show(fire, zone), "2026-11-02 01:00:00-05");
    EXPECT_LT(counting.offset_calls, 50);
}

TEST(CronFire, after_in_first_pass_of_fold_continues_without_second_pass) {
    EXPECT_EQ(fires_after("*/20 1 * * *", "2026-11-01 01:30:00-04", "America/New_York", 2),
              (Fires{"2026-11-01 01:40:00-04", "2026-11-02 01:00:00-05"}));
}

TEST(CronFire, london_fixed_hour_in_gap_and_fold) {
    EXPECT_EQ(fires_after("30 1 * * *", "2026-03-28 12:00:00+00", "Europe/London", 2),
              (Fires{"2026-03-29 02:00:00+01", "2026-03-30 01:30:00+01"}));
    EXPECT_EQ(fires_after("30 1 * * *", "2026-10-24 12:00:00+00", "Europe/London", 2),
              (Fires{"2026-10-25 01:30:00+01", "2026-10-26 01:30:00+00"}));
}

TEST(CronFire, lord_howe_half_hour_gap_ends_at_half_past_two) {
    EXPECT_EQ(fires_after("15 2 * * *", "2026-10-03 12:00:00+10:30", "Australia/Lord_Howe", 2),
              (Fires{"2026-10-04 02:30:00+11", "2026-10-05 02:15:00+11"}));
}

TEST(CronFire, lord_howe_half_hour_fold_fires_once) {
    EXPECT_EQ(fires_after("45 1 * * *", "2026-04-04 12:00:00+11", "Australia/Lord_Howe", 2),
              (Fires{"2026-04-05 01:45:00+11", "2026-04-06 01:45:00+10:30"}));
}

TEST(CronFire, kathmandu_1986_quarter_hour_gap_ends_at_quarter_past_midnight) {
    EXPECT_EQ(fires_after("5 0 * * *", "1985-12-31 12:00:00+05:30", "Asia/Kathmandu", 2),
              (Fires{"1986-01-01 00:15:00+05:45", "1986-01-02 00:05:00+05:45"}));
}

TEST(CronFire, kathmandu_fires_at_quarter_to_offset) {
    EXPECT_EQ(fires_after("0 9 * * *", "2026-06-01 00:00:00Z", "Asia/Kathmandu", 1),
              (Fires{"2026-06-01 09:00:00+05:45"}));
}

// ---- every hour: the wall clock as lived ----

TEST(CronFire, every_hour_fires_twice_in_repeated_hour) {
    EXPECT_EQ(fires_after("0 * * * *", "2026-11-01 00:30:00-04", "America/New_York", 3),
              (Fires{"2026-11-01 01:00:00-04", "2026-11-01 01:00:00-05", "2026-11-01 02:00:00-05"}));
}

TEST(CronFire, every_hour_never_fires_in_skipped_hour) {
    EXPECT_EQ(fires_after("30 * * * *", "2026-03-08 01:00:00-05", "America/New_York", 2),
              (Fires{"2026-03-08 01:30:00-05", "2026-03-08 03:30:00-04"}));
}

TEST(CronFire, every_hour_resumes_at_end_of_gap) {
    EXPECT_EQ(fires_after("*/15 * * * *", "2026-03-08 01:50:00-05", "America/New_York", 2),
              (Fires{"2026-03-08 03:00:00-04", "2026-03-08 03:15:00-04"}));
}

TEST(CronFire, london_every_hour_half_hours_through_fold) {
    EXPECT_EQ(fires_after("0,30 * * * *", "2026-10-25 00:45:00+01", "Europe/London", 5),
              (Fires{"2026-10-25 01:00:00+01", "2026-10-25 01:30:00+01", "2026-10-25 01:00:00+00",
                     "2026-10-25 01:30:00+00", "2026-10-25 02:00:00+00"}));
}

TEST(CronFire, lord_howe_every_hour_repeats_only_the_half_hour_fold) {
    EXPECT_EQ(fires_after("*/20 * * * *", "2026-04-05 01:30:00+11", "Australia/Lord_Howe", 3),
              (Fires{"2026-04-05 01:40:00+11", "2026-04-05 01:40:00+10:30", "2026-04-05 02:00:00+10:30"}));
}

TEST(CronFire, kathmandu_every_hour_skips_quarter_hour_gap) {
    EXPECT_EQ(fires_after("*/10 * * * *", "1985-12-31 23:55:00+05:30", "Asia/Kathmandu", 1),
              (Fires{"1986-01-01 00:20:00+05:45"}));
}

TEST(CronFire, every_second_schedule_fires_each_second_of_both_passes) {
    EXPECT_EQ(fires_after("59 59 * * * *", "2026-11-01 01:00:00-04", "America/New_York", 2),
              (Fires{"2026-11-01 01:59:59-04", "2026-11-01 01:59:59-05"}));
}

// ---- the calendar ----

TEST(CronFire, february_29_fires_in_leap_years_only) {
    EXPECT_EQ(fires_after("0 0 29 2 *", "2026-01-01 00:00:00Z", "UTC", 2),
              (Fires{"2028-02-29 00:00:00+00", "2032-02-29 00:00:00+00"}));
}

TEST(CronFire, february_29_skips_2100) {
    EXPECT_EQ(fires_after("0 0 29 2 *", "2096-03-01 00:00:00Z", "UTC", 1), (Fires{"2104-02-29 00:00:00+00"}));
}

TEST(CronFire, day_31_skips_short_months) {
    EXPECT_EQ(fires_after("0 12 31 * *", "2026-04-01 00:00:00Z", "UTC", 2),
              (Fires{"2026-05-31 12:00:00+00", "2026-07-31 12:00:00+00"}));
}

TEST(CronFire, last_day_of_month_follows_month_length) {
    EXPECT_EQ(fires_after("0 0 L * *", "2028-01-31 00:00:00Z", "UTC", 3),
              (Fires{"2028-02-29 00:00:00+00", "2028-03-31 00:00:00+00", "2028-04-30 00:00:00+00"}));
}

TEST(CronFire, year_rolls_over_to_next_new_year) {
    EXPECT_EQ(fires_after("0 0 1 1 *", "2026-12-31 23:59:59.5+00", "UTC", 1), (Fires{"2027-01-01 00:00:00+00"}));
    EXPECT_EQ(fires_after("59 23 31 12 *", "2026-12-31 23:59:00+00", "UTC", 1), (Fires{"2027-12-31 23:59:00+00"}));
}

TEST(CronFire, last_friday_of_each_month) {
    EXPECT_EQ(fires_after("0 0 * * 5L", "2026-01-01 00:00:00Z", "UTC", 2),
              (Fires{"2026-01-30 00:00:00+00", "2026-02-27 00:00:00+00"}));
}

TEST(CronFire, nth_weekday_fires_only_in_months_that_have_it) {
    EXPECT_EQ(fires_after("0 0 * * 1#2", "2026-01-01 00:00:00Z", "UTC", 1), (Fires{"2026-01-12 00:00:00+00"}));
    EXPECT_EQ(fires_after("0 0 * * 5#5", "2026-01-30 00:00:00Z", "UTC", 1), (Fires{"2026-05-29 00:00:00+00"}));
}

TEST(CronFire, both_day_fields_restricted_fire_on_either) {
    EXPECT_EQ(fires_after("0 0 10 * 5", "2026-02-01 00:00:00Z", "UTC", 4),
              (Fires{"2026-02-06 00:00:00+00", "2026-02-10 00:00:00+00", "2026-02-13 00:00:00+00",
                     "2026-02-20 00:00:00+00"}));
}

TEST(CronFire, weekday_range_skips_weekend) {
    EXPECT_EQ(fires_after("45 17 * * MON-FRI", "2026-03-06 17:45:00-05", "America/New_York", 1),
              (Fires{"2026-03-09 17:45:00-04"}));
}

TEST(CronFire, next_fire_is_strictly_after) {
    EXPECT_EQ(fires_after("* * * * *", "2026-05-05 12:00:00Z", "UTC", 1), (Fires{"2026-05-05 12:01:00+00"}));
    EXPECT_EQ(fires_after("*/5 * * * * *", "2026-05-05 12:00:02.5Z", "UTC", 1), (Fires{"2026-05-05 12:00:05+00"}));
}

TEST(CronFire, first_fire_may_be_the_start_itself) {
    const chronos::TimeZone &zone = chronos_test::system_zone("UTC");
    chronos::Schedule noon = chronos::parse_schedule("0 12 * * *");
    EXPECT_EQ(chronos_test::show(first_fire(noon, chronos_test::timestamp("2026-05-05 12:00:00Z"), zone), zone),
              "2026-05-05 12:00:00+00");
    EXPECT_EQ(chronos_test::show(first_fire(noon, chronos_test::timestamp("2026-05-05 12:00:00.000001Z"), zone), zone),
              "2026-05-06 12:00:00+00");
}

TEST(CronFire, schedule_that_never_fires_again_throws) {
    chronos::Schedule schedule;
    schedule.cron.seconds[0] = schedule.cron.minutes[0] = schedule.cron.hours[0] = true;
    schedule.cron.months[2] = true;
    schedule.cron.day_of_month_restricted = true;
    schedule.cron.days_of_month[30] = true;
    EXPECT_THROW(next_fire(schedule, 0, 0, chronos_test::system_zone("UTC")), std::runtime_error);
}
