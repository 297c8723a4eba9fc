// The table of kinds of task (see task_kind.hpp).
#include "pg/kinds/task_kind.hpp"

#include "pg/kinds/sql/sql_check.hpp"
#include "pg/kinds/sql/sql_run.hpp"
#include "pg/kinds/http/http_check.hpp"
#include "pg/kinds/http/http_run.hpp"
#include "pg/kinds/shell/shell_check.hpp"
#include "pg/kinds/shell/shell_run.hpp"

namespace {

const TaskKind kKinds[] = {
    {"sql", check_sql_task, plan_sql_run, run_sql_in_transaction, run_sql_autonomous, NULL, NULL, NULL},
    {"http", check_http_task, plan_http_run, NULL, NULL, start_http_run, stop_http_run, release_http_run},
    {"shell", check_shell_task, plan_shell_run, NULL, NULL, start_shell_run, stop_shell_run, release_shell_run},
};

}  // namespace

const TaskKind *find_task_kind(const char *name) {
    for (const TaskKind &kind : kKinds)
        if (strcmp(kind.name, name) == 0)
            return &kind;
    return NULL;
}

const TaskKind *task_kind_of(const ClaimedTask *task) {
    const TaskKind *kind = task->kind ? find_task_kind(task->kind) : NULL;
    return kind ? kind : &kKinds[0];
}
