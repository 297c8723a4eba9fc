# Catch-up of a loop task's slots missed while the server was down: 'skip' runs none of them and goes on with the
# first future slot, 'once' runs once for the latest due slot, 'all' runs every missed slot once, in order, at most
# chronos.max_catch_up of them (the latest ones). Each policy is checked on an '@every 2s' task across a 10-second stop,
# 'all' on a '*/2 * * * * *' cron task too.
#
# Terms used below, all read from chronos.runs on the server's clock: the restart is pg_postmaster_start_time(); the last
# slot served before the stop is the latest scheduled_for of a run started before the restart; the missed slots are the
# slots after it and before the restart; the first run after the restart is the one that took the task up again, and
# the slots due by then (scheduled_for <= its started_at) are the ones caught up.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);
use ChronosTest;

my $period = 2;      # seconds between slots
my $downtime = 10;    # seconds the server stays down: at least 4 missed slots

my $node = start_chronos_node('catch_up', 'chronos.max_workers = 4');
create_chronos_db($node, 'postgres');

sub scalar_query { return $node->safe_psql('postgres', $_[0]); }

# Creates tasks from (name => catch_up policy) pairs and waits until each has run twice. The schedule is
# '@every 2s', or '*/2 * * * * *' for a policy written 'all, cron'.
sub create_tasks
{
	my (@pairs) = @_;
	my @names;
	while (my ($name, $policy) = splice(@pairs, 0, 2))
	{
		my $schedule = $policy =~ s/, cron$// ? "*/$period * * * * *" : "\@every ${period}s";
		scalar_query(qq{
			INSERT INTO chronos.tasks (name, schedule, command, catch_up)
			VALUES ('$name', '$schedule', 'SELECT 1', '$policy')});
		push @names, $name;
	}
	for my $name (@names)
	{
		ok(wait_for($node, 'postgres', "SELECT count(*) >= 2 FROM chronos.runs WHERE task_name = '$name'"),
			"task $name runs on its schedule before the stop");
	}
	return;
}

sub stop_for_a_while
{
	$node->stop('fast');
	my $until = Time::HiRes::time() + $downtime;
	usleep(50_000) while Time::HiRes::time() < $until;
	$node->start;
	return;
}

