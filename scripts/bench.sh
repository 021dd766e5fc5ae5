#!/usr/bin/env bash
# `make bench`: the same provisioning as `make run`, into a separate database, then
# every benchmark in bench/ (arguments go to bench/run.py, e.g. --quick or an area);
# `profile-api` instead profiles the API in-process (bench/api/profile.py); `served-api` counts
# round trips per request through the ASGI application with the web's pool (bench/api/served.py).
source "$(dirname "$0")/lib.sh"

ensure_venv
trap stop_services EXIT
ensure_postgres symphony_bench
ensure_redis 3
export DEBUG=1
PATH="$VENV/bin:$PATH"
cd "$ROOT"
python manage.py migrate --noinput >/dev/null
if [ "${1:-}" = profile-api ]; then
  shift
  python -m bench.api.profile "$@"   # the in-process cost per API request (bench/api/profile.py)
elif [ "${1:-}" = served-api ]; then
  shift
  python -m bench.api.served "$@"    # round trips and thread hops per request through ASGI (bench/api/served.py)
else
  python -m bench.run "$@"
fi
