# Runs in flight never leave a database without a worker for its SQL tasks, even when worker slots are scarce: a plain
# role with one HTTP grant keeps silent requests in flight (as many as its share) in a database whose other databases
# hold the rest of the slots; the database's own SQL task keeps its schedule, as do the others'.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ChronosTest;

my ($port, $log) = start_http_server();
my $node = start_chronos_node('scarce', 'max_worker_processes = 8', 'chronos.max_workers = 4',
	'chronos.max_in_flight = 10');
my @databases = qw(shop d1 d2 d3);
for my $db (@databases)
{
	create_chronos_db($node, $db);
	$node->safe_psql($db, q{
		CREATE TABLE hits (task text, at timestamptz DEFAULT clock_timestamp());
		INSERT INTO chronos.tasks (name, schedule, command) VALUES ('canary', '@every 1s', 'INSERT INTO hits VALUES (''canary'')');
	});
}
grant_task_rights($node, 'shop', 'app');
$node->safe_psql('shop', q{INSERT INTO chronos.http_grants VALUES ('app', '127.0.0.1')});
ok(wait_for($node, $_, q{SELECT count(*) >= 2 FROM hits}), "$_ runs its canary") for @databases;

$node->psql('shop', qq{INSERT INTO chronos.tasks (name, kind, schedule, command, timeout)
	SELECT 'silent ' || i, 'http', '1 second', 'http://127.0.0.1:$port/slow?ms=600000&i=' || i, '60 s'
	  FROM generate_series(1, 6) i}, extra_params => [ '-U', 'app' ]);
ok(wait_for($node, 'shop', q{SELECT count(*) >= 5 FROM chronos.running WHERE task_name LIKE 'silent %'}),
	"the role's silent requests are in flight");
my $from = $node->safe_psql('shop', 'SELECT clock_timestamp()');
sleep 10;
for my $db (@databases)
{
	my $runs = $node->safe_psql($db, "SELECT count(*) FROM hits WHERE at > '$from'");
	cmp_ok($runs, '>=', 5, "$db: its SQL task keeps running while the requests hang");
}

unlike(slurp_file($node->logfile), qr/terminated by signal|PANIC|server process .* was terminated/,
	'no process crashed');
$node->stop('immediate');
done_testing();
