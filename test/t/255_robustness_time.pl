# Catch-up of tasks far behind, on a real server: an every-second task 30 days behind runs its latest slot ('once') or
# its latest chronos.max_catch_up slots ('all') and then goes on second by second; tasks due in the year 2000 settle
# within seconds instead of running stale slots without end. The exact arithmetic is in test/unit (no sleeping there).
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);
use ChronosTest;

my $max_catch_up = 5;
my $node = start_chronos_node('robustness_time', 'chronos.max_workers = 4', "chronos.max_catch_up = $max_catch_up");
create_chronos_db($node, 'postgres');

sub query { return $node->safe_psql('postgres', $_[0]); }

# Inserts a task whose next_exec_time is $due (SQL), returning the server's clock at the insert.
sub insert_behind
{
	my ($name, $schedule, $catch_up, $due) = @_;
	return query(qq{
		INSERT INTO chronos.tasks (name, schedule, command, catch_up, next_exec_time)
		VALUES ('$name', '$schedule', 'SELECT 1', '$catch_up', $due);
		SELECT now()});
}

sub runs_of { my ($name, $what) = @_; return query("SELECT $what FROM chronos.runs WHERE task_name = '$name'"); }

# --- an every-second task 30 days behind --------------------------------------------------------------------------

my $once_at = insert_behind('behind once', '* * * * * *', 'once', q{date_trunc('second', now()) - interval '30 days'});
ok(wait_for($node, 'postgres', "SELECT count(*) >= 4 FROM chronos.runs WHERE task_name = 'behind once'"),
	"catch_up 'once': the task 30 days behind runs");
my ($first_once) = query_rows($node, 'postgres', qq{
	SELECT extract(epoch FROM '$once_at'::timestamptz - scheduled_for), extract(epoch FROM started_at - scheduled_for)
	  FROM chronos.runs WHERE task_name = 'behind once' ORDER BY run_id LIMIT 1});
cmp_ok($first_once->[0], '<=', 3,
	"catch_up 'once': the first run serves the latest slot ($first_once->[0] s before the insert), not an old one");
cmp_ok($first_once->[1], '<', 3, "catch_up 'once': it started $first_once->[1] s after that slot");
is(runs_of('behind once', q{count(*) FILTER (WHERE scheduled_for < timestamptz '} . $once_at . q{' - interval '3 s')}),
	'0', "catch_up 'once': no run serves a slot from the 30 days missed");
query("SELECT chronos.pause('behind once')");
is(query(q{SELECT min(step) >= interval '1 s' AND count(*) >= 3
	FROM (SELECT scheduled_for - lag(scheduled_for) OVER (ORDER BY run_id) AS step
	        FROM chronos.runs WHERE task_name = 'behind once') s WHERE step IS NOT NULL}),
	't', "catch_up 'once': after the catch-up run, the task goes on, each run serving a later second");

my $all_at = insert_behind('behind all', '* * * * * *', 'all', q{date_trunc('second', now()) - interval '30 days'});
ok(wait_for($node, 'postgres', "SELECT count(*) >= $max_catch_up + 3 FROM chronos.runs WHERE task_name = 'behind all'"),
	"catch_up 'all': the task 30 days behind runs");
query("SELECT chronos.pause('behind all')");
my ($first_all) = query_rows($node, 'postgres', qq{
	SELECT extract(epoch FROM '$all_at'::timestamptz - scheduled_for)
	  FROM chronos.runs WHERE task_name = 'behind all' ORDER BY run_id LIMIT 1});
cmp_ok($first_all->[0], '<=', $max_catch_up + 2,
	"catch_up 'all': the first run serves one of the latest $max_catch_up slots ($first_all->[0] s before the insert)");
cmp_ok($first_all->[0], '>=', $max_catch_up - 2,
	"catch_up 'all': it is not the latest slot alone: the latest slots all run");
is(query(qq{SELECT string_agg(DISTINCT round(extract(epoch FROM step), 3)::text, ',')
	FROM (SELECT scheduled_for - lag(scheduled_for) OVER (ORDER BY run_id) AS step
	        FROM chronos.runs WHERE task_name = 'behind all' ORDER BY run_id LIMIT $max_catch_up) s
	 WHERE step IS NOT NULL}),
	'1.000', "catch_up 'all': the caught-up slots ran once each, in order, second by second");

# --- tasks due in the year 2000 -------------------------------------------------------------------------------------

# An every-minute task with catch_up 'all' due in 2000: its latest chronos.max_catch_up minutes run, then it waits for
# the next minute. Before, each of its 13 million missed slots was a run.
insert_behind('due 2000 all', '* * * * *', 'all', q{'2000-01-01 00:00+00'});
ok(wait_for($node, 'postgres', "SELECT count(*) >= $max_catch_up FROM chronos.runs WHERE task_name = 'due 2000 all'"),
	"a task due in 2000 with catch_up 'all' runs its latest $max_catch_up slots");
usleep(3_000_000);
cmp_ok(runs_of('due 2000 all', 'count(*)'), '<=', $max_catch_up + 1,
	'and then stops: at most one more run, for a minute that began meanwhile');
is(runs_of('due 2000 all', q{count(*) FILTER (WHERE scheduled_for < now() - interval '7 minutes')}), '0',
	'none of its runs served a slot older than the latest few minutes');
is(query(q{SELECT next_exec_time > now() FROM chronos.tasks WHERE name = 'due 2000 all'}), 't',
	'its next run is in the future');

# An every-second task with catch_up 'once' due in 2000 settles at one run a second.
insert_behind('due 2000 once', '* * * * * *', 'once', q{'2000-01-01 00:00+00'});
ok(wait_for($node, 'postgres', "SELECT count(*) >= 2 FROM chronos.runs WHERE task_name = 'due 2000 once'"),
	"a task due in 2000 with catch_up 'once' runs");
my $before = runs_of('due 2000 once', 'count(*)');
usleep(5_000_000);
my $grown = runs_of('due 2000 once', 'count(*)') - $before;
cmp_ok($grown, '<=', 8, "it then runs once a second, as scheduled ($grown runs in 5 s)");
is(runs_of('due 2000 once', q{count(*) FILTER (WHERE scheduled_for < started_at - interval '3 s')}), '0',
	'every one of its runs served a slot of the last few seconds');

# With catch_up 'skip', a task due in 2000 runs no missed slot and waits for the next one.
insert_behind('due 2000 skip', '0 0 1 1 *', 'skip', q{'2000-01-01 00:00+00'});
ok(wait_for($node, 'postgres', q{SELECT next_exec_time > now() FROM chronos.tasks WHERE name = 'due 2000 skip'}),
	"a task due in 2000 with catch_up 'skip' moves to its next future slot");
is(runs_of('due 2000 skip', 'count(*)'), '0', 'without running a missed one');

$node->stop;
done_testing();
