# Notifications are public (any role may LISTEN on any channel), so by default they carry only ids and the status:
# another role listening on chronos learns neither the task's name nor its error or result. A task with
# notify_details adds them, cut so that the payload stays under pg_notify's limit: a 1 MB error is still recorded, and
# its notification is cut on a character boundary.
use strict;
use warnings;

use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);
use ChronosTest;

my $node = start_chronos_node('security_notify', 'chronos.max_workers = 2');
create_chronos_db($node, 'postgres');
$node->safe_psql('postgres', q{
	CREATE ROLE alice LOGIN;
	CREATE ROLE eve LOGIN;
	GRANT USAGE ON SCHEMA chronos TO alice, eve;
	GRANT SELECT, INSERT, UPDATE, DELETE ON chronos.tasks TO alice, eve;
	GRANT SELECT ON chronos.runs, chronos.task_status, chronos.running, chronos.history, chronos.task_stats TO alice, eve;
	GRANT USAGE ON ALL SEQUENCES IN SCHEMA chronos TO alice, eve;
});

sub scalar_query { return $node->safe_psql('postgres', $_[0]); }
sub as_alice { return $node->safe_psql('postgres', $_[0], connstr => $node->connstr('postgres') . ' user=alice'); }

# eve listens on the default channel.
my $listener = role_session($node, 'postgres', 'eve');
$listener->set_query_timer_restart();
$listener->query_safe('LISTEN chronos');

my @received;    # { raw => payload bytes, run => decoded JSON }

sub collect_notifications
{
	my $output = $listener->query('SELECT 1');
	for my $line (split /\n/, $output)
	{
		next unless $line =~ /^Asynchronous notification "chronos" with payload "(.*)" received from server process with PID \d+\.$/;
		my $raw = $1;
		my $run = eval { JSON::PP->new->utf8->decode($raw) } // eval { JSON::PP->new->decode($raw) };
		diag("undecodable notification payload: $raw") unless $run;
		push @received, { raw => $raw, run => $run // {} };
	}
	return;
}

# Waits (polling every 50 ms, up to 90 s) for a notification about task $id.
sub notification_of
{
	my ($id) = @_;
	my $deadline = Time::HiRes::time() + 90;
	while (Time::HiRes::time() < $deadline)
	{
		collect_notifications();
		my ($found) = grep { ($_->{run}{task_id} // 0) == $id } @received;
		return $found if $found;
		usleep(50_000);
	}
	diag("no notification about task $id; received: " . join("\n", map { $_->{raw} } @received));
	return { raw => '', run => {} };
}

sub add_alice_task
{
	my ($name, $command, $details) = @_;
	return as_alice("INSERT INTO chronos.tasks (name, command, notify_on, notify_details)
	                 VALUES ('$name', \$c\$$command\$c\$, 'always', $details) RETURNING id");
}

# --- by default: ids and status only ----------------------------------------------------------------------------------

my $failing = add_alice_task('alice payroll failure',
	q{DO $$BEGIN RAISE EXCEPTION 'password of the payroll db is hunter2'; END$$}, 'false');
my $note = notification_of($failing);
is(join(',', sort keys %{ $note->{run} }), 'attempt,run_id,status,task_id',
	"another role listening on chronos receives only task_id, run_id, status and attempt of a failing task");
is($note->{run}{status}, 'failed', 'with the status of the run');
unlike($note->{raw}, qr/hunter2|payroll|password/, 'and neither its error text nor its name');
is(scalar_query("SELECT error FROM chronos.runs WHERE task_id = $failing"),
	'P0001: password of the payroll db is hunter2', 'the error is kept in chronos.runs, for alice');
is($node->safe_psql('postgres', "SELECT count(*) FROM chronos.runs WHERE task_id = $failing",
		connstr => $node->connstr('postgres') . ' user=eve'), '0', 'which eve cannot read');

my $succeeding = add_alice_task('alice salaries', q{SELECT 'salary of bob is 9000' AS secret}, 'false');
$note = notification_of($succeeding);
is(join(',', sort keys %{ $note->{run} }), 'attempt,run_id,status,task_id',
	'a successful run is notified with the same keys');
unlike($note->{raw}, qr/9000|salar/, 'without its result');

# --- notify_details: the owner asks for the details -------------------------------------------------------------------

my $detailed = add_alice_task('alice detailed', q{DO $$BEGIN RAISE EXCEPTION 'details wanted'; END$$}, 'true');
$note = notification_of($detailed);
is(join(',', sort keys %{ $note->{run} }),
	'attempt,duration_ms,error,result,run_id,scheduled_for,started_at,status,task,task_id',
	'with notify_details the notification carries the name, times, error and result');
is($note->{run}{error}, 'P0001: details wanted', 'including the error text');
is($note->{run}{task}, 'alice detailed', 'and the task name');

# --- a 1 MB error ------------------------------------------------------------------------------------------------------

my $huge = add_alice_task('alice huge error', q{DO $$BEGIN RAISE EXCEPTION '%', repeat('é', 500000); END$$}, 'true');
$note = notification_of($huge);
ok(wait_for($node, 'postgres', "SELECT status = 'failed' FROM chronos.tasks WHERE id = $huge"),
	'a run failing with a 1 MB error is recorded: its task ends failed');
is(scalar_query("SELECT status || ' ' || (length(error) > 1000) FROM chronos.runs WHERE task_id = $huge"), 'failed true',
	'and its run is in chronos.runs with its error');
ok(length($note->{raw}) > 0 && length($note->{raw}) < 8000,
	'its notification arrives, under 8000 bytes (' . length($note->{raw}) . ')');
my $copy = $note->{raw};
ok(utf8::decode($copy), 'the notification is valid UTF-8: the error was cut on a character boundary');
like($note->{run}{error} // '', qr/^P0001: \x{e9}+$/, 'it holds the start of the error, whole characters only');

# Bookkeeping went on: a later task of alice runs and is notified.
my $after = add_alice_task('alice after', 'SELECT 1', 'false');
is(notification_of($after)->{run}{status}, 'succeeded', 'runs after it are recorded and notified as before');

$listener->quit;
$node->stop;
done_testing();
