// The core's limits (see docs/limits.md): intervals of at most 100 years, fire times within 1900..8999, counters that
// never wrap, arithmetic that throws instead of overflowing, and texts cut only at UTF-8 character boundaries.
#include "engine.hpp"
#include "run_policy.hpp"
#include "schedule.hpp"
#include "timestamp_text.hpp"

#include <gtest/gtest.h>

#include <climits>
#include <cstring>
#include <string>
#include <vector>

using chronos::TimestampUs;
using chronos_test::system_zone;
using chronos_test::timestamp;

namespace {

const chronos::TimeZone &utc() {
    return system_zone("UTC");
}

chronos::TaskPolicy loop_task(const char *schedule) {
    chronos::TaskPolicy policy{};
    policy.is_loop = true;
    policy.schedule = schedule;
    policy.start_time = timestamp("2030-01-01 00:00:00+00");
    policy.catch_up = chronos::CatchUp::skip;
    policy.retry_delay_us = 60 * chronos::kUsPerSecond;
    return policy;
}

chronos::RunFacts succeeded_at(const std::string &when) {
    chronos::RunFacts run{};
    run.slot = timestamp(when);
    run.finished_at = timestamp(when);
    run.attempt = 1;
    run.outcome = chronos::RunOutcomeKind::succeeded;
    return run;
}

bool is_valid_utf8(const char *text) {
    for (const unsigned char *p = reinterpret_cast<const unsigned char *>(text); *p;) {
        const int length = *p < 0x80 ? 1 : (*p >> 5) == 6 ? 2 : (*p >> 4) == 14 ? 3 : (*p >> 3) == 30 ? 4 : 0;
        if (length == 0) return false;
        for (int i = 1; i < length; i++)
            if ((p[i] & 0xC0) != 0x80) return false;
        p += length;
    }
    return true;
}

}  // namespace

TEST(Limits, intervals_up_to_one_hundred_years_are_accepted) {
    for (const char *text : {"@every 100 years", "@after 36525 days", "876600 hours", "every 36525 days at 03:00",
                             "every 5217 weeks at 03:00", "@every 1200 months"})
        EXPECT_NO_THROW(chronos::parse_schedule(text)) << text;
}

TEST(Limits, intervals_longer_than_one_hundred_years_are_refused) {
    for (const char *text : {"@every 101 years", "178000000 years", "@after 2147483647 days", "@every 36526 days",
                             "every 36526 days at 03:00", "every 5218 weeks at 03:00", "every 2147483647 days at 03:00",
                             "@every 876601h", "1201 months"})
        EXPECT_THROW(chronos::parse_schedule(text), chronos::ScheduleError) << text;
}

TEST(Limits, loop_task_whose_next_slot_is_past_the_supported_range_is_done) {
    const chronos::NextState next =
        chronos::after_run(loop_task("@every 100 years"), succeeded_at("8950-01-01 00:00:00+00"), utc());
    EXPECT_EQ(next.status, chronos::NextState::done);
    EXPECT_FALSE(next.has_next);
}

TEST(Limits, attempt_and_failure_count_at_their_maximum_do_not_wrap) {
    chronos::TaskPolicy policy = loop_task("@every 1 hour");
    policy.max_retries = INT32_MAX;
    chronos::RunFacts run = succeeded_at("2030-01-01 10:00:00+00");
    run.outcome = chronos::RunOutcomeKind::failed;
    run.attempt = INT32_MAX;
    run.failure_count = INT32_MAX;
    const chronos::NextState next = chronos::after_run(policy, run, utc());
    EXPECT_GE(next.attempt, 1);
    EXPECT_EQ(next.failure_count, INT32_MAX);
}

TEST(Limits, negative_counters_count_as_zero_and_never_add_runs) {
    chronos::TaskPolicy policy = loop_task("@every 1 hour");
    policy.max_runs = 3;
    chronos::RunFacts run = succeeded_at("2030-01-01 10:00:00+00");
    run.run_count = -1000;
    EXPECT_EQ(chronos::after_run(policy, run, utc()).status, chronos::NextState::scheduled);
    run.run_count = 2;
    EXPECT_EQ(chronos::after_run(policy, run, utc()).status, chronos::NextState::done);
    run.run_count = INT64_MAX;
    EXPECT_EQ(chronos::after_run(policy, run, utc()).status, chronos::NextState::done);
}

