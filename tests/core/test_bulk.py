"""core.bulk.insert_rows writes a transaction's new rows exactly as the ORM's flush would (both databases)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, select, text

from cityops.core import bulk
from cityops.core.models import OutboxMessage
from cityops.platform import Platform

AT = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)
PAYLOADS: list[dict[str, Any] | None] = [{"report": "R1", "中文": "井盖"}, None, {"n": [1, 2.5, None]},
                                         {"big": 2**70, 3: "a number as a key"}]


def add_messages(platform: Platform, prefix: str, *, in_bulk: bool) -> None:
    with platform.uow() as uow:
        rows = [{"subject": f"{prefix}.subject", "key": f"{prefix}:{i}", "payload": payload, "created_at": AT,
                 "published_at": None} for i, payload in enumerate(PAYLOADS)]
        if in_bulk:
            bulk.insert_rows(uow.session, cast(Table, OutboxMessage.__table__), rows)
        else:
            uow.session.add_all(OutboxMessage(**row) for row in rows)
        uow.commit()


def stored(platform: Platform, prefix: str) -> list[tuple[Any, ...]]:
    with platform.db.session() as session:
        rows = session.execute(text(
            "SELECT key, payload IS NULL, created_at, published_at FROM outbox_messages "
            "WHERE subject = :s ORDER BY id"), {"s": f"{prefix}.subject"}).all()
        payloads = session.scalars(select(OutboxMessage.payload).where(OutboxMessage.subject == f"{prefix}.subject")
                                   .order_by(OutboxMessage.id)).all()
        return [(key.split(":")[1], bool(is_null), str(created)[:19], published, payload)
                for (key, is_null, created, published), payload in zip(rows, payloads, strict=True)]


def test_rows_inserted_in_bulk_read_back_as_the_flush_writes_them_in_the_order_added(platform: Platform):
    add_messages(platform, "orm", in_bulk=False)
    add_messages(platform, "bulk", in_bulk=True)
    assert stored(platform, "bulk") == stored(platform, "orm")
    assert [row[0] for row in stored(platform, "bulk")] == ["0", "1", "2", "3"]  # ids follow the order added
    assert stored(platform, "bulk")[1][1] is False  # None is stored as JSON null, as the flush stores it
