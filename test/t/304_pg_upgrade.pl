# pg_upgrade of a cluster with pg_chronos: PostgreSQL's check refuses a database still at 1.1 (its listeners name
# their handler as a regprocedure, which pg_upgrade cannot carry); once updated to the current version the check passes,
# the upgrade keeps tasks, listeners and history, nothing runs while pg_upgrade has either cluster started, and in the
# new cluster the event handlers are bound again by name (function OIDs are not kept) before any task runs: emitted
# events and new ones call their handlers, and the tasks run on schedule.
use strict;
use warnings;

use Cwd;
use IPC::Run;
use Time::HiRes;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ChronosTest;

my $old = start_chronos_node('old');
my $current = $old->safe_psql('postgres',
	"SELECT default_version FROM pg_available_extensions WHERE name = 'pg_chronos'");
$old->safe_psql('postgres', 'CREATE ROLE app LOGIN');
$old->safe_psql('postgres', "CREATE DATABASE $_ OWNER app") for qw(appdb olddb);
$old->safe_psql('appdb', 'CREATE EXTENSION pg_chronos');
$old->safe_psql('olddb', "CREATE EXTENSION pg_chronos VERSION '1.1'");
for my $db (qw(appdb olddb))
{
	grant_task_rights($old, $db, 'app');
	$old->safe_psql($db, q{
		CREATE TABLE public.hits (task text, at timestamptz DEFAULT clock_timestamp());
		GRANT INSERT ON public.hits TO app;
		SET ROLE app;
		CREATE FUNCTION public.on_order(p jsonb) RETURNS void LANGUAGE sql
			AS $$ INSERT INTO public.hits (task) VALUES ('event ' || (p->>'n')) $$;
		SELECT chronos.listen('order', 'public.on_order(jsonb)');
		SELECT chronos.emit('order', '{"n": 1}', now() + interval '1 day');
		SELECT chronos.schedule('tick', '1 second', $$INSERT INTO public.hits (task) VALUES ('tick')$$);
	});
}
# Listeners that no longer find their handler before the upgrade must not find another role's function after it:
# a superuser's handler renamed, and app (who owns the database and its schema public) putting a function of its
# own under the old name; and a handler of role victim dropped by app and made again by app.
$old->safe_psql('postgres', 'CREATE ROLE victim LOGIN');
grant_task_rights($old, 'appdb', 'victim');
$old->safe_psql('appdb', q{
	CREATE TABLE public.handled (what text, by_role text DEFAULT current_user);
	GRANT INSERT ON public.handled TO PUBLIC;
	GRANT CREATE ON SCHEMA public TO victim;
	CREATE FUNCTION public.on_signup(p jsonb) RETURNS void LANGUAGE sql AS $$ INSERT INTO public.handled VALUES ('real') $$;
	SELECT chronos.listen('signup', 'public.on_signup(jsonb)');
	SELECT chronos.emit('signup', '{"pending": true}', now() + interval '1 day');
	ALTER FUNCTION public.on_signup(jsonb) RENAME TO on_signup_v1;
	SET ROLE victim;
	CREATE FUNCTION public.victim_handler(p jsonb) RETURNS void LANGUAGE sql
		AS $$ INSERT INTO public.handled VALUES ('victim''s own') $$;
	SELECT chronos.listen('ev', 'public.victim_handler(jsonb)');
	RESET ROLE;
	SET ROLE app;
	CREATE FUNCTION public.on_signup(p jsonb) RETURNS void LANGUAGE plpgsql AS $$ BEGIN
		INSERT INTO public.handled VALUES ('app''s code');
		IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN EXECUTE 'ALTER ROLE app SUPERUSER'; END IF;
	END $$;
	DROP FUNCTION public.victim_handler(jsonb);
	CREATE FUNCTION public.victim_handler(p jsonb) RETURNS void LANGUAGE sql
		AS $$ INSERT INTO public.handled VALUES ('app''s code') $$;
	GRANT EXECUTE ON FUNCTION public.victim_handler(jsonb) TO victim;
});
for my $case ([ 'postgres', 'signup' ], [ 'victim', 'ev' ])
{
	my ($role, $event) = @$case;
	my ($ret, $out, $err) = $old->psql('appdb', "SET ROLE $role; SELECT chronos.emit('$event', '{}')");
	like($err, qr/no longer exists under that name/, "before the upgrade, ${role}'s $event finds no handler");
}

