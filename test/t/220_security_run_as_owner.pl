# No role's code runs with another role's rights: a plain role's task tries every way of leaving work queued for commit
# (which would run after the worker switched back to its own superuser identity) — a deferred constraint trigger, a
# WITH HOLD cursor, a temporary table's ON COMMIT action, the same from on_failure, from autonomous commands and from a
# SECURITY DEFINER function it owns — and a role switch. Each attempt fails as the owner; afterwards the attacker is
# not a superuser, the log has no crash, and a superuser's canary task still runs.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ChronosTest;

my $node = start_chronos_node('run_as_owner', 'chronos.max_workers = 2');
create_chronos_db($node, 'postgres');
my $offset = -s $node->logfile;

sub su { return $node->safe_psql('postgres', $_[0]); }
sub as_mallory { return $node->safe_psql('postgres', "SET ROLE mallory; $_[0]"); }

grant_task_rights($node, 'postgres', 'mallory');
su(q{
	CREATE SCHEMA mine AUTHORIZATION mallory;
	CREATE TABLE canary (at timestamptz DEFAULT clock_timestamp());
	INSERT INTO chronos.tasks (name, schedule, command) VALUES ('canary', '@every 1s', 'INSERT INTO canary DEFAULT VALUES');
});

# The payload every attempt tries to run with the worker's rights: it makes mallory a superuser, and records who ran it.
as_mallory(q{
	CREATE TABLE mine.ran (who text, via text);
	CREATE FUNCTION mine.escalate(via text) RETURNS boolean LANGUAGE plpgsql AS $$
	BEGIN
		INSERT INTO mine.ran VALUES (current_user, via);
		EXECUTE 'ALTER ROLE mallory SUPERUSER';
		RETURN true;
	END $$;
	CREATE FUNCTION mine.escalate_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN
		PERFORM mine.escalate(TG_ARGV[0]);
		RETURN NULL;
	END $$;
	CREATE TABLE mine.deferred (x int);
	CREATE CONSTRAINT TRIGGER at_commit AFTER INSERT ON mine.deferred DEFERRABLE INITIALLY DEFERRED
		FOR EACH ROW EXECUTE FUNCTION mine.escalate_trigger('deferred trigger');
	CREATE PROCEDURE mine.commit_then(cmd text) LANGUAGE plpgsql AS $$
	BEGIN
		COMMIT;
		EXECUTE cmd;
	END $$;
	CREATE FUNCTION mine.definer_deferred() RETURNS void LANGUAGE sql SECURITY DEFINER
		AS $$ INSERT INTO mine.deferred VALUES (2) $$;
});

my %attempts = (
	'deferred trigger'     => q{INSERT INTO mine.deferred VALUES (1)},
	'with hold cursor'     => q{DECLARE c CURSOR WITH HOLD FOR SELECT mine.escalate('with hold cursor')},
	'temp on commit'       => q{CREATE TEMP TABLE t ON COMMIT DROP AS SELECT 1},
	'definer deferred'     => q{SELECT mine.definer_deferred()},
	'autonomous deferred'  => q{CALL mine.commit_then('INSERT INTO mine.deferred VALUES (3)')},
	'autonomous with hold' => q{CALL mine.commit_then('DECLARE c CURSOR WITH HOLD FOR SELECT mine.escalate(''autonomous with hold'')')},
	'role switch'          => q{SET ROLE postgres; SELECT mine.escalate('role switch')},
	'session authorization' => q{SET SESSION AUTHORIZATION postgres; SELECT mine.escalate('session authorization')},
);
for my $name (sort keys %attempts)
{
	my $command = $attempts{$name};
	$command =~ s/'/''/g;
	as_mallory(qq{INSERT INTO chronos.tasks (name, command) VALUES ('$name', '$command')});
}
as_mallory(q{INSERT INTO chronos.tasks (name, command, on_failure)
	VALUES ('on_failure deferred', 'SELECT 1/0', 'INSERT INTO mine.deferred VALUES (4)')});

my $all = scalar(keys %attempts) + 1;
ok(wait_for($node, 'postgres',
		"SELECT count(*) = $all FROM chronos.tasks WHERE owner = 'mallory'::regrole AND run_count > 0"),
	'every attempt of the plain role has run');
for my $name (sort keys %attempts)
{
	my ($run) = query_rows($node, 'postgres',
		"SELECT status, coalesce(error, '') FROM chronos.runs WHERE task_name = '$name' ORDER BY run_id LIMIT 1");
	$run //= [ '', '' ];
	is($run->[0], 'failed', "$name: the run fails");
	like($run->[1], qr/^[0-9A-Z]{5}: /, "$name: the run records why it was refused ($run->[1])");
}
ok(wait_for($node, 'postgres', q{SELECT count(*) >= 1 FROM chronos.runs WHERE task_name = 'on_failure deferred'}),
	'the task with a deferred on_failure has run');

is(su(q{SELECT rolsuper FROM pg_roles WHERE rolname = 'mallory'}), 'f', 'the plain role is not a superuser');
is(su(q{SELECT count(*) FROM mine.ran WHERE who <> 'mallory'}), '0',
	'none of the plain role\'s code ran as another role');
is(su(q{SELECT count(*) FROM mine.deferred}), '0', 'no deferred insert committed');

my $canary = su('SELECT count(*) FROM canary');
ok(wait_for($node, 'postgres', "SELECT count(*) > $canary + 1 FROM canary"), 'the canary task still runs');
my $log = slurp_file($node->logfile, $offset);
unlike($log, qr/PANIC|FATAL|terminated by signal|server process .* was terminated/, 'no crash in the server log');
is(su(q{SELECT count(*) FROM chronos.tasks WHERE status = 'running'}), '0', 'no task is stuck running');

$node->stop;
done_testing();
