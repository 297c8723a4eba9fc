# Notifications: after a run, pg_notify(notify_channel, run as JSON) when notify_on says so — 'never' (default),
# 'failure', 'success', 'always', or 'match' (a notify_match keyword found, ignoring case, in the result or error text).
# By default the JSON has the keys task_id, run_id, status and attempt only; with notify_details it also has task,
# scheduled_for, started_at, duration_ms, error and result. It is sent when the run's bookkeeping commits. A LISTENing
# psql session receives them. (test/t/215_security_notify.pl: what other roles read, and long errors.)
use strict;
use warnings;

use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);
use ChronosTest;

my $node = start_chronos_node('notifications', 'chronos.max_workers = 2');
create_chronos_db($node, 'postgres');

sub scalar_query { return $node->safe_psql('postgres', $_[0]); }

my $listener = $node->background_psql('postgres');
$listener->set_query_timer_restart();
$listener->query_safe('LISTEN chronos; LISTEN ops');

# Every notification received so far, in order: { channel => …, run => decoded JSON payload, raw => payload text }.
my @received;

sub collect_notifications
{
	my $output = $listener->query('SELECT 1');
	for my $line (split /\n/, $output)
	{
		next unless $line =~ /^Asynchronous notification "([^"]*)" with payload "(.*)" received from server process with PID \d+\.$/;
		my ($channel, $payload) = ($1, $2);
		my $run = eval { JSON::PP->new->decode($payload) };
		diag("undecodable notification payload: $payload") unless $run;
		push @received, { channel => $channel, run => $run // {}, raw => $payload };
	}
	return;
}

