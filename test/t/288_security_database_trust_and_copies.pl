# A task never runs code chosen by a role with fewer rights than its owner.
# - A CREATEDB role copies template1, which has a superuser's task (the README's own DELETE FROM sessions example), into
#   a database it owns, and replaces public.sessions with a table whose trigger would make it a superuser: the copied
#   task is held, never runs, and only a member of its owner can release it.
# - A database owner who is not a superuser puts a schema named like the superuser ("$user") with a trap in front of a
#   superuser's task written with an unqualified name: the superuser's task is held (with a NOTICE and, in
#   chronos.task_status, the reason and the way out) until a superuser trusts the database; another role's task there
#   runs as its own login would. Trust is bound to the owner: when the database changes hands, the task is held again.
# - A role that bypasses row-level security still cannot change a superuser's task.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ChronosTest;

my $node = start_chronos_node('trust', 'chronos.max_workers = 2');
my $su = $node->safe_psql('postgres', 'SELECT current_user');
$node->safe_psql('postgres', q{
	CREATE ROLE maker LOGIN CREATEDB;
	CREATE ROLE alice LOGIN;
	CREATE ROLE dbo LOGIN;
	CREATE ROLE heir LOGIN;
	CREATE ROLE sneak LOGIN BYPASSRLS;
	CREATE DATABASE shop OWNER dbo;
});

# The trap, for a database its owner controls: a table named sessions whose trigger makes the owner a superuser.
my $trap = q{
	CREATE TABLE %s.sessions (expires_at timestamptz);
	CREATE FUNCTION %s.escalate() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN
		EXECUTE 'ALTER ROLE %s SUPERUSER';
		RETURN NULL;
	END $$;
	CREATE TRIGGER escalate AFTER DELETE ON %s.sessions FOR EACH STATEMENT EXECUTE FUNCTION %s.escalate();
};

# --- a copy of template1 --------------------------------------------------------------------------------------------
$node->safe_psql('template1', q{
	CREATE EXTENSION pg_chronos;
	CREATE TABLE public.sessions (expires_at timestamptz);
	INSERT INTO chronos.tasks (name, schedule, command)
	VALUES ('nightly-cleanup', '@every 1s', $$DELETE FROM sessions WHERE expires_at < now()$$);
	GRANT USAGE ON SCHEMA chronos TO alice;
	GRANT SELECT, INSERT, UPDATE, DELETE ON chronos.tasks TO alice, sneak;
	GRANT USAGE ON ALL SEQUENCES IN SCHEMA chronos TO alice;
	GRANT SELECT ON chronos.task_status TO alice, maker;
	GRANT USAGE ON SCHEMA chronos TO maker, sneak;
	CREATE TABLE public.alice_hits (at timestamptz DEFAULT clock_timestamp());
	GRANT INSERT ON public.alice_hits TO alice;
	SET ROLE alice;
	INSERT INTO chronos.tasks (name, schedule, command) VALUES ('alice beat', '@every 1s', 'INSERT INTO public.alice_hits DEFAULT VALUES');
});
$node->safe_psql('postgres', 'CREATE DATABASE mine', connstr => $node->connstr('postgres') . ' user=maker');
$node->safe_psql('mine', 'DROP TABLE public.sessions; ' . sprintf($trap, ('public') x 2, 'maker', ('public') x 2),
	connstr => $node->connstr('mine') . ' user=maker');
ok(wait_for($node, 'mine', q{SELECT count(*) = 2 FROM chronos.tasks WHERE held = 'copied' AND status = 'paused'}),
	'in the copy, the tasks of roles its owner is not a member of are held');
sleep 3;
is($node->safe_psql('postgres', q{SELECT rolsuper FROM pg_roles WHERE rolname = 'maker'}), 'f',
	'the CREATEDB role did not become a superuser');
is($node->safe_psql('mine', 'SELECT count(*) FROM chronos.runs'), '0', 'no copied task ran');
like($node->safe_psql('mine', q{SELECT held FROM chronos.task_status WHERE name = 'nightly-cleanup'}),
	qr/^held: a copy of a task of role \Q$su\E, made by CREATE DATABASE … TEMPLATE; a member of \Q$su\E releases it/,
	'chronos.task_status says why the task is held and who may release it');
my ($rc, $out, $err) = $node->psql('mine', q{UPDATE chronos.tasks SET status = 'scheduled'},
	connstr => $node->connstr('mine') . ' user=sneak');
like($err, qr/permission denied to change a task of role/, 'a role that bypasses row-level security cannot release it');
$node->safe_psql('mine', q{UPDATE chronos.tasks SET status = 'scheduled' WHERE name = 'alice beat'},
	connstr => $node->connstr('mine') . ' user=alice');
ok(wait_for($node, 'mine', q{SELECT count(*) >= 2 FROM public.alice_hits}),
	'a member of a held task\'s owner releases it, and it runs');
is($node->safe_psql('mine', q{SELECT status || ' ' || held FROM chronos.tasks WHERE name = 'nightly-cleanup'}),
	'paused copied', 'the superuser\'s copied task is still held');
