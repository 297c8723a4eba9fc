# Owners share the executors: a role whose burst of slow tasks is due cannot hold back another role's due task by more
# than about one run of its own, and chronos.max_runs_per_owner caps how many runs of one owner are in progress at once.
# The roles are plain LOGIN roles with the grants the README documents.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ChronosTest;

# Without a cap first (the default, -1, would leave alice one of the two permits).
my $node = start_chronos_node('fairness', 'chronos.max_workers = 2', 'chronos.max_runs_per_owner = 0');
create_chronos_db($node, 'postgres');
for my $role (qw(alice bob))
{
	$node->safe_psql('postgres', qq{
		CREATE ROLE $role LOGIN;
		GRANT USAGE ON SCHEMA chronos TO $role;
		GRANT SELECT, INSERT, UPDATE, DELETE ON chronos.tasks TO $role;
		GRANT SELECT ON chronos.runs, chronos.task_status, chronos.running, chronos.history, chronos.task_stats TO $role;
		GRANT USAGE ON ALL SEQUENCES IN SCHEMA chronos TO $role;
	});
}

sub scalar_query { return $node->safe_psql('postgres', $_[0]); }
sub as_role { my ($role, $sql) = @_; return $node->safe_psql('postgres', $sql, connstr => $node->connstr('postgres') . " user=$role"); }

# The started_at of the $n-th run of $role's tasks (1-based), in start order.
sub nth_start
{
	my ($role, $n) = @_;
	return scalar_query(qq{SELECT started_at FROM chronos.runs WHERE owner = '$role'::regrole
	                        ORDER BY started_at OFFSET $n - 1 LIMIT 1});
}

# Pairs of runs of $role whose [started_at, finished_at] intervals overlap.
sub overlapping_runs
{
	my ($role) = @_;
	return scalar_query(qq{SELECT count(*) FROM chronos.runs a JOIN chronos.runs b
	                         ON a.run_id < b.run_id AND a.started_at < b.finished_at AND b.started_at < a.finished_at
	                        WHERE a.owner = '$role'::regrole AND b.owner = '$role'::regrole});
}

# --- a burst of one role does not hold back another role's due task ------------------------------------------------

as_role('alice', q{INSERT INTO chronos.tasks (name, command)
                   SELECT 'alice ' || g, 'SELECT pg_sleep(0.2)' FROM generate_series(1, 120) g});
ok(wait_for($node, 'postgres', q{SELECT count(*) > 0 FROM chronos.runs WHERE owner = 'alice'::regrole}),
	"alice's burst of 120 slow tasks has started");
as_role('bob', q{INSERT INTO chronos.tasks (name, command) VALUES ('bob', 'SELECT pg_sleep(0.2)')});
scalar_query(q{INSERT INTO chronos.tasks (name, command) VALUES ('canary', 'SELECT 1')});

ok(wait_for_finished_run($node, 'postgres', 'bob'), "bob's task due after alice's burst runs");
ok(wait_for_finished_run($node, 'postgres', 'canary'), "a superuser's task due after alice's burst runs");
cmp_ok(scalar_query(q{SELECT count(*) FROM chronos.runs r, chronos.tasks b, chronos.runs br
                       WHERE b.name = 'bob' AND br.task_name = 'bob' AND r.owner = 'alice'::regrole
                         AND r.started_at > b.created_at AND r.started_at < br.started_at}), '<=', 2,
	"at most one run of alice per executor starts between bob's task falling due and its run");

ok(wait_for($node, 'postgres', q{SELECT count(*) = 120 FROM chronos.runs WHERE owner = 'alice'::regrole
                                  AND status = 'succeeded'}, 120),
	"all of alice's tasks run");
my $bob_started = scalar_query(q{SELECT started_at FROM chronos.runs WHERE task_name = 'bob'});
my $canary_started = scalar_query(q{SELECT started_at FROM chronos.runs WHERE task_name = 'canary'});
my $alice_10th = nth_start('alice', 10);
ok($alice_10th ne '' && scalar_query(qq{SELECT '$bob_started'::timestamptz < '$alice_10th'::timestamptz}) eq 't',
	"bob's task starts before alice's 10th run (bob $bob_started, alice's 10th $alice_10th)");
ok($alice_10th ne '' && scalar_query(qq{SELECT '$canary_started'::timestamptz < '$alice_10th'::timestamptz}) eq 't',
	"so does the superuser's task ($canary_started)");
cmp_ok(overlapping_runs('alice'), '>', 0, 'without a cap, alice has two runs in progress at once');

