"""A per-process cache of something built from the database, rebuilt when a version counter moves.

The version is read at most once per `check_every` seconds: a busy process costs one tiny query per interval,
and a change made by any process is seen within it. The process that made a change calls `invalidate()`.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, MutableMapping
from typing import Any, Generic, TypeVar

from sqlalchemy.orm import Session

from cityops.core.db import Database

T = TypeVar("T")
C = TypeVar("C")


class VersionedCache(Generic[T]):
    def __init__(self, *, version: Callable[[Session], int], build: Callable[[Session], T], check_every: float,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._version_of, self._build = version, build
        self._check_every = check_every
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._value: T | None = None
        self._version: int | None = None
        self._checked_at = -math.inf
        self.builds = 0

    def invalidate(self) -> None:
        with self._lock:
            self._value, self._version, self._checked_at = None, None, -math.inf

    def get(self, db: Database) -> T:
        with self._lock:
            now = self._monotonic()
            if self._value is not None and now - self._checked_at < self._check_every:
                return self._value
            with db.session() as session:
                version = self._version_of(session)  # before the rows: a race then only rebuilds twice
                if self._value is None or version != self._version:
                    self._value, self._version = self._build(session), version
                    self.builds += 1
            self._checked_at = now
            return self._value


def per_process(caches: MutableMapping[str, Any], key: str, kind: type[C], make: Callable[[], C]) -> C:
    """The one `kind` kept under `key` in a platform's caches, made on first use."""
    cached = caches.get(key)
    if not isinstance(cached, kind):
        cached = caches[key] = make()
    return cached
