# Recovery of interrupted runs never touches a run that a live executor owns. Autonomous runs (committed as 'running'
# before their command) go on at about 20 a second while idle executors are terminated one after the other, so that
# new executors keep starting and looking for runs left behind. Every run marked interrupted must belong to a process
# that was terminated; succeeded runs stay succeeded.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep time);
use ChronosTest;

my $node = start_chronos_node('recovery_race', 'chronos.max_workers = 4', 'chronos.max_crashes = 1000');
create_chronos_db($node, 'postgres');

sub su { return $node->safe_psql('postgres', $_[0]); }

su(q{
	CREATE PROCEDURE public.commit_now() LANGUAGE plpgsql AS $$ BEGIN COMMIT; PERFORM pg_sleep(0.01); END $$;
	INSERT INTO chronos.tasks (name, schedule, command)
	SELECT 'churn ' || i, '* * * * * *', 'CALL public.commit_now()' FROM generate_series(1, 20) i;
});
ok(wait_for($node, 'postgres', q{SELECT count(*) >= 40 FROM chronos.runs WHERE status = 'succeeded'}),
	'the autonomous tasks are running');

my %terminated;
my $deadline = time() + 20;
while (time() < $deadline)
{
	# An executor that runs nothing right now.
	my $pid = su(q{SELECT a.pid FROM pg_stat_activity a
	                WHERE a.backend_type = 'pg_chronos worker' AND a.state = 'idle'
	                  AND a.pid NOT IN (SELECT pid FROM chronos.running) ORDER BY random() LIMIT 1});
	if ($pid ne '')
	{
		$terminated{$pid} = 1;
		su("SELECT pg_terminate_backend($pid)");
	}
	usleep(250_000);
}
my $terminations = scalar keys %terminated;
cmp_ok($terminations, '>=', 20, "idle executors were terminated one after the other ($terminations)");
sleep(3);

my $list = join(',', keys %terminated) || '0';
my $succeeded = su(q{SELECT count(*) FROM chronos.runs WHERE status = 'succeeded'});
cmp_ok($succeeded, '>=', 200, "runs went on during the churn ($succeeded succeeded)");
my $wrong = su("SELECT count(*) FROM chronos.runs WHERE status = 'interrupted' AND pid NOT IN ($list)");
is($wrong, '0', 'no run of a live executor is marked interrupted');
diag('interrupted runs of terminated executors: '
	  . su("SELECT count(*) FROM chronos.runs WHERE status = 'interrupted' AND pid IN ($list)"));
is(su(q{SELECT count(*) FROM chronos.runs WHERE status = 'running'
         AND pid NOT IN (SELECT pid FROM pg_stat_activity WHERE backend_type = 'pg_chronos worker')}), '0',
	'no run is left running by a process that is gone');
# No task is left stuck by a terminated executor: each one runs again after the churn. (Counting tasks that are
# 'scheduled' at one instant would race with the runs due every second.)
my $after = su('SELECT clock_timestamp()');
ok(wait_for($node, 'postgres', qq{SELECT count(DISTINCT task_id) = 20 FROM chronos.runs
	WHERE task_name LIKE 'churn %' AND status = 'succeeded' AND started_at > '$after'}),
	'every task runs again')
  or diag(su(q{SELECT string_agg(name || ': ' || status || ' next ' || coalesce(next_exec_time::text, '-'), E'\n')
	FROM chronos.tasks WHERE name LIKE 'churn %' AND id NOT IN (SELECT task_id FROM chronos.runs
	WHERE status = 'succeeded' AND started_at > now() - interval '5 s')}));

$node->stop;
done_testing();
