// The library's entry: PostgreSQL's magic block and _PG_init, which defines the GUCs, reserves shared memory, registers
// the launcher and installs the hooks. Loaded from shared_preload_libraries; loaded otherwise (by a backend of a server
// restarted without it), the SQL functions work but no worker runs, and CREATE EXTENSION is refused
// (scheduler_functions.cpp).
#include "pg/kinds/kind_settings.hpp"
#include "pg/settings.hpp"
#include "pg/workers/shared_memory.hpp"
#include "pg/catalog/task_wake.hpp"
#include "pg/utility/utility_hook.hpp"

extern "C" {
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "postmaster/postmaster.h"
#include "storage/ipc.h"
#include "utils/guc.h"
}

extern "C" {
PG_MODULE_MAGIC;
PGDLLEXPORT void _PG_init(void);
}

bool chronos_enabled = true;
int chronos_max_workers = 4;
int chronos_max_databases = 1024;
int chronos_default_timeout_ms = 0;
int chronos_max_catch_up = 100;
int chronos_history_retention_s = 14 * 24 * 3600;
int chronos_max_result_size = 1024;
int chronos_max_payload_size = 1024 * 1024;
int chronos_log_runs = LOG_RUNS_ALL;
int chronos_max_crashes = 3;
int chronos_max_runs_per_owner = -1;
bool chronos_log_successful_runs = false;
int chronos_log_min_duration_ms = -1;


namespace {

#if PG_VERSION_NUM >= 150000
shmem_request_hook_type previous_shmem_request_hook = NULL;
#endif
shmem_startup_hook_type previous_shmem_startup_hook = NULL;

void request_shmem(void) {
#if PG_VERSION_NUM >= 150000
    if (previous_shmem_request_hook)
        previous_shmem_request_hook();
#endif
    request_shared_state();
}

void startup_shmem(void) {
    if (previous_shmem_startup_hook)
        previous_shmem_startup_hook();
    init_shared_state();
}

// Fair share between owners.
void define_fairness_settings(void) {
    DefineCustomIntVariable("chronos.max_runs_per_owner",
                            "Most runs of one owner's tasks in progress at once, across all databases.",
                            "Due tasks of an owner at the cap wait; other owners' tasks run meanwhile. -1 (the "
                            "default): one less than chronos.max_workers, so that one role's runs always leave a "
                            "permit to the others; 0: no cap.",
                            &chronos_max_runs_per_owner, -1, -1, 1024, PGC_SIGHUP, 0, NULL, NULL, NULL);
}

}  // namespace

void define_run_log_settings(void) {
    DefineCustomBoolVariable("chronos.log_successful_runs", "Whether every successful run writes a line to the server log.",
                             "Runs that end other than succeeded always do.", &chronos_log_successful_runs, false,
                             PGC_SIGHUP, 0, NULL, NULL, NULL);
    DefineCustomIntVariable("chronos.log_min_duration",
                            "Successful runs that take at least this long write a line to the server log (-1: none).",
                            "0 logs every successful run. Runs that end other than succeeded are always logged.",
                            &chronos_log_min_duration_ms, -1, -1, INT_MAX, PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);
}

