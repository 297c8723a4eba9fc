#!/usr/bin/env bash
# Builds the Debian package postgresql-15-chronos from debian/ (dpkg-buildpackage, in a scratch copy of the tree, so the
# tree stays clean), installs it into the system's PostgreSQL, and proves it works on a throwaway cluster: CREATE
# EXTENSION gives the control file's version and a task runs. The .deb is left in build/deb/.
#   scripts/package.sh        prints one line "package: built …, installed, CREATE EXTENSION 1.2, a task ran"; the build's
#                             own output goes to stderr; exits non-zero on any failure
# Installing the package replaces the files a `make install` put in PostgreSQL's directories (the same paths); it
# stays installed. Hold /tmp/pg_chronos-install.lock around it, as scripts/check.sh does.
set -uo pipefail
source "$(dirname "$0")/common.sh"
cd "$CHRONOS_ROOT"

fail() { echo "package: $*" >&2; exit 1; }
started=$SECONDS

install_packages postgresql-$PG_MAJOR postgresql-server-dev-$PG_MAJOR postgresql-server-dev-all debhelper dpkg-dev \
    libboost-date-time-dev g++ make >&2 || fail "could not install the build dependencies"

work=$(pg_scratch_dir)
cleanup() {
    stop_cluster "$work"
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The scratch copy holds the tree's files as git sees them (tracked and new, nothing ignored: no objects, no results).
src="$work/build/pg-chronos"
mkdir -p "$src"
if git -C "$CHRONOS_ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git -C "$CHRONOS_ROOT" ls-files -z --cached --others --exclude-standard |
        (cd "$CHRONOS_ROOT" && xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh) |
        tar -C "$CHRONOS_ROOT" --null -T - -cf - | tar -C "$src" -xf - || fail "could not copy the tree"
else
    cp -a "$CHRONOS_ROOT/." "$src" && make -C "$src" -s clean PG_CONFIG="$PG_CONFIG" >/dev/null 2>&1
fi

version=$(cd "$src" && dpkg-parsechangelog -S Version) || fail "cannot read debian/changelog"
arch=$(dpkg --print-architecture)
deb="postgresql-$PG_MAJOR-chronos_${version}_$arch.deb"

log "building $deb (dpkg-buildpackage -b)" >&2
(cd "$src" && dpkg-buildpackage -b -us -uc -j2) >&2 || fail "dpkg-buildpackage failed"
[ -f "$work/build/$deb" ] || fail "dpkg-buildpackage made no $deb"
mkdir -p "$CHRONOS_ROOT/build/deb"
cp "$work/build/$deb" "$CHRONOS_ROOT/build/deb/"
dpkg -c "$work/build/$deb" >&2

# --reinstall: the same version may be installed already while a later `make install` replaced its files.
log "installing $deb" >&2
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --reinstall --no-install-recommends \
    "$work/build/$deb" >&2 || fail "apt-get install of $deb failed"
# The files on disk are the package's (a make install would show as changed checksums).
as_root dpkg --verify "postgresql-$PG_MAJOR-chronos" >&2 || fail "the installed files differ from the package's"

log "CREATE EXTENSION and one task on a throwaway cluster" >&2
port=5432
start_cluster "$work" "$port" || fail "the cluster did not start (log: $work/server.log)"
sql() { as_pg_user "$PG_BIN/psql" -h "$work" -p "$port" -U postgres -d postgres -X -q -At -v ON_ERROR_STOP=1 "$@"; }

want=$(sed -n "s/^default_version = '\(.*\)'/\1/p" "$src/pg_chronos.control")
got=$(sql -c "CREATE EXTENSION pg_chronos" -c "SELECT extversion FROM pg_extension WHERE extname = 'pg_chronos'") ||
    fail "CREATE EXTENSION pg_chronos failed"
[ "$got" = "$want" ] || fail "CREATE EXTENSION made version '$got', expected '$want'"

sql -c "CREATE TABLE package_check (ran_at timestamptz)" \
    -c "INSERT INTO chronos.tasks (name, command) VALUES ('package-check', 'INSERT INTO package_check VALUES (now())')" ||
    fail "could not schedule a task"
ran=""
for _ in $(seq 1 120); do
    ran=$(sql -c "SELECT count(*) FROM chronos.runs WHERE task_name = 'package-check' AND status = 'succeeded'") || true
    [ "$ran" = 1 ] && break
    sleep 0.5
done
if [ "$ran" != 1 ]; then
    sql -c "SELECT status, last_error FROM chronos.tasks" >&2
    tail -n 20 "$work/server.log" >&2
    fail "the task did not run within 60 s"
fi
[ "$(sql -c "SELECT count(*) FROM package_check")" = 1 ] || fail "the task's run succeeded but its row is missing"
stop_cluster "$work"

echo "package: took $((SECONDS - started)) s; the .deb is in build/deb/" >&2
echo "package: built $deb, installed, CREATE EXTENSION $got, a task ran"
