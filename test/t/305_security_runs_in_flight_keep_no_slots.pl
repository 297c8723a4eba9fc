# Runs in flight keep their executor's worker slot until they end, so they must not let a role keep other databases
# unserved: a CREATEDB role with one HTTP grant copies its database, each copy holding a request to an endpoint that
# never answers (timeout one day), twenty of them in each, more copies than there are worker slots. The executors that
# drive runs in flight stay fewer than half the slots in the whole cluster, an executor past its turn while others wait
# takes no more runs in flight, and a superuser's task in another database keeps its schedule.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ChronosTest;

my ($port, $log) = start_http_server();
# 8 background worker processes: the launcher, the logical replication launcher, and 6 executor slots.
my $node = start_chronos_node('slots', 'max_worker_processes = 8', 'chronos.max_workers = 4');
create_chronos_db($node, 'postgres');
$node->safe_psql('postgres', q{
	CREATE TABLE hits (task text, at timestamptz DEFAULT clock_timestamp());
	INSERT INTO chronos.tasks (name, schedule, command) VALUES ('canary', '@every 1s', 'INSERT INTO hits VALUES (''canary'')');
	CREATE ROLE copier LOGIN CREATEDB;
	CREATE DATABASE copied OWNER copier;
});
$node->safe_psql('copied', 'CREATE EXTENSION pg_chronos');
grant_task_rights($node, 'copied', 'copier');
$node->safe_psql('copied', q{INSERT INTO chronos.http_grants VALUES ('copier', '127.0.0.1')});

my $due = $node->safe_psql('postgres', "SELECT clock_timestamp() + interval '20 s'");
$node->psql('copied', qq{INSERT INTO chronos.tasks (name, kind, command, start_time, timeout)
	SELECT 'silent', 'http', 'http://127.0.0.1:$port/slow?ms=600000&i=' || i, '$due', '1 day'
	  FROM generate_series(1, 20) i}, extra_params => [ '-U', 'copier' ]);
for my $i (1 .. 7)
{
	my ($ret, $out, $err) = $node->psql('postgres', "CREATE DATABASE copy$i TEMPLATE copied",
		extra_params => [ '-U', 'copier' ]);
	is($ret, 0, "the role makes copy $i") or diag($err);
}

# Wait until the requests are due and in flight, then watch the canary for 12 s.
ok(wait_for($node, 'postgres', "SELECT clock_timestamp() > '$due'::timestamptz + interval '3 s'", 40),
	'the silent requests are due');
my $from = $node->safe_psql('postgres', 'SELECT clock_timestamp()');
sleep 12;
my $runs = $node->safe_psql('postgres', "SELECT count(*) FROM hits WHERE at > '$from'");
cmp_ok($runs, '>=', 6, "the superuser's task in another database keeps running while the copies' requests hang");
my $gap = $node->safe_psql('postgres', qq{SELECT coalesce(extract(epoch FROM max(at - lag)), 99) FROM
	(SELECT at, lag(at) OVER (ORDER BY at) FROM hits WHERE at > '$from'::timestamptz - interval '3 s') s});
cmp_ok($gap, '<', 5, 'never more than 5 s late');
my %drivers = map { $_ => 1 } map { split /\n/, $node->safe_psql($_,
	q{SELECT DISTINCT pid FROM chronos.running WHERE task_name = 'silent'}) } ('copied', map { "copy$_" } 1 .. 7);
cmp_ok(scalar(keys %drivers), '<=', 2, 'fewer than half of the six slots drive runs in flight, whatever the databases');

unlike(slurp_file($node->logfile), qr/terminated by signal|PANIC|server process .* was terminated/,
	'no process crashed');
$node->stop('immediate');
done_testing();
