"""Every audit event type Symphony records, each with what it means.

`record_event` refuses a type missing here, so a typo fails the first test that
reaches it. Each new feature adds its types here and to `docs/audit-events.md`
(a test checks the two agree).
"""

from __future__ import annotations

from typing import Final

EVENT_TYPES: Final[dict[str, str]] = {
    # Authentication
    "auth.login": "A user signed in to the web UI or obtained an API token with a password.",
    "auth.logout": "A user signed out.",
    "auth.login_failed": "A sign-in attempt failed (unknown username or wrong password).",
    "auth.token_created": "A user created a personal API token (its key is never recorded).",
    "auth.token_revoked": "A personal API token was revoked.",
    # Teams and membership
    "team.created": "A team was created; its creator became owner.",
    "team.updated": "A team's name, slug or description changed.",
    "member.added": "A user was added to a team with a role.",
    "member.role_changed": "A member's role changed (details hold the old and new role).",
    "member.removed": "A member left or was removed from a team.",
    # The audit log itself
    "audit.exported": "Audit entries were exported (details hold the format and filters).",
    "audit.pruned": "Retention removed a range of old entries; checkpoint with range, count and last hash.",
    "audit.policy_changed": "A team's audit retention period or legal hold changed.",
    # Workflows
    "workflow.created": "A workflow was created with its first version.",
    "workflow.versioned": "A new immutable version of a workflow was saved.",
    "workflow.archived": "A workflow was archived.",
    "workflow.restored": "An archived workflow was brought back to the lists (undoing an archive).",
    "workflow.imported": "A workflow was imported from an uploaded document.",
    "workflow.exported": "A workflow version was exported.",
    # Templates
    "template.published": "A template was published to the marketplace.",
    "template.versioned": "A new template version was published.",
    "template.instantiated": "A workflow was created from a template.",
    "template.rated": "A user rated a template.",
    "template.deprecated": "A template or version was marked deprecated.",
    "template.verified": "Staff marked a template as verified.",
    "template.updated": "A template's name, description, category, tags or visibility changed.",
    "template.featured": "Staff featured a template in the marketplace, or stopped featuring it.",
    # Executions: every command and every execution state change (node steps are in the
    # execution's own event stream instead)
    "execution.created": "An execution was created without starting it (it waits, pending, for start).",
    "execution.started": "An execution started (details: version, trigger, input names, re-run source).",
    "execution.paused": "An execution was paused by an operator, or by the engine for a failed node (policy pause).",
    "execution.resumed": "A paused or waiting execution returned to running (resume, or its last input arrived).",
    "execution.waiting_for_input": "An execution reached an interactive input without a value and waits for it.",
    "execution.input_provided": "An operator answered an interactive input (its value is not recorded).",
    "execution.node_retried": "An operator re-queued a failed node with its attempts reset.",
    "execution.node_skipped": "An operator skipped a node, optionally with a substitute output.",
    "execution.cancelled": "An execution was cancelled, with the reason.",
    "execution.completed": "Every node of an execution settled and none failed.",
    "execution.failed": "An execution failed: a node failed (policy stop or continue) or its timeout passed.",
    "execution.rerun": "A failed or cancelled execution was re-run (details name the new execution).",
    "execution.bulk_command": "One bulk command changed executions of a team (details: command, filter, the ids changed, how many skipped); each change has its own entry with the same bulk_operation.",
    "execution.queued": "An execution waits for a slot under a concurrency limit (details: scope, limit, running).",
    # Triggers and limits (docs/triggers.md)
    "schedule.created": "A schedule was created for a workflow (cron, time zone, catch-up policy).",
    "schedule.updated": "A schedule was changed or enabled/disabled (details: each changed field).",
    "schedule.deleted": "A schedule was deleted.",
    "webhook.created": "A webhook URL was created for a workflow (its token and secret are never recorded).",
    "webhook.updated": "A webhook's signature rule, input mapping, limits or enabled flag changed.",
    "webhook.rotated": "A webhook's URL token and signing secret were replaced; the old ones stop working.",
    "webhook.deleted": "A webhook was deleted; its URL stops working.",
    "webhook.signature_rejected": "A delivery to a webhook had a missing, wrong or stale signature and ran nothing.",
    "run_after.created": "A rule was created to start a workflow when another one ends.",
    "run_after.updated": "A \"run after\" rule was changed or enabled/disabled.",
    "run_after.deleted": "A \"run after\" rule was deleted.",
    "team.limit_changed": "A team's concurrency limit was set, changed or removed.",
    # Team secrets and model providers (instruments)
    "secret.created": "A team secret was created (its name is recorded, never its value).",
    "secret.rotated": "A team secret was given a new value (the value is never recorded).",
    "secret.deleted": "A team secret was deleted.",
    "secret.keys_rotated": "Every secret was re-encrypted under the first of SECRETS_KEYS (a count, no values).",
    "provider.created": "A team added a model provider (name, base URL, key secret's name, models).",
    "provider.updated": "A team changed a model provider (details hold the changed fields).",
    "provider.deleted": "A team removed a model provider.",
    "model_price.changed": "Staff set or changed a model's price per million tokens (old and new).",
}


def is_known(event_type: str) -> bool:
    return event_type in EVENT_TYPES


def filter_patterns() -> list[str]:
    """Every value the `event_type` filter accepts: each type, and `prefix.*` for each dotted prefix."""
    prefixes = {name.rsplit(".", depth)[0] for name in EVENT_TYPES for depth in range(1, name.count(".") + 1)}
    return sorted(EVENT_TYPES) + sorted(f"{prefix}.*" for prefix in prefixes)


def matching(pattern: str) -> list[str]:
    """Types matching an exact name or a `prefix.*` pattern (empty when none match)."""
    if pattern.endswith(".*"):
        prefix = pattern[:-1]
        return sorted(name for name in EVENT_TYPES if name.startswith(prefix))
    return [pattern] if pattern in EVENT_TYPES else []