# A superuser's shell task (in a database its superuser trusts, as app owns it).
$old->safe_psql('appdb', q{SELECT chronos.trust_database();
	INSERT INTO chronos.tasks (name, type, kind, schedule, command)
	VALUES ('shell tick', 'loop', 'shell', '1 second', 'echo tick')});
ok(wait_for($old, 'appdb', "SELECT count(*) >= 2 FROM chronos.runs WHERE task_name = 'shell tick'"),
	'the shell task runs before the upgrade');
ok(wait_for($old, $_, "SELECT count(*) >= 2 FROM public.hits WHERE task = 'tick'"),
	"the tasks of database $_ run before the upgrade") for qw(appdb olddb);
my $before_oid = $old->safe_psql('appdb', "SELECT 'public.on_order(jsonb)'::regprocedure::oid");
$old->stop;

my $new = PostgreSQL::Test::Cluster->new('new');
$new->init;
$new->append_conf('postgresql.conf', "shared_preload_libraries = 'pg_chronos'\ntimezone = 'UTC'");
my $bindir = $new->config_data('--bindir');
my @upgrade = ('pg_upgrade', '--no-sync', '-d', $old->data_dir, '-D', $new->data_dir, '-b', $bindir, '-B', $bindir,
	'-s', $new->host, '-p', $old->port, '-P', $new->port);
my $cwd = getcwd();
chdir $PostgreSQL::Test::Utils::tmp_check;

# A database still at 1.1 stops the check, as PostgreSQL refuses its regprocedure column.
my ($check_out, $check_err) = ('', '');
my $check_ok = IPC::Run::run([ @upgrade, '--check' ], '>', \$check_out, '2>', \$check_err);
ok(!$check_ok && $check_out =~ /reg\* data types/, 'pg_upgrade --check refuses a database still at 1.1')
  or diag("$check_out\n$check_err");

$old->start;
$old->safe_psql('olddb', 'ALTER EXTENSION pg_chronos UPDATE');
is($old->safe_psql('olddb', "SELECT extversion FROM pg_extension WHERE extname = 'pg_chronos'"), $current,
	'the 1.1 database is updated');
my %runs = map { $_ => $old->safe_psql($_, 'SELECT count(*) FROM chronos.runs') } qw(appdb olddb);
$old->stop;
my $stopped_at = Time::HiRes::time();
command_ok([ @upgrade, '--check' ], 'pg_upgrade --check passes once every database has the current version');

# Nothing may run in either cluster while pg_upgrade has it started (binary-upgrade mode): the runs counted at the
# stop are all there are until the new cluster starts.
command_ok(\@upgrade, 'pg_upgrade upgrades the cluster');
chdir $cwd;
my $offset = 0;
$new->start;

