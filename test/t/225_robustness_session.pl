# Every run starts in a clean session, whatever the previous run did to it: settings (search_path, work_mem, the
# session's transaction characteristics, READ ONLY among them), prepared statements, advisory locks and transaction
# blocks never reach the next run, in transactional and autonomous commands alike, and a command that tries to poison
# its worker (read-only sessions, an open BEGIN, BEGIN/COMMIT with an error inside) fails alone while the database
# keeps its schedule. Run with one worker, so that every run shares one session.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ChronosTest;

my $node = start_chronos_node('session', 'chronos.max_workers = 1');
create_chronos_db($node, 'postgres');
my $offset = -s $node->logfile;

sub su { return $node->safe_psql('postgres', $_[0]); }

grant_task_rights($node, 'postgres', 'alice');
su(q{
	CREATE TABLE seen (task text, pid int, settings text, locks bigint, prepared bigint, read_only text);
	GRANT INSERT ON seen TO alice;
	CREATE TABLE canary (at timestamptz DEFAULT clock_timestamp());
	CREATE PROCEDURE public.commit_now() LANGUAGE plpgsql AS $$ BEGIN COMMIT; END $$;
	GRANT EXECUTE ON PROCEDURE public.commit_now() TO alice;
});

# What a run sees of its session.
my $observe = q{INSERT INTO public.seen SELECT '%s', pg_backend_pid(),
	concat_ws(',', current_setting('search_path'), current_setting('work_mem'),
	          current_setting('default_transaction_isolation'), current_setting('statement_timeout')),
	(SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()),
	(SELECT count(*) FROM pg_prepared_statements), current_setting('transaction_read_only')};

sub observer { my ($name) = @_; return sprintf($observe, $name); }

my $fresh = su(q{SELECT concat_ws(',', current_setting('search_path'), current_setting('work_mem'),
	current_setting('default_transaction_isolation'), current_setting('statement_timeout'))});

# Dirty runs, transactional and autonomous (a CALL of a procedure that commits makes a command autonomous).
my @dirty = (
	[ 'dirty transactional', q{SET search_path = nowhere; SET work_mem = '77MB'; SELECT pg_advisory_lock(42);
	   PREPARE p AS SELECT 1; SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL SERIALIZABLE} ],
	[ 'dirty autonomous', q{CALL public.commit_now(); SET search_path = nowhere; SET work_mem = '66MB';
	   SELECT pg_advisory_lock(43); PREPARE q AS SELECT 1; SET statement_timeout = '1s';
	   SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY} ],
);
my $i = 0;
for my $d (@dirty)
{
	my ($name, $command) = @$d;
	$i++;
	$command =~ s/'/''/g;
	my $check = observer("after $name");
	$check =~ s/'/''/g;
	su(qq{SET ROLE alice; INSERT INTO chronos.tasks (name, command, start_time)
	      VALUES ('$name', '$command', now() + interval '$i s'),
	             ('after $name', '$check', now() + interval '$i s' + interval '300 ms')});
}
ok(wait_for($node, 'postgres', q{SELECT count(*) = 2 FROM seen WHERE task LIKE 'after dirty%'}),
	'the runs after the dirty runs ran');
for my $d (@dirty)
{
	my $name = $d->[0];
	my ($row) = query_rows($node, 'postgres', "SELECT settings, locks, prepared, read_only FROM seen WHERE task = 'after $name'");
	$row //= [];
	is($row->[0], $fresh, "settings left by a $name run do not reach the next run");
	is($row->[1], '0', "advisory locks taken by a $name run are released before the next run");
	is($row->[2], '0', "statements prepared by a $name run are gone before the next run");
	is($row->[3], 'off', "the run after a $name run is not read-only");
}
is(su(q{SELECT count(DISTINCT pid) FROM seen}), '1', 'all observations come from one session');

# Poison pills: each fails (or is refused when written); the database's next run still commits.
su(q{INSERT INTO chronos.tasks (name, schedule, command) VALUES ('canary', '@every 1s', 'INSERT INTO canary DEFAULT VALUES')});
my @poison = (
	[ 'read only then commit', q{SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY; CALL public.commit_now()} ],
	[ 'begin alone', q{BEGIN} ],
	[ 'begin error commit', q{BEGIN; SELECT 1/0; COMMIT} ],
	[ 'commit then select', q{COMMIT; SELECT 1} ],
);
for my $p (@poison)
{
	my ($name, $command) = @$p;
	$command =~ s/'/''/g;
	# Written as a 1.0 catalog or a data-only restore would hold them: without the validation trigger.
	su(qq{SET session_replication_role = replica;
	      INSERT INTO chronos.tasks (name, type, timezone, command, owner, next_exec_time)
	      VALUES ('$name', 'once', 'UTC', '$command', 'alice', now())});
}
# Rows written with triggers off wake no worker; the canary's schedule wakes one every second.
ok(wait_for($node, 'postgres', q{SELECT count(*) = 4 FROM chronos.runs WHERE task_name IN ('read only then commit',
     'begin alone', 'begin error commit', 'commit then select')}), 'every poison pill has run once');
for my $p (@poison)
{
	my $name = $p->[0];
	my ($run) = query_rows($node, 'postgres', "SELECT status, coalesce(error, '') FROM chronos.runs WHERE task_name = '$name'");
	diag("$name: " . join(' ', @{ $run // [] }));
}
is(su(q{SELECT count(*) FROM chronos.runs WHERE task_name IN ('begin alone', 'begin error commit') AND status = 'failed'}),
	'2', 'a command that opens a transaction block fails');

su(q{SET ROLE alice; INSERT INTO chronos.tasks (name, command) VALUES ('last', $$} . observer('last') . q{$$)});
ok(wait_for($node, 'postgres', q{SELECT count(*) = 1 FROM seen WHERE task = 'last'}),
	'a run after the poison pills commits its work');
my ($last) = query_rows($node, 'postgres', q{SELECT settings, read_only FROM seen WHERE task = 'last'});
is(join('|', @{ $last // [] }), "$fresh|off", 'the run after the poison pills has a clean, writable session');
my $canary = su('SELECT count(*) FROM canary');
ok(wait_for($node, 'postgres', "SELECT count(*) > $canary + 1 FROM canary"), 'the canary keeps its schedule');
is(su(q{SELECT count(*) FROM chronos.tasks WHERE status = 'running'}), '0', 'no task is stuck running');
my $log = slurp_file($node->logfile, $offset);
unlike($log, qr/PANIC|terminated by signal|failed to re-find/, 'no crash in the server log');

$node->stop;
done_testing();
