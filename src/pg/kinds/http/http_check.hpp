// The http kind's checks: a task's URL, method and headers when written (22023) and its owner's right to call the host
// (42501), and the plan of a run, which checks the right again and prepares the request (http_run.cpp sends it).
#pragma once
#include "pg/postgres.hpp"

#include "pg/kinds/run_output.hpp"
#include "pg/kinds/task_kind.hpp"
#include "pg/kinds/http/http_grants.hpp"

// A URL's parts as libcurl reads it.
struct HttpUrl {
    char scheme[8];   // "http" or "https"
    char host[256];   // a name, an IPv4 address, or an IPv6 address in brackets
    long port;
};

// Reads `url`; false, with the reason in `why`, unless it is an absolute http or https URL with a host.
bool parse_http_url(const char *url, HttpUrl *out, char *why, int why_size);

// Everything a run sends, prepared before it (all in the run's memory context).
struct HttpRequest {
    const char *url;
    HttpUrl target;
    const char *method;      // GET, POST, PUT, PATCH, DELETE or HEAD
    char **header_lines;     // "Name: value", the task's headers then pg_chronos's
    int header_count;
    int own_header_count;    // how many of header_lines are the task's (dropped on a redirect to another host)
    const char *body;        // NULL: none
    HttpGrants grants;
    RunOutput output;
    int64 timeout_ms;        // the run's timeout (0: none), a backstop beside the run's own cancel
};

void check_http_task(const TaskWrite *row);
bool plan_http_run(const ClaimedTask *task, RunPlan *plan, RunOutcome *failure);
