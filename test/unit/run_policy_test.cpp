// What happens to a task after a run and whether a late loop task runs at all (run_policy.cpp): retry backoff, retries,
// cancellations, max_failures, max_runs, end_time, and the catch-up policies for missed slots. Times are in UTC.
#include "run_policy.hpp"

#include "schedule.hpp"
#include "timestamp_text.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <climits>
#include <random>
#include <set>
#include <string>
#include <vector>

using chronos::CatchUp;
using chronos::CatchUpDecision;
using chronos::NextState;
using chronos::RunFacts;
using chronos::RunOutcomeKind;
using chronos::TaskPolicy;
using chronos::TimestampUs;
using chronos_test::show;
using chronos_test::system_zone;
using chronos_test::timestamp;

namespace {

constexpr int64_t kSecondUs = chronos::kUsPerSecond;
constexpr int64_t kMinuteUs = 60 * kSecondUs;
constexpr int64_t kHourUs = 60 * kMinuteUs;

// Any fixed random bits: the tests that use it accept every delay within the ±10 % band.
constexpr uint64_t kJitter = 0x9e3779b97f4a7c15u;

const chronos::TimeZone &utc() {
    return system_zone("UTC");
}

std::string in_utc(TimestampUs at) {
    return show(at, utc());
}

// Random bits the way the worker draws them, plus both extremes; the same sequence in every run.
std::vector<uint64_t> jitter_samples() {
    std::mt19937_64 bits(20300101);
    std::vector<uint64_t> samples{0, 1, UINT64_MAX};
    for (int i = 0; i < 5000; i++) samples.push_back(bits());
    return samples;
}

// Whether every backoff for `attempt` lies within `delay_us` ± 10 %; the message names the first one outside.
testing::AssertionResult always_within_ten_percent(int64_t retry_delay_us, int32_t attempt, int64_t delay_us) {
    const int64_t low = delay_us - delay_us / 10, high = delay_us + delay_us / 10;
    for (uint64_t jitter : jitter_samples()) {
        const int64_t backoff = chronos::retry_backoff(retry_delay_us, attempt, jitter);
        if (backoff < low || backoff > high)
            return testing::AssertionFailure() << "attempt " << attempt << " with jitter " << jitter << " waits "
                                               << backoff << " us, outside [" << low << ", " << high << "]";
    }
    return testing::AssertionSuccess();
}

// Whether `at` lies in [from, to]; the message shows all three as text.
testing::AssertionResult between(TimestampUs at, const std::string &from, const std::string &to) {
    if (at >= timestamp(from) && at <= timestamp(to)) return testing::AssertionSuccess();
    return testing::AssertionFailure() << in_utc(at) << " is not between " << from << " and " << to;
}

// A once task with no retries, limits or end: each test changes what it is about.
TaskPolicy once_task() {
    TaskPolicy policy{};
    policy.is_loop = false;
    policy.schedule = nullptr;
    policy.start_time = timestamp("2030-01-01 00:00:00+00");
    policy.catch_up = CatchUp::skip;
    policy.max_retries = 0;
    policy.retry_delay_us = kMinuteUs;
    policy.max_failures = 0;
    policy.max_runs = 0;
    policy.has_end_time = false;
    policy.end_time = 0;
    return policy;
}

TaskPolicy loop_task(const char *schedule) {
    TaskPolicy policy = once_task();
    policy.is_loop = true;
    policy.schedule = schedule;
    return policy;
}

// The first attempt at `slot`, ended at `finished`, after no failures and no runs.
RunFacts run_of(const std::string &slot, const std::string &finished, RunOutcomeKind outcome) {
    RunFacts run{};
    run.slot = timestamp(slot);
    run.finished_at = timestamp(finished);
    run.attempt = 1;
    run.failure_count = 0;
    run.run_count = 0;
    run.outcome = outcome;
    run.jitter = kJitter;
    return run;
}

NextState after(const TaskPolicy &policy, const RunFacts &run) {
    return chronos::after_run(policy, run, utc());
}

CatchUpDecision catch_up(const TaskPolicy &policy, const std::string &slot, const std::string &now,
                         int32_t max_catch_up = 100) {
    return chronos::decide_catch_up(policy, timestamp(slot), timestamp(now), max_catch_up, utc());
}

}  // namespace

