"""Structured logs (structlog): JSON lines when not on a terminal, readable when on one.

A redaction processor runs before rendering, so personal data, tokens and query codes never
reach a log line, whoever logs them.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

SENSITIVE_KEYS = frozenset(
    {"petitioner", "co_petitioner", "group", "group_members", "name", "id_number", "phone",
     "query_code", "token", "password", "cipher_key", "query_code_key", "authorization", "secret"}
)


def redact(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key, value in list(event_dict.items()):
        event_dict[key] = "<redacted>" if key.lower() in SENSITIVE_KEYS else _scrub(value)
    return event_dict


def _scrub(value: Any) -> Any:
    """Redacts sensitive keys at any depth of dicts, lists and tuples."""
    if isinstance(value, dict):
        return {k: "<redacted>" if str(k).lower() in SENSITIVE_KEYS else _scrub(v)
                for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    return value


def configure_logging(fmt: str = "auto", level: int = logging.INFO) -> None:
    as_json = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    renderer: Any = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if as_json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            redact,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
