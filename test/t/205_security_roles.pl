# Tasks are bound to their owner role by identity, acted on by plain LOGIN roles (a CREATEROLE administrator that is no
# superuser, application roles with the README's grants): a renamed role keeps its tasks and a new role with the old
# name gets none of them; DROP ROLE is refused while the role owns tasks in the current database, whoever wrote them and
# whatever row-level security shows; REASSIGN OWNED and DROP OWNED move and delete tasks as they do PostgreSQL's objects,
# only for callers PostgreSQL lets run them; a role dropped from another database, without CONNECT or past VALID UNTIL
# has its runs fail with a clear error while the other tasks keep running.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ChronosTest;

my $node = start_chronos_node('security_roles');
create_chronos_db($node, 'postgres');
create_chronos_db($node, 'other');
my $log_start = -s $node->logfile;
my $superuser = $node->safe_psql('postgres', 'SELECT current_user');

# The README's grants for an application role, in database $db.
sub grant_app
{
	my ($db, @roles) = @_;
	my $to = join(', ', @roles);
	$node->safe_psql($db, qq{
		GRANT USAGE ON SCHEMA chronos TO $to;
		GRANT SELECT, INSERT, UPDATE, DELETE ON chronos.tasks TO $to;
		GRANT SELECT ON chronos.runs, chronos.task_status, chronos.running, chronos.history TO $to;
		GRANT USAGE ON ALL SEQUENCES IN SCHEMA chronos TO $to;
		GRANT EXECUTE ON FUNCTION chronos.schedule(text, text, text, text, timestamptz),
		                          chronos.unschedule(text), chronos.run_now(text) TO $to;
	});
	return;
}

# Takes back the grants of grant_app (the superuser gave them; DROP OWNED run by a non-superuser leaves them).
sub revoke_app
{
	my ($db, $role) = @_;
	$node->safe_psql($db, qq{
		REVOKE ALL ON ALL TABLES IN SCHEMA chronos FROM $role;
		REVOKE ALL ON ALL SEQUENCES IN SCHEMA chronos FROM $role;
		REVOKE ALL ON ALL FUNCTIONS IN SCHEMA chronos FROM $role;
		REVOKE ALL ON SCHEMA chronos FROM $role;
	});
	return;
}

# psql as $role in $db: (exit code, stdout, stderr), errors with their SQLSTATE.
sub as_role
{
	my ($role, $db, $sql) = @_;
	my ($out, $err);
	my $ret = $node->psql($db, $sql, stdout => \$out, stderr => \$err,
		connstr => $node->connstr($db) . " user=$role", extra_params => [ '-v', 'VERBOSITY=verbose' ]);
	return ($ret, $out, $err);
}

sub as_role_ok
{
	my ($role, $db, $sql) = @_;
	my ($ret, $out, $err) = as_role($role, $db, $sql);
	diag("as $role in $db: $sql\n$err") if $ret != 0;
	return $out;
}

sub query { return $node->safe_psql($_[0], $_[1]); }

# A command that records which role ran task $task.
sub record { return "INSERT INTO public.hits (task, role) VALUES ('$_[0]', current_user)"; }

# Waits for a new hit of task $task as role $role.
sub hits_again
{
	my ($db, $task, $role) = @_;
	my $now = query($db, 'SELECT clock_timestamp()');
	return wait_for($node, $db,
		"SELECT EXISTS (SELECT FROM hits WHERE task = '$task' AND role = '$role' AND at > '$now')");
}

sub failed_with
{
	my ($db, $task, $error) = @_;
	$error =~ s/'/''/g;
	return wait_for($node, $db,
		"SELECT EXISTS (SELECT FROM chronos.runs WHERE task_name = '$task' AND status = 'failed' AND error = '$error')");
}

for my $db (qw(postgres other))
{
	query($db, q{
		CREATE TABLE hits (task text, role name, at timestamptz NOT NULL DEFAULT clock_timestamp());
		GRANT SELECT, INSERT ON hits TO PUBLIC;
	});
	query($db, "SELECT chronos.schedule('canary', '* * * * * *', \$\$" . record('canary') . "\$\$)");
}
query('postgres', q{
	CREATE ROLE admin LOGIN CREATEROLE;
	CREATE ROLE alice LOGIN;
	CREATE ROLE bob LOGIN;
	CREATE ROLE carol LOGIN;
	CREATE ROLE mallory LOGIN;
	CREATE ROLE dave LOGIN;
	CREATE ROLE erin LOGIN;
	CREATE ROLE frank LOGIN;
});
grant_app('postgres', qw(admin alice bob carol mallory frank));
ok(hits_again('postgres', 'canary', $superuser) && hits_again('other', 'canary', $superuser),
	'the superuser canary tasks run in both databases');

