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
* the team's concurrency limit (`TeamLimit`) is read in the same statement, and unless the
  caller already holds the admission (`always`), the rows are written only when the team has
  none: a start under a limit writes nothing here, takes the team's admission lock
  (`concurrency.admission_for`) and then writes its rows, so its `created_at` still follows the
  admission order and nothing of it exists before the lock (the lock order of `concurrency`).
  A start that nothing limits needs no query of its own for the admission.
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
        f"SELECT {', '.join(_cast(field) for field in execution_fields)} "
        "WHERE %s OR NOT EXISTS (SELECT 1 FROM limits) RETURNING id), "
        f"runs AS (INSERT INTO executions_noderun ({', '.join(run_columns)}) "
        f"SELECT created.id, {', '.join(f'v.{name}' for name in RUN_COLUMNS)}, "
        f"{', '.join(_cast(field) for field in defaulted)} "
        f"FROM created, unnest({unnested}) WITH ORDINALITY AS v({', '.join(RUN_COLUMNS)}, n) "
        "ORDER BY v.n RETURNING 1) "
        'SELECT (SELECT count(*) FROM created), (SELECT count(*) FROM runs), limits."limit", limits.on_limit '
        "FROM (VALUES (1)) AS one LEFT JOIN limits ON true"
    )
    return sql, execution_fields, defaulted


@cache
def _defaults() -> list[Any]:
    """The defaulted node-run columns' values, as the database receives them (constants)."""
    _, _, defaulted = _statement()
    return [field.get_db_prep_save(field.get_default(), connection) for field in defaulted]


def insert(execution: Execution, runs: Sequence[dict[str, Any]], *, always: bool) -> tuple[bool, tuple[int, str] | None]:
    """Write `execution` (not saved yet) and its node runs (`RUN_COLUMNS` each, in order), if
    `always` or if the team has no concurrency limit. Answers whether the rows were written, and
    the team's limit as (limit, on_limit), or None when it has none."""
    sql, execution_fields, _ = _statement()
    parameters: list[Any] = [execution.team_id]
    parameters += [field.get_db_prep_save(getattr(execution, field.attname), connection)
                   for field in execution_fields]
    parameters.append(always)
    parameters += _defaults()
    parameters += [[run[name] for run in runs] for name in RUN_COLUMNS]
    [(created, written, limit, on_limit)] = prepared.execute(sql, parameters)
    team_limit = None if limit is None else (limit, on_limit)
    if not created:
        return False, team_limit
    assert written == len(runs)
    execution._state.adding = False
    execution._state.db = connection.alias
    return True, team_limit
