# Fuzzing the SQL surface as a plain role with the README's grants: thousands of random INSERT / UPDATE / DELETE
# statements on chronos.tasks (NULLs everywhere, extreme and negative numbers, huge intervals, ±infinity, 100 kB and
# non-ASCII text, random schedules and commands, transaction control) and random calls of chronos.next_runs and
# chronos.describe_schedule. Every statement either succeeds or fails with an SQLSTATE of an expected class; the server
# never crashes; a superuser's canary task keeps running on time throughout; INSERT and next_runs accept the same
# schedules. The seed is printed (CHRONOS_FUZZ_SEED repeats a run).
#
# Expected classes: 22 (data exception: bad value, out of range), 23 (integrity: NOT NULL, unique name), 42 (syntax,
# undefined object, insufficient privilege), 0A (feature not supported: transaction control in a task), and 54
# (program limit: PostgreSQL's own limit on the size of an index entry, for a 100 kB incompressible task name).
# Never XX (internal error), 08 (connection) or 57 (operator intervention, e.g. a crash).
use strict;
use warnings;

use Encode qw(encode_utf8);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);
use ChronosTest;

my $seed = $ENV{CHRONOS_FUZZ_SEED} // 250_2026;
srand($seed);
note("fuzz seed: $seed (set CHRONOS_FUZZ_SEED to repeat another run)");
diag("fuzz seed: $seed");

my $batches = 12;
my $statements_per_batch = 500;
my $calls = 2000;

my $node = start_chronos_node('robustness_fuzz', 'chronos.max_workers = 4');
create_chronos_db($node, 'postgres');
$node->safe_psql('postgres', q{
	CREATE ROLE app LOGIN;
	GRANT USAGE ON SCHEMA chronos TO app;
	GRANT SELECT, INSERT, UPDATE, DELETE ON chronos.tasks TO app;
	GRANT SELECT ON chronos.runs, chronos.task_status, chronos.running, chronos.history, chronos.task_stats TO app;
	GRANT USAGE ON ALL SEQUENCES IN SCHEMA chronos TO app;
	GRANT EXECUTE ON FUNCTION chronos.schedule(text, text, text, text, timestamptz),
	                          chronos.run_at(text, timestamptz, text), chronos.unschedule(text),
	                          chronos.pause(text), chronos.resume(text), chronos.run_now(text), chronos.cancel(text),
	                          chronos.emit(text, jsonb, timestamptz, regrole) TO app;
	CREATE TABLE fuzz_sink (n int);
	GRANT INSERT ON fuzz_sink TO app;
	CREATE TABLE canary (at timestamptz DEFAULT now());
	INSERT INTO chronos.tasks (name, schedule, command) VALUES ('canary', '@every 1s', 'INSERT INTO canary DEFAULT VALUES');
});
ok(wait_for($node, 'postgres', 'SELECT count(*) >= 2 FROM canary'), 'the canary task runs before the fuzz');

# --- random values --------------------------------------------------------------------------------------------------

