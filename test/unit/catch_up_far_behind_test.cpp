// Catch-up of a loop task however far behind it is (decide_catch_up in run_policy.cpp): 'once' serves exactly the
// latest due slot and 'all' the latest max_catch_up ones, computed from `now` at a cost that does not grow with the
// number of missed slots. Exactness is checked against a slot-by-slot walk; cost by counting time-zone look-ups.
#include "run_policy.hpp"

#include "schedule.hpp"
#include "timestamp_text.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <random>
#include <string>

using chronos::CatchUp;
using chronos::CatchUpDecision;
using chronos::TaskPolicy;
using chronos::TimestampUs;
using chronos_test::show;
using chronos_test::system_zone;
using chronos_test::timestamp;

namespace {

constexpr int64_t kSecondUs = chronos::kUsPerSecond;
constexpr int64_t kDayUs = chronos::kSecondsPerDay * kSecondUs;

TaskPolicy loop_task(const char *schedule, CatchUp mode, const std::string &start = "2000-01-01 00:00:00+00") {
    TaskPolicy policy{};
    policy.is_loop = true;
    policy.schedule = schedule;
    policy.start_time = timestamp(start);
    policy.catch_up = mode;
    policy.retry_delay_us = 60 * kSecondUs;
    return policy;
}

// The UTC zone, counting how often the search asks it for an offset: a measure of the work done.
int64_t offset_lookups = 0;
int32_t counting_utc_offset(const void *, int64_t) {
    offset_lookups++;
    return 0;
}
bool counting_no_transition(const void *, int64_t, int64_t *) {
    return false;
}
const chronos::TimeZone kCountingUtc{nullptr, "UTC", counting_utc_offset, counting_no_transition};

// The slot decide_catch_up should pick, found by walking every slot from `slot` up to `now`.
TimestampUs walked_choice(const TaskPolicy &policy, TimestampUs slot, TimestampUs now, int32_t max_catch_up,
                          const chronos::TimeZone &zone) {
    const chronos::Schedule schedule = chronos::parse_schedule(policy.schedule);
    const size_t keep = policy.catch_up == CatchUp::once ? 1 : static_cast<size_t>(max_catch_up);
    std::deque<TimestampUs> latest{slot};
    for (TimestampUs at = chronos::next_fire(schedule, slot, policy.start_time, zone); at <= now;
         at = chronos::next_fire(schedule, at, policy.start_time, zone)) {
        latest.push_back(at);
        if (latest.size() > keep) latest.pop_front();
    }
    return latest.front();
}

}  // namespace

TEST(CatchUpFarBehind, every_second_task_thirty_days_behind_with_once_serves_the_latest_second) {
    const TaskPolicy policy = loop_task("* * * * * *", CatchUp::once);
    const TimestampUs now = timestamp("2030-06-15 12:34:56.789+00");
    const CatchUpDecision decision = chronos::decide_catch_up(policy, now - 30 * kDayUs, now, 100, kCountingUtc);
    EXPECT_TRUE(decision.run);
    EXPECT_EQ(show(decision.slot, system_zone("UTC")), "2030-06-15 12:34:56+00");
}

TEST(CatchUpFarBehind, every_second_task_thirty_days_behind_with_all_serves_the_latest_max_catch_up_seconds) {
    const TaskPolicy policy = loop_task("* * * * * *", CatchUp::all);
    const TimestampUs now = timestamp("2030-06-15 12:34:56.789+00");
    for (int32_t max_catch_up : {1, 3, 100}) {
        const CatchUpDecision decision =
            chronos::decide_catch_up(policy, now - 30 * kDayUs, now, max_catch_up, kCountingUtc);
        EXPECT_TRUE(decision.run);
        EXPECT_EQ(decision.slot, timestamp("2030-06-15 12:34:56+00") - (max_catch_up - 1) * kSecondUs)
            << "max_catch_up " << max_catch_up;
    }
}

