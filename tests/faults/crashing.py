"""The Celery app of the fault suite's workers: Symphony's own, plus one injected fault.

Workers are started with `-A tests.faults.crashing`. When `FAULTS_CRASH_TOKENS` names a folder,
a pool process that is about to send a step message *after its transaction committed* first
tries to take one token file from it (unlinking a file succeeds for exactly one process); if
it got one, it writes what it was about to send to `FAULTS_CRASH_LOG` and exits at once, as a
process killed between the commit and the dispatch would. The node run stays queued with
its message never sent: the reaper must send it again."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from typing import Any

from django.db import transaction

from symphony_site.celery import app

__all__ = ["app"]


def _take_token() -> bool:
    folder = os.environ.get("FAULTS_CRASH_TOKENS", "")
    if not folder:
        return False
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return False
    for name in names:
        try:
            os.unlink(os.path.join(folder, name))
            return True
        except FileNotFoundError:
            continue  # another process took it first
    return False


def _crash(args: Sequence[Any]) -> None:
    line = f"{time.time():.6f} {args[0]} {args[1]}\n".encode()
    descriptor = os.open(os.environ["FAULTS_CRASH_LOG"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.write(descriptor, line)
    os.close(descriptor)
    os._exit(70)  # no cleanup, no acknowledgement: the process is gone


def send_task_on_commit(task: Any, *, args: Sequence[Any] = (), **options: Any) -> None:
    def send() -> None:
        if _take_token():
            _crash(args)
        task.apply_async(args=list(args), **options)

    transaction.on_commit(send)


def _install() -> None:
    from executions.engine import dispatching

    # `send_after_commit` looks this name up in its module when it runs.
    dispatching.send_task_on_commit = send_task_on_commit


_install()
