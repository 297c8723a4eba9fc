// Restoring a dump (restore_copy.cpp): a superuser's COPY FROM into chronos.tasks, chronos.runs or chronos.listeners
// goes to the table's restore view (src/sql/pg_chronos--1.0--1.1.sql), so that a row whose owner role is missing is set aside in
// chronos.unowned_rows instead of failing the whole COPY. Called from the ProcessUtility hook (utility_hook.cpp).
#pragma once
#include "pg/postgres.hpp"

extern "C" {
#include "nodes/plannodes.h"
}

// True while restored rows are being inserted (a redirected COPY, chronos.restore_unowned_rows()): the task trigger
// then accepts them as they were dumped, a task in status 'running' included (recovery marks it interrupted).
extern bool restoring_rows;

// The statement to run instead of `pstmt` when it is a superuser's COPY FROM into one of the owned tables (a copy of
// it whose target is the restore view); NULL otherwise.
PlannedStmt *redirected_restore_copy(PlannedStmt *pstmt);
// Around the redirected COPY: begin_restore_copy() before it; end_restore_copy() after it succeeded, which gives one
// WARNING per missing role with the count of its rows set aside. restoring_rows is cleared by abandon_restore_copy()
// whatever happened.
void begin_restore_copy(void);
void end_restore_copy(void);
void abandon_restore_copy(void);
// Registers the transaction callback that, when restored rows commit, has the database's executors look for runs left
// 'running' (restored ones among them) and record them as interrupted.
void register_restore_callback(void);
