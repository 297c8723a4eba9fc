# The workers' repeated warnings are rate-limited: a failing on_failure command is logged at most once a minute per
# database, the warning names the task and the database by name, and the next one logged says how many were held back.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ChronosTest;

my $node = start_chronos_node('rate_limited_warnings', 'chronos.max_workers = 1');
create_chronos_db($node, 'postgres');
my $offset = -s $node->logfile;

sub su { return $node->safe_psql('postgres', $_[0]); }

sub warnings_logged
{
	my @lines = slurp_file($node->logfile, $offset) =~ /WARNING:  pg_chronos: on_failure of task/g;
	return scalar @lines;
}

sub fail_with_bad_handler
{
	my ($name) = @_;
	su(qq{INSERT INTO chronos.tasks (name, command, on_failure) VALUES ('$name', 'SELECT 1/0', 'SELECT 2/0')});
	return ok(wait_for($node, 'postgres', "SELECT status = 'failed' FROM chronos.tasks WHERE name = '$name'"),
		"$name: the task fails");
}

fail_with_bad_handler('first');
ok(wait_for_log_line($node,
		qr/WARNING:  pg_chronos: on_failure of task "first" \(id \d+\) in database "postgres" failed: 22012: division by zero/,
		$offset, 60),
	'a failing on_failure is logged with the task and the database by name');
my $started = time;
fail_with_bad_handler('second');
fail_with_bad_handler('third');
# The failure runs of a marker show the worker is past the on_failure of 'third'.
su(q{INSERT INTO chronos.tasks (name, command) VALUES ('marker', 'SELECT 1/0')});
ok(wait_for_log_line($node, qr/of task "marker"/, $offset, 60), 'the marker run is logged');
SKIP:
{
	skip 'the machine took more than 50 s for three runs', 3 if time - $started > 50;
	is(warnings_logged(), 1, 'failures of on_failure within a minute in one database are logged once');

	sleep(61 - (time - $started)) if time - $started < 61;
	fail_with_bad_handler('fourth');
	ok(wait_for_log_line($node,
			qr/on_failure of task "fourth" [^\n]*\n[^\n]*DETAIL:  2 more failures of on_failure commands in this database were not logged in the last minute/,
			$offset, 60),
		'a minute later the next one is logged, saying how many were held back');
}

$node->stop;
done_testing();
