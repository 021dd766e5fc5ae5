"""Logging for web, workers and beat: one JSON object per line (`LOG_FORMAT=json`), or lines for
people (the default, as in `make run`).

structlog renders both structlog's own loggers and the standard library's
(Django, Celery, every `logging.getLogger`), so one execution can be followed
across processes: context bound with `structlog.contextvars` — the request id
and team in web requests (`symphony_site.request_context`), the execution,
node and team in a step (`executions.engine.stepping`) — is added to every line
written meanwhile. docs/operations.md lists the fields.
"""

from __future__ import annotations

from typing import Any

import structlog

# Added to every line, structlog's and the standard library's alike.
SHARED_PROCESSORS: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_logger_name,
    structlog.stdlib.add_log_level,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
    structlog.stdlib.ExtraAdder(),
]


def plain(_logger: Any, _method: str, event: dict[str, Any]) -> str:
    """A line for people: `time LEVEL logger: message key=value …` (the shape logs had before)."""
    head = (f"{event.pop('timestamp', '')} {str(event.pop('level', '')).upper()} "
            f"{event.pop('logger', '')}: {event.pop('event', '')}")
    trace = event.pop("exception", "")
    fields = " ".join(f"{key}={value}" for key, value in event.items())
    return " ".join(part for part in (head, fields) if part) + (f"\n{trace}" if trace else "")


def formatter(log_format: str) -> dict[str, Any]:
    """The logging formatter configuration for `log_format` (`json` or anything else)."""
    renderer: Any = structlog.processors.JSONRenderer() if log_format == "json" else plain
    pre_chain = [*SHARED_PROCESSORS, structlog.processors.format_exc_info]
    return {
        "()": structlog.stdlib.ProcessorFormatter,
        "processors": [structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        "foreign_pre_chain": pre_chain,
    }


def logging_config(*, log_format: str, level: str) -> dict[str, Any]:
    """The LOGGING setting: everything through one handler with the chosen formatter."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"symphony": formatter(log_format)},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "symphony"}},
        "root": {"handlers": ["console"], "level": level},
        # urllib3 writes whole URLs, query strings included, at DEBUG: a URL can carry a team
        # secret (`?key={{ secrets.KEY }}`), so its debug lines never reach the log.
        "loggers": {"django.request": {"level": "ERROR"}, "urllib3": {"level": "INFO"},
                    # Beat sends the reaper and the trigger tick every second: the worker's own
                    # "received" and "succeeded" lines for them would bury everything else. A
                    # step's lines come from `symphony.step` with its execution and node.
                    **{name: {"level": "WARNING"} for name in ("celery.worker.strategy", "celery.app.trace")}},
    }


def configure_structlog() -> None:
    """structlog's own loggers hand their events to the standard library's handlers (above)."""
    structlog.configure(
        processors=[*SHARED_PROCESSORS[:-1], structlog.stdlib.PositionalArgumentsFormatter(),
                    structlog.processors.StackInfoRenderer(),
                    structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
