# Who may own http and shell tasks, tried by plain roles on a real server. Shell tasks: superusers and members of
# pg_execute_server_program only. HTTP tasks of roles that are not superusers: only to hosts granted in
# chronos.http_grants (which only superusers write), and whatever the name, to an internal address (loopback,
# private, link-local, metadata) only through a range grant that names it; checked when written, on every connection
# and redirect, and again at run time. Values are refused when written. After each attempt, no process crashed and a
# superuser's canary task still runs on time.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ChronosTest;

my ($port, $log) = start_http_server();
my $base = "http://127.0.0.1:$port";
my $node = start_chronos_node('guard', 'chronos.max_workers = 4');
create_chronos_db($node, 'postgres');
grant_task_rights($node, 'postgres', $_) for qw(alice bob);
$node->safe_psql('postgres', q{
	CREATE TABLE hits (task text, at timestamptz DEFAULT clock_timestamp());
	INSERT INTO chronos.tasks (name, schedule, command) VALUES ('canary', '@every 1s', 'INSERT INTO hits VALUES (''canary'')');
});

sub as_role
{
	my ($role, $sql) = @_;
	my ($ret, $out, $err) = $node->psql('postgres', $sql, extra_params => [ '-U', $role, '-v', 'VERBOSITY=verbose' ]);
	return ($ret, $err);
}

sub refused
{
	my ($role, $sql, $state, $pattern, $name) = @_;
	my ($ret, $err) = as_role($role, $sql);
	ok($ret != 0 && $err =~ /ERROR:  $state: / && $err =~ $pattern, $name) or diag($err);
	return;
}

sub finished
{
	my ($task) = @_;
	ok(wait_for_finished_run($node, 'postgres', $task), "$task ran");
	my ($row) = query_rows($node, 'postgres',
		"SELECT status, coalesce(error, '') FROM chronos.runs WHERE task_name = '$task' ORDER BY run_id DESC LIMIT 1");
	return @$row;
}

# --- shell: the right COPY ... PROGRAM needs -------------------------------------------------------------------------
refused('alice', q{INSERT INTO chronos.tasks (name, kind, command) VALUES ('sh', 'shell', 'id')}, '42501',
	qr/permission denied to run shell commands as role "alice".*HINT:  .*GRANT pg_execute_server_program TO alice/s,
	'a plain role cannot own a shell task');
refused('alice', q{INSERT INTO chronos.tasks (name, kind, command) VALUES ('x', 'sql', 'SELECT 1');
	UPDATE chronos.tasks SET kind = 'shell', command = 'id' WHERE name = 'x'}, '42501', qr/shell commands/,
	'nor turn a task into one');
refused('alice', q{INSERT INTO chronos.tasks (name, kind, command, owner) VALUES ('sh', 'shell', 'id', 'postgres')},
	'42501', qr/permission denied to schedule a task as role "postgres"/, 'nor give one to a superuser');
$node->safe_psql('postgres', 'GRANT pg_execute_server_program TO bob');
my ($ret, $err) = as_role('bob', q{INSERT INTO chronos.tasks (name, kind, command, start_time)
	VALUES ('bob shell', 'shell', 'echo ran', now() + interval '3 s')});
is($ret, 0, 'a member of pg_execute_server_program may') or diag($err);
$node->safe_psql('postgres', 'REVOKE pg_execute_server_program FROM bob');
my ($status, $error) = finished('bob shell');
is("$status $error", 'failed 42501: permission denied to run shell commands as role "bob": it is not a superuser or '
	. 'a member of pg_execute_server_program', 'a role that lost the right has its run fail, not run');

# --- http: grants ---------------------------------------------------------------------------------------------------
refused('alice', qq{INSERT INTO chronos.tasks (name, kind, command) VALUES ('h', 'http', '$base/ok')}, '42501',
	qr/permission denied to call host "127\.0\.0\.1" as role "alice".*INSERT INTO chronos\.http_grants \(role, host\) VALUES \('alice', '127\.0\.0\.1'\)/s,
	'no grant: refused, with the grant to give');
refused('alice', q{INSERT INTO chronos.http_grants VALUES ('alice', '127.0.0.1')}, '42501',
	qr/permission denied for table http_grants/, 'only superusers write grants');
