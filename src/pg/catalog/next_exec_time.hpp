// next_exec_time of a loop task, from its schedule, time zone and start time: the trigger computes the first one when a
// row is written, the workers the following one after each run. Never raises an error: failures come back as a CoreError.
#pragma once
#include "core/engine.hpp"
#include "pg/postgres.hpp"

extern "C" {
#include "datatype/timestamp.h"
}

// The first fire time at or after `not_before` (the task's first run, or its run after a resume).
bool compute_first_exec_time(const char *schedule, const char *timezone, TimestampTz start, TimestampTz not_before,
                             TimestampTz *out, chronos::CoreError *error);

// The fire time after a run that ended at `after`.
bool compute_next_exec_time(const char *schedule, const char *timezone, TimestampTz start, TimestampTz after,
                            TimestampTz *out, chronos::CoreError *error);
