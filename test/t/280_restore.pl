# Backup and restore: a database with tasks of every kind, listeners and history is dumped (custom and plain format) and
# restored in one transaction into fresh databases of a cluster that runs pg_chronos and serves another database all
# the while; also data-only into a database that already has the extension. No restored task starts before the restore
# commits; rows, sequence positions and listeners are as dumped; rows of a missing role are set aside with one warning
# per role and put back once the role exists; a plain role's COPY is not redirected.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);
use IPC::Run;
use ChronosTest;

# --- the source: a cluster whose workers are gone, so that its rows stay exactly as written ----------------------------

my $source = start_chronos_node('restore_source');
$source->safe_psql('postgres', 'CREATE ROLE app LOGIN; CREATE ROLE ghost; CREATE ROLE phantom; CREATE ROLE gone');
create_chronos_db($source, 'shop');
$source->adjust_conf('postgresql.conf', 'shared_preload_libraries', "''");
$source->restart;

$source->safe_psql('shop', q{
	CREATE TABLE public.hits (at timestamptz NOT NULL DEFAULT clock_timestamp(), task text NOT NULL);
	GRANT SELECT, INSERT ON public.hits TO app;
	GRANT USAGE ON SCHEMA chronos TO app;
	-- Makes the restore take seconds after the rows of chronos are loaded (its data comes after theirs).
	CREATE TABLE public.filler (id int PRIMARY KEY, pad text NOT NULL);
	INSERT INTO public.filler SELECT i, md5(i::text) FROM generate_series(1, 3000000) i;
	CREATE FUNCTION public.on_signup(payload jsonb) RETURNS void LANGUAGE sql
	AS $$ INSERT INTO public.hits (task) VALUES ('event:' || (payload ->> 'user')) $$;

	INSERT INTO chronos.tasks (name, schedule, command, owner, start_time, catch_up) VALUES
	  ('every-second', '@every 1s', $$INSERT INTO public.hits (task) VALUES ('every-second')$$, 'app',
	   now() - interval '1 hour', 'skip'),
	  ('cron-minute', '* * * * *', $$INSERT INTO public.hits (task) VALUES ('cron-minute')$$, 'app',
	   now() - interval '1 hour', 'once'),
	  ('nightly', '30 3 * * *', 'SELECT 1', 'app', '2031-01-01 00:00+00', 'skip'),
	  ('paused', '@every 5s', 'SELECT 1', 'app', now(), 'skip'),
	  ('failed-task', '@every 1 minute', 'SELECT 1/0', 'app', now(), 'skip'),
	  ('stuck', '@every 1 hour', 'VACUUM public.hits', 'app', now(), 'skip'),
	  ('ghost-paused', '@every 1 minute', 'SELECT 1', 'ghost', now(), 'skip');
	INSERT INTO chronos.tasks (name, command, owner, start_time, payload) VALUES
	  ('once-past', $$INSERT INTO public.hits (task) VALUES ('once-past')$$, 'app', now() - interval '10 minutes', NULL),
	  ('with-payload', $$INSERT INTO public.hits (task) VALUES ('payload:' || ($1 ->> 'k'))$$, 'app',
	   now() - interval '1 minute', '{"k": "v"}'),
	  ('once-future', 'SELECT 1', 'app', '2031-01-01 00:00+00', NULL),
	  ('ghost-later', 'SELECT 1', 'ghost', '2031-01-01 00:00+00', NULL),
	  ('phantom-later', 'SELECT 1', 'phantom', '2031-01-01 00:00+00', NULL);
	INSERT INTO chronos.listeners (event, handler, owner) VALUES
	  ('signup', 'public.on_signup(jsonb)'::regprocedure, 'app'), ('signup', 'public.on_signup(jsonb)'::regprocedure, 'ghost');
	SELECT chronos.emit('signup', '{"user": "ann"}', owner => 'app');

	INSERT INTO chronos.runs (task_id, task_name, owner, scheduled_for, started_at, finished_at, status, error, result,
	                          pid, attempt, manual)
	SELECT t.id, t.name, t.owner, now() - i * interval '1 minute', now() - i * interval '1 minute',
	       now() - i * interval '1 minute' + interval '12 ms', 'succeeded', NULL, 'INSERT 0 1', 4242, 1, i = 2
	  FROM chronos.tasks t, generate_series(1, 3) i WHERE t.name IN ('every-second', 'ghost-paused');
	INSERT INTO chronos.runs (task_id, task_name, owner, scheduled_for, started_at, finished_at, status, error, pid)
	SELECT id, name, owner, now() - interval '2 minutes', now() - interval '2 minutes', now() - interval '119 s',
	       'failed', '22012: division by zero', 4243 FROM chronos.tasks WHERE name = 'failed-task';
	-- A run of a role dropped since, and a run left 'running' by a worker that was gone when the dump was taken.
	INSERT INTO chronos.runs (task_id, task_name, owner, scheduled_for, started_at, status, pid)
	SELECT 999, 'dropped-task', 'gone', now() - interval '1 day', now() - interval '1 day', 'succeeded', 4244;
	INSERT INTO chronos.runs (task_id, task_name, owner, scheduled_for, started_at, status, pid)
	SELECT id, name, owner, now() - interval '30 s', now() - interval '30 s', 'running', 999999
	  FROM chronos.tasks WHERE name = 'stuck';
	SET session_replication_role = replica;
	UPDATE chronos.tasks SET run_count = 3, last_exec_time = now() - interval '1 minute', last_status = 'succeeded',
	       last_duration = '12 ms' WHERE name IN ('every-second', 'ghost-paused');
	UPDATE chronos.tasks SET status = 'paused' WHERE name IN ('paused', 'ghost-paused');
	UPDATE chronos.tasks SET status = 'failed', failure_count = 5, last_status = 'failed',
	       last_error = '22012: division by zero', next_exec_time = NULL WHERE name = 'failed-task';
	UPDATE chronos.tasks SET status = 'running' WHERE name = 'stuck';
	RESET session_replication_role;
	-- Ids deleted since: the sequences are ahead of the rows.
	SELECT setval(pg_get_serial_sequence('chronos.tasks', 'id'), (SELECT max(id) + 10 FROM chronos.tasks));
	SELECT setval(pg_get_serial_sequence('chronos.runs', 'run_id'), (SELECT max(run_id) + 5 FROM chronos.runs));
});
$source->safe_psql('postgres', 'DROP ROLE gone');

