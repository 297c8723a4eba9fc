# The basic promise of the workers: a once task runs one time, at its start_time; a loop task runs on every slot of
# its schedule, one run after the other; chronos.schedule(), chronos.run_at() and chronos.unschedule() drive them end
# to end.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(sleep);
use ChronosTest;

my $node = start_chronos_node('once_and_loop');
create_chronos_db($node, 'postgres');
$node->safe_psql('postgres', 'CREATE TABLE hits (task text, at timestamptz NOT NULL DEFAULT clock_timestamp())');

sub scalar_query { return $node->safe_psql('postgres', $_[0]); }

# --- a once task ------------------------------------------------------------------------------------------------------

scalar_query(q{INSERT INTO chronos.tasks (name, command, start_time)
               VALUES ('once', $$INSERT INTO hits (task) VALUES ('once')$$, now() + interval '300 ms')});
is(scalar_query(q{SELECT type FROM chronos.tasks WHERE name = 'once'}), 'once',
	'a task without a schedule is a once task');

ok(wait_for($node, 'postgres', q{SELECT status = 'done' FROM chronos.tasks WHERE name = 'once'}),
	'a once task reaches status done after its run');

# Give a second, unwanted run the time to show up.
sleep(1.5);
is(scalar_query(q{SELECT count(*) FROM hits WHERE task = 'once'}), '1', 'a once task runs its command exactly once');
is(scalar_query(q{SELECT count(*) FROM chronos.runs WHERE task_name = 'once'}), '1', 'a once task has exactly one run');

my ($run) = query_rows($node, 'postgres', q{
	SELECT r.status, r.scheduled_for = t.start_time, r.started_at >= t.start_time,
	       (SELECT min(at) FROM hits WHERE task = 'once') >= t.start_time,
	       extract(epoch FROM r.started_at - r.scheduled_for), r.finished_at >= r.started_at
	  FROM chronos.runs r JOIN chronos.tasks t ON t.id = r.task_id WHERE t.name = 'once'});
