#!/usr/bin/env bash
# `make run`: provision, migrate, seed, then run the web server (uvicorn), the Celery workers and beat
# in the foreground. Ctrl-C stops everything this script started.
source "$(dirname "$0")/lib.sh"

ensure_venv
trap stop_services EXIT
trap 'exit 130' INT TERM
ensure_postgres symphony
ensure_redis 0

export DEBUG="${DEBUG:-1}"
export PORT="${PORT:-8000}"
export HOST="${HOST:-127.0.0.1}"
if [ -z "${ALLOWED_HOSTS:-}" ] && [ "$HOST" != 127.0.0.1 ]; then
  export ALLOWED_HOSTS="127.0.0.1,localhost,$HOST"
fi
PATH="$VENV/bin:$PATH"
cd "$ROOT"

say "Applying migrations"
python manage.py migrate --noinput >/dev/null
say "Loading demo data"
python manage.py seed_demo

cat <<MSG

  Symphony is starting at  http://$HOST:$PORT
  Log in as owner, admin, editor, operator or viewer (team Demo),
  or acme-owner (team Acme); password: symphony-demo
  API docs: http://$HOST:$PORT/api/docs/   Health: http://$HOST:$PORT/healthz
  Press Ctrl-C to stop everything.

MSG
# Every process writes Prometheus samples here; the last run's would be added to this one's.
export PROMETHEUS_MULTIPROC_DIR="$ROOT/var/prometheus"
rm -rf "$PROMETHEUS_MULTIPROC_DIR" && mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
honcho -f "$ROOT/Procfile" start
