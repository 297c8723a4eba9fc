// Role commands seen through the ProcessUtility hook (utility_hook.cpp): DROP ROLE is refused while a role owns tasks
// or listeners in this database; REASSIGN OWNED and DROP OWNED also move or delete them. Owners are bound by OID.
#pragma once
#include "pg/postgres.hpp"

extern "C" {
#include "nodes/parsenodes.h"
}

// What a role command needs to remember from before PostgreSQL runs it: the roles DROP ROLE names that exist.
struct RoleCommand {
    int count;
    Oid *roles;
    char **names;
};

// Whether `stmt` is DROP ROLE, REASSIGN OWNED or DROP OWNED; if so, fills `before` (before the command runs).
bool begin_role_command(Node *stmt, RoleCommand *before);
// After PostgreSQL ran the command successfully, in the same transaction: refuses DROP ROLE of an owner of tasks or
// listeners here (2BP01), or reassigns / deletes the tasks and listeners of the roles REASSIGN / DROP OWNED names.
void finish_role_command(Node *stmt, const RoleCommand *before);
