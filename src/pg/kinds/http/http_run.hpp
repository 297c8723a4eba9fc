// The http kind's runs, in flight together on one libcurl multi handle per executor: each request plan_http_run
// prepared is sent as the task's owner may send it (every connection's address checked against the owner's grants,
// every redirect's host too, at most 5 redirects, http and https only, certificates verified); its status and the
// start of its body are kept. kinds/async_runs.cpp drives them with the shell kind's runs.
#pragma once
#include "pg/postgres.hpp"

#include "pg/kinds/task_kind.hpp"

#include <curl/curl.h>

// TaskKind entries of the http kind. A run succeeds on a 2xx status; otherwise it fails with "HTTP 503 Service
// Unavailable", or with what kept the request from an answer (a refused address, DNS, TLS, the connection).
AsyncRun *start_http_run(const ClaimedTask *task, const RunPlan *plan, MemoryContext context, RunOutcome *failure);
void stop_http_run(AsyncRun *run);
void release_http_run(AsyncRun *run);

// Waits up to `timeout_ms` for any request's socket, or any of `extra` (the shell runs' descriptors), to be ready.
void poll_http_runs(struct curl_waitfd *extra, int extra_count, int timeout_ms);
// Moves every request on, and marks those that ended done.
void advance_http_runs(void);