# --- renaming a role keeps its tasks; a new role with the old name gets none -----------------------------------------

as_role_ok('alice', 'postgres',
	"SELECT chronos.schedule('alice-tick', '* * * * * *', \$\$" . record('alice-tick') . "\$\$)");
ok(hits_again('postgres', 'alice-tick', 'alice'), 'a task of alice runs as alice');
my $alice_oid = query('postgres', q{SELECT 'alice'::regrole::oid});
as_role_ok('admin', 'postgres', 'ALTER ROLE alice RENAME TO alice_renamed');
as_role_ok('admin', 'postgres', 'CREATE ROLE alice LOGIN');
grant_app('postgres', 'alice');
is(query('postgres', q{SELECT owner::oid FROM chronos.tasks WHERE name = 'alice-tick'}), $alice_oid,
	'after the rename the task still belongs to the renamed role (by OID)');
is(query('postgres', q{SELECT owner FROM chronos.tasks WHERE name = 'alice-tick'}), 'alice_renamed',
	'and shows its new name');
ok(hits_again('postgres', 'alice-tick', 'alice_renamed'), 'the task of a renamed role keeps running as it');

is(as_role_ok('alice', 'postgres', q{SELECT count(*) FROM chronos.tasks WHERE name = 'alice-tick'}), '0',
	'a new role with the old name does not see the task');
is(as_role_ok('alice', 'postgres', q{SELECT count(*) FROM chronos.runs WHERE task_name = 'alice-tick'}), '0',
	'nor its runs');
as_role('alice', 'postgres', q{UPDATE chronos.tasks SET command = 'SELECT 666' WHERE name = 'alice-tick'});
as_role('alice', 'postgres', q{DELETE FROM chronos.tasks WHERE name = 'alice-tick'});
as_role('alice', 'postgres', q{SELECT chronos.run_now('alice-tick')});
is(query('postgres', q{SELECT concat_ws(',', command ~ 'alice-tick', run_requested) FROM chronos.tasks
                        WHERE name = 'alice-tick'}), 't,f',
	'the new role can neither change, delete nor run the renamed role\'s task');
my ($ret, $out, $err) = as_role('alice', 'postgres',
	q{INSERT INTO chronos.tasks (name, command, owner) VALUES ('as-renamed', 'SELECT 666', 'alice_renamed')});
like($err, qr/42501/, 'nor schedule a task as the renamed role');
as_role_ok('alice', 'postgres',
	"SELECT chronos.schedule('new-alice-tick', '* * * * * *', \$\$" . record('new-alice-tick') . "\$\$)");
ok(hits_again('postgres', 'new-alice-tick', 'alice'), 'the new role\'s own task runs as the new role');
is(as_role_ok('alice', 'postgres', 'SELECT string_agg(name, \',\') FROM chronos.tasks'), 'new-alice-tick',
	'the new role sees only its own task');

# --- DROP ROLE is refused while the role owns tasks here --------------------------------------------------------------

is(as_role_ok('admin', 'postgres', q{SELECT count(*) FROM chronos.tasks}), '0',
	'the administrator sees no task of the role through row-level security');
# The DBA takes back the role's grants, so that PostgreSQL itself has nothing left that depends on the role.
revoke_app('postgres', 'alice_renamed');
($ret, $out, $err) = as_role('admin', 'postgres', 'DROP ROLE alice_renamed');
isnt($ret, 0, 'DROP ROLE of a role that owns a task is refused');
like($err, qr/2BP01: role "alice_renamed" cannot be dropped because it owns pg_chronos tasks/,
	'with dependent_objects_still_exist (2BP01) naming the role');
like($err, qr/DETAIL:  1 task in database "postgres"/, 'the detail counts the tasks and names the database');
like($err, qr/HINT:  Use REASSIGN OWNED BY alice_renamed TO another role or DROP OWNED BY alice_renamed first/,
	'the hint says what to do');
