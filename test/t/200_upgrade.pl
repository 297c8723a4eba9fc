# The upgrade path: a database created with version 1.0, holding tasks, history, a listener and grants, is updated
# with ALTER EXTENSION pg_chronos UPDATE and then has exactly the catalog of a fresh install of the current version,
# keeps its tasks, history and grants, and its tasks run. Until it is updated, the library says so once and runs
# nothing there.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ChronosTest;

my $node = start_chronos_node('upgrade');
my $current = $node->safe_psql('postgres',
	"SELECT default_version FROM pg_available_extensions WHERE name = 'pg_chronos'");

$node->safe_psql('postgres', 'CREATE DATABASE fresh');
$node->safe_psql('postgres', 'CREATE DATABASE old');
$node->safe_psql('postgres', 'CREATE ROLE app LOGIN; CREATE ROLE "Mixed Case" LOGIN; CREATE ROLE gone LOGIN');
$node->safe_psql('fresh', 'CREATE EXTENSION pg_chronos');
my $offset = -s $node->logfile;
$node->safe_psql('old', q{CREATE EXTENSION pg_chronos VERSION '1.0'});

# Rows as the 1.0 library wrote them (its trigger is the current library's, so rows are loaded the way a data-only
# restore does, with triggers off).
$node->safe_psql('old', q{
	CREATE TABLE hits (at timestamptz DEFAULT clock_timestamp());
	GRANT INSERT ON hits TO app;
	GRANT USAGE ON SCHEMA chronos TO app;
	GRANT SELECT ON chronos.task_status, chronos.history TO app;
	SET session_replication_role = replica;
	INSERT INTO chronos.tasks (id, name, type, schedule, timezone, command, owner, status, next_exec_time, run_count)
	VALUES (1, 'every-second', 'loop', '@every 1s', 'UTC', 'INSERT INTO public.hits DEFAULT VALUES', 'app',
	        'scheduled', now() + interval '1 second', 3),
	       (2, 'paused', 'loop', '0 3 * * *', 'Europe/Paris', 'SELECT 1', 'Mixed Case', 'paused', NULL, 0),
	       (3, 'orphan', 'once', NULL, 'UTC', 'SELECT 1', 'gone', 'scheduled', now() + interval '1 hour', 0);
	INSERT INTO chronos.runs (task_id, task_name, owner, scheduled_for, started_at, finished_at, status)
	VALUES (1, 'every-second', 'app', now() - interval '1 day', now() - interval '1 day', now() - interval '1 day',
	        'succeeded');
	CREATE FUNCTION on_event(jsonb) RETURNS void LANGUAGE sql AS 'SELECT';
	CREATE FUNCTION app_event(jsonb) RETURNS void LANGUAGE sql AS 'SELECT';
	ALTER FUNCTION app_event(jsonb) OWNER TO app;
	INSERT INTO chronos.listeners (event, handler) VALUES ('signup', 'on_event(jsonb)'), ('order', 'app_event(jsonb)');
	SELECT setval(pg_get_serial_sequence('chronos.tasks', 'id'), 3);
});
$node->safe_psql('postgres', 'DROP ROLE gone');

ok(wait_for_log_line($node, qr/database "old" has version 1\.0 of the extension; this library serves \Q$current\E/,
		$offset), 'the library says in the log that a 1.0 database waits for its update');
sleep(2);
is($node->safe_psql('old', 'SELECT count(*) FROM hits'), '0', 'nothing runs in a database not yet updated');
my $said = () = slurp_file($node->logfile, $offset) =~ /has version 1\.0 of the extension/g;
is($said, 1, 'the library says it once');

$node->safe_psql('old', 'ALTER EXTENSION pg_chronos UPDATE');
is($node->safe_psql('old', "SELECT extversion FROM pg_extension WHERE extname = 'pg_chronos'"), $current,
	'ALTER EXTENSION pg_chronos UPDATE reaches the current version');

my $grants = $node->safe_psql('old',
	q{SELECT string_agg(format('%s:%s', table_name, privilege_type), ',' ORDER BY table_name)
	    FROM information_schema.role_table_grants WHERE grantee = 'app' AND table_schema = 'chronos'});
is($grants, 'history:SELECT,task_status:SELECT', 'grants on the recreated views are kept');
$node->safe_psql('fresh', 'GRANT SELECT ON chronos.task_status, chronos.history TO app');

my $fresh = catalog_description($node, 'fresh');
my $upgraded = catalog_description($node, 'old');
ok(length($fresh) > 1000, 'the catalog description covers the extension');
is($upgraded, $fresh, 'an updated 1.0 catalog is the same as a fresh install');
if ($upgraded ne $fresh)
{
	my %in_fresh = map { $_ => 1 } split /\n/, $fresh;
	my %in_upgraded = map { $_ => 1 } split /\n/, $upgraded;
	diag("only in fresh: $_") for grep { !$in_upgraded{$_} } split /\n/, $fresh;
	diag("only in upgraded: $_") for grep { !$in_fresh{$_} } split /\n/, $upgraded;
}

is($node->safe_psql('old', q{SELECT string_agg(format('%s=%s', name, owner), ',' ORDER BY id) FROM chronos.tasks}),
	'every-second=app,paused="Mixed Case",orphan=-', 'owners are kept by role, a dropped role\'s task has none');
is($node->safe_psql('old', q{SELECT count(*) FROM chronos.runs WHERE owner = 'app'::regrole}), '1',
	'history is kept');
is($node->safe_psql('old', q{SELECT string_agg(format('%s=%s', event, owner), ',' ORDER BY event) FROM chronos.listeners}),
	'order=app,signup=' . $node->safe_psql('old', 'SELECT current_user'),
	'listeners are kept, each owned by the owner of its handler function');
ok(wait_for($node, 'old', 'SELECT count(*) >= 2 FROM hits'), 'tasks run once the database is updated');
is($node->safe_psql('old', q{INSERT INTO chronos.tasks (command, start_time) VALUES ('SELECT 1', now() + interval '1 day')
                             RETURNING id}), '4', 'new tasks continue the id sequence');

done_testing();
