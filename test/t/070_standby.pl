# A streaming standby runs nothing: tasks and runs only arrive there by replication. Once promoted, it serves the tasks.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(sleep);
use ChronosTest;

my $primary = start_chronos_node('primary', { allows_streaming => 1 });
create_chronos_db($primary, 'postgres');
# Each run records the port of the server that ran it.
$primary->safe_psql('postgres', q{
	CREATE TABLE ledger (port int NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp());
	INSERT INTO chronos.tasks (name, schedule, command)
	VALUES ('tick', '* * * * * *', $$INSERT INTO ledger (port) VALUES (current_setting('port')::int)$$);
});
ok(wait_for($primary, 'postgres', 'SELECT count(*) >= 2 FROM ledger'), 'the primary runs the loop task');

$primary->backup('backup');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'backup', has_streaming => 1);
$standby->start;
$primary->wait_for_catchup($standby);
is($standby->safe_psql('postgres', 'SELECT pg_is_in_recovery()'), 't', 'the standby is in recovery');

my $rows_before = $standby->safe_psql('postgres', 'SELECT count(*) FROM ledger');
ok(wait_for($standby, 'postgres', "SELECT count(*) > $rows_before FROM ledger"),
	'the ledger grows on the standby by replication');

my $standby_processes = 0;
for (1 .. 6)
{
	$standby_processes +=
	  $standby->safe_psql('postgres', "SELECT count(*) FROM pg_stat_activity WHERE $IS_CHRONOS_PROCESS");
	sleep(0.5);
}
is($standby_processes, 0, 'no pg_chronos process runs on a standby')
  or diag("pg_chronos processes on the standby:\n" . chronos_processes($standby));
is($standby->safe_psql('postgres', 'SELECT count(*) FROM ledger WHERE port <> ' . $primary->port), '0',
	'every run in the standby\'s ledger was made by the primary');
unlike(slurp_file($standby->logfile), qr/read-only transaction/, 'nothing tries to write on the standby');

# Stop the primary first, so that the two servers never both run the task.
my $primary_stopped = $primary->safe_psql('postgres', 'SELECT clock_timestamp()');
$primary->stop;
$standby->promote;
ok(wait_for($standby, 'postgres', 'SELECT NOT pg_is_in_recovery()'), 'the standby is promoted');
my $port = $standby->port;
ok(wait_for($standby, 'postgres', "SELECT count(*) >= 2 FROM ledger WHERE port = $port"),
	'the promoted standby runs the loop task');
is($standby->safe_psql('postgres', qq{
	SELECT count(*) > 0 FROM chronos.runs
	 WHERE task_name = 'tick' AND status = 'succeeded' AND started_at > '$primary_stopped'}),
	't', 'the promoted standby records its runs in chronos.runs');
ok($standby->safe_psql('postgres', "SELECT count(*) FROM pg_stat_activity WHERE $IS_CHRONOS_PROCESS") > 0,
	'pg_chronos processes run on the promoted standby');

$standby->stop;
done_testing();
