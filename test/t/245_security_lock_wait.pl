# A session that locks chronos.tasks delays only its own database: the executors there do not wait for the lock while
# holding one of the cluster's chronos.max_workers run permits, but give it back, say in the log what they wait for,
# and look again a little later; tasks of other databases keep running. A plain role with the documented grants can
# take any lock mode on chronos.tasks (UPDATE allows it), and the same holds for its locks, also when an autonomous
# run's outcome has to wait to be recorded.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ChronosTest;

# One permit for the whole cluster: a lock wait that kept it would stop every database.
my $node = start_chronos_node('lock_wait', 'chronos.max_workers = 1');
create_chronos_db($node, $_) for qw(d1 d2);
$node->safe_psql('d1', q{
	CREATE ROLE carol LOGIN;
	GRANT USAGE ON SCHEMA chronos TO carol;
	GRANT SELECT, INSERT, UPDATE, DELETE ON chronos.tasks TO carol;
	GRANT SELECT ON chronos.runs, chronos.task_status, chronos.running, chronos.history, chronos.task_stats TO carol;
	GRANT USAGE ON ALL SEQUENCES IN SCHEMA chronos TO carol;
	CREATE TABLE hits (task text);
	GRANT INSERT ON hits TO carol;
});
# The canary: a superuser's task in d2 that runs every second.
$node->safe_psql('d2', q{CREATE TABLE beats (at timestamptz DEFAULT clock_timestamp());
                         INSERT INTO chronos.tasks (name, schedule, command)
                         VALUES ('beat', '@every 1s', 'INSERT INTO beats DEFAULT VALUES')});
ok(wait_for($node, 'd2', q{SELECT count(*) >= 2 FROM beats}), "d2's task runs every second");

sub beats { return $node->safe_psql('d2', 'SELECT count(*) FROM beats'); }
sub hits { return $node->safe_psql('d1', "SELECT count(*) FROM hits WHERE task = '$_[0]'"); }
sub log_offset { return -s $node->logfile; }

# Locks chronos.tasks of d1 in $mode in a session of $role (undef: the superuser); returns the session and its pid.
sub hold_lock
{
	my ($role, $mode) = @_;
	my $session = role_session($node, 'd1', $role);
	my $pid = $session->query_safe('SELECT pg_backend_pid()');
	$session->query_safe("BEGIN; LOCK TABLE chronos.tasks IN $mode MODE");
	return ($session, $pid);
}

# While d1 is locked by $who: d2 keeps running, the log names d1, the table and the holder, d1's due task waits, and
# runs once the lock is released.
sub d1_waits_for
{
	my ($who, $role, $mode, $task) = @_;
	my %conn = $role ? (connstr => $node->connstr('d1') . " user=$role") : ();
	$node->safe_psql('d1', qq{INSERT INTO chronos.tasks (name, command, start_time)
	                          VALUES ('$task', \$\$INSERT INTO public.hits VALUES ('$task')\$\$, now() + interval '1 s')},
		%conn);
	my $offset = log_offset();
	my ($session, $pid) = hold_lock($role, $mode);
	ok(wait_for_log_line($node,
			qr/pg_chronos: claiming tasks in database "d1" waits for a lock on chronos\.tasks.*\n.*DETAIL:  Process $pid holds/,
			$offset),
		"with $who holding $mode on chronos.tasks of d1, the log says d1's claims wait for it and which process holds it");
	my $before = beats();
	ok(wait_for($node, 'd2', "SELECT count(*) >= $before + 3 FROM beats"),
		"meanwhile d2's task keeps running ($who, $mode)");
	is(hits($task), '0', "d1's due task waits for the lock ($who)");
	my $lines = () = slurp_file($node->logfile, $offset) =~ /claiming tasks in database "d1" waits/g;
	is($lines, 1, "the log says it once, not at every retry ($who)");
	$session->query_safe('COMMIT');
	$session->quit;
	ok(wait_for($node, 'd1', "SELECT count(*) = 1 FROM hits WHERE task = '$task'"),
		"once $who releases the lock, d1's due task runs");
	ok(wait_for_log_line($node, qr/claiming tasks in database "d1" goes on/, $offset),
		"and the log says the claims go on ($who)");
	return;
}

d1_waits_for('a superuser', undef, 'ACCESS EXCLUSIVE', 'after superuser lock');

