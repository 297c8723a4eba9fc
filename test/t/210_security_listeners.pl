# Listeners belong to a role: a role can neither see, replace nor remove another role's listener, nor take an event
# name from it (each role has its own events); an emitted event runs the listener owner's handler with that owner's
# rights, so a superuser's event never runs another role's function; only members of the owner may emit to it; a handler
# the owner may not execute, and bad arguments, are refused when written.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ChronosTest;

my $node = start_chronos_node('security_listeners', 'chronos.max_workers = 2');
create_chronos_db($node, 'postgres');
my $admin = $node->safe_psql('postgres', 'SELECT current_user');

# The README's grants, to two plain roles, and a table where handlers record who ran them.
$node->safe_psql('postgres', q{
	CREATE ROLE mallory LOGIN;
	CREATE ROLE alice LOGIN;
	CREATE ROLE team NOLOGIN;
	GRANT team TO alice;
	CREATE TABLE handled (handler text, by_role name, payload jsonb);
	GRANT INSERT ON handled TO PUBLIC;
	CREATE SCHEMA mine AUTHORIZATION mallory;
	DO $$
	DECLARE
	    r text;
	BEGIN
	    FOREACH r IN ARRAY ARRAY['mallory', 'alice', 'team'] LOOP
	        EXECUTE format('GRANT USAGE ON SCHEMA chronos TO %I', r);
	        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON chronos.tasks TO %I', r);
	        EXECUTE format('GRANT SELECT ON chronos.runs, chronos.task_status, chronos.running, chronos.history, chronos.task_stats TO %I', r);
	        EXECUTE format('GRANT USAGE ON ALL SEQUENCES IN SCHEMA chronos TO %I', r);
	        EXECUTE format('GRANT EXECUTE ON FUNCTION chronos.schedule(text, text, text, text, timestamptz), chronos.run_at(text, timestamptz, text), chronos.unschedule(text), chronos.pause(text), chronos.resume(text), chronos.run_now(text), chronos.cancel(text), chronos.emit(text, jsonb, timestamptz, regrole) TO %I', r);
	        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON chronos.listeners TO %I', r);
	        EXECUTE format('GRANT EXECUTE ON FUNCTION chronos.listen(text, regprocedure), chronos.unlisten(text) TO %I', r);
	    END LOOP;
	END
	$$;
	CREATE FUNCTION public.admin_signup(payload jsonb) RETURNS void LANGUAGE sql
	    AS $$ INSERT INTO public.handled VALUES ('admin_signup', current_user, payload) $$;
	CREATE FUNCTION public.admin_only(payload jsonb) RETURNS void LANGUAGE sql AS 'SELECT';
	REVOKE EXECUTE ON FUNCTION public.admin_only(jsonb) FROM PUBLIC;
	CREATE FUNCTION public.team_handler(payload jsonb) RETURNS void LANGUAGE sql
	    AS $$ INSERT INTO public.handled VALUES ('team_handler', current_user, payload) $$;
});

sub scalar_query { return $node->safe_psql('postgres', $_[0]); }
sub as_role { my ($role, $sql) = @_; return $node->safe_psql('postgres', $sql, connstr => $node->connstr('postgres') . " user=$role"); }
sub try_as
{
	my ($role, $sql) = @_;
	my ($ret, $out, $err) = $node->psql('postgres', $sql, connstr => $node->connstr('postgres') . " user=$role",
		extra_params => [ '-v', 'VERBOSITY=verbose' ]);
	return ($ret, $err);
}

# mallory's handler: records that it ran, as whom. If it ever ran as a superuser it could do anything.
as_role('mallory', q{
	CREATE FUNCTION mine.evil(payload jsonb) RETURNS void LANGUAGE sql
	    AS $$ INSERT INTO public.handled VALUES ('evil', current_user, payload) $$});

# --- hijack: another role's listener is invisible and cannot be changed -----------------------------------------------

scalar_query(q{SELECT chronos.listen('signup', 'public.admin_signup(jsonb)')});
is(scalar_query(q{SELECT owner FROM chronos.listeners WHERE event = 'signup'}), $admin,
	'a listener belongs to the role that registered it');
is(as_role('mallory', q{SELECT count(*) FROM chronos.listeners}), '0', "another role's listeners are invisible");
as_role('mallory', q{UPDATE chronos.listeners SET handler = 'mine.evil(jsonb)'::regprocedure});
as_role('mallory', q{DELETE FROM chronos.listeners});
is(as_role('mallory', q{SELECT chronos.unlisten('signup')}), 'f', "unlisten does not remove another role's listener");
is(scalar_query(q{SELECT string_agg(format('%s %s %s', owner, event, handler::regprocedure), ',') FROM chronos.listeners}),
	"$admin signup admin_signup(jsonb)", "UPDATE and DELETE of another role's listener change nothing");
