# Every run that ends other than succeeded writes one LOG line to the server log, when its recording commits: the run's
# id, the task's name and id, the database, what became of the run and its error ("SQLSTATE: message"), with a DETAIL
# of its status, owner, attempt, schedule, lateness and duration. A run whose worker is terminated is logged as
# interrupted (and its task's quarantine on the same line). Successful runs are logged only by
# chronos.log_successful_runs or, when slow, chronos.log_min_duration.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ChronosTest;

# One worker: runs are sequential, so a later run's line in the log means an earlier run's line would be there.
my $node = start_chronos_node('run_log', 'chronos.max_workers = 1', 'chronos.max_crashes = 1');
create_chronos_db($node, 'postgres');
my $offset = -s $node->logfile;

sub su { return $node->safe_psql('postgres', $_[0]); }

sub add_task
{
	my ($name, $command, $extra_columns, $extra_values) = @_;
	$extra_columns //= '';
	$extra_values //= '';
	return su(qq{INSERT INTO chronos.tasks (name, command$extra_columns) VALUES ('$name', \$\$$command\$\$$extra_values)
	             RETURNING id});
}

sub run_id_of
{
	my ($name) = @_;
	return su(qq{SELECT run_id FROM chronos.runs WHERE task_name = '$name' ORDER BY run_id DESC LIMIT 1});
}

sub lines_of
{
	my ($name) = @_;
	my @lines = slurp_file($node->logfile, $offset) =~ /pg_chronos: (?:a )?run (?:\d+ )?of task "\Q$name\E"/g;
	return scalar @lines;
}

# The line of a run of task $name (id $id) that ended as $words (a regexp), with the DETAIL of status $status.
sub line_pattern
{
	my ($name, $id, $words, $status, $attempts) = @_;
	my $run = run_id_of($name);
	return qr/LOG:  pg_chronos: run $run of task "\Q$name\E" \(id $id\) in database "postgres" $words\n[^\n]*DETAIL:  status $status, owner postgres, attempt 1 of $attempts, scheduled for \d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?\+00, started \d+ ms late, took \d+\.\d ms/;
}

# A run that waits for the worker: a failing marker task whose line shows every earlier run's line is written.
my $markers = 0;
sub flush_log
{
	my $name = 'marker ' . ++$markers;
	my $id = add_task($name, 'SELECT 1/0');
	ok(wait_for_log_line($node, qr/of task "\Q$name\E" \(id $id\)/, $offset, 120), "$name: its line is written");
}

# --- runs that end other than succeeded -------------------------------------------------------------------------------

my $id = add_task('divides by zero', 'SELECT 1/0', ', max_retries, retry_delay', q{, 2, '1 s'});
ok(wait_for($node, 'postgres', q{SELECT status = 'failed' FROM chronos.tasks WHERE name = 'divides by zero'}, 120),
	'a failing task fails after its retries');
ok(wait_for_log_line($node, qr/of task "divides by zero" \(id $id\) in database "postgres" failed: [^\n]*\n[^\n]*attempt 3 of 3/,
		$offset, 60), 'its last attempt writes a line');
my $log = slurp_file($node->logfile, $offset);
my @attempts = $log =~ /pg_chronos: run \d+ of task "divides by zero" \(id $id\) in database "postgres" failed: 22012: division by zero\n[^\n]*DETAIL:  status failed, owner postgres, attempt (\d) of 3, scheduled for [^,]+\+00, started \d+ ms late, took \d+\.\d ms/g;
is(join(',', @attempts), '1,2,3', 'each failed run of a failing task writes one line with its attempt, SQLSTATE and message');
flush_log();
is(lines_of('divides by zero'), 3, 'a failing task with two retries writes exactly three lines');

my $unnamed = $node->safe_psql('postgres', q{INSERT INTO chronos.tasks (command) VALUES ('SELECT 1/0') RETURNING id});
ok(wait_for_log_line($node, qr/pg_chronos: run \d+ of task \(id $unnamed\) in database "postgres" failed: 22012/, $offset, 60),
	'a task without a name is named by its id alone in its line');

$id = add_task('sleeps past its timeout', 'SELECT pg_sleep(60)', ', timeout', q{, '1 s'});
ok(wait_for_finished_run($node, 'postgres', 'sleeps past its timeout'), 'the run with a timeout ends');
ok(wait_for_log_line($node,
		line_pattern('sleeps past its timeout', $id, 'timed out: 57014: run timed out after 1000 ms', 'timed_out', 1),
		$offset, 60),
	'a timed-out run writes a line saying it timed out, with its error');

