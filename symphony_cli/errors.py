"""Failures in plain words on standard error, each with its exit code (docs/cli.md)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

import typer

from symphony_cli.client import ApiError, CannotConnect
from symphony_cli.config import NotLoggedIn
from symphony_cli.exit_codes import ExitCode

P = ParamSpec("P")
R = TypeVar("R")


class Refusal(Exception):
    """Something the client itself refuses for the API's reasons (no such workflow by that name)."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


class Usage(Exception):
    """The command line asks for something that cannot be done as written."""


def detail_line(detail: Any) -> str:
    """One `details` entry: `where: message (code)`, or its fields as `name=value`."""
    if not isinstance(detail, dict):
        return str(detail)
    if "message" in detail:
        where = next((str(detail[key]) for key in ("field", "parameter", "node_id", "edge_id", "path", "key")
                      if detail.get(key) not in (None, "")), "")
        code = f" ({detail['code']})" if detail.get("code") else ""
        return f"{where}: {detail['message']}{code}" if where else f"{detail['message']}{code}"
    return ", ".join(f"{key}={value}" for key, value in detail.items())


def api_error_lines(error: ApiError) -> list[str]:
    lines = [f"error: {error.message} [{error.code}, HTTP {error.status}]"]
    lines += [f"  - {detail_line(detail)}" for detail in error.details[:20]]
    if len(error.details) > 20:
        lines.append(f"  … and {len(error.details) - 20} more")
    return lines


def handled(command: Callable[P, R]) -> Callable[P, R]:
    """Turn the client's failures into a message and an exit code."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except ApiError as error:
            for line in api_error_lines(error):
                typer.echo(line, err=True)
            if error.status == 401:
                typer.echo("Log in again with 'symphony login'.", err=True)
                raise typer.Exit(ExitCode.AUTHENTICATION) from None
            raise typer.Exit(ExitCode.REFUSED) from None
        except Refusal as error:
            typer.echo(f"error: {error} [{error.code}]", err=True)
            raise typer.Exit(ExitCode.REFUSED) from None
        except Usage as error:
            typer.echo(f"error: {error}", err=True)
            raise typer.Exit(ExitCode.USAGE) from None
        except NotLoggedIn as error:
            typer.echo(f"error: {error}", err=True)
            raise typer.Exit(ExitCode.AUTHENTICATION) from None
        except CannotConnect as error:
            typer.echo(f"error: {error}", err=True)
            raise typer.Exit(ExitCode.CANNOT_CONNECT) from None

    return wrapper
