// Waking the executors when a transaction that scheduled tasks commits: the validation trigger (task_trigger.cpp)
// notes the earliest next_exec_time the transaction wrote and whether it asked for a manual run; at commit the
// database's watcher is woken if it would sleep past that time, or an executor is started (workers/database_table.cpp).
#pragma once
#include "pg/postgres.hpp"

extern "C" {
#include "datatype/timestamp.h"
}

// Registers the transaction callback (module.cpp, once per process).
void register_task_wake_callback(void);
// This transaction scheduled a task due at `due`.
void note_task_due(TimestampTz due);
// This transaction asked for a manual run (chronos.run_now()): due now.
void note_manual_run(void);
