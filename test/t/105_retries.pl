# Retries: a failed or timed-out run is retried up to max_retries times, retry number n waiting retry_delay·2^(n-1)
# (±10 %, capped at max(retry_delay, 1 hour)); every attempt is its own chronos.runs row numbered 1, 2, 3…, and the task's
# attempt column holds the number of the next one. A once task whose retries all failed ends failed; a loop task goes
# back to its schedule, and skips a retry that would not come before its next regular slot.
# Long delays are checked on next_exec_time (exact, no waiting), and the retry is then brought forward by setting
# next_exec_time, as users may; short delays are checked on the runs themselves.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ChronosTest;

my $node = start_chronos_node('retries', 'chronos.max_workers = 2');
create_chronos_db($node, 'postgres');
$node->safe_psql('postgres', 'CREATE SEQUENCE tries');

sub scalar_query { return $node->safe_psql('postgres', $_[0]); }

sub run_count
{
	my ($name) = @_;
	return scalar_query("SELECT count(*) FROM chronos.runs WHERE task_name = '$name'");
}

# Waits until task $name has $runs finished runs and is waiting for its next one, then checks that the next one is
# attempt $attempt, due between $min and $max seconds after the last run finished.
sub check_pending_retry
{
	my ($name, $runs, $attempt, $min, $max) = @_;
	ok(wait_for($node, 'postgres', qq{
			SELECT count(*) = $runs AND bool_and(status <> 'running')
			       AND (SELECT status = 'scheduled' FROM chronos.tasks WHERE name = '$name')
			  FROM chronos.runs WHERE task_name = '$name'}),
		"task $name has had $runs run(s) and is scheduled again");
	my ($task) = query_rows($node, 'postgres', qq{
		SELECT t.attempt, extract(epoch FROM t.next_exec_time - r.finished_at)
		  FROM chronos.tasks t, LATERAL (SELECT finished_at FROM chronos.runs WHERE task_id = t.id
		                                  ORDER BY run_id DESC LIMIT 1) r
		 WHERE t.name = '$name'});
	$task //= [];
	is($task->[0], $attempt, "after $runs failed run(s) of $name, the task's attempt column says attempt $attempt is next");
	ok(defined $task->[1] && $task->[1] >= $min && $task->[1] <= $max,
		"attempt $attempt of $name is due $min-$max s after the previous one ended (" . ($task->[1] // '?') . ' s)');
	return;
}

sub bring_forward
{
	my ($name) = @_;
	scalar_query("UPDATE chronos.tasks SET next_exec_time = now() WHERE name = '$name'");
	return;
}

# --- exponential backoff ----------------------------------------------------------------------------------------------

scalar_query(q{
	INSERT INTO chronos.tasks (name, command, max_retries, retry_delay)
	VALUES ('backoff', 'SELECT 1/0', 3, '10 minutes')});
check_pending_retry('backoff', 1, 2, 540, 660);
bring_forward('backoff');
check_pending_retry('backoff', 2, 3, 1080, 1320);
bring_forward('backoff');
check_pending_retry('backoff', 3, 4, 2160, 2640);
bring_forward('backoff');
ok(wait_for($node, 'postgres', q{SELECT status = 'failed' FROM chronos.tasks WHERE name = 'backoff'}),
	'a once task whose retries all failed ends failed');
is(scalar_query(q{SELECT string_agg(attempt || ':' || status, ',' ORDER BY run_id) FROM chronos.runs WHERE task_name = 'backoff'}),
	'1:failed,2:failed,3:failed,4:failed', 'each attempt of a failing task is its own run, numbered 1 to max_retries + 1');
is(scalar_query(q{SELECT next_exec_time IS NULL FROM chronos.tasks WHERE name = 'backoff'}), 't',
	'a once task that ended failed has no next run');

# --- jitter -----------------------------------------------------------------------------------------------------------

scalar_query(q{
	INSERT INTO chronos.tasks (name, command, max_retries, retry_delay)
	SELECT 'jittered ' || i, 'SELECT 1/0', 1, '10 minutes' FROM generate_series(1, 5) i});
ok(wait_for($node, 'postgres', q{SELECT count(*) = 5 FROM chronos.tasks WHERE name LIKE 'jittered %' AND attempt = 2}),
	'five tasks with the same retry_delay failed and wait for their retry');
my ($jitter) = query_rows($node, 'postgres', q{
	SELECT count(DISTINCT d), min(d) >= 540 AND max(d) <= 660
	  FROM (SELECT extract(epoch FROM t.next_exec_time - r.finished_at) AS d
	          FROM chronos.tasks t JOIN chronos.runs r ON r.task_id = t.id WHERE t.name LIKE 'jittered %') j});
$jitter //= [];
is($jitter->[0], '5', 'their retries are jittered: five different delays');
is($jitter->[1], 't', 'each within 10 % of retry_delay');

# --- the cap ----------------------------------------------------------------------------------------------------------

scalar_query(q{
	INSERT INTO chronos.tasks (name, command, max_retries, retry_delay)
	VALUES ('capped', 'SELECT 1/0', 2, '40 minutes'), ('long delay', 'SELECT 1/0', 2, '2 hours')});
check_pending_retry('capped', 1, 2, 2160, 2640);
bring_forward('capped');
check_pending_retry('capped', 2, 3, 3240, 3960);    # 80 minutes, capped at one hour
check_pending_retry('long delay', 1, 2, 6480, 7920);
bring_forward('long delay');
check_pending_retry('long delay', 2, 3, 6480, 7920);    # 4 hours, capped at retry_delay itself

# --- retries that end in success, in real time ------------------------------------------------------------------------

# Fails while the sequence is below 3: attempts 1 and 2 fail, attempt 3 succeeds.
scalar_query(q{
	INSERT INTO chronos.tasks (name, command, max_retries, retry_delay)
	VALUES ('third time lucky', $$SELECT 1 / (CASE WHEN nextval('tries') < 3 THEN 0 ELSE 1 END)$$, 5, '1 s')});
ok(wait_for($node, 'postgres', q{SELECT status = 'done' FROM chronos.tasks WHERE name = 'third time lucky'}),
	'a once task whose retry succeeds ends done');
my @runs = query_rows($node, 'postgres', q{
	SELECT attempt, status, extract(epoch FROM started_at - lag(finished_at) OVER (ORDER BY run_id))
	  FROM chronos.runs WHERE task_name = 'third time lucky' ORDER BY run_id});
is(join(',', map { "$_->[0]:$_->[1]" } @runs), '1:failed,2:failed,3:succeeded',
	'the failed attempts and the successful retry are recorded, and nothing runs after the success');
my ($wait2, $wait3) = map { $_->[2] } @runs[ 1, 2 ];
ok(defined $wait2 && $wait2 >= 0.9 && $wait2 < 30, 'the first retry waited about retry_delay (' . ($wait2 // '?') . ' s)');
ok(defined $wait3 && $wait3 >= 1.8 && $wait3 < 30,
	'the second retry waited about twice retry_delay (' . ($wait3 // '?') . ' s)');
is(scalar_query(q{SELECT concat_ws(',', attempt, failure_count, last_status) FROM chronos.tasks WHERE name = 'third time lucky'}),
	'1,0,succeeded', 'after a successful retry the next attempt is 1 again and no failure is counted');

# --- timed-out runs are retried ---------------------------------------------------------------------------------------

scalar_query(q{
	INSERT INTO chronos.tasks (name, command, timeout, max_retries, retry_delay)
	VALUES ('slow every time', 'SELECT pg_sleep(30)', '500 ms', 1, '1 s')});
ok(wait_for($node, 'postgres', q{SELECT status = 'failed' FROM chronos.tasks WHERE name = 'slow every time'}),
	'a once task timing out on every attempt ends failed');
is(scalar_query(q{SELECT string_agg(attempt || ':' || status, ',' ORDER BY run_id) FROM chronos.runs WHERE task_name = 'slow every time'}),
	'1:timed_out,2:timed_out', 'a timed-out run is retried');

# --- loop tasks -------------------------------------------------------------------------------------------------------

scalar_query(q{
	INSERT INTO chronos.tasks (name, schedule, command, max_retries, retry_delay)
	VALUES ('hourly retried', '@every 1 hour', 'SELECT 1/0', 1, '1 s')});
ok(wait_for($node, 'postgres', q{
		SELECT count(*) = 2 AND bool_and(status = 'failed') FROM chronos.runs WHERE task_name = 'hourly retried'}),
	'a failing loop task is retried before its next slot');
ok(wait_for($node, 'postgres', q{SELECT status = 'scheduled' AND attempt = 1 FROM chronos.tasks WHERE name = 'hourly retried'}),
	'once its retries failed, a loop task is scheduled again, with attempt 1 next');
is(scalar_query(q{SELECT string_agg(attempt::text, ',' ORDER BY run_id) FROM chronos.runs WHERE task_name = 'hourly retried'}),
	'1,2', 'the loop task ran attempts 1 and 2 of its slot');
is(scalar_query(q{
	SELECT next_exec_time > now() + interval '50 minutes' AND failure_count = 1
	  FROM chronos.tasks WHERE name = 'hourly retried'}),
	't', 'after a failed slot a loop task waits for its next regular slot and counts one failure');

scalar_query(q{
	INSERT INTO chronos.tasks (name, schedule, command, max_retries, retry_delay)
	VALUES ('retry too late', '@every 3s', 'SELECT 1/0', 3, '1 hour')});
ok(wait_for($node, 'postgres', q{
		SELECT count(*) >= 2 AND bool_and(status <> 'running') FROM chronos.runs WHERE task_name = 'retry too late'}),
	'a failing loop task whose retry would come after its next slot keeps running on its schedule');
scalar_query(q{SELECT chronos.pause('retry too late')});
is(scalar_query(q{SELECT string_agg(DISTINCT attempt::text, ',') FROM chronos.runs WHERE task_name = 'retry too late'}),
	'1', 'a retry that would land after the next regular slot is skipped: every run is a first attempt');
is(scalar_query(q{SELECT attempt FROM chronos.tasks WHERE name = 'retry too late'}), '1',
	'the task keeps attempt 1 when its retry is skipped');

$node->stop;
done_testing();