# Waits until task $name runs a regular slot after its catch-up, then pauses it and returns what its runs show:
# missed            slots missed while the server was down
# ran_missed        runs serving a missed slot
# caught_up         runs after the restart serving a slot that was due when the task was taken up again
# first_lateness    seconds between the first run after the restart and the slot it served
# first_gap_slots   slots between the last one served before the stop and the first one served after it
# steps             the distinct steps between the slots of successive runs, in seconds, over the task's whole history
# steps_after       the same, over the runs after the restart
sub runs_around_restart
{
	my ($name) = @_;
	my $after_restart = "task_name = '$name' AND started_at >= pg_postmaster_start_time()";
	ok(wait_for($node, 'postgres', qq{
			SELECT EXISTS (SELECT FROM chronos.runs
			                WHERE $after_restart
			                  AND scheduled_for > (SELECT min(started_at) FROM chronos.runs WHERE $after_restart))}),
		"task $name is back on its regular schedule after the restart");
	scalar_query("SELECT chronos.pause('$name')");
	my ($facts) = query_rows($node, 'postgres', qq{
		WITH last_before AS (SELECT max(scheduled_for) AS slot FROM chronos.runs
		                      WHERE task_name = '$name' AND started_at < pg_postmaster_start_time()),
		     first_after AS (SELECT scheduled_for, started_at FROM chronos.runs WHERE $after_restart
		                      ORDER BY run_id LIMIT 1),
		     steps AS (SELECT extract(epoch FROM scheduled_for - lag(scheduled_for) OVER (ORDER BY run_id)) AS step
		                 FROM chronos.runs WHERE task_name = '$name'),
		     steps_after AS (SELECT extract(epoch FROM scheduled_for - lag(scheduled_for) OVER (ORDER BY run_id)) AS step
		                       FROM chronos.runs WHERE $after_restart)
		SELECT (SELECT count(*) FROM generate_series(l.slot + interval '$period s', pg_postmaster_start_time(),
		                                             interval '$period s') s
		         WHERE s < pg_postmaster_start_time()),
		       (SELECT count(*) FROM chronos.runs WHERE task_name = '$name'
		           AND scheduled_for > l.slot AND scheduled_for < pg_postmaster_start_time()),
		       (SELECT count(*) FROM chronos.runs WHERE $after_restart AND scheduled_for <= f.started_at),
		       extract(epoch FROM f.started_at - f.scheduled_for),
		       round(extract(epoch FROM f.scheduled_for - l.slot) / $period, 3),
		       (SELECT string_agg(DISTINCT round(step, 3)::text, ',') FROM steps WHERE step IS NOT NULL),
		       (SELECT string_agg(DISTINCT round(step, 3)::text, ',') FROM steps_after WHERE step IS NOT NULL)
		  FROM last_before l, first_after f});
	$facts //= [];
	my %facts;
	@facts{qw(missed ran_missed caught_up first_lateness first_gap_slots steps steps_after)} = @$facts;
	cmp_ok($facts{missed} // 0, '>=', 4, "task $name missed at least 4 slots while the server was down");
	return \%facts;
}

# --- skip, once, all --------------------------------------------------------------------------------------------------

create_tasks('catch up skip' => 'skip', 'catch up once' => 'once', 'catch up all' => 'all',
	'catch up all, cron' => 'all, cron');
stop_for_a_while();

my $skip = runs_around_restart('catch up skip');
is($skip->{ran_missed}, '0', "catch_up 'skip': no run serves a slot missed while the server was down");
ok(defined $skip->{first_lateness} && $skip->{first_lateness} >= 0 && $skip->{first_lateness} < $period,
	"catch_up 'skip': the first run after the restart serves a slot that came after the task was taken up again "
	  . '(it started ' . ($skip->{first_lateness} // '?') . ' s after its slot)');
is($skip->{caught_up}, '1', "catch_up 'skip': only that run served a slot due when the task was taken up again");
is($skip->{steps_after}, "$period.000", "catch_up 'skip': after the restart, every slot runs once, in order");
ok(($skip->{first_gap_slots} // 0) > $skip->{missed},
	"catch_up 'skip': the schedule resumed at the first slot after the restart ($skip->{first_gap_slots} slots later)");

my $once = runs_around_restart('catch up once');
is($once->{caught_up}, '1', "catch_up 'once': exactly one run catches up");
ok(defined $once->{first_lateness} && $once->{first_lateness} >= 0 && $once->{first_lateness} < $period,
	"catch_up 'once': the catch-up run serves the latest due slot (it started "
	  . ($once->{first_lateness} // '?') . ' s after it)');
ok($once->{ran_missed} <= 1, "catch_up 'once': at most that one run serves a slot missed while the server was down");
ok(($once->{first_gap_slots} // 0) >= $once->{missed},
	"catch_up 'once': the older missed slots did not run (the first run after the restart is "
	  . ($once->{first_gap_slots} // '?') . ' slots after the last one before the stop)');
is($once->{steps_after}, "$period.000", "catch_up 'once': after the catch-up run, the regular schedule follows, slot by slot");

my $all = runs_around_restart('catch up all');
is($all->{ran_missed}, $all->{missed}, "catch_up 'all': every slot missed while the server was down ran");
is($all->{first_gap_slots}, '1.000', "catch_up 'all': the catch-up starts with the oldest missed slot");
is($all->{steps}, "$period.000",
	"catch_up 'all': every slot ran exactly once and in order, through the downtime (no gap, no repeat)");
cmp_ok($all->{caught_up}, '>=', $all->{missed}, "catch_up 'all': the missed slots ran as soon as the server was back");

my $cron = runs_around_restart('catch up all, cron');
is($cron->{ran_missed}, $cron->{missed}, "catch_up 'all' on a cron schedule: every missed slot ran");
is($cron->{steps}, "$period.000", "catch_up 'all' on a cron schedule: every slot ran exactly once and in order");

# --- chronos.max_catch_up ---------------------------------------------------------------------------------------------

scalar_query(q{ALTER SYSTEM SET chronos.max_catch_up = 3});
create_tasks('catch up all, at most 3' => 'all');
stop_for_a_while();

my $capped = runs_around_restart('catch up all, at most 3');
is(scalar_query(q{SHOW chronos.max_catch_up}), '3', 'chronos.max_catch_up is 3 after the restart');
is($capped->{caught_up}, '3', "catch_up 'all' with chronos.max_catch_up 3: exactly 3 runs catch up");
ok(defined $capped->{first_lateness} && $capped->{first_lateness} >= 2 * $period && $capped->{first_lateness} < 3 * $period,
	'the 3 caught-up slots are the latest ones: the first of them is the third latest due slot (it started '
	  . ($capped->{first_lateness} // '?') . ' s after it)');
cmp_ok($capped->{first_gap_slots} // 0, '>', 1, 'the older missed slots did not run');
is($capped->{steps_after}, "$period.000", 'the caught-up slots and the regular ones after them each ran once, in order');

$node->stop;
done_testing();
