// The table of kinds of task (see task_kind.hpp).
#include "pg/kinds/task_kind.hpp"

#include "pg/kinds/sql/sql_check.hpp"
#include "pg/kinds/sql/sql_run.hpp"

namespace {

const TaskKind kKinds[] = {
    {"sql", check_sql_command, plan_sql_run, run_sql_in_transaction, run_sql_autonomous},
};

}  // namespace

const TaskKind *find_task_kind(const char *name) {
    for (const TaskKind &kind : kKinds)
        if (strcmp(kind.name, name) == 0)
            return &kind;
    return NULL;
}

const TaskKind *task_kind_of(const ClaimedTask *) {
    return &kKinds[0];
}
