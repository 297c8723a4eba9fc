// The settings of an executor's session, and of the runs in it. The executor itself works with the server's settings
// only (postgresql.conf and the command line): the values stored by ALTER DATABASE … SET and ALTER ROLE … SET, which a
// database owner may choose for its database, are undone once it has connected, so that no stored value (role,
// session_authorization, read-only transactions, exit_on_error, …) can break its bookkeeping or make it exit. A run
// gets the stored values its owner's login would get (executor_worker.cpp calls the first two, sql_run.cpp the third).
#pragma once
#include "pg/postgres.hpp"

// Makes the worker refuse exit_on_error = on from any source but its own (PostgreSQL's table of settings is this
// process's own copy): a run's error ends the run, never the worker. Called once, before connecting.
void pin_worker_settings(void);

// Remembers the server's settings. Called before the executor connects to its database.
void capture_server_settings(void);

// After connecting: every setting whose value came from pg_db_role_setting gets the server's value back, and the few
// settings the bookkeeping relies on are fixed (read-write, READ COMMITTED transactions, exit_on_error off, no
// lock_timeout). Inside no transaction; starts and commits one.
void drop_stored_settings(void);

// For a run of `owner`, inside its transaction: the stored settings a login of `owner` to this database would get
// (all roles, the database, the role, the role in the database, the more specific winning), set for the session.
// role, session_authorization and exit_on_error are never applied (a run's identity is its owner's; its errors do not
// end the worker), nor, from the database or
// all-roles entries, the settings drop_stored_settings() fixes for the bookkeeping; the owner's own values of these
// apply.
void apply_login_settings(Oid owner);