// ---- retry_backoff ----

TEST(RunPolicyBackoff, first_retry_waits_retry_delay_within_ten_percent) {
    EXPECT_TRUE(always_within_ten_percent(kMinuteUs, 1, kMinuteUs));
    EXPECT_TRUE(always_within_ten_percent(30 * kSecondUs, 1, 30 * kSecondUs));
}

TEST(RunPolicyBackoff, each_further_retry_doubles_the_delay) {
    EXPECT_TRUE(always_within_ten_percent(kMinuteUs, 2, 2 * kMinuteUs));
    EXPECT_TRUE(always_within_ten_percent(kMinuteUs, 3, 4 * kMinuteUs));
    EXPECT_TRUE(always_within_ten_percent(kMinuteUs, 4, 8 * kMinuteUs));
    EXPECT_TRUE(always_within_ten_percent(kMinuteUs, 6, 32 * kMinuteUs));
}

TEST(RunPolicyBackoff, delay_is_capped_at_one_hour) {
    EXPECT_TRUE(always_within_ten_percent(kMinuteUs, 7, kHourUs));  // 64 minutes uncapped
    EXPECT_TRUE(always_within_ten_percent(kMinuteUs, 30, kHourUs));
    EXPECT_TRUE(always_within_ten_percent(kMinuteUs, INT32_MAX, kHourUs));
    EXPECT_TRUE(always_within_ten_percent(45 * kMinuteUs, 2, kHourUs));
}

TEST(RunPolicyBackoff, retry_delay_longer_than_an_hour_is_its_own_cap) {
    EXPECT_TRUE(always_within_ten_percent(2 * kHourUs, 1, 2 * kHourUs));
    EXPECT_TRUE(always_within_ten_percent(2 * kHourUs, 5, 2 * kHourUs));
}

TEST(RunPolicyBackoff, jitter_spreads_retries_over_the_whole_band) {
    std::set<int64_t> delays;
    for (uint64_t jitter : jitter_samples()) delays.insert(chronos::retry_backoff(10 * kMinuteUs, 1, jitter));
    EXPECT_GT(delays.size(), 1000u);
    EXPECT_LT(*delays.begin(), 9 * kMinuteUs + 30 * kSecondUs);
    EXPECT_GT(*delays.rbegin(), 10 * kMinuteUs + 30 * kSecondUs);
}

TEST(RunPolicyBackoff, delay_is_never_below_one_microsecond) {
    for (uint64_t jitter : {uint64_t{0}, uint64_t{7}, kJitter, uint64_t{UINT64_MAX}}) {
        EXPECT_EQ(chronos::retry_backoff(0, 1, jitter), 1);
        EXPECT_EQ(chronos::retry_backoff(0, 5, jitter), 1);
        EXPECT_EQ(chronos::retry_backoff(1, 1, jitter), 1);
        EXPECT_GE(chronos::retry_backoff(9, 1, jitter), 1);
    }
}

// ---- after_run: once tasks ----

TEST(RunPolicyAfterRun, once_task_that_succeeds_is_done) {
    RunFacts run = run_of("2030-01-01 10:00:00+00", "2030-01-01 10:00:05+00", RunOutcomeKind::succeeded);
    run.failure_count = 2;
    const NextState next = after(once_task(), run);
    EXPECT_EQ(next.status, NextState::done);
    EXPECT_FALSE(next.has_next);
    EXPECT_EQ(next.failure_count, 0);
    EXPECT_FALSE(next.finally_failed);
}

TEST(RunPolicyAfterRun, once_task_that_fails_without_retries_has_finally_failed) {
    const NextState next =
        after(once_task(), run_of("2030-01-01 10:00:00+00", "2030-01-01 10:00:05+00", RunOutcomeKind::failed));
    EXPECT_EQ(next.status, NextState::failed);
    EXPECT_FALSE(next.has_next);
    EXPECT_EQ(next.failure_count, 1);
    EXPECT_TRUE(next.finally_failed);
}