($ret, $out, $err) = as_role('admin', 'postgres', 'DROP ROLE IF EXISTS no_such_role, alice_renamed');
like($err, qr/2BP01/, 'DROP ROLE IF EXISTS of several roles is refused as well');
is(query('postgres', q{SELECT count(*) FROM pg_roles WHERE rolname = 'alice_renamed'}), '1', 'the role still exists');

query('postgres', "INSERT INTO chronos.tasks (name, schedule, command, owner) VALUES "
	  . "('carol-by-superuser', '* * * * * *', \$\$" . record('carol-by-superuser') . "\$\$, 'carol')");
as_role_ok('carol', 'postgres',
	"SELECT chronos.schedule('carol-tick', '* * * * * *', \$\$" . record('carol-tick') . "\$\$)");
ok(hits_again('postgres', 'carol-tick', 'carol'), 'a task of carol runs');
revoke_app('postgres', 'carol');
($ret, $out, $err) = as_role('admin', 'postgres', 'DROP ROLE carol');
like($err, qr/DETAIL:  2 tasks in database "postgres"/,
	'a task a superuser wrote for a role counts as the role\'s own');

# --- REASSIGN OWNED and DROP OWNED, for callers PostgreSQL lets run them ----------------------------------------------

($ret, $out, $err) = as_role('mallory', 'postgres', 'REASSIGN OWNED BY alice_renamed TO mallory');
like($err, qr/permission denied/, 'a plain role may not REASSIGN OWNED BY another role');
($ret, $out, $err) = as_role('mallory', 'postgres', 'DROP OWNED BY carol');
like($err, qr/permission denied/, 'nor DROP OWNED BY another role');
is(query('postgres', q{SELECT string_agg(name || ':' || owner, ',' ORDER BY name) FROM chronos.tasks
                        WHERE name IN ('alice-tick', 'carol-tick')}), 'alice-tick:alice_renamed,carol-tick:carol',
	'the tasks are unchanged after the refused commands');

as_role_ok('admin', 'postgres', 'GRANT alice_renamed, bob, carol TO admin');
as_role_ok('admin', 'postgres', 'REASSIGN OWNED BY alice_renamed TO bob');
is(query('postgres', q{SELECT owner FROM chronos.tasks WHERE name = 'alice-tick'}), 'bob',
	'REASSIGN OWNED moves the role\'s tasks to the new role');
ok(hits_again('postgres', 'alice-tick', 'bob'), 'and they run as the new role');
is(as_role_ok('bob', 'postgres', q{SELECT count(*) FROM chronos.tasks WHERE name = 'alice-tick'}), '1',
	'the new role sees the task');
as_role_ok('admin', 'postgres', 'DROP OWNED BY alice_renamed; DROP ROLE alice_renamed');
is(query('postgres', q{SELECT count(*) FROM pg_roles WHERE rolname = 'alice_renamed'}), '0',
	'once its tasks are reassigned the role can be dropped');

my $carol_runs = query('postgres', q{SELECT count(*) FROM chronos.runs WHERE task_name LIKE 'carol%'});
as_role_ok('admin', 'postgres', 'DROP OWNED BY carol');
is(query('postgres', q{SELECT count(*) FROM chronos.tasks WHERE owner::text = 'carol'}), '0',
	'DROP OWNED deletes the role\'s tasks, also those a superuser wrote for it');
cmp_ok(query('postgres', q{SELECT count(*) FROM chronos.runs WHERE task_name LIKE 'carol%'}), '>=', $carol_runs,
	'and keeps their runs in the history');
