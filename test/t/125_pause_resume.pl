# chronos.pause(name) stops a task (true, or false if it was already paused); chronos.resume(name) schedules it again
# and returns its next run. UPDATE chronos.tasks SET status = 'paused' / 'scheduled' does the same.
# That a paused task does not run is checked against a marker: a once task due a few slots later has run, and the
# paused task has not run since it was paused.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ChronosTest;

my $node = start_chronos_node('pause_resume', 'chronos.max_workers = 2');
create_chronos_db($node, 'postgres');
$node->safe_psql('postgres', 'CREATE TABLE hits (task text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())');

sub scalar_query { return $node->safe_psql('postgres', $_[0]); }

my $markers = 0;

# Waits until a once task due $seconds from now has run: the workers were free to run anything due before it.
sub let_time_pass
{
	my ($seconds) = @_;
	my $marker = 'marker ' . ++$markers;
	scalar_query(qq{INSERT INTO chronos.tasks (name, command, start_time) VALUES ('$marker', 'SELECT 1', now() + interval '$seconds s')});
	ok(wait_for($node, 'postgres', "SELECT status = 'done' FROM chronos.tasks WHERE name = '$marker'"),
		"$seconds s pass (a once task due then has run)");
	return;
}

sub add_ticker
{
	my ($name) = @_;
	scalar_query(qq{INSERT INTO chronos.tasks (name, schedule, command) VALUES ('$name', '\@every 1s', \$\$INSERT INTO hits VALUES ('$name')\$\$)});
	ok(wait_for($node, 'postgres', "SELECT count(*) >= 2 FROM hits WHERE task = '$name'"), "task $name runs every second");
	return;
}

sub hits_since
{
	my ($name, $since) = @_;
	return scalar_query("SELECT count(*) FROM hits WHERE task = '$name' AND at > '$since'");
}

# --- chronos.pause and chronos.resume ---------------------------------------------------------------------------------

add_ticker('ticker');
is(scalar_query(q{SELECT chronos.pause('ticker')}), 't', 'chronos.pause returns true for a task it pauses');
my $paused_at = scalar_query('SELECT clock_timestamp()');
is(scalar_query(q{SELECT status FROM chronos.tasks WHERE name = 'ticker'}), 'paused', 'the paused task has status paused');
is(scalar_query(q{SELECT chronos.pause('ticker')}), 'f', 'chronos.pause returns false for a task already paused');
let_time_pass(3);
is(hits_since('ticker', $paused_at), '0', 'a paused loop task does not run');
is(scalar_query(qq{SELECT count(*) FROM chronos.runs WHERE task_name = 'ticker' AND started_at > '$paused_at'}), '0',
	'and has no runs while paused');

my ($resumed) = query_rows($node, 'postgres', q{
	SELECT r IS NOT NULL, r >= now() AND r <= now() + interval '1 s', r FROM chronos.resume('ticker') r});
$resumed //= [];
is($resumed->[0], 't', 'chronos.resume returns a timestamp');
is($resumed->[1], 't', "it is the task's first slot from now on");
is(scalar_query(q{SELECT next_exec_time FROM chronos.tasks WHERE name = 'ticker'}), $resumed->[2],
	"it is the task's next_exec_time");
my $resumed_at = scalar_query('SELECT clock_timestamp()');
is(scalar_query(q{SELECT status FROM chronos.tasks WHERE name = 'ticker'}), 'scheduled', 'a resumed task is scheduled');
ok(wait_for($node, 'postgres', qq{SELECT count(*) >= 2 FROM hits WHERE task = 'ticker' AND at > '$resumed_at'}),
	'a resumed loop task runs on its schedule again');

my ($ret, $out, $err) = $node->psql('postgres', q{SELECT chronos.pause('no such task')});
like($err, qr/task "no such task" does not exist/, 'chronos.pause of an unknown task is an error');
($ret, $out, $err) = $node->psql('postgres', q{SELECT chronos.resume('no such task')});
like($err, qr/task "no such task" does not exist/, 'chronos.resume of an unknown task is an error');

# --- the same with UPDATE ---------------------------------------------------------------------------------------------

add_ticker('updated ticker');
scalar_query(q{UPDATE chronos.tasks SET status = 'paused' WHERE name = 'updated ticker'});
$paused_at = scalar_query('SELECT clock_timestamp()');
let_time_pass(3);
is(hits_since('updated ticker', $paused_at), '0', "a loop task set to status 'paused' by UPDATE does not run");

scalar_query(q{UPDATE chronos.tasks SET status = 'scheduled' WHERE name = 'updated ticker'});
is(scalar_query(q{SELECT next_exec_time >= now() - interval '1 s' AND next_exec_time <= now() + interval '1 s' FROM chronos.tasks WHERE name = 'updated ticker'}),
	't', "setting status back to 'scheduled' recomputes next_exec_time from now");
$resumed_at = scalar_query('SELECT clock_timestamp()');
ok(wait_for($node, 'postgres', qq{SELECT count(*) >= 2 FROM hits WHERE task = 'updated ticker' AND at > '$resumed_at'}),
	"a loop task set back to 'scheduled' by UPDATE runs again");

# --- an autonomous task paused while it runs ---------------------------------------------------------------------------

scalar_query(q{
	INSERT INTO chronos.tasks (name, schedule, command, transactional)
	VALUES ('autonomous', '@every 1s', $$INSERT INTO hits VALUES ('autonomous'); SELECT pg_sleep(2)$$, false)});
ok(wait_for($node, 'postgres', q{SELECT EXISTS (SELECT FROM chronos.running WHERE task_name = 'autonomous')}),
	'an autonomous loop task is running');
is(scalar_query(q{SELECT chronos.pause('autonomous')}), 't', 'chronos.pause pauses an autonomous task while it runs');
ok(wait_for($node, 'postgres', q{SELECT count(*) = 1 AND bool_and(status = 'succeeded') FROM chronos.runs WHERE task_name = 'autonomous'}),
	'the run in progress finishes');
$paused_at = scalar_query('SELECT clock_timestamp()');
is(scalar_query(q{SELECT status FROM chronos.tasks WHERE name = 'autonomous'}), 'paused',
	'the task is still paused after the run that was in progress when it was paused');
let_time_pass(3);
is(hits_since('autonomous', $paused_at), '0', 'and it does not run again');

# --- a once task paused before it is due ------------------------------------------------------------------------------

scalar_query(q{INSERT INTO chronos.tasks (name, command, start_time) VALUES ('later', $$INSERT INTO hits VALUES ('later')$$, now() + interval '1 s')});
is(scalar_query(q{SELECT chronos.pause('later')}), 't', 'a once task can be paused before it is due');
let_time_pass(3);
is(scalar_query(q{SELECT concat_ws(',', status, run_count) FROM chronos.tasks WHERE name = 'later'}), 'paused,0',
	'a paused once task does not run when it falls due');
is(scalar_query(q{SELECT chronos.resume('later')}), scalar_query(q{SELECT start_time FROM chronos.tasks WHERE name = 'later'}),
	'chronos.resume of a once task returns its start time');
ok(wait_for($node, 'postgres', q{SELECT status = 'done' FROM chronos.tasks WHERE name = 'later'}),
	'a resumed once task that is overdue runs at once');
is(scalar_query(q{SELECT count(*) FROM hits WHERE task = 'later'}), '1', 'it ran once');

$node->stop;
done_testing();
