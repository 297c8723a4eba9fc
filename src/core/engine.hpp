// The core's entry points for src/pg: plain data in, plain data out, never throws.
// Each function catches every exception and copies its text into a CoreError, so the caller can ereport after returning.
#pragma once
#include "core.hpp"
#include "run_policy.hpp"
#include "time_zone.hpp"

#include <cstddef>

namespace chronos {

struct CoreError {
    // invalid_value: a bad schedule or argument (SQLSTATE 22023); out_of_range: a time outside the supported range or
    // arithmetic that would overflow (22008).
    enum Kind { invalid_value, out_of_range } kind;
    // Texts are cut to their buffers at a UTF-8 character boundary.
    char message[256];  // primary message, lower case, no period
    char detail[512];   // the facts: which field or token, what is allowed
    char hint[256];     // how to fix it, with an example
};

enum class EngineKind { cron, fixed_rate, fixed_delay, every_days };

// Parses `schedule`; on success stores its kind.
bool engine_check_schedule(const char *schedule, EngineKind *kind, CoreError *error) noexcept;

// The next `count` fire times strictly after `after`, ascending, into `out`; `*produced` says how many: fewer than
// `count` when the schedule reaches the end of the supported range (kLatestTaskTimeUs). Fixed-delay schedules are
// previewed as if every run took no time.
bool engine_next_fires(const char *schedule, TimestampUs after, TimestampUs anchor, const TimeZone *zone, int count,
                       TimestampUs *out, int *produced, CoreError *error) noexcept;

// The first fire time at or after `not_before` of a task whose start time is `start` (the anchor of fixed-rate and
// every-N-days schedules). With not_before <= start this is the task's very first run (first_fire in schedule.hpp).
bool engine_first_fire(const char *schedule, TimestampUs start, TimestampUs not_before, const TimeZone *zone,
                       TimestampUs *out, CoreError *error) noexcept;

// The fire time that follows a run: the first strictly after `after` (for fixed-delay schedules, `after` is when the
// run ended), with `start` as the anchor.
bool engine_next_fire(const char *schedule, TimestampUs start, TimestampUs after, const TimeZone *zone,
                      TimestampUs *out, CoreError *error) noexcept;

// A task's state after a regular run (see after_run in run_policy.hpp).
bool engine_after_run(const TaskPolicy *policy, const RunFacts *run, const TimeZone *zone, NextState *out,
                      CoreError *error) noexcept;

// Whether a claimed loop task runs, and for which slot (see decide_catch_up in run_policy.hpp).
bool engine_catch_up(const TaskPolicy *policy, TimestampUs slot, TimestampUs now, int32_t max_catch_up,
                     const TimeZone *zone, CatchUpDecision *out, CoreError *error) noexcept;

// English description into `out` (always NUL-terminated); `*length` receives its full length in bytes. When that is
// `out_size` or more, `out` holds only a prefix: call again with a buffer of at least `*length + 1` bytes.
bool engine_describe(const char *schedule, const char *zone_name, char *out, size_t out_size, size_t *length,
                     CoreError *error) noexcept;

// Copies `from` into `to` (`size` bytes, NUL-terminated), cutting it, when it does not fit, before the UTF-8
// character that would not fit whole.
void copy_utf8_text(char *to, size_t size, const char *from) noexcept;

}  // namespace chronos
