# History: the workers delete runs older than chronos.history_retention (reloadable) in small batches, about once a
# minute, and a newly started executor at its first idle moment; recent runs stay. With chronos.log_runs = 'failures'
# successful runs are not kept in chronos.runs, while their task's last_* columns are still updated.
# Old runs are made up by inserting rows into chronos.runs directly (the superuser may).
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ChronosTest;

my $node = start_chronos_node('history', 'chronos.max_workers = 2');
create_chronos_db($node, 'postgres');

sub scalar_query { return $node->safe_psql('postgres', $_[0]); }

sub set_setting
{
	my ($name, $value, $shown) = @_;
	scalar_query("ALTER SYSTEM SET $name = '$value'");
	scalar_query('SELECT pg_reload_conf()');
	ok(wait_for($node, 'postgres', "SELECT current_setting('$name') = '$shown'"), "$name is now $shown");
	return;
}

# Inserts $count made-up succeeded runs of task "$name", started $age ago (minus one second per row).
sub insert_runs
{
	my ($name, $count, $age) = @_;
	scalar_query(qq{
		INSERT INTO chronos.runs (task_id, task_name, owner, scheduled_for, started_at, finished_at, status)
		SELECT 0, '$name', current_user::regrole, t, t, t + interval '1 s', 'succeeded'
		  FROM (SELECT now() - interval '$age' - i * interval '1 s' AS t FROM generate_series(1, $count) i) r});
	return;
}

sub count_runs
{
	my ($name) = @_;
	return scalar_query("SELECT count(*) FROM chronos.runs WHERE task_name = '$name'");
}

# --- pruning after a reload -------------------------------------------------------------------------------------------

# The watcher prunes about once a minute, so within 90 s of the reload.

insert_runs('three days old', 2500, '3 days');
insert_runs('two hours old', 10, '2 hours');
insert_runs('half an hour old', 10, '30 minutes');
set_setting('chronos.history_retention', '1h', '1h');
ok(wait_for($node, 'postgres', q{SELECT count(*) = 0 FROM chronos.runs WHERE task_name IN ('three days old', 'two hours old')}, 90),
	'runs older than chronos.history_retention are deleted within 90 s of a reload, 2500 of them included');
is(count_runs('half an hour old'), '10', 'runs younger than chronos.history_retention stay');

# --- pruning at start, old runs inserted after recent ones ------------------------------------------------------------

# A newly started executor prunes at its first idle moment, within a few seconds of the restart.

scalar_query(q{INSERT INTO chronos.tasks (name, command) VALUES ('recent', 'SELECT 1')});
ok(wait_for_finished_run($node, 'postgres', 'recent'), 'a task runs');
insert_runs('old after recent', 10, '2 hours');
$node->restart;
ok(wait_for($node, 'postgres', q{SELECT count(*) = 0 FROM chronos.runs WHERE task_name = 'old after recent'}, 30),
	'after a restart, old runs are deleted within 30 s, even when they were inserted after recent runs')
  or diag('runs by run_id: '
	  . scalar_query(q{SELECT string_agg(format('%s..%s %s (started %s ago)', lo, hi, task_name, age), ', ' ORDER BY lo)
	                     FROM (SELECT task_name, min(run_id) lo, max(run_id) hi, date_trunc('minute', now() - min(started_at)) age
	                             FROM chronos.runs GROUP BY task_name) g}));
is(count_runs('recent'), '1', 'the recent run stays');
is(count_runs('half an hour old'), '10', 'the runs younger than chronos.history_retention still stay');

# --- chronos.log_runs = 'failures' ------------------------------------------------------------------------------------

set_setting('chronos.log_runs', 'failures', 'failures');
scalar_query(q{
	INSERT INTO chronos.tasks (name, command, transactional)
	VALUES ('unlogged success', 'SELECT 1', NULL), ('unlogged autonomous success', 'SELECT 1', false),
	       ('logged failure', 'SELECT 1/0', NULL)});
ok(wait_for($node, 'postgres', q{
		SELECT count(*) = 3 FROM chronos.tasks
		 WHERE name IN ('unlogged success', 'unlogged autonomous success', 'logged failure') AND status IN ('done', 'failed')}),
	'the tasks run');
is(count_runs('unlogged success'), '0', "with chronos.log_runs = 'failures' a successful run is not kept in chronos.runs");
is(count_runs('unlogged autonomous success'), '0', 'nor is a successful autonomous run');
is(count_runs('logged failure'), '1', 'a failed run is kept');
is(scalar_query(q{
	SELECT string_agg(concat_ws(',', last_status, last_exec_time IS NOT NULL, last_duration IS NOT NULL, run_count), ' ' ORDER BY name)
	  FROM chronos.tasks WHERE name IN ('unlogged success', 'unlogged autonomous success')}),
	'succeeded,t,t,1 succeeded,t,t,1', "the task's last_status, last_exec_time, last_duration and run_count are still updated");

set_setting('chronos.log_runs', 'all', 'all');
scalar_query(q{INSERT INTO chronos.tasks (name, command) VALUES ('logged success', 'SELECT 1')});
ok(wait_for($node, 'postgres', q{SELECT status = 'done' FROM chronos.tasks WHERE name = 'logged success'}), 'a task runs');
is(count_runs('logged success'), '1', "with chronos.log_runs = 'all' a successful run is kept");

$node->stop;
done_testing();
