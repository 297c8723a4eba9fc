# max_failures: a loop task goes to failed after that many consecutive failed slots. failure_count counts them, a
# success sets it back to 0, and a slot's run and its retries count as one failure.
# Slots of the hourly tasks are brought forward by setting next_exec_time, as users may.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ChronosTest;

my $node = start_chronos_node('max_failures', 'chronos.max_workers = 2');
create_chronos_db($node, 'postgres');
$node->safe_psql('postgres', 'CREATE TABLE divisor (d int NOT NULL); INSERT INTO divisor VALUES (0)');

sub scalar_query { return $node->safe_psql('postgres', $_[0]); }

# Brings the next slot of task $name forward to now, waits until it has $runs runs in all and has been recorded.
sub run_slot_now
{
	my ($name, $runs) = @_;
	scalar_query("UPDATE chronos.tasks SET next_exec_time = now() WHERE name = '$name'");
	return wait_for_runs($name, $runs);
}

sub wait_for_runs
{
	my ($name, $runs) = @_;
	return wait_for($node, 'postgres', qq{
		SELECT count(*) = $runs AND (SELECT status <> 'running' AND attempt = 1 FROM chronos.tasks WHERE name = '$name')
		  FROM chronos.runs WHERE task_name = '$name'});
}

sub task_state
{
	my ($name) = @_;
	return scalar_query("SELECT concat_ws(',', status, failure_count) FROM chronos.tasks WHERE name = '$name'");
}

# --- failing on every slot --------------------------------------------------------------------------------------------

scalar_query(q{INSERT INTO chronos.tasks (name, schedule, command, max_failures) VALUES ('always failing', '@every 1s', 'SELECT 1/0', 3)});
ok(wait_for($node, 'postgres', q{SELECT status = 'failed' FROM chronos.tasks WHERE name = 'always failing'}),
	'a loop task failing on every slot ends failed');
is(task_state('always failing'), 'failed,3', 'it failed with failure_count equal to max_failures');
is(scalar_query(q{SELECT count(*) FROM chronos.runs WHERE task_name = 'always failing'}), '3',
	'it ran exactly max_failures times');
is(scalar_query(q{SELECT status_code FROM chronos.task_status WHERE name = 'always failing'}), '-1',
	'chronos.task_status shows it failed');

# --- a success in between ---------------------------------------------------------------------------------------------

scalar_query(q{
	INSERT INTO chronos.tasks (name, schedule, command, max_failures)
	VALUES ('sometimes failing', '@every 1 hour', 'SELECT 1 / (SELECT d FROM divisor)', 3)});
ok(wait_for_runs('sometimes failing', 1), 'the first slot of an hourly task runs at once');
ok(run_slot_now('sometimes failing', 2), 'a second slot runs');
is(task_state('sometimes failing'), 'scheduled,2', 'two failed slots: failure_count 2, still scheduled');
scalar_query('UPDATE divisor SET d = 1');
ok(run_slot_now('sometimes failing', 3), 'a third slot runs');
is(task_state('sometimes failing'), 'scheduled,0', 'a successful slot sets failure_count back to 0');
scalar_query('UPDATE divisor SET d = 0');
ok(run_slot_now('sometimes failing', 4), 'a fourth slot runs');
ok(run_slot_now('sometimes failing', 5), 'a fifth slot runs');
is(task_state('sometimes failing'), 'scheduled,2',
	'failures before a success do not count: two new failures leave the task scheduled');
ok(run_slot_now('sometimes failing', 6), 'a sixth slot runs');
is(task_state('sometimes failing'), 'failed,3', 'the third consecutive failed slot makes the task failed');

# --- retries count once -----------------------------------------------------------------------------------------------

scalar_query(q{
	INSERT INTO chronos.tasks (name, schedule, command, max_failures, max_retries, retry_delay)
	VALUES ('retried failing', '@every 1 hour', 'SELECT 1/0', 2, 1, '1 s')});
ok(wait_for_runs('retried failing', 2), 'the first slot runs and is retried once');
is(task_state('retried failing'), 'scheduled,1', 'a failed run and its failed retry count as one failure');
ok(run_slot_now('retried failing', 4), 'the second slot runs and is retried once');
is(task_state('retried failing'), 'failed,2', 'two failed slots of max_failures 2 make the task failed');
is(scalar_query(q{SELECT string_agg(attempt::text, ',' ORDER BY run_id) FROM chronos.runs WHERE task_name = 'retried failing'}),
	'1,2,1,2', 'each failed slot had its first attempt and its retry');

$node->stop;
done_testing();