$id = add_task('sleeps until cancelled', 'SELECT pg_sleep(60)');
ok(wait_for($node, 'postgres', q{SELECT EXISTS (SELECT FROM chronos.running WHERE task_name = 'sleeps until cancelled')}),
	'the task to cancel is running');
is(su(q{SELECT chronos.cancel('sleeps until cancelled')}), 't', 'chronos.cancel stops it');
ok(wait_for_finished_run($node, 'postgres', 'sleeps until cancelled'), 'the cancelled run ends');
ok(wait_for_log_line($node,
		line_pattern('sleeps until cancelled', $id, 'was cancelled: 57014: run cancelled by chronos.cancel\(\)',
			'cancelled', 1),
		$offset, 60),
	'a cancelled run writes a line saying it was cancelled');

$id = add_task('terminates its worker', 'SELECT pg_terminate_backend(pg_backend_pid())');
ok(wait_for($node, 'postgres', q{SELECT status = 'failed' FROM chronos.tasks WHERE name = 'terminates its worker'}, 120),
	'a task whose run terminates its worker is quarantined (chronos.max_crashes = 1)');
ok(wait_for_log_line($node,
		qr/LOG:  pg_chronos: run \d+ of task "terminates its worker" \(id $id\) in database "postgres" was interrupted and its task is quarantined: 57P01: terminating background worker "pg_chronos worker" due to administrator command\n[^\n]*DETAIL:  status interrupted, owner postgres, attempt 1 of 1, scheduled for [^,]+\+00, started \d+ ms late, took \d+\.\d ms; 1 consecutive runs ended the worker running them\n[^\n]*HINT:  Fix its command, then UPDATE chronos.tasks SET status = 'scheduled' WHERE id = $id/,
		$offset, 60),
	'the interrupted run writes a line saying so and that its task is quarantined, with the way out')
  or diag(join "\n", slurp_file($node->logfile, $offset) =~ /(pg_chronos: run [^\n]*"terminates its worker"[^\n]*\n[^\n]*\n[^\n]*)/g);
my $run = run_id_of('terminates its worker');
like(slurp_file($node->logfile, $offset), qr/pg_chronos: run $run of task "terminates its worker"/,
	'the interrupted run\'s line names its run id');

flush_log();
is(lines_of('sleeps past its timeout'), 1, 'the timed-out run writes exactly one line');
is(lines_of('sleeps until cancelled'), 1, 'the cancelled run writes exactly one line');
is(lines_of('terminates its worker'), 1, 'the interrupted and quarantined run writes exactly one line');

# --- successful runs --------------------------------------------------------------------------------------------------

add_task('succeeds quietly', 'SELECT 1');
ok(wait_for_finished_run($node, 'postgres', 'succeeds quietly'), 'the successful task runs');
flush_log();
is(lines_of('succeeds quietly'), 0, 'a successful run writes no line by default');

su(q{ALTER SYSTEM SET chronos.log_successful_runs = on; SELECT pg_reload_conf()});
sleep(2);  # the worker reloads when signalled; the line below is waited for in any case
$id = add_task('succeeds loudly', 'SELECT 1');
ok(wait_for_finished_run($node, 'postgres', 'succeeds loudly'), 'the successful task runs after the reload');
ok(wait_for_log_line($node, line_pattern('succeeds loudly', $id, 'succeeded', 'succeeded', 1), $offset, 60),
	'with chronos.log_successful_runs = on, a successful run writes a line');
flush_log();
is(lines_of('succeeds loudly'), 1, 'the successful run writes exactly one line');

su(q{ALTER SYSTEM RESET chronos.log_successful_runs; ALTER SYSTEM SET chronos.log_min_duration = 100;
     SELECT pg_reload_conf()});
sleep(2);
add_task('quick', 'SELECT 1');
ok(wait_for_finished_run($node, 'postgres', 'quick'), 'the quick task runs');
$id = add_task('slow', 'SELECT pg_sleep(0.3)');
ok(wait_for_finished_run($node, 'postgres', 'slow'), 'the slow task runs');
ok(wait_for_log_line($node, line_pattern('slow', $id, 'succeeded', 'succeeded', 1), $offset, 60),
	'with chronos.log_min_duration = 100, a successful run of 300 ms writes a line');
my ($took) = slurp_file($node->logfile, $offset) =~ /of task "slow" .*\n[^\n]*took (\d+\.\d) ms/;
ok(defined $took && $took >= 300, 'its line says how long it took (' . ($took // '?') . ' ms)');
flush_log();
is(lines_of('quick'), 0, 'a successful run quicker than chronos.log_min_duration writes no line');

$node->stop;
done_testing();
