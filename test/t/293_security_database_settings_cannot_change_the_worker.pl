# A database owner's ALTER DATABASE … SET role / session_authorization (and the rest of what it may store: read-only
# transactions, exit_on_error, lock_timeout, statement_timeout, search_path) reaches every worker that connects to its
# database. None of it may change who the workers are, make them fail their bookkeeping or exit: the workers keep the
# server's settings, and each run gets what its owner's login would get, minus role and session_authorization.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ChronosTest;

my $node = start_chronos_node('db_identity', 'chronos.max_workers = 2');
$node->safe_psql('postgres', q{
	CREATE ROLE dbo LOGIN;
	CREATE DATABASE own OWNER dbo;
});
$node->safe_psql('own', 'CREATE EXTENSION pg_chronos');
grant_task_rights($node, 'own', $_) for qw(dbo app);
$node->safe_psql('own', q{
	CREATE SCHEMA dbo_schema AUTHORIZATION dbo;
	CREATE TABLE public.seen (task text, cur text, sess text, super text, path text,
	                          at timestamptz DEFAULT clock_timestamp());
	GRANT INSERT ON public.seen TO PUBLIC;
});
my $record = q{INSERT INTO public.seen (task, cur, sess, super, path)
               VALUES ('%s', current_user, session_user, current_setting('is_superuser'), current_setting('search_path'))};
for my $role (qw(dbo app))
{
	my $command = sprintf($record, $role) =~ s/'/''/gr;
	$node->safe_psql('own', qq{SET ROLE $role;
		INSERT INTO chronos.tasks (name, schedule, command) VALUES ('$role', '\@every 1s', '$command')});
}
ok(wait_for($node, 'own', q{SELECT count(DISTINCT task) = 2 FROM public.seen}), 'both tasks run');

# Values PostgreSQL stores with a NOTICE but refuses when it applies them: a login passes them over with a WARNING,
# and so does a run (they do not fail every run of the database).
$node->safe_psql('own', q{SET ROLE dbo; ALTER DATABASE own SET default_text_search_config = 'nope'});
$node->safe_psql('own', q{SET ROLE app; ALTER ROLE app SET default_tablespace = 'nope'});
# JIT for every query: each run loads PostgreSQL's JIT provider, which must not end the worker after it (a run that
# loads a library does).
$node->safe_psql('own', q{SET ROLE dbo; ALTER DATABASE own SET jit_above_cost = 0});
# What the database owner stores for its database (session_authorization may be stored by a role for itself).
$node->safe_psql('own', q{SET ROLE dbo;
	ALTER DATABASE own SET role = 'dbo';
	ALTER DATABASE own SET search_path = dbo_schema, public;
	ALTER DATABASE own SET lock_timeout = '1ms';
	ALTER DATABASE own SET statement_timeout = '1ms';
	ALTER DATABASE own SET exit_on_error = on});
$node->safe_psql('own', q{SET SESSION AUTHORIZATION dbo; ALTER DATABASE own SET session_authorization = 'dbo'});
$node->safe_psql('own', q{SET ROLE dbo; ALTER DATABASE own SET default_transaction_read_only = on});

# Settings reach a worker when it connects: a restart, so that every worker connects anew.
$node->restart;
my $offset = -s $node->logfile;
my $since = $node->safe_psql('postgres', 'SELECT clock_timestamp()');
sleep 8;
my $log = slurp_file($node->logfile, $offset);
my $exits = () = $log =~ /background worker "pg_chronos worker" \(PID \d+\) exited with exit code/g;
ok($exits <= 1, "the workers of the database do not keep exiting ($exits exits in 8 s)");
unlike($log, qr/FATAL|PANIC/, 'no worker fails at its start');
like($log, qr/CONTEXT:  pg_chronos: a stored setting \(ALTER DATABASE or ALTER ROLE … SET (?:default_text_search_config|default_tablespace)=nope\) that PostgreSQL refuses is passed over/,
	'a stored value PostgreSQL refuses is passed over with a WARNING');
my $warnings = () = $log =~ /CONTEXT:  pg_chronos: a stored setting/g;
cmp_ok($warnings, '<=', 1, "at most one such warning a minute per database ($warnings in 8 s)");

my $q = sub {
	return $node->safe_psql('own', $_[0], connstr => $node->connstr('own')
		  . q{ options='-c search_path=public -c default_transaction_read_only=off -c role=none -c statement_timeout=0'});
};
for my $role (qw(dbo app))
{
	my $runs = $q->(qq{SELECT count(*) FROM public.seen WHERE task = '$role' AND at > '$since'});
	ok($runs >= 4, "the task of $role runs every second ($runs runs in 8 s)");
	is($q->(qq{SELECT string_agg(DISTINCT format('%s %s %s', cur, sess, super), ',') FROM public.seen
	            WHERE task = '$role' AND at > '$since'}),
		"$role $role off", "$role: current and session user are the task's owner, not a superuser");
	is($q->(qq{SELECT string_agg(DISTINCT path, ',') FROM public.seen WHERE task = '$role' AND at > '$since'}),
		'dbo_schema, public', "$role: the run has the database's search_path, as a login would");
}
is($q->(q{SELECT count(*) FROM chronos.runs WHERE status <> 'succeeded'}), '0', 'no run failed');
# A worker that leaves after a run exits with code 0 (not logged): counted by the processes that ran the runs.
my $processes = $q->(qq{SELECT count(DISTINCT pid) FROM chronos.runs WHERE started_at > '$since'});
cmp_ok($processes, '<=', 3, "the runs of 8 s were run by few processes ($processes): JIT does not end a worker");

$node->stop;
done_testing();