my ($ret, $err) = try_as('mallory',
	qq{INSERT INTO chronos.listeners (event, handler, owner) VALUES ('signup', 'mine.evil(jsonb)'::regprocedure, '$admin')});
like($err, qr/42501.*permission denied to register a listener for role "\Q$admin\E"/,
	'a listener for a role one is not a member of is refused (42501)');
($ret, $err) = try_as('mallory', qq{
	INSERT INTO chronos.listeners (event, handler, owner) VALUES ('signup', 'mine.evil(jsonb)'::regprocedure, '$admin')
	ON CONFLICT (owner, event) DO UPDATE SET handler = excluded.handler});
isnt($ret, 0, "an upsert over another role's listener is refused");

# --- squatting: each role has its own events ---------------------------------------------------------------------------

as_role('mallory', q{SELECT chronos.listen('signup', 'mine.evil(jsonb)'::regprocedure)});
as_role('mallory', q{SELECT chronos.listen('order', 'mine.evil(jsonb)'::regprocedure)});
scalar_query(q{SELECT chronos.listen('order', 'public.admin_signup(jsonb)')});
is(scalar_query(q{SELECT string_agg(format('%s:%s:%s', owner, event, handler::regprocedure), ',' ORDER BY owner::text, event)
                    FROM chronos.listeners}),
	"mallory:order:mine.evil(jsonb),mallory:signup:mine.evil(jsonb),$admin:order:admin_signup(jsonb),$admin:signup:admin_signup(jsonb)",
	'two roles register the same event names independently, the first takes nothing from the second');
is(as_role('mallory', q{SELECT string_agg(event, ',' ORDER BY event) FROM chronos.listeners}), 'order,signup',
	'a role sees only its own listeners');

# --- emit: the owner's handler runs, as the owner ---------------------------------------------------------------------

my $task = scalar_query(q{SELECT chronos.emit('signup', '{"who": "superuser"}')});
ok(wait_for($node, 'postgres', "SELECT status = 'done' FROM chronos.tasks WHERE id = $task"),
	"the superuser's emitted event runs");
is(scalar_query(q{SELECT string_agg(format('%s by %s', handler, by_role), ',') FROM handled WHERE payload->>'who' = 'superuser'}),
	"admin_signup by $admin", "the superuser's event runs the superuser's own handler, never the other role's");
is(scalar_query("SELECT owner FROM chronos.tasks WHERE id = $task"), $admin, 'the emitted task belongs to the listener owner');

$task = as_role('mallory', q{SELECT chronos.emit('signup', '{"who": "mallory"}')});
ok(wait_for($node, 'postgres', "SELECT status = 'done' FROM chronos.tasks WHERE id = $task"), "mallory's emitted event runs");
is(scalar_query(q{SELECT string_agg(format('%s by %s', handler, by_role), ',') FROM handled WHERE payload->>'who' = 'mallory'}),
	'evil by mallory', "a role's event runs its own handler, as that role");

# The superuser emits mallory's event (it is a member of every role): the handler still runs as mallory.
$task = scalar_query(q{SELECT chronos.emit('signup', '{"who": "superuser for mallory"}', owner => 'mallory')});
ok(wait_for($node, 'postgres', "SELECT status = 'done' FROM chronos.tasks WHERE id = $task"),
	"the superuser's emit of mallory's event runs");
is(scalar_query(q{SELECT string_agg(format('%s by %s', handler, by_role), ',') FROM handled
                   WHERE payload->>'who' = 'superuser for mallory'}),
	'evil by mallory', 'a handler runs with the rights of its listener owner, whoever emits');
is(scalar_query(q{SELECT count(*) FROM handled WHERE handler = 'evil' AND by_role <> 'mallory'}), '0',
	"mallory's handler never ran as anyone else");

# --- who may emit -----------------------------------------------------------------------------------------------------

($ret, $err) = try_as('mallory', qq{SELECT chronos.emit('signup', '{}', owner => '$admin')});
like($err, qr/42501.*permission denied to emit events of role "\Q$admin\E"/,
	"emitting another role's event is refused (42501)");
