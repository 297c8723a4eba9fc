# end_time and max_runs: a loop task becomes done when its next run would come after end_time, or when run_count
# reaches max_runs; nothing runs after that.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ChronosTest;

my $node = start_chronos_node('end_conditions', 'chronos.max_workers = 2');
create_chronos_db($node, 'postgres');

sub scalar_query { return $node->safe_psql('postgres', $_[0]); }

# --- max_runs ---------------------------------------------------------------------------------------------------------

scalar_query(q{INSERT INTO chronos.tasks (name, schedule, command, max_runs) VALUES ('three runs', '@every 1s', 'SELECT 1', 3)});
ok(wait_for($node, 'postgres', q{SELECT status = 'done' FROM chronos.tasks WHERE name = 'three runs'}),
	'a loop task with max_runs ends done');
is(scalar_query(q{SELECT concat_ws(',', run_count, next_exec_time IS NULL) FROM chronos.tasks WHERE name = 'three runs'}),
	'3,t', 'it is done when run_count reaches max_runs, with no next run');
is(scalar_query(q{SELECT count(*) FROM chronos.runs WHERE task_name = 'three runs' AND status = 'succeeded'}), '3',
	'it ran exactly max_runs times');
is(scalar_query(q{SELECT status_code FROM chronos.task_status WHERE name = 'three runs'}), '2',
	'chronos.task_status shows it as done');

# Failed runs count too.
scalar_query(q{INSERT INTO chronos.tasks (name, schedule, command, max_runs) VALUES ('two failing runs', '@every 1s', 'SELECT 1/0', 2)});
ok(wait_for($node, 'postgres', q{SELECT status = 'done' FROM chronos.tasks WHERE name = 'two failing runs'}),
	'a failing loop task with max_runs ends done too');
is(scalar_query(q{SELECT count(*) FROM chronos.runs WHERE task_name = 'two failing runs'}), '2',
	'its failed runs counted towards max_runs');

# --- end_time ---------------------------------------------------------------------------------------------------------

# Slots at start + 0, 2, 4 s are before end_time (start + 5 s); the slot at start + 6 s is after it.
scalar_query(q{
	INSERT INTO chronos.tasks (name, schedule, command, start_time, end_time)
	SELECT 'until end time', '@every 2s', 'SELECT 1', t, t + interval '5 s' FROM (SELECT now() AS t) n});
ok(wait_for($node, 'postgres', q{SELECT status = 'done' FROM chronos.tasks WHERE name = 'until end time'}),
	'a loop task with end_time ends done');
my ($task) = query_rows($node, 'postgres', q{
	SELECT count(r.*), bool_and(r.scheduled_for <= t.end_time), max(r.scheduled_for) > t.end_time - interval '2 s',
	       t.next_exec_time IS NULL
	  FROM chronos.tasks t JOIN chronos.runs r ON r.task_id = t.id
	 WHERE t.name = 'until end time' GROUP BY t.id});
$task //= [];
cmp_ok($task->[0] // 0, '>=', 1, "it ran ($task->[0] runs) before it ended");
is($task->[1], 't', 'every run served a slot at or before end_time');
is($task->[2], 't', 'it ran its last slot before end_time: it ended because the next slot was after end_time');
is($task->[3], 't', 'a task ended by end_time has no next run');
is(scalar_query(q{SELECT count(*) FROM chronos.runs r JOIN chronos.tasks t ON t.id = r.task_id
                   WHERE t.name = 'until end time' AND r.started_at > t.end_time + interval '1 s'}),
	'0', 'nothing ran after end_time');

# end_time may not come before the next run.
my ($ret, $out, $err) = $node->psql('postgres', q{
	INSERT INTO chronos.tasks (name, schedule, command, start_time, end_time)
	VALUES ('ended before it starts', '@every 1s', 'SELECT 1', now() + interval '1 hour', now())});
isnt($ret, 0, 'a loop task whose end_time is before its first run is refused');
like($err, qr/end_time is before the task's next run/, 'with an error saying so');

$node->stop;
done_testing();
