// The event loop of the runs that wait outside the executor's step (TaskKind.start_async: http and shell): one wait
// over every request's socket and every child's descriptors, then each kind moves its runs on. Called by
// run/in_flight.cpp between the executor's steps and while it would otherwise sleep.
#pragma once
#include "pg/postgres.hpp"

extern "C" {
#include "datatype/timestamp.h"
}

// Waits at most `wait_ms` (0: not at all) for a run's descriptor, then moves every run on; runs that ended are marked
// done. Returns when one must be looked at again whatever its descriptors do (a kill due), or DT_NOEND.
TimestampTz advance_async_runs(int wait_ms);
