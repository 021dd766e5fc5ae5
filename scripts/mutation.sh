#!/usr/bin/env bash
# `make test-mutation`: cosmic-ray over the access, services and selectors modules.
#
# The same provisioning as `make test` (scripts/lib.sh: virtualenv, private
# PostgreSQL and Redis under var/). Each module is mutated in place, one
# mutant at a time, and the tests that exercise it run against the real
# database (pytest -x: the first failing test kills the mutant). Reports go to
# var/mutation/<module>.txt; docs/testing.md keeps the scores and explains
# every survivor.
#
#   MUTATION_MODULES="teams/access.py templates_app/access.py"  only these
#   MUTATION_BUDGET=1800   seconds per module before the run stops (default 3600)
#
# Not part of `make test`: a module takes minutes to an hour.
source "$(dirname "$0")/lib.sh"

ensure_venv
trap 'restore_modules; stop_services' EXIT
ensure_postgres symphony
ensure_redis 1
export DEBUG=1
PATH="$VENV/bin:$PATH"
cd "$ROOT"

OUT="$VAR/mutation"
mkdir -p "$OUT"
BUDGET="${MUTATION_BUDGET:-3600}"
PYTEST="python -m pytest -x -q -p no:cacheprovider -p no:xdist --reuse-db"

# module|the tests that exercise it, the likeliest killers first.
TARGETS=(
  "teams/access.py|tests/teams/test_access.py tests/teams/test_access_not_a_user.py tests/teams/test_api.py tests/templates_app/test_deprecation_roles.py tests/audit/test_api.py"
  "templates_app/access.py|tests/templates_app/test_search.py tests/templates_app/test_access_helpers.py tests/templates_app/test_deprecation_roles.py tests/templates_app/test_api.py tests/templates_app/test_views.py"
  "teams/services.py|tests/teams/test_api.py tests/teams/test_owner_race.py tests/teams/test_access.py tests/teams/test_audit_coverage.py"
  "workflows/selectors.py|tests/workflows/test_api.py tests/workflows/test_views.py"
  "workflows/services.py|tests/workflows/test_api.py tests/workflows/test_concurrency.py tests/workflows/test_models.py"
  "templates_app/selectors.py|tests/templates_app/test_search.py tests/templates_app/test_api.py"
  "templates_app/services|tests/templates_app/test_api.py tests/templates_app/test_deprecation_roles.py tests/templates_app/test_origin.py tests/templates_app/test_versions.py"
  "audit/access.py|tests/audit/test_small_rules.py tests/audit/test_api.py tests/audit/test_views.py"
  "audit/selectors.py|tests/audit/test_api.py tests/audit/test_small_rules.py tests/audit/test_views.py"
  "audit/services|tests/audit/test_append.py tests/audit/test_small_rules.py tests/audit/test_prune.py tests/audit/test_api.py"
)

MUTATED=()
restore_modules() {
  # cosmic-ray restores each mutant itself; this covers a run stopped by the budget.
  local module
  for module in "${MUTATED[@]}"; do
    git checkout --quiet -- "$module" 2>/dev/null || true
  done
}

wanted() {
  [ -z "${MUTATION_MODULES:-}" ] && return 0
  local choice
  for choice in $MUTATION_MODULES; do [ "$choice" = "$1" ] && return 0; done
  return 1
}

# Create the test database once; every mutant's run reuses it.
say "Preparing the test database"
$PYTEST --create-db tests/test_health.py >/dev/null

for target in "${TARGETS[@]}"; do
  module="${target%%|*}"
  tests="${target#*|}"
  wanted "$module" || continue
  [ -e "$module" ] || { say "skipping $module (not in this checkout)"; continue; }
  git diff --quiet -- "$module" || die "$module has uncommitted changes; commit them first (mutants are written in place)."
  existing=""
  for test_file in $tests; do [ -e "$test_file" ] && existing="$existing $test_file"; done
  name="$(echo "$module" | tr '/.' '__')"
  config="$OUT/$name.toml"
  session="$OUT/$name.sqlite"
  cat > "$config" <<TOML
[cosmic-ray]
module-path = "$module"
timeout = 600.0
excluded-modules = []
test-command = "$PYTEST$existing"

[cosmic-ray.distributor]
name = "local"

[cosmic-ray.filters.operators-filter]
# Binary operators in these modules are type annotations (\`X | None\`, never evaluated
# under \`from __future__ import annotations\`) or Q objects; the Q ones are kept.
exclude-operators = $( [ "$module" = "templates_app/access.py" ] && echo '["core/ReplaceBinaryOperator_Mul_.*"]' || echo '["core/ReplaceBinaryOperator_.*"]' )
TOML
  say "Mutating $module (tests:$existing)"
  rm -f "$session"
  cosmic-ray init "$config" "$session"
  cr-filter-operators "$session" "$config"
  MUTATED+=("$module")
  timeout --signal=INT "$BUDGET" cosmic-ray exec "$config" "$session" || say "$module: stopped at the budget"
  restore_modules
  cr-report "$session" --show-pending > "$OUT/$name.txt"
  tail -3 "$OUT/$name.txt"
done
