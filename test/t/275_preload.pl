# The library must be preloaded: without it in shared_preload_libraries, CREATE EXTENSION pg_chronos (and the update
# from 1.0) is refused with a hint; with it, chronos.scheduler says the database is served, and says when it is not.
# A database dumped with pg_dump and restored keeps numbering tasks and runs after the restored rows.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ChronosTest;

my $node = PostgreSQL::Test::Cluster->new('preload');
$node->init;
$node->append_conf('postgresql.conf', "timezone = 'UTC'");
$node->start;

# Without the library preloaded.
$node->safe_psql('postgres', 'CREATE DATABASE app');
my ($ret, $out, $err) = $node->psql('app', "\\set VERBOSITY verbose\nCREATE EXTENSION pg_chronos");
isnt($ret, 0, 'create_extension_without_preload_fails');
like($err, qr/ERROR:  55000: pg_chronos must be loaded via shared_preload_libraries/,
	'create_extension_without_preload_says_object_not_in_prerequisite_state');
like($err, qr/DETAIL:  Tasks would never run: no pg_chronos launcher is running in this server\./,
	'create_extension_without_preload_says_why_it_matters');
like($err, qr/HINT:  Add pg_chronos to shared_preload_libraries in postgresql\.conf and restart the server\./,
	'create_extension_without_preload_hints_at_shared_preload_libraries');
is($node->safe_psql('app',
		q{SELECT count(*) FROM pg_extension WHERE extname = 'pg_chronos'} .
		q{ UNION ALL SELECT count(*) FROM pg_namespace WHERE nspname = 'chronos'}),
	"0\n0", 'failed_create_extension_leaves_nothing_behind');

$node->safe_psql('postgres', 'CREATE DATABASE old');
$node->safe_psql('old', q{CREATE EXTENSION pg_chronos VERSION '1.0'});
($ret, $out, $err) = $node->psql('old', "\\set VERBOSITY verbose\nALTER EXTENSION pg_chronos UPDATE");
isnt($ret, 0, 'update_from_1_0_without_preload_fails');
like($err, qr/ERROR:  55000: pg_chronos must be loaded via shared_preload_libraries/,
	'update_from_1_0_without_preload_gives_the_same_error');
is($node->safe_psql('old', q{SELECT extversion FROM pg_extension WHERE extname = 'pg_chronos'}), '1.0',
	'refused_update_leaves_version_1_0');

# With the library preloaded.
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'pg_chronos'");
$node->restart;
$node->safe_psql('app', 'CREATE EXTENSION pg_chronos');
ok(wait_for($node, 'app', 'SELECT database_served FROM chronos.scheduler'),
	'scheduler_says_database_served_after_create_extension');
is($node->safe_psql('app',
		'SELECT preloaded, launcher_running, enabled, executors >= 1, catalog_version = library_version, ' .
		'hint IS NULL FROM chronos.scheduler'),
	't|t|t|t|t|t', 'scheduler_says_preloaded_launcher_running_enabled_and_current');
$node->safe_psql('old', 'ALTER EXTENSION pg_chronos UPDATE');
ok(wait_for($node, 'old', 'SELECT database_served FROM chronos.scheduler'),
	'update_from_1_0_with_preload_works_and_is_served');

# Runs in progress are counted as chronos.running shows them: a role sees only its own roles' runs.
$node->safe_psql('app', q{
	CREATE ROLE watcher LOGIN;
	GRANT USAGE ON SCHEMA chronos TO watcher;
	GRANT SELECT ON chronos.scheduler TO watcher;
	INSERT INTO chronos.tasks (name, command) VALUES ('long', 'SELECT pg_sleep(300)');
});
ok(wait_for($node, 'app', 'SELECT runs_in_progress = 1 FROM chronos.scheduler'),
	'scheduler_counts_the_run_in_progress_for_a_superuser');
is($node->safe_psql('app', 'SELECT runs_in_progress, database_served FROM chronos.scheduler',
		extra_params => [ '-U', 'watcher' ]),
	'0|t', 'scheduler_hides_runs_of_other_roles_from_a_plain_role');
$node->safe_psql('app', q{SELECT chronos.cancel('long')});
ok(wait_for($node, 'app', 'SELECT runs_in_progress = 0 FROM chronos.scheduler'),
	'scheduler_counts_no_run_once_it_is_cancelled');

# chronos.enabled = off.
$node->safe_psql('app', 'ALTER SYSTEM SET chronos.enabled = off; SELECT pg_reload_conf()');
ok(wait_for($node, 'app',
		q{SELECT NOT enabled AND hint LIKE 'chronos.enabled is off%' FROM chronos.scheduler}),
	'scheduler_says_not_enabled_after_chronos_enabled_off');
$node->safe_psql('app', 'ALTER SYSTEM RESET chronos.enabled; SELECT pg_reload_conf()');
ok(wait_for($node, 'app', 'SELECT enabled AND hint IS NULL FROM chronos.scheduler'),
	'scheduler_says_enabled_again_after_reset');

# pg_dump and pg_restore keep the positions of the identity sequences.
$node->safe_psql('app', q{
	INSERT INTO chronos.tasks (name, schedule, command, start_time)
	SELECT 'later-' || i, '0 3 * * *', 'SELECT 1', '2030-01-01 00:00+00' FROM generate_series(1, 5) i;
	INSERT INTO chronos.tasks (name, command) VALUES ('now', 'SELECT 1');
});
ok(wait_for_finished_run($node, 'app', 'now'), 'a task ran before the dump');
my $dump = $node->basedir . '/app.dump';
$node->command_ok([ 'pg_dump', '-Fc', '-f', $dump, '-d', $node->connstr('app') ], 'pg_dump_of_a_served_database_works');
$node->safe_psql('postgres', 'CREATE DATABASE restored');
$node->command_ok([ 'pg_restore', '--exit-on-error', '-d', $node->connstr('restored'), $dump ],
	'pg_restore_creates_the_extension_and_its_rows_without_error');
is($node->safe_psql('restored', 'SELECT count(*) FROM chronos.tasks') . '|' .
		$node->safe_psql('restored', 'SELECT count(*) > 0 FROM chronos.runs'),
	$node->safe_psql('app', 'SELECT count(*) FROM chronos.tasks') . '|t', 'restored_database_has_the_tasks_and_runs');
my $max_task = $node->safe_psql('restored', 'SELECT max(id) FROM chronos.tasks');
my ($new_ret, $new_id, $new_err) = $node->psql('restored',
	q{INSERT INTO chronos.tasks (name, command, start_time) VALUES ('after-restore', 'SELECT 1', '2030-01-01')
	  RETURNING id});
is($new_ret, 0, 'insert_after_restore_does_not_fail_with_duplicate_key') or diag($new_err);
cmp_ok($new_id || 0, '>', $max_task, 'restored_task_sequence_continues_after_the_restored_rows');
is($node->safe_psql('restored',
		q{SELECT nextval(pg_get_serial_sequence('chronos.runs', 'run_id')) > max(run_id) FROM chronos.runs}),
	't', 'restored_run_sequence_continues_after_the_restored_rows');

$node->stop;
done_testing();
