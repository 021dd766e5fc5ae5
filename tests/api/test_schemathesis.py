"""Schemathesis against the live WSGI app: the API answers as its OpenAPI schema says (issue 10, defect 5).

Every operation of `/api/schema/`, as an editor of a team with data (real path
parameters, so requests reach the views instead of 404), with positive and
negative data, through Schemathesis' examples, coverage and fuzzing phases and
every check it has (not_a_server_error, status_code_conformance,
content_type_conformance, response_schema_conformance,
response_headers_conformance, positive_data_acceptance,
negative_data_rejection, missing_required_header, unsupported_method,
ignored_auth, use_after_free, ensure_resource_availability, …). Any failure
fails the test with the check, the request (as curl) and the answer.

The operations are split in seven groups, one test each, so pytest-xdist runs
them side by side and each stays well under a minute; a test below checks that
the groups cover every operation exactly once.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
import schemathesis
import yaml
from django.core.handlers.wsgi import WSGIHandler
from django.test import Client
from rest_framework.test import APIClient
from schemathesis.config import SchemathesisConfig
from schemathesis.core.parameters import ParameterLocation
from schemathesis.engine import Status, events, from_schema
from schemathesis.transport.wsgi import WSGITransport

from audit.filters import parse_filters
from symphony_site.api.errors import ValidationFailed
from tests.api.conftest import TeamWithData, build_team_with_data
from tests.conftest import PASSWORD, create_personas

# Fuzzing examples per operation (the coverage phase adds its own boundary cases): 8 in
# `make test`, 100 with HYPOTHESIS_PROFILE=thorough; SCHEMATHESIS_SEED explores other inputs.
MAX_EXAMPLES = 100 if os.environ.get("HYPOTHESIS_PROFILE") == "thorough" else 8
# The same run as every other persona (owner, admin, operator, viewer, another team's owner),
# over every operation at once: 1 fuzzing example per operation in `make test` (the coverage
# phase still sends its boundary cases), SCHEMATHESIS_PERSONA_EXAMPLES for a longer run
# (`make test-faults` and `make test-thorough` set 25 through HYPOTHESIS_PROFILE=thorough, and
# send every persona every boundary case: `persona_phases`).
THOROUGH = os.environ.get("HYPOTHESIS_PROFILE") == "thorough"
PERSONA_EXAMPLES = int(os.environ.get("SCHEMATHESIS_PERSONA_EXAMPLES", "25" if THOROUGH else "1"))
OTHER_PERSONAS = ["owner", "admin", "operator", "viewer", "outsider"]
# The long form's run per persona (about 5,700 requests) took 356 to 426 s on two cores shared
# with other suites, past the 420 s the suite gives one test (pyproject.toml): its own limit.
PERSONA_LIMIT = [pytest.mark.timeout(1800)] if THOROUGH else []
SEED = int(os.environ.get("SCHEMATHESIS_SEED", "20260110"))
# A start runs its cheap sources in the request after commit, as in production (the test
# settings turn that off for the engine tests that capture first-step messages).
PRODUCTION_INLINE_STARTS = 1

# Operations by name ("METHOD /path"), in groups of a few hundred requests each.
GROUPS = {
    "auth-and-teams": r"^[A-Z]+ /api/v1/(auth|me|teams)/",
    "workflows": r"^[A-Z]+ /api/v1/(workflows|node-types)/",
    "templates-publish": r"^POST /api/v1/templates/(from-workflow/|\{slug\}/versions/)?$",
    "templates-use": r"^(GET|PATCH) /api/v1/templates/|^POST /api/v1/templates/(\{slug\}/(instantiate|rating)|origins)/",
    "audit": r"^[A-Z]+ /api/v1/audit/",
    "executions": r"^[A-Z]+ /api/v1/executions/(?!bulk/$)",
    "triggers": r"^[A-Z]+ /api/v1/(schedules|webhooks|run-after)/",
    "models": r"^[A-Z]+ /api/v1/models/",
    "executions-bulk": r"^POST /api/v1/executions/bulk/$",
}

# Operations whose body carries a workflow document (a file, for import) or template definitions. Their schema is
# as strict as JSON Schema can be (types, required fields, closed objects, patterns), but a
# document's validity — edges naming nodes that exist, no cycles, port types that fit,
# placeholders naming declared parameters, parameter values fitting their definitions — is
# not expressible in JSON Schema, so a schema-valid body is usually refused with 400
# `validation_failed` listing the graph core's errors. Only for these may positive data
# answer 400 (docs/api.md, "What the schema cannot say").
SEMANTIC_OPERATIONS = [
    "POST /api/v1/workflows/",
    "PATCH /api/v1/workflows/{workflow_id}/",
    "POST /api/v1/workflows/validate/",
    "POST /api/v1/workflows/import/",
    "POST /api/v1/templates/",
    "POST /api/v1/templates/{slug}/versions/",
    "POST /api/v1/templates/{slug}/instantiate/",
    "POST /api/v1/templates/from-workflow/",
    # Bodies that name things of one workflow or execution (inputs by input node id, a mapping
    # from its inputs to a payload or to another workflow's outputs, a node of the execution)
    # or carry a cron expression and an IANA zone: the schema says their shape; whether they
    # fit the workflow, or parse as cron, is the services' check (400 naming the field).
    "POST /api/v1/executions/",
    "POST /api/v1/executions/{execution_id}/commands/",
    "POST /api/v1/workflows/{workflow_id}/schedules/",
    "PATCH /api/v1/schedules/{schedule_id}/",
    "POST /api/v1/workflows/{workflow_id}/webhooks/",
    "PATCH /api/v1/webhooks/{webhook_id}/",
    "POST /api/v1/workflows/{workflow_id}/run-after/",
    "PATCH /api/v1/run-after/{rule_id}/",
    # A provider's base URL must name a host that is not internal, and its key must name one
    # of the team's secrets (first reached by the admin's and owner's runs, issue 15).
    "POST /api/v1/teams/{team_id}/providers/",
    "PATCH /api/v1/teams/{team_id}/providers/{name}/",
]
POSITIVE_STATUSES = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]


@dataclass
class RunReport:
    operations: set[str] = field(default_factory=set)
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    phases: Counter[str] = field(default_factory=Counter)
    failures: dict[str, str] = field(default_factory=dict)  # headline → the whole story
    seconds: float = 0.0
    authorization: str = ""  # the run's own header
    sent_own_token: int = 0  # requests that carried it
    refused_own_token: int = 0  # 401 answers to those
    answers: Counter[tuple[str, int]] = field(default_factory=Counter)  # (operation, status)

    def summary(self, group: str) -> str:
        return (f"Schemathesis [{group}]: {len(self.operations)} operations, {self.requests} requests "
                f"({dict(self.phases)}) in {self.seconds:.1f} s, {len(self.failures)} failures; "
                f"statuses {dict(sorted(self.statuses.items()))}")

    def record(self, event: events.ScenarioFinished) -> None:
        recorder = event.recorder
        if event.label:
            self.operations.add(event.label)
        for interaction in recorder.interactions.values():
            self.requests += 1
            self.phases[event.phase.name.lower()] += 1
            own_token = self.authorization in interaction.request.headers.get("Authorization", [])
            self.sent_own_token += own_token
            if interaction.response is not None:
                self.statuses[interaction.response.status_code] += 1
                self.answers[(event.label or "", interaction.response.status_code)] += 1
                # Signing in with a password answers 401 to a wrong one, whatever token is sent along.
                self.refused_own_token += (own_token and interaction.response.status_code == 401
                                           and event.label != "POST /api/v1/auth/token/")
        for case_id, checks in recorder.checks.items():
            for check in checks:
                if check.status != Status.FAILURE or check.failure_info is None:
                    continue
                failure = check.failure_info.failure
                interaction = recorder.interactions.get(case_id)
                answer = ""
                if interaction is not None and interaction.response is not None:
                    answer = f"{interaction.response.status_code} {interaction.response.content[:400]!r}"
                headline = f"{event.label} [{check.name}] {failure.title}"
                self.failures.setdefault(headline, f"{headline}\n{failure.message[:800]}\n"
                                                   f"{check.failure_info.code_sample[:1000]}\n→ {answer}")


def _send_without_socket_settings(original: Any) -> Any:
    """Schemathesis 4.32 hands requests' socket settings to werkzeug when it probes without auth
    (the ignored_auth check), which werkzeug refuses; in-process there are no sockets to set."""

    def send(self: Any, case: Any, *, session: Any = None, **kwargs: Any) -> Any:
        if not isinstance(session, requests.Session):
            for name in ("max_redirects", "verify", "cert", "proxies"):
                kwargs.pop(name, None)
        return original(self, case, session=session, **kwargs)

    return send


def _is_inverted_range(query: dict[str, Any]) -> bool:
    """`since` after `until`: 400 by a rule between two parameters (tests/audit/test_api.py)."""
    try:
        parse_filters({name: str(value) for name, value in query.items() if name in {"since", "until"}})
    except ValidationFailed as error:
        return any(detail["message"] == "since is after until" for detail in error.details)
    return False


def filter_case(context: Any, case: Any) -> bool:
    """Generate no inverted audit ranges: JSON Schema cannot relate two parameters."""
    return not (case.operation.path.startswith("/api/v1/audit/") and isinstance(case.query, dict)
                and _is_inverted_range(case.query))


START = "POST /api/v1/executions/"


def starting_a_real_workflow(workflow_id: str) -> Any:
    """A `map_case` hook: three in four of the positive bodies of `POST /executions/` name the
    team's instantiated workflow and inputs that fit it (its text input carrying the generated
    inputs as text). A generated body names a random workflow (404) or inputs that do not fit
    it (400), so without this no generated request ever started an execution (ninth session:
    0 of 423 in the long form), and the start path (inline steps in the request included) met
    no hostile client."""

    def map_case(context: Any, case: Any) -> Any:
        body = case.body
        if (f"{case.operation.method.upper()} {case.operation.path}" != START or not isinstance(body, dict)
                or case.meta is None or case.meta.is_negative_at(ParameterLocation.BODY)
                or str(body.get("workflow", ""))[-1:] in "0123"):
            return case
        case.body = {**body, "workflow": workflow_id,
                     "inputs": {"text": {"text": json.dumps(body.get("inputs", {}))[:2000]}}}
        case.meta.mark_dirty(ParameterLocation.BODY)
        return case

    return map_case


def query_values(group: str, data: TeamWithData) -> dict[str, str]:
    """Real values for the query parameters that name a team, so requests get past access checks."""
    if group == "workflows":
        return {"query.team": str(data.personas.team.pk)}  # the editor's team: list, import
    if group == "audit":
        return {"query.team": data.editor_team_slug}  # the editor owns it, so may read its log
    if group == "all":
        # Team Alpha, whose objects every path names: owners and admins read its log, the
        # others meet 403 (a lower role) or 404 (another team's owner).
        return {"query.team": str(data.personas.team.pk)}
    return {}


# Operations only a team's admins and owners get past the access check of (members, secrets,
# providers, limits, the team's settings): the editor's runs cannot reach their serializers.
TEAM_ADMINISTRATION = r"^[A-Z]+ /api/v1/teams/\{team_id\}/"


def persona_phases(who: str) -> dict[str, Any]:
    """What a persona's run leaves to the runs that already send it, each for a reason that keeps
    the checks equivalent (docs/testing.md, "Suite time"):

    - Unexpected methods (TRACE, PUT, … on every path): answered 405 by the framework's dispatch,
      before any view code reads the user's role, so every signed-in persona gets the editor
      runs' answer, which those runs check on every path.
    - Negative data in the coverage phase, except the owner's on team administration: a request
      that breaks the schema is either refused by the access check (the same 403/404 the
      persona's positive cases meet and are checked on) or refused by the serializer, whose answer
      does not depend on the user and which the editor's runs send with every boundary case on
      every operation the editor may use, and the owner's run on the rest, which only admins and
      owners reach (`TEAM_ADMINISTRATION`). The fuzzing phase still sends every persona's
      negative data.

    The long form (HYPOTHESIS_PROFILE=thorough: `make test-faults`, `make test-thorough`) sends
    every persona everything.
    """
    if who == "editor" or THOROUGH:
        return {}
    return {"coverage": {"unexpected-methods": [], "generation": {"mode": "positive"}}}


@functools.cache
def served_schema() -> dict[str, Any]:
    """The OpenAPI document as /api/schema/ serves it, generated and parsed once per test process
    (about 1.5 s a run) instead of once per run: it depends on the code alone, not on the data."""
    response = Client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.oai.openapi+json")
    schema: dict[str, Any] = response.json()
    return schema


def run_config(group: str, data: TeamWithData, *, who: str = "editor",
               max_examples: int = MAX_EXAMPLES) -> SchemathesisConfig:
    return SchemathesisConfig.from_dict({
        "seed": SEED,
        "headers": {"Authorization": f"Token {data.keys[who]}"},
        # NUL characters are refused by every text input (PostgreSQL stores none): tested
        # directly in test_edges.py, left out here so they do not drown every other case.
        "generation": {"mode": "all", "max-examples": max_examples, "allow-x00": False,
                       "deterministic": True},
        "phases": {"stateful": {"enabled": False}, **persona_phases(who)},
        "checks": {"enabled": True},
        # Real ids, so requests reach the views; a cursor is an opaque token from a previous
        # page, which no schema can generate (bad cursors: tests/teams/test_api.py).
        "parameters": {**{f"path.{name}": value for name, value in data.path_values().items()},
                       **query_values(group, data), "query.cursor": ""},
        "operations": [
            # The other groups' operations are left to their own tests.
            *([] if group == "all" else [{"include-name-regex": f"^(?!(?:{GROUPS[group]}))", "enabled": False}]),
            {"include-name": SEMANTIC_OPERATIONS, "checks": {"positive_data_acceptance": {
                "expected-statuses": [*POSITIVE_STATUSES, "400"]}}},
            # A schema-valid filter may name a team or workflow that is not the caller's (404),
            # or select more executions than one request may touch (400 too_many_executions).
            {"include-name": ["POST /api/v1/executions/bulk/"], "checks": {"positive_data_acceptance": {
                "expected-statuses": [*POSITIVE_STATUSES, "400", "404"]}}},
            # The owner's run sends team administration every boundary case, negative ones too.
            *([{"include-name-regex": TEAM_ADMINISTRATION, "phases": {"coverage": {"generation": {"mode": "all"}}}}]
              if who == "owner" else []),
        ],
    })


def run_schemathesis(config: SchemathesisConfig, label: str, data: TeamWithData) -> RunReport:
    """Every phase and check of `config` over the served schema; the report of what it found."""
    schema = schemathesis.openapi.from_dict(copy.deepcopy(served_schema()), config=config)
    schema.app = WSGIHandler()  # what from_wsgi would set: requests go to the app in process
    schema.location = "/api/schema/"
    schema.hook(filter_case)
    schema.hook(starting_a_real_workflow(data.instantiated_id))
    report = RunReport(authorization=config.projects.get_default().headers["Authorization"])
    started = time.perf_counter()
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            report.record(event)
        elif isinstance(event, events.NonFatalError | events.FatalError):
            report.failures.setdefault(f"engine error: {event!r}", repr(getattr(event, "value", event)))
    report.seconds = time.perf_counter() - started
    print("\n" + report.summary(label))
    for story in report.failures.values():
        print("----\n" + story)
    return report


@pytest.mark.parametrize("group", list(GROUPS))
@pytest.mark.django_db(transaction=True)
def test_the_api_answers_as_its_schema_says(group: str, monkeypatch: pytest.MonkeyPatch, settings: Any,
                                             close_stray_connections: None) -> None:
    monkeypatch.setattr(WSGITransport, "send", _send_without_socket_settings(WSGITransport.send))
    settings.EXECUTION_START_INLINE_MAX = PRODUCTION_INLINE_STARTS
    data = build_team_with_data(create_personas())
    report = run_schemathesis(run_config(group, data), group, data)
    assert list(report.failures) == []
    assert report.sent_own_token > report.requests / 2 and report.refused_own_token == 0
    assert report.operations and report.requests >= 10 * len(report.operations)
    if group == "executions":
        assert report.answers[(START, 201)] > 0, report.answers


def add_persona_tokens(data: TeamWithData) -> None:
    """A token of its own for each persona's run. The owner's too: the paths' `token_id` names the
    owner's first token, which the run revokes (DELETE /auth/tokens/{token_id}/); signed in with
    it, the owner's run met 401 from then on (1,435 of its 3,685 requests)."""
    for who in OTHER_PERSONAS:
        response = APIClient().post("/api/v1/auth/token/", {
            "username": data.personas.users[who].username, "password": PASSWORD, "name": "schemathesis"},
            format="json")
        assert response.status_code == 201, response.content[:300]
        data.keys[who] = response.json()["token"]


@pytest.mark.parametrize("who", [pytest.param(who, marks=PERSONA_LIMIT) for who in OTHER_PERSONAS])
@pytest.mark.django_db(transaction=True)
def test_the_api_answers_as_its_schema_says_to_every_persona(who: str, monkeypatch: pytest.MonkeyPatch, settings: Any,
                                                             close_stray_connections: None) -> None:
    """Every operation, as each other role of team Alpha and as team Beta's owner (to whom every
    path names another team's object): refusals (403, 404) must be documented and in the error
    shape, and nothing may answer 500."""
    monkeypatch.setattr(WSGITransport, "send", _send_without_socket_settings(WSGITransport.send))
    settings.EXECUTION_START_INLINE_MAX = PRODUCTION_INLINE_STARTS
    data = build_team_with_data(create_personas())
    add_persona_tokens(data)
    report = run_schemathesis(run_config("all", data, who=who, max_examples=PERSONA_EXAMPLES), f"all as {who}", data)
    assert list(report.failures) == []
    assert len(report.operations) >= 44 and report.requests >= 5 * len(report.operations)
    # Signed in all along: the 401s are answers to requests without the token (the ignored_auth
    # check's), none to the run's own token.
    assert report.sent_own_token > report.requests / 2 and report.refused_own_token == 0
    # The run met the persona's refusals: a lower role's writes are 403, every path the
    # outsider names is 404 (an owner, in turn, is refused only for staff's template flags).
    if who != "owner":
        assert report.statuses[404 if who == "outsider" else 403] > 0


def test_the_groups_cover_every_operation_once(client: Any) -> None:
    schema = yaml.safe_load(client.get("/api/schema/").content)
    operations = [(method, path) for path, item in schema["paths"].items() for method in item
                  if method in {"get", "post", "put", "patch", "delete"}]
    assert len(operations) >= 44
    groups = {(method, path): [name for name, pattern in GROUPS.items()
                               if re.search(pattern, f"{method.upper()} {path}")]
              for method, path in operations}
    assert {operation: names for operation, names in groups.items() if len(names) != 1} == {}
    assert set(SEMANTIC_OPERATIONS) <= {f"{method.upper()} {path}" for method, path in operations}


def test_the_run_generates_no_inverted_audit_range() -> None:
    assert _is_inverted_range({"since": "2026-01-02", "until": "2026-01-01T00:00:00Z"})
    assert not _is_inverted_range({"since": "2026-01-01", "until": "2026-01-02"})
    assert not _is_inverted_range({"since": "2026-01-02"})
