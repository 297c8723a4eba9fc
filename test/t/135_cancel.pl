# chronos.cancel(name) cancels the task's run in progress: the run is recorded as cancelled with a 57014 error saying
# so, a transactional run's effects roll back, and a loop task stays scheduled and runs again at its next slot. It
# returns false when nothing of the task runs.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ChronosTest;

my $node = start_chronos_node('cancel', 'chronos.max_workers = 2');
create_chronos_db($node, 'postgres');
$node->safe_psql('postgres', q{
	CREATE TABLE hits (task text NOT NULL);
	CREATE TABLE naps (seconds float8 NOT NULL);
	INSERT INTO naps VALUES (60)});

sub scalar_query { return $node->safe_psql('postgres', $_[0]); }

sub wait_until_running
{
	my ($name) = @_;
	return ok(wait_for($node, 'postgres', "SELECT EXISTS (SELECT FROM chronos.running WHERE task_name = '$name')"),
		"task $name is running");
}

sub last_run
{
	my ($name) = @_;
	my ($run) = query_rows($node, 'postgres', qq{
		SELECT status, error, extract(epoch FROM finished_at - started_at), scheduled_for
		  FROM chronos.runs WHERE task_name = '$name' ORDER BY run_id DESC LIMIT 1});
	return $run // [];
}

# --- a loop task ------------------------------------------------------------------------------------------------------

# Each run sleeps as long as naps says when it starts: 60 s for the first run, then 0 once naps is changed.
scalar_query(q{
	INSERT INTO chronos.tasks (name, schedule, command)
	VALUES ('sleeper', '@every 5s', $$INSERT INTO hits VALUES ('sleeper'); SELECT pg_sleep((SELECT seconds FROM naps))$$)});
wait_until_running('sleeper');
scalar_query('UPDATE naps SET seconds = 0');
is(scalar_query(q{SELECT chronos.cancel('sleeper')}), 't', 'chronos.cancel returns true for a task with a run in progress');
ok(wait_for_finished_run($node, 'postgres', 'sleeper'), 'the cancelled run ends');
my $run = last_run('sleeper');
is($run->[0], 'cancelled', 'a run stopped by chronos.cancel is recorded as cancelled');
is($run->[1], '57014: run cancelled by chronos.cancel()', 'its error says it was cancelled by chronos.cancel()');
ok(defined $run->[2] && $run->[2] < 30, 'it ended long before its 60 s sleep (' . ($run->[2] // '?') . ' s)');
is(scalar_query(q{SELECT count(*) FROM hits}), '0', "a cancelled transactional run's effects are rolled back");
is(scalar_query(q{SELECT concat_ws(',', status, last_status) FROM chronos.tasks WHERE name = 'sleeper'}), 'scheduled,cancelled',
	'a loop task whose run was cancelled stays scheduled');
my $cancelled_slot = $run->[3];

ok(wait_for($node, 'postgres', q{SELECT count(*) = 2 FROM chronos.runs WHERE task_name = 'sleeper'}),
	'the loop task runs again after the cancelled run');
$run = last_run('sleeper');
is($run->[0], 'succeeded', 'its next run succeeds');
is(scalar_query(qq{SELECT extract(epoch FROM '$run->[3]'::timestamptz - '$cancelled_slot')}), '5.000000',
	'the run after the cancelled one served the next slot');
is(scalar_query(q{SELECT count(*) FROM hits}), '1', 'and its effects are kept');
scalar_query(q{SELECT chronos.pause('sleeper')});

# --- nothing to cancel ------------------------------------------------------------------------------------------------

is(scalar_query(q{SELECT chronos.cancel('sleeper')}), 'f', 'chronos.cancel returns false when the task has no run in progress');
my ($ret, $out, $err) = $node->psql('postgres', q{SELECT chronos.cancel('no such task')});
like($err, qr/task "no such task" does not exist/, 'chronos.cancel of an unknown task is an error');

# --- an autonomous task -----------------------------------------------------------------------------------------------

scalar_query(q{INSERT INTO chronos.tasks (name, command, transactional) VALUES ('autonomous sleeper', 'SELECT pg_sleep(60)', false)});
wait_until_running('autonomous sleeper');
is(scalar_query(q{SELECT chronos.cancel('autonomous sleeper')}), 't', 'chronos.cancel returns true for an autonomous run');
ok(wait_for_finished_run($node, 'postgres', 'autonomous sleeper'), 'the cancelled autonomous run ends');
$run = last_run('autonomous sleeper');
is($run->[0], 'cancelled', 'a cancelled autonomous run is recorded as cancelled');
is($run->[1], '57014: run cancelled by chronos.cancel()', 'its error says it was cancelled by chronos.cancel()');
ok(defined $run->[2] && $run->[2] < 30, 'it ended long before its 60 s sleep (' . ($run->[2] // '?') . ' s)');

# --- the worker goes on -----------------------------------------------------------------------------------------------

scalar_query(q{INSERT INTO chronos.tasks (name, command) VALUES ('after cancel', 'SELECT pg_sleep(1)')});
ok(wait_for_finished_run($node, 'postgres', 'after cancel'), 'a task after the cancelled ones runs');
is(last_run('after cancel')->[0], 'succeeded', 'a cancel does not reach the runs that follow');

$node->stop;
done_testing();
