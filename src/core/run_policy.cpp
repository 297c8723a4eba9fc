// Retry, failure, end and catch-up policy (see run_policy.hpp). All times are TimestampTz microseconds.
#include "run_policy.hpp"

#include "schedule.hpp"

#include <algorithm>

namespace chronos {
namespace {

// The regular next run of a loop task after a run of `slot` that ended at `finished`.
TimestampUs regular_next(const Schedule &schedule, const TaskPolicy &policy, const RunFacts &run,
                         const TimeZone &zone) {
    if (schedule.kind == ScheduleKind::fixed_delay || policy.catch_up == CatchUp::skip)
        return next_fire(schedule, run.finished_at, policy.start_time, zone);
    return next_fire(schedule, run.slot, policy.start_time, zone);
}

// The latest fire time at or before `at`, given `known`, a fire time at or before `at`. next_fire(x) (the first fire
// strictly after x) never decreases as x grows, so the answer is the smallest x with next_fire(x) > at: found by
// galloping back from `at` and then bisecting, about 2·log2(distance to that fire) next_fire calls, however far back
// `known` is.
TimestampUs latest_fire_at_or_before(const Schedule &schedule, TimestampUs at, TimestampUs known, TimestampUs anchor,
                                     const TimeZone &zone) {
    TimestampUs high = at;        // next_fire(high) > at
    TimestampUs low = known - 1;  // next_fire(low) <= at
    for (int64_t step = kUsPerSecond; high - low > step; step = checked_mul<int64_t>(step, 2)) {
        const TimestampUs probe = high - step;
        if (next_fire(schedule, probe, anchor, zone) <= at) {
            low = probe;
            break;
        }
        high = probe;
    }
    while (high - low > 1) {
        const TimestampUs middle = low + (high - low) / 2;
        if (next_fire(schedule, middle, anchor, zone) > at)
            high = middle;
        else
            low = middle;
    }
    return high;
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
    // Counters come from the catalog; the trigger keeps them in range, but a row written otherwise must not wrap.
    const int32_t attempt = std::max<int32_t>(run.attempt, 1);
    const int32_t failure_count = std::max<int32_t>(run.failure_count, 0);
    const int64_t run_count = std::max<int64_t>(run.run_count, 0);
    NextState next{NextState::scheduled, false, 0, 1, failure_count, false};
    const bool failed = run.outcome != RunOutcomeKind::succeeded;
    const bool retryable = run.outcome == RunOutcomeKind::failed || run.outcome == RunOutcomeKind::timed_out;

    Schedule schedule;
    TimestampUs regular = 0;
    if (policy.is_loop) {
        schedule = parse_schedule(policy.schedule);
        regular = regular_next(schedule, policy, run, zone);
    }

    if (retryable && attempt <= policy.max_retries && attempt < INT32_MAX) {
        const TimestampUs retry_at =
            checked_add(run.finished_at, retry_backoff(policy.retry_delay_us, attempt, run.jitter));
        if (!policy.is_loop || retry_at < regular) {
            next.has_next = true;
            next.next_exec_time = retry_at;
            next.attempt = attempt + 1;
            return next;
        }
    }

    if (retryable) {
        next.failure_count = failure_count < INT32_MAX ? failure_count + 1 : INT32_MAX;
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
    // A schedule whose next fire time lies beyond the supported range has no run left: the task is done.
    if ((policy.max_runs > 0 && run_count >= policy.max_runs - 1) ||
        (policy.has_end_time && regular > policy.end_time) || regular >= kLatestTaskTimeUs) {
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
            return {true, latest_fire_at_or_before(schedule, now, successor, policy.start_time, zone), 0};
        case CatchUp::all:
            break;
    }
    // `slot` runs if it is among the latest max_catch_up slots due by now: at most that many steps forward tell.
    const int32_t keep = std::max(max_catch_up, 1);
    int32_t due_after_slot = 1;  // successor
    for (TimestampUs at = successor; due_after_slot < keep; due_after_slot++) {
        at = next_fire(schedule, at, policy.start_time, zone);
        if (at > now) return {true, slot, 0};
    }
    // More were missed: serve the keep-th latest due slot, found backwards from now.
    TimestampUs oldest_kept = latest_fire_at_or_before(schedule, now, successor, policy.start_time, zone);
    for (int32_t i = 1; i < keep; i++)
        oldest_kept = latest_fire_at_or_before(schedule, oldest_kept - 1, successor, policy.start_time, zone);
    return {true, oldest_kept, 0};
}

}  // namespace chronos
