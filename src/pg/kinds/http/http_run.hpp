// The http kind's run: the request plan_http_run prepared, sent with libcurl as the task's owner may send it (every
// connection's address checked against the owner's grants, every redirect's host too, at most 5 redirects, http and
// https only, certificates verified), its status and the start of its body kept, its timeout and chronos.cancel()
// obeyed within 50 ms.
#pragma once
#include "pg/postgres.hpp"

#include "pg/kinds/task_kind.hpp"

// TaskKind.run_autonomous of the http kind: succeeded on a 2xx status; otherwise failed with "HTTP 503 Service
// Unavailable", or what kept the request from an answer (refused address, DNS, TLS, connection).
void run_http(const ClaimedTask *task, const RunPlan *plan, Oid owner, bool owner_is_superuser, RunOutcome *out);