($ret, $out, $err) = as_role('admin', 'postgres', 'DROP ROLE carol');
is($ret, 0, 'then DROP ROLE succeeds') or diag($err);
SKIP:
{
	skip 'chronos.listeners has no owner column', 3
	  unless query('postgres', q{SELECT EXISTS (SELECT FROM pg_attribute
	                              WHERE attrelid = 'chronos.listeners'::regclass AND attname = 'owner')}) eq 't';
	query('postgres', q{
		CREATE ROLE gina;
		CREATE FUNCTION public.on_event(payload jsonb) RETURNS void LANGUAGE sql AS 'SELECT';
		INSERT INTO chronos.listeners (event, handler, owner) VALUES ('gina-event', 'public.on_event(jsonb)'::regprocedure, 'gina');
	});
	($ret, $out, $err) = as_role('admin', 'postgres', 'DROP ROLE gina');
	like($err, qr/2BP01: role "gina" cannot be dropped because it owns pg_chronos listeners\n.*DETAIL:  1 listener in/,
		'DROP ROLE is refused while the role owns a listener');
	as_role_ok('admin', 'postgres', 'GRANT gina TO admin; REASSIGN OWNED BY gina TO bob; DROP ROLE gina');
	is(query('postgres', q{SELECT owner FROM chronos.listeners WHERE event = 'gina-event'}), 'bob',
		'REASSIGN OWNED moves listeners too');
	revoke_app('postgres', 'bob');
	($ret, $out, $err) = as_role('admin', 'postgres', 'DROP ROLE bob');
	like($err, qr/DETAIL:  1 task and 1 listener in database "postgres"/, 'DROP ROLE counts tasks and listeners');
	query('postgres', q{DELETE FROM chronos.listeners WHERE event = 'gina-event'});
}

# --- a role dropped in another database: its runs there fail, the rest run --------------------------------------------

query('other', "INSERT INTO chronos.tasks (name, schedule, command, owner) VALUES "
	  . "('dave-tick', '* * * * * *', \$\$" . record('dave-tick') . "\$\$, 'dave')");
ok(hits_again('other', 'dave-tick', 'dave'), 'a task of dave runs in database other');
my $dave_oid = query('postgres', q{SELECT 'dave'::regrole::oid});
($ret, $out, $err) = as_role('admin', 'other', 'DROP ROLE dave');
like($err, qr/2BP01.*\n.*DETAIL:  1 task in database "other"/,
	'DROP ROLE in the database of the tasks is refused, though the administrator has no rights on them there');
($ret, $out, $err) = as_role('admin', 'postgres', 'DROP ROLE dave');
is($ret, 0, 'DROP ROLE in a database where the role owns no task succeeds') or diag($err);
ok(failed_with('other', 'dave-tick', "42704: the task's owner (role OID $dave_oid) no longer exists"),
	'the task of a role dropped elsewhere fails with 42704 naming its OID');
ok(hits_again('other', 'canary', $superuser), 'the other tasks of that database keep running');

# --- without CONNECT, or past VALID UNTIL, runs fail ------------------------------------------------------------------

query('other', "INSERT INTO chronos.tasks (name, schedule, command, owner) VALUES "
	  . "('erin-tick', '* * * * * *', \$\$" . record('erin-tick') . "\$\$, 'erin')");
ok(hits_again('other', 'erin-tick', 'erin'), 'a task of erin runs while she may connect');
query('other', 'REVOKE CONNECT ON DATABASE other FROM PUBLIC');
ok(failed_with('other', 'erin-tick', '42501: role "erin" has no CONNECT privilege on database "other"'),
	'once CONNECT is revoked her runs fail with 42501');
ok(hits_again('other', 'canary', $superuser), 'the superuser\'s task keeps running there');
query('other', 'GRANT CONNECT ON DATABASE other TO PUBLIC');

as_role_ok('frank', 'postgres',
	"SELECT chronos.schedule('frank-tick', '* * * * * *', \$\$" . record('frank-tick') . "\$\$)");
ok(hits_again('postgres', 'frank-tick', 'frank'), 'a task of frank runs');
as_role_ok('admin', 'postgres', q{ALTER ROLE frank VALID UNTIL '2000-01-01 00:00+00'});
ok(failed_with('postgres', 'frank-tick', '28000: role "frank" is past its VALID UNTIL time'),
	'past VALID UNTIL his runs fail with 28000');
ok(hits_again('postgres', 'canary', $superuser) && hits_again('postgres', 'alice-tick', 'bob')
	  && hits_again('postgres', 'new-alice-tick', 'alice'),
	'the other tasks keep running');

# --- afterwards -------------------------------------------------------------------------------------------------------

is(query('postgres', q{SELECT string_agg(rolname, ',') FROM pg_roles WHERE rolsuper}), $superuser,
	'no role but the bootstrap superuser is a superuser');
my @bad = grep { /PANIC|FATAL|terminated by signal/ } split /\n/, slurp_file($node->logfile, $log_start);
is(join("\n", @bad[ 0 .. ($#bad < 4 ? $#bad : 4) ]), '', 'the server log has no PANIC, FATAL or crash');

$node->stop;
done_testing();