TEST(RunPolicyAfterRun, failed_run_with_retries_left_is_retried_after_the_backoff) {
    TaskPolicy policy = once_task();
    policy.max_retries = 3;
    const NextState next =
        after(policy, run_of("2030-01-01 10:00:00+00", "2030-01-01 10:00:30+00", RunOutcomeKind::failed));
    EXPECT_EQ(next.status, NextState::scheduled);
    EXPECT_TRUE(next.has_next);
    EXPECT_TRUE(between(next.next_exec_time, "2030-01-01 10:01:24+00", "2030-01-01 10:01:36+00"));
    EXPECT_EQ(next.attempt, 2);
    EXPECT_FALSE(next.finally_failed);
}

TEST(RunPolicyAfterRun, second_retry_waits_twice_the_retry_delay_after_the_failed_retry) {
    TaskPolicy policy = once_task();
    policy.max_retries = 3;
    RunFacts run = run_of("2030-01-01 10:00:00+00", "2030-01-01 10:02:00+00", RunOutcomeKind::failed);
    run.attempt = 2;
    const NextState next = after(policy, run);
    EXPECT_TRUE(between(next.next_exec_time, "2030-01-01 10:03:48+00", "2030-01-01 10:04:12+00"));
    EXPECT_EQ(next.attempt, 3);
}

TEST(RunPolicyAfterRun, timed_out_run_is_retried_like_a_failed_one) {
    TaskPolicy policy = once_task();
    policy.max_retries = 1;
    const NextState next =
        after(policy, run_of("2030-01-01 10:00:00+00", "2030-01-01 10:05:00+00", RunOutcomeKind::timed_out));
    EXPECT_EQ(next.status, NextState::scheduled);
    EXPECT_TRUE(between(next.next_exec_time, "2030-01-01 10:05:54+00", "2030-01-01 10:06:06+00"));
    EXPECT_EQ(next.attempt, 2);
}

TEST(RunPolicyAfterRun, failure_count_is_unchanged_while_retrying) {
    TaskPolicy policy = loop_task("@daily");
    policy.max_retries = 2;
    RunFacts run = run_of("2030-01-01 00:00:00+00", "2030-01-01 00:00:10+00", RunOutcomeKind::failed);
    run.failure_count = 2;
    const NextState next = after(policy, run);
    EXPECT_EQ(next.attempt, 2);
    EXPECT_EQ(next.failure_count, 2);
    EXPECT_FALSE(next.finally_failed);
}

TEST(RunPolicyAfterRun, task_whose_retries_are_exhausted_has_finally_failed) {
    TaskPolicy policy = once_task();
    policy.max_retries = 2;
    RunFacts run = run_of("2030-01-01 10:00:00+00", "2030-01-01 10:03:00+00", RunOutcomeKind::failed);
    run.attempt = 3;
    const NextState next = after(policy, run);
    EXPECT_EQ(next.status, NextState::failed);
    EXPECT_FALSE(next.has_next);
    EXPECT_EQ(next.failure_count, 1);
    EXPECT_TRUE(next.finally_failed);
}

TEST(RunPolicyAfterRun, cancelled_once_task_is_not_retried_and_not_counted_as_a_failure) {
    TaskPolicy policy = once_task();
    policy.max_retries = 3;
    const NextState next =
        after(policy, run_of("2030-01-01 10:00:00+00", "2030-01-01 10:00:20+00", RunOutcomeKind::cancelled));
    EXPECT_EQ(next.status, NextState::failed);
    EXPECT_FALSE(next.has_next);
    EXPECT_EQ(next.failure_count, 0);
    EXPECT_FALSE(next.finally_failed);
}

// ---- after_run: loop tasks ----

TEST(RunPolicyAfterRun, successful_loop_run_resets_failure_count_and_waits_for_the_next_slot) {
    RunFacts run = run_of("2030-01-01 10:00:00+00", "2030-01-01 10:00:05+00", RunOutcomeKind::succeeded);
    run.failure_count = 4;
    const NextState next = after(loop_task("*/5 * * * *"), run);
    EXPECT_EQ(next.status, NextState::scheduled);
    EXPECT_TRUE(next.has_next);
    EXPECT_EQ(in_utc(next.next_exec_time), "2030-01-01 10:05:00+00");
    EXPECT_EQ(next.attempt, 1);
    EXPECT_EQ(next.failure_count, 0);
}

