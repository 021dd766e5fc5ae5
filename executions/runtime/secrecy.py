"""Keeping team secrets out of everything a node run leaves behind.

The worker resolves the secrets a node's config names (`{{ secrets.NAME }}`) and the
key of the model provider it calls into `NodeContext.secrets`, and nowhere else. A
node may put one into what it produces — a template that renders it, a model that
echoes its prompt, a service whose error message quotes the key — so `registry.run_node`
passes every outcome and failure through here before the engine records it: each
secret value (four characters or more) becomes `***` in outputs (keys and values, at
any depth), usage facts, failure messages and details, and in every progress message
and log line the node reports. Downstream nodes therefore never receive a secret
through an edge: a secret is usable only in the config of the node that names it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from executions.runtime.contract import NodeContext, NodeFailure, NodeOutcome, Reporter
from executions.runtime.operators import SECRET_MASK

__all__ = ["MaskingReporter", "mask_failure", "mask_outcome", "mask_value", "masked_context"]


def _values(secrets: Mapping[str, str]) -> list[str]:
    # Longest first, so a secret that contains another is masked whole.
    return sorted((value for value in secrets.values()
                   if isinstance(value, str) and len(value) >= 4), key=len, reverse=True)


def _mask_text(text: str, values: list[str]) -> str:
    for value in values:
        if value in text:
            text = text.replace(value, SECRET_MASK)
    return text


def _mask(value: Any, values: list[str]) -> Any:
    if isinstance(value, str):
        return _mask_text(value, values)
    if isinstance(value, Mapping):
        return {(_mask_text(key, values) if isinstance(key, str) else key): _mask(item, values)
                for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_mask(item, values) for item in value]
    return value


def mask_value(value: Any, secrets: Mapping[str, str]) -> Any:
    """`value` with every secret masked, at any depth (unchanged when there are none)."""
    values = _values(secrets)
    return _mask(value, values) if values else value


def mask_outcome(outcome: NodeOutcome, secrets: Mapping[str, str]) -> NodeOutcome:
    values = _values(secrets)
    if not values:
        return outcome
    return replace(outcome, outputs=_mask(dict(outcome.outputs), values),
                   usage=_mask(dict(outcome.usage), values))


def mask_failure(failure: NodeFailure, secrets: Mapping[str, str]) -> NodeFailure:
    """The same failure (same class, so InputRequired stays itself) with secrets masked."""
    values = _values(secrets)
    if not values:
        return failure
    failure.message = _mask_text(failure.message, values)
    failure.args = (failure.message, *failure.args[1:])
    failure.details = _mask(failure.details, values)
    # The chained exception (a provider's error, say) may quote a secret in its own
    # words, and tracebacks print chains: cut it.
    failure.__cause__ = None
    failure.__suppress_context__ = True
    return failure


class MaskingReporter:
    """A reporter that masks secrets in progress messages and log lines."""

    def __init__(self, inner: Reporter, secrets: Mapping[str, str]) -> None:
        self.inner = inner
        self.values = _values(secrets)

    def progress(self, fraction: float, message: str = "") -> None:
        self.inner.progress(fraction, _mask_text(message, self.values))

    def log(self, level: str, message: str) -> None:
        self.inner.log(level, _mask_text(message, self.values))

    def should_stop(self) -> bool:
        return self.inner.should_stop()


def masked_context(context: NodeContext) -> NodeContext:
    """`context` whose reporter masks its secrets (itself when it has none)."""
    if not context.secrets or isinstance(context.reporter, MaskingReporter):
        return context
    return replace(context, reporter=MaskingReporter(context.reporter, context.secrets))
