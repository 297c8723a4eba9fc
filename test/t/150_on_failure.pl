# on_failure: SQL run as the task's owner once a run has finally failed (after its last retry), with the run as JSON in
# $1. It does not run after a failed attempt that will be retried, nor after a success; a failing on_failure is logged
# and does not stop the run from being recorded.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ChronosTest;

my $node = start_chronos_node('on_failure', 'chronos.max_workers = 2');
create_chronos_db($node, 'postgres');
$node->safe_psql('postgres', q{
	CREATE TABLE failures (task text, run_id bigint, status text, attempt int, error text, by_role name);
	CREATE ROLE app LOGIN;
	GRANT INSERT ON failures TO app});

sub scalar_query { return $node->safe_psql('postgres', $_[0]); }

# Records the run's JSON in failures, as whoever runs it.
my $record_failure = q{INSERT INTO failures SELECT $1::jsonb ->> 'task', ($1::jsonb ->> 'run_id')::bigint,
                              $1::jsonb ->> 'status', ($1::jsonb ->> 'attempt')::int, $1::jsonb ->> 'error', current_user};

sub failures_of
{
	my ($name) = @_;
	return query_rows($node, 'postgres', "SELECT run_id, status, attempt, error, by_role FROM failures WHERE task = '$name' ORDER BY run_id");
}

# --- a once task that fails after its retries -------------------------------------------------------------------------

scalar_query(qq{
	INSERT INTO chronos.tasks (name, command, owner, max_retries, retry_delay, on_failure)
	VALUES ('divide', 'SELECT 1/0', 'app', 1, '1 s', \$on_failure\$$record_failure\$on_failure\$)});
ok(wait_for($node, 'postgres', q{SELECT status = 'failed' FROM chronos.tasks WHERE name = 'divide'}),
	'a once task failing on each attempt ends failed');
my @failures = failures_of('divide');
is(scalar @failures, 1, 'on_failure ran once, after the last attempt, not after the attempt that was retried');
my $failure = $failures[0] // [];
is($failure->[0], scalar_query(q{SELECT max(run_id) FROM chronos.runs WHERE task_name = 'divide'}),
	"on_failure's \$1 is the JSON of the last run");
is($failure->[1], 'failed', "\$1 has the run's status");
is($failure->[2], '2', "\$1 has the run's attempt number");
is($failure->[3], '22012: division by zero', "\$1 has the run's error");
is($failure->[4], 'app', "on_failure runs as the task's owner");

# --- a timed-out run --------------------------------------------------------------------------------------------------

scalar_query(qq{
	INSERT INTO chronos.tasks (name, command, timeout, on_failure)
	VALUES ('too slow', 'SELECT pg_sleep(30)', '500 ms', \$on_failure\$$record_failure\$on_failure\$)});
ok(wait_for($node, 'postgres', q{SELECT status = 'failed' FROM chronos.tasks WHERE name = 'too slow'}),
	'a once task that timed out ends failed');
@failures = failures_of('too slow');
is(join('|', map { "$_->[1]:$_->[3]" } @failures), 'timed_out:57014: run timed out after 500 ms',
	'on_failure runs after a final timeout, with the timed-out run in $1');

# --- an autonomous task -----------------------------------------------------------------------------------------------

scalar_query(qq{
	INSERT INTO chronos.tasks (name, command, transactional, on_failure)
	VALUES ('autonomous divide', 'SELECT 1/0', false, \$on_failure\$$record_failure\$on_failure\$)});
ok(wait_for($node, 'postgres', q{SELECT status = 'failed' FROM chronos.tasks WHERE name = 'autonomous divide'}),
	'a failing autonomous once task ends failed');
@failures = failures_of('autonomous divide');
is(join('|', map { "$_->[1]:$_->[3]" } @failures), 'failed:22012: division by zero',
	'on_failure runs after a failed autonomous run');

# --- a loop task ------------------------------------------------------------------------------------------------------

scalar_query(qq{
	INSERT INTO chronos.tasks (name, schedule, command, on_failure, max_runs)
	VALUES ('failing loop', '\@every 1s', 'SELECT 1/0', \$on_failure\$$record_failure\$on_failure\$, 2)});
ok(wait_for($node, 'postgres', q{SELECT status = 'done' FROM chronos.tasks WHERE name = 'failing loop'}),
	'a failing loop task with max_runs 2 ran twice');
is(scalar_query(q{
	SELECT string_agg(r.run_id::text, ',' ORDER BY r.run_id) = (SELECT string_agg(run_id::text, ',' ORDER BY run_id) FROM failures WHERE task = 'failing loop')
	  FROM chronos.runs r WHERE r.task_name = 'failing loop'}),
	't', 'on_failure runs after each failed slot of a loop task, with that run');

# --- a success --------------------------------------------------------------------------------------------------------

scalar_query(qq{
	INSERT INTO chronos.tasks (name, command, on_failure)
	VALUES ('fine', 'SELECT 1', \$on_failure\$$record_failure\$on_failure\$)});
ok(wait_for($node, 'postgres', q{SELECT status = 'done' FROM chronos.tasks WHERE name = 'fine'}), 'a successful task is done');
is(scalar(failures_of('fine')), 0, 'on_failure does not run after a success');

# --- a failing on_failure ---------------------------------------------------------------------------------------------

my $log_offset = -s $node->logfile;
scalar_query(q{
	INSERT INTO chronos.tasks (name, command, on_failure)
	VALUES ('bad handler', 'SELECT 1/0', 'INSERT INTO no_such_table VALUES (1)')});
ok(wait_for($node, 'postgres', q{SELECT status = 'failed' FROM chronos.tasks WHERE name = 'bad handler'}),
	'a task whose on_failure fails ends failed all the same');
is(scalar_query(q{SELECT concat_ws(',', status, error) FROM chronos.runs WHERE task_name = 'bad handler'}),
	'failed,22012: division by zero', 'its run is recorded with its own error');
ok(wait_for_log_line($node, qr/on_failure.*no_such_table/, $log_offset),
	'the failure of on_failure is logged with its error');

$node->stop;
done_testing();
