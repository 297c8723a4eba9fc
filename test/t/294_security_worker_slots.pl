# A database holds a worker slot only while it has work due or running, so that more databases than slots are all
# served, in turn. With max_worker_processes = 8 (six slots for executors), 40 databases each with an `@every 5s` task
# due at the same instants run every slot of every task, each starting within a few seconds of its due time. A
# CREATEDB role then copies its own database 30 times, each copy with a task due every second: another role's
# database is still served every second, and a database without the extension costs nothing.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ChronosTest;

my $node = start_chronos_node('slots', 'max_worker_processes = 8');

# --- 40 databases, six slots ------------------------------------------------------------------------------------------
$node->safe_psql('postgres', 'CREATE DATABASE base');
$node->safe_psql('base', q{CREATE EXTENSION pg_chronos;
	INSERT INTO chronos.tasks (name, schedule, command) VALUES ('every 5s', '@every 5s', 'SELECT 1')});
$node->safe_psql('postgres', "CREATE DATABASE d$_ TEMPLATE base") for 1 .. 39;
my @databases = ('base', map { "d$_" } 1 .. 39);
my $since = $node->safe_psql('postgres', 'SELECT clock_timestamp() + interval \'5 s\'');
sleep 32;
my $until = $node->safe_psql('postgres', 'SELECT clock_timestamp() - interval \'6 s\'');
my ($missing, $runs, @late) = (0, 0);
for my $db (@databases)
{
	my ($count, $slots, @lateness) = (0, 0);
	for my $row (query_rows($node, $db, qq{
			SELECT extract(epoch FROM started_at - scheduled_for), status
			  FROM chronos.runs WHERE scheduled_for BETWEEN '$since' AND '$until'}))
	{
		$count++;
		push @late, $row->[0];
	}
	# Fixed-rate slots: one every 5 s from the task's start; every one of them in the window must have run.
	$slots = $node->safe_psql($db, qq{
		SELECT count(*) FROM generate_series((SELECT start_time FROM chronos.tasks), '$until', interval '5 s') s
		 WHERE s BETWEEN '$since' AND '$until'});
	if ($count < $slots)
	{
		$missing += $slots - $count;
		diag("$db: $count runs for $slots slots: " . $node->safe_psql($db, qq{
			SELECT string_agg(to_char(scheduled_for, 'HH24:MI:SS.MS'), ' ' ORDER BY scheduled_for) FROM chronos.runs})
			. ' / start ' . $node->safe_psql($db, 'SELECT start_time FROM chronos.tasks'));
	}
	$runs += $count;
}
@late = sort { $a <=> $b } @late;
my $p95 = $late[ int(0.95 * $#late) ] // 0;
my $max = $late[-1] // 0;
diag(sprintf('40 databases, 6 slots: %d runs, starting delay median %.3f s, p95 %.3f s, max %.3f s',
		$runs, $late[ int($#late / 2) ] // 0, $p95, $max));
ok($runs >= 40 * 4, "every database ran its task in the window ($runs runs)");
is($missing, 0, 'no slot of any task was skipped');
cmp_ok($max, '<', 5, 'every run started within a few seconds of its due time');

# --- a role copying databases ---------------------------------------------------------------------------------------
$node->safe_psql($_, 'DROP EXTENSION pg_chronos') for @databases;
$node->safe_psql('postgres', q{CREATE ROLE copier LOGIN CREATEDB; CREATE DATABASE victim;});
$node->safe_psql('victim', q{CREATE EXTENSION pg_chronos;
	INSERT INTO chronos.tasks (name, schedule, command) VALUES ('tick', '@every 1s', 'SELECT 1')});
my %as_copier = (connstr => $node->connstr('postgres') . ' user=copier');
$node->safe_psql('postgres', 'CREATE DATABASE own', %as_copier);
$node->safe_psql('own', q{CREATE EXTENSION pg_chronos; GRANT USAGE ON SCHEMA chronos TO copier;
	GRANT SELECT, INSERT, UPDATE, DELETE ON chronos.tasks TO copier;
	GRANT USAGE ON ALL SEQUENCES IN SCHEMA chronos TO copier});
$node->safe_psql('own', q{INSERT INTO chronos.tasks (name, schedule, command) VALUES ('busy', '@every 1s', 'SELECT 1')},
	connstr => $node->connstr('own') . ' user=copier');
$node->safe_psql('postgres', "CREATE DATABASE own$_ TEMPLATE own", %as_copier) for 1 .. 30;
my $window = $node->safe_psql('postgres', 'SELECT clock_timestamp()');
sleep 12;
my ($victim_runs, $victim_max) = @{ (query_rows($node, 'victim', qq{
	SELECT count(*), coalesce(max(extract(epoch FROM started_at - scheduled_for)), 0)
	  FROM chronos.runs WHERE started_at > '$window'}))[0] };
diag("with 31 databases of a copying role, the victim ran $victim_runs times in 12 s, starting delay max $victim_max s");
ok($victim_runs >= 8, "another role's database is still served every second ($victim_runs runs in 12 s)");
cmp_ok($victim_max, '<', 3, 'its runs start within a few seconds of their due time');

# --- databases without the extension cost nothing ---------------------------------------------------------------------
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pg_chronos worker'
                                   AND datname ~ '^(base|d[0-9]+)$'}), '0',
	'the 40 databases that lost the extension have no worker');

$node->stop;
done_testing();
