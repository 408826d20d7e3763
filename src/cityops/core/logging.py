"""Structured logs: JSON lines in production (Chinese kept readable), key=value on a terminal."""

from __future__ import annotations

import json
import logging
from typing import Any

import structlog


def _dumps(obj: Any, **kwargs: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, default=str, **kwargs)


def configure_logging(level: str = "INFO", *, json_lines: bool = False) -> None:
    logging.basicConfig(level=level.upper(), format="%(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)  # migration chatter is not news to operators
    renderer: Any = (structlog.processors.JSONRenderer(serializer=_dumps) if json_lines
                     else structlog.dev.ConsoleRenderer(colors=False))
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        cache_logger_on_first_use=True,
    )
