# How executors claim due tasks and record their runs: a task row another session holds is passed over (and run once
# released), tasks due together each run exactly once however many executors take them, and a command that changes
# or deletes its own task row leaves consistent bookkeeping.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(sleep);
use ChronosTest;

my $node = start_chronos_node('claims', 'chronos.max_workers = 4');
create_chronos_db($node, 'postgres');
$node->safe_psql('postgres', 'CREATE TABLE hits (task text, at timestamptz NOT NULL DEFAULT clock_timestamp())');

sub scalar_query { return $node->safe_psql('postgres', $_[0]); }

# --- a row held by another session is passed over ---------------------------------------------------------------------

scalar_query(q{INSERT INTO chronos.tasks (name, command, start_time)
               VALUES ('held', $$INSERT INTO hits (task) VALUES ('held')$$, now() + interval '1 s'),
                      ('free', $$INSERT INTO hits (task) VALUES ('free')$$, now() + interval '1 s')});
my $holder = $node->background_psql('postgres');
$holder->query_safe(q{BEGIN; SELECT id FROM chronos.tasks WHERE name = 'held' FOR UPDATE});

ok(wait_for($node, 'postgres', q{SELECT count(*) = 1 FROM hits WHERE task = 'free'}),
	'a due task runs while another due task is locked by a session');
my $commits = q{SELECT pg_stat_clear_snapshot(); SELECT xact_commit FROM pg_stat_database WHERE datname = 'postgres'};
my $before = (split /\n/, scalar_query($commits))[-1];
sleep(3);
my $during = (split /\n/, scalar_query($commits))[-1] - $before;
cmp_ok($during, '<', 1000, "the executors do not spin on the held task ($during commits in 3 s)");
is(scalar_query(q{SELECT count(*) FROM hits WHERE task = 'held'}), '0', 'the locked task does not run meanwhile');
is(scalar_query(q{SELECT status FROM chronos.tasks WHERE name = 'held'}), 'scheduled', 'it stays scheduled');
is(scalar_query(q{SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'}), '0',
	'no executor waits for its lock');

$holder->query_safe('COMMIT');
ok(wait_for($node, 'postgres', q{SELECT status = 'done' FROM chronos.tasks WHERE name = 'held'}),
	'the task runs once the session releases it');
is(scalar_query(q{SELECT count(*) FROM hits WHERE task = 'held'}), '1', 'and runs once');

# A session that moves a due task to the future while holding it: the executors see the new time.
scalar_query(q{INSERT INTO chronos.tasks (name, command, start_time)
               VALUES ('moved', $$INSERT INTO hits (task) VALUES ('moved')$$, now() + interval '1 s')});
$holder->query_safe(q{BEGIN; UPDATE chronos.tasks SET next_exec_time = now() + interval '1 hour' WHERE name = 'moved'});
sleep(2);
$holder->query_safe('COMMIT');
sleep(1);
is(scalar_query(q{SELECT count(*) FROM hits WHERE task = 'moved'}), '0',
	'a task moved to the future while it was due and held does not run');
is(scalar_query(q{SELECT status || ' ' || (next_exec_time > now() + interval '50 minutes') FROM chronos.tasks
                   WHERE name = 'moved'}), 'scheduled true', 'it keeps its new time');
$holder->quit;

# --- tasks due together run exactly once each -------------------------------------------------------------------------

scalar_query(q{INSERT INTO chronos.tasks (command, start_time)
               SELECT format($$INSERT INTO hits (task) VALUES ('burst %s')$$, g), now() + interval '2 s'
                 FROM generate_series(1, 500) g});
ok(wait_for($node, 'postgres', q{SELECT count(*) = 500 FROM hits WHERE task LIKE 'burst %'}),
	'500 tasks due together all run');
sleep(1);
is(scalar_query(q{SELECT count(DISTINCT task) || ' ' || count(*) FROM hits WHERE task LIKE 'burst %'}), '500 500',
	'each of them exactly once');
is(scalar_query(q{SELECT count(*) || ' ' || count(DISTINCT task_id) || ' ' || count(*) FILTER (WHERE status = 'succeeded')
                    FROM chronos.runs r WHERE task_name IS NULL}), '500 500 500',
	'with one succeeded run row each');
is(scalar_query(q{SELECT count(*) FROM chronos.tasks WHERE name IS NULL AND (status <> 'done' OR run_count <> 1)}), '0',
	'and every task done with run_count 1');
ok(scalar_query(q{SELECT count(DISTINCT pid) FROM chronos.runs WHERE task_name IS NULL}) >= 2,
	'more than one executor took part');

# --- a command that changes or deletes its own task row ---------------------------------------------------------------

scalar_query(q{INSERT INTO chronos.tasks (name, command, start_time)
               VALUES ('self', $$UPDATE chronos.tasks SET remark = 'touched by its own run' WHERE name = 'self'$$,
                       now() + interval '500 ms')});
ok(wait_for($node, 'postgres', q{SELECT status = 'done' FROM chronos.tasks WHERE name = 'self'}),
	'a task that updates its own row finishes');
is(scalar_query(q{SELECT concat_ws(',', remark, last_status, run_count) FROM chronos.tasks WHERE name = 'self'}),
	'touched by its own run,succeeded,1', 'its own change and the bookkeeping are both kept');

scalar_query(q{INSERT INTO chronos.tasks (name, command, start_time)
               VALUES ('gone', $$DELETE FROM chronos.tasks WHERE name = 'gone'$$, now() + interval '500 ms'),
                      ('after', $$INSERT INTO hits (task) VALUES ('after')$$, now() + interval '1 s')});
ok(wait_for($node, 'postgres', q{SELECT count(*) = 1 FROM hits WHERE task = 'after'}),
	'the executors go on after a task deleted itself');
is(scalar_query(q{SELECT count(*) FROM chronos.tasks WHERE name = 'gone'}), '0', 'the task that deleted itself is gone');
unlike(slurp_file($node->logfile), qr/ERROR:.*(pg_chronos|bookkeeping)/, 'no worker error was logged');

done_testing();