# The notifications about task $name received so far.
sub notifications_of
{
	my ($name) = @_;
	collect_notifications();
	return grep { ($_->{run}{task} // '') eq $name } @received;
}

# Waits (polling every 50 ms, up to 60 s) until $count notifications about task $name have arrived; returns them.
sub wait_for_notifications
{
	my ($name, $count) = @_;
	$count //= 1;
	my $deadline = Time::HiRes::time() + 60;
	my @found;
	while (Time::HiRes::time() < $deadline)
	{
		@found = notifications_of($name);
		return @found if @found >= $count;
		usleep(50_000);
	}
	diag("waited in vain for $count notification(s) about task $name; received: " . join("\n", map { $_->{raw} } @received));
	return @found;
}

# Collects notifications until $found returns true (polling every 50 ms, up to 60 s).
sub poll_notifications
{
	my ($found) = @_;
	my $deadline = Time::HiRes::time() + 60;
	while (Time::HiRes::time() < $deadline)
	{
		collect_notifications();
		return 1 if $found->();
		usleep(50_000);
	}
	return 0;
}

my $marker_count = 0;

# Runs a task that notifies always and waits for its notification: every notification of a run committed before it
# has arrived too.
sub wait_for_marker
{
	my $marker = 'marker ' . ++$marker_count;
	scalar_query("INSERT INTO chronos.tasks (name, command, notify_on, notify_details)
	              VALUES ('$marker', 'SELECT 1', 'always', true)");
	my @found = wait_for_notifications($marker);
	is(scalar @found, 1, "the notification of $marker arrived");
	return;
}

# Inserts task $name running $command, with other columns given as (column => text) pairs; notify_details is true unless
# given (the notifications are told apart by task name).
sub add_task
{
	my ($name, $command, %controls) = @_;
	$controls{notify_details} //= 'true';
	my @columns = ('name', 'command', sort keys %controls);
	my @values = map { "\$v\$$_\$v\$" } ($name, $command, map { $controls{$_} } sort keys %controls);
	scalar_query('INSERT INTO chronos.tasks (' . join(', ', @columns) . ') VALUES (' . join(', ', @values) . ')');
	return;
}

# --- notify_on 'failure': the JSON ------------------------------------------------------------------------------------

add_task('divide', 'SELECT 1/0', notify_on => 'failure');
my ($note) = wait_for_notifications('divide');
$note //= { run => {} };
is($note->{channel}, 'chronos', 'a failed run with notify_on failure is notified on channel chronos');
is(scalar_query(q{SELECT count(*) FROM chronos.runs WHERE run_id = } . (0 + ($note->{run}{run_id} // 0))), '1',
	'when the notification arrives, the run it names is committed in chronos.runs');
my $run = $note->{run};
is(join(',', sort keys %$run), 'attempt,duration_ms,error,result,run_id,scheduled_for,started_at,status,task,task_id',
	'the notification has the keys task, task_id, run_id, status, attempt, scheduled_for, started_at, duration_ms, error, result');
is($run->{task_id}, scalar_query(q{SELECT id FROM chronos.tasks WHERE name = 'divide'}), 'task_id is the id of the task');
is($run->{run_id}, scalar_query(q{SELECT run_id FROM chronos.runs WHERE task_name = 'divide'}), 'run_id is the id of the run');
is($run->{status}, 'failed', 'status is the status of the run');
is($run->{attempt}, 1, 'attempt is 1 for a first attempt');
is($run->{error}, '22012: division by zero', 'error is the SQLSTATE and message of the error');
ok(!defined $run->{result}, 'result is null for a failed run');
is(scalar_query(qq{
	SELECT scheduled_for = '$run->{scheduled_for}' AND started_at = '$run->{started_at}'
	       AND abs(extract(epoch FROM finished_at - started_at) * 1000 - $run->{duration_ms}) < 1
	  FROM chronos.runs WHERE task_name = 'divide'}),
	't', 'scheduled_for, started_at and duration_ms are those of the run');

# --- without notify_details: ids and status only ---------------------------------------------------------------------

add_task('brief', 'SELECT 1/0', notify_on => 'failure', notify_details => 'false');
my $brief_id = scalar_query(q{SELECT id FROM chronos.tasks WHERE name = 'brief'});
my $brief;
ok(poll_notifications(sub { ($brief) = grep { ($_->{run}{task_id} // 0) == $brief_id } @received; $brief }),
	'a task without notify_details is notified');
is(join(',', sort keys %{ $brief->{run} // {} }), 'attempt,run_id,status,task_id',
	'without notify_details the notification has only the keys task_id, run_id, status and attempt');
is($brief->{run}{status} // '', 'failed', 'with the status of the run');
unlike($brief->{raw} // '', qr/division|brief/, 'and neither the error nor the task name');

# --- notify_on 'success' ----------------------------------------------------------------------------------------------

add_task('one', 'SELECT 1 AS one', notify_on => 'success');
($note) = wait_for_notifications('one');
is($note->{run}{status}, 'succeeded', 'a successful run with notify_on success is notified');
is($note->{run}{result}, "SELECT 1\n1", 'result is the result of the run');
ok(!defined $note->{run}{error}, 'error is null for a successful run');

# --- who is not notified ----------------------------------------------------------------------------------------------

add_task('quiet success', 'SELECT 1', notify_on => 'failure');
add_task('quiet failure', 'SELECT 1/0', notify_on => 'success');
add_task('quiet by default', 'SELECT 1/0');
ok(wait_for($node, 'postgres', q{SELECT count(*) = 3 FROM chronos.runs WHERE task_name LIKE 'quiet %'}), 'the quiet tasks ran');
wait_for_marker();
is(scalar(notifications_of('quiet success')), 0, 'a successful run with notify_on failure is not notified');
is(scalar(notifications_of('quiet failure')), 0, 'a failed run with notify_on success is not notified');
is(scalar(notifications_of('quiet by default')), 0, "notify_on is 'never' by default");

# --- notify_on 'always' -----------------------------------------------------------------------------------------------

add_task('always ok', 'SELECT 1', notify_on => 'always');
add_task('always failing', 'SELECT 1/0', notify_on => 'always');
is(scalar(wait_for_notifications('always ok')), 1, 'a successful run with notify_on always is notified');
is(scalar(wait_for_notifications('always failing')), 1, 'a failed run with notify_on always is notified');

# --- notify_on 'match' ------------------------------------------------------------------------------------------------

add_task('deadlock', q{DO $$BEGIN RAISE EXCEPTION 'a Deadlock was detected'; END$$}, notify_on => 'match',
	notify_match => '{DEADLOCK,timeout}');
add_task('timeout in result', q{SELECT 'Timeout reached'}, notify_on => 'match', notify_match => '{DEADLOCK,timeout}');
add_task('no keyword', 'SELECT 1/0', notify_on => 'match', notify_match => '{DEADLOCK,timeout}');
my ($deadlock) = wait_for_notifications('deadlock');
like($deadlock->{run}{error} // '', qr/a Deadlock was detected/,
	'notify_on match notifies a run whose error has a keyword, ignoring case');
my ($in_result) = wait_for_notifications('timeout in result');
is($in_result->{run}{result}, "SELECT 1\nTimeout reached", 'notify_on match notifies a run whose result has a keyword');
ok(wait_for($node, 'postgres', q{SELECT EXISTS (SELECT FROM chronos.runs WHERE task_name = 'no keyword')}),
	'the run without keyword ran');
wait_for_marker();
is(scalar(notifications_of('no keyword')), 0, 'notify_on match does not notify a run without any keyword');

# --- notify_channel ---------------------------------------------------------------------------------------------------

add_task('to ops', 'SELECT 1', notify_on => 'always', notify_channel => 'ops');
($note) = wait_for_notifications('to ops');
is($note->{channel}, 'ops', 'the notification goes to notify_channel');
is(scalar(grep { $_->{channel} eq 'chronos' } notifications_of('to ops')), 0, 'and not to chronos');

# --- attempts and timeouts --------------------------------------------------------------------------------------------

add_task('retried', 'SELECT 1/0', notify_on => 'failure', max_retries => 1, retry_delay => '1 s');
my @attempts = wait_for_notifications('retried', 2);
is(join(',', map { $_->{run}{attempt} // '?' } @attempts), '1,2', 'each attempt is notified, with its number');

add_task('too slow', 'SELECT pg_sleep(30)', notify_on => 'failure', timeout => '500 ms');
($note) = wait_for_notifications('too slow');
is($note->{run}{status}, 'timed_out', 'a timed-out run is notified as a failure, with status timed_out');
is($note->{run}{error}, '57014: run timed out after 500 ms', 'with the timeout error');

$listener->quit;
$node->stop;
done_testing();
