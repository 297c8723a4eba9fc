# chronos.run_now(name) runs a task once as soon as a worker is free and returns its id; the run is recorded with
# manual = true, and the task keeps its next_exec_time and status: a loop task whose next run is far away, a paused task
# and a finished once task all run, and stay as they were.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ChronosTest;

my $node = start_chronos_node('run_now', 'chronos.max_workers = 2');
create_chronos_db($node, 'postgres');
$node->safe_psql('postgres', 'CREATE TABLE hits (task text NOT NULL)');

sub scalar_query { return $node->safe_psql('postgres', $_[0]); }

sub task_state
{
	my ($name) = @_;
	return scalar_query("SELECT concat_ws(',', status, next_exec_time, run_requested) FROM chronos.tasks WHERE name = '$name'");
}

# Calls chronos.run_now on task $name, which has had $runs_before runs, and checks the manual run that follows.
sub check_run_now
{
	my ($name, $runs_before, $expected_status) = @_;
	my $before = task_state($name);
	is(scalar_query("SELECT chronos.run_now('$name')"), scalar_query("SELECT id FROM chronos.tasks WHERE name = '$name'"),
		"chronos.run_now('$name') returns the task's id");
	my $runs = $runs_before + 1;
	ok(wait_for($node, 'postgres', "SELECT count(*) = $runs FROM chronos.runs WHERE task_name = '$name'"),
		"task $name runs after chronos.run_now");
	my ($run) = query_rows($node, 'postgres',
		"SELECT manual, status FROM chronos.runs WHERE task_name = '$name' ORDER BY run_id DESC LIMIT 1");
	$run //= [];
	is($run->[0], 't', "the run of $name started by chronos.run_now is recorded as manual");
	is($run->[1], $expected_status, "the manual run of $name $expected_status");
	is(task_state($name), $before, "after its manual run, task $name keeps its status and next_exec_time");
	return;
}

# --- a loop task whose next run is far away ---------------------------------------------------------------------------

scalar_query(q{
	INSERT INTO chronos.tasks (name, schedule, command, start_time)
	VALUES ('tomorrow', '@every 1 day', $$INSERT INTO hits VALUES ('tomorrow')$$, now() + interval '1 day')});
check_run_now('tomorrow', 0, 'succeeded');
is(scalar_query(q{SELECT count(*) FROM hits WHERE task = 'tomorrow'}), '1', "the manual run's effects are there");
is(scalar_query(q{SELECT next_exec_time > now() + interval '23 hours' FROM chronos.tasks WHERE name = 'tomorrow'}), 't',
	'the next regular run is still tomorrow');

# --- a failing manual run ---------------------------------------------------------------------------------------------

scalar_query(q{
	INSERT INTO chronos.tasks (name, schedule, command, start_time)
	VALUES ('failing tomorrow', '@every 1 day', 'SELECT 1/0', now() + interval '1 day')});
check_run_now('failing tomorrow', 0, 'failed');

# --- a paused task ----------------------------------------------------------------------------------------------------

scalar_query(q{INSERT INTO chronos.tasks (name, schedule, command) VALUES ('paused', '@every 1 hour', $$INSERT INTO hits VALUES ('paused')$$)});
ok(wait_for($node, 'postgres', q{SELECT count(*) = 1 FROM chronos.runs WHERE task_name = 'paused' AND NOT manual}),
	'an hourly task runs its first slot');
scalar_query(q{SELECT chronos.pause('paused')});
check_run_now('paused', 1, 'succeeded');
is(scalar_query(q{SELECT count(*) FROM hits WHERE task = 'paused'}), '2', 'a paused task ran once more on chronos.run_now');
is(scalar_query(q{SELECT status FROM chronos.tasks WHERE name = 'paused'}), 'paused', 'and it is still paused');

# --- a finished once task ---------------------------------------------------------------------------------------------

scalar_query(q{INSERT INTO chronos.tasks (name, command) VALUES ('once', $$INSERT INTO hits VALUES ('once')$$)});
ok(wait_for($node, 'postgres', q{SELECT status = 'done' FROM chronos.tasks WHERE name = 'once'}), 'a once task runs and is done');
check_run_now('once', 1, 'succeeded');
is(scalar_query(q{SELECT count(*) FROM hits WHERE task = 'once'}), '2', 'a done once task ran once more on chronos.run_now');

# --- while no worker is free ------------------------------------------------------------------------------------------

scalar_query(q{ALTER SYSTEM SET chronos.max_workers = 1});
scalar_query(q{SELECT pg_reload_conf()});
ok(wait_for($node, 'postgres', q{SELECT current_setting('chronos.max_workers') = '1'}), 'chronos.max_workers is now 1');
scalar_query(q{INSERT INTO chronos.tasks (name, command) VALUES ('busy', 'SELECT pg_sleep(3)')});
ok(wait_for($node, 'postgres', q{SELECT EXISTS (SELECT FROM chronos.running WHERE task_name = 'busy')}),
	'the only worker allowed is busy with a 3 s run');
scalar_query(q{SELECT chronos.run_now('tomorrow')});
ok(wait_for($node, 'postgres', q{SELECT count(*) = 2 FROM chronos.runs WHERE task_name = 'tomorrow'}),
	'chronos.run_now while no worker is free runs the task once one is');
is(scalar_query(q{
	SELECT m.started_at >= b.finished_at
	  FROM chronos.runs m, chronos.runs b
	 WHERE m.task_name = 'tomorrow' AND m.run_id = (SELECT max(run_id) FROM chronos.runs WHERE task_name = 'tomorrow')
	   AND b.task_name = 'busy'}), 't', 'the manual run waited for the busy worker');

my ($ret, $out, $err) = $node->psql('postgres', q{SELECT chronos.run_now('no such task')});
like($err, qr/task "no such task" does not exist/, 'chronos.run_now of an unknown task is an error');

$node->stop;
done_testing();
