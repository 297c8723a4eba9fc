# Nothing a run leaves behind reaches the worker or the next run. exit_on_error, which would turn a run's error into
# the exit of its worker, is refused in a command, through set_config(), in a function's SET clause, and ignored in the
# owner's login settings, while another role's task keeps its schedule. setseed() in one run does not decide what
# random() returns in the next. A library a run loads (dblink, whose named connection outlives the transaction) ends
# the worker after that run, so another owner's run cannot use what it keeps. A command that one setting of
# standard_conforming_strings reads with transaction control is refused, whichever setting the writer or the owner has.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ChronosTest;

my $node = start_chronos_node('escape', 'chronos.max_workers = 1');
create_chronos_db($node, 'postgres');
grant_task_rights($node, 'postgres', 'alice');
$node->safe_psql('postgres', q{
	GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA chronos TO alice;
	CREATE SCHEMA alice AUTHORIZATION alice;
	CREATE TABLE hits (task text, at timestamptz DEFAULT clock_timestamp());
	CREATE TABLE dice (v float8);
	GRANT INSERT ON hits TO alice;
	CREATE EXTENSION dblink;
});

sub as_alice
{
	my ($sql) = @_;
	my ($rc, $out, $err) = $node->psql('postgres', $sql, extra_params => [ '-U', 'alice' ]);
	return $rc == 0 ? $out : $err;
}

# --- exit_on_error ------------------------------------------------------------------------------------------------
as_alice(q{CREATE FUNCTION alice.fail() RETURNS int LANGUAGE sql SET exit_on_error = on AS 'SELECT 1/0'});
as_alice(q{
	INSERT INTO chronos.tasks (name, schedule, command, transactional) VALUES
	  ('set', '@every 1s', 'SET exit_on_error = on; SELECT 1/0', NULL),
	  ('set autonomous', '@every 1s', 'SET exit_on_error = on; SELECT 1/0', false),
	  ('set_config', '@every 1s', $$SELECT set_config('exit_on_error', 'on', false); SELECT 1/0$$, NULL),
	  ('function', '@every 1s', 'SELECT alice.fail()', NULL)});
my $log_offset = -s $node->logfile;
$node->safe_psql('postgres', q{INSERT INTO chronos.tasks (name, schedule, command)
	VALUES ('canary', '@every 1s', $$INSERT INTO hits VALUES ('canary')$$)});
ok(wait_for($node, 'postgres', q{SELECT count(*) = 4 FROM chronos.tasks
	WHERE owner = 'alice'::regrole AND last_status IS NOT NULL}), 'each of alice\'s tasks ran');
my $errors = $node->safe_psql('postgres', q{SELECT string_agg(DISTINCT last_error, ' / ') FROM chronos.tasks
	WHERE owner = 'alice'::regrole});
like($errors, qr/^42501: pg_chronos workers do not exit on errors$/,
	'exit_on_error = on is refused in a command, by set_config() and in a function\'s SET clause');
# The owner's login settings: exit_on_error is not taken from them; the run's own error is recorded.
$node->safe_psql('postgres', q{ALTER ROLE alice SET exit_on_error = on});
as_alice(q{INSERT INTO chronos.tasks (name, schedule, command) VALUES ('login', '@every 1s', 'SELECT 1/0')});
ok(wait_for($node, 'postgres', q{SELECT last_error = '22012: division by zero' FROM chronos.tasks WHERE name = 'login'}),
	'exit_on_error from the owner\'s login settings is ignored: the run fails with its own error');
my $canary_since = $node->safe_psql('postgres', 'SELECT clock_timestamp()');
sleep 5;
is($node->safe_psql('postgres', qq{SELECT count(*) >= 3 FROM hits WHERE task = 'canary' AND at > '$canary_since'}), 't',
	'another role\'s task in the same database keeps running meanwhile');
my $log = slurp_file($node->logfile, $log_offset);
unlike($log, qr/exited with exit code 1|exited with an error/, 'no worker exited');
$node->safe_psql('postgres', q{ALTER ROLE alice RESET exit_on_error;
	DELETE FROM chronos.tasks WHERE owner = 'alice'::regrole OR name = 'canary'});

