# Databases come and go around a running scheduler: a database copied from a template with the extension is served at
# once (from a user template or template1, which itself is never served); copying or renaming a database waits for its
# runs in progress instead of killing them, and fails with a clear error when one outlasts the wait; DROP DATABASE and
# DROP EXTENSION during runs leave a log that names databases and has no confusing errors; a bystander database's tasks
# keep running through all of it.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);
use ChronosTest;

my $node = start_chronos_node('robustness_lifecycle', 'chronos.max_workers = 3', 'max_worker_processes = 32');
my $log_start = -s $node->logfile;

my $hits_table = 'CREATE TABLE hits (task text, at timestamptz NOT NULL DEFAULT clock_timestamp())';
sub tick_task
{
	my ($name) = @_;
	return "SELECT chronos.schedule('$name', '* * * * * *', \$\$INSERT INTO public.hits (task) VALUES ('$name')\$\$)";
}
sub query { return $node->safe_psql($_[0], $_[1]); }

sub hits_again { return wait_for_new_hit($node, @_); }
sub wait_until_running { return wait_until_task_running($node, @_); }

# Runs $sql in the postgres database: (exit code, stderr, seconds taken).
sub timed_psql
{
	my ($sql) = @_;
	my ($out, $err);
	my $started = time();
	my $ret = $node->psql('postgres', $sql, stdout => \$out, stderr => \$err, timeout => 120);
	return ($ret, $err, time() - $started);
}

sub log_since { return slurp_file($node->logfile, $_[0]); }

create_chronos_db($node, 'bystander');
query('bystander', $hits_table);
query('bystander', tick_task('tick'));
ok(hits_again('bystander', 'tick'), 'the bystander database runs its task');

create_chronos_db($node, 'src');
query('src', $hits_table);
query('src', tick_task('tick'));
query('src', q{SELECT chronos.schedule('slow', '*/10 * * * * *', 'SELECT pg_sleep(3)')});
ok(hits_again('src', 'tick'), 'the source database runs its tasks');

# --- CREATE DATABASE … TEMPLATE src during a run in src ---------------------------------------------------------------

ok(wait_until_running('src', 'slow'), 'a 3-second run is in progress in src');
my $created_at = query('postgres', 'SELECT clock_timestamp()');
my ($ret, $err, $took) = timed_psql('CREATE DATABASE copy_db TEMPLATE src');
is($ret, 0, 'CREATE DATABASE … TEMPLATE src succeeds while a run is in progress there') or diag($err);
diag(sprintf('CREATE DATABASE … TEMPLATE src took %.1f s', $took));
is(query('src', q{SELECT string_agg(DISTINCT status::text, ',') FROM chronos.runs WHERE task_name = 'slow'}),
	'succeeded', 'the run in progress was not killed: every run of the slow task succeeded');
ok(wait_for($node, 'copy_db', "SELECT EXISTS (SELECT FROM hits WHERE task = 'tick' AND at > '$created_at')", 30),
	'the copy is served at once: its copied task runs without any new task being written');
my $first_hit = query('copy_db', "SELECT extract(epoch FROM min(at) - '$created_at') FROM hits WHERE at > '$created_at'");
diag("first run in the copy $first_hit s after CREATE DATABASE began");
ok(hits_again('src', 'tick'), 'src is served again after the copy');
ok(hits_again('bystander', 'tick'), 'the bystander keeps running');

# --- a run that outlasts the wait: the command fails with a clear error, the run goes on ------------------------------

query('src', q{SELECT chronos.schedule('long', '*/30 * * * * *', 'SELECT pg_sleep(60)')});
ok(wait_until_running('src', 'long'), 'a 60-second run is in progress in src');
my $long_pid = query('postgres',
	q{SELECT pid FROM pg_stat_activity WHERE datname = 'src' AND query LIKE 'pg_chronos task long:%'});
($ret, $err, $took) = timed_psql('CREATE DATABASE copy_refused TEMPLATE src');
isnt($ret, 0, 'CREATE DATABASE … TEMPLATE src fails while a run outlasts the wait');
like($err, qr/pg_chronos: database "src" has a task run in progress/, 'the error names the database');
like($err, qr/HINT:  Wait for the run to finish, cancel it with chronos.cancel\(\)/, 'the hint says what to do');
diag(sprintf('the refused CREATE DATABASE took %.1f s', $took));
is(query('postgres', "SELECT count(*) FROM pg_stat_activity WHERE pid = $long_pid AND query LIKE 'pg_chronos task long:%'"),
	'1', 'the long run was not killed');
ok(hits_again('src', 'tick'), 'src is served again after the refused copy');
query('src', q{SELECT chronos.cancel('long'), chronos.unschedule('long')});