TEST(RunPolicyAfterRun, cancelled_loop_run_keeps_its_schedule_and_failure_count) {
    TaskPolicy policy = loop_task("*/5 * * * *");
    policy.max_retries = 3;
    RunFacts run = run_of("2030-01-01 10:00:00+00", "2030-01-01 10:01:00+00", RunOutcomeKind::cancelled);
    run.failure_count = 2;
    const NextState next = after(policy, run);
    EXPECT_EQ(next.status, NextState::scheduled);
    EXPECT_EQ(in_utc(next.next_exec_time), "2030-01-01 10:05:00+00");
    EXPECT_EQ(next.attempt, 1);
    EXPECT_EQ(next.failure_count, 2);
    EXPECT_FALSE(next.finally_failed);
}

TEST(RunPolicyAfterRun, loop_retry_that_lands_before_the_next_slot_is_taken) {
    TaskPolicy policy = loop_task("0 * * * *");
    policy.max_retries = 1;
    const NextState next =
        after(policy, run_of("2030-01-01 10:00:00+00", "2030-01-01 10:00:30+00", RunOutcomeKind::failed));
    EXPECT_EQ(next.status, NextState::scheduled);
    EXPECT_TRUE(between(next.next_exec_time, "2030-01-01 10:01:24+00", "2030-01-01 10:01:36+00"));
    EXPECT_EQ(next.attempt, 2);
    EXPECT_EQ(next.failure_count, 0);
}

TEST(RunPolicyAfterRun, loop_retry_that_would_land_after_the_next_slot_gives_way_to_the_slot) {
    TaskPolicy policy = loop_task("*/5 * * * *");
    policy.max_retries = 1;
    policy.retry_delay_us = 10 * kMinuteUs;
    const NextState next =
        after(policy, run_of("2030-01-01 10:00:00+00", "2030-01-01 10:00:30+00", RunOutcomeKind::failed));
    EXPECT_EQ(next.status, NextState::scheduled);
    EXPECT_EQ(in_utc(next.next_exec_time), "2030-01-01 10:05:00+00");
    EXPECT_EQ(next.attempt, 1);
    EXPECT_EQ(next.failure_count, 1);
    EXPECT_TRUE(next.finally_failed);
}

TEST(RunPolicyAfterRun, loop_task_fails_when_consecutive_failures_reach_max_failures) {
    TaskPolicy policy = loop_task("*/5 * * * *");
    policy.max_failures = 3;
    RunFacts run = run_of("2030-01-01 10:00:00+00", "2030-01-01 10:00:30+00", RunOutcomeKind::failed);
    run.failure_count = 2;
    const NextState next = after(policy, run);
    EXPECT_EQ(next.status, NextState::failed);
    EXPECT_FALSE(next.has_next);
    EXPECT_EQ(next.failure_count, 3);
    EXPECT_TRUE(next.finally_failed);
}

TEST(RunPolicyAfterRun, loop_task_below_max_failures_stays_scheduled) {
    TaskPolicy policy = loop_task("*/5 * * * *");
    policy.max_failures = 3;
    RunFacts run = run_of("2030-01-01 10:00:00+00", "2030-01-01 10:00:30+00", RunOutcomeKind::failed);
    run.failure_count = 1;
    const NextState next = after(policy, run);
    EXPECT_EQ(next.status, NextState::scheduled);
    EXPECT_EQ(in_utc(next.next_exec_time), "2030-01-01 10:05:00+00");
    EXPECT_EQ(next.failure_count, 2);
}

TEST(RunPolicyAfterRun, loop_task_without_max_failures_never_fails_for_its_failures) {
    RunFacts run = run_of("2030-01-01 10:00:00+00", "2030-01-01 10:00:30+00", RunOutcomeKind::failed);
    run.failure_count = 1000;
    const NextState next = after(loop_task("*/5 * * * *"), run);
    EXPECT_EQ(next.status, NextState::scheduled);
    EXPECT_EQ(next.failure_count, 1001);
}

TEST(RunPolicyAfterRun, loop_task_is_done_after_its_last_allowed_run) {
    TaskPolicy policy = loop_task("*/5 * * * *");
    policy.max_runs = 3;
    RunFacts run = run_of("2030-01-01 10:00:00+00", "2030-01-01 10:00:05+00", RunOutcomeKind::succeeded);
    run.run_count = 2;
    const NextState next = after(policy, run);
    EXPECT_EQ(next.status, NextState::done);
    EXPECT_FALSE(next.has_next);
}