$node->safe_psql('postgres', q{INSERT INTO chronos.http_grants VALUES ('alice', 'example.com'), ('alice', 'localhost')});
refused('alice', qq{INSERT INTO chronos.tasks (name, kind, command) VALUES ('h', 'http', '$base/ok')}, '42501',
	qr/host "127\.0\.0\.1"/, 'a grant for another host does not cover it');
refused('alice', q{INSERT INTO chronos.tasks (name, kind, command) VALUES ('h', 'http', 'http://api.example.com/')},
	'42501', qr/api\.example\.com/, 'a name grant covers that name only');
is($node->safe_psql('postgres', q{SELECT count(*) FROM chronos.http_grants}, extra_params => [ '-U', 'bob' ]),
	'0', 'a role sees only its own grants');

$ret = (as_role('alice', qq{INSERT INTO chronos.tasks (name, kind, command) VALUES
	('name to loopback', 'http', 'http://localhost:$port/ok')}))[0];
is($ret, 0, 'a granted name is accepted when written');
($status, $error) = finished('name to loopback');
like("$status $error",
	qr/^failed 42501: connection to (127\.0\.0\.1|::1) refused: it is a loopback address, and the task's owner has no range grant/,
	'but a name resolving to loopback is refused on connect');
ok(!grep({ $_->{path} eq '/ok' } http_requests($log)), 'and nothing reached the server');

$node->safe_psql('postgres', q{INSERT INTO chronos.http_grants VALUES ('alice', '127.0.0.1/32')});
as_role('alice', qq{INSERT INTO chronos.tasks (name, kind, command) VALUES
	('granted range', 'http', '$base/ok'),
	('redirect to metadata', 'http', '$base/redirect?to=http://169.254.169.254/latest/meta-data/'),
	('redirect to another loopback', 'http', '$base/redirect?to=http://[::1]:$port/ok'),
	('redirect to file', 'http', '$base/redirect?to=file:///etc/passwd')});
is(join(' ', finished('granted range')), 'succeeded ', 'a range grant that names the address allows it');
($status, $error) = finished('redirect to metadata');
like($error, qr/^42501: redirect to http:\/\/169\.254\.169\.254\/latest\/meta-data\/ refused/,
	'a redirect to the metadata address is refused');
($status, $error) = finished('redirect to another loopback');
like($error, qr/^42501: redirect to http:\/\/\[::1\]:$port\/ok refused: role alice has no grant in chronos\.http_grants for host "\[::1\]"/,
	'a redirect to an address outside the range grant is refused');
($status, $error) = finished('redirect to file');
like($error, qr/^58000: redirect to a URL the task may not call: An HTTP task calls http:\/\/ or https:\/\/ URLs only, not file/,
	'a redirect to file:// is refused');

$ret = (as_role('alice', qq{INSERT INTO chronos.tasks (name, kind, command, start_time) VALUES
	('grant withdrawn', 'http', '$base/ok', now() + interval '3 s')}))[0];
$node->safe_psql('postgres', q{DELETE FROM chronos.http_grants WHERE role = 'alice'::regrole AND host = '127.0.0.1/32'});
($status, $error) = finished('grant withdrawn');
like("$status $error", qr/^failed 42501: role alice has no grant in chronos\.http_grants for host "127\.0\.0\.1"/,
	'a role whose grant was withdrawn has its run fail');

# --- a connection kept alive for one owner is not another's way in ---------------------------------------------------
# alice has a name grant for localhost and no range grant: loopback stays closed to her, also while a superuser's task
# keeps a connection to the same host and port alive in the same worker (checked before each request is sent).
$node->safe_psql('postgres', qq{INSERT INTO chronos.tasks (name, kind, schedule, command)
	VALUES ('superuser keeps alive', 'http', '\@every 1s', 'http://localhost:$port/kept-alive')});
as_role('alice', qq{INSERT INTO chronos.tasks (name, kind, schedule, command)
	VALUES ('alice rides along', 'http', '\@every 1s', 'http://localhost:$port/riding')});