$node->safe_psql('template1', 'DROP EXTENSION pg_chronos; DROP TABLE public.sessions, public.alice_hits');

# --- a database whose owner is not a superuser ------------------------------------------------------------------------
$node->safe_psql('shop', q{CREATE EXTENSION pg_chronos;
	CREATE TABLE public.sessions (expires_at timestamptz);
	CREATE TABLE public.ran (task text, at timestamptz DEFAULT clock_timestamp());
	GRANT INSERT ON public.ran TO PUBLIC});
grant_task_rights($node, 'shop', 'app');
$node->safe_psql('shop', sprintf("CREATE SCHEMA \"$su\"; " . $trap, ("\"$su\"") x 2, 'dbo', ("\"$su\"") x 2)
	. "ALTER SCHEMA \"$su\" OWNER TO dbo; ALTER TABLE \"$su\".sessions OWNER TO dbo; ALTER FUNCTION \"$su\".escalate() OWNER TO dbo");
($rc, $out, $err) = $node->psql('shop', q{
	INSERT INTO chronos.tasks (name, schedule, command)
	VALUES ('su cleanup', '@every 1s', $$DELETE FROM sessions WHERE expires_at < now()$$),
	       ('su beat', '@every 1s', $$INSERT INTO public.ran VALUES ('su beat')$$)});
like($err, qr/NOTICE:  a superuser's task in database "shop" is held\nDETAIL:  The database is owned by role "dbo", which is not a superuser/,
	'a superuser\'s task written in a database whose owner is not a superuser is held, with a NOTICE');
is($node->safe_psql('shop', q{SELECT string_agg(status || ' ' || held, ',') FROM chronos.tasks}),
	'paused untrusted database,paused untrusted database', 'both are paused and held');
like($node->safe_psql('shop', q{SELECT held FROM chronos.task_status WHERE name = 'su beat'}),
	qr/SELECT chronos\.trust_database\(\)/, 'chronos.task_status gives the way out');
$node->safe_psql('shop', q{SET ROLE app; INSERT INTO chronos.tasks (name, schedule, command)
                           VALUES ('app beat', '@every 1s', $$INSERT INTO public.ran VALUES ('app beat')$$)});
ok(wait_for($node, 'shop', q{SELECT count(*) >= 2 FROM public.ran WHERE task = 'app beat'}),
	'another role\'s task runs there, as its own login would');
($rc, $out, $err) = $node->psql('shop', q{UPDATE chronos.tasks SET status = 'scheduled' WHERE name = 'su beat'});
is($node->safe_psql('shop', q{SELECT status FROM chronos.tasks WHERE name = 'su beat'}), 'paused',
	'resuming it does not release it while the database is untrusted');
is($node->safe_psql('postgres', q{SELECT rolsuper FROM pg_roles WHERE rolname = 'dbo'}), 'f',
	'the database owner did not become a superuser');
is($node->safe_psql('shop', q{SELECT count(*) FROM public.ran WHERE task = 'su beat'}), '0', 'no held task ran');

# A superuser trusts the database: its tasks are released and run (the trap task is deleted first).
$node->safe_psql('shop', q{DELETE FROM chronos.tasks WHERE name = 'su cleanup'; SELECT chronos.trust_database()});
ok(wait_for($node, 'shop', q{SELECT count(*) >= 2 FROM public.ran WHERE task = 'su beat'}),
	'once a superuser trusts the database, the superuser\'s task is released and runs');
($rc, $out, $err) = $node->psql('shop', 'SELECT chronos.trust_database()', connstr => $node->connstr('shop') . ' user=dbo');
like($err, qr/permission denied|only a superuser may trust a database/, 'only a superuser may trust a database');

# The database changes hands: the trust was for dbo, so the task is held again at its next run.
$node->safe_psql('postgres', 'ALTER DATABASE shop OWNER TO heir');
ok(wait_for($node, 'shop', q{SELECT status = 'paused' AND held = 'untrusted database' FROM chronos.tasks WHERE name = 'su beat'}),
	'when the database gets another owner, the superuser\'s task is held at its next run');

# A superuser trusts the database with its new owner and releases the task at once: the worker that has just held it
# looks at the trust again before holding, so the task runs (it read the trust less than a second ago).
my $ran = $node->safe_psql('shop', q{SELECT count(*) FROM public.ran WHERE task = 'su beat'});
$node->safe_psql('shop', q{SELECT chronos.trust_database();
	UPDATE chronos.tasks SET status = 'scheduled' WHERE name = 'su beat'; SELECT chronos.run_now('su beat')});
ok(wait_for($node, 'shop', qq{SELECT count(*) > $ran FROM public.ran WHERE task = 'su beat'}, 10),
	'trusted again and released, it runs at once, not held by a trust the worker read before');
is($node->safe_psql('shop', q{SELECT coalesce(held, 'not held') FROM chronos.tasks WHERE name = 'su beat'}), 'not held',
	'and it is not held again');

$node->stop;
done_testing();
