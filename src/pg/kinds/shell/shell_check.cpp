// The shell kind's checks and plan (see shell_check.hpp).
#include "pg/kinds/shell/shell_check.hpp"

#include "pg/kinds/kind_settings.hpp"

#include <ctime>
#include <pwd.h>
#include <unistd.h>

extern "C" {
#include "catalog/pg_authid_d.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
}

namespace {

bool may_run_programs(Oid owner) {
    return superuser_arg(owner) || has_privs_of_role(owner, ROLE_PG_EXECUTE_SERVER_PROGRAM);
}

// An instant as ISO 8601 in UTC with microseconds: 2026-12-07T18:00:00.000000Z.
char *utc_text(TimestampTz t) {
    int64 unix_us = t + (int64)(POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY;
    time_t seconds = (time_t)(unix_us >= 0 ? unix_us / USECS_PER_SEC : (unix_us - USECS_PER_SEC + 1) / USECS_PER_SEC);
    int64 micros = unix_us - (int64)seconds * USECS_PER_SEC;
    struct tm parts;
    gmtime_r(&seconds, &parts);
    char text[64];
    strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &parts);
    return psprintf("%s.%06dZ", text, (int)micros);
}

}  // namespace

void check_shell_task(const TaskWrite *row) {
    const char *p = row->command;
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    if (*p == '\0')
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("task command is empty"),
                        errhint("Give a shell command line, for example 'pg_dump -Fc mydb > /backups/mydb.dump'.")));
    if (row->transactional != NULL && strcmp(row->transactional, "t") == 0)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("invalid shell task transactional \"true\""),
                        errdetail("A shell command is not part of a transaction: it runs on its own."),
                        errhint("Leave transactional NULL.")));
    if (!may_run_programs(row->owner)) {
        char *role = GetUserNameFromId(row->owner, false);
        ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                        errmsg("permission denied to run shell commands as role \"%s\"", role),
                        errdetail("A shell task runs as the server's operating-system user, which can read every file "
                                  "of the cluster: only superusers and members of pg_execute_server_program own one."),
                        errhint("A superuser who trusts role %s with that runs: GRANT pg_execute_server_program TO %s;",
                                quote_identifier(role), quote_identifier(role))));
    }
}

bool plan_shell_run(const ClaimedTask *task, RunPlan *plan, RunOutcome *failure) {
    plan->transactional = false;
    plan->last_tag = NULL;
    plan->detail = NULL;
    *failure = {false, NULL, NULL};
    if (!may_run_programs(task->owner)) {
        char *role = GetUserNameFromId(task->owner, true);
        failure->error = psprintf("42501: permission denied to run shell commands as role \"%s\": it is not a "
                                  "superuser or a member of pg_execute_server_program",
                                  role ? role : "(dropped)");
        return false;
    }
    ShellCommand *shell = (ShellCommand *)palloc0(sizeof(ShellCommand));
    // Everything the run uses is copied into the plan's memory context: the run outlives the claim's.
    shell->command = pstrdup(task->command);
    shell->directory = chronos_shell_directory && chronos_shell_directory[0] ? pstrdup(chronos_shell_directory)
                                                                             : pstrdup(DataDir);
    shell->input = task->payload ? pstrdup(task->payload) : NULL;
    static char *home = NULL;  // the OS user's home directory, looked up once
    if (home == NULL) {
        struct passwd *user = getpwuid(geteuid());
        home = MemoryContextStrdup(TopMemoryContext, user && user->pw_dir ? user->pw_dir : "/");
    }
    const char *lang = getenv("LANG");
    char **env = (char **)palloc0(sizeof(char *) * 8);
    int n = 0;
    env[n++] = pstrdup("PATH=/usr/local/bin:/usr/bin:/bin");
    env[n++] = psprintf("HOME=%s", home);
    env[n++] = psprintf("LANG=%s", lang && lang[0] ? lang : "C.UTF-8");
    env[n++] = psprintf("CHRONOS_TASK=%s", task->name ? task->name : "");
    env[n++] = psprintf("CHRONOS_TASK_ID=" INT64_FORMAT, task->id);
    env[n++] = pstrdup("CHRONOS_RUN_ID=");  // set by the run path once the run has its row (run_shell)
    env[n++] = psprintf("CHRONOS_SCHEDULED_FOR=%s", utc_text(task->scheduled_for));
    env[n] = NULL;
    shell->environment = env;
    init_run_output(&shell->output);
    plan->detail = shell;
    return true;
}
