// Event handlers after pg_upgrade: listeners and the tasks of emitted events call their handler by function OID, and
// pg_upgrade makes every function anew. Used by the executors at start (executor_worker.cpp), before any task runs.
#pragma once
#include "pg/postgres.hpp"

// At an executor's start, in its transaction (SPI connected): if the handlers of this catalog were bound in another
// cluster (chronos.database_trust.system_identifier is not this one's: pg_upgrade made this cluster), binds each
// listener and each task of an emitted event again to the function of the name it recorded, as a restore does, and
// records this cluster. Returns how many rows it bound again, or -1 when they were bound here already.
int bind_handlers_to_this_cluster(void);
