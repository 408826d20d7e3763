"""Group commit: reports submitted together share a transaction, yet each is answered on its own."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from cityops.core.errors import ValidationFailed
from cityops.core.models import OutboxMessage
from cityops.intake import flows
from cityops.intake.batcher import IntakeBatcher
from cityops.intake.models import Report
from cityops.intake.schemas import ReportIn
from cityops.org.access import system_principal
from cityops.platform import Platform
from tests.intake.test_receive import report


async def submit_all(batcher: IntakeBatcher, bodies: list[dict[str, object]]) -> list[object]:
    try:
        return await asyncio.gather(*(batcher.submit(ReportIn.model_validate(b), system_principal()) for b in bodies),
                                    return_exceptions=True)
    finally:
        await batcher.close()


def test_concurrent_reports_are_stored_in_fewer_transactions_than_reports(platform: Platform, monkeypatch):
    batches: list[int] = []
    original = flows.receive_batch

    def counting(platform: Platform, items):  # type: ignore[no-untyped-def]
        batches.append(len(items))
        return original(platform, items)

    monkeypatch.setattr(flows, "receive_batch", counting)
    results = asyncio.run(submit_all(IntakeBatcher(platform), [report(f"H-{i}") for i in range(40)]))
    assert sum(batches) == 40 and len(batches) < 40
    assert len({r.public_id for r in results}) == 40  # type: ignore[attr-defined]
    with platform.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Report)) == 40
        assert session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.subject == flows.RECEIVED_SUBJECT)) == 40


def test_the_same_channel_id_twice_in_one_batch_is_one_report(platform: Platform):
    results = asyncio.run(submit_all(IntakeBatcher(platform), [report("H-1"), report("H-1"), report("H-2")]))
    first, again, other = results
    assert first.public_id == again.public_id != other.public_id  # type: ignore[attr-defined]
    assert [first.duplicate, again.duplicate, other.duplicate] == [False, True, False]  # type: ignore[attr-defined]
    with platform.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Report)) == 2


def test_one_bad_report_fails_alone_and_the_others_in_its_batch_are_stored(platform: Platform):
    bodies = [report("H-1"), report("H-2", photos=["0" * 64 + ".png"]), report("H-3")]
    results = asyncio.run(submit_all(IntakeBatcher(platform), bodies))
    assert isinstance(results[1], ValidationFailed) and results[1].field == "photos[0]"
    assert not isinstance(results[0], Exception) and not isinstance(results[2], Exception)
    with platform.db.session() as session:
        assert set(session.scalars(select(Report.channel_report_id))) == {"H-1", "H-3"}


@pytest.mark.parametrize("size", [1, 3])
def test_a_report_already_stored_earlier_is_answered_as_a_duplicate(platform: Platform, size: int):
    flows.receive(platform, report=ReportIn.model_validate(report("H-0")), submitted_by=system_principal())
    bodies = [report("H-0")] + [report(f"N-{i}") for i in range(size)]
    results = asyncio.run(submit_all(IntakeBatcher(platform), bodies))
    assert results[0].duplicate is True  # type: ignore[attr-defined]
    assert all(r.duplicate is False for r in results[1:])  # type: ignore[attr-defined]


def test_every_field_of_a_batch_reads_back_as_sent(platform: Platform):
    """The batch goes in as one statement of column arrays on PostgreSQL: nulls, lists, JSON and times survive."""
    full = report("F-1", address="张店区华光路88号", extra={"device": "D-7", "level": 3, "ok": True, "none": None},
                  reported_at="2026-12-06T08:30:00+08:00")
    bare: dict[str, object] = {"channel": "hotline", "channel_report_id": "F-2", "text": "没有坐标的热线留言"}
    results = asyncio.run(submit_all(IntakeBatcher(platform), [full, bare]))
    with platform.db.session() as session:
        stored = {r.channel_report_id: r for r in session.scalars(select(Report))}
    a, b = stored["F-1"], stored["F-2"]
    assert a.public_id == results[0].public_id and b.public_id == results[1].public_id  # type: ignore[attr-defined]
    assert (a.text, a.category_code, a.address, a.photos) == (full["text"], full["category_code"], full["address"], [])
    assert (a.lng, a.lat) == (full["lng"], full["lat"]) and (b.lng, b.lat, b.address) == (None, None, None)
    assert a.extra == {"device": "D-7", "level": 3, "ok": True, "none": None} and b.extra == {}
    assert (a.reporter_name, a.reporter_phone, b.reporter_name) == ("张先生", "13800000000", None)
    assert a.reported_at.isoformat() == "2026-12-06T00:30:00+00:00" and a.received_at.tzinfo is not None
    assert (a.status, a.triage, a.case_id, a.region_code) == ("received", {}, None, None)
