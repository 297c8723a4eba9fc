# HTTP tasks against a real server on loopback: a 2xx status succeeds with the status line and the start of the body
# in chronos.runs.result; other statuses, refused connections, unknown hosts, TLS failures and timeouts fail with a
# clear error; methods, headers, bodies and payloads are sent as written, with User-Agent and an Idempotency-Key that
# every attempt of a slot shares; redirects are followed up to 5; a huge body is cut, not held; https verifies the
# server's certificate, against chronos.http_ca_file when set.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ChronosTest;

my ($port, $log) = start_http_server();
my $base = "http://127.0.0.1:$port";
my $node = start_chronos_node('http', 'chronos.max_workers = 4');
create_chronos_db($node, 'postgres');

my %tasks = (
	'ok' => [ "$base/ok" ],
	'unavailable' => [ "$base/status/503" ],
	'refused' => [ 'http://127.0.0.1:1/' ],
	'unresolvable' => [ 'http://no-such-host.invalid/' ],
	'posted payload' => [ "$base/echo/payload", 'POST', undef, undef, '{"n": 42}' ],
	'put body' => [ "$base/echo/put", 'PUT', '{"X-Token": "secret", "Content-Type": "text/plain"}', 'plain body' ],
	'head' => [ "$base/ok", 'HEAD' ],
	'deleted' => [ "$base/echo/delete", 'DELETE' ],
	'five redirects' => [ "$base/hops/5" ],
	'six redirects' => [ "$base/hops/6" ],
	'huge' => [ "$base/huge?bytes=1000000000" ],
	'no content' => [ "$base/status/204" ],
	'not found' => [ "$base/status/404" ],
);
my @values;
for my $name (sort keys %tasks)
{
	my ($url, $method, $headers, $body, $payload) = @{ $tasks{$name} };
	my @v = map { defined $_ ? "'" . ($_ =~ s/'/''/gr) . "'" : 'NULL' } ($name, $url, $method, $headers, $body, $payload);
	push @values, "($v[0], 'http', $v[1], $v[2], $v[3]::jsonb, $v[4], $v[5]::jsonb)";
}
$node->safe_psql('postgres',
	"INSERT INTO chronos.tasks (name, kind, command, http_method, http_headers, http_body, payload) VALUES "
	  . join(', ', @values));
$node->safe_psql('postgres', qq{
	INSERT INTO chronos.tasks (name, kind, command, timeout) VALUES ('slow', 'http', '$base/slow?ms=30000', '1 s');
	INSERT INTO chronos.tasks (name, kind, command, max_retries, retry_delay)
	VALUES ('retried', 'http', '$base/status/503?retried', 2, '1 s');
});
my $count = keys(%tasks) + 2;
ok(wait_for($node, 'postgres', "SELECT count(*) = $count FROM chronos.tasks WHERE status IN ('done', 'failed')", 90),
	'every http task ran to its end');

my %run;
for my $row (query_rows($node, 'postgres', q{
	SELECT t.name, r.status, coalesce(r.error, ''), replace(coalesce(r.result, ''), E'\n', '\n'),
	       extract(epoch FROM r.finished_at - r.started_at)
	  FROM chronos.runs r JOIN chronos.tasks t ON t.id = r.task_id ORDER BY r.run_id}))
{
	$run{ $row->[0] } = { status => $row->[1], error => $row->[2], result => $row->[3], seconds => $row->[4] };
}

is($run{ok}{status}, 'succeeded', 'a 200 succeeds');
is($run{ok}{result}, 'HTTP/1.1 200 OK\nhello', 'the result holds the status line and the body');
is($run{'no content'}{status}, 'succeeded', 'a 204 succeeds');
is($run{unavailable}{status}, 'failed', 'a 503 fails');
is($run{unavailable}{error}, '58000: HTTP 503 Service Unavailable', 'the error is the status');
like($run{unavailable}{result}, qr/^HTTP\/1.1 503 Service Unavailable\\nstatus 503$/, 'a failed request keeps its body');
is($run{'not found'}{error}, '58000: HTTP 404 Not Found', 'a 404 fails');
is($run{refused}{error}, '58000: could not connect to 127.0.0.1 port 1: Connection refused',
	'a refused connection says where and why');
is($run{unresolvable}{error}, '58000: could not resolve host "no-such-host.invalid"', 'an unknown host fails');
is($run{slow}{status}, 'timed_out', 'a request past its timeout times out');
cmp_ok($run{slow}{seconds}, '<', 5, 'and ends at its timeout');
is($run{'five redirects'}{status}, 'succeeded', 'five redirects are followed');
like($run{'five redirects'}{result}, qr/arrived/, 'to the last answer');
like($run{'six redirects'}{error}, qr/^58000: more than 5 redirects/, 'a sixth is not');
is($run{huge}{status}, 'succeeded', 'a 1 GB body succeeds');
cmp_ok(length($run{huge}{result}), '<', 1200, 'and only its start is kept');
like($run{huge}{result}, qr/not read\]$/, 'with a note that the rest was not read');
cmp_ok($run{huge}{seconds}, '<', 10, 'without reading it all');
is($run{head}{result}, 'HTTP/1.1 200 OK\n', 'HEAD gets the status line');

my @requests = http_requests($log);
my ($posted) = grep { $_->{path} eq '/echo/payload' } @requests;
is($posted->{method}, 'POST', 'POST is sent');
is($posted->{body}, '{"n": 42}', 'with the payload as the body');
is($posted->{headers}{'Content-Type'}, 'application/json', 'as JSON');
like($posted->{headers}{'User-Agent'}, qr{^pg_chronos/1\.2$}, 'every request says pg_chronos and its version');
like($posted->{headers}{'Idempotency-Key'}, qr/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
	'and carries an Idempotency-Key');
my ($put) = grep { $_->{path} eq '/echo/put' } @requests;
is($put->{method}, 'PUT', 'PUT is sent');
is($put->{body}, 'plain body', 'with http_body');
is($put->{headers}{'X-Token'}, 'secret', 'and the task\'s headers');
is($put->{headers}{'Content-Type'}, 'text/plain', 'which the payload does not override');
my ($deleted) = grep { $_->{path} eq '/echo/delete' } @requests;
is($deleted->{method}, 'DELETE', 'DELETE is sent');

my @retried = grep { $_->{path} eq '/status/503?retried' } @requests;
is(scalar @retried, 3, 'a task with 2 retries sends 3 attempts');
my %keys = map { $_->{headers}{'Idempotency-Key'} => 1 } @retried;
is(scalar keys %keys, 1, 'every attempt of a slot has the same Idempotency-Key');
my %all_keys = map { $_->{headers}{'Idempotency-Key'} => 1 } grep { $_->{path} =~ m{^/echo} } @requests;
is(scalar keys %all_keys, 3, 'other tasks have other keys');

# --- chronos.cancel() stops a request in flight ---------------------------------------------------------------------
$node->safe_psql('postgres',
	"INSERT INTO chronos.tasks (name, kind, command) VALUES ('cancelled', 'http', '$base/slow?ms=60000')");
ok(wait_for($node, 'postgres', q{SELECT EXISTS (SELECT FROM chronos.running WHERE task_name = 'cancelled')}),
	'a slow request is in flight');
is($node->safe_psql('postgres', q{SELECT chronos.cancel('cancelled')}), 't', 'chronos.cancel() finds it');
ok(wait_for_finished_run($node, 'postgres', 'cancelled'), 'and stops it');
is($node->safe_psql('postgres', q{SELECT status || ' ' || error || ' ' || (finished_at - started_at < '10 s')
	FROM chronos.runs WHERE task_name = 'cancelled'}), 'cancelled 57014: run cancelled by chronos.cancel() true',
	'the run is recorded cancelled, at once');

# --- https: the server's certificate is verified -------------------------------------------------------------------
my $dir = PostgreSQL::Test::Utils::tempdir();
PostgreSQL::Test::Utils::append_to_file("$dir/ext", 'subjectAltName=IP:127.0.0.1,DNS:localhost');
for my $command (
	"openssl req -x509 -newkey rsa:2048 -nodes -keyout $dir/ca.key -out $dir/ca.pem -days 2 -subj '/CN=chronos test CA'",
	"openssl req -newkey rsa:2048 -nodes -keyout $dir/server.key -out $dir/server.csr -subj '/CN=localhost'",
	"openssl x509 -req -in $dir/server.csr -CA $dir/ca.pem -CAkey $dir/ca.key -CAcreateserial -out $dir/server.pem -days 2 -extfile $dir/ext")
{
	system("$command >/dev/null 2>&1") == 0 or die "failed: $command";
}
my ($tls_port) = start_http_server(cert => "$dir/server.pem", key => "$dir/server.key");
$node->safe_psql('postgres',
	"INSERT INTO chronos.tasks (name, kind, command) VALUES ('unknown CA', 'http', 'https://127.0.0.1:$tls_port/ok')");
ok(wait_for_finished_run($node, 'postgres', 'unknown CA'), 'the https task ran');
like($node->safe_psql('postgres', "SELECT error FROM chronos.runs WHERE task_name = 'unknown CA'"),
	qr/^58000: TLS error with 127\.0\.0\.1: .*certificate/, 'a certificate of an unknown CA fails the run');
$node->append_conf('postgresql.conf', "chronos.http_ca_file = '$dir/ca.pem'");
$node->reload;
$node->safe_psql('postgres',
	"INSERT INTO chronos.tasks (name, kind, command) VALUES ('known CA', 'http', 'https://127.0.0.1:$tls_port/ok')");
ok(wait_for_finished_run($node, 'postgres', 'known CA'), 'the second https task ran');
is($node->safe_psql('postgres', "SELECT status || ' ' || result FROM chronos.runs WHERE task_name = 'known CA'"),
	"succeeded HTTP/1.1 200 OK\nhello", 'with chronos.http_ca_file naming its CA, it succeeds');

# on_failure of a run in flight runs as a task of its own (due at once, the task's owner, its timeout), not in the
# worker that drives the runs in flight: a slow one holds none of them up.
$node->safe_psql('postgres', q{CREATE TABLE failures (run jsonb);
	INSERT INTO chronos.tasks (name, kind, command, on_failure, timeout) VALUES
	  ('failing with hook', 'http', 'http://127.0.0.1:1/', 'INSERT INTO failures VALUES ($1)', '10s'),
	  ('failing with slow hook', 'http', 'http://127.0.0.1:1/', 'SELECT pg_sleep(60)', '1s')});
ok(wait_for($node, 'postgres', q{SELECT count(*) = 1 FROM failures WHERE run->>'status' = 'failed'}),
	"an http task's on_failure runs, with the run's JSON");
ok(wait_for($node, 'postgres', q{SELECT r.status = 'timed_out' FROM chronos.runs r JOIN chronos.tasks t ON t.id = r.task_id
	WHERE t.remark = 'on_failure of task ' || (SELECT id FROM chronos.tasks WHERE name = 'failing with slow hook')}),
	'as a task of its own, with the timeout of its task');
is($node->safe_psql('postgres', q{SELECT finished_at - started_at < interval '5 s' FROM chronos.runs
	WHERE task_name = 'failing with slow hook'}), 't', 'the failed run was recorded without waiting for it');

# chronos.max_requests_per_host counts requests in flight to a host across the cluster, and one owner may have half
# of them: two databases (each with its own workers) send six slow requests of the superuser to one host, two at a
# time, while another role's two requests to it, due at the same time, go at once. Each executor counts and takes its
# place under one lock, so the limits hold exactly even when both databases send at the same moment.
$node->append_conf('postgresql.conf', 'chronos.max_requests_per_host = 4');
$node->reload;
create_chronos_db($node, 'second');
grant_task_rights($node, 'second', 'other');
$node->safe_psql('second', q{INSERT INTO chronos.http_grants VALUES ('other', '127.0.0.1')});
my $due = $node->safe_psql('postgres', "SELECT clock_timestamp() + interval '2 s'");
for my $db (qw(postgres second))
{
	$node->safe_psql($db, qq{INSERT INTO chronos.tasks (name, kind, command, start_time)
		SELECT 'per host ' || i, 'http', '$base/slow?ms=4000&per_host=$db' || i, '$due' FROM generate_series(1, 3) i});
}
$node->psql('second', qq{INSERT INTO chronos.tasks (name, kind, command, start_time)
	SELECT 'other per host ' || i, 'http', '$base/slow?ms=4000&other_per_host=' || i, '$due' FROM generate_series(1, 2) i},
	extra_params => [ '-U', 'other' ]);
ok(wait_for($node, $_, q{SELECT count(*) = 3 FROM chronos.runs WHERE task_name LIKE 'per host %'
	AND status = 'succeeded'}), "the requests of database $_ succeed") for qw(postgres second);
ok(wait_for($node, 'second', q{SELECT count(*) = 2 FROM chronos.runs WHERE task_name LIKE 'other per host %'
	AND status = 'succeeded'}), "the other role's requests succeed");
my @to_host = http_requests($log);
my @mine = sort { $a <=> $b } map { $_->{at} } grep { $_->{path} =~ /[?&]per_host=/ } @to_host;
my @other = sort { $a <=> $b } map { $_->{at} } grep { $_->{path} =~ /other_per_host=/ } @to_host;
is(scalar(@mine) . ' ' . scalar(@other), '6 2', 'the host received the eight requests');
# The most requests that arrived within 3 s of each other: a request that takes another's place comes at least 4 s
# after it.
sub most_together
{
	my @starts = @_;
	my $most = 0;
	for my $t (@starts)
	{
		my $together = grep { $_ > $t - 3 && $_ <= $t } @starts;
		$most = $together if $together > $most;
	}
	return $most;
}
cmp_ok(most_together(@mine), '<=', 2, "one owner's requests: its half at a time, across both databases");
cmp_ok(most_together(@mine, @other), '<=', 4, 'all requests to the host: four at a time');
# Without the owner's half, the superuser's requests would take all four places, and the other role's would wait
# for them to end.
cmp_ok($other[-1], '<', $mine[2], "the other role's requests went before the first one's second pair");

unlike(slurp_file($node->logfile), qr/terminated by signal|PANIC|server process .* was terminated/,
	'no process crashed');
done_testing();
