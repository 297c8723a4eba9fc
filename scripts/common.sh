# Steps shared by scripts/demo.sh, scripts/test.sh and bench/run.sh: install Debian packages, build, install the extension,
# and run commands as a non-root user (PostgreSQL refuses to run as root). Sourced, not executed.

CHRONOS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PG_MAJOR=${PG_MAJOR:-15}
# CHRONOS_PG_BIN: another PostgreSQL build's bin directory (with its pg_config) to build, install and run with.
PG_BIN=${CHRONOS_PG_BIN:-/usr/lib/postgresql/$PG_MAJOR/bin}
if [ -n "${CHRONOS_PG_BIN:-}" ]; then
    export PG_CONFIG=$PG_BIN/pg_config
else
    export PG_CONFIG=$PG_BIN/../../../../bin/pg_config
    [ -x "$PG_CONFIG" ] || PG_CONFIG=/usr/bin/pg_config
fi

CHRONOS_PACKAGES="postgresql-$PG_MAJOR postgresql-server-dev-$PG_MAJOR libboost-date-time-dev libgtest-dev libbenchmark-dev libcurl4-openssl-dev
  postgresql-$PG_MAJOR-cron cmake g++ make libipc-run-perl tzdata python3 openssl"

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

log() { printf '\n== %s\n' "$*"; }

# Installs the Debian packages in "$@" (default: what building and testing need) that are not installed yet.
install_packages() {
    local wanted=${*:-$CHRONOS_PACKAGES} missing=""
    for p in $wanted; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
    done
    [ -z "$missing" ] && return 0
    log "installing Debian packages:$missing"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    # shellcheck disable=SC2086
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
}

# The user PostgreSQL runs as: the caller, or "postgres" when the caller is root.
pg_user() {
    if [ "$(id -u)" = 0 ]; then echo postgres; else id -un; fi
}

as_pg_user() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# Builds the extension and installs it into the server's directories.
build_and_install_extension() {
    log "building and installing the extension"
    make -C "$CHRONOS_ROOT" -s -j2 PG_CONFIG="$PG_CONFIG"
    as_root make -C "$CHRONOS_ROOT" -s install PG_CONFIG="$PG_CONFIG"
}

# A directory the PostgreSQL user may write to, removed when the calling script exits.
pg_scratch_dir() {
    local dir
    dir=$(mktemp -d /tmp/pg_chronos.XXXXXX)
    chmod 755 "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    echo "$dir"
}

# Starts a throwaway cluster in "$1" on port "$2" that preloads pg_chronos; extra settings follow as "name = value" lines.
start_cluster() {
    local dir=$1 port=$2
    shift 2
    as_pg_user "$PG_BIN/initdb" -D "$dir/data" -A trust -U postgres --no-sync >/dev/null
    {
        echo "shared_preload_libraries = 'pg_chronos'"
        echo "port = $port"
        echo "listen_addresses = ''"
        echo "unix_socket_directories = '$dir'"
        printf '%s\n' "$@"
    } | as_pg_user tee -a "$dir/data/postgresql.conf" >/dev/null
    as_pg_user "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w start >/dev/null
}

stop_cluster() {
    local dir=$1
    [ -f "$dir/data/postmaster.pid" ] && as_pg_user "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1
    return 0
}
