# Workers stay up whatever happens to them or to their tasks: a terminated executor is replaced, settings reload on
# SIGHUP, a task whose owner was dropped fails on its own, and chronos.max_workers caps the runs in progress.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ChronosTest;

my $node = start_chronos_node('lifecycle', 'chronos.max_workers = 2');
create_chronos_db($node, 'postgres');
$node->safe_psql('postgres', 'CREATE TABLE ticks (task text, at timestamptz DEFAULT clock_timestamp())');

# A terminated executor is replaced, and tasks keep running.
$node->safe_psql('postgres',
	q{SELECT chronos.schedule('tick', '* * * * * *', $$INSERT INTO ticks (task) VALUES ('tick')$$)});
ok(wait_for($node, 'postgres', "SELECT count(*) >= 2 FROM ticks WHERE task = 'tick'"), 'a loop task runs');
my $victims = $node->safe_psql('postgres',
	"SELECT string_agg(pid::text, ',') FROM pg_stat_activity WHERE backend_type = 'pg_chronos worker'");
ok($victims ne '', "executors are running ($victims)");
$node->safe_psql('postgres', "SELECT pg_terminate_backend(pid) FROM unnest('{$victims}'::int[]) pid");
ok( wait_for(
		$node, 'postgres',
		"SELECT count(*) > 0 FROM pg_stat_activity WHERE backend_type = 'pg_chronos worker'
		    AND pid <> ALL ('{$victims}'::int[])"),
	'terminated executors are replaced by new ones');
my $before = $node->safe_psql('postgres', "SELECT count(*) FROM ticks WHERE task = 'tick'");
ok(wait_for($node, 'postgres', "SELECT count(*) >= $before + 2 FROM ticks WHERE task = 'tick'"),
	'the loop task keeps running after its executors were terminated');

# chronos.enabled reloads on SIGHUP: while off nothing runs, once on the due task runs.
$node->safe_psql('postgres', "SELECT chronos.unschedule('tick')");
$node->safe_psql('postgres', 'ALTER SYSTEM SET chronos.enabled = off');
$node->reload;
sleep 1;    # let every worker see the reloaded setting
$node->safe_psql('postgres',
	q{INSERT INTO chronos.tasks (name, command) VALUES ('while-off', $$INSERT INTO ticks (task) VALUES ('while-off')$$)});
sleep 2;
is($node->safe_psql('postgres', "SELECT count(*) FROM ticks WHERE task = 'while-off'"),
	'0', 'with chronos.enabled off a due task does not run');
is($node->safe_psql('postgres', "SELECT status FROM chronos.task_status WHERE name = 'while-off'"),
	'scheduled', 'and it stays scheduled');
$node->safe_psql('postgres', 'ALTER SYSTEM SET chronos.enabled = on');
$node->reload;
ok(wait_for($node, 'postgres', "SELECT count(*) = 1 FROM ticks WHERE task = 'while-off'"),
	'once chronos.enabled is back on the task runs');

# A task whose owner was dropped fails with a clear error; the other tasks keep running.
$node->safe_psql('postgres', q{
	CREATE ROLE doomed;
	GRANT INSERT ON ticks TO doomed;
	INSERT INTO chronos.tasks (name, schedule, command, owner)
	VALUES ('orphan', '* * * * * *', $$INSERT INTO ticks (task) VALUES ('orphan')$$, 'doomed');
	SELECT chronos.schedule('healthy', '* * * * * *', $$INSERT INTO ticks (task) VALUES ('healthy')$$);
});
ok(wait_for($node, 'postgres', "SELECT count(*) >= 1 FROM ticks WHERE task = 'orphan'"),
	'the task runs while its owner exists');
# Dropped from another database (each database checks only its own tasks, as PostgreSQL does for its objects).
$node->safe_psql('postgres', 'REVOKE ALL ON ticks FROM doomed');
$node->safe_psql('template1', 'DROP ROLE doomed');
ok( wait_for(
		$node, 'postgres',
		q{SELECT EXISTS (SELECT FROM chronos.runs WHERE task_name = 'orphan' AND status = 'failed'
		                    AND error LIKE '42704: the task''s owner (role OID % no longer exists')}),
	'after its owner is dropped the task fails with 42704 saying its owner no longer exists');
$before = $node->safe_psql('postgres', "SELECT count(*) FROM ticks WHERE task = 'healthy'");
ok(wait_for($node, 'postgres', "SELECT count(*) >= $before + 2 FROM ticks WHERE task = 'healthy'"),
	'the other tasks keep running');
$node->safe_psql('postgres', "SELECT chronos.unschedule('orphan'), chronos.unschedule('healthy')");

# chronos.max_workers = 2 caps the runs in progress: four long tasks due together never run more than two at a time.
$node->safe_psql('postgres', q{
	CREATE TABLE overlap (at timestamptz, running int);
	INSERT INTO chronos.tasks (name, command)
	SELECT 'long' || g, 'SELECT pg_sleep(1.5)' FROM generate_series(1, 4) g;
});
my $most = 0;
my $deadline = time() + 60;
while (time() < $deadline)
{
	my $now = $node->safe_psql('postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pg_chronos worker' AND query LIKE '%pg_sleep(1.5)%'
		    AND state = 'active'");
	$most = $now if $now > $most;
	last if $node->safe_psql('postgres',
		"SELECT count(*) FROM chronos.tasks WHERE name LIKE 'long%' AND status = 'done'") eq '4';
	Time::HiRes::usleep(50_000);
}
is($node->safe_psql('postgres', "SELECT count(*) FROM chronos.tasks WHERE name LIKE 'long%' AND status = 'done'"),
	'4', 'all four long tasks ran');
ok($most >= 1 && $most <= 2, "at most chronos.max_workers = 2 ran at once (saw $most)");
my $overlaps = $node->safe_psql('postgres', q{
	SELECT count(*) FROM chronos.runs a JOIN chronos.runs b ON a.run_id < b.run_id
	  JOIN chronos.runs c ON b.run_id < c.run_id
	 WHERE a.task_name LIKE 'long%' AND b.task_name LIKE 'long%' AND c.task_name LIKE 'long%'
	   AND greatest(a.started_at, b.started_at, c.started_at) < least(a.finished_at, b.finished_at, c.finished_at)});
is($overlaps, '0', 'no three runs overlapped in time');

$node->stop;
done_testing();
