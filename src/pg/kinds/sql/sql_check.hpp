// What a task's command is made of, from PostgreSQL's raw parser: whether it can run inside one transaction with its
// bookkeeping (transactional) or needs top-level execution (VACUUM, CREATE INDEX CONCURRENTLY, CALL...), whether it
// holds transaction control (refused), and the command tag of its last statement. Parsing raises the usual syntax
// error, so it also validates commands when written.
#pragma once
#include "pg/postgres.hpp"

#include "pg/kinds/task_kind.hpp"

struct CommandKind {
    int statements;
    bool needs_top_level;          // some statement cannot run inside a transaction block
    const char *top_level_reason;  // the first such statement's command tag
    const char *last_tag;          // command tag of the last statement
    // Some statement is transaction control (BEGIN, START TRANSACTION, COMMIT, END, ROLLBACK, ABORT, SAVEPOINT,
    // RELEASE, ROLLBACK TO, PREPARE TRANSACTION, COMMIT PREPARED, ROLLBACK PREPARED): a task may not run it, because
    // the worker owns the transaction (the trigger refuses it when written; the run path refuses it too, for rows
    // written before 1.1 or with the trigger disabled). CALL of a procedure that commits is not transaction control.
    bool transaction_control;
    const char *transaction_control_tag;  // the first such statement as written, e.g. "END" or "ROLLBACK TO SAVEPOINT"
};

// Parses `command` (ERROR on a syntax error) and classifies it. A command with a backslash is also read with the other
// setting of standard_conforming_strings: transaction control or a top-level statement found in either reading counts,
// so that a writer's or an owner's setting cannot hide one from the check.
CommandKind classify_command(const char *command);

// The 0A000 error refusing a command with transaction control: `column` is "command" or "on_failure".
pg_attribute_noreturn() void refuse_transaction_control(const char *column, const CommandKind *kind);

// The same refusal as a run's error text, palloc'd ("0A000: task command cannot use COMMIT; put the statements in a
// procedure that uses COMMIT and CALL it"), for the run path to record instead of running such a command.
char *transaction_control_refusal(const char *column, const CommandKind *kind);

// Classifies without parsing a command that is one plain SELECT / INSERT / UPDATE / DELETE / MERGE / WITH / VALUES /
// TABLE statement (no semicolon but a last one, no comment): it runs in a transaction. Returns false when the command
// needs the full parse. last_tag is left NULL when the first keyword does not give it (WITH).
bool classify_plain_statement(const char *command, CommandKind *kind);

// The sql kind's entries of TaskKind (kinds/task_kind.hpp): the check of a command when written (a syntax error, an
// empty command, transaction control, a top-level statement with transactional = true are refused), and the plan of
// a run (transactional unless the command needs top-level execution or the task says otherwise).
void check_sql_command(const char *column, const char *command, const char *transactional);
void check_sql_task(const TaskWrite *row);
bool plan_sql_run(const ClaimedTask *task, RunPlan *plan, RunOutcome *failure);
