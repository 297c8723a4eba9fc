# One server, several databases: every database with the extension is served at the same time, a new one from the moment
# of CREATE EXTENSION; DROP EXTENSION and DROP DATABASE end the service there and nowhere else; a database without the
# extension never has an executor.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(sleep time);
use ChronosTest;

my $node = start_chronos_node('databases');
$node->safe_psql('postgres', 'CREATE DATABASE plain');

my $hits_table = 'CREATE TABLE hits (at timestamptz NOT NULL DEFAULT clock_timestamp())';
my $tick_task = q{INSERT INTO chronos.tasks (name, schedule, command)
                  VALUES ('tick', '* * * * * *', 'INSERT INTO hits DEFAULT VALUES')};

sub executors_in
{
	my ($db) = @_;
	return "(SELECT count(*) FROM pg_stat_activity WHERE $IS_CHRONOS_PROCESS AND datname = '$db')";
}

# Waits until database $db gets a hit after this moment.
sub hits_again
{
	my ($db) = @_;
	my $now = $node->safe_psql($db, 'SELECT clock_timestamp()');
	return wait_for($node, $db, "SELECT EXISTS (SELECT FROM hits WHERE at > '$now')", 15);
}

# The first lines of the server log from $offset on that report an error.
sub errors_logged_since
{
	my ($offset) = @_;
	my @errors = grep { /ERROR:/ } split /\n/, slurp_file($node->logfile, $offset);
	return join("\n", @errors[ 0 .. ($#errors < 9 ? $#errors : 9) ]);
}

# --- two databases at once --------------------------------------------------------------------------------------------

for my $db (qw(one two))
{
	create_chronos_db($node, $db);
	$node->safe_psql($db, $hits_table);
	$node->safe_psql($db, $tick_task);
}
for my $db (qw(one two))
{
	ok(wait_for($node, $db, 'SELECT count(*) >= 2 FROM hits'), "the tasks of database $db run");
	ok(wait_for($node, 'postgres', 'SELECT ' . executors_in($db) . ' > 0'), "an executor is connected to database $db");
}
ok(hits_again('one') && hits_again('two'), 'both databases are served at the same time');
diag("pg_chronos processes:\n" . chronos_processes($node));

my $plain_seen = 0;
for (1 .. 6)
{
	$plain_seen += $node->safe_psql('postgres', 'SELECT ' . executors_in('plain'));
	sleep(0.5);
}
is($plain_seen, 0, 'no executor connects to a database without the extension');

# --- CREATE EXTENSION while the server runs ---------------------------------------------------------------------------

create_chronos_db($node, 'three');
$node->safe_psql('three', $hits_table);
$node->safe_psql('three',
	q{INSERT INTO chronos.tasks (name, command) VALUES ('first', 'INSERT INTO hits DEFAULT VALUES')});
ok(wait_for($node, 'three', q{SELECT status = 'done' FROM chronos.tasks WHERE name = 'first'}),
	'a task runs in a database that got the extension while the server runs');
my $lateness = $node->safe_psql('three', q{SELECT extract(epoch FROM started_at - scheduled_for) FROM chronos.runs});
ok($lateness ne '' && $lateness < 5,
	"the first task of a new database starts less than 5 s after it is due (lateness $lateness s)");

# --- DROP EXTENSION ---------------------------------------------------------------------------------------------------

my $log_offset = -s $node->logfile;
my ($timed_out, $stderr);
my $ret = $node->psql('two', 'DROP EXTENSION pg_chronos', timeout => 60, timed_out => \$timed_out, stderr => \$stderr);
ok(!$timed_out && defined $ret && $ret == 0, "DROP EXTENSION succeeds while the database's tasks run") or diag($stderr);
ok(wait_for($node, 'postgres', 'SELECT ' . executors_in('two') . ' = 0', 15),
	'no executor stays connected to a database after DROP EXTENSION');
my $two_hits = $node->safe_psql('two', 'SELECT count(*) FROM hits');
sleep(2);
is($node->safe_psql('two', 'SELECT count(*) FROM hits'), $two_hits, 'tasks stop running after DROP EXTENSION');
ok(hits_again('one'), 'the other databases are still served after DROP EXTENSION');
is(errors_logged_since($log_offset), '', 'DROP EXTENSION makes no process log an error');

# --- DROP DATABASE ----------------------------------------------------------------------------------------------------

my $three_oid = $node->safe_psql('postgres', q{SELECT oid FROM pg_database WHERE datname = 'three'});
$node->safe_psql('three', $tick_task);
ok(wait_for($node, 'three', 'SELECT count(*) >= 3 FROM hits'), 'a loop task runs in database three');
ok(wait_for($node, 'postgres', 'SELECT ' . executors_in('three') . ' > 0'),
	'an executor is connected to database three');
my $started = time();
$ret = $node->psql('postgres', 'DROP DATABASE three', timeout => 60, timed_out => \$timed_out, stderr => \$stderr);
my $took = time() - $started;
ok(!$timed_out && defined $ret && $ret == 0, 'DROP DATABASE of a served database succeeds') or diag($stderr);
cmp_ok($took, '<', 10, sprintf('DROP DATABASE of a served database does not hang (%.1f s)', $took));
is($node->safe_psql('postgres', "SELECT count(*) FROM pg_stat_activity WHERE datid = $three_oid"), '0',
	'no process is left connected to the dropped database');
ok(hits_again('one'), 'the other databases are still served after DROP DATABASE');

$node->stop;
done_testing();