sleep 6;
$node->safe_psql('postgres', q{UPDATE chronos.tasks SET status = 'paused'
	WHERE name IN ('superuser keeps alive', 'alice rides along')});
ok(scalar(grep { $_->{path} eq '/kept-alive' } http_requests($log)) >= 3, "the superuser's requests went through");
is(scalar(grep { $_->{path} eq '/riding' } http_requests($log)), 0, "none of alice's reached the server");
is($node->safe_psql('postgres', q{SELECT count(*) >= 3 AND bool_and(status = 'failed'
	AND error LIKE '42501: connection to % refused: it is a loopback address%')
	FROM chronos.runs WHERE task_name = 'alice rides along'}), 't', 'each of her runs was refused on its connection');

# --- slow endpoints do not hold SQL tasks back -------------------------------------------------------------------------
# Requests in flight hold no worker: while alice keeps requests to a slow endpoint in flight, one worker of the
# database is always left for SQL tasks, and the canary keeps its schedule (checked at the end).
$node->safe_psql('postgres', q{INSERT INTO chronos.http_grants VALUES ('alice', '127.0.0.1')});
as_role('alice', qq{INSERT INTO chronos.tasks (name, kind, schedule, command, timeout)
	SELECT 'slow ' || i, 'http', '\@every 1s', '$base/slow?ms=60000&n=' || i, '2 min' FROM generate_series(1, 8) i});
ok(wait_for($node, 'postgres', q{SELECT count(*) = 8 FROM chronos.running WHERE task_name LIKE 'slow %'}),
	'eight slow requests are in flight');
my $before = $node->safe_psql('postgres', q{SELECT count(*) FROM hits});
sleep 4;
cmp_ok($node->safe_psql('postgres', q{SELECT count(*) FROM hits}) - $before, '>=', 3,
	'SQL tasks run meanwhile, on time');

# --- one owner's share of runs in flight -----------------------------------------------------------------------------
# With room for 16 runs in flight in the cluster, alice may have half: her eight slow requests are her share, and a
# hundred more of hers due now wait, while bob's requests, due after them, go in flight and finish. So many waiting
# rows (more than a claim looks past) hold no SQL task back either: the workers that may take only SQL tasks claim
# from an index of those, and one that may take both looks there when runs in flight at their share fill the front.
$node->append_conf('postgresql.conf', 'chronos.max_in_flight = 16');
$node->reload;
$node->safe_psql('postgres', q{INSERT INTO chronos.http_grants VALUES ('bob', '127.0.0.1')});
as_role('alice', qq{INSERT INTO chronos.tasks (name, kind, command, timeout)
	SELECT 'more slow ' || i, 'http', '$base/slow?ms=60000&m=' || i, '2 min' FROM generate_series(1, 100) i});
as_role('bob', qq{INSERT INTO chronos.tasks (name, kind, command) SELECT 'bob fast ' || i, 'http', '$base/ok?b=' || i
	FROM generate_series(1, 3) i});
ok(wait_for($node, 'postgres', q{SELECT count(*) = 3 FROM chronos.runs WHERE task_name LIKE 'bob fast %'
	AND status = 'succeeded'}, 20), "another role's requests run while one role has its share in flight");
# The share is counted from what the workers have published: a worker claiming at the same moment as another may pass
# it by one (here at most two other workers); without the share she would have all sixteen.
cmp_ok($node->safe_psql('postgres', q{SELECT count(*) FROM chronos.running WHERE owner = 'alice'::regrole}), '<=', 10,
	'the role with its share has no more in flight (give or take a worker claiming at the same moment)');
$before = $node->safe_psql('postgres', q{SELECT count(*) FROM hits});
sleep 4;
cmp_ok($node->safe_psql('postgres', q{SELECT count(*) FROM hits}) - $before, '>=', 3,
	"SQL tasks run on time behind a hundred waiting requests of one role");
# chronos.run_now() requests are looked at in id order: seventy requested runs of alice's, at her share (more than a
# claim looks past), come first, and bob's request behind them still runs.
as_role('alice', qq{INSERT INTO chronos.tasks (name, kind, command, status, timeout)
	SELECT 'requested ' || i, 'http', '$base/slow?ms=60000&r=' || i, 'paused', '2 min' FROM generate_series(1, 70) i});
