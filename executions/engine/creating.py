"""A new execution's rows in one prepared statement: the execution, its node runs, and the
team's concurrency limit read back for the admission.

Through the ORM a start spent three statements and most of its own CPU here: `create` for the
execution, `bulk_create` for its node runs (both compiled by Django's SQL compiler and bound on
the client, so PostgreSQL parsed and planned them every time), and a query for the team's limit.
Here the same rows are written by one statement whose text depends only on the models, prepared
once per connection (`symphony_site.prepared`):

* the execution row carries every concrete field's value as `Execution(...)` holds it (the
  model's defaults included), each parameter cast to its column's type;
* the node runs come as one array per column that differs between them, unnested in the
  graph's order (`ORDER BY` the ordinality: their ids follow that order, as `bulk_create`'s did,
  and a plain start dispatches its sources by id); every other column takes the model's default;
* the team's limit (`TeamLimit`) is read in the same statement, so the admission
  (`concurrency.admission_for(team_limit=…)`) needs no query of its own when nothing limits the
  team or the workflow.

The statement's foreign keys take only key-share locks on the team, workflow, version and user
rows, which no holder of a team's admission lock ever waits for (see `concurrency`).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from django.db import connection

from executions.models import Execution, NodeRun
from symphony_site import prepared

# The node-run columns that differ from one run to the next; every other column takes the
# model's default.
RUN_COLUMNS = ("node_id", "node_kind", "node_type", "queue", "max_attempts", "pending_inputs")


def _cast(field: Any) -> str:
    return f"%s::{field.db_type(connection)}"


@cache
def _statement() -> tuple[str, tuple[Any, ...], tuple[Any, ...]]:
    """(SQL, the execution's fields in column order, the defaulted node-run fields in column order)."""
    execution_fields = tuple(Execution._meta.concrete_fields)
    run_fields = {field.attname: field for field in NodeRun._meta.concrete_fields}
    varying = [run_fields[name] for name in RUN_COLUMNS]
    defaulted = tuple(field for name, field in run_fields.items()
                      if name not in RUN_COLUMNS and name not in ("id", "execution_id"))
    run_columns = ["execution_id", *RUN_COLUMNS, *(field.column for field in defaulted)]
    unnested = ", ".join(f"%s::{field.db_type(connection)}[]" for field in varying)
    sql = (
        'WITH limits AS (SELECT "limit", on_limit FROM executions_teamlimit WHERE team_id = %s), '
        f"created AS (INSERT INTO executions_execution ({', '.join(field.column for field in execution_fields)}) "
        f"VALUES ({', '.join(_cast(field) for field in execution_fields)}) RETURNING id), "
        f"runs AS (INSERT INTO executions_noderun ({', '.join(run_columns)}) "
        f"SELECT created.id, {', '.join(f'v.{name}' for name in RUN_COLUMNS)}, "
        f"{', '.join(_cast(field) for field in defaulted)} "
        f"FROM created, unnest({unnested}) WITH ORDINALITY AS v({', '.join(RUN_COLUMNS)}, n) "
        "ORDER BY v.n RETURNING 1) "
        'SELECT (SELECT count(*) FROM runs), limits."limit", limits.on_limit '
        "FROM (VALUES (1)) AS one LEFT JOIN limits ON true"
    )
    return sql, execution_fields, defaulted


def insert(execution: Execution, runs: Sequence[dict[str, Any]]) -> tuple[int, str] | None:
    """Write `execution` (not saved yet) and its node runs (`RUN_COLUMNS` each, in order); the
    team's concurrency limit as (limit, on_limit), or None when the team has none."""
    sql, execution_fields, defaulted = _statement()
    parameters: list[Any] = [execution.team_id]
    parameters += [field.get_db_prep_save(getattr(execution, field.attname), connection)
                   for field in execution_fields]
    parameters += [field.get_db_prep_save(field.get_default(), connection) for field in defaulted]
    parameters += [[run[name] for run in runs] for name in RUN_COLUMNS]
    [(created, limit, on_limit)] = prepared.execute(sql, parameters)
    assert created == len(runs)
    execution._state.adding = False
    execution._state.db = connection.alias
    return None if limit is None else (limit, on_limit)