# --- ALTER DATABASE src RENAME during a run ---------------------------------------------------------------------------

ok(wait_until_running('src', 'slow'), 'a 3-second run is in progress in src again');
($ret, $err, $took) = timed_psql('ALTER DATABASE src RENAME TO renamed');
is($ret, 0, 'ALTER DATABASE … RENAME succeeds while a run is in progress there') or diag($err);
ok(hits_again('renamed', 'tick'), 'the renamed database keeps being served');
is(query('renamed', q{SELECT string_agg(DISTINCT status::text, ',') FROM chronos.runs WHERE task_name = 'slow'}),
	'succeeded', 'the run in progress during the rename was not killed');

# --- template1 with the extension ------------------------------------------------------------------------------------

query('template1', 'CREATE EXTENSION pg_chronos');
query('template1', $hits_table);
query('template1', tick_task('tick'));
sleep(2);
is(query('postgres', "SELECT count(*) FROM pg_stat_activity WHERE datname = 'template1' AND $IS_CHRONOS_PROCESS"), '0',
	'no executor connects to template1, though it has the extension and a task');
is(query('template1', 'SELECT count(*) FROM hits'), '0', 'and its task does not run there');
$created_at = query('postgres', 'SELECT clock_timestamp()');
($ret, $err, $took) = timed_psql('CREATE DATABASE from_template1');
is($ret, 0, 'CREATE DATABASE from template1 with the extension succeeds') or diag($err);
ok(wait_for($node, 'from_template1', "SELECT EXISTS (SELECT FROM hits WHERE at > '$created_at')", 30),
	'a database created from template1 with the extension is served at once');
query('template1', 'DROP TABLE hits; DROP EXTENSION pg_chronos');

# --- DROP DATABASE during a run ---------------------------------------------------------------------------------------

my $offset = -s $node->logfile;
my $copies_log = slurp_file($node->logfile, $log_start);
ok(wait_until_running('copy_db', 'slow'), 'a run is in progress in the copy');
($ret, $err, $took) = timed_psql('DROP DATABASE copy_db');
is($ret, 0, 'DROP DATABASE during a run succeeds') or diag($err);
cmp_ok($took, '<', 30, sprintf('and does not hang (%.1f s)', $took));
sleep(3);
my $log = log_since($offset);
like($log, qr/pg_chronos: stopping the run of task\(s\) \d+ in database "copy_db", which is being dropped/,
	'the log says which database\'s run is stopped, by name');
unlike($log, qr/database \d+ does not exist|database with OID/, 'no "database N does not exist" in the log');
ok(hits_again('bystander', 'tick'), 'the bystander keeps running after DROP DATABASE');

# --- DROP EXTENSION during an autonomous run -------------------------------------------------------------------------

create_chronos_db($node, 'dropext');
query('dropext', q{
	CREATE PROCEDURE public.nap() LANGUAGE plpgsql AS $$ BEGIN COMMIT; PERFORM pg_sleep(3); END $$;
	INSERT INTO chronos.tasks (name, command, transactional) VALUES ('nap', 'CALL public.nap()', false);
});
ok(wait_until_running('dropext', 'nap'), 'an autonomous run is in progress');
$offset = -s $node->logfile;
my ($dret, $dout, $derr);
$dret = $node->psql('dropext', 'DROP EXTENSION pg_chronos', stderr => \$derr);
is($dret, 0, 'DROP EXTENSION during an autonomous run succeeds') or diag($derr);
ok(wait_for($node, 'postgres',
		"SELECT count(*) = 0 FROM pg_stat_activity WHERE datname = 'dropext' AND $IS_CHRONOS_PROCESS", 30),
	'the executors of the database leave once the run is over');
$log = log_since($offset);
{
	unlike($log, qr/ERROR:|could not open relation with OID/,
		'no error in the log (such as "could not open relation with OID 0") when the run ends after the drop')
	  or diag(join("\n", grep { /ERROR|WARNING/ } split /\n/, $log));
}
ok(hits_again('bystander', 'tick'), 'the bystander keeps running after DROP EXTENSION');

# --- the whole log ----------------------------------------------------------------------------------------------------

$log = log_since($log_start);
unlike($log, qr/PANIC|terminated by signal/, 'no crash');
unlike($log, qr/database \d+ does not exist/, 'no message names a database by OID as missing');
unlike($log, qr/worker for database \d+/, 'no message names a database by OID');
{
	my @stopped = grep { /terminating background worker/ } split /\n/, $copies_log;
	is(scalar(@stopped), 0, 'copying and renaming databases terminated no executor (idle ones leave by themselves)');
}
diag("pg_chronos processes:\n" . chronos_processes($node));

$node->stop;
done_testing();
