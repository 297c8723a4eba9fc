# No wait holds a run permit. A plain role locks the rows of its own running autonomous tasks (SELECT … FOR UPDATE in
# an open transaction), so that their outcome cannot be recorded, and one of those runs also loses its worker. With a
# single run permit for the whole cluster, another database's task and another role's task in the same database keep
# running every second meanwhile; the log says what a recording waits for and who holds it; once the lock is gone, the
# runs are recorded with their real outcome (the one whose worker ended as interrupted).
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ChronosTest;

my $node = start_chronos_node('row_locks', 'chronos.max_workers = 1');
$node->safe_psql('postgres', 'CREATE DATABASE d1; CREATE DATABASE d2');
for my $db (qw(d1 d2))
{
	$node->safe_psql($db, q{CREATE EXTENSION pg_chronos;
		CREATE TABLE hits (task text, at timestamptz DEFAULT clock_timestamp());
		GRANT INSERT ON hits TO PUBLIC});
}
grant_task_rights($node, 'd1', $_) for qw(app victim);
$node->safe_psql('d1', q{CREATE PROCEDURE public.slow() LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(1.5); END $$;
                         GRANT EXECUTE ON PROCEDURE public.slow() TO app});
$node->safe_psql('d2', q{INSERT INTO chronos.tasks (name, schedule, command)
                         VALUES ('d2 beat', '@every 1s', $$INSERT INTO hits VALUES ('d2 beat')$$)});
$node->safe_psql('d1', q{SET ROLE victim; INSERT INTO chronos.tasks (name, schedule, command)
                         VALUES ('victim beat', '@every 1s', $$INSERT INTO hits VALUES ('victim beat')$$)});
ok(wait_for($node, 'd2', q{SELECT count(*) >= 2 FROM hits}), 'the other database\'s task runs');

# Locks, in a session of the plain role, the rows of its tasks called $pattern as they start running, until $runs of
# them have started; returns the session (its transaction open) and its pid.
sub lock_running_rows
{
	my ($pattern, $runs) = @_;
	my $locker = role_session($node, 'd1', 'app');
	my $pid = $locker->query_safe('SELECT pg_backend_pid()');
	$locker->query_safe('BEGIN');
	my $deadline = time + 60;
	while (time < $deadline)
	{
		my $started = $node->safe_psql('d1', "SELECT count(*) FROM chronos.runs WHERE task_name LIKE '$pattern'");
		$locker->query_safe("SELECT count(*) FROM (SELECT FROM chronos.tasks WHERE name LIKE '$pattern'
		                                           AND status = 'running' FOR UPDATE) locked");
		last if $started >= $runs;
		select(undef, undef, undef, 0.1);
	}
	return ($locker, $pid);
}

# While $what: the other database's task and another role's task in d1 keep running (one permit for the cluster).
sub others_run_on
{
	my ($what) = @_;
	my $d2 = $node->safe_psql('d2', 'SELECT count(*) FROM hits');
	my $victim = $node->safe_psql('d1', q{SELECT count(*) FROM hits WHERE task = 'victim beat'});
	sleep 5;
	my $d2_runs = $node->safe_psql('d2', 'SELECT count(*) FROM hits') - $d2;
	my $victim_runs = $node->safe_psql('d1', q{SELECT count(*) FROM hits WHERE task = 'victim beat'}) - $victim;
	ok($d2_runs >= 3, "$what, the other database's task runs on ($d2_runs runs in 5 s)");
	ok($victim_runs >= 3, "$what, another role's task in the same database runs on ($victim_runs runs in 5 s)");
}

# Recording waits: three runs end while their rows are locked.
my $offset = -s $node->logfile;
$node->safe_psql('d1', q{SET ROLE app; INSERT INTO chronos.tasks (name, command)
                         SELECT 'locked ' || i, 'CALL public.slow()' FROM generate_series(1, 3) i});
my ($locker, $locker_pid) = lock_running_rows('locked %', 3);
ok(wait_for($node, 'd1', q{SELECT count(*) = 3 FROM chronos.runs WHERE task_name LIKE 'locked %'}), 'all three have run');
ok(wait_for_log_line($node,
		qr/recording run \d+ of task \d+ in database "d1" waits for a lock on the task's row of chronos\.tasks\n.*DETAIL:  Process $locker_pid holds it/,
		$offset), 'the log says which recording waits, for what, and who holds it');
others_run_on('while the recordings wait');
is($node->safe_psql('d1', q{SELECT count(*) FROM chronos.tasks WHERE name LIKE 'locked %' AND status = 'running'}),
	'3', 'the locked runs wait to be recorded');
$locker->query_safe('COMMIT');
$locker->quit;
ok(wait_for($node, 'd1',
		q{SELECT count(*) = 3 FROM chronos.runs WHERE task_name LIKE 'locked %' AND status = 'succeeded'}),
	'once the lock is released, the runs are recorded as they ended: succeeded');
is($node->safe_psql('d1', q{SELECT string_agg(DISTINCT status::text, ',') FROM chronos.tasks WHERE name LIKE 'locked %'}),
	'done', 'the once tasks are done, each having run once');

# Recovery waits: a run's worker is terminated while its row is locked.
$node->safe_psql('d1', q{SET ROLE app; INSERT INTO chronos.tasks (name, command) VALUES ('killed', 'CALL public.slow()')});
($locker, $locker_pid) = lock_running_rows('killed', 1);
$node->safe_psql('postgres', q{SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                               WHERE datname = 'd1' AND query LIKE 'pg_chronos task killed:%'});
others_run_on('while the recovery of a run waits');
$locker->query_safe('COMMIT');
$locker->quit;
ok(wait_for($node, 'd1',
		q{SELECT status = 'interrupted' FROM chronos.runs WHERE task_name = 'killed' ORDER BY run_id LIMIT 1}),
	'once the lock is released, the run whose worker was terminated is recorded as interrupted');
unlike(slurp_file($node->logfile, $offset), qr/PANIC|terminated by signal (?!15)/, 'nothing crashed');

$node->stop;
done_testing();
