# A non-superuser database owner's ALTER DATABASE … SET settings reach the workers of its database (they are applied
# when a worker connects). Settings that make every transaction read-only, or every error fatal, must not make the
# workers of that database crash-loop, nor stall another database's tasks.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ChronosTest;

my $node = start_chronos_node('db_settings', 'chronos.max_workers = 2');
$node->safe_psql('postgres', q{
	CREATE ROLE dbo LOGIN;
	CREATE DATABASE shop OWNER dbo;
});
$node->safe_psql('shop', 'CREATE EXTENSION pg_chronos; SELECT chronos.trust_database()');
create_chronos_db($node, 'postgres');
$node->safe_psql('postgres', q{
	CREATE TABLE canary (at timestamptz DEFAULT clock_timestamp());
	INSERT INTO chronos.tasks (name, schedule, command) VALUES ('canary', '@every 1s', 'INSERT INTO canary DEFAULT VALUES');
});
$node->safe_psql('shop', q{
	CREATE TABLE shop_canary (at timestamptz DEFAULT clock_timestamp());
	INSERT INTO chronos.tasks (name, schedule, command) VALUES ('su task', '@every 1s', 'INSERT INTO shop_canary DEFAULT VALUES');
	INSERT INTO chronos.tasks (name, schedule, command) VALUES ('fails', '@every 1s', 'SELECT 1/0');
});
ok(wait_for($node, 'shop', q{SELECT count(*) >= 2 FROM shop_canary}), 'the superuser task in shop runs');

# Database settings reach a worker when it connects: restart, so that the new ones apply (a shutdown is not a crash).
$node->safe_psql('shop', q{SET ROLE dbo; ALTER DATABASE shop SET exit_on_error = on});
$node->restart;
my $offset = -s $node->logfile;
sleep 10;
my $log = slurp_file($node->logfile, $offset);
my $exits = () = $log =~ /FATAL/g;
diag("FATAL lines in 10 s with exit_on_error: $exits");
ok(wait_for($node, 'postgres', q{SELECT count(*) >= 3 FROM canary WHERE at > now() - interval '4 seconds'}),
	'with exit_on_error, a task in another database still runs every second');
is($node->safe_psql('shop', q{SELECT crash_count FROM chronos.tasks WHERE name = 'fails'}), '0',
	'with exit_on_error, a failing task in shop fails without ending its worker');
is($node->safe_psql('shop', q{SELECT count(*) FROM chronos.runs WHERE task_name = 'fails' AND status = 'interrupted'}), '0',
	'with exit_on_error, no run of shop is recorded as interrupted');
ok($exits == 0, 'with exit_on_error, no worker of shop exits with FATAL');
diag($node->safe_psql('shop', q{SELECT name, status, crash_count, last_status, left(last_error, 120) FROM chronos.tasks}));

$node->safe_psql('shop', q{SET ROLE dbo; ALTER DATABASE shop RESET exit_on_error; ALTER DATABASE shop SET default_transaction_read_only = on});
$node->restart;
$offset = -s $node->logfile;
sleep 10;
$log = slurp_file($node->logfile, $offset);
my $errors = () = $log =~ /ERROR|FATAL/g;
diag("error lines in 10 s with default_transaction_read_only: $errors");
diag(join "\n", grep { defined } (split /\n/, $log)[0 .. 5]);
ok(wait_for($node, 'shop', q{SELECT count(*) >= 3 FROM shop_canary WHERE at > now() - interval '4 seconds'}),
	'with read-only transactions in shop, the tasks of shop still run every second');
ok(wait_for($node, 'postgres', q{SELECT count(*) >= 3 FROM canary WHERE at > now() - interval '4 seconds'}),
	'with read-only transactions in shop, a task in another database still runs every second');
ok($errors < 20, 'the workers of shop do not spin on errors');

$node->stop;
done_testing();
