# No setting or fault makes the workers crash-loop: a database whose workers keep exiting with an error is retried with
# exponential back-off (1 s, doubling to a minute), said once per step in the log, and served again as soon as the cause
# is gone. The fault here is one an operator can cause: the workers' journal directory made unwritable, so that every
# worker of the database exits as it starts.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ChronosTest;

my $node = start_chronos_node('back_off');
create_chronos_db($node, 'postgres');
$node->safe_psql('postgres', q{CREATE TABLE hits (at timestamptz DEFAULT clock_timestamp());
	INSERT INTO chronos.tasks (name, schedule, command) VALUES ('tick', '@every 1s', 'INSERT INTO hits DEFAULT VALUES')});
ok(wait_for($node, 'postgres', 'SELECT count(*) >= 2 FROM hits'), 'the task runs');

my $journal = $node->data_dir . '/pg_chronos';
my $offset = -s $node->logfile;
chmod 0, $journal or die "chmod $journal: $!";
$node->safe_psql('postgres', q{SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                               WHERE backend_type = 'pg_chronos worker'});
sleep 20;
my $log = slurp_file($node->logfile, $offset);
my $exits = () = $log =~ /background worker "pg_chronos worker" \(PID \d+\) exited with exit code 1/g;
ok($exits >= 3 && $exits <= 8, "the failing workers are restarted with back-off ($exits exits in 20 s)");
my @waits = $log =~ /the worker of database "postgres" exited with an error \d+ times? in a row; the next starts in (\d+) s/g;
diag('waits said: ' . join(', ', @waits));
ok(@waits >= 3, 'each step of the back-off is said in the log');
ok(@waits >= 3 && $waits[2] > $waits[0] && $waits[1] >= $waits[0], 'the wait grows from one failure to the next');
my %said;
$said{$_}++ for $log =~ /exited with an error (\d+) times? in a row/g;
is(scalar(grep { $_ > 1 } values %said), 0, 'each step is said once');

chmod 0700, $journal or die "chmod $journal: $!";
my $before = $node->safe_psql('postgres', 'SELECT count(*) FROM hits');
ok(wait_for($node, 'postgres', "SELECT count(*) >= $before + 2 FROM hits", 90),
	'once the fault is gone, the database is served again');

$node->stop;
done_testing();
