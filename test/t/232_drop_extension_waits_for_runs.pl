# DROP EXTENSION pg_chronos while a transactional and an autonomous run are in progress: no new run starts, the DROP
# waits for both runs to finish and be recorded, saying so to the client with a NOTICE that names them, and completes;
# the server log has no ERROR or FATAL line; the database's executors leave; lock_timeout bounds the wait; a role that
# does not own the extension gets PostgreSQL's error at once; CREATE EXTENSION afterwards serves the database again.
# Another database's tasks keep running throughout.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);
use ChronosTest;

my $node = start_chronos_node('drop_extension', 'chronos.max_workers = 4', 'max_worker_processes = 16');

sub query { return $node->safe_psql($_[0], $_[1]); }

my $hits_table = 'CREATE TABLE public.hits (task text, at timestamptz NOT NULL DEFAULT clock_timestamp())';

sub hits_again { return wait_for_new_hit($node, @_); }
sub wait_until_running { return wait_until_task_running($node, @_); }

sub executors_in
{
	my ($db) = @_;
	return "(SELECT count(*) FROM pg_stat_activity WHERE $IS_CHRONOS_PROCESS AND datname = '$db')";
}

# Lines of the server log from byte $offset on that report an error or worse.
sub errors_logged_since
{
	my ($offset) = @_;
	return join("\n", grep { /\b(ERROR|FATAL|PANIC):/ } split /\n/, slurp_file($node->logfile, $offset));
}

# Two slow tasks in database $db: "tx" runs in one transaction, "auto" calls a procedure that commits (so it runs
# autonomously); each records a hit when its command is over. And "tick", every second.
sub schedule_slow_runs
{
	my ($db, $seconds) = @_;
	query($db, qq{
		CREATE OR REPLACE PROCEDURE public.slow_commit(seconds float8) LANGUAGE plpgsql AS \$\$
		BEGIN
			COMMIT;
			PERFORM pg_sleep(seconds);
			INSERT INTO public.hits (task) VALUES ('auto');
		END \$\$;
		INSERT INTO chronos.tasks (name, command)
		VALUES ('tx', 'INSERT INTO public.hits (task) SELECT ''tx'' FROM pg_sleep($seconds)');
		INSERT INTO chronos.tasks (name, command, transactional)
		VALUES ('auto', 'CALL public.slow_commit($seconds * 2)', false);
	});
	return;
}

create_chronos_db($node, 'bystander');
query('bystander', $hits_table);
my $tick_task = q{SELECT chronos.schedule('tick', '* * * * * *', $$INSERT INTO public.hits (task) VALUES ('tick')$$)};
query('bystander', $tick_task);
ok(hits_again('bystander', 'tick'), 'the bystander database runs its task');

create_chronos_db($node, 'app');
query('postgres', 'CREATE ROLE mallory LOGIN');
query('app', $hits_table);
query('app', $tick_task);
ok(hits_again('app', 'tick'), 'the database runs its tasks');

# --- lock_timeout bounds the wait: the DROP fails, nothing is dropped, and the runs go on -----------------------------

schedule_slow_runs('app', 6);
ok(wait_until_running('app', 'tx') && wait_until_running('app', 'auto'),
	'a transactional and an autonomous run are in progress');
my ($out, $err);
my $ret = $node->psql('app', 'DROP EXTENSION pg_chronos', stdout => \$out, stderr => \$err, timeout => 120,
	extra_params => [ '-U', 'mallory' ]);
isnt($ret, 0, 'a role that does not own the extension cannot drop it');
like($err, qr/ERROR:  must be owner of extension pg_chronos/, 'it gets PostgreSQL\'s own error');
unlike($err, qr/NOTICE/, 'at once: it neither waits for the runs nor stops service meanwhile');
$ret = $node->psql('app', "SET lock_timeout = '1s'; DROP EXTENSION pg_chronos", stdout => \$out, stderr => \$err,
	timeout => 120);
isnt($ret, 0, 'DROP EXTENSION with lock_timeout = 1s fails while runs outlast it');
diag("DROP EXTENSION with lock_timeout said:\n$err");
like($err, qr/ERROR:  pg_chronos: runs in progress in database "app" did not end within lock_timeout/,
	'the error says that the runs outlasted lock_timeout');
like($err, qr/task "tx" \(id \d+\).*task "auto" \(id \d+\)|task "auto" \(id \d+\).*task "tx" \(id \d+\)/s,
	'and names the runs');
is(query('app', q{SELECT count(*) FROM pg_extension WHERE extname = 'pg_chronos'}), '1',
	'the extension is still there');
ok(wait_for($node, 'app', q{SELECT count(*) = 2 FROM chronos.tasks WHERE name IN ('tx', 'auto') AND status = 'done'}),
	'both runs finish and are recorded');
is(query('app', q{SELECT string_agg(status::text, ',' ORDER BY task_name) FROM chronos.runs
                  WHERE task_name IN ('tx', 'auto')}), 'succeeded,succeeded', 'as succeeded');
ok(hits_again('app', 'tick'), 'the database is served again after the failed DROP');
query('app', q{DELETE FROM chronos.tasks WHERE name IN ('tx', 'auto');
               DELETE FROM public.hits WHERE task IN ('tx', 'auto')});

