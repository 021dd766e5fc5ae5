#!/usr/bin/env bash
# `make test-mutation`: cosmic-ray over the access, services and selectors modules, the
# execution engine (stepping, recording, books, claiming, dispatch, reaper) and its pure state machine.
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
#   MUTATION_SAMPLE="executions/engine/stepping.py=8 executions/domain/machine.py=60"
#                          run only N mutants of that module, chosen reproducibly
#                          (scripts/mutation_filter.py; MUTATION_SEED, default "symphony")
#
# Not part of `make test`: a module takes minutes to an hour.
source "$(dirname "$0")/lib.sh"

ensure_venv
trap 'restore_modules; stop_services' EXIT
export DEBUG=1
PATH="$VENV/bin:$PATH"
cd "$ROOT"

OUT="$VAR/mutation"
mkdir -p "$OUT"
BUDGET="${MUTATION_BUDGET:-3600}"
PYTEST="python -m pytest -x -q -p no:cacheprovider -p no:xdist --reuse-db"
PURE_PYTEST="python -m pytest -x -q -p no:cacheprovider -p no:xdist -p no:django --noconftest"

# module|kind|the tests that exercise it, the likeliest killers first. A "pure" module's tests
# import no Django: they run without the project's conftest, the database or Redis.
ENGINE_CHECK="tests/executions/test_engine_state_machine.py tests/executions/test_engine_basics.py"
TARGETS=(
  "teams/access.py|db|tests/teams/test_access.py tests/teams/test_access_not_a_user.py tests/teams/test_api.py tests/templates_app/test_deprecation_roles.py tests/audit/test_api.py"
  "templates_app/access.py|db|tests/templates_app/test_search.py tests/templates_app/test_access_helpers.py tests/templates_app/test_deprecation_roles.py tests/templates_app/test_api.py tests/templates_app/test_views.py"
  "workflows/access.py|db|tests/workflows/test_api.py"
  "executions/access.py|db|tests/executions/test_api.py"
  "audit/access.py|db|tests/audit/test_small_rules.py tests/audit/test_api.py tests/audit/test_views.py"
  "instruments/access.py|db|tests/instruments/test_secrets_api.py tests/instruments/test_providers_and_models.py"
  "executions/domain/states.py|pure|tests/executions/test_domain_states.py tests/executions/test_domain_machine_cases.py tests/executions/test_domain_machine.py tests/executions/test_domain_bulk.py"
  "executions/domain/machine.py|pure|tests/executions/test_domain_machine_cases.py tests/executions/test_domain_states.py tests/executions/test_domain_machine.py tests/executions/test_domain_bulk.py"
  "executions/domain/policy.py|pure|tests/executions/test_domain_machine_cases.py tests/executions/test_domain_states.py tests/executions/test_domain_machine.py tests/executions/test_domain_bulk.py"
  "executions/domain/commands.py|pure|tests/executions/test_domain_machine_cases.py tests/executions/test_domain_states.py tests/executions/test_domain_machine.py tests/executions/test_domain_bulk.py"
  "executions/engine/dispatching.py|db|tests/executions/test_dispatching.py $ENGINE_CHECK"
  "executions/engine/stepping.py|db|tests/executions/test_engine_paths.py::test_a_kept_successor_left_when_the_budget_runs_out_goes_through_the_broker tests/test_logs.py::test_a_steps_attempt_line_gives_the_nodes_run_time_in_milliseconds tests/executions/test_start_inline.py tests/executions/test_engine_paths.py::test_a_kept_successor_runs_inline_while_the_budget_lasts tests/executions/test_engine_paths.py::test_without_a_budget_every_successor_goes_through_the_broker tests/executions/test_statement_counts.py tests/executions/test_batches.py $ENGINE_CHECK"
  "executions/engine/recording.py|db|tests/executions/test_engine_paths.py::test_a_failed_attempts_log_lines_are_kept tests/executions/test_engine_paths.py::test_a_node_running_when_the_execution_began_to_wait_is_recorded_and_its_successor_waits_unsent tests/executions/test_statement_counts.py tests/executions/test_start_inline.py tests/executions/test_batches.py $ENGINE_CHECK"
  "executions/engine/books.py|db|tests/executions/test_start_inline.py tests/executions/test_statement_counts.py tests/executions/test_batches.py tests/executions/test_engine_paths.py $ENGINE_CHECK tests/executions/test_control.py"
  "executions/engine/claiming.py|db|tests/executions/test_statement_counts.py::test_a_steps_statements_are_prepared_on_the_connection tests/executions/test_engine_paths.py::test_a_message_whose_run_is_done_costs_two_statements_and_claims_nothing tests/executions/test_engine_paths.py::test_a_claim_carries_the_time_left_before_the_executions_deadline tests/executions/test_engine_paths.py::test_a_redelivered_message_takes_over_the_run_of_a_dead_process_and_names_its_node tests/executions/test_faults.py::test_two_deliveries_racing_record_the_node_once tests/executions/test_faults.py::test_a_step_message_delivered_twice_changes_nothing_the_second_time tests/executions/test_start_inline.py tests/executions/test_batches.py $ENGINE_CHECK"
  "executions/engine/reaper.py|db|tests/executions/test_engine_paths.py::test_the_reaper_counts_each_execution_it_fails_past_its_deadline tests/executions/test_engine_paths.py::test_the_reaper_sends_a_retry_whose_backoff_ended_and_counts_it tests/executions/test_engine_paths.py::test_the_reaper_leaves_alone_an_execution_that_ended_while_it_waited_for_the_lock tests/executions/test_control.py::test_the_reaper_fails_an_execution_past_its_deadline tests/executions/test_faults.py::test_a_lost_message_is_sent_again_by_the_reaper tests/executions/test_engine_state_machine.py"
  "executions/services/starting.py|db|tests/executions/test_engine_paths.py::test_a_start_past_the_teams_limit_waits_in_the_queue tests/executions/test_engine_paths.py::test_a_workflow_of_max_parallel_one_sends_one_run_at_a_time tests/executions/test_engine_paths.py::test_a_loops_queue_is_chosen_from_its_body tests/executions/test_start_inline.py tests/executions/test_api.py tests/executions/test_engine_basics.py tests/executions/test_control.py::test_rerun_reuses_completed_outputs_and_runs_the_rest"
  "executions/services/commands.py|db|tests/executions/test_engine_state_machine.py tests/executions/test_control.py"
  "executions/services/bulk.py|db|tests/executions/test_bulk.py"
  "teams/services.py|db|tests/teams/test_services.py tests/teams/test_audit_coverage.py tests/teams/test_owner_race.py tests/teams/test_access.py tests/teams/test_api.py"
  "workflows/selectors.py|db|tests/workflows/test_selectors.py tests/workflows/test_api.py tests/workflows/test_views.py"
  "workflows/services.py|db|tests/workflows/test_services.py tests/workflows/test_concurrency.py tests/workflows/test_models.py tests/workflows/test_api.py"
  "templates_app/selectors|db|tests/templates_app/test_matching.py tests/templates_app/test_search.py tests/templates_app/test_origin.py tests/templates_app/test_api.py"
  "templates_app/services|db|tests/templates_app/test_services.py tests/templates_app/test_origin.py tests/templates_app/test_deprecation_roles.py tests/templates_app/test_save_as_page.py tests/templates_app/test_api.py tests/templates_app/test_versions.py tests/test_events.py::test_template_events_reach_the_publishing_team_and_private_ones_none"
  "audit/selectors.py|db|tests/audit/test_selectors.py tests/audit/test_verification_rows.py tests/audit/test_small_rules.py tests/audit/test_api.py tests/audit/test_views.py"
  "audit/services|db|tests/audit/test_append.py tests/audit/test_small_rules.py tests/audit/test_prune.py tests/audit/test_api.py"
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

sample_size() {
  local choice
  for choice in ${MUTATION_SAMPLE:-}; do [ "${choice%%=*}" = "$1" ] && { echo "${choice#*=}"; return; }; done
  echo 0
}

SERVICES_READY=0
ensure_services() {
  # Only a database-backed module needs PostgreSQL and Redis; the test database is
  # created once and every mutant's run reuses it.
  [ "$SERVICES_READY" = 1 ] && return
  ensure_postgres symphony
  ensure_redis 1
  say "Preparing the test database"
  $PYTEST --create-db tests/test_health.py >/dev/null
  SERVICES_READY=1
}

for target in "${TARGETS[@]}"; do
  module="${target%%|*}"
  rest="${target#*|}"
  kind="${rest%%|*}"
  tests="${rest#*|}"
  wanted "$module" || continue
  [ -e "$module" ] || { say "skipping $module (not in this checkout)"; continue; }
  git diff --quiet -- "$module" || die "$module has uncommitted changes; commit them first (mutants are written in place)."
  existing=""
  for test_file in $tests; do [ -e "${test_file%%::*}" ] && existing="$existing $test_file"; done
  # A mutant that makes the tests run far past their usual time (a loop that never ends) is
  # stopped at this timeout, and cosmic-ray counts it as killed.
  if [ "$kind" = pure ]; then command="$PURE_PYTEST"; timeout=60; else ensure_services; command="$PYTEST"; timeout=600; fi
  name="$(echo "$module" | tr '/.' '__')"
  config="$OUT/$name.toml"
  session="$OUT/$name.sqlite"
  cat > "$config" <<TOML
[cosmic-ray]
module-path = "$module"
timeout = $timeout.0
excluded-modules = []
test-command = "$command$existing"

[cosmic-ray.distributor]
name = "local"

TOML
  say "Mutating $module (tests:$existing)"
  rm -f "$session"
  cosmic-ray init "$config" "$session"
  # Skips the binary-operator mutants of annotations (never evaluated) and keyword-only
  # markers, and keeps a sample when MUTATION_SAMPLE names the module.
  python scripts/mutation_filter.py "$session" "$module" --sample "$(sample_size "$module")" \
    --seed "${MUTATION_SEED:-symphony}"
  MUTATED+=("$module")
  timeout --signal=INT "$BUDGET" cosmic-ray exec "$config" "$session" || say "$module: stopped at the budget"
  restore_modules
  cr-report "$session" --show-pending > "$OUT/$name.txt"
  tail -3 "$OUT/$name.txt"
done