# --- chronos.max_runs_per_owner -------------------------------------------------------------------------------------

is(scalar_query(q{SELECT boot_val || ' ' || context FROM pg_settings WHERE name = 'chronos.max_runs_per_owner'}),
	'-1 sighup', 'chronos.max_runs_per_owner is -1 (one less than chronos.max_workers) by default and set on reload');
$node->append_conf('postgresql.conf', 'chronos.max_runs_per_owner = 1');
$node->reload;
ok(wait_for($node, 'postgres', q{SELECT current_setting('chronos.max_runs_per_owner') = '1'}), 'the cap is set to 1');
scalar_query(q{DELETE FROM chronos.runs});
as_role('alice', q{INSERT INTO chronos.tasks (name, command)
                   SELECT 'capped ' || g, 'SELECT pg_sleep(0.2)' FROM generate_series(1, 20) g});
as_role('bob', q{INSERT INTO chronos.tasks (name, command)
                 SELECT 'bob ' || g, 'SELECT pg_sleep(0.2)' FROM generate_series(1, 10) g});

my $most_running = 0;
for (1 .. 600)
{
	my $now = scalar_query(q{SELECT count(*) FROM chronos.running WHERE owner = 'alice'::regrole});
	$most_running = $now if $now > $most_running;
	last if scalar_query(q{SELECT count(*) FROM chronos.runs WHERE status <> 'running'}) == 30;
	select(undef, undef, undef, 0.05);
}
is(scalar_query(q{SELECT count(*) FILTER (WHERE status = 'succeeded') FROM chronos.runs}), '30',
	'with the cap, all tasks of both roles run');
cmp_ok($most_running, '<=', 1, "chronos.running never shows more than one run of alice ($most_running)");
is(overlapping_runs('alice'), '0', "no two runs of alice overlap");
is(scalar_query(q{SELECT count(*) FROM chronos.runs b JOIN chronos.runs a ON a.started_at < b.finished_at
                   AND b.started_at < a.finished_at
                   WHERE b.owner = 'bob'::regrole AND a.owner = 'alice'::regrole}) > 0 ? 'yes' : 'no',
	'yes', "bob's runs use the second executor beside alice's");

# --- chronos.run_now() requests of an owner at its cap ----------------------------------------------------------------
# alice, at her cap with one long run, has 100,000 paused tasks with a run requested, and keeps raising the request
# flag. A claim looks at no more than 256 rows it cannot take: the workers do not scan them all again and again, and
# the superuser's every-second task keeps its schedule.
scalar_query(q{CREATE TABLE beats (at timestamptz DEFAULT clock_timestamp());
	INSERT INTO chronos.tasks (name, schedule, command) VALUES ('beat', '@every 1s', 'INSERT INTO beats DEFAULT VALUES')});
as_role('alice', q{INSERT INTO chronos.tasks (name, command) VALUES ('alice long', 'SELECT pg_sleep(60)')});
ok(wait_for($node, 'postgres', q{SELECT EXISTS (SELECT FROM chronos.running WHERE task_name = 'alice long')}),
	'alice is at her cap');
as_role('alice', q{INSERT INTO chronos.tasks (name, command, status)
	SELECT 'requested ' || g, 'SELECT 1', 'paused' FROM generate_series(1, 100000) g;
	UPDATE chronos.tasks SET run_requested = true WHERE name LIKE 'requested %'});
my $cpu_before = worker_cpu_seconds($node);
my $beats_before = scalar_query('SELECT count(*) FROM beats');
as_role('alice', q{DO $$ BEGIN FOR i IN 1 .. 200 LOOP
	UPDATE chronos.tasks SET run_requested = false WHERE name = 'requested 1'; COMMIT;
	UPDATE chronos.tasks SET run_requested = true WHERE name = 'requested 1'; COMMIT;
	PERFORM pg_sleep(0.025); END LOOP; END $$});
my $cpu = worker_cpu_seconds($node) - $cpu_before;
cmp_ok(scalar_query('SELECT count(*) FROM beats') - $beats_before, '>=', 3,
	"the superuser's task keeps running behind 100,000 requests of an owner at its cap");
cmp_ok($cpu, '<', 2, "the workers do not scan the requests again and again ($cpu s of CPU)");
scalar_query(q{DELETE FROM chronos.tasks WHERE name LIKE 'requested %' OR name = 'alice long'});

my $log = slurp_file($node->logfile);
unlike($log, qr/PANIC|FATAL|terminated by signal/, 'no worker crashed or was killed');
done_testing();
