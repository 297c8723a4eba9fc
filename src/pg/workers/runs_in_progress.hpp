// What the executors publish of the runs they do, and the requests about runs: chronos.cancel(), chronos.run_now(),
// runs that ended their executor, runs whose recording waits. Used by run/, the status functions and the utility hook.
#pragma once
#include "pg/postgres.hpp"

extern "C" {
#include "datatype/timestamp.h"
#include "storage/latch.h"
}

#include "pg/workers/executor_slots.hpp"
#include "pg/workers/run_permits.hpp"

void publish_run(int64 task_id, TimestampTz scheduled_for, TimestampTz started_at, bool transactional);

// Marks the run transactional or not, once that is known.
void publish_run_mode(bool transactional);

void clear_run(void);

// chronos.run_now() committed: executors of `database` look for requested runs before due ones.
void request_manual_runs(Oid database);

// Whether manual runs were requested in `database`; clears the request.
bool take_manual_request(Oid database);

// chronos.cancel(): marks the run of `task_id` in `database` (the run in progress now, by its number) as cancelled by
// this process; returns the pid of the executor to signal, or 0 if no executor runs it.
pid_t request_cancel(Oid database, int64 task_id);

// Whether a user cancelled the run this executor is doing.
bool run_cancel_requested(void);

// For the executor's SIGINT handler (no lock: one aligned word each): whether a cancel was asked for its run
// `run_number`, or the signal's sender (`sender`) had asked to cancel an earlier run and the signal came late.
bool cancel_is_for_run(uint64 run_number);

bool cancel_came_late(uint64 run_number, pid_t sender);

// The number of the run this executor publishes next (publish_run) or does now.
uint64 current_run_number(void);

// Ids of the tasks executors of `database` are running (claimed tasks stay 'scheduled' in the catalog until their run
// commits, so whoever computes the next due time must leave them out). Returns how many, at most `max`.
int running_task_ids(Oid database, int64 *out, int max);

// Runs in progress in `database` (for chronos.running_tasks()).
int copy_running_slots(Oid database, ExecutorSlot *out, int max);

// Whether a live executor runs `task_id` in process `pid`, or has run it and waits to record the run.
bool executor_runs_task(pid_t pid, int64 task_id);

// The runs this executor drives in flight (run/in_flight.cpp).
void publish_in_flight(const InFlightEntry *runs, int count);
// The runs in flight in `database` and the pids of their executors; how many, at most `max`.
int copy_in_flight_runs(Oid database, InFlightEntry *out, pid_t *pids, int max);
// Runs in flight in the whole cluster.
int count_in_flight(void);
// publish_in_flight(), done only if fewer than `max_to_host` requests are in flight to the host `host_key`
// (RunPlan.host_key) in the cluster, and fewer than `max_of_owner` of them are `owner`'s: counting and publishing
// under one lock, two executors never both take the last place. `runs` holds the new request; false: nothing changed.
bool publish_in_flight_within_host_limits(const InFlightEntry *runs, int count, uint32 host_key, Oid owner,
                                          int max_to_host, int max_of_owner);
// Runs in flight per owner, cluster-wide (up to `max_owners` owners); returns how many owners.
int copy_in_flight_owners(OwnerRuns *owners, int max_owners);
// The chronos.cancel() requests for this executor's runs in flight since the last call (cleared); how many, <= max.
int take_in_flight_cancels(int64 *task_ids, int max);

// The tasks whose runs this executor has ended and waits to record (deferred_runs.cpp).
void publish_deferred_runs(const int64 *task_ids, int count);

// An executor of `database` ended during a run (its journal holds the run): the other executors are woken to record it.
// `task_id` (0: none, only deferred recordings) is passed over by claims until its run is recorded (forget_ended_run).
void note_ended_run(Oid database, int64 task_id = 0);
// The run of `task_id` that ended its executor is recorded: claims may take the task again.
void forget_ended_run(Oid database, int64 task_id);

// Whether runs ended in `database` since the last call; clears the mark.
bool take_ended_runs(Oid database);