for my $db (qw(appdb olddb))
{
	ok(wait_for_log_line($new, qr/database "$db" was moved to this cluster \(pg_upgrade\); \d+ event handler/,
			$offset, 30),
		"$db: its event handlers are bound again, once, at the first start");
	ok($new->safe_psql($db, 'SELECT count(*) FROM chronos.runs WHERE started_at < pg_postmaster_start_time()')
		  >= $runs{$db}, "$db: the history is kept");
	is($new->safe_psql($db, "SELECT count(*) FROM chronos.runs WHERE started_at > to_timestamp($stopped_at)
		AND started_at < pg_postmaster_start_time()"), '0', "$db: nothing ran while pg_upgrade had a cluster started");
	is($new->safe_psql($db, q{SELECT handler = 'public.on_order(jsonb)'::regprocedure::oid
		AND handler_name = 'public.on_order' FROM chronos.listeners WHERE event = 'order'}),
		't', "$db: the listener calls the function of its name in the new cluster");
	ok(wait_for($new, $db, "SELECT count(*) >= 2 FROM public.hits WHERE task = 'tick'
		AND at > pg_postmaster_start_time()"), "$db: the loop task runs on schedule after the upgrade");

	# The event emitted before the upgrade (due tomorrow) is made due; one emitted now runs as well.
	$new->safe_psql($db, q{UPDATE chronos.tasks SET next_exec_time = now()
		WHERE command LIKE 'SELECT chronos.call_handler(%' AND remark = 'event order'});
	$new->safe_psql($db, q{SET ROLE app; SELECT chronos.emit('order', '{"n": 2}')});
	ok(wait_for($new, $db, "SELECT count(*) = 2 FROM public.hits WHERE task IN ('event 1', 'event 2')"),
		"$db: the event emitted before the upgrade and one emitted after it both call the handler");
	is($new->safe_psql($db, "SELECT count(*) FROM chronos.runs WHERE task_name IS NULL AND status <> 'succeeded'"),
		'0', "$db: no run of an event failed");
}
# A dump and restore of the upgraded database binds the same way: by name and owner.
my $dump = "$PostgreSQL::Test::Utils::tmp_check/appdb.dump";
$new->command_ok([ 'pg_dump', '-Fc', '-f', $dump, '-d', $new->connstr('appdb') ], 'pg_dump of the upgraded database');
$new->safe_psql('postgres', 'CREATE DATABASE restored OWNER app');
$new->command_ok([ 'pg_restore', '--single-transaction', '-d', $new->connstr('restored'), $dump ],
	'pg_restore of it into another database');
$new->safe_psql('restored', 'SELECT chronos.trust_database()');
for my $db (qw(appdb restored))
{
	for my $case ([ 'postgres', 'signup' ], [ 'victim', 'ev' ])
	{
		my ($role, $event) = @$case;
		my ($ret, $out, $err) = $new->psql($db, "SET ROLE $role; SELECT chronos.emit('$event', '{}')");
		like($err, qr/no longer exists under that name/,
			"$db: ${role}'s $event is not bound to another role's function of its handler's name");
	}
	# The event emitted before the handler was renamed, made due now: it calls no other function.
	$new->safe_psql($db, q{UPDATE chronos.tasks SET next_exec_time = now() WHERE payload->>'pending' = 'true'});
	ok(wait_for($new, $db, q{SELECT EXISTS (SELECT FROM chronos.runs r JOIN chronos.tasks t ON t.id = r.task_id
			WHERE t.payload->>'pending' = 'true' AND r.status = 'failed' AND r.error LIKE '42883:%')}),
		"$db: the pending event of the renamed handler fails (42883)")
	  or diag($new->safe_psql($db, q{SELECT concat_ws(' ', status, held, next_exec_time, last_status)
		FROM chronos.tasks WHERE payload->>'pending' = 'true'}));
	is($new->safe_psql($db, q{SELECT count(*) FROM public.handled}), '0', "$db: no one's code ran as another role");
}
is($new->safe_psql('postgres', q{SELECT rolsuper FROM pg_roles WHERE rolname = 'app'}), 'f', 'app is no superuser');
isnt($new->safe_psql('appdb', "SELECT 'public.on_order(jsonb)'::regprocedure::oid"), $before_oid,
	'the handler has another OID in the new cluster (so the binding by name was needed)');
ok(wait_for($new, 'appdb', "SELECT count(*) >= 2 FROM chronos.runs WHERE task_name = 'shell tick'
	AND status = 'succeeded' AND started_at > pg_postmaster_start_time()"), 'the shell task runs after the upgrade');

# A second start binds nothing again: the catalog now belongs to this cluster.
$offset = -s $new->logfile;
$new->restart;
ok(wait_for($new, 'appdb', "SELECT count(*) >= 1 FROM public.hits WHERE task = 'tick'
	AND at > pg_postmaster_start_time()"), 'tasks run after a restart');
unlike(slurp_file($new->logfile, $offset), qr/was moved to this cluster/, 'a restart binds nothing again');
unlike(slurp_file($new->logfile), qr/TRAP|terminated by signal|PANIC/, 'no crash in the new cluster');

$new->stop;
done_testing();