# Every row of the extension's tables, and the sequence positions, one line each: owners by name (a dropped role's
# run, which the source shows by OID, is restored without a role: '-'). $only limits the lines, $strip removes keys.
my $describe = q{
SELECT kind || ' ' || key || ' ' || (data - '{STRIP}'::text[])::text FROM (
  SELECT 'task' AS kind, coalesce(t.name, '#' || t.id) AS key,
         to_jsonb(t) || jsonb_build_object('owner', t.owner::text,
                                           'command', regexp_replace(t.command, 'call_handler\(\d+,', 'call_handler(OID,'))
           AS data FROM chronos.tasks t
  UNION ALL
  SELECT 'run', r.run_id::text,
         to_jsonb(r) || jsonb_build_object('owner', CASE WHEN r.owner::text ~ '^[0-9]+$' THEN '-' ELSE r.owner::text END)
    FROM chronos.runs r
  UNION ALL
  SELECT 'listener', l.owner::text || '/' || l.event, to_jsonb(l) || jsonb_build_object('owner', l.owner::text, 'handler', l.handler::regprocedure::text)
    FROM chronos.listeners l
  UNION ALL
  SELECT 'sequence', 'tasks', jsonb_build_object('last_value', s.last_value, 'is_called', s.is_called)
    FROM chronos.tasks_id_seq s
  UNION ALL
  SELECT 'sequence', 'runs', jsonb_build_object('last_value', s.last_value, 'is_called', s.is_called)
    FROM chronos.runs_run_id_seq s
) d WHERE {ONLY} ORDER BY 1};

