# The workers' statements are search-path safe: the owner of a database (not a superuser) plants operators, functions
# and aggregates in public that shadow pg_catalog's, including = and <> for the extension's own enum types (an exact
# type match beats pg_catalog's anyenum operators), and puts public first in the database's search_path. The workers
# (which connect as a superuser) then start, claim, run, record, notify, recover an interrupted run and run on_failure
# commands, and none of the planted objects ever runs.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ChronosTest;

my $node = start_chronos_node('security_search_path', 'chronos.max_workers = 3');
my $admin = $node->safe_psql('postgres', 'SELECT current_user');
$node->safe_psql('postgres', 'CREATE ROLE attacker LOGIN');
$node->safe_psql('postgres', 'CREATE DATABASE victim OWNER attacker');
$node->safe_psql('victim', 'CREATE EXTENSION pg_chronos');
# The superuser's tasks run only in a database a superuser trusts: this one does, and the workers must still not run
# what the owner plants.
$node->safe_psql('victim', 'SELECT chronos.trust_database()');
$node->safe_psql('victim', 'GRANT USAGE ON SCHEMA chronos TO attacker');

sub as_attacker { return $node->safe_psql('victim', $_[0], connstr => $node->connstr('victim') . ' user=attacker'); }
# The test's own statements, as the superuser, with a search_path that does not reach the planted objects (with public
# anywhere in it, an operator for exactly the argument types beats pg_catalog's polymorphic one).
sub safe_query { return $node->safe_psql('victim', "SET search_path = pg_catalog;\n$_[0]"); }
sub wait_safely { return wait_for($node, 'victim', "SET search_path = pg_catalog;\n$_[0]", $_[1]); }

# Every planted object calls public.planted(), which records who ran it. Each still computes what it shadows, so that
# nothing else changes when it is used.
my @planted = (
	[ '=', 'chronos.task_state', 'chronos.task_state', 'boolean', '$1::text OPERATOR(pg_catalog.=) $2::text' ],
	[ '<>', 'chronos.task_state', 'chronos.task_state', 'boolean', '$1::text OPERATOR(pg_catalog.<>) $2::text' ],
	[ '=', 'chronos.run_status', 'chronos.run_status', 'boolean', '$1::text OPERATOR(pg_catalog.=) $2::text' ],
	[ '<>', 'chronos.run_status', 'chronos.run_status', 'boolean', '$1::text OPERATOR(pg_catalog.<>) $2::text' ],
	[ '=', 'chronos.task_type', 'chronos.task_type', 'boolean', '$1::text OPERATOR(pg_catalog.=) $2::text' ],
	[ '=', 'anyenum', 'anyenum', 'boolean', '$1 OPERATOR(pg_catalog.=) $2' ],
	[ '=', 'text', 'text', 'boolean', '$1 OPERATOR(pg_catalog.=) $2' ],
	[ '<>', 'text', 'text', 'boolean', '$1 OPERATOR(pg_catalog.<>) $2' ],
	[ '||', 'text', 'text', 'text', '$1 OPERATOR(pg_catalog.||) $2' ],
	[ '=', 'bigint', 'bigint', 'boolean', '$1 OPERATOR(pg_catalog.=) $2' ],
	[ '<>', 'bigint', 'bigint', 'boolean', '$1 OPERATOR(pg_catalog.<>) $2' ],
	[ '+', 'bigint', 'integer', 'bigint', '$1 OPERATOR(pg_catalog.+) $2' ],
	[ '>', 'integer', 'integer', 'boolean', '$1 OPERATOR(pg_catalog.>) $2' ],
	[ '<', 'timestamptz', 'timestamptz', 'boolean', '$1 OPERATOR(pg_catalog.<) $2' ],
	[ '<=', 'timestamptz', 'timestamptz', 'boolean', '$1 OPERATOR(pg_catalog.<=) $2' ],
	[ '-', 'timestamptz', 'timestamptz', 'interval', '$1 OPERATOR(pg_catalog.-) $2' ],
	[ '+', 'timestamptz', 'interval', 'timestamptz', '$1 OPERATOR(pg_catalog.+) $2' ],
	[ '*', 'numeric', 'integer', 'numeric', '$1 OPERATOR(pg_catalog.*) $2' ],
	[ '=', 'regrole', 'regrole', 'boolean', '$1::oid OPERATOR(pg_catalog.=) $2::oid' ],);
