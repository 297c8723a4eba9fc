# Which pg_cron job a task came from is pg_chronos's own record: a plain role that plants tasks marked as imported from
# a superuser's pg_cron jobs (the remark 1.1 trusted, or the pg_cron_job column) cannot make the superuser's import skip
# those jobs, nor make the import point at its tasks. The jobs are the real pg_cron's, preloaded with pg_chronos.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ChronosTest;

my $node = start_chronos_node('import_marks', "shared_preload_libraries = 'pg_chronos,pg_cron'",
	"cron.database_name = 'postgres'");
create_chronos_db($node, 'postgres');
$node->safe_psql('postgres', 'CREATE EXTENSION pg_cron');
grant_task_rights($node, 'postgres', 'mallory');
my $job = $node->safe_psql('postgres', q{SELECT cron.schedule('vacuum-nightly', '0 3 * * *', 'VACUUM')});

my ($rc, $out, $err) = $node->psql('postgres', qq{SET ROLE mallory;
	INSERT INTO chronos.tasks (name, schedule, command, remark)
	VALUES ('decoy', '\@daily', 'SELECT 1', 'imported from pg_cron job $job')});
is($rc, 0, 'the plain role may write any remark') or diag($err);
($rc, $out, $err) = $node->psql('postgres', qq{SET ROLE mallory;
	INSERT INTO chronos.tasks (name, schedule, command, pg_cron_job) VALUES ('decoy 2', '\@daily', 'SELECT 1', $job)});
like($err, qr/pg_cron_job is written by chronos.import_pg_cron\(\) only/, 'but not the import\'s mark');
($rc, $out, $err) = $node->psql('postgres', qq{SET ROLE mallory; UPDATE chronos.tasks SET pg_cron_job = $job});
like($err, qr/pg_cron_job is written by chronos.import_pg_cron\(\) only/, 'neither on an existing task');

my ($action, $task, $name) = @{ (query_rows($node, 'postgres',
	qq{SELECT action, task_id, task_name FROM chronos.import_pg_cron() WHERE jobid = $job}))[0] };
is($action, 'imported', 'the superuser\'s import imports its job');
is($node->safe_psql('postgres', qq{SELECT owner::text || ' ' || command FROM chronos.tasks WHERE id = $task}),
	'postgres VACUUM', 'as a task of the job\'s own user, not the plain role\'s decoy');
is($node->safe_psql('postgres', qq{SELECT action FROM chronos.import_pg_cron() WHERE jobid = $job}), 'skipped',
	'a second import recognises the task it made');
is($node->safe_psql('postgres', q{SELECT count(*) FROM chronos.tasks WHERE owner = 'mallory'::regrole}), '1',
	'the decoy is left as it was');

$node->stop;
done_testing();