sub describe
{
	my ($node, $db, $only, $strip) = @_;
	my $sql = $describe;
	$sql =~ s/\{ONLY\}/$only/;
	$sql =~ s/\{STRIP\}/'{' . join(',', @{ $strip || [] }) . '}'/e;
	return $node->safe_psql($db, $sql);
}

# What a run changes in its task.
my @run_state = qw(status next_exec_time last_exec_time last_status last_error last_duration run_count failure_count
  attempt crash_count run_requested);
my $all_but_missing = q{coalesce(data ->> 'owner', '') NOT IN ('ghost', 'phantom')};
my $source_max_run = $source->safe_psql('shop', 'SELECT max(run_id) FROM chronos.runs');
# Rows no run touches after the restore: tasks not due, the dumped runs but the one left running, listeners.
my $untouched = qq{NOT (kind = 'task' AND (key IN ('every-second', 'cron-minute', 'once-past', 'with-payload', 'stuck')
                                           OR key LIKE '#%')
                        OR kind = 'sequence' AND key = 'runs'
                        OR kind = 'run' AND ((data ->> 'task_name') = 'stuck'
                                             OR (data ->> 'run_id')::bigint > $source_max_run))};
my $source_task_seq = $source->safe_psql('shop', 'SELECT last_value FROM chronos.tasks_id_seq');
my $source_run_seq = $source->safe_psql('shop', 'SELECT last_value FROM chronos.runs_run_id_seq');

my $custom_dump = $source->basedir . '/shop.dump';
my $plain_dump = $source->basedir . '/shop.sql';
$source->command_ok([ 'pg_dump', '-Fc', '-f', $custom_dump, '-d', $source->connstr('shop') ], 'pg_dump_custom_works');
$source->command_ok([ 'pg_dump', '-Fp', '-f', $plain_dump, '-d', $source->connstr('shop') ], 'pg_dump_plain_works');

# --- the target: a cluster running pg_chronos, serving database busy all along ------------------------------------------

# Four databases served at once, each with an executor or more: room for them all.
my $target = start_chronos_node('restore_target', 'track_commit_timestamp = on', 'max_worker_processes = 24');
# The roles restored first (pg_dumpall --globals-only), except ghost and phantom: they are missing.
$target->safe_psql('postgres', 'CREATE ROLE app LOGIN');
create_chronos_db($target, 'busy');
$target->safe_psql('busy', q{
	CREATE TABLE beats (at timestamptz NOT NULL DEFAULT clock_timestamp());
	INSERT INTO chronos.tasks (name, schedule, command) VALUES ('beat', '* * * * * *', 'INSERT INTO beats DEFAULT VALUES');
});
ok(wait_for($target, 'busy', 'SELECT count(*) >= 2 FROM beats'), 'the other database is served before the restores');

my $snapshot_sql = $target->basedir . '/snapshot.sql';
{
	my $sql = $describe;
	$sql =~ s/\{ONLY\}/true/;
	$sql =~ s/\{STRIP\}/{}/;
	open my $fh, '>', $snapshot_sql or die;
	print $fh "SET search_path = \"\$user\", public;\n";
	print $fh "CREATE TABLE public.restored_snapshot AS $sql;\n";
	close $fh;
}

# Runs $cmd; returns (success, stderr, seconds taken, start time, end time).
sub timed_run
{
	my (@cmd) = @_;
	my ($out, $err) = ('', '');
	my $start = time;
	my $ok = IPC::Run::run(\@cmd, '>', \$out, '2>', \$err);
	my $end = time;
	return ($ok, $err, $end - $start, $start, $end);
}

my %restore_seconds;
my %restore_stderr;
my %restore_window;
my %restore_log;    # the server log lines of each restore
$target->safe_psql('postgres', 'CREATE DATABASE custom; CREATE DATABASE plain; CREATE DATABASE dataonly');

my $offset = -s $target->logfile;
my ($ok, $err, $took, $start, $end) =
  timed_run('pg_restore', '--single-transaction', '-d', $target->connstr('custom'), $custom_dump);
