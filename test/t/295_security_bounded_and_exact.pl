# Bounded and exact. A payload over chronos.max_payload_size is refused when written (54000), by INSERT, UPDATE and
# chronos.emit() alike, so a run never binds a huge value. chronos.cancel() cancels the run it was asked to cancel and
# nothing else: its signal arriving late, during the next run of the same worker, is ignored, while an administrator's
# pg_cancel_backend() still cancels a run.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ChronosTest;

my $node = start_chronos_node('bounded', 'chronos.max_workers = 1', "chronos.max_payload_size = '64kB'");
create_chronos_db($node, 'postgres');
grant_task_rights($node, 'postgres', 'app');
$node->safe_psql('postgres', q{
	GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA chronos TO app;
	CREATE FUNCTION public.on_event(payload jsonb) RETURNS void LANGUAGE sql AS 'SELECT';
	GRANT EXECUTE ON FUNCTION public.on_event(jsonb) TO app;
	CREATE TABLE naps (task text PRIMARY KEY, seconds float8);
	INSERT INTO naps VALUES ('first', 60), ('second', 3);
});

sub as_app
{
	my ($sql) = @_;
	my ($rc, $out, $err) = $node->psql('postgres', "SET ROLE app; $sql");
	return $err;
}

# --- payloads ------------------------------------------------------------------------------------------------------
my $big = q{jsonb_build_object('blob', repeat('x', 70000))};
like(as_app(qq{INSERT INTO chronos.tasks (command, payload) VALUES ('SELECT \$1', $big)}),
	qr/ERROR:  task payload is too large\nDETAIL:  The payload has \d+ bytes; chronos.max_payload_size is 65536 bytes\.\nHINT:  /,
	'an INSERT with a payload over the limit is refused, with a detail and a hint');
is(as_app(q{INSERT INTO chronos.tasks (name, command, payload, start_time)
            VALUES ('small', 'SELECT $1', jsonb_build_object('blob', repeat('x', 1000)), now() + interval '1 day')}),
	'', 'a payload under the limit is accepted');
like(as_app(qq{UPDATE chronos.tasks SET payload = $big WHERE name = 'small'}), qr/task payload is too large/,
	'an UPDATE to a payload over the limit is refused');
$node->safe_psql('postgres', q{SET ROLE app; SELECT chronos.listen('big', 'public.on_event(jsonb)')});
my ($rc, $out, $err) = $node->psql('postgres', qq{SET ROLE app; SELECT chronos.emit('big', $big)}, extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($err, qr/54000: task payload is too large/, 'chronos.emit() with a payload over the limit is refused with 54000');
is($node->safe_psql('postgres', q{SELECT count(*) FROM chronos.tasks WHERE pg_column_size(payload) > 65536}), '0',
	'no payload over the limit is stored');

# --- cancels ---------------------------------------------------------------------------------------------------------
# One worker (one permit, one database) runs "first" (60 s) and then "second" (3 s). A session cancels "first"; a SIGINT
# from that same session to the worker during "second" is what its signal arriving late looks like, and must not cancel
# "second". pg_cancel_backend() from another session, an administrator's, does cancel a run.
$node->safe_psql('postgres', q{
	INSERT INTO chronos.tasks (name, command) VALUES
	  ('first', $$SELECT pg_sleep((SELECT seconds FROM naps WHERE task = 'first'))$$),
	  ('second', $$SELECT pg_sleep((SELECT seconds FROM naps WHERE task = 'second'))$$)});
ok(wait_until_task_running($node, 'postgres', 'first'), 'the first run is going');
my $canceller = role_session($node, 'postgres', undef);
is($canceller->query_safe(q{SELECT chronos.cancel('first')}), 't', 'chronos.cancel() cancels the first run');
ok(wait_until_task_running($node, 'postgres', 'second'), 'the same worker runs the second task next');
$canceller->query_safe(q{SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query LIKE 'pg_chronos task second:%'});
$canceller->quit;
ok(wait_for_finished_run($node, 'postgres', 'second'), 'the second run ends');
is($node->safe_psql('postgres', q{SELECT status || ' ' || coalesce(error, '') FROM chronos.runs WHERE task_name = 'first'}),
	'cancelled 57014: run cancelled by chronos.cancel()', 'the first run is recorded as cancelled');
is($node->safe_psql('postgres', q{SELECT status FROM chronos.runs WHERE task_name = 'second'}), 'succeeded',
	'a signal from the session that cancelled the first run, arriving during the second, did not cancel it');

$node->safe_psql('postgres', q{UPDATE naps SET seconds = 60 WHERE task = 'second';
	UPDATE chronos.tasks SET status = 'scheduled', next_exec_time = now() WHERE name = 'second'});
ok(wait_until_task_running($node, 'postgres', 'second'), 'the second task runs again');
$node->safe_psql('postgres', q{SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query LIKE 'pg_chronos task second:%'});
ok(wait_for($node, 'postgres',
		q{SELECT status = 'failed' AND error LIKE '57014%' FROM chronos.runs WHERE task_name = 'second' ORDER BY run_id DESC LIMIT 1}),
	'pg_cancel_backend() from another session cancels a run');

$node->safe_psql('postgres', q{SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query LIKE 'pg_chronos task%'});

# --- what a plain role sees of executors -----------------------------------------------------------------------------
# As in pg_stat_activity: the database and pid of every executor, but what it does and since when only for runs of
# roles it is a member of; otherwise the state of an executor would time the runs of others.
$node->safe_psql('postgres', q{INSERT INTO chronos.tasks (name, command) VALUES ('long', 'SELECT pg_sleep(60)')});
ok(wait_until_task_running($node, 'postgres', 'long'), 'a superuser\'s long run is going');
is($node->safe_psql('postgres', q{SET ROLE app; SELECT count(*) FILTER (WHERE state IS NOT NULL OR since IS NOT NULL
	OR task_id IS NOT NULL) || ' of ' || count(*) FROM chronos.executor_status()}), '0 of 1',
	'a plain role sees neither the state, nor the start, nor the task of executors running others\' tasks');
is($node->safe_psql('postgres', q{SELECT count(*) FROM chronos.executor_status() WHERE state = 'running'}), '1',
	'the superuser sees the run');
$node->safe_psql('postgres', q{SELECT chronos.cancel('long')});

# --- a run's error is kept, and logged, up to 8 kB -------------------------------------------------------------------
my $log_offset = -s $node->logfile;
as_app(q{INSERT INTO chronos.tasks (name, command)
	VALUES ('loud', $c$DO $d$ BEGIN RAISE EXCEPTION '%', repeat('x', 20000000); END $d$$c$)});
ok(wait_for_finished_run($node, 'postgres', 'loud'), 'the task raising a 20 MB error ran');
like($node->safe_psql('postgres', q{SELECT length(error) || ' ' || length(last_error) || ' ' || right(error, 50)
	FROM chronos.runs JOIN chronos.tasks ON id = task_id WHERE task_name = 'loud'}),
	qr/^(\d+) \1 .*the message was cut at 8192 of its 20000000 bytes\)$/, 'the error kept says it was cut');
cmp_ok($node->safe_psql('postgres', q{SELECT length(error) FROM chronos.runs WHERE task_name = 'loud'}), '<', 8300,
	'and holds about 8 kB');
ok(wait_for_log_line($node, qr/run \d+ of task "loud"/, $log_offset), 'the run is logged');
cmp_ok(-s $node->logfile, '<', $log_offset + 1_000_000, 'the server log grew by less than 1 MB');

$node->stop;
done_testing();
