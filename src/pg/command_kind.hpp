// What a task's command is made of, from PostgreSQL's raw parser: whether it can run inside one transaction with its
// bookkeeping (transactional) or needs top-level execution (VACUUM, CREATE INDEX CONCURRENTLY, CALL, COMMIT…), and the
// command tag of its last statement. Parsing raises the usual syntax error, so it also validates commands when written.
#pragma once
#include "postgres.hpp"

struct CommandKind {
    int statements;
    bool needs_top_level;          // some statement cannot run inside a transaction block
    const char *top_level_reason;  // the first such statement's command tag
    const char *last_tag;          // command tag of the last statement
};

// Parses `command` (ERROR on a syntax error) and classifies it.
CommandKind classify_command(const char *command);

// Classifies without parsing a command that is one plain SELECT / INSERT / UPDATE / DELETE / MERGE / WITH / VALUES /
// TABLE statement (no semicolon but a last one, no comment): it runs in a transaction. Returns false when the command
// needs the full parse. last_tag is left NULL when the first keyword does not give it (WITH).
bool classify_plain_statement(const char *command, CommandKind *kind);