$restore_log{custom} = slurp_file($target->logfile, $offset);
ok($ok, 'pg_restore_single_transaction_of_a_custom_dump_succeeds') or diag($err);
($restore_seconds{custom}, $restore_stderr{custom}, $restore_window{custom}) = ($took, $err, [ $start, $end ]);

$offset = -s $target->logfile;
($ok, $err, $took, $start, $end) = timed_run('psql', '-X', '-q', '--single-transaction', '-v', 'ON_ERROR_STOP=1',
	'-d', $target->connstr('plain'), '-f', $plain_dump, '-f', $snapshot_sql);
$restore_log{plain} = slurp_file($target->logfile, $offset);
ok($ok, 'psql_single_transaction_of_a_plain_dump_succeeds') or diag($err);
($restore_seconds{plain}, $restore_stderr{plain}, $restore_window{plain}) = ($took, $err, [ $start, $end ]);

# Data-only: the schema first (the extension is then served, with no task), then the data in one transaction.
($ok, $err) = timed_run('pg_restore', '--schema-only', '--single-transaction', '-d', $target->connstr('dataonly'),
	$custom_dump);
ok($ok, 'pg_restore_schema_only_succeeds') or diag($err);
ok(wait_for($target, 'dataonly', 'SELECT database_served FROM chronos.scheduler'),
	'the database is served before its data is restored');
$offset = -s $target->logfile;
($ok, $err, $took, $start, $end) = timed_run('pg_restore', '--data-only', '--single-transaction', '-d',
	$target->connstr('dataonly'), $custom_dump);
$restore_log{dataonly} = slurp_file($target->logfile, $offset);
ok($ok, 'pg_restore_data_only_single_transaction_succeeds') or diag($err);
($restore_seconds{dataonly}, $restore_stderr{dataonly}, $restore_window{dataonly}) = ($took, $err, [ $start, $end ]);

for my $db (qw(custom plain dataonly))
{
	# psql shows the server's warnings; pg_restore shows them only with --verbose. The server log has them all.
	my @errors = grep { !/WARNING:  role (ghost|phantom) does not exist|^(DETAIL|HINT):  / } split /\n/,
	  $restore_stderr{$db};
	is(join("\n", @errors), '', "$db: the restore writes nothing but the warnings for the missing roles");
	my @warnings = grep { /WARNING:  role/ } split /\n/, $restore_log{$db};
	is(scalar(grep { /role ghost does not exist: 2 rows of chronos\.tasks were set aside/ } @warnings) .
		  scalar(grep { /role ghost does not exist: 3 rows of chronos\.runs were set aside/ } @warnings) .
		  scalar(grep { /role ghost does not exist: 1 row of chronos\.listeners was set aside/ } @warnings) .
		  scalar(grep { /role phantom does not exist: 1 row of chronos\.tasks was set aside/ } @warnings) .
		  scalar(@warnings),
		'11114', "$db: one warning per missing role and table, with the count of its rows")
	  or diag($restore_log{$db});
}
# The other database's task, due every second, ran meanwhile.
my $beats = $target->safe_psql('busy', sprintf(q{SELECT count(*) FROM beats WHERE at BETWEEN to_timestamp(%.6f)
                                                   AND to_timestamp(%.6f)},
		$restore_window{custom}[0], $restore_window{dataonly}[1]));
my $span = $restore_window{dataonly}[1] - $restore_window{custom}[0];
cmp_ok($beats, '>=', 2, sprintf('the other database\'s task ran during the restores (%d runs in %.1f s)', $beats, $span));
diag(sprintf('restore times: custom %.2f s, plain %.2f s, data-only %.2f s (3,000,000 filler rows)',
		$restore_seconds{custom}, $restore_seconds{plain}, $restore_seconds{dataonly}));

# --- what was restored ---------------------------------------------------------------------------------------------------

is($target->safe_psql('plain', 'SELECT * FROM public.restored_snapshot ORDER BY 1'),
	describe($source, 'shop', $all_but_missing),
	'plain: at its commit the restore holds every row as dumped, and the sequence positions');