TEST(CatchUpFarBehind, task_due_in_year_2000_costs_no_more_than_one_a_minute_behind) {
    const TimestampUs now = timestamp("2030-06-15 12:34:56.789+00");
    for (CatchUp mode : {CatchUp::skip, CatchUp::once, CatchUp::all}) {
        const TaskPolicy policy = loop_task("* * * * * *", mode);
        offset_lookups = 0;
        chronos::decide_catch_up(policy, now - 60 * kSecondUs, now, 100, kCountingUtc);
        const int64_t near_cost = offset_lookups;
        offset_lookups = 0;
        const CatchUpDecision far =
            chronos::decide_catch_up(policy, timestamp("2000-01-01 00:00:00+00"), now, 100, kCountingUtc);
        // About 2·log2 of the distance per slot looked up: tens of look-ups per slot, where a walk would take ~1e9.
        EXPECT_LT(offset_lookups, 100 * near_cost + 20000) << "catch_up " << static_cast<int>(mode);
        if (mode == CatchUp::skip) {
            EXPECT_FALSE(far.run);
            EXPECT_EQ(far.next_exec_time, timestamp("2030-06-15 12:34:57+00"));
        } else {
            EXPECT_TRUE(far.run);
            EXPECT_GE(far.slot, timestamp("2030-06-15 12:33:17+00"));
            EXPECT_LE(far.slot, now);
        }
    }
}

TEST(CatchUpFarBehind, monthly_fixed_rate_task_decades_behind_serves_its_latest_anchored_slot) {
    const TaskPolicy policy = loop_task("@every 1 month", CatchUp::once, "2001-01-31 10:00:00+00");
    const CatchUpDecision decision = chronos::decide_catch_up(
        policy, timestamp("2001-01-31 10:00:00+00"), timestamp("2030-03-30 11:00:00+00"), 100, system_zone("UTC"));
    EXPECT_TRUE(decision.run);
    // start + k months, clamped to the month's end: March 2030's slot is the 31st, still ahead; February's is the 28th.
    EXPECT_EQ(show(decision.slot, system_zone("UTC")), "2030-02-28 10:00:00+00");
}

TEST(CatchUpFarBehind, rare_cron_task_with_all_serves_the_latest_leap_days) {
    const TaskPolicy policy = loop_task("0 0 29 2 *", CatchUp::all);
    const CatchUpDecision decision = chronos::decide_catch_up(
        policy, timestamp("2004-02-29 00:00:00+00"), timestamp("2030-01-01 00:00:00+00"), 3, system_zone("UTC"));
    EXPECT_TRUE(decision.run);
    EXPECT_EQ(show(decision.slot, system_zone("UTC")), "2020-02-29 00:00:00+00");  // 2020, 2024, 2028
}

TEST(CatchUpFarBehind, choice_matches_a_slot_by_slot_walk_for_random_schedules_zones_and_delays) {
    const char *const schedules[] = {"*/7 * * * *",
                                     "30 2 * * *",
                                     "0 * * * *",
                                     "0 0 L * *",
                                     "0 9 * * 1#2",
                                     "0 18 * * 5L",
                                     "*/20 * * * * *",
                                     "0 30 1 * * *",
                                     "@every 90s",
                                     "@every 1 day",
                                     "every 2 days at 02:30",
                                     "@every 1 month 2 hours"};
    const char *const zones[] = {"UTC", "Europe/Paris", "America/New_York", "Australia/Lord_Howe"};
    std::mt19937_64 random(20261201);
    for (int i = 0; i < 400; i++) {
        const char *schedule = schedules[random() % std::size(schedules)];
        const chronos::TimeZone &zone = system_zone(zones[random() % std::size(zones)]);
        const CatchUp mode = random() % 2 ? CatchUp::once : CatchUp::all;
        TaskPolicy policy = loop_task(schedule, mode, "2026-01-01 00:00:00+00");
        const chronos::Schedule parsed = chronos::parse_schedule(schedule);
        const TimestampUs start = timestamp("2026-02-01 00:00:00+00") + static_cast<int64_t>(random() % (300 * kDayUs));
        const TimestampUs slot = chronos::next_fire(parsed, start, policy.start_time, zone);
        const TimestampUs now = slot + static_cast<int64_t>(random() % (40 * kDayUs));
        const int32_t max_catch_up = 1 + static_cast<int32_t>(random() % 20);
        const CatchUpDecision decision = chronos::decide_catch_up(policy, slot, now, max_catch_up, zone);
        const TimestampUs successor = chronos::next_fire(parsed, slot, policy.start_time, zone);
        ASSERT_TRUE(decision.run);
        if (successor > now) continue;
        EXPECT_EQ(show(decision.slot, zone), show(walked_choice(policy, slot, now, max_catch_up, zone), zone))
            << schedule << " in " << zone.name << ", slot " << show(slot, zone) << ", now " << show(now, zone)
            << ", catch_up " << (mode == CatchUp::once ? "once" : "all") << ", max_catch_up " << max_catch_up;
    }
}
