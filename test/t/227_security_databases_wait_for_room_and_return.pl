# A database that finds the launcher's table of databases full (chronos.max_databases) is not forgotten: the log says
# so, chronos.scheduler says why, and the database is served as soon as another one frees its entry. A database that
# cannot be served for a while (a template, one that allows no connections) is taken up again once it can be.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ChronosTest;

my $node = start_chronos_node('room', 'chronos.max_databases = 16');
my @full = map { "full$_" } 1 .. 16;
for my $db (@full)
{
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, 'CREATE EXTENSION pg_chronos');
}
my $log_offset = -s $node->logfile;
$node->safe_psql('postgres', 'CREATE DATABASE late');
$node->safe_psql('late', q{CREATE EXTENSION pg_chronos;
	CREATE TABLE hits (at timestamptz DEFAULT clock_timestamp());
	INSERT INTO chronos.tasks (name, schedule, command) VALUES ('tick', '@every 1s', 'INSERT INTO hits DEFAULT VALUES')});
ok(wait_for_log_line($node, qr/WARNING:  pg_chronos: database "late" is not served: chronos.max_databases \(16\)/,
	$log_offset, 30), 'the log says that the table of databases is full');
is($node->safe_psql('late', 'SELECT count(*) FROM hits'), '0', 'the task of the database left out does not run');
like($node->safe_psql('late', 'SELECT database_served || \' \' || hint FROM chronos.scheduler'),
	qr/^false .*chronos.max_databases/, 'chronos.scheduler says it is not served and where to look');
$node->safe_psql('full1', 'DROP EXTENSION pg_chronos');
ok(wait_for($node, 'late', 'SELECT count(*) >= 2 FROM hits', 30),
	'once another database frees its entry, the waiting one is served');
ok(wait_for($node, 'late', 'SELECT database_served FROM chronos.scheduler'), 'chronos.scheduler says so');

# --- a template, then not ------------------------------------------------------------------------------------------
$node->safe_psql('full2', 'DROP EXTENSION pg_chronos');
$node->safe_psql('postgres', 'CREATE DATABASE shaped IS_TEMPLATE true');
$node->safe_psql('shaped', q{CREATE EXTENSION pg_chronos;
	CREATE TABLE hits (at timestamptz DEFAULT clock_timestamp());
	INSERT INTO chronos.tasks (name, schedule, command) VALUES ('tick', '@every 1s', 'INSERT INTO hits DEFAULT VALUES')});
sleep 3;
is($node->safe_psql('shaped', 'SELECT count(*) FROM hits'), '0', 'a template is not served');
like($node->safe_psql('shaped', 'SELECT hint FROM chronos.scheduler'), qr/template/, 'chronos.scheduler says why');
$node->safe_psql('postgres', 'ALTER DATABASE shaped IS_TEMPLATE false');
ok(wait_for($node, 'shaped', 'SELECT count(*) >= 2 FROM hits', 40),
	'once it is no longer a template, it is served');

done_testing();
