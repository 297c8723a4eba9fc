# Many databases share the background worker slots fairly: with default settings and five databases, one of them
# bursting, every database's `@every 1s` task runs promptly; an idle executor gives its slot back at once to a database
# that needs one; chronos.executors shows every executor of the cluster; and a database left waiting for a slot is
# named in a warning once a minute, and runs once a slot frees.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(sleep time);
use ChronosTest;

# --- five databases, default max_worker_processes and chronos.max_workers, one bursting --------------------------------

my $node = start_chronos_node('fair_service');

sub executors_in
{
	my ($db) = @_;
	return $node->safe_psql('postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pg_chronos worker' AND datname = '$db'");
}

# A database with the extension, a table of hits and an `@every 1s` task writing to it; returns when the task was
# created.
sub ticking_database
{
	my ($db) = @_;
	create_chronos_db($node, $db);
	$node->safe_psql($db, 'CREATE TABLE hits (at timestamptz NOT NULL DEFAULT clock_timestamp())');
	my $created = $node->safe_psql($db, 'SELECT clock_timestamp()');
	$node->safe_psql($db, q{INSERT INTO chronos.tasks (name, schedule, command)
		                     VALUES ('tick', '@every 1s', 'INSERT INTO hits DEFAULT VALUES')});
	return $created;
}

# Seconds from $since until the first run of 'tick' in $db started, or undef if it has not run within $timeout s.
sub first_tick_after
{
	my ($db, $since, $timeout) = @_;
	return undef
	  unless wait_for($node, $db, q{SELECT EXISTS (SELECT FROM chronos.runs WHERE task_name = 'tick')}, $timeout);
	return $node->safe_psql($db,
		"SELECT round(extract(epoch FROM min(started_at) - '$since'::timestamptz)::numeric, 3)
		   FROM chronos.runs WHERE task_name = 'tick'");
}

# The largest starting delay (started_at - scheduled_for) of 'tick' runs in $db that started after $since, and how
# many started.
sub tick_delays_since
{
	my ($db, $since) = @_;
	my ($row) = query_rows($node, $db,
		"SELECT count(*), coalesce(round(max(extract(epoch FROM started_at - scheduled_for))::numeric, 3), 0),
		        coalesce(round(avg(extract(epoch FROM started_at - scheduled_for))::numeric, 3), 0)
		   FROM chronos.runs WHERE task_name = 'tick' AND started_at > '$since'");
	return @$row;
}

create_chronos_db($node, 'busy');
$node->safe_psql('busy', q{
	CREATE TABLE hits (at timestamptz NOT NULL DEFAULT clock_timestamp());
	INSERT INTO chronos.tasks (name, schedule, command)
	VALUES ('tick', '@every 1s', 'INSERT INTO hits DEFAULT VALUES');
	INSERT INTO chronos.tasks (command, remark) SELECT 'SELECT pg_sleep(0.05)', 'burst' FROM generate_series(1, 4000)});
ok(wait_for($node, 'postgres',
		"SELECT count(*) >= 3 FROM pg_stat_activity WHERE backend_type = 'pg_chronos worker' AND datname = 'busy'", 60),
	'the bursting database grows its executors while it is alone');
diag('executors of the bursting database before the others: ' . executors_in('busy'));

my %created;
$created{$_} = ticking_database($_) for qw(one two three four);
for my $db (qw(one two three four))
{
	my $first = first_tick_after($db, $created{$db}, 20);
	ok(defined $first, "during the burst, the `\@every 1s` task of database $db runs within 20 s of its creation")
	  and diag("database $db: first run " . $first . ' s after the task was created');
}

# The CPU time (in seconds) the launcher process has used so far.
my $launcher = $node->safe_psql('postgres', "SELECT pid FROM pg_stat_activity WHERE backend_type = 'pg_chronos launcher'");
sub launcher_cpu
{
	my @fields = split / /, (split /\) /, slurp_file("/proc/$launcher/stat"))[1];
	return ($fields[11] + $fields[12]) / 100;    # utime + stime, in clock ticks of 1/100 s
}

# Under load: the starting delay of every database's ticks over ten seconds.
my $window = $node->safe_psql('postgres', 'SELECT clock_timestamp()');
my $cpu_before = launcher_cpu();
sleep(10);
my $launcher_cpu = launcher_cpu() - $cpu_before;
cmp_ok($launcher_cpu, '<', 2, "the launcher does not spin during the burst ($launcher_cpu s of CPU in 10 s)");
diag("the launcher used $launcher_cpu s of CPU in the 10 s of the burst");
for my $db (qw(one two three four))
{
	my ($runs, $max, $avg) = tick_delays_since($db, $window);
	cmp_ok($runs, '>=', 3, "database $db keeps running its `\@every 1s` task during the burst ($runs runs in 10 s)");
	cmp_ok($max, '<', 20, "database $db starts its due task within 20 s under load")
	  and diag("database $db: starting delay under load: max $max s, mean $avg s over $runs runs");
}
# In the bursting database itself, its tick is due after the thousands of tasks of the burst and waits its turn there.
my ($busy_runs, $busy_max) = tick_delays_since('busy', $window);
diag("database busy: $busy_runs runs of its tick in the window (largest starting delay $busy_max s)");
is($node->safe_psql('busy', q{SELECT count(*) > 0 FROM chronos.tasks WHERE remark = 'burst' AND status = 'scheduled'}),
	't', 'the burst was still going on while the delays were measured');
diag("pg_chronos processes:\n" . chronos_processes($node));

# --- the executors, as the view shows them ------------------------------------------------------------------------------

# Executors come and go with the work of their database: over a few seconds, the view shows each database's.
my %seen;
my $deadline = time + 20;
while (keys %seen < 5 && time < $deadline)
{
	$seen{$_} = 1 for split /,/,
	  $node->safe_psql('one', q{SELECT string_agg(DISTINCT database::text, ',') FROM chronos.executors});
	sleep 0.05;
}
is(join(',', sort keys %seen), 'busy,four,one,three,two', 'chronos.executors shows the executors of every database');
# Executors start and leave all the while: one caught between taking its slot and connecting is not yet in
# pg_stat_activity with its database. Every executor shown must be a live, connected process at some moment within
# seconds (a slot left by a process that is gone never would be).
ok(wait_for($node, 'one', q{
		SELECT count(*) = 0 FROM chronos.executors e
		  LEFT JOIN pg_stat_activity a ON a.pid = e.pid AND a.datname = e.database
		 WHERE a.pid IS NULL}, 10),
	'each executor it shows is a live process connected to the database it names');
is($node->safe_psql('one', q{SELECT count(*) FROM chronos.executors WHERE state = 'watching' GROUP BY database
                              HAVING count(*) > 1}),
	'', 'no database has more than one watcher');

grant_task_rights($node, 'one', $_) for qw(alice bob carol);
$node->safe_psql('one', q{
	GRANT SELECT ON chronos.executors TO alice, bob, carol;
	GRANT pg_read_all_stats TO carol;
	CREATE TABLE slept (at timestamptz);
	GRANT INSERT ON slept TO alice;});
$node->safe_psql('one',
	q{INSERT INTO chronos.tasks (name, command) VALUES ('nap', 'SELECT pg_sleep(4)')},
	connstr => $node->connstr('one') . ' user=alice');
my $nap = $node->safe_psql('one', q{SELECT id FROM chronos.tasks WHERE name = 'nap'});
ok(wait_for($node, 'one', "SELECT EXISTS (SELECT FROM chronos.executors WHERE task_id = $nap)", 20),
	"the superuser sees the executor running alice's task, with its id");
sub as_role
{
	my ($role, $sql) = @_;
	return $node->safe_psql('one', $sql, connstr => $node->connstr('one') . " user=$role");
}
# What each role sees of the executors running in database one: rows naming a task (id and owner) that is running
# since a known time, and rows of executors at all (pid).
my $sees = q{SELECT count(*) FILTER (WHERE task_id IS NOT NULL AND owner IS NOT NULL AND state = 'running'
                                      AND since IS NOT NULL)
                    || '/' || count(*) FILTER (WHERE pid > 0)
               FROM chronos.executors WHERE database = 'one'};
my ($alice, $bob, $carol) = map { as_role($_, $sees) } qw(alice bob carol);
my ($alice_ids) = split m{/}, $alice;
my ($bob_ids, $bob_executors) = split m{/}, $bob;
ok($alice_ids >= 1, "the owner sees the id of the task its executor runs, its state and since ($alice)");
is($bob_ids, '0', "another plain role does not see which task runs ($bob)");
ok($bob_executors >= 1, 'another plain role still sees that the database has executors (their pids)');
is(as_role('bob', q{SELECT count(*) FROM chronos.executors
                     WHERE database = 'one' AND (state IS NOT NULL OR since IS NOT NULL)}), '0',
	'nor what they do or since when');
ok((split m{/}, $carol)[0] >= 1, "a member of pg_read_all_stats sees every task id ($carol)");
is( as_role('bob', "SELECT count(*) FROM chronos.executors WHERE task_id = $nap OR owner = 'alice'::regrole"),
	'0', "bob cannot find alice's task by id or owner");

# --- an idle executor gives its slot back at once ------------------------------------------------------------------------

$node->safe_psql('busy', q{DELETE FROM chronos.tasks WHERE remark = 'burst'});
ok( wait_for(
		$node, 'postgres', q{SELECT NOT EXISTS (SELECT FROM pg_stat_activity WHERE datname = 'busy'
		                        AND query LIKE '%pg_sleep(0.05)%' AND state = 'active')},
		30),
	'the burst is over');
diag('executors of the bursting database once idle: ' . executors_in('busy'));
$created{five} = ticking_database('five');
my $five = first_tick_after('five', $created{five}, 20);
ok(defined $five, 'a database created when every slot is taken runs its task within 20 s (an idle executor left)')
  and diag("database five: first run $five s after the task was created");
for my $db (qw(busy one two three four five))
{
	my $before = $node->safe_psql($db, 'SELECT clock_timestamp()');
	ok(wait_for($node, $db, "SELECT EXISTS (SELECT FROM hits WHERE at > '$before')", 20),
		"database $db is still served with six databases");
}
$node->stop;

# --- too few slots: databases take turns, and one that waits long is named once a minute --------------------------

# Four slots less the logical replication launcher and pg_chronos's launcher leave two for executors: two long runs
# take both, and a third database's due task waits for one.
my $small = start_chronos_node('too_few_slots', 'max_worker_processes = 4');
$node = $small;
my $offset = -s $small->logfile;
create_chronos_db($small, $_) for qw(a1 a2 a3);
$small->safe_psql($_, q{INSERT INTO chronos.tasks (name, command) VALUES ('long', 'SELECT pg_sleep(25)')}) for qw(a1 a2);
ok(wait_for($small, 'postgres', q{SELECT count(*) = 2 FROM pg_stat_activity WHERE query LIKE 'pg_chronos task long:%'}),
	'two long runs take the two slots');
$small->safe_psql('a3', q{CREATE TABLE hits (at timestamptz NOT NULL DEFAULT clock_timestamp());
	INSERT INTO chronos.tasks (name, schedule, command) VALUES ('tick', '@every 1s', 'INSERT INTO hits DEFAULT VALUES')});
my $warning = qr/WARNING:  pg_chronos: databases with due tasks wait for a background worker slot/;
ok(wait_for_log_line($small, $warning, $offset, 30), 'a warning says databases wait for a worker slot');
my $log = slurp_file($small->logfile, $offset);
like($log, qr/$warning\n[^\n]*DETAIL:  "a3" waited more than 10 s; all 4 background worker slots are taken/,
	'it names the database that waits, and how the slots are taken');
like($log, qr/$warning\n[^\n]*DETAIL:  [^\n]*\n[^\n]*HINT:  Raise max_worker_processes/, 'it says what to raise');
sleep(5);
$log = slurp_file($small->logfile, $offset);
my @warnings = $log =~ /$warning/g;
is(scalar @warnings, 1, 'it is said once, not again within the minute');
ok(wait_for($small, 'a3', 'SELECT count(*) >= 2 FROM hits', 60), 'the waiting database runs its task once a slot frees');
$small->stop;

done_testing();
