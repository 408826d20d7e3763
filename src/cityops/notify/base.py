"""The notifier interface. Implementations: webhook.py (HTTP POST), memory (kept in a list, for tests and demo)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class Notification:
    kind: str  # deadline.warning / deadline.overdue / case.escalated / …
    title: str  # one line people read, zh-CN
    case_id: int | None = None
    case_number: str | None = None
    region_code: str | None = None
    department_id: int | None = None
    level: int | None = None
    data: dict[str, Any] = field(default_factory=dict)


class Notifier(Protocol):
    def send(self, notification: Notification) -> None: ...


class MemoryNotifier:
    """Keeps what it was asked to send: the embedded default when no webhook is configured."""

    def __init__(self) -> None:
        self.sent: list[Notification] = []

    def send(self, notification: Notification) -> None:
        self.sent.append(notification)
