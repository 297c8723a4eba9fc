# An emitted event runs the handler its listener named, not whatever function has the same name when the task runs: a
# non-superuser database owner (who owns schema public) drops a superuser's handler in public after the superuser
# emitted an event for later, and creates its own function with the same name and signature. The pending run must not
# execute the database owner's function with the superuser's rights.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ChronosTest;

my $node = start_chronos_node('emit_swap', 'chronos.max_workers = 2');
$node->safe_psql('postgres', q{
	CREATE ROLE dbo LOGIN;
	CREATE DATABASE shop OWNER dbo;
});
$node->safe_psql('shop', 'CREATE EXTENSION pg_chronos; SELECT chronos.trust_database()');

sub su { return $node->safe_psql('shop', $_[0]); }
sub as_dbo { return $node->safe_psql('shop', "SET ROLE dbo; $_[0]"); }

# The superuser's own handler, in public (owned by pg_database_owner, that is by dbo), and an event emitted for later.
su(q{
	CREATE TABLE public.signups (who text, payload jsonb);
	CREATE FUNCTION public.on_signup(p jsonb) RETURNS void LANGUAGE sql
		AS $$ INSERT INTO public.signups VALUES (current_user, p) $$;
	SELECT chronos.listen('signup', 'public.on_signup(jsonb)');
	SELECT chronos.emit('signup', '{"n": 1}', now() + interval '8 seconds');
});

# The database owner swaps the function under the pending task.
as_dbo(q{
	CREATE TABLE public.ran_as (who text, super boolean);
	DROP FUNCTION public.on_signup(jsonb);
	CREATE FUNCTION public.on_signup(p jsonb) RETURNS void LANGUAGE plpgsql AS $$
	BEGIN
		INSERT INTO public.ran_as SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user;
		IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
			EXECUTE 'ALTER ROLE dbo SUPERUSER';
		END IF;
	END $$;
});

ok(wait_for($node, 'shop', q{SELECT EXISTS (SELECT FROM chronos.runs WHERE status <> 'running')}),
	'the emitted run has run');
is(su(q{SELECT count(*) FROM public.ran_as}), '0', 'the database owner\'s function did not run for the superuser\'s event');
is(su(q{SELECT rolsuper FROM pg_roles WHERE rolname = 'dbo'}), 'f', 'the database owner is not a superuser');
like(su(q{SELECT error FROM chronos.runs}), qr/^42883: the handler public\.on_signup of this event is not the function it was/,
	'the run fails, saying its handler was replaced');

$node->stop;
done_testing();
