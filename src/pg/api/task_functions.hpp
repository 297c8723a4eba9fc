// Looking up a task by name among the caller's own (task_functions.cpp), for previewing its next runs
// (chronos.next_runs(task_name, count), schedule_functions.cpp).
#pragma once
#include "pg/postgres.hpp"

constexpr int kMaxPreviewCount = 10000;

// Fills up to `count` next runs of the task called `name` into `fires`: its next_exec_time, then its schedule's fire
// times, within end_time and max_runs. Raises 42704 if no visible task has that name.
int preview_task_runs(const char *name, int count, chronos::TimestampUs *fires);

// Whether a task the caller can see is called `name`.
bool task_name_exists(const char *name);
