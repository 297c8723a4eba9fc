# pg_chronos does nothing for a utility command PostgreSQL refuses. A role with no privilege on a database tries to
# drop, copy, rename and move it, and to drop the extension; a CREATEDB role tries to copy a database it does not own;
# the database's own owner tries commands PostgreSQL refuses for other reasons (inside a transaction block, a name in
# use). None of them may stop a run, quiesce the database or delay its tasks. A refused DROP EXTENSION in a savepoint
# ends its quiesce with the savepoint, and the error of a command that waited for runs names only the caller's tasks.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ChronosTest;
use Time::HiRes qw(time);

my $node = start_chronos_node('refused', 'chronos.max_workers = 3');
$node->safe_psql('postgres', q{
	CREATE ROLE nobody LOGIN;
	CREATE ROLE maker LOGIN CREATEDB;
	CREATE ROLE dbo LOGIN CREATEDB;
	CREATE DATABASE victimdb;
	CREATE DATABASE shop OWNER dbo;
});
$node->safe_psql($_, "CREATE EXTENSION pg_chronos") for qw(victimdb shop);
$node->safe_psql('victimdb', q{
	CREATE TABLE hits (at timestamptz DEFAULT clock_timestamp());
	INSERT INTO chronos.tasks (name, schedule, command) VALUES ('every second', '@every 1s', 'INSERT INTO hits DEFAULT VALUES');
	INSERT INTO chronos.tasks (name, command, transactional) VALUES ('long', 'SELECT pg_sleep(30)', false);
});
ok(wait_until_task_running($node, 'victimdb', 'long'), 'the superuser\'s long run is going');

# The error a statement gives as $role in database $db (default postgres).
sub as_role
{
	my ($role, $sql, $db) = @_;
	$db //= 'postgres';
	my ($rc, $out, $err) = $node->psql($db, $sql, connstr => $node->connstr($db) . " user=$role");
	return $err;
}

my $before = $node->safe_psql('victimdb', 'SELECT count(*) FROM hits');
my $t0 = time;
my @refused;
for my $try (1 .. 3)
{
	push @refused, as_role('nobody', 'DROP DATABASE victimdb');
	push @refused, as_role('nobody', 'ALTER DATABASE victimdb RENAME TO stolen');
	push @refused, as_role('nobody', 'ALTER DATABASE victimdb SET TABLESPACE pg_default');
	push @refused, as_role('maker', 'CREATE DATABASE copied TEMPLATE victimdb');
}
my $took = time - $t0;
like($_, qr/must be owner|permission denied/, "refused by PostgreSQL: $_") for @refused[0 .. 3];
is(scalar(grep { /permission denied|must be owner/ } @refused), 12, 'all twelve attempts are refused by PostgreSQL');
unlike(join("\n", @refused), qr/task|run in progress|pg_chronos/, 'no refusal names a task or a run');
ok($took < 5, sprintf('the refusals are immediate (%.1f s for twelve)', $took));
ok(wait_for($node, 'victimdb', "SELECT count(*) >= $before + 3 FROM hits"),
	'the every-second task of the database kept running');
is($node->safe_psql('victimdb', q{SELECT count(*) FROM chronos.runs WHERE status = 'interrupted'}), '0',
	'no run was stopped');
ok($node->safe_psql('postgres', q{SELECT count(*) FROM pg_stat_activity
	WHERE datname = 'victimdb' AND query LIKE 'pg_chronos task long:%'}) == 1, 'the long run is still going');
is($node->safe_psql('victimdb', q{SELECT crash_count FROM chronos.tasks WHERE name = 'long'}), '0',
	'the long task is not counted as having crashed');

# The owner's own commands that PostgreSQL refuses before acting: inside a transaction block, or onto a name in use.
like(as_role('postgres', 'BEGIN; DROP DATABASE victimdb; COMMIT'), qr/cannot run inside a transaction block/,
	'DROP DATABASE in a transaction block is refused by PostgreSQL');
like(as_role('postgres', 'ALTER DATABASE victimdb RENAME TO shop'), qr/already exists/,
	'a rename onto a name in use is refused by PostgreSQL');
ok($node->safe_psql('postgres', q{SELECT count(*) FROM pg_stat_activity
	WHERE datname = 'victimdb' AND query LIKE 'pg_chronos task long:%'}) == 1, 'the long run is still going after them');

# A refused DROP EXTENSION: by a role that does not own it, and by its owner in a savepoint (the run in progress outlasts
# its lock_timeout).
like(as_role('nobody', 'DROP EXTENSION pg_chronos', 'victimdb'), qr/must be owner/,
	'DROP EXTENSION by another role is refused');
my $session = $node->background_psql('victimdb', on_error_stop => 0);
$session->query_safe("BEGIN; SET LOCAL lock_timeout = '500ms'");
$session->query_safe('SAVEPOINT s');
$session->query('DROP EXTENSION pg_chronos');
like($session->{stderr}, qr/did not end within lock_timeout/, 'the owner\'s DROP EXTENSION gives up in its savepoint');
$session->{stderr} = '';
$session->query_safe('ROLLBACK TO SAVEPOINT s');
my $in_transaction = $node->safe_psql('victimdb', 'SELECT count(*) FROM hits');
ok(wait_for($node, 'victimdb', "SELECT count(*) >= $in_transaction + 2 FROM hits"),
	'with the savepoint rolled back, the tasks run again while the transaction is still open');
$session->query_safe('COMMIT');
$session->quit;

# A command that waits for runs and gives up names only the runs of tasks the caller may see.
grant_task_rights($node, 'shop', 'app');
$node->safe_psql('shop', q{SET ROLE app;
	INSERT INTO chronos.tasks (name, command, transactional) VALUES ('app long', 'SELECT pg_sleep(30)', false)});
ok(wait_until_task_running($node, 'shop', 'app long'), 'a task of another role runs in the owner\'s database');
my $app_task = $node->safe_psql('shop', q{SELECT id FROM chronos.tasks WHERE name = 'app long'});
my $rename = as_role('dbo', 'ALTER DATABASE shop RENAME TO shop2');
like($rename, qr/has a task run in progress/, 'the owner\'s rename fails while a run goes on');
like($rename, qr/1 run of other roles' tasks/, 'the error counts the other role\'s run');
unlike($rename, qr/task $app_task\b|app long/, 'the error does not name the other role\'s task');

$node->stop;
done_testing();
