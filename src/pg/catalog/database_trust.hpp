// Database trust (docs/security.md): whether a superuser's task may run in this database, and the holding of tasks a
// role with fewer rights than their owner could steer. Used by the task trigger (user sessions, task_trigger.cpp) and
// the executors (copies found at start, executor_worker.cpp; a superuser's task held at its claim, run_step.cpp).
#pragma once
#include "pg/postgres.hpp"

// Why a task is held (chronos.tasks.held); it is then paused.
constexpr const char *kHeldCopied = "copied";
constexpr const char *kHeldUntrusted = "untrusted database";

// Whether superusers' tasks may run here: the database's owner is a superuser, or a superuser trusted this database
// while its current owner owned it (chronos.trust_database()). True for a catalog older than 1.2, which knows no trust.
// `fresh`: look now; otherwise an executor may use what it found up to a second ago.
bool database_trusted(bool fresh);

// At an executor's start, in its transaction (SPI connected): if this catalog was made in another database (a copy made
// by CREATE DATABASE … TEMPLATE), holds the tasks of roles the database's owner is not a member of, and makes the catalog
// this database's, untrusted. Returns how many tasks it held, or -1 when the catalog is this database's own.
int hold_copied_tasks(void);

// The task trigger's part: the hold of a task being written by a member of `owner`. `old_held` is its hold before the
// write (NULL: none, or an insert); setting status 'scheduled' releases a hold, and a superuser's task scheduled in an
// untrusted database is held (with a NOTICE, once per transaction). A held task's *status is made 'paused'. Returns
// the hold to store (NULL: none).
const char *hold_on_write(Oid owner, const char *old_held, bool is_insert, bool status_changed, bool owner_changed,
                          const char **status);

// Holds a superuser's task claimed in an untrusted database, instead of running it (its row is locked by the claim).
void hold_untrusted_task(int64 task_id);
