# Shared steps of the TAP tests in test/t/: a node that preloads pg_chronos, a database with the extension, polling for
# a condition, and finding the extension's processes in pg_stat_activity.
package ChronosTest;

use strict;
use warnings;

use Exporter 'import';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use IPC::Run;
use Time::HiRes qw(usleep);

our @EXPORT = qw(start_chronos_node create_chronos_db wait_for wait_for_finished_run wait_for_log_line query_rows
  chronos_processes catalog_description grant_task_rights role_session
  wait_for_new_hit wait_until_task_running start_http_server http_requests worker_cpu_seconds $IS_CHRONOS_PROCESS);

# A pg_stat_activity condition that holds for the launcher and the executors of pg_chronos.
our $IS_CHRONOS_PROCESS = "(backend_type LIKE '%chronos%' OR application_name LIKE '%chronos%')";

# Creates and starts a node that preloads pg_chronos. An optional leading hash reference holds parameters for init
# (e.g. { allows_streaming => 1 }); the remaining arguments are postgresql.conf lines.
sub start_chronos_node
{
	my ($name, @conf) = @_;
	my $init = ref $conf[0] eq 'HASH' ? shift @conf : {};

	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init(%$init);
	$node->append_conf('postgresql.conf',
		join("\n", "shared_preload_libraries = 'pg_chronos'", "timezone = 'UTC'", @conf));
	$node->start;
	return $node;
}

# Creates database $db (unless it is "postgres") and the extension in it.
sub create_chronos_db
{
	my ($node, $db) = @_;
	$node->safe_psql('postgres', qq{CREATE DATABASE "$db"}) unless $db eq 'postgres';
	$node->safe_psql($db, 'CREATE EXTENSION pg_chronos');
	return;
}

# Calls $condition every 50 ms until it returns true; false after $timeout seconds (default 60).
sub poll_until
{
	my ($condition, $timeout) = @_;
	$timeout //= 60;
	my $deadline = Time::HiRes::time() + $timeout;
	while (Time::HiRes::time() < $deadline)
	{
		return 1 if $condition->();
		usleep(50_000);
	}
	return 0;
}

# Polls $sql (one boolean) until it returns true; false after $timeout seconds. Connection failures and errors count as
# "not yet", so it also waits through a restart.
sub wait_for
{
	my ($node, $db, $sql, $timeout) = @_;
	my ($ret, $out, $err);
	return 1 if poll_until(sub { ($ret, $out, $err) = $node->psql($db, $sql); $ret == 0 && $out eq 't' }, $timeout);
	diag("waited in vain for: $sql\nlast output: '$out'\nlast error: '$err'");
	return 0;
}

# Waits until the task called $task has a run that is over, whatever its status.
sub wait_for_finished_run
{
	my ($node, $db, $task) = @_;
	return wait_for($node, $db,
		"SELECT EXISTS (SELECT FROM chronos.runs WHERE task_name = '$task' AND status <> 'running')");
}

# Waits until the server log, from byte $offset on, matches $regexp; false after $timeout seconds.
sub wait_for_log_line
{
	my ($node, $regexp, $offset, $timeout) = @_;
	return 1 if poll_until(sub { slurp_file($node->logfile, $offset) =~ $regexp }, $timeout);
	diag("the server log never matched $regexp");
	return 0;
}

# Creates LOGIN role $role in database $db (unless it exists) with the grants docs/security.md tells a DBA to give an
# application role: the tasks, the runs and the views, the sequences, and the listeners.
sub grant_task_rights
{
	my ($node, $db, $role) = @_;
	$node->safe_psql($db, qq{
		DO \$\$ BEGIN CREATE ROLE "$role" LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END \$\$;
		GRANT USAGE ON SCHEMA chronos TO "$role";
		GRANT SELECT, INSERT, UPDATE, DELETE ON chronos.tasks, chronos.listeners TO "$role";
		GRANT SELECT ON chronos.runs, chronos.task_status, chronos.running, chronos.history, chronos.task_stats TO "$role";
		GRANT USAGE ON ALL SEQUENCES IN SCHEMA chronos TO "$role";
	});
	return;
}

