"""The exit codes of `symphony` (docs/cli.md, "Exit codes"): scripts branch on them."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    # The server answered and said no: validation, permission, not found, conflict, throttled,
    # a server error; or `validate` found the document invalid.
    REFUSED = 1
    # The command line itself is wrong (click's own code for usage errors), or a local file
    # cannot be read.
    USAGE = 2
    CANNOT_CONNECT = 3
    # Not logged in, or the server does not accept the stored token (401).
    AUTHENTICATION = 4
    # `run --follow` / `executions show --follow`: the execution ended failed or cancelled.
    EXECUTION_UNSUCCESSFUL = 5
