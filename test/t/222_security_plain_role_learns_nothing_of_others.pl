# A plain role with the documented grants learns nothing of another role's runs, and cannot start or stop them: it reads
# chronos.running_tasks(), chronos.running and pg_stat_activity while the other role's task runs, and calls run_now()
# and cancel() with the other task's name.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ChronosTest;

my $node = start_chronos_node('learns_nothing', 'chronos.max_workers = 2');
create_chronos_db($node, 'postgres');

sub su { return $node->safe_psql('postgres', $_[0]); }
sub as_role { my ($role, $sql) = @_; return $node->safe_psql('postgres', "SET ROLE $role; $sql"); }

grant_task_rights($node, 'postgres', $_) for qw(mallory victim);
as_role('victim', q{INSERT INTO chronos.tasks (name, command)
	VALUES ('secret', 'SELECT pg_sleep(6), ''password=hunter2''')});
ok(wait_for($node, 'postgres', q{SELECT EXISTS (SELECT FROM chronos.running_tasks())}), 'the victim task runs');

my $victim_id = su(q{SELECT id FROM chronos.tasks WHERE name = 'secret'});
is(as_role('mallory', qq{SELECT count(*) FROM chronos.running_tasks() WHERE task_id = $victim_id}), '0',
	'chronos.running_tasks() does not show another role\'s run');
is(as_role('victim', qq{SELECT count(*) FROM chronos.running_tasks() WHERE task_id = $victim_id}), '1',
	'chronos.running_tasks() shows the owner its own run');
is(su(qq{SELECT count(*) FROM chronos.running_tasks() WHERE task_id = $victim_id}), '1',
	'chronos.running_tasks() shows a superuser every run');
is(as_role('mallory', q{SELECT count(*) FROM chronos.running}), '0', 'chronos.running shows no other role\'s run');
my $seen = as_role('mallory', q{SELECT coalesce(string_agg(query, ' '), '') FROM pg_stat_activity
	WHERE backend_type = 'pg_chronos worker'});
unlike($seen, qr/hunter2/, 'pg_stat_activity does not show another role\'s command');

my ($rc, $out, $err) = $node->psql('postgres', q{SET ROLE mallory; SELECT chronos.cancel('secret')});
isnt($out, 't', 'cancel() of another role\'s task does nothing');
($rc, $out, $err) = $node->psql('postgres', q{SET ROLE mallory; SELECT chronos.run_now('secret')});
diag("run_now by mallory: rc=$rc out=$out err=$err");

ok(wait_for_finished_run($node, 'postgres', 'secret'), 'the victim run ends');
is(su(q{SELECT status FROM chronos.runs WHERE task_name = 'secret' ORDER BY run_id LIMIT 1}), 'succeeded',
	'the victim run was not cancelled');
is(su(q{SELECT run_requested FROM chronos.tasks WHERE name = 'secret'}), 'f', 'no run of the victim task was requested');

$node->stop;
done_testing();
