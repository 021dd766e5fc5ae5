#!/usr/bin/env bash
# `make test-faults`: the fault suite's long form (docs/testing.md, "Fault injection"). It starts
# its own PostgreSQL and Redis on free ports under var/faults/ (it restarts them while work runs),
# real workers and beats, and prints its figures. Extra arguments go to the driver
# (`--scale short`, `--seed N`, `--json FILE`). Then the long Schemathesis run, on the test cluster.
source "$(dirname "$0")/lib.sh"

ensure_venv
ensure_redis_binary
pg_bindir >/dev/null
cd "$ROOT"
say "Fault suite (long form): about 100+ SIGKILLs, restarts of Redis, PostgreSQL, workers and beats"
"$VENV/bin/python" -m tests.faults --scale long "$@"
# Hostile clients, long form (issue 15): Schemathesis as the editor with 100 fuzzing examples per
# operation and as every other persona with 25 and every boundary case (tests/api/test_schemathesis.py).
say "Schemathesis, long form: every persona, every phase and check"
HYPOTHESIS_PROFILE=thorough bash "$ROOT/scripts/test.sh" tests/api/test_schemathesis.py
