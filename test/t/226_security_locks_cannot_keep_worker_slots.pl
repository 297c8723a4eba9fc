# A session's lock cannot keep a worker, and its background worker slot: a worker waits at most 1 s for a lock while
# it connects and prepares its database, then exits with the error and is retried with back-off. A role with CREATEDB
# that holds ALTER DATABASE … RENAME open on as many of its own databases as there are slots leaves another role's
# database served every second; a plain role that locks chronos.tasks delays only its own database, and the worker
# starting there lets go.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);
use ChronosTest;

my $node = start_chronos_node('locks', 'max_worker_processes = 8');
$node->safe_psql('postgres', q{CREATE ROLE copier LOGIN CREATEDB; CREATE DATABASE victim; CREATE DATABASE base OWNER copier});
$node->safe_psql('victim', q{CREATE EXTENSION pg_chronos;
	CREATE TABLE hits (at timestamptz DEFAULT clock_timestamp());
	INSERT INTO chronos.tasks (name, schedule, command) VALUES ('tick', '@every 1s', 'INSERT INTO hits DEFAULT VALUES')});
$node->safe_psql('base', q{CREATE EXTENSION pg_chronos; GRANT USAGE ON SCHEMA chronos TO copier;
	GRANT SELECT, INSERT, UPDATE, DELETE ON chronos.tasks TO copier;
	SET ROLE copier;
	INSERT INTO chronos.tasks (name, schedule, command) VALUES ('own', '@every 1s', 'SELECT 1')});
my @copies = map { "copy$_" } 1 .. 7;
$node->safe_psql('postgres', "CREATE DATABASE $_ TEMPLATE base", extra_params => [ '-U', 'copier' ]) for @copies;
ok(wait_for($node, 'victim', 'SELECT count(*) >= 2 FROM hits'), 'the victim\'s task runs');

# The copier renames each of its copies in a transaction it keeps open: the database stays locked.
my @sessions;
for my $copy (@copies)
{
	my $session = role_session($node, 'postgres', 'copier');
	$session->query_safe("BEGIN; ALTER DATABASE $copy RENAME TO renamed_$copy");
	push @sessions, $session;
}
my $log_offset = -s $node->logfile;
my $since = $node->safe_psql('victim', 'SELECT clock_timestamp()');
my $longest = 0;
for (1 .. 24)
{
	my $waiting = $node->safe_psql('postgres', q{SELECT coalesce(max(extract(epoch FROM now() - backend_start)), 0)
		FROM pg_stat_activity WHERE backend_type = 'pg_chronos worker' AND wait_event_type = 'Lock'});
	$longest = $waiting if $waiting > $longest;
	usleep(500_000);
}
my ($runs, $late) = split /\|/, $node->safe_psql('victim', qq{
	SELECT count(*), coalesce(max(extract(epoch FROM started_at - scheduled_for)), 0)
	  FROM chronos.runs WHERE started_at > '$since'});
diag("over 12 s: the victim ran $runs times, its largest starting delay $late s; a worker waited for a lock $longest s at most");
cmp_ok($runs, '>=', 9, 'the victim\'s every-second task kept running while its neighbours were locked');
cmp_ok($late, '<', 2, 'each of its runs started within 2 s of its slot');
cmp_ok($longest, '<', 3, 'no worker waited for a lock for long');
ok(wait_for_log_line($node, qr/canceling statement due to lock timeout(.*\n)+?.*CONTEXT:  pg_chronos worker starting in its database/, $log_offset),
	'the worker that met the lock said why it gave up');
$_->query_safe('ROLLBACK') for @sessions;
$_->quit for @sessions;

# --- a plain role locking chronos.tasks --------------------------------------------------------------------------------
grant_task_rights($node, 'victim', 'alice');
$node->safe_psql('postgres', "DROP DATABASE $_") for @copies;
my $locker = role_session($node, 'victim', 'alice');
$locker->query_safe('BEGIN; LOCK TABLE chronos.tasks IN ACCESS EXCLUSIVE MODE');
# The victim's executors leave when their claims keep stepping back; a new one meets the lock as it starts.
$log_offset = -s $node->logfile;
$node->safe_psql('victim', q{SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE backend_type = 'pg_chronos worker'});
ok(wait_for_log_line($node, qr/canceling statement due to lock timeout(.*\n)+?.*CONTEXT:  pg_chronos worker starting in its database/, $log_offset, 30),
	'a worker starting in the locked database gives up after its lock timeout');
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pg_chronos worker'
	AND wait_event_type = 'Lock' AND now() - backend_start > interval '3 s'}), '0', 'no worker waits for the lock');
$locker->query_safe('ROLLBACK');
$locker->quit;
$since = $node->safe_psql('victim', 'SELECT clock_timestamp()');
ok(wait_for($node, 'victim', "SELECT count(*) >= 2 FROM hits WHERE at > '$since'", 90),
	'once the lock is gone, the database is served again');

done_testing();
