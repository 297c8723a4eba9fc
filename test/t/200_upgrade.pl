# The upgrade path: databases created with versions 1.0 and 1.1, holding tasks, history, a listener and grants, are
# updated with ALTER EXTENSION pg_chronos UPDATE and then have exactly the catalog of a fresh install of the current
# version, keep their tasks, history and grants, and their tasks run. Until a database is updated, the library says so
# once and runs nothing in a 1.0 database; a 1.1 database is served with 1.1's features until it is updated.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ChronosTest;

my $node = start_chronos_node('upgrade');
my $current = $node->safe_psql('postgres',
	"SELECT default_version FROM pg_available_extensions WHERE name = 'pg_chronos'");
my $superuser = $node->safe_psql('postgres', 'SELECT current_user');

$node->safe_psql('postgres', 'CREATE DATABASE fresh');
$node->safe_psql('postgres', "CREATE DATABASE \"v$_\"") for qw(1.0 1.1);
$node->safe_psql('postgres', 'CREATE ROLE app LOGIN; CREATE ROLE "Mixed Case" LOGIN; CREATE ROLE gone LOGIN');
$node->safe_psql('fresh', 'CREATE EXTENSION pg_chronos');
my $offset = -s $node->logfile;
$node->safe_psql("v$_", "CREATE EXTENSION pg_chronos VERSION '$_'") for qw(1.0 1.1);

# Rows as the older library wrote them (its trigger is the current library's, so rows are loaded the way a data-only
# restore does, with triggers off). Owners are names in 1.0 and regroles in 1.1.
for my $version (qw(1.0 1.1))
{
	my $mixed = $version eq '1.0' ? 'Mixed Case' : '"Mixed Case"';
	$node->safe_psql("v$version", qq{
		CREATE TABLE hits (at timestamptz DEFAULT clock_timestamp());
		GRANT INSERT ON hits TO app;
		GRANT USAGE ON SCHEMA chronos TO app;
		GRANT SELECT ON chronos.task_status, chronos.history TO app;
		SET session_replication_role = replica;
		INSERT INTO chronos.tasks (id, name, type, schedule, timezone, command, owner, status, next_exec_time, run_count)
		VALUES (1, 'every-second', 'loop', '\@every 1s', 'UTC', 'INSERT INTO public.hits DEFAULT VALUES', 'app',
		        'scheduled', now() + interval '1 second', 3),
		       (2, 'paused', 'loop', '0 3 * * *', 'Europe/Paris', 'SELECT 1', '$mixed', 'paused', NULL, 0),
		       (3, 'orphan', 'once', NULL, 'UTC', 'SELECT 1', 'gone', 'scheduled', now() + interval '1 hour', 0);
		INSERT INTO chronos.runs (task_id, task_name, owner, scheduled_for, started_at, finished_at, status)
		VALUES (1, 'every-second', 'app', now() - interval '1 day', now() - interval '1 day', now() - interval '1 day',
		        'succeeded');
		CREATE FUNCTION on_event(jsonb) RETURNS void LANGUAGE sql AS 'SELECT';
		CREATE FUNCTION app_event(jsonb) RETURNS void LANGUAGE sql AS 'SELECT';
		ALTER FUNCTION app_event(jsonb) OWNER TO app;
		SELECT setval(pg_get_serial_sequence('chronos.tasks', 'id'), 3);
	});
}
# 1.0 listeners have no owner (the update gives each to its handler's owner); 1.1 ones name it.
$node->safe_psql('v1.0', q{INSERT INTO chronos.listeners (event, handler)
	VALUES ('signup', 'on_event(jsonb)'), ('order', 'app_event(jsonb)')});
$node->safe_psql('v1.1', qq{INSERT INTO chronos.listeners (event, handler, owner)
	VALUES ('signup', 'on_event(jsonb)', '$superuser'), ('order', 'app_event(jsonb)', 'app')});
$node->safe_psql('postgres', 'DROP ROLE gone');
# The library was upgraded under these databases: the server restarts on it.
$node->stop;
$offset = -s $node->logfile;
$node->start;

ok(wait_for_log_line($node, qr/database "v1\.0" has version 1\.0 of the extension; this library serves \Q$current\E/,
		$offset), 'the library says in the log that a 1.0 database waits for its update');
# A 1.1 database is served by the new library before its update, with 1.1's features: a library upgrade does not stop
# its schedules until a DBA has visited every database.
ok(wait_for($node, 'v1.1', 'SELECT count(*) >= 2 FROM hits'), 'tasks of a 1.1 database run before it is updated');
is($node->safe_psql('v1.1', q{SELECT count(*) FROM chronos.runs WHERE status = 'succeeded' AND owner = 'app'::regrole
	AND started_at > now() - interval '1 hour'}), $node->safe_psql('v1.1', 'SELECT count(*) FROM hits'),
	'and are recorded in its catalog as 1.1 keeps them');
