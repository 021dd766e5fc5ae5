"""Retrying a model call within one attempt, for the errors that can pass.

429 (rate limited), 5xx, 408, a reset or refused connection and a timed-out read are
retried up to `max_retries` times with exponential backoff (0.5 s, 1 s, 2 s … capped
at 20 s, ±20 % jitter so many workers do not retry in step). A `Retry-After` the
service sent is honoured: the wait is at least that long. A wait that would pass the
attempt's deadline is not started: the error goes up at once (still retryable, with
`retry_after_s`, so the engine's own node retry can take it later). Waiting checks
`should_stop` every 100 ms, so a cancelled execution is not held by a backoff.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import TypeVar

from executions.runtime.providers.base import STOPPED, CallContext, ProviderError

T = TypeVar("T")

BASE_DELAY_S = 0.5
MULTIPLIER = 2.0
MAX_DELAY_S = 20.0
JITTER = 0.2
STOP_CHECK_S = 0.1


def backoff_s(retry: int, *, jitter: Callable[[], float] = random.random) -> float:
    """The wait before retry number `retry` (1-based), jittered."""
    delay = min(MAX_DELAY_S, BASE_DELAY_S * MULTIPLIER ** (retry - 1))
    return delay * (1 - JITTER + 2 * JITTER * jitter())


def wait(seconds: float, call: CallContext) -> None:
    """Sleep `seconds` in short slices, giving up when the node is asked to stop."""
    end = call.clock() + seconds
    while True:
        if call.should_stop():
            raise ProviderError(STOPPED, "The model call was stopped (the execution was "
                                "cancelled or the node's time ran out).", retryable=False)
        left = end - call.clock()
        if left <= 0:
            return
        call.sleep(min(STOP_CHECK_S, left))


def call_with_retries(operation: Callable[[], T], call: CallContext, *, max_retries: int,
                      jitter: Callable[[], float] = random.random) -> T:
    """`operation()`, retried on retryable ProviderErrors as described above."""
    retry = 0
    while True:
        try:
            return operation()
        except ProviderError as error:
            if not error.retryable or retry >= max_retries:
                raise
            retry += 1
            delay = backoff_s(retry, jitter=jitter)
            if error.retry_after_s is not None:
                delay = max(delay, error.retry_after_s)
            remaining = call.remaining_s()
            if remaining is not None and delay >= remaining:
                raise
            if call.on_retry is not None:
                call.on_retry(retry, error, delay)
            wait(delay, call)