my $plant = q{
	CREATE TABLE public.planted_log (what text, by_user name DEFAULT current_user, by_session name DEFAULT session_user,
	                                 superuser boolean, backend text);
	GRANT INSERT ON public.planted_log TO PUBLIC;
	CREATE FUNCTION public.planted(what text) RETURNS boolean LANGUAGE plpgsql SET search_path = pg_catalog AS $$
	BEGIN
	    INSERT INTO public.planted_log (what, superuser, backend)
	    SELECT what, r.rolsuper, (SELECT a.backend_type OPERATOR(pg_catalog.||) ' ' OPERATOR(pg_catalog.||) a.application_name
	                                FROM pg_catalog.pg_stat_activity a WHERE a.pid OPERATOR(pg_catalog.=) pg_catalog.pg_backend_pid())
	      FROM pg_catalog.pg_roles r WHERE r.rolname OPERATOR(pg_catalog.=) current_user;
	    RETURN true;
	END
	$$;
	CREATE FUNCTION public.now() RETURNS timestamptz LANGUAGE sql
	    AS $$ SELECT CASE WHEN public.planted('now()') THEN pg_catalog.now() END $$;
	CREATE FUNCTION public.lower(text) RETURNS text LANGUAGE sql
	    AS $$ SELECT CASE WHEN public.planted('lower(text)') THEN pg_catalog.lower($1) END $$;
	CREATE FUNCTION public.strpos(text, text) RETURNS integer LANGUAGE sql
	    AS $$ SELECT CASE WHEN public.planted('strpos') THEN pg_catalog.strpos($1, $2) END $$;
	CREATE FUNCTION public.pg_notify(text, text) RETURNS void LANGUAGE sql
	    AS $$ SELECT CASE WHEN public.planted('pg_notify') THEN pg_catalog.pg_notify($1, $2) END $$;
	CREATE FUNCTION public.round(numeric, integer) RETURNS numeric LANGUAGE sql
	    AS $$ SELECT CASE WHEN public.planted('round') THEN pg_catalog.round($1, $2) END $$;
	CREATE FUNCTION public.unnest(text[]) RETURNS SETOF text LANGUAGE sql
	    AS $$ SELECT x FROM pg_catalog.unnest($1) x WHERE public.planted('unnest') $$;
	CREATE FUNCTION public.planted_count_step(bigint) RETURNS bigint LANGUAGE sql
	    AS $$ SELECT CASE WHEN public.planted('count(*)') THEN $1 OPERATOR(pg_catalog.+) 1 END $$;
	CREATE AGGREGATE public.count(*) (SFUNC = public.planted_count_step, STYPE = bigint, INITCOND = '0');
	CREATE FUNCTION public.planted_min_step(timestamptz, timestamptz) RETURNS timestamptz LANGUAGE sql
	    AS $$ SELECT CASE WHEN public.planted('min(timestamptz)') THEN LEAST($1, $2) END $$;
	CREATE AGGREGATE public.min(timestamptz) (SFUNC = public.planted_min_step, STYPE = timestamptz);
	CREATE DOMAIN public.interval AS pg_catalog.interval CHECK (public.planted('domain interval'));
};
my $n = 0;
for my $op (@planted)
{
	my ($name, $left, $right, $returns, $body) = @$op;
	$n++;
	$plant .= "CREATE FUNCTION public.planted_op_$n($left, $right) RETURNS $returns LANGUAGE sql
	               AS \$\$ SELECT CASE WHEN public.planted('$name($left, $right)') THEN $body END \$\$;
	           CREATE OPERATOR public.$name (FUNCTION = public.planted_op_$n, LEFTARG = $left, RIGHTARG = $right);\n";
}
as_attacker($plant);
# The database owner may set the database's search_path, which the workers' sessions get too.
as_attacker('ALTER DATABASE victim SET search_path = public, pg_catalog');
is($node->safe_psql('postgres', q{SELECT rolsuper FROM pg_roles WHERE rolname = 'attacker'}), 'f',
	'the attacker is not a superuser');
is($node->safe_psql('postgres', q{SELECT datdba::regrole FROM pg_database WHERE datname = 'victim'}), 'attacker',
	'but owns the database');