namespace {

void define_settings(void) {
    DefineCustomBoolVariable("chronos.enabled", "Whether pg_chronos workers run due tasks.",
                             "While off, tasks stay due and run once it is turned back on.", &chronos_enabled, true,
                             PGC_SIGHUP, 0, NULL, NULL, NULL);
    DefineCustomIntVariable("chronos.max_workers", "Most task runs in progress at once, across all databases.",
                            "Each run takes a background worker: keep it below max_worker_processes.",
                            &chronos_max_workers, 4, 1, 1024, PGC_SIGHUP, 0, NULL, NULL, NULL);
    DefineCustomIntVariable("chronos.default_timeout", "Timeout of runs of tasks whose timeout is NULL (0: none).",
                            "A run still going after it is cancelled and recorded as timed_out.",
                            &chronos_default_timeout_ms, 0, 0, INT_MAX, PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);
    DefineCustomIntVariable("chronos.max_catch_up", "Most missed slots a task with catch_up = 'all' runs.",
                            "When more slots were missed, the latest ones run.", &chronos_max_catch_up, 100, 1,
                            1000000, PGC_SIGHUP, 0, NULL, NULL, NULL);
    DefineCustomIntVariable("chronos.history_retention", "How long runs are kept in chronos.runs (0: forever).",
                            "The workers delete older runs in small batches.", &chronos_history_retention_s,
                            14 * 24 * 3600, 0, INT_MAX, PGC_SIGHUP, GUC_UNIT_S, NULL, NULL, NULL);
    DefineCustomIntVariable("chronos.max_result_size", "Bytes of a run's result text kept in chronos.runs.",
                            "The command tag, rows affected and the first rows of the last statement's output.",
                            &chronos_max_result_size, 1024, 0, 1024 * 1024, PGC_SIGHUP, GUC_UNIT_BYTE, NULL, NULL,
                            NULL);
    DefineCustomIntVariable("chronos.max_payload_size", "Most bytes of a task's payload (jsonb).",
                            "A larger payload is refused when the task is written; it is bound to $1 of every run.",
                            &chronos_max_payload_size, 1024 * 1024, 1024, 1024 * 1024 * 1024 - 1, PGC_SIGHUP, GUC_UNIT_BYTE,
                            NULL, NULL, NULL);
    static const struct config_enum_entry log_runs_options[] = {
        {"all", LOG_RUNS_ALL, false}, {"failures", LOG_RUNS_FAILURES, false}, {NULL, 0, false}};
    DefineCustomEnumVariable("chronos.log_runs", "Which runs are kept in chronos.runs: all, or failures.",
                             "Successful runs still update their task's last_* columns.", &chronos_log_runs,
                             LOG_RUNS_ALL, log_runs_options, PGC_SIGHUP, 0, NULL, NULL, NULL);
    DefineCustomIntVariable("chronos.max_crashes",
                            "Consecutive runs of a task that end their worker before the task is quarantined.",
                            "A run ends its worker by a FATAL error, a termination, a crash or an out-of-memory kill; "
                            "a quarantined task is failed until a user sets it scheduled again.",
                            &chronos_max_crashes, 3, 1, 1000, PGC_SIGHUP, 0, NULL, NULL, NULL);
    define_fairness_settings();
    define_run_log_settings();
    define_kind_settings();
}

void register_launcher(void) {
    BackgroundWorker worker;
    memset(&worker, 0, sizeof worker);
    worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
    worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
    worker.bgw_restart_time = 5;
    snprintf(worker.bgw_library_name, BGW_MAXLEN, "pg_chronos");
    snprintf(worker.bgw_function_name, BGW_MAXLEN, "chronos_launcher_main");
    snprintf(worker.bgw_name, BGW_MAXLEN, "pg_chronos launcher");
    snprintf(worker.bgw_type, BGW_MAXLEN, "pg_chronos launcher");
    RegisterBackgroundWorker(&worker);
}

}  // namespace

extern "C" void _PG_init(void) {
    define_settings();
    // Sizes shared memory: only when preloaded (a library loaded later may not define a postmaster setting).
    if (process_shared_preload_libraries_in_progress)
        DefineCustomIntVariable("chronos.max_databases", "Most databases with pg_chronos the launcher serves.",
                                "Each takes about 200 bytes of shared memory; databases without the extension take "
                                "none.",
                                &chronos_max_databases, 1024, 16, 65536, PGC_POSTMASTER, 0, NULL, NULL, NULL);
#if PG_VERSION_NUM >= 150000
    MarkGUCPrefixReserved("chronos");
#endif
    if (!process_shared_preload_libraries_in_progress)
        return;
#if PG_VERSION_NUM >= 150000
    previous_shmem_request_hook = shmem_request_hook;
    shmem_request_hook = request_shmem;
#else
    request_shmem();
#endif
    previous_shmem_startup_hook = shmem_startup_hook;
    shmem_startup_hook = startup_shmem;
    // pg_upgrade starts both clusters in binary-upgrade mode: no task may run while it dumps or restores them.
    if (!IsBinaryUpgrade)
        register_launcher();
    register_task_wake_callback();
    install_utility_hook();
}