TEST(RunPolicyAfterRun, loop_task_with_runs_left_stays_scheduled) {
    TaskPolicy policy = loop_task("*/5 * * * *");
    policy.max_runs = 3;
    RunFacts run = run_of("2030-01-01 10:00:00+00", "2030-01-01 10:00:05+00", RunOutcomeKind::succeeded);
    run.run_count = 1;
    const NextState next = after(policy, run);
    EXPECT_EQ(next.status, NextState::scheduled);
    EXPECT_EQ(in_utc(next.next_exec_time), "2030-01-01 10:05:00+00");
}

TEST(RunPolicyAfterRun, loop_task_is_done_when_its_next_slot_is_after_end_time) {
    TaskPolicy policy = loop_task("0 * * * *");
    policy.has_end_time = true;
    policy.end_time = timestamp("2030-01-01 10:59:59+00");
    const NextState next =
        after(policy, run_of("2030-01-01 10:00:00+00", "2030-01-01 10:00:05+00", RunOutcomeKind::succeeded));
    EXPECT_EQ(next.status, NextState::done);
    EXPECT_FALSE(next.has_next);
}

TEST(RunPolicyAfterRun, loop_task_runs_a_slot_at_exactly_end_time) {
    TaskPolicy policy = loop_task("0 * * * *");
    policy.has_end_time = true;
    policy.end_time = timestamp("2030-01-01 11:00:00+00");
    const NextState next =
        after(policy, run_of("2030-01-01 10:00:00+00", "2030-01-01 10:00:05+00", RunOutcomeKind::succeeded));
    EXPECT_EQ(next.status, NextState::scheduled);
    EXPECT_EQ(in_utc(next.next_exec_time), "2030-01-01 11:00:00+00");
}

TEST(RunPolicyAfterRun, catch_up_skip_takes_the_first_slot_after_the_run_ended) {
    const NextState next = after(loop_task("*/5 * * * *"),
                                 run_of("2030-01-01 10:00:00+00", "2030-01-01 10:07:30+00", RunOutcomeKind::succeeded));
    EXPECT_EQ(in_utc(next.next_exec_time), "2030-01-01 10:10:00+00");
}

TEST(RunPolicyAfterRun, catch_up_once_and_all_take_the_slot_after_the_served_one) {
    for (CatchUp mode : {CatchUp::once, CatchUp::all}) {
        TaskPolicy policy = loop_task("*/5 * * * *");
        policy.catch_up = mode;
        const NextState next =
            after(policy, run_of("2030-01-01 10:00:00+00", "2030-01-01 10:07:30+00", RunOutcomeKind::succeeded));
        EXPECT_EQ(in_utc(next.next_exec_time), "2030-01-01 10:05:00+00");
    }
}

TEST(RunPolicyAfterRun, fixed_delay_counts_from_the_end_of_the_run_whatever_catch_up) {
    for (CatchUp mode : {CatchUp::skip, CatchUp::once, CatchUp::all}) {
        TaskPolicy policy = loop_task("@after 10m");
        policy.catch_up = mode;
        const NextState next =
            after(policy, run_of("2030-01-01 10:00:00+00", "2030-01-01 10:07:30+00", RunOutcomeKind::succeeded));
        EXPECT_EQ(in_utc(next.next_exec_time), "2030-01-01 10:17:30+00");
    }
}

TEST(RunPolicyAfterRun, loop_task_with_an_unparsable_schedule_throws) {
    EXPECT_THROW(after(loop_task("0 25 * * *"),
                       run_of("2030-01-01 10:00:00+00", "2030-01-01 10:00:05+00", RunOutcomeKind::succeeded)),
                 chronos::ScheduleError);
}

// ---- decide_catch_up ----

TEST(RunPolicyCatchUp, slot_whose_successor_is_not_due_runs_itself) {
    for (CatchUp mode : {CatchUp::skip, CatchUp::once, CatchUp::all}) {
        TaskPolicy policy = loop_task("*/5 * * * *");
        policy.catch_up = mode;
        const CatchUpDecision decision = catch_up(policy, "2030-01-01 10:00:00+00", "2030-01-01 10:04:59.999999+00");
        EXPECT_TRUE(decision.run);
        EXPECT_EQ(in_utc(decision.slot), "2030-01-01 10:00:00+00");
    }
}

