#!/usr/bin/env bash
# Runs every test: the core's GoogleTest suite (ctest), then pg_regress and TAP against temporary clusters, then a
# benchmark smoke run (bench/run.sh --smoke), so the benchmarks cannot rot, and last the Debian package
# (scripts/package.sh: built, installed, and tried on a throwaway cluster).
# Installs the Debian packages it needs; works as root (PostgreSQL then runs as "postgres") or as a user with sudo.
# Ends with the line "N passed, M failed" and exits non-zero on any failure.
set -uo pipefail
source "$(dirname "$0")/common.sh"
cd "$CHRONOS_ROOT"

passed=0
failed=0
count() { passed=$((passed + $1)); failed=$((failed + $2)); }

install_packages || exit 1

# The extension is installed into the system's PostgreSQL: hold the lock scripts/check.sh takes, so that another check
# on the same machine cannot install another build under this run.
exec 9>/tmp/pg_chronos-install.lock
flock 9

log "core unit tests (ctest)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null && cmake --build build -j2 >/dev/null || { echo "core build failed"; exit 1; }
ctest --test-dir build --output-on-failure -j2 | tee build/ctest.log | tail -n 3
line=$(grep -E 'tests passed, [0-9]+ tests failed out of' build/ctest.log)
total=$(sed -E 's/.* out of ([0-9]+).*/\1/' <<<"$line")
bad=$(sed -E 's/.* ([0-9]+) tests failed.*/\1/' <<<"$line")
count $((total - bad)) "$bad"

build_and_install_extension || exit 1

# pg_regress and TAP write into the tree and start servers: run them as the PostgreSQL user in a scratch copy.
work=$(pg_scratch_dir)
trap 'rm -rf "$work"' EXIT
cp -a "$CHRONOS_ROOT/." "$work/tree"
[ "$(id -u)" = 0 ] && chown -R postgres "$work/tree"

log "SQL tests (pg_regress)"
as_pg_user make -C "$work/tree" -s installcheck PG_CONFIG="$PG_CONFIG" TAP_TESTS= 2>&1 | tee "$work/regress.log"
regress_status=${PIPESTATUS[0]}
regress_ok=$(grep -cE '\.\.\. ok' "$work/regress.log")
regress_bad=$(grep -cE '\.\.\. FAILED' "$work/regress.log")
count "$regress_ok" "$regress_bad"
if [ "$regress_status" != 0 ] && [ "$regress_bad" = 0 ]; then echo "pg_regress did not complete"; count 0 1; fi
[ -f "$work/tree/regression.diffs" ] && head -n 80 "$work/tree/regression.diffs"

log "server tests (TAP)"
as_pg_user make -C "$work/tree" -s installcheck PG_CONFIG="$PG_CONFIG" REGRESS= 2>&1 | tee "$work/tap.log"
tap_status=${PIPESTATUS[0]}
tap_total=$(sed -nE 's/^Files=[0-9]+, Tests=([0-9]+),.*/\1/p' "$work/tap.log")
tap_bad=$(sed -nE 's/.*Failed ([0-9]+)\/[0-9]+ subtests.*/\1/p' "$work/tap.log" | awk '{s+=$1} END {print s+0}')
tap_dubious=$(grep -c 'Dubious\|Bad plan\|No subtests run' "$work/tap.log")
count $(( ${tap_total:-0} - tap_bad )) $(( tap_bad + tap_dubious ))
if [ -z "$tap_total" ] || [ "$tap_total" = 0 ]; then echo "TAP tests did not run"; count 0 1;
elif [ "$tap_status" != 0 ] && [ "$tap_bad" = 0 ] && [ "$tap_dubious" = 0 ]; then echo "TAP run failed"; count 0 1; fi
# What each failing test file said, kept for the end of the output (where a reader of the last lines finds it): its
# failed checks with their diagnostics, and the end of the server logs of its nodes.
failures="$work/failures.txt"
: >"$failures"
for t in $(sed -nE 's|^(test/t/[^ ]+\.pl) +\(Wstat.*|\1|p' "$work/tap.log"); do
    name=$(basename "$t" .pl)
    {
        echo "== $t failed"
        grep -h -E -A 12 ' not ok [0-9]+ |^not ok [0-9]+ ' "$work/tree/tmp_check/log/regress_log_$name" 2>/dev/null | head -n 60
        for server_log in "$work/tree/tmp_check/log/${name}"_*.log; do
            [ -f "$server_log" ] || continue
            echo "-- end of $(basename "$server_log")"
            grep -v 'LOG:  statement:' "$server_log" | tail -n 25
        done
    } >>"$failures"
done

log "benchmark smoke run (bench/run.sh --smoke: a 200-task burst on a fresh cluster)"
if bash "$CHRONOS_ROOT/bench/run.sh" --smoke 2>"$work/smoke.log"; then
    count 1 0
else
    tail -n 20 "$work/smoke.log"
    count 0 1
fi

# LAST on purpose: installing the .deb replaces the extension files that build_and_install_extension put in
# /usr/lib/postgresql/15/lib and /usr/share/postgresql/15/extension (same paths), so no step may follow it that expects
# the make-installed build (the package is built from this same tree, so both are this tree's build).
log "Debian package (scripts/package.sh: build postgresql-15-chronos, install it, CREATE EXTENSION, one task)"
if bash "$CHRONOS_ROOT/scripts/package.sh" 2>"$work/package.log"; then
    count 1 0
else
    tail -n 40 "$work/package.log"
    count 0 1
fi

[ -s "$failures" ] && { echo; cat "$failures"; }
echo
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