# --- random state ---------------------------------------------------------------------------------------------------
my $seeded = $node->safe_psql('postgres', 'SELECT setseed(0.42); SELECT random()');
$seeded = (split /\n/, $seeded)[-1];
as_alice(q{SELECT chronos.schedule('seed', '@every 1s', 'SELECT setseed(0.42)')});
$node->safe_psql('postgres', q{SELECT chronos.schedule('dice', '@every 1s', 'INSERT INTO dice VALUES (random())')});
ok(wait_for($node, 'postgres', 'SELECT count(*) >= 8 FROM dice'), 'the superuser\'s task ran 8 times beside alice\'s');
is($node->safe_psql('postgres', qq{SELECT count(*) FILTER (WHERE v = $seeded) || ' ' || (count(*) - count(DISTINCT v))
	FROM dice}), '0 0', 'random() in the next run is not what alice\'s setseed(0.42) would give, nor ever repeats');
$node->safe_psql('postgres', q{DELETE FROM chronos.tasks});

# --- a library's state ----------------------------------------------------------------------------------------------
# The superuser's task opens a named dblink connection and leaves it open; alice's task, due two seconds later, tries
# to use it. With one run permit, one worker would run both.
my ($host, $port) = ($node->host, $node->port);
$node->safe_psql('postgres', qq{INSERT INTO chronos.tasks (name, command, start_time) VALUES
	('link', \$\$SELECT dblink_connect('kept', 'host=$host port=$port dbname=postgres')\$\$, now())});
as_alice(q{INSERT INTO chronos.tasks (name, command, start_time) VALUES
	('look', $$SELECT coalesce(array_to_string(dblink_get_connections(), ','), 'none')$$, now() + interval '2 s'),
	('use', $$SELECT dblink_exec('kept', 'ALTER ROLE alice SUPERUSER')$$, now() + interval '3 s')});
ok(wait_for_finished_run($node, 'postgres', 'use'), 'alice\'s tasks ran');
is($node->safe_psql('postgres', q{SELECT last_status FROM chronos.tasks WHERE name = 'link'}), 'succeeded',
	'the superuser\'s task opened its connection');
like($node->safe_psql('postgres', q{SELECT result FROM chronos.runs WHERE task_name = 'look'}), qr/none/,
	'alice\'s run sees no dblink connection');
like($node->safe_psql('postgres', q{SELECT status FROM chronos.runs WHERE task_name = 'use'}), qr/^failed$/,
	'alice\'s run could not use the superuser\'s connection');
is($node->safe_psql('postgres', q{SELECT rolsuper FROM pg_roles WHERE rolname = 'alice'}), 'f', 'alice is no superuser');
is($node->safe_psql('postgres', q{SELECT count(DISTINCT pid) FROM chronos.runs WHERE task_name IN ('link', 'look')}), '2',
	'the worker that loaded dblink left after that run');
$node->safe_psql('postgres', q{DELETE FROM chronos.tasks});

# --- standard_conforming_strings ------------------------------------------------------------------------------------
# Read with standard_conforming_strings = off, 'x\' does not end at its second quote, and what follows is a COMMIT.
my $hidden = q{SELECT 'x\'; COMMIT; -- '};
for my $setting ('on', 'off')
{
	like(as_alice(qq{SET standard_conforming_strings = $setting; SET escape_string_warning = off;
		INSERT INTO chronos.tasks (name, command) VALUES ('hidden', \$c\$$hidden\$c\$)}),
		qr/ERROR:  task command cannot use COMMIT/,
		"a COMMIT that only one reading sees is refused when written (writer's standard_conforming_strings = $setting)");
}
# A row that holds one anyway (loaded with triggers off), run for an owner whose login turns the setting off.
$node->safe_psql('postgres', qq{ALTER ROLE alice SET standard_conforming_strings = off;
	SET session_replication_role = replica;
	INSERT INTO chronos.tasks (name, command, owner, type, status, timezone, start_time, next_exec_time)
	VALUES ('hidden', \$c\$$hidden; INSERT INTO hits VALUES ('after')\$c\$, 'alice', 'once', 'scheduled', 'UTC',
	        now(), now());
	RESET session_replication_role;
	SELECT chronos.run_at('wake', now(), 'SELECT 1')});
ok(wait_for_finished_run($node, 'postgres', 'hidden'), 'the task loaded without its trigger ran');
like($node->safe_psql('postgres', q{SELECT status || ': ' || error FROM chronos.runs WHERE task_name = 'hidden'}),
	qr/^failed: 0A000: task command cannot use COMMIT/, 'and was refused as transaction control');
is($node->safe_psql('postgres', q{SELECT count(*) FROM hits WHERE task = 'after'}), '0', 'nothing of it ran');

done_testing();