# --- DROP EXTENSION waits for the runs, and says so -------------------------------------------------------------------

schedule_slow_runs('app', 3);
ok(wait_until_running('app', 'tx') && wait_until_running('app', 'auto'),
	'a transactional and an autonomous run are in progress again');
my $offset = -s $node->logfile;
my $drop_began = query('app', 'SELECT clock_timestamp()');
my $started = time();
$ret = $node->psql('app', 'DROP EXTENSION pg_chronos', stdout => \$out, stderr => \$err, timeout => 120);
my $took = time() - $started;
is($ret, 0, 'DROP EXTENSION during the runs succeeds') or diag($err);
diag(sprintf("DROP EXTENSION took %.1f s and said:\n%s", $took, $err));
like($err, qr/NOTICE:  pg_chronos: DROP EXTENSION waits for \d+ runs in progress in database "app"/,
	'a NOTICE tells the client that DROP EXTENSION waits for the runs');
my $tx_run = qr/task "tx" \(id \d+\), transactional, running for \d+ s in process \d+/;
my $auto_run = qr/task "auto" \(id \d+\), autonomous, running for \d+ s in process \d+/;
like($err, qr/DETAIL:  .*($tx_run.*$auto_run|$auto_run.*$tx_run)/s,
	'the NOTICE names both runs and their modes');
like($err, qr/HINT:  No new run starts meanwhile\..*chronos\.cancel\(\)/s, 'and says how to stop them instead');
is(query('app', q{SELECT string_agg(task, ',' ORDER BY task) FROM public.hits WHERE task IN ('tx', 'auto')}),
	'auto,tx', 'both commands had finished when DROP EXTENSION returned (the autonomous one takes twice as long)');
is(query('app', q{SELECT count(*) FROM pg_extension WHERE extname = 'pg_chronos'}), '0', 'the extension is dropped');
is(query('app', "SELECT count(*) FROM public.hits WHERE task = 'tick' AND at > '$drop_began'::timestamptz + '1 s'"),
	'0', 'no new run started while DROP EXTENSION waited');
ok(wait_for($node, 'postgres', 'SELECT ' . executors_in('app') . ' = 0', 30),
	'the executors of the database leave');
my $ticks = query('app', q{SELECT count(*) FROM public.hits WHERE task = 'tick'});
ok(hits_again('bystander', 'tick'), 'the bystander keeps running');
is(query('app', q{SELECT count(*) FROM public.hits WHERE task = 'tick'}), $ticks, 'no task runs after the DROP');
is(query('postgres', 'SELECT ' . executors_in('app')), '0', 'and no executor came back to the database');
is(errors_logged_since($offset), '', 'the server log has no ERROR or FATAL line since the DROP began');

# --- CREATE EXTENSION again ------------------------------------------------------------------------------------------

query('app', 'CREATE EXTENSION pg_chronos');
query('app', q{INSERT INTO chronos.tasks (name, command)
               VALUES ('again', $$INSERT INTO public.hits (task) VALUES ('again')$$)});
ok(wait_for($node, 'app', q{SELECT status = 'done' FROM chronos.tasks WHERE name = 'again'}),
	'after CREATE EXTENSION again, a new task runs');
is(query('app', q{SELECT count(*) FROM public.hits WHERE task = 'again'}), '1', 'once');
is(errors_logged_since($offset), '', 'still no ERROR or FATAL line in the server log');

# --- a transaction that wrote to chronos.tasks cannot wait for an autonomous run -------------------------------------

# The run's recording would wait for this transaction's row locks, and this transaction for the run: it does not wait,
# and says so; the command finishes after the drop, and its end is logged, not raised as an error.
query('app', q{DELETE FROM public.hits WHERE task = 'auto';
               INSERT INTO chronos.tasks (name, command, transactional)
               VALUES ('auto', 'CALL public.slow_commit(3)', false)});
ok(wait_until_running('app', 'auto'), 'an autonomous run is in progress');
$offset = -s $node->logfile;
$ret = $node->psql('app', q{BEGIN; UPDATE chronos.tasks SET remark = 'going' WHERE name = 'again';
                            DROP EXTENSION pg_chronos; COMMIT;}, stdout => \$out, stderr => \$err, timeout => 120);
is($ret, 0, 'DROP EXTENSION after an UPDATE of chronos.tasks in the same transaction succeeds') or diag($err);
diag("DROP EXTENSION after an UPDATE said:\n$err");
like($err, qr/NOTICE:  pg_chronos: DROP EXTENSION does not wait for 1 autonomous run in progress in database "app"/,
	'a NOTICE says that it does not wait for the autonomous run');
like($err, qr/DETAIL:  .*their outcome is not recorded: $auto_run/s, 'and names it');
ok(wait_for_log_line($node, qr/pg_chronos: the extension was dropped in database "app" while task \d+ ran/, $offset),
	'the end of the run is logged');
ok(wait_for($node, 'app', q{SELECT count(*) = 1 FROM public.hits WHERE task = 'auto'}), 'its command finished');
ok(wait_for($node, 'postgres', 'SELECT ' . executors_in('app') . ' = 0', 30), 'the executors of the database leave');
is(errors_logged_since($offset), '', 'no ERROR or FATAL line in the server log');

$node->stop;
done_testing();