TEST(Limits, retry_time_that_would_overflow_throws_instead_of_wrapping) {
    chronos::TaskPolicy policy = loop_task("@every 1 hour");
    policy.is_loop = false;
    policy.max_retries = 3;
    chronos::RunFacts run = succeeded_at("2030-01-01 10:00:00+00");
    run.outcome = chronos::RunOutcomeKind::failed;
    run.finished_at = INT64_MAX - 1;
    EXPECT_THROW(chronos::after_run(policy, run, utc()), std::overflow_error);
}

TEST(Limits, interval_arithmetic_far_outside_the_calendar_throws) {
    chronos::CalendarInterval interval;
    interval.microseconds = INT64_MAX;
    EXPECT_THROW(chronos::add_interval(timestamp("2030-01-01 00:00:00+00"), interval, utc()), std::exception);
    EXPECT_THROW(chronos::add_interval(INT64_MAX - 5, chronos::CalendarInterval{}, utc()), std::exception);
}

TEST(Limits, next_fires_stop_at_the_end_of_the_supported_range) {
    TimestampUs out[10];
    int produced = -1;
    chronos::CoreError error;
    ASSERT_TRUE(chronos::engine_next_fires("@every 100 years", timestamp("8800-01-01 00:00:00+00"),
                                           timestamp("8800-01-01 00:00:00+00"), &utc(), 10, out, &produced, &error));
    EXPECT_EQ(produced, 1);
    EXPECT_EQ(out[0], timestamp("8900-01-01 00:00:00+00"));
}

TEST(Limits, first_fire_past_the_supported_range_is_an_out_of_range_error) {
    TimestampUs out = 0;
    chronos::CoreError error;
    EXPECT_FALSE(chronos::engine_first_fire("@yearly", timestamp("8999-06-01 00:00:00+00"),
                                            timestamp("8999-06-01 00:00:00+00"), &utc(), &out, &error));
    EXPECT_EQ(error.kind, chronos::CoreError::out_of_range);
    EXPECT_NE(std::strstr(error.detail, "8999-12-31"), nullptr) << error.detail;
}

TEST(Limits, text_is_cut_before_a_character_that_does_not_fit_whole) {
    char buffer[6];
    chronos::copy_utf8_text(buffer, sizeof buffer, "ab\xC3\xA9\xC3\xA9");  // "abéé": 6 bytes
    EXPECT_STREQ(buffer, "ab\xC3\xA9");
    chronos::copy_utf8_text(buffer, sizeof buffer, "a\xE2\x82\xAC\xE2\x82\xAC");  // "a€€"
    EXPECT_STREQ(buffer, "a\xE2\x82\xAC");
    chronos::copy_utf8_text(buffer, sizeof buffer, "abcde");
    EXPECT_STREQ(buffer, "abcde");
}

TEST(Limits, error_about_a_long_non_ascii_schedule_is_valid_utf8) {
    std::string schedule;
    for (int i = 0; i < 3000; i++) schedule += "\xC3\xA9";  // é
    for (const std::string &text : {schedule, "0 " + schedule + " * * *", "@every " + schedule}) {
        chronos::EngineKind kind;
        chronos::CoreError error;
        ASSERT_FALSE(chronos::engine_check_schedule(text.c_str(), &kind, &error));
        EXPECT_TRUE(is_valid_utf8(error.message)) << error.message;
        EXPECT_TRUE(is_valid_utf8(error.detail)) << error.detail;
        EXPECT_TRUE(is_valid_utf8(error.hint)) << error.hint;
    }
}

TEST(Limits, long_descriptions_are_reported_whole) {
    std::string seconds = "0";
    for (int m = 1; m < 60; m += 2) seconds += "," + std::to_string(m);
    const std::string schedule = seconds + " " + seconds +
                                 " 1,3,5,7,9,11,13,15,17,19,21,23 1,3,5,7,9,11,13,15,17,19,21,23,25,27,29,31 " +
                                 "1,3,5,7,9,11 1,3,5";
    char small[16];
    size_t length = 0;
    chronos::CoreError error;
    ASSERT_TRUE(chronos::engine_describe(schedule.c_str(), "America/Argentina/ComodRivadavia", small, sizeof small,
                                         &length, &error));
    const std::string expected =
        chronos::describe_schedule(chronos::parse_schedule(schedule), "America/Argentina/ComodRivadavia");
    EXPECT_EQ(length, expected.size());
    EXPECT_GT(length, 511u);
    std::vector<char> whole(length + 1);
    ASSERT_TRUE(chronos::engine_describe(schedule.c_str(), "America/Argentina/ComodRivadavia", whole.data(),
                                         whole.size(), &length, &error));
    EXPECT_EQ(std::string(whole.data()), expected);
}