TEST(RunPolicyCatchUp, skip_runs_nothing_and_moves_to_the_first_slot_after_now) {
    const CatchUpDecision decision =
        catch_up(loop_task("*/5 * * * *"), "2030-01-01 10:00:00+00", "2030-01-01 10:17:00+00");
    EXPECT_FALSE(decision.run);
    EXPECT_EQ(in_utc(decision.next_exec_time), "2030-01-01 10:20:00+00");
}

TEST(RunPolicyCatchUp, once_runs_one_run_serving_the_latest_due_slot) {
    TaskPolicy policy = loop_task("*/5 * * * *");
    policy.catch_up = CatchUp::once;
    const CatchUpDecision decision = catch_up(policy, "2030-01-01 10:00:00+00", "2030-01-01 10:17:00+00");
    EXPECT_TRUE(decision.run);
    EXPECT_EQ(in_utc(decision.slot), "2030-01-01 10:15:00+00");
}

TEST(RunPolicyCatchUp, slot_is_missed_from_the_instant_its_successor_is_due) {
    TaskPolicy policy = loop_task("*/5 * * * *");
    policy.catch_up = CatchUp::once;
    const CatchUpDecision decision = catch_up(policy, "2030-01-01 10:00:00+00", "2030-01-01 10:05:00+00");
    EXPECT_TRUE(decision.run);
    EXPECT_EQ(in_utc(decision.slot), "2030-01-01 10:05:00+00");
}

TEST(RunPolicyCatchUp, all_serves_the_oldest_of_the_latest_max_catch_up_slots) {
    TaskPolicy policy = loop_task("*/5 * * * *");
    policy.catch_up = CatchUp::all;
    // due: 10:00, 10:05, 10:10, 10:15
    const CatchUpDecision two = catch_up(policy, "2030-01-01 10:00:00+00", "2030-01-01 10:17:00+00", 2);
    EXPECT_TRUE(two.run);
    EXPECT_EQ(in_utc(two.slot), "2030-01-01 10:10:00+00");
    const CatchUpDecision three = catch_up(policy, "2030-01-01 10:00:00+00", "2030-01-01 10:17:00+00", 3);
    EXPECT_EQ(in_utc(three.slot), "2030-01-01 10:05:00+00");
}

TEST(RunPolicyCatchUp, all_serves_the_slot_itself_when_no_more_than_max_catch_up_are_due) {
    TaskPolicy policy = loop_task("*/5 * * * *");
    policy.catch_up = CatchUp::all;
    for (int32_t max_catch_up : {4, 10}) {
        const CatchUpDecision decision =
            catch_up(policy, "2030-01-01 10:00:00+00", "2030-01-01 10:17:00+00", max_catch_up);
        EXPECT_TRUE(decision.run);
        EXPECT_EQ(in_utc(decision.slot), "2030-01-01 10:00:00+00");
    }
}

TEST(RunPolicyCatchUp, fixed_rate_slots_follow_the_anchor) {
    TaskPolicy policy = loop_task("@every 1 hour");
    policy.start_time = timestamp("2030-01-01 09:30:00+00");
    const CatchUpDecision skipped = catch_up(policy, "2030-01-01 10:30:00+00", "2030-01-01 13:00:00+00");
    EXPECT_FALSE(skipped.run);
    EXPECT_EQ(in_utc(skipped.next_exec_time), "2030-01-01 13:30:00+00");
    policy.catch_up = CatchUp::once;
    const CatchUpDecision latest = catch_up(policy, "2030-01-01 10:30:00+00", "2030-01-01 13:00:00+00");
    EXPECT_TRUE(latest.run);
    EXPECT_EQ(in_utc(latest.slot), "2030-01-01 12:30:00+00");
}

TEST(RunPolicyCatchUp, fixed_delay_task_always_runs_its_slot) {
    for (CatchUp mode : {CatchUp::skip, CatchUp::once, CatchUp::all}) {
        TaskPolicy policy = loop_task("@after 5m");
        policy.catch_up = mode;
        const CatchUpDecision decision = catch_up(policy, "2030-01-01 10:00:00+00", "2030-01-01 12:00:00+00");
        EXPECT_TRUE(decision.run);
        EXPECT_EQ(in_utc(decision.slot), "2030-01-01 10:00:00+00");
    }
}
