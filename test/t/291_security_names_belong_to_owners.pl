# Task names belong to their owner. A plain role that takes a name first gets nothing of a superuser's later task of
# that name: chronos.schedule() as the superuser makes the superuser's own task (it does not land in the plain role's
# row, so the plain role never reads the superuser's command, and the task runs as the superuser), and no error tells
# either role that the other uses the name. Every helper acts on the caller's own task of that name only.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ChronosTest;

my $node = start_chronos_node('names');
create_chronos_db($node, 'postgres');
grant_task_rights($node, 'postgres', 'mallory');
$node->safe_psql('postgres', q{
	GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA chronos TO mallory;
	CREATE TABLE hits (who text, at timestamptz DEFAULT clock_timestamp());
	GRANT INSERT ON hits TO mallory;
});
sub as_mallory { return $node->safe_psql('postgres', "SET ROLE mallory; $_[0]"); }
sub su { return $node->safe_psql('postgres', $_[0]); }

# The plain role takes the name first, with a task of its own.
as_mallory(q{SELECT chronos.schedule('nightly', '@every 1s', $$INSERT INTO hits VALUES ('mallory')$$)});
my $mallory_task = as_mallory(q{SELECT id FROM chronos.tasks WHERE name = 'nightly'});

# The superuser schedules its own 'nightly', with a secret in the command.
my $su_task = su(q{SELECT chronos.schedule('nightly', '@every 1s',
	$$INSERT INTO hits SELECT 'superuser' WHERE 'password=hunter2' IS NOT NULL$$)});
isnt($su_task, $mallory_task, 'the superuser\'s chronos.schedule() makes a task of its own');
is(su(qq{SELECT owner::text FROM chronos.tasks WHERE id = $su_task}), 'postgres', 'owned by the superuser');
is(as_mallory(q{SELECT string_agg(command, ' | ') FROM chronos.tasks}), q{INSERT INTO hits VALUES ('mallory')},
	'the plain role sees only its own task and command');
unlike(as_mallory(q{SELECT string_agg(coalesce(command, ''), '') FROM chronos.tasks}), qr/hunter2/,
	'the plain role never reads the superuser\'s secret');
ok(wait_for($node, 'postgres', q{SELECT count(DISTINCT who) = 2 FROM hits}), 'both tasks run, each as its owner');
is(su(q{SELECT string_agg(DISTINCT status::text, ',') FROM chronos.tasks}), 'scheduled', 'neither task is paused');

# Taking a name another role uses says nothing about it: the insert simply makes the caller's task.
su(q{INSERT INTO chronos.tasks (name, schedule, command) VALUES ('su only', '@daily', 'SELECT 1')});
my ($rc, $out, $err) = $node->psql('postgres',
	q{SET ROLE mallory; INSERT INTO chronos.tasks (name, schedule, command) VALUES ('su only', '@daily', 'SELECT 2')});
is($rc, 0, 'a name another role uses is free for this role (no 23505 reveals it)') or diag($err);
($rc, $out, $err) = $node->psql('postgres',
	q{SET ROLE mallory; INSERT INTO chronos.tasks (name, schedule, command) VALUES ('su only', '@daily', 'SELECT 3')});
like($err, qr/23505|duplicate key/, 'a name the role itself uses is taken');

# Every helper, called by the plain role, reaches only the plain role's task.
as_mallory(q{SELECT chronos.pause('nightly')});
is(su(qq{SELECT status FROM chronos.tasks WHERE id = $su_task}), 'scheduled', 'pause() leaves the superuser\'s task');
is(su(qq{SELECT status FROM chronos.tasks WHERE id = $mallory_task}), 'paused', 'pause() pauses the caller\'s');
as_mallory(q{SELECT chronos.resume('nightly'); SELECT chronos.run_now('nightly');
             SELECT chronos.schedule('nightly', '@every 2s', $$INSERT INTO hits VALUES ('mallory 2')$$);
             SELECT chronos.run_at('nightly-once', now() + interval '1 hour', 'SELECT 1')});
is(su(qq{SELECT command || ' ' || schedule || ' ' || run_requested FROM chronos.tasks WHERE id = $su_task}),
	q{INSERT INTO hits SELECT 'superuser' WHERE 'password=hunter2' IS NOT NULL @every 1s false},
	'resume, run_now and schedule by the plain role leave the superuser\'s task as it was');
is(as_mallory(q{SELECT count(*) FROM chronos.next_runs('nightly'::name, 3)}), '3',
	'next_runs() previews the caller\'s own task');
is(as_mallory(q{SELECT chronos.unschedule('su only')}), 't', 'unschedule() deletes the caller\'s task of that name');
is(su(q{SELECT count(*) FROM chronos.tasks WHERE name = 'su only'}), '1', 'and not the superuser\'s');
is(su(q{SELECT chronos.unschedule('nightly')}), 't', 'the superuser\'s unschedule() deletes its own');
is(su(qq{SELECT count(*) FROM chronos.tasks WHERE id = $mallory_task}), '1', 'and not the plain role\'s');

$node->stop;
done_testing();
