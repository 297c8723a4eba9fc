# No input makes an endless crash loop. A task whose runs end their worker — by terminating it (FATAL), by killing its
# process (as the out-of-memory killer does: the server restarts and the run's transaction is gone) — has each such run
# recorded as interrupted with its cause, and after chronos.max_crashes of them in a row it is quarantined: failed,
# with a last_error that says why and how to schedule it again. The rest of the database keeps its schedule, and a
# command that exhausts memory only fails.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ChronosTest;

my $node = start_chronos_node('crash_loop', 'chronos.max_crashes = 3', 'restart_after_crash = on');
create_chronos_db($node, 'postgres');
my $offset = -s $node->logfile;

sub su { return $node->safe_psql('postgres', $_[0]); }

su(q{
	CREATE TABLE canary (at timestamptz DEFAULT clock_timestamp());
	INSERT INTO chronos.tasks (name, schedule, command) VALUES ('canary', '@every 1s', 'INSERT INTO canary DEFAULT VALUES');
});

sub expect_quarantine
{
	my ($name, $cause) = @_;
	ok(wait_for($node, 'postgres', "SELECT status = 'failed' FROM chronos.tasks WHERE name = '$name'", 180),
		"$name: the task is quarantined");
	my ($task) = query_rows($node, 'postgres',
		"SELECT crash_count, last_status, last_error FROM chronos.tasks WHERE name = '$name'");
	$task //= [];
	is($task->[0], '3', "$name: its crash count reached chronos.max_crashes");
	is($task->[1], 'interrupted', "$name: its last run is recorded as interrupted");
	like($task->[2] // '', qr/^quarantined: 3 consecutive runs ended the worker running them \(the last: .*$cause/,
		"$name: last_error says it is quarantined, and why");
	like($task->[2] // '', qr/set status to 'scheduled'/, "$name: last_error says how to schedule it again");
	is(su("SELECT count(*) FROM chronos.runs WHERE task_name = '$name' AND status = 'interrupted'"), '3',
		"$name: each run that ended its worker is recorded");
	sleep(3);
	is(su("SELECT count(*) FROM chronos.runs WHERE task_name = '$name'"), '3', "$name: a quarantined task runs no more");
	my $canary = su('SELECT count(*) FROM canary');
	ok(wait_for($node, 'postgres', "SELECT count(*) > $canary + 1 FROM canary"), "$name: the canary keeps its schedule");
	return;
}

# A run that terminates its own worker (FATAL, SIGTERM from a backend).
su(q{INSERT INTO chronos.tasks (name, command) VALUES ('self-terminate', 'SELECT pg_terminate_backend(pg_backend_pid())')});
expect_quarantine('self-terminate', '57P01');

# A run whose worker is killed: the postmaster restarts every process, and the run's transaction is lost.
su(q{INSERT INTO chronos.tasks (name, command) VALUES ('killed', $cmd$DO $do$ BEGIN
	EXECUTE format('COPY (SELECT 1) TO PROGRAM %L', 'kill -9 ' || pg_backend_pid()); END $do$$cmd$)});
expect_quarantine('killed', 'killed or crashed');
my $restarts = () = slurp_file($node->logfile, $offset) =~ /all server processes terminated; reinitializing/g;
is($restarts, 3, 'the server restarted once for each run of the killed task, and no more');

# Scheduling it again gives it another chance; it quarantines again after three more.
is(su(q{UPDATE chronos.tasks SET status = 'scheduled' WHERE name = 'self-terminate' RETURNING crash_count}), '0',
	'scheduling a quarantined task again sets its crash count back to 0');
ok(wait_for($node, 'postgres',
		q{SELECT status = 'failed' AND crash_count = 3 FROM chronos.tasks WHERE name = 'self-terminate'}, 120),
	'a task scheduled again after quarantine is quarantined again after as many crashes');

# Exhausting memory is an error of the run, not a crash.
su(q{INSERT INTO chronos.tasks (name, command)
     VALUES ('hungry', $$SELECT length(string_agg(repeat('x', 10000000), '')) FROM generate_series(1, 120)$$)});
ok(wait_for($node, 'postgres', q{SELECT last_status = 'failed' FROM chronos.tasks WHERE name = 'hungry'}, 120),
	'a command that exhausts memory fails');
is(su(q{SELECT crash_count FROM chronos.tasks WHERE name = 'hungry'}), '0', 'and does not count as a crash');

# A shutdown in the middle of a run is no crash of the task.
su(q{INSERT INTO chronos.tasks (name, command) VALUES ('long', 'SELECT pg_sleep(30)')});
# Its command is in pg_sleep: a run shown in chronos.running may not have started its command yet, and a shutdown
# then only rolls its claim back (the task runs after the restart).
ok(wait_for($node, 'postgres', q{SELECT count(*) = 1 FROM chronos.running r JOIN pg_stat_activity a ON a.pid = r.pid
	WHERE r.task_name = 'long' AND a.wait_event = 'PgSleep'}),
	'a long run is in progress');
$node->restart(mode => 'fast');
ok(wait_for($node, 'postgres',
		q{SELECT count(*) = 1 FROM chronos.runs WHERE task_name = 'long' AND status = 'interrupted'}),
	'a run cut by a shutdown is recorded as interrupted');
is(su(q{SELECT crash_count FROM chronos.tasks WHERE name = 'long'}), '0', 'a shutdown does not count as a crash');

my $log = slurp_file($node->logfile, $offset);
unlike($log, qr/PANIC/, 'no PANIC in the server log');
$node->stop;
done_testing();