sleep(2);
my $log = slurp_file($node->logfile, $offset);
is($node->safe_psql('v1.0', 'SELECT count(*) FROM hits'), '0', 'nothing runs in a 1.0 database not yet updated');
my $said = () = $log =~ /database "v1\.0" has version/g;
is($said, 1, 'the library says it once for the 1.0 database');
unlike($log, qr/database "v1\.1" has version/, 'and says nothing of the 1.1 database, which it serves');
unlike($log, qr/ERROR|FATAL/, 'serving the 1.1 database raises no error');

$node->safe_psql('fresh', 'GRANT SELECT ON chronos.task_status, chronos.history TO app');
my $fresh = catalog_description($node, 'fresh');
ok(length($fresh) > 1000, 'the catalog description covers the extension');

for my $version (qw(1.0 1.1))
{
	my $db = "v$version";
	$node->safe_psql($db, 'ALTER EXTENSION pg_chronos UPDATE');
	is($node->safe_psql($db, "SELECT extversion FROM pg_extension WHERE extname = 'pg_chronos'"), $current,
		"ALTER EXTENSION pg_chronos UPDATE takes $version to the current version");

	my $grants = $node->safe_psql($db,
		q{SELECT string_agg(format('%s:%s', table_name, privilege_type), ',' ORDER BY table_name)
		    FROM information_schema.role_table_grants WHERE grantee = 'app' AND table_schema = 'chronos'});
	is($grants, 'history:SELECT,task_status:SELECT', "$version: grants on the recreated views are kept");

	my $upgraded = catalog_description($node, $db);
	is($upgraded, $fresh, "an updated $version catalog is the same as a fresh install");
	if ($upgraded ne $fresh)
	{
		my %in_fresh = map { $_ => 1 } split /\n/, $fresh;
		my %in_upgraded = map { $_ => 1 } split /\n/, $upgraded;
		diag("only in fresh: $_") for grep { !$in_upgraded{$_} } split /\n/, $fresh;
		diag("only in upgraded: $_") for grep { !$in_fresh{$_} } split /\n/, $upgraded;
	}

	# 1.0 bound owners by name (the update finds no role "gone"); 1.1 by OID, which outlives the role.
	like($node->safe_psql($db, q{SELECT string_agg(format('%s=%s', name, owner), ',' ORDER BY id) FROM chronos.tasks}),
		$version eq '1.0' ? qr/^every-second=app,paused="Mixed Case",orphan=-$/
		                  : qr/^every-second=app,paused="Mixed Case",orphan=[1-9][0-9]*$/,
		"$version: owners are kept by role, a dropped role's task has none");
	# The row written a day ago: the every-second task adds runs of its own once the database is updated.
	is($node->safe_psql($db, q{SELECT count(*) FROM chronos.runs
	                            WHERE owner = 'app'::regrole AND started_at < now() - interval '12 hours'}),
		'1', "$version: history is kept");
	is($node->safe_psql($db,
			q{SELECT string_agg(format('%s=%s', event, owner), ',' ORDER BY event) FROM chronos.listeners}),
		"order=app,signup=$superuser", "$version: listeners are kept, each with its owner");
	ok(wait_for($node, $db, 'SELECT count(*) >= 2 FROM hits'), "$version: tasks run once the database is updated");
	is($node->safe_psql($db,
			q{INSERT INTO chronos.tasks (command, start_time) VALUES ('SELECT 1', now() + interval '1 day') RETURNING id}),
		'4', "$version: new tasks continue the id sequence");
	is($node->safe_psql($db, q{SELECT string_agg(DISTINCT kind::text, ',') FROM chronos.tasks}), 'sql',
		"$version: tasks of the older version are SQL tasks");
	$node->safe_psql($db, q{INSERT INTO chronos.tasks (name, kind, command) VALUES
		('upgraded shell', 'shell', 'echo from 1.2'), ('upgraded http', 'http', 'http://127.0.0.1:1/')});
	ok(wait_for($node, $db, q{SELECT count(*) = 2 FROM chronos.runs WHERE task_name LIKE 'upgraded %'}),
		"$version: shell and http tasks run once the database is updated");
	is($node->safe_psql($db, q{SELECT string_agg(status || ' ' || coalesce(error, result), ', ' ORDER BY task_name)
		FROM chronos.runs WHERE task_name LIKE 'upgraded %'}),
		"failed 58000: could not connect to 127.0.0.1 port 1: Connection refused, succeeded from 1.2\n",
		"$version: with their outcomes");
}

done_testing();
