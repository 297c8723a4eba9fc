-- Fair share between owners: a claim whose earliest due task belongs to an owner with runs in progress looks, one
-- index descent per owner, for the earliest due task of an owner with fewer.
CREATE INDEX tasks_owner_due ON chronos.tasks (owner, next_exec_time) WHERE status = 'scheduled';
