// The library's entry: PostgreSQL's magic block and _PG_init, which defines the GUCs, reserves shared memory, registers
// the launcher and installs the hooks. Loaded from shared_preload_libraries; loaded otherwise (CREATE EXTENSION without
// preloading), the SQL functions work but no worker runs.
#include "settings.hpp"
#include "shared_state.hpp"

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

void register_task_wake_callback(void);
void install_database_events_hook(void);

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

void define_settings(void) {
    DefineCustomBoolVariable("chronos.enabled", "Whether pg_chronos workers run due tasks.",
                             "While off, tasks stay due and run once it is turned back on.", &chronos_enabled, true,
                             PGC_SIGHUP, 0, NULL, NULL, NULL);
    DefineCustomIntVariable("chronos.max_workers", "Most task runs in progress at once, across all databases.",
                            "Each run takes a background worker: keep it below max_worker_processes.",
                            &chronos_max_workers, 4, 1, 1024, PGC_SIGHUP, 0, NULL, NULL, NULL);
#if PG_VERSION_NUM >= 150000
    MarkGUCPrefixReserved("chronos");
#endif
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
    register_launcher();
    register_task_wake_callback();
    install_database_events_hook();
}