for my $db (qw(custom dataonly))
{
	is(describe($target, $db, "$untouched AND $all_but_missing"),
		describe($source, 'shop', "$untouched AND $all_but_missing"), "$db: rows no run changes are as dumped");
	is(describe($target, $db, "kind = 'task' AND $all_but_missing", \@run_state),
		describe($source, 'shop', "kind = 'task' AND $all_but_missing", \@run_state),
		"$db: the tasks that ran are as dumped but for what a run changes");
}

for my $db (qw(custom plain dataonly))
{
	# The commit of the restore: the transaction that wrote the paused task, which no run changes.
	my $committed = $target->safe_psql($db,
		q{SELECT pg_xact_commit_timestamp(xmin) FROM chronos.tasks WHERE name = 'paused'});
	ok(wait_for($target, $db, q{SELECT count(DISTINCT task) = 4 FROM public.hits
	                             WHERE task IN ('every-second', 'once-past', 'payload:v', 'event:ann')}),
		"$db: the restored tasks that were due run")
	  or diag($target->safe_psql($db, qq{SELECT * FROM chronos.scheduler;
	                                   SELECT task_name, status, error FROM chronos.runs WHERE run_id > $source_max_run;
	                                   SELECT name, status, next_exec_time FROM chronos.tasks ORDER BY id}));
	is($target->safe_psql($db, qq{SELECT count(*) FROM chronos.runs
	                               WHERE run_id > $source_max_run AND started_at < '$committed'}),
		'0', "$db: no restored task started before the restore committed");
	is($target->safe_psql($db, qq{SELECT count(*) FROM public.hits WHERE at < '$committed'}), '0',
		"$db: no command of a restored task ran before the restore committed");
	ok(wait_for($target, $db, q{SELECT status = 'interrupted' FROM chronos.runs WHERE task_name = 'stuck'}),
		"$db: the run left running in the dump is recorded as interrupted");
	is($target->safe_psql($db, q{SELECT status FROM chronos.tasks WHERE name = 'stuck'}), 'scheduled',
		"$db: the task of that run is scheduled again");
	is($target->safe_psql($db, q{SELECT count(*) FROM chronos.tasks
	                              WHERE command = format('SELECT chronos.call_handler(%s, %L, $1)',
	                                                     'public.on_signup(jsonb)'::regprocedure::oid, 'public.on_signup')}),
		'1', "$db: the task of the event emitted before the dump calls the handler of this database");
	is($target->safe_psql($db, q{SELECT owner::oid FROM chronos.runs WHERE task_name = 'dropped-task'}), '0',
		"$db: the run of a role the source had dropped has no role here");
	is($target->safe_psql($db, qq{SELECT min(run_id) > $source_run_seq FROM chronos.runs WHERE started_at >= '$committed'}),
		't', "$db: new runs are numbered after the dumped sequence position");
	is($target->safe_psql($db, q{INSERT INTO chronos.tasks (name, command, start_time)
	                             VALUES ('after-restore', 'SELECT 1', '2031-01-01') RETURNING id}),
		$source_task_seq + 1, "$db: a new task gets the id after the dumped sequence position");
}
my $log = slurp_file($target->logfile);
unlike($log, qr/duplicate key/, 'no worker met a duplicate key')
  or diag(join("\n", grep { /ERROR|pg_chronos/ } split /\n/, $log));

# --- the rows of the missing roles ----------------------------------------------------------------------------------------

is($target->safe_psql('custom', q{SELECT string_agg(table_name || ':' || owner_name, ',' ORDER BY table_name, owner_name)
                                    FROM chronos.unowned_rows}),
	'listeners:ghost,runs:ghost,runs:ghost,runs:ghost,tasks:ghost,tasks:ghost,tasks:phantom',
	'the rows of the missing roles are set aside');
is($target->safe_psql('custom', q{SELECT 'chronos.unowned_rows'::regclass = ANY (extconfig) FROM pg_extension
                                   WHERE extname = 'pg_chronos'}), 't', 'a dump of the database keeps them');
