# The two commands a newcomer needs: `make run` and `make test`.
.PHONY: run test test-thorough test-faults test-mutation bench lint services-stop clean

run:  ## Install what is missing, start Postgres + Redis under var/, migrate, seed, run web + worker + beat
	@bash scripts/run.sh

test:  ## ruff, makemigrations --check and the whole suite against real Postgres and Redis
	@bash scripts/test.sh

test-thorough:  ## The suite with Hypothesis's thorough profile (1,000+ examples per property)
	@HYPOTHESIS_PROFILE=thorough bash scripts/test.sh

test-faults:  ## The fault suite's long form: 100+ worker kills, Redis/PostgreSQL/worker/beat restarts, its figures; then the long Schemathesis run
	@bash scripts/faults.sh

test-mutation:  ## cosmic-ray over the access, services and selectors modules (long; not part of `make test`)
	@bash scripts/mutation.sh

bench:  ## Every benchmark in bench/, one table with baselines measured in the same run
	@bash scripts/bench.sh

lint:
	@.venv/bin/ruff check .

clean:  ## Remove the local cluster, Redis data and the virtualenv
	rm -rf var .venv
