"""The `delay` operator: waits `milliseconds`, then forwards `value`.

It waits in slices of at most `SLICE_S`, checking `reporter.should_stop()` and the
attempt's deadline between slices and reporting progress after each, so a cancel
or a timeout takes effect within a slice. A delay longer than the time the attempt
has left fails at once (`timeout`, not retryable: no retry can make it fit).
"""

from __future__ import annotations

import time

from executions.runtime.config import config_value, invalid_config
from executions.runtime.contract import NodeContext, NodeFailure, NodeOutcome
from executions.runtime.operators import stopped

SLICE_S = 0.1


def run_delay(context: NodeContext) -> NodeOutcome:
    milliseconds = config_value(context, "milliseconds")
    if isinstance(milliseconds, bool) or not isinstance(milliseconds, int) or milliseconds < 0:
        raise invalid_config(context, "milliseconds", "must be a whole number of milliseconds, "
                                                      "0 or more.")
    total_s = milliseconds / 1000
    remaining = context.remaining_s()
    if remaining is not None and total_s > remaining:
        raise NodeFailure(
            f"Node {context.node.id!r} would wait {total_s:g} s but has {remaining:.3g} s left "
            "before its timeout; shorten the delay or raise the node's timeout_s.",
            code="timeout", retryable=False, details={"node_id": context.node.id},
        )
    started = time.monotonic()
    end = started + total_s
    while True:
        now = time.monotonic()
        if now >= end:
            break
        if context.reporter.should_stop():
            raise stopped(context)
        time.sleep(min(SLICE_S, end - now))
        context.reporter.progress(min(1.0, (time.monotonic() - started) / total_s),
                                  "waiting")
    return NodeOutcome(outputs={"value": context.inputs.get("value")})
