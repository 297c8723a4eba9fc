# Run timeouts: a run still going after the task's timeout is cancelled and recorded as timed_out with a 57014 error
# naming the timeout; a transactional task's effects roll back with it, while an autonomous task keeps the statements
# that finished. chronos.default_timeout (reloadable) applies to tasks whose timeout is NULL, and a timeout never reaches
# the runs that follow.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ChronosTest;

my $node = start_chronos_node('timeouts', 'chronos.max_workers = 2');
create_chronos_db($node, 'postgres');
$node->safe_psql('postgres', 'CREATE TABLE effects (task text NOT NULL)');

sub scalar_query { return $node->safe_psql('postgres', $_[0]); }

# Sets a GUC with ALTER SYSTEM, reloads, and waits until a new session sees it: from then on, the postmaster has
# signalled every worker, which reads the file again before it claims its next task.
sub set_setting
{
	my ($name, $value) = @_;
	scalar_query("ALTER SYSTEM SET $name = '$value'");
	scalar_query('SELECT pg_reload_conf()');
	ok(wait_for($node, 'postgres', "SELECT current_setting('$name') = '$value'"), "$name is now $value");
	return;
}

# The single run of task $name: status, error, seconds between start and finish.
sub only_run
{
	my ($name) = @_;
	my @runs = query_rows($node, 'postgres', qq{
		SELECT status, error, extract(epoch FROM finished_at - started_at)
		  FROM chronos.runs WHERE task_name = '$name' ORDER BY run_id});
	is(scalar @runs, 1, "task $name has exactly one run");
	return $runs[0] // [];
}

# --- a task's own timeout ---------------------------------------------------------------------------------------------

scalar_query(q{
	INSERT INTO chronos.tasks (name, command, timeout)
	VALUES ('slow insert', $$INSERT INTO effects VALUES ('slow insert'); SELECT pg_sleep(60)$$, '1 s')});
ok(wait_for_finished_run($node, 'postgres', 'slow insert'), 'a run longer than its timeout ends');
my $run = only_run('slow insert');
is($run->[0], 'timed_out', 'a run cancelled by its timeout is recorded as timed_out');
is($run->[1], '57014: run timed out after 1000 ms', 'the error of a timed-out run names SQLSTATE 57014 and the timeout');
ok(defined $run->[2] && $run->[2] >= 0.9 && $run->[2] < 30,
	'the run was cancelled after about its timeout, long before the command would have ended (' . ($run->[2] // '?') . ' s)');
is(scalar_query(q{SELECT count(*) FROM effects WHERE task = 'slow insert'}), '0',
	"a timed-out transactional task's effects are rolled back");
is(scalar_query(q{SELECT concat_ws(',', status, last_status) FROM chronos.tasks WHERE name = 'slow insert'}),
	'failed,timed_out', 'a timed-out once task without retries ends failed, with timed_out as its last status');

# --- an autonomous task's timeout -------------------------------------------------------------------------------------

scalar_query(q{
	INSERT INTO chronos.tasks (name, command, timeout, transactional)
	VALUES ('slow autonomous', $$INSERT INTO effects VALUES ('slow autonomous'); SELECT pg_sleep(60)$$, '1 s', false)});
ok(wait_for_finished_run($node, 'postgres', 'slow autonomous'), 'an autonomous run longer than its timeout ends');
$run = only_run('slow autonomous');
is($run->[0], 'timed_out', 'a timed-out autonomous run is recorded as timed_out');
is($run->[1], '57014: run timed out after 1000 ms', 'the error of a timed-out autonomous run names the timeout');
is(scalar_query(q{SELECT count(*) FROM effects WHERE task = 'slow autonomous'}), '1',
	'an autonomous task keeps the statements that finished before its timeout (each runs in its own transaction)');

# --- the run after a timeout ------------------------------------------------------------------------------------------

scalar_query(q{
	INSERT INTO chronos.tasks (name, command)
	VALUES ('after timeout', $$SELECT pg_sleep(2); INSERT INTO effects VALUES ('after timeout')$$)});
ok(wait_for_finished_run($node, 'postgres', 'after timeout'), 'a task without timeout runs after a timed-out one');
$run = only_run('after timeout');
is($run->[0], 'succeeded', 'a 2 s run without timeout (and chronos.default_timeout 0) succeeds after a timed-out run');
is(scalar_query(q{SELECT count(*) FROM effects WHERE task = 'after timeout'}), '1', 'and its effects are kept');

# --- chronos.default_timeout ------------------------------------------------------------------------------------------

set_setting('chronos.default_timeout', '1500ms');
scalar_query(q{INSERT INTO chronos.tasks (name, command) VALUES ('default timeout', 'SELECT pg_sleep(60)')});
ok(wait_for_finished_run($node, 'postgres', 'default timeout'), 'a run of a task with NULL timeout ends');
$run = only_run('default timeout');
is($run->[0], 'timed_out', 'chronos.default_timeout cancels a run of a task whose timeout is NULL');
is($run->[1], '57014: run timed out after 1500 ms', 'the error names chronos.default_timeout in milliseconds');

scalar_query(q{INSERT INTO chronos.tasks (name, command, timeout) VALUES ('own timeout', 'SELECT pg_sleep(3)', '30 s')});
ok(wait_for_finished_run($node, 'postgres', 'own timeout'), 'a run of a task with its own timeout ends');
$run = only_run('own timeout');
is($run->[0], 'succeeded', "a task's own timeout replaces chronos.default_timeout (3 s run, 30 s timeout, 1.5 s default)");

set_setting('chronos.default_timeout', '0');
scalar_query(q{INSERT INTO chronos.tasks (name, command) VALUES ('no timeout', 'SELECT pg_sleep(3)')});
ok(wait_for_finished_run($node, 'postgres', 'no timeout'), 'a run after chronos.default_timeout is reset ends');
$run = only_run('no timeout');
is($run->[0], 'succeeded', 'chronos.default_timeout 0 means no timeout (a 3 s run succeeds)');

$node->stop;
done_testing();
