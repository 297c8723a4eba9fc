# A task's payload reaches its command as $1 (jsonb), in transactional and autonomous runs. Events build on it:
# chronos.listen(event, handler) names a handler(jsonb) for the current role's event; chronos.emit(event, payload)
# schedules a once task, owned by the listener's owner, that calls the handler with the payload; a handler dropped after
# emit makes that run fail with an error naming the function.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ChronosTest;

my $node = start_chronos_node('payload_and_events', 'chronos.max_workers = 2');
create_chronos_db($node, 'postgres');
$node->safe_psql('postgres', q{
	CREATE TABLE received (value text, by_role name NOT NULL DEFAULT current_user);
	CREATE ROLE app LOGIN;
	GRANT USAGE ON SCHEMA chronos TO app;
	GRANT SELECT, INSERT, UPDATE, DELETE ON chronos.tasks TO app;
	GRANT SELECT ON chronos.runs TO app;
	GRANT SELECT, INSERT, UPDATE, DELETE ON chronos.listeners TO app;
	GRANT USAGE ON ALL SEQUENCES IN SCHEMA chronos TO app;
	GRANT INSERT ON received TO app;
	CREATE FUNCTION public.on_signup(payload jsonb) RETURNS void LANGUAGE sql
	    AS $$ INSERT INTO received (value) VALUES ('signup ' || (payload ->> 'user')) $$;
	CREATE FUNCTION public.not_a_handler(n int) RETURNS void LANGUAGE sql AS $$ SELECT $$});

sub scalar_query { return $node->safe_psql('postgres', $_[0]); }

sub wait_for_status
{
	my ($name, $status) = @_;
	return ok(wait_for($node, 'postgres', "SELECT status = '$status' FROM chronos.tasks WHERE name = '$name'"),
		"task $name ends $status");
}

# --- payload as $1 ----------------------------------------------------------------------------------------------------

scalar_query(q{
	INSERT INTO chronos.tasks (name, command, payload)
	VALUES ('transactional payload', $$INSERT INTO received (value) SELECT $1 ->> 'k'$$, '{"k": "in a transaction"}')});
wait_for_status('transactional payload', 'done');
is(scalar_query(q{SELECT count(*) FROM received WHERE value = 'in a transaction'}), '1',
	"a transactional task's command reads its payload as \$1");

scalar_query(q{
	INSERT INTO chronos.tasks (name, command, payload, transactional)
	VALUES ('autonomous payload', $$INSERT INTO received (value) SELECT $1 ->> 'k'$$, '{"k": "autonomous"}', false)});
wait_for_status('autonomous payload', 'done');
is(scalar_query(q{SELECT count(*) FROM received WHERE value = 'autonomous'}), '1',
	"an autonomous task's command reads its payload as \$1");

scalar_query(q{
	INSERT INTO chronos.tasks (name, command)
	VALUES ('no payload', $$INSERT INTO received (value) SELECT coalesce($1 ->> 'k', 'payload is NULL')$$)});
wait_for_status('no payload', 'done');
is(scalar_query(q{SELECT count(*) FROM received WHERE value = 'payload is NULL'}), '1', 'without a payload, $1 is NULL');

scalar_query(q{
	INSERT INTO chronos.tasks (name, schedule, command, payload)
	VALUES ('loop payload', '@every 1s', $$INSERT INTO received (value) SELECT $1 ->> 'k'$$, '{"k": "every run"}')});
ok(wait_for($node, 'postgres', q{SELECT count(*) >= 2 FROM received WHERE value = 'every run'}),
	'every run of a loop task reads its payload');
scalar_query(q{SELECT chronos.pause('loop payload')});

# --- events -----------------------------------------------------------------------------------------------------------

$node->safe_psql('postgres', q{SELECT chronos.listen('signup', 'public.on_signup(jsonb)')}, extra_params => [ '-U', 'app' ]);
my $task_id = $node->safe_psql('postgres', q{SELECT chronos.emit('signup', '{"user": "ada"}')}, extra_params => [ '-U', 'app' ]);
like($task_id, qr/^\d+$/, 'chronos.emit returns the id of the task it scheduled');
ok(wait_for($node, 'postgres', "SELECT status = 'done' FROM chronos.tasks WHERE id = '$task_id'"),
	'the task scheduled by chronos.emit runs and is done');
is(scalar_query(q{SELECT by_role FROM received WHERE value = 'signup ada'}), 'app',
	'the handler ran with the payload, as the role whose listener it is');
is(scalar_query("SELECT concat_ws(',', type, owner) FROM chronos.tasks WHERE id = '$task_id'"), 'once,app',
	'the emitted event is a once task owned by the listener\'s owner');
is(scalar_query("SELECT status FROM chronos.runs WHERE task_id = '$task_id'"), 'succeeded', 'its run succeeded');

my $later = scalar_query(q{SELECT chronos.emit('signup', '{"user": "bob"}', now() + interval '2 s', 'app')});
is(scalar_query("SELECT next_exec_time > now() + interval '1 s' FROM chronos.tasks WHERE id = '$later'"), 't',
	'chronos.emit with a time schedules the handler for then');
ok(wait_for($node, 'postgres', "SELECT status = 'done' FROM chronos.tasks WHERE id = '$later'"), 'and it runs then');
is(scalar_query(q{SELECT count(*) FROM received WHERE value = 'signup bob'}), '1', "the later event's handler ran");

# The handler is dropped in the transaction that emitted the event, before its task can run.
my $orphan = scalar_query(q{
	BEGIN;
	SELECT chronos.emit('signup', '{"user": "eve"}', owner => 'app');
	DROP FUNCTION public.on_signup(jsonb);
	COMMIT});
ok(wait_for($node, 'postgres', "SELECT status = 'failed' FROM chronos.tasks WHERE id = '$orphan'"),
	'the task of an event whose handler was dropped after emit fails');
like(scalar_query("SELECT error FROM chronos.runs WHERE task_id = '$orphan'"), qr/on_signup/,
	'its error names the missing handler function');

my ($ret, $out, $err) = $node->psql('postgres', q{SELECT chronos.emit('signup', '{}', owner => 'app')});
isnt($ret, 0, 'chronos.emit of an event whose handler no longer exists is an error');
($ret, $out, $err) = $node->psql('postgres', q{SELECT chronos.emit('nobody listens', '{}')});
like($err, qr/no listener for event "nobody listens" of role "postgres"/, 'chronos.emit of an event without listener is an error');
($ret, $out, $err) = $node->psql('postgres', q{SELECT chronos.listen('wrong', 'public.not_a_handler(int)')});
like($err, qr/one jsonb argument/, 'chronos.listen refuses a handler that does not take one jsonb argument');

$node->stop;
done_testing();
