# A run keeps its owner's identity across every transaction boundary inside its command. PostgreSQL gives back, when a
# transaction or subtransaction aborts, the user it began with: a plain role's command that rolls back its first
# transaction (ROLLBACK in a DO block or a procedure, in either run mode, nested, after COMMIT, after a caught or an
# uncaught error) must then still be its owner, restricted, with its owner as session user. Each attempt tries to make
# the role a superuser and records who it was at each step; afterwards the role is not a superuser, every record names
# the role, no worker exited, and a superuser's canary task still runs.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ChronosTest;

my $node = start_chronos_node('identity', 'chronos.max_workers = 2');
create_chronos_db($node, 'postgres');
my $offset = -s $node->logfile;

sub su { return $node->safe_psql('postgres', $_[0]); }

grant_task_rights($node, 'postgres', 'app');
su(q{
	CREATE SCHEMA mine AUTHORIZATION app;
	CREATE TABLE canary (at timestamptz DEFAULT clock_timestamp());
	INSERT INTO chronos.tasks (name, schedule, command) VALUES ('canary', '@every 1s', 'INSERT INTO canary DEFAULT VALUES');
});

# mine.seen records, at each step, who the code runs as and whether it may still switch roles (it may not: the run is
# a security-restricted operation); mine.escalate tries to make app a superuser.
$node->safe_psql('postgres', q{SET ROLE app;
	CREATE TABLE mine.seen (attempt text, step text, cur text, sess text, super text, may_set_role boolean);
	CREATE FUNCTION mine.note(attempt text, step text) RETURNS void LANGUAGE plpgsql AS $$
	DECLARE
		may boolean := true;
	BEGIN
		BEGIN
			SET LOCAL ROLE NONE;
		EXCEPTION WHEN OTHERS THEN
			may := false;
		END;
		INSERT INTO mine.seen VALUES (attempt, step, current_user, session_user, current_setting('is_superuser'), may);
	END $$;
	CREATE FUNCTION mine.escalate() RETURNS void LANGUAGE plpgsql AS $$
	BEGIN
		EXECUTE 'ALTER ROLE app SUPERUSER';
	END $$;
	CREATE PROCEDURE mine.rollback_first(attempt text) LANGUAGE plpgsql AS $$
	BEGIN
		ROLLBACK;
		PERFORM mine.note(attempt, 'after rollback');
		COMMIT;
		PERFORM mine.escalate();
	END $$;
	CREATE PROCEDURE mine.commit_then_rollback(attempt text) LANGUAGE plpgsql AS $$
	BEGIN
		COMMIT;
		PERFORM mine.note(attempt, 'after commit');
		COMMIT;
		ROLLBACK;
		PERFORM mine.note(attempt, 'after commit and rollback');
		COMMIT;
		PERFORM mine.escalate();
	END $$;
	CREATE PROCEDURE mine.caught_then_rollback(attempt text) LANGUAGE plpgsql AS $$
	BEGIN
		BEGIN
			PERFORM 1 / 0;
		EXCEPTION WHEN division_by_zero THEN
			PERFORM mine.note(attempt, 'in the handler');
		END;
		COMMIT;
		ROLLBACK;
		PERFORM mine.note(attempt, 'after the handler and a rollback');
		COMMIT;
		PERFORM mine.escalate();
	END $$;
	CREATE PROCEDURE mine.nested(attempt text) LANGUAGE plpgsql AS $$
	BEGIN
		COMMIT;
		CALL mine.rollback_first(attempt || ', inner');
		ROLLBACK;
		PERFORM mine.note(attempt, 'after the inner call and a rollback');
		COMMIT;
		PERFORM mine.escalate();
	END $$;
	CREATE PROCEDURE mine.commit_then_fail(attempt text) LANGUAGE plpgsql AS $$
	BEGIN
		COMMIT;
		PERFORM mine.note(attempt, 'before the error');
		COMMIT;
		RAISE EXCEPTION 'uncaught';
	END $$;
});

my %attempts = (
	'do rollback, autonomous' => [ q{DO $d$ BEGIN ROLLBACK; PERFORM mine.note('do rollback, autonomous', 'after rollback'); COMMIT; PERFORM mine.escalate(); END $d$}, 'false' ],
	'do rollback, decided' => [ q{DO $d$ BEGIN ROLLBACK; PERFORM mine.escalate(); END $d$}, 'NULL' ],
	'procedure rollback' => [ q{CALL mine.rollback_first('procedure rollback')}, 'NULL' ],
	'procedure commit' => [ q{CALL mine.commit_then_rollback('procedure commit')}, 'NULL' ],
	'procedure caught error' => [ q{CALL mine.caught_then_rollback('procedure caught error')}, 'false' ],
	'nested procedures' => [ q{CALL mine.nested('nested procedures')}, 'NULL' ],
	'uncaught error' => [ q{CALL mine.commit_then_fail('uncaught error'); SELECT mine.escalate()}, 'false' ],
	'transactional handler' => [ q{DO $d$ BEGIN BEGIN PERFORM 1 / 0; EXCEPTION WHEN OTHERS THEN PERFORM mine.note('transactional handler', 'in the handler'); END; PERFORM mine.note('transactional handler', 'after the handler'); PERFORM mine.escalate(); END $d$}, 'true' ],
);
for my $name (sort keys %attempts)
{
	my ($command, $transactional) = @{ $attempts{$name} };
	$command =~ s/'/''/g;
	$node->safe_psql('postgres', qq{SET ROLE app;
		INSERT INTO chronos.tasks (name, command, transactional) VALUES ('$name', '$command', $transactional)});
}
my $all = scalar keys %attempts;
ok(wait_for($node, 'postgres',
		"SELECT count(*) = $all FROM chronos.tasks WHERE owner = 'app'::regrole AND run_count > 0 AND status <> 'running'"),
	'every attempt has run');

is(su(q{SELECT rolsuper FROM pg_roles WHERE rolname = 'app'}), 'f', 'the plain role is not a superuser');
for my $name (sort keys %attempts)
{
	my ($status, $error) = @{ (query_rows($node, 'postgres',
		"SELECT status, coalesce(error, '') FROM chronos.runs WHERE task_name = '$name' ORDER BY run_id LIMIT 1"))[0] // [ '', '' ] };
	is($status, 'failed', "$name: the run fails");
	like($error, qr/^(42501: must be superuser|P0001: uncaught|2D000: invalid transaction termination)/, "$name: refused as the owner ($error)");
}
my @steps = query_rows($node, 'postgres', 'SELECT attempt, step, cur, sess, super, may_set_role FROM mine.seen ORDER BY 1, 2');
ok(@steps >= 8, 'the commands recorded who they were at ' . scalar(@steps) . ' steps');
for my $step (@steps)
{
	my ($attempt, $where, $current, $session, $super, $may) = @$step;
	is("$current $session $super $may", 'app app off f',
		"$attempt, $where: current and session user are the owner, not a superuser, restricted");
}

my $canary = su('SELECT count(*) FROM canary');
ok(wait_for($node, 'postgres', "SELECT count(*) > $canary + 1 FROM canary"), 'the canary task still runs');
my $log = slurp_file($node->logfile, $offset);
unlike($log, qr/identity of a run changed|PANIC|terminated by signal/, 'no run lost its identity and nothing crashed');

$node->stop;
done_testing();