# --- a plain role with the documented grants ----------------------------------------------------------------------

my %carol = (connstr => $node->connstr('d1') . ' user=carol');
my ($ret, $out, $err) = $node->psql('d1', 'BEGIN; LOCK TABLE chronos.tasks IN ACCESS EXCLUSIVE MODE; COMMIT', %carol);
is($ret, 0, 'a role with UPDATE on chronos.tasks may lock it in ACCESS EXCLUSIVE mode');
($ret, $out, $err) = $node->psql('d1', 'BEGIN; LOCK TABLE chronos.runs IN SHARE MODE; COMMIT', %carol);
like($err, qr/permission denied/, 'but chronos.runs, which it may only read, no more than in ACCESS SHARE mode');

d1_waits_for('a plain role', 'carol', 'ACCESS EXCLUSIVE', 'after role lock');
d1_waits_for('a plain role', 'carol', 'SHARE', 'after share lock');

# --- an autonomous run whose outcome waits to be recorded ----------------------------------------------------------

$node->safe_psql('d1', q{INSERT INTO chronos.tasks (name, command, transactional)
                         VALUES ('autonomous', 'SELECT pg_sleep(2)', false)}, %carol);
ok(wait_for($node, 'd1', q{SELECT EXISTS (SELECT FROM chronos.runs WHERE task_name = 'autonomous' AND status = 'running')}),
	'an autonomous run has started');
my $offset = log_offset();
my ($session, $pid) = hold_lock('carol', 'SHARE');
ok(wait_for_log_line($node,
		qr/pg_chronos: recording run \d+ of task \d+ in database "d1" waits for a lock on chronos\.tasks.*\n.*DETAIL:  Process $pid holds/,
		$offset),
	'when its command ends while a role holds SHARE on chronos.tasks, the log says the recording waits for it');
my $before = beats();
ok(wait_for($node, 'd2', "SELECT count(*) >= $before + 3 FROM beats"),
	"meanwhile d2's task keeps running: the waiting executor gave back its permit");
$session->query_safe('COMMIT');
$session->quit;
ok(wait_for($node, 'd1', q{SELECT status = 'succeeded' FROM chronos.runs WHERE task_name = 'autonomous'}),
	'once the lock is released, the autonomous run is recorded as succeeded');

# --- a plain role that locks its own due rows -------------------------------------------------------------------
# carol holds 50,000 of her own tasks locked as they fall due. A claim looks past at most 64 rows a session holds, takes
# another owner's due row instead, and looks again 100 ms later rather than at once: the superuser's task in d1 keeps
# running, and the workers do not spin on the locked rows.
$node->safe_psql('d1', q{CREATE TABLE su_beats (at timestamptz DEFAULT clock_timestamp());
	INSERT INTO chronos.tasks (name, schedule, command) VALUES ('su beat', '@every 1s', 'INSERT INTO su_beats DEFAULT VALUES')});
$node->safe_psql('d1', q{INSERT INTO chronos.tasks (name, command, start_time)
	SELECT 'locked ' || i, 'SELECT 1', now() + interval '2 s' FROM generate_series(1, 50000) i}, %carol);
my $rows = role_session($node, 'd1', 'carol');
$rows->query_safe(q{BEGIN; SELECT count(*) FROM (SELECT FROM chronos.tasks WHERE name LIKE 'locked %' FOR UPDATE) l});
sleep 3;    # due now, and held
my $cpu_before = worker_cpu_seconds($node);
my $su_before = $node->safe_psql('d1', 'SELECT count(*) FROM su_beats');
sleep 5;
my $cpu = worker_cpu_seconds($node) - $cpu_before;
cmp_ok($node->safe_psql('d1', 'SELECT count(*) FROM su_beats') - $su_before, '>=', 3,
	"the superuser's task in d1 keeps running while a role holds 50,000 of its due rows");
cmp_ok($cpu, '<', 1, "the workers do not spin on the locked rows ($cpu s of CPU in 5 s)");
$rows->query_safe(q{DELETE FROM chronos.tasks WHERE name LIKE 'locked %'; COMMIT});
$rows->quit;

my $total = beats();
ok(wait_for($node, 'd2', "SELECT count(*) >= $total + 2 FROM beats"), "d2's task still runs at the end");
unlike(slurp_file($node->logfile), qr/PANIC|FATAL|terminated by signal/, 'no worker crashed or was killed');
done_testing();
