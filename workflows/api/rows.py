"""The workflows list's pages and one workflow's detail, as `WorkflowSerializer` and
`WorkflowDetailSerializer` shape them, each read by one statement composed once and prepared
(symphony_site/api/statements.py says why); tests/api/test_list_rows.py compares them with the
serializers."""

from __future__ import annotations

import json
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import connection
from rest_framework.request import Request

from symphony_site.api.errors import NotFound
from symphony_site.api.responses import JSONBodyResponse
from symphony_site.api.statements import (
    Table,
    composed,
    json_object,
    order_by,
    ordering_columns,
    page,
    page_response,
    parameters,
    rows,
    stamp,
)
from symphony_site.api.statements import after as after_cursor
from teams.access import in_team, role_subquery
from teams.models import Membership, Team
from workflows import selectors
from workflows.models import Workflow, WorkflowVersion


def _tables() -> dict[str, Table]:
    user_model = get_user_model()
    return {"workflow": Table(Workflow, "workflow"), "team": Table(Team, "team"),
            "creator": Table(user_model, "creator"), "version": Table(WorkflowVersion, "version"),
            "version_creator": Table(user_model, "version_creator")}


def _fields(tables: dict[str, Table], *, last_run: str) -> list[tuple[str, str]]:
    """One workflow row's keys (`WorkflowSerializer`'s, in its order) and their SQL values."""
    workflow, version = tables["workflow"], tables["version"]
    current_version = json_object([
        ("version", version("version")), ("schema_version", version("schema_version")),
        ("checksum", version("checksum")), ("node_count", version("node_count")),
        ("edge_count", version("edge_count")), ("change_message", version("change_message")),
        ("created_by", tables["version_creator"]("username")), ("created_at", stamp(version("created_at"))),
    ])
    return [
        ("id", workflow("id")), ("team", workflow("team")), ("team_name", tables["team"]("name")),
        ("name", workflow("name")), ("description", workflow("description")), ("tags", workflow("tags")),
        ("category", workflow("category")), ("archived", f"{workflow('archived_at')} IS NOT NULL"),
        ("archived_at", stamp(workflow("archived_at"))), ("created_by", tables["creator"]("username")),
        ("created_at", stamp(workflow("created_at"))), ("updated_at", stamp(workflow("updated_at"))),
        ("current_version", f"CASE WHEN {workflow('current_version')} IS NULL THEN NULL ELSE {current_version} END"),
        ("last_run", last_run),
    ]


def _object(tables: dict[str, Table], *, last_run: str, document: str | None) -> str:
    """The detail's JSON object (the list's keys, then `document`), parsed by `detail_of`."""
    fields = _fields(tables, last_run=last_run)
    if document is not None:
        fields.append(("document", document))
    return "json_build_object(" + ", ".join(f"'{key}', {value}" for key, value in fields) + ")::text"


def _joins(tables: dict[str, Table]) -> str:
    workflow, version = tables["workflow"], tables["version"]
    return (
        f"JOIN {tables['team'].sql} ON {tables['team']('id')} = {workflow('team')} "
        f"LEFT JOIN {tables['creator'].sql} ON {tables['creator']('id')} = {workflow('created_by')} "
        f"LEFT JOIN {version.sql} ON {version('id')} = {workflow('current_version')} "
        f"LEFT JOIN {tables['version_creator'].sql} ON {tables['version_creator']('id')} = {version('created_by')}"
    )


@composed
def _list_statement(present: frozenset[str]) -> str:
    """`selectors.workflows_for_user`'s rows, one page: the same joins (the user's memberships
    keep other teams out), filters, ordering and last run."""
    tables = _tables()
    workflow, membership = tables["workflow"], Table(Membership, "membership")
    execution = Table(apps.get_model("executions", "Execution"), "execution")  # workflows sits below executions
    last_run = (f"(SELECT CASE WHEN {execution('state')} <> '' THEN {json_object([('state', execution('state'))])} END "
                f"FROM {execution.sql} WHERE {execution('workflow')} = {workflow('id')} "
                f"ORDER BY {execution('created_at')} DESC LIMIT 1)")
    conditions = [f"{membership('user')} = %(user)s",
                  f"{workflow('archived_at')} IS {'NOT NULL' if 'archived' in present else 'NULL'}"]
    if "team" in present:
        conditions.append(f"{workflow('team')} = %(team)s")
    if "query" in present:  # as the ORM's icontains: UPPER(column::text) LIKE UPPER(pattern)
        conditions.append(f"(UPPER({workflow('name')}::text) LIKE UPPER(%(query)s) "
                          f"OR UPPER({workflow('description')}::text) LIKE UPPER(%(query)s))")
    if "tag" in present:
        conditions.append(f"{workflow('tags')} @> ARRAY[%(tag)s]::varchar(50)[]")
    columns = {"updated_at": workflow("updated_at"), "id": workflow("id"), "name": workflow("name"),
               "created_at": workflow("created_at")}
    if "after" in present:
        conditions.append(after_cursor(selectors.LIST_ORDERING, columns))
    statement = (
        f"SELECT {json_object(_fields(tables, last_run=last_run))}::text, "
        f"{ordering_columns(selectors.LIST_ORDERING, columns)} "
        f"FROM {workflow.sql} {_joins(tables)} "
        f"JOIN {membership.sql} ON {membership('team')} = {tables['team']('id')} "
        f"WHERE {' AND '.join(conditions)} "
        f"ORDER BY {order_by(selectors.LIST_ORDERING, columns)} LIMIT %(limit)s"
    )
    return in_team(statement, selectors.LIST_ORDERING) if "team" in present else statement


def list_page(request: Request, *, team: Any, query: str, tag: str, archived: bool) -> JSONBodyResponse:
    """A page of the workflows of the user's teams, filtered as `selectors.workflows_for_user`
    filters (a `team` the user is not in is 404: `teams.access.in_team`), with the next page's cursor: the list's
    response, its rows as PostgreSQL wrote them."""
    query = query.strip()
    filters = {"user": request.user.pk, "team": team,
               "query": f"%{connection.ops.prep_for_like_query(query)}%" if query else None,
               "tag": tag or None, "archived": True if archived else None}
    found, next_cursor = page(request, _list_statement, filters=filters, model=Workflow,
                              ordering=selectors.LIST_ORDERING)
    return page_response([row[0] for row in found], next_cursor)


@composed
def _detail_statement(present: frozenset[str]) -> str:
    """One workflow and the user's role in its team: no role, no row (`teams.access.access_object`)."""
    tables = _tables()
    workflow = tables["workflow"]
    role = role_subquery(workflow("team"))
    # The detail names no last run: the serializer reads `last_run_state`, which only the list's
    # statement selects (selectors.last_run_of).
    return (f"SELECT {_object(tables, last_run='NULL', document=tables['version']('document'))} "
            f"FROM {workflow.sql} {_joins(tables)} WHERE {workflow('id')} = %(id)s AND {role} IS NOT NULL")


def detail_of(user: Any, workflow_id: Any) -> dict[str, Any]:
    """One workflow of the user's teams as `WorkflowDetailSerializer` shapes it; another team's
    (or none) is 404, as `access_workflow` answers. Any role may read it."""
    found = rows(_detail_statement(frozenset()), parameters(user=user.pk, id=workflow_id)) if user.pk else []
    if not found:
        raise NotFound("Workflow not found.")
    return json.loads(found[0][0])  # type: ignore[no-any-return]
