// chronos.import_pg_cron() (pg_cron_functions.cpp): the only writer of chronos.tasks.pg_cron_job, the mark by which an
// import knows the tasks it made. The task trigger (task_trigger.cpp) refuses the mark from anyone else.
#pragma once
#include "pg/postgres.hpp"

// True while chronos.import_pg_cron() runs the import (chronos.import_pg_cron_jobs(), with the caller's rights).
extern bool importing_pg_cron;
