// What happens to a task after a run, and whether a late loop task runs at all: retries with exponential backoff,
// max_failures, max_runs, end_time, and the catch-up policies for missed slots. Pure computation; the worker feeds it the
// task's settings and the run's facts and writes back the result.
#pragma once
#include "core.hpp"
#include "time_zone.hpp"

namespace chronos {

enum class CatchUp { skip, once, all };
enum class RunOutcomeKind { succeeded, failed, timed_out, cancelled };

struct TaskPolicy {
    bool is_loop;
    const char *schedule;       // loop tasks only
    TimestampUs start_time;     // anchor of fixed-rate and every-N-days schedules
    CatchUp catch_up;
    int32_t max_retries;        // >= 0
    int64_t retry_delay_us;     // > 0: the first retry's delay; doubled for each further attempt
    int32_t max_failures;       // <= 0: never fail a loop task for its failures
    int64_t max_runs;           // <= 0: no limit
    bool has_end_time;
    TimestampUs end_time;
};

struct RunFacts {
    TimestampUs slot;           // the due time the run served
    TimestampUs finished_at;
    int32_t attempt;            // 1 for the first attempt at a slot
    int32_t failure_count;      // consecutive failed slots before this run
    int64_t run_count;          // runs before this one
    RunOutcomeKind outcome;
    uint64_t jitter;            // random bits: retries of many tasks do not move in lock-step
};

struct NextState {
    enum Status { scheduled, done, failed } status;
    bool has_next;
    TimestampUs next_exec_time;
    int32_t attempt;            // attempt number of the next run
    int32_t failure_count;
    bool finally_failed;        // the slot failed and has no retry left: on_failure applies
};

// The longest a retry waits, unless retry_delay itself is longer.
constexpr int64_t kMaxRetryBackoffUs = 3600 * kUsPerSecond;

// The delay before retry number `attempt` (1-based): retry_delay · 2^(attempt-1), capped, ±10 % jitter.
int64_t retry_backoff(int64_t retry_delay_us, int32_t attempt, uint64_t jitter);

// The task's state after a regular run (not a manual one). Throws ScheduleError for an unparsable schedule.
NextState after_run(const TaskPolicy &policy, const RunFacts &run, const TimeZone &zone);

// For a loop task claimed at `now` for slot `slot`: whether it runs, and which slot the run serves. A slot is missed when
// the slot after it is already due; then `skip` runs nothing (next_exec_time moves to the first future slot), `once` runs
// once for the latest due slot, `all` runs every missed slot in turn, at most `max_catch_up` of them (the latest ones).
struct CatchUpDecision {
    bool run;
    TimestampUs slot;            // run: the slot the run serves
    TimestampUs next_exec_time;  // !run: where next_exec_time moves
};
CatchUpDecision decide_catch_up(const TaskPolicy &policy, TimestampUs slot, TimestampUs now, int32_t max_catch_up,
                                const TimeZone &zone);

}  // namespace chronos
