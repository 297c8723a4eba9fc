#!/usr/bin/env bash
# A developer's quick check of part of the suite: builds, installs the extension (holding /tmp/pg_chronos-install.lock,
# so that checks of several trees on one machine do not install over each other's runs), and runs the named tests as the
# PostgreSQL user in a scratch copy of the tree:
#   scripts/check.sh test/t/200_upgrade.pl sql/security.sql     TAP files and pg_regress files, any mix
#   scripts/check.sh                                            every pg_regress file
# A failing pg_regress file's actual output is left in results/ (git ignores it), to compare or accept.
set -uo pipefail
source "$(dirname "$0")/common.sh"
cd "$CHRONOS_ROOT"

tap=() regress=()
for t in "$@"; do
    case "$t" in
        test/t/*.pl) tap+=("$t") ;;
        sql/*.sql) regress+=("$(basename "$t" .sql)") ;;
        *) echo "not a test: $t" >&2; exit 2 ;;
    esac
done
[ $# = 0 ] && regress=($(ls sql/*.sql | xargs -n1 basename | sed 's/\.sql$//'))

make -s -j2 PG_CONFIG="$PG_CONFIG" || exit 1
work=$(pg_scratch_dir)
trap 'rm -rf "$work"' EXIT
cp -a "$CHRONOS_ROOT/." "$work/tree"
rm -rf "$work/tree/tmp_check" "$work/tree/results"
[ "$(id -u)" = 0 ] && chown -R postgres "$work/tree"
status=0
(
    flock 9
    as_root make -s install PG_CONFIG="$PG_CONFIG" >/dev/null || exit 1
    if [ ${#regress[@]} -gt 0 ]; then
        as_pg_user make -C "$work/tree" -s installcheck PG_CONFIG="$PG_CONFIG" TAP_TESTS= REGRESS="${regress[*]}" ||
            { cat "$work/tree/regression.diffs" 2>/dev/null | head -n 150; rm -rf "$CHRONOS_ROOT/results";
              cp -r "$work/tree/results" "$CHRONOS_ROOT/results"; echo "actual output: results/"; exit 1; }
    fi
    if [ ${#tap[@]} -gt 0 ]; then
        as_pg_user make -C "$work/tree" -s installcheck PG_CONFIG="$PG_CONFIG" REGRESS= PROVE_TESTS="${tap[*]}" ||
            { find "$work/tree/tmp_check/log" -name 'regress_log_*' -exec tail -n 80 {} \; ; exit 1; }
    fi
) 9>/tmp/pg_chronos-install.lock || status=1
exit $status
