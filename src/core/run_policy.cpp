// Retry, failure, end and catch-up policy (see run_policy.hpp). All times are TimestampTz microseconds.
#include "run_policy.hpp"

#include "schedule.hpp"

#include <algorithm>
#include <deque>

namespace chronos {
namespace {

// Most slots walked to find the latest missed one (a one-second schedule missed for 11 days); beyond it, the walk stops.
constexpr int64_t kMaxSlotsWalked = 1000000;

// The regular next run of a loop task after a run of `slot` that ended at `finished`.
TimestampUs regular_next(const Schedule &schedule, const TaskPolicy &policy, const RunFacts &run,
                         const TimeZone &zone) {
    if (schedule.kind == ScheduleKind::fixed_delay || policy.catch_up == CatchUp::skip)
        return next_fire(schedule, run.finished_at, policy.start_time, zone);
    return next_fire(schedule, run.slot, policy.start_time, zone);
}

}  // namespace

int64_t retry_backoff(int64_t retry_delay_us, int32_t attempt, uint64_t jitter) {
    const int64_t cap = std::max(retry_delay_us, kMaxRetryBackoffUs);
    int64_t delay = retry_delay_us;
    for (int32_t i = 1; i < attempt && delay < cap; i++) delay = delay > cap / 2 ? cap : delay * 2;
    delay = std::min(delay, cap);
    // jitter in [-10 %, +10 %]
    const int64_t spread = delay / 10;
    if (spread > 0) delay += static_cast<int64_t>(jitter % static_cast<uint64_t>(2 * spread + 1)) - spread;
    return std::max<int64_t>(delay, 1);
}

NextState after_run(const TaskPolicy &policy, const RunFacts &run, const TimeZone &zone) {
    NextState next{NextState::scheduled, false, 0, 1, run.failure_count, false};
    const bool failed = run.outcome != RunOutcomeKind::succeeded;
    const bool retryable = run.outcome == RunOutcomeKind::failed || run.outcome == RunOutcomeKind::timed_out;

    Schedule schedule;
    TimestampUs regular = 0;
    if (policy.is_loop) {
        schedule = parse_schedule(policy.schedule);
        regular = regular_next(schedule, policy, run, zone);
    }

    if (retryable && run.attempt <= policy.max_retries) {
        const TimestampUs retry_at = run.finished_at + retry_backoff(policy.retry_delay_us, run.attempt, run.jitter);
        if (!policy.is_loop || retry_at < regular) {
            next.has_next = true;
            next.next_exec_time = retry_at;
            next.attempt = run.attempt + 1;
            return next;
        }
    }

    if (retryable) {
        next.failure_count = run.failure_count + 1;
        next.finally_failed = true;
    } else if (!failed) {
        next.failure_count = 0;
    }

    if (!policy.is_loop) {
        next.status = failed ? NextState::failed : NextState::done;
        return next;
    }
    if (policy.max_failures > 0 && next.failure_count >= policy.max_failures) {
        next.status = NextState::failed;
        return next;
    }
    if ((policy.max_runs > 0 && run.run_count + 1 >= policy.max_runs) ||
        (policy.has_end_time && regular > policy.end_time)) {
        next.status = NextState::done;
        return next;
    }
    next.has_next = true;
    next.next_exec_time = regular;
    return next;
}

CatchUpDecision decide_catch_up(const TaskPolicy &policy, TimestampUs slot, TimestampUs now, int32_t max_catch_up,
                                const TimeZone &zone) {
    const Schedule schedule = parse_schedule(policy.schedule);
    if (schedule.kind == ScheduleKind::fixed_delay) return {true, slot, 0};
    TimestampUs successor = next_fire(schedule, slot, policy.start_time, zone);
    if (successor > now) return {true, slot, 0};

    switch (policy.catch_up) {
        case CatchUp::skip:
            return {false, 0, next_fire(schedule, now, policy.start_time, zone)};
        case CatchUp::once:
        case CatchUp::all:
            break;
    }
    // Walk the missed slots, keeping the latest `keep` of them.
    const size_t keep = policy.catch_up == CatchUp::once ? 1 : static_cast<size_t>(std::max(max_catch_up, 1));
    std::deque<TimestampUs> latest{slot};
    for (int64_t walked = 0; successor <= now && walked < kMaxSlotsWalked; walked++) {
        latest.push_back(successor);
        if (latest.size() > keep) latest.pop_front();
        successor = next_fire(schedule, successor, policy.start_time, zone);
    }
    return {true, latest.front(), 0};
}

}  // namespace chronos
