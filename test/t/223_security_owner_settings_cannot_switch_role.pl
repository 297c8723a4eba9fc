# A plain role's own ALTER ROLE … SET settings are applied to its runs by a worker whose session user is the bootstrap
# superuser, so a stored "role" or "session_authorization" would pass PostgreSQL's membership check there: each is
# refused for the run. The role's exit_on_error ends only its own runs (counted, then quarantined), and its command can
# neither give its task to the superuser nor touch another role's task.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ChronosTest;

my $node = start_chronos_node('owner_settings', 'chronos.max_workers = 2');
create_chronos_db($node, 'postgres');

sub su { return $node->safe_psql('postgres', $_[0]); }

grant_task_rights($node, 'postgres', $_) for qw(mallory eve victim);
su(q{
	CREATE TABLE canary (at timestamptz DEFAULT clock_timestamp());
	INSERT INTO chronos.tasks (name, schedule, command) VALUES ('canary', '@every 1s', 'INSERT INTO canary DEFAULT VALUES');
	CREATE SCHEMA mine AUTHORIZATION mallory;
});
$node->safe_psql('postgres', q{SET ROLE victim;
	INSERT INTO chronos.tasks (name, schedule, command) VALUES ('victim task', '@every 1h', 'SELECT 1')});

# Stored as the roles themselves (PostgreSQL only warns when a role stores a role it may not become).
$node->psql('postgres', q{SET SESSION AUTHORIZATION mallory; ALTER ROLE mallory SET role = 'postgres'});
my ($rc, $out, $err) = $node->psql('postgres',
	q{SET SESSION AUTHORIZATION eve; ALTER ROLE eve SET session_authorization = 'postgres'});
diag("storing session_authorization: rc=$rc $err");
$node->safe_psql('postgres', q{SET ROLE mallory;
	CREATE TABLE mine.who (u text, s boolean);
	GRANT INSERT ON mine.who TO eve;
	INSERT INTO chronos.tasks (name, command) VALUES ('as role',
		'INSERT INTO mine.who SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user');
});
ok(wait_for_finished_run($node, 'postgres', 'as role'), "the task of the role that stored role = postgres has run");
$node->safe_psql('postgres', q{SET SESSION AUTHORIZATION mallory; ALTER ROLE mallory RESET role});
$node->safe_psql('postgres', q{SET ROLE mallory;
	INSERT INTO chronos.tasks (name, command) VALUES ('take over',
		$$UPDATE chronos.tasks SET owner = 'postgres' WHERE name = 'take over'$$);
	INSERT INTO chronos.tasks (name, command) VALUES ('touch victim',
		$$UPDATE chronos.tasks SET command = 'SELECT 2' WHERE name = 'victim task'$$);
});
$node->safe_psql('postgres', q{SET ROLE eve;
	INSERT INTO chronos.tasks (name, command) VALUES ('as eve',
		'INSERT INTO mine.who SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user')});

for my $task ('take over', 'touch victim', 'as eve')
{
	ok(wait_for_finished_run($node, 'postgres', $task), "task '$task' has run");
}
is(su(q{SELECT count(*) FROM mine.who WHERE s OR u <> 'mallory' AND u <> 'eve'}), '0',
	'no command ran as a superuser or as another role');
diag(su(q{SELECT task_name, status, error FROM chronos.runs ORDER BY run_id}));
like(su(q{SELECT error FROM chronos.runs WHERE task_name = 'take over'}), qr/^42501/,
	'the command that gives its task to the superuser fails with 42501');
is(su(q{SELECT owner::text FROM chronos.tasks WHERE name = 'take over'}), 'mallory',
	'a command cannot give its task to the superuser');
is(su(q{SELECT result FROM chronos.runs WHERE task_name = 'touch victim'}), 'UPDATE 0',
	'the command changing another role\'s task sees no row');
is(su(q{SELECT command FROM chronos.tasks WHERE name = 'victim task'}), 'SELECT 1',
	'a command cannot change another role\'s task');

# exit_on_error of the role itself: workers never take it (an error would end the worker, and with it the runs of
# others): its failing task fails run after run as any other, and is neither interrupted nor quarantined.
$node->safe_psql('postgres', q{SET SESSION AUTHORIZATION mallory; ALTER ROLE mallory SET exit_on_error = on});
$node->safe_psql('postgres', q{SET ROLE mallory;
	INSERT INTO chronos.tasks (name, schedule, command) VALUES ('fatal loop', '@every 1s', 'SELECT 1/0')});
ok(wait_for($node, 'postgres', q{SELECT count(*) >= 3 FROM chronos.runs
	WHERE task_name = 'fatal loop' AND status = 'failed' AND error LIKE '22012%'}, 60),
	'a role\'s own exit_on_error does not end the worker: its task fails run after run with its own error');
is(su(q{SELECT count(*) FILTER (WHERE status NOT IN ('failed', 'running')) || '/' || (SELECT coalesce(last_error, '') NOT LIKE
	'quarantined%' FROM chronos.tasks WHERE name = 'fatal loop') FROM chronos.runs WHERE task_name = 'fatal loop'}),
	'0/true', 'no run of it was interrupted, and it is not quarantined');
ok(wait_for($node, 'postgres', q{SELECT count(*) >= 3 FROM canary WHERE at > now() - interval '4 seconds'}),
	'the superuser\'s canary runs on');
is(su(q{SELECT rolsuper FROM pg_roles WHERE rolname IN ('mallory', 'eve') ORDER BY 1 DESC LIMIT 1}), 'f',
	'neither role is a superuser');

$node->stop;
done_testing();
