// pg_chronos's GUCs (defined in module.cpp; documented in the README).
#pragma once
#include "pg/postgres.hpp"

// The version of the extension's catalog (pg_chronos.control's default_version) this library serves; a database whose
// catalog has another version is not served until ALTER EXTENSION pg_chronos UPDATE.
constexpr const char *kCatalogVersion = "1.2";

extern bool chronos_enabled;      // chronos.enabled: workers claim tasks only while true
extern int chronos_max_workers;   // chronos.max_workers: runs in progress at once, cluster-wide
extern int chronos_max_databases; // chronos.max_databases: databases with the extension the launcher keeps track of
extern int chronos_default_timeout_ms;   // chronos.default_timeout: for tasks whose timeout is NULL; 0: none
extern int chronos_max_catch_up;         // chronos.max_catch_up: most missed slots a catch_up = 'all' task runs
extern int chronos_history_retention_s;  // chronos.history_retention: runs older than this are deleted; 0: kept
extern int chronos_max_result_size;      // chronos.max_result_size: bytes of result text kept per run
extern int chronos_max_payload_size;     // chronos.max_payload_size: bytes of a task's payload, checked when written

enum LogRuns { LOG_RUNS_ALL, LOG_RUNS_FAILURES };
extern int chronos_log_runs;             // chronos.log_runs: all, or failures only
extern int chronos_max_crashes;          // chronos.max_crashes: consecutive runs that end their worker before quarantine

// Fair share between owners (claim.cpp).
extern int chronos_max_runs_per_owner;   // chronos.max_runs_per_owner: runs of one owner at once, cluster-wide; 0: no cap
// The cap in force: chronos.max_runs_per_owner, or for -1 (the default) one less than chronos.max_workers (at least 1),
// so that one role's long runs always leave a run permit to the others. 0: no cap.
inline int owner_run_cap(void) {
    return chronos_max_runs_per_owner >= 0 ? chronos_max_runs_per_owner : Max(chronos_max_workers - 1, 1);
}

// The server log lines of runs (run_log.cpp); a run that ends other than succeeded is always logged.
extern bool chronos_log_successful_runs;  // chronos.log_successful_runs: a line for every successful run too
extern int chronos_log_min_duration_ms;   // chronos.log_min_duration: a line for a successful run this slow; -1: off
// Defines chronos.log_successful_runs and chronos.log_min_duration (module.cpp).
void define_run_log_settings(void);