# The planted objects work: a superuser's own unqualified comparison of the extension's enum uses them.
$node->safe_psql('victim', q{SELECT 'scheduled'::chronos.task_state = 'scheduled'});
is(safe_query(q{SELECT string_agg(what, ',') FROM public.planted_log}), '=(chronos.task_state, chronos.task_state)',
	'an unqualified = of two task_state values runs the planted operator, as the superuser');
safe_query('TRUNCATE public.planted_log');

$node->restart;
my $offset = -s $node->logfile;

# Tasks of every kind, scheduled by the superuser (so that anything planted that ran would run as a superuser).
$node->safe_psql('victim', q{
	CREATE TABLE public.done_marks (what text);
	INSERT INTO chronos.tasks (name, command, notify_on) VALUES ('transactional', 'SELECT 1', 'always');
	INSERT INTO chronos.tasks (name, command, transactional, notify_on, notify_details)
	VALUES ('autonomous', 'VACUUM public.done_marks', false, 'always', true);
	INSERT INTO chronos.tasks (name, command, notify_on, notify_match)
	VALUES ('matching', 'SELECT ''deadlock''', 'match', '{DEADLOCK}');
	INSERT INTO chronos.tasks (name, command, notify_on, notify_details, on_failure, max_retries, retry_delay)
	VALUES ('failing', 'DO $$BEGIN RAISE EXCEPTION ''planned failure''; END$$', 'failure', true,
	        'INSERT INTO public.done_marks VALUES (''on_failure ran'')', 1, '1 second');
	INSERT INTO chronos.tasks (name, schedule, command) VALUES ('loop', '@every 1s', 'SELECT 1');
	INSERT INTO chronos.tasks (name, command, start_time) VALUES ('later', 'SELECT 2', '2030-01-01 00:00+00');
	SELECT chronos.run_now('later');
});
ok(wait_safely(q{SELECT count(*) = 3 FROM chronos.tasks WHERE name IN ('transactional', 'autonomous', 'matching')
                   AND status = 'done'}), 'transactional and autonomous tasks run and are done');
ok(wait_safely(q{SELECT status = 'failed' FROM chronos.tasks WHERE name = 'failing'}), 'the failing task is retried and fails');
ok(wait_safely(q{SELECT EXISTS (SELECT FROM public.done_marks WHERE what = 'on_failure ran')}), 'its on_failure command runs');
ok(wait_safely(q{SELECT EXISTS (SELECT FROM chronos.runs r JOIN chronos.tasks t ON t.id = r.task_id
                                WHERE t.name = 'later' AND r.manual AND r.status = 'succeeded')}),
	'the run asked for by run_now is done');
ok(wait_safely(q{SELECT run_count >= 3 FROM chronos.tasks WHERE name = 'loop'}), 'the loop task runs again and again');

# An autonomous run interrupted by an immediate stop is recovered by the next worker.
$node->safe_psql('victim', q{INSERT INTO chronos.tasks (name, command, transactional)
                             VALUES ('interrupted', 'SELECT pg_sleep(300)', false)});
ok(wait_safely(q{SELECT EXISTS (SELECT FROM chronos.runs WHERE task_name = 'interrupted' AND status = 'running')}),
	'an autonomous run is in progress');
$node->stop('immediate');
$node->start;
$offset = -s $node->logfile;
ok(wait_safely(q{SELECT EXISTS (SELECT FROM chronos.runs WHERE task_name = 'interrupted' AND status = 'interrupted')}),
	'after the restart the run is recovered as interrupted');
ok(wait_safely(q{SELECT run_count >= 6 FROM chronos.tasks WHERE name = 'loop'}), 'and the workers keep running tasks');
safe_query(q{SELECT chronos.pause('interrupted'), chronos.cancel('interrupted'), chronos.pause('loop')});

is(safe_query(q{SELECT count(*) FROM public.planted_log WHERE superuser OR by_session <> 'attacker'}), '0',
	'no planted object ran as a superuser (nor in any session but the attacker\'s)');
my $ran = safe_query(q{SELECT string_agg(DISTINCT format('%s as %s in %s', what, by_user, backend), ', ') FROM public.planted_log});
is($ran, '', 'no planted object ran at all');
my $log = slurp_file($node->logfile, $offset);
unlike($log, qr/PANIC|FATAL|terminated by signal/, 'the server log has no PANIC, FATAL or crash since the last start');

$node->stop;
done_testing();