as_role('alice', q{UPDATE chronos.tasks SET run_requested = true WHERE name LIKE 'requested %'});
as_role('bob', q{INSERT INTO chronos.tasks (name, command, status) VALUES ('bob on demand', 'SELECT 1', 'paused')});
as_role('bob', q{SELECT chronos.run_now('bob on demand')});
ok(wait_for($node, 'postgres', q{SELECT count(*) = 1 FROM chronos.runs WHERE task_name = 'bob on demand'
	AND status = 'succeeded'}, 20), "another role's run_now() runs behind seventy requests of one role at its share");
$node->safe_psql('postgres', q{DELETE FROM chronos.tasks WHERE name LIKE 'requested %'});
$node->safe_psql('postgres', q{DELETE FROM chronos.tasks WHERE name LIKE 'more slow %'});

# --- values refused when written ------------------------------------------------------------------------------------
$node->safe_psql('postgres', q{INSERT INTO chronos.http_grants VALUES ('alice', '*.example.com')});
for my $case (
	[ q{'file:///etc/passwd', NULL, NULL}, qr/invalid HTTP task URL.*not file/s, 'file://' ],
	[ q{'gopher://a.example.com/', NULL, NULL}, qr/invalid HTTP task URL/, 'gopher://' ],
	[ q{'http://a.example.com/a b', NULL, NULL}, qr/no blank/, 'a URL with a blank' ],
	[ q{'not a url', NULL, NULL}, qr/invalid HTTP task URL/, 'not a URL' ],
	[ q{'http://a.example.com/', 'TRACE', NULL}, qr/invalid HTTP task method "TRACE"/, 'TRACE' ],
	[ q{'http://a.example.com/', NULL, '{"X-A": "1\r\nHost: evil"}'}, qr/CR or LF/, 'a header value with CR LF' ],
	[ q{'http://a.example.com/', NULL, '{"X-A\r\nB": "1"}'}, qr/HTTP token/, 'a header name with CR LF' ],
	[ q{'http://a.example.com/', NULL, '{"Host": "internal"}'}, qr/where a request goes/, 'a Host header' ],
	[ q{'http://a.example.com/', NULL, '{"Idempotency-Key": "x"}'}, qr/sets User-Agent and Idempotency-Key/,
		'an Idempotency-Key of its own' ],
	[ q{'http://a.example.com/', NULL, '["X-A"]'}, qr/JSON object/, 'headers that are not an object' ],
	[ q{'http://a.example.com/', NULL, '{"X-A": 1}'}, qr/not a JSON string/, 'a header value that is not a string' ])
{
	my ($values, $pattern, $name) = @$case;
	refused('alice', "INSERT INTO chronos.tasks (name, kind, command, http_method, http_headers)
		VALUES ('v', 'http', $values)", '22023', $pattern, "refused when written: $name");
}
refused('alice', q{INSERT INTO chronos.tasks (name, command, http_method) VALUES ('v', 'SELECT 1', 'POST')}, '22023',
	qr/http_method is set on a task of kind sql/, 'http columns on an sql task are refused');
refused('alice', q{INSERT INTO chronos.tasks (name, kind, command, transactional)
	VALUES ('v', 'http', 'http://a.example.com/', true)}, '22023', qr/transactional/, 'a transactional http task');
refused('alice', q{INSERT INTO chronos.tasks (name, kind, command) VALUES ('v', 'ftp', 'x')}, '22P02',
	qr/invalid input value for enum chronos\.task_kind/, 'an unknown kind');

# --- afterwards ------------------------------------------------------------------------------------------------------
ok(wait_for_new_hit($node, 'postgres', 'canary'), "the superuser's canary still runs");
my $late = $node->safe_psql('postgres',
	q{SELECT max(at - lag) < interval '2.5 s' FROM (SELECT at, lag(at) OVER (ORDER BY at) FROM hits) s WHERE lag IS NOT NULL});
is($late, 't', 'on time throughout');
unlike(slurp_file($node->logfile), qr/terminated by signal|PANIC|server process .* was terminated/,
	'no process crashed');
done_testing();