$run //= [];
is($run->[0], 'succeeded', 'the run of a once task that works is recorded as succeeded');
is($run->[1], 't', 'a once task is scheduled for its start_time');
ok($run->[2] eq 't' && $run->[3] eq 't', 'a once task does not run before its start_time');
ok(defined $run->[4] && $run->[4] ne '' && $run->[4] < 2,
	'a once task starts less than 2 s after its start_time (lateness ' . ($run->[4] // 'none') . ' s)');
is($run->[5], 't', 'a finished run has a finish time after its start');

is(scalar_query(q{SELECT concat_ws(',', status, status_code, last_status, run_count, failure_count)
                    FROM chronos.task_status WHERE name = 'once'}),
	'done,2,succeeded,1,0', 'chronos.task_status shows a finished once task as done with status_code 2');

scalar_query(q{INSERT INTO chronos.tasks (name, command, start_time)
               VALUES ('far', $$INSERT INTO hits (task) VALUES ('far')$$, now() + interval '1 day')});
is(scalar_query(q{SELECT concat_ws(',', s.status, s.status_code, t.next_exec_time = t.start_time)
                    FROM chronos.task_status s JOIN chronos.tasks t USING (id) WHERE t.name = 'far'}),
	'scheduled,0,t', 'chronos.task_status shows a task that has not run yet as scheduled with status_code 0');

# --- a loop task every second -----------------------------------------------------------------------------------------

scalar_query(q{INSERT INTO chronos.tasks (name, schedule, command)
               VALUES ('tick', '* * * * * *', $$INSERT INTO hits (task) SELECT 'tick' FROM pg_sleep(0.2)$$)});
is(scalar_query(q{SELECT type FROM chronos.tasks WHERE name = 'tick'}), 'loop',
	'a task with a schedule is a loop task');

ok(wait_for($node, 'postgres',
		q{SELECT count(*) >= 4 FROM chronos.runs WHERE task_name = 'tick' AND status = 'succeeded'}),
	'a loop task every second runs repeatedly');

my $tick_runs = q{SELECT * FROM chronos.runs WHERE task_name = 'tick' AND status = 'succeeded'};
my $spacing = scalar_query(qq{
	SELECT string_agg(to_char(scheduled_for, 'HH24:MI:SS.US'), ' ' ORDER BY scheduled_for) FROM ($tick_runs) r});
is(scalar_query(qq{
	SELECT bool_and(gap = interval '1 s') FROM (
	  SELECT scheduled_for - lag(scheduled_for) OVER (ORDER BY scheduled_for) AS gap FROM ($tick_runs) r) g
	 WHERE gap IS NOT NULL}),
	't', "consecutive runs of an every-second loop task are scheduled exactly 1 s apart ($spacing)");
is(scalar_query(qq{SELECT bool_and(started_at - scheduled_for < interval '2 s') FROM ($tick_runs) r}),
	't', 'every run of a loop task starts less than 2 s after its slot');
is(scalar_query(qq{
	SELECT count(*) FROM (
	  SELECT started_at, lag(finished_at) OVER (ORDER BY started_at) AS previous_end FROM ($tick_runs) r) o
	 WHERE started_at < previous_end}),
	'0', 'runs of one loop task never overlap');
is(scalar_query(qq{SELECT (SELECT count(*) FROM hits WHERE task = 'tick') = (SELECT count(*) FROM ($tick_runs) r)}),
	't', 'each succeeded run of a loop task ran its command once');
like(scalar_query(q{SELECT concat_ws(',', status, status_code) FROM chronos.task_status WHERE name = 'tick'}),
	qr/^(scheduled|running),1$/, 'chronos.task_status shows a loop task that has run with status_code 1');
is(scalar_query(q{SELECT next_exec_time > last_exec_time FROM chronos.tasks WHERE name = 'tick'}),
	't', 'a loop task that has run is due again after its last run');

# --- the helpers ------------------------------------------------------------------------------------------------------

is(scalar_query(q{SELECT chronos.unschedule('tick')}), 't', 'chronos.unschedule() reports a task it deleted');

my $id = scalar_query(
	q{SELECT chronos.schedule('helper', '* * * * * *', $$INSERT INTO hits (task) VALUES ('helper')$$)});
like($id, qr/^\d+$/, 'chronos.schedule() returns the new task id');
ok(wait_for($node, 'postgres', q{SELECT count(*) >= 2 FROM hits WHERE task = 'helper'}),
	'a task created by chronos.schedule() runs on its schedule');

is(scalar_query(
		q{SELECT chronos.schedule('helper', '* * * * * *', $$INSERT INTO hits (task) VALUES ('helper changed')$$)}),
	$id, 'chronos.schedule() on an existing name changes that task');
ok(wait_for($node, 'postgres', q{SELECT count(*) >= 1 FROM hits WHERE task = 'helper changed'}),
	'the workers run the changed command');

is(scalar_query(q{SELECT chronos.unschedule('helper')}), 't', 'chronos.unschedule() deletes the task');
is(scalar_query(q{SELECT chronos.unschedule('helper')}), 'f', 'chronos.unschedule() of an unknown name returns false');
ok(wait_for($node, 'postgres', "SELECT NOT EXISTS (SELECT FROM chronos.running_tasks() WHERE task_id = $id)"),
	'no run of an unscheduled task stays in progress');
my $helper_hits = scalar_query(q{SELECT count(*) FROM hits WHERE task LIKE 'helper%'});
sleep(2.5);
is(scalar_query(q{SELECT count(*) FROM hits WHERE task LIKE 'helper%'}), $helper_hits,
	'an unscheduled task runs no more');

scalar_query(
	q{SELECT chronos.run_at('later', now() + interval '500 ms', $$INSERT INTO hits (task) VALUES ('later')$$)});
ok(wait_for($node, 'postgres', q{SELECT status = 'done' FROM chronos.tasks WHERE name = 'later'}),
	'a task created by chronos.run_at() runs and is done');
is(scalar_query(q{SELECT count(*) FROM hits WHERE task = 'later'}), '1', 'a chronos.run_at() task runs once');

is(scalar_query(q{SELECT count(*) FROM hits WHERE task = 'far'}), '0', 'a task due tomorrow has not run');

$node->stop;
done_testing();
