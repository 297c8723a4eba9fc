# A failing command is recorded and does not stop the workers; a long run does not hold up tasks that fall due
# meanwhile, and chronos.running shows it while it lasts.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ChronosTest;

my $node = start_chronos_node('failures', 'chronos.max_workers = 4');
create_chronos_db($node, 'postgres');
$node->safe_psql('postgres', 'CREATE TABLE hits (task text, at timestamptz NOT NULL DEFAULT clock_timestamp())');

sub scalar_query { return $node->safe_psql('postgres', $_[0]); }

# --- a failing once task ----------------------------------------------------------------------------------------------

scalar_query(q{INSERT INTO chronos.tasks (name, command) VALUES ('divide', 'SELECT 1/0')});
ok(wait_for_finished_run($node, 'postgres', 'divide'), 'a failing once task gets a finished run');

my ($run) = query_rows($node, 'postgres',
	q{SELECT status, error, finished_at IS NOT NULL FROM chronos.runs WHERE task_name = 'divide'});
$run //= [];
is($run->[0], 'failed', 'the run of a failing command is recorded as failed');
like($run->[1] // '', qr/22012/, 'the error of a failed run carries the SQLSTATE (22012: division by zero)');
is($run->[2], 't', 'a failed run has a finish time');

ok(wait_for($node, 'postgres', q{SELECT status = 'failed' FROM chronos.tasks WHERE name = 'divide'}),
	'a once task whose run failed ends with status failed');
my ($task) = query_rows($node, 'postgres',
	q{SELECT last_status, failure_count, last_error, status_code FROM chronos.task_status WHERE name = 'divide'});
$task //= [];
is($task->[0], 'failed', 'the task records failed as its last_status');
is($task->[1], '1', 'the first failure sets failure_count to 1');
like($task->[2] // '', qr/22012/, 'the task keeps the error of its last run');
is($task->[3], '-1', 'chronos.task_status shows a failed task with status_code -1');

scalar_query(q{INSERT INTO chronos.tasks (name, command)
               VALUES ('after failure', $$INSERT INTO hits VALUES ('after failure')$$)});
ok(wait_for($node, 'postgres', q{SELECT count(*) = 1 FROM hits WHERE task = 'after failure'}),
	'the workers run other tasks after a failure');

# --- a failing loop task ----------------------------------------------------------------------------------------------

scalar_query(
	q{INSERT INTO chronos.tasks (name, schedule, command) VALUES ('divide often', '* * * * * *', 'SELECT 1/0')});
ok(wait_for($node, 'postgres', q{SELECT failure_count >= 1 FROM chronos.tasks WHERE name = 'divide often'}),
	'a failing loop task counts its failure');
my $failures = scalar_query(q{SELECT failure_count FROM chronos.tasks WHERE name = 'divide often'});
ok(wait_for($node, 'postgres', "SELECT failure_count > $failures FROM chronos.tasks WHERE name = 'divide often'"),
	'each failed run of a loop task increments failure_count');
is(scalar_query(q{SELECT count(*) >= 2 AND bool_and(error LIKE '%22012%')
                    FROM chronos.runs WHERE task_name = 'divide often' AND status = 'failed'}),
	't', 'every failed run of a loop task is recorded with its SQLSTATE');
scalar_query(q{SELECT chronos.unschedule('divide often')});

# --- a long run and a short task due meanwhile ------------------------------------------------------------------------

scalar_query(q{INSERT INTO chronos.tasks (name, command) VALUES ('long', 'SELECT pg_sleep(5)')});
ok(wait_for($node, 'postgres', q{SELECT EXISTS (SELECT FROM chronos.running WHERE task_name = 'long')}),
	'chronos.running shows a run in progress');

my ($running) = query_rows($node, 'postgres', q{
	SELECT r.pid IS NOT NULL AND r.pid = a.pid, r.elapsed >= interval '0', r.started_at <= clock_timestamp(), r.owner
	  FROM chronos.running r LEFT JOIN pg_stat_activity a ON a.pid = r.pid WHERE r.task_name = 'long'});
$running //= [];
is($running->[0], 't', 'chronos.running names the live process that runs the task');
ok(($running->[1] // '') eq 't' && ($running->[2] // '') eq 't', 'chronos.running shows when the run started');
is($running->[3], $node->safe_psql('postgres', 'SELECT current_user'), 'chronos.running shows the owner');
is(scalar_query(q{SELECT concat_ws(',', status, status_code) FROM chronos.task_status WHERE name = 'long'}),
	'running,1', 'chronos.task_status shows a task in progress as running with status_code 1');

scalar_query(q{INSERT INTO chronos.tasks (name, command, start_time)
               VALUES ('short', $$INSERT INTO hits VALUES ('short')$$, now() + interval '500 ms')});
ok(wait_for($node, 'postgres', q{SELECT status = 'done' FROM chronos.tasks WHERE name = 'short'}, 10),
	'a short task due during a long run runs');
is(scalar_query(q{SELECT EXISTS (SELECT FROM chronos.running WHERE task_name = 'long')}),
	't', 'the long run was still in progress when the short task had finished');
my $lateness =
  scalar_query(q{SELECT extract(epoch FROM started_at - scheduled_for) FROM chronos.runs WHERE task_name = 'short'});
ok($lateness ne '' && $lateness < 2,
	"a short task due during a long run starts less than 2 s late (lateness $lateness s)");

ok(wait_for($node, 'postgres', q{SELECT status = 'succeeded' FROM chronos.runs WHERE task_name = 'long'}),
	'the long run finishes and succeeds');
is(scalar_query(q{
	SELECT l.finished_at > s.started_at AND l.started_at < s.started_at
	  FROM chronos.runs l, chronos.runs s WHERE l.task_name = 'long' AND s.task_name = 'short'}),
	't', 'the short run started while the long run was in progress');
ok(wait_for($node, 'postgres', q{SELECT count(*) = 0 FROM chronos.running}, 10),
	'chronos.running empties once nothing runs');

$node->stop;
done_testing();
