// Limits on repeated log lines per database (see warning_limits.hpp).
#include "pg/workers/warning_limits.hpp"

#include "pg/settings.hpp"
#include "pg/workers/shared_memory.hpp"

extern "C" {
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/timestamp.h"
}

using namespace shared_memory;

bool note_lock_wait(Oid database, TimestampTz now, int64 every_us) {
    Locked lock;
    DatabaseEntry *e = find_database(database, true);
    if (e == NULL || (e->lock_wait_logged_at != 0 && now - e->lock_wait_logged_at < every_us))
        return false;
    e->lock_wait_logged_at = now;
    return true;
}

bool note_warning(Oid database, int kind, TimestampTz now, int64 every_us, int64 *held) {
    *held = 0;
    if (state == NULL)
        return true;
    Locked lock;
    DatabaseEntry *e = find_database(database, true);
    *held = 0;
    if (e == NULL)
        return true;  // no entry to count in: say it
    if (e->warned_at[kind] != 0 && now - e->warned_at[kind] < every_us) {
        e->warnings_held[kind]++;
        return false;
    }
    e->warned_at[kind] = now;
    *held = e->warnings_held[kind];
    e->warnings_held[kind] = 0;
    return true;
}

bool end_lock_wait(Oid database) {
    Locked lock;
    DatabaseEntry *e = find_database(database, false);
    bool logged = e != NULL && e->lock_wait_logged_at != 0;
    if (logged)
        e->lock_wait_logged_at = 0;
    return logged;
}
