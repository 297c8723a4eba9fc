# What a crash or an immediate stop does to http requests and shell commands in flight: after the restart each is
# recorded 'interrupted' exactly once, and runs again only as a retry of a task with retries left (an http request
# with the same Idempotency-Key); a task without retries left fails and nothing is re-sent. Shell commands do not
# outlive their worker. Meanwhile SQL tasks keep their schedule: a worker with runs in flight leaves them to others.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ChronosTest;

my ($port, $log) = start_http_server();
my $base = "http://127.0.0.1:$port";
my $dir = PostgreSQL::Test::Utils::tempdir();
my $node = start_chronos_node('cut', 'chronos.max_workers = 4');
create_chronos_db($node, 'postgres');
$node->safe_psql('postgres', qq{
	CREATE TABLE hits (task text, at timestamptz DEFAULT clock_timestamp());
	INSERT INTO chronos.tasks (name, schedule, command) VALUES ('canary', '\@every 1s', 'INSERT INTO hits VALUES (''canary'')');
	INSERT INTO chronos.tasks (name, kind, command) VALUES ('no retries', 'http', '$base/slow?ms=4000&no-retries');
	INSERT INTO chronos.tasks (name, kind, command, max_retries) VALUES ('one retry', 'http', '$base/slow?ms=4000&retry', 1);
	INSERT INTO chronos.tasks (name, kind, command) VALUES ('shell', 'shell', 'echo started > $dir/started; sleep 1007');
});
ok(ChronosTest::poll_until(sub { grep({ $_->{path} =~ /retr/ } http_requests($log)) == 2 && -e "$dir/started" }, 30),
	'both requests and the shell command are in flight');
ok(wait_for_new_hit($node, 'postgres', 'canary'), 'SQL tasks run beside runs in flight');
is($node->safe_psql('postgres', q{SELECT string_agg(task_name || ':' || (pid > 0) || ':' || (elapsed > '0'), ' '
	ORDER BY task_name) FROM chronos.running WHERE task_name <> 'canary'}),
	'no retries:true:true one retry:true:true shell:true:true', 'chronos.running lists the runs in flight');

$node->stop('immediate');
ok(ChronosTest::poll_until(sub { `ps -eo args` !~ /^sleep 1007/m }, 10),
	'the shell command did not outlive its worker');
$node->start;

ok(wait_for($node, 'postgres', q{SELECT count(*) = 3 FROM chronos.runs WHERE status = 'interrupted'}),
	'the three runs are recorded as interrupted');
ok(wait_for($node, 'postgres', q{SELECT status = 'done' FROM chronos.tasks WHERE name = 'one retry'}),
	'the task with a retry left ran again, and succeeded');
my @rows = query_rows($node, 'postgres', q{
	SELECT task_name, string_agg(status::text || ':' || attempt, ' ' ORDER BY run_id) FROM chronos.runs
	 WHERE task_name <> 'canary' GROUP BY 1 ORDER BY 1});
is_deeply(\@rows, [ [ 'no retries', 'interrupted:1' ], [ 'one retry', 'interrupted:1 succeeded:2' ],
	[ 'shell', 'interrupted:1' ] ], 'each run is recorded once; only the retry ran again');
is($node->safe_psql('postgres', q{SELECT string_agg(name || ':' || status, ' ' ORDER BY name) FROM chronos.tasks
	WHERE name IN ('no retries', 'shell')}), 'no retries:failed shell:failed', 'tasks without retries left fail');
sleep 2;
my @requests = http_requests($log);
is(scalar(grep { $_->{path} =~ /no-retries/ } @requests), 1, 'a request without retries left is not re-sent');
my @retried = grep { $_->{path} =~ /retry$/ } @requests;
is(scalar @retried, 2, 'a request with a retry left is re-sent once');
is($retried[0]{headers}{'Idempotency-Key'}, $retried[1]{headers}{'Idempotency-Key'},
	'with the same Idempotency-Key');
ok(wait_for_new_hit($node, 'postgres', 'canary'), 'the canary runs after the restart');
done_testing();
