# A command runs as its task's owner, with the owner's rights and nothing more, and what one command changes in its
# session (settings, search_path, role) is gone before the next run.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ChronosTest;

my $node = start_chronos_node('owner');
create_chronos_db($node, 'postgres');
my $admin = $node->safe_psql('postgres', 'SELECT current_user');

$node->safe_psql('postgres', q{
	CREATE ROLE alice LOGIN;
	GRANT USAGE ON SCHEMA chronos TO alice;
	GRANT SELECT, INSERT, UPDATE, DELETE ON chronos.tasks TO alice;
	GRANT SELECT ON chronos.runs, chronos.task_status, chronos.history TO alice;
	GRANT USAGE ON ALL SEQUENCES IN SCHEMA chronos TO alice;
	GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA chronos TO alice;
	CREATE TABLE secret (x int);
	INSERT INTO secret VALUES (42);
	CREATE TABLE seen (task text, role name, work_mem text, search_path text, pid int);
	GRANT SELECT, INSERT ON seen TO alice;
	CREATE SCHEMA elsewhere;
});

sub scalar_query { return $node->safe_psql('postgres', $_[0]); }
sub as_alice { return $node->safe_psql('postgres', $_[0], connstr => $node->connstr('postgres') . ' user=alice'); }

# Records who runs the command and with which settings, into public.seen (qualified: search_path may have been changed).
sub record_command
{
	my ($task) = @_;
	return "INSERT INTO public.seen SELECT '$task', current_user, current_setting('work_mem'), "
	  . "current_setting('search_path'), pg_backend_pid()";
}

# --- the owner's rights -----------------------------------------------------------------------------------------------

as_alice(q{INSERT INTO chronos.tasks (name, command) VALUES ('peek', 'SELECT count(*) FROM public.secret')});
is(scalar_query(q{SELECT owner FROM chronos.tasks WHERE name = 'peek'}), 'alice',
	'a task belongs to the role that wrote it');
ok(wait_for_finished_run($node, 'postgres', 'peek'), 'a task of alice that reads a table she may not read runs');
my ($peek) = query_rows($node, 'postgres', q{SELECT status, error, owner FROM chronos.runs WHERE task_name = 'peek'});
$peek //= [];
is($peek->[0], 'failed', 'a command that needs rights its owner lacks fails');
like($peek->[1] // '', qr/42501/, 'the failure is insufficient_privilege (42501)');
is($peek->[2], 'alice', 'the run records its owner');
is(as_alice(q{SELECT status FROM chronos.runs WHERE task_name = 'peek'}), 'failed', 'the owner can read her own runs');

as_alice(q{INSERT INTO chronos.tasks (name, command) VALUES ('whoami', } . "\$\$" . record_command('whoami') . "\$\$)");
ok(wait_for_finished_run($node, 'postgres', 'whoami'), 'a task of alice that writes a table she may write runs');
is(scalar_query(q{SELECT status FROM chronos.runs WHERE task_name = 'whoami'}), 'succeeded',
	'a command within its owner\'s rights succeeds');
is(scalar_query(q{SELECT role FROM seen WHERE task = 'whoami'}), 'alice', 'the command of a task runs as its owner');

scalar_query(q{INSERT INTO chronos.tasks (name, command)
               VALUES ('admin peek', $$INSERT INTO seen (task, role) SELECT 'admin peek', current_user FROM secret$$)});
ok(wait_for_finished_run($node, 'postgres', 'admin peek'), 'a superuser\'s task that reads the table runs');
is(scalar_query(q{SELECT string_agg(role, ',') FROM seen WHERE task = 'admin peek'}), $admin,
	'the same command succeeds for an owner who may read the table');

# --- nothing leaks from one run into the next -------------------------------------------------------------------------

my $default_work_mem    = scalar_query('SHOW work_mem');
my $default_search_path = scalar_query('SHOW search_path');

# Each run records its settings, then changes them; a later run that sees the changes would prove a leak.
scalar_query(q{INSERT INTO chronos.tasks (name, schedule, command) VALUES ('leaker', '* * * * * *', }
	  . "\$\$" . record_command('leaker') . q{; SET work_mem = '77MB'; SET search_path = elsewhere$$)});
ok(wait_for($node, 'postgres', q{SELECT count(*) >= 3 FROM seen WHERE task = 'leaker'}),
	'a loop task that changes its settings keeps running');
# A leak shows in a process that ran the task before.
ok(wait_for($node, 'postgres',
		q{SELECT EXISTS (SELECT FROM seen WHERE task = 'leaker' GROUP BY pid HAVING count(*) >= 2)}),
	'one process runs the loop task that changes its settings more than once');
scalar_query(q{SELECT chronos.unschedule('leaker')});
diag('processes that ran the leaker: '
	  . scalar_query(q{SELECT string_agg(DISTINCT pid::text, ',') FROM seen WHERE task = 'leaker'}));
is(scalar_query(q{SELECT string_agg(DISTINCT work_mem, ',') FROM seen WHERE task = 'leaker'}), $default_work_mem,
	'a SET work_mem in one run does not reach the next run');
is(scalar_query(q{SELECT string_agg(DISTINCT search_path, ',') FROM seen WHERE task = 'leaker'}), $default_search_path,
	'a SET search_path in one run does not reach the next run');
is(scalar_query(q{SELECT count(*) FROM chronos.runs WHERE task_name = 'leaker' AND status = 'failed'}), '0',
	'the runs of a task that changes its settings succeed');

# A command may switch role; the next task must still run as its own owner.
scalar_query(q{INSERT INTO chronos.tasks (name, command) VALUES ('become alice', }
	  . "\$\$SET ROLE alice; SET work_mem = '66MB'; " . record_command('become alice') . "\$\$)");
ok(wait_for_finished_run($node, 'postgres', 'become alice'), 'a task that switches role runs');
diag('the role switch ran as: '
	  . scalar_query(q{SELECT concat_ws(' ', r.status, r.error, s.role) FROM chronos.runs r
	                     LEFT JOIN seen s ON s.task = r.task_name WHERE r.task_name = 'become alice'}));
as_alice(q{INSERT INTO chronos.tasks (name, command) VALUES ('alice after', }
	  . "\$\$" . record_command('alice after') . "\$\$)");
ok(wait_for_finished_run($node, 'postgres', 'alice after'), 'a task of alice after the role switch runs');
scalar_query(q{INSERT INTO chronos.tasks (name, command) VALUES ('admin after', }
	  . "\$\$" . record_command('admin after') . "\$\$)");
ok(wait_for_finished_run($node, 'postgres', 'admin after'), 'a superuser\'s task after the role switch runs');
is(scalar_query(q{SELECT concat_ws(',', role, work_mem, search_path) FROM seen WHERE task = 'admin after'}),
	"$admin,$default_work_mem,$default_search_path",
	'a task after another task switched role runs as its own owner with default settings');
is(scalar_query(q{SELECT concat_ws(',', role, work_mem) FROM seen WHERE task = 'alice after'}),
	"alice,$default_work_mem", 'a task of alice after the role switch runs as alice with default settings');

$node->stop;
done_testing();
