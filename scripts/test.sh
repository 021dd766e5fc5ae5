#!/usr/bin/env bash
# `make test`: the same provisioning, then ruff, the migrations check and the whole
# pytest suite against real PostgreSQL and Redis. Extra arguments go to pytest.
source "$(dirname "$0")/lib.sh"

ensure_venv
trap stop_services EXIT
ensure_postgres symphony
ensure_redis 1
ensure_chromium
export CHROMIUM
export DEBUG=1
PATH="$VENV/bin:$PATH"
cd "$ROOT"

say "ruff"
ruff check .
say "mypy --strict on the pure core"
mypy workflows/domain workflows/serialization templates_app/domain audit/domain.py teams/roles.py symphony_site/env.py executions/domain executions/runtime executions/triggers/domain symphony_cli
say "lint-imports (import boundaries: pyproject.toml [tool.importlinter])"
lint-imports --no-cache
say "makemigrations --check"
python manage.py makemigrations --check --dry-run --settings=symphony_site.test_settings >/dev/null ||
  die "Model changes without migrations: run 'python manage.py makemigrations'."
say "pytest"
# Prometheus samples of earlier runs' processes (multiprocess mode) would be added to this run's.
rm -rf "$ROOT/var/prometheus" && mkdir -p "$ROOT/var/prometheus"
status=0
python -m pytest -n "${PYTEST_WORKERS:-2}" -q "$@" || status=$?
if [ "$status" = 5 ]; then
  die "pytest collected no tests."
fi
exit "$status"
