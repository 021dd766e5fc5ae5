"""Seeded generators of valid audit chains, loaded with COPY (benchmarks, and tests at small sizes).

`load_chain(team, count)` appends `count` entries with correct hashes to the
team's chain (continuing from its head) and moves the head, so verification,
queries and exports see an ordinary, intact chain.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Iterator
from typing import Any

import orjson
from django.db import connection, transaction

from audit import domain
from audit.event_types import EVENT_TYPES
from audit.services import chain_key

COPY_COLUMNS = (
    "id", "team_id", "sequence", "occurred_at", "actor_id", "actor_name", "actor_type", "event_type",
    "target_type", "target_id", "target_name", "execution_id", "reason", "details", "ip_address",
    "user_agent", "prev_hash", "hash",
)
ACTORS = [(None, "system", "system")] + [(1000 + number, f"user-{number}", "user") for number in range(20)]


def entries(
    team_id: str | None,
    count: int,
    *,
    seed: int = 0,
    start: domain.ChainPoint = domain.CHAIN_ORIGIN,
    first_time: dt.datetime | None = None,
    span: dt.timedelta = dt.timedelta(days=365),
) -> Iterator[tuple[Any, ...]]:
    """COPY rows (in `COPY_COLUMNS` order) of a valid chain continuing from `start`."""
    # Seeded per team too, so two generated chains never share entry ids.
    generator = random.Random(f"{team_id}:{seed}")
    # Retention checkpoints are written only by pruning.
    types = sorted(name for name in EVENT_TYPES if name != "audit.pruned")
    first_time = first_time or dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    step = span / max(count, 1)
    previous_hash = start.hash
    for index in range(count):
        sequence = start.sequence + 1 + index
        moment = first_time + step * index
        actor_id, actor_name, actor_type = ACTORS[generator.randrange(len(ACTORS))]
        event_type = types[generator.randrange(len(types))]
        target_id = str(generator.randrange(5000))
        details = {"n": index, "note": "generated"}
        fields = (team_id, sequence, domain.format_time(moment), actor_id, actor_name, actor_type, event_type,
                  "workflow", target_id, f"workflow {target_id}", None, "", details, "192.0.2.10", "bench/1.0")
        digest = domain.entry_hash(previous_hash, fields)
        yield (uuid.UUID(int=generator.getrandbits(128), version=4), team_id, sequence, moment, actor_id,
               actor_name, actor_type, event_type, "workflow", target_id, f"workflow {target_id}", None, "",
               orjson.dumps(details).decode(),
               "192.0.2.10", "bench/1.0", previous_hash, digest)
        previous_hash = digest


def load_chain(team: Any, count: int, *, seed: int = 0, span: dt.timedelta = dt.timedelta(days=365)) -> domain.ChainPoint:
    """Append `count` generated entries to `team`'s chain with COPY; returns the new head."""
    key = chain_key(team)
    team_id = None if team is None else str(team.pk)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO audit_auditchainhead (chain, team_id, last_sequence, last_hash) VALUES (%s, %s, 0, %s) "
            "ON CONFLICT (chain) DO NOTHING", [key, team_id, domain.GENESIS_HASH])
        cursor.execute("SELECT last_sequence, last_hash, last_occurred_at FROM audit_auditchainhead "
                       "WHERE chain = %s FOR UPDATE", [key])
        last_sequence, last_hash, last_time = cursor.fetchone()
        first_time = (last_time + dt.timedelta(seconds=1)) if last_time else None
        last = domain.ChainPoint(last_sequence, last_hash)
        moment = last_time
        raw = cursor.cursor
        with raw.copy(f"COPY audit_auditentry ({', '.join(COPY_COLUMNS)}) FROM STDIN") as copy:
            for row in entries(team_id, count, seed=seed, start=last, first_time=first_time, span=span):
                copy.write_row(row)
                last = domain.ChainPoint(row[2], row[-1])
                moment = row[3]
        cursor.execute("UPDATE audit_auditchainhead SET last_sequence = %s, last_hash = %s, last_occurred_at = %s "
                       "WHERE chain = %s", [last.sequence, last.hash, moment, key])
    return last
