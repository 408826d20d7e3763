"""UnitOfWork: one business action = one transaction, its audit records and its outgoing messages.

Messages go to the outbox table inside the transaction, so a crash can never leave a committed change
unannounced or announce a change that rolled back. The outbox relay publishes them after commit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.orm import Session

from cityops.core import bulk
from cityops.core.clock import Clock, SystemClock
from cityops.core.db import Database
from cityops.core.models import OutboxMessage


class UnitOfWork:
    def __init__(self, db: Database, *, clock: Clock | None = None,
                 after_commit: Callable[[], None] | None = None) -> None:
        self._db = db
        self.clock: Clock = clock or SystemClock()
        self._after_commit = after_commit
        self._session: Session | None = None
        self._published = 0
        self.committed = False

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("UnitOfWork used outside its `with` block")
        return self._session

    def __enter__(self) -> UnitOfWork:
        self._session = self._db.writer_sessionmaker()
        return self

    def publish(self, subject: str, payload: dict[str, Any], *, key: str) -> None:
        self.session.add(OutboxMessage(subject=subject, key=key, payload=payload, created_at=self.clock.now()))
        self._published += 1

    def publish_many(self, messages: Sequence[tuple[str, dict[str, Any], str]]) -> None:
        """Several (subject, payload, key) messages written at once (bulk.insert_rows), not as ORM objects."""
        now = self.clock.now()
        bulk.insert_rows(self.session, cast(Table, OutboxMessage.__table__), [
            {"subject": subject, "key": key, "payload": payload, "created_at": now, "published_at": None}
            for subject, payload, key in messages])
        self._published += len(messages)

    def commit(self) -> None:
        self.session.commit()
        self.committed = True
        if self._published and self._after_commit is not None:
            self._after_commit()
        self._published = 0

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        session = self._session
        self._session = None
        if session is None:
            return
        try:
            if not self.committed or exc_type is not None:
                session.rollback()
        finally:
            session.close()