($ret, $err) = try_as('mallory', q{SELECT chronos.emit('team-event', '{}', owner => 'team')});
like($err, qr/42501/, 'emitting the event of a role one is not a member of is refused');
as_role('alice', q{INSERT INTO chronos.listeners (event, handler, owner) VALUES ('team-event', 'public.team_handler(jsonb)'::regprocedure, 'team')});
is(as_role('alice', q{SELECT owner FROM chronos.listeners WHERE event = 'team-event'}), 'team',
	'a member of a role registers a listener for it');
$task = as_role('alice', q{SELECT chronos.emit('team-event', '{"who": "alice"}', owner => 'team')});
ok(wait_for($node, 'postgres', "SELECT status = 'done' FROM chronos.tasks WHERE id = $task"),
	"a member's emit of its role's event runs");
is(scalar_query(q{SELECT by_role FROM handled WHERE payload->>'who' = 'alice'}), 'team',
	'the handler of a role the emitter is a member of runs as that role');
($ret, $err) = try_as('mallory', q{INSERT INTO chronos.tasks (command, owner) VALUES ('SELECT "mine"."evil"($1::pg_catalog.jsonb)', 'team')});
like($err, qr/42501/, 'a once task as the listener owner, written directly by a non-member, is refused too');

# --- handlers the owner may not execute, and bad arguments ------------------------------------------------------------

($ret, $err) = try_as('mallory', q{SELECT chronos.listen('private', 'public.admin_only(jsonb)')});
like($err, qr/42501.*role "mallory" may not execute handler public\.admin_only\(jsonb\) of event "private"/,
	'a handler its owner may not execute is refused at listen time (42501)');
like($err, qr/HINT:.*GRANT EXECUTE ON FUNCTION/, 'with a hint how to allow it');
($ret, $err) = try_as('mallory', q{SELECT chronos.listen('wrong', 'pg_catalog.lower(text)')});
like($err, qr/22023.*must be a function taking one jsonb argument/, 'a handler that does not take one jsonb is refused');
($ret, $err) = try_as('mallory', q{SELECT chronos.listen(NULL, 'mine.evil(jsonb)'::regprocedure)});
like($err, qr/22004.*must not be NULL/, 'a NULL event is refused (22004)');
($ret, $err) = try_as('mallory', q{SELECT chronos.listen('x', NULL)});
like($err, qr/22004.*must not be NULL/, 'a NULL handler is refused (22004)');
($ret, $err) = try_as('mallory', q{SELECT chronos.listen('', 'mine.evil(jsonb)'::regprocedure)});
like($err, qr/22023.*event name must be 1 to 200 characters long/, 'an empty event name is refused');
($ret, $err) = try_as('mallory', q{SELECT chronos.listen(repeat('é', 100000), 'mine.evil(jsonb)'::regprocedure)});
like($err, qr/22023.*event name must be 1 to 200 characters long.*It has 100000 characters/s,
	'a very long event name is refused with its length');
($ret, $err) = try_as('mallory', q{SELECT chronos.emit(NULL, '{}')});
like($err, qr/22004/, 'emit of a NULL event is refused');
($ret, $err) = try_as('mallory', q{SELECT chronos.emit('signup', '{}', NULL)});
like($err, qr/22004/, 'emit at NULL is refused');
($ret, $err) = try_as('mallory', q{SELECT chronos.emit('signup', '{}', owner => NULL)});
like($err, qr/22004/, 'emit for a NULL owner is refused');
($ret, $err) = try_as('mallory', q{SELECT chronos.emit('signup', '{}', owner => 'no_such_role')});
like($err, qr/role "no_such_role" does not exist/, 'emit for a role that does not exist is refused');
($ret, $err) = try_as('mallory', q{SELECT chronos.emit(repeat('x', 100000), '{}')});
like($err, qr/42704.*no listener for event/, 'emit of a very long unknown event is a clean error');
($ret, $err) = try_as('mallory', q{SELECT chronos.emit('signup', '{}', 'infinity')});
like($err, qr/start_time must be a finite timestamp/, 'emit at infinity is refused by the task trigger');
is(as_role('mallory', q{SELECT chronos.emit('signup', NULL, '2030-01-01 00:00+00') IS NOT NULL}), 't',
	'emit with a NULL payload schedules a task (the handler gets NULL)');

# A 1.0 listener given to the handler's owner by the upgrade is tested in test/t/200_upgrade.pl.
is(scalar_query(q{SELECT count(*) FROM handled WHERE handler = 'evil' AND by_role <> 'mallory'}), '0',
	"in the end, mallory's handler never ran as anyone but mallory");
is(scalar_query(q{SELECT rolsuper FROM pg_roles WHERE rolname = 'mallory'}), 'f', 'and mallory is not a superuser');

$node->stop;
done_testing();
