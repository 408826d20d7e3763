from __future__ import annotations

import abc
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Message:
    subject: str
    key: str
    payload: dict[str, Any]
    delivery: int = 1
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Message], Awaitable[None]]
# Called with the message and the last error text once a message has failed max_deliver times.
DeadLetterSink = Callable[[Message, str], Awaitable[None]]


def subject_matches(pattern: str, subject: str) -> bool:
    """NATS-style matching: `*` is one token, `>` is one or more trailing tokens."""
    p_tokens, s_tokens = pattern.split("."), subject.split(".")
    for i, token in enumerate(p_tokens):
        if token == ">":
            return len(s_tokens) > i
        if i >= len(s_tokens) or (token != "*" and token != s_tokens[i]):
            return False
    return len(p_tokens) == len(s_tokens)


class Bus(abc.ABC):
    max_deliver: int = 10

    @abc.abstractmethod
    async def start(self) -> None: ...

    @abc.abstractmethod
    async def publish(self, subject: str, payload: dict[str, Any], *, key: str) -> None: ...

    @abc.abstractmethod
    async def subscribe(self, subject: str, *, durable: str, handler: Handler) -> None:
        """Deliver every message matching `subject` to `handler`; `durable` names the consumer group."""

    @abc.abstractmethod
    async def close(self) -> None: ...

    async def drain(self, timeout: float = 5.0) -> None:  # noqa: B027 - optional hook
        """Wait until everything published so far has been handled (best effort; used by tests and demo)."""
