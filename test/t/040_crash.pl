# Exactly once across crashes: a transactional task's command commits together with its run's bookkeeping, so a crash in
# the middle of a stream of once tasks neither loses a run nor repeats one. Crashed first by an immediate shutdown, then
# by SIGKILL of one executor (which makes the postmaster reinitialize every process).
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ChronosTest;

my $tasks = 200;

my $node = start_chronos_node('crash', 'chronos.max_workers = 4', 'restart_after_crash = on');
create_chronos_db($node, 'postgres');
$node->safe_psql('postgres', 'CREATE TABLE ledger (batch text NOT NULL, slot int NOT NULL)');

sub scalar_query { return $node->safe_psql('postgres', $_[0]); }

# Once tasks "<batch> <slot>", due one every 40 ms over 8 s from one second from now, each adding its slot to the ledger
# and then taking 100 ms more, so that a crash finds runs in progress.
sub start_stream
{
	my ($batch) = @_;
	scalar_query(qq{
		INSERT INTO chronos.tasks (name, command, start_time)
		SELECT '$batch ' || i, format('INSERT INTO ledger VALUES (%L, %s); SELECT pg_sleep(0.1)', '$batch', i),
		       now() + interval '1 s' + i * interval '40 ms'
		  FROM generate_series(1, $tasks) i});
	return;
}

sub wait_until_stream_is_under_way
{
	my ($batch) = @_;
	ok(wait_for($node, 'postgres', "SELECT count(*) >= 40 FROM ledger WHERE batch = '$batch'"),
		"the $batch stream is under way");
	my $written = scalar_query("SELECT count(*) FROM ledger WHERE batch = '$batch'");
	cmp_ok($written, '<', $tasks,
		"the $batch crash comes while tasks of the stream are still due ($written of $tasks ran)");
	diag('runs in progress: ' . scalar_query('SELECT count(*) FROM chronos.running_tasks()'));
	return;
}

sub check_stream_ran_exactly_once
{
	my ($batch) = @_;
	ok(wait_for($node, 'postgres',
			"SELECT count(*) = $tasks FROM chronos.tasks WHERE name LIKE '$batch %' AND status = 'done'", 90),
		"every task of the $batch stream is done after the crash");
	is(scalar_query(qq{
		SELECT count(*) FROM generate_series(1, $tasks) i
		 WHERE (SELECT count(*) FROM ledger l WHERE l.batch = '$batch' AND l.slot = i) <> 1}),
		'0', "every task of the $batch stream wrote its ledger row exactly once");
	is(scalar_query("SELECT count(*) FROM ledger WHERE batch = '$batch'"), $tasks,
		"the ledger holds nothing else from the $batch stream");
	is(scalar_query(qq{
		SELECT count(*) FROM chronos.tasks t
		 WHERE t.name LIKE '$batch %'
		   AND (SELECT count(*) FROM chronos.runs r WHERE r.task_id = t.id AND r.status = 'succeeded') <> 1}),
		'0', "every task of the $batch stream has exactly one succeeded run");
	is(scalar_query(qq{
		SELECT count(*) FROM chronos.runs r JOIN chronos.tasks t ON t.id = r.task_id
		  JOIN ledger l ON l.batch = '$batch' AND t.name = '$batch ' || l.slot
		 WHERE r.status = 'succeeded'}),
		$tasks, "the succeeded runs of the $batch stream match the ledger one to one");
	is(scalar_query("SELECT count(*) FROM chronos.runs WHERE task_name LIKE '$batch %' AND status = 'running'"), '0',
		"no run of the $batch stream is left marked running");
	diag("runs of the $batch stream by status: "
		  . scalar_query("SELECT string_agg(s, ', ') FROM (SELECT status || ' ' || count(*) AS s FROM chronos.runs"
			  . " WHERE task_name LIKE '$batch %' GROUP BY status ORDER BY status) c"));
	return;
}

# --- immediate shutdown in the middle of the stream -------------------------------------------------------------------

start_stream('shutdown');
wait_until_stream_is_under_way('shutdown');
$node->stop('immediate');
$node->start;
check_stream_ran_exactly_once('shutdown');

# --- SIGKILL of an executor in the middle of the stream ---------------------------------------------------------------

start_stream('sigkill');
wait_until_stream_is_under_way('sigkill');
diag("pg_chronos processes:\n" . chronos_processes($node));
# Prefer an executor that runs a task right now.
my $pid = scalar_query(qq{
	SELECT pid FROM pg_stat_activity
	 WHERE $IS_CHRONOS_PROCESS AND datname = 'postgres' AND backend_type NOT LIKE '%launcher%'
	 ORDER BY pid IN (SELECT pid FROM chronos.running_tasks()) DESC, pid LIMIT 1});
like($pid, qr/^\d+$/, 'an executor connected to the database shows in pg_stat_activity');
my $log_offset = -s $node->logfile;
ok($pid =~ /^\d+$/ && kill('KILL', $pid), "SIGKILL reaches executor $pid");
ok(wait_for_log_line($node, qr/terminated by signal 9/, $log_offset), 'the postmaster sees the executor die');
ok(wait_for($node, 'postgres', 'SELECT true'), 'the server accepts connections again after the crash');
check_stream_ran_exactly_once('sigkill');

$node->stop;
done_testing();