$target->safe_psql('postgres', 'CREATE ROLE ghost');
is($target->safe_psql('custom', 'SELECT * FROM chronos.restore_unowned_rows()'),
	"listeners|ghost|1|0\nruns|ghost|3|0\ntasks|ghost|2|0\ntasks|phantom|0|1",
	'restore_unowned_rows puts back the rows of a role that now exists and reports what is still missing');
is(describe($target, 'custom', q{(data ->> 'owner') = 'ghost'}), describe($source, 'shop', q{(data ->> 'owner') = 'ghost'}),
	'the rows put back are as dumped');
is($target->safe_psql('custom', 'SELECT string_agg(owner_name, \',\') FROM chronos.unowned_rows'), 'phantom',
	'the rows of the role still missing stay set aside');

# --- a plain role's COPY is not redirected ----------------------------------------------------------------------------------

grant_task_rights($target, 'custom', 'clerk');
my ($ret, $out, $stderr) = $target->psql('custom', qq{COPY chronos.tasks (name, command, owner, start_time) FROM stdin;
sneaky\tSELECT 1\tlater\t2031-01-01 00:00+00
\\.
}, extra_params => [ '-U', 'clerk' ]);
like($stderr, qr/COPY FROM not supported with row-level security/,
	'a plain role\'s COPY into chronos.tasks is PostgreSQL\'s own, refused under row-level security');
is($target->safe_psql('custom', q{SELECT count(*) FROM chronos.unowned_rows WHERE owner_name = 'later'}), '0',
	'a plain role cannot set rows aside for a role that may be created later');
($ret, $out, $stderr) = $target->psql('custom',
	q{INSERT INTO chronos.tasks (name, command, owner) VALUES ('sneaky', 'SELECT 1', 'later')},
	extra_params => [ '-U', 'clerk' ]);
like($stderr, qr/role "later" does not exist/, 'a plain role\'s insert naming a missing role fails');
for my $attempt ([ 'INSERT INTO chronos.tasks_restore (name, command, owner) VALUES (\'x\', \'SELECT 1\', \'later\')',
		qr/permission denied for view tasks_restore/ ],
	[ 'SELECT * FROM chronos.restore_unowned_rows()', qr/permission denied for function restore_unowned_rows/ ],
	[ q{SELECT chronos.note_unowned_row('later')}, qr/permission denied for function note_unowned_row/ ],
	[ 'SELECT count(*) FROM chronos.unowned_rows', qr/permission denied for table unowned_rows/ ])
{
	($ret, $out, $stderr) = $target->psql('custom', $attempt->[0], extra_params => [ '-U', 'clerk' ]);
	like($stderr, $attempt->[1], "a plain role is refused: $attempt->[0]");
}
# With session_replication_role = replica (no trigger fires) a superuser's COPY is PostgreSQL's own: a missing role
# fails it, rather than its rows vanishing through a view whose trigger does not fire.
($ret, $out, $stderr) = $target->psql('custom', qq{SET session_replication_role = replica;
COPY chronos.tasks (id, name, type, timezone, command, owner, start_time) FROM stdin;
900\treplica-missing\tonce\tUTC\tSELECT 1\tlater\t2031-01-01 00:00+00
\\.
});
like($stderr, qr/role "later" does not exist/, 'replica mode: a superuser\'s COPY naming a missing role fails');
$target->psql('custom', qq{SET session_replication_role = replica;
COPY chronos.tasks (id, name, type, timezone, command, owner, start_time) FROM stdin;
901\treplica-copy\tonce\tUTC\tSELECT 1\tapp\t2031-01-01 00:00+00
\\.
});
is($target->safe_psql('custom', q{SELECT owner::text FROM chronos.tasks WHERE id = 901}), 'app',
	'replica mode: a superuser\'s COPY keeps its rows');

$target->safe_psql('postgres', 'CREATE ROLE later');
is($target->safe_psql('custom', q{SELECT count(*) FROM chronos.tasks WHERE owner = 'later'::regrole}), '0',
	'the role created later has no task');

$target->stop;
$source->stop;
done_testing();
