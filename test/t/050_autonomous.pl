# Commands that cannot run inside a transaction block (VACUUM) or that commit themselves (a procedure with COMMIT) run
# as autonomous tasks; a crash during one leaves its run interrupted and the task scheduled again after the restart.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes;
use ChronosTest;

my $node = start_chronos_node('autonomous');
create_chronos_db($node, 'postgres');
$node->safe_psql('postgres', q{
	CREATE TABLE swept (x int) WITH (autovacuum_enabled = false);
	INSERT INTO swept SELECT generate_series(1, 1000);
	DELETE FROM swept WHERE x % 2 = 0;
	CREATE TABLE steps (task text, step text, at timestamptz NOT NULL DEFAULT clock_timestamp());
	CREATE PROCEDURE three_commits() LANGUAGE plpgsql AS $$
	BEGIN
		INSERT INTO steps (task, step) VALUES ('three commits', 'first');
		COMMIT;
		INSERT INTO steps (task, step) VALUES ('three commits', 'second');
		COMMIT;
		INSERT INTO steps (task, step) VALUES ('three commits', 'third');
	END $$;
	CREATE PROCEDURE slow_commits() LANGUAGE plpgsql AS $$
	BEGIN
		INSERT INTO steps (task, step) VALUES ('slow', 'before sleep');
		COMMIT;
		PERFORM pg_sleep(30);
		INSERT INTO steps (task, step) VALUES ('slow', 'after sleep');
		COMMIT;
	END $$;
});

sub scalar_query { return $node->safe_psql('postgres', $_[0]); }

# --- VACUUM -----------------------------------------------------------------------------------------------------------

scalar_query(q{INSERT INTO chronos.tasks (name, command) VALUES ('vacuum', 'VACUUM ANALYZE swept')});
ok(wait_for_finished_run($node, 'postgres', 'vacuum'), 'a VACUUM task runs');
my ($vacuum) = query_rows($node, 'postgres', q{SELECT status, error FROM chronos.runs WHERE task_name = 'vacuum'});
$vacuum //= [];
is($vacuum->[0], 'succeeded', 'a VACUUM task succeeds' . ($vacuum->[1] ? " (error: $vacuum->[1])" : ''));
ok(wait_for($node, 'postgres',
		q{SELECT vacuum_count = 1 AND analyze_count = 1 FROM pg_stat_user_tables WHERE relname = 'swept'}, 10),
	'the VACUUM ANALYZE of a task vacuums and analyzes the table');
is(scalar_query(q{SELECT status FROM chronos.tasks WHERE name = 'vacuum'}), 'done', 'a once VACUUM task ends done');

# --- a procedure that commits -----------------------------------------------------------------------------------------

scalar_query(q{INSERT INTO chronos.tasks (name, command) VALUES ('three commits', 'CALL three_commits()')});
ok(wait_for_finished_run($node, 'postgres', 'three commits'), 'a task calling a procedure that commits runs');
my ($call) = query_rows($node, 'postgres', q{SELECT status, error FROM chronos.runs WHERE task_name = 'three commits'});
$call //= [];
is($call->[0], 'succeeded', 'a procedure that commits succeeds as a task' . ($call->[1] ? " (error: $call->[1])" : ''));
is(scalar_query(q{SELECT string_agg(step, ',' ORDER BY at) FROM steps WHERE task = 'three commits'}),
	'first,second,third', 'every step of the committing procedure took effect');

# --- a crash during a long autonomous run -----------------------------------------------------------------------------

scalar_query(
	q{INSERT INTO chronos.tasks (name, schedule, command) VALUES ('slow', '@every 1 hour', 'CALL slow_commits()')});
ok(wait_for($node, 'postgres', q{SELECT EXISTS (SELECT FROM steps WHERE task = 'slow')}),
	'a long autonomous run commits its first step');
is(scalar_query(q{SELECT transactional FROM chronos.running WHERE task_name = 'slow'}), 'f',
	'chronos.running shows the long procedure call as a run outside one transaction');
is(scalar_query(q{SELECT status FROM chronos.runs WHERE task_name = 'slow'}), 'running',
	'an autonomous run is recorded as running while it runs');
my $slow_id = scalar_query(q{SELECT id FROM chronos.tasks WHERE name = 'slow'});

$node->stop('immediate');
$node->start;
my $restarted = Time::HiRes::time();
ok(wait_for($node, 'postgres',
		q{SELECT status = 'interrupted' FROM chronos.runs WHERE task_name = 'slow' ORDER BY run_id LIMIT 1}),
	'after a crash the autonomous run that was in progress is recorded as interrupted');
my $took = Time::HiRes::time() - $restarted;
cmp_ok($took, '<', 10, sprintf('the interrupted run is recorded within 10 s of the restart (%.1f s)', $took));
is(scalar_query(q{SELECT count(*) FILTER (WHERE step = 'before sleep') >= 1
                           AND count(*) FILTER (WHERE step = 'after sleep') = 0 FROM steps WHERE task = 'slow'}),
	't', 'what the interrupted procedure committed stays, the rest never happened');
ok(wait_for($node, 'postgres', qq{
		SELECT t.status IN ('scheduled', 'running')
		   AND (t.next_exec_time > now()
		        OR EXISTS (SELECT FROM chronos.runs r WHERE r.task_id = t.id AND r.run_id > (
		                     SELECT min(run_id) FROM chronos.runs WHERE task_id = t.id)))
		  FROM chronos.tasks t WHERE t.id = $slow_id}, 10),
	'the loop task whose run was interrupted is scheduled again');
diag('the interrupted task after the restart: '
	  . scalar_query("SELECT concat_ws(' ', status, next_exec_time, last_status, run_count)"
		  . " FROM chronos.tasks WHERE id = $slow_id"));
is(scalar_query(q{SELECT count(*) FROM chronos.runs WHERE task_name = 'slow' AND status = 'running'
                    AND NOT EXISTS (SELECT FROM pg_stat_activity a WHERE a.pid = chronos.runs.pid)}),
	'0', 'no run is left marked running without a process behind it');

$node->stop;
done_testing();
