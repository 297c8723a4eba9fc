# A run cannot outlive its timeout or chronos.cancel() by catching the cancel: a command that goes on for 5 s after it
# was cancelled is ended with its worker, and the run is recorded as timed out or cancelled, as if it had stopped
# (the task's retries and next slot apply; nothing runs it again at once). By default one owner's runs leave a run
# permit to the others (chronos.max_runs_per_owner = -1: one less than chronos.max_workers), so a role's long runs
# do not stop other roles' tasks.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ChronosTest;

my $node = start_chronos_node('kept', 'chronos.max_workers = 3');
create_chronos_db($node, 'postgres');
grant_task_rights($node, 'postgres', 'alice');
$node->safe_psql('postgres', q{
	GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA chronos TO alice;
	CREATE TABLE hits (task text, at timestamptz DEFAULT clock_timestamp());
	GRANT INSERT ON hits TO alice;
});

sub as_alice
{
	my ($sql) = @_;
	return $node->safe_psql('postgres', $sql, extra_params => [ '-U', 'alice' ]);
}

# Sleeps a second at a time for 60 s, catching every cancel.
my $stubborn = q{$c$DO $d$ BEGIN FOR i IN 1..60 LOOP BEGIN PERFORM pg_sleep(1);
	EXCEPTION WHEN query_canceled THEN NULL; END; END LOOP; END $d$$c$};

# --- timeouts, in both modes ----------------------------------------------------------------------------------------
as_alice(qq{INSERT INTO chronos.tasks (name, command, timeout, transactional) VALUES
	('stubborn', $stubborn, '1 s', NULL), ('stubborn autonomous', $stubborn, '1 s', false)});
for my $task ('stubborn', 'stubborn autonomous')
{
	ok(wait_for($node, 'postgres', qq{SELECT status = 'failed' FROM chronos.tasks WHERE name = '$task'}, 30),
		"$task: the once task failed");
	my ($status, $error, $seconds, $runs, $crashes) = @{ (query_rows($node, 'postgres', qq{
		SELECT r.status, r.error, extract(epoch FROM r.finished_at - r.started_at)::int,
		       (SELECT count(*) FROM chronos.runs WHERE task_name = '$task'), t.crash_count
		  FROM chronos.runs r JOIN chronos.tasks t ON t.id = r.task_id WHERE r.task_name = '$task'}))[0] };
	is($status, 'timed_out', "$task: its run is recorded as timed out");
	like($error, qr/^57014: run timed out after 1000 ms; the command went on after it was cancelled/,
		"$task: the error says the command ignored the cancel");
	cmp_ok($seconds, '<=', 10, "$task: the run ended within the grace after its timeout ($seconds s)");
	is($runs, '1', "$task: it was not run again");
	is($crashes, '0', "$task: it is not counted as a crash");
}

# --- chronos.cancel() ------------------------------------------------------------------------------------------------
as_alice(qq{INSERT INTO chronos.tasks (name, schedule, command) VALUES ('stubborn loop', '\@every 1h', $stubborn)});
ok(wait_until_task_running($node, 'postgres', 'stubborn loop'), 'the loop task runs');
is(as_alice(q{SELECT chronos.cancel('stubborn loop')}), 't', 'chronos.cancel() cancels it');
ok(wait_for_finished_run($node, 'postgres', 'stubborn loop'), 'the run is over');
my ($status, $error, $next) = @{ (query_rows($node, 'postgres', q{
	SELECT r.status, r.error, t.next_exec_time > now() + interval '50 minutes'
	  FROM chronos.runs r JOIN chronos.tasks t ON t.id = r.task_id WHERE r.task_name = 'stubborn loop'}))[0] };
is($status, 'cancelled', 'the run is recorded as cancelled');
like($error, qr/^57014: run cancelled by chronos.cancel\(\); the command went on after it was cancelled/,
	'the error says the command ignored the cancel');
is($next, 't', 'the task waits for its next slot');
$node->safe_psql('postgres', q{DELETE FROM chronos.tasks});

# --- one owner's long runs ------------------------------------------------------------------------------------------
is($node->safe_psql('postgres', q{SELECT setting FROM pg_settings WHERE name = 'chronos.max_runs_per_owner'}), '-1',
	'chronos.max_runs_per_owner is -1 by default');
as_alice(q{INSERT INTO chronos.tasks (name, command) SELECT 'sleep' || g, 'SELECT pg_sleep(20)' FROM generate_series(1, 4) g});
ok(wait_for($node, 'postgres', q{SELECT count(*) = 2 FROM chronos.running}), 'two of alice\'s sleeps run');
$node->safe_psql('postgres', q{INSERT INTO chronos.tasks (name, schedule, command)
	VALUES ('canary', '@every 1s', $$INSERT INTO hits VALUES ('canary')$$)});
my $since = $node->safe_psql('postgres', 'SELECT clock_timestamp()');
sleep 6;
is($node->safe_psql('postgres', q{SELECT count(*) FROM chronos.running WHERE owner = 'alice'::regrole}), '2',
	'alice holds no more than two of the three run permits');
cmp_ok($node->safe_psql('postgres', qq{SELECT count(*) FROM hits WHERE task = 'canary' AND at > '$since'}), '>=', 4,
	'another role\'s task runs every second meanwhile');

done_testing();
