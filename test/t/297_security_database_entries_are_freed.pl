# The launcher's table of databases holds only databases with the extension (chronos.max_databases entries at most):
# databases without it are checked once and cost nothing after, and an entry is freed when its database loses the
# extension or is dropped. With room for 16, 40 databases without the extension and 20 that gain and lose it leave
# room for one that keeps it, whose task runs.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ChronosTest;

my $node = start_chronos_node('entries', 'chronos.max_databases = 16');
$node->safe_psql('postgres', "CREATE DATABASE plain$_") for 1 .. 40;
$node->restart;  # the launcher checks every database once as it starts
for my $i (1 .. 20)
{
	$node->safe_psql('postgres', "CREATE DATABASE cycled$i");
	$node->safe_psql("cycled$i", 'CREATE EXTENSION pg_chronos');
	$node->safe_psql("cycled$i", 'DROP EXTENSION pg_chronos') if $i % 2;
	$node->safe_psql('postgres', "DROP DATABASE cycled$i") unless $i % 2;
}
$node->safe_psql('postgres', 'CREATE DATABASE kept');
$node->safe_psql('kept', q{CREATE EXTENSION pg_chronos;
	CREATE TABLE hits (at timestamptz DEFAULT clock_timestamp());
	INSERT INTO chronos.tasks (name, schedule, command) VALUES ('tick', '@every 1s', 'INSERT INTO hits DEFAULT VALUES')});
ok(wait_for($node, 'kept', 'SELECT count(*) >= 3 FROM hits', 60),
	'a database that keeps the extension is served: the others left their entries free');
ok(wait_for($node, 'kept', 'SELECT database_served FROM chronos.scheduler'), 'chronos.scheduler says it is served');
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pg_chronos worker'
                                   AND datname <> 'kept'}), '0', 'no other database has a worker');
unlike(slurp_file($node->logfile), qr/PANIC|terminated by signal/, 'nothing crashed');

$node->stop;
done_testing();
