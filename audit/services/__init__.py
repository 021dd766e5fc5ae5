"""The audit core's writes: appending to a chain (`chain`) and retention (`retention`).

Every app records through these, so nothing here imports another Symphony
app. `audit.services.policy` (a team's retention settings, owners only) needs
`teams.access` and is therefore not re-exported here: import it from its module.
"""

from audit.services.chain import (
    BATCH_INSERT_ROWS,
    PendingAppend,
    UnknownEventType,
    chain_key,
    export_recorded,
    hashed_fields,
    pending_event,
    record_event,
    record_events_batch,
)
from audit.services.retention import (
    RETENTION_ACTOR,
    PruneRefused,
    PruneResult,
    apply_retention,
    prune_chain,
    retention_cutoff,
)

__all__ = [
    "BATCH_INSERT_ROWS",
    "RETENTION_ACTOR",
    "PendingAppend",
    "PruneRefused",
    "PruneResult",
    "UnknownEventType",
    "apply_retention",
    "chain_key",
    "export_recorded",
    "hashed_fields",
    "pending_event",
    "prune_chain",
    "record_event",
    "record_events_batch",
    "retention_cutoff",
]
