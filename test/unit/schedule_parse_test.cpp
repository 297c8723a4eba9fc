// parse_schedule: every accepted form, the fields it fills, and one test per distinct rejection (asserting key words of
// the detail that reaches users through errdetail).
#include "schedule.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <initializer_list>
#include <string>

namespace chronos {
namespace {

constexpr int64_t kUsPerMinute = 60 * kUsPerSecond;
constexpr int64_t kUsPerHour = 60 * kUsPerMinute;

template <size_t N>
std::bitset<N> bits(std::initializer_list<int> values) {
    std::bitset<N> result;
    for (int value : values) result[value] = true;
    return result;
}

// The ScheduleError thrown for `text`; fails the test if parsing succeeds.
ScheduleError error_for(const std::string &text) {
    try {
        parse_schedule(text);
    } catch (const ScheduleError &error) {
        return error;
    }
    ADD_FAILURE() << "\"" << text << "\" was accepted";
    return ScheduleError("", "");
}

void expect_detail_mentions(const std::string &text, std::initializer_list<const char *> words) {
    ScheduleError error = error_for(text);
    for (const char *word : words) EXPECT_NE(error.detail().find(word), std::string::npos) << error.detail();
    EXPECT_FALSE(error.hint().empty()) << text;
    ASSERT_FALSE(error.detail().empty());
    EXPECT_TRUE(std::isupper(static_cast<unsigned char>(error.detail().front()))) << error.detail();
    EXPECT_EQ(error.detail().back(), '.') << error.detail();
}

void expect_interval(const std::string &text, int32_t months, int32_t days, int64_t microseconds) {
    Schedule schedule = parse_schedule(text);
    EXPECT_EQ(schedule.kind, ScheduleKind::fixed_rate) << text;
    EXPECT_EQ(schedule.interval.months, months) << text;
    EXPECT_EQ(schedule.interval.days, days) << text;
    EXPECT_EQ(schedule.interval.microseconds, microseconds) << text;
}

TEST(ScheduleParse, five_field_cron_fills_every_field_and_fires_at_second_zero) {
    Schedule schedule = parse_schedule("  */15 9-17 * * MON-FRI \t");
    EXPECT_EQ(schedule.kind, ScheduleKind::cron);
    EXPECT_EQ(schedule.text, "*/15 9-17 * * MON-FRI");
    EXPECT_TRUE(schedule.descriptor.empty());
    EXPECT_EQ(schedule.cron.seconds, bits<60>({0}));
    EXPECT_FALSE(schedule.cron.has_seconds);
    EXPECT_EQ(schedule.cron.minutes, bits<60>({0, 15, 30, 45}));
    EXPECT_EQ(schedule.cron.hours, bits<24>({9, 10, 11, 12, 13, 14, 15, 16, 17}));
    EXPECT_TRUE(schedule.cron.days_of_month.count() == 31 && !schedule.cron.days_of_month[0]);
    EXPECT_EQ(schedule.cron.months.count(), 12u);
    EXPECT_FALSE(schedule.cron.months[0]);
    EXPECT_EQ(schedule.cron.days_of_week, bits<7>({1, 2, 3, 4, 5}));
    EXPECT_FALSE(schedule.cron.day_of_month_restricted);
    EXPECT_TRUE(schedule.cron.day_of_week_restricted);
}

TEST(ScheduleParse, six_field_cron_reads_seconds_first) {
    Schedule schedule = parse_schedule("*/20 0 12 * * *");
    EXPECT_TRUE(schedule.cron.has_seconds);
    EXPECT_EQ(schedule.cron.seconds, bits<60>({0, 20, 40}));
    EXPECT_EQ(schedule.cron.minutes, bits<60>({0}));
    EXPECT_EQ(schedule.cron.hours, bits<24>({12}));
}

TEST(ScheduleParse, lists_ranges_and_steps_combine) {
    CronFields cron = parse_schedule("1,5-7,50-59/3 0-12/6 * * *").cron;
    EXPECT_EQ(cron.minutes, bits<60>({1, 5, 6, 7, 50, 53, 56, 59}));
    EXPECT_EQ(cron.hours, bits<24>({0, 6, 12}));
}

TEST(ScheduleParse, start_with_step_runs_to_the_end_of_the_field) {
    CronFields cron = parse_schedule("5/15 20/2 * * *").cron;
    EXPECT_EQ(cron.minutes, bits<60>({5, 20, 35, 50}));
    EXPECT_EQ(cron.hours, bits<24>({20, 22}));
}

TEST(ScheduleParse, month_and_weekday_names_are_case_insensitive) {
    CronFields cron = parse_schedule("0 0 * jan-Mar,DEC mon,wed").cron;
    EXPECT_EQ(cron.months, bits<13>({1, 2, 3, 12}));
    EXPECT_EQ(cron.days_of_week, bits<7>({1, 3}));
}

TEST(ScheduleParse, seven_and_zero_are_both_sunday) {
    EXPECT_EQ(parse_schedule("0 0 * * 7").cron.days_of_week, bits<7>({0}));
    EXPECT_EQ(parse_schedule("0 0 * * 0").cron.days_of_week, bits<7>({0}));
    EXPECT_EQ(parse_schedule("0 0 * * 5-7").cron.days_of_week, bits<7>({0, 5, 6}));
    EXPECT_EQ(parse_schedule("0 0 * * FRI-SUN").cron.days_of_week, bits<7>({0, 5, 6}));
    EXPECT_EQ(parse_schedule("0 0 * * SUN-SAT").cron.days_of_week.count(), 7u);
}

TEST(ScheduleParse, question_mark_means_any_day) {
    CronFields cron = parse_schedule("0 0 ? * ?").cron;
    EXPECT_FALSE(cron.day_of_month_restricted);
    EXPECT_FALSE(cron.day_of_week_restricted);
    EXPECT_EQ(cron.days_of_week.count(), 7u);
}

TEST(ScheduleParse, day_of_month_is_unrestricted_only_when_it_selects_every_day) {
    for (const char *field : {"*", "?", "1-31", "*/1"})
        EXPECT_FALSE(parse_schedule(std::string("0 0 ") + field + " * *").cron.day_of_month_restricted) << field;
    for (const char *field : {"1-7", "L", "1-31,L", "*/2"})
        EXPECT_TRUE(parse_schedule(std::string("0 0 ") + field + " * *").cron.day_of_month_restricted) << field;
}

TEST(ScheduleParse, day_of_week_is_unrestricted_only_when_it_selects_every_weekday_without_extras) {
    for (const char *field : {"*", "?", "0-6", "0-7", "1-7", "SUN-SAT"})
        EXPECT_FALSE(parse_schedule(std::string("0 0 * * ") + field).cron.day_of_week_restricted) << field;
    for (const char *field : {"1-5", "5L", "1#2", "*,5L"})
        EXPECT_TRUE(parse_schedule(std::string("0 0 * * ") + field).cron.day_of_week_restricted) << field;
}

TEST(ScheduleParse, last_day_of_month_is_written_L_or_dollar_and_mixes_with_days) {
    CronFields cron = parse_schedule("0 0 1,15,L * *").cron;
    EXPECT_TRUE(cron.last_day_of_month);
    EXPECT_EQ(cron.days_of_month, bits<32>({1, 15}));
    EXPECT_TRUE(parse_schedule("0 0 $ * *").cron.last_day_of_month);
    EXPECT_TRUE(parse_schedule("0 0 l * *").cron.last_day_of_month);
}

TEST(ScheduleParse, last_weekday_of_month_accepts_numbers_and_names) {
    EXPECT_EQ(parse_schedule("0 0 * * 5L").cron.last_weekday_of_month, bits<7>({5}));
    EXPECT_EQ(parse_schedule("0 0 * * FRIL").cron.last_weekday_of_month, bits<7>({5}));
    EXPECT_EQ(parse_schedule("0 0 * * 7L").cron.last_weekday_of_month, bits<7>({0}));
    EXPECT_TRUE(parse_schedule("0 0 * * 5L").cron.days_of_week.none());
}

TEST(ScheduleParse, nth_weekday_sets_bit_k_of_weekday_n) {
    CronFields cron = parse_schedule("0 0 * * 1#2,MON#4,sun#5").cron;
    EXPECT_EQ(cron.nth_weekday[1], bits<6>({2, 4}));
    EXPECT_EQ(cron.nth_weekday[0], bits<6>({5}));
    EXPECT_TRUE(cron.days_of_week.none());
}

TEST(ScheduleParse, weekday_extras_mix_with_plain_weekdays) {
    CronFields cron = parse_schedule("0 0 * * 3,5L,MON#1").cron;
    EXPECT_EQ(cron.days_of_week, bits<7>({3}));
    EXPECT_EQ(cron.last_weekday_of_month, bits<7>({5}));
    EXPECT_EQ(cron.nth_weekday[1], bits<6>({1}));
}

TEST(ScheduleParse, february_29_is_a_valid_day) {
    CronFields cron = parse_schedule("0 0 29 2 *").cron;
    EXPECT_EQ(cron.days_of_month, bits<32>({29}));
    EXPECT_EQ(cron.months, bits<13>({2}));
}

TEST(ScheduleParse, descriptors_are_cron_schedules_that_keep_their_spelling) {
    struct Case {
        const char *text;
        const char *descriptor;
        const char *same_as;
    };
    for (Case c : {Case{"@yearly", "@yearly", "0 0 1 1 *"}, Case{"@ANNUALLY", "@annually", "0 0 1 1 *"},
                   Case{"@monthly", "@monthly", "0 0 1 * *"}, Case{"@weekly", "@weekly", "0 0 * * 0"},
                   Case{"@daily", "@daily", "0 0 * * *"}, Case{"@Midnight", "@midnight", "0 0 * * *"},
                   Case{"@hourly", "@hourly", "0 * * * *"}}) {
        Schedule schedule = parse_schedule(c.text);
        CronFields expected = parse_schedule(c.same_as).cron;
        EXPECT_EQ(schedule.kind, ScheduleKind::cron);
        EXPECT_EQ(schedule.text, c.text);
        EXPECT_EQ(schedule.descriptor, c.descriptor);
        EXPECT_EQ(schedule.cron.minutes, expected.minutes) << c.text;
        EXPECT_EQ(schedule.cron.hours, expected.hours) << c.text;
        EXPECT_EQ(schedule.cron.days_of_month, expected.days_of_month) << c.text;
        EXPECT_EQ(schedule.cron.months, expected.months) << c.text;
        EXPECT_EQ(schedule.cron.days_of_week, expected.days_of_week) << c.text;
        EXPECT_EQ(schedule.cron.day_of_month_restricted, expected.day_of_month_restricted) << c.text;
        EXPECT_EQ(schedule.cron.day_of_week_restricted, expected.day_of_week_restricted) << c.text;
    }
}

TEST(ScheduleParse, every_with_go_durations_is_exact_elapsed_time) {
    Schedule schedule = parse_schedule("@every 1h30m");
    EXPECT_EQ(schedule.kind, ScheduleKind::fixed_rate);
    EXPECT_EQ(schedule.interval.microseconds, 90 * kUsPerMinute);
    EXPECT_EQ(parse_schedule("@every 90s").interval.microseconds, 90 * kUsPerSecond);
    EXPECT_EQ(parse_schedule("@every 5m").interval.microseconds, 5 * kUsPerMinute);
    EXPECT_EQ(parse_schedule("@every 2h45m30s").interval.microseconds,
              2 * kUsPerHour + 45 * kUsPerMinute + 30 * kUsPerSecond);
    EXPECT_EQ(parse_schedule("@every 1.5h").interval.microseconds, 90 * kUsPerMinute);
    EXPECT_EQ(parse_schedule("@every 1500ms").interval.microseconds, 1500000);
    EXPECT_EQ(parse_schedule("@every 2000000us").interval.microseconds, 2 * kUsPerSecond);
    EXPECT_EQ(parse_schedule("@every 2000000\xC2\xB5s").interval.microseconds, 2 * kUsPerSecond);
    EXPECT_EQ(parse_schedule("@every 1000000001ns").interval.microseconds, kUsPerSecond);
    EXPECT_EQ(parse_schedule("@every 48h").interval.days, 0);
}

TEST(ScheduleParse, every_with_interval_text_keeps_calendar_days) {
    Schedule schedule = parse_schedule("@every 1 day 2 hours");
    EXPECT_EQ(schedule.kind, ScheduleKind::fixed_rate);
    EXPECT_EQ(schedule.interval.days, 1);
    EXPECT_EQ(schedule.interval.microseconds, 2 * kUsPerHour);
}

TEST(ScheduleParse, after_is_fixed_delay_with_the_same_durations) {
    Schedule schedule = parse_schedule("@AFTER 10m");
    EXPECT_EQ(schedule.kind, ScheduleKind::fixed_delay);
    EXPECT_EQ(schedule.interval.microseconds, 10 * kUsPerMinute);
    EXPECT_EQ(parse_schedule("@after 1 month").interval.months, 1);
}

TEST(ScheduleParse, plain_interval_text_is_fixed_rate) {
    expect_interval("10 minutes", 0, 0, 10 * kUsPerMinute);
    expect_interval("1 day 2 hours", 0, 1, 2 * kUsPerHour);
    expect_interval("2 weeks", 0, 14, 0);
    expect_interval("1 month", 1, 0, 0);
    expect_interval("1 year", 12, 0, 0);
    expect_interval("1 decade", 120, 0, 0);
    expect_interval("1 century", 1200, 0, 0);
    expect_interval("@ 3 hrs", 0, 0, 3 * kUsPerHour);
    expect_interval("10min", 0, 0, 10 * kUsPerMinute);
    expect_interval("1 hour, 30 mins", 0, 0, 90 * kUsPerMinute);
    expect_interval("1 Year 2 Mons 3 Days", 14, 3, 0);
}

TEST(ScheduleParse, interval_fractions_spill_into_smaller_units_like_postgres) {
    expect_interval("1.5 years", 18, 0, 0);
    expect_interval("0.1 years", 1, 0, 0);
    expect_interval("1.5 months", 1, 15, 0);
    expect_interval("1.1 months", 1, 3, 0);
    expect_interval("1.5 weeks", 0, 10, 12 * kUsPerHour);
    expect_interval("1.5 days", 0, 1, 12 * kUsPerHour);
    expect_interval("1.5 seconds", 0, 0, 1500000);
    expect_interval(".5 hours", 0, 0, 30 * kUsPerMinute);
}

TEST(ScheduleParse, interval_clock_part_is_elapsed_time) {
    expect_interval("01:30", 0, 0, 90 * kUsPerMinute);
    expect_interval("01:30:15.25", 0, 0, 90 * kUsPerMinute + 15250000);
    expect_interval("12:34.5", 0, 0, 12 * kUsPerMinute + 34500000);
    expect_interval("1 day 02:00:00", 0, 1, 2 * kUsPerHour);
    expect_interval("36:00", 0, 0, 36 * kUsPerHour);
}

TEST(ScheduleParse, every_n_days_at_a_time_of_day) {
    Schedule schedule = parse_schedule("every day at 03:30");
    EXPECT_EQ(schedule.kind, ScheduleKind::every_days);
    EXPECT_EQ(schedule.every.days, 1);
    EXPECT_EQ(schedule.every.second_of_day, 3 * 3600 + 30 * 60);
    EXPECT_FALSE(schedule.every.in_weeks);
    schedule = parse_schedule("Every 2 Days At 23:59:30");
    EXPECT_EQ(schedule.every.days, 2);
    EXPECT_EQ(schedule.every.second_of_day, 23 * 3600 + 59 * 60 + 30);
    EXPECT_EQ(parse_schedule("every 1 days at 0:00").every.days, 1);
    EXPECT_EQ(parse_schedule("every 3 day at 7:05").every.second_of_day, 7 * 3600 + 5 * 60);
}

TEST(ScheduleParse, every_n_weeks_counts_seven_days_each) {
    Schedule schedule = parse_schedule("every week at 12:00");
    EXPECT_EQ(schedule.every.days, 7);
    EXPECT_TRUE(schedule.every.in_weeks);
    EXPECT_EQ(parse_schedule("every 3 weeks at 08:00").every.days, 21);
    EXPECT_EQ(parse_schedule("every 1 week at 08:00").every.days, 7);
}

TEST(ScheduleParse, every_without_at_is_a_fixed_rate_interval) {
    expect_interval("every 5 minutes", 0, 0, 5 * kUsPerMinute);
    expect_interval("EVERY 2 HOURS", 0, 0, 2 * kUsPerHour);
    expect_interval("every hour", 0, 0, kUsPerHour);
    expect_interval("every 2 days", 0, 2, 0);
    expect_interval("every 90s", 0, 0, 90 * kUsPerSecond);
}

TEST(ScheduleParse, rejects_an_empty_schedule) {
    expect_detail_mentions("", {"empty"});
    expect_detail_mentions("  \t ", {"empty"});
}

TEST(ScheduleParse, rejects_a_cron_expression_with_the_wrong_field_count) {
    expect_detail_mentions("0 0 * *", {"5 fields", "found 4"});
    expect_detail_mentions("0 0 * * * * *", {"found 7"});
    expect_detail_mentions("* *", {"found 2"});
}

TEST(ScheduleParse, rejects_a_value_out_of_range_naming_field_and_token) {
    expect_detail_mentions("0 25 * * *", {"hour field", "\"25\"", "out of range", "0-23"});
    expect_detail_mentions("60 * * * *", {"minute field", "\"60\"", "0-59"});
    expect_detail_mentions("60 * * * * *", {"second field", "\"60\""});
    expect_detail_mentions("0 0 0 * *", {"day-of-month field", "\"0\"", "1-31"});
    expect_detail_mentions("0 0 32 * *", {"day-of-month field", "\"32\""});
    expect_detail_mentions("0 0 * 13 *", {"month field", "\"13\"", "JAN-DEC"});
    expect_detail_mentions("0 0 * * 8", {"day-of-week field", "\"8\"", "SUN-SAT"});
    expect_detail_mentions("0 0-100 * * *", {"hour field", "\"0-100\""});
}

TEST(ScheduleParse, rejects_an_unknown_token_naming_field_and_token) {
    expect_detail_mentions("0 0 * FOO *", {"month field", "\"FOO\"", "not valid"});
    expect_detail_mentions("0 0 * * MONDAY", {"day-of-week field", "\"MONDAY\""});
    expect_detail_mentions("0 0 15W * *", {"day-of-month field", "\"15W\""});
    expect_detail_mentions("0 0 * * L", {"day-of-week field", "\"L\""});
    expect_detail_mentions("0 0 L/2 * *", {"day-of-month field", "\"L/2\""});
}

TEST(ScheduleParse, rejects_a_reversed_range_and_suggests_a_list) {
    ScheduleError error = error_for("0 22-2 * * *");
    EXPECT_NE(error.detail().find("hour field \"22-2\""), std::string::npos) << error.detail();
    EXPECT_NE(error.detail().find("start comes after its end"), std::string::npos) << error.detail();
    EXPECT_NE(error.hint().find("22-23,0-2"), std::string::npos) << error.hint();
    expect_detail_mentions("0 0 * * FRI-MON", {"day-of-week field", "after its end"});
}

TEST(ScheduleParse, rejects_a_step_of_zero) {
    expect_detail_mentions("*/0 * * * *", {"minute field", "\"*/0\"", "step of 0", "between 1 and 59"});
}

TEST(ScheduleParse, rejects_a_step_longer_than_the_field) {
    expect_detail_mentions("0 */24 * * *", {"hour field", "step of 24", "between 1 and 23"});
}

TEST(ScheduleParse, rejects_a_step_that_is_not_a_number) {
    expect_detail_mentions("*/x * * * *", {"minute field", "\"*/x\"", "step that is not a number"});
}

TEST(ScheduleParse, rejects_an_empty_list_element) {
    expect_detail_mentions("1,,2 * * * *", {"minute field", "\"1,,2\"", "empty list element"});
}

TEST(ScheduleParse, rejects_a_question_mark_outside_the_day_fields) {
    expect_detail_mentions("0 ? * * *", {"hour field", "\"?\"", "only for the day fields"});
}

TEST(ScheduleParse, rejects_an_nth_weekday_beyond_the_fifth) {
    expect_detail_mentions("0 0 * * 1#6", {"day-of-week field", "\"1#6\"", "1-5"});
    expect_detail_mentions("0 0 * * 1#0", {"\"1#0\""});
}

TEST(ScheduleParse, rejects_a_day_that_never_occurs_in_the_chosen_month) {
    ScheduleError error = error_for("0 0 30 2 *");
    EXPECT_NE(error.detail().find("Day-of-month 30 never occurs in February"), std::string::npos) << error.detail();
    EXPECT_NE(error.hint().find("\"0 0 L 2 *\""), std::string::npos) << error.hint();
    expect_detail_mentions("0 0 31 4 *", {"31", "April"});
    expect_detail_mentions("0 0 31 APR,JUN *", {"April or June"});
}

TEST(ScheduleParse, rejects_several_days_that_never_occur_in_the_chosen_month) {
    expect_detail_mentions("0 0 30,31 2 *", {"day-of-month field \"30,31\"", "no day", "February"});
}

TEST(ScheduleParse, rejects_an_unknown_descriptor_and_lists_the_known_ones) {
    expect_detail_mentions("@fortnightly", {"\"@fortnightly\"", "not known", "@daily", "@every"});
}

TEST(ScheduleParse, rejects_text_after_a_descriptor) {
    expect_detail_mentions("@daily 5", {"\"@daily\"", "nothing after it"});
}

TEST(ScheduleParse, rejects_every_and_after_without_an_interval) {
    expect_detail_mentions("@every", {"\"@every\"", "needs an interval"});
    expect_detail_mentions("@after  ", {"\"@after\""});
}

TEST(ScheduleParse, rejects_an_unknown_interval_unit_and_lists_units) {
    expect_detail_mentions("10 fortnights", {"\"fortnights\"", "not known", "minutes", "hours"});
    expect_detail_mentions("@every 5 parsecs", {"\"parsecs\""});
}

TEST(ScheduleParse, rejects_a_word_that_is_not_a_unit) {
    expect_detail_mentions("10 minutes please", {"\"please\"", "not a unit"});
}

TEST(ScheduleParse, rejects_an_interval_number_without_a_unit) {
    expect_detail_mentions("@every 10", {"\"10\"", "no unit"});
}

TEST(ScheduleParse, rejects_an_interval_unit_without_a_number) {
    expect_detail_mentions("@every hours", {"\"hours\"", "no number"});
}

TEST(ScheduleParse, rejects_negative_intervals) {
    expect_detail_mentions("-5 minutes", {"negative"});
    expect_detail_mentions("@every -5m", {"negative"});
    expect_detail_mentions("5 minutes ago", {"negative", "ago"});
}

TEST(ScheduleParse, rejects_intervals_shorter_than_one_second) {
    expect_detail_mentions("500 milliseconds", {"interval must be at least 1 second"});
    expect_detail_mentions("@every 500ms", {"interval must be at least 1 second"});
    expect_detail_mentions("@after 0.5 seconds", {"at least 1 second"});
}

TEST(ScheduleParse, rejects_a_unit_given_twice) {
    expect_detail_mentions("1 hour 2 hours", {"same unit more than once", "\"2 hours\""});
    expect_detail_mentions("1 hour 01:30", {"same unit more than once"});
}

TEST(ScheduleParse, rejects_an_invalid_clock_in_an_interval) {
    expect_detail_mentions("1:75", {"\"1:75\"", "minutes and seconds 0-59"});
    expect_detail_mentions("1:2:3:4", {"\"1:2:3:4\""});
}

TEST(ScheduleParse, rejects_an_interval_too_large_to_store) {
    expect_detail_mentions("99999999999 years", {"too large"});
    expect_detail_mentions("@every 9999999999h", {"too large"});
}

TEST(ScheduleParse, rejects_an_invalid_character_in_an_interval) {
    expect_detail_mentions("10 minutes!", {"\"!\"", "not valid"});
}

TEST(ScheduleParse, rejects_a_date_like_part_in_an_interval) {
    expect_detail_mentions("1-2 days", {"part \"1-2\"", "not valid"});
}

TEST(ScheduleParse, rejects_an_empty_interval) {
    expect_detail_mentions("@every @", {"empty"});
}

TEST(ScheduleParse, rejects_a_zero_count_of_days) {
    expect_detail_mentions("every 0 days at 03:00", {"\"0\"", "whole number between 1 and"});
    expect_detail_mentions("every two days at 03:00", {"\"two\"", "whole number"});
}

TEST(ScheduleParse, rejects_an_invalid_time_of_day) {
    expect_detail_mentions("every day at 24:00", {"\"24:00\"", "hours 0-23"});
    expect_detail_mentions("every day at 12:60", {"\"12:60\""});
    expect_detail_mentions("every day at 3pm", {"\"3pm\""});
}

TEST(ScheduleParse, rejects_at_after_units_other_than_days_or_weeks) {
    expect_detail_mentions("every 2 hours at 10:00", {"\"at\"", "only follow days or weeks"});
}

TEST(ScheduleParse, rejects_at_without_exactly_one_time) {
    expect_detail_mentions("every day at", {"exactly one time of day"});
    expect_detail_mentions("every day at 03:00 sharp", {"exactly one time of day"});
}

TEST(ScheduleParse, rejects_every_alone) {
    expect_detail_mentions("every", {"\"every\"", "needs"});
}

TEST(ScheduleParse, rejects_text_in_no_known_form_and_lists_the_forms) {
    expect_detail_mentions("whenever you like", {"\"whenever you like\"", "not a schedule", "cron", "@every"});
}

}  // namespace
}  // namespace chronos