# A background psql session (PostgreSQL::Test::BackgroundPsql) in database $db, logged in as $role (undef: the
# superuser the node was made with).
sub role_session
{
	my ($node, $db, $role, %params) = @_;
	return $node->background_psql($db, %params, $role ? (extra_params => [ '-U', $role ]) : ());
}

# CPU seconds the pg_chronos workers of $node have used so far (processes of its postmaster; a worker that has exited
# no longer counts).
sub worker_cpu_seconds
{
	my ($node) = @_;
	my $checkpointer = $node->safe_psql('postgres', q{SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'});
	my $postmaster = (split ' ', slurp_file("/proc/$checkpointer/stat") =~ s/^.*\)\s//sr)[1];
	my $ticks = 0;
	for my $stat (glob '/proc/[0-9]*/stat')
	{
		my $text = eval { slurp_file($stat) } // next;
		next unless $text =~ /^(\d+) \(postgres\) (.*)$/s;
		my ($pid, @fields) = ($1, split ' ', $2);
		next unless $fields[1] == $postmaster;
		my $command = eval { slurp_file("/proc/$pid/cmdline") } // '';
		$ticks += $fields[11] + $fields[12] if $command =~ /pg_chronos worker/;
	}
	return $ticks / 100;
}

# Waits until task $task of database $db records a row in table public.hits (columns task, at) after this moment.
sub wait_for_new_hit
{
	my ($node, $db, $task) = @_;
	my $now = $node->safe_psql($db, 'SELECT clock_timestamp()');
	return wait_for($node, $db, "SELECT EXISTS (SELECT FROM public.hits WHERE task = '$task' AND at > '$now')", 30);
}

# Waits until task $task of database $db is running (its executor reports it as its active query).
sub wait_until_task_running
{
	my ($node, $db, $task) = @_;
	return wait_for($node, 'postgres',
		"SELECT EXISTS (SELECT FROM pg_stat_activity WHERE datname = '$db' AND state = 'active'
		                AND query LIKE 'pg_chronos task $task:%')");
}

# Starts test/http_server.py on loopback (see its header for what it answers), with TLS when $tls holds cert and key
# files. Returns the server's port and the file it logs each request to (http_requests reads it). Stopped at exit.
my @http_servers;
sub start_http_server
{
	my (%tls) = @_;
	my $log = PostgreSQL::Test::Utils::tempdir() . '/requests.jsonl';
	my ($out, $err) = ('', '');
	my @command = ('python3', "$FindBin::RealBin/../http_server.py", '--log', $log);
	push @command, '--cert', $tls{cert}, '--key', $tls{key} if $tls{cert};
	my $server = IPC::Run::start(\@command, '>', \$out, '2>', \$err);
	push @http_servers, $server;
	poll_until(sub { $server->pump_nb; $out =~ /^\d+\n/ }, 30) or die "the HTTP server did not start: $err";
	my ($port) = $out =~ /^(\d+)/;
	return ($port, $log);
}

END { local $?; $_->kill_kill for @http_servers; }

# The requests the server logging to $log received, as hash references (method, path, headers, body).
sub http_requests
{
	my ($log) = @_;
	return () unless -e $log;
	require JSON::PP;
	return map { JSON::PP::decode_json($_) } grep { /\S/ } split /\n/, slurp_file($log);
}

# Rows of $sql as array references of column values (NULL reads as the empty string).
sub query_rows
{
	my ($node, $db, $sql) = @_;
	my $out = $node->safe_psql($db, $sql);
	return map { [ split /\|/, $_, -1 ] } grep { $_ ne '' } split /\n/, $out;
}

# The extension's processes as "pid|backend_type|datname|application_name" lines, for diagnostics.
sub chronos_processes
{
	my ($node) = @_;
	return $node->safe_psql('postgres',
		"SELECT pid, backend_type, datname, application_name FROM pg_stat_activity WHERE $IS_CHRONOS_PROCESS ORDER BY pid");
}

# Every object of the extension in database $db, one line each ("kind|name|definition"), sorted: two databases whose
# descriptions are equal have the same catalog (columns and their order, types, defaults, constraints, indexes,
# functions with their settings and grants, views, triggers, policies, comments, configuration tables, membership).
sub catalog_description
{
	my ($node, $db) = @_;
	return $node->safe_psql($db, q{
WITH ns AS (SELECT 'chronos'::regnamespace AS oid),
rels AS (SELECT c.* FROM pg_class c, ns WHERE c.relnamespace = ns.oid)
SELECT kind || '|' || ident || '|' || coalesce(def, '') FROM (
  SELECT 'relation' AS kind, c.relname::text AS ident,
         format('%s acl=%s options=%s rls=%s/%s', c.relkind, c.relacl, c.reloptions, c.relrowsecurity,
                c.relforcerowsecurity) AS def
    FROM rels c
  UNION ALL
  SELECT 'column', c.relname || '.' || a.attname,
         format('%s %s notnull=%s default=%s identity=%s', a.attnum, format_type(a.atttypid, a.atttypmod),
                a.attnotnull, pg_get_expr(d.adbin, d.adrelid), a.attidentity)
    FROM rels c JOIN pg_attribute a ON a.attrelid = c.oid
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
   WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'v')
  UNION ALL
  SELECT 'index', c.relname, pg_get_indexdef(c.oid) FROM rels c WHERE c.relkind = 'i'
  UNION ALL
  SELECT 'constraint', k.conrelid::regclass || '.' || k.conname, pg_get_constraintdef(k.oid)
    FROM pg_constraint k, ns WHERE k.connamespace = ns.oid
  UNION ALL
  SELECT 'function', p.oid::regprocedure::text, pg_get_functiondef(p.oid) || ' acl=' || coalesce(p.proacl::text, '')
    FROM pg_proc p, ns WHERE p.pronamespace = ns.oid
  UNION ALL
  SELECT 'view', c.relname, pg_get_viewdef(c.oid) FROM rels c WHERE c.relkind = 'v'
  UNION ALL
  SELECT 'trigger', t.tgrelid::regclass || '.' || t.tgname, pg_get_triggerdef(t.oid)
    FROM pg_trigger t JOIN rels c ON c.oid = t.tgrelid WHERE NOT t.tgisinternal
  UNION ALL
  SELECT 'policy', p.tablename || '.' || p.policyname,
         format('%s %s %s using=%s check=%s', p.permissive, p.roles, p.cmd, p.qual, p.with_check)
    FROM pg_policies p WHERE p.schemaname = 'chronos'
  UNION ALL
  SELECT 'type', t.typname,
         t.typtype::text || ' ' || coalesce((SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)
                                         FROM pg_enum e WHERE e.enumtypid = t.oid), '')
    FROM pg_type t, ns WHERE t.typnamespace = ns.oid
  UNION ALL
  SELECT 'comment', pg_describe_object(d.classoid, d.objoid, d.objsubid), d.description
    FROM pg_description d
   WHERE pg_describe_object(d.classoid, d.objoid, d.objsubid) ~ 'chronos\.' OR d.classoid = 'pg_namespace'::regclass
     AND d.objoid = 'chronos'::regnamespace
  UNION ALL
  SELECT 'member', pg_describe_object(d.classid, d.objid, d.objsubid), d.deptype::text
    FROM pg_depend d JOIN pg_extension e ON d.refclassid = 'pg_extension'::regclass AND d.refobjid = e.oid
   WHERE e.extname = 'pg_chronos'
  UNION ALL
  SELECT 'configuration', c::regclass::text, '' FROM pg_extension e, unnest(e.extconfig) c
   WHERE e.extname = 'pg_chronos'
) described ORDER BY 1});
}

1;
