"""The audit log in the database: appended inside the flow's transaction, verified, and tampering named."""

from __future__ import annotations

from sqlalchemy import delete, select, update

from cityops.audit import service as audit
from cityops.audit.models import AuditRecord
from cityops.platform import Platform


def append_three(platform: Platform) -> None:
    for n in range(3):
        with platform.uow() as uow:
            audit.append(uow.session, at=uow.clock.now(), actor="staff:1:admin", action="test.changed",
                         entity_type="thing", entity_id=n, region_code="370303001", data={"说明": f"第{n}次"})
            uow.commit()


def test_appended_records_form_an_intact_chain(platform: Platform):
    append_three(platform)
    with platform.db.session() as session:
        report = audit.verify(session=session)
    assert report.ok and report.checked == 3


def test_a_rolled_back_flow_leaves_no_audit_record(platform: Platform):
    with platform.uow() as uow:
        audit.append(uow.session, at=uow.clock.now(), actor="a", action="x", entity_type="t", entity_id=1)
        # no commit: the flow failed
    with platform.db.session() as session:
        assert session.scalars(select(AuditRecord)).all() == []
        assert audit.verify(session=session).ok


def test_altered_record_is_named(platform: Platform):
    append_three(platform)
    with platform.uow() as uow:
        uow.session.execute(update(AuditRecord).where(AuditRecord.seq == 2).values(actor="staff:9:intruder"))
        uow.commit()
    with platform.db.session() as session:
        report = audit.verify(session=session)
    assert not report.ok and report.broken_seq == 2


def test_deleted_record_is_named(platform: Platform):
    append_three(platform)
    with platform.uow() as uow:
        uow.session.execute(delete(AuditRecord).where(AuditRecord.seq == 2))
        uow.commit()
    with platform.db.session() as session:
        report = audit.verify(session=session)
    assert not report.ok and report.broken_seq == 2