sub pick { return $_[ int(rand(@_)) ]; }
sub literal { my ($text) = @_; $text =~ s/'/''/g; return "'$text'"; }

my @non_ascii = ("\x{e9}", "\x{20ac}", "\x{1f600}", "\x{df}", "\x{4e2d}\x{6587}", "e\x{301}", "\x{feff}", "\x{3b1}");
sub unicode_text { my ($n) = @_; return join('', map { pick(@non_ascii, 'a', ' ', '*', '/') } 1 .. $n); }
# 100 kB texts, made once: repetitive, non-ASCII, and incompressible ASCII.
my @huge = ('x' x 100_000, unicode_text(100_000 / 3), join('', map { chr(40 + int(rand(80))) } 1 .. 100_000));
sub huge_text { return pick(@huge); }

sub cron_field
{
	return pick('*', '?', '0', '5', '59', '60', '-1', '*/0', '*/1', '*/7', '5-1', '1-5', '1,2,3', 'L', '$', '5L', '1#5',
		'7#1', '0#6', 'MON-FRI', 'JAN', 'FRI-MON', '1-31/2', '99999999999', '', unicode_text(2));
}

sub schedule_value
{
	my $r = rand();
	return 'NULL' if $r < 0.08;
	return literal(join(' ', map { cron_field() } 1 .. pick(4, 5, 5, 5, 6, 6, 7))) if $r < 0.45;
	return literal(huge_text()) if $r < 0.47;
	return literal(pick(
		'* * * * *', '* * * * * *', '0 0 29 2 *', '0 0 30 2 *', '0 0 31 4 *', '0 0 L * *', '0 18 * * 5L', '0 9 * * 1#5',
		'*/0 * * * *', '5-1 * * * *', '@yearly', '@hourly', '@reboot', '@every 1s', '@every 0s', '@every -1s',
		'@every 100 years', '@every 101 years', '178000000 years', '@after 2147483647 days', '@after 1 hour',
		'@every 1h30m', '@every 9223372036854775807ns', '10 minutes', '1 mon', 'every day at 03:30',
		'every 2147483647 days at 03:00', 'every 36525 days at 00:00', 'every 0 days at 01:00', 'every week at 25:00',
		'every 3 weeks at 08:00', 'every', '@every', '', ' ', 'L', '0', '@every 1.5 years', '1 year -1 day',
		'P1Y2M', '01:30:00', '@every 1e400 seconds', 'every 5 minutes'));
}

sub timestamp_value
{
	return pick('NULL', 'now()', q{now() - interval '30 days'}, q{'infinity'}, q{'-infinity'},
		q{'1899-12-31 23:59:59+00'}, q{'1900-01-01 00:00+00'}, q{'8999-12-31 23:59+00'}, q{'9000-01-01 00:00+00'},
		q{'294276-12-31 23:59:59+00'}, q{'4713-11-24 00:00+00 BC'}, q{'2000-01-01 00:00+00'}, q{'2100-01-01 00:00+00'},
		q{'2100-01-01'}, q{'not a time'});
}

sub interval_value
{
	return pick('NULL', q{'0'}, q{'-1 s'}, q{'1 ms'}, q{'999 us'}, q{'1 s'}, q{'100 years'}, q{'101 years'},
		q{'178000000 years'}, q{'1 mon -40 days'}, q{'2147483647 days'}, q{'-2147483648 months'}, q{'1 minute'},
		q{'P1000000Y'}, q{'bogus'});
}

sub integer_value
{
	return pick('NULL', '-1', '0', '1', '3', '1000', '1001', '1000000', '1000001', '1000000000000', '2147483647',
		'-2147483648', '9223372036854775807', '-9223372036854775808', '99999999999999999999', q{'x'});
}

sub command_value
{
	return pick('NULL', q{''}, q{' '}, q{'SELECT 1'}, q{'INSERT INTO fuzz_sink VALUES (1)'}, q{'SELEC 1'},
		q{'BEGIN'}, q{'COMMIT'}, q{'ROLLBACK'}, q{'END'}, q{'ABORT'}, q{'START TRANSACTION'}, q{'SAVEPOINT s'},
		q{'RELEASE s'}, q{'ROLLBACK TO s'}, q{'PREPARE TRANSACTION ''x'''}, q{'COMMIT PREPARED ''x'''},
		q{'ROLLBACK PREPARED ''x'''}, q{'SELECT 1; COMMIT; SELECT 2'}, q{'VACUUM fuzz_sink'}, q{'CALL nothing()'},
		q{'SET ROLE postgres'}, q{'SELECT $1'}, q{'--only a comment'}, q{';;;'}, q{'DO $$BEGIN COMMIT; END$$'},
		literal('SELECT ' . literal(huge_text())), literal(unicode_text(30)));
}

my @names = map { "fz-$_" } 1 .. 12;

# One value for each column the fuzz writes.
my %value_of = (
	name => sub { pick('NULL', literal(pick(@names)), literal(unicode_text(20)), literal(huge_text())) },
	type => sub { pick('NULL', q{'once'}, q{'loop'}, q{'bogus'}) },
	schedule => \&schedule_value,
	timezone => sub {
		pick('NULL', q{'UTC'}, q{'Europe/Paris'}, q{'Australia/Lord_Howe'}, q{'Nowhere/Else'}, q{''}, q{'EST5EDT'},
			q{'<+03>-3'}, literal(huge_text()), literal(unicode_text(10)))
	},
	command => \&command_value,
	owner => sub { pick('NULL', q{'app'}, q{'postgres'}, q{'no_such_role'}, q{'0'}, q{'-'}) },
	status => sub { pick('NULL', q{'scheduled'}, q{'running'}, q{'done'}, q{'failed'}, q{'paused'}, q{'bogus'}) },
	start_time => \&timestamp_value,
	next_exec_time => \&timestamp_value,
	end_time => \&timestamp_value,
	last_exec_time => \&timestamp_value,
	transactional => sub { pick('NULL', 'true', 'false') },
	timeout => \&interval_value,
	retry_delay => \&interval_value,
	last_duration => \&interval_value,
	max_retries => \&integer_value,
	max_failures => \&integer_value,
	max_runs => \&integer_value,
	run_count => \&integer_value,
	failure_count => \&integer_value,
	attempt => \&integer_value,
	catch_up => sub { pick('NULL', q{'skip'}, q{'once'}, q{'all'}, q{'ALL'}, q{''}) },
	notify_on => sub { pick('NULL', q{'never'}, q{'failure'}, q{'success'}, q{'always'}, q{'match'}, q{'x'}) },
	notify_match => sub { pick('NULL', q{'{}'}, q{ARRAY['deadlock']}, q{'{NULL}'}, q{ARRAY[''] }) },
	notify_channel => sub { pick('NULL', q{''}, q{'c'}, literal('c' x 63), literal('c' x 64), literal("\x{20ac}" x 21),
			literal("\x{20ac}" x 22)) },
	on_failure => \&command_value,
	payload => sub { pick('NULL', q{'{}'}, q{'"x"'}, q{'not json'}, q{'{"a": [1, 2]}'}, q{to_jsonb(repeat('x', 2000000))}) },
	run_requested => sub { pick('NULL', 'true', 'false') },
	remark => sub { pick('NULL', literal(unicode_text(50)), literal(huge_text())) },
);
my @columns = sort keys %value_of;

sub random_statement
{
	my $r = rand();
	if ($r < 0.55)
	{
		my %chosen = map { $_ => 1 } grep { rand() < 0.3 } @columns;
		$chosen{command} = 1 if rand() < 0.8;
		my @cols = sort keys %chosen;
		@cols = ('command') unless @cols;
		return sprintf('INSERT INTO chronos.tasks (%s) VALUES (%s)', join(', ', @cols),
			join(', ', map { $value_of{$_}->() } @cols));
	}
	if ($r < 0.93)
	{
		my @cols = map { pick(@columns) } 1 .. 1 + int(rand(3));
		my %seen;
		@cols = grep { !$seen{$_}++ } @cols;
		return sprintf('UPDATE chronos.tasks SET %s WHERE name = %s',
			join(', ', map { "$_ = " . $value_of{$_}->() } @cols), literal(pick(@names)));
	}
	return pick('DELETE FROM chronos.tasks WHERE name = ' . literal(pick(@names)),
		'SELECT chronos.pause(' . literal(pick(@names)) . ')', 'SELECT chronos.resume(' . literal(pick(@names)) . ')',
		'SELECT chronos.run_now(' . literal(pick(@names)) . ')',
		'SELECT chronos.schedule(' . literal(pick(@names)) . ', ' . schedule_value() . ', ' . command_value() . ')',
		'SELECT chronos.run_at(' . literal(pick(@names)) . ', ' . timestamp_value() . ', ' . command_value() . ')');
}

sub random_call
{
	my $count = pick('NULL', '-1', '0', '1', '5', '10000', '10001', '2147483647');
	return pick(
		sprintf('SELECT count(*) FROM chronos.next_runs(%s, %s, %s, %s)', schedule_value(), timestamp_value(), $count,
			$value_of{timezone}->()),
		sprintf('SELECT count(*) FROM chronos.next_runs(%s::name, %s)', literal(pick(@names)), $count),
		sprintf('SELECT length(chronos.describe_schedule(%s, %s))', schedule_value(), $value_of{timezone}->()));
}

# Runs the statements as app, each inside try() (a subtransaction reporting 'ok' or its SQLSTATE), and returns their
# outcomes. The whole script runs in one session: a crash shows as a psql failure.
sub run_as_app
{
	my (@statements) = @_;
	my $script = q{
		CREATE FUNCTION pg_temp.try(statement text) RETURNS text LANGUAGE plpgsql AS $try$
		BEGIN
			EXECUTE statement;
			RETURN 'ok';
		EXCEPTION WHEN OTHERS THEN
			RETURN SQLSTATE;
		END $try$;
		SET client_min_messages = error;
	} . join('', map { "SELECT pg_temp.try(\$fz\$$_\$fz\$);\n" } @statements);
	my ($out, $err) = ('', '');
	my $ret = $node->psql('postgres', encode_utf8($script), connstr => $node->connstr('postgres') . ' user=app',
		stdout => \$out, stderr => \$err, timeout => 600);
	return ($ret, $err, split /\n/, $out);
}

# --- the fuzz -------------------------------------------------------------------------------------------------------

my $log_offset = -s $node->logfile;
my $canary_before = $node->safe_psql('postgres', 'SELECT count(*) FROM canary');
my $started = Time::HiRes::time();
my (%outcomes, $failures, @unexpected);
for my $batch (1 .. $batches + 1)
{
	# The last batch calls the preview functions; the others write tasks. Between batches the fuzzed tasks are
	# deleted, so that those that were accepted and run every second do not pile up.
	my @statements = $batch <= $batches
	  ? map { random_statement() } 1 .. $statements_per_batch
	  : map { random_call() } 1 .. $calls;
	my ($ret, $err, @results) = run_as_app(@statements);
	is($ret, 0, "batch $batch ran to its end as app, in one session") or diag($err);
	is(scalar(@results), scalar(@statements), "batch $batch: every statement reported its outcome");
	for my $i (0 .. $#statements)
	{
		my $state = $results[$i] // 'none';
		$outcomes{ $state eq 'ok' ? 'ok' : substr($state, 0, 2) }++;
		push @unexpected, "$state: " . substr($statements[$i], 0, 300)
		  unless $state eq 'ok' || $state =~ /^(22|23|42|0A|54)/;
	}
	$node->safe_psql('postgres', q{DELETE FROM chronos.tasks WHERE owner = 'app'::regrole});
}

# INSERT and next_runs agree on every random schedule: a schedule a task may have can be previewed, and one that cannot
# be previewed is refused when written.
my @schedules = map { schedule_value() } 1 .. 600;
my @pairs = map {
	("INSERT INTO chronos.tasks (name, schedule, command, status) VALUES ('agree', $_, 'SELECT 1', 'paused')",
		"SELECT count(*) FROM chronos.next_runs($_, now(), 5)", q{DELETE FROM chronos.tasks WHERE name = 'agree'})
} @schedules;
my ($agree_ret, $agree_err, @agree) = run_as_app(@pairs);
is($agree_ret, 0, 'the INSERT / next_runs comparison ran to its end') or diag($agree_err);
my @disagree;
for my $i (0 .. $#schedules)
{
	my ($insert, $preview) = @agree[ 3 * $i, 3 * $i + 1 ];
	next if $schedules[$i] eq 'NULL';
	push @disagree, "INSERT $insert, next_runs $preview: " . substr($schedules[$i], 0, 200)
	  unless ($insert eq 'ok') == ($preview eq 'ok');
}
is(scalar(@disagree), 0, 'INSERT accepts exactly the schedules next_runs can preview')
  or diag(join("\n", @disagree[ 0 .. ($#disagree < 20 ? $#disagree : 19) ]));

my $elapsed = Time::HiRes::time() - $started;
note(sprintf('%d statements in %.1f s; outcomes by SQLSTATE class: %s', $batches * $statements_per_batch + $calls,
		$elapsed, join(', ', map { "$_ $outcomes{$_}" } sort keys %outcomes)));
diag(sprintf('fuzz: %.1f s; outcomes: %s', $elapsed, join(', ', map { "$_ $outcomes{$_}" } sort keys %outcomes)));

is(scalar(@unexpected), 0, 'every refusal has an SQLSTATE of class 22, 23, 42, 0A or 54')
  or diag(join("\n", @unexpected[ 0 .. ($#unexpected < 20 ? $#unexpected : 19) ]));
cmp_ok($outcomes{ok} // 0, '>', 100, 'many of the statements were accepted (the fuzz reaches past the first check)');
cmp_ok(scalar(grep { /^(22|23|42|0A)$/ && $outcomes{$_} } keys %outcomes), '>=', 4,
	'refusals of every expected kind occurred');

my $log = slurp_file($node->logfile, $log_offset);
unlike($log, qr/PANIC|terminated by signal|server process .* was terminated|was terminated by exception/,
	'the server log shows no crash');
unlike($log, qr/TRAP:|invalid memory alloc request/, 'the server log shows no failed assertion or wild allocation');

# The canary ran throughout: at least once every 4 seconds on average, and it runs still.
my $canary_after = $node->safe_psql('postgres', 'SELECT count(*) FROM canary');
cmp_ok($canary_after - $canary_before, '>=', int($elapsed / 4),
	sprintf('the canary task kept running during the fuzz (%d runs in %.1f s)', $canary_after - $canary_before,
		$elapsed));
cmp_ok($node->safe_psql('postgres', qq{
		SELECT coalesce(max(extract(epoch FROM lateness)), 0) FROM chronos.history
		 WHERE task_name = 'canary' AND started_at >= to_timestamp($started)}), '<', 10,
	'no run of the canary started more than 10 s after its slot');
ok(wait_for($node, 'postgres', "SELECT count(*) >= $canary_after + 2 FROM canary"),
	'the canary task runs on after the fuzz');
is($node->safe_psql('postgres', q{SELECT status FROM chronos.tasks WHERE name = 'canary'}), 'scheduled',
	'the canary task is still scheduled');

# A task whose command writes a NULL into its own row fails that run with 23502; before, the trigger read the NULL and
# the backend crashed, which for a transactional task meant a crash on every run.
$node->safe_psql('postgres', q{
	INSERT INTO chronos.tasks (name, command)
	VALUES ('writes null', $$UPDATE chronos.tasks SET notify_on = NULL WHERE name = 'writes null'$$)});
ok(wait_for_finished_run($node, 'postgres', 'writes null'), 'the task writing a NULL into its own row ran');
like($node->safe_psql('postgres', q{SELECT status || ' ' || error FROM chronos.runs WHERE task_name = 'writes null'}),
	qr/^failed 23502: task notify_on cannot be NULL/, 'its run failed with 23502, naming the column');
unlike(slurp_file($node->logfile, $log_offset), qr/terminated by signal|server process .* was terminated/,
	'and the server did not crash');

$node->stop;
done_testing();
