# chronos.runs.result: the command tag and row count of the command's last statement, then its first rows as psql's
# unaligned format prints them ('SELECT 2\n1|a\n2|b'), cut at chronos.max_result_size bytes (default 1024, reloadable),
# in transactional and autonomous runs alike. The cluster is UTF-8, so that a cut inside a character would show.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ChronosTest;

my $node = start_chronos_node('results', { extra => [ '--encoding=UTF8', '--locale=C' ] }, 'chronos.max_workers = 2');
create_chronos_db($node, 'postgres');
$node->safe_psql('postgres', 'CREATE TABLE numbers (n int)');

sub scalar_query { return $node->safe_psql('postgres', $_[0]); }

my $tasks = 0;

# Runs $command as a once task (with more columns as "column => SQL value" pairs) and returns its run's result, as an
# SQL expression comparisons can use.
sub result_of
{
	my ($command, %columns) = @_;
	my $name = 'task ' . ++$tasks;
	my $columns = join('', map { ", $_" } sort keys %columns);
	my $values = join('', map { ", $columns{$_}" } sort keys %columns);
	scalar_query("INSERT INTO chronos.tasks (name, command$columns) VALUES ('$name', \$c\$$command\$c\$$values)");
	wait_for_finished_run($node, 'postgres', $name) or diag("task $name did not run");
	return "(SELECT result FROM chronos.runs WHERE task_name = '$name')";
}

sub is_result
{
	my ($command, $expected, $what, %columns) = @_;
	my $result = result_of($command, %columns);
	is(scalar_query("SELECT $result"), $expected, $what);
	return;
}

is_result(q{SELECT * FROM (VALUES (1, 'a'), (2, 'b')) v(n, s) ORDER BY n}, "SELECT 2\n1|a\n2|b",
	'the result of a query is its tag, row count and rows');
is_result(q{SELECT 1, NULL::text, 'x'}, "SELECT 1\n1||x", 'a NULL column is empty in the result');
is_result(q{INSERT INTO numbers SELECT generate_series(1, 3)}, 'INSERT 3', 'the result of an INSERT is its tag and row count');
is_result(q{UPDATE numbers SET n = n * 10 WHERE n > 1 RETURNING n}, "UPDATE 2\n20\n30",
	'a statement with RETURNING shows its rows');
is_result(q{INSERT INTO numbers VALUES (9); SELECT count(*) FROM numbers}, "SELECT 1\n4",
	'the result of several statements is that of the last one');
is_result(q{SELECT * FROM (VALUES (1, 'a'), (2, 'b')) v(n, s) ORDER BY n}, "SELECT 2\n1|a\n2|b",
	'an autonomous run has the same result', transactional => 'false');
is(scalar_query('SELECT ' . result_of('SELECT 1/0') . ' IS NULL'), 't', 'a failed run has no result');

# The full text of 'SELECT generate_series(1, 10000)', cut at $bytes bytes.
sub series_cut_at
{
	my ($bytes) = @_;
	return "(SELECT left('SELECT 10000' || string_agg(E'\\n' || i, '' ORDER BY i), $bytes) FROM generate_series(1, 10000) i)";
}

my $result = result_of('SELECT generate_series(1, 10000)');
is(scalar_query("SELECT octet_length($result)"), '1024', 'a long result is cut at 1024 bytes by default');
is(scalar_query("SELECT $result = " . series_cut_at(1024)), 't', 'the cut result is the beginning of the full text');

scalar_query(q{ALTER SYSTEM SET chronos.max_result_size = 20});
scalar_query(q{SELECT pg_reload_conf()});
ok(wait_for($node, 'postgres', q{SELECT current_setting('chronos.max_result_size') = '20B'}), 'chronos.max_result_size is now 20 bytes');
$result = result_of('SELECT generate_series(1, 10000)');
is(scalar_query("SELECT $result = " . series_cut_at(20)), 't', 'the result is cut at chronos.max_result_size');

# 'SELECT 1' and a newline take 9 bytes, then each é (chr(233)) takes 2: the 20th byte is the first half of the sixth.
$result = result_of(q{SELECT repeat(chr(233), 30)});
is(scalar_query("SELECT octet_length($result) <= 20"), 't', 'a result with multibyte characters is cut at chronos.max_result_size bytes too');
my ($ret, $out, $err) = $node->psql('postgres', "SELECT convert_from(convert_to($result, 'UTF8'), 'UTF8') = 'SELECT 1' || E'\\n' || repeat(chr(233), 5)");
is("$ret:$out", '0:t', 'a cut never splits a character: the result is valid UTF-8, cut before the character that did not fit');
diag("checking the cut result: $err; its bytes: " . scalar_query("SELECT encode(textsend($result), 'hex')")) if $err;

$node->stop;
done_testing();
