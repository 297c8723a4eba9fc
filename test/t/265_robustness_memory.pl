# A worker's memory stays bounded whatever a command returns: the rows of a transactional or autonomous run stream past
# a receiver that keeps only the first ones for the result text (chronos.max_result_size), so a 3,000,000-row SELECT and
# a single 100 MB value cost the worker no more than a small one. The test samples the workers' private memory while
# the runs go on.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);
use ChronosTest;

my $node = start_chronos_node('memory', 'chronos.max_workers = 1', 'work_mem = 4MB');
create_chronos_db($node, 'postgres');

sub su { return $node->safe_psql('postgres', $_[0]); }

# Largest private (anonymous) resident memory of the workers seen while $task runs, in kB.
sub peak_while_running
{
	my ($task) = @_;
	my $peak = 0;
	my $deadline = time() + 180;
	while (time() < $deadline)
	{
		my $pids = su(q{SELECT string_agg(pid::text, ' ') FROM pg_stat_activity WHERE backend_type = 'pg_chronos worker'});
		for my $pid (split / /, $pids // '')
		{
			open(my $fh, '<', "/proc/$pid/status") or next;
			while (my $line = <$fh>)
			{
				$peak = $1 if $line =~ /^RssAnon:\s+(\d+)/ && $1 > $peak;
			}
			close $fh;
		}
		last if su("SELECT count(*) FROM chronos.runs WHERE task_name = '$task' AND status <> 'running'") > 0;
		usleep(20_000);
	}
	return $peak;
}

su(q{INSERT INTO chronos.tasks (name, command) VALUES ('small', 'SELECT 1')});
my $baseline = peak_while_running('small');
diag("workers' private memory with a one-row result: $baseline kB");

my %commands = (
	'many rows'             => q{SELECT i, repeat('x', 100) FROM generate_series(1, 3000000) i},
	'many rows autonomous'  => q{CALL public.commit_now(); SELECT i, repeat('x', 100) FROM generate_series(1, 3000000) i},
	'one huge value'        => q{SELECT repeat('y', 100000000 + (random() * 0)::int)},
);
su(q{CREATE PROCEDURE public.commit_now() LANGUAGE plpgsql AS $$ BEGIN COMMIT; END $$});
for my $name (sort keys %commands)
{
	my $command = $commands{$name};
	$command =~ s/'/''/g;
	su(qq{INSERT INTO chronos.tasks (name, command) VALUES ('$name', '$command')});
	my $peak = peak_while_running($name);
	my ($run) = query_rows($node, 'postgres',
		"SELECT status, length(result), split_part(result, E'\\n', 1) FROM chronos.runs WHERE task_name = '$name'");
	$run //= [];
	is($run->[0], 'succeeded', "$name: the run succeeds");
	cmp_ok($run->[1] // 0, '<=', 1024 + 200, "$name: its result text is cut near chronos.max_result_size");
	diag("$name: result starts '$run->[2]', workers' peak private memory $peak kB");
	# Materialising 3,000,000 rows takes several hundred MB; a 100 MB value converted to text and appended takes 200 MB more.
	cmp_ok($peak, '<', $baseline + 150_000, "$name: the worker's memory stays bounded (peak $peak kB)");
}
is(su(q{SELECT split_part(result, E'\n', 1) FROM chronos.runs WHERE task_name = 'many rows'}), 'SELECT 3000000',
	'the result still counts every row');

$node->stop;
done_testing();
