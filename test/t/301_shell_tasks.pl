# Shell tasks: /bin/sh -c command as the server's OS user, in chronos.shell_directory, with a minimal environment
# (PATH, HOME, LANG and CHRONOS_*) and the payload on standard input. Exit status 0 succeeds; otherwise the run fails
# with "exit status N" or "killed by signal S". Output and errors, interleaved, go to the result, bounded. A timeout
# ends the whole process group, and nothing the command started survives its run.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ChronosTest;

my $dir = PostgreSQL::Test::Utils::tempdir();
my $node = start_chronos_node('shell', 'chronos.max_workers = 4', "chronos.shell_directory = '$dir'");
create_chronos_db($node, 'postgres');
$ENV{CHRONOS_LEAK_CHECK} = 'the server environment';

$node->safe_psql('postgres', q{
	INSERT INTO chronos.tasks (name, kind, command, payload, timeout) VALUES
	('environment', 'shell', 'env | grep -v ^PWD= | sort', NULL, NULL),
	('input', 'shell', 'cat; echo; pwd', '{"a": 1}', NULL),
	('exit 3', 'shell', 'echo out; echo err >&2; exit 3', NULL, NULL),
	('killed', 'shell', 'kill -KILL $$', NULL, NULL),
	('flood', 'shell', 'head -c 1000000000 /dev/zero; echo end', NULL, '60 s'),
	('tree', 'shell', '(sleep 1001 &) ; sleep 1002 & sleep 1003', NULL, '1 s'),
	('trap', 'shell', 'trap "" TERM; sleep 1004', NULL, '1 s');
});
ok(wait_for($node, 'postgres', "SELECT count(*) = 7 FROM chronos.tasks WHERE status IN ('done', 'failed')", 90),
	'every shell task ran to its end');
my %run;
for my $row (query_rows($node, 'postgres', q{
	SELECT t.name, r.status, coalesce(r.error, ''), replace(coalesce(r.result, ''), E'\n', ' '), t.id, r.run_id,
	       r.scheduled_for, extract(epoch FROM r.finished_at - r.started_at)
	  FROM chronos.runs r JOIN chronos.tasks t ON t.id = r.task_id}))
{
	$run{ $row->[0] } = { status => $row->[1], error => $row->[2], result => $row->[3], task_id => $row->[4],
		run_id => $row->[5], scheduled_for => $row->[6], seconds => $row->[7] };
}

my $env = $run{environment};
is($env->{status}, 'succeeded', 'exit status 0 succeeds');
my ($home) = $env->{result} =~ /HOME=(\S+)/;
like($env->{result},
	qr/^CHRONOS_RUN_ID=$env->{run_id} CHRONOS_SCHEDULED_FOR=\S+Z CHRONOS_TASK=environment CHRONOS_TASK_ID=$env->{task_id} HOME=\S+ LANG=\S+ PATH=\/usr\/local\/bin:\/usr\/bin:\/bin $/,
	'the environment is PATH, HOME, LANG and the CHRONOS_* variables, nothing else');
unlike($env->{result}, qr/CHRONOS_LEAK_CHECK|PGDATA|PGPORT/, 'nothing of the server environment');
is($run{input}{result}, qq{{"a": 1} $dir }, 'the payload is the standard input, in chronos.shell_directory');
is($run{'exit 3'}{status}, 'failed', 'a non-zero exit status fails');
is($run{'exit 3'}{error}, '58000: exit status 3', 'the error is the exit status');
is($run{'exit 3'}{result}, 'out err ', 'output and errors are both kept');
is($run{killed}{error}, '58000: killed by signal 9 (Killed)', 'a signal is named');
is($run{flood}{status}, 'succeeded', 'a command writing 1 GB succeeds');
like($run{flood}{result}, qr/\.\.\. \[\d+ more bytes\]$/, 'with its output cut at chronos.max_result_size');
cmp_ok(length($run{flood}{result}), '<', 1200, 'only the start is kept');
is($run{tree}{status}, 'timed_out', 'a command past its timeout times out');
cmp_ok($run{tree}{seconds}, '<', 4, 'at its timeout');
is($run{trap}{status}, 'timed_out', 'a command that ignores TERM times out too');
cmp_ok($run{trap}{seconds}, '<', 6, 'killed after the grace period');
ok(ChronosTest::poll_until(sub { `ps -eo args` !~ /^sleep 100[1-4]/m }, 10), 'no process of those commands survives');
my @executors = split /\n/, $node->safe_psql('postgres',
	"SELECT pid FROM pg_stat_activity WHERE $IS_CHRONOS_PROCESS");
my $zombies = join('', map { `ps -o stat= --ppid $_ | grep ^Z` } @executors);
is($zombies, '', 'and no zombie is left to the executors, which reap what the commands leave');

# A task deleted while its command runs: the command is stopped (nothing could cancel it by name any more, and without
# a timeout it would run on), and its run is recorded as cancelled.
$node->safe_psql('postgres', q{INSERT INTO chronos.tasks (name, type, kind, command)
	VALUES ('deleted while running', 'once', 'shell', 'sleep 1005')});
ok(wait_for($node, 'postgres', "SELECT EXISTS (SELECT FROM chronos.running WHERE task_name = 'deleted while running')")
	  && ChronosTest::poll_until(sub { `ps -eo args` =~ /^sleep 1005/m }, 10), 'a command without timeout runs');
$node->safe_psql('postgres', q{DELETE FROM chronos.tasks WHERE name = 'deleted while running'});
ok(ChronosTest::poll_until(sub { `ps -eo args` !~ /^sleep 1005/m }, 10), 'deleting its task stops the command');
ok(wait_for($node, 'postgres', q{SELECT status = 'cancelled' AND error = '57014: run stopped: its task was deleted'
	FROM chronos.runs WHERE task_name = 'deleted while running'}), 'and its run is recorded as cancelled, saying why');

unlike(slurp_file($node->logfile), qr/terminated by signal|PANIC|server process .* was terminated/,
	'no process crashed');
done_testing();
